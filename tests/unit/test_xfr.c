/*
 * test_xfr.c: zone transfers out, without sockets: the IXFR difference
 * from the journal (dnsd/ixfr.c), the message streams (dnsd/xfr_stream.c)
 * and the transfer ACLs (dnsd/xfr.c settings, dnsd/acl.c keys).
 *
 * Zones are written through mcpd's own store layer (store_commit: records,
 * serial and journal in one transaction), exactly as mcpd import does, so
 * the journal read here is the real one.
 *
 *  - AXFR: every record once, SOA first and last, messages within the cap
 *    (65535, and a 512-octet cap forcing many), question only in the
 *    first, AA set, compression on; a record that fits no message: error;
 *  - IXFR: condensed differences over 1..3 changes, up to date / unknown /
 *    trimmed journal (ERR_NOTFOUND), bigger than the zone (ERR_RANGE);
 *    the IXFR stream's SOA skeleton; the UDP single-message form and its
 *    SOA-only fallback at the limit (N fits, N-1 does not);
 *  - TSIG: a signed stream verifies message by message on the client side;
 *  - ACL entries with keys and zone_settings parsing.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>

#include "acl.h"
#include "dconf.h"
#include "err.h"
#include "ixfr.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "store.h"
#include "tap.h"
#include "tools.h"
#include "tools_secondary.h"
#include "tsig.h"
#include "xfr.h"
#include "xfr_stream.h"
#include "zone.h"
#include "zone_fixture.h"

static int commit(sqlite3 *db, const char *zone, const char *text)
{
	struct store_change *ch = store_change_new(zone);
	struct store_result res;
	struct store_opts o;
	int r;

	store_change_set_create(ch, false, "increment", 3600);
	store_change_load_text(ch, text, strlen(text), true);
	memset(&o, 0, sizeof(o));
	o.actor = "test";
	o.tool = "import";
	memset(&res, 0, sizeof(res));
	r = store_commit(db, ch, &o, &res);
	if (r < 0)
		printf("# commit: %s\n", res.error ? res.error : err_str(r));
	store_result_clear(&res);
	store_change_free(ch);
	return r;
}

#define HEAD                                                                                       \
	"$ORIGIN example.com.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"          \
	"@ NS ns1\nns1 A 192.0.2.53\n"

/* One parsed record of a transfer. */
struct rec {
	char text[1600];
	uint16_t type;
};

/* Parses every message of a stream into recs; checks message invariants.
 * Returns the record count or -1. */
static int drain(struct xfr_stream *s, size_t cap, struct rec *recs, int max, int *nmsg,
		 struct tsig_ctx *verify_ctx)
{
	static uint8_t buf[65535];
	int n = 0, m = 0, len;

	while ((len = xfr_stream_next(s, buf, cap, 1700000000)) > 0) {
		struct msg_header h;
		struct wire w;
		struct msg_rr rr;
		uint8_t rd[65535];

		if ((size_t)len > cap || msg_parse_header(buf, (size_t)len, &h) < 0)
			return -1;
		if (!(h.flags & DNS_FLAG_AA) || !(h.flags & DNS_FLAG_QR))
			return -1;
		if (h.qdcount != (m == 0 ? 1 : 0))
			return -1;
		if (verify_ctx && tsig_verify_reply(buf, (size_t)len, verify_ctx, 1700000000) != 0)
			return -2;
		wire_init(&w, buf, (size_t)len);
		wire_seek(&w, DNS_HEADER_LEN);
		if (h.qdcount)
			msg_skip_question(&w);
		rr.rdata = rd;
		rr.rdata_cap = sizeof(rd);
		for (int i = 0; i < h.ancount; i++) {
			char owner[DNAME_TEXT_MAXLEN], data[400], type[16];

			if (msg_rr_next(&w, &rr) < 0)
				return -1;
			if (n < max) {
				dname_print(rr.owner, owner, sizeof(owner));
				rrtype_print(rr.type, type, sizeof(type));
				rdata_print(rr.type, rr.rdata, rr.rdlen, data, sizeof(data));
				snprintf(recs[n].text, sizeof(recs[n].text), "%s %u %s %s", owner,
					 rr.ttl, type, data);
				recs[n].type = rr.type;
			}
			n++;
		}
		m++;
	}
	*nmsg = m;
	return len < 0 ? len : n;
}

static struct zone *load(sqlite3 *db, const char *name)
{
	char err[512];
	struct zone *z = zone_build_from_db(db, name, err, sizeof(err));

