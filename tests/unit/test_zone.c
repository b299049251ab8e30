/*
 * test_zone.c: zone images built from SQLite: contents, empty
 * non-terminals, errors that name the record, journal updates equal to a
 * full build (randomised, with ENTs appearing and vanishing and shard
 * relayout), journal gaps, zone sets and reference counts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "tap.h"
#include "zone.h"
#include "zone_fixture.h"
#include "zone_int.h"

static const char *BASE = "zone example.test.\n"
			  "example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 7 "
			  "7200 3600 1209600 300\n"
			  "example.test. 3600 NS ns1.example.test.\n"
			  "ns1.example.test. 3600 A 192.0.2.1\n"
			  "www.example.test. 300 A 192.0.2.2\n"
			  "www.example.test. 300 A 192.0.2.3\n"
			  "www.example.test. 300 AAAA 2001:db8::2\n"
			  "a.b.c.example.test. 60 TXT \"deep\"\n"
			  "*.wild.example.test. 60 A 192.0.2.9\n"
			  "sub.example.test. 3600 NS ns.sub.example.test.\n"
			  "ns.sub.example.test. 3600 A 192.0.2.53\n"
			  "end\n";

static const struct znode *find(const struct zone *z, const char *text)
{
	uint8_t w[DNAME_MAXLEN];
	int n = dname_parse_text(text, strlen(text), NULL, w);

	if (n < 0)
		return NULL;
	dname_lower(w);
	return zone_lookup(z, w, (size_t)n);
}

static int count_cb(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
		    uint16_t rdlen)
{
	(void)owner;
	(void)type;
	(void)ttl;
	(void)rd;
	(void)rdlen;
	(*(size_t *)arg)++;
	return 0;
}

static void test_basic(void)
{
	sqlite3 *db = fx_open();
	char err[1024] = "";
	struct zone *z;
	const struct znode *n;
	size_t cnt = 0;

	ok(db != NULL, "database created");
	ok(fx_load(db, BASE, NULL) == 0, "fixture loaded");
	z = zone_build_from_db(db, "example.test.", err, sizeof(err));
	ok(z != NULL, "zone built (%s)", err);
	if (z == NULL)
		return;
	is_str(zone_name_text(z), "example.test.", "name text");
	is_int(zone_serial(z), 7, "serial from the SOA");
	is_int(zone_record_count(z), 10, "10 records");
	/* apex, ns1, www, a.b.c, b.c (ENT), c (ENT), *.wild, wild (ENT), sub, ns.sub */
	is_int(zone_node_count(z), 10, "10 nodes with 3 empty non-terminals");
	zone_foreach(z, count_cb, &cnt);
	is_int(cnt, 10, "zone_foreach visits every record");
	n = find(z, "b.c.example.test.");
	ok(n != NULL && n->nrrsets == 0 && n->nchildren == 1, "b.c is an ENT with one child");
	n = find(z, "c.example.test.");
	ok(n != NULL && n->nrrsets == 0, "c is an ENT");
	{
		static const uint8_t upper[] = "\3WWW\7example\4test";

		ok(zone_lookup(z, upper, sizeof(upper)) == NULL,
		   "lookups take lower-case names only (callers lower-case)");
	}
	n = find(z, "www.example.test.");
	ok(n != NULL && n->nrrsets == 2, "www has A and AAAA");
	if (n) {
		const struct zrrset *a = znode_rrset(n, RRTYPE_A);

		ok(a && a->count == 2 && a->ttl == 300, "www A: 2 records, TTL 300");
		ok(znode_rrsets(n)[0].type == RRTYPE_A, "RRsets sorted by type");
	}
	n = find(z, "*.wild.example.test.");
	ok(n && (n->flags & ZN_WILD), "wildcard flag");
	n = find(z, "sub.example.test.");
	ok(n && (n->flags & ZN_NS), "delegation flag");
	n = find(z, "example.test.");
	ok(n && (n->flags & ZN_SOA) && n->nchildren == 5, "apex has SOA and 5 children");
	is_int(z->neg_ttl, 300, "negative TTL min(3600, 300)");
	ok(find(z, "nope.example.test.") == NULL, "absent name");
	{
		/* zone_compare sees a one-TTL difference (so the journal test
		 * that relies on it can fail). */
		struct zone *same = zone_build_from_db(db, "example.test.", err, sizeof(err)), *ttl;
		char why[256] = "";

		fx_exec(db, "UPDATE records SET ttl = 301 WHERE name = 'www.example.test.' AND "
			    "data = '192.0.2.3'");
		ttl = zone_build_from_db(db, "example.test.", err, sizeof(err));
		ok(same && zone_compare(z, same, why, sizeof(why)) == 0,
		   "equal images compare equal");
		ok(ttl && zone_compare(z, ttl, why, sizeof(why)) == 1 && strstr(why, "www"),
		   "one record TTL apart: %s", why);
		if (ttl) {
			const struct znode *w = find(ttl, "www.example.test.");

			ok(w && znode_rrset(w, RRTYPE_A)->ttl == 300,
			   "RRset TTL is the smallest record TTL (RFC 2181 §5.2)");
		}
		zone_unref(same);
		zone_unref(ttl);
	}
	zone_unref(z);

	z = zone_build_from_db(db, "missing.test.", err, sizeof(err));
	ok(z == NULL && strstr(err, "not in the database"), "missing zone: %s", err);
	sqlite3_close(db);
}

