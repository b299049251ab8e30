/*
 * query.c: the protocol core of dnsd: request bytes plus a zoneset in,
 * response bytes out. No sockets, clocks or locks; the zone images are
 * immutable (zone.c), so any number of threads call this at once.
 *
 * Decisions, in the order they are taken
 * --------------------------------------
 *  1. Fewer than 12 octets, or QR=1: drop (never answer a response).
 *  2. The message is parsed once (msg_parse_query): a malformed one gets
 *     FORMERR, and so does a second OPT (RFC 6891 §6.1.1).
 *  3. Opcodes other than QUERY and NOTIFY (UPDATE included: dnsd never
 *     writes) get NOTIMP with every flag but QR cleared (RFC 1035 §4.1.1
 *     copies RD for queries only; ISC genreport "opcodeflg").
 *  4. QDCOUNT != 1: FORMERR.
 *  5. EDNS version > 0: BADVERS with our OPT at version 0 (RFC 6891
 *     §6.1.3). The payload size is max(512, min(theirs, ours))
 *     (§6.2.3, §6.2.5); unknown options are ignored and not echoed, unknown
 *     flags cleared, DO copied (RFC 3225 §3).
 *  6. A TSIG-signed request (RFC 8945): verified against the keys in
 *     query_xparams; failures get NOTAUTH with the TSIG error, see
 *     answer_tsig_error(); replies to a verified request are signed.
 *  7. NOTIFY (RFC 1996): see answer_notify().
 *  8. Class other than IN (or ANY, read as IN, like Knot): REFUSED.
 *  9. AXFR over UDP: NOTIMP (RFC 5936 §4.2, as Knot and NSD). AXFR over
 *     TCP and IXFR from peers the caller's ACL allows: handed back to the
 *     caller (r->xfr) to stream, see answer_xfr(); REFUSED otherwise.
 * 10. No zone at or above QNAME: REFUSED without AA. For DS the zone is
 *     found from QNAME's parent, so the parent side of a cut answers even
 *     when we also serve the child (RFC 4035 §3.1.4.1).
 * 11. The answer itself, RFC 1034 §4.3.2 with the RFC 4592 (wildcards),
 *     RFC 6672 (DNAME), RFC 2308 (negative answers) and RFC 8482 (ANY)
 *     refinements, shaped like Knot's answers (minimal responses; ANY gives
 *     the RRset of the lowest type; CNAME/DNAME chains of at most
 *     CNAME_CHAIN_MAX links, loops cut where an RRset would repeat).
 *
 * Truncation (UDP): RRsets are written whole or not at all (RFC 2181 §9).
 * An answer RRset, the referral NS RRset or in-bailiwick glue (RFC 9471)
 * that does not fit sets TC and ends the response there, keeping the
 * question, the complete RRsets already written and the OPT record (space
 * for it is reserved first). The negative-answer SOA and optional
 * additional data are simply left out when they do not fit.
 */
#include "query.h"

#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "dname.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "wire.h"
#include "zone.h"
#include "zone_int.h"

/* Longest CNAME/DNAME chain followed inside a zone: Knot's limit
 * (CNAME_CHAIN_MAX in knot/nameserver/internet.h). */
#define CNAME_CHAIN_MAX	      5
#define OPT_RR_LEN	      11 /* root owner, type, class, TTL, RDLENGTH */
#define EDNS_OPT_EDE	      15 /* Extended DNS Error, RFC 8914 §2 */
#define EDE_OPT_LEN	      6	 /* option code, length, INFO-CODE */
#define EDE_NONE	      (-1)
#define EDE_PROHIBITED	      18 /* RFC 8914 §4.19 */
#define EDE_NOT_AUTHORITATIVE 20 /* RFC 8914 §4.21 */
#define MAX_SECTION_SETS      64

enum state {
	ST_HIT,	   /* answer complete (or chain ended) */
	ST_NODATA, /* name exists, type does not: SOA in authority */
	ST_MISS,   /* name does not exist: NXDOMAIN, SOA in authority */
	ST_DELEG,  /* below a zone cut: referral */
	ST_FOLLOW, /* CNAME/DNAME: go on with ctx->name */
	ST_TRUNC,  /* an RRset that must be complete did not fit */
};

/* An RRset already written, for loop detection and additional data. */
struct written {
	const uint8_t *owner; /* lower-case or as asked; compared case-insensitively */
	const struct znode *node;
	const struct zrrset *set;
	uint16_t type;
	enum msg_section sec;
};

struct qctx {
	const struct zone *z;
	struct msg_build b;
	uint16_t qtype;
	int rcode;
	bool tc;

	/* the name being resolved (QNAME, then CNAME/DNAME targets) */
	const uint8_t *name;
	size_t namelen;
	bool first; /* resolving QNAME itself */

	const struct znode *cut;  /* referral: the delegation node */
	const uint8_t *cut_owner; /* its owner name */
	int chain;		  /* CNAME/DNAME links followed */
	const struct znode *wild_seen[CNAME_CHAIN_MAX + 2];
	int nwild;

