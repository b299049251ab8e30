/*
 * auth.c: bearer tokens, rates, Host and Origin (auth.h).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "conf.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "mconf.h"
#include "oauth_store.h"
#include "token.h"

#define AUTH_STATE_BUCKETS    256
#define AUTH_LAST_USED_PERIOD 60000 /* ms between last_used_at updates */

/* Per-token state kept in memory: the rate bucket and when last_used_at
 * was last written. One entry per token that made a request. */
struct token_state {
	int64_t token_id;
	double tokens;		  /* requests left in the bucket */
	uint64_t refill_ms;	  /* when tokens was last refilled */
	uint64_t last_used_ms;	  /* last_used_at write, 0 = never */
	struct token_state *next; /* hash chain */
};

struct auth {
	struct sqlite3 *db;
	struct sqlite3_stmt *lookup;
	struct sqlite3_stmt *touch;
	unsigned rate;
	char *oauth_resource; /* RFC 8707 audience of OAuth access tokens; NULL: OAuth off */
	const char *why;      /* why the last credential was refused */
	struct token_state *states[AUTH_STATE_BUCKETS];
	size_t n_states;
};

struct auth *auth_new(struct sqlite3 *db, unsigned rate_per_min, char *err, size_t errcap)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	a->db = db;
	a->rate = rate_per_min;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name, scope, zones, hash FROM tokens"
			       " WHERE hash = ?1 AND revoked_at IS NULL",
			       -1, &a->lookup, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "UPDATE tokens SET last_used_at ="
			       " strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
			       -1, &a->touch, NULL) != SQLITE_OK) {
		snprintf(err, errcap, "cannot prepare token queries: %s", sqlite3_errmsg(db));
		auth_free(a);
		return NULL;
	}
	return a;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	sqlite3_finalize(a->lookup);
	sqlite3_finalize(a->touch);
	free(a->oauth_resource);
	for (size_t i = 0; i < AUTH_STATE_BUCKETS; i++) {
		struct token_state *s, *next;
		for (s = a->states[i]; s; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(a);
}

void auth_noauth_identity(struct auth_identity *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", AUTH_NOAUTH_NAME);
	out->can_write = true;
	snprintf(out->zones, sizeof(out->zones), "*");
}

static struct token_state *state_get(struct auth *a, int64_t token_id, uint64_t now_ms)
{
	unsigned b = (unsigned)((uint64_t)token_id % AUTH_STATE_BUCKETS);
	struct token_state *s;

	for (s = a->states[b]; s; s = s->next)
		if (s->token_id == token_id)
			return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->token_id = token_id;
	s->tokens = a->rate;
	s->refill_ms = now_ms;
	s->next = a->states[b];
	a->states[b] = s;
	a->n_states++;
	return s;
}

/* RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, where
 * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * The scheme is case-insensitive (RFC 9110 §11.1). */
static const char *bearer_token(const char *h, size_t *len)
{
	const char *p, *start;

	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' '))
		return NULL;
	for (p = h + 6; *p == ' '; p++)
		;
	start = p;
	while (*p && (('A' <= *p && *p <= 'Z') || ('a' <= *p && *p <= 'z') ||
		      ('0' <= *p && *p <= '9') || strchr("-._~+/", *p)))
		p++;
	while (*p == '=')
		p++;
	*len = (size_t)(p - start);
	/* trailing blanks are tolerated, anything else is not a b64token */
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' || *len == 0 || *len > AUTH_TOKEN_MAX)
		return NULL;
	return start;
}

static void touch(struct auth *a, struct token_state *st, int64_t token_id, uint64_t now_ms)
{
	int rc;

	if (st == NULL ||
	    (st->last_used_ms != 0 && now_ms - st->last_used_ms < AUTH_LAST_USED_PERIOD))
		return;
	/* bookkeeping must never stall the loop behind a writer: no waiting
	 * for the lock, try again on a later request */
	sqlite3_busy_timeout(a->db, 0);
	sqlite3_bind_int64(a->touch, 1, token_id);
	rc = sqlite3_step(a->touch);
	sqlite3_reset(a->touch);
	sqlite3_clear_bindings(a->touch);
	sqlite3_busy_timeout(a->db, DB_BUSY_TIMEOUT_MS);
	if (rc == SQLITE_DONE)
		st->last_used_ms = now_ms;
	else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
		log_warnx("token %lld: cannot update last_used_at: %s", (long long)token_id,
			  sqlite3_errmsg(a->db));
}