/* Builds a zone made of BASE plus one extra line; returns the error. */
static bool build_fails(const char *extra, const char *zone_serial_sql, const char *want1,
			const char *want2)
{
	char text[4096], err[1024] = "";
	sqlite3 *db = fx_open();
	struct zone *z;
	const char *end = strstr(BASE, "end\n");
	bool ok_ = false;

	snprintf(text, sizeof(text), "%.*s%s\nend\n", (int)(end - BASE), BASE, extra);
	if (db == NULL || fx_load(db, text, NULL) < 0) {
		printf("# fixture failed for %s\n", extra);
		goto out;
	}
	if (zone_serial_sql)
		fx_exec(db, zone_serial_sql);
	z = zone_build_from_db(db, "example.test.", err, sizeof(err));
	if (z != NULL) {
		zone_unref(z);
		printf("# built although it should not: %s\n", extra);
		goto out;
	}
	ok_ = strstr(err, want1) != NULL && (want2 == NULL || strstr(err, want2) != NULL);
	if (!ok_)
		printf("# error was: %s\n", err);
out:
	if (db)
		sqlite3_close(db);
	return ok_;
}

static void test_errors(void)
{
	ok(build_fails("mx.example.test. 300 MX x mail.example.test.", NULL,
		       "mx.example.test. MX x mail.example.test.", "MX"),
	   "bad MX preference names the record");
	ok(build_fails("a.example.test. 300 A 192.0.2.300", NULL, "a.example.test. A 192.0.2.300",
		       NULL),
	   "bad address names the record");
	ok(build_fails("t.example.test. 300 BOGUS 1", NULL, "unknown type", "t.example.test."),
	   "unknown type");
	ok(build_fails("www.other.test. 300 A 192.0.2.1", NULL, "outside the zone", NULL),
	   "owner outside the zone");
	ok(build_fails("bad\\999.example.test. 300 A 192.0.2.1", NULL, "owner name", "bad"),
	   "unparsable owner");
	ok(build_fails("t.example.test. 300 CNAME x.example.test.\nt.example.test. 300 A 192.0.2.1",
		       NULL, "CNAME and other data", "t.example.test."),
	   "CNAME and other data");
	ok(build_fails("t.example.test. 300 CNAME x.example.test.\n"
		       "t.example.test. 300 CNAME y.example.test.",
		       NULL, "more than one CNAME", NULL),
	   "two CNAMEs");
	ok(build_fails("t.example.test. 300 DNAME x.test.\nt.example.test. 300 DNAME y.test.", NULL,
		       "more than one DNAME", NULL),
	   "two DNAMEs");
	ok(build_fails("t.example.test. 300 SOA a.test. b.test. 1 2 3 4 5", NULL,
		       "only allowed at the zone apex", NULL),
	   "SOA below the apex");
	ok(build_fails("example.test. 300 SOA a.test. b.test. 1 2 3 4 5", NULL, "2 SOA records",
		       NULL),
	   "two SOAs");
	ok(build_fails("t.example.test. 300 ANY \\# 0", NULL, "cannot be stored", NULL),
	   "meta type refused");
	ok(build_fails("t.example.test. 300 OPT \\# 0", NULL, "cannot be stored", NULL),
	   "OPT refused");
	ok(build_fails("", "UPDATE zones SET serial = 8", "zones.serial is 8", "SOA record says 7"),
	   "serial bookkeeping mismatch");
	ok(build_fails("", "DELETE FROM records WHERE type = 'SOA'", "0 SOA records", NULL),
	   "no SOA");
}

