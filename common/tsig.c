/*
 * tsig.c: TSIG (RFC 8945) with libcrypto's HMAC (tsig.h).
 *
 * What is digested (§4.3). For a request: the message as it was before the
 * TSIG RR was added (ARCOUNT one less, the ID the signer used: "original
 * ID"), followed by the TSIG variables: key name and algorithm name in
 * canonical (lower-case, uncompressed) wire form, class ANY, TTL 0, time
 * signed (48 bits), fudge, error, other length and other data. For the
 * first response: the request MAC (two-octet length, then the MAC) first.
 * For each later message of a multi-message response (§5.3.1): the previous
 * message's MAC, the message, and only the timers (time signed, fudge).
 * We sign every message of a stream, which §5.3.1 allows (it requires at
 * least every 100th), so a verifier never has to digest unsigned messages.
 *
 * Verification order (§5.2): key (BADKEY), MAC (BADSIG, or FORMERR /
 * BADTRUNC for a MAC length that cannot be right), then time (BADTIME), so
 * that an unauthenticated message never learns our clock. BADKEY and BADSIG
 * replies are not signed; BADTIME replies are, with the client's time in
 * Time Signed and ours in Other Data (§5.2.3).
 *
 * Secrets never leave this file except through the key structs; MACs are
 * compared in constant time (CRYPTO_memcmp).
 */
#include "tsig.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "msg.h"
#include "rdata.h"
#include "wire.h"

#define TSIG_FIXED_RDATA 16 /* time 6, fudge 2, mac size 2, orig id 2, error 2, other len 2 */
#define TSIG_KEYFILE_MAX (1024 * 1024)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Algorithm names in wire form (RFC 8945 §6). */
static const uint8_t alg_sha256[] = "\013hmac-sha256";
static const uint8_t alg_sha512[] = "\013hmac-sha512";

size_t tsig_alg_mac_len(enum tsig_alg alg)
{
	switch (alg) {
	case TSIG_HMAC_SHA256:
		return 32;
	case TSIG_HMAC_SHA512:
		return 64;
	default:
		return 0;
	}
}

const char *tsig_alg_name(enum tsig_alg alg)
{
	switch (alg) {
	case TSIG_HMAC_SHA256:
		return "hmac-sha256";
	case TSIG_HMAC_SHA512:
		return "hmac-sha512";
	default:
		return "none";
	}
}

static const uint8_t *alg_wire(enum tsig_alg alg, size_t *len)
{
	/* sizeof includes the string's NUL, which is the root label */
	*len = sizeof(alg_sha256);
	return alg == TSIG_HMAC_SHA512 ? alg_sha512 : alg_sha256;
}

enum tsig_alg tsig_alg_parse(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 11 && strncasecmp(s, "hmac-sha256", 11) == 0)
		return TSIG_HMAC_SHA256;
	if (n == 11 && strncasecmp(s, "hmac-sha512", 11) == 0)
		return TSIG_HMAC_SHA512;
	return TSIG_ALG_NONE;
}

const char *tsig_error_name(int error)
{
	switch (error) {
	case TSIG_NOERROR:
		return "NOERROR";
	case TSIG_BADSIG:
		return "BADSIG";
	case TSIG_BADKEY:
		return "BADKEY";
	case TSIG_BADTIME:
		return "BADTIME";
	case TSIG_BADTRUNC:
		return "BADTRUNC";
	default:
		return "error";
	}
}

/* ------------------------------------------------------------------ */
/* HMAC through EVP_MAC (OpenSSL 3) */

