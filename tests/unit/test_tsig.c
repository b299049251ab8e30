/*
 * test_tsig.c: TSIG (common/tsig.c) and its use by dnsd's protocol core.
 *
 *  - HMAC known answers (RFC 4231 test case 2) through the same libcrypto
 *    calls the digests use;
 *  - key files: syntax, algorithms, base64, duplicates, and the permission
 *    rule (0600 accepted, any group/other bit refused);
 *  - a signed request verifies; every tampering is caught in the order of
 *    RFC 8945 §5.2 (BADKEY, FORMERR/BADTRUNC/BADSIG, BADTIME), with the
 *    time window tested at fudge and fudge + 1;
 *  - responses: single, multi-message chains (§5.3.1, reordering fails),
 *    BADTIME replies carry the server time, unsigned error replies;
 *  - query_process_ex: signed queries get signed answers, failures NOTAUTH
 *    with the right TSIG error, and kdig-style requests from other keys.
 */
#include "../../common/tsig.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dname.h"
#include "msg.h"
#include "notify.h"
#include "query.h"
#include "tap.h"
#include "zone.h"
#include "zone_fixture.h"

/* A small served zone for the query tests. */
static struct zoneset *fixture_zoneset(void)
{
	static const char *text = "zone example.test.\n"
				  "example.test. 3600 SOA ns1.example.test. h.example.test. 7 "
				  "7200 3600 1209600 300\n"
				  "example.test. 3600 NS ns1.example.test.\n"
				  "ns1.example.test. 3600 A 192.0.2.53\n"
				  "end\n";
	sqlite3 *db = fx_open();
	struct zone *z;
	struct zoneset *zs;
	char err[256];

	if (db == NULL || fx_load(db, text, NULL) < 0)
		return NULL;
	z = zone_build_from_db(db, "example.test.", err, sizeof(err));
	sqlite3_close(db);
	if (z == NULL)
		return NULL;
	zs = zoneset_new(&z, 1);
	zone_unref(z);
	return zs;
}

/* header + question "example.test. SOA IN" */
#define QEND (12 + 14 + 4)

static const char *SECRET_B64 = "c2VjcmV0LWtleS1mb3ItdGVzdGluZy10c2lnLTAxMjM=";

static struct tsig_keyring ring(void)
{
	struct tsig_keyring kr = {0};
	char err[256], text[512];

	snprintf(text, sizeof(text),
		 "# test keys\nxfr-key hmac-sha256 %s\n\nKey512.Example. hmac-sha512 %s # c\n",
		 SECRET_B64, SECRET_B64);
	is_int(tsig_keyring_parse(&kr, text, strlen(text), err, sizeof(err)), 2, "two keys parsed");
	return kr;
}

