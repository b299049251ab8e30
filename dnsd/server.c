/*
 * server.c: worker threads, UDP and TCP (server.h).
 *
 * Threads and sockets. Each worker owns an event_base and, for every listen
 * address, one UDP and one TCP socket bound with SO_REUSEPORT, so the kernel
 * spreads datagrams and connections over the workers and no socket is ever
 * shared between threads. Nothing on the query path takes a lock: the
 * zoneset comes from reload_enter() once per batch, counters are per worker
 * (metrics.h), and the only cross-thread calls are reload_request_zone() for
 * an accepted NOTIFY and the eventfd through which other threads wake a
 * worker (quiescent point for the reload thread, stop for main).
 *
 * UDP. A readable socket is drained in rounds of UDP_BATCH datagrams with
 * recvmmsg(); the answers are written into per-slot buffers and sent with
 * one sendmmsg(). At most UDP_ROUNDS rounds run per callback so TCP and the
 * other sockets get their turn. Datagrams larger than UDP_RECV_SIZE are
 * dropped (MSG_TRUNC): no query we answer needs more. Sockets bound to a
 * wildcard address use IP_PKTINFO/IPV6_RECVPKTINFO so each reply leaves from
 * the address the query was sent to.
 *
 * Error rate limit. Replies with r.is_error (FORMERR, NOTIMP, REFUSED...)
 * over UDP spend a token from a per-worker bucket refilled at err_rate per
 * second (burst err_rate); without a token the reply is dropped and counted.
 * This limits reflection with forged sources; TCP is exempt because the
 * handshake proves the source address, and dropping a reply there would
 * stall a pipelining client.
 *
 * TCP (RFC 7766). Connections are bufferevents. The read callback takes
 * every complete length-prefixed message from the input buffer and appends
 * its answer to the output buffer at once (pipelining, §6.2.1.1). Input is
 * capped by a read watermark of two maximal messages; output is capped at
 * TCP_OUT_HIGH: beyond it the connection stops reading until the peer has
 * taken its answers (TCP_OUT_LOW), so a client that never reads cannot make
 * us buffer without bound. Read and write timeouts are the idle timeout
 * (§6.2.3). A connection is closed only through conn_close(), which marks it
 * and queues it on the worker's reap list; the reap event frees it from the
 * top of the loop, never inside its own callback stack. At the connection
 * cap, or when accept() fails with EMFILE/ENFILE/ENOBUFS/ENOMEM, the worker
 * removes its listening events; a closing connection (or, for descriptor
 * exhaustion, a short timer) puts them back.
 *
 * Shutdown. server_stop() sets a flag and wakes each worker: it stops
 * reading UDP and accepting TCP, stops reading from connections, closes
 * those with nothing left to send and waits for the rest to flush, bounded
 * by DRAIN_SECONDS; then the loop exits and the thread goes offline for the
 * reload thread.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dconf.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "query.h"
#include "reload.h"
#include "server.h"
#include "tsig.h"
#include "xfr.h"
#include "xfr_stream.h"
#include "zone.h"

#define UDP_BATCH	32
#define UDP_ROUNDS	8
#define UDP_RECV_SIZE	4096
#define TCP_MSG_MAX	65535 /* RFC 1035 §4.2.2: two-octet length */
#define TCP_IN_HIGH	(2 * (TCP_MSG_MAX + 2))
#define TCP_OUT_HIGH	(256 * 1024)
#define TCP_OUT_LOW	(64 * 1024)
#define TCP_BACKLOG	1024
#define ACCEPT_BATCH	64
#define ACCEPT_RETRY_MS 100
#define DRAIN_SECONDS	5
#define CTRL_SPACE	CMSG_SPACE(sizeof(struct in6_pktinfo))

struct worker;

/* One TCP connection. */
struct conn {
	struct worker *w;
	struct bufferevent *bev;      /* owns the fd */
	struct conn *prev, *next;     /* in w->conns, or in w->reap once closing */
	struct sockaddr_storage peer; /* who connected */
	socklen_t peerlen;
	bool closing;			/* queued for the reaper: touch nothing */
	bool draining;			/* no more reading; close once output is flushed */
	bool out_paused;		/* reading stopped until the peer reads answers */
	uint64_t id;			/* unique per worker: completions find their connection */
	struct xfr_stream *xfr;		/* a transfer being sent (owned) */
	bool xfr_wait;			/* an IXFR difference is being built for it */
	double xfr_t0;			/* when the transfer was asked for (ms) */
	const struct tsig_key *xfr_key; /* the transfer's TSIG key (logs) */
};

/* An IXFR handed to the transfer thread; comes back through w->done. */
struct pending {
	struct xfr_job job; /* job.arg is this */
	struct worker *w;
	struct pending *next;
	struct xfr_stream_req rq;
	bool udp;
	struct conn *c; /* TCP: the connection, checked against conn_id on return */
	uint64_t conn_id;
	int fd; /* UDP: the socket, the peer and the query's destination address */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	size_t ctllen;
	uint16_t udp_limit;
	double t0;
};

/* One listen address as seen by one worker. */
struct lsock {
	struct worker *w; /* owner */
	int udp_fd, tcp_fd;
	struct event *udp_ev, *tcp_ev;
	bool wildcard; /* bound to 0.0.0.0 or ::: reply from the query's address */
	int family;
};

struct worker {
	int id;
	struct server *srv;
	pthread_t thread;
	bool started;
	struct event_base *base;
	int ctl_fd; /* eventfd: wake-ups from other threads */
	struct event *ctl_ev, *reap_ev, *accept_retry_ev, *drain_ev;
	struct lsock *socks; /* srv->nlisten entries */
	struct metrics_worker *m;

