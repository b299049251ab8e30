/*
 * sse.h: Server-Sent Events streams on libevent's evhttp (WHATWG HTML
 * "Server-sent events"), used for the GET /stream of a session: server
 * notifications go out as "event: message" with the JSON-RPC message in
 * one "data:" line; a ":" comment every keep-alive interval keeps proxies
 * from closing an idle stream.
 *
 * No priming event (empty "data:" with an id) and no "retry:" line:
 * clients before 2025-11-25 crash on the former (typescript-sdk PR #1184,
 * go-sdk #768) and AWS AgentCore rejects the latter. Without event ids
 * there is nothing to resume, so a reconnecting client simply opens a new
 * stream.
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

struct evhttp_request;
struct event_base;
struct session;
struct sse_stream;

#define SSE_MAX_PER_SESSION 4 /* GET streams one session may hold open */

/*
 * Answers req with 200 and the SSE headers (Content-Type:
 * text/event-stream, Cache-Control: no-cache, X-Accel-Buffering: no) and
 * keeps the response open, linked to s. The caller has added any other
 * headers (CORS) already. The stream ends when the client goes away, on
 * sse_close, or when s is destroyed (sse_session_close_all). NULL on
 * allocation failure (nothing was sent then).
 */
struct sse_stream *sse_open(struct event_base *base, struct evhttp_request *req, struct session *s,
			    unsigned keepalive_s);

/* Sends one event: "event: message\ndata: JSON\n\n". json must be one line
 * (cJSON_PrintUnformatted output). 0 or ERR_IO. */
int sse_send(struct sse_stream *st, const char *json);

/* Sends json on one of s's streams (the spec: each message on only one
 * stream, never broadcast across a session's streams). 0, or ERR_NOTFOUND
 * when s has none. Signature fits mcp_notify_fn. */
int sse_session_send(void *unused, struct session *s, const char *json);

/* Ends the response and frees st. */
void sse_close(struct sse_stream *st);

/* Closes every stream of s (session_hook signature). */
void sse_session_close_all(void *unused, struct session *s);

/* One complete SSE event carrying json, as a malloc'd string (for a POST
 * answered as text/event-stream). NULL on allocation failure. */
char *sse_format_message(const char *json, size_t *len);

/* Streams open in this process. */
size_t sse_count(void);

#endif
