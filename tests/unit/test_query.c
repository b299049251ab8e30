/*
 * test_query.c: golden tests for dnsd's protocol core, in-process, no
 * sockets. Each tests/golden/NAME.txt holds zone data (loaded into a real
 * SQLite database and built with zone_build_from_db) followed by cases:
 *
 *   query NAME TYPE [options]      a query built here, or
 *   raw HEX [options]              request bytes as given
 *   <expected response, one line per item, as printed below>
 *   end
 *
 * Options: edns edns=SIZE ednsver=N do ednsopt=CODE twoopt tcp rd cd tc
 * class=IN|CH|ANY|N opcode=N notify allow-notify maxudp=N id=N showsize
 * resp=CAP. The response is printed as
 *
 *   dropped                                    (no response), or
 *   header opcode=.. rcode=.. flags=.. [tc]
 *   question NAME CLASS TYPE
 *   answer|authority|additional OWNER TTL IN TYPE RDATA
 *   opt udp=.. version=.. flags=.. rcode=.. options=..
 *   size N                                     (with showsize)
 *   result rcode=.. error=.. notify=ZONE       (the query_result)
 *
 * Set GOLDEN_UPDATE=1 to rewrite the files with the actual output (then
 * review every change by hand). The rest of the file checks what golden
 * text cannot: hostile bytes never crash or hang, every prefix of a valid
 * query is handled, and the response never exceeds its limit.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "msg.h"
#include "query.h"
#include "rdata.h"
#include "tap.h"
#include "wire.h"
#include "zone.h"
#include "zone_fixture.h"
#include "zonefile.h"

/* ------------------------------------------------------------------ */
/* Printing a response */

struct out {
	char *s;
	size_t n, cap;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s + o->n, o->cap - o->n, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->n)
			break;
		o->cap = o->cap * 2 + (size_t)n + 256;
		o->s = realloc(o->s, o->cap);
	}
	o->n += (size_t)n;
}

static const char *rcode_name(int rc)
{
	static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
				      "NOTIMP",	 "REFUSED", "YXDOMAIN", "YXRRSET",
				      "NXRRSET", "NOTAUTH", "NOTZONE"};
	static char buf[16];

	if (rc >= 0 && rc < (int)(sizeof(names) / sizeof(names[0])))
		return names[rc];
	if (rc == 16)
		return "BADVERS";
	snprintf(buf, sizeof(buf), "RCODE%d", rc);
	return buf;
}

static const char *class_name(uint16_t c, char *buf, size_t cap)
{
	switch (c) {
	case 1:
		return "IN";
	case 3:
		return "CH";
	case 254:
		return "NONE";
	case 255:
		return "ANY";
	default:
		snprintf(buf, cap, "CLASS%u", c);
		return buf;
	}
}

