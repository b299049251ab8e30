/*
 * xfr_stream.c: building the messages of a zone transfer (xfr_stream.h).
 *
 * A stream is a small state machine over a sequence of records: phases for
 * the leading SOA(s), the body and the trailing SOA; for AXFR the body is a
 * cursor over the image's shards (shard, slot, RRset, record), skipping the
 * apex SOA; for IXFR it is two index ranges over the difference. A record
 * that does not fit the current message is kept as "pending" and opens the
 * next one, so every message holds whole records (RFC 5936 §2.2: records
 * are never split) and the stream never needs to look back.
 *
 * The image is immutable (zone.h) and referenced by the stream, so walking
 * it from a worker needs no lock and survives any number of reloads.
 */
#include "xfr_stream.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ixfr.h"
#include "msg.h"
#include "rdata.h"
#include "zone.h"
#include "zone_int.h"

#define OPT_RR_LEN 11

enum phase {
	PH_SOA_FIRST,	/* both: the new SOA */
	PH_SOA_OLD,	/* IXFR: the client's SOA */
	PH_DEL,		/* IXFR: deletions */
	PH_SOA_MID,	/* IXFR: the new SOA between the lists */
	PH_ADD,		/* IXFR: additions */
	PH_BODY,	/* AXFR: every record but the SOA */
	PH_SOA_LAST,	/* both: the new SOA once more */
	PH_END,
};

struct xfr_stream {
	struct zone *z;		/* referenced */
	struct ixfr_diff *d;	/* owned; NULL for the whole zone */
	struct xfr_stream_req rq;
	enum phase ph;
	/* AXFR cursor */
	size_t shard;
	uint32_t slot;
	uint16_t rrset, rec;
	const uint8_t *recp; /* next record of the current RRset */
	/* IXFR cursor */
	size_t idx;
	bool pending; /* rr was taken but did not fit: send it next */
	struct ixfr_rr rr;
	size_t nrecords, nmessages;
};

static struct xfr_stream *stream_new(struct zone *z, struct ixfr_diff *d,
				     const struct xfr_stream_req *rq)
{
	struct xfr_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	zone_ref(z);
	s->z = z;
	s->d = d;
	s->rq = *rq;
	s->ph = PH_SOA_FIRST;
	return s;
}

struct xfr_stream *xfr_stream_axfr(struct zone *z, const struct xfr_stream_req *rq)
{
	return stream_new(z, NULL, rq);
}

struct xfr_stream *xfr_stream_ixfr(struct zone *z, struct ixfr_diff *d,
				   const struct xfr_stream_req *rq)
{
	struct xfr_stream *s = stream_new(z, d, rq);

	if (s == NULL)
		ixfr_diff_free(d);
	return s;
}

void xfr_stream_free(struct xfr_stream *s)
{
	if (s == NULL)
		return;
	zone_unref(s->z);
	ixfr_diff_free(s->d);
	free(s);
}

size_t xfr_stream_records(const struct xfr_stream *s)
{
	return s->nrecords;
}

size_t xfr_stream_messages(const struct xfr_stream *s)
{
	return s->nmessages;
}

const struct zone *xfr_stream_zone(const struct xfr_stream *s)
{
	return s->z;
}

bool xfr_stream_is_diff(const struct xfr_stream *s)
{
	return s->d != NULL;
}

/* The image's SOA as a record. */
static void zone_soa(const struct zone *z, struct ixfr_rr *rr)
{
	const uint8_t *rd;
	uint32_t ttl;
	uint16_t rdlen;

	zrec_read(zrrset_first(z->apex_node, z->soa), &ttl, &rdlen, &rd);
	rr->owner = z->apex;
	rr->type = RRTYPE_SOA;
	rr->ttl = ttl;
	rr->rdlen = rdlen;
	rr->rd = rd;
}

/* Next record of the image, SOA skipped; false at the end. */
static bool body_next(struct xfr_stream *s, struct ixfr_rr *rr)
{
	const struct zone *z = s->z;
	size_t nshards = (size_t)1 << z->shard_bits;

	while (s->shard < nshards) {
		const struct shard *sh = z->shards[s->shard].s;

		while (s->slot <= sh->mask) {
			const struct znode *n = shard_node(sh, s->slot);

			if (n != NULL) {
				const struct zrrset *rs = znode_rrsets(n);

				while (s->rrset < n->nrrsets) {
					const struct zrrset *set = &rs[s->rrset];

					if (set->type == RRTYPE_SOA && n == z->apex_node) {
						s->rrset++;
						continue;
					}
					if (s->rec < set->count) {
						const uint8_t *rd;
						uint32_t ttl;
						uint16_t rdlen;

						if (s->rec == 0)
							s->recp = zrrset_first(n, set);
						s->recp = zrec_read(s->recp, &ttl, &rdlen, &rd);
						s->rec++;
						rr->owner = znode_name(n);
						rr->type = set->type;
						rr->ttl = ttl;
						rr->rdlen = rdlen;
						rr->rd = rd;
						return true;
					}
					s->rrset++;
					s->rec = 0;
				}
			}
			s->slot++;
			s->rrset = 0;
			s->rec = 0;
		}
		s->shard++;
		s->slot = 0;
	}
	return false;
}

