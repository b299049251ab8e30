/*
 * tools_lint.c: check_zone and email_auth_audit, two read-only reviews of a
 * zone's content as stored.
 *
 * check_zone reports what is unusual or broken for resolvers but is not a
 * hard error the store refuses (those cannot be in the database): targets
 * of MX/NS/SRV that are aliases (RFC 2181 §10.3) or missing in the zone,
 * missing glue below delegations (RFC 1034 §4.2.1), data hidden below a
 * zone cut, odd TTLs and SOA timers (RFC 1912 §2.2, RFC 2308 §5), one name
 * server only, hosted child zones the parent does not delegate to.
 *
 * email_auth_audit reads the records that drive mail authentication: SPF
 * (RFC 7208), DMARC (RFC 7489), DKIM keys (RFC 6376 §3.6.1), MTA-STS
 * (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3). Only the hosted zone is read;
 * includes pointing outside it are counted, not followed.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "store.h"
#include "tools.h"
#include "tools_int.h"
#include "wire.h"

#define LINT_MAX_ISSUES	  500 /* issues listed (all are counted) */
#define LINT_TTL_LOW	  30
#define LINT_TTL_HIGH	  (7 * 86400) /* RFC 8767 §4 suggests capping at a week */
#define SPF_MAX_LOOKUPS	  10	      /* RFC 7208 §4.6.4 */
#define SPF_MAX_DEPTH	  10
#define TXT_JOINED_MAXLEN 8192

/* ------------------------------------------------------------------ */
/* Zone model: records grouped by owner name */

struct lname {
	const char *name;
	const uint8_t *wire;
	size_t first, count; /* range in the records array */
	bool cut;	     /* non-apex name with NS: a delegation */
};

