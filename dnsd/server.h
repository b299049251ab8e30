/*
 * server.h: dnsd's workers: one thread and one libevent loop each, with
 * their own SO_REUSEPORT UDP and TCP sockets on every listen address.
 *
 * UDP is read and written in batches (recvmmsg/sendmmsg). TCP follows
 * RFC 7766: two-octet length framing, pipelining (each query is answered as
 * soon as it has been read, in order), an idle timeout, and a per-worker
 * connection cap at which (and on EMFILE/ENFILE) the worker stops accepting
 * until a connection closes. Answers come from dnsd/query.c against the
 * zoneset reload.h publishes; accepted NOTIFYs are handed to the reload
 * thread. Error replies over UDP are rate-limited per worker.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

struct dconf;
struct reload;
struct tsig_keyring;
struct xfr;
struct metrics_worker;

struct server;

/*
 * Creates the workers' sockets for every address in c->listen (call before
 * dropping privileges). Port 0 is resolved once per address, and every
 * worker's UDP and TCP socket then shares that port. Logs one line per
 * address ("listening on 127.0.0.1:40123 udp+tcp"). rl is not owned.
 * Returns NULL with a sentence in err.
 */
struct server *server_new(const struct dconf *c, struct reload *rl, char *err, size_t errcap);

/* Sets the reload state the workers read zones from; required before
 * server_start (the server is created before privileges are dropped, the
 * database is opened after). */
void server_set_reload(struct server *s, struct reload *rl);

/* Sets the transfer service (ACLs, IXFR jobs) and the TSIG keys; both may
 * be NULL (transfers refused, every signed request BADKEY). Before
 * server_start; neither is owned. */
void server_set_xfr(struct server *s, struct xfr *x, const struct tsig_keyring *keys);

/* The port bound for the first listen address (after port-0 resolution). */
int server_first_port(const struct server *s);

/* The workers' counters: an array of server_nworkers() entries. */
struct metrics_worker *server_metrics(struct server *s);
int server_nworkers(const struct server *s);

/* Starts the worker threads. 0 or -1 (logged). */
int server_start(struct server *s);

/* A reload_wake_fn: makes worker i run a quiescent point soon. Thread-safe. */
void server_wake(void *arg, int worker);

/* Stops accepting and reading new queries, lets open TCP connections flush
 * what they owe (at most a few seconds), and joins the threads. */
void server_stop(struct server *s);

/* Closes every socket and frees everything; the threads must be stopped. */
void server_free(struct server *s);

#endif
