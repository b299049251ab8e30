/*
 * notify.h: the small DNS client both daemons need: building NOTIFY
 * messages (RFC 1996) and plain queries, recognising the reply to one of
 * them, reading the SOA serial out of a reply, and serial arithmetic
 * (RFC 1982). mcpd uses it to tell dnsd about a change and to confirm the
 * new serial is served; dnsd uses it for NOTIFY out to secondaries.
 *
 * Nothing here keeps state or owns a socket except notify_query_sync(),
 * a blocking helper with a hard deadline for tools that ask dnsd once.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* RFC 1982 §3.1: serials are compared in a window of 2^31. */
#define NOTIFY_SERIAL_HALF 2147483648u

/*
 * RFC 1982 §3.2 "greater than": true when a is a later serial than b.
 * When a and b are exactly 2^31 apart the comparison is undefined by the
 * RFC; both directions then answer false, so nothing is ever "newer" by
 * accident.
 */
bool notify_serial_gt(uint32_t a, uint32_t b);

/* a equals b or is later than b (RFC 1982). */
bool notify_serial_ge(uint32_t a, uint32_t b);

/*
 * Builds a NOTIFY for zone (wire form) into buf: opcode NOTIFY, AA set,
 * one question (zone, SOA, IN) and, when soa_rd is not NULL, the zone's
 * SOA in the answer section as a hint of the new serial (RFC 1996 §3.7).
 * Returns the message length or ERR_SPACE.
 */
int notify_build_notify(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *zone,
			const uint8_t *soa_rd, uint16_t soa_rdlen);

/*
 * Builds a standard query (opcode QUERY, RD clear: we ask authoritative
 * servers) for qname/qtype IN. With edns_size non-zero an OPT RR
 * advertising that payload size is added. Returns the length or ERR_SPACE.
 */
int notify_build_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, uint16_t qtype,
		       uint16_t edns_size);

/*
 * Decides whether pkt (len bytes) is the reply to a message we sent with
 * this id, opcode and question: QR set, same ID, same opcode, and when the
 * reply carries a question, the same name (case-insensitive), type and
 * class IN. (Source address matching is the caller's job, see
 * notify_sockaddr_equal.) Returns the reply's rcode (>= 0), ERR_INVALID
 * when it is not our reply, or ERR_TRUNCATED/ERR_MALFORMED for junk.
 */
int notify_match_reply(const uint8_t *pkt, size_t len, uint16_t id, int opcode,
		       const uint8_t *qname, uint16_t qtype);

/* True when a and b are the same address family, address and port. */
bool notify_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);

/*
 * Finds the SOA of zone in the answer section of a reply and stores its
 * serial. Returns 0, ERR_NOTFOUND when there is no such SOA, or a parse
 * error.
 */
int notify_reply_soa_serial(const uint8_t *pkt, size_t len, const uint8_t *zone, uint32_t *serial);

/* A DNS message ID from getrandom(2) (RFC 5452 §9.2: IDs must not be
 * guessable), or clock-derived if that fails. */
uint16_t notify_random_id(void);

/*
 * Blocking query for tools: sends qname/qtype to addr ("127.0.0.1:5353",
 * "[::1]:53") over UDP with EDNS (payload DNS_EDNS_OUR_SIZE), waits for the
 * matching reply, resends once on silence, and when the reply has TC set
 * asks again over TCP (RFC 7766 §5), all within timeout_ms. The reply is
 * copied to resp (cap bytes, DNS_TCP_MAXSIZE is always enough); *resp_len
 * gets its length and *used_tcp (may be NULL) whether TCP answered.
 * Returns 0, ERR_TIMEOUT, ERR_SYNTAX (bad addr), ERR_IO or ERR_SPACE.
 */
int notify_query_sync(const char *addr, const uint8_t *qname, uint16_t qtype, int timeout_ms,
		      uint8_t *resp, size_t cap, size_t *resp_len, bool *used_tcp);

/*
 * Blocking NOTIFY: sends a NOTIFY for zone to addr and waits for the
 * acknowledgement up to timeout_ms, resending every 100 ms. Returns the
 * reply's rcode (>= 0), ERR_TIMEOUT, ERR_SYNTAX or ERR_IO.
 */
int notify_send_sync(const char *addr, const uint8_t *zone, int timeout_ms);

/*
 * Added by the transfers helper (h9), for mcpd -> dnsd NOTIFY when a TSIG
 * key is configured: notify_send_sync with the NOTIFY signed by key
 * (RFC 8945; key NULL: unsigned, exactly notify_send_sync). The reply must
 * carry a valid TSIG of the same key; a reply that is unsigned or badly
 * signed is ignored like a stray packet (it may be forged), except an
 * unsigned NOTAUTH carrying a TSIG error (the server refuses our key),
 * returned as RCODE_NOTAUTH. Returns the rcode (>= 0), ERR_TIMEOUT,
 * ERR_SYNTAX or ERR_IO.
 */
struct tsig_key;
int notify_send_sync_tsig(const char *addr, const uint8_t *zone, int timeout_ms,
			  const struct tsig_key *key);

#endif