struct lzone {
	char zone[DNAME_TEXT_MAXLEN];
	uint8_t zone_wire[DNAME_MAXLEN];
	struct store_rr *rrs;
	size_t nrrs;
	uint8_t **wires; /* wire form per record owner (shared per name) */
	struct lname *names;
	size_t nnames;
	size_t *slots; /* hash: name index + 1 */
	size_t nslots;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static long lz_find(const struct lzone *z, const char *name)
{
	size_t j;

	if (z->nslots == 0)
		return -1;
	j = hash_str(name) & (z->nslots - 1);
	while (z->slots[j]) {
		if (strcmp(z->names[z->slots[j] - 1].name, name) == 0)
			return (long)(z->slots[j] - 1);
		j = (j + 1) & (z->nslots - 1);
	}
	return -1;
}

static void lz_free(struct lzone *z)
{
	size_t i;

	for (i = 0; i < z->nnames; i++)
		free((void *)z->names[i].wire);
	free(z->names);
	free(z->slots);
	store_rr_free_array(z->rrs, z->nrrs);
	memset(z, 0, sizeof(*z));
}

/* Loads the zone's records grouped by name (store_zone_records sorts them
 * in canonical order, so a name's records are adjacent, the SOA first). */
static int lz_load(sqlite3 *db, const struct store_zone *sz, struct lzone *z)
{
	size_t i, j, ns;
	int r;

	memset(z, 0, sizeof(*z));
	snprintf(z->zone, sizeof(z->zone), "%s", sz->name);
	if (dname_parse_text(z->zone, strlen(z->zone), NULL, z->zone_wire) < 0)
		return ERR_INVALID;
	if ((r = store_zone_records(db, sz->id, &z->rrs, &z->nrrs)) < 0)
		return r;
	z->names = calloc(z->nrrs ? z->nrrs : 1, sizeof(*z->names));
	if (z->names == NULL)
		return ERR_NOMEM;
	for (i = 0; i < z->nrrs; i++) {
		if (z->nnames && strcmp(z->names[z->nnames - 1].name, z->rrs[i].name) == 0) {
			z->names[z->nnames - 1].count++;
			continue;
		}
		/* the SOA sorts first but the apex's other records follow it
		 * directly, so one group per name still holds */
		z->names[z->nnames].name = z->rrs[i].name;
		z->names[z->nnames].first = i;
		z->names[z->nnames].count = 1;
		{
			uint8_t w[DNAME_MAXLEN];
			int l = dname_parse_text(z->rrs[i].name, strlen(z->rrs[i].name), NULL, w);
			uint8_t *p = l > 0 ? malloc((size_t)l) : NULL;
			if (p)
				memcpy(p, w, (size_t)l);
			z->names[z->nnames].wire = p;
		}
		z->nnames++;
	}
	for (ns = 256; ns < z->nnames * 2; ns *= 2)
		;
	z->slots = calloc(ns, sizeof(*z->slots));
	if (z->slots == NULL)
		return ERR_NOMEM;
	z->nslots = ns;
	for (i = 0; i < z->nnames; i++) {
		long dup = lz_find(z, z->names[i].name);
		if (dup >= 0) /* split group (cannot happen with sorted input) */
			continue;
		j = hash_str(z->names[i].name) & (ns - 1);
		while (z->slots[j])
			j = (j + 1) & (ns - 1);
		z->slots[j] = i + 1;
	}
	for (i = 0; i < z->nnames; i++) {
		struct lname *n = &z->names[i];
		if (n->wire && dname_equal(n->wire, z->zone_wire))
			continue;
		for (j = n->first; j < n->first + n->count; j++)
			if (z->rrs[j].type == RRTYPE_NS)
				n->cut = true;
	}
	return 0;
}

static bool has_type(const struct lzone *z, long ni, uint16_t type)
{
	size_t j;

	if (ni < 0)
		return false;
	for (j = z->names[ni].first; j < z->names[ni].first + z->names[ni].count; j++)
		if (z->rrs[j].type == type)
			return true;
	return false;
}

/* The delegation at or above name (strictly below the apex), or -1. */
static long cut_above(const struct lzone *z, const uint8_t *wire, bool include_self)
{
	char buf[DNAME_TEXT_MAXLEN];
	const uint8_t *p = include_self ? wire : dname_parent(wire);

	for (; p && !dname_equal(p, z->zone_wire) && dname_is_subdomain(p, z->zone_wire);
	     p = dname_parent(p)) {
		long i;
		if (dname_print(p, buf, sizeof(buf)) < 0)
			return -1;
		i = lz_find(z, buf);
		if (i >= 0 && z->names[i].cut)
			return i;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* check_zone */

struct issues {
	cJSON *arr;
	int errors, warnings, infos;
	char *text;
	size_t len, cap;
};

static void issue(struct issues *is, const char *sev, const char *code, const char *name,
		  uint16_t type, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void issue(struct issues *is, const char *sev, const char *code, const char *name,
		  uint16_t type, const char *fmt, ...)
{
	char msg[1200], t[16];
	va_list ap;
	int total;

	if (strcmp(sev, "error") == 0)
		is->errors++;
	else if (strcmp(sev, "warning") == 0)
		is->warnings++;
	else
		is->infos++;
	total = is->errors + is->warnings + is->infos;
	if (total > LINT_MAX_ISSUES)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "severity", sev);
		cJSON_AddStringToObject(o, "code", code);
		cJSON_AddStringToObject(o, "name", name);
		if (type) {
			rrtype_print(type, t, sizeof(t));
			cJSON_AddStringToObject(o, "type", t);
		}
		cJSON_AddStringToObject(o, "message", msg);
		cJSON_AddItemToArray(is->arr, o);
	}
	if (total <= 40)
		tool_append(&is->text, &is->len, &is->cap, "%s %s: %s\n", sev, code, msg);
}

/* The target name in canonical MX/NS/SRV data: its last token. */
static const char *target_of(const struct store_rr *rr)
{
	const char *sp = strrchr(rr->data, ' ');

	return sp ? sp + 1 : rr->data;
}

static void check_target(const struct lzone *z, struct issues *is, const struct store_rr *rr,
			 long owner_ni)
{
	const char *target = target_of(rr);
	uint8_t tw[DNAME_MAXLEN];
	char t[16];
	long ti, cut;
	bool addr;

	if (strcmp(target, ".") == 0) /* null MX (RFC 7505) / "no service" SRV (RFC 2782) */
		return;
	if (dname_parse_text(target, strlen(target), NULL, tw) < 0 ||
	    !dname_is_subdomain(tw, z->zone_wire))
		return; /* out of zone: not ours to check */
	rrtype_print(rr->type, t, sizeof(t));
	ti = lz_find(z, target);
	cut = cut_above(z, tw, true);
	if (has_type(z, ti, RRTYPE_CNAME)) {
		issue(is, "error", "target_is_cname", rr->name, rr->type,
		      "%s %s target %s is a CNAME; %s targets must be the canonical name, not an "
		      "alias (RFC 2181 §10.3%s)",
		      rr->name, t, target, t, rr->type == RRTYPE_SRV ? ", RFC 2782" : "");
		return;
	}
	addr = has_type(z, ti, RRTYPE_A) || has_type(z, ti, RRTYPE_AAAA);
	if (addr)
		return;
	if (rr->type == RRTYPE_NS && owner_ni >= 0 && z->names[owner_ni].cut && cut >= 0 &&
	    cut == owner_ni) {
		issue(is, "error", "missing_glue", rr->name, RRTYPE_NS,
		      "delegation %s has name server %s inside the delegated zone but no glue "
		      "A/AAAA record for it (RFC 1034 §4.2.1): resolvers cannot reach it",
		      rr->name, target);
		return;
	}
	if (cut >= 0)
		return; /* below another delegation: the child zone answers for it */
	issue(is, rr->type == RRTYPE_NS ? "error" : "warning", "target_missing", rr->name, rr->type,
	      "%s %s target %s is inside the zone but has no A or AAAA record", rr->name, t,
	      target);
}

static void lint_zone(sqlite3 *db, const struct lzone *z, struct issues *is)
{
	size_t i, j, k, apex_ns = 0;
	char t[16];

	for (i = 0; i < z->nnames; i++) {
		const struct lname *n = &z->names[i];
		bool apex = n->wire && dname_equal(n->wire, z->zone_wire);
		size_t ncname = 0, other = 0, nsoa = 0;
		long cut = n->wire ? cut_above(z, n->wire, false) : -1;

		for (j = n->first; j < n->first + n->count; j++) {
			const struct store_rr *rr = &z->rrs[j];
			if (rr->type == RRTYPE_CNAME)
				ncname++;
			else if (rr->type != RRTYPE_RRSIG && rr->type != RRTYPE_NSEC &&
				 rr->type != RRTYPE_NSEC3)
				other++;
			if (rr->type == RRTYPE_SOA)
				nsoa++;
			if (apex && rr->type == RRTYPE_NS)
				apex_ns++;
			if (j > n->first && rr->type == z->rrs[j - 1].type &&
			    strcmp(rr->data, z->rrs[j - 1].data) == 0)
				issue(is, "error", "duplicate", n->name, rr->type,
				      "%s %s %s appears twice", n->name,
				      (rrtype_print(rr->type, t, sizeof(t)), t), rr->data);
			for (k = n->first; k < j; k++)
				if (z->rrs[k].type == rr->type && z->rrs[k].ttl != rr->ttl) {
					rrtype_print(rr->type, t, sizeof(t));
					issue(is, "error", "rrset_ttl_mismatch", n->name, rr->type,
					      "the %s %s RRset has TTLs %u and %u (RFC 2181 §5.2)",
					      n->name, t, z->rrs[k].ttl, rr->ttl);
					break;
				}
			if (rr->ttl < LINT_TTL_LOW && rr->type != RRTYPE_SOA) {
				rrtype_print(rr->type, t, sizeof(t));
				issue(is, "warning", "ttl_low", n->name, rr->type,
				      "%s %s has TTL %u: below %d s every answer is fetched again "
				      "almost every time",
				      n->name, t, rr->ttl, LINT_TTL_LOW);
			} else if (rr->ttl > LINT_TTL_HIGH) {
				rrtype_print(rr->type, t, sizeof(t));
				issue(is, "warning", "ttl_high", n->name, rr->type,
				      "%s %s has TTL %u (over a week): resolvers may cap it "
				      "(RFC 8767 §4) and mistakes stay cached that long",
				      n->name, t, rr->ttl);
			}
			if (rr->type == RRTYPE_MX || rr->type == RRTYPE_SRV ||
			    rr->type == RRTYPE_NS)
				check_target(z, is, rr, (long)i);
		}
		if (ncname && apex)
			issue(is, "error", "cname_at_apex", n->name, RRTYPE_CNAME,
			      "CNAME at the zone apex %s (RFC 1034 §3.6.2)", n->name);
		else if (ncname && other)
			issue(is, "error", "cname_and_other_data", n->name, RRTYPE_CNAME,
			      "%s has a CNAME and other data (RFC 1034 §3.6.2, RFC 2181 §10.1)",
			      n->name);
		if (ncname > 1)
			issue(is, "error", "multiple_cname", n->name, RRTYPE_CNAME,
			      "%s has %zu CNAME records (RFC 2181 §10.1)", n->name, ncname);
		if (apex && nsoa != 1)
			issue(is, "error", "soa_count", n->name, RRTYPE_SOA,
			      "the apex has %zu SOA records; it needs exactly one", nsoa);
		if (cut >= 0) {
			/* Below a delegation only glue (addresses) makes sense. */
			for (j = n->first; j < n->first + n->count; j++)
				if (z->rrs[j].type != RRTYPE_A && z->rrs[j].type != RRTYPE_AAAA) {
					rrtype_print(z->rrs[j].type, t, sizeof(t));
					issue(is, "warning", "occluded", n->name, z->rrs[j].type,
					      "%s %s is below the delegation %s, so it is never "
					      "answered (only glue addresses belong there)",
					      n->name, t, z->names[cut].name);
					break;
				}
		}
		if (apex) {
			for (j = n->first; j < n->first + n->count; j++) {
				uint8_t rd[2 * DNAME_MAXLEN + 20];
				int l;
				size_t off;
				if (z->rrs[j].type != RRTYPE_SOA)
					continue;
				l = rdata_parse_text(RRTYPE_SOA, z->rrs[j].data,
						     strlen(z->rrs[j].data), NULL, rd, sizeof(rd),
						     NULL);
				if (l < 0)
					continue;
				off = dname_len(rd);
				off += dname_len(rd + off);
				if (off + 20 > (size_t)l)
					continue;
				{
					uint32_t refresh = wire_get_u32(rd + off + 4),
						 retry = wire_get_u32(rd + off + 8),
						 expire = wire_get_u32(rd + off + 12),
						 minimum = wire_get_u32(rd + off + 16);
					if (retry >= refresh)
						issue(is, "warning", "soa_timers", n->name,
						      RRTYPE_SOA,
						      "SOA retry %u is not below refresh %u (RFC "
						      "1912 §2.2)",
						      retry, refresh);
					if (expire < refresh + retry)
						issue(
						    is, "warning", "soa_timers", n->name,
						    RRTYPE_SOA,
						    "SOA expire %u is shorter than refresh + retry "
						    "(RFC 1912 §2.2)",
						    expire);
					if (minimum > 86400)
						issue(is, "warning", "soa_minimum", n->name,
						      RRTYPE_SOA,
						      "SOA minimum (negative-caching TTL) %u is "
						      "over a "
						      "day; RFC 2308 §5 suggests 1 to 3 hours",
						      minimum);
				}
			}
		}
	}
	if (z->nnames == 0 || lz_find(z, z->zone) < 0)
		issue(is, "error", "no_apex", z->zone, 0, "the zone has no records at its apex");
	else if (apex_ns == 0)
		issue(is, "error", "no_ns", z->zone, RRTYPE_NS, "the apex has no NS records");
	else if (apex_ns == 1)
		issue(is, "info", "single_ns", z->zone, RRTYPE_NS,
		      "only one name server: RFC 1034 §4.1 asks for at least two, on separate "
		      "networks");

	/* Hosted child zones the parent does not delegate to. */
	{
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db,
				       "SELECT name FROM zones WHERE length(name) > ?1 AND "
				       "substr(name, -?1) = ?2",
				       -1, &st, NULL) == SQLITE_OK) {
			char suffix[DNAME_TEXT_MAXLEN + 2];
			snprintf(suffix, sizeof(suffix), ".%s", z->zone);
			sqlite3_bind_int(st, 1, (int)strlen(suffix));
			sqlite3_bind_text(st, 2, suffix, -1, SQLITE_STATIC);
			while (sqlite3_step(st) == SQLITE_ROW) {
				const char *child = (const char *)sqlite3_column_text(st, 0);
				uint8_t cw[DNAME_MAXLEN];
				long ci;
				if (!child || dname_parse_text(child, strlen(child), NULL, cw) < 0)
					continue;
				ci = lz_find(z, child);
				if ((ci < 0 || !z->names[ci].cut) && cut_above(z, cw, false) < 0)
					issue(
					    is, "warning", "missing_delegation", child, RRTYPE_NS,
					    "zone %s is hosted here too, but %s has no NS records "
					    "delegating to it: resolvers following referrals from "
					    "the parent never find it",
					    child, z->zone);
			}
			sqlite3_finalize(st);
		}
	}
}

