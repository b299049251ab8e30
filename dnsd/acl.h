/*
 * acl.h: address lists (CIDR prefixes) deciding who may do what, e.g. send
 * NOTIFY. Built once at start-up, then only read, so workers consult it
 * without locks.
 */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

struct sockaddr;

struct acl_entry {
	int family;		   /* AF_INET or AF_INET6 */
	uint8_t addr[16];	   /* network address, host bits cleared */
	int prefix;		   /* prefix length: 0..32 or 0..128 */
	uint8_t key[DNAME_MAXLEN]; /* TSIG key name required (lower-case wire); "\0": none */
};

struct acl {
	struct acl_entry *v; /* owned array */
	size_t n, cap;
};

void acl_init(struct acl *a);

/* Adds "127.0.0.0/8", "::1", "2001:db8::/32" (no prefix: a single host),
 * optionally followed by "key NAME": then only requests signed (TSIG,
 * verified) with that key match the entry ("0.0.0.0/0 key xfr-key").
 * Host bits set below the prefix are an error ("10.0.0.1/8" is ambiguous).
 * Returns 0, ERR_SYNTAX (err says why) or ERR_NOMEM. */
int acl_add(struct acl *a, const char *cidr, char *err, size_t errcap);

/* True when sa (AF_INET or AF_INET6; v4-mapped IPv6 addresses are matched as
 * IPv4) falls inside an entry that needs no key. */
bool acl_match(const struct acl *a, const struct sockaddr *sa);

/* True when sa falls inside an entry that needs no key or needs exactly
 * key (a lower-case wire name; NULL: the request was not signed). */
bool acl_match_key(const struct acl *a, const struct sockaddr *sa, const uint8_t *key);

/* Prints entry i as CIDR text (plus " key NAME") into buf. */
void acl_format(const struct acl *a, size_t i, char *buf, size_t cap);

void acl_clear(struct acl *a); /* drops every entry, keeps the array */
void acl_free(struct acl *a);

#endif
