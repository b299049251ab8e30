/*
 * msg.c: DNS messages on the wire: parsing queries and records, building
 * responses with name compression and RRset-level truncation.
 *
 * Parsing
 * -------
 * A message is a 12-octet header, then QDCOUNT questions, then ANCOUNT,
 * NSCOUNT and ARCOUNT resource records (RFC 1035 §4.1). Every count comes
 * from the peer, so none of them is trusted:
 *
 *  - Before reading anything past the header, the counts are checked against
 *    the smallest size each entry can have (a question is at least 5 octets:
 *    root name plus type and class; an RR at least 11: root name, type,
 *    class, TTL, RDLENGTH). A message whose counts cannot fit is refused with
 *    ERR_COUNT at once, so a 20-octet packet claiming 65535 records costs
 *    nothing. Counts never size an allocation: nothing here allocates.
 *  - Every name goes through dname_parse_wire(), which rejects pointers that
 *    do not point strictly backwards (so every walk ends), labels over 63,
 *    names over 255 and the reserved label types.
 *  - RDLENGTH must fit in what remains (ERR_TRUNCATED otherwise).
 *
 * The QNAME is read with dname_parse_wire_nocompress(): the question is the
 * first name of the message, so the only place a pointer in it could point
 * is the 12-octet header, which holds no name. RFC 1035 does not forbid it
 * but no sane sender does it, so a compressed QNAME is malformed here (the
 * reply is FORMERR), as in Knot and NSD.
 *
 * In the additional section we look for EDNS0 (RFC 6891 §6.1): the OPT RR
 * must have the root as owner (§6.1.2), there may be only one (§6.1.1,
 * ERR_DUP_OPT), and its options must be well-formed {code, length, data}
 * triples inside RDATA; they are kept as an offset and length for the
 * caller, which ignores the ones it does not know (§6.1.2). A TSIG RR must
 * be the last RR of the additional section (RFC 8945 §5.1); anywhere else
 * (including the answer and authority sections) it is ERR_MALFORMED, and so
 * is an OPT RR outside the additional section (RFC 6891 §6.1.1).
 * Octets after the last counted RR are ignored (as NSD does): msg_end tells
 * where the counted records stopped.
 *
 * Building
 * --------
 * The builder writes into a caller-owned fixed buffer and never beyond
 * limit (512, the peer's EDNS size or 65535), minus what msg_build_reserve()
 * keeps for the OPT/TSIG records added last. It never allocates.
 *
 * Compression (RFC 1035 §4.1.4): the offset of every name written with at
 * least one inline label (the question, owners, compressible RDATA names)
 * is remembered in compress[] when it is below 0x4000 (a pointer has 14
 * bits). A new name is compared, label by label from the root, with each
 * remembered name as it sits in the buffer (following the pointers we wrote
 * earlier); the longest common suffix whose first label lies below 0x4000
 * becomes a pointer. A pointer therefore always points backwards, to bytes
 * of this message that are already final. Matching is case-insensitive
 * (RFC 4343), so an answer owner equal to the QNAME points at the QNAME and
 * carries the case the client sent. Only the names RFC 3597 §4 allows are
 * compressed inside RDATA (rdata_compressible_names()).
 *
 * Truncation: each RR is written atomically (on ERR_SPACE nothing of it
 * remains) and the error is sticky, so after a failure no later RR slips
 * into the message. The caller drops the whole RRset with
 * msg_build_rollback() to a mark taken before it, which also forgets the
 * compression targets written since, so no pointer ever points into
 * dropped bytes.
 */
#include "msg.h"

#include "err.h"
#include "rdata.h"

/* Smallest question (root name, QTYPE, QCLASS) and RR (root name, TYPE,
 * CLASS, TTL, RDLENGTH), for the count check. */
#define MIN_QUESTION_LEN 5
#define MIN_RR_LEN	 11
#define RR_FIXED_LEN	 10 /* TYPE, CLASS, TTL, RDLENGTH */

