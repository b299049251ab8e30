/*
 * test_oauth.c: mcpd's OAuth store (mcpd/oauth_store.h) and the public URL
 * rule (mconf_public_url), with no HTTP: PKCE (the RFC 7636 Appendix B
 * vector, verifier lengths 42/43/128/129), scopes, zone bounds, client
 * registration limits (8/9 redirect URIs), the code grant with every
 * refusal (wrong verifier, redirect URI, client, audience, expiry, reuse
 * revoking the grant), refresh rotation and replay, revocation, the
 * resource server's check (expired, revoked, wrong audience), one-time
 * approval codes, pruning. Time is passed in, so expiry is exact.
 */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "db.h"
#include "err.h"
#include "mconf.h"
#include "oauth_store.h"
#include "tap.h"

#define RES   "https://dns.example.test/stream"
#define REDIR "https://client.example/cb"
#define NOW   1900000000

static sqlite3 *DB;

static cJSON *json(const char *s)
{
	return cJSON_Parse(s);
}

/* Registers a client with the given metadata; returns its client_id in out. */
static int reg(const char *meta, char *out, size_t cap, const char **error)
{
	cJSON *m = json(meta), *r = NULL;
	const char *desc;
	int rc = oauth_client_register(DB, m, 100, NOW, &r, error, &desc);

	if (rc == 0)
		snprintf(out, cap, "%s",
			 cJSON_GetObjectItemCaseSensitive(r, "client_id")->valuestring);
	cJSON_Delete(m);
	cJSON_Delete(r);
	return rc;
}

static void test_pkce_scope_zones(void)
{
	char c[OAUTH_CHALLENGE_LEN + 1], v[200];
	bool r, w;

	oauth_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c);
	is_str(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	       "S256 of the RFC 7636 Appendix B verifier");
	memset(v, 'a', sizeof(v));
	v[42] = '\0';
	ok(!oauth_verifier_ok(v), "verifier of 42 characters refused");
	v[42] = 'a', v[43] = '\0';
	ok(oauth_verifier_ok(v), "verifier of 43 accepted");
	v[43] = 'a', v[128] = '\0';
	ok(oauth_verifier_ok(v), "verifier of 128 accepted");
	v[128] = 'a', v[129] = '\0';
	ok(!oauth_verifier_ok(v), "verifier of 129 refused");
	v[128] = '\0';
	v[5] = '+';
	ok(!oauth_verifier_ok(v), "'+' is not an unreserved character");

	ok(oauth_scope_parse(NULL, &r, &w) == 0 && r && w, "no scope: everything we have");
	ok(oauth_scope_parse("dns:read", &r, &w) == 0 && r && !w, "dns:read");
	ok(oauth_scope_parse("dns:write", &r, &w) == 0 && r && w, "dns:write implies dns:read");
	ok(oauth_scope_parse("dns:read dns:admin", &r, &w) == ERR_INVALID,
	   "an unknown scope refused");
	ok(oauth_scope_parse("dns:write dns:write", &r, &w) == ERR_INVALID,
	   "a repeated scope refused");
	ok(oauth_scope_parse("offline_access", &r, &w) == ERR_INVALID,
	   "offline_access is not ours");

	ok(oauth_zones_within("example.com", "*"), "anything is within *");
	ok(oauth_zones_within("a.example.com.", "*.example.com."), "a name a glob matches");
	ok(!oauth_zones_within("*.example.com", "a.example.com"), "a glob is not within a name");
	ok(oauth_zones_within("*.example.com", "*.example.com."), "a glob within the same glob");
	ok(!oauth_zones_within("example.org", "example.com"), "another zone");
	ok(!oauth_zones_within("example.com,example.org", "example.com"),
	   "one entry outside spoils the list");
	ok(!oauth_zones_within("", "*"), "an empty list grants nothing");
	ok(!oauth_zones_within("ex ample.com", "*"), "junk characters refused");
}

