/*
 * oauth_cimd.h: fetching OAuth Client ID Metadata Documents
 * (draft-ietf-oauth-client-id-metadata-document, "CIMD"; MCP authorization
 * 2025-11-25 and 2026-07-28 prefer it over dynamic registration). A client
 * names itself with an https URL as client_id; the authorization server
 * fetches the JSON document at that URL to learn its name and redirect
 * URIs. oauth.c decides when to fetch; oauth_store.c checks the document
 * (oauth_cimd_doc_check) and keeps it as a client row.
 *
 * The fetch runs in a worker thread, never in the event loop, which serves
 * every MCP request: oauth_cimd_start hands a URL to a new thread (at most
 * OAUTH_CIMD_WORKERS at once) and the result comes back to the loop through
 * a pipe, so no libevent call is ever made off the loop thread (hence no
 * evthread_use_pthreads). The fetch is HTTPS only, with the certificate and
 * host name verified against OpenSSL's default trust store (SSL_CERT_FILE
 * and SSL_CERT_DIR apply), no redirects followed (draft §5), one total
 * deadline (OAUTH_CIMD_TIMEOUT_MS from the start, name resolution
 * included), a size cap (OAUTH_CIMD_DOC_MAX) and a JSON Content-Type.
 *
 * SSRF (draft §8.6): the host is resolved once, every address is checked
 * (oauth_cimd_addr_blocked) and the connection goes to a checked address,
 * never to a name resolved again. Special-use addresses are refused unless
 * the operator allows private addresses (oauth-client-metadata-private:
 * tests and intranets).
 */
#ifndef OAUTH_CIMD_H
#define OAUTH_CIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct event_base;
struct sockaddr;
struct cJSON;

#define OAUTH_CIMD_WORKERS    4	   /* fetches at once; more get a 503 page */
#define OAUTH_CIMD_TIMEOUT_MS 5000 /* one deadline for resolve, connect, TLS, read */
#define OAUTH_CIMD_HEAD_MAX   8192 /* bytes of response status line and headers */

/*
 * Checks a Client Identifier URL (draft §3): https scheme, a host (DNS
 * labels of 1 to 63 letters, digits and hyphens, an IPv4 address in
 * dotted-quad form only, or a bracketed IPv6 literal), an optional
 * numeric port 1-65535, a non-empty path, no userinfo, no fragment,
 * printable ASCII only, at most OAUTH_CLIENT_ID_MAX bytes. Path and query
 * hold only the characters RFC 3986 allows there, well-formed
 * percent-encoding, no "." or ".." segment (also percent-encoded; the
 * query split at "/" and "?" included) and no encoded "/", "\" or NUL in
 * the path. A query is allowed (the draft says SHOULD NOT, not MUST NOT).
 * On success writes the host (without brackets for IPv6) to host, the
 * port to *port and the request target (path and query) to target. 0 or
 * ERR_INVALID with *why a sentence (static).
 */
int oauth_cimd_url_check(const char *url, char *host, size_t hostcap, unsigned *port, char *target,
			 size_t targetcap, const char **why);

/* True when client_id should be treated as a Client Identifier URL: it
 * starts with a URL scheme followed by "://" (http:// included, so that it
 * is refused with a reason rather than reported as unknown). */
bool oauth_cimd_is_url(const char *client_id);

/*
 * The cache lifetime from a Cache-Control header value (NULL: none):
 * max-age within [OAUTH_CIMD_TTL_MIN, OAUTH_CIMD_TTL_MAX], the minimum for
 * no-store, no-cache or max-age=0 (the client still needs a row for its
 * tokens, but we fetch again as soon as we may), the default otherwise
 * (draft §5.2, RFC 9111 §5.2.2).
 */
unsigned oauth_cimd_ttl(const char *cache_control);