static EVP_MAC *g_hmac;
static pthread_once_t g_hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* A new HMAC context keyed with key, or NULL. */
static EVP_MAC_CTX *hmac_begin(const struct tsig_key *key)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c;
	char digest[16];

	pthread_once(&g_hmac_once, hmac_fetch);
	if (g_hmac == NULL)
		return NULL;
	c = EVP_MAC_CTX_new(g_hmac);
	if (c == NULL)
		return NULL;
	snprintf(digest, sizeof(digest), "%s", key->alg == TSIG_HMAC_SHA512 ? "SHA512" : "SHA256");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(c, key->secret, key->secret_len, params) != 1) {
		EVP_MAC_CTX_free(c);
		return NULL;
	}
	return c;
}

static void hmac_u16(EVP_MAC_CTX *c, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	EVP_MAC_update(c, b, 2);
}

static void hmac_time(EVP_MAC_CTX *c, uint64_t t)
{
	uint8_t b[6];

	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(t >> (40 - 8 * i));
	EVP_MAC_update(c, b, 6);
}

/* Ends c, writes the MAC (tsig_alg_mac_len octets) and frees c. */
static int hmac_end(EVP_MAC_CTX *c, uint8_t *out, size_t cap, size_t *outlen)
{
	int ok = EVP_MAC_final(c, out, outlen, cap) == 1;

	EVP_MAC_CTX_free(c);
	return ok ? 0 : ERR_INVALID;
}

/*
 * The digest of one message: prior MAC (if any), the message body with the
 * header's ID and ARCOUNT as given, then all variables (full) or the timers.
 */
struct digest_in {
	const uint8_t *prior; /* previous MAC or NULL */
	size_t prior_len;
	const uint8_t *msg; /* message without its TSIG */
	size_t msg_len;
	uint16_t id;	  /* ID to digest (original ID) */
	uint16_t arcount; /* ARCOUNT without the TSIG */
	bool full;	  /* all variables, else timers only */
	const uint8_t *alg;
	size_t alg_len;
	uint64_t time;
	uint16_t fudge, error, other_len;
	const uint8_t *other;
};

static int digest(const struct tsig_key *key, const struct digest_in *d, uint8_t *mac,
		  size_t *mac_len)
{
	EVP_MAC_CTX *c;
	uint8_t hdr[DNS_HEADER_LEN];

	if (d->msg_len < DNS_HEADER_LEN)
		return ERR_MALFORMED;
	c = hmac_begin(key);
	if (c == NULL)
		return ERR_NOMEM;
	if (d->prior) {
		hmac_u16(c, (uint16_t)d->prior_len);
		EVP_MAC_update(c, d->prior, d->prior_len);
	}
	memcpy(hdr, d->msg, DNS_HEADER_LEN);
	hdr[0] = (uint8_t)(d->id >> 8);
	hdr[1] = (uint8_t)d->id;
	hdr[10] = (uint8_t)(d->arcount >> 8);
	hdr[11] = (uint8_t)d->arcount;
	EVP_MAC_update(c, hdr, DNS_HEADER_LEN);
	EVP_MAC_update(c, d->msg + DNS_HEADER_LEN, d->msg_len - DNS_HEADER_LEN);
	if (d->full) {
		EVP_MAC_update(c, key->name, key->name_len);
		hmac_u16(c, RRCLASS_ANY);
		hmac_u16(c, 0); /* TTL, 32 bits */
		hmac_u16(c, 0);
		EVP_MAC_update(c, d->alg, d->alg_len);
	}
	hmac_time(c, d->time);
	hmac_u16(c, d->fudge);
	if (d->full) {
		hmac_u16(c, d->error);
		hmac_u16(c, d->other_len);
		if (d->other_len)
			EVP_MAC_update(c, d->other, d->other_len);
	}
	return hmac_end(c, mac, TSIG_MAC_MAX, mac_len);
}

/* ------------------------------------------------------------------ */
/* Keys */

/* Strict base64 (RFC 4648 §4, padding required); returns the decoded
 * length or -1. */
static long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	unsigned char tmp[TSIG_SECRET_MAX + 4];
	size_t pad = 0, i;
	int r;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return -1;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			  (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';

		if (ch == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!ok || pad)
			return -1;
	}
	r = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad || (size_t)r - pad > cap)
		return -1;
	memcpy(out, tmp, (size_t)r - pad);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return (long)((size_t)r - pad);
}

