/*
 * test_store.c: mcpd's change store against a temporary database: every
 * validation rule (and that a refused change writes nothing), dry runs,
 * expected_serial, serial arithmetic, reverts, limits at N and N+1,
 * deleting zones, importing the benchmark generator's zones, journal
 * retention by count and age (at N and N+1), and several processes
 * committing to one zone at once.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "notify.h"
#include "store.h"
#include "tap.h"

static char dir[256], dbpath[300];

static sqlite3 *open_test_db(void)
{
	sqlite3 *db = NULL;
	char err[512];

	if (db_open(dbpath, DB_CREATE, &db, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		exit(1);
	}
	if (db_migrate(db, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		exit(1);
	}
	return db;
}

static long long q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# bad sql %s: %s\n", sql, sqlite3_errmsg(db));
		return -2;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool has_record(sqlite3 *db, const char *name, const char *type, const char *data)
{
	char sql[2048];
	char *q = sqlite3_mprintf(
	    "SELECT count(*) FROM records WHERE name=%Q AND type=%Q AND data=%Q", name, type, data);
	long long n;

	snprintf(sql, sizeof(sql), "%s", q);
	sqlite3_free(q);
	n = q_int(db, sql);
	return n == 1;
}

static struct store_opts opts(void)
{
	struct store_opts o;

	memset(&o, 0, sizeof(o));
	o.actor = "test";
	o.tool = "test";
	o.max_records = STORE_TOOL_MAX_RECORDS;
	return o;
}

static struct store_result res;

/* Commits one change built by the caller; returns the store's code. */
static int commit(sqlite3 *db, struct store_change *ch, const struct store_opts *o)
{
	int r;

	store_result_clear(&res);
	r = store_commit(db, ch, o, &res);
	store_change_free(ch);
	return r;
}

static int add1(sqlite3 *db, const char *name, const char *type, const char *ttl, const char *data)
{
	struct store_change *ch = store_change_new("example.com");
	struct store_opts o = opts();

	store_change_add(ch, "records[0]", name, type, ttl, data);
	return commit(db, ch, &o);
}

static bool err_has(const char *needle)
{
	bool found = res.error && strstr(res.error, needle);

	if (!found)
		printf("# error text: %s\n#   wanted: %s\n", res.error ? res.error : "(none)",
		       needle);
	return found;
}

static void create_example(sqlite3 *db)
{
	struct store_change *ch = store_change_new("Example.COM.");
	struct store_opts o = opts();
	int r;

	store_change_set_create(ch, true, "increment", 3600);
	store_change_add(ch, "soa", "@", "SOA", NULL, "ns1 hostmaster 100 7200 3600 1209600 300");
	store_change_add(ch, "ns[0]", "@", "NS", NULL, "ns1");
	store_change_add(ch, "ns[1]", "@", "NS", NULL, "ns2.example.net.");
	store_change_add(ch, "a", "ns1", "A", "300", "192.0.2.53");
	r = commit(db, ch, &o);
	is_int(r, 0, "create example.com");
	ok(res.created && res.committed, "created and committed");
	is_int(res.serial, 100, "a new zone keeps the serial it was given");
	is_int(q_int(db, "SELECT serial FROM zones WHERE name='example.com.'"), 100,
	       "zones.serial set");
	is_int(q_int(db, "SELECT count(*) FROM changes WHERE serial_before IS NULL"), 1,
	       "creation journaled with serial_before NULL");
	ok(has_record(db, "example.com.", "SOA",
		      "ns1.example.com. hostmaster.example.com. 100 7200 3600 1209600 300"),
	   "SOA stored canonically");
	ok(has_record(db, "example.com.", "NS", "ns1.example.com."),
	   "relative NS data made absolute");
}

static void test_serial_math(void)
{
	time_t day = 1795305600 + 86400; /* 2026-11-23T00:00:00Z */

	ok(notify_serial_gt(2, 1), "2 > 1");
	ok(!notify_serial_gt(1, 2), "not 1 > 2");
	ok(notify_serial_gt(0, 4294967295u), "0 > 2^32-1 (wraps, RFC 1982)");
	ok(!notify_serial_gt(5, 5) && notify_serial_ge(5, 5), "equal: ge, not gt");
	ok(!notify_serial_gt(0x80000000u, 0) && !notify_serial_gt(0, 0x80000000u),
	   "2^31 apart: undefined, neither is greater");
	ok(notify_serial_gt(0x7fffffffu, 0), "2^31-1 ahead is greater");
	is_int(store_next_serial(5, "increment", day), 6, "increment");
	is_int(store_next_serial(4294967295u, "increment", day), 1, "wrap skips 0");
	is_int(store_next_serial(5, "date", day), 2026112300, "date from a small serial");
	is_int(store_next_serial(2026112300, "date", day), 2026112301, "same day: nn+1");
	is_int(store_next_serial(2026112399, "date", day), 2026112400,
	       "99 changes in a day roll into the next date form, still increasing");
	is_int(store_next_serial(3000000000u, "date", day), 3000000001u,
	       "a serial ahead of the date form just increments");
}

