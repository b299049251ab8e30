/*
 * rdata.c: RR type mnemonics and RDATA between wire and presentation form.
 *
 * One invariant drives this file: the set of wire RDATA that rdata_check()
 * accepts is exactly the set rdata_parse_text() can produce, and
 * rdata_print() maps every accepted value to one text that parses back to
 * the same bytes. So parse(print(x)) == x for every valid x, and
 * print(parse(t)) is a fixed point; the database stores that printed text
 * and dnsd can always load it. The fuzz target checks both directions.
 * To keep that true every parser ends by running the wire checker on what
 * it produced, so a gap between the two shows up as an error, never as a
 * stored record nobody can read back.
 *
 * Presentation syntax (RFC 1035 §5.1, as BIND, NSD and Knot read it):
 *   - tokens are separated by blanks (space, tab, CR, LF; the master-file
 *     reader has already removed comments and parentheses, so unescaped
 *     '(', ')' and ';' outside quotes are refused rather than guessed at);
 *   - a token is either bare or a "quoted string" (no bare text may touch
 *     the closing quote); \X means X and \DDD the octet DDD (0..255, exactly
 *     three digits) in both;
 *   - numbers are plain decimal, no sign, range-checked per field;
 *   - names go to dname_parse_text() (relative names get the origin, '@'
 *     is the origin) and are lower-cased in the output;
 *   - "\# <len> <hex>..." (RFC 3597 §5) is accepted for every type; for the
 *     types we know, the data is validated and names lower-cased, so the
 *     generic spelling of a known record prints in its specific form.
 *
 * Choices where the RFCs leave room, and why:
 *   - SOA refresh/retry/expire/minimum accept TTL units ("1h30m", "2w") as
 *     BIND and Knot do; the serial does not. Values are 32-bit unsigned
 *     (RFC 1035 §3.3.13) and always printed as plain seconds.
 *   - Hex (DS, SSHFP, TLSA, generic) prints in uppercase like kdig, reads
 *     either case; blanks inside are allowed on input. Base64 prints with
 *     no blanks, must be padded on input (see encode.c).
 *   - DS digests of the types whose length is fixed (SHA-1 20, SHA-256 32,
 *     GOST 32, SHA-384 48 octets; RFC 4034, 4509, 5933, 6605) must have that
 *     length, as BIND insists.
 *   - DS/DNSKEY algorithm accepts the RFC 8624 mnemonics on input
 *     ("ECDSAP256SHA256"); printing is numeric like kdig.
 *   - TXT, NAPTR strings and CAA values always print quoted; printable ASCII
 *     stays, '"' and '\' get a backslash, everything else is \DDD.
 *   - CAA tags must be 1+ ASCII letters/digits (RFC 8659 §4.1); case is kept.
 *   - SVCB/HTTPS (RFC 9460): keys by name or keyNNNNN (no leading zeros;
 *     key65535 is reserved), in any order on input, sorted on the wire and
 *     in print; duplicates, params in AliasMode (priority 0, §2.4.2), a
 *     "mandatory" list that names itself, repeats a key or names a key the
 *     record lacks (§8), and no-default-alpn without alpn (§7.1.1) are
 *     errors, on the wire as in text. alpn uses the value-list escaping of
 *     Appendix A.1 (so "\\," is a comma inside an id); ipv4hint, ipv6hint,
 *     port, mandatory and ech refuse escapes as §7 asks. Values print bare
 *     with escapes (never quoted), e.g. alpn=h2,h3 ech=AEn+... .
 *   - Unknown types print "\# len HEX", an empty one "\# 0".
 *
 * Speed: dnsd parses every record of every zone at load, so the hot types
 * (A, AAAA, MX, TXT, NS, CNAME) go through hand-written scanners with no
 * allocation and no sscanf. Only SVCB text with params out of key order
 * does more than linear work (it rotates bytes into place).
 */
#include "rdata.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "encode.h"
#include "err.h"
#include "wire.h"

/* ------------------------------------------------------------------ */
/* Type mnemonics                                                      */
/* ------------------------------------------------------------------ */

struct type_name {
	uint16_t type;
	const char *name;
};