int msg_parse_header(const uint8_t *pkt, size_t len, struct msg_header *h)
{
	if (len < DNS_HEADER_LEN)
		return ERR_TRUNCATED;
	h->id = wire_get_u16(pkt);
	h->flags = wire_get_u16(pkt + 2);
	h->qdcount = wire_get_u16(pkt + 4);
	h->ancount = wire_get_u16(pkt + 6);
	h->nscount = wire_get_u16(pkt + 8);
	h->arcount = wire_get_u16(pkt + 10);
	return 0;
}

int msg_skip_question(struct wire *w)
{
	uint8_t name[DNAME_MAXLEN];
	int r;

	if (w->err)
		return w->err;
	if ((r = dname_parse_wire(w, name)) < 0)
		return r;
	wire_skip(w, 4);
	return w->err;
}

/* The fixed part of an RR after its owner name. */
struct rr_head {
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_off; /* where RDATA starts */
};

/* Reads owner and fixed fields, checks RDLENGTH fits and skips RDATA.
 * owner receives the uncompressed name; returns its length or an error. */
static int skip_rr(struct wire *w, uint8_t owner[DNAME_MAXLEN], struct rr_head *h)
{
	int n;

	if ((n = dname_parse_wire(w, owner)) < 0)
		return n;
	h->type = wire_u16(w);
	h->rclass = wire_u16(w);
	h->ttl = wire_u32(w);
	h->rdlen = wire_u16(w);
	if (w->err)
		return w->err;
	h->rdata_off = w->pos;
	wire_skip(w, h->rdlen);
	if (w->err)
		return w->err;
	return n;
}

/* EDNS options (RFC 6891 §6.1.2) are {code, length, data} triples that must
 * tile RDATA exactly. */
static int check_edns_options(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint16_t olen;

		if (len - off < 4)
			return ERR_MALFORMED;
		olen = wire_get_u16(p + off + 2);
		off += 4;
		if (olen > len - off)
			return ERR_MALFORMED;
		off += olen;
	}
	return 0;
}

int msg_parse_query(const uint8_t *pkt, size_t len, struct msg_query *q)
{
	uint8_t owner[DNAME_MAXLEN];
	struct rr_head rh;
	struct wire w;
	size_t need;
	unsigned i, nrr;
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = msg_parse_header(pkt, len, &q->hdr)) < 0)
		return r;

	/* Lying counts fail here, before any loop runs on them. */
	need = DNS_HEADER_LEN + (size_t)q->hdr.qdcount * MIN_QUESTION_LEN +
	       ((size_t)q->hdr.ancount + q->hdr.nscount + q->hdr.arcount) * MIN_RR_LEN;
	if (need > len)
		return ERR_COUNT;

	wire_init(&w, pkt, len);
	w.pos = DNS_HEADER_LEN;

	if (q->hdr.qdcount == 1) {
		if ((r = dname_parse_wire_nocompress(&w, q->qname)) < 0)
			goto fail;
		q->qname_len = (size_t)r;
		q->qtype = wire_u16(&w);
		q->qclass = wire_u16(&w);
		if (w.err) {
			q->qname_len = 0;
			r = w.err;
			goto fail;
		}
	} else {
		/* The caller answers FORMERR; we still walk the rest so that a
		 * FORMERR can carry OPT when the query had one. */
		for (i = 0; i < q->hdr.qdcount; i++)
			if ((r = msg_skip_question(&w)) < 0)
				goto fail;
	}
	q->question_end = w.pos;

	nrr = (unsigned)q->hdr.ancount + q->hdr.nscount;
	for (i = 0; i < nrr; i++) {
		if ((r = skip_rr(&w, owner, &rh)) < 0)
			goto fail;
		/* OPT only in additional (RFC 6891 §6.1.1); TSIG only last
		 * in additional (RFC 8945 §5.1). */
		if (rh.type == RRTYPE_OPT || rh.type == RRTYPE_TSIG) {
			r = ERR_MALFORMED;
			goto fail;
		}
	}

	for (i = 0; i < q->hdr.arcount; i++) {
		size_t start = w.pos;

		if ((r = skip_rr(&w, owner, &rh)) < 0)
			goto fail;
		if (rh.type == RRTYPE_OPT) {
			if (q->has_edns) {
				r = ERR_DUP_OPT;
				goto fail;
			}
			if (r != 1) { /* owner must be the root (RFC 6891 §6.1.2) */
				r = ERR_MALFORMED;
				goto fail;
			}
			if ((r = check_edns_options(pkt + rh.rdata_off, rh.rdlen)) < 0)
				goto fail;
			q->has_edns = true;
			q->edns_udp_size = rh.rclass;
			q->edns_ext_rcode = (uint8_t)(rh.ttl >> 24);
			q->edns_version = (uint8_t)(rh.ttl >> 16);
			q->edns_flags = (uint16_t)rh.ttl;
			q->edns_opts_off = rh.rdata_off;
			q->edns_opts_len = rh.rdlen;
		} else if (rh.type == RRTYPE_TSIG) {
			if (i + 1 != q->hdr.arcount) {
				r = ERR_MALFORMED;
				goto fail;
			}
			q->has_tsig = true;
			q->tsig_off = start;
		}
	}
	q->msg_end = w.pos;
	return 0;
