/*
 * tools_secondary.c: get_zone_transfer, set_zone_transfer, zone_status
 * (tools_secondary.h).
 *
 * The settings live in zone_settings (schema/001_init.sql), several rows
 * per key; dnsd reads them after every reload or NOTIFY (dnsd/xfr.c), so
 * set_zone_transfer commits and then NOTIFYs dnsd for the zone: the serial
 * does not move, but dnsd refreshes its settings on any accepted NOTIFY.
 * Values are validated here with the same grammar dnsd applies, so a row
 * dnsd would ignore (and log) is refused up front with a precise message.
 *
 * zone_status asks: the database (serial), dnsd (SOA over UDP, then TCP
 * if truncated) and every configured secondary (the address part of each
 * 'secondary' row, SOA query), all at once with one timeout (dnsask.h):
 * the handler leaves the questions in its result and zone_status_finish
 * builds the view from the answers, so three silent secondaries cost
 * timeout_ms once and never block mcpd's loop. Secondaries
 * that dnsd knows only from its own config file (no rows) are not visible
 * to mcpd; the result says so.
 */
#include "tools_secondary.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "dname.h"
#include "dnsask.h"
#include "err.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "store.h"
#include "live.h"
#include "tools.h"
#include "tools_int.h"

#define S_ZONE_ARG                                                                                 \
	"\"zone\":{\"type\":\"string\",\"description\":\"The zone's name, e.g. example.com "       \
	"(trailing dot optional, any case).\"}"
#define S_LIST(desc)                                                                               \
	"{\"type\":\"array\",\"maxItems\":64,\"items\":{\"type\":\"string\",\"maxLength\":300},"   \
	"\"description\":\"" desc "\"}"
#define S_SEC_DESC                                                                                 \
	"Where dnsd sends NOTIFY after the serial changes: 'ADDR[:PORT]' or 'ADDR[:PORT] key "     \
	"NAME' (TSIG key from dnsd's tsig-keyfile; port 53 by default), or the single value "      \
	"'none'. [] removes the rows: dnsd's configured defaults apply."
#define S_ALLOW_DESC                                                                               \
	"Who may AXFR/IXFR the zone: 'CIDR' or 'CIDR key NAME' (then only requests signed with "   \
	"that key), or the single value 'none'. [] removes the rows: dnsd's configured default "   \
	"applies (none unless configured)."
#define S_SETTINGS_OUT                                                                             \
	"\"zone\":{\"type\":\"string\"},"                                                          \
	"\"secondaries\":" S_LIST(                                                                 \
	    "The zone's 'secondary' rows.") ","                                                    \
					    "\"allow_transfer\":" S_LIST(                          \
						"The zone's 'allow-transfer' rows.") ","           \
										     "\"secondari" \
										     "es_"         \
										     "default\":{" \
										     "\"type\":"   \
										     "\"boolean\"" \
										     ",\"descript" \
										     "ion\":\"No " \
										     "rows: "      \
										     "dnsd's "     \
										     "'secondary'" \
										     " config "    \
										     "applies.\"}" \
										     ","           \
										     "\"allow_"    \
										     "transfer_"   \
										     "default\":{" \
										     "\"type\":"   \
										     "\"boolean\"" \
										     ",\"descript" \
										     "ion\":\"No " \
										     "rows: "      \
										     "dnsd's "     \
										     "'allow-"     \
										     "transfer' "  \
										     "config "     \
										     "applies.\"}"

const char tools_secondary_in_get[] = "{\"type\":\"object\",\"properties\":{" S_ZONE_ARG
				      "},\"required\":[\"zone\"],\"additionalProperties\":false}";
const char tools_secondary_out_get[] =
    "{\"type\":\"object\",\"properties\":{" S_SETTINGS_OUT "},\"required\":[\"zone\","
    "\"secondaries\",\"allow_transfer\",\"secondaries_default\",\"allow_transfer_default\"]}";
