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

#include <stdbool.h>
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

/*
 * The transport without sockets. http_serve() does everything on_request
 * does after evhttp parsed a request: Host, Origin, path, method, bearer
 * token, rate, then the POST/GET/DELETE handling, with the answer going to
 * a sink instead of a connection. mcpd's evhttp callback is a thin wrapper
 * that fills these from a struct evhttp_request; tests/fuzz/fuzz_mcp.c
 * drives the same function directly.
 */
struct evkeyvalq;
struct session;
struct http_pending;

struct http_in {
	int method;			 /* enum evhttp_cmd_type */
	const char *path;		 /* the URI's path; NULL when it has none */
	const struct evkeyvalq *headers; /* request headers (borrowed) */
	const char *body;		 /* the body, need not be NUL-terminated; NULL:
					    out of memory reading it */
	size_t len;
	const char *peer; /* client address for logs, or NULL */
};

/* Where an answer goes. Every callback gets sink.arg. */
struct http_sink {
	struct evkeyvalq *out; /* response headers are added here (borrowed) */
	/* The final answer: status, reason phrase, Content-Type (NULL: none),
	 * body (len bytes, may be NULL). Called exactly once per request,
	 * unless open_sse or oauth took the request over. */
	void (*send)(void *arg, int status, const char *reason, const char *ctype, const char *body,
		     size_t len);
	/* GET with a valid session: keep the response open as a stream of s.
	 * 0, or -1 when nothing was sent (out of memory: a 500 follows). */
	int (*open_sse)(struct http_server *h, void *arg, struct session *s);
	/* An OAuth endpoint (only with http_server_set_oauth). */
	void (*oauth)(struct http_server *h, void *arg, const char *path);
	/* A POST now waits for dnsd (start true) or its answer is about to be
	 * sent (start false). While it waits, the transport must call
	 * http_pending_gone(p) if the client goes away. */
	void (*wait)(struct http_server *h, void *arg, struct http_pending *p, bool start);
	void *arg;
};

/* Handles one request; the sink is copied, so it may live on the stack. */
void http_serve(struct http_server *h, const struct http_in *in, const struct http_sink *sink);

/* The client of a waiting POST went away: its answer is dropped and p is
 * freed. Returns the sink's arg (the caller may own it now). */
void *http_pending_gone(struct http_pending *p);

/* A server that listens nowhere: Host checks accept localhost, 127.0.0.1
 * and [::1] with the given ports (plus c's public-host). For http_serve
 * without sockets. NULL with a sentence in err on failure. */
struct http_server *http_server_new_unbound(const struct mconf *c, struct mcp_server *mcp,
					    struct auth *auth, struct session_table *sessions,
					    const uint16_t *ports, size_t nports, char *err,
					    size_t errcap);

#endif