fail:
	return r;
}

int msg_edns_option_next(const uint8_t *pkt, const struct msg_query *q, size_t *pos, uint16_t *code,
			 uint16_t *optlen, const uint8_t **data)
{
	const uint8_t *p = pkt + q->edns_opts_off;
	size_t len = q->edns_opts_len, off = *pos;
	uint16_t l;

	if (!q->has_edns || off >= len || len - off < 4)
		return 0;
	l = wire_get_u16(p + off + 2);
	if (l > len - off - 4)
		return 0;
	*code = wire_get_u16(p + off);
	*optlen = l;
	*data = p + off + 4;
	*pos = off + 4 + l;
	return 1;
}

int msg_rr_next(struct wire *w, struct msg_rr *rr)
{
	size_t start;
	uint16_t rdlen;
	int n;

	if (w->err)
		return w->err;
	rr->offset = w->pos;
	if ((n = dname_parse_wire(w, rr->owner)) < 0) {
		wire_fail(w, n);
		return n;
	}
	rr->owner_len = (size_t)n;
	rr->type = wire_u16(w);
	rr->rclass = wire_u16(w);
	rr->ttl = wire_u32(w);
	rdlen = wire_u16(w);
	if (w->err)
		return w->err;
	if (rdlen > w->len - w->pos) {
		wire_fail(w, ERR_TRUNCATED);
		return ERR_TRUNCATED;
	}
	start = w->pos;
	n = rdata_unpack(rr->type, w, rdlen, rr->rdata, rr->rdata_cap);
	if (n < 0) {
		wire_fail(w, n);
		return n;
	}
	if (n > RDATA_MAXLEN) {
		wire_fail(w, ERR_MALFORMED);
		return ERR_MALFORMED;
	}
	/* Whatever rdata_unpack did, the next RR starts after RDLENGTH. */
	wire_seek(w, start + rdlen);
	rr->rdlen = (uint16_t)n;
	return w->err;
}

/* ------------------------------------------------------------------ */
/* Builder */

static inline uint8_t lc(uint8_t c)
{
	return (uint8_t)(c + (((unsigned)c - 'A' < 26u) << 5));
}

/* Offsets of the labels of an uncompressed name (root not included) and its
 * length. Returns the label count, or -1 when the name is not a valid
 * uncompressed name within max octets. */
static int name_labels(const uint8_t *name, size_t max, uint8_t off[DNAME_MAXLABELS], size_t *len)
{
	size_t p = 0;
	int n = 0;

	if (max > DNAME_MAXLEN)
		max = DNAME_MAXLEN;
	for (;;) {
		uint8_t l;

		if (p >= max)
			return -1;
		l = name[p];
		if (l == 0)
			break;
		if (l > DNAME_LABEL_MAXLEN || n == DNAME_MAXLABELS)
			return -1;
		off[n++] = (uint8_t)p;
		p += 1u + l;
	}
	*len = p + 1;
	return n;
}

