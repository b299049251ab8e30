/*
 * test_oauth_cimd.c: OAuth Client ID Metadata Documents without the
 * network (mcpd/oauth_cimd.h, oauth_cimd_doc_check and oauth_cimd_store in
 * mcpd/oauth_store.h): every rule of the Client Identifier URL (draft §3;
 * length 512/513), the cache lifetime from Cache-Control (bounds at N and
 * N+1), the SSRF address classes with and without the private flag (v4,
 * v6, v4-mapped, NAT64, 6to4), every rule of the document (size
 * 5120/5121, exact client_id and redirect URI comparison, no secrets,
 * public clients only, client_name 100/101 bytes), and the client row it
 * becomes (cached, refreshed, never over a registered client, counted
 * against the client cap), and the response parser of the fetch (head
 * and body caps at N and N+1, one JSON Content-Type, no redirects, CRLF
 * only, Content-Length agreeing). The fetch itself is tested end to end
 * (tests/e2e/test_oauth_cimd.sh).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "db.h"
#include "err.h"
#include "oauth_cimd.h"
#include "oauth_store.h"
#include "tap.h"

#define URL   "https://app.example/oauth/client.json"
#define REDIR "https://app.example/cb"
#define NOW   1900000000

static sqlite3 *DB;

static int url(const char *u, const char **why)
{
	char host[256], target[OAUTH_CLIENT_ID_MAX + 1];
	unsigned port;

	return oauth_cimd_url_check(u, host, sizeof(host), &port, target, sizeof(target), why);
}

static void test_url(void)
{
	char host[256], target[OAUTH_CLIENT_ID_MAX + 1], big[OAUTH_CLIENT_ID_MAX + 2];
	unsigned port = 0;
	const char *why = NULL;
	size_t plen;

	is_int(oauth_cimd_url_check(URL, host, sizeof(host), &port, target, sizeof(target), &why),
	       0, "a plain https URL with a path");
	is_str(host, "app.example", "... its host");
	is_int((int)port, 443, "... port 443 by default");
	is_str(target, "/oauth/client.json", "... the request target");
	is_int(oauth_cimd_url_check("https://[2001:db8::1]:8443/c?v=1", host, sizeof(host), &port,
				    target, sizeof(target), &why),
	       0, "an IPv6 literal with a port and a query (SHOULD NOT, allowed)");
	is_str(host, "2001:db8::1", "... host without brackets");
	is_int((int)port, 8443, "... port 8443");
	is_str(target, "/c?v=1", "... target keeps the query");
	is_int(url("https://app.example/", &why), 0, "a path of / (NOT RECOMMENDED, allowed)");
	is_int(url("HTTPS://app.example/c", &why), 0, "the scheme is case-insensitive");
	is_int(url("https://app.example/a.b/..c/c..", &why), 0, "dots inside segments are fine");

	is_int(url("http://app.example/c", &why), ERR_INVALID, "http refused");
	is_str(why, "the client_id URL must use https", "... must use https");
	is_int(url("ftp://app.example/c", &why), ERR_INVALID, "ftp refused");
	is_int(url("https://app.example", &why), ERR_INVALID, "no path refused");
	is_int(url("https://app.example?x=1", &why), ERR_INVALID, "a query but no path refused");
	is_int(url("https://app.example/c#x", &why), ERR_INVALID, "a fragment refused");
	is_int(url("https://app.example/c#", &why), ERR_INVALID, "an empty fragment refused");
	is_int(url("https://u@app.example/c", &why), ERR_INVALID, "userinfo refused");
	is_int(url("https://u:p@app.example/c", &why), ERR_INVALID, "user and password refused");
	is_int(url("https://app.example/./c", &why), ERR_INVALID, "a . segment refused");
	is_int(url("https://app.example/a/../c", &why), ERR_INVALID, "a .. segment refused");
	is_int(url("https://app.example/a/..", &why), ERR_INVALID, "a trailing .. refused");
	is_int(url("https://app.example/a/.?x", &why), ERR_INVALID, "a . before the query");
	is_int(url("https://app.example/%2e%2E/c", &why), ERR_INVALID, "%%2e%%2E refused");
	is_int(url("https://app.example/.%2e/c", &why), ERR_INVALID, ".%%2e refused");
	is_int(url("https:///c", &why), ERR_INVALID, "no host refused");
	is_int(url("https://app.example:/c", &why), ERR_INVALID, "an empty port refused");
	is_int(url("https://app.example:0/c", &why), ERR_INVALID, "port 0 refused");
	is_int(url("https://app.example:65535/c", &why), 0, "port 65535 (N)");
	is_int(url("https://app.example:65536/c", &why), ERR_INVALID, "port 65536 (N+1)");
	is_int(url("https://app.example:44x/c", &why), ERR_INVALID, "a non-numeric port refused");
	is_int(url("https://[::1/c", &why), ERR_INVALID, "an unclosed IPv6 literal refused");
	is_int(url("https://[zz::1]/c", &why), ERR_INVALID, "a bad IPv6 literal refused");
	is_int(url("https://app%2eexample/c", &why), ERR_INVALID, "a percent-encoded host refused");
	is_int(url("https://app.example/a b", &why), ERR_INVALID, "a space refused");
	is_int(url("https://app.example/\x01", &why), ERR_INVALID, "a control character refused");
	is_int(url("https://app.example/\xc3\xa9", &why), ERR_INVALID, "non-ASCII refused");
	is_int(url("", &why), ERR_INVALID, "empty refused");

	/* 512 bytes (N) pass, 513 (N+1) do not */
	plen = strlen("https://app.example/");
	memcpy(big, "https://app.example/", plen);
	memset(big + plen, 'x', OAUTH_CLIENT_ID_MAX - plen);
	big[OAUTH_CLIENT_ID_MAX] = '\0';
	is_int(url(big, &why), 0, "a client_id URL of %d bytes (N)", OAUTH_CLIENT_ID_MAX);
	big[OAUTH_CLIENT_ID_MAX] = 'x';
	big[OAUTH_CLIENT_ID_MAX + 1] = '\0';
	is_int(url(big, &why), ERR_INVALID, "a client_id URL of %d bytes (N+1)",
	       OAUTH_CLIENT_ID_MAX + 1);

	ok(oauth_cimd_is_url("https://a.example/c"), "is_url: https");
	ok(oauth_cimd_is_url("http://a.example/c"), "is_url: http (refused later, with a reason)");
	ok(!oauth_cimd_is_url("mcpc_abcdef"), "is_url: a registered id");
	ok(!oauth_cimd_is_url("https:/x"), "is_url: no //");
	ok(!oauth_cimd_is_url("://x"), "is_url: no scheme");
}

