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

/* Called once: live true when dnsd answered the SOA with serial (or a
 * newer one, RFC 1982); otherwise why explains ("dnsd at 127.0.0.1:5353 did
 * not answer NOTIFY after 3 tries"). why is valid during the call only. */
typedef void (*live_done_cb)(void *arg, bool live, const char *why);

/* Starts the NOTIFY + SOA-poll sequence for zone ("example.com.") and
 * serial against dnsd_addr ("127.0.0.1:5353", "[::1]:5353"), giving up
 * after timeout_ms. Returns 0, or a negative error (cb then not called). */
int live_confirm(struct event_base *base, const char *dnsd_addr, const char *zone, uint32_t serial,
		 int timeout_ms, live_done_cb cb, void *arg);

#endif
