/*
 * dnsq: a small DNS query tool for the end-to-end tests, built on c-ares so
 * the daemon is checked by a client nobody on the team wrote.
 *
 *   dnsq [opts] SERVER PORT NAME TYPE [NAME TYPE ...]   queries (c-ares)
 *   dnsq [opts] --notify ZONE SERVER PORT                a NOTIFY (c-ares)
 *   dnsq [opts] --pipeline SERVER PORT NAME TYPE ...     all queries in one TCP
 *                                                       write (plain socket)
 *   dnsq --raw FILE.hex --udp|--tcp SERVER PORT          replay a hex vector
 *
 * Options: --tcp, --udp, --edns N (add OPT with payload N), --edns-version V,
 * --do, --rd, --cd, --class CLASS, --timeout MS (default 2000), --id N.
 *
 * Queries are built by hand with common/msg.h and handed to ares_send(), so
 * flags, opcode and EDNS are exactly what the test asked for (c-ares would
 * otherwise add RD and its own OPT). c-ares is told not to judge replies
 * (ARES_FLAG_NOCHECKRESP: REFUSED reaches us), not to retry truncated UDP
 * over TCP (ARES_FLAG_IGNTC: the test sees TC) and to try once.
 *
 * Raw vectors and --pipeline use plain sockets: c-ares refuses to send
 * malformed messages (it parses the question to match the reply) and
 * serialises nothing in a way a test could rely on for pipelining.
 *
 * Output, one block per reply, stable for grep and diff:
 *   rcode NOERROR
 *   opcode QUERY
 *   flags qr aa
 *   edns version 0 udp 1232 flags do        (or "edns none")
 *   question www.example.com. IN A
 *   answer www.example.com. 3600 IN A 192.0.2.1
 *   authority ...
 *   additional ...
 * "no reply" when nothing came back in time. Exit status: 0 when every
 * query got a reply, 1 otherwise, 2 on usage errors.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dname.h"
#include "err.h"
#include "msg.h"
#include "rdata.h"
#include "wire.h"

#define MAX_QUERIES 64

struct opts {
	bool tcp, udp, pipeline;
	int edns;	  /* -1: no OPT */
	int edns_version; /* OPT version field */
	bool dnssec_ok, rd, cd;
	uint16_t qclass;
	int timeout_ms;
	int id; /* -1: random */
	const char *notify_zone;
	const char *raw_file;
};

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: dnsq [--tcp] [--edns N] [--edns-version V] [--do] [--rd] [--cd]\n"
	    "            [--class C] [--timeout MS] [--id N] SERVER PORT NAME TYPE [NAME TYPE...]\n"
	    "       dnsq [--tcp] --notify ZONE SERVER PORT\n"
	    "       dnsq --pipeline [opts] SERVER PORT NAME TYPE [NAME TYPE ...]\n"
	    "       dnsq --raw FILE.hex --udp|--tcp [--timeout MS] SERVER PORT\n");
	exit(2);
}

/* ------------------------------------------------------------ printing */

static const char *rcode_name(int rc)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					    "NXRRSET", "NOTAUTH", "NOTZONE"};
	static char buf[16];

	if (rc >= 0 && rc < (int)(sizeof(names) / sizeof(names[0])))
		return names[rc];
	if (rc == 16)
		return "BADVERS";
	snprintf(buf, sizeof(buf), "RCODE%d", rc);
	return buf;
}

static const char *opcode_name(int op)
{
	static char buf[16];

	switch (op) {
	case 0:
		return "QUERY";
	case 1:
		return "IQUERY";
	case 2:
		return "STATUS";
	case 4:
		return "NOTIFY";
	case 5:
		return "UPDATE";
	default:
		snprintf(buf, sizeof(buf), "OPCODE%d", op);
		return buf;
	}
}