static void test_hmac_vector(void)
{
	/* RFC 4231 §4.3, test case 2 */
	struct tsig_key k;
	EVP_MAC_CTX *c;
	uint8_t mac[TSIG_MAC_MAX];
	size_t len = 0;
	static const uint8_t want256[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
					    0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
					    0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
					    0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	static const uint8_t want512_head[8] = {0x16, 0x4b, 0x7a, 0x7b, 0xfc, 0xf8, 0x19, 0xe2};
	const char *data = "what do ya want for nothing?";

	memset(&k, 0, sizeof(k));
	memcpy(k.secret, "Jefe", 4);
	k.secret_len = 4;
	k.alg = TSIG_HMAC_SHA256;
	c = hmac_begin(&k);
	ok(c != NULL, "HMAC-SHA256 context");
	EVP_MAC_update(c, (const uint8_t *)data, strlen(data));
	is_int(hmac_end(c, mac, sizeof(mac), &len), 0, "HMAC-SHA256 final");
	ok(len == 32 && memcmp(mac, want256, 32) == 0, "HMAC-SHA256 matches RFC 4231 case 2");
	k.alg = TSIG_HMAC_SHA512;
	c = hmac_begin(&k);
	EVP_MAC_update(c, (const uint8_t *)data, strlen(data));
	hmac_end(c, mac, sizeof(mac), &len);
	ok(len == 64 && memcmp(mac, want512_head, 8) == 0, "HMAC-SHA512 matches RFC 4231 case 2");
}

static void test_keyfile(void)
{
	struct tsig_keyring kr = ring();
	char err[256], path[256];
	const struct tsig_key *k;
	const char *bad[] = {
	    "k hmac-sha256\n",					 /* two fields */
	    "k hmac-md5 c2VjcmV0\n",				 /* algorithm we do not offer */
	    "k hmac-sha256 c2VjcmV0!\n",			 /* not base64 */
	    "k hmac-sha256 c2Vjc\n",				 /* not a multiple of 4 */
	    "k hmac-sha256 ====\n",				 /* empty secret */
	    "k hmac-sha256 c2VjcmV0\nK. hmac-sha512 c2VjcmV0\n", /* duplicate name */
	    "k hmac-sha256 c2VjcmV0 extra\n",			 /* four fields */
	    "a..b hmac-sha256 c2VjcmV0\n",			 /* bad name */
	};
	FILE *f;

	k = tsig_keyring_find_text(&kr, "XFR-KEY");
	ok(k != NULL && k->alg == TSIG_HMAC_SHA256, "names match case-insensitively, dot optional");
	is_str(k ? k->name_text : "", "xfr-key.", "canonical key name");
	is_int((int)(k ? k->secret_len : 0), 32, "secret decoded to 32 octets");
	k = tsig_keyring_find_text(&kr, "key512.example.");
	ok(k != NULL && k->alg == TSIG_HMAC_SHA512, "second key is hmac-sha512");
	ok(tsig_keyring_find_text(&kr, "other") == NULL, "unknown key not found");
	tsig_keyring_free(&kr);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tsig_keyring b = {0};

		err[0] = 0;
		ok(tsig_keyring_parse(&b, bad[i], strlen(bad[i]), err, sizeof(err)) < 0 &&
		       strstr(err, "line ") != NULL,
		   "bad key file %zu refused: %s", i, err);
		tsig_keyring_free(&b);
	}
	ok(tsig_alg_parse("HMAC-SHA512.") == TSIG_HMAC_SHA512, "algorithm names parse");
	ok(tsig_alg_parse("hmac-sha1") == TSIG_ALG_NONE, "hmac-sha1 not offered");

	snprintf(path, sizeof(path), "%s/test_tsig_keys.%d",
		 getenv("BUILDDIR") ? getenv("BUILDDIR") : "/tmp", (int)getpid());
	f = fopen(path, "w");
	ok(f != NULL, "temp key file");
	if (f == NULL)
		return;
	fprintf(f, "xfr-key hmac-sha256 %s\n", SECRET_B64);
	fclose(f);
	chmod(path, 0600);
	is_int(tsig_keyring_load(&kr, path, err, sizeof(err)), 1, "mode 0600 loads");
	tsig_keyring_free(&kr);
	chmod(path, 0640);
	ok(tsig_keyring_load(&kr, path, err, sizeof(err)) == ERR_INVALID && strstr(err, "0640"),
	   "mode 0640 refused: %s", err);
	chmod(path, 0604);
	ok(tsig_keyring_load(&kr, path, err, sizeof(err)) == ERR_INVALID, "mode 0604 refused");
	chmod(path, 0602);
	ok(tsig_keyring_load(&kr, path, err, sizeof(err)) == ERR_INVALID, "mode 0602 refused");
	unlink(path);
	ok(tsig_keyring_load(&kr, path, err, sizeof(err)) == ERR_IO, "missing file: ERR_IO");
	tsig_keyring_free(&kr);
}

/* A query for example.test. SOA, signed with key at time t. */
static size_t signed_query(uint8_t *buf, size_t cap, const struct tsig_key *key, uint64_t t,
			   struct tsig_ctx *ctx)
{
	uint8_t name[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};
	int n;

