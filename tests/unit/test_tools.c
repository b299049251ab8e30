/*
 * test_tools.c: the MCP tool handlers called directly (no HTTP), against a
 * temporary database, plus live.c and notify.c against a small fake dnsd
 * running in a thread on a loopback port (UDP and TCP).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dname.h"
#include "dnsask.h"
#include "err.h"
#include "live.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "store.h"
#include "tap.h"
#include "tools.h"
#include "tools_int.h"

/* ------------------------------------------------------------------ */
/* A fake dnsd: answers NOTIFY, SOA (with a settable serial), A, and TC
 * for names starting with "big" over UDP, the full answer over TCP. */

struct fake {
	int udp, tcp, port;
	atomic_uint serial;	      /* served SOA serial */
	atomic_uint serial_on_notify; /* if non-zero: becomes the serial on NOTIFY */
	atomic_int notifies;
	atomic_int notify_mode; /* 0 answer NOERROR, 1 ignore, 2 REFUSED */
	atomic_int stop;
	atomic_int refuse_soa; /* answer SOA queries REFUSED (zone not served) */
	pthread_t th;
};

static struct fake fk;

static size_t fake_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, bool tcp)
{
	struct msg_query mq;
	struct msg_build b;
	uint8_t rd[600];
	char soa[200];
	int op, n, i;

	if (msg_parse_query(q, qlen, &mq) < 0 || mq.qname_len == 0 || (mq.hdr.flags & DNS_FLAG_QR))
		return 0;
	op = DNS_OPCODE(mq.hdr.flags);
	msg_build_init(&b, out, cap, tcp ? cap : 512);
	if (op == OPCODE_NOTIFY) {
		atomic_fetch_add(&fk.notifies, 1);
		if (atomic_load(&fk.notify_mode) == 1)
			return 0;
		if (atomic_load(&fk.serial_on_notify))
			atomic_store(&fk.serial, atomic_load(&fk.serial_on_notify));
		msg_build_header(&b, mq.hdr.id,
				 DNS_FLAG_QR | DNS_FLAG_AA | (OPCODE_NOTIFY << 11) |
				     (atomic_load(&fk.notify_mode) == 2 ? RCODE_REFUSED : 0));
		msg_build_question(&b, mq.qname, mq.qtype, mq.qclass);
		return msg_build_finish(&b);
	}
	msg_build_header(&b, mq.hdr.id,
			 DNS_FLAG_QR | (atomic_load(&fk.refuse_soa) ? RCODE_REFUSED : DNS_FLAG_AA));
	msg_build_question(&b, mq.qname, mq.qtype, mq.qclass);
	if (atomic_load(&fk.refuse_soa)) {
		/* nothing: REFUSED */
	} else if (mq.qtype == RRTYPE_SOA) {
		snprintf(soa, sizeof(soa), "ns1.example.com. hm.example.com. %u 1 2 3 4",
			 atomic_load(&fk.serial));
		n = rdata_parse_text(RRTYPE_SOA, soa, strlen(soa), NULL, rd, sizeof(rd), NULL);
		msg_build_rr(&b, SEC_ANSWER, mq.qname, RRTYPE_SOA, RRCLASS_IN, 300, rd,
			     (uint16_t)n);
	} else if (mq.qname[0] == 3 && memcmp(mq.qname + 1, "big", 3) == 0) {
		if (!tcp) {
			msg_build_set_flags(&b, DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_TC);
		} else {
			for (i = 0; i < 100; i++) {
				uint8_t a[4] = {192, 0, 2, (uint8_t)i};
				msg_build_rr(&b, SEC_ANSWER, mq.qname, RRTYPE_A, RRCLASS_IN, 60, a,
					     4);
			}
		}
	} else {
		uint8_t a[4] = {192, 0, 2, 1};
		msg_build_rr(&b, SEC_ANSWER, mq.qname, RRTYPE_A, RRCLASS_IN, 300, a, 4);
	}
	return msg_build_finish(&b);
}

static void *fake_main(void *arg)
{
	uint8_t q[4096], out[65535];
	struct pollfd p[2];

	(void)arg;
	p[0].fd = fk.udp;
	p[0].events = POLLIN;
	p[1].fd = fk.tcp;
	p[1].events = POLLIN;
	while (!atomic_load(&fk.stop)) {
		if (poll(p, 2, 20) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(fk.udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			size_t m = n > 0 ? fake_answer(q, (size_t)n, out, sizeof(out), false) : 0;
			if (m)
				sendto(fk.udp, out, m, 0, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents & POLLIN) {
			int c = accept(fk.tcp, NULL, NULL);
			uint8_t pfx[2];
			if (c >= 0 && recv(c, pfx, 2, MSG_WAITALL) == 2) {
				size_t len = (size_t)(pfx[0] << 8 | pfx[1]), m;
				if (len <= sizeof(q) &&
				    recv(c, q, len, MSG_WAITALL) == (ssize_t)len &&
				    (m = fake_answer(q, len, out + 2, sizeof(out) - 2, true)) > 0) {
					out[0] = (uint8_t)(m >> 8);
					out[1] = (uint8_t)m;
					if (send(c, out, m + 2, 0) < 0)
						perror("fake send");
				}
			}
			if (c >= 0)
				close(c);
		}
	}
	return NULL;
}

static int fake_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fk.udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(fk.udp, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fk.udp, (struct sockaddr *)&a, &al) < 0)
		return -1;
	fk.port = ntohs(a.sin_port);
	fk.tcp = socket(AF_INET, SOCK_STREAM, 0);
	{
		int one = 1;
		setsockopt(fk.tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fk.tcp, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fk.tcp, 8) < 0)
		return -1;
	return pthread_create(&fk.th, NULL, fake_main, NULL);
}

