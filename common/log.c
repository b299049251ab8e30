/*
 * log.c: stderr logging. Each event is formatted into one buffer and written
 * with a single write(2) so lines from worker threads never interleave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "dnsmcp";
static enum log_level log_level = LOG_LEVEL_INFO;

void log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

static void vlog(const char *tag, const char *fmt, va_list ap, int saved_errno)
{
	char line[2048];
	int n, m;
	ssize_t wr;

	n = snprintf(line, sizeof(line), "%s: %s", log_prog, tag);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	if (saved_errno >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(saved_errno));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	/* One event, one line: a newline or other control character in the
	 * message (often peer-supplied text) must not forge a second line. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	wr = write(STDERR_FILENO, line, (size_t)n);
	(void)wr;
}

#define LOG_BODY(level, tag, with_errno)                                                           \
	int saved = errno;                                                                         \
	va_list ap;                                                                                \
	if (log_level < (level))                                                                   \
		return;                                                                            \
	va_start(ap, fmt);                                                                         \
	vlog(tag, fmt, ap, (with_errno) ? saved : -1);                                             \
	va_end(ap);                                                                                \
	errno = saved;

void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, "warning: ", 1)
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, "warning: ", 0)
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, "", 0)
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, "debug: ", 0)
}

void log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, "error: ", 0)
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, -1);
	va_end(ap);
	exit(1);
}
