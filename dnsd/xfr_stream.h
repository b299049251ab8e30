/*
 * xfr_stream.h: the messages of one outgoing zone transfer, built one at a
 * time so a worker can send them as its socket drains.
 *
 * AXFR (RFC 5936 §2.2): the zone's SOA, every other record of the image,
 * the SOA again. IXFR (RFC 1995 §4) from a condensed difference: the new
 * SOA, the old SOA, the deleted records, the new SOA, the added records,
 * the new SOA. An IXFR the journal cannot serve is sent in AXFR form with
 * the IXFR question (RFC 1995 §4). Each message holds as many whole records
 * as fit in 65535 octets (compressed), the first one echoes the question,
 * every one has AA set and, when the request was signed, its own TSIG
 * chained on the previous one (RFC 8945 §5.3.1). The stream holds a
 * reference to the zone image, so the image outlives a reload for as long
 * as the transfer runs.
 */
#ifndef XFR_STREAM_H
#define XFR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"
#include "tsig.h"

struct zone;
struct ixfr_diff;
struct xfr_stream;

/* What the responses echo from the request, and how they are signed. */
struct xfr_stream_req {
	uint16_t id;
	uint8_t qname[DNAME_MAXLEN]; /* as asked (case kept) */
	uint16_t qtype, qclass;
	bool edns;	      /* the request had OPT: every message carries ours */
	uint16_t edns_size;   /* our payload size for that OPT */
	uint16_t edns_flags;  /* DO as requested */
	struct tsig_ctx tsig; /* key NULL: unsigned */
};

/*
 * The nodes of one image in canonical order (RFC 4034 §6.1), shared by
 * every AXFR of that image. Secondaries load sorted input much faster
 * (Knot's secondary took 2.2x longer to bootstrap a 1M-record zone sent in
 * hash order than in its own canonical order; sorted, dnsd and Knot tie).
 * Building one is O(n log n) (about 0.3 s per million names): do it on the
 * transfer thread, never on a worker. Reference-counted (atomically); it
 * holds a reference to its zone.
 */
struct xfr_stream_order;

/* Builds the order of z's nodes; one reference. NULL when out of memory. */
struct xfr_stream_order *xfr_stream_order_build(struct zone *z);
void xfr_stream_order_ref(struct xfr_stream_order *o);
void xfr_stream_order_unref(struct xfr_stream_order *o); /* NULL is fine */
const struct zone *xfr_stream_order_zone(const struct xfr_stream_order *o);

/* A stream of the whole zone (takes its own reference to z, and to order
 * when given: the records then go out in canonical order; NULL: in the
 * image's hash order). NULL when out of memory. */
struct xfr_stream *xfr_stream_axfr(struct zone *z, struct xfr_stream_order *order,
				   const struct xfr_stream_req *rq);

/* A stream of a difference (takes a zone reference and owns d). */
struct xfr_stream *xfr_stream_ixfr(struct zone *z, struct ixfr_diff *d,
				   const struct xfr_stream_req *rq);

/*
 * Builds the next message into buf (cap >= 512; messages are at most
 * min(cap, 65535) octets) and signs it when the request was signed.
 * Returns its length, 0 once the stream is complete, or ERR_SPACE when a
 * single record does not fit an empty message (the transfer must end).
 */
int xfr_stream_next(struct xfr_stream *s, uint8_t *buf, size_t cap, uint64_t now);

/*
 * For IXFR over UDP (RFC 1995 §2): the whole stream as one message of at
 * most limit octets if it fits, else the single SOA of the current
 * version (the client then asks over TCP). Returns the length or an error.
 */
int xfr_stream_single(struct xfr_stream *s, uint8_t *buf, size_t cap, size_t limit, uint64_t now);

/* Records and messages produced so far, and whether it is an IXFR
 * difference (false: the whole zone). */
size_t xfr_stream_records(const struct xfr_stream *s);
size_t xfr_stream_messages(const struct xfr_stream *s);
bool xfr_stream_is_diff(const struct xfr_stream *s);

/* The zone being sent. */
const struct zone *xfr_stream_zone(const struct xfr_stream *s);

/* Drops the zone reference and the difference. NULL is fine. */
void xfr_stream_free(struct xfr_stream *s);

#endif
