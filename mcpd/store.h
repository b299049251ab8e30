/*
 * store.h: mcpd's zone store: canonical records, validated changes, one
 * write transaction per change, the SOA serial bump and the journal.
 *
 * A change is built from records in any accepted text form (names relative
 * to the zone or absolute, any case; types as mnemonics or TYPEnnn; rdata
 * in presentation form) and canonicalized through the codec as it is added:
 * every error found is kept with the label of the record it concerns
 * ("records[2] (MX 'mail'): MX preference: 'x' is not a number"), and
 * store_commit() refuses a change that has any. store_commit() then, inside
 * one BEGIN IMMEDIATE transaction, reads the current state of the names the
 * change touches, applies the change in memory, validates the result
 * (names in the zone, CNAME/DNAME rules, apex SOA and NS, RRset TTLs, size
 * limits), and either reports the exact diff (dry run: nothing written) or
 * writes records, the new serial and the journal rows and commits.
 *
 * Errors: every function that can fail returns 0 or a negative enum err
 * and fills res->error with sentences meant for the person or model that
 * sent the change: ERR_INVALID (the change is wrong), ERR_NOTFOUND (no such
 * zone, record or change), ERR_EXISTS (zone exists), ERR_CONFLICT (the
 * zone moved past expected_serial, or a revert no longer applies), ERR_DB
 * (SQLite failed; SQLITE_BUSY is retried before it ever gets here).
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dname.h"

struct sqlite3;

#define STORE_TTL_MAX		 2147483647u /* RFC 2181 §8 */
#define STORE_TOOL_MAX_RECORDS	 10000	     /* records per change from a tool */
#define STORE_IMPORT_MAX_RECORDS 200000	     /* records per import_zone tool call */
#define STORE_DATA_TEXT_MAXLEN	 262144	     /* rdata text of one record */
/* A record must fit a TCP answer: header (12) + question (<= 259) + owner
 * pointer (2) + type/class/ttl/rdlength (10) + rdata <= 65535. */
#define STORE_RDATA_MAXLEN    (65535 - 12 - 259 - 2 - 10)
#define STORE_MAX_ERRORS      20   /* errors reported per refused change */
#define STORE_RESULT_LIST_MAX 5000 /* added/removed entries returned */
#define STORE_REASON_MAXLEN   1000
#define STORE_BUSY_RETRIES    8 /* on top of DB_BUSY_TIMEOUT_MS */
#define STORE_DEFAULT_TTL     3600
#define STORE_DEFAULT_REFRESH 7200
#define STORE_DEFAULT_RETRY   3600
#define STORE_DEFAULT_EXPIRE  1209600
#define STORE_DEFAULT_MINIMUM 300
/* Journal retention (store_retention): changes kept per zone by default,
 * about a year of daily edits or a busy day of agent edits; IXFR from
 * further back falls back to AXFR (RFC 1995 §4), so this bounds the
 * database, never correctness. */
#define STORE_DEFAULT_JOURNAL_KEEP 1000
#define STORE_JOURNAL_KEEP_MAX	   100000000 /* journal-keep upper bound */
#define STORE_JOURNAL_DAYS_MAX	   36500     /* journal-keep-days upper bound */

/* One record in canonical text, as stored in the records table. */
struct store_rr {
	char *name;    /* absolute, lower-case, trailing dot; malloc'd */
	uint16_t type; /* RR type number */
	uint32_t ttl;  /* 0..STORE_TTL_MAX */
	char *data;    /* canonical presentation (rdata_print); malloc'd */
};

/* What a commit (or dry run) did or would do. */
struct store_result {
	char zone[DNAME_TEXT_MAXLEN]; /* canonical zone name */
	uint32_t serial_before;	      /* 0 with created */
	uint32_t serial;	      /* the serial after the change (or unchanged) */
	bool created;		      /* the change created the zone */
	bool deleted;		      /* the change deleted the zone */
	bool committed;		      /* something was written (false: dry run or no-op) */
	long long change_id;	      /* journal id, 0 when nothing was written */
	struct store_rr *added;	      /* at most STORE_RESULT_LIST_MAX of them */
	size_t nadded, added_total;   /* listed / real count */
	struct store_rr *removed;
	size_t nremoved, removed_total;
	size_t unchanged; /* records in the change already present as given */
	size_t pruned;	  /* old journal changes deleted by retention */
	char **warnings;  /* notes that did not stop the change; malloc'd */
	size_t nwarnings;
	char *error; /* malloc'd, newline-separated sentences; NULL on success */
	int nerrors; /* number of sentences in error */
};

