#!/usr/bin/env bash
# test_journal_retention.sh: mcpd's journal retention end to end, with dnsd
# serving transfers from what is left of the journal:
#  - mcpd --journal-keep 3: five changes through MCP (curl), each live; the
#    database then holds the newest 3 changes of the zone, and no
#    change_records without their change (ON DELETE CASCADE);
#  - dig IXFR from a serial the journal no longer covers (the zone's first
#    and second serials) gets the whole zone in AXFR form (RFC 1995 §4);
#  - dig IXFR from the oldest kept serial, and from a recent one, gets the
#    condensed difference of exactly the kept changes;
#  - the offline `mcpd import` trims the same way (default, and with
#    --journal-keep), and refuses a bad value;
#  - journal-keep 0 in a config file keeps everything.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs curl, sqlite3,
# python3, dig (dnsutils).
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init journal_retention
need dig dnsutils
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
TW=$("$MCPD" --db "$DB" token add writer --scope write 2>/dev/null) || fail "token add writer"

start_dnsd D --db "$DB" --listen 127.0.0.1:0 --allow-transfer 127.0.0.1/32

start_mcpd() { # VAR ARGS...: starts mcpd, sets VAR_PID and VAR_PORT
	local var=$1 pf=$T/$1.port pid i
	shift
	rm -f "$pf"
	start_daemon "$var" "$T/$var.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 \
		--port-file "$pf" --dnsd "127.0.0.1:$D_PORT" "$@"
	pid=${LIB_PIDS[-1]}
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		alive "$pid" || fail "mcpd ($var) exited during start-up"
		sleep 0.1
	done
	[ -s "$pf" ] || fail "mcpd ($var) did not write its port file within 10 s"
	printf -v "${var}_PORT" '%s' "$(cat "$pf")"
}

# mcp_session PORT: initialize + initialized; sets SID and URL
mcp_session() {
	URL=http://127.0.0.1:$1/stream
	SID=$(curl -s -D - -o /dev/null -X POST "$URL" -H "Authorization: Bearer $TW" \
		-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		--data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"retention-test","version":"1"}}}' |
		tr -d '\r' | awk 'tolower($1) == "mcp-session-id:" {print $2}')
	[ -n "$SID" ] || fail "initialize: no session id"
	curl -s -o /dev/null -X POST "$URL" -H "Authorization: Bearer $TW" \
		-H 'Content-Type: application/json' -H "Mcp-Session-Id: $SID" \
		-H 'MCP-Protocol-Version: 2025-06-18' \
		--data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}' ||
		fail "notifications/initialized"
}

# add_a NAME ADDR: add_records through MCP; the body goes to $T/body
add_a() {
	curl -s -o "$T/body" -X POST "$URL" -H "Authorization: Bearer $TW" \
		-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' \
		--data-binary "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"add_records\",\"arguments\":{\"zone\":\"example.com\",\"records\":[{\"name\":\"$1\",\"type\":\"A\",\"data\":\"$2\"}]}}}" ||
		fail "add_records $1: curl failed"
}

# body_is PYTHON-EXPR DESC: EXPR on j (the parsed body) must be true
body_is() {
	python3 - "$1" "$T/body" <<'EOF' || { sed 's/^/#   /' "$T/body" >&2; fail "$2: $1"; }
import json, sys
j = json.load(open(sys.argv[2]))
sys.exit(0 if eval(sys.argv[1]) else 1)
EOF
	ok "$2"
}

start_mcpd M --journal-keep 3
grep -q "journal: keeping the newest 3 changes per zone" "$T/M.log" ||
	fail "mcpd does not log its journal retention"
ok "mcpd logs the retention it applies"
mcp_session "$M_PORT"
for i in 1 2 3 4 5; do
	add_a "r$i" "192.0.2.$i"
	body_is "j['result']['isError'] is False and j['result']['structuredContent']['serial'] == $((i + 1)) and j['result']['structuredContent']['live'] is True" \
		"change $i through MCP: serial $((i + 1)), live"
done