static void print_response(struct out *o, const uint8_t *pkt, size_t len, bool showsize)
{
	static const char *secs[3] = {"answer", "authority", "additional"};
	struct msg_header h;
	struct wire w;
	uint8_t name[DNAME_MAXLEN], *rdbuf = malloc(65536);
	char line[70000], cls[16], type[24];
	int ext_rcode = 0;

	if (msg_parse_header(pkt, len, &h) < 0) {
		outf(o, "unparsable short response (%zu bytes)\n", len);
		free(rdbuf);
		return;
	}
	wire_init(&w, pkt, len);
	w.pos = DNS_HEADER_LEN;
	outf(o, "header opcode=%u rcode=%s flags=%s%s%s%s%s%s%s%s\n", DNS_OPCODE(h.flags),
	     rcode_name(DNS_RCODE(h.flags)), (h.flags & DNS_FLAG_QR) ? "qr" : "-",
	     (h.flags & DNS_FLAG_AA) ? " aa" : "", (h.flags & DNS_FLAG_TC) ? " tc" : "",
	     (h.flags & DNS_FLAG_RD) ? " rd" : "", (h.flags & DNS_FLAG_RA) ? " ra" : "",
	     (h.flags & DNS_FLAG_Z) ? " z" : "", (h.flags & DNS_FLAG_AD) ? " ad" : "",
	     (h.flags & DNS_FLAG_CD) ? " cd" : "");
	for (unsigned i = 0; i < h.qdcount; i++) {
		uint16_t t, c;

		if (dname_parse_wire(&w, name) < 0)
			break;
		t = wire_u16(&w);
		c = wire_u16(&w);
		dname_print(name, line, sizeof(line));
		rrtype_print(t, type, sizeof(type));
		outf(o, "question %s %s %s\n", line, class_name(c, cls, sizeof(cls)), type);
	}
	for (int s = 0; s < 3; s++) {
		unsigned cnt = s == 0 ? h.ancount : s == 1 ? h.nscount : h.arcount;

		for (unsigned i = 0; i < cnt; i++) {
			struct msg_rr rr;

			rr.rdata = rdbuf;
			rr.rdata_cap = 65536;
			if (msg_rr_next(&w, &rr) < 0) {
				outf(o, "%s unparsable (%s)\n", secs[s], err_str(w.err));
				goto done;
			}
			if (rr.type == RRTYPE_OPT) {
				ext_rcode = (int)(rr.ttl >> 24);
				outf(o, "opt udp=%u version=%u flags=%s%s rcode=%s options=%u",
				     rr.rclass, (rr.ttl >> 16) & 0xff,
				     (rr.ttl & EDNS_FLAG_DO) ? "do" : "-",
				     (rr.ttl & 0x7fff) ? "+other" : "",
				     rcode_name(ext_rcode << 4 | DNS_RCODE(h.flags)), rr.rdlen);
				/* options: "ede=N" for an RFC 8914 Extended DNS Error
				 * (INFO-CODE, then any EXTRA-TEXT), "opt=CODE/LEN" else */
				for (size_t k = 0; k + 4 <= rr.rdlen;) {
					unsigned code =
					    (unsigned)rr.rdata[k] << 8 | rr.rdata[k + 1];
					unsigned olen =
					    (unsigned)rr.rdata[k + 2] << 8 | rr.rdata[k + 3];

					if (k + 4 + olen > rr.rdlen) {
						outf(o, " opt-overrun");
						break;
					}
					if (code == 15 && olen >= 2)
						outf(o, " ede=%u%s",
						     (unsigned)rr.rdata[k + 4] << 8 |
							 rr.rdata[k + 5],
						     olen > 2 ? "+text" : "");
					else
						outf(o, " opt=%u/%u", code, olen);
					k += 4 + olen;
				}
				outf(o, "\n");
				continue;
			}
			if (zf_print_rr(rr.owner, rr.ttl, rr.type, rr.rdata, rr.rdlen, line,
					sizeof(line)) < 0)
				snprintf(line, sizeof(line), "(unprintable RR type %u)", rr.type);
			if (rr.rclass != RRCLASS_IN)
				outf(o, "%s [class %u] %s\n", secs[s], rr.rclass, line);
			else
				outf(o, "%s %s\n", secs[s], line);
		}
	}
	if (w.pos != len)
		outf(o, "trailing %zu bytes\n", len - w.pos);
done:
	if (showsize)
		outf(o, "size %zu\n", len);
	free(rdbuf);
}

/* ------------------------------------------------------------------ */
/* Building a query */

struct qopts {
	bool edns, dnssec, tcp, rd, cd, tc, notify_allowed, showsize, twoopt;
	int ednsver, opcode;
	uint16_t udp, qclass, maxudp, id, ednsopt;
	size_t respcap;
};