	/* UDP batch state */
	struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
	struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
	struct sockaddr_storage peers[UDP_BATCH];
	union {
		char buf[CTRL_SPACE];
		struct cmsghdr align;
	} rctl[UDP_BATCH], sctl[UDP_BATCH];
	uint8_t *rbuf; /* UDP_BATCH * UDP_RECV_SIZE */
	uint8_t *sbuf; /* UDP_BATCH * srv->udp_resp_size */

	/* TCP */
	uint8_t *tcp_req;  /* TCP_MSG_MAX */
	uint8_t *tcp_resp; /* 2 + TCP_MSG_MAX */
	struct conn *conns, *reap;
	unsigned nconns;
	bool accept_paused;
	bool stopping;
	uint64_t emfile_log_ms; /* when descriptor exhaustion was last logged */

	/* error reply rate limit (UDP) */
	double tokens;
	uint64_t tokens_ms; /* when tokens was last refilled */

	/* transfers */
	uint64_t next_conn_id;
	pthread_mutex_t done_lock; /* protects done: filled by the transfer thread */
	struct pending *done;
	uint64_t log_ms; /* refused-transfer / TSIG log lines: rate limit */
	unsigned log_count;
};

struct server {
	const struct dconf *conf;
	struct reload *rl;
	int nworkers, nlisten;
	struct worker *workers;
	struct metrics_worker *metrics; /* nworkers, cache-line aligned */
	int first_port;
	size_t udp_resp_size;
	_Atomic bool stop;
	struct xfr *xfr;		 /* transfers and their ACLs; NULL: refused */
	const struct tsig_keyring *keys; /* TSIG keys; NULL: none */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* True when an error reply may go out now (token bucket, UDP only). */
static bool err_token(struct worker *w)
{
	double rate = (double)w->srv->conf->err_rate;
	uint64_t now = mono_ms();

	if (now != w->tokens_ms) {
		w->tokens += (double)(now - w->tokens_ms) * rate / 1000.0;
		if (w->tokens > rate)
			w->tokens = rate;
		w->tokens_ms = now;
	}
	if (w->tokens < 1.0)
		return false;
	w->tokens -= 1.0;
	return true;
}

/* Whether a log line about a refused transfer or a bad signature may be
 * written now: at most 10 per second per worker, so a flood of forged
 * requests cannot flood the log. */
static bool log_token(struct worker *w)
{
	uint64_t now = mono_ms();

	if (now - w->log_ms >= 1000) {
		w->log_ms = now;
		w->log_count = 0;
	}
	return w->log_count++ < 10;
}

/* The per-request context beyond the bytes (query.h). */
static void xparams(struct worker *w, const struct sockaddr *peer, uint64_t now,
		    struct query_xparams *x)
{
	memset(x, 0, sizeof(*x));
	x->peer = peer;
	x->keys = w->srv->keys;
	x->now = now;
	x->notify_acl = &w->srv->conf->allow_notify;
	if (w->srv->xfr) {
		x->xfr_allowed = xfr_allowed;
		x->xfr_arg = w->srv->xfr;
	}
}

static const char *xfr_name(uint16_t qtype)
{
	return qtype == 251 ? "IXFR" : "AXFR";
}

/* Counts a processed request and hands an accepted NOTIFY to the reload
 * thread. Returns true when the reply may be sent. */
static bool account(struct worker *w, const struct query_result *r, const struct sockaddr *peer,
		    bool tcp)
{
	if (r->dropped) {
		metrics_inc(&w->m->dropped);
		return false;
	}
	metrics_count_answer(w->m, r->qtype, r->rcode);
	if (r->truncated)
		metrics_inc(&w->m->truncated);
	if (r->tsig_error > 0 && log_token(w)) {
		char who[64], key[DNAME_TEXT_MAXLEN];

		dconf_addr_format(peer, who, sizeof(who));
		if (dname_print(r->tsig_keyname, key, sizeof(key)) < 0)
			snprintf(key, sizeof(key), "?");
		log_info("TSIG %s from %s (key %s, %s): NOTAUTH", tsig_error_name(r->tsig_error),
			 who, key, tcp ? "tcp" : "udp");
	}
	if ((r->qtype == 251 || r->qtype == 252) && r->rcode == RCODE_REFUSED && log_token(w)) {
		char who[64];

		dconf_addr_format(peer, who, sizeof(who));
		log_info("%s from %s refused: not allowed by allow-transfer%s", xfr_name(r->qtype),
			 who, r->tsig_error == 0 ? " (signed request)" : "");
	}
	if (r->opcode == OPCODE_NOTIFY) {
		char who[64];

		dconf_addr_format(peer, who, sizeof(who));
		if (r->notify && r->rcode == RCODE_NOTAUTH) {
			/* not served (yet): maybe a zone just created in the DB */
			metrics_inc(&w->m->notify_accepted);
			log_info(
			    "NOTIFY for %s from %s: not a zone we serve; checking the database",
			    r->notify_zone, who);
			reload_request_zone(w->srv->rl, r->notify_zone);
		} else if (r->notify) {
			metrics_inc(&w->m->notify_accepted);
			log_info("zone %s NOTIFY from %s accepted%s%s", r->notify_zone, who,
				 tcp ? " (tcp)" : "", r->tsig_error == 0 ? " (signed)" : "");
			reload_request_zone(w->srv->rl, r->notify_zone);
		} else {
			metrics_inc(&w->m->notify_refused);
			log_debug("NOTIFY from %s refused (rcode %d)", who, r->rcode);
		}
	}
	if (r->is_error && !tcp && !err_token(w)) {
		metrics_inc(&w->m->ratelimited);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------- transfers */

static void conn_close(struct conn *c);
static void conn_process(struct conn *c);
static void pktinfo_reply(struct msghdr *in, char *outbuf, struct msghdr *out);

static double now_ms_d(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What the transfer's messages echo, from the query's result. */
static void xfr_req(struct worker *w, const struct query_result *r, struct xfr_stream_req *rq)
{
	uint16_t size = w->srv->conf->edns_size;

	memset(rq, 0, sizeof(*rq));
	rq->id = r->id;
	memcpy(rq->qname, r->qname, dname_len(r->qname));
	rq->qtype = r->qtype;
	rq->qclass = r->qclass;
	rq->edns = r->edns;
	rq->edns_size = size < DNS_UDP_MINSIZE ? DNS_UDP_MINSIZE : size;
	rq->edns_flags = r->edns_flags;
	rq->tsig = r->tsig;
}

static void xfr_log_done(const struct xfr_stream *s, const struct sockaddr *peer,
			 const struct xfr_stream_req *rq, double t0, const char *how)
{
	const struct zone *z = xfr_stream_zone(s);
	char who[64];

	dconf_addr_format(peer, who, sizeof(who));
	log_info("zone %s serial %u: %s to %s%s%s: %zu records in %zu message%s, %.1f ms%s",
		 zone_name_text(z), zone_serial(z), xfr_stream_is_diff(s) ? "IXFR" : "AXFR", who,
		 rq->tsig.key ? " key " : "", rq->tsig.key ? rq->tsig.key->name_text : "",
		 xfr_stream_records(s), xfr_stream_messages(s),
		 xfr_stream_messages(s) == 1 ? "" : "s", now_ms_d() - t0, how);
}

/* Sends as many messages of c's transfer as the output buffer takes; the
 * write callback calls again once the peer has read them (never blocks).
 * Ends the transfer when the stream is complete. */
static void conn_xfr_pump(struct conn *c)
{
	struct worker *w = c->w;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t now = xfr_now();

	while (c->xfr && !c->closing && evbuffer_get_length(out) < TCP_OUT_HIGH) {
		int n = xfr_stream_next(c->xfr, w->tcp_resp + 2, TCP_MSG_MAX, now);

		if (n < 0) {
			log_warnx("zone %s: transfer aborted: a record does not fit a message (%s)",
				  zone_name_text(xfr_stream_zone(c->xfr)), err_str(n));
			conn_close(c);
			return;
		}
		if (n == 0) {
			struct xfr_stream_req rq;

			memset(&rq, 0, sizeof(rq));
			rq.tsig.key = c->xfr_key;
			xfr_log_done(c->xfr, (struct sockaddr *)&c->peer, &rq, c->xfr_t0, "");
			xfr_stream_free(c->xfr);
			c->xfr = NULL;
			break;
		}
		w->tcp_resp[0] = (uint8_t)(n >> 8);
		w->tcp_resp[1] = (uint8_t)n;
		if (evbuffer_add(out, w->tcp_resp, (size_t)n + 2) != 0) {
			conn_close(c);
			return;
		}
	}
}

/* The transfer thread finished a job: hand it to its worker. */
static void job_done(struct xfr_job *j)
{
	struct pending *p = j->arg;
	struct worker *w = p->w;

	pthread_mutex_lock(&w->done_lock);
	p->next = w->done;
	w->done = p;
	pthread_mutex_unlock(&w->done_lock);
	server_wake(w->srv, w->id);
}

static struct conn *find_conn(struct worker *w, const struct conn *c, uint64_t id)
{
	for (struct conn *x = w->conns; x != NULL; x = x->next)
		if (x == c && x->id == id)
			return x;
	return NULL;
}

/* An IXFR comes back from the transfer thread (or could not go there):
 * stream the difference, or the whole zone when the journal did not
 * cover the client's serial. */
static void pending_complete(struct worker *w, struct pending *p)
{
	struct xfr_stream *s;
	bool diff = p->job.result == 0 && p->job.diff != NULL;
	const struct sockaddr *peer = (const struct sockaddr *)&p->peer;
	struct conn *c = NULL;

	if (!p->udp) {
		c = find_conn(w, p->c, p->conn_id);
		if (c == NULL || !c->xfr_wait) {
			xfr_job_release(&p->job);
			free(p);
			return; /* the connection closed meanwhile */
		}
		c->xfr_wait = false;
		peer = (const struct sockaddr *)&c->peer;
	}
	if (!diff && !p->job.axfr) {
		char who[64];

		dconf_addr_format(peer, who, sizeof(who));
		log_info("zone %s: IXFR from serial %u for %s: %s; sending the whole zone",
			 zone_name_text(p->job.z), p->job.from, who,
			 p->job.why[0] ? p->job.why : "no difference available");
	}
	if (diff) {
		s = xfr_stream_ixfr(p->job.z, p->job.diff, &p->rq);
		p->job.diff = NULL; /* the stream owns it (or freed it) */
	} else {
		s = xfr_stream_axfr(p->job.z, p->job.order, &p->rq);
	}
	xfr_job_release(&p->job);
	if (s == NULL) {
		log_warnx("zone transfer: out of memory");
		if (c)
			conn_close(c);
		free(p);
		return;
	}
	if (c) {
		c->xfr = s;
		free(p);
		conn_xfr_pump(c);
		if (!c->xfr && !c->closing)
			conn_process(c); /* requests that waited behind the transfer */
		return;
	}
	{
		/* RFC 1995 §2: over UDP the answer if it fits, else the SOA. */
		int n = xfr_stream_single(s, w->tcp_resp, TCP_MSG_MAX, p->udp_limit, xfr_now());

		if (n > 0) {
			struct msghdr in, out;
			struct iovec iov = {w->tcp_resp, (size_t)n};
			char obuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];

			memset(&in, 0, sizeof(in));
			memset(&out, 0, sizeof(out));
			in.msg_control = p->ctllen ? p->ctl.buf : NULL;
			in.msg_controllen = p->ctllen;
			out.msg_name = &p->peer;
			out.msg_namelen = p->peerlen;
			out.msg_iov = &iov;
			out.msg_iovlen = 1;
			if (p->ctllen)
				pktinfo_reply(&in, obuf, &out);
			if (sendmsg(p->fd, &out, MSG_DONTWAIT) < 0)
				metrics_inc(&w->m->send_errors);
			xfr_log_done(s, peer, &p->rq, p->t0, " (udp)");
		}
		xfr_stream_free(s);
		free(p);
	}
}

static struct pending *pending_new(struct worker *w, const struct query_result *r)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->w = w;
	xfr_req(w, r, &p->rq);
	p->job.z = (struct zone *)r->xfr_zone;
	p->job.from = r->xfr_serial;
	p->job.done = job_done;
	p->job.arg = p;
	p->t0 = now_ms_d();
	return p;
}

/* Hands p to the transfer thread, or completes it here with the whole
 * zone when there is no thread (the reference is taken either way). */
static void pending_submit(struct worker *w, struct pending *p)
{
	if (w->srv->xfr && xfr_submit(w->srv->xfr, &p->job) == 0)
		return;
	zone_ref(p->job.z);
	p->job.result = ERR_IO;
	snprintf(p->job.why, sizeof(p->job.why), "the transfer thread is not running");
	pending_complete(w, p);
}

/* Starts the transfer a TCP request asked for (query.c allowed it). */
static void conn_xfr_begin(struct conn *c, const struct query_result *r)
{
	struct worker *w = c->w;
	struct xfr_stream_req rq;

	c->xfr_t0 = now_ms_d();
	c->xfr_key = r->tsig.key;
	if (w->srv->xfr) {
		/* IXFR: the journal; AXFR: the canonical node order (cached
		 * after the first transfer of an image). Both off this loop. */
		struct pending *p = pending_new(w, r);

		if (p == NULL) {
			conn_close(c);
			return;
		}
		p->job.axfr = r->xfr == QUERY_XFR_AXFR;
		p->c = c;
		p->conn_id = c->id;
		c->xfr_wait = true;
		pending_submit(w, p);
		return;
	}
	xfr_req(w, r, &rq);
	c->xfr = xfr_stream_axfr((struct zone *)r->xfr_zone, NULL, &rq);
	if (c->xfr == NULL) {
		conn_close(c);
		return;
	}
	conn_xfr_pump(c);
}

/* ---------------------------------------------------------------- UDP */

/* Copies the destination address of a received datagram into the control
 * data of its reply so the reply leaves from that address. */
static void pktinfo_reply(struct msghdr *in, char *outbuf, struct msghdr *out)
{
	struct cmsghdr *c, *o;

	out->msg_control = NULL;
	out->msg_controllen = 0;
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0; /* let routing pick the interface */
			out->msg_control = outbuf;
			out->msg_controllen = CMSG_SPACE(sizeof(pi));
			o = CMSG_FIRSTHDR(out);
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			out->msg_control = outbuf;
			out->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
			o = CMSG_FIRSTHDR(out);
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			return;
		}
	}
}

