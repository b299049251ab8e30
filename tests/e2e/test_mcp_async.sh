#!/usr/bin/env bash
# test_mcp_async.sh: the tools that ask DNS servers (zone_status, get_zone,
# dns_lookup) must not block mcpd's event loop. A zone's 'secondary' rows
# point at 3 loopback UDP ports that never answer (python3 binds them and
# reads nothing). While zone_status (timeout_ms 3000) is in flight - over a
# 2025 session with a JSON answer and over 2026-07-28 stateless with an
# SSE-streamed answer - 10 other requests (tools/list, list_zones,
# dns_lookup against the real dnsd) each complete well under 1 s; the
# zone_status calls end after ~3 s (one deadline, all secondaries asked in
# parallel: not 9 s) with state no_answer for each. get_zone pays its
# 300 ms once, not once per secondary. With dnsd stopped, dns_lookup takes
# its 1.5 s while others are served, and says "no answer in time". A client
# that hangs up mid-call and a SIGTERM with a call in flight are handled
# at once. Time bounds are loose on purpose (CI runs this beside other
# tests, under ASan too): a blocked loop costs whole seconds here.
#
# Env (from ctest): SRCDIR, BUILDDIR, DNSD, MCPD. Needs curl, sqlite3, python3.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_async
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 100

# three UDP ports that never answer (bound, never read)
start_daemon SILENT "$T/silent.log" python3 -c '
import socket, sys, time
socks = []
for _ in range(3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(str(s.getsockname()[1]) for s in socks) + "\n")
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(60)
' "$T/silent.ports"
wait_for 10 "the silent UDP ports" test -s "$T/silent.ports"
read -r P1 P2 P3 <"$T/silent.ports"
for p in $P1 $P2 $P3; do
	sql "$DB" "INSERT INTO zone_settings(zone_id, key, value)
		SELECT id, 'secondary', '127.0.0.1:$p' FROM zones WHERE name = 'example.com.'"
done
ok "zone example.com. lists 3 silent secondaries ($P1 $P2 $P3)"

start_dnsd D --db "$DB" --listen 127.0.0.1:0
pf=$T/mcpd.port
start_daemon M "$T/mcpd.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$pf" \
	--dnsd "127.0.0.1:$D_PORT" --no-auth --rate-limit 0
for ((i = 0; i < 100; i++)); do
	[ -s "$pf" ] && break
	alive "$M_PID" || fail "mcpd exited during start-up"
	sleep 0.1
done
[ -s "$pf" ] || fail "mcpd did not write its port file within 10 s"
URL="http://127.0.0.1:$(cat "$pf")/stream"

# The driver: prints TAP lines ("ok ..." / "not ok ..."), exits 1 on failure.
drive() { # PHASE
	python3 - "$URL" "$1" <<'EOF'
import json, sys, threading, time, urllib.request

URL, PHASE = sys.argv[1], sys.argv[2]
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "async-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}
failed = []

def check(cond, desc):
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    if not cond:
        failed.append(desc)

def post(body, headers, sse=False, timeout=15):
    h = {"Content-Type": "application/json",
         "Accept": "text/event-stream" if sse else "application/json, text/event-stream"}
    h.update(headers)
    req = urllib.request.Request(URL, data=json.dumps(body).encode(), headers=h, method="POST")
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read().decode()
        ctype = r.headers.get("Content-Type", "")
        sid = r.headers.get("Mcp-Session-Id")
    dt = time.monotonic() - t0
    if ctype.startswith("text/event-stream"):
        data = [l[5:].strip() for l in raw.splitlines() if l.startswith("data:")]
        raw = data[-1] if data else "{}"
    return json.loads(raw), dt, sid, ctype

def session():
    j, _, sid, _ = post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "async-test", "version": "1"}}},
                        {"MCP-Protocol-Version": "2025-06-18"})
    hdr = {"MCP-Protocol-Version": "2025-06-18", "Mcp-Session-Id": sid}
    req = urllib.request.Request(URL, data=json.dumps(
        {"jsonrpc": "2.0", "method": "notifications/initialized"}).encode(),
        headers=dict(hdr, **{"Content-Type": "application/json",
                             "Accept": "application/json, text/event-stream"}), method="POST")
    urllib.request.urlopen(req, timeout=5).read()
    return hdr

