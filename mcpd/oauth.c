/*
 * oauth.c: the OAuth 2.1 endpoints and the consent page (oauth.h).
 *
 * Request parsing is strict, as OAuth wants it: form bodies must be
 * application/x-www-form-urlencoded, no parameter may appear twice (RFC
 * 6749 §3.1), everything is length-capped. Errors before the redirect URI
 * is known to be registered are shown to the person in the browser, never
 * sent to an unverified redirect URI (RFC 6749 §4.1.2.1); errors after it go
 * back to the client with error, state and iss (RFC 9207 §2).
 *
 * The consent page is plain HTML, no JavaScript. Its form carries an
 * unguessable handle of the pending request (kept here in memory, gone after
 * OAUTH_PENDING_TTL) and a CSRF token that must also come back in a
 * SameSite=Strict, HttpOnly cookie set with the page (double submit). The
 * approving credential is typed by the operator, never ambient, so a forged
 * cross-site POST has nothing to ride on; the cookie check makes sure the
 * decision comes from the browser that loaded this very page. Pages may not
 * be framed (clickjacking): X-Frame-Options and CSP frame-ancestors.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "err.h"
#include "log.h"
#include "oauth.h"
#include "oauth_cimd.h"
#include "session.h"

#define CSRF_COOKIE "mcpd_csrf"

/* A consent page that was shown and awaits the operator's decision. */
struct pending {
	char handle[OAUTH_SECRET_MAX]; /* form field "request" (empty: free slot) */
	char csrf[OAUTH_SECRET_MAX];   /* form field and cookie */
	time_t expires;		       /* wall clock */
	int attempts;		       /* wrong credentials so far */
	int64_t client;		       /* oauth_clients.id */
	char client_id[OAUTH_CLIENT_ID_MAX + 1];
	char client_name[OAUTH_NAME_MAX + 1];
	char client_host[256]; /* CIMD: the host of the client_id URL, else "" */
	char redirect_uri[OAUTH_URI_MAX + 1];
	char state[OAUTH_STATE_MAX + 1];
	bool has_state;
	char challenge[OAUTH_CHALLENGE_LEN + 1];
	bool want_write; /* dns:write was requested */
};

/* A GET /oauth/authorize waiting for a client metadata document. */
struct waiter {
	struct oauth *o;
	struct evhttp_request *req;
	struct oauth_cimd_job *job;
	char *query; /* the authorization request, read again once the document is in */
	char url[OAUTH_CLIENT_ID_MAX + 1];
	struct waiter *prev, *next;
};

struct oauth {
	struct sqlite3 *db;
	struct oauth_cimd *cimd; /* NULL: client metadata documents off */
	struct waiter *waiters;
	struct auth *auth;
	struct oauth_ttls ttl;
	unsigned max_clients;
	bool secure; /* https public URL: Secure cookies */
	char issuer[OAUTH_URI_MAX];
	char resource[OAUTH_URI_MAX + 16];
	char prm_url[OAUTH_URI_MAX + 64];
	struct pending pending[OAUTH_PENDING_MAX];
};

struct oauth *oauth_new(struct sqlite3 *db, struct auth *auth, const char *public_url,
			const struct oauth_ttls *ttl, unsigned max_clients, char *err,
			size_t errcap)
{
	struct oauth *o;
	size_t n = strlen(public_url);

	while (n > 0 && public_url[n - 1] == '/')
		n--;
	if (n == 0 || n >= OAUTH_URI_MAX) {
		snprintf(err, errcap, "public-url is empty or too long");
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	o->db = db;
	o->auth = auth;
	o->ttl = *ttl;
	o->max_clients = max_clients;
	o->secure = strncasecmp(public_url, "https://", 8) == 0;
	memcpy(o->issuer, public_url, n);
	o->issuer[n] = '\0';
	snprintf(o->resource, sizeof(o->resource), "%s/stream", o->issuer);
	snprintf(o->prm_url, sizeof(o->prm_url), "%s/.well-known/oauth-protected-resource/stream",
		 o->issuer);
	if (auth_set_oauth(auth, o->resource) != 0) {
		snprintf(err, errcap, "out of memory");
		free(o);
		return NULL;
	}
	return o;
}

static void waiter_free(struct oauth *o, struct waiter *w);

void oauth_free(struct oauth *o)
{
	if (o == NULL)
		return;
	/* normally none left: closing the HTTP server closed their
	 * connections first (server.c frees it before us) */
	while (o->waiters) {
		struct evhttp_connection *evcon = evhttp_request_get_connection(o->waiters->req);

		if (evcon)
			evhttp_connection_set_closecb(evcon, NULL, NULL);
		waiter_free(o, o->waiters);
	}
	oauth_cimd_free(o->cimd);
	auth_set_oauth(o->auth, NULL);
	OPENSSL_cleanse(o->pending, sizeof(o->pending));
	free(o);
}

int oauth_enable_cimd(struct oauth *o, struct event_base *base, bool allow_private, char *err,
		      size_t errcap)
{
	if (o->cimd)
		return 0;
	o->cimd = oauth_cimd_new(base, allow_private, err, errcap);
	return o->cimd ? 0 : -1;
}

const char *oauth_resource(const struct oauth *o)
{
	return o->resource;
}

const char *oauth_metadata_url(const struct oauth *o)
{
	return o->prm_url;
}

bool oauth_path(const char *path)
{
	return strncmp(path, "/.well-known/oauth-", 19) == 0 ||
	       strcmp(path, "/.well-known/openid-configuration") == 0 ||
	       strncmp(path, "/oauth/", 7) == 0;
}

/* ---- responses ---- */

static void reply(struct evhttp_request *req, int status, const char *reason, const char *ctype,
		  const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	if (buf && body && len)
		evbuffer_add(buf, body, len);
	if (ctype && body && len)
		evhttp_add_header(out, "Content-Type", ctype);
	evhttp_send_reply(req, status, reason, buf);
	if (buf)
		evbuffer_free(buf);
}

static void reply_json(struct evhttp_request *req, int status, const char *reason, cJSON *j)
{
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;

	if (s == NULL) {
		reply(req, 500, "Internal Server Error", NULL, NULL, 0);
	} else {
		reply(req, status, reason, "application/json", s, strlen(s));
	}
	free(s);
	cJSON_Delete(j);
}

/* RFC 6749 §5.2 error body; tokens and errors are never cached (§5.1). */
static void oauth_error(struct evhttp_request *req, int status, const char *error, const char *desc)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	cJSON *j = cJSON_CreateObject();
	const char *reason = status == 401   ? "Unauthorized"
			     : status == 404 ? "Not Found"
			     : status == 405 ? "Method Not Allowed"
			     : status == 503 ? "Service Unavailable"
			     : status == 500 ? "Internal Server Error"
					     : "Bad Request";

	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "Pragma", "no-cache");
	cJSON_AddStringToObject(j, "error", error);
	if (desc)
		cJSON_AddStringToObject(j, "error_description", desc);
	reply_json(req, status, reason, j);
}

