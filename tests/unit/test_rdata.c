/*
 * test_rdata.c: RR type mnemonics and RDATA text <-> wire.
 *
 * Every good case checks the two invariants of rdata.c: print(parse(t)) is
 * the expected canonical text and a fixed point, and parse(print(x)) gives
 * back the same wire bytes. Bad cases check the exact error code, that a
 * message was written, and (where it matters) the offset. Limits are tested
 * at N and N+1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "tap.h"
#include "wire.h"

static uint8_t origin[DNAME_MAXLEN];
static char big[300000];

/* print(parse(text)) == want, stable, and the wire survives a round trip. */
static void good(uint16_t type, const char *text, const char *want)
{
	static uint8_t w1[RDATA_MAXLEN], w2[RDATA_MAXLEN];
	static char t1[300000], t2[300000];
	struct text_err e;
	int n1, n2, p1, p2;

	n1 = rdata_parse_text(type, text, strlen(text), origin, w1, sizeof(w1), &e);
	if (!ok(n1 >= 0, "parse type %u '%.60s'", type, text)) {
		printf("#   error %d (%s) at %zu: %s\n", n1, err_str(n1), e.offset, e.msg);
		return;
	}
	p1 = rdata_print(type, w1, (size_t)n1, t1, sizeof(t1));
	if (want)
		is_str(p1 >= 0 ? t1 : err_str(p1), want, "print type %u '%.60s'", type, text);
	n2 = rdata_parse_text(type, t1, (size_t)(p1 > 0 ? p1 : 0), NULL, w2, sizeof(w2), &e);
	p2 = n2 >= 0 ? rdata_print(type, w2, (size_t)n2, t2, sizeof(t2)) : -1;
	ok(n2 == n1 && memcmp(w1, w2, (size_t)n1) == 0 && p2 == p1 && strcmp(t1, t2) == 0 &&
	       (size_t)p1 <= 4 * (size_t)n1 + 4,
	   "round trip type %u '%.60s'", type, text);
	if (n2 < 0)
		printf("#   reparse '%s': %s\n", t1, e.msg);
}