	dname_parse_text("example.test.", 13, root, name);
	n = notify_build_query(buf, cap, 0x1234, name, RRTYPE_SOA, 0);
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	return (size_t)tsig_sign(buf, (size_t)n, cap, ctx, t, TSIG_NOERROR);
}

static int verify(const uint8_t *msg, size_t len, const struct tsig_keyring *kr, uint64_t now,
		  struct tsig_ctx *sctx)
{
	struct tsig_rr t;
	size_t off;

	if (tsig_find(msg, len, &off) != 1 || tsig_parse(msg, len, off, &t) < 0)
		return -100;
	return tsig_verify_request(msg, len, &t, kr, now, sctx);
}

static void test_request(void)
{
	struct tsig_keyring kr = ring(), other = {0};
	const struct tsig_key *key = tsig_keyring_find_text(&kr, "xfr-key");
	struct tsig_ctx cctx, sctx;
	uint8_t msg[1024], copy[1024];
	uint64_t t = 1700000000;
	size_t len = signed_query(msg, sizeof(msg), key, t, &cctx), off;
	struct tsig_rr rr;
	char err[64];
	int v;

	ok(len > 0, "request signed (%zu octets)", len);
	is_int(wire_get_u16(msg + 10), 1, "ARCOUNT counts the TSIG");
	is_int(verify(msg, len, &kr, t, &sctx), TSIG_NOERROR, "request verifies");
	ok(sctx.key == key && sctx.mac_len == 32, "server context holds the key and request MAC");
	is_int(verify(msg, len, &kr, t + TSIG_FUDGE, &sctx), TSIG_NOERROR,
	       "now = time + fudge: ok");
	is_int(verify(msg, len, &kr, t - TSIG_FUDGE, &sctx), TSIG_NOERROR,
	       "now = time - fudge: ok");
	is_int(verify(msg, len, &kr, t + TSIG_FUDGE + 1, &sctx), TSIG_BADTIME,
	       "now = time + fudge + 1: BADTIME");
	ok(sctx.key == key, "BADTIME keeps the key (the reply is signed)");
	is_int(verify(msg, len, &kr, t - TSIG_FUDGE - 1, &sctx), TSIG_BADTIME,
	       "now = time - fudge - 1: BADTIME");

	/* every octet before the TSIG is covered */
	tsig_find(msg, len, &off);
	for (size_t i = 12; i < off; i++) {
		memcpy(copy, msg, len);
		copy[i] ^= 0x20;
		v = verify(copy, len, &kr, t, &sctx);
		if (v != TSIG_BADSIG && v != -100) {
			ok(0, "flipping octet %zu gave %d", i, v);
			break;
		}
	}
	ok(1, "flipping any message octet breaks the MAC");
	memcpy(copy, msg, len);
	copy[len - 8] ^= 1; /* inside the MAC */
	is_int(verify(copy, len, &kr, t, &sctx), TSIG_BADSIG, "flipped MAC octet: BADSIG");
	ok(sctx.key == NULL, "BADSIG: no key to sign with");
	memcpy(copy, msg, len);
	copy[1] ^= 1; /* the ID: covered as the original ID, so still valid */
	is_int(verify(copy, len, &kr, t, &sctx), TSIG_NOERROR,
	       "a changed message ID still verifies (original ID is digested)");

	/* unknown key / other algorithm */
	snprintf(err, sizeof(err), "%s", "");
	other.keys = NULL;
	is_int(verify(msg, len, &other, t, &sctx), TSIG_BADKEY, "empty keyring: BADKEY");
	is_int(verify(msg, len, NULL, t, &sctx), TSIG_BADKEY, "no keyring: BADKEY");
	{
		struct tsig_keyring k2 = {0};
		char text[256], e[128];

		snprintf(text, sizeof(text), "xfr-key hmac-sha512 %s\n", SECRET_B64);
		tsig_keyring_parse(&k2, text, strlen(text), e, sizeof(e));
		is_int(verify(msg, len, &k2, t, &sctx), TSIG_BADKEY,
		       "same name, other algorithm: BADKEY");
		tsig_keyring_free(&k2);
	}
	/* MAC length rules (§5.2.2.1) */
	tsig_find(msg, len, &off);
	tsig_parse(msg, len, off, &rr);
	rr.mac_len = 16;
	is_int(check_mac(msg, &rr, key, NULL, true), TSIG_BADTRUNC,
	       "MAC truncated to 16: BADTRUNC");
	rr.mac_len = 9;
	is_int(check_mac(msg, &rr, key, NULL, true), ERR_MALFORMED, "MAC of 9 octets: FORMERR");
	rr.mac_len = 33;
	is_int(check_mac(msg, &rr, key, NULL, true), ERR_MALFORMED,
	       "MAC longer than the hash: FORMERR");
	rr.mac_len = 0;
	is_int(check_mac(msg, &rr, key, NULL, true), TSIG_BADSIG, "no MAC: BADSIG");
	/* a truncated message */
	is_int(tsig_parse(msg, len - 3, off, &rr) < 0, 1, "a cut TSIG does not parse");
	tsig_keyring_free(&kr);
}

