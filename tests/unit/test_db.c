/*
 * test_db.c: the SQLite store layer (common/db.c): open flags, the pragmas
 * both daemons rely on (WAL, busy_timeout, foreign keys), schema version
 * checks with messages a person can act on, and migrations.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "tap.h"

static char tmpdir[256];

/* Path of a file in this test's private temp dir (static buffer per slot). */
static const char *tmp_path(int slot, const char *name)
{
	static char paths[8][512];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", tmpdir, name);
	return paths[slot];
}

/* Runs sql; an unexpected failure is printed as a TAP comment. */
static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		printf("#   sql '%s': %s\n", sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return rc;
}

/* First column of the first row of sql as text into buf ("" if no row). */
static const char *query_text(sqlite3 *db, const char *sql, char *buf, size_t cap)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(buf, cap, "(error: %s)", sqlite3_errmsg(db));
		return buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* Runs sql that must fail; true when it did. */
static int exec_fails(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -999;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -998;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Makes a database file with raw sqlite3 calls (not db.c), running sql. */
static int make_raw(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	rc = sql ? exec(db, sql) : SQLITE_OK;
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void test_missing_file(void)
{
	const char *path = tmp_path(0, "missing.db");
	char err[512] = "";
	sqlite3 *db = (sqlite3 *)1;
	int rc;

	unlink(path);
	rc = db_open(path, 0, &db, err, sizeof(err));
	ok(rc < 0, "missing file without DB_CREATE refused (rc %d)", rc);
	ok(db == NULL, "*out is NULL on failure");
	ok(!file_exists(path), "read-write open without DB_CREATE does not create the file");
	ok(strstr(err, path) != NULL, "message names the file: %s", err);
	ok(strstr(err, "init") != NULL, "message says how to create it");

	db = (sqlite3 *)1;
	err[0] = '\0';
	rc = db_open(path, DB_READONLY, &db, err, sizeof(err));
	ok(rc < 0 && db == NULL, "missing file read-only refused (rc %d)", rc);
	ok(!file_exists(path), "read-only open never creates the file");
	ok(err[0] != '\0', "read-only refusal explains: %s", err);
}

static void test_create_and_migrate(void)
{
	const char *path = tmp_path(0, "new.db");
	char err[512] = "", buf[128];
	sqlite3 *db = NULL;
	int rc;

	unlink(path);
	rc = db_open(path, DB_CREATE, &db, err, sizeof(err));
	is_int(rc, 0, "DB_CREATE opens a new file (%s)", err);
	if (!db)
		return;
	ok(file_exists(path), "the file exists now");
	is_int(db_version(db), 0, "a new database has version 0");
	is_int(query_int(db, "SELECT count(*) FROM sqlite_schema"), 0, "and no tables");

	is_str(query_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal",
	       "read-write open sets WAL");
	is_int(query_int(db, "PRAGMA foreign_keys"), 1, "foreign keys on");
	is_int(query_int(db, "PRAGMA busy_timeout"), DB_BUSY_TIMEOUT_MS, "busy_timeout set");

	rc = db_migrate(db, err, sizeof(err));
	is_int(rc, DB_SCHEMA_VERSION, "migrate 0 -> %d (%s)", DB_SCHEMA_VERSION, err);
	is_int(db_version(db), DB_SCHEMA_VERSION, "user_version is now %d", DB_SCHEMA_VERSION);

	static const char *const tables[] = {"zones",	       "records", "changes",
					     "change_records", "tokens",  "zone_settings"};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[256];

		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='%s'",
			 tables[i]);
		is_int(query_int(db, sql), 1, "table %s exists", tables[i]);
	}
	static const char *const views[] = {"v_records", "v_history", "v_zones"};
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", views[i]);
		is_int(query_int(db, sql), 0, "view %s is queryable and empty", views[i]);
	}

	/* Idempotent: a second migrate changes nothing and does not fail. */
	long long objects = query_int(db, "SELECT count(*) FROM sqlite_schema");
	rc = db_migrate(db, err, sizeof(err));
	is_int(rc, DB_SCHEMA_VERSION, "re-running migrate is a no-op (%s)", err);
	is_int(query_int(db, "SELECT count(*) FROM sqlite_schema"), objects,
	       "no schema object added by the re-run");
	sqlite3_close(db);

	/* Reopen without DB_CREATE: a current database opens in both modes. */
	db = NULL;
	rc = db_open(path, 0, &db, err, sizeof(err));
	is_int(rc, 0, "current database opens read-write without DB_CREATE (%s)", err);
	if (db) {
		rc = db_migrate(db, err, sizeof(err));
		is_int(rc, DB_SCHEMA_VERSION, "migrate on a current database is a no-op");
		sqlite3_close(db);
	}
	db = NULL;
	rc = db_open(path, DB_CREATE, &db, err, sizeof(err));
	is_int(rc, 0, "DB_CREATE on an existing current database opens it (mcpd init twice)");
	sqlite3_close(db);
}