void tools_lint_check_zone(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	struct store_zone sz;
	struct lzone z;
	struct issues is;
	cJSON *o;
	int r;

	if (!tool_check_args("check_zone", args, res) ||
	    !tool_zone_arg(ctx, args, false, zone, res))
		return;
	memset(&is, 0, sizeof(is));
	sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL);
	if (store_zone_get(ctx->db, zone, &sz) < 0) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		tool_error(res, "zone %s does not exist (see list_zones)", zone);
		return;
	}
	r = lz_load(ctx->db, &sz, &z);
	if (r < 0) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		lz_free(&z);
		tool_error(res, "cannot read zone %s: %s", zone, err_str(r));
		return;
	}
	o = cJSON_CreateObject();
	is.arr = cJSON_CreateArray();
	lint_zone(ctx->db, &z, &is);
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	cJSON_AddStringToObject(o, "zone", z.zone);
	cJSON_AddNumberToObject(o, "serial", sz.serial);
	cJSON_AddBoolToObject(o, "ok", is.errors == 0);
	cJSON_AddNumberToObject(o, "errors", is.errors);
	cJSON_AddNumberToObject(o, "warnings", is.warnings);
	cJSON_AddItemToObject(o, "issues", is.arr);
	res->structured = o;
	tool_text(res, "%s%s (serial %u, %zu records): %d errors, %d warnings, %d notes.\n%s",
		  TOOL_DATA_NOTICE, z.zone, sz.serial, z.nrrs, is.errors, is.warnings, is.infos,
		  is.text ? is.text : "");
	free(is.text);
	lz_free(&z);
}

