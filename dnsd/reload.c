/*
 * reload.c: building zone images off the workers' loops and swapping them
 * in without locks on the query path.
 *
 * Publication. r->current is the zoneset every worker answers from. The
 * reload thread is its only writer: it builds a whole new zoneset (sharing
 * unchanged zone images with the old one, zone.h), stores the pointer, and
 * bumps the generation counter r->gen from G-1 to G.
 *
 * Reclamation (quiescent-state-based, as in userspace RCU's QSBR flavour).
 * Each worker owns one slot r->readers[i].qs. A worker loads r->current at
 * the start of a batch of requests (reload_enter) and keeps the pointer only
 * until the batch ends; then it stores the generation it sees into its slot
 * (reload_quiesce). Once every slot holds a generation >= G (or OFFLINE, for
 * a worker that stopped or has not started), no worker can still hold the
 * set that was current before G, so the reload thread frees it. The order
 * of the operations (all sequentially consistent) is what makes this sound:
 *   reloader: store(current, new); G = ++gen;   ...  load(qs[i]) >= G; free(old)
 *   worker:   zs = load(current); use zs; g = load(gen); store(qs[i], g)
 * A worker whose store reports g >= G read gen after the increment, so it
 * had finished with whatever it loaded before, and its next load(current)
 * sees the new set. An idle worker (blocked in epoll) never reaches a
 * quiescent point by itself, so the reloader wakes it (the callback given to
 * reload_start writes to the worker's eventfd) and polls its slot.
 *
 * Requests. NOTIFY names arrive from workers into a small pending list under
 * r->req_lock; duplicates coalesce, and an overfull list degrades to one
 * full serial check. SIGHUP sets pending_all. The thread waits on a
 * CLOCK_MONOTONIC condition variable with a check-interval deadline.
 *
 * Failures. A zone that fails to build keeps its last good image; the error
 * (naming the record, from zone.c) is logged once per serial: the periodic
 * check remembers (name, serial) pairs that failed and does not retry them
 * until the serial moves, while NOTIFY and SIGHUP always retry.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "dname.h"
#include "log.h"
#include "reload.h"
#include "sdnotify.h"
#include "xfr.h"
#include "zone.h"

#define RELOAD_OFFLINE	   UINT64_MAX
#define RELOAD_PENDING_MAX 1024 /* distinct zones queued; beyond: one full check */
#define RELOAD_ERR_MAX	   512

struct reload_reader {
	/* last generation seen at a quiescent point; one cache line each */
	_Alignas(64) _Atomic uint64_t qs;
};

struct failed_zone {
	char *name;	 /* canonical zone name, owned */
	uint32_t serial; /* serial whose build failed */
};

struct zone_row {
	char *name; /* canonical text, owned */
	uint32_t serial;
};

struct reload {
	struct sqlite3 *db; /* read-only; used by one thread at a time */
	int nworkers;
	struct reload_reader *readers; /* nworkers slots */
	_Atomic(struct zoneset *) current;
	_Atomic uint64_t gen;
	pthread_mutex_t pub_lock; /* held while swapping current and listing it */

	pthread_mutex_t req_lock; /* protects everything down to 'started' */
	pthread_cond_t req_cond;
	char **pending; /* zone names, owned */
	size_t npending;
	bool pending_all;   /* SIGHUP: rebuild every zone */
	bool pending_check; /* compare serials with the DB */
	bool stop;
	bool started;
	pthread_t thread;

