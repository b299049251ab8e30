/*
 * test_msg.c: DNS message parsing and building (common/msg.c).
 *
 *  - header and query parsing, EDNS0 and TSIG placement rules;
 *  - limits at N and N+1: label 63/64, name 255/256 (plain and through a
 *    pointer), the counts against the message size, RDLENGTH, the 512-octet
 *    message, reserved OPT space, compression offsets 0x3fff/0x4000;
 *  - compression: exact bytes for the common cases, and over large messages
 *    every pointer points backwards, below 0x4000, at a name whose labels
 *    equal the ones it replaces;
 *  - truncation: a rollback leaves no partial RRset and no pointer into
 *    dropped bytes;
 *  - parse -> build -> parse round trips through msg_rr_next;
 *  - every tests/vectors/<name>.hex file, whose first line names the result
 *    msg_parse_query() must return.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "msg.h"
#include "rdata.h"
#include "tap.h"

/* ---- helpers ---- */

static size_t wname(uint8_t *out, const char *text)
{
	int n = dname_parse_text(text, strlen(text), NULL, out);

	if (n < 0) {
		fprintf(stderr, "bad test name %s\n", text);
		abort();
	}
	return (size_t)n;
}

/* Writes a header into p. */
static void put_hdr(uint8_t *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
		    uint16_t ar)
{
	uint16_t v[6] = {id, flags, qd, an, ns, ar};

	for (int i = 0; i < 6; i++) {
		p[2 * i] = (uint8_t)(v[i] >> 8);
		p[2 * i + 1] = (uint8_t)v[i];
	}
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t put_rrfix(uint8_t *p, uint16_t type, uint16_t cls, uint32_t ttl, uint16_t rdlen)
{
	put16(p, type);
	put16(p + 2, cls);
	p[4] = (uint8_t)(ttl >> 24);
	p[5] = (uint8_t)(ttl >> 16);
	p[6] = (uint8_t)(ttl >> 8);
	p[7] = (uint8_t)ttl;
	put16(p + 8, rdlen);
	return 10;
}

/* A query "name type IN" in pkt; returns its length. */
static size_t mkquery(uint8_t *pkt, const char *qname, uint16_t qtype, uint16_t ar)
{
	size_t n;

	put_hdr(pkt, 0x4242, DNS_FLAG_RD, 1, 0, 0, ar);
	n = DNS_HEADER_LEN + wname(pkt + DNS_HEADER_LEN, qname);
	n += put16(pkt + n, qtype);
	n += put16(pkt + n, RRCLASS_IN);
	return n;
}

/*
 * Walks every name of a message the way a strict reader would and checks
 * each compression pointer: it points strictly before the pointer itself
 * and below 0x4000 (14 bits cannot say more, so the real check is that
 * it was never meant to be more: the decoded names are compared by the
 * callers). Returns the number of pointers seen, or -1 on a violation.
 */
static int check_pointers_in_name(const uint8_t *m, size_t len, size_t pos, size_t *end)
{
	int ptrs = 0;
	bool jumped = false;

	while (pos < len) {
		uint8_t c = m[pos];

		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len)
				return -1;
			to = (size_t)(c & 0x3f) << 8 | m[pos + 1];
			if (to >= pos || to > DNS_COMPRESS_MAXOFF)
				return -1;
			if (!jumped)
				*end = pos + 2;
			jumped = true;
			ptrs++;
			pos = to;
			continue;
		}
		if (c == 0) {
			if (!jumped)
				*end = pos + 1;
			return ptrs;
		}
		pos += 1u + c;
	}
	return -1;
}

static int check_pointers(const uint8_t *m, size_t len)
{
	struct msg_header h;
	size_t pos = DNS_HEADER_LEN, end;
	int total = 0, n;

	if (msg_parse_header(m, len, &h) < 0)
		return -1;
	for (unsigned i = 0; i < h.qdcount; i++) {
		if ((n = check_pointers_in_name(m, len, pos, &end)) < 0)
			return -1;
		total += n;
		pos = end + 4;
	}
	for (unsigned i = 0; i < (unsigned)h.ancount + h.nscount + h.arcount; i++) {
		uint16_t type, rdlen;

		if ((n = check_pointers_in_name(m, len, pos, &end)) < 0)
			return -1;
		total += n;
		pos = end;
		if (pos + 10 > len)
			return -1;
		type = wire_get_u16(m + pos);
		rdlen = wire_get_u16(m + pos + 8);
		pos += 10;
		if (type == RRTYPE_NS || type == RRTYPE_CNAME || type == RRTYPE_PTR ||
		    type == RRTYPE_MX || type == RRTYPE_SOA) {
			size_t p = pos + (type == RRTYPE_MX ? 2 : 0);

			if ((n = check_pointers_in_name(m, len, p, &end)) < 0)
				return -1;
			total += n;
			if (type == RRTYPE_SOA) {
				if ((n = check_pointers_in_name(m, len, end, &end)) < 0)
					return -1;
				total += n;
			}
		}
		pos += rdlen;
	}
	return pos == len ? total : -1;
}

/* ---- header and query parsing ---- */

static void test_header(void)
{
	uint8_t pkt[12];
	struct msg_header h;

	put_hdr(pkt, 0xbeef, 0x8180, 1, 2, 3, 0xffff);
	is_int(msg_parse_header(pkt, 11, &h), ERR_TRUNCATED, "header: 11 octets truncated");
	is_int(msg_parse_header(pkt, 12, &h), 0, "header: 12 octets ok");
	is_int(h.id, 0xbeef, "id");
	is_int(h.flags, 0x8180, "flags");
	is_int(h.qdcount, 1, "qdcount");
	is_int(h.ancount, 2, "ancount");
	is_int(h.nscount, 3, "nscount");
	is_int(h.arcount, 0xffff, "arcount");
	is_int(DNS_OPCODE(0x2400), OPCODE_NOTIFY, "DNS_OPCODE");
	is_int(DNS_RCODE(0x8183), RCODE_NXDOMAIN, "DNS_RCODE");
}

static void test_query_basic(void)
{
	uint8_t pkt[512], want[DNAME_MAXLEN];
	struct msg_query q;
	size_t n;

	n = mkquery(pkt, "WwW.Example.COM.", RRTYPE_AAAA, 0);
	is_int(msg_parse_query(pkt, n, &q), 0, "plain query parses");
	is_int(q.hdr.id, 0x4242, "id");
	is_int(q.qname_len, 17, "qname length");
	wname(want, "WwW.Example.COM.");
	is_mem(q.qname, want, 17, "qname case preserved");
	is_int(q.qtype, RRTYPE_AAAA, "qtype");
	is_int(q.qclass, RRCLASS_IN, "qclass");
	is_int(q.question_end, n, "question_end");
	is_int(q.msg_end, n, "msg_end");
	ok(!q.has_edns, "no EDNS");
	ok(!q.has_tsig, "no TSIG");

	/* Every shorter prefix fails, never crashes; the header survives. */
	for (size_t i = 0; i < n; i++) {
		int r = msg_parse_query(pkt, i, &q);

		if (r >= 0 || (i >= 12 && q.hdr.id != 0x4242)) {
			ok(0, "prefix of %zu octets should fail with the header kept (got %d)", i,
			   r);
			return;
		}
	}
	ok(1, "every prefix of a good query fails cleanly");

	/* compressed QNAME: refused (documented choice) */
	put_hdr(pkt, 1, 0, 1, 0, 0, 0);
	memcpy(pkt + 12, "\xc0\x04\x00\x01\x00\x01", 6);
	is_int(msg_parse_query(pkt, 18, &q), ERR_BAD_POINTER, "compressed QNAME is refused");
	is_int(q.qname_len, 0, "no qname after failure");
}

