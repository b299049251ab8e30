/*
 * session.c: the session table (session.h). A fixed array of hash buckets
 * keyed by the id's first bytes (the ids are random, so that is a fair
 * hash) plus a doubly linked list for iteration and expiry.
 *
 * The per-token cap needs, per initialize, how many sessions the caller's
 * token holds and, at the cap, which of them to recycle. A second small
 * hash keyed by token_id holds one session_owner per token that has
 * sessions (created with its first, freed with its last), with the count
 * and the list of that token's sessions. Choosing the one to recycle walks
 * that list, at most per_token entries; last_active_ms is written by the
 * callers on every request, so keeping the list in LRU order would need a
 * hook on each of them, and a walk bounded by the cap is cheap enough.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "session.h"
#include "token.h"

#define SESSION_BUCKETS	      1024
#define SESSION_OWNER_BUCKETS 256

/* The sessions of one token_id. */
struct session_owner {
	int64_t token_id;
	size_t count;		     /* sessions in the list */
	struct session *head, *tail; /* via tnext/tprev, creation order */
	struct session_owner *hnext; /* hash chain */
};

struct session_table {
	struct session *buckets[SESSION_BUCKETS];
	struct session_owner *owners[SESSION_OWNER_BUCKETS];
	struct session *head, *tail;
	size_t count;
	unsigned max;
	unsigned per_token; /* sessions per token_id, 0 = no cap */
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

static unsigned owner_bucket(int64_t token_id)
{
	/* token ids are small sequential integers (and OAuth grants their
	 * negatives): a multiplicative mix spreads neighbours over buckets */
	uint64_t h = (uint64_t)token_id * 0x9e3779b97f4a7c15ULL;

	return (unsigned)(h >> 32) % SESSION_OWNER_BUCKETS;
}

static struct session_owner *owner_find(const struct session_table *t, int64_t token_id)
{
	struct session_owner *o;

	for (o = t->owners[owner_bucket(token_id)]; o; o = o->hnext)
		if (o->token_id == token_id)
			return o;
	return NULL;
}

/* Takes s out of its owner's list; frees the owner with its last session. */
static void owner_unlink(struct session_table *t, struct session *s)
{
	struct session_owner *o = s->owner, **pp;

	if (o == NULL)
		return;
	if (s->tprev)
		s->tprev->tnext = s->tnext;
	else
		o->head = s->tnext;
	if (s->tnext)
		s->tnext->tprev = s->tprev;
	else
		o->tail = s->tprev;
	s->owner = NULL;
	s->tnext = s->tprev = NULL;
	if (--o->count > 0)
		return;
	for (pp = &t->owners[owner_bucket(o->token_id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	}
	free(o);
}

/* The session of o to recycle: the least recently active one without an
 * open stream (the first created among equals), or NULL when all have
 * one. A stream is a client listening right now; ending its session
 * would cut it off mid-conversation, so those are never taken. */
static struct session *owner_lru(const struct session_owner *o)
{
	struct session *s, *best = NULL;

	for (s = o->head; s; s = s->tnext)
		if (s->n_streams == 0 && (best == NULL || s->last_active_ms < best->last_active_ms))
			best = s;
	return best;
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

void session_table_set_per_token(struct session_table *t, unsigned per_token)
{
	t->per_token = per_token;
}

size_t session_token_count(const struct session_table *t, int64_t token_id)
{
	const struct session_owner *o = owner_find(t, token_id);

	return o ? o->count : 0;
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
	owner_unlink(t, s);
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

int session_create_ended(struct session_table *t, const char *version, int64_t token_id,
			 const char *zone_globs, uint64_t now_ms, struct session **out, char *ended)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[SESSION_ID_BYTES];
	struct session *s = NULL, *victim = NULL;
	struct session_owner *o, *spare = NULL;
	unsigned b;

	if (ended)
		ended[0] = '\0';
	/* idle sessions first: they are dead already, and may include some of
	 * this token's, which is then below its cap again */
	if (t->count >= t->max)
		session_expire(t, now_ms);
	o = owner_find(t, token_id);
	if (t->per_token && o && o->count >= t->per_token) {
		victim = owner_lru(o);
		if (victim == NULL)
			return ERR_CONFLICT;
	}
	/* with a victim the table has room once it is gone */
	if (victim == NULL && t->count >= t->max)
		return ERR_RANGE;

	/* everything that can fail comes before the victim is ended */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ERR_NOMEM;
	s->zone_globs = strdup(zone_globs ? zone_globs : "");
	if (s->zone_globs == NULL)
		goto nomem;
	/* ending the victim frees o when it was the token's only session
	 * (a cap of 1): have a record ready for that case too */
	if (o == NULL || (victim && o->count == 1)) {
		spare = calloc(1, sizeof(*spare));
		if (spare == NULL)
			goto nomem;
	}
	if (token_random(rnd, sizeof(rnd)) != 0) {
		free(spare);
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

	if (victim) {
		if (ended)
			memcpy(ended, victim->id, SESSION_ID_LEN + 1);
		session_destroy(t, victim);
		o = owner_find(t, token_id);
	}
	if (o == NULL) {
		o = spare;
		spare = NULL;
		o->token_id = token_id;
		b = owner_bucket(token_id);
		o->hnext = t->owners[b];
		t->owners[b] = o;
	}
	free(spare);
	s->owner = o;
	s->tprev = o->tail;
	if (o->tail)
		o->tail->tnext = s;
	else
		o->head = s;
	o->tail = s;
	o->count++;

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
nomem:
	free(spare);
	session_free(s);
	return ERR_NOMEM;
}

int session_create(struct session_table *t, const char *version, int64_t token_id,
		   const char *zone_globs, uint64_t now_ms, struct session **out)
{
	return session_create_ended(t, version, token_id, zone_globs, now_ms, out, NULL);
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