SESSION = session()
NEXT_ID = [1]

def legacy(method, params):
    NEXT_ID[0] += 1
    return post({"jsonrpc": "2.0", "id": NEXT_ID[0], "method": method, "params": params},
                SESSION)

def modern(method, params, name=None, sse=False):
    NEXT_ID[0] += 1
    p = dict(params, _meta=META)
    h = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
    if name:
        h["Mcp-Name"] = name
    return post({"jsonrpc": "2.0", "id": NEXT_ID[0], "method": method, "params": p}, h, sse=sse)

def tool(era, name, args, sse=False):
    params = {"name": name, "arguments": args}
    if era == "legacy":
        return legacy("tools/call", params)
    return modern("tools/call", params, name=name, sse=sse)

def background(fn):
    box = {}
    def run():
        try:
            box["r"] = fn()
        except Exception as e:  # reported by the caller
            box["e"] = e
    th = threading.Thread(target=run)
    th.start()
    return th, box

def quick_requests(with_lookup):
    """10 requests, each must finish well under 1 s."""
    calls = [
        ("tools/list (2025 session)", lambda: legacy("tools/list", {})),
        ("list_zones (2025 session)", lambda: tool("legacy", "list_zones", {})),
        ("tools/list (2026-07-28)", lambda: modern("tools/list", {})),
        ("list_zones (2026-07-28)", lambda: tool("modern", "list_zones", {})),
    ]
    if with_lookup:
        calls += [
            ("dns_lookup against dnsd (2025 session)",
             lambda: tool("legacy", "dns_lookup", {"name": "ns1.example.com", "type": "A"})),
            ("dns_lookup against dnsd (2026-07-28)",
             lambda: tool("modern", "dns_lookup", {"name": "ns1.example.com", "type": "A"})),
        ]
    worst = 0.0
    for i in range(10):
        desc, fn = calls[i % len(calls)]
        j, dt, _, _ = fn()
        worst = max(worst, dt)
        good = "result" in j and not j["result"].get("isError", False)
        if "dns_lookup" in desc:
            good = good and j["result"]["structuredContent"]["rcode"] == "NOERROR" and \
                any("192.0.2.53" in a for a in j["result"]["structuredContent"]["answer"])
        check(good and dt < 1.5, "%s answered in %.0f ms while the slow call is in flight"
              % (desc, dt * 1000))
    return worst

