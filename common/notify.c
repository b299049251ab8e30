/*
 * notify.c: building NOTIFY (RFC 1996) and plain queries, matching their
 * replies, and RFC 1982 serial arithmetic.
 *
 * Matching a reply (RFC 1996 §4.7 for NOTIFY, RFC 5452 §9.1 in spirit for
 * queries): a datagram is ours only if it comes from the address we sent to
 * (the caller checks, with notify_sockaddr_equal), has QR set, our 16-bit
 * ID, our opcode, and echoes our question when it has one. Anything else is
 * ignored, never acted on: on loopback an attacker is unlikely, but a stale
 * reply to an earlier try is common, and the question check keeps a reply
 * for another zone from confirming this one.
 *
 * The blocking helpers exist for callers without an event loop (the
 * offline CLI, delete_zone's and set_zone_transfer's NOTIFY); the read
 * tools ask on mcpd's loop instead (mcpd/dnsask.c, same matching rules).
 * Each has a hard
 * deadline measured on CLOCK_MONOTONIC, so a silent or hostile server
 * costs at most timeout_ms.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dname.h"
#include "err.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "token.h"
#include "tsig.h"
#include "wire.h"

bool notify_serial_gt(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2: i1 > i2 when (i1 < i2 and i2 - i1 > 2^31) or
	 * (i1 > i2 and i1 - i2 < 2^31); unsigned wrap-around gives both. */
	uint32_t d = a - b;

	return d != 0 && d < NOTIFY_SERIAL_HALF;
}

bool notify_serial_ge(uint32_t a, uint32_t b)
{
	return a == b || notify_serial_gt(a, b);
}

int notify_build_notify(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *zone,
			const uint8_t *soa_rd, uint16_t soa_rdlen)
{
	struct msg_build b;
	int r;

	msg_build_init(&b, buf, cap, cap < DNS_UDP_MINSIZE ? cap : DNS_UDP_MINSIZE);
	/* RFC 1996 §3.1: opcode NOTIFY; §3.7: AA set by the master. */
	msg_build_header(&b, id, (uint16_t)(OPCODE_NOTIFY << 11) | DNS_FLAG_AA);
	if ((r = msg_build_question(&b, zone, RRTYPE_SOA, RRCLASS_IN)) < 0)
		return r;
	if (soa_rd != NULL && (r = msg_build_rr(&b, SEC_ANSWER, zone, RRTYPE_SOA, RRCLASS_IN, 0,
						soa_rd, soa_rdlen)) < 0)
		return r;
	if (b.w.err)
		return b.w.err;
	return (int)msg_build_finish(&b);
}

int notify_build_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, uint16_t qtype,
		       uint16_t edns_size)
{
	struct msg_build b;
	int r;

	msg_build_init(&b, buf, cap, cap < DNS_UDP_MINSIZE ? cap : DNS_UDP_MINSIZE);
	msg_build_header(&b, id, 0);
	if ((r = msg_build_question(&b, qname, qtype, RRCLASS_IN)) < 0)
		return r;
	if (edns_size != 0 && (r = msg_build_opt(&b, edns_size, 0, 0, 0, NULL, 0)) < 0)
		return r;
	if (b.w.err)
		return b.w.err;
	return (int)msg_build_finish(&b);
}

int notify_match_reply(const uint8_t *pkt, size_t len, uint16_t id, int opcode,
		       const uint8_t *qname, uint16_t qtype)
{
	struct msg_header h;
	struct wire w;
	uint8_t name[DNAME_MAXLEN];
	uint16_t t, c;
	int r;

	if ((r = msg_parse_header(pkt, len, &h)) < 0)
		return r;
	if (!(h.flags & DNS_FLAG_QR) || h.id != id || DNS_OPCODE(h.flags) != opcode)
		return ERR_INVALID;
	if (h.qdcount == 0) /* allowed for some error replies (RFC 1035 leaves it open) */
		return DNS_RCODE(h.flags);
	if (h.qdcount != 1)
		return ERR_MALFORMED;
	wire_init(&w, pkt, len);
	wire_seek(&w, DNS_HEADER_LEN);
	if ((r = dname_parse_wire(&w, name)) < 0)
		return r;
	t = wire_u16(&w);
	c = wire_u16(&w);
	if (w.err)
		return w.err;
	if (!dname_equal(name, qname) || t != qtype || c != RRCLASS_IN)
		return ERR_INVALID;
	return DNS_RCODE(h.flags);
}

bool notify_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

