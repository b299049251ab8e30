/*
 * http.c: the Streamable HTTP transport on evhttp (http.h).
 *
 * Status codes follow the MCP transport spec (2025-03-26..2025-11-25,
 * "Streamable HTTP") where it speaks and RFC 9110 elsewhere:
 *   202 notification/response accepted, no body;
 *   400 bad JSON-RPC, missing Mcp-Session-Id, unsupported MCP-Protocol-Version;
 *   401 no or bad token (RFC 6750 §3, WWW-Authenticate: Bearer);
 *   403 bad Origin (MCP 2025-11-25), insufficient scope (RFC 6750 §3.1);
 *   404 unknown or ended session, other paths;
 *   405 other methods; 406 Accept that allows neither JSON nor SSE;
 *   409 too many streams for one session; 413 body over max-body (evhttp);
 *   415 Content-Type not application/json;
 *   421 Host we do not serve (RFC 9110 §15.5.20 "Misdirected Request": the
 *       request was directed at a server not able to produce a response
 *       for that authority, which is what DNS rebinding does);
 *   429 over the token's rate (RFC 6585 §4, with Retry-After).
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth.h"
#include "conf.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "mconf.h"
#include "mcp.h"
#include "oauth.h"
#include "session.h"
#include "sse.h"

#define HTTP_PATH	   "/stream"
#define HTTP_TIMEOUT	   60 /* seconds to read a request; idle keep-alive */
#define CORS_ALLOW_METHODS "GET, POST, DELETE, OPTIONS"
#define CORS_ALLOW_HEADERS                                                                         \
	"Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, "              \
	"Last-Event-ID, Mcp-Method, Mcp-Name"
#define CORS_EXPOSE_HEADERS "Mcp-Session-Id, WWW-Authenticate, Retry-After"

/* A POST whose answer waits for dnsd. */
struct http_pending {
	struct http_server *h;
	struct http_sink sink; /* where the answer goes */
	struct mcp_call *call; /* NULL while mcp_handle runs (synchronous answer) */
	bool sse;	       /* answer as text/event-stream */
	struct http_pending *next, *prev;
};

struct http_server {
	struct event_base *base;
	struct evhttp *http; /* NULL for http_server_new_unbound */
	const struct mconf *c;
	struct mcp_server *mcp;
	struct auth *auth;
	struct session_table *sessions;
	struct oauth *oauth; /* NULL: OAuth off (the default) */
	struct auth_hosts hosts;
	uint16_t ports[MCONF_MAX_LISTEN];
	size_t nports;
	struct http_pending *pendings;
};

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 421:
		return "Misdirected Request";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void send_body(const struct http_sink *k, int status, const char *ctype, const char *body,
		      size_t len)
{
	if (body == NULL || len == 0) {
		body = NULL;
		len = 0;
		ctype = NULL;
	}
	k->send(k->arg, status, reason(status), ctype, body, len);
}

/* An error with a JSON-RPC error body (id null), as MCP allows for
 * rejected HTTP requests. */
static void send_error(const struct http_sink *k, int status, int code, const char *msg)
{
	char *body = mcp_error_json(code, msg);

	send_body(k, status, "application/json", body, body ? strlen(body) : 0);
	free(body);
}

static void add_header(const struct http_sink *k, const char *name, const char *value)
{
	evhttp_add_header(k->out, name, value);
}

