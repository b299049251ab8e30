/*
 * oauth.h: mcpd's OAuth 2.1 endpoints (--oauth, docs/oauth.md). mcpd is
 * both the resource server of the MCP authorization spec and its own small
 * authorization server, for single-operator installs:
 *
 *   GET  /.well-known/oauth-protected-resource[/stream]   RFC 9728 metadata
 *   GET  /.well-known/oauth-authorization-server          RFC 8414 metadata
 *   POST /oauth/register    RFC 7591 dynamic client registration
 *   GET  /oauth/authorize   the consent page (authorization code + PKCE S256);
 *                           a client_id that is an https URL is a client
 *                           metadata document, fetched first (oauth_cimd.h)
 *   POST /oauth/authorize   the operator's decision (CSRF-protected form)
 *   POST /oauth/token       authorization_code and refresh_token grants
 *   POST /oauth/revoke      RFC 7009 revocation
 *
 * The operator approves on the consent page with an existing static mcpd
 * token or a one-time code from `mcpd oauth approve`; the grant never
 * exceeds what that credential may do (write or read, its zone globs).
 * Every URL published is built from the configured public URL. When OAuth
 * is off none of this exists: http.c answers those paths with a quick 404.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "oauth_store.h"

struct sqlite3;
struct auth;
struct evhttp_request;
struct event_base;

#define OAUTH_PENDING_MAX      128	   /* consent pages open at once */
#define OAUTH_PENDING_TTL      600	   /* seconds a consent page stays valid */
#define OAUTH_PENDING_ATTEMPTS 5	   /* wrong credentials before a page is dropped */
#define OAUTH_FORM_MAX	       (16 * 1024) /* bytes of a form or registration body */
#define OAUTH_STATE_MAX	       1000

struct oauth;

/*
 * Prepares the endpoints. public_url is the origin clients reach mcpd at
 * ("https://dns.example.com", checked by mconf); the issuer is that URL,
 * the resource (token audience) is public_url + "/stream". db and auth are
 * borrowed. NULL with a sentence in err on failure.
 */
struct oauth *oauth_new(struct sqlite3 *db, struct auth *auth, const char *public_url,
			const struct oauth_ttls *ttl, unsigned max_clients, char *err,
			size_t errcap);
void oauth_free(struct oauth *o);

/*
 * Accepts client metadata documents (oauth_cimd.h): a client_id that is an
 * https URL is fetched (in a worker thread, answered through base, which
 * is borrowed) instead of being looked up as a registration, and the
 * RFC 8414 metadata says client_id_metadata_document_supported. Without
 * this call such client_ids are refused. allow_private lets the fetch reach
 * loopback and private addresses (tests, intranets). 0, or -1 with err.
 */
int oauth_enable_cimd(struct oauth *o, struct event_base *base, bool allow_private, char *err,
		      size_t errcap);

/* The RFC 8707 resource: public_url + "/stream". */
const char *oauth_resource(const struct oauth *o);

/* The RFC 9728 metadata URL of /stream, for WWW-Authenticate. */
const char *oauth_metadata_url(const struct oauth *o);

/* True when path belongs to the OAuth endpoints (well-known or /oauth/). */
bool oauth_path(const char *path);

/* Answers one request to an oauth_path() path (every status, 404 and 405
 * included). The caller has checked Host and Origin. */
void oauth_handle(struct oauth *o, struct evhttp_request *req, const char *path);

/* Periodic housekeeping: drops expired consent pages, prunes the tables. */
void oauth_tick(struct oauth *o);

/* `mcpd --db FILE oauth approve|list|revoke ...` (oauth_cli.c); argv[0] is
 * "oauth". Returns the exit status. */
int oauth_cli(const char *db_path, int argc, char **argv);

#endif