const char tools_secondary_in_set[] =
    "{\"type\":\"object\",\"properties\":{" S_ZONE_ARG ",\"secondaries\":" S_LIST(
	S_SEC_DESC) ",\"allow_transfer\":" S_LIST(S_ALLOW_DESC) "},\"required\":[\"zone\"],"
								"\"additionalProperties\":false}";
const char tools_secondary_out_set[] =
    "{\"type\":\"object\",\"properties\":{" S_SETTINGS_OUT
    ",\"dnsd_notified\":{\"type\":\"boolean\",\"description\":\"dnsd acknowledged the NOTIFY "
    "that makes it re-read the settings.\"},\"dnsd_error\":{\"type\":\"string\"}},"
    "\"required\":[\"zone\",\"secondaries\",\"allow_transfer\",\"dnsd_notified\"]}";
const char tools_secondary_in_status[] =
    "{\"type\":\"object\",\"properties\":{" S_ZONE_ARG
    ",\"timeout_ms\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":3000,\"description\":"
    "\"How long to wait for each secondary (default 700).\"}},\"required\":[\"zone\"],"
    "\"additionalProperties\":false}";
#define S_PEER_OUT                                                                                 \
	"{\"type\":\"object\",\"properties\":{\"address\":{\"type\":\"string\"},"                  \
	"\"serial\":{\"type\":\"integer\"},\"state\":{\"type\":\"string\",\"enum\":[\"current\","  \
	"\"behind\",\"ahead\",\"no_answer\",\"refused\",\"not_authoritative\",\"error\"]},"        \
	"\"rcode\":{\"type\":\"string\"},\"error\":{\"type\":\"string\"}},"                        \
	"\"required\":[\"address\",\"state\"]}"
const char tools_secondary_out_status[] =
    "{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\"},"
    "\"serial\":{\"type\":\"integer\",\"description\":\"Serial in the database.\"},"
    "\"served_serial\":{\"type\":\"integer\",\"description\":\"Serial dnsd answers with.\"},"
    "\"served\":{\"type\":\"string\",\"enum\":[\"current\",\"behind\",\"not_served\","
    "\"unknown\"]},"
    "\"secondaries\":{\"type\":\"array\",\"items\":" S_PEER_OUT "},"
    "\"in_sync\":{\"type\":\"boolean\",\"description\":\"dnsd and every listed secondary "
    "answer the database's serial.\"},"
    "\"note\":{\"type\":\"string\"}},"
    "\"required\":[\"zone\",\"serial\",\"served\",\"secondaries\",\"in_sync\"]}";

static const char *const rcode_names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					  "NXRRSET", "NOTAUTH", "NOTZONE"};

static const char *rcode_name(int rc)
{
	return rc >= 0 && rc < (int)(sizeof(rcode_names) / sizeof(rcode_names[0])) ? rcode_names[rc]
										   : "RCODE?";
}

/* ------------------------------------------------------------------ */
/* Arguments */

/* Refuses properties not in allowed (a typo must not be ignored) and
 * non-object args. */
static bool check_keys(const cJSON *args, const char *const *allowed, struct tool_result *res)
{
	const cJSON *a;

	if (args != NULL && !cJSON_IsObject(args)) {
		tool_error(res, "arguments must be a JSON object");
		return false;
	}
	cJSON_ArrayForEach(a, args)
	{
		bool known = false;

		for (int i = 0; allowed[i]; i++)
			known |= strcmp(a->string, allowed[i]) == 0;
		if (!known) {
			tool_error(res, "unknown argument '%.80s'", a->string);
			return false;
		}
	}
	return true;
}

/* Splits "X key NAME" into X and the key; validates the key name. */
static bool split_key(const char *v, char *head, size_t cap, char *why, size_t whycap)
{
	const char *sp = v + strcspn(v, " \t"), *k;
	size_t n = (size_t)(sp - v);
	uint8_t w[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};

	if (n == 0 || n >= cap) {
		snprintf(why, whycap, "empty or too long");
		return false;
	}
	memcpy(head, v, n);
	head[n] = '\0';
	sp += strspn(sp, " \t");
	if (*sp == '\0')
		return true;
	if (strncmp(sp, "key", 3) != 0 || (sp[3] != ' ' && sp[3] != '\t')) {
		snprintf(why, whycap, "expected '... key NAME' after the address");
		return false;
	}
	k = sp + 3 + strspn(sp + 3, " \t");
	n = strcspn(k, " \t");
	if (n == 0 || k[n + strspn(k + n, " \t")] != '\0' || dname_parse_text(k, n, root, w) < 0) {
		snprintf(why, whycap, "the key name after 'key' is not a domain name");
		return false;
	}
	return true;
}