/* IANA "Resource Record (RR) TYPEs" registry, the assigned mnemonics. */
static const struct type_name type_names[] = {
    {1, "A"},		{2, "NS"},	{3, "MD"},	   {4, "MF"},	     {5, "CNAME"},
    {6, "SOA"},		{7, "MB"},	{8, "MG"},	   {9, "MR"},	     {10, "NULL"},
    {11, "WKS"},	{12, "PTR"},	{13, "HINFO"},	   {14, "MINFO"},    {15, "MX"},
    {16, "TXT"},	{17, "RP"},	{18, "AFSDB"},	   {19, "X25"},	     {20, "ISDN"},
    {21, "RT"},		{22, "NSAP"},	{23, "NSAP-PTR"},  {24, "SIG"},	     {25, "KEY"},
    {26, "PX"},		{27, "GPOS"},	{28, "AAAA"},	   {29, "LOC"},	     {30, "NXT"},
    {31, "EID"},	{32, "NIMLOC"}, {33, "SRV"},	   {34, "ATMA"},     {35, "NAPTR"},
    {36, "KX"},		{37, "CERT"},	{38, "A6"},	   {39, "DNAME"},    {40, "SINK"},
    {41, "OPT"},	{42, "APL"},	{43, "DS"},	   {44, "SSHFP"},    {45, "IPSECKEY"},
    {46, "RRSIG"},	{47, "NSEC"},	{48, "DNSKEY"},	   {49, "DHCID"},    {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},	{53, "SMIMEA"},	   {55, "HIP"},	     {56, "NINFO"},
    {57, "RKEY"},	{58, "TALINK"}, {59, "CDS"},	   {60, "CDNSKEY"},  {61, "OPENPGPKEY"},
    {62, "CSYNC"},	{63, "ZONEMD"}, {64, "SVCB"},	   {65, "HTTPS"},    {66, "DSYNC"},
    {99, "SPF"},	{100, "UINFO"}, {101, "UID"},	   {102, "GID"},     {103, "UNSPEC"},
    {104, "NID"},	{105, "L32"},	{106, "L64"},	   {107, "LP"},	     {108, "EUI48"},
    {109, "EUI64"},	{249, "TKEY"},	{250, "TSIG"},	   {251, "IXFR"},    {252, "AXFR"},
    {253, "MAILB"},	{254, "MAILA"}, {255, "ANY"},	   {256, "URI"},     {257, "CAA"},
    {258, "AVC"},	{259, "DOA"},	{260, "AMTRELAY"}, {261, "RESINFO"}, {262, "WALLET"},
    {32768, "TA"},	{32769, "DLV"},
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *rrtype_name(uint16_t type)
{
	size_t lo = 0, hi = NTYPES;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (type_names[mid].type == type)
			return type_names[mid].name;
		if (type_names[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int rrtype_print(uint16_t type, char *buf, size_t cap)
{
	const char *name = rrtype_name(type);
	int n;

	if (name)
		n = snprintf(buf, cap, "%s", name);
	else
		n = snprintf(buf, cap, "TYPE%u", (unsigned)type);
	if (n < 0 || (size_t)n >= cap)
		return ERR_SPACE;
	return n;
}

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

int rrtype_parse(const char *s, size_t len)
{
	if (len == 0 || len > 10)
		return ERR_UNKNOWN_TYPE;
	for (size_t i = 0; i < NTYPES; i++) {
		const char *n = type_names[i].name;
		size_t j = 0;

		/* cheap reject on the first letter before walking the rest */
		if (lower(n[0]) != lower(s[0]))
			continue;
		while (j < len && n[j] && lower(n[j]) == lower(s[j]))
			j++;
		if (j == len && n[j] == '\0')
			return type_names[i].type;
	}
	/* RFC 3597 §5: TYPE followed by the decimal type number. */
	if (len > 4 && len <= 9 && lower(s[0]) == 't' && lower(s[1]) == 'y' && lower(s[2]) == 'p' &&
	    lower(s[3]) == 'e') {
		uint32_t v = 0;

		for (size_t i = 4; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return ERR_UNKNOWN_TYPE;
			v = v * 10 + (uint32_t)(s[i] - '0');
		}
		if (v <= 65535)
			return (int)v;
	}
	return ERR_UNKNOWN_TYPE;
}

/* ------------------------------------------------------------------ */
/* Wire validation                                                     */
/* ------------------------------------------------------------------ */

/* RFC 9460 §14.3.2 SvcParamKeys */
enum svc_key {
	SVC_MANDATORY = 0,
	SVC_ALPN = 1,
	SVC_NO_DEFAULT_ALPN = 2,
	SVC_PORT = 3,
	SVC_IPV4HINT = 4,
	SVC_ECH = 5,
	SVC_IPV6HINT = 6,
	SVC_INVALID = 65535, /* "Invalid key", reserved */
};
#define SVC_NAMED_MAX 6

static const char *const svc_key_names[SVC_NAMED_MAX + 1] = {
    "mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint",
};

/* Reads one uncompressed name at rd[*pos]; false when invalid or it does
 * not fit in len. */
static bool check_name(const uint8_t *rd, size_t len, size_t *pos)
{
	int n;

	if (*pos >= len)
		return false;
	n = dname_check(rd + *pos, len - *pos);
	if (n <= 0)
		return false;
	*pos += (size_t)n;
	return true;
}

/* One character-string: length octet plus that many octets. */
static bool check_cs(const uint8_t *rd, size_t len, size_t *pos)
{
	if (*pos >= len || rd[*pos] > len - *pos - 1)
		return false;
	*pos += 1 + (size_t)rd[*pos];
	return true;
}

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Digest lengths fixed by the digest type (RFC 4034 §5.1.4, RFC 4509,
 * RFC 5933, RFC 6605); 0 when the type does not fix it. */
static size_t ds_digest_len(uint8_t dt)
{
	switch (dt) {
	case 1:
		return 20;
	case 2:
	case 3:
		return 32;
	case 4:
		return 48;
	default:
		return 0;
	}
}

static bool svc_params_has(const uint8_t *p, size_t len, uint16_t key)
{
	size_t pos = 0;

	while (pos + 4 <= len) {
		uint16_t k = wire_get_u16(p + pos);
		size_t vl = wire_get_u16(p + pos + 2);

		if (k == key)
			return true;
		if (k > key)
			return false;
		pos += 4 + vl;
	}
	return false;
}

/* Validates the value of one SvcParam given its key (RFC 9460 §7). */
static const char *check_svc_value(uint16_t key, const uint8_t *v, size_t vl)
{
	switch (key) {
	case SVC_MANDATORY:
		if (vl == 0 || vl % 2)
			return "mandatory value must be a non-empty list of keys";
		for (size_t i = 0; i < vl; i += 2) {
			uint16_t k = wire_get_u16(v + i);

			if (k == SVC_MANDATORY)
				return "mandatory must not list itself";
			if (k == SVC_INVALID)
				return "key65535 is reserved";
			if (i && k <= wire_get_u16(v + i - 2))
				return "mandatory keys must be strictly increasing and unique";
		}
		return NULL;
	case SVC_ALPN:
		if (vl == 0)
			return "alpn needs at least one protocol id";
		for (size_t i = 0; i < vl;) {
			if (v[i] == 0)
				return "alpn protocol ids must not be empty";
			if (v[i] > vl - i - 1)
				return "alpn protocol id overruns the value";
			i += 1 + (size_t)v[i];
		}
		return NULL;
	case SVC_NO_DEFAULT_ALPN:
		return vl == 0 ? NULL : "no-default-alpn takes no value";
	case SVC_PORT:
		return vl == 2 ? NULL : "port value must be 2 octets";
	case SVC_IPV4HINT:
		return vl && vl % 4 == 0 ? NULL
					 : "ipv4hint must be a non-empty list of IPv4 addresses";
	case SVC_ECH:
		return vl ? NULL : "ech value must not be empty";
	case SVC_IPV6HINT:
		return vl && vl % 16 == 0 ? NULL
					  : "ipv6hint must be a non-empty list of IPv6 addresses";
	default:
		return NULL;
	}
}

static const char *check_svcb(const uint8_t *rd, size_t len)
{
	size_t pos = 2, params;
	uint16_t prio;
	int32_t prev = -1;
	const uint8_t *mand = NULL;
	size_t mandlen = 0;

	if (len < 3)
		return "too short for priority and target";
	prio = wire_get_u16(rd);
	if (!check_name(rd, len, &pos))
		return "bad target name";
	params = pos;
	while (pos < len) {
		uint16_t key, vl;
		const char *why;

		if (len - pos < 4)
			return "truncated parameter";
		key = wire_get_u16(rd + pos);
		vl = wire_get_u16(rd + pos + 2);
		if (vl > len - pos - 4)
			return "parameter value overruns the RDATA";
		if ((int32_t)key <= prev)
			return "parameter keys must be strictly increasing (RFC 9460 §2.2)";
		if (key == SVC_INVALID)
			return "key65535 is reserved";
		why = check_svc_value(key, rd + pos + 4, vl);
		if (why)
			return why;
		if (key == SVC_MANDATORY) {
			mand = rd + pos + 4;
			mandlen = vl;
		}
		prev = key;
		pos += 4 + (size_t)vl;
	}
	if (prio == 0 && params < len)
		return "AliasMode (priority 0) takes no parameters (RFC 9460 §2.4.2)";
	for (size_t i = 0; i < mandlen; i += 2)
		if (!svc_params_has(rd + params, len - params, wire_get_u16(mand + i)))
			return "mandatory lists a key the record does not have (RFC 9460 §8)";
	if (svc_params_has(rd + params, len - params, SVC_NO_DEFAULT_ALPN) &&
	    !svc_params_has(rd + params, len - params, SVC_ALPN))
		return "no-default-alpn requires alpn (RFC 9460 §7.1.1)";
	return NULL;
}

/*
 * The one wire checker: NULL when rd is valid RDATA of the type, else a
 * short reason (static string) for error messages.
 */
static const char *check_rd(uint16_t type, const uint8_t *rd, size_t len)
{
	size_t pos = 0;

	if (len > RDATA_MAXLEN)
		return "longer than 65535 octets";
	switch (type) {
	case RRTYPE_A:
		return len == 4 ? NULL : "A RDATA must be 4 octets";
	case RRTYPE_AAAA:
		return len == 16 ? NULL : "AAAA RDATA must be 16 octets";
	case RRTYPE_NS:
	case RRTYPE_CNAME:
	case RRTYPE_DNAME:
	case RRTYPE_PTR:
		if (!check_name(rd, len, &pos))
			return "bad domain name";
		break;
	case RRTYPE_SOA:
		if (!check_name(rd, len, &pos) || !check_name(rd, len, &pos))
			return "bad domain name";
		if (len - pos < 20)
			return "too short for the SOA numbers";
		pos += 20;
		break;
	case RRTYPE_MX:
		pos = 2;
		if (len < 2 || !check_name(rd, len, &pos))
			return "bad domain name";
		break;
	case RRTYPE_TXT:
		if (len == 0)
			return "TXT needs at least one string";
		while (pos < len)
			if (!check_cs(rd, len, &pos))
				return "character-string overruns the RDATA";
		break;
	case RRTYPE_SRV:
		pos = 6;
		if (len < 6 || !check_name(rd, len, &pos))
			return "bad domain name";
		break;
	case RRTYPE_NAPTR:
		pos = 4;
		if (len < 4)
			return "too short";
		for (int i = 0; i < 3; i++)
			if (!check_cs(rd, len, &pos))
				return "character-string overruns the RDATA";
		if (!check_name(rd, len, &pos))
			return "bad domain name";
		break;
	case RRTYPE_CAA:
		if (len < 2 || rd[1] == 0 || rd[1] > len - 2)
			return "bad tag length";
		for (size_t i = 0; i < rd[1]; i++)
			if (!is_alnum(rd[2 + i]))
				return "tag must be letters and digits (RFC 8659 §4.1)";
		pos = len;
		break;
	case RRTYPE_SSHFP:
		if (len < 3)
			return "missing fingerprint";
		pos = len;
		break;
	case RRTYPE_TLSA:
		if (len < 4)
			return "missing certificate data";
		pos = len;
		break;
	case RRTYPE_DS:
		if (len < 5)
			return "missing digest";
		if (ds_digest_len(rd[3]) && ds_digest_len(rd[3]) != len - 4)
			return "digest length does not match the digest type";
		pos = len;
		break;
	case RRTYPE_DNSKEY:
		if (len < 5)
			return "missing public key";
		pos = len;
		break;
	case RRTYPE_SVCB:
	case RRTYPE_HTTPS:
		return check_svcb(rd, len);
	default:
		/* RFC 3597: any octets are valid for a type we do not know. */
		return NULL;
	}
	return pos == len ? NULL : "trailing octets after the last field";
}

int rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	if (rd == NULL && rdlen)
		return ERR_MALFORMED;
	return check_rd(type, rd, rdlen) ? ERR_MALFORMED : 0;
}

/* ------------------------------------------------------------------ */
/* Embedded names                                                      */
/* ------------------------------------------------------------------ */

/* Offset of the first embedded name for the types with names, or -1. */
static long first_name_off(uint16_t type)
{
	switch (type) {
	case RRTYPE_NS:
	case RRTYPE_CNAME:
	case RRTYPE_DNAME:
	case RRTYPE_PTR:
	case RRTYPE_SOA:
		return 0;
	case RRTYPE_MX:
	case RRTYPE_SVCB:
	case RRTYPE_HTTPS:
		return 2;
	case RRTYPE_SRV:
		return 6;
	default:
		return -1;
	}
}

int rdata_compressible_names(uint16_t type, const uint8_t *rd, size_t rdlen, size_t offs[2])
{
	size_t pos = 0;

	switch (type) {
	case RRTYPE_NS:
	case RRTYPE_CNAME:
	case RRTYPE_PTR:
	case RRTYPE_MX:
		pos = type == RRTYPE_MX ? 2 : 0;
		offs[0] = pos;
		if (rdlen < pos || !check_name(rd, rdlen, &pos))
			return ERR_MALFORMED;
		return 1;
	case RRTYPE_SOA:
		offs[0] = 0;
		if (!check_name(rd, rdlen, &pos))
			return ERR_MALFORMED;
		offs[1] = pos;
		if (!check_name(rd, rdlen, &pos))
			return ERR_MALFORMED;
		return 2;
	default:
		return 0;
	}
}

const uint8_t *rdata_target_name(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t pos;

	switch (type) {
	case RRTYPE_NS:
		pos = 0;
		break;
	case RRTYPE_MX:
		pos = 2;
		break;
	case RRTYPE_SRV:
		pos = 6;
		break;
	default:
		return NULL;
	}
	if (rd == NULL || rdlen <= pos)
		return NULL;
	{
		size_t p = pos;

		if (!check_name(rd, rdlen, &p))
			return NULL;
	}
	return rd + pos;
}

/* Lower-cases the name at rd[*pos] (already checked) and steps past it. */
static bool lower_at(uint8_t *rd, size_t rdlen, size_t *pos)
{
	size_t p = *pos;

	if (!check_name(rd, rdlen, pos))
		return false;
	dname_lower(rd + p);
	return true;
}

void rdata_lower_names(uint16_t type, uint8_t *rd, size_t rdlen)
{
	size_t pos;
	long first = first_name_off(type);

	if (rd == NULL)
		return;
	if (type == RRTYPE_NAPTR) {
		pos = 4;
		if (rdlen < 4)
			return;
		for (int i = 0; i < 3; i++)
			if (!check_cs(rd, rdlen, &pos))
				return;
		(void)lower_at(rd, rdlen, &pos);
		return;
	}
	if (first < 0 || rdlen <= (size_t)first)
		return;
	pos = (size_t)first;
	if (lower_at(rd, rdlen, &pos) && type == RRTYPE_SOA)
		(void)lower_at(rd, rdlen, &pos);
}

int rdata_unpack(uint16_t type, struct wire *w, uint16_t rdlen, uint8_t *out, size_t cap)
{
	struct wire sub;
	size_t start, end, o = 0;
	int nnames = 0;

	if (w->err)
		return w->err;
	if (rdlen > wire_left(w)) {
		wire_fail(w, ERR_TRUNCATED);
		return ERR_TRUNCATED;
	}
	start = w->pos;
	end = start + rdlen;
	switch (type) {
	case RRTYPE_NS:
	case RRTYPE_CNAME:
	case RRTYPE_PTR:
		nnames = 1;
		break;
	case RRTYPE_MX:
		nnames = 1;
		o = 2;
		break;
	case RRTYPE_SOA:
		nnames = 2;
		break;
	default:
		break;
	}
	if (nnames == 0) {
		/* Names in other types must not be compressed (RFC 3597 §4), so
		 * the RDATA is copied as is and validated. */
		if (rdlen > cap) {
			wire_skip(w, rdlen);
			return ERR_SPACE;
		}
		wire_read(w, out, rdlen);
		if (check_rd(type, out, rdlen))
			return ERR_MALFORMED;
		return rdlen;
	}

	/* A reader that ends where the RDATA ends, so a name cannot run into
	 * the next record, while pointers still resolve against the whole
	 * message before it. */
	sub.base = w->base;
	sub.len = end;
	sub.pos = start;
	sub.err = 0;
	if (o) {
		if (rdlen < o || cap < o) {
			wire_skip(w, rdlen);
			return rdlen < o ? ERR_MALFORMED : ERR_SPACE;
		}
		wire_read(&sub, out, o);
	}
	for (int i = 0; i < nnames; i++) {
		uint8_t name[DNAME_MAXLEN];
		int n = dname_parse_wire(&sub, name);

		if (n < 0) {
			wire_skip(w, rdlen);
			return n == ERR_TRUNCATED ? ERR_MALFORMED : n;
		}
		if ((size_t)n > cap - o) {
			wire_skip(w, rdlen);
			return ERR_SPACE;
		}
		memcpy(out + o, name, (size_t)n);
		o += (size_t)n;
	}
	if (type == RRTYPE_SOA) {
		if (end - sub.pos != 20) {
			wire_skip(w, rdlen);
			return ERR_MALFORMED;
		}
		if (cap - o < 20) {
			wire_skip(w, rdlen);
			return ERR_SPACE;
		}
		wire_read(&sub, out + o, 20);
		o += 20;
	}
	wire_skip(w, rdlen);
	/* every byte of RDLENGTH consumed exactly */
	if (sub.err || sub.pos != end || o > RDATA_MAXLEN)
		return ERR_MALFORMED;
	return (int)o;
}

/* ------------------------------------------------------------------ */
/* Presentation parsing                                                */
/* ------------------------------------------------------------------ */

struct ptx {
	const char *s;	       /* the text */
	size_t len;	       /* its length */
	size_t pos;	       /* next character to tokenize */
	const uint8_t *origin; /* for relative names, may be NULL */
	uint8_t *out;	       /* RDATA being built */
	size_t lim;	       /* min(cap, RDATA_MAXLEN) */
	size_t cap;	       /* caller's capacity */
	size_t olen;	       /* bytes written to out */
	size_t last_off;       /* offset of the last token, for space errors */
	struct text_err *e;    /* never NULL inside the parser */
};

struct tok {
	const char *p; /* token text, without the quotes when quoted */
	size_t len;    /* its length */
	size_t off;    /* offset of the token's first character in the input */
	bool quoted;   /* the whole token was a "quoted string" */
	bool vquoted;  /* SVCB: key="value"; v/vlen hold the quoted part */
	const char *v; /* SVCB value text (escapes not yet decoded) */
	size_t vlen;   /* its length */
};

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

__attribute__((format(printf, 4, 5))) static int fail(struct ptx *x, size_t off, int code,
						      const char *fmt, ...)
{
	va_list ap;

	x->e->offset = off;
	va_start(ap, fmt);
	vsnprintf(x->e->msg, sizeof(x->e->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* A printable, bounded echo of a token for messages. */
static const char *show(const char *p, size_t n, char buf[48])
{
	size_t o = 0;

	for (size_t i = 0; i < n && o < 40; i++)
		buf[o++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (n > 40) {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Reads the next token. Returns 1 with *t filled, 0 at the end of the text,
 * or a negative error. svcb: a bare token may switch to a quoted value
 * right after its first '=' (key="a value").
 */
static int next_token(struct ptx *x, struct tok *t, bool svcb)
{
	const char *s = x->s;
	size_t n = x->len, i = x->pos, start;

	while (i < n && is_blank(s[i]))
		i++;
	x->pos = i;
	if (i == n)
		return 0;
	start = i;
	t->off = start;
	t->vquoted = false;
	t->v = NULL;
	t->vlen = 0;
	x->last_off = start;
	if (s[i] == '"') {
		i++;
		while (i < n && s[i] != '"')
			i += s[i] == '\\' ? 2 : 1;
		if (i >= n)
			return fail(x, start, ERR_SYNTAX, "unterminated quoted string");
		t->p = s + start + 1;
		t->len = i - start - 1;
		t->quoted = true;
		i++;
		if (i < n && !is_blank(s[i]))
			return fail(x, i, ERR_SYNTAX, "expected a blank after the closing quote");
		x->pos = i;
		return 1;
	}
	t->quoted = false;
	bool seen_eq = false;
	while (i < n && !is_blank(s[i])) {
		char c = s[i];

		if (c == '\\') {
			if (i + 1 >= n)
				return fail(x, i, ERR_SYNTAX, "backslash at the end of the text");
			i += 2;
			continue;
		}
		if (c == '(' || c == ')' || c == ';')
			return fail(x, i, ERR_SYNTAX,
				    "unexpected '%c' (escape it with a backslash or use quotes)",
				    c);
		if (c == '"') {
			size_t q = i;

			if (!svcb || !seen_eq || s[i - 1] != '=' ||
			    memchr(s + start, '=', i - start) != s + i - 1)
				return fail(x, i, ERR_SYNTAX, "unexpected '\"' inside a token");
			i++;
			while (i < n && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			if (i >= n)
				return fail(x, q, ERR_SYNTAX, "unterminated quoted string");
			t->vquoted = true;
			t->v = s + q + 1;
			t->vlen = i - q - 1;
			i++;
			if (i < n && !is_blank(s[i]))
				return fail(x, i, ERR_SYNTAX,
					    "expected a blank after the closing quote");
			break;
		}
		if (c == '=')
			seen_eq = true;
		i++;
	}
	t->p = s + start;
	t->len = i - start;
	x->pos = i;
	return 1;
}

/* Next token or a "missing" error naming the field. */
static int need(struct ptx *x, struct tok *t, const char *field)
{
	int r = next_token(x, t, false);

	if (r == 0)
		return fail(x, x->len, ERR_SYNTAX, "%s: missing", field);
	return r < 0 ? r : 0;
}

/* Fails when the output would grow past the caller's buffer or 65535. */
static int room(struct ptx *x, size_t n)
{
	if (n <= x->lim - x->olen)
		return 0;
	if (x->lim == RDATA_MAXLEN)
		return fail(x, x->last_off, ERR_RANGE, "RDATA longer than 65535 octets");
	return fail(x, x->last_off, ERR_SPACE, "RDATA longer than the output buffer (%zu)", x->cap);
}

static int put(struct ptx *x, const void *p, size_t n)
{
	int r = room(x, n);

	if (r)
		return r;
	memcpy(x->out + x->olen, p, n);
	x->olen += n;
	return 0;
}

static int put_u8(struct ptx *x, uint32_t v)
{
	uint8_t b = (uint8_t)v;

	return put(x, &b, 1);
}

static int put_u16(struct ptx *x, uint32_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	return put(x, b, 2);
}

static int put_u32(struct ptx *x, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	return put(x, b, 4);
}

/* Plain decimal; 0, ERR_SYNTAX (not a number) or ERR_RANGE (> max). */
static int dec_u32(const char *p, size_t n, uint32_t max, uint32_t *v)
{
	uint64_t acc = 0;

	if (n == 0)
		return ERR_SYNTAX;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return ERR_SYNTAX;
		if (acc <= max)
			acc = acc * 10 + (uint64_t)(p[i] - '0');
	}
	if (acc > max)
		return ERR_RANGE;
	*v = (uint32_t)acc;
	return 0;
}

static int num_fail(struct ptx *x, const struct tok *t, const char *field, uint32_t max, int r)
{
	char b[48];

	if (r == ERR_RANGE)
		return fail(x, t->off, ERR_RANGE, "%s: '%s' is out of range 0..%u", field,
			    show(t->p, t->len, b), (unsigned)max);
	return fail(x, t->off, ERR_SYNTAX, "%s: '%s' is not a number 0..%u", field,
		    show(t->p, t->len, b), (unsigned)max);
}

static int get_uint(struct ptx *x, const char *field, uint32_t max, uint32_t *v)
{
	struct tok t;
	int r = need(x, &t, field);

	if (r)
		return r;
	r = t.quoted ? ERR_SYNTAX : dec_u32(t.p, t.len, max, v);
	return r ? num_fail(x, &t, field, max, r) : 0;
}

static int get_u8(struct ptx *x, const char *field)
{
	uint32_t v;
	int r = get_uint(x, field, 255, &v);

	return r ? r : put_u8(x, v);
}

static int get_u16(struct ptx *x, const char *field)
{
	uint32_t v;
	int r = get_uint(x, field, 65535, &v);

	return r ? r : put_u16(x, v);
}

/* TTL-style time for SOA timers: "3600", "1h30m", "2W"; fits 32 bits. */
static int time_u32(const char *p, size_t n, uint32_t *v)
{
	uint64_t total = 0, cur = 0;
	bool digits = false;
	size_t i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == n)
		return dec_u32(p, n, UINT32_MAX, v);
	for (i = 0; i < n; i++) {
		char c = lower(p[i]);
		uint64_t mul;

		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (uint64_t)(c - '0');
			if (cur > UINT32_MAX)
				return ERR_RANGE;
			digits = true;
			continue;
		}
		switch (c) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'w':
			mul = 604800;
			break;
		default:
			return ERR_SYNTAX;
		}
		if (!digits)
			return ERR_SYNTAX;
		total += cur * mul;
		if (total > UINT32_MAX)
			return ERR_RANGE;
		cur = 0;
		digits = false;
	}
	if (digits) /* "1h30": a number without its unit at the end */
		return ERR_SYNTAX;
	*v = (uint32_t)total;
	return 0;
}

static int get_time(struct ptx *x, const char *field)
{
	struct tok t;
	uint32_t v;
	char b[48];
	int r = need(x, &t, field);

	if (r)
		return r;
	r = t.quoted ? ERR_SYNTAX : time_u32(t.p, t.len, &v);
	if (r == ERR_RANGE)
		return fail(x, t.off, ERR_RANGE, "%s: '%s' is out of range 0..4294967295 seconds",
			    field, show(t.p, t.len, b));
	if (r)
		return fail(x, t.off, ERR_SYNTAX,
			    "%s: '%s' is not a time (seconds, or units like 1h30m)", field,
			    show(t.p, t.len, b));
	return put_u32(x, v);
}

/* Strict dotted quad: four decimal octets, no leading zeros. */
static bool parse_ipv4(const char *p, size_t n, uint8_t a[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, nd = 0;

		if (part) {
			if (i >= n || p[i] != '.')
				return false;
			i++;
		}
		while (i < n && p[i] >= '0' && p[i] <= '9' && nd < 4) {
			v = v * 10 + (unsigned)(p[i] - '0');
			nd++;
			i++;
		}
		if (nd == 0 || nd > 3 || v > 255 || (nd > 1 && p[i - nd] == '0'))
			return false;
		a[part] = (uint8_t)v;
	}
	return i == n;
}

static bool parse_ipv6(const char *p, size_t n, uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(buf))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' ||
		      c == '.'))
			return false;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1;
}

/*
 * Decodes presentation text with \X and \DDD escapes into dst (NULL: count
 * only). Returns the decoded length, -1 when it would exceed cap, -2 for a
 * bad escape (*bad = its index in p).
 */
static long cs_decode(const char *p, size_t n, uint8_t *dst, size_t cap, size_t *bad)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)p[i];

		if (c == '\\') {
			if (i + 1 >= n) {
				*bad = i;
				return -2;
			}
			if (p[i + 1] >= '0' && p[i + 1] <= '9') {
				unsigned v;

				if (i + 3 >= n || p[i + 2] < '0' || p[i + 2] > '9' ||
				    p[i + 3] < '0' || p[i + 3] > '9') {
					*bad = i;
					return -2;
				}
				v = (unsigned)(p[i + 1] - '0') * 100 +
				    (unsigned)(p[i + 2] - '0') * 10 + (unsigned)(p[i + 3] - '0');
				if (v > 255) {
					*bad = i;
					return -2;
				}
				c = (uint8_t)v;
				i += 3;
			} else {
				c = (uint8_t)p[++i];
			}
		}
		if (dst) {
			if (o >= cap)
				return -1;
			dst[o] = c;
		}
		o++;
	}
	return (long)o;
}

