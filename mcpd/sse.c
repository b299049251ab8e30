/*
 * sse.c: SSE streams on evhttp (sse.h).
 *
 * Ownership: a stream belongs to its session's list and is freed by
 * sse_close, by the session's destruction, or by the connection's close
 * callback when the client goes away. When libevent reports the client
 * gone in the middle of our response, it detaches the request from the
 * connection and leaves it to us (evhttp_request_get_connection() is NULL
 * then), so the close callback frees it; otherwise the connection frees it.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "session.h"
#include "sse.h"

/* A client that reads slower than we write gets cut off here instead of
 * growing our memory without bound. */
#define SSE_MAX_BACKLOG (1024 * 1024)

struct sse_stream {
	struct evhttp_request *req;	 /* our open response */
	struct evhttp_connection *evcon; /* its connection */
	struct event *keepalive;	 /* ":" comment timer */
	struct session *s;		 /* the session it belongs to */
	struct sse_stream *next, *prev;	 /* in s->streams */
};

static size_t sse_open_streams;

size_t sse_count(void)
{
	return sse_open_streams;
}

static void unlink_stream(struct sse_stream *st)
{
	struct session *s = st->s;

	if (s == NULL)
		return;
	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	s->n_streams--;
	st->s = NULL;
}

static void stream_free(struct sse_stream *st)
{
	unlink_stream(st);
	if (st->keepalive)
		event_free(st->keepalive);
	free(st);
	sse_open_streams--;
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
	struct sse_stream *st = arg;

	(void)evcon;
	log_debug("SSE stream of session %.8s closed by the client", st->s ? st->s->id : "-");
	/* a request libevent detached from its dying connection is ours */
	if (st->req && evhttp_request_get_connection(st->req) == NULL)
		evhttp_request_free(st->req);
	st->req = NULL;
	stream_free(st);
}

void sse_close(struct sse_stream *st)
{
	if (st->req) {
		struct evhttp_connection *evcon = evhttp_request_get_connection(st->req);

		if (evcon) {
			evhttp_connection_set_closecb(evcon, NULL, NULL);
			evhttp_send_reply_end(st->req);
		} else {
			evhttp_request_free(st->req);
		}
		st->req = NULL;
	}
	stream_free(st);
}

static int write_raw(struct sse_stream *st, const char *data, size_t len)
{
	struct evbuffer *buf;
	struct bufferevent *bev;

	if (st->req == NULL || evhttp_request_get_connection(st->req) == NULL)
		return ERR_IO;
	bev = evhttp_connection_get_bufferevent(st->evcon);
	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > SSE_MAX_BACKLOG) {
		log_info("SSE stream of session %.8s: client too slow, closing",
			 st->s ? st->s->id : "-");
		sse_close(st);
		return ERR_IO;
	}
	buf = evbuffer_new();
	if (buf == NULL)
		return ERR_NOMEM;
	if (evbuffer_add(buf, data, len) != 0) {
		evbuffer_free(buf);
		return ERR_NOMEM;
	}
	evhttp_send_reply_chunk(st->req, buf);
	evbuffer_free(buf);
	return 0;
}

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	/* a comment line: clients ignore it, proxies see traffic */
	write_raw(arg, ": keep-alive\n\n", 14);
}

struct sse_stream *sse_open(struct event_base *base, struct evhttp_request *req, struct session *s,
			    unsigned keepalive_s)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct sse_stream *st = calloc(1, sizeof(*st));
	struct timeval tv = {.tv_sec = keepalive_s, .tv_usec = 0};

	if (st == NULL)
		return NULL;
	st->keepalive = event_new(base, -1, EV_PERSIST, on_keepalive, st);
	if (st->keepalive == NULL) {
		free(st);
		return NULL;
	}
	st->req = req;
	st->evcon = evhttp_request_get_connection(req);
	st->s = s;
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	s->n_streams++;
	sse_open_streams++;
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	/* nginx buffers responses unless told not to (MCP 2026-07-28 SHOULD) */
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	/* the stream lives as long as the client wants it: no idle timeout
	 * on this connection, the keep-alive comments detect dead peers */
	evhttp_connection_set_timeout(st->evcon, 7 * 24 * 3600);
	evhttp_connection_set_closecb(st->evcon, on_close, st);
	evhttp_send_reply_start(req, 200, "OK");
	event_add(st->keepalive, &tv);
	log_debug("SSE stream opened for session %.8s (%u open)", s->id, s->n_streams);
	return st;
}

char *sse_format_message(const char *json, size_t *len)
{
	char *out = NULL;
	int n = asprintf(&out, "event: message\ndata: %s\n\n", json);

	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return out;
}

int sse_send(struct sse_stream *st, const char *json)
{
	size_t len;
	char *ev = sse_format_message(json, &len);
	int rc;

	if (ev == NULL)
		return ERR_NOMEM;
	rc = write_raw(st, ev, len);
	free(ev);
	return rc;
}

int sse_session_send(void *unused, struct session *s, const char *json)
{
	struct sse_stream *st = s->streams, *next;
	int rc;

	(void)unused;
	/* the newest stream first: an older one may be a half-dead leftover */
	for (; st; st = next) {
		next = st->next; /* st may be closed (freed) by a failed send */
		rc = sse_send(st, json);
		if (rc == 0 || rc == ERR_NOMEM)
			return rc;
	}
	return ERR_NOTFOUND;
}

void sse_session_close_all(void *unused, struct session *s)
{
	(void)unused;
	while (s->streams)
		sse_close(s->streams);
}
