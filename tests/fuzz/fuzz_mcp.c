/*
 * fuzz_mcp.c: mcpd's request handling, from the point where libevent's HTTP
 * parser hands over: http_serve() (http.h) with a method, a path, request
 * headers and a body, answering into a sink that records status, headers
 * and body. Behind it runs everything a hostile client reaches: Host,
 * Origin and bearer-token checks, Content-Type/Accept negotiation, the
 * 2025 sessions and the stateless 2026-07-28 requests with their header
 * mirrors, JSON-RPC framing and batches, and every tool with whatever
 * arguments the input carries, against a real SQLite database (writes
 * really commit) and a real live_confirm on the event loop.
 *
 * Input layout (structure-aware; short inputs read as zeros):
 *
 *   byte 0  low nibble: method (0-9 POST, 10-11 GET, 12 DELETE, 13 OPTIONS,
 *           14 PATCH, 15 PUT); high nibble: path (0-12 "/stream", 13 "/",
 *           14 none, 15 "/.well-known/oauth-protected-resource")
 *   byte 1  bits 0-2 credential (write, write, read, zoned, none, revoked,
 *           garbage, --no-auth); bits 3-5 Host (localhost forms, public
 *           host, foreign, missing, X-Forwarded-Host); bits 6-7 Origin
 *   byte 2  bits 0-2 Mcp-Session-Id (none, a 2025-03-26 / 2025-06-18 /
 *           2025-11-25 session of the caller, an unknown id); bit 3
 *           Last-Event-ID
 *   byte 3  bits 0-2 MCP-Protocol-Version (none, each legacy version,
 *           2026-07-28, the body's _meta version, unknown); bit 3: twice
 *   byte 4  bits 0-2 Accept; bits 3-4 Content-Type
 *   byte 5  bits 0-1 Mcp-Method/Mcp-Name (from the body, none, method
 *           only, wrong); bit 2 Mcp-Name base64; bit 3 Mcp-Method twice
 *   byte 6  bits 0-1: raw header lines that follow ("Name: value\n")
 *   byte 7  bit 0: the client goes away while a write waits for dnsd
 *   then    the raw header lines, then the body
 *
 * Per-process fixture: a database in a temp file (WAL, as mcpd runs) with
 * zones example.com. and other.org., tokens of each scope, a pristine
 * in-memory copy restored after every input that changed anything (so
 * state never grows and each input replays the same way), and a tiny UDP
 * responder thread on loopback standing in for dnsd: it answers every
 * query REFUSED and every NOTIFY NOERROR at once, so the tool queries
 * (get_zone, dns_lookup, asked on the loop; delete_zone's NOTIFY) never
 * wait for a timeout,
 * and live waits are capped at 1 ms. Sessions are recreated per input.
 *
 * Checks besides memory safety: exactly one answer per request, a status
 * the transport documents, JSON bodies that parse, no transaction left
 * open, no write left waiting.
 */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mconf.h"
#include "mcp.h"
#include "session.h"
#include "sse.h"
#include "token.h"
#include "tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PORT	  8053 /* the port Host values name; nothing listens */
#define FUZZ_PUBLIC	  "mcp.example.net"
#define FUZZ_ORIGIN	  "https://app.example"
#define TOK_WRITE	  "dnsmcp_fuzzwriteAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOK_READ	  "dnsmcp_fuzzreadAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOK_ZONED	  "dnsmcp_fuzzzonedAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOK_REVOKED	  "dnsmcp_fuzzrevokedAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define FUZZ_MAX_SESSIONS 8
#define FUZZ_RAW_LINE	  512

static const char *const legacy_versions[] = {"2025-03-26", "2025-06-18", "2025-11-25"};

struct fixture {
	char dir[256];
	struct sqlite3 *db, *pristine;
	sqlite3_int64 changes; /* sqlite3_total_changes64 after the last restore */
	struct event_base *base;
	struct mconf conf;
	struct auth *auth;
	struct session_table *sessions;
	struct mcp_server *mcp;
	struct http_server *http;
	char dnsd[64];
	int udp;
};

static struct fixture F;

/* What the sink saw for the current request. */
struct answer {
	int sends; /* send() calls */
	int status;
	bool taken; /* open_sse or oauth took the request */
	bool waiting;
	bool gone; /* the client hung up while its write waited */
	struct http_pending *pending;
};