static void test_query_counts(void)
{
	uint8_t pkt[64];
	struct msg_query q;
	size_t n;

	/* 12 header + 5 (root question) + 11 (root RR, RDLENGTH 0) = 28 */
	put_hdr(pkt, 7, 0, 1, 1, 0, 0);
	n = 12;
	pkt[n++] = 0;
	n += put16(pkt + n, RRTYPE_A);
	n += put16(pkt + n, RRCLASS_IN);
	pkt[n++] = 0;
	n += put_rrfix(pkt + n, RRTYPE_TXT, RRCLASS_IN, 0, 0);
	is_int(n, 28, "minimal message is 28 octets");
	is_int(msg_parse_query(pkt, n, &q), 0, "counts exactly fit (N)");
	is_int(msg_parse_query(pkt, n - 1, &q), ERR_COUNT, "one octet short: ERR_COUNT (N+1)");
	put_hdr(pkt, 7, 0, 1, 1, 0, 1);
	is_int(msg_parse_query(pkt, n, &q), ERR_COUNT, "one more RR announced: ERR_COUNT");
	put_hdr(pkt, 7, 0, 2, 1, 0, 0);
	is_int(msg_parse_query(pkt, n, &q), ERR_COUNT, "one more question announced: ERR_COUNT");
	put_hdr(pkt, 7, 0, 0xffff, 0xffff, 0xffff, 0xffff);
	is_int(msg_parse_query(pkt, n, &q), ERR_COUNT, "all counts 65535: ERR_COUNT");
	is_int(q.hdr.qdcount, 0xffff, "header filled even on error");

	/* RDLENGTH: fits exactly (N) or one past the end (N+1). */
	put_hdr(pkt, 7, 0, 1, 1, 0, 0);
	put16(pkt + 26, 3);
	memcpy(pkt + 28, "abc", 3);
	is_int(msg_parse_query(pkt, 31, &q), 0, "RDLENGTH 3 with 3 octets");
	is_int(msg_parse_query(pkt, 30, &q), ERR_TRUNCATED, "RDLENGTH 3 with 2 octets");

	/* QDCOUNT 0 and 2: ok, no question, the caller decides */
	put_hdr(pkt, 7, 0, 0, 0, 0, 0);
	is_int(msg_parse_query(pkt, 12, &q), 0, "QDCOUNT 0 parses");
	is_int(q.qname_len, 0, "QDCOUNT 0: no qname");
	n = mkquery(pkt, "a.", RRTYPE_A, 0);
	memcpy(pkt + n, pkt + 12, n - 12);
	put_hdr(pkt, 7, 0, 2, 0, 0, 0);
	is_int(msg_parse_query(pkt, 2 * n - 12, &q), 0, "QDCOUNT 2 parses");
	is_int(q.qname_len, 0, "QDCOUNT 2: no qname");
	is_int(q.question_end, 2 * n - 12, "QDCOUNT 2: both questions walked");
	is_int(msg_parse_query(pkt, 2 * n - 13, &q), ERR_TRUNCATED,
	       "QDCOUNT 2 with the second question cut");
}

static void test_query_names(void)
{
	uint8_t pkt[700], name[DNAME_MAXLEN];
	struct msg_query q;
	size_t n;
	char text[400];

	/* label 63 ok, 64 is refused (0x40 is the extended label type) */
	memset(text, 'a', 63);
	strcpy(text + 63, ".x.");
	n = mkquery(pkt, text, RRTYPE_A, 0);
	is_int(msg_parse_query(pkt, n, &q), 0, "label of 63 octets");
	pkt[12] = 64;
	memmove(pkt + 13 + 64, pkt + 13 + 63, n - 13 - 63);
	pkt[13 + 63] = 'a';
	is_int(msg_parse_query(pkt, n + 1, &q), ERR_MALFORMED, "label of 64 octets refused");

	/* name 255 ok, 256 refused */
	for (int i = 0; i < 3; i++) {
		memset(text + 64 * i, 'a', 63);
		text[64 * i + 63] = '.';
	}
	memset(text + 192, 'b', 61);
	strcpy(text + 253, ".");
	is_int(wname(name, text), 255, "test name is 255 octets");
	n = mkquery(pkt, text, RRTYPE_A, 0);
	is_int(msg_parse_query(pkt, n, &q), 0, "QNAME of 255 octets");
	is_int(q.qname_len, 255, "qname_len 255");
	/* grow the last label to 62: 256 octets */
	put_hdr(pkt, 1, 0, 1, 0, 0, 0);
	memcpy(pkt + 12, name, 255);
	pkt[12 + 192] = 62;
	memmove(pkt + 12 + 192 + 1 + 62, pkt + 12 + 192 + 1 + 61, 1);
	pkt[12 + 192 + 62] = 'b';
	memcpy(pkt + 12 + 256, "\x00\x01\x00\x01", 4);
	is_int(msg_parse_query(pkt, 12 + 256 + 4, &q), ERR_NAME_TOO_LONG, "QNAME of 256 octets");

	/* the same limits reached through a pointer: owner = label + ptr to a
	 * 193-octet QNAME */
	for (int extra = 61; extra <= 62; extra++) {
		size_t m;

		for (int i = 0; i < 3; i++) {
			memset(text + 64 * i, 'a', 63);
			text[64 * i + 63] = '.';
		}
		text[192] = '\0';
		m = mkquery(pkt, text, RRTYPE_A, 0);
		put_hdr(pkt, 1, DNS_FLAG_QR, 1, 1, 0, 0);
		pkt[m++] = (uint8_t)extra;
		memset(pkt + m, 'c', (size_t)extra);
		m += (size_t)extra;
		pkt[m++] = 0xc0;
		pkt[m++] = 12;
		m += put_rrfix(pkt + m, RRTYPE_A, RRCLASS_IN, 60, 4);
		memcpy(pkt + m, "\x7f\0\0\1", 4);
		m += 4;
		if (extra == 61) {
			struct wire w;
			struct msg_rr rr;
			uint8_t rd[16];

			is_int(msg_parse_query(pkt, m, &q), 0, "owner of 255 via pointer");
			wire_init(&w, pkt, m);
			w.pos = q.question_end;
			rr.rdata = rd;
			rr.rdata_cap = sizeof(rd);
			is_int(msg_rr_next(&w, &rr), 0, "msg_rr_next reads it");
			is_int(rr.owner_len, 255, "owner decompressed to 255");
			is_int(w.pos, m, "cursor after the RR");
		} else {
			is_int(msg_parse_query(pkt, m, &q), ERR_NAME_TOO_LONG,
			       "owner of 256 via pointer");
		}
	}
}

