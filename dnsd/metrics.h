/*
 * metrics.h: counters and their Prometheus text exposition.
 *
 * Each worker thread owns a struct metrics_worker and is its only writer, so
 * the hot path costs one plain load and store per counter (relaxed atomics:
 * no lock prefix, no shared cache line with other workers). A scrape sums
 * the workers' counters with relaxed loads: a sum may be a few queries
 * behind, never torn. Counters from the reload thread live in struct
 * metrics_global and use fetch_add (rare events).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp;

/* Query types counted by name; everything else is "other". */
#define METRICS_QTYPE_N 21
#define METRICS_RCODE_N 24 /* rcodes 0..22 by value (BADVERS is 16), 23 = other */

struct metrics_worker {
	/* 64-byte aligned (and so sized): no cache line shared between workers */
	_Alignas(64) _Atomic uint64_t qtype[METRICS_QTYPE_N]; /* answered queries by QTYPE */
	_Atomic uint64_t rcode[METRICS_RCODE_N];	      /* responses by rcode */
	_Atomic uint64_t udp_queries;			      /* datagrams received */
	_Atomic uint64_t tcp_queries;			      /* messages read from TCP */
	_Atomic uint64_t truncated;			      /* responses with TC set */
	_Atomic uint64_t dropped;			      /* requests answered with silence */
	_Atomic uint64_t ratelimited;	    /* error replies dropped by the limit */
	_Atomic uint64_t send_errors;	    /* UDP sends that failed */
	_Atomic uint64_t notify_accepted;   /* NOTIFYs that scheduled a reload */
	_Atomic uint64_t notify_refused;    /* NOTIFYs refused (source or zone) */
	_Atomic uint64_t tcp_accepted;	    /* TCP connections accepted */
	_Atomic uint64_t tcp_current;	    /* open TCP connections now (gauge) */
	_Atomic uint64_t tcp_timeouts;	    /* connections closed idle */
	_Atomic uint64_t tcp_accept_paused; /* times accepting paused (cap, EMFILE) */
};

struct metrics_global {
	_Atomic uint64_t reloads_ok;	      /* zone images built and swapped in */
	_Atomic uint64_t reloads_incremental; /* ... of which from the journal */
	_Atomic uint64_t reloads_failed;      /* builds that failed (old image kept) */
	_Atomic uint64_t zones_removed;	      /* zones dropped because deleted in the DB */
	_Atomic uint64_t checks;	      /* serial checks against the DB */
};

/* Called on a scrape to list loaded zones: emit() once per zone. */
typedef void (*metrics_zone_emit)(void *ctx, const char *zone, uint32_t serial, size_t records);
typedef void (*metrics_zone_lister)(void *arg, metrics_zone_emit emit, void *ctx);

struct metrics {
	struct metrics_worker *workers; /* array of nworkers, not owned */
	int nworkers;
	struct metrics_global global;
	metrics_zone_lister list_zones; /* may be NULL */
	void *list_arg;
	struct evhttp *http; /* the listener, when started */
};

/* Increments a counter owned by the calling thread (single writer). */
static inline void metrics_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline void metrics_dec(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - 1,
			      memory_order_relaxed);
}

/* Counts one answered query of qtype with rcode. */
void metrics_count_answer(struct metrics_worker *w, uint16_t qtype, int rcode);

/* Writes the Prometheus text exposition (format 0.0.4) into a malloc'ed,
 * NUL-terminated string (caller frees), or NULL when out of memory. */
char *metrics_render(struct metrics *m);

/*
 * Starts the HTTP listener on base (the main thread's loop): GET /metrics
 * answers the exposition, anything else 404. fd is a bound, listening TCP
 * socket (bound before privileges are dropped). Returns 0 or -1 (logged).
 */
int metrics_http_start(struct metrics *m, struct event_base *base, int fd);
void metrics_http_stop(struct metrics *m);

#endif
