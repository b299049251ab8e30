/*
 * test_acl.c: CIDR address lists (dnsd/acl.c), which decide who may send
 * NOTIFY or transfer zones.
 *
 * Parsing: IPv4 and IPv6 with and without prefix, prefix lengths at N and
 * N+1 (/32 and /33, /128 and /129), host bits below the prefix refused,
 * "key NAME" suffixes, and junk. Matching: both edges of every prefix,
 * byte-unaligned prefixes, /0, families kept apart, v4-mapped IPv6 peers
 * (a dual-stack socket) matched as IPv4, key-bound entries. A wrong match
 * here is a security hole or a dead NOTIFY path, so the edges matter.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "acl.h"
#include "dname.h"
#include "err.h"
#include "tap.h"

/* A peer address as a socket would report it. */
static const struct sockaddr *peer(const char *ip)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53);
	} else {
		printf("# bad test address %s\n", ip);
		abort();
	}
	return (const struct sockaddr *)&ss;
}

/* A one-entry list from spec; returns acl_add's result. */
static int one(struct acl *a, const char *spec, char *err, size_t errcap)
{
	acl_clear(a);
	err[0] = '\0';
	return acl_add(a, spec, err, errcap);
}

static void test_parse(void)
{
	static const struct {
		const char *spec;
		const char *fmt; /* acl_format of the entry; NULL: refused */
	} cases[] = {
	    {"127.0.0.0/8", "127.0.0.0/8"},
	    {"192.0.2.1", "192.0.2.1/32"},
	    {"192.0.2.1/32", "192.0.2.1/32"},
	    {"192.0.2.1/33", NULL},
	    {"0.0.0.0/0", "0.0.0.0/0"},
	    {"10.0.0.0/07", "10.0.0.0/7"},
	    {"::1", "::1/128"},
	    {"::1/128", "::1/128"},
	    {"::1/129", NULL},
	    {"::/0", "::/0"},
	    {"2001:db8::/32", "2001:db8::/32"},
	    {"2001:DB8::/32", "2001:db8::/32"},
	    {"2001:db8::/33", "2001:db8::/33"},
	    {"fe80::/10", "fe80::/10"},
	    /* host bits set below the prefix: probably a typo, refused */
	    {"10.0.0.1/8", NULL},
	    {"192.168.1.0/23", NULL},
	    {"192.168.0.0/23", "192.168.0.0/23"},
	    {"2001:db8::1/64", NULL},
	    {"2001:db8:8000::/33", "2001:db8:8000::/33"},
	    {"2001:db8:4000::/33", NULL},
	    {"255.255.255.255/31", NULL},
	    {"255.255.255.254/31", "255.255.255.254/31"},
	    /* malformed prefixes */
	    {"10.0.0.0/", NULL},
	    {"10.0.0.0/-1", NULL},
	    {"10.0.0.0/+8", NULL},
	    {"10.0.0.0/8x", NULL},
	    {"10.0.0.0/ 8", NULL},
	    {"10.0.0.0/0008", NULL},
	    {"10.0.0.0/4294967304", NULL}, /* 2^32 + 8: no wrap to /8 */
	    {"10.0.0.0/8/8", NULL},
	    {"/8", NULL},
	    {"::/1000", NULL},
	    /* not addresses */
	    {"", NULL},
	    {"localhost", NULL},
	    {"example.org/24", NULL},
	    {"256.0.0.0/8", NULL},
	    {"10.0.0/24", NULL},
	    {"10.0.0.0.0/24", NULL},
	    {"2001:db8:::/48", NULL},
	    {"fe80::1%lo/128", NULL},
	    {"[::1]/128", NULL},
	    {" 10.0.0.0/8", NULL},
	    {"10.0.0.0/8 extra", NULL},
	    {"any", NULL},
	    {"none", NULL},
	};
	struct acl a;
	char err[256], buf[512];
	size_t i;

	acl_init(&a);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = one(&a, cases[i].spec, err, sizeof(err));

		if (cases[i].fmt) {
			if (!ok(r == 0 && a.n == 1, "'%s' accepted", cases[i].spec)) {
				printf("#   rc %d: %s\n", r, err);
				continue;
			}
			acl_format(&a, 0, buf, sizeof(buf));
			is_str(buf, cases[i].fmt, "'%s' prints as %s", cases[i].spec, cases[i].fmt);
		} else {
			ok(r == ERR_SYNTAX && a.n == 0 && err[0] != '\0',
			   "'%s' refused with a reason: %s", cases[i].spec, err);
		}
	}

	/* a few messages a user reads */
	one(&a, "192.0.2.1/33", err, sizeof(err));
	ok(strstr(err, "33") && strstr(err, "32"), "/33 message names 33 and 32: %s", err);
	one(&a, "::1/129", err, sizeof(err));
	ok(strstr(err, "129") && strstr(err, "128"), "/129 message names 129 and 128: %s", err);
	one(&a, "10.0.0.1/8", err, sizeof(err));
	ok(strstr(err, "host bits") != NULL, "host-bits message says so: %s", err);

	/* a very long spec is refused without overflowing anything */
	{
		char longs[3000];
		memset(longs, 'a', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		ok(one(&a, longs, err, sizeof(err)) == ERR_SYNTAX, "a 2999-byte spec is refused");
		memcpy(longs, "10.0.0.0/8 key ", 15);
		ok(one(&a, longs, err, sizeof(err)) == ERR_SYNTAX,
		   "a key name of 2984 bytes is refused");
	}
	/* err is cut to errcap */
	{
		char small[8];
		memset(small, 'Z', sizeof(small));
		acl_clear(&a);
		ok(acl_add(&a, "garbage-garbage", small, sizeof(small)) == ERR_SYNTAX &&
		       memchr(small, '\0', sizeof(small)) != NULL,
		   "a small err buffer gets a cut, NUL-terminated message");
	}
	acl_free(&a);
}