/* parse fails with code err; a message is set. Returns the offset. */
static size_t bad(uint16_t type, const char *text, int err)
{
	uint8_t w[RDATA_MAXLEN];
	struct text_err e;
	int n = rdata_parse_text(type, text, strlen(text), origin, w, sizeof(w), &e);

	if (!ok(n == err && e.msg[0] != '\0', "type %u '%.60s' fails with %s", type, text,
		err_str(err)))
		printf("#   got %d (%s): %s\n", n, n < 0 ? err_str(n) : "ok", e.msg);
	return e.offset;
}

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (h[0] && h[1]) {
		unsigned v;

		if (h[0] == ' ') {
			h++;
			continue;
		}
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* rdata_check accepts the wire form and prints it as want. */
static void wire_good(uint16_t type, const char *hex, const char *want)
{
	uint8_t w[4096];
	char t[8192];
	size_t n = unhex(hex, w);

	is_int(rdata_check(type, w, n), 0, "check type %u %.40s", type, hex);
	rdata_print(type, w, n, t, sizeof(t));
	is_str(t, want, "print wire type %u %.40s", type, hex);
}

static void wire_bad(uint16_t type, const char *hex)
{
	uint8_t w[4096];
	char t[64];
	size_t n = unhex(hex, w);

	is_int(rdata_check(type, w, n), ERR_MALFORMED, "check refuses type %u %.40s", type, hex);
	is_int(rdata_print(type, w, n, t, sizeof(t)), ERR_MALFORMED, "print refuses type %u %.40s",
	       type, hex);
}

static void test_types(void)
{
	char b[16];
	int all = 1;

	is_str(rrtype_name(RRTYPE_A), "A", "name A");
	is_str(rrtype_name(RRTYPE_HTTPS), "HTTPS", "name HTTPS");
	is_str(rrtype_name(RRTYPE_CAA), "CAA", "name CAA");
	is_str(rrtype_name(23), "NSAP-PTR", "name NSAP-PTR");
	ok(rrtype_name(54) == NULL, "54 has no mnemonic");
	ok(rrtype_name(65534) == NULL, "65534 has no mnemonic");
	is_int(rrtype_print(65534, b, sizeof(b)), 9, "print TYPE65534 length");
	is_str(b, "TYPE65534", "print TYPE65534");
	is_int(rrtype_print(RRTYPE_SVCB, b, sizeof(b)), 4, "print SVCB");
	is_int(rrtype_print(65534, b, 9), ERR_SPACE, "print TYPE65534 into 9 bytes");
	is_int(rrtype_print(65534, b, 10), 9, "print TYPE65534 into 10 bytes");
	is_int(rrtype_parse("a", 1), RRTYPE_A, "parse a");
	is_int(rrtype_parse("Aaaa", 4), RRTYPE_AAAA, "parse Aaaa");
	is_int(rrtype_parse("nsap-ptr", 8), 23, "parse nsap-ptr");
	is_int(rrtype_parse("TYPE65535", 9), 65535, "parse TYPE65535");
	is_int(rrtype_parse("type1", 5), 1, "parse type1 is A");
	is_int(rrtype_parse("TYPE65536", 9), ERR_UNKNOWN_TYPE, "TYPE65536");
	is_int(rrtype_parse("TYPE", 4), ERR_UNKNOWN_TYPE, "TYPE alone");
	is_int(rrtype_parse("TYPE1x", 6), ERR_UNKNOWN_TYPE, "TYPE1x");
	is_int(rrtype_parse("FOO", 3), ERR_UNKNOWN_TYPE, "FOO");
	is_int(rrtype_parse("", 0), ERR_UNKNOWN_TYPE, "empty");
	is_int(rrtype_parse("AA", 2), ERR_UNKNOWN_TYPE, "AA (prefix of AAAA)");
	is_int(rrtype_parse("AAAAA", 5), ERR_UNKNOWN_TYPE, "AAAAA");
	is_int(rrtype_parse("MXX", 2), RRTYPE_MX, "length is honoured (MX of MXX)");
	for (uint32_t t = 0; t <= 65535; t++) {
		int n = rrtype_print((uint16_t)t, b, sizeof(b));

		if (n < 0 || rrtype_parse(b, (size_t)n) != (int)t) {
			all = 0;
			printf("#   type %u -> %s\n", t, b);
			break;
		}
	}
	ok(all, "rrtype_parse(rrtype_print(t)) == t for every type");
}

static void test_a_aaaa(void)
{
	size_t off;

	good(RRTYPE_A, "192.0.2.1", "192.0.2.1");
	good(RRTYPE_A, "  0.0.0.0\t", "0.0.0.0");
	good(RRTYPE_A, "255.255.255.255", "255.255.255.255");
	bad(RRTYPE_A, "256.0.0.1", ERR_SYNTAX);
	bad(RRTYPE_A, "1.2.3", ERR_SYNTAX);
	bad(RRTYPE_A, "1.2.3.4.5", ERR_SYNTAX);
	bad(RRTYPE_A, "01.2.3.4", ERR_SYNTAX);
	bad(RRTYPE_A, "1..2.3", ERR_SYNTAX);
	bad(RRTYPE_A, "1.2.3.-1", ERR_SYNTAX);
	bad(RRTYPE_A, "1.2.3.0004", ERR_SYNTAX);
	bad(RRTYPE_A, "\"1.2.3.4\"", ERR_SYNTAX);
	bad(RRTYPE_A, "", ERR_SYNTAX);
	off = bad(RRTYPE_A, "1.2.3.4 5", ERR_SYNTAX);
	is_int(off, 8, "trailing token offset");

	good(RRTYPE_AAAA, "2001:db8::1", "2001:db8::1");
	good(RRTYPE_AAAA, "2001:DB8:0:0:0:0:0:1", "2001:db8::1");
	good(RRTYPE_AAAA, "::", "::");
	good(RRTYPE_AAAA, "::ffff:192.0.2.1", "::ffff:192.0.2.1");
	good(RRTYPE_AAAA, "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	bad(RRTYPE_AAAA, "2001:db8::g", ERR_SYNTAX);
	bad(RRTYPE_AAAA, "192.0.2.1", ERR_SYNTAX);
	bad(RRTYPE_AAAA, ":::", ERR_SYNTAX);
	bad(RRTYPE_AAAA, "fe80::1%eth0", ERR_SYNTAX);
	bad(RRTYPE_AAAA, "1:2:3:4:5:6:7:8:9", ERR_SYNTAX);
	bad(RRTYPE_AAAA, "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", ERR_SYNTAX);
	wire_bad(RRTYPE_A, "c00002");
	wire_bad(RRTYPE_A, "c0000201 00");
	wire_bad(RRTYPE_AAAA, "20010db8");
}

static void test_names(void)
{
	char t[600];
	uint8_t w[600];
	struct text_err e;
	int n;

	good(RRTYPE_NS, "NS1.Example.COM.", "ns1.example.com.");
	good(RRTYPE_NS, "ns1", "ns1.example.com.");
	good(RRTYPE_CNAME, "@", "example.com.");
	good(RRTYPE_DNAME, "Other.Example.", "other.example.");
	good(RRTYPE_PTR, "host.example.", "host.example.");
	good(RRTYPE_CNAME, ".", ".");
	good(RRTYPE_CNAME, "a\\.b.example.", "a\\.b.example.");
	good(RRTYPE_CNAME, "a\\032b.example.", "a\\032b.example.");
	bad(RRTYPE_CNAME, "\"quoted.example.\"", ERR_SYNTAX);
	bad(RRTYPE_CNAME, "a..b.", ERR_SYNTAX);
	bad(RRTYPE_CNAME, "", ERR_SYNTAX);
	bad(RRTYPE_CNAME, "a. b.", ERR_SYNTAX);
	n = rdata_parse_text(RRTYPE_NS, "ns1", 3, NULL, w, sizeof(w), &e);
	is_int(n, ERR_RELATIVE_NAME, "relative name without origin");
	ok(strstr(e.msg, "NS nameserver") != NULL, "message names the field: %s", e.msg);

	/* label 63 / 64 */
	memset(t, 'a', 63);
	strcpy(t + 63, ".example.");
	good(RRTYPE_CNAME, t, t);
	memset(t, 'a', 64);
	strcpy(t + 64, ".example.");
	bad(RRTYPE_CNAME, t, ERR_LABEL_TOO_LONG);
	/* name 255 / 256 octets: three 63-octet labels (192) + one of 61 (62) + root */
	memset(t, 'b', sizeof(t));
	t[63] = t[127] = t[191] = '.';
	t[253] = '.';
	t[254] = '\0';
	good(RRTYPE_CNAME, t, t);
	n = rdata_parse_text(RRTYPE_CNAME, t, strlen(t), NULL, w, sizeof(w), &e);
	is_int(n, 255, "255-octet name");
	t[253] = 'b';
	t[254] = '.';
	t[255] = '\0';
	bad(RRTYPE_CNAME, t, ERR_NAME_TOO_LONG);

	wire_good(RRTYPE_NS, "036e7331076578616d706c6500", "ns1.example.");
	wire_good(RRTYPE_CNAME, "00", ".");
	wire_bad(RRTYPE_NS, "036e7331076578616d706c65");     /* no root */
	wire_bad(RRTYPE_NS, "036e7331076578616d706c650000"); /* trailing */
	wire_bad(RRTYPE_NS, "c00c");			     /* compressed */
	wire_bad(RRTYPE_CNAME, "");
}

static void test_soa(void)
{
	size_t off;

	good(RRTYPE_SOA, "ns1 hostmaster 2024010101 3600 900 604800 86400",
	     "ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 86400");
	good(RRTYPE_SOA, "NS1.EXAMPLE.NET. h.example.net. 1 1h 15m 1w 1d",
	     "ns1.example.net. h.example.net. 1 3600 900 604800 86400");
	good(RRTYPE_SOA, "a. b. 0 1h30m 2H 1W2D3H4M5S 0", "a. b. 0 5400 7200 788645 0");
	good(RRTYPE_SOA, "a. b. 4294967295 4294967295 0 0 0", "a. b. 4294967295 4294967295 0 0 0");
	bad(RRTYPE_SOA, "a. b. 4294967296 1 1 1 1", ERR_RANGE);
	bad(RRTYPE_SOA, "a. b. 1h 1 1 1 1", ERR_SYNTAX);
	bad(RRTYPE_SOA, "a. b. 1 4294967296 1 1 1", ERR_RANGE);
	bad(RRTYPE_SOA, "a. b. 1 1h30 1 1 1", ERR_SYNTAX);
	bad(RRTYPE_SOA, "a. b. 1 h 1 1 1", ERR_SYNTAX);
	bad(RRTYPE_SOA, "a. b. 1 1x 1 1 1", ERR_SYNTAX);
	bad(RRTYPE_SOA, "a. b. 1 9999999w 1 1 1", ERR_RANGE);
	bad(RRTYPE_SOA, "a. b. 1 -1 1 1 1", ERR_SYNTAX);
	off = bad(RRTYPE_SOA, "a. b. 1 1 1 1", ERR_SYNTAX);
	is_int(off, 13, "missing SOA minimum reported at the end");
	bad(RRTYPE_SOA, "a. b. 1 1 1 1 1 1", ERR_SYNTAX);
	wire_good(RRTYPE_SOA, "0161000162000000000100000002000000030000000400000005",
		  "a. b. 1 2 3 4 5");
	wire_bad(RRTYPE_SOA, "01610001620000000001000000020000000300000004000000");
	wire_bad(RRTYPE_SOA, "016100016200000000010000000200000003000000040000000500");
}

static void test_mx_srv_naptr(void)
{
	uint8_t w[64];
	struct text_err e;
	int n;

	good(RRTYPE_MX, "10 mail", "10 mail.example.com.");
	good(RRTYPE_MX, "0 .", "0 .");
	good(RRTYPE_MX, "65535 Mail.Example.", "65535 mail.example.");
	bad(RRTYPE_MX, "65536 mail", ERR_RANGE);
	bad(RRTYPE_MX, "-1 mail", ERR_SYNTAX);
	bad(RRTYPE_MX, "10", ERR_SYNTAX);
	bad(RRTYPE_MX, "10 a b", ERR_SYNTAX);
	bad(RRTYPE_MX, "\"10\" a", ERR_SYNTAX);
	n = rdata_parse_text(RRTYPE_MX, "x mail", 6, origin, w, sizeof(w), &e);
	is_int(n, ERR_SYNTAX, "MX preference x");
	is_str(e.msg, "MX preference: 'x' is not a number 0..65535", "MX message");
	is_int(e.offset, 0, "MX offset");
	n = rdata_parse_text(RRTYPE_MX, "10   mail..x", 12, origin, w, sizeof(w), &e);
	is_int(e.offset, 5, "MX exchange offset");
	ok(strncmp(e.msg, "MX exchange:", 12) == 0, "MX exchange message: %s", e.msg);
	wire_good(RRTYPE_MX, "000a 00", "10 .");
	wire_bad(RRTYPE_MX, "000a");
	wire_bad(RRTYPE_MX, "00");

	good(RRTYPE_SRV, "10 60 5060 sip", "10 60 5060 sip.example.com.");
	good(RRTYPE_SRV, "0 0 65535 .", "0 0 65535 .");
	bad(RRTYPE_SRV, "0 0 65536 .", ERR_RANGE);
	bad(RRTYPE_SRV, "0 0 1", ERR_SYNTAX);
	wire_bad(RRTYPE_SRV, "000000000000");
	wire_good(RRTYPE_SRV, "00000000000000", "0 0 0 .");

	good(RRTYPE_NAPTR, "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
	     "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .");
	good(RRTYPE_NAPTR, "1 2 s SIP+D2U \"\" _sip._udp",
	     "1 2 \"s\" \"SIP+D2U\" \"\" _sip._udp.example.com.");
	bad(RRTYPE_NAPTR, "1 2 s SIP+D2U \"\"", ERR_SYNTAX);
	bad(RRTYPE_NAPTR, "1 2 s SIP+D2U \"\" \"x.\"", ERR_SYNTAX);
	wire_good(RRTYPE_NAPTR, "00010002 0173 00 00 00", "1 2 \"s\" \"\" \"\" .");
	wire_bad(RRTYPE_NAPTR, "00010002 0173 00 00");
	wire_bad(RRTYPE_NAPTR, "00010002 0273 00 00 00");
}

static void test_txt(void)
{
	char t[1200];
	size_t off;
	uint8_t w[600];
	struct text_err e;
	int n;

	good(RRTYPE_TXT, "\"hello world\"", "\"hello world\"");
	good(RRTYPE_TXT, "hello world", "\"hello\" \"world\"");
	good(RRTYPE_TXT, "\"a\\\"b\"", "\"a\\\"b\"");
	good(RRTYPE_TXT, "\"\\065\\066C\"", "\"ABC\"");
	good(RRTYPE_TXT, "\"\\\\\"", "\"\\\\\"");
	good(RRTYPE_TXT, "\"\xc3\xa9\"", "\"\\195\\169\"");
	good(RRTYPE_TXT, "\"\"", "\"\"");
	good(RRTYPE_TXT, "\"tab\there\"", "\"tab\\009here\"");
	good(RRTYPE_TXT, "a\\;b a\\ b", "\"a;b\" \"a b\"");
	good(RRTYPE_TXT, "\"(paren); semi\"", "\"(paren); semi\"");
	good(RRTYPE_TXT, "\"v=spf1 -all\" \"\" x", "\"v=spf1 -all\" \"\" \"x\"");
	good(RRTYPE_TXT, "\"\\000\\255\"", "\"\\000\\255\"");
	bad(RRTYPE_TXT, "\"\\256\"", ERR_SYNTAX);
	bad(RRTYPE_TXT, "\"\\25\"", ERR_SYNTAX);
	bad(RRTYPE_TXT, "abc\\", ERR_SYNTAX);
	bad(RRTYPE_TXT, "", ERR_SYNTAX);
	bad(RRTYPE_TXT, "   ", ERR_SYNTAX);
	bad(RRTYPE_TXT, "\"unterminated", ERR_SYNTAX);
	off = bad(RRTYPE_TXT, "\"a\"b", ERR_SYNTAX);
	is_int(off, 3, "text after the closing quote");
	bad(RRTYPE_TXT, "a\"b\"", ERR_SYNTAX);
	bad(RRTYPE_TXT, "a;b", ERR_SYNTAX);
	bad(RRTYPE_TXT, "( a )", ERR_SYNTAX);

	/* 255 / 256 octets, plain and with escapes */
	t[0] = '"';
	memset(t + 1, 'x', 255);
	strcpy(t + 256, "\"");
	good(RRTYPE_TXT, t, t);
	memset(t + 1, 'x', 256);
	strcpy(t + 257, "\"");
	bad(RRTYPE_TXT, t, ERR_TXT_TOO_LONG);
	for (int i = 0; i < 255; i++)
		memcpy(t + 1 + 4 * i, "\\007", 4);
	strcpy(t + 1 + 4 * 255, "\"");
	good(RRTYPE_TXT, t, t);
	for (int i = 0; i < 256; i++)
		memcpy(t + 1 + 4 * i, "\\007", 4);
	strcpy(t + 1 + 4 * 256, "\"");
	bad(RRTYPE_TXT, t, ERR_TXT_TOO_LONG);
	/* 255 unquoted, then a too-long second string is numbered */
	memset(t, 'y', 255);
	t[255] = ' ';
	memset(t + 256, 'z', 256);
	t[512] = '\0';
	n = rdata_parse_text(RRTYPE_TXT, t, strlen(t), NULL, w, sizeof(w), &e);
	is_int(n, ERR_TXT_TOO_LONG, "second string too long");
	ok(strstr(e.msg, "TXT string 2") != NULL, "message numbers the string: %s", e.msg);

	/* whole RDATA limit: 256 strings of 255 = 65536 octets is too long,
	 * 257 strings of 254 = 65535 fits */
	{
		size_t p = 0;
		static char txt[300000];
		static uint8_t wire[RDATA_MAXLEN];

		for (int i = 0; i < 257; i++) {
			memset(txt + p, 'q', 254);
			p += 254;
			txt[p++] = ' ';
		}
		txt[p] = '\0';
		n = rdata_parse_text(RRTYPE_TXT, txt, p, NULL, wire, sizeof(wire), &e);
		is_int(n, 65535, "TXT RDATA of exactly 65535 octets");
		n = rdata_print(RRTYPE_TXT, wire, 65535, big, sizeof(big));
		ok(n > 0, "print 65535-octet TXT");
		n = rdata_parse_text(RRTYPE_TXT, txt, p, NULL, wire, 65534, &e);
		is_int(n, ERR_SPACE, "TXT into a 65534-byte buffer");
		p = 0;
		for (int i = 0; i < 256; i++) {
			memset(txt + p, 'q', 255);
			p += 255;
			txt[p++] = ' ';
		}
		txt[p] = '\0';
		n = rdata_parse_text(RRTYPE_TXT, txt, p, NULL, wire, sizeof(wire), &e);
		is_int(n, ERR_RANGE, "TXT RDATA of 65536 octets");
	}
	n = rdata_parse_text(RRTYPE_TXT, "\"abc\"", 5, NULL, w, 4, &e);
	is_int(n, 4, "TXT fits exactly in 4 bytes");
	n = rdata_parse_text(RRTYPE_TXT, "\"abc\"", 5, NULL, w, 3, &e);
	is_int(n, ERR_SPACE, "TXT does not fit in 3 bytes");

	wire_good(RRTYPE_TXT, "00", "\"\"");
	wire_good(RRTYPE_TXT, "026869 00 01ff", "\"hi\" \"\" \"\\255\"");
	wire_bad(RRTYPE_TXT, "");
	wire_bad(RRTYPE_TXT, "036869");
	wire_bad(RRTYPE_TXT, "02686900 05");
}

static void test_caa_sshfp_tlsa(void)
{
	char t[700];

	good(RRTYPE_CAA, "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\"");
	good(RRTYPE_CAA, "128 iodef \"mailto:sec@example.com\"",
	     "128 iodef \"mailto:sec@example.com\"");
	good(RRTYPE_CAA, "0 issue \"\"", "0 issue \"\"");
	good(RRTYPE_CAA, "0 issue ca.example.net", "0 issue \"ca.example.net\"");
	good(RRTYPE_CAA, "0 Issue \"x; policy=ev\"", "0 Issue \"x; policy=ev\"");
	bad(RRTYPE_CAA, "0 is-sue \"x\"", ERR_SYNTAX);
	bad(RRTYPE_CAA, "0 \"issue\" \"x\"", ERR_SYNTAX);
	bad(RRTYPE_CAA, "256 issue \"x\"", ERR_RANGE);
	bad(RRTYPE_CAA, "0 issue", ERR_SYNTAX);
	bad(RRTYPE_CAA, "0 issue \"a\" \"b\"", ERR_SYNTAX);
	/* the value is not a character-string: 300 octets are fine */
	strcpy(t, "0 tbs \"");
	memset(t + 7, 'v', 300);
	strcpy(t + 307, "\"");
	good(RRTYPE_CAA, t, t);
	wire_good(RRTYPE_CAA, "00 05 6973737565 6361", "0 issue \"ca\"");
	wire_bad(RRTYPE_CAA, "00 00");
	wire_bad(RRTYPE_CAA, "00 06 6973737565");
	wire_bad(RRTYPE_CAA, "00 02 692d");

	good(RRTYPE_SSHFP, "1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac",
	     "1 1 DD465C09CFA51FB45020CC83316FFF21B9EC74AC");
	good(RRTYPE_SSHFP, "4 2 AB cd EF", "4 2 ABCDEF");
	bad(RRTYPE_SSHFP, "1 1 abc", ERR_SYNTAX);
	bad(RRTYPE_SSHFP, "1 1 zz", ERR_SYNTAX);
	bad(RRTYPE_SSHFP, "1 1", ERR_SYNTAX);
	bad(RRTYPE_SSHFP, "1 1 \"ab\"", ERR_SYNTAX);
	bad(RRTYPE_SSHFP, "1 256 ab", ERR_RANGE);
	wire_bad(RRTYPE_SSHFP, "0101");

	good(RRTYPE_TLSA, "3 1 1 0d6fce3f0f2d8e1c1e8c0b4c6a8c5b0b8a0b0c7d7a2b1f0e9d8c7b6a5f4e3d2c",
	     "3 1 1 0D6FCE3F0F2D8E1C1E8C0B4C6A8C5B0B8A0B0C7D7A2B1F0E9D8C7B6A5F4E3D2C");
	bad(RRTYPE_TLSA, "3 1 1", ERR_SYNTAX);
	bad(RRTYPE_TLSA, "3 1 x ab", ERR_SYNTAX);
	wire_good(RRTYPE_TLSA, "030101ab", "3 1 1 AB");
	wire_bad(RRTYPE_TLSA, "030101");
}

static void test_ds_dnskey(void)
{
	const char *d32 = "2BB183AF5F22588179A53B0A98631FAD1A292118BB6A3F7EB6F2A5E8B0F8B3F1";
	char t[400];

	snprintf(t, sizeof(t), "60485 13 2 %s", d32);
	good(RRTYPE_DS, t, t);
	snprintf(t, sizeof(t), "60485 ECDSAP256SHA256 2 %.32s %s", d32, d32 + 32);
	good(RRTYPE_DS, t, NULL);
	good(RRTYPE_DS, "1 8 1 0123456789abcdef0123456789ABCDEF01234567",
	     "1 8 1 0123456789ABCDEF0123456789ABCDEF01234567");
	good(RRTYPE_DS, "1 8 99 AB", "1 8 99 AB");
	bad(RRTYPE_DS, "1 8 2 0123456789abcdef0123456789ABCDEF01234567", ERR_INVALID);
	bad(RRTYPE_DS, "1 8 1 0123456789abcdef0123456789ABCDEF0123456789", ERR_INVALID);
	bad(RRTYPE_DS, "65536 8 1 00", ERR_RANGE);
	bad(RRTYPE_DS, "1 NOTANALG 1 00", ERR_SYNTAX);
	bad(RRTYPE_DS, "1 8 1", ERR_SYNTAX);
	wire_bad(RRTYPE_DS, "0001 08 02 0011");
	wire_good(RRTYPE_DS, "0001 08 63 0011", "1 8 99 0011");

	good(RRTYPE_DNSKEY,
	     "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
	     "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
	     "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
	     "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==");
	good(RRTYPE_DNSKEY, "256 3 ED25519 AwEA AQ ==", "256 3 15 AwEAAQ==");
	good(RRTYPE_DNSKEY, "0 3 0 AA==", "0 3 0 AA==");
	bad(RRTYPE_DNSKEY, "256 3 8 AwEAAQ", ERR_SYNTAX);
	bad(RRTYPE_DNSKEY, "256 3 8 AwE*AQ==", ERR_SYNTAX);
	bad(RRTYPE_DNSKEY, "256 3 8 AA==AA==", ERR_SYNTAX);
	bad(RRTYPE_DNSKEY, "256 3 8 A===", ERR_SYNTAX);
	bad(RRTYPE_DNSKEY, "256 3 8", ERR_SYNTAX);
	bad(RRTYPE_DNSKEY, "65536 3 8 AA==", ERR_RANGE);
	wire_good(RRTYPE_DNSKEY, "0100 03 08 ff", "256 3 8 /w==");
	wire_bad(RRTYPE_DNSKEY, "0100 03 08");
}

static void test_svcb(void)
{
	size_t off;

	good(RRTYPE_HTTPS, "1 . alpn=h2,h3 port=443", "1 . alpn=h2,h3 port=443");
	good(RRTYPE_HTTPS, "1 . port=443 alpn=h2", "1 . alpn=h2 port=443");
	good(RRTYPE_HTTPS, "0 Pool.Example.", "0 pool.example.");
	good(RRTYPE_SVCB, "1 svc key65534 port=53 key7=abc ipv4hint=192.0.2.1,192.0.2.2",
	     "1 svc.example.com. port=53 ipv4hint=192.0.2.1,192.0.2.2 key7=abc key65534");
	good(RRTYPE_HTTPS, "1 . mandatory=port,alpn alpn=h3 port=8443",
	     "1 . mandatory=alpn,port alpn=h3 port=8443");
	good(RRTYPE_HTTPS, "1 . alpn=h2 no-default-alpn", "1 . alpn=h2 no-default-alpn");
	good(RRTYPE_HTTPS, "1 . ipv6hint=2001:db8::1,2001:DB8::2",
	     "1 . ipv6hint=2001:db8::1,2001:db8::2");
	good(RRTYPE_HTTPS, "1 . ech=AEj+DQBEAQAgACA=", "1 . ech=AEj+DQBEAQAgACA=");
	good(RRTYPE_HTTPS, "1 . alpn=\"h2,h3\" key7=\"a b\"", "1 . alpn=h2,h3 key7=a\\032b");
	good(RRTYPE_HTTPS, "1 . alpn=a\\\\,b,c", "1 . alpn=a\\\\,b,c");
	good(RRTYPE_HTTPS, "1 . alpn=\"a\\\\\\\\b\"", "1 . alpn=a\\\\\\\\b");
	good(RRTYPE_HTTPS, "1 . key1=\\002h2", "1 . alpn=h2");
	good(RRTYPE_HTTPS, "1 . key3=\\001\\187", "1 . port=443");
	good(RRTYPE_HTTPS, "1 . key0=\\000\\003 port=1", "1 . mandatory=port port=1");
	good(RRTYPE_HTTPS, "1 . key9=", "1 . key9");
	good(RRTYPE_HTTPS, "1 . key9=\"\\\"(;)\"", "1 . key9=\\\"\\(\\;\\)");
	good(RRTYPE_HTTPS, "65535 t key65534=x port=65535",
	     "65535 t.example.com. port=65535 key65534=x");
	off = bad(RRTYPE_HTTPS, "0 . alpn=h2", ERR_INVALID);
	is_int(off, 4, "AliasMode param offset");
	bad(RRTYPE_HTTPS, "1 . port=1 port=2", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . port=1 alpn=h2 port=2", ERR_INVALID);
	good(RRTYPE_SVCB, "1 . key9 key8 key7 port=1 alpn=h2", "1 . alpn=h2 port=1 key7 key8 key9");
	bad(RRTYPE_HTTPS, "1 . port=1 key3=\\000\\002", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . mandatory=port", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . mandatory=mandatory", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . mandatory=port,port port=1", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . mandatory=foo", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . no-default-alpn", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . alpn=h2 no-default-alpn=x", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . key65535", ERR_INVALID);
	bad(RRTYPE_HTTPS, "1 . key65536=x", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . key07=x", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . foo=bar", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . port=65536", ERR_RANGE);
	bad(RRTYPE_HTTPS, "1 . port=\\052", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . port", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . alpn=", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . alpn=h2,,h3", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . alpn=h2,", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . ipv4hint=192.0.2.1,", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . ipv4hint=2001:db8::1", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . ipv6hint=192.0.2.1", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . ech=AEj", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . \"alpn=h2\"", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . alpn=\"h2\"x", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "1 . alp\"n=h2\"", ERR_SYNTAX);
	bad(RRTYPE_HTTPS, "65536 .", ERR_RANGE);
	bad(RRTYPE_HTTPS, "1", ERR_SYNTAX);

	/* wire: priority 1, root target, port 443 then alpn h2 (out of order) */
	wire_good(RRTYPE_HTTPS, "0001 00 0001 0003 026832 0003 0002 01bb", "1 . alpn=h2 port=443");
	wire_bad(RRTYPE_HTTPS, "0001 00 0003 0002 01bb 0001 0003 026832");
	wire_bad(RRTYPE_HTTPS, "0001 00 0003 0002 01bb 0003 0002 01bb");
	wire_bad(RRTYPE_HTTPS, "0000 00 0003 0002 01bb");
	wire_bad(RRTYPE_HTTPS, "0001 00 0003 0003 01bb00");
	wire_bad(RRTYPE_HTTPS, "0001 00 0003 0002 01");
	wire_bad(RRTYPE_HTTPS, "0001 00 0001 0003 036832");
	wire_bad(RRTYPE_HTTPS, "0001 00 0001 0000");
	wire_bad(RRTYPE_HTTPS, "0001 00 0000 0002 0003");
	wire_bad(RRTYPE_HTTPS, "0001 00 ffff 0000");
	wire_bad(RRTYPE_HTTPS, "0001 00 0004 0003 c00002");
	wire_bad(RRTYPE_HTTPS, "0001 00 0006 0004 20010db8");
	wire_bad(RRTYPE_HTTPS, "0001");
	wire_good(RRTYPE_SVCB, "0001 00 0001 0004 03612c62", "1 . alpn=a\\\\,b");
}

static void test_generic(void)
{
	uint8_t w[64];
	struct text_err e;
	int n;

	good(65534, "\\# 4 0a000001", "\\# 4 0A000001");
	good(65534, "\\# 0", "\\# 0");
	good(65534, "  \\#   4 0a00 0001 ", "\\# 4 0A000001");
	good(RRTYPE_HINFO, "\\# 2 0000", "\\# 2 0000");
	good(RRTYPE_A, "\\# 4 c0000201", "192.0.2.1");
	good(RRTYPE_MX, "\\# 8 000a 04 4D41494C 00", "10 mail.");
	bad(RRTYPE_MX, "\\# 7 000a 04 4D41494C 00", ERR_SYNTAX);
	good(RRTYPE_TXT, "\"\\#\"", "\"#\"");
	good(RRTYPE_TXT, "\\#x", "\"#x\"");
	n = rdata_parse_text(RRTYPE_MX, "\\# 8 000a044D41494C00", 21, NULL, w, sizeof(w), &e);
	ok(n == 8 && memcmp(w + 3, "mail", 4) == 0, "generic MX name lower-cased in the wire");
	bad(RRTYPE_A, "\\# 3 c00002", ERR_MALFORMED);
	bad(RRTYPE_MX, "\\# 4 000ac00c", ERR_MALFORMED);
	bad(65534, "\\# 3 0a0000 01", ERR_SYNTAX);
	bad(65534, "\\# 4 0a0000", ERR_SYNTAX);
	bad(65534, "\\# 65536", ERR_RANGE);
	bad(65534, "\\#", ERR_SYNTAX);
	bad(65534, "\\# 1 0", ERR_SYNTAX);
	bad(65534, "\\# 1 xx", ERR_SYNTAX);
	bad(65534, "0a000001", ERR_SYNTAX);
	bad(RRTYPE_HINFO, "\"cpu\" \"os\"", ERR_SYNTAX);
	wire_good(65534, "", "\\# 0");
	wire_good(RRTYPE_OPT, "0001", "\\# 2 0001");
}

/* A tiny message with "example.com" at offset 12 for compression tests. */
static size_t make_msg(uint8_t *m, const char *rdhex)
{
	static const uint8_t hdr[12] = {0};
	static const uint8_t name[] = "\7example\3com";
	size_t n = 0;

	memcpy(m, hdr, 12);
	n = 12;
	memcpy(m + n, name, sizeof(name)); /* includes the root NUL */
	n += sizeof(name);
	n += unhex(rdhex, m + n);
	return n;
}

static void test_unpack(void)
{
	uint8_t m[512], out[512];
	char t[512];
	struct wire w;
	size_t len, start = 12 + 13;
	int n;

	/* MX 10 mail.<ptr to example.com> */
	len = make_msg(m, "000a 046d61696c c00c");
	wire_init(&w, m, len);
	w.pos = start;
	n = rdata_unpack(RRTYPE_MX, &w, (uint16_t)(len - start), out, sizeof(out));
	is_int(n, 2 + 18, "MX unpacked length");
	is_int(w.pos, len, "MX: reader advanced by RDLENGTH");
	rdata_print(RRTYPE_MX, out, (size_t)n, t, sizeof(t));
	is_str(t, "10 mail.example.com.", "MX decompressed");

	/* SOA with both names compressed */
	len = make_msg(m, "026e73c00c 0268 6dc00c 00000001 00000002 00000003 00000004 00000005");
	wire_init(&w, m, len);
	w.pos = start;
	n = rdata_unpack(RRTYPE_SOA, &w, (uint16_t)(len - start), out, sizeof(out));
	ok(n > 0, "SOA unpacked");
	rdata_print(RRTYPE_SOA, out, (size_t)(n > 0 ? n : 0), t, sizeof(t));
	is_str(t, "ns.example.com. hm.example.com. 1 2 3 4 5", "SOA decompressed");
	/* SOA numbers one byte short, and one byte too many */
	len = make_msg(m, "026e73c00c 0268 6dc00c 00000001 00000002 00000003 00000004 000000");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_SOA, &w, (uint16_t)(len - start), out, sizeof(out)),
	       ERR_MALFORMED, "SOA too short");
	len = make_msg(m, "026e73c00c 0268 6dc00c 00000001 00000002 00000003 00000004 0000000500");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_SOA, &w, (uint16_t)(len - start), out, sizeof(out)),
	       ERR_MALFORMED, "SOA trailing byte");
	is_int(w.pos, len, "reader still advanced by RDLENGTH after an error");

	/* NS: trailing byte after the name; RDLENGTH cutting the name */
	len = make_msg(m, "c00c 00");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_NS, &w, 3, out, sizeof(out)), ERR_MALFORMED, "NS trailing");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_NS, &w, 1, out, sizeof(out)), ERR_MALFORMED, "NS cut name");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_NS, &w, 4, out, sizeof(out)), ERR_TRUNCATED,
	       "RDLENGTH past the message");
	/* a pointer forward (to itself) */
	len = make_msg(m, "c019");
	wire_init(&w, m, len);
	w.pos = start;
	ok(rdata_unpack(RRTYPE_CNAME, &w, 2, out, sizeof(out)) < 0, "pointer to itself");

	/* SRV names must not be compressed (RFC 3597 §4) */
	len = make_msg(m, "0001 0002 0003 c00c");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_SRV, &w, 8, out, sizeof(out)), ERR_MALFORMED,
	       "compressed SRV target refused");
	len = make_msg(m, "0001 0002 0003 00");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_SRV, &w, 7, out, sizeof(out)), 7, "SRV copied");
	/* A of length 5 */
	len = make_msg(m, "c0000201 00");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_A, &w, 5, out, sizeof(out)), ERR_MALFORMED, "A of 5 octets");
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(RRTYPE_A, &w, 4, out, 3), ERR_SPACE, "A into 3 bytes");
	/* unknown type: anything, even empty */
	wire_init(&w, m, len);
	w.pos = start;
	is_int(rdata_unpack(65534, &w, 0, out, sizeof(out)), 0, "empty unknown RDATA");
}