int notify_reply_soa_serial(const uint8_t *pkt, size_t len, const uint8_t *zone, uint32_t *serial)
{
	struct msg_header h;
	struct msg_rr rr;
	struct wire w;
	uint8_t rd[2 * DNAME_MAXLEN + 20];
	unsigned i;
	int r;

	if ((r = msg_parse_header(pkt, len, &h)) < 0)
		return r;
	wire_init(&w, pkt, len);
	wire_seek(&w, DNS_HEADER_LEN);
	for (i = 0; i < h.qdcount; i++)
		if ((r = msg_skip_question(&w)) < 0)
			return r;
	rr.rdata = rd;
	rr.rdata_cap = sizeof(rd);
	for (i = 0; i < h.ancount; i++) {
		/* A huge non-SOA RR would not fit rd; such a reply is not a
		 * plain SOA answer, so treat it as malformed. */
		if ((r = msg_rr_next(&w, &rr)) < 0)
			return r;
		if (rr.type == RRTYPE_SOA && rr.rclass == RRCLASS_IN &&
		    dname_equal(rr.owner, zone)) {
			/* SOA RDATA: MNAME, RNAME, then SERIAL (RFC 1035 §3.3.13). */
			size_t off = dname_len(rd);
			off += dname_len(rd + off);
			if (off + 20 > rr.rdlen)
				return ERR_MALFORMED;
			*serial = wire_get_u32(rd + off);
			return 0;
		}
	}
	return ERR_NOTFOUND;
}

/* ------------------------------------------------------------------ */
/* Blocking helpers */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint16_t notify_random_id(void)
{
	uint16_t id = 0;

	if (token_random(&id, sizeof(id)) != 0)
		id = (uint16_t)(now_ms() * 2654435761u >> 7);
	return id;
}

/* Waits until fd is ready for events or the deadline passes: 1, 0 on
 * timeout, ERR_IO. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return ERR_IO;
	}
}

/*
 * One UDP exchange: sends msg, resending every resend_ms, until a reply
 * matching id/opcode/question from the target arrives or the deadline.
 * Returns the reply length or ERR_TIMEOUT/ERR_IO.
 */
static int udp_exchange(const struct sockaddr_storage *ss, unsigned sslen, const uint8_t *msg,
			size_t msglen, uint16_t id, int opcode, const uint8_t *qname,
			uint16_t qtype, int resend_ms, long long deadline, uint8_t *resp,
			size_t cap)
{
	struct sockaddr_storage from;
	socklen_t fromlen;
	long long next_send = 0;
	ssize_t n;
	int fd, r, rc = ERR_TIMEOUT;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ERR_IO;
	for (;;) {
		long long t = now_ms();
		if (t >= deadline)
			break;
		if (t >= next_send) {
			if (sendto(fd, msg, msglen, 0, (const struct sockaddr *)ss, sslen) < 0 &&
			    errno != EAGAIN && errno != EINTR) {
				/* ECONNREFUSED comes back on a later call; keep
				 * waiting for the deadline anyway, the server
				 * may be starting. */
				if (errno != ECONNREFUSED) {
					rc = ERR_IO;
					break;
				}
			}
			next_send = t + resend_ms;
		}
		r = wait_fd(fd, POLLIN, next_send < deadline ? next_send : deadline);
		if (r < 0) {
			rc = r;
			break;
		}
		if (r == 0)
			continue;
		fromlen = sizeof(from);
		n = recvfrom(fd, resp, cap, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			continue; /* EAGAIN, or an ICMP error for an earlier try */
		if (!notify_sockaddr_equal((struct sockaddr *)&from, (const struct sockaddr *)ss))
			continue;
		if (notify_match_reply(resp, (size_t)n, id, opcode, qname, qtype) < 0)
			continue;
		rc = (int)n;
		break;
	}
	close(fd);
	return rc;
}

/* Reads exactly n bytes from a non-blocking fd before the deadline. */
static int read_full(int fd, uint8_t *p, size_t n, long long deadline)
{
	size_t got = 0;
	ssize_t r;
	int w;

	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return ERR_TRUNCATED;
		if (errno != EAGAIN && errno != EINTR)
			return ERR_IO;
		if ((w = wait_fd(fd, POLLIN, deadline)) <= 0)
			return w < 0 ? w : ERR_TIMEOUT;
	}
	return 0;
}

static int tcp_exchange(const struct sockaddr_storage *ss, unsigned sslen, const uint8_t *msg,
			size_t msglen, uint16_t id, const uint8_t *qname, uint16_t qtype,
			long long deadline, uint8_t *resp, size_t cap)
{
	uint8_t pfx[2];
	size_t sent = 0;
	ssize_t n;
	int fd, r, err = 0;
	socklen_t elen = sizeof(err);
	uint16_t len;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ERR_IO;
	if (connect(fd, (const struct sockaddr *)ss, sslen) < 0) {
		if (errno != EINPROGRESS) {
			r = ERR_IO;
			goto out;
		}
		if ((r = wait_fd(fd, POLLOUT, deadline)) <= 0) {
			r = r < 0 ? r : ERR_TIMEOUT;
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			r = ERR_IO;
			goto out;
		}
	}
	/* RFC 1035 §4.2.2: two-octet length prefix. */
	{
		uint8_t out[2 + DNS_TCP_MAXSIZE];
		if (msglen > DNS_TCP_MAXSIZE) {
			r = ERR_SPACE;
			goto out;
		}
		out[0] = (uint8_t)(msglen >> 8);
		out[1] = (uint8_t)msglen;
		memcpy(out + 2, msg, msglen);
		while (sent < msglen + 2) {
			n = write(fd, out + sent, msglen + 2 - sent);
			if (n > 0) {
				sent += (size_t)n;
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				r = ERR_IO;
				goto out;
			}
			if ((r = wait_fd(fd, POLLOUT, deadline)) <= 0) {
				r = r < 0 ? r : ERR_TIMEOUT;
				goto out;
			}
		}
	}
	for (;;) {
		if ((r = read_full(fd, pfx, 2, deadline)) < 0)
			goto out;
		len = wire_get_u16(pfx);
		if (len > cap) {
			r = ERR_SPACE;
			goto out;
		}
		if ((r = read_full(fd, resp, len, deadline)) < 0)
			goto out;
		if (notify_match_reply(resp, len, id, OPCODE_QUERY, qname, qtype) >= 0) {
			r = len;
			goto out;
		}
		/* not ours (cannot happen on a fresh connection, but be strict) */
	}
out:
	close(fd);
	return r;
}

