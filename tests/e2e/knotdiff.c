/*
 * knotdiff: differential test of dnsd's protocol core against Knot DNS.
 *
 *   knotdiff gen DIR [SEED]
 *	Writes a deterministic zone set with every answer kind (wildcards and
 *	wildcard CNAMEs, empty non-terminals, CNAME chains of every length
 *	and ending, DNAME in and out of the zone set, delegations with
 *	in-bailiwick, sibling and out-of-zone name servers, DS at cuts, a
 *	hosted child zone, RRsets too big for 512 octets) as master files for
 *	Knot (DIR/zones/NAME.zone, DIR/zones.txt) and as rows of a dnsd
 *	database (DIR/zones.db, every rdata passed through the codec so the
 *	text is canonical), plus DIR/queries.txt.
 *
 *   knotdiff freeport
 *	Prints a loopback port that is free for UDP and TCP.
 *
 *   knotdiff run DIR PORT [ALLOWLIST]
 *	Sends every query to Knot on 127.0.0.1:PORT over UDP and answers it
 *	in-process with query_process() over the zones built from
 *	DIR/zones.db; compares rcode, AA, TC, the echoed question (case
 *	included), the answer, authority and additional sections (sorted,
 *	TTLs included, record names compared case-insensitively; "glue" when
 *	the authority holds NS). Prints the identical share. A difference is
 *	expected when an allowlist line "PATTERN<TAB>PART<TAB>reason" has a
 *	PATTERN found in the query line and PART naming the first part that
 *	differs; those are counted apart. Any other difference is printed in
 *	full and fails the run (exit 1). KNOTDIFF_SHOW=substring prints both
 *	sides of the matching queries.
 *
 * Query lines: "KIND QNAME QTYPE [edns=N] [do] [opcode=N] [class=N]
 * [ednsver=N] [twoopt]"; KIND names the behaviour under test.
 */
/* Names here are short and bounded by construction; a truncated test name
 * would only make a query fail loudly, so the heuristic warning is noise. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "dname.h"
#include "err.h"
#include "msg.h"
#include "query.h"
#include "rdata.h"
#include "wire.h"
#include "zone.h"
#include "zonefile.h"

/* ------------------------------------------------------------------ */
/* Generator */

static uint32_t rng = 1;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static unsigned pick(unsigned n)
{
	return n ? rnd() % n : 0;
}

#define MAXNAMES 4096

struct gen {
	const char *dir;
	sqlite3 *db;
	FILE *zf, *qf;
	int64_t zid;
	char zone[256];
	char names[MAXNAMES][256]; /* owners of this zone, absolute */
	char types[MAXNAMES][64];  /* their types, space separated */
	int nnames;
	int nzones;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "knotdiff: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void note_name(struct gen *g, const char *owner, const char *type)
{
	for (int i = 0; i < g->nnames; i++)
		if (!strcmp(g->names[i], owner)) {
			if (!strstr(g->types[i], type) &&
			    strlen(g->types[i]) + strlen(type) + 2 < 64) {
				strcat(g->types[i], " ");
				strcat(g->types[i], type);
			}
			return;
		}
	if (g->nnames < MAXNAMES) {
		snprintf(g->names[g->nnames], 256, "%.255s", owner);
		snprintf(g->types[g->nnames], 64, "%s", type);
		g->nnames++;
	}
}

/* Adds one record; owner "@" is the apex, a name without a trailing dot is
 * relative to the zone. The rdata goes through the codec. */
static void rr(struct gen *g, const char *owner, uint32_t ttl, const char *type, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));

