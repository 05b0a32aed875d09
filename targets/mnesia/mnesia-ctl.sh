#!/bin/sh
# Probes and runbook steps on the Mnesia nodes, through erl_call (Debian's erlang-base)
# with the drill's cookie. NODE is a lab address (the node is chaosdrill@ADDR).
#   mnesia-ctl.sh ready ADDR             exit 0 when kv is loaded there (wait_for_tables 500 ms)
#   mnesia-ctl.sh running ADDR           exit 0 when Mnesia runs there (tables loaded or not)
#   mnesia-ctl.sh call ADDR EXPR...      evaluates an Erlang expression there (erl_call -e),
#                                        prints the result; exit 1 when it cannot reach it
#   mnesia-ctl.sh tables ADDR            the runbook's "verify tables":
#                                        mnesia:system_info(tables), and where kv is read
#                                        from (nowhere: listed, not loaded); exit 0 either way
#   mnesia-ctl.sh event DATA TEXT        exit 0 when the node's DATA/events.log holds TEXT
#   mnesia-ctl.sh pick NODES EXPECT      the runbook's master choice ("most recent data":
#                                        mnesia:table_info(kv, size) on each node of NODES,
#                                        n1=ADDR:PORT,...): prints the sizes, exit 0 when the
#                                        largest is on a node of EXPECT (names, a,b: one
#                                        side of a partition, whose members may differ by
#                                        the writes in flight)
#   mnesia-ctl.sh backup ADDR FILE       mnesia:backup(FILE) there; exit 0 on ok, with ls -l FILE
#   mnesia-ctl.sh restore ADDR FILE      mnesia:restore(FILE, [{default_op, recreate_tables}])
#                                        there (the runbook's); exit 0 on {atomic, _}
#   mnesia-ctl.sh writes ADDR on|off     cdmnesia takes sets, or refuses them (the runbook's
#                                        application:start / application:stop)
#   mnesia-ctl.sh agree NODES            check-online: every node of NODES (n1=ADDR:PORT,...)
#                                        holds the same kv ({size, hash} of its local copy),
#                                        within 5 s (the last writes may be in flight)
#   mnesia-ctl.sh rejoin MASTER ADDR...  on MASTER: change_config(extra_db_nodes, [...])
set -u
erl_call=/usr/lib/erlang/bin/erl_call
[ -x "$erl_call" ] || erl_call=erl_call
what=$1 addr=$2
shift 2
node=chaosdrill@$addr
call() { "$erl_call" -c chaosdrill -n "$node" -timeout "${T:-5}" -a "$@"; }
case $what in
ready)
	out=$(T=2 call 'cdmnesia ready [500]' 2>&1)
	echo "$out"
	[ "$out" = ok ] ;;
running)
	out=$(T=2 call 'mnesia system_info [is_running]' 2>&1)
	echo "$out"
	[ "$out" = yes ] ;;
call)
	echo "$*" | "$erl_call" -c chaosdrill -n "$node" -timeout 30 -e ;;
tables)
	out=$(echo "{mnesia:system_info(tables), mnesia:table_info(kv, where_to_read)}." |
		"$erl_call" -c chaosdrill -n "$node" -timeout 5 -e) || { echo "$out"; exit 1; }
	echo "mnesia:system_info(tables) and where kv is read from: $out"
	case $out in *nowhere*) echo "kv is listed but NOT loaded on $node (no copy readable yet: Mnesia waits for a node that holds a copy as recent as its own)" ;; esac ;;
event)
	grep -F -- "$1" "$addr/events.log" ;;
pick)
	best='' bestn='' line=''
	for m in $(echo "$addr" | tr , ' '); do
		n=${m%%=*} hp=${m#*=}
		node=chaosdrill@${hp%:*}
		s=$(T=5 call 'cdmnesia table_size []' 2>&1)
		line="$line $n=$s"
		case $s in *[!0-9]*|'') continue ;; esac
		if [ -z "$best" ] || [ "$s" -gt "$best" ]; then best=$s bestn=$n; fi
	done
	echo "mnesia:table_info(kv, size):$line; the runbook's master (largest): $bestn"
	case ",$1," in *",$bestn,"*) ;; *) echo "the drill assumed $1"; exit 1 ;; esac ;;
agree)
	# a plain mnesia:transaction returns before the other replicas applied it: the last
	# writes of the workload may still be on their way, so the copies get 5 s to agree
	tries=0
	while :; do
		first='' bad=0 out=''
		for m in $(echo "$addr" | tr , ' '); do
			n=${m%%=*} hp=${m#*=}
			node=chaosdrill@${hp%:*}
			d=$(T=30 call 'cdmnesia digest []' 2>&1)
			out="$out$n: kv {size, hash} = $d
"
			case $d in "{"[0-9]*) ;; *) bad=1 ;; esac
			[ -z "$first" ] && first=$d
			[ "$d" = "$first" ] || bad=1
		done
		tries=$((tries + 1))
		[ $bad = 0 ] && { printf '%s' "$out"; [ $tries = 1 ] || echo "(agreed at try $tries)"; exit 0; }
		if [ $tries -ge 20 ]; then
			printf '%s' "$out"
			echo "the nodes' copies of kv differ (after $tries tries, 5 s):"
			addrs=
			for m in $(echo "$addr" | tr , ' '); do hp=${m#*=}; addrs="${addrs:+$addrs, }\"${hp%:*}\""; done
			node=chaosdrill@$(echo "$addr" | sed 's/^[^=]*=\([^:]*\):.*/\1/')
			T=30 call "cdmnesia missing [[$addrs]]" | sed 's/^"//; s/"$//; s/\\n/\n/g' 
			exit 1
		fi
		sleep 0.25
	done ;;
writes)
	v=false; [ "$1" = on ] && v=true
	out=$(T=5 call "cdmnesia writes [$v]" 2>&1)
	echo "on $node: cdmnesia:writes($v) -> $out"
	[ "$out" = ok ] ;;
backup)
	out=$(echo "mnesia:backup(\"$1\")." | "$erl_call" -c chaosdrill -n "$node" -timeout 30 -e)
	echo "on $node: mnesia:backup(\"$1\") -> $out"
	[ "$out" = "{ok, ok}" ] && ls -l "$1" ;;
restore)
	out=$(echo "mnesia:restore(\"$1\", [{default_op, recreate_tables}])." |
		"$erl_call" -c chaosdrill -n "$node" -timeout 60 -e)
	echo "on $node: mnesia:restore(\"$1\", [{default_op, recreate_tables}]) -> $out"
	case $out in *"{atomic,"*) ;; *) exit 1 ;; esac ;;
rejoin)
	list=
	for a in "$@"; do list="${list:+$list, }'chaosdrill@$a'"; done
	out=$(echo "mnesia:change_config(extra_db_nodes, [$list])." |
		"$erl_call" -c chaosdrill -n "$node" -timeout 10 -e)
	echo "on $node: mnesia:change_config(extra_db_nodes, [$list]) -> $out"
	case $out in *"{ok,"*) ;; *) exit 1 ;; esac ;;
*) echo "mnesia-ctl.sh: unknown command $what" >&2; exit 2 ;;
esac