static void test_responses(void)
{
	struct tsig_keyring kr = ring();
	const struct tsig_key *key = tsig_keyring_find_text(&kr, "key512.example");
	struct tsig_ctx cctx, sctx, c2;
	uint8_t q[1024], r[3][1024];
	size_t rl[3];
	uint64_t t = 1800000000;
	size_t ql = signed_query(q, sizeof(q), key, t, &cctx);
	struct tsig_rr rr;
	size_t off;

	is_int(verify(q, ql, &kr, t, &sctx), TSIG_NOERROR, "sha512 request verifies");
	for (int i = 0; i < 3; i++) {
		int n;

		memcpy(r[i], q, QEND);	 /* header + question */
		r[i][2] |= 0x80;	 /* QR */
		r[i][10] = r[i][11] = 0; /* no additional */
		n = tsig_sign(r[i], QEND, sizeof(r[i]), &sctx, t + (uint64_t)i, TSIG_NOERROR);
		ok(n > 0, "response %d signed", i);
		rl[i] = (size_t)n;
	}
	c2 = cctx;
	is_int(tsig_verify_reply(r[0], rl[0], &c2, t), TSIG_NOERROR, "first response verifies");
	is_int(tsig_verify_reply(r[1], rl[1], &c2, t), TSIG_NOERROR,
	       "second verifies (prior MAC + timers only)");
	is_int(tsig_verify_reply(r[2], rl[2], &c2, t), TSIG_NOERROR, "third verifies");
	c2 = cctx;
	is_int(tsig_verify_reply(r[0], rl[0], &c2, t), TSIG_NOERROR, "again: first");
	is_int(tsig_verify_reply(r[2], rl[2], &c2, t), TSIG_BADSIG, "skipping one message: BADSIG");
	c2 = cctx;
	is_int(tsig_verify_reply(r[1], rl[1], &c2, t), TSIG_BADSIG,
	       "a later message as the first: BADSIG");
	c2 = cctx;
	is_int(tsig_verify_reply(r[0], rl[0], &c2, t + 10000), TSIG_BADTIME,
	       "a reply outside the window: BADTIME");
	{
		uint8_t u[64];

		memcpy(u, q, QEND);
		u[2] |= 0x80;
		u[10] = u[11] = 0;
		c2 = cctx;
		is_int(tsig_verify_reply(u, QEND, &c2, t), ERR_NOTFOUND,
		       "unsigned reply: ERR_NOTFOUND");
	}

	/* BADTIME reply: signed, client time in Time Signed, ours in Other */
	{
		struct tsig_ctx s2;
		uint8_t b[1024];
		int n;

		verify(q, ql, &kr, t + 1000, &s2);
		memcpy(b, q, QEND);
		b[2] |= 0x80;
		b[10] = b[11] = 0;
		n = tsig_sign(b, QEND, sizeof(b), &s2, t + 1000, TSIG_BADTIME);
		ok(n > 0, "BADTIME reply signed");
		tsig_find(b, (size_t)n, &off);
		tsig_parse(b, (size_t)n, off, &rr);
		ok(rr.time_signed == t && rr.other_len == 6 && rr.error == TSIG_BADTIME,
		   "BADTIME reply: request time, 6 octets of other data");
		ok(((uint64_t)rr.other[0] << 40 | (uint64_t)rr.other[1] << 32 |
		    (uint64_t)rr.other[2] << 24 | (uint64_t)rr.other[3] << 16 |
		    (uint64_t)rr.other[4] << 8 | rr.other[5]) == t + 1000,
		   "other data is the server's time");
		c2 = cctx;
		is_int(tsig_verify_reply(b, (size_t)n, &c2, t), TSIG_BADTIME,
		       "the client verifies it and sees BADTIME");
	}
	/* unsigned BADKEY reply */
	{
		uint8_t b[1024];
		int n;

		tsig_find(q, ql, &off);
		tsig_parse(q, ql, off, &rr);
		memcpy(b, q, QEND);
		b[2] |= 0x80;
		b[10] = b[11] = 0;
		n = tsig_append_unsigned(b, QEND, sizeof(b), &rr, TSIG_BADKEY);
		is_int(n, (int)(QEND + tsig_unsigned_size(&rr)), "unsigned TSIG appended");
		c2 = cctx;
		is_int(tsig_verify_reply(b, (size_t)n, &c2, t), TSIG_BADKEY,
		       "client reads the unsigned BADKEY");
		is_int(tsig_append_unsigned(b, QEND, QEND + 5, &rr, TSIG_BADKEY), ERR_SPACE,
		       "no room: ERR_SPACE");
	}
	tsig_keyring_free(&kr);
}