/* ------------------------------------------------------------------ */

static sqlite3 *db;
static struct tool_ctx ctx;
static struct tool_result R;
static char addr[64];

static long long mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int call(const char *tool, const char *json)
{
	const struct tool_def *d = tool_find(tool);
	cJSON *a = json ? cJSON_Parse(json) : NULL;

	tool_result_clear(&R);
	if (d == NULL || (json && a == NULL)) {
		printf("# bad test call %s %s\n", tool, json ? json : "");
		return -2;
	}
	d->handler(&ctx, a, &R);
	cJSON_Delete(a);
	if (R.is_error)
		printf("# %s -> error: %s\n", tool, R.text ? R.text : "");
	return R.is_error ? -1 : 0;
}

static const cJSON *J(const char *path)
{
	const cJSON *o = R.structured;
	char buf[200], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (tok[0] >= '0' && tok[0] <= '9')
			o = cJSON_GetArrayItem(o, atoi(tok));
		else
			o = cJSON_GetObjectItemCaseSensitive(o, tok);
	}
	return o;
}

static double jnum(const char *path)
{
	const cJSON *v = J(path);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *jstr(const char *path)
{
	const cJSON *v = J(path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool text_has(const char *s)
{
	bool f = R.text && strstr(R.text, s);

	if (!f)
		printf("# text: %s\n# wanted: %s\n", R.text ? R.text : "(null)", s);
	return f;
}

/* Every object schema has properties; every array has items. */
static bool schema_ok(const cJSON *s, const char *where)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type"), *c;

	if (cJSON_IsString(t) && strcmp(t->valuestring, "object") == 0 &&
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s, "properties"))) {
		printf("# %s: object without properties\n", where);
		return false;
	}
	if (cJSON_IsString(t) && strcmp(t->valuestring, "array") == 0 &&
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s, "items"))) {
		printf("# %s: array without items\n", where);
		return false;
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(
				  s, "properties")) if (!schema_ok(c, where)) return false;
	c = cJSON_GetObjectItemCaseSensitive(s, "items");
	if (c && !schema_ok(c, where))
		return false;
	return true;
}

static void test_table(void)
{
	size_t i, j;
	int bad = 0, writes = 0;

	ok(tool_defs_count == 19, "19 tools");
	for (i = 0; i < tool_defs_count; i++) {
		const struct tool_def *d = &tool_defs[i];
		cJSON *in = cJSON_Parse(d->input_schema), *out = cJSON_Parse(d->output_schema);
		const cJSON *t1 = cJSON_GetObjectItem(in, "type"),
			    *t2 = cJSON_GetObjectItem(out, "type");

		if (!in || !out || !cJSON_IsString(t1) || strcmp(t1->valuestring, "object") ||
		    !cJSON_IsString(t2) || strcmp(t2->valuestring, "object") ||
		    !schema_ok(in, d->name) || !schema_ok(out, d->name) ||
		    cJSON_GetObjectItem(in, "anyOf")) {
			printf("# schema of %s\n", d->name);
			bad++;
		}
		for (j = 0; j < i; j++)
			if (strcmp(tool_defs[j].name, d->name) == 0)
				bad++;
		/* Only zone_status reaches outside (it asks the secondaries). */
		if (d->read_only &&
		    (d->destructive || (d->open_world && strcmp(d->name, "zone_status") != 0)))
			bad++;
		/* Every zone-data write is journaled and takes dry_run,
		 * expected_serial and reason; set_zone_transfer changes settings
		 * (zone_settings), which carry no serial and no journal. */
		if (!d->read_only && strcmp(d->name, "set_zone_transfer") != 0) {
			const cJSON *p = cJSON_GetObjectItem(out, "properties");
			writes++;
			if (!cJSON_GetObjectItem(p, "live") ||
			    !cJSON_GetObjectItem(p, "live_error") ||
			    !cJSON_GetObjectItem(cJSON_GetObjectItem(in, "properties"),
						 "dry_run") ||
			    !cJSON_GetObjectItem(cJSON_GetObjectItem(in, "properties"),
						 "expected_serial") ||
			    !cJSON_GetObjectItem(cJSON_GetObjectItem(in, "properties"), "reason"))
				bad++;
		}
		if (tool_find(d->name) != d)
			bad++;
		cJSON_Delete(in);
		cJSON_Delete(out);
	}
	is_int(bad, 0, "schemas: objects with properties, arrays with items, hints consistent");
	is_int(writes, 8,
	       "8 zone-data write tools, each with dry_run/expected_serial/reason and live");
	ok(tool_find("delete_zone")->destructive && !tool_find("add_records")->destructive,
	   "delete_zone destructive, add_records not");
	ok(tool_find("dns_lookup")->read_only && !tool_find("dns_lookup")->open_world,
	   "dns_lookup: read-only, closed world (only our dnsd)");
	ok(tool_find("nope") == NULL && tool_find(NULL) == NULL, "unknown tool");

	ok(tool_zone_allowed("*", "example.com."), "glob *");
	ok(tool_zone_allowed("example.com", "example.com."), "glob without trailing dot");
	ok(tool_zone_allowed("a.org., Example.COM.", "example.com."), "list, spaces, case");
	ok(tool_zone_allowed("*.example.org.", "x.example.org."), "*.example.org.");
	ok(!tool_zone_allowed("*.example.org.", "example.org."), "*.example.org. not the parent");
	ok(!tool_zone_allowed("example.com.", "badexample.com."), "no suffix match");
	ok(!tool_zone_allowed("", "example.com."), "empty list");
	{
		char *md = tool_markdown();
		ok(md && strstr(md, "## `revert_change`") && strstr(md, "`records[].data`"),
		   "markdown reference lists tools and nested fields");
		free(md);
	}
}