static int parse_opts(char *s, struct qopts *o)
{
	memset(o, 0, sizeof(*o));
	o->udp = 1232;
	o->qclass = RRCLASS_IN;
	o->maxudp = 1232;
	o->id = 0x1234;
	o->respcap = 65535;
	for (char *t = strtok(s, " \t"); t; t = strtok(NULL, " \t")) {
		if (!strcmp(t, "edns"))
			o->edns = true;
		else if (!strncmp(t, "edns=", 5))
			o->edns = true, o->udp = (uint16_t)atoi(t + 5);
		else if (!strncmp(t, "ednsver=", 8))
			o->edns = true, o->ednsver = atoi(t + 8);
		else if (!strcmp(t, "do"))
			o->edns = true, o->dnssec = true;
		else if (!strncmp(t, "ednsopt=", 8))
			o->edns = true, o->ednsopt = (uint16_t)atoi(t + 8);
		else if (!strcmp(t, "twoopt"))
			o->edns = true, o->twoopt = true;
		else if (!strcmp(t, "tcp"))
			o->tcp = true;
		else if (!strcmp(t, "rd"))
			o->rd = true;
		else if (!strcmp(t, "cd"))
			o->cd = true;
		else if (!strcmp(t, "tc"))
			o->tc = true;
		else if (!strcmp(t, "notify"))
			o->opcode = OPCODE_NOTIFY;
		else if (!strncmp(t, "opcode=", 7))
			o->opcode = atoi(t + 7);
		else if (!strcmp(t, "allow-notify"))
			o->notify_allowed = true;
		else if (!strcmp(t, "showsize"))
			o->showsize = true;
		else if (!strncmp(t, "maxudp=", 7))
			o->maxudp = (uint16_t)atoi(t + 7);
		else if (!strncmp(t, "id=", 3))
			o->id = (uint16_t)atoi(t + 3);
		else if (!strncmp(t, "resp=", 5))
			o->respcap = (size_t)atol(t + 5);
		else if (!strncmp(t, "class=", 6)) {
			const char *c = t + 6;

			o->qclass = !strcmp(c, "IN")	 ? 1
				    : !strcmp(c, "CH")	 ? 3
				    : !strcmp(c, "NONE") ? 254
				    : !strcmp(c, "ANY")	 ? 255
							 : (uint16_t)atoi(c);
		} else {
			printf("# unknown option %s\n", t);
			return -1;
		}
	}
	return 0;
}

static size_t build_query(const char *qname, const char *qtype, const struct qopts *o, uint8_t *buf,
			  size_t cap)
{
	struct msg_build b;
	uint8_t name[DNAME_MAXLEN];
	uint16_t flags = (uint16_t)(o->opcode << 11);
	int t;
	uint8_t opt[4];

	if (dname_parse_text(qname, strlen(qname), NULL, name) < 0)
		return 0;
	t = rrtype_parse(qtype, strlen(qtype));
	if (t < 0)
		return 0;
	if (o->rd)
		flags |= DNS_FLAG_RD;
	if (o->cd)
		flags |= DNS_FLAG_CD;
	if (o->tc)
		flags |= DNS_FLAG_TC;
	msg_build_init(&b, buf, cap, cap);
	msg_build_header(&b, o->id, flags);
	msg_build_question(&b, name, (uint16_t)t, o->qclass);
	if (o->edns) {
		opt[0] = (uint8_t)(o->ednsopt >> 8);
		opt[1] = (uint8_t)o->ednsopt;
		opt[2] = opt[3] = 0;
		for (int i = 0; i < (o->twoopt ? 2 : 1); i++)
			msg_build_opt(&b, o->udp, 0, (uint8_t)o->ednsver,
				      o->dnssec ? EDNS_FLAG_DO : 0, o->ednsopt ? opt : NULL,
				      o->ednsopt ? 4 : 0);
	}
	return msg_build_finish(&b);
}

