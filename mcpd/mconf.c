/*
 * mconf.c: mcpd's serving settings and every default they have (mconf.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/http.h>
#include <strings.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "mconf.h"
#include "store.h"

const char mconf_usage[] =
    "usage: mcpd --db FILE [--listen ADDR:PORT]... [--dnsd ADDR:PORT] [--no-auth] [-c FILE]\n"
    "            [options]\n"
    "       mcpd --db FILE SUBCOMMAND ...   (see mcpd --help)\n"
    "\n"
    "Serves MCP (Streamable HTTP) on http://ADDR:PORT/stream.\n"
    "  -c, --config FILE            read these settings from FILE (\"key value\" lines)\n"
    "  --db FILE                    the SQLite database (mcpd --db FILE init creates it)\n"
    "  --listen ADDR:PORT           repeatable; default " MCONF_DEFAULT_LISTEN
    "; port 0 picks one\n"
    "  --dnsd ADDR:PORT             where NOTIFY and SOA checks go; default " MCONF_DEFAULT_DNSD
    "\n"
    "  --no-auth                    no bearer tokens (refused unless every listener is loopback)\n"
    "  --public-host NAME[:PORT]    the Host clients use through a reverse proxy\n"
    "                               (default: localhost, 127.0.0.1, [::1] with the listen port)\n"
    "  --allow-origin URL           repeatable; browser origins allowed (default none)\n"
    "  --max-body BYTES             request body cap (default 1M)\n"
    "  --max-header BYTES           request header cap (default 16K)\n"
    "  --max-sessions N             live MCP sessions (default 1000)\n"
    "  --max-sessions-per-token N   of them per token or OAuth grant; at the cap its least\n"
    "                               recently used session without a stream is ended\n"
    "                               (default 100, 0 = no cap; at most --max-sessions)\n"
    "  --session-idle-timeout DUR   e.g. 3600, 90m, 1h (default 1h)\n"
    "  --rate-limit N               requests per token per minute, 0 = off (default 600)\n"
    "  --sse-keepalive SECONDS      ':' comment interval on SSE streams (default 20)\n"
    "  --port-file FILE             write the bound port of the first listener to FILE\n"
    "  --log-level LEVEL            error, warn, info (default) or debug\n"
    "OAuth 2.1 for hosted clients such as ChatGPT and claude.ai (docs/oauth.md):\n"
    "  --oauth                      serve OAuth beside the static tokens (needs --public-url)\n"
    "  --public-url URL             https://HOST[:PORT] clients reach mcpd at (http only for\n"
    "                               loopback); every published URL is built from it\n"
    "  --oauth-access-ttl DUR       access token lifetime (default 1h)\n"
    "  --oauth-refresh-ttl DUR      refresh token lifetime, renewed on use (default 30d)\n"
    "  --oauth-code-ttl DUR         authorization code lifetime (default 60s, at most 10m)\n"
    "  --oauth-max-clients N        registered clients kept (default 1000)\n"
    "  --oauth-client-metadata yes|no\n"
    "                               accept https URLs as client_id and fetch their client\n"
    "                               metadata documents (default yes)\n"
    "  --oauth-client-metadata-private yes|no\n"
    "                               let those fetches reach loopback and private addresses\n"
    "                               (tests and intranets only; default no)\n"
    "Journal and secondaries (docs/secondaries.md):\n"
    "  --journal-keep N             changes kept per zone for IXFR and history, 0 = all\n"
    "                               (default 1000)\n"
    "  --journal-keep-days D        also drop changes older than D days, 0 = off (default 0)\n"
    "  --tsig-keyfile FILE          TSIG keys (\"name algorithm base64secret\" lines, mode 600)\n"
    "  --notify-key NAME            sign NOTIFY to dnsd with this key of --tsig-keyfile\n"
    "                               (default none: unsigned)\n";

void mconf_init(struct mconf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_body = MCONF_DEFAULT_MAX_BODY;
	c->max_header = MCONF_DEFAULT_MAX_HEADER;
	c->max_sessions = MCONF_DEFAULT_MAX_SESSIONS;
	c->max_sessions_per_token = MCONF_DEFAULT_MAX_SESSIONS_PER_TOKEN;
	c->idle_timeout = MCONF_DEFAULT_IDLE_TIMEOUT;
	c->rate_limit = MCONF_DEFAULT_RATE_LIMIT;
	c->sse_keepalive = MCONF_DEFAULT_SSE_KEEPALIVE;
	c->log_level = LOG_LEVEL_INFO;
	c->access_ttl = MCONF_DEFAULT_ACCESS_TTL;
	c->refresh_ttl = MCONF_DEFAULT_REFRESH_TTL;
	c->code_ttl = MCONF_DEFAULT_CODE_TTL;
	c->max_clients = MCONF_DEFAULT_MAX_CLIENTS;
	c->client_metadata = true;
	c->client_metadata_private = false;
	c->journal_keep = STORE_DEFAULT_JOURNAL_KEEP;
	c->journal_keep_days = 0;
}

void mconf_free(struct mconf *c)
{
	size_t i;

	free(c->db_path);
	for (i = 0; i < c->n_listen; i++)
		free(c->listen[i]);
	free(c->dnsd);
	free(c->public_host);
	for (i = 0; i < c->n_origins; i++)
		free(c->allow_origin[i]);
	free(c->port_file);
	free(c->public_url);
	free(c->tsig_keyfile);
	free(c->notify_key);
	mconf_init(c);
}

const char *mconf_listen(const struct mconf *c, size_t i)
{
	if (c->n_listen == 0)
		return i == 0 ? MCONF_DEFAULT_LISTEN : NULL;
	return i < c->n_listen ? c->listen[i] : NULL;
}

size_t mconf_listen_count(const struct mconf *c)
{
	return c->n_listen == 0 ? 1 : c->n_listen;
}

static int set_str(char **slot, const char *value)
{
	char *s = strdup(value);

	if (s == NULL)
		return ERR_NOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

/* A number with an optional unit suffix: mult_k etc. give the multipliers
 * (0 = suffix not allowed). Refuses overflow, signs and trailing junk. */
