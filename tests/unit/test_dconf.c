/*
 * test_dconf.c: dnsd's settings (dnsd/dconf.c) read the way dnsd's main()
 * reads them: the file through conf_parse_file(dconf_set), then phase 1
 * and the command-line flags through dconf_set, then dconf_finish.
 *
 * Covered: every key and its default, a flag overriding the file's scalar,
 * a repeatable flag replacing the file's list (listen, allow-notify,
 * allow-transfer, secondary), repeatable keys accumulating inside one
 * source, numeric limits at N and N+1 on both ends, list caps at N and
 * N+1, bad values reported with the file's line number, the keys
 * documented in dconf.h all known to the flag parser.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "dconf.h"
#include "dname.h"
#include "err.h"
#include "tap.h"

static char tmpdir[256];
static char conf_path[512];

/* Writes text to the test's config file; returns its path. */
static const char *conf_file(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	if (f == NULL || fputs(text, f) < 0) {
		perror(conf_path);
		exit(2);
	}
	fclose(f);
	return conf_path;
}

/* file (may be NULL), then the flags as key/value pairs (NULL-ended), then
 * dconf_finish when finish is set. Returns 0, or -1 with err set. */
static int load(struct dconf *c, const char *file, const char *const *flags, int finish, char *err,
		size_t errcap)
{
	size_t i;

	dconf_init(c);
	err[0] = '\0';
	if (file && conf_parse_file(conf_file(file), dconf_set, c, err, errcap) != 0)
		return -1;
	c->phase = 1;
	for (i = 0; flags && flags[i]; i += 2)
		if (dconf_set(c, flags[i], flags[i + 1], err, errcap) != 0)
			return -1;
	if (finish && dconf_finish(c, err, errcap) != 0)
		return -1;
	return 0;
}

static const char *addr_text(const struct dconf_addr *a)
{
	static char buf[4][64];
	static int slot;
	char *p = buf[slot++ % 4];

	dconf_addr_format((const struct sockaddr *)&a->ss, p, sizeof(buf[0]));
	return p;
}

static const char *acl_text(const struct acl *a)
{
	static char buf[2048];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < a->n && off < sizeof(buf) - 300; i++) {
		char one[300];
		acl_format(a, i, one, sizeof(one));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "", one);
	}
	return buf;
}

static const struct sockaddr *peer(const char *ip)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)&ss;
}

static void test_defaults(void)
{
	struct dconf c;
	char err[512];
	static const char *const flags[] = {"db", "/tmp/x.db", NULL};

	is_int(load(&c, NULL, flags, 1, err, sizeof(err)), 0,
	       "--db alone is a valid configuration");
	is_str(c.db_path, "/tmp/x.db", "db");
	is_int(c.nlisten, 2, "default: two listeners");
	is_str(addr_text(&c.listen[0]), "127.0.0.1:5353", "default listener 1");
	is_str(addr_text(&c.listen[1]), "[::1]:5353", "default listener 2");
	ok(c.listen_defaulted, "listen_defaulted set (a missing IPv6 stack is not fatal)");
	is_str(acl_text(&c.allow_notify), "127.0.0.0/8,::1/128", "default allow-notify");
	ok(acl_match(&c.allow_notify, peer("127.0.0.53")) &&
	       !acl_match(&c.allow_notify, peer("192.0.2.1")),
	   "default allow-notify: loopback yes, others no");
	ok(c.workers >= 1 && c.workers <= DCONF_MAX_WORKERS, "default workers in 1..256 (%d)",
	   c.workers);
	{
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (cpus >= 1 && cpus <= DCONF_MAX_WORKERS)
			is_int(c.workers, cpus, "default workers = online CPUs");
	}
	is_int(c.check_interval, 30, "default check-interval 30");
	is_int(c.tcp_idle_timeout, 10, "default tcp-idle-timeout 10 (RFC 7766 §6.2.3)");
	is_int(c.tcp_max_connections, 1000, "default tcp-max-connections 1000");
	is_int(c.err_rate, 100, "default error-rate 100");
	is_int(c.edns_size, 1232, "default edns-size 1232");
	ok(!c.has_metrics, "no metrics listener by default");
	ok(c.user == NULL, "no user by default");
	ok(c.port_file == NULL, "no port file by default");
	ok(c.tsig_keyfile == NULL, "no TSIG key file by default");
	is_int(c.allow_transfer.n, 0, "allow-transfer empty by default (transfers REFUSED)");
	is_int(c.nsecondaries, 0, "no secondaries by default");
	dconf_free(&c);

	/* db is required */
	ok(load(&c, "workers 2\n", NULL, 1, err, sizeof(err)) == -1 && strstr(err, "--db") &&
	       strstr(err, "db FILE"),
	   "no db: refused, the message says how to give it: %s", err);
	dconf_free(&c);
}