	struct written w[MAX_SECTION_SETS];
	int nw;
	uint8_t synth[CNAME_CHAIN_MAX + 1][DNAME_MAXLEN]; /* DNAME-made names */
	int nsynth;
};

/* ------------------------------------------------------------------ */
/* Writing RRsets */

static bool rrset_written(const struct qctx *c, const uint8_t *owner, uint16_t type)
{
	for (int i = 0; i < c->nw; i++)
		if (c->w[i].type == type && dname_equal(c->w[i].owner, owner))
			return true;
	return false;
}

static void remember(struct qctx *c, const uint8_t *owner, const struct znode *n,
		     const struct zrrset *s, enum msg_section sec)
{
	if (c->nw < MAX_SECTION_SETS) {
		c->w[c->nw].owner = owner;
		c->w[c->nw].node = n;
		c->w[c->nw].set = s;
		c->w[c->nw].type = s->type;
		c->w[c->nw].sec = sec;
		c->nw++;
	}
}

/* Writes a whole RRset of node n under owner (the node's own name, or
 * the name a wildcard answers for). ttl overrides the RRset TTL when
 * non-negative. ERR_SPACE leaves nothing of it in the message. */
static int put_rrset(struct qctx *c, enum msg_section sec, const uint8_t *owner,
		     const struct znode *n, const struct zrrset *s, long ttl)
{
	struct msg_mark m = msg_build_mark(&c->b);
	const uint8_t *p = zrrset_first(n, s);
	uint32_t t = ttl >= 0 ? (uint32_t)ttl : s->ttl;

	for (uint16_t i = 0; i < s->count; i++) {
		const uint8_t *rd;
		uint32_t rttl;
		uint16_t rdlen;

		p = zrec_read(p, &rttl, &rdlen, &rd);
		if (msg_build_rr(&c->b, sec, owner, s->type, RRCLASS_IN, t, rd, rdlen) < 0) {
			msg_build_rollback(&c->b, m);
			return ERR_SPACE;
		}
	}
	remember(c, owner, n, s, sec);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Resolution */

/* Label offsets of a name; returns the label count. */
static int name_offsets(const uint8_t *name, uint8_t off[DNAME_MAXLABELS])
{
	size_t p = 0;
	int n = 0;

	while (name[p] != 0 && n < DNAME_MAXLABELS) {
		off[n++] = (uint8_t)p;
		p += 1u + name[p];
	}
	return n;
}

/* True when name lies at or below a zone cut of z (other than the apex). */
static bool below_cut(const struct zone *z, const uint8_t *name, size_t len)
{
	uint8_t off[DNAME_MAXLABELS];
	int nl = name_offsets(name, off);

	for (int lvl = z->apex_labels + 1; lvl <= nl; lvl++) {
		size_t o = off[nl - lvl];
		const struct znode *n = zone_lookup(z, name + o, len - o);

		if (n == NULL)
			return false;
		if (n->flags & ZN_NS)
			return true;
	}
	return false;
}

static enum state follow(struct qctx *c, const uint8_t *owner, const struct znode *n,
			 uint16_t type);

/* The name exists at node n (owner is the name being answered: n's own
 * name, or the name a wildcard n stands for). */
static enum state name_found(struct qctx *c, const uint8_t *owner, const struct znode *n)
{
	const struct zrrset *s;
	uint16_t qt = c->qtype;

	/* A wildcard that is also a cut still refers (Knot does the same). */
	if ((n->flags & ZN_NS) && n != c->z->apex_node && qt != RRTYPE_DS) {
		c->cut = n;
		c->cut_owner = znode_name(n);
		return ST_DELEG;
	}
	if ((n->flags & ZN_CNAME) && qt != RRTYPE_CNAME && qt != RRTYPE_ANY && qt != RRTYPE_RRSIG &&
	    qt != RRTYPE_NSEC)
		return follow(c, owner, n, RRTYPE_CNAME);
	if (qt == RRTYPE_ANY) {
		/* RFC 8482 §4.1: one RRset is enough; like Knot, the one of
		 * the lowest type (RRsets are sorted by type). */
		if (n->nrrsets == 0)
			return ST_NODATA;
		s = znode_rrsets(n);
	} else {
		s = znode_rrset(n, qt);
		if (s == NULL)
			return ST_NODATA;
	}
	if (put_rrset(c, SEC_ANSWER, owner, n, s, -1) < 0)
		return ST_TRUNC;
	return ST_HIT;
}

/* Adds the CNAME (or DNAME plus the CNAME it synthesizes, RFC 6672 §3.1)
 * and points c->name at the next name to resolve. */
static enum state follow(struct qctx *c, const uint8_t *owner, const struct znode *n, uint16_t type)
{
	const struct zrrset *s = znode_rrset(n, type);
	const uint8_t *rd, *rrowner = type == RRTYPE_DNAME ? znode_name(n) : owner;
	uint32_t ttl;
	uint16_t rdlen;

	if (s == NULL || s->count == 0)
		return ST_HIT;
	if (++c->chain > CNAME_CHAIN_MAX)
		return ST_HIT; /* too long: stop where we are, no SOA */
	if (rrset_written(c, rrowner, type))
		return ST_HIT; /* a loop: the RRset is already in the answer */
	if (put_rrset(c, SEC_ANSWER, rrowner, n, s, -1) < 0)
		return ST_TRUNC;
	zrec_read(zrrset_first(n, s), &ttl, &rdlen, &rd);

	if (type == RRTYPE_DNAME) {
		/* Replace the DNAME owner suffix of the name by the target
		 * (RFC 6672 §2.2); too long for a name: YXDOMAIN. */
		size_t olen = n->namelen, tlen = dname_len(rd);
		size_t keep = c->namelen - olen;
		uint8_t *out;
		struct msg_mark m;

		if (keep + tlen > DNAME_MAXLEN || c->nsynth > CNAME_CHAIN_MAX) {
			c->rcode = 6; /* YXDOMAIN, RFC 6672 §2.2 */
			return ST_HIT;
		}
		out = c->synth[c->nsynth++];
		memcpy(out, c->name, keep);
		memcpy(out + keep, rd, tlen);
		m = msg_build_mark(&c->b);
		/* The synthesized CNAME carries the DNAME's TTL (RFC 6672 §3.1). */
		if (msg_build_rr(&c->b, SEC_ANSWER, owner, RRTYPE_CNAME, RRCLASS_IN, s->ttl, out,
				 (uint16_t)(keep + tlen)) < 0) {
			msg_build_rollback(&c->b, m);
			return ST_TRUNC;
		}
		if (c->qtype == RRTYPE_CNAME)
			return ST_HIT; /* the synthesized CNAME is the answer */
		c->name = out;
		c->namelen = keep + tlen;
		return ST_FOLLOW;
	}

	if (n->flags & ZN_WILD) {
		/* A wildcard CNAME can lead back to itself under another
		 * owner: follow each wildcard once (as Knot does). */
		for (int i = 0; i < c->nwild; i++)
			if (c->wild_seen[i] == n)
				return ST_HIT;
		if (c->nwild < (int)(sizeof(c->wild_seen) / sizeof(c->wild_seen[0])))
			c->wild_seen[c->nwild++] = n;
	}
	c->name = rd;
	c->namelen = rdlen;
	return ST_FOLLOW;
}

/* Resolves c->name in c->z: RFC 1034 §4.3.2 step 3, walking down from the
 * apex one label at a time. */
static enum state solve(struct qctx *c)
{
	const struct zone *z = c->z;
	uint8_t off[DNAME_MAXLABELS], wild[DNAME_MAXLEN];
	const struct znode *ce = z->apex_node, *n, *w;
	int nl, lvl;

	if (!dname_is_subdomain(c->name, z->apex))
		return ST_HIT; /* the chain left the zone: the resolver goes on */
	nl = name_offsets(c->name, off);
	for (lvl = z->apex_labels + 1; lvl <= nl; lvl++) {
		size_t o = off[nl - lvl];

		n = zone_lookup(z, c->name + o, c->namelen - o);
		if (n == NULL)
			break;
		ce = n;
		if (n->flags & ZN_NS) {
			/* A zone cut (step 3b), except that DS at the cut
			 * belongs to the parent (RFC 4035 §3.1.4.1). */
			if (lvl == nl && c->qtype == RRTYPE_DS)
				break;
			c->cut = n;
			c->cut_owner = znode_name(n);
			return ST_DELEG;
		}
	}
	if (lvl > nl || (lvl == nl && ce->namelen == c->namelen))
		return name_found(c, c->name, ce);

	/* Not found: the closest encloser is ce. A wildcard child of it
	 * matches (RFC 4592 §3.3.1); ENTs are nodes, so an existing name or
	 * ENT never reaches this point. */
	if ((size_t)ce->namelen + 2 <= DNAME_MAXLEN) {
		wild[0] = 1;
		wild[1] = '*';
		memcpy(wild + 2, znode_name(ce), ce->namelen);
		w = zone_lookup(z, wild, (size_t)ce->namelen + 2);
		if (w != NULL)
			return name_found(c, c->name, w);
	}
	/* Below a DNAME (RFC 6672 §3.2, step 3c). */
	if (ce->flags & ZN_DNAME)
		return follow(c, c->name, ce, RRTYPE_DNAME);
	return ST_MISS;
}

/* Additional data for one name (RFC 1034 §4.3.2 step 6): its A and AAAA
 * RRsets when it is in the zone. Returns ERR_SPACE when it did not fit. */
static int put_addr(struct qctx *c, const uint8_t *target, bool glue_ok)
{
	const struct zone *z = c->z;
	size_t len = dname_len(target);
	const struct znode *tn;
	static const uint16_t types[2] = {RRTYPE_A, RRTYPE_AAAA};

	if (!dname_is_subdomain(target, z->apex))
		return 0;
	tn = zone_lookup(z, target, len);
	if (tn == NULL || !(tn->flags & ZN_ADDR))
		return 0;
	/* Data at or below a cut is not ours; only NS targets may use it
	 * (glue, RFC 1034 §4.2.1). */
	if (!glue_ok && below_cut(z, target, len))
		return 0;
	for (int k = 0; k < 2; k++) {
		const struct zrrset *s = znode_rrset(tn, types[k]);
		bool dup = false;

		if (s == NULL)
			continue;
		for (int i = 0; i < c->nw; i++)
			if (c->w[i].set == s)
				dup = true;
		if (dup)
			continue;
		if (put_rrset(c, SEC_ADDITIONAL, znode_name(tn), tn, s, -1) < 0)
			return ERR_SPACE;
	}
	return 0;
}

/* Additional section for the NS, MX and SRV RRsets written so far. For a
 * referral, the glue inside the delegated zone comes first and must fit
 * (RFC 9471 §3: TC otherwise); everything else is optional, and the
 * section ends quietly at the first RRset that does not fit. */
static void put_additional(struct qctx *c, bool referral)
{
	int nw = c->nw;

	for (int pass = referral ? 0 : 1; pass < 2; pass++) {
		for (int i = 0; i < nw; i++) {
			const struct written *wr = &c->w[i];
			const uint8_t *p;
			bool is_ns = wr->type == RRTYPE_NS;

			if (wr->sec == SEC_ADDITIONAL || wr->node == NULL)
				continue;
			if (!is_ns && wr->type != RRTYPE_MX && wr->type != RRTYPE_SRV)
				continue;
			p = zrrset_first(wr->node, wr->set);
			for (uint16_t k = 0; k < wr->set->count; k++) {
				const uint8_t *rd, *t;
				uint32_t ttl;
				uint16_t rdlen;
				bool mandatory;

				p = zrec_read(p, &ttl, &rdlen, &rd);
				t = rdata_target_name(wr->type, rd, rdlen);
				if (t == NULL)
					continue;
				mandatory = referral && is_ns && wr->sec == SEC_AUTHORITY &&
					    dname_is_subdomain(t, c->cut_owner);
				if ((pass == 0) != mandatory)
					continue;
				if (put_addr(c, t, is_ns) < 0) {
					if (mandatory)
						c->tc = true;
					return;
				}
			}
		}
	}
}

/* Negative answers carry the SOA with TTL min(SOA TTL, MINIMUM)
 * (RFC 2308 §3); left out, without TC, when it does not fit. */
static void put_soa(struct qctx *c)
{
	const struct zone *z = c->z;

	(void)put_rrset(c, SEC_AUTHORITY, z->apex, z->apex_node, z->soa, z->neg_ttl);
}

/* Answers a QUERY for c->name in zone c->z; returns whether AA applies. */
static bool answer(struct qctx *c)
{
	enum state st;
	bool aa;

	st = solve(c);
	/* AA unless the very first step is a referral (a CNAME chain that
	 * runs into a cut keeps AA, as in Knot). */
	aa = st != ST_DELEG;
	while (st == ST_FOLLOW)
		st = solve(c);

	switch (st) {
	case ST_TRUNC:
		c->tc = true;
		return aa;
	case ST_MISS:
		c->rcode = 3; /* NXDOMAIN, also at the end of a chain (RFC 6604 §3) */
		put_soa(c);
		return aa;
	case ST_NODATA:
		put_soa(c);
		return aa;
	case ST_DELEG: {
		const struct zrrset *ns = znode_rrset(c->cut, RRTYPE_NS);

		if (ns != NULL && put_rrset(c, SEC_AUTHORITY, c->cut_owner, c->cut, ns, -1) < 0) {
			c->tc = true;
			return aa;
		}
		put_additional(c, true);
		return aa;
	}
	case ST_HIT:
	case ST_FOLLOW:
		break;
	}
	put_additional(c, false);
	return aa;
}

/* ------------------------------------------------------------------ */
/* The request */

/* What every reply of one request shares: the parameters and the octets
 * kept free at the end for our TSIG. */
struct qenv {
	const struct query_params *p;
	const struct query_xparams *x;
	size_t reserve;
};

static size_t reply_limit(const struct msg_query *q, const struct qenv *e, size_t respcap)
{
	const struct query_params *p = e->p;
	size_t limit;

	if (p->tcp) {
		limit = DNS_TCP_MAXSIZE;
	} else if (q->has_edns) {
		/* RFC 6891 §6.2.5: below 512 counts as 512; we never send
		 * more than our own advertised size. */
		size_t theirs =
		    q->edns_udp_size < DNS_UDP_MINSIZE ? DNS_UDP_MINSIZE : q->edns_udp_size;
		size_t ours = p->max_udp < DNS_UDP_MINSIZE ? DNS_UDP_MINSIZE : p->max_udp;

		limit = theirs < ours ? theirs : ours;
	} else {
		limit = DNS_UDP_MINSIZE;
	}
	if (limit > respcap)
		limit = respcap;
	return limit > e->reserve ? limit - e->reserve : 0;
}

/* Our OPT (RFC 6891 §6.1.2): our payload size, version 0, only DO kept
 * from the request's flags; an Extended DNS Error option (RFC 8914 §2:
 * OPTION-CODE 15, INFO-CODE, no EXTRA-TEXT) when ede is not EDE_NONE. */
static void put_opt(struct msg_build *b, const struct msg_query *q, const struct query_params *p,
		    int rcode, int ede)
{
	uint16_t size = p->max_udp < DNS_UDP_MINSIZE ? DNS_UDP_MINSIZE : p->max_udp;
	uint8_t opt[EDE_OPT_LEN] = {0, EDNS_OPT_EDE, 0, 2, (uint8_t)(ede >> 8), (uint8_t)ede};

	(void)msg_build_opt(b, size, (uint8_t)(rcode >> 4), 0, q->edns_flags & EDNS_FLAG_DO,
			    ede == EDE_NONE ? NULL : opt, ede == EDE_NONE ? 0 : EDE_OPT_LEN);
}

static bool is_error_rcode(int rcode)
{
	return rcode == RCODE_FORMERR || rcode == RCODE_SERVFAIL || rcode == RCODE_NOTIMP ||
	       rcode == RCODE_REFUSED || rcode == RCODE_NOTAUTH || rcode == RCODE_BADVERS;
}

/* A reply without records: the header, the question when we have one,
 * and OPT when the request had one, carrying the extended error ede. */
static size_t error_reply_ede(const struct msg_query *q, bool with_question, uint16_t flags,
			      int rcode, int ede, uint8_t *resp, size_t respcap,
			      const struct qenv *e, struct query_result *r)
{
	struct msg_build b;
	size_t limit = reply_limit(q, e, respcap);

	msg_build_init(&b, resp, respcap, limit);
	if (q->has_edns)
		msg_build_reserve(&b, OPT_RR_LEN + (ede == EDE_NONE ? 0 : EDE_OPT_LEN));
	msg_build_header(&b, q->hdr.id, (uint16_t)(flags | (rcode & 0xf)));
	if (with_question && q->qname_len > 0)
		msg_build_question(&b, q->qname, q->qtype, q->qclass);
	if (q->has_edns)
		put_opt(&b, q, e->p, rcode, ede);
	r->rcode = rcode;
	r->is_error = is_error_rcode(rcode);
	return msg_build_finish(&b);
}

static size_t error_reply(const struct msg_query *q, bool with_question, uint16_t flags, int rcode,
			  uint8_t *resp, size_t respcap, const struct qenv *e,
			  struct query_result *r)
{
	return error_reply_ede(q, with_question, flags, rcode, EDE_NONE, resp, respcap, e, r);
}

/*
 * A signed request that does not verify (RFC 8945 §5.2): NOTAUTH with a
 * TSIG carrying the error. BADKEY, BADSIG and BADTRUNC replies are not
 * signed (MAC size 0; the request's key name, algorithm, time, fudge and
 * original ID, §5.2.1-§5.2.2); a BADTIME reply is signed and carries our
 * time (§5.2.3). The TSIG follows OPT: it is always last (§5.1).
 */
static size_t answer_tsig_error(const struct msg_query *q, const struct tsig_rr *t,
				struct tsig_ctx *ctx, int error, uint16_t base, uint8_t *resp,
				size_t respcap, const struct qenv *e0, struct query_result *r)
{
	struct qenv e = *e0;
	size_t len;
	int n;

	e.reserve =
	    error == TSIG_BADTIME ? tsig_rr_size(ctx->key, TSIG_OTHER_MAX) : tsig_unsigned_size(t);
	len = error_reply(q, true, base, RCODE_NOTAUTH, resp, respcap, &e, r);
	if (error == TSIG_BADTIME)
		n = tsig_sign(resp, len, respcap, ctx, e.x ? e.x->now : 0, TSIG_BADTIME);
	else
		n = tsig_append_unsigned(resp, len, respcap, t, (uint16_t)error);
	return n < 0 ? len : (size_t)n;
}

/* NOTIFY (RFC 1996 §3.7): only from allowed sources, only for a zone we
 * serve, QTYPE SOA. The reply echoes the question with QR and AA. A bad
 * QTYPE is FORMERR (Knot, NSD); a source not allowed is REFUSED (as NSD;
 * Knot says NOTAUTH) so that it learns nothing about our zones; a zone we
 * do not serve is NOTAUTH (Knot; RFC 2136 §2.2 uses NOTAUTH for "not
 * authoritative for the zone named"). With an ACL in x, an entry bound to
 * a key matches only a request verified with that key. */
static size_t answer_notify(const struct zoneset *zs, const struct msg_query *q, uint8_t *resp,
			    size_t respcap, const struct qenv *e, const struct tsig_key *key,
			    struct query_result *r)
{
	uint16_t base = DNS_FLAG_QR | (uint16_t)(OPCODE_NOTIFY << 11);
	uint8_t lower[DNAME_MAXLEN], off[DNAME_MAXLABELS];
	const struct zone *z;
	bool allowed;
	int nl;

	if (q->qtype != RRTYPE_SOA)
		return error_reply(q, true, base, RCODE_FORMERR, resp, respcap, e, r);
	if (e->x && e->x->notify_acl)
		allowed = e->x->peer &&
			  acl_match_key(e->x->notify_acl, e->x->peer, key ? key->name : NULL);
	else
		allowed = e->p->notify_allowed;
	if (!allowed)
		/* EDE 18 Prohibited (RFC 8914 §4.19): refused by policy, as
		 * BIND says for ACL refusals; names no zone either way. */
		return error_reply_ede(q, true, base, RCODE_REFUSED, EDE_PROHIBITED, resp, respcap,
				       e, r);
	memcpy(lower, q->qname, q->qname_len);
	dname_lower(lower);
	nl = name_offsets(lower, off);
	z = zoneset_find_lower(zs, lower, q->qname_len, off, nl);
	if (z == NULL || z->apex_len != q->qname_len || (q->qclass != RRCLASS_IN)) {
		/* Not a zone we serve (yet): NOTAUTH, but the caller still
		 * checks the database for it, so a zone just created there
		 * (mcpd's create_zone sends this NOTIFY) appears at once. */
		if (q->qclass == RRCLASS_IN &&
		    dname_print(lower, r->notify_zone, sizeof(r->notify_zone)) > 0)
			r->notify = true;
		return error_reply(q, true, base, RCODE_NOTAUTH, resp, respcap, e, r);
	}
	r->notify = true;
	snprintf(r->notify_zone, sizeof(r->notify_zone), "%s", z->name_text);
	return error_reply(q, true, base | DNS_FLAG_AA, RCODE_NOERROR, resp, respcap, e, r);
}

/* The serial of the client's SOA in an IXFR request's authority section
 * (RFC 1995 §3). 0 or ERR_MALFORMED when there is none. */
static int ixfr_client_serial(const uint8_t *req, size_t reqlen, const struct msg_query *q,
			      uint32_t *serial)
{
	uint8_t name[DNAME_MAXLEN];
	struct wire w;
	unsigned i;

	wire_init(&w, req, reqlen);
	wire_seek(&w, q->question_end);
	for (i = 0; i < (unsigned)q->hdr.ancount + q->hdr.nscount; i++) {
		uint16_t type, rdlen;
		size_t end;

		if (dname_parse_wire(&w, name) < 0)
			return ERR_MALFORMED;
		type = wire_u16(&w);
		wire_skip(&w, 6);
		rdlen = wire_u16(&w);
		if (w.err || rdlen > wire_left(&w))
			return ERR_MALFORMED;
		end = w.pos + rdlen;
		if (i >= q->hdr.ancount && type == RRTYPE_SOA && dname_equal(name, q->qname)) {
			uint8_t n2[DNAME_MAXLEN];

			if (dname_parse_wire(&w, n2) < 0 || dname_parse_wire(&w, n2) < 0)
				return ERR_MALFORMED;
			*serial = wire_u32(&w);
			if (w.err || w.pos + 16 != end)
				return ERR_MALFORMED;
			return 0;
		}
		wire_seek(&w, end);
	}
	return ERR_MALFORMED;
}

/*
 * AXFR (RFC 5936) and IXFR (RFC 1995) requests. The zone must be one we
 * serve, named exactly, class IN, and the caller's ACL must allow the peer
 * (and key): else REFUSED, which secondaries read as "not allowed". The
 * transfer itself is the caller's (it streams, and IXFR reads the journal),
 * except the IXFR answer "you are up to date": the single SOA (§2, §4).
 */
static size_t answer_xfr(const struct zoneset *zs, const uint8_t *req, size_t reqlen,
			 const struct msg_query *q, uint16_t base, uint8_t *resp, size_t respcap,
			 const struct qenv *e, const struct tsig_ctx *ctx, struct query_result *r)
{
	uint8_t lower[DNAME_MAXLEN], off[DNAME_MAXLABELS];
	const struct query_xparams *x = e->x;
	const struct zone *z;
	uint32_t serial = 0;
	int nl;

	memcpy(lower, q->qname, q->qname_len);
	dname_lower(lower);
	nl = name_offsets(lower, off);
	z = zoneset_find_lower(zs, lower, q->qname_len, off, nl);
	if (z == NULL || z->apex_len != q->qname_len || q->qclass != RRCLASS_IN || x == NULL ||
	    x->xfr_allowed == NULL || !x->xfr_allowed(x->xfr_arg, z, x->peer, ctx->key))
		/* the same code whether or not we serve the zone (RFC 8914 §4.19) */
		return error_reply_ede(q, true, base, RCODE_REFUSED, EDE_PROHIBITED, resp, respcap,
				       e, r);
	if (q->qtype == RRTYPE_IXFR && ixfr_client_serial(req, reqlen, q, &serial) < 0)
		return error_reply(q, true, base, RCODE_FORMERR, resp, respcap, e, r);
	r->id = q->hdr.id;
	memcpy(r->qname, q->qname, q->qname_len);
	r->qclass = q->qclass;
	r->edns = q->has_edns;
	r->edns_flags = q->edns_flags;
	{
		struct qenv e0 = *e;

		e0.reserve = 0;
		r->udp_limit = (uint16_t)reply_limit(q, &e0, respcap);
	}
	r->tsig = *ctx;
	r->xfr_zone = z;
	if (q->qtype == RRTYPE_AXFR) {
		r->xfr = QUERY_XFR_AXFR;
		return 0;
	}
	if (!notify_serial_ge(serial, z->serial)) {
		r->xfr = QUERY_XFR_IXFR;
		r->xfr_serial = serial;
		return 0;
	}
	{
		/* Up to date (or ahead of us): the single SOA (RFC 1995 §2). */
		struct msg_build b;
		struct msg_mark m;
		const uint8_t *rd;
		uint32_t ttl;
		uint16_t rdlen;

		r->xfr_zone = NULL;
		msg_build_init(&b, resp, respcap, reply_limit(q, e, respcap));
		if (q->has_edns)
			msg_build_reserve(&b, OPT_RR_LEN);
		msg_build_header(&b, q->hdr.id, (uint16_t)(base | DNS_FLAG_AA));
		msg_build_question(&b, q->qname, q->qtype, q->qclass);
		zrec_read(zrrset_first(z->apex_node, z->soa), &ttl, &rdlen, &rd);
		m = msg_build_mark(&b);
		if (msg_build_rr(&b, SEC_ANSWER, z->apex, RRTYPE_SOA, RRCLASS_IN, ttl, rd, rdlen) <
		    0) {
			msg_build_rollback(&b, m);
			msg_build_set_flags(&b, (uint16_t)(base | DNS_FLAG_AA | DNS_FLAG_TC));
			r->truncated = true;
		}
		if (q->has_edns)
			put_opt(&b, q, e->p, 0, EDE_NONE);
		r->rcode = RCODE_NOERROR;
		return msg_build_finish(&b);
	}
}

/* Everything after the TSIG check: NOTIFY, transfers, the answer. */
static size_t dispatch(const struct zoneset *zs, const uint8_t *req, size_t reqlen,
		       const struct msg_query *q, uint16_t base, uint8_t *resp, size_t respcap,
		       const struct qenv *e, const struct tsig_ctx *ctx, struct query_result *r)
{
	const struct query_params *p = e->p;
	struct qctx c;
	uint8_t lower[DNAME_MAXLEN], off[DNAME_MAXLABELS];
	uint16_t flags;
	int nl;
	bool aa;

	if (DNS_OPCODE(base) == OPCODE_NOTIFY)
		return answer_notify(zs, q, resp, respcap, e, ctx->key, r);
	if (q->qclass != RRCLASS_IN && q->qclass != RRCLASS_ANY)
		return error_reply(q, true, base, RCODE_REFUSED, resp, respcap, e, r);
	if (q->qtype == 0)
		/* Reserved (RFC 6895 §3.1); Knot answers NOTIMP too. */
		return error_reply(q, true, base, RCODE_NOTIMP, resp, respcap, e, r);
	if (q->qtype == RRTYPE_AXFR || q->qtype == RRTYPE_IXFR) {
		/* RFC 5936 §4.2: AXFR needs TCP (NOTIMP, as Knot and NSD);
		 * IXFR may come over UDP (RFC 1995 §2). */
		if (!p->tcp && q->qtype == RRTYPE_AXFR)
			return error_reply(q, true, base, RCODE_NOTIMP, resp, respcap, e, r);
		return answer_xfr(zs, req, reqlen, q, base, resp, respcap, e, ctx, r);
	}

	memcpy(lower, q->qname, q->qname_len);
	dname_lower(lower);
	nl = name_offsets(lower, off);
	memset(&c, 0, sizeof(c));
	if (q->qtype == RRTYPE_DS && nl > 0) {
		/* DS lives on the parent side of a cut: find the zone from
		 * QNAME's parent (RFC 4035 §3.1.4.1; Knot does the same). */
		const uint8_t *parent = lower + 1 + lower[0];
		uint8_t poff[DNAME_MAXLABELS];
		int pnl = name_offsets(parent, poff);

		c.z = zoneset_find_lower(zs, parent, q->qname_len - 1u - lower[0], poff, pnl);
	}
	if (c.z == NULL)
		c.z = zoneset_find_lower(zs, lower, q->qname_len, off, nl);
	if (c.z == NULL)
		/* EDE 20 Not Authoritative (RFC 8914 §4.21), as NSD and Knot */
		return error_reply_ede(q, true, base, RCODE_REFUSED, EDE_NOT_AUTHORITATIVE, resp,
				       respcap, e, r);

	msg_build_init(&c.b, resp, respcap, reply_limit(q, e, respcap));
	if (q->has_edns)
		msg_build_reserve(&c.b, OPT_RR_LEN);
	msg_build_header(&c.b, q->hdr.id, base);
	if (msg_build_question(&c.b, q->qname, q->qtype, q->qclass) < 0) {
		/* Cannot happen with limit >= 512; answer SERVFAIL anyway. */
		return error_reply(q, false, base, RCODE_SERVFAIL, resp, respcap, e, r);
	}
	c.qtype = q->qtype;
	/* Answers are owned by QNAME as asked: msg_build compresses an owner
	 * equal to QNAME into a pointer to the question, so the client's
	 * case comes back (0x20, RFC 4343 §4.1). */
	c.name = lower;
	c.namelen = q->qname_len;
	c.first = true;
	aa = answer(&c);

	flags = base;
	if (aa)
		flags |= DNS_FLAG_AA;
	if (c.tc)
		flags |= DNS_FLAG_TC;
	flags |= (uint16_t)(c.rcode & 0xf);
	msg_build_set_flags(&c.b, flags);
	if (q->has_edns)
		put_opt(&c.b, q, p, c.rcode, EDE_NONE);
	r->rcode = c.rcode;
	r->truncated = c.tc;
	r->is_error = is_error_rcode(c.rcode);
	return msg_build_finish(&c.b);
}

size_t query_process_ex(const struct zoneset *zs, const uint8_t *req, size_t reqlen, uint8_t *resp,
			size_t respcap, const struct query_params *p, const struct query_xparams *x,
			struct query_result *r)
{
	struct msg_query q;
	struct qenv e = {p, x, 0};
	struct tsig_ctx ctx;
	uint16_t flags, base;
	size_t len;
	int perr;
	unsigned opcode;

	memset(r, 0, sizeof(*r));
	r->tsig_error = -1;
	memset(&ctx, 0, sizeof(ctx));
	if (req == NULL || resp == NULL || respcap < DNS_UDP_MINSIZE || reqlen < DNS_HEADER_LEN) {
		r->dropped = true;
		return 0;
	}
	flags = wire_get_u16(req + 2);
	if (flags & DNS_FLAG_QR) {
		r->dropped = true;
		return 0;
	}
	opcode = DNS_OPCODE(flags);
	r->opcode = (uint8_t)opcode;

	perr = msg_parse_query(req, reqlen, &q);
	r->qtype = q.qname_len > 0 ? q.qtype : 0;
	if (opcode != OPCODE_QUERY && opcode != OPCODE_NOTIFY)
		return error_reply(&q, perr == 0 && q.hdr.qdcount == 1,
				   (uint16_t)(DNS_FLAG_QR | opcode << 11), RCODE_NOTIMP, resp,
				   respcap, &e, r);
	base = (uint16_t)(DNS_FLAG_QR | opcode << 11 | (flags & (DNS_FLAG_RD | DNS_FLAG_CD)));
	if (perr < 0) {
		/* Malformed (two OPTs included, RFC 6891 §6.1.1): the question
		 * is echoed only when it was read completely. */
		return error_reply(&q, q.hdr.qdcount == 1 && q.question_end > 0, base,
				   RCODE_FORMERR, resp, respcap, &e, r);
	}
	if (q.hdr.qdcount != 1 || q.qname_len == 0)
		return error_reply(&q, false, base, RCODE_FORMERR, resp, respcap, &e, r);
	if (q.has_edns && q.edns_version > 0)
		return error_reply(&q, true, base, RCODE_BADVERS, resp, respcap, &e, r);
	if (q.has_tsig) {
		struct tsig_rr t;
		int v;

		/* A TSIG we cannot read is FORMERR (RFC 8945 §5.2). */
		if (tsig_parse(req, reqlen, q.tsig_off, &t) < 0)
			return error_reply(&q, true, base, RCODE_FORMERR, resp, respcap, &e, r);
		memcpy(r->tsig_keyname, t.key, t.key_len);
		v = tsig_verify_request(req, reqlen, &t, x ? x->keys : NULL, x ? x->now : 0, &ctx);
		r->tsig_error = v < 0 ? TSIG_BADSIG : v;
		if (v < 0)
			return error_reply(&q, true, base, RCODE_FORMERR, resp, respcap, &e, r);
		if (v != TSIG_NOERROR)
			return answer_tsig_error(&q, &t, &ctx, v, base, resp, respcap, &e, r);
		e.reserve = tsig_rr_size(ctx.key, 0);
	}
	len = dispatch(zs, req, reqlen, &q, base, resp, respcap, &e, &ctx, r);
	if (len > 0 && ctx.key != NULL) {
		int n = tsig_sign(resp, len, respcap, &ctx, x ? x->now : 0, TSIG_NOERROR);

		if (n > 0)
			len = (size_t)n;
	}
	return len;
}

size_t query_process(const struct zoneset *zs, const uint8_t *req, size_t reqlen, uint8_t *resp,
		     size_t respcap, const struct query_params *p, struct query_result *r)
{
	return query_process_ex(zs, req, reqlen, resp, respcap, p, NULL, r);
}
