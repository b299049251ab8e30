/*
 * oauth_cimd.c: fetching client metadata documents off the event loop
 * (oauth_cimd.h; draft-ietf-oauth-client-id-metadata-document).
 *
 * Threads. The loop thread owns struct oauth_cimd and every job's loop-side
 * fields (done, arg, timer, list links). A worker gets a job whose input
 * fields (url, host, port, target, redirect URI, deadline) never change
 * after the thread starts, fills job->res, pushes the job onto f->finished
 * under f->mu and writes one byte to a pipe; the loop's read event collects
 * finished jobs and calls done. So libevent is only ever touched by the loop
 * thread. A job is freed by the loop thread alone, after its worker posted
 * it. The deadline is enforced twice: the worker gives up at
 * OAUTH_CIMD_TIMEOUT_MS (every poll is bounded by it), and a loop timer a
 * little later answers the caller anyway, for the one step a thread cannot
 * bound: getaddrinfo(3), whose resolver timeouts are the system's.
 *
 * The HTTP exchange is deliberately small: HTTP/1.0, so the answer is never
 * chunked and ends with the connection; "Accept: application/json"; the
 * status must be 200 (3xx is refused: the draft, §5, forbids following
 * redirects); at most OAUTH_CIMD_HEAD_MAX bytes of head and
 * OAUTH_CIMD_DOC_MAX of body (§8.7), a longer one is an error and never
 * truncated; Content-Type application/json or application/<x>+json (§4).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "oauth_cimd.h"
#include "oauth_store.h"

/* The loop answers this long after the worker's own deadline at the latest. */
#define BACKSTOP_MS 300
/* A worker looks at the stop flag at least this often. */
#define SLICE_MS 100
/* How long oauth_cimd_free waits for workers to notice the stop flag. */
#define STOP_WAIT_MS 2000

struct oauth_cimd_job {
	/* input: set before the worker starts, read-only afterwards */
	struct oauth_cimd *f;
	char url[OAUTH_CLIENT_ID_MAX + 1];
	char host[256];
	unsigned port;
	char target[OAUTH_CLIENT_ID_MAX + 1];
	char *redirect_uri;	  /* NULL: not checked */
	struct timespec deadline; /* CLOCK_MONOTONIC */
	/* output: written by the worker before it posts the job */
	struct oauth_cimd_result res;
	char why[512];
	/* loop thread only */
	oauth_cimd_done_fn done; /* NULL once answered or cancelled */
	void *arg;
	struct event *timer;
	struct oauth_cimd_job *prev, *next; /* f->jobs */
	/* under f->mu */
	struct oauth_cimd_job *fin_next;
};

struct oauth_cimd {
	struct event_base *base;
	SSL_CTX *ctx;
	bool allow_private;
	int pipe_r, pipe_w;
	struct event *ev_pipe;
	atomic_bool stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned threads;		 /* under mu: workers alive */
	struct oauth_cimd_job *finished; /* under mu: posted, not yet collected */
	struct oauth_cimd_job *jobs;	 /* loop: started, not yet collected */
	unsigned running;		 /* loop: length of jobs */
};

/* ---- pure checks ---- */

bool oauth_cimd_is_url(const char *s)
{
	size_t i = 0;

	if (s == NULL || !isalpha((unsigned char)s[0]))
		return false;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return strncmp(s + i, "://", 3) == 0;
}

/* "." or "..", also percent-encoded (%2e, case-insensitive): a server
 * that normalizes would serve another document than the one named. */
