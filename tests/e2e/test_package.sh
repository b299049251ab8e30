#!/usr/bin/env bash
# test_package.sh: the Debian package, end to end, on this machine.
#   1. configure a tree with prefix /usr, build what the package ships and
#      run `cpack -G DEB` (dnsmcp_<version>_<arch>.deb);
#   2. `apt-get install ./dnsmcp_*.deb`: the dnsmcp user, /var/lib/dnsmcp,
#      zones.db at the newest schema version owned by dnsmcp, conffiles, units, man
#      pages; `dnsd -n -c /etc/dnsmcp/dnsd.conf` as dnsmcp;
#   3. smoke test without systemd (CI containers have none): the units'
#      ExecStart lines run as dnsmcp through setpriv, dnsd with the unit's
#      ambient CAP_NET_BIND_SERVICE on port 53 of a spare loopback address,
#      mcpd on a free port; a zone imported with mcpd, queried with dig, then
#      changed over MCP (curl) and seen live with dig;
#   4. `apt-get remove` keeps the database, the user and the configuration;
#      a database of an unknown (newer) schema makes the install fail loudly
#      and `dpkg --configure` finishes once it is fixed; a reinstall (the
#      upgrade path of postinst: `mcpd init` migrates) keeps the zones and
#      hands root-owned database files back to dnsmcp;
#   5. `apt-get purge` deletes /var/lib/dnsmcp and /etc/dnsmcp.
# It installs and purges a system package, so it runs only as root with
# DNSMCP_PACKAGE_TEST=1 (.ci/run sets it) and only in a tree built without
# sanitizers (the package is built apart anyway); otherwise it prints SKIP
# and exits 77.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs cmake, cpack,
# dpkg-shlibdeps (dpkg-dev), apt-get, setpriv, dig (dnsutils), sqlite3, curl.
set -uo pipefail
if [ "$(id -u)" != 0 ] || [ "${DNSMCP_PACKAGE_TEST:-}" != 1 ]; then
	echo "SKIP: installs a system package: runs as root with DNSMCP_PACKAGE_TEST=1 only"
	exit 77
fi
if grep -q '^ENABLE_SANITIZERS:BOOL=ON' "${BUILDDIR:?}/CMakeCache.txt" 2>/dev/null; then
	echo "SKIP: the package is built without sanitizers; this runs in the plain tree"
	exit 77
fi
. "$SRCDIR/tests/e2e/lib.sh"
lib_init package
# the newest schema version, as the binaries know it
SV=$(sed -n 's/^#define DB_SCHEMA_VERSION *\([0-9]*\).*/\1/p' "$SRCDIR/common/db.h")
[[ $SV =~ ^[0-9]+$ ]] || fail "cannot read DB_SCHEMA_VERSION from common/db.h"
need cmake cmake
need cpack cmake
need dpkg-shlibdeps dpkg-dev
need apt-get apt
need setpriv util-linux
need dig dnsutils
export DEBIAN_FRONTEND=noninteractive

if dpkg-query -W -f='${Status}' dnsmcp 2>/dev/null | grep -q 'installed'; then
	fail "a dnsmcp package is installed already; this test installs and purges it: apt-get purge dnsmcp first"
fi
[ ! -e /var/lib/dnsmcp ] || fail "/var/lib/dnsmcp exists (an old install?); this test would purge it"
INSTALLED=0
cleanup_package() {
	local st=$?
	if [ "$INSTALLED" = 1 ]; then
		apt-get purge -y -q dnsmcp >>"$T/apt-cleanup.log" 2>&1 ||
			dpkg --purge --force-all dnsmcp >>"$T/apt-cleanup.log" 2>&1
	fi
	(exit "$st")
	lib_cleanup # reads $? for the test's status
}
trap cleanup_package EXIT

DB=/var/lib/dnsmcp/zones.db
as_dnsmcp() { setpriv --reuid=dnsmcp --regid=dnsmcp --clear-groups -- "$@"; }