	if (z == NULL)
		printf("# load: %s\n", err);
	return z;
}

static struct xfr_stream_req req(uint16_t qtype)
{
	struct xfr_stream_req rq;
	static const uint8_t root[1] = {0};

	memset(&rq, 0, sizeof(rq));
	rq.id = 0x4242;
	dname_parse_text("Example.COM.", 12, root, rq.qname);
	rq.qtype = qtype;
	rq.qclass = RRCLASS_IN;
	return rq;
}

static bool has(struct rec *r, int n, const char *text)
{
	for (int i = 0; i < n; i++)
		if (strcmp(r[i].text, text) == 0)
			return true;
	return false;
}

static void test_axfr(sqlite3 *db)
{
	static struct rec recs[8000];
	struct xfr_stream_req rq = req(RRTYPE_AXFR);
	struct xfr_stream *s;
	struct zone *z;
	char *text;
	size_t len = 0;
	int n, nmsg;

	text = malloc(400000);
	len = (size_t)snprintf(text, 400000, "%s", HEAD);
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, 400000 - len,
					"host%d A 10.0.%d.%d\nhost%d TXT \"text %d\"\n", i, i / 256,
					i % 256, i, i);
	is_int(commit(db, "example.com.", text), 0, "6003-record zone committed");
	free(text);
	z = load(db, "example.com.");
	ok(z != NULL, "zone loaded");
	if (z == NULL)
		return;
	s = xfr_stream_axfr(z, NULL, &rq);
	n = drain(s, 65535, recs, 8000, &nmsg, NULL);
	is_int(n, (int)zone_record_count(z) + 1, "AXFR: every record once plus the closing SOA");
	is_int(recs[0].type, RRTYPE_SOA, "SOA first");
	is_int(recs[n - 1].type, RRTYPE_SOA, "SOA last");
	{
		int soas = 0;

		for (int i = 0; i < n; i++)
			soas += recs[i].type == RRTYPE_SOA;
		is_int(soas, 2, "the SOA appears exactly twice");
	}
	ok(nmsg >= 2, "several messages of <= 65535 octets (%d)", nmsg);
	ok(has(recs, n, "host2999.example.com. 3600 TXT \"text 2999\""), "last record present");
	is_int((int)xfr_stream_records(s), n, "records counted");
	is_int(xfr_stream_next(s, (uint8_t[512]){0}, 512, 0), 0,
	       "a finished stream stays finished");
	xfr_stream_free(s);

	/* a 512-octet cap: many small messages, same records */
	s = xfr_stream_axfr(z, NULL, &rq);
	n = drain(s, 512, recs, 8000, &nmsg, NULL);
	is_int(n, (int)zone_record_count(z) + 1, "512-octet messages: the same records");
	ok(nmsg > 100, "in many messages (%d)", nmsg);
	xfr_stream_free(s);

	/* compression: 6003 records at ~15 octets each, far below uncompressed */
	{
		static uint8_t buf[65535];
		size_t total = 0;
		int l;

		s = xfr_stream_axfr(z, NULL, &rq);
		while ((l = xfr_stream_next(s, buf, sizeof(buf), 0)) > 0)
			total += (size_t)l;
		ok(total < 6003 * 40, "names compressed (%zu octets)", total);
		xfr_stream_free(s);
	}

	/* The image stays alive while a stream holds it. */
	s = xfr_stream_axfr(z, NULL, &rq);
	zone_unref(z);
	n = drain(s, 65535, recs, 8000, &nmsg, NULL);
	is_int(n, 6003 + 1, "stream still complete after the zone's last other reference went");
	xfr_stream_free(s);
}

