/*
 * xfr_stream.c: building the messages of a zone transfer (xfr_stream.h).
 *
 * A stream is a small state machine over a sequence of records: phases for
 * the leading SOA(s), the body and the trailing SOA; for AXFR the body is a
 * cursor over the image's nodes (RRset, record), skipping the apex SOA, in
 * canonical order when the caller supplies a sorted node index (built on
 * the transfer thread, see xfr_stream_order_build) or in the shards' hash
 * order otherwise; for IXFR it is two index ranges over the difference. A record
 * that does not fit the current message is kept as "pending" and opens the
 * next one, so every message holds whole records (RFC 5936 §2.2: records
 * are never split) and the stream never needs to look back.
 *
 * The image is immutable (zone.h) and referenced by the stream, so walking
 * it from a worker needs no lock and survives any number of reloads.
 */
#include "xfr_stream.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ixfr.h"
#include "dname.h"
#include "msg.h"
#include "rdata.h"
#include "zone.h"
#include "zone_int.h"

#define OPT_RR_LEN 11

enum phase {
	PH_SOA_FIRST, /* both: the new SOA */
	PH_SOA_OLD,   /* IXFR: the client's SOA */
	PH_DEL,	      /* IXFR: deletions */
	PH_SOA_MID,   /* IXFR: the new SOA between the lists */
	PH_ADD,	      /* IXFR: additions */
	PH_BODY,      /* AXFR: every record but the SOA */
	PH_SOA_LAST,  /* both: the new SOA once more */
	PH_END,
};

struct xfr_stream_order {
	atomic_uint refs;
	struct zone *z;		/* referenced */
	const struct znode **v; /* every node of z, in canonical order */
	size_t n;
};

struct xfr_stream {
	struct zone *z;			/* referenced */
	struct xfr_stream_order *order; /* referenced; NULL: hash order */
	size_t oi;			/* next node of order */
	struct ixfr_diff *d;		/* owned; NULL for the whole zone */
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

static int node_cmp(const void *a, const void *b)
{
	return dname_cmp(znode_name(*(const struct znode *const *)a),
			 znode_name(*(const struct znode *const *)b));
}

struct xfr_stream_order *xfr_stream_order_build(struct zone *z)
{
	struct xfr_stream_order *o = calloc(1, sizeof(*o));
	size_t n = 0;

