/*
 * dconf.h: dnsd's settings, from the command line and the config file.
 *
 * Every key is both a long flag ("--listen 127.0.0.1:53") and a config-file
 * line ("listen 127.0.0.1:53", common/conf.h). All defaults live in dconf.c.
 * Settings from the command line are applied after the file's, so a scalar
 * given on the command line wins; a repeatable key (listen, allow-notify)
 * given on the command line replaces the file's list instead of adding to it.
 *
 * Keys:
 *   db FILE                  the SQLite database (required)
 *   listen ADDR:PORT         repeatable; default 127.0.0.1:5353 and [::1]:5353;
 *                            port 0 picks a free port (logged, --port-file)
 *   workers N                worker threads, 1..256; default: online CPUs
 *   allow-notify CIDR        repeatable; default 127.0.0.0/8 and ::1
 *   check-interval SECONDS   serial check against the DB; 0 = off; default 30
 *   metrics ADDR:PORT        Prometheus /metrics listener (loopback only)
 *   user NAME                drop root privileges to NAME after binding
 *   tcp-idle-timeout SECONDS default 10 (RFC 7766 §6.2.3), 1..3600
 *   tcp-max-connections N    per worker thread, default 1000, 1..1000000
 *   edns-size BYTES          our EDNS payload size, 512..4096, default 1232
 *   port-file FILE           write the first listener's bound port (tests)
 *   error-rate N             error replies (FORMERR, REFUSED...) per second per
 *                            worker over UDP; the rest are dropped; default 100
 *   allow-transfer CIDR [key NAME]
 *                            repeatable; who may AXFR/IXFR zones that have no
 *                            'allow-transfer' rows in zone_settings; with
 *                            "key NAME" only requests signed with that TSIG
 *                            key match; default none (REFUSED); 'none' = empty
 *   secondary ADDR[:PORT] [key NAME]
 *                            repeatable; where to send NOTIFY after a zone's
 *                            serial changed, for zones without 'secondary'
 *                            rows; signed with key NAME when given; port 53
 *   tsig-keyfile FILE        TSIG keys, "name algorithm base64secret" lines;
 *                            refused when group or others may read it
 */
#ifndef DCONF_H
#define DCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "dname.h"

#define DCONF_MAX_LISTEN	  64
#define DCONF_DEFAULT_PORT	  5353
#define DCONF_DEFAULT_CHECK	  30
#define DCONF_DEFAULT_TCP_IDLE	  10
#define DCONF_DEFAULT_TCP_MAXCONN 1000
#define DCONF_DEFAULT_ERR_RATE	  100 /* error replies per second per worker */
#define DCONF_MAX_WORKERS	  256

struct dconf_addr {
	struct sockaddr_storage ss; /* address (port may be 0) */
	socklen_t len;		    /* length of ss in use */
};

#define DCONF_MAX_SECONDARIES 64

/* A peer we send to: an address and the TSIG key to sign with. */
struct dconf_peer {
	struct dconf_addr addr;	   /* port defaults to 53 */
	uint8_t key[DNAME_MAXLEN]; /* key name, lower-case wire; "\0": unsigned */
};

struct dconf {
	char *db_path;				    /* owned */
	struct dconf_addr listen[DCONF_MAX_LISTEN]; /* where to serve DNS */
	int nlisten;
	bool listen_defaulted;	      /* the defaults: a missing IPv6 stack is not fatal */
	int workers;		      /* 0 until dconf_finish: then >= 1 */
	struct acl allow_notify;      /* NOTIFY sources */
	unsigned check_interval;      /* seconds, 0 = no periodic check */
	bool has_metrics;	      /* metrics listener configured */
	struct dconf_addr metrics;    /* its address */
	char *user;		      /* owned, NULL: keep the current user */
	unsigned tcp_idle_timeout;    /* seconds */
	unsigned tcp_max_connections; /* per worker */
	unsigned err_rate;	      /* error replies per second per worker */
	uint16_t edns_size;	      /* our EDNS0 payload size */
	char *port_file;	      /* owned, NULL: none */
	struct acl allow_transfer;    /* default transfer ACL (empty: refuse) */
	struct dconf_peer secondaries[DCONF_MAX_SECONDARIES]; /* default NOTIFY targets */
	int nsecondaries;
	char *tsig_keyfile; /* owned, NULL: no keys */
	/* bookkeeping for "command line replaces the file's list" */
	int phase; /* 0 while reading the file, 1 for the command line */
	int listen_phase, notify_phase, transfer_phase, secondary_phase;
	bool notify_set; /* allow-notify given at all (else defaults) */
};

void dconf_init(struct dconf *c);

/* Applies one setting (a conf_cb: arg is the struct dconf). Returns 0, or
 * non-zero with a sentence in err ("unknown key 'lisen'"). */
int dconf_set(void *arg, const char *key, const char *value, char *err, size_t errcap);

/* True when key takes a value (all keys do today; for the CLI parser). */
bool dconf_known_key(const char *key);

/* Fills in defaults (listen addresses, allow-notify, workers) and checks
 * what only makes sense as a whole (db given). 0 or -1 with err set. */
int dconf_finish(struct dconf *c, char *err, size_t errcap);

/* Parses "ADDR[:PORT] [key NAME]" (port default_port). 0 or -1 with err. */
int dconf_peer_parse(const char *spec, int default_port, struct dconf_peer *out, char *err,
		     size_t errcap);

/* Prints "127.0.0.1:53" / "[::1]:53" into buf. */
void dconf_addr_format(const struct sockaddr *sa, char *buf, size_t cap);

void dconf_free(struct dconf *c);

#endif
