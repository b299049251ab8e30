/*
 * reload.h: which zoneset the workers answer from, and how it changes.
 *
 * The current zoneset is one pointer. Workers read it once per batch of
 * requests (reload_enter) and, when the batch is done, announce that they
 * no longer hold anything they read (reload_quiesce). A dedicated reload
 * thread, with its own read-only SQLite connection, builds new zone images
 * off the workers' loops, publishes a new zoneset with one atomic store and
 * frees the old set once every worker has announced a quiescent state after
 * the store (quiescent-state-based reclamation, see reload.c).
 *
 * The reload thread reacts to: NOTIFY (reload_request_zone, from workers),
 * SIGHUP (reload_request_all, from main), its own timer (every
 * check-interval seconds a cheap "SELECT name, serial FROM zones" against
 * the loaded images: new zones appear, deleted ones vanish, changed ones
 * reload) and reload_stop.
 */
#ifndef RELOAD_H
#define RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct reload;
struct xfr;
struct zoneset;

/* Called by the reload thread to make worker i pass a quiescent state soon
 * (wake its loop); must be safe from another thread. */
typedef void (*reload_wake_fn)(void *arg, int worker);

/*
 * Opens db_path read-only (db_open with DB_READONLY) and prepares for
 * nworkers readers. mg receives the reload counters (not owned, may be
 * NULL). Returns NULL with a sentence in err.
 */
struct reload *reload_new(const char *db_path, int nworkers, unsigned check_interval,
			  struct metrics_global *mg, char *err, size_t errcap);

/*
 * Loads every zone of the database and publishes the set; called once by
 * main before the workers and the thread start (no readers yet). With
 * check_only, builds every zone, logs each failure and publishes nothing.
 * Returns the number of zones that failed to build, or -1 when the database
 * could not be read at all (logged).
 */
int reload_load_all(struct reload *r, bool check_only);

/* Connects the transfer service (call before reload_load_all): the reload
 * thread refreshes its zone_settings after every reload or check, and
 * tells it about every zone whose serial changed once the new image is
 * published (NOTIFY out). */
void reload_set_xfr(struct reload *r, struct xfr *x);

/* Starts the reload thread; wake/arg make idle workers quiesce. 0 or -1. */
int reload_start(struct reload *r, reload_wake_fn wake, void *wake_arg);

/* Schedules a reload of one zone ("example.com.", lower-case). Duplicates
 * pending at the same time coalesce into one reload. Any thread; cheap. */
void reload_request_zone(struct reload *r, const char *zone);

/* Schedules a full reload of every zone (SIGHUP). Any thread. */
void reload_request_all(struct reload *r);

/* Stops and joins the reload thread (pending work is abandoned). Workers
 * must already be offline (reload_offline) or still quiescing. */
void reload_stop(struct reload *r);

/* Frees the current set and the connection; the thread must be stopped. */
void reload_free(struct reload *r);

/* --- worker side (worker is 0..nworkers-1) --- */

/* Marks the worker as a reader; call in the worker thread before its loop. */
void reload_online(struct reload *r, int worker);

/* Marks the worker as holding nothing forever (thread exiting). */
void reload_offline(struct reload *r, int worker);

/* The zoneset to answer the current batch from. Valid until the worker's
 * next reload_quiesce. */
const struct zoneset *reload_enter(struct reload *r);

/* The worker holds no zoneset pointer any more (end of a batch). */
void reload_quiesce(struct reload *r, int worker);

/* Lists loaded zones for metrics (a metrics_zone_lister; arg is the
 * struct reload). Safe from any thread. */
void reload_list_zones(void *arg, metrics_zone_emit emit, void *ctx);

/* Number of zones being served (any thread). */
size_t reload_zone_count(struct reload *r);

#endif