/* Positions of the labels of a name we wrote at pos in the buffer,
 * following our own (backward) pointers. Defensive all the same: it stops
 * on anything that is not a label or a backward pointer. */
static int buf_labels(const uint8_t *buf, size_t end, size_t pos, uint16_t out[DNAME_MAXLABELS])
{
	int n = 0;

	while (pos < end) {
		uint8_t l = buf[pos];

		if (l == 0)
			return n;
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= end)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | buf[pos + 1];
			if (to >= pos)
				return -1;
			pos = to;
			continue;
		}
		if (l > DNAME_LABEL_MAXLEN || n == DNAME_MAXLABELS)
			return -1;
		out[n++] = (uint16_t)pos;
		pos += 1u + l;
	}
	return -1;
}

static inline bool label_eq(const uint8_t *a, const uint8_t *b)
{
	uint8_t l = a[0];

	if (l != b[0])
		return false;
	for (uint8_t i = 1; i <= l; i++)
		if (a[i] != b[i] && lc(a[i]) != lc(b[i]))
			return false;
	return true;
}

/* Longest suffix of name (nl labels at off[]) already in the message below
 * 0x4000. Returns the number of labels matched and sets *ptr. */
static int find_suffix(const struct msg_build *b, const uint8_t *name, const uint8_t *off, int nl,
		       uint16_t *ptr)
{
	const uint8_t *buf = b->w.base;
	uint16_t pos[DNAME_MAXLABELS];
	int best = 0;

	/* Newest first: the previous RR usually has the same owner. */
	for (int s = b->ncompress - 1; s >= 0 && best < nl; s--) {
		int m = buf_labels(buf, b->w.pos, b->compress[s], pos);
		int i = nl - 1, j = m - 1, k = 0;

		while (i >= 0 && j >= 0 && label_eq(name + off[i], buf + pos[j])) {
			k++;
			if (k > best && pos[j] <= DNS_COMPRESS_MAXOFF) {
				best = k;
				*ptr = pos[j];
			}
			i--;
			j--;
		}
	}
	return best;
}

static inline size_t build_end(const struct msg_build *b)
{
	return b->limit - b->reserved;
}

static inline int build_fail(struct msg_build *b)
{
	if (b->w.err == 0)
		b->w.err = ERR_SPACE;
	return ERR_SPACE;
}

static inline void remember(struct msg_build *b, size_t at)
{
	if (at <= DNS_COMPRESS_MAXOFF && b->ncompress < MSG_COMPRESS_SLOTS)
		b->compress[b->ncompress++] = (uint16_t)at;
}

/* Writes name (nl labels at off[], len octets uncompressed) at w.pos,
 * compressed when compress is set, and remembers it as a target when at
 * least one label is written inline. Returns 0, or ERR_SPACE with nothing
 * written. */
static int put_name(struct msg_build *b, const uint8_t *name, const uint8_t *off, int nl,
		    size_t len, bool compress)
{
	size_t at = b->w.pos, inl = len;
	uint16_t ptr = 0;
	int m = 0;

	if (compress && nl > 0 && b->ncompress > 0)
		m = find_suffix(b, name, off, nl, &ptr);
	if (m > 0)
		inl = off[nl - m]; /* labels before the matched suffix */
	if (inl + (m > 0 ? 2 : 0) > build_end(b) - at)
		return build_fail(b);
	memcpy(b->w.base + at, name, inl);
	b->w.pos = at + inl;
	if (m > 0) {
		b->w.base[b->w.pos] = (uint8_t)(0xc0 | ptr >> 8);
		b->w.base[b->w.pos + 1] = (uint8_t)ptr;
		b->w.pos += 2;
	}
	if (m < nl)
		remember(b, at);
	return 0;
}

void msg_build_init(struct msg_build *b, uint8_t *buf, size_t cap, size_t limit)
{
	wbuf_init(&b->w, buf, cap);
	/* No DNS message exceeds 65535 octets (the TCP length prefix), and
	 * RDLENGTH and the counts rely on that. */
	if (limit > DNS_TCP_MAXSIZE)
		limit = DNS_TCP_MAXSIZE;
	b->limit = limit < cap ? limit : cap;
	b->reserved = 0;
	memset(b->counts, 0, sizeof(b->counts));
	b->ncompress = 0;
}