q() { sqlite3 -bail "$DB" "$1" || fail "sqlite3: $1"; }
[ "$(q "SELECT count(*) FROM changes WHERE zone_name = 'example.com.'")" = 3 ] ||
	fail "journal-keep 3 left $(q "SELECT count(*) FROM changes") changes"
ok "journal-keep 3: 3 of the 5 changes are left"
[ "$(q "SELECT group_concat(serial_before || '>' || serial_after, ' ') FROM (SELECT * FROM changes ORDER BY id)")" = "3>4 4>5 5>6" ] ||
	fail "the kept changes are not the newest: $(q "SELECT serial_before, serial_after FROM changes")"
ok "the kept changes are the newest three (3>4 4>5 5>6)"
[ "$(q "SELECT count(*) FROM change_records WHERE change_id NOT IN (SELECT id FROM changes)")" = 0 ] ||
	fail "change_records of deleted changes remain"
[ "$(q "SELECT count(*) FROM change_records")" = 9 ] ||
	fail "want 9 change_records (3 per kept change), have $(q "SELECT count(*) FROM change_records")"
ok "change_records of deleted changes went with them (9 rows left, 3 per change)"

# ---- transfers from what the journal still covers ----
P=$D_PORT
rrs() { # rrs ARGS...: answer records of a dig transfer, "name type data" per line
	dig @127.0.0.1 -p "$P" "$@" +nocomments +nostats +nocmd +tries=1 +time=5 |
		awk 'NF && $1 !~ /^;/ {printf "%s %s", $1, $4; for (i = 5; i <= NF; i++) printf " %s", $i; print ""}'
}
soas() { awk '$2 == "SOA" {printf "%s ", $5}' "$1"; }
nrecords=$(q "SELECT count(*) FROM records WHERE zone_id = (SELECT id FROM zones WHERE name = 'example.com.')")
[ "$nrecords" = 8 ] || fail "the zone should have 8 records, has $nrecords"

for s in 1 2; do
	rrs IXFR="$s" example.com. >"$T/ixfr$s"
	[ "$(soas "$T/ixfr$s")" = "6 6 " ] ||
		fail "IXFR=$s: SOA serials '$(soas "$T/ixfr$s")', want the AXFR form '6 6 ': $(cat "$T/ixfr$s")"
	[ "$(wc -l <"$T/ixfr$s")" = $((nrecords + 1)) ] ||
		fail "IXFR=$s: $(wc -l <"$T/ixfr$s") records, want the whole zone ($nrecords + the closing SOA)"
	for r in 1 2 3 4 5; do
		grep -q "^r$r.example.com. A 192.0.2.$r$" "$T/ixfr$s" || fail "IXFR=$s lacks r$r"
	done
	ok "IXFR from serial $s (beyond retention) falls back to the whole zone (AXFR form)"
done
rrs AXFR example.com. | sort >"$T/axfr"
sort "$T/ixfr1" | cmp -s - "$T/axfr" || fail "the IXFR fallback differs from AXFR: $(diff "$T/axfr" <(sort "$T/ixfr1"))"
ok "the fallback is exactly what AXFR sends"

rrs IXFR=3 example.com. >"$T/ixfr3"
[ "$(soas "$T/ixfr3")" = "6 3 6 6 " ] ||
	fail "IXFR=3: SOA serials '$(soas "$T/ixfr3")', want '6 3 6 6 ': $(cat "$T/ixfr3")"
[ "$(grep -v ' SOA ' "$T/ixfr3" | sort | tr '\n' ' ')" = "r3.example.com. A 192.0.2.3 r4.example.com. A 192.0.2.4 r5.example.com. A 192.0.2.5 " ] ||
	fail "IXFR=3 should add r3, r4, r5 only: $(cat "$T/ixfr3")"
ok "IXFR from the oldest kept serial (3): one difference adding r3, r4, r5"
rrs IXFR=5 example.com. >"$T/ixfr5"
[ "$(soas "$T/ixfr5")" = "6 5 6 6 " ] && [ "$(grep -vc ' SOA ' "$T/ixfr5")" = 1 ] &&
	grep -q '^r5.example.com. A 192.0.2.5$' "$T/ixfr5" ||
	fail "IXFR=5 should be the last change only: $(cat "$T/ixfr5")"
