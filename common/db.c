/*
 * db.c: opening the shared SQLite database and keeping its schema current.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "err.h"

extern const char *const schema_migrations[];
extern const int schema_migration_count;

int db_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = ERR_DB;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int table_count(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int db_open(const char *path, int flags, sqlite3 **out, char *errbuf, size_t errcap)
{
	sqlite3 *db = NULL;
	int oflags, rc, v;
	char *msg = NULL;

	*out = NULL;
	if (flags & DB_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE | ((flags & DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
	oflags |= SQLITE_OPEN_NOMUTEX;
	rc = sqlite3_open_v2(path, &db, oflags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errcap, "cannot open database %s: %s%s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
			 (flags & DB_CREATE) ? "" : " (create it with: mcpd --db FILE init)");
		goto fail;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, &msg) != SQLITE_OK)
		goto sqlfail;
	if (!(flags & DB_READONLY)) {
		/* WAL: readers (dnsd) never block the writer (mcpd) and vice versa. */
		if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL,
				 NULL, &msg) != SQLITE_OK)
			goto sqlfail;
	}
	v = db_version(db);
	if (v < 0) {
		snprintf(errbuf, errcap, "%s is not an SQLite database we can read: %s", path,
			 sqlite3_errmsg(db));
		goto fail;
	}
	if (v > DB_SCHEMA_VERSION) {
		snprintf(errbuf, errcap,
			 "%s has schema version %d; this binary knows versions up to %d: "
			 "upgrade dnsmcp before using this database",
			 path, v, DB_SCHEMA_VERSION);
		sqlite3_close(db);
		return ERR_DB_VERSION;
	}
	if (v == 0 && table_count(db) > 0) {
		snprintf(errbuf, errcap,
			 "%s holds tables but no dnsmcp schema version: not a dnsmcp database",
			 path);
		sqlite3_close(db);
		return ERR_DB_VERSION;
	}
	if (v < DB_SCHEMA_VERSION && !(flags & DB_CREATE)) {
		if (v == 0)
			snprintf(errbuf, errcap,
				 "%s is empty: create the schema with: mcpd --db %s init", path,
				 path);
		else
			snprintf(
			    errbuf, errcap,
			    "%s has schema version %d < %d: migrate it with: mcpd --db %s init",
			    path, v, DB_SCHEMA_VERSION, path);
		sqlite3_close(db);
		return ERR_DB_VERSION;
	}
	*out = db;
	return 0;
sqlfail:
	snprintf(errbuf, errcap, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
fail:
	sqlite3_close(db);
	return ERR_DB;
}

int db_migrate(sqlite3 *db, char *errbuf, size_t errcap)
{
	int v = db_version(db);
	char *msg = NULL;

	if (v < 0) {
		snprintf(errbuf, errcap, "cannot read schema version: %s", sqlite3_errmsg(db));
		return ERR_DB;
	}
	for (; v < schema_migration_count && v < DB_SCHEMA_VERSION; v++) {
		/* Each migration sets user_version itself, inside its transaction,
		 * so a crash leaves either the old or the new version. */
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, schema_migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(errbuf, errcap, "migration to version %d failed: %s", v + 1,
				 msg ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return ERR_DB;
		}
	}
	return db_version(db);
}
