/*
 * dname.c: domain names between wire form, compressed wire form and
 * presentation form.
 *
 * Wire parsing follows RFC 1035 §4.1.4 with the loop guard Knot uses: a
 * compression pointer must point strictly before the start of the label
 * sequence that contains it. Each jump therefore moves to a lower offset, so
 * any walk ends after at most len jumps, and no visited-set is needed.
 * Labels of type 0x40 (extended, RFC 6891 §5 deprecated) and 0x80 (reserved)
 * are malformed. The uncompressed result may not exceed 255 octets and no
 * label 63 (RFC 1035 §2.3.4).
 *
 * Presentation form (RFC 1035 §5.1, RFC 4343): "\X" escapes X, "\DDD" is the
 * octet DDD (0..255). Printing escapes the characters that have meaning in
 * master files and every octet outside printable ASCII, so
 * parse(print(name)) == name for every name.
 */
#include <ctype.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "wire.h"

/* ASCII-only case folding (RFC 4343 §3): a compare and an add, no table. */
static inline uint8_t fold(uint8_t c)
{
	return (uint8_t)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

static int parse_wire(struct wire *w, uint8_t out[DNAME_MAXLEN], int allow_compress)
{
	const uint8_t *base = w->base;
	size_t len = w->len;
	size_t pos, seq_start, end = 0;
	size_t n = 0;
	int jumped = 0;

	if (w->err)
		return w->err;
	pos = w->pos;
	seq_start = pos;
	for (;;) {
		uint8_t c;

		if (pos >= len)
			goto truncated;
		c = base[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (!allow_compress)
				goto badptr;
			if (pos + 1 >= len)
				goto truncated;
			target = (size_t)(c & 0x3f) << 8 | base[pos + 1];
			/* Strictly before the label sequence holding this
			 * pointer: guarantees termination (no loops). */
			if (target >= seq_start)
				goto badptr;
			if (!jumped) {
				end = pos + 2;
				jumped = 1;
			}
			pos = target;
			seq_start = target;
			continue;
		}
		if (c & 0xc0) {
			wire_fail(w, ERR_MALFORMED);
			return ERR_MALFORMED;
		}
		if (n + 1 + c > DNAME_MAXLEN) {
			wire_fail(w, ERR_NAME_TOO_LONG);
			return ERR_NAME_TOO_LONG;
		}
		if (c == 0) {
			out[n++] = 0;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + c > len)
			goto truncated;
		memcpy(out + n, base + pos, (size_t)c + 1);
		n += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
	w->pos = end;
	return (int)n;
truncated:
	wire_fail(w, ERR_TRUNCATED);
	return ERR_TRUNCATED;
badptr:
	wire_fail(w, ERR_BAD_POINTER);
	return ERR_BAD_POINTER;
}

int dname_parse_wire(struct wire *w, uint8_t out[DNAME_MAXLEN])
{
	return parse_wire(w, out, 1);
}

int dname_parse_wire_nocompress(struct wire *w, uint8_t out[DNAME_MAXLEN])
{
	return parse_wire(w, out, 0);
}

int dname_check(const uint8_t *name, size_t len)
{
	size_t n = 0;

	for (;;) {
		uint8_t c;

		if (n >= len)
			return ERR_TRUNCATED;
		c = name[n];
		if (c & 0xc0)
			return ERR_MALFORMED;
		if (n + 1 + c > DNAME_MAXLEN)
			return ERR_NAME_TOO_LONG;
		if (c == 0)
			return (int)n + 1;
		if (n + 1 + c > len)
			return ERR_TRUNCATED;
		n += (size_t)c + 1;
	}
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int dname_parse_text(const char *s, size_t len, const uint8_t *origin, uint8_t out[DNAME_MAXLEN])
{
	size_t n = 0;	/* bytes written to out */
	size_t lab = 0; /* offset of the current label's length octet */
	size_t i = 0;
	int absolute = 0;

	if (len == 0)
		return ERR_SYNTAX;
	if (len == 1 && s[0] == '@') {
		if (origin == NULL)
			return ERR_RELATIVE_NAME;
		return (int)dname_copy(out, origin);
	}
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}
	out[0] = 0;
	n = 1;
	while (i < len) {
		uint8_t ch;

		if (s[i] == '.') {
			/* An empty label ("a..b", ".a") is an error. */
			if (n - lab - 1 == 0)
				return ERR_SYNTAX;
			i++;
			if (i == len) {
				absolute = 1;
				break;
			}
			lab = n;
			if (n >= DNAME_MAXLEN)
				return ERR_NAME_TOO_LONG;
			out[n++] = 0;
			continue;
		}
		if (s[i] == '\\') {
			if (i + 1 >= len)
				return ERR_SYNTAX;
			if (is_digit(s[i + 1])) {
				unsigned v;

				if (i + 3 >= len || !is_digit(s[i + 2]) || !is_digit(s[i + 3]))
					return ERR_SYNTAX;
				v = (unsigned)(s[i + 1] - '0') * 100 +
				    (unsigned)(s[i + 2] - '0') * 10 + (unsigned)(s[i + 3] - '0');
				if (v > 255)
					return ERR_SYNTAX;
				ch = (uint8_t)v;
				i += 4;
			} else {
				ch = (uint8_t)s[i + 1];
				i += 2;
			}
		} else {
			ch = (uint8_t)s[i];
			/* Blanks and controls cannot appear unescaped. */
			if (ch <= ' ' || ch == 0x7f)
				return ERR_SYNTAX;
			i++;
		}
		if (n - lab - 1 >= DNAME_LABEL_MAXLEN)
			return ERR_LABEL_TOO_LONG;
		if (n >= DNAME_MAXLEN - 1)
			return ERR_NAME_TOO_LONG;
		out[n++] = ch;
		out[lab]++;
	}
	if (!absolute) {
		size_t olen;

		if (origin == NULL)
			return ERR_RELATIVE_NAME;
		olen = dname_len(origin);
		if (n + olen > DNAME_MAXLEN)
			return ERR_NAME_TOO_LONG;
		memcpy(out + n, origin, olen);
		return (int)(n + olen);
	}
	if (n + 1 > DNAME_MAXLEN)
		return ERR_NAME_TOO_LONG;
	out[n++] = 0;
	return (int)n;
}

int dname_print(const uint8_t *name, char *buf, size_t cap)
{
	size_t o = 0;
	const uint8_t *p = name;

	if (cap == 0)
		return ERR_SPACE;
	if (*p == 0) {
		if (cap < 2)
			return ERR_SPACE;
		buf[0] = '.';
		buf[1] = '\0';
		return 1;
	}
	while (*p) {
		uint8_t l = *p++;

		for (uint8_t k = 0; k < l; k++) {
			uint8_t c = p[k];

			if (c <= ' ' || c >= 0x7f) {
				if (o + 4 >= cap)
					return ERR_SPACE;
				buf[o++] = '\\';
				buf[o++] = (char)('0' + c / 100);
				buf[o++] = (char)('0' + c / 10 % 10);
				buf[o++] = (char)('0' + c % 10);
			} else if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
				   c == ';' || c == '@' || c == '$') {
				if (o + 2 >= cap)
					return ERR_SPACE;
				buf[o++] = '\\';
				buf[o++] = (char)c;
			} else {
				if (o + 1 >= cap)
					return ERR_SPACE;
				buf[o++] = (char)c;
			}
		}
		p += l;
		if (o + 1 >= cap)
			return ERR_SPACE;
		buf[o++] = '.';
	}
	buf[o] = '\0';
	return (int)o;
}

size_t dname_len(const uint8_t *name)
{
	const uint8_t *p = name;

	while (*p)
		p += *p + 1;
	return (size_t)(p - name) + 1;
}

int dname_labels(const uint8_t *name)
{
	int n = 0;

	while (*name) {
		name += *name + 1;
		n++;
	}
	return n;
}

void dname_lower(uint8_t *name)
{
	while (*name) {
		uint8_t l = *name++;

		for (uint8_t k = 0; k < l; k++)
			name[k] = fold(name[k]);
		name += l;
	}
}

size_t dname_copy(uint8_t *dst, const uint8_t *src)
{
	size_t n = dname_len(src);

	memmove(dst, src, n);
	return n;
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		uint8_t la = *a, lb = *b;

		if (la != lb)
			return false;
		if (la == 0)
			return true;
		a++;
		b++;
		for (uint8_t k = 0; k < la; k++)
			if (fold(a[k]) != fold(b[k]))
				return false;
		a += la;
		b += la;
	}
}

