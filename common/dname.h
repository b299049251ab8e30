/*
 * dname.h: domain names.
 *
 * In memory a name is its uncompressed wire form: length-prefixed labels
 * ending with the root label (0), at most DNAME_MAXLEN octets, e.g.
 * "\3www\7example\3com\0". Functions never assume more than the name's own
 * bytes. Case is kept as given; comparisons are case-insensitive (ASCII only,
 * RFC 4343). Stored and indexed names are lower-cased with dname_lower().
 */
#ifndef DNAME_H
#define DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire;

#define DNAME_MAXLEN	   255 /* RFC 1035 §2.3.4, including length octets */
#define DNAME_LABEL_MAXLEN 63  /* RFC 1035 §2.3.4 */
#define DNAME_MAXLABELS	   128 /* 127 one-octet labels plus the root */
/* Longest presentation form: every octet as \DDD (4 chars) plus dots, NUL. */
#define DNAME_TEXT_MAXLEN (4 * DNAME_MAXLEN + 2)

/*
 * Reads a possibly compressed name at w->pos into out (uncompressed) and
 * advances w past the name as it appears at that position. Pointers must
 * point strictly before the label that holds them (which also rules out
 * loops, RFC 1035 §4.1.4); labels > 63, names > 255, the reserved label
 * types 0x40/0x80 are errors. Returns the length of out, or a negative error
 * (also stored in w->err).
 */
int dname_parse_wire(struct wire *w, uint8_t out[DNAME_MAXLEN]);

/* As dname_parse_wire but refuses any compression pointer (QNAME, RFC 1035
 * does not forbid it but we treat a compressed QNAME as malformed). */
int dname_parse_wire_nocompress(struct wire *w, uint8_t out[DNAME_MAXLEN]);

/*
 * Parses presentation form (RFC 1035 §5.1) of len chars: "www", "a\.b",
 * "\065", "@" (= origin). A name without a trailing dot is relative and gets
 * origin appended; with origin NULL it is an error (ERR_RELATIVE_NAME).
 * "." is the root. Returns the wire length written to out or an error
 * (ERR_SYNTAX, ERR_LABEL_TOO_LONG, ERR_NAME_TOO_LONG).
 */
int dname_parse_text(const char *s, size_t len, const uint8_t *origin, uint8_t out[DNAME_MAXLEN]);

/*
 * Prints name as absolute presentation form with the trailing dot into buf
 * (cap bytes, NUL-terminated), escaping '.', '\\', '"', '(', ')', ';', '@',
 * '$' with a backslash, and space and non-printable octets as \DDD. Returns
 * the string length or ERR_SPACE.
 */
int dname_print(const uint8_t *name, char *buf, size_t cap);

/* Length in octets of a valid uncompressed name, including the root label. */
size_t dname_len(const uint8_t *name);

/* Number of labels, not counting the root ("." has 0, "a.b." has 2). */
int dname_labels(const uint8_t *name);

/* Lower-cases ASCII letters in place. */
void dname_lower(uint8_t *name);

/* Copies a name; returns its length. */
size_t dname_copy(uint8_t *dst, const uint8_t *src);

/* Case-insensitive equality. */
bool dname_equal(const uint8_t *a, const uint8_t *b);

/* Canonical DNS order (RFC 4034 §6.1): <0, 0, >0. Case-insensitive. */
int dname_cmp(const uint8_t *a, const uint8_t *b);

/* True when name equals zone or lies below it (case-insensitive). */
bool dname_is_subdomain(const uint8_t *name, const uint8_t *zone);

/* The name with its first label removed (points into name); NULL for root. */
const uint8_t *dname_parent(const uint8_t *name);

/* True when the first label is "*" (a wildcard owner, RFC 4592). */
bool dname_is_wildcard(const uint8_t *name);

/* Validates an uncompressed wire name of at most len octets; returns its
 * length or a negative error. */
int dname_check(const uint8_t *name, size_t len);

#endif
