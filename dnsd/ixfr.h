/*
 * ixfr.h: the differences between two serials of a zone, read from the
 * change journal (schema: changes / change_records), for IXFR out
 * (RFC 1995).
 *
 * The journal holds one changes row per committed change, chained by
 * serial_before -> serial_after, and per change the records deleted and
 * added (the SOA's old and new versions included). ixfr_diff_build walks
 * the chain that ends at the served image's serial back to the client's
 * serial and condenses it into one difference (RFC 1995 §4 allows a single
 * condensed sequence): a record deleted then re-added with the same TTL
 * vanishes from the diff, one added then deleted too. It runs on a
 * transfer thread with its own read-only connection, never on a worker.
 */
#ifndef IXFR_H
#define IXFR_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct zone;

/* One record of a difference; owner and rd point into the diff's memory. */
struct ixfr_rr {
	const uint8_t *owner; /* lower-case wire name */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rd; /* uncompressed wire RDATA */
};

struct ixfr_diff {
	uint32_t from, to;	   /* serials: the client's and the image's */
	struct ixfr_rr old_soa;	   /* the SOA at serial from (from the journal) */
	struct ixfr_rr *del, *add; /* records to delete / add, SOA excluded */
	size_t ndel, nadd;
	size_t nchanges; /* journal changes condensed */
	void *mem;	 /* owned allocations (internal) */
};

/*
 * Builds the difference from serial from to the serial of image z (the
 * zone's journal as zones.id z was built from). Returns 0 with *out (free
 * with ixfr_diff_free), ERR_NOTFOUND when the journal does not cover the
 * way from there (rows deleted by retention, the zone re-created, a gap in
 * the chain: the caller falls back to AXFR, and err says why), ERR_RANGE
 * when the difference is larger than the zone itself (AXFR is cheaper), or
 * ERR_DB / ERR_MALFORMED / ERR_NOMEM with err set.
 */
int ixfr_diff_build(struct sqlite3 *db, const struct zone *z, uint32_t from, struct ixfr_diff **out,
		    char *err, size_t errcap);

void ixfr_diff_free(struct ixfr_diff *d);

#endif
