#!/usr/bin/env bash
# test_mcpd_notify_tsig.sh: mcpd -> dnsd NOTIFY signed with TSIG (RFC 8945),
# against dnsd with "allow-notify 127.0.0.1 key mcpd-key" and its periodic
# check slowed to 60 s, so a change is live within the wait only through an
# accepted NOTIFY:
#  - mcpd with tsig-keyfile + notify-key: a write is live:true, dnsd logs the
#    NOTIFY as signed;
#  - mcpd without a key: dnsd refuses the unsigned NOTIFY (REFUSED), the
#    write is committed but live:false, and live_error says why and what to
#    configure;
#  - mcpd with the right key name but another secret: dnsd answers NOTAUTH
#    BADSIG, and live_error names the key and the TSIG error; a key dnsd
#    lacks: BADKEY; an HMAC-SHA512 key dnsd knows but allow-notify does not
#    name: a signed REFUSED, verified and reported;
#  - start-up refusals: a key file group or others may read, a notify-key
#    the file lacks, notify-key without tsig-keyfile; "none" undoes a
#    file's notify-key from the command line.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs curl, sqlite3, python3.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcpd_notify_tsig
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
TW=$("$MCPD" --db "$DB" token add writer --scope write 2>/dev/null) || fail "token add writer"

secret() { head -c 32 /dev/urandom | base64; }
printf '# mcpd -> dnsd\nmcpd-key hmac-sha256 %s\nother-key hmac-sha512 %s\n' "$(secret)" \
	"$(secret)" >"$T/tsig.keys"
chmod 600 "$T/tsig.keys"
printf 'mcpd-key hmac-sha256 %s\n' "$(secret)" >"$T/wrong.keys"
chmod 600 "$T/wrong.keys"

start_dnsd D --db "$DB" --listen 127.0.0.1:0 --tsig-keyfile "$T/tsig.keys" \
	--allow-notify "127.0.0.1 key mcpd-key" --check-interval 60

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
		--data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"tsig-test","version":"1"}}}' |
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

# body_is PYTHON-EXPR DESC: EXPR on j (the parsed body; s = structuredContent)
body_is() {
	python3 - "$1" "$T/body" <<'EOF' || { sed 's/^/#   /' "$T/body" >&2; fail "$2: $1"; }
import json, sys
j = json.load(open(sys.argv[2]))
s = j["result"].get("structuredContent", {})
sys.exit(0 if eval(sys.argv[1]) else 1)
EOF
	ok "$2"
}

served_serial() { "$DNSQ" 127.0.0.1 "$D_PORT" example.com. SOA 2>/dev/null | awk '$1 == "answer" && $5 == "SOA" {print $8; exit}'; }

# ---- with the key: live through the signed NOTIFY ----
start_mcpd S --tsig-keyfile "$T/tsig.keys" --notify-key mcpd-key
grep -q "NOTIFY to dnsd signed with TSIG key mcpd-key. (hmac-sha256)" "$T/S.log" ||
	fail "mcpd does not log its NOTIFY key"
ok "mcpd loads the key and logs it"
mcp_session "$S_PORT"
add_a signed 192.0.2.1
body_is "j['result']['isError'] is False and s['serial'] == 2 and s['live'] is True and 'live_error' not in s" \
	"signed NOTIFY: the write is live (serial 2)"
grep -q "zone example.com. NOTIFY from 127.0.0.1:[0-9]* accepted (signed)" "$T/D.log" ||
	fail "dnsd did not log a signed NOTIFY"
ok "dnsd accepted the NOTIFY as signed"
add_a signed2 192.0.2.2
body_is "s['serial'] == 3 and s['live'] is True" "a second signed write is live too (serial 3)"
stop_daemon "$S_PID" "mcpd with notify-key"

# ---- without the key: refused, committed but not live, and it says why ----
start_mcpd U
mcp_session "$U_PORT"
add_a unsigned 192.0.2.3
body_is "j['result']['isError'] is False and s['serial'] == 4 and s['live'] is False" \
	"unsigned NOTIFY: committed (serial 4) but live:false"
body_is "'refused the NOTIFY, sent unsigned' in s['live_error'] and 'REFUSED' in s['live_error'] and 'notify-key' in s['live_error'] and 'serves serial 3' in s['live_error']" \
	"live_error: dnsd refused the unsigned NOTIFY, serves serial 3, set notify-key"
[ "$(served_serial)" = 3 ] || fail "dnsd serves $(served_serial), want 3 (no reload without NOTIFY)"
ok "dnsd still serves serial 3: its check-interval is 60 s"
stop_daemon "$U_PID" "mcpd without a key"

