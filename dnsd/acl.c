/*
 * acl.c: CIDR address lists. Matching is a linear scan: the lists are short
 * (a handful of NOTIFY sources) and consulted only for NOTIFY, never for
 * ordinary queries.
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

int acl_add(struct acl *a, const char *cidr, char *err, size_t errcap)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	size_t hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	struct acl_entry e;
	int maxlen, i;

	memset(&e, 0, sizeof(e));
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
		if (a->v[i].family == family && prefix_equal(a->v[i].addr, addr, a->v[i].prefix))
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
	snprintf(buf, cap, "%s/%d", host, a->v[i].prefix);
}