	unsigned check_interval; /* seconds, 0 = never */
	struct metrics_global *mg;
	reload_wake_fn wake;
	void *wake_arg;
	struct failed_zone *failed; /* reload thread only */
	size_t nfailed;
	struct xfr *xfr; /* transfer settings and NOTIFY out; NULL: none */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void mg_inc(struct reload *r, size_t off)
{
	if (r->mg)
		atomic_fetch_add_explicit((_Atomic uint64_t *)((char *)r->mg + off), 1,
					  memory_order_relaxed);
}
#define MG_INC(r, field) mg_inc((r), offsetof(struct metrics_global, field))

/* --- worker side --- */

void reload_online(struct reload *r, int worker)
{
	atomic_store(&r->readers[worker].qs, atomic_load(&r->gen));
}

void reload_offline(struct reload *r, int worker)
{
	atomic_store(&r->readers[worker].qs, RELOAD_OFFLINE);
}

const struct zoneset *reload_enter(struct reload *r)
{
	return atomic_load(&r->current);
}

void reload_quiesce(struct reload *r, int worker)
{
	uint64_t g = atomic_load(&r->gen);

	/* skip the (fenced) store when nothing changed since the last one */
	if (atomic_load_explicit(&r->readers[worker].qs, memory_order_relaxed) != g)
		atomic_store(&r->readers[worker].qs, g);
}

/* --- publication --- */

/* Waits until every worker passed a quiescent state at or after gen g. */
static void wait_readers(struct reload *r, uint64_t g)
{
	double start = now_ms(), warned = 0;
	int i;

	for (;;) {
		int lagging = 0;

		for (i = 0; i < r->nworkers; i++) {
			uint64_t qs = atomic_load(&r->readers[i].qs);
			if (qs != RELOAD_OFFLINE && qs < g) {
				lagging++;
				if (r->wake)
					r->wake(r->wake_arg, i);
			}
		}
		if (lagging == 0)
			return;
		if (now_ms() - start > 5000 && warned == 0) {
			log_warnx("reload: %d worker(s) slow to pass a quiescent state; old zone "
				  "images stay allocated until they do",
				  lagging);
			warned = 1;
		}
		{
			struct timespec ts = {0, 200 * 1000}; /* 0.2 ms */
			nanosleep(&ts, NULL);
		}
	}
}

/* Makes zs current and frees the previous set once no worker can see it. */
static void publish(struct reload *r, struct zoneset *zs)
{
	struct zoneset *old;
	uint64_t g;

	pthread_mutex_lock(&r->pub_lock);
	old = atomic_exchange(&r->current, zs);
	pthread_mutex_unlock(&r->pub_lock);
	g = atomic_fetch_add(&r->gen, 1) + 1;
	if (old == NULL)
		return;
	wait_readers(r, g);
	zoneset_free(old);
}

void reload_list_zones(void *arg, metrics_zone_emit emit, void *ctx)
{
	struct reload *r = arg;
	struct zoneset *zs;
	size_t i, n;

	/* The reload thread frees only sets that are no longer current, and it
	 * swaps under pub_lock: holding it keeps the current set alive. */
	pthread_mutex_lock(&r->pub_lock);
	zs = atomic_load(&r->current);
	n = zs ? zoneset_count(zs) : 0;
	for (i = 0; i < n; i++) {
		struct zone *z = zoneset_at(zs, i);
		emit(ctx, zone_name_text(z), zone_serial(z), zone_record_count(z));
	}
	pthread_mutex_unlock(&r->pub_lock);
}

size_t reload_zone_count(struct reload *r)
{
	size_t n;

	pthread_mutex_lock(&r->pub_lock);
	n = atomic_load(&r->current) ? zoneset_count(atomic_load(&r->current)) : 0;
	pthread_mutex_unlock(&r->pub_lock);
	return n;
}

/* --- failure memory (reload thread only) --- */

static struct failed_zone *failed_find(struct reload *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfailed; i++)
		if (strcmp(r->failed[i].name, name) == 0)
			return &r->failed[i];
	return NULL;
}

static void failed_forget(struct reload *r, const char *name)
{
	struct failed_zone *f = failed_find(r, name);

	if (f) {
		free(f->name);
		*f = r->failed[--r->nfailed];
	}
}

static void failed_remember(struct reload *r, const char *name, uint32_t serial)
{
	struct failed_zone *f = failed_find(r, name), *nv;

	if (f) {
		f->serial = serial;
		return;
	}
	nv = realloc(r->failed, (r->nfailed + 1) * sizeof(*nv));
	if (nv == NULL)
		return; /* only costs a repeated log line */
	r->failed = nv;
	r->failed[r->nfailed].name = strdup(name);
	if (r->failed[r->nfailed].name == NULL)
		return;
	r->failed[r->nfailed].serial = serial;
	r->nfailed++;
}

/* --- database --- */

/* Canonical text of a zone name as stored ("Example.COM" -> "example.com."),
 * so names compare with strcmp against zone_name_text(). */
