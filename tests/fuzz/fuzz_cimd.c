/*
 * fuzz_cimd.c: everything of mcpd's OAuth Client ID Metadata Document
 * fetch that eats what a stranger chooses (mcpd/oauth_cimd.h and
 * oauth_cimd_doc_check in mcpd/oauth_store.h). Anyone who can reach
 * /oauth/authorize names the URL, and whoever runs the server behind it
 * writes the response and the document; none of these functions touches a
 * socket, so the fuzzer drives them directly, the response parser through
 * the same function the fetch uses (oauth_cimd_response_parse).
 *
 * Input layout: byte 0 modulo 5 picks the subject, the rest feeds it.
 *
 *   0  URL: bytes 1.. as a string (cut at a NUL) to oauth_cimd_url_check
 *      with the fetch's own buffer sizes, then again with host and target
 *      buffers of exactly the size needed (N) and one byte short (N-1).
 *      An accepted URL must give a host (brackets stripped, IPv6 only
 *      when inet_pton agrees) and a target that is the URL's tail, starts
 *      with "/", holds no "#", no "/../", no dot segment in any spelling
 *      ("%2e" too, the query split at "/" and "?" included), and fits the
 *      caps (URL at most OAUTH_CLIENT_ID_MAX, host at most 253, port
 *      1-65535); oauth_cimd_is_url must agree; and the smallest document
 *      naming it, built with cJSON, must be accepted with client_id equal
 *      to the URL.
 *   1  response: byte 1 bit 0 a small reason buffer (8 bytes), bytes 2..
 *      the answer as read off the connection, in a buffer of exactly that
 *      size. Accepted: the body lies inside the buffer at its end, at most
 *      OAUTH_CIMD_DOC_MAX bytes, the TTL within [OAUTH_CIMD_TTL_MIN,
 *      OAUTH_CIMD_TTL_MAX]; the body then goes to the document check as
 *      the fetch does. Refused: a reason, no body.
 *   2  document: byte 1 bits 0-1 the URL it was fetched from, bits 2-3 the
 *      request's redirect_uri (none, one the seeds list, another, one with
 *      a NUL after a listed one); bytes 2.. the document, in a buffer of
 *      exactly its size. Accepted: client_id equal to the URL, 1 to
 *      OAUTH_MAX_REDIRECTS string redirect URIs with the request's among
 *      them, token_endpoint_auth_method "none", no client_secret.
 *   3  address: byte 1 bit 0 allow_private, bits 1-3 the form: AF_INET,
 *      AF_INET6, raw sockaddr bytes (any family), or the IPv4 address of
 *      bytes 2-5 inside IPv6 (v4-mapped, v4-compatible, NAT64, 6to4).
 *      Never let through without allow_private: 0/8, 127/8, 10/8,
 *      172.16/12, 192.168/16, 100.64/10, 169.254/16, ::, ::1, fe80::/10,
 *      fc00::/7 and those IPv4 blocks in every IPv6 form; never, even with
 *      it: unspecified, multicast, 240/4, and families other than IPv4 and
 *      IPv6.
 *   4  Cache-Control: bytes 1.. as a header value (none when empty); the
 *      TTL is always within [OAUTH_CIMD_TTL_MIN, OAUTH_CIMD_TTL_MAX].
 *
 * A broken invariant calls abort() after printing which one.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "err.h"
#include "oauth_cimd.h"
#include "oauth_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REDIR "https://app.example/cb"

static const char *const URLS[] = {
    "https://app.example/oauth/client.json",
    "https://[2001:db8::1]:8443/c?v=1",
    "https://a.example:65535/x/y.json",
    "https://app.example/",
};

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_cimd: invariant broken: %s\n", what);                \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Our own reading of a dot segment: only ".", "%2e" (any case), 1 or 2 */
static bool ref_dot_segment(const char *s, size_t n)
{
	size_t dots = 0, i = 0;

	while (i < n) {
		if (s[i] == '.') {
			i++;
		} else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
			   (s[i + 2] == 'e' || s[i + 2] == 'E')) {
			i += 3;
		} else {
			return false;
		}
		dots++;
	}
	return n > 0 && dots <= 2;
}

