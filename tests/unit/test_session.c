/*
 * test_session.c: the session table's two limits (session.h) and the
 * max-sessions-per-token setting (mconf.h). The per-token cap is tested at
 * N and N+1: which session is recycled (the token's least recently active
 * one without a stream), that no other token's session is touched, that a
 * token whose sessions all stream is refused, that 0 means no cap, and
 * that the global cap keeps working beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "mconf.h"
#include "session.h"
#include "tap.h"

static int hook_calls;
static char hook_last[SESSION_ID_LEN + 1];

static void hook(void *arg, struct session *s)
{
	(void)arg;
	hook_calls++;
	memcpy(hook_last, s->id, sizeof(hook_last));
}

/* Creates a session or bails out: the tests below need it to exist. */
static struct session *mk(struct session_table *t, int64_t tok, uint64_t now, char *ended)
{
	struct session *s = NULL;
	int rc = session_create_ended(t, "2025-06-18", tok, "*", now, &s, ended);

	if (rc != 0 || s == NULL) {
		printf("Bail out! session_create(token %lld): %d\n", (long long)tok, rc);
		exit(1);
	}
	return s;
}

/* Whether id is still a live session of tok. */
static bool alive(struct session_table *t, const char *id, int64_t tok, uint64_t now)
{
	return session_find(t, id, tok, now) != NULL;
}

static void test_recycle(void)
{
	struct session_table *t = session_table_new(100, 3600);
	struct session *a[4], *b, *s;
	char ida[4][SESSION_ID_LEN + 1], idb[SESSION_ID_LEN + 1], ended[SESSION_ID_LEN + 1];
	uint64_t now = 1000000;
	int rc;

	session_table_set_hook(t, hook, NULL);
	session_table_set_per_token(t, 3);
	/* N = 3 sessions of token A, one of B: all fine, nothing ended */
	for (int i = 0; i < 3; i++) {
		a[i] = mk(t, 1, now + (uint64_t)i * 1000, ended);
		memcpy(ida[i], a[i]->id, sizeof(ida[i]));
		is_str(ended, "", "A's session %d of 3: nothing ended", i + 1);
	}
	b = mk(t, 2, now, ended);
	memcpy(idb, b->id, sizeof(idb));
	is_int(session_token_count(t, 1), 3, "token A holds 3");
	is_int(session_token_count(t, 2), 1, "token B holds 1");
	is_int(session_count(t), 4, "4 sessions in the table");
	is_int(hook_calls, 0, "no session ended yet");

	/* A's first session was used last: A's second is the LRU one */
	now += 10000;
	a[0]->last_active_ms = now;
	b->last_active_ms = 0; /* B's is the oldest in the table: never A's to take */
	a[3] = mk(t, 1, now, ended);
	memcpy(ida[3], a[3]->id, sizeof(ida[3]));
	is_str(ended, ida[1], "N+1: A's least recently active session was ended");
	is_int(hook_calls, 1, "... through the hook (its streams are closed first)");
	is_str(hook_last, ida[1], "... the hook saw that session");
	ok(!alive(t, ida[1], 1, now), "... and it is gone (404 to its client)");
	ok(alive(t, ida[0], 1, now) && alive(t, ida[2], 1, now) && alive(t, ida[3], 1, now),
	   "A's other sessions stay");
	ok(alive(t, idb, 2, now), "B's session stays although it is the oldest of all");
	is_int(session_token_count(t, 1), 3, "token A still holds 3");
	is_int(session_count(t), 4, "the table still holds 4");

	/* a session with an open GET stream is never taken, however old */
	a[2] = session_find(t, ida[2], 1, now);
	a[2]->n_streams = 1;
	a[2]->last_active_ms = 1;
	a[0]->last_active_ms = now + 5;
	a[3]->last_active_ms = now + 2;
	s = mk(t, 1, now + 10, ended);
	is_str(ended, ida[3], "the LRU session without a stream is ended, not the streaming one");
	ok(alive(t, ida[2], 1, now + 10), "the streaming session stays");
	memcpy(ida[3], s->id, sizeof(ida[3]));
	a[3] = s;

	/* all N with streams: refused, nothing ended, B unaffected */
	a[0]->n_streams = 1;
	a[3]->n_streams = 2;
	hook_calls = 0;
	s = NULL;
	rc = session_create_ended(t, "2025-06-18", 1, "*", now + 20, &s, ended);
	is_int(rc, ERR_CONFLICT, "all of A's sessions stream: ERR_CONFLICT");
	ok(s == NULL && ended[0] == '\0' && hook_calls == 0, "... and nothing was ended");
	is_int(session_token_count(t, 1), 3, "... A still holds 3");
	rc = session_create(t, "2025-06-18", 1, "*", now + 20, &s);
	is_int(rc, ERR_CONFLICT, "session_create says the same");
	rc = session_create(t, "2025-06-18", 2, "*", now + 20, &s);
	is_int(rc, 0, "token B can still open sessions");
	is_int(session_token_count(t, 2), 2, "B holds 2");
	/* a stream closes: that session is recyclable again */
	a[3]->n_streams = 0;
	s = mk(t, 1, now + 30, ended);
	is_str(ended, ida[3], "a session whose stream closed is recycled");
	session_table_free(t);
	hook_calls = 0;
}