static int parse_scaled(const char *v, unsigned long long max, const char *const *suffixes,
			const unsigned long long *mults, unsigned long long *out)
{
	char *end;
	unsigned long long x, m = 1;
	size_t i;

	if (!isdigit((unsigned char)v[0]))
		return ERR_SYNTAX;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return ERR_RANGE;
	if (*end != '\0') {
		for (i = 0; suffixes[i] != NULL; i++)
			if (strcasecmp(end, suffixes[i]) == 0)
				break;
		if (suffixes[i] == NULL)
			return ERR_SYNTAX;
		m = mults[i];
	}
	if (x > max / m)
		return ERR_RANGE;
	*out = x * m;
	return 0;
}

static int parse_bytes(const char *v, unsigned long long max, unsigned long long *out)
{
	static const char *const sfx[] = {"k", "kib", "m", "mib", NULL};
	static const unsigned long long mult[] = {1024, 1024, 1024 * 1024, 1024 * 1024};

	return parse_scaled(v, max, sfx, mult, out);
}

static int parse_duration(const char *v, unsigned long long max, unsigned long long *out)
{
	static const char *const sfx[] = {"s", "m", "h", "d", NULL};
	static const unsigned long long mult[] = {1, 60, 3600, 86400};

	return parse_scaled(v, max, sfx, mult, out);
}

static int parse_count(const char *v, unsigned long long max, unsigned long long *out)
{
	static const char *const sfx[] = {NULL};

	return parse_scaled(v, max, sfx, NULL, out);
}

/* An origin as browsers send it: scheme "://" host [":" port], nothing
 * else (RFC 6454 §6.1). We compare exactly, so refuse what can never match. */
static bool origin_syntax_ok(const char *v)
{
	const char *p = strstr(v, "://");

	if (p == NULL || p == v || p[3] == '\0')
		return false;
	for (p = p + 3; *p; p++)
		if (*p == '/' || *p == '?' || *p == '#' || *p == ' ' || *p == '\t')
			return false;
	return true;
}

static int add_repeat(char **arr, size_t *n, size_t cap, bool from_cli, bool *cli_seen,
		      const char *key, const char *value, char *err, size_t errcap)
{
	char *s;

	if (from_cli && !*cli_seen) {
		/* the command line's first value replaces the file's list */
		for (size_t i = 0; i < *n; i++)
			free(arr[i]);
		*n = 0;
		*cli_seen = true;
	}
	if (*n >= cap) {
		snprintf(err, errcap, "too many '%s' values (at most %zu)", key, cap);
		return ERR_RANGE;
	}
	s = strdup(value);
	if (s == NULL)
		return ERR_NOMEM;
	arr[(*n)++] = s;
	return 0;
}

