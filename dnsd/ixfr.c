/*
 * ixfr.c: condensed differences from the change journal (ixfr.h).
 *
 * The chain. The image being served knows its zones.id and the newest
 * changes.id it contains (zone_int.h). Reading that zone's changes up to
 * that id, newest first, each change must end where the next newer one
 * starts (serial_after of the older = serial_before of the newer) and the
 * newest must end at the image's serial; the walk stops at the change that
 * starts at the client's serial. A gap, a change without serials (zone
 * creation) before reaching it, or no change at all: the journal does not
 * cover the client (ERR_NOTFOUND), the caller sends the whole zone.
 *
 * Condensing. Every record is keyed by (owner, type, RDATA) in wire form,
 * TTL aside (IXFR deletes match on everything but the TTL, RFC 1995 §3).
 * Across the chain only a key's first and last operations matter: a first
 * 'del' says it existed at the client's serial, a last 'add' that it exists
 * now. So: del..del = delete, add..add = add, del..add = unchanged unless
 * the TTL moved (then delete and add), add..del = nothing. The SOA is not
 * part of the lists: the old one comes from the oldest change's deleted
 * SOA, the new one from the image.
 *
 * Memory: every row's parsed form lives in one growable arena per diff,
 * freed with it; the key table is temporary.
 */
#include "ixfr.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "notify.h"
#include "rdata.h"
#include "wire.h"
#include "zone.h"
#include "zone_int.h"

#define IXFR_CHUNK (256 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	uint8_t data[];
};

struct entry {
	const uint8_t *key; /* owner | type (2) | rdata */
	size_t keylen;
	uint64_t hash;
	struct ixfr_rr rr;  /* owner/rd point into key */
	bool first_add;	    /* first operation was 'add' */
	bool last_add;	    /* last operation was 'add' */
	uint32_t first_ttl; /* TTL of the first operation */
	size_t order;	    /* first appearance, for a stable output */
};

struct builder {
	struct chunk *mem;
	struct entry *e;
	size_t n, cap;
	size_t *slots; /* index + 1, 0 empty */
	size_t nslots;
};

