/*
 * encode.h: base16 (hex) and base64 (RFC 4648) between bytes and text.
 *
 * Encoders write exactly the encoded characters (no NUL) into a caller
 * buffer. Decoders are incremental so that a value split over several
 * presentation tokens ("AwEAAb... AwEAAc...", RFC 4034 §2.2 allows blanks
 * inside the key) can be fed one token at a time into one state; call the
 * matching _finish() after the last token to check the value ended on a
 * whole byte (hex) or a whole, correctly padded quantum (base64).
 *
 * No allocation anywhere; all lengths are checked against the caller's cap.
 */
#ifndef ENCODE_H
#define ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*n uppercase hex digits; returns 2*n or ERR_SPACE. */
int encode_hex(const uint8_t *src, size_t n, char *dst, size_t cap);

/* Writes the padded base64 of src (4*ceil(n/3) chars, no line breaks);
 * returns that length or ERR_SPACE. */
int encode_base64(const uint8_t *src, size_t n, char *dst, size_t cap);

/* Incremental hex decoder state; zero-initialise or call encode_hex_init. */
struct encode_hex_state {
	int half; /* -1, or the value of a pending high nibble */
};

/* Incremental base64 decoder state. */
struct encode_b64_state {
	uint32_t acc;	   /* bits of the current quantum */
	unsigned nchars;   /* data characters in the current quantum (0..3) */
	unsigned npad;	   /* '=' seen in the current quantum */
	unsigned finished; /* a padded quantum ended the data */
};

void encode_hex_init(struct encode_hex_state *st);
void encode_b64_init(struct encode_b64_state *st);

/*
 * Decodes len characters of s, appending bytes at out[*outpos] (out has cap
 * bytes) and advancing *outpos. Returns 0, ERR_SYNTAX (a character that is
 * not part of the alphabet, or base64 padding in the wrong place; *bad is
 * then its index in s) or ERR_SPACE (more than cap bytes). Case-insensitive
 * for hex. Blanks are not skipped: feed tokens, not raw lines.
 */
int encode_hex_decode(struct encode_hex_state *st, const char *s, size_t len, uint8_t *out,
		      size_t cap, size_t *outpos, size_t *bad);
int encode_b64_decode(struct encode_b64_state *st, const char *s, size_t len, uint8_t *out,
		      size_t cap, size_t *outpos, size_t *bad);

/* 0 when the decoded value ended cleanly; ERR_SYNTAX for an odd number of
 * hex digits or an incomplete base64 quantum. */
int encode_hex_finish(const struct encode_hex_state *st);
int encode_b64_finish(const struct encode_b64_state *st);

#endif