/* With a node order the body goes out in canonical order (RFC 4034 §6.1). */
static void test_axfr_order(sqlite3 *db)
{
	static uint8_t buf[65535], rd[65535];
	struct xfr_stream_req rq = req(RRTYPE_AXFR);
	struct zone *z = load(db, "example.com.");
	struct xfr_stream_order *o;
	struct xfr_stream *s;
	uint8_t prev[DNAME_MAXLEN];
	int len, n = 0, bad = 0;
	bool have_prev = false;

	if (z == NULL)
		return;
	o = xfr_stream_order_build(z);
	ok(o != NULL && xfr_stream_order_zone(o) == z, "node order built");
	s = xfr_stream_axfr(z, o, &rq);
	xfr_stream_order_unref(o); /* the stream keeps its own reference */
	while ((len = xfr_stream_next(s, buf, sizeof(buf), 0)) > 0) {
		struct msg_header h;
		struct msg_rr rr;
		struct wire w;

		msg_parse_header(buf, (size_t)len, &h);
		wire_init(&w, buf, (size_t)len);
		wire_seek(&w, DNS_HEADER_LEN);
		if (h.qdcount)
			msg_skip_question(&w);
		rr.rdata = rd;
		rr.rdata_cap = sizeof(rd);
		for (int i = 0; i < h.ancount; i++) {
			if (msg_rr_next(&w, &rr) < 0) {
				bad++;
				break;
			}
			n++;
			if (rr.type == RRTYPE_SOA)
				continue;
			if (have_prev && dname_cmp(prev, rr.owner) > 0)
				bad++;
			memcpy(prev, rr.owner, rr.owner_len);
			have_prev = true;
		}
	}
	is_int(n, (int)zone_record_count(z) + 1, "ordered AXFR: every record once plus the SOA");
	is_int(bad, 0, "owners in canonical order");
	xfr_stream_free(s);
	zone_unref(z);
}

static void test_signed_stream(sqlite3 *db)
{
	static struct rec recs[8000];
	struct tsig_keyring kr = {0};
	char err[128];
	const char *keytext = "k hmac-sha256 c2VjcmV0LWtleS1mb3ItdGVzdGluZy10c2lnLTAxMjM=\n";
	struct xfr_stream_req rq = req(RRTYPE_AXFR);
	struct tsig_ctx client;
	struct xfr_stream *s;
	struct zone *z = load(db, "example.com.");
	int n, nmsg;

	tsig_keyring_parse(&kr, keytext, strlen(keytext), err, sizeof(err));
	/* the "request": the client signs first, the server continues */
	memset(&client, 0, sizeof(client));
	client.key = &kr.keys[0];
	{
		uint8_t q[512];
		static const uint8_t root[1] = {0};
		uint8_t name[DNAME_MAXLEN];
		int ql;

		dname_parse_text("example.com.", 12, root, name);
		ql = notify_build_query(q, sizeof(q), 0x4242, name, RRTYPE_AXFR, 0);
		ql = tsig_sign(q, (size_t)ql, sizeof(q), &client, 1700000000, 0);
		ok(ql > 0, "signed AXFR request");
		rq.tsig.key = &kr.keys[0];
		memcpy(rq.tsig.mac, client.mac, client.mac_len);
		rq.tsig.mac_len = client.mac_len;
	}
	s = xfr_stream_axfr(z, NULL, &rq);
	n = drain(s, 65535, recs, 8000, &nmsg, &client);
	ok(n > 0, "every message of a %d-message signed AXFR verifies in order (%d)", nmsg, n);
	is_int((int)client.nmsg, nmsg, "one TSIG per message");
	xfr_stream_free(s);
	zone_unref(z);
	tsig_keyring_free(&kr);
}

static void test_too_big(sqlite3 *db)
{
	char text[4096], big[700];
	struct xfr_stream_req rq = req(RRTYPE_AXFR);
	struct xfr_stream *s;
	struct zone *z;
	uint8_t buf[512];
	int r = 1;

	memset(big, 'x', 250);
	big[250] = 0;
	snprintf(text, sizeof(text),
		 "$ORIGIN big.test.\n@ 300 SOA ns1 h 1 2 3 4 5\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n"
		 "t 300 TXT \"%s\" \"%s\" \"%s\"\n",
		 big, big, big);
	is_int(commit(db, "big.test.", text), 0, "zone with a 753-octet TXT");
	z = load(db, "big.test.");
	if (z == NULL)
		return;
	s = xfr_stream_axfr(z, NULL, &rq);
	while (r > 0)
		r = xfr_stream_next(s, buf, sizeof(buf), 0);
	is_int(r, ERR_SPACE, "a record larger than the message cap ends the stream with ERR_SPACE");
	xfr_stream_free(s);
	zone_unref(z);
}