static void *arena(struct chunk **head, size_t n)
{
	struct chunk *c = *head;

	n = (n + 7) & ~(size_t)7;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > IXFR_CHUNK ? n : IXFR_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = *head;
		c->used = 0;
		c->cap = cap;
		*head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void arena_free(struct chunk *c)
{
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int grow_slots(struct builder *b)
{
	size_t ns = b->nslots ? b->nslots * 2 : 1024;
	size_t *s = calloc(ns, sizeof(*s));

	if (s == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < b->n; i++) {
		size_t j = (size_t)b->e[i].hash & (ns - 1);

		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = i + 1;
	}
	free(b->slots);
	b->slots = s;
	b->nslots = ns;
	return 0;
}

/* Applies one journal row to the key table. */
static int apply(struct builder *b, bool add, const uint8_t *owner, size_t olen, uint16_t type,
		 uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	size_t keylen = olen + 2 + rdlen, j;
	uint8_t *key;
	uint64_t h;
	struct entry *e;

	if (b->n * 2 >= b->nslots && grow_slots(b) < 0)
		return ERR_NOMEM;
	key = malloc(keylen);
	if (key == NULL)
		return ERR_NOMEM;
	memcpy(key, owner, olen);
	key[olen] = (uint8_t)(type >> 8);
	key[olen + 1] = (uint8_t)type;
	memcpy(key + olen + 2, rd, rdlen);
	h = hash_bytes(key, keylen);
	for (j = (size_t)h & (b->nslots - 1); b->slots[j]; j = (j + 1) & (b->nslots - 1)) {
		e = &b->e[b->slots[j] - 1];
		if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
			free(key);
			e->last_add = add;
			e->rr.ttl = ttl; /* the last operation's TTL */
			return 0;
		}
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		struct entry *ne = realloc(b->e, nc * sizeof(*ne));

		if (ne == NULL) {
			free(key);
			return ERR_NOMEM;
		}
		b->e = ne;
		b->cap = nc;
	}
	{
		uint8_t *k = arena(&b->mem, keylen);

		if (k == NULL) {
			free(key);
			return ERR_NOMEM;
		}
		memcpy(k, key, keylen);
		free(key);
		key = k;
	}
	e = &b->e[b->n];
	e->key = key;
	e->keylen = keylen;
	e->hash = h;
	e->rr.owner = key;
	e->rr.type = type;
	e->rr.ttl = ttl;
	e->rr.rdlen = rdlen;
	e->rr.rd = key + olen + 2;
	e->first_add = e->last_add = add;
	e->first_ttl = ttl;
	e->order = b->n;
	b->slots[j] = ++b->n;
	return 0;
}

struct jc {
	int64_t id;
	bool has_before;
	uint32_t before, after;
};

/* The ids of the changes from serial from to z's serial, oldest first. */
static int find_chain(sqlite3 *db, const struct zone *z, uint32_t from, int64_t **ids, size_t *nids,
		      char *err, size_t errcap)
{
	sqlite3_stmt *st = NULL;
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	uint32_t cur = z->serial;
	bool found = false;
	int rc, ret = ERR_NOTFOUND;

	/* Newest first, up to the newest change the image contains. */
	if (sqlite3_prepare_v2(db,
			       "SELECT id, serial_before, serial_after FROM changes "
			       "WHERE zone_id = ?1 AND id <= ?2 ORDER BY id DESC",
			       -1, &st, NULL) != SQLITE_OK) {
		err_printf(err, errcap, "reading the changes table: %s", sqlite3_errmsg(db));
		return ERR_DB;
	}
	sqlite3_bind_int64(st, 1, z->zone_id);
	sqlite3_bind_int64(st, 2, z->last_change_id > 0 ? z->last_change_id : INT64_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		uint32_t before, after;

		if (sqlite3_column_type(st, 1) == SQLITE_NULL ||
		    sqlite3_column_type(st, 2) == SQLITE_NULL) {
			err_printf(err, errcap,
				   "the journal starts at change %" PRId64
				   " (zone creation) before reaching serial %" PRIu32,
				   id, from);
			goto out;
		}
		before = (uint32_t)sqlite3_column_int64(st, 1);
		after = (uint32_t)sqlite3_column_int64(st, 2);
		if (after != cur) {
			err_printf(err, errcap,
				   "the journal has a gap: change %" PRId64
				   " ends at serial %" PRIu32 ", expected %" PRIu32,
				   id, after, cur);
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			int64_t *nv = realloc(v, nc * sizeof(*nv));

			if (nv == NULL) {
				ret = ERR_NOMEM;
				err_printf(err, errcap, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = id;
		cur = before;
		if (cur == from) {
			found = true;
			break;
		}
	}
	if (!found && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err_printf(err, errcap, "reading the changes table: %s", sqlite3_errmsg(db));
		ret = ERR_DB;
		goto out;
	}
	if (!found) {
		if (n == 0)
			err_printf(err, errcap, "no journal entry leads to serial %" PRIu32,
				   z->serial);
		else
			err_printf(err, errcap,
				   "the journal reaches back to serial %" PRIu32 ", not %" PRIu32,
				   cur, from);
		goto out;
	}
	/* oldest first */
	for (size_t i = 0; i < n / 2; i++) {
		int64_t t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	*ids = v;
	*nids = n;
	v = NULL;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(v);
	return ret;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

int ixfr_diff_build(struct sqlite3 *db, const struct zone *z, uint32_t from, struct ixfr_diff **out,
		    char *err, size_t errcap)
{
	struct builder b;
	struct ixfr_diff *d = NULL;
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	size_t nids = 0, i;
	uint8_t owner[DNAME_MAXLEN], *rd = NULL;
	bool in_txn = false, have_old_soa = false;
	int r, rc;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (err && errcap)
		err[0] = '\0';
	if (from == z->serial) {
		err_printf(err, errcap, "already at serial %" PRIu32, from);
		return ERR_INVALID;
	}
	rd = malloc(RDATA_MAXLEN);
	d = calloc(1, sizeof(*d));
	if (rd == NULL || d == NULL) {
		r = ERR_NOMEM;
		goto nomem;
	}
	/* One read transaction: the chain and its rows are one snapshot. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		err_printf(err, errcap, "starting a read transaction: %s", sqlite3_errmsg(db));
		r = ERR_DB;
		goto fail;
	}
	in_txn = true;
	if ((r = find_chain(db, z, from, &ids, &nids, err, errcap)) < 0)
		goto fail;
	if (sqlite3_prepare_v2(db,
			       "SELECT op, name, type, ttl, data FROM change_records "
			       "WHERE change_id = ?1 ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK) {
		err_printf(err, errcap, "reading change_records: %s", sqlite3_errmsg(db));
		r = ERR_DB;
		goto fail;
	}
	for (i = 0; i < nids; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, ids[i]);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *op = (const char *)sqlite3_column_text(st, 0);
			const char *name = (const char *)sqlite3_column_text(st, 1);
			const char *type = (const char *)sqlite3_column_text(st, 2);
			sqlite3_int64 ttl = sqlite3_column_int64(st, 3);
			const char *data = (const char *)sqlite3_column_text(st, 4);
			struct text_err te;
			int olen, t, rdlen;
			bool add;

			if (!op || !name || !type || !data || ttl < 0 || ttl > 2147483647) {
				err_printf(err, errcap,
					   "change %" PRId64 ": a row with missing fields", ids[i]);
				r = ERR_MALFORMED;
				goto fail;
			}
			add = strcmp(op, "add") == 0;
			olen = dname_parse_text(name, strlen(name), NULL, owner);
			t = rrtype_parse(type, strlen(type));
			rdlen = t < 0 ? t
				      : rdata_parse_text((uint16_t)t, data, strlen(data), NULL, rd,
							 RDATA_MAXLEN, &te);
			if (olen < 0 || t < 0 || rdlen < 0) {
				err_printf(err, errcap,
					   "change %" PRId64
					   ": record \"%s %s %.100s\" does not parse",
					   ids[i], name, type, data);
				r = ERR_MALFORMED;
				goto fail;
			}
			dname_lower(owner);
			if (!dname_is_subdomain(owner, z->apex)) {
				err_printf(err, errcap,
					   "change %" PRId64 ": %s is outside the zone", ids[i],
					   name);
				r = ERR_MALFORMED;
				goto fail;
			}
			if (t == RRTYPE_SOA) {
				/* The oldest change's deleted SOA is the client's. */
				if (i == 0 && !add && !have_old_soa) {
					uint8_t *p = arena(&b.mem, (size_t)rdlen);

					if (p == NULL) {
						r = ERR_NOMEM;
						goto nomem;
					}
					memcpy(p, rd, (size_t)rdlen);
					d->old_soa.owner = z->apex;
					d->old_soa.type = RRTYPE_SOA;
					d->old_soa.ttl = (uint32_t)ttl;
					d->old_soa.rd = p;
					d->old_soa.rdlen = (uint16_t)rdlen;
					have_old_soa = true;
				}
				continue;
			}
			r = apply(&b, add, owner, (size_t)olen, (uint16_t)t, (uint32_t)ttl, rd,
				  (uint16_t)rdlen);
			if (r < 0)
				goto nomem;
		}
		if (rc != SQLITE_DONE) {
			err_printf(err, errcap, "reading change_records: %s", sqlite3_errmsg(db));
			r = ERR_DB;
			goto fail;
		}
	}
	if (!have_old_soa) {
		err_printf(err, errcap, "change %" PRId64 " does not record the SOA it replaced",
			   nids ? ids[0] : 0);
		r = ERR_NOTFOUND;
		goto fail;
	}
	{
		/* the old SOA must be the one at the client's serial */
		const uint8_t *p = d->old_soa.rd;
		size_t off = dname_len(p);

		off += dname_len(p + off);
		if (off + 20 > d->old_soa.rdlen || wire_get_u32(p + off) != from) {
			err_printf(err, errcap, "the journal's old SOA is not at serial %" PRIu32,
				   from);
			r = ERR_NOTFOUND;
			goto fail;
		}
	}
	/* Condense. */
	qsort(b.e, b.n, sizeof(*b.e), entry_cmp);
	d->del = calloc(b.n + 1, sizeof(*d->del));
	d->add = calloc(b.n + 1, sizeof(*d->add));
	if (d->del == NULL || d->add == NULL) {
		r = ERR_NOMEM;
		goto nomem;
	}
	for (i = 0; i < b.n; i++) {
		struct entry *e = &b.e[i];

		if (!e->first_add && !e->last_add) {
			d->del[d->ndel] = e->rr;
			d->del[d->ndel++].ttl = e->first_ttl;
		} else if (e->first_add && e->last_add) {
			d->add[d->nadd++] = e->rr;
		} else if (!e->first_add && e->last_add && e->first_ttl != e->rr.ttl) {
			d->del[d->ndel] = e->rr;
			d->del[d->ndel++].ttl = e->first_ttl;
			d->add[d->nadd++] = e->rr;
		}
	}
	if (d->ndel + d->nadd > zone_record_count(z)) {
		err_printf(err, errcap, "%zu changed records: more than the zone's %zu",
			   d->ndel + d->nadd, zone_record_count(z));
		r = ERR_RANGE;
		goto fail;
	}
	d->from = from;
	d->to = z->serial;
	d->nchanges = nids;
	d->mem = b.mem;
	b.mem = NULL;
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(ids);
	free(rd);
	free(b.e);
	free(b.slots);
	*out = d;
	return 0;
nomem:
	err_printf(err, errcap, "out of memory");
fail:
	sqlite3_finalize(st);
	if (in_txn)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(ids);
	free(rd);
	free(b.e);
	free(b.slots);
	arena_free(b.mem);
	if (d) {
		free(d->del);
		free(d->add);
		free(d);
	}
	return r;
}

void ixfr_diff_free(struct ixfr_diff *d)
{
	if (d == NULL)
		return;
	arena_free(d->mem);
	free(d->del);
	free(d->add);
	free(d);
}