/* Every key in a file, then read back. */
static void test_every_key(void)
{
	struct dconf c;
	char err[512], k[DNAME_TEXT_MAXLEN];
	const char *file = "db /var/lib/dnsmcp/dns.db\n"
			   "listen 127.0.0.1:53\n"
			   "listen [::1]:53\n"
			   "listen 0.0.0.0:0\n"
			   "workers 3\n"
			   "allow-notify 192.0.2.0/24\n"
			   "allow-notify 2001:db8::/32\n"
			   "check-interval 0\n"
			   "metrics 127.0.0.1:9100\n"
			   "user dnsmcp\n"
			   "tcp-idle-timeout 20\n"
			   "tcp-max-connections 50\n"
			   "edns-size 1400\n"
			   "port-file /run/dnsd.port\n"
			   "error-rate 7\n"
			   "allow-transfer 198.51.100.0/24\n"
			   "allow-transfer 0.0.0.0/0 key Xfr-Key\n"
			   "secondary 198.51.100.2\n"
			   "secondary [2001:db8::2]:5300 key Xfr-Key\n"
			   "tsig-keyfile /etc/dnsmcp/tsig.keys\n";

	if (!ok(load(&c, file, NULL, 1, err, sizeof(err)) == 0,
		"a file setting every key loads: %s", err))
		return;
	is_str(c.db_path, "/var/lib/dnsmcp/dns.db", "db");
	is_int(c.nlisten, 3, "three listeners");
	is_str(addr_text(&c.listen[0]), "127.0.0.1:53", "listen 1");
	is_str(addr_text(&c.listen[1]), "[::1]:53", "listen 2");
	is_str(addr_text(&c.listen[2]), "0.0.0.0:0", "listen 3, port 0 (pick a free port)");
	ok(!c.listen_defaulted, "listen given: not defaulted");
	is_int(c.workers, 3, "workers");
	is_str(acl_text(&c.allow_notify), "192.0.2.0/24,2001:db8::/32",
	       "allow-notify replaces the default list");
	ok(!acl_match(&c.allow_notify, peer("127.0.0.1")),
	   "allow-notify given: loopback no longer allowed");
	is_int(c.check_interval, 0, "check-interval 0 (off)");
	ok(c.has_metrics, "metrics set");
	is_str(addr_text(&c.metrics), "127.0.0.1:9100", "metrics address");
	is_str(c.user, "dnsmcp", "user");
	is_int(c.tcp_idle_timeout, 20, "tcp-idle-timeout");
	is_int(c.tcp_max_connections, 50, "tcp-max-connections");
	is_int(c.edns_size, 1400, "edns-size");
	is_str(c.port_file, "/run/dnsd.port", "port-file");
	is_int(c.err_rate, 7, "error-rate");
	is_str(acl_text(&c.allow_transfer), "198.51.100.0/24,0.0.0.0/0 key xfr-key.",
	       "allow-transfer, key lower-cased");
	is_int(c.nsecondaries, 2, "two secondaries");
	is_str(addr_text(&c.secondaries[0].addr), "198.51.100.2:53",
	       "secondary 1, port 53 default");
	is_int(c.secondaries[0].key[0], 0, "secondary 1 unsigned");
	is_str(addr_text(&c.secondaries[1].addr), "[2001:db8::2]:5300", "secondary 2");
	ok(dname_print(c.secondaries[1].key, k, sizeof(k)) >= 0 && strcmp(k, "xfr-key.") == 0,
	   "secondary 2 signed with xfr-key (lower-cased): %s", k);
	is_str(c.tsig_keyfile, "/etc/dnsmcp/tsig.keys", "tsig-keyfile");
	dconf_free(&c);
}

/* A flag overrides the file's scalar; a repeatable flag replaces the
 * file's list, and several such flags accumulate among themselves. */