static bool dot_segment(const char *seg, size_t n)
{
	size_t dots = 0;

	for (size_t i = 0; i < n;) {
		if (seg[i] == '.') {
			i++;
		} else if (n - i >= 3 && seg[i] == '%' && seg[i + 1] == '2' &&
			   (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
			i += 3;
		} else {
			return false;
		}
		dots++;
	}
	return dots == 1 || dots == 2;
}

/* RFC 3986 §3.3 and §3.4: the characters a path or query may hold
 * unencoded (pchar, "/" and "?"); anything else must be percent-encoded. */
static bool uri_char(unsigned char c)
{
	return c != '\0' && (isalnum(c) || strchr("-._~!$&'()*+,;=:@/?", c) != NULL);
}

/* A label that URL parsers read as a number: decimal digits, or 0x and hex */
static bool numeric_label(const char *s, size_t n)
{
	size_t i = 0;
	bool hex = n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	for (i = hex ? 2 : 0; i < n; i++)
		if (hex ? !isxdigit((unsigned char)s[i]) : !isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/*
 * A registered name (RFC 3986 §3.2.2) as DNS wants it: labels of 1 to 63
 * letters, digits and hyphens (RFC 1035 §2.3.4), no empty label (so no
 * trailing dot either: RFC 6066 §3 forbids it in SNI). A name whose last
 * label is numeric (decimal or 0x-hex) is an IPv4 address to URL parsers
 * and getaddrinfo(3) alike ("127.1", "0x7f.1", "2130706433"): only the
 * dotted-quad form is taken, so the host we verify the certificate for
 * is the address we connect to.
 */
static bool reg_name_ok(const char *h, size_t n)
{
	const char *last = h;
	size_t label = 0;
	char quad[INET_ADDRSTRLEN];
	struct in_addr a4;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			if (i < n)
				last = h + i + 1;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)h[i]) && h[i] != '-')
			return false;
		label++;
	}
	if (!numeric_label(last, (size_t)(h + n - last)))
		return true;
	if (n >= sizeof(quad))
		return false;
	memcpy(quad, h, n);
	quad[n] = '\0';
	return inet_pton(AF_INET, quad, &a4) == 1;
}

int oauth_cimd_url_check(const char *url, char *host, size_t hostcap, unsigned *port, char *target,
			 size_t targetcap, const char **why)
{
	const char *auth, *auth_end, *h, *h_end, *p, *path, *q;
	size_t n = url ? strlen(url) : 0;

	*why = NULL;
	if (n == 0 || n > OAUTH_CLIENT_ID_MAX) {
		*why = "the client_id URL is empty or longer than 512 bytes";
		return ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
			*why = "the client_id URL holds spaces, control or non-ASCII characters";
			return ERR_INVALID;
		}
	/* draft §3: MUST use the https scheme */
	if (strncasecmp(url, "https://", 8) != 0) {
		*why = "the client_id URL must use https";
		return ERR_INVALID;
	}
	if (strchr(url, '#')) {
		*why = "the client_id URL must not have a fragment";
		return ERR_INVALID;
	}
	auth = url + 8;
	auth_end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(auth_end - auth))) {
		*why = "the client_id URL must not have a user name or password";
		return ERR_INVALID;
	}
	if (*auth == '[') {
		h = auth + 1;
		h_end = memchr(h, ']', (size_t)(auth_end - h));
		if (h_end == NULL) {
			*why = "the client_id URL has a malformed IPv6 host";
			return ERR_INVALID;
		}
		p = h_end + 1;
	} else {
		h = auth;
		h_end = memchr(h, ':', (size_t)(auth_end - h));
		if (h_end == NULL)
			h_end = auth_end;
		p = h_end;
	}
	if (h_end == h || (size_t)(h_end - h) >= hostcap || h_end - h > 253) {
		*why = "the client_id URL has no host or an overlong one";
		return ERR_INVALID;
	}
	if (*auth != '[' && !reg_name_ok(h, (size_t)(h_end - h))) {
		*why = "the client_id URL's host is not a DNS name or IP address";
		return ERR_INVALID;
	}
	memcpy(host, h, (size_t)(h_end - h));
	host[h_end - h] = '\0';
	if (*auth == '[') {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1) {
			*why = "the client_id URL has a malformed IPv6 host";
			return ERR_INVALID;
		}
	}
	*port = 443;
	if (p < auth_end) {
		unsigned long v = 0;

		if (*p != ':' || p + 1 == auth_end || auth_end - (p + 1) > 5) {
			*why = "the client_id URL has a malformed port";
			return ERR_INVALID;
		}
		for (const char *c = p + 1; c < auth_end; c++) {
			if (!isdigit((unsigned char)*c)) {
				*why = "the client_id URL has a malformed port";
				return ERR_INVALID;
			}
			v = v * 10 + (unsigned long)(*c - '0');
		}
		if (v == 0 || v > 65535) {
			*why = "the client_id URL has a malformed port";
			return ERR_INVALID;
		}
		*port = (unsigned)v;
	}
	/* draft §3: MUST contain a path component */
	path = auth_end;
	if (*path != '/') {
		*why = "the client_id URL must have a path";
		return ERR_INVALID;
	}
	q = path + strcspn(path, "?");
	/*
	 * The target goes into our request line and is matched by the
	 * client's server: only the characters RFC 3986 allows there, and
	 * well-formed percent-encoding. An encoded "/", "\" or NUL in the
	 * path is refused: servers that decode before splitting would see
	 * segments (and dot segments) that we do not.
	 */
	for (const char *c = path; *c; c++) {
		if (*c == '%') {
			if (!isxdigit((unsigned char)c[1]) || !isxdigit((unsigned char)c[2])) {
				*why = "the client_id URL has a malformed percent-encoding";
				return ERR_INVALID;
			}
			if (c < q && (strncasecmp(c, "%2f", 3) == 0 ||
				      strncasecmp(c, "%5c", 3) == 0 || strncmp(c, "%00", 3) == 0)) {
				*why = "the client_id URL's path has an encoded /, \\ or NUL";
				return ERR_INVALID;
			}
			c += 2;
		} else if (!uri_char((unsigned char)*c)) {
			*why = "the client_id URL holds a character that must be percent-encoded "
			       "(RFC 3986)";
			return ERR_INVALID;
		}
	}
	/*
	 * draft §3: MUST NOT contain single-dot or double-dot path segments.
	 * The query is held to the same rule (split at "/" and "?"): servers
	 * and proxies that normalize the whole target exist, and a target
	 * without any "/./" or "/../" is one that nobody rewrites.
	 */
	for (const char *s = path + 1;;) {
		size_t len = strcspn(s, "/?");

		if (dot_segment(s, len)) {
			*why = "the client_id URL must not have . or .. path segments";
			return ERR_INVALID;
		}
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	if (strlen(path) >= targetcap) {
		*why = "the client_id URL is too long";
		return ERR_INVALID;
	}
	memcpy(target, path, strlen(path) + 1);
	return 0;
}

