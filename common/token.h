/*
 * token.h: mcpd bearer tokens. A token is "dnsmcp_" followed by 43
 * base64url characters (256 random bits from getrandom(2)); the database
 * keeps only its SHA-256 in hex.
 */
#ifndef TOKEN_H
#define TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_PREFIX	  "dnsmcp_"
#define TOKEN_LEN	  (7 + 43)
#define TOKEN_HASH_HEXLEN 64

/* Writes a new random token (TOKEN_LEN chars + NUL) to out. 0 or ERR_IO. */
int token_generate(char out[TOKEN_LEN + 1]);

/* Hex SHA-256 of the len bytes of token (+ NUL) into out. */
void token_hash_hex(const char *token, size_t len, char out[TOKEN_HASH_HEXLEN + 1]);

/* Constant-time equality of two NUL-terminated hex hashes. */
bool token_hash_equal(const char *a, const char *b);

/* Fills buf with len cryptographically random bytes (getrandom). 0 or ERR_IO. */
int token_random(void *buf, size_t len);

#endif
