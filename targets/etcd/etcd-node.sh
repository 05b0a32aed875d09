#!/bin/sh
# Starts one etcd member of the drill's cluster (targets/etcd/target.yaml's start:). It
# turns the lab's node list ({nodes}: n1=ADDR:2379,...) into etcd's --initial-cluster
# (n1=http://ADDR:2380,...): the client port is the node's port, the peer port the next
# one. MEMBERS (all, or names like n1,n2) keeps only those members in --initial-cluster:
# a member joining a cluster that is growing back (initial-cluster-state existing) must
# list exactly the members the cluster has, itself included. Then exec: etcd becomes the
# node's process, so the harness's signals and kills reach it.
# Usage: etcd-node.sh NAME ADDR PORT DATA NODES MEMBERS STATE NOFSYNC FORCE_NEW HB_MS ELECTION_MS
set -eu
name=$1 addr=$2 port=$3 data=$4 nodes=$5 members=$6 state=$7 nofsync=$8 force=$9
shift 9
hb=$1 election=$2
peer=$((port + 1))
cluster=
for m in $(echo "$nodes" | tr , ' '); do
	n=${m%%=*} hp=${m#*=}
	case ",$members," in ,all,|*",$n,"*) ;; *) continue ;; esac
	a=${hp%:*} p=${hp##*:}
	cluster="${cluster:+$cluster,}$n=http://$a:$((p + 1))"
done
# etcd refuses a data dir that others may read
chmod 700 "$data"
set -- --name "$name" --data-dir "$data" \
	--listen-client-urls "http://$addr:$port" --advertise-client-urls "http://$addr:$port" \
	--listen-peer-urls "http://$addr:$peer" --initial-advertise-peer-urls "http://$addr:$peer" \
	--initial-cluster "$cluster" --initial-cluster-state "$state" \
	--initial-cluster-token chaosdrill --heartbeat-interval "$hb" --election-timeout "$election" \
	--logger zap --log-outputs stderr
[ "$nofsync" = true ] && set -- "$@" --unsafe-no-fsync
[ "$force" = true ] && set -- "$@" --force-new-cluster
echo "etcd-node: etcd $*" >&2
exec etcd "$@"
