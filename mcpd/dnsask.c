/*
 * dnsask.c: parallel DNS questions on an event base (dnsask.h).
 *
 * One struct dnsask per set of questions, one struct one per question,
 * each with its own sockets and events:
 *
 *   UDP   the query (EDNS, random ID) goes out at once from dnsask_start
 *         and again every timeout/2 ms until the deadline, the schedule of
 *         notify_query_sync. A datagram counts only when it comes from the
 *         address asked (notify_sockaddr_equal) and matches ID, QR, opcode
 *         and question (notify_match_reply); anything else is dropped and
 *         the question keeps waiting, so a stray or forged packet can
 *         neither end it nor answer it.
 *   TCP   a matching reply with TC set is asked again over TCP with a new
 *         ID and no EDNS (RFC 7766 §5): nonblocking connect, the
 *         length-prefixed query (RFC 1035 §4.2.2), then length-prefixed
 *         messages until one matches, all before the same deadline.
 *
 * Nothing is freed from inside its own callback (house style, after
 * Redis): a finished question only deletes its events and closes its
 * sockets; when the last one is done a zero-delay timer calls the owner's
 * callback from the loop, after the whole ask has been freed. So the
 * callback never runs inside dnsask_start, and it may start new asks or
 * free whatever holds the questions.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dnsask.h"
#include "err.h"
#include "msg.h"
#include "notify.h"
#include "wire.h"

#define DNSASK_READS_PER_WAKE 16 /* datagrams or TCP messages read per wake-up */

enum one_state { ONE_UDP, ONE_TCP_CONNECT, ONE_TCP_WRITE, ONE_TCP_READ, ONE_DONE };

struct one {
	struct dnsask *a;
	struct dnsask_q *q;
	enum one_state st;
	int udp_fd, tcp_fd;	    /* -1 when not open */
	struct event *ev_udp;	    /* UDP socket readable */
	struct event *ev_tcp_w;	    /* TCP connect finished / writable */
	struct event *ev_tcp_r;	    /* TCP readable */
	struct event *ev_timer;	    /* resend and deadline */
	struct sockaddr_storage ss; /* where the question goes */
	unsigned sslen;
	uint16_t id;			  /* of the message in flight */
	uint8_t msg[2 + DNS_UDP_MINSIZE]; /* UDP: the query at msg + 2; TCP: prefix too */
	size_t msglen;			  /* UDP: query length; TCP: with the prefix */
	size_t sent;			  /* TCP bytes written */
	int resend_ms;			  /* UDP resend interval */
	long long deadline;		  /* CLOCK_MONOTONIC ms */
	uint8_t pfx[2];			  /* TCP length prefix being read */
	size_t got;			  /* bytes of pfx, then of buf, read */
	uint8_t *buf;			  /* TCP message being read (want bytes) */
	size_t want;
};

