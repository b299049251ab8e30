/*
 * dconf.c: dnsd's settings and every default they have (dconf.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "dconf.h"
#include "err.h"

static const char *const dconf_keys[] = {
    "db",	 "listen",     "workers",	   "allow-notify",	  "check-interval",
    "metrics",	 "user",       "tcp-idle-timeout", "tcp-max-connections", "edns-size",
    "port-file", "error-rate", "allow-transfer",   "secondary",		  "tsig-keyfile",
};

void dconf_init(struct dconf *c)
{
	memset(c, 0, sizeof(*c));
	acl_init(&c->allow_notify);
	acl_init(&c->allow_transfer);
	c->check_interval = DCONF_DEFAULT_CHECK;
	c->tcp_idle_timeout = DCONF_DEFAULT_TCP_IDLE;
	c->tcp_max_connections = DCONF_DEFAULT_TCP_MAXCONN;
	c->err_rate = DCONF_DEFAULT_ERR_RATE;
	c->edns_size = 1232; /* DNS flag day 2020: no IP fragmentation */
	c->listen_phase = -1;
	c->notify_phase = -1;
	c->transfer_phase = -1;
	c->secondary_phase = -1;
}

void dconf_free(struct dconf *c)
{
	free(c->db_path);
	free(c->user);
	free(c->port_file);
	acl_free(&c->allow_notify);
	acl_free(&c->allow_transfer);
	free(c->tsig_keyfile);
	memset(c, 0, sizeof(*c));
}

bool dconf_known_key(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(dconf_keys) / sizeof(dconf_keys[0]); i++)
		if (strcmp(key, dconf_keys[i]) == 0)
			return true;
	return false;
}

/* Parses a decimal number in [lo, hi]. */
static int parse_uint(const char *key, const char *v, unsigned long lo, unsigned long hi,
		      unsigned long *out, char *err, size_t errcap)
{
	char *end;
	unsigned long x;

	if (*v < '0' || *v > '9') {
		snprintf(err, errcap, "%s: '%s' is not a number", key, v);
		return -1;
	}
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end != '\0') {
		snprintf(err, errcap, "%s: '%s' is not a number", key, v);
		return -1;
	}
	if (x < lo || x > hi) {
		snprintf(err, errcap, "%s: %lu is out of range %lu..%lu", key, x, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int set_string(char **dst, const char *key, const char *v, char *err, size_t errcap)
{
	char *s;

	if (*v == '\0') {
		snprintf(err, errcap, "%s needs a value", key);
		return -1;
	}
	s = strdup(v);
	if (s == NULL) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return false;
}

int dconf_set(void *arg, const char *key, const char *value, char *err, size_t errcap)
{
	struct dconf *c = arg;
	unsigned long n;

	if (strcmp(key, "db") == 0)
		return set_string(&c->db_path, key, value, err, errcap);
	if (strcmp(key, "user") == 0)
		return set_string(&c->user, key, value, err, errcap);
	if (strcmp(key, "port-file") == 0)
		return set_string(&c->port_file, key, value, err, errcap);
	if (strcmp(key, "tsig-keyfile") == 0)
		return set_string(&c->tsig_keyfile, key, value, err, errcap);
	if (strcmp(key, "allow-transfer") == 0) {
		if (c->transfer_phase != c->phase) {
			acl_clear(&c->allow_transfer);
			c->transfer_phase = c->phase;
		}
		if (strcmp(value, "none") == 0)
			return 0;
		return acl_add(&c->allow_transfer, value, err, errcap) == 0 ? 0 : -1;
	}
	if (strcmp(key, "secondary") == 0) {
		if (c->secondary_phase != c->phase) {
			c->nsecondaries = 0;
			c->secondary_phase = c->phase;
		}
		if (strcmp(value, "none") == 0)
			return 0;
		if (c->nsecondaries >= DCONF_MAX_SECONDARIES) {
			snprintf(err, errcap, "secondary: at most %d", DCONF_MAX_SECONDARIES);
			return -1;
		}
		if (dconf_peer_parse(value, 53, &c->secondaries[c->nsecondaries], err, errcap) != 0)
			return -1;
		c->nsecondaries++;
		return 0;
	}
	if (strcmp(key, "listen") == 0) {
		struct dconf_addr *a;
		unsigned int len;

		if (c->listen_phase != c->phase) {
			/* the command line replaces the file's list */
			c->nlisten = 0;
			c->listen_phase = c->phase;
		}
		if (c->nlisten >= DCONF_MAX_LISTEN) {
			snprintf(err, errcap, "listen: at most %d addresses", DCONF_MAX_LISTEN);
			return -1;
		}
		a = &c->listen[c->nlisten];
		if (conf_parse_addr(value, DCONF_DEFAULT_PORT, &a->ss, &len) != 0) {
			snprintf(err, errcap,
				 "listen: '%s' is not ADDR[:PORT] (e.g. 127.0.0.1:53, [::1]:53)",
				 value);
			return -1;
		}
		a->len = (socklen_t)len;
		c->nlisten++;
		return 0;
	}
	if (strcmp(key, "metrics") == 0) {
		unsigned int len;

		if (conf_parse_addr(value, 9153, &c->metrics.ss, &len) != 0) {
			snprintf(err, errcap, "metrics: '%s' is not ADDR:PORT", value);
			return -1;
		}
		/* The endpoint has no authentication: keep it off the network. */
		if (!is_loopback((struct sockaddr *)&c->metrics.ss)) {
			snprintf(err, errcap, "metrics: '%s' is not a loopback address", value);
			return -1;
		}
		c->metrics.len = (socklen_t)len;
		c->has_metrics = true;
		return 0;
	}
	if (strcmp(key, "allow-notify") == 0) {
		if (c->notify_phase != c->phase) {
			acl_clear(&c->allow_notify);
			c->notify_phase = c->phase;
		}
		c->notify_set = true;
		if (strcmp(value, "none") == 0)
			return 0; /* an explicit empty list: refuse every NOTIFY */
		return acl_add(&c->allow_notify, value, err, errcap) == 0 ? 0 : -1;
	}
	if (strcmp(key, "workers") == 0) {
		if (parse_uint(key, value, 1, DCONF_MAX_WORKERS, &n, err, errcap))
			return -1;
		c->workers = (int)n;
		return 0;
	}
	if (strcmp(key, "check-interval") == 0) {
		if (parse_uint(key, value, 0, 86400, &n, err, errcap))
			return -1;
		c->check_interval = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "tcp-idle-timeout") == 0) {
		if (parse_uint(key, value, 1, 3600, &n, err, errcap))
			return -1;
		c->tcp_idle_timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "tcp-max-connections") == 0) {
		if (parse_uint(key, value, 1, 1000000, &n, err, errcap))
			return -1;
		c->tcp_max_connections = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "error-rate") == 0) {
		if (parse_uint(key, value, 1, 1000000, &n, err, errcap))
			return -1;
		c->err_rate = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "edns-size") == 0) {
		/* RFC 6891 §6.2.5: below 512 is treated as 512; above 4096 invites
		 * fragmentation, which the 2020 flag day set out to avoid. */
		if (parse_uint(key, value, 512, 4096, &n, err, errcap))
			return -1;
		c->edns_size = (uint16_t)n;
		return 0;
	}
	snprintf(err, errcap, "unknown key '%s'", key);
	return -1;
}