unsigned oauth_cimd_ttl(const char *cc)
{
	unsigned long long age = 0;
	bool have_age = false, no_store = false;
	const char *p = cc;

	while (p && *p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",");
		if ((n == 8 && strncasecmp(p, "no-store", 8) == 0) ||
		    (n >= 8 && strncasecmp(p, "no-cache", 8) == 0 && (n == 8 || p[8] == '='))) {
			no_store = true;
		} else if (n > 8 && strncasecmp(p, "max-age=", 8) == 0) {
			const char *v = p + 8, *end = p + n;
			unsigned long long x = 0;
			bool digits = false;

			if (*v == '"')
				v++;
			for (; v < end && isdigit((unsigned char)*v); v++) {
				digits = true;
				/* RFC 9111 §1.2.2: an overflowing delta-seconds is
				 * "very large"; saturate */
				x = x > 1000000000ULL ? x : x * 10 + (unsigned long long)(*v - '0');
			}
			if (digits && !have_age) {
				age = x;
				have_age = true;
			}
		}
		p += n;
	}
	if (no_store || (have_age && age < OAUTH_CIMD_TTL_MIN))
		return OAUTH_CIMD_TTL_MIN;
	if (!have_age)
		return OAUTH_CIMD_TTL_DEFAULT;
	return age > OAUTH_CIMD_TTL_MAX ? OAUTH_CIMD_TTL_MAX : (unsigned)age;
}

/* IPv4 special-use blocks (RFC 6890 and its updates), host byte order. */
static const char *v4_blocked(uint32_t a, bool allow_private)
{
	static const struct {
		uint32_t net;
		int len;
		bool unicast; /* allowed with allow_private */
		const char *what;
	} t[] = {
	    {0x00000000, 8, false, "an unspecified (0.0.0.0/8) address"},
	    {0x7f000000, 8, true, "a loopback address"},
	    {0x0a000000, 8, true, "a private (RFC 1918) address"},
	    {0xac100000, 12, true, "a private (RFC 1918) address"},
	    {0xc0a80000, 16, true, "a private (RFC 1918) address"},
	    {0x64400000, 10, true, "a shared (CGNAT, RFC 6598) address"},
	    {0xa9fe0000, 16, true, "a link-local address"},
	    {0xc0000000, 24, true, "an IETF protocol assignment address"},
	    {0xc0000200, 24, true, "a documentation address"},
	    {0xc6336400, 24, true, "a documentation address"},
	    {0xcb007100, 24, true, "a documentation address"},
	    {0xc6120000, 15, true, "a benchmarking address"},
	    {0xe0000000, 4, false, "a multicast address"},
	    {0xf0000000, 4, false, "a reserved or broadcast address"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - t[i].len);

		if ((a & mask) == t[i].net)
			return allow_private && t[i].unicast ? NULL : t[i].what;
	}
	return NULL;
}