static void test_ttl(void)
{
	is_int((int)oauth_cimd_ttl(NULL), OAUTH_CIMD_TTL_DEFAULT, "no Cache-Control: 1 h");
	is_int((int)oauth_cimd_ttl("public"), OAUTH_CIMD_TTL_DEFAULT, "no max-age: 1 h");
	is_int((int)oauth_cimd_ttl("max-age=120"), 120, "max-age=120");
	is_int((int)oauth_cimd_ttl("public, Max-Age=300"), 300, "in a list, any case");
	is_int((int)oauth_cimd_ttl("max-age=\"90\""), 90, "quoted");
	is_int((int)oauth_cimd_ttl("max-age=60"), 60, "max-age=60 (the minimum, N)");
	is_int((int)oauth_cimd_ttl("max-age=59"), 60, "max-age=59 (N-1) raised to 60");
	is_int((int)oauth_cimd_ttl("max-age=0"), 60, "max-age=0 raised to 60");
	is_int((int)oauth_cimd_ttl("max-age=86400"), 86400, "max-age=86400 (the maximum, N)");
	is_int((int)oauth_cimd_ttl("max-age=86401"), 86400, "max-age=86401 (N+1) capped");
	is_int((int)oauth_cimd_ttl("max-age=99999999999999999999999"), 86400,
	       "an overflowing max-age saturates");
	is_int((int)oauth_cimd_ttl("no-store"), 60, "no-store: fetch again after 60 s");
	is_int((int)oauth_cimd_ttl("max-age=600, no-cache"), 60, "no-cache wins over max-age");
	is_int((int)oauth_cimd_ttl("max-age=abc"), OAUTH_CIMD_TTL_DEFAULT, "junk max-age ignored");
}

