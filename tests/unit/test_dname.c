/* test_dname.c: names in wire, compressed and presentation form. */
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "tap.h"
#include "wire.h"

static int parse_txt(const char *s, const uint8_t *origin, uint8_t out[DNAME_MAXLEN])
{
	return dname_parse_text(s, strlen(s), origin, out);
}

static const char *print(const uint8_t *name)
{
	static char buf[DNAME_TEXT_MAXLEN];

	if (dname_print(name, buf, sizeof(buf)) < 0)
		return "(error)";
	return buf;
}

/* A label of n 'a's followed by '.' */
static void labels(char *buf, const int *sizes, int count)
{
	char *p = buf;

	for (int i = 0; i < count; i++) {
		memset(p, 'a' + i % 26, (size_t)sizes[i]);
		p += sizes[i];
		*p++ = '.';
	}
	*p = '\0';
}

static void test_text(void)
{
	uint8_t n[DNAME_MAXLEN], origin[DNAME_MAXLEN];
	char buf[1200];

	is_int(parse_txt("example.com.", NULL, origin), 13, "absolute name parses");
	is_str(print(origin), "example.com.", "prints back");
	is_int(parse_txt("www", origin, n), 17, "relative name gets origin");
	is_str(print(n), "www.example.com.", "relative printed absolute");
	is_int(parse_txt("@", origin, n), 13, "@ is the origin");
	is_int(parse_txt("www", NULL, n), ERR_RELATIVE_NAME, "relative without origin");
	is_int(parse_txt("@", NULL, n), ERR_RELATIVE_NAME, "@ without origin");
	is_int(parse_txt(".", NULL, n), 1, "root");
	is_str(print(n), ".", "root prints as .");
	is_int(parse_txt("a..b.", NULL, n), ERR_SYNTAX, "empty label");
	is_int(parse_txt(".a.", NULL, n), ERR_SYNTAX, "leading dot");
	is_int(parse_txt("", NULL, n), ERR_SYNTAX, "empty string");
	is_int(parse_txt("a b.", NULL, n), ERR_SYNTAX, "unescaped blank");
	ok(parse_txt("a\\.b.c.", NULL, n) > 0 && n[0] == 3, "\\. stays in the label");
	is_str(print(n), "a\\.b.c.", "escaped dot printed escaped");
	ok(parse_txt("\\065\\066.", NULL, n) > 0 && memcmp(n, "\2AB\0", 4) == 0, "\\DDD decoded");
	is_int(parse_txt("\\256.", NULL, n), ERR_SYNTAX, "\\256 out of range");
	is_int(parse_txt("\\25", NULL, n), ERR_SYNTAX, "short \\DDD");
	is_int(parse_txt("a\\", NULL, n), ERR_SYNTAX, "trailing backslash");
	ok(parse_txt("\\000\\255\\032.", NULL, n) > 0, "binary label");
	is_str(print(n), "\\000\\255\\032.", "binary label printed as \\DDD");

	/* Label 63 / 64 */
	{
		int s63[] = {63}, s64[] = {64};

		labels(buf, s63, 1);
		is_int(parse_txt(buf, NULL, n), 65, "label of 63 octets");
		labels(buf, s64, 1);
		is_int(parse_txt(buf, NULL, n), ERR_LABEL_TOO_LONG, "label of 64 octets");
	}
	/* Name 255 / 256 octets on the wire */
	{
		int s255[] = {63, 63, 63, 61}, s256[] = {63, 63, 63, 62};

		labels(buf, s255, 4);
		is_int(parse_txt(buf, NULL, n), 255, "name of 255 octets");
		is_str(print(n), buf, "255-octet name prints back");
		labels(buf, s256, 4);
		is_int(parse_txt(buf, NULL, n), ERR_NAME_TOO_LONG, "name of 256 octets");
		/* relative + origin crossing the limit */
		int s244[] = {63, 63, 63, 50};
		labels(buf, s244, 4);
		buf[strlen(buf) - 1] = '\0'; /* relative: 243 octets + 13 of origin */
		is_int(parse_txt(buf, origin, n), ERR_NAME_TOO_LONG, "origin pushes name past 255");
	}
}