static uint32_t v4_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

const char *oauth_cimd_addr_blocked(const struct sockaddr *sa, bool allow_private)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		return v4_blocked(ntohl(s4->sin_addr.s_addr), allow_private);
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t zero[12] = {0};
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

		if (memcmp(b, zero, 12) == 0) {
			uint32_t v = v4_at(b + 12);

			if (v == 0)
				return "an unspecified (::) address";
			if (v == 1)
				return allow_private ? NULL : "a loopback address";
			/* ::a.b.c.d, deprecated v4-compatible */
			return v4_blocked(v, allow_private);
		}
		if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
			return v4_blocked(v4_at(b + 12), allow_private);
		if (b[0] == 0x20 && b[1] == 0x02) /* 6to4 2002:V4ADDR::/48 */
			return v4_blocked(v4_at(b + 2), allow_private);
		if (b[0] == 0xff)
			return "a multicast address";
		if (allow_private)
			return NULL;
		if ((b[0] & 0xfe) == 0xfc)
			return "a unique local (ULA, fc00::/7) address";
		/* RFC 8215: NAT64 prefixes for one network's own use; the
		 * IPv4 address sits split around the u octet, so the whole
		 * block is refused rather than judged by what it embeds */
		if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 &&
		    b[5] == 1)
			return "a local-use NAT64 (64:ff9b:1::/48) address";
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return "a link-local address";
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
			return "a site-local address";
		if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
			return "a documentation address";
		if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02)
			return "an IETF protocol assignment address (2001::/23)";
		if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0)
			return "a discard-only address";
		return NULL;
	}
	return "not an IP address";
}

