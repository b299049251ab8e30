/*
 * server.c: mcpd's serving mode (server.h): wiring and the event loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "live.h"
#include "log.h"
#include "mconf.h"
#include "mcp.h"
#include "sdnotify.h"
#include "oauth.h"
#include "server.h"
#include "session.h"
#include "sse.h"
#include "store.h"
#include "tools.h"
#include "tsig.h"

/* True when addr (ADDR:PORT) is a loopback address: 127.0.0.0/8, ::1 or
 * ::ffff:127.0.0.0/104. */
static bool is_loopback(const char *addr)
{
	struct sockaddr_storage ss;
	unsigned int len;

	if (conf_parse_addr(addr, MCONF_DEFAULT_PORT, &ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

/* Writes the port to path atomically (tmp + rename), so a test polling
 * for the file never reads half of it. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ERR_SPACE;
	f = fopen(tmp, "w");
	if (f == NULL)
		return ERR_IO;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return ERR_IO;
	}
	return 0;
}

/* Every session may hold SSE streams open, each one a descriptor: take
 * the hard limit, so accept() does not run dry long before max-sessions. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
}

/* What a clean stop needs: writes that wait for dnsd get their answer
 * (bounded by the live wait) before the loop ends. */
struct stopper {
	struct event_base *base;
	struct mcp_server *mcp;
	struct event *drain; /* polls until no write waits */
	uint64_t deadline_ms;
};

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct stopper *st = arg;

	(void)fd;
	(void)what;
	if (mcp_waiting(st->mcp) == 0 || session_now_ms() >= st->deadline_ms)
		event_base_loopexit(st->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct stopper *st = arg;
	struct timeval tv = {0, 50 * 1000};
	size_t n = mcp_waiting(st->mcp);

	(void)what;
	if (n == 0 || event_pending(st->drain, EV_TIMEOUT, NULL)) {
		log_info("signal %d: stopping", (int)sig);
		sdnotify("STOPPING=1");
		event_base_loopexit(st->base, NULL);
		return;
	}
	log_info("signal %d: stopping after %zu write(s) waiting for dnsd", (int)sig, n);
	sdnotify("STOPPING=1\nSTATUS=stopping after %zu write(s) waiting for dnsd", n);
	st->deadline_ms = session_now_ms() + MCP_LIVE_WAIT_MS + 1000;
	event_add(st->drain, &tv);
}

struct housekeeping {
	struct session_table *sessions;
	struct oauth *oauth; /* NULL when OAuth is off */
};

static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct housekeeping *hk = arg;
	size_t n;

	(void)fd;
	(void)what;
	n = session_expire(hk->sessions, session_now_ms());
	if (n)
		log_info("%zu idle session(s) expired", n);
	if (hk->oauth)
		oauth_tick(hk->oauth);
}

/* SIGHUP must not kill mcpd (its default action): tokens, zones and OAuth
 * grants are read from the database on every request, so there is nothing
 * cached to reload; listeners and limits change only with a restart. */
static void on_hup(evutil_socket_t fd, short what, void *arg)
{
	log_info("SIGHUP: tokens and zones are read from the database per request; "
		 "restart mcpd to apply config file changes");
}

/*
 * The key that signs NOTIFY to dnsd (notify-key in tsig-keyfile), loaded
 * into kr; NULL with nothing to do when notify-key is unset. The file is
 * read only then: it holds secrets, and nothing else of mcpd needs it.
 * tsig_keyring_load refuses a file group or others may read, as dnsd does.
 * Returns 0 or -1 after logging why (a start-up error).
 */
static int load_notify_key(const struct mconf *c, struct tsig_keyring *kr,
			   const struct tsig_key **key)
{
	char err[512];
	int n;

	*key = NULL;
	if (c->notify_key == NULL) {
		if (c->tsig_keyfile)
			log_info("tsig-keyfile %s not read: no notify-key, NOTIFY to dnsd is "
				 "unsigned",
				 c->tsig_keyfile);
		return 0;
	}
	if (c->tsig_keyfile == NULL) {
		log_error("notify-key %s needs tsig-keyfile FILE, the file that holds it",
			  c->notify_key);
		return -1;
	}
	n = tsig_keyring_load(kr, c->tsig_keyfile, err, sizeof(err));
	if (n < 0) {
		log_error("tsig-keyfile: %s", err);
		return -1;
	}
	*key = tsig_keyring_find_text(kr, c->notify_key);
	if (*key == NULL) {
		log_error("notify-key %s: no such key in %s (%d key%s there)", c->notify_key,
			  c->tsig_keyfile, n, n == 1 ? "" : "s");
		return -1;
	}
	log_info("NOTIFY to dnsd signed with TSIG key %s (%s)", (*key)->name_text,
		 tsig_alg_name((*key)->alg));
	return 0;
}

int mcpd_serve(int argc, char **argv)
{
	struct mconf c;
	struct sqlite3 *db = NULL;
	struct event_base *base = NULL;
	struct session_table *sessions = NULL;
	struct auth *auth = NULL;
	struct mcp_server *mcp = NULL;
	struct http_server *http = NULL;
	struct oauth *oauth = NULL;
	struct housekeeping hk;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL, *ev_expire = NULL;
	struct stopper stop;
	struct mcp_options mo;
	struct tsig_keyring keys = {0};
	const struct tsig_key *notify_key = NULL;
	struct store_retention keep;
	struct timeval tv;
	char err[512];
	bool help;
	int ret = 1;

	memset(&stop, 0, sizeof(stop));
	mconf_init(&c);
	if (mconf_parse_args(&c, argc, argv, &help, err, sizeof(err)) != 0) {
		fprintf(stderr, "mcpd: %s\n\n%s", err, mconf_usage);
		ret = 2;
		goto out;
	}
	if (help) {
		fputs(mconf_usage, stdout);
		ret = 0;
		goto out;
	}
	log_init("mcpd", (enum log_level)c.log_level);
	if (c.db_path == NULL) {
		fprintf(stderr, "mcpd: --db FILE is required\n\n%s", mconf_usage);
		ret = 2;
		goto out;
	}
	if (c.no_auth) {
		for (size_t i = 0; i < mconf_listen_count(&c); i++) {
			if (!is_loopback(mconf_listen(&c, i))) {
				fprintf(stderr,
					"mcpd: --no-auth refused: listen address %s is not "
					"loopback; anyone who reaches it could edit your zones\n",
					mconf_listen(&c, i));
				ret = 2;
				goto out;
			}
		}
	}
	if (c.oauth && c.public_url == NULL) {
		fprintf(stderr,
			"mcpd: --oauth needs --public-url https://HOST[:PORT], the address "
			"clients reach mcpd at; every URL mcpd publishes is built from it\n");
		ret = 2;
		goto out;
	}
	if (c.oauth && c.no_auth) {
		fprintf(stderr, "mcpd: --oauth and --no-auth contradict each other\n");
		ret = 2;
		goto out;
	}
	if (c.dnsd == NULL && (c.dnsd = strdup(MCONF_DEFAULT_DNSD)) == NULL)
		goto out;
	/* a client that goes away must not kill us with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	if (load_notify_key(&c, &keys, &notify_key) != 0)
		goto out;
	live_set_key(notify_key);
	keep.keep = c.journal_keep;
	keep.keep_days = c.journal_keep_days;
	store_set_retention(&keep);

	if (db_open(c.db_path, 0, &db, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	base = event_base_new();
	sessions = session_table_new(c.max_sessions, c.idle_timeout);
	if (base == NULL || sessions == NULL) {
		log_error("out of memory");
		goto out;
	}
	session_table_set_hook(sessions, sse_session_close_all, NULL);
	session_table_set_per_token(sessions, c.max_sessions_per_token);
	auth = auth_new(db, c.rate_limit, err, sizeof(err));
	if (auth == NULL) {
		log_error("%s: %s", c.db_path, err);
		goto out;
	}
	memset(&mo, 0, sizeof(mo));
	mo.db = db;
	mo.base = base;
	mo.dnsd_addr = c.dnsd;
	mo.tools = tool_defs;
	mo.n_tools = tool_defs_count;
	mo.sessions = sessions;
	mo.notify = sse_session_send;
	mcp = mcp_server_new(&mo, err, sizeof(err));
	if (mcp == NULL) {
		log_error("tool table refused: %s", err);
		goto out;
	}
	http = http_server_new(base, &c, mcp, auth, sessions, err, sizeof(err));
	if (http == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (c.oauth) {
		struct oauth_ttls ttl = {c.access_ttl, c.refresh_ttl, c.code_ttl};

		oauth = oauth_new(db, auth, c.public_url, &ttl, c.max_clients, err, sizeof(err));
		if (oauth == NULL) {
			log_error("oauth: %s", err);
			goto out;
		}
		/* client metadata documents: fetched by worker threads that
		 * answer through a pipe, so libevent stays single-threaded
		 * and needs no evthread_use_pthreads() */
		if (c.client_metadata && oauth_enable_cimd(oauth, base, c.client_metadata_private,
							   err, sizeof(err)) != 0) {
			log_error("oauth: %s", err);
			goto out;
		}
		http_server_set_oauth(http, oauth);
		log_info("OAuth 2.1 on: issuer %s, resource %s, client metadata documents %s",
			 c.public_url, oauth_resource(oauth),
			 !c.client_metadata	     ? "off"
			 : c.client_metadata_private ? "on (private addresses allowed)"
						     : "on");
	}
	if (c.port_file && write_port_file(c.port_file, http_server_port(http, 0)) != 0) {
		log_warn("cannot write port file %s", c.port_file);
		goto out;
	}
	memset(&stop, 0, sizeof(stop));
	stop.base = base;
	stop.mcp = mcp;
	stop.drain = event_new(base, -1, EV_PERSIST, on_drain, &stop);
	ev_term = evsignal_new(base, SIGTERM, on_signal, &stop);
	ev_int = evsignal_new(base, SIGINT, on_signal, &stop);
	ev_hup = evsignal_new(base, SIGHUP, on_hup, NULL);
	hk.sessions = sessions;
	hk.oauth = oauth;
	ev_expire = event_new(base, -1, EV_PERSIST, on_expire, &hk);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL || ev_expire == NULL ||
	    stop.drain == NULL) {
		log_error("out of memory");
		goto out;
	}
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	/* expire often enough to honour short timeouts, at most once a minute */
	tv.tv_sec = c.idle_timeout < 240 ? (c.idle_timeout + 3) / 4 : 60;
	tv.tv_usec = 0;
	event_add(ev_expire, &tv);
	{
		char kept[64] = "every change", age[64] = "";

		if (c.journal_keep)
			snprintf(kept, sizeof(kept), "the newest %u change%s", c.journal_keep,
				 c.journal_keep == 1 ? "" : "s");
		if (c.journal_keep_days)
			snprintf(age, sizeof(age), " of the last %u day%s", c.journal_keep_days,
				 c.journal_keep_days == 1 ? "" : "s");
		log_info("journal: keeping %s%s per zone", kept, age);
	}
	log_info("serving %zu tools, database %s, dnsd %s, %s", tool_defs_count, c.db_path, c.dnsd,
		 c.no_auth ? "NO AUTHENTICATION (--no-auth, loopback only)"
		 : oauth   ? "bearer tokens and OAuth"
			   : "bearer tokens");
	sdnotify("READY=1\nSTATUS=serving %zu tools\nMAINPID=%ld", tool_defs_count, (long)getpid());
	if (event_base_dispatch(base) < 0) {
		log_error("event loop failed");
		goto out;
	}
	ret = 0;
out:
	if (stop.drain)
		event_free(stop.drain);
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (ev_expire)
		event_free(ev_expire);
	/* connections first: their close callbacks detach waiting writes */
	http_server_free(http);
	oauth_free(oauth);
	mcp_server_free(mcp);
	session_table_free(sessions);
	auth_free(auth);
	if (db)
		sqlite3_close(db);
	if (base)
		event_base_free(base);
	live_set_key(NULL);
	tsig_keyring_free(&keys);
	mconf_free(&c);
	return ret;
}
