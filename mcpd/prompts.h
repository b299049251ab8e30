/*
 * prompts.h: the MCP prompts mcpd offers ("Prompts", 2025-06-18 and
 * 2026-07-28): user-invoked message templates that steer a model through
 * the safe way of using the tools (read, dry-run, confirm, commit). A
 * static table, like the tools; mcp.c serves prompts/list and prompts/get
 * from it in both protocol eras.
 *
 * Argument values come from the user of the client and are pasted into the
 * message text; they are length-capped and must be printable UTF-8 without
 * control characters, so a prompt can never carry a hidden instruction
 * block the user did not see.
 */
#ifndef PROMPTS_H
#define PROMPTS_H

#include <stddef.h>

struct cJSON;

#define PROMPT_ARG_MAX 2000 /* bytes in one argument value */

/* The Prompt objects (name, title, description, arguments), in table
 * order, as a new cJSON array (caller frees). NULL on allocation failure. */
struct cJSON *prompts_list_json(void);

/*
 * Renders prompt name with the arguments object args (may be NULL) into a
 * new GetPromptResult object (description, messages[]) in *out, which the
 * caller frees. 0; ERR_NOTFOUND for an unknown prompt; ERR_INVALID when a
 * required argument is missing or a value is not an acceptable string (err
 * gets a sentence); ERR_NOMEM.
 */
int prompts_get(const char *name, const struct cJSON *args, struct cJSON **out, char *err,
		size_t errcap);

/* Number of prompts in the table. */
size_t prompts_count(void);

#endif