static void add_page_headers(struct evhttp_request *req)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "Pragma", "no-cache");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	/* same-origin, not no-referrer: under no-referrer a browser posts
	 * the consent form with "Origin: null" (Fetch, "serializing a request
	 * origin"), which the Origin check refuses with 403. same-origin still
	 * keeps the URL (and its code) out of the redirect to the client. */
	evhttp_add_header(out, "Referrer-Policy", "same-origin");
	/* no form-action: browsers apply it to the redirect that follows
	 * the POST, which goes to the client's own redirect URI */
	evhttp_add_header(out, "Content-Security-Policy",
			  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
			  "base-uri 'none'");
}

/* HTML-escapes s into f (& < > " ' all escaped: safe in text and in
 * double- or single-quoted attributes). */
static void html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

static const char page_style[] =
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;"
    "color:#111}h1{font-size:1.4em}.box{border:1px solid #bbb;border-radius:6px;padding:1em;"
    "margin:1em 0}.warn{background:#fff4e5;border-color:#f0a030}.err{background:#fde8e8;"
    "border-color:#d33}code{background:#f3f3f3;padding:0 .2em}input[type=password],"
    "input[type=text]{width:100%;font:inherit;padding:.4em;box-sizing:border-box}"
    "button{font:inherit;padding:.5em 1.2em;margin-right:.5em}small{color:#555}"
    ".host{font-size:1.6em;font-weight:bold;margin:.2em 0;word-break:break-all}</style>";

static void page_start(FILE *f, const char *title)
{
	fputs("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\"><title>",
	      f);
	html(f, title);
	fputs("</title>", f);
	fputs(page_style, f);
	fputs("</head><body>", f);
}

/* An error page for the person at the browser (nothing goes to the client). */
static void error_page(struct evhttp_request *req, int status, const char *reason, const char *what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		reply(req, 500, "Internal Server Error", NULL, NULL, 0);
		return;
	}
	page_start(f, "mcpd: authorization failed");
	fputs("<h1>Authorization failed</h1><div class=\"box err\">", f);
	html(f, what);
	fputs("</div><p><small>Nothing was authorized. Start again from your MCP client."
	      "</small></p></body></html>",
	      f);
	fclose(f);
	add_page_headers(req);
	reply(req, status, reason, "text/html; charset=utf-8", buf, len);
	free(buf);
}

/* Redirects to the client (302) with params already URL-encoded in q. */
static void redirect_to(struct evhttp_request *req, const char *redirect_uri, const char *q)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char *loc = NULL;

	if (asprintf(&loc, "%s%c%s", redirect_uri, strchr(redirect_uri, '?') ? '&' : '?', q) < 0) {
		reply(req, 500, "Internal Server Error", NULL, NULL, 0);
		return;
	}
	evhttp_add_header(out, "Location", loc);
	evhttp_add_header(out, "Cache-Control", "no-store");
	reply(req, 302, "Found", NULL, NULL, 0);
	free(loc);
}

/* Appends "&name=value" (value URL-encoded) to a growing query string. */
static void q_add(FILE *f, const char *name, const char *value, bool *first)
{
	char *e = evhttp_encode_uri(value);

	fprintf(f, "%s%s=%s", *first ? "" : "&", name, e ? e : "");
	*first = false;
	free(e);
}

/* An authorization error sent back to the client: error, state, iss. */
static void redirect_error(struct oauth *o, struct evhttp_request *req, const char *redirect_uri,
			   const char *state, const char *error, const char *desc)
{
	char *q = NULL;
	size_t len = 0;
	bool first = true;
	FILE *f = open_memstream(&q, &len);

	if (f == NULL) {
		reply(req, 500, "Internal Server Error", NULL, NULL, 0);
		return;
	}
	q_add(f, "error", error, &first);
	if (desc)
		q_add(f, "error_description", desc, &first);
	if (state)
		q_add(f, "state", state, &first);
	q_add(f, "iss", o->issuer, &first);
	fclose(f);
	log_info("oauth: authorization refused: %s (%s)", error, desc ? desc : "");
	redirect_to(req, redirect_uri, q);
	free(q);
}

/* ---- request parsing ---- */

/* The body as a NUL-terminated copy (malloc'd), or NULL when it is over
 * OAUTH_FORM_MAX or holds a NUL byte. */
static char *body_text(struct evhttp_request *req)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(b);
	char *s;

	if (n > OAUTH_FORM_MAX)
		return NULL;
	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	if (evbuffer_copyout(b, s, n) != (ev_ssize_t)n || memchr(s, '\0', n)) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	return s;
}

static bool ctype_is(struct evhttp_request *req, const char *want)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	size_t n = strlen(want);

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Parses a query string or form body into q. 0, or -1 when it does not
 * parse or a parameter repeats (RFC 6749 §3.1) or a value is not printable
 * (*dup names it then). */
static int parse_params(const char *s, struct evkeyvalq *q, const char **dup)
{
	struct evkeyval *a, *b;

	*dup = NULL;
	q->tqh_first = NULL; /* TAILQ_INIT without <sys/queue.h> */
	q->tqh_last = &q->tqh_first;
	if (s == NULL || *s == '\0')
		return 0;
	if (evhttp_parse_query_str(s, q) != 0)
		return -1;
	for (a = q->tqh_first; a; a = a->next.tqe_next) {
		for (const char *p = a->value; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
				*dup = a->key;
				return -1;
			}
		for (b = a->next.tqe_next; b; b = b->next.tqe_next)
			if (strcmp(a->key, b->key) == 0) {
				*dup = a->key;
				return -1;
			}
	}
	return 0;
}

/* How a form POST failed to read (read_form). */
enum form_status { FORM_OK, FORM_CTYPE, FORM_REPEATED, FORM_MALFORMED };

/* The application/x-www-form-urlencoded body of req, parsed into q (the
 * caller clears q after FORM_OK; on failure q is already empty). Each
 * endpoint words its own refusal. */
static enum form_status read_form(struct evhttp_request *req, struct evkeyvalq *q)
{
	const char *dup = NULL;
	char *body;
	int rc;