static void test_writes(void)
{
	long long serial;

	/* create_zone with defaults */
	is_int(call("create_zone", "{\"zone\":\"Example.com\",\"reason\":\"new\"}"), 0,
	       "create_zone");
	ok(strncmp(R.text, TOOL_DATA_NOTICE, strlen(TOOL_DATA_NOTICE)) == 0,
	   "result text starts with the data notice");
	is_str(jstr("zone"), "example.com.", "canonical zone");
	ok(J("created") && jnum("serial") == 1 && jnum("serial_before") == 0, "serial 1");
	ok(R.wait_live && strcmp(R.zone, "example.com.") == 0 && R.serial == 1,
	   "asks the transport to wait for serial 1");
	is_int(call("list_records", "{\"zone\":\"example.com\",\"type\":\"SOA\"}"), 0, "SOA");
	is_str(jstr("records.0.data"),
	       "ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
	       "default SOA: ns1.<zone>, hostmaster.<zone>");
	is_int(call("create_zone", "{\"zone\":\"example.com\"}"), -1, "create twice");
	ok(text_has("already exists"), "says so");
	is_int(call("create_zone", "{\"zone\":\"d.test\",\"serial_policy\":\"date\",\"ns\":"
				   "[\"a.ns.net.\",\"b.ns.net.\"],\"rname\":\"j.doe@d.test\","
				   "\"minimum\":60,\"records\":[{\"name\":\"www\",\"type\":\"A\","
				   "\"data\":\"192.0.2.9\"}]}"),
	       0, "create_zone with options");
	ok(jnum("serial") > 2020000000, "date serial");
	is_int(call("list_records", "{\"zone\":\"d.test\",\"type\":\"SOA\"}"), 0, "SOA d.test");
	ok(strncmp(jstr("records.0.data"), "a.ns.net. j\\.doe.d.test. ", 25) == 0,
	   "mname = first NS, rname from an address");

	/* add_records */
	is_int(
	    call(
		"add_records",
		"{\"zone\":\"example.com.\",\"records\":[{\"name\":\"www\",\"type\":\"A\","
		"\"ttl\":300,\"data\":\"192.0.2.1\"},{\"name\":\"@\",\"type\":\"MX\","
		"\"data\":\"10 mail\"},{\"name\":\"mail\",\"type\":\"A\",\"data\":\"192.0.2.25\"}],"
		"\"reason\":\"web and mail\"}"),
	    0, "add_records");
	is_int(jnum("serial"), 2, "serial 2");
	is_int(jnum("serial_before"), 1, "serial_before 1");
	is_int(jnum("changes.added_count"), 4, "3 records + SOA added");
	is_int(jnum("changes.removed_count"), 1, "old SOA removed");
	ok(J("dry_run") && cJSON_IsFalse(J("dry_run")), "dry_run false");
	ok(text_has("+ www.example.com. 300 IN A 192.0.2.1"), "diff in the text");
	serial = (long long)jnum("serial");

	/* validation and argument errors */
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"mail\","
				   "\"type\":\"MX\",\"data\":\"x mail\"}]}"),
	       -1, "bad MX");
	ok(text_has("records[0] (MX 'mail'): MX preference"), "error names the record");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"a\","
				   "\"type\":\"A\",\"value\":\"1.2.3.4\"}]}"),
	       -1, "unknown record field");
	ok(text_has("unknown field 'value'"), "names the field");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[],\"dryrun\":true}"), -1,
	       "unknown argument");
	ok(text_has("unknown argument 'dryrun'"), "a typo never becomes a real write");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":\"www A 1.2.3.4\"}"), -1,
	       "records of the wrong type");
	ok(text_has("must be an array"), "says which type");
	is_int(call("add_records", "{\"zone\":\"example.com\"}"), -1, "missing records");
	ok(text_has("'records' is required"), "says it is required");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"a\","
				   "\"type\":\"A\",\"ttl\":1.5,\"data\":\"192.0.2.1\"}]}"),
	       -1, "fractional ttl");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"a\","
				   "\"type\":\"A\",\"ttl\":2147483648,\"data\":\"192.0.2.1\"}]}"),
	       -1, "ttl 2^31");
	ok(text_has("out of range"), "range");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"a\","
				   "\"type\":\"A\",\"ttl\":2147483647,\"data\":\"192.0.2.1\"}],"
				   "\"dry_run\":true}"),
	       0, "ttl 2^31-1 (dry run)");
	/* beyond long long (and infinity): an error, not an undefined cast */
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"a\","
				   "\"type\":\"A\",\"ttl\":1e20,\"data\":\"192.0.2.1\"}]}"),
	       -1, "ttl 1e20");
	ok(text_has("whole number of seconds"), "... says what a ttl must be");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"a\","
				   "\"type\":\"A\",\"ttl\":1e999,\"data\":\"192.0.2.1\"}]}"),
	       -1, "ttl 1e999 (parses as infinity)");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"expected_serial\":-1,"
				   "\"records\":[]}"),
	       -1, "negative expected_serial");
	is_int(call("get_zone", "[1,2]"), -1, "arguments not an object");

	/* dry run and conflicts */
	is_int(call("add_records",
		    "{\"zone\":\"example.com\",\"dry_run\":true,\"records\":[{\"name\":"
		    "\"new\",\"type\":\"AAAA\",\"data\":\"2001:db8::1\"}]}"),
	       0, "dry run");
	ok(cJSON_IsTrue(J("dry_run")) && jnum("serial") == serial + 1 && !R.wait_live,
	   "dry run: serial it would produce, no wait");
	ok(text_has("Dry run, nothing written"), "dry run says so");
	is_int(call("list_records", "{\"zone\":\"example.com\",\"name\":\"new\"}"), 0, "look");
	is_int(cJSON_GetArraySize(J("records")), 0, "dry run wrote nothing");
	is_int(call("add_records", "{\"zone\":\"example.com\",\"expected_serial\":1,\"records\":"
				   "[{\"name\":\"x\",\"type\":\"A\",\"data\":\"192.0.2.1\"}]}"),
	       -1, "stale expected_serial");
	ok(text_has("not 1 (expected_serial)"), "conflict explained");

	/* set_rrset */
	is_int(call("set_rrset", "{\"zone\":\"example.com\",\"name\":\"www\",\"type\":\"A\","
				 "\"data\":[\"192.0.2.2\",\"192.0.2.3\"]}"),
	       0, "set_rrset");
	is_int(jnum("changes.added_count"), 3, "two A + SOA");
	is_int(call("list_records", "{\"zone\":\"example.com\",\"name\":\"www.example.com.\"}"), 0,
	       "www");
	ok(cJSON_GetArraySize(J("records")) == 2 && jnum("records.0.ttl") == 300,
	   "RRset replaced, TTL kept");
	is_int(call("set_rrset", "{\"zone\":\"example.com\",\"name\":\"www\",\"type\":\"A\","
				 "\"ttl\":60,\"data\":[\"192.0.2.2\",\"192.0.2.2\"]}"),
	       -1, "set_rrset with a duplicate");
	ok(text_has("data[1] (A 'www'): duplicates data[0]"), "duplicate named");

	/* apply_changes: atomic */
	is_int(call("apply_changes",
		    "{\"zone\":\"example.com\",\"delete\":[{\"name\":\"www\",\"type\":\"A\","
		    "\"data\":\"192.0.2.3\"}],\"add\":[{\"name\":\"www\",\"type\":\"CNAME\","
		    "\"data\":\"web.example.net.\"}]}"),
	       -1, "CNAME beside the remaining A");
	ok(text_has("a CNAME cannot coexist"), "CNAME rule");
	is_int(call("list_records", "{\"zone\":\"example.com\",\"name\":\"www\"}"), 0, "www");
	is_int(cJSON_GetArraySize(J("records")), 2, "nothing of the batch applied");
	is_int(
	    call("apply_changes",
		 "{\"zone\":\"example.com\",\"delete\":[{\"name\":\"www\",\"type\":\"A\"}],"
		 "\"add\":[{\"name\":\"www\",\"type\":\"CNAME\",\"data\":\"web.example.net.\"}]}"),
	    0, "delete the RRset and add a CNAME in one change");

	/* delete_records */
	is_int(call("delete_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"mail\","
				      "\"type\":\"A\",\"data\":\"192.0.2.99\"}]}"),
	       -1, "delete a record that is not there");
	ok(text_has("no such record"), "says so");
	is_int(call("delete_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"@\","
				      "\"type\":\"NS\"}]}"),
	       -1, "delete every apex NS");
	ok(text_has("at least one NS"), "apex rule");

	/* permissions */
	ctx.can_write = false;
	is_int(call("add_records", "{\"zone\":\"example.com\",\"records\":[{\"name\":\"r\","
				   "\"type\":\"A\",\"data\":\"192.0.2.1\"}]}"),
	       -1, "read token on a write tool");
	ok(text_has("read-only"), "says read-only");
	ctx.can_write = true;
	ctx.zone_globs = "*.org";
	is_int(call("get_zone", "{\"zone\":\"example.com\"}"), -1,
	       "zone outside the token's globs");
	ok(text_has("may not access zone example.com."), "says so");
	is_int(call("list_zones", "{}"), 0, "list_zones filtered");
	is_int(cJSON_GetArraySize(J("zones")), 0, "no zones visible");
	ctx.zone_globs = "*";
}