static int canonical_name(const char *in, char *out, size_t cap)
{
	uint8_t wire[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};

	if (dname_parse_text(in, strlen(in), root, wire) < 0)
		return -1;
	dname_lower(wire);
	return dname_print(wire, out, cap) < 0 ? -1 : 0;
}

static void rows_free(struct zone_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(rows[i].name);
	free(rows);
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct zone_row *)a)->name, ((const struct zone_row *)b)->name);
}

/* Reads every zone's name and serial, sorted by canonical name. Returns
 * the count or -1 (logged). */
static long read_zone_rows(struct reload *r, struct zone_row **out)
{
	sqlite3_stmt *st = NULL;
	struct zone_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(r->db, "SELECT name, serial FROM zones", -1, &st, NULL) != SQLITE_OK)
		goto dbfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		sqlite3_int64 serial = sqlite3_column_int64(st, 1);
		char canon[DNAME_TEXT_MAXLEN];

		if (name == NULL || canonical_name(name, canon, sizeof(canon)) != 0) {
			log_warnx("database: zone name '%s' is not a valid domain name; ignored",
				  name ? name : "(null)");
			continue;
		}
		if (serial < 0 || serial > 4294967295LL) {
			log_warnx(
			    "database: zone %s has serial %lld outside 0..4294967295; ignored",
			    canon, (long long)serial);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct zone_row *nr = realloc(rows, ncap * sizeof(*nr));
			if (nr == NULL)
				goto nomem;
			rows = nr;
			cap = ncap;
		}
		rows[n].name = strdup(canon);
		if (rows[n].name == NULL)
			goto nomem;
		rows[n].serial = (uint32_t)serial;
		n++;
	}
	if (rc != SQLITE_DONE)
		goto dbfail;
	sqlite3_finalize(st);
	if (n > 1) /* qsort(NULL, 0) is undefined behaviour (C11 §7.22.5) */
		qsort(rows, n, sizeof(*rows), row_cmp);
	*out = rows;
	return (long)n;
nomem:
	log_warnx("reload: out of memory reading the zone list");
	sqlite3_finalize(st);
	rows_free(rows, n);
	return -1;
dbfail:
	log_warnx("reload: cannot read the zone list: %s", sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	rows_free(rows, n);
	return -1;
}