static void test_query_edns(void)
{
	uint8_t pkt[512];
	struct msg_query q;
	size_t n, base;
	static const uint8_t opts[] = {0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};

	base = mkquery(pkt, "example.com.", RRTYPE_SOA, 1);
	n = base;
	pkt[n++] = 0;
	n +=
	    put_rrfix(pkt + n, RRTYPE_OPT, 4096, 0x01020000u | EDNS_FLAG_DO | 0x0123, sizeof(opts));
	memcpy(pkt + n, opts, sizeof(opts));
	n += sizeof(opts);
	is_int(msg_parse_query(pkt, n, &q), 0, "EDNS query parses");
	ok(q.has_edns, "has_edns");
	is_int(q.edns_udp_size, 4096, "udp size");
	is_int(q.edns_ext_rcode, 1, "ext rcode");
	is_int(q.edns_version, 2, "version");
	is_int(q.edns_flags, EDNS_FLAG_DO | 0x0123, "flags as sent");
	is_int(q.edns_opts_len, sizeof(opts), "options length");
	is_int(q.edns_opts_off, base + 11, "options offset");
	is_mem(pkt + q.edns_opts_off, opts, sizeof(opts), "options bytes");
	{
		size_t pos = 0;
		uint16_t code = 0, olen = 0;
		const uint8_t *od = NULL;

		is_int(msg_edns_option_next(pkt, &q, &pos, &code, &olen, &od), 1, "option 1");
		ok(code == 3 && olen == 0, "NSID, empty");
		is_int(msg_edns_option_next(pkt, &q, &pos, &code, &olen, &od), 1, "option 2");
		ok(code == 10 && olen == 8 && od == pkt + base + 11 + 8, "COOKIE, 8 octets");
		is_mem(od, opts + 8, 8, "cookie bytes");
		is_int(msg_edns_option_next(pkt, &q, &pos, &code, &olen, &od), 0, "no option 3");
		is_int(pos, sizeof(opts), "walked all options");
		q.has_edns = false;
		pos = 0;
		is_int(msg_edns_option_next(pkt, &q, &pos, &code, &olen, &od), 0,
		       "no options without OPT");
		q.has_edns = true;
		q.edns_opts_len = 11; /* cuts the cookie: the walk just ends */
		pos = 4;
		is_int(msg_edns_option_next(pkt, &q, &pos, &code, &olen, &od), 0,
		       "cut option ends the walk");
	}

	/* an option that runs past RDATA by one octet */
	put16(pkt + base + 9, sizeof(opts) - 1);
	is_int(msg_parse_query(pkt, n - 1, &q), ERR_MALFORMED, "option past RDATA (N+1)");
	/* option header alone (4 octets, length 0) is fine; 3 octets is not */
	put16(pkt + base + 9, 4);
	is_int(msg_parse_query(pkt, base + 11 + 4, &q), 0, "one empty option");
	put16(pkt + base + 9, 3);
	is_int(msg_parse_query(pkt, base + 11 + 3, &q), ERR_MALFORMED, "3-octet option header");
	put16(pkt + base + 9, 0);
	is_int(msg_parse_query(pkt, base + 11, &q), 0, "OPT without options");
	is_int(q.edns_opts_len, 0, "no options");

	/* two OPT */
	n = base + 11;
	memcpy(pkt + n, pkt + base, 11);
	n += 11;
	put_hdr(pkt, 0x4242, DNS_FLAG_RD, 1, 0, 0, 2);
	is_int(msg_parse_query(pkt, n, &q), ERR_DUP_OPT, "two OPT RRs");

	/* OPT not at root */
	n = base;
	pkt[n++] = 0xc0;
	pkt[n++] = 12;
	n += put_rrfix(pkt + n, RRTYPE_OPT, 1232, 0, 0);
	put_hdr(pkt, 0x4242, DNS_FLAG_RD, 1, 0, 0, 1);
	is_int(msg_parse_query(pkt, n, &q), ERR_MALFORMED, "OPT owner not root");

	/* OPT in the answer or authority section */
	n = base;
	pkt[n++] = 0;
	n += put_rrfix(pkt + n, RRTYPE_OPT, 1232, 0, 0);
	put_hdr(pkt, 0x4242, DNS_FLAG_RD, 1, 1, 0, 0);
	is_int(msg_parse_query(pkt, n, &q), ERR_MALFORMED, "OPT in answer");
	put_hdr(pkt, 0x4242, DNS_FLAG_RD, 1, 0, 1, 0);
	is_int(msg_parse_query(pkt, n, &q), ERR_MALFORMED, "OPT in authority");
	put_hdr(pkt, 0x4242, DNS_FLAG_RD, 1, 0, 0, 1);
	is_int(msg_parse_query(pkt, n, &q), 0, "OPT in additional");
}

static void test_query_tsig(void)
{
	uint8_t pkt[512];
	struct msg_query q;
	size_t n, base, tsig_at;

	base = mkquery(pkt, "example.com.", RRTYPE_AXFR, 2);
	n = base;
	pkt[n++] = 0; /* OPT */
	n += put_rrfix(pkt + n, RRTYPE_OPT, 1232, 0, 0);
	tsig_at = n;
	n += wname(pkt + n, "key.");
	n += put_rrfix(pkt + n, RRTYPE_TSIG, RRCLASS_ANY, 0, 3);
	memcpy(pkt + n, "xyz", 3);
	n += 3;
	is_int(msg_parse_query(pkt, n, &q), 0, "OPT then TSIG");
	ok(q.has_tsig && q.has_edns, "both seen");
	is_int(q.tsig_off, tsig_at, "tsig_off at the TSIG owner");

	/* TSIG first, OPT last */
	n = base;
	n += wname(pkt + n, "key.");
	n += put_rrfix(pkt + n, RRTYPE_TSIG, RRCLASS_ANY, 0, 0);
	pkt[n++] = 0;
	n += put_rrfix(pkt + n, RRTYPE_OPT, 1232, 0, 0);
	is_int(msg_parse_query(pkt, n, &q), ERR_MALFORMED, "TSIG not last");

	/* TSIG in the answer section */
	n = base;
	n += wname(pkt + n, "key.");
	n += put_rrfix(pkt + n, RRTYPE_TSIG, RRCLASS_ANY, 0, 0);
	put_hdr(pkt, 0x4242, 0, 1, 1, 0, 0);
	is_int(msg_parse_query(pkt, n, &q), ERR_MALFORMED, "TSIG in answer");

	/* two TSIG: the first is not last */
	n = base;
	for (int i = 0; i < 2; i++) {
		n += wname(pkt + n, "key.");
		n += put_rrfix(pkt + n, RRTYPE_TSIG, RRCLASS_ANY, 0, 0);
	}
	put_hdr(pkt, 0x4242, 0, 1, 0, 0, 2);
	is_int(msg_parse_query(pkt, n, &q), ERR_MALFORMED, "two TSIG");
}