static void test_rrset_limit(void)
{
	/* RRSET_MAXCOUNT = 65535 records at N, refused at N+1. */
	for (int extra = 0; extra <= 1; extra++) {
		sqlite3 *db = fx_open();
		char err[1024] = "", data[32];
		struct zone *z;
		sqlite3_stmt *st;
		int64_t zid;

		fx_load(db, BASE, NULL);
		zid = 1;
		fx_exec(db, "BEGIN");
		sqlite3_prepare_v2(db,
				   "INSERT INTO records(zone_id, name, type, ttl, data) "
				   "VALUES(?1, 'big.example.test.', 'A', 60, ?2)",
				   -1, &st, NULL);
		for (int i = 0; i < 65535 + extra; i++) {
			snprintf(data, sizeof(data), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
				 i & 255);
			sqlite3_bind_int64(st, 1, zid);
			sqlite3_bind_text(st, 2, data, -1, SQLITE_TRANSIENT);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		fx_exec(db, "COMMIT");
		z = zone_build_from_db(db, "example.test.", err, sizeof(err));
		if (extra == 0) {
			ok(z != NULL, "RRset of 65535 records builds (%s)", err);
			if (z) {
				const struct znode *n = find(z, "big.example.test.");

				ok(n && znode_rrset(n, RRTYPE_A)->count == 65535, "all 65535 kept");
			}
		} else {
			ok(z == NULL && strstr(err, "more than 65535"), "65536 refused: %s", err);
		}
		zone_unref(z);
		sqlite3_close(db);
	}
}

/* ------------------------------------------------------------------ */
/* Journal */

struct rec {
	char name[128], type[8], data[128];
	long ttl;
};

struct model {
	struct rec *v;
	size_t n, cap;
	uint32_t serial;
	int64_t zid;
	const char *zone;
};

#define SOA_FMT "ns1.j.test. hostmaster.j.test. %u 7200 3600 1209600 300"

static int journal_op(sqlite3 *db, int64_t change, int seq, bool add, const struct rec *r)
{
	sqlite3_stmt *st;
	int rc;

	if (add) {
		if (fx_rr(db, 1, r->name, r->type, r->ttl, r->data) < 0)
			return -1;
	} else {
		sqlite3_prepare_v2(
		    db, "DELETE FROM records WHERE name = ?1 AND type = ?2 AND data = ?3", -1, &st,
		    NULL);
		sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->data, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE || sqlite3_changes(db) != 1)
			return -1;
	}
	sqlite3_prepare_v2(db,
			   "INSERT INTO change_records(change_id, seq, op, name, type, ttl, data) "
			   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, change);
	sqlite3_bind_int(st, 2, seq);
	sqlite3_bind_text(st, 3, add ? "add" : "del", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->ttl);
	sqlite3_bind_text(st, 7, r->data, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void model_add(struct model *m, const struct rec *r)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = *r;
}

static bool model_has(const struct model *m, const struct rec *r)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, r->name) && !strcmp(m->v[i].type, r->type) &&
		    !strcmp(m->v[i].data, r->data))
			return true;
	return false;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void random_rec(struct rec *r, int universe)
{
	static const char *labels[] = {"a", "b", "c", "*", "d"};
	char name[64] = "";
	int depth = 1 + (int)(rnd() % 3);

	for (int i = 0; i < depth; i++) {
		strcat(name, labels[rnd() % (universe > 5 ? 5 : (unsigned)universe)]);
		strcat(name, ".");
	}
	if (universe > 5) {
		char extra[16];

		snprintf(extra, sizeof(extra), "h%u.", rnd() % (unsigned)universe);
		memmove(name + strlen(extra), name, strlen(name) + 1);
		memcpy(name, extra, strlen(extra));
	}
	snprintf(r->name, sizeof(r->name), "%sj.test.", name);
	r->ttl = (rnd() % 2) ? 300 : 3600;
	switch (rnd() % 5) {
	case 0:
		strcpy(r->type, "A");
		snprintf(r->data, sizeof(r->data), "192.0.2.%u", rnd() % 4);
		break;
	case 1:
		strcpy(r->type, "AAAA");
		snprintf(r->data, sizeof(r->data), "2001:db8::%u", rnd() % 4);
		break;
	case 2:
		strcpy(r->type, "TXT");
		snprintf(r->data, sizeof(r->data), "\"t%u\"", rnd() % 4);
		break;
	case 3:
		strcpy(r->type, "MX");
		snprintf(r->data, sizeof(r->data), "%u a.j.test.", rnd() % 3);
		break;
	default:
		strcpy(r->type, "NS");
		snprintf(r->data, sizeof(r->data), "ns%u.j.test.", rnd() % 2);
		break;
	}
}

