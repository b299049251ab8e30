/*
 * tsig.h: TSIG (RFC 8945), secret-key transaction authentication, with
 * HMAC-SHA256 and HMAC-SHA512 from libcrypto (EVP_MAC): keys and key files,
 * verifying a signed request, signing responses (single messages and the
 * multi-message form of zone transfers, §5.3.1), signing requests (NOTIFY
 * out) and verifying their replies.
 *
 * Keys. A key file holds one key per line, "name algorithm base64secret"
 * ("xfr-key hmac-sha256 c2VjcmV0..."), '#' comments and blank lines
 * ignored. Names are domain names (a missing trailing dot is added) and are
 * compared case-insensitively. A key file readable by group or others is
 * refused: whoever reads the secret can sign transfers and NOTIFYs.
 *
 * Exchange state. struct tsig_ctx follows one exchange: after a request is
 * verified it holds the key and the request MAC, and every response signed
 * through it chains on the previous MAC (§5.3.1: the first response covers
 * the request MAC, the message and all TSIG variables; each later one the
 * previous MAC, the message and the timers only). The same context signs a
 * request we send and then verifies its reply (§5.3.2 from the other side).
 *
 * Ownership: a keyring owns its keys; contexts point at keys and must not
 * outlive the keyring. Nothing here keeps global state except the HMAC
 * implementations fetched once from libcrypto (thread-safe).
 */
#ifndef TSIG_H
#define TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

#define TSIG_MAC_MAX	   64  /* HMAC-SHA512 output */
#define TSIG_SECRET_MAX	   512 /* octets of a decoded secret */
#define TSIG_FUDGE	   300 /* seconds; RFC 8945 §10 recommends 300 */
#define TSIG_KEYS_MAX	   1024
#define TSIG_OTHER_MAX	   6  /* only BADTIME responses carry other data */
#define TSIG_MAC_MIN_TRUNC 10 /* §5.2.2.1: never accept a MAC shorter than this */

/* TSIG error field values (RFC 8945 §3, IANA DNS RCODEs). */
enum tsig_error {
	TSIG_NOERROR = 0,
	TSIG_BADSIG = 16,
	TSIG_BADKEY = 17,
	TSIG_BADTIME = 18,
	TSIG_BADTRUNC = 22,
};

enum tsig_alg {
	TSIG_ALG_NONE = 0,
	TSIG_HMAC_SHA256 = 1,
	TSIG_HMAC_SHA512 = 2,
};

struct tsig_key {
	char name_text[DNAME_TEXT_MAXLEN]; /* "xfr-key." lower-case */
	uint8_t name[DNAME_MAXLEN];	   /* lower-case wire form */
	size_t name_len;		   /* octets of name */
	enum tsig_alg alg;		   /* the only algorithm this key may be used with */
	uint8_t secret[TSIG_SECRET_MAX];   /* decoded secret */
	size_t secret_len;		   /* octets of secret, >= 1 */
};

struct tsig_keyring {
	struct tsig_key *keys; /* owned array */
	size_t n;
};

/* One parsed TSIG RR (RFC 8945 §4.2). */
struct tsig_rr {
	uint8_t key[DNAME_MAXLEN]; /* owner: the key name, lower-cased */
	size_t key_len;
	uint8_t alg[DNAME_MAXLEN]; /* algorithm name, lower-cased */
	size_t alg_len;
	uint64_t time_signed; /* 48 bits, seconds since the epoch */
	uint16_t fudge;
	uint16_t mac_len; /* as sent; mac holds at most TSIG_MAC_MAX of it */
	uint8_t mac[TSIG_MAC_MAX];
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	uint8_t other[TSIG_OTHER_MAX]; /* first octets of other data */
	size_t rr_off;		       /* where the TSIG RR starts in the message */
};

/* State of one signed exchange (see the top of this file). */
struct tsig_ctx {
	const struct tsig_key *key; /* NULL: nothing to sign */
	uint8_t mac[TSIG_MAC_MAX];  /* previous MAC in the exchange */
	size_t mac_len;		    /* 0 before the first message */
	uint64_t req_time;	    /* the request's time signed (BADTIME replies) */
	uint16_t orig_id;	    /* the request's original ID */
	unsigned nmsg;		    /* messages signed or verified after the request */
};

/* Lengths of a key's MAC ("hmac-sha256" -> 32); 0 for TSIG_ALG_NONE. */
size_t tsig_alg_mac_len(enum tsig_alg alg);

/* Canonical algorithm name ("hmac-sha256"). */
const char *tsig_alg_name(enum tsig_alg alg);

/* Parses "hmac-sha256" / "hmac-sha512" (case-insensitive, trailing dot
 * allowed) or returns TSIG_ALG_NONE. */
enum tsig_alg tsig_alg_parse(const char *s);

