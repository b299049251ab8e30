/*
 * main.c: dnsd start-up and shutdown.
 *
 * Order matters: settings (file, then command line); sockets are bound
 * while still root (ports below 1024); privileges are dropped; only then is
 * the database opened (as the service user) and every zone loaded; then the
 * workers and the reload thread start, the port file is written and systemd
 * hears READY=1. The main thread keeps a small libevent loop for signals
 * and the optional metrics listener. SIGTERM/SIGINT: STOPPING=1, workers
 * stop accepting and drain, the reload thread stops, exit 0. SIGHUP: every
 * zone is rebuilt from the database.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "dconf.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "sdnotify.h"
#include "server.h"
#include "tsig.h"
#include "xfr.h"

#define MAX_CLI_SETTINGS 256

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: dnsd [-dnv] [-c FILE] [--db FILE] [--listen ADDR:PORT ...] [--workers N]\n"
	    "            [--allow-notify CIDR ...] [--check-interval SECONDS]\n"
	    "            [--metrics ADDR:PORT] [--user NAME] [--tcp-idle-timeout SECONDS]\n"
	    "            [--tcp-max-connections N] [--edns-size BYTES] [--error-rate N]\n"
	    "            [--port-file FILE] [--allow-transfer 'CIDR [key NAME]' ...]\n"
	    "            [--secondary 'ADDR[:PORT] [key NAME]' ...] [--tsig-keyfile FILE]\n"
	    "\n"
	    "Authoritative DNS server for the zones in a dnsmcp SQLite database.\n"
	    "\n"
	    "  -c FILE                   read settings from FILE ('key value' lines; keys are\n"
	    "                            the long options below; the command line wins)\n"
	    "  -n                        check the settings and load every zone, then exit\n"
	    "                            0 (all good) or 1\n"
	    "  -d, -v                    debug logging\n"
	    "  -h, --help                this text\n"
	    "  --db FILE                 the database (opened read-only)\n"
	    "  --listen ADDR:PORT        repeatable; default 127.0.0.1:5353 and [::1]:5353;\n"
	    "                            port 0 picks a free port (logged)\n"
	    "  --workers N               worker threads (default: number of CPUs)\n"
	    "  --allow-notify CIDR       who may send NOTIFY; repeatable; 'none' refuses all;\n"
	    "                            default 127.0.0.0/8 and ::1\n"
	    "  --check-interval SECONDS  compare zone serials with the database (default 30;\n"
	    "                            0 = only on NOTIFY and SIGHUP)\n"
	    "  --metrics ADDR:PORT       Prometheus text at http://ADDR:PORT/metrics (loopback)\n"
	    "  --user NAME               when started as root, switch to NAME after binding\n"
	    "  --tcp-idle-timeout S      close idle TCP connections after S seconds (default 10)\n"
	    "  --tcp-max-connections N   TCP connections per worker thread (default 1000)\n"
	    "  --edns-size BYTES         EDNS payload size we offer (512..4096, default 1232)\n"
	    "  --error-rate N            error replies per second per worker over UDP (100)\n"
	    "  --port-file FILE          write the first listener's port once serving\n"
	    "  --allow-transfer SPEC     who may AXFR/IXFR zones without zone_settings rows:\n"
	    "                            'CIDR' or 'CIDR key NAME'; repeatable; default none\n"
	    "  --secondary SPEC          where to send NOTIFY after a serial change, for zones\n"
	    "                            without zone_settings rows: 'ADDR[:PORT] [key NAME]'\n"
	    "  --tsig-keyfile FILE       TSIG keys, 'name hmac-sha256|hmac-sha512 base64' per\n"
	    "                            line; must not be readable by group or others\n"
	    "\n"
	    "Signals: SIGHUP reloads every zone, SIGTERM/SIGINT drain and exit.\n");
}

struct cli_setting {
	const char *key, *value;
};

static struct event_base *main_base;
static struct reload *g_reload;

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_info("%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	sdnotify("STOPPING=1");
	event_base_loopexit(main_base, NULL);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_info("SIGHUP received: reloading every zone");
	reload_request_all(g_reload);
}

/* More descriptors: each worker may hold tcp-max-connections sockets. */
static void raise_nofile(const struct dconf *c)
{
	struct rlimit rl;
	unsigned long need = (unsigned long)c->workers * (c->tcp_max_connections + 4) + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warnx("open file limit %lu is below the %lu that %d workers x %u TCP "
			  "connections need; accepting pauses at the limit",
			  (unsigned long)rl.rlim_cur, need, c->workers, c->tcp_max_connections);
}