static void reply_pktinfo(struct worker *w, int i, struct msghdr *out)
{
	pktinfo_reply(&w->rmsg[i].msg_hdr, w->sctl[i].buf, out);
}

static void udp_send_batch(struct worker *w, int fd, int n)
{
	int done = 0;

	while (done < n) {
		int k = sendmmsg(fd, w->smsg + done, (unsigned)(n - done), MSG_DONTWAIT);

		if (k > 0) {
			done += k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		/* The first remaining message failed: EAGAIN/ENOBUFS (socket
		 * buffer full) or an error tied to that peer. Count it and go on
		 * with the rest rather than dropping the whole batch. */
		metrics_inc(&w->m->send_errors);
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			log_debug("udp: send failed: %s", strerror(errno));
		done++;
	}
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lsock *ls = arg;
	struct worker *w = ls->w;
	struct server *srv = w->srv;
	const struct zoneset *zs = reload_enter(srv->rl);
	struct query_params qp = {.tcp = false, .max_udp = srv->conf->edns_size};
	struct query_xparams xp;
	uint64_t now = xfr_now();
	int round, i;

	(void)what;
	for (round = 0; round < UDP_ROUNDS && !w->stopping; round++) {
		int n, nsend = 0;

		for (i = 0; i < UDP_BATCH; i++) {
			struct msghdr *h = &w->rmsg[i].msg_hdr;

			h->msg_name = &w->peers[i];
			h->msg_namelen = sizeof(w->peers[i]);
			h->msg_iov = &w->riov[i];
			h->msg_iovlen = 1;
			h->msg_control = ls->wildcard ? w->rctl[i].buf : NULL;
			h->msg_controllen = ls->wildcard ? sizeof(w->rctl[i].buf) : 0;
			h->msg_flags = 0;
			w->rmsg[i].msg_len = 0;
		}
		n = recvmmsg(fd, w->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("udp: recvmmsg: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct msghdr *h = &w->rmsg[i].msg_hdr;
			const uint8_t *req = w->riov[i].iov_base;
			size_t len = w->rmsg[i].msg_len;
			const struct sockaddr *peer = (const struct sockaddr *)&w->peers[i];
			uint8_t *resp = w->sbuf + (size_t)nsend * srv->udp_resp_size;
			struct query_result r;
			size_t rlen;

			metrics_inc(&w->m->udp_queries);
			if (h->msg_flags & MSG_TRUNC) {
				metrics_inc(&w->m->dropped); /* larger than any query we answer */
				continue;
			}
			xparams(w, peer, now, &xp);
			rlen =
			    query_process_ex(zs, req, len, resp, srv->udp_resp_size, &qp, &xp, &r);
			if (r.xfr != QUERY_XFR_NONE) {
				/* IXFR over UDP: the journal is read off this loop */
				struct pending *p;

				(void)account(w, &r, peer, false);
				p = pending_new(w, &r);
				if (p == NULL)
					continue;
				p->udp = true;
				p->fd = (int)fd;
				memcpy(&p->peer, &w->peers[i], sizeof(p->peer));
				p->peerlen = h->msg_namelen;
				if (ls->wildcard && h->msg_controllen <= sizeof(p->ctl.buf)) {
					memcpy(p->ctl.buf, w->rctl[i].buf, h->msg_controllen);
					p->ctllen = h->msg_controllen;
				}
				p->udp_limit = r.udp_limit;
				pending_submit(w, p);
				continue;
			}
			if (rlen == 0 || !account(w, &r, peer, false))
				continue;
			w->siov[nsend].iov_base = resp;
			w->siov[nsend].iov_len = rlen;
			memset(&w->smsg[nsend], 0, sizeof(w->smsg[nsend]));
			w->smsg[nsend].msg_hdr.msg_name = &w->peers[i];
			w->smsg[nsend].msg_hdr.msg_namelen = h->msg_namelen;
			w->smsg[nsend].msg_hdr.msg_iov = &w->siov[nsend];
			w->smsg[nsend].msg_hdr.msg_iovlen = 1;
			if (ls->wildcard)
				reply_pktinfo(w, i, &w->smsg[nsend].msg_hdr);
			nsend++;
		}
		if (nsend)
			udp_send_batch(w, (int)fd, nsend);
		if (n < UDP_BATCH)
			break; /* the socket is empty */
	}
	reload_quiesce(srv->rl, w->id);
}

/* ---------------------------------------------------------------- TCP */

static void accept_pause(struct worker *w)
{
	int i;

	if (w->accept_paused)
		return;
	for (i = 0; i < w->srv->nlisten; i++)
		if (w->socks[i].tcp_ev)
			event_del(w->socks[i].tcp_ev);
	w->accept_paused = true;
	metrics_inc(&w->m->tcp_accept_paused);
}

static void accept_resume(struct worker *w)
{
	int i;

	if (!w->accept_paused || w->stopping || w->nconns >= w->srv->conf->tcp_max_connections)
		return;
	for (i = 0; i < w->srv->nlisten; i++)
		if (w->socks[i].tcp_ev)
			event_add(w->socks[i].tcp_ev, NULL);
	w->accept_paused = false;
}

static void list_remove(struct conn **head, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void list_push(struct conn **head, struct conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

/* The one way a connection ends: it is marked, silenced and queued; the
 * reap event frees it once the current callback stack has unwound. */
static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->closing)
		return;
	c->closing = true;
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	list_remove(&w->conns, c);
	list_push(&w->reap, c);
	event_active(w->reap_ev, EV_READ, 0);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	(void)fd;
	(void)what;
	while ((c = w->reap) != NULL) {
		list_remove(&w->reap, c);
		if (c->bev)
			bufferevent_free(c->bev); /* closes the fd */
		xfr_stream_free(c->xfr);
		free(c);
		w->nconns--;
		metrics_dec(&w->m->tcp_current);
	}
	if (w->stopping) {
		if (w->conns == NULL)
			event_base_loopexit(w->base, NULL);
		return;
	}
	accept_resume(w);
}

/*
 * Answers every complete message in the input buffer (pipelining). Stops
 * early when the output holds TCP_OUT_HIGH bytes the peer has not taken.
 * A draining connection (peer sent EOF, or shutdown) reads nothing new but
 * still answers what it holds, and closes once that is all flushed.
 */
static void conn_process(struct conn *c)
{
	struct worker *w = c->w;
	struct server *srv = w->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct zoneset *zs = NULL;
	struct query_params qp = {.tcp = true, .max_udp = srv->conf->edns_size};
	struct query_xparams xp;
	bool blocked = false;

	while (!c->closing) {
		uint8_t hdr[2];

		/* One transfer at a time: later requests wait in the input
		 * buffer until it has been sent (RFC 5936 §4.1 lets us). */
		if (c->xfr || c->xfr_wait)
			break;
		size_t avail = evbuffer_get_length(in), mlen, rlen;
		struct query_result r;

		if (evbuffer_get_length(out) >= TCP_OUT_HIGH) {
			/* the peer is not reading: stop until it catches up */
			c->out_paused = true;
			if (!c->draining)
				bufferevent_disable(c->bev, EV_READ);
			blocked = true;
			break;
		}
		if (avail < 2 || evbuffer_copyout(in, hdr, 2) != 2)
			break;
		mlen = (size_t)wire_get_u16(hdr);
		if (avail < 2 + mlen)
			break;
		evbuffer_drain(in, 2);
		if (mlen && evbuffer_remove(in, w->tcp_req, mlen) != (int)mlen) {
			conn_close(c);
			break;
		}
		if (zs == NULL)
			zs = reload_enter(srv->rl);
		metrics_inc(&w->m->tcp_queries);
		xparams(w, (struct sockaddr *)&c->peer, xfr_now(), &xp);
		rlen = query_process_ex(zs, w->tcp_req, mlen, w->tcp_resp + 2, TCP_MSG_MAX, &qp,
					&xp, &r);
		if (r.xfr != QUERY_XFR_NONE) {
			(void)account(w, &r, (struct sockaddr *)&c->peer, true);
			conn_xfr_begin(c, &r); /* takes its zone reference now */
			continue;
		}
		if (rlen == 0 || !account(w, &r, (struct sockaddr *)&c->peer, true))
			continue;
		w->tcp_resp[0] = (uint8_t)(rlen >> 8);
		w->tcp_resp[1] = (uint8_t)rlen;
		if (evbuffer_add(out, w->tcp_resp, rlen + 2) != 0) {
			conn_close(c);
			break;
		}
	}
	if (zs)
		reload_quiesce(srv->rl, w->id);
	/* draining and nothing more to answer or send: done (an incomplete
	 * message left at EOF can never complete) */
	if (!c->closing && c->draining && !blocked && !c->xfr && !c->xfr_wait &&
	    evbuffer_get_length(out) == 0)
		conn_close(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (c->closing)
		return;
	if (c->xfr) {
		conn_xfr_pump(c);
		if (!c->xfr && !c->closing)
			conn_process(c);
		return;
	}
	if (c->out_paused && left <= TCP_OUT_LOW) {
		c->out_paused = false;
		if (!c->draining)
			bufferevent_enable(c->bev, EV_READ);
		conn_process(c); /* messages may already wait in the input buffer */
		return;
	}
	if (c->draining && left == 0)
		conn_process(c); /* answers what is left, or closes */
}

/* Stops reading; buffered queries are still answered, and the connection
 * closes once every answer is flushed. */
static void conn_drain(struct conn *c)
{
	if (c->closing)
		return;
	c->draining = true;
	bufferevent_disable(c->bev, EV_READ);
	/* be called back when the output is empty, not just below TCP_OUT_LOW */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_enable(c->bev, EV_WRITE);
	conn_process(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		metrics_inc(&c->w->m->tcp_timeouts);
		conn_close(c);
	} else if (what & BEV_EVENT_EOF) {
		/* the peer finished sending (maybe half-close): answer what is
		 * complete, flush, then close (RFC 7766 §6.2.4) */
		conn_drain(c);
	} else {
		conn_close(c);
	}
}

static void conn_open(struct worker *w, int fd, const struct sockaddr_storage *peer,
		      socklen_t peerlen)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval idle = {(time_t)w->srv->conf->tcp_idle_timeout, 0};
	int one = 1;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->w = w;
	c->id = ++w->next_conn_id;
	memcpy(&c->peer, peer, sizeof(*peer));
	c->peerlen = peerlen;
	/* answers are written whole; Nagle would delay the second of two
	 * pipelined answers until the peer's delayed ACK */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, TCP_IN_HIGH);
	bufferevent_setwatermark(c->bev, EV_WRITE, TCP_OUT_LOW, 0);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	list_push(&w->conns, c);
	w->nconns++;
	metrics_inc(&w->m->tcp_current);
	metrics_inc(&w->m->tcp_accepted);
	if (bufferevent_enable(c->bev, EV_READ) != 0)
		conn_close(c);
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lsock *ls = arg;
	struct worker *w = ls->w;
	int i;

	(void)what;
	for (i = 0; i < ACCEPT_BATCH && !w->stopping; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int cfd;

		if (w->nconns >= w->srv->conf->tcp_max_connections) {
			log_debug("worker %d: %u TCP connections, the cap: pausing accept", w->id,
				  w->nconns);
			accept_pause(w);
			return;
		}
		cfd =
		    accept4((int)fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			switch (errno) {
			case EAGAIN:
#if EAGAIN != EWOULDBLOCK
			case EWOULDBLOCK:
#endif
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case EPERM: /* firewall */
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM: {
				struct timeval tv = {0, ACCEPT_RETRY_MS * 1000};

				/* once per 10 s: the retry timer would log 10 lines a second */
				if (mono_ms() - w->emfile_log_ms >= 10000 ||
				    w->emfile_log_ms == 0) {
					log_warn("worker %d: accept paused for %d ms", w->id,
						 ACCEPT_RETRY_MS);
					w->emfile_log_ms = mono_ms();
				}
				accept_pause(w);
				event_add(w->accept_retry_ev, &tv);
				return;
			}
			default:
				log_warn("worker %d: accept", w->id);
				return;
			}
		}
		conn_open(w, cfd, &peer, plen);
	}
	if (w->nconns >= w->srv->conf->tcp_max_connections)
		accept_pause(w);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	accept_resume(arg);
}

/* ------------------------------------------------------------ control */

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (w->conns)
		log_info("worker %d: %u TCP connection(s) still flushing after %d s; closing",
			 w->id, w->nconns, DRAIN_SECONDS);
	event_base_loopexit(w->base, NULL);
}