	q->tqh_first = NULL; /* empty, as parse_params leaves it */
	q->tqh_last = &q->tqh_first;
	if (!ctype_is(req, "application/x-www-form-urlencoded"))
		return FORM_CTYPE;
	body = body_text(req);
	if (body == NULL)
		return FORM_MALFORMED; /* unreadable, or out of memory */
	rc = parse_params(body, q, &dup);
	free(body);
	if (rc == 0)
		return FORM_OK;
	evhttp_clear_headers(q);
	return dup ? FORM_REPEATED : FORM_MALFORMED;
}

/* A parameter, or NULL when absent or empty (RFC 6749 §3.1: parameters
 * sent without a value MUST be treated as if omitted). */
static const char *param(const struct evkeyvalq *q, const char *k)
{
	const char *v = evhttp_find_header(q, k);

	return v && v[0] ? v : NULL;
}

/* One cookie value from the Cookie header, copied into out. */
static bool cookie(struct evhttp_request *req, const char *name, char *out, size_t cap)
{
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
	size_t n = strlen(name);

	while (c && *c) {
		while (*c == ' ' || *c == ';')
			c++;
		if (strncmp(c, name, n) == 0 && c[n] == '=') {
			size_t v = strcspn(c + n + 1, ";");
			if (v == 0 || v >= cap)
				return false;
			memcpy(out, c + n + 1, v);
			out[v] = '\0';
			while (v > 0 && out[v - 1] == ' ')
				out[--v] = '\0';
			return true;
		}
		c = strchr(c, ';');
	}
	return false;
}

/* The resource a client names matches ours: exactly, or with scheme and
 * host in another case (MCP "Canonical Server URI": accept uppercase). */
static bool resource_matches(const struct oauth *o, const char *r)
{
	const char *p1 = strstr(o->resource, "://"), *p2 = strstr(r, "://");
	size_t h1, h2;

	if (strcmp(r, o->resource) == 0)
		return true;
	if (p1 == NULL || p2 == NULL)
		return false;
	h1 = (size_t)(strchr(p1 + 3, '/') - o->resource);
	p2 = strchr(p2 + 3, '/');
	if (p2 == NULL)
		return false;
	h2 = (size_t)(p2 - r);
	return h1 == h2 && strncasecmp(r, o->resource, h1) == 0 &&
	       strcmp(r + h2, o->resource + h1) == 0;
}

/* ---- metadata ---- */

static cJSON *str_array(const char *const *v, size_t n)
{
	return cJSON_CreateStringArray(v, (int)n);
}

static void protected_resource_metadata(struct oauth *o, struct evhttp_request *req)
{
	static const char *const scopes[] = {OAUTH_SCOPE_READ, OAUTH_SCOPE_WRITE};
	static const char *const bearer[] = {"header"};
	cJSON *j = cJSON_CreateObject();

	/* RFC 9728 §2 */
	cJSON_AddStringToObject(j, "resource", o->resource);
	cJSON_AddItemToObject(j, "authorization_servers",
			      str_array((const char *[]){o->issuer}, 1));
	cJSON_AddItemToObject(j, "scopes_supported", str_array(scopes, 2));
	cJSON_AddItemToObject(j, "bearer_methods_supported", str_array(bearer, 1));
	cJSON_AddStringToObject(j, "resource_name", "mcpd (dnsmcp authoritative DNS)");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "max-age=300");
	reply_json(req, 200, "OK", j);
}

static void authorization_server_metadata(struct oauth *o, struct evhttp_request *req)
{
	static const char *const scopes[] = {OAUTH_SCOPE_READ, OAUTH_SCOPE_WRITE};
	static const char *const rtypes[] = {"code"};
	static const char *const rmodes[] = {"query"};
	static const char *const grants[] = {"authorization_code", "refresh_token"};
	static const char *const methods[] = {"none", "client_secret_post", "client_secret_basic"};
	static const char *const pkce[] = {"S256"};
	cJSON *j = cJSON_CreateObject();
	char url[OAUTH_URI_MAX + 32];

	/* RFC 8414 §2 */
	cJSON_AddStringToObject(j, "issuer", o->issuer);
	snprintf(url, sizeof(url), "%s/oauth/authorize", o->issuer);
	cJSON_AddStringToObject(j, "authorization_endpoint", url);
	snprintf(url, sizeof(url), "%s/oauth/token", o->issuer);
	cJSON_AddStringToObject(j, "token_endpoint", url);
	snprintf(url, sizeof(url), "%s/oauth/register", o->issuer);
	cJSON_AddStringToObject(j, "registration_endpoint", url);
	snprintf(url, sizeof(url), "%s/oauth/revoke", o->issuer);
	cJSON_AddStringToObject(j, "revocation_endpoint", url);
	cJSON_AddItemToObject(j, "scopes_supported", str_array(scopes, 2));
	cJSON_AddItemToObject(j, "response_types_supported", str_array(rtypes, 1));
	cJSON_AddItemToObject(j, "response_modes_supported", str_array(rmodes, 1));
	cJSON_AddItemToObject(j, "grant_types_supported", str_array(grants, 2));
	cJSON_AddItemToObject(j, "token_endpoint_auth_methods_supported", str_array(methods, 3));
	cJSON_AddItemToObject(j, "revocation_endpoint_auth_methods_supported",
			      str_array(methods, 3));
	cJSON_AddItemToObject(j, "code_challenge_methods_supported", str_array(pkce, 1));
	/* RFC 9207 §3 */
	cJSON_AddBoolToObject(j, "authorization_response_iss_parameter_supported", true);
	/* draft-ietf-oauth-client-id-metadata-document §6: the SDK clients
	 * use a URL client_id only when this says true */
	cJSON_AddBoolToObject(j, "client_id_metadata_document_supported", o->cimd != NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "max-age=300");
	reply_json(req, 200, "OK", j);
}

/* ---- registration ---- */

