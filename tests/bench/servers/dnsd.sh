#!/bin/bash
# dnsd adapter for run-anchors. Env: DATA, WORK, PORT; DNSD_BUILD (default: the
# repository's build/ tree; any tree with dnsd/dnsd and mcpd/mcpd).
#
# Data goes in the way production does it: `mcpd init` + `mcpd import` of each
# zone file (one journal change per zone, rdata canonicalized by the codec).
# dnsd then loads every zone from that SQLite database.
#
# Changes go through the production path too (option (a) of the benchmark
# brief): change-prep starts mcpd as a background daemon (once; loopback,
# --no-auth, --rate-limit 0, NOTIFY target = this dnsd) and opens one MCP
# session; change-apply is one JSON-RPC `tools/call set_rrset` over HTTP with
# curl. mcpd commits (records + SOA serial + journal in one transaction),
# NOTIFYs dnsd and answers once dnsd serves the new serial ("live": true), so
# the timed step covers the whole change -> live path. `stop` ends mcpd
# (run-anchors calls it after stopping the server).
#
# Settings: 1 worker; --error-rate 1000000 switches the UDP error-reply rate
# limit off in effect (default 100/s per worker), as NSD's RRL is switched off:
# 5% of the query mix is REFUSED (zones nobody serves) and rate-limited
# replies would be lost queries that stall dnsperf slots for 5 s each.
set -euo pipefail
act=$1; shift
HERE=$(cd "$(dirname "$0")/../../.." && pwd)
B=${DNSD_BUILD:-$HERE/build}
DB="$WORK/dnsd.sqlite3"
MCPD="$B/mcpd/mcpd"
PV=2025-06-18

# rpc JSON: POST one JSON-RPC message to mcpd in the saved session; body on stdout.
rpc() {
	curl -sS --max-time 30 -X POST "http://127.0.0.1:$(cat "$WORK/mcpd.port")/stream" \
		-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-H "MCP-Protocol-Version: $PV" -H "Mcp-Session-Id: $(cat "$WORK/mcpd.sid")" \
		--data-binary "$1"
}

mcpd_running() {
	[ -s "$WORK/mcpd.pid" ] && kill -0 "$(cat "$WORK/mcpd.pid")" 2>/dev/null
}

mcpd_start() {
	local port hdr
	rm -f "$WORK/mcpd.port" "$WORK/mcpd.sid"
	setsid "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$WORK/mcpd.port" \
		--dnsd 127.0.0.1:"$PORT" --no-auth --rate-limit 0 --log-level warn \
		</dev/null >>"$WORK/mcpd.log" 2>&1 &
	echo $! >"$WORK/mcpd.pid"
	for _ in $(seq 1 200); do # <= 10 s
		[ -s "$WORK/mcpd.port" ] && break
		kill -0 "$(cat "$WORK/mcpd.pid")" 2>/dev/null || { cat "$WORK/mcpd.log" >&2; exit 1; }
		sleep 0.05
	done
	[ -s "$WORK/mcpd.port" ] || { echo "mcpd did not start" >&2; exit 1; }
	port=$(cat "$WORK/mcpd.port")
	hdr=$(curl -sS --max-time 10 -D - -o /dev/null -X POST "http://127.0.0.1:$port/stream" \
		-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		--data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$PV\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"}}}")
	tr -d '\r' <<<"$hdr" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p' >"$WORK/mcpd.sid"
	[ -s "$WORK/mcpd.sid" ] || { echo "mcpd initialize: no session id" >&2; exit 1; }
	rpc '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
}

case $act in
prepare)
	mkdir -p "$WORK"
	[ -x "$B/dnsd/dnsd" ] && [ -x "$MCPD" ] || { echo "no dnsd/mcpd in $B (set DNSD_BUILD)" >&2; exit 1; }
	if mcpd_running; then kill "$(cat "$WORK/mcpd.pid")"; fi
	rm -f "$DB" "$DB"-wal "$DB"-shm "$WORK/mcpd.pid"
	"$MCPD" --db "$DB" init >/dev/null
	while read -r z; do
		"$MCPD" --db "$DB" import --origin "$z." "$DATA/zones/$z.zone" >/dev/null
	done <"$DATA/zones.txt" ;;
start)
	exec "$B/dnsd/dnsd" --db "$DB" --listen 127.0.0.1:"$PORT" --workers 1 --error-rate 1000000 ;;
change-prep) # untimed: make sure mcpd runs and has a session
	mcpd_running && [ -s "$WORK/mcpd.sid" ] || mcpd_start ;;
change-apply) # timed: one tools/call; returns once mcpd saw dnsd serve the new serial
	z=$1 owner=$2 type=$3 val=$4
	out=$(rpc "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"set_rrset\",\"arguments\":{\"zone\":\"$z\",\"name\":\"$owner\",\"type\":\"$type\",\"ttl\":3600,\"data\":[\"$val\"],\"reason\":\"bench\"}}}")
	case $out in
	*'"isError":true'* | *'"error":{'* | '') echo "set_rrset failed: $out" >&2; exit 1 ;;
	esac ;;
stop) # end the mcpd daemon started by change-prep, by its PID
	if mcpd_running; then
		pid=$(cat "$WORK/mcpd.pid")
		kill "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$WORK/mcpd.pid" ;;
*) echo "unknown action $act" >&2; exit 2 ;;
esac