/*
 * Parses the whole answer to the document request, as read off the
 * connection (HTTP/1.0, so it ends with the connection): buf[0..len), no
 * NUL needed, modified (the head is cut into strings). The fetch reads at
 * most OAUTH_CIMD_HEAD_MAX + OAUTH_CIMD_DOC_MAX + 1 bytes and hands them
 * here, so this is the one place that judges what the server sent.
 * Accepts only: a head of at most OAUTH_CIMD_HEAD_MAX bytes (blank line
 * included) with CR and LF only as CRLF and no control characters but
 * HTAB; status 200 (3xx named as a redirect, draft §5); well-formed
 * header lines (no obsolete folding); one Content-Type, application/json
 * or application/<x>+json (draft §4); at most one Content-Length, equal
 * to the body's length; no Transfer-Encoding but identity; a body of at
 * most OAUTH_CIMD_DOC_MAX bytes (§8.7). On 0, *body and *blen give the
 * body (inside buf) and *ttl_s the cache lifetime from every
 * Cache-Control field together (oauth_cimd_ttl; OAUTH_CIMD_TTL_MIN when
 * they do not fit 511 bytes). ERR_INVALID with a sentence in
 * why[0..whycap) otherwise (*body NULL, *blen and *ttl_s 0).
 */
int oauth_cimd_response_parse(char *buf, size_t len, const char **body, size_t *blen,
			      unsigned *ttl_s, char *why, size_t whycap);

/*
 * NULL when sa (AF_INET or AF_INET6) may be fetched from, else why not:
 * unspecified, loopback, RFC 1918 private, CGNAT (100.64/10), link-local,
 * multicast, broadcast and reserved IPv4 ranges (RFC 6890), IPv6 loopback,
 * unspecified, ULA (fc00::/7), link-local, site-local, multicast,
 * documentation, local-use NAT64 (64:ff9b:1::/48, RFC 8215), and the IPv4
 * forms inside IPv6 (v4-mapped, v4-compatible,
 * NAT64 64:ff9b::/96, 6to4 2002::/16) judged by their IPv4 address.
 * allow_private lets every unicast address through (loopback and private
 * included; multicast and unspecified stay refused).
 */
const char *oauth_cimd_addr_blocked(const struct sockaddr *sa, bool allow_private);

/* The result of one fetch, handed to the completion callback. */
struct oauth_cimd_result {
	int status;	    /* 0: document accepted; else a negative enum err */
	const char *why;    /* status != 0: the reason, for the log and the page */
	struct cJSON *meta; /* status 0: accepted metadata (owned by the callback) */
	unsigned ttl_s;	    /* status 0: cache lifetime from Cache-Control */
	bool timed_out;	    /* the deadline passed (the page says so: 504) */
};

/*
 * Done callback: called on the loop thread once per started fetch, unless
 * oauth_cimd_cancel came first. Owns r->meta.
 */
typedef void (*oauth_cimd_done_fn)(void *arg, struct oauth_cimd_result *r);

struct oauth_cimd;
struct oauth_cimd_job;

/*
 * The fetcher, bound to base (borrowed; must outlive it). allow_private as
 * in oauth_cimd_addr_blocked. NULL with err set (TLS setup, pipe).
 */
struct oauth_cimd *oauth_cimd_new(struct event_base *base, bool allow_private, char *err,
				  size_t errcap);

/*
 * Stops: pending callbacks are dropped, running workers are told to stop
 * and waited for (bounded; a worker stuck in name resolution is left to
 * finish on its own and its memory is then not freed).
 */
void oauth_cimd_free(struct oauth_cimd *f);

/*
 * Starts fetching url (checked with oauth_cimd_url_check already) and
 * checking it with oauth_cimd_doc_check against redirect_uri (may be
 * NULL). done(arg, result) follows on the loop thread, at the latest
 * OAUTH_CIMD_TIMEOUT_MS + a little later. Returns the job (to cancel), or
 * NULL when OAUTH_CIMD_WORKERS fetches are running (*busy set) or on
 * resource errors (*busy clear).
 */
struct oauth_cimd_job *oauth_cimd_start(struct oauth_cimd *f, const char *url,
					const char *redirect_uri, oauth_cimd_done_fn done,
					void *arg, bool *busy);

/* The caller lost interest (the browser went away): done is never called
 * for job. The worker finishes in the background. */
void oauth_cimd_cancel(struct oauth_cimd *f, struct oauth_cimd_job *job);

/* Fetches running now (for tests and the log). */
unsigned oauth_cimd_running(const struct oauth_cimd *f);

#endif
