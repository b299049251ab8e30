/*
 * main.c: mcpd's entry point. Offline admin subcommands for people and
 * scripts, working on the database directly (no daemon needed):
 *
 *	mcpd --db FILE init
 *	mcpd --db FILE import [--origin NAME] [--dry-run] [--reason TEXT]
 *			      [--journal-keep N] [--journal-keep-days D] ZONEFILE|-
 *	mcpd --db FILE export ZONE
 *	mcpd --db FILE token add NAME --scope read|write [--zones GLOB[,GLOB]]
 *	mcpd --db FILE token list
 *	mcpd --db FILE token revoke NAME
 *	mcpd tools [--markdown]
 *
 * Anything else is the serving mode (server.h). Output meant for scripts
 * goes to stdout (the token of `token add` is the only thing it prints);
 * errors go to stderr with exit status 1, usage errors with 2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dname.h"
#include "err.h"
#include "oauth.h"
#include "rdata.h"
#include "server.h"
#include "store.h"
#include "token.h"
#include "tools.h"
#include "zonefile.h"

#define TOKEN_NAME_MAXLEN 64
#define ZONEFILE_MAXSIZE  (1024u << 20) /* 1 GiB: a million records is ~50 MB */

static const char usage_text[] =
    "usage: mcpd --db FILE init\n"
    "       mcpd --db FILE import [--origin NAME] [--dry-run] [--reason TEXT]\n"
    "                             [--journal-keep N] [--journal-keep-days D] ZONEFILE|-\n"
    "       mcpd --db FILE export ZONE\n"
    "       mcpd --db FILE token add NAME --scope read|write [--zones GLOB[,GLOB...]]\n"
    "       mcpd --db FILE token list\n"
    "       mcpd --db FILE token revoke NAME\n"
    "       mcpd --db FILE oauth approve|list|revoke ...   (OAuth; docs/oauth.md)\n"
    "       mcpd tools [--markdown]\n"
    "       mcpd --db FILE --listen ADDR:PORT --dnsd ADDR:PORT [...]   (serve; see "
    "mcpd --serve-help)\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mcpd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static bool is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

static int open_db(const char *path, int flags, sqlite3 **db)
{
	char err[512];

	if (path == NULL)
		return fail("--db FILE is required");
	if (db_open(path, flags, db, err, sizeof(err)) < 0)
		return fail("%s", err);
	return 0;
}

/* ------------------------------------------------------------------ */

static int cmd_init(const char *path, int argc, char **argv)
{
	sqlite3 *db;
	char err[512];
	int v;

	if (argc > 1 && is_help(argv[1])) {
		printf("usage: mcpd --db FILE init\n\nCreates the database (or migrates it to "
		       "the newest schema) and prints its path and schema version.\n");
		return 0;
	}
	if (argc > 1)
		return fail("init takes no arguments (got '%s')", argv[1]);
	if (open_db(path, DB_CREATE, &db))
		return 1;
	v = db_migrate(db, err, sizeof(err));
	sqlite3_close(db);
	if (v < 0)
		return fail("%s", err);
	printf("%s: schema version %d\n", path, v);
	return 0;
}

static char *read_all(const char *file, size_t *len)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	size_t cap = 65536, n = 0, got;
	char *buf, *p;

	*len = 0;
	if (f == NULL)
		return NULL;
	buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			if (cap >= ZONEFILE_MAXSIZE) {
				errno = EFBIG;
				free(buf);
				buf = NULL;
				break;
			}
			p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

struct find_origin {
	char name[DNAME_TEXT_MAXLEN];
};

static int origin_cb(void *arg, const struct zf_rr *rr)
{
	struct find_origin *fo = arg;

	if (rr->type != RRTYPE_SOA)
		return 0;
	if (dname_print(rr->owner, fo->name, sizeof(fo->name)) < 0)
		fo->name[0] = '\0';
	return 1; /* stop: found it */
}