static struct answer A;
static bool trace; /* FUZZ_MCP_TRACE: print every answer */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_mcp: %s\n", what);
	abort();
}

/* ---- a dnsd that answers at once ---- */

static void *responder(void *arg)
{
	uint8_t buf[4096];

	(void)arg;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(F.udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		int opcode;

		if (n < 12)
			continue;
		opcode = (buf[2] >> 3) & 0xf;
		buf[2] |= 0x84;						     /* QR, AA */
		buf[3] = (uint8_t)((buf[3] & 0xf0) | (opcode == 4 ? 0 : 5)); /* NOERROR/REFUSED */
		/* keep the question only: ANCOUNT, NSCOUNT, ARCOUNT 0 */
		memset(buf + 6, 0, 6);
		{
			size_t o = 12;
			if (buf[4] == 0 && buf[5] == 1) {
				while (o < (size_t)n && buf[o] && buf[o] < 64)
					o += (size_t)buf[o] + 1;
				o += 5;
			} else {
				buf[4] = buf[5] = 0;
			}
			if (o > (size_t)n)
				o = 12, buf[4] = buf[5] = 0;
			sendto(F.udp, buf, o, 0, (struct sockaddr *)&from, flen);
		}
	}
	return NULL;
}

/* ---- the fixture ---- */

static void exec_sql(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(F.db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "fuzz_mcp: %s: %s\n", sql, err ? err : "?");
		abort();
	}
}

static void add_token(const char *name, const char *tok, const char *scope, const char *zones,
		      bool revoked)
{
	char hash[TOKEN_HASH_HEXLEN + 1], sql[512];

	token_hash_hex(tok, strlen(tok), hash);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO tokens(name, hash, scope, zones, revoked_at) VALUES('%s', '%s', "
		 "'%s', '%s', %s)",
		 name, hash, scope, zones, revoked ? "'2020-01-01T00:00:00Z'" : "NULL");
	exec_sql(sql);
}

static void restore(void)
{
	sqlite3_backup *b = sqlite3_backup_init(F.db, "main", F.pristine, "main");

	if (b == NULL || sqlite3_backup_step(b, -1) != SQLITE_DONE)
		die(sqlite3_errmsg(F.db));
	sqlite3_backup_finish(b);
	F.changes = sqlite3_total_changes64(F.db);
}

/* Sends one request through http_serve during setup; it must succeed. */
static void setup_call(const char *body);
static int64_t token_id_of(const char *name);

