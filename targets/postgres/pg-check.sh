#!/bin/sh
# The target's offline check: (as user postgres, after the harness stopped the nodes).
# pg_checksums --check verifies every data page's checksum, but only on a cluster shut
# down cleanly ("shut down", or "shut down in recovery" for a standby), and the harness
# ends a drill with SIGKILL: the state is then "in production" (or "in archive
# recovery") and pg_checksums refuses ("cluster must be shut down"). So a cluster not shut
# down cleanly is first brought to a clean shutdown by PostgreSQL itself: started on its
# Unix socket only (crash recovery replays the WAL, as any restart would), then stopped
# with a shutdown checkpoint (pg_ctl stop -m fast). A cluster that cannot start fails the
# check with PostgreSQL's words.
#   pg-check.sh PGBIN DATA
set -u
pgbin=$1 data=$2
state() { LC_ALL=C "$pgbin/pg_controldata" "$data" | sed -n 's/^Database cluster state: *//p'; }
s=$(state)
case $s in
"shut down" | "shut down in recovery") ;;
*)
	note="pg-check: the cluster was not shut down cleanly ($s): crash recovery first (pg_ctl start, stop -m fast)"
	log=/tmp/pg-check-$$.log
	if ! "$pgbin/pg_ctl" -D "$data" -w -t 120 -l "$log" \
		-o "-c listen_addresses= -k $data -c logging_collector=off -c dynamic_shared_memory_type=mmap" start >/dev/null 2>&1 ||
		! "$pgbin/pg_ctl" -D "$data" -w -t 120 -m fast stop >/dev/null 2>&1; then
		echo "pg-check: PostgreSQL could not recover the cluster: $(grep -E 'FATAL|PANIC' "$log" | head -1)"
		echo "$note"
		cat "$log"
		exit 1
	fi
	note="$note; now $(state)"
	;;
esac
# the first line of the output is the verdict's reason: pg_checksums's own first
out=$("$pgbin/pg_checksums" --check -D "$data" 2>&1)
rc=$?
printf '%s\n' "$out"
[ -z "${note:-}" ] || echo "$note"
exit $rc