static void test_register(void)
{
	char id[80], meta[2400];
	const char *error;
	struct oauth_client c;

	ok(reg("{\"redirect_uris\":[\"" REDIR "\"],\"token_endpoint_auth_method\":\"none\","
	       "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"client_name\":\"t\"}",
	       id, sizeof(id), &error) == 0,
	   "register a public client");
	ok(strncmp(id, OAUTH_CLIENT_PREFIX, 5) == 0 && strlen(id) == 5 + 43,
	   "client_id: mcpc_ + 43");
	ok(oauth_client_get(DB, id, &c) == 0 && c.refresh && strcmp(c.auth_method, "none") == 0,
	   "read it back");
	ok(oauth_client_redirect_ok(&c, REDIR), "its redirect URI matches");
	ok(!oauth_client_redirect_ok(&c, REDIR "/"), "a trailing slash does not");
	ok(!oauth_client_redirect_ok(&c, "HTTPS://client.example/cb"), "nor another case");
	oauth_client_clear(&c);
	ok(reg("{\"redirect_uris\":[\"http://127.0.0.1:33418/cb\"]}", id, sizeof(id), &error) == 0,
	   "http on loopback accepted");
	ok(reg("{\"redirect_uris\":[\"http://client.example/cb\"]}", id, sizeof(id), &error) ==
		   ERR_INVALID &&
	       strcmp(error, "invalid_redirect_uri") == 0,
	   "http elsewhere refused");
	ok(reg("{\"redirect_uris\":[\"javascript:alert(1)\"]}", id, sizeof(id), &error) ==
	       ERR_INVALID,
	   "javascript: refused");
	ok(reg("{\"redirect_uris\":[\"com.example.app:/cb\"]}", id, sizeof(id), &error) == 0,
	   "a reverse-domain private-use scheme accepted");
	ok(reg("{\"redirect_uris\":[\"" REDIR "\"],\"grant_types\":[\"client_credentials\"]}", id,
	       sizeof(id), &error) == ERR_INVALID,
	   "client_credentials refused");
	ok(reg("{\"redirect_uris\":[\"" REDIR
	       "\"],\"token_endpoint_auth_method\":\"private_key_jwt\"}",
	       id, sizeof(id), &error) == ERR_INVALID,
	   "an unknown auth method refused");
	ok(reg("{\"redirect_uris\":[\"" REDIR "\"],\"scope\":\"dns:read admin\"}", id, sizeof(id),
	       &error) == ERR_INVALID,
	   "an unknown scope refused");
	strcpy(meta, "{\"redirect_uris\":[");
	for (int i = 0; i < 8; i++)
		sprintf(meta + strlen(meta), "%s\"https://a.example/%d\"", i ? "," : "", i);
	strcat(meta, "]}");
	ok(reg(meta, id, sizeof(id), &error) == 0, "8 redirect URIs accepted");
	strcpy(meta + strlen(meta) - 2, ",\"https://a.example/8\"]}");
	ok(reg(meta, id, sizeof(id), &error) == ERR_INVALID, "9 refused");
	{
		char name[150];
		memset(name, 'n', sizeof(name));
		snprintf(meta, sizeof(meta),
			 "{\"redirect_uris\":[\"" REDIR "\"],\"client_name\":\"%.100s\"}", name);
		ok(reg(meta, id, sizeof(id), &error) == 0, "client_name of 100 bytes accepted");
		snprintf(meta, sizeof(meta),
			 "{\"redirect_uris\":[\"" REDIR "\"],\"client_name\":\"%.101s\"}", name);
		ok(reg(meta, id, sizeof(id), &error) == ERR_INVALID, "101 refused");
	}
}

