/*
 * oauth_store.h: the database side of mcpd's OAuth 2.1 authorization server
 * (schema/002_oauth.sql): clients, one-time approval codes, authorization
 * codes, grants, access and refresh tokens. No HTTP here; oauth.c parses
 * requests and calls these, the admin CLI (oauth_cli.c) too, and
 * tests/unit/test_oauth.c drives them directly.
 *
 * Secrets are generated from getrandom(2) (token_random), handed out once
 * and stored as SHA-256 only. Every function that reads a secret looks it up
 * by its hash and compares the hash again in constant time.
 *
 * Errors: the protocol functions return 0 or a negative enum err, and on a
 * protocol refusal set *error to the RFC 6749 §5.2 / RFC 8707 / RFC 7009
 * error code ("invalid_grant", "invalid_target"...) and *desc to a sentence
 * for error_description (static strings).
 */
#ifndef OAUTH_STORE_H
#define OAUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sqlite3;
struct cJSON;
struct auth_identity;

#define OAUTH_SCOPE_READ     "dns:read"
#define OAUTH_SCOPE_WRITE    "dns:write"
#define OAUTH_SCOPES	     OAUTH_SCOPE_READ " " OAUTH_SCOPE_WRITE
#define OAUTH_ACCESS_PREFIX  "mcpat_" /* so the resource server knows where to look */
#define OAUTH_REFRESH_PREFIX "mcprt_"
#define OAUTH_CODE_PREFIX    "mcpac_"
#define OAUTH_CLIENT_PREFIX  "mcpc_"
#define OAUTH_SECRET_PREFIX  "mcpcs_"
#define OAUTH_SECRET_MAX     64	 /* prefix + 43 base64url characters + NUL fits */
#define OAUTH_APPROVAL_LEN   29	 /* XXXXX-XXXXX-XXXXX-XXXXX-XXXXX: 125 bits */
#define OAUTH_NAME_MAX	     100 /* client_name we keep (bytes) */
#define OAUTH_MAX_REDIRECTS  8	 /* redirect_uris per client */
#define OAUTH_URI_MAX	     2000
#define OAUTH_VERIFIER_MIN   43 /* RFC 7636 §4.1 */
#define OAUTH_VERIFIER_MAX   128
#define OAUTH_CHALLENGE_LEN  43 /* BASE64URL(SHA-256) without padding */
#define OAUTH_ZONES_MAX	     1024
/*
 * A client_id is either ours (OAUTH_CLIENT_PREFIX + 43 characters, from
 * registration) or a Client Identifier URL
 * (draft-ietf-oauth-client-id-metadata-document §3, "CIMD"), which has no
 * length limit in the draft; we take URLs up to this many bytes. Short
 * URLs are what the draft recommends (they are shown to the operator).
 */
#define OAUTH_CLIENT_ID_MAX 512
/* Bytes of a client metadata document we read: the draft (§8.7) recommends
 * stopping at 5 kilobytes; a document of exactly this size is accepted. */
#define OAUTH_CIMD_DOC_MAX 5120
/* How long a fetched document is used before it is fetched again: the
 * response's Cache-Control max-age, kept within these bounds (draft §5.2
 * lets the server bound it), or the default without one. */
#define OAUTH_CIMD_TTL_MIN     60
#define OAUTH_CIMD_TTL_MAX     86400
#define OAUTH_CIMD_TTL_DEFAULT 3600

struct oauth_ttls {
	unsigned access_s;  /* access token lifetime */
	unsigned refresh_s; /* refresh token lifetime (renewed on each rotation) */
	unsigned code_s;    /* authorization code lifetime */
};

/* A registered client, as the endpoints need it. */
struct oauth_client {
	int64_t id;				 /* oauth_clients.id */
	char client_id[OAUTH_CLIENT_ID_MAX + 1]; /* public id (random, or a CIMD URL) */
	char name[OAUTH_NAME_MAX + 1];		 /* client_name ("" when none) */
	char auth_method[24];			 /* none, client_secret_post, client_secret_basic */
	char secret_hash[65];			 /* "" for a public client */
	bool refresh;				 /* registered the refresh_token grant */
	bool cimd;	     /* known from a metadata document, not registered */
	int64_t expires_at;  /* cimd: the cached document is fresh until then */
	char *redirect_uris; /* JSON array text (owned; oauth_client_clear) */
};

