/*
 * mcp.h: JSON-RPC 2.0 and the MCP methods of mcpd, with no sockets: a POST
 * body (plus the Mcp-Session-Id and MCP-Protocol-Version headers and the
 * caller's identity) goes in, an HTTP status and a JSON body come out.
 * http.c adds the transport; tests/unit/test_mcp.c drives it directly.
 *
 * Two eras on one endpoint (2026-07-28 "Versioning", Backward
 * Compatibility; a dual-era server picks by how the client opens):
 *
 * - Legacy, 2025-03-26, 2025-06-18 and 2025-11-25: an initialize handshake
 *   mints a session (the newest legacy revision is offered when the client
 *   asks for one we do not know). Batches are
 * accepted only in a session that negotiated 2025-03-26: that revision
 * says implementations "MUST support receiving JSON-RPC batches" (Basic,
 * "JSON-RPC Messages"), and 2025-06-18 removed batching (changelog item 1),
 * so later sessions get -32600.
 *
 *   Methods: initialize, ping, tools/list, tools/call, resources/list,
 *   resources/templates/list, resources/read, resources/subscribe,
 *   resources/unsubscribe, prompts/list, prompts/get;
 *   notifications/initialized and notifications/cancelled. Server
 *   notifications (resources/list_changed, resources/updated) go out through
 *   the notify hook after a committed change.
 * - Modern, 2026-07-28: stateless. Every request carries
 *   params._meta["io.modelcontextprotocol/protocolVersion"] (plus
 *   clientCapabilities, and clientInfo as a SHOULD) and the HTTP headers
 *   MCP-Protocol-Version, Mcp-Method and, for tools/call, resources/read and
 *   prompts/get, Mcp-Name, all checked against the body ("Streamable HTTP",
 *   Server Validation): a missing or different header is 400 + -32020, an
 *   unsupported version 400 + -32022 with data.supported, an unknown (or
 *   removed: initialize, ping, subscribe...) method 404 + -32601. Methods:
 *   server/discover, tools/list, tools/call, resources/list,
 *   resources/templates/list, resources/read, prompts/list, prompts/get.
 *   Results carry resultType "complete" and _meta serverInfo; list results
 *   and resources/read carry ttlMs and cacheScope (SEP-2549). No session is
 *   ever minted. Codes -32020..-32022 are never sent to a legacy request.
 *
 * A request is modern when its _meta names a protocol version, or when it
 * names no session and its MCP-Protocol-Version header is a modern version
 * (or its method is server/discover). Everything else is legacy, so a
 * client that starts with initialize keeps the 2025 behaviour.
 */
#ifndef MCP_H
#define MCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsask.h"
#include "live.h"
#include "session.h"

struct sqlite3;
struct event_base;
struct tool_def;
struct auth_identity;
struct cJSON;

#define MCP_SERVER_NAME		  "mcpd"
#define MCP_SERVER_TITLE	  "dnsmcp authoritative DNS"
#define MCP_SERVER_VERSION	  "0.1.0"
#define MCP_VERSION_LATEST	  "2025-11-25" /* newest legacy revision */
#define MCP_VERSION_MODERN	  "2026-07-28" /* newest (stateless) revision */
#define MCP_META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CLIENT_INFO	  "io.modelcontextprotocol/clientInfo"
#define MCP_META_CLIENT_CAPS	  "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_SERVER_INFO	  "io.modelcontextprotocol/serverInfo"
/* SEP-2549 caching hints: the tool table and the resource template only
 * change with the binary, so anyone may cache them for five minutes; the
 * zone list and zone text depend on the caller's token and change with
 * every write, so they are private and immediately stale. */
#define MCP_TTL_STATIC_MS 300000
#define MCP_TTL_ZONES_MS  0
/* Spec "Streamable HTTP", Protocol Version Header: without the header and
 * no other way to know, assume 2025-03-26. */