static void test_ixfr(sqlite3 *db)
{
	struct ixfr_diff *d = NULL;
	struct zone *z;
	char err[256], del[4][256], add[4][256];
	int ndel = 0, nadd = 0, r;

	/* serials 1..4 of small.test. */
#define SMALL                                                                                      \
	"$ORIGIN small.test.\n$TTL 3600\n@ SOA ns1 h 1 7200 3600 1209600 300\n@ NS ns1\nns1 A "    \
	"192.0.2.53\n"
	is_int(commit(db, "small.test.", SMALL "www A 192.0.2.1\nold TXT \"x\"\nkeep MX 10 ns1\n"),
	       0, "serial 1");
	is_int(commit(db, "small.test.",
		      SMALL "www A 192.0.2.2\nold TXT \"x\"\nkeep MX 10 ns1\ntmp A 192.0.2.77\n"),
	       0, "serial 2");
	is_int(
	    commit(db, "small.test.", SMALL "www A 192.0.2.2\nkeep 600 MX 10 ns1\nnew AAAA ::1\n"),
	    0, "serial 3");
	is_int(
	    commit(db, "small.test.", SMALL "www A 192.0.2.3\nkeep 600 MX 10 ns1\nnew AAAA ::1\n"),
	    0, "serial 4");
	z = load(db, "small.test.");
	if (z == NULL)
		return;
	is_int(zone_serial(z), 4, "image at serial 4");
	r = ixfr_diff_build(db, z, 1, &d, err, sizeof(err));
	is_int(r, 0, "difference 1 -> 4 built: %s", err);
	if (r == 0) {
		for (size_t i = 0; i < d->ndel && i < 4; i++, ndel++)
			snprintf(del[i], sizeof(del[i]), "%s %u", rrtype_name(d->del[i].type),
				 d->del[i].ttl);
		for (size_t i = 0; i < d->nadd && i < 4; i++, nadd++)
			snprintf(add[i], sizeof(add[i]), "%s %u", rrtype_name(d->add[i].type),
				 d->add[i].ttl);
		is_int((int)d->ndel, 3, "3 deletions (www .1, old TXT, keep MX ttl 3600)");
		is_int((int)d->nadd, 3, "3 additions (www .3, keep MX ttl 600, new AAAA)");
		is_int((int)d->nchanges, 3, "3 changes condensed");
		is_int(d->from, 1, "from 1");
		is_int(d->to, 4, "to 4");
		{
			bool mx3600 = false, mx600 = false, a77 = false;

			for (int i = 0; i < ndel; i++)
				mx3600 |= strcmp(del[i], "MX 3600") == 0;
			for (int i = 0; i < nadd; i++)
				mx600 |= strcmp(add[i], "MX 600") == 0;
			for (size_t i = 0; i < d->nadd; i++)
				a77 |= d->add[i].type == RRTYPE_A && d->add[i].rd[3] == 77;
			ok(mx3600 && mx600,
			   "a TTL change is a delete (old TTL) plus an add (new TTL)");
			ok(!a77, "a record added and deleted inside the range is not sent");
		}
		ok(d->old_soa.type == RRTYPE_SOA &&
		       wire_get_u32(d->old_soa.rd + d->old_soa.rdlen - 20) == 1,
		   "old SOA is serial 1's");
		{
			/* the stream: SOA4 SOA1 del.. SOA4 add.. SOA4 */
			static struct rec recs[64];
			struct xfr_stream_req rq = req(RRTYPE_IXFR);
			struct xfr_stream *s = xfr_stream_ixfr(z, d, &rq);
			int nmsg, n = drain(s, 65535, recs, 64, &nmsg, NULL);

			d = NULL;
			is_int(n, 10, "IXFR stream: 4 SOAs + 3 + 3 records");
			ok(recs[0].type == RRTYPE_SOA && strstr(recs[0].text, " 4 7200") &&
			       recs[1].type == RRTYPE_SOA && strstr(recs[1].text, " 1 7200") &&
			       recs[5].type == RRTYPE_SOA && recs[9].type == RRTYPE_SOA,
			   "SOA skeleton: new, old, [deleted], new, [added], new");
			ok(xfr_stream_is_diff(s), "marked as a difference");
			xfr_stream_free(s);
		}
	}
	ixfr_diff_free(d);
	d = NULL;
	r = ixfr_diff_build(db, z, 3, &d, err, sizeof(err));
	ok(r == 0 && d->ndel == 1 && d->nadd == 1, "difference 3 -> 4: one each");
	ixfr_diff_free(d);
	d = NULL;
	is_int(ixfr_diff_build(db, z, 4, &d, err, sizeof(err)), ERR_INVALID,
	       "4 -> 4: nothing to do");
	is_int(ixfr_diff_build(db, z, 77, &d, err, sizeof(err)), ERR_NOTFOUND,
	       "unknown serial: not covered (%s)", err);
	ok(strstr(err, "creation") || strstr(err, "reaches"), "the reason is given");
	/* retention: drop the first two changes after creation */
	fx_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM changes WHERE zone_name = 'small.test.' "
		    "AND serial_after IN (2, 3)");
	is_int(ixfr_diff_build(db, z, 1, &d, err, sizeof(err)), ERR_NOTFOUND,
	       "trimmed journal: serial 1 not covered (%s)", err);
	is_int(ixfr_diff_build(db, z, 2, &d, err, sizeof(err)), ERR_NOTFOUND,
	       "trimmed journal: serial 2 not covered");
	r = ixfr_diff_build(db, z, 3, &d, err, sizeof(err));
	is_int(r, 0, "serial 3 still covered");
	ixfr_diff_free(d);
	d = NULL;

	/* UDP: the whole difference if it fits the limit, else the SOA only */
	{
		struct xfr_stream_req rq = req(RRTYPE_IXFR);
		struct xfr_stream *s;
		uint8_t buf[4096];
		int full, got;
		struct msg_header h;

		ixfr_diff_build(db, z, 3, &d, err, sizeof(err));
		s = xfr_stream_ixfr(z, d, &rq);
		full = xfr_stream_single(s, buf, sizeof(buf), 4096, 0);
		msg_parse_header(buf, (size_t)full, &h);
		is_int(h.ancount, 6, "UDP: the whole difference (6 records) in %d octets", full);
		xfr_stream_free(s);
		ixfr_diff_build(db, z, 3, &d, err, sizeof(err));
		s = xfr_stream_ixfr(z, d, &rq);
		got = xfr_stream_single(s, buf, sizeof(buf), (size_t)full, 0);
		msg_parse_header(buf, (size_t)got, &h);
		ok(got == full && h.ancount == 6, "limit = its size: still the difference");
		xfr_stream_free(s);
		ixfr_diff_build(db, z, 3, &d, err, sizeof(err));
		s = xfr_stream_ixfr(z, d, &rq);
		got = xfr_stream_single(s, buf, sizeof(buf), (size_t)full - 1, 0);
		msg_parse_header(buf, (size_t)got, &h);
		ok(got > 0 && h.ancount == 1 && !(h.flags & DNS_FLAG_TC),
		   "limit = size - 1: the single SOA, no TC (RFC 1995 §2)");
		xfr_stream_free(s);
		d = NULL;
	}
	zone_unref(z);

	/* a difference larger than the zone: AXFR is cheaper */
	{
		char text[8192];
		size_t len = (size_t)snprintf(text, sizeof(text), "%s", SMALL);

		for (int i = 0; i < 20; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "h%d A 10.0.0.%d\n",
						i, i);
		commit(db, "small.test.", text);
		len = (size_t)snprintf(text, sizeof(text), "%s", SMALL);
		for (int i = 0; i < 20; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "g%d A 10.0.1.%d\n",
						i, i);
		commit(db, "small.test.", text);
		z = load(db, "small.test.");
		is_int(ixfr_diff_build(db, z, 5, &d, err, sizeof(err)), ERR_RANGE,
		       "40 changed records in a 23-record zone: ERR_RANGE (%s)", err);
		zone_unref(z);
	}
}