static void class_print(uint16_t c, char *buf, size_t cap)
{
	switch (c) {
	case 1:
		snprintf(buf, cap, "IN");
		break;
	case 3:
		snprintf(buf, cap, "CH");
		break;
	case 4:
		snprintf(buf, cap, "HS");
		break;
	case 254:
		snprintf(buf, cap, "NONE");
		break;
	case 255:
		snprintf(buf, cap, "ANY");
		break;
	default:
		snprintf(buf, cap, "CLASS%u", c);
	}
}

static int class_parse(const char *s)
{
	if (strcasecmp(s, "IN") == 0)
		return 1;
	if (strcasecmp(s, "CH") == 0)
		return 3;
	if (strcasecmp(s, "HS") == 0)
		return 4;
	if (strcasecmp(s, "NONE") == 0)
		return 254;
	if (strcasecmp(s, "ANY") == 0)
		return 255;
	if (strncasecmp(s, "CLASS", 5) == 0 && s[5])
		return atoi(s + 5);
	return -1;
}

/* Prints one reply; returns 0, or -1 when it does not parse (reported). */
static int print_reply(const uint8_t *pkt, size_t len)
{
	static const char *const secname[] = {"answer", "authority", "additional"};
	struct msg_header h;
	struct wire w;
	uint8_t *rdbuf = malloc(RDATA_MAXLEN + 1);
	char *text = malloc(4 * RDATA_MAXLEN + 64);
	char name[DNAME_TEXT_MAXLEN], type[32], cls[16];
	uint16_t counts[3];
	int i, s, rcode, rc = -1;
	bool edns_seen = false;
	char edns_line[128] = "edns none";

	if (rdbuf == NULL || text == NULL)
		goto out;
	if (msg_parse_header(pkt, len, &h) != 0) {
		printf("malformed reply: %zu bytes, shorter than a header\n", len);
		goto out;
	}
	rcode = DNS_RCODE(h.flags);
	wire_init(&w, pkt, len);
	wire_skip(&w, DNS_HEADER_LEN);
	/* questions first: they are printed after the header lines */
	{
		char qlines[4][DNAME_TEXT_MAXLEN + 96];
		int nq = 0;

		for (i = 0; i < h.qdcount; i++) {
			uint8_t qn[DNAME_MAXLEN];
			uint16_t qt, qc;

			if (dname_parse_wire(&w, qn) < 0)
				break;
			qt = wire_u16(&w);
			qc = wire_u16(&w);
			if (w.err)
				break;
			dname_print(qn, name, sizeof(name));
			rrtype_print(qt, type, sizeof(type));
			class_print(qc, cls, sizeof(cls));
			if (nq < 4)
				snprintf(qlines[nq++], sizeof(qlines[0]), "question %s %s %s", name,
					 cls, type);
		}
		if (w.err) {
			printf("malformed reply: question: %s\n", err_str(w.err));
			goto out;
		}
		counts[0] = h.ancount;
		counts[1] = h.nscount;
		counts[2] = h.arcount;
		/* find OPT before printing the rcode (extended rcode, RFC 6891 §6.1.3) */
		{
			struct wire w2 = w;
			struct msg_rr rr;
			int total = counts[0] + counts[1] + counts[2];

			for (i = 0; i < total; i++) {
				rr.rdata = rdbuf;
				rr.rdata_cap = RDATA_MAXLEN + 1;
				if (msg_rr_next(&w2, &rr) != 0)
					break;
				if (rr.type == RRTYPE_OPT && i >= counts[0] + counts[1]) {
					uint8_t ext = (uint8_t)(rr.ttl >> 24);
					uint8_t ver = (uint8_t)(rr.ttl >> 16);
					uint16_t fl = (uint16_t)rr.ttl;

					rcode |= ext << 4;
					snprintf(edns_line, sizeof(edns_line),
						 "edns version %u udp %u flags%s%s", ver, rr.rclass,
						 (fl & EDNS_FLAG_DO) ? " do" : "",
						 (fl & ~EDNS_FLAG_DO) ? " mbz" : "");
					if (edns_seen)
						strcat(edns_line, " (second OPT!)");
					edns_seen = true;
				}
			}
		}
		printf("rcode %s\n", rcode_name(rcode));
		printf("opcode %s\n", opcode_name(DNS_OPCODE(h.flags)));
		printf("flags%s%s%s%s%s%s%s%s\n", (h.flags & DNS_FLAG_QR) ? " qr" : "",
		       (h.flags & DNS_FLAG_AA) ? " aa" : "", (h.flags & DNS_FLAG_TC) ? " tc" : "",
		       (h.flags & DNS_FLAG_RD) ? " rd" : "", (h.flags & DNS_FLAG_RA) ? " ra" : "",
		       (h.flags & DNS_FLAG_Z) ? " z" : "", (h.flags & DNS_FLAG_AD) ? " ad" : "",
		       (h.flags & DNS_FLAG_CD) ? " cd" : "");
		printf("%s\n", edns_line);
		for (i = 0; i < nq; i++)
			printf("%s\n", qlines[i]);
	}
	for (s = 0; s < 3; s++) {
		for (i = 0; i < counts[s]; i++) {
			struct msg_rr rr;
			int n;

			rr.rdata = rdbuf;
			rr.rdata_cap = RDATA_MAXLEN + 1;
			if (msg_rr_next(&w, &rr) != 0) {
				printf("malformed reply: %s record %d: %s\n", secname[s], i,
				       err_str(w.err));
				goto out;
			}
			if (rr.type == RRTYPE_OPT && s == 2)
				continue; /* shown on the edns line */
			dname_print(rr.owner, name, sizeof(name));
			rrtype_print(rr.type, type, sizeof(type));
			class_print(rr.rclass, cls, sizeof(cls));
			n = rdata_print(rr.type, rr.rdata, rr.rdlen, text, 4 * RDATA_MAXLEN + 64);
			if (n < 0) {
				/* RFC 3597 generic form for what the codec will not print */
				int k, o = snprintf(text, 32, "\\# %u ", rr.rdlen);
				for (k = 0; k < rr.rdlen; k++)
					o += sprintf(text + o, "%02x", rr.rdata[k]);
			}
			printf("%s %s %u %s %s %s\n", secname[s], name, rr.ttl, cls, type, text);
		}
	}
	if (w.pos != len)
		printf("trailing %zu bytes\n", len - w.pos);
	rc = 0;
out:
	free(rdbuf);
	free(text);
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------------ building */

static uint16_t next_id(struct opts *o)
{
	if (o->id >= 0)
		return (uint16_t)o->id++;
	return (uint16_t)(rand() & 0xffff);
}

static int parse_name(const char *s, uint8_t out[DNAME_MAXLEN])
{
	static const uint8_t root[1] = {0};

	return dname_parse_text(s, strlen(s), root, out);
}

/* Builds a query or NOTIFY into buf; returns its length or exits. */
static size_t build_msg(struct opts *o, uint16_t id, int opcode, const uint8_t *qname,
			uint16_t qtype, uint8_t *buf, size_t cap)
{
	struct msg_build b;
	uint16_t flags = (uint16_t)(opcode << 11);

	if (o->rd)
		flags |= DNS_FLAG_RD;
	if (o->cd)
		flags |= DNS_FLAG_CD;
	if (opcode == OPCODE_NOTIFY)
		flags |= DNS_FLAG_AA; /* RFC 1996 §3.7 */
	msg_build_init(&b, buf, cap, cap);
	msg_build_header(&b, id, flags);
	if (msg_build_question(&b, qname, qtype, o->qclass) != 0)
		goto fail;
	if (o->edns >= 0 && msg_build_opt(&b, (uint16_t)o->edns, 0, (uint8_t)o->edns_version,
					  o->dnssec_ok ? EDNS_FLAG_DO : 0, NULL, 0) != 0)
		goto fail;
	return msg_build_finish(&b);
fail:
	fprintf(stderr, "dnsq: cannot build the query\n");
	exit(2);
}

/* ------------------------------------------------------------ c-ares */

struct pending {
	bool done;
	int status;
	uint8_t *reply;
	int len;
};

static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;

	(void)timeouts;
	p->done = true;
	p->status = status;
	if (status == ARES_SUCCESS && abuf && alen > 0) {
		p->reply = malloc((size_t)alen);
		if (p->reply) {
			memcpy(p->reply, abuf, (size_t)alen);
			p->len = alen;
		}
	}
}