static void rr(struct gen *g, const char *owner, uint32_t ttl, const char *type, const char *fmt,
	       ...)
{
	char text[4096], abs[512], canon[8192];
	uint8_t wire[65536];
	struct text_err te;
	sqlite3_stmt *st;
	va_list ap;
	int t, n;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!strcmp(owner, "@"))
		snprintf(abs, sizeof(abs), "%s", g->zone);
	else if (owner[strlen(owner) - 1] == '.')
		snprintf(abs, sizeof(abs), "%s", owner);
	else
		snprintf(abs, sizeof(abs), "%s.%s", owner, g->zone);
	t = rrtype_parse(type, strlen(type));
	if (t < 0)
		die("type %s", type);
	n = rdata_parse_text((uint16_t)t, text, strlen(text), NULL, wire, sizeof(wire), &te);
	if (n < 0)
		die("%s %s %s: %s", abs, type, text, te.msg);
	if (rdata_print((uint16_t)t, wire, (size_t)n, canon, sizeof(canon)) < 0)
		die("print %s %s", abs, type);
	fprintf(g->zf, "%s %u IN %s %s\n", abs, ttl, type, canon);
	sqlite3_prepare_v2(
	    g->db, "INSERT INTO records(zone_id, name, type, ttl, data) VALUES(?1,?2,?3,?4,?5)", -1,
	    &st, NULL);
	sqlite3_bind_int64(st, 1, g->zid);
	sqlite3_bind_text(st, 2, abs, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ttl);
	sqlite3_bind_text(st, 5, canon, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("insert %s %s %s: %s", abs, type, canon, sqlite3_errmsg(g->db));
	sqlite3_finalize(st);
	note_name(g, abs, type);
}

static void begin_zone(struct gen *g, const char *zone, uint32_t serial)
{
	char path[1024];
	sqlite3_stmt *st;
	FILE *list;

	snprintf(g->zone, sizeof(g->zone), "%s", zone);
	snprintf(path, sizeof(path), "%s/zones/%szone", g->dir, zone); /* "z0.test.zone" */
	g->zf = fopen(path, "w");
	if (g->zf == NULL)
		die("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/zones.txt", g->dir);
	list = fopen(path, "a");
	fprintf(list, "%s\n", zone);
	fclose(list);
	sqlite3_prepare_v2(g->db, "INSERT INTO zones(name, serial) VALUES(?1, ?2)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, serial);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("zone %s: %s", zone, sqlite3_errmsg(g->db));
	sqlite3_finalize(st);
	g->zid = sqlite3_last_insert_rowid(g->db);
	g->nnames = 0;
}

static void q(struct gen *g, const char *kind, const char *name, const char *type, const char *opts)
{
	fprintf(g->qf, "%s %s %s%s%s\n", kind, name, type, opts && *opts ? " " : "",
		opts ? opts : "");
}

static const char *random_opts(void)
{
	switch (pick(20)) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:
		return "";
	case 10:
	case 11:
	case 12:
	case 13:
	case 14:
	case 15:
	case 16:
		return "edns=1232";
	case 17:
	case 18:
		return "edns=512 do";
	default:
		return "edns=4096";
	}
}

/* Random case for 0x20: the echo must keep it. */
static void mixcase(char *s)
{
	for (; *s; s++)
		if (isalpha((unsigned char)*s) && pick(2))
			*s = (char)toupper((unsigned char)*s);
}

static const char *QTYPES[] = {"A",  "AAAA", "MX",  "TXT", "NS",    "SOA",	 "CNAME",
			       "DS", "ANY",  "SRV", "CAA", "DNAME", "TYPE65000", "PTR"};

