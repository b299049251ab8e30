/*
 * test_zonefile.c: master-file parsing and printing (common/zonefile.c).
 *
 * Every syntax feature, every error with the line and column it must name,
 * the limits at N and N+1, and parse -> print -> parse round trips that must
 * give the same multiset of records. The hand-written zone
 * tests/e2e/zones/tricky.zone (found through SRCDIR) is round-tripped too,
 * also with CRLF line endings and without its final newline.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tap.h"

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "zonefile.h"

#define MAXREC 20000

/* What the callback saw: printed records, their lines, the raw data. */
struct coll {
	int n;
	char *text[MAXREC];
	int line[MAXREC];
	uint32_t ttl[MAXREC];
	uint16_t type[MAXREC];
	uint8_t owner[MAXREC > 64 ? 64 : 1][DNAME_MAXLEN]; /* first 64 owners */
	uint8_t rd[64][512];				   /* first 64 rdata (<= 512) */
	uint16_t rdlen[64];
	int stop_at; /* 1-based record at which to return 7; 0: never */
	int print_err;
};

static char pbuf[4 * 65536 + 4096];

static int coll_cb(void *arg, const struct zf_rr *rr)
{
	struct coll *c = arg;
	int n;

	if (c->n >= MAXREC)
		return 99;
	n = zf_print_rr(rr->owner, rr->ttl, rr->type, rr->rdata, rr->rdlen, pbuf, sizeof(pbuf));
	if (n < 0) {
		c->print_err++;
		return 98;
	}
	c->text[c->n] = strdup(pbuf);
	c->line[c->n] = rr->line;
	c->ttl[c->n] = rr->ttl;
	c->type[c->n] = rr->type;
	if (c->n < 64) {
		dname_copy(c->owner[c->n], rr->owner);
		c->rdlen[c->n] = rr->rdlen;
		memcpy(c->rd[c->n], rr->rdata, rr->rdlen > 512 ? 512 : rr->rdlen);
	}
	c->n++;
	if (c->stop_at && c->n == c->stop_at)
		return 7;
	return 0;
}

static void coll_free(struct coll *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->text[i]);
	c->n = 0;
}

static struct coll C; /* big: keep off the stack */
static struct zf_error E;

static const uint8_t *mkname(const char *s, uint8_t *buf)
{
	if (s == NULL)
		return NULL;
	if (dname_parse_text(s, strlen(s), NULL, buf) < 0) {
		printf("# bad test name %s\n", s);
		return NULL;
	}
	return buf;
}

/* Parses text into C (reset first) and returns zf_parse's result. */
static int parse_n(const char *text, size_t len, const char *origin, uint32_t dttl)
{
	uint8_t ob[DNAME_MAXLEN];

	coll_free(&C);
	C.stop_at = 0;
	return zf_parse(text, len, mkname(origin, ob), dttl, coll_cb, &C, &E);
}

static int parse(const char *text, const char *origin, uint32_t dttl)
{
	return parse_n(text, strlen(text), origin, dttl);
}

/* The error case: code, position and a piece of the message. */
#define expect_err(text, origin, want, eline, ecol, sub, name)                                     \
	do {                                                                                       \
		int rc_ = parse(text, origin, 0);                                                  \
		is_int(rc_, want, "%s: code", name);                                               \
		is_int(E.code, want, "%s: err.code", name);                                        \
		is_int(E.line, eline, "%s: line", name);                                           \
		is_int(E.col, ecol, "%s: col", name);                                              \
		if (!ok(strstr(E.msg, sub) != NULL, "%s: message has '%s'", name, sub))            \
			printf("#   message: %s\n", E.msg);                                        \
	} while (0)