/* p/n: the text that was being decoded (inside t), bad: index in p. */
static int escape_fail(struct ptx *x, const char *field, const struct tok *t, const char *p,
		       size_t n, size_t bad)
{
	size_t off = t->off + (size_t)(p - t->p) + (t->quoted ? 1 : 0) + bad;
	char b[48];

	return fail(x, off, ERR_SYNTAX, "%s: bad escape '%s' (\\X, or \\DDD with DDD <= 255)",
		    field, show(p + bad, n - bad < 4 ? n - bad : 4, b));
}

/* One <character-string> (RFC 1035 §3.3) with its length octet. idx > 0
 * numbers the string in messages ("TXT string 2"). */
static int put_cs(struct ptx *x, const struct tok *t, const char *field, int idx)
{
	char fbuf[40];
	size_t bad = 0, avail;
	long n;

	if (x->olen >= x->lim)
		return room(x, 1);
	avail = x->lim - x->olen - 1;
	n = cs_decode(t->p, t->len, x->out + x->olen + 1, avail < 255 ? avail : 255, &bad);
	if (n < 0 && idx > 0) {
		snprintf(fbuf, sizeof(fbuf), "%s %d", field, idx);
		field = fbuf;
	}
	if (n == -2)
		return escape_fail(x, field, t, t->p, t->len, bad);
	if (n == -1) {
		long all = cs_decode(t->p, t->len, NULL, 0, &bad);

		if (all > TXT_STRING_MAXLEN)
			return fail(x, t->off, ERR_TXT_TOO_LONG,
				    "%s: string of %ld octets is longer than 255", field, all);
		return room(x, (size_t)all + 1);
	}
	x->out[x->olen] = (uint8_t)n;
	x->olen += 1 + (size_t)n;
	return 0;
}