static void worker_begin_stop(struct worker *w)
{
	struct timeval tv = {DRAIN_SECONDS, 0};
	struct conn *c, *next;
	int i;

	w->stopping = true;
	for (i = 0; i < w->srv->nlisten; i++) {
		if (w->socks[i].udp_ev)
			event_del(w->socks[i].udp_ev);
		if (w->socks[i].tcp_ev)
			event_del(w->socks[i].tcp_ev);
	}
	event_del(w->accept_retry_ev);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->closing)
			conn_drain(c);
	}
	if (w->conns == NULL && w->reap == NULL) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	event_add(w->drain_ev, &tv);
}

static void ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t v;
	ssize_t n;

	(void)what;
	n = read((int)fd, &v, sizeof(v)); /* resets the eventfd counter */
	(void)n;
	/* being woken is the quiescent point the reload thread asked for */
	reload_quiesce(w->srv->rl, w->id);
	{
		struct pending *p;

		pthread_mutex_lock(&w->done_lock);
		p = w->done;
		w->done = NULL;
		pthread_mutex_unlock(&w->done_lock);
		while (p) {
			struct pending *next = p->next;

			pending_complete(w, p);
			p = next;
		}
	}
	if (atomic_load(&w->srv->stop) && !w->stopping)
		worker_begin_stop(w);
}

