/*
 * sdnotify.c: sd_notify(3) protocol, a datagram to $NOTIFY_SOCKET.
 *
 * The protocol is small enough that linking libsystemd would cost more than
 * it saves: connect an AF_UNIX SOCK_DGRAM socket to the path (a leading '@'
 * means the abstract namespace, written as a leading NUL), send the text.
 *
 * The send blocks, bounded by SO_SNDTIMEO, as libsystemd's does: with
 * MSG_DONTWAIT a datagram sent while the manager has not yet drained the
 * previous ones (a full receive queue, net.unix.max_dgram_qlen) fails with
 * EAGAIN, and losing the READY=1 that follows RELOADING=1 leaves a
 * Type=notify-reload unit "reloading" until systemd times it out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

#define SDNOTIFY_SEND_TIMEOUT_MS 2000

bool sdnotify_enabled(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	return p != NULL && *p != '\0';
}

static int send_state(const char *msg, size_t len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct timeval tv = {SDNOTIFY_SEND_TIMEOUT_MS / 1000,
			     (SDNOTIFY_SEND_TIMEOUT_MS % 1000) * 1000};
	struct sockaddr_un sun;
	size_t plen;
	socklen_t slen;
	int fd, saved;
	ssize_t n;

	if (path == NULL || *path == '\0')
		return 1;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	/* abstract names are not NUL-terminated: pass the exact length */
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do
		n = sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sun, slen);
	while (n < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

int sdnotify(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (!sdnotify_enabled())
		return 1;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	if (send_state(buf, (size_t)n) != 0) {
		/* name the first line (READY=1, STOPPING=1, ...) that was lost */
		log_warn("sd_notify %.*s to %s", (int)strcspn(buf, "\n"), buf,
			 getenv("NOTIFY_SOCKET"));
		return -1;
	}
	return 0;
}

int sdnotify_reloading(const char *status)
{
	struct timespec ts;
	unsigned long long usec;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	if (status)
		return sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s", usec, status);
	return sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}
