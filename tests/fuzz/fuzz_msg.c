/*
 * fuzz_msg.c: hostile bytes through the message layer.
 *
 * 1. msg_parse_query() on the input (must never crash or hang).
 * 2. Every RR the counts announce is read with msg_rr_next() (which also
 *    runs rdata_unpack) and printed with rdata_print(), until the first
 *    error.
 * 3. When the input parsed cleanly and every RR read back, the same
 *    question and records are written again with the builder (compression
 *    and all) and the result must parse, with every RR equal to what was
 *    read from the input. A mismatch is a bug in one direction or the
 *    other: abort().
 * 4. The same response is built again under a small limit with RRset
 *    rollback, the way dnsd truncates, and must still parse.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "msg.h"
#include "rdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RDATA 65535

static uint8_t rd1[MAX_RDATA], rd2[MAX_RDATA];
static uint8_t resp[DNS_TCP_MAXSIZE];
static char text[4 * MAX_RDATA + 64];

/* Compression matches names case-insensitively (RFC 4343), so a name
 * written after an equal one in another case comes back in that case:
 * names compare folded, everything else exactly. */
static bool same_folded(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return false;
	}
	return true;
}

static bool same_rdata(uint16_t type, const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t offs[2];

	if (rdata_compressible_names(type, a, n, offs) > 0)
		return same_folded(a, b, n);
	return memcmp(a, b, n) == 0;
}

static enum msg_section section_of(const struct msg_header *h, unsigned i)
{
	if (i < h->ancount)
		return SEC_ANSWER;
	if (i < (unsigned)h->ancount + h->nscount)
		return SEC_AUTHORITY;
	return SEC_ADDITIONAL;
}

/* Builds a response from the input's question and RRs into resp, under
 * limit; with truncate set, an RR that does not fit rolls its section's
 * current RRset back (and everything after it is left out). Returns the
 * length, or 0 when the records did not fit and truncate is off. */
static size_t rebuild(const uint8_t *data, size_t size, const struct msg_query *q, size_t limit,
		      bool truncate)
{
	struct msg_build b;
	struct msg_mark m;
	struct wire w;
	struct msg_rr rr;
	unsigned nrr = (unsigned)q->hdr.ancount + q->hdr.nscount + q->hdr.arcount;
	uint16_t last_type = 0;
	bool tc = false;

	msg_build_init(&b, resp, sizeof(resp), limit);
	msg_build_header(&b, q->hdr.id, q->hdr.flags | DNS_FLAG_QR);
	if (q->qname_len > 0 && msg_build_question(&b, q->qname, q->qtype, q->qclass) < 0)
		return 0;
	if (b.w.err)
		return 0;
	wire_init(&w, data, size);
	w.pos = q->question_end;
	rr.rdata = rd1;
	rr.rdata_cap = sizeof(rd1);
	m = msg_build_mark(&b);
	for (unsigned i = 0; i < nrr; i++) {
		enum msg_section sec = section_of(&q->hdr, i);

		if (msg_rr_next(&w, &rr) < 0)
			abort(); /* read fine in the first pass */
		/* Keep the OPT/TSIG placement rules of the input: stop at
		 * the first truncation so nothing follows a dropped RR. */
		if (rr.type != last_type || i == q->hdr.ancount ||
		    i == (unsigned)q->hdr.ancount + q->hdr.nscount)
			m = msg_build_mark(&b);
		last_type = rr.type;
		if (msg_build_rr(&b, sec, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
				 rr.rdlen) < 0) {
			if (!truncate)
				return 0;
			msg_build_rollback(&b, m);
			tc = true;
			break;
		}
	}
	if (tc)
		msg_build_set_flags(&b, msg_build_flags(&b) | DNS_FLAG_TC);
	return msg_build_finish(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_query q, q2;
	struct msg_rr rr, rr2;
	struct wire w, w2;
	unsigned nrr;
	size_t n;
	int r;

	r = msg_parse_query(data, size, &q);
	if (size < DNS_HEADER_LEN)
		return 0;

	/* Read every RR regardless of the parse result: msg_rr_next must
	 * stand on its own against anything. */
	wire_init(&w, data, size);
	w.pos = DNS_HEADER_LEN;
	for (unsigned i = 0; i < q.hdr.qdcount && w.err == 0; i++)
		msg_skip_question(&w);
	nrr = (unsigned)q.hdr.ancount + q.hdr.nscount + q.hdr.arcount;
	rr.rdata = rd1;
	rr.rdata_cap = sizeof(rd1);
	for (unsigned i = 0; i < nrr; i++) {
		if (msg_rr_next(&w, &rr) < 0)
			break;
		if (dname_check(rr.owner, rr.owner_len) != (int)rr.owner_len)
			abort();
		(void)rdata_print(rr.type, rr.rdata, rr.rdlen, text, sizeof(text));
	}
	if (r < 0 || w.err)
		return 0;
	if (q.hdr.qdcount == 1 && q.qname_len == 0)
		abort();

	/* Round trip: build with compression, parse, compare. */
	n = rebuild(data, size, &q, DNS_TCP_MAXSIZE, false);
	if (n == 0)
		return 0;
	if (msg_parse_query(resp, n, &q2) != 0)
		abort();
	if (q2.qname_len != q.qname_len || memcmp(q2.qname, q.qname, q.qname_len) != 0 ||
	    q2.qtype != q.qtype || q2.qclass != q.qclass || q2.has_edns != q.has_edns ||
	    q2.has_tsig != q.has_tsig || q2.hdr.ancount != q.hdr.ancount ||
	    q2.hdr.nscount != q.hdr.nscount || q2.hdr.arcount != q.hdr.arcount)
		abort();
	if (q.has_edns &&
	    (q2.edns_udp_size != q.edns_udp_size || q2.edns_flags != q.edns_flags ||
	     q2.edns_opts_len != q.edns_opts_len ||
	     memcmp(resp + q2.edns_opts_off, data + q.edns_opts_off, q.edns_opts_len) != 0))
		abort();
	wire_init(&w, data, size);
	w.pos = q.question_end;
	wire_init(&w2, resp, n);
	w2.pos = q2.question_end;
	rr.rdata = rd1;
	rr.rdata_cap = sizeof(rd1);
	rr2.rdata = rd2;
	rr2.rdata_cap = sizeof(rd2);
	for (unsigned i = 0; i < nrr; i++) {
		if (msg_rr_next(&w, &rr) < 0 || msg_rr_next(&w2, &rr2) < 0)
			abort();
		if (rr.owner_len != rr2.owner_len || !dname_equal(rr.owner, rr2.owner) ||
		    rr.type != rr2.type || rr.rclass != rr2.rclass || rr.ttl != rr2.ttl ||
		    rr.rdlen != rr2.rdlen || !same_rdata(rr.type, rr.rdata, rr2.rdata, rr.rdlen))
			abort();
	}
	if (w2.pos != n)
		abort();

	/* Truncated builds, as dnsd does them, still parse. */
	for (size_t limit = 512; limit < n; limit += limit) {
		size_t t = rebuild(data, size, &q, limit, true);

		if (t > limit || (t > 0 && msg_parse_query(resp, t, &q2) != 0))
			abort();
	}
	return 0;
}