static bool valid_secondary(const char *v, char *why, size_t cap)
{
	char head[128];
	struct sockaddr_storage ss;
	unsigned len;

	if (!split_key(v, head, sizeof(head), why, cap))
		return false;
	if (conf_parse_addr(head, 53, &ss, &len) != 0) {
		snprintf(why, cap,
			 "'%s' is not ADDR[:PORT] (192.0.2.1, 192.0.2.1:5300, [2001:db8::1]:53)",
			 head);
		return false;
	}
	return true;
}

static bool valid_cidr(const char *v, char *why, size_t cap)
{
	char head[128], host[INET6_ADDRSTRLEN + 1];
	uint8_t addr[16];
	const char *slash;
	int max, prefix;

	if (!split_key(v, head, sizeof(head), why, cap))
		return false;
	slash = strchr(head, '/');
	snprintf(host, sizeof(host), "%.*s", slash ? (int)(slash - head) : (int)strlen(head), head);
	if (inet_pton(AF_INET, host, addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		max = 128;
	else {
		snprintf(why, cap, "'%s' is not an IPv4 or IPv6 address", host);
		return false;
	}
	prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		if (slash[1] < '0' || slash[1] > '9' || *end || p < 0 || p > max) {
			snprintf(why, cap, "'%s': bad prefix length", head);
			return false;
		}
		prefix = (int)p;
	}
	for (int i = prefix; i < max; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8))) {
			snprintf(why, cap, "'%s': host bits set below the /%d prefix", head,
				 prefix);
			return false;
		}
	}
	return true;
}

/* Reads args[key] as a list of values (NULL when absent); false with an
 * error result when malformed. */
static bool read_list(const cJSON *args, const char *key,
		      bool (*valid)(const char *, char *, size_t), const cJSON **out,
		      struct tool_result *res)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(args, key), *v;
	int n = 0;

	*out = NULL;
	if (l == NULL)
		return true;
	if (!cJSON_IsArray(l)) {
		tool_error(res, "'%s' must be an array of strings", key);
		return false;
	}
	cJSON_ArrayForEach(v, l)
	{
		char why[200];

		if (!cJSON_IsString(v) || v->valuestring == NULL) {
			tool_error(res, "'%s' must be an array of strings", key);
			return false;
		}
		if (++n > TOOLS_SECONDARY_MAX) {
			tool_error(res, "'%s': at most %d values", key, TOOLS_SECONDARY_MAX);
			return false;
		}
		if (strcmp(v->valuestring, "none") == 0) {
			if (cJSON_GetArraySize(l) != 1) {
				tool_error(res, "'%s': 'none' must be the only value", key);
				return false;
			}
			continue;
		}
		if (!valid(v->valuestring, why, sizeof(why))) {
			tool_error(res, "'%s' value '%.100s': %s", key, v->valuestring, why);
			return false;
		}
	}
	*out = l;
	return true;
}

/* ------------------------------------------------------------------ */
/* Reading */

static long long zone_id(struct tool_ctx *ctx, const char *zone, uint32_t *serial,
			 struct tool_result *res)
{
	struct store_zone z;
	int r = store_zone_get(ctx->db, zone, &z);

	if (r < 0) {
		tool_error(res,
			   r == ERR_NOTFOUND ? "zone %s does not exist (see list_zones)"
					     : "cannot read zone %s",
			   zone);
		return -1;
	}
	if (serial)
		*serial = z.serial;
	return z.id;
}