static void test_skip_question_and_rr_next(void)
{
	uint8_t pkt[512], rd[64];
	struct wire w;
	struct msg_rr rr;
	size_t n;

	n = mkquery(pkt, "a.example.", RRTYPE_MX, 0);
	wire_init(&w, pkt, n);
	w.pos = 12;
	is_int(msg_skip_question(&w), 0, "skip question");
	is_int(w.pos, n, "after the question");
	wire_init(&w, pkt, n - 1);
	w.pos = 12;
	is_int(msg_skip_question(&w), ERR_TRUNCATED, "skip a cut question");
	wire_init(&w, pkt, n);
	w.err = ERR_MALFORMED;
	is_int(msg_skip_question(&w), ERR_MALFORMED, "skip keeps an earlier error");

	/* An MX with a compressed exchange, decompressed by msg_rr_next. */
	pkt[n++] = 0xc0;
	pkt[n++] = 12;
	n += put_rrfix(pkt + n, RRTYPE_MX, RRCLASS_IN, 3600, 2 + 4 + 2);
	n += put16(pkt + n, 10);
	memcpy(pkt + n, "\x03mx1\xc0\x0e", 6); /* mx1.example. */
	n += 6;
	put_hdr(pkt, 1, DNS_FLAG_QR, 1, 1, 0, 0);
	wire_init(&w, pkt, n);
	w.pos = 12;
	msg_skip_question(&w);
	rr.rdata = rd;
	rr.rdata_cap = sizeof(rd);
	is_int(msg_rr_next(&w, &rr), 0, "rr_next MX");
	is_int(rr.type, RRTYPE_MX, "type MX");
	is_int(rr.ttl, 3600, "ttl");
	is_int(rr.rdlen, 2 + 13, "rdata decompressed to 15 octets");
	is_mem(rd,
	       "\x00\x0a\x03mx1\x07"
	       "example\x00",
	       15, "MX rdata");
	is_int(w.pos, n, "cursor after the RR");
	is_int(msg_rr_next(&w, &rr), ERR_TRUNCATED, "no more RR: truncated");
	is_int(msg_rr_next(&w, &rr), ERR_TRUNCATED, "error is sticky");

	/* RDLENGTH one past the end */
	put16(pkt + n - 8 - 2, 9);
	wire_init(&w, pkt, n);
	w.pos = 12;
	msg_skip_question(&w);
	is_int(msg_rr_next(&w, &rr), ERR_TRUNCATED, "rr_next RDLENGTH past end");
	put16(pkt + n - 8 - 2, 8);

	/* a buffer too small for the decompressed RDATA fails, never overflows */
	memset(rd, 0x5a, sizeof(rd));
	rr.rdata_cap = 14;
	wire_init(&w, pkt, n);
	w.pos = 12;
	msg_skip_question(&w);
	ok(msg_rr_next(&w, &rr) < 0, "rr_next with rdata_cap 14 < 15 fails");
	is_int(rd[14], 0x5a, "nothing written past rdata_cap");
}

/* ---- builder ---- */

static void test_build_query_roundtrip(void)
{
	uint8_t buf[512], qn[DNAME_MAXLEN];
	static const uint8_t opts[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	struct msg_build b;
	struct msg_query q;
	size_t n, qlen;

	qlen = wname(qn, "Www.Example.Org.");
	msg_build_init(&b, buf, sizeof(buf), 512);
	msg_build_header(&b, 0xabcd, DNS_FLAG_RD | DNS_FLAG_CD);
	is_int(msg_build_question(&b, qn, RRTYPE_TXT, RRCLASS_IN), 0, "question");
	is_int(msg_build_opt(&b, 1232, 0, 0, EDNS_FLAG_DO, opts, sizeof(opts)), 0, "opt");
	n = msg_build_finish(&b);
	is_int(n, 12 + qlen + 4 + 11 + sizeof(opts), "query length");
	is_int(msg_build_flags(&b), DNS_FLAG_RD | DNS_FLAG_CD, "flags read back");
	is_int(msg_parse_query(buf, n, &q), 0, "built query parses");
	is_int(q.hdr.id, 0xabcd, "id");
	is_int(q.hdr.qdcount, 1, "qdcount");
	is_int(q.hdr.arcount, 1, "arcount");
	is_int(q.qname_len, qlen, "qname length");
	is_mem(q.qname, qn, qlen, "qname bytes, case kept");
	is_int(q.qtype, RRTYPE_TXT, "qtype");
	ok(q.has_edns && q.edns_flags == EDNS_FLAG_DO && q.edns_udp_size == 1232, "EDNS fields");
	is_int(q.edns_opts_len, sizeof(opts), "options length");
	is_mem(buf + q.edns_opts_off, opts, sizeof(opts), "options bytes");

	msg_build_set_flags(&b, DNS_FLAG_QR | DNS_FLAG_TC | RCODE_REFUSED);
	is_int(msg_build_flags(&b), DNS_FLAG_QR | DNS_FLAG_TC | RCODE_REFUSED, "set_flags");

	/* a malformed name is refused, not copied */
	msg_build_init(&b, buf, sizeof(buf), 512);
	msg_build_header(&b, 1, 0);
	qn[0] = 64;
	is_int(msg_build_question(&b, qn, RRTYPE_A, RRCLASS_IN), ERR_MALFORMED,
	       "question with a 64-octet label refused");
	is_int(b.w.pos, 12, "nothing written");
}

static void test_build_compression_bytes(void)
{
	uint8_t buf[512], qn[DNAME_MAXLEN], o[DNAME_MAXLEN], rd[DNAME_MAXLEN + 2];
	struct msg_build b;
	size_t n, rl;

	wname(qn, "WWW.Example.com.");
	msg_build_init(&b, buf, sizeof(buf), 512);
	msg_build_header(&b, 1, DNS_FLAG_QR | DNS_FLAG_AA);
	msg_build_question(&b, qn, RRTYPE_A, RRCLASS_IN);
	n = b.w.pos;
	wname(o, "www.example.com.");
	is_int(msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 300,
			    (const uint8_t *)"\x01\x02\x03\x04", 4),
	       0, "A rr");
	is_mem(buf + n, "\xc0\x0c", 2, "owner equal to QNAME (other case) is a pointer to 12");
	is_int(b.w.pos, n + 2 + 10 + 4, "A rr size with a compressed owner");

	n = b.w.pos;
	wname(o, "mail.example.com.");
	msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 300,
		     (const uint8_t *)"\x01\x02\x03\x04", 4);
	is_mem(buf + n, "\x04mail\xc0\x10", 7, "mail.example.com = label + pointer to 16");

	n = b.w.pos;
	wname(o, "x.mail.example.com.");
	msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 300,
		     (const uint8_t *)"\x01\x02\x03\x04", 4);
	is_mem(buf + n, "\x01x\xc0\x31", 4, "x.mail.example.com points at the mail label at 49");

	n = b.w.pos;
	wname(o, "example.net.");
	msg_build_rr(&b, SEC_AUTHORITY, o, RRTYPE_A, RRCLASS_IN, 300,
		     (const uint8_t *)"\x01\x02\x03\x04", 4);
	is_mem(buf + n,
	       "\x07"
	       "example\x03net\x00",
	       13, "no common suffix: written in full");

	/* MX exchange in RDATA is compressed (RFC 3597 §4) */
	n = b.w.pos;
	wname(o, "example.com.");
	rd[0] = 0;
	rd[1] = 10;
	rl = 2 + wname(rd + 2, "mail.example.com.");
	is_int(msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_MX, RRCLASS_IN, 300, rd, (uint16_t)rl), 0,
	       "MX rr");
	is_mem(buf + n, "\xc0\x10\x00\x0f\x00\x01\x00\x00\x01\x2c\x00\x04\x00\x0a\xc0\x31", 16,
	       "MX: owner pointer, RDLENGTH 4, preference, exchange pointer");

	/* a type whose names must not be compressed (SRV, RFC 2782) */
	n = b.w.pos;
	memcpy(rd, "\x00\x01\x00\x02\x00\x03", 6);
	rl = 6 + wname(rd + 6, "mail.example.com.");
	msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_SRV, RRCLASS_IN, 300, rd, (uint16_t)rl);
	is_int(wire_get_u16(buf + n + 2 + 8), rl, "SRV RDATA written uncompressed");
	is_mem(buf + n + 12, rd, rl, "SRV RDATA bytes");

	/* a root owner is one octet */
	n = b.w.pos;
	msg_build_rr(&b, SEC_ADDITIONAL, (const uint8_t *)"", RRTYPE_A, RRCLASS_IN, 0,
		     (const uint8_t *)"\x01\x02\x03\x04", 4);
	is_int(b.w.pos - n, 1 + 10 + 4, "root owner");

	n = msg_build_finish(&b);
	ok(check_pointers(buf, n) > 0, "all pointers backwards and below 0x4000");
	{
		struct msg_query q;

		is_int(msg_parse_query(buf, n, &q), 0, "message parses");
		is_int(q.hdr.ancount, 5, "ancount");
		is_int(q.hdr.nscount, 1, "nscount");
		is_int(q.hdr.arcount, 1, "arcount");
	}
}