	if (o == NULL)
		return NULL;
	o->v = malloc(sizeof(*o->v) * (z->nnodes + 1));
	if (o->v == NULL) {
		free(o);
		return NULL;
	}
	for (size_t sh = 0; sh < ((size_t)1 << z->shard_bits); sh++) {
		const struct shard *d = z->shards[sh].s;

		for (uint32_t i = 0; i <= d->mask; i++) {
			const struct znode *nd = shard_node(d, i);

			if (nd != NULL && n <= z->nnodes)
				o->v[n++] = nd;
		}
	}
	qsort(o->v, n, sizeof(*o->v), node_cmp);
	o->n = n;
	zone_ref(z);
	o->z = z;
	atomic_init(&o->refs, 1);
	return o;
}

void xfr_stream_order_ref(struct xfr_stream_order *o)
{
	atomic_fetch_add(&o->refs, 1);
}

void xfr_stream_order_unref(struct xfr_stream_order *o)
{
	if (o == NULL || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	free(o->v);
	zone_unref(o->z);
	free(o);
}

const struct zone *xfr_stream_order_zone(const struct xfr_stream_order *o)
{
	return o->z;
}

struct xfr_stream *xfr_stream_axfr(struct zone *z, struct xfr_stream_order *order,
				   const struct xfr_stream_req *rq)
{
	struct xfr_stream *s = stream_new(z, NULL, rq);

	if (s != NULL && order != NULL && order->z == z) {
		xfr_stream_order_ref(order);
		s->order = order;
	}
	return s;
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
	xfr_stream_order_unref(s->order);
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

/* The next record of node n (SOA skipped at the apex), advancing the
 * RRset/record cursor; false when n has no more. */
static bool node_next(struct xfr_stream *s, const struct znode *n, struct ixfr_rr *rr)
{
	const struct zrrset *rs = znode_rrsets(n);

	while (s->rrset < n->nrrsets) {
		const struct zrrset *set = &rs[s->rrset];

		if (set->type == RRTYPE_SOA && n == s->z->apex_node) {
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
	s->rrset = 0;
	s->rec = 0;
	return false;
}

/* Next record of the image, SOA skipped; false at the end. */
static bool body_next(struct xfr_stream *s, struct ixfr_rr *rr)
{
	const struct zone *z = s->z;
	size_t nshards = (size_t)1 << z->shard_bits;

	if (s->order) {
		for (; s->oi < s->order->n; s->oi++)
			if (node_next(s, s->order->v[s->oi], rr))
				return true;
		return false;
	}
	while (s->shard < nshards) {
		const struct shard *sh = z->shards[s->shard].s;

		for (; s->slot <= sh->mask; s->slot++) {
			const struct znode *n = shard_node(sh, s->slot);

			if (n != NULL && node_next(s, n, rr))
				return true;
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
	return (s->rq.edns ? OPT_RR_LEN : 0) +
	       (s->rq.tsig.key ? tsig_rr_size(s->rq.tsig.key, 0) : 0);
}

/*
 * The message writer. A general compressor (msg_build) remembers up to 64
 * names per message and compares each new name with all of them; in a zone
 * transfer almost every owner is new and every name ends in the apex, so
 * that search costs ~64 comparisons per record for nothing (it was most of
 * the time of a 1M-record AXFR). Here compression is exactly what pays off
 * in a transfer, in O(1) per name: an owner equal to the previous record's
 * becomes a pointer to it, and any name at or below the apex becomes its
 * own labels plus a pointer to the apex written once per message (RFC 1035
 * §4.1.4; RDATA names only for the types RFC 3597 §4 allows). Pointers
 * only reach offsets below 0x4000.
 */
struct wctx {
	uint8_t *buf;
	size_t pos, limit;   /* limit: room for records (trailer excluded) */
	size_t apex_off;     /* where the apex was written, 0: not yet */
	const uint8_t *prev; /* previous owner and where it was written */
	size_t prev_len, prev_off;
	uint16_t ancount;
};

/* Octets of name before the apex suffix, or -1 when it is not below it. */
static long apex_prefix(const struct zone *z, const uint8_t *n, size_t len)
{
	size_t p = 0;

	if (len < z->apex_len)
		return -1;
	while (len - p > z->apex_len) {
		p += 1u + n[p];
		if (p >= len)
			return -1;
	}
	if (len - p != z->apex_len || memcmp(n + p, z->apex, z->apex_len) != 0)
		return -1;
	return (long)p;
}

static bool put_ptr(struct wctx *w, size_t off)
{
	if (w->pos + 2 > w->limit)
		return false;
	w->buf[w->pos++] = (uint8_t)(0xc0 | off >> 8);
	w->buf[w->pos++] = (uint8_t)off;
	return true;
}

/* Writes a name (owner: may reuse the previous owner). */
static bool put_name(struct wctx *w, const struct zone *z, const uint8_t *n, size_t len, bool owner)
{
	size_t start = w->pos;
	long pre;

	if (owner && w->prev && w->prev_len == len && w->prev_off && memcmp(w->prev, n, len) == 0)
		return put_ptr(w, w->prev_off);
	pre = apex_prefix(z, n, len);
	if (pre >= 0 && w->apex_off) {
		if (w->pos + (size_t)pre + 2 > w->limit)
			return false;
		memcpy(w->buf + w->pos, n, (size_t)pre);
		w->pos += (size_t)pre;
		if (!put_ptr(w, w->apex_off))
			return false;
	} else {
		if (w->pos + len > w->limit)
			return false;
		memcpy(w->buf + w->pos, n, len);
		w->pos += len;
		if (pre >= 0 && start + (size_t)pre <= DNS_COMPRESS_MAXOFF)
			w->apex_off = start + (size_t)pre;
	}
	if (owner) {
		w->prev = n;
		w->prev_len = len;
		w->prev_off = start <= DNS_COMPRESS_MAXOFF ? start : 0;
	}
	return true;
}

/* Appends one record; false (nothing written) when it does not fit. */
static bool put_rr(struct wctx *w, const struct zone *z, const struct ixfr_rr *rr)
{
	struct wctx saved = *w;
	size_t offs[2], done = 0, rdl_at;
	int nn = rr->rdlen ? rdata_compressible_names(rr->type, rr->rd, rr->rdlen, offs) : 0;

	if (!put_name(w, z, rr->owner, dname_len(rr->owner), true) || w->pos + 10 > w->limit)
		goto nofit;
	w->buf[w->pos] = (uint8_t)(rr->type >> 8);
	w->buf[w->pos + 1] = (uint8_t)rr->type;
	w->buf[w->pos + 2] = 0;
	w->buf[w->pos + 3] = RRCLASS_IN;
	w->buf[w->pos + 4] = (uint8_t)(rr->ttl >> 24);
	w->buf[w->pos + 5] = (uint8_t)(rr->ttl >> 16);
	w->buf[w->pos + 6] = (uint8_t)(rr->ttl >> 8);
	w->buf[w->pos + 7] = (uint8_t)rr->ttl;
	rdl_at = w->pos + 8;
	w->pos += 10;
	for (int i = 0; i < nn; i++) {
		size_t nlen;

		/* the image's RDATA was validated when it was built */
		if (offs[i] < done || offs[i] >= rr->rdlen)
			break;
		if (w->pos + (offs[i] - done) > w->limit)
			goto nofit;
		memcpy(w->buf + w->pos, rr->rd + done, offs[i] - done);
		w->pos += offs[i] - done;
		nlen = dname_len(rr->rd + offs[i]);
		if (!put_name(w, z, rr->rd + offs[i], nlen, false))
			goto nofit;
		done = offs[i] + nlen;
	}
	if (w->pos + (rr->rdlen - done) > w->limit)
		goto nofit;
	memcpy(w->buf + w->pos, rr->rd + done, rr->rdlen - done);
	w->pos += rr->rdlen - done;
	if (w->pos - rdl_at - 2 > 0xffff)
		goto nofit;
	w->buf[rdl_at] = (uint8_t)((w->pos - rdl_at - 2) >> 8);
	w->buf[rdl_at + 1] = (uint8_t)(w->pos - rdl_at - 2);
	w->ancount++;
	return true;
nofit:
	*w = saved;
	return false;
}

/* Header and (first message) question. */
static bool begin(const struct xfr_stream *s, struct wctx *w, uint8_t *buf, size_t limit,
		  bool question)
{
	size_t qlen = dname_len(s->rq.qname), trailer = trailer_size(s);

	memset(w, 0, sizeof(*w));
	w->buf = buf;
	if (limit < DNS_HEADER_LEN + qlen + 4 + trailer)
		return false;
	w->limit = limit - trailer;
	/* RFC 5936 §2.2.1: AA set; the question in the first message. */
	buf[0] = (uint8_t)(s->rq.id >> 8);
	buf[1] = (uint8_t)s->rq.id;
	buf[2] = (uint8_t)((DNS_FLAG_QR | DNS_FLAG_AA) >> 8);
	buf[3] = 0;
	memset(buf + 4, 0, 8);
	w->pos = DNS_HEADER_LEN;
	if (question) {
		buf[5] = 1;
		memcpy(buf + w->pos, s->rq.qname, qlen);
		w->pos += qlen;
		buf[w->pos++] = (uint8_t)(s->rq.qtype >> 8);
		buf[w->pos++] = (uint8_t)s->rq.qtype;
		buf[w->pos++] = (uint8_t)(s->rq.qclass >> 8);
		buf[w->pos++] = (uint8_t)s->rq.qclass;
	}
	return true;
}

/* Counts, OPT, TSIG. Returns the length or an error. */
static int finish(struct xfr_stream *s, struct wctx *w, size_t cap, uint64_t now)
{
	uint8_t *b = w->buf;

	b[6] = (uint8_t)(w->ancount >> 8);
	b[7] = (uint8_t)w->ancount;
	if (s->rq.edns) {
		/* our OPT (RFC 6891 §6.1.2): version 0, DO as asked, no options;
		 * its room was kept out of w->limit */
		uint16_t f = s->rq.edns_flags & EDNS_FLAG_DO;
		uint8_t *o = b + w->pos;

		o[0] = 0;
		o[1] = 0;
		o[2] = 41;
		o[3] = (uint8_t)(s->rq.edns_size >> 8);
		o[4] = (uint8_t)s->rq.edns_size;
		o[5] = o[6] = 0;
		o[7] = (uint8_t)(f >> 8);
		o[8] = (uint8_t)f;
		o[9] = o[10] = 0;
		w->pos += OPT_RR_LEN;
		b[11] = 1;
	}
	if (s->rq.tsig.key)
		return tsig_sign(b, w->pos, cap, &s->rq.tsig, now, TSIG_NOERROR);
	return (int)w->pos;
}

/* Fills one message with records; returns the number added (0: the
 * stream is complete) or ERR_SPACE when one record alone does not fit. */
static int fill(struct xfr_stream *s, struct wctx *w)
{
	int n = 0;

	for (;;) {
		if (!s->pending) {
			if (!next_rr(s, &s->rr))
				return n;
			s->pending = true;
		}
		if (!put_rr(w, s->z, &s->rr))
			return n > 0 ? n : ERR_SPACE;
		s->pending = false;
		s->nrecords++;
		n++;
	}
}

int xfr_stream_next(struct xfr_stream *s, uint8_t *buf, size_t cap, uint64_t now)
{
	struct wctx w;
	size_t limit = cap < DNS_TCP_MAXSIZE ? cap : DNS_TCP_MAXSIZE;
	int n;

	if (s->ph == PH_END && !s->pending)
		return 0;
	if (!begin(s, &w, buf, limit, s->nmessages == 0))
		return ERR_SPACE;
	n = fill(s, &w);
	if (n < 0)
		return n;
	if (n == 0 && s->nmessages > 0)
		return 0;
	s->nmessages++;
	return finish(s, &w, cap, now);
}

int xfr_stream_single(struct xfr_stream *s, uint8_t *buf, size_t cap, size_t limit, uint64_t now)
{
	struct wctx w;
	struct ixfr_rr soa;
	int n;

	if (limit > cap)
		limit = cap;
	if (!begin(s, &w, buf, limit, true))
		return ERR_SPACE;
	n = fill(s, &w);
	if (n > 0 && !s->pending && s->ph == PH_END) {
		s->nmessages++;
		return finish(s, &w, cap, now);
	}
	/* RFC 1995 §2: too large for UDP: the current SOA only. */
	begin(s, &w, buf, limit, true);
	zone_soa(s->z, &soa);
	if (!put_rr(&w, s->z, &soa))
		return ERR_SPACE;
	s->nrecords = 1;
	s->nmessages = 1;
	s->ph = PH_END;
	s->pending = false;
	return finish(s, &w, cap, now);
}
