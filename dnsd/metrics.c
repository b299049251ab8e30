/*
 * metrics.c: Prometheus text exposition of dnsd's counters (metrics.h),
 * served by evhttp on the main thread's loop, away from the workers.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "rdata.h"

static const uint16_t qtype_ids[METRICS_QTYPE_N - 1] = {
    RRTYPE_A,	 RRTYPE_NS,    RRTYPE_CNAME, RRTYPE_SOA,   RRTYPE_PTR,	RRTYPE_MX,     RRTYPE_TXT,
    RRTYPE_AAAA, RRTYPE_SRV,   RRTYPE_NAPTR, RRTYPE_DNAME, RRTYPE_DS,	RRTYPE_DNSKEY, RRTYPE_TLSA,
    RRTYPE_SVCB, RRTYPE_HTTPS, RRTYPE_CAA,   RRTYPE_ANY,   RRTYPE_AXFR, RRTYPE_IXFR,
};

static const char *const rcode_names[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", "RCODE12", "RCODE13", "RCODE14",  "RCODE15",
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",   "BADNAME", "BADALG",	 "BADTRUNC", "other",
};

static int qtype_index(uint16_t qtype)
{
	int i;

	for (i = 0; i < METRICS_QTYPE_N - 1; i++)
		if (qtype_ids[i] == qtype)
			return i;
	return METRICS_QTYPE_N - 1;
}

void metrics_count_answer(struct metrics_worker *w, uint16_t qtype, int rcode)
{
	metrics_inc(&w->qtype[qtype_index(qtype)]);
	if (rcode < 0 || rcode >= METRICS_RCODE_N - 1)
		rcode = METRICS_RCODE_N - 1;
	metrics_inc(&w->rcode[rcode]);
}

/* A growing string; on allocation failure it stays failed (buf NULL). */
struct sbuf {
	char *buf;
	size_t len, cap;
	int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->buf ? b->buf + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t ncap = b->cap ? b->cap * 2 : 4096;
			char *nb;

			while (ncap < b->len + (size_t)n + 1)
				ncap *= 2;
			nb = realloc(b->buf, ncap);
			if (nb == NULL) {
				b->failed = 1;
				return;
			}
			b->buf = nb;
			b->cap = ncap;
		}
	}
}

static uint64_t sum(struct metrics *m, size_t off, size_t idx)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < m->nworkers; i++) {
		_Atomic uint64_t *c = (_Atomic uint64_t *)((char *)&m->workers[i] + off) + idx;
		s += atomic_load_explicit(c, memory_order_relaxed);
	}
	return s;
}

#define SUM(field)     sum(m, offsetof(struct metrics_worker, field), 0)
#define SUMI(field, i) sum(m, offsetof(struct metrics_worker, field), (size_t)(i))
#define GLOBAL(field)  atomic_load_explicit(&m->global.field, memory_order_relaxed)

static void counter(struct sbuf *b, const char *name, const char *help, uint64_t v)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		  (unsigned long long)v);
}

static void gauge(struct sbuf *b, const char *name, const char *help, uint64_t v)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
		  (unsigned long long)v);
}

/* Label values escape backslash, double quote and newline (exposition
 * format 0.0.4); zone names may hold backslashes from \DDD escapes. */
static void label_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in && o + 3 < cap; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

struct zone_ctx {
	struct sbuf *b;
	int pass; /* 0: serials, 1: record counts */
	uint64_t count;
};

static void emit_zone(void *ctx, const char *zone, uint32_t serial, size_t records)
{
	struct zone_ctx *z = ctx;
	char esc[DNAME_TEXT_MAXLEN * 2 + 4];

	label_escape(zone, esc, sizeof(esc));
	z->count++;
	if (z->pass == 0)
		sb_printf(z->b, "dnsd_zone_serial{zone=\"%s\"} %u\n", esc, serial);
	else
		sb_printf(z->b, "dnsd_zone_records{zone=\"%s\"} %zu\n", esc, records);
}