static int key_name_wire(const char *text, size_t len, uint8_t out[DNAME_MAXLEN])
{
	static const uint8_t root[1] = {0};
	int r = dname_parse_text(text, len, root, out);

	if (r < 0)
		return r;
	dname_lower(out);
	return r;
}

const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *kr, const uint8_t *name)
{
	size_t i;

	if (kr == NULL || name == NULL)
		return NULL;
	for (i = 0; i < kr->n; i++)
		if (dname_equal(kr->keys[i].name, name))
			return &kr->keys[i];
	return NULL;
}

const struct tsig_key *tsig_keyring_find_text(const struct tsig_keyring *kr, const char *name)
{
	uint8_t w[DNAME_MAXLEN];

	if (name == NULL || key_name_wire(name, strlen(name), w) < 0)
		return NULL;
	return tsig_keyring_find(kr, w);
}

void tsig_keyring_free(struct tsig_keyring *kr)
{
	if (kr == NULL)
		return;
	if (kr->keys)
		OPENSSL_cleanse(kr->keys, kr->n * sizeof(*kr->keys));
	free(kr->keys);
	kr->keys = NULL;
	kr->n = 0;
}

/* Splits the next blank-separated field of [*p, end); returns its length. */
static size_t field(const char **p, const char *end, const char **start)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*start = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	return (size_t)(s - *start);
}

int tsig_keyring_parse(struct tsig_keyring *kr, const char *text, size_t len, char *err,
		       size_t errcap)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q, *f[4];
		size_t fl[4];
		struct tsig_key k, *nv;
		char algbuf[32];
		long sl;
		int r;

		if (eol == NULL)
			eol = end;
		line++;
		q = p;
		p = eol + 1;
		{
			/* strip comments and a CR */
			const char *hash = memchr(q, '#', (size_t)(eol - q));
			if (hash)
				eol = hash;
			while (eol > q && (eol[-1] == '\r' || eol[-1] == ' ' || eol[-1] == '\t'))
				eol--;
		}
		for (int i = 0; i < 4; i++)
			fl[i] = field(&q, eol, &f[i]);
		if (fl[0] == 0)
			continue; /* blank or comment */
		if (fl[1] == 0 || fl[2] == 0 || fl[3] != 0) {
			snprintf(err, errcap,
				 "line %d: expected 'name algorithm base64secret' (3 fields)",
				 line);
			return ERR_SYNTAX;
		}
		memset(&k, 0, sizeof(k));
		r = key_name_wire(f[0], fl[0], k.name);
		if (r < 0) {
			snprintf(err, errcap, "line %d: key name '%.*s': %s", line, (int)fl[0],
				 f[0], err_str(r));
			return ERR_SYNTAX;
		}
		k.name_len = (size_t)r;
		if (dname_print(k.name, k.name_text, sizeof(k.name_text)) < 0)
			return ERR_SYNTAX;
		snprintf(algbuf, sizeof(algbuf), "%.*s", (int)(fl[1] < 31 ? fl[1] : 31), f[1]);
		k.alg = fl[1] < 31 ? tsig_alg_parse(algbuf) : TSIG_ALG_NONE;
		if (k.alg == TSIG_ALG_NONE) {
			snprintf(err, errcap,
				 "line %d: key %s: algorithm '%.*s' is not hmac-sha256 or "
				 "hmac-sha512",
				 line, k.name_text, (int)fl[1], f[1]);
			return ERR_SYNTAX;
		}
		sl = b64_decode(f[2], fl[2], k.secret, sizeof(k.secret));
		if (sl <= 0) {
			snprintf(err, errcap, "line %d: key %s: the secret is not valid base64",
				 line, k.name_text);
			return ERR_SYNTAX;
		}
		k.secret_len = (size_t)sl;
		if (tsig_keyring_find(kr, k.name) != NULL) {
			snprintf(err, errcap, "line %d: key %s is defined twice", line,
				 k.name_text);
			OPENSSL_cleanse(&k, sizeof(k));
			return ERR_EXISTS;
		}
		if (kr->n >= TSIG_KEYS_MAX) {
			snprintf(err, errcap, "line %d: more than %d keys", line, TSIG_KEYS_MAX);
			OPENSSL_cleanse(&k, sizeof(k));
			return ERR_RANGE;
		}
		nv = realloc(kr->keys, (kr->n + 1) * sizeof(*nv));
		if (nv == NULL) {
			OPENSSL_cleanse(&k, sizeof(k));
			snprintf(err, errcap, "out of memory");
			return ERR_NOMEM;
		}
		kr->keys = nv;
		kr->keys[kr->n++] = k;
		OPENSSL_cleanse(&k, sizeof(k));
	}
	return (int)kr->n;
}

