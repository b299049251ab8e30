/*
 * xfr.c: transfer settings, the transfer thread, NOTIFY out (xfr.h).
 *
 * Locking. The settings snapshot (struct settings) is replaced whole by the
 * reload thread under the write side of a rwlock and read by workers under
 * the read side, only when a transfer is requested, so queries never touch
 * it. Everything else here belongs to the transfer thread: its event loop,
 * its SQLite connection and the NOTIFYs in flight. Other threads talk to it
 * through two queues (IXFR jobs, NOTIFY requests) under one mutex and an
 * eventfd that wakes its loop.
 *
 * NOTIFY out (RFC 1996). One UDP socket per (zone, peer) in flight, so a
 * reply is matched by the socket it arrives on plus source address, ID,
 * opcode and question (notify_match_reply). Signed NOTIFYs expect signed
 * replies: a reply that fails verification is ignored like a stray packet
 * (it may be forged), except an unsigned NOTAUTH carrying a TSIG error,
 * which is the peer telling us it refuses our key (logged as such). An
 * unsigned NOERROR to a signed NOTIFY is ignored for the same reason.
 */
#include "xfr.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "db.h"
#include "dconf.h"
#include "err.h"
#include "ixfr.h"
#include "log.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "tsig.h"
#include "xfr_stream.h"
#include "zone.h"
#include "zone_int.h"

#define SOA_RD_MAX	  (2 * DNAME_MAXLEN + 20)
#define NOTIFY_MSG_MAX	  1232
#define BADROWS_MAX	  256
#define NOTIFY_FIRST_WAIT 1 /* seconds before the first resend; doubles */

struct peer {
	struct sockaddr_storage ss;
	socklen_t len;
	const struct tsig_key *key;	    /* NULL: unsigned */
	char text[DNAME_TEXT_MAXLEN + 100]; /* "127.0.0.1:53 key xfr-key." */
};

struct zset {
	char *zone;	  /* canonical name, owned */
	struct acl allow; /* 'allow-transfer' rows */
	bool has_allow;	  /* any row (even a bad one): no fallback to defaults */
	struct peer *sec; /* 'secondary' rows that parsed */
	size_t nsec, capsec;
	bool has_sec;
};

struct settings {
	struct zset *v; /* sorted by zone */
	size_t n, cap;
};

struct notify_req {
	uint8_t zone[DNAME_MAXLEN];
	char ztext[DNAME_TEXT_MAXLEN];
	uint32_t serial;
	uint8_t soa[SOA_RD_MAX];
	uint16_t soalen;
	struct notify_req *next;
};

/* One NOTIFY in flight to one peer. */
struct nout {
	struct xfr *x;
	struct nout *prev, *next;
	uint8_t zone[DNAME_MAXLEN];
	char ztext[DNAME_TEXT_MAXLEN];
	uint32_t serial;
	struct peer peer;
	int fd;
	struct event *rev, *tev;
	uint16_t id;
	int tries;
	double t0;
	struct tsig_ctx tsig;
	uint8_t msg[NOTIFY_MSG_MAX];
	size_t msglen;
};

struct xfr {
	const struct dconf *c;
	const struct tsig_keyring *kr;
	struct peer *defsec; /* config 'secondary' */
	size_t ndefsec;

	pthread_rwlock_t lock; /* protects cur */
	struct settings *cur;
	char *badrows[BADROWS_MAX]; /* reload thread only: rows already logged */
	size_t nbadrows;

	pthread_mutex_t qlock; /* protects the queues, stop and running */
	struct xfr_job *jhead, *jtail;
	struct notify_req *nhead, *ntail;
	bool stop, running;

	pthread_t thread;
	bool started;
	struct sqlite3 *db; /* the thread's */
	struct event_base *base;
	int efd;
	struct event *eev;
	struct nout *nouts;
	struct xfr_stream_order *orders[XFR_ORDER_CACHE]; /* the thread's cache */
	size_t next_order;				  /* slot to reuse next */
};