static void do_register(struct oauth *o, struct evhttp_request *req)
{
	char *body;
	cJSON *meta, *resp = NULL;
	const char *error = NULL, *desc = NULL;
	int rc;

	if (!ctype_is(req, "application/json")) {
		oauth_error(req, 400, "invalid_client_metadata",
			    "Content-Type must be application/json");
		return;
	}
	body = body_text(req);
	meta = body ? cJSON_Parse(body) : NULL;
	free(body);
	if (meta == NULL) {
		oauth_error(req, 400, "invalid_client_metadata",
			    "the body must be a JSON object of at most 16 KiB");
		return;
	}
	rc = oauth_client_register(o->db, meta, o->max_clients, time(NULL), &resp, &error, &desc);
	cJSON_Delete(meta);
	if (rc == ERR_INVALID) {
		oauth_error(req, 400, error, desc);
		return;
	}
	if (rc == ERR_RANGE) {
		oauth_error(req, 503, error, desc);
		return;
	}
	if (rc != 0) {
		oauth_error(req, 500, "server_error", "cannot register the client");
		return;
	}
	{
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(resp, "client_id");
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(resp, "client_name");
		char lb[80];
		size_t i;

		for (i = 0; cJSON_IsString(nm) && nm->valuestring[i] && i + 1 < sizeof(lb); i++)
			lb[i] = (nm->valuestring[i] >= 0x20 && nm->valuestring[i] < 0x7f)
				    ? nm->valuestring[i]
				    : '?';
		lb[i] = '\0';
		log_info("oauth: registered client %s (%s)", cid ? cid->valuestring : "?", lb);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	reply_json(req, 201, "Created", resp);
}

/* ---- client authentication (RFC 6749 §2.3) ---- */

/* Authenticates the client of a token or revocation request into *c. 0,
 * or an error response was sent. */
static int client_auth(struct oauth *o, struct evhttp_request *req, const struct evkeyvalq *q,
		       struct oauth_client *c)
{
	const char *authz =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	const char *form_id = param(q, "client_id"), *form_secret = param(q, "client_secret");
	char id[OAUTH_CLIENT_ID_MAX + 1] = "", secret[OAUTH_SECRET_MAX * 3] = "";
	bool basic = false, have_secret = false;
	int rc;

	if (authz && strncasecmp(authz, "Basic ", 6) == 0) {
		/* client_id:client_secret, each form-urlencoded, in base64 */
		unsigned char dec[(OAUTH_CLIENT_ID_MAX + OAUTH_SECRET_MAX) * 3 + 4];
		int n;
		char *colon, *uid, *usec;
		size_t alen = strlen(authz + 6);

		basic = true;
		if (alen > 4 * (sizeof(dec) / 3) - 4)
			goto bad_client;
		n = EVP_DecodeBlock(dec, (const unsigned char *)authz + 6, (int)alen);
		if (n < 0)
			goto bad_client;
		while (n > 0 && alen > 0 && authz[6 + alen - 1] == '=') {
			n--; /* EVP_DecodeBlock counts padding as data */
			alen--;
		}
		dec[n] = '\0';
		if (memchr(dec, '\0', (size_t)n) != NULL ||
		    (colon = strchr((char *)dec, ':')) == NULL)
			goto bad_client;
		*colon = '\0';
		uid = evhttp_uridecode((char *)dec, 1, NULL);
		usec = evhttp_uridecode(colon + 1, 1, NULL);
		if (uid && usec && strlen(uid) < sizeof(id) && strlen(usec) < sizeof(secret)) {
			snprintf(id, sizeof(id), "%s", uid);
			snprintf(secret, sizeof(secret), "%s", usec);
			have_secret = true;
		}
		free(uid);
		free(usec);
		if (!have_secret)
			goto bad_client;
		if (form_secret || (form_id && strcmp(form_id, id) != 0)) {
			/* §2.3: one authentication method per request */
			oauth_error(req, 400, "invalid_request",
				    "client credentials in both the header and the body");
			return -1;
		}
	} else {
		if (form_id == NULL || strlen(form_id) >= sizeof(id))
			goto bad_client;
		snprintf(id, sizeof(id), "%s", form_id);
		if (form_secret) {
			if (strlen(form_secret) >= sizeof(secret))
				goto bad_client;
			snprintf(secret, sizeof(secret), "%s", form_secret);
			have_secret = true;
		}
	}
	rc = oauth_client_get(o->db, id, c);
	if (rc == ERR_DB) {
		oauth_error(req, 500, "server_error", "database error");
		return -1;
	}
	if (rc != 0)
		goto bad_client;
	if (strcmp(c->auth_method, "none") != 0 &&
	    (!have_secret || !oauth_client_secret_ok(c, secret))) {
		oauth_client_clear(c);
		goto bad_client;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
bad_client:
	OPENSSL_cleanse(secret, sizeof(secret));
	if (basic)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
				  "Basic realm=\"mcpd\"");
	oauth_error(req, 401, "invalid_client", "client authentication failed");
	return -1;
}

/* ---- token and revocation ---- */

static void send_tokens(struct evhttp_request *req, const struct oauth_token_response *t)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "access_token", t->access_token);
	cJSON_AddStringToObject(j, "token_type", "Bearer");
	cJSON_AddNumberToObject(j, "expires_in", t->expires_in);
	cJSON_AddStringToObject(j, "scope", t->scope);
	if (t->refresh_token[0])
		cJSON_AddStringToObject(j, "refresh_token", t->refresh_token);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "Pragma", "no-cache");
	reply_json(req, 200, "OK", j);
}

static void do_token(struct oauth *o, struct evhttp_request *req)
{
	struct evkeyvalq q;
	struct oauth_client c;
	struct oauth_token_response t;
	const char *grant, *error = NULL, *desc = NULL, *resource;
	enum form_status fs = read_form(req, &q);
	int rc;

	if (fs != FORM_OK) {
		oauth_error(req, 400, "invalid_request",
			    fs == FORM_CTYPE
				? "Content-Type must be application/x-www-form-urlencoded"
			    : fs == FORM_REPEATED ? "a parameter is repeated or not printable"
						  : "malformed form body");
		return;
	}
	memset(&c, 0, sizeof(c));
	if (client_auth(o, req, &q, &c) != 0)
		goto out;
	grant = param(&q, "grant_type");
	resource = param(&q, "resource");
	if (resource && !resource_matches(o, resource)) {
		oauth_error(req, 400, "invalid_target",
			    "this server issues tokens for its own /stream only");
		goto out;
	}
	if (resource)
		resource = o->resource;
	if (grant && strcmp(grant, "authorization_code") == 0) {
		rc = oauth_code_exchange(o->db, &c, param(&q, "code"), param(&q, "redirect_uri"),
					 param(&q, "code_verifier"), resource, &o->ttl, time(NULL),
					 &t, &error, &desc);
	} else if (grant && strcmp(grant, "refresh_token") == 0) {
		rc = oauth_refresh(o->db, &c, param(&q, "refresh_token"), param(&q, "scope"),
				   resource, &o->ttl, time(NULL), &t, &error, &desc);
	} else {
		oauth_error(req, 400, grant ? "unsupported_grant_type" : "invalid_request",
			    "grant_type must be authorization_code or refresh_token");
		goto out;
	}
	if (rc == ERR_INVALID) {
		log_info("oauth: token request by %s refused: %s (%s)", c.client_id, error,
			 desc ? desc : "");
		oauth_error(req, 400, error, desc);
	} else if (rc != 0) {
		oauth_error(req, 500, "server_error", "cannot issue tokens");
	} else {
		send_tokens(req, &t);
	}
	OPENSSL_cleanse(&t, sizeof(t));
out:
	oauth_client_clear(&c);
	evhttp_clear_headers(&q);
}