/* Writes a padding RR (root owner, a private type, no names in RDATA) that
 * brings the message to exactly target octets. */
static int pad_to(struct msg_build *b, size_t target)
{
	static uint8_t zeros[65535];
	size_t need;

	if (target < b->w.pos + 11)
		return -1;
	need = target - b->w.pos - 11;
	return msg_build_rr(b, SEC_ANSWER, (const uint8_t *)"", 65280, RRCLASS_IN, 0, zeros,
			    (uint16_t)need);
}

static void test_build_compress_limit(void)
{
	static uint8_t buf[65535];
	uint8_t o[DNAME_MAXLEN], q[DNAME_MAXLEN];
	struct msg_build b;
	size_t olen = wname(o, "uniq.test.");

	/* A name starting at 0x3fff (N) is a target; at 0x4000 (N+1) it is not. */
	for (size_t at = DNS_COMPRESS_MAXOFF; at <= DNS_COMPRESS_MAXOFF + 1; at++) {
		struct msg_query mq;
		size_t p2, n;

		msg_build_init(&b, buf, sizeof(buf), DNS_TCP_MAXSIZE);
		msg_build_header(&b, 1, DNS_FLAG_QR);
		msg_build_question(&b, (const uint8_t *)"", RRTYPE_A, RRCLASS_IN);
		is_int(pad_to(&b, at), 0, "padding to %zu", at);
		is_int(b.w.pos, at, "at %zu", at);
		msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 0,
			     (const uint8_t *)"\1\2\3\4", 4);
		p2 = b.w.pos;
		msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 0,
			     (const uint8_t *)"\1\2\3\4", 4);
		if (at == DNS_COMPRESS_MAXOFF)
			is_mem(buf + p2, "\xff\xff", 2, "name at 0x3fff: pointer 0xffff");
		else
			is_mem(buf + p2, o, olen, "name at 0x4000: written in full again");
		n = msg_build_finish(&b);
		ok(check_pointers(buf, n) >= 0, "pointers valid (name at %#zx)", at);
		is_int(msg_parse_query(buf, n, &mq), 0, "parses (name at %#zx)", at);
	}

	/* A suffix of a name that straddles 0x4000: "a.b.test." at 0x3ffd has
	 * its "b" label at 0x3fff and "test" at 0x4001; "x.b.test." must
	 * point at 0x3fff, "y.test." cannot point into it at all. */
	msg_build_init(&b, buf, sizeof(buf), DNS_TCP_MAXSIZE);
	msg_build_header(&b, 1, DNS_FLAG_QR);
	msg_build_question(&b, (const uint8_t *)"", RRTYPE_A, RRCLASS_IN);
	pad_to(&b, 0x3ffd);
	wname(q, "a.b.test.");
	msg_build_rr(&b, SEC_ANSWER, q, RRTYPE_A, RRCLASS_IN, 0, (const uint8_t *)"\1\2\3\4", 4);
	{
		size_t p = b.w.pos, n;
		struct wire w;
		struct msg_rr rr;
		static uint8_t rd[65535];

		wname(q, "x.b.test.");
		msg_build_rr(&b, SEC_ANSWER, q, RRTYPE_A, RRCLASS_IN, 0,
			     (const uint8_t *)"\1\2\3\4", 4);
		is_mem(buf + p, "\x01x\xff\xff", 4, "x.b.test. -> x + pointer to 0x3fff");
		p = b.w.pos;
		wname(q, "y.test.");
		msg_build_rr(&b, SEC_ANSWER, q, RRTYPE_A, RRCLASS_IN, 0,
			     (const uint8_t *)"\1\2\3\4", 4);
		is_mem(buf + p, "\x01y\x04test\x00", 8, "y.test. written in full");
		n = msg_build_finish(&b);
		ok(check_pointers(buf, n) >= 0, "pointers valid around 0x4000");
		/* decode them all back */
		wire_init(&w, buf, n);
		w.pos = 12;
		msg_skip_question(&w);
		rr.rdata = rd;
		rr.rdata_cap = sizeof(rd);
		msg_rr_next(&w, &rr); /* padding */
		msg_rr_next(&w, &rr);
		wname(q, "a.b.test.");
		ok(dname_equal(rr.owner, q), "a.b.test. back");
		msg_rr_next(&w, &rr);
		wname(q, "x.b.test.");
		ok(dname_equal(rr.owner, q), "x.b.test. back");
		msg_rr_next(&w, &rr);
		wname(q, "y.test.");
		ok(dname_equal(rr.owner, q), "y.test. back");
		is_int(w.err, 0, "no error");
	}
}