/* Token ids: --no-auth is 0, static tokens positive, OAuth grants negative
 * (oauth_store.h): each one id, one cap. */
static void test_identities(void)
{
	struct session_table *t = session_table_new(100, 3600);
	char ended[SESSION_ID_LEN + 1], first[SESSION_ID_LEN + 1];
	struct session *s;

	session_table_set_per_token(t, 2);
	s = mk(t, 0, 10, ended);
	memcpy(first, s->id, sizeof(first));
	mk(t, 0, 20, ended);
	mk(t, 7, 5, ended);
	mk(t, -7, 5, ended);
	mk(t, -7, 6, ended);
	is_str(ended, "", "grant 7 (id -7) and token 7 are separate owners");
	mk(t, 0, 30, ended);
	is_str(ended, first, "the --no-auth identity (0) counts as one token");
	is_int(session_token_count(t, 0), 2, "no-auth holds 2");
	is_int(session_token_count(t, 7), 1, "token 7 holds 1");
	is_int(session_token_count(t, -7), 2, "grant 7 holds 2");
	is_int(session_token_count(t, 99), 0, "an unknown token holds 0");
	session_table_free(t);
}

/* A cap of 1: each initialize replaces the token's only session, which
 * frees and re-creates its per-token record (ASan checks that path). */
static void test_cap_one(void)
{
	struct session_table *t = session_table_new(10, 3600);
	char ended[SESSION_ID_LEN + 1], prev[SESSION_ID_LEN + 1];
	struct session *s;

	session_table_set_per_token(t, 1);
	s = mk(t, 5, 1, ended);
	for (int i = 0; i < 5; i++) {
		memcpy(prev, s->id, sizeof(prev));
		s = mk(t, 5, (uint64_t)i + 2, ended);
		if (strcmp(ended, prev) != 0 || session_token_count(t, 5) != 1)
			break;
	}
	is_str(ended, prev, "cap 1: every initialize replaces the previous session");
	is_int(session_token_count(t, 5), 1, "... the token holds 1");
	is_int(session_count(t), 1, "... the table holds 1");
	ok(alive(t, s->id, 5, 10), "... the newest one works");
	s->n_streams = 1;
	is_int(session_create(t, "2025-06-18", 5, "*", 10, &s), ERR_CONFLICT,
	       "cap 1 with a stream open: refused");
	session_table_free(t);
}

static void test_global(void)
{
	struct session_table *t = session_table_new(10, 60);
	char ended[SESSION_ID_LEN + 1];
	struct session *s;
	int rc;

	/* cap 0 = no per-token cap: one token may fill the table */
	session_table_set_per_token(t, 0);
	for (int i = 0; i < 10; i++)
		mk(t, 1, 1000, ended);
	is_int(session_token_count(t, 1), 10, "cap 0: one token holds all 10");
	rc = session_create_ended(t, "2025-06-18", 1, "*", 2000, &s, ended);
	is_int(rc, ERR_RANGE, "the 11th: the global cap refuses (ERR_RANGE)");
	is_str(ended, "", "... without ending a session");
	is_int(session_count(t), 10, "... the table still holds 10");
	rc = session_create(t, "2025-06-18", 1, "*", 1000 + 61 * 1000, &s);
	is_int(rc, 0, "once the others idled out the global cap lets one in");
	is_int(session_count(t), 1, "... the idle ones expired");
	is_int(session_token_count(t, 1), 1, "... and the per-token count followed");
	session_table_free(t);

	/* both caps: max 4, per token 3 */
	t = session_table_new(4, 60);
	session_table_set_per_token(t, 3);
	for (int i = 0; i < 3; i++)
		mk(t, 1, 1000 + (uint64_t)i, ended);
	mk(t, 2, 1000, ended);
	rc = session_create(t, "2025-06-18", 2, "*", 2000, &s);
	is_int(rc, ERR_RANGE, "table full, B below its cap: the global cap refuses B");
	is_int(session_token_count(t, 1), 3, "... and A keeps its 3");
	s = mk(t, 1, 2000, ended);
	ok(ended[0] != '\0' && session_count(t) == 4,
	   "A at its cap recycles its own session even in a full table");
	/* session_destroy and idle expiry keep the counts right */
	session_destroy(t, s);
	is_int(session_token_count(t, 1), 2, "DELETE lowers the token's count");
	is_int(session_expire(t, 1000000), 3, "idle expiry ends the other 3");
	ok(session_token_count(t, 1) == 0 && session_token_count(t, 2) == 0 &&
	       session_count(t) == 0,
	   "... and every count is 0");
	session_table_free(t);
}