/* What the operator approved, carried by an authorization code. */
struct oauth_approval {
	int64_t client;		    /* oauth_clients.id */
	const char *redirect_uri;   /* exactly as in the authorization request */
	const char *code_challenge; /* S256 */
	const char *resource;	    /* audience */
	const char *scope;	    /* granted OAuth scopes */
	const char *zones;	    /* granted zone globs */
	const char *approved_by;    /* token name or "approval #N" */
};

struct oauth_token_response {
	char access_token[OAUTH_SECRET_MAX];
	char refresh_token[OAUTH_SECRET_MAX];
	char scope[64];
	unsigned expires_in;
};

/* Writes prefix + 43 base64url characters of 256 random bits to out.
 * 0, ERR_SPACE (cap too small) or ERR_IO (no randomness). */
int oauth_secret(const char *prefix, char *out, size_t cap);

/* BASE64URL(SHA-256(verifier)), RFC 7636 §4.2, into out[44]. */
void oauth_s256(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1]);

/* RFC 7636 §4.1: 43-128 characters of [A-Za-z0-9-._~]. */
bool oauth_verifier_ok(const char *v);

/*
 * Parses a space-separated OAuth scope list (NULL or "" means every scope
 * we have) into *read / *write. ERR_INVALID on an unknown or repeated
 * scope. dns:write implies dns:read (MCP "Scope Challenge Handling": scope
 * hierarchies), so *read is set whenever *write is.
 */
int oauth_scope_parse(const char *scope, bool *read, bool *write);

/* The canonical text of a scope pair: "dns:read" or "dns:read dns:write". */
const char *oauth_scope_text(bool write);

/*
 * True when every glob of want is covered by the globs of have: a name
 * without wildcards that have matches, or a glob have holds verbatim, or
 * anything when have holds "*". Used to bound a grant's zones by the
 * approver's. Both are comma-separated (tools.h tool_zone_allowed syntax).
 */
bool oauth_zones_within(const char *want, const char *have);

/*
 * RFC 7591 registration. meta is the request's client metadata; the
 * response object (client_id, client_secret when confidential,
 * client_id_issued_at, client_secret_expires_at, the accepted metadata)
 * goes to *resp. Refuses (ERR_INVALID, *error "invalid_redirect_uri" or
 * "invalid_client_metadata") redirect URIs that are not absolute https
 * URLs or http on a loopback host, have a fragment or userinfo, or are
 * longer than OAUTH_URI_MAX; more than OAUTH_MAX_REDIRECTS of them; grant
 * or response types other than authorization_code/refresh_token and code;
 * unknown token_endpoint_auth_method. When max_clients are registered,
 * clients registered over a day ago that never got a token make room;
 * else ERR_RANGE. ERR_DB.
 */
int oauth_client_register(struct sqlite3 *db, const struct cJSON *meta, unsigned max_clients,
			  time_t now, struct cJSON **resp, const char **error, const char **desc);

/* The client with this client_id: 0, ERR_NOTFOUND, ERR_DB. Clear it after. */
int oauth_client_get(struct sqlite3 *db, const char *client_id, struct oauth_client *out);
void oauth_client_clear(struct oauth_client *c);

/* True when uri is one of c's registered redirect URIs, compared exactly
 * (OAuth 2.1 §4.1.1; no normalization, no prefix matching). */
bool oauth_client_redirect_ok(const struct oauth_client *c, const char *uri);

/* True when secret is c's client secret (constant-time hash compare). */
bool oauth_client_secret_ok(const struct oauth_client *c, const char *secret);

/* Issues an authorization code for a; writes it to code. 0, ERR_IO, ERR_DB. */
int oauth_code_create(struct sqlite3 *db, const struct oauth_approval *a, unsigned ttl_s,
		      time_t now, char code[OAUTH_SECRET_MAX]);

/*
 * The authorization_code grant (OAuth 2.1 §4.1.3): code must be unused,
 * unexpired, issued to c for exactly redirect_uri, and S256(verifier) must
 * equal its challenge; resource, when given, must equal the code's. A code
 * presented a second time revokes the grant made from it (RFC 6749
 * §4.1.2). Creates the grant and issues a token pair into *out. 0, or
 * ERR_INVALID with *error and *desc, ERR_IO, ERR_DB.
 */
int oauth_code_exchange(struct sqlite3 *db, const struct oauth_client *c, const char *code,
			const char *redirect_uri, const char *verifier, const char *resource,
			const struct oauth_ttls *ttl, time_t now, struct oauth_token_response *out,
			const char **error, const char **desc);