static void test_build_512(void)
{
	uint8_t buf[1024], zeros[512] = {0}, qn[DNAME_MAXLEN];
	struct msg_build b;
	struct msg_mark mk;
	size_t fill;

	wname(qn, "example.com.");
	/* 12 + 17 question = 29; an RR with a pointer owner is 12 + rdlen. */
	fill = 512 - 29 - 12;
	for (size_t extra = 0; extra <= 1; extra++) {
		msg_build_init(&b, buf, sizeof(buf), 512);
		msg_build_header(&b, 1, DNS_FLAG_QR);
		msg_build_question(&b, qn, RRTYPE_TXT, RRCLASS_IN);
		is_int(msg_build_rr(&b, SEC_ANSWER, qn, 65280, RRCLASS_IN, 0, zeros,
				    (uint16_t)(fill + extra)),
		       extra ? ERR_SPACE : 0, "RR ending at %zu octets", 512 + extra);
		is_int(msg_build_finish(&b), extra ? 29 : 512, "message length (limit 512)");
		is_int(b.counts[1], extra ? 0 : 1, "ancount");
	}

	/* limit is clamped to cap */
	msg_build_init(&b, buf, 100, 512);
	is_int(b.limit, 100, "limit clamped to cap");
	{
		static uint8_t big[70000];

		msg_build_init(&b, big, sizeof(big), sizeof(big));
		is_int(b.limit, DNS_TCP_MAXSIZE, "limit clamped to 65535");
	}

	/* reserve: 11 octets for OPT; answer may fill to 501 (N) not 502 */
	for (size_t extra = 0; extra <= 1; extra++) {
		struct msg_query q;
		struct msg_mark m;
		size_t n;

		msg_build_init(&b, buf, sizeof(buf), 512);
		msg_build_header(&b, 1, DNS_FLAG_QR);
		msg_build_question(&b, qn, RRTYPE_TXT, RRCLASS_IN);
		is_int(msg_build_reserve(&b, 11), 0, "reserve 11");
		m = msg_build_mark(&b);
		is_int(msg_build_rr(&b, SEC_ANSWER, qn, 65280, RRCLASS_IN, 0, zeros,
				    (uint16_t)(fill - 11 + extra)),
		       extra ? ERR_SPACE : 0, "answer up to %zu with 11 reserved", 501 + extra);
		if (extra)
			msg_build_rollback(&b, m);
		is_int(msg_build_opt(&b, 1232, 0, 0, 0, NULL, 0), 0, "OPT fits in the reserve");
		is_int(b.reserved, 0, "reserve used up");
		n = msg_build_finish(&b);
		is_int(n, extra ? 29 + 11 : 512, "total");
		is_int(msg_parse_query(buf, n, &q), 0, "parses");
		ok(q.has_edns, "OPT present");
	}

	/* OPT larger than the reserve: needs the rest from free space */
	msg_build_init(&b, buf, sizeof(buf), 40);
	msg_build_header(&b, 1, 0);
	mk = msg_build_mark(&b);
	is_int(msg_build_reserve(&b, 28), 0, "reserve 28 of 40 with 12 written");
	is_int(msg_build_reserve(&b, 1), ERR_SPACE, "reserve 1 more: no space");
	is_int(msg_build_rr(&b, SEC_ANSWER, (const uint8_t *)"", 1, 1, 0, NULL, 0), ERR_SPACE,
	       "nothing fits outside the reserve");
	msg_build_rollback(&b, mk);
	is_int(msg_build_opt(&b, 512, 0, 0, 0, zeros, 17), 0, "OPT of 28 fits exactly");
	msg_build_init(&b, buf, sizeof(buf), 40);
	msg_build_header(&b, 1, 0);
	msg_build_reserve(&b, 28);
	is_int(msg_build_opt(&b, 512, 0, 0, 0, zeros, 18), ERR_SPACE, "OPT of 29 does not");
	msg_build_unreserve(&b, 100);
	is_int(b.reserved, 0, "unreserve clamps at 0");

	/* header into a too small limit */
	msg_build_init(&b, buf, sizeof(buf), 11);
	msg_build_header(&b, 1, 0);
	is_int(b.w.err, ERR_SPACE, "header needs 12 octets");
	is_int(msg_build_finish(&b), 0, "empty message");
}

/* The truncation dance dnsd does: mark, add an RRset, roll back on SPACE. */
static int add_rrset(struct msg_build *b, enum msg_section sec, const uint8_t *owner, int count,
		     uint16_t txtlen, bool *tc)
{
	static uint8_t rd[300];
	struct msg_mark m = msg_build_mark(b);

	for (int i = 0; i < count; i++) {
		rd[0] = (uint8_t)(txtlen - 1);
		memset(rd + 1, 'a' + i % 26, (size_t)txtlen - 1);
		if (msg_build_rr(b, sec, owner, RRTYPE_TXT, RRCLASS_IN, 60, rd, txtlen) < 0) {
			msg_build_rollback(b, m);
			if (sec != SEC_ADDITIONAL)
				*tc = true;
			return -1;
		}
	}
	return 0;
}

static void test_build_truncation(void)
{
	uint8_t buf[512], qn[DNAME_MAXLEN], o[DNAME_MAXLEN], rd[300];
	struct msg_build b;
	struct msg_mark m;
	bool tc = false;
	int added = 0;
	size_t n, before;

	wname(qn, "t.example.");
	msg_build_init(&b, buf, sizeof(buf), 512);
	msg_build_header(&b, 9, DNS_FLAG_QR | DNS_FLAG_AA);
	msg_build_question(&b, qn, RRTYPE_TXT, RRCLASS_IN);
	msg_build_reserve(&b, 11);
	/* RRsets of 3 TXT of 40 octets each, owners set0.t.example. ... */
	for (int s = 0; s < 20 && !tc; s++) {
		char name[32];

		snprintf(name, sizeof(name), "set%d.t.example.", s);
		wname(o, name);
		if (add_rrset(&b, SEC_ANSWER, o, 3, 40, &tc) == 0)
			added++;
	}
	ok(tc, "eventually truncated");
	ok(added > 0, "some RRsets fit (%d)", added);
	is_int(b.counts[1], 3 * added, "only whole RRsets counted");
	is_int(b.w.err, 0, "rollback cleared the error");
	msg_build_unreserve(&b, 11);
	is_int(msg_build_opt(&b, 1232, 0, 0, 0, NULL, 0), 0, "OPT still fits");
	if (tc)
		msg_build_set_flags(&b, msg_build_flags(&b) | DNS_FLAG_TC);
	n = msg_build_finish(&b);
	ok(n <= 512, "within 512 (%zu)", n);
	ok(check_pointers(buf, n) > 0, "pointers valid");
	{
		struct msg_query q;
		struct wire w;
		struct msg_rr rr;
		uint8_t rdo[300];
		int per[20] = {0}, bad = 0;

		is_int(msg_parse_query(buf, n, &q), 0, "truncated message parses");
		ok(q.hdr.flags & DNS_FLAG_TC, "TC set");
		ok(q.has_edns, "OPT kept");
		wire_init(&w, buf, n);
		w.pos = q.question_end;
		rr.rdata = rdo;
		rr.rdata_cap = sizeof(rdo);
		for (int i = 0; i < q.hdr.ancount; i++) {
			int s = -1;

			if (msg_rr_next(&w, &rr) < 0 ||
			    sscanf((char *)rr.owner + 1, "set%d", &s) != 1 || s < 0 || s >= 20) {
				bad++;
				continue;
			}
			per[s]++;
		}
		for (int s = 0; s < 20; s++)
			if (per[s] != 0 && per[s] != 3)
				bad++;
		is_int(bad, 0, "every RRset in the answer is complete");
	}

	/* sticky: after ERR_SPACE a small RR must not slip in */
	msg_build_init(&b, buf, sizeof(buf), 100);
	msg_build_header(&b, 9, DNS_FLAG_QR);
	m = msg_build_mark(&b);
	memset(rd, 0, sizeof(rd));
	is_int(msg_build_rr(&b, SEC_ANSWER, qn, RRTYPE_TXT, RRCLASS_IN, 0, rd, 200), ERR_SPACE,
	       "big RR fails");
	is_int(b.w.pos, 12, "a failed RR leaves nothing");
	is_int(msg_build_rr(&b, SEC_ANSWER, qn, RRTYPE_A, RRCLASS_IN, 0, rd, 4), ERR_SPACE,
	       "sticky: small RR refused too");
	msg_build_rollback(&b, m);
	is_int(msg_build_rr(&b, SEC_ANSWER, qn, RRTYPE_A, RRCLASS_IN, 0, rd, 4), 0,
	       "after rollback it fits");

	/* rollback forgets compression targets written after the mark */
	msg_build_init(&b, buf, sizeof(buf), 512);
	msg_build_header(&b, 9, DNS_FLAG_QR);
	msg_build_question(&b, qn, RRTYPE_A, RRCLASS_IN);
	m = msg_build_mark(&b);
	before = b.w.pos;
	wname(o, "gone.example.org.");
	msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 0, rd, 4);
	msg_build_rollback(&b, m);
	is_int(b.w.pos, before, "rollback restores pos");
	is_int(b.ncompress, m.ncompress, "rollback forgets compression targets");
	is_int(b.counts[1], 0, "rollback restores counts");
	/* overwrite the dropped bytes with another name, then reuse the old */
	wname(o, "zzzz.example.net.");
	msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 0, rd, 4);
	wname(o, "gone.example.org.");
	msg_build_rr(&b, SEC_ANSWER, o, RRTYPE_A, RRCLASS_IN, 0, rd, 4);
	n = msg_build_finish(&b);
	{
		struct wire w;
		struct msg_rr rr;
		uint8_t rdo[16];

		wire_init(&w, buf, n);
		w.pos = 12;
		msg_skip_question(&w);
		rr.rdata = rdo;
		rr.rdata_cap = sizeof(rdo);
		msg_rr_next(&w, &rr);
		wname(o, "zzzz.example.net.");
		ok(dname_equal(rr.owner, o), "first owner back");
		msg_rr_next(&w, &rr);
		wname(o, "gone.example.org.");
		ok(dname_equal(rr.owner, o), "re-added owner decodes right (no stale pointer)");
	}

	/* a mark from the future is ignored */
	m = msg_build_mark(&b);
	m.pos += 100;
	msg_build_rollback(&b, m);
	is_int(b.w.pos, n, "rollback to a later mark is ignored");
}