static void do_revoke(struct oauth *o, struct evhttp_request *req)
{
	struct evkeyvalq q;
	struct oauth_client c;
	const char *token, *hint, *error = NULL;
	enum form_status fs = read_form(req, &q);
	int rc;

	if (fs != FORM_OK) {
		oauth_error(req, 400, "invalid_request",
			    fs == FORM_CTYPE
				? "Content-Type must be application/x-www-form-urlencoded"
				: "malformed form body");
		return;
	}
	memset(&c, 0, sizeof(c));
	if (client_auth(o, req, &q, &c) != 0)
		goto out;
	token = param(&q, "token");
	hint = param(&q, "token_type_hint");
	if (token == NULL) {
		oauth_error(req, 400, "invalid_request", "token is required");
		goto out;
	}
	if (hint && strcmp(hint, "access_token") != 0 && strcmp(hint, "refresh_token") != 0) {
		oauth_error(req, 400, "unsupported_token_type", "token_type_hint is unknown");
		goto out;
	}
	rc = oauth_revoke(o->db, &c, token, &error);
	if (rc == ERR_INVALID)
		oauth_error(req, 400, error, "the token belongs to another client");
	else if (rc != 0)
		oauth_error(req, 503, "temporarily_unavailable", "database error");
	else
		reply(req, 200, "OK", NULL, NULL, 0); /* RFC 7009 §2.2 */
out:
	oauth_client_clear(&c);
	evhttp_clear_headers(&q);
}

/* ---- the consent page ---- */

static struct pending *pending_find(struct oauth *o, const char *handle, time_t now)
{
	if (handle == NULL || strlen(handle) >= OAUTH_SECRET_MAX)
		return NULL;
	for (size_t i = 0; i < OAUTH_PENDING_MAX; i++) {
		struct pending *p = &o->pending[i];
		if (p->handle[0] && p->expires > now &&
		    CRYPTO_memcmp(p->handle, handle, strlen(p->handle) + 1) == 0)
			return p;
	}
	return NULL;
}

static void pending_drop(struct pending *p)
{
	OPENSSL_cleanse(p, sizeof(*p));
}

/* A free slot: an empty or expired one, else the one closest to expiry. */
static struct pending *pending_slot(struct oauth *o, time_t now)
{
	struct pending *best = &o->pending[0];

	for (size_t i = 0; i < OAUTH_PENDING_MAX; i++) {
		struct pending *p = &o->pending[i];
		if (p->handle[0] == '\0' || p->expires <= now)
			return p;
		if (p->expires < best->expires)
			best = p;
	}
	return best;
}

static void consent_page(struct oauth *o, struct evhttp_request *req, struct pending *p,
			 const char *message, int status)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char *buf = NULL, ck[200];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *host_start, *host_end;
	char host[256] = "";

	if (f == NULL) {
		reply(req, 500, "Internal Server Error", NULL, NULL, 0);
		return;
	}
	/* the host the code will go to, which is what the operator must judge */
	host_start = strstr(p->redirect_uri, "://");
	host_start = host_start ? host_start + 3 : p->redirect_uri;
	host_end = host_start + strcspn(host_start, "/?");
	snprintf(host, sizeof(host), "%.*s", (int)(host_end - host_start), host_start);

	page_start(f, "mcpd: authorize an MCP client");
	fputs("<h1>Authorize an MCP client</h1>", f);
	if (message) {
		fputs("<div class=\"box err\">", f);
		html(f, message);
		fputs("</div>", f);
	}
	if (p->client_host[0]) {
		/* draft-ietf-oauth-client-id-metadata-document §8.5: show the
		 * host of the client_id URL; the domain is what the operator
		 * can judge, the name is whatever the document says */
		fputs("<div class=\"box\"><p>A client published at</p><p class=\"host\">", f);
		html(f, p->client_host);
		fputs("</p><p><small>identified by its metadata document <code>", f);
		html(f, p->client_id);
		fputs("</code></small></p><p>calling itself <b>", f);
		html(f, p->client_name[0] ? p->client_name : "(no name)");
		fputs("</b> <small>(a name the client chose itself)</small> asks for access to "
		      "this DNS server:</p><ul>",
		      f);
	} else {
		fputs("<div class=\"box\"><p><b>", f);
		html(f, p->client_name[0] ? p->client_name : "An unnamed client");
		fputs("</b> <small>(name chosen by the client itself; client id <code>", f);
		html(f, p->client_id);
		fputs("</code>)</small> asks for access to this DNS server:</p><ul>", f);
	}
	fputs("<li><b>dns:read</b>: list zones, read records, history and diagnostics</li>", f);
	if (p->want_write)
		fputs("<li><b>dns:write</b>: change zones and records (every change is validated "
		      "and journaled, and can be reverted)</li>",
		      f);
	fputs("</ul><p>After approval your browser is sent to <b>", f);
	html(f, host);
	fputs("</b>:<br><code>", f);
	html(f, p->redirect_uri);
	fputs("</code></p><p><small>Tokens are for <code>", f);
	html(f, o->resource);
	fputs("</code> only.</small></p></div>", f);
	fputs("<div class=\"box warn\">Approve only if you started this connection yourself "
	      "and you recognise the site above. The client gets at most what the credential "
	      "you enter may do: a read token grants dns:read only, and its zones limit the "
	      "grant.</div>",
	      f);
	fputs("<form method=\"post\" action=\"", f);
	html(f, o->issuer);
	fputs("/oauth/authorize\"><input type=\"hidden\" name=\"request\" value=\"", f);
	html(f, p->handle);
	fputs("\"><input type=\"hidden\" name=\"csrf\" value=\"", f);
	html(f, p->csrf);
	fputs("\"><p><label for=\"credential\">An mcpd token (<code>dnsmcp_...</code>) or a "
	      "one-time code from <code>mcpd oauth approve</code></label><br>"
	      "<input type=\"password\" id=\"credential\" name=\"credential\" "
	      "autocomplete=\"off\" required></p>"
	      "<p><label for=\"zones\">Limit to zones (optional, comma-separated, within the "
	      "credential's zones)</label><br><input type=\"text\" id=\"zones\" name=\"zones\" "
	      "placeholder=\"example.com, *.example.org\"></p>"
	      "<p><button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>"
	      "<button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny"
	      "</button></p></form><p><small>This page expires in 10 minutes.</small></p>"
	      "</body></html>",
	      f);
	fclose(f);
	snprintf(ck, sizeof(ck),
		 CSRF_COOKIE "=%s; Path=/oauth/authorize; Max-Age=%d; HttpOnly; "
			     "SameSite=Strict%s",
		 p->csrf, OAUTH_PENDING_TTL, o->secure ? "; Secure" : "");
	evhttp_add_header(out, "Set-Cookie", ck);
	add_page_headers(req);
	reply(req, status, status == 200 ? "OK" : "Forbidden", "text/html; charset=utf-8", buf,
	      len);
	free(buf);
}

