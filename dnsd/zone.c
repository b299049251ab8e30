/*
 * zone.c: immutable in-memory zone images, built from SQLite in one read
 * transaction or from the previous image plus the change journal.
 *
 * What a query needs
 * ------------------
 * Answering (query.c) walks a name down from the zone apex one label at a
 * time (RFC 1034 §4.3.2 step 3), so the one operation that must be fast is
 * "give me the node of this exact name". The image is therefore a hash
 * table on lower-cased wire names, and nothing else: no tree, no sorted
 * order, no parent pointers. Everything an answer needs is reached by exact
 * lookups of names the query already holds (each suffix of QNAME, "*." plus
 * the closest encloser, a CNAME/MX/NS/SRV target). Empty non-terminals
 * (RFC 4592 §2.2.2) are real nodes without RRsets, so "the name exists" is
 * a lookup too, and the wildcard rules fall out of it.
 *
 * Each node carries its RRsets pre-encoded: uncompressed wire RDATA (names
 * lower-cased by the codec), sorted by type and then in canonical RDATA
 * order (RFC 4034 §6.3), so two images of the same records are byte-equal.
 * Answering copies RDATA into the packet and only compresses names.
 *
 * Derived facts are kept to what a node knows about itself (ZN_* flags: has
 * NS/CNAME/DNAME/SOA, is a wildcard), plus a child count that keeps empty
 * non-terminals alive. Facts that depend on other nodes (below a zone cut,
 * has a wildcard child, where an MX target lives) are found at query time
 * with one lookup per label: a handful of lookups per query, and in
 * exchange a journal update only touches the nodes it names and their
 * ancestors. The zone-wide facts (the SOA, the negative TTL
 * min(SOA TTL, SOA MINIMUM) of RFC 2308 §3, the serial) sit in struct zone.
 *
 * Shards
 * ------
 * The table is split into 2^k shards of about 32 nodes each (k from the
 * node count at full build). A shard is one malloc: an open-addressing slot
 * array at load <= 1/2 and the nodes back to back. Shards are immutable
 * and reference-counted (C11 atomics), and images share them: applying a
 * journal of c changes rebuilds the O(c) shards it touches and takes a
 * reference on every other one, so a one-record change in a 1M-record zone
 * copies a few kilobytes plus the shard pointer array (~200 KB), not the
 * zone. A 1M-record zone costs about 70-90 bytes per record.
 *
 * Equivalence
 * -----------
 * Both builders end in the same place: a list of "bnodes" (owner, child
 * count, records with per-record TTL) is validated, sorted and serialised by
 * the same code, so a journal update yields the same node bytes a full
 * build would (zone_compare() checks that, tests/unit/test_zone.c uses it).
 * Per-record TTLs are kept (4 bytes each) so that deleting one record of an
 * RRset whose TTLs disagree gives the RRset TTL a full build would give.
 *
 * Validation (both paths): every record parses (rrtype_parse,
 * rdata_parse_text with no origin, since stored names are absolute), lies
 * in the zone, is not a meta type (RFC 6895 §3.1); exactly one SOA and only
 * at the apex; CNAME alone at its name except RRSIG/NSEC and single
 * (RFC 1034 §3.6.2, RFC 2181 §10.1); one DNAME per name (RFC 6672 §2.4).
 * The first failure is reported naming the record and why.
 */
#include "zone.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sqlite3.h>

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "wire.h"
#include "zone_int.h"

#define NODES_PER_SHARD	   32
#define SHARD_BITS_MAX	   24
#define RRSET_MAXCOUNT	   65535
#define JOURNAL_MAX_FACTOR 2 /* more change rows than records/2: rebuild */

/* ------------------------------------------------------------------ */
/* Build-time structures */

/* One record while building. rd points into an arena or an old image. */
struct brec {
	const uint8_t *rd;
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
};

/* One node while building. */
struct bnode {
	const uint8_t *name; /* lower-case wire form */
	uint64_t hash;
	uint32_t nchildren;
	uint8_t namelen;
	bool deleted;	   /* update: node removed (no records, no children) */
	bool owns_recs;	   /* recs was malloc'd for this node */
	uint16_t nrrsets;  /* set by bnode_size() */
	size_t size;	   /* serialised size, set by bnode_size() */
	struct brec *recs; /* sorted and deduplicated before serialising */
	uint32_t nrecs, cap;
};

/* Bump allocator for names and RDATA while building; freed at the end. */
struct achunk {
	struct achunk *next;
	size_t used, cap;
	uint8_t data[];
};

