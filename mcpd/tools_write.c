/*
 * tools_write.c: the write tools. Each one turns its arguments into a
 * store_change (store.h does the canonicalizing, validating, committing
 * and journaling), then reports the result in one shape shared by every
 * write: {zone, serial, serial_before, dry_run, committed, change_id,
 * changes: {added, removed, ...}, unchanged, warnings}. After a commit the
 * result asks the transport to wait until dnsd serves the new serial
 * (res->wait_live); the transport adds "live"/"live_error".
 *
 * Nothing here writes to the database directly: a refused change (any
 * error in any record) changes nothing.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "notify.h"
#include "rdata.h"
#include "store.h"
#include "live.h"
#include "tools.h"
#include "tools_int.h"

#define TEXT_DIFF_LINES	 20	     /* diff lines in the text summary */
#define IMPORT_TEXT_MAX	 (32u << 20) /* import_zone text */
#define DELETE_NOTIFY_MS 200	     /* delete_zone's courtesy NOTIFY */

struct write_args {
	struct store_opts o;
	bool dry_run;
};

/* dry_run, expected_serial, reason; false (and an error result) if bad. */
static bool write_args(struct tool_ctx *ctx, const cJSON *args, const char *tool,
		       struct write_args *w, struct tool_result *res)
{
	long long es;

	memset(w, 0, sizeof(*w));
	w->o.actor = ctx->actor ? ctx->actor : "unknown";
	w->o.tool = tool;
	w->o.reason = tool_str(args, "reason");
	w->o.dry_run = w->dry_run = tool_bool(args, "dry_run", false);
	w->o.max_records = STORE_TOOL_MAX_RECORDS;
	if (!tool_int(args, "expected_serial", 0, 4294967295LL, -1, &es, res))
		return false;
	if (es >= 0) {
		w->o.has_expected = true;
		w->o.expected_serial = (uint32_t)es;
	}
	return true;
}

static void add_list(cJSON *obj, const char *key, const struct store_rr *rrs, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(obj, key);
	size_t i;

	for (i = 0; a && i < n; i++) {
		cJSON *r = tool_rr_json(&rrs[i]);
		if (r)
			cJSON_AddItemToArray(a, r);
	}
}

