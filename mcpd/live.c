/*
 * live.c: after a commit, make dnsd serve the change and say when it does.
 *
 * One struct live per confirmation, with its own UDP socket, on mcpd's
 * event base:
 *
 *   NOTIFY phase: send a NOTIFY (RFC 1996 §3.6) for the zone; on silence
 *   resend after 50, 100, 200 ... ms (doubling, capped at 1 s). RFC 1996
 *   §3.6 suggests a minute between tries to a remote secondary; dnsd sits on
 *   loopback next to us, so a lost datagram is worth a quick retry. A reply
 *   counts only if it matches ID, source address, opcode and QR, and echoes
 *   the question (notify_match_reply). NOERROR or NOTIMP ends the phase
 *   (NOTIMP: a server without NOTIFY still serves, just later); any other
 *   rcode is remembered for the final message and polling goes on, since
 *   dnsd's own timer may still pick the change up. After LIVE_NOTIFY_SILENT
 *   unanswered tries we poll anyway, for the same reason.
 *
 *   With a TSIG key (live_set_key) the NOTIFY is signed once (RFC 8945
 *   §5.3; every resend is the same message, so a late answer to an earlier
 *   try still verifies against the one request MAC) and a reply counts
 *   only when it carries a valid TSIG of that key (§5.3.2), as a forged
 *   unsigned "NOERROR" would otherwise cut the NOTIFY phase short. The one
 *   unsigned reply that counts is NOTAUTH with a TSIG error (BADKEY,
 *   BADSIG, BADTIME): dnsd refusing our key (§5.2 makes those unsigned),
 *   which the final message names.
 *
 *   SOA phase: query the zone's SOA; done when the answer's serial is the
 *   committed one or later (RFC 1982, notify_serial_ge). Otherwise ask
 *   again after 2, 4, 8 ... ms (capped at 50 ms): dnsd usually reloads
 *   within a millisecond or two, and the change-to-live target is 20 ms.
 *
 * The whole sequence ends at timeout_ms with live=false and a sentence
 * saying why. The callback runs exactly once, always from the event loop
 * (never from inside live_confirm), after which the struct is freed.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dname.h"
#include "err.h"
#include "live.h"
#include "msg.h"
#include "notify.h"
#include "rdata.h"
#include "tsig.h"

#define LIVE_NOTIFY_FIRST_MS 50
#define LIVE_NOTIFY_SILENT   3 /* unanswered NOTIFYs before polling anyway */
#define LIVE_NOTIFY_MAX_MS   1000
#define LIVE_POLL_FIRST_MS   2
#define LIVE_POLL_MAX_MS     50

enum live_phase { PHASE_NOTIFY, PHASE_SOA };

/* The NOTIFY signing key (live_set_key), borrowed; NULL: unsigned. */
static const struct tsig_key *live_tsig_key;

void live_set_key(const struct tsig_key *key)
{
	live_tsig_key = key;
}

const struct tsig_key *live_key(void)
{
	return live_tsig_key;
}