#define MCP_VERSION_DEFAULT "2025-03-26"
#define MCP_MAX_DEPTH	    64		      /* JSON nesting we accept */
#define MCP_MAX_BATCH	    64		      /* messages in one 2025-03-26 batch */
#define MCP_TOOLS_PAGE	    50		      /* tools per tools/list page */
#define MCP_RESOURCES_PAGE  100		      /* zones per resources/list page */
#define MCP_LIVE_WAIT_MS    2000	      /* how long a write waits for dnsd */
#define MCP_MAX_RESOURCE    (8 * 1024 * 1024) /* resources/read text cap */
#define MCP_ZONE_URI_PREFIX "dns://zone/"

/* JSON-RPC 2.0 §5.1 codes, plus implementation-defined server errors
 * (-32000..-32099) as the reference SDKs use them. MCP 2026-07-28 reserves
 * -32020..-32099, so a legacy server stays below. */
#define RPC_PARSE_ERROR	       -32700
#define RPC_INVALID_REQUEST    -32600
#define RPC_METHOD_NOT_FOUND   -32601
#define RPC_INVALID_PARAMS     -32602
#define RPC_INTERNAL_ERROR     -32603
#define RPC_SERVER_ERROR       -32000 /* bad request at the transport level, forbidden */
#define RPC_SESSION_NOT_FOUND  -32001
#define RPC_RESOURCE_NOT_FOUND -32002 /* MCP 2025-xx "Resources", Error Handling */
/* 2026-07-28 only ("Streamable HTTP", Server Validation; "Versioning") */
#define RPC_HEADER_MISMATCH	-32020
#define RPC_MISSING_CLIENT_CAP	-32021
#define RPC_UNSUPPORTED_VERSION -32022

typedef int (*mcp_live_fn)(struct event_base *base, const char *dnsd_addr, const char *zone,
			   uint32_t serial, int timeout_ms, live_done_cb cb, void *arg);

/* Starts the DNS questions a read tool left in its result (dnsask_start's
 * contract: cb once, from the loop, unless cancelled with the paired
 * cancel function). */
typedef int (*mcp_ask_fn)(struct event_base *base, struct dnsask_q *qs, size_t n, dnsask_done_cb cb,
			  void *arg, struct dnsask **out);

/* Delivers one server notification (JSON text) to session s, on one of its
 * GET streams. Returns 0 when sent, negative when s has no stream. */
typedef int (*mcp_notify_fn)(void *arg, struct session *s, const char *json);

struct mcp_options {
	struct sqlite3 *db;	      /* read-write connection (borrowed) */
	struct event_base *base;      /* for live_confirm (borrowed; may be NULL in tests) */
	const char *dnsd_addr;	      /* "127.0.0.1:5353" (borrowed) */
	const struct tool_def *tools; /* the tool table (borrowed) */
	size_t n_tools;
	struct session_table *sessions;	      /* borrowed */
	mcp_live_fn live;		      /* NULL: live_confirm */
	mcp_ask_fn ask;			      /* NULL: dnsask_start */
	void (*ask_cancel)(struct dnsask *a); /* NULL: dnsask_cancel */
	mcp_notify_fn notify;		      /* NULL: notifications dropped */
	void *notify_arg;
	uint64_t (*now_ms)(void); /* NULL: session_now_ms */
	size_t tools_page;	  /* 0: MCP_TOOLS_PAGE */
	size_t resources_page;	  /* 0: MCP_RESOURCES_PAGE */
	int live_wait_ms;	  /* 0: MCP_LIVE_WAIT_MS */
};

struct mcp_server;

/*
 * Checks and caches the tool table: every inputSchema and outputSchema must
 * parse as a JSON object with "type":"object" at the root and no top-level
 * anyOf/oneOf/allOf/not (clients drop every tool of a server otherwise),
 * every array schema inside must have "items", names must be unique
 * [A-Za-z0-9_.-]{1,128}. NULL with a sentence in err when one is not.
 */
struct mcp_server *mcp_server_new(const struct mcp_options *o, char *err, size_t errcap);