int auth_set_oauth(struct auth *a, const char *resource)
{
	char *r = resource ? strdup(resource) : NULL;

	if (resource && r == NULL)
		return ERR_NOMEM;
	free(a->oauth_resource);
	a->oauth_resource = r;
	return 0;
}

const char *auth_why(const struct auth *a)
{
	return a->why ? a->why : "unknown or revoked token";
}

int auth_bearer(struct auth *a, const char *header, uint64_t now_ms, struct auth_identity *out,
		bool *presented)
{
	const char *tok;
	size_t len;
	int rc;

	*presented = header != NULL;
	a->why = NULL;
	if (header == NULL)
		return ERR_NOTFOUND;
	tok = bearer_token(header, &len);
	if (tok == NULL) {
		a->why = "malformed Authorization header (want: Bearer <token>)";
		return ERR_NOTFOUND;
	}
	if (a->oauth_resource && len > strlen(OAUTH_ACCESS_PREFIX) &&
	    memcmp(tok, OAUTH_ACCESS_PREFIX, strlen(OAUTH_ACCESS_PREFIX)) == 0) {
		const char *why = NULL;

		rc = oauth_access_check(a->db, tok, len, a->oauth_resource, time(NULL), out, &why);
		if (rc == ERR_NOTFOUND)
			a->why = why;
		return rc;
	}
	return auth_static_token(a, tok, len, now_ms, out);
}

int auth_static_token(struct auth *a, const char *tok, size_t len, uint64_t now_ms,
		      struct auth_identity *out)
{
	char hash[TOKEN_HASH_HEXLEN + 1];
	const char *name, *scope, *zones, *dbhash;
	int rc, ret = ERR_NOTFOUND;

	if (len == 0 || len > AUTH_TOKEN_MAX)
		return ERR_NOTFOUND;
	token_hash_hex(tok, len, hash);
	sqlite3_bind_text(a->lookup, 1, hash, TOKEN_HASH_HEXLEN, SQLITE_STATIC);
	rc = sqlite3_step(a->lookup);
	if (rc == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(a->lookup, 1);
		scope = (const char *)sqlite3_column_text(a->lookup, 2);
		zones = (const char *)sqlite3_column_text(a->lookup, 3);
		dbhash = (const char *)sqlite3_column_text(a->lookup, 4);
		if (name && scope && zones && dbhash && token_hash_equal(dbhash, hash)) {
			memset(out, 0, sizeof(*out));
			out->token_id = sqlite3_column_int64(a->lookup, 0);
			out->can_write = strcmp(scope, "write") == 0;
			if (strlen(name) >= sizeof(out->name) ||
			    strlen(zones) >= sizeof(out->zones)) {
				log_warnx("token %lld: name or zone list too long to serve",
					  (long long)out->token_id);
			} else {
				memcpy(out->name, name, strlen(name) + 1);
				memcpy(out->zones, zones, strlen(zones) + 1);
				ret = 0;
			}
		}
	} else if (rc != SQLITE_DONE) {
		log_warnx("token lookup failed: %s", sqlite3_errmsg(a->db));
		ret = ERR_DB;
	}
	sqlite3_reset(a->lookup);
	sqlite3_clear_bindings(a->lookup);
	if (ret == 0)
		touch(a, state_get(a, out->token_id, now_ms), out->token_id, now_ms);
	return ret;
}

int auth_rate_take(struct auth *a, int64_t token_id, uint64_t now_ms, unsigned *retry_after_s)
{
	struct token_state *s;
	double per_ms;

	if (a->rate == 0)
		return 0;
	s = state_get(a, token_id, now_ms);
	if (s == NULL)
		return 0; /* out of memory: do not turn it into a denial */
	per_ms = a->rate / 60000.0;
	if (now_ms > s->refill_ms) {
		s->tokens += (double)(now_ms - s->refill_ms) * per_ms;
		if (s->tokens > a->rate)
			s->tokens = a->rate;
		s->refill_ms = now_ms;
	}
	if (s->tokens >= 1.0) {
		s->tokens -= 1.0;
		return 0;
	}
	/* seconds until one whole request is back, rounded up, at least 1 */
	*retry_after_s = (unsigned)ceil((1.0 - s->tokens) / per_ms / 1000.0);
	if (*retry_after_s == 0)
		*retry_after_s = 1;
	return ERR_RANGE;
}