static void drop_privileges(const struct dconf *c)
{
	struct passwd *pw;

	if (c->user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: set 'user' to drop privileges after binding");
		return;
	}
	if (geteuid() != 0) {
		log_info("not started as root: 'user %s' has nothing to drop", c->user);
		return;
	}
	errno = 0;
	pw = getpwnam(c->user);
	if (pw == NULL)
		fatalx("user %s: no such user", c->user);
	if (pw->pw_uid == 0)
		fatalx("user %s is root: choose an unprivileged user", c->user);
	/* groups first: after setuid we could no longer change them */
	if (setgroups(1, &pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		fatal("cannot switch to user %s", c->user);
	if (setuid(0) == 0)
		fatalx("privileges could be regained after switching to %s", c->user);
	log_info("switched to user %s (uid %u, gid %u)", c->user, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_gid);
}

static int open_metrics_socket(const struct dconf *c)
{
	int fd, one = 1;
	char text[80];

	dconf_addr_format((const struct sockaddr *)&c->metrics.ss, text, sizeof(text));
	fd = socket(c->metrics.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("metrics %s: socket", text);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (c->metrics.ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&c->metrics.ss, c->metrics.len) != 0 ||
	    listen(fd, 64) != 0)
		fatal("metrics: cannot listen on %s", text);
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			dconf_addr_format((struct sockaddr *)&ss, text, sizeof(text));
	}
	log_info("metrics on http://%s/metrics", text);
	return fd;
}

/* Written once serving, via rename, so a reader never sees half a file. */
static void write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		fatalx("port-file: path too long");
	f = fopen(tmp, "w");
	if (f == NULL)
		fatal("port-file %s", tmp);
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		fatal("port-file %s", path);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"db", required_argument, NULL, 0},
	    {"listen", required_argument, NULL, 0},
	    {"workers", required_argument, NULL, 0},
	    {"allow-notify", required_argument, NULL, 0},
	    {"check-interval", required_argument, NULL, 0},
	    {"metrics", required_argument, NULL, 0},
	    {"user", required_argument, NULL, 0},
	    {"tcp-idle-timeout", required_argument, NULL, 0},
	    {"tcp-max-connections", required_argument, NULL, 0},
	    {"edns-size", required_argument, NULL, 0},
	    {"error-rate", required_argument, NULL, 0},
	    {"port-file", required_argument, NULL, 0},
	    {"allow-transfer", required_argument, NULL, 0},
	    {"secondary", required_argument, NULL, 0},
	    {"tsig-keyfile", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	static struct cli_setting cli[MAX_CLI_SETTINGS];
	struct dconf conf;
	struct metrics mtr;
	struct server *srv = NULL;
	struct tsig_keyring keys = {0};
	struct xfr *xfr = NULL;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	const char *conf_path = NULL;
	bool check_only = false, debug = false;
	int ncli = 0, opt, idx, i, metrics_fd = -1, failures;
	char err[1024];
	sigset_t block, old;

	dconf_init(&conf);
	memset(&mtr, 0, sizeof(mtr));
	while ((opt = getopt_long(argc, argv, "c:dnvh", longopts, &idx)) != -1) {
		switch (opt) {
		case 0:
			if (ncli >= MAX_CLI_SETTINGS) {
				fprintf(stderr, "dnsd: too many options\n");
				return 1;
			}
			cli[ncli].key = longopts[idx].name;
			cli[ncli].value = optarg;
			ncli++;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'd':
		case 'v':
			debug = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dnsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	log_init("dnsd", debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);

	if (conf_path && conf_parse_file(conf_path, dconf_set, &conf, err, sizeof(err)) != 0)
		fatalx("%s", err);
	conf.phase = 1;
	for (i = 0; i < ncli; i++) {
		char e[512];

		if (dconf_set(&conf, cli[i].key, cli[i].value, e, sizeof(e)) != 0)
			fatalx("--%s: %s", cli[i].key, e);
	}
	if (dconf_finish(&conf, err, sizeof(err)) != 0)
		fatalx("%s", err);
	/* Keys are read while still privileged: the file may be readable by
	 * root only. */
	if (conf.tsig_keyfile) {
		int nk = tsig_keyring_load(&keys, conf.tsig_keyfile, err, sizeof(err));

		if (nk < 0)
			fatalx("%s", err);
		log_info("%d TSIG key%s from %s", nk, nk == 1 ? "" : "s", conf.tsig_keyfile);
	}
	xfr = xfr_new(&conf, &keys, err, sizeof(err));
	if (xfr == NULL)
		fatalx("%s", err);

	if (check_only) {
		struct reload *r = reload_new(conf.db_path, 1, 0, NULL, err, sizeof(err));

		if (r == NULL) {
			log_error("%s", err);
			dconf_free(&conf);
			return 1;
		}
		failures = reload_load_all(r, true);
		reload_free(r);
		xfr_free(xfr);
		tsig_keyring_free(&keys);
		if (failures != 0) {
			log_error("check failed: %s", failures < 0
							  ? "the database could not be read"
							  : "some zones do not load (see above)");
			dconf_free(&conf);
			return 1;
		}
		log_info("configuration and database %s OK", conf.db_path);
		dconf_free(&conf);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&conf);

	/* Sockets and the metrics listener while still privileged. */
	srv = server_new(&conf, NULL, err, sizeof(err));
	if (srv == NULL)
		fatalx("%s", err);
	if (conf.has_metrics)
		metrics_fd = open_metrics_socket(&conf);
	drop_privileges(&conf);

	g_reload = reload_new(conf.db_path, conf.workers, conf.check_interval, &mtr.global, err,
			      sizeof(err));
	if (g_reload == NULL)
		fatalx("%s", err);
	server_set_reload(srv, g_reload);
	server_set_xfr(srv, xfr, &keys);
	reload_set_xfr(g_reload, xfr);
	if (xfr_start(xfr, conf.db_path) != 0)
		fatalx("cannot start the transfer thread");
	if (reload_load_all(g_reload, false) < 0)
		fatalx("cannot read the zone list from %s", conf.db_path);

	main_base = event_base_new();
	if (main_base == NULL)
		fatalx("cannot create the main event loop");
	mtr.workers = server_metrics(srv);
	mtr.nworkers = server_nworkers(srv);
	mtr.list_zones = reload_list_zones;
	mtr.list_arg = g_reload;
	if (metrics_fd >= 0) {
		if (metrics_http_start(&mtr, main_base, metrics_fd) != 0)
			fatalx("cannot start the metrics listener");
		metrics_fd = -1; /* evhttp owns and closes it now */
	}

	/* Worker and reload threads inherit a mask without the signals the
	 * main loop handles, so libevent's handler runs on the main thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (server_start(srv) != 0 || reload_start(g_reload, server_wake, srv) != 0)
		fatalx("cannot start threads");
	ev_term = evsignal_new(main_base, SIGTERM, on_term, NULL);
	ev_int = evsignal_new(main_base, SIGINT, on_term, NULL);
	ev_hup = evsignal_new(main_base, SIGHUP, on_hup, NULL);
	if (!ev_term || !ev_int || !ev_hup || evsignal_add(ev_term, NULL) != 0 ||
	    evsignal_add(ev_int, NULL) != 0 || evsignal_add(ev_hup, NULL) != 0)
		fatalx("cannot install signal handlers");
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (conf.port_file)
		write_port_file(conf.port_file, server_first_port(srv));
	log_info("ready: %zu zone%s, %d worker%s", reload_zone_count(g_reload),
		 reload_zone_count(g_reload) == 1 ? "" : "s", conf.workers,
		 conf.workers == 1 ? "" : "s");
	sdnotify("READY=1\nSTATUS=serving %zu zones\nMAINPID=%ld", reload_zone_count(g_reload),
		 (long)getpid());

	event_base_dispatch(main_base);

	server_stop(srv);
	reload_stop(g_reload);
	xfr_stop(xfr);
	metrics_http_stop(&mtr);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_base_free(main_base);
	server_free(srv);
	reload_free(g_reload);
	xfr_free(xfr);
	tsig_keyring_free(&keys);
	if (metrics_fd >= 0)
		close(metrics_fd);
	if (conf.port_file)
		unlink(conf.port_file);
	log_info("stopped");
	dconf_free(&conf);
	return 0;
}
