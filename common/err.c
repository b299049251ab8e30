#include <stdarg.h>
#include <stdio.h>

#include "err.h"

const char *err_str(int err)
{
	switch (err) {
	case ERR_OK:
		return "ok";
	case ERR_NOMEM:
		return "out of memory";
	case ERR_MALFORMED:
		return "malformed";
	case ERR_SPACE:
		return "no space in buffer";
	case ERR_RANGE:
		return "value out of range";
	case ERR_TRUNCATED:
		return "truncated";
	case ERR_LABEL_TOO_LONG:
		return "label longer than 63 octets";
	case ERR_NAME_TOO_LONG:
		return "name longer than 255 octets";
	case ERR_BAD_POINTER:
		return "bad compression pointer";
	case ERR_SYNTAX:
		return "syntax error";
	case ERR_UNKNOWN_TYPE:
		return "unknown record type";
	case ERR_NOT_IN_ZONE:
		return "name not in zone";
	case ERR_IO:
		return "I/O error";
	case ERR_DB:
		return "database error";
	case ERR_DB_VERSION:
		return "unsupported database schema version";
	case ERR_NOTFOUND:
		return "not found";
	case ERR_EXISTS:
		return "already exists";
	case ERR_INCLUDE:
		return "$INCLUDE is not supported";
	case ERR_CONFLICT:
		return "conflict";
	case ERR_INVALID:
		return "invalid";
	case ERR_RELATIVE_NAME:
		return "relative name without origin";
	case ERR_TXT_TOO_LONG:
		return "character-string longer than 255 octets";
	case ERR_COUNT:
		return "section count exceeds message";
	case ERR_DUP_OPT:
		return "more than one OPT record";
	case ERR_TIMEOUT:
		return "timed out";
	}
	return "unknown error";
}

void err_printf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}
