/*
 * oauth_store.c: clients, codes, grants and tokens in SQLite
 * (oauth_store.h, schema/002_oauth.sql).
 *
 * Every state change that reads before it writes runs inside BEGIN
 * IMMEDIATE, so two requests racing with the same code or refresh token
 * cannot both win: the second sees used_at set and is treated as a replay.
 * Lookups go by the SHA-256 of the presented secret; the stored hash is
 * compared again with token_hash_equal so no timing depends on the secret.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "err.h"
#include "log.h"
#include "oauth_store.h"
#include "token.h"
#include "tools.h"

#define DAY_S 86400

static int exec1(sqlite3 *db, const char *sql);

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Base64url without padding (RFC 4648 §5; RFC 7636 Appendix A). out must
 * hold 4 * ceil(n / 3) + 1 bytes. */
static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}

int oauth_secret(const char *prefix, char *out, size_t cap)
{
	unsigned char rnd[32];
	size_t plen = strlen(prefix);

	if (plen + 43 + 1 > cap)
		return ERR_SPACE;
	if (token_random(rnd, sizeof(rnd)) != 0)
		return ERR_IO;
	memcpy(out, prefix, plen);
	b64url_encode(rnd, sizeof(rnd), out + plen);
	return 0;
}

void oauth_s256(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) != 1) {
		/* cannot happen with a built-in digest; fail closed: no
		 * challenge is the empty string */
		out[0] = '\0';
		return;
	}
	b64url_encode(md, sizeof(md), out);
}

bool oauth_verifier_ok(const char *v)
{
	size_t n = strlen(v);

	if (n < OAUTH_VERIFIER_MIN || n > OAUTH_VERIFIER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("-._~", v[i]))
			return false;
	return true;
}

int oauth_scope_parse(const char *scope, bool *read, bool *write)
{
	const char *p = scope;

	*read = *write = false;
	if (scope == NULL || scope[strspn(scope, " ")] == '\0') {
		*read = *write = true;
		return 0;
	}
	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n == strlen(OAUTH_SCOPE_READ) && strncmp(p, OAUTH_SCOPE_READ, n) == 0) {
			if (*read && !*write)
				return ERR_INVALID;
			*read = true;
		} else if (n == strlen(OAUTH_SCOPE_WRITE) &&
			   strncmp(p, OAUTH_SCOPE_WRITE, n) == 0) {
			if (*write)
				return ERR_INVALID;
			*write = *read = true;
		} else {
			return ERR_INVALID;
		}
		p += n;
	}
	return 0;
}

const char *oauth_scope_text(bool write)
{
	return write ? OAUTH_SCOPES : OAUTH_SCOPE_READ;
}

static bool globs_hold(const char *have, const char *glob)
{
	char g[300];
	size_t n;
	const char *p = have;

	while (*p) {
		p = tool_glob_next(p, g, sizeof(g), &n);
		if (n != 0 && n != (size_t)-1 && (strcmp(g, "*") == 0 || strcmp(g, glob) == 0))
			return true;
	}
	return false;
}

bool oauth_zones_within(const char *want, const char *have)
{
	char g[300];
	size_t n, count = 0;
	const char *p = want;

	if (strlen(want) >= OAUTH_ZONES_MAX)
		return false;
	while (*p) {
		p = tool_glob_next(p, g, sizeof(g), &n);
		if (n == 0)
			continue;
		if (n == (size_t)-1)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)g[i]) && !strchr(".-_*?", g[i]))
				return false;
		count++;
		if (globs_hold(have, g))
			continue;
		/* a plain name the approver's globs match is within them; a
		 * pattern must be one of theirs verbatim (no glob algebra) */
		if (strpbrk(g, "*?") == NULL && tool_zone_allowed(have, g))
			continue;
		return false;
	}
	return count > 0;
}

/* ---- clients ---- */

static bool loopback_host(const char *h)
{
	return strcasecmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 ||
	       strcmp(h, "::1") == 0 || strcmp(h, "[::1]") == 0;
}

/* Redirect URIs we accept at registration (OAuth 2.1 §2.3.1, RFC 8252 §7):
 * https anywhere, http only to the loopback interface, and private-use
 * schemes in reverse-domain form (com.example.app:/cb) for native apps.
 * No fragment (RFC 6749 §3.1.2), no userinfo, printable ASCII only. */
static bool redirect_uri_ok(const char *u)
{
	struct evhttp_uri *uri;
	const char *scheme, *host;
	bool ok = false;

	if (strlen(u) == 0 || strlen(u) > OAUTH_URI_MAX)
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	if (strchr(u, '#'))
		return false;
	uri = evhttp_uri_parse_with_flags(u, 0);
	if (uri == NULL)
		return false;
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	if (scheme == NULL || evhttp_uri_get_userinfo(uri) != NULL)
		goto out;
	if (strcasecmp(scheme, "https") == 0)
		ok = host && host[0];
	else if (strcasecmp(scheme, "http") == 0)
		ok = host && loopback_host(host);
	else
		ok = strchr(scheme, '.') != NULL;
out:
	evhttp_uri_free(uri);
	return ok;
}

/* A string member of meta, or NULL; *bad set when present but not a
 * string of at most max bytes. */
static const char *meta_str(const cJSON *meta, const char *k, size_t max, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, k);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > max) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

/* Every element of arr (a JSON array of strings) is in allowed[]. */
static bool strings_within(const cJSON *arr, const char *const *allowed, size_t n)
{
	const cJSON *e;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0 || cJSON_GetArraySize(arr) > 8)
		return false;
	cJSON_ArrayForEach(e, arr)
	{
		bool found = false;

		if (!cJSON_IsString(e))
			return false;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(e->valuestring, allowed[i]) == 0;
		if (!found)
			return false;
	}
	return true;
}

static bool array_has(const cJSON *arr, const char *s)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) &&
				       strcmp(e->valuestring, s) == 0) return true;
	return false;
}