uint64_t xfr_now(void)
{
	return (uint64_t)time(NULL);
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* Settings */

static void settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].zone);
		acl_free(&s->v[i].allow);
		free(s->v[i].sec);
	}
	free(s->v);
	free(s);
}

static int zset_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct zset *)e)->zone);
}

static const struct zset *settings_find(const struct settings *s, const char *zone)
{
	if (s == NULL || s->n == 0)
		return NULL;
	return bsearch(zone, s->v, s->n, sizeof(*s->v), zset_cmp);
}

static void peer_text(struct peer *p)
{
	char a[80];

	dconf_addr_format((const struct sockaddr *)&p->ss, a, sizeof(a));
	if (p->key)
		snprintf(p->text, sizeof(p->text), "%s key %s", a, p->key->name_text);
	else
		snprintf(p->text, sizeof(p->text), "%s", a);
}

/* Resolves a parsed peer's key; -1 when the key is unknown. */
static int peer_from(const struct xfr *x, const struct dconf_peer *dp, struct peer *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, &dp->addr.ss, sizeof(out->ss));
	out->len = dp->addr.len;
	if (dp->key[0]) {
		out->key = tsig_keyring_find(x->kr, dp->key);
		if (out->key == NULL)
			return -1;
	}
	peer_text(out);
	return 0;
}

/* Logs a bad zone_settings row once per content. */
static void bad_row(struct xfr *x, const char *zone, const char *key, const char *value,
		    const char *why)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s\t%s\t%s", zone, key, value);
	for (size_t i = 0; i < x->nbadrows; i++)
		if (strcmp(x->badrows[i], buf) == 0)
			return;
	if (x->nbadrows < BADROWS_MAX) {
		x->badrows[x->nbadrows] = strdup(buf);
		if (x->badrows[x->nbadrows])
			x->nbadrows++;
	}
	log_warnx("zone %s: zone_settings %s '%s' ignored: %s", zone, key, value, why);
}

/* The entry of zone in s (appended: rows come sorted by zone). */
static struct zset *settings_entry(struct settings *s, const char *zone)
{
	struct zset *z;

	if (s->n > 0 && strcmp(s->v[s->n - 1].zone, zone) == 0)
		return &s->v[s->n - 1];
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct zset *nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		s->v = nv;
		s->cap = nc;
	}
	z = &s->v[s->n];
	memset(z, 0, sizeof(*z));
	acl_init(&z->allow);
	z->zone = strdup(zone);
	if (z->zone == NULL)
		return NULL;
	s->n++;
	return z;
}