/* ------------------------------------------------------------------ */
/* email_auth_audit */

/* Joins the character-strings of canonical TXT data ("a" "b") into out. */
static void txt_join(const char *data, char *out, size_t cap)
{
	const char *p = data;
	size_t o = 0;

	while (*p && o + 1 < cap) {
		if (*p != '"') {
			p++;
			continue;
		}
		for (p++; *p && *p != '"' && o + 1 < cap; p++) {
			if (*p == '\\' && isdigit((unsigned char)p[1]) &&
			    isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3])) {
				int v = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
				out[o++] = v > 0 && v < 256 ? (char)v : '?';
				p += 3;
			} else if (*p == '\\' && p[1]) {
				out[o++] = *++p;
			} else {
				out[o++] = *p;
			}
		}
		if (*p == '"')
			p++;
	}
	out[o] = '\0';
}

struct part {
	cJSON *obj, *records, *issues;
	bool present, ok;
};

static void part_init(struct part *p, const char *name)
{
	p->obj = cJSON_CreateObject();
	p->records = cJSON_CreateArray();
	p->issues = cJSON_CreateArray();
	p->present = false;
	p->ok = true;
	cJSON_AddStringToObject(p->obj, "name", name);
}

static void part_issue(struct part *p, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void part_issue(struct part *p, bool error, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		p->ok = false;
	{
		char full[640];
		snprintf(full, sizeof(full), "%s: %s", error ? "error" : "warning", msg);
		cJSON_AddItemToArray(p->issues, cJSON_CreateString(full));
	}
}

static void part_done(struct part *p, cJSON *parent, const char *key, char **t, size_t *len,
		      size_t *cap)
{
	const cJSON *it;

	cJSON_AddBoolToObject(p->obj, "present", p->present);
	cJSON_AddBoolToObject(p->obj, "ok", p->ok);
	cJSON_AddItemToObject(p->obj, "records", p->records);
	cJSON_AddItemToObject(p->obj, "issues", p->issues);
	cJSON_AddItemToObject(parent, key, p->obj);
	tool_append(t, len, cap, "%s: %s%s\n", key, p->present ? "present" : "absent",
		    p->ok ? "" : " (problems)");
	cJSON_ArrayForEach(it, p->issues) tool_append(t, len, cap, "  %s\n", it->valuestring);
}

/* TXT strings at one name of the zone, joined per record. */
static int txt_at(sqlite3 *db, long long zone_id, const char *name, char out[][TXT_JOINED_MAXLEN],
		  int max, bool *cname)
{
	sqlite3_stmt *st;
	int n = 0;

	*cname = false;
	if (sqlite3_prepare_v2(db,
			       "SELECT type, data FROM records WHERE zone_id = ?1 AND name = ?2 "
			       "AND type IN ('TXT', 'CNAME') ORDER BY data",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		const char *d = (const char *)sqlite3_column_text(st, 1);
		if (!t || !d)
			continue;
		if (strcmp(t, "CNAME") == 0) {
			*cname = true;
			continue;
		}
		if (n < max)
			txt_join(d, out[n++], TXT_JOINED_MAXLEN);
	}
	sqlite3_finalize(st);
	return n;
}

static bool starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

struct spf_state {
	sqlite3 *db;
	long long zone_id;
	const uint8_t *zone_wire;
	int lookups;
	int depth;
	struct part *p;
};

static bool ip_ok(const char *s, int af)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char tmp[16];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(af, buf, tmp) != 1)
		return false;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || slash[1] == '\0' || v < 0 || v > (af == AF_INET ? 32 : 128))
			return false;
	}
	return true;
}