static void gen_zone(struct gen *g, int zi, int nz)
{
	char zone[64], other[64], name[512], buf[512];
	int hosts = 60 + (int)pick(40);

	snprintf(zone, sizeof(zone), "z%d.test.", zi);
	snprintf(other, sizeof(other), "z%d.test.", (zi + 1) % nz);
	begin_zone(g, zone, 2024000 + (uint32_t)zi);
	rr(g, "@", 3600, "SOA", "ns1.%s hostmaster.%s %u 7200 3600 1209600 %u", zone, zone,
	   2024000 + zi, zi % 2 ? 300 : 7200);
	rr(g, "@", 3600, "NS", "ns1.%s", zone);
	rr(g, "@", 3600, "NS", "ns2.%s", zone);
	rr(g, "ns1", 3600, "A", "192.0.2.%d", 1 + zi);
	rr(g, "ns1", 3600, "AAAA", "2001:db8::%d", 1 + zi);
	rr(g, "ns2", 3600, "A", "198.51.100.%d", 1 + zi);
	rr(g, "@", 3600, "A", "203.0.113.%d", zi);
	rr(g, "@", 3600, "AAAA", "2001:db8:1::%d", zi);
	rr(g, "@", 3600, "MX", "10 mail.%s", zone);
	rr(g, "@", 3600, "MX", "20 mail.%s", other);
	rr(g, "@", 3600, "TXT", "\"v=spf1 mx -all\"");
	rr(g, "@", 3600, "CAA", "0 issue \"ca.example.net\"");
	rr(g, "mail", 3600, "A", "192.0.2.%d", 100 + zi);
	rr(g, "mail", 3600, "AAAA", "2001:db8::%d", 100 + zi);

	for (int h = 0; h < hosts; h++) {
		snprintf(name, sizeof(name), "h%d", h);
		for (int k = 0, n = 1 + (int)pick(3); k < n; k++)
			rr(g, name, 300, "A", "10.%d.%d.%d", zi, h, k + 1);
		if (pick(2))
			rr(g, name, 300, "AAAA", "2001:db8:%x::%x", zi, h);
		if (pick(10) < 3)
			rr(g, name, 600, "TXT", "\"host %d\" \"of zone %d\"", h, zi);
		if (pick(10) < 1)
			rr(g, name, 600, "MX", "%d h%d.%s", (int)pick(50),
			   (int)pick((unsigned)hosts), zone);
		if (pick(10) < 1) {
			snprintf(buf, sizeof(buf), "_svc._tcp.%s", name);
			rr(g, buf, 600, "SRV", "0 5 443 h%d.%s", (int)pick((unsigned)h + 1), zone);
		}
		if (pick(10) < 1) {
			snprintf(buf, sizeof(buf), "a.b.%s", name); /* two ENTs? one: b.hN */
			rr(g, buf, 300, "A", "10.99.%d.%d", zi, h);
		}
	}
	/* Empty non-terminals with nothing at the top. */
	rr(g, "x.y.deep", 300, "TXT", "\"deep\"");
	rr(g, "a.b.c.deeper", 300, "A", "10.98.%d.1", zi);

	/* Wildcards (RFC 4592). */
	rr(g, "*.w", 300, "A", "10.97.%d.1", zi);
	rr(g, "*.w", 300, "TXT", "\"wild %d\"", zi);
	rr(g, "exists.w", 300, "TXT", "\"real\"");
	rr(g, "deep.ent.w", 300, "A", "10.97.%d.2", zi);
	rr(g, "*.cw", 300, "CNAME", "h1.%s", zone);
	rr(g, "*.dw", 300, "CNAME", "nowhere.%s", zone);
	rr(g, "*.ow", 300, "CNAME", "h2.%s", other);
	rr(g, "*.lw", 300, "CNAME", "x.lw.%s", zone);
	rr(g, "*.mxw", 300, "MX", "10 mail.%s", zone);
	rr(g, "a.*.nw", 300, "A", "10.97.%d.3", zi); /* wildcard owner that is an ENT */

	/* CNAME chains of length 1..7 with every kind of ending. */
	for (int c = 0; c < 14; c++) {
		int len = 1 + c % 7;
		const char *endings[] = {"h3",	     "deep", "nothere", "www.example.",
					 "h4.other", "loop", "foo.w"};
		const char *end = endings[c % 7];

		for (int k = 0; k < len; k++) {
			snprintf(name, sizeof(name), "ch%d-%d", c, k);
			if (k + 1 < len)
				rr(g, name, 120, "CNAME", "ch%d-%d.%s", c, k + 1, zone);
			else if (!strcmp(end, "loop"))
				rr(g, name, 120, "CNAME", "ch%d-0.%s", c, zone);
			else if (!strcmp(end, "www.example."))
				rr(g, name, 120, "CNAME", "www.example.");
			else if (!strcmp(end, "h4.other"))
				rr(g, name, 120, "CNAME", "h4.%s", other);
			else
				rr(g, name, 120, "CNAME", "%s.%s", end, zone);
		}
	}
	rr(g, "selfloop", 120, "CNAME", "selfloop.%s", zone);

	/* DNAME (RFC 6672): to another zone of the set, inside the zone
	 * (onto the wildcard), out of the set, and one that overflows. */
	rr(g, "dn", 300, "DNAME", "%s", other);
	rr(g, "dnl", 300, "DNAME", "w.%s", zone);
	rr(g, "dnx", 300, "DNAME", "example.invalid.");
	rr(g, "dnlong", 300, "DNAME", "%s.%s.%s.example.",
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	   "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");

	/* Delegations: in-bailiwick glue, sibling glue under another cut,
	 * an in-zone authoritative server, an out-of-zone one; DS. */
	rr(g, "sub", 3600, "NS", "ns.sub.%s", zone);
	rr(g, "sub", 3600, "NS", "ns.sub2.%s", zone);
	rr(g, "sub", 3600, "NS", "ns2.%s", zone);
	rr(g, "sub", 3600, "DS", "%d 13 2 %064x", 1000 + zi, zi);
	rr(g, "ns.sub", 3600, "A", "192.0.2.%d", 150 + zi);
	rr(g, "ns.sub", 3600, "AAAA", "2001:db8::%d", 150 + zi);
	rr(g, "mx.sub", 3600, "A", "192.0.2.%d", 160 + zi);
	rr(g, "sub2", 3600, "NS", "ns.sub2.%s", zone);
	rr(g, "ns.sub2", 3600, "A", "192.0.2.%d", 170 + zi);
	rr(g, "ext", 3600, "NS", "ns.example.net.");
	rr(g, "ext", 3600, "NS", "ns.example.org.");
	rr(g, "tocut", 300, "CNAME", "www.sub.%s", zone);
	rr(g, "mxcut", 300, "MX", "10 mx.sub.%s", zone);
	if (zi == 0) {
		rr(g, "child", 3600, "NS", "ns.child.%s", zone);
		rr(g, "child", 3600, "DS", "7 13 2 %064x", 7);
		rr(g, "ns.child", 3600, "A", "192.0.2.250");
	}

	/* Big RRsets: no room in 512 octets, and one not even in 1232. */
	for (int k = 0; k < 40; k++)
		rr(g, "biga", 60, "A", "10.96.%d.%d", zi, k);
	for (int k = 0; k < 14; k++)
		rr(g, "bigtxt", 60, "TXT", "\"%090d\"", k);
	for (int k = 0; k < 4; k++)
		rr(g, "midtxt", 60, "TXT", "\"%0100d\"", k);
	rr(g, "tobig", 60, "CNAME", "biga.%s", zone);
	fclose(g->zf);

	/* Queries: every owner with its own types and a few random ones, a
	 * name below it (NXDOMAIN, wildcard or referral), random case. */
	for (int i = 0; i < g->nnames; i++) {
		char types[64], *t, *save;

		snprintf(types, sizeof(types), "%s", g->types[i]);
		for (t = strtok_r(types, " ", &save); t; t = strtok_r(NULL, " ", &save))
			q(g, "own", g->names[i], t, random_opts());
		for (int k = 0; k < 2; k++)
			q(g, "type", g->names[i], QTYPES[pick(sizeof(QTYPES) / sizeof(QTYPES[0]))],
			  random_opts());
		snprintf(name, sizeof(name), "nx%u.%s", pick(1000), g->names[i]);
		q(g, "below", name, pick(2) ? "A" : "TXT", random_opts());
		if (pick(4) == 0) {
			snprintf(name, sizeof(name), "%s", g->names[i]);
			mixcase(name);
			q(g, "case", name, "A", random_opts());
		}
	}
	/* Names that do not exist, ENTs, wildcard expansions. */
	for (int k = 0; k < 40; k++) {
		snprintf(name, sizeof(name), "nope%d.%s", k, zone);
		q(g, "nxdomain", name, QTYPES[pick(9)], random_opts());
	}
	const char *special[] = {
	    "deep",    "y.deep",  "deeper",  "c.deeper",  "b.c.deeper", "b.h5",	  "w",
	    "ent.w",   "x.ent.w", "foo.w",   "a.b.foo.w", "*.w",	"foo.cw", "x.y.cw",
	    "foo.dw",  "foo.ow",  "a.lw",    "foo.mxw",	  "nw",		"*.nw",	  "foo.nw",
	    "a.*.nw",  "x.dn",	  "h1.dn",   "a.b.dn",	  "foo.dnl",	"x.dnx",  "dn",
	    "www.sub", "sub",	  "a.b.sub", "ns.sub",	  "sub2",	"ext",	  "x.ext",
	    "tocut",   "mxcut",	  "child",   "x.child",	  "biga",	"bigtxt", "midtxt",
	    "tobig",   "ch0-0"};
	for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++) {
		snprintf(name, sizeof(name), "%s.%s", special[k], zone);
		for (size_t t = 0; t < sizeof(QTYPES) / sizeof(QTYPES[0]); t++)
			q(g, "special", name, QTYPES[t],
			  t % 3 == 0   ? ""
			  : t % 3 == 1 ? "edns=1232"
				       : "edns=512 do");
	}
	/* DNAME overflow at N and N+1 octets (RFC 6672 §2.2): the target is
	 * 200 octets and the owner dnlong.zN.test. 16, so a first label of 54
	 * octets makes the result 255 octets exactly and 55 is YXDOMAIN. */
	for (int len = 52; len <= 55; len++) {
		memset(buf, 'q', (size_t)len);
		buf[len] = '\0';
		snprintf(name, sizeof(name), "%s.dnlong.%s", buf, zone);
		q(g, "dname-long", name, "A", "edns=1232");
	}
	/* Truncation for every buffer size around the boundary. */
	const int sizes[] = {0, 512, 513, 600, 700, 1000, 1232, 1400, 4096};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char opt[32];

		if (sizes[k])
			snprintf(opt, sizeof(opt), "edns=%d", sizes[k]);
		else
			opt[0] = '\0';
		snprintf(name, sizeof(name), "biga.%s", zone);
		q(g, "tc", name, "A", opt);
		snprintf(name, sizeof(name), "bigtxt.%s", zone);
		q(g, "tc", name, "TXT", opt);
		snprintf(name, sizeof(name), "tobig.%s", zone);
		q(g, "tc-cname", name, "A", opt);
		snprintf(name, sizeof(name), "midtxt.%s", zone);
		q(g, "tc", name, "TXT", opt);
	}
	/* Protocol edges. */
	q(g, "edns-badvers", zone, "SOA", "ednsver=1");
	q(g, "edns-twoopt", zone, "SOA", "twoopt");
	q(g, "edns-do", zone, "SOA", "do");
	q(g, "edns-small", zone, "SOA", "edns=100");
	q(g, "class-ch", zone, "SOA", "class=3");
	q(g, "class-any", zone, "SOA", "class=255");
	q(g, "class-none", zone, "SOA", "class=254");
	q(g, "opcode-unknown", zone, "SOA", "opcode=15");
	q(g, "opcode-update", zone, "SOA", "opcode=5");
	q(g, "opcode-status", zone, "SOA", "opcode=2");
	q(g, "axfr-udp", zone, "AXFR", "");
	q(g, "ixfr-udp", zone, "IXFR", "");
	q(g, "notify-denied", zone, "SOA", "opcode=4");
	q(g, "qtype0", zone, "TYPE0", "");
	q(g, "meta-type", zone, "TYPE128", "");
}