/* ---- the worker ---- */

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* A reason into j->why; long host names are cut, which is fine for a page */
static void why_set(struct oauth_cimd_job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void why_set(struct oauth_cimd_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		why_set(j, __VA_ARGS__);                                                           \
		goto fail;                                                                         \
	} while (0)

/* Waits for fd to become ready for ev. 1 ready, 0 deadline or stop, -1 error. */
static int wait_fd(struct oauth_cimd_job *j, int fd, short ev)
{
	for (;;) {
		long left = ms_left(&j->deadline);
		struct pollfd pfd = {fd, ev, 0};
		int r;

		if (left <= 0 || atomic_load(&j->f->stopping))
			return 0;
		r = poll(&pfd, 1, (int)(left < SLICE_MS ? left : SLICE_MS));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_to(struct oauth_cimd_job *j, const struct addrinfo *a)
{
	int fd =
	    socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0)
		return -1;
	if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS || wait_fd(j, fd, POLLOUT) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Runs one SSL call until it completes: 1 done, 0 deadline, -1 error. */
static int ssl_step(struct oauth_cimd_job *j, SSL *ssl, int fd, int (*call)(SSL *, void *, int),
		    void *buf, int len, int *out)
{
	for (;;) {
		int r = call(ssl, buf, len), e, w;

		if (r > 0) {
			*out = r;
			return 1;
		}
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN) {
			*out = 0;
			return 1;
		}
		if (e == SSL_ERROR_WANT_READ)
			w = wait_fd(j, fd, POLLIN);
		else if (e == SSL_ERROR_WANT_WRITE)
			w = wait_fd(j, fd, POLLOUT);
		else
			return -1;
		if (w != 1)
			return w;
	}
}

static int call_connect(SSL *ssl, void *buf, int len)
{
	(void)buf;
	(void)len;
	return SSL_connect(ssl);
}

static int call_read(SSL *ssl, void *buf, int len)
{
	return SSL_read(ssl, buf, len);
}

static int call_write(SSL *ssl, void *buf, int len)
{
	return SSL_write(ssl, buf, len);
}

/* Content-Type application/json or application/<x>+json (draft §4). */
static bool json_ctype(const char *v, size_t n)
{
	size_t t = 0;

	while (t < n && v[t] != ';' && v[t] != ' ' && v[t] != '\t')
		t++;
	if (t == 16 && strncasecmp(v, "application/json", 16) == 0)
		return true;
	return t > 17 && strncasecmp(v, "application/", 12) == 0 &&
	       strncasecmp(v + t - 5, "+json", 5) == 0;
}

/* A reason into the caller's buffer */
static void whyf(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void whyf(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/* RFC 9110 §5.6.2: tchar, what a field name is made of */
static bool tchar(unsigned char c)
{
	return c != '\0' && (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

#define RFAIL(...)                                                                                 \
	do {                                                                                       \
		whyf(why, whycap, __VA_ARGS__);                                                    \
		goto fail;                                                                         \
	} while (0)

int oauth_cimd_response_parse(char *buf, size_t len, const char **body, size_t *blen,
			      unsigned *ttl_s, char *why, size_t whycap)
{
	char *end = NULL, *line, *next, cc[512];
	bool json = false, ctype = false, cc_full = false;
	long long cl = -1;
	size_t head;
	int status;

	*body = NULL;
	*blen = 0;
	*ttl_s = 0;
	if (whycap > 0)
		why[0] = '\0';
	/* the head, its blank line included, is at most OAUTH_CIMD_HEAD_MAX */
	for (size_t i = 0; i + 4 <= len && i + 4 <= OAUTH_CIMD_HEAD_MAX; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i;
			break;
		}
	if (end == NULL)
		RFAIL("the server's answer is not HTTP or its headers exceed %d bytes",
		      OAUTH_CIMD_HEAD_MAX);
	head = (size_t)(end + 4 - buf);
	/*
	 * CR and LF only as CRLF, no NUL or other control characters but HTAB
	 * (RFC 9110 §5.5 lets a recipient reject them; RFC 9112 §2.2 lets it
	 * take a bare LF as a line end, which we do not: one reading only).
	 * end[0..3] is the final CRLFCRLF, so buf[i + 1] is always in bounds.
	 */
	for (size_t i = 0; i < (size_t)(end - buf); i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r' && buf[i + 1] == '\n') {
			i++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			RFAIL("the server's answer is not HTTP (control characters in its head)");
	}
	*end = '\0';
	/* RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase] */
	if (strncmp(buf, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)buf[7]) || buf[8] != ' ' ||
	    !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]) ||
	    (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\0'))
		RFAIL("the server's answer is not HTTP");
	status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (status >= 300 && status < 400)
		RFAIL("the server answered with a redirect (HTTP %d), which is not followed "
		      "(draft §5)",
		      status);
	if (status != 200)
		RFAIL("the server answered HTTP %d, not 200", status);
	cc[0] = '\0';
	for (line = strstr(buf, "\r\n"); line; line = next) {
		char *colon, *v, *c;
		size_t vn;

		line += 2;
		next = strstr(line, "\r\n");
		if (next)
			*next = '\0';
		/* RFC 9112 §5.1: a token, then the colon with no space before it.
		 * Obsolete line folding (§5.2) is refused rather than unfolded. */
		for (c = line; tchar((unsigned char)*c); c++)
			;
		if (c == line || *c != ':')
			RFAIL("the server sent a malformed header line");
		colon = c;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		vn = strlen(v);
		while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		*colon = '\0';
		if (strcasecmp(line, "Content-Type") == 0) {
			/* a singleton field (RFC 9110 §8.3): two are ambiguous */
			if (ctype)
				RFAIL("the server sent Content-Type twice");
			ctype = true;
			json = json_ctype(v, vn);
		} else if (strcasecmp(line, "Content-Length") == 0) {
			long long x = 0;

			/* RFC 9110 §8.6: a list or a repeat may be rejected */
			if (vn == 0 || vn > 9 || cl >= 0)
				RFAIL("the server sent a malformed Content-Length");
			for (size_t i = 0; i < vn; i++) {
				if (!isdigit((unsigned char)v[i]))
					RFAIL("the server sent a malformed Content-Length");
				x = x * 10 + (v[i] - '0');
			}
			cl = x;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			if (!(vn == 8 && strncasecmp(v, "identity", 8) == 0))
				RFAIL("the server sent a Transfer-Encoding to an HTTP/1.0 request");
		} else if (strcasecmp(line, "Cache-Control") == 0) {
			size_t used = strlen(cc);

			/* repeated fields form one list (RFC 9110 §5.3); one
			 * too long to keep whole is not cut (a cut directive
			 * could mean something else): fetch again soon */
			if (used + 2 + vn >= sizeof(cc))
				cc_full = true;
			else
				snprintf(cc + used, sizeof(cc) - used, "%s%.*s", used ? ", " : "",
					 (int)vn, v);
		}
		if (next)
			next[0] = '\r';
	}
	if (!json)
		RFAIL("the document is not served as JSON (Content-Type application/json)");
	*body = buf + head;
	*blen = len - head;
	if (*blen > OAUTH_CIMD_DOC_MAX || cl > OAUTH_CIMD_DOC_MAX)
		RFAIL("the document is larger than %d bytes", OAUTH_CIMD_DOC_MAX);
	if (cl >= 0 && (size_t)cl > *blen)
		RFAIL("the document was cut short (%zu of %lld bytes)", *blen, cl);
	if (cl >= 0 && (size_t)cl < *blen)
		RFAIL("the server sent more than its Content-Length (%zu, not %lld bytes)", *blen,
		      cl);
	*ttl_s = cc_full ? OAUTH_CIMD_TTL_MIN : oauth_cimd_ttl(cc[0] ? cc : NULL);
	return 0;
fail:
	*body = NULL;
	*blen = 0;
	*ttl_s = 0;
	return ERR_INVALID;
}

#undef RFAIL

static void fetch(struct oauth_cimd_job *j)
{
	struct addrinfo hints, *ai = NULL, *a;
	const char *blocked = NULL, *body = NULL;
	char portstr[8], *buf = NULL, req[OAUTH_CLIENT_ID_MAX + 512];
	/* one byte past the largest acceptable response: reading that much
	 * proves it too large (see oauth_cimd_response_parse) */
	size_t len = 0, cap = OAUTH_CIMD_HEAD_MAX + OAUTH_CIMD_DOC_MAX + 1, blen = 0;
	unsigned ttl = 0;
	struct in_addr a4;
	struct in6_addr a6;
	bool literal =
	    inet_pton(AF_INET, j->host, &a4) == 1 || inet_pton(AF_INET6, j->host, &a6) == 1;
	SSL *ssl = NULL;
	int fd = -1, rc, n = 0, reqlen;
	long vr;

	j->res.status = ERR_INVALID;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", j->port);
	rc = getaddrinfo(j->host, portstr, &hints, &ai);
	if (ms_left(&j->deadline) <= 0)
		goto timeout;
	if (rc != 0)
		FAIL("cannot resolve %s: %s", j->host, gai_strerror(rc));
	/* draft §8.6: check every address, connect only to checked ones */
	for (a = ai; a && fd < 0; a = a->ai_next) {
		const char *w = oauth_cimd_addr_blocked(a->ai_addr, j->f->allow_private);

		if (w) {
			blocked = w;
			continue;
		}
		fd = connect_to(j, a);
		if (fd < 0 && ms_left(&j->deadline) <= 0)
			goto timeout;
	}
	if (fd < 0 && blocked)
		FAIL("%s resolves to %s, which is not fetched (SSRF guard; "
		     "oauth-client-metadata-private allows it)",
		     j->host, blocked);
	if (fd < 0)
		FAIL("cannot connect to %s port %u", j->host, j->port);
	ssl = SSL_new(j->f->ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		FAIL("cannot set up TLS");
	if (literal) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), j->host) != 1)
			FAIL("cannot set up TLS");
	} else if (SSL_set_tlsext_host_name(ssl, j->host) != 1 ||
		   SSL_set1_host(ssl, j->host) != 1) {
		FAIL("cannot set up TLS");
	}
	rc = ssl_step(j, ssl, fd, call_connect, NULL, 0, &n);
	if (rc == 0)
		goto timeout;
	if (rc < 0) {
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK)
			FAIL("the certificate of %s is not trusted: %s", j->host,
			     X509_verify_cert_error_string(vr));
		FAIL("TLS handshake with %s failed", j->host);
	}
	{
		/* Host as the URL names it: brackets for IPv6, the port unless 443 */
		bool v6 = strchr(j->host, ':') != NULL;
		char hp[300];

		if (j->port != 443)
			snprintf(hp, sizeof(hp), "%s%s%s:%u", v6 ? "[" : "", j->host, v6 ? "]" : "",
				 j->port);
		else
			snprintf(hp, sizeof(hp), "%s%s%s", v6 ? "[" : "", j->host, v6 ? "]" : "");
		reqlen = snprintf(req, sizeof(req),
				  "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n"
				  "User-Agent: mcpd (OAuth client metadata)\r\n"
				  "Connection: close\r\n\r\n",
				  j->target, hp);
	}
	if (reqlen < 0 || (size_t)reqlen >= sizeof(req))
		FAIL("the client_id URL is too long");
	rc = ssl_step(j, ssl, fd, call_write, req, reqlen, &n);
	if (rc == 0)
		goto timeout;
	if (rc < 0 || n != reqlen)
		FAIL("cannot send the request to %s", j->host);
	buf = malloc(cap + 1);
	if (buf == NULL)
		FAIL("out of memory");
	for (;;) {
		if (len == cap)
			break;
		rc = ssl_step(j, ssl, fd, call_read, buf + len, (int)(cap - len), &n);
		if (rc == 0)
			goto timeout;
		if (rc < 0)
			FAIL("the connection to %s broke while reading the document", j->host);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (oauth_cimd_response_parse(buf, len, &body, &blen, &ttl, j->why, sizeof(j->why)) != 0)
		goto fail;
	{
		const char *why = NULL;

		j->res.status =
		    oauth_cimd_doc_check(j->url, body, blen, j->redirect_uri, &j->res.meta, &why);
		if (j->res.status != 0) {
			why_set(j, "%s", why ? why : "invalid document");
			goto fail;
		}
	}
	j->res.ttl_s = ttl;
	j->res.why = NULL;
	goto out;
timeout:
	j->res.timed_out = true;
	why_set(j, "%s did not answer within %d seconds", j->host, OAUTH_CIMD_TIMEOUT_MS / 1000);
fail:
	if (j->res.status == 0)
		j->res.status = ERR_INVALID;
	j->res.why = j->why;
out:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	free(buf);
	/* OpenSSL keeps per-thread error queues; leave none behind */
	ERR_clear_error();
}

#undef FAIL

static void *worker(void *arg)
{
	struct oauth_cimd_job *j = arg;
	struct oauth_cimd *f = j->f;
	ssize_t w;

	fetch(j);
	pthread_mutex_lock(&f->mu);
	j->fin_next = f->finished;
	f->finished = j;
	/* a full pipe already holds a wake-up: EAGAIN is fine */
	w = write(f->pipe_w, "", 1);
	(void)w;
	f->threads--;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	/* OpenSSL 3 frees per-thread state at thread exit by itself */
	return NULL;
}

/* ---- the loop side ---- */

static void job_unlink(struct oauth_cimd *f, struct oauth_cimd_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		f->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	f->running--;
}

static void job_free(struct oauth_cimd_job *j)
{
	if (j->timer)
		event_free(j->timer);
	cJSON_Delete(j->res.meta);
	free(j->redirect_uri);
	free(j);
}

static void on_finished(evutil_socket_t fd, short what, void *arg)
{
	struct oauth_cimd *f = arg;
	struct oauth_cimd_job *list, *j;
	char drain[64];

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&f->mu);
	list = f->finished;
	f->finished = NULL;
	pthread_mutex_unlock(&f->mu);
	while ((j = list) != NULL) {
		list = j->fin_next;
		job_unlink(f, j);
		if (j->done) {
			oauth_cimd_done_fn done = j->done;

			j->done = NULL;
			event_del(j->timer);
			done(j->arg, &j->res);
			j->res.meta = NULL; /* the callback's now */
		}
		job_free(j);
	}
}

static void on_backstop(evutil_socket_t fd, short what, void *arg)
{
	struct oauth_cimd_job *j = arg;
	struct oauth_cimd_result r;
	oauth_cimd_done_fn done = j->done;

	(void)fd;
	(void)what;
	if (done == NULL)
		return;
	j->done = NULL;
	memset(&r, 0, sizeof(r));
	r.status = ERR_TIMEOUT;
	r.timed_out = true;
	r.why = "the client's server did not answer in time (name resolution included)";
	done(j->arg, &r);
}

struct oauth_cimd *oauth_cimd_new(struct event_base *base, bool allow_private, char *err,
				  size_t errcap)
{
	struct oauth_cimd *f = calloc(1, sizeof(*f));
	int p[2] = {-1, -1};

	if (f == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	f->base = base;
	f->allow_private = allow_private;
	f->pipe_r = f->pipe_w = -1;
	atomic_init(&f->stopping, false);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->ctx = SSL_CTX_new(TLS_client_method());
	if (f->ctx == NULL || SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errcap, "cannot set up TLS for client metadata documents");
		goto fail;
	}
	/* the system's trust store; SSL_CERT_FILE / SSL_CERT_DIR override it */
	if (SSL_CTX_set_default_verify_paths(f->ctx) != 1) {
		snprintf(err, errcap, "cannot load the default TLS trust store");
		goto fail;
	}
	SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, NULL);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errcap, "pipe: %s", strerror(errno));
		goto fail;
	}
	f->pipe_r = p[0];
	f->pipe_w = p[1];
	f->ev_pipe = event_new(base, f->pipe_r, EV_READ | EV_PERSIST, on_finished, f);
	if (f->ev_pipe == NULL || event_add(f->ev_pipe, NULL) != 0) {
		snprintf(err, errcap, "out of memory");
		goto fail;
	}
	return f;