/* Checks one SPF record's terms (RFC 7208 §4.6, §5, §6); follows include
 * and redirect targets that are in this zone. Returns true if it ends in
 * an "all" mechanism or a redirect. */
static bool spf_terms(struct spf_state *s, const char *rec, const char *where)
{
	char buf[TXT_JOINED_MAXLEN], *save = NULL, *tok;
	bool has_all = false, has_redirect = false, first = true;

	snprintf(buf, sizeof(buf), "%s", rec);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		const char *m = tok;
		char q = '+';

		if (first) { /* "v=spf1" */
			first = false;
			continue;
		}
		if (has_all)
			part_issue(s->p, false, "%s: '%s' after 'all' is never evaluated", where,
				   tok);
		if (*m == '+' || *m == '-' || *m == '~' || *m == '?')
			q = *m++;
		if (strcasecmp(m, "all") == 0) {
			has_all = true;
			if (q == '+')
				part_issue(s->p, true,
					   "%s: '+all' lets every host on the internet send as "
					   "this domain",
					   where);
		} else if (starts_ci(m, "include:") || starts_ci(m, "redirect=")) {
			const char *target =
			    strchr(m, ':') ? strchr(m, ':') + 1 : strchr(m, '=') + 1;
			uint8_t tw[DNAME_MAXLEN];
			s->lookups++;
			if (starts_ci(m, "redirect="))
				has_redirect = true;
			if (*target == '\0') {
				part_issue(s->p, true, "%s: '%s' has no domain", where, tok);
				continue;
			}
			/* Follow it when we host it: its lookups count too. */
			if (s->depth < SPF_MAX_DEPTH &&
			    dname_parse_text(target, strlen(target), (const uint8_t *)"", tw) >=
				0 &&
			    dname_is_subdomain(tw, s->zone_wire)) {
				char recs[4][TXT_JOINED_MAXLEN], tn[DNAME_TEXT_MAXLEN];
				bool cn;
				int n, i, spf = 0;
				dname_lower(tw);
				dname_print(tw, tn, sizeof(tn));
				n = txt_at(s->db, s->zone_id, tn, recs, 4, &cn);
				for (i = 0; i < n; i++)
					if (starts_ci(recs[i], "v=spf1") &&
					    (recs[i][6] == ' ' || recs[i][6] == '\0')) {
						spf++;
						s->depth++;
						spf_terms(s, recs[i], tn);
						s->depth--;
					}
				if (spf != 1)
					part_issue(s->p, true,
						   "%s: %s target %s has %d SPF records here; it "
						   "needs exactly one",
						   where,
						   starts_ci(m, "include:") ? "include"
									    : "redirect",
						   tn, spf);
			}
		} else if (strcasecmp(m, "a") == 0 || starts_ci(m, "a:") || starts_ci(m, "a/") ||
			   strcasecmp(m, "mx") == 0 || starts_ci(m, "mx:") || starts_ci(m, "mx/") ||
			   starts_ci(m, "exists:")) {
			s->lookups++;
		} else if (strcasecmp(m, "ptr") == 0 || starts_ci(m, "ptr:")) {
			s->lookups++;
			part_issue(s->p, false, "%s: 'ptr' is slow and deprecated (RFC 7208 §5.5)",
				   where);
		} else if (starts_ci(m, "ip4:")) {
			if (!ip_ok(m + 4, AF_INET))
				part_issue(s->p, true, "%s: '%s' is not an IPv4 address or network",
					   where, tok);
		} else if (starts_ci(m, "ip6:")) {
			if (!ip_ok(m + 4, AF_INET6))
				part_issue(s->p, true, "%s: '%s' is not an IPv6 address or network",
					   where, tok);
		} else if (starts_ci(m, "exp=") || (strchr(m, '=') && q == '+' && m == tok)) {
			/* exp= and unknown modifiers are allowed (RFC 7208 §6) */
		} else {
			part_issue(s->p, true,
				   "%s: unknown mechanism '%s' makes the whole record a permerror "
				   "(RFC 7208 §5)",
				   where, tok);
		}
	}
	return has_all || has_redirect;
}