static bool challenge_ok(const char *c)
{
	if (strlen(c) != OAUTH_CHALLENGE_LEN)
		return false;
	for (; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

/* A printable, bounded copy of a client_id for the log. */
static void log_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < cap; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static void cimd_refused(struct evhttp_request *req, int status, const char *url, const char *why)
{
	char lb[OAUTH_CLIENT_ID_MAX + 1], *msg = NULL;

	log_copy(lb, sizeof(lb), url);
	log_info("oauth: client metadata document %s refused: %s", lb, why);
	if (asprintf(&msg, "The client's metadata document %s cannot be used: %s.", lb, why) < 0)
		msg = NULL;
	error_page(req, status,
		   status == 504   ? "Gateway Timeout"
		   : status == 503 ? "Service Unavailable"
		   : status == 500 ? "Internal Server Error"
				   : "Bad Request",
		   msg ? msg : why);
	free(msg);
}

static void authorize_request(struct oauth *o, struct evhttp_request *req, const char *query,
			      bool fetched);

static void waiter_unlink(struct oauth *o, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		o->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

static void waiter_free(struct oauth *o, struct waiter *w)
{
	if (w->job)
		oauth_cimd_cancel(o->cimd, w->job);
	waiter_unlink(o, w);
	free(w->query);
	free(w);
}

/* The browser went away while its client's document was being fetched. */
static void on_waiter_close(struct evhttp_connection *evcon, void *arg)
{
	struct waiter *w = arg;
	struct oauth *o = w->o;

	(void)evcon;
	log_debug("oauth: the browser left while %s was being fetched", w->url);
	/* a request libevent detached from its dying connection is ours
	 * (as in http.c's on_pending_close) */
	if (evhttp_request_get_connection(w->req) == NULL)
		evhttp_request_free(w->req);
	waiter_free(o, w);
}

/* The fetch is done (worker or deadline): store the client, go on. */
static void on_document(void *arg, struct oauth_cimd_result *r)
{
	struct waiter *w = arg;
	struct oauth *o = w->o;
	struct evhttp_request *req = w->req;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	int rc;

	w->job = NULL; /* done: nothing to cancel any more */
	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (r->status != 0) {
		cimd_refused(req, r->timed_out ? 504 : 400, w->url, r->why);
		goto out;
	}
	rc = oauth_cimd_store(o->db, w->url, r->meta, time(NULL), r->ttl_s, o->max_clients);
	cJSON_Delete(r->meta);
	r->meta = NULL;
	if (rc == ERR_RANGE) {
		cimd_refused(req, 503, w->url, "too many clients are known; try again later");
		goto out;
	}
	if (rc != 0) {
		cimd_refused(req, 500, w->url, "database error");
		goto out;
	}
	log_info("oauth: fetched the client metadata document %s (cached %u s)", w->url, r->ttl_s);
	authorize_request(o, req, w->query, true);
out:
	waiter_free(o, w);
}

/* Fetches client_id's document off the loop; the reply comes later. */
static void cimd_fetch(struct oauth *o, struct evhttp_request *req, const char *query,
		       const char *client_id, const char *redirect)
{
	struct waiter *w = calloc(1, sizeof(*w));
	bool busy = false;

	if (w == NULL || (w->query = strdup(query)) == NULL) {
		free(w);
		error_page(req, 500, "Internal Server Error", "Out of memory.");
		return;
	}
	w->o = o;
	w->req = req;
	snprintf(w->url, sizeof(w->url), "%s", client_id);
	w->job = oauth_cimd_start(o->cimd, client_id, redirect, on_document, w, &busy);
	if (w->job == NULL) {
		free(w->query);
		free(w);
		if (busy) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
					  "5");
			cimd_refused(req, 503, client_id,
				     "too many client metadata documents are being fetched right "
				     "now; try again in a few seconds");
		} else {
			cimd_refused(req, 500, client_id, "cannot start fetching it");
		}
		return;
	}
	w->next = o->waiters;
	if (o->waiters)
		o->waiters->prev = w;
	o->waiters = w;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_waiter_close, w);
}

static void authorize_get(struct oauth *o, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;

	if (query == NULL || strlen(query) > OAUTH_FORM_MAX) {
		error_page(req, 400, "Bad Request", "The authorization request has no parameters.");
		return;
	}
	authorize_request(o, req, query, false);
}

/* The client_id URL's host[:port] for the consent page. */
static void url_host(const char *url, char *out, size_t cap)
{
	const char *h = strstr(url, "://");
	size_t n;

	h = h ? h + 3 : url;
	n = strcspn(h, "/?#");
	snprintf(out, cap, "%.*s", (int)(n < 255 ? n : 255), h);
}

/*
 * The authorization request in query (GET /oauth/authorize). A client_id
 * that is an https URL names a client metadata document: unless a fresh
 * copy is stored (or fetched is set: it was just fetched), fetch it first
 * and come back here when it is in.
 */