static const char *v4(const char *a, bool priv)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	inet_pton(AF_INET, a, &s.sin_addr);
	return oauth_cimd_addr_blocked((struct sockaddr *)&s, priv);
}

static const char *v6(const char *a, bool priv)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return oauth_cimd_addr_blocked((struct sockaddr *)&s, priv);
}

static void test_ssrf(void)
{
	static const char *const bad4[] = {"127.0.0.1",	 "127.255.255.254", "10.0.0.1",
					   "172.16.0.1", "172.31.255.255",  "192.168.1.1",
					   "100.64.0.1", "100.127.255.255", "169.254.169.254",
					   "0.0.0.0",	 "224.0.0.1",	    "255.255.255.255",
					   "192.0.2.1",	 "198.18.0.1",	    "240.0.0.1"};
	static const char *const good4[] = {"8.8.8.8",	      "172.15.255.255", "172.32.0.1",
					    "100.63.255.255", "100.128.0.1",	"192.169.0.1"};
	static const char *const bad6[] = {"::1",
					   "::",
					   "fc00::1",
					   "fdff::1",
					   "fe80::1",
					   "febf::1",
					   "fec0::1",
					   "ff02::1",
					   "::ffff:127.0.0.1",
					   "::ffff:10.1.2.3",
					   "::ffff:169.254.0.1",
					   "64:ff9b::10.0.0.1",
					   "2002:c0a8:0101::1",
					   "2001:db8::1",
					   "::10.0.0.1",
					   "2001::1"};
	static const char *const good6[] = {"2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8",
					    "2002:0808:0808::1", "2a00:1450::1"};

	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		ok(v4(bad4[i], false) != NULL, "%s refused (%s)", bad4[i], v4(bad4[i], false));
	for (size_t i = 0; i < sizeof(good4) / sizeof(good4[0]); i++)
		ok(v4(good4[i], false) == NULL, "%s fetched", good4[i]);
	for (size_t i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++)
		ok(v6(bad6[i], false) != NULL, "%s refused (%s)", bad6[i], v6(bad6[i], false));
	for (size_t i = 0; i < sizeof(good6) / sizeof(good6[0]); i++)
		ok(v6(good6[i], false) == NULL, "%s fetched", good6[i]);
	/* the private flag: unicast special-use allowed, the rest is not */
	ok(v4("127.0.0.1", true) == NULL, "private flag: 127.0.0.1 allowed");
	ok(v4("10.0.0.1", true) == NULL, "private flag: 10.0.0.1 allowed");
	ok(v4("100.64.0.1", true) == NULL, "private flag: CGNAT allowed");
	ok(v6("::1", true) == NULL, "private flag: ::1 allowed");
	ok(v6("fd00::1", true) == NULL, "private flag: ULA allowed");
	ok(v6("::ffff:192.168.0.1", true) == NULL, "private flag: v4-mapped private allowed");
	ok(v4("0.0.0.0", true) != NULL, "private flag: 0.0.0.0 still refused");
	ok(v4("239.1.1.1", true) != NULL, "private flag: multicast still refused");
	ok(v6("::", true) != NULL, "private flag: :: still refused");
	ok(v6("ff05::2", true) != NULL, "private flag: IPv6 multicast still refused");
	ok(v6("::ffff:224.0.0.1", true) != NULL, "private flag: v4-mapped multicast refused");
	{
		struct sockaddr s;

		memset(&s, 0, sizeof(s));
		s.sa_family = AF_UNIX;
		ok(oauth_cimd_addr_blocked(&s, true) != NULL, "not an IP address: refused");
	}
}