/*
 * Journal retention, applied by every commit that writes a journal row,
 * inside its transaction, right after the row: the zone's oldest changes
 * beyond the newest keep, and those older than keep_days days, are deleted
 * (their change_records go through ON DELETE CASCADE). The deleted rows
 * are always a prefix of the zone's journal (by id), so what stays is a
 * contiguous chain that IXFR and incremental reloads can still use; the
 * row just written is never deleted.
 */
struct store_retention {
	unsigned keep;	    /* newest changes kept per zone; 0 = keep all */
	unsigned keep_days; /* delete changes older than this many days; 0 = no age limit */
};

/* How a change is committed. */
struct store_opts {
	const char *actor;	  /* journal actor: token name or "admin" */
	const char *tool;	  /* journal tool: "add_records", "import", ... */
	const char *reason;	  /* journal reason (may be NULL) */
	bool dry_run;		  /* compute and report, write nothing */
	bool has_expected;	  /* refuse unless the zone is at expected_serial */
	uint32_t expected_serial; /* see has_expected */
	size_t max_records;	  /* ops per change; 0 = unlimited (admin import) */
	/* journal retention for this commit (borrowed); NULL: the process
	 * default (store_set_retention), so callers that zero their options
	 * get the daemon's configured policy */
	const struct store_retention *retention;
};

struct store_change;

/*
 * Starts a change for zone (any case, trailing dot optional). Returns NULL
 * on allocation failure only; a bad zone name is recorded as an error of
 * the change (see store_change_errors). Owned by the caller:
 * store_change_free().
 */
struct store_change *store_change_new(const char *zone);
void store_change_free(struct store_change *ch);

/* The canonical zone name of the change ("" when the name was invalid). */
const char *store_change_zone(const struct store_change *ch);

/* Number of errors recorded so far while adding records. */
int store_change_errors(const struct store_change *ch);

/*
 * Records one operation. label names it in messages ("records[2]").
 * name: relative to the zone ("www", "@") or absolute ("www.example.com.").
 * type: mnemonic or TYPEnnn. data: presentation rdata (relative names are
 * relative to the zone); NULL in store_change_del means every record of the
 * RRset (name, type). ttl: NULL for "unset" (the RRset's current TTL, else
 * the zone default), else a decimal number or a TTL with units ("1h").
 * Problems are recorded in the change (store_change_errors), never
 * returned: the caller adds everything, then commits, and gets every error
 * at once. The return value is ERR_NOMEM or 0.
 */
int store_change_add(struct store_change *ch, const char *label, const char *name, const char *type,
		     const char *ttl, const char *data);
int store_change_del(struct store_change *ch, const char *label, const char *name, const char *type,
		     const char *data);

/* Deletes every record of the RRset (name, type) if any (set_rrset). */
int store_change_clear_rrset(struct store_change *ch, const char *label, const char *name,
			     const char *type);

/*
 * Records a record error found by the caller (e.g. a JSON field of the
 * wrong type) so it is reported with the others: "<label>: <msg>".
 */
void store_change_error(struct store_change *ch, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Adds every record of a master file (RFC 1035 §5) to the change, origin
 * the zone. replace: the zone's content becomes exactly the file's
 * (records not in the file are deleted; the SOA must be in the file).
 * Records of one RRset with different TTLs get the first one's TTL (as
 * BIND does) and a warning. Syntax errors are recorded with their line.
 */
int store_change_load_text(struct store_change *ch, const char *text, size_t len, bool replace);

/*
 * Makes the change create the zone when it does not exist (its SOA and NS
 * must be in the change); with must_not_exist, an existing zone is an
 * error (create_zone). policy: "increment" or "date"; default_ttl for
 * records without one.
 */