struct arena {
	struct achunk *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	struct achunk *c = a->head;

	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > (1u << 20) ? n : (1u << 20);

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void arena_free(struct arena *a)
{
	struct achunk *c = a->head, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* "www.example.com. MX 10 mail.example.com." for messages. */
static void rec_text(const uint8_t *owner, const struct brec *r, char *buf, size_t cap)
{
	char name[DNAME_TEXT_MAXLEN], type[16];
	char *data = malloc(4 * 65536);
	int n;

	if (dname_print(owner, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	rrtype_print(r->type, type, sizeof(type));
	n = data ? rdata_print(r->type, r->rd, r->rdlen, data, 4 * 65536) : -1;
	snprintf(buf, cap, "%.260s %.16s %.300s", name, type, n >= 0 ? data : "(unprintable)");
	free(data);
}

/* Canonical order of records in a node: type, then RDATA as left-justified
 * octet strings (RFC 4034 §6.3). */
static int brec_cmp(const void *pa, const void *pb)
{
	const struct brec *a = pa, *b = pb;
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	c = n ? memcmp(a->rd, b->rd, n) : 0;
	if (c != 0)
		return c;
	return (a->rdlen > b->rdlen) - (a->rdlen < b->rdlen);
}

static bool brec_same(const struct brec *a, const struct brec *b)
{
	return a->type == b->type && a->rdlen == b->rdlen &&
	       (a->rdlen == 0 || memcmp(a->rd, b->rd, a->rdlen) == 0);
}

/* Sorts and deduplicates a node's records (the smallest TTL of duplicates
 * wins; duplicates only come from non-canonical text in the database). */
static void bnode_normalise(struct bnode *n)
{
	uint32_t i, o;

	if (n->nrecs > 1)
		qsort(n->recs, n->nrecs, sizeof(*n->recs), brec_cmp);
	for (i = 1, o = 1; i < n->nrecs; i++) {
		if (o > 0 && brec_same(&n->recs[o - 1], &n->recs[i])) {
			if (n->recs[i].ttl < n->recs[o - 1].ttl)
				n->recs[o - 1].ttl = n->recs[i].ttl;
			continue;
		}
		n->recs[o++] = n->recs[i];
	}
	if (n->nrecs > 0)
		n->nrecs = o;
}

static bool type_is_meta(uint16_t type)
{
	/* RFC 6895 §3.1: 0 is reserved, OPT is a pseudo-RR, 128-255 are
	 * meta-types and QTYPEs that never sit in a zone. */
	return type == 0 || type == RRTYPE_OPT || (type >= 128 && type <= 255);
}

/* The rules a zone's data must follow; n is normalised. */
static int bnode_validate(const struct bnode *n, bool apex, const char *zname, char *err,
			  size_t cap)
{
	char what[600];
	uint32_t i, run = 0, nsoa = 0, ncname = 0, ndname = 0, other = 0;
	const struct brec *cname = NULL, *first_other = NULL, *soa = NULL, *dname = NULL;

	for (i = 0; i < n->nrecs; i++) {
		const struct brec *r = &n->recs[i];

		run = (i > 0 && r->type == n->recs[i - 1].type) ? run + 1 : 1;
		if (run > RRSET_MAXCOUNT) {
			rec_text(n->name, r, what, sizeof(what));
			err_printf(err, cap,
				   "zone %s: record \"%s\": more than %d records in one RRset",
				   zname, what, RRSET_MAXCOUNT);
			return ERR_RANGE;
		}
		switch (r->type) {
		case RRTYPE_SOA:
			nsoa++;
			soa = r;
			break;
		case RRTYPE_CNAME:
			ncname++;
			cname = r;
			break;
		case RRTYPE_DNAME:
			ndname++;
			dname = r;
			break;
		default:
			break;
		}
		if (r->type != RRTYPE_CNAME && r->type != RRTYPE_RRSIG && r->type != RRTYPE_NSEC) {
			other++;
			if (first_other == NULL)
				first_other = r;
		}
	}
	if (nsoa > 0 && !apex) {
		rec_text(n->name, soa, what, sizeof(what));
		err_printf(err, cap, "zone %s: record \"%s\": SOA is only allowed at the zone apex",
			   zname, what);
		return ERR_INVALID;
	}
	if (apex && nsoa != 1) {
		err_printf(err, cap,
			   "zone %s: the apex has %" PRIu32 " SOA records; exactly one is required",
			   zname, nsoa);
		return ERR_INVALID;
	}
	if (ncname > 1) {
		rec_text(n->name, cname, what, sizeof(what));
		err_printf(
		    err, cap,
		    "zone %s: record \"%s\": more than one CNAME at one name (RFC 2181 §10.1)",
		    zname, what);
		return ERR_CONFLICT;
	}
	if (ncname == 1 && other > 0) {
		rec_text(n->name, first_other, what, sizeof(what));
		err_printf(
		    err, cap,
		    "zone %s: record \"%s\": CNAME and other data at the same name (RFC 1034 "
		    "§3.6.2)",
		    zname, what);
		return ERR_CONFLICT;
	}
	if (ndname > 1) {
		rec_text(n->name, dname, what, sizeof(what));
		err_printf(
		    err, cap,
		    "zone %s: record \"%s\": more than one DNAME at one name (RFC 6672 §2.4)",
		    zname, what);
		return ERR_CONFLICT;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Serialising shards */

static size_t bnode_size(const struct bnode *n, uint16_t *nrrsets)
{
	size_t sz = sizeof(struct znode), data = 0;
	uint16_t k = 0;

	for (uint32_t i = 0; i < n->nrecs; i++) {
		if (i == 0 || n->recs[i].type != n->recs[i - 1].type)
			k++;
		data += 6 + (size_t)n->recs[i].rdlen;
	}
	*nrrsets = k;
	sz += (size_t)k * sizeof(struct zrrset);
	sz += n->namelen;
	sz = (sz + 3) & ~(size_t)3;
	sz += data;
	return (sz + 3) & ~(size_t)3;
}

static uint8_t node_flags(const struct bnode *n)
{
	uint8_t f = 0;

	if (n->namelen >= 2 && n->name[0] == 1 && n->name[1] == '*')
		f |= ZN_WILD;
	for (uint32_t i = 0; i < n->nrecs; i++) {
		switch (n->recs[i].type) {
		case RRTYPE_NS:
			f |= ZN_NS;
			break;
		case RRTYPE_CNAME:
			f |= ZN_CNAME;
			break;
		case RRTYPE_DNAME:
			f |= ZN_DNAME;
			break;
		case RRTYPE_SOA:
			f |= ZN_SOA;
			break;
		case RRTYPE_A:
		case RRTYPE_AAAA:
			f |= ZN_ADDR;
			break;
		default:
			break;
		}
	}
	return f;
}

/* Writes one normalised node at p (zeroed, size bytes). */
static void bnode_write(const struct bnode *n, uint8_t *p, uint16_t nrrsets)
{
	struct znode *zn = (struct znode *)(void *)p;
	struct zrrset *rs = (struct zrrset *)(void *)(zn + 1);
	size_t off;
	uint32_t i;
	int k = -1;

	zn->hash = (uint32_t)n->hash;
	zn->nchildren = n->nchildren;
	zn->nrrsets = nrrsets;
	zn->namelen = n->namelen;
	zn->flags = node_flags(n);
	memcpy(rs + nrrsets, n->name, n->namelen);
	off = sizeof(*zn) + (size_t)nrrsets * sizeof(*rs) + n->namelen;
	off = (off + 3) & ~(size_t)3;
	for (i = 0; i < n->nrecs; i++) {
		const struct brec *r = &n->recs[i];

		if (i == 0 || r->type != n->recs[i - 1].type) {
			k++;
			rs[k].type = r->type;
			rs[k].count = 0;
			rs[k].ttl = r->ttl;
			rs[k].off = (uint32_t)off;
		}
		rs[k].count++;
		if (r->ttl < rs[k].ttl)
			rs[k].ttl = r->ttl;
		p[off] = (uint8_t)(r->ttl >> 24);
		p[off + 1] = (uint8_t)(r->ttl >> 16);
		p[off + 2] = (uint8_t)(r->ttl >> 8);
		p[off + 3] = (uint8_t)r->ttl;
		p[off + 4] = (uint8_t)(r->rdlen >> 8);
		p[off + 5] = (uint8_t)r->rdlen;
		if (r->rdlen)
			memcpy(p + off + 6, r->rd, r->rdlen);
		off += 6 + (size_t)r->rdlen;
	}
}

/* Builds one shard from n normalised, live nodes. */
static struct shard *shard_build(struct bnode *const *nodes, size_t n, char *err, size_t cap)
{
	struct shard *s;
	size_t total = 0, slots = 1, off;
	uint8_t *blob;

	for (size_t i = 0; i < n; i++) {
		nodes[i]->size = bnode_size(nodes[i], &nodes[i]->nrrsets);
		total += nodes[i]->size;
	}
	while (slots < 2 * n)
		slots <<= 1;
	if (total >= UINT32_MAX || slots > UINT32_MAX / 2) {
		err_printf(err, cap, "a shard of the zone would exceed 4 GB");
		return NULL;
	}
	s = calloc(1, sizeof(*s) + slots * sizeof(uint64_t) + total);
	if (s == NULL) {
		err_printf(err, cap, "out of memory building the zone");
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->nnodes = (uint32_t)n;
	s->mask = (uint32_t)(slots - 1);
	s->bloblen = (uint32_t)total;
	blob = (uint8_t *)(s->slots + slots);
	off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sz = nodes[i]->size;
		uint32_t j = (uint32_t)nodes[i]->hash & s->mask;

		bnode_write(nodes[i], blob + off, nodes[i]->nrrsets);
		while (s->slots[j] != 0)
			j = (j + 1) & s->mask;
		s->slots[j] = (uint64_t)(uint32_t)nodes[i]->hash << 32 | ((uint64_t)off + 1);
		off += sz;
	}
	return s;
}

static void shard_unref(struct shard *s)
{
	if (s != NULL && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		free(s);
}

static unsigned shard_bits_for(size_t nnodes)
{
	unsigned bits = 0;

	while (bits < SHARD_BITS_MAX && ((size_t)NODES_PER_SHARD << bits) < nnodes)
		bits++;
	return bits;
}

static inline size_t shard_of(uint64_t h, unsigned bits)
{
	return bits ? (size_t)(h >> (64 - bits)) : 0;
}

static void zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	if (z->shards != NULL)
		for (size_t i = 0; i < ((size_t)1 << z->shard_bits); i++)
			shard_unref(z->shards[i].s);
	free(z->shards);
	free(z->name_text);
	free(z);
}

/* Sets the zone-wide facts from the apex node. */
static int zone_finish(struct zone *z, char *err, size_t cap)
{
	const struct zrrset *soa;
	const uint8_t *rd;
	uint32_t ttl, minimum;
	uint16_t rdlen;
	size_t mname, rname;
	int r1, r2;

	for (size_t i = 0; i < ((size_t)1 << z->shard_bits); i++)
		z->shards[i].mask = z->shards[i].s->mask;
	z->apex_node = zone_lookup(z, z->apex, z->apex_len);
	if (z->apex_node == NULL || (soa = znode_rrset(z->apex_node, RRTYPE_SOA)) == NULL) {
		err_printf(err, cap, "zone %s has no SOA record at its apex", z->name_text);
		return ERR_INVALID;
	}
	zrec_read(zrrset_first(z->apex_node, soa), &ttl, &rdlen, &rd);
	r1 = dname_check(rd, rdlen);
	r2 = r1 > 0 ? dname_check(rd + r1, rdlen - (size_t)r1) : -1;
	if (r1 <= 0 || r2 <= 0 || (size_t)r1 + (size_t)r2 + 20 != rdlen) {
		err_printf(err, cap, "zone %s: the SOA RDATA is malformed", z->name_text);
		return ERR_MALFORMED;
	}
	mname = (size_t)r1;
	rname = (size_t)r2;
	z->soa = soa;
	z->serial = wire_get_u32(rd + mname + rname);
	minimum = wire_get_u32(rd + mname + rname + 16);
	/* RFC 2308 §3: the negative TTL is the smaller of the SOA's own TTL
	 * and its MINIMUM field. */
	z->neg_ttl = soa->ttl < minimum ? soa->ttl : minimum;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Full build */

struct fbuild {
	struct arena arena;
	struct bnode *nodes; /* all nodes, ENTs appended as found */
	size_t nnodes, capnodes;
	uint64_t *table; /* name -> hash << 32 | node index + 1 (0: empty) */
	size_t tmask;
	struct brec *recs; /* all records, in row order */
	uint32_t *recnode; /* node index of each record */
	size_t nrecs, caprecs;
};

static int fb_grow_table(struct fbuild *b)
{
	size_t n = b->table ? (b->tmask + 1) * 2 : 1024;
	uint64_t *t = calloc(n, sizeof(*t));

	if (t == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < b->nnodes; i++) {
		size_t j = (size_t)b->nodes[i].hash & (n - 1);

		while (t[j] != 0)
			j = (j + 1) & (n - 1);
		t[j] = (b->nodes[i].hash & 0xffffffff00000000ULL) | ((uint64_t)i + 1);
	}
	free(b->table);
	b->table = t;
	b->tmask = n - 1;
	return 0;
}

/* Node index of a lower-case name, created when missing (*created set).
 * The table keeps the upper hash bits next to the index, so a probe
 * touches the node only when those match (the node array is tens of
 * megabytes for a large zone: every avoided access is a cache miss). */
static long fb_intern(struct fbuild *b, const uint8_t *name, size_t len, bool *created)
{
	uint64_t h = zone_hash(name, len), tag = h & 0xffffffff00000000ULL;
	size_t j;

	*created = false;
	if (b->table == NULL || (b->nnodes + 1) * 2 > b->tmask + 1)
		if (fb_grow_table(b) < 0)
			return ERR_NOMEM;
	j = (size_t)h & b->tmask;
	while (b->table[j] != 0) {
		if ((b->table[j] & 0xffffffff00000000ULL) == tag) {
			uint32_t idx = (uint32_t)b->table[j] - 1;
			struct bnode *n = &b->nodes[idx];

			if (n->namelen == len && memcmp(n->name, name, len) == 0)
				return (long)idx;
		}
		j = (j + 1) & b->tmask;
	}
	if (b->nnodes == b->capnodes) {
		size_t nc = b->capnodes ? b->capnodes * 2 : 1024;
		struct bnode *nn = realloc(b->nodes, nc * sizeof(*nn));

		if (nn == NULL)
			return ERR_NOMEM;
		b->nodes = nn;
		b->capnodes = nc;
	}
	uint8_t *copy = arena_alloc(&b->arena, len);
	if (copy == NULL)
		return ERR_NOMEM;
	memcpy(copy, name, len);
	memset(&b->nodes[b->nnodes], 0, sizeof(b->nodes[0]));
	b->nodes[b->nnodes].name = copy;
	b->nodes[b->nnodes].namelen = (uint8_t)len;
	b->nodes[b->nnodes].hash = h;
	b->table[j] = tag | ((uint64_t)b->nnodes + 1);
	*created = true;
	return (long)b->nnodes++;
}

static int fb_add(struct fbuild *b, long node, uint16_t type, uint32_t ttl, const uint8_t *rd,
		  uint16_t rdlen)
{
	uint8_t *copy = NULL;

	if (b->nrecs == b->caprecs) {
		size_t nc = b->caprecs ? b->caprecs * 2 : 4096;
		struct brec *nr = realloc(b->recs, nc * sizeof(*nr));
		uint32_t *nn;

		if (nr == NULL)
			return ERR_NOMEM;
		b->recs = nr;
		nn = realloc(b->recnode, nc * sizeof(*nn));
		if (nn == NULL)
			return ERR_NOMEM;
		b->recnode = nn;
		b->caprecs = nc;
	}
	if (rdlen > 0) {
		copy = arena_alloc(&b->arena, rdlen);
		if (copy == NULL)
			return ERR_NOMEM;
		memcpy(copy, rd, rdlen);
	}
	b->recs[b->nrecs].rd = copy;
	b->recs[b->nrecs].rdlen = rdlen;
	b->recs[b->nrecs].ttl = ttl;
	b->recs[b->nrecs].type = type;
	b->recnode[b->nrecs] = (uint32_t)node;
	b->nrecs++;
	return 0;
}

static void fb_free(struct fbuild *b)
{
	arena_free(&b->arena);
	free(b->nodes);
	free(b->table);
	free(b->recs);
	free(b->recnode);
	memset(b, 0, sizeof(*b));
}

/* Parses one row's text into wire form. Returns 0 or an error with err
 * naming the record. */
struct rowparse {
	uint8_t owner[DNAME_MAXLEN];
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	uint8_t *rd; /* RDATA_MAXLEN buffer */
	uint16_t rdlen;
};

static int parse_row(const char *zname, const uint8_t *apex, const char *name, size_t namelen,
		     const char *type, size_t typelen, sqlite3_int64 ttl, const char *data,
		     size_t datalen, bool same_owner, struct rowparse *out, char *err, size_t cap)
{
	struct text_err te;
	int r, t;

	memset(&te, 0, sizeof(te));
#define ROWERR(...)                                                                                \
	do {                                                                                       \
		char why_[256];                                                                    \
		snprintf(why_, sizeof(why_), __VA_ARGS__);                                         \
		err_printf(err, cap, "zone %s: record \"%.*s %.*s %.*s\": %s", zname,              \
			   (int)namelen, name, (int)typelen, type,                                 \
			   (int)(datalen > 200 ? 200 : datalen), data, why_);                      \
	} while (0)

	/* Rows of one name usually come together: parse the owner once. */
	if (!same_owner) {
		r = dname_parse_text(name, namelen, NULL, out->owner);
		if (r < 0) {
			ROWERR("owner name: %s", err_str(r));
			return r;
		}
		out->owner_len = (size_t)r;
		dname_lower(out->owner);
		if (!dname_is_subdomain(out->owner, apex)) {
			ROWERR("owner is outside the zone");
			return ERR_NOT_IN_ZONE;
		}
	}
	t = rrtype_parse(type, typelen);
	if (t < 0) {
		ROWERR("unknown type");
		return t;
	}
	if (type_is_meta((uint16_t)t)) {
		ROWERR("type %d cannot be stored in a zone (RFC 6895 §3.1)", t);
		return ERR_INVALID;
	}
	out->type = (uint16_t)t;
	if (ttl < 0 || ttl > 2147483647) {
		ROWERR("TTL %lld is out of range 0..2147483647 (RFC 2181 §8)", (long long)ttl);
		return ERR_RANGE;
	}
	out->ttl = (uint32_t)ttl;
	r = rdata_parse_text(out->type, data, datalen, NULL, out->rd, RDATA_MAXLEN, &te);
	if (r < 0) {
		if (te.msg[0])
			ROWERR("%s (at offset %zu)", te.msg, te.offset);
		else
			ROWERR("%s", err_str(r));
		return r;
	}
	out->rdlen = (uint16_t)r;
	return 0;
#undef ROWERR
}

/* Lays out normalised, validated live nodes into the zone's shards. */
static int zone_layout(struct zone *z, struct bnode **live, size_t nlive, char *err, size_t cap)
{
	size_t nsh = (size_t)1 << z->shard_bits;
	size_t *start = calloc(nsh + 1, sizeof(*start));
	struct bnode **sorted = malloc((nlive ? nlive : 1) * sizeof(*sorted));
	int ret = ERR_NOMEM;

	z->shards = calloc(nsh, sizeof(*z->shards));
	if (start == NULL || sorted == NULL || z->shards == NULL) {
		err_printf(err, cap, "out of memory building zone %s", z->name_text);
		goto fail;
	}
	for (size_t i = 0; i < nlive; i++)
		start[shard_of(live[i]->hash, z->shard_bits) + 1]++;
	for (size_t i = 0; i < nsh; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < nlive; i++)
		sorted[start[shard_of(live[i]->hash, z->shard_bits)]++] = live[i];
	/* start[i] now holds the end of shard i. */
	for (size_t i = 0, from = 0; i < nsh; i++) {
		z->shards[i].s = shard_build(sorted + from, start[i] - from, err, cap);
		if (z->shards[i].s == NULL) {
			ret = ERR_NOMEM;
			goto fail;
		}
		from = start[i];
	}
	ret = 0;
fail:
	free(start);
	free(sorted);
	return ret;
}

static int db_err(sqlite3 *db, const char *what, const char *zname, char *err, size_t cap)
{
	err_printf(err, cap, "zone %s: %s: %s", zname, what, sqlite3_errmsg(db));
	return ERR_DB;
}

static struct zone *zone_alloc(const char *name_text, const uint8_t *apex, size_t apex_len)
{
	struct zone *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->name_text = malloc(DNAME_TEXT_MAXLEN);
	if (z->name_text == NULL) {
		free(z);
		return NULL;
	}
	if (dname_print(apex, z->name_text, DNAME_TEXT_MAXLEN) < 0)
		snprintf(z->name_text, DNAME_TEXT_MAXLEN, "%s", name_text);
	atomic_init(&z->refs, 1);
	memcpy(z->apex, apex, apex_len);
	z->apex_len = (uint8_t)apex_len;
	z->apex_labels = (uint8_t)dname_labels(apex);
	return z;
}

/* Reads zones.id, zones.serial and the newest change id in the current
 * transaction. Returns 0, ERR_NOTFOUND or ERR_DB. */
static int read_zone_row(sqlite3 *db, const char *zname, int64_t *id, uint32_t *serial,
			 int64_t *last_change, char *err, size_t cap)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = ERR_DB;

	if (sqlite3_prepare_v2(db, "SELECT id, serial FROM zones WHERE name = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(db, "reading the zones table", zname, err, cap);
	sqlite3_bind_text(st, 1, zname, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		err_printf(err, cap, "zone %s is not in the database", zname);
		ret = ERR_NOTFOUND;
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		ret = db_err(db, "reading the zones table", zname, err, cap);
		goto fail;
	}
	*id = sqlite3_column_int64(st, 0);
	*serial = (uint32_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM changes WHERE zone_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(db, "reading the changes table", zname, err, cap);
	sqlite3_bind_int64(st, 1, *id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		ret = db_err(db, "reading the changes table", zname, err, cap);
		goto fail;
	}
	*last_change = sqlite3_column_int64(st, 0);
	ret = 0;
fail:
	sqlite3_finalize(st);
	return ret;
}

static long count_zones(sqlite3 *db)
{
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM zones", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Parses name_text into the lower-case apex; "example.com" and
 * "example.com." are both accepted. */
static int parse_apex(const char *name_text, uint8_t apex[DNAME_MAXLEN], char *canon, size_t ccap,
		      char *err, size_t cap)
{
	static const uint8_t root[1] = {0};
	int r;

	if (name_text == NULL) {
		err_printf(err, cap, "no zone name given");
		return ERR_INVALID;
	}
	r = dname_parse_text(name_text, strlen(name_text), root, apex);
	if (r < 0) {
		err_printf(err, cap, "zone name \"%s\": %s", name_text, err_str(r));
		return r;
	}
	dname_lower(apex);
	if (dname_print(apex, canon, ccap) < 0) {
		err_printf(err, cap, "zone name \"%s\" is too long", name_text);
		return ERR_NAME_TOO_LONG;
	}
	return r;
}

struct zone *zone_build_from_db(struct sqlite3 *db, const char *name_text, char *err, size_t errcap)
{
	char zname[DNAME_TEXT_MAXLEN];
	uint8_t apex[DNAME_MAXLEN];
	struct fbuild b;
	struct rowparse row;
	struct zone *z = NULL;
	struct bnode **live = NULL;
	sqlite3_stmt *st = NULL;
	bool in_txn = false, created;
	uint32_t dbserial = 0;
	int64_t zone_id = 0, last_change = 0;
	long prev = -1, apex_idx;
	size_t prev_len = 0, nlive = 0, nrecords = 0;
	char prev_name[DNAME_TEXT_MAXLEN];
	int rc, apex_len;

	memset(&b, 0, sizeof(b));
	row.rd = NULL;
	if (err && errcap)
		err[0] = '\0';
	apex_len = parse_apex(name_text, apex, zname, sizeof(zname), err, errcap);
	if (apex_len < 0)
		return NULL;
	if (db == NULL) {
		err_printf(err, errcap, "zone %s: no database", zname);
		return NULL;
	}
	row.rd = malloc(RDATA_MAXLEN);
	z = zone_alloc(zname, apex, (size_t)apex_len);
	if (row.rd == NULL || z == NULL) {
		err_printf(err, errcap, "out of memory building zone %s", zname);
		goto fail;
	}

	/* One read transaction: the records, the serial and the journal
	 * position are one snapshot (WAL readers never block the writer). */
	if (sqlite3_exec(db, "SAVEPOINT zone_build", NULL, NULL, NULL) != SQLITE_OK) {
		db_err(db, "starting a read transaction", zname, err, errcap);
		goto fail;
	}
	in_txn = true;
	if (read_zone_row(db, zname, &zone_id, &dbserial, &last_change, err, errcap) < 0)
		goto fail;
	/* With one zone in the database a plain table scan beats walking the
	 * index and fetching each row by rowid (0.3 s against 0.5 s for 1M
	 * records); with many zones the index reads only this zone's rows. */
	if (sqlite3_prepare_v2(db,
			       count_zones(db) <= 1
				   ? "SELECT name, type, ttl, data FROM records NOT INDEXED "
				     "WHERE zone_id = ?1"
				   : "SELECT name, type, ttl, data FROM records WHERE zone_id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		db_err(db, "reading the records table", zname, err, errcap);
		goto fail;
	}
	sqlite3_bind_int64(st, 1, zone_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t namelen = (size_t)sqlite3_column_bytes(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		size_t typelen = (size_t)sqlite3_column_bytes(st, 1);
		sqlite3_int64 ttl = sqlite3_column_int64(st, 2);
		const char *data = (const char *)sqlite3_column_text(st, 3);
		size_t datalen = (size_t)sqlite3_column_bytes(st, 3);
		long node;
		bool same;

		if (name == NULL || type == NULL || data == NULL) {
			err_printf(err, errcap, "zone %s: a record row has a NULL column", zname);
			goto fail;
		}
		same = prev >= 0 && namelen == prev_len && memcmp(prev_name, name, namelen) == 0;
		if (parse_row(zname, apex, name, namelen, type, typelen, ttl, data, datalen, same,
			      &row, err, errcap) < 0)
			goto fail;
		if (same) {
			node = prev;
		} else {
			node = fb_intern(&b, row.owner, row.owner_len, &created);
			if (node < 0)
				goto nomem;
			if (namelen < sizeof(prev_name)) {
				memcpy(prev_name, name, namelen);
				prev_len = namelen;
				prev = node;
			} else {
				prev = -1;
			}
		}
		if (fb_add(&b, node, row.type, row.ttl, row.rd, row.rdlen) < 0)
			goto nomem;
	}
	if (rc != SQLITE_DONE) {
		db_err(db, "reading the records table", zname, err, errcap);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_exec(db, "RELEASE zone_build", NULL, NULL, NULL);
	in_txn = false;

	/* The apex, then every ancestor up to it: the ones that have no
	 * records of their own are the empty non-terminals. Nodes appended
	 * by fb_intern are visited by this same loop. */
	apex_idx = fb_intern(&b, apex, (size_t)apex_len, &created);
	if (apex_idx < 0)
		goto nomem;
	for (size_t i = 0; i < b.nnodes; i++) {
		const uint8_t *parent;
		long p;

		if ((long)i == apex_idx)
			continue;
		parent = b.nodes[i].name + 1 + b.nodes[i].name[0];
		p = fb_intern(&b, parent, b.nodes[i].namelen - 1u - b.nodes[i].name[0], &created);
		if (p < 0)
			goto nomem;
		b.nodes[p].nchildren++;
	}

	/* Group records by node (counting sort), then normalise each node. */
	{
		size_t *pos = calloc(b.nnodes + 1, sizeof(*pos));
		struct brec *sorted = malloc((b.nrecs ? b.nrecs : 1) * sizeof(*sorted));

		if (pos == NULL || sorted == NULL) {
			free(pos);
			free(sorted);
			goto nomem;
		}
		for (size_t i = 0; i < b.nrecs; i++)
			pos[b.recnode[i] + 1]++;
		for (size_t i = 0; i < b.nnodes; i++) {
			b.nodes[i].recs = sorted + pos[i];
			b.nodes[i].nrecs = (uint32_t)pos[i + 1];
			pos[i + 1] += pos[i];
		}
		for (size_t i = 0; i < b.nrecs; i++)
			sorted[pos[b.recnode[i]]++] = b.recs[i];
		free(pos);
		free(b.recs);
		free(b.recnode);
		b.recnode = NULL;
		b.recs = sorted; /* freed by fb_free */
	}
	live = malloc((b.nnodes ? b.nnodes : 1) * sizeof(*live));
	if (live == NULL)
		goto nomem;
	for (size_t i = 0; i < b.nnodes; i++) {
		bnode_normalise(&b.nodes[i]);
		if (bnode_validate(&b.nodes[i], (long)i == apex_idx, zname, err, errcap) < 0)
			goto fail;
		nrecords += b.nodes[i].nrecs;
		live[nlive++] = &b.nodes[i];
	}

	z->zone_id = zone_id;
	z->last_change_id = last_change;
	z->nrecords = nrecords;
	z->nnodes = nlive;
	z->shard_bits = shard_bits_for(nlive);
	if (zone_layout(z, live, nlive, err, errcap) < 0)
		goto fail;
	if (zone_finish(z, err, errcap) < 0)
		goto fail;
	if (z->serial != dbserial) {
		err_printf(err, errcap,
			   "zone %s: zones.serial is %" PRIu32 " but the SOA record says %" PRIu32
			   "; they must be equal",
			   zname, dbserial, z->serial);
		goto fail;
	}
	free(live);
	free(row.rd);
	fb_free(&b);
#ifdef __GLIBC__
	/* The build's temporary arrays are gone; give their pages back so
	 * the resident size is the image, not the peak. */
	malloc_trim(0);
#endif
	return z;

nomem:
	err_printf(err, errcap, "out of memory building zone %s", zname);
fail:
	if (st != NULL)
		sqlite3_finalize(st);
	if (in_txn)
		sqlite3_exec(db, "ROLLBACK TO zone_build; RELEASE zone_build", NULL, NULL, NULL);
	free(live);
	free(row.rd);
	fb_free(&b);
	zone_free(z);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Journal updates */

/* A changed node during an update; lives in the dirty table. */
struct unode {
	struct bnode b;
	struct unode *next_dirty; /* list of all dirty nodes */
};

struct update {
	const struct zone *old;
	struct arena arena;   /* new names and RDATA */
	struct unode **table; /* name -> dirty node */
	size_t tmask, ndirty;
	struct unode *dirty;   /* all dirty nodes */
	long dnodes, drecords; /* changes in node and record counts */
	char *err;
	size_t errcap;
};

/* Decodes a node of an image into b (records point into the image). */
static int decode_node(const struct znode *zn, struct bnode *b, bool own)
{
	const struct zrrset *rs = znode_rrsets(zn);
	uint32_t total = 0, k = 0;

	memset(b, 0, sizeof(*b));
	b->name = znode_name(zn);
	b->namelen = zn->namelen;
	b->hash = zone_hash(b->name, b->namelen);
	b->nchildren = zn->nchildren;
	for (uint16_t i = 0; i < zn->nrrsets; i++)
		total += rs[i].count;
	b->cap = total ? total : 1;
	b->recs = malloc(b->cap * sizeof(*b->recs));
	if (b->recs == NULL)
		return ERR_NOMEM;
	b->owns_recs = own;
	for (uint16_t i = 0; i < zn->nrrsets; i++) {
		const uint8_t *p = zrrset_first(zn, &rs[i]);

		for (uint16_t j = 0; j < rs[i].count; j++) {
			struct brec *r = &b->recs[k++];
			uint16_t rdlen;

			p = zrec_read(p, &r->ttl, &rdlen, &r->rd);
			r->rdlen = rdlen;
			r->type = rs[i].type;
		}
	}
	b->nrecs = k;
	return 0;
}

static int up_grow(struct update *u)
{
	size_t n = u->table ? (u->tmask + 1) * 2 : 64;
	struct unode **t = calloc(n, sizeof(*t));

	if (t == NULL)
		return ERR_NOMEM;
	for (struct unode *d = u->dirty; d != NULL; d = d->next_dirty) {
		size_t j = (size_t)d->b.hash & (n - 1);

		while (t[j] != NULL)
			j = (j + 1) & (n - 1);
		t[j] = d;
	}
	free(u->table);
	u->table = t;
	u->tmask = n - 1;
	return 0;
}

static struct unode *up_find(const struct update *u, const uint8_t *name, size_t len, uint64_t h)
{
	if (u->table == NULL)
		return NULL;
	for (size_t j = (size_t)h & u->tmask; u->table[j] != NULL; j = (j + 1) & u->tmask) {
		struct unode *d = u->table[j];

		if (d->b.hash == h && d->b.namelen == len && memcmp(d->b.name, name, len) == 0)
			return d;
	}
	return NULL;
}

static struct unode *up_insert(struct update *u, struct unode *d)
{
	size_t j;

	if (u->table == NULL || (u->ndirty + 1) * 2 > u->tmask + 1)
		if (up_grow(u) < 0)
			return NULL;
	j = (size_t)d->b.hash & u->tmask;
	while (u->table[j] != NULL)
		j = (j + 1) & u->tmask;
	u->table[j] = d;
	d->next_dirty = u->dirty;
	u->dirty = d;
	u->ndirty++;
	return d;
}

/* The dirty node of a name: from the dirty table, else copied from the old
 * image, else (create) a new empty node whose ancestors are made to exist
 * and which its parent counts. Returns NULL when absent (and !create) or on
 * ENOMEM (u->err says so). A deleted node is returned as is. */
static struct unode *up_node(struct update *u, const uint8_t *name, size_t len, bool create)
{
	uint64_t h = zone_hash(name, len);
	struct unode *d = up_find(u, name, len, h);
	const struct znode *zn;

	if (d == NULL) {
		zn = zone_lookup_h(u->old, name, len, h);
		if (zn == NULL && !create)
			return NULL;
		d = calloc(1, sizeof(*d));
		if (d == NULL)
			goto nomem;
		if (zn != NULL) {
			if (decode_node(zn, &d->b, true) < 0) {
				free(d);
				goto nomem;
			}
		} else {
			uint8_t *copy = arena_alloc(&u->arena, len);

			if (copy == NULL) {
				free(d);
				goto nomem;
			}
			memcpy(copy, name, len);
			d->b.name = copy;
			d->b.namelen = (uint8_t)len;
			d->b.hash = h;
			d->b.owns_recs = true;
			d->b.deleted = true; /* brought to life below */
		}
		if (up_insert(u, d) == NULL) {
			free(d->b.recs);
			free(d);
			goto nomem;
		}
	}
	if (d->b.deleted && create) {
		/* (Re)create: the parent must exist and counts one more child. */
		d->b.deleted = false;
		u->dnodes++;
		if (len != u->old->apex_len) {
			size_t plen = len - 1u - name[0];
			struct unode *p = up_node(u, name + 1 + name[0], plen, true);

			if (p == NULL)
				return NULL;
			p->b.nchildren++;
		}
	}
	return d;
nomem:
	err_printf(u->err, u->errcap, "out of memory applying the journal of zone %s",
		   u->old->name_text);
	return NULL;
}

/* Removes d when it has neither records nor children, then its parent if
 * that became an empty non-terminal without children, and so on. */
static void up_prune(struct update *u, struct unode *d)
{
	while (d != NULL && !d->b.deleted && d->b.nrecs == 0 && d->b.nchildren == 0 &&
	       d->b.namelen != u->old->apex_len) {
		const uint8_t *pname = d->b.name + 1 + d->b.name[0];
		size_t plen = d->b.namelen - 1u - d->b.name[0];

		d->b.deleted = true;
		u->dnodes--;
		d = up_node(u, pname, plen, false);
		if (d != NULL && d->b.nchildren > 0)
			d->b.nchildren--;
	}
}

static int up_reserve(struct bnode *b)
{
	if (b->nrecs == b->cap) {
		uint32_t nc = b->cap ? b->cap * 2 : 4;
		struct brec *nr = realloc(b->recs, nc * sizeof(*nr));

		if (nr == NULL)
			return ERR_NOMEM;
		b->recs = nr;
		b->cap = nc;
	}
	return 0;
}

/* Applies one journal row. */
static int up_apply(struct update *u, bool add, const struct rowparse *row, const char *what)
{
	struct unode *d;
	uint32_t i;

	d = up_node(u, row->owner, row->owner_len, add);
	if (d == NULL && add)
		return ERR_NOMEM;
	i = UINT32_MAX;
	if (d != NULL && !d->b.deleted) {
		for (i = 0; i < d->b.nrecs; i++) {
			struct brec *r = &d->b.recs[i];

			if (r->type == row->type && r->rdlen == row->rdlen &&
			    (row->rdlen == 0 || memcmp(r->rd, row->rd, row->rdlen) == 0))
				break;
		}
	}
	if (!add) {
		if (d == NULL || d->b.deleted || i >= d->b.nrecs) {
			err_printf(
			    u->err, u->errcap,
			    "zone %s: the journal deletes \"%s\", which the loaded image does not "
			    "have",
			    u->old->name_text, what);
			return ERR_CONFLICT;
		}
		d->b.recs[i] = d->b.recs[--d->b.nrecs];
		u->drecords--;
		up_prune(u, d);
		return 0;
	}
	if (i < d->b.nrecs) {
		/* The same record again: a TTL change (the table keeps one row
		 * per name, type and data). */
		d->b.recs[i].ttl = row->ttl;
		return 0;
	}
	if (up_reserve(&d->b) < 0)
		return ERR_NOMEM;
	uint8_t *copy = NULL;
	if (row->rdlen > 0) {
		copy = arena_alloc(&u->arena, row->rdlen);
		if (copy == NULL)
			return ERR_NOMEM;
		memcpy(copy, row->rd, row->rdlen);
	}
	d->b.recs[d->b.nrecs].rd = copy;
	d->b.recs[d->b.nrecs].rdlen = row->rdlen;
	d->b.recs[d->b.nrecs].ttl = row->ttl;
	d->b.recs[d->b.nrecs].type = row->type;
	d->b.nrecs++;
	u->drecords++;
	return 0;
}

static void up_free(struct update *u)
{
	struct unode *d = u->dirty, *next;

	for (; d != NULL; d = next) {
		next = d->next_dirty;
		free(d->b.recs);
		free(d);
	}
	free(u->table);
	arena_free(&u->arena);
}

/* Collects every live node of shard s of the old image, replacing the
 * dirty ones by their new state, plus the dirty nodes new to that shard.
 * nodes/tmp are grown by the caller-provided vectors. */
struct nodevec {
	struct bnode **v;
	size_t n, cap;
};

static int nv_push(struct nodevec *nv, struct bnode *b)
{
	if (nv->n == nv->cap) {
		size_t nc = nv->cap ? nv->cap * 2 : 64;
		struct bnode **v = realloc(nv->v, nc * sizeof(*v));

		if (v == NULL)
			return ERR_NOMEM;
		nv->v = v;
		nv->cap = nc;
	}
	nv->v[nv->n++] = b;
	return 0;
}

/* Decoded clean nodes of one shard, kept until the shard is built. */
struct cleanvec {
	struct bnode *v;
	size_t n, cap;
};

static int build_shard_from(struct update *u, const struct shard *olds, size_t shard_idx,
			    unsigned bits, struct nodevec *dirty_here, struct shard **out)
{
	struct cleanvec cv = {0};
	struct nodevec all = {0};
	int ret = ERR_NOMEM;

	if (olds != NULL) {
		cv.cap = olds->nnodes ? olds->nnodes : 1;
		cv.v = calloc(cv.cap, sizeof(*cv.v));
		if (cv.v == NULL)
			goto fail;
		for (uint32_t i = 0; i <= olds->mask; i++) {
			const struct znode *zn = shard_node(olds, i);
			uint64_t h;

			if (zn == NULL)
				continue;
			h = zone_hash(znode_name(zn), zn->namelen);
			if (up_find(u, znode_name(zn), zn->namelen, h) != NULL)
				continue; /* its new state is in the dirty list */
			if (shard_of(h, bits) != shard_idx)
				continue; /* relayout: belongs elsewhere now */
			if (decode_node(zn, &cv.v[cv.n], false) < 0)
				goto fail;
			cv.n++;
			if (nv_push(&all, &cv.v[cv.n - 1]) < 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < dirty_here->n; i++)
		if (nv_push(&all, dirty_here->v[i]) < 0)
			goto fail;
	*out = shard_build(all.v, all.n, u->err, u->errcap);
	ret = *out ? 0 : ERR_NOMEM;
fail:
	if (ret == ERR_NOMEM && *out == NULL)
		err_printf(u->err, u->errcap, "out of memory applying the journal of zone %s",
			   u->old->name_text);
	for (size_t i = 0; i < cv.n; i++)
		free(cv.v[i].recs);
	free(cv.v);
	free(all.v);
	return ret;
}

struct jchange {
	int64_t id;
	uint32_t before, after;
};

struct zone *zone_update_from_journal(struct sqlite3 *db, const struct zone *old, char *err,
				      size_t errcap)
{
	struct update u;
	struct rowparse row;
	struct zone *z = NULL;
	struct jchange *ch = NULL;
	sqlite3_stmt *st = NULL;
	struct nodevec *per = NULL;
	size_t nch = 0, capch = 0, nsh, nrows = 0;
	bool in_txn = false, relayout;
	int64_t zone_id, last_change;
	uint32_t dbserial, cur;
	int rc;

	memset(&u, 0, sizeof(u));
	row.rd = NULL;
	if (err && errcap)
		err[0] = '\0';
	if (db == NULL || old == NULL) {
		err_printf(err, errcap, "zone_update_from_journal: no database or no image");
		return NULL;
	}
	u.old = old;
	u.err = err;
	u.errcap = errcap;
	row.rd = malloc(RDATA_MAXLEN);
	if (row.rd == NULL)
		goto nomem;

	if (sqlite3_exec(db, "SAVEPOINT zone_update", NULL, NULL, NULL) != SQLITE_OK) {
		db_err(db, "starting a read transaction", old->name_text, err, errcap);
		goto fail;
	}
	in_txn = true;
	if (read_zone_row(db, old->name_text, &zone_id, &dbserial, &last_change, err, errcap) < 0)
		goto fail;
	if (zone_id != old->zone_id) {
		err_printf(err, errcap, "zone %s was deleted and created again since it was loaded",
			   old->name_text);
		goto fail;
	}
	if (last_change == old->last_change_id) {
		if (dbserial != old->serial) {
			err_printf(err, errcap,
				   "zone %s: serial moved from %" PRIu32 " to %" PRIu32
				   " without a journal entry",
				   old->name_text, old->serial, dbserial);
			goto fail;
		}
		/* Nothing to apply: the old image is current. */
		sqlite3_exec(db, "RELEASE zone_update", NULL, NULL, NULL);
		free(row.rd);
		zone_ref((struct zone *)old);
		return (struct zone *)old;
	}

	/* The chain of changes since the image: contiguous serials from the
	 * image's to the zone's current one (RFC 1995 §4 deltas, in order). */
	if (sqlite3_prepare_v2(db,
			       "SELECT id, serial_before, serial_after FROM changes "
			       "WHERE zone_id = ?1 AND id > ?2 ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK) {
		db_err(db, "reading the changes table", old->name_text, err, errcap);
		goto fail;
	}
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, old->last_change_id);
	cur = old->serial;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jchange c;

		c.id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_NULL ||
		    sqlite3_column_type(st, 2) == SQLITE_NULL) {
			err_printf(err, errcap, "zone %s: journal change %" PRId64 " has no serial",
				   old->name_text, c.id);
			goto fail;
		}
		c.before = (uint32_t)sqlite3_column_int64(st, 1);
		c.after = (uint32_t)sqlite3_column_int64(st, 2);
		if (c.before != cur) {
			err_printf(err, errcap,
				   "zone %s: journal change %" PRId64 " starts at serial %" PRIu32
				   ", expected %" PRIu32,
				   old->name_text, c.id, c.before, cur);
			goto fail;
		}
		cur = c.after;
		if (nch == capch) {
			size_t ncap = capch ? capch * 2 : 16;
			struct jchange *n = realloc(ch, ncap * sizeof(*n));

			if (n == NULL)
				goto nomem;
			ch = n;
			capch = ncap;
		}
		ch[nch++] = c;
	}
	if (rc != SQLITE_DONE) {
		db_err(db, "reading the changes table", old->name_text, err, errcap);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (cur != dbserial) {
		err_printf(err, errcap,
			   "zone %s: the journal ends at serial %" PRIu32
			   " but the zone is at %" PRIu32,
			   old->name_text, cur, dbserial);
		goto fail;
	}

	if (sqlite3_prepare_v2(db,
			       "SELECT cr.op, cr.name, cr.type, cr.ttl, cr.data, c.id "
			       "FROM change_records cr JOIN changes c ON c.id = cr.change_id "
			       "WHERE c.zone_id = ?1 AND c.id > ?2 ORDER BY c.id, cr.seq",
			       -1, &st, NULL) != SQLITE_OK) {
		db_err(db, "reading the change_records table", old->name_text, err, errcap);
		goto fail;
	}
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int64(st, 2, old->last_change_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		size_t namelen = (size_t)sqlite3_column_bytes(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		size_t typelen = (size_t)sqlite3_column_bytes(st, 2);
		sqlite3_int64 ttl = sqlite3_column_int64(st, 3);
		const char *data = (const char *)sqlite3_column_text(st, 4);
		size_t datalen = (size_t)sqlite3_column_bytes(st, 4);
		char what[512];
		bool add;

		if (op == NULL || name == NULL || type == NULL || data == NULL) {
			err_printf(err, errcap, "zone %s: a journal row has a NULL column",
				   old->name_text);
			goto fail;
		}
		if (++nrows > old->nrecords / JOURNAL_MAX_FACTOR + 1000) {
			err_printf(err, errcap,
				   "zone %s: the journal since serial %" PRIu32
				   " is larger than a full load",
				   old->name_text, old->serial);
			goto fail;
		}
		add = strcmp(op, "add") == 0;
		if (!add && strcmp(op, "del") != 0) {
			err_printf(err, errcap, "zone %s: journal row with unknown op \"%s\"",
				   old->name_text, op);
			goto fail;
		}
		if (parse_row(old->name_text, old->apex, name, namelen, type, typelen, ttl, data,
			      datalen, false, &row, err, errcap) < 0)
			goto fail;
		snprintf(what, sizeof(what), "%.*s %.*s %.*s", (int)namelen, name, (int)typelen,
			 type, (int)(datalen > 300 ? 300 : datalen), data);
		if (up_apply(&u, add, &row, what) < 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		db_err(db, "reading the change_records table", old->name_text, err, errcap);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_exec(db, "RELEASE zone_update", NULL, NULL, NULL);
	in_txn = false;

	/* Validate what changed (the rest was valid before). */
	for (struct unode *d = u.dirty; d != NULL; d = d->next_dirty) {
		if (d->b.deleted)
			continue;
		bnode_normalise(&d->b);
		if (bnode_validate(&d->b, d->b.namelen == old->apex_len, old->name_text, err,
				   errcap) < 0)
			goto fail;
	}

	z = zone_alloc(old->name_text, old->apex, old->apex_len);
	if (z == NULL)
		goto nomem;
	z->zone_id = zone_id;
	z->last_change_id = last_change;
	z->nnodes = (size_t)((long)old->nnodes + u.dnodes);
	z->nrecords = (size_t)((long)old->nrecords + u.drecords);
	/* Keep the shard count unless the zone grew or shrank a lot; then
	 * lay everything out again (rare, and still no SQL). */
	z->shard_bits = old->shard_bits;
	relayout = shard_bits_for(z->nnodes) > old->shard_bits + 1 ||
		   shard_bits_for(z->nnodes) + 2 < old->shard_bits;
	if (relayout)
		z->shard_bits = shard_bits_for(z->nnodes);
	nsh = (size_t)1 << z->shard_bits;
	z->shards = calloc(nsh, sizeof(*z->shards));
	per = calloc(nsh, sizeof(*per));
	if (z->shards == NULL || per == NULL)
		goto nomem;
	for (struct unode *d = u.dirty; d != NULL; d = d->next_dirty) {
		/* Every shard holding a dirty node is rebuilt, including one
		 * whose only change is a deletion. */
		size_t s = shard_of(d->b.hash, z->shard_bits);

		if (!d->b.deleted) {
			if (nv_push(&per[s], &d->b) < 0)
				goto nomem;
		} else if (per[s].v == NULL) {
			if (nv_push(&per[s], &d->b) < 0)
				goto nomem;
			per[s].n = 0; /* marks the shard dirty, holds nothing */
		}
	}
	for (size_t s = 0; s < nsh; s++) {
		if (!relayout && per[s].v == NULL) {
			z->shards[s] = old->shards[s];
			atomic_fetch_add_explicit(&z->shards[s].s->refs, 1, memory_order_relaxed);
			continue;
		}
		if (!relayout) {
			if (build_shard_from(&u, old->shards[s].s, s, z->shard_bits, &per[s],
					     &z->shards[s].s) < 0)
				goto fail;
			continue;
		}
		/* Relayout: the nodes of shard s come from every old shard. */
		{
			struct nodevec all = {0};
			struct cleanvec cv = {0};
			int bad = 0;

			for (size_t os = 0; os < ((size_t)1 << old->shard_bits) && !bad; os++) {
				const struct shard *o = old->shards[os].s;

				for (uint32_t i = 0; i <= o->mask && !bad; i++) {
					const struct znode *zn = shard_node(o, i);
					uint64_t h;

					if (zn == NULL)
						continue;
					h = zone_hash(znode_name(zn), zn->namelen);
					if (shard_of(h, z->shard_bits) != s ||
					    up_find(&u, znode_name(zn), zn->namelen, h) != NULL)
						continue;
					if (cv.n == cv.cap) {
						size_t nc = cv.cap ? cv.cap * 2 : 64;
						struct bnode *nv = realloc(cv.v, nc * sizeof(*nv));

						if (nv == NULL) {
							bad = 1;
							break;
						}
						cv.v = nv;
						cv.cap = nc;
					}
					if (decode_node(zn, &cv.v[cv.n], false) < 0) {
						bad = 1;
						break;
					}
					cv.n++;
				}
			}
			for (size_t i = 0; i < cv.n && !bad; i++)
				bad = nv_push(&all, &cv.v[i]) < 0;
			for (size_t i = 0; i < per[s].n && !bad; i++)
				bad = nv_push(&all, per[s].v[i]) < 0;
			if (!bad)
				z->shards[s].s = shard_build(all.v, all.n, err, errcap);
			for (size_t i = 0; i < cv.n; i++)
				free(cv.v[i].recs);
			free(cv.v);
			free(all.v);
			if (bad || z->shards[s].s == NULL)
				goto nomem;
		}
	}
	if (zone_finish(z, err, errcap) < 0)
		goto fail;
	if (z->serial != dbserial) {
		err_printf(err, errcap,
			   "zone %s: after the journal the SOA serial is %" PRIu32
			   " but zones.serial is %" PRIu32,
			   old->name_text, z->serial, dbserial);
		goto fail;
	}
	for (size_t s = 0; s < nsh; s++)
		free(per[s].v);
	free(per);
	free(ch);
	free(row.rd);
	up_free(&u);
	return z;

nomem:
	err_printf(err, errcap, "out of memory applying the journal of zone %s", old->name_text);
fail:
	if (st != NULL)
		sqlite3_finalize(st);
	if (in_txn)
		sqlite3_exec(db, "ROLLBACK TO zone_update; RELEASE zone_update", NULL, NULL, NULL);
	if (per != NULL)
		for (size_t s = 0; s < ((size_t)1 << (z ? z->shard_bits : 0)); s++)
			free(per[s].v);
	free(per);
	free(ch);
	free(row.rd);
	up_free(&u);
	zone_free(z);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Accessors */

const char *zone_name_text(const struct zone *z)
{
	return z->name_text;
}

const uint8_t *zone_name_wire(const struct zone *z)
{
	return z->apex;
}

uint32_t zone_serial(const struct zone *z)
{
	return z->serial;
}

size_t zone_record_count(const struct zone *z)
{
	return z->nrecords;
}

size_t zone_node_count(const struct zone *z)
{
	return z->nnodes;
}

void zone_ref(struct zone *z)
{
	if (z != NULL)
		atomic_fetch_add_explicit(&z->refs, 1, memory_order_relaxed);
}

void zone_unref(struct zone *z)
{
	if (z != NULL && atomic_fetch_sub_explicit(&z->refs, 1, memory_order_acq_rel) == 1)
		zone_free(z);
}

int zone_foreach(const struct zone *z, zone_rr_cb cb, void *arg)
{
	for (size_t s = 0; s < ((size_t)1 << z->shard_bits); s++) {
		const struct shard *sh = z->shards[s].s;

		for (uint32_t i = 0; i <= sh->mask; i++) {
			const struct znode *n = shard_node(sh, i);
			const struct zrrset *rs;

			if (n == NULL)
				continue;
			rs = znode_rrsets(n);
			for (uint16_t k = 0; k < n->nrrsets; k++) {
				const uint8_t *p = zrrset_first(n, &rs[k]);

				for (uint16_t j = 0; j < rs[k].count; j++) {
					const uint8_t *rd;
					uint32_t ttl;
					uint16_t rdlen;
					int r;

					p = zrec_read(p, &ttl, &rdlen, &rd);
					r = cb(arg, znode_name(n), rs[k].type, ttl, rd, rdlen);
					if (r != 0)
						return r;
				}
			}
		}
	}
	return 0;
}

static size_t znode_size(const struct znode *n)
{
	const struct zrrset *rs = znode_rrsets(n);
	size_t sz = sizeof(*n) + (size_t)n->nrrsets * sizeof(*rs) + n->namelen;
	const uint8_t *p;

	sz = (sz + 3) & ~(size_t)3;
	if (n->nrrsets == 0)
		return sz;
	/* The last RRset's records end the node. */
	p = zrrset_first(n, &rs[n->nrrsets - 1]);
	for (uint16_t j = 0; j < rs[n->nrrsets - 1].count; j++) {
		const uint8_t *rd;
		uint32_t ttl;
		uint16_t rdlen;

		p = zrec_read(p, &ttl, &rdlen, &rd);
	}
	sz = (size_t)(p - (const uint8_t *)n);
	return (sz + 3) & ~(size_t)3;
}

int zone_compare(const struct zone *a, const struct zone *b, char *why, size_t cap)
{
	char name[DNAME_TEXT_MAXLEN];

	if (a->apex_len != b->apex_len || memcmp(a->apex, b->apex, a->apex_len) != 0) {
		err_printf(why, cap, "different zones: %s and %s", a->name_text, b->name_text);
		return 1;
	}
	if (a->serial != b->serial || a->neg_ttl != b->neg_ttl) {
		err_printf(why, cap, "serial %u/%u, negative TTL %u/%u", a->serial, b->serial,
			   a->neg_ttl, b->neg_ttl);
		return 1;
	}
	if (a->nnodes != b->nnodes || a->nrecords != b->nrecords) {
		err_printf(why, cap, "%zu/%zu nodes, %zu/%zu records", a->nnodes, b->nnodes,
			   a->nrecords, b->nrecords);
		return 1;
	}
	for (size_t s = 0; s < ((size_t)1 << a->shard_bits); s++) {
		const struct shard *sh = a->shards[s].s;
		size_t live = 0;

		for (uint32_t i = 0; i <= sh->mask; i++) {
			const struct znode *na, *nb;
			size_t sa;

			if ((na = shard_node(sh, i)) == NULL)
				continue;
			live++;
			nb = zone_lookup(b, znode_name(na), na->namelen);
			if (dname_print(znode_name(na), name, sizeof(name)) < 0)
				snprintf(name, sizeof(name), "?");
			if (nb == NULL) {
				err_printf(why, cap, "node %s only in the first image", name);
				return 1;
			}
			sa = znode_size(na);
			if (sa != znode_size(nb) || memcmp(na, nb, sa) != 0) {
				err_printf(
				    why, cap,
				    "node %s differs (children %u/%u, rrsets %u/%u, size %zu/%zu)",
				    name, na->nchildren, nb->nchildren, na->nrrsets, nb->nrrsets,
				    sa, znode_size(nb));
				return 1;
			}
		}
		(void)live;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Zone sets */

struct zoneset {
	size_t n;
	struct zone **zones; /* n references */
	uint32_t *slots;     /* index + 1, keyed by apex hash */
	size_t mask;
	int min_labels, max_labels;
};

static struct zoneset *zoneset_make(struct zone *const *zones, size_t n)
{
	struct zoneset *zs = calloc(1, sizeof(*zs));
	size_t slots = 4;

	if (zs == NULL)
		return NULL;
	while (slots < 2 * n)
		slots <<= 1;
	zs->zones = malloc((n ? n : 1) * sizeof(*zs->zones));
	zs->slots = calloc(slots, sizeof(*zs->slots));
	if (zs->zones == NULL || zs->slots == NULL) {
		free(zs->zones);
		free(zs->slots);
		free(zs);
		return NULL;
	}
	zs->mask = slots - 1;
	zs->min_labels = 256;
	zs->max_labels = -1;
	for (size_t i = 0; i < n; i++) {
		struct zone *z = zones[i];
		size_t j = (size_t)zone_hash(z->apex, z->apex_len) & zs->mask;
		bool dup = false;

		/* Same name twice: the later one wins. */
		for (; zs->slots[j] != 0; j = (j + 1) & zs->mask) {
			struct zone *o = zs->zones[zs->slots[j] - 1];

			if (o->apex_len == z->apex_len &&
			    memcmp(o->apex, z->apex, z->apex_len) == 0) {
				zone_ref(z);
				zone_unref(o);
				zs->zones[zs->slots[j] - 1] = z;
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		zone_ref(z);
		zs->zones[zs->n] = z;
		zs->slots[j] = (uint32_t)++zs->n;
		if (z->apex_labels < zs->min_labels)
			zs->min_labels = z->apex_labels;
		if (z->apex_labels > zs->max_labels)
			zs->max_labels = z->apex_labels;
	}
	return zs;
}

struct zoneset *zoneset_new(struct zone *const *zones, size_t n)
{
	return zoneset_make(zones, n);
}

struct zoneset *zoneset_with(const struct zoneset *old, struct zone *z)
{
	struct zone **v = malloc(((old ? old->n : 0) + 1) * sizeof(*v));
	struct zoneset *zs;
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; old != NULL && i < old->n; i++)
		v[n++] = old->zones[i];
	v[n++] = z; /* zoneset_make lets the later one replace a same-named zone */
	zs = zoneset_make(v, n);
	free(v);
	return zs;
}

static const struct zone *zs_lookup(const struct zoneset *zs, const uint8_t *name, size_t len)
{
	for (size_t j = (size_t)zone_hash(name, len) & zs->mask; zs->slots[j] != 0;
	     j = (j + 1) & zs->mask) {
		const struct zone *z = zs->zones[zs->slots[j] - 1];

		if (z->apex_len == len && memcmp(z->apex, name, len) == 0)
			return z;
	}
	return NULL;
}

struct zoneset *zoneset_without(const struct zoneset *old, const char *name_text)
{
	char canon[DNAME_TEXT_MAXLEN];
	uint8_t apex[DNAME_MAXLEN];
	struct zone **v;
	struct zoneset *zs;
	size_t n = 0;
	int len = parse_apex(name_text, apex, canon, sizeof(canon), NULL, 0);

	v = malloc(((old ? old->n : 0) + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; old != NULL && i < old->n; i++) {
		struct zone *z = old->zones[i];

		if (len > 0 && z->apex_len == (size_t)len &&
		    memcmp(z->apex, apex, (size_t)len) == 0)
			continue;
		v[n++] = z;
	}
	zs = zoneset_make(v, n);
	free(v);
	return zs;
}

const struct zone *zoneset_find_lower(const struct zoneset *zs, const uint8_t *name, size_t len,
				      const uint8_t *off, int nlabels)
{
	if (zs == NULL || zs->n == 0)
		return NULL;
	/* Deepest first: the suffix with the most labels that is a zone. */
	for (int i = 0; i <= nlabels; i++) {
		int labels = nlabels - i;
		size_t o = i < nlabels ? off[i] : len - 1;
		const struct zone *z;

		if (labels > zs->max_labels)
			continue;
		if (labels < zs->min_labels)
			break;
		z = zs_lookup(zs, name + o, len - o);
		if (z != NULL)
			return z;
	}
	return NULL;
}

const struct zone *zoneset_find(const struct zoneset *zs, const uint8_t *qname)
{
	uint8_t lower[DNAME_MAXLEN], off[DNAME_MAXLABELS];
	size_t p = 0;
	int n = 0;

	if (zs == NULL || qname == NULL)
		return NULL;
	while (p < DNAME_MAXLEN && qname[p] != 0 && n < DNAME_MAXLABELS) {
		if (qname[p] > DNAME_LABEL_MAXLEN || p + 1 + qname[p] >= DNAME_MAXLEN)
			return NULL;
		off[n++] = (uint8_t)p;
		p += 1u + qname[p];
	}
	if (p >= DNAME_MAXLEN || qname[p] != 0)
		return NULL;
	memcpy(lower, qname, p + 1);
	dname_lower(lower);
	return zoneset_find_lower(zs, lower, p + 1, off, n);
}

struct zone *zoneset_get(const struct zoneset *zs, const char *name_text)
{
	char canon[DNAME_TEXT_MAXLEN];
	uint8_t apex[DNAME_MAXLEN];
	int len;

	if (zs == NULL)
		return NULL;
	len = parse_apex(name_text, apex, canon, sizeof(canon), NULL, 0);
	if (len < 0)
		return NULL;
	return (struct zone *)zs_lookup(zs, apex, (size_t)len);
}

size_t zoneset_count(const struct zoneset *zs)
{
	return zs ? zs->n : 0;
}

struct zone *zoneset_at(const struct zoneset *zs, size_t i)
{
	return zs && i < zs->n ? zs->zones[i] : NULL;
}

void zoneset_free(struct zoneset *zs)
{
	if (zs == NULL)
		return;
	for (size_t i = 0; i < zs->n; i++)
		zone_unref(zs->zones[i]);
	free(zs->zones);
	free(zs->slots);
	free(zs);
}