static void test_names_helpers(void)
{
	uint8_t w[512];
	size_t offs[2] = {99, 99};
	struct text_err e;
	int n;

	n = rdata_parse_text(RRTYPE_SOA, "a.example. b.example. 1 2 3 4 5", 31, NULL, w, sizeof(w),
			     &e);
	is_int(rdata_compressible_names(RRTYPE_SOA, w, (size_t)n, offs), 2, "SOA has two names");
	ok(offs[0] == 0 && offs[1] == 11, "SOA name offsets %zu %zu", offs[0], offs[1]);
	n = rdata_parse_text(RRTYPE_MX, "5 mx.example.", 13, NULL, w, sizeof(w), &e);
	is_int(rdata_compressible_names(RRTYPE_MX, w, (size_t)n, offs), 1, "MX has one name");
	is_int(offs[0], 2, "MX name offset");
	ok(rdata_target_name(RRTYPE_MX, w, (size_t)n) == w + 2, "MX target");
	is_int(rdata_compressible_names(RRTYPE_MX, w, 3, offs), ERR_MALFORMED, "MX cut short");
	ok(rdata_target_name(RRTYPE_MX, w, 3) == NULL, "no MX target when cut short");
	n = rdata_parse_text(RRTYPE_SRV, "1 2 3 t.example.", 16, NULL, w, sizeof(w), &e);
	is_int(rdata_compressible_names(RRTYPE_SRV, w, (size_t)n, offs), 0,
	       "SRV names are not compressible");
	ok(rdata_target_name(RRTYPE_SRV, w, (size_t)n) == w + 6, "SRV target");
	ok(rdata_target_name(RRTYPE_CNAME, w, (size_t)n) == NULL, "CNAME has no additional target");
	ok(rdata_target_name(RRTYPE_A, w, 4) == NULL, "A has no target");

	/* lower_names over wire written with upper case */
	{
		uint8_t srv[] = {0, 1, 0, 2, 0, 3, 1, 'T', 2, 'E', 'X', 0};
		uint8_t soa[] = {1, 'A', 0, 1, 'B', 0, 0, 0, 0, 1, 0, 0, 0,
				 2, 0,	 0, 0, 3,   0, 0, 0, 4, 0, 0, 0, 5};
		uint8_t naptr[] = {0, 1, 0, 2, 1, 'S', 0, 0, 1, 'Q', 0};
		uint8_t svcb[] = {0, 1, 1, 'Z', 0, 0, 3, 0, 2, 0, 'P'};
		uint8_t txt[] = {2, 'A', 'B'};

		rdata_lower_names(RRTYPE_SRV, srv, sizeof(srv));
		ok(srv[7] == 't' && srv[9] == 'e', "SRV target lower-cased");
		rdata_lower_names(RRTYPE_SOA, soa, sizeof(soa));
		ok(soa[1] == 'a' && soa[4] == 'b', "SOA names lower-cased");
		rdata_lower_names(RRTYPE_NAPTR, naptr, sizeof(naptr));
		ok(naptr[5] == 'S' && naptr[9] == 'q', "NAPTR replacement only lower-cased");
		rdata_lower_names(RRTYPE_HTTPS, svcb, sizeof(svcb));
		ok(svcb[3] == 'z' && svcb[10] == 'P', "HTTPS target only lower-cased");
		rdata_lower_names(RRTYPE_TXT, txt, sizeof(txt));
		ok(txt[1] == 'A', "TXT untouched");
		rdata_lower_names(RRTYPE_SOA, soa, 2); /* cut short: no crash, no change */
		ok(soa[1] == 'a', "lower_names on short input is harmless");
	}
}