static void test_reads(void)
{
	char cur[1200];
	int pages = 0, total = 0;

	is_int(call("list_zones", NULL), 0, "list_zones without arguments");
	is_int(cJSON_GetArraySize(J("zones")), 2, "two zones");
	is_str(jstr("zones.1.zone"), "example.com.", "sorted");
	is_int(call("list_zones", "{\"limit\":1}"), 0, "page 1");
	snprintf(cur, sizeof(cur), "{\"limit\":1,\"cursor\":\"%s\"}", jstr("next_cursor"));
	is_int(call("list_zones", cur), 0, "page 2");
	ok(cJSON_GetArraySize(J("zones")) == 1 && !J("next_cursor"), "last page");
	is_int(call("list_zones", "{\"cursor\":\"zz\"}"), -1, "bad cursor");

	/* paging through records */
	snprintf(cur, sizeof(cur), "{\"zone\":\"example.com\",\"limit\":2}");
	for (;;) {
		if (call("list_records", cur) != 0)
			break;
		pages++;
		total += cJSON_GetArraySize(J("records"));
		if (!J("next_cursor"))
			break;
		snprintf(cur, sizeof(cur),
			 "{\"zone\":\"example.com\",\"limit\":2,\"cursor\":\"%s\"}",
			 jstr("next_cursor"));
		if (pages > 50)
			break;
	}
	is_int(call("get_zone", "{\"zone\":\"example.com\"}"), 0, "get_zone");
	is_int(total, (int)jnum("records"), "paging returns every record once");
	ok(pages >= 3, "over several pages");
	is_int(jnum("counts.NS"), 1, "counts per type");
	is_int(jnum("soa.serial"), jnum("serial"), "SOA serial = zone serial");
	is_str(jstr("soa.mname"), "ns1.example.com.", "SOA fields");

	atomic_store(&fk.serial, (unsigned)jnum("serial"));
	is_int(call("get_zone", "{\"zone\":\"example.com\"}"), 0, "get_zone asks dnsd");
	is_str(jstr("served"), "current", "served serial current");
	atomic_store(&fk.serial, 1);
	is_int(call("get_zone", "{\"zone\":\"example.com\"}"), 0, "get_zone, dnsd behind");
	ok(strcmp(jstr("served"), "behind") == 0 && jnum("served_serial") == 1, "behind");

	is_int(call("export_zone", "{\"zone\":\"EXAMPLE.com.\"}"), 0, "export_zone");
	ok(strstr(jstr("text"), "example.com. 3600 IN SOA ns1.example.com.") != NULL,
	   "RFC 1035 text, SOA first");
	ok(text_has("www.example.com. 3600 IN CNAME web.example.net."), "text carries the zone");

	is_int(call("list_changes", "{\"zone\":\"example.com\",\"limit\":2}"), 0, "list_changes");
	is_int(cJSON_GetArraySize(J("changes")), 2, "a page of 2");
	ok(J("next_cursor") != NULL, "more pages");
	is_str(jstr("changes.0.tool"), "apply_changes", "newest first");
	is_int(call("list_changes", "{\"zone\":\"example.com\",\"limit\":50}"), 0, "all changes");
	{
		int n = cJSON_GetArraySize(J("changes"));
		char p[64];
		snprintf(p, sizeof(p), "changes.%d.tool", n - 2);
		is_str(jstr(p), "add_records", "the add_records change");
		snprintf(p, sizeof(p), "changes.%d.reason", n - 2);
		is_str(jstr(p), "web and mail", "its reason");
		snprintf(p, sizeof(p), "changes.%d.actor", n - 2);
		is_str(jstr(p), "tester", "its actor");
		snprintf(p, sizeof(p), "changes.%d.serial_before", n - 1);
		ok(J(p) == NULL, "the creation has no serial_before");
	}

	/* dns_lookup through the fake dnsd */
	is_int(call("dns_lookup", "{\"name\":\"www.example.com\"}"), 0, "dns_lookup");
	is_str(jstr("rcode"), "NOERROR", "rcode");
	is_str(jstr("answer.0"), "www.example.com. 300 IN A 192.0.2.1", "answer as a text line");
	ok(cJSON_IsFalse(J("tcp")), "over UDP");
	is_int(call("dns_lookup", "{\"name\":\"big.example.com.\",\"type\":\"a\"}"), 0, "big");
	ok(cJSON_IsTrue(J("tcp")) && cJSON_GetArraySize(J("answer")) == 100,
	   "TC answer retried over TCP (RFC 7766)");
	is_int(call("dns_lookup", "{\"name\":\"x..y\"}"), -1, "bad name");
	is_int(call("dns_lookup", "{\"name\":\"x.test\",\"type\":\"AXFR\"}"), -1, "AXFR refused");

	/* Under defer_dns (mcp.c with an event loop) the handlers leave their
	 * questions in the result; completing it gives the same result. */
	ctx.defer_dns = true;
	is_int(call("dns_lookup", "{\"name\":\"www.example.com\"}"), 0, "deferred dns_lookup");
	ok(R.finish != NULL && R.n_asks == 1 && R.structured == NULL,
	   "dns_lookup: one question left, no result yet");
	ok(R.n_asks == 1 && strcmp(R.asks[0].addr, addr) == 0 && R.asks[0].qtype == RRTYPE_A &&
	       R.asks[0].timeout_ms == TOOL_LOOKUP_TIMEOUT_MS,
	   "... to dnsd, type A, within 1.5 s");
	tool_result_complete(&R);
	ok(R.finish == NULL && R.asks == NULL && !R.is_error, "completed");
	is_str(jstr("answer.0"), "www.example.com. 300 IN A 192.0.2.1", "the same answer");
	ok(J("time_ms") != NULL && jnum("time_ms") < TOOL_LOOKUP_TIMEOUT_MS, "time_ms measured");

	sqlite3_exec(db,
		     "INSERT INTO zone_settings(zone_id, key, value) SELECT id, 'secondary', "
		     "'127.0.0.1:1 key k.' FROM zones WHERE name = 'example.com.';"
		     "INSERT INTO zone_settings(zone_id, key, value) SELECT id, 'secondary', "
		     "'192.0.2.300' FROM zones WHERE name = 'example.com.';",
		     NULL, NULL, NULL);
	atomic_store(&fk.serial, 1);
	is_int(call("get_zone", "{\"zone\":\"example.com\"}"), 0, "deferred get_zone");
	ok(R.finish != NULL && R.n_asks == 3 && R.asks[0].timeout_ms == TOOL_SERVED_TIMEOUT_MS &&
	       R.asks[2].timeout_ms == TOOL_SERVED_TIMEOUT_MS,
	   "get_zone: dnsd and both secondaries, 300 ms each");
	ok(R.n_asks == 3 && strcmp(R.asks[1].addr, "127.0.0.1:1") == 0 &&
	       strcmp(R.asks[2].addr, "192.0.2.300") == 0,
	   "the secondaries' addresses without their key");
	ok(J("serial") != NULL && J("served") == NULL,
	   "the database part is there, served not yet");
	tool_result_complete(&R);
	ok(strcmp(jstr("served"), "behind") == 0 && jnum("served_serial") == 1,
	   "completed: dnsd behind");
	is_str(jstr("propagation.secondaries.1.state"), "error", "a bad address: error");
	is_str(jstr("propagation.secondaries.0.address"), "127.0.0.1:1", "in row order");
	ok(strstr(R.text, "dnsd serves serial 1 (behind)") != NULL, "the text: %s", R.text);

	is_int(call("zone_status", "{\"zone\":\"example.com\",\"timeout_ms\":100}"), 0,
	       "deferred zone_status");
	ok(R.n_asks == 3 && R.asks[0].timeout_ms == 100 && strcmp(R.asks[0].addr, addr) == 0,
	   "zone_status: dnsd first, then the secondaries, one timeout");
	tool_result_clear(&R); /* never asked: freed all the same (ASan) */
	ok(R.finish == NULL && R.asks == NULL, "an unasked result clears");
	ctx.defer_dns = false;
	{
		long long t0 = mono_now();
		is_int(call("zone_status", "{\"zone\":\"example.com\",\"timeout_ms\":300}"), 0,
		       "zone_status, asked at once");
		ok(mono_now() - t0 < 800, "dnsd and 2 secondaries in parallel: %lld ms, not 900",
		   mono_now() - t0);
		is_str(jstr("served"), "behind", "dnsd behind");
		is_str(jstr("secondaries.0.state"), "no_answer", "a silent secondary: no_answer");
	}
	sqlite3_exec(db,
		     "DELETE FROM zone_settings WHERE zone_id = (SELECT id FROM zones WHERE name = "
		     "'example.com.')",
		     NULL, NULL, NULL);
}

