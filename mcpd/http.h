/*
 * http.h: the Streamable HTTP transport of mcpd on libevent's evhttp.
 *
 * One path, /stream: POST carries one JSON-RPC message (mcp.h), GET opens
 * the session's SSE stream (sse.h), DELETE ends the session, OPTIONS
 * answers CORS preflights. Every response carries the CORS headers
 * browser clients need, errors included. Order of checks per request:
 * Host (421), Origin (403), path (404), method (405), bearer token (401),
 * rate (429), then per method Content-Type (415), Accept (406), session
 * (400/404). Bodies over max-body get 413 from evhttp.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct mconf;
struct mcp_server;
struct auth;
struct session_table;
struct http_server;

/*
 * Binds every listen address of c and prepares the handlers. auth is NULL
 * in --no-auth mode. All arguments are borrowed and must outlive the
 * server. NULL with a sentence in err when an address cannot be bound.
 */
struct http_server *http_server_new(struct event_base *base, const struct mconf *c,
				    struct mcp_server *mcp, struct auth *auth,
				    struct session_table *sessions, char *err, size_t errcap);

/* Serves the OAuth endpoints (oauth.h) and OAuth-style 401/403 challenges
 * from now on; o is borrowed and must outlive the server. */
struct oauth;
void http_server_set_oauth(struct http_server *h, struct oauth *o);

/* Closes the listeners and every connection. NULL is fine. */
void http_server_free(struct http_server *h);

/* The port bound for listen address i (the real one when 0 was asked). */
uint16_t http_server_port(const struct http_server *h, size_t i);

#endif
