#!/bin/bash
# dnsd adapter for run-anchors. Env: DATA, WORK, PORT; DNSD_BUILD (default: the
# repository's build/ tree). Data goes in the way production does it: zone files
# imported with `mcpd import` (one change per zone, canonicalized by the codec).
# change-apply makes the change the way mcpd commits one (records + SOA serial +
# journal in one transaction, through `mcpd apply`), then NOTIFYs dnsd.
set -euo pipefail
act=$1; shift
HERE=$(cd "$(dirname "$0")/../../.." && pwd)
B=${DNSD_BUILD:-$HERE/build}
DB="$WORK/dnsd.sqlite3"
case $act in
prepare)
  mkdir -p "$WORK"; rm -f "$DB" "$DB"-wal "$DB"-shm
  "$B/mcpd/mcpd" --db "$DB" init >/dev/null
  while read -r z; do
    "$B/mcpd/mcpd" --db "$DB" import --origin "$z." "$DATA/zones/$z.zone" >/dev/null
  done < "$DATA/zones.txt" ;;
start)
  exec "$B/dnsd/dnsd" --db "$DB" --listen 127.0.0.1:"$PORT" --workers 1 ;;
change-prep) : ;;
change-apply)
  z=$1 owner=$2 type=$3 val=$4
  "$B/mcpd/mcpd" --db "$DB" --dnsd 127.0.0.1:"$PORT" set-rrset "$z." "$owner" "$type" "$val" >/dev/null ;;
*) echo "unknown action $act" >&2; exit 2 ;;
esac
