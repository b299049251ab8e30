/*
 * test_wire.c: the bounds-checked cursors of wire.h. Every read and write is
 * tried with exactly the bytes it needs (N) and one short (N+1 needed), and
 * the error must stick: once set, nothing reads, moves or writes.
 */
#include <stdint.h>

#include "tap.h"
#include "wire.h"

static const uint8_t data[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

static void test_reads_at_limit(void)
{
	struct wire w;
	uint8_t buf[8];

	/* u8: 1 byte available is enough, 0 is not. */
	wire_init(&w, data, 1);
	is_int(wire_left(&w), 1, "left is len after init");
	is_int(wire_u8(&w), 0x01, "u8 with exactly 1 byte");
	is_int(w.err, 0, "no error");
	is_int(wire_left(&w), 0, "nothing left");
	is_int(wire_u8(&w), 0, "u8 past the end returns 0");
	is_int(w.err, ERR_TRUNCATED, "u8 past the end: ERR_TRUNCATED");
	is_int(w.pos, 1, "pos unchanged by a failed read");

	/* u16: 2 bytes ok, 1 byte fails without reading the one byte. */
	wire_init(&w, data, 2);
	is_int(wire_u16(&w), 0x0102, "u16 big-endian with exactly 2 bytes");
	is_int(w.err, 0, "u16 at N: no error");
	wire_init(&w, data, 1);
	is_int(wire_u16(&w), 0, "u16 with 1 byte returns 0");
	is_int(w.err, ERR_TRUNCATED, "u16 at N-1: ERR_TRUNCATED");
	is_int(w.pos, 0, "u16 at N-1: pos unchanged");

	/* u32 */
	wire_init(&w, data, 4);
	is_int(wire_u32(&w), 0x01020304, "u32 big-endian with exactly 4 bytes");
	is_int(w.err, 0, "u32 at N: no error");
	wire_init(&w, data, 3);
	is_int(wire_u32(&w), 0, "u32 with 3 bytes returns 0");
	is_int(w.err, ERR_TRUNCATED, "u32 at N-1: ERR_TRUNCATED");

	/* high bit must not sign-extend */
	{
		static const uint8_t hi[4] = {0xff, 0xfe, 0x80, 0x01};

		wire_init(&w, hi, 4);
		is_int(wire_u16(&w), 0xfffe, "u16 0xfffe unsigned");
		wire_init(&w, hi, 4);
		ok(wire_u32(&w) == 0xfffe8001u, "u32 0xfffe8001 unsigned");
		is_int(wire_get_u16(hi), 0xfffe, "wire_get_u16");
		ok(wire_get_u32(hi) == 0xfffe8001u, "wire_get_u32");
	}

	/* read n at N and N+1 */
	memset(buf, 0xaa, sizeof(buf));
	wire_init(&w, data, 8);
	wire_skip(&w, 3);
	wire_read(&w, buf, 5);
	is_int(w.err, 0, "read of exactly the 5 bytes left");
	is_mem(buf, data + 3, 5, "read copied the right bytes");
	is_int(w.pos, 8, "pos at end");

	memset(buf, 0xaa, sizeof(buf));
	wire_init(&w, data, 8);
	wire_skip(&w, 3);
	wire_read(&w, buf, 6);
	is_int(w.err, ERR_TRUNCATED, "read of 6 with 5 left fails");
	ok(buf[0] == 0xaa && buf[5] == 0xaa, "failed read leaves dst untouched");
	is_int(w.pos, 3, "failed read leaves pos");

	/* take: returns a pointer into the data, NULL one past. */
	wire_init(&w, data, 8);
	ok(wire_take(&w, 8) == data, "take of the whole message");
	ok(wire_take(&w, 0) == data + 8, "take 0 at the end is fine...");
	is_int(w.err, 0, "...and sets no error");
	wire_init(&w, data, 8);
	ok(wire_take(&w, 9) == NULL, "take of len+1 is NULL");
	is_int(w.err, ERR_TRUNCATED, "take of len+1: ERR_TRUNCATED");

	/* A huge n must not wrap pos + n around. */
	wire_init(&w, data, 8);
	wire_skip(&w, 1);
	ok(wire_take(&w, SIZE_MAX) == NULL, "take SIZE_MAX is NULL (no wrap)");
	is_int(w.pos, 1, "take SIZE_MAX leaves pos");
	wire_init(&w, data, 8);
	wire_skip(&w, SIZE_MAX - 2);
	is_int(w.err, ERR_TRUNCATED, "skip SIZE_MAX-2 fails");
}

static void test_sticky(void)
{
	struct wire w;
	uint8_t buf[2] = {0x55, 0x55};

	wire_init(&w, data, 8);
	wire_skip(&w, 9);
	is_int(w.err, ERR_TRUNCATED, "skip past end sets the error");
	is_int(wire_left(&w), 0, "left is 0 once in error");
	is_int(wire_u8(&w), 0, "u8 after error returns 0 although bytes remain");
	is_int(wire_u16(&w), 0, "u16 after error returns 0");
	ok(wire_u32(&w) == 0, "u32 after error returns 0");
	wire_read(&w, buf, 1);
	is_int(buf[0], 0x55, "read after error copies nothing");
	ok(wire_take(&w, 1) == NULL, "take after error is NULL");
	wire_seek(&w, 0);
	is_int(w.pos, 0, "pos still 0");
	wire_fail(&w, ERR_MALFORMED);
	is_int(w.err, ERR_TRUNCATED, "the first error is kept");

	/* seek: to len is allowed (empty rest), len+1 is not */
	wire_init(&w, data, 8);
	wire_seek(&w, 8);
	is_int(w.err, 0, "seek to len ok");
	is_int(w.pos, 8, "seek to len moves");
	wire_seek(&w, 9);
	is_int(w.err, ERR_TRUNCATED, "seek to len+1 fails");
	is_int(w.pos, 8, "failed seek leaves pos");
	wire_seek(&w, 2);
	is_int(w.pos, 8, "seek after error is a no-op");

	wire_init(&w, data, 8);
	wire_seek(&w, 6);
	is_int(wire_u16(&w), 0x0708, "read after seek");
}

static void test_wbuf(void)
{
	uint8_t out[8];
	struct wbuf b;

	memset(out, 0xee, sizeof(out));
	wbuf_init(&b, out, 4);
	wbuf_u32(&b, 0xdeadbeef);
	is_int(b.err, 0, "u32 into exactly 4 bytes");
	is_int(b.pos, 4, "pos 4");
	is_mem(out, "\xde\xad\xbe\xef", 4, "u32 big-endian");
	wbuf_u8(&b, 1);
	is_int(b.err, ERR_SPACE, "u8 into a full buffer: ERR_SPACE");
	is_int(out[4], 0xee, "nothing written past cap");
	is_int(b.pos, 4, "pos unchanged");

	memset(out, 0xee, sizeof(out));
	wbuf_init(&b, out, 3);
	wbuf_u16(&b, 0x0102);
	wbuf_u16(&b, 0x0304); /* needs 2, has 1 */
	is_int(b.err, ERR_SPACE, "u16 with 1 byte free fails");
	is_int(out[2], 0xee, "a failed u16 writes no partial byte");
	is_int(b.pos, 2, "pos after failed u16");
	wbuf_u8(&b, 9); /* would fit, but the error is sticky */
	is_int(out[2], 0xee, "sticky: u8 after error writes nothing");
	is_int(b.pos, 2, "sticky: pos unchanged");

	wbuf_init(&b, out, 8);
	ok(wbuf_reserve(&b, 8) == out, "reserve exactly cap");
	wbuf_init(&b, out, 8);
	ok(wbuf_reserve(&b, 9) == NULL, "reserve cap+1 fails");
	wbuf_init(&b, out, 8);
	wbuf_u8(&b, 0);
	ok(wbuf_reserve(&b, SIZE_MAX) == NULL, "reserve SIZE_MAX fails (no wrap)");

	wbuf_init(&b, out, 8);
	wbuf_write(&b, NULL, 0);
	is_int(b.err, 0, "write of 0 bytes with NULL is fine");
	wbuf_write(&b, "abcdefgh", 8);
	is_int(b.err, 0, "write of exactly cap");
	is_mem(out, "abcdefgh", 8, "write copied");

	/* put_u16_at patches only what was written. */
	wbuf_init(&b, out, 8);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_put_u16_at(&b, 2, 0xabcd);
	is_mem(out + 2, "\xab\xcd", 2, "put_u16_at inside written bytes");
	out[4] = 0x11;
	wbuf_put_u16_at(&b, 3, 0x2233); /* off + 2 = 5 > pos 4 */
	is_int(out[3], 0xcd, "put_u16_at past pos is ignored");
	is_int(out[4], 0x11, "put_u16_at past pos writes nothing");
	b.err = ERR_SPACE;
	wbuf_put_u16_at(&b, 0, 0xffff);
	is_int(out[0], 0, "put_u16_at after error is ignored");
}

int main(void)
{
	test_reads_at_limit();
	test_sticky();
	test_wbuf();
	return done_testing();
}