int notify_query_sync(const char *addr, const uint8_t *qname, uint16_t qtype, int timeout_ms,
		      uint8_t *resp, size_t cap, size_t *resp_len, bool *used_tcp)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	uint8_t q[DNS_UDP_MINSIZE];
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	struct msg_header h;
	uint16_t id = notify_random_id();
	int n, r;

	if (used_tcp)
		*used_tcp = false;
	if (conf_parse_addr(addr, 53, &ss, &sslen) != 0)
		return ERR_SYNTAX;
	if ((n = notify_build_query(q, sizeof(q), id, qname, qtype, DNS_EDNS_OUR_SIZE)) < 0)
		return n;
	r = udp_exchange(&ss, sslen, q, (size_t)n, id, OPCODE_QUERY, qname, qtype,
			 timeout_ms / 2 > 0 ? timeout_ms / 2 : 1, deadline, resp, cap);
	if (r < 0)
		return r;
	if (msg_parse_header(resp, (size_t)r, &h) == 0 && (h.flags & DNS_FLAG_TC)) {
		/* RFC 7766 §5: a truncated answer is retried over TCP. */
		id = notify_random_id();
		if ((n = notify_build_query(q, sizeof(q), id, qname, qtype, 0)) < 0)
			return n;
		r = tcp_exchange(&ss, sslen, q, (size_t)n, id, qname, qtype, deadline, resp, cap);
		if (r < 0)
			return r;
		if (used_tcp)
			*used_tcp = true;
	}
	*resp_len = (size_t)r;
	return 0;
}

int notify_send_sync(const char *addr, const uint8_t *zone, int timeout_ms)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	uint8_t q[DNS_UDP_MINSIZE], resp[DNS_UDP_MINSIZE];
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	uint16_t id = notify_random_id();
	int n, r;

	if (conf_parse_addr(addr, 53, &ss, &sslen) != 0)
		return ERR_SYNTAX;
	if ((n = notify_build_notify(q, sizeof(q), id, zone, NULL, 0)) < 0)
		return n;
	r = udp_exchange(&ss, sslen, q, (size_t)n, id, OPCODE_NOTIFY, zone, RRTYPE_SOA, 100,
			 deadline, resp, sizeof(resp));
	if (r < 0)
		return r;
	return DNS_RCODE(wire_get_u16(resp + 2));
}

int notify_send_sync_tsig(const char *addr, const uint8_t *zone, int timeout_ms,
			  const struct tsig_key *key)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	uint8_t q[DNS_EDNS_OUR_SIZE], resp[DNS_EDNS_OUR_SIZE];
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	uint16_t id = notify_random_id();
	struct tsig_ctx ctx;
	int n, r;

	if (key == NULL)
		return notify_send_sync(addr, zone, timeout_ms);
	if (conf_parse_addr(addr, 53, &ss, &sslen) != 0)
		return ERR_SYNTAX;
	if ((n = notify_build_notify(q, sizeof(q), id, zone, NULL, 0)) < 0)
		return n;
	memset(&ctx, 0, sizeof(ctx));
	ctx.key = key;
	if ((n = tsig_sign(q, (size_t)n, sizeof(q), &ctx, (uint64_t)time(NULL), TSIG_NOERROR)) < 0)
		return n;
	for (;;) {
		struct tsig_ctx c = ctx;
		int v, rc;

		r = udp_exchange(&ss, sslen, q, (size_t)n, id, OPCODE_NOTIFY, zone, RRTYPE_SOA, 100,
				 deadline, resp, sizeof(resp));
		if (r < 0)
			return r;
		rc = DNS_RCODE(wire_get_u16(resp + 2));
		v = tsig_verify_reply(resp, (size_t)r, &c, (uint64_t)time(NULL));
		if (v == TSIG_NOERROR)
			return rc;
		/* An unsigned TSIG error: the server refuses our key. Anything
		 * else unsigned or badly signed may be forged: keep waiting. */
		if (v > 0 && rc == RCODE_NOTAUTH)
			return rc;
	}
}