/*
 * Parses key-file text (len octets, need not be NUL-terminated) into kr
 * (initialise with {0}); lines "name algorithm base64secret". Duplicate key
 * names, unknown algorithms, bad base64 and empty secrets are errors.
 * Returns the number of keys, or a negative error with "line N: why" in err.
 */
int tsig_keyring_parse(struct tsig_keyring *kr, const char *text, size_t len, char *err,
		       size_t errcap);

/*
 * Loads a key file. Refuses (ERR_INVALID) a file whose mode grants any
 * access to group or others, naming the file and its mode in err. Returns
 * the number of keys or a negative error (ERR_IO, ERR_SYNTAX, ...).
 */
int tsig_keyring_load(struct tsig_keyring *kr, const char *path, char *err, size_t errcap);

/* The key of that name (wire, any case / text "xfr-key" or "xfr-key."),
 * or NULL. */
const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *kr, const uint8_t *name);
const struct tsig_key *tsig_keyring_find_text(const struct tsig_keyring *kr, const char *name);

void tsig_keyring_free(struct tsig_keyring *kr);

/*
 * Reads the TSIG RR at offset tsig_off of msg (len octets; the RR must end
 * the message's counted RRs, which msg_parse_query checks). Returns 0, or
 * ERR_MALFORMED / ERR_TRUNCATED for an RR that cannot be read: the caller
 * answers FORMERR (RFC 8945 §5.2).
 */
int tsig_parse(const uint8_t *msg, size_t len, size_t tsig_off, struct tsig_rr *t);

/*
 * Verifies a signed request whose TSIG is t (from tsig_parse), in the order
 * of RFC 8945 §5.2: key known and algorithm matching (else BADKEY), MAC
 * length sane (longer than the hash: ERR_MALFORMED, i.e. FORMERR; shorter
 * than the hash: BADTRUNC, we accept no truncation) and correct (else
 * BADSIG), then now within time signed +- fudge (else BADTIME). Returns the
 * TSIG error (TSIG_NOERROR when valid) or a negative error. ctx is always
 * initialised: with the key whenever the key was found (BADTIME replies are
 * signed, §5.2.3), the request MAC and original ID.
 */
int tsig_verify_request(const uint8_t *msg, size_t len, const struct tsig_rr *t,
			const struct tsig_keyring *kr, uint64_t now, struct tsig_ctx *ctx);

/* Bytes a TSIG RR signed with key takes (owner, fixed fields, MAC and
 * other_len octets of other data). */
size_t tsig_rr_size(const struct tsig_key *key, size_t other_len);

/*
 * Signs the message msg[0..len) (header counts final, no TSIG yet) with
 * ctx->key, appends the TSIG RR and increments ARCOUNT. The digest covers
 * ctx's previous MAC when there is one (a response, or a later message of a
 * stream), the message, and all TSIG variables for the first message or the
 * timers only for later ones (§5.3.1). error/other are the TSIG error and
 * other data (BADTIME replies: time = ctx->req_time, other = our time).
 * Returns the new length or ERR_SPACE (cap too small) / ERR_INVALID.
 */
int tsig_sign(uint8_t *msg, size_t len, size_t cap, struct tsig_ctx *ctx, uint64_t now,
	      uint16_t error);

/*
 * Appends an unsigned TSIG (MAC size 0) carrying error to a response, for
 * BADKEY and BADSIG (§5.2.1, §5.2.2: such replies must not be signed):
 * the request's key name, algorithm, time, fudge and original ID.
 * Returns the new length or ERR_SPACE.
 */
int tsig_append_unsigned(uint8_t *msg, size_t len, size_t cap, const struct tsig_rr *req,
			 uint16_t error);

/* Size of what tsig_append_unsigned adds. */
size_t tsig_unsigned_size(const struct tsig_rr *req);

/*
 * Verifies one reply of an exchange we signed (ctx after tsig_sign of the
 * request), or the next message of a multi-message reply. The reply must
 * carry a TSIG as its last RR (ERR_NOTFOUND otherwise), with our key
 * (BADKEY), a correct MAC chained on ctx (BADSIG) and a time within fudge
 * (BADTIME). A reply whose TSIG carries an error of its own returns that
 * error. Returns TSIG_NOERROR and advances ctx, a TSIG error, or a negative
 * error for a message that cannot be read.
 */
int tsig_verify_reply(const uint8_t *msg, size_t len, struct tsig_ctx *ctx, uint64_t now);

/* Finds the offset of the TSIG RR ending msg, if any: 1 found (*off set),
 * 0 none, negative for a malformed message. */
int tsig_find(const uint8_t *msg, size_t len, size_t *off);

/* Name of a TSIG error for logs ("BADSIG"). */
const char *tsig_error_name(int error);

#endif