int auth_hosts_add(struct auth_hosts *h, const char *host)
{
	if (h->n >= AUTH_MAX_HOSTS || strlen(host) >= AUTH_HOST_MAX)
		return ERR_RANGE;
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->host[i], host) == 0)
			return 0;
	snprintf(h->host[h->n++], AUTH_HOST_MAX, "%s", host);
	return 0;
}

int auth_hosts_init(struct auth_hosts *h, const struct mconf *c, const uint16_t *ports,
		    size_t nports)
{
	char buf[AUTH_HOST_MAX];
	int rc = 0;

	memset(h, 0, sizeof(*h));
	h->origins = (const char *const *)c->allow_origin;
	h->n_origins = c->n_origins;
	if (c->public_host) {
		rc |= auth_hosts_add(h, c->public_host);
		/* "NAME" without a port: clients send Host without one for
		 * the default port, some name the default port anyway */
		if (strchr(c->public_host, ':') == NULL || c->public_host[0] == '[') {
			if (c->public_host[0] != '[' || strstr(c->public_host, "]:") == NULL) {
				snprintf(buf, sizeof(buf), "%s:443", c->public_host);
				rc |= auth_hosts_add(h, buf);
				snprintf(buf, sizeof(buf), "%s:80", c->public_host);
				rc |= auth_hosts_add(h, buf);
			}
		}
	}
	if (c->public_url) {
		/* the public URL's authority is a Host clients send through the
		 * proxy; without a port they may also name the default one */
		char url[MCONF_PUBLIC_URL_MAX + 16], host[MCONF_PUBLIC_URL_MAX], e[200];

		if (mconf_public_url(c->public_url, url, sizeof(url), host, sizeof(host), e,
				     sizeof(e)) == 0) {
			rc |= auth_hosts_add(h, host);
			if (strrchr(host, ':') == NULL ||
			    (host[0] == '[' && host[strlen(host) - 1] == ']')) {
				snprintf(buf, sizeof(buf), "%s:%s", host,
					 strncmp(url, "https:", 6) == 0 ? "443" : "80");
				rc |= auth_hosts_add(h, buf);
			}
		}
	}
	for (size_t i = 0; i < nports; i++) {
		static const char *const loop[] = {"localhost", "127.0.0.1", "[::1]"};
		struct sockaddr_storage ss;
		unsigned int sslen;
		char ip[INET6_ADDRSTRLEN];
		const char *l = mconf_listen(c, i);

		for (size_t j = 0; j < 3; j++) {
			snprintf(buf, sizeof(buf), "%s:%u", loop[j], ports[i]);
			rc |= auth_hosts_add(h, buf);
		}
		/* a specific listen address is a name clients may use too */
		if (l && conf_parse_addr(l, 0, &ss, &sslen) == 0) {
			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
				if (sin->sin_addr.s_addr != htonl(INADDR_ANY)) {
					inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
					snprintf(buf, sizeof(buf), "%s:%u", ip, ports[i]);
					rc |= auth_hosts_add(h, buf);
				}
			} else if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
				if (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
					inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
					snprintf(buf, sizeof(buf), "[%s]:%u", ip, ports[i]);
					rc |= auth_hosts_add(h, buf);
				}
			}
		}
	}
	return rc ? ERR_RANGE : 0;
}

bool auth_host_ok(const struct auth_hosts *h, const char *host)
{
	if (host == NULL)
		return false;
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->host[i], host) == 0)
			return true;
	return false;
}

bool auth_origin_ok(const struct auth_hosts *h, const char *origin)
{
	const char *rest;

	for (size_t i = 0; i < h->n_origins; i++)
		if (strcasecmp(h->origins[i], origin) == 0)
			return true;
	if (strncasecmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return false;
	return auth_host_ok(h, rest);
}