/* The next record of the stream; false when it is complete. */
static bool next_rr(struct xfr_stream *s, struct ixfr_rr *rr)
{
	for (;;) {
		switch (s->ph) {
		case PH_SOA_FIRST:
			zone_soa(s->z, rr);
			s->ph = s->d ? PH_SOA_OLD : PH_BODY;
			return true;
		case PH_SOA_OLD:
			*rr = s->d->old_soa;
			s->ph = PH_DEL;
			s->idx = 0;
			return true;
		case PH_DEL:
			if (s->idx < s->d->ndel) {
				*rr = s->d->del[s->idx++];
				return true;
			}
			s->ph = PH_SOA_MID;
			continue;
		case PH_SOA_MID:
			zone_soa(s->z, rr);
			s->ph = PH_ADD;
			s->idx = 0;
			return true;
		case PH_ADD:
			if (s->idx < s->d->nadd) {
				*rr = s->d->add[s->idx++];
				return true;
			}
			s->ph = PH_SOA_LAST;
			continue;
		case PH_BODY:
			if (body_next(s, rr))
				return true;
			s->ph = PH_SOA_LAST;
			continue;
		case PH_SOA_LAST:
			zone_soa(s->z, rr);
			s->ph = PH_END;
			return true;
		case PH_END:
			return false;
		}
	}
}

static size_t trailer_size(const struct xfr_stream *s)
{
	return (s->rq.edns ? OPT_RR_LEN : 0) + (s->rq.tsig.key ? tsig_rr_size(s->rq.tsig.key, 0) : 0);
}

static void begin(const struct xfr_stream *s, struct msg_build *b, uint8_t *buf, size_t cap,
		  size_t limit, bool question)
{
	msg_build_init(b, buf, cap, limit);
	msg_build_reserve(b, trailer_size(s));
	/* RFC 5936 §2.2.1: AA set; the question in the first message. */
	msg_build_header(b, s->rq.id, DNS_FLAG_QR | DNS_FLAG_AA);
	if (question)
		msg_build_question(b, s->rq.qname, s->rq.qtype, s->rq.qclass);
}

/* OPT, counts, TSIG. Returns the length or an error. */
static int finish(struct xfr_stream *s, struct msg_build *b, uint8_t *buf, size_t cap,
		  uint64_t now)
{
	size_t len;

	msg_build_unreserve(b, trailer_size(s));
	if (s->rq.edns)
		msg_build_opt(b, s->rq.edns_size, 0, 0, s->rq.edns_flags & EDNS_FLAG_DO, NULL, 0);
	if (b->w.err)
		return b->w.err;
	len = msg_build_finish(b);
	if (s->rq.tsig.key)
		return tsig_sign(buf, len, cap, &s->rq.tsig, now, TSIG_NOERROR);
	return (int)len;
}

/* Fills one message with records; returns the number added (0: the
 * stream is complete) or ERR_SPACE when one record alone does not fit. */
static int fill(struct xfr_stream *s, struct msg_build *b)
{
	int n = 0;

	for (;;) {
		struct msg_mark m;

		if (!s->pending) {
			if (!next_rr(s, &s->rr))
				return n;
			s->pending = true;
		}
		m = msg_build_mark(b);
		if (msg_build_rr(b, SEC_ANSWER, s->rr.owner, s->rr.type, RRCLASS_IN, s->rr.ttl,
				 s->rr.rd, s->rr.rdlen) < 0) {
			msg_build_rollback(b, m);
			b->w.err = 0;
			return n > 0 ? n : ERR_SPACE;
		}
		s->pending = false;
		s->nrecords++;
		n++;
	}
}

int xfr_stream_next(struct xfr_stream *s, uint8_t *buf, size_t cap, uint64_t now)
{
	struct msg_build b;
	size_t limit = cap < DNS_TCP_MAXSIZE ? cap : DNS_TCP_MAXSIZE;
	int n;

	if (s->ph == PH_END && !s->pending)
		return 0;
	begin(s, &b, buf, cap, limit, s->nmessages == 0);
	n = fill(s, &b);
	if (n < 0)
		return n;
	if (n == 0 && s->nmessages > 0)
		return 0;
	s->nmessages++;
	return finish(s, &b, buf, cap, now);
}

int xfr_stream_single(struct xfr_stream *s, uint8_t *buf, size_t cap, size_t limit, uint64_t now)
{
	struct msg_build b;
	struct ixfr_rr soa;
	int n;

	if (limit > cap)
		limit = cap;
	begin(s, &b, buf, cap, limit, true);
	n = fill(s, &b);
	if (n > 0 && !s->pending && s->ph == PH_END) {
		s->nmessages++;
		return finish(s, &b, buf, cap, now);
	}
	/* RFC 1995 §2: too large for UDP: the current SOA only. */
	s->nrecords = 0;
	begin(s, &b, buf, cap, limit, true);
	zone_soa(s->z, &soa);
	if (msg_build_rr(&b, SEC_ANSWER, soa.owner, soa.type, RRCLASS_IN, soa.ttl, soa.rd,
			 soa.rdlen) < 0)
		return ERR_SPACE;
	s->nrecords = 1;
	s->nmessages = 1;
	s->ph = PH_END;
	s->pending = false;
	return finish(s, &b, buf, cap, now);
}