static void test_query(void)
{
	struct tsig_keyring kr = ring();
	const struct tsig_key *key = tsig_keyring_find_text(&kr, "xfr-key");
	struct zoneset *zs = fixture_zoneset();
	struct query_params p = {false, false, 1232};
	struct query_xparams x;
	struct query_result r;
	struct tsig_ctx cctx, c2;
	uint8_t q[1024], resp[2048];
	uint64_t t = 1700000000;
	size_t ql = signed_query(q, sizeof(q), key, t, &cctx), rl, off;
	struct tsig_rr rr;

	memset(&x, 0, sizeof(x));
	x.keys = &kr;
	x.now = t;
	rl = query_process_ex(zs, q, ql, resp, sizeof(resp), &p, &x, &r);
	ok(rl > 0 && DNS_RCODE(wire_get_u16(resp + 2)) == RCODE_NOERROR, "signed query answered");
	is_int(r.tsig_error, TSIG_NOERROR, "result: verified");
	c2 = cctx;
	is_int(tsig_verify_reply(resp, rl, &c2, t), TSIG_NOERROR,
	       "the answer is signed and verifies");

	x.now = t + 301;
	rl = query_process_ex(zs, q, ql, resp, sizeof(resp), &p, &x, &r);
	is_int(DNS_RCODE(wire_get_u16(resp + 2)), RCODE_NOTAUTH, "late query: NOTAUTH");
	is_int(r.tsig_error, TSIG_BADTIME, "result: BADTIME");
	c2 = cctx;
	is_int(tsig_verify_reply(resp, rl, &c2, t), TSIG_BADTIME, "signed BADTIME reply");

	x.now = t;
	q[ql - 10] ^= 1; /* inside the MAC */
	rl = query_process_ex(zs, q, ql, resp, sizeof(resp), &p, &x, &r);
	is_int(DNS_RCODE(wire_get_u16(resp + 2)), RCODE_NOTAUTH, "bad MAC: NOTAUTH");
	tsig_find(resp, rl, &off);
	tsig_parse(resp, rl, off, &rr);
	ok(rr.error == TSIG_BADSIG && rr.mac_len == 0, "unsigned TSIG with BADSIG");
	q[ql - 10] ^= 1;

	x.keys = NULL;
	rl = query_process_ex(zs, q, ql, resp, sizeof(resp), &p, &x, &r);
	tsig_find(resp, rl, &off);
	tsig_parse(resp, rl, off, &rr);
	ok(DNS_RCODE(wire_get_u16(resp + 2)) == RCODE_NOTAUTH && rr.error == TSIG_BADKEY,
	   "unknown key: NOTAUTH + BADKEY");

	/* A signed answer that needs the UDP limit still fits it with the TSIG. */
	x.keys = &kr;
	rl = query_process_ex(zs, q, ql, resp, 512, &p, &x, &r);
	ok(rl > 0 && rl <= 512, "signed UDP answer within 512 octets (%zu)", rl);
	zoneset_free(zs);
	tsig_keyring_free(&kr);
}