void store_change_set_create(struct store_change *ch, bool must_not_exist, const char *policy,
			     uint32_t default_ttl);

/*
 * Makes the change a revert: the inverse of journal change change_id (>0),
 * or of every change after the one that produced to_serial (change_id 0).
 * The inverse is computed inside the transaction and applied as a new
 * change; ERR_CONFLICT when a record involved has changed since.
 */
void store_change_set_revert(struct store_change *ch, long long change_id, uint32_t to_serial);

/* Validates and commits (or dry-runs) the change; see the top of this
 * file. res must be zeroed or cleared; the caller frees it with
 * store_result_clear() in every case. */
int store_commit(struct sqlite3 *db, struct store_change *ch, const struct store_opts *o,
		 struct store_result *res);

/* Deletes zone and all its records, journaling each removed record. */
int store_delete_zone(struct sqlite3 *db, const char *zone, const struct store_opts *o,
		      struct store_result *res);

void store_result_clear(struct store_result *res);

/*
 * Canonical zone name: parses zone (any case, trailing dot optional; "."
 * refused: we do not serve the root) into out (text, DNAME_TEXT_MAXLEN)
 * and wire (may be NULL). Returns 0 or a negative error with msg set.
 */
int store_zone_canon(const char *zone, char *out, uint8_t *wire, char *msg, size_t msgcap);

/* Zone row, read outside any change. */
struct store_zone {
	long long id;
	char name[DNAME_TEXT_MAXLEN];
	uint32_t serial;
	char policy[16];
	uint32_t default_ttl;
	char created_at[32], updated_at[32];
};

/* Looks zone up (any accepted form). 0, ERR_NOTFOUND, ERR_INVALID, ERR_DB. */
int store_zone_get(struct sqlite3 *db, const char *zone, struct store_zone *z);

/*
 * Every record of a zone, sorted for presentation: the SOA first, then
 * owner names in DNSSEC canonical order (RFC 4034 §6.1), type number,
 * data. *out is malloc'd (free with store_rr_free_array). 0 or an error.
 */
int store_zone_records(struct sqlite3 *db, long long zone_id, struct store_rr **out, size_t *n);
void store_rr_free_array(struct store_rr *rrs, size_t n);

/*
 * The zone as an RFC 1035 master file: absolute names, no $ORIGIN, one
 * record per line, SOA first, sorted as store_zone_records. *text is
 * malloc'd. 0 or an error.
 */
int store_export(struct sqlite3 *db, const char *zone, char **text, size_t *len);

/* One record as a master-file line into buf ("www.example.com. 300 IN A
 * 192.0.2.1"). Returns the length or ERR_SPACE. */
int store_rr_line(const struct store_rr *rr, char *buf, size_t cap);

/*
 * The next serial after cur under policy ("increment" or "date",
 * YYYYMMDDnn from now in UTC). Never returns 0 (some tools treat serial 0
 * as "unset"; RFC 1982 arithmetic skips over it harmlessly), and never
 * goes backwards in RFC 1982 terms: a date serial that would not be
 * greater than cur falls back to cur + 1.
 */
uint32_t store_next_serial(uint32_t cur, const char *policy, time_t now);

/*
 * The process-wide default retention used when store_opts.retention is
 * NULL; r NULL restores the built-in default (STORE_DEFAULT_JOURNAL_KEEP
 * changes, no age limit). Not thread-safe: call it at start-up (mcpd sets
 * it from journal-keep / journal-keep-days before serving).
 */
void store_set_retention(const struct store_retention *r);

/* The current process-wide default retention. */
void store_get_retention(struct store_retention *r);

/* Test hook: the clock store_commit uses for date serials and for the
 * age limit of journal retention (NULL = time()). */
void store_set_clock(time_t (*clock_fn)(void));

/* Runs fn inside BEGIN IMMEDIATE ... COMMIT with busy retries (used by the
 * admin token commands). fn returns 0 to commit or an error to roll back. */
int store_write_txn(struct sqlite3 *db, int (*fn)(struct sqlite3 *db, void *arg), void *arg);

#endif