char *metrics_render(struct metrics *m)
{
	struct sbuf b = {0};
	char name[32];
	int i;

	sb_printf(&b, "# HELP dnsd_queries_total Queries answered, by query type.\n"
		      "# TYPE dnsd_queries_total counter\n");
	for (i = 0; i < METRICS_QTYPE_N; i++) {
		uint64_t v = SUMI(qtype, i);
		if (i < METRICS_QTYPE_N - 1)
			snprintf(name, sizeof(name), "%s", rrtype_name(qtype_ids[i]));
		else
			snprintf(name, sizeof(name), "other");
		sb_printf(&b, "dnsd_queries_total{qtype=\"%s\"} %llu\n", name,
			  (unsigned long long)v);
	}
	sb_printf(&b, "# HELP dnsd_responses_total Responses sent, by rcode.\n"
		      "# TYPE dnsd_responses_total counter\n");
	for (i = 0; i < METRICS_RCODE_N; i++) {
		uint64_t v = SUMI(rcode, i);
		/* print every common rcode even at zero, rare ones only once seen */
		if (v == 0 && i > RCODE_NOTAUTH && i != RCODE_BADVERS)
			continue;
		sb_printf(&b, "dnsd_responses_total{rcode=\"%s\"} %llu\n", rcode_names[i],
			  (unsigned long long)v);
	}
	sb_printf(&b,
		  "# HELP dnsd_requests_total Requests received, by transport.\n"
		  "# TYPE dnsd_requests_total counter\n"
		  "dnsd_requests_total{transport=\"udp\"} %llu\n"
		  "dnsd_requests_total{transport=\"tcp\"} %llu\n",
		  (unsigned long long)SUM(udp_queries), (unsigned long long)SUM(tcp_queries));
	counter(&b, "dnsd_truncated_total", "Responses sent with TC set.", SUM(truncated));
	counter(&b, "dnsd_dropped_total", "Requests dropped without a response.", SUM(dropped));
	counter(&b, "dnsd_ratelimited_total", "Error responses suppressed by the rate limit.",
		SUM(ratelimited));
	counter(&b, "dnsd_send_errors_total", "UDP responses the kernel refused to send.",
		SUM(send_errors));
	sb_printf(&b,
		  "# HELP dnsd_notify_total NOTIFY messages received, by outcome.\n"
		  "# TYPE dnsd_notify_total counter\n"
		  "dnsd_notify_total{result=\"accepted\"} %llu\n"
		  "dnsd_notify_total{result=\"refused\"} %llu\n",
		  (unsigned long long)SUM(notify_accepted),
		  (unsigned long long)SUM(notify_refused));
	counter(&b, "dnsd_tcp_accepted_total", "TCP connections accepted.", SUM(tcp_accepted));
	gauge(&b, "dnsd_tcp_connections", "TCP connections open now.", SUM(tcp_current));
	counter(&b, "dnsd_tcp_timeouts_total", "TCP connections closed for idleness.",
		SUM(tcp_timeouts));
	counter(&b, "dnsd_tcp_accept_paused_total",
		"Times accepting paused at the connection cap or on EMFILE.",
		SUM(tcp_accept_paused));
	sb_printf(&b,
		  "# HELP dnsd_reloads_total Zone loads, by outcome.\n"
		  "# TYPE dnsd_reloads_total counter\n"
		  "dnsd_reloads_total{result=\"ok\"} %llu\n"
		  "dnsd_reloads_total{result=\"failed\"} %llu\n",
		  (unsigned long long)GLOBAL(reloads_ok),
		  (unsigned long long)GLOBAL(reloads_failed));
	counter(&b, "dnsd_reloads_incremental_total", "Zone loads applied from the change journal.",
		GLOBAL(reloads_incremental));
	counter(&b, "dnsd_zones_removed_total", "Zones dropped after deletion from the database.",
		GLOBAL(zones_removed));
	counter(&b, "dnsd_serial_checks_total", "Serial checks against the database.",
		GLOBAL(checks));
	if (m->list_zones) {
		struct zone_ctx zc = {&b, 0, 0};

		sb_printf(&b, "# HELP dnsd_zone_serial SOA serial of the loaded image.\n"
			      "# TYPE dnsd_zone_serial gauge\n");
		m->list_zones(m->list_arg, emit_zone, &zc);
		gauge(&b, "dnsd_zones_loaded", "Zones being served.", zc.count);
		zc.pass = 1;
		sb_printf(&b, "# HELP dnsd_zone_records Records in the loaded image.\n"
			      "# TYPE dnsd_zone_records gauge\n");
		m->list_zones(m->list_arg, emit_zone, &zc);
	}
	if (b.failed) {
		free(b.buf);
		return NULL;
	}
	return b.buf;
}

static void http_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *out;
	char *text;

	if (uri == NULL || (strcmp(uri, "/metrics") != 0 && strncmp(uri, "/metrics?", 9) != 0)) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	text = metrics_render(m);
	out = evbuffer_new();
	if (text == NULL || out == NULL) {
		free(text);
		if (out)
			evbuffer_free(out);
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evbuffer_add(out, text, strlen(text));
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

int metrics_http_start(struct metrics *m, struct event_base *base, int fd)
{
	m->http = evhttp_new(base);
	if (m->http == NULL) {
		log_warnx("metrics: cannot create the HTTP listener");
		return -1;
	}
	/* Small caps: the endpoint serves one short GET. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_gencb(m->http, http_cb, m);
	if (evhttp_accept_socket(m->http, fd) != 0) {
		log_warnx("metrics: cannot accept on the listener socket");
		evhttp_free(m->http);
		m->http = NULL;
		return -1;
	}
	return 0;
}

void metrics_http_stop(struct metrics *m)
{
	if (m->http) {
		evhttp_free(m->http);
		m->http = NULL;
	}
}