static void test_flags_override(void)
{
	struct dconf c;
	char err[512];
	const char *file = "db /file.db\n"
			   "workers 4\n"
			   "check-interval 60\n"
			   "user fileuser\n"
			   "listen 127.0.0.1:1053\n"
			   "listen 127.0.0.2:1053\n"
			   "allow-notify 192.0.2.0/24\n"
			   "allow-transfer 198.51.100.0/24\n"
			   "secondary 198.51.100.9\n"
			   "edns-size 1232\n";
	static const char *const flags[] = {"db",
					    "/flag.db",
					    "workers",
					    "8",
					    "user",
					    "flaguser",
					    "listen",
					    "[::1]:2053",
					    "listen",
					    "127.0.0.3:2053",
					    "edns-size",
					    "4096",
					    "allow-transfer",
					    "203.0.113.0/24",
					    "secondary",
					    "203.0.113.5",
					    "secondary",
					    "203.0.113.6",
					    NULL};

	if (!ok(load(&c, file, flags, 1, err, sizeof(err)) == 0, "file + flags load: %s", err))
		return;
	is_str(c.db_path, "/flag.db", "--db overrides the file's db");
	is_int(c.workers, 8, "--workers overrides the file's workers");
	is_str(c.user, "flaguser", "--user overrides the file's user");
	is_int(c.edns_size, 4096, "--edns-size overrides the file's edns-size");
	is_int(c.check_interval, 60, "a key not given as a flag keeps the file's value");
	is_int(c.nlisten, 2, "--listen twice: two listeners, the file's two dropped");
	is_str(addr_text(&c.listen[0]), "[::1]:2053", "flag listener 1");
	is_str(addr_text(&c.listen[1]), "127.0.0.3:2053", "flag listener 2");
	is_str(acl_text(&c.allow_notify), "192.0.2.0/24",
	       "allow-notify not given as a flag: the file's list is kept");
	is_str(acl_text(&c.allow_transfer), "203.0.113.0/24",
	       "--allow-transfer replaces the file's list");
	is_int(c.nsecondaries, 2, "--secondary twice replaces the file's one");
	is_str(addr_text(&c.secondaries[0].addr), "203.0.113.5:53", "flag secondary 1");
	is_str(addr_text(&c.secondaries[1].addr), "203.0.113.6:53", "flag secondary 2");
	dconf_free(&c);

	/* --allow-notify replaces the file's list; 'none' empties it and
	 * keeps the defaults away */
	{
		static const char *const f1[] = {"allow-notify", "10.0.0.0/8", NULL};
		static const char *const f2[] = {"allow-notify", "none", NULL};

		ok(load(&c, "db x\nallow-notify 192.0.2.0/24\nallow-notify ::1\n", f1, 1, err,
			sizeof(err)) == 0,
		   "file allow-notify x2 + flag allow-notify");
		is_str(acl_text(&c.allow_notify), "10.0.0.0/8", "the flag's list only");
		dconf_free(&c);

		ok(load(&c, "db x\nallow-notify 192.0.2.0/24\n", f2, 1, err, sizeof(err)) == 0,
		   "flag allow-notify none");
		is_int(c.allow_notify.n, 0, "--allow-notify none: empty list, no defaults added");
		ok(!acl_match(&c.allow_notify, peer("127.0.0.1")),
		   "--allow-notify none: even loopback may not NOTIFY");
		dconf_free(&c);

		ok(load(&c, "db x\nallow-notify none\n", NULL, 1, err, sizeof(err)) == 0 &&
		       c.allow_notify.n == 0,
		   "'allow-notify none' in the file: empty list, no defaults added");
		dconf_free(&c);

		ok(load(&c, "db x\nallow-transfer 10.0.0.0/8\nallow-transfer none\n", NULL, 1, err,
			sizeof(err)) == 0 &&
		       c.allow_transfer.n == 1,
		   "'none' after entries in the same source adds nothing, keeps them");
		dconf_free(&c);
	}

	/* flags without a file behave as flags on top of the defaults */
	{
		static const char *const f[] = {"db", "x", "listen", "127.0.0.1:0", NULL};

		ok(load(&c, NULL, f, 1, err, sizeof(err)) == 0 && c.nlisten == 1 &&
		       !c.listen_defaulted,
		   "--listen without a file: exactly that listener, no defaults");
		dconf_free(&c);
	}
}

/* Inside one source, a repeatable key accumulates and a scalar's last
 * value wins (strings are replaced without leaking, see ASan build). */