/* Commits one change of nops random operations plus the SOA bump, the way
 * mcpd does (records, journal rows, zones.serial, one transaction). */
static int random_change(sqlite3 *db, struct model *m, int nops, int universe)
{
	struct rec soa_old, soa_new, r;
	sqlite3_stmt *st;
	int64_t change;
	int seq = 0;
	char sql[160];

	fx_exec(db, "BEGIN IMMEDIATE");
	sqlite3_prepare_v2(db,
			   "INSERT INTO changes(zone_id, zone_name, serial_before, serial_after, "
			   "actor, tool) VALUES(1, 'j.test.', ?1, ?2, 'test', 'test')",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, m->serial);
	sqlite3_bind_int64(st, 2, m->serial + 1);
	sqlite3_step(st);
	sqlite3_finalize(st);
	change = sqlite3_last_insert_rowid(db);
	for (int i = 0; i < nops; i++) {
		if (m->n > 0 && rnd() % 5 < 2) {
			size_t k = rnd() % m->n;

			if (journal_op(db, change, seq++, false, &m->v[k]) < 0)
				return -1;
			m->v[k] = m->v[--m->n];
		} else {
			random_rec(&r, universe);
			if (model_has(m, &r))
				continue;
			if (journal_op(db, change, seq++, true, &r) < 0)
				return -1;
			model_add(m, &r);
		}
	}
	strcpy(soa_old.name, "j.test.");
	strcpy(soa_old.type, "SOA");
	soa_old.ttl = 3600;
	snprintf(soa_old.data, sizeof(soa_old.data), SOA_FMT, m->serial);
	soa_new = soa_old;
	snprintf(soa_new.data, sizeof(soa_new.data), SOA_FMT, m->serial + 1);
	if (journal_op(db, change, seq++, false, &soa_old) < 0 ||
	    journal_op(db, change, seq++, true, &soa_new) < 0)
		return -1;
	m->serial++;
	snprintf(sql, sizeof(sql), "UPDATE zones SET serial = %u WHERE id = 1", m->serial);
	fx_exec(db, sql);
	return fx_exec(db, "COMMIT");
}