# --- 1. build the package ---------------------------------------------------------
# Its own tree under the build tree, so re-runs are incremental.
B=$BUILDDIR/package-test
cmake -S "$SRCDIR" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DENABLE_SANITIZERS=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >"$T/configure.log" 2>&1 ||
	fail "configure: $(tail -20 "$T/configure.log")"
cmake --build "$B" -j "${JOBS:-2}" --target dnsd mcpd manpages >"$T/build.log" 2>&1 ||
	fail "build: $(tail -30 "$T/build.log")"
rm -f "$B"/dnsmcp_*.deb
(cd "$B" && cpack -G DEB) >"$T/cpack.log" 2>&1 || fail "cpack: $(tail -30 "$T/cpack.log")"
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
DEB=$B/dnsmcp_${VERSION}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || fail "cpack made no $DEB: $(ls "$B"/*.deb 2>&1)"
ok "cpack -G DEB: $(basename "$DEB")"
deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libevent libsqlite3-0 libcjson1 libssl3; do
	grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib: $deps"
done
ok "Depends: $deps"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/dnsmcp/dnsd.conf || fail "dnsd.conf is no conffile"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/dnsmcp/mcpd.conf || fail "mcpd.conf is no conffile"
ok "conffiles: /etc/dnsmcp/dnsd.conf, /etc/dnsmcp/mcpd.conf"
! dpkg-deb -c "$DEB" | grep -q '/var/lib' || fail "the package ships files in /var/lib"
ok "no database shipped (postinst makes it)"

# --- 2. install ------------------------------------------------------------------------
# apt's download sandbox user must be able to read the file.
mkdir -p "$T/apt" && chmod 755 "$T" "$T/apt" && cp "$DEB" "$T/apt/" && chmod 644 "$T/apt/"*.deb
INSTALLED=1
apt-get install -y -q "$T/apt/$(basename "$DEB")" >"$T/apt-install.log" 2>&1 ||
	fail "apt-get install: $(tail -30 "$T/apt-install.log")"
ok "apt-get install ./$(basename "$DEB")"
grep -q "creating $DB" "$T/apt-install.log" || fail "postinst did not say it created the DB"

pw=$(getent passwd dnsmcp) || fail "no dnsmcp user"
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
[ "$home" = /var/lib/dnsmcp ] && [ "$shell" = /usr/sbin/nologin ] && ((uid < 1000)) ||
	fail "dnsmcp user: $pw"
getent group dnsmcp >/dev/null || fail "no dnsmcp group"
ok "system user and group dnsmcp"
[ "$(stat -c '%U:%G %a' /var/lib/dnsmcp)" = "dnsmcp:dnsmcp 750" ] ||
	fail "/var/lib/dnsmcp: $(stat -c '%U:%G %a' /var/lib/dnsmcp)"
[ "$(stat -c '%U:%G' "$DB")" = dnsmcp:dnsmcp ] || fail "$DB: $(stat -c '%U:%G' "$DB")"
ok "/var/lib/dnsmcp 0750 and zones.db owned by dnsmcp"
check_out "zones.db has schema version $SV" "^$SV\$" sqlite3 "$DB" 'PRAGMA user_version'
for f in /usr/sbin/dnsd /usr/sbin/mcpd /lib/systemd/system/dnsd.service \
	/lib/systemd/system/mcpd.service /usr/lib/sysusers.d/dnsmcp.conf \
	/usr/lib/tmpfiles.d/dnsmcp.conf /usr/share/man/man8/dnsd.8.gz /usr/share/man/man8/mcpd.8.gz \
	/usr/share/man/man5/dnsmcp.conf.5.gz /usr/share/doc/dnsmcp/copyright \
	/usr/share/doc/dnsmcp/examples/dnsmcp.conf; do
	[ -e "$f" ] || fail "not installed: $f"
done
ok "binaries, units, sysusers/tmpfiles, man pages and docs in place"
check_out "dnsd -n -c /etc/dnsmcp/dnsd.conf (as dnsmcp)" "OK" as_dnsmcp /usr/sbin/dnsd -n -c /etc/dnsmcp/dnsd.conf
check_out "mcpd --help runs" "token add" /usr/sbin/mcpd --help