static void test_repeat_in_file(void)
{
	struct dconf c;
	char err[512];

	ok(load(&c,
		"db a\ndb b\nuser u1\nuser u2\nport-file p1\nport-file p2\n"
		"tsig-keyfile t1\ntsig-keyfile t2\nworkers 2\nworkers 5\n"
		"listen 127.0.0.1:1\nlisten 127.0.0.1:2\nlisten 127.0.0.1:3\n",
		NULL, 1, err, sizeof(err)) == 0,
	   "repeated keys in a file load: %s", err);
	is_str(c.db_path, "b", "db: last wins");
	is_str(c.user, "u2", "user: last wins");
	is_str(c.port_file, "p2", "port-file: last wins");
	is_str(c.tsig_keyfile, "t2", "tsig-keyfile: last wins");
	is_int(c.workers, 5, "workers: last wins");
	is_int(c.nlisten, 3, "listen x3 in the file: three listeners");
	dconf_free(&c);
}

struct numkey {
	const char *key;
	unsigned long lo, hi; /* documented range */
};

static unsigned long numval(const struct dconf *c, const char *key)
{
	if (strcmp(key, "workers") == 0)
		return (unsigned long)c->workers;
	if (strcmp(key, "check-interval") == 0)
		return c->check_interval;
	if (strcmp(key, "tcp-idle-timeout") == 0)
		return c->tcp_idle_timeout;
	if (strcmp(key, "tcp-max-connections") == 0)
		return c->tcp_max_connections;
	if (strcmp(key, "error-rate") == 0)
		return c->err_rate;
	if (strcmp(key, "edns-size") == 0)
		return c->edns_size;
	return (unsigned long)-1;
}

/* Every numeric key at lo-1, lo, hi, hi+1, read from a file whose third
 * line holds the value, so the line number in the message is checked. */
static void test_numeric_limits(void)
{
	static const struct numkey keys[] = {
	    {"workers", 1, 256},	   {"check-interval", 0, 86400},
	    {"tcp-idle-timeout", 1, 3600}, {"tcp-max-connections", 1, 1000000},
	    {"error-rate", 1, 1000000},	   {"edns-size", 512, 4096},
	};
	static const char *const junk[] = {
	    "-1", "+5", "5x", "0x10", "1e3", "five", "", "99999999999999999999999", "5 6"};
	size_t i, j;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct dconf c;
		char file[256], err[512], want[600];
		unsigned long v;

		/* N at both ends: accepted, and the value is what was written */
		for (j = 0; j < 2; j++) {
			v = j ? keys[i].hi : keys[i].lo;
			snprintf(file, sizeof(file), "db x\n# limits\n%s %lu\n", keys[i].key, v);
			ok(load(&c, file, NULL, 0, err, sizeof(err)) == 0 &&
			       numval(&c, keys[i].key) == v,
			   "%s %lu (N) accepted: %s", keys[i].key, v, err);
			dconf_free(&c);
		}
		/* N+1 at both ends: refused, "FILE:3: key: V is out of range LO..HI" */
		for (j = 0; j < 2; j++) {
			if (!j && keys[i].lo == 0)
				continue; /* no -1 to test as a number; see junk below */
			v = j ? keys[i].hi + 1 : keys[i].lo - 1;
			snprintf(file, sizeof(file), "db x\n# limits\n%s %lu\n", keys[i].key, v);
			snprintf(want, sizeof(want), "%s:3: %s: %lu is out of range %lu..%lu",
				 conf_path, keys[i].key, v, keys[i].lo, keys[i].hi);
			ok(load(&c, file, NULL, 0, err, sizeof(err)) == -1, "%s %lu (N+1) refused",
			   keys[i].key, v);
			is_str(err, want, "... with line number and range");
			dconf_free(&c);
		}
		/* not numbers at all */
		for (j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
			snprintf(file, sizeof(file), "db x\n\n%s %s\n", keys[i].key, junk[j]);
			snprintf(want, sizeof(want), "%s:3: %s: '%s' is not a number", conf_path,
				 keys[i].key, junk[j]);
			ok(load(&c, file, NULL, 0, err, sizeof(err)) == -1 &&
			       strcmp(err, want) == 0,
			   "%s '%s' refused as not a number: %s", keys[i].key, junk[j], err);
			dconf_free(&c);
		}
	}
	/* a refused flag leaves the file's value: dnsd then exits anyway, but
	 * -n (check config) must not report a half-applied value */
	{
		struct dconf c;
		char err[512];
		static const char *const f[] = {"workers", "0", NULL};

		ok(load(&c, "db x\nworkers 4\n", f, 0, err, sizeof(err)) == -1 && c.workers == 4 &&
		       strcmp(err, "workers: 0 is out of range 1..256") == 0,
		   "--workers 0 refused without a line number, file value untouched: %s", err);
		dconf_free(&c);
	}
}

