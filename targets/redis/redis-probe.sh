#!/bin/sh
# Probes of the Redis target (target.yaml): redis-probe.sh ready|leader ADDR PORT.
# ready: PING answers PONG (not -LOADING, which Redis answers while it loads the AOF);
# leader: INFO replication says role:master.
what=$1 addr=$2 port=$3
case $what in
ready) [ "$(redis-cli -h "$addr" -p "$port" ping 2>&1)" = PONG ] ;;
leader) redis-cli -h "$addr" -p "$port" info replication 2>/dev/null | tr -d '\r' | grep -qx role:master ;;
*) echo "usage: redis-probe.sh ready|leader ADDR PORT" >&2; exit 2 ;;
esac
