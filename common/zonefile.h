/*
 * zonefile.h: RFC 1035 §5 master files, in and out.
 *
 * Parsing: $ORIGIN, $TTL (RFC 2308 §4), "@", relative names, omitted owner
 * (same as previous), omitted TTL (last $TTL, else the previous RR's TTL,
 * RFC 2308 §4 / RFC 1035 §5.1), omitted class (IN; only IN accepted),
 * TTL and class in either order, parentheses spanning lines, ";" comments,
 * quoted strings, TTLs with units (1h30m, RFC 2308-style as BIND accepts),
 * $INCLUDE refused (ERR_INCLUDE). Every error names line and column.
 */
#ifndef ZONEFILE_H
#define ZONEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "dname.h"

/* Longest RDATA text of one record as handed to rdata_parse_text() (a line
 * break inside parentheses counts as one blank): bounds the scratch memory a
 * hostile file can make zf_parse() use. Valid data needs far less (a 65535
 * octet TXT written entirely as \DDD escapes is about 262 KB). */
#define ZF_RDATA_TEXT_MAX (1024 * 1024)

/* One record as the parser hands it to the callback; pointers valid only
 * during the callback. owner is lower-cased. */
struct zf_rr {
	const uint8_t *owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata; /* uncompressed wire RDATA, names lower-cased */
	uint16_t rdlen;
	int line; /* line where the record starts */
};

struct zf_error {
	int line, col; /* 1-based position of the problem */
	int code;      /* negative enum err */
	char msg[240]; /* e.g. "MX preference: 'x' is not a number" */
};

/* Return 0 to go on, non-zero to stop (zf_parse then returns that value). */
typedef int (*zf_rr_cb)(void *arg, const struct zf_rr *rr);

/*
 * Parses len bytes of master-file text. origin (may be NULL) is the initial
 * $ORIGIN; default_ttl is used when neither $TTL nor an earlier TTL applies
 * (pass 0 to make a missing TTL an error... it is reported as such). Calls
 * cb for every record in file order. Returns 0, a negative error (details in
 * *err), or the callback's non-zero value.
 */
int zf_parse(const char *text, size_t len, const uint8_t *origin, uint32_t default_ttl, zf_rr_cb cb,
	     void *arg, struct zf_error *err);

/*
 * Formats one record as a master-file line without newline:
 * "www.example.com. 3600 IN A 192.0.2.1" (absolute owner, canonical rdata).
 * Returns the length or ERR_SPACE / ERR_MALFORMED.
 */
int zf_print_rr(const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rd,
		uint16_t rdlen, char *buf, size_t cap);

/* Parses a TTL: seconds or units "1w2d3h4m5s" (case-insensitive); the
 * result must fit 0..2147483647 (RFC 2181 §8). Returns 0 or ERR_SYNTAX/RANGE. */
int zf_parse_ttl(const char *s, size_t len, uint32_t *ttl);

#endif