static void test_canonical(sqlite3 *db)
{
	int r;

	r = add1(db, "WWW", "a", NULL, "192.0.2.1");
	is_int(r, 0, "add www A");
	ok(has_record(db, "www.example.com.", "A", "192.0.2.1"), "name lower-cased, absolute");
	is_int(res.serial_before, 100, "serial_before");
	is_int(res.serial, 101, "serial bumped by one");
	is_int(res.added_total, 2, "diff: the record and the new SOA");
	is_int(res.removed_total, 1, "diff: the old SOA");
	is_int(res.added[0].type, 6, "the SOA comes first among additions");
	is_int(q_int(db, "SELECT serial FROM zones WHERE name='example.com.'"), 101,
	       "zones.serial follows");
	is_int(q_int(db, "SELECT count(*) FROM change_records WHERE change_id=(SELECT max(id) FROM "
			 "changes) AND type='SOA'"),
	       2, "journal holds the SOA del/add pair");
	is_int(q_int(db, "SELECT seq FROM change_records WHERE change_id=(SELECT max(id) FROM "
			 "changes) AND type='SOA' AND op='del'"),
	       0, "the old SOA is the first journal row (IXFR order)");
	ok(res.change_id > 0, "change id reported");

	r = add1(db, "mail", "mx", "600", "10 MAIL.example.com.");
	is_int(r, 0, "add MX");
	ok(has_record(db, "mail.example.com.", "MX", "10 mail.example.com."),
	   "MX target lower-cased");
	r = add1(db, "txt.example.com.", "TXT", NULL, "\"Hello World\"");
	is_int(r, 0, "absolute owner");
	ok(has_record(db, "txt.example.com.", "TXT", "\"Hello World\""), "TXT case kept");
	ok(q_int(db, "SELECT ttl FROM records WHERE name='txt.example.com.'") == 3600,
	   "unset ttl: zone default");
	r = add1(db, "mail", "MX", NULL, "20 mx2");
	is_int(r, 0, "second MX without ttl");
	is_int(q_int(db, "SELECT ttl FROM records WHERE data='20 mx2.example.com.'"), 600,
	       "unset ttl joins the RRset's TTL (RFC 2181 §5.2)");
	r = add1(db, "t", "TYPE65280", "60", "\\# 2 abcd");
	is_int(r, 0, "unknown type in RFC 3597 form");
	ok(has_record(db, "t.example.com.", "TYPE65280", "\\# 2 ABCD") ||
	       has_record(db, "t.example.com.", "TYPE65280", "\\# 2 abcd"),
	   "unknown type stored as TYPEnnn");

	/* no-op */
	r = add1(db, "www", "A", NULL, "192.0.2.1");
	is_int(r, 0, "re-adding an existing record is fine");
	ok(!res.committed && res.added_total == 0, "nothing written");
	is_int(res.unchanged, 1, "counted as unchanged");
	is_int(res.serial, q_int(db, "SELECT serial FROM zones WHERE name='example.com.'"),
	       "serial not bumped by a no-op");
}

static void refused(sqlite3 *db, struct store_change *ch, const char *needle, const char *what)
{
	struct store_opts o = opts();
	long long serial = q_int(db, "SELECT serial FROM zones WHERE name='example.com.'");
	long long nrec = q_int(db, "SELECT count(*) FROM records");
	long long nch = q_int(db, "SELECT count(*) FROM changes");
	int r = commit(db, ch, &o);

	ok(r < 0, "%s: refused", what);
	ok(err_has(needle), "%s: message names it", what);
	ok(serial == q_int(db, "SELECT serial FROM zones WHERE name='example.com.'") &&
	       nrec == q_int(db, "SELECT count(*) FROM records") &&
	       nch == q_int(db, "SELECT count(*) FROM changes"),
	   "%s: nothing written", what);
}

static struct store_change *ch1(const char *name, const char *type, const char *ttl,
				const char *data)
{
	struct store_change *ch = store_change_new("example.com.");

	store_change_add(ch, "records[2]", name, type, ttl, data);
	return ch;
}