/* The zone of a file without --origin: the owner of its SOA (needs
 * absolute names or $ORIGIN before it), else the file's name without a
 * ".zone"/".db" suffix, as NSD and BIND setups usually name them. */
static int guess_origin(const char *file, const char *text, size_t len, char *out, size_t cap)
{
	struct find_origin fo = {.name = ""};
	struct zf_error ze;
	const char *base, *dot;
	size_t n;

	if (zf_parse(text, len, NULL, STORE_DEFAULT_TTL, origin_cb, &fo, &ze) == 1 && fo.name[0]) {
		snprintf(out, cap, "%s", fo.name);
		return 0;
	}
	if (strcmp(file, "-") == 0)
		return -1;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	n = strlen(base);
	dot = strrchr(base, '.');
	if (dot && (strcmp(dot, ".zone") == 0 || strcmp(dot, ".db") == 0))
		n = (size_t)(dot - base);
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, base, n);
	out[n] = '\0';
	return 0;
}

/* A whole number in [0, max] for an admin option; -1 when it is not. */
static long long parse_uint(const char *s, long long max)
{
	long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static int cmd_import(const char *path, int argc, char **argv)
{
	const char *origin = NULL, *file = NULL, *reason = "";
	char guessed[DNAME_TEXT_MAXLEN];
	struct store_change *ch = NULL;
	struct store_result res;
	struct store_opts o;
	/* the serving defaults (mconf.c), so an offline import trims the
	 * journal as the daemon would */
	struct store_retention keep = {STORE_DEFAULT_JOURNAL_KEEP, 0};
	bool dry = false;
	sqlite3 *db = NULL;
	size_t len;
	char *text;
	long long v;
	int i, r, rc = 1;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			printf("usage: mcpd --db FILE import [--origin NAME] [--dry-run] [--reason "
			       "TEXT]\n"
			       "                             [--journal-keep N] "
			       "[--journal-keep-days D] ZONEFILE|-\n\n"
			       "Loads an RFC 1035 zone file as one change (actor 'admin', tool "
			       "'import'): the zone is created if missing, else its content is "
			       "replaced by the file's. Without --origin the zone is the owner of "
			       "the file's SOA, or the file name without .zone/.db.\n"
			       "The zone's journal is then trimmed as mcpd does: the newest "
			       "--journal-keep changes (default %d, 0 = all) and, with "
			       "--journal-keep-days, none older than D days (default 0 = no age "
			       "limit). Give the values of mcpd.conf if they differ.\n",
			       STORE_DEFAULT_JOURNAL_KEEP);
			return 0;
		} else if (strcmp(argv[i], "--origin") == 0 && i + 1 < argc) {
			origin = argv[++i];
		} else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
			reason = argv[++i];
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry = true;
		} else if (strcmp(argv[i], "--journal-keep") == 0 && i + 1 < argc) {
			if ((v = parse_uint(argv[++i], STORE_JOURNAL_KEEP_MAX)) < 0) {
				fprintf(stderr,
					"mcpd: import: --journal-keep wants 0..%d, not '%s'\n",
					STORE_JOURNAL_KEEP_MAX, argv[i]);
				return 2;
			}
			keep.keep = (unsigned)v;
		} else if (strcmp(argv[i], "--journal-keep-days") == 0 && i + 1 < argc) {
			if ((v = parse_uint(argv[++i], STORE_JOURNAL_DAYS_MAX)) < 0) {
				fprintf(stderr,
					"mcpd: import: --journal-keep-days wants 0..%d, not '%s'\n",
					STORE_JOURNAL_DAYS_MAX, argv[i]);
				return 2;
			}
			keep.keep_days = (unsigned)v;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "mcpd: import: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr, "mcpd: import takes one zone file\n");
			return 2;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "mcpd: import needs a zone file (or - for stdin)\n");
		return 2;
	}
	text = read_all(file, &len);
	if (text == NULL)
		return fail("cannot read %s: %s", file, strerror(errno));
	if (origin == NULL) {
		if (guess_origin(file, text, len, guessed, sizeof(guessed)) < 0) {
			free(text);
			return fail("cannot tell which zone %s holds: give --origin NAME", file);
		}
		origin = guessed;
	}
	if (open_db(path, 0, &db)) {
		free(text);
		return 1;
	}
	ch = store_change_new(origin);
	if (ch == NULL) {
		fail("out of memory");
		goto out;
	}
	store_change_set_create(ch, false, "increment", STORE_DEFAULT_TTL);
	if (store_change_load_text(ch, text, len, true) < 0) {
		fail("out of memory");
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.actor = "admin";
	o.tool = "import";
	o.reason = reason;
	o.dry_run = dry;
	o.retention = &keep;
	memset(&res, 0, sizeof(res));
	r = store_commit(db, ch, &o, &res);
	if (r < 0) {
		fail("%s: not imported (%s):\n%s", file, err_str(r), res.error ? res.error : "");
	} else {
		size_t k;
		for (k = 0; k < res.nwarnings; k++)
			fprintf(stderr, "mcpd: warning: %s\n", res.warnings[k]);
		bool changed = res.added_total + res.removed_total > 0;
		printf("%s%s %s: serial %u -> %u, %zu added, %zu removed\n", dry ? "dry run: " : "",
		       !changed	     ? "unchanged"
		       : res.created ? (dry ? "would create" : "created")
				     : (dry ? "would replace" : "replaced"),
		       res.zone, res.serial_before, res.serial, res.added_total, res.removed_total);
		if (res.pruned)
			fprintf(stderr,
				"mcpd: journal of %s: %zu old change%s removed (retention)\n",
				res.zone, res.pruned, res.pruned == 1 ? "" : "s");
		rc = 0;
	}
	store_result_clear(&res);
out:
	store_change_free(ch);
	sqlite3_close(db);
	free(text);
	return rc;
}

