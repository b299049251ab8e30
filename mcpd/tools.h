/*
 * tools.h: the MCP tools mcpd offers, as one static table. The transport
 * (mcp.c) lists them, checks scope, calls the handler, and for writes that
 * committed, waits for dnsd to serve the new serial (live.h) before
 * answering.
 */
#ifndef TOOLS_H
#define TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct cJSON;
struct dnsask_q;

struct tool_ctx {
	struct sqlite3 *db; /* read-write connection, owned by the server */
	const char *actor;  /* token name, recorded in the journal ("no-auth" in --no-auth mode) */
	bool can_write;	    /* token scope is write */
	const char *zone_globs; /* comma-separated globs the token may touch ("*" = all) */
	const char *dnsd_addr;	/* "127.0.0.1:5353": where dns_lookup and get_zone ask */
	bool defer_dns;		/* set by mcp.c: a handler leaves its DNS questions in the result
				   (tool_ask) for the transport to ask on its event loop; clear
				   (direct callers): they are asked before the handler returns */
};

struct tool_result;

/* Completes a result whose DNS questions have their outcomes (dnsask.h):
 * fills structured and text (or an error) as the tool's final result.
 * qs/n are the result's questions; state is what the handler left. */
typedef void (*tool_finish_fn)(struct tool_result *res, struct dnsask_q *qs, size_t n, void *state);

struct tool_result {
	struct cJSON *structured; /* JSON object conforming to outputSchema; owned here */
	char *text;		  /* malloc'd short summary for the text content block */
	bool is_error;		  /* business failure: the model should read text and retry */
	bool wait_live;		  /* a change committed: wait until dnsd serves serial */
	char zone[256];		  /* "example.com." when wait_live */
	uint32_t serial;	  /* the new serial when wait_live */
	/* A read that still waits for DNS answers (only under ctx->defer_dns):
	 * the transport asks asks[] in parallel without blocking its loop, then
	 * calls finish; until then structured and text are not final. */
	struct dnsask_q *asks; /* n_asks questions (malloc'd, owned here) */
	size_t n_asks;
	tool_finish_fn finish;		  /* NULL: the result is final */
	void *finish_state;		  /* for finish (owned here) */
	void (*finish_free)(void *state); /* frees finish_state (NULL: free()) */
};

struct tool_def {
	const char *name;
	const char *title;
	const char *description;
	const char *input_schema;  /* JSON text, root {"type":"object","properties":{...}} */
	const char *output_schema; /* JSON text, root {"type":"object",...} */
	bool read_only, destructive, idempotent, open_world;
	void (*handler)(struct tool_ctx *ctx, const struct cJSON *args, struct tool_result *res);
};

extern const struct tool_def tool_defs[];
extern const size_t tool_defs_count;

/* The tool named name or NULL. */
const struct tool_def *tool_find(const char *name);

/* True when zone ("example.com." lower-case) matches one of the
 * comma-separated globs ("*", "example.com.", "*.example.org."). */
bool tool_zone_allowed(const char *globs, const char *zone);

/* Splits the next entry of a comma-separated glob list into g (cap bytes):
 * trimmed, lower-cased, with the trailing dot added unless it is "*".
 * Returns the rest of the list; *len is the entry's length, 0 for an empty
 * entry, (size_t)-1 for one too long for g (it matches nothing). */
const char *tool_glob_next(const char *p, char *g, size_t cap, size_t *len);

/* Frees what a handler put in res (not res itself), including questions
 * never asked. */
void tool_result_clear(struct tool_result *res);

/* Calls res->finish with the outcomes of res->asks (asked already, or
 * failing with rc when rc < 0: nothing could be asked), then frees the
 * questions and the state: res is final afterwards. No-op without finish. */
void tool_result_finish(struct tool_result *res, int rc);

/* For callers without an event loop: asks what res waits for (blocking,
 * every question in parallel, each within its own timeout) and finishes
 * it. No-op when res waits for nothing. */
void tool_result_complete(struct tool_result *res);

/* Added by h6 (the tool table's owner): a Markdown reference of every tool
 * generated from tool_defs (`mcpd tools --markdown` prints it; it becomes
 * docs/tools.md). malloc'd; NULL on allocation failure. */
char *tool_markdown(void);

#endif