static void test_validation(sqlite3 *db)
{
	struct store_change *ch;

	refused(db, ch1("mail", "MX", NULL, "x mail"), "records[2] (MX 'mail'): MX preference",
		"bad MX preference");
	refused(db, ch1("www.other.org.", "A", NULL, "192.0.2.1"),
		"'www.other.org.' is not inside zone example.com.", "name outside the zone");
	refused(db, ch1("www.example.com", "A", NULL, "192.0.2.1"), "no trailing dot",
		"relative name repeating the zone");
	refused(db, ch1("", "A", NULL, "192.0.2.1"), "name is empty", "empty name");
	refused(db, ch1("x", "FOO", NULL, "1"), "unknown type 'FOO'", "unknown type");
	refused(db, ch1("x", "ANY", NULL, "1"), "cannot be stored", "meta type ANY");
	refused(db, ch1("x", "OPT", NULL, "\\# 0"), "cannot be stored", "OPT");
	refused(db, ch1("x", "A", NULL, "300.1.1.1"), "records[2] (A 'x')", "bad IPv4");
	refused(db, ch1("x", "A", "2147483648", "192.0.2.1"), "out of range 0..2147483647",
		"TTL 2^31 (N+1)");
	refused(db, ch1("x", "A", "-1", "192.0.2.1"), "ttl", "negative TTL");
	refused(db, ch1("x", "A", "abc", "192.0.2.1"), "not a number", "TTL not a number");
	is_int(add1(db, "maxttl", "A", "2147483647", "192.0.2.1"), 0, "TTL 2^31-1 (N) accepted");
	is_int(add1(db, "units", "A", "1h30m", "192.0.2.1"), 0, "TTL with units accepted");
	is_int(q_int(db, "SELECT ttl FROM records WHERE name='units.example.com.'"), 5400,
	       "1h30m = 5400 s");

	/* CNAME rules */
	refused(db, ch1("www", "CNAME", NULL, "example.net."),
		"already has A data; a CNAME cannot coexist", "CNAME beside existing A");
	is_int(add1(db, "alias", "CNAME", NULL, "www"), 0, "CNAME alone");
	refused(db, ch1("alias", "TXT", NULL, "\"x\""), "has a CNAME, so it cannot have TXT",
		"data beside existing CNAME");
	refused(db, ch1("alias", "CNAME", NULL, "other"), "2 CNAME records", "two CNAMEs");
	refused(db, ch1("@", "CNAME", NULL, "example.net."), "CNAME cannot be at the zone apex",
		"CNAME at apex");
	is_int(add1(db, "alias", "RRSIG", NULL, "\\# 4 00050803"), 0,
	       "RRSIG may sit beside a CNAME (RFC 4035 §2.5)");

	/* apex rules */
	ch = store_change_new("example.com");
	store_change_del(ch, "records[0]", "@", "SOA", NULL);
	refused(db, ch, "exactly one SOA", "deleting the SOA");
	ch = store_change_new("example.com");
	store_change_del(ch, "records[0]", "@", "NS", NULL);
	refused(db, ch, "at least one NS", "deleting every apex NS");
	ch = ch1("sub", "SOA", NULL, "a b 1 2 3 4 5");
	refused(db, ch, "SOA record belongs only at the zone apex", "SOA below the apex");
	ch = store_change_new("example.com");
	store_change_add(ch, "records[0]", "@", "SOA", NULL, "a b 1 2 3 4 5");
	refused(db, ch, "would have 2 SOA", "a second SOA");

	/* DNAME rules (RFC 6672 §2.4) */
	is_int(add1(db, "d", "DNAME", NULL, "example.net."), 0, "DNAME");
	refused(db, ch1("x.d", "A", NULL, "192.0.2.1"), "below the DNAME at d.example.com.",
		"data below a DNAME");
	is_int(add1(db, "deep.x", "A", NULL, "192.0.2.7"), 0, "data at deep.x");
	refused(db, ch1("x", "DNAME", NULL, "example.org."), "has data (deep.x.example.com.) below",
		"DNAME above existing data");

	/* RRset TTLs, duplicates, missing records */
	refused(db, ch1("www", "A", "60", "192.0.2.2"), "would have TTLs", "RRset TTL mismatch");
	ch = store_change_new("example.com");
	store_change_add(ch, "records[0]", "dup", "A", NULL, "192.0.2.1");
	store_change_add(ch, "records[1]", "dup", "A", NULL, "192.0.2.1");
	refused(db, ch, "records[1] (A 'dup'): duplicates records[0]", "duplicate in one change");
	ch = store_change_new("example.com");
	store_change_del(ch, "records[0]", "www", "A", "192.0.2.99");
	refused(db, ch, "no such record", "deleting a record that is not there");
	ch = store_change_new("example.com");
	store_change_del(ch, "records[0]", "nothing", "A", NULL);
	refused(db, ch, "has no A records", "deleting an RRset that is not there");
	ch = store_change_new("no..good");
	store_change_add(ch, "records[0]", "www", "A", NULL, "192.0.2.1");
	refused(db, ch, "zone:", "bad zone name");
	ch = store_change_new("missing.example");
	store_change_add(ch, "records[0]", "www", "A", NULL, "192.0.2.1");
	refused(db, ch, "does not exist", "zone that does not exist");

	/* every error at once */
	ch = store_change_new("example.com");
	store_change_add(ch, "records[0]", "a", "A", NULL, "bad");
	store_change_add(ch, "records[1]", "b", "A", NULL, "192.0.2.1");
	store_change_add(ch, "records[2]", "c", "MX", NULL, "x y");
	refused(db, ch, "records[2] (MX 'c')", "several errors");
	ok(strstr(res.error, "records[0] (A 'a')") != NULL && res.nerrors == 2,
	   "both bad records reported, the good one not");
}

static void test_dry_run_and_conflicts(sqlite3 *db)
{
	struct store_change *ch;
	struct store_opts o = opts();
	long long serial = q_int(db, "SELECT serial FROM zones WHERE name='example.com.'");
	long long nrec = q_int(db, "SELECT count(*) FROM records");
	long long nch = q_int(db, "SELECT count(*) FROM changes");
	int r;

	o.dry_run = true;
	ch = store_change_new("example.com");
	store_change_add(ch, "records[0]", "dry", "AAAA", "300", "2001:DB8::1");
	store_change_del(ch, "records[1]", "www", "A", "192.0.2.1");
	r = commit(db, ch, &o);
	is_int(r, 0, "dry run succeeds");
	ok(!res.committed && res.change_id == 0, "dry run commits nothing");
	is_int(res.serial, serial + 1, "dry run reports the serial it would produce");
	is_int(res.added_total, 2, "dry run diff: AAAA + SOA");
	ok(res.nadded == 2 && strcmp(res.added[1].data, "2001:db8::1") == 0,
	   "dry run diff in canonical text");
	is_int(res.removed_total, 2, "dry run diff: A + old SOA");
	ok(serial == q_int(db, "SELECT serial FROM zones WHERE name='example.com.'") &&
	       nrec == q_int(db, "SELECT count(*) FROM records") &&
	       nch == q_int(db, "SELECT count(*) FROM changes"),
	   "dry run wrote nothing");

	o = opts();
	o.has_expected = true;
	o.expected_serial = (uint32_t)serial - 1;
	r = commit(db, ch1("late", "A", NULL, "192.0.2.1"), &o);
	is_int(r, ERR_CONFLICT, "expected_serial behind: conflict");
	ok(err_has("is at serial") && err_has("changed since"), "conflict explains");
	o.expected_serial = (uint32_t)serial;
	r = commit(db, ch1("late", "A", NULL, "192.0.2.1"), &o);
	is_int(r, 0, "expected_serial current: committed");
}