/* The list caps: DCONF_MAX_LISTEN listeners, DCONF_MAX_SECONDARIES peers. */
static void test_list_caps(void)
{
	static const struct {
		const char *key;
		int max;
		const char *prefix; /* line up to the port */
	} caps[] = {
	    {"listen", DCONF_MAX_LISTEN, "listen 127.0.0.1:"},
	    {"secondary", DCONF_MAX_SECONDARIES, "secondary 192.0.2.1:"},
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		size_t cap = 64 * (size_t)(caps[i].max + 4);
		char *file = malloc(cap), err[512], want[600];
		size_t off = 0;
		struct dconf c;
		int k;

		off += (size_t)snprintf(file, cap, "db x\n");
		for (k = 0; k < caps[i].max; k++)
			off += (size_t)snprintf(file + off, cap - off, "%s%d\n", caps[i].prefix,
						1000 + k);
		ok(load(&c, file, NULL, 0, err, sizeof(err)) == 0 &&
		       (i ? c.nsecondaries : c.nlisten) == caps[i].max,
		   "%d x %s (N) accepted: %s", caps[i].max, caps[i].key, err);
		dconf_free(&c);

		snprintf(file + off, cap - off, "%s%d\n", caps[i].prefix, 1000 + k);
		ok(load(&c, file, NULL, 0, err, sizeof(err)) == -1, "%d x %s (N+1) refused",
		   caps[i].max + 1, caps[i].key);
		snprintf(want, sizeof(want), "%s:%d: ", conf_path, caps[i].max + 2);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s: at most %d",
			 caps[i].key, caps[i].max);
		ok(strncmp(err, want, strlen(want)) == 0, "... at line %d, naming the cap: %s",
		   caps[i].max + 2, err);
		dconf_free(&c);

		/* the flags start a new list, so a full list in the file does
		 * not block them */
		{
			const char *f[] = {caps[i].key, i ? "192.0.2.7" : "127.0.0.1:7", NULL};

			file[off] = '\0'; /* back to N in the file */
			ok(load(&c, file, f, 0, err, sizeof(err)) == 0 &&
			       (i ? c.nsecondaries : c.nlisten) == 1,
			   "N %s in the file + one flag: the flag's list of 1: %s", caps[i].key,
			   err);
			dconf_free(&c);
		}
		free(file);
	}
}