static void fixture_init(void)
{
	char path[300], err[256];
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct mcp_options o;
	pthread_t th;
	uint16_t port = FUZZ_PORT;
	sqlite3_backup *b;
	const char *tmp = getenv("TMPDIR");

	trace = getenv("FUZZ_MCP_TRACE") != NULL;
	log_init("fuzz_mcp", getenv("FUZZ_MCP_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	snprintf(F.dir, sizeof(F.dir), "%s/fuzz_mcp.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(F.dir) == NULL)
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/zones.db", F.dir);
	if (db_open(path, DB_CREATE, &F.db, err, sizeof(err)) != 0 ||
	    db_migrate(F.db, err, sizeof(err)) < 0)
		die(err);
	add_token("writer", TOK_WRITE, "write", "*", false);
	add_token("reader", TOK_READ, "read", "*", false);
	add_token("zoned", TOK_ZONED, "write", "example.com.,*.example.org.", false);
	add_token("revoked", TOK_REVOKED, "write", "*", true);

	/* the dnsd stand-in */
	F.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (F.udp < 0 || bind(F.udp, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(F.udp, (struct sockaddr *)&sin, &slen) != 0)
		die("cannot bind the dnsd stand-in");
	snprintf(F.dnsd, sizeof(F.dnsd), "127.0.0.1:%u", ntohs(sin.sin_port));
	if (pthread_create(&th, NULL, responder, NULL) != 0)
		die("pthread_create");
	pthread_detach(th);

	F.base = event_base_new();
	mconf_init(&F.conf);
	if (mconf_set(&F.conf, "public-host", FUZZ_PUBLIC, false, err, sizeof(err)) != 0 ||
	    mconf_set(&F.conf, "allow-origin", FUZZ_ORIGIN, false, err, sizeof(err)) != 0)
		die(err);
	F.auth = auth_new(F.db, 0, err, sizeof(err));
	F.sessions = session_table_new(FUZZ_MAX_SESSIONS, 3600);
	if (F.base == NULL || F.auth == NULL || F.sessions == NULL)
		die("setup");
	session_table_set_hook(F.sessions, sse_session_close_all, NULL);
	/* a small per-token cap, so inputs reach the recycling path too */
	session_table_set_per_token(F.sessions, 4);
	memset(&o, 0, sizeof(o));
	o.db = F.db;
	o.base = F.base;
	o.dnsd_addr = F.dnsd;
	o.tools = tool_defs;
	o.n_tools = tool_defs_count;
	o.sessions = F.sessions;
	o.notify = sse_session_send;
	o.live_wait_ms = 1; /* live_confirm gives up after 1 ms */
	F.mcp = mcp_server_new(&o, err, sizeof(err));
	if (F.mcp == NULL)
		die(err);
	F.http =
	    http_server_new_unbound(&F.conf, F.mcp, F.auth, F.sessions, &port, 1, err, sizeof(err));
	if (F.http == NULL)
		die(err);

	/* the zones, through the real tools */
	setup_call("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
		   "\"create_zone\",\"arguments\":{\"zone\":\"example.com\",\"records\":["
		   "{\"name\":\"ns1\",\"type\":\"A\",\"data\":\"192.0.2.1\"},"
		   "{\"name\":\"www\",\"type\":\"A\",\"data\":\"192.0.2.10\"},"
		   "{\"name\":\"@\",\"type\":\"MX\",\"data\":\"10 mail\"},"
		   "{\"name\":\"mail\",\"type\":\"AAAA\",\"data\":\"2001:db8::25\"},"
		   "{\"name\":\"@\",\"type\":\"TXT\",\"data\":\"\\\"v=spf1 mx -all\\\"\"},"
		   "{\"name\":\"_dmarc\",\"type\":\"TXT\",\"data\":\"\\\"v=DMARC1; p=none\\\"\"},"
		   "{\"name\":\"ftp\",\"type\":\"CNAME\",\"data\":\"www\"},"
		   "{\"name\":\"*.dyn\",\"type\":\"A\",\"data\":\"192.0.2.99\"}]}}}");
	setup_call("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
		   "\"create_zone\",\"arguments\":{\"zone\":\"other.org\",\"serial_policy\":"
		   "\"date\"}}}");
	setup_call("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
		   "\"add_records\",\"arguments\":{\"zone\":\"example.com\",\"reason\":\"seed\","
		   "\"records\":[{\"name\":\"api\",\"type\":\"A\",\"ttl\":60,\"data\":"
		   "\"192.0.2.20\"}]}}}");

	if (sqlite3_open(":memory:", &F.pristine) != SQLITE_OK)
		die("sqlite3_open");
	b = sqlite3_backup_init(F.pristine, "main", F.db, "main");
	if (b == NULL || sqlite3_backup_step(b, -1) != SQLITE_DONE)
		die("backup");
	sqlite3_backup_finish(b);
	F.changes = sqlite3_total_changes64(F.db);
}

/* ---- the sink ---- */

static struct evkeyvalq out_headers;

static void sink_send(void *arg, int status, const char *reason, const char *ctype,
		      const char *body, size_t len)
{
	(void)arg;
	if (reason == NULL || (body == NULL) != (len == 0))
		die("send without a reason or with a half body");
	A.sends++;
	A.status = status;
	if (trace)
		fprintf(stderr, "-> %d %s %.*s\n", status, ctype ? ctype : "-",
			(int)(len > 400 ? 400 : len), body ? body : "");
	if (ctype && body && strncmp(ctype, "application/json", 16) == 0) {
		cJSON *j = cJSON_ParseWithLength(body, len);

		if (j == NULL) {
			fprintf(stderr, "status %d body: %.*s\n", status, (int)len, body);
			die("a JSON answer that does not parse");
		}
		cJSON_Delete(j);
	}
}

static int sink_open_sse(struct http_server *h, void *arg, struct session *s)
{
	(void)h, (void)arg, (void)s;
	A.taken = true;
	return 0;
}

static void sink_oauth(struct http_server *h, void *arg, const char *path)
{
	(void)h, (void)arg, (void)path;
	A.taken = true;
}

static void sink_wait(struct http_server *h, void *arg, struct http_pending *p, bool start)
{
	(void)h, (void)arg;
	A.waiting = start;
	A.pending = start ? p : NULL;
}

static void serve(int method, const char *path, struct evkeyvalq *in, const char *body, size_t len)
{
	struct http_in x;
	struct http_sink k;

	memset(&A, 0, sizeof(A));
	memset(&x, 0, sizeof(x));
	x.method = method;
	x.path = path;
	x.headers = in;
	x.body = body;
	x.len = len;
	x.peer = "192.0.2.200";
	memset(&k, 0, sizeof(k));
	TAILQ_INIT(&out_headers);
	k.out = &out_headers;
	k.send = sink_send;
	k.open_sse = sink_open_sse;
	k.oauth = sink_oauth;
	k.wait = sink_wait;
	http_serve(F.http, &x, &k);
}

/* Runs the loop until no write waits for dnsd (live waits end after 1 ms)
 * and no read waits for DNS answers (the stand-in answers at once; a
 * silent secondary costs its timeout). */
static void drain(void)
{
	for (int i = 0; mcp_pending(F.mcp) > 0; i++) {
		if (i > 100000)
			die("a request never stops waiting for dnsd");
		event_base_loop(F.base, EVLOOP_ONCE);
	}
}

static void setup_call(const char *body)
{
	struct evkeyvalq in;

	TAILQ_INIT(&in);
	evhttp_add_header(&in, "Host", "127.0.0.1:8053");
	evhttp_add_header(&in, "Content-Type", "application/json");
	evhttp_add_header(&in, "Authorization", "Bearer " TOK_WRITE);
	evhttp_add_header(&in, "MCP-Protocol-Version", "2025-06-18");
	/* a session, as legacy tools/call needs one */
	{
		struct session *s;
		int64_t id = token_id_of("writer");

		if (session_create(F.sessions, "2025-06-18", id, "*", session_now_ms(), &s) != 0)
			die("session_create");
		s->initialized = true;
		evhttp_add_header(&in, "Mcp-Session-Id", s->id);
	}
	serve(EVHTTP_REQ_POST, "/stream", &in, body, strlen(body));
	drain();
	if (A.sends != 1 || A.status != 200)
		die("a setup call failed");
	evhttp_clear_headers(&in);
	evhttp_clear_headers(&out_headers);
}

/* ---- one input ---- */

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct reader *r)
{
	uint8_t c = 0;

	if (r->n) {
		c = *r->p++;
		r->n--;
	}
	return c;
}

/* Values the body names, for the header mirrors of 2026-07-28. */
struct mirror {
	char method[128];
	char name[512];
	char version[64];
	bool has_method, has_name, has_version;
};

static void mirror_of(const char *body, size_t len, struct mirror *m)
{
	cJSON *root = cJSON_ParseWithLength(body, len), *msg, *v, *params, *meta;

	memset(m, 0, sizeof(*m));
	msg = cJSON_IsArray(root) ? cJSON_GetArrayItem(root, 0) : root;
	if (!cJSON_IsObject(msg))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(msg, "method");
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof(m->method)) {
		snprintf(m->method, sizeof(m->method), "%s", v->valuestring);
		m->has_method = true;
	}
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (!cJSON_IsObject(params))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(params, "name");
	if (!cJSON_IsString(v))
		v = cJSON_GetObjectItemCaseSensitive(params, "uri");
	if (cJSON_IsString(v) && strlen(v->valuestring) < 300) {
		snprintf(m->name, sizeof(m->name), "%s", v->valuestring);
		m->has_name = true;
	}
	meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	v = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, MCP_META_PROTOCOL_VERSION)
				 : NULL;
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof(m->version)) {
		snprintf(m->version, sizeof(m->version), "%s", v->valuestring);
		m->has_version = true;
	}