static void test_print_limits(void)
{
	uint8_t a[4] = {192, 0, 2, 1};
	char t[16];

	is_int(rdata_print(RRTYPE_A, a, 4, t, 10), 9, "A prints into 10 bytes");
	is_int(rdata_print(RRTYPE_A, a, 4, t, 9), ERR_SPACE, "A does not print into 9");
	is_int(rdata_print(RRTYPE_A, a, 4, t, 0), ERR_SPACE, "cap 0");
	is_int(rdata_print(65534, a, 4, t, 14), 13, "generic prints into 14");
	is_int(rdata_print(65534, a, 4, t, 13), ERR_SPACE, "generic does not fit 13");
	is_int(rdata_print(RRTYPE_A, NULL, 4, t, 16), ERR_MALFORMED, "NULL rdata");

	/* worst cases for the documented bound strlen <= 4 * rdlen + 4 */
	{
		static uint8_t rd[RDATA_MAXLEN];
		int n;

		memset(rd, 0xff, sizeof(rd));
		rd[0] = 0;
		rd[1] = 1;
		rd[2] = 'a';
		n = rdata_print(RRTYPE_CAA, rd, RDATA_MAXLEN, big, sizeof(big));
		ok(n > 0 && (size_t)n <= 4 * (size_t)RDATA_MAXLEN + 4, "CAA worst case %d", n);
		is_int(rdata_print(RRTYPE_CAA, rd, RDATA_MAXLEN, big, (size_t)n + 1), n,
		       "CAA worst case fits n + 1");
		is_int(rdata_print(RRTYPE_CAA, rd, RDATA_MAXLEN, big, (size_t)n), ERR_SPACE,
		       "CAA worst case does not fit n");
		for (size_t i = 0; i + 255 < RDATA_MAXLEN; i += 256)
			rd[i] = 255;
		rd[65280] = 254;
		n = rdata_print(RRTYPE_TXT, rd, RDATA_MAXLEN, big, sizeof(big));
		ok(n > 0 && (size_t)n <= 4 * (size_t)RDATA_MAXLEN + 4, "TXT worst case %d", n);
		n = rdata_print(65534, rd, 0, big, sizeof(big));
		is_int(n, 4, "empty generic is 4 characters");
	}
}