fail:
	ERR_clear_error();
	oauth_cimd_free(f);
	return NULL;
}

void oauth_cimd_free(struct oauth_cimd *f)
{
	struct oauth_cimd_job *j;
	struct timespec until;
	bool stuck;

	if (f == NULL)
		return;
	atomic_store(&f->stopping, true);
	if (f->ev_pipe)
		event_free(f->ev_pipe);
	f->ev_pipe = NULL;
	for (j = f->jobs; j; j = j->next) {
		j->done = NULL;
		if (j->timer)
			event_del(j->timer);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_MS / 1000;
	pthread_mutex_lock(&f->mu);
	while (f->threads > 0)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT)
			break;
	stuck = f->threads > 0;
	pthread_mutex_unlock(&f->mu);
	if (stuck) {
		/* a worker is inside getaddrinfo: it still needs f and its
		 * job, so they stay (we are exiting anyway) */
		log_warnx("oauth: %u client metadata fetch(es) still resolving at exit",
			  f->threads);
		for (j = f->jobs; j; j = j->next)
			if (j->timer) {
				event_free(j->timer);
				j->timer = NULL;
			}
		return;
	}
	while ((j = f->jobs) != NULL) {
		job_unlink(f, j);
		job_free(j);
	}
	if (f->pipe_r >= 0)
		close(f->pipe_r);
	if (f->pipe_w >= 0)
		close(f->pipe_w);
	SSL_CTX_free(f->ctx);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

struct oauth_cimd_job *oauth_cimd_start(struct oauth_cimd *f, const char *url,
					const char *redirect_uri, oauth_cimd_done_fn done,
					void *arg, bool *busy)
{
	struct oauth_cimd_job *j;
	const char *why;
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	struct timeval tv;
	int rc;

	*busy = false;
	if (f->running >= OAUTH_CIMD_WORKERS) {
		*busy = true;
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->f = f;
	if (oauth_cimd_url_check(url, j->host, sizeof(j->host), &j->port, j->target,
				 sizeof(j->target), &why) != 0 ||
	    (redirect_uri && (j->redirect_uri = strdup(redirect_uri)) == NULL)) {
		free(j);
		return NULL;
	}
	snprintf(j->url, sizeof(j->url), "%s", url);
	clock_gettime(CLOCK_MONOTONIC, &j->deadline);
	j->deadline.tv_sec += OAUTH_CIMD_TIMEOUT_MS / 1000;
	j->deadline.tv_nsec += (long)(OAUTH_CIMD_TIMEOUT_MS % 1000) * 1000000;
	if (j->deadline.tv_nsec >= 1000000000) {
		j->deadline.tv_sec++;
		j->deadline.tv_nsec -= 1000000000;
	}
	j->done = done;
	j->arg = arg;
	j->timer = evtimer_new(f->base, on_backstop, j);
	if (j->timer == NULL) {
		free(j->redirect_uri);
		free(j);
		return NULL;
	}
	tv.tv_sec = (OAUTH_CIMD_TIMEOUT_MS + BACKSTOP_MS) / 1000;
	tv.tv_usec = (OAUTH_CIMD_TIMEOUT_MS + BACKSTOP_MS) % 1000 * 1000;
	evtimer_add(j->timer, &tv);
	j->next = f->jobs;
	if (f->jobs)
		f->jobs->prev = j;
	f->jobs = j;
	f->running++;
	pthread_mutex_lock(&f->mu);
	f->threads++;
	pthread_mutex_unlock(&f->mu);
	/* signals belong to the loop thread (libevent's signal events) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, worker, j);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("oauth: cannot start a thread for client metadata: %s", strerror(rc));
		pthread_mutex_lock(&f->mu);
		f->threads--;
		pthread_mutex_unlock(&f->mu);
		job_unlink(f, j);
		job_free(j);
		return NULL;
	}
	return j;
}

void oauth_cimd_cancel(struct oauth_cimd *f, struct oauth_cimd_job *j)
{
	(void)f;
	j->done = NULL;
	if (j->timer)
		event_del(j->timer);
}

unsigned oauth_cimd_running(const struct oauth_cimd *f)
{
	return f ? f->running : 0;
}