void server_wake(void *arg, int worker)
{
	struct server *s = arg;
	uint64_t one = 1;
	ssize_t n;

	if (worker < 0 || worker >= s->nworkers)
		return;
	/* EAGAIN means the counter is saturated: a wake-up is pending anyway */
	n = write(s->workers[worker].ctl_fd, &one, sizeof(one));
	(void)n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	reload_online(w->srv->rl, w->id);
	event_base_dispatch(w->base);
	reload_offline(w->srv->rl, w->id);
	return NULL;
}

/* ------------------------------------------------------------ sockets */

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Opens one bound socket (SOCK_DGRAM or SOCK_STREAM). -1 with errno. */
static int open_socket(const struct sockaddr_storage *ss, socklen_t len, int type, bool wildcard)
{
	int fd, one = 1, saved;

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	/* one socket per family, so 0.0.0.0 and :: can both be bound */
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto fail;
	if (type == SOCK_DGRAM) {
		/* Never fragment on the strength of ICMP "fragmentation needed":
		 * forged ICMP can otherwise force fragments that are easy to spoof
		 * (what NSD and Knot do too); failures only cost that protection. */
		if (ss->ss_family == AF_INET) {
			int v = IP_PMTUDISC_OMIT;
			(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
			if (wildcard && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)))
				goto fail;
		} else {
			int v = IPV6_PMTUDISC_OMIT;
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
			if (wildcard &&
			    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))
				goto fail;
		}
	}
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Binds UDP and TCP for listen address j in every worker. For port 0 the
 * kernel picks worker 0's UDP port and TCP then takes the same number (a
 * few tries, in case the number is busy for TCP). Returns 0, or -1 with err.
 */