void msg_build_header(struct msg_build *b, uint16_t id, uint16_t flags)
{
	uint8_t *p;

	if (b->w.err)
		return;
	if (b->w.pos != 0 || DNS_HEADER_LEN > build_end(b)) {
		build_fail(b);
		return;
	}
	p = b->w.base;
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
	p[2] = (uint8_t)(flags >> 8);
	p[3] = (uint8_t)flags;
	memset(p + 4, 0, 8);
	b->w.pos = DNS_HEADER_LEN;
}

void msg_build_set_flags(struct msg_build *b, uint16_t flags)
{
	if (b->w.pos >= DNS_HEADER_LEN) {
		b->w.base[2] = (uint8_t)(flags >> 8);
		b->w.base[3] = (uint8_t)flags;
	}
}

uint16_t msg_build_flags(const struct msg_build *b)
{
	return b->w.pos >= DNS_HEADER_LEN ? wire_get_u16(b->w.base + 2) : 0;
}

int msg_build_question(struct msg_build *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	uint8_t off[DNAME_MAXLABELS];
	size_t len, at = b->w.pos;
	int nl;

	if (b->w.err)
		return b->w.err;
	if ((nl = name_labels(qname, DNAME_MAXLEN, off, &len)) < 0)
		return ERR_MALFORMED;
	if (b->counts[0] == UINT16_MAX || len + 4 > build_end(b) - at)
		return build_fail(b);
	put_name(b, qname, off, nl, len, false); /* fits: checked above */
	wbuf_u16(&b->w, qtype);
	wbuf_u16(&b->w, qclass);
	b->counts[0]++;
	return 0;
}

int msg_build_reserve(struct msg_build *b, size_t n)
{
	if (n > b->limit - b->reserved || b->w.pos > b->limit - b->reserved - n)
		return ERR_SPACE;
	b->reserved += n;
	return 0;
}

void msg_build_unreserve(struct msg_build *b, size_t n)
{
	b->reserved -= n < b->reserved ? n : b->reserved;
}

int msg_build_name(struct msg_build *b, const uint8_t *name, bool compress)
{
	uint8_t off[DNAME_MAXLABELS];
	size_t len;
	int nl;

	if (b->w.err)
		return b->w.err;
	if ((nl = name_labels(name, DNAME_MAXLEN, off, &len)) < 0)
		return ERR_MALFORMED;
	return put_name(b, name, off, nl, len, compress);
}

int msg_build_rr(struct msg_build *b, enum msg_section sec, const uint8_t *owner, uint16_t type,
		 uint16_t rclass, uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	uint8_t off[DNAME_MAXLABELS];
	size_t offs[2], start = b->w.pos, len, rdl_at, rd_at, done;
	int ncomp = b->ncompress, nl, nn;
	uint8_t *p;

	if (b->w.err)
		return b->w.err;
	if ((unsigned)sec > SEC_ADDITIONAL || (rdlen > 0 && rd == NULL))
		return ERR_INVALID;
	if (b->counts[sec + 1] == UINT16_MAX)
		return build_fail(b);
	if ((nl = name_labels(owner, DNAME_MAXLEN, off, &len)) < 0)
		return ERR_MALFORMED;
	if (put_name(b, owner, off, nl, len, true) < 0)
		goto fail;
	if (RR_FIXED_LEN > build_end(b) - b->w.pos)
		goto fail;
	p = b->w.base + b->w.pos;
	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)(rclass >> 8);
	p[3] = (uint8_t)rclass;
	p[4] = (uint8_t)(ttl >> 24);
	p[5] = (uint8_t)(ttl >> 16);
	p[6] = (uint8_t)(ttl >> 8);
	p[7] = (uint8_t)ttl;
	rdl_at = b->w.pos + 8;
	b->w.pos += RR_FIXED_LEN;
	rd_at = b->w.pos;

	/* RDATA: verbatim between the compressible names. The offsets come
	 * from the RDATA itself, so they are checked before use; anything odd
	 * means the RDATA is written as it is, uncompressed. */
	nn = rdlen ? rdata_compressible_names(type, rd, rdlen, offs) : 0;
	done = 0;
	for (int i = 0; i < nn; i++) {
		size_t nlen;
		int nll;

		if (offs[i] < done || offs[i] >= rdlen)
			break;
		nll = name_labels(rd + offs[i], rdlen - offs[i], off, &nlen);
		if (nll < 0)
			break;
		if (offs[i] - done > build_end(b) - b->w.pos)
			goto fail;
		memcpy(b->w.base + b->w.pos, rd + done, offs[i] - done);
		b->w.pos += offs[i] - done;
		if (put_name(b, rd + offs[i], off, nll, nlen, true) < 0)
			goto fail;
		done = offs[i] + nlen;
	}
	if (rdlen - done > build_end(b) - b->w.pos)
		goto fail;
	if (rdlen > done) {
		memcpy(b->w.base + b->w.pos, rd + done, rdlen - done);
		b->w.pos += rdlen - done;
	}
	len = b->w.pos - rd_at; /* <= rdlen: compression only shrinks */
	b->w.base[rdl_at] = (uint8_t)(len >> 8);
	b->w.base[rdl_at + 1] = (uint8_t)len;
	b->counts[sec + 1]++;
	return 0;
