/*
 * store.c: validated changes to zones, one write transaction each.
 *
 * How a change flows
 * ------------------
 * 1. Building (store_change_add/del/clear_rrset/load_text): every record is
 *    canonicalized through the codec as it arrives: the owner parsed with
 *    the zone as origin, lower-cased and required to lie inside the zone;
 *    the type parsed as a mnemonic or TYPEnnn; the rdata parsed with the
 *    zone as origin and printed back (rdata_print) so the database only
 *    ever holds the one canonical text of each record. Each problem is
 *    remembered with the record's label; nothing stops at the first error,
 *    so one refusal lists everything wrong (up to STORE_MAX_ERRORS).
 *
 * 2. Committing (store_commit): BEGIN IMMEDIATE (a deferred BEGIN would
 *    upgrade to a write lock later and could fail with SQLITE_BUSY after
 *    reading), then the zone row, then the expected_serial check. The
 *    "working set" holds, for every owner name the change touches (plus the
 *    apex, always), the records at that name in the database ("orig") and
 *    the records after applying the operations in order ("cur"). Only those
 *    names are read, so a one-record change to a zone of a million records
 *    reads a handful of rows through the (zone_id, name, type) index.
 *    A replace (import) reads the whole zone instead.
 *
 * 3. Validating the final state of the touched names, only what makes a
 *    zone wrong rather than unusual (lint-level findings are check_zone's):
 *      - CNAME exclusivity: no other data beside a CNAME except the DNSSEC
 *        types RRSIG/NSEC/NSEC3 (RFC 1034 §3.6.2, RFC 2181 §10.1, RFC 4035
 *        §2.5), at most one CNAME per name, none at the apex;
 *      - DNAME: at most one per name, and no data below one (RFC 6672 §2.4);
 *      - SOA only at the apex and exactly one there; at least one apex NS;
 *      - one TTL per RRset (RFC 2181 §5.2);
 *      - no meta or QTYPE-only types (RFC 6895 §3.1: 0, OPT, 128..255).
 *
 * 4. Diff and serial: orig vs cur per name (a record is its name, type and
 *    data; a TTL change is a removal plus an addition, as IXFR sees it).
 *    An empty diff commits nothing and keeps the serial. Otherwise the SOA
 *    in cur gets the next serial (store_next_serial, or a larger one the
 *    change itself put in the SOA), so the diff always carries the SOA
 *    removal/addition pair that IXFR (RFC 1995 §4) and dnsd's incremental
 *    reload expect.
 *
 * 5. Writing: records deleted then inserted, zones.serial updated, one
 *    changes row and one change_records row per removed/added record (the
 *    old SOA first among the removals, the new SOA first among the
 *    additions), COMMIT. SQLITE_BUSY anywhere rolls back and retries the
 *    whole attempt with a bounded back-off (STORE_BUSY_RETRIES on top of
 *    SQLite's own busy timeout), recomputing everything from fresh reads.
 *
 * 6. Journal retention (store_retention), in the same transaction after
 *    the journal rows: the zone's oldest changes beyond the newest N, and
 *    every change up to the newest one older than D days, are deleted;
 *    change_records follow through ON DELETE CASCADE (db_open turns
 *    foreign keys on). Always a prefix by id, never the row just written:
 *    what remains is one unbroken chain ending at the current serial, so
 *    dnsd's IXFR and incremental reload either find the secondary's serial
 *    in it or fall back to the whole zone (RFC 1995 §4). Both deletes use
 *    the (zone_id, ...) index and touch about N rows per commit.
 */
#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dname.h"
#include "err.h"
#include "notify.h"
#include "rdata.h"
#include "store.h"
#include "zonefile.h"

/* internal: SQLITE_BUSY seen, run the whole attempt again (never returned) */
#define STORE_RETRY (-1000)

static time_t (*store_clock)(void);

void store_set_clock(time_t (*clock_fn)(void))
{
	store_clock = clock_fn;
}

static time_t store_now(void)
{
	return store_clock ? store_clock() : time(NULL);
}

static struct store_retention store_default_retention = {STORE_DEFAULT_JOURNAL_KEEP, 0};

void store_set_retention(const struct store_retention *r)
{
	if (r)
		store_default_retention = *r;
	else
		store_default_retention = (struct store_retention){STORE_DEFAULT_JOURNAL_KEEP, 0};
}

void store_get_retention(struct store_retention *r)
{
	*r = store_default_retention;
}

/* ------------------------------------------------------------------ */
/* Small helpers */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* Appends one sentence to a newline-separated message list, keeping at
 * most STORE_MAX_ERRORS of them; *n counts all. */
