#!/bin/sh
# Runbook helpers for the etcd drills (scenarios/etcd-*.yaml): etcdctl commands that need a
# member's id, looked up from its address. Each prints the etcdctl command it runs.
# NODES is the drill's {nodes} (n1=ADDR:PORT,...); a member is named by ADDR:PORT, its
# client URL (its peer URL is PORT+1).
#   etcd-ctl.sh move-leader NODES ADDR:PORT   make that member the leader (no-op if it is)
#   etcd-ctl.sh remove NODES ADDR:PORT        etcdctl member remove (through the others;
#                                             exit 0 if no member is on ADDR:PORT)
#   etcd-ctl.sh add NODES NAME ADDR:PORT      etcdctl member add NAME --peer-urls ...
#                                             (exit 0 if that peer URL is a member already)
#   etcd-ctl.sh raft-index ADDR:PORT          print the member's raft index (0 if down)
#   etcd-ctl.sh survivors FILE NAME=ADDR:PORT...   record each survivor's raft index in FILE
#   etcd-ctl.sh chose FILE NAME               exit 0 if NAME's recorded raft index is the
#                                             highest of FILE's; else say who had more
set -u
export ETCDCTL_API=3
what=$1
case $what in raft-index|survivors|chose) ;; *) nodes=$2; shift ;; esac
shift
eps=
if [ -n "${nodes:-}" ]; then
	for m in $(echo "$nodes" | tr , ' '); do eps="${eps:+$eps,}http://${m#*=}"; done
fi
ctl() { echo "+ etcdctl $*"; etcdctl --dial-timeout 1s --command-timeout 5s "$@"; }
# the hex id of the member whose peer URL is on ADDR (member list -w simple: id, status,
# name, peer urls, client urls, learner)
id_of() {
	etcdctl --endpoints "$eps" --command-timeout 5s member list |
		awk -F', ' -v p="http://${1%:*}:$((${1##*:} + 1))" '$4 == p { print $1 }'
}
case $what in
move-leader)
	id=$(id_of "$1")
	[ -n "$id" ] || { echo "no member on $1"; exit 1; }
	if sh "$(dirname "$0")/etcd-probe.sh" leader "$1"; then echo "$1 leads already"; exit 0; fi
	ctl --endpoints "$eps" move-leader "$id" ;;
remove)
	# idempotent too: a wait step retries it (a conf change proposed right after an
	# election is dropped by raft while the new leader's log has unapplied entries,
	# and etcdctl times out)
	id=$(id_of "$1")
	[ -n "$id" ] || { echo "no member on $1 (removed already)"; exit 0; }
	# through the members that are not the one removed
	others=$(echo "$eps" | tr , '\n' | grep -v "//$1\$" | paste -sd,)
	ctl --endpoints "$others" member remove "$id" ;;
add)
	name=$1 hp=$2
	others=$(echo "$eps" | tr , '\n' | grep -v "//$hp\$" | paste -sd,)
	# idempotent, so that a wait step may retry it: etcd refuses a member add with
	# "unhealthy cluster" until its leader has been connected to a quorum for 5s
	[ -n "$(id_of "$hp")" ] && { echo "a member on $hp is in the cluster already"; exit 0; }
	ctl --endpoints "$others" member add "$name" --peer-urls "http://${hp%:*}:$((${hp##*:} + 1))" ;;
raft-index)
	etcdctl --endpoints "http://$1" --dial-timeout 300ms --command-timeout 1s endpoint status -w json 2>/dev/null |
		sed -n 's/.*"raftIndex":\([0-9]*\).*/\1/p' | grep . || echo 0 ;;
survivors)
	file=$1; shift
	: >"$file.tmp"
	for m in "$@"; do echo "${m%%=*} $(sh "$0" raft-index "${m#*=}")" >>"$file.tmp"; done
	mv "$file.tmp" "$file"
	cat "$file" ;;
chose)
	file=$1 name=$2
	mine=$(awk -v n="$name" '$1 == n { print $2 }' "$file")
	best=$(sort -k2,2n "$file" | tail -1)
	echo "raft index of each survivor before the recovery:"; cat "$file"
	if [ "${mine:-0}" -lt "${best#* }" ]; then
		echo "the runbook chose the wrong survivor: $name had raft index ${mine:-0}, ${best% *} had ${best#* }: every write committed after index ${mine:-0} is lost"
		exit 1
	fi
	echo "$name had the highest raft index (${mine}): the right survivor" ;;
*) echo "etcd-ctl.sh: unknown command $what" >&2; exit 2 ;;
esac