static int name_fail(struct ptx *x, const struct tok *t, const char *field, int r)
{
	char b[48];
	const char *why;

	switch (r) {
	case ERR_LABEL_TOO_LONG:
		why = "has a label longer than 63 octets";
		break;
	case ERR_NAME_TOO_LONG:
		why = "is longer than 255 octets";
		break;
	case ERR_RELATIVE_NAME:
		why = "is relative and there is no origin";
		break;
	default:
		why = "is not a valid domain name";
		break;
	}
	return fail(x, t->off, r, "%s: '%s' %s", field, show(t->p, t->len, b), why);
}

/* A domain name, lower-cased. */
static int get_name(struct ptx *x, const char *field)
{
	struct tok t;
	uint8_t name[DNAME_MAXLEN];
	int n, r = need(x, &t, field);

	if (r)
		return r;
	if (t.quoted)
		return fail(x, t.off, ERR_SYNTAX, "%s: expected a domain name, not a quoted string",
			    field);
	n = dname_parse_text(t.p, t.len, x->origin, name);
	if (n < 0)
		return name_fail(x, &t, field, n);
	if ((r = put(x, name, (size_t)n)) != 0)
		return r;
	dname_lower(x->out + x->olen - (size_t)n);
	return 0;
}

/* All remaining tokens as one hex string of at least min octets. */
static int get_hex_rest(struct ptx *x, const char *field, size_t min)
{
	struct encode_hex_state st;
	struct tok t;
	size_t start = x->olen, bad = 0;
	int r;

	encode_hex_init(&st);
	while ((r = next_token(x, &t, false)) > 0) {
		char b[48];

		if (t.quoted)
			return fail(x, t.off, ERR_SYNTAX,
				    "%s: expected hex digits, not a quoted string", field);
		r = encode_hex_decode(&st, t.p, t.len, x->out, x->lim, &x->olen, &bad);
		if (r == ERR_SYNTAX)
			return fail(x, t.off + bad, ERR_SYNTAX, "%s: '%s' is not a hex digit",
				    field, show(t.p + bad, 1, b));
		if (r)
			return room(x, x->lim - x->olen + 1);
	}
	if (r < 0)
		return r;
	if (encode_hex_finish(&st))
		return fail(x, x->len, ERR_SYNTAX, "%s: odd number of hex digits", field);
	if (x->olen - start < min)
		return fail(x, x->len, ERR_SYNTAX, "%s: missing", field);
	return 0;
}