/* The values of one key as a JSON array. */
static cJSON *read_values(struct tool_ctx *ctx, long long id, const char *key)
{
	cJSON *a = cJSON_CreateArray();
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(ctx->db,
			       "SELECT value FROM zone_settings WHERE zone_id = ?1 AND key = ?2 "
			       "ORDER BY value",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			if (sqlite3_column_text(st, 0))
				cJSON_AddItemToArray(
				    a,
				    cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
	}
	return a;
}

static cJSON *settings_json(struct tool_ctx *ctx, const char *zone, long long id)
{
	cJSON *o = cJSON_CreateObject(), *sec = read_values(ctx, id, "secondary"),
	      *allow = read_values(ctx, id, "allow-transfer");

	cJSON_AddStringToObject(o, "zone", zone);
	cJSON_AddBoolToObject(o, "secondaries_default", cJSON_GetArraySize(sec) == 0);
	cJSON_AddBoolToObject(o, "allow_transfer_default", cJSON_GetArraySize(allow) == 0);
	cJSON_AddItemToObject(o, "secondaries", sec);
	cJSON_AddItemToObject(o, "allow_transfer", allow);
	return o;
}

static void settings_text(struct tool_result *res, const cJSON *o, const char *prefix)
{
	char *t = NULL;
	size_t len = 0, cap = 0;
	const char *keys[2] = {"secondaries", "allow_transfer"};
	const char *labels[2] = {"secondaries (NOTIFY)", "allow-transfer"};

	tool_append(&t, &len, &cap, "%s%s\n", prefix, cJSON_GetObjectItem(o, "zone")->valuestring);
	for (int k = 0; k < 2; k++) {
		const cJSON *a = cJSON_GetObjectItem(o, keys[k]), *v;

		if (cJSON_GetArraySize(a) == 0) {
			tool_append(&t, &len, &cap, "  %s: dnsd's configured default\n", labels[k]);
			continue;
		}
		tool_append(&t, &len, &cap, "  %s:", labels[k]);
		cJSON_ArrayForEach(v, a) tool_append(&t, &len, &cap, " %s;", v->valuestring);
		tool_append(&t, &len, &cap, "\n");
	}
	free(res->text);
	res->text = t;
}

void tools_secondary_get(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	static const char *const allowed[] = {"zone", NULL};
	char zone[DNAME_TEXT_MAXLEN];
	long long id;

	if (!check_keys(args, allowed, res) || !tool_zone_arg(ctx, args, false, zone, res))
		return;
	id = zone_id(ctx, zone, NULL, res);
	if (id < 0)
		return;
	res->structured = settings_json(ctx, zone, id);
	settings_text(res, res->structured, "Zone transfer settings of ");
}

/* ------------------------------------------------------------------ */
/* Writing */

static int replace_rows(sqlite3 *db, long long id, const char *key, const cJSON *list)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	const cJSON *v;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "DELETE FROM zone_settings WHERE zone_id = ?1 AND key = ?2", -1,
			       &del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO zone_settings(zone_id, key, value) "
			       "VALUES(?1, ?2, ?3)",
			       -1, &ins, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(del, 1, id);
	sqlite3_bind_text(del, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto out;
	cJSON_ArrayForEach(v, list)
	{
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_text(ins, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, v->valuestring, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return rc;
}

void tools_secondary_set(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	static const char *const allowed[] = {"zone", "secondaries", "allow_transfer", NULL};
	char zone[DNAME_TEXT_MAXLEN];
	const cJSON *sec, *allow;
	uint8_t zw[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};
	long long id;
	int rc;

	if (!check_keys(args, allowed, res) || !tool_zone_arg(ctx, args, true, zone, res) ||
	    !read_list(args, "secondaries", valid_secondary, &sec, res) ||
	    !read_list(args, "allow_transfer", valid_cidr, &allow, res))
		return;
	if (sec == NULL && allow == NULL) {
		tool_error(res, "give 'secondaries', 'allow_transfer' or both (get_zone_transfer "
				"shows the current values)");
		return;
	}
	/* IMMEDIATE: this transaction writes (no SQLITE_BUSY upgrade). */
	if (sqlite3_exec(ctx->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		tool_error(res, "the database is busy: %s", sqlite3_errmsg(ctx->db));
		return;
	}
	id = zone_id(ctx, zone, NULL, res);
	if (id < 0) {
		sqlite3_exec(ctx->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	if ((sec && replace_rows(ctx->db, id, "secondary", sec) != 0) ||
	    (allow && replace_rows(ctx->db, id, "allow-transfer", allow) != 0)) {
		tool_error(res, "cannot write zone_settings: %s", sqlite3_errmsg(ctx->db));
		sqlite3_exec(ctx->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	if (sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		tool_error(res, "cannot commit: %s", sqlite3_errmsg(ctx->db));
		sqlite3_exec(ctx->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	res->structured = settings_json(ctx, zone, id);
	/* dnsd re-reads zone_settings after any accepted NOTIFY. */
	rc = ERR_INVALID;
	if (ctx->dnsd_addr && dname_parse_text(zone, strlen(zone), root, zw) > 0)
		rc = notify_send_sync_tsig(ctx->dnsd_addr, zw, 1000, live_key());
	cJSON_AddBoolToObject(res->structured, "dnsd_notified", rc == 0);
	if (rc != 0) {
		char e[120];

		snprintf(e, sizeof(e), "%s", rc > 0 ? rcode_name(rc) : err_str(rc));
		cJSON_AddStringToObject(res->structured, "dnsd_error", e);
	}
	settings_text(res, res->structured,
		      rc == 0 ? "Saved; dnsd applies them now. Zone transfer settings of "
			      : "Saved; dnsd applies them at its next reload or serial check "
				"(it did not acknowledge a NOTIFY). Zone transfer settings of ");
}

/* ------------------------------------------------------------------ */
/* Propagation */

/* The SOA serial answered to question q (asked already); fills
 * state/serial/rcode/error of o. */
static void soa_state(const struct dnsask_q *q, cJSON *o, uint32_t db_serial, bool *in_sync)
{
	uint32_t serial;
	struct msg_header h;

	if (q->rc < 0) {
		cJSON_AddStringToObject(o, "state", q->rc == ERR_TIMEOUT ? "no_answer" : "error");
		cJSON_AddStringToObject(o, "error", err_str(q->rc));
		*in_sync = false;
		return;
	}
	if (msg_parse_header(q->resp, q->resp_len, &h) < 0)
		memset(&h, 0, sizeof(h)); /* cannot happen: the reply matched */
	cJSON_AddStringToObject(o, "rcode", rcode_name(DNS_RCODE(h.flags)));
	if (DNS_RCODE(h.flags) == RCODE_REFUSED || DNS_RCODE(h.flags) == RCODE_NOTAUTH) {
		cJSON_AddStringToObject(o, "state", "refused");
		*in_sync = false;
		return;
	}
	if (!(h.flags & DNS_FLAG_AA) ||
	    notify_reply_soa_serial(q->resp, q->resp_len, q->qname, &serial) < 0) {
		cJSON_AddStringToObject(o, "state", "not_authoritative");
		*in_sync = false;
		return;
	}
	cJSON_AddNumberToObject(o, "serial", serial);
	if (serial == db_serial) {
		cJSON_AddStringToObject(o, "state", "current");
	} else {
		cJSON_AddStringToObject(o, "state",
					notify_serial_gt(serial, db_serial) ? "ahead" : "behind");
		*in_sync = false;
	}
}

int tools_secondary_peer_asks(struct tool_ctx *ctx, const char *zone, int timeout_ms,
			      struct dnsask_q *qs, size_t cap)
{
	uint8_t zw[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	if (dname_parse_text(zone, strlen(zone), root, zw) < 0)
		return ERR_SYNTAX;
	if (cap > TOOLS_SECONDARY_STATUS_MAX)
		cap = TOOLS_SECONDARY_STATUS_MAX;
	if (sqlite3_prepare_v2(
		ctx->db,
		"SELECT s.value FROM zone_settings s JOIN zones z ON z.id = s.zone_id "
		"WHERE z.name = ?1 AND s.key = 'secondary' ORDER BY s.value",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
		while (n < cap && sqlite3_step(st) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			char addr[DNSASK_ADDR_MAX];

			if (v == NULL || strcmp(v, "none") == 0)
				continue;
			snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(v, " \t"), v);
			tool_ask_q(&qs[n++], addr, zw, RRTYPE_SOA, timeout_ms);
		}
		sqlite3_finalize(st);
	}
	return (int)n;
}

cJSON *tools_secondary_propagation_answers(const struct dnsask_q *qs, size_t n, uint32_t db_serial)
{
	cJSON *o = cJSON_CreateObject(), *list = cJSON_CreateArray();
	bool in_sync = true;

	if (o == NULL || list == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(list);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();

		cJSON_AddStringToObject(p, "address", qs[i].addr);
		soa_state(&qs[i], p, db_serial, &in_sync);
		cJSON_AddItemToArray(list, p);
	}
	cJSON_AddItemToObject(o, "secondaries", list);
	cJSON_AddBoolToObject(o, "in_sync", in_sync);
	if (n == 0)
		cJSON_AddStringToObject(
		    o, "note",
		    "no 'secondary' rows for this zone: secondaries from dnsd's "
		    "config file (if any) are not visible to mcpd");
	return o;
}

cJSON *tools_secondary_propagation(struct tool_ctx *ctx, const char *zone, uint32_t db_serial,
				   int timeout_ms)
{
	struct dnsask_q qs[TOOLS_SECONDARY_STATUS_MAX];
	int n = tools_secondary_peer_asks(ctx, zone, timeout_ms, qs, TOOLS_SECONDARY_STATUS_MAX);
	cJSON *o;

	if (n < 0)
		return NULL;
	if (dnsask_run(qs, (size_t)n) < 0)
		for (int i = 0; i < n; i++)
			qs[i].rc = ERR_NOMEM;
	o = tools_secondary_propagation_answers(qs, (size_t)n, db_serial);
	for (int i = 0; i < n; i++)
		dnsask_q_clear(&qs[i]);
	return o;
}

/* What zone_status keeps while its questions are out: question 0 is
 * dnsd, the rest the secondaries. */
struct status_state {
	char zone[DNAME_TEXT_MAXLEN];
	uint32_t serial;
};

static void zone_status_finish(struct tool_result *res, struct dnsask_q *qs, size_t n, void *state)
{
	struct status_state *ss = state;
	cJSON *o = res->structured, *prop, *peers, *p;
	bool in_sync;
	char *t = NULL;
	size_t len = 0, cap = 0;

	res->structured = NULL;
	if (o == NULL || n < 1) {
		cJSON_Delete(o);
		tool_error(res, "out of memory");
		return;
	}
	{
		/* dnsd itself */
		cJSON *d = cJSON_CreateObject();
		const cJSON *st, *sr;
		bool ok_dnsd = true;

		soa_state(&qs[0], d, ss->serial, &ok_dnsd);
		st = cJSON_GetObjectItem(d, "state");
		sr = cJSON_GetObjectItem(d, "serial");
		if (sr)
			cJSON_AddNumberToObject(o, "served_serial", sr->valuedouble);
		cJSON_AddStringToObject(o, "served",
					strcmp(st->valuestring, "current") == 0	 ? "current"
					: strcmp(st->valuestring, "behind") == 0 ? "behind"
					: strcmp(st->valuestring, "refused") == 0 ||
						strcmp(st->valuestring, "not_authoritative") == 0
					    ? "not_served"
					    : "unknown");
		in_sync = ok_dnsd;
		cJSON_Delete(d);
	}
	prop = tools_secondary_propagation_answers(qs + 1, n - 1, ss->serial);
	if (prop == NULL) {
		cJSON_Delete(o);
		tool_error(res, "out of memory");
		return;
	}
	peers = cJSON_DetachItemFromObject(prop, "secondaries");
	cJSON_AddItemToObject(o, "secondaries", peers);
	in_sync = in_sync && cJSON_IsTrue(cJSON_GetObjectItem(prop, "in_sync"));
	cJSON_AddBoolToObject(o, "in_sync", in_sync);
	if (cJSON_GetObjectItem(prop, "note"))
		cJSON_AddStringToObject(o, "note", cJSON_GetObjectItem(prop, "note")->valuestring);
	cJSON_Delete(prop);

	tool_append(&t, &len, &cap, "Zone %s: serial %u in the database; dnsd %s", ss->zone,
		    ss->serial, cJSON_GetObjectItem(o, "served")->valuestring);
	if (cJSON_GetObjectItem(o, "served_serial"))
		tool_append(&t, &len, &cap, " (serial %.0f)",
			    cJSON_GetObjectItem(o, "served_serial")->valuedouble);
	tool_append(&t, &len, &cap, ".\n");
	cJSON_ArrayForEach(p, peers)
	{
		const cJSON *s = cJSON_GetObjectItem(p, "serial");

		tool_append(&t, &len, &cap, "  secondary %s: %s",
			    cJSON_GetObjectItem(p, "address")->valuestring,
			    cJSON_GetObjectItem(p, "state")->valuestring);
		if (s)
			tool_append(&t, &len, &cap, " (serial %.0f)", s->valuedouble);
		tool_append(&t, &len, &cap, "\n");
	}
	if (cJSON_GetObjectItem(o, "note"))
		tool_append(&t, &len, &cap, "  %s\n", cJSON_GetObjectItem(o, "note")->valuestring);
	tool_append(&t, &len, &cap, "%s\n", in_sync ? "Everything is in sync." : "Not in sync.");
	res->structured = o;
	free(res->text);
	res->text = t;
}

void tools_secondary_zone_status(struct tool_ctx *ctx, const cJSON *args, struct tool_result *res)
{
	static const char *const allowed[] = {"zone", "timeout_ms", NULL};
	char zone[DNAME_TEXT_MAXLEN];
	long long timeout = TOOLS_SECONDARY_TIMEOUT_MS;
	uint32_t serial = 0;
	uint8_t zw[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};
	struct status_state *ss;
	struct dnsask_q *qs;
	cJSON *o;
	int n;

	if (!check_keys(args, allowed, res) || !tool_zone_arg(ctx, args, false, zone, res) ||
	    !tool_int(args, "timeout_ms", 100, TOOLS_SECONDARY_TIMEOUT_MAX_MS,
		      TOOLS_SECONDARY_TIMEOUT_MS, &timeout, res))
		return;
	if (zone_id(ctx, zone, &serial, res) < 0)
		return;
	if (dname_parse_text(zone, strlen(zone), root, zw) < 0) {
		tool_error(res, "zone %s is not a valid name", zone);
		return;
	}
	/* dnsd and every secondary are asked at once: one timeout in all */
	qs = calloc(1 + TOOLS_SECONDARY_STATUS_MAX, sizeof(*qs));
	ss = calloc(1, sizeof(*ss));
	o = cJSON_CreateObject();
	if (qs == NULL || ss == NULL || o == NULL) {
		free(qs);
		free(ss);
		cJSON_Delete(o);
		tool_error(res, "out of memory");
		return;
	}
	snprintf(ss->zone, sizeof(ss->zone), "%s", zone);
	ss->serial = serial;
	tool_ask_q(&qs[0], ctx->dnsd_addr ? ctx->dnsd_addr : "127.0.0.1:5353", zw, RRTYPE_SOA,
		   (int)timeout);
	n = tools_secondary_peer_asks(ctx, zone, (int)timeout, qs + 1, TOOLS_SECONDARY_STATUS_MAX);
	cJSON_AddStringToObject(o, "zone", zone);
	cJSON_AddNumberToObject(o, "serial", serial);
	res->structured = o;
	tool_ask(ctx, res, qs, 1 + (size_t)(n > 0 ? n : 0), zone_status_finish, ss, NULL);
}