static void test_set_and_revert(sqlite3 *db)
{
	struct store_change *ch;
	struct store_opts o = opts();
	long long s0, s1, id;
	int r;

	s0 = q_int(db, "SELECT serial FROM zones WHERE name='example.com.'");
	ch = store_change_new("example.com");
	store_change_clear_rrset(ch, "set_rrset", "www", "A");
	store_change_add(ch, "data[0]", "www", "A", NULL, "192.0.2.10");
	store_change_add(ch, "data[1]", "www", "A", NULL, "192.0.2.11");
	r = commit(db, ch, &o);
	is_int(r, 0, "set_rrset-style replace");
	id = res.change_id;
	ok(has_record(db, "www.example.com.", "A", "192.0.2.10") &&
	       !has_record(db, "www.example.com.", "A", "192.0.2.1"),
	   "RRset replaced");
	is_int(q_int(db, "SELECT ttl FROM records WHERE data='192.0.2.10'"), 3600,
	       "replaced RRset keeps the old TTL when none is given");
	s1 = res.serial;

	ch = store_change_new("example.com");
	store_change_set_revert(ch, id, 0);
	r = commit(db, ch, &o);
	is_int(r, 0, "revert by change id");
	ok(has_record(db, "www.example.com.", "A", "192.0.2.1") &&
	       !has_record(db, "www.example.com.", "A", "192.0.2.10"),
	   "revert restored the old RRset");
	ok(notify_serial_gt(res.serial, (uint32_t)s1), "revert moves the serial forward");

	ch = store_change_new("example.com");
	store_change_set_revert(ch, id, 0);
	r = commit(db, ch, &o);
	is_int(r, ERR_CONFLICT, "reverting the same change again conflicts");
	ok(err_has("no longer in the zone"), "conflict names the record");

	/* to_serial: undo everything after s0 */
	is_int(add1(db, "later", "A", NULL, "192.0.2.50"), 0, "another change");
	ch = store_change_new("example.com");
	store_change_set_revert(ch, 0, (uint32_t)s0);
	r = commit(db, ch, &o);
	is_int(r, 0, "revert to serial");
	ok(has_record(db, "www.example.com.", "A", "192.0.2.1") &&
	       !has_record(db, "later.example.com.", "A", "192.0.2.50"),
	   "state at serial restored");
	ch = store_change_new("example.com");
	store_change_set_revert(ch, 0, 12345);
	r = commit(db, ch, &o);
	is_int(r, ERR_NOTFOUND, "unknown serial");
	ch = store_change_new("example.com");
	store_change_set_revert(ch, 1, 0);
	r = commit(db, ch, &o);
	ok(r < 0 && err_has("delete_zone"), "the creating change cannot be reverted");

	/* SOA field change is reverted too (not just the serial) */
	ch = store_change_new("example.com");
	store_change_clear_rrset(ch, "set_rrset", "@", "SOA");
	store_change_add(ch, "data[0]", "@", "SOA", NULL, "ns1 admin 1 7200 3600 1209600 600");
	r = commit(db, ch, &o);
	is_int(r, 0, "SOA replaced (serial moves forward anyway)");
	ok(q_int(db, "SELECT count(*) FROM records WHERE type='SOA' AND data LIKE '% admin.%'") ==
	       1,
	   "new RNAME stored");
	ok(res.serial == q_int(db, "SELECT serial FROM zones WHERE name='example.com.'") &&
	       res.serial != 1,
	   "a lower serial in a new SOA is replaced by the next one");
	ch = store_change_new("example.com");
	store_change_set_revert(ch, res.change_id, 0);
	r = commit(db, ch, &o);
	is_int(r, 0, "revert the SOA change");
	ok(q_int(db,
		 "SELECT count(*) FROM records WHERE type='SOA' AND data LIKE '% hostmaster.%'") ==
	       1,
	   "old RNAME back");
}