static void test_lint(void)
{
	is_int(call("create_zone", "{\"zone\":\"lint.test\",\"ns\":[\"ns1\",\"ns2.lint.test.\"],"
				   "\"records\":[{\"name\":\"ns1\",\"type\":\"A\",\"data\":"
				   "\"192.0.2.1\"}]}"),
	       0, "lint.test");
	is_int(call("add_records",
		    "{\"zone\":\"lint.test\",\"records\":["
		    "{\"name\":\"alias\",\"type\":\"CNAME\",\"data\":\"ns1\"},"
		    "{\"name\":\"@\",\"type\":\"MX\",\"data\":\"10 alias\"},"
		    "{\"name\":\"@\",\"type\":\"MX\",\"data\":\"20 nowhere\"},"
		    "{\"name\":\"sub\",\"type\":\"NS\",\"data\":\"ns.sub\"},"
		    "{\"name\":\"x.sub\",\"type\":\"TXT\",\"data\":\"hidden\"},"
		    "{\"name\":\"fast\",\"type\":\"A\",\"ttl\":5,\"data\":\"192.0.2.5\"},"
		    "{\"name\":\"@\",\"type\":\"TXT\",\"data\":\"\\\"v=spf1 include:a.example "
		    "include:b.example include:c.example include:d.example include:e.example "
		    "include:f.example include:g.example include:h.example include:i.example a mx "
		    "-all\\\"\"},"
		    "{\"name\":\"_dmarc\",\"type\":\"TXT\",\"data\":\"\\\"v=DMARC1; p=none\\\"\"},"
		    "{\"name\":\"s1._domainkey\",\"type\":\"TXT\",\"data\":\"\\\"v=DKIM1; k=rsa; "
		    "p=MIGfMA0GCSqGSIb3DQEB\\\"\"}]}"),
	       0, "lint fixtures");
	is_int(call("check_zone", "{\"zone\":\"lint.test\"}"), 0, "check_zone");
	ok(cJSON_IsFalse(J("ok")), "not ok");
	ok(text_has("target_is_cname") && text_has("alias.lint.test."), "MX target is a CNAME");
	ok(text_has("target_missing") && text_has("nowhere.lint.test."), "MX target missing");
	ok(text_has("missing_glue") && text_has("ns.sub.lint.test."), "missing glue");
	ok(text_has("ns2.lint.test. is inside the zone but has no A"), "apex NS target missing");
	ok(text_has("occluded") && text_has("x.sub.lint.test."), "data below a cut");
	ok(text_has("ttl_low"), "odd TTL");
	is_int(call("email_auth_audit", "{\"zone\":\"lint.test\"}"), 0, "email_auth_audit");
	is_int(jnum("spf_lookups"), 11, "11 lookups counted");
	ok(cJSON_IsFalse(J("spf.ok")) && text_has("more than 10"), "over the SPF lookup limit");
	ok(cJSON_IsTrue(J("dmarc.present")) && text_has("p=none only monitors"), "DMARC p=none");
	is_str(jstr("dmarc_policy"), "none", "policy reported");
	ok(text_has("no rua="), "no rua");
	is_str(jstr("dkim_selectors.0"), "s1", "DKIM selector found");
	ok(cJSON_IsTrue(J("dkim.ok")), "DKIM key fine");
	ok(cJSON_IsFalse(J("mta_sts.present")) && cJSON_IsFalse(J("tls_rpt.present")),
	   "MTA-STS / TLS-RPT absent");
	is_int(call("add_records", "{\"zone\":\"lint.test\",\"records\":[{\"name\":\"@\",\"type\":"
				   "\"TXT\",\"data\":\"\\\"v=spf1 +all\\\"\"}]}"),
	       0, "second SPF");
	is_int(call("email_auth_audit", "{\"zone\":\"lint.test\"}"), 0, "audit again");
	ok(text_has("2 SPF records"), "two SPF records is an error");
}