/* parse -> build -> parse over a response with many types. */
struct rrspec {
	enum msg_section sec;
	const char *owner;
	uint16_t type;
	const char *rdata; /* presentation form */
};

static const struct rrspec rrs[] = {
    {SEC_ANSWER, "www.example.com.", RRTYPE_CNAME, "web.example.com."},
    {SEC_ANSWER, "web.example.com.", RRTYPE_A, "192.0.2.1"},
    {SEC_ANSWER, "web.example.com.", RRTYPE_A, "192.0.2.2"},
    {SEC_ANSWER, "web.example.com.", RRTYPE_AAAA, "2001:db8::1"},
    {SEC_ANSWER, "example.com.", RRTYPE_MX, "10 mail.example.com."},
    {SEC_ANSWER, "example.com.", RRTYPE_TXT, "\"v=spf1 -all\" \"second\""},
    {SEC_ANSWER, "_sip._tcp.example.com.", RRTYPE_SRV, "0 5 5060 sip.example.com."},
    {SEC_ANSWER, "2.2.0.192.in-addr.arpa.", RRTYPE_PTR, "web.example.com."},
    {SEC_AUTHORITY, "example.com.", RRTYPE_SOA,
     "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"},
    {SEC_AUTHORITY, "example.com.", RRTYPE_NS, "ns1.example.com."},
    {SEC_AUTHORITY, "example.com.", RRTYPE_NS, "ns2.example.net."},
    {SEC_ADDITIONAL, "ns1.example.com.", RRTYPE_A, "192.0.2.53"},
    {SEC_ADDITIONAL, "mail.example.com.", RRTYPE_AAAA, "2001:db8::25"},
};
#define NRRS (sizeof(rrs) / sizeof(rrs[0]))

static void test_roundtrip(void)
{
	static uint8_t buf[4096], buf2[4096];
	uint8_t qn[DNAME_MAXLEN], o[DNAME_MAXLEN], rd[512];
	struct msg_build b;
	struct msg_query q;
	struct wire w;
	struct msg_rr rr;
	size_t n, n2, unc = 12;
	int r, fails = 0;

	wname(qn, "www.example.com.");
	msg_build_init(&b, buf, sizeof(buf), sizeof(buf));
	msg_build_header(&b, 77, DNS_FLAG_QR | DNS_FLAG_AA);
	msg_build_question(&b, qn, RRTYPE_A, RRCLASS_IN);
	unc += dname_len(qn) + 4;
	for (size_t i = 0; i < NRRS; i++) {
		size_t ol = wname(o, rrs[i].owner);

		r = rdata_parse_text(rrs[i].type, rrs[i].rdata, strlen(rrs[i].rdata), NULL, rd,
				     sizeof(rd), NULL);
		if (r < 0) {
			ok(0, "rdata_parse_text %s: %s", rrs[i].rdata, err_str(r));
			return;
		}
		unc += ol + 10 + (size_t)r;
		if (msg_build_rr(&b, rrs[i].sec, o, rrs[i].type, RRCLASS_IN, 3600, rd,
				 (uint16_t)r) < 0)
			fails++;
	}
	is_int(fails, 0, "all RRs built");
	msg_build_opt(&b, 1232, 0, 0, EDNS_FLAG_DO, NULL, 0);
	n = msg_build_finish(&b);
	ok(n < unc, "compression saved space (%zu < %zu)", n, unc);
	ok(check_pointers(buf, n) > 0, "pointers valid");
	is_int(msg_parse_query(buf, n, &q), 0, "response parses");
	is_int(q.hdr.ancount + q.hdr.nscount + q.hdr.arcount, NRRS + 1, "counts");

	/* parse each RR back and compare with the input; rebuild as we go */
	wire_init(&w, buf, n);
	w.pos = q.question_end;
	rr.rdata = rd;
	rr.rdata_cap = sizeof(rd);
	msg_build_init(&b, buf2, sizeof(buf2), sizeof(buf2));
	msg_build_header(&b, q.hdr.id, q.hdr.flags);
	msg_build_question(&b, q.qname, q.qtype, q.qclass);
	fails = 0;
	for (size_t i = 0; i < NRRS; i++) {
		uint8_t want[512];
		int wl;

		if (msg_rr_next(&w, &rr) < 0) {
			fails++;
			break;
		}
		wname(o, rrs[i].owner);
		wl = rdata_parse_text(rrs[i].type, rrs[i].rdata, strlen(rrs[i].rdata), NULL, want,
				      sizeof(want), NULL);
		if (!dname_equal(rr.owner, o) || rr.type != rrs[i].type || rr.ttl != 3600 ||
		    rr.rclass != RRCLASS_IN || (int)rr.rdlen != wl ||
		    memcmp(rr.rdata, want, (size_t)wl) != 0) {
			ok(0, "RR %zu (%s %s) differs after the round trip", i, rrs[i].owner,
			   rrs[i].rdata);
			fails++;
		}
		msg_build_rr(&b, rrs[i].sec, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
			     rr.rdlen);
	}
	is_int(fails, 0, "every RR reads back as written");
	ok(msg_rr_next(&w, &rr) == 0 && rr.type == RRTYPE_OPT, "then the OPT RR");
	is_int(w.pos, n, "at the end");
	msg_build_opt(&b, 1232, 0, 0, EDNS_FLAG_DO, NULL, 0);
	n2 = msg_build_finish(&b);
	is_int(n2, n, "rebuilt message has the same length");
	ok(n2 == n && memcmp(buf, buf2, n) == 0, "rebuilt message is byte-identical");
}

/* Many names in one big TCP message: every owner must decode to itself,
 * with compression slots running out and names past 0x4000. */
