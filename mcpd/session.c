/*
 * session.c: the session table (session.h). A fixed array of hash buckets
 * keyed by the id's first bytes (the ids are random, so that is a fair
 * hash) plus a doubly linked list for iteration and expiry.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "session.h"
#include "token.h"

#define SESSION_BUCKETS 1024

struct session_table {
	struct session *buckets[SESSION_BUCKETS];
	struct session *head, *tail;
	size_t count;
	unsigned max;
	uint64_t idle_ms;
	session_hook hook;
	void *hook_arg;
};

uint64_t session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned bucket_of(const char *id)
{
	unsigned h = 0;

	for (int i = 0; i < 8 && id[i]; i++)
		h = h * 31 + (unsigned char)id[i];
	return h % SESSION_BUCKETS;
}

struct session_table *session_table_new(unsigned max, unsigned idle_s)
{
	struct session_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->max = max;
	t->idle_ms = (uint64_t)idle_s * 1000;
	return t;
}

void session_table_set_hook(struct session_table *t, session_hook hook, void *arg)
{
	t->hook = hook;
	t->hook_arg = arg;
}

static void session_free(struct session *s)
{
	for (size_t i = 0; i < s->n_subs; i++)
		free(s->subs[i]);
	free(s->zone_globs);
	free(s);
}

void session_destroy(struct session_table *t, struct session *s)
{
	struct session **pp;

	if (t->hook)
		t->hook(t->hook_arg, s);
	for (pp = &t->buckets[bucket_of(s->id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		t->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		t->tail = s->prev;
	t->count--;
	session_free(s);
}

void session_table_free(struct session_table *t)
{
	if (t == NULL)
		return;
	while (t->head)
		session_destroy(t, t->head);
	free(t);
}

static bool idle(const struct session_table *t, const struct session *s, uint64_t now_ms)
{
	/* an open stream is activity: a client listening for notifications
	 * may go hours without a POST */
	return s->n_streams == 0 && now_ms - s->last_active_ms > t->idle_ms;
}

size_t session_expire(struct session_table *t, uint64_t now_ms)
{
	struct session *s, *next;
	size_t n = 0;

	for (s = t->head; s; s = next) {
		next = s->next;
		if (idle(t, s, now_ms)) {
			session_destroy(t, s);
			n++;
		}
	}
	return n;
}

int session_create(struct session_table *t, const char *version, int64_t token_id,
		   const char *zone_globs, uint64_t now_ms, struct session **out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[SESSION_ID_BYTES];
	struct session *s;
	unsigned b;

	if (t->count >= t->max)
		session_expire(t, now_ms);
	if (t->count >= t->max)
		return ERR_RANGE;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ERR_NOMEM;
	s->zone_globs = strdup(zone_globs ? zone_globs : "");
	if (s->zone_globs == NULL) {
		free(s);
		return ERR_NOMEM;
	}
	if (token_random(rnd, sizeof(rnd)) != 0) {
		session_free(s);
		return ERR_IO;
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		s->id[2 * i] = hex[rnd[i] >> 4];
		s->id[2 * i + 1] = hex[rnd[i] & 15];
	}
	s->id[SESSION_ID_LEN] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	snprintf(s->version, sizeof(s->version), "%s", version);
	s->token_id = token_id;
	s->last_active_ms = now_ms;
	b = bucket_of(s->id);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;
	s->prev = t->tail;
	if (t->tail)
		t->tail->next = s;
	else
		t->head = s;
	t->tail = s;
	t->count++;
	*out = s;
	return 0;
}

struct session *session_find(struct session_table *t, const char *id, int64_t token_id,
			     uint64_t now_ms)
{
	struct session *s;

	if (id == NULL || strlen(id) != SESSION_ID_LEN)
		return NULL;
	for (s = t->buckets[bucket_of(id)]; s; s = s->hnext) {
		/* constant time: the id is a credential of sorts */
		if (CRYPTO_memcmp(s->id, id, SESSION_ID_LEN) != 0)
			continue;
		if (s->token_id != token_id)
			return NULL;
		if (idle(t, s, now_ms)) {
			session_destroy(t, s);
			return NULL;
		}
		return s;
	}
	return NULL;
}

struct session *session_first(struct session_table *t)
{
	return t->head;
}

size_t session_count(const struct session_table *t)
{
	return t->count;
}

bool session_subscribed(const struct session *s, const char *uri)
{
	for (size_t i = 0; i < s->n_subs; i++)
		if (strcmp(s->subs[i], uri) == 0)
			return true;
	return false;
}

int session_subscribe(struct session *s, const char *uri)
{
	char *c;

	if (session_subscribed(s, uri))
		return 0;
	if (s->n_subs >= SESSION_MAX_SUBS)
		return ERR_RANGE;
	c = strdup(uri);
	if (c == NULL)
		return ERR_NOMEM;
	s->subs[s->n_subs++] = c;
	return 0;
}

void session_unsubscribe(struct session *s, const char *uri)
{
	for (size_t i = 0; i < s->n_subs; i++) {
		if (strcmp(s->subs[i], uri) == 0) {
			free(s->subs[i]);
			s->subs[i] = s->subs[--s->n_subs];
			return;
		}
	}
}