/* Base64 from one value, or from all remaining tokens (rest). */
static int b64_fail(struct ptx *x, const char *field, size_t off, const char *p)
{
	char b[48];

	return fail(x, off, ERR_SYNTAX,
		    "%s: '%s' is not valid base64 here (alphabet A-Z a-z 0-9 + /, '=' padding)",
		    field, show(p, 1, b));
}

static int get_b64_rest(struct ptx *x, const char *field)
{
	struct encode_b64_state st;
	struct tok t;
	size_t start = x->olen, bad = 0;
	int r;

	encode_b64_init(&st);
	while ((r = next_token(x, &t, false)) > 0) {
		if (t.quoted)
			return fail(x, t.off, ERR_SYNTAX,
				    "%s: expected base64, not a quoted string", field);
		r = encode_b64_decode(&st, t.p, t.len, x->out, x->lim, &x->olen, &bad);
		if (r == ERR_SYNTAX)
			return b64_fail(x, field, t.off + bad, t.p + bad);
		if (r)
			return room(x, x->lim - x->olen + 3);
	}
	if (r < 0)
		return r;
	if (encode_b64_finish(&st))
		return fail(x, x->len, ERR_SYNTAX,
			    "%s: base64 ends in the middle of a group (missing '=' padding?)",
			    field);
	if (x->olen == start)
		return fail(x, x->len, ERR_SYNTAX, "%s: missing", field);
	return 0;
}

static int p_a(struct ptx *x)
{
	struct tok t;
	uint8_t a[4];
	char b[48];
	int r = need(x, &t, "A address");

	if (r)
		return r;
	if (t.quoted || !parse_ipv4(t.p, t.len, a))
		return fail(x, t.off, ERR_SYNTAX, "A address: '%s' is not an IPv4 address",
			    show(t.p, t.len, b));
	return put(x, a, 4);
}

static int p_aaaa(struct ptx *x)
{
	struct tok t;
	uint8_t a[16];
	char b[48];
	int r = need(x, &t, "AAAA address");

	if (r)
		return r;
	if (t.quoted || !parse_ipv6(t.p, t.len, a))
		return fail(x, t.off, ERR_SYNTAX, "AAAA address: '%s' is not an IPv6 address",
			    show(t.p, t.len, b));
	return put(x, a, 16);
}

static int p_soa(struct ptx *x)
{
	int r;

	if ((r = get_name(x, "SOA mname")) || (r = get_name(x, "SOA rname")))
		return r;
	{
		uint32_t serial;

		if ((r = get_uint(x, "SOA serial", UINT32_MAX, &serial)) ||
		    (r = put_u32(x, serial)))
			return r;
	}
	if ((r = get_time(x, "SOA refresh")) || (r = get_time(x, "SOA retry")) ||
	    (r = get_time(x, "SOA expire")) || (r = get_time(x, "SOA minimum")))
		return r;
	return 0;
}

static int p_txt(struct ptx *x)
{
	struct tok t;
	int r, n = 0;

	while ((r = next_token(x, &t, false)) > 0)
		if ((r = put_cs(x, &t, "TXT string", ++n)) != 0)
			return r;
	if (r < 0)
		return r;
	if (n == 0)
		return fail(x, x->len, ERR_SYNTAX, "TXT: at least one string is required");
	return 0;
}

static int p_naptr(struct ptx *x)
{
	static const char *const f[3] = {"NAPTR flags", "NAPTR services", "NAPTR regexp"};
	struct tok t;
	int r;

	if ((r = get_u16(x, "NAPTR order")) || (r = get_u16(x, "NAPTR preference")))
		return r;
	for (int i = 0; i < 3; i++)
		if ((r = need(x, &t, f[i])) || (r = put_cs(x, &t, f[i], 0)))
			return r;
	return get_name(x, "NAPTR replacement");
}

static int p_caa(struct ptx *x)
{
	struct tok t;
	size_t bad = 0;
	long n;
	char b[48];
	int r;

	if ((r = get_u8(x, "CAA flags")) || (r = need(x, &t, "CAA tag")))
		return r;
	if (t.quoted || t.len == 0 || t.len > 255)
		return fail(x, t.off, ERR_SYNTAX, "CAA tag: '%s' must be 1..255 letters and digits",
			    show(t.p, t.len, b));
	for (size_t i = 0; i < t.len; i++)
		if (!is_alnum((uint8_t)t.p[i]))
			return fail(x, t.off + i, ERR_SYNTAX,
				    "CAA tag: '%s' must be letters and digits only (RFC 8659 §4.1)",
				    show(t.p, t.len, b));
	if ((r = put_u8(x, (uint32_t)t.len)) || (r = put(x, t.p, t.len)))
		return r;
	if ((r = need(x, &t, "CAA value")))
		return r;
	/* The value is the rest of the RDATA, not a character-string: it may
	 * exceed 255 octets and carries no length octet (RFC 8659 §4.1.1). */
	n = cs_decode(t.p, t.len, x->out + x->olen, x->lim - x->olen, &bad);
	if (n == -2)
		return escape_fail(x, "CAA value", &t, t.p, t.len, bad);
	if (n == -1)
		return room(x, x->lim - x->olen + 1);
	x->olen += (size_t)n;
	return 0;
}

static int dnssec_alg(const char *p, size_t n, uint32_t *v)
{
	/* RFC 8624 §3.1 / IANA "DNS Security Algorithm Numbers" mnemonics */
	static const struct {
		const char *name;
		uint8_t num;
	} algs[] = {
	    {"RSAMD5", 1},
	    {"DH", 2},
	    {"DSA", 3},
	    {"RSASHA1", 5},
	    {"DSA-NSEC3-SHA1", 6},
	    {"RSASHA1-NSEC3-SHA1", 7},
	    {"RSASHA256", 8},
	    {"RSASHA512", 10},
	    {"ECC-GOST", 12},
	    {"ECDSAP256SHA256", 13},
	    {"ECDSAP384SHA384", 14},
	    {"ED25519", 15},
	    {"ED448", 16},
	    {"INDIRECT", 252},
	    {"PRIVATEDNS", 253},
	    {"PRIVATEOID", 254},
	};
	int r = dec_u32(p, n, 255, v);

	if (r != ERR_SYNTAX)
		return r;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].name) == n && strncasecmp(algs[i].name, p, n) == 0) {
			*v = algs[i].num;
			return 0;
		}
	return ERR_SYNTAX;
}

static int get_alg(struct ptx *x, const char *field)
{
	struct tok t;
	uint32_t v;
	char b[48];
	int r = need(x, &t, field);

	if (r)
		return r;
	r = t.quoted ? ERR_SYNTAX : dnssec_alg(t.p, t.len, &v);
	if (r == ERR_RANGE)
		return num_fail(x, &t, field, 255, r);
	if (r)
		return fail(x, t.off, ERR_SYNTAX,
			    "%s: '%s' is not an algorithm number 0..255 or mnemonic", field,
			    show(t.p, t.len, b));
	return put_u8(x, v);
}

static int p_ds(struct ptx *x)
{
	size_t start = x->olen, want, got;
	int r;

	if ((r = get_u16(x, "DS key tag")) || (r = get_alg(x, "DS algorithm")) ||
	    (r = get_u8(x, "DS digest type")) || (r = get_hex_rest(x, "DS digest", 1)))
		return r;
	want = ds_digest_len(x->out[start + 3]);
	got = x->olen - start - 4;
	if (want && want != got)
		return fail(x, x->len, ERR_INVALID,
			    "DS digest: %zu octets, but digest type %u needs %zu", got,
			    (unsigned)x->out[start + 3], want);
	return 0;
}

static int p_dnskey(struct ptx *x)
{
	int r;

	if ((r = get_u16(x, "DNSKEY flags")) || (r = get_u8(x, "DNSKEY protocol")) ||
	    (r = get_alg(x, "DNSKEY algorithm")))
		return r;
	return get_b64_rest(x, "DNSKEY public key");
}

/* ---- SVCB / HTTPS (RFC 9460) ---- */

/* Key by name or keyNNNNN; returns 0..65535, or -1. */
static long svc_key_parse(const char *p, size_t n)
{
	uint32_t v;

	for (int k = 0; k <= SVC_NAMED_MAX; k++)
		if (strlen(svc_key_names[k]) == n && memcmp(svc_key_names[k], p, n) == 0)
			return k;
	/* "keyNNNNN", decimal without leading zeros (RFC 9460 §2.1) */
	if (n < 4 || n > 8 || memcmp(p, "key", 3) != 0 || (p[3] == '0' && n > 4))
		return -1;
	if (dec_u32(p + 3, n - 3, 65535, &v))
		return -1;
	return v;
}

static int svc_fail_key(struct ptx *x, const char *tn, const struct tok *t, size_t klen)
{
	char b[48];

	return fail(x, t->off, ERR_SYNTAX, "%s parameter: '%s' is not a known key or keyNNNNN", tn,
		    show(t->p, klen, b));
}

