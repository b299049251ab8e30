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
#include "tsig.h"

struct acl;
struct sockaddr;
struct zone;
struct zoneset;

struct query_params {
	bool tcp;	     /* over TCP: limit 65535, no TC for size */
	bool notify_allowed; /* the source may send NOTIFY (ACL checked by the caller) */
	uint16_t max_udp;    /* our EDNS payload size, e.g. 1232 */
};

/* What a transfer request leaves for the caller to run (over TCP: a stream
 * of messages; IXFR needs the journal, which query.c never reads). */
enum query_xfr {
	QUERY_XFR_NONE = 0,
	QUERY_XFR_AXFR, /* send the whole zone */
	QUERY_XFR_IXFR, /* the difference since xfr_serial (journal), or the zone */
};

/*
 * Context beyond the request bytes, for query_process_ex: who asks, the
 * keys and the clock for TSIG, and who may NOTIFY or transfer. A NULL
 * query_xparams (query_process) means: no keys (every signed request gets
 * BADKEY), NOTIFY per query_params.notify_allowed, transfers refused.
 */
struct query_xparams {
	const struct sockaddr *peer;	 /* the request's source */
	const struct tsig_keyring *keys; /* NULL: none */
	uint64_t now;			 /* seconds since the epoch (TSIG time check) */
	const struct acl *notify_acl;	 /* NULL: use query_params.notify_allowed */
	/* May peer, signed with key (NULL: unsigned), transfer zone z?
	 * NULL: nobody may. Called only for AXFR/IXFR requests. */
	bool (*xfr_allowed)(void *arg, const struct zone *z, const struct sockaddr *peer,
			    const struct tsig_key *key);
	void *xfr_arg;
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

	/* TSIG: tsig_error is -1 for an unsigned request, else the outcome of
	 * the verification (TSIG_NOERROR: verified, the reply was signed). */
	int tsig_error;
	uint8_t tsig_keyname[DNAME_MAXLEN]; /* the key name the request used */

	/* Zone transfers (query_process_ex only): when xfr is set, nothing
	 * was written (the return value is 0 but dropped is false) and the
	 * caller runs the transfer of xfr_zone (valid while the caller holds
	 * the zoneset: take a reference) with the request's identity below. */
	enum query_xfr xfr;
	const struct zone *xfr_zone;
	uint32_t xfr_serial;	     /* IXFR: the client's serial */
	uint16_t id;		     /* the request's ID */
	uint8_t qname[DNAME_MAXLEN]; /* the question as asked */
	uint16_t qclass;
	bool edns;	      /* the request had OPT */
	uint16_t edns_flags;  /* its flags (DO) */
	uint16_t udp_limit;   /* UDP: the largest reply the requester takes */
	struct tsig_ctx tsig; /* signing state for the transfer's messages */
};

/*
 * Answers req (reqlen bytes) from zs into resp (respcap bytes, >= 512;
 * 65535 for TCP). Returns the response length, or 0 when the request must
 * be dropped (r->dropped is then true). r is always filled.
 */
size_t query_process(const struct zoneset *zs, const uint8_t *req, size_t reqlen, uint8_t *resp,
		     size_t respcap, const struct query_params *p, struct query_result *r);

/*
 * The same with TSIG keys, ACLs and transfers (x may be NULL). A request
 * signed with a known key is verified (RFC 8945 §5.2: BADKEY, BADSIG,
 * BADTIME get NOTAUTH with the TSIG error; a TSIG that cannot be read gets
 * FORMERR) and every reply to a verified request is signed. AXFR over TCP
 * and IXFR (TCP or UDP) from an allowed peer return 0 with r->xfr set,
 * except an IXFR from a serial at or after ours, answered here with the
 * single SOA (RFC 1995 §2). NOTIFY is accepted when notify_acl matches the
 * peer and the key.
 */
size_t query_process_ex(const struct zoneset *zs, const uint8_t *req, size_t reqlen, uint8_t *resp,
			size_t respcap, const struct query_params *p, const struct query_xparams *x,
			struct query_result *r);

#endif
