/*
 * tools_read.c: the read tools. They read the database in short read
 * transactions (WAL: they never wait for a writer) and, for get_zone and
 * dns_lookup, ask dnsd (and get_zone every secondary) with a hard deadline:
 * the handler leaves the questions in its result (tool_ask) and a finish
 * function builds the result from the answers, so mcp.c can ask them on
 * its event loop without blocking other clients (dnsask.h).
 *
 * Paging (list_zones, list_records, list_changes) is keyset-based: a cursor
 * names the last row returned, so a page boundary stays put while other
 * clients write. Cursors are opaque to clients; a malformed one is an
 * error result.
 */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dname.h"
#include "dnsask.h"
#include "err.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "store.h"
#include "tools.h"
#include "tools_secondary.h"
#include "tools_int.h"
#include "zonefile.h"

#define PAGE_DEFAULT	     100
#define CHANGES_DEFAULT	     20
#define CHANGE_RECORDS_SHOWN 50	    /* records listed per change in list_changes */
#define EXPORT_TOOL_MAX	     200000 /* records export_zone returns in one result */
#define TEXT_LINES	     30	    /* record lines in a text summary */

/* ------------------------------------------------------------------ */
/* Cursors: printable, self-checking enough to refuse garbage */

static void hex_encode(const char *s, char *out, size_t cap)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		out[o++] = hx[(unsigned char)*s >> 4];
		out[o++] = hx[(unsigned char)*s & 15];
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes len hex chars into out (NUL-terminated); false if invalid. */
static bool hex_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t i;

	if (len % 2 || len / 2 + 1 > cap)
		return false;
	for (i = 0; i < len; i += 2) {
		int a = hexval(s[i]), b = hexval(s[i + 1]);
		if (a < 0 || b < 0 || (a == 0 && b == 0))
			return false;
		out[i / 2] = (char)(a << 4 | b);
	}
	out[len / 2] = '\0';
	return true;
}

/* ------------------------------------------------------------------ */

static long long count_records(sqlite3 *db, long long zone_id)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM records WHERE zone_id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, zone_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