static void test_limits(sqlite3 *db)
{
	struct store_change *ch;
	struct store_opts o = opts();
	char name[32], *txt;
	size_t i, pos;
	int r;

	/* records per change: N commits, N+1 is refused before any work */
	ch = store_change_new("example.com");
	for (i = 0; i < STORE_TOOL_MAX_RECORDS; i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		store_change_add(ch, "records[i]", name, "A", NULL, "192.0.2.1");
	}
	r = commit(db, ch, &o);
	is_int(r, 0, "%d records in one change (N)", STORE_TOOL_MAX_RECORDS);
	is_int(res.added_total, STORE_TOOL_MAX_RECORDS + 1, "all added (+ SOA)");
	ok(res.nadded == STORE_RESULT_LIST_MAX,
	   "the listed diff is capped at STORE_RESULT_LIST_MAX");
	ch = store_change_new("example.com");
	for (i = 0; i <= STORE_TOOL_MAX_RECORDS; i++) {
		snprintf(name, sizeof(name), "m%zu", i);
		store_change_add(ch, "records[i]", name, "A", NULL, "192.0.2.1");
	}
	refused(db, ch, "at most 10000", "N+1 records in one change");
	o.max_records = 0;
	ch = store_change_new("example.com");
	for (i = 0; i <= STORE_TOOL_MAX_RECORDS; i++) {
		snprintf(name, sizeof(name), "m%zu", i);
		store_change_add(ch, "records[i]", name, "A", NULL, "192.0.2.1");
	}
	is_int(commit(db, ch, &o), 0, "no limit for the admin import");
	ok(res.nadded == STORE_RESULT_LIST_MAX && res.added_total == STORE_TOOL_MAX_RECORDS + 2,
	   "the listed diff is capped, the count is not");

	/* rdata length: a TXT of exactly STORE_RDATA_MAXLEN octets, then one more */
	txt = malloc(70000);
	for (int extra = 0; extra < 2; extra++) {
		size_t left = STORE_RDATA_MAXLEN + (size_t)extra;
		pos = 0;
		while (left > 0) {
			size_t n = left - 1 > 255 ? 255 : left - 1;
			txt[pos++] = '"';
			memset(txt + pos, 'a', n);
			pos += n;
			txt[pos++] = '"';
			txt[pos++] = ' ';
			left -= n + 1;
		}
		txt[pos] = '\0';
		o = opts();
		ch = store_change_new("example.com");
		store_change_add(ch, "records[0]", extra ? "big2" : "big", "TXT", NULL, txt);
		r = commit(db, ch, &o);
		if (extra == 0)
			is_int(r, 0, "TXT of %d octets (N)", STORE_RDATA_MAXLEN);
		else
			ok(r < 0 && err_has("the limit is"), "TXT of N+1 octets refused");
	}
	free(txt);
}

static void test_delete_zone(sqlite3 *db)
{
	struct store_change *ch = store_change_new("gone.test");
	struct store_opts o = opts();
	int r;

	store_change_set_create(ch, true, "date", 300);
	store_change_add(ch, "soa", "@", "SOA", NULL, "ns hm 1 2 3 4 5");
	store_change_add(ch, "ns", "@", "NS", NULL, "ns.example.com.");
	store_change_add(ch, "r", "www", "A", NULL, "192.0.2.1");
	is_int(commit(db, ch, &o), 0, "create gone.test");
	ch = store_change_new("gone.test");
	store_change_set_create(ch, true, "date", 300);
	store_change_add(ch, "soa", "@", "SOA", NULL, "ns hm 1 2 3 4 5");
	store_change_add(ch, "ns", "@", "NS", NULL, "ns.example.com.");
	r = commit(db, ch, &o);
	is_int(r, ERR_EXISTS, "creating it twice");
	is_int(q_int(db, "SELECT default_ttl FROM zones WHERE name='gone.test.'"), 300,
	       "default_ttl stored");
	is_int(q_int(db, "SELECT ttl FROM records WHERE name='www.gone.test.'"), 300,
	       "records without ttl get the zone's default");

	o.dry_run = true;
	store_result_clear(&res);
	r = store_delete_zone(db, "GONE.test", &o, &res);
	ok(r == 0 && res.removed_total == 3 && !res.committed, "dry-run delete lists 3 records");
	is_int(q_int(db, "SELECT count(*) FROM zones WHERE name='gone.test.'"), 1, "still there");
	o = opts();
	o.has_expected = true;
	o.expected_serial = 7;
	store_result_clear(&res);
	is_int(store_delete_zone(db, "gone.test", &o, &res), ERR_CONFLICT,
	       "delete with a stale expected_serial");
	o.has_expected = false;
	store_result_clear(&res);
	r = store_delete_zone(db, "gone.test", &o, &res);
	ok(r == 0 && res.committed && res.deleted, "deleted");
	is_int(q_int(db, "SELECT count(*) FROM zones WHERE name='gone.test.'"), 0, "zone row gone");
	is_int(q_int(db, "SELECT count(*) FROM records r LEFT JOIN zones z ON z.id=r.zone_id "
			 "WHERE z.id IS NULL"),
	       0, "records cascaded");
	is_int(q_int(db, "SELECT count(*) FROM changes WHERE zone_name='gone.test.' AND "
			 "serial_after IS NULL AND zone_id IS NULL"),
	       1, "the deletion is journaled and kept");
	is_int(q_int(db, "SELECT count(*) FROM change_records WHERE change_id=(SELECT max(id) FROM "
			 "changes) AND op='del'"),
	       3, "with every removed record");
	store_result_clear(&res);
	is_int(store_delete_zone(db, "gone.test", &o, &res), ERR_NOTFOUND, "delete twice");
}