/*
 * Random wire: whatever rdata_check accepts must print, and the print
 * must parse back to the same bytes (the fuzz invariant, deterministic).
 */
static void test_random_wire(void)
{
	static const uint16_t types[] = {
	    RRTYPE_A,	   RRTYPE_AAAA,	 RRTYPE_NS,    RRTYPE_SOA,   RRTYPE_MX,	  RRTYPE_TXT,
	    RRTYPE_SRV,	   RRTYPE_NAPTR, RRTYPE_CAA,   RRTYPE_SSHFP, RRTYPE_TLSA, RRTYPE_DS,
	    RRTYPE_DNSKEY, RRTYPE_SVCB,	 RRTYPE_HTTPS, 65534,
	};
	static uint8_t w[512], w2[RDATA_MAXLEN];
	static char t[4096];
	uint32_t seed = 12345;

	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		int accepted = 0, same = 1;

		for (int iter = 0; iter < 20000; iter++) {
			size_t len;
			int n, p;
			struct text_err e;

			seed = seed * 1103515245 + 12345;
			len = (seed >> 16) % 48;
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245 + 12345;
				/* small values make lengths and names plausible */
				w[i] = (uint8_t)((seed >> 16) % 4 ? (seed >> 20) % 8 : seed >> 24);
			}
			if (rdata_check(types[ti], w, len))
				continue;
			/* text always yields lower-case names */
			rdata_lower_names(types[ti], w, len);
			accepted++;
			p = rdata_print(types[ti], w, len, t, sizeof(t));
			n = p < 0 ? p
				  : rdata_parse_text(types[ti], t, (size_t)p, NULL, w2, sizeof(w2),
						     &e);
			if (n != (int)len || memcmp(w, w2, len) != 0) {
				if (same)
					printf("#   type %u: '%s' -> %d %s\n", types[ti], t, n,
					       e.msg);
				same = 0;
			}
		}
		ok(same, "type %u: %d random valid RDATA round-trip", types[ti], accepted);
	}
}

int main(void)
{
	if (dname_parse_text("example.com.", 12, NULL, origin) < 0) {
		printf("Bail out! dname_parse_text\n");
		return 1;
	}
	test_types();
	test_a_aaaa();
	test_names();
	test_soa();
	test_mx_srv_naptr();
	test_txt();
	test_caa_sshfp_tlsa();
	test_ds_dnskey();
	test_svcb();
	test_generic();
	test_unpack();
	test_names_helpers();
	test_print_limits();
	test_random_wire();
	return done_testing();
}
