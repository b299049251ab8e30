/*
 * db.h: the SQLite store layer shared by both daemons: opening the database
 * with the pragmas we rely on, checking and migrating the schema version.
 *
 * WAL mode lets dnsd read while mcpd writes; busy_timeout makes a locked
 * database wait instead of failing; foreign keys keep records from
 * outliving their zone. The schema version lives in PRAGMA user_version and
 * the migrations in schema/NNN_*.sql are embedded in the binaries.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>

struct sqlite3;

#define DB_SCHEMA_VERSION  3 /* the newest version this binary knows */
#define DB_BUSY_TIMEOUT_MS 5000

enum db_open_flags {
	DB_READONLY = 1, /* dnsd: open read-only, never create */
	DB_CREATE = 2,	 /* mcpd init: create the file if missing */
};

/*
 * Opens path, sets WAL (read-write opens only), busy_timeout and
 * foreign_keys, and checks PRAGMA user_version: a database newer than
 * DB_SCHEMA_VERSION is refused (ERR_DB_VERSION) and so is an older one
 * unless DB_CREATE is given (then call db_migrate). A database with version 0
 * and no tables counts as empty. On error, errbuf gets a sentence a person
 * can act on ("zones.db has schema version 7; this mcpd knows up to 1:
 * upgrade dnsmcp"). Returns 0 or a negative error; *out is set on success.
 */
int db_open(const char *path, int flags, struct sqlite3 **out, char *errbuf, size_t errcap);

/* Applies every embedded migration newer than the database's version, each
 * in its own transaction. Returns the resulting version or a negative error. */
int db_migrate(struct sqlite3 *db, char *errbuf, size_t errcap);

/* The database's PRAGMA user_version, or a negative error. */
int db_version(struct sqlite3 *db);

#endif
