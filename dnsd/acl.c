/*
 * acl.c: CIDR address lists, each entry optionally bound to a TSIG key.
 * Matching is a linear scan: the lists are short (a handful of NOTIFY
 * sources or secondaries) and consulted only for NOTIFY and zone
 * transfers, never for ordinary queries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "acl.h"
#include "err.h"

void acl_init(struct acl *a)
{
	a->v = NULL;
	a->n = 0;
	a->cap = 0;
}

void acl_clear(struct acl *a)
{
	a->n = 0;
}

void acl_free(struct acl *a)
{
	free(a->v);
	acl_init(a);
}

/* True when the first prefix bits of x and y agree. */
static bool prefix_equal(const uint8_t *x, const uint8_t *y, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (full && memcmp(x, y, (size_t)full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((x[full] & mask) != (y[full] & mask))
			return false;
	}
	return true;
}

/* Splits "CIDR key NAME" into the CIDR (copied into buf) and the key's
 * wire name (key[0] = 0 when there is none). */
static int split_key(const char *spec, char *buf, size_t cap, uint8_t *key, char *err,
		     size_t errcap)
{
	static const uint8_t root[1] = {0};
	const char *sp = spec + strcspn(spec, " \t"), *k;
	size_t n = (size_t)(sp - spec);

	key[0] = 0;
	if (n >= cap) {
		snprintf(err, errcap, "'%s' is not an address or CIDR prefix", spec);
		return ERR_SYNTAX;
	}
	memcpy(buf, spec, n);
	buf[n] = '\0';
	sp += strspn(sp, " \t");
	if (*sp == '\0')
		return 0;
	if (strncmp(sp, "key", 3) != 0 || (sp[3] != ' ' && sp[3] != '\t')) {
		snprintf(err, errcap, "'%s': expected 'CIDR' or 'CIDR key NAME'", spec);
		return ERR_SYNTAX;
	}
	k = sp + 3 + strspn(sp + 3, " \t");
	n = strcspn(k, " \t");
	if (n == 0 || k[n + strspn(k + n, " \t")] != '\0' ||
	    dname_parse_text(k, n, root, key) < 0) {
		snprintf(err, errcap, "'%s': the key name after 'key' is not a domain name", spec);
		return ERR_SYNTAX;
	}
	/* The root name ("." or "@") has no labels, and a first byte of 0 is
	 * how an entry says "no key": accepting it would turn "key ." into an
	 * unsigned entry, letting anyone in. */
	if (key[0] == 0) {
		snprintf(err, errcap, "'%s': the root is not a key name", spec);
		return ERR_SYNTAX;
	}
	dname_lower(key);
	return 0;
}

int acl_add(struct acl *a, const char *spec, char *err, size_t errcap)
{
	char host[INET6_ADDRSTRLEN + 1], cidrbuf[INET6_ADDRSTRLEN + 8];
	const char *cidr = cidrbuf, *slash;
	size_t hlen;
	struct acl_entry e;
	int maxlen, i, r;

	memset(&e, 0, sizeof(e));
	if ((r = split_key(spec, cidrbuf, sizeof(cidrbuf), e.key, err, errcap)) < 0)
		return r;
	slash = strchr(cidr, '/');
	hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errcap, "'%s' is not an address or CIDR prefix", cidr);
		return ERR_SYNTAX;
	}
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, e.addr) == 1) {
		e.family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, host, e.addr) == 1) {
		e.family = AF_INET6;
		maxlen = 128;
	} else {
		snprintf(err, errcap, "'%s' is not an IPv4 or IPv6 address", host);
		return ERR_SYNTAX;
	}
	e.prefix = maxlen;
	if (slash) {
		const char *p = slash + 1;
		int v = 0;

		if (*p == '\0' || strlen(p) > 3) {
			snprintf(err, errcap, "'%s': bad prefix length", cidr);
			return ERR_SYNTAX;
		}
		for (; *p; p++) {
			if (*p < '0' || *p > '9') {
				snprintf(err, errcap, "'%s': bad prefix length", cidr);
				return ERR_SYNTAX;
			}
			v = v * 10 + (*p - '0');
		}
		if (v > maxlen) {
			snprintf(err, errcap, "'%s': prefix length %d > %d", cidr, v, maxlen);
			return ERR_SYNTAX;
		}
		e.prefix = v;
	}
	/* Host bits must be clear: "10.0.0.1/8" usually hides a typo. */
	for (i = e.prefix; i < maxlen; i++) {
		if (e.addr[i / 8] & (0x80 >> (i % 8))) {
			snprintf(err, errcap, "'%s': host bits set below the /%d prefix", cidr,
				 e.prefix);
			return ERR_SYNTAX;
		}
	}
	/* A v4-mapped entry (::ffff:192.0.2.0/120) is an IPv4 entry: peers are
	 * compared as IPv4 once unmapped (acl_match_key), so keep it as one. */
	if (e.family == AF_INET6 && e.prefix >= 96 &&
	    memcmp(e.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(e.addr, e.addr + 12, 4);
		memset(e.addr + 4, 0, sizeof(e.addr) - 4);
		e.family = AF_INET;
		e.prefix -= 96;
	}
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 4;
		struct acl_entry *nv = realloc(a->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			snprintf(err, errcap, "out of memory");
			return ERR_NOMEM;
		}
		a->v = nv;
		a->cap = ncap;
	}
	a->v[a->n++] = e;
	return 0;
}

bool acl_match(const struct acl *a, const struct sockaddr *sa)
{
	return acl_match_key(a, sa, NULL);
}

bool acl_match_key(const struct acl *a, const struct sockaddr *sa, const uint8_t *key)
{
	const uint8_t *addr;
	uint8_t v4[4];
	int family;
	size_t i;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		memcpy(v4, &sin->sin_addr, 4);
		addr = v4;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		addr = sin6->sin6_addr.s6_addr;
		family = AF_INET6;
		/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(v4, addr + 12, 4);
			addr = v4;
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (i = 0; i < a->n; i++) {
		if (a->v[i].family != family || !prefix_equal(a->v[i].addr, addr, a->v[i].prefix))
			continue;
		if (a->v[i].key[0] == 0 || (key != NULL && dname_equal(a->v[i].key, key)))
			return true;
	}
	return false;
}

void acl_format(const struct acl *a, size_t i, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (i >= a->n) {
		snprintf(buf, cap, "?");
		return;
	}
	if (inet_ntop(a->v[i].family, a->v[i].addr, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "?");
	if (a->v[i].key[0]) {
		char k[DNAME_TEXT_MAXLEN];

		if (dname_print(a->v[i].key, k, sizeof(k)) < 0)
			snprintf(k, sizeof(k), "?");
		snprintf(buf, cap, "%s/%d key %s", host, a->v[i].prefix, k);
		return;
	}
	snprintf(buf, cap, "%s/%d", host, a->v[i].prefix);
}