void xfr_settings_refresh(struct xfr *x, struct sqlite3 *db)
{
	struct settings *s = calloc(1, sizeof(*s)), *old;
	sqlite3_stmt *st = NULL;
	int rc;

	if (s == NULL)
		return;
	/* zones.name is canonical (lower-case, trailing dot: a CHECK in the
	 * schema), so it compares with strcmp against zone_name_text(). */
	if (sqlite3_prepare_v2(db,
			       "SELECT z.name, s.key, s.value FROM zone_settings s "
			       "JOIN zones z ON z.id = s.zone_id "
			       "WHERE s.key IN ('allow-transfer', 'secondary') "
			       "ORDER BY z.name, s.key, s.value",
			       -1, &st, NULL) != SQLITE_OK) {
		log_warnx("transfer settings: cannot read zone_settings: %s", sqlite3_errmsg(db));
		settings_free(s);
		return;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *zone = (const char *)sqlite3_column_text(st, 0);
		const char *key = (const char *)sqlite3_column_text(st, 1);
		const char *value = (const char *)sqlite3_column_text(st, 2);
		struct zset *z;
		char err[256];

		if (!zone || !key || !value)
			continue;
		z = settings_entry(s, zone);
		if (z == NULL)
			goto nomem;
		if (strcmp(key, "allow-transfer") == 0) {
			z->has_allow = true;
			if (strcmp(value, "none") == 0)
				continue; /* an explicit empty list: nobody */
			if (acl_add(&z->allow, value, err, sizeof(err)) != 0)
				bad_row(x, zone, key, value, err);
			else if (z->allow.v[z->allow.n - 1].key[0] &&
				 !tsig_keyring_find(x->kr, z->allow.v[z->allow.n - 1].key))
				bad_row(x, zone, key, value,
					"no such key in tsig-keyfile (the entry matches nobody)");
		} else {
			struct dconf_peer dp;
			struct peer p;

			z->has_sec = true;
			if (strcmp(value, "none") == 0)
				continue; /* an explicit empty list: notify nobody */
			if (dconf_peer_parse(value, 53, &dp, err, sizeof(err)) != 0) {
				bad_row(x, zone, key, value, err);
				continue;
			}
			if (peer_from(x, &dp, &p) != 0) {
				bad_row(x, zone, key, value, "no such key in tsig-keyfile");
				continue;
			}
			if (z->nsec == z->capsec) {
				size_t nc = z->capsec ? z->capsec * 2 : 4;
				struct peer *nv = realloc(z->sec, nc * sizeof(*nv));

				if (nv == NULL)
					goto nomem;
				z->sec = nv;
				z->capsec = nc;
			}
			z->sec[z->nsec++] = p;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("transfer settings: cannot read zone_settings: %s", sqlite3_errmsg(db));
		settings_free(s);
		return;
	}
	pthread_rwlock_wrlock(&x->lock);
	old = x->cur;
	x->cur = s;
	pthread_rwlock_unlock(&x->lock);
	settings_free(old);
	return;
nomem:
	sqlite3_finalize(st);
	log_warnx("transfer settings: out of memory; keeping the previous ones");
	settings_free(s);
}

bool xfr_allowed(void *arg, const struct zone *z, const struct sockaddr *peer,
		 const struct tsig_key *key)
{
	struct xfr *x = arg;
	const struct zset *zs;
	bool ok;

	if (x == NULL || z == NULL || peer == NULL)
		return false;
	pthread_rwlock_rdlock(&x->lock);
	zs = settings_find(x->cur, zone_name_text(z));
	if (zs && zs->has_allow)
		ok = acl_match_key(&zs->allow, peer, key ? key->name : NULL);
	else
		ok = acl_match_key(&x->c->allow_transfer, peer, key ? key->name : NULL);
	pthread_rwlock_unlock(&x->lock);
	return ok;
}

/* ------------------------------------------------------------------ */
/* NOTIFY out */

static const char *rcode_name(int rc)
{
	static const char *const n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					"NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					"NXRRSET", "NOTAUTH", "NOTZONE"};

	return rc >= 0 && rc < (int)(sizeof(n) / sizeof(n[0])) ? n[rc] : "RCODE?";
}

static void nout_free(struct nout *n)
{
	struct xfr *x = n->x;

	if (n->prev)
		n->prev->next = n->next;
	else
		x->nouts = n->next;
	if (n->next)
		n->next->prev = n->prev;
	if (n->rev)
		event_free(n->rev);
	if (n->tev)
		event_free(n->tev);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

static void nout_send(struct nout *n)
{
	struct timeval tv = {NOTIFY_FIRST_WAIT << n->tries, 0};

	if (sendto(n->fd, n->msg, n->msglen, 0, (const struct sockaddr *)&n->peer.ss, n->peer.len) <
		0 &&
	    errno != EAGAIN && errno != ECONNREFUSED)
		log_debug("zone %s: NOTIFY to %s: send: %s", n->ztext, n->peer.text,
			  strerror(errno));
	n->tries++;
	event_add(n->tev, &tv);
}

static void nout_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nout *n = arg;

	(void)fd;
	(void)what;
	if (n->tries >= XFR_NOTIFY_TRIES) {
		log_warnx("zone %s serial %u: NOTIFY to %s: no answer after %d tries (%.0f s); "
			  "the secondary will find the change at its next SOA refresh",
			  n->ztext, n->serial, n->peer.text, n->tries,
			  (mono_ms() - n->t0) / 1000.0);
		nout_free(n);
		return;
	}
	nout_send(n);
}

static void nout_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nout *n = arg;
	uint8_t buf[4096];

	(void)what;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom((int)fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		int rc, v = TSIG_NOERROR;
		char tsigtext[64] = "";

		if (got < 0)
			return; /* EAGAIN, or an ICMP error for an earlier send */
		if (!notify_sockaddr_equal((struct sockaddr *)&from,
					   (const struct sockaddr *)&n->peer.ss))
			continue;
		rc =
		    notify_match_reply(buf, (size_t)got, n->id, OPCODE_NOTIFY, n->zone, RRTYPE_SOA);
		if (rc < 0)
			continue;
		if (n->peer.key) {
			struct tsig_ctx c = n->tsig;

			v = tsig_verify_reply(buf, (size_t)got, &c, xfr_now());
			if (v == ERR_NOTFOUND && rc != RCODE_NOERROR) {
				snprintf(tsigtext, sizeof(tsigtext), ", unsigned");
			} else if (v > 0 && rc == RCODE_NOTAUTH) {
				/* the peer refuses our key (an unsigned TSIG error) */
				snprintf(tsigtext, sizeof(tsigtext), ", TSIG %s",
					 tsig_error_name(v));
			} else if (v != TSIG_NOERROR) {
				log_debug("zone %s: NOTIFY to %s: reply ignored (TSIG %s)",
					  n->ztext, n->peer.text,
					  v > 0 ? tsig_error_name(v) : "missing or unreadable");
				continue;
			}
		}
		if (rc == RCODE_NOERROR)
			log_info("zone %s serial %u: NOTIFY to %s acknowledged after %d tr%s "
				 "(%.0f ms)%s",
				 n->ztext, n->serial, n->peer.text, n->tries,
				 n->tries == 1 ? "y" : "ies", mono_ms() - n->t0,
				 n->peer.key ? ", reply signed" : "");
		else
			log_warnx("zone %s serial %u: NOTIFY to %s answered %s%s after %d tr%s",
				  n->ztext, n->serial, n->peer.text, rcode_name(rc), tsigtext,
				  n->tries, n->tries == 1 ? "y" : "ies");
		nout_free(n);
		return;
	}
}