/* RFC 9460 §7: these values are plain lists and must not use escapes. */
static int svc_value_plain(struct ptx *x, const char *tn, const char *kn, const struct tok *t,
			   const char *v, size_t vl)
{
	if (memchr(v, '\\', vl))
		return fail(x, t->off, ERR_SYNTAX, "%s %s: escapes are not allowed (RFC 9460 §7)",
			    tn, kn);
	return 0;
}

static int svc_list_ip(struct ptx *x, const char *tn, const char *kn, const struct tok *t,
		       const char *v, size_t vl, bool v6)
{
	size_t i = 0;
	int r;

	if ((r = svc_value_plain(x, tn, kn, t, v, vl)))
		return r;
	while (i <= vl) {
		const char *c = memchr(v + i, ',', vl - i);
		size_t e = c ? (size_t)(c - v) : vl;
		uint8_t a[16];
		char b[48];

		if (v6 ? !parse_ipv6(v + i, e - i, a) : !parse_ipv4(v + i, e - i, a))
			return fail(x, t->off, ERR_SYNTAX, "%s %s: '%s' is not an %s address", tn,
				    kn, show(v + i, e - i, b), v6 ? "IPv6" : "IPv4");
		if ((r = put(x, a, v6 ? 16 : 4)))
			return r;
		i = e + 1;
	}
	return 0;
}

static int cmp_u16be(const void *a, const void *b)
{
	return (int)wire_get_u16(a) - (int)wire_get_u16(b);
}

static int svc_mandatory(struct ptx *x, const char *tn, const struct tok *t, const char *v,
			 size_t vl)
{
	size_t i = 0, start = x->olen;
	int r;

	if ((r = svc_value_plain(x, tn, "mandatory", t, v, vl)))
		return r;
	while (i <= vl) {
		const char *c = memchr(v + i, ',', vl - i);
		size_t e = c ? (size_t)(c - v) : vl;
		long k = svc_key_parse(v + i, e - i);
		char b[48];

		if (k < 0)
			return fail(x, t->off, ERR_SYNTAX, "%s mandatory: '%s' is not a key", tn,
				    show(v + i, e - i, b));
		if (k == SVC_MANDATORY)
			return fail(x, t->off, ERR_INVALID, "%s mandatory: must not list itself",
				    tn);
		if (k == SVC_INVALID)
			return fail(x, t->off, ERR_INVALID, "%s mandatory: key65535 is reserved",
				    tn);
		if ((r = put_u16(x, (uint32_t)k)))
			return r;
		i = e + 1;
	}
	/* any order in text, strictly increasing on the wire (RFC 9460 §8) */
	qsort(x->out + start, (x->olen - start) / 2, 2, cmp_u16be);
	for (size_t j = start + 2; j < x->olen; j += 2)
		if (wire_get_u16(x->out + j) == wire_get_u16(x->out + j - 2))
			return fail(x, t->off, ERR_INVALID, "%s mandatory: key listed twice", tn);
	return 0;
}

/* alpn: char-string decoding, then the value-list of Appendix A.1. */
static int svc_alpn(struct ptx *x, const char *tn, const struct tok *t, const char *v, size_t vl)
{
	size_t bad = 0, avail, rd, wr, n;
	uint8_t *o;
	long dn;

	if (x->olen >= x->lim)
		return room(x, 1);
	avail = x->lim - x->olen - 1;
	o = x->out + x->olen;
	dn = cs_decode(v, vl, o + 1, avail, &bad);
	if (dn == -2)
		return escape_fail(x, "alpn", t, v, vl, bad);
	if (dn == -1)
		return room(x, x->lim - x->olen + 1);
	/* The decoded list sits at o+1..; rewrite it in place as length-
	 * prefixed ids. The writer trails the reader by at least one byte
	 * (the slot of the first length octet), plus one per comma and
	 * escape consumed, so it never overwrites unread input. */
	n = (size_t)dn + 1;
	rd = 1;
	wr = 0;
	while (rd <= n) {
		size_t lenpos = wr++, idlen = 0;

		while (rd < n && o[rd] != ',') {
			if (o[rd] == '\\') {
				if (++rd >= n)
					return fail(x, t->off, ERR_SYNTAX,
						    "%s alpn: backslash at the end of the value",
						    tn);
			}
			o[wr++] = o[rd++];
			idlen++;
		}
		if (idlen == 0)
			return fail(x, t->off, ERR_SYNTAX, "%s alpn: empty protocol id", tn);
		if (idlen > 255)
			return fail(x, t->off, ERR_SYNTAX, "%s alpn: protocol id longer than 255",
				    tn);
		o[lenpos] = (uint8_t)idlen;
		rd++; /* the comma, or one past the end */
	}
	x->olen += wr;
	return 0;
}

static int svc_value(struct ptx *x, const char *tn, const struct tok *t, long key, bool by_name,
		     const char *v, size_t vl, bool has_v)
{
	const char *kn = key <= SVC_NAMED_MAX ? svc_key_names[key] : "key";
	size_t bad = 0, o = 0;
	int r;

	if (!by_name || key > SVC_NAMED_MAX) {
		/* opaque: keyNNNNN=<char-string> (RFC 9460 §2.1) */
		long n = cs_decode(v, vl, x->out + x->olen, x->lim - x->olen, &bad);

		if (n == -2)
			return escape_fail(x, "SVCB parameter", t, v, vl, bad);
		if (n == -1)
			return room(x, x->lim - x->olen + 1);
		x->olen += (size_t)n;
		return 0;
	}
	if (key == SVC_NO_DEFAULT_ALPN) {
		if (vl)
			return fail(x, t->off, ERR_SYNTAX, "%s no-default-alpn: takes no value",
				    tn);
		return 0;
	}
	if (!has_v || vl == 0)
		return fail(x, t->off, ERR_SYNTAX, "%s %s: a value is required", tn, kn);
	switch (key) {
	case SVC_MANDATORY:
		return svc_mandatory(x, tn, t, v, vl);
	case SVC_ALPN:
		return svc_alpn(x, tn, t, v, vl);
	case SVC_PORT: {
		uint32_t port;
		char b[48];

		if ((r = svc_value_plain(x, tn, kn, t, v, vl)))
			return r;
		if ((r = dec_u32(v, vl, 65535, &port)))
			return fail(x, t->off, r, "%s port: '%s' is not a number 0..65535", tn,
				    show(v, vl, b));
		return put_u16(x, port);
	}
	case SVC_IPV4HINT:
		return svc_list_ip(x, tn, kn, t, v, vl, false);
	case SVC_IPV6HINT:
		return svc_list_ip(x, tn, kn, t, v, vl, true);
	case SVC_ECH: {
		struct encode_b64_state st;

		if ((r = svc_value_plain(x, tn, kn, t, v, vl)))
			return r;
		encode_b64_init(&st);
		o = x->olen;
		r = encode_b64_decode(&st, v, vl, x->out, x->lim, &o, &bad);
		if (r == ERR_SYNTAX)
			return b64_fail(x, "ech", t->off, v + bad);
		if (r)
			return room(x, x->lim - x->olen + vl);
		if (encode_b64_finish(&st))
			return fail(x, t->off, ERR_SYNTAX, "%s ech: base64 ends mid-group", tn);
		x->olen = o;
		return 0;
	}
	}
	return 0;
}

struct svc_ent {
	uint16_t key; /* SvcParamKey */
	size_t off;   /* offset of the param (key, length, value) in out */
	size_t len;   /* its total length */
};

static int cmp_svc_ent(const void *a, const void *b)
{
	const struct svc_ent *x = a, *y = b;

	return (int)x->key - (int)y->key;
}

/*
 * Params arrived out of key order (RFC 9460 §2.1 allows any order in text;
 * the wire needs strictly increasing keys). Sorts them in place through a
 * temporary index and copy: the one allocation in this file, only on this
 * path, so hostile input costs O(n log n) rather than quadratic moves.
 */
static int svc_sort(struct ptx *x, const char *tn, size_t params, size_t first_off)
{
	size_t n = 0, pos, total = x->olen - params;
	struct svc_ent *ent = NULL;
	uint8_t *copy = NULL;
	int r = 0;

	for (pos = params; pos < x->olen; pos += 4 + wire_get_u16(x->out + pos + 2))
		n++;
	ent = malloc(n * sizeof(*ent));
	copy = malloc(total);
	if (ent == NULL || copy == NULL) {
		r = fail(x, first_off, ERR_NOMEM, "%s: out of memory sorting parameters", tn);
		goto fail;
	}
	n = 0;
	for (pos = params; pos < x->olen; n++) {
		ent[n].key = wire_get_u16(x->out + pos);
		ent[n].off = pos - params;
		ent[n].len = 4 + (size_t)wire_get_u16(x->out + pos + 2);
		pos += ent[n].len;
	}
	qsort(ent, n, sizeof(*ent), cmp_svc_ent);
	for (size_t i = 1; i < n; i++) {
		if (ent[i].key == ent[i - 1].key) {
			char kb[16];

			if (ent[i].key <= SVC_NAMED_MAX)
				snprintf(kb, sizeof(kb), "%s", svc_key_names[ent[i].key]);
			else
				snprintf(kb, sizeof(kb), "key%u", (unsigned)ent[i].key);
			r = fail(x, first_off, ERR_INVALID, "%s parameter: duplicate key '%s'", tn,
				 kb);
			goto fail;
		}
	}
	memcpy(copy, x->out + params, total);
	pos = params;
	for (size_t i = 0; i < n; i++) {
		memcpy(x->out + pos, copy + ent[i].off, ent[i].len);
		pos += ent[i].len;
	}
fail:
	free(copy);
	free(ent);
	return r;
}

