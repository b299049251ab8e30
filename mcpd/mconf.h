/*
 * mconf.h: mcpd's serving settings. Every setting has a long flag and the
 * same key in the config file (common/conf.h format): "--rate-limit 600"
 * equals the line "rate-limit 600". Command-line values win over the file;
 * a repeatable key given on the command line replaces the file's values.
 *
 * Keys: db, listen (repeatable), dnsd, no-auth, public-host, allow-origin
 * (repeatable), max-body, max-header, max-sessions, max-sessions-per-token,
 * session-idle-timeout,
 * rate-limit, sse-keepalive, port-file, log-level; and for OAuth
 * (docs/oauth.md): oauth, public-url, oauth-access-ttl, oauth-refresh-ttl,
 * oauth-code-ttl, oauth-max-clients, oauth-client-metadata,
 * oauth-client-metadata-private; for the journal and secondaries
 * (docs/secondaries.md): journal-keep, journal-keep-days, tsig-keyfile,
 * notify-key.
 */
#ifndef MCONF_H
#define MCONF_H

#include <stdbool.h>
#include <stddef.h>

#define MCONF_DEFAULT_LISTEN	   "127.0.0.1:8053"
#define MCONF_DEFAULT_DNSD	   "127.0.0.1:5353"
#define MCONF_DEFAULT_PORT	   8053
#define MCONF_MAX_LISTEN	   8  /* listen addresses */
#define MCONF_MAX_ORIGINS	   32 /* allow-origin entries */
#define MCONF_DEFAULT_MAX_BODY	   (1024 * 1024)
#define MCONF_DEFAULT_MAX_HEADER   (16 * 1024)
#define MCONF_DEFAULT_MAX_SESSIONS 1000
/* Sessions one token may hold (session.h): far above what one real client
 * opens (one per conversation or connector), far below max-sessions so a
 * leaking script cannot take the table from everyone else. */
#define MCONF_DEFAULT_MAX_SESSIONS_PER_TOKEN 100
#define MCONF_DEFAULT_IDLE_TIMEOUT	     3600 /* seconds */
#define MCONF_DEFAULT_RATE_LIMIT	     600  /* requests per token per minute */
/* SSE keep-alive comment interval: below the 30-60 s idle timeouts common
 * in proxies and load balancers, above chatter. */
#define MCONF_DEFAULT_SSE_KEEPALIVE 20
/* OAuth: access tokens short (an hour, as hosted clients refresh on
 * their own), refresh tokens a month and renewed on each use, codes a
 * minute (RFC 6749 §4.1.2 says at most ten). */
#define MCONF_DEFAULT_ACCESS_TTL  3600
#define MCONF_DEFAULT_REFRESH_TTL (30 * 86400)
#define MCONF_DEFAULT_CODE_TTL	  60
#define MCONF_DEFAULT_MAX_CLIENTS 1000
#define MCONF_PUBLIC_URL_MAX	  300

struct mconf {
	char *db_path;			       /* --db FILE (required to serve) */
	char *listen[MCONF_MAX_LISTEN];	       /* "ADDR:PORT" strings, port 0 = any */
	size_t n_listen;		       /* 0 means MCONF_DEFAULT_LISTEN */
	char *dnsd;			       /* where NOTIFY and SOA checks go */
	bool no_auth;			       /* serve without tokens (loopback only) */
	char *public_host;		       /* NAME[:PORT] clients use, or NULL */
	char *allow_origin[MCONF_MAX_ORIGINS]; /* exact origins ("https://a.example") */
	size_t n_origins;
	size_t max_body;		 /* request body cap, bytes */
	size_t max_header;		 /* request header cap, bytes */
	unsigned max_sessions;		 /* live MCP sessions */
	unsigned max_sessions_per_token; /* of them per token_id, 0 = no cap; <= max_sessions
					    after mconf_check */
	unsigned idle_timeout;		 /* seconds before an idle session expires */
	unsigned rate_limit;		 /* requests per token per minute, 0 = unlimited */
	unsigned sse_keepalive;		 /* seconds between ":" comments on SSE */
	char *port_file;		 /* write the first bound port here, or NULL */
	int log_level;			 /* enum log_level */
	bool oauth;			 /* serve OAuth 2.1 (needs public_url) */
	char *public_url;		 /* "https://host[:port]" clients reach us at, no
					    trailing slash; http only for loopback hosts */
	unsigned access_ttl;		 /* OAuth access token lifetime, seconds */
	unsigned refresh_ttl;		 /* OAuth refresh token lifetime, seconds */
	unsigned code_ttl;		 /* OAuth authorization code lifetime, seconds */
	unsigned max_clients;		 /* registered OAuth clients kept */
	bool client_metadata;		 /* fetch client metadata documents (CIMD), default on */
	bool client_metadata_private;	 /* ... also from loopback and private addresses */
	unsigned journal_keep;		 /* changes kept per zone, 0 = all (store_retention) */
	unsigned journal_keep_days;	 /* changes older than this go, 0 = no age limit */
	char *tsig_keyfile;		 /* TSIG key file (tsig.h format), or NULL */
	char *notify_key;		 /* name of the key in it that signs NOTIFY to dnsd, or
					    NULL (unsigned); read only when set */
	/* internal: which repeatable keys the command line already set, so its
	 * first value replaces what the file gave */
	bool cli_listen, cli_origin;
	bool per_token_set; /* max-sessions-per-token given (file or command line) */
};

/* Fills c with the defaults. Nothing to free yet. */
void mconf_init(struct mconf *c);

/* Frees the strings c owns and leaves it as after mconf_init. */
void mconf_free(struct mconf *c);

/* Applies one setting. from_cli marks command-line values (see above).
 * 0, or ERR_INVALID / ERR_RANGE / ERR_SYNTAX with a sentence in err. */
int mconf_set(struct mconf *c, const char *key, const char *value, bool from_cli, char *err,
	      size_t errcap);

/* Reads a config file with conf_parse_file. 0 or a negative error (err set). */
int mconf_load(struct mconf *c, const char *path, char *err, size_t errcap);

/*
 * Parses argv (serving flags only; argv[0] is skipped): "-c FILE" /
 * "--config FILE" is read first, then every "--key value" or "--key=value"
 * and the boolean "--no-auth". "-h"/"--help" sets *help. Returns 0, or a
 * negative error with err set ("unknown option --lisen").
 */
int mconf_parse_args(struct mconf *c, int argc, char **argv, bool *help, char *err, size_t errcap);

/*
 * Checks a public URL: https://HOST[:PORT], or http:// when HOST is
 * loopback (localhost, 127.0.0.0/8, [::1]; for tests and SSH tunnels), no
 * path but "/", no query, fragment or userinfo. Writes the URL without a
 * trailing slash to out and its HOST[:PORT] (as a Host header carries it)
 * to host. 0 or ERR_INVALID with a sentence in err.
 */
int mconf_public_url(const char *url, char *out, size_t outcap, char *host, size_t hostcap,
		     char *err, size_t errcap);

/*
 * The checks that span keys, run by mconf_parse_args once everything is
 * read (a file and the command line may give the keys in any order): an
 * explicit max-sessions-per-token above max-sessions is ERR_INVALID with
 * a sentence naming both in err; the default (100) silently shrinks to a
 * smaller max-sessions. 0 otherwise.
 */
int mconf_check(struct mconf *c, char *err, size_t errcap);

/* The listen address i (defaults applied). */
const char *mconf_listen(const struct mconf *c, size_t i);
size_t mconf_listen_count(const struct mconf *c);

/* Usage text for --help. */
extern const char mconf_usage[];

#endif