if PHASE == "secondaries":
    a_th, a = background(lambda: tool("legacy", "zone_status",
                                      {"zone": "example.com", "timeout_ms": 3000}))
    b_th, b = background(lambda: tool("modern", "zone_status",
                                      {"zone": "example.com", "timeout_ms": 3000}, sse=True))
    time.sleep(0.3)
    t0 = time.monotonic()
    quick_requests(True)
    check(a_th.is_alive() and b_th.is_alive(),
          "the 10 requests were served while both zone_status calls were still waiting "
          "(%.0f ms)" % ((time.monotonic() - t0) * 1000))
    a_th.join(20)
    b_th.join(20)
    for label, box in (("2025 session, JSON", a), ("2026-07-28, SSE-streamed POST", b)):
        if "e" in box:
            check(False, "zone_status (%s) failed: %r" % (label, box["e"]))
            continue
        j, dt, _, ctype = box["r"]
        sc = j.get("result", {}).get("structuredContent", {})
        states = [p.get("state") for p in sc.get("secondaries", [])]
        check(2.7 < dt < 4.5, "zone_status (%s) took %.2f s: one 3 s deadline for all, "
              "not 9 s" % (label, dt))
        check(states == ["no_answer"] * 3, "zone_status (%s): every secondary no_answer %r"
              % (label, states))
        check(sc.get("served") == "current" and sc.get("in_sync") is False,
              "zone_status (%s): dnsd current, not in sync" % label)
        if "SSE" in label:
            check(ctype.startswith("text/event-stream"), "the late answer came as SSE")
            check(j["result"].get("resultType") == "complete",
                  "the 2026-07-28 result is decorated (resultType complete)")
    # get_zone: dnsd and the three secondaries at 300 ms, together
    j, dt, _, _ = tool("modern", "get_zone", {"zone": "example.com"})
    sc = j["result"]["structuredContent"]
    st = [p["state"] for p in sc["propagation"]["secondaries"]]
    check(0.25 < dt < 1.1, "get_zone took %.0f ms: one 300 ms wait, not 4 x 300 ms"
          % (dt * 1000))
    check(sc["served"] == "current" and sc["served_serial"] == 100 and st == ["no_answer"] * 3,
          "get_zone: served current (100), secondaries no_answer")
    # a client that hangs up: mcpd stays responsive and frees the call
    NEXT_ID[0] += 1
    body = {"jsonrpc": "2.0", "id": NEXT_ID[0], "method": "tools/call",
            "params": {"name": "zone_status", "arguments": {"zone": "example.com",
                                                             "timeout_ms": 3000}}}
    h = dict(SESSION, **{"Content-Type": "application/json",
                         "Accept": "application/json, text/event-stream"})
    try:
        urllib.request.urlopen(urllib.request.Request(URL, data=json.dumps(body).encode(),
                                                      headers=h, method="POST"), timeout=0.3)
        check(False, "zone_status answered within 0.3 s?")
    except Exception:
        pass
    j, dt, _, _ = legacy("tools/list", {})
    check("result" in j and dt < 1.5, "after a client hung up mid-call, tools/list in %.0f ms"
          % (dt * 1000))
elif PHASE == "dnsd-down":
    a_th, a = background(lambda: tool("modern", "dns_lookup",
                                      {"name": "ns1.example.com", "type": "A"}))
    time.sleep(0.2)
    quick_requests(False)
    check(a_th.is_alive(), "the 10 requests were served while dns_lookup still waited")
    a_th.join(10)
    j, dt, _, _ = a["r"]
    r = j["result"]
    check(1.3 < dt < 2.5 and r["isError"] and "no answer in time" in r["content"][0]["text"],
          "dns_lookup with dnsd stopped: error after %.2f s: %s"
          % (dt, r["content"][0]["text"]))
elif PHASE == "inflight":
    # started, then mcpd gets SIGTERM from the shell: nothing to check here
    try:
        tool("legacy", "zone_status", {"zone": "example.com", "timeout_ms": 3000})
    except Exception:
        pass
    sys.exit(0)
sys.exit(1 if failed else 0)
EOF
}

run_phase() { # PHASE
	local out st
	out=$(drive "$1" 2>&1)
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		*) echo "# $line" ;;
		esac
	done <<<"$out"
	[ "$st" = 0 ] || fail "phase $1 failed"
}

run_phase secondaries

stop_daemon "$D_PID" dnsd
run_phase dnsd-down

# SIGTERM while a read waits for DNS answers: it is cancelled, mcpd stops
# at once (a write's wait would be drained; a read has nothing to keep)
drive inflight >/dev/null 2>&1 &
drv=$!
sleep 0.5
t0=$(date +%s%N)
stop_daemon "$M_PID" mcpd
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 2500 ] || fail "mcpd took $ms ms to stop with a zone_status in flight"
ok "mcpd stopped in $ms ms with a zone_status in flight"
wait "$drv" 2>/dev/null
grep -q "AddressSanitizer\|runtime error" "$T/mcpd.log" && fail "sanitizer report in mcpd.log"
lib_done