static int p_svcb(struct ptx *x, const char *tn)
{
	char fp[24], ft[24];
	uint32_t prio;
	size_t params, first_off = SIZE_MAX;
	long max_key = -1;
	bool sorted = true;
	struct tok t;
	int r;

	snprintf(fp, sizeof(fp), "%s priority", tn);
	snprintf(ft, sizeof(ft), "%s target", tn);
	if ((r = get_uint(x, fp, 65535, &prio)) || (r = put_u16(x, prio)) || (r = get_name(x, ft)))
		return r;
	params = x->olen;
	while ((r = next_token(x, &t, true)) > 0) {
		const char *eq = memchr(t.p, '=', t.len);
		size_t klen = eq ? (size_t)(eq - t.p) : t.len, pstart;
		const char *v = eq ? eq + 1 : t.p + t.len;
		size_t vl = eq ? t.len - klen - 1 : 0;
		long key;
		bool by_name;
		char b[48];

		if (first_off == SIZE_MAX)
			first_off = t.off;
		if (t.quoted)
			return fail(x, t.off, ERR_SYNTAX,
				    "%s parameter: expected key=value, not a quoted string", tn);
		if (t.vquoted) {
			v = t.v;
			vl = t.vlen;
		}
		key = svc_key_parse(t.p, klen);
		if (key < 0)
			return svc_fail_key(x, tn, &t, klen);
		if (key == SVC_INVALID)
			return fail(x, t.off, ERR_INVALID, "%s parameter: key65535 is reserved",
				    tn);
		if (prio == 0)
			return fail(x, t.off, ERR_INVALID,
				    "%s: AliasMode (priority 0) takes no parameters (RFC 9460 "
				    "§2.4.2)",
				    tn);
		pstart = x->olen;
		if ((r = put_u16(x, (uint32_t)key)) || (r = put_u16(x, 0)))
			return r;
		/* keyNNNNN=... is the opaque form even for a key we know */
		by_name = !(klen > 3 && memcmp(t.p, "key", 3) == 0);
		r = svc_value(x, tn, &t, key, by_name, v, vl, eq != NULL);
		if (r)
			return r;
		x->out[pstart + 2] = (uint8_t)((x->olen - pstart - 4) >> 8);
		x->out[pstart + 3] = (uint8_t)(x->olen - pstart - 4);
		if (key == max_key)
			return fail(x, t.off, ERR_INVALID, "%s parameter: duplicate key '%s'", tn,
				    show(t.p, klen, b));
		if (key > max_key)
			max_key = key;
		else
			sorted = false; /* svc_sort() finds any other duplicate */
	}
	if (r < 0)
		return r;
	if (!sorted && (r = svc_sort(x, tn, params, first_off)) != 0)
		return r;
	{
		const char *why = check_svcb(x->out, x->olen);

		if (why)
			return fail(x, first_off == SIZE_MAX ? 0 : first_off, ERR_INVALID, "%s: %s",
				    tn, why);
	}
	return 0;
}

static int p_generic(struct ptx *x, uint16_t type)
{
	uint32_t want;
	size_t start = x->olen;
	const char *why;
	char tn[16];
	int r;

	if ((r = get_uint(x, "generic RDATA length", 65535, &want)) ||
	    (r = get_hex_rest(x, "generic RDATA", 0)))
		return r;
	if (x->olen - start != want)
		return fail(x, x->len, ERR_SYNTAX,
			    "generic RDATA: length says %u octets but %zu follow", (unsigned)want,
			    x->olen - start);
	if ((why = check_rd(type, x->out + start, want)) != NULL) {
		rrtype_print(type, tn, sizeof(tn));
		return fail(x, 0, ERR_MALFORMED, "generic RDATA is not valid %s RDATA: %s", tn,
			    why);
	}
	rdata_lower_names(type, x->out + start, want);
	return 0;
}

int rdata_parse_text(uint16_t type, const char *text, size_t len, const uint8_t *origin,
		     uint8_t *out, size_t cap, struct text_err *e)
{
	struct text_err dummy;
	struct ptx x;
	struct tok t;
	const char *why;
	char b[48], tn[16];
	int r;

	x.s = text;
	x.len = text ? len : 0;
	x.pos = 0;
	x.origin = origin;
	x.out = out;
	x.cap = out ? cap : 0;
	x.lim = x.cap < RDATA_MAXLEN ? x.cap : RDATA_MAXLEN;
	x.olen = 0;
	x.last_off = 0;
	x.e = e ? e : &dummy;
	x.e->offset = 0;
	x.e->msg[0] = '\0';

	/* RFC 3597 §5: "\#" as the first token means generic form, for any type. */
	{
		size_t i = 0;

		while (i < x.len && is_blank(text[i]))
			i++;
		if (x.len - i >= 2 && text[i] == '\\' && text[i + 1] == '#' &&
		    (x.len - i == 2 || is_blank(text[i + 2]))) {
			x.pos = i + 2;
			x.last_off = i;
			r = p_generic(&x, type);
			goto done;
		}
	}
	switch (type) {
	case RRTYPE_A:
		r = p_a(&x);
		break;
	case RRTYPE_AAAA:
		r = p_aaaa(&x);
		break;
	case RRTYPE_NS:
		r = get_name(&x, "NS nameserver");
		break;
	case RRTYPE_CNAME:
		r = get_name(&x, "CNAME target");
		break;
	case RRTYPE_DNAME:
		r = get_name(&x, "DNAME target");
		break;
	case RRTYPE_PTR:
		r = get_name(&x, "PTR target");
		break;
	case RRTYPE_SOA:
		r = p_soa(&x);
		break;
	case RRTYPE_MX:
		if ((r = get_u16(&x, "MX preference")) == 0)
			r = get_name(&x, "MX exchange");
		break;
	case RRTYPE_TXT:
		r = p_txt(&x);
		break;
	case RRTYPE_SRV:
		if ((r = get_u16(&x, "SRV priority")) == 0 &&
		    (r = get_u16(&x, "SRV weight")) == 0 && (r = get_u16(&x, "SRV port")) == 0)
			r = get_name(&x, "SRV target");
		break;
	case RRTYPE_NAPTR:
		r = p_naptr(&x);
		break;
	case RRTYPE_CAA:
		r = p_caa(&x);
		break;
	case RRTYPE_SSHFP:
		if ((r = get_u8(&x, "SSHFP algorithm")) == 0 && (r = get_u8(&x, "SSHFP type")) == 0)
			r = get_hex_rest(&x, "SSHFP fingerprint", 1);
		break;
	case RRTYPE_TLSA:
		if ((r = get_u8(&x, "TLSA usage")) == 0 && (r = get_u8(&x, "TLSA selector")) == 0 &&
		    (r = get_u8(&x, "TLSA matching type")) == 0)
			r = get_hex_rest(&x, "TLSA data", 1);
		break;
	case RRTYPE_DS:
		r = p_ds(&x);
		break;
	case RRTYPE_DNSKEY:
		r = p_dnskey(&x);
		break;
	case RRTYPE_SVCB:
		r = p_svcb(&x, "SVCB");
		break;
	case RRTYPE_HTTPS:
		r = p_svcb(&x, "HTTPS");
		break;
	default:
		rrtype_print(type, tn, sizeof(tn));
		r = fail(&x, 0, ERR_SYNTAX,
			 "%s: only the generic form '\\# <length> <hex>' is supported for this "
			 "type (RFC 3597)",
			 tn);
		break;
	}
	if (r)
		return r;
	r = next_token(&x, &t, false);
	if (r < 0)
		return r;
	if (r > 0) {
		rrtype_print(type, tn, sizeof(tn));
		return fail(&x, t.off, ERR_SYNTAX, "%s: unexpected '%s' after the last field", tn,
			    show(t.p, t.len, b));
	}
done:
	if (r)
		return r;
	/* Belt and braces: what we produce must be what the checker accepts
	 * (see the essay at the top). */
	if ((why = check_rd(type, out, x.olen)) != NULL) {
		rrtype_print(type, tn, sizeof(tn));
		return fail(&x, 0, ERR_MALFORMED, "%s: %s", tn, why);
	}
	return (int)x.olen;
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

struct pout {
	char *buf;  /* caller's buffer */
	size_t cap; /* its size, including room for the NUL */
	size_t pos; /* characters written */
	int err;    /* sticky ERR_SPACE */
};

static char *pout_reserve(struct pout *o, size_t n)
{
	char *p;

	/* keep one byte for the terminating NUL */
	if (o->err || o->cap == 0 || n > o->cap - 1 - o->pos) {
		o->err = ERR_SPACE;
		return NULL;
	}
	p = o->buf + o->pos;
	o->pos += n;
	return p;
}

static void pout_mem(struct pout *o, const char *s, size_t n)
{
	char *p = pout_reserve(o, n);

	if (p && n)
		memcpy(p, s, n);
}

static void pout_str(struct pout *o, const char *s)
{
	pout_mem(o, s, strlen(s));
}

static void pout_char(struct pout *o, char c)
{
	pout_mem(o, &c, 1);
}

static void pout_u32(struct pout *o, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[9 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pout_mem(o, tmp + 10 - n, n);
}

static void pout_name(struct pout *o, const uint8_t *name)
{
	int n;

	if (o->err)
		return;
	n = dname_print(name, o->buf + o->pos, o->cap - o->pos);
	if (n < 0)
		o->err = n == ERR_SPACE ? ERR_SPACE : ERR_MALFORMED;
	else
		o->pos += (size_t)n;
}

static void pout_hex(struct pout *o, const uint8_t *p, size_t n)
{
	char *d = pout_reserve(o, 2 * n);

	if (d)
		encode_hex(p, n, d, 2 * n);
}

static void pout_b64(struct pout *o, const uint8_t *p, size_t n)
{
	size_t need = (n + 2) / 3 * 4;
	char *d = pout_reserve(o, need);

	if (d)
		encode_base64(p, n, d, need);
}

static void pout_ddd(struct pout *o, uint8_t c)
{
	char d[4] = {'\\', (char)('0' + c / 100), (char)('0' + c / 10 % 10), (char)('0' + c % 10)};

	pout_mem(o, d, 4);
}

/* Text inside quotes: printable ASCII kept, '"' and '\' escaped, the
 * rest \DDD. */
static void pout_quoted(struct pout *o, const uint8_t *p, size_t n)
{
	pout_char(o, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			pout_char(o, '\\');
			pout_char(o, (char)c);
		} else if (c >= 0x20 && c < 0x7f) {
			pout_char(o, (char)c);
		} else {
			pout_ddd(o, c);
		}
	}
	pout_char(o, '"');
}

/* Bare (unquoted) text: also escapes what would end or split a token. */
static void pout_bare_char(struct pout *o, uint8_t c)
{
	if (c == '"' || c == '\\' || c == '(' || c == ')' || c == ';') {
		pout_char(o, '\\');
		pout_char(o, (char)c);
	} else if (c > 0x20 && c < 0x7f) {
		pout_char(o, (char)c);
	} else {
		pout_ddd(o, c);
	}
}

static void pout_ipv6(struct pout *o, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) == NULL) {
		o->err = ERR_MALFORMED;
		return;
	}
	pout_str(o, buf);
}

