#!/bin/sh
# Probes of one etcd member (targets/etcd/target.yaml's probe:), through etcdctl.
#   etcd-probe.sh ready ADDR:PORT   exit 0 when the member answers a health check (a
#                                   linearizable read through raft: it needs a quorum)
#   etcd-probe.sh leader ADDR:PORT  exit 0 when this member is the raft leader: its own
#                                   member_id equals the leader it reports
#   etcd-probe.sh hashkv NODES      exit 0 when every member of NODES (n1=ADDR:PORT,...)
#                                   that answers reports the same hash at the same revision
set -u
what=$1 ep=$2
export ETCDCTL_API=3
case $what in
ready) exec etcdctl --endpoints "http://$ep" --dial-timeout 300ms --command-timeout 500ms endpoint health ;;
leader)
	s=$(etcdctl --endpoints "http://$ep" --dial-timeout 300ms --command-timeout 500ms endpoint status -w json) || exit 1
	id=$(echo "$s" | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
	lead=$(echo "$s" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
	echo "member $id, leader $lead"
	[ -n "$id" ] && [ "$id" = "$lead" ] ;;
hashkv)
	eps=
	for m in $(echo "$ep" | tr , ' '); do eps="${eps:+$eps,}http://${m#*=}"; done
	# hashkv at one revision on every member: a compaction-free comparison of the kv store
	rev=$(etcdctl --endpoints "$eps" --command-timeout 2s endpoint status -w json |
		tr '{' '\n' | sed -n 's/.*"revision":\([0-9]*\).*/\1/p' | sort -n | head -1)
	[ -n "$rev" ] || { echo "no member answered endpoint status"; exit 1; }
	out=$(etcdctl --endpoints "$eps" --command-timeout 5s endpoint hashkv --rev "$rev" -w table) || { echo "$out"; exit 1; }
	echo "$out"
	n=$(etcdctl --endpoints "$eps" --command-timeout 5s endpoint hashkv --rev "$rev" -w json |
		tr '{' '\n' | sed -n 's/.*"hash":\([0-9]*\).*/\1/p' | sort -u | wc -l)
	[ "$n" = 1 ] || { echo "members disagree at revision $rev: $n different hashes"; exit 1; } ;;
*) echo "etcd-probe.sh: unknown probe $what" >&2; exit 2 ;;
esac
