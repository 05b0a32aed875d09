#!/bin/sh
# The target's init: (runs once per node, as user postgres, on the fresh data dir) and the
# re-initialisation step of the restore drills. What the runbook's `docker compose up -d
# postgres` does on an empty volume (the postgres image's entrypoint with POSTGRES_USER=eriop
# and POSTGRES_DB=eriop): initdb with eriop as the superuser, then database eriop. Besides,
# what the lab needs: data checksums (pg_checksums is the offline checker), connections and
# replication from the lab's addresses (trust: the lab has no route out), amcheck in every
# database (pg_amcheck, the online checker, also on a hot standby that cannot create it),
# and, unless --bare, the application's table kv(k, v) that the workload writes.
#   pg-init.sh PGBIN DATA ROLE [--bare]
# ROLE standby: nothing here; pg-node.sh makes the data dir by pg_basebackup at start.
set -eu
pgbin=$1 data=$2 role=$3 bare=${4:-}
[ "$role" = standby ] && exit 0
"$pgbin/initdb" -D "$data" --auth=trust -U eriop --data-checksums --no-instructions \
	--encoding=UTF8 --locale=C >/dev/null
cat >>"$data/pg_hba.conf" <<HBA
host all all 0.0.0.0/0 trust
host replication all 0.0.0.0/0 trust
HBA
# initdb synced its files; this edit must reach the disk too (a power cut keeps only what
# was synced)
sync "$data/pg_hba.conf"
# Single-user mode: no server, no socket; its log only when it fails.
single() { # single DB STATEMENT
	log=$("$pgbin/postgres" --single -D "$data" "$1" 2>&1 >/dev/null <<SQL
$2
SQL
	) || { printf '%s\n' "$log" >&2; exit 1; }
	# an ERROR does not change single-user mode's exit status
	case $log in *ERROR:* | *FATAL:* | *PANIC:*) printf '%s\n' "$log" >&2; exit 1 ;; esac
}
single template1 "create extension amcheck;"
single postgres "create extension amcheck;"
single postgres "create database eriop owner eriop;"
[ "$bare" = --bare ] && exit 0
single eriop "create table kv (k text primary key, v text not null);"