static int bind_address(struct server *s, int j, char *err, size_t errcap)
{
	struct sockaddr_storage ss = s->conf->listen[j].ss;
	socklen_t len = s->conf->listen[j].len;
	bool wildcard = is_wildcard(&ss);
	int want = get_port(&ss), tries, i;
	char text[80];

	for (tries = 0; tries < 16; tries++) {
		struct lsock *l0 = &s->workers[0].socks[j];

		set_port(&ss, want);
		l0->udp_fd = open_socket(&ss, len, SOCK_DGRAM, wildcard);
		if (l0->udp_fd < 0)
			goto fail;
		if (want == 0) {
			struct sockaddr_storage bound;
			socklen_t blen = sizeof(bound);

			if (getsockname(l0->udp_fd, (struct sockaddr *)&bound, &blen) != 0)
				goto fail;
			set_port(&ss, get_port(&bound));
		}
		l0->tcp_fd = open_socket(&ss, len, SOCK_STREAM, wildcard);
		if (l0->tcp_fd >= 0)
			break;
		if (want != 0 || errno != EADDRINUSE)
			goto fail;
		close(l0->udp_fd); /* the TCP twin of this port is taken: again */
		l0->udp_fd = -1;
	}
	if (s->workers[0].socks[j].tcp_fd < 0) {
		errno = EADDRINUSE;
		goto fail;
	}
	for (i = 0; i < s->nworkers; i++) {
		struct lsock *l = &s->workers[i].socks[j];

		l->wildcard = wildcard;
		l->family = ss.ss_family;
		if (i == 0)
			continue;
		l->udp_fd = open_socket(&ss, len, SOCK_DGRAM, wildcard);
		if (l->udp_fd < 0)
			goto fail;
		l->tcp_fd = open_socket(&ss, len, SOCK_STREAM, wildcard);
		if (l->tcp_fd < 0)
			goto fail;
	}
	if (j == 0)
		s->first_port = get_port(&ss);
	dconf_addr_format((struct sockaddr *)&ss, text, sizeof(text));
	log_info("listening on %s udp+tcp (%d worker%s)", text, s->nworkers,
		 s->nworkers == 1 ? "" : "s");
	return 0;
fail : {
	int saved = errno;

	dconf_addr_format((struct sockaddr *)&ss, text, sizeof(text));
	snprintf(err, errcap, "cannot listen on %s: %s", text, strerror(saved));
	errno = saved;
}
	return -1;
}