/* Many tokens share the 256 owner buckets: counts stay per token. */
static void test_many_tokens(void)
{
	struct session_table *t = session_table_new(5000, 3600);
	char ended[SESSION_ID_LEN + 1];
	bool good = true;

	session_table_set_per_token(t, 2);
	for (int64_t tok = -1000; tok <= 1000; tok++) {
		mk(t, tok, 1, ended);
		mk(t, tok, 2, ended);
		mk(t, tok, 3, ended);
		good = good && ended[0] != '\0';
	}
	for (int64_t tok = -1000; tok <= 1000; tok++)
		good = good && session_token_count(t, tok) == 2;
	ok(good, "2001 tokens, 3 initializes each: each recycled once and holds 2");
	is_int(session_count(t), 4002, "the table holds 4002");
	while (session_first(t))
		session_destroy(t, session_first(t));
	ok(session_token_count(t, 0) == 0 && session_token_count(t, 1000) == 0,
	   "all ended: no token holds any");
	session_table_free(t);
}

static void test_mconf(void)
{
	struct mconf c;
	bool help;
	char err[256], path[512];
	const char *dir = getenv("BUILDDIR");
	FILE *f;

	mconf_init(&c);
	is_int(c.max_sessions_per_token, 100, "default max-sessions-per-token 100");
	{
		char *argv[] = {"mcpd", "--max-sessions-per-token", "0"};
		is_int(mconf_parse_args(&c, 3, argv, &help, err, sizeof(err)), 0,
		       "--max-sessions-per-token 0 (no cap)");
		is_int(c.max_sessions_per_token, 0, "... is 0");
	}
	mconf_free(&c);
	{
		char *argv[] = {"mcpd", "--max-sessions", "5", "--max-sessions-per-token=5"};
		mconf_init(&c);
		is_int(mconf_parse_args(&c, 4, argv, &help, err, sizeof(err)), 0,
		       "per-token == max-sessions is fine");
		is_int(c.max_sessions_per_token, 5, "... 5");
		mconf_free(&c);
	}
	{
		char *argv[] = {"mcpd", "--max-sessions-per-token", "6", "--max-sessions", "5"};
		mconf_init(&c);
		err[0] = '\0';
		is_int(mconf_parse_args(&c, 5, argv, &help, err, sizeof(err)), ERR_INVALID,
		       "per-token = max-sessions + 1: a config error");
		ok(strstr(err, "max-sessions-per-token 6") && strstr(err, "max-sessions 5"),
		   "... naming both (%s)", err);
		mconf_free(&c);
	}
	{
		char *argv[] = {"mcpd", "--max-sessions", "5"};
		mconf_init(&c);
		is_int(mconf_parse_args(&c, 3, argv, &help, err, sizeof(err)), 0,
		       "max-sessions 5 alone still works");
		is_int(c.max_sessions_per_token, 5, "... the default per-token cap shrinks to 5");
		mconf_free(&c);
	}
	{
		char *argv[] = {"mcpd", "--max-sessions-per-token", "-1"};
		char *argv2[] = {"mcpd", "--max-sessions-per-token", "lots"};
		mconf_init(&c);
		ok(mconf_parse_args(&c, 3, argv, &help, err, sizeof(err)) != 0, "-1 refused");
		mconf_free(&c);
		mconf_init(&c);
		ok(mconf_parse_args(&c, 3, argv2, &help, err, sizeof(err)) != 0, "'lots' refused");
		mconf_free(&c);
	}

	/* the file's keys: the check runs after file and command line */
	snprintf(path, sizeof(path), "%s/test_session.%d.conf", dir ? dir : "/tmp", (int)getpid());
	f = fopen(path, "w");
	if (f == NULL) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	fprintf(f, "max-sessions-per-token 50\nmax-sessions 40\n");
	fclose(f);
	{
		char *argv[] = {"mcpd", "-c", path};
		char *argv2[] = {"mcpd", "-c", path, "--max-sessions", "50"};
		mconf_init(&c);
		err[0] = '\0';
		ok(mconf_parse_args(&c, 3, argv, &help, err, sizeof(err)) != 0 &&
		       strstr(err, "max-sessions 40"),
		   "the file's per-token 50 above its max-sessions 40: refused (%s)", err);
		mconf_free(&c);
		mconf_init(&c);
		is_int(mconf_parse_args(&c, 5, argv2, &help, err, sizeof(err)), 0,
		       "... a command-line --max-sessions 50 makes it fit");
		ok(c.max_sessions == 50 && c.max_sessions_per_token == 50, "... 50 and 50");
		mconf_free(&c);
	}
	unlink(path);
}

int main(void)
{
	test_recycle();
	test_identities();
	test_cap_one();
	test_global();
	test_many_tokens();
	test_mconf();
	return done_testing();
}