/* The serial of one zone in the DB: 1 found, 0 absent, -1 error. */
static int read_zone_serial(struct reload *r, const char *name, uint32_t *serial)
{
	sqlite3_stmt *st = NULL;
	int rc, found = -1;

	if (sqlite3_prepare_v2(r->db, "SELECT serial FROM zones WHERE name = ?1", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*serial = (uint32_t)sqlite3_column_int64(st, 0);
		found = 1;
	} else if (rc == SQLITE_DONE) {
		found = 0;
	}
out:
	if (found < 0)
		log_warnx("reload: zone %s: cannot read its serial: %s", name,
			  sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return found;
}

/*
 * Builds a new image of zone name. old is the image being served (or NULL);
 * with old and !full the change journal is tried first. Returns the new
 * image (one reference) or NULL; either way the outcome is logged.
 */
static struct zone *rebuild(struct reload *r, const char *name, const struct zone *old, bool full)
{
	char err[RELOAD_ERR_MAX], jerr[RELOAD_ERR_MAX];
	struct zone *z = NULL;
	bool incremental = false;
	double t0 = now_ms();

	err[0] = jerr[0] = '\0';
	if (old && !full) {
		z = zone_update_from_journal(r->db, old, jerr, sizeof(jerr));
		if (z) {
			incremental = true;
		} else {
			log_debug("zone %s: no incremental reload (%s); loading it fully", name,
				  jerr[0] ? jerr : "journal does not cover the change");
		}
	}
	if (z == NULL)
		z = zone_build_from_db(r->db, name, err, sizeof(err));
	if (z == NULL) {
		MG_INC(r, reloads_failed);
		if (old)
			log_warnx("zone %s reload failed, still serving serial %u: %s", name,
				  zone_serial(old), err[0] ? err : "unknown error");
		else
			log_warnx("zone %s not loaded: %s", name, err[0] ? err : "unknown error");
		return NULL;
	}
	MG_INC(r, reloads_ok);
	if (incremental)
		MG_INC(r, reloads_incremental);
	if (old)
		log_info("zone %s reloaded serial %u\xe2\x86\x92%u %s in %.1f ms (%zu records)",
			 name, zone_serial(old), zone_serial(z),
			 incremental ? "incremental" : "full", now_ms() - t0, zone_record_count(z));
	else
		log_info("zone %s loaded serial %u in %.1f ms (%zu records)", name, zone_serial(z),
			 now_ms() - t0, zone_record_count(z));
	return z;
}

/*
 * Converges the served set on the database's zone list. force rebuilds
 * every zone fully (SIGHUP / start-up); otherwise only zones whose serial
 * differs (journal first) and new zones are built. check_only builds and
 * discards. Returns the number of failed builds, or -1 if the list could
 * not be read.
 */
static int converge(struct reload *r, bool force, bool check_only)
{
	struct zoneset *cur = atomic_load(&r->current);
	struct zone_row *rows = NULL;
	struct zone **keep = NULL; /* images of the next set */
	bool *fresh = NULL;	   /* keep[i] carries our own reference */
	bool *moved = NULL;	   /* keep[i] is new or has a new serial: NOTIFY */
	size_t nkeep = 0, i, nrecords = 0;
	long n;
	int failures = 0;
	bool changed = false;
	double t0 = now_ms();

	MG_INC(r, checks);
	n = read_zone_rows(r, &rows);
	if (n < 0)
		return -1;
	keep = calloc((size_t)n + 1, sizeof(*keep));
	fresh = calloc((size_t)n + 1, sizeof(*fresh));
	moved = calloc((size_t)n + 1, sizeof(*moved));
	if (keep == NULL || fresh == NULL || moved == NULL) {
		log_warnx("reload: out of memory");
		failures = -1;
		goto out;
	}
	for (i = 0; i < (size_t)n; i++) {
		const char *name = rows[i].name;
		struct zone *old = cur ? zoneset_get(cur, name) : NULL;
		struct zone *z = NULL;
		struct failed_zone *f;

		if (!force && old && zone_serial(old) == rows[i].serial) {
			keep[nkeep++] = old;
			continue;
		}
		f = failed_find(r, name);
		if (!force && f && f->serial == rows[i].serial) {
			/* already logged; wait for the serial to move */
			failures++;
			if (old)
				keep[nkeep++] = old;
			continue;
		}
		z = rebuild(r, name, old, force);
		if (z == NULL) {
			failures++;
			failed_remember(r, name, rows[i].serial);
			if (old)
				keep[nkeep++] = old;
			continue;
		}
		failed_forget(r, name);
		if (check_only) {
			zone_unref(z);
			continue;
		}
		fresh[nkeep] = true;
		moved[nkeep] = old == NULL || zone_serial(old) != zone_serial(z);
		keep[nkeep++] = z;
		changed = true;
	}
	if (check_only)
		goto out;
	/* Zones loaded but no longer listed were deleted from the database. */
	if (cur) {
		size_t m = zoneset_count(cur);

		for (i = 0; i < m; i++) {
			struct zone *z = zoneset_at(cur, i);
			struct zone_row key = {(char *)zone_name_text(z), 0};

			if (bsearch(&key, rows, (size_t)n, sizeof(*rows), row_cmp) == NULL) {
				log_info("zone %s removed (serial %u): no longer in the database",
					 zone_name_text(z), zone_serial(z));
				MG_INC(r, zones_removed);
				changed = true;
			}
		}
	}
	if (changed || cur == NULL) {
		struct zoneset *next = zoneset_new(keep, nkeep);

		if (next == NULL) {
			log_warnx(
			    "reload: out of memory building the zone set; keeping the old one");
			failures = -1;
			goto out;
		}
		for (i = 0; i < nkeep; i++)
			nrecords += zone_record_count(keep[i]);
		publish(r, next);
		log_debug("reload: serving %zu zones (%zu records); converged in %.1f ms", nkeep,
			  nrecords, now_ms() - t0);
		/* Only now that secondaries would see the new serial. */
		for (i = 0; i < nkeep; i++)
			if (moved[i])
				xfr_zone_changed(r->xfr, keep[i]);
	}
out:
	for (i = 0; keep && i < nkeep; i++)
		if (fresh[i])
			zone_unref(keep[i]);
	free(keep);
	free(fresh);
	free(moved);
	rows_free(rows, (size_t)n);
	return failures;
}

/* Reloads the zones named by NOTIFY, journal first, in one swap. */
static void reload_zones(struct reload *r, char **names, size_t n)
{
	struct zoneset *cur = atomic_load(&r->current), *work = cur;
	struct zone **moved = calloc(n + 1, sizeof(*moved)); /* referenced; NOTIFY them */
	size_t i, nmoved = 0;

	for (i = 0; i < n; i++) {
		struct zone *old = work ? zoneset_get(work, names[i]) : NULL;
		struct zoneset *next = NULL;
		uint32_t serial = 0;
		int found = read_zone_serial(r, names[i], &serial);

		if (found < 0)
			continue;
		if (found == 0) {
			if (old == NULL)
				continue;
			log_info("zone %s removed (serial %u): no longer in the database", names[i],
				 zone_serial(old));
			MG_INC(r, zones_removed);
			next = zoneset_without(work, names[i]);
		} else {
			struct zone *z;

			if (old && zone_serial(old) == serial) {
				log_info("zone %s serial %u already served; nothing to reload",
					 names[i], serial);
				continue;
			}
			z = rebuild(r, names[i], old, false);
			if (z == NULL) {
				failed_remember(r, names[i], serial);
				continue;
			}
			failed_forget(r, names[i]);
			next = work ? zoneset_with(work, z) : zoneset_new(&z, 1);
			if (next != NULL && moved != NULL) {
				zone_ref(z);
				moved[nmoved++] = z;
			}
			zone_unref(z);
		}
		if (next == NULL) {
			log_warnx("reload: out of memory; zone %s keeps its old image", names[i]);
			continue;
		}
		if (work != cur)
			zoneset_free(work); /* an intermediate set nobody saw */
		work = next;
	}
	if (work != cur)
		publish(r, work);
	/* After the swap: a secondary that asks at once sees the new serial. */
	for (i = 0; i < nmoved; i++) {
		xfr_zone_changed(r->xfr, moved[i]);
		zone_unref(moved[i]);
	}
	free(moved);
}

/* --- the thread --- */

static void *reload_main(void *arg)
{
	struct reload *r = arg;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->check_interval;
	pthread_mutex_lock(&r->req_lock);
	while (!r->stop) {
		char **names;
		size_t n, i;
		bool all, check;

		while (!r->stop && !r->pending_all && !r->pending_check && r->npending == 0) {
			int rc;

			if (r->check_interval == 0) {
				pthread_cond_wait(&r->req_cond, &r->req_lock);
				continue;
			}
			rc = pthread_cond_timedwait(&r->req_cond, &r->req_lock, &deadline);
			if (rc == ETIMEDOUT)
				r->pending_check = true;
		}
		if (r->stop)
			break;
		names = r->pending;
		n = r->npending;
		all = r->pending_all;
		check = r->pending_check;
		r->pending = NULL;
		r->npending = 0;
		r->pending_all = r->pending_check = false;
		pthread_mutex_unlock(&r->req_lock);

		if (all) {
			sdnotify_reloading("reloading every zone");
			converge(r, true, false);
			sdnotify("READY=1\nSTATUS=serving %zu zones", reload_zone_count(r));
		} else {
			if (n)
				reload_zones(r, names, n);
			if (check)
				converge(r, false, false);
		}
		if (r->xfr)
			xfr_settings_refresh(r->xfr, r->db);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (all || check) {
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += r->check_interval;
		}
		pthread_mutex_lock(&r->req_lock);
	}
	pthread_mutex_unlock(&r->req_lock);
	return NULL;
}

/* --- life cycle --- */

struct reload *reload_new(const char *db_path, int nworkers, unsigned check_interval,
			  struct metrics_global *mg, char *err, size_t errcap)
{
	struct reload *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int i;

	if (r == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	r->nworkers = nworkers;
	r->check_interval = check_interval;
	r->mg = mg;
	atomic_init(&r->current, NULL);
	atomic_init(&r->gen, 1);
	r->readers = aligned_alloc(64, sizeof(*r->readers) * (size_t)(nworkers > 0 ? nworkers : 1));
	if (r->readers == NULL) {
		snprintf(err, errcap, "out of memory");
		free(r);
		return NULL;
	}
	for (i = 0; i < nworkers; i++)
		atomic_init(&r->readers[i].qs, RELOAD_OFFLINE);
	pthread_mutex_init(&r->pub_lock, NULL);
	pthread_mutex_init(&r->req_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->req_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (db_open(db_path, DB_READONLY, &r->db, err, errcap) != 0) {
		reload_free(r);
		return NULL;
	}
	return r;
}

void reload_set_xfr(struct reload *r, struct xfr *x)
{
	r->xfr = x;
}

int reload_load_all(struct reload *r, bool check_only)
{
	double t0 = now_ms();
	int failures;

	if (r->xfr && !check_only)
		xfr_settings_refresh(r->xfr, r->db);
	failures = converge(r, true, check_only);

	if (failures < 0)
		return -1;
	if (!check_only) {
		struct zoneset *zs = atomic_load(&r->current);
		size_t i, n = zs ? zoneset_count(zs) : 0, rec = 0;

		for (i = 0; i < n; i++)
			rec += zone_record_count(zoneset_at(zs, i));
		log_info("loaded %zu zone%s (%zu records) in %.1f ms%s", n, n == 1 ? "" : "s", rec,
			 now_ms() - t0, failures ? "; some zones failed, see above" : "");
		if (n == 0 && failures == 0)
			log_warnx("the database holds no zones yet: every query gets REFUSED");
	}
	return failures;
}

int reload_start(struct reload *r, reload_wake_fn wake, void *wake_arg)
{
	int rc;

	r->wake = wake;
	r->wake_arg = wake_arg;
	rc = pthread_create(&r->thread, NULL, reload_main, r);
	if (rc != 0) {
		errno = rc;
		log_warn("reload: cannot start the reload thread");
		return -1;
	}
	r->started = true;
	return 0;
}

void reload_request_zone(struct reload *r, const char *zone)
{
	size_t i;

	pthread_mutex_lock(&r->req_lock);
	for (i = 0; i < r->npending; i++)
		if (strcmp(r->pending[i], zone) == 0)
			goto out; /* coalesced */
	if (r->npending >= RELOAD_PENDING_MAX) {
		r->pending_check = true; /* too many distinct zones: compare them all */
		goto out;
	}
	{
		char **nv = realloc(r->pending, (r->npending + 1) * sizeof(*nv));
		char *s = strdup(zone);

		if (nv == NULL || s == NULL) {
			if (nv)
				r->pending = nv;
			free(s);
			r->pending_check = true;
			goto out;
		}
		r->pending = nv;
		r->pending[r->npending++] = s;
	}
out:
	pthread_cond_signal(&r->req_cond);
	pthread_mutex_unlock(&r->req_lock);
}

void reload_request_all(struct reload *r)
{
	pthread_mutex_lock(&r->req_lock);
	r->pending_all = true;
	pthread_cond_signal(&r->req_cond);
	pthread_mutex_unlock(&r->req_lock);
}

void reload_stop(struct reload *r)
{
	if (!r->started)
		return;
	pthread_mutex_lock(&r->req_lock);
	r->stop = true;
	pthread_cond_signal(&r->req_cond);
	pthread_mutex_unlock(&r->req_lock);
	pthread_join(r->thread, NULL);
	r->started = false;
}

void reload_free(struct reload *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (atomic_load(&r->current))
		zoneset_free(atomic_load(&r->current));
	for (i = 0; i < r->npending; i++)
		free(r->pending[i]);
	free(r->pending);
	for (i = 0; i < r->nfailed; i++)
		free(r->failed[i].name);
	free(r->failed);
	if (r->db)
		sqlite3_close(r->db);
	pthread_cond_destroy(&r->req_cond);
	pthread_mutex_destroy(&r->req_lock);
	pthread_mutex_destroy(&r->pub_lock);
	free(r->readers);
	free(r);
}