static void test_journal_random(void)
{
	sqlite3 *db = fx_open();
	struct model m = {0};
	char err[1024] = "", why[512] = "", text[512];
	struct zone *cur, *full, *upd;
	int steps = 0, equal = 0, failures = 0, relayouts = 0;

	m.serial = 1;
	snprintf(
	    text, sizeof(text),
	    "zone j.test.\nj.test. 3600 SOA ns1.j.test. hostmaster.j.test. 1 7200 3600 1209600 "
	    "300\nj.test. 3600 NS ns1.j.test.\nend\n");
	fx_load(db, text, NULL);
	cur = zone_build_from_db(db, "j.test.", err, sizeof(err));
	ok(cur != NULL, "journal zone built (%s)", err);
	if (cur == NULL)
		return;
	for (int round = 0; round < 300; round++) {
		int changes = 1 + (int)(rnd() % 3);
		unsigned before_bits = cur->shard_bits;

		for (int c = 0; c < changes; c++)
			if (random_change(db, &m, 1 + (int)(rnd() % 6), 5) < 0)
				printf("# change failed: %s\n", sqlite3_errmsg(db));
		/* Now and then a big one: the shard count has to grow. */
		if (round % 100 == 99)
			random_change(db, &m, 900, 2000);
		upd = zone_update_from_journal(db, cur, err, sizeof(err));
		full = zone_build_from_db(db, "j.test.", why, sizeof(why));
		steps++;
		if (upd == NULL || full == NULL) {
			failures++;
			printf("# round %d: update %s / full %s\n", round, upd ? "ok" : err,
			       full ? "ok" : why);
		} else if (zone_compare(upd, full, why, sizeof(why)) == 0) {
			equal++;
		} else {
			printf("# round %d differs: %s\n", round, why);
		}
		if (upd && upd->shard_bits != before_bits)
			relayouts++;
		zone_unref(full);
		if (upd) {
			zone_unref(cur);
			cur = upd;
		}
	}
	is_int(failures, 0, "every journal update succeeded");
	is_int(equal, steps, "journal update == full build in %d of %d rounds", equal, steps);
	ok(relayouts > 0, "the shard count grew %d times along the way", relayouts);
	ok(zone_record_count(cur) == m.n + 2, "record count %zu tracks the model (%zu)",
	   zone_record_count(cur), m.n + 2);

	/* No change since: the same image comes back, one reference more. */
	upd = zone_update_from_journal(db, cur, err, sizeof(err));
	ok(upd == cur, "nothing to apply returns the same image");
	zone_unref(upd);

	/* A gap in the chain: the image is behind a change that is gone. */
	random_change(db, &m, 2, 5);
	random_change(db, &m, 2, 5);
	fx_exec(db, "DELETE FROM changes WHERE id = (SELECT max(id) - 1 FROM changes)");
	upd = zone_update_from_journal(db, cur, err, sizeof(err));
	ok(upd == NULL && strstr(err, "expected"), "gap in the journal: %s", err);
	zone_unref(upd);

	/* Rebuilt fully, then a journal row deleting a record we lack. */
	zone_unref(cur);
	cur = zone_build_from_db(db, "j.test.", err, sizeof(err));
	ok(cur != NULL, "full rebuild after the gap");
	{
		struct rec ghost = {"ghost.j.test.", "A", "192.0.2.77", 60};
		sqlite3_stmt *st;
		int64_t change;

		fx_exec(db, "BEGIN");
		fx_rr(db, 1, ghost.name, ghost.type, ghost.ttl, ghost.data);
		sqlite3_prepare_v2(
		    db,
		    "INSERT INTO changes(zone_id, zone_name, serial_before, "
		    "serial_after, actor, tool) VALUES(1, 'j.test.', ?1, ?1, 't', 't')",
		    -1, &st, NULL);
		sqlite3_bind_int64(st, 1, m.serial);
		sqlite3_step(st);
		sqlite3_finalize(st);
		change = sqlite3_last_insert_rowid(db);
		journal_op(db, change, 0, false, &ghost);
		fx_exec(db, "COMMIT");
		upd = zone_update_from_journal(db, cur, err, sizeof(err));
		ok(upd == NULL && strstr(err, "does not have") && strstr(err, "ghost.j.test."),
		   "journal deleting an absent record: %s", err);
		zone_unref(upd);
	}

	/* Zone deleted and created again: a new id, never incremental. */
	zone_unref(cur);
	fx_exec(db, "DELETE FROM change_records; DELETE FROM changes");
	cur = zone_build_from_db(db, "j.test.", err, sizeof(err));
	fx_exec(db, "PRAGMA foreign_keys = OFF; UPDATE zones SET id = 9 WHERE id = 1; "
		    "UPDATE records SET zone_id = 9");
	upd = zone_update_from_journal(db, cur, err, sizeof(err));
	ok(upd == NULL && strstr(err, "created again"), "re-created zone: %s", err);
	zone_unref(upd);
	zone_unref(cur);
	free(m.v);
	sqlite3_close(db);
}

/* A journal that breaks the zone's rules fails like a full build. */
static void test_journal_invalid(void)
{
	sqlite3 *db = fx_open();
	char err[1024] = "", err2[1024] = "";
	struct zone *cur, *upd, *full;
	struct rec soa_old = {"example.test.", "SOA", "", 3600}, soa_new = soa_old;
	struct rec bad = {"www.example.test.", "CNAME", "x.example.test.", 300};

	fx_load(db, BASE, NULL);
	cur = zone_build_from_db(db, "example.test.", err, sizeof(err));
	snprintf(soa_old.data, sizeof(soa_old.data),
		 "ns1.example.test. hostmaster.example.test. 7 7200 3600 1209600 300");
	snprintf(soa_new.data, sizeof(soa_new.data),
		 "ns1.example.test. hostmaster.example.test. 8 7200 3600 1209600 300");
	fx_exec(db, "BEGIN; INSERT INTO changes(zone_id, zone_name, serial_before, serial_after, "
		    "actor, tool) VALUES(1, 'example.test.', 7, 8, 't', 't')");
	journal_op(db, 1, 0, true, &bad);
	journal_op(db, 1, 1, false, &soa_old);
	journal_op(db, 1, 2, true, &soa_new);
	fx_exec(db, "UPDATE zones SET serial = 8; COMMIT");
	upd = zone_update_from_journal(db, cur, err, sizeof(err));
	full = zone_build_from_db(db, "example.test.", err2, sizeof(err2));
	ok(upd == NULL && full == NULL, "CNAME next to data refused by both paths");
	ok(strstr(err, "CNAME and other data") && strstr(err2, "CNAME and other data"),
	   "same reason: %s", err);
	zone_unref(upd);
	zone_unref(full);
	zone_unref(cur);
	sqlite3_close(db);
}