/* Turns a store result into the tool result shared by every write. */
static void report(struct tool_ctx *ctx, int r, struct store_result *sr, bool dry_run,
		   const char *what, struct tool_result *res)
{
	cJSON *o, *ch;
	char *t = NULL;
	size_t len = 0, cap = 0, i, shown = 0;

	if (r < 0) {
		tool_error(res, "Refused, nothing was changed (%s):\n%s", err_str(r),
			   sr->error ? sr->error : err_str(r));
		return;
	}
	o = cJSON_CreateObject();
	if (o == NULL) {
		tool_error(res, "out of memory");
		return;
	}
	cJSON_AddStringToObject(o, "zone", sr->zone);
	cJSON_AddNumberToObject(o, "serial", sr->serial);
	cJSON_AddNumberToObject(o, "serial_before", sr->serial_before);
	cJSON_AddBoolToObject(o, "dry_run", dry_run);
	cJSON_AddBoolToObject(o, "committed", sr->committed);
	cJSON_AddNumberToObject(o, "change_id", (double)sr->change_id);
	if (sr->created)
		cJSON_AddBoolToObject(o, "created", true);
	if (sr->deleted)
		cJSON_AddBoolToObject(o, "deleted", true);
	ch = cJSON_AddObjectToObject(o, "changes");
	if (ch) {
		add_list(ch, "added", sr->added, sr->nadded);
		add_list(ch, "removed", sr->removed, sr->nremoved);
		cJSON_AddNumberToObject(ch, "added_count", (double)sr->added_total);
		cJSON_AddNumberToObject(ch, "removed_count", (double)sr->removed_total);
		cJSON_AddBoolToObject(ch, "truncated",
				      sr->nadded < sr->added_total ||
					  sr->nremoved < sr->removed_total);
	}
	cJSON_AddNumberToObject(o, "unchanged", (double)sr->unchanged);
	if (sr->nwarnings) {
		cJSON *w = cJSON_AddArrayToObject(o, "warnings");
		for (i = 0; w && i < sr->nwarnings; i++)
			cJSON_AddItemToArray(w, cJSON_CreateString(sr->warnings[i]));
	}
	res->structured = o;

	tool_append(&t, &len, &cap, "%s", TOOL_DATA_NOTICE);
	if (sr->deleted && dry_run)
		tool_append(&t, &len, &cap,
			    "Dry run, nothing written: deleting zone %s would remove %zu records "
			    "(serial %u).\n",
			    sr->zone, sr->removed_total, sr->serial_before);
	else if (sr->deleted)
		tool_append(&t, &len, &cap,
			    "Deleted zone %s (%zu records, last serial %u); journal change %lld "
			    "keeps them.\n",
			    sr->zone, sr->removed_total, sr->serial_before, sr->change_id);
	else if (sr->added_total == 0 && sr->removed_total == 0)
		tool_append(&t, &len, &cap,
			    "No change: %s already holds these records; serial %u unchanged.\n",
			    sr->zone, sr->serial);
	else if (dry_run)
		tool_append(&t, &len, &cap,
			    "Dry run, nothing written: %s %s would go from serial %u to %u; %zu "
			    "added, %zu removed.\n",
			    what, sr->zone, sr->serial_before, sr->serial, sr->added_total,
			    sr->removed_total);
	else if (sr->created)
		tool_append(&t, &len, &cap,
			    "Created zone %s at serial %u with %zu records (change %lld).\n",
			    sr->zone, sr->serial, sr->added_total, sr->change_id);
	else
		tool_append(&t, &len, &cap,
			    "Committed change %lld to %s: serial %u -> %u; %zu added, %zu "
			    "removed.\n",
			    sr->change_id, sr->zone, sr->serial_before, sr->serial, sr->added_total,
			    sr->removed_total);
	for (i = 0; i < sr->nremoved && shown < TEXT_DIFF_LINES; i++, shown++) {
		tool_append(&t, &len, &cap, "- ");
		tool_text_rr(&t, &len, &cap, &sr->removed[i]);
	}
	for (i = 0; i < sr->nadded && shown < TEXT_DIFF_LINES; i++, shown++) {
		tool_append(&t, &len, &cap, "+ ");
		tool_text_rr(&t, &len, &cap, &sr->added[i]);
	}
	if (sr->added_total + sr->removed_total > shown)
		tool_append(&t, &len, &cap, "(%zu more in structuredContent)\n",
			    sr->added_total + sr->removed_total - shown);
	for (i = 0; i < sr->nwarnings; i++)
		tool_append(&t, &len, &cap, "Warning: %s\n", sr->warnings[i]);
	free(res->text);
	res->text = t;

	if (sr->committed && !sr->deleted && strlen(sr->zone) < sizeof(res->zone)) {
		/* (a zone whose printed name exceeds res->zone, possible only
		 * with many \DDD escapes, is simply not waited for) */
		res->wait_live = ctx->dnsd_addr != NULL;
		memcpy(res->zone, sr->zone, strlen(sr->zone) + 1);
		res->serial = sr->serial;
	}
}

static void commit_and_report(struct tool_ctx *ctx, struct store_change *ch,
			      const struct write_args *w, const char *what, struct tool_result *res)
{
	struct store_result sr;
	int r;

	memset(&sr, 0, sizeof(sr));
	r = store_commit(ctx->db, ch, &w->o, &sr);
	report(ctx, r, &sr, w->dry_run, what, res);
	store_result_clear(&sr);
}