static int cmd_export(const char *path, int argc, char **argv)
{
	sqlite3 *db;
	char *text;
	size_t len;
	int r;

	if (argc > 1 && is_help(argv[1])) {
		printf("usage: mcpd --db FILE export ZONE\n\nPrints the zone as an RFC 1035 "
		       "master file: absolute names, SOA first, then sorted.\n");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "mcpd: export takes one zone name\n");
		return 2;
	}
	if (open_db(path, 0, &db))
		return 1;
	r = store_export(db, argv[1], &text, &len);
	sqlite3_close(db);
	if (r == ERR_NOTFOUND || r == ERR_INVALID)
		return fail("no zone named '%s'", argv[1]);
	if (r < 0)
		return fail("cannot export %s: %s", argv[1], err_str(r));
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		free(text);
		return fail("writing the export failed: %s", strerror(errno));
	}
	free(text);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tokens */

static bool token_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TOKEN_NAME_MAXLEN)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._@-", s[i]))
			return false;
	return true;
}

/* "Example.com, *.org" -> "example.com.,*.org."; false if a glob is bad. */
static bool zones_normalize(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;

	while (*p) {
		const char *e;
		size_t n, i;

		while (*p == ',' || *p == ' ')
			p++;
		if (*p == '\0')
			break;
		e = p;
		while (*e && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n && p[n - 1] == ' ')
			n--;
		if (o + n + 3 >= cap)
			return false;
		if (o)
			out[o++] = ',';
		for (i = 0; i < n; i++) {
			char c = (char)tolower((unsigned char)p[i]);
			if (!isalnum((unsigned char)c) && !strchr(".-_*?[]", c))
				return false;
			out[o++] = c;
		}
		if (!(n == 1 && p[0] == '*') && out[o - 1] != '.')
			out[o++] = '.';
		p = e;
	}
	out[o] = '\0';
	return o > 0;
}

struct token_add {
	const char *name, *scope, *zones, *hash;
	int sqlerr;
};

static int token_add_txn(sqlite3 *db, void *arg)
{
	struct token_add *ta = arg;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		db, "INSERT INTO tokens(name, hash, scope, zones) VALUES (?1, ?2, ?3, ?4)", -1, &st,
		NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, ta->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ta->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ta->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ta->zones, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	ta->sqlerr = rc;
	if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
		return ERR_EXISTS;
	return rc == SQLITE_DONE ? 0 : ERR_DB;
}