static void test_acl(void)
{
	struct acl a;
	char err[256], buf[300];
	struct sockaddr_in sin;
	uint8_t k1[DNAME_MAXLEN], k2[DNAME_MAXLEN];
	static const uint8_t root[1] = {0};

	acl_init(&a);
	is_int(acl_add(&a, "127.0.0.0/8", err, sizeof(err)), 0, "plain CIDR");
	is_int(acl_add(&a, "192.0.2.0/24 key Xfr-Key", err, sizeof(err)), 0, "CIDR with a key");
	ok(acl_add(&a, "192.0.2.0/24 key", err, sizeof(err)) < 0, "'key' without a name refused");
	ok(acl_add(&a, "192.0.2.0/24 kee x", err, sizeof(err)) < 0, "a typo refused: %s", err);
	ok(acl_add(&a, "192.0.2.0/24 key a b", err, sizeof(err)) < 0, "two names refused");
	acl_format(&a, 1, buf, sizeof(buf));
	is_str(buf, "192.0.2.0/24 key xfr-key.", "formatted with its key");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	dname_parse_text("xfr-key", 7, root, k1);
	dname_parse_text("other", 5, root, k2);
	ok(!acl_match(&a, (struct sockaddr *)&sin), "keyed entry: unsigned request does not match");
	ok(acl_match_key(&a, (struct sockaddr *)&sin, k1), "keyed entry: the right key matches");
	ok(!acl_match_key(&a, (struct sockaddr *)&sin, k2), "keyed entry: another key does not");
	inet_pton(AF_INET, "127.0.0.9", &sin.sin_addr);
	ok(acl_match_key(&a, (struct sockaddr *)&sin, k2),
	   "unkeyed entry: any verified key matches");
	ok(acl_match(&a, (struct sockaddr *)&sin), "unkeyed entry: unsigned matches");
	acl_free(&a);
}

