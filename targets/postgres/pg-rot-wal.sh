#!/bin/sh
# Rots the WAL while the server is down (the WAL corruption drills): eight bytes of one
# record are overwritten with 0xff, so its CRC no longer matches.
#   checkpoint (default): the latest checkpoint record, the one crash recovery starts from
#     (named by pg_control). PostgreSQL then cannot start: "could not locate a valid
#     checkpoint record".
#   middle: the record halfway between the checkpoint and the end of the WAL (pg_waldump
#     lists them). Crash recovery takes a bad record for the end of the WAL: the server
#     starts, and every commit after that record is gone.
#   pg-rot-wal.sh PGBIN DATA [checkpoint|middle]
set -eu
pgbin=$1 data=$2 what=${3:-checkpoint}
loc=$(LC_ALL=C "$pgbin/pg_controldata" "$data" | sed -n 's/^Latest checkpoint location: *//p')
tli=$(LC_ALL=C "$pgbin/pg_controldata" "$data" | sed -n "s/^Latest checkpoint's TimeLineID: *//p")
if [ "$what" = middle ]; then
	# pg_waldump stops at the end of the WAL with an error: what it listed is the WAL
	lsns=$("$pgbin/pg_waldump" -p "$data/pg_wal" -s "$loc" 2>/dev/null | sed -n 's/.* lsn: \([0-9A-F]*\/[0-9A-F]*\),.*/\1/p') || true
	n=$(printf '%s\n' "$lsns" | grep -c /)
	[ "$n" -ge 10 ] || { echo "pg-rot-wal: only $n records after the checkpoint $loc" >&2; exit 1; }
	echo "$n records from the checkpoint at $loc to the end of the WAL"
	loc=$(printf '%s\n' "$lsns" | sed -n "$((n / 2))p")
fi
hi=$((0x${loc%/*})) lo=$((0x${loc#*/}))
seg=$(( (hi * 4294967296 + lo) / 16777216 ))
off=$(( lo % 16777216 + 24 )) # past the record header: its data
file=$(printf '%08X%08X%08X' "$tli" $((seg / 256)) $((seg % 256)))
[ -f "$data/pg_wal/$file" ] || { echo "pg-rot-wal: no segment $file for checkpoint $loc" >&2; exit 1; }
printf '\377\377\377\377\377\377\377\377' | dd of="$data/pg_wal/$file" bs=1 seek=$off count=8 conv=notrunc status=none
sync "$data/pg_wal/$file"
echo "rotted 8 bytes of the $what record at $loc: pg_wal/$file offset $off"