static bool loopback_name(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(h, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (h[0] == '[' && strlen(h) < 64) {
		char b[64];
		snprintf(b, sizeof(b), "%.*s", (int)strlen(h) - 2, h + 1);
		return inet_pton(AF_INET6, b, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return false;
}

int mconf_public_url(const char *url, char *out, size_t outcap, char *host, size_t hostcap,
		     char *err, size_t errcap)
{
	struct evhttp_uri *u = NULL;
	const char *scheme, *h, *path;
	char hb[300];
	int port, ret = ERR_INVALID;
	size_t n = strlen(url);

	if (n == 0 || n > MCONF_PUBLIC_URL_MAX) {
		snprintf(err, errcap, "public-url: empty or longer than %d bytes",
			 MCONF_PUBLIC_URL_MAX);
		return ERR_INVALID;
	}
	u = evhttp_uri_parse_with_flags(url, 0);
	if (u == NULL) {
		snprintf(err, errcap, "public-url: '%s' is not a URL", url);
		return ERR_INVALID;
	}
	scheme = evhttp_uri_get_scheme(u);
	h = evhttp_uri_get_host(u);
	path = evhttp_uri_get_path(u);
	port = evhttp_uri_get_port(u);
	if (scheme == NULL || h == NULL || h[0] == '\0' || evhttp_uri_get_userinfo(u) ||
	    evhttp_uri_get_query(u) || evhttp_uri_get_fragment(u) ||
	    (path && path[0] && strcmp(path, "/") != 0)) {
		snprintf(err, errcap,
			 "public-url: want https://HOST[:PORT] with no path, query or fragment");
		goto out;
	}
	/* an IPv6 literal keeps (or gets) its brackets */
	snprintf(hb, sizeof(hb), strchr(h, ':') && h[0] != '[' ? "[%s]" : "%s", h);
	for (char *p = hb; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcasecmp(scheme, "https") != 0 &&
	    !(strcasecmp(scheme, "http") == 0 && loopback_name(hb))) {
		snprintf(err, errcap,
			 "public-url: must be https (http only for a loopback host): tokens and "
			 "the consent page must not cross the network in clear text");
		goto out;
	}
	if (port >= 0)
		snprintf(host, hostcap, "%s:%d", hb, port);
	else
		snprintf(host, hostcap, "%s", hb);
	if ((size_t)snprintf(out, outcap, "%s://%s",
			     strcasecmp(scheme, "https") == 0 ? "https" : "http", host) >= outcap) {
		snprintf(err, errcap, "public-url: too long");
		goto out;
	}
	ret = 0;
out:
	evhttp_uri_free(u);
	return ret;
}

/* "key", "key yes|true", "key no|false" (a bare flag on the command line) */
static int set_bool(bool *slot, const char *value)
{
	if (value[0] == '\0' || strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
		*slot = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
		*slot = false;
	else
		return ERR_INVALID;
	return 0;
}

int mconf_set(struct mconf *c, const char *key, const char *value, bool from_cli, char *err,
	      size_t errcap)
{
	unsigned long long x;
	int rc;

	if (strcmp(key, "no-auth") == 0) {
		/* a file says "no-auth" or "no-auth yes|no|true|false" */
		if (set_bool(&c->no_auth, value) != 0)
			goto bad_value;
		return 0;
	}
	if (strcmp(key, "oauth") == 0) {
		if (set_bool(&c->oauth, value) != 0)
			goto bad_value;
		return 0;
	}
	if (strcmp(key, "oauth-client-metadata") == 0) {
		if (set_bool(&c->client_metadata, value) != 0)
			goto bad_value;
		return 0;
	}
	if (strcmp(key, "oauth-client-metadata-private") == 0) {
		if (set_bool(&c->client_metadata_private, value) != 0)
			goto bad_value;
		return 0;
	}
	if (value[0] == '\0') {
		snprintf(err, errcap, "'%s' needs a value", key);
		return ERR_INVALID;
	}
	if (strcmp(key, "db") == 0)
		return set_str(&c->db_path, value);
	if (strcmp(key, "listen") == 0) {
		struct sockaddr_storage ss;
		unsigned int len;

		if (conf_parse_addr(value, MCONF_DEFAULT_PORT, &ss, &len) != 0) {
			snprintf(err, errcap, "listen: '%s' is not ADDR:PORT (numeric address)",
				 value);
			return ERR_SYNTAX;
		}
		return add_repeat(c->listen, &c->n_listen, MCONF_MAX_LISTEN, from_cli,
				  &c->cli_listen, key, value, err, errcap);
	}
	if (strcmp(key, "dnsd") == 0) {
		struct sockaddr_storage ss;
		unsigned int len;

		if (conf_parse_addr(value, 53, &ss, &len) != 0) {
			snprintf(err, errcap, "dnsd: '%s' is not ADDR:PORT (numeric address)",
				 value);
			return ERR_SYNTAX;
		}
		return set_str(&c->dnsd, value);
	}
	if (strcmp(key, "public-host") == 0) {
		for (const char *p = value; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr(".-:[]_", *p))
				goto bad_value;
		return set_str(&c->public_host, value);
	}
	if (strcmp(key, "allow-origin") == 0) {
		if (!origin_syntax_ok(value)) {
			snprintf(err, errcap,
				 "allow-origin: '%s' is not an origin (scheme://host[:port])",
				 value);
			return ERR_SYNTAX;
		}
		return add_repeat(c->allow_origin, &c->n_origins, MCONF_MAX_ORIGINS, from_cli,
				  &c->cli_origin, key, value, err, errcap);
	}
	if (strcmp(key, "max-body") == 0) {
		/* 64 bytes: smaller cannot hold an initialize request */
		if ((rc = parse_bytes(value, 256ULL << 20, &x)) != 0 || x < 64)
			goto bad_value;
		c->max_body = (size_t)x;
		return 0;
	}
	if (strcmp(key, "max-header") == 0) {
		if ((rc = parse_bytes(value, 1ULL << 20, &x)) != 0 || x < 1024)
			goto bad_value;
		c->max_header = (size_t)x;
		return 0;
	}
	if (strcmp(key, "max-sessions") == 0) {
		if ((rc = parse_count(value, 1000000, &x)) != 0 || x < 1)
			goto bad_value;
		c->max_sessions = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "max-sessions-per-token") == 0) {
		/* 0 is allowed: no cap but max-sessions; checked against
		 * max-sessions in mconf_check, once both are known */
		if ((rc = parse_count(value, 1000000, &x)) != 0)
			goto bad_value;
		c->max_sessions_per_token = (unsigned)x;
		c->per_token_set = true;
		return 0;
	}
	if (strcmp(key, "session-idle-timeout") == 0) {
		if ((rc = parse_duration(value, 30ULL * 86400, &x)) != 0 || x < 1)
			goto bad_value;
		c->idle_timeout = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "rate-limit") == 0) {
		if ((rc = parse_count(value, 1000000, &x)) != 0)
			goto bad_value;
		c->rate_limit = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "sse-keepalive") == 0) {
		if ((rc = parse_duration(value, 3600, &x)) != 0 || x < 1)
			goto bad_value;
		c->sse_keepalive = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "port-file") == 0)
		return set_str(&c->port_file, value);
	if (strcmp(key, "public-url") == 0) {
		char url[MCONF_PUBLIC_URL_MAX + 16], host[MCONF_PUBLIC_URL_MAX];

		if (mconf_public_url(value, url, sizeof(url), host, sizeof(host), err, errcap) != 0)
			return ERR_INVALID;
		return set_str(&c->public_url, url);
	}
	if (strcmp(key, "oauth-access-ttl") == 0 || strcmp(key, "oauth-refresh-ttl") == 0 ||
	    strcmp(key, "oauth-code-ttl") == 0) {
		unsigned long long max = key[6] == 'a'	 ? 86400ULL
					 : key[6] == 'r' ? 365ULL * 86400
							 : 600;

		if ((rc = parse_duration(value, max, &x)) != 0 || x < 1)
			goto bad_value;
		if (key[6] == 'a')
			c->access_ttl = (unsigned)x;
		else if (key[6] == 'r')
			c->refresh_ttl = (unsigned)x;
		else
			c->code_ttl = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "oauth-max-clients") == 0) {
		if ((rc = parse_count(value, 1000000, &x)) != 0 || x < 1)
			goto bad_value;
		c->max_clients = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "journal-keep") == 0) {
		if ((rc = parse_count(value, STORE_JOURNAL_KEEP_MAX, &x)) != 0)
			goto bad_value;
		c->journal_keep = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "journal-keep-days") == 0) {
		if ((rc = parse_count(value, STORE_JOURNAL_DAYS_MAX, &x)) != 0)
			goto bad_value;
		c->journal_keep_days = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "tsig-keyfile") == 0 || strcmp(key, "notify-key") == 0) {
		/* "none" undoes a file's setting from the command line */
		char **slot = key[0] == 't' ? &c->tsig_keyfile : &c->notify_key;

		if (strcmp(value, "none") == 0) {
			free(*slot);
			*slot = NULL;
			return 0;
		}
		if (key[0] == 'n') {
			uint8_t wire[DNAME_MAXLEN];

			if (dname_parse_text(value, strlen(value), (const uint8_t *)"", wire) < 0) {
				snprintf(err, errcap, "notify-key: '%s' is not a key name", value);
				return ERR_SYNTAX;
			}
		}
		return set_str(slot, value);
	}
	if (strcmp(key, "log-level") == 0) {
		static const char *const lv[] = {"error", "warn", "info", "debug"};
		for (int i = 0; i < 4; i++)
			if (strcmp(value, lv[i]) == 0) {
				c->log_level = i;
				return 0;
			}
		goto bad_value;
	}
	snprintf(err, errcap, "unknown key '%s'", key);
	return ERR_INVALID;
