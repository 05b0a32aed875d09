#!/bin/sh
# Rot at rest for the Redis drills: redis-rot.sh AOF turns the '*' that opens the first
# command past the middle of the AOF file into '!', as a flipped bit in the middle of the
# file would (0x2a -> 0x21): Redis then refuses the file ("Bad file format reading the
# append only file") and redis-check-aof finds it ("Expected prefix '*', got: '!'").
# It says which byte of how many it rotted.
f=$1
size=$(stat -c %s "$f") || exit 1
# the line "SET\r" of a command starts 8 bytes after its "*3\r\n$3\r\n"
off=$(grep -abx "$(printf 'SET\r')" "$f" | awk -F: -v h=$((size / 2)) '$1 >= h { print $1 - 8; exit }')
[ -n "$off" ] || { echo "no command past the middle of $f ($size bytes)"; exit 1; }
[ "$(dd if="$f" bs=1 skip="$off" count=1 2>/dev/null)" = '*' ] || { echo "byte $off of $f is not a command's '*'"; exit 1; }
printf '!' | dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null || exit 1
echo "rotted byte $off of $size in $f: '*' became '!'"