# --- 3. smoke test: the units' command lines, as the unit would run them -------------
exec_start() { sed -n 's/^ExecStart=//p' "/lib/systemd/system/$1.service"; }
read -r -a DNSD_CMD <<<"$(exec_start dnsd)"
read -r -a MCPD_CMD <<<"$(exec_start mcpd)"
[ "${DNSD_CMD[0]}" = /usr/sbin/dnsd ] && [ "${MCPD_CMD[0]}" = /usr/sbin/mcpd ] ||
	fail "ExecStart: ${DNSD_CMD[*]} / ${MCPD_CMD[*]}"

cat >"$T/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
	IN NS ns1
ns1	IN A 192.0.2.53
www	IN A 192.0.2.80
EOF
check_out "mcpd import (as dnsmcp)" "created example.com" \
	as_dnsmcp /usr/sbin/mcpd --db "$DB" import --origin example.com - <"$T/example.com.zone"
TOKEN=$(as_dnsmcp /usr/sbin/mcpd --db "$DB" token add smoke --scope write 2>"$T/token.err") ||
	fail "token add: $(cat "$T/token.err")"

# Port 53 as in production, on a loopback address nothing else uses, with
# the unit's only privilege: CAP_NET_BIND_SERVICE as an ambient capability.
DNS_ADDR=127.8.53.1
start_daemon D "$T/dnsd.log" setpriv --reuid=dnsmcp --regid=dnsmcp --clear-groups \
	--inh-caps=+net_bind_service --ambient-caps=+net_bind_service -- \
	"${DNSD_CMD[@]}" --listen "$DNS_ADDR:53" --workers 1
DIG=(dig +time=1 +tries=1 +short @"$DNS_ADDR" -p 53)
wait_for 10 "dnsd answers on $DNS_ADDR:53" bash -c "[ \"\$(${DIG[*]} example.com SOA)\" != '' ]"
check_out "dig: the imported zone's SOA" ' 2024010101 ' "${DIG[@]}" example.com SOA
check_out "dig: www.example.com A" '^192\.0\.2\.80$' "${DIG[@]}" www.example.com A
grep -q 'switched to user\|running as root' "$T/dnsd.log" &&
	fail "dnsd ran as root: $(cat "$T/dnsd.log")"
ok "dnsd serves port 53 as dnsmcp with CAP_NET_BIND_SERVICE alone"

MPORT=$(free_port)
start_daemon M "$T/mcpd.log" setpriv --reuid=dnsmcp --regid=dnsmcp --clear-groups -- \
	"${MCPD_CMD[@]}" --listen "127.0.0.1:$MPORT" --dnsd "$DNS_ADDR:53"
URL=http://127.0.0.1:$MPORT/stream
wait_for 10 "mcpd listens" curl -s -o /dev/null "$URL"
ACCEPT='Accept: application/json, text/event-stream'
post() { # BODY [SESSION]: POST to mcpd, print the body; headers in $T/h
	local extra=()
	[ -n "${2:-}" ] && extra=(-H "Mcp-Session-Id: $2" -H 'MCP-Protocol-Version: 2025-06-18')
	curl -sS --max-time 20 -D "$T/h" -X POST -H "$ACCEPT" -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $TOKEN" "${extra[@]}" -d "$1" "$URL"
}
post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}}' >"$T/init.json" ||
	fail "initialize"