struct live {
	struct event_base *base;
	struct event *ev_read;	/* readable socket */
	struct event *ev_timer; /* resend / poll / deadline */
	int fd;
	struct sockaddr_storage addr;
	unsigned addrlen;
	char addr_text[128];
	uint8_t zone[DNAME_MAXLEN];
	char zone_text[DNAME_TEXT_MAXLEN];
	uint32_t serial;
	enum live_phase phase;
	uint16_t id;  /* of the messages of the current phase */
	int id_phase; /* phase id was drawn for, -1 at first */
	int notify_tries;
	int notify_rcode;		     /* -1 until a NOTIFY answer came */
	const struct tsig_key *key;	     /* signs the NOTIFY; NULL: unsigned */
	struct tsig_ctx tsig;		     /* the signed NOTIFY's exchange state */
	uint8_t notify_msg[DNS_UDP_MINSIZE]; /* the NOTIFY as sent (built once) */
	size_t notify_len;		     /* 0 until built */
	int notify_tsig_error;		     /* TSIG error of a refusal, 0: none */
	int notify_unsigned_rcode; /* rcode of an ignored unsigned/badly signed reply, -1: none */
	int soa_tries;		   /* SOA queries sent */
	bool soa_answered;	   /* some SOA answer arrived */
	int soa_rcode;		   /* rcode of the last SOA answer without the SOA, -1: none */
	uint32_t last_serial;	   /* serial in the last SOA answer */
	int next_ms;		   /* current back-off */
	long long deadline;	   /* CLOCK_MONOTONIC ms */
	live_done_cb cb;
	void *arg;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void live_free(struct live *l)
{
	if (l->ev_read)
		event_free(l->ev_read);
	if (l->ev_timer)
		event_free(l->ev_timer);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

/* Calls the callback once and frees everything. */
static void finish(struct live *l, bool live, const char *why)
{
	live_done_cb cb = l->cb;
	void *arg = l->arg;
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", why ? why : "");
	live_free(l);
	cb(arg, live, msg);
}

static void arm(struct live *l, int ms)
{
	long long left = l->deadline - now_ms();
	struct timeval tv;

	if (ms > left)
		ms = left > 0 ? (int)left : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(l->ev_timer, &tv);
}

static void send_msg(struct live *l)
{
	uint8_t buf[DNS_UDP_MINSIZE];
	int n;

	/* One ID per phase: a slow answer to an earlier try still counts
	 * (it asks the same question), so polling faster than dnsd answers
	 * never starves us of replies. */
	if (l->id_phase != (int)l->phase) {
		l->id = notify_random_id();
		l->id_phase = (int)l->phase;
	}
	if (l->phase == PHASE_NOTIFY) {
		if (l->notify_len == 0) {
			n = notify_build_notify(l->notify_msg, sizeof(l->notify_msg), l->id,
						l->zone, NULL, 0);
			if (n > 0 && l->key) {
				memset(&l->tsig, 0, sizeof(l->tsig));
				l->tsig.key = l->key;
				n = tsig_sign(l->notify_msg, (size_t)n, sizeof(l->notify_msg),
					      &l->tsig, (uint64_t)time(NULL), TSIG_NOERROR);
			}
			if (n <= 0)
				return; /* cannot happen with a valid zone: the wait ends it */
			l->notify_len = (size_t)n;
		}
		memcpy(buf, l->notify_msg, l->notify_len);
		n = (int)l->notify_len;
		l->notify_tries++;
	} else {
		n = notify_build_query(buf, sizeof(buf), l->id, l->zone, RRTYPE_SOA, 0);
		l->soa_tries++;
	}
	if (n > 0)
		/* A send error (ECONNREFUSED from an earlier ICMP, ENOBUFS)
		 * is just a lost try: the timer resends. */
		(void)sendto(l->fd, buf, (size_t)n, 0, (struct sockaddr *)&l->addr, l->addrlen);
}

static const char *rcode_name(int rc)
{
	switch (rc) {
	case RCODE_NOERROR:
		return "NOERROR";
	case RCODE_FORMERR:
		return "FORMERR";
	case RCODE_SERVFAIL:
		return "SERVFAIL";
	case RCODE_NOTIMP:
		return "NOTIMP";
	case RCODE_REFUSED:
		return "REFUSED";
	case RCODE_NOTAUTH:
		return "NOTAUTH";
	default:
		return "an error";
	}
}

/* Why the NOTIFY did not work, for the final message ("" when it did). */
static void notify_problem(struct live *l, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (l->notify_tsig_error > 0) {
		/* RFC 8945 §5.2: BADKEY, BADSIG, BADTIME in that order */
		int e = l->notify_tsig_error;
		char t[64];

		snprintf(t, sizeof(t), "the clocks are more than %d s apart", TSIG_FUDGE);
		snprintf(buf, cap, "dnsd refused mcpd's TSIG key %.100s (NOTAUTH, %s: %s)",
			 l->key ? l->key->name_text : "?", tsig_error_name(e),
			 e == TSIG_BADKEY ? "dnsd's tsig-keyfile lacks this key, or has it with "
					    "another algorithm"
			 : e == TSIG_BADSIG
			     ? "the secret differs from the one in dnsd's tsig-keyfile"
			 : e == TSIG_BADTIME ? t
					     : "see dnsd's log");
	} else if (l->notify_rcode == RCODE_REFUSED && l->key == NULL)
		snprintf(buf, cap,
			 "dnsd refused the NOTIFY, sent unsigned (REFUSED: mcpd's address is not "
			 "in dnsd's allow-notify, or the entry requires a TSIG key: then set "
			 "mcpd's tsig-keyfile and notify-key)");
	else if (l->notify_rcode == RCODE_REFUSED)
		snprintf(buf, cap,
			 "dnsd refused the NOTIFY signed with key %.100s (REFUSED: no allow-notify "
			 "entry of dnsd matches mcpd's address with this key)",
			 l->key->name_text);
	else if (l->notify_rcode > 0 && l->notify_rcode != RCODE_NOTIMP)
		snprintf(buf, cap, "dnsd answered the NOTIFY with %s (rcode %d)",
			 rcode_name(l->notify_rcode), l->notify_rcode);
	else if (l->notify_rcode < 0 && l->notify_unsigned_rcode >= 0)
		snprintf(buf, cap,
			 "dnsd answered the NOTIFY signed with key %.100s with %s but without a "
			 "valid signature, so mcpd ignored it (does dnsd know the key?)",
			 l->key ? l->key->name_text : "?", rcode_name(l->notify_unsigned_rcode));
}

static void timeout_message(struct live *l, char *buf, size_t cap)
{
	char why[400];

	notify_problem(l, why, sizeof(why));
	if (l->notify_rcode < 0 && l->notify_unsigned_rcode < 0 && !l->soa_answered &&
	    l->soa_rcode < 0)
		snprintf(buf, cap,
			 "committed, but dnsd at %.100s answered neither NOTIFY (%d tries) nor SOA "
			 "queries: is dnsd running there?",
			 l->addr_text, l->notify_tries);
	else if (!l->soa_answered && l->soa_rcode >= 0)
		snprintf(buf, cap,
			 "committed, but dnsd at %.100s answers %s for %.200s: it does not serve "
			 "the zone (yet)%s%s",
			 l->addr_text,
			 l->soa_rcode == RCODE_REFUSED	  ? "REFUSED"
			 : l->soa_rcode == RCODE_NOTAUTH  ? "NOTAUTH"
			 : l->soa_rcode == RCODE_SERVFAIL ? "SERVFAIL"
							  : "without the SOA",
			 l->zone_text, why[0] ? "; also, " : "", why);
	else if (!l->soa_answered)
		snprintf(buf, cap,
			 "committed; dnsd at %.100s %s but did not answer SOA queries for %.200s",
			 l->addr_text, why[0] ? why : "acknowledged the NOTIFY", l->zone_text);
	else if (why[0])
		snprintf(buf, cap,
			 "committed, but %s; dnsd at %.100s still serves serial %u of %.200s, not "
			 "%u, and will catch up on its own timer (check-interval)",
			 why, l->addr_text, l->last_serial, l->zone_text, l->serial);
	else
		snprintf(
		    buf, cap,
		    "committed, but dnsd at %.100s still serves serial %u of %.200s, not %u, after "
		    "the wait; it should catch up on its own timer",
		    l->addr_text, l->last_serial, l->zone_text, l->serial);
}

static void start_soa(struct live *l);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct live *l = arg;
	char why[1024];

	(void)fd;
	(void)what;
	if (now_ms() >= l->deadline) {
		timeout_message(l, why, sizeof(why));
		finish(l, false, why);
		return;
	}
	if (l->phase == PHASE_NOTIFY && l->notify_tries >= LIVE_NOTIFY_SILENT) {
		start_soa(l);
		return;
	}
	send_msg(l);
	if (l->phase == PHASE_NOTIFY) {
		arm(l, l->next_ms);
		l->next_ms =
		    l->next_ms * 2 > LIVE_NOTIFY_MAX_MS ? LIVE_NOTIFY_MAX_MS : l->next_ms * 2;
	} else {
		/* resend a lost query as well as poll: same timer */
		arm(l, l->next_ms);
		l->next_ms = l->next_ms * 2 > LIVE_POLL_MAX_MS ? LIVE_POLL_MAX_MS : l->next_ms * 2;
	}
}

static void start_soa(struct live *l)
{
	l->phase = PHASE_SOA;
	l->next_ms = LIVE_POLL_FIRST_MS;
	evtimer_del(l->ev_timer);
	send_msg(l);
	arm(l, l->next_ms);
	l->next_ms *= 2;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct live *l = arg;
	uint8_t buf[DNS_TCP_MAXSIZE];
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;
	int rc, i;
	uint32_t serial;

	(void)what;
	/* Drain what is there; a bounded number per wake-up. */
	for (i = 0; i < 16; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error for an earlier try */
		if (!notify_sockaddr_equal((struct sockaddr *)&from, (struct sockaddr *)&l->addr))
			continue;
		if (l->phase == PHASE_NOTIFY) {
			rc = notify_match_reply(buf, (size_t)n, l->id, OPCODE_NOTIFY, l->zone,
						RRTYPE_SOA);
			if (rc < 0)
				continue;
			if (l->key) {
				/* a copy: every try is the same request, so each
				 * reply verifies against the one request MAC */
				struct tsig_ctx tc = l->tsig;
				int v =
				    tsig_verify_reply(buf, (size_t)n, &tc, (uint64_t)time(NULL));

				if (v > 0 && rc == RCODE_NOTAUTH) {
					l->notify_tsig_error = v;
				} else if (v != TSIG_NOERROR) {
					/* unsigned or badly signed: maybe forged */
					l->notify_unsigned_rcode = rc;
					continue;
				}
			}
			l->notify_rcode = rc;
			start_soa(l);
			continue;
		}
		rc = notify_match_reply(buf, (size_t)n, l->id, OPCODE_QUERY, l->zone, RRTYPE_SOA);
		if (rc < 0)
			continue;
		if (rc != RCODE_NOERROR ||
		    notify_reply_soa_serial(buf, (size_t)n, l->zone, &serial) < 0) {
			l->soa_rcode = rc;
			continue; /* not (yet) served: the timer asks again */
		}
		l->soa_answered = true;
		l->last_serial = serial;
		if (notify_serial_ge(serial, l->serial)) {
			finish(l, true, "");
			return;
		}
	}
}

int live_confirm(struct event_base *base, const char *dnsd_addr, const char *zone, uint32_t serial,
		 int timeout_ms, live_done_cb cb, void *arg)
{
	struct live *l;
	int r;

	if (base == NULL || dnsd_addr == NULL || zone == NULL || cb == NULL)
		return ERR_INVALID;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return ERR_NOMEM;
	l->fd = -1;
	if (conf_parse_addr(dnsd_addr, 53, &l->addr, &l->addrlen) != 0) {
		r = ERR_SYNTAX;
		goto fail;
	}
	if ((r = dname_parse_text(zone, strlen(zone), (const uint8_t *)"", l->zone)) < 0)
		goto fail;
	dname_print(l->zone, l->zone_text, sizeof(l->zone_text));
	snprintf(l->addr_text, sizeof(l->addr_text), "%s", dnsd_addr);
	l->serial = serial;
	l->base = base;
	l->cb = cb;
	l->arg = arg;
	l->notify_rcode = -1;
	l->notify_unsigned_rcode = -1;
	l->key = live_tsig_key;
	l->soa_rcode = -1;
	l->id_phase = -1;
	l->phase = PHASE_NOTIFY;
	l->next_ms = LIVE_NOTIFY_FIRST_MS;
	l->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	l->fd = socket(l->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		r = ERR_IO;
		goto fail;
	}
	l->ev_read = event_new(base, l->fd, EV_READ | EV_PERSIST, on_read, l);
	l->ev_timer = evtimer_new(base, on_timer, l);
	if (l->ev_read == NULL || l->ev_timer == NULL || event_add(l->ev_read, NULL) < 0) {
		r = ERR_NOMEM;
		goto fail;
	}
	/* First NOTIFY goes out from the loop, like every later step, so the
	 * callback can never run before live_confirm has returned. */
	{
		struct timeval tv = {0, 0};
		if (evtimer_add(l->ev_timer, &tv) < 0) {
			r = ERR_NOMEM;
			goto fail;
		}
	}
	return 0;
fail:
	live_free(l);
	return r;
}