static void test_foreign_keys_enforced(void)
{
	const char *path = tmp_path(0, "fk.db");
	char err[512] = "";
	sqlite3 *db = NULL;

	unlink(path);
	if (db_open(path, DB_CREATE, &db, err, sizeof(err)) != 0 ||
	    db_migrate(db, err, sizeof(err)) != DB_SCHEMA_VERSION) {
		ok(0, "setup fk.db: %s", err);
		sqlite3_close(db);
		return;
	}
	ok(exec_fails(db, "INSERT INTO records(zone_id,name,type,ttl,data) "
			  "VALUES (42,'a.example.','A',60,'192.0.2.1')"),
	   "a record for a zone that does not exist is refused");
	is_int(exec(db, "INSERT INTO zones(id,name) VALUES (1,'example.com.');"
			"INSERT INTO records(zone_id,name,type,ttl,data) "
			"VALUES (1,'www.example.com.','A',60,'192.0.2.1')"),
	       SQLITE_OK, "zone and record inserted");
	is_int(exec(db, "DELETE FROM zones WHERE id=1"), SQLITE_OK, "zone deleted");
	is_int(query_int(db, "SELECT count(*) FROM records"), 0,
	       "its records went with it (ON DELETE CASCADE needs foreign_keys=ON)");
	sqlite3_close(db);
}

/* dnsd opens read-only while mcpd holds a write transaction: WAL means the
 * reader sees the last committed state and is never blocked. */
static void test_wal_reader_not_blocked(void)
{
	const char *path = tmp_path(0, "wal.db");
	char err[512] = "";
	sqlite3 *w = NULL, *r = NULL;
	int rc;

	unlink(path);
	if (db_open(path, DB_CREATE, &w, err, sizeof(err)) != 0 ||
	    db_migrate(w, err, sizeof(err)) != DB_SCHEMA_VERSION) {
		ok(0, "setup wal.db: %s", err);
		sqlite3_close(w);
		return;
	}
	exec(w, "INSERT INTO zones(name, serial) VALUES ('example.com.', 7)");
	rc = db_open(path, DB_READONLY, &r, err, sizeof(err));
	is_int(rc, 0, "read-only open of a current database (%s)", err);
	if (!r) {
		sqlite3_close(w);
		return;
	}
	is_int(query_int(r, "PRAGMA foreign_keys"), 1, "foreign keys on for readers too");
	is_int(query_int(r, "PRAGMA busy_timeout"), DB_BUSY_TIMEOUT_MS,
	       "busy_timeout on for readers too");
	ok(exec_fails(r, "INSERT INTO zones(name) VALUES ('x.example.')"),
	   "a read-only connection cannot write");

	is_int(exec(w, "BEGIN IMMEDIATE; UPDATE zones SET serial = 8"), SQLITE_OK,
	       "writer holds an uncommitted change");
	is_int(query_int(r, "SELECT serial FROM zones"), 7,
	       "reader sees the committed serial while the writer works");
	is_int(exec(w, "COMMIT"), SQLITE_OK, "writer commits");
	is_int(query_int(r, "SELECT serial FROM zones"), 8, "reader sees the new serial");
	sqlite3_close(r);
	sqlite3_close(w);
}

static void test_newer_version_refused(void)
{
	const char *path = tmp_path(0, "newer.db");
	char err[512] = "", want[64];
	sqlite3 *db = (sqlite3 *)1;
	int rc, newer = DB_SCHEMA_VERSION + 1;
	char sql[128];

	snprintf(sql, sizeof(sql), "CREATE TABLE zones(x); PRAGMA user_version = %d", newer);
	if (make_raw(path, sql) != 0) {
		ok(0, "setup newer.db");
		return;
	}
	rc = db_open(path, 0, &db, err, sizeof(err));
	is_int(rc, ERR_DB_VERSION, "version %d (N+1) refused read-write", newer);
	ok(db == NULL, "*out stays NULL");
	snprintf(want, sizeof(want), "schema version %d", newer);
	ok(strstr(err, want) != NULL, "message names the database's version: %s", err);
	snprintf(want, sizeof(want), "up to %d", DB_SCHEMA_VERSION);
	ok(strstr(err, want) != NULL, "message names the newest known version");
	ok(strstr(err, "upgrade") != NULL, "message says what to do (upgrade)");
	ok(strstr(err, path) != NULL, "message names the file");

	err[0] = '\0';
	rc = db_open(path, DB_READONLY, &db, err, sizeof(err));
	is_int(rc, ERR_DB_VERSION, "version N+1 refused read-only (dnsd) too");
	err[0] = '\0';
	rc = db_open(path, DB_CREATE, &db, err, sizeof(err));
	is_int(rc, ERR_DB_VERSION, "version N+1 refused with DB_CREATE (init never downgrades)");

	/* The largest version SQLite can store is refused the same way. */
	if (make_raw(path, "CREATE TABLE t(x); PRAGMA user_version = 2147483647") == 0) {
		rc = db_open(path, 0, &db, err, sizeof(err));
		is_int(rc, ERR_DB_VERSION, "version 2147483647 refused: %s", err);
	}
	/* A negative user_version is not "older", it is foreign. */
	if (make_raw(path, "CREATE TABLE t(x); PRAGMA user_version = -1") == 0) {
		db = NULL;
		rc = db_open(path, DB_CREATE, &db, err, sizeof(err));
		ok(rc < 0, "negative user_version refused (rc %d): %s", rc, err);
		sqlite3_close(db);
	}
}

