/*
 * zone_int.h: the layout of a zone image, shared by zone.c (which builds
 * it) and query.c (which reads it). Not a public interface: everything
 * else goes through zone.h.
 *
 * Layout (see the essay at the top of zone.c for the reasons):
 *
 *   struct zone
 *     shards[1 << shard_bits]  ->  struct shard (refcounted, shared between
 *                                   successive images of the same zone)
 *                                     slots[mask + 1]  open-addressing index:
 *                                                      hash32 << 32 | offset+1
 *                                     blob             the nodes, back to back
 *
 *   node (4-byte aligned inside the blob):
 *     struct znode                 12 bytes
 *     struct zrrset[nrrsets]       12 bytes each, sorted by type
 *     owner name                   namelen bytes, lower-case wire form
 *     padding to 4
 *     records                      per RRset, in canonical RDATA order:
 *                                  TTL (4, big-endian), RDLENGTH (2), RDATA
 *
 * A name hashes to 64 bits; the top shard_bits pick the shard, the low 32
 * bits pick the slot and are kept in it (and in the node), so a probe that
 * does not match never touches the node.
 */
#ifndef ZONE_INT_H
#define ZONE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dname.h"

/* Node flags: facts about the node's own RRsets only, so that changing one
 * node never changes the flags of another (which keeps journal updates
 * local to the shards the journal touches). */
#define ZN_NS	 0x01 /* has NS (a zone cut unless it is the apex) */
#define ZN_CNAME 0x02 /* has CNAME */
#define ZN_DNAME 0x04 /* has DNAME */
#define ZN_SOA	 0x08 /* has SOA */
#define ZN_WILD	 0x10 /* owner's first label is '*' */
#define ZN_ADDR	 0x20 /* has A or AAAA */

struct znode {
	uint32_t hash;	    /* low 32 bits of the owner's hash */
	uint32_t nchildren; /* nodes whose parent this is (keeps ENTs alive) */
	uint16_t nrrsets;   /* entries in the zrrset array that follows */
	uint8_t namelen;    /* owner length in octets */
	uint8_t flags;	    /* ZN_* */
};

struct zrrset {
	uint16_t type;	/* RR type */
	uint16_t count; /* records in the RRset */
	uint32_t ttl;	/* smallest record TTL (RFC 2181 §5.2 wants them equal) */
	uint32_t off;	/* offset of the first record from the node start */
};

struct shard {
	atomic_uint refs; /* images sharing this shard */
	uint32_t nnodes;  /* nodes in the blob */
	uint32_t mask;	  /* slots - 1 (slots is a power of two) */
	uint32_t bloblen; /* bytes of node data, which follow slots[] */
	uint64_t slots[]; /* 0 = empty, else low 32 hash bits << 32 | node offset + 1 */
};

/* A zone's reference to a shard, with the mask next to the pointer so that
 * a lookup reaches the slot without first loading the shard header (one
 * cache miss less per lookup in a large zone). */
struct zshard {
	struct shard *s;
	uint32_t mask;
};

static inline const uint8_t *shard_blob(const struct shard *s)
{
	return (const uint8_t *)(s->slots + s->mask + 1);
}

/* The node in slot i, or NULL. */
static inline const struct znode *shard_node(const struct shard *s, uint32_t i)
{
	uint64_t v = s->slots[i];

	return v ? (const struct znode *)(const void *)(shard_blob(s) + (uint32_t)v - 1) : NULL;
}

struct zone {
	atomic_uint refs;	       /* references (zonesets, readers) */
	char *name_text;	       /* "example.com." */
	uint8_t apex[DNAME_MAXLEN];    /* lower-case wire form */
	uint8_t apex_len;	       /* octets */
	uint8_t apex_labels;	       /* dname_labels(apex) */
	uint32_t serial;	       /* SOA serial (== zones.serial) */
	int64_t zone_id;	       /* zones.id at build time */
	int64_t last_change_id;	       /* newest changes.id applied */
	size_t nrecords;	       /* records, ENTs not counted */
	size_t nnodes;		       /* nodes, ENTs included */
	unsigned shard_bits;	       /* log2 of the shard count */
	struct zshard *shards;	       /* 1 << shard_bits entries */
	const struct znode *apex_node; /* inside one of the shards */
	const struct zrrset *soa;      /* the apex SOA RRset */
	uint32_t neg_ttl;	       /* min(SOA TTL, MINIMUM), RFC 2308 §3 */
};

static inline uint64_t zone_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x243f6a8885a308d3ULL ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL);
	uint64_t v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	v = 0;
	memcpy(&v, p, n);
	h = (h ^ v) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static inline const struct zrrset *znode_rrsets(const struct znode *n)
{
	return (const struct zrrset *)(const void *)(n + 1);
}

static inline const uint8_t *znode_name(const struct znode *n)
{
	return (const uint8_t *)(znode_rrsets(n) + n->nrrsets);
}

/* The RRset of a type at a node, or NULL. */
static inline const struct zrrset *znode_rrset(const struct znode *n, uint16_t type)
{
	const struct zrrset *s = znode_rrsets(n);

	for (uint16_t i = 0; i < n->nrrsets; i++)
		if (s[i].type == type)
			return &s[i];
	return NULL;
}

/* First record of an RRset; records follow each other. */
static inline const uint8_t *zrrset_first(const struct znode *n, const struct zrrset *s)
{
	return (const uint8_t *)n + s->off;
}

/* Reads the record at p; returns a pointer to the next one. */
static inline const uint8_t *zrec_read(const uint8_t *p, uint32_t *ttl, uint16_t *rdlen,
				       const uint8_t **rd)
{
	*ttl = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	*rdlen = (uint16_t)(p[4] << 8 | p[5]);
	*rd = p + 6;
	return p + 6 + *rdlen;
}

/* Finds the node of a lower-case wire name of len octets, or NULL. */
static inline const struct znode *zone_lookup_h(const struct zone *z, const uint8_t *name,
						size_t len, uint64_t h)
{
	const struct zshard *zs = &z->shards[z->shard_bits ? h >> (64 - z->shard_bits) : 0];
	const uint64_t *slots = zs->s->slots; /* address only: no load */
	const uint8_t *blob = (const uint8_t *)(slots + zs->mask + 1);
	uint32_t i = (uint32_t)h & zs->mask;
	uint64_t tag = (uint64_t)(uint32_t)h << 32;

	for (;;) {
		uint64_t v = slots[i];

		if (v == 0)
			return NULL;
		if ((v & 0xffffffff00000000ULL) == tag) {
			const struct znode *n =
			    (const struct znode *)(const void *)(blob + (uint32_t)v - 1);

			if (n->namelen == len && memcmp(znode_name(n), name, len) == 0)
				return n;
		}
		i = (i + 1) & zs->mask;
	}
}

static inline const struct znode *zone_lookup(const struct zone *z, const uint8_t *name, size_t len)
{
	return zone_lookup_h(z, name, len, zone_hash(name, len));
}

/* The zone that is the deepest encloser of a lower-case name whose label
 * offsets are off[0..nlabels) (off[i] is where label i starts; the name is
 * nlabels labels plus the root, len octets). NULL when none. */
struct zoneset;
const struct zone *zoneset_find_lower(const struct zoneset *zs, const uint8_t *name, size_t len,
				      const uint8_t *off, int nlabels);

#endif
