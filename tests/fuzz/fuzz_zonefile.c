/*
 * fuzz_zonefile.c: arbitrary text through zf_parse() with origin
 * "example.com.". Every record the parser accepts is printed with
 * zf_print_rr() and the printed line parsed again; it must give exactly one
 * record with the same owner, TTL, type and RDATA octets, or we abort(). So
 * the fuzzer checks, besides memory safety, that our canonical text form is
 * a faithful, re-readable image of everything the parser lets in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest printed record: owner (4 * 255) plus 65535 RDATA octets written
 * as \DDD (4 each) plus TXT quoting, with room to spare. */
static char line[4 * 65536 + 8192];

struct again {
	const struct zf_rr *want;
	int n;
};

static int same_cb(void *arg, const struct zf_rr *rr)
{
	struct again *a = arg;
	const struct zf_rr *w = a->want;

	a->n++;
	if (dname_len(rr->owner) != dname_len(w->owner) ||
	    memcmp(rr->owner, w->owner, dname_len(w->owner)) != 0 || rr->ttl != w->ttl ||
	    rr->type != w->type || rr->rclass != w->rclass || rr->rdlen != w->rdlen ||
	    memcmp(rr->rdata, w->rdata, w->rdlen) != 0) {
		fprintf(stderr, "round trip changed the record: %s\n", line);
		abort();
	}
	return 0;
}

static int rr_cb(void *arg, const struct zf_rr *rr)
{
	struct again a = {rr, 0};
	struct zf_error err;
	int n, rc;

	(void)arg;
	n = zf_print_rr(rr->owner, rr->ttl, rr->type, rr->rdata, rr->rdlen, line, sizeof(line));
	if (n < 0) {
		fprintf(stderr, "cannot print a record the parser accepted: %s\n", err_str(n));
		abort();
	}
	rc = zf_parse(line, (size_t)n, NULL, 0, same_cb, &a, &err);
	if (rc != 0 || a.n != 1) {
		fprintf(stderr, "printed record does not parse back (%d records): %s\n  %d:%d %s\n",
			a.n, line, err.line, err.col, err.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = "\7example\3com";
	struct zf_error err;
	int rc;

	rc = zf_parse((const char *)data, size, origin, 3600, rr_cb, NULL, &err);
	if (rc < 0 && (err.line < 1 || err.col < 1 || err.msg[0] == '\0' || err.code != rc)) {
		fprintf(stderr, "error without a position or message: %d %d:%d '%s'\n", rc,
			err.line, err.col, err.msg);
		abort();
	}
	return 0;
}
