/*
 * conf.h: the config file format both daemons read: one "key value" per
 * line (the value is the rest of the line, trimmed), '#' starts a comment,
 * blank lines ignored. Keys are the long flag names without "--", so
 * "listen 127.0.0.1:5353" in a file equals "--listen 127.0.0.1:5353";
 * repeatable keys may appear several times.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

/* Called per setting; return 0 to go on, or non-zero after writing a
 * message to err (the parser prefixes "FILE:LINE: "). */
typedef int (*conf_cb)(void *arg, const char *key, const char *value, char *err, size_t errcap);

/* Reads path and calls cb per line. 0, or a negative error with err set
 * ("dnsd.conf:12: unknown key 'lisen'"). */
int conf_parse_file(const char *path, conf_cb cb, void *arg, char *err, size_t errcap);

/* Splits "127.0.0.1:53", "[::1]:53", "::1" (port default_port) into a
 * sockaddr; returns 0 or ERR_SYNTAX. ss must hold a sockaddr_storage. */
struct sockaddr_storage;
int conf_parse_addr(const char *s, int default_port, struct sockaddr_storage *ss,
		    unsigned int *sslen);

#endif
