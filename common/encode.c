/*
 * encode.c: hex and base64 for RDATA presentation (DS digests, SSHFP and
 * TLSA data, RFC 3597 generic data, DNSKEY keys, SVCB ech).
 *
 * Hex is printed uppercase (what Knot's kdig prints for DS and friends) and
 * read in either case. Base64 is the RFC 4648 §4 alphabet with mandatory
 * '=' padding; like BIND we refuse unpadded input rather than guess, so a
 * stored value always has exactly one spelling. Non-zero bits left over in
 * the last quantum are accepted (RFC 4648 §3.5 lets decoders choose); the
 * printed form then drops them, which keeps printing idempotent.
 */
#include "encode.h"

#include "err.h"

static const char hexdig[] = "0123456789ABCDEF";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Character value for base64 (0..63), 64 for '=', 255 for anything else.
 * Computed rather than table-driven so there is no lazy global to race on. */
static inline uint8_t b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (uint8_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (uint8_t)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return c == '=' ? 64 : 255;
}

static inline uint8_t hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0');
	c |= 0x20; /* ASCII lower case */
	if (c >= 'a' && c <= 'f')
		return (uint8_t)(c - 'a' + 10);
	return 255;
}

int encode_hex(const uint8_t *src, size_t n, char *dst, size_t cap)
{
	if (n > cap / 2)
		return ERR_SPACE;
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hexdig[src[i] >> 4];
		dst[2 * i + 1] = hexdig[src[i] & 15];
	}
	return (int)(2 * n);
}

int encode_base64(const uint8_t *src, size_t n, char *dst, size_t cap)
{
	size_t need = (n + 2) / 3 * 4, o = 0, i = 0;

	if (need > cap)
		return ERR_SPACE;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		dst[o++] = b64dig[v >> 18];
		dst[o++] = b64dig[(v >> 12) & 63];
		dst[o++] = b64dig[(v >> 6) & 63];
		dst[o++] = b64dig[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)src[i] << 16;
		dst[o++] = b64dig[v >> 18];
		dst[o++] = b64dig[(v >> 12) & 63];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		dst[o++] = b64dig[v >> 18];
		dst[o++] = b64dig[(v >> 12) & 63];
		dst[o++] = b64dig[(v >> 6) & 63];
		dst[o++] = '=';
	}
	return (int)o;
}

void encode_hex_init(struct encode_hex_state *st)
{
	st->half = -1;
}

void encode_b64_init(struct encode_b64_state *st)
{
	st->acc = 0;
	st->nchars = 0;
	st->npad = 0;
	st->finished = 0;
}

int encode_hex_decode(struct encode_hex_state *st, const char *s, size_t len, uint8_t *out,
		      size_t cap, size_t *outpos, size_t *bad)
{
	size_t o = *outpos;

	for (size_t i = 0; i < len; i++) {
		uint8_t v = hexval((uint8_t)s[i]);

		if (v == 255) {
			*bad = i;
			*outpos = o;
			return ERR_SYNTAX;
		}
		if (st->half < 0) {
			st->half = v;
			continue;
		}
		if (o >= cap) {
			*bad = i;
			*outpos = o;
			return ERR_SPACE;
		}
		out[o++] = (uint8_t)(st->half << 4 | v);
		st->half = -1;
	}
	*outpos = o;
	return 0;
}

int encode_hex_finish(const struct encode_hex_state *st)
{
	return st->half < 0 ? 0 : ERR_SYNTAX;
}

int encode_b64_decode(struct encode_b64_state *st, const char *s, size_t len, uint8_t *out,
		      size_t cap, size_t *outpos, size_t *bad)
{
	size_t o = *outpos;

	for (size_t i = 0; i < len; i++) {
		uint8_t v = b64val((uint8_t)s[i]);

		if (v == 255 || st->finished) {
			*bad = i;
			*outpos = o;
			return ERR_SYNTAX;
		}
		if (v == 64) {
			/* "xx==" or "xxx=": padding needs two data chars first. */
			if (st->nchars < 2) {
				*bad = i;
				*outpos = o;
				return ERR_SYNTAX;
			}
			st->npad++;
			if (st->nchars + st->npad == 4) {
				size_t nb = st->nchars - 1;

				if (o + nb > cap) {
					*bad = i;
					*outpos = o;
					return ERR_SPACE;
				}
				st->acc <<= 6 * st->npad;
				out[o++] = (uint8_t)(st->acc >> 16);
				if (nb == 2)
					out[o++] = (uint8_t)(st->acc >> 8);
				st->finished = 1;
			}
			continue;
		}
		if (st->npad) {
			/* data after '=' inside a quantum */
			*bad = i;
			*outpos = o;
			return ERR_SYNTAX;
		}
		st->acc = st->acc << 6 | v;
		if (++st->nchars == 4) {
			if (o + 3 > cap) {
				*bad = i;
				*outpos = o;
				return ERR_SPACE;
			}
			out[o++] = (uint8_t)(st->acc >> 16);
			out[o++] = (uint8_t)(st->acc >> 8);
			out[o++] = (uint8_t)st->acc;
			st->acc = 0;
			st->nchars = 0;
		}
	}
	*outpos = o;
	return 0;
}

int encode_b64_finish(const struct encode_b64_state *st)
{
	if (st->finished)
		return 0;
	return st->nchars == 0 && st->npad == 0 ? 0 : ERR_SYNTAX;
}
