/*
 * token.c: token generation and hashing. libcrypto provides SHA-256 and the
 * constant-time comparison; getrandom(2) the randomness.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"
#include "token.h"

int token_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int token_generate(char out[TOKEN_LEN + 1])
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[43];
	size_t plen = strlen(TOKEN_PREFIX);

	/* 43 characters of 6 bits each: 258 bits; one random byte per char,
	 * reduced with & 63, keeps the distribution uniform. */
	if (token_random(rnd, sizeof(rnd)) < 0)
		return ERR_IO;
	memcpy(out, TOKEN_PREFIX, plen);
	for (size_t i = 0; i < sizeof(rnd); i++)
		out[plen + i] = b64url[rnd[i] & 63];
	out[plen + sizeof(rnd)] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

void token_hash_hex(const char *token, size_t len, char out[TOKEN_HASH_HEXLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(token, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[TOKEN_HASH_HEXLEN] = '\0';
}

bool token_hash_equal(const char *a, const char *b)
{
	if (strlen(a) != TOKEN_HASH_HEXLEN || strlen(b) != TOKEN_HASH_HEXLEN)
		return false;
	return CRYPTO_memcmp(a, b, TOKEN_HASH_HEXLEN) == 0;
}
