/*
 * test_token.c: mcpd bearer tokens (common/token.c). What a user relies on:
 * every token looks like "dnsmcp_" + 43 base64url characters (so it can be
 * pasted into a header or a shell without quoting), no two tokens are ever
 * alike, the database keeps the SHA-256 of exactly the bytes the client
 * sends, and the comparison of stored hashes refuses anything that is not
 * a full 64-character hash.
 *
 * The hash vectors were computed outside this code base:
 *	printf %s TOKEN | sha256sum
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tap.h"
#include "token.h"

#define DRAWS 2000 /* tokens drawn for the uniqueness and alphabet checks */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int cmp_token(const void *x, const void *y)
{
	return strcmp((const char *)x, (const char *)y);
}

static void test_generate_format(void)
{
	char t[TOKEN_LEN + 1 + 8];
	size_t plen = strlen(TOKEN_PREFIX);
	size_t i;
	int bad = 0;

	is_int(TOKEN_LEN, 50, "TOKEN_LEN is the documented 7 + 43");
	is_str(TOKEN_PREFIX, "dnsmcp_", "prefix is dnsmcp_");

	/* Canary bytes past the NUL: token_generate must write exactly
	 * TOKEN_LEN + 1 bytes, no more. */
	memset(t, '#', sizeof(t));
	is_int(token_generate(t), 0, "token_generate succeeds");
	is_int(strlen(t), TOKEN_LEN, "token is %d characters long", TOKEN_LEN);
	ok(strncmp(t, TOKEN_PREFIX, plen) == 0, "token starts with %s: %s", TOKEN_PREFIX, t);
	for (i = plen; i < TOKEN_LEN; i++)
		if (t[i] == '\0' || strchr(b64url, t[i]) == NULL)
			bad++;
	is_int(bad, 0, "every character after the prefix is base64url");
	ok(t[TOKEN_LEN + 1] == '#' && t[TOKEN_LEN + 2] == '#',
	   "nothing written past the terminating NUL");
}

/* Many draws: all distinct, every base64url character used, no character
 * grossly over- or under-represented, and no position stuck. A generator
 * that reused bytes, masked with 31, or left a position constant fails. */
static void test_generate_many(void)
{
	char(*tok)[TOKEN_LEN + 1] = calloc(DRAWS, sizeof(*tok));
	size_t count[64] = {0};
	unsigned char seen[43][64];
	size_t plen = strlen(TOKEN_PREFIX), i, j, dups = 0, fails = 0, missing = 0, skewed = 0;
	size_t stuck = 0;
	double expect = (double)DRAWS * 43 / 64;

	if (!ok(tok != NULL, "allocate %d tokens", DRAWS))
		return;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < DRAWS; i++) {
		if (token_generate(tok[i]) != 0) {
			fails++;
			continue;
		}
		for (j = plen; j < TOKEN_LEN; j++) {
			const char *p = strchr(b64url, tok[i][j]);
			if (p == NULL || *p == '\0')
				continue;
			count[p - b64url]++;
			seen[j - plen][p - b64url] = 1;
		}
	}
	is_int(fails, 0, "%d calls of token_generate all succeed", DRAWS);
	qsort(tok, DRAWS, sizeof(*tok), cmp_token);
	for (i = 1; i < DRAWS; i++)
		if (strcmp(tok[i - 1], tok[i]) == 0)
			dups++;
	is_int(dups, 0, "%d tokens are pairwise distinct", DRAWS);
	for (i = 0; i < 64; i++) {
		if (count[i] == 0)
			missing++;
		/* expect ~1344 per character, sigma ~36: 0.5x..1.5x never
		 * trips by chance but catches any real bias */
		if (count[i] < expect * 0.5 || count[i] > expect * 1.5)
			skewed++;
	}
	is_int(missing, 0, "all 64 base64url characters occur");
	is_int(skewed, 0, "no character is over- or under-represented");
	for (j = 0; j < 43; j++) {
		size_t distinct = 0;
		for (i = 0; i < 64; i++)
			distinct += seen[j][i];
		if (distinct < 32)
			stuck++;
	}
	is_int(stuck, 0, "every one of the 43 positions varies between tokens");
	free(tok);
}

