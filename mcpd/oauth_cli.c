/*
 * oauth_cli.c: `mcpd --db FILE oauth ...`, the operator's side of OAuth
 * (oauth.h, docs/oauth.md):
 *
 *   oauth approve [--scope read|write] [--zones GLOBS] [--ttl DUR]
 *       prints a one-time approval code to type into the consent page
 *       instead of a token (default: write, all zones, 15 minutes);
 *   oauth list      registered clients and grants;
 *   oauth revoke ID ends grant ID and every token issued under it.
 *
 * Exit status: 0, 1 for an error (stderr says why), 2 for a usage error.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "err.h"
#include "oauth.h"
#include "oauth_store.h"

#define APPROVE_TTL_DEFAULT 900	  /* seconds */
#define APPROVE_TTL_MAX	    86400 /* a code lying around longer is a liability */

static const char oauth_usage[] =
    "usage: mcpd --db FILE oauth approve [--scope read|write] [--zones GLOB[,GLOB...]] "
    "[--ttl DUR]\n"
    "       mcpd --db FILE oauth list\n"
    "       mcpd --db FILE oauth revoke GRANT_ID\n"
    "\n"
    "approve prints a one-time code for the consent page of mcpd's OAuth flow\n"
    "(mcpd --oauth): the client gets at most that scope and those zones. Default:\n"
    "write, every zone, valid 15 minutes (DUR: 90s, 30m, 1h; at most 24h).\n";

static int open_oauth_db(const char *path, sqlite3 **db)
{
	char err[512];

	if (path == NULL) {
		fprintf(stderr, "mcpd: --db FILE is required\n");
		return 2;
	}
	if (db_open(path, 0, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpd: %s\n", err);
		return 1;
	}
	return 0;
}

/* "90", "90s", "30m", "1h" -> seconds; 0 when malformed. */
static unsigned parse_ttl(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	unsigned long m = 1;

	if (end == s || s[0] == '-')
		return 0;
	if (*end == 'm')
		m = 60;
	else if (*end == 'h')
		m = 3600;
	else if (*end != 's' && *end != '\0')
		return 0;
	if (*end && end[1] != '\0')
		return 0;
	if (v == 0 || v > APPROVE_TTL_MAX / m)
		return 0;
	return (unsigned)(v * m);
}

static int approve(const char *path, int argc, char **argv)
{
	const char *scope = "write", *zones = "*";
	char code[OAUTH_APPROVAL_LEN + 1];
	unsigned ttl = APPROVE_TTL_DEFAULT;
	sqlite3 *db = NULL;
	int64_t id = 0;
	time_t now = time(NULL);
	char when[64];
	int rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc) {
			scope = argv[++i];
		} else if (strcmp(argv[i], "--zones") == 0 && i + 1 < argc) {
			zones = argv[++i];
		} else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
			ttl = parse_ttl(argv[++i]);
			if (ttl == 0) {
				fprintf(stderr, "mcpd: --ttl: want 1s to 24h (90s, 30m, 1h)\n");
				return 2;
			}
		} else {
			fputs(oauth_usage, stderr);
			return 2;
		}
	}
	if (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0) {
		fprintf(stderr, "mcpd: --scope must be read or write\n");
		return 2;
	}
	if (!oauth_zones_within(zones, "*")) {
		fprintf(stderr, "mcpd: --zones: comma-separated names or globs (example.com, "
				"*.example.org)\n");
		return 2;
	}
	if ((rc = open_oauth_db(path, &db)) != 0)
		return rc;
	rc = oauth_approval_create(db, strcmp(scope, "write") == 0, zones, ttl, now, code, &id);
	sqlite3_close(db);
	if (rc != 0) {
		fprintf(stderr, "mcpd: cannot create an approval code: %s\n", err_str(rc));
		return 1;
	}
	now += ttl;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	printf("%s\n", code);
	fprintf(stderr,
		"mcpd: approval #%lld: scope %s, zones %s, valid once until %s.\n"
		"      Type it into the consent page of the OAuth flow; it is shown only now.\n",
		(long long)id, scope, zones, when);
	return 0;
}

static int list(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, n = 0;

	if ((rc = open_oauth_db(path, &db)) != 0)
		return rc;
	if (sqlite3_prepare_v2(db,
			       "SELECT c.client_id, c.name, c.auth_method, c.created_at,"
			       " coalesce(c.last_used_at, '-') FROM oauth_clients c ORDER BY c.id",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	printf("clients:\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		printf("  %s  %-24.60s  auth %s  registered %s  last token %s\n",
		       sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
		       sqlite3_column_text(st, 4));
		n++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto fail;
	if (n == 0)
		printf("  (none)\n");
	if (sqlite3_prepare_v2(db,
			       "SELECT grant_id, client, scope, zones, approved_by, created_at,"
			       " coalesce(revoked_at, ''), live_access_tokens FROM v_oauth_grants",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	printf("grants:\n");
	n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rev = (const char *)sqlite3_column_text(st, 6);

		printf("  #%lld  %-24.60s  %-18s  zones %s  approved by %s  %s  %s\n",
		       (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
		       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
		       sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
		       rev && rev[0] ? "REVOKED" : "active");
		n++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto fail;
	if (n == 0)
		printf("  (none)\n");
	sqlite3_close(db);
	return 0;
fail:
	fprintf(stderr, "mcpd: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 1;
}

static int revoke(const char *path, int argc, char **argv)
{
	sqlite3 *db = NULL;
	char *end;
	long long id;
	int rc;

	if (argc != 3) {
		fputs(oauth_usage, stderr);
		return 2;
	}
	id = strtoll(argv[2][0] == '#' ? argv[2] + 1 : argv[2], &end, 10);
	if (*end != '\0' || id <= 0) {
		fprintf(stderr, "mcpd: oauth revoke: GRANT_ID is a number (see oauth list)\n");
		return 2;
	}
	if ((rc = open_oauth_db(path, &db)) != 0)
		return rc;
	rc = oauth_grant_revoke(db, id);
	sqlite3_close(db);
	if (rc == ERR_NOTFOUND) {
		fprintf(stderr, "mcpd: no grant #%lld\n", id);
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "mcpd: cannot revoke grant #%lld: %s\n", id, err_str(rc));
		return 1;
	}
	printf("grant #%lld revoked: its access and refresh tokens no longer work\n", id);
	return 0;
}

int oauth_cli(const char *db_path, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(oauth_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "approve") == 0)
		return approve(db_path, argc, argv);
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		return list(db_path);
	if (strcmp(argv[1], "revoke") == 0)
		return revoke(db_path, argc, argv);
	fputs(oauth_usage, stderr);
	return 2;
}