static int cmd_gen(const char *dir, uint32_t seed)
{
	struct gen *g = calloc(1, sizeof(*g));
	char path[1024], err[512];
	int nz = 5;

	rng = seed ? seed : 1;
	g->dir = dir;
	snprintf(path, sizeof(path), "%s/zones", dir);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/zones.txt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/zones.db", dir);
	unlink(path);
	if (db_open(path, DB_CREATE, &g->db, err, sizeof(err)) < 0 ||
	    db_migrate(g->db, err, sizeof(err)) < 0)
		die("%s", err);
	snprintf(path, sizeof(path), "%s/queries.txt", dir);
	g->qf = fopen(path, "w");
	if (g->qf == NULL)
		die("%s: %s", path, strerror(errno));
	sqlite3_exec(g->db, "BEGIN", NULL, NULL, NULL);
	for (int z = 0; z < nz; z++)
		gen_zone(g, z, nz);
	/* A child zone we also serve: DS comes from the parent side. */
	begin_zone(g, "child.z0.test.", 77);
	rr(g, "@", 600, "SOA", "ns.child.z0.test. h.child.z0.test. 77 600 600 600 60");
	rr(g, "@", 600, "NS", "ns.child.z0.test.");
	rr(g, "@", 600, "A", "192.0.2.251");
	rr(g, "ns", 600, "A", "192.0.2.250");
	rr(g, "www", 600, "CNAME", "child.z0.test.");
	fclose(g->zf);
	q(g, "child", "child.z0.test.", "DS", "");
	q(g, "child", "child.z0.test.", "SOA", "");
	q(g, "child", "child.z0.test.", "NS", "");
	q(g, "child", "www.child.z0.test.", "A", "edns=1232");
	q(g, "child", "nx.child.z0.test.", "A", "");
	q(g, "child", "nx.child.z0.test.", "DS", "");
	/* Outside every zone. */
	q(g, "refused", "www.example.invalid.", "A", "");
	q(g, "refused", "test.", "SOA", "edns=1232");
	q(g, "refused", ".", "NS", "");
	sqlite3_exec(g->db, "COMMIT", NULL, NULL, NULL);
	fclose(g->qf);
	sqlite3_close(g->db);
	free(g);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running */

struct qopt {
	int edns; /* 0: none, else payload size */
	bool dnssec, twoopt;
	int opcode, qclass, ednsver;
};

static size_t build_query(const char *qname, int qtype, const struct qopt *o, uint16_t id,
			  uint8_t *buf, size_t cap)
{
	struct msg_build b;
	uint8_t name[DNAME_MAXLEN];

	if (dname_parse_text(qname, strlen(qname), NULL, name) < 0)
		return 0;
	msg_build_init(&b, buf, cap, cap);
	msg_build_header(&b, id, (uint16_t)(o->opcode << 11));
	msg_build_question(&b, name, (uint16_t)qtype, (uint16_t)o->qclass);
	if (o->edns || o->twoopt || o->ednsver || o->dnssec)
		for (int i = 0; i < (o->twoopt ? 2 : 1); i++)
			msg_build_opt(&b, (uint16_t)(o->edns ? o->edns : 1232), 0,
				      (uint8_t)o->ednsver, o->dnssec ? EDNS_FLAG_DO : 0, NULL, 0);
	return msg_build_finish(&b);
}

/* A response reduced to what is compared. */
struct norm {
	int rcode;
	bool aa, tc, has_ns_auth, parsed;
	char qname[DNAME_TEXT_MAXLEN];
	char *sec[3]; /* sorted lines, joined */
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void normalise(const uint8_t *pkt, size_t len, struct norm *n)
{
	struct msg_header h;
	struct wire w;
	uint8_t name[DNAME_MAXLEN], *rd = malloc(65536);
	char *lines[3][512];
	int nl[3] = {0, 0, 0}, ext = 0;

	memset(n, 0, sizeof(*n));
	if (msg_parse_header(pkt, len, &h) < 0)
		goto out;
	wire_init(&w, pkt, len);
	w.pos = DNS_HEADER_LEN;
	if (h.qdcount == 1) {
		if (dname_parse_wire(&w, name) < 0)
			goto out;
		wire_skip(&w, 4);
		dname_print(name, n->qname, sizeof(n->qname));
	} else if (h.qdcount > 1) {
		goto out;
	}
	for (int s = 0; s < 3; s++) {
		unsigned cnt = s == 0 ? h.ancount : s == 1 ? h.nscount : h.arcount;

		for (unsigned i = 0; i < cnt; i++) {
			struct msg_rr r;
			char line[70000];

			r.rdata = rd;
			r.rdata_cap = 65536;
			if (msg_rr_next(&w, &r) < 0)
				goto out;
			if (r.type == RRTYPE_OPT) {
				ext = (int)(r.ttl >> 24);
				continue;
			}
			if (r.type == RRTYPE_NS && s == 1)
				n->has_ns_auth = true;
			if (zf_print_rr(r.owner, r.ttl, r.type, r.rdata, r.rdlen, line,
					sizeof(line)) < 0)
				snprintf(line, sizeof(line), "(type %u unprintable)", r.type);
			for (char *c = line; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (nl[s] < 512)
				lines[s][nl[s]++] = strdup(line);
		}
	}
	n->parsed = true;
	n->rcode = ext << 4 | DNS_RCODE(h.flags);
	n->aa = (h.flags & DNS_FLAG_AA) != 0;
	n->tc = (h.flags & DNS_FLAG_TC) != 0;
	for (int s = 0; s < 3; s++) {
		size_t total = 1;

		qsort(lines[s], (size_t)nl[s], sizeof(char *), cmp_line);
		for (int i = 0; i < nl[s]; i++)
			total += strlen(lines[s][i]) + 1;
		n->sec[s] = calloc(1, total);
		for (int i = 0; i < nl[s]; i++) {
			strcat(n->sec[s], lines[s][i]);
			strcat(n->sec[s], "\n");
			free(lines[s][i]);
		}
	}
out:
	for (int s = 0; s < 3; s++)
		if (n->sec[s] == NULL)
			n->sec[s] = strdup("");
	free(rd);
}

static void norm_free(struct norm *n)
{
	for (int s = 0; s < 3; s++)
		free(n->sec[s]);
}

static const char *diff_of(const struct norm *a, const struct norm *b)
{
	if (!a->parsed || !b->parsed)
		return a->parsed == b->parsed ? NULL : "parse";
	if (a->rcode != b->rcode)
		return "rcode";
	if (a->aa != b->aa)
		return "aa";
	if (a->tc != b->tc)
		return "tc";
	if (strcmp(a->qname, b->qname) != 0)
		return "question";
	if (strcmp(a->sec[0], b->sec[0]) != 0)
		return "answer";
	if (strcmp(a->sec[1], b->sec[1]) != 0)
		return "authority";
	if (strcmp(a->sec[2], b->sec[2]) != 0)
		return (a->has_ns_auth || b->has_ns_auth) ? "glue" : "additional";
	return NULL;
}

static void print_norm(const char *who, const struct norm *n)
{
	printf("  %s: rcode=%d aa=%d tc=%d qname=%s\n", who, n->rcode, n->aa, n->tc, n->qname);
	for (int s = 0; s < 3; s++) {
		static const char *names[3] = {"answer", "authority", "additional"};
		const char *p = n->sec[s];

		while (*p) {
			const char *e = strchr(p, '\n');

			printf("    %s %.*s\n", names[s], (int)(e - p), p);
			p = e + 1;
		}
	}
}

static size_t ask_knot(int fd, const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	uint16_t id = wire_get_u16(req);

	for (int attempt = 0; attempt < 3; attempt++) {
		struct pollfd pfd = {fd, POLLIN, 0};

		if (send(fd, req, len, 0) < 0)
			return 0;
		while (poll(&pfd, 1, 2000) > 0) {
			ssize_t n = recv(fd, resp, cap, 0);

			if (n >= 12 && wire_get_u16(resp) == id)
				return (size_t)n;
		}
	}
	return 0;
}

struct allow {
	char pattern[256]; /* substring of the query line */
	char what[32];	   /* the part that may differ (diff_of's names) */
	char reason[512];
	int hits;
};

static int cmd_run(const char *dir, int port, const char *allowfile)
{
	char path[1024], line[2048], err[1024];
	struct allow allow[64];
	int nallow = 0, total = 0, same = 0, allowed = 0, unexpected = 0, noreply = 0;
	sqlite3 *db;
	sqlite3_stmt *st;
	struct zone *zv[64];
	size_t nz = 0;
	struct zoneset *zs;
	struct sockaddr_in sa;
	FILE *qf;
	int fd;
	uint16_t id = 1;
	const char *show = getenv("KNOTDIFF_SHOW"); /* print both sides of matching queries */

	if (allowfile) {
		FILE *af = fopen(allowfile, "r");

		if (af == NULL)
			die("%s: %s", allowfile, strerror(errno));
		while (fgets(line, sizeof(line), af) && nallow < 64) {
			char *tab = strchr(line, '\t'), *tab2 = tab ? strchr(tab + 1, '\t') : NULL;

			if (line[0] == '#' || tab2 == NULL)
				continue;
			*tab = *tab2 = '\0';
			snprintf(allow[nallow].pattern, sizeof(allow[nallow].pattern), "%.255s",
				 line);
			snprintf(allow[nallow].what, sizeof(allow[nallow].what), "%.31s", tab + 1);
			snprintf(allow[nallow].reason, sizeof(allow[nallow].reason), "%.511s",
				 tab2 + 1);
			allow[nallow].reason[strcspn(allow[nallow].reason, "\n")] = '\0';
			allow[nallow].hits = 0;
			nallow++;
		}
		fclose(af);
	}
	snprintf(path, sizeof(path), "%s/zones.db", dir);
	if (db_open(path, DB_READONLY, &db, err, sizeof(err)) < 0)
		die("%s", err);
	sqlite3_prepare_v2(db, "SELECT name FROM zones ORDER BY id", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW && nz < 64) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		zv[nz] = zone_build_from_db(db, name, err, sizeof(err));
		if (zv[nz] == NULL)
			die("%s", err);
		nz++;
	}
	sqlite3_finalize(st);
	zs = zoneset_new(zv, nz);
	for (size_t i = 0; i < nz; i++)
		zone_unref(zv[i]);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("socket: %s", strerror(errno));

	snprintf(path, sizeof(path), "%s/queries.txt", dir);
	qf = fopen(path, "r");
	if (qf == NULL)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), qf)) {
		char kind[64], qname[1024], qtype[32], opts[512] = "";
		uint8_t req[4096], kresp[65536], dresp[65536];
		struct query_params p = {false, false, DNS_EDNS_OUR_SIZE};
		struct query_result r;
		struct qopt o = {0, false, false, 0, 1, 0};
		struct norm kn, dn;
		size_t reqlen, klen, dlen;
		const char *what;
		int t, off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%63s %1023s %31s %n", kind, qname, qtype, &off) < 3)
			continue;
		if (off > 0)
			snprintf(opts, sizeof(opts), "%s", line + off);
		for (char *tok = strtok(opts, " "); tok; tok = strtok(NULL, " ")) {
			if (!strncmp(tok, "edns=", 5))
				o.edns = atoi(tok + 5);
			else if (!strcmp(tok, "do"))
				o.dnssec = true;
			else if (!strcmp(tok, "twoopt"))
				o.twoopt = true;
			else if (!strncmp(tok, "opcode=", 7))
				o.opcode = atoi(tok + 7);
			else if (!strncmp(tok, "class=", 6))
				o.qclass = atoi(tok + 6);
			else if (!strncmp(tok, "ednsver=", 8))
				o.ednsver = atoi(tok + 8);
		}
		t = rrtype_parse(qtype, strlen(qtype));
		if (t < 0)
			die("bad type in %s", line);
		reqlen = build_query(qname, t, &o, id++, req, sizeof(req));
		if (reqlen == 0)
			die("cannot build %s", line);
		total++;
		klen = ask_knot(fd, req, reqlen, kresp, sizeof(kresp));
		dlen = query_process(zs, req, reqlen, dresp, sizeof(dresp), &p, &r);
		if (klen == 0)
			noreply++;
		normalise(kresp, klen, &kn);
		normalise(dresp, dlen, &dn);
		what = diff_of(&kn, &dn);
		if (show != NULL && strstr(line, show)) {
			printf("SHOW (%s): %s\n", what ? what : "same", line);
			print_norm("knot", &kn);
			print_norm("dnsd", &dn);
		}
		if (what == NULL) {
			same++;
		} else {
			int a;

			for (a = 0; a < nallow; a++)
				if (strstr(line, allow[a].pattern) && !strcmp(what, allow[a].what))
					break;
			if (a < nallow) {
				allowed++;
				allow[a].hits++;
			} else {
				unexpected++;
				printf("DIFF (%s): %s\n", what, line);
				print_norm("knot", &kn);
				print_norm("dnsd", &dn);
			}
		}
		norm_free(&kn);
		norm_free(&dn);
	}
	fclose(qf);
	close(fd);
	zoneset_free(zs);
	sqlite3_close(db);

	printf("queries: %d, identical: %d (%.2f%%), allowlisted differences: %d, "
	       "unexpected differences: %d, no reply from knot: %d\n",
	       total, same, total ? 100.0 * same / total : 0.0, allowed, unexpected, noreply);
	for (int a = 0; a < nallow; a++)
		printf("  allowlisted %4d x %s (%s): %s\n", allow[a].hits, allow[a].pattern,
		       allow[a].what, allow[a].reason);
	return unexpected == 0 && total > 0 ? 0 : 1;
}

/* A loopback port free for both UDP and TCP right now (the caller starts
 * Knot on it at once; a race with another process is retried by the
 * caller's readiness check failing). */
static int cmd_freeport(void)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
		int port = -1;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(u, (struct sockaddr *)&sa, &sl) == 0 &&
		    bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			port = ntohs(sa.sin_port);
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (port > 0) {
			printf("%d\n", port);
			return 0;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "freeport"))
		return cmd_freeport();
	if (argc >= 3 && !strcmp(argv[1], "gen"))
		return cmd_gen(argv[2], argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1);
	if (argc >= 4 && !strcmp(argv[1], "run"))
		return cmd_run(argv[2], atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	fprintf(stderr, "usage: knotdiff gen DIR [SEED] | knotdiff run DIR PORT [ALLOWLIST]\n");
	return 2;
}