/* A valid document, with extra members spliced in before the closing brace. */
static char *docf(const char *cid, const char *extra)
{
	char *s = NULL;

	if (asprintf(&s,
		     "{\"client_id\":\"%s\",\"client_name\":\"App\",\"redirect_uris\":[\"" REDIR
		     "\",\"http://127.0.0.1:8/cb\"],\"grant_types\":[\"authorization_code\","
		     "\"refresh_token\"]%s}",
		     cid, extra) < 0)
		return NULL;
	return s;
}

static int check(const char *body, const char *redirect, const char **why)
{
	cJSON *m = NULL;
	int rc = oauth_cimd_doc_check(URL, body, strlen(body), redirect, &m, why);

	cJSON_Delete(m);
	return rc;
}

static int check_extra(const char *extra, const char **why)
{
	char *d = docf(URL, extra);
	int rc = check(d, REDIR, why);

	free(d);
	return rc;
}

/* A valid document of exactly size bytes (a padding member). */
static char *sized(size_t size)
{
	char *base = docf(URL, ",\"x_pad\":\"\"");
	size_t n = strlen(base);
	char *s = malloc(size + 1);

	if (s == NULL || n > size) {
		free(base);
		free(s);
		return NULL;
	}
	memcpy(s, base, n - 2); /* up to the closing quote of x_pad */
	memset(s + n - 2, 'p', size - n);
	memcpy(s + size - 2, "\"}", 2);
	s[size] = '\0';
	free(base);
	return s;
}