static void nout_start(struct xfr *x, const struct notify_req *rq, const struct peer *p)
{
	struct nout *n, *o;
	uint16_t id = 0;
	int len;

	/* A newer serial replaces a NOTIFY still in flight to that peer. */
	for (o = x->nouts; o != NULL; o = o->next) {
		if (strcmp(o->ztext, rq->ztext) == 0 &&
		    notify_sockaddr_equal((const struct sockaddr *)&o->peer.ss,
					  (const struct sockaddr *)&p->ss)) {
			log_debug("zone %s: NOTIFY serial %u to %s superseded by serial %u",
				  o->ztext, o->serial, o->peer.text, rq->serial);
			nout_free(o);
			break;
		}
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		log_warnx("zone %s: NOTIFY to %s: out of memory", rq->ztext, p->text);
		return;
	}
	n->x = x;
	n->fd = -1;
	memcpy(n->zone, rq->zone, sizeof(n->zone));
	memcpy(n->ztext, rq->ztext, sizeof(n->ztext));
	n->serial = rq->serial;
	n->peer = *p;
	id = notify_random_id();
	n->id = id;
	len = notify_build_notify(n->msg, sizeof(n->msg), id, rq->zone, rq->soa, rq->soalen);
	if (len > 0 && p->key) {
		n->tsig.key = p->key;
		len = tsig_sign(n->msg, (size_t)len, sizeof(n->msg), &n->tsig, xfr_now(),
				TSIG_NOERROR);
	}
	if (len <= 0) {
		log_warnx("zone %s: cannot build a NOTIFY (%s)", rq->ztext, err_str(len));
		free(n);
		return;
	}
	n->msglen = (size_t)len;
	n->fd = socket(p->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		log_warn("zone %s: NOTIFY to %s: socket", rq->ztext, p->text);
		free(n);
		return;
	}
	n->next = x->nouts;
	if (x->nouts)
		x->nouts->prev = n;
	x->nouts = n;
	n->rev = event_new(x->base, n->fd, EV_READ | EV_PERSIST, nout_read_cb, n);
	n->tev = event_new(x->base, -1, 0, nout_timer_cb, n);
	if (n->rev == NULL || n->tev == NULL || event_add(n->rev, NULL) != 0) {
		log_warnx("zone %s: NOTIFY to %s: out of memory", rq->ztext, p->text);
		nout_free(n);
		return;
	}
	n->t0 = mono_ms();
	nout_send(n);
}