static void test_current_version_opens(void)
{
	const char *path = tmp_path(0, "v1.db");
	char err[512] = "", sql[128];
	sqlite3 *db = NULL;
	int rc;

	/* Version N exactly opens (the boundary next to N+1 above). */
	snprintf(sql, sizeof(sql), "CREATE TABLE zones(x); PRAGMA user_version = %d",
		 DB_SCHEMA_VERSION);
	if (make_raw(path, sql) != 0) {
		ok(0, "setup v1.db");
		return;
	}
	rc = db_open(path, DB_READONLY, &db, err, sizeof(err));
	is_int(rc, 0, "version %d (N) opens read-only (%s)", DB_SCHEMA_VERSION, err);
	sqlite3_close(db);
}

static void test_empty_without_create(void)
{
	const char *path = tmp_path(0, "empty.db");
	char err[512] = "";
	sqlite3 *db = (sqlite3 *)1;
	int rc;

	/* An existing file of zero bytes is a valid, empty SQLite database. */
	unlink(path);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ok(fd >= 0, "empty file made");
	if (fd >= 0)
		close(fd);
	rc = db_open(path, 0, &db, err, sizeof(err));
	is_int(rc, ERR_DB_VERSION, "empty database without DB_CREATE refused read-write");
	ok(db == NULL, "*out stays NULL");
	ok(strstr(err, "empty") != NULL && strstr(err, "init") != NULL,
	   "message says it is empty and how to init: %s", err);
	err[0] = '\0';
	rc = db_open(path, DB_READONLY, &db, err, sizeof(err));
	is_int(rc, ERR_DB_VERSION, "empty database refused read-only (dnsd before init)");
	ok(strstr(err, "init") != NULL, "read-only message says how to init: %s", err);
}

static void test_foreign_database(void)
{
	const char *path = tmp_path(0, "foreign.db");
	char err[512] = "";
	sqlite3 *db = (sqlite3 *)1;
	int rc;

	/* Tables but user_version 0: somebody else's database. Migrating it
	 * would mix our schema into theirs, so even init refuses. */
	if (make_raw(path, "CREATE TABLE accounts(id INTEGER PRIMARY KEY)") != 0) {
		ok(0, "setup foreign.db");
		return;
	}
	rc = db_open(path, DB_CREATE, &db, err, sizeof(err));
	is_int(rc, ERR_DB_VERSION, "tables without a version refused, even with DB_CREATE");
	ok(db == NULL, "*out stays NULL");
	ok(strstr(err, "not a dnsmcp database") != NULL, "message says why: %s", err);
}

static void test_not_sqlite(void)
{
	const char *path = tmp_path(0, "garbage.db");
	char err[512] = "";
	sqlite3 *db = (sqlite3 *)1;
	FILE *f;
	int rc;

	f = fopen(path, "w");
	if (!f) {
		ok(0, "setup garbage.db");
		return;
	}
	for (int i = 0; i < 256; i++)
		fputs("this is not an sqlite database\n", f);
	fclose(f);
	rc = db_open(path, 0, &db, err, sizeof(err));
	ok(rc < 0 && db == NULL, "a text file is refused read-write (rc %d): %s", rc, err);
	err[0] = '\0';
	db = (sqlite3 *)1;
	rc = db_open(path, DB_READONLY, &db, err, sizeof(err));
	ok(rc < 0 && db == NULL, "a text file is refused read-only (rc %d): %s", rc, err);
	ok(err[0] != '\0', "with a message");
}

static void test_small_errbuf(void)
{
	const char *path = tmp_path(0, "missing2.db");
	char err[8];
	sqlite3 *db = NULL;
	int rc;

	unlink(path);
	memset(err, 'x', sizeof(err));
	rc = db_open(path, 0, &db, err, sizeof(err));
	ok(rc < 0, "refused with an 8-byte errbuf");
	ok(memchr(err, '\0', sizeof(err)) != NULL, "message truncated and terminated");
	rc = db_open(path, 0, &db, NULL, 0);
	ok(rc < 0, "refused with no errbuf at all (errcap 0)");
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_db.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}

	test_missing_file();
	test_create_and_migrate();
	test_foreign_keys_enforced();
	test_wal_reader_not_blocked();
	test_newer_version_refused();
	test_current_version_opens();
	test_empty_without_create();
	test_foreign_database();
	test_not_sqlite();
	test_small_errbuf();

	/* Clean up: every file we made, then the directory. */
	static const char *const files[] = {"missing.db", "new.db",	"fk.db",    "wal.db",
					    "newer.db",	  "v1.db",	"empty.db", "foreign.db",
					    "garbage.db", "missing2.db"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
		for (size_t j = 0; j < 4; j++) {
			char p[600];

			snprintf(p, sizeof(p), "%s/%s%s", tmpdir, files[i], sfx[j]);
			unlink(p);
		}
	}
	rmdir(tmpdir);
	return done_testing();
}