static void test_flow(void)
{
	struct oauth_ttls ttl = {3600, 86400, 60};
	struct oauth_client c, other;
	struct oauth_approval a;
	struct oauth_token_response t, t2, t3;
	struct auth_identity who;
	const char *error, *desc, *why;
	char id[80], id2[80], code[OAUTH_SECRET_MAX], chal[OAUTH_CHALLENGE_LEN + 1];
	const char *ver = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

	reg("{\"redirect_uris\":[\"" REDIR "\"],\"token_endpoint_auth_method\":\"none\","
	    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"client_name\":\"flow\"}",
	    id, sizeof(id), &error);
	reg("{\"redirect_uris\":[\"" REDIR "\"],\"token_endpoint_auth_method\":\"none\"}", id2,
	    sizeof(id2), &error);
	oauth_client_get(DB, id, &c);
	oauth_client_get(DB, id2, &other);
	oauth_s256(ver, chal);
	memset(&a, 0, sizeof(a));
	a.client = c.id;
	a.redirect_uri = REDIR;
	a.code_challenge = chal;
	a.resource = RES;
	a.scope = "dns:read dns:write";
	a.zones = "example.com";
	a.approved_by = "ops";
	ok(oauth_code_create(DB, &a, 60, NOW, code) == 0, "a code");

	ok(oauth_code_exchange(DB, &other, code, REDIR, ver, NULL, &ttl, NOW, &t, &error, &desc) ==
		   ERR_INVALID &&
	       strcmp(error, "invalid_grant") == 0,
	   "another client's exchange refused");
	ok(oauth_code_exchange(DB, &c, code, REDIR "x", ver, NULL, &ttl, NOW, &t, &error, &desc) ==
	       ERR_INVALID,
	   "a different redirect_uri refused");
	ok(oauth_code_exchange(DB, &c, code, REDIR, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
			       NULL, &ttl, NOW, &t, &error, &desc) == ERR_INVALID &&
	       strcmp(error, "invalid_grant") == 0,
	   "a wrong verifier refused");
	ok(oauth_code_exchange(DB, &c, code, REDIR, ver, "https://evil.test/stream", &ttl, NOW, &t,
			       &error, &desc) == ERR_INVALID &&
	       strcmp(error, "invalid_target") == 0,
	   "another resource: invalid_target");
	ok(oauth_code_exchange(DB, &c, code, REDIR, ver, NULL, &ttl, NOW + 60, &t, &error, &desc) ==
	       ERR_INVALID,
	   "at its expiry second the code is dead");
	ok(oauth_code_exchange(DB, &c, code, REDIR, ver, RES, &ttl, NOW + 59, &t, &error, &desc) ==
	       0,
	   "one second before, it works");
	ok(strncmp(t.access_token, OAUTH_ACCESS_PREFIX, 6) == 0 &&
	       strncmp(t.refresh_token, OAUTH_REFRESH_PREFIX, 6) == 0 && t.expires_in == 3600 &&
	       strcmp(t.scope, "dns:read dns:write") == 0,
	   "an access and a refresh token");

	ok(oauth_access_check(DB, t.access_token, strlen(t.access_token), RES, NOW + 100, &who,
			      &why) == 0 &&
	       who.can_write && who.oauth && who.token_id < 0 &&
	       strcmp(who.zones, "example.com") == 0 && strcmp(who.name, "ops/oauth:flow") == 0,
	   "the resource server accepts it: write, example.com, ops/oauth:flow");
	ok(oauth_access_check(DB, t.access_token, strlen(t.access_token),
			      "https://other.test/stream", NOW + 100, &who, &why) == ERR_NOTFOUND &&
	       strcmp(why, "issued for another resource") == 0,
	   "another audience refused");
	ok(oauth_access_check(DB, t.access_token, strlen(t.access_token), RES, NOW + 59 + 3600,
			      &who, &why) == ERR_NOTFOUND &&
	       strcmp(why, "expired") == 0,
	   "expired at expires_at");
	ok(oauth_access_check(DB, t.refresh_token, strlen(t.refresh_token), RES, NOW, &who, &why) ==
	       ERR_NOTFOUND,
	   "a refresh token is no access token");

	ok(oauth_refresh(DB, &c, t.refresh_token, "dns:read", RES, &ttl, NOW + 200, &t2, &error,
			 &desc) == 0 &&
	       strcmp(t2.scope, "dns:read") == 0,
	   "refresh, narrowed to dns:read");
	ok(oauth_access_check(DB, t2.access_token, strlen(t2.access_token), RES, NOW + 300, &who,
			      &why) == 0 &&
	       !who.can_write,
	   "the narrowed token cannot write");
	ok(oauth_refresh(DB, &c, t2.refresh_token, "dns:read dns:write", NULL, &ttl, NOW + 300, &t3,
			 &error, &desc) == ERR_INVALID &&
	       strcmp(error, "invalid_scope") == 0,
	   "widening on refresh refused");
	ok(oauth_refresh(DB, &other, t2.refresh_token, NULL, NULL, &ttl, NOW + 300, &t3, &error,
			 &desc) == ERR_INVALID,
	   "another client cannot refresh it");
	ok(oauth_refresh(DB, &c, t.refresh_token, NULL, NULL, &ttl, NOW + 300, &t3, &error,
			 &desc) == ERR_INVALID &&
	       strcmp(error, "invalid_grant") == 0,
	   "the first refresh token replayed: refused");
	ok(oauth_access_check(DB, t2.access_token, strlen(t2.access_token), RES, NOW + 300, &who,
			      &why) == ERR_NOTFOUND &&
	       strcmp(why, "revoked") == 0,
	   "... and the grant is revoked");
	ok(oauth_code_exchange(DB, &c, code, REDIR, ver, NULL, &ttl, NOW + 30, &t3, &error,
			       &desc) == ERR_INVALID,
	   "the code cannot be used again");

	/* code reuse revokes what the code gave */
	ok(oauth_code_create(DB, &a, 60, NOW, code) == 0 &&
	       oauth_code_exchange(DB, &c, code, REDIR, ver, NULL, &ttl, NOW, &t, &error, &desc) ==
		   0,
	   "a second code exchanged");
	ok(oauth_code_exchange(DB, &c, code, REDIR, ver, NULL, &ttl, NOW, &t3, &error, &desc) ==
	       ERR_INVALID,
	   "reused: refused");
	ok(oauth_access_check(DB, t.access_token, strlen(t.access_token), RES, NOW, &who, &why) ==
	       ERR_NOTFOUND,
	   "reuse revoked the tokens of the first exchange");

	/* revocation */
	ok(oauth_code_create(DB, &a, 60, NOW, code) == 0 &&
	       oauth_code_exchange(DB, &c, code, REDIR, ver, NULL, &ttl, NOW, &t, &error, &desc) ==
		   0,
	   "a third grant");
	ok(oauth_revoke(DB, &other, t.access_token, &error) == ERR_INVALID &&
	       strcmp(error, "unauthorized_client") == 0,
	   "another client cannot revoke it");
	ok(oauth_revoke(DB, &c, "mcpat_unknown", &error) == 0, "an unknown token: fine");
	ok(oauth_revoke(DB, &c, t.access_token, &error) == 0 &&
	       oauth_access_check(DB, t.access_token, strlen(t.access_token), RES, NOW, &who,
				  &why) == ERR_NOTFOUND,
	   "revoking the access token ends it");
	ok(oauth_refresh(DB, &c, t.refresh_token, NULL, NULL, &ttl, NOW, &t2, &error, &desc) == 0,
	   "... its refresh token still works");
	ok(oauth_revoke(DB, &c, t2.refresh_token, &error) == 0 &&
	       oauth_access_check(DB, t2.access_token, strlen(t2.access_token), RES, NOW, &who,
				  &why) == ERR_NOTFOUND,
	   "revoking the refresh token ends the grant's access tokens too");

	/* a client without the refresh_token grant gets no refresh token */
	a.client = other.id;
	ok(oauth_code_create(DB, &a, 60, NOW, code) == 0 &&
	       oauth_code_exchange(DB, &other, code, REDIR, ver, NULL, &ttl, NOW, &t, &error,
				   &desc) == 0 &&
	       t.refresh_token[0] == '\0',
	   "no refresh_token grant registered: no refresh token");
	ok(oauth_prune(DB, NOW + 10 * 86400) > 0, "pruning removes expired rows");
	oauth_client_clear(&c);
	oauth_client_clear(&other);
}

