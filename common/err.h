/*
 * err.h: the error codes every common/ function returns.
 *
 * Library functions return int: >= 0 on success (often a length), or a
 * negative enum err value. err_str() names each one for logs and for the
 * precise messages mcpd returns to clients.
 */
#ifndef ERR_H
#define ERR_H

#include <stddef.h>

enum err {
	ERR_OK = 0,
	ERR_NOMEM = -1,		 /* allocation failed */
	ERR_MALFORMED = -2,	 /* input violates the wire or text format */
	ERR_SPACE = -3,		 /* output buffer too small */
	ERR_RANGE = -4,		 /* a number out of its allowed range */
	ERR_TRUNCATED = -5,	 /* input ended before the structure did */
	ERR_LABEL_TOO_LONG = -6, /* label > 63 octets (RFC 1035 §2.3.4) */
	ERR_NAME_TOO_LONG = -7,	 /* name > 255 octets (RFC 1035 §2.3.4) */
	ERR_BAD_POINTER = -8,	 /* compression pointer not strictly backwards, or loop */
	ERR_SYNTAX = -9,	 /* presentation-format syntax error */
	ERR_UNKNOWN_TYPE = -10,	 /* RR type mnemonic not known */
	ERR_NOT_IN_ZONE = -11,	 /* name outside the zone it must belong to */
	ERR_IO = -12,		 /* system call failed (errno kept) */
	ERR_DB = -13,		 /* SQLite error */
	ERR_DB_VERSION = -14,	 /* database schema version unknown to this binary */
	ERR_NOTFOUND = -15,	 /* no such zone, record, token... */
	ERR_EXISTS = -16,	 /* already exists */
	ERR_INCLUDE = -17,	 /* $INCLUDE refused in master files */
	ERR_CONFLICT = -18,	 /* data conflicts (CNAME and other data, serial moved) */
	ERR_INVALID = -19,	 /* semantically invalid argument */
	ERR_RELATIVE_NAME = -20, /* relative name where no origin is known */
	ERR_TXT_TOO_LONG = -21,	 /* character-string > 255 octets */
	ERR_COUNT = -22,	 /* a section count larger than the message holds */
	ERR_DUP_OPT = -23,	 /* more than one OPT RR (RFC 6891 §6.1.1) */
	ERR_TIMEOUT = -24,	 /* no answer in time */
};

/* Short human-readable name of an error code (never NULL). */
const char *err_str(int err);

/* Formats a message for a caller's (char *err, size_t cap) out-parameter:
 * does nothing when err is NULL or cap is 0, truncates to cap - 1 bytes. */
void err_printf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