/* Bad values of the other keys, each reported with its line. */
static void test_bad_values(void)
{
	static const struct {
		const char *line;
		const char *msg; /* expected message after "FILE:2: ", or a part of it */
		int exact;
	} cases[] = {
	    {"lisen 127.0.0.1:53", "unknown key 'lisen'", 1},
	    {"Listen 127.0.0.1:53", "unknown key 'Listen'", 1},
	    {"--listen 127.0.0.1:53", "unknown key '--listen'", 1},
	    {"db", "db needs a value", 1},
	    {"user", "user needs a value", 1},
	    {"port-file", "port-file needs a value", 1},
	    {"tsig-keyfile", "tsig-keyfile needs a value", 1},
	    {"listen localhost:53",
	     "listen: 'localhost:53' is not ADDR[:PORT] (e.g. 127.0.0.1:53, [::1]:53)", 1},
	    {"listen 127.0.0.1:65536", "listen: '127.0.0.1:65536' is not ADDR[:PORT]", 0},
	    {"listen", "listen: '' is not ADDR[:PORT]", 0},
	    {"metrics 0.0.0.0:9153", "metrics: '0.0.0.0:9153' is not a loopback address", 1},
	    {"metrics 192.0.2.1", "metrics: '192.0.2.1' is not a loopback address", 1},
	    {"metrics [::]:9153", "metrics: '[::]:9153' is not a loopback address", 1},
	    {"metrics [2001:db8::1]:9153", "not a loopback address", 0},
	    {"metrics here", "metrics: 'here' is not ADDR:PORT", 1},
	    {"allow-notify 10.0.0.1/8", "host bits", 0},
	    {"allow-notify 10.0.0.0/33", "prefix length 33 > 32", 0},
	    {"allow-notify ::/129", "prefix length 129 > 128", 0},
	    {"allow-notify everyone", "not an IPv4 or IPv6 address", 0},
	    {"allow-notify", "not an address or CIDR prefix", 0},
	    {"allow-transfer 0.0.0.0/0 key", "expected 'CIDR' or 'CIDR key NAME'", 0},
	    {"allow-transfer 0.0.0.0/0 secret k", "expected 'CIDR' or 'CIDR key NAME'", 0},
	    {"secondary 192.0.2.1 key", "expected 'ADDR[:PORT] key NAME'", 0},
	    {"secondary 192.0.2.1 key a..b", "not a domain name", 0},
	    {"allow-transfer 0.0.0.0/0 key a..b", "not a domain name", 0},
	    {"secondary 192.0.2.1 sign k", "expected 'ADDR[:PORT] key NAME'", 0},
	    {"secondary ns1.example.org", "'ns1.example.org' is not ADDR[:PORT]", 0},
	    {"secondary", "is not ADDR[:PORT] [key NAME]", 0},
	    {"secondary 192.0.2.1:70000", "is not ADDR[:PORT]", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dconf c;
		char file[256], err[512], want[700];

		snprintf(file, sizeof(file), "db x\n%s\nworkers 1\n", cases[i].line);
		snprintf(want, sizeof(want), "%s:2: %s", conf_path, cases[i].msg);
		if (load(&c, file, NULL, 0, err, sizeof(err)) != -1) {
			ok(0, "'%s' refused", cases[i].line);
		} else if (cases[i].exact) {
			is_str(err, want, "'%s' refused at line 2", cases[i].line);
		} else {
			snprintf(want, sizeof(want), "%s:2: ", conf_path);
			ok(strncmp(err, want, strlen(want)) == 0 && strstr(err, cases[i].msg),
			   "'%s' refused at line 2: %s", cases[i].line, err);
		}
		ok(c.workers == 0, "... and the lines after it are not applied");
		dconf_free(&c);
	}

	/* loopback metrics addresses are accepted, with port 9153 by default */
	{
		static const char *good[][2] = {{"127.0.0.1", "127.0.0.1:9153"},
						{"127.9.8.7:80", "127.9.8.7:80"},
						{"[::1]", "[::1]:9153"},
						{"::1", "[::1]:9153"},
						{"[::1]:0", "[::1]:0"}};
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			struct dconf c;
			char err[256];

			dconf_init(&c);
			ok(dconf_set(&c, "metrics", good[i][0], err, sizeof(err)) == 0 &&
			       c.has_metrics && strcmp(addr_text(&c.metrics), good[i][1]) == 0,
			   "metrics %s -> %s", good[i][0], good[i][1]);
			dconf_free(&c);
		}
	}
}

/* Every key documented in dconf.h's "Keys:" block is known to the flag
 * parser and accepted with a sensible value; unknown keys are not. */
static void test_known_keys(void)
{
	static const char *const sample[][2] = {
	    {"db", "x.db"},
	    {"listen", "127.0.0.1:53"},
	    {"workers", "2"},
	    {"allow-notify", "127.0.0.1"},
	    {"check-interval", "5"},
	    {"metrics", "127.0.0.1:9153"},
	    {"user", "nobody"},
	    {"tcp-idle-timeout", "5"},
	    {"tcp-max-connections", "5"},
	    {"edns-size", "1232"},
	    {"port-file", "/tmp/p"},
	    {"error-rate", "5"},
	    {"allow-transfer", "none"},
	    {"secondary", "none"},
	    {"tsig-keyfile", "/tmp/k"},
	};
	const char *srcdir = getenv("SRCDIR");
	char path[1024], line[512];
	FILE *f;
	size_t i;
	int documented = 0, unknown = 0, refused = 0, in_keys = 0;

	for (i = 0; i < sizeof(sample) / sizeof(sample[0]); i++) {
		struct dconf c;
		char err[256];

		dconf_init(&c);
		if (!dconf_known_key(sample[i][0])) {
			unknown++;
			printf("#   '%s' not known to dconf_known_key\n", sample[i][0]);
		}
		if (dconf_set(&c, sample[i][0], sample[i][1], err, sizeof(err)) != 0) {
			refused++;
			printf("#   '%s %s' refused: %s\n", sample[i][0], sample[i][1], err);
		}
		dconf_free(&c);
	}
	is_int(unknown, 0, "every key dconf_set takes is a known flag");
	is_int(refused, 0, "every key takes its sample value");
	ok(!dconf_known_key("lisen") && !dconf_known_key("") && !dconf_known_key("LISTEN") &&
	       !dconf_known_key("listen "),
	   "misspelled keys are not known");

	snprintf(path, sizeof(path), "%s/dnsd/dconf.h", srcdir ? srcdir : ".");
	f = fopen(path, "r");
	if (!ok(f != NULL, "read %s", path))
		return;
	unknown = 0;
	while (fgets(line, sizeof(line), f)) {
		char key[64];

		if (strstr(line, " * Keys:")) {
			in_keys = 1;
			continue;
		}
		if (in_keys && strncmp(line, " */", 3) == 0)
			break;
		/* " *   key ARG  text": exactly three blanks before a key */
		if (in_keys && strncmp(line, " *   ", 5) == 0 && line[5] >= 'a' && line[5] <= 'z' &&
		    sscanf(line + 5, "%63[a-z-]", key) == 1) {
			documented++;
			if (!dconf_known_key(key)) {
				unknown++;
				printf("#   documented key '%s' unknown to dconf_known_key\n", key);
			}
		}
	}
	fclose(f);
	ok(documented >= 14, "dconf.h documents %d keys", documented);
	is_int(unknown, 0, "every documented key is known");
}

