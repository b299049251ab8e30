/*
 * xfr.h: dnsd as a primary: who may transfer which zone, the transfer
 * thread that reads the change journal for IXFR, and NOTIFY out to
 * secondaries (RFC 1996) after a zone's serial changed.
 *
 * Settings. Per zone, the zone_settings table may hold 'allow-transfer'
 * rows ("CIDR" or "CIDR key NAME") and 'secondary' rows ("ADDR[:PORT]" or
 * "ADDR[:PORT] key NAME"), or the single value "none" (an explicit empty
 * list); a zone without rows of a key uses the config defaults (dconf.h:
 * allow-transfer, secondary). The reload thread refreshes
 * the table after every reload or serial check (xfr_settings_refresh); the
 * workers consult it (xfr_allowed) under a read lock, only for transfer
 * requests.
 *
 * The thread. One thread with its own libevent loop and its own read-only
 * SQLite connection: it builds IXFR differences and the canonical node
 * order of an image for AXFR (a job in, a callback out: the worker never
 * touches SQLite or sorts a zone; orders are cached for the last
 * XFR_ORDER_CACHE images transferred) and runs every NOTIFY
 * out: UDP, resent after 1, 2, 4, 8 and 16 s (five tries), stopped by any
 * answer (NOTIMP included, RFC 1996 §4.7), signed with the peer's TSIG key
 * when it has one and the reply verified; one log line per peer outcome.
 * A newer serial for the same zone and peer replaces a NOTIFY in flight.
 */
#ifndef XFR_H
#define XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dconf;
struct ixfr_diff;
struct xfr_stream_order;
struct sockaddr;
struct sqlite3;
struct tsig_key;
struct tsig_keyring;
struct zone;
struct xfr;

#define XFR_ORDER_CACHE	 8 /* sorted node orders kept (one per zone image) */
#define XFR_NOTIFY_TRIES 5 /* sends per peer: after 0, 1, 3, 7, 15 s; given up at 31 s */

/* An IXFR job: the worker fills the inputs, the thread the outputs, then
 * calls done (on the transfer thread) exactly once. */
struct xfr_job {
	struct zone *z; /* input: the image to end at (the job holds a reference) */
	bool axfr;	/* input: the whole zone is wanted: only the node order */
	uint32_t from;	/* input: IXFR: the client's serial */
	void (*done)(struct xfr_job *j); /* input: completion, on the transfer thread */
	void *arg;			 /* input: the submitter's */
	int result;		/* output: 0 (diff set), or why not (ERR_NOTFOUND...: AXFR) */
	struct ixfr_diff *diff; /* output, owned by the job's owner now */
	struct xfr_stream_order *order; /* output: for the whole zone (AXFR, or IXFR
					   fallback); one reference, may be NULL */
	char why[256];			/* output: the reason for a fallback, for the log */
	struct xfr_job *next;		/* queue link (internal) */
};

/*
 * Creates the service: config defaults from c (not owned: must outlive the
 * service), keys from kr (may be NULL; not owned). Checks that every key
 * the config names exists. Returns NULL with a sentence in err.
 */
struct xfr *xfr_new(const struct dconf *c, const struct tsig_keyring *kr, char *err, size_t errcap);

/* Opens the thread's read-only connection to db_path and starts the
 * thread. 0 or -1 (logged). */
int xfr_start(struct xfr *x, const char *db_path);

/* Stops the thread: queued jobs complete with ERR_IO, NOTIFYs in flight
 * are abandoned (logged). */
void xfr_stop(struct xfr *x);
void xfr_free(struct xfr *x);

/* Re-reads zone_settings through db (the caller's connection, its thread).
 * Rows that do not parse are logged once and ignored. */
void xfr_settings_refresh(struct xfr *x, struct sqlite3 *db);

/* May peer, signed with key (NULL: unsigned), transfer zone z? A
 * query_xparams.xfr_allowed (arg is the struct xfr). Thread-safe. */
bool xfr_allowed(void *arg, const struct zone *z, const struct sockaddr *peer,
		 const struct tsig_key *key);

/* Queues an IXFR job; the job's zone reference is taken here. Returns 0,
 * or -1 when the thread is not running (the caller then sends AXFR). */
int xfr_submit(struct xfr *x, struct xfr_job *j);

/* Frees a job's outputs and reference (any thread). */
void xfr_job_release(struct xfr_job *j);

/* A new image of z with a changed serial is being served: NOTIFY its
 * secondaries. Any thread; the work happens on the transfer thread. */
void xfr_zone_changed(struct xfr *x, const struct zone *z);

/* Seconds since the epoch (TSIG clock). */
uint64_t xfr_now(void);

#endif