static void authorize_request(struct oauth *o, struct evhttp_request *req, const char *query,
			      bool fetched)
{
	const char *dup, *client_id, *redirect, *state, *rtype, *chal, *method, *scope, *resource;
	struct evkeyvalq q;
	struct oauth_client c;
	struct pending *p;
	bool r, w;
	time_t now = time(NULL);
	int rc;

	memset(&c, 0, sizeof(c));
	if (parse_params(query, &q, &dup) != 0) {
		evhttp_clear_headers(&q);
		error_page(req, 400, "Bad Request",
			   "The authorization request is malformed: a parameter is repeated or "
			   "holds control characters.");
		return;
	}
	client_id = param(&q, "client_id");
	redirect = param(&q, "redirect_uri");
	state = param(&q, "state");
	if (client_id && oauth_cimd_is_url(client_id)) {
		char host[256], target[OAUTH_CLIENT_ID_MAX + 1];
		unsigned port;
		const char *why;

		if (o->cimd == NULL) {
			cimd_refused(req, 400, client_id,
				     "this server does not fetch client metadata documents "
				     "(oauth-client-metadata no); the client must register (RFC "
				     "7591)");
			goto out;
		}
		if (oauth_cimd_url_check(client_id, host, sizeof(host), &port, target,
					 sizeof(target), &why) != 0) {
			cimd_refused(req, 400, client_id, why);
			goto out;
		}
		rc = oauth_client_get(o->db, client_id, &c);
		if (rc == ERR_DB) {
			error_page(req, 500, "Internal Server Error", "Database error.");
			goto out;
		}
		if (rc == 0 && !c.cimd) {
			/* a registered client cannot have a URL id; refuse
			 * rather than mix the two kinds */
			cimd_refused(req, 400, client_id, "a registered client has this id");
			goto out;
		}
		/* draft §5.2: a cached copy serves until it expires */
		if (!fetched && (rc != 0 || c.expires_at <= (int64_t)now)) {
			oauth_client_clear(&c);
			cimd_fetch(o, req, query, client_id, redirect);
			goto out;
		}
	} else {
		rc = client_id ? oauth_client_get(o->db, client_id, &c) : ERR_NOTFOUND;
	}
	if (rc == ERR_DB) {
		error_page(req, 500, "Internal Server Error", "Database error.");
		goto out;
	}
	if (rc != 0) {
		error_page(req, 400, "Bad Request",
			   "Unknown client_id: the client must register first (RFC 7591).");
		goto out;
	}
	if (redirect == NULL || !oauth_client_redirect_ok(&c, redirect)) {
		/* never redirect to an unregistered URI (RFC 6749 §4.1.2.1) */
		char lb[OAUTH_CLIENT_ID_MAX + 1];

		log_copy(lb, sizeof(lb), c.client_id);
		log_info("oauth: authorization for %s refused: redirect_uri not registered", lb);
		error_page(req, 400, "Bad Request",
			   c.cimd ? "The redirect_uri is not one of the redirect_uris of the "
				    "client's metadata document (compared exactly)."
				  : "The redirect_uri is not registered for this client (compared "
				    "exactly).");
		goto out;
	}
	if (state && strlen(state) > OAUTH_STATE_MAX) {
		redirect_error(o, req, redirect, NULL, "invalid_request", "state is too long");
		goto out;
	}
	rtype = param(&q, "response_type");
	chal = param(&q, "code_challenge");
	method = param(&q, "code_challenge_method");
	scope = param(&q, "scope");
	resource = param(&q, "resource");
	if (rtype == NULL || strcmp(rtype, "code") != 0) {
		redirect_error(o, req, redirect, state, "unsupported_response_type",
			       "only response_type=code is supported");
		goto out;
	}
	if (chal == NULL || method == NULL || strcmp(method, "S256") != 0 || !challenge_ok(chal)) {
		redirect_error(o, req, redirect, state, "invalid_request",
			       "PKCE is required: code_challenge (43 base64url characters) with "
			       "code_challenge_method=S256");
		goto out;
	}
	if (oauth_scope_parse(scope, &r, &w) != 0) {
		redirect_error(o, req, redirect, state, "invalid_scope",
			       "scopes are dns:read and dns:write");
		goto out;
	}
	if (resource && !resource_matches(o, resource)) {
		/* RFC 8707 §2 */
		redirect_error(o, req, redirect, state, "invalid_target",
			       "this server authorizes access to its own /stream only");
		goto out;
	}
	p = pending_slot(o, now);
	pending_drop(p);
	if (oauth_secret("", p->handle, sizeof(p->handle)) != 0 ||
	    oauth_secret("", p->csrf, sizeof(p->csrf)) != 0) {
		pending_drop(p);
		error_page(req, 500, "Internal Server Error", "No randomness available.");
		goto out;
	}
	p->expires = now + OAUTH_PENDING_TTL;
	p->client = c.id;
	snprintf(p->client_id, sizeof(p->client_id), "%s", c.client_id);
	snprintf(p->client_name, sizeof(p->client_name), "%s", c.name);
	if (c.cimd)
		url_host(c.client_id, p->client_host, sizeof(p->client_host));
	snprintf(p->redirect_uri, sizeof(p->redirect_uri), "%s", redirect);
	p->has_state = state != NULL;
	snprintf(p->state, sizeof(p->state), "%s", state ? state : "");
	snprintf(p->challenge, sizeof(p->challenge), "%s", chal);
	p->want_write = w;
	consent_page(o, req, p, NULL, 200);
out:
	oauth_client_clear(&c);
	evhttp_clear_headers(&q);
}