/* A one-shot NOTIFY responder: dnsd's protocol core on a UDP socket. */
struct responder {
	int fd;
	struct zoneset *zs;
	const struct tsig_keyring *kr;
	int handled;
};

static void *respond(void *arg)
{
	struct responder *rs = arg;
	uint8_t req[2048], resp[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(rs->fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
	struct query_params p = {false, true, 1232};
	struct query_xparams x;
	struct query_result r;
	size_t rl;

	if (n <= 0)
		return NULL;
	memset(&x, 0, sizeof(x));
	x.keys = rs->kr;
	x.now = (uint64_t)time(NULL);
	x.peer = (struct sockaddr *)&from;
	rl = query_process_ex(rs->zs, req, (size_t)n, resp, sizeof(resp), &p, &x, &r);
	if (rl > 0)
		sendto(rs->fd, resp, rl, 0, (struct sockaddr *)&from, fl);
	rs->handled = r.notify ? 1 : -1;
	return NULL;
}

static void test_notify_tsig(void)
{
	struct tsig_keyring server = ring(), client = {0};
	struct responder rs = {0};
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	pthread_t th;
	char addr[64], text[256], err[64];
	uint8_t zone[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};
	int rc;

	dname_parse_text("example.test.", 13, root, zone);
	rs.zs = fixture_zoneset();
	rs.kr = &server;
	rs.fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(rs.fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(rs.fd, (struct sockaddr *)&sin, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));

	pthread_create(&th, NULL, respond, &rs);
	rc = notify_send_sync_tsig(addr, zone, 2000, tsig_keyring_find_text(&server, "xfr-key"));
	pthread_join(th, NULL);
	is_int(rc, RCODE_NOERROR, "signed NOTIFY accepted, signed reply verified");
	is_int(rs.handled, 1, "the responder accepted it as a NOTIFY");

	/* same key name, another secret: BADSIG, an unsigned NOTAUTH */
	snprintf(text, sizeof(text), "xfr-key hmac-sha256 %s\n",
		 "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==");
	tsig_keyring_parse(&client, text, strlen(text), err, sizeof(err));
	pthread_create(&th, NULL, respond, &rs);
	rc = notify_send_sync_tsig(addr, zone, 2000, &client.keys[0]);
	pthread_join(th, NULL);
	is_int(rc, RCODE_NOTAUTH, "wrong secret: the server's NOTAUTH (BADSIG) comes back");
	is_int(rs.handled, -1, "and the responder did not act on it");
	close(rs.fd);
	zoneset_free(rs.zs);
	tsig_keyring_free(&client);
	tsig_keyring_free(&server);
}

int main(void)
{
	test_hmac_vector();
	test_keyfile();
	test_request();
	test_responses();
	test_query();
	test_notify_tsig();
	return done_testing();
}