static void notify_zone(struct xfr *x, const struct notify_req *rq)
{
	struct peer *peers = NULL;
	const struct zset *zs;
	size_t n = 0;

	pthread_rwlock_rdlock(&x->lock);
	zs = settings_find(x->cur, rq->ztext);
	if (zs && zs->has_sec) {
		n = zs->nsec;
		if (n)
			peers = malloc(n * sizeof(*peers));
		if (peers)
			memcpy(peers, zs->sec, n * sizeof(*peers));
	} else {
		n = x->ndefsec;
		if (n)
			peers = malloc(n * sizeof(*peers));
		if (peers)
			memcpy(peers, x->defsec, n * sizeof(*peers));
	}
	pthread_rwlock_unlock(&x->lock);
	if (n == 0)
		return;
	if (peers == NULL) {
		log_warnx("zone %s: NOTIFY: out of memory", rq->ztext);
		return;
	}
	for (size_t i = 0; i < n; i++)
		nout_start(x, rq, &peers[i]);
	free(peers);
}

void xfr_zone_changed(struct xfr *x, const struct zone *z)
{
	struct notify_req *rq;
	const uint8_t *rd;
	uint32_t ttl;
	uint16_t rdlen;
	uint64_t one = 1;
	ssize_t w;

	if (x == NULL || z == NULL)
		return;
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return;
	memcpy(rq->zone, z->apex, z->apex_len);
	snprintf(rq->ztext, sizeof(rq->ztext), "%s", z->name_text);
	rq->serial = z->serial;
	zrec_read(zrrset_first(z->apex_node, z->soa), &ttl, &rdlen, &rd);
	if (rdlen <= sizeof(rq->soa)) {
		memcpy(rq->soa, rd, rdlen);
		rq->soalen = rdlen;
	}
	pthread_mutex_lock(&x->qlock);
	if (!x->running) {
		pthread_mutex_unlock(&x->qlock);
		free(rq);
		return;
	}
	if (x->ntail)
		x->ntail->next = rq;
	else
		x->nhead = rq;
	x->ntail = rq;
	pthread_mutex_unlock(&x->qlock);
	w = write(x->efd, &one, sizeof(one));
	(void)w;
}

/* ------------------------------------------------------------------ */
/* Jobs and the thread */

int xfr_submit(struct xfr *x, struct xfr_job *j)
{
	uint64_t one = 1;
	ssize_t w;

	pthread_mutex_lock(&x->qlock);
	if (!x->running || x->stop) {
		pthread_mutex_unlock(&x->qlock);
		return -1;
	}
	zone_ref(j->z);
	j->next = NULL;
	j->diff = NULL;
	j->order = NULL;
	j->result = 0;
	j->why[0] = '\0';
	if (x->jtail)
		x->jtail->next = j;
	else
		x->jhead = j;
	x->jtail = j;
	pthread_mutex_unlock(&x->qlock);
	w = write(x->efd, &one, sizeof(one));
	(void)w;
	return 0;
}

void xfr_job_release(struct xfr_job *j)
{
	if (j == NULL)
		return;
	ixfr_diff_free(j->diff);
	j->diff = NULL;
	xfr_stream_order_unref(j->order);
	j->order = NULL;
	zone_unref(j->z);
	j->z = NULL;
}

/* The canonical order of z's nodes, from the cache or built now; a new
 * image of a zone replaces the cached order of its older image. */