/*
 * Adds the records of a JSON array to the change. del: delete_records
 * semantics (data optional). Field problems are recorded in the change
 * under the record's label ("records[3]"), so all are reported together.
 */
static int add_records(struct store_change *ch, const cJSON *arr, const char *what, bool del)
{
	const cJSON *it, *f;
	char label[64], ttlbuf[32];
	int i = 0, r = 0;

	cJSON_ArrayForEach(it, arr)
	{
		const char *name = NULL, *type = NULL, *data = NULL, *ttl = NULL;
		bool bad = false;

		snprintf(label, sizeof(label), "%s[%d]", what, i++);
		if (!cJSON_IsObject(it)) {
			store_change_error(
			    ch, label, "must be an object {\"name\", \"type\", \"ttl\", \"data\"}");
			continue;
		}
		cJSON_ArrayForEach(f, it)
		{
			if (strcmp(f->string, "name") == 0 && cJSON_IsString(f))
				name = f->valuestring;
			else if (strcmp(f->string, "type") == 0 && cJSON_IsString(f))
				type = f->valuestring;
			else if (strcmp(f->string, "data") == 0 && cJSON_IsString(f))
				data = f->valuestring;
			else if (strcmp(f->string, "ttl") == 0 && cJSON_IsNumber(f)) {
				double d = f->valuedouble;
				/* range first: converting a double outside long
				 * long's range is undefined (C11 6.3.1.4; 1e20
				 * and inf parse as JSON numbers; found by fuzz_mcp) */
				if (!(d >= 0 && d <= 4294967296.0) || d != floor(d)) {
					store_change_error(ch, label,
							   "ttl must be a whole number of seconds "
							   "0..2147483647, not %g",
							   d);
					bad = true;
				} else {
					snprintf(ttlbuf, sizeof(ttlbuf), "%lld", (long long)d);
					ttl = ttlbuf;
				}
			} else if (strcmp(f->string, "ttl") == 0 && cJSON_IsString(f))
				ttl = f->valuestring;
			else if (strcmp(f->string, "ttl") == 0 && cJSON_IsNull(f))
				ttl = NULL;
			else if (strcmp(f->string, "name") == 0 || strcmp(f->string, "type") == 0 ||
				 strcmp(f->string, "data") == 0 || strcmp(f->string, "ttl") == 0) {
				store_change_error(ch, label, "field '%s' must be a %s", f->string,
						   strcmp(f->string, "ttl") == 0 ? "number"
										 : "string");
				bad = true;
			} else {
				store_change_error(ch, label,
						   "unknown field '%.60s' (a record is {\"name\", "
						   "\"type\", \"ttl\", \"data\"})",
						   f->string);
				bad = true;
			}
		}
		if (bad)
			continue;
		if (name == NULL) {
			store_change_error(ch, label,
					   "field 'name' is missing (use '@' for the apex)");
			continue;
		}
		if (type == NULL) {
			store_change_error(ch, label, "field 'type' is missing");
			continue;
		}
		if (del)
			r = store_change_del(ch, label, name, type, data);
		else
			r = store_change_add(ch, label, name, type, ttl, data);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool array_size_ok(const cJSON *arr, const char *key, struct tool_result *res)
{
	int n = cJSON_GetArraySize(arr);

	if (n > STORE_TOOL_MAX_RECORDS) {
		tool_error(res,
			   "'%s' has %d entries; at most %d records fit in one change (split the "
			   "change)",
			   key, n, STORE_TOOL_MAX_RECORDS);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */

void tools_write_add_records(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(args, "records");
	struct store_change *ch;
	struct write_args w;

	if (!tool_check_args("add_records", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "add_records", &w, res) || !array_size_ok(recs, "records", res))
		return;
	if (cJSON_GetArraySize(recs) == 0) {
		tool_error(res, "'records' is empty: nothing to add");
		return;
	}
	if ((ch = store_change_new(zone)) == NULL || add_records(ch, recs, "records", false) < 0) {
		store_change_free(ch);
		tool_error(res, "out of memory");
		return;
	}
	commit_and_report(ctx, ch, &w, "adding records to", res);
	store_change_free(ch);
}

void tools_write_delete_records(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(args, "records");
	struct store_change *ch;
	struct write_args w;

	if (!tool_check_args("delete_records", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "delete_records", &w, res) ||
	    !array_size_ok(recs, "records", res))
		return;
	if (cJSON_GetArraySize(recs) == 0) {
		tool_error(res, "'records' is empty: nothing to delete");
		return;
	}
	if ((ch = store_change_new(zone)) == NULL || add_records(ch, recs, "records", true) < 0) {
		store_change_free(ch);
		tool_error(res, "out of memory");
		return;
	}
	commit_and_report(ctx, ch, &w, "deleting records from", res);
	store_change_free(ch);
}

void tools_write_set_rrset(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN], label[32], ttlbuf[32];
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(args, "data"), *it;
	const char *name = tool_str(args, "name"), *type = tool_str(args, "type"), *ttl = NULL;
	struct store_change *ch;
	struct write_args w;
	long long tv;
	int i = 0;

	if (!tool_check_args("set_rrset", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "set_rrset", &w, res) || !array_size_ok(data, "data", res) ||
	    !tool_int(args, "ttl", 0, 2147483647LL, -1, &tv, res))
		return;
	if (tv >= 0) {
		snprintf(ttlbuf, sizeof(ttlbuf), "%lld", tv);
		ttl = ttlbuf;
	}
	if ((ch = store_change_new(zone)) == NULL ||
	    store_change_clear_rrset(ch, "set_rrset", name, type) < 0) {
		store_change_free(ch);
		tool_error(res, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, data)
	{
		snprintf(label, sizeof(label), "data[%d]", i++);
		if (!cJSON_IsString(it)) {
			store_change_error(ch, label,
					   "must be a string (RDATA in presentation form)");
			continue;
		}
		if (store_change_add(ch, label, name, type, ttl, it->valuestring) < 0) {
			store_change_free(ch);
			tool_error(res, "out of memory");
			return;
		}
	}
	commit_and_report(ctx, ch, &w, "replacing the RRset in", res);
	store_change_free(ch);
}

void tools_write_apply_changes(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	const cJSON *add = cJSON_GetObjectItemCaseSensitive(args, "add");
	const cJSON *del = cJSON_GetObjectItemCaseSensitive(args, "delete");
	struct store_change *ch;
	struct write_args w;

	if (!tool_check_args("apply_changes", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "apply_changes", &w, res) || !array_size_ok(add, "add", res) ||
	    !array_size_ok(del, "delete", res))
		return;
	if (cJSON_GetArraySize(add) + cJSON_GetArraySize(del) == 0) {
		tool_error(res, "both 'add' and 'delete' are empty: nothing to do");
		return;
	}
	if ((ch = store_change_new(zone)) == NULL || add_records(ch, del, "delete", true) < 0 ||
	    add_records(ch, add, "add", false) < 0) {
		store_change_free(ch);
		tool_error(res, "out of memory");
		return;
	}
	commit_and_report(ctx, ch, &w, "applying the change set to", res);
	store_change_free(ch);
}

void tools_write_import_zone(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	const char *text = tool_str(args, "text"), *mode = tool_str(args, "mode");
	struct store_change *ch;
	struct write_args w;
	bool replace;
	size_t len;

	if (!tool_check_args("import_zone", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "import_zone", &w, res))
		return;
	if (mode == NULL || strcmp(mode, "merge") == 0)
		replace = false;
	else if (strcmp(mode, "replace") == 0)
		replace = true;
	else {
		tool_error(res, "mode must be \"replace\" or \"merge\", not '%.40s'", mode);
		return;
	}
	len = strlen(text);
	if (len > IMPORT_TEXT_MAX) {
		tool_error(res, "text is %zu bytes; the limit is %u", len, IMPORT_TEXT_MAX);
		return;
	}
	w.o.max_records = STORE_IMPORT_MAX_RECORDS;
	if ((ch = store_change_new(zone)) == NULL) {
		tool_error(res, "out of memory");
		return;
	}
	if (replace) /* a replace brings its own SOA and NS: it may create the zone */
		store_change_set_create(ch, false, "increment", STORE_DEFAULT_TTL);
	if (store_change_load_text(ch, text, len, replace) < 0) {
		store_change_free(ch);
		tool_error(res, "out of memory");
		return;
	}
	commit_and_report(ctx, ch, &w, replace ? "replacing the content of" : "merging into", res);
	store_change_free(ch);
}

void tools_write_revert_change(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN];
	struct store_change *ch;
	struct write_args w;
	long long id, to;

	if (!tool_check_args("revert_change", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "revert_change", &w, res) ||
	    !tool_int(args, "change_id", 1, 9007199254740991LL, 0, &id, res) ||
	    !tool_int(args, "to_serial", 0, 4294967295LL, -1, &to, res))
		return;
	if ((id > 0) == (to >= 0)) {
		tool_error(res, "give exactly one of 'change_id' (undo that change) or 'to_serial' "
				"(undo everything after that serial)");
		return;
	}
	w.o.max_records = 0; /* the journal decides the size */
	if ((ch = store_change_new(zone)) == NULL) {
		tool_error(res, "out of memory");
		return;
	}
	store_change_set_revert(ch, id, to >= 0 ? (uint32_t)to : 0);
	commit_and_report(ctx, ch, &w, "reverting", res);
	store_change_free(ch);
}

/* ------------------------------------------------------------------ */
/* Zones */

/* "hostmaster@example.com" -> "hostmaster.example.com." (RFC 1035 §8:
 * dots in the local part are escaped). Names pass through. */
static void rname_from(const char *in, char *out, size_t cap)
{
	const char *at = strchr(in, '@');
	size_t o = 0;
	const char *p;

	if (at == NULL) {
		snprintf(out, cap, "%.*s", (int)(cap > 1 ? cap - 1 : 0), in);
		return;
	}
	for (p = in; p < at && o + 3 < cap; p++) {
		if (*p == '.' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o] = '\0';
	snprintf(out + o, cap - o, ".%s%s", at + 1, at[1] && at[strlen(at) - 1] == '.' ? "" : ".");
}

void tools_write_create_zone(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN], label[32], soa[3 * DNAME_TEXT_MAXLEN],
	    rname[DNAME_TEXT_MAXLEN];
	char mname_def[DNAME_TEXT_MAXLEN + 8], rname_def[DNAME_TEXT_MAXLEN + 16];
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(args, "ns");
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(args, "records"), *it;
	const char *policy = tool_str(args, "serial_policy"), *mname = tool_str(args, "mname");
	const char *rn = tool_str(args, "rname"), *first_ns = NULL;
	long long refresh, retry, expire, minimum, dttl;
	struct store_change *ch;
	struct write_args w;
	uint32_t serial;
	int i = 0;

	if (!tool_check_args("create_zone", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "create_zone", &w, res) ||
	    !tool_int(args, "refresh", 0, 2147483647LL, STORE_DEFAULT_REFRESH, &refresh, res) ||
	    !tool_int(args, "retry", 0, 2147483647LL, STORE_DEFAULT_RETRY, &retry, res) ||
	    !tool_int(args, "expire", 0, 2147483647LL, STORE_DEFAULT_EXPIRE, &expire, res) ||
	    !tool_int(args, "minimum", 0, 2147483647LL, STORE_DEFAULT_MINIMUM, &minimum, res) ||
	    !tool_int(args, "default_ttl", 0, 2147483647LL, STORE_DEFAULT_TTL, &dttl, res) ||
	    !array_size_ok(recs, "records", res))
		return;
	if (policy == NULL)
		policy = "increment";
	if (strcmp(policy, "increment") != 0 && strcmp(policy, "date") != 0) {
		tool_error(res, "serial_policy must be \"increment\" or \"date\", not '%.40s'",
			   policy);
		return;
	}
	if (ns != NULL && cJSON_GetArraySize(ns) == 0) {
		tool_error(res, "'ns' is empty: a zone needs at least one NS record");
		return;
	}
	if ((ch = store_change_new(zone)) == NULL) {
		tool_error(res, "out of memory");
		return;
	}
	store_change_set_create(ch, true, policy, (uint32_t)dttl);
	snprintf(mname_def, sizeof(mname_def), "ns1.%s", zone);
	snprintf(rname_def, sizeof(rname_def), "hostmaster.%s", zone);
	cJSON_ArrayForEach(it, ns)
	{
		snprintf(label, sizeof(label), "ns[%d]", i++);
		if (!cJSON_IsString(it)) {
			store_change_error(ch, label, "must be a string (a name server's name)");
			continue;
		}
		if (first_ns == NULL)
			first_ns = it->valuestring;
		if (store_change_add(ch, label, "@", "NS", NULL, it->valuestring) < 0)
			goto nomem;
	}
	if (ns == NULL && store_change_add(ch, "ns[0]", "@", "NS", NULL, mname_def) < 0)
		goto nomem;
	rname_from(rn ? rn : rname_def, rname, sizeof(rname));
	serial = store_next_serial(0, policy, time(NULL));
	snprintf(soa, sizeof(soa), "%s %s %u %lld %lld %lld %lld",
		 mname ? mname : (first_ns ? first_ns : mname_def), rname, serial, refresh, retry,
		 expire, minimum);
	if (store_change_add(ch, "soa", "@", "SOA", NULL, soa) < 0 ||
	    add_records(ch, recs, "records", false) < 0)
		goto nomem;
	commit_and_report(ctx, ch, &w, "creating", res);
	store_change_free(ch);
	return;
nomem:
	store_change_free(ch);
	tool_error(res, "out of memory");
}

void tools_write_delete_zone(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	char zone[DNAME_TEXT_MAXLEN], conf[DNAME_TEXT_MAXLEN], msg[400];
	uint8_t wire[DNAME_MAXLEN];
	const char *confirm = tool_str(args, "confirm");
	struct store_result sr;
	struct write_args w;
	int r;

	if (!tool_check_args("delete_zone", args, res) ||
	    !tool_zone_arg(ctx, args, true, zone, res) ||
	    !write_args(ctx, args, "delete_zone", &w, res))
		return;
	/* A boolean alone never authorizes destruction: the name must be
	 * repeated (mcp-notes §5, untrusted data). */
	if (confirm == NULL || store_zone_canon(confirm, conf, NULL, msg, sizeof(msg)) < 0 ||
	    strcmp(conf, zone) != 0) {
		tool_error(res,
			   "confirm must repeat the zone's name ('%s') to delete it; nothing was "
			   "changed",
			   zone);
		return;
	}
	memset(&sr, 0, sizeof(sr));
	r = store_delete_zone(ctx->db, zone, &w.o, &sr);
	report(ctx, r, &sr, w.dry_run, "deleting", res);
	if (r == 0 && sr.committed && ctx->dnsd_addr &&
	    store_zone_canon(zone, conf, wire, msg, sizeof(msg)) == 0) {
		/* Tell dnsd now rather than at its next convergence check; a
		 * silent dnsd costs at most DELETE_NOTIFY_MS. */
		int n = notify_send_sync_tsig(ctx->dnsd_addr, wire, DELETE_NOTIFY_MS, live_key());
		if (res->structured)
			cJSON_AddBoolToObject(res->structured, "dnsd_notified", n >= 0);
	}
	store_result_clear(&sr);
}