int dconf_finish(struct dconf *c, char *err, size_t errcap)
{
	if (c->db_path == NULL) {
		snprintf(err, errcap, "no database given: use --db FILE (or 'db FILE' in -c FILE)");
		return -1;
	}
	if (c->nlisten == 0) {
		unsigned int len;

		conf_parse_addr("127.0.0.1", DCONF_DEFAULT_PORT, &c->listen[0].ss, &len);
		c->listen[0].len = (socklen_t)len;
		conf_parse_addr("::1", DCONF_DEFAULT_PORT, &c->listen[1].ss, &len);
		c->listen[1].len = (socklen_t)len;
		c->nlisten = 2;
		c->listen_defaulted = true;
	}
	if (!c->notify_set) {
		if (acl_add(&c->allow_notify, "127.0.0.0/8", err, errcap) != 0 ||
		    acl_add(&c->allow_notify, "::1", err, errcap) != 0)
			return -1;
	}
	if (c->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = n < 1 ? 1 : n > DCONF_MAX_WORKERS ? DCONF_MAX_WORKERS : (int)n;
	}
	return 0;
}

int dconf_peer_parse(const char *spec, int default_port, struct dconf_peer *out, char *err,
		     size_t errcap)
{
	static const uint8_t root[1] = {0};
	char addr[128];
	const char *sp = spec + strcspn(spec, " \t"), *k;
	size_t n = (size_t)(sp - spec);
	unsigned int len;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(addr)) {
		snprintf(err, errcap, "'%s' is not ADDR[:PORT] [key NAME]", spec);
		return -1;
	}
	memcpy(addr, spec, n);
	addr[n] = '\0';
	if (conf_parse_addr(addr, default_port, &out->addr.ss, &len) != 0) {
		snprintf(err, errcap,
			 "'%s' is not ADDR[:PORT] (e.g. 192.0.2.1:53, [2001:db8::1]:53)", addr);
		return -1;
	}
	out->addr.len = (socklen_t)len;
	sp += strspn(sp, " \t");
	if (*sp == '\0')
		return 0;
	if (strncmp(sp, "key", 3) != 0 || (sp[3] != ' ' && sp[3] != '\t')) {
		snprintf(err, errcap, "'%s': expected 'ADDR[:PORT] key NAME'", spec);
		return -1;
	}
	k = sp + 3 + strspn(sp + 3, " \t");
	n = strcspn(k, " \t");
	if (n == 0 || k[n + strspn(k + n, " \t")] != '\0' ||
	    dname_parse_text(k, n, root, out->key) < 0) {
		snprintf(err, errcap, "'%s': the key name after 'key' is not a domain name", spec);
		return -1;
	}
	if (out->key[0] == 0) { /* root: would read as "no key" (unsigned) */
		snprintf(err, errcap, "'%s': the root is not a key name", spec);
		return -1;
	}
	dname_lower(out->key);
	return 0;
}

void dconf_addr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, cap, "?");
	}
}