/* ------------------------------------------------------------------ */
/* Zone sets */

static struct zone *mkzone(sqlite3 *db, const char *name, uint32_t serial)
{
	char text[1024], err[512];

	snprintf(text, sizeof(text),
		 "zone %s\n%s 60 SOA ns.%s h.%s %u 1 1 1 1\n%s 60 NS ns.%s\nend\n", name, name,
		 name, name, serial, name, name);
	fx_load(db, text, NULL);
	struct zone *z = zone_build_from_db(db, name, err, sizeof(err));
	if (z == NULL)
		printf("# %s: %s\n", name, err);
	return z;
}

static const char *found(const struct zoneset *zs, const char *qname)
{
	uint8_t w[DNAME_MAXLEN];
	const struct zone *z;

	if (dname_parse_text(qname, strlen(qname), NULL, w) < 0)
		return "bad";
	z = zoneset_find(zs, w);
	return z ? zone_name_text(z) : "none";
}

static void test_zoneset(void)
{
	sqlite3 *db = fx_open();
	struct zone *a = mkzone(db, "test.", 1), *b = mkzone(db, "example.test.", 1),
		    *c = mkzone(db, "deep.sub.example.test.", 1), *b2;
	struct zone *v[3] = {a, b, c};
	struct zoneset *zs, *zs2, *zs3;

	ok(a && b && c, "three zones");
	zs = zoneset_new(v, 3);
	is_int(zoneset_count(zs), 3, "3 zones in the set");
	is_str(found(zs, "www.example.test."), "example.test.", "deepest encloser");
	is_str(found(zs, "WWW.EXAMPLE.TEST."), "example.test.", "case-insensitive");
	is_str(found(zs, "example.test."), "example.test.", "apex itself");
	is_str(found(zs, "x.sub.example.test."), "example.test.", "between zones");
	is_str(found(zs, "a.deep.sub.example.test."), "deep.sub.example.test.", "deeper zone");
	is_str(found(zs, "other.test."), "test.", "parent zone");
	is_str(found(zs, "example.org."), "none", "no zone");
	is_str(found(zs, "."), "none", "root");
	ok(zoneset_get(zs, "example.test") == b, "get without the trailing dot");
	ok(zoneset_get(zs, "EXAMPLE.test.") == b, "get ignores case");
	ok(zoneset_get(zs, "sub.example.test.") == NULL, "get is exact");

	fx_exec(db, "UPDATE records SET data = 'ns.example.test. h.example.test. 2 1 1 1 1' "
		    "WHERE type = 'SOA' AND zone_id = 2; UPDATE zones SET serial = 2 WHERE id = 2");
	{
		char err[256];

		b2 = zone_build_from_db(db, "example.test.", err, sizeof(err));
	}
	zs2 = zoneset_with(zs, b2);
	is_int(zoneset_count(zs2), 3, "replacing keeps 3 zones");
	ok(zoneset_get(zs2, "example.test.") == b2 && zoneset_get(zs, "example.test.") == b,
	   "new set has the new image, old set the old one");
	zs3 = zoneset_without(zs2, "test.");
	is_int(zoneset_count(zs3), 2, "without removes one");
	is_str(found(zs3, "other.test."), "none", "removed zone no longer answers");
	ok(zoneset_at(zs3, 5) == NULL, "at() out of range");

	/* References: the sets hold their own; dropping ours and the sets
	 * frees everything (the sanitizer build checks for leaks). */
	zone_unref(a);
	zone_unref(b);
	zone_unref(c);
	zone_unref(b2);
	ok(atomic_load(&b2->refs) == 2, "b2 held by two sets");
	zoneset_free(zs);
	zoneset_free(zs2);
	ok(atomic_load(&b2->refs) == 1, "b2 held by one set");
	zoneset_free(zs3);
	ok(zoneset_find(NULL, (const uint8_t *)"") == NULL, "NULL set");
	sqlite3_close(db);
}

int main(void)
{
	test_basic();
	test_errors();
	test_rrset_limit();
	test_journal_random();
	test_journal_invalid();
	test_zoneset();
	return done_testing();
}