static void test_hash_vectors(void)
{
	char out[TOKEN_HASH_HEXLEN + 1 + 4];
	const char *tok = "dnsmcp_Zq3-x_9Lr0AbCdEfGhIjKlMnOpQrStUvWxYz0123456";

	memset(out, 'X', sizeof(out));
	token_hash_hex(tok, strlen(tok), out);
	is_str(out, "831d19b9dba386eb8f3c0fa710710b2ea6b85e04bbc5865fc2f158f9cfb1cf9f",
	       "SHA-256 of a token matches sha256sum");
	is_int(strlen(out), TOKEN_HASH_HEXLEN, "hash is 64 hex characters, NUL-terminated");
	ok(out[TOKEN_HASH_HEXLEN + 1] == 'X', "nothing written past the hash's NUL");

	/* len is honoured: only the first len bytes are hashed */
	token_hash_hex(tok, strlen(tok) - 1, out);
	is_str(out, "6f5d656f576de09f0513a77b87eeda74b15fac74bc1228255b7ea562d84c03f1",
	       "len one short hashes the token without its last character");
	token_hash_hex("abcdef", 3, out);
	is_str(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "FIPS 180-2 'abc' vector, bytes past len ignored");
	token_hash_hex("", 0, out);
	is_str(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "empty input");
	token_hash_hex("dnsmcp_", 7, out);
	is_str(out, "5512e945d5a01706511a9857c982abba4ed547eebf548e38dabf5ff37d7e0ae2",
	       "the bare prefix");
	/* a NUL inside the bytes is hashed, not a terminator */
	token_hash_hex("a\0b", 3, out);
	is_str(out, "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138",
	       "an embedded NUL is part of the hashed bytes");
}

/* A fresh token hashes to lower-case hex that compares equal to itself. */
static void test_hash_of_generated(void)
{
	char t[TOKEN_LEN + 1], h1[TOKEN_HASH_HEXLEN + 1], h2[TOKEN_HASH_HEXLEN + 1];
	size_t i;
	int bad = 0;

	if (!ok(token_generate(t) == 0, "generate a token to hash"))
		return;
	token_hash_hex(t, TOKEN_LEN, h1);
	token_hash_hex(t, TOKEN_LEN, h2);
	is_str(h1, h2, "hashing is deterministic");
	for (i = 0; i < TOKEN_HASH_HEXLEN; i++)
		if (strchr("0123456789abcdef", h1[i]) == NULL || h1[i] == '\0')
			bad++;
	is_int(bad, 0, "hash is lower-case hex");
	ok(token_hash_equal(h1, h2), "token_hash_equal accepts the same hash");
}

static void test_hash_equal(void)
{
	const char *h = "831d19b9dba386eb8f3c0fa710710b2ea6b85e04bbc5865fc2f158f9cfb1cf9f";
	char other[TOKEN_HASH_HEXLEN + 2], s63[TOKEN_HASH_HEXLEN], s65[TOKEN_HASH_HEXLEN + 2];
	size_t i;
	int wrong = 0;

	ok(token_hash_equal(h, h), "a hash equals itself");
	/* one differing character anywhere, first to last, must be noticed */
	for (i = 0; i < TOKEN_HASH_HEXLEN; i++) {
		memcpy(other, h, TOKEN_HASH_HEXLEN + 1);
		other[i] = other[i] == '0' ? '1' : '0';
		if (token_hash_equal(h, other) || token_hash_equal(other, h))
			wrong++;
	}
	is_int(wrong, 0, "a hash differing in any single one of 64 positions is unequal");

	/* lengths at N-1, N and N+1 */
	memcpy(s63, h, 63);
	s63[63] = '\0';
	memcpy(s65, h, 64);
	s65[64] = 'f';
	s65[65] = '\0';
	ok(!token_hash_equal(h, s63), "64 vs 63 characters (a prefix) is unequal");
	ok(!token_hash_equal(s63, h), "63 vs 64 characters is unequal");
	ok(!token_hash_equal(s63, s63), "two identical 63-character strings are refused");
	ok(!token_hash_equal(h, s65), "64 vs 65 characters (an extension) is unequal");
	ok(!token_hash_equal(s65, s65), "two identical 65-character strings are refused");
	ok(!token_hash_equal(s65, h), "65 vs 64 characters is unequal");
	ok(!token_hash_equal("", ""), "two empty strings are refused");
	ok(!token_hash_equal(h, ""), "a hash vs the empty string is unequal");
}

static void test_random(void)
{
	uint8_t a[64], b[64];
	size_t i, zero = 0;

	is_int(token_random(a, 0), 0, "token_random of 0 bytes succeeds");
	is_int(token_random(a, sizeof(a)), 0, "token_random of 64 bytes succeeds");
	is_int(token_random(b, sizeof(b)), 0, "again");
	ok(memcmp(a, b, sizeof(a)) != 0, "two draws differ");
	for (i = 0; i < sizeof(a); i++)
		zero += a[i] == 0;
	ok(zero < 16, "the buffer is filled, not left zero (%zu zero bytes)", zero);
}

int main(void)
{
	test_generate_format();
	test_generate_many();
	test_hash_vectors();
	test_hash_of_generated();
	test_hash_equal();
	test_random();
	return done_testing();
}