static size_t parse_hex(const char *s, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	while (*s && n < cap) {
		unsigned v;

		while (*s && !isxdigit((unsigned char)*s))
			s++;
		if (!s[0] || !s[1] || sscanf(s, "%2x", &v) != 1)
			break;
		buf[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Running a golden file */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	s[n] = '\0';
	fclose(f);
	return s;
}

static struct zoneset *load_zones(sqlite3 *db)
{
	sqlite3_stmt *st;
	struct zone *zv[64];
	size_t n = 0;
	char err[1024];
	struct zoneset *zs;

	sqlite3_prepare_v2(db, "SELECT name FROM zones ORDER BY id", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct zone *z = zone_build_from_db(db, name, err, sizeof(err));

		ok(z != NULL, "zone %s builds%s%s", name, z ? "" : ": ", z ? "" : err);
		if (z)
			zv[n++] = z;
	}
	sqlite3_finalize(st);
	zs = zoneset_new(zv, n);
	for (size_t i = 0; i < n; i++)
		zone_unref(zv[i]);
	return zs;
}

static void run_case(const struct zoneset *zs, const char *cmd, struct out *o)
{
	char buf[2048], *rest;
	uint8_t req[65536], *resp;
	struct qopts qo;
	struct query_params p;
	struct query_result r;
	size_t reqlen, rlen;

	snprintf(buf, sizeof(buf), "%s", cmd);
	if (!strncmp(buf, "query ", 6)) {
		char qname[1024], qtype[64];
		int off = 0;

		if (sscanf(buf + 6, "%1023s %63s %n", qname, qtype, &off) < 2) {
			outf(o, "bad case line\n");
			return;
		}
		rest = buf + 6 + off;
		if (off == 0)
			rest = buf + strlen(buf);
		if (parse_opts(rest, &qo) < 0) {
			outf(o, "bad options\n");
			return;
		}
		reqlen = build_query(qname, qtype, &qo, req, sizeof(req));
	} else if (!strncmp(buf, "raw ", 4)) {
		char *opts = strchr(buf + 4, '|');

		if (opts)
			*opts++ = '\0';
		if (parse_opts(opts ? opts : buf + strlen(buf), &qo) < 0) {
			outf(o, "bad options\n");
			return;
		}
		reqlen = parse_hex(buf + 4, req, sizeof(req));
	} else {
		outf(o, "bad case line\n");
		return;
	}
	p.tcp = qo.tcp;
	p.notify_allowed = qo.notify_allowed;
	p.max_udp = qo.maxudp;
	resp = malloc(qo.respcap);
	rlen = query_process(zs, req, reqlen, resp, qo.respcap, &p, &r);
	if (rlen == 0) {
		outf(o, "dropped%s\n", r.dropped ? "" : " (but not flagged)");
	} else {
		print_response(o, resp, rlen, qo.showsize);
		if (!qo.tcp &&
		    rlen > (qo.edns
				? (qo.udp > qo.maxudp ? qo.maxudp : (qo.udp < 512 ? 512 : qo.udp))
				: 512))
			outf(o, "OVERSIZE %zu\n", rlen);
		outf(o, "result rcode=%s error=%d tc=%d%s%s\n", rcode_name(r.rcode), r.is_error,
		     r.truncated, r.notify ? " notify=" : "", r.notify ? r.notify_zone : "");
	}
	free(resp);
}

static int run_file(const char *path, bool update)
{
	char *text = read_file(path), *p;
	struct out newfile = {0};
	sqlite3 *db;
	struct zoneset *zs;
	size_t consumed;
	int cases = 0, failed = 0;

	if (text == NULL) {
		ok(0, "read %s", path);
		return 1;
	}
	db = fx_open();
	/* Zone data: everything up to the first "end" line. */
	p = strstr(text, "\nend\n");
	if (db == NULL || p == NULL || fx_load(db, text, &consumed) < 0) {
		ok(0, "%s: zone data loads", path);
		free(text);
		return 1;
	}
	zs = load_zones(db);
	p += 5;
	outf(&newfile, "%.*s", (int)(p - text), text);
	while (*p) {
		char *eol = strchr(p, '\n'), *end;
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);
		char cmd[2048];
		struct out got = {0};

		if (llen == 0 || p[0] == '#' ||
		    (strncmp(p, "query ", 6) && strncmp(p, "raw ", 4))) {
			/* comments and blank lines are kept as they are */
			outf(&newfile, "%.*s\n", (int)llen, p);
			p = eol ? eol + 1 : p + llen;
			continue;
		}
		snprintf(cmd, sizeof(cmd), "%.*s", (int)llen, p);
		p = eol ? eol + 1 : p + llen;
		end = strstr(p, "end\n");
		if (end == NULL) {
			ok(0, "%s: case '%s' has no end line", path, cmd);
			break;
		}
		outf(&got, "%s", "");
		run_case(zs, cmd, &got);
		cases++;
		if ((size_t)(end - p) != got.n || memcmp(p, got.s, got.n) != 0) {
			failed++;
			if (!update)
				printf("# %s: %s\n# --- expected\n%.*s# --- got\n%s", path, cmd,
				       (int)(end - p), p, got.s);
		}
		ok(update || ((size_t)(end - p) == got.n && memcmp(p, got.s, got.n) == 0), "%s: %s",
		   strrchr(path, '/') ? strrchr(path, '/') + 1 : path, cmd);
		outf(&newfile, "%s\n%send\n", cmd, got.s);
		free(got.s);
		p = end + 4;
	}
	if (update && failed) {
		FILE *f = fopen(path, "wb");

		if (f) {
			fwrite(newfile.s, 1, newfile.n, f);
			fclose(f);
			printf("# updated %s (%d of %d cases changed)\n", path, failed, cases);
		}
	}
	free(newfile.s);
	zoneset_free(zs);
	sqlite3_close(db);
	free(text);
	return failed;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_golden(void)
{
	const char *src = getenv("SRCDIR");
	char dir[1024], *names[256];
	int n = 0;
	DIR *d;
	struct dirent *e;
	bool update = getenv("GOLDEN_UPDATE") != NULL;

	snprintf(dir, sizeof(dir), "%s/tests/golden", src ? src : ".");
	d = opendir(dir);
	ok(d != NULL, "golden directory %s", dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(e->d_name);

		if (l > 4 && !strcmp(e->d_name + l - 4, ".txt"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmpstr);
	ok(n > 0, "%d golden files", n);
	for (int i = 0; i < n; i++) {
		char path[2048];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		run_file(path, update);
		free(names[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Hostile input */

static const char *HOSTILE_ZONE = "zone h.test.\n"
				  "h.test. 60 SOA ns.h.test. r.h.test. 1 1 1 1 1\n"
				  "h.test. 60 NS ns.h.test.\n"
				  "ns.h.test. 60 A 192.0.2.1\n"
				  "*.h.test. 60 CNAME h.test.\n"
				  "end\n";

static void test_hostile(void)
{
	sqlite3 *db = fx_open();
	struct zoneset *zs;
	uint8_t req[600], resp[65535];
	struct query_params p = {false, true, 1232};
	struct query_result r;
	struct qopts qo;
	char opts[] = "edns do rd";
	size_t qlen, oversize = 0, crashes = 0;
	uint32_t seed = 99;

	fx_load(db, HOSTILE_ZONE, NULL);
	zs = load_zones(db);
	parse_opts(opts, &qo);
	qlen = build_query("www.h.test.", "A", &qo, req, sizeof(req));
	ok(qlen > 12, "valid query built");

	/* Every prefix of a valid query: no crash, never an oversize reply. */
	for (size_t l = 0; l <= qlen; l++) {
		size_t n = query_process(zs, req, l, resp, 512, &p, &r);

		if (n > 512)
			oversize++;
	}
	is_int(oversize, 0, "prefixes of a valid query: no reply over 512");

	/* Random bit flips and random garbage. */
	for (int i = 0; i < 20000; i++) {
		uint8_t m[600];
		size_t l = i % 2 ? qlen : 12 + (size_t)(i % 200);

		memcpy(m, req, qlen);
		for (size_t k = qlen; k < l; k++)
			m[k] = 0;
		for (int f = 0; f < 1 + i % 8; f++) {
			seed = seed * 1103515245u + 12345u;
			if (i % 2)
				m[(seed >> 8) % l] ^= (uint8_t)(1u << ((seed >> 4) % 8));
			else
				m[(seed >> 8) % l] = (uint8_t)(seed >> 16);
		}
		m[2] &= 0x7f; /* keep QR clear so the packet gets parsed */
		size_t n = query_process(zs, m, l, resp, 512, &p, &r);
		if (n > 512)
			oversize++;
		if (n == 0 && !r.dropped)
			crashes++;
	}
	is_int(oversize, 0, "20000 mangled queries: no reply over 512");
	is_int(crashes, 0, "every empty reply is flagged dropped");

	/* A compression pointer loop in the question: FORMERR, promptly. */
	{
		static const uint8_t loop[] = {0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0,	 0,   0, 0,
					       0,    0,	   0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01};
		size_t n = query_process(zs, loop, sizeof(loop), resp, 512, &p, &r);

		ok(n >= 12 && r.rcode == RCODE_FORMERR && r.is_error, "pointer loop: FORMERR");
	}
	/* Response buffers smaller than 512 are refused, not overrun. */
	{
		size_t n = query_process(zs, req, qlen, resp, 100, &p, &r);

		ok(n == 0 && r.dropped, "respcap < 512 is refused");
	}
	zoneset_free(zs);
	sqlite3_close(db);
}

int main(void)
{
	run_golden();
	test_hostile();
	return done_testing();
}