static void pout_ipv4(struct pout *o, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			pout_char(o, '.');
		pout_u32(o, a[i]);
	}
}

static void pout_svc_key(struct pout *o, uint16_t key)
{
	if (key <= SVC_NAMED_MAX) {
		pout_str(o, svc_key_names[key]);
	} else {
		pout_str(o, "key");
		pout_u32(o, key);
	}
}

static void print_svcb(struct pout *o, const uint8_t *rd, size_t len)
{
	size_t pos = 2;

	pout_u32(o, wire_get_u16(rd));
	pout_char(o, ' ');
	pout_name(o, rd + 2);
	pos += dname_len(rd + 2);
	while (pos < len) {
		uint16_t key = wire_get_u16(rd + pos);
		size_t vl = wire_get_u16(rd + pos + 2);
		const uint8_t *v = rd + pos + 4;

		pos += 4 + vl;
		pout_char(o, ' ');
		pout_svc_key(o, key);
		if (vl == 0)
			continue;
		pout_char(o, '=');
		switch (key) {
		case SVC_MANDATORY:
			for (size_t i = 0; i < vl; i += 2) {
				if (i)
					pout_char(o, ',');
				pout_svc_key(o, wire_get_u16(v + i));
			}
			break;
		case SVC_ALPN:
			for (size_t i = 0; i < vl; i += 1 + (size_t)v[i]) {
				if (i)
					pout_char(o, ',');
				for (size_t j = 1; j <= v[i]; j++) {
					uint8_t c = v[i + j];

					/* value-list escape (Appendix A.1), whose
					 * backslash is then escaped again as text */
					if (c == ',' || c == '\\') {
						pout_char(o, '\\');
						pout_char(o, '\\');
					}
					pout_bare_char(o, c);
				}
			}
			break;
		case SVC_PORT:
			pout_u32(o, wire_get_u16(v));
			break;
		case SVC_IPV4HINT:
			for (size_t i = 0; i < vl; i += 4) {
				if (i)
					pout_char(o, ',');
				pout_ipv4(o, v + i);
			}
			break;
		case SVC_ECH:
			pout_b64(o, v, vl);
			break;
		case SVC_IPV6HINT:
			for (size_t i = 0; i < vl; i += 16) {
				if (i)
					pout_char(o, ',');
				pout_ipv6(o, v + i);
			}
			break;
		default:
			for (size_t i = 0; i < vl; i++)
				pout_bare_char(o, v[i]);
			break;
		}
	}
}

int rdata_print(uint16_t type, const uint8_t *rd, size_t rdlen, char *buf, size_t cap)
{
	struct pout o = {buf, cap, 0, 0};
	size_t pos = 0;

	if ((rd == NULL && rdlen) || buf == NULL)
		return rd == NULL ? ERR_MALFORMED : ERR_SPACE;
	if (check_rd(type, rd, rdlen))
		return ERR_MALFORMED;
	switch (type) {
	case RRTYPE_A:
		pout_ipv4(&o, rd);
		break;
	case RRTYPE_AAAA:
		pout_ipv6(&o, rd);
		break;
	case RRTYPE_NS:
	case RRTYPE_CNAME:
	case RRTYPE_DNAME:
	case RRTYPE_PTR:
		pout_name(&o, rd);
		break;
	case RRTYPE_SOA:
		pout_name(&o, rd);
		pos = dname_len(rd);
		pout_char(&o, ' ');
		pout_name(&o, rd + pos);
		pos += dname_len(rd + pos);
		for (int i = 0; i < 5; i++) {
			pout_char(&o, ' ');
			pout_u32(&o, wire_get_u32(rd + pos + 4 * (size_t)i));
		}
		break;
	case RRTYPE_MX:
		pout_u32(&o, wire_get_u16(rd));
		pout_char(&o, ' ');
		pout_name(&o, rd + 2);
		break;
	case RRTYPE_TXT:
		while (pos < rdlen) {
			if (pos)
				pout_char(&o, ' ');
			pout_quoted(&o, rd + pos + 1, rd[pos]);
			pos += 1 + (size_t)rd[pos];
		}
		break;
	case RRTYPE_SRV:
		for (int i = 0; i < 3; i++) {
			pout_u32(&o, wire_get_u16(rd + 2 * i));
			pout_char(&o, ' ');
		}
		pout_name(&o, rd + 6);
		break;
	case RRTYPE_NAPTR:
		pout_u32(&o, wire_get_u16(rd));
		pout_char(&o, ' ');
		pout_u32(&o, wire_get_u16(rd + 2));
		pos = 4;
		for (int i = 0; i < 3; i++) {
			pout_char(&o, ' ');
			pout_quoted(&o, rd + pos + 1, rd[pos]);
			pos += 1 + (size_t)rd[pos];
		}
		pout_char(&o, ' ');
		pout_name(&o, rd + pos);
		break;
	case RRTYPE_CAA:
		pout_u32(&o, rd[0]);
		pout_char(&o, ' ');
		pout_mem(&o, (const char *)rd + 2, rd[1]);
		pout_char(&o, ' ');
		pout_quoted(&o, rd + 2 + rd[1], rdlen - 2 - rd[1]);
		break;
	case RRTYPE_SSHFP:
		pout_u32(&o, rd[0]);
		pout_char(&o, ' ');
		pout_u32(&o, rd[1]);
		pout_char(&o, ' ');
		pout_hex(&o, rd + 2, rdlen - 2);
		break;
	case RRTYPE_TLSA:
		for (int i = 0; i < 3; i++) {
			pout_u32(&o, rd[i]);
			pout_char(&o, ' ');
		}
		pout_hex(&o, rd + 3, rdlen - 3);
		break;
	case RRTYPE_DS:
		pout_u32(&o, wire_get_u16(rd));
		for (int i = 2; i < 4; i++) {
			pout_char(&o, ' ');
			pout_u32(&o, rd[i]);
		}
		pout_char(&o, ' ');
		pout_hex(&o, rd + 4, rdlen - 4);
		break;
	case RRTYPE_DNSKEY:
		pout_u32(&o, wire_get_u16(rd));
		for (int i = 2; i < 4; i++) {
			pout_char(&o, ' ');
			pout_u32(&o, rd[i]);
		}
		pout_char(&o, ' ');
		pout_b64(&o, rd + 4, rdlen - 4);
		break;
	case RRTYPE_SVCB:
	case RRTYPE_HTTPS:
		print_svcb(&o, rd, rdlen);
		break;
	default:
		/* RFC 3597 §5 */
		pout_str(&o, "\\# ");
		pout_u32(&o, (uint32_t)rdlen);
		if (rdlen) {
			pout_char(&o, ' ');
			pout_hex(&o, rd, rdlen);
		}
		break;
	}
	if (o.err) {
		if (cap)
			buf[0] = '\0';
		return o.err;
	}
	buf[o.pos] = '\0';
	return (int)o.pos;
}