static int run_ares(struct opts *o, const char *server, const char *port, uint8_t **msgs,
		    size_t *lens, int n)
{
	struct ares_options ao;
	ares_channel ch;
	struct pending pend[MAX_QUERIES];
	char csv[128];
	int i, rc, failures = 0;

	memset(&ao, 0, sizeof(ao));
	memset(pend, 0, sizeof(pend));
	ao.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_IGNTC | ARES_FLAG_NOSEARCH |
		   (o->tcp ? ARES_FLAG_USEVC : 0);
	ao.timeout = o->timeout_ms;
	ao.tries = 1;
	ao.lookups = (char *)"b";
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		fprintf(stderr, "dnsq: ares_library_init failed\n");
		return 2;
	}
	rc = ares_init_options(
	    &ch, &ao, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS) {
		fprintf(stderr, "dnsq: ares_init_options: %s\n", ares_strerror(rc));
		return 2;
	}
	if (strchr(server, ':'))
		snprintf(csv, sizeof(csv), "[%s]:%s", server, port);
	else
		snprintf(csv, sizeof(csv), "%s:%s", server, port);
	rc = ares_set_servers_ports_csv(ch, csv);
	if (rc != ARES_SUCCESS) {
		fprintf(stderr, "dnsq: bad server %s: %s\n", csv, ares_strerror(rc));
		ares_destroy(ch);
		return 2;
	}
	for (i = 0; i < n; i++)
		ares_send(ch, msgs[i], (int)lens[i], ares_cb, &pend[i]);
	/* ares_send may complete synchronously on errors; the loop below runs
	 * until every query has its callback */
	for (;;) {
		fd_set rfds, wfds;
		struct timeval tv, *tvp;
		int nfds, alldone = 1;

		for (i = 0; i < n; i++)
			if (!pend[i].done)
				alldone = 0;
		if (alldone)
			break;

		FD_ZERO(&rfds);
		FD_ZERO(&wfds);
		nfds = ares_fds(ch, &rfds, &wfds);
		if (nfds == 0)
			break;
		tvp = ares_timeout(ch, NULL, &tv);
		if (select(nfds, &rfds, &wfds, NULL, tvp) < 0 && errno != EINTR)
			break;
		ares_process(ch, &rfds, &wfds);
	}
	for (i = 0; i < n; i++) {
		if (n > 1)
			printf(";; reply %d\n", i + 1);
		if (pend[i].done && pend[i].status == ARES_SUCCESS && pend[i].reply) {
			if (print_reply(pend[i].reply, (size_t)pend[i].len) != 0)
				failures++;
		} else {
			printf("no reply (%s)\n",
			       pend[i].done ? ares_strerror(pend[i].status) : "not answered");
			failures++;
		}
		free(pend[i].reply);
	}
	fflush(stdout);
	ares_destroy(ch);
	ares_library_cleanup();
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------ sockets */