/* Offsets of each label of name, root excluded; returns the count. */
static int label_offsets(const uint8_t *name, uint8_t offs[DNAME_MAXLABELS])
{
	int n = 0;
	const uint8_t *p = name;

	while (*p && n < DNAME_MAXLABELS) {
		offs[n++] = (uint8_t)(p - name);
		p += *p + 1;
	}
	return n;
}

int dname_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNAME_MAXLABELS], ob[DNAME_MAXLABELS];
	int na = label_offsets(a, oa), nb = label_offsets(b, ob);

	/* RFC 4034 §6.1: compare label by label from the rightmost, each
	 * label as a case-folded octet string; a name that runs out of
	 * labels first sorts first. */
	while (na > 0 && nb > 0) {
		const uint8_t *la = a + oa[--na], *lb = b + ob[--nb];
		uint8_t ca = la[0], cb = lb[0];
		uint8_t m = ca < cb ? ca : cb;

		for (uint8_t k = 1; k <= m; k++) {
			uint8_t x = fold(la[k]), y = fold(lb[k]);

			if (x != y)
				return x < y ? -1 : 1;
		}
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return na == nb ? 0 : (na < nb ? -1 : 1);
}

bool dname_is_subdomain(const uint8_t *name, const uint8_t *zone)
{
	int nl = dname_labels(name), zl = dname_labels(zone);

	if (nl < zl)
		return false;
	while (nl-- > zl)
		name += *name + 1;
	return dname_equal(name, zone);
}

const uint8_t *dname_parent(const uint8_t *name)
{
	if (*name == 0)
		return NULL;
	return name + *name + 1;
}

bool dname_is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}