/* Client metadata rules shared by registration (RFC 7591 §2) and metadata
 * documents (CIMD §4.1 defers to the same fields). */
static const char *const meta_grants[] = {"authorization_code", "refresh_token"};
static const char *const meta_rtypes[] = {"code"};
/* the string fields kept and shown, client_name first (OAUTH_NAME_MAX) */
static const char *const meta_keep[] = {"client_name", "client_uri",	  "logo_uri",
					"scope",       "tos_uri",	  "policy_uri",
					"software_id", "software_version"};
#define META_KEEP_N (sizeof(meta_keep) / sizeof(meta_keep[0]))

/* redirect_uris: 1 to OAUTH_MAX_REDIRECTS URIs that redirect_uri_ok()
 * accepts. NULL, or why not (a static sentence). */
static const char *meta_redirects_check(const cJSON *uris)
{
	const cJSON *e;

	if (!cJSON_IsArray(uris) || cJSON_GetArraySize(uris) < 1 ||
	    cJSON_GetArraySize(uris) > OAUTH_MAX_REDIRECTS)
		return "redirect_uris must be an array of 1 to 8 URIs";
	cJSON_ArrayForEach(e, uris)
	{
		if (!cJSON_IsString(e) || !redirect_uri_ok(e->valuestring))
			return "redirect URIs must be https, http on a loopback address, or a "
			       "reverse-domain private-use scheme, without a fragment";
	}
	return NULL;
}

/* grant_types, response_types, the kept string fields and scope. NULL, or
 * why not (a static sentence). */
static const char *meta_fields_check(const cJSON *meta)
{
	const cJSON *gt = cJSON_GetObjectItemCaseSensitive(meta, "grant_types");
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(meta, "response_types");
	const char *scope;
	bool bad = false, r1, w1;

	if (gt && !strings_within(gt, meta_grants, 2))
		return "grant_types may hold authorization_code and refresh_token only";
	if (gt && !array_has(gt, "authorization_code"))
		return "grant_types must include authorization_code";
	if (rt && !strings_within(rt, meta_rtypes, 1))
		return "response_types may hold code only";
	for (size_t i = 0; i < META_KEEP_N; i++)
		(void)meta_str(meta, meta_keep[i], i == 0 ? OAUTH_NAME_MAX : OAUTH_URI_MAX, &bad);
	if (bad)
		return "client_name (at most 100 bytes) and the URI fields must be strings";
	scope = meta_str(meta, "scope", OAUTH_URI_MAX, &bad);
	if (scope && oauth_scope_parse(scope, &r1, &w1) != 0)
		return "scope may hold dns:read and dns:write only";
	return NULL;
}

/* Makes room for one more client when max are registered: the oldest one
 * registered over a day ago that never got a token goes. 0 or ERR_RANGE. */
static int make_room(sqlite3 *db, unsigned max, time_t now)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM oauth_clients", -1, &st, NULL) !=
	    SQLITE_OK)
		return ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n < (int64_t)max)
		return 0;
	if (sqlite3_prepare_v2(
		db,
		"DELETE FROM oauth_clients WHERE id = (SELECT id FROM oauth_clients"
		" WHERE last_used_at IS NULL AND created_at <"
		" strftime('%Y-%m-%dT%H:%M:%fZ', ?1, 'unixepoch') ORDER BY id LIMIT 1)",
		-1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, (int64_t)now - DAY_S);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ERR_DB;
	return sqlite3_changes(db) == 1 ? 0 : ERR_RANGE;
}