static void test_compare(void)
{
	uint8_t a[DNAME_MAXLEN], b[DNAME_MAXLEN], z[DNAME_MAXLEN];
	/* RFC 4034 §6.1 example order */
	const char *order[] = {"example.",	   "a.example.",      "yljkjljk.a.example.",
			       "Z.a.example.",	   "zABC.a.EXAMPLE.", "z.example.",
			       "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
	size_t n = sizeof(order) / sizeof(order[0]);

	for (size_t i = 0; i + 1 < n; i++) {
		parse_txt(order[i], NULL, a);
		parse_txt(order[i + 1], NULL, b);
		ok(dname_cmp(a, b) < 0 && dname_cmp(b, a) > 0, "canonical order: %s < %s", order[i],
		   order[i + 1]);
	}
	parse_txt("WWW.Example.COM.", NULL, a);
	parse_txt("www.example.com.", NULL, b);
	ok(dname_equal(a, b), "equality is case-insensitive");
	is_int(dname_cmp(a, b), 0, "cmp is case-insensitive");
	dname_lower(a);
	is_str(print(a), "www.example.com.", "dname_lower");
	parse_txt("example.com.", NULL, z);
	ok(dname_is_subdomain(a, z), "www.example.com. below example.com.");
	ok(dname_is_subdomain(z, z), "a zone is at or below itself");
	ok(!dname_is_subdomain(z, a), "parent not below child");
	parse_txt("badexample.com.", NULL, b);
	ok(!dname_is_subdomain(b, z), "label boundary respected");
	is_int(dname_labels(a), 3, "three labels");
	is_str(print(dname_parent(a)), "example.com.", "parent");
	parse_txt("*.example.com.", NULL, b);
	ok(dname_is_wildcard(b) && !dname_is_wildcard(a), "wildcard detection");
}

static void test_wire(void)
{
	/* header-less toy message: name at 0, pointer names after it */
	static const uint8_t msg[] = {
	    3,	  'w', 'w',  'w', 7,   'e',  'x', 'a', 'm',
	    'p',  'l', 'e',  3,	  'c', 'o',  'm', 0, /* 0..16 */
	    4,	  'm', 'a',  'i', 'l', 0xc0, 4,	     /* 17..24: mail + ptr to example.com */
	    0xc0, 17,				     /* 25..26: ptr to mail.example.com */
	    0xc0, 27,				     /* 27..28: pointer to itself */
	    1,	  'a', 0xc0, 33,  0,		     /* 29..33: forward pointer */
	    0x40, 0,				     /* 34..35: extended label type */
	    5,	  'a',				     /* 36..37: truncated label */
	};
	uint8_t n[DNAME_MAXLEN];
	struct wire w;

	wire_init(&w, msg, sizeof(msg));
	is_int(dname_parse_wire(&w, n), 17, "plain name");
	is_int(w.pos, 17, "cursor after name");
	is_int(dname_parse_wire(&w, n), 18, "compressed name");
	is_str(print(n), "mail.example.com.", "compressed name decoded");
	is_int(w.pos, 24, "cursor after pointer");
	is_int(dname_parse_wire(&w, n), 18, "pointer to pointer chain");
	is_int(w.pos, 26, "cursor after 2-byte pointer");
	is_int(dname_parse_wire(&w, n), ERR_BAD_POINTER, "self pointer refused");
	ok(w.err == ERR_BAD_POINTER, "sticky error set");
	is_int(dname_parse_wire(&w, n), ERR_BAD_POINTER, "sticky error stays");

	wire_init(&w, msg, sizeof(msg));
	w.pos = 28;
	is_int(dname_parse_wire(&w, n), ERR_BAD_POINTER, "forward pointer refused");
	wire_init(&w, msg, sizeof(msg));
	w.pos = 33;
	is_int(dname_parse_wire(&w, n), ERR_MALFORMED, "label type 0x40 refused");
	wire_init(&w, msg, sizeof(msg));
	w.pos = 35;
	is_int(dname_parse_wire(&w, n), ERR_TRUNCATED, "truncated label");
	wire_init(&w, msg, 16);
	is_int(dname_parse_wire(&w, n), ERR_TRUNCATED, "missing root label");
	wire_init(&w, msg, sizeof(msg));
	w.pos = 17;
	is_int(dname_parse_wire_nocompress(&w, n), ERR_BAD_POINTER, "nocompress refuses pointers");

	/* A loop through two pointers that each point backwards from their own
	 * sequence but form a cycle is impossible by construction; check the
	 * classic two-pointer loop (a -> b, b -> a). */
	{
		static const uint8_t loop[] = {0xc0, 2, 0xc0, 0};
		wire_init(&w, loop, sizeof(loop));
		w.pos = 2;
		is_int(dname_parse_wire(&w, n), ERR_BAD_POINTER, "two-pointer loop refused");
	}
	/* 256 octets via compression: 4 labels of 63 then pointer to a 2-label name */
	{
		uint8_t big[600];
		size_t o = 0;
		big[o++] = 1;
		big[o++] = 'x';
		big[o++] = 1;
		big[o++] = 'y';
		big[o++] = 0; /* "x.y." at 0: 5 octets */
		size_t start = o;
		for (int i = 0; i < 3; i++) {
			big[o++] = 63;
			memset(big + o, 'a', 63);
			o += 63;
		}
		big[o++] = 60;
		memset(big + o, 'b', 60);
		o += 60;
		big[o++] = 0xc0;
		big[o++] = 0;
		/* 3*64 + 61 + 5 = 258 > 255 */
		wire_init(&w, big, o);
		w.pos = start;
		is_int(dname_parse_wire(&w, n), ERR_NAME_TOO_LONG, "name > 255 via pointer");
		/* shrink the last label to 57: 192 + 58 + 5 = 255 */
		big[start + 192] = 57;
		memmove(big + start + 192 + 58, big + start + 192 + 61, 2);
		wire_init(&w, big, start + 192 + 60);
		w.pos = start;
		is_int(dname_parse_wire(&w, n), 255, "name of exactly 255 via pointer");
	}
	is_int(dname_check((const uint8_t *)"\3www\0", 5), 5, "dname_check ok");
	is_int(dname_check((const uint8_t *)"\3www\0", 4), ERR_TRUNCATED, "dname_check short");
}

int main(void)
{
	test_text();
	test_compare();
	test_wire();
	return done_testing();
}
