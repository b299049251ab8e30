/*
 * fuzz_dname.c: domain names between wire, compressed wire and text.
 *
 * The first input octet picks the mode, the rest is the subject:
 *   even: wire. The second octet is the offset where the name starts
 *         (so pointers have somewhere to point); the name is parsed with
 *         dname_parse_wire() and dname_parse_wire_nocompress().
 *   odd:  presentation text, parsed with dname_parse_text() (with the
 *         origin "Origin.example." when bit 1 is set, without otherwise).
 * Every name that parses must survive print -> parse unchanged (byte for
 * byte, case kept), validate with dname_check(), agree with dname_len(),
 * compare equal to itself lower-cased, and come back from a message the
 * builder wrote twice (the second time compressed). Any mismatch: abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const uint8_t *name, size_t len)
{
	uint8_t again[DNAME_MAXLEN], low[DNAME_MAXLEN], out[DNAME_MAXLEN];
	uint8_t msg[2 * DNAME_MAXLEN + 64];
	char text[DNAME_TEXT_MAXLEN], text2[DNAME_TEXT_MAXLEN];
	struct msg_build b;
	struct wire w;
	const uint8_t *parent;
	int tl, n;

	if (len == 0 || len > DNAME_MAXLEN)
		abort();
	if (dname_check(name, len) != (int)len || dname_len(name) != len)
		abort();
	if (dname_labels(name) > DNAME_MAXLABELS - 1)
		abort();

	/* print -> parse gives the same bytes back */
	tl = dname_print(name, text, sizeof(text));
	if (tl < 0 || (size_t)tl != strlen(text))
		abort();
	n = dname_parse_text(text, (size_t)tl, NULL, again);
	if (n != (int)len || memcmp(again, name, len) != 0)
		abort();
	/* and print is stable */
	if (dname_print(again, text2, sizeof(text2)) != tl || strcmp(text, text2) != 0)
		abort();
	/* a buffer one short of the text is refused, not overrun */
	if (dname_print(name, text2, (size_t)tl) != ERR_SPACE)
		abort();

	/* comparisons agree with themselves */
	dname_copy(low, name);
	dname_lower(low);
	if (!dname_equal(low, name) || dname_cmp(low, name) != 0 || dname_cmp(name, name) != 0)
		abort();
	if ((parent = dname_parent(name)) != NULL) {
		if (!dname_is_subdomain(name, parent) || dname_cmp(parent, name) >= 0)
			abort();
		if (dname_is_subdomain(parent, name))
			abort();
	} else if (len != 1) {
		abort();
	}

	/* written plain then compressed by the builder, both read back */
	msg_build_init(&b, msg, sizeof(msg), sizeof(msg));
	msg_build_header(&b, 1, 0);
	if (msg_build_name(&b, name, false) != 0 || msg_build_name(&b, name, true) != 0)
		abort();
	if (len > 1 && b.w.pos != DNS_HEADER_LEN + len + 2)
		abort(); /* the second copy is one pointer */
	wire_init(&w, msg, b.w.pos);
	w.pos = DNS_HEADER_LEN;
	for (int i = 0; i < 2; i++)
		if (dname_parse_wire(&w, out) != (int)len || memcmp(out, name, len) != 0)
			abort();
	if (w.pos != b.w.pos)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t name[DNAME_MAXLEN], name2[DNAME_MAXLEN];
	static const uint8_t origin[] = "\x06Origin\x07"
					"example";
	struct wire w, w2;
	int n, n2;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		if (size < 3)
			return 0;
		wire_init(&w, data + 2, size - 2);
		w.pos = data[1] % (size - 2);
		w2 = w;
		n = dname_parse_wire(&w, name);
		n2 = dname_parse_wire_nocompress(&w2, name2);
		if (n < 0 && w.err != n)
			abort();
		if (n2 >= 0 && (n != n2 || memcmp(name, name2, (size_t)n) != 0 || w.pos != w2.pos))
			abort(); /* without pointers both must agree */
		if (n >= 0)
			check_name(name, (size_t)n);
	} else {
		n = dname_parse_text((const char *)data + 1, size - 1, data[0] & 2 ? origin : NULL,
				     name);
		if (n >= 0)
			check_name(name, (size_t)n);
		else if (n != ERR_SYNTAX && n != ERR_LABEL_TOO_LONG && n != ERR_NAME_TOO_LONG &&
			 n != ERR_RELATIVE_NAME)
			abort();
	}
	return 0;
}
