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
	struct session *next, *prev; /* table order, for iteration */
	struct session *hnext;	     /* hash chain */
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

/*
 * Creates a session owned by token_id with a fresh random id. zone_globs
 * is copied. When the table is full, idle sessions are expired first.
 * Returns 0 and *out, ERR_RANGE when still full, ERR_IO when the random
 * source failed, ERR_NOMEM.
 */
int session_create(struct session_table *t, const char *version, int64_t token_id,
		   const char *zone_globs, uint64_t now_ms, struct session **out);

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