static void test_peer_and_format(void)
{
	struct dconf_peer p;
	char err[256], buf[64], k[DNAME_TEXT_MAXLEN];
	struct sockaddr_storage un;

	ok(dconf_peer_parse("192.0.2.1", 53, &p, err, sizeof(err)) == 0 &&
	       strcmp(addr_text(&p.addr), "192.0.2.1:53") == 0 && p.key[0] == 0,
	   "peer without port: default port, no key");
	ok(dconf_peer_parse("[2001:db8::1]:5300   key   K1.Example.", 53, &p, err, sizeof(err)) ==
		   0 &&
	       strcmp(addr_text(&p.addr), "[2001:db8::1]:5300") == 0 &&
	       dname_print(p.key, k, sizeof(k)) >= 0 && strcmp(k, "k1.example.") == 0,
	   "peer with port and key (blanks repeated, key lower-cased): %s", k);
	ok(p.addr.len == sizeof(struct sockaddr_in6), "IPv6 peer length is sockaddr_in6");
	ok(dconf_peer_parse("192.0.2.1 key a b", 53, &p, err, sizeof(err)) == -1,
	   "two key names refused");

	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	dconf_addr_format((const struct sockaddr *)&un, buf, sizeof(buf));
	is_str(buf, "?", "dconf_addr_format of a non-IP address prints '?'");
	{
		struct dconf_addr a;
		unsigned int len;
		char small[6];

		conf_parse_addr("[2001:db8::1]:5300", 1, &a.ss, &len);
		memset(small, 'Z', sizeof(small));
		dconf_addr_format((const struct sockaddr *)&a.ss, small, sizeof(small));
		ok(memchr(small, '\0', sizeof(small)) != NULL && strncmp(small, "[2001", 5) == 0,
		   "dconf_addr_format cuts to the buffer, NUL-terminated: %s", small);
	}
}

/*
 * Regression (found in dnsd/dconf.c, dconf_peer_parse): "key ."
 * (or "key @") is accepted and yields the root name, whose first octet 0
 * means "unsigned": "secondary 192.0.2.1 key ." sends unsigned NOTIFYs
 * without a word. The same parse in acl.c opens allow-transfer to
 * everyone (see test_acl.c). Fix: refuse a key name of zero labels.
 */
static void test_root_key_peer(void)
{
	struct dconf_peer p;
	char err[256];

	is_int(dconf_peer_parse("192.0.2.1 key .", 53, &p, err, sizeof(err)), -1,
	       "secondary with key . refused");
	is_int(dconf_peer_parse("192.0.2.1 key @", 53, &p, err, sizeof(err)), -1,
	       "secondary with key @ refused");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_dconf.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/dnsd.conf", tmpdir);
	test_defaults();
	test_every_key();
	test_flags_override();
	test_repeat_in_file();
	test_numeric_limits();
	test_list_caps();
	test_bad_values();
	test_known_keys();
	test_peer_and_format();
	unlink(conf_path);
	rmdir(tmpdir);
	test_root_key_peer();
	return done_testing();
}