ok "IXFR from a recent serial (5): the last change only"
stop_daemon "$M_PID" "mcpd --journal-keep 3"

# ---- the offline import trims the same way ----
"$MCPD" --db "$DB" export example.com. >"$T/z.zone" || fail "export"
bump() { # bump N [IMPORT-OPTIONS...]: import the zone with one more A record (one change)
	echo "x$1.example.com. 300 IN A 198.51.100.$1" >>"$T/z.zone"
	shift
	"$MCPD" --db "$DB" import --origin example.com. "$@" "$T/z.zone" >"$T/import.out" 2>&1 ||
		fail "import: $(cat "$T/import.out")"
}
bump 1
[ "$(q "SELECT count(*) FROM changes")" = 4 ] ||
	fail "import with the default (1000) removed changes: $(q "SELECT count(*) FROM changes")"
ok "mcpd import, default journal-keep 1000: nothing removed"
bump 2 --journal-keep 2
[ "$(q "SELECT count(*) FROM changes")" = 2 ] ||
	fail "import --journal-keep 2 left $(q "SELECT count(*) FROM changes") changes"
grep -q "3 old changes removed (retention)" "$T/import.out" ||
	fail "import does not say what it removed: $(cat "$T/import.out")"
ok "mcpd import --journal-keep 2: 2 changes left, and it says 3 were removed"
for bad in -1 x 100000001 ""; do
	"$MCPD" --db "$DB" import --origin example.com. --journal-keep "$bad" "$T/z.zone" >/dev/null 2>&1
	st=$?
	[ $st = 2 ] || fail "import --journal-keep '$bad': status $st, want 2 (usage error)"
done
"$MCPD" --db "$DB" import --origin example.com. --journal-keep 100000000 --journal-keep-days 36500 \
	"$T/z.zone" >/dev/null 2>&1 || fail "import refuses the largest values"
"$MCPD" --db "$DB" import --origin example.com. --journal-keep-days 36501 "$T/z.zone" >/dev/null 2>&1
[ $? = 2 ] || fail "import --journal-keep-days 36501 accepted"
ok "import: --journal-keep 100000000 and --journal-keep-days 36500 accepted, N+1 and junk refused"

# ---- journal-keep 0 in a config file: everything stays; bad values refused ----
printf 'journal-keep 0\njournal-keep-days 0\n' >"$T/keepall.conf"
start_mcpd K -c "$T/keepall.conf"
grep -q "journal: keeping every change per zone" "$T/K.log" || fail "journal-keep 0 not logged"
mcp_session "$K_PORT"
before=$(q "SELECT count(*) FROM changes")
for i in 6 7 8; do
	add_a "r$i" "192.0.2.$i"
	body_is "j['result']['isError'] is False" "change r$i with journal-keep 0"
done
[ "$(q "SELECT count(*) FROM changes")" = $((before + 3)) ] ||
	fail "journal-keep 0 removed changes"
ok "journal-keep 0 (config file): every change kept"
stop_daemon "$K_PID" "mcpd journal-keep 0"
for bad in "--journal-keep 100000001" "--journal-keep -3" "--journal-keep-days 36501" "--journal-keep-days 1d"; do
	# shellcheck disable=SC2086
	out=$("$MCPD" --db "$DB" --listen 127.0.0.1:0 $bad 2>&1)
	st=$?
	[ $st = 2 ] && grep -q "bad value" <<<"$out" || fail "mcpd $bad: status $st: $out"
done
ok "mcpd refuses journal-keep above 100000000, journal-keep-days above 36500, and junk"
start_mcpd X --journal-keep 100000000 --journal-keep-days 36500
grep -q "journal: keeping the newest 100000000 changes of the last 36500 days per zone" "$T/X.log" ||
	fail "the largest values are not logged as set"
ok "mcpd accepts journal-keep 100000000 and journal-keep-days 36500 (N)"
stop_daemon "$X_PID" "mcpd with the largest retention values"

lib_done
