#!/usr/bin/env bash
# test_tools_doc.sh: docs/tools.md is generated from mcpd's tool table
# (`mcpd tools --markdown`) and must never drift from it. Fails with the
# diff and the command that regenerates it. Also checks that what the
# reference documents is what a client gets: every tool that tools/list
# serves has a section, with its annotations, and nothing else does; and
# that docs/mcp.md names only tools that exist.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init tools_doc
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need diff diffutils
DOC=$SRCDIR/docs/tools.md
[ -f "$DOC" ] || fail "docs/tools.md is missing: run '$MCPD tools --markdown > docs/tools.md'"

"$MCPD" tools --markdown >"$T/tools.md" 2>"$T/gen.log" || fail "mcpd tools --markdown failed: $(cat "$T/gen.log")"
[ -s "$T/tools.md" ] || fail "mcpd tools --markdown printed nothing"
ok "mcpd tools --markdown runs"
if ! diff -u "$DOC" "$T/tools.md" >"$T/doc.diff"; then
	head -n 80 "$T/doc.diff" | sed 's/^/#   /' >&2
	fail "docs/tools.md is stale: regenerate it with
    cmake --build build --target mcpd && build/mcpd/mcpd tools --markdown > docs/tools.md"
fi
ok "docs/tools.md is what mcpd tools --markdown prints"

# The same tools, with the same annotations, as a client sees over MCP.
DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
rm -f "$T/M.port"
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--no-auth --dnsd 127.0.0.1:9
wait_for 10 "mcpd port file" test -s "$T/M.port"
URL=http://127.0.0.1:$(cat "$T/M.port")/stream
H=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
curl -sS -m 10 -D "$T/init.h" -o "$T/init.json" "${H[@]}" "$URL" -d \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"doc-test","version":"1"}}}' ||
	fail "initialize failed"
SID=$(tr -d '\r' <"$T/init.h" | sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii][Dd]: //p')
[ -n "$SID" ] || fail "no Mcp-Session-Id: $(cat "$T/init.h")"
H+=(-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18')
curl -sS -m 10 -o /dev/null "${H[@]}" "$URL" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' ||
	fail "notifications/initialized failed"
: >"$T/tools.jsonl"
cursor=""
for ((page = 0; page < 20; page++)); do
	params='{}'
	[ -n "$cursor" ] && params="{\"cursor\":\"$cursor\"}"
	curl -sS -m 10 -o "$T/list.json" "${H[@]}" "$URL" \
		-d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":$params}" || fail "tools/list failed"
	cursor=$(python3 - "$T/list.json" "$T/tools.jsonl" <<'EOF'
import json, sys
body = open(sys.argv[1]).read()
if body.startswith("event:") or body.startswith("data:"):  # an SSE answer
    body = "".join(l[5:] for l in body.splitlines() if l.startswith("data:"))
j = json.loads(body)["result"]
with open(sys.argv[2], "a") as f:
    for t in j["tools"]:
        f.write(json.dumps(t) + "\n")
print(j.get("nextCursor") or "")
EOF
	) || fail "tools/list answer: $(head -c 500 "$T/list.json")"
	[ -z "$cursor" ] && break
done
compare_doc() {
	python3 - "$T/tools.jsonl" "$DOC" <<'EOF'
import json, re, sys
tools = [json.loads(l) for l in open(sys.argv[1])]
doc = open(sys.argv[2]).read()
sections = dict(re.findall(r"^## `([a-z_]+)`:[^\n]*\n(.*?)(?=^## |\Z)", doc, re.S | re.M))
bad = []
names = [t["name"] for t in tools]
if sorted(names) != sorted(sections):
    bad.append(f"tools/list {sorted(names)} vs docs {sorted(sections)}")
for t in tools:
    s = sections.get(t["name"], "")
    a = t["annotations"]
    want = ("Annotations: readOnlyHint %s, destructiveHint %s, idempotentHint %s, openWorldHint %s."
            % tuple(str(a[k]).lower() for k in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")))
    if want not in s:
        bad.append(f"{t['name']}: annotations differ from tools/list ({want})")
    for p in t["inputSchema"]["properties"]:
        if f"| `{p}` |" not in s:
            bad.append(f"{t['name']}: argument {p} undocumented")
print(len(tools), "tools;", "; ".join(bad) or "all documented")
sys.exit(1 if bad or not tools else 0)
EOF
}
check "every tool served by tools/list is documented with its annotations and arguments" compare_doc

# docs/mcp.md (the guide) may only name tools that exist
guide_tools() {
	python3 - "$T/tools.jsonl" "$SRCDIR/docs/mcp.md" <<'EOF'
import json, re, sys
names = {json.loads(l)["name"] for l in open(sys.argv[1])}
text = open(sys.argv[2]).read()
cited = set(re.findall(r"`([a-z]+_[a-z_]+)`", text))
# arguments and fields are also snake_case: only flag what looks like a tool
verbs = ("list_", "get_", "create_", "delete_", "add_", "set_", "apply_", "import_", "export_",
         "check_", "revert_", "dns_", "email_")
unknown = sorted(c for c in cited if c.startswith(verbs) and c not in names)
missing = sorted(names - cited)
print("unknown:", unknown, "not mentioned:", missing)
sys.exit(1 if unknown or missing else 0)
EOF
}
[ -f "$SRCDIR/docs/mcp.md" ] || fail "docs/mcp.md is missing"
check "docs/mcp.md mentions every tool and no tool that does not exist" guide_tools

stop_daemon "$M_PID" mcpd
lib_done