static void test_doc(void)
{
	const char *why = NULL;
	cJSON *m = NULL;
	char *d, name[OAUTH_NAME_MAX + 40];

	d = docf(URL, "");
	is_int(oauth_cimd_doc_check(URL, d, strlen(d), REDIR, &m, &why), 0, "a valid document");
	ok(m && strcmp(cJSON_GetObjectItem(m, "token_endpoint_auth_method")->valuestring, "none") ==
		    0,
	   "... kept as a public client (auth none)");
	ok(m && cJSON_GetArraySize(cJSON_GetObjectItem(m, "redirect_uris")) == 2,
	   "... with its redirect URIs");
	cJSON_Delete(m);
	m = NULL;
	is_int(check(d, NULL, &why), 0, "no redirect_uri to check: fine");
	is_int(check(d, "https://app.example/cb/", &why), ERR_INVALID,
	       "redirect_uri with a trailing slash: not among them (exact)");
	is_int(check(d, "https://evil.example/cb", &why), ERR_INVALID,
	       "redirect_uri not in the document");
	ok(why && strstr(why, "redirect_uri"), "... says so: %s", why);
	/* the body is not NUL-terminated at len */
	is_int(oauth_cimd_doc_check(URL, d, strlen(d) - 1, REDIR, &m, &why), ERR_INVALID,
	       "a body cut by one byte is not JSON");
	free(d);

	d = docf(URL "/", "");
	is_int(check(d, REDIR, &why), ERR_INVALID, "client_id with a trailing slash differs");
	ok(why && strstr(why, "client_id"), "... says client_id: %s", why);
	free(d);
	d = docf("https://APP.example/oauth/client.json", "");
	is_int(check(d, REDIR, &why), ERR_INVALID,
	       "client_id in another case differs (string "
	       "comparison)");
	free(d);
	d = docf("https://app.example:443/oauth/client.json", "");
	is_int(check(d, REDIR, &why), ERR_INVALID, "client_id with :443 differs (draft §3)");
	free(d);
	is_int(check("{\"redirect_uris\":[\"" REDIR "\"]}", REDIR, &why), ERR_INVALID,
	       "no client_id");
	is_int(check("[1,2]", REDIR, &why), ERR_INVALID, "not an object");
	is_int(check("{\"client_id\":", REDIR, &why), ERR_INVALID, "not JSON");
	is_int(check("", REDIR, &why), ERR_INVALID, "empty");

	is_int(check_extra(",\"client_secret\":\"x\"", &why), ERR_INVALID, "client_secret refused");
	is_int(check_extra(",\"client_secret_expires_at\":0", &why), ERR_INVALID,
	       "client_secret_expires_at refused");
	is_int(check_extra(",\"token_endpoint_auth_method\":\"none\"", &why), 0,
	       "token_endpoint_auth_method none");
	is_int(check_extra(",\"token_endpoint_auth_method\":\"client_secret_basic\"", &why),
	       ERR_INVALID, "client_secret_basic refused");
	is_int(check_extra(",\"token_endpoint_auth_method\":\"client_secret_post\"", &why),
	       ERR_INVALID, "client_secret_post refused");
	is_int(check_extra(",\"token_endpoint_auth_method\":\"client_secret_jwt\"", &why),
	       ERR_INVALID, "client_secret_jwt refused");
	is_int(check_extra(",\"token_endpoint_auth_method\":\"private_key_jwt\"", &why),
	       ERR_INVALID, "private_key_jwt refused (not verified by mcpd)");
	is_int(check_extra(",\"token_endpoint_auth_method\":7", &why), ERR_INVALID,
	       "a non-string auth method refused");
	is_int(check_extra(",\"response_types\":[\"token\"]", &why), ERR_INVALID,
	       "response_types token refused");
	is_int(check_extra(",\"scope\":\"dns:read\"", &why), 0, "scope dns:read");
	is_int(check_extra(",\"scope\":\"admin\"", &why), ERR_INVALID, "an unknown scope refused");
	is_int(check_extra(",\"logo_uri\":5", &why), ERR_INVALID, "a non-string logo_uri refused");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[\"" REDIR "\"],"
		     "\"grant_types\":[\"refresh_token\"]}",
		     REDIR, &why),
	       ERR_INVALID, "grant_types without authorization_code refused");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[]}", REDIR, &why), ERR_INVALID,
	       "empty redirect_uris refused");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":\"" REDIR "\"}", REDIR, &why),
	       ERR_INVALID, "redirect_uris not an array refused");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[\"" REDIR "#f\"]}", REDIR "#f",
		     &why),
	       ERR_INVALID, "a redirect URI with a fragment refused");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[\"http://evil.example/cb\"]}",
		     "http://evil.example/cb", &why),
	       ERR_INVALID, "an http redirect URI off loopback refused");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[\"" REDIR "\"]}", REDIR, &why),
	       0, "the minimum: client_id and redirect_uris (client_name optional)");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[\"https://a.example/1\","
		     "\"https://a.example/2\",\"https://a.example/3\",\"https://a.example/4\","
		     "\"https://a.example/5\",\"https://a.example/6\",\"https://a.example/7\","
		     "\"https://a.example/8\"]}",
		     "https://a.example/8", &why),
	       0, "8 redirect URIs (N)");
	is_int(check("{\"client_id\":\"" URL "\",\"redirect_uris\":[\"https://a.example/1\","
		     "\"https://a.example/2\",\"https://a.example/3\",\"https://a.example/4\","
		     "\"https://a.example/5\",\"https://a.example/6\",\"https://a.example/7\","
		     "\"https://a.example/8\",\"https://a.example/9\"]}",
		     "https://a.example/8", &why),
	       ERR_INVALID, "9 redirect URIs (N+1)");

	memset(name, 'n', OAUTH_NAME_MAX);
	name[OAUTH_NAME_MAX] = '\0';
	{
		char extra[OAUTH_NAME_MAX + 64];

		/* docf has client_name "App" already; a second member
		 * would be ambiguous, so build the whole document */
		snprintf(extra, sizeof(extra), "%s", name);
		d = NULL;
		if (asprintf(&d,
			     "{\"client_id\":\"" URL "\",\"client_name\":\"%s\",\"redirect_uris\":"
			     "[\"" REDIR "\"]}",
			     extra) > 0) {
			is_int(check(d, REDIR, &why), 0, "client_name of %d bytes (N)",
			       OAUTH_NAME_MAX);
			free(d);
		}
		d = NULL;
		if (asprintf(&d,
			     "{\"client_id\":\"" URL "\",\"client_name\":\"%sn\",\"redirect_uris\":"
			     "[\"" REDIR "\"]}",
			     extra) > 0) {
			is_int(check(d, REDIR, &why), ERR_INVALID, "client_name of %d bytes (N+1)",
			       OAUTH_NAME_MAX + 1);
			free(d);
		}
	}

	/* the size cap: 5120 bytes pass, 5121 do not */
	d = sized(OAUTH_CIMD_DOC_MAX);
	ok(d && strlen(d) == OAUTH_CIMD_DOC_MAX, "a padded document of %d bytes",
	   OAUTH_CIMD_DOC_MAX);
	is_int(d ? check(d, REDIR, &why) : -1, 0, "a document of %d bytes (N) accepted",
	       OAUTH_CIMD_DOC_MAX);
	free(d);
	d = sized(OAUTH_CIMD_DOC_MAX + 1);
	is_int(d ? check(d, REDIR, &why) : -1, ERR_INVALID, "a document of %d bytes (N+1) refused",
	       OAUTH_CIMD_DOC_MAX + 1);
	ok(why && strstr(why, "5120"), "... says the limit: %s", why);
	free(d);
}

