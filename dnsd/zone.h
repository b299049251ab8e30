/*
 * zone.h: immutable in-memory images of zones, and sets of them.
 *
 * A struct zone is built once (from SQLite, fully or from the previous image
 * plus the change journal) and never modified afterwards, so worker threads
 * answer from it without locks. Zones are reference-counted (atomically):
 * a zoneset holds one reference per zone, and reloading one zone builds a new
 * zoneset that shares every other zone with the old one.
 */
#ifndef ZONE_H
#define ZONE_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct zone;
struct zoneset;

/*
 * Builds the image of the zone named name_text ("example.com.") from db in
 * one read transaction. Returns NULL with a sentence in err when the zone is
 * missing or any record fails to parse (the sentence names the record and
 * why). The result has one reference.
 */
struct zone *zone_build_from_db(struct sqlite3 *db, const char *name_text, char *err,
				size_t errcap);

/*
 * Builds a new image from old plus the journal rows of changes whose
 * serial_before chain starts at old's serial and ends at the zone's current
 * serial. Returns NULL (err says why) when the journal does not cover the
 * gap; the caller then falls back to zone_build_from_db.
 * (Also NULL when the zone was re-created (new zones.id), when a journal row
 * deletes a record the image lacks, or when the journal is larger than half
 * the zone. When nothing changed since old, returns old with one more
 * reference.)
 */
struct zone *zone_update_from_journal(struct sqlite3 *db, const struct zone *old, char *err,
				      size_t errcap);

const char *zone_name_text(const struct zone *z); /* "example.com." */
const uint8_t *zone_name_wire(const struct zone *z);
uint32_t zone_serial(const struct zone *z);
size_t zone_record_count(const struct zone *z);

void zone_ref(struct zone *z);
void zone_unref(struct zone *z); /* frees at zero */

/* Added by the zone owner (additions only; the signatures above are the
 * contract). */

/* Nodes in the image, empty non-terminals included. */
size_t zone_node_count(const struct zone *z);

/* Called once per record: owner (lower-case wire), type, TTL and the
 * uncompressed wire RDATA. Return non-zero to stop the walk. */
typedef int (*zone_rr_cb)(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
			  const uint8_t *rdata, uint16_t rdlen);

/*
 * Walks every record of the image (for AXFR, exports and tests), in no
 * particular order: nodes in hash order, RRsets by type, records in
 * canonical RDATA order. Returns 0 or the callback's non-zero value.
 */
int zone_foreach(const struct zone *z, zone_rr_cb cb, void *arg);

/*
 * Compares two images record for record, including empty non-terminals,
 * per-record TTLs, the serial and the negative TTL. Returns 0 when they
 * are equal, 1 otherwise with a sentence in why (for tests: a journal
 * update must equal a full build).
 */
int zone_compare(const struct zone *a, const struct zone *b, char *why, size_t cap);

/* New set holding a reference to each of zones[0..n) (the caller keeps its
 * own references). */
struct zoneset *zoneset_new(struct zone *const *zones, size_t n);

/* New set equal to old with z added, or replacing the zone of the same name. */
struct zoneset *zoneset_with(const struct zoneset *old, struct zone *z);

/* New set equal to old without the zone named name_text (may be absent). */
struct zoneset *zoneset_without(const struct zoneset *old, const char *name_text);

/* The zone that is the closest encloser of qname (deepest zone at or above
 * it), or NULL. */
const struct zone *zoneset_find(const struct zoneset *zs, const uint8_t *qname);

/* Exact zone by name ("example.com."), or NULL. */
struct zone *zoneset_get(const struct zoneset *zs, const char *name_text);

size_t zoneset_count(const struct zoneset *zs);
struct zone *zoneset_at(const struct zoneset *zs, size_t i);

void zoneset_free(struct zoneset *zs); /* drops its zone references */

#endif