static void audit_spf(sqlite3 *db, long long zone_id, const char *zone, const uint8_t *zw,
		      struct part *p, cJSON *o)
{
	char recs[8][TXT_JOINED_MAXLEN];
	struct spf_state s = {.db = db, .zone_id = zone_id, .zone_wire = zw, .p = p};
	const char *spf = NULL;
	int n, i, count = 0;
	bool cn;
	sqlite3_stmt *st;

	n = txt_at(db, zone_id, zone, recs, 8, &cn);
	for (i = 0; i < n; i++)
		if (starts_ci(recs[i], "v=spf1") && (recs[i][6] == ' ' || recs[i][6] == '\0')) {
			cJSON_AddItemToArray(p->records, cJSON_CreateString(recs[i]));
			spf = recs[i];
			count++;
		}
	p->present = count > 0;
	if (count == 0) {
		part_issue(p, true,
			   "no SPF record (TXT \"v=spf1 ...\") at %s; a domain that sends no mail "
			   "should publish \"v=spf1 -all\"",
			   zone);
	} else if (count > 1) {
		part_issue(p, true,
			   "%d SPF records at %s: receivers treat that as a permerror (RFC 7208 "
			   "§4.5); merge them into one",
			   count, zone);
	} else {
		if (!spf_terms(&s, spf, zone))
			part_issue(
			    p, false,
			    "the SPF record does not end in an 'all' mechanism (or redirect), "
			    "so unlisted senders get 'neutral'; end it with -all or ~all");
		if (s.lookups > SPF_MAX_LOOKUPS)
			part_issue(
			    p, true,
			    "the SPF record needs %d DNS lookups; more than %d is a permerror "
			    "(RFC 7208 §4.6.4)",
			    s.lookups, SPF_MAX_LOOKUPS);
		if (strlen(spf) > 450)
			part_issue(p, false,
				   "the SPF record is %zu characters; answers over 512 octets need "
				   "EDNS or TCP",
				   strlen(spf));
	}
	cJSON_AddNumberToObject(o, "spf_lookups", s.lookups);
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM records WHERE zone_id = ?1 AND type = 'SPF' LIMIT 1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, zone_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			part_issue(p, false,
				   "the zone has records of type SPF (99); RFC 7208 §3.1 retired "
				   "that type: only TXT is read");
		sqlite3_finalize(st);
	}
}

/* "k=v; k=v" tag lists (DMARC, MTA-STS, TLS-RPT, DKIM): value of tag. */
static bool tag_value(const char *rec, const char *tag, char *out, size_t cap)
{
	const char *p = rec;
	size_t tl = strlen(tag);

	while (*p) {
		const char *e;
		while (*p == ' ' || *p == ';' || *p == '\t')
			p++;
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		if (strncasecmp(p, tag, tl) == 0) {
			const char *v = p + tl;
			while (*v == ' ')
				v++;
			if (*v == '=') {
				size_t n;
				v++;
				while (*v == ' ')
					v++;
				n = (size_t)(e - v);
				while (n && v[n - 1] == ' ')
					n--;
				if (n >= cap)
					n = cap - 1;
				memcpy(out, v, n);
				out[n] = '\0';
				return true;
			}
		}
		p = e;
	}
	return false;
}