fail:
	/* The RR is all or nothing. */
	b->w.pos = start;
	b->ncompress = ncomp;
	return build_fail(b);
}

int msg_build_opt(struct msg_build *b, uint16_t udp_size, uint8_t ext_rcode, uint8_t version,
		  uint16_t flags, const uint8_t *opts, uint16_t optlen)
{
	size_t need = 1 + RR_FIXED_LEN + (size_t)optlen;
	size_t use = need < b->reserved ? need : b->reserved;
	uint8_t *p;

	if (b->w.err)
		return b->w.err;
	if (optlen > 0 && opts == NULL)
		return ERR_INVALID;
	if (b->counts[3] == UINT16_MAX || need > b->limit - (b->reserved - use) - b->w.pos)
		return build_fail(b);
	p = b->w.base + b->w.pos;
	p[0] = 0; /* root owner (RFC 6891 §6.1.2) */
	p[1] = (uint8_t)(RRTYPE_OPT >> 8);
	p[2] = (uint8_t)RRTYPE_OPT;
	p[3] = (uint8_t)(udp_size >> 8);
	p[4] = (uint8_t)udp_size;
	p[5] = ext_rcode;
	p[6] = version;
	p[7] = (uint8_t)(flags >> 8);
	p[8] = (uint8_t)flags;
	p[9] = (uint8_t)(optlen >> 8);
	p[10] = (uint8_t)optlen;
	if (optlen)
		memcpy(p + 11, opts, optlen);
	b->w.pos += need;
	b->reserved -= use;
	b->counts[3]++;
	return 0;
}

struct msg_mark msg_build_mark(const struct msg_build *b)
{
	struct msg_mark m;

	m.pos = b->w.pos;
	memcpy(m.counts, b->counts, sizeof(m.counts));
	m.ncompress = b->ncompress;
	return m;
}

void msg_build_rollback(struct msg_build *b, struct msg_mark m)
{
	/* A mark from the future (or another builder) is ignored rather than
	 * trusted to move pos past bytes never written. */
	if (m.pos > b->w.pos || m.ncompress > b->ncompress)
		return;
	b->w.pos = m.pos;
	memcpy(b->counts, m.counts, sizeof(b->counts));
	b->ncompress = m.ncompress;
	b->w.err = 0;
}

size_t msg_build_finish(struct msg_build *b)
{
	uint8_t *p = b->w.base;

	if (b->w.pos < DNS_HEADER_LEN)
		return b->w.pos;
	for (int i = 0; i < 4; i++) {
		p[4 + 2 * i] = (uint8_t)(b->counts[i] >> 8);
		p[5 + 2 * i] = (uint8_t)b->counts[i];
	}
	return b->w.pos;
}
