/*
 * query.h: the protocol core of dnsd. Maps request bytes plus a zoneset to
 * response bytes; no sockets, no clocks, no locks, so golden tests drive it
 * in-process. Every parse outcome is decided here: drop, FORMERR, NOTIMP,
 * REFUSED, NOTAUTH, or an answer (RFC 1034 §4.3.2).
 */
#ifndef QUERY_H
#define QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

struct zoneset;

struct query_params {
	bool tcp;	     /* over TCP: limit 65535, no TC for size */
	bool notify_allowed; /* the source may send NOTIFY (ACL checked by the caller) */
	uint16_t max_udp;    /* our EDNS payload size, e.g. 1232 */
};

struct query_result {
	bool dropped;	/* no response at all (QR=1, < 12 bytes...) */
	int rcode;	/* rcode sent (extended rcodes included) */
	uint16_t qtype; /* 0 when there was no question */
	uint8_t opcode;
	bool truncated; /* TC was set */
	bool is_error;	/* FORMERR/NOTIMP/REFUSED...: subject to error rate limit */
	bool notify;	/* an accepted NOTIFY: reload notify_zone */
	char notify_zone[DNAME_TEXT_MAXLEN]; /* "example.com." lower-case */
};

/*
 * Answers req (reqlen bytes) from zs into resp (respcap bytes, >= 512;
 * 65535 for TCP). Returns the response length, or 0 when the request must
 * be dropped (r->dropped is then true). r is always filled.
 */
size_t query_process(const struct zoneset *zs, const uint8_t *req, size_t reqlen, uint8_t *resp,
		     size_t respcap, const struct query_params *p, struct query_result *r);

#endif