static void test_build_stress(void)
{
	static uint8_t buf[65535];
	uint8_t o[DNAME_MAXLEN], rd[DNAME_MAXLEN];
	struct msg_build b;
	struct msg_query q;
	struct wire w;
	struct msg_rr rr;
	size_t n;
	int nrr = 0, bad = 0;
	char name[64];

	msg_build_init(&b, buf, sizeof(buf), DNS_TCP_MAXSIZE);
	msg_build_header(&b, 5, DNS_FLAG_QR);
	wname(o, "zone.example.");
	msg_build_question(&b, o, RRTYPE_AXFR, RRCLASS_IN);
	for (int i = 0; i < 3000; i++) {
		int rl;

		snprintf(name, sizeof(name), "h%d.s%d.zone.example.", i, i % 97);
		wname(o, name);
		snprintf(name, sizeof(name), "t%d.s%d.zone.example.", i % 50, i % 89);
		rl = (int)wname(rd, name);
		if (msg_build_rr(&b, SEC_ANSWER, o, i % 2 ? RRTYPE_CNAME : RRTYPE_NS, RRCLASS_IN,
				 60, rd, (uint16_t)rl) < 0)
			break;
		nrr++;
	}
	n = msg_build_finish(&b);
	ok(n > 0x4000 * 2, "message past 0x8000 (%zu)", n);
	ok(check_pointers(buf, n) > 0, "every pointer backwards and below 0x4000");
	is_int(msg_parse_query(buf, n, &q), 0, "parses");
	wire_init(&w, buf, n);
	w.pos = q.question_end;
	rr.rdata = rd;
	rr.rdata_cap = sizeof(rd);
	for (int i = 0; i < nrr; i++) {
		uint8_t want[DNAME_MAXLEN];

		if (msg_rr_next(&w, &rr) < 0) {
			bad++;
			break;
		}
		snprintf(name, sizeof(name), "h%d.s%d.zone.example.", i, i % 97);
		wname(want, name);
		if (!dname_equal(rr.owner, want))
			bad++;
		snprintf(name, sizeof(name), "t%d.s%d.zone.example.", i % 50, i % 89);
		wname(want, name);
		if (rr.rdlen != dname_len(want) || !dname_equal(rr.rdata, want))
			bad++;
	}
	is_int(bad, 0, "all %d owners and targets decode to what was written", nrr);
}

/* ---- vectors ---- */

static const struct {
	const char *name;
	int code;
} errnames[] = {
    {"ERR_OK", ERR_OK},
    {"ERR_MALFORMED", ERR_MALFORMED},
    {"ERR_TRUNCATED", ERR_TRUNCATED},
    {"ERR_LABEL_TOO_LONG", ERR_LABEL_TOO_LONG},
    {"ERR_NAME_TOO_LONG", ERR_NAME_TOO_LONG},
    {"ERR_BAD_POINTER", ERR_BAD_POINTER},
    {"ERR_COUNT", ERR_COUNT},
    {"ERR_DUP_OPT", ERR_DUP_OPT},
};

/* Reads a .hex vector: hex digits and blanks, '#' to end of line is a
 * comment, the first line "# expect: ERR_X". Returns the length or -1. */
static long read_vector(const char *path, uint8_t *out, size_t cap, int *expect)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t n = 0;
	int first = 1, hi = -1;

	if (f == NULL)
		return -1;
	*expect = 1; /* not an error code: "missing" */
	while (fgets(line, sizeof(line), f)) {
		char *c;

		if (first) {
			char word[64];

			first = 0;
			if (sscanf(line, "# expect: %63s", word) == 1)
				for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
					if (strcmp(word, errnames[i].name) == 0)
						*expect = errnames[i].code;
		}
		if ((c = strchr(line, '#')) != NULL)
			*c = '\0';
		for (c = line; *c; c++) {
			int v;

			if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r')
				continue;
			if (*c >= '0' && *c <= '9')
				v = *c - '0';
			else if (*c >= 'a' && *c <= 'f')
				v = *c - 'a' + 10;
			else if (*c >= 'A' && *c <= 'F')
				v = *c - 'A' + 10;
			else
				goto bad;
			if (hi < 0) {
				hi = v;
			} else {
				if (n == cap)
					goto bad;
				out[n++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
	}
	fclose(f);
	return hi < 0 ? (long)n : -1;
bad:
	fclose(f);
	return -1;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_vectors(void)
{
	const char *src = getenv("SRCDIR");
	char dir[1024], *names[256];
	int nfiles = 0, ngood = 0;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/tests/vectors", src ? src : ".");
	if ((d = opendir(dir)) == NULL) {
		ok(0, "open %s", dir);
		return;
	}
	while ((e = readdir(d)) != NULL && nfiles < 256) {
		size_t l = strlen(e->d_name);

		if (l > 4 && strcmp(e->d_name + l - 4, ".hex") == 0)
			names[nfiles++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)nfiles, sizeof(names[0]), cmpstr);
	ok(nfiles >= 30, "found %d vectors", nfiles);
	for (int i = 0; i < nfiles; i++) {
		static uint8_t pkt[65536], resp[65535];
		char path[1400];
		struct msg_query q;
		int expect, r;
		long len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		len = read_vector(path, pkt, sizeof(pkt), &expect);
		if (len < 0 || expect > 0) {
			ok(0, "%s: unreadable or no '# expect:' line", names[i]);
			free(names[i]);
			continue;
		}
		r = msg_parse_query(pkt, (size_t)len, &q);
		if (r != expect)
			printf("#   %s: got %s (%d)\n", names[i], err_str(r), r);
		is_int(r, expect, "vector %s", names[i]);
		/* good queries: echo the question in a response and re-parse */
		if (r == 0 && q.qname_len > 0) {
			struct msg_build b;
			struct msg_query q2;
			size_t n;

			msg_build_init(&b, resp, sizeof(resp), 512);
			msg_build_header(&b, q.hdr.id, q.hdr.flags | DNS_FLAG_QR);
			msg_build_question(&b, q.qname, q.qtype, q.qclass);
			msg_build_rr(&b, SEC_ANSWER, q.qname, RRTYPE_A, RRCLASS_IN, 60,
				     (const uint8_t *)"\x7f\0\0\1", 4);
			if (q.has_edns)
				msg_build_opt(&b, 1232, 0, 0, q.edns_flags & EDNS_FLAG_DO, NULL, 0);
			n = msg_build_finish(&b);
			ok(msg_parse_query(resp, n, &q2) == 0 && q2.qname_len == q.qname_len &&
			       memcmp(q2.qname, q.qname, q.qname_len) == 0 &&
			       q2.has_edns == q.has_edns && q2.hdr.ancount == 1,
			   "vector %s: response echoes the question", names[i]);
			ngood++;
		}
		free(names[i]);
	}
	ok(ngood >= 10, "%d good vectors answered", ngood);
}

int main(void)
{
	test_header();
	test_query_basic();
	test_query_counts();
	test_query_names();
	test_query_edns();
	test_query_tsig();
	test_skip_question_and_rr_next();
	test_build_query_roundtrip();
	test_build_compression_bytes();
	test_build_compress_limit();
	test_build_512();
	test_build_truncation();
	test_roundtrip();
	test_build_stress();
	test_vectors();
	return done_testing();
}