static void audit_dmarc(sqlite3 *db, long long zone_id, const char *zone, struct part *p, cJSON *o)
{
	char name[DNAME_TEXT_MAXLEN + 8], recs[4][TXT_JOINED_MAXLEN], v[512];
	int n, i, count = 0;
	const char *rec = NULL;
	bool cn;

	snprintf(name, sizeof(name), "_dmarc.%s", zone);
	n = txt_at(db, zone_id, name, recs, 4, &cn);
	for (i = 0; i < n; i++)
		if (starts_ci(recs[i], "v=DMARC1")) {
			cJSON_AddItemToArray(p->records, cJSON_CreateString(recs[i]));
			rec = recs[i];
			count++;
		}
	p->present = count > 0;
	if (count == 0) {
		part_issue(p, true, "no DMARC record (TXT \"v=DMARC1; p=...\") at %s%s", name,
			   cn ? " (a CNAME is there: the record may live at its target)" : "");
		return;
	}
	if (count > 1) {
		part_issue(p, true,
			   "%d DMARC records at %s: receivers ignore them all (RFC 7489 "
			   "§6.6.3)",
			   count, name);
		return;
	}
	if (!tag_value(rec, "p", v, sizeof(v))) {
		part_issue(p, true, "the DMARC record has no p= policy tag (RFC 7489 §6.3)");
	} else {
		cJSON_AddStringToObject(o, "dmarc_policy", v);
		if (strcasecmp(v, "none") == 0)
			part_issue(p, false,
				   "p=none only monitors: spoofed mail is still delivered; move to "
				   "quarantine or reject once reports look clean");
		else if (strcasecmp(v, "quarantine") != 0 && strcasecmp(v, "reject") != 0)
			part_issue(p, true, "p=%s is not none, quarantine or reject", v);
	}
	if (!tag_value(rec, "rua", v, sizeof(v)))
		part_issue(p, false, "no rua= tag: nobody receives aggregate reports");
	else if (!starts_ci(v, "mailto:"))
		part_issue(p, true, "rua=%s: report URIs must be mailto: (RFC 7489 §6.4)", v);
	if (tag_value(rec, "pct", v, sizeof(v)) && strcmp(v, "100") != 0)
		part_issue(p, false, "pct=%s applies the policy to part of the mail only", v);
}