/* -------------------------------------------------------- life cycle */

static int worker_init(struct server *s, struct worker *w, int id)
{
	int i, j;

	w->id = id;
	w->srv = s;
	w->ctl_fd = -1;
	w->m = &s->metrics[id];
	w->tokens = (double)s->conf->err_rate;
	w->tokens_ms = mono_ms();
	pthread_mutex_init(&w->done_lock, NULL);
	w->socks = calloc((size_t)s->nlisten, sizeof(*w->socks));
	w->rbuf = malloc((size_t)UDP_BATCH * UDP_RECV_SIZE);
	w->sbuf = malloc((size_t)UDP_BATCH * s->udp_resp_size);
	w->tcp_req = malloc(TCP_MSG_MAX);
	w->tcp_resp = malloc(TCP_MSG_MAX + 2);
	if (!w->socks || !w->rbuf || !w->sbuf || !w->tcp_req || !w->tcp_resp)
		return -1;
	for (j = 0; j < s->nlisten; j++) {
		w->socks[j].w = w;
		w->socks[j].udp_fd = w->socks[j].tcp_fd = -1;
	}
	for (i = 0; i < UDP_BATCH; i++) {
		w->riov[i].iov_base = w->rbuf + (size_t)i * UDP_RECV_SIZE;
		w->riov[i].iov_len = UDP_RECV_SIZE;
	}
	return 0;
}

/* Creates the loop and its events once every socket is bound. */
static int worker_events(struct worker *w)
{
	struct event_config *cfg = event_config_new();
	int j;

	if (cfg == NULL)
		return -1;
	/* one thread per base: no locking inside libevent */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (w->base == NULL)
		return -1;
	w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ctl_fd < 0)
		return -1;
	w->ctl_ev = event_new(w->base, w->ctl_fd, EV_READ | EV_PERSIST, ctl_cb, w);
	w->reap_ev = event_new(w->base, -1, 0, reap_cb, w);
	w->accept_retry_ev = event_new(w->base, -1, 0, accept_retry_cb, w);
	w->drain_ev = event_new(w->base, -1, 0, drain_timeout_cb, w);
	if (!w->ctl_ev || !w->reap_ev || !w->accept_retry_ev || !w->drain_ev ||
	    event_add(w->ctl_ev, NULL) != 0)
		return -1;
	for (j = 0; j < w->srv->nlisten; j++) {
		struct lsock *l = &w->socks[j];

		if (l->udp_fd < 0)
			continue; /* a default address this host cannot bind */
		l->udp_ev = event_new(w->base, l->udp_fd, EV_READ | EV_PERSIST, udp_cb, l);
		l->tcp_ev = event_new(w->base, l->tcp_fd, EV_READ | EV_PERSIST, accept_cb, l);
		if (!l->udp_ev || !l->tcp_ev || event_add(l->udp_ev, NULL) != 0 ||
		    event_add(l->tcp_ev, NULL) != 0)
			return -1;
	}
	return 0;
}

