/*
 * zone_fixture.h: test helpers that put zones into a real SQLite database
 * (created with db_open + db_migrate, so the schema is the shipped one) the
 * way mcpd stores them: absolute lower-case names, type mnemonics,
 * canonical rdata text, zones.serial equal to the SOA serial, and a change
 * journal row per added/removed record. Header-only, for test_zone.c and
 * test_query.c.
 */
#ifndef ZONE_FIXTURE_H
#define ZONE_FIXTURE_H

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"

/* Opens a fresh database in a temporary file (removed at once; the open
 * handle keeps it alive). */
static inline sqlite3 *fx_open(void)
{
	char path[512], err[512];
	const char *dir = getenv("TMPDIR");
	sqlite3 *db = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/dnsd-test-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	close(fd);
	unlink(path);
	if (db_open(path, DB_CREATE, &db, err, sizeof(err)) < 0 ||
	    db_migrate(db, err, sizeof(err)) < 0) {
		fprintf(stderr, "# fx_open: %s\n", err);
		if (db)
			sqlite3_close(db);
		unlink(path);
		return NULL;
	}
	unlink(path);
	unlink(strcat(path, "-wal"));
	return db;
}

static inline int fx_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "# sql: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Creates a zone row; returns its id or -1. */
static inline int64_t fx_zone(sqlite3 *db, const char *name, uint32_t serial)
{
	sqlite3_stmt *st;
	int64_t id = -1;

	if (sqlite3_prepare_v2(db, "INSERT INTO zones(name, serial) VALUES(?1, ?2)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, serial);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	return id;
}

static inline int fx_rr(sqlite3 *db, int64_t zone_id, const char *name, const char *type, long ttl,
			const char *data)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO records(zone_id, name, type, ttl, data) "
			       "VALUES(?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, ttl);
	sqlite3_bind_text(st, 5, data, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "# fx_rr %s %s %s: %s\n", name, type, data, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* The serial field (third token) of SOA rdata text. */
static inline uint32_t fx_soa_serial(const char *data)
{
	const char *p = data;

	for (int i = 0; i < 2; i++) {
		while (*p && !isspace((unsigned char)*p))
			p++;
		while (*p && isspace((unsigned char)*p))
			p++;
	}
	return (uint32_t)strtoul(p, NULL, 10);
}

/*
 * Loads master-file-like text: "zone NAME" starts a zone, then lines
 * "OWNER TTL TYPE RDATA..." (absolute names, canonical rdata). Blank lines
 * and lines starting with '#' are skipped; anything else ends the block
 * ("end" by convention). *consumed gets the offset after the block.
 * The SOA sets zones.serial. Returns 0 or -1.
 */
static inline int fx_load(sqlite3 *db, const char *text, size_t *consumed)
{
	const char *p = text;
	int64_t zid = -1;
	char line[4096];

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char owner[1024], type[64];
		long ttl;
		int off = 0;

		if (n >= sizeof(line))
			return -1;
		memcpy(line, p, n);
		line[n] = '\0';
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#') {
			p = e ? e + 1 : p + n;
			continue;
		}
		if (strncmp(line, "zone ", 5) == 0) {
			zid = fx_zone(db, line + 5, 0);
			if (zid < 0)
				return -1;
		} else if (zid >= 0 &&
			   sscanf(line, "%1023s %ld %63s %n", owner, &ttl, type, &off) == 3 &&
			   off > 0 && isdigit((unsigned char)line[strcspn(line, " \t") + 1])) {
			if (fx_rr(db, zid, owner, type, ttl, line + off) < 0)
				return -1;
			if (strcmp(type, "SOA") == 0) {
				char sql[128];

				snprintf(sql, sizeof(sql),
					 "UPDATE zones SET serial = %" PRIu32
					 " WHERE id = %" PRId64,
					 fx_soa_serial(line + off), zid);
				if (fx_exec(db, sql) < 0)
					return -1;
			}
		} else {
			break;
		}
		p = e ? e + 1 : p + n;
	}
	if (consumed)
		*consumed = (size_t)(p - text);
	return 0;
}

#endif