static struct xfr_stream_order *order_get(struct xfr *x, struct zone *z)
{
	struct xfr_stream_order *o;
	size_t slot = x->next_order;
	double t0;

	for (size_t i = 0; i < XFR_ORDER_CACHE; i++) {
		if (x->orders[i] == NULL)
			continue;
		if (xfr_stream_order_zone(x->orders[i]) == z) {
			xfr_stream_order_ref(x->orders[i]);
			return x->orders[i];
		}
		if (strcmp(zone_name_text(xfr_stream_order_zone(x->orders[i])),
			   zone_name_text(z)) == 0)
			slot = i; /* an older image of the same zone */
	}
	t0 = mono_ms();
	o = xfr_stream_order_build(z);
	if (o == NULL)
		return NULL;
	log_debug("zone %s serial %u: %zu nodes sorted for AXFR in %.1f ms", zone_name_text(z),
		  zone_serial(z), zone_node_count(z), mono_ms() - t0);
	if (slot == x->next_order)
		x->next_order = (x->next_order + 1) % XFR_ORDER_CACHE;
	xfr_stream_order_unref(x->orders[slot]);
	x->orders[slot] = o;
	xfr_stream_order_ref(o);
	return o;
}

static void run_job(struct xfr *x, struct xfr_job *j)
{
	double t0 = mono_ms();

	if (!j->axfr) {
		j->result = ixfr_diff_build(x->db, j->z, j->from, &j->diff, j->why, sizeof(j->why));
		log_debug("zone %s: IXFR from %u to %u: %s in %.1f ms", zone_name_text(j->z),
			  j->from, zone_serial(j->z), j->result == 0 ? "difference built" : j->why,
			  mono_ms() - t0);
	}
	if (j->axfr || j->result != 0)
		j->order = order_get(x, j->z);
	j->done(j);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xfr *x = arg;
	struct xfr_job *jobs;
	struct notify_req *reqs;
	uint64_t v;
	ssize_t r = read((int)fd, &v, sizeof(v));
	bool stop;

	(void)r;
	(void)what;
	pthread_mutex_lock(&x->qlock);
	jobs = x->jhead;
	reqs = x->nhead;
	x->jhead = x->jtail = NULL;
	x->nhead = x->ntail = NULL;
	stop = x->stop;
	pthread_mutex_unlock(&x->qlock);
	while (jobs) {
		struct xfr_job *next = jobs->next;

		if (stop) {
			jobs->result = ERR_IO;
			snprintf(jobs->why, sizeof(jobs->why), "shutting down");
			jobs->done(jobs);
		} else {
			run_job(x, jobs);
		}
		jobs = next;
	}
	while (reqs) {
		struct notify_req *next = reqs->next;

		if (!stop)
			notify_zone(x, reqs);
		free(reqs);
		reqs = next;
	}
	if (stop)
		event_base_loopbreak(x->base);
}

static void *xfr_main(void *arg)
{
	struct xfr *x = arg;

	event_base_dispatch(x->base);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle */

struct xfr *xfr_new(const struct dconf *c, const struct tsig_keyring *kr, char *err, size_t errcap)
{
	struct xfr *x = calloc(1, sizeof(*x));
	const struct acl *acls[2] = {&c->allow_transfer, &c->allow_notify};
	const char *names[2] = {"allow-transfer", "allow-notify"};

	if (x == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	x->c = c;
	x->kr = kr;
	x->efd = -1;
	pthread_rwlock_init(&x->lock, NULL);
	pthread_mutex_init(&x->qlock, NULL);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < acls[k]->n; i++) {
			if (acls[k]->v[i].key[0] && !tsig_keyring_find(kr, acls[k]->v[i].key)) {
				char t[DNAME_TEXT_MAXLEN + 80];

				acl_format(acls[k], i, t, sizeof(t));
				snprintf(err, errcap, "%s %s: no such key%s", names[k], t,
					 c->tsig_keyfile ? " in tsig-keyfile"
							 : " (no tsig-keyfile given)");
				xfr_free(x);
				return NULL;
			}
		}
	}
	if (c->nsecondaries > 0) {
		x->defsec = calloc((size_t)c->nsecondaries, sizeof(*x->defsec));
		if (x->defsec == NULL) {
			snprintf(err, errcap, "out of memory");
			xfr_free(x);
			return NULL;
		}
		for (int i = 0; i < c->nsecondaries; i++) {
			if (peer_from(x, &c->secondaries[i], &x->defsec[i]) != 0) {
				char a[80];

				dconf_addr_format(
				    (const struct sockaddr *)&c->secondaries[i].addr.ss, a,
				    sizeof(a));
				snprintf(err, errcap, "secondary %s: no such key%s", a,
					 c->tsig_keyfile ? " in tsig-keyfile"
							 : " (no tsig-keyfile given)");
				xfr_free(x);
				return NULL;
			}
			x->ndefsec++;
		}
	}
	return x;
}