static int connect_to(const char *server, const char *port, int type, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, p = atoi(port);

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, server, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)p);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, server, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)p);
		len = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "dnsq: '%s' is not an IP address\n", server);
		exit(2);
	}
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("dnsq: socket");
		exit(2);
	}
	{
		struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		printf("no reply (connect: %s)\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes before the deadline: 1, 0 on EOF, -1 on timeout. */
static int read_full(int fd, uint8_t *buf, size_t n, long long deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - now_ms();
		ssize_t k;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			return -1;
		k = recv(fd, buf + got, n - got, 0);
		if (k == 0)
			return 0;
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 0; /* reset counts as closed */
		}
		got += (size_t)k;
	}
	return 1;
}

/* Reads one length-prefixed reply and prints it. 0, or 1 on no reply. */
static int tcp_read_reply(int fd, long long deadline)
{
	uint8_t hdr[2], *buf;
	size_t len;
	int rc;

	rc = read_full(fd, hdr, 2, deadline);
	if (rc <= 0) {
		printf("no reply (%s)\n", rc == 0 ? "connection closed" : "timeout");
		return 1;
	}
	len = (size_t)wire_get_u16(hdr);
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return 1;
	rc = read_full(fd, buf, len, deadline);
	if (rc <= 0) {
		printf("no reply (%s mid-message)\n", rc == 0 ? "connection closed" : "timeout");
		free(buf);
		return 1;
	}
	rc = print_reply(buf, len) == 0 ? 0 : 1;
	free(buf);
	return rc;
}