static void test_approvals(void)
{
	char code[OAUTH_APPROVAL_LEN + 1], zones[100], name[64], typed[64];
	int64_t id;
	bool w;

	ok(oauth_approval_create(DB, false, "example.com", 900, NOW, code, &id) == 0 &&
	       strlen(code) == OAUTH_APPROVAL_LEN && code[5] == '-',
	   "an approval code XXXXX-XXXXX-...");
	/* a person may type it in lower case without dashes */
	size_t o = 0;
	for (const char *p = code; *p; p++)
		if (*p != '-')
			typed[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	typed[o] = '\0';
	ok(oauth_approval_take(DB, code, NOW + 900, &w, zones, sizeof(zones), name, sizeof(name)) ==
	       ERR_NOTFOUND,
	   "expired at its expiry second");
	ok(oauth_approval_take(DB, typed, NOW + 899, &w, zones, sizeof(zones), name,
			       sizeof(name)) == 0 &&
	       !w && strcmp(zones, "example.com") == 0 && strncmp(name, "approval #", 10) == 0,
	   "taken (case and dashes ignored): read, example.com");
	ok(oauth_approval_take(DB, code, NOW + 1, &w, zones, sizeof(zones), name, sizeof(name)) ==
	       ERR_NOTFOUND,
	   "only once");
	ok(oauth_approval_take(DB, "00000-00000", NOW, &w, zones, sizeof(zones), name,
			       sizeof(name)) == ERR_NOTFOUND,
	   "a short code is no code");
}

static void test_public_url(void)
{
	char url[400], host[300], err[200];

	ok(mconf_public_url("https://DNS.example.test/", url, sizeof(url), host, sizeof(host), err,
			    sizeof(err)) == 0 &&
	       strcmp(url, "https://dns.example.test") == 0 &&
	       strcmp(host, "dns.example.test") == 0,
	   "https, trailing slash and case normalized");
	ok(mconf_public_url("https://dns.example.test:8443", url, sizeof(url), host, sizeof(host),
			    err, sizeof(err)) == 0 &&
	       strcmp(host, "dns.example.test:8443") == 0,
	   "with a port");
	ok(mconf_public_url("http://127.0.0.1:8053", url, sizeof(url), host, sizeof(host), err,
			    sizeof(err)) == 0,
	   "http on loopback");
	ok(mconf_public_url("http://[::1]:8053", url, sizeof(url), host, sizeof(host), err,
			    sizeof(err)) == 0 &&
	       strcmp(host, "[::1]:8053") == 0,
	   "http on [::1]");
	ok(mconf_public_url("http://dns.example.test", url, sizeof(url), host, sizeof(host), err,
			    sizeof(err)) == ERR_INVALID,
	   "http elsewhere refused");
	ok(mconf_public_url("https://dns.example.test/mcp", url, sizeof(url), host, sizeof(host),
			    err, sizeof(err)) == ERR_INVALID,
	   "a path refused");
	ok(mconf_public_url("https://u@dns.example.test", url, sizeof(url), host, sizeof(host), err,
			    sizeof(err)) == ERR_INVALID,
	   "userinfo refused");
	ok(mconf_public_url("dns.example.test", url, sizeof(url), host, sizeof(host), err,
			    sizeof(err)) == ERR_INVALID,
	   "no scheme refused");
}

int main(void)
{
	char err[256];

	if (sqlite3_open(":memory:", &DB) != SQLITE_OK || db_migrate(DB, err, sizeof(err)) < 0) {
		printf("Bail out! cannot make a database: %s\n", err);
		return 1;
	}
	ok(db_version(DB) == DB_SCHEMA_VERSION && DB_SCHEMA_VERSION >= 3,
	   "the OAuth tables (version 2) and their CIMD columns (version 3) are there");
	test_pkce_scope_zones();
	test_register();
	test_flow();
	test_approvals();
	test_public_url();
	sqlite3_close(DB);
	return done_testing();
}
