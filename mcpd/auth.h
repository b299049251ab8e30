/*
 * auth.h: who may talk to mcpd, and from where.
 *
 * - Bearer tokens (RFC 6750 §2.1 "Authorization: Bearer T"): the token's
 *   SHA-256 (common/token.h) is looked up in the tokens table and compared
 *   in constant time; revoked tokens never match. The token's name is the
 *   actor in the journal, its scope (read/write) and zone globs limit what
 *   tools it may call. This is the static-token subset of the MCP
 *   authorization spec (an OAuth 2.1 resource server also receives
 *   "Authorization: Bearer").
 * - With --oauth, OAuth access tokens (prefix mcpat_, oauth_store.h) are a
 *   second way to fill a struct auth_identity: their grant's scope and
 *   zones, checked against the resource (RFC 8707 audience).
 * - A request rate per token (token bucket: N per minute, bursts up to N).
 * - The Host and Origin checks against DNS rebinding (MCP 2025-11-25
 *   "Transports", Security Warning).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct mconf;

#define AUTH_NAME_MAX	 128  /* longest token name we serve */
#define AUTH_ZONES_MAX	 1024 /* longest zone glob list we serve */
#define AUTH_TOKEN_MAX	 512  /* longest bearer credential we hash */
#define AUTH_MAX_HOSTS	 64   /* accepted Host values */
#define AUTH_HOST_MAX	 280  /* one Host value: name (253) + ":" + port */
#define AUTH_REALM	 "mcpd"
#define AUTH_NOAUTH_NAME "no-auth"

struct auth_identity {
	int64_t token_id;	    /* tokens.id, 0 in --no-auth mode */
	char name[AUTH_NAME_MAX];   /* token name: ctx.actor */
	bool can_write;		    /* scope 'write' */
	char zones[AUTH_ZONES_MAX]; /* comma-separated globs, "*" = all */
	bool oauth;		    /* an OAuth access token (token_id is -grant id) */
};

struct auth;

/* Prepares the token statements on db (borrowed; must outlive the auth).
 * rate_per_min 0 disables the rate limit. NULL with err set on failure
 * (no tokens table: not an mcpd database). */
struct auth *auth_new(struct sqlite3 *db, unsigned rate_per_min, char *err, size_t errcap);
void auth_free(struct auth *a);

/* The identity of --no-auth mode: actor "no-auth", write scope, all zones. */
void auth_noauth_identity(struct auth_identity *out);

/*
 * Checks an Authorization header value (NULL when absent). Returns 0 and
 * fills *out; ERR_NOTFOUND when absent (*presented false) or when a
 * credential was presented but is malformed, unknown or revoked
 * (*presented true: RFC 6750 §3.1 error="invalid_token"); ERR_DB when the
 * database failed. Updates tokens.last_used_at at most once a minute per
 * token, and never waits for a lock to do it.
 */
int auth_bearer(struct auth *a, const char *header, uint64_t now_ms, struct auth_identity *out,
		bool *presented);

/* Accepts OAuth access tokens (oauth_store.h) issued for resource, the
 * public URL of /stream, beside the static tokens. NULL turns it off.
 * 0 or ERR_NOMEM. */
int auth_set_oauth(struct auth *a, const char *resource);

/* Why the last auth_bearer refused a presented credential ("expired",
 * "issued for another resource"...), for error_description. */
const char *auth_why(const struct auth *a);

/* Checks one static token (no "Bearer", len bytes; OAuth tokens never
 * match): the consent page takes one to approve a grant. Returns as
 * auth_bearer. */
int auth_static_token(struct auth *a, const char *tok, size_t len, uint64_t now_ms,
		      struct auth_identity *out);

/* Takes one request from the token's bucket. 0, or ERR_RANGE when the
 * token is over its rate, with *retry_after_s (>= 1) until one is free. */
int auth_rate_take(struct auth *a, int64_t token_id, uint64_t now_ms, unsigned *retry_after_s);

/* The Host values a request may carry (case-insensitive). */
struct auth_hosts {
	char host[AUTH_MAX_HOSTS][AUTH_HOST_MAX];
	size_t n;
	const char *const *origins; /* configured allow-origin values (borrowed) */
	size_t n_origins;
};

/*
 * Fills h from the configuration and the ports actually bound (port 0 in
 * the config becomes the real port): public-host NAME[:PORT] when set
 * (without a port, NAME, NAME:80 and NAME:443), and always localhost,
 * 127.0.0.1 and [::1] with each bound port, plus each specific (not
 * wildcard) listen address with its port. 0 or ERR_RANGE.
 */
int auth_hosts_init(struct auth_hosts *h, const struct mconf *c, const uint16_t *ports,
		    size_t nports);

/* Adds one accepted Host value. 0 or ERR_RANGE. */
int auth_hosts_add(struct auth_hosts *h, const char *host);

/* True when host (a Host or X-Forwarded-Host value) is accepted. */
bool auth_host_ok(const struct auth_hosts *h, const char *host);

/*
 * True when origin (the Origin header; callers skip the check when it is
 * absent) is allowed: an allow-origin entry, or same-origin with an
 * accepted Host ("http://" or "https://" + an accepted Host value). A
 * browser page on our own origin is not a rebinding attack; "null" and
 * every other origin are refused.
 */
bool auth_origin_ok(const struct auth_hosts *h, const char *origin);

#endif