static void check_doc_accepted(const char *url, const char *redirect, const cJSON *m)
{
	const cJSON *cid = cJSON_GetObjectItemCaseSensitive(m, "client_id");
	const cJSON *uris = cJSON_GetObjectItemCaseSensitive(m, "redirect_uris");
	const cJSON *meth = cJSON_GetObjectItemCaseSensitive(m, "token_endpoint_auth_method");
	const cJSON *e;
	bool found = redirect == NULL;
	int n = cJSON_GetArraySize(uris);

	CHECK(cJSON_IsString(cid) && strcmp(cid->valuestring, url) == 0,
	      "accepted document: client_id is the URL");
	CHECK(cJSON_IsArray(uris) && n >= 1 && n <= OAUTH_MAX_REDIRECTS,
	      "accepted document: 1 to 8 redirect URIs");
	cJSON_ArrayForEach(e, uris)
	{
		CHECK(cJSON_IsString(e), "accepted document: redirect URIs are strings");
		if (redirect && strcmp(e->valuestring, redirect) == 0)
			found = true;
	}
	CHECK(found, "accepted document: the request's redirect_uri is listed");
	CHECK(cJSON_IsString(meth) && strcmp(meth->valuestring, "none") == 0,
	      "accepted document: a public client");
	CHECK(cJSON_GetObjectItemCaseSensitive(m, "client_secret") == NULL &&
		  cJSON_GetObjectItemCaseSensitive(m, "client_secret_expires_at") == NULL,
	      "accepted document: no secret kept");
}

static void fuzz_url(const uint8_t *data, size_t size)
{
	char url[2048], host[256], target[OAUTH_CLIENT_ID_MAX + 1], host2[256],
	    target2[OAUTH_CLIENT_ID_MAX + 1];
	const char *why = NULL, *tail;
	unsigned port = 0, port2 = 0;
	size_t n = size < sizeof(url) - 1 ? size : sizeof(url) - 1, hl, tl;
	int rc;

	memcpy(url, data, n);
	url[n] = '\0';
	n = strlen(url);
	(void)oauth_cimd_is_url(url);
	rc = oauth_cimd_url_check(url, host, sizeof(host), &port, target, sizeof(target), &why);
	if (rc != 0) {
		CHECK(rc == ERR_INVALID && why != NULL && why[0], "refused URL: a reason");
		return;
	}
	CHECK(why == NULL, "accepted URL: no reason");
	CHECK(oauth_cimd_is_url(url), "accepted URL: is_url agrees");
	CHECK(n <= OAUTH_CLIENT_ID_MAX, "accepted URL: at most 512 bytes");
	CHECK(strncasecmp(url, "https://", 8) == 0, "accepted URL: https");
	CHECK(strchr(url, '#') == NULL, "accepted URL: no fragment");
	hl = strlen(host);
	tl = strlen(target);
	CHECK(hl > 0 && hl <= 253, "accepted URL: a host of 1 to 253 bytes");
	CHECK(strpbrk(host, "[]@/?#%") == NULL, "accepted URL: a bare host");
	if (strchr(host, ':')) {
		struct in6_addr a6;

		CHECK(inet_pton(AF_INET6, host, &a6) == 1, "accepted URL: an IPv6 host parses");
	}
	CHECK(port >= 1 && port <= 65535, "accepted URL: port 1-65535");
	CHECK(tl > 0 && target[0] == '/', "accepted URL: the target starts with /");
	CHECK(tl < sizeof(target), "accepted URL: the target fits");
	CHECK(tl < n && strcmp(url + n - tl, target) == 0, "accepted URL: the target is its tail");
	CHECK(strstr(target, "/../") == NULL && strstr(target, "/./") == NULL,
	      "accepted URL: no /../ or /./");
	CHECK(strchr(target, '#') == NULL, "accepted URL: no fragment in the target");
	tail = target + 1;
	for (;;) {
		size_t len = strcspn(tail, "/?");

		CHECK(!ref_dot_segment(tail, len), "accepted URL: no dot segment in any spelling");
		if (tail[len] == '\0')
			break;
		tail += len + 1;
	}
	CHECK(memchr(url + 8, '@', strcspn(url + 8, "/?")) == NULL, "accepted URL: no userinfo");

	/* the caps: exactly enough room passes, one byte less does not */
	CHECK(oauth_cimd_url_check(url, host2, hl + 1, &port2, target2, tl + 1, &why) == 0 &&
		  strcmp(host, host2) == 0 && strcmp(target, target2) == 0 && port == port2,
	      "accepted URL: the same with buffers of exactly its size");
	CHECK(oauth_cimd_url_check(url, host2, hl, &port2, target2, tl + 1, &why) == ERR_INVALID,
	      "accepted URL: refused with a host buffer one byte short");
	CHECK(oauth_cimd_url_check(url, host2, hl + 1, &port2, target2, tl, &why) == ERR_INVALID,
	      "accepted URL: refused with a target buffer one byte short");

	/* the smallest document naming it is accepted, client_id intact */
	{
		cJSON *d = cJSON_CreateObject(), *m = NULL;
		char *txt;

		cJSON_AddStringToObject(d, "client_id", url);
		cJSON_AddItemToObject(d, "redirect_uris",
				      cJSON_CreateStringArray((const char *const[]){REDIR}, 1));
		txt = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		if (txt == NULL)
			return;
		rc = oauth_cimd_doc_check(url, txt, strlen(txt), REDIR, &m, &why);
		CHECK(rc == 0, "accepted URL: its minimal document is accepted");
		check_doc_accepted(url, REDIR, m);
		cJSON_Delete(m);
		free(txt);
	}
}