static void test_import_text(sqlite3 *db)
{
	static const char zone[] = "$ORIGIN imp.test.\n$TTL 600\n"
				   "@ IN SOA ns1 hostmaster 7 3600 600 86400 300\n"
				   "  IN NS ns1\n"
				   "ns1 IN A 192.0.2.1\n"
				   "www 300 IN A 192.0.2.2\n"
				   "www 900 IN A 192.0.2.3 ; different TTL: normalized\n"
				   "www IN A 192.0.2.2 ; repeated: one record\n";
	struct store_change *ch = store_change_new("imp.test");
	struct store_opts o = opts();
	char *text;
	size_t len;
	int r;

	store_change_set_create(ch, false, "increment", 3600);
	store_change_load_text(ch, zone, strlen(zone), true);
	o.max_records = 0;
	r = commit(db, ch, &o);
	is_int(r, 0, "import creates the zone");
	is_int(res.serial, 7, "file's serial kept for a new zone");
	ok(res.nwarnings == 1 && strstr(res.warnings[0], "TTL 900 changed to 300"),
	   "RRset TTLs normalized with a warning");
	is_int(q_int(db, "SELECT count(*) FROM records WHERE name='www.imp.test.' AND ttl=300"), 2,
	       "both www records at TTL 300, the repeat collapsed");

	ch = store_change_new("imp.test");
	store_change_load_text(ch, "bad line here\n", 14, true);
	refused(db, ch, "line 1", "syntax error names the line");

	ch = store_change_new("imp.test");
	store_change_load_text(ch, "mail IN MX 10 mx\n@ IN SOA ns1 hm 9 1 2 3 4\n", 42, false);
	r = commit(db, ch, &o);
	is_int(r, 0, "merge");
	ok(has_record(db, "mail.imp.test.", "MX", "10 mx.imp.test.") &&
	       q_int(db, "SELECT count(*) FROM records WHERE name='imp.test.' AND type='SOA'") == 1,
	   "merge adds records and replaces the SOA");
	ok(has_record(db, "www.imp.test.", "A", "192.0.2.3"), "merge keeps the rest");

	ch = store_change_new("imp.test");
	store_change_load_text(ch, "", 0, true);
	refused(db, ch, "no records", "replace with nothing");

	r = store_export(db, "imp.test", &text, &len);
	is_int(r, 0, "export");
	ok(strncmp(text, "; zone imp.test.\nimp.test. 3600 IN SOA ", 39) == 0, "SOA first");
	if (strncmp(text, "; zone imp.test.\nimp.test. 3600 IN SOA ", 39) != 0)
		printf("# %.200s\n", text);
	free(text);
}

