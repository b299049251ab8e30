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

#include <stdint.h>

struct cJSON;
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
 * The propagation view of zone ("example.com.", canonical) whose database
 * serial is db_serial, for get_zone to include: {"secondaries": [...],
 * "in_sync": bool} as zone_status reports it (each secondary asked with
 * timeout_ms). Returns a new cJSON object (the caller owns it) or NULL.
 */
struct cJSON *tools_secondary_propagation(struct tool_ctx *ctx, const char *zone,
					  uint32_t db_serial, int timeout_ms);

#endif