bad_value:
	snprintf(err, errcap, "bad value '%s' for '%s'", value, key);
	return ERR_INVALID;
}

static bool is_bool_key(const char *k)
{
	return strcmp(k, "no-auth") == 0 || strcmp(k, "oauth") == 0 ||
	       strcmp(k, "oauth-client-metadata") == 0 ||
	       strcmp(k, "oauth-client-metadata-private") == 0;
}

static bool is_bool_word(const char *v)
{
	return strcmp(v, "yes") == 0 || strcmp(v, "no") == 0 || strcmp(v, "true") == 0 ||
	       strcmp(v, "false") == 0;
}

static int file_cb(void *arg, const char *key, const char *value, char *err, size_t errcap)
{
	return mconf_set(arg, key, value, false, err, errcap) != 0;
}

int mconf_load(struct mconf *c, const char *path, char *err, size_t errcap)
{
	return conf_parse_file(path, file_cb, c, err, errcap);
}

int mconf_parse_args(struct mconf *c, int argc, char **argv, bool *help, char *err, size_t errcap)
{
	int i, rc;

	*help = false;
	/* the file first, so the command line overrides it */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				snprintf(err, errcap, "%s needs a file", a);
				return ERR_INVALID;
			}
			if ((rc = mconf_load(c, argv[i + 1], err, errcap)) != 0)
				return rc;
			i++;
		} else if (strncmp(a, "--config=", 9) == 0) {
			if ((rc = mconf_load(c, a + 9, err, errcap)) != 0)
				return rc;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char key[64];
		const char *value, *eq;
		size_t klen;

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0)
			continue;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
			return 0;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errcap, "unexpected argument '%s'", a);
			return ERR_INVALID;
		}
		a += 2;
		eq = strchr(a, '=');
		klen = eq ? (size_t)(eq - a) : strlen(a);
		if (klen >= sizeof(key)) {
			snprintf(err, errcap, "unknown option --%.40s", a);
			return ERR_INVALID;
		}
		memcpy(key, a, klen);
		key[klen] = '\0';
		if (is_bool_key(key) && eq == NULL) {
			/* a bare flag means yes; "--flag yes|no" also works */
			value = "";
			if (i + 1 < argc && is_bool_word(argv[i + 1]))
				value = argv[++i];
		} else if (eq != NULL) {
			value = eq + 1;
		} else {
			if (i + 1 >= argc) {
				snprintf(err, errcap, "--%s needs a value", key);
				return ERR_INVALID;
			}
			value = argv[++i];
		}
		if ((rc = mconf_set(c, key, value, true, err, errcap)) != 0) {
			if (strncmp(err, "unknown key", 11) == 0)
				snprintf(err, errcap, "unknown option --%s", key);
			return rc;
		}
	}
	return mconf_check(c, err, errcap);
}

int mconf_check(struct mconf *c, char *err, size_t errcap)
{
	if (c->max_sessions_per_token > c->max_sessions) {
		if (c->per_token_set) {
			snprintf(err, errcap,
				 "max-sessions-per-token %u exceeds max-sessions %u: one token "
				 "cannot hold more sessions than the table",
				 c->max_sessions_per_token, c->max_sessions);
			return ERR_INVALID;
		}
		/* only the default is above: a small table (max-sessions 5)
		 * keeps working without a new key */
		c->max_sessions_per_token = c->max_sessions;
	}
	return 0;
}