int xfr_start(struct xfr *x, const char *db_path)
{
	char err[512];
	struct event_config *cfg;
	int rc;

	if (db_open(db_path, DB_READONLY, &x->db, err, sizeof(err)) != 0) {
		log_warnx("transfer thread: %s", err);
		return -1;
	}
	cfg = event_config_new();
	if (cfg == NULL)
		return -1;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	x->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (x->base == NULL || x->efd < 0)
		return -1;
	x->eev = event_new(x->base, x->efd, EV_READ | EV_PERSIST, wake_cb, x);
	if (x->eev == NULL || event_add(x->eev, NULL) != 0)
		return -1;
	pthread_mutex_lock(&x->qlock);
	x->running = true;
	pthread_mutex_unlock(&x->qlock);
	rc = pthread_create(&x->thread, NULL, xfr_main, x);
	if (rc != 0) {
		errno = rc;
		log_warn("cannot start the transfer thread");
		pthread_mutex_lock(&x->qlock);
		x->running = false;
		pthread_mutex_unlock(&x->qlock);
		return -1;
	}
	x->started = true;
	return 0;
}

void xfr_stop(struct xfr *x)
{
	uint64_t one = 1;
	ssize_t w;
	size_t inflight = 0;

	if (x == NULL || !x->started)
		return;
	pthread_mutex_lock(&x->qlock);
	x->stop = true;
	pthread_mutex_unlock(&x->qlock);
	w = write(x->efd, &one, sizeof(one));
	(void)w;
	pthread_join(x->thread, NULL);
	x->started = false;
	pthread_mutex_lock(&x->qlock);
	x->running = false;
	pthread_mutex_unlock(&x->qlock);
	/* jobs queued after the loop's last look */
	while (x->jhead) {
		struct xfr_job *j = x->jhead;

		x->jhead = j->next;
		j->result = ERR_IO;
		snprintf(j->why, sizeof(j->why), "shutting down");
		j->done(j);
	}
	x->jtail = NULL;
	while (x->nouts) {
		inflight++;
		nout_free(x->nouts);
	}
	if (inflight)
		log_info("stopping: %zu NOTIFY(s) still unanswered abandoned", inflight);
}

void xfr_free(struct xfr *x)
{
	if (x == NULL)
		return;
	while (x->nouts)
		nout_free(x->nouts);
	while (x->nhead) {
		struct notify_req *n = x->nhead;

		x->nhead = n->next;
		free(n);
	}
	if (x->eev)
		event_free(x->eev);
	if (x->base)
		event_base_free(x->base);
	if (x->efd >= 0)
		close(x->efd);
	if (x->db)
		sqlite3_close(x->db);
	settings_free(x->cur);
	for (size_t i = 0; i < XFR_ORDER_CACHE; i++)
		xfr_stream_order_unref(x->orders[i]);
	for (size_t i = 0; i < x->nbadrows; i++)
		free(x->badrows[i]);
	free(x->defsec);
	pthread_rwlock_destroy(&x->lock);
	pthread_mutex_destroy(&x->qlock);
	free(x);
}