static int token_add(const char *path, int argc, char **argv)
{
	const char *name = NULL, *scope = NULL, *zones = "*";
	char tok[TOKEN_LEN + 1], hash[TOKEN_HASH_HEXLEN + 1], zn[1024];
	struct token_add ta;
	sqlite3 *db;
	int i, r;

	for (i = 2; i < argc; i++) {
		if (is_help(argv[i])) {
			printf("usage: mcpd --db FILE token add NAME --scope read|write [--zones "
			       "GLOB[,GLOB...]]\n\nCreates a bearer token and prints it once on "
			       "stdout; only its SHA-256 is stored. NAME is the actor in the "
			       "change journal. --zones limits the zones it may touch (default "
			       "*), e.g. 'example.com,*.example.org'.\n");
			return 0;
		} else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc) {
			scope = argv[++i];
		} else if (strcmp(argv[i], "--zones") == 0 && i + 1 < argc) {
			zones = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "mcpd: token add: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (name == NULL) {
			name = argv[i];
		} else {
			fprintf(stderr, "mcpd: token add takes one NAME\n");
			return 2;
		}
	}
	if (name == NULL || scope == NULL) {
		fprintf(stderr, "mcpd: usage: token add NAME --scope read|write [--zones GLOB]\n");
		return 2;
	}
	if (!token_name_ok(name))
		return fail("token name '%s' must be 1 to %d letters, digits, '.', '_', '@' or '-'",
			    name, TOKEN_NAME_MAXLEN);
	if (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0)
		return fail("--scope must be read or write, not '%s'", scope);
	if (!zones_normalize(zones, zn, sizeof(zn)))
		return fail("--zones '%s' is not a comma-separated list of zone globs", zones);
	if (token_generate(tok) != 0)
		return fail("cannot get random bytes for the token");
	token_hash_hex(tok, strlen(tok), hash);
	if (open_db(path, 0, &db))
		return 1;
	ta.name = name;
	ta.scope = scope;
	ta.zones = zn;
	ta.hash = hash;
	ta.sqlerr = 0;
	r = store_write_txn(db, token_add_txn, &ta);
	if (r < 0) {
		int code = r;
		const char *msg = sqlite3_errmsg(db);
		sqlite3_close(db);
		if (code == ERR_EXISTS)
			return fail("a token named '%s' already exists (names stay taken after "
				    "revoke, so the journal stays unambiguous)",
				    name);
		return fail("cannot store the token: %s", msg);
	}
	sqlite3_close(db);
	printf("%s\n", tok);
	fflush(stdout);
	return 0;
}

static int token_list(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc;

	if (open_db(path, 0, &db))
		return 1;
	if (sqlite3_prepare_v2(db,
			       "SELECT name, scope, zones, created_at, ifnull(last_used_at, '-'), "
			       "ifnull(revoked_at, '-') FROM tokens ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		fail("%s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	printf("%-24s %-6s %-30s %-25s %-25s %s\n", "NAME", "SCOPE", "ZONES", "CREATED",
	       "LAST USED", "REVOKED");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%-24s %-6s %-30s %-25s %-25s %s\n", sqlite3_column_text(st, 0),
		       sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		       sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
		       sqlite3_column_text(st, 5));
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc != SQLITE_DONE)
		return fail("reading tokens failed");
	return 0;
}

struct token_revoke {
	const char *name;
	int changed;
};

static int token_revoke_txn(sqlite3 *db, void *arg)
{
	struct token_revoke *tr = arg;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		db,
		"UPDATE tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
		"WHERE name = ?1 AND revoked_at IS NULL",
		-1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, tr->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ERR_DB;
	tr->changed = sqlite3_changes(db);
	return 0;
}