void tools_read_list_zones(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	const char *cursor = tool_str(args, "cursor");
	char after[DNAME_TEXT_MAXLEN] = "", *t = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	cJSON *o, *arr;
	long long limit;
	int rc, n = 0;

	if (!tool_check_args("list_zones", args, res) ||
	    !tool_int(args, "limit", 1, 1000, PAGE_DEFAULT, &limit, res))
		return;
	if (cursor && !hex_decode(cursor, strlen(cursor), after, sizeof(after))) {
		tool_error(res,
			   "invalid cursor (pass next_cursor from the previous page unchanged)");
		return;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "zones");
	sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(ctx->db,
				"SELECT id, name, serial, serial_policy, default_ttl, updated_at "
				"FROM zones WHERE name > ?1 ORDER BY name",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		cJSON_Delete(o);
		tool_error(res, "database error: %s", sqlite3_errmsg(ctx->db));
		return;
	}
	sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
	tool_append(&t, &len, &cap, "%s", "");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		cJSON *z;

		if (!name || !tool_zone_allowed(ctx->zone_globs ? ctx->zone_globs : "*", name))
			continue;
		if (n == limit) {
			char c[2 * DNAME_TEXT_MAXLEN + 1];
			cJSON *last = cJSON_GetArrayItem(arr, n - 1);
			hex_encode(cJSON_GetObjectItem(last, "zone")->valuestring, c, sizeof(c));
			cJSON_AddStringToObject(o, "next_cursor", c);
			tool_append(&t, &len, &cap, "More zones: pass next_cursor.\n");
			break;
		}
		z = cJSON_CreateObject();
		cJSON_AddStringToObject(z, "zone", name);
		cJSON_AddNumberToObject(z, "serial", (double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(
		    z, "records", (double)count_records(ctx->db, sqlite3_column_int64(st, 0)));
		cJSON_AddStringToObject(z, "serial_policy",
					(const char *)sqlite3_column_text(st, 3));
		cJSON_AddNumberToObject(z, "default_ttl", (double)sqlite3_column_int64(st, 4));
		cJSON_AddStringToObject(z, "updated_at", (const char *)sqlite3_column_text(st, 5));
		cJSON_AddItemToArray(arr, z);
		if (n < TEXT_LINES)
			tool_append(&t, &len, &cap, "%s serial %lld\n", name,
				    sqlite3_column_int64(st, 2));
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	res->structured = o;
	free(res->text);
	res->text = NULL;
	tool_text(res, "%d zone%s%s\n%s", n, n == 1 ? "" : "s", n ? ":" : ".", t ? t : "");
	free(t);
}

/* SOA rdata text -> object with its fields. */
static cJSON *soa_json(const char *data, uint32_t ttl)
{
	uint8_t rd[2 * DNAME_MAXLEN + 20];
	char m[DNAME_TEXT_MAXLEN], r[DNAME_TEXT_MAXLEN];
	int n = rdata_parse_text(RRTYPE_SOA, data, strlen(data), NULL, rd, sizeof(rd), NULL);
	size_t off;
	cJSON *o;

	if (n < 0)
		return NULL;
	off = dname_len(rd);
	if (dname_print(rd, m, sizeof(m)) < 0 || dname_print(rd + off, r, sizeof(r)) < 0)
		return NULL;
	off += dname_len(rd + off);
	if (off + 20 > (size_t)n)
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mname", m);
	cJSON_AddStringToObject(o, "rname", r);
	cJSON_AddNumberToObject(o, "serial", wire_get_u32(rd + off));
	cJSON_AddNumberToObject(o, "refresh", wire_get_u32(rd + off + 4));
	cJSON_AddNumberToObject(o, "retry", wire_get_u32(rd + off + 8));
	cJSON_AddNumberToObject(o, "expire", wire_get_u32(rd + off + 12));
	cJSON_AddNumberToObject(o, "minimum", wire_get_u32(rd + off + 16));
	cJSON_AddNumberToObject(o, "ttl", ttl);
	return o;
}

static const char *rcode_name(int rc);

/* What get_zone keeps while its questions are out. */
struct get_zone_state {
	char zone[DNAME_TEXT_MAXLEN];
	char dnsd[DNSASK_ADDR_MAX + 64]; /* dnsd's address, for the messages */
	char policy[16];
	uint32_t serial, default_ttl;
	long long total;
	int dnsd_q;	  /* index of the question to dnsd, -1: none asked */
	const char *why;  /* served_error when dnsd was not asked (NULL: none) */
	bool propagation; /* questions 1.. (or 0.. without dnsd) are the secondaries */
};

/* From dnsd's answer to the zone's SOA: fills served_serial/served_error
 * and returns the "served" state. */
static const char *served_state(const struct get_zone_state *gs, const struct dnsask_q *q, cJSON *o)
{
	char msg[400];
	uint32_t got;

	if (q == NULL) {
		if (gs->why)
			cJSON_AddStringToObject(o, "served_error", gs->why);
		return "unknown";
	}
	if (q->rc < 0) {
		snprintf(msg, sizeof(msg), "dnsd at %s: %s", gs->dnsd,
			 q->rc == ERR_TIMEOUT ? "no answer in time" : err_str(q->rc));
		cJSON_AddStringToObject(o, "served_error", msg);
		return "unknown";
	}
	if (notify_reply_soa_serial(q->resp, q->resp_len, q->qname, &got) < 0) {
		snprintf(msg, sizeof(msg), "dnsd at %s answered %s without the zone's SOA",
			 gs->dnsd, rcode_name(DNS_RCODE(wire_get_u16(q->resp + 2))));
		cJSON_AddStringToObject(o, "served_error", msg);
		return "not_served";
	}
	cJSON_AddNumberToObject(o, "served_serial", got);
	return notify_serial_ge(got, gs->serial) ? "current" : "behind";
}

static void get_zone_finish(struct tool_result *res, struct dnsask_q *qs, size_t n, void *state)
{
	struct get_zone_state *gs = state;
	cJSON *o = res->structured;
	const char *served;
	size_t first_peer = gs->dnsd_q >= 0 ? 1 : 0;

	if (o == NULL || (gs->dnsd_q >= 0 && n < 1)) {
		tool_error(res, "out of memory");
		return;
	}
	served = served_state(gs, gs->dnsd_q >= 0 ? &qs[gs->dnsd_q] : NULL, o);
	cJSON_AddStringToObject(o, "served", served);
	if (gs->propagation) {
		/* The propagation view: what each secondary answers (bounded). */
		cJSON *pr = tools_secondary_propagation_answers(qs + first_peer, n - first_peer,
								gs->serial);

		if (pr)
			cJSON_AddItemToObject(o, "propagation", pr);
	}
	{
		const cJSON *ss = cJSON_GetObjectItem(o, "served_serial");
		const cJSON *se = cJSON_GetObjectItem(o, "served_error");
		char dn[300];

		if (ss)
			snprintf(dn, sizeof(dn), "dnsd serves serial %.0f (%s)", ss->valuedouble,
				 served);
		else
			snprintf(dn, sizeof(dn), "dnsd: %s (%.200s)", served,
				 se ? se->valuestring : "no answer");
		tool_text(res,
			  "%sZone %s: serial %u in the database; %s; %lld records (serial policy "
			  "%s, default TTL %u).",
			  TOOL_DATA_NOTICE, gs->zone, gs->serial, dn, gs->total, gs->policy,
			  gs->default_ttl);
	}
}

void tools_read_get_zone(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	struct store_zone z;
	sqlite3_stmt *st = NULL;
	cJSON *o, *counts, *soa = NULL;
	struct get_zone_state *gs;
	struct dnsask_q *qs;
	uint8_t wire[DNAME_MAXLEN];
	long long total = 0;
	size_t n = 0;
	int r;

	if (!tool_check_args("get_zone", args, res) || !tool_zone_arg(ctx, args, false, zone, res))
		return;
	sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL);
	r = store_zone_get(ctx->db, zone, &z);
	if (r < 0) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		tool_error(res,
			   r == ERR_NOTFOUND ? "zone %s does not exist (see list_zones)"
					     : "cannot read zone %s",
			   zone);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "zone", z.name);
	cJSON_AddNumberToObject(o, "serial", z.serial);
	counts = cJSON_CreateObject();
	if (sqlite3_prepare_v2(
		ctx->db,
		"SELECT type, count(*) FROM records WHERE zone_id = ?1 GROUP BY type "
		"ORDER BY type",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, z.id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *ty = (const char *)sqlite3_column_text(st, 0);
			long long c = sqlite3_column_int64(st, 1);
			if (ty)
				cJSON_AddNumberToObject(counts, ty, (double)c);
			total += c;
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(ctx->db,
			       "SELECT data, ttl FROM records WHERE zone_id = ?1 AND name = ?2 "
			       "AND type = 'SOA' LIMIT 1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, z.id);
		sqlite3_bind_text(st, 2, z.name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			soa = soa_json((const char *)sqlite3_column_text(st, 0),
				       (uint32_t)sqlite3_column_int64(st, 1));
		sqlite3_finalize(st);
	}
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	if (soa)
		cJSON_AddItemToObject(o, "soa", soa);
	cJSON_AddItemToObject(o, "counts", counts);
	cJSON_AddNumberToObject(o, "records", (double)total);
	cJSON_AddStringToObject(o, "serial_policy", z.policy);
	cJSON_AddNumberToObject(o, "default_ttl", z.default_ttl);
	cJSON_AddStringToObject(o, "created_at", z.created_at);
	cJSON_AddStringToObject(o, "updated_at", z.updated_at);
	res->structured = o;

	/* dnsd's SOA and every secondary's, asked at once (one 300 ms wait) */
	gs = calloc(1, sizeof(*gs));
	qs = calloc(1 + TOOLS_SECONDARY_STATUS_MAX, sizeof(*qs));
	if (gs == NULL || qs == NULL) {
		free(gs);
		free(qs);
		cJSON_Delete(res->structured);
		res->structured = NULL;
		tool_error(res, "out of memory");
		return;
	}
	snprintf(gs->zone, sizeof(gs->zone), "%s", z.name);
	snprintf(gs->policy, sizeof(gs->policy), "%s", z.policy);
	gs->serial = z.serial;
	gs->default_ttl = z.default_ttl;
	gs->total = total;
	gs->dnsd_q = -1;
	if (ctx->dnsd_addr == NULL) {
		gs->why = "mcpd has no dnsd address configured";
	} else if (dname_parse_text(z.name, strlen(z.name), NULL, wire) >= 0) {
		snprintf(gs->dnsd, sizeof(gs->dnsd), "%s", ctx->dnsd_addr);
		tool_ask_q(&qs[n], ctx->dnsd_addr, wire, RRTYPE_SOA, TOOL_SERVED_TIMEOUT_MS);
		gs->dnsd_q = (int)n++;
	}
	r = tools_secondary_peer_asks(ctx, z.name, TOOL_SERVED_TIMEOUT_MS, qs + n,
				      TOOLS_SECONDARY_STATUS_MAX);
	if (r >= 0) {
		gs->propagation = true;
		n += (size_t)r;
	}
	tool_ask(ctx, res, qs, n, get_zone_finish, gs, NULL);
}

/* Owner filter: relative to the zone or absolute, canonical. */
static bool canon_name_in(const char *zone, const char *in, char *out, struct tool_result *res)
{
	uint8_t zw[DNAME_MAXLEN], w[DNAME_MAXLEN];
	char msg[300];
	int r;

	if (store_zone_canon(zone, out, zw, msg, sizeof(msg)) < 0) {
		tool_error(res, "%s", msg);
		return false;
	}
	r = dname_parse_text(in, strlen(in), zw, w);
	if (r < 0 || dname_print(w, out, DNAME_TEXT_MAXLEN) < 0) {
		tool_error(res, "name '%.200s' is not a valid domain name: %s", in,
			   err_str(r < 0 ? r : ERR_SPACE));
		return false;
	}
	dname_lower(w);
	dname_print(w, out, DNAME_TEXT_MAXLEN);
	return true;
}

void tools_read_list_records(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN], name[DNAME_TEXT_MAXLEN], tbuf[16];
	char cname[DNAME_TEXT_MAXLEN] = "", ctype[16] = "", *t = NULL;
	const char *fname = tool_str(args, "name"), *ftype = tool_str(args, "type");
	const char *cursor = tool_str(args, "cursor");
	long long limit, cid = 0;
	size_t len = 0, cap = 0;
	struct store_zone z;
	sqlite3_stmt *st = NULL;
	cJSON *o, *arr;
	int rc, n = 0, ty;

	if (!tool_check_args("list_records", args, res) ||
	    !tool_zone_arg(ctx, args, false, zone, res) ||
	    !tool_int(args, "limit", 1, 1000, PAGE_DEFAULT, &limit, res))
		return;
	if (fname && !canon_name_in(zone, fname, name, res))
		return;
	if (ftype) {
		ty = rrtype_parse(ftype, strlen(ftype));
		if (ty < 0) {
			tool_error(res, "unknown type '%.40s'", ftype);
			return;
		}
		rrtype_print((uint16_t)ty, tbuf, sizeof(tbuf));
	}
	if (cursor) {
		/* hex(name) '/' type '/' id */
		const char *s1 = strchr(cursor, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		char *end;
		if (!s1 || !s2 || (size_t)(s2 - s1 - 1) >= sizeof(ctype) ||
		    !hex_decode(cursor, (size_t)(s1 - cursor), cname, sizeof(cname))) {
			tool_error(res, "invalid cursor (pass next_cursor unchanged)");
			return;
		}
		memcpy(ctype, s1 + 1, (size_t)(s2 - s1 - 1));
		ctype[s2 - s1 - 1] = '\0';
		cid = strtoll(s2 + 1, &end, 10);
		if (*end != '\0' || cid <= 0) {
			tool_error(res, "invalid cursor (pass next_cursor unchanged)");
			return;
		}
	}
	sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL);
	if (store_zone_get(ctx->db, zone, &z) < 0) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		tool_error(res, "zone %s does not exist (see list_zones)", zone);
		return;
	}
	/* With a name, "name = ?2" must be the index constraint: behind an OR,
	 * or beside the (name, type, id) row-value range, the planner walks the
	 * zone from the cursor instead (2.8 s per call on a 1M-record zone
	 * rather than milliseconds). The cursor then only orders type and id. */
	rc = sqlite3_prepare_v2(
	    ctx->db,
	    fname ? "SELECT id, name, type, ttl, data FROM records WHERE zone_id = ?1 "
		    "AND name = ?2 AND (?3 IS NULL OR type = ?3) "
		    "AND (?4 < name OR (?4 = name AND (type, id) > (?5, ?6))) "
		    "ORDER BY type, id LIMIT ?7"
		  : "SELECT id, name, type, ttl, data FROM records WHERE zone_id = ?1 "
		    "AND (?3 IS NULL OR type = ?3) "
		    "AND (name, type, id) > (?4, ?5, ?6) ORDER BY name, type, id LIMIT ?7",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		tool_error(res, "database error: %s", sqlite3_errmsg(ctx->db));
		return;
	}
	sqlite3_bind_int64(st, 1, z.id);
	if (fname)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (ftype)
		sqlite3_bind_text(st, 3, tbuf, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ctype, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, cid);
	sqlite3_bind_int64(st, 7, limit + 1);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "zone", z.name);
	cJSON_AddNumberToObject(o, "serial", z.serial);
	arr = cJSON_AddArrayToObject(o, "records");
	tool_append(&t, &len, &cap, "%s", TOOL_DATA_NOTICE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_rr rr;
		const char *ts = (const char *)sqlite3_column_text(st, 2);
		int tv = ts ? rrtype_parse(ts, strlen(ts)) : -1;

		rr.name = (char *)sqlite3_column_text(st, 1);
		rr.type = tv < 0 ? 0 : (uint16_t)tv;
		rr.ttl = (uint32_t)sqlite3_column_int64(st, 3);
		rr.data = (char *)sqlite3_column_text(st, 4);
		if (!rr.name || !rr.data)
			continue;
		if (n == limit) {
			char c[2 * DNAME_TEXT_MAXLEN + 64];
			const cJSON *last = cJSON_GetArrayItem(arr, n - 1);
			hex_encode(cJSON_GetObjectItem(last, "name")->valuestring, c,
				   sizeof(c) - 48);
			snprintf(c + strlen(c), 48, "/%s/%lld",
				 cJSON_GetObjectItem(last, "type")->valuestring, cid);
			cJSON_AddStringToObject(o, "next_cursor", c);
			break;
		}
		cid = sqlite3_column_int64(st, 0);
		cJSON_AddItemToArray(arr, tool_rr_json(&rr));
		if (n < TEXT_LINES)
			tool_text_rr(&t, &len, &cap, &rr);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	if (n > TEXT_LINES)
		tool_append(&t, &len, &cap, "(%d more in structuredContent)\n", n - TEXT_LINES);
	if (cJSON_GetObjectItem(o, "next_cursor"))
		tool_append(&t, &len, &cap, "More records: pass next_cursor as cursor.\n");
	tool_append(&t, &len, &cap, "%d record%s of %s (serial %u).", n, n == 1 ? "" : "s", z.name,
		    z.serial);
	res->structured = o;
	free(res->text);
	res->text = t;
}

void tools_read_export_zone(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	struct store_zone z;
	char *text = NULL;
	size_t len = 0;
	long long n;
	cJSON *o;
	int r;

	if (!tool_check_args("export_zone", args, res) ||
	    !tool_zone_arg(ctx, args, false, zone, res))
		return;
	if (store_zone_get(ctx->db, zone, &z) < 0) {
		tool_error(res, "zone %s does not exist (see list_zones)", zone);
		return;
	}
	n = count_records(ctx->db, z.id);
	if (n > EXPORT_TOOL_MAX) {
		tool_error(res,
			   "zone %s has %lld records, too many for one tool result (limit %d); use "
			   "list_records to page through it, or 'mcpd export' on the server",
			   zone, n, EXPORT_TOOL_MAX);
		return;
	}
	r = store_export(ctx->db, zone, &text, &len);
	if (r < 0) {
		tool_error(res, "cannot export zone %s: %s", zone, err_str(r));
		return;
	}
	/* the serial of the export is the one in its SOA line */
	store_zone_get(ctx->db, zone, &z);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "zone", z.name);
	cJSON_AddNumberToObject(o, "serial", z.serial);
	cJSON_AddNumberToObject(o, "records", (double)n);
	cJSON_AddStringToObject(o, "text", text);
	res->structured = o;
	tool_text(res, "%s%s", TOOL_DATA_NOTICE, text);
	free(text);
}

