/*
 * rdata.h: RR types and their RDATA, between wire and presentation form.
 *
 * In memory RDATA is its uncompressed wire form. Embedded domain names of
 * the types below that carry names (NS, CNAME, DNAME, SOA, MX, PTR, SRV,
 * NAPTR, and SVCB/HTTPS target) are stored lower-cased, so every record has
 * exactly one canonical presentation form: the text rdata_print() produces.
 * That text is what the database stores.
 *
 * Supported with full syntax and validation: A, AAAA, NS, CNAME, DNAME, SOA,
 * MX, TXT, PTR, SRV, NAPTR, CAA, SSHFP, TLSA, SVCB, HTTPS, DS, DNSKEY.
 * Every other type goes through RFC 3597 generic form: "\# 4 0a000001"
 * (and any type, known or not, accepts generic form on input).
 */
#ifndef RDATA_H
#define RDATA_H

#include <stddef.h>
#include <stdint.h>

struct wire;

enum rrtype {
	RRTYPE_A = 1,
	RRTYPE_NS = 2,
	RRTYPE_CNAME = 5,
	RRTYPE_SOA = 6,
	RRTYPE_PTR = 12,
	RRTYPE_HINFO = 13,
	RRTYPE_MX = 15,
	RRTYPE_TXT = 16,
	RRTYPE_AAAA = 28,
	RRTYPE_SRV = 33,
	RRTYPE_NAPTR = 35,
	RRTYPE_DNAME = 39,
	RRTYPE_OPT = 41,
	RRTYPE_DS = 43,
	RRTYPE_SSHFP = 44,
	RRTYPE_RRSIG = 46,
	RRTYPE_NSEC = 47,
	RRTYPE_DNSKEY = 48,
	RRTYPE_NSEC3 = 50,
	RRTYPE_TLSA = 52,
	RRTYPE_SVCB = 64,
	RRTYPE_HTTPS = 65,
	RRTYPE_TKEY = 249,
	RRTYPE_TSIG = 250,
	RRTYPE_IXFR = 251,
	RRTYPE_AXFR = 252,
	RRTYPE_ANY = 255,
	RRTYPE_CAA = 257,
};

enum rrclass {
	RRCLASS_IN = 1,
	RRCLASS_CH = 3,
	RRCLASS_NONE = 254,
	RRCLASS_ANY = 255,
};

#define RDATA_MAXLEN	  65535 /* RDLENGTH is 16 bits */
#define TXT_STRING_MAXLEN 255	/* RFC 1035 §3.3 character-string */

/* Type mnemonic ("A", "SVCB") or NULL when the type has none we know. */
const char *rrtype_name(uint16_t type);

/* Prints the mnemonic or "TYPE<n>" (RFC 3597 §5) into buf; returns length. */
int rrtype_print(uint16_t type, char *buf, size_t cap);

/* Parses a mnemonic (case-insensitive) or "TYPE<n>"; returns the type
 * (0..65535) or ERR_UNKNOWN_TYPE. */
int rrtype_parse(const char *s, size_t len);

/* Where the parser of presentation text stopped, for precise messages. */
struct text_err {
	size_t offset; /* byte offset in the input where the problem is */
	char msg[160]; /* e.g. "MX preference: '70000' is out of range 0..65535" */
};

/*
 * Parses the presentation form of RDATA (everything after the type on a
 * master-file line, comments and parentheses already removed): tokens
 * separated by blanks, "quoted strings" with \X and \DDD escapes. Relative
 * names get origin appended (origin NULL: relative names are an error).
 * Writes the uncompressed wire RDATA (names lower-cased) to out and returns
 * its length, or a negative error with details in *e (e may be NULL).
 */
int rdata_parse_text(uint16_t type, const char *text, size_t len, const uint8_t *origin,
		     uint8_t *out, size_t cap, struct text_err *e);

/*
 * Prints wire RDATA in canonical presentation form (names absolute with the
 * trailing dot, TXT strings quoted, base64/hex as the RFCs print them,
 * unknown types as "\# len hex") into buf. Returns the string length,
 * ERR_SPACE, or ERR_MALFORMED when rd is not valid for the type.
 */
int rdata_print(uint16_t type, const uint8_t *rd, size_t rdlen, char *buf, size_t cap);

/* Validates uncompressed wire RDATA for the type; 0 or ERR_MALFORMED. */
int rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen);

/*
 * Reads rdlen bytes of RDATA at w->pos (w spans the whole message, so
 * compression pointers resolve), decompressing the names of the types that
 * RFC 3597 §4 allows to be compressed (NS, CNAME, SOA, MX, PTR), and writes
 * the uncompressed, validated form to out. Advances w by exactly rdlen.
 * Returns the uncompressed length or a negative error.
 */
int rdata_unpack(uint16_t type, struct wire *w, uint16_t rdlen, uint8_t *out, size_t cap);

/*
 * Offsets of the embedded names that may be compressed when writing this
 * RDATA into a message (RFC 3597 §4: NS, CNAME, SOA (two), MX, PTR).
 * Fills offs[] (at most 2) and returns the count (0 for other types).
 */
int rdata_compressible_names(uint16_t type, const uint8_t *rd, size_t rdlen, size_t offs[2]);

/*
 * The name that triggers additional-section processing (RFC 1034 §4.3.2,
 * RFC 2782): NS and MX exchange, SRV target. Returns a pointer into rd or
 * NULL for other types.
 */
const uint8_t *rdata_target_name(uint16_t type, const uint8_t *rd, size_t rdlen);

/* Lower-cases embedded names of the types listed above, in place. */
void rdata_lower_names(uint16_t type, uint8_t *rd, size_t rdlen);

#endif