static void test_ttl(void)
{
	uint32_t t = 77;

	is_int(zf_parse_ttl("0", 1, &t), 0, "ttl 0");
	is_int(t, 0, "ttl 0 value");
	is_int(zf_parse_ttl("3600", 4, &t), 0, "ttl 3600");
	is_int(t, 3600, "ttl 3600 value");
	is_int(zf_parse_ttl("1h30m", 5, &t), 0, "ttl 1h30m");
	is_int(t, 5400, "1h30m = 5400");
	is_int(zf_parse_ttl("1W2d3H4m5S", 10, &t), 0, "ttl all units, mixed case");
	is_int(t, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5, "1w2d3h4m5s value");
	is_int(zf_parse_ttl("30s1h", 5, &t), 0, "units in any order");
	is_int(t, 3630, "30s1h value");
	is_int(zf_parse_ttl("1h1h", 4, &t), 0, "repeated unit adds up (as BIND)");
	is_int(t, 7200, "1h1h value");
	is_int(zf_parse_ttl("2147483647", 10, &t), 0, "ttl max N");
	is_int(t, 2147483647, "ttl max value");
	t = 5;
	is_int(zf_parse_ttl("2147483648", 10, &t), ERR_RANGE, "ttl max N+1");
	is_int(t, 5, "ttl untouched on error");
	is_int(zf_parse_ttl("3550w", 5, &t), 0, "3550w fits");
	is_int(zf_parse_ttl("3551w", 5, &t), ERR_RANGE, "3551w is out of range");
	is_int(zf_parse_ttl("2147483647s", 11, &t), 0, "max in seconds unit");
	is_int(zf_parse_ttl("2147483647s1s", 13, &t), ERR_RANGE, "sum over max");
	is_int(zf_parse_ttl("99999999999999999999999", 23, &t), ERR_RANGE, "huge number");
	is_int(zf_parse_ttl("", 0, &t), ERR_SYNTAX, "empty ttl");
	is_int(zf_parse_ttl("h", 1, &t), ERR_SYNTAX, "unit without number");
	is_int(zf_parse_ttl("1x", 2, &t), ERR_SYNTAX, "unknown unit");
	is_int(zf_parse_ttl("1h30", 4, &t), ERR_SYNTAX, "bare number after units");
	is_int(zf_parse_ttl("-1", 2, &t), ERR_SYNTAX, "negative");
	is_int(zf_parse_ttl("1 h", 3, &t), ERR_SYNTAX, "blank inside");
	is_int(zf_parse_ttl("12", 1, &t), 0, "length respected");
	is_int(t, 1, "only the first byte read");
}

