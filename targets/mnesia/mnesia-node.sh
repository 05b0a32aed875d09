#!/bin/sh
# Starts one Mnesia node of the drill (targets/mnesia/target.yaml's start:): an Erlang node
# named chaosdrill@ADDR (long names on the node's lab address, which resolve in every
# node's namespace), the shared cookie chaosdrill, net_ticktime 4 (a peer silent for ~4 s
# is down: a partition of a few seconds is noticed), Mnesia's dir in the node's data dir
# and its dump-log thresholds, then cdmnesia (the kv table and the line protocol server).
# epmd: started here in the node, as a daemon whose parent becomes the node's pid-namespace
# init; it dies with the node's pid namespace (kill, power cut, shutdown). Then exec: the
# Erlang VM becomes the node's process, so the harness's signals reach it (SIGTERM: the VM
# stops cleanly through init:stop).
# Usage: mnesia-node.sh BIN ADDR PORT DATA NODES COPIES ACK MAJORITY DUMP_WRITES DUMP_MS BOOTSTRAP WRITES
set -eu
bin=$1 addr=$2 port=$3 data=$4 nodes=$5 copies=$6 ack=$7 majority=$8 dumpw=$9
shift 9
dumpms=$1 bootstrap=$2 writes=$3
export HOME="$data"
epmd -daemon
set -- -noshell -noinput -name "chaosdrill@$addr" -setcookie chaosdrill -kernel net_ticktime 4 \
	-mnesia dir "\"$data/mnesia\"" -mnesia dump_log_write_threshold "$dumpw" \
	-mnesia dump_log_time_threshold "$dumpms" -pa "$bin" \
	-cdm_data "$data" -cdm_addr "$addr" -cdm_port "$port" -cdm_nodes "$nodes" \
	-cdm_copies "$copies" -cdm_majority "$majority" -cdm_ack "$ack" -cdm_bootstrap "$bootstrap" \
	-cdm_writes "$writes" \
	-s cdmnesia start
echo "mnesia-node: erl $*" >&2
exec erl "$@"