static int token_revoke(const char *path, int argc, char **argv)
{
	struct token_revoke tr = {0};
	sqlite3 *db;
	int r;

	if (argc > 2 && is_help(argv[2])) {
		printf("usage: mcpd --db FILE token revoke NAME\n\nRevokes the token: it never "
		       "matches again. Its row (and name) stay for the journal.\n");
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "mcpd: usage: token revoke NAME\n");
		return 2;
	}
	tr.name = argv[2];
	if (open_db(path, 0, &db))
		return 1;
	r = store_write_txn(db, token_revoke_txn, &tr);
	sqlite3_close(db);
	if (r < 0)
		return fail("cannot revoke: %s", err_str(r));
	if (tr.changed == 0)
		return fail("no active token named '%s'", argv[2]);
	printf("revoked %s\n", argv[2]);
	return 0;
}

static int cmd_token(const char *path, int argc, char **argv)
{
	if (argc < 2 || is_help(argv[1])) {
		printf("usage: mcpd --db FILE token add NAME --scope read|write [--zones GLOB]\n"
		       "       mcpd --db FILE token list\n"
		       "       mcpd --db FILE token revoke NAME\n"
		       "       mcpd --db FILE oauth approve|list|revoke ...   (OAuth; "
		       "docs/oauth.md)\n");
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "add") == 0)
		return token_add(path, argc, argv);
	if (strcmp(argv[1], "list") == 0) {
		if (argc > 2 && is_help(argv[2])) {
			printf("usage: mcpd --db FILE token list\n\nLists tokens (never their "
			       "hashes).\n");
			return 0;
		}
		if (argc > 2) {
			fprintf(stderr, "mcpd: token list takes no arguments\n");
			return 2;
		}
		return token_list(path);
	}
	if (strcmp(argv[1], "revoke") == 0)
		return token_revoke(path, argc, argv);
	fprintf(stderr, "mcpd: unknown token command '%s' (add, list, revoke)\n", argv[1]);
	return 2;
}

static int cmd_tools(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && is_help(argv[1])) {
		printf("usage: mcpd tools [--markdown]\n\nLists the MCP tools; --markdown prints "
		       "the full reference (docs/tools.md).\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
		char *md = tool_markdown();
		if (md == NULL)
			return fail("out of memory");
		fputs(md, stdout);
		free(md);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "mcpd: tools: unknown option '%s'\n", argv[1]);
		return 2;
	}
	for (i = 0; i < tool_defs_count; i++)
		printf("%-18s %s%s\n", tool_defs[i].name, tool_defs[i].title,
		       tool_defs[i].read_only ? "" : " (write)");
	return 0;
}

int main(int argc, char **argv)
{
	const char *db = NULL;
	int i = 1;

	/* Leading --db FILE options, then maybe a subcommand. */
	while (i < argc) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			db = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--db=", 5) == 0) {
			db = argv[i] + 5;
			i++;
		} else {
			break;
		}
	}
	if (i < argc) {
		const char *cmd = argv[i];
		int n = argc - i;
		char **v = argv + i;

		if (strcmp(cmd, "init") == 0)
			return cmd_init(db, n, v);
		if (strcmp(cmd, "import") == 0)
			return cmd_import(db, n, v);
		if (strcmp(cmd, "export") == 0)
			return cmd_export(db, n, v);
		if (strcmp(cmd, "token") == 0)
			return cmd_token(db, n, v);
		if (strcmp(cmd, "oauth") == 0)
			return oauth_cli(db, n, v); /* oauth.h, owned by the transport */
		if (strcmp(cmd, "tools") == 0)
			return cmd_tools(n, v);
		if (strcmp(cmd, "help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (is_help(cmd)) {
			/* the admin commands, then the serving flags */
			fputs(usage_text, stdout);
			fputs("\n", stdout);
			fflush(stdout);
		}
		if (strcmp(cmd, "--serve-help") == 0) {
			char *hv[] = {argv[0], (char *)"--help", NULL};
			return mcpd_serve(2, hv);
		}
	}
	return mcpd_serve(argc, argv);
}