int oauth_client_register(sqlite3 *db, const cJSON *meta, unsigned max_clients, time_t now,
			  cJSON **resp, const char **error, const char **desc)
{
	static const char *const methods[] = {"none", "client_secret_post", "client_secret_basic"};
	const cJSON *uris, *gt;
	const char *method;
	char client_id[OAUTH_SECRET_MAX], secret[OAUTH_SECRET_MAX], hash[TOKEN_HASH_HEXLEN + 1];
	char *uris_text = NULL, *meta_text = NULL;
	sqlite3_stmt *st = NULL;
	cJSON *r = NULL;
	bool bad = false, rs;
	int rc, ret = ERR_DB;

	*resp = NULL;
	*error = "invalid_client_metadata";
	*desc = NULL;
	if (!cJSON_IsObject(meta)) {
		*desc = "the body must be a JSON object of client metadata";
		return ERR_INVALID;
	}
	uris = cJSON_GetObjectItemCaseSensitive(meta, "redirect_uris");
	if ((*desc = meta_redirects_check(uris)) != NULL) {
		*error = "invalid_redirect_uri";
		return ERR_INVALID;
	}
	method = meta_str(meta, "token_endpoint_auth_method", 40, &bad);
	if (method == NULL)
		method = "client_secret_basic"; /* RFC 7591 §2 default */
	rs = !bad;
	if (rs) {
		rs = false;
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			rs |= strcmp(method, methods[i]) == 0;
	}
	if (!rs) {
		*desc = "token_endpoint_auth_method must be none, client_secret_post or "
			"client_secret_basic";
		return ERR_INVALID;
	}
	if ((*desc = meta_fields_check(meta)) != NULL)
		return ERR_INVALID;
	gt = cJSON_GetObjectItemCaseSensitive(meta, "grant_types");
	*error = NULL;

	rc = make_room(db, max_clients, now);
	if (rc != 0) {
		if (rc == ERR_RANGE) {
			*error = "temporarily_unavailable";
			*desc = "too many registered clients; try again later";
		}
		return rc;
	}
	if (oauth_secret(OAUTH_CLIENT_PREFIX, client_id, sizeof(client_id)) != 0 ||
	    oauth_secret(OAUTH_SECRET_PREFIX, secret, sizeof(secret)) != 0)
		return ERR_IO;
	token_hash_hex(secret, strlen(secret), hash);

	r = cJSON_CreateObject();
	if (r == NULL)
		return ERR_NOMEM;
	cJSON_AddStringToObject(r, "client_id", client_id);
	cJSON_AddNumberToObject(r, "client_id_issued_at", (double)now);
	if (strcmp(method, "none") != 0) {
		cJSON_AddStringToObject(r, "client_secret", secret);
		cJSON_AddNumberToObject(r, "client_secret_expires_at", 0);
	}
	cJSON_AddItemToObject(r, "redirect_uris", cJSON_Duplicate(uris, 1));
	cJSON_AddStringToObject(r, "token_endpoint_auth_method", method);
	cJSON_AddItemToObject(
	    r, "grant_types",
	    gt ? cJSON_Duplicate(gt, 1)
	       : cJSON_CreateStringArray((const char *const[]){"authorization_code"}, 1));
	cJSON_AddItemToObject(r, "response_types",
			      cJSON_CreateStringArray((const char *const[]){"code"}, 1));
	for (size_t i = 0; i < META_KEEP_N; i++) {
		const char *v = meta_str(meta, meta_keep[i], OAUTH_URI_MAX, &bad);
		if (v)
			cJSON_AddStringToObject(r, meta_keep[i], v);
	}
	uris_text = cJSON_PrintUnformatted(uris);
	meta_text = cJSON_PrintUnformatted(r);
	if (uris_text == NULL || meta_text == NULL) {
		ret = ERR_NOMEM;
		goto fail;
	}
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO oauth_clients(client_id, secret_hash, auth_method, name,"
		" redirect_uris, metadata) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
	if (strcmp(method, "none") != 0)
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
	{
		const char *nm = meta_str(meta, "client_name", OAUTH_NAME_MAX, &bad);
		sqlite3_bind_text(st, 4, nm ? nm : "", -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 5, uris_text, -1, SQLITE_STATIC);
	/* the stored copy never holds the secret */
	{
		cJSON *copy = cJSON_Parse(meta_text);
		char *txt;

		cJSON_DeleteItemFromObjectCaseSensitive(copy, "client_secret");
		txt = copy ? cJSON_PrintUnformatted(copy) : NULL;
		cJSON_Delete(copy);
		if (txt == NULL) {
			ret = ERR_NOMEM;
			goto fail;
		}
		free(meta_text);
		meta_text = txt;
	}
	sqlite3_bind_text(st, 6, meta_text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	free(uris_text);
	free(meta_text);
	*resp = r;
	return 0;
fail:
	if (ret == ERR_DB)
		log_warnx("oauth: cannot register a client: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(uris_text);
	free(meta_text);
	cJSON_Delete(r);
	return ret;
}

int oauth_client_get(sqlite3 *db, const char *client_id, struct oauth_client *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = ERR_DB;

	memset(out, 0, sizeof(*out));
	if (strlen(client_id) >= sizeof(out->client_id))
		return ERR_NOTFOUND;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, client_id, coalesce(secret_hash, ''), auth_method, name,"
			       " redirect_uris, metadata, fetched_at IS NOT NULL,"
			       " coalesce(expires_at, 0) FROM oauth_clients WHERE client_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *cid = (const char *)sqlite3_column_text(st, 1);
		const char *sh = (const char *)sqlite3_column_text(st, 2);
		const char *am = (const char *)sqlite3_column_text(st, 3);
		const char *nm = (const char *)sqlite3_column_text(st, 4);
		const char *ru = (const char *)sqlite3_column_text(st, 5);
		const char *md = (const char *)sqlite3_column_text(st, 6);
		cJSON *m = md ? cJSON_Parse(md) : NULL;
		const cJSON *gt = cJSON_GetObjectItemCaseSensitive(m, "grant_types");

		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->client_id, sizeof(out->client_id), "%s", cid ? cid : "");
		snprintf(out->secret_hash, sizeof(out->secret_hash), "%s", sh ? sh : "");
		snprintf(out->auth_method, sizeof(out->auth_method), "%s", am ? am : "none");
		snprintf(out->name, sizeof(out->name), "%s", nm ? nm : "");
		out->refresh = gt != NULL && array_has(gt, "refresh_token");
		out->cimd = sqlite3_column_int(st, 7) != 0;
		out->expires_at = sqlite3_column_int64(st, 8);
		cJSON_Delete(m);
		out->redirect_uris = strdup(ru ? ru : "[]");
		ret = out->redirect_uris ? 0 : ERR_NOMEM;
	} else if (rc == SQLITE_DONE) {
		ret = ERR_NOTFOUND;
	}
	sqlite3_finalize(st);
	return ret;
}

/* ---- client metadata documents ---- */

/*
 * RFC 8259 §8.1: JSON text exchanged between systems MUST be UTF-8, and
 * §7: control characters inside strings MUST be escaped. cJSON checks
 * neither, and it ends a string at a NUL, raw or escaped: a client_id of
 * "https://a.example/c\u0000junk" would compare equal to the URL it was
 * fetched from while the document says otherwise. So the raw text is
 * checked first: well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF), no control bytes but whitespace between tokens,
 * none at all inside strings, and no \u0000.
 */
static bool cimd_text_ok(const unsigned char *s, size_t n)
{
	bool in_str = false;

	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t more;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			if (c < 0x20 && (in_str || (c != '\t' && c != '\n' && c != '\r')))
				return false;
			if (c == '"') {
				in_str = !in_str;
			} else if (in_str && c == '\\') {
				if (i + 1 >= n)
					return false;
				if (s[i + 1] == 'u' && n - i >= 6 &&
				    memcmp(s + i + 2, "0000", 4) == 0)
					return false;
				i++; /* the escaped character: a \" does not end the string */
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
		else if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
		if (n - i <= more || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += more + 1;
	}
	return true;
}

/* RFC 8259 §4: with a name twice, which member counts is up to the
 * parser; cJSON takes the first, others the last. One reading only. */
static bool cimd_names_unique(const cJSON *obj)
{
	for (const cJSON *a = obj->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return false;
	return true;
}

int oauth_cimd_doc_check(const char *url, const char *body, size_t len, const char *redirect_uri,
			 cJSON **out, const char **why)
{
	const cJSON *cid, *uris, *gt, *method;
	const char *rest = NULL;
	cJSON *doc = NULL, *r = NULL;
	bool bad = false;

	*out = NULL;
	*why = NULL;
	/* §8.7: the size we read is bounded; a longer document is an error,
	 * never a truncated one */
	if (len > OAUTH_CIMD_DOC_MAX) {
		*why = "the document is larger than 5120 bytes";
		return ERR_INVALID;
	}
	if (!cimd_text_ok((const unsigned char *)body, len)) {
		*why = "the document is not UTF-8 JSON text (RFC 8259 §8.1): bad UTF-8, a control "
		       "character or a NUL";
		return ERR_INVALID;
	}
	doc = cJSON_ParseWithLengthOpts(body, len, &rest, false);
	if (!cJSON_IsObject(doc)) {
		*why = "the document is not a JSON object";
		goto bad;
	}
	/* cJSON stops after the first value; RFC 8259 §2 allows only
	 * whitespace after it (no second object another parser might take) */
	for (; rest < body + len; rest++)
		if (*rest != ' ' && *rest != '\t' && *rest != '\n' && *rest != '\r') {
			*why = "the document has more after its JSON object";
			goto bad;
		}
	if (!cimd_names_unique(doc)) {
		*why = "the document names a member twice (RFC 8259 §4)";
		goto bad;
	}
	cid = cJSON_GetObjectItemCaseSensitive(doc, "client_id");
	if (!cJSON_IsString(cid) || strcmp(cid->valuestring, url) != 0) {
		/* §4: equal to the URL it was fetched from, compared as
		 * strings (RFC 3986 §6.2.1), no normalization */
		*why = "its client_id is not the URL it was fetched from (compared exactly)";
		goto bad;
	}
	if (cJSON_GetObjectItemCaseSensitive(doc, "client_secret") ||
	    cJSON_GetObjectItemCaseSensitive(doc, "client_secret_expires_at")) {
		*why = "it holds a client_secret, which a metadata document must not (draft §4.1)";
		goto bad;
	}
	method = cJSON_GetObjectItemCaseSensitive(doc, "token_endpoint_auth_method");
	if (method && !(cJSON_IsString(method) && strcmp(method->valuestring, "none") == 0)) {
		/* §4.1 forbids shared-secret methods; key-based ones
		 * (private_key_jwt) are allowed by the draft but not
		 * verified by mcpd, so such a client cannot be served */
		*why = "token_endpoint_auth_method must be absent or none (public client)";
		goto bad;
	}
	uris = cJSON_GetObjectItemCaseSensitive(doc, "redirect_uris");
	if ((*why = meta_redirects_check(uris)) != NULL)
		goto bad;
	if (redirect_uri && !array_has(uris, redirect_uri)) {
		/* §4.2: the registered redirect URIs are the document's */
		*why = "the request's redirect_uri is not one of the document's redirect_uris "
		       "(compared exactly)";
		goto bad;
	}
	if ((*why = meta_fields_check(doc)) != NULL)
		goto bad;
	gt = cJSON_GetObjectItemCaseSensitive(doc, "grant_types");
	/* what we keep: the fields we use or show, like a registration */
	r = cJSON_CreateObject();
	if (r == NULL)
		goto nomem;
	cJSON_AddStringToObject(r, "client_id", url);
	cJSON_AddItemToObject(r, "redirect_uris", cJSON_Duplicate(uris, 1));
	cJSON_AddStringToObject(r, "token_endpoint_auth_method", "none");
	cJSON_AddItemToObject(
	    r, "grant_types",
	    gt ? cJSON_Duplicate(gt, 1)
	       : cJSON_CreateStringArray((const char *const[]){"authorization_code"}, 1));
	cJSON_AddItemToObject(r, "response_types",
			      cJSON_CreateStringArray((const char *const[]){"code"}, 1));
	for (size_t i = 0; i < META_KEEP_N; i++) {
		const char *v = meta_str(doc, meta_keep[i], OAUTH_URI_MAX, &bad);
		if (v)
			cJSON_AddStringToObject(r, meta_keep[i], v);
	}
	cJSON_Delete(doc);
	*out = r;
	return 0;
nomem:
	cJSON_Delete(doc);
	*why = "out of memory";
	return ERR_NOMEM;
bad:
	cJSON_Delete(doc);
	return ERR_INVALID;
}

int oauth_cimd_store(sqlite3 *db, const char *url, const cJSON *meta, time_t now, unsigned ttl_s,
		     unsigned max_clients)
{
	const cJSON *uris = cJSON_GetObjectItemCaseSensitive(meta, "redirect_uris");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(meta, "client_name");
	char *uris_text = cJSON_PrintUnformatted(uris), *meta_text = cJSON_PrintUnformatted(meta);
	sqlite3_stmt *st = NULL;
	int rc, ret = ERR_DB;
	bool known;

	if (uris_text == NULL || meta_text == NULL) {
		ret = ERR_NOMEM;
		goto out;
	}
	if (exec1(db, "BEGIN IMMEDIATE") != 0)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM oauth_clients WHERE client_id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	known = rc == SQLITE_ROW;
	if (!known && (ret = make_room(db, max_clients, now)) != 0) {
		if (ret != ERR_RANGE)
			ret = ERR_DB;
		goto fail;
	}
	ret = ERR_DB;
	/* only a metadata-document row is ever refreshed: the WHERE keeps a
	 * registered client (whose id cannot be a URL anyway) untouched */
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO oauth_clients(client_id, auth_method, name, redirect_uris, metadata,"
		" fetched_at, expires_at) VALUES(?1, 'none', ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(client_id) DO UPDATE SET name = excluded.name,"
		" redirect_uris = excluded.redirect_uris, metadata = excluded.metadata,"
		" fetched_at = excluded.fetched_at, expires_at = excluded.expires_at"
		" WHERE oauth_clients.fetched_at IS NOT NULL",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cJSON_IsString(nm) ? nm->valuestring : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uris_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, meta_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)now);
	sqlite3_bind_int64(st, 6, (int64_t)now + ttl_s);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (exec1(db, "COMMIT") != 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	if (ret == ERR_DB)
		log_warnx("oauth: cannot store the client of %s: %s", url, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	exec1(db, "ROLLBACK");
out:
	free(uris_text);
	free(meta_text);
	return ret;
}

void oauth_client_clear(struct oauth_client *c)
{
	free(c->redirect_uris);
	memset(c, 0, sizeof(*c));
}

bool oauth_client_redirect_ok(const struct oauth_client *c, const char *uri)
{
	cJSON *arr = c->redirect_uris ? cJSON_Parse(c->redirect_uris) : NULL;
	bool ok = arr && array_has(arr, uri);

	cJSON_Delete(arr);
	return ok;
}

bool oauth_client_secret_ok(const struct oauth_client *c, const char *secret)
{
	char hash[TOKEN_HASH_HEXLEN + 1];

	if (c->secret_hash[0] == '\0' || secret == NULL)
		return false;
	token_hash_hex(secret, strlen(secret), hash);
	return token_hash_equal(hash, c->secret_hash);
}

/* ---- codes, grants, tokens ---- */

static int exec1(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : ERR_DB;
}

int oauth_code_create(sqlite3 *db, const struct oauth_approval *a, unsigned ttl_s, time_t now,
		      char code[OAUTH_SECRET_MAX])
{
	char hash[TOKEN_HASH_HEXLEN + 1];
	sqlite3_stmt *st = NULL;
	int rc;

	if (oauth_secret(OAUTH_CODE_PREFIX, code, OAUTH_SECRET_MAX) != 0)
		return ERR_IO;
	token_hash_hex(code, strlen(code), hash);
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO oauth_codes(hash, client_id, redirect_uri, code_challenge,"
		" resource, scope, zones, approved_by, expires_at)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		-1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a->client);
	sqlite3_bind_text(st, 3, a->redirect_uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->code_challenge, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->zones, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->approved_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)now + ttl_s);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : ERR_DB;
}

static int revoke_grant(sqlite3 *db, int64_t grant)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "UPDATE oauth_grants SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ',"
			       " 'now') WHERE id = ?1 AND revoked_at IS NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, grant);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ERR_DB;
	log_info("oauth: grant %lld revoked", (long long)grant);
	return 0;
}

static int insert_token(sqlite3 *db, const char *tok, int64_t grant, const char *kind,
			const char *scope, time_t expires)
{
	char hash[TOKEN_HASH_HEXLEN + 1];
	sqlite3_stmt *st = NULL;
	int rc;

	token_hash_hex(tok, strlen(tok), hash);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO oauth_tokens(hash, grant_id, kind, scope, expires_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, grant);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : ERR_DB;
}

/* Issues an access token (and a refresh token when the client registered
 * the refresh_token grant) under grant. Inside the caller's transaction. */
static int issue_pair(sqlite3 *db, const struct oauth_client *c, int64_t grant, bool write,
		      const struct oauth_ttls *ttl, time_t now, struct oauth_token_response *out)
{
	sqlite3_stmt *st = NULL;
	const char *scope = oauth_scope_text(write);

	memset(out, 0, sizeof(*out));
	if (oauth_secret(OAUTH_ACCESS_PREFIX, out->access_token, sizeof(out->access_token)) != 0)
		return ERR_IO;
	if (insert_token(db, out->access_token, grant, "access", scope, now + ttl->access_s) != 0)
		return ERR_DB;
	if (c->refresh) {
		if (oauth_secret(OAUTH_REFRESH_PREFIX, out->refresh_token,
				 sizeof(out->refresh_token)) != 0)
			return ERR_IO;
		if (insert_token(db, out->refresh_token, grant, "refresh", scope,
				 now + ttl->refresh_s) != 0)
			return ERR_DB;
	}
	snprintf(out->scope, sizeof(out->scope), "%s", scope);
	out->expires_in = ttl->access_s;
	if (sqlite3_prepare_v2(db,
			       "UPDATE oauth_clients SET last_used_at ="
			       " strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return 0;
}

/* Ends a transaction: COMMIT when ret is 0 or a protocol refusal that
 * changed state on purpose (keep), else ROLLBACK. */
static int finish(sqlite3 *db, int ret, bool keep)
{
	if (ret == 0 || keep) {
		if (exec1(db, "COMMIT") != 0) {
			exec1(db, "ROLLBACK");
			return ERR_DB;
		}
		return ret;
	}
	exec1(db, "ROLLBACK");
	return ret;
}

#define REFUSE(e, d)                                                                               \
	do {                                                                                       \
		*error = (e);                                                                      \
		*desc = (d);                                                                       \
		ret = ERR_INVALID;                                                                 \
		goto out;                                                                          \
	} while (0)

int oauth_code_exchange(sqlite3 *db, const struct oauth_client *c, const char *code,
			const char *redirect_uri, const char *verifier, const char *resource,
			const struct oauth_ttls *ttl, time_t now, struct oauth_token_response *out,
			const char **error, const char **desc)
{
	char hash[TOKEN_HASH_HEXLEN + 1], chal[OAUTH_CHALLENGE_LEN + 1];
	sqlite3_stmt *st = NULL;
	int64_t grant = 0;
	bool keep = false, write, read;
	int rc, ret = ERR_DB;
	char *c_redirect = NULL, *c_chal = NULL, *c_res = NULL, *c_scope = NULL, *c_zones = NULL,
	     *c_by = NULL, *c_hash = NULL;
	int64_t c_client = 0, c_exp = 0, c_grant = 0;
	bool c_used = false;

	*error = NULL;
	*desc = NULL;
	if (code == NULL || redirect_uri == NULL || verifier == NULL) {
		*error = "invalid_request";
		*desc = "code, redirect_uri and code_verifier are required";
		return ERR_INVALID;
	}
	if (!oauth_verifier_ok(verifier)) {
		*error = "invalid_request";
		*desc = "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636)";
		return ERR_INVALID;
	}
	token_hash_hex(code, strlen(code), hash);
	if (exec1(db, "BEGIN IMMEDIATE") != 0)
		return ERR_DB;
	if (sqlite3_prepare_v2(db,
			       "SELECT client_id, redirect_uri, code_challenge, resource, scope,"
			       " zones, approved_by, expires_at, used_at IS NOT NULL,"
			       " coalesce(grant_id, 0), hash FROM oauth_codes WHERE hash = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		REFUSE("invalid_grant", "unknown authorization code");
	if (rc != SQLITE_ROW)
		goto out;
	c_client = sqlite3_column_int64(st, 0);
	c_redirect = strdup((const char *)sqlite3_column_text(st, 1));
	c_chal = strdup((const char *)sqlite3_column_text(st, 2));
	c_res = strdup((const char *)sqlite3_column_text(st, 3));
	c_scope = strdup((const char *)sqlite3_column_text(st, 4));
	c_zones = strdup((const char *)sqlite3_column_text(st, 5));
	c_by = strdup((const char *)sqlite3_column_text(st, 6));
	c_exp = sqlite3_column_int64(st, 7);
	c_used = sqlite3_column_int(st, 8) != 0;
	c_grant = sqlite3_column_int64(st, 9);
	c_hash = strdup((const char *)sqlite3_column_text(st, 10));
	sqlite3_finalize(st);
	st = NULL;
	if (!c_redirect || !c_chal || !c_res || !c_scope || !c_zones || !c_by || !c_hash) {
		ret = ERR_NOMEM;
		goto out;
	}
	if (!token_hash_equal(c_hash, hash))
		REFUSE("invalid_grant", "unknown authorization code");
	if (c_client != c->id)
		REFUSE("invalid_grant", "the code was issued to another client");
	if (c_used) {
		/* RFC 6749 §4.1.2: a code used twice revokes what it gave */
		log_warnx("oauth: authorization code replayed by client %s; revoking grant %lld",
			  c->client_id, (long long)c_grant);
		if (c_grant && revoke_grant(db, c_grant) != 0)
			goto out;
		keep = true;
		REFUSE("invalid_grant",
		       "the authorization code was already used; tokens issued for it are revoked");
	}
	if (c_exp <= (int64_t)now)
		REFUSE("invalid_grant", "the authorization code expired");
	if (strcmp(c_redirect, redirect_uri) != 0)
		REFUSE("invalid_grant", "redirect_uri differs from the authorization request");
	oauth_s256(verifier, chal);
	if (chal[0] == '\0' || strlen(c_chal) != OAUTH_CHALLENGE_LEN ||
	    CRYPTO_memcmp(chal, c_chal, OAUTH_CHALLENGE_LEN) != 0)
		REFUSE("invalid_grant", "PKCE verification failed: code_verifier does not match");
	if (resource && strcmp(resource, c_res) != 0)
		REFUSE("invalid_target", "resource differs from the authorization request");
	if (oauth_scope_parse(c_scope, &read, &write) != 0)
		REFUSE("invalid_grant", "the code carries an unknown scope");
	if (sqlite3_prepare_v2(
		db,
		"UPDATE oauth_codes SET used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		" WHERE hash = ?1 AND used_at IS NULL",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1)
		goto out;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO oauth_grants(client_id, scope, zones, resource, approved_by)"
		" VALUES(?1, ?2, ?3, ?4, ?5)",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_text(st, 2, oauth_scope_text(write), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c_zones, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c_res, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c_by, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	grant = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db, "UPDATE oauth_codes SET grant_id = ?1 WHERE hash = ?2", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, grant);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	ret = issue_pair(db, c, grant, write, ttl, now, out);
	if (ret == 0)
		log_info("oauth: grant %lld for client %s (%s): %s, zones %s, approved by %s",
			 (long long)grant, c->client_id, c->name, oauth_scope_text(write), c_zones,
			 c_by);
out:
	sqlite3_finalize(st);
	free(c_redirect);
	free(c_chal);
	free(c_res);
	free(c_scope);
	free(c_zones);
	free(c_by);
	free(c_hash);
	if (ret == ERR_DB)
		log_warnx("oauth: code exchange: %s", sqlite3_errmsg(db));
	return finish(db, ret, keep);
}

int oauth_refresh(sqlite3 *db, const struct oauth_client *c, const char *refresh_token,
		  const char *scope, const char *resource, const struct oauth_ttls *ttl, time_t now,
		  struct oauth_token_response *out, const char **error, const char **desc)
{
	char hash[TOKEN_HASH_HEXLEN + 1];
	sqlite3_stmt *st = NULL;
	bool keep = false, r0, w0, r1, w1;
	int rc, ret = ERR_DB;
	int64_t grant, client, exp;
	bool used, revoked;
	char tscope[64], gres[OAUTH_URI_MAX + 64], thash[TOKEN_HASH_HEXLEN + 1];

	*error = NULL;
	*desc = NULL;
	if (refresh_token == NULL) {
		*error = "invalid_request";
		*desc = "refresh_token is required";
		return ERR_INVALID;
	}
	if (!c->refresh) {
		*error = "unauthorized_client";
		*desc = "this client did not register the refresh_token grant";
		return ERR_INVALID;
	}
	token_hash_hex(refresh_token, strlen(refresh_token), hash);
	if (exec1(db, "BEGIN IMMEDIATE") != 0)
		return ERR_DB;
	if (sqlite3_prepare_v2(
		db,
		"SELECT t.grant_id, g.client_id, t.expires_at, t.used_at IS NOT NULL,"
		" g.revoked_at IS NOT NULL, t.scope, g.resource, t.hash"
		" FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id"
		" WHERE t.hash = ?1 AND t.kind = 'refresh'",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		REFUSE("invalid_grant", "unknown refresh token");
	if (rc != SQLITE_ROW)
		goto out;
	grant = sqlite3_column_int64(st, 0);
	client = sqlite3_column_int64(st, 1);
	exp = sqlite3_column_int64(st, 2);
	used = sqlite3_column_int(st, 3) != 0;
	revoked = sqlite3_column_int(st, 4) != 0;
	snprintf(tscope, sizeof(tscope), "%s", (const char *)sqlite3_column_text(st, 5));
	snprintf(gres, sizeof(gres), "%s", (const char *)sqlite3_column_text(st, 6));
	snprintf(thash, sizeof(thash), "%s", (const char *)sqlite3_column_text(st, 7));
	sqlite3_finalize(st);
	st = NULL;
	if (!token_hash_equal(thash, hash))
		REFUSE("invalid_grant", "unknown refresh token");
	if (client != c->id)
		REFUSE("invalid_grant", "the refresh token was issued to another client");
	if (revoked)
		REFUSE("invalid_grant", "the grant was revoked");
	if (used) {
		/* OAuth 2.1 §4.3.1: a rotated refresh token came back, so
		 * two parties hold it; end the grant for both */
		log_warnx("oauth: refresh token replayed for grant %lld (client %s); revoking it",
			  (long long)grant, c->client_id);
		if (revoke_grant(db, grant) != 0)
			goto out;
		keep = true;
		REFUSE("invalid_grant", "refresh token reused: the grant is revoked");
	}
	if (exp <= (int64_t)now)
		REFUSE("invalid_grant", "the refresh token expired");
	if (resource && strcmp(resource, gres) != 0)
		REFUSE("invalid_target", "resource differs from the grant's");
	if (oauth_scope_parse(tscope, &r0, &w0) != 0)
		REFUSE("invalid_grant", "the token carries an unknown scope");
	if (scope) {
		if (oauth_scope_parse(scope, &r1, &w1) != 0 || (w1 && !w0))
			REFUSE("invalid_scope", "scope exceeds what was granted");
		w0 = w1;
	}
	if (sqlite3_prepare_v2(
		db,
		"UPDATE oauth_tokens SET used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		" WHERE hash = ?1 AND used_at IS NULL",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	ret = issue_pair(db, c, grant, w0, ttl, now, out);
out:
	sqlite3_finalize(st);
	if (ret == ERR_DB)
		log_warnx("oauth: refresh: %s", sqlite3_errmsg(db));
	return finish(db, ret, keep);
}

int oauth_revoke(sqlite3 *db, const struct oauth_client *c, const char *token, const char **error)
{
	char hash[TOKEN_HASH_HEXLEN + 1];
	sqlite3_stmt *st = NULL;
	int rc, ret = ERR_DB;
	int64_t grant, client;
	bool refresh;

	*error = NULL;
	token_hash_hex(token, strlen(token), hash);
	if (sqlite3_prepare_v2(
		db,
		"SELECT t.grant_id, g.client_id, t.kind = 'refresh' FROM oauth_tokens t"
		" JOIN oauth_grants g ON g.id = t.grant_id WHERE t.hash = ?1",
		-1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0; /* RFC 7009 §2.2: an invalid token is no error */
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return ERR_DB;
	}
	grant = sqlite3_column_int64(st, 0);
	client = sqlite3_column_int64(st, 1);
	refresh = sqlite3_column_int(st, 2) != 0;
	sqlite3_finalize(st);
	if (client != c->id) {
		*error = "unauthorized_client";
		return ERR_INVALID;
	}
	if (refresh) {
		/* RFC 7009 §2.1: revoking a refresh token SHOULD also end the
		 * access tokens of the same grant */
		ret = revoke_grant(db, grant);
	} else {
		if (sqlite3_prepare_v2(db, "DELETE FROM oauth_tokens WHERE hash = ?1", -1, &st,
				       NULL) != SQLITE_OK)
			return ERR_DB;
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		ret = sqlite3_step(st) == SQLITE_DONE ? 0 : ERR_DB;
		sqlite3_finalize(st);
	}
	if (ret == 0)
		log_info("oauth: client %s revoked its %s token (grant %lld)", c->client_id,
			 refresh ? "refresh" : "access", (long long)grant);
	return ret;
}

/* Printable ASCII copy for an actor name. */
static void safe_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < cap; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

int oauth_access_check(sqlite3 *db, const char *tok, size_t len, const char *resource, time_t now,
		       struct auth_identity *out, const char **why)
{
	char hash[TOKEN_HASH_HEXLEN + 1], name[AUTH_NAME_MAX];
	sqlite3_stmt *st = NULL;
	int rc, ret = ERR_NOTFOUND;

	*why = "unknown";
	token_hash_hex(tok, len, hash);
	if (sqlite3_prepare_v2(db,
			       "SELECT t.expires_at, t.scope, g.zones, g.resource,"
			       " g.revoked_at IS NOT NULL, g.approved_by, c.name, g.id, t.hash"
			       " FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id"
			       " JOIN oauth_clients c ON c.id = g.client_id"
			       " WHERE t.hash = ?1 AND t.kind = 'access'",
			       -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *scope = (const char *)sqlite3_column_text(st, 1);
		const char *zones = (const char *)sqlite3_column_text(st, 2);
		const char *res = (const char *)sqlite3_column_text(st, 3);
		const char *by = (const char *)sqlite3_column_text(st, 5);
		const char *cname = (const char *)sqlite3_column_text(st, 6);
		const char *th = (const char *)sqlite3_column_text(st, 8);
		bool r, w;

		if (th == NULL || !token_hash_equal(th, hash) || scope == NULL || zones == NULL ||
		    res == NULL) {
			*why = "unknown";
		} else if (sqlite3_column_int64(st, 0) <= (int64_t)now) {
			*why = "expired";
		} else if (sqlite3_column_int(st, 4) != 0) {
			*why = "revoked";
		} else if (strcmp(res, resource) != 0) {
			/* RFC 8707 §2 / MCP "Token Handling": only tokens
			 * issued for this very resource */
			*why = "issued for another resource";
		} else if (oauth_scope_parse(scope, &r, &w) != 0 ||
			   strlen(zones) >= sizeof(out->zones)) {
			*why = "unusable scope or zones";
		} else {
			memset(out, 0, sizeof(*out));
			out->token_id = -sqlite3_column_int64(st, 7);
			out->can_write = w;
			memcpy(out->zones, zones, strlen(zones) + 1);
			snprintf(name, sizeof(name), "%.60s/oauth:%.60s", by ? by : "?",
				 cname && cname[0] ? cname : "client");
			safe_copy(out->name, sizeof(out->name), name);
			out->oauth = true;
			*why = NULL;
			ret = 0;
		}
	} else if (rc != SQLITE_DONE) {
		ret = ERR_DB;
	}
	sqlite3_finalize(st);
	return ret;
}

/* ---- approval codes ---- */

/* Crockford's base32 alphabet: no I, L, O, U, so a person cannot misread */
static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Canonical XXXXX-XXXXX-XXXXX-XXXXX-XXXXX of what a person typed: case,
 * blanks and dashes ignored. 0 or ERR_MALFORMED. */
static int approval_canon(const char *in, char out[OAUTH_APPROVAL_LEN + 1])
{
	size_t n = 0, o = 0;

	for (const char *p = in; *p; p++) {
		char ch = (char)toupper((unsigned char)*p);

		if (ch == '-' || ch == ' ' || ch == '\t')
			continue;
		if (strchr(b32, ch) == NULL || ch == '\0' || n >= 25)
			return ERR_MALFORMED;
		if (n > 0 && n % 5 == 0)
			out[o++] = '-';
		out[o++] = ch;
		n++;
	}
	out[o] = '\0';
	return n == 25 ? 0 : ERR_MALFORMED;
}

int oauth_approval_create(sqlite3 *db, bool write, const char *zones, unsigned ttl_s, time_t now,
			  char code[OAUTH_APPROVAL_LEN + 1], int64_t *id)
{
	unsigned char rnd[25];
	char hash[TOKEN_HASH_HEXLEN + 1], raw[26];
	sqlite3_stmt *st = NULL;
	int rc;

	if (token_random(rnd, sizeof(rnd)) != 0)
		return ERR_IO;
	for (size_t i = 0; i < 25; i++)
		raw[i] = b32[rnd[i] & 31];
	raw[25] = '\0';
	approval_canon(raw, code);
	token_hash_hex(code, strlen(code), hash);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO oauth_approvals(hash, scope, zones, expires_at)"
			       " VALUES(?1, ?2, ?3, ?4)",
			       -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, write ? "write" : "read", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, zones, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now + ttl_s);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ERR_DB;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

int oauth_approval_take(sqlite3 *db, const char *code, time_t now, bool *write, char *zones,
			size_t zcap, char *name, size_t ncap)
{
	char canon[OAUTH_APPROVAL_LEN + 1], hash[TOKEN_HASH_HEXLEN + 1];
	sqlite3_stmt *st = NULL;
	int rc, ret = ERR_NOTFOUND;
	int64_t id = 0;

	if (approval_canon(code, canon) != 0)
		return ERR_NOTFOUND;
	token_hash_hex(canon, strlen(canon), hash);
	if (exec1(db, "BEGIN IMMEDIATE") != 0)
		return ERR_DB;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, scope, zones, hash FROM oauth_approvals WHERE hash = ?1"
			       " AND used_at IS NULL AND expires_at > ?2",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = ERR_DB;
		goto out;
	}
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *sc = (const char *)sqlite3_column_text(st, 1);
		const char *z = (const char *)sqlite3_column_text(st, 2);
		const char *h = (const char *)sqlite3_column_text(st, 3);

		if (sc && z && h && token_hash_equal(h, hash) && strlen(z) < zcap) {
			id = sqlite3_column_int64(st, 0);
			*write = strcmp(sc, "write") == 0;
			memcpy(zones, z, strlen(z) + 1);
			snprintf(name, ncap, "approval #%lld", (long long)id);
			ret = 0;
		}
	} else if (rc != SQLITE_DONE) {
		ret = ERR_DB;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (ret == 0) {
		if (sqlite3_prepare_v2(db,
				       "UPDATE oauth_approvals SET used_at ="
				       " strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
				       -1, &st, NULL) != SQLITE_OK ||
		    (sqlite3_bind_int64(st, 1, id), sqlite3_step(st)) != SQLITE_DONE)
			ret = ERR_DB;
	}
out:
	sqlite3_finalize(st);
	return finish(db, ret, false);
}

int oauth_grant_revoke(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM oauth_grants WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return ERR_NOTFOUND;
	if (rc != SQLITE_ROW)
		return ERR_DB;
	return revoke_grant(db, id);
}

int oauth_prune(sqlite3 *db, time_t now)
{
	static const char *const sql[] = {
	    "DELETE FROM oauth_codes WHERE expires_at < ?1",
	    "DELETE FROM oauth_tokens WHERE expires_at < ?1",
	    "DELETE FROM oauth_approvals WHERE expires_at < ?1",
	};
	int total = 0;

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return ERR_DB;
		sqlite3_bind_int64(st, 1, (int64_t)now - DAY_S);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return ERR_DB;
		}
		total += sqlite3_changes(db);
		sqlite3_finalize(st);
	}
	return total;
}
