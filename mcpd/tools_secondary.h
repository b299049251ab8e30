/*
 * tools_secondary.h: MCP tools for secondaries (owned by the transfers
 * helper; the tool table in tools.c lists them):
 *
 *   get_zone_transfer   a zone's 'secondary' and 'allow-transfer' rows in
 *                       zone_settings (or that dnsd's defaults apply)
 *   set_zone_transfer   replaces either list, then NOTIFYs dnsd so it
 *                       re-reads the settings at once
 *   zone_status         the propagation view: the serial in the database,
 *                       the one dnsd serves, and the one each secondary
 *                       answers (an SOA query to each, bounded in time)
 *
 * Values are the text dnsd reads (docs/secondaries.md): secondary
 * "ADDR[:PORT] [key NAME]", allow-transfer "CIDR [key NAME]", or the
 * single value "none" (an explicit empty list: dnsd's defaults do not
 * apply). An empty array removes the rows, so the defaults apply again.
 * Handlers follow tools.h: they fill struct tool_result and never fail
 * otherwise.
 */
#ifndef TOOLS_SECONDARY_H
#define TOOLS_SECONDARY_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct dnsask_q;
struct tool_ctx;
struct tool_result;

#define TOOLS_SECONDARY_MAX	       64  /* values per list */
#define TOOLS_SECONDARY_STATUS_MAX     16  /* secondaries asked by zone_status */
#define TOOLS_SECONDARY_TIMEOUT_MS     700 /* per secondary, default */
#define TOOLS_SECONDARY_TIMEOUT_MAX_MS 3000

/* JSON Schemas (inputSchema / outputSchema) of the three tools. */
extern const char tools_secondary_in_get[];
extern const char tools_secondary_out_get[];
extern const char tools_secondary_in_set[];
extern const char tools_secondary_out_set[];
extern const char tools_secondary_in_status[];
extern const char tools_secondary_out_status[];

void tools_secondary_get(struct tool_ctx *ctx, const struct cJSON *args, struct tool_result *res);
void tools_secondary_set(struct tool_ctx *ctx, const struct cJSON *args, struct tool_result *res);
void tools_secondary_zone_status(struct tool_ctx *ctx, const struct cJSON *args,
				 struct tool_result *res);

/*
 * One SOA question (timeout_ms each) per 'secondary' row of zone
 * ("example.com.", canonical), in row order, into qs (at most cap, and at
 * most TOOLS_SECONDARY_STATUS_MAX). Returns how many, or ERR_SYNTAX when
 * zone is not a name. The questions are not asked here (dnsask.h).
 */
int tools_secondary_peer_asks(struct tool_ctx *ctx, const char *zone, int timeout_ms,
			      struct dnsask_q *qs, size_t cap);

/*
 * The propagation view from the n questions of tools_secondary_peer_asks
 * once asked: {"secondaries": [...], "in_sync": bool, "note"?} for a zone
 * whose database serial is db_serial. A new cJSON object (the caller owns
 * it) or NULL on allocation failure.
 */
struct cJSON *tools_secondary_propagation_answers(const struct dnsask_q *qs, size_t n,
						  uint32_t db_serial);

/*
 * The propagation view of zone ("example.com.", canonical) whose database
 * serial is db_serial, for get_zone to include: {"secondaries": [...],
 * "in_sync": bool} as zone_status reports it (each secondary asked with
 * timeout_ms, all at once, blocking: for callers without an event loop).
 * Returns a new cJSON object (the caller owns it) or NULL.
 */
struct cJSON *tools_secondary_propagation(struct tool_ctx *ctx, const char *zone,
					  uint32_t db_serial, int timeout_ms);

#endif
