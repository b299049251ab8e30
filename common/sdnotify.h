/*
 * sdnotify.h: the systemd notify protocol without libsystemd (sd_notify(3)):
 * one datagram of "KEY=value" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stdbool.h>

/* True when $NOTIFY_SOCKET is set (we run under Type=notify). */
bool sdnotify_enabled(void);

/* Sends the printf-formatted state, e.g. "READY=1\nSTATUS=serving 3 zones".
 * Returns 0, 1 when $NOTIFY_SOCKET is unset (nothing to do), or -1 on error
 * (logged as a warning, errno kept). Safe from any thread; waits at most
 * 2 s for room in the manager's queue, so never call it on a request path. */
int sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1\nMONOTONIC_USEC=<now>" as systemd's Type=notify-reload
 * wants it; status may be NULL. */
int sdnotify_reloading(const char *status);

#endif