static void change_records(sqlite3 *db, long long id, cJSON *c)
{
	sqlite3_stmt *st;
	cJSON *add = cJSON_AddArrayToObject(c, "added"),
	      *del = cJSON_AddArrayToObject(c, "removed");
	long long nadd = 0, ndel = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT op, name, type, ttl, data FROM change_records WHERE "
			       "change_id = ?1 ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(st, 0);
		bool is_add = op && strcmp(op, "add") == 0;
		long long *cnt = is_add ? &nadd : &ndel;
		cJSON *r;

		if (++*cnt > CHANGE_RECORDS_SHOWN)
			continue;
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddStringToObject(r, "type", (const char *)sqlite3_column_text(st, 2));
		cJSON_AddNumberToObject(r, "ttl", (double)sqlite3_column_int64(st, 3));
		cJSON_AddStringToObject(r, "data", (const char *)sqlite3_column_text(st, 4));
		cJSON_AddItemToArray(is_add ? add : del, r);
	}
	sqlite3_finalize(st);
	cJSON_AddNumberToObject(c, "added_count", (double)nadd);
	cJSON_AddNumberToObject(c, "removed_count", (double)ndel);
}

void tools_read_list_changes(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN], *t = NULL;
	const char *cursor = tool_str(args, "cursor");
	bool with_records = tool_bool(args, "include_records", true);
	long long limit, before = 0, last = 0;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	cJSON *o, *arr;
	int rc, n = 0;

	if (!tool_check_args("list_changes", args, res) ||
	    !tool_zone_arg(ctx, args, false, zone, res) ||
	    !tool_int(args, "limit", 1, 200, CHANGES_DEFAULT, &limit, res))
		return;
	if (cursor) {
		char *end;
		before = strtoll(cursor, &end, 10);
		if (*cursor == '\0' || *end != '\0' || before <= 0) {
			tool_error(res, "invalid cursor (pass next_cursor unchanged)");
			return;
		}
	}
	sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(
	    ctx->db,
	    "SELECT id, serial_before, serial_after, actor, tool, reason, "
	    "created_at FROM changes WHERE zone_name = ?1 AND (?2 = 0 OR id < ?2) "
	    "ORDER BY id DESC LIMIT ?3",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
		tool_error(res, "database error: %s", sqlite3_errmsg(ctx->db));
		return;
	}
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int64(st, 3, limit + 1);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "zone", zone);
	arr = cJSON_AddArrayToObject(o, "changes");
	tool_append(&t, &len, &cap, "%s", TOOL_DATA_NOTICE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		cJSON *c;

		if (n == limit) {
			char cur[32];
			snprintf(cur, sizeof(cur), "%lld", last);
			cJSON_AddStringToObject(o, "next_cursor", cur);
			tool_append(&t, &len, &cap, "Older changes: pass next_cursor as cursor.\n");
			break;
		}
		c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "id", (double)id);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			cJSON_AddNumberToObject(c, "serial_before",
						(double)sqlite3_column_int64(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			cJSON_AddNumberToObject(c, "serial_after",
						(double)sqlite3_column_int64(st, 2));
		cJSON_AddStringToObject(c, "actor", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddStringToObject(c, "tool", (const char *)sqlite3_column_text(st, 4));
		cJSON_AddStringToObject(c, "reason", (const char *)sqlite3_column_text(st, 5));
		cJSON_AddStringToObject(c, "created_at", (const char *)sqlite3_column_text(st, 6));
		if (with_records)
			change_records(ctx->db, id, c);
		cJSON_AddItemToArray(arr, c);
		if (n < TEXT_LINES)
			tool_append(&t, &len, &cap,
				    "change %lld %s by %s via %s: serial %s -> %s%s%s\n", id,
				    (const char *)sqlite3_column_text(st, 6),
				    (const char *)sqlite3_column_text(st, 3),
				    (const char *)sqlite3_column_text(st, 4),
				    sqlite3_column_type(st, 1) == SQLITE_NULL
					? "(created)"
					: (const char *)sqlite3_column_text(st, 1),
				    sqlite3_column_type(st, 2) == SQLITE_NULL
					? "(deleted)"
					: (const char *)sqlite3_column_text(st, 2),
				    *(const char *)sqlite3_column_text(st, 5) ? ", reason: " : "",
				    (const char *)sqlite3_column_text(st, 5));
		last = id;
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	tool_append(&t, &len, &cap, "%d change%s of %s listed.", n, n == 1 ? "" : "s", zone);
	res->structured = o;
	free(res->text);
	res->text = t;
}

/* ------------------------------------------------------------------ */
/* dns_lookup */

static const char *rcode_name(int rc)
{
	static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
				      "NOTIMP",	 "REFUSED", "YXDOMAIN", "YXRRSET",
				      "NXRRSET", "NOTAUTH", "NOTZONE"};
	return rc >= 0 && rc < (int)(sizeof(names) / sizeof(names[0])) ? names[rc] : "RCODE?";
}

/* Reads count RRs of one section into a JSON array of text lines. */
static int section_lines(struct wire *w, unsigned count, cJSON *arr, uint8_t *rd, char **t,
			 size_t *len, size_t *cap, const char *title)
{
	struct msg_rr rr;
	char line[DNAME_TEXT_MAXLEN + 4 * 1024];
	unsigned i;
	int r;

	rr.rdata = rd;
	rr.rdata_cap = RDATA_MAXLEN;
	if (count)
		tool_append(t, len, cap, ";; %s\n", title);
	for (i = 0; i < count; i++) {
		if ((r = msg_rr_next(w, &rr)) < 0)
			return r;
		if (rr.type == RRTYPE_OPT) {
			snprintf(line, sizeof(line),
				 "; EDNS: version %u, udp %u, flags %s, extended rcode %u",
				 (unsigned)(rr.ttl >> 16 & 0xff), rr.rclass,
				 (rr.ttl & EDNS_FLAG_DO) ? "do" : "none", (unsigned)(rr.ttl >> 24));
		} else if (zf_print_rr(rr.owner, rr.ttl, rr.type, rr.rdata, rr.rdlen, line,
				       sizeof(line)) < 0) {
			char o[DNAME_TEXT_MAXLEN], ty[16];
			dname_print(rr.owner, o, sizeof(o));
			rrtype_print(rr.type, ty, sizeof(ty));
			snprintf(line, sizeof(line), "%s %u IN %s (%u octets, too long to show)", o,
				 rr.ttl, ty, rr.rdlen);
		}
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
		tool_append(t, len, cap, "%s\n", line);
	}
	return 0;
}

/* What dns_lookup keeps while its question is out. */
struct lookup_state {
	char qtext[DNAME_TEXT_MAXLEN];
	char tname[16];
	char server[DNSASK_ADDR_MAX + 64];
};

static void lookup_finish(struct tool_result *res, struct dnsask_q *qs, size_t n, void *state)
{
	struct lookup_state *ls = state;
	struct dnsask_q *q = n == 1 ? &qs[0] : NULL;
	uint8_t *rd = NULL;
	char *t = NULL;
	size_t len = 0, cap = 0;
	struct msg_header h;
	struct wire w;
	cJSON *o, *flags;
	unsigned i;

	if (q == NULL) {
		tool_error(res, "out of memory");
		return;
	}
	if (q->rc < 0) {
		tool_error(res, "dnsd at %s did not answer %s %s: %s", ls->server, ls->qtext,
			   ls->tname, q->rc == ERR_TIMEOUT ? "no answer in time" : err_str(q->rc));
		return;
	}
	if (msg_parse_header(q->resp, q->resp_len, &h) < 0) {
		tool_error(res, "dnsd at %s sent a malformed answer", ls->server);
		return;
	}
	rd = malloc(RDATA_MAXLEN);
	if (rd == NULL) {
		tool_error(res, "out of memory");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", ls->qtext);
	cJSON_AddStringToObject(o, "type", ls->tname);
	cJSON_AddStringToObject(o, "server", ls->server);
	cJSON_AddStringToObject(o, "rcode", rcode_name(DNS_RCODE(h.flags)));
	flags = cJSON_AddArrayToObject(o, "flags");
	{
		static const struct {
			uint16_t bit;
			const char *name;
		} fl[] = {{DNS_FLAG_QR, "qr"}, {DNS_FLAG_AA, "aa"}, {DNS_FLAG_TC, "tc"},
			  {DNS_FLAG_RD, "rd"}, {DNS_FLAG_RA, "ra"}, {DNS_FLAG_AD, "ad"},
			  {DNS_FLAG_CD, "cd"}};
		for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			if (h.flags & fl[i].bit)
				cJSON_AddItemToArray(flags, cJSON_CreateString(fl[i].name));
	}
	cJSON_AddBoolToObject(o, "tcp", q->used_tcp);
	cJSON_AddNumberToObject(o, "time_ms", (double)q->elapsed_ms);
	tool_append(&t, &len, &cap, "%s;; %s %s from %s: %s\n", TOOL_DATA_NOTICE, ls->qtext,
		    ls->tname, ls->server, rcode_name(DNS_RCODE(h.flags)));
	wire_init(&w, q->resp, q->resp_len);
	wire_seek(&w, DNS_HEADER_LEN);
	for (i = 0; i < h.qdcount; i++)
		msg_skip_question(&w);
	if (section_lines(&w, h.ancount, cJSON_AddArrayToObject(o, "answer"), rd, &t, &len, &cap,
			  "ANSWER") < 0 ||
	    section_lines(&w, h.nscount, cJSON_AddArrayToObject(o, "authority"), rd, &t, &len, &cap,
			  "AUTHORITY") < 0 ||
	    section_lines(&w, h.arcount, cJSON_AddArrayToObject(o, "additional"), rd, &t, &len,
			  &cap, "ADDITIONAL") < 0) {
		/* keep what parsed; say the rest did not */
		if (!cJSON_GetObjectItem(o, "authority"))
			cJSON_AddArrayToObject(o, "authority");
		if (!cJSON_GetObjectItem(o, "additional"))
			cJSON_AddArrayToObject(o, "additional");
		tool_append(&t, &len, &cap, ";; (the rest of the answer is malformed)\n");
	}
	res->structured = o;
	free(res->text);
	res->text = t;
	free(rd);
}

void tools_read_dns_lookup(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	const char *name = tool_str(args, "name"), *type = tool_str(args, "type");
	uint8_t qname[DNAME_MAXLEN];
	struct lookup_state *ls;
	struct dnsask_q *q;
	int qtype, r;

	if (!tool_check_args("dns_lookup", args, res))
		return;
	if (ctx->dnsd_addr == NULL) {
		tool_error(res, "mcpd has no dnsd address configured (--dnsd)");
		return;
	}
	ls = calloc(1, sizeof(*ls));
	q = calloc(1, sizeof(*q));
	if (ls == NULL || q == NULL) {
		free(ls);
		free(q);
		tool_error(res, "out of memory");
		return;
	}
	/* The name is absolute with or without its trailing dot. */
	r = dname_parse_text(name, strlen(name), (const uint8_t *)"", qname);
	if (r < 0 || dname_print(qname, ls->qtext, sizeof(ls->qtext)) < 0) {
		tool_error(res, "name '%.200s' is not a valid domain name: %s", name, err_str(r));
		goto fail;
	}
	qtype = type ? rrtype_parse(type, strlen(type)) : RRTYPE_A;
	if (qtype < 0 || qtype == RRTYPE_OPT || qtype == RRTYPE_TSIG || qtype == RRTYPE_TKEY ||
	    qtype == RRTYPE_AXFR || qtype == RRTYPE_IXFR) {
		tool_error(res, "type '%.40s' cannot be asked here (use A, AAAA, MX, TXT, ...)",
			   type ? type : "");
		goto fail;
	}
	rrtype_print((uint16_t)qtype, ls->tname, sizeof(ls->tname));
	snprintf(ls->server, sizeof(ls->server), "%s", ctx->dnsd_addr);
	tool_ask_q(q, ctx->dnsd_addr, qname, (uint16_t)qtype, TOOL_LOOKUP_TIMEOUT_MS);
	tool_ask(ctx, res, q, 1, lookup_finish, ls, NULL);
	return;
fail:
	free(ls);
	free(q);
}