static void test_store(void)
{
	struct oauth_client c;
	const char *why, *error, *desc;
	cJSON *m = NULL,
	      *reg = cJSON_Parse("{\"redirect_uris\":[\"" REDIR "\"],"
				 "\"token_endpoint_auth_method\":\"none\"}"),
	      *resp = NULL;
	char *d = docf(URL, "");
	int rc;

	is_int(oauth_cimd_doc_check(URL, d, strlen(d), REDIR, &m, &why), 0, "document accepted");
	is_int(oauth_client_get(DB, URL, &c), ERR_NOTFOUND, "not known before");
	is_int(oauth_cimd_store(DB, URL, m, NOW, 120, 10), 0, "stored");
	is_int(oauth_client_get(DB, URL, &c), 0, "known now");
	ok(c.cimd && c.expires_at == NOW + 120, "a metadata-document client, fresh until NOW+120");
	is_str(c.auth_method, "none", "public: auth none");
	is_str(c.secret_hash, "", "no secret");
	is_str(c.name, "App", "its client_name");
	ok(c.refresh, "refresh_token grant from the document");
	ok(oauth_client_redirect_ok(&c, REDIR), "its redirect URI");
	oauth_client_clear(&c);
	cJSON_Delete(m);
	free(d);

	d = docf(URL, ",\"client_name\":\"App 2\"");
	/* the duplicate client_name: cJSON takes the first; use a clean one */
	free(d);
	d = NULL;
	if (asprintf(&d, "{\"client_id\":\"" URL "\",\"client_name\":\"App 2\",\"redirect_uris\":"
			 "[\"https://app.example/cb2\"]}") > 0) {
		m = NULL;
		is_int(oauth_cimd_doc_check(URL, d, strlen(d), NULL, &m, &why), 0, "a new version");
		is_int(oauth_cimd_store(DB, URL, m, NOW + 200, 60, 1), 0,
		       "refreshed (an existing client does not count against the cap)");
		cJSON_Delete(m);
		free(d);
	}
	is_int(oauth_client_get(DB, URL, &c), 0, "still one client");
	ok(c.expires_at == NOW + 260 && strcmp(c.name, "App 2") == 0 &&
	       !oauth_client_redirect_ok(&c, REDIR) &&
	       oauth_client_redirect_ok(&c, "https://app.example/cb2") && !c.refresh,
	   "name, redirect URIs, grants and expiry replaced");
	oauth_client_clear(&c);

	/* registered clients are not metadata-document clients */
	rc = oauth_client_register(DB, reg, 10, NOW, &resp, &error, &desc);
	is_int(rc, 0, "a registered client");
	if (rc == 0) {
		is_int(
		    oauth_client_get(DB, cJSON_GetObjectItem(resp, "client_id")->valuestring, &c),
		    0, "... found");
		ok(!c.cimd && c.expires_at == 0, "... is not a metadata-document client");
		oauth_client_clear(&c);
	}
	cJSON_Delete(resp);
	cJSON_Delete(reg);

	/* the client cap: 2 clients are known; a new document with cap 2 */
	if (asprintf(&d, "{\"client_id\":\"https://b.example/c\",\"redirect_uris\":[\"" REDIR
			 "\"]}") > 0) {
		m = NULL;
		is_int(oauth_cimd_doc_check("https://b.example/c", d, strlen(d), NULL, &m, &why), 0,
		       "another document");
		/* "now" is the real time here: the clients were created a
		 * moment ago, so none is old enough to make room */
		is_int(oauth_cimd_store(DB, "https://b.example/c", m, time(NULL), 60, 2), ERR_RANGE,
		       "a new client over oauth-max-clients: ERR_RANGE");
		is_int(oauth_cimd_store(DB, "https://b.example/c", m, NOW, 60, 3), 0,
		       "... stored under a higher cap");
		cJSON_Delete(m);
		free(d);
	}
}