static void test_import_revert_delete(void)
{
	char args[600];
	long long id;

	is_int(call("import_zone",
		    "{\"zone\":\"imp.test\",\"mode\":\"replace\",\"text\":"
		    "\"@ 600 IN SOA ns hm 5 1 2 3 4\\n@ NS ns\\nns A 192.0.2.1\\n\"}"),
	       0, "import_zone replace creates");
	ok(J("created") && jnum("serial") == 5, "serial from the text");
	is_int(call("import_zone", "{\"zone\":\"imp.test\",\"text\":\"www 60 IN A 192.0.2.7\\n\","
				   "\"dry_run\":true}"),
	       0, "merge dry run");
	ok(jnum("changes.added_count") == 2 && cJSON_IsTrue(J("dry_run")), "diff of a merge");
	is_int(call("import_zone",
		    "{\"zone\":\"imp.test\",\"mode\":\"merge\",\"text\":\"www 60 IN A "
		    "192.0.2.7\\n\"}"),
	       0, "merge");
	id = (long long)jnum("change_id");
	is_int(call("import_zone", "{\"zone\":\"imp.test\",\"mode\":\"replace\",\"text\":\"www IN "
				   "A 192.0.2.7\\n\"}"),
	       -1, "replace without SOA/NS");
	ok(text_has("SOA"), "says the SOA is missing");
	is_int(call("import_zone", "{\"zone\":\"imp.test\",\"text\":\"$INCLUDE /etc/passwd\\n\"}"),
	       -1, "$INCLUDE refused");
	is_int(call("import_zone", "{\"zone\":\"imp.test\",\"mode\":\"swap\",\"text\":\"\"}"), -1,
	       "bad mode");

	snprintf(args, sizeof(args), "{\"zone\":\"imp.test\",\"change_id\":%lld}", id);
	is_int(call("revert_change", args), 0, "revert_change by id");
	is_int(call("list_records", "{\"zone\":\"imp.test\",\"name\":\"www\"}"), 0, "look");
	is_int(cJSON_GetArraySize(J("records")), 0, "reverted");
	is_int(call("revert_change", "{\"zone\":\"imp.test\",\"to_serial\":5}"), 0,
	       "revert to serial 5 (no net change in records, serial moves on)");
	is_int(call("revert_change", "{\"zone\":\"imp.test\"}"), -1, "neither id nor serial");
	is_int(call("revert_change", "{\"zone\":\"imp.test\",\"change_id\":1,\"to_serial\":5}"), -1,
	       "both");

	is_int(call("delete_zone", "{\"zone\":\"imp.test\",\"confirm\":\"imp.tes\"}"), -1,
	       "delete_zone with a wrong confirmation");
	ok(text_has("confirm must repeat"), "says so");
	is_int(call("delete_zone", "{\"zone\":\"imp.test\",\"confirm\":\"IMP.test.\",\"dry_run\":"
				   "true}"),
	       0, "delete_zone dry run");
	is_int(call("get_zone", "{\"zone\":\"imp.test\"}"), 0, "still there");
	is_int(call("delete_zone", "{\"zone\":\"imp.test\",\"confirm\":\"imp.test\"}"), 0,
	       "delete_zone");
	ok(J("deleted") && !R.wait_live, "deleted, nothing to wait for");
	ok(cJSON_IsTrue(J("dnsd_notified")), "dnsd told at once");
	is_int(call("get_zone", "{\"zone\":\"imp.test\"}"), -1, "gone");
	is_int(call("list_changes", "{\"zone\":\"imp.test\"}"), 0, "history survives");
	ok(J("changes.0.serial_after") == NULL && jnum("changes.0.removed_count") == 3,
	   "the deletion with its 3 records");
}