struct dnsask {
	struct event_base *base;
	struct event *ev_done; /* zero-delay timer: report from the loop */
	size_t n, left;	       /* questions, and those without an outcome */
	long long t0;
	dnsask_done_cb cb;
	void *arg;
	struct one ones[];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fds(struct one *o)
{
	if (o->ev_udp)
		event_del(o->ev_udp);
	if (o->ev_tcp_w)
		event_del(o->ev_tcp_w);
	if (o->ev_tcp_r)
		event_del(o->ev_tcp_r);
	if (o->ev_timer)
		event_del(o->ev_timer);
	if (o->udp_fd >= 0)
		close(o->udp_fd);
	if (o->tcp_fd >= 0)
		close(o->tcp_fd);
	o->udp_fd = o->tcp_fd = -1;
}

/* Gives question o its outcome (rc; the reply, if any, is in q->resp). */
static void one_done(struct one *o, int rc)
{
	struct dnsask *a = o->a;

	if (o->st == ONE_DONE)
		return;
	o->st = ONE_DONE;
	o->q->rc = rc;
	o->q->elapsed_ms = now_ms() - a->t0;
	close_fds(o);
	free(o->buf);
	o->buf = NULL;
	if (--a->left == 0) {
		struct timeval tv = {0, 0};
		evtimer_add(a->ev_done, &tv);
	}
}

static void arm(struct one *o, long long ms)
{
	long long left = o->deadline - now_ms();
	struct timeval tv;

	if (ms > left)
		ms = left > 0 ? left : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(o->ev_timer, &tv);
}

/* One UDP try. 0, or ERR_IO when the socket is unusable. */
static int udp_send(struct one *o)
{
	if (sendto(o->udp_fd, o->msg + 2, o->msglen, 0, (struct sockaddr *)&o->ss, o->sslen) < 0 &&
	    errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
		/* ECONNREFUSED reports an earlier try: the server may be
		 * starting, so keep trying until the deadline */
		return ERR_IO;
	return 0;
}

static void on_tcp_w(evutil_socket_t fd, short what, void *arg);
static void on_tcp_r(evutil_socket_t fd, short what, void *arg);

/* The UDP reply was truncated: ask again over TCP before the deadline. */
static void start_tcp(struct one *o)
{
	int n;

	close(o->udp_fd);
	event_del(o->ev_udp);
	o->udp_fd = -1;
	o->id = notify_random_id();
	n = notify_build_query(o->msg + 2, sizeof(o->msg) - 2, o->id, o->q->qname, o->q->qtype, 0);
	if (n < 0) {
		one_done(o, n);
		return;
	}
	o->msg[0] = (uint8_t)(n >> 8);
	o->msg[1] = (uint8_t)n;
	o->msglen = (size_t)n + 2;
	o->sent = 0;
	o->tcp_fd = socket(o->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->tcp_fd < 0) {
		one_done(o, ERR_IO);
		return;
	}
	o->ev_tcp_w = event_new(o->a->base, o->tcp_fd, EV_WRITE | EV_PERSIST, on_tcp_w, o);
	o->ev_tcp_r = event_new(o->a->base, o->tcp_fd, EV_READ | EV_PERSIST, on_tcp_r, o);
	if (o->ev_tcp_w == NULL || o->ev_tcp_r == NULL) {
		one_done(o, ERR_NOMEM);
		return;
	}
	if (connect(o->tcp_fd, (struct sockaddr *)&o->ss, o->sslen) == 0)
		o->st = ONE_TCP_WRITE;
	else if (errno == EINPROGRESS)
		o->st = ONE_TCP_CONNECT;
	else {
		one_done(o, ERR_IO);
		return;
	}
	if (event_add(o->ev_tcp_w, NULL) < 0) {
		one_done(o, ERR_NOMEM);
		return;
	}
	evtimer_del(o->ev_timer);
	arm(o, o->deadline - now_ms());
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct one *o = arg;
	int r;

	(void)fd, (void)what;
	if (now_ms() >= o->deadline || o->st != ONE_UDP) {
		one_done(o, ERR_TIMEOUT);
		return;
	}
	if ((r = udp_send(o)) < 0) {
		one_done(o, r);
		return;
	}
	arm(o, o->resend_ms);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct one *o = arg;
	uint8_t buf[DNS_TCP_MAXSIZE];
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct msg_header h;
	ssize_t n;

	(void)what;
	for (int i = 0; i < DNSASK_READS_PER_WAKE && o->st == ONE_UDP; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error for an earlier try */
		if (!notify_sockaddr_equal((struct sockaddr *)&from, (struct sockaddr *)&o->ss))
			continue;
		if (notify_match_reply(buf, (size_t)n, o->id, OPCODE_QUERY, o->q->qname,
				       o->q->qtype) < 0)
			continue;
		if (msg_parse_header(buf, (size_t)n, &h) == 0 && (h.flags & DNS_FLAG_TC)) {
			start_tcp(o);
			return;
		}
		o->q->resp = malloc((size_t)n);
		if (o->q->resp == NULL) {
			one_done(o, ERR_NOMEM);
			return;
		}
		memcpy(o->q->resp, buf, (size_t)n);
		o->q->resp_len = (size_t)n;
		one_done(o, 0);
		return;
	}
}

static void on_tcp_w(evutil_socket_t fd, short what, void *arg)
{
	struct one *o = arg;
	socklen_t elen;
	ssize_t n;
	int err = 0;

	(void)what;
	if (o->st == ONE_TCP_CONNECT) {
		elen = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			one_done(o, ERR_IO);
			return;
		}
		o->st = ONE_TCP_WRITE;
	}
	while (o->sent < o->msglen) {
		n = write(fd, o->msg + o->sent, o->msglen - o->sent);
		if (n > 0) {
			o->sent += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		one_done(o, ERR_IO);
		return;
	}
	event_del(o->ev_tcp_w);
	o->st = ONE_TCP_READ;
	o->got = 0;
	if (event_add(o->ev_tcp_r, NULL) < 0)
		one_done(o, ERR_NOMEM);
}

/* Reads into p until it holds n bytes: 1 complete, 0 would block, or an
 * error (the peer closed: ERR_TRUNCATED). */
static int read_some(int fd, uint8_t *p, size_t n, size_t *got)
{
	ssize_t r;

	while (*got < n) {
		r = read(fd, p + *got, n - *got);
		if (r > 0) {
			*got += (size_t)r;
			continue;
		}
		if (r == 0)
			return ERR_TRUNCATED;
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return ERR_IO;
	}
	return 1;
}

static void on_tcp_r(evutil_socket_t fd, short what, void *arg)
{
	struct one *o = arg;
	int r;

	(void)what;
	for (int i = 0; i < DNSASK_READS_PER_WAKE && o->st == ONE_TCP_READ; i++) {
		if (o->buf == NULL) {
			if ((r = read_some(fd, o->pfx, 2, &o->got)) <= 0)
				goto out;
			o->want = wire_get_u16(o->pfx);
			/* at least one byte, so a zero-length message still
			 * goes through the matcher (and fails it) */
			o->buf = malloc(o->want ? o->want : 1);
			if (o->buf == NULL) {
				one_done(o, ERR_NOMEM);
				return;
			}
			o->got = 0;
		}
		if ((r = read_some(fd, o->buf, o->want, &o->got)) <= 0)
			goto out;
		if (notify_match_reply(o->buf, o->want, o->id, OPCODE_QUERY, o->q->qname,
				       o->q->qtype) >= 0) {
			o->q->resp = o->buf;
			o->q->resp_len = o->want;
			o->q->used_tcp = true;
			o->buf = NULL;
			one_done(o, 0);
			return;
		}
		/* not ours (cannot happen on a fresh connection; be strict) */
		free(o->buf);
		o->buf = NULL;
		o->got = 0;
	}
	return;
out:
	if (r < 0)
		one_done(o, r);
}

static void ask_free(struct dnsask *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct one *o = &a->ones[i];

		close_fds(o);
		if (o->ev_udp)
			event_free(o->ev_udp);
		if (o->ev_tcp_w)
			event_free(o->ev_tcp_w);
		if (o->ev_tcp_r)
			event_free(o->ev_tcp_r);
		if (o->ev_timer)
			event_free(o->ev_timer);
		free(o->buf);
	}
	if (a->ev_done)
		event_free(a->ev_done);
	free(a);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct dnsask *a = arg;
	dnsask_done_cb cb = a->cb;
	void *cb_arg = a->arg;

	(void)fd, (void)what;
	ask_free(a);
	cb(cb_arg);
}

/* Sets question o going; on any failure it simply gets its outcome. */
static void one_start(struct one *o)
{
	struct dnsask_q *q = o->q;
	int n, r, timeout = q->timeout_ms > 0 ? q->timeout_ms : 1;

	if (timeout > DNSASK_TIMEOUT_MAX)
		timeout = DNSASK_TIMEOUT_MAX;
	o->deadline = o->a->t0 + timeout;
	o->resend_ms = timeout / 2 > 0 ? timeout / 2 : 1;
	if (memchr(q->addr, '\0', sizeof(q->addr)) == NULL ||
	    conf_parse_addr(q->addr, 53, &o->ss, &o->sslen) != 0) {
		one_done(o, ERR_SYNTAX);
		return;
	}
	o->id = notify_random_id();
	n = notify_build_query(o->msg + 2, sizeof(o->msg) - 2, o->id, q->qname, q->qtype,
			       DNS_EDNS_OUR_SIZE);
	if (n < 0) {
		one_done(o, n);
		return;
	}
	o->msglen = (size_t)n;
	o->udp_fd = socket(o->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->udp_fd < 0) {
		one_done(o, ERR_IO);
		return;
	}
	o->ev_udp = event_new(o->a->base, o->udp_fd, EV_READ | EV_PERSIST, on_udp, o);
	o->ev_timer = evtimer_new(o->a->base, on_timer, o);
	if (o->ev_udp == NULL || o->ev_timer == NULL || event_add(o->ev_udp, NULL) < 0) {
		one_done(o, ERR_NOMEM);
		return;
	}
	if ((r = udp_send(o)) < 0) {
		one_done(o, r);
		return;
	}
	arm(o, o->resend_ms);
}

int dnsask_start(struct event_base *base, struct dnsask_q *qs, size_t n, dnsask_done_cb cb,
		 void *arg, struct dnsask **out)
{
	struct dnsask *a;

	if (out)
		*out = NULL;
	if (base == NULL || cb == NULL || n > DNSASK_MAX || (n > 0 && qs == NULL))
		return ERR_INVALID;
	a = calloc(1, sizeof(*a) + n * sizeof(a->ones[0]));
	if (a == NULL)
		return ERR_NOMEM;
	a->base = base;
	a->n = a->left = n;
	a->cb = cb;
	a->arg = arg;
	a->t0 = now_ms();
	a->ev_done = evtimer_new(base, on_done, a);
	if (a->ev_done == NULL) {
		free(a);
		return ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct one *o = &a->ones[i];

		o->a = a;
		o->q = &qs[i];
		o->udp_fd = o->tcp_fd = -1;
		qs[i].rc = ERR_TIMEOUT;
		qs[i].resp = NULL;
		qs[i].resp_len = 0;
		qs[i].used_tcp = false;
		qs[i].elapsed_ms = 0;
	}
	for (size_t i = 0; i < n; i++)
		one_start(&a->ones[i]);
	if (n == 0) {
		struct timeval tv = {0, 0};
		evtimer_add(a->ev_done, &tv);
	}
	if (out)
		*out = a;
	return 0;
}

void dnsask_cancel(struct dnsask *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		if (a->ones[i].st != ONE_DONE)
			a->ones[i].q->elapsed_ms = now_ms() - a->t0;
	ask_free(a);
}

static void run_done(void *arg)
{
	*(bool *)arg = true;
}

int dnsask_run(struct dnsask_q *qs, size_t n)
{
	struct event_base *base = event_base_new();
	struct dnsask *a = NULL;
	bool done = false;
	int r;

	if (base == NULL)
		return ERR_NOMEM;
	r = dnsask_start(base, qs, n, run_done, &done, &a);
	while (r == 0 && !done) {
		if (event_base_loop(base, EVLOOP_ONCE) < 0) {
			dnsask_cancel(a);
			break;
		}
	}
	event_base_free(base);
	return r == 0 && !done ? ERR_IO : r;
}

void dnsask_q_clear(struct dnsask_q *q)
{
	free(q->resp);
	q->resp = NULL;
	q->resp_len = 0;
}
