/*
 * wire.h: bounds-checked cursors over packet bytes, with a sticky error.
 *
 * Every packet byte in this project is read through struct wire and written
 * through struct wbuf. Reads past the end do not touch memory: they return
 * zero and set err (ERR_TRUNCATED); writes past the capacity set err
 * (ERR_SPACE). Once err is set it stays set and every later call is a no-op,
 * so a parser checks it once per section instead of after every field
 * (the idea of Knot's wire_ctx). The checks are real code in every build,
 * never asserts.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

/* Reader. base/len describe the whole message (compression pointers may
 * point anywhere before pos); pos is the next byte to read. */
struct wire {
	const uint8_t *base; /* start of the message */
	size_t len;	     /* message length */
	size_t pos;	     /* read position, always <= len */
	int err;	     /* 0 or the first error (negative enum err) */
};

static inline void wire_init(struct wire *w, const uint8_t *base, size_t len)
{
	w->base = base;
	w->len = len;
	w->pos = 0;
	w->err = 0;
}

static inline size_t wire_left(const struct wire *w)
{
	return w->err ? 0 : w->len - w->pos;
}

static inline void wire_fail(struct wire *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

/* Returns a pointer to the next n bytes and advances, or NULL (and err). */
static inline const uint8_t *wire_take(struct wire *w, size_t n)
{
	const uint8_t *p;

	if (w->err || n > w->len - w->pos) {
		wire_fail(w, ERR_TRUNCATED);
		return NULL;
	}
	p = w->base + w->pos;
	w->pos += n;
	return p;
}

static inline uint8_t wire_u8(struct wire *w)
{
	const uint8_t *p = wire_take(w, 1);
	return p ? p[0] : 0;
}

static inline uint16_t wire_u16(struct wire *w)
{
	const uint8_t *p = wire_take(w, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t wire_u32(struct wire *w)
{
	const uint8_t *p = wire_take(w, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline void wire_read(struct wire *w, void *dst, size_t n)
{
	const uint8_t *p = wire_take(w, n);
	if (p)
		memcpy(dst, p, n);
}

static inline void wire_skip(struct wire *w, size_t n)
{
	(void)wire_take(w, n);
}

/* Moves the read position to off (<= len), e.g. to follow a pointer. */
static inline void wire_seek(struct wire *w, size_t off)
{
	if (w->err)
		return;
	if (off > w->len)
		wire_fail(w, ERR_TRUNCATED);
	else
		w->pos = off;
}

/* Writer into a caller-owned buffer of cap bytes. */
struct wbuf {
	uint8_t *base; /* start of the buffer (owned by the caller) */
	size_t cap;    /* capacity in bytes */
	size_t pos;    /* bytes written so far */
	int err;       /* 0 or the first error (ERR_SPACE) */
};

static inline void wbuf_init(struct wbuf *b, uint8_t *base, size_t cap)
{
	b->base = base;
	b->cap = cap;
	b->pos = 0;
	b->err = 0;
}

/* Reserves n bytes and returns them, or NULL (and err = ERR_SPACE). */
static inline uint8_t *wbuf_reserve(struct wbuf *b, size_t n)
{
	uint8_t *p;

	if (b->err || n > b->cap - b->pos) {
		if (b->err == 0)
			b->err = ERR_SPACE;
		return NULL;
	}
	p = b->base + b->pos;
	b->pos += n;
	return p;
}

static inline void wbuf_u8(struct wbuf *b, uint8_t v)
{
	uint8_t *p = wbuf_reserve(b, 1);
	if (p)
		p[0] = v;
}

static inline void wbuf_u16(struct wbuf *b, uint16_t v)
{
	uint8_t *p = wbuf_reserve(b, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void wbuf_u32(struct wbuf *b, uint32_t v)
{
	uint8_t *p = wbuf_reserve(b, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void wbuf_write(struct wbuf *b, const void *src, size_t n)
{
	uint8_t *p = wbuf_reserve(b, n);
	if (p && n)
		memcpy(p, src, n);
}

/* Overwrites a big-endian u16 at an offset already written (e.g. RDLENGTH). */
static inline void wbuf_put_u16_at(struct wbuf *b, size_t off, uint16_t v)
{
	if (b->err == 0 && off + 2 <= b->pos) {
		b->base[off] = (uint8_t)(v >> 8);
		b->base[off + 1] = (uint8_t)v;
	}
}

/* Reads a big-endian u16/u32 from a buffer the caller has bounds-checked. */
static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