struct server *server_new(const struct dconf *c, struct reload *rl, char *err, size_t errcap)
{
	struct server *s = calloc(1, sizeof(*s));
	int i, j;

	if (s == NULL)
		goto nomem;
	s->conf = c;
	s->rl = rl;
	s->nworkers = c->workers;
	s->nlisten = 0;
	atomic_init(&s->stop, false);
	s->udp_resp_size = c->edns_size < DNS_UDP_MINSIZE ? DNS_UDP_MINSIZE : c->edns_size;
	s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
	s->metrics = aligned_alloc(64, sizeof(*s->metrics) * (size_t)s->nworkers);
	if (s->workers == NULL || s->metrics == NULL)
		goto nomem;
	memset(s->metrics, 0, sizeof(*s->metrics) * (size_t)s->nworkers);
	s->nlisten = c->nlisten;
	for (i = 0; i < s->nworkers; i++)
		if (worker_init(s, &s->workers[i], i) != 0)
			goto nomem;
	for (j = 0; j < c->nlisten; j++) {
		char e[256];

		if (bind_address(s, j, e, sizeof(e)) == 0)
			continue;
		/* The default [::1] on a host without IPv6 is not worth dying for. */
		if (c->listen_defaulted && c->listen[j].ss.ss_family == AF_INET6 &&
		    (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
			log_warnx("%s; serving IPv4 only", e);
			for (i = 0; i < s->nworkers; i++) {
				struct lsock *l = &s->workers[i].socks[j];
				if (l->udp_fd >= 0)
					close(l->udp_fd);
				if (l->tcp_fd >= 0)
					close(l->tcp_fd);
				l->udp_fd = l->tcp_fd = -1;
			}
			continue; /* the slot stays unused: no events are made for it */
		}
		snprintf(err, errcap, "%s", e);
		server_free(s);
		return NULL;
	}
	for (i = 0; i < s->nworkers; i++) {
		if (worker_events(&s->workers[i]) != 0) {
			snprintf(err, errcap, "cannot set up worker %d's event loop", i);
			server_free(s);
			return NULL;
		}
	}
	return s;
nomem:
	snprintf(err, errcap, "out of memory setting up %d workers", c->workers);
	server_free(s);
	return NULL;
}

void server_set_reload(struct server *s, struct reload *rl)
{
	s->rl = rl;
}

void server_set_xfr(struct server *s, struct xfr *x, const struct tsig_keyring *keys)
{
	s->xfr = x;
	s->keys = keys;
}

int server_first_port(const struct server *s)
{
	return s->first_port;
}

struct metrics_worker *server_metrics(struct server *s)
{
	return s->metrics;
}

int server_nworkers(const struct server *s)
{
	return s->nworkers;
}

int server_start(struct server *s)
{
	int i, rc;

	for (i = 0; i < s->nworkers; i++) {
		rc = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
		if (rc != 0) {
			errno = rc;
			log_warn("cannot start worker thread %d", i);
			return -1;
		}
		s->workers[i].started = true;
	}
	return 0;
}

void server_stop(struct server *s)
{
	int i;

	atomic_store(&s->stop, true);
	for (i = 0; i < s->nworkers; i++)
		if (s->workers[i].started)
			server_wake(s, i);
	for (i = 0; i < s->nworkers; i++) {
		if (s->workers[i].started) {
			pthread_join(s->workers[i].thread, NULL);
			s->workers[i].started = false;
		}
	}
}

static void worker_free(struct server *s, struct worker *w)
{
	struct conn *c;
	int j;

	while ((c = w->conns) != NULL) {
		list_remove(&w->conns, c);
		if (c->bev)
			bufferevent_free(c->bev);
		xfr_stream_free(c->xfr);
		free(c);
	}
	while ((c = w->reap) != NULL) {
		list_remove(&w->reap, c);
		if (c->bev)
			bufferevent_free(c->bev);
		xfr_stream_free(c->xfr);
		free(c);
	}
	while (w->done) {
		struct pending *p = w->done;

		w->done = p->next;
		xfr_job_release(&p->job);
		free(p);
	}
	pthread_mutex_destroy(&w->done_lock);
	for (j = 0; w->socks && j < s->nlisten; j++) {
		struct lsock *l = &w->socks[j];

		if (l->udp_ev)
			event_free(l->udp_ev);
		if (l->tcp_ev)
			event_free(l->tcp_ev);
		if (l->udp_fd >= 0)
			close(l->udp_fd);
		if (l->tcp_fd >= 0)
			close(l->tcp_fd);
	}
	if (w->ctl_ev)
		event_free(w->ctl_ev);
	if (w->reap_ev)
		event_free(w->reap_ev);
	if (w->accept_retry_ev)
		event_free(w->accept_retry_ev);
	if (w->drain_ev)
		event_free(w->drain_ev);
	if (w->ctl_fd >= 0)
		close(w->ctl_fd);
	if (w->base)
		event_base_free(w->base);
	free(w->socks);
	free(w->rbuf);
	free(w->sbuf);
	free(w->tcp_req);
	free(w->tcp_resp);
}

void server_free(struct server *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; s->workers && i < s->nworkers; i++)
		if (s->workers[i].srv)
			worker_free(s, &s->workers[i]);
	free(s->workers);
	free(s->metrics);
	free(s);
}