int tsig_keyring_load(struct tsig_keyring *kr, const char *path, char *err, size_t errcap)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;
	char e[256];

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errcap, "tsig-keyfile %s: %s", path, strerror(errno));
		return ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "tsig-keyfile %s: not a regular file", path);
		r = ERR_IO;
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errcap,
			 "tsig-keyfile %s has mode %04o: it holds secrets, so only its owner "
			 "may read it (chmod 600 %s)",
			 path, (unsigned)(st.st_mode & 07777), path);
		r = ERR_INVALID;
		goto fail;
	}
	if (st.st_size > TSIG_KEYFILE_MAX) {
		snprintf(err, errcap, "tsig-keyfile %s: larger than %d bytes", path,
			 TSIG_KEYFILE_MAX);
		r = ERR_RANGE;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		r = ERR_NOMEM;
		snprintf(err, errcap, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r = tsig_keyring_parse(kr, buf, got, e, sizeof(e));
	if (r < 0)
		snprintf(err, errcap, "tsig-keyfile %s: %s", path, e);
	OPENSSL_cleanse(buf, got);
fail:
	free(buf);
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* Parsing */

/* Skips one RR at w->pos; returns its type or a negative error. */
static int skip_rr(struct wire *w)
{
	uint8_t name[DNAME_MAXLEN];
	uint16_t type, rdlen;
	int r;

	if ((r = dname_parse_wire(w, name)) < 0)
		return r;
	type = wire_u16(w);
	wire_skip(w, 6); /* class, TTL */
	rdlen = wire_u16(w);
	wire_skip(w, rdlen);
	return w->err ? w->err : type;
}

int tsig_find(const uint8_t *msg, size_t len, size_t *off)
{
	struct msg_header h;
	struct wire w;
	unsigned i, nrr;
	size_t last = 0;
	int r, type = 0;

	if ((r = msg_parse_header(msg, len, &h)) < 0)
		return r;
	if (h.arcount == 0)
		return 0;
	wire_init(&w, msg, len);
	wire_seek(&w, DNS_HEADER_LEN);
	for (i = 0; i < h.qdcount; i++)
		if ((r = msg_skip_question(&w)) < 0)
			return r;
	nrr = (unsigned)h.ancount + h.nscount + h.arcount;
	for (i = 0; i < nrr; i++) {
		last = w.pos;
		if ((type = skip_rr(&w)) < 0)
			return type;
	}
	if (type != RRTYPE_TSIG)
		return 0;
	*off = last;
	return 1;
}

int tsig_parse(const uint8_t *msg, size_t len, size_t tsig_off, struct tsig_rr *t)
{
	struct wire w;
	uint16_t type, rclass, rdlen;
	size_t rd_end;
	int r;

	memset(t, 0, sizeof(*t));
	t->rr_off = tsig_off;
	wire_init(&w, msg, len);
	wire_seek(&w, tsig_off);
	if ((r = dname_parse_wire(&w, t->key)) < 0)
		return r;
	t->key_len = (size_t)r;
	dname_lower(t->key);
	type = wire_u16(&w);
	rclass = wire_u16(&w);
	wire_skip(&w, 4); /* TTL: 0 by §4.2, not checked (as Knot) */
	rdlen = wire_u16(&w);
	if (w.err)
		return w.err;
	if (type != RRTYPE_TSIG || rclass != RRCLASS_ANY)
		return ERR_MALFORMED;
	if (rdlen > wire_left(&w))
		return ERR_TRUNCATED;
	rd_end = w.pos + rdlen;
	/* The algorithm name must not be compressed (§4.2); dname_parse_wire
	 * would follow a pointer, so check the octets stay inside RDATA. */
	if ((r = dname_parse_wire_nocompress(&w, t->alg)) < 0)
		return r;
	t->alg_len = (size_t)r;
	dname_lower(t->alg);
	{
		uint32_t hi = wire_u16(&w);
		uint32_t lo = wire_u32(&w);
		t->time_signed = (uint64_t)hi << 32 | lo;
	}
	t->fudge = wire_u16(&w);
	t->mac_len = wire_u16(&w);
	if (w.err)
		return w.err;
	if (w.pos + t->mac_len > rd_end)
		return ERR_MALFORMED;
	wire_read(&w, t->mac, t->mac_len > TSIG_MAC_MAX ? TSIG_MAC_MAX : t->mac_len);
	if (t->mac_len > TSIG_MAC_MAX)
		wire_skip(&w, t->mac_len - TSIG_MAC_MAX);
	t->orig_id = wire_u16(&w);
	t->error = wire_u16(&w);
	t->other_len = wire_u16(&w);
	if (w.err)
		return w.err;
	if (w.pos + t->other_len != rd_end)
		return ERR_MALFORMED;
	wire_read(&w, t->other, t->other_len > TSIG_OTHER_MAX ? TSIG_OTHER_MAX : t->other_len);
	return w.err;
}

/* ------------------------------------------------------------------ */
/* Verifying */

static bool time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	uint64_t d = now > signed_at ? now - signed_at : signed_at - now;

	return d <= fudge;
}

/* The MAC checks shared by requests and replies: key and algorithm, MAC
 * length, MAC. Returns a TSIG error or a negative error. */
static int check_mac(const uint8_t *msg, const struct tsig_rr *t, const struct tsig_key *key,
		     const struct tsig_ctx *prior, bool full)
{
	struct digest_in d;
	uint8_t mac[TSIG_MAC_MAX];
	size_t mlen = 0, want, alen;
	const uint8_t *aw = alg_wire(key->alg, &alen);
	int r;

	if (t->alg_len != alen || memcmp(t->alg, aw, alen) != 0)
		return TSIG_BADKEY; /* §5.2.1: the key is not known with that algorithm */
	want = tsig_alg_mac_len(key->alg);
	/* §5.2.2.1: a MAC longer than the hash is FORMERR; a truncated one
	 * below 10 octets or half the hash is FORMERR too; any other
	 * truncation is against our policy (full MACs only): BADTRUNC. */
	if (t->mac_len > want)
		return ERR_MALFORMED;
	if (t->mac_len < TSIG_MAC_MIN_TRUNC || t->mac_len < want / 2)
		return t->mac_len == 0 ? TSIG_BADSIG : ERR_MALFORMED;
	if (t->mac_len < want)
		return TSIG_BADTRUNC;
	memset(&d, 0, sizeof(d));
	if (prior && prior->mac_len) {
		d.prior = prior->mac;
		d.prior_len = prior->mac_len;
	}
	d.msg = msg;
	d.msg_len = t->rr_off;
	d.id = t->orig_id;
	d.arcount = (uint16_t)(wire_get_u16(msg + 10) - 1);
	d.full = full;
	d.alg = aw;
	d.alg_len = alen;
	d.time = t->time_signed;
	d.fudge = t->fudge;
	d.error = t->error;
	d.other_len = t->other_len;
	d.other = t->other;
	if (t->other_len > TSIG_OTHER_MAX)
		return TSIG_BADSIG; /* we never see such data signed by us */
	if ((r = digest(key, &d, mac, &mlen)) < 0)
		return r;
	if (mlen != want || CRYPTO_memcmp(mac, t->mac, want) != 0)
		return TSIG_BADSIG;
	return TSIG_NOERROR;
}

int tsig_verify_request(const uint8_t *msg, size_t len, const struct tsig_rr *t,
			const struct tsig_keyring *kr, uint64_t now, struct tsig_ctx *ctx)
{
	const struct tsig_key *key;
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->orig_id = t->orig_id;
	ctx->req_time = t->time_signed;
	if (len < DNS_HEADER_LEN || t->rr_off > len || wire_get_u16(msg + 10) == 0)
		return ERR_MALFORMED;
	key = tsig_keyring_find(kr, t->key);
	if (key == NULL)
		return TSIG_BADKEY;
	r = check_mac(msg, t, key, NULL, true);
	if (r != TSIG_NOERROR)
		return r;
	ctx->key = key;
	memcpy(ctx->mac, t->mac, t->mac_len);
	ctx->mac_len = t->mac_len;
	if (!time_ok(now, t->time_signed, t->fudge))
		return TSIG_BADTIME;
	return TSIG_NOERROR;
}

int tsig_verify_reply(const uint8_t *msg, size_t len, struct tsig_ctx *ctx, uint64_t now)
{
	struct tsig_rr t;
	size_t off;
	int r;

	if (ctx->key == NULL)
		return ERR_INVALID;
	if ((r = tsig_find(msg, len, &off)) < 0)
		return r;
	if (r == 0)
		return ERR_NOTFOUND;
	if ((r = tsig_parse(msg, len, off, &t)) < 0)
		return r;
	if (!dname_equal(t.key, ctx->key->name))
		return TSIG_BADKEY;
	if (t.error != TSIG_NOERROR && t.mac_len == 0)
		return t.error; /* an unsigned error reply (BADKEY/BADSIG) */
	r = check_mac(msg, &t, ctx->key, ctx, ctx->nmsg == 0);
	if (r != TSIG_NOERROR)
		return r;
	if (t.error != TSIG_NOERROR)
		return t.error;
	if (!time_ok(now, t.time_signed, t.fudge))
		return TSIG_BADTIME;
	memcpy(ctx->mac, t.mac, t.mac_len);
	ctx->mac_len = t.mac_len;
	ctx->nmsg++;
	return TSIG_NOERROR;
}

/* ------------------------------------------------------------------ */
/* Signing */

size_t tsig_rr_size(const struct tsig_key *key, size_t other_len)
{
	size_t alen;

	(void)alg_wire(key->alg, &alen);
	return key->name_len + 10 + alen + TSIG_FIXED_RDATA + tsig_alg_mac_len(key->alg) +
	       other_len;
}

/* Writes a TSIG RR at msg+len (space checked by the caller). */
static size_t put_tsig(uint8_t *p, const uint8_t *owner, size_t owner_len, const uint8_t *alg,
		       size_t alg_len, uint64_t time, uint16_t fudge, const uint8_t *mac,
		       size_t mac_len, uint16_t orig_id, uint16_t error, const uint8_t *other,
		       uint16_t other_len)
{
	size_t o = 0, rdlen = alg_len + TSIG_FIXED_RDATA + mac_len + other_len;

	memcpy(p, owner, owner_len);
	o += owner_len;
	put16(p + o, RRTYPE_TSIG);
	put16(p + o + 2, RRCLASS_ANY);
	put32(p + o + 4, 0);
	put16(p + o + 8, (uint16_t)rdlen);
	o += 10;
	memcpy(p + o, alg, alg_len);
	o += alg_len;
	put16(p + o, (uint16_t)(time >> 32));
	put32(p + o + 2, (uint32_t)time);
	put16(p + o + 6, fudge);
	put16(p + o + 8, (uint16_t)mac_len);
	o += 10;
	if (mac_len)
		memcpy(p + o, mac, mac_len);
	o += mac_len;
	put16(p + o, orig_id);
	put16(p + o + 2, error);
	put16(p + o + 4, other_len);
	o += 6;
	if (other_len)
		memcpy(p + o, other, other_len);
	return o + other_len;
}

int tsig_sign(uint8_t *msg, size_t len, size_t cap, struct tsig_ctx *ctx, uint64_t now,
	      uint16_t error)
{
	struct digest_in d;
	uint8_t mac[TSIG_MAC_MAX], other[TSIG_OTHER_MAX];
	size_t mlen = 0, alen, need;
	const uint8_t *aw;
	uint16_t other_len = 0, arcount;
	uint64_t t = now;
	bool request = ctx->mac_len == 0;
	int r;

	if (ctx->key == NULL || len < DNS_HEADER_LEN)
		return ERR_INVALID;
	aw = alg_wire(ctx->key->alg, &alen);
	if (error == TSIG_BADTIME) {
		/* §5.2.3: the client's time signed, our time in other data */
		t = ctx->req_time;
		for (int i = 0; i < 6; i++)
			other[i] = (uint8_t)(now >> (40 - 8 * i));
		other_len = 6;
	}
	need = tsig_rr_size(ctx->key, other_len);
	if (len + need > cap || len + need > DNS_TCP_MAXSIZE)
		return ERR_SPACE;
	arcount = wire_get_u16(msg + 10);
	if (arcount == 0xffff)
		return ERR_SPACE;
	memset(&d, 0, sizeof(d));
	if (!request) {
		d.prior = ctx->mac;
		d.prior_len = ctx->mac_len;
	}
	d.msg = msg;
	d.msg_len = len;
	d.id = wire_get_u16(msg);
	d.arcount = arcount;
	d.full = request || ctx->nmsg == 0;
	d.alg = aw;
	d.alg_len = alen;
	d.time = t;
	d.fudge = TSIG_FUDGE;
	d.error = error;
	d.other_len = other_len;
	d.other = other;
	if ((r = digest(ctx->key, &d, mac, &mlen)) < 0)
		return r;
	put_tsig(msg + len, ctx->key->name, ctx->key->name_len, aw, alen, t, TSIG_FUDGE, mac, mlen,
		 wire_get_u16(msg), error, other, other_len);
	put16(msg + 10, (uint16_t)(arcount + 1));
	memcpy(ctx->mac, mac, mlen);
	ctx->mac_len = mlen;
	if (!request)
		ctx->nmsg++;
	return (int)(len + need);
}

size_t tsig_unsigned_size(const struct tsig_rr *req)
{
	return req->key_len + 10 + req->alg_len + TSIG_FIXED_RDATA;
}

int tsig_append_unsigned(uint8_t *msg, size_t len, size_t cap, const struct tsig_rr *req,
			 uint16_t error)
{
	size_t need = tsig_unsigned_size(req);
	uint16_t arcount;

	if (len < DNS_HEADER_LEN || len + need > cap)
		return ERR_SPACE;
	arcount = wire_get_u16(msg + 10);
	if (arcount == 0xffff)
		return ERR_SPACE;
	put_tsig(msg + len, req->key, req->key_len, req->alg, req->alg_len, req->time_signed,
		 req->fudge, NULL, 0, req->orig_id, error, NULL, 0);
	put16(msg + 10, (uint16_t)(arcount + 1));
	return (int)(len + need);
}