static void fuzz_doc(const char *url, const char *redirect, const uint8_t *body, size_t len)
{
	char *copy = malloc(len ? len : 1);
	const char *why = NULL;
	cJSON *m = NULL;
	int rc;

	if (copy == NULL)
		return;
	memcpy(copy, body, len);
	rc = oauth_cimd_doc_check(url, copy, len, redirect, &m, &why);
	if (rc == 0) {
		CHECK(m != NULL && why == NULL, "accepted document: metadata, no reason");
		CHECK(len <= OAUTH_CIMD_DOC_MAX, "accepted document: within the cap");
		check_doc_accepted(url, redirect, m);
	} else {
		CHECK(m == NULL && why != NULL && why[0],
		      "refused document: a reason, no metadata");
	}
	cJSON_Delete(m);
	free(copy);
}

static void fuzz_response(uint8_t flags, const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), why[512];
	size_t whycap = flags & 1 ? 8 : sizeof(why), blen = 7;
	const char *body = (const char *)data;
	unsigned ttl = 7;
	int rc;

	if (buf == NULL)
		return;
	memcpy(buf, data, size);
	memset(why, 'x', sizeof(why));
	rc = oauth_cimd_response_parse(buf, size, &body, &blen, &ttl, why, whycap);
	CHECK(memchr(why, '\0', whycap) != NULL, "a reason always fits its buffer");
	if (rc == 0) {
		CHECK(body != NULL && body >= buf && body + blen == buf + size,
		      "accepted response: the body is the end of the buffer");
		CHECK(blen <= OAUTH_CIMD_DOC_MAX, "accepted response: the body within the cap");
		CHECK(size - blen <= OAUTH_CIMD_HEAD_MAX,
		      "accepted response: the head within the cap");
		CHECK(ttl >= OAUTH_CIMD_TTL_MIN && ttl <= OAUTH_CIMD_TTL_MAX,
		      "accepted response: TTL within bounds");
		CHECK(size - blen >= 4 && memcmp(data + size - blen - 4, "\r\n\r\n", 4) == 0,
		      "accepted response: after a blank line");
		CHECK(memcmp(body, data + size - blen, blen) == 0,
		      "accepted response: body intact");
		fuzz_doc(URLS[0], NULL, (const uint8_t *)body, blen);
	} else {
		CHECK(rc == ERR_INVALID && why[0] != '\0', "refused response: a reason");
		CHECK(body == NULL && blen == 0 && ttl == 0, "refused response: nothing else");
	}
	free(buf);
}

static bool v4_private(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == 0xac1 ||
	       (a >> 16) == 0xc0a8 || (a >> 22) == (0x64400000u >> 22) || (a >> 16) == 0xa9fe;
}

static bool v4_never(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 28) >= 0xe; /* unspecified, multicast, 240/4 */
}