/* Frees the server. Writes still waiting for dnsd are dropped, reads
 * waiting for DNS answers cancelled: their reply callbacks are not called.
 * NULL is fine. */
void mcp_server_free(struct mcp_server *m);

struct mcp_request {
	const char *body; /* the POST body (need not be NUL-terminated) */
	size_t len;
	const char *session_id;		 /* Mcp-Session-Id header, or NULL */
	const char *protocol_version;	 /* MCP-Protocol-Version header, or NULL */
	const struct auth_identity *who; /* the authenticated caller (borrowed) */
};

/* The request headers only the 2026-07-28 era reads (kept out of struct
 * mcp_request so its positional initializers stay valid). */
struct mcp_headers {
	const char *mcp_method; /* Mcp-Method, or NULL */
	const char *mcp_name;	/* Mcp-Name, or NULL */
	bool duplicated;	/* MCP-Protocol-Version, Mcp-Method or Mcp-Name sent twice */
};

struct mcp_reply {
	int status;			     /* HTTP status: 200, 202, 400, 403, 404, 500, 503 */
	char *body;			     /* JSON text, NULL for 202; the callback may take it
						(set to NULL) or leave it to be freed */
	char session_id[SESSION_ID_LEN + 1]; /* non-empty on an InitializeResult */
	const char *www_authenticate;	     /* WWW-Authenticate value for a 403, or NULL */
	const char *required_scope;	     /* on a 403: "write" or "zone" (what was missing) */
};

/* Receives the reply of one POST. Called once per mcp_handle, unless the
 * call was detached. reply is valid during the call only. */
typedef void (*mcp_reply_cb)(void *arg, struct mcp_reply *reply);

struct mcp_call;

/*
 * Handles one POST body. When the answer is ready at once, cb is called
 * before mcp_handle returns and the result is NULL. Otherwise (a write
 * waiting for dnsd to serve its serial, or a read tool - dns_lookup,
 * get_zone, zone_status - waiting for DNS answers, asked on the event base
 * so other clients are served meanwhile) the result is a handle and cb
 * comes later from the event loop; call mcp_call_detach(handle) if the
 * HTTP request goes away first, and never after cb ran. Without an event
 * base (o.base NULL and no o.ask) reads ask their questions before
 * answering, blocking.
 */
struct mcp_call *mcp_handle(struct mcp_server *m, const struct mcp_request *req, mcp_reply_cb cb,
			    void *arg);

/* mcp_handle with the 2026-07-28 headers (h may be NULL: none sent). */
struct mcp_call *mcp_handle_headers(struct mcp_server *m, const struct mcp_request *req,
				    const struct mcp_headers *h, mcp_reply_cb cb, void *arg);

/* The client is gone: cb will not be called; a committed write's wait
 * finishes unseen, DNS questions of reads are stopped at once. */
void mcp_call_detach(struct mcp_call *c);

/* Writes waiting for dnsd right now (a clean stop lets them finish). */
size_t mcp_waiting(const struct mcp_server *m);

/* Everything waiting: writes waiting for dnsd plus reads waiting for DNS
 * answers (tests run the loop until it is 0). */
size_t mcp_pending(const struct mcp_server *m);

/* True when v is a legacy (initialize-era) protocol version we speak. */
bool mcp_version_supported(const char *v);

/* True when v is a modern (stateless, 2026-07-28 and later) version we speak. */
bool mcp_version_modern(const char *v);

/* A JSON-RPC error object with id null, as text (malloc'd; NULL on
 * allocation failure), for transport-level errors in http.c. */
char *mcp_error_json(int code, const char *message);

/* The resource URI of a zone ("example.com." -> "dns://zone/example.com"),
 * into buf. 0 or ERR_SPACE. */
int mcp_zone_uri(const char *zone, char *buf, size_t cap);

/* Tells sessions that zone (NULL: unknown which) changed: resources/updated
 * to sessions subscribed to it, resources/list_changed to every session
 * with a stream when the set of zones changed. */
void mcp_zone_changed(struct mcp_server *m, const char *zone);

#endif
