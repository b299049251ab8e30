/*
 * dnsask.h: a handful of DNS questions asked in parallel on mcpd's event
 * base, so a read tool (dns_lookup, get_zone, zone_status) never blocks
 * the loop that serves every MCP client while a server stays silent.
 *
 * Each question behaves exactly like notify_query_sync (notify.h): UDP
 * with EDNS (payload DNS_EDNS_OUR_SIZE), a random ID, one resend halfway
 * through its timeout, a reply counted only from the address asked and
 * only when ID, opcode, QR and the question match (stray packets are
 * ignored), and when the reply has TC set the question is asked again over
 * TCP (RFC 7766 §5) within the same deadline. All questions start together;
 * each ends at its own deadline, so a set of questions with one timeout
 * costs that timeout once, not once per question.
 */
#ifndef DNSASK_H
#define DNSASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

struct event_base;

#define DNSASK_MAX	   64  /* questions in one ask */
#define DNSASK_ADDR_MAX	   128 /* "ADDR[:PORT]" text, with its NUL */
#define DNSASK_TIMEOUT_MAX 60000

/* One question and, once the ask is done, its outcome. */
struct dnsask_q {
	/* in: set by the caller */
	char addr[DNSASK_ADDR_MAX];  /* "127.0.0.1:5353", "[::1]:53", "192.0.2.1" (port 53) */
	uint8_t qname[DNAME_MAXLEN]; /* wire form */
	uint16_t qtype;
	int timeout_ms; /* 1..DNSASK_TIMEOUT_MAX; <= 0 means 1 */
	/* out: set by dnsask */
	int rc;		      /* 0 answered; ERR_TIMEOUT, ERR_SYNTAX (bad addr), ERR_IO,
				 ERR_TRUNCATED (TCP closed early), ERR_NOMEM */
	uint8_t *resp;	      /* the matching reply (malloc'd, freed by dnsask_q_clear) */
	size_t resp_len;      /* its length */
	bool used_tcp;	      /* the reply came over TCP (UDP was truncated) */
	long long elapsed_ms; /* from the start of the ask to the outcome */
};

/* Called once when every question has its outcome; runs from the event
 * loop, never inside dnsask_start. The ask is already freed then. */
typedef void (*dnsask_done_cb)(void *arg);

struct dnsask;

/*
 * Starts the n questions of qs (borrowed: they must stay in place until cb
 * ran or dnsask_cancel returned) on base. Every question gets an outcome,
 * including a bad address (ERR_SYNTAX) or a socket that cannot be opened
 * (ERR_IO). *out (may be NULL) gets a handle for dnsask_cancel. Returns
 * 0, or ERR_INVALID (no base, no cb, n > DNSASK_MAX), ERR_NOMEM: then cb
 * is not called.
 */
int dnsask_start(struct event_base *base, struct dnsask_q *qs, size_t n, dnsask_done_cb cb,
		 void *arg, struct dnsask **out);

/* Stops an ask whose callback has not run: sockets closed, cb never
 * called. Questions without an outcome get ERR_TIMEOUT. NULL is fine. */
void dnsask_cancel(struct dnsask *a);

/*
 * The blocking form, for callers without an event loop (the offline
 * tools, tests that call a handler directly): the same ask on a private
 * event base, returning when every question has its outcome. 0 or
 * ERR_INVALID/ERR_NOMEM (then no question has an outcome).
 */
int dnsask_run(struct dnsask_q *qs, size_t n);

/* Frees what dnsask put in q (the reply), keeping the question. */
void dnsask_q_clear(struct dnsask_q *q);

#endif