out:
	cJSON_Delete(root);
}

/* Header values as a proxy would pass them: printable, or base64 form. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void base64_form(const char *s, char *out, size_t cap)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;

	o = (size_t)snprintf(out, cap, "=?base64?");
	for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	snprintf(out + o, cap - o, "?=");
}

static int64_t token_id_of(const char *name)
{
	sqlite3_stmt *st;
	int64_t id = -1;

	if (sqlite3_prepare_v2(F.db, "SELECT id FROM tokens WHERE name = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static bool known_status(int s)
{
	static const int ok[] = {200, 202, 204, 400, 401, 403, 404, 405,
				 406, 409, 413, 415, 421, 429, 500, 503};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (s == ok[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int methods[16] = {
	    EVHTTP_REQ_POST,   EVHTTP_REQ_POST,	   EVHTTP_REQ_POST,  EVHTTP_REQ_POST,
	    EVHTTP_REQ_POST,   EVHTTP_REQ_POST,	   EVHTTP_REQ_POST,  EVHTTP_REQ_POST,
	    EVHTTP_REQ_POST,   EVHTTP_REQ_POST,	   EVHTTP_REQ_GET,   EVHTTP_REQ_GET,
	    EVHTTP_REQ_DELETE, EVHTTP_REQ_OPTIONS, EVHTTP_REQ_PATCH, EVHTTP_REQ_PUT};
	static const char *const hosts[8] = {"127.0.0.1:8053", "localhost:8053", "[::1]:8053",
					     FUZZ_PUBLIC,      "evil.example",	 NULL,
					     "127.0.0.1:8053", "LOCALHOST:8053"};
	static const char *const accepts[8] = {NULL,
					       "application/json, text/event-stream",
					       "text/event-stream",
					       "application/json",
					       "*/*",
					       "text/html",
					       "application/*;q=0.5, text/*",
					       ""};
	static const char *const ctypes[4] = {"application/json", "application/json; charset=utf-8",
					      NULL, "text/plain"};
	static bool ready;
	struct reader r = {data, size};
	uint8_t b[8];
	struct evkeyvalq in;
	struct session *sess[3] = {NULL, NULL, NULL};
	struct mirror mir;
	const char *path, *who_name = NULL, *pv = NULL;
	char *body;
	size_t blen;
	int method, nraw;
	int64_t tid = 0;
	const char *globs = "*";

	if (!ready) {
		fixture_init();
		ready = true;
	}
	for (int i = 0; i < 8; i++)
		b[i] = take(&r);
	TAILQ_INIT(&in);

	method = methods[b[0] & 15];
	switch (b[0] >> 4) {
	case 13:
		path = "/";
		break;
	case 14:
		path = NULL;
		break;
	case 15:
		path = "/.well-known/oauth-protected-resource";
		break;
	default:
		path = "/stream";
	}

	/* credential */
	F.conf.no_auth = false;
	switch (b[1] & 7) {
	case 0:
	case 1:
		evhttp_add_header(&in, "Authorization", "Bearer " TOK_WRITE);
		who_name = "writer";
		break;
	case 2:
		evhttp_add_header(&in, "Authorization", "Bearer " TOK_READ);
		who_name = "reader";
		break;
	case 3:
		evhttp_add_header(&in, "Authorization", "Bearer " TOK_ZONED);
		who_name = "zoned";
		globs = "example.com.,*.example.org.";
		break;
	case 5:
		evhttp_add_header(&in, "Authorization", "Bearer " TOK_REVOKED);
		break;
	case 6:
		evhttp_add_header(&in, "Authorization", "Basic dXNlcjpwYXNz");
		break;
	case 7:
		F.conf.no_auth = true;
		tid = 0;
		break;
	default:
		break;
	}
	if (who_name)
		tid = token_id_of(who_name);
	/* Host, X-Forwarded-Host, Origin */
	if (hosts[(b[1] >> 3) & 7])
		evhttp_add_header(&in, "Host", hosts[(b[1] >> 3) & 7]);
	if (((b[1] >> 3) & 7) == 6)
		evhttp_add_header(&in, "X-Forwarded-Host", (b[1] & 0x80) ? FUZZ_PUBLIC : "evil.x");
	switch (b[1] >> 6) {
	case 1:
		evhttp_add_header(&in, "Origin", "http://127.0.0.1:8053");
		break;
	case 2:
		evhttp_add_header(&in, "Origin", FUZZ_ORIGIN);
		break;
	case 3:
		evhttp_add_header(&in, "Origin", (b[2] & 0x80) ? "null" : "https://evil.example");
		break;
	}

	/* fresh sessions of the caller, one per legacy version */
	while (session_first(F.sessions))
		session_destroy(F.sessions, session_first(F.sessions));
	for (int i = 0; i < 3; i++) {
		if (session_create(F.sessions, legacy_versions[i], tid, globs, session_now_ms(),
				   &sess[i]) != 0)
			die("session_create");
		sess[i]->initialized = i != 1;
	}
	switch (b[2] & 7) {
	case 1:
	case 2:
	case 3:
		evhttp_add_header(&in, "Mcp-Session-Id", sess[(b[2] & 7) - 1]->id);
		break;
	case 4:
		evhttp_add_header(
		    &in, "Mcp-Session-Id",
		    "00000000000000000000000000000000000000000000000000000000deadbeef");
		break;
	case 5:
		evhttp_add_header(&in, "Mcp-Session-Id", "");
		break;
	}
	if (b[2] & 8)
		evhttp_add_header(&in, "Last-Event-ID", "1");

	/* raw header lines, then the body */
	nraw = b[6] & 3;
	for (int i = 0; i < nraw; i++) {
		char line[FUZZ_RAW_LINE], *colon, *v;
		size_t n = 0;

		while (r.n && *r.p != '\n' && n + 1 < sizeof(line))
			line[n++] = (char)take(&r);
		take(&r); /* the newline */
		line[n] = '\0';
		if (strlen(line) != n || (colon = strchr(line, ':')) == NULL || colon == line)
			continue; /* evhttp never delivers these */
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		evhttp_add_header(&in, line, v); /* refuses CR/LF as evhttp would */
	}
	blen = r.n;
	body = malloc(blen ? blen : 1); /* exact size: ASan sees any over-read */
	if (body == NULL)
		return 0;
	memcpy(body, r.p, blen);

	mirror_of(body, blen, &mir);
	switch (b[3] & 7) {
	case 1:
	case 2:
	case 3:
		pv = legacy_versions[(b[3] & 7) - 1];
		break;
	case 4:
		pv = MCP_VERSION_MODERN;
		break;
	case 5:
		pv = mir.has_version && printable(mir.version) ? mir.version : MCP_VERSION_MODERN;
		break;
	case 6:
		pv = "1999-01-01";
		break;
	case 7:
		pv = (b[2] & 7) >= 1 && (b[2] & 7) <= 3 ? legacy_versions[(b[2] & 7) - 1] : NULL;
		break;
	}
	if (pv) {
		evhttp_add_header(&in, "MCP-Protocol-Version", pv);
		if (b[3] & 8)
			evhttp_add_header(&in, "MCP-Protocol-Version", pv);
	}
	if (accepts[b[4] & 7])
		evhttp_add_header(&in, "Accept", accepts[b[4] & 7]);
	if (ctypes[(b[4] >> 3) & 3])
		evhttp_add_header(&in, "Content-Type", ctypes[(b[4] >> 3) & 3]);
	switch (b[5] & 3) {
	case 0:
	case 2:
		if (mir.has_method && printable(mir.method)) {
			evhttp_add_header(&in, "Mcp-Method", mir.method);
			if (b[5] & 8)
				evhttp_add_header(&in, "Mcp-Method", mir.method);
		}
		if ((b[5] & 3) == 0 && mir.has_name) {
			char enc[1024];

			if ((b[5] & 4) || !printable(mir.name)) {
				base64_form(mir.name, enc, sizeof(enc));
				evhttp_add_header(&in, "Mcp-Name", enc);
			} else {
				evhttp_add_header(&in, "Mcp-Name", mir.name);
			}
		}
		break;
	case 3:
		evhttp_add_header(&in, "Mcp-Method", "tools/list");
		evhttp_add_header(&in, "Mcp-Name", "=?base64?AA==?=");
		break;
	}

	serve(method, path, &in, body, blen);
	if (A.waiting && (b[7] & 1)) {
		http_pending_gone(A.pending); /* the client hung up */
		A.gone = true;
	}
	drain();

	if (A.taken || A.gone ? A.sends != 0 : A.sends != 1) {
		fprintf(stderr, "%d answers (taken %d)\n", A.sends, A.taken);
		die("not exactly one answer");
	}
	if (A.sends && !known_status(A.status)) {
		fprintf(stderr, "status %d\n", A.status);
		die("an undocumented status");
	}
	if (!sqlite3_get_autocommit(F.db))
		die("a transaction was left open");

	evhttp_clear_headers(&in);
	evhttp_clear_headers(&out_headers);
	free(body);
	if (sqlite3_total_changes64(F.db) != F.changes)
		restore();
	return 0;
}