/* What the fetch read off the connection: head (CRLF-joined lines plus the
 * blank line) and body, parsed in a copy (the parser cuts the head). */
static int resp(const char *head, const char *body, size_t bodylen, const char **b, size_t *bl,
		unsigned *ttl, char *why, size_t whycap)
{
	static char buf[OAUTH_CIMD_HEAD_MAX + OAUTH_CIMD_DOC_MAX + 64];
	size_t hl = strlen(head);

	if (hl + bodylen > sizeof(buf))
		return -100;
	memcpy(buf, head, hl);
	memcpy(buf + hl, body, bodylen);
	return oauth_cimd_response_parse(buf, hl + bodylen, b, bl, ttl, why, whycap);
}

/* A head of exactly n bytes, blank line included: one padding header. */
static const char *head_of(size_t n)
{
	static char h[OAUTH_CIMD_HEAD_MAX + 64];
	const char *pre = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nX-Pad: ";
	size_t pl = strlen(pre);

	if (n < pl + 4 || n >= sizeof(h))
		return NULL;
	memcpy(h, pre, pl);
	memset(h + pl, 'a', n - pl - 4);
	memcpy(h + n - 4, "\r\n\r\n", 5);
	return h;
}

static void test_response(void)
{
	static char big[OAUTH_CIMD_DOC_MAX + 2];
	const char *b, *ok_head = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
				  "Cache-Control: max-age=600\r\n\r\n";
	char why[200], h[256];
	size_t bl;
	unsigned ttl;

	is_int(resp(ok_head, "{}", 2, &b, &bl, &ttl, why, sizeof(why)), 0,
	       "a plain 200 JSON answer");
	ok(bl == 2 && memcmp(b, "{}", 2) == 0 && ttl == 600, "body and max-age=600 come back");
	is_int(
	    resp("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.x+json; charset=utf-8\r\n\r\n",
		 "{}", 2, &b, &bl, &ttl, why, sizeof(why)),
	    0, "application/<x>+json with parameters is JSON");

	/* the head cap, blank line included: N and N+1 */
	is_int(resp(head_of(OAUTH_CIMD_HEAD_MAX), "{}", 2, &b, &bl, &ttl, why, sizeof(why)), 0,
	       "a head of exactly OAUTH_CIMD_HEAD_MAX bytes");
	is_int(resp(head_of(OAUTH_CIMD_HEAD_MAX + 1), "{}", 2, &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "a head one byte over: refused (%s)", why);

	/* the body cap, with and without Content-Length: N and N+1 */
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[OAUTH_CIMD_DOC_MAX - 1] = '}';
	is_int(resp(ok_head, big, OAUTH_CIMD_DOC_MAX, &b, &bl, &ttl, why, sizeof(why)), 0,
	       "a body of exactly OAUTH_CIMD_DOC_MAX bytes");
	is_int(resp(ok_head, big, OAUTH_CIMD_DOC_MAX + 1, &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "a body one byte over: refused (%s)", why);
	snprintf(h, sizeof(h),
		 "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		 OAUTH_CIMD_DOC_MAX);
	is_int(resp(h, big, OAUTH_CIMD_DOC_MAX, &b, &bl, &ttl, why, sizeof(why)), 0,
	       "Content-Length equal to a body at the cap");
	snprintf(h, sizeof(h),
		 "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		 OAUTH_CIMD_DOC_MAX + 1);
	is_int(resp(h, big, OAUTH_CIMD_DOC_MAX + 1, &b, &bl, &ttl, why, sizeof(why)), ERR_INVALID,
	       "Content-Length one over the cap: refused");
	is_int(
	    resp("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n",
		 "{}", 2, &b, &bl, &ttl, why, sizeof(why)),
	    ERR_INVALID, "a body shorter than Content-Length: refused (%s)", why);
	ok(b == NULL && bl == 0 && ttl == 0, "a refusal leaves no body and no TTL");

	/* one Content-Type, JSON only; no redirects; CRLF only */
	is_int(resp("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Type: "
		    "text/html\r\n\r\n",
		    "{}", 2, &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "two Content-Type fields: refused");
	is_int(resp("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n", "{}", 2, &b, &bl, &ttl,
		    why, sizeof(why)),
	       ERR_INVALID, "text/html: refused");
	is_int(resp("HTTP/1.0 200 OK\r\n\r\n", "{}", 2, &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "no Content-Type: refused");
	is_int(resp("HTTP/1.0 302 Found\r\nLocation: https://evil.example/x\r\nContent-Type: "
		    "application/json\r\n\r\n",
		    "{}", 2, &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "a redirect is not followed");
	ok(strstr(why, "redirect") != NULL, "... and the reason says redirect (%s)", why);
	is_int(resp("HTTP/1.0 200 OK\nContent-Type: application/json\n\n", "{}", 2, &b, &bl, &ttl,
		    why, sizeof(why)),
	       ERR_INVALID, "bare LF line ends: refused");
	is_int(resp("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n folded\r\n\r\n", "{}", 2,
		    &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "an obsolete folded header line: refused");
	is_int(resp("HTTP/1.0 2000 OK\r\nContent-Type: application/json\r\n\r\n", "{}", 2, &b, &bl,
		    &ttl, why, sizeof(why)),
	       ERR_INVALID, "status 2000 is not 200");
	is_int(resp("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n",
		    "2\r\n{}\r\n0\r\n\r\n", 12, &b, &bl, &ttl, why, sizeof(why)),
	       ERR_INVALID, "chunked transfer coding: refused");
}

int main(void)
{
	char err[256];

	if (sqlite3_open(":memory:", &DB) != SQLITE_OK || db_migrate(DB, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot set up the database: %s\n", err);
		return 1;
	}
	sqlite3_exec(DB, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	test_url();
	test_ttl();
	test_ssrf();
	test_doc();
	test_response();
	test_store();
	sqlite3_close(DB);
	return done_testing();
}