static void authorize_post(struct oauth *o, struct evhttp_request *req)
{
	struct evkeyvalq q;
	const char *handle, *csrf, *decision, *cred, *zones;
	char ck[OAUTH_SECRET_MAX], code[OAUTH_SECRET_MAX], by[AUTH_NAME_MAX + 16];
	char granted_zones[OAUTH_ZONES_MAX], approver_zones[OAUTH_ZONES_MAX];
	struct auth_identity who;
	struct oauth_approval a;
	struct pending *p;
	bool can_write = false, write;
	time_t now = time(NULL);
	enum form_status fs;
	int rc;

	fs = read_form(req, &q);
	if (fs != FORM_OK) {
		error_page(req, 400, "Bad Request",
			   fs == FORM_CTYPE ? "The form must be sent as a form."
					    : "The form is malformed.");
		return;
	}
	handle = param(&q, "request");
	csrf = param(&q, "csrf");
	p = pending_find(o, handle, now);
	if (p == NULL) {
		error_page(req, 400, "Bad Request",
			   "This authorization request is unknown or expired (10 minutes).");
		goto out;
	}
	if (csrf == NULL || !cookie(req, CSRF_COOKIE, ck, sizeof(ck)) ||
	    strlen(csrf) != strlen(p->csrf) || strlen(ck) != strlen(p->csrf) ||
	    CRYPTO_memcmp(csrf, p->csrf, strlen(p->csrf)) != 0 ||
	    CRYPTO_memcmp(ck, p->csrf, strlen(p->csrf)) != 0) {
		log_warnx("oauth: consent form for %s without a matching CSRF token and cookie",
			  p->client_id);
		error_page(req, 403, "Forbidden",
			   "The form did not come from the page this server showed (CSRF check "
			   "failed). Reload the authorization page from your client.");
		goto out;
	}
	decision = param(&q, "decision");
	if (decision && strcmp(decision, "deny") == 0) {
		log_info("oauth: the operator denied client %s", p->client_id);
		redirect_error(o, req, p->redirect_uri, p->has_state ? p->state : NULL,
			       "access_denied", "the operator denied the request");
		pending_drop(p);
		goto out;
	}
	if (decision == NULL || strcmp(decision, "approve") != 0) {
		error_page(req, 400, "Bad Request", "Choose Approve or Deny.");
		goto out;
	}
	cred = param(&q, "credential");
	rc = ERR_NOTFOUND;
	if (cred && strlen(cred) <= AUTH_TOKEN_MAX) {
		if (strncmp(cred, "dnsmcp_", 7) == 0) {
			rc = auth_static_token(o->auth, cred, strlen(cred), session_now_ms(), &who);
			if (rc == 0) {
				can_write = who.can_write;
				snprintf(approver_zones, sizeof(approver_zones), "%s", who.zones);
				snprintf(by, sizeof(by), "%s", who.name);
			}
		} else {
			rc = oauth_approval_take(o->db, cred, now, &can_write, approver_zones,
						 sizeof(approver_zones), by, sizeof(by));
		}
	}
	if (rc == ERR_DB) {
		error_page(req, 500, "Internal Server Error", "Database error.");
		goto out;
	}
	if (rc != 0) {
		log_info("oauth: wrong approval credential for client %s (attempt %d)",
			 p->client_id, p->attempts + 1);
		if (++p->attempts >= OAUTH_PENDING_ATTEMPTS) {
			pending_drop(p);
			error_page(
			    req, 403, "Forbidden",
			    "Too many wrong credentials: this authorization request is void.");
		} else {
			consent_page(o, req, p,
				     "That is not a valid mcpd token or unused approval code.",
				     403);
		}
		goto out;
	}
	zones = param(&q, "zones");
	if (zones) {
		if (!oauth_zones_within(zones, approver_zones)) {
			consent_page(o, req, p,
				     "The zones must be names or globs within the credential's "
				     "zones; nothing was approved.",
				     403);
			goto out;
		}
		snprintf(granted_zones, sizeof(granted_zones), "%s", zones);
	} else {
		snprintf(granted_zones, sizeof(granted_zones), "%s", approver_zones);
	}
	/* the grant never exceeds the approver: a read credential grants
	 * dns:read even when dns:write was asked (RFC 6749 §3.3) */
	write = p->want_write && can_write;
	memset(&a, 0, sizeof(a));
	a.client = p->client;
	a.redirect_uri = p->redirect_uri;
	a.code_challenge = p->challenge;
	a.resource = o->resource;
	a.scope = oauth_scope_text(write);
	a.zones = granted_zones;
	a.approved_by = by;
	if (oauth_code_create(o->db, &a, o->ttl.code_s, now, code) != 0) {
		error_page(req, 500, "Internal Server Error", "Cannot issue a code.");
		goto out;
	}
	log_info("oauth: %s approved client %s (%s): %s, zones %s", by, p->client_id,
		 p->client_name, a.scope, granted_zones);
	{
		char *qs = NULL;
		size_t len = 0;
		bool first = true;
		FILE *f = open_memstream(&qs, &len);

		if (f == NULL) {
			error_page(req, 500, "Internal Server Error", "Out of memory.");
			goto out;
		}
		q_add(f, "code", code, &first);
		if (p->has_state)
			q_add(f, "state", p->state, &first);
		q_add(f, "iss", o->issuer, &first); /* RFC 9207 §2 */
		fclose(f);
		redirect_to(req, p->redirect_uri, qs);
		free(qs);
	}
	OPENSSL_cleanse(code, sizeof(code));
	pending_drop(p);
out:
	evhttp_clear_headers(&q);
}

/* ---- dispatch ---- */

void oauth_handle(struct oauth *o, struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;

	if (strcmp(path, "/.well-known/oauth-protected-resource") == 0 ||
	    strcmp(path, "/.well-known/oauth-protected-resource/stream") == 0) {
		/* RFC 9728 §3.1: the path-suffixed form is the one for
		 * /stream; the bare one serves clients that try the root */
		if (!get)
			goto not_allowed_get;
		protected_resource_metadata(o, req);
	} else if (strcmp(path, "/.well-known/oauth-authorization-server") == 0) {
		if (!get)
			goto not_allowed_get;
		authorization_server_metadata(o, req);
	} else if (strcmp(path, "/oauth/authorize") == 0) {
		if (m == EVHTTP_REQ_GET)
			authorize_get(o, req);
		else if (m == EVHTTP_REQ_POST)
			authorize_post(o, req);
		else {
			evhttp_add_header(out, "Allow", "GET, POST");
			oauth_error(req, 405, "invalid_request", "GET or POST");
		}
	} else if (strcmp(path, "/oauth/token") == 0 || strcmp(path, "/oauth/register") == 0 ||
		   strcmp(path, "/oauth/revoke") == 0) {
		if (m != EVHTTP_REQ_POST) {
			evhttp_add_header(out, "Allow", "POST");
			oauth_error(req, 405, "invalid_request", "POST only");
		} else if (path[7] == 't') {
			do_token(o, req);
		} else if (path[7] == 'r' && path[8] == 'e' && path[9] == 'g') {
			do_register(o, req);
		} else {
			do_revoke(o, req);
		}
	} else {
		oauth_error(req, 404, "not_found", "no such OAuth endpoint");
	}
	return;
not_allowed_get:
	evhttp_add_header(out, "Allow", "GET");
	oauth_error(req, 405, "invalid_request", "GET only");
}

void oauth_tick(struct oauth *o)
{
	time_t now = time(NULL);
	int n;

	for (size_t i = 0; i < OAUTH_PENDING_MAX; i++)
		if (o->pending[i].handle[0] && o->pending[i].expires <= now)
			pending_drop(&o->pending[i]);
	n = oauth_prune(o->db, now);
	if (n > 0)
		log_debug("oauth: pruned %d expired codes and tokens", n);
	else if (n < 0)
		log_warnx("oauth: cannot prune expired tokens: %s", sqlite3_errmsg(o->db));
}
