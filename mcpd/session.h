/*
 * session.h: MCP sessions of the Streamable HTTP transport (2025-03-26 to
 * 2025-11-25, "Session Management"): an id minted from a CSPRNG on the
 * InitializeResult, echoed by the client in Mcp-Session-Id, bound to the
 * token that created it, ended by DELETE or after an idle timeout. Unknown,
 * ended and expired ids all look the same to a client: 404, so it
 * re-initializes.
 *
 * The table owns every session; nothing here does I/O. Open SSE streams
 * hang off a session (sse.c manages that list); the table calls a hook
 * before it frees a session so they can be closed first.
 *
 * Two limits: the table holds at most max sessions, and each token (one
 * token_id: a static token, an OAuth grant, or the --no-auth identity)
 * at most per_token of them. A token at its own limit recycles its least
 * recently active session that has no open GET stream, so a client that
 * leaks sessions (initialize per call, never DELETE) ends its own and no
 * one else's; the global limit, in contrast, only expires idle sessions
 * and otherwise refuses. Sessions are kept in a list per token beside a
 * small hash of tokens, so neither limit costs a walk over the whole table
 * per initialize (the global one walks it only when the table is full).
 */
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 32 random bytes printed as hex: visible ASCII (0x21-0x7E) as the spec
 * requires, and 256 bits nobody can guess. */
#define SESSION_ID_BYTES    32
#define SESSION_ID_LEN	    (2 * SESSION_ID_BYTES)
#define SESSION_MAX_SUBS    64 /* resources/subscribe entries per session */
#define SESSION_VERSION_MAX 16

struct sse_stream;
struct session_table;
struct session_owner;

struct session {
	char id[SESSION_ID_LEN + 1];	   /* Mcp-Session-Id */
	char version[SESSION_VERSION_MAX]; /* negotiated protocol version */
	int64_t token_id;		   /* owner token's row id; 0 in --no-auth mode */
	char *zone_globs;		   /* owner's zone globs (owned), for notifications */
	bool initialized;		   /* notifications/initialized seen */
	uint64_t last_active_ms;	   /* monotonic time of the last request */
	char *subs[SESSION_MAX_SUBS];	   /* subscribed resource URIs (owned) */
	size_t n_subs;
	struct sse_stream *streams; /* open GET streams (sse.c's list) */
	unsigned n_streams;
	struct session *next, *prev;   /* table order, for iteration */
	struct session *hnext;	       /* hash chain */
	struct session_owner *owner;   /* per-token record (session.c's) */
	struct session *tnext, *tprev; /* the owner token's sessions, creation order */
};

/* Called before a session is freed (to close its streams). */
typedef void (*session_hook)(void *arg, struct session *s);

/* A table holding at most max sessions that expire after idle_s seconds
 * without a request (sessions with an open stream do not expire). NULL on
 * allocation failure. */
struct session_table *session_table_new(unsigned max, unsigned idle_s);

/* Frees every session (hook first) and the table. NULL is fine. */
void session_table_free(struct session_table *t);

void session_table_set_hook(struct session_table *t, session_hook hook, void *arg);

/* Caps the sessions one token_id may hold (0, the default of a new table:
 * no cap beyond max). Applies to later session_create calls; a token
 * already above a lowered cap keeps its sessions until they end. */
void session_table_set_per_token(struct session_table *t, unsigned per_token);

/* Sessions token_id holds now (a hash lookup, not a walk). */
size_t session_token_count(const struct session_table *t, int64_t token_id);

/*
 * Creates a session owned by token_id with a fresh random id. zone_globs
 * is copied. When token_id already holds the per-token cap, its least
 * recently active session without an open stream is ended (hook, free)
 * to make room; when the table is full, idle sessions are expired first.
 * A session of token_id is ended only when the new one is then created
 * (idle ones expired for room stay expired). Returns 0 and
 * *out; ERR_CONFLICT when token_id holds its cap and every one of those
 * sessions has an open stream; ERR_RANGE when the table is still full;
 * ERR_IO when the random source failed; ERR_NOMEM.
 */
int session_create(struct session_table *t, const char *version, int64_t token_id,
		   const char *zone_globs, uint64_t now_ms, struct session **out);

/* session_create that also says which session it ended to make room: its
 * id is copied to ended (SESSION_ID_LEN + 1 bytes, the caller's), or
 * ended[0] is '\0' when none was. ended may be NULL. */
int session_create_ended(struct session_table *t, const char *version, int64_t token_id,
			 const char *zone_globs, uint64_t now_ms, struct session **out,
			 char *ended);

/* The session with this id owned by token_id, or NULL (unknown, expired,
 * or another token's: a client cannot tell these apart). */
struct session *session_find(struct session_table *t, const char *id, int64_t token_id,
			     uint64_t now_ms);

/* Ends s (hook, then free). s is invalid afterwards. */
void session_destroy(struct session_table *t, struct session *s);

/* Ends sessions idle for longer than the timeout. Returns how many. */
size_t session_expire(struct session_table *t, uint64_t now_ms);

/* Iteration in creation order: for (s = session_first(t); s; s = s->next). */
struct session *session_first(struct session_table *t);

size_t session_count(const struct session_table *t);

/* Resource subscriptions: 0, ERR_RANGE when SESSION_MAX_SUBS are taken,
 * ERR_NOMEM. Subscribing twice is one subscription. */
int session_subscribe(struct session *s, const char *uri);
void session_unsubscribe(struct session *s, const char *uri);
bool session_subscribed(const struct session *s, const char *uri);

/* Monotonic clock in milliseconds. */
uint64_t session_now_ms(void);

#endif