/* m(spec, ip): does a list holding only spec let ip in? */
static int m(struct acl *a, const char *spec, const char *ip)
{
	char err[256];

	if (one(a, spec, err, sizeof(err)) != 0) {
		printf("#   '%s' refused: %s\n", spec, err);
		return -1;
	}
	return acl_match(a, peer(ip));
}

static void test_match(void)
{
	static const struct {
		const char *spec, *ip;
		int want;
	} cases[] = {
	    /* /8: both edges inside, both neighbours outside */
	    {"10.0.0.0/8", "10.0.0.0", 1},
	    {"10.0.0.0/8", "10.255.255.255", 1},
	    {"10.0.0.0/8", "9.255.255.255", 0},
	    {"10.0.0.0/8", "11.0.0.0", 0},
	    /* /32 and /31: exact host, and the pair */
	    {"192.0.2.1/32", "192.0.2.1", 1},
	    {"192.0.2.1/32", "192.0.2.0", 0},
	    {"192.0.2.1/32", "192.0.2.2", 0},
	    {"192.0.2.1", "192.0.2.1", 1},
	    {"192.0.2.1", "192.0.2.129", 0},
	    {"192.0.2.0/31", "192.0.2.1", 1},
	    {"192.0.2.0/31", "192.0.2.2", 0},
	    /* byte-unaligned prefixes */
	    {"192.168.0.0/23", "192.168.1.255", 1},
	    {"192.168.0.0/23", "192.168.2.0", 0},
	    {"192.168.0.0/23", "192.167.255.255", 0},
	    {"172.16.0.0/12", "172.31.255.255", 1},
	    {"172.16.0.0/12", "172.32.0.0", 0},
	    {"128.0.0.0/1", "255.255.255.255", 1},
	    {"128.0.0.0/1", "127.255.255.255", 0},
	    /* /0: every IPv4 peer, no IPv6 peer */
	    {"0.0.0.0/0", "0.0.0.0", 1},
	    {"0.0.0.0/0", "255.255.255.255", 1},
	    {"0.0.0.0/0", "::1", 0},
	    {"0.0.0.0/0", "2001:db8::1", 0},
	    {"::/0", "::1", 1},
	    {"::/0", "2001:db8::1", 1},
	    {"::/0", "192.0.2.1", 0},
	    /* IPv6 /128 and /127 */
	    {"::1", "::1", 1},
	    {"::1", "::2", 0},
	    {"::1", "::", 0},
	    {"2001:db8::2/127", "2001:db8::3", 1},
	    {"2001:db8::2/127", "2001:db8::4", 0},
	    {"2001:db8::2/127", "2001:db8::1", 0},
	    /* /32 and /33 in IPv6 */
	    {"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1},
	    {"2001:db8::/32", "2001:db9::", 0},
	    {"2001:db8::/32", "2001:db7:ffff::", 0},
	    {"2001:db8::/33", "2001:db8:7fff::1", 1},
	    {"2001:db8::/33", "2001:db8:8000::", 0},
	    {"fe80::/10", "febf:ffff::1", 1},
	    {"fe80::/10", "fec0::1", 0},
	    /* families apart: IPv4 127.0.0.1 is not IPv6 ::1 */
	    {"127.0.0.0/8", "::1", 0},
	    {"::1", "127.0.0.1", 0},
	    /* v4-mapped peers (dual-stack socket) are matched as IPv4 */
	    {"127.0.0.0/8", "::ffff:127.0.0.1", 1},
	    {"192.0.2.0/24", "::ffff:192.0.2.200", 1},
	    {"192.0.2.0/24", "::ffff:192.0.3.1", 0},
	    {"0.0.0.0/0", "::ffff:1.2.3.4", 1},
	    {"::/0", "::ffff:1.2.3.4", 0},
	    /* an IPv4-compatible or NAT64 address is not v4-mapped */
	    {"192.0.2.0/24", "::192.0.2.1", 0},
	    {"192.0.2.0/24", "64:ff9b::192.0.2.1", 0},
	};
	struct acl a;
	size_t i;

	acl_init(&a);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(m(&a, cases[i].spec, cases[i].ip), cases[i].want, "%s %s %s", cases[i].spec,
		       cases[i].want ? "lets in" : "keeps out", cases[i].ip);
	acl_free(&a);
}

static void test_list(void)
{
	struct acl a;
	char err[256], spec[64], buf[64];
	size_t i;
	int bad = 0;
	struct sockaddr_un un;

	acl_init(&a);
	ok(!acl_match(&a, peer("127.0.0.1")), "an empty list lets nobody in");
	ok(!acl_match(&a, peer("::1")), "an empty list lets nobody in (IPv6)");

	/* many entries: the array grows and every entry still counts */
	for (i = 0; i < 300; i++) {
		snprintf(spec, sizeof(spec), "10.%zu.%zu.0/24", i / 256, i % 256);
		if (acl_add(&a, spec, err, sizeof(err)) != 0)
			bad++;
	}
	is_int(bad, 0, "300 entries added");
	is_int(a.n, 300, "300 entries held");
	bad = 0;
	for (i = 0; i < 300; i++) {
		snprintf(spec, sizeof(spec), "10.%zu.%zu.77", i / 256, i % 256);
		if (!acl_match(&a, peer(spec)))
			bad++;
	}
	is_int(bad, 0, "a peer in each of the 300 prefixes matches");
	ok(!acl_match(&a, peer("10.1.44.1")), "a peer in none of them does not (10.1.44.1)");
	acl_format(&a, 299, buf, sizeof(buf));
	is_str(buf, "10.1.43.0/24", "the last entry prints");
	acl_format(&a, 300, buf, sizeof(buf));
	is_str(buf, "?", "acl_format past the end prints '?'");

	/* a refused entry leaves the list as it was */
	ok(acl_add(&a, "10.0.0.1/8", err, sizeof(err)) == ERR_SYNTAX && a.n == 300,
	   "a refused entry is not added");

	/* a socket family that is neither IPv4 nor IPv6 never matches */
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	acl_add(&a, "0.0.0.0/0", err, sizeof(err));
	acl_add(&a, "::/0", err, sizeof(err));
	ok(!acl_match(&a, (const struct sockaddr *)&un), "an AF_UNIX peer never matches");

	acl_clear(&a);
	is_int(a.n, 0, "acl_clear empties the list");
	ok(!acl_match(&a, peer("10.0.0.77")), "... and nothing matches after it");
	ok(acl_add(&a, "::1", err, sizeof(err)) == 0 && acl_match(&a, peer("::1")),
	   "the cleared list takes new entries");
	acl_free(&a);
	ok(a.v == NULL && a.n == 0, "acl_free leaves an empty list");
	ok(!acl_match(&a, peer("::1")), "a freed list matches nothing");
	acl_free(&a); /* twice is harmless */
}

/* Builds the lower-case wire form of a key name. */
static const uint8_t *key(const char *name)
{
	static uint8_t k[2][DNAME_MAXLEN];
	static int slot;
	static const uint8_t root[1] = {0};
	uint8_t *p = k[slot++ % 2];

	if (dname_parse_text(name, strlen(name), root, p) < 0) {
		printf("# bad key name %s\n", name);
		abort();
	}
	return p;
}

static void test_keys(void)
{
	struct acl a;
	char err[256], buf[600];

	acl_init(&a);
	ok(acl_add(&a, "192.0.2.0/24 key Xfr-Key", err, sizeof(err)) == 0,
	   "CIDR key NAME accepted: %s", err);
	acl_format(&a, 0, buf, sizeof(buf));
	is_str(buf, "192.0.2.0/24 key xfr-key.", "prints with the key, lower-cased");
	ok(!acl_match(&a, peer("192.0.2.1")), "an unsigned request does not match a key entry");
	ok(!acl_match_key(&a, peer("192.0.2.1"), NULL), "... nor through acl_match_key(NULL)");
	ok(acl_match_key(&a, peer("192.0.2.1"), key("xfr-key")), "signed with the key: match");
	ok(acl_match_key(&a, peer("192.0.2.1"), key("XFR-KEY.")), "key names compare case-blind");
	ok(!acl_match_key(&a, peer("192.0.2.1"), key("other-key")), "another key: no match");
	ok(!acl_match_key(&a, peer("192.0.2.1"), key("xfr-key.example")),
	   "a longer name with the same first label: no match");
	ok(!acl_match_key(&a, peer("198.51.100.1"), key("xfr-key")),
	   "the right key from outside the prefix: no match");
	ok(acl_match_key(&a, peer("::ffff:192.0.2.9"), key("xfr-key")),
	   "the right key from a v4-mapped peer inside the prefix: match");

	/* an entry without key lets in signed and unsigned requests alike */
	ok(acl_add(&a, "198.51.100.0/24", err, sizeof(err)) == 0, "add an entry without key");
	ok(acl_match(&a, peer("198.51.100.1")), "no key needed: unsigned request matches");
	ok(acl_match_key(&a, peer("198.51.100.1"), key("anything")),
	   "no key needed: a request signed with any key matches");

	/* the same prefix twice, with two keys: either key works */
	ok(acl_add(&a, "192.0.2.0/24\tkey\tsecond.key", err, sizeof(err)) == 0,
	   "tabs separate 'key' too");
	ok(acl_match_key(&a, peer("192.0.2.1"), key("second.key")), "second key matches");
	ok(acl_match_key(&a, peer("192.0.2.1"), key("xfr-key")), "first key still matches");

	ok(acl_add(&a, "2001:db8::/32 key k6", err, sizeof(err)) == 0 &&
	       acl_match_key(&a, peer("2001:db8::5"), key("k6")) &&
	       !acl_match(&a, peer("2001:db8::5")),
	   "an IPv6 key entry needs the key too");

	/* malformed key suffixes */
	{
		static const char *bad[] = {
		    "192.0.2.0/24 key",	    "192.0.2.0/24 key ",     "192.0.2.0/24 key a b",
		    "192.0.2.0/24 keys a",  "192.0.2.0/24 kex a",    "192.0.2.0/24 keyname",
		    "192.0.2.0/24 a key b", "192.0.2.0/24 key a..b", "192.0.2.0/24 key .a",
		    "10.0.0.1/8 key a",	    "192.0.2.0/33 key a",
		};
		size_t i, n0 = a.n;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ok(acl_add(&a, bad[i], err, sizeof(err)) == ERR_SYNTAX && a.n == n0,
			   "'%s' refused: %s", bad[i], err);
	}
	/* a key name at the label limit: 63 octets accepted, 64 refused */
	{
		char spec[200];
		char label[65];

		memset(label, 'k', 64);
		label[63] = '\0';
		snprintf(spec, sizeof(spec), "192.0.2.0/24 key %s", label);
		ok(acl_add(&a, spec, err, sizeof(err)) == 0, "a 63-octet key label is accepted");
		label[63] = 'k';
		label[64] = '\0';
		snprintf(spec, sizeof(spec), "192.0.2.0/24 key %s", label);
		ok(acl_add(&a, spec, err, sizeof(err)) == ERR_SYNTAX,
		   "a 64-octet key label is refused");
	}
	/* a key name at the name limit: 255 octets accepted, 256 refused
	 * (RFC 1035 §2.3.4); three 63-octet labels and one of 61 or 62 */
	{
		char spec[400], l63[64], l61[62];
		int r;

		memset(l63, 'a', 63);
		l63[63] = '\0';
		memset(l61, 'b', 61);
		l61[61] = '\0';
		snprintf(spec, sizeof(spec), "192.0.2.0/24 key %s.%s.%s.%s", l63, l63, l63, l61);
		r = acl_add(&a, spec, err, sizeof(err));
		ok(r == 0, "a 255-octet key name is accepted: %s", r ? err : "");
		snprintf(spec, sizeof(spec), "192.0.2.0/24 key %s.%s.%s.%sb", l63, l63, l63, l61);
		ok(acl_add(&a, spec, err, sizeof(err)) == ERR_SYNTAX,
		   "a 256-octet key name is refused");
	}
	acl_free(&a);
}

/*
 * Regression (found in dnsd/acl.c, acl_add/acl_match_key):
 * an entry written in v4-mapped form ("allow-notify ::ffff:192.0.2.1", or
 * "::ffff:192.0.2.0/120") is stored as AF_INET6, but acl_match_key turns
 * every v4-mapped peer into AF_INET before comparing, so such an entry can
 * never match anything: NOTIFY from 192.0.2.1 is silently refused
 * whichever socket it arrives on. Fix: in acl_add, store a v4-mapped
 * entry with prefix >= 96 as AF_INET (address bytes 12..15, prefix - 96),
 * and refuse one with prefix < 96 (or store it as-is and document).
 */
static void test_v4mapped_entry(void)
{
	struct acl a;

	acl_init(&a);
	is_int(m(&a, "::ffff:192.0.2.1", "192.0.2.1"), 1, "v4-mapped entry lets in the IPv4 peer");
	is_int(m(&a, "::ffff:192.0.2.1", "::ffff:192.0.2.1"), 1,
	       "v4-mapped entry lets in the v4-mapped peer");
	is_int(m(&a, "::ffff:192.0.2.0/120", "192.0.2.77"), 1, "v4-mapped /120 covers the /24");
	acl_free(&a);
}

/*
 * Regression (found in dnsd/acl.c, split_key; security):
 * "key ." and "key @" parse to the root name, whose wire form starts with
 * 0, which acl_entry.key uses to mean "no key". So
 *	allow-transfer 0.0.0.0/0 key .
 * is accepted and lets every unsigned peer transfer every zone (the
 * entry prints back as "0.0.0.0/0"). Fix: in split_key, refuse a key name
 * of zero labels (key[0] == 0 after dname_parse_text) with ERR_SYNTAX.
 */
static void test_root_key(void)
{
	struct acl a;
	char err[256];

	acl_init(&a);
	is_int(acl_add(&a, "0.0.0.0/0 key .", err, sizeof(err)), ERR_SYNTAX, "key . refused");
	is_int(acl_add(&a, "0.0.0.0/0 key @", err, sizeof(err)), ERR_SYNTAX, "key @ refused");
	ok(!acl_match(&a, peer("198.51.100.1")), "no unsigned peer let in");
	acl_free(&a);
}

int main(void)
{
	test_parse();
	test_match();
	test_list();
	test_keys();
	test_v4mapped_entry();
	test_root_key();
	return done_testing();
}