/* ------------------------------------------------------------------ */
/* live.c */

struct live_state {
	int calls;
	bool live;
	char why[512];
};

static void live_cb(void *arg, bool live, const char *why)
{
	struct live_state *s = arg;

	s->calls++;
	s->live = live;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static long long mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_live(const char *a, uint32_t serial, int timeout, struct live_state *s,
		     long long *ms)
{
	struct event_base *base = event_base_new();
	long long t0 = mono();
	int r;

	memset(s, 0, sizeof(*s));
	r = live_confirm(base, a, "example.com.", serial, timeout, live_cb, s);
	if (r != 0)
		printf("# live_confirm: %d\n", r);
	ok(s->calls == 0, "callback never runs inside live_confirm");
	event_base_dispatch(base);
	*ms = mono() - t0;
	event_base_free(base);
}

static void test_live(void)
{
	struct live_state s;
	long long ms;
	int n0;

	atomic_store(&fk.notify_mode, 0);
	atomic_store(&fk.serial, 50);
	atomic_store(&fk.serial_on_notify, 0);
	n0 = atomic_load(&fk.notifies);
	run_live(addr, 50, 2000, &s, &ms);
	ok(s.calls == 1 && s.live, "live when dnsd already serves the serial");
	ok(atomic_load(&fk.notifies) > n0, "a NOTIFY was sent");
	ok(ms < 1000, "quickly (%lld ms)", ms);

	atomic_store(&fk.serial, 50);
	atomic_store(&fk.serial_on_notify, 51);
	run_live(addr, 51, 2000, &s, &ms);
	ok(s.calls == 1 && s.live, "live once the NOTIFY made dnsd reload");

	atomic_store(&fk.serial_on_notify, 0);
	atomic_store(&fk.serial, 4294967295u);
	run_live(addr, 2, 2000, &s, &ms);
	ok(!s.live, "serial 2^32-1 is not >= 2");
	atomic_store(&fk.serial, 3);
	run_live(addr, 4294967295u, 2000, &s, &ms);
	ok(s.live, "serial 3 is >= 2^32-1 (RFC 1982 wrap)");

	atomic_store(&fk.serial, 60);
	run_live(addr, 61, 300, &s, &ms);
	ok(s.calls == 1 && !s.live && strstr(s.why, "still serves serial 60"),
	   "timeout when dnsd stays behind: %s", s.why);
	ok(ms >= 280 && ms < 1500, "bounded wait (%lld ms)", ms);

	atomic_store(&fk.notify_mode, 1);
	atomic_store(&fk.serial, 70);
	n0 = atomic_load(&fk.notifies);
	run_live(addr, 70, 2000, &s, &ms);
	ok(s.live && atomic_load(&fk.notifies) - n0 >= 3,
	   "NOTIFY ignored: retried, then SOA polling finds the serial");

	atomic_store(&fk.notify_mode, 0);
	atomic_store(&fk.refuse_soa, 1);
	run_live(addr, 80, 300, &s, &ms);
	ok(!s.live && strstr(s.why, "answers REFUSED"), "zone not served: %s", s.why);
	atomic_store(&fk.refuse_soa, 0);

	atomic_store(&fk.notify_mode, 2);
	run_live(addr, 71, 300, &s, &ms);
	ok(!s.live && strstr(s.why, "refused the NOTIFY"), "REFUSED NOTIFY reported: %s", s.why);
	atomic_store(&fk.notify_mode, 0);

	{
		/* nothing listens there */
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		char dead[64];
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&a, sizeof(a));
		getsockname(fd, (struct sockaddr *)&a, &al);
		close(fd);
		snprintf(dead, sizeof(dead), "127.0.0.1:%d", ntohs(a.sin_port));
		run_live(dead, 1, 300, &s, &ms);
		ok(!s.live && strstr(s.why, "answered neither"), "dnsd down: %s", s.why);
		{
			uint8_t resp[512], zw[DNAME_MAXLEN];
			size_t rl;
			dname_parse_text("example.com.", 12, NULL, zw);
			is_int(notify_query_sync(dead, zw, RRTYPE_SOA, 100, resp, sizeof(resp), &rl,
						 NULL),
			       ERR_TIMEOUT, "blocking query to nobody times out");
		}
	}
	{
		struct event_base *base = event_base_new();
		struct live_state st = {0};
		ok(live_confirm(base, "not-an-address", "example.com.", 1, 100, live_cb, &st) < 0 &&
		       st.calls == 0,
		   "bad address: error, no callback");
		ok(live_confirm(base, addr, "bad..zone", 1, 100, live_cb, &st) < 0, "bad zone");
		event_base_free(base);
	}
}