static void msgs_vadd(char **buf, int *n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void msgs_vadd(char **buf, int *n, const char *fmt, va_list ap)
{
	char line[1200];
	size_t old, add;
	char *p;

	(*n)++;
	if (*n > STORE_MAX_ERRORS)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	old = *buf ? strlen(*buf) : 0;
	add = strlen(line);
	p = realloc(*buf, old + add + 2);
	if (p == NULL)
		return;
	if (old)
		p[old++] = '\n';
	memcpy(p + old, line, add + 1);
	*buf = p;
}

static void msgs_add(char **buf, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void msgs_add(char **buf, int *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msgs_vadd(buf, n, fmt, ap);
	va_end(ap);
}

/* Closes a message list: notes how many were left out. */
static void msgs_finish(char **buf, int n)
{
	if (n > STORE_MAX_ERRORS) {
		int dummy = 0;
		msgs_add(buf, &dummy, "(and %d more errors not shown)", n - STORE_MAX_ERRORS);
	}
}

static const char *type_str(uint16_t type, char buf[16])
{
	rrtype_print(type, buf, 16);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Serial arithmetic */

uint32_t store_next_serial(uint32_t cur, const char *policy, time_t now)
{
	uint32_t next = cur + 1;

	if (policy && strcmp(policy, "date") == 0) {
		struct tm tm;
		uint32_t d;

		gmtime_r(&now, &tm);
		/* YYYYMMDDnn fits 32 bits until the year 42949 */
		d = ((uint32_t)(tm.tm_year + 1900) * 10000 + (uint32_t)(tm.tm_mon + 1) * 100 +
		     (uint32_t)tm.tm_mday) *
		    100;
		if (notify_serial_gt(d, cur))
			next = d;
	}
	if (next == 0) /* wrapped: skip 0, which some tools read as "unset" */
		next = 1;
	return next;
}

/* ------------------------------------------------------------------ */
/* Changes */

enum op_kind {
	OP_ADD,	      /* add one record (or update its TTL) */
	OP_DEL,	      /* delete one record; it must exist */
	OP_DEL_RRSET, /* delete an RRset; it must exist */
	OP_CLEAR,     /* delete an RRset if any (set_rrset) */
};

struct op {
	enum op_kind kind;
	char *label; /* "records[2] (MX 'mail')"; NULL for file records (line) */
	int line;    /* master-file line for file records */
	char *name;  /* canonical owner */
	uint16_t type;
	bool ttl_set;
	uint32_t ttl;
	char *data; /* canonical rdata; NULL for RRset operations */
};

struct store_change {
	char zone[DNAME_TEXT_MAXLEN];
	uint8_t zone_wire[DNAME_MAXLEN];
	bool zone_ok;
	struct op *ops;
	size_t nops, capops;
	size_t nuser; /* operations given by the caller (the size limit) */
	char *errors;
	int nerrors;
	char **warnings;
	size_t nwarnings;
	bool replace; /* the change replaces the whole content */
	bool create, must_not_exist;
	char policy[16];
	uint32_t default_ttl;
	bool revert;
	long long revert_id;
	uint32_t revert_serial;
};

int store_zone_canon(const char *zone, char *out, uint8_t *wire, char *msg, size_t msgcap)
{
	uint8_t w[DNAME_MAXLEN];
	size_t len;
	int r;

	if (zone == NULL || *zone == '\0') {
		snprintf(msg, msgcap, "zone name is empty");
		return ERR_INVALID;
	}
	len = strlen(zone);
	if (len > DNAME_TEXT_MAXLEN) {
		snprintf(msg, msgcap, "zone name is too long");
		return ERR_NAME_TOO_LONG;
	}
	/* A zone is always absolute: "example.com" and "example.com." agree. */
	r = dname_parse_text(zone, len, (const uint8_t *)"", w);
	if (r < 0) {
		snprintf(msg, msgcap, "zone name '%.300s' is not a valid domain name: %s", zone,
			 err_str(r));
		return r;
	}
	if (dname_labels(w) == 0) {
		snprintf(msg, msgcap, "the root zone cannot be managed here");
		return ERR_INVALID;
	}
	dname_lower(w);
	if (dname_print(w, out, DNAME_TEXT_MAXLEN) < 0) {
		snprintf(msg, msgcap, "zone name is too long");
		return ERR_SPACE;
	}
	if (wire)
		dname_copy(wire, w);
	return 0;
}

struct store_change *store_change_new(const char *zone)
{
	struct store_change *ch = calloc(1, sizeof(*ch));
	char msg[400];

	if (ch == NULL)
		return NULL;
	ch->default_ttl = STORE_DEFAULT_TTL;
	snprintf(ch->policy, sizeof(ch->policy), "increment");
	if (store_zone_canon(zone, ch->zone, ch->zone_wire, msg, sizeof(msg)) == 0)
		ch->zone_ok = true;
	else {
		ch->zone[0] = '\0';
		msgs_add(&ch->errors, &ch->nerrors, "zone: %s", msg);
	}
	return ch;
}

static void op_free(struct op *op)
{
	free(op->label);
	free(op->name);
	free(op->data);
}

void store_change_free(struct store_change *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	for (i = 0; i < ch->nops; i++)
		op_free(&ch->ops[i]);
	free(ch->ops);
	free(ch->errors);
	for (i = 0; i < ch->nwarnings; i++)
		free(ch->warnings[i]);
	free(ch->warnings);
	free(ch);
}

const char *store_change_zone(const struct store_change *ch)
{
	return ch->zone;
}

int store_change_errors(const struct store_change *ch)
{
	return ch->nerrors;
}

void store_change_error(struct store_change *ch, const char *label, const char *fmt, ...)
{
	char line[1000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	msgs_add(&ch->errors, &ch->nerrors, "%s: %s", label, line);
}

static struct op *op_push(struct store_change *ch)
{
	if (ch->nops == ch->capops) {
		size_t nc = ch->capops ? ch->capops * 2 : 16;
		struct op *p = realloc(ch->ops, nc * sizeof(*p));
		if (p == NULL)
			return NULL;
		ch->ops = p;
		ch->capops = nc;
	}
	memset(&ch->ops[ch->nops], 0, sizeof(struct op));
	return &ch->ops[ch->nops++];
}

/*
 * Owner name: relative to the zone or absolute, lower-cased, inside the
 * zone. A relative name that already ends in the zone's name
 * ("www.example.com" in example.com.) is refused rather than silently
 * becoming www.example.com.example.com.: that is nearly always a missing
 * trailing dot.
 */
static int canon_owner(const struct store_change *ch, const char *in, char *out, uint8_t *wire,
		       char *msg, size_t cap)
{
	size_t len = strlen(in), zl;
	char zone_nodot[DNAME_TEXT_MAXLEN];
	int r;

	if (len == 0) {
		snprintf(msg, cap, "name is empty (use '@' for the zone apex)");
		return ERR_SYNTAX;
	}
	if (len > DNAME_TEXT_MAXLEN) {
		snprintf(msg, cap, "name is longer than any domain name can be");
		return ERR_NAME_TOO_LONG;
	}
	zl = strlen(ch->zone) - 1;
	memcpy(zone_nodot, ch->zone, zl);
	zone_nodot[zl] = '\0';
	if (in[len - 1] != '.' && len >= zl && (len == zl || in[len - zl - 1] == '.') &&
	    strcasecmp(in + len - zl, zone_nodot) == 0) {
		snprintf(
		    msg, cap,
		    "'%.120s' has no trailing dot, so it would mean '%.120s.%.120s'; write it "
		    "relative to the zone ('%.*s') or absolute with the trailing dot ('%.120s.')",
		    in, in, ch->zone,
		    len == zl ? 1 : (int)(len - zl - 1 > 120 ? 120 : len - zl - 1),
		    len == zl ? "@" : in, in);
		return ERR_SYNTAX;
	}
	r = dname_parse_text(in, len, ch->zone_wire, wire);
	if (r < 0) {
		snprintf(msg, cap, "name '%.300s' is not a valid domain name: %s", in, err_str(r));
		return r;
	}
	dname_lower(wire);
	if (dname_print(wire, out, DNAME_TEXT_MAXLEN) < 0) {
		snprintf(msg, cap, "name '%.200s' is too long", in);
		return ERR_NAME_TOO_LONG;
	}
	if (!dname_is_subdomain(wire, ch->zone_wire)) {
		snprintf(msg, cap, "'%.250s' is not inside zone %.250s", out, ch->zone);
		return ERR_NOT_IN_ZONE;
	}
	return 0;
}

/* Types that are never data in a zone (RFC 6895 §3.1: 0, OPT, and the
 * QTYPE/meta range 128..255 which holds TKEY, TSIG, IXFR, AXFR, ANY). */
static bool type_storable(uint16_t t)
{
	return t != 0 && t != RRTYPE_OPT && !(t >= 128 && t <= 255);
}

static int canon_type(const char *in, uint16_t *type, char *msg, size_t cap)
{
	int r;

	if (in == NULL || *in == '\0') {
		snprintf(msg, cap, "type is missing");
		return ERR_SYNTAX;
	}
	r = rrtype_parse(in, strlen(in));
	if (r < 0) {
		snprintf(msg, cap,
			 "unknown type '%.40s' (use a mnemonic like A, AAAA, MX, TXT, or TYPEnnn)",
			 in);
		return r;
	}
	if (!type_storable((uint16_t)r)) {
		snprintf(msg, cap, "type %.40s cannot be stored in a zone (RFC 6895 §3.1)", in);
		return ERR_INVALID;
	}
	*type = (uint16_t)r;
	return 0;
}

/* Prints wire rdata canonically into a malloc'd string. */
static char *print_rdata(uint16_t type, const uint8_t *rd, size_t rdlen, int *err)
{
	size_t cap = 4 * rdlen + 256;
	char *buf;
	int r;

	for (;;) {
		buf = malloc(cap);
		if (buf == NULL) {
			*err = ERR_NOMEM;
			return NULL;
		}
		r = rdata_print(type, rd, rdlen, buf, cap);
		if (r >= 0)
			return buf;
		free(buf);
		if (r != ERR_SPACE || cap > 16 * 65536) {
			*err = r;
			return NULL;
		}
		cap *= 2;
	}
}

static char *canon_data(const struct store_change *ch, uint16_t type, const char *in, char *msg,
			size_t cap)
{
	struct text_err te;
	uint8_t *rd;
	size_t len = strlen(in);
	char *out = NULL;
	int r, e = 0;

	if (len > STORE_DATA_TEXT_MAXLEN) {
		snprintf(msg, cap, "data is %zu characters long; the limit is %d", len,
			 STORE_DATA_TEXT_MAXLEN);
		return NULL;
	}
	rd = malloc(RDATA_MAXLEN);
	if (rd == NULL) {
		snprintf(msg, cap, "out of memory");
		return NULL;
	}
	memset(&te, 0, sizeof(te));
	r = rdata_parse_text(type, in, len, ch->zone_wire, rd, RDATA_MAXLEN, &te);
	if (r < 0) {
		if (te.msg[0])
			snprintf(msg, cap, "%s", te.msg);
		else
			snprintf(msg, cap, "data '%.200s' is not valid: %s", in, err_str(r));
		goto out;
	}
	if (r > STORE_RDATA_MAXLEN) {
		snprintf(msg, cap,
			 "rdata is %d octets; the limit is %d (a record must fit a DNS message)", r,
			 STORE_RDATA_MAXLEN);
		goto out;
	}
	out = print_rdata(type, rd, (size_t)r, &e);
	if (out == NULL)
		snprintf(msg, cap, "data cannot be printed back: %s", err_str(e));
out:
	free(rd);
	return out;
}

/* Parses a TTL given as text: plain seconds or units ("1h30m"). */
static int canon_ttl(const char *in, uint32_t *ttl, char *msg, size_t cap)
{
	const char *p;
	unsigned long long v = 0;
	int r;

	if (*in == '\0') {
		snprintf(msg, cap, "ttl is empty");
		return ERR_SYNTAX;
	}
	for (p = in; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > STORE_TTL_MAX)
			break;
	}
	if (*p == '\0' || (isdigit((unsigned char)*p) && v > STORE_TTL_MAX)) {
		if (v > STORE_TTL_MAX) {
			snprintf(msg, cap, "ttl %.40s is out of range 0..%u (RFC 2181 §8)", in,
				 STORE_TTL_MAX);
			return ERR_RANGE;
		}
		*ttl = (uint32_t)v;
		return 0;
	}
	r = zf_parse_ttl(in, strlen(in), ttl);
	if (r == ERR_RANGE) {
		snprintf(msg, cap, "ttl %.40s is out of range 0..%u (RFC 2181 §8)", in,
			 STORE_TTL_MAX);
		return r;
	}
	if (r < 0) {
		snprintf(msg, cap, "ttl '%.40s' is not a number of seconds (or like 1h30m)", in);
		return r;
	}
	return 0;
}

static char *make_label(const char *label, const char *type, const char *name)
{
	char buf[600];

	if (type && *type)
		snprintf(buf, sizeof(buf), "%s (%.40s '%.200s')", label, type, name ? name : "");
	else
		snprintf(buf, sizeof(buf), "%s ('%.200s')", label, name ? name : "");
	return xstrdup(buf);
}

static int change_op(struct store_change *ch, enum op_kind kind, const char *label,
		     const char *name, const char *type, const char *ttl, const char *data)
{
	char full_name[DNAME_TEXT_MAXLEN], msg[1000];
	uint8_t wire[DNAME_MAXLEN];
	char *lab, *cdata = NULL;
	uint16_t t = 0;
	uint32_t tv = 0;
	bool bad = false;
	struct op *op;

	ch->nuser++;
	lab = make_label(label, type, name);
	if (lab == NULL)
		return ERR_NOMEM;
	if (!ch->zone_ok) { /* already reported once */
		free(lab);
		return 0;
	}
	if (name == NULL) {
		msgs_add(&ch->errors, &ch->nerrors, "%s: name is missing", lab);
		bad = true;
	} else if (canon_owner(ch, name, full_name, wire, msg, sizeof(msg)) < 0) {
		msgs_add(&ch->errors, &ch->nerrors, "%s: %s", lab, msg);
		bad = true;
	}
	if (canon_type(type, &t, msg, sizeof(msg)) < 0) {
		msgs_add(&ch->errors, &ch->nerrors, "%s: %s", lab, msg);
		free(lab);
		return 0; /* without a type the data cannot be checked */
	}
	if (ttl && canon_ttl(ttl, &tv, msg, sizeof(msg)) < 0) {
		msgs_add(&ch->errors, &ch->nerrors, "%s: %s", lab, msg);
		bad = true;
	}
	if (data) {
		cdata = canon_data(ch, t, data, msg, sizeof(msg));
		if (cdata == NULL) {
			msgs_add(&ch->errors, &ch->nerrors, "%s: %s", lab, msg);
			bad = true;
		}
	} else if (kind == OP_ADD) {
		msgs_add(&ch->errors, &ch->nerrors, "%s: data is missing", lab);
		bad = true;
	}
	if (bad) {
		free(lab);
		free(cdata);
		return 0;
	}
	if ((op = op_push(ch)) == NULL) {
		free(lab);
		free(cdata);
		return ERR_NOMEM;
	}
	op->kind = kind;
	op->label = lab;
	op->name = xstrdup(full_name);
	op->type = t;
	op->ttl_set = ttl != NULL;
	op->ttl = tv;
	op->data = cdata;
	if (op->name == NULL)
		return ERR_NOMEM;
	return 0;
}

int store_change_add(struct store_change *ch, const char *label, const char *name, const char *type,
		     const char *ttl, const char *data)
{
	return change_op(ch, OP_ADD, label, name, type, ttl, data);
}

int store_change_del(struct store_change *ch, const char *label, const char *name, const char *type,
		     const char *data)
{
	return change_op(ch, data ? OP_DEL : OP_DEL_RRSET, label, name, type, NULL, data);
}

int store_change_clear_rrset(struct store_change *ch, const char *label, const char *name,
			     const char *type)
{
	int r = change_op(ch, OP_CLEAR, label, name, type, NULL, NULL);

	ch->nuser--; /* clearing is not a record */
	return r;
}

struct load_ctx {
	struct store_change *ch;
	int err;
};

static int load_cb(void *arg, const struct zf_rr *rr)
{
	struct load_ctx *lc = arg;
	struct store_change *ch = lc->ch;
	char name[DNAME_TEXT_MAXLEN], tbuf[16];
	struct op *op;
	char *data;
	int e = 0;

	ch->nuser++;
	if (dname_print(rr->owner, name, sizeof(name)) < 0) {
		msgs_add(&ch->errors, &ch->nerrors, "line %d: owner name too long", rr->line);
		return 0;
	}
	if (!dname_is_subdomain(rr->owner, ch->zone_wire)) {
		msgs_add(&ch->errors, &ch->nerrors, "line %d (%s '%s'): '%s' is not inside zone %s",
			 rr->line, type_str(rr->type, tbuf), name, name, ch->zone);
		return 0;
	}
	if (!type_storable(rr->type)) {
		msgs_add(&ch->errors, &ch->nerrors,
			 "line %d (%s '%s'): type %s cannot be stored in a zone (RFC 6895 §3.1)",
			 rr->line, type_str(rr->type, tbuf), name, tbuf);
		return 0;
	}
	if (rr->rdlen > STORE_RDATA_MAXLEN) {
		msgs_add(&ch->errors, &ch->nerrors,
			 "line %d (%s '%s'): rdata is %u octets; the limit is %d", rr->line,
			 type_str(rr->type, tbuf), name, rr->rdlen, STORE_RDATA_MAXLEN);
		return 0;
	}
	data = print_rdata(rr->type, rr->rdata, rr->rdlen, &e);
	if (data == NULL) {
		msgs_add(&ch->errors, &ch->nerrors,
			 "line %d (%s '%s'): rdata cannot be printed: %s", rr->line,
			 type_str(rr->type, tbuf), name, err_str(e));
		return 0;
	}
	if (!ch->replace && rr->type == RRTYPE_SOA) {
		/* merge: the file's SOA replaces the zone's (a zone has one) */
		if ((op = op_push(ch)) == NULL || (op->name = xstrdup(name)) == NULL) {
			free(data);
			lc->err = ERR_NOMEM;
			return 1;
		}
		op->kind = OP_CLEAR;
		op->line = rr->line;
		op->type = RRTYPE_SOA;
	}
	if ((op = op_push(ch)) == NULL) {
		free(data);
		lc->err = ERR_NOMEM;
		return 1;
	}
	op->kind = OP_ADD;
	op->line = rr->line;
	op->name = xstrdup(name);
	op->type = rr->type;
	op->ttl_set = true;
	op->ttl = rr->ttl;
	op->data = data;
	if (op->name == NULL) {
		lc->err = ERR_NOMEM;
		return 1;
	}
	return 0;
}

int store_change_load_text(struct store_change *ch, const char *text, size_t len, bool replace)
{
	struct load_ctx lc = {.ch = ch};
	struct zf_error ze;
	int r;

	if (!ch->zone_ok)
		return 0;
	ch->replace = replace;
	memset(&ze, 0, sizeof(ze));
	r = zf_parse(text, len, ch->zone_wire, ch->default_ttl, load_cb, &lc, &ze);
	if (lc.err)
		return lc.err;
	if (r < 0)
		msgs_add(&ch->errors, &ch->nerrors, "line %d, column %d: %s", ze.line, ze.col,
			 ze.msg[0] ? ze.msg : err_str(r));
	return 0;
}

void store_change_set_create(struct store_change *ch, bool must_not_exist, const char *policy,
			     uint32_t default_ttl)
{
	ch->create = true;
	ch->must_not_exist = must_not_exist;
	if (policy)
		snprintf(ch->policy, sizeof(ch->policy), "%s", policy);
	ch->default_ttl = default_ttl;
}

void store_change_set_revert(struct store_change *ch, long long change_id, uint32_t to_serial)
{
	ch->revert = true;
	ch->revert_id = change_id;
	ch->revert_serial = to_serial;
}

/* ------------------------------------------------------------------ */
/* Results */

static void rr_free(struct store_rr *rr)
{
	free(rr->name);
	free(rr->data);
}

void store_rr_free_array(struct store_rr *rrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rr_free(&rrs[i]);
	free(rrs);
}

void store_result_clear(struct store_result *res)
{
	size_t i;

	store_rr_free_array(res->added, res->nadded);
	store_rr_free_array(res->removed, res->nremoved);
	for (i = 0; i < res->nwarnings; i++)
		free(res->warnings[i]);
	free(res->warnings);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

static void result_warn(struct store_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void result_warn(struct store_result *res, const char *fmt, ...)
{
	char line[1000], **w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w = realloc(res->warnings, (res->nwarnings + 1) * sizeof(*w));
	if (w == NULL)
		return;
	res->warnings = w;
	if ((w[res->nwarnings] = xstrdup(line)) != NULL)
		res->nwarnings++;
}

int store_rr_line(const struct store_rr *rr, char *buf, size_t cap)
{
	char t[16];
	int n;

	n = snprintf(buf, cap, "%s %u IN %s %s", rr->name, rr->ttl, type_str(rr->type, t),
		     rr->data);
	if (n < 0 || (size_t)n >= cap)
		return ERR_SPACE;
	return n;
}

/* ------------------------------------------------------------------ */
/* The working set */

struct wrr {
	const char *data; /* not owned: points into an op, the pool, or orig */
	uint16_t type;
	uint32_t ttl;
	long op; /* index of the op that put it there; -1: it is in the DB */
};

struct wname {
	char *name;    /* owned */
	uint8_t *wire; /* owned */
	struct wrr *orig;
	size_t norig;
	struct wrr *cur;
	size_t ncur, capcur;
	struct wrr *gone; /* removed by an op (for messages) */
	size_t ngone, capgone;
	bool added; /* an op added a record here */
};

struct ctx {
	sqlite3 *db;
	struct store_change *ch;
	const struct store_opts *o;
	struct store_result *res;
	struct op *ops; /* the ops applied: the change's, or a revert's */
	size_t nops;
	struct op *rops; /* revert ops (owned) */
	size_t nrops, caprops;
	bool zone_exists;
	long long zone_id;
	uint32_t serial;
	char policy[16];
	uint32_t default_ttl;
	struct wname *names;
	size_t nnames, capnames;
	size_t *slots; /* open-addressing hash of names: index + 1, 0 = empty */
	size_t nslots;
	char **pool; /* strings owned by the attempt (DB reads, the new SOA) */
	size_t npool, cappool;
	sqlite3_stmt *st_load, *st_dname;
	long apex; /* index of the apex in names */
};

static char *pool_keep(struct ctx *c, char *s)
{
	if (s == NULL)
		return NULL;
	if (c->npool == c->cappool) {
		size_t nc = c->cappool ? c->cappool * 2 : 64;
		char **p = realloc(c->pool, nc * sizeof(*p));
		if (p == NULL) {
			free(s);
			return NULL;
		}
		c->pool = p;
		c->cappool = nc;
	}
	c->pool[c->npool++] = s;
	return s;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static int names_grow_slots(struct ctx *c)
{
	size_t ns = c->nslots ? c->nslots * 2 : 256, i, j;
	size_t *s = calloc(ns, sizeof(*s));

	if (s == NULL)
		return ERR_NOMEM;
	for (i = 0; i < c->nnames; i++) {
		j = hash_str(c->names[i].name) & (ns - 1);
		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = i + 1;
	}
	free(c->slots);
	c->slots = s;
	c->nslots = ns;
	return 0;
}

static long names_find(const struct ctx *c, const char *name)
{
	size_t j;

	if (c->nslots == 0)
		return -1;
	j = hash_str(name) & (c->nslots - 1);
	while (c->slots[j]) {
		if (strcmp(c->names[c->slots[j] - 1].name, name) == 0)
			return (long)(c->slots[j] - 1);
		j = (j + 1) & (c->nslots - 1);
	}
	return -1;
}

static int wrr_push(struct wrr **arr, size_t *n, size_t *cap, struct wrr v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct wrr *p = realloc(*arr, nc * sizeof(*p));
		if (p == NULL)
			return ERR_NOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

static int sql_err(struct ctx *c, int rc, const char *what)
{
	int prim = rc & 0xff;

	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return STORE_RETRY;
	msgs_add(&c->res->error, &c->res->nerrors, "database error while %s: %s", what,
		 sqlite3_errmsg(c->db));
	return ERR_DB;
}

/* Adds a name to the working set (not loaded); returns its index. */
static long names_add(struct ctx *c, const char *name)
{
	struct wname *w;
	size_t j;
	long i;
	uint8_t wire[DNAME_MAXLEN];
	int r;

	if ((i = names_find(c, name)) >= 0)
		return i;
	r = dname_parse_text(name, strlen(name), NULL, wire);
	if (r < 0)
		return r;
	if (c->nnames == c->capnames) {
		size_t nc = c->capnames ? c->capnames * 2 : 64;
		struct wname *p = realloc(c->names, nc * sizeof(*p));
		if (p == NULL)
			return ERR_NOMEM;
		c->names = p;
		c->capnames = nc;
	}
	if ((c->nnames + 1) * 2 > c->nslots && names_grow_slots(c) < 0)
		return ERR_NOMEM;
	w = &c->names[c->nnames];
	memset(w, 0, sizeof(*w));
	w->name = xstrdup(name);
	w->wire = malloc((size_t)r);
	if (w->name == NULL || w->wire == NULL) {
		free(w->name);
		free(w->wire);
		return ERR_NOMEM;
	}
	memcpy(w->wire, wire, (size_t)r);
	j = hash_str(name) & (c->nslots - 1);
	while (c->slots[j])
		j = (j + 1) & (c->nslots - 1);
	c->slots[j] = c->nnames + 1;
	return (long)c->nnames++;
}

/* Copies orig into cur (the state before any op). */
static int wname_start(struct wname *w)
{
	if (w->norig) {
		w->cur = malloc(w->norig * sizeof(*w->cur));
		if (w->cur == NULL)
			return ERR_NOMEM;
		memcpy(w->cur, w->orig, w->norig * sizeof(*w->cur));
	}
	w->ncur = w->capcur = w->norig;
	return 0;
}

/* Reads the records at one name from the database into orig and cur. */
static int load_name(struct ctx *c, long idx)
{
	struct wname *w = &c->names[idx];
	size_t cap = 0;
	int rc;

	if (c->zone_exists) {
		sqlite3_reset(c->st_load);
		sqlite3_bind_int64(c->st_load, 1, c->zone_id);
		sqlite3_bind_text(c->st_load, 2, w->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(c->st_load)) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(c->st_load, 0);
			struct wrr v;
			int ty = t ? rrtype_parse(t, strlen(t)) : -1;
			char *d = xstrdup((const char *)sqlite3_column_text(c->st_load, 2));

			v.type = ty < 0 ? 0 : (uint16_t)ty;
			v.ttl = (uint32_t)sqlite3_column_int64(c->st_load, 1);
			v.data = pool_keep(c, d);
			v.op = -1;
			if (v.data == NULL || wrr_push(&w->orig, &w->norig, &cap, v) < 0) {
				sqlite3_reset(c->st_load);
				return ERR_NOMEM;
			}
		}
		sqlite3_reset(c->st_load);
		if (rc != SQLITE_DONE)
			return sql_err(c, rc, "reading records");
	}
	return wname_start(w);
}

/* Looks a name up in the working set, reading it from the DB the first
 * time (names of a replace are all read up front). */
static long get_name(struct ctx *c, const char *name)
{
	long i = names_find(c, name);
	int r;

	if (i >= 0)
		return i;
	if ((i = names_add(c, name)) < 0)
		return i;
	if (c->ch->replace) /* everything in the DB is already loaded */
		r = wname_start(&c->names[i]);
	else
		r = load_name(c, i);
	return r < 0 ? r : i;
}

/* Reads the whole zone (replace): every name loaded, cur emptied later. */
static int load_all(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	size_t *caps = NULL, capcaps = 0;
	int rc, r = 0;

	if (!c->zone_exists)
		return 0;
	rc = sqlite3_prepare_v2(c->db,
				"SELECT name, type, ttl, data FROM records WHERE zone_id = ?1 "
				"ORDER BY name",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(c, rc, "reading the zone");
	sqlite3_bind_int64(st, 1, c->zone_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *t = (const char *)sqlite3_column_text(st, 1);
		int ty = t ? rrtype_parse(t, strlen(t)) : -1;
		struct wrr v;
		long i;

		if (name == NULL)
			continue;
		i = names_add(c, name);
		if (i < 0) {
			/* a name we cannot parse was put there by hand: keep
			 * going, it simply is not part of the new content */
			if (i == ERR_NOMEM) {
				r = ERR_NOMEM;
				goto out;
			}
			continue;
		}
		if ((size_t)i >= capcaps) {
			size_t nc = capcaps ? capcaps * 2 : 1024;
			size_t *p;
			while (nc <= (size_t)i)
				nc *= 2;
			p = realloc(caps, nc * sizeof(*p));
			if (p == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			memset(p + capcaps, 0, (nc - capcaps) * sizeof(*p));
			caps = p;
			capcaps = nc;
		}
		v.type = ty < 0 ? 0 : (uint16_t)ty;
		v.ttl = (uint32_t)sqlite3_column_int64(st, 2);
		v.data = pool_keep(c, xstrdup((const char *)sqlite3_column_text(st, 3)));
		v.op = -1;
		if (v.data == NULL ||
		    wrr_push(&c->names[i].orig, &c->names[i].norig, &caps[i], v) < 0) {
			r = ERR_NOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = sql_err(c, rc, "reading the zone");
out:
	free(caps);
	sqlite3_finalize(st);
	return r;
}

static void ctx_free(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nnames; i++) {
		free(c->names[i].name);
		free(c->names[i].wire);
		free(c->names[i].orig);
		free(c->names[i].cur);
		free(c->names[i].gone);
	}
	free(c->names);
	free(c->slots);
	for (i = 0; i < c->npool; i++)
		free(c->pool[i]);
	free(c->pool);
	for (i = 0; i < c->nrops; i++)
		op_free(&c->rops[i]);
	free(c->rops);
	sqlite3_finalize(c->st_load);
	sqlite3_finalize(c->st_dname);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */
/* Applying operations */

static const char *op_label(const struct op *op, char *buf, size_t cap)
{
	char t[16];

	if (op->label)
		return op->label;
	snprintf(buf, cap, "line %d (%s '%s')", op->line, type_str(op->type, t), op->name);
	return buf;
}

static void cerr(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cerr(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msgs_vadd(&c->res->error, &c->res->nerrors, fmt, ap);
	va_end(ap);
}

static long find_rr(const struct wrr *arr, size_t n, uint16_t type, const char *data)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (arr[i].type == type && strcmp(arr[i].data, data) == 0)
			return (long)i;
	return -1;
}

static int remove_cur(struct wname *w, size_t at, long op)
{
	struct wrr g = w->cur[at];

	g.op = op;
	if (wrr_push(&w->gone, &w->ngone, &w->capgone, g) < 0)
		return ERR_NOMEM;
	w->cur[at] = w->cur[--w->ncur];
	return 0;
}

static int apply_op(struct ctx *c, size_t k)
{
	const struct op *op = &c->ops[k];
	char lb[600], lb2[600], t[16];
	struct wname *w;
	long i, j;
	size_t n;
	bool any;

	i = get_name(c, op->name);
	if (i < 0)
		return (int)i;
	w = &c->names[i];
	switch (op->kind) {
	case OP_ADD: {
		struct wrr v = {.data = op->data, .type = op->type, .op = (long)k};

		j = find_rr(w->cur, w->ncur, op->type, op->data);
		if (j >= 0 && w->cur[j].op >= 0) {
			if (c->ch->replace && !op->label) {
				/* RFC 2181 §5: a zone file may repeat a record; it
				 * is one record. */
				c->res->unchanged++;
				return 0;
			}
			cerr(c, "%s: duplicates %s", op_label(op, lb, sizeof(lb)),
			     op_label(&c->ops[w->cur[j].op], lb2, sizeof(lb2)));
			return 0;
		}
		if (j >= 0) { /* already in the DB */
			if (!op->ttl_set || op->ttl == w->cur[j].ttl) {
				c->res->unchanged++;
				w->cur[j].op = (long)k;
				return 0;
			}
			w->cur[j].ttl = op->ttl; /* a TTL update */
			w->cur[j].op = (long)k;
			w->added = true;
			return 0;
		}
		if (op->ttl_set) {
			v.ttl = op->ttl;
			if (!op->label) {
				/* File records: an RRset written with several TTLs
				 * gets the first one, as BIND does (RFC 2181 §5.2). */
				for (n = 0; n < w->ncur; n++)
					if (w->cur[n].type == op->type && w->cur[n].op >= 0 &&
					    w->cur[n].ttl != v.ttl) {
						result_warn(c->res,
							    "%s: TTL %u changed to %u, the TTL of "
							    "the rest of its RRset (RFC 2181 §5.2)",
							    op_label(op, lb, sizeof(lb)), v.ttl,
							    w->cur[n].ttl);
						v.ttl = w->cur[n].ttl;
						break;
					}
			}
		} else {
			/* Unset: join the RRset's TTL (RFC 2181 §5.2), or keep
			 * the TTL of the RRset this change just removed
			 * (set_rrset), else the zone default. */
			bool found = false;
			v.ttl = c->default_ttl;
			for (n = 0; n < w->ncur && !found; n++)
				if (w->cur[n].type == op->type) {
					v.ttl = w->cur[n].ttl;
					found = true;
				}
			for (n = w->ngone; n > 0 && !found; n--)
				if (w->gone[n - 1].type == op->type) {
					v.ttl = w->gone[n - 1].ttl;
					found = true;
				}
		}
		w->added = true;
		return wrr_push(&w->cur, &w->ncur, &w->capcur, v);
	}
	case OP_DEL:
		j = find_rr(w->cur, w->ncur, op->type, op->data);
		if (j < 0) {
			long g = find_rr(w->gone, w->ngone, op->type, op->data);
			if (g >= 0 && w->gone[g].op >= 0 && w->gone[g].op != (long)k &&
			    c->ops[w->gone[g].op].kind == OP_DEL)
				cerr(c, "%s: duplicates %s", op_label(op, lb, sizeof(lb)),
				     op_label(&c->ops[w->gone[g].op], lb2, sizeof(lb2)));
			else if (c->ch->revert)
				cerr(c,
				     "%s: cannot be reverted: %s %s %s is no longer in the zone "
				     "(changed since; see list_changes)",
				     op_label(op, lb, sizeof(lb)), op->name, type_str(op->type, t),
				     op->data);
			else
				cerr(c, "%s: no such record: %s %s %s is not in the zone",
				     op_label(op, lb, sizeof(lb)), op->name, type_str(op->type, t),
				     op->data);
			return 0;
		}
		return remove_cur(w, (size_t)j, (long)k);
	case OP_DEL_RRSET:
	case OP_CLEAR:
		any = false;
		for (n = 0; n < w->ncur;) {
			if (w->cur[n].type == op->type) {
				if (remove_cur(w, n, (long)k) < 0)
					return ERR_NOMEM;
				any = true;
			} else {
				n++;
			}
		}
		if (!any && op->kind == OP_DEL_RRSET)
			cerr(c, "%s: no such records: %s has no %s records",
			     op_label(op, lb, sizeof(lb)), op->name, type_str(op->type, t));
		return 0;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Validation of the final state */

/* A label for messages about a name: the first op that added there. */
static const char *name_label(const struct ctx *c, const struct wname *w, uint16_t type, char *buf,
			      size_t cap)
{
	size_t i;

	for (i = 0; i < w->ncur; i++)
		if (w->cur[i].op >= 0 && (type == 0 || w->cur[i].type == type))
			return op_label(&c->ops[w->cur[i].op], buf, cap);
	snprintf(buf, cap, "%s", w->name);
	return buf;
}

static bool is_dnssec_type(uint16_t t)
{
	return t == RRTYPE_RRSIG || t == RRTYPE_NSEC || t == RRTYPE_NSEC3;
}

/* Checks one name's final records. */
static void check_name(struct ctx *c, struct wname *w, bool is_apex)
{
	char lb[600], t1[16], t2[16];
	size_t i, j, ncname = 0, ndname = 0, nsoa = 0, nns = 0;
	uint16_t other = 0;

	for (i = 0; i < w->ncur; i++) {
		uint16_t t = w->cur[i].type;
		if (t == RRTYPE_CNAME)
			ncname++;
		else if (t == RRTYPE_DNAME)
			ndname++;
		else if (t == RRTYPE_SOA)
			nsoa++;
		else if (t == RRTYPE_NS)
			nns++;
		if (t != RRTYPE_CNAME && !is_dnssec_type(t) && other == 0)
			other = t;
	}
	if (ncname && is_apex) {
		cerr(c,
		     "%s: a CNAME cannot be at the zone apex %s: the apex must hold SOA and NS "
		     "records and a CNAME allows no other data (RFC 1034 §3.6.2); use A/AAAA "
		     "records instead",
		     name_label(c, w, RRTYPE_CNAME, lb, sizeof(lb)), w->name);
	} else if (ncname && other) {
		/* Name the record this change added, so the fix is obvious. */
		bool cname_new = false;
		for (i = 0; i < w->ncur; i++)
			if (w->cur[i].type == RRTYPE_CNAME && w->cur[i].op >= 0)
				cname_new = true;
		if (cname_new)
			cerr(c,
			     "%s: %s already has %s data; a CNAME cannot coexist with other data "
			     "(RFC 1034 §3.6.2, RFC 2181 §10.1): delete the other records first "
			     "or use another name",
			     name_label(c, w, RRTYPE_CNAME, lb, sizeof(lb)), w->name,
			     type_str(other, t1));
		else
			cerr(c,
			     "%s: %s has a CNAME, so it cannot have %s data too (RFC 1034 "
			     "§3.6.2): delete the CNAME first or put the record elsewhere",
			     name_label(c, w, other, lb, sizeof(lb)), w->name, type_str(other, t1));
	}
	if (ncname > 1)
		cerr(c,
		     "%s: %s would have %zu CNAME records; a name has at most one (RFC 2181 §10.1)",
		     name_label(c, w, RRTYPE_CNAME, lb, sizeof(lb)), w->name, ncname);
	if (ndname > 1)
		cerr(c,
		     "%s: %s would have %zu DNAME records; a name has at most one (RFC 6672 §2.4)",
		     name_label(c, w, RRTYPE_DNAME, lb, sizeof(lb)), w->name, ndname);
	if (nsoa && !is_apex)
		cerr(c, "%s: an SOA record belongs only at the zone apex %s, not at %s",
		     name_label(c, w, RRTYPE_SOA, lb, sizeof(lb)), c->ch->zone, w->name);
	if (is_apex && c->ch->replace && (nsoa == 0 || nns == 0)) {
		cerr(c,
		     "%s: the zone text has no %s at the apex %s; a replace (or a new zone) must "
		     "contain the zone's SOA and NS records",
		     c->ch->zone,
		     nsoa == 0 && nns == 0 ? "SOA and no NS records"
		     : nsoa == 0	   ? "SOA record"
					   : "NS records",
		     c->ch->zone);
	} else if (is_apex) {
		if (nsoa == 0)
			cerr(c,
			     "%s: the zone must keep exactly one SOA record at its apex (change it "
			     "with set_rrset, never delete it)",
			     c->ch->zone);
		else if (nsoa > 1)
			cerr(c, "%s: %s would have %zu SOA records; a zone has exactly one",
			     name_label(c, w, RRTYPE_SOA, lb, sizeof(lb)), w->name, nsoa);
		if (nns == 0)
			cerr(c, "%s: the zone must keep at least one NS record at its apex",
			     c->ch->zone);
	}
	/* One TTL per RRset (RFC 2181 §5.2). */
	for (i = 0; i < w->ncur; i++)
		for (j = i + 1; j < w->ncur; j++)
			if (w->cur[i].type == w->cur[j].type && w->cur[i].ttl != w->cur[j].ttl) {
				const struct wrr *x = w->cur[j].op >= 0 ? &w->cur[j] : &w->cur[i];
				char lbx[600];
				const char *l = x->op >= 0
						    ? op_label(&c->ops[x->op], lbx, sizeof(lbx))
						    : w->name;

				cerr(
				    c,
				    "%s: the %s %s RRset would have TTLs %u and %u; all records of "
				    "an RRset share one TTL (RFC 2181 §5.2): give the same ttl, or "
				    "use set_rrset to change the TTL of the whole RRset",
				    l, w->name, type_str(w->cur[i].type, t2), w->cur[i].ttl,
				    w->cur[j].ttl);
				return;
			}
}

static bool cur_has(const struct wname *w, uint16_t type)
{
	size_t i;

	for (i = 0; i < w->ncur; i++)
		if (w->cur[i].type == type)
			return true;
	return false;
}

/* Does name (not in the working set) have a DNAME in the DB? */
static int db_has_dname(struct ctx *c, const char *name)
{
	int rc;

	if (!c->zone_exists || c->ch->replace)
		return 0;
	if (c->st_dname == NULL) {
		rc = sqlite3_prepare_v2(c->db,
					"SELECT 1 FROM records WHERE zone_id = ?1 AND name = ?2 "
					"AND type = 'DNAME' LIMIT 1",
					-1, &c->st_dname, NULL);
		if (rc != SQLITE_OK)
			return sql_err(c, rc, "checking DNAME records");
	}
	sqlite3_reset(c->st_dname);
	sqlite3_bind_int64(c->st_dname, 1, c->zone_id);
	sqlite3_bind_text(c->st_dname, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->st_dname);
	sqlite3_reset(c->st_dname);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sql_err(c, rc, "checking DNAME records");
}

/* RFC 6672 §2.4: no data below a DNAME. Checked for names that gained
 * records (against DNAMEs above them) and for new DNAMEs (against data
 * below them). */
static int check_dnames(struct ctx *c)
{
	char lb[600], buf[DNAME_TEXT_MAXLEN];
	size_t i, k;
	int r;

	for (i = 0; i < c->nnames; i++) {
		struct wname *w = &c->names[i];
		const uint8_t *p;

		if (w->ncur == 0 || !(w->added || c->ch->replace))
			continue;
		for (p = dname_parent(w->wire); p && dname_is_subdomain(p, c->ch->zone_wire);
		     p = dname_parent(p)) {
			long a;
			bool has;

			if (dname_print(p, buf, sizeof(buf)) < 0)
				break;
			a = names_find(c, buf);
			if (a >= 0) {
				has = cur_has(&c->names[a], RRTYPE_DNAME);
			} else {
				if ((r = db_has_dname(c, buf)) < 0)
					return r;
				has = r == 1;
			}
			if (has) {
				cerr(c,
				     "%s: %s is below the DNAME at %s; no data may exist below a "
				     "DNAME (RFC 6672 §2.4)",
				     name_label(c, w, 0, lb, sizeof(lb)), w->name, buf);
				break;
			}
			if (dname_equal(p, c->ch->zone_wire))
				break;
		}
	}
	/* New DNAMEs: anything below them, in the working set or the DB? */
	for (i = 0; i < c->nnames; i++) {
		struct wname *w = &c->names[i];
		bool fresh = false;

		for (k = 0; k < w->ncur; k++)
			if (w->cur[k].type == RRTYPE_DNAME && w->cur[k].op >= 0)
				fresh = true;
		if (!fresh || c->ch->replace) /* replace: the first loop saw everything */
			continue;
		if (c->zone_exists) {
			sqlite3_stmt *st;
			char suffix[DNAME_TEXT_MAXLEN + 2];
			int rc;

			snprintf(suffix, sizeof(suffix), ".%s", w->name);
			rc = sqlite3_prepare_v2(
			    c->db,
			    "SELECT DISTINCT name FROM records WHERE zone_id = ?1 "
			    "AND length(name) > ?2 AND substr(name, -?2) = ?3",
			    -1, &st, NULL);
			if (rc != SQLITE_OK)
				return sql_err(c, rc, "checking names below a DNAME");
			sqlite3_bind_int64(st, 1, c->zone_id);
			sqlite3_bind_int(st, 2, (int)strlen(suffix));
			sqlite3_bind_text(st, 3, suffix, -1, SQLITE_STATIC);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				const char *n = (const char *)sqlite3_column_text(st, 0);
				uint8_t nw[DNAME_MAXLEN];
				long a;

				/* text suffixes can lie ("a\.b.x." ends in ".b.x.") */
				if (!n || dname_parse_text(n, strlen(n), NULL, nw) < 0 ||
				    !dname_is_subdomain(nw, w->wire) || dname_equal(nw, w->wire))
					continue;
				a = names_find(c, n);
				if (a >= 0 && c->names[a].ncur == 0)
					continue; /* emptied by this change */
				cerr(c,
				     "%s: %s has data (%s) below it; no data may exist below a "
				     "DNAME (RFC 6672 §2.4)",
				     name_label(c, w, RRTYPE_DNAME, lb, sizeof(lb)), w->name, n);
				break;
			}
			sqlite3_finalize(st);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return sql_err(c, rc, "checking names below a DNAME");
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Serial, diff, writing */

/* Serial field of SOA rdata text; 0 or an error. */
static int soa_serial_of(const char *data, uint32_t *serial)
{
	uint8_t rd[2 * DNAME_MAXLEN + 20];
	int n = rdata_parse_text(RRTYPE_SOA, data, strlen(data), NULL, rd, sizeof(rd), NULL);
	size_t off;

	if (n < 0)
		return n;
	off = dname_len(rd);
	off += dname_len(rd + off);
	if (off + 20 > (size_t)n)
		return ERR_MALFORMED;
	*serial = ((uint32_t)rd[off] << 24) | ((uint32_t)rd[off + 1] << 16) |
		  ((uint32_t)rd[off + 2] << 8) | rd[off + 3];
	return 0;
}

/* SOA rdata text with another serial; malloc'd or NULL. */
static char *soa_with_serial(const char *data, uint32_t serial)
{
	uint8_t rd[2 * DNAME_MAXLEN + 20];
	int n = rdata_parse_text(RRTYPE_SOA, data, strlen(data), NULL, rd, sizeof(rd), NULL), e;
	size_t off;

	if (n < 0)
		return NULL;
	off = dname_len(rd);
	off += dname_len(rd + off);
	if (off + 20 > (size_t)n)
		return NULL;
	rd[off] = (uint8_t)(serial >> 24);
	rd[off + 1] = (uint8_t)(serial >> 16);
	rd[off + 2] = (uint8_t)(serial >> 8);
	rd[off + 3] = (uint8_t)serial;
	return print_rdata(RRTYPE_SOA, rd, (size_t)n, &e);
}

static bool name_changed(const struct wname *w)
{
	size_t i;
	long j;

	if (w->ncur != w->norig)
		return true;
	for (i = 0; i < w->ncur; i++) {
		j = find_rr(w->orig, w->norig, w->cur[i].type, w->cur[i].data);
		if (j < 0 || w->orig[j].ttl != w->cur[i].ttl)
			return true;
	}
	return false;
}

struct diff_ent {
	const char *name;
	const struct wrr *rr;
};

struct diff {
	struct diff_ent *add, *del;
	size_t nadd, ndel, capadd, capdel;
};

static int diff_push(struct diff_ent **arr, size_t *n, size_t *cap, const char *name,
		     const struct wrr *rr)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct diff_ent *p = realloc(*arr, nc * sizeof(*p));
		if (p == NULL)
			return ERR_NOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[*n].name = name;
	(*arr)[(*n)++].rr = rr;
	return 0;
}

/* Puts the SOA first, keeps everything else in a stable sorted order. */
static int diff_cmp(const void *a, const void *b)
{
	const struct diff_ent *x = a, *y = b;
	int c;

	if ((x->rr->type == RRTYPE_SOA) != (y->rr->type == RRTYPE_SOA))
		return x->rr->type == RRTYPE_SOA ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	if (x->rr->type != y->rr->type)
		return x->rr->type < y->rr->type ? -1 : 1;
	return strcmp(x->rr->data, y->rr->data);
}

static int compute_diff(struct ctx *c, struct diff *d)
{
	size_t i, k;

	for (i = 0; i < c->nnames; i++) {
		struct wname *w = &c->names[i];
		for (k = 0; k < w->norig; k++) {
			long j = find_rr(w->cur, w->ncur, w->orig[k].type, w->orig[k].data);
			if (j < 0 || w->cur[j].ttl != w->orig[k].ttl)
				if (diff_push(&d->del, &d->ndel, &d->capdel, w->name, &w->orig[k]) <
				    0)
					return ERR_NOMEM;
		}
		for (k = 0; k < w->ncur; k++) {
			long j = find_rr(w->orig, w->norig, w->cur[k].type, w->cur[k].data);
			if (j < 0 || w->orig[j].ttl != w->cur[k].ttl)
				if (diff_push(&d->add, &d->nadd, &d->capadd, w->name, &w->cur[k]) <
				    0)
					return ERR_NOMEM;
		}
	}
	if (d->ndel) /* qsort(NULL, 0, ...) is undefined */
		qsort(d->del, d->ndel, sizeof(*d->del), diff_cmp);
	if (d->nadd)
		qsort(d->add, d->nadd, sizeof(*d->add), diff_cmp);
	return 0;
}

static int result_list(struct store_rr **out, size_t *n, size_t *total, const struct diff_ent *e,
		       size_t ne)
{
	size_t i, m = ne < STORE_RESULT_LIST_MAX ? ne : STORE_RESULT_LIST_MAX;

	*total = ne;
	if (m == 0)
		return 0;
	*out = calloc(m, sizeof(**out));
	if (*out == NULL)
		return ERR_NOMEM;
	for (i = 0; i < m; i++) {
		(*out)[i].name = xstrdup(e[i].name);
		(*out)[i].type = e[i].rr->type;
		(*out)[i].ttl = e[i].rr->ttl;
		(*out)[i].data = xstrdup(e[i].rr->data);
		*n = i + 1;
		if ((*out)[i].name == NULL || (*out)[i].data == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

static int exec_sql(struct ctx *c, const char *sql, const char *what)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sql_err(c, rc, what);
}

static int step_done(struct ctx *c, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return sql_err(c, rc, what);
}

static int journal_rows(struct ctx *c, sqlite3_stmt *st, long long change_id, int *seq,
			const char *opname, const struct diff_ent *e, size_t n)
{
	char t[16];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, change_id);
		sqlite3_bind_int(st, 2, (*seq)++);
		sqlite3_bind_text(st, 3, opname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, type_str(e[i].rr->type, t), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 6, e[i].rr->ttl);
		sqlite3_bind_text(st, 7, e[i].rr->data, -1, SQLITE_STATIC);
		if ((r = step_done(c, st, "writing the journal")) != 0)
			return r;
	}
	return 0;
}

/*
 * Applies the retention policy to zone_id's journal after change keep_id
 * was written (see 6. at the top). Adds the number of deleted changes to
 * res->pruned. 0 or an error from sql_err (STORE_RETRY when busy).
 */
static int apply_retention(struct ctx *c, long long zone_id, long long keep_id)
{
	const struct store_retention *rt =
	    c->o->retention ? c->o->retention : &store_default_retention;
	sqlite3_stmt *st = NULL;
	int rc;

	if (rt->keep > 0) {
		/* The id at position keep (newest first) is the newest that
		 * goes; with fewer rows the subquery is NULL and nothing
		 * matches. keep >= 1 puts keep_id at position 0: it stays. */
		rc = sqlite3_prepare_v2(
		    c->db,
		    "DELETE FROM changes WHERE zone_id = ?1 AND id <> ?2 AND id <= "
		    "(SELECT id FROM changes WHERE zone_id = ?1 ORDER BY id DESC "
		    "LIMIT 1 OFFSET ?3)",
		    -1, &st, NULL);
		if (rc != SQLITE_OK)
			return sql_err(c, rc, "trimming the journal");
		sqlite3_bind_int64(st, 1, zone_id);
		sqlite3_bind_int64(st, 2, keep_id);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)rt->keep);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sql_err(c, rc, "trimming the journal");
		c->res->pruned += (size_t)sqlite3_changes(c->db);
	}
	if (rt->keep_days > 0) {
		/* created_at is "YYYY-MM-DDTHH:MM:SS.sssZ" (UTC), so text order
		 * is time order. Everything up to the newest change that is too
		 * old goes, even a younger one before it (a clock that stepped
		 * back), so the journal never gets a hole. */
		time_t cut = store_now() - (time_t)rt->keep_days * 86400;
		struct tm tm;
		char cutoff[32];

		if (gmtime_r(&cut, &tm) == NULL ||
		    strftime(cutoff, sizeof(cutoff), "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
			return 0; /* a clock we cannot print: keep everything */
		rc = sqlite3_prepare_v2(
		    c->db,
		    "DELETE FROM changes WHERE zone_id = ?1 AND id <> ?2 AND id <= "
		    "(SELECT max(id) FROM changes WHERE zone_id = ?1 AND id <> ?2 "
		    "AND created_at < ?3)",
		    -1, &st, NULL);
		if (rc != SQLITE_OK)
			return sql_err(c, rc, "trimming the journal");
		sqlite3_bind_int64(st, 1, zone_id);
		sqlite3_bind_int64(st, 2, keep_id);
		sqlite3_bind_text(st, 3, cutoff, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sql_err(c, rc, "trimming the journal");
		c->res->pruned += (size_t)sqlite3_changes(c->db);
	}
	return 0;
}

static int write_change(struct ctx *c, const struct diff *d, uint32_t new_serial)
{
	sqlite3_stmt *del = NULL, *ins = NULL, *jr = NULL, *st = NULL;
	const struct store_opts *o = c->o;
	char t[16];
	long long change_id;
	size_t i;
	int r = 0, rc, seq = 0;

	if (!c->zone_exists) {
		rc = sqlite3_prepare_v2(
		    c->db,
		    "INSERT INTO zones(name, serial, serial_policy, default_ttl) "
		    "VALUES (?1, ?2, ?3, ?4)",
		    -1, &st, NULL);
		if (rc != SQLITE_OK)
			return sql_err(c, rc, "creating the zone");
		sqlite3_bind_text(st, 1, c->ch->zone, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, new_serial);
		sqlite3_bind_text(st, 3, c->policy, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->default_ttl);
		r = step_done(c, st, "creating the zone");
		sqlite3_finalize(st);
		st = NULL;
		if (r)
			return r;
		c->zone_id = sqlite3_last_insert_rowid(c->db);
	}
	rc =
	    sqlite3_prepare_v2(c->db,
			       "DELETE FROM records WHERE zone_id = ?1 AND name = ?2 AND type = ?3 "
			       "AND data = ?4",
			       -1, &del, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(c->db,
					"INSERT INTO records(zone_id, name, type, ttl, data) "
					"VALUES (?1, ?2, ?3, ?4, ?5)",
					-1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc =
		    sqlite3_prepare_v2(c->db,
				       "INSERT INTO change_records(change_id, seq, op, name, type, "
				       "ttl, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				       -1, &jr, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(c, rc, "preparing the change");
		goto out;
	}
	for (i = 0; i < d->ndel; i++) {
		sqlite3_bind_int64(del, 1, c->zone_id);
		sqlite3_bind_text(del, 2, d->del[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(del, 3, type_str(d->del[i].rr->type, t), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(del, 4, d->del[i].rr->data, -1, SQLITE_STATIC);
		if ((r = step_done(c, del, "deleting records")) != 0)
			goto out;
	}
	for (i = 0; i < d->nadd; i++) {
		sqlite3_bind_int64(ins, 1, c->zone_id);
		sqlite3_bind_text(ins, 2, d->add[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, type_str(d->add[i].rr->type, t), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 4, d->add[i].rr->ttl);
		sqlite3_bind_text(ins, 5, d->add[i].rr->data, -1, SQLITE_STATIC);
		if ((r = step_done(c, ins, "inserting records")) != 0)
			goto out;
	}
	if (c->zone_exists) {
		rc = sqlite3_prepare_v2(
		    c->db,
		    "UPDATE zones SET serial = ?2, "
		    "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
		    -1, &st, NULL);
		if (rc != SQLITE_OK) {
			r = sql_err(c, rc, "updating the serial");
			goto out;
		}
		sqlite3_bind_int64(st, 1, c->zone_id);
		sqlite3_bind_int64(st, 2, new_serial);
		if ((r = step_done(c, st, "updating the serial")) != 0)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	rc = sqlite3_prepare_v2(
	    c->db,
	    "INSERT INTO changes(zone_id, zone_name, serial_before, serial_after, "
	    "actor, tool, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(c, rc, "writing the journal");
		goto out;
	}
	sqlite3_bind_int64(st, 1, c->zone_id);
	sqlite3_bind_text(st, 2, c->ch->zone, -1, SQLITE_STATIC);
	if (c->zone_exists)
		sqlite3_bind_int64(st, 3, c->serial);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, new_serial);
	sqlite3_bind_text(st, 5, o->actor ? o->actor : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, o->tool ? o->tool : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, o->reason ? o->reason : "", -1, SQLITE_STATIC);
	if ((r = step_done(c, st, "writing the journal")) != 0)
		goto out;
	change_id = sqlite3_last_insert_rowid(c->db);
	/* IXFR order (RFC 1995 §4): old SOA, deletions, new SOA, additions;
	 * the SOA sorts first in each list. */
	if ((r = journal_rows(c, jr, change_id, &seq, "del", d->del, d->ndel)) != 0 ||
	    (r = journal_rows(c, jr, change_id, &seq, "add", d->add, d->nadd)) != 0)
		goto out;
	if ((r = apply_retention(c, c->zone_id, change_id)) != 0)
		goto out;
	c->res->change_id = change_id;
out:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(jr);
	sqlite3_finalize(st);
	return r;
}

/* ------------------------------------------------------------------ */
/* Reverts: the inverse of journal changes, as ops */

static struct op *rop_push(struct ctx *c)
{
	if (c->nrops == c->caprops) {
		size_t nc = c->caprops ? c->caprops * 2 : 64;
		struct op *p = realloc(c->rops, nc * sizeof(*p));
		if (p == NULL)
			return NULL;
		c->rops = p;
		c->caprops = nc;
	}
	memset(&c->rops[c->nrops], 0, sizeof(struct op));
	return &c->rops[c->nrops++];
}

/* Appends the inverse of change id: its additions deleted, then its
 * removals added back. The SOA is special: only its fields other than the
 * serial are restored (the serial moves forward as always). */
static int invert_change(struct ctx *c, long long id)
{
	sqlite3_stmt *st = NULL;
	char *soa_del = NULL, *soa_add = NULL, lab[64];
	uint32_t soa_del_ttl = 0, soa_add_ttl = 0;
	int rc, r = 0, pass;

	rc = sqlite3_prepare_v2(c->db,
				"SELECT op, name, type, ttl, data FROM change_records "
				"WHERE change_id = ?1 ORDER BY seq",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(c, rc, "reading the journal");
	snprintf(lab, sizeof(lab), "change %lld", id);
	for (pass = 0; pass < 2 && r == 0; pass++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *opn = (const char *)sqlite3_column_text(st, 0);
			const char *name = (const char *)sqlite3_column_text(st, 1);
			const char *t = (const char *)sqlite3_column_text(st, 2);
			const char *data = (const char *)sqlite3_column_text(st, 4);
			int ty = t ? rrtype_parse(t, strlen(t)) : -1;
			bool is_add = opn && strcmp(opn, "add") == 0;
			struct op *op;

			if (!name || !data || ty < 0)
				continue;
			if (ty == RRTYPE_SOA) {
				if (pass == 0) {
					char **slot = is_add ? &soa_add : &soa_del;
					free(*slot);
					*slot = xstrdup(data);
					*(is_add ? &soa_add_ttl : &soa_del_ttl) =
					    (uint32_t)sqlite3_column_int64(st, 3);
				}
				continue;
			}
			/* pass 0: delete what the change added; pass 1: add back */
			if (is_add != (pass == 0))
				continue;
			if ((op = rop_push(c)) == NULL) {
				r = ERR_NOMEM;
				break;
			}
			op->kind = pass == 0 ? OP_DEL : OP_ADD;
			op->label = make_label(lab, t, name);
			op->name = xstrdup(name);
			op->type = (uint16_t)ty;
			op->ttl_set = true;
			op->ttl = (uint32_t)sqlite3_column_int64(st, 3);
			op->data = xstrdup(data);
			if (!op->label || !op->name || !op->data) {
				r = ERR_NOMEM;
				break;
			}
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = sql_err(c, rc, "reading the journal");
	}
	if (r == 0 && soa_del && soa_add) {
		/* Did the change alter the SOA beyond its serial (fields or TTL)? */
		char *a = soa_with_serial(soa_del, 0), *b = soa_with_serial(soa_add, 0);
		if (a && b && (strcmp(a, b) != 0 || soa_del_ttl != soa_add_ttl)) {
			struct op *op1 = rop_push(c), *op2;
			if (op1 == NULL) {
				r = ERR_NOMEM;
			} else {
				op1->kind = OP_CLEAR;
				op1->label = make_label(lab, "SOA", c->ch->zone);
				op1->name = xstrdup(c->ch->zone);
				op1->type = RRTYPE_SOA;
				op2 = rop_push(c);
				if (op2 == NULL) {
					r = ERR_NOMEM;
				} else {
					op2->kind = OP_ADD;
					op2->label = make_label(lab, "SOA", c->ch->zone);
					op2->name = xstrdup(c->ch->zone);
					op2->type = RRTYPE_SOA;
					op2->ttl_set = true;
					op2->ttl = soa_del_ttl;
					op2->data = xstrdup(soa_del);
				}
			}
		}
		free(a);
		free(b);
	}
	free(soa_del);
	free(soa_add);
	sqlite3_finalize(st);
	return r;
}

static int build_revert(struct ctx *c)
{
	sqlite3_stmt *st = NULL;
	long long target = 0, id;
	int rc, r = 0;

	if (c->ch->revert_id > 0) {
		rc = sqlite3_prepare_v2(c->db,
					"SELECT zone_id, serial_before FROM changes WHERE id = ?1",
					-1, &st, NULL);
		if (rc != SQLITE_OK)
			return sql_err(c, rc, "reading the journal");
		sqlite3_bind_int64(st, 1, c->ch->revert_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 0) == c->zone_id) {
			bool creation = sqlite3_column_type(st, 1) == SQLITE_NULL;
			sqlite3_finalize(st);
			if (creation) {
				cerr(c,
				     "change %lld created zone %s; reverting it would delete the "
				     "zone: use delete_zone for that",
				     c->ch->revert_id, c->ch->zone);
				return ERR_INVALID;
			}
			return invert_change(c, c->ch->revert_id);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return sql_err(c, rc, "reading the journal");
		cerr(c, "change %lld is not a change of zone %s (see list_changes)",
		     c->ch->revert_id, c->ch->zone);
		return ERR_NOTFOUND;
	}
	if (c->ch->revert_serial == c->serial) {
		cerr(c, "zone %s is already at serial %u", c->ch->zone, c->serial);
		return ERR_INVALID;
	}
	rc = sqlite3_prepare_v2(
	    c->db, "SELECT max(id) FROM changes WHERE zone_id = ?1 AND serial_after = ?2", -1, &st,
	    NULL);
	if (rc != SQLITE_OK)
		return sql_err(c, rc, "reading the journal");
	sqlite3_bind_int64(st, 1, c->zone_id);
	sqlite3_bind_int64(st, 2, c->ch->revert_serial);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		target = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sql_err(c, rc, "reading the journal");
	if (target == 0) {
		cerr(c,
		     "serial %u does not appear in the history of zone %s (list_changes shows "
		     "the serials it went through)",
		     c->ch->revert_serial, c->ch->zone);
		return ERR_NOTFOUND;
	}
	rc = sqlite3_prepare_v2(
	    c->db, "SELECT id FROM changes WHERE zone_id = ?1 AND id > ?2 ORDER BY id DESC", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(c, rc, "reading the journal");
	sqlite3_bind_int64(st, 1, c->zone_id);
	sqlite3_bind_int64(st, 2, target);
	/* Collect ids first: invert_change runs its own statements. */
	{
		long long *ids = NULL;
		size_t n = 0, cap = 0, i;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				long long *p = realloc(ids, nc * sizeof(*p));
				if (p == NULL) {
					r = ERR_NOMEM;
					break;
				}
				ids = p;
				cap = nc;
			}
			ids[n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		if (r == 0 && rc != SQLITE_DONE)
			r = sql_err(c, rc, "reading the journal");
		for (i = 0; r == 0 && i < n; i++) {
			id = ids[i];
			r = invert_change(c, id);
		}
		free(ids);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* store_commit */

static int read_zone_row(struct ctx *c)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(
	    c->db, "SELECT id, serial, serial_policy, default_ttl FROM zones WHERE name = ?1", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(c, rc, "reading the zone");
	sqlite3_bind_text(st, 1, c->ch->zone, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->zone_exists = true;
		c->zone_id = sqlite3_column_int64(st, 0);
		c->serial = (uint32_t)sqlite3_column_int64(st, 1);
		snprintf(c->policy, sizeof(c->policy), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		c->default_ttl = (uint32_t)sqlite3_column_int64(st, 3);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_err(c, rc, "reading the zone");
	return 0;
}

static int commit_attempt(struct ctx *c)
{
	struct store_change *ch = c->ch;
	struct store_result *res = c->res;
	const struct store_opts *o = c->o;
	struct diff d;
	uint32_t new_serial = 0, cur_serial = 0, user_serial = 0;
	struct wname *apex;
	bool changed = false, soa_touched;
	size_t i, k;
	long si;
	int r, rc;

	memset(&d, 0, sizeof(d));
	r = exec_sql(c, o->dry_run ? "BEGIN" : "BEGIN IMMEDIATE", "starting the transaction");
	if (r)
		return r;
	if ((r = read_zone_row(c)) != 0)
		goto fail;
	if (!c->zone_exists && !ch->create) {
		cerr(c,
		     "zone %s does not exist (list_zones shows the zones; create_zone makes one)",
		     ch->zone);
		r = ERR_NOTFOUND;
		goto fail;
	}
	if (c->zone_exists && ch->create && ch->must_not_exist) {
		cerr(c, "zone %s already exists", ch->zone);
		r = ERR_EXISTS;
		goto fail;
	}
	if (!c->zone_exists) {
		snprintf(c->policy, sizeof(c->policy), "%s", ch->policy);
		c->default_ttl = ch->default_ttl;
	}
	if (o->has_expected && (!c->zone_exists || c->serial != o->expected_serial)) {
		if (c->zone_exists)
			cerr(c,
			     "zone %s is at serial %u, not %u (expected_serial): it changed since "
			     "you read it; read it again (get_zone, list_changes) and retry",
			     ch->zone, c->serial, o->expected_serial);
		else
			cerr(c, "zone %s does not exist yet, so it is not at serial %u", ch->zone,
			     o->expected_serial);
		r = ERR_CONFLICT;
		goto fail;
	}
	rc = sqlite3_prepare_v2(
	    c->db, "SELECT type, ttl, data FROM records WHERE zone_id = ?1 AND name = ?2", -1,
	    &c->st_load, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(c, rc, "reading records");
		goto fail;
	}
	c->ops = ch->ops;
	c->nops = ch->nops;
	if (ch->revert) {
		if ((r = build_revert(c)) != 0)
			goto fail;
		c->ops = c->rops;
		c->nops = c->nrops;
	}
	if (ch->replace && (r = load_all(c)) != 0)
		goto fail;
	/* The apex is always in the working set: its SOA carries the serial. */
	si = get_name(c, ch->zone);
	if (si < 0) {
		r = (int)si;
		goto fail;
	}
	c->apex = si;
	if (ch->replace) {
		/* start from nothing: every record not in the file goes */
		for (i = 0; i < c->nnames; i++)
			c->names[i].ncur = 0;
	}
	apex = &c->names[c->apex];
	for (k = 0; k < apex->norig; k++)
		if (apex->orig[k].type == RRTYPE_SOA &&
		    soa_serial_of(apex->orig[k].data, &cur_serial) == 0)
			break;
	if (c->zone_exists) {
		if (k == apex->norig)
			cur_serial = c->serial; /* no readable SOA: trust the zones row */
		else if (cur_serial != c->serial)
			result_warn(res,
				    "the SOA record said serial %u but the zones table %u; using "
				    "the later one",
				    cur_serial, c->serial);
		if (notify_serial_gt(c->serial, cur_serial))
			cur_serial = c->serial;
	}

	for (i = 0; i < c->nops; i++)
		if ((r = apply_op(c, i)) != 0)
			goto fail;
	if (res->nerrors) {
		r = ch->revert ? ERR_CONFLICT : ERR_INVALID;
		goto fail;
	}
	for (i = 0; i < c->nnames; i++)
		check_name(c, &c->names[i], (long)i == c->apex);
	if ((r = check_dnames(c)) != 0)
		goto fail;
	if (res->nerrors) {
		r = c->ch->revert ? ERR_CONFLICT : ERR_INVALID;
		goto fail;
	}

	/* An SOA that differs from the current one only by a serial that is
	 * not ahead (an older export imported again) is no change by itself. */
	apex = &c->names[c->apex];
	if (c->zone_exists) {
		long oi = -1, ci = -1;
		for (k = 0; k < apex->norig; k++)
			if (apex->orig[k].type == RRTYPE_SOA)
				oi = (long)k;
		for (k = 0; k < apex->ncur; k++)
			if (apex->cur[k].type == RRTYPE_SOA)
				ci = (long)k;
		if (oi >= 0 && ci >= 0 && apex->orig[oi].ttl == apex->cur[ci].ttl &&
		    strcmp(apex->orig[oi].data, apex->cur[ci].data) != 0 &&
		    soa_serial_of(apex->cur[ci].data, &user_serial) == 0 &&
		    !notify_serial_gt(user_serial, cur_serial)) {
			char *a = soa_with_serial(apex->orig[oi].data, 0);
			char *b = soa_with_serial(apex->cur[ci].data, 0);
			if (a && b && strcmp(a, b) == 0) {
				long op = apex->cur[ci].op;
				apex->cur[ci] = apex->orig[oi];
				apex->cur[ci].op = op;
			}
			free(a);
			free(b);
		}
	}
	for (i = 0; i < c->nnames && !changed; i++)
		changed = name_changed(&c->names[i]);
	res->serial_before = c->zone_exists ? cur_serial : 0;
	if (!changed && c->zone_exists) {
		/* Nothing to do: no serial bump, nothing written. */
		res->serial = cur_serial;
		exec_sql(c, "ROLLBACK", "ending the transaction");
		return 0;
	}

	/* The new serial goes into the SOA that stays. */
	apex = &c->names[c->apex];
	for (k = 0; k < apex->ncur && apex->cur[k].type != RRTYPE_SOA; k++)
		;
	if (k == apex->ncur || soa_serial_of(apex->cur[k].data, &user_serial) < 0) {
		cerr(c, "%s: the zone has no readable SOA record", ch->zone);
		r = ERR_INVALID;
		goto fail;
	}
	soa_touched = apex->cur[k].op >= 0;
	if (!c->zone_exists) {
		new_serial = user_serial; /* a new zone keeps the serial it was given */
	} else {
		new_serial = store_next_serial(cur_serial, c->policy, store_now());
		/* A change that sets the SOA may move the serial further ahead
		 * (RFC 1982), e.g. to switch to date serials. */
		if (soa_touched && notify_serial_gt(user_serial, new_serial))
			new_serial = user_serial;
	}
	if (user_serial != new_serial) {
		char *s = pool_keep(c, soa_with_serial(apex->cur[k].data, new_serial));
		if (s == NULL) {
			r = ERR_NOMEM;
			goto fail;
		}
		apex->cur[k].data = s;
	}
	if ((r = compute_diff(c, &d)) != 0)
		goto fail;
	res->serial = new_serial;
	res->created = !c->zone_exists;
	if ((r = result_list(&res->added, &res->nadded, &res->added_total, d.add, d.nadd)) != 0 ||
	    (r = result_list(&res->removed, &res->nremoved, &res->removed_total, d.del, d.ndel)) !=
		0)
		goto fail;
	if (o->dry_run) {
		exec_sql(c, "ROLLBACK", "ending the transaction");
		free(d.add);
		free(d.del);
		return 0;
	}
	if ((r = write_change(c, &d, new_serial)) != 0)
		goto fail;
	if ((r = exec_sql(c, "COMMIT", "committing")) != 0)
		goto fail;
	res->committed = true;
	free(d.add);
	free(d.del);
	return 0;
fail:
	free(d.add);
	free(d.del);
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static void backoff(int attempt)
{
	struct timespec ts;
	long ms = 5L << (attempt < 6 ? attempt : 6); /* 5, 10, 20 ... 320 ms */
	unsigned jitter = (unsigned)(clock() ^ (unsigned long)&ts) % 5;

	ts.tv_sec = 0;
	ts.tv_nsec = (ms + (long)jitter) * 1000000L;
	nanosleep(&ts, NULL);
}

static void copy_warnings(struct store_result *res, const struct store_change *ch)
{
	size_t i;

	for (i = 0; i < ch->nwarnings; i++)
		result_warn(res, "%s", ch->warnings[i]);
}

/*
 * Runs one write attempt, and again from scratch while the database is busy
 * with another writer (bounded back-off), so SQLITE_BUSY never reaches a
 * client: it either commits, fails for a reason of its own, or reports that
 * nothing was changed.
 */
static int retry_while_busy(sqlite3 *db, struct store_change *ch, const struct store_opts *o,
			    struct store_result *res, int (*attempt_fn)(struct ctx *))
{
	struct ctx c;
	int attempt, r = STORE_RETRY;

	for (attempt = 0; attempt <= STORE_BUSY_RETRIES; attempt++) {
		memset(&c, 0, sizeof(c));
		c.db = db;
		c.ch = ch;
		c.o = o;
		c.res = res;
		c.apex = -1;
		r = attempt_fn(&c);
		ctx_free(&c);
		if (r != STORE_RETRY)
			break;
		/* Busy: forget this attempt entirely and start over. */
		store_result_clear(res);
		snprintf(res->zone, sizeof(res->zone), "%s", ch->zone);
		backoff(attempt);
	}
	if (r == STORE_RETRY) {
		msgs_add(&res->error, &res->nerrors,
			 "the database stayed busy with other writers; nothing was changed, try "
			 "again in a moment");
		r = ERR_DB;
	}
	return r;
}

int store_commit(sqlite3 *db, struct store_change *ch, const struct store_opts *o,
		 struct store_result *res)
{
	int r = 0;

	store_result_clear(res);
	snprintf(res->zone, sizeof(res->zone), "%s", ch->zone);
	if (ch->nerrors) {
		res->error = ch->errors ? xstrdup(ch->errors) : NULL;
		res->nerrors = ch->nerrors;
		msgs_finish(&res->error, res->nerrors);
		return ERR_INVALID;
	}
	if (o->max_records && ch->nuser > o->max_records) {
		msgs_add(&res->error, &res->nerrors,
			 "the change has %zu records; at most %zu are allowed in one change "
			 "(split it, or use the offline 'mcpd import' for whole zones)",
			 ch->nuser, o->max_records);
		return ERR_INVALID;
	}
	if (o->reason && strlen(o->reason) > STORE_REASON_MAXLEN) {
		msgs_add(&res->error, &res->nerrors, "reason is longer than %d characters",
			 STORE_REASON_MAXLEN);
		return ERR_INVALID;
	}
	if (ch->replace && !ch->create && ch->nops == 0) {
		msgs_add(&res->error, &res->nerrors,
			 "the zone text has no records; replacing a zone with nothing would "
			 "delete its SOA and NS (use delete_zone to delete a zone)");
		return ERR_INVALID;
	}
	r = retry_while_busy(db, ch, o, res, commit_attempt);
	if (r == 0)
		copy_warnings(res, ch);
	msgs_finish(&res->error, res->nerrors);
	return r;
}

/* ------------------------------------------------------------------ */
/* Deleting a zone */

static int delete_attempt(struct ctx *c)
{
	struct diff d;
	sqlite3_stmt *st = NULL, *jr = NULL;
	long long change_id;
	size_t i, k;
	int r, rc, seq = 0;

	memset(&d, 0, sizeof(d));
	r = exec_sql(c, c->o->dry_run ? "BEGIN" : "BEGIN IMMEDIATE", "starting the transaction");
	if (r)
		return r;
	if ((r = read_zone_row(c)) != 0)
		goto fail;
	if (!c->zone_exists) {
		cerr(c, "zone %s does not exist", c->ch->zone);
		r = ERR_NOTFOUND;
		goto fail;
	}
	if (c->o->has_expected && c->serial != c->o->expected_serial) {
		cerr(c,
		     "zone %s is at serial %u, not %u (expected_serial): it changed since you "
		     "read it",
		     c->ch->zone, c->serial, c->o->expected_serial);
		r = ERR_CONFLICT;
		goto fail;
	}
	c->ch->replace = true; /* load_all semantics */
	if ((r = load_all(c)) != 0)
		goto fail;
	for (i = 0; i < c->nnames; i++)
		for (k = 0; k < c->names[i].norig; k++)
			if (diff_push(&d.del, &d.ndel, &d.capdel, c->names[i].name,
				      &c->names[i].orig[k]) < 0) {
				r = ERR_NOMEM;
				goto fail;
			}
	if (d.ndel)
		qsort(d.del, d.ndel, sizeof(*d.del), diff_cmp);
	c->res->serial_before = c->serial;
	c->res->serial = c->serial;
	c->res->deleted = true;
	if ((r = result_list(&c->res->removed, &c->res->nremoved, &c->res->removed_total, d.del,
			     d.ndel)) != 0)
		goto fail;
	if (c->o->dry_run) {
		exec_sql(c, "ROLLBACK", "ending the transaction");
		free(d.del);
		return 0;
	}
	rc = sqlite3_prepare_v2(
	    c->db,
	    "INSERT INTO changes(zone_id, zone_name, serial_before, serial_after, "
	    "actor, tool, reason) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(c, rc, "writing the journal");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, c->zone_id);
	sqlite3_bind_text(st, 2, c->ch->zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->serial);
	sqlite3_bind_text(st, 4, c->o->actor ? c->o->actor : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->o->tool ? c->o->tool : "delete_zone", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->o->reason ? c->o->reason : "", -1, SQLITE_STATIC);
	if ((r = step_done(c, st, "writing the journal")) != 0)
		goto fail;
	change_id = sqlite3_last_insert_rowid(c->db);
	rc = sqlite3_prepare_v2(
	    c->db,
	    "INSERT INTO change_records(change_id, seq, op, name, type, ttl, data) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    -1, &jr, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(c, rc, "writing the journal");
		goto fail;
	}
	if ((r = journal_rows(c, jr, change_id, &seq, "del", d.del, d.ndel)) != 0)
		goto fail;
	/* while changes.zone_id still names the zone: afterwards it is NULL */
	if ((r = apply_retention(c, c->zone_id, change_id)) != 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(c->db, "DELETE FROM zones WHERE id = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(c, rc, "deleting the zone");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, c->zone_id);
	if ((r = step_done(c, st, "deleting the zone")) != 0)
		goto fail;
	if ((r = exec_sql(c, "COMMIT", "committing")) != 0)
		goto fail;
	c->res->change_id = change_id;
	c->res->committed = true;
	sqlite3_finalize(st);
	sqlite3_finalize(jr);
	free(d.del);
	return 0;
fail:
	sqlite3_finalize(st);
	sqlite3_finalize(jr);
	free(d.del);
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int store_delete_zone(sqlite3 *db, const char *zone, const struct store_opts *o,
		      struct store_result *res)
{
	struct store_change *ch;
	int r = 0;

	store_result_clear(res);
	ch = store_change_new(zone);
	if (ch == NULL)
		return ERR_NOMEM;
	if (ch->nerrors) {
		res->error = xstrdup(ch->errors);
		res->nerrors = ch->nerrors;
		store_change_free(ch);
		return ERR_INVALID;
	}
	snprintf(res->zone, sizeof(res->zone), "%s", ch->zone);
	r = retry_while_busy(db, ch, o, res, delete_attempt);
	store_change_free(ch);
	return r;
}

/* ------------------------------------------------------------------ */
/* Reading */

int store_zone_get(sqlite3 *db, const char *zone, struct store_zone *z)
{
	char name[DNAME_TEXT_MAXLEN], msg[400];
	sqlite3_stmt *st;
	int rc, r;

	memset(z, 0, sizeof(*z));
	if ((r = store_zone_canon(zone, name, NULL, msg, sizeof(msg))) < 0)
		return ERR_INVALID;
	rc = sqlite3_prepare_v2(db,
				"SELECT id, name, serial, serial_policy, default_ttl, created_at, "
				"updated_at FROM zones WHERE name = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		z->id = sqlite3_column_int64(st, 0);
		snprintf(z->name, sizeof(z->name), "%s", (const char *)sqlite3_column_text(st, 1));
		z->serial = (uint32_t)sqlite3_column_int64(st, 2);
		snprintf(z->policy, sizeof(z->policy), "%s",
			 (const char *)sqlite3_column_text(st, 3));
		z->default_ttl = (uint32_t)sqlite3_column_int64(st, 4);
		snprintf(z->created_at, sizeof(z->created_at), "%s",
			 (const char *)sqlite3_column_text(st, 5));
		snprintf(z->updated_at, sizeof(z->updated_at), "%s",
			 (const char *)sqlite3_column_text(st, 6));
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : ERR_DB;
	}
	sqlite3_finalize(st);
	return r;
}

struct sort_rr {
	struct store_rr rr;
	uint8_t *wire;
};

static int sort_cmp(const void *a, const void *b)
{
	const struct sort_rr *x = a, *y = b;
	int c;

	if ((x->rr.type == RRTYPE_SOA) != (y->rr.type == RRTYPE_SOA))
		return x->rr.type == RRTYPE_SOA ? -1 : 1;
	if (x->wire && y->wire && (c = dname_cmp(x->wire, y->wire)) != 0)
		return c;
	if ((c = strcmp(x->rr.name, y->rr.name)) != 0) /* names we could not parse */
		return c;
	if (x->rr.type != y->rr.type)
		return x->rr.type < y->rr.type ? -1 : 1;
	return strcmp(x->rr.data, y->rr.data);
}

int store_zone_records(sqlite3 *db, long long zone_id, struct store_rr **out, size_t *nout)
{
	sqlite3_stmt *st;
	struct sort_rr *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc, r = 0;

	*out = NULL;
	*nout = 0;
	rc = sqlite3_prepare_v2(db, "SELECT name, type, ttl, data FROM records WHERE zone_id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, zone_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *t = (const char *)sqlite3_column_text(st, 1);
		const char *data = (const char *)sqlite3_column_text(st, 3);
		uint8_t w[DNAME_MAXLEN];
		int ty = t ? rrtype_parse(t, strlen(t)) : -1, wl;

		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct sort_rr *p = realloc(v, nc * sizeof(*p));
			if (p == NULL) {
				r = ERR_NOMEM;
				break;
			}
			v = p;
			cap = nc;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].rr.name = xstrdup(name ? name : "");
		v[n].rr.type = ty < 0 ? 0 : (uint16_t)ty;
		v[n].rr.ttl = (uint32_t)sqlite3_column_int64(st, 2);
		v[n].rr.data = xstrdup(data ? data : "");
		wl = name ? dname_parse_text(name, strlen(name), NULL, w) : -1;
		if (wl > 0 && (v[n].wire = malloc((size_t)wl)) != NULL)
			memcpy(v[n].wire, w, (size_t)wl);
		n++;
		if (!v[n - 1].rr.name || !v[n - 1].rr.data) {
			r = ERR_NOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = ERR_DB;
	sqlite3_finalize(st);
	if (r == 0) {
		if (n)
			qsort(v, n, sizeof(*v), sort_cmp);
		*out = calloc(n ? n : 1, sizeof(**out));
		if (*out == NULL)
			r = ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		free(v[i].wire);
		if (r == 0)
			(*out)[i] = v[i].rr;
		else
			rr_free(&v[i].rr);
	}
	free(v);
	if (r == 0)
		*nout = n;
	return r;
}

int store_export(sqlite3 *db, const char *zone, char **text, size_t *len)
{
	struct store_zone z;
	struct store_rr *rrs;
	size_t n, i, used = 0, cap = 4096;
	char *buf, *p, line[DNAME_TEXT_MAXLEN + 64];
	int r, l;

	*text = NULL;
	*len = 0;
	if ((r = store_zone_get(db, zone, &z)) < 0)
		return r;
	/* One read transaction: the records and the serial agree. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	r = store_zone_records(db, z.id, &rrs, &n);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (r < 0)
		return r;
	buf = malloc(cap);
	if (buf == NULL) {
		store_rr_free_array(rrs, n);
		return ERR_NOMEM;
	}
	used = (size_t)snprintf(buf, cap, "; zone %s\n", z.name);
	for (i = 0; i < n; i++) {
		char t[16];
		size_t need;

		l = snprintf(line, sizeof(line), "%s %u IN %s ", rrs[i].name, rrs[i].ttl,
			     type_str(rrs[i].type, t));
		if (l < 0 || (size_t)l >= sizeof(line))
			l = 0;
		need = (size_t)l + strlen(rrs[i].data) + 2;
		if (used + need >= cap) {
			while (used + need >= cap)
				cap *= 2;
			p = realloc(buf, cap);
			if (p == NULL) {
				free(buf);
				store_rr_free_array(rrs, n);
				return ERR_NOMEM;
			}
			buf = p;
		}
		memcpy(buf + used, line, (size_t)l);
		used += (size_t)l;
		memcpy(buf + used, rrs[i].data, strlen(rrs[i].data));
		used += strlen(rrs[i].data);
		buf[used++] = '\n';
		buf[used] = '\0';
	}
	store_rr_free_array(rrs, n);
	*text = buf;
	*len = used;
	return 0;
}

int store_write_txn(sqlite3 *db, int (*fn)(sqlite3 *db, void *arg), void *arg)
{
	int attempt, rc, r = ERR_DB;

	for (attempt = 0; attempt <= STORE_BUSY_RETRIES; attempt++) {
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if ((rc & 0xff) == SQLITE_BUSY) {
			backoff(attempt);
			continue;
		}
		if (rc != SQLITE_OK)
			return ERR_DB;
		r = fn(db, arg);
		if (r == 0) {
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
			if (rc == SQLITE_OK)
				return 0;
			r = ERR_DB;
		}
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		if ((rc & 0xff) == SQLITE_BUSY) {
			backoff(attempt);
			continue;
		}
		return r;
	}
	return r;
}
