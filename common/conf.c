/*
 * conf.c: the "key value" config file format of both daemons (conf.h).
 *
 * The format is deliberately tiny so a person can read it without a manual:
 * one setting per line, the key is the first word, the value is the rest of
 * the line with blanks trimmed on both sides, '#' starts a comment (only at
 * the start of a line or after a blank, so values such as URLs with '#' in
 * them survive when written without a blank before it). Lines are capped at
 * CONF_LINE_MAX bytes: a longer line is an error, never silently cut.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

#define CONF_LINE_MAX 4096

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

/* Cuts a comment: '#' at the start or after a blank. */
static void cut_comment(char *s)
{
	char *p;

	for (p = s; *p; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

int conf_parse_file(const char *path, conf_cb cb, void *arg, char *err, size_t errcap)
{
	FILE *f;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t n;
	char msg[512];
	unsigned lineno = 0;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return ERR_IO;
	}
	errno = 0;
	while ((n = getline(&line, &linecap, f)) >= 0) {
		char *s, *key, *value;

		lineno++;
		/* The cap is on the setting, not on its line ending: the same
		 * line must pass whether or not it is the last one. */
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > CONF_LINE_MAX) {
			snprintf(err, errcap, "%s:%u: line longer than %d bytes", path, lineno,
				 CONF_LINE_MAX);
			rc = ERR_RANGE;
			goto out;
		}
		/* getline reports the true length, so a NUL cannot hide the rest */
		if (memchr(line, '\0', (size_t)n) != NULL) {
			snprintf(err, errcap, "%s:%u: NUL byte in line", path, lineno);
			rc = ERR_SYNTAX;
			goto out;
		}
		cut_comment(line);
		s = trim(line);
		if (*s == '\0')
			continue;
		key = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s) {
			*s++ = '\0';
			value = trim(s);
		} else {
			value = s; /* empty string */
		}
		msg[0] = '\0';
		if (cb(arg, key, value, msg, sizeof(msg)) != 0) {
			snprintf(err, errcap, "%s:%u: %s", path, lineno,
				 msg[0] ? msg : "invalid setting");
			rc = ERR_INVALID;
			goto out;
		}
		errno = 0;
	}
	if (ferror(f)) {
		snprintf(err, errcap, "%s: read error: %s", path, strerror(errno));
		rc = ERR_IO;
	}
out:
	free(line);
	fclose(f);
	return rc;
}

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return ERR_SYNTAX;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < 0 || v > 65535)
		return ERR_SYNTAX;
	*port = (int)v;
	return 0;
}

int conf_parse_addr(const char *s, int default_port, struct sockaddr_storage *ss,
		    unsigned int *sslen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *hs, *ps = NULL;
	size_t hlen;
	int port = default_port;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (s == NULL || *s == '\0')
		return ERR_SYNTAX;
	if (s[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		const char *close = strchr(s, ']');
		if (close == NULL)
			return ERR_SYNTAX;
		hs = s + 1;
		hlen = (size_t)(close - hs);
		if (close[1] == ':')
			ps = close + 2;
		else if (close[1] != '\0')
			return ERR_SYNTAX;
	} else {
		const char *colon = strchr(s, ':');
		hs = s;
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* exactly one colon: "v4:port" (or "name:port", refused below) */
			hlen = (size_t)(colon - s);
			ps = colon + 1;
		} else {
			/* no colon ("v4") or several ("v6" without brackets, no port) */
			hlen = strlen(s);
		}
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return ERR_SYNTAX;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (ps != NULL && parse_port(ps, &port) != 0)
		return ERR_SYNTAX;
	if (port < 0 || port > 65535)
		return ERR_SYNTAX;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return ERR_SYNTAX;
}
