/*
 * fuzz_rdata.c: RDATA text and wire codecs against each other.
 *
 * Input: 2 bytes of RR type (big-endian), then the rest. The rest is used
 * twice:
 *   - as presentation text: when rdata_parse_text() accepts it, the printed
 *     form must parse back to the same wire bytes and print identically
 *     (print(parse(t)) is a fixed point);
 *   - as wire RDATA: when rdata_check() accepts it, printing must succeed
 *     and the text must parse back to the same bytes (after lower-casing the
 *     names, which text always does); when it refuses, rdata_print() must
 *     refuse too. rdata_unpack() and the name helpers run over it as well.
 * Any broken invariant calls abort() so libFuzzer (and the replay driver
 * under ctest) reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "wire.h"

/* Printing 65535 octets can take 4 characters each plus separators. */
#define TEXT_CAP (5 * RDATA_MAXLEN + 64)

static uint8_t w1[RDATA_MAXLEN], w2[RDATA_MAXLEN], raw[RDATA_MAXLEN];
static char t1[TEXT_CAP], t2[TEXT_CAP];

static void text_path(uint16_t type, const char *text, size_t len)
{
	static const uint8_t origin[] = "\7example\3com";
	struct text_err e;
	int n1, n2, p1, p2;

	n1 = rdata_parse_text(type, text, len, origin, w1, sizeof(w1), &e);
	if (n1 < 0) {
		if (e.offset > len)
			abort();
		return;
	}
	if (rdata_check(type, w1, (size_t)n1) != 0)
		abort();
	p1 = rdata_print(type, w1, (size_t)n1, t1, sizeof(t1));
	/* every octet prints as at most 4 characters, plus a little framing:
	 * callers size their buffers as 4 * rdlen + 5 */
	if (p1 < 0 || strlen(t1) != (size_t)p1 || (size_t)p1 > 4 * (size_t)n1 + 4)
		abort();
	n2 = rdata_parse_text(type, t1, (size_t)p1, NULL, w2, sizeof(w2), &e);
	if (n2 != n1 || memcmp(w1, w2, (size_t)n1) != 0) {
		fprintf(stderr, "reparse of '%s' gave %d: %s\n", t1, n2, e.msg);
		abort();
	}
	p2 = rdata_print(type, w2, (size_t)n2, t2, sizeof(t2));
	if (p2 != p1 || strcmp(t1, t2) != 0)
		abort();
}

static void wire_path(uint16_t type, const uint8_t *rd, size_t len)
{
	struct text_err e;
	size_t offs[2];
	int p, n;

	if (len > RDATA_MAXLEN)
		return;
	memcpy(raw, rd, len);
	(void)rdata_compressible_names(type, raw, len, offs);
	(void)rdata_target_name(type, raw, len);
	if (rdata_check(type, raw, len) != 0) {
		if (rdata_print(type, raw, len, t1, sizeof(t1)) != ERR_MALFORMED)
			abort();
		rdata_lower_names(type, raw, len); /* must cope with junk */
		return;
	}
	rdata_lower_names(type, raw, len);
	if (rdata_check(type, raw, len) != 0)
		abort();
	p = rdata_print(type, raw, len, t1, sizeof(t1));
	if (p < 0 || (size_t)p > 4 * len + 4)
		abort();
	n = rdata_parse_text(type, t1, (size_t)p, NULL, w2, sizeof(w2), &e);
	if (n != (int)len || memcmp(raw, w2, len) != 0) {
		fprintf(stderr, "wire -> '%s' -> %d: %s\n", t1, n, e.msg);
		abort();
	}
}

static void unpack_path(uint16_t type, const uint8_t *msg, size_t len)
{
	struct wire w;
	size_t start;
	int n;

	/* First byte: where the RDATA starts, so names can point backwards
	 * into the bytes before it. */
	if (len < 1 || len > RDATA_MAXLEN)
		return;
	start = 1 + msg[0] % 32;
	if (start > len)
		return;
	wire_init(&w, msg, len);
	w.pos = start;
	n = rdata_unpack(type, &w, (uint16_t)(len - start), w1, sizeof(w1));
	if (n >= 0 && rdata_check(type, w1, (size_t)n) != 0)
		abort();
	if (w.err == 0 && w.pos != len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t type;

	if (size < 2)
		return 0;
	type = (uint16_t)(data[0] << 8 | data[1]);
	text_path(type, (const char *)data + 2, size - 2);
	wire_path(type, data + 2, size - 2);
	unpack_path(type, data + 2, size - 2);
	return 0;
}