static int send_all(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t k = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)k;
	}
	return 0;
}

static int run_pipeline(struct opts *o, const char *server, const char *port, uint8_t **msgs,
			size_t *lens, int n)
{
	uint8_t *all;
	size_t total = 0, off = 0;
	long long deadline;
	int fd, i, failures = 0;

	for (i = 0; i < n; i++)
		total += 2 + lens[i];
	all = malloc(total);
	if (all == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		all[off] = (uint8_t)(lens[i] >> 8);
		all[off + 1] = (uint8_t)lens[i];
		memcpy(all + off + 2, msgs[i], lens[i]);
		off += 2 + lens[i];
	}
	fd = connect_to(server, port, SOCK_STREAM, o->timeout_ms);
	if (fd < 0) {
		free(all);
		return 1;
	}
	/* one write: every query is on the wire before any answer is read */
	if (send_all(fd, all, total) != 0) {
		printf("no reply (send: %s)\n", strerror(errno));
		close(fd);
		free(all);
		return 1;
	}
	deadline = now_ms() + o->timeout_ms;
	for (i = 0; i < n; i++) {
		printf(";; reply %d\n", i + 1);
		if (tcp_read_reply(fd, deadline) != 0) {
			failures += n - i;
			break;
		}
	}
	close(fd);
	free(all);
	return failures ? 1 : 0;
}

