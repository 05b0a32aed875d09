#!/bin/sh
# The target's start: (as user postgres; the node's pid-namespace init once it execs the
# server). A primary's data dir was made by init: (pg-init.sh). A standby's is made here at
# its first start: pg_basebackup -R from whichever of the other nodes is the primary (not in
# recovery), which writes standby.signal and primary_conninfo (with this node's name as
# application_name, which synchronous_standby_names on the primary names); the primary may
# still be starting, so it is tried for up to 30 s.
#   pg-node.sh PGBIN DATA NAME ROLE PEERS ADDR PORT -- SERVER OPTIONS...
set -eu
pgbin=$1 data=$2 name=$3 role=$4 peers=$5 addr=$6 port=$7
shift 7
[ "$1" = -- ] && shift
if [ "$role" = standby ] && [ ! -e "$data/PG_VERSION" ]; then
	tries=300
	until [ -e "$data/PG_VERSION" ]; do
		for hp in $(echo "$peers" | tr , ' '); do
			h=${hp%:*} p=${hp##*:}
			[ "$("$pgbin/psql" -h "$h" -p "$p" -U eriop -d eriop -Atc 'select not pg_is_in_recovery()' 2>/dev/null)" = t ] || continue
			echo "pg-node: $name: base backup from the primary $hp" >&2
			"$pgbin/pg_basebackup" -D "$data" -R -X stream -c fast \
				-d "host=$h port=$p user=eriop application_name=$name" && break
			rm -rf "${data:?}"/* # a partial backup is no data dir
		done
		[ -e "$data/PG_VERSION" ] && break
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || { echo "pg-node: $name: no primary among $peers answered" >&2; exit 1; }
		sleep 0.1
	done
	chmod 700 "$data"
fi
exec "$pgbin/postgres" -D "$data" -k "$data" -h "$addr" -p "$port" \
	-c logging_collector=off -c dynamic_shared_memory_type=mmap "$@"