static void test_gen_zones(sqlite3 *db)
{
	char cmd[1024], path[600], *text;
	struct store_change *ch;
	struct store_opts o = opts();
	FILE *f;
	size_t len;
	long n;
	int r;

	snprintf(cmd, sizeof(cmd),
		 "python3 %s/tests/bench/gen-zones --zones 2 --records 400 --no-pdns --out "
		 "%s/bench >/dev/null",
		 getenv("SRCDIR") ? getenv("SRCDIR") : ".", dir);
	r = system(cmd);
	if (!ok(r == 0, "bench gen-zones ran (python3 needed)"))
		return;
	snprintf(path, sizeof(path), "%s/bench/zones/zone0001.test.zone", dir);
	f = fopen(path, "r");
	if (!ok(f != NULL, "generated zone file"))
		return;
	text = malloc(1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	ch = store_change_new("zone0001.test");
	store_change_set_create(ch, false, "increment", 3600);
	store_change_load_text(ch, text, len, true);
	o.max_records = 0;
	r = commit(db, ch, &o);
	is_int(r, 0, "gen-zones output imports");
	if (r)
		printf("# %s\n", res.error);
	n = (long)q_int(db, "SELECT count(*) FROM records r JOIN zones z ON z.id=r.zone_id WHERE "
			    "z.name='zone0001.test.'");
	is_int(n, 200, "all 200 records of the zone");
	is_int(res.serial, 2024010101, "its serial");
	ch = store_change_new("zone0001.test");
	store_change_load_text(ch, text, len, true);
	r = commit(db, ch, &o);
	ok(r == 0 && !res.committed, "importing the same file again changes nothing");
	{
		/* the same content with an older serial is no change either */
		char *old = strstr(text, "2024010101");
		if (ok(old != NULL, "serial in the file")) {
			memcpy(old, "2024010100", 10);
			ch = store_change_new("zone0001.test");
			store_change_load_text(ch, text, len, true);
			r = commit(db, ch, &o);
			ok(r == 0 && !res.committed && res.serial == 2024010101,
			   "an older export of the same content changes nothing");
			memcpy(old, "2024010109", 10);
			ch = store_change_new("zone0001.test");
			store_change_load_text(ch, text, len, true);
			r = commit(db, ch, &o);
			ok(r == 0 && res.committed && res.serial == 2024010109 &&
			       res.added_total == 1 && res.removed_total == 1,
			   "a newer serial in the file is taken (only the SOA changes)");
		}
	}
	free(text);
}

/* Several processes, each with its own connection, commit to one zone. */
/* ------------------------------------------------------------------ */
/* Journal retention */

static long long keep_count(sqlite3 *db)
{
	return q_int(db, "SELECT count(*) FROM changes WHERE zone_name='keep.test.'");
}

static long long keep_min_id(sqlite3 *db)
{
	return q_int(db, "SELECT min(id) FROM changes WHERE zone_name='keep.test.'");
}

/* One more change to keep.test (a new A record), under o. */
static int keep_change(sqlite3 *db, const struct store_opts *o)
{
	static int k;
	char name[32];
	struct store_change *ch = store_change_new("keep.test");

	snprintf(name, sizeof(name), "k%d", k++);
	store_change_add(ch, "records[0]", name, "A", NULL, "192.0.2.7");
	return commit(db, ch, o);
}

static time_t fixed_now;
static time_t fixed_clock(void)
{
	return fixed_now;
}

/* created_at of change id as SQLite writes it, t seconds from the epoch */
static void set_created(sqlite3 *db, long long id, time_t t)
{
	char ts[32], *q;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.500Z", &tm);
	q = sqlite3_mprintf("UPDATE changes SET created_at=%Q WHERE id=%lld", ts, id);
	sqlite3_exec(db, q, NULL, NULL, NULL);
	sqlite3_free(q);
}

static void test_retention(sqlite3 *db)
{
	struct store_retention rt = {3, 0}, def;
	struct store_opts o = opts();
	struct store_change *ch;
	long long first, newest, orphans, others;
	int i;

	others = q_int(db, "SELECT count(*) FROM changes WHERE zone_name <> 'keep.test.'");
	ok(others > 3, "other zones have journals longer than 3");
	store_get_retention(&def);
	is_int(def.keep, STORE_DEFAULT_JOURNAL_KEEP, "default retention: 1000 changes");
	is_int(def.keep_days, 0, "default retention: no age limit");

	o.retention = &rt;
	ch = store_change_new("keep.test");
	store_change_set_create(ch, true, "increment", 300);
	store_change_add(ch, "soa", "@", "SOA", NULL, "ns hm 1 2 3 4 5");
	store_change_add(ch, "ns", "@", "NS", NULL, "ns.example.com.");
	is_int(commit(db, ch, &o), 0, "create keep.test (change 1)");
	first = keep_min_id(db);
	for (i = 2; i <= 3; i++)
		is_int(keep_change(db, &o), 0, "another change");
	/* N = 3 changes with journal-keep 3: all stay */
	is_int(keep_count(db), 3, "keep 3, 3 changes: all 3 kept");
	is_int(res.pruned, 0, "nothing pruned at N");
	is_int(keep_min_id(db), first, "the first change is still there");
	/* N + 1 */
	is_int(keep_change(db, &o), 0, "a 4th change");
	is_int(keep_count(db), 3, "keep 3, 4 changes: 3 kept");
	is_int(res.pruned, 1, "one pruned at N+1");
	ok(keep_min_id(db) > first, "the oldest change went");
	is_int(q_int(db, "SELECT count(*) FROM change_records c LEFT JOIN changes j ON "
			 "j.id=c.change_id WHERE j.id IS NULL"),
	       0, "its change_records went with it (ON DELETE CASCADE)");
	newest = q_int(db, "SELECT max(id) FROM changes WHERE zone_name='keep.test.'");
	is_int(newest, res.change_id, "the change just written is the newest");
	is_int(q_int(db, "SELECT count(*) FROM change_records WHERE change_id=(SELECT max(id) FROM "
			 "changes WHERE zone_name='keep.test.')"),
	       3, "and keeps its rows (old SOA, new SOA, the record)");
	/* the kept chain is unbroken: each serial_before is the previous serial_after */
	is_int(q_int(db, "SELECT count(*) FROM changes a JOIN changes b ON b.id = (SELECT min(id) "
			 "FROM changes WHERE zone_name='keep.test.' AND id > a.id) WHERE "
			 "a.zone_name='keep.test.' AND b.serial_before <> a.serial_after"),
	       0, "kept changes chain serial to serial");
	is_int(q_int(db, "SELECT count(*) FROM changes WHERE zone_name <> 'keep.test.'"), others,
	       "other zones' journals are untouched");

	/* a dry run writes nothing, so prunes nothing */
	rt.keep = 1;
	o.dry_run = true;
	is_int(keep_change(db, &o), 0, "dry run with keep 1");
	is_int(keep_count(db), 3, "dry run: journal untouched");
	o.dry_run = false;
	/* keep 1: only the change just written */
	is_int(keep_change(db, &o), 0, "change with keep 1");
	is_int(keep_count(db), 1, "keep 1: only the new change");
	is_int(keep_min_id(db), res.change_id, "and it is the one just written");
	/* keep 0: keep all */
	rt.keep = 0;
	for (i = 0; i < 3; i++)
		keep_change(db, &o);
	is_int(keep_count(db), 4, "keep 0: nothing pruned");

	/* NULL retention: the process default */
	rt.keep = 2;
	store_set_retention(&rt);
	o.retention = NULL;
	is_int(keep_change(db, &o), 0, "change under the process default");
	is_int(keep_count(db), 2, "store_set_retention(keep 2) applies to opts without retention");
	store_set_retention(NULL);
	store_get_retention(&def);
	is_int(def.keep, STORE_DEFAULT_JOURNAL_KEEP, "store_set_retention(NULL) restores 1000");
	for (i = 0; i < 3; i++)
		keep_change(db, &o);
	is_int(keep_count(db), 5, "default 1000: nothing pruned");

	/* Age: D = 1 day, at N (just younger) and N+1 (just older). */
	fixed_now = time(NULL);
	store_set_clock(fixed_clock);
	{
		long long ids[5];
		sqlite3_stmt *st;
		int n = 0;

		sqlite3_prepare_v2(
		    db, "SELECT id FROM changes WHERE zone_name='keep.test.' ORDER BY id", -1, &st,
		    NULL);
		while (sqlite3_step(st) == SQLITE_ROW && n < 5)
			ids[n++] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		is_int(n, 5, "five changes to age");
		set_created(db, ids[0], fixed_now - 3 * 86400);
		set_created(db, ids[1], fixed_now - 86400 - 5); /* 1 day and 5 s: too old */
		set_created(db, ids[2], fixed_now - 86400 + 5); /* 5 s short of a day: stays */
		set_created(db, ids[3], fixed_now - 3600);
		set_created(db, ids[4], fixed_now - 60);
		rt.keep = 0;
		rt.keep_days = 1;
		o.retention = &rt;
		is_int(keep_change(db, &o), 0, "change with keep-days 1");
		is_int(res.pruned, 2, "two changes older than a day pruned");
		is_int(keep_min_id(db), ids[2], "the one 5 s younger than a day stays");
		is_int(keep_count(db), 4, "four left");

		/* a clock that stepped back: a younger change before an older one
		 * goes too, so the journal keeps no hole */
		set_created(db, ids[2], fixed_now - 3600);
		set_created(db, ids[3], fixed_now - 2 * 86400);
		is_int(keep_change(db, &o), 0, "change after a clock step");
		is_int(keep_min_id(db), ids[4], "everything up to the newest too-old change went");

		/* never the row just written, even when the clock says it is old */
		fixed_now += 30 * 86400;
		is_int(keep_change(db, &o), 0, "change with the clock 30 days ahead");
		is_int(keep_count(db), 1, "every older change went");
		is_int(keep_min_id(db), res.change_id, "the one just written stayed");

		/* both limits together: the stricter one wins */
		fixed_now -= 30 * 86400;
		rt.keep = 2;
		for (i = 0; i < 3; i++)
			keep_change(db, &o);
		is_int(keep_count(db), 2, "keep 2 and 1 day: 2 kept");
	}
	store_set_clock(NULL);

	/* deleting the zone trims its journal too, before zone_id goes NULL */
	rt.keep = 2;
	rt.keep_days = 0;
	for (i = 0; i < 2; i++)
		keep_change(db, &o);
	store_result_clear(&res);
	is_int(store_delete_zone(db, "keep.test", &o, &res), 0, "delete keep.test");
	is_int(keep_count(db), 2, "a deleted zone's journal is trimmed too");
	is_int(q_int(db, "SELECT count(*) FROM changes WHERE zone_name='keep.test.' AND zone_id "
			 "IS NOT NULL"),
	       0, "and kept with zone_id NULL");
	orphans = q_int(db, "SELECT count(*) FROM change_records c LEFT JOIN changes j ON "
			    "j.id=c.change_id WHERE j.id IS NULL");
	is_int(orphans, 0, "no change_records without their change");
}

#define WRITERS		   4
#define CHANGES_PER_WRITER 25

static void test_concurrency(void)
{
	pid_t pids[WRITERS];
	sqlite3 *db;
	sqlite3_stmt *st;
	long long before, prev_after = -1;
	int i, status, okays = 0, chained = 1;

	db = open_test_db();
	before = q_int(db, "SELECT count(*) FROM changes WHERE zone_name='example.com.'");
	sqlite3_close(db);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			sqlite3 *d = open_test_db();
			int k, bad = 0;
			for (k = 0; k < CHANGES_PER_WRITER; k++) {
				char name[64];
				struct store_change *ch = store_change_new("example.com");
				struct store_opts o = opts();
				struct store_result rr;
				snprintf(name, sizeof(name), "w%d-%d", i, k);
				store_change_add(ch, "records[0]", name, "A", NULL, "192.0.2.1");
				memset(&rr, 0, sizeof(rr));
				if (store_commit(d, ch, &o, &rr) != 0) {
					fprintf(stderr, "writer %d: %s\n", i, rr.error);
					bad = 1;
				}
				store_result_clear(&rr);
				store_change_free(ch);
			}
			sqlite3_close(d);
			_exit(bad);
		}
	}
	for (i = 0; i < WRITERS; i++)
		if (waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			okays++;
	is_int(okays, WRITERS, "every writer committed every change (no BUSY surfaced)");
	db = open_test_db();
	is_int(q_int(db, "SELECT count(*) FROM changes WHERE zone_name='example.com.'") - before,
	       WRITERS * CHANGES_PER_WRITER, "all changes journaled");
	is_int(q_int(db, "SELECT count(*) FROM records WHERE name LIKE 'w%-%'"),
	       WRITERS * CHANGES_PER_WRITER, "all records there");
	sqlite3_prepare_v2(db,
			   "SELECT serial_before, serial_after FROM changes WHERE "
			   "zone_name='example.com.' AND serial_before IS NOT NULL ORDER BY id",
			   -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long b = sqlite3_column_int64(st, 0), a = sqlite3_column_int64(st, 1);
		if (!notify_serial_gt((uint32_t)a, (uint32_t)b) ||
		    (prev_after >= 0 && b != prev_after))
			chained = 0;
		prev_after = a;
	}
	sqlite3_finalize(st);
	ok(chained, "serials strictly increase and chain change to change");
	is_int(prev_after, q_int(db, "SELECT serial FROM zones WHERE name='example.com.'"),
	       "the last change's serial is the zone's");
	sqlite3_close(db);
}

int main(void)
{
	sqlite3 *db;
	char cmd[400];

	snprintf(dir, sizeof(dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/zones.db", dir);
	db = open_test_db();

	test_serial_math();
	create_example(db);
	test_canonical(db);
	test_validation(db);
	test_dry_run_and_conflicts(db);
	test_set_and_revert(db);
	test_limits(db);
	test_delete_zone(db);
	test_import_text(db);
	test_gen_zones(db);
	test_retention(db);
	store_result_clear(&res);
	sqlite3_close(db);
	test_concurrency();

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