/* Parses hex digits from a vector file ('#' comments, any blanks). */
static uint8_t *read_hex(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	int c, hi = -1;

	if (f == NULL) {
		fprintf(stderr, "dnsq: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((c = fgetc(f)) != EOF) {
		int v;

		if (c == '#') {
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		else {
			fprintf(stderr, "dnsq: %s: unexpected character '%c'\n", path, c);
			exit(2);
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			buf = realloc(buf, cap);
			if (buf == NULL)
				exit(2);
		}
		buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	fclose(f);
	if (hi >= 0) {
		fprintf(stderr, "dnsq: %s: odd number of hex digits\n", path);
		exit(2);
	}
	*len = n;
	return buf ? buf : calloc(1, 1);
}

static int run_raw(struct opts *o, const char *server, const char *port)
{
	size_t len;
	uint8_t *msg = read_hex(o->raw_file, &len);
	int fd, rc = 1;

	if (o->tcp) {
		uint8_t *framed;

		if (len > DNS_TCP_MAXSIZE) {
			fprintf(stderr, "dnsq: %zu bytes do not fit TCP framing\n", len);
			exit(2);
		}
		framed = malloc(len + 2);
		if (framed == NULL)
			exit(2);
		framed[0] = (uint8_t)(len >> 8);
		framed[1] = (uint8_t)len;
		memcpy(framed + 2, msg, len);
		fd = connect_to(server, port, SOCK_STREAM, o->timeout_ms);
		if (fd >= 0) {
			if (send_all(fd, framed, len + 2) != 0)
				printf("no reply (send: %s)\n", strerror(errno));
			else
				rc = tcp_read_reply(fd, now_ms() + o->timeout_ms);
			close(fd);
		}
		free(framed);
	} else {
		uint8_t *buf = malloc(65536);
		ssize_t k;

		fd = connect_to(server, port, SOCK_DGRAM, o->timeout_ms);
		if (fd >= 0 && buf) {
			if (send(fd, msg, len, 0) < 0) {
				printf("no reply (send: %s)\n", strerror(errno));
			} else {
				k = recv(fd, buf, 65536, 0);
				if (k < 0)
					printf("no reply (%s)\n",
					       errno == EAGAIN ? "timeout" : strerror(errno));
				else
					rc = print_reply(buf, (size_t)k) == 0 ? 0 : 1;
			}
		}
		if (fd >= 0)
			close(fd);
		free(buf);
	}
	free(msg);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {.edns = -1, .qclass = 1, .timeout_ms = 2000, .id = -1};
	uint8_t *msgs[MAX_QUERIES];
	size_t lens[MAX_QUERIES];
	const char *server, *port;
	int i, n = 0, rc;

	srand((unsigned)(time(NULL) ^ getpid()));
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i];
		bool has_next = i + 1 < argc;

		if (strcmp(a, "--tcp") == 0)
			o.tcp = true;
		else if (strcmp(a, "--udp") == 0)
			o.udp = true;
		else if (strcmp(a, "--pipeline") == 0)
			o.pipeline = o.tcp = true;
		else if (strcmp(a, "--do") == 0)
			o.dnssec_ok = true;
		else if (strcmp(a, "--rd") == 0)
			o.rd = true;
		else if (strcmp(a, "--cd") == 0)
			o.cd = true;
		else if (strcmp(a, "--edns") == 0 && has_next)
			o.edns = atoi(argv[++i]);
		else if (strcmp(a, "--edns-version") == 0 && has_next)
			o.edns_version = atoi(argv[++i]);
		else if (strcmp(a, "--timeout") == 0 && has_next)
			o.timeout_ms = atoi(argv[++i]);
		else if (strcmp(a, "--id") == 0 && has_next)
			o.id = atoi(argv[++i]) & 0xffff;
		else if (strcmp(a, "--notify") == 0 && has_next)
			o.notify_zone = argv[++i];
		else if (strcmp(a, "--raw") == 0 && has_next)
			o.raw_file = argv[++i];
		else if (strcmp(a, "--class") == 0 && has_next) {
			int c = class_parse(argv[++i]);
			if (c < 0 || c > 65535)
				usage();
			o.qclass = (uint16_t)c;
		} else
			usage();
	}
	if (o.dnssec_ok && o.edns < 0)
		o.edns = DNS_EDNS_OUR_SIZE;
	if (o.timeout_ms <= 0)
		o.timeout_ms = 2000;
	if (argc - i < 2)
		usage();
	server = argv[i];
	port = argv[i + 1];
	i += 2;

	if (o.raw_file) {
		if (o.tcp == o.udp || i != argc)
			usage();
		return run_raw(&o, server, port);
	}
	if (o.notify_zone) {
		uint8_t zone[DNAME_MAXLEN];

		if (i != argc || parse_name(o.notify_zone, zone) < 0)
			usage();
		msgs[0] = malloc(512);
		lens[0] = build_msg(&o, next_id(&o), OPCODE_NOTIFY, zone, RRTYPE_SOA, msgs[0], 512);
		n = 1;
	} else {
		if ((argc - i) < 2 || (argc - i) % 2 != 0 || (argc - i) / 2 > MAX_QUERIES)
			usage();
		for (; i < argc; i += 2) {
			uint8_t qname[DNAME_MAXLEN];
			int t = rrtype_parse(argv[i + 1], strlen(argv[i + 1]));

			if (parse_name(argv[i], qname) < 0) {
				fprintf(stderr, "dnsq: bad name '%s'\n", argv[i]);
				return 2;
			}
			if (t < 0) {
				fprintf(stderr, "dnsq: bad type '%s'\n", argv[i + 1]);
				return 2;
			}
			msgs[n] = malloc(512);
			lens[n] = build_msg(&o, next_id(&o), OPCODE_QUERY, qname, (uint16_t)t,
					    msgs[n], 512);
			n++;
		}
	}
	if (o.pipeline)
		rc = run_pipeline(&o, server, port, msgs, lens, n);
	else
		rc = run_ares(&o, server, port, msgs, lens, n);
	for (i = 0; i < n; i++)
		free(msgs[i]);
	return rc;
}
