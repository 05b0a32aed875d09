#!/bin/sh
# Rots the newest WAL where it hurts most, while the server is down (the WAL corruption
# drills): eight bytes of the latest checkpoint record (the one crash recovery starts from,
# named by pg_control) are overwritten with 0xff, so the record's CRC no longer matches.
# PostgreSQL then cannot start: "could not locate a valid checkpoint record".
#   pg-rot-wal.sh PGBIN DATA
set -eu
pgbin=$1 data=$2
loc=$(LC_ALL=C "$pgbin/pg_controldata" "$data" | sed -n 's/^Latest checkpoint location: *//p')
tli=$(LC_ALL=C "$pgbin/pg_controldata" "$data" | sed -n "s/^Latest checkpoint's TimeLineID: *//p")
hi=$((0x${loc%/*})) lo=$((0x${loc#*/}))
seg=$(( (hi * 4294967296 + lo) / 16777216 ))
off=$(( lo % 16777216 + 24 )) # past the record header: its checkpoint data
file=$(printf '%08X%08X%08X' "$tli" $((seg / 256)) $((seg % 256)))
[ -f "$data/pg_wal/$file" ] || { echo "pg-rot-wal: no segment $file for checkpoint $loc" >&2; exit 1; }
printf '\377\377\377\377\377\377\377\377' | dd of="$data/pg_wal/$file" bs=1 seek=$off count=8 conv=notrunc status=none
sync "$data/pg_wal/$file"
echo "rotted 8 bytes of the checkpoint record at $loc: pg_wal/$file offset $off"
echo "newest segment: $(ls "$data/pg_wal" | grep -E '^[0-9A-F]{24}$' | tail -1)"