SID=$(tr -d '\r' <"$T/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p')
[ -n "$SID" ] || fail "no session id: $(cat "$T/h" "$T/init.json")"
post '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$SID" >/dev/null
post '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_records","arguments":{"zone":"example.com","records":[{"name":"smoke","type":"A","data":"192.0.2.99"}],"reason":"package smoke test"}}}' \
	"$SID" >"$T/add.json" || fail "tools/call add_records"
grep -q '"live":true' "$T/add.json" || fail "add_records not live: $(cat "$T/add.json")"
ok "tools/call add_records through the installed mcpd: committed and live"
check_out "dig sees the change" '^192\.0\.2\.99$' "${DIG[@]}" smoke.example.com A
stop_daemon "$M_PID" mcpd
stop_daemon "$D_PID" dnsd
bad=$(find /var/lib/dnsmcp ! -user dnsmcp)
[ -z "$bad" ] || fail "files in /var/lib/dnsmcp not owned by dnsmcp: $bad"
ok "every file in /var/lib/dnsmcp belongs to dnsmcp"

# --- 4. remove, a refused upgrade, reinstall --------------------------------------------
apt-get remove -y -q dnsmcp >"$T/apt-remove.log" 2>&1 || fail "apt-get remove: $(tail "$T/apt-remove.log")"
[ ! -e /usr/sbin/dnsd ] || fail "remove left /usr/sbin/dnsd"
[ -f "$DB" ] || fail "apt-get remove deleted the database"
[ -f /etc/dnsmcp/dnsd.conf ] || fail "apt-get remove deleted the configuration (conffiles stay)"
getent passwd dnsmcp >/dev/null || fail "apt-get remove deleted the user"
check_out "remove keeps the zones" '^example\.com\.$' sqlite3 "$DB" 'SELECT name FROM zones'
ok "apt-get remove: binaries gone; database, configuration and user kept"

# A database from a newer dnsmcp: the install must fail, saying why.
sqlite3 "$DB" 'PRAGMA user_version = 99' || fail "cannot set user_version"
if apt-get install -y -q "$T/apt/$(basename "$DEB")" >"$T/apt-newer.log" 2>&1; then
	fail "install over a schema-99 database succeeded: $(tail "$T/apt-newer.log")"
fi
grep -q 'schema version 99' "$T/apt-newer.log" || fail "no reason given: $(tail -20 "$T/apt-newer.log")"
ok "a database of an unknown newer schema stops the install, with the reason"
sqlite3 "$DB" "PRAGMA user_version = $SV" || fail "cannot reset user_version"
dpkg --configure -a >"$T/dpkg-configure.log" 2>&1 || fail "dpkg --configure: $(tail "$T/dpkg-configure.log")"
ok "dpkg --configure completes once the database is fixed"

# Root ran an admin command: root-owned files beside the DB. The upgrade
# path (configure with the old version) migrates and hands them back.
chown root:root "$DB"
apt-get install -y -q --reinstall "$T/apt/$(basename "$DEB")" >"$T/apt-reinstall.log" 2>&1 ||
	fail "apt-get install --reinstall: $(tail -30 "$T/apt-reinstall.log")"
grep -q "checking the schema of $DB" "$T/apt-reinstall.log" ||
	fail "reinstall did not run the migration step: $(cat "$T/apt-reinstall.log")"
grep -q "schema version $SV" "$T/apt-reinstall.log" || fail "mcpd init output missing"
ok "reinstall runs mcpd init on the existing database (the migration path)"
[ "$(stat -c '%U:%G' "$DB")" = dnsmcp:dnsmcp ] || fail "postinst left $DB $(stat -c '%U:%G' "$DB")"
ok "postinst hands a root-owned database back to dnsmcp"
check_out "the zones survived (dnsd -n as dnsmcp)" "OK" as_dnsmcp /usr/sbin/dnsd -n -c /etc/dnsmcp/dnsd.conf
check_out "smoke.example.com is still in the database" 'smoke\.example\.com\.' \
	as_dnsmcp /usr/sbin/mcpd --db "$DB" export example.com

# --- 5. purge --------------------------------------------------------------------------------
apt-get purge -y -q dnsmcp >"$T/apt-purge.log" 2>&1 || fail "apt-get purge: $(tail "$T/apt-purge.log")"
INSTALLED=0
[ ! -e /var/lib/dnsmcp ] || fail "purge left /var/lib/dnsmcp"
[ ! -e /etc/dnsmcp ] || fail "purge left /etc/dnsmcp: $(ls -la /etc/dnsmcp)"
ok "apt-get purge deletes the database and the configuration"

lib_done