# ---- the right name, a wrong secret: NOTAUTH/BADSIG ----
start_mcpd W --tsig-keyfile "$T/wrong.keys" --notify-key mcpd-key
mcp_session "$W_PORT"
add_a wrongkey 192.0.2.4
body_is "s['serial'] == 5 and s['live'] is False and 'refused mcpd' in s['live_error'] and 'BADSIG' in s['live_error'] and 'mcpd-key' in s['live_error']" \
	"wrong secret: live:false, live_error names the key and BADSIG"
grep -q "TSIG BADSIG from 127.0.0.1:[0-9]* (key mcpd-key." "$T/D.log" || fail "dnsd did not log BADSIG"
ok "dnsd logged the BADSIG"
stop_daemon "$W_PID" "mcpd with a wrong key"

# ---- a key dnsd does not know: NOTAUTH/BADKEY ----
printf 'stranger hmac-sha256 %s\n' "$(secret)" >"$T/stranger.keys"
chmod 600 "$T/stranger.keys"
start_mcpd B --tsig-keyfile "$T/stranger.keys" --notify-key stranger
mcp_session "$B_PORT"
add_a badkey 192.0.2.6
body_is "s['live'] is False and 'BADKEY' in s['live_error'] and 'lacks this key' in s['live_error']" \
	"unknown key: live:false, live_error says BADKEY and that dnsd lacks the key"
stop_daemon "$B_PID" "mcpd with a key dnsd lacks"

# ---- a key dnsd knows but allow-notify does not name: REFUSED, signed ----
start_mcpd O --tsig-keyfile "$T/tsig.keys" --notify-key other-key
grep -q "signed with TSIG key other-key. (hmac-sha512)" "$T/O.log" || fail "hmac-sha512 key not loaded"
mcp_session "$O_PORT"
add_a otherkey 192.0.2.7
body_is "s['live'] is False and 'refused the NOTIFY signed with key other-key.' in s['live_error']" \
	"hmac-sha512 key not in allow-notify: the signed REFUSED is verified and reported"
stop_daemon "$O_PID" "mcpd with another key"

# ---- the key again: dnsd catches up at once ----
start_mcpd S2 --tsig-keyfile "$T/tsig.keys" --notify-key mcpd-key
mcp_session "$S2_PORT"
add_a again 192.0.2.5
body_is "s['serial'] == 8 and s['live'] is True" "with the key again: live at serial 8"
stop_daemon "$S2_PID" "mcpd with notify-key again"

# ---- start-up refusals ----
refuse() { # DESC PATTERN ARGS...: mcpd must exit non-zero, logging PATTERN
	local desc=$1 pat=$2 out st
	shift 2
	out=$(timeout 10 "$MCPD" --db "$DB" --listen 127.0.0.1:0 --dnsd "127.0.0.1:$D_PORT" "$@" 2>&1)
	st=$?
	[ $st != 0 ] && [ $st != 124 ] && grep -Eq -- "$pat" <<<"$out" ||
		fail "$desc: status $st, output: $out"
	ok "$desc"
}
cp "$T/tsig.keys" "$T/loose.keys"
chmod 640 "$T/loose.keys"
refuse "a key file readable by the group is refused" "loose.keys.*(group|others|mode)" \
	--tsig-keyfile "$T/loose.keys" --notify-key mcpd-key
chmod 604 "$T/loose.keys"
refuse "a key file readable by others is refused" "loose.keys.*(group|others|mode)" \
	--tsig-keyfile "$T/loose.keys" --notify-key mcpd-key
refuse "a notify-key missing from the file is refused" "notify-key nokey.*no such key" \
	--tsig-keyfile "$T/tsig.keys" --notify-key nokey
refuse "notify-key without tsig-keyfile is refused" "needs tsig-keyfile" --notify-key mcpd-key
refuse "a missing key file is refused" "tsig-keyfile" --tsig-keyfile "$T/nothere.keys" \
	--notify-key mcpd-key
refuse "a notify-key that is not a name is refused" "not a key name" --notify-key 'a..b'

# notify-key none on the command line undoes the file's; tsig-keyfile alone is not read
printf 'tsig-keyfile %s\nnotify-key mcpd-key\n' "$T/loose.keys" >"$T/m.conf"
start_mcpd N -c "$T/m.conf" --notify-key none
grep -q "not read: no notify-key" "$T/N.log" || fail "tsig-keyfile without notify-key: not logged"
ok "--notify-key none overrides the file: unsigned, the (loose) key file is not read"
stop_daemon "$N_PID" "mcpd --notify-key none"

lib_done