/*
 * The refresh_token grant with rotation: the old refresh token is marked
 * used and a new pair issued; a used one presented again revokes the whole
 * grant (replay). scope, when given, must be within the grant's and
 * narrows the new tokens; resource, when given, must equal the grant's.
 * 0, or ERR_INVALID with *error and *desc, ERR_IO, ERR_DB.
 */
int oauth_refresh(struct sqlite3 *db, const struct oauth_client *c, const char *refresh_token,
		  const char *scope, const char *resource, const struct oauth_ttls *ttl, time_t now,
		  struct oauth_token_response *out, const char **error, const char **desc);

/*
 * RFC 7009 revocation by client c: a refresh token revokes its grant, an
 * access token just itself. Unknown tokens are fine (§2.2: 200 either
 * way). 0; ERR_INVALID with *error "unauthorized_client" when the token
 * belongs to another client; ERR_DB.
 */
int oauth_revoke(struct sqlite3 *db, const struct oauth_client *c, const char *token,
		 const char **error);

/*
 * The resource server's check of an access token (len bytes at tok): known,
 * an access token, unexpired, its grant not revoked, and its audience equal
 * to resource (RFC 8707 §2; the MCP spec's MUST). Fills *out: token_id is
 * -(grant id) so rates and sessions never collide with static tokens,
 * name "<approver>/oauth:<client>", can_write from the scope, zones from
 * the grant. 0; ERR_NOTFOUND with *why ("expired", "revoked", "issued for
 * another resource", "unknown"); ERR_DB.
 */
int oauth_access_check(struct sqlite3 *db, const char *tok, size_t len, const char *resource,
		       time_t now, struct auth_identity *out, const char **why);

/* 'mcpd oauth approve': a one-time approval code (printed once) for scope
 * read|write and zone globs, valid ttl_s seconds. 0, ERR_IO, ERR_DB. */
int oauth_approval_create(struct sqlite3 *db, bool write, const char *zones, unsigned ttl_s,
			  time_t now, char code[OAUTH_APPROVAL_LEN + 1], int64_t *id);

/*
 * Uses an approval code (typed by a person: case and dashes ignored): 0 and
 * its scope, zones and "approval #N" name; ERR_NOTFOUND when unknown,
 * used or expired; ERR_DB. A code works once.
 */
int oauth_approval_take(struct sqlite3 *db, const char *code, time_t now, bool *write, char *zones,
			size_t zcap, char *name, size_t ncap);

/*
 * Checks a client metadata document (draft-ietf-oauth-client-id-metadata-
 * document §4) fetched from url: at most OAUTH_CIMD_DOC_MAX bytes of a
 * JSON object (len bytes at body, no NUL needed) in well-formed UTF-8,
 * with no control character inside a string, no \u0000, no member named
 * twice and nothing but whitespace after it (RFC 8259 §2, §4, §7, §8.1:
 * so every JSON parser reads it as we do); client_id equal to url
 * (simple string comparison, §4 and RFC 3986 §6.2.1); redirect_uris 1 to
 * OAUTH_MAX_REDIRECTS URIs acceptable at registration, with redirect_uri
 * (when not NULL) among them exactly (§4.2); no client_secret or
 * client_secret_expires_at and token_endpoint_auth_method absent or "none"
 * (§4.1: no shared secrets; mcpd verifies no private_key_jwt either);
 * grant_types, response_types, scope and client_name as at registration.
 * 0 with the accepted metadata in *out (owned by the caller: what is
 * stored), or ERR_INVALID with *why a sentence (static).
 */
int oauth_cimd_doc_check(const char *url, const char *body, size_t len, const char *redirect_uri,
			 struct cJSON **out, const char **why);

/*
 * Stores or refreshes the client of metadata document url (meta from
 * oauth_cimd_doc_check) as a public client: name, redirect URIs and
 * metadata replaced, fetched_at = now, expires_at = now + ttl_s. A new
 * client counts against max_clients like a registration (see
 * oauth_client_register). 0, ERR_RANGE (full), ERR_NOMEM or ERR_DB.
 */
int oauth_cimd_store(struct sqlite3 *db, const char *url, const struct cJSON *meta, time_t now,
		     unsigned ttl_s, unsigned max_clients);

/* Revokes grant id (and every token of it). 0, ERR_NOTFOUND, ERR_DB. */
int oauth_grant_revoke(struct sqlite3 *db, int64_t id);

/* Deletes expired codes, approvals and tokens (a day after expiry, so
 * logs and replays still find them meanwhile). Returns rows deleted or
 * ERR_DB. */
int oauth_prune(struct sqlite3 *db, time_t now);

#endif