static void audit_dkim(sqlite3 *db, long long zone_id, const char *zone, struct part *p, cJSON *o)
{
	char suffix[DNAME_TEXT_MAXLEN + 16], txt[TXT_JOINED_MAXLEN], v[TXT_JOINED_MAXLEN];
	cJSON *sel = cJSON_AddArrayToObject(o, "dkim_selectors");
	sqlite3_stmt *st;
	int found = 0;

	snprintf(suffix, sizeof(suffix), "._domainkey.%s", zone);
	cJSON_AddStringToObject(p->obj, "name", suffix + 1);
	if (sqlite3_prepare_v2(db,
			       "SELECT name, type, data FROM records WHERE zone_id = ?1 AND "
			       "type IN ('TXT', 'CNAME') AND length(name) > ?2 AND "
			       "substr(name, -?2) = ?3 ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, zone_id);
	sqlite3_bind_int(st, 2, (int)strlen(suffix));
	sqlite3_bind_text(st, 3, suffix, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		const char *data = (const char *)sqlite3_column_text(st, 2);
		char selector[DNAME_TEXT_MAXLEN];
		size_t sl;

		if (!name || !type || !data)
			continue;
		sl = strlen(name) - strlen(suffix);
		snprintf(selector, sizeof(selector), "%.*s", (int)sl, name);
		found++;
		cJSON_AddItemToArray(sel, cJSON_CreateString(selector));
		if (strcmp(type, "CNAME") == 0) {
			char line[DNAME_TEXT_MAXLEN * 2 + 16];
			snprintf(line, sizeof(line), "%s CNAME %s", selector, data);
			cJSON_AddItemToArray(p->records, cJSON_CreateString(line));
			continue; /* delegated to a provider: fine */
		}
		txt_join(data, txt, sizeof(txt));
		cJSON_AddItemToArray(p->records, cJSON_CreateString(txt));
		if (tag_value(txt, "v", v, sizeof(v)) && strcmp(v, "DKIM1") != 0)
			part_issue(p, true, "selector %s: v=%s, must be DKIM1 (RFC 6376 §3.6.1)",
				   selector, v);
		if (!tag_value(txt, "p", v, sizeof(v)))
			part_issue(p, true, "selector %s: no p= public key tag", selector);
		else if (v[0] == '\0')
			part_issue(p, false, "selector %s: empty p= means the key is revoked",
				   selector);
		else {
			const char *c;
			for (c = v; *c; c++)
				if (!isalnum((unsigned char)*c) && *c != '+' && *c != '/' &&
				    *c != '=' && *c != ' ') {
					part_issue(p, true,
						   "selector %s: p= is not base64 (character '%c')",
						   selector, *c);
					break;
				}
		}
		if (tag_value(txt, "k", v, sizeof(v)) && strcasecmp(v, "rsa") != 0 &&
		    strcasecmp(v, "ed25519") != 0)
			part_issue(p, true, "selector %s: unknown key type k=%s", selector, v);
	}
	sqlite3_finalize(st);
	p->present = found > 0;
	if (!found)
		part_issue(p, false,
			   "no DKIM selectors under _domainkey.%s: mail signed for this domain "
			   "cannot be verified (unless the keys are published elsewhere)",
			   zone);
}

static void audit_simple(sqlite3 *db, long long zone_id, const char *zone, const char *label,
			 const char *version, struct part *p, bool mta_sts)
{
	char name[DNAME_TEXT_MAXLEN + 16], recs[4][TXT_JOINED_MAXLEN], v[512];
	int n, i, count = 0;
	const char *rec = NULL;
	bool cn;

	snprintf(name, sizeof(name), "%s.%s", label, zone);
	cJSON_AddStringToObject(p->obj, "name", name);
	n = txt_at(db, zone_id, name, recs, 4, &cn);
	for (i = 0; i < n; i++)
		if (starts_ci(recs[i], version)) {
			cJSON_AddItemToArray(p->records, cJSON_CreateString(recs[i]));
			rec = recs[i];
			count++;
		}
	p->present = count > 0;
	if (count == 0) {
		part_issue(p, false, "no %s record at %s (optional, recommended for mail domains)",
			   mta_sts ? "MTA-STS" : "TLS-RPT", name);
		return;
	}
	if (count > 1) {
		part_issue(p, true, "%d records at %s; there must be exactly one", count, name);
		return;
	}
	if (mta_sts) {
		/* RFC 8461 §3.1: id is 1..32 alphanumerics; policy host mta-sts. */
		const char *c;
		if (!tag_value(rec, "id", v, sizeof(v)) || v[0] == '\0' || strlen(v) > 32)
			part_issue(p, true,
				   "the MTA-STS record needs id= (1 to 32 letters/digits)");
		else
			for (c = v; *c; c++)
				if (!isalnum((unsigned char)*c)) {
					part_issue(p, true, "id=%s must be letters and digits", v);
					break;
				}
		{
			sqlite3_stmt *st;
			char host[DNAME_TEXT_MAXLEN + 16];
			snprintf(host, sizeof(host), "mta-sts.%s", zone);
			if (sqlite3_prepare_v2(
				db,
				"SELECT 1 FROM records WHERE zone_id = ?1 AND name = "
				"?2 AND type IN ('A', 'AAAA', 'CNAME') LIMIT 1",
				-1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, zone_id);
				sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
				if (sqlite3_step(st) != SQLITE_ROW)
					part_issue(p, true,
						   "%s has no A/AAAA/CNAME: the policy at "
						   "https://%s/.well-known/mta-sts.txt cannot be "
						   "fetched",
						   host, host);
				sqlite3_finalize(st);
			}
		}
	} else {
		/* RFC 8460 §3: rua= with mailto: or https: URIs */
		if (!tag_value(rec, "rua", v, sizeof(v)))
			part_issue(p, true, "the TLS-RPT record needs rua=");
		else if (!starts_ci(v, "mailto:") && !starts_ci(v, "https:"))
			part_issue(p, true, "rua=%s must be mailto: or https: (RFC 8460 §3)", v);
	}
}

void tools_lint_email_auth_audit(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN], *t = NULL;
	uint8_t zw[DNAME_MAXLEN];
	size_t len = 0, cap = 0;
	struct store_zone sz;
	struct part spf, dmarc, dkim, sts, rpt;
	cJSON *o;

	if (!tool_check_args("email_auth_audit", args, res) ||
	    !tool_zone_arg(ctx, args, false, zone, res))
		return;
	sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL);
	if (store_zone_get(ctx->db, zone, &sz) < 0 ||
	    dname_parse_text(sz.name, strlen(sz.name), NULL, zw) < 0) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		tool_error(res, "zone %s does not exist (see list_zones)", zone);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "zone", sz.name);
	part_init(&spf, sz.name);
	part_init(&dmarc, "");
	part_init(&dkim, "");
	part_init(&sts, "");
	part_init(&rpt, "");
	{
		char dn[DNAME_TEXT_MAXLEN + 8];
		snprintf(dn, sizeof(dn), "_dmarc.%s", sz.name);
		cJSON_ReplaceItemInObject(dmarc.obj, "name", cJSON_CreateString(dn));
	}
	audit_spf(ctx->db, sz.id, sz.name, zw, &spf, o);
	audit_dmarc(ctx->db, sz.id, sz.name, &dmarc, o);
	audit_dkim(ctx->db, sz.id, sz.name, &dkim, o);
	audit_simple(ctx->db, sz.id, sz.name, "_mta-sts", "v=STSv1", &sts, true);
	audit_simple(ctx->db, sz.id, sz.name, "_smtp._tls", "v=TLSRPTv1", &rpt, false);
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	cJSON_AddBoolToObject(o, "ok", spf.ok && dmarc.ok && dkim.ok && sts.ok && rpt.ok);
	tool_append(&t, &len, &cap, "%sEmail authentication of %s: %s\n", TOOL_DATA_NOTICE, sz.name,
		    spf.ok && dmarc.ok && dkim.ok && sts.ok && rpt.ok ? "no errors"
								      : "problems found");
	part_done(&spf, o, "spf", &t, &len, &cap);
	part_done(&dmarc, o, "dmarc", &t, &len, &cap);
	part_done(&dkim, o, "dkim", &t, &len, &cap);
	part_done(&sts, o, "mta_sts", &t, &len, &cap);
	part_done(&rpt, o, "tls_rpt", &t, &len, &cap);
	res->structured = o;
	free(res->text);
	res->text = t;
}