static void test_peer_parse(void)
{
	struct dconf_peer p;
	char err[256], text[80];

	is_int(dconf_peer_parse("192.0.2.1", 53, &p, err, sizeof(err)), 0, "address alone");
	dconf_addr_format((struct sockaddr *)&p.addr.ss, text, sizeof(text));
	is_str(text, "192.0.2.1:53", "default port 53");
	ok(p.key[0] == 0, "no key");
	is_int(dconf_peer_parse("[2001:db8::1]:5300 key k1", 53, &p, err, sizeof(err)), 0,
	       "IPv6 with port and key");
	ok(p.key[0] == 2 && p.key[1] == 'k', "key name parsed");
	ok(dconf_peer_parse("192.0.2.1:99999", 53, &p, err, sizeof(err)) < 0, "bad port refused");
	ok(dconf_peer_parse("192.0.2.1 secret k", 53, &p, err, sizeof(err)) < 0,
	   "unknown word refused: %s", err);
}

/* A UDP port on 127.0.0.1 that nobody answers (bound, never read). */
static int silent_port(int *fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	*fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(*fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(*fd, (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

static cJSON *call(void (*fn)(struct tool_ctx *, const cJSON *, struct tool_result *),
		   struct tool_ctx *ctx, const char *json, bool *is_error, char *text, size_t cap)
{
	cJSON *args = cJSON_Parse(json), *out;
	struct tool_result res;

	memset(&res, 0, sizeof(res));
	fn(ctx, args, &res);
	cJSON_Delete(args);
	*is_error = res.is_error;
	/* the first line only: TAP descriptions are one line */
	snprintf(text, cap, "%.*s", res.text ? (int)strcspn(res.text, "\n") : 0,
		 res.text ? res.text : "");
	out = res.structured;
	res.structured = NULL;
	tool_result_clear(&res);
	return out;
}

static void test_mcpd_tools(sqlite3 *db)
{
	struct tool_ctx ctx;
	char dnsd[64], json[512], text[2048];
	bool err;
	cJSON *o;
	int fd, fd2, port = silent_port(&fd), port2 = silent_port(&fd2);

	/* Only loopback addresses are ever asked: zone_status sends queries. */

	snprintf(dnsd, sizeof(dnsd), "127.0.0.1:%d", port);
	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.actor = "test";
	ctx.can_write = true;
	ctx.zone_globs = "*";
	ctx.dnsd_addr = dnsd;

	o = call(tools_secondary_get, &ctx, "{\"zone\":\"Small.Test\"}", &err, text, sizeof(text));
	ok(!err && o && cJSON_IsTrue(cJSON_GetObjectItem(o, "secondaries_default")),
	   "get_zone_transfer: no rows, defaults apply");
	cJSON_Delete(o);
	{
		const char *bad[] = {
		    "{\"zone\":\"small.test\",\"secondaries\":[\"not-an-address\"]}",
		    "{\"zone\":\"small.test\",\"allow_transfer\":[\"10.0.0.1/8\"]}",
		    "{\"zone\":\"small.test\",\"allow_transfer\":[\"10.0.0.0/8 key\"]}",
		    "{\"zone\":\"small.test\",\"allow_transfer\":[\"none\",\"10.0.0.0/8\"]}",
		    "{\"zone\":\"small.test\",\"secondaries\":\"192.0.2.1\"}",
		    "{\"zone\":\"small.test\",\"secondary\":[\"192.0.2.1\"]}",
		    "{\"zone\":\"small.test\"}",
		    "{\"zone\":\"nope.test\",\"secondaries\":[]}",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			o = call(tools_secondary_set, &ctx, bad[i], &err, text, sizeof(text));
			ok(err && o == NULL, "set_zone_transfer refuses %s: %s", bad[i], text);
			cJSON_Delete(o);
		}
	}
	snprintf(json, sizeof(json),
		 "{\"zone\":\"small.test\",\"secondaries\":[\"127.0.0.1:%d key xfr-key\","
		 "\"127.0.0.1:%d\"],\"allow_transfer\":[\"127.0.0.0/8\",\"2001:db8::/32 key k\"]}",
		 port, port2);
	o = call(tools_secondary_set, &ctx, json, &err, text, sizeof(text));
	ok(!err && o && cJSON_GetArraySize(cJSON_GetObjectItem(o, "secondaries")) == 2 &&
	       cJSON_GetArraySize(cJSON_GetObjectItem(o, "allow_transfer")) == 2,
	   "set_zone_transfer stores both lists");
	ok(o && cJSON_IsFalse(cJSON_GetObjectItem(o, "dnsd_notified")),
	   "dnsd silent: saved, not notified (%s)", text);
	cJSON_Delete(o);
	{
		sqlite3_stmt *st;
		int n = 0;

		sqlite3_prepare_v2(db,
				   "SELECT count(*) FROM zone_settings s JOIN zones z ON z.id = "
				   "s.zone_id WHERE z.name = 'small.test.'",
				   -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		is_int(n, 4, "four rows in zone_settings (visible with sqlite3)");
	}
	o = call(tools_secondary_set, &ctx,
		 "{\"zone\":\"small.test\",\"allow_transfer\":[\"none\"]}", &err, text,
		 sizeof(text));
	ok(!err && o && cJSON_GetArraySize(cJSON_GetObjectItem(o, "secondaries")) == 2 &&
	       cJSON_IsFalse(cJSON_GetObjectItem(o, "allow_transfer_default")),
	   "only the given list is replaced; 'none' is an explicit empty list");
	cJSON_Delete(o);

	/* zone_status: dnsd and the secondaries are silent here */
	o = call(tools_secondary_zone_status, &ctx, "{\"zone\":\"small.test\",\"timeout_ms\":100}",
		 &err, text, sizeof(text));
	ok(!err && o, "zone_status answers: %s", text);
	if (o) {
		cJSON *peers = cJSON_GetObjectItem(o, "secondaries"),
		      *p0 = cJSON_GetArrayItem(peers, 0);

		is_int(cJSON_GetArraySize(peers), 2, "both secondaries listed");
		is_str(p0 ? cJSON_GetObjectItem(p0, "state")->valuestring : "", "no_answer",
		       "a silent secondary: no_answer");
		is_str(cJSON_GetObjectItem(o, "served")->valuestring, "unknown",
		       "a silent dnsd: unknown");
		ok(cJSON_IsFalse(cJSON_GetObjectItem(o, "in_sync")), "not in sync");
	}
	cJSON_Delete(o);
	o = call(tools_secondary_zone_status, &ctx, "{\"zone\":\"small.test\",\"timeout_ms\":99}",
		 &err, text, sizeof(text));
	ok(err, "timeout_ms below 100 refused");
	cJSON_Delete(o);
	o = call(tools_secondary_set, &ctx,
		 "{\"zone\":\"small.test\",\"secondaries\":[],\"allow_transfer\":[]}", &err, text,
		 sizeof(text));
	ok(!err && o && cJSON_IsTrue(cJSON_GetObjectItem(o, "secondaries_default")) &&
	       cJSON_IsTrue(cJSON_GetObjectItem(o, "allow_transfer_default")),
	   "[] removes the rows: defaults apply again");
	cJSON_Delete(o);
	ctx.can_write = false;
	o = call(tools_secondary_set, &ctx, "{\"zone\":\"small.test\",\"secondaries\":[]}", &err,
		 text, sizeof(text));
	ok(err, "a read-only token cannot set: %s", text);
	cJSON_Delete(o);
	close(fd);
	close(fd2);
}

int main(void)
{
	sqlite3 *db = fx_open();

	ok(db != NULL, "test database");
	if (db == NULL)
		return done_testing();
	test_axfr(db);
	test_axfr_order(db);
	test_signed_stream(db);
	test_too_big(db);
	test_ixfr(db);
	test_acl();
	test_peer_parse();
	test_mcpd_tools(db);
	sqlite3_close(db);
	return done_testing();
}
