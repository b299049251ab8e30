/*
 * live.h: after a commit, tell dnsd (DNS NOTIFY over UDP, RFC 1996, retried
 * on silence) and confirm it serves the new serial (SOA queries until the
 * serial is seen or a bounded wait ends). Asynchronous, on mcpd's event base.
 */
#ifndef LIVE_H
#define LIVE_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct tsig_key;

/* Called once: live true when dnsd answered the SOA with serial (or a
 * newer one, RFC 1982); otherwise why explains ("dnsd at 127.0.0.1:5353 did
 * not answer NOTIFY after 3 tries"). why is valid during the call only. */
typedef void (*live_done_cb)(void *arg, bool live, const char *why);

/* Starts the NOTIFY + SOA-poll sequence for zone ("example.com.") and
 * serial against dnsd_addr ("127.0.0.1:5353", "[::1]:5353"), giving up
 * after timeout_ms. Returns 0, or a negative error (cb then not called). */
int live_confirm(struct event_base *base, const char *dnsd_addr, const char *zone, uint32_t serial,
		 int timeout_ms, live_done_cb cb, void *arg);

/*
 * Signs the NOTIFYs of every confirmation started from now on with key
 * (TSIG, RFC 8945; mcpd's tsig-keyfile and notify-key), and from then on
 * accepts only NOTIFY replies signed with it, except an unsigned NOTAUTH
 * carrying a TSIG error (dnsd refusing the key), which is reported. NULL:
 * unsigned NOTIFYs (the default). key is borrowed and must outlive every
 * confirmation in flight; set it before serving (not thread-safe). The SOA
 * queries stay unsigned: anyone may ask dnsd for a SOA.
 */
void live_set_key(const struct tsig_key *key);

/* The key set with live_set_key, or NULL: for other code that NOTIFYs
 * dnsd (notify_send_sync_tsig(addr, zone, ms, live_key())). */
const struct tsig_key *live_key(void);

#endif