static void fuzz_addr(uint8_t flags, const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	bool priv = flags & 1;
	unsigned form = (flags >> 1) & 7;
	uint8_t b[16] = {0};
	uint32_t v4;
	const char *why;

	memcpy(b, data, size < 16 ? size : 16);
	v4 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	memset(&ss, 0, sizeof(ss));
	switch (form) {
	case 0:
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b, 4);
		why = oauth_cimd_addr_blocked((struct sockaddr *)&ss, priv);
		if (!priv)
			CHECK(!v4_private(v4) || why, "IPv4: a private address let through");
		CHECK(!v4_never(v4) || why, "IPv4: unspecified/multicast/reserved let through");
		return;
	case 1: {
		static const uint8_t loop6[16] = {[15] = 1}, any6[16] = {0};

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b, 16);
		why = oauth_cimd_addr_blocked((struct sockaddr *)&ss, priv);
		CHECK(memcmp(b, any6, 16) != 0 || why, "IPv6: :: let through");
		CHECK(b[0] != 0xff || why, "IPv6: multicast let through");
		if (!priv) {
			CHECK(memcmp(b, loop6, 16) != 0 || why, "IPv6: ::1 let through");
			CHECK(!(b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || why,
			      "IPv6: fe80::/10 let through");
			CHECK((b[0] & 0xfe) != 0xfc || why, "IPv6: fc00::/7 let through");
		}
		return;
	}
	case 2:
		/* raw bytes, whatever family they claim */
		memcpy(&ss, data, size < sizeof(ss) ? size : sizeof(ss));
		why = oauth_cimd_addr_blocked((struct sockaddr *)&ss, priv);
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
			CHECK(why != NULL, "raw: a family other than IPv4/IPv6 let through");
		return;
	default: {
		/* the IPv4 address inside IPv6, in each form mcpd knows */
		uint8_t *a = s6->sin6_addr.s6_addr;
		unsigned kind = form & 3;

		s6->sin6_family = AF_INET6;
		if (kind == 0) { /* ::ffff:a.b.c.d */
			a[10] = a[11] = 0xff;
			memcpy(a + 12, b, 4);
		} else if (kind == 1) { /* ::a.b.c.d, v4-compatible */
			memcpy(a + 12, b, 4);
		} else if (kind == 2) { /* 64:ff9b::a.b.c.d */
			a[1] = 0x64;
			a[2] = 0xff;
			a[3] = 0x9b;
			memcpy(a + 12, b, 4);
		} else { /* 2002:AABB:CCDD::/48, 6to4 */
			a[0] = 0x20;
			a[1] = 0x02;
			memcpy(a + 2, b, 4);
			memcpy(a + 6, b + 4, 10);
		}
		why = oauth_cimd_addr_blocked((struct sockaddr *)&ss, priv);
		if (!priv)
			CHECK(!v4_private(v4) || why,
			      "IPv4 inside IPv6: a private address let through");
		/* ::0.0.0.1 is ::1, the IPv6 loopback (allowed with the flag) */
		if (!(kind == 1 && v4 == 1))
			CHECK(!v4_never(v4) || why,
			      "IPv4 inside IPv6: unspecified/multicast/reserved let through");
		return;
	}
	}
}

static void fuzz_ttl(const uint8_t *data, size_t size)
{
	char *cc = malloc(size + 1);
	unsigned ttl;

	if (cc == NULL)
		return;
	memcpy(cc, data, size);
	cc[size] = '\0';
	ttl = oauth_cimd_ttl(size ? cc : NULL);
	CHECK(ttl >= OAUTH_CIMD_TTL_MIN && ttl <= OAUTH_CIMD_TTL_MAX, "ttl within bounds");
	free(cc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const redirs[] = {NULL, REDIR, "https://evil.example/cb", NULL};
	uint8_t flags;

	if (size == 0)
		return 0;
	flags = size > 1 ? data[1] : 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_url(data + 1, size - 1);
		break;
	case 1:
		fuzz_response(flags, size > 2 ? data + 2 : data, size > 2 ? size - 2 : 0);
		break;
	case 2: {
		const char *redir = redirs[(flags >> 2) & 3];
		char nul[sizeof(REDIR) + 2];

		if (((flags >> 2) & 3) == 3) {
			/* a C string cut at a NUL: REDIR then junk; the
			 * comparison must not see past what strcmp sees */
			memcpy(nul, REDIR "\0x", sizeof(nul));
			redir = nul;
		}
		fuzz_doc(URLS[flags & 3], redir, size > 2 ? data + 2 : data,
			 size > 2 ? size - 2 : 0);
		break;
	}
	case 3:
		fuzz_addr(flags, size > 2 ? data + 2 : data, size > 2 ? size - 2 : 0);
		break;
	default:
		fuzz_ttl(data + 1, size - 1);
		break;
	}
	return 0;
}