static void test_notify_codec(void)
{
	uint8_t buf[512], zw[DNAME_MAXLEN], other[DNAME_MAXLEN];
	int n;

	dname_parse_text("Example.COM.", 12, NULL, zw);
	dname_parse_text("example.org.", 12, NULL, other);
	n = notify_build_notify(buf, sizeof(buf), 0x1234, zw, NULL, 0);
	ok(n > 12 && DNS_OPCODE(wire_get_u16(buf + 2)) == OPCODE_NOTIFY &&
	       (wire_get_u16(buf + 2) & DNS_FLAG_AA),
	   "NOTIFY: opcode 4, AA");
	is_int(notify_match_reply(buf, (size_t)n, 0x1234, OPCODE_NOTIFY, zw, RRTYPE_SOA),
	       ERR_INVALID, "our own query is not a reply (QR clear)");
	buf[2] |= 0x80;
	is_int(notify_match_reply(buf, (size_t)n, 0x1234, OPCODE_NOTIFY, zw, RRTYPE_SOA), 0,
	       "with QR: our reply");
	is_int(notify_match_reply(buf, (size_t)n, 0x1235, OPCODE_NOTIFY, zw, RRTYPE_SOA),
	       ERR_INVALID, "other ID");
	is_int(notify_match_reply(buf, (size_t)n, 0x1234, OPCODE_QUERY, zw, RRTYPE_SOA),
	       ERR_INVALID, "other opcode");
	is_int(notify_match_reply(buf, (size_t)n, 0x1234, OPCODE_NOTIFY, other, RRTYPE_SOA),
	       ERR_INVALID, "other zone");
	ok(notify_match_reply(buf, 11, 0x1234, OPCODE_NOTIFY, zw, RRTYPE_SOA) < 0, "short");
	ok(notify_match_reply(buf, (size_t)n - 1, 0x1234, OPCODE_NOTIFY, zw, RRTYPE_SOA) < 0,
	   "truncated question");
	is_int(notify_build_notify(buf, 20, 1, zw, NULL, 0), ERR_SPACE, "no room");
}

int main(void)
{
	char dir[] = "/tmp/test_tools.XXXXXX", path[300], err[512], cmd[400];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/zones.db", dir);
	if (db_open(path, DB_CREATE, &db, err, sizeof(err)) < 0 ||
	    db_migrate(db, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		return 1;
	}
	if (fake_start() != 0) {
		printf("# cannot start the fake dnsd\n");
		return 1;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", fk.port);
	ctx.db = db;
	ctx.actor = "tester";
	ctx.can_write = true;
	ctx.zone_globs = "*";
	ctx.dnsd_addr = addr;

	test_table();
	test_notify_codec();
	test_writes();
	test_reads();
	test_lint();
	test_import_revert_delete();
	test_live();

	tool_result_clear(&R);
	atomic_store(&fk.stop, 1);
	pthread_join(fk.th, NULL);
	close(fk.udp);
	close(fk.tcp);
	sqlite3_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