static void add_cors(struct http_server *h, const struct http_sink *k, const char *origin)
{
	if (origin && auth_origin_ok(&h->hosts, origin)) {
		add_header(k, "Access-Control-Allow-Origin", origin);
		add_header(k, "Vary", "Origin");
	}
	add_header(k, "Access-Control-Allow-Methods", CORS_ALLOW_METHODS);
	add_header(k, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
	add_header(k, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
}

/* Does one media range list name type (or a wildcard covering it)? */
static bool accepts(const char *accept, const char *type, const char *wild)
{
	const char *p = accept;

	while (*p) {
		const char *start, *end;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p && *p != ',' && *p != ';')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		len = (size_t)(end - start);
		if ((len == strlen(type) && strncasecmp(start, type, len) == 0) ||
		    (len == strlen(wild) && strncasecmp(start, wild, len) == 0) ||
		    (len == 3 && strncmp(start, "*/*", 3) == 0))
			return true;
		while (*p && *p != ',')
			p++; /* skip parameters */
	}
	return false;
}

/* Content-Type must be application/json, parameters (charset) allowed. */
static bool is_json_ctype(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static void pending_unlink(struct http_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (p->h->pendings == p)
		p->h->pendings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

static void send_reply(struct http_server *h, const struct http_sink *k, bool sse,
		       struct mcp_reply *r)
{
	if (r->session_id[0])
		add_header(k, "Mcp-Session-Id", r->session_id);
	if (r->status == 403 && r->required_scope && h->oauth) {
		/* MCP "Runtime Insufficient Scope Errors": the scope needed
		 * and where the metadata is, for a step-up authorization */
		char v[OAUTH_URI_MAX + 300];
		bool write = strcmp(r->required_scope, "write") == 0;

		snprintf(v, sizeof(v),
			 "Bearer realm=\"" AUTH_REALM "\", error=\"insufficient_scope\"%s, "
			 "resource_metadata=\"%s\", error_description=\"%s\"",
			 write ? ", scope=\"" OAUTH_SCOPES "\"" : "", oauth_metadata_url(h->oauth),
			 write ? "this tool changes zones: it needs dns:write"
			       : "this grant does not cover the zone");
		add_header(k, "WWW-Authenticate", v);
	} else if (r->www_authenticate) {
		add_header(k, "WWW-Authenticate", r->www_authenticate);
	}
	if (r->body == NULL) {
		send_body(k, r->status, NULL, NULL, 0);
	} else if (sse && r->status == 200) {
		/* the client accepts only SSE: one event, then the end */
		size_t len;
		char *ev = sse_format_message(r->body, &len);

		add_header(k, "Cache-Control", "no-cache");
		add_header(k, "X-Accel-Buffering", "no");
		send_body(k, ev ? 200 : 500, "text/event-stream", ev, ev ? len : 0);
		free(ev);
	} else {
		send_body(k, r->status, "application/json", r->body, strlen(r->body));
	}
}

/* The answer of a POST: synchronous (inside mcp_handle, p->call still
 * NULL; handle_post frees p) or later from the event loop (p->call set). */
static void on_reply(void *arg, struct mcp_reply *r)
{
	struct http_pending *p = arg;

	if (p->call == NULL) {
		send_reply(p->h, &p->sink, p->sse, r);
		return;
	}
	p->sink.wait(p->h, p->sink.arg, p, false);
	send_reply(p->h, &p->sink, p->sse, r);
	pending_unlink(p);
	free(p);
}

void *http_pending_gone(struct http_pending *p)
{
	void *arg = p->sink.arg;

	log_debug("client went away while its write waited for dnsd");
	mcp_call_detach(p->call);
	pending_unlink(p);
	free(p);
	return arg;
}

/* How often a header field appears (names compare case-insensitively). */
static unsigned header_count(const struct evkeyvalq *in, const char *name)
{
	const struct evkeyval *kv;
	unsigned n = 0;

	for (kv = in->tqh_first; kv; kv = kv->next.tqe_next)
		if (strcasecmp(kv->key, name) == 0)
			n++;
	return n;
}

static void handle_post(struct http_server *h, const struct http_in *x, const struct http_sink *k,
			const struct auth_identity *who)
{
	const struct evkeyvalq *in = x->headers;
	const char *accept = evhttp_find_header(in, "Accept");
	struct mcp_request mreq;
	struct mcp_headers mh;
	struct mcp_call *call;
	struct http_pending *p;
	bool sse = false;

	if (!is_json_ctype(evhttp_find_header(in, "Content-Type"))) {
		send_error(k, 415, RPC_SERVER_ERROR,
			   "Unsupported Media Type: Content-Type must be application/json");
		return;
	}
	/* lenient Accept: JSON-only, a wildcard Accept, or none is fine (the Anthropic
	 * proxy and claude.ai send less than both types); SSE-only gets the
	 * answer as one SSE event */
	if (accept && accept[0] && !accepts(accept, "application/json", "application/*")) {
		if (!accepts(accept, "text/event-stream", "text/*")) {
			send_error(k, 406, RPC_SERVER_ERROR,
				   "Not Acceptable: accept application/json or text/event-stream");
			return;
		}
		sse = true;
	}
	if (x->body == NULL) {
		send_error(k, 500, RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		send_error(k, 500, RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	p->h = h;
	p->sink = *k;
	p->sse = sse;
	memset(&mreq, 0, sizeof(mreq));
	mreq.body = x->body;
	mreq.len = x->len;
	mreq.session_id = evhttp_find_header(in, "Mcp-Session-Id");
	mreq.protocol_version = evhttp_find_header(in, "MCP-Protocol-Version");
	mreq.who = who;
	mh.mcp_method = evhttp_find_header(in, "Mcp-Method");
	mh.mcp_name = evhttp_find_header(in, "Mcp-Name");
	mh.duplicated = header_count(in, "MCP-Protocol-Version") > 1 ||
			header_count(in, "Mcp-Method") > 1 || header_count(in, "Mcp-Name") > 1;
	call = mcp_handle_headers(h->mcp, &mreq, &mh, on_reply, p);
	if (call == NULL) {
		/* answered already */
		free(p);
		return;
	}
	/* a write waits for dnsd: answer later, unless the client leaves */
	p->call = call;
	p->next = h->pendings;
	if (h->pendings)
		h->pendings->prev = p;
	h->pendings = p;
	p->sink.wait(h, p->sink.arg, p, true);
}

/* Checks the headers GET and DELETE share. The session, or NULL after an
 * error reply. */
static struct session *session_of(struct http_server *h, const struct http_in *x,
				  const struct http_sink *k, const struct auth_identity *who)
{
	const char *sid = evhttp_find_header(x->headers, "Mcp-Session-Id");
	const char *ver = evhttp_find_header(x->headers, "MCP-Protocol-Version");
	struct session *s;

	if (ver && !mcp_version_supported(ver)) {
		send_error(k, 400, RPC_SERVER_ERROR,
			   "Bad Request: unsupported MCP-Protocol-Version");
		return NULL;
	}
	if (sid == NULL) {
		send_error(k, 400, RPC_SERVER_ERROR,
			   "Bad Request: Mcp-Session-Id header is required");
		return NULL;
	}
	s = session_find(h->sessions, sid, who->token_id, session_now_ms());
	if (s == NULL) {
		send_error(k, 404, RPC_SESSION_NOT_FOUND, "Session not found");
		return NULL;
	}
	s->last_active_ms = session_now_ms();
	return s;
}

static void handle_get(struct http_server *h, const struct http_in *x, const struct http_sink *k,
		       const struct auth_identity *who)
{
	const char *accept = evhttp_find_header(x->headers, "Accept");
	struct session *s;

	if (accept && accept[0] && !accepts(accept, "text/event-stream", "text/*")) {
		send_error(k, 406, RPC_SERVER_ERROR,
			   "Not Acceptable: GET /stream answers text/event-stream");
		return;
	}
	s = session_of(h, x, k, who);
	if (s == NULL)
		return;
	if (s->n_streams >= SSE_MAX_PER_SESSION) {
		send_error(k, 409, RPC_SERVER_ERROR,
			   "Conflict: too many open streams for this session");
		return;
	}
	if (k->open_sse(h, k->arg, s) != 0)
		send_error(k, 500, RPC_INTERNAL_ERROR, "out of memory");
}

static void handle_delete(struct http_server *h, const struct http_in *x, const struct http_sink *k,
			  const struct auth_identity *who)
{
	struct session *s = session_of(h, x, k, who);

	if (s == NULL)
		return;
	log_info("session %.8s ended by %s (DELETE)", s->id, who->name);
	session_destroy(h->sessions, s);
	send_body(k, 204, NULL, NULL, 0);
}

/* A GET or DELETE from a 2026-07-28 client: a modern MCP-Protocol-Version
 * and no session (a legacy session may send a newer header; mcp-notes §5). */
static bool modern_get_or_delete(const struct http_in *x)
{
	const char *ver = evhttp_find_header(x->headers, "MCP-Protocol-Version");

	return ver && mcp_version_modern(ver) &&
	       evhttp_find_header(x->headers, "Mcp-Session-Id") == NULL;
}

static bool authenticate(struct http_server *h, const struct http_in *x, const struct http_sink *k,
			 struct auth_identity *who)
{
	const char *authz = evhttp_find_header(x->headers, "Authorization");
	bool presented;
	int rc;

	if (h->c->no_auth) {
		auth_noauth_identity(who);
		return true;
	}
	rc = auth_bearer(h->auth, authz, session_now_ms(), who, &presented);
	if (rc == 0)
		return true;
	if (rc == ERR_DB) {
		send_error(k, 500, RPC_INTERNAL_ERROR, "database error");
		return false;
	}
	/* RFC 6750 §3: no error code when no credential came; invalid_token
	 * when one did. The realm names us. With OAuth, resource_metadata
	 * (RFC 9728 §5.1) and scope point clients to the authorization flow;
	 * without it they stay out, as some clients (Claude Code) start OAuth
	 * and drop their static header once they see them. */
	if (h->oauth) {
		char v[OAUTH_URI_MAX + 400];
		const char *why = presented ? auth_why(h->auth) : NULL;

		snprintf(v, sizeof(v),
			 "Bearer realm=\"" AUTH_REALM "\", resource_metadata=\"%s\", "
			 "scope=\"" OAUTH_SCOPES "\"%s%s%s",
			 oauth_metadata_url(h->oauth), why ? ", error=\"invalid_token\", " : "",
			 why ? "error_description=\"" : "", why ? why : "");
		if (why)
			strncat(v, "\"", sizeof(v) - strlen(v) - 1);
		add_header(k, "WWW-Authenticate", v);
		if (presented)
			log_info("invalid bearer token: %s", why);
		send_error(k, 401, RPC_SERVER_ERROR,
			   presented ? "Unauthorized: invalid bearer token"
				     : "Unauthorized: send Authorization: Bearer <token>");
	} else if (presented) {
		log_info("invalid bearer token from %s", x->peer ? x->peer : "?");
		add_header(k, "WWW-Authenticate",
			   "Bearer realm=\"" AUTH_REALM "\", error=\"invalid_token\", "
			   "error_description=\"unknown or revoked token\"");
		send_error(k, 401, RPC_SERVER_ERROR, "Unauthorized: invalid bearer token");
	} else {
		add_header(k, "WWW-Authenticate", "Bearer realm=\"" AUTH_REALM "\"");
		send_error(k, 401, RPC_SERVER_ERROR,
			   "Unauthorized: send Authorization: Bearer <token>");
	}
	return false;
}

void http_serve(struct http_server *h, const struct http_in *x, const struct http_sink *sink)
{
	const struct evkeyvalq *in = x->headers;
	const struct http_sink *k = sink;
	const char *host = evhttp_find_header(in, "Host");
	const char *fwd = evhttp_find_header(in, "X-Forwarded-Host");
	const char *origin = evhttp_find_header(in, "Origin");
	const char *path = x->path;
	int method = x->method;
	struct auth_identity who;
	unsigned retry;
	char num[16];

	add_cors(h, k, origin);
	if (host == NULL) {
		send_error(k, 400, RPC_SERVER_ERROR, "Bad Request: Host header required");
		return;
	}
	/* DNS rebinding: a browser tricked into sending to us names the
	 * attacker's host; a proxy in front must pass a name we know */
	if (!auth_host_ok(&h->hosts, host) || (fwd && !auth_host_ok(&h->hosts, fwd))) {
		char lb[64];
		size_t i;

		for (i = 0; host[i] && i + 1 < sizeof(lb); i++)
			lb[i] = host[i] >= 0x20 && host[i] < 0x7f ? host[i] : '?';
		lb[i] = '\0';
		log_info("refused Host %s (set public-host for a proxy)", lb);
		send_error(k, 421, RPC_SERVER_ERROR, "Misdirected Request: unknown Host");
		return;
	}
	if (origin && !auth_origin_ok(&h->hosts, origin)) {
		send_error(k, 403, RPC_SERVER_ERROR, "Forbidden: Origin not allowed");
		return;
	}
	if (path && h->oauth && oauth_path(path)) {
		if (method == EVHTTP_REQ_OPTIONS) {
			add_header(k, "Allow", "GET, POST, OPTIONS");
			send_body(k, 204, NULL, NULL, 0);
			return;
		}
		k->oauth(h, k->arg, path);
		return;
	}
	if (path == NULL || strcmp(path, HTTP_PATH) != 0) {
		/* includes /.well-known/oauth-* when OAuth is off: a quick 404
		 * tells clients to use the static token */
		send_error(k, 404, RPC_SERVER_ERROR, "Not Found: the MCP endpoint is /stream");
		return;
	}
	if (method == EVHTTP_REQ_OPTIONS) {
		add_header(k, "Access-Control-Max-Age", "600");
		add_header(k, "Allow", CORS_ALLOW_METHODS);
		send_body(k, 204, NULL, NULL, 0);
		return;
	}
	if (method != EVHTTP_REQ_POST && method != EVHTTP_REQ_GET && method != EVHTTP_REQ_DELETE) {
		add_header(k, "Allow", CORS_ALLOW_METHODS);
		send_error(k, 405, RPC_SERVER_ERROR, "Method Not Allowed");
		return;
	}
	if (!authenticate(h, x, k, &who))
		return;
	if (auth_rate_take(h->auth, who.token_id, session_now_ms(), &retry) != 0) {
		snprintf(num, sizeof(num), "%u", retry);
		add_header(k, "Retry-After", num);
		log_info("rate limit: %s over %u requests/minute", who.name, h->c->rate_limit);
		send_error(k, 429, RPC_SERVER_ERROR, "Too Many Requests");
		return;
	}
	if (method != EVHTTP_REQ_POST && modern_get_or_delete(x)) {
		/* 2026-07-28 "Streamable HTTP", Backward Compatibility: no GET
		 * stream and no sessions to end in that revision */
		add_header(k, "Allow", "POST, OPTIONS");
		send_error(k, 405, RPC_SERVER_ERROR,
			   "Method Not Allowed: protocol 2026-07-28 uses POST only");
		return;
	}
	if (method == EVHTTP_REQ_POST)
		handle_post(h, x, k, &who);
	else if (method == EVHTTP_REQ_GET)
		handle_get(h, x, k, &who);
	else
		handle_delete(h, x, k, &who);
}

/* ---- the evhttp side: a request's parts in, its answer out ---- */

static void ev_send(void *arg, int status, const char *why, const char *ctype, const char *body,
		    size_t len)
{
	struct evhttp_request *req = arg;
	struct evbuffer *buf = NULL;

	if (body && len) {
		buf = evbuffer_new();
		if (buf == NULL || evbuffer_add(buf, body, len) != 0) {
			if (buf)
				evbuffer_free(buf);
			buf = NULL;
			status = 500;
			why = reason(500);
		} else if (ctype) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
					  ctype);
		}
	}
	evhttp_send_reply(req, status, why, buf);
	if (buf)
		evbuffer_free(buf);
}

static int ev_open_sse(struct http_server *h, void *arg, struct session *s)
{
	return sse_open(h->base, arg, s, h->c->sse_keepalive) ? 0 : -1;
}

static void ev_oauth(struct http_server *h, void *arg, const char *path)
{
	oauth_handle(h->oauth, arg, path);
}

static void on_pending_close(struct evhttp_connection *evcon, void *arg)
{
	struct evhttp_request *req = http_pending_gone(arg);

	(void)evcon;
	/* a request libevent detached from its dying connection is ours */
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
}

static void ev_wait(struct http_server *h, void *arg, struct http_pending *p, bool start)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(arg);

	(void)h;
	if (start)
		evhttp_connection_set_closecb(evcon, on_pending_close, p);
	else if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct http_in x;
	struct http_sink k;
	char *addr = NULL;
	ev_uint16_t port = 0;

	memset(&x, 0, sizeof(x));
	x.method = (int)evhttp_request_get_command(req);
	x.path = uri ? evhttp_uri_get_path(uri) : NULL;
	x.headers = evhttp_request_get_input_headers(req);
	x.len = evbuffer_get_length(body);
	x.body = x.len ? (const char *)evbuffer_pullup(body, -1) : "";
	if (evcon)
		evhttp_connection_get_peer(evcon, &addr, &port);
	x.peer = addr;
	memset(&k, 0, sizeof(k));
	k.out = evhttp_request_get_output_headers(req);
	k.send = ev_send;
	k.open_sse = ev_open_sse;
	k.oauth = ev_oauth;
	k.wait = ev_wait;
	k.arg = req;
	http_serve(h, &x, &k);
}

static uint16_t bound_port(struct evhttp_bound_socket *bs)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static struct http_server *server_alloc(struct event_base *base, const struct mconf *c,
					struct mcp_server *mcp, struct auth *auth,
					struct session_table *sessions, char *err, size_t errcap)
{
	struct http_server *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	h->base = base;
	h->c = c;
	h->mcp = mcp;
	h->auth = auth;
	h->sessions = sessions;
	return h;
}

struct http_server *http_server_new_unbound(const struct mconf *c, struct mcp_server *mcp,
					    struct auth *auth, struct session_table *sessions,
					    const uint16_t *ports, size_t nports, char *err,
					    size_t errcap)
{
	struct http_server *h;

	if (nports > MCONF_MAX_LISTEN) {
		snprintf(err, errcap, "more than %d ports", MCONF_MAX_LISTEN);
		return NULL;
	}
	h = server_alloc(NULL, c, mcp, auth, sessions, err, errcap);
	if (h == NULL)
		return NULL;
	for (size_t i = 0; i < nports; i++)
		h->ports[i] = ports[i];
	h->nports = nports;
	if (auth_hosts_init(&h->hosts, c, h->ports, h->nports) != 0) {
		snprintf(err, errcap, "too many accepted Host values");
		http_server_free(h);
		return NULL;
	}
	return h;
}

struct http_server *http_server_new(struct event_base *base, const struct mconf *c,
				    struct mcp_server *mcp, struct auth *auth,
				    struct session_table *sessions, char *err, size_t errcap)
{
	struct http_server *h = server_alloc(base, c, mcp, auth, sessions, err, errcap);

	if (h == NULL)
		return NULL;
	h->http = evhttp_new(base);
	if (h->http == NULL) {
		snprintf(err, errcap, "evhttp_new failed");
		goto fail;
	}
	evhttp_set_max_body_size(h->http, (ev_ssize_t)c->max_body);
	evhttp_set_max_headers_size(h->http, (ev_ssize_t)c->max_header);
	evhttp_set_timeout(h->http, HTTP_TIMEOUT);
	/* no made-up text/html on bodiless answers such as 202 */
	evhttp_set_default_content_type(h->http, NULL);
	/* let every method reach us, so others get our 405 with CORS */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, on_request, h);
	for (size_t i = 0; i < mconf_listen_count(c); i++) {
		const char *l = mconf_listen(c, i);
		struct sockaddr_storage ss;
		unsigned int sslen;
		char ip[INET6_ADDRSTRLEN];
		uint16_t port;
		struct evhttp_bound_socket *bs;

		if (conf_parse_addr(l, MCONF_DEFAULT_PORT, &ss, &sslen) != 0) {
			snprintf(err, errcap, "listen %s: not ADDR:PORT", l);
			goto fail;
		}
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip,
				  sizeof(ip));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		bs = evhttp_bind_socket_with_handle(h->http, ip, port);
		if (bs == NULL) {
			snprintf(err, errcap, "cannot listen on %s: %m", l);
			goto fail;
		}
		h->ports[i] = bound_port(bs);
		h->nports++;
		log_info("listening on http://%s%s%s:%u%s", ss.ss_family == AF_INET6 ? "[" : "", ip,
			 ss.ss_family == AF_INET6 ? "]" : "", h->ports[i], HTTP_PATH);
	}
	if (auth_hosts_init(&h->hosts, c, h->ports, h->nports) != 0) {
		snprintf(err, errcap, "too many accepted Host values");
		goto fail;
	}
	return h;
fail:
	http_server_free(h);
	return NULL;
}

void http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	/* closes every connection; close callbacks detach waiting writes */
	if (h->http)
		evhttp_free(h->http);
	while (h->pendings) {
		struct http_pending *p = h->pendings;
		mcp_call_detach(p->call);
		pending_unlink(p);
		free(p);
	}
	free(h);
}

void http_server_set_oauth(struct http_server *h, struct oauth *o)
{
	h->oauth = o;
}

uint16_t http_server_port(const struct http_server *h, size_t i)
{
	return i < h->nports ? h->ports[i] : 0;
}