static void test_basic(void)
{
	const char *z = "$ORIGIN Example.COM.\n"
			"$TTL 1h\n"
			"@\tIN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
			"\tNS ns1\n"
			"ns1 300 A 192.0.2.1\n"
			"WWW IN 60 A 192.0.2.2\n"
			"www 60 IN AAAA 2001:db8::1\n"
			"sub.www A 192.0.2.3\n"
			"abs.other.net. A 192.0.2.4\n";

	is_int(parse(z, NULL, 0), 0, "basic zone parses");
	is_int(C.n, 7, "basic zone: 7 records");
	is_str(C.text[0],
	       "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 "
	       "1209600 300",
	       "SOA: @, relative names in rdata, $TTL");
	is_str(C.text[1], "example.com. 3600 IN NS ns1.example.com.", "omitted owner and TTL");
	is_str(C.text[2], "ns1.example.com. 300 IN A 192.0.2.1", "explicit TTL, no class");
	is_str(C.text[3], "www.example.com. 60 IN A 192.0.2.2",
	       "class before TTL, owner lower-cased");
	is_str(C.text[4], "www.example.com. 60 IN AAAA 2001:db8::1", "TTL before class");
	is_str(C.text[5], "sub.www.example.com. 3600 IN A 192.0.2.3", "$TTL after explicit");
	is_str(C.text[6], "abs.other.net. 3600 IN A 192.0.2.4", "absolute owner");
	is_int(C.line[0], 3, "record line 3");
	is_int(C.line[6], 9, "record line 9");
	is_int(C.type[0], RRTYPE_SOA, "type SOA");
	is_int(dname_len(C.owner[3]), 17, "owner wire length");
	ok(memcmp(C.owner[3], "\3www\7example\3com", 17) == 0, "owner is lower-case wire");

	/* origin given by the caller, lower-cased, and replaced by $ORIGIN. */
	is_int(parse("a A 192.0.2.1\n$ORIGIN sub\na A 192.0.2.2\n$ORIGIN x.NET.\na A 192.0.2.3\n",
		     "Zone.Test.", 60),
	       0, "caller origin, relative $ORIGIN");
	is_int(C.n, 3, "three records");
	is_str(C.text[0], "a.zone.test. 60 IN A 192.0.2.1", "caller origin applied");
	is_str(C.text[1], "a.sub.zone.test. 60 IN A 192.0.2.2", "relative $ORIGIN appended");
	is_str(C.text[2], "a.x.net. 60 IN A 192.0.2.3", "same owner text, new origin");

	/* Previous owner survives a directive. */
	is_int(parse("a 5 A 192.0.2.1\n$TTL 9\n  A 192.0.2.2\n", "t.", 0), 0, "owner kept");
	is_str(C.text[1], "a.t. 9 IN A 192.0.2.2", "owner kept across $TTL");

	/* Empty and comment-only inputs. */
	is_int(parse("", NULL, 0), 0, "empty input");
	is_int(C.n, 0, "no records");
	is_int(parse("; only a comment", NULL, 0), 0, "comment without newline");
	is_int(parse("\n\n   \n\t; c\n  ( ) \n", NULL, 0), 0, "blank lines");
	is_int(C.n, 0, "still no records");
	is_int(parse_n("a.  1 A 192.0.2.1", 0, NULL, 0), 0, "length 0 reads nothing");
	is_int(C.n, 0, "length respected");

	/* Callback stop value. */
	coll_free(&C);
	C.stop_at = 2;
	{
		uint8_t ob[DNAME_MAXLEN];
		int rc = zf_parse("a 1 A 192.0.2.1\nb 1 A 192.0.2.2\nc 1 A 192.0.2.3\n", 48,
				  mkname("t.", ob), 0, coll_cb, &C, &E);

		is_int(rc, 7, "callback's value returned");
		is_int(C.n, 2, "parsing stopped");
		is_int(E.code, 0, "no error recorded");
	}
	/* A bad initial origin is the caller's error, reported at 0:0. */
	{
		uint8_t bad[2] = {64, 0};

		is_int(zf_parse("a 1 A 192.0.2.1\n", 16, bad, 0, coll_cb, &C, &E), ERR_INVALID,
		       "invalid origin refused");
		is_int(E.line, 0, "invalid origin: line 0");
	}
	/* A default TTL beyond RFC 2181 §8 counts as none. */
	expect_err("a A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 3, "no TTL", "default 0 = none");
	coll_free(&C);
	{
		uint8_t ob[DNAME_MAXLEN];

		is_int(
		    zf_parse("a A 192.0.2.1\n", 14, mkname("t.", ob), 2147483648u, coll_cb, &C, &E),
		    ERR_SYNTAX, "default TTL 2^31 is ignored");
		is_int(
		    zf_parse("a A 192.0.2.1\n", 14, mkname("t.", ob), 2147483647u, coll_cb, &C, &E),
		    0, "default TTL 2^31-1 is used");
	}
	/* NULL err is allowed. */
	is_int(zf_parse("x", 1, NULL, 0, coll_cb, &C, NULL), ERR_RELATIVE_NAME, "NULL err pointer");
}

static void test_ttl_rules(void)
{
	is_int(parse("a 100 A 192.0.2.1\nb A 192.0.2.2\n$TTL 50\nc A 192.0.2.3\nd 7 A "
		     "192.0.2.4\ne A 192.0.2.5\n",
		     "t.", 0),
	       0, "TTL rules zone");
	is_int(C.ttl[0], 100, "explicit");
	is_int(C.ttl[1], 100, "previous RR's TTL (RFC 1035)");
	is_int(C.ttl[2], 50, "$TTL");
	is_int(C.ttl[3], 7, "explicit beats $TTL");
	is_int(C.ttl[4], 50, "$TTL beats previous RR (RFC 2308)");
	is_int(parse("a A 192.0.2.1\nb 9 A 192.0.2.2\nc A 192.0.2.3\n", "t.", 33), 0,
	       "default TTL");
	is_int(C.ttl[0], 33, "default used first");
	is_int(C.ttl[2], 9, "then previous RR");
	is_int(parse("a 0 A 192.0.2.1\nb A 192.0.2.2\n", "t.", 0), 0, "TTL 0");
	is_int(C.ttl[1], 0, "TTL 0 carries over");
	is_int(parse("$TTL 0\na A 192.0.2.1\n", "t.", 44), 0, "$TTL 0");
	is_int(C.ttl[0], 0, "$TTL 0 beats the default");
	is_int(parse("a 2147483647 A 192.0.2.1\n", "t.", 0), 0, "TTL max");
	expect_err("a 2147483648 A 192.0.2.1\n", "t.", ERR_RANGE, 1, 3, "out of range",
		   "TTL max+1");
	expect_err("\n a A 192.0.2.1\n", "t.", ERR_SYNTAX, 2, 2, "no owner", "no owner yet");
	expect_err("a A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 3, "no TTL", "missing TTL");
	expect_err("a 1x A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 3, "bad TTL '1x'", "bad TTL");
	expect_err("a 1 2 A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 5, "TTL given twice", "two TTLs");
	expect_err("$TTL 1h30\n", "t.", ERR_SYNTAX, 1, 6, "bad TTL", "bad $TTL");
	expect_err("$TTL\n", "t.", ERR_SYNTAX, 1, 5, "$TTL needs a value", "$TTL empty");
	expect_err("$TTL 1 2\n", "t.", ERR_SYNTAX, 1, 8, "unexpected '2'", "$TTL extra");
	is_int(parse("$ttl 5 ; five\na A 192.0.2.1\n", "t.", 0), 0, "directive case, comment");
	is_int(C.ttl[0], 5, "$ttl lower case");
}

static void test_class(void)
{
	is_int(parse("a IN 1 A 192.0.2.1\nb 1 in A 192.0.2.2\nc CLASS1 1 A 192.0.2.3\n", "t.", 0),
	       0, "IN either side, any case, CLASS1");
	is_int(C.n, 3, "three records");
	expect_err("a 1 CH A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 5, "class CH is not supported",
		   "class CH");
	expect_err("a HS A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 3, "class HS", "class HS");
	expect_err("a CLASS3 A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 3, "class CLASS3",
		   "class CLASS3");
	expect_err("a IN 5 IN A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 8, "class given twice",
		   "two classes");
}

static void test_syntax(void)
{
	/* Parentheses across lines, comments inside, quotes keeping ';' and '('. */
	const char *z = "@ 1 SOA ns1 host ( ; comment (with paren\n"
			"   2024010101 ; serial\n"
			"   7200 3600\n"
			"\t1209600 300 )  ; end\n"
			"t 1 TXT \"a;b\" \"x (y) z\" ; real comment\n"
			"t 1 TXT \"q\\\"uote\" semi\\;colon \\065\n"
			"t 1 TXT ( \"one\"\n"
			"  \"two\" )\n"
			"es\\.c\\097pe 1 A 192.0.2.1\n";

	is_int(parse(z, "ex.", 0), 0, "syntax zone parses");
	is_int(C.n, 5, "five records");
	is_str(C.text[0], "ex. 1 IN SOA ns1.ex. host.ex. 2024010101 7200 3600 1209600 300",
	       "SOA across lines");
	is_int(C.line[0], 1, "multi-line record starts at line 1");
	is_int(C.rdlen[1], 4 + 8, "TXT with ';' and parens in quotes");
	ok(memcmp(C.rd[1], "\3a;b\7x (y) z", 12) == 0, "quoted data verbatim");
	ok(C.rdlen[2] == 1 + 6 + 1 + 10 + 1 + 1 &&
	       memcmp(C.rd[2], "\6q\"uote\12semi;colon\1A", 20) == 0,
	   "escapes: \\\" \\; \\065");
	ok(C.rdlen[3] == 8 && memcmp(C.rd[3], "\3one\3two", 8) == 0, "TXT across lines");
	is_int(C.line[3], 7, "line of the multi-line TXT");
	ok(memcmp(C.owner[4], "\7es.cape\2ex", 12) == 0, "escaped owner: \\. and \\097");
	is_int(C.line[4], 9, "line after the multi-line record");

	/* CRLF and a final line without a newline. */
	is_int(parse("$ORIGIN t.\r\n$TTL 5\r\na A 192.0.2.1\r\n\r\nb TXT \"x y\"\r\n  A 192.0.2.2",
		     NULL, 0),
	       0, "CRLF, no final newline");
	is_int(C.n, 3, "three records");
	is_str(C.text[2], "b.t. 5 IN A 192.0.2.2", "last line without newline");
	ok(C.rdlen[1] == 4 && memcmp(C.rd[1], "\3x y", 4) == 0, "no CR in data");
	is_int(parse("a 1 A 192.0.2.1 ; no newline at end", "t.", 0), 0, "comment at EOF");
	is_int(parse("a 1 A 192.0.2.1\t", "t.", 0), 0, "blank at EOF");
	is_int(parse("a 1 TXT \"q\"", "t.", 0), 0, "quote at EOF");
	is_int(C.n, 1, "one record");
	is_int(parse("a 1 A 192.0.2.1\n  ", "t.", 0), 0, "blanks after the last newline");
	is_int(parse("a 1 TXT (\"x\")", "t.", 0), 0, "parens hug quotes");
	is_int(parse("a 1 TXT a(b)c", "t.", 0), 0, "parens split tokens");
	ok(C.rdlen[0] == 6 && memcmp(C.rd[0], "\1a\1b\1c", 6) == 0, "a(b)c is three words");

	/* Generic (RFC 3597) type and data. */
	is_int(parse("a 1 TYPE65534 \\# 3 abcdef\nb 1 TYPE1 \\# 4 C0000201\n", "t.", 0), 0,
	       "generic types");
	is_int(C.type[0], 65534, "TYPE65534");
	is_str(C.text[1], "b.t. 1 IN A 192.0.2.1", "TYPE1 generic is A");

	/* Directives. */
	expect_err("a 1 A 192.0.2.1\n$INCLUDE other.zone\n", "t.", ERR_INCLUDE, 2, 1, "$INCLUDE",
		   "$INCLUDE");
	is_int(C.n, 1, "records before $INCLUDE were delivered");
	expect_err("$GENERATE 1-10 h$ A 192.0.2.$\n", "t.", ERR_SYNTAX, 1, 1, "$GENERATE",
		   "$GENERATE");
	expect_err("$FOO bar\n", "t.", ERR_SYNTAX, 1, 1, "unknown directive '$FOO'", "$FOO");
	expect_err("$ORIGIN\n", NULL, ERR_SYNTAX, 1, 8, "$ORIGIN needs a name", "$ORIGIN empty");
	expect_err("$ORIGIN a. b.\n", NULL, ERR_SYNTAX, 1, 12, "unexpected 'b.'", "$ORIGIN extra");
	expect_err("$ORIGIN rel\n", NULL, ERR_RELATIVE_NAME, 1, 9, "relative", "$ORIGIN rel");
	expect_err("$ORIGIN \"q.\"\n", NULL, ERR_SYNTAX, 1, 9, "quoted", "$ORIGIN quoted");
	expect_err("$ORIGIN a..b.\n", NULL, ERR_SYNTAX, 1, 9, "not a valid name", "$ORIGIN a..b");
}

static void test_errors(void)
{
	char msg[200];
	struct text_err te;
	uint8_t rd[100];
	int rc;

	expect_err("a 1 A 192.0.2.1\nb 1 BOGUS x\n", "t.", ERR_UNKNOWN_TYPE, 2, 5,
		   "unknown type 'BOGUS'", "unknown type");
	expect_err("a 1 IN\n", "t.", ERR_SYNTAX, 1, 7, "missing type", "missing type");
	expect_err("a\n", "t.", ERR_SYNTAX, 1, 2, "missing type after owner", "owner only");
	expect_err("a 1 ANY \\# 0\n", "t.", ERR_INVALID, 1, 5, "type ANY cannot", "type ANY");
	expect_err("a 1 OPT \\# 0\n", "t.", ERR_INVALID, 1, 5, "type OPT cannot", "type OPT");
	expect_err("a 1 TYPE0 \\# 0\n", "t.", ERR_INVALID, 1, 5, "type TYPE0 cannot", "TYPE0");
	expect_err("a 1 \"A\" 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 5, "quoted string", "quoted type");
	expect_err("\"a\" 1 A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 1, "owner cannot be a quoted",
		   "quoted owner");
	expect_err("a. 1 A 192.0.2.1\nrel 1 A 192.0.2.1\n", NULL, ERR_RELATIVE_NAME, 2, 1,
		   "owner 'rel' is relative", "relative owner, no origin");
	expect_err("@ 1 A 192.0.2.1\n", NULL, ERR_RELATIVE_NAME, 1, 1, "relative", "@ no origin");
	expect_err("a..b 1 A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 1, "not a valid name", "a..b");

	/* Lexical errors. */
	expect_err("a 1 SOA ns h (\n 1 2 ( 3 4 5 )\n", "t.", ERR_SYNTAX, 2, 6, "nested '('",
		   "nested parens");
	expect_err("a 1 A 192.0.2.1\n\nb 1 SOA ns h ( 1 2\n 3 4 5\n", "t.", ERR_SYNTAX, 3, 14,
		   "never closed", "unclosed paren");
	expect_err("a 1 A 192.0.2.1 )\n", "t.", ERR_SYNTAX, 1, 17, "')' without '('",
		   "close without open");
	expect_err("a 1 TXT \"abc\nb 1 A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 9, "not closed",
		   "quote across lines");
	expect_err("a 1 TXT ( \"abc\n\" )\n", "t.", ERR_SYNTAX, 1, 11, "not closed",
		   "quote across lines in parens");
	expect_err("a 1 TXT \"abc", "t.", ERR_SYNTAX, 1, 9, "not closed", "quote at EOF");
	expect_err("a 1 TXT abc\\\nb 1 A 192.0.2.1\n", "t.", ERR_SYNTAX, 1, 12, "backslash",
		   "backslash at EOL");
	expect_err("a 1 TXT abc\\", "t.", ERR_SYNTAX, 1, 12, "backslash", "backslash at EOF");
	expect_err("a 1 TXT \"ab\\\n\"", "t.", ERR_SYNTAX, 1, 12, "backslash",
		   "backslash at EOL in quotes");

	/* RDATA errors: rdata.c's message, positioned in the file. */
	memset(&te, 0, sizeof(te));
	rc = rdata_parse_text(RRTYPE_MX, "x mail", 6, NULL, rd, sizeof(rd), &te);
	ok(rc < 0, "rdata.c refuses MX 'x mail'");
	snprintf(msg, sizeof(msg), "%s", te.msg);
	expect_err("a 1 A 192.0.2.1\nb\t1 MX  x mail\n", "t.", rc, 2, 9 + (int)te.offset, msg,
		   "MX rdata error");
	ok(te.msg[0] != '\0', "rdata.c gave a message");

	memset(&te, 0, sizeof(te));
	rc = rdata_parse_text(RRTYPE_SOA, "ns h 1 2 x 4 5", 14, mkname("t.", rd + 50), rd, 50, &te);
	ok(rc < 0 && te.offset >= 9 && te.offset < 14, "rdata.c points into '2 x 4 5'");
	/* Joined text "ns h 1 2 x 4 5": run 2 ("2 x 4 5") starts at offset 7
	 * and sits at line 2 col 3. */
	snprintf(msg, sizeof(msg), "%s", te.msg);
	expect_err("a 1 SOA ns h ( 1\n  2 x 4 5 )\n", "t.", rc, 2, 3 + (int)te.offset - 7, msg,
		   "SOA error on the second line");

	memset(&te, 0, sizeof(te));
	rc = rdata_parse_text(RRTYPE_A, "", 0, NULL, rd, sizeof(rd), &te);
	ok(rc < 0, "empty A refused by rdata.c");
	expect_err("a 1 A\n", "t.", rc, 1, 6, "A ", "A without data points after the type");
	expect_err("a 1 A ; c\n", "t.", rc, 1, 6, "A ", "A with only a comment");
}

static void build_origin(char *buf, int wire_len)
{
	/* Labels of 63 until the rest fits one label: wire_len counts the
	 * length octets and the root octet. */
	int left = wire_len - 1;
	size_t o = 0;

	while (left > 0) {
		int l = left - 1 > 63 ? 63 : left - 1;

		for (int i = 0; i < l; i++)
			buf[o++] = 'o';
		buf[o++] = '.';
		left -= l + 1;
	}
	buf[o] = '\0';
}

static void test_limits(void)
{
	char origin[400], z[600], *big;
	size_t n;
	uint8_t ob[DNAME_MAXLEN];

	/* Owner "a" (2 octets) + a 253-octet origin = 255: fits; "ab" = 256. */
	build_origin(origin, 253);
	is_int(dname_parse_text(origin, strlen(origin), NULL, ob), 253, "origin is 253 octets");
	is_int(parse("a 1 A 192.0.2.1\n", origin, 0), 0, "owner of 255 octets (N)");
	is_int(dname_len(C.owner[0]), 255, "owner length 255");
	expect_err("a 1 A 192.0.2.1\nab 1 A 192.0.2.1\n", origin, ERR_NAME_TOO_LONG, 2, 1,
		   "longer than 255", "owner of 256 octets (N+1)");
	/* The same through $ORIGIN. */
	snprintf(z, sizeof(z), "$ORIGIN %s\n@ 1 A 192.0.2.1\n", origin);
	is_int(parse(z, NULL, 0), 0, "$ORIGIN of 253 then @");
	snprintf(z, sizeof(z), "$ORIGIN %s\nx.y 1 A 192.0.2.1\n", origin);
	expect_err(z, NULL, ERR_NAME_TOO_LONG, 2, 1, "longer than 255", "x.y under 253 origin");
	build_origin(origin, 255);
	snprintf(z, sizeof(z), "$ORIGIN a.%s\n", origin);
	expect_err(z, NULL, ERR_NAME_TOO_LONG, 1, 9, "longer than 255", "$ORIGIN of 257");
	/* Label of 63 (N) and 64 (N+1). */
	memset(z, 'l', 64);
	memcpy(z + 63, " 1 A 192.0.2.1\n", 16);
	is_int(parse(z, "t.", 0), 0, "label of 63");
	memset(z, 'l', 64);
	memcpy(z + 64, " 1 A 192.0.2.1\n", 16);
	expect_err(z, "t.", ERR_LABEL_TOO_LONG, 1, 1, "label longer than 63", "label of 64");

	/* RDATA text at ZF_RDATA_TEXT_MAX (N) and one more (N+1), on one line
	 * (zero-copy path) and across lines (joined path). Blanks inside a run
	 * count, so "\"x\"" + blanks + "\"a\"" is valid TXT of any length; the
	 * joined form adds a line break (one blank) and "\"y\"". */
	big = malloc(ZF_RDATA_TEXT_MAX + 100);
	for (int joined = 0; joined < 2; joined++) {
		for (int extra = 0; extra < 2; extra++) {
			size_t tl = ZF_RDATA_TEXT_MAX + (size_t)extra;
			size_t blanks = tl - 6 - (joined ? 4 : 0);
			int rc;

			n = (size_t)sprintf(big, "a 1 TXT %s\"x\"", joined ? "( " : "");
			memset(big + n, ' ', blanks);
			n += blanks;
			n += (size_t)sprintf(big + n, "\"a\"%s\n", joined ? "\n\"y\" )" : "");
			rc = parse_n(big, n, "t.", 0);
			if (extra == 0) {
				is_int(rc, 0, "RDATA text of %d bytes (N), %s", ZF_RDATA_TEXT_MAX,
				       joined ? "joined" : "one line");
				ok(C.n == 1 && C.rdlen[0] == (joined ? 6 : 4), "the TXT strings");
			} else {
				is_int(rc, ERR_RANGE, "RDATA text of N+1 bytes, %s",
				       joined ? "joined" : "one line");
				is_int(E.line, joined ? 2 : 1, "N+1: line");
				ok(strstr(E.msg, "longer than") != NULL, "N+1: message");
			}
		}
	}
	free(big);
}

static void test_print(void)
{
	uint8_t owner[DNAME_MAXLEN], rd[4] = {192, 0, 2, 1};
	char buf[64];
	const char *want = "www.t. 3600 IN A 192.0.2.1";
	size_t wl = strlen(want);
	int n;

	mkname("www.t.", owner);
	is_int(zf_print_rr(owner, 3600, RRTYPE_A, rd, 4, buf, sizeof(buf)), (int)wl, "print A");
	is_str(buf, want, "printed A");
	is_int(zf_print_rr(owner, 3600, RRTYPE_A, rd, 4, buf, wl + 1), (int)wl,
	       "print with cap = length + 1 (N)");
	is_int(zf_print_rr(owner, 3600, RRTYPE_A, rd, 4, buf, wl), ERR_SPACE, "cap = length (N+1)");
	is_int(zf_print_rr(owner, 3600, RRTYPE_A, rd, 4, buf, 8), ERR_SPACE, "cap in the owner");
	is_int(zf_print_rr(owner, 3600, RRTYPE_A, rd, 4, buf, 12), ERR_SPACE, "cap in the TTL");
	is_int(zf_print_rr(owner, 3600, RRTYPE_A, rd, 3, buf, sizeof(buf)), ERR_MALFORMED,
	       "A of 3 octets is malformed");
	n = zf_print_rr(owner, 2147483647, 65534, rd, 4, buf, sizeof(buf));
	want = "www.t. 2147483647 IN TYPE65534 \\# 4 c0000201";
	is_int(n, (int)strlen(want), "TYPE65534 length");
	ok(strcasecmp(buf, want) == 0, "generic print: %s", buf);
	owner[0] = 64; /* label too long */
	is_int(zf_print_rr(owner, 1, RRTYPE_A, rd, 4, buf, sizeof(buf)), ERR_MALFORMED,
	       "bad owner");
}

/* Sorted copies of the printed records, for multiset comparison. */
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **snapshot(int *n)
{
	char **v = malloc(sizeof(char *) * (size_t)(C.n ? C.n : 1));

	for (int i = 0; i < C.n; i++)
		v[i] = strdup(C.text[i]);
	qsort(v, (size_t)C.n, sizeof(char *), cmpstr);
	*n = C.n;
	return v;
}

/* parse -> print -> parse: the printed text must give the same records. */
static void roundtrip(const char *text, size_t len, const char *origin, const char *name)
{
	char **a, **b, *joined;
	int na, nb, same = 1;
	size_t tl = 0, o = 0;

	if (!ok(parse_n(text, len, origin, 0) == 0, "%s: parses", name)) {
		printf("#   %d:%d: %s\n", E.line, E.col, E.msg);
		return;
	}
	a = snapshot(&na);
	for (int i = 0; i < na; i++)
		tl += strlen(a[i]) + 1;
	joined = malloc(tl + 1);
	for (int i = 0; i < na; i++) {
		size_t l = strlen(a[i]);

		memcpy(joined + o, a[i], l);
		joined[o + l] = '\n';
		o += l + 1;
	}
	if (!ok(parse_n(joined, o, NULL, 0) == 0, "%s: printed form parses", name))
		printf("#   %d:%d: %s\n", E.line, E.col, E.msg);
	b = snapshot(&nb);
	is_int(nb, na, "%s: same record count", name);
	for (int i = 0; i < na && i < nb; i++) {
		if (strcmp(a[i], b[i]) != 0) {
			printf("#   %s\n#   %s\n", a[i], b[i]);
			same = 0;
			break;
		}
	}
	ok(same && na == nb, "%s: same records after the round trip", name);
	for (int i = 0; i < na; i++)
		free(a[i]);
	for (int i = 0; i < nb; i++)
		free(b[i]);
	free(a);
	free(b);
	free(joined);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void test_roundtrip(void)
{
	const char *srcdir = getenv("SRCDIR");
	char path[4096], *text, *crlf;
	size_t len = 0, n = 0;

	{
		const char *z =
		    "$ORIGIN r.\n$TTL 300\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n"
		    "ns AAAA 2001:db8::53\nm MX 10 ns\nt TXT \"a b\" c \"\\\"\" \"\\\\\" "
		    "\"\\255\"\n"
		    "t TXT \"\"\nc CNAME ns\n* A 192.0.2.9\n\\$x A 192.0.2.8\nsp\\032ce A "
		    "192.0.2.7\n"
		    "\\@ A 192.0.2.6\nq\\(\\) A 192.0.2.5\nu TYPE999 \\# 0\nu TYPE998 \\# 2 0000\n";

		roundtrip(z, strlen(z), NULL, "inline zone");
		is_int(C.n, 15, "inline zone: 15 records");
	}

	if (srcdir == NULL) {
		ok(0, "SRCDIR is set");
		return;
	}
	snprintf(path, sizeof(path), "%s/tests/e2e/zones/tricky.zone", srcdir);
	if (!ok((text = slurp(path, &len)) != NULL, "read %s", path))
		return;
	roundtrip(text, len, NULL, "tricky.zone");
	ok(C.n >= 30, "tricky.zone has many records (%d)", C.n);

	/* The same file with CRLF endings and without its last newline. */
	crlf = malloc(2 * len + 1);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = text[i];
	}
	{
		char **a, **b;
		int na, nb, same = 1;

		parse_n(text, len, NULL, 0);
		a = snapshot(&na);
		while (n > 0 && (crlf[n - 1] == '\n' || crlf[n - 1] == '\r'))
			n--;
		is_int(parse_n(crlf, n, NULL, 0), 0, "tricky.zone with CRLF, no final newline");
		b = snapshot(&nb);
		is_int(nb, na, "CRLF: same count");
		for (int i = 0; i < na && i < nb; i++)
			same &= strcmp(a[i], b[i]) == 0;
		ok(same, "CRLF: same records");
		for (int i = 0; i < na; i++)
			free(a[i]);
		for (int i = 0; i < nb; i++)
			free(b[i]);
		free(a);
		free(b);
	}
	free(crlf);
	free(text);
}

int main(void)
{
	test_ttl();
	test_basic();
	test_ttl_rules();
	test_class();
	test_syntax();
	test_errors();
	test_limits();
	test_print();
	test_roundtrip();
	coll_free(&C);
	return done_testing();
}
