%% cdmnesia: chaosdrill's Mnesia node (targets/mnesia). One Erlang node per lab node holds
%% the table kv (disc_copies or ram_copies on every node of the cluster) and serves the
%% line protocol of adapters (docs/adapters.md) over TCP, so that line-relay drives it:
%%   `ID ping` -> `ID ok`; `ID set KEY VALUE` -> one mnesia:transaction, then `ID ok`,
%%   `ID fail TEXT` (aborted: not applied) or `ID unknown TEXT`; `ID read_all` -> `ID kv K V`
%%   lines closed by `ID ok COUNT` (a dirty select of the local copy).
%% ack=sync acknowledges a set only after mnesia:sync_log() (disk_log:sync of LATEST.LOG,
%% an fsync) ran after its commit: one syncer process batches them (group commit).
%% ack=sync-log: the same with sync_log alone (no directory sync after a log switch).
%% ack=commit acknowledges at commit: Mnesia handed the commit record to disk_log
%% asynchronously (alog), so it may still be in the VM, or in the page cache (the unsafe
%% variant: iris-node-crash.yaml and iris-power-loss.yaml fail with it).
%% Bootstrap: with no schema.DAT in the Mnesia dir, the seed (first node of the drill,
%% unless bootstrap=join) creates the schema and the table; every other node joins the
%% running ones (extra_db_nodes) and takes disc copies. With a schema it just starts Mnesia
%% and lets it load the tables. It pings the other nodes every second (an edge's reconnect
%% after a partition heals), and logs Mnesia's system events to stderr and DATA/events.log
%% ({inconsistent_database, running_partitioned_network, Node} among them).
%% Started by mnesia-node.sh with -s cdmnesia start; mnesia-ctl.sh calls ready/1,
%% table_size/0, digest/0, missing/1 and writes/1 through erl_call. Any crash of the
%% start-up or of a helper halts the node with exit 1, saying why.
-module(cdmnesia).
-include_lib("kernel/include/file.hrl").
-export([start/0, ready/1, table_size/0, digest/0, missing/1, writes/1]).

arg(Name) ->
    case init:get_argument(Name) of
        {ok, [[V | _] | _]} -> V;
        _ -> erlang:error({missing_argument, Name})
    end.

start() ->
    Pid = spawn(fun() ->
                        try main()
                        catch C:E:St -> fatal("~p:~p at ~p", [C, E, St])
                        end
                end),
    register(cdmnesia, Pid),
    ok.

log(Fmt, Args) ->
    Line = io_lib:format("cdmnesia ~s: " ++ Fmt ++ "~n", [node() | Args]),
    io:put_chars(standard_error, Line).

fatal(Fmt, Args) ->
    log(Fmt, Args),
    erlang:halt(1).

%% {nodes}: n1=ADDR:PORT,... -> [{n1, 'chaosdrill@ADDR'}]
peers() ->
    [begin
         [Name, HP] = string:split(E, "="),
         [Addr | _] = string:split(HP, ":", trailing),
         {Name, list_to_atom("chaosdrill@" ++ Addr)}
     end || E <- string:lexemes(arg(cdm_nodes), ",")].

main() ->
    process_flag(trap_exit, true),
    Data = arg(cdm_data),
    Dir = Data ++ "/mnesia",
    Type = list_to_atom(arg(cdm_copies)),
    Majority = arg(cdm_majority) =:= "true",
    Peers = peers(),
    writes(arg(cdm_writes) =:= "on"),
    Others = [N || {_, N} <- Peers, N =/= node()],
    Seed = case Peers of
               [{_, S} | _] -> S =:= node() andalso arg(cdm_bootstrap) =/= "join";
               [] -> true
           end,
    Fresh = not filelib:is_regular(filename:join(Dir, "schema.DAT")),
    log("~s, ~s, seed ~p, copies ~p, majority ~p, ack ~s", [Dir,
        if Fresh -> "no schema yet"; true -> "existing schema" end, Seed, Type, Majority,
        arg(cdm_ack)]),
    %% also for a node that joins with a schema in RAM first: its disc copies go there
    ok = filelib:ensure_dir(Dir ++ "/"),
    if Fresh andalso Seed ->
            case mnesia:create_schema([node()]) of
                ok -> ok;
                E1 -> fatal("create_schema: ~p", [E1])
            end,
            ok = mnesia:start(),
            subscribe(Data),
            case mnesia:create_table(kv, [{Type, [node()]}, {attributes, [k, v]},
                                          {majority, Majority}]) of
                {atomic, ok} -> ok;
                E2 -> fatal("create_table: ~p", [E2])
            end;
       Fresh ->
            ok = mnesia:start(),
            subscribe(Data),
            join(Others, Type);
       true ->
            ok = mnesia:start(),
            subscribe(Data)
    end,
    spawn_link(fun() -> pinger(Others) end),
    Syncer = spawn_link(fun syncer/0),
    register(cdm_syncer, Syncer),
    {ok, Ip} = inet:parse_address(arg(cdm_addr)),
    Port = list_to_integer(arg(cdm_port)),
    case gen_tcp:listen(Port, [binary, {ip, Ip}, {packet, line}, {buffer, 1 bsl 20},
                               {recbuf, 1 bsl 18}, {active, false}, {reuseaddr, true},
                               {nodelay, true}, {backlog, 256}]) of
        {ok, L} ->
            log("serving on ~s:~b", [arg(cdm_addr), Port]),
            spawn_link(fun() -> acceptor(L) end),
            loop();
        E3 ->
            fatal("listen ~s:~b: ~p", [arg(cdm_addr), Port, E3])
    end.

loop() ->
    receive
        {'EXIT', _, Why} -> fatal("a helper died: ~p", [Why]);
        _ -> loop()
    end.

%% A fresh node that is not the seed: until it is connected to a node that has the table
%% kv (the seed may start after it, or the runbook's change_config on the master connects
%% it), try to connect to the others; then take disc copies of the schema and of kv.
join(Others, Type) ->
    R = mnesia:change_config(extra_db_nodes, Others),
    case lists:member(kv, mnesia:system_info(tables)) of
        true ->
            log("joined: ~p, running with ~p", [R, mnesia:system_info(running_db_nodes)]),
            copy(schema, disc_copies),
            copy(kv, Type);
        false ->
            timer:sleep(300),
            join(Others, Type)
    end.

copy(schema, T) ->
    case mnesia:change_table_copy_type(schema, node(), T) of
        {atomic, ok} -> ok;
        {aborted, {already_exists, _, _, _}} -> ok;
        E -> fatal("schema to ~p: ~p", [T, E])
    end;
copy(Tab, T) ->
    case mnesia:add_table_copy(Tab, node(), T) of
        {atomic, ok} -> ok;
        {aborted, {already_exists, _, _}} -> ok;
        E -> fatal("add_table_copy ~p: ~p", [Tab, E])
    end.

subscribe(Data) ->
    Self = self(),
    spawn_link(fun() ->
                       {ok, _} = mnesia:subscribe(system),
                       Self ! subscribed,
                       events(filename:join(Data, "events.log"))
               end),
    receive subscribed -> ok after 5000 -> fatal("no mnesia subscription", []) end.

events(File) ->
    receive
        {mnesia_system_event, {mnesia_fatal, Fmt, Args, _Core}} ->
            %% Mnesia stops itself: so does the node, saying why (not a node that is up
            %% and serves nothing)
            fatal("mnesia_fatal: " ++ Fmt, Args);
        {mnesia_system_event, Ev} ->
            log("mnesia system event ~w", [Ev]),
            Line = io_lib:format("~s ~w~n", [calendar:system_time_to_rfc3339(
                                               erlang:system_time(millisecond),
                                               [{unit, millisecond}]), Ev]),
            file:write_file(File, Line, [append]),
            events(File);
        _ -> events(File)
    end.

pinger(Others) ->
    [net_adm:ping(N) || N <- Others, not lists:member(N, nodes())],
    timer:sleep(1000),
    pinger(Others).

%% Group commit of the log: every set that committed asks; one sync_log answers all the
%% requests queued meanwhile. sync_log is disk_log:sync of LATEST.LOG: an fsync of that
%% file only. A log dump (every dump_log_write_threshold commits) renames LATEST.LOG to
%% PREVIOUS.LOG, creates a new LATEST.LOG and writes kv.DCL, and Mnesia syncs neither those
%% files nor the directory: a power cut then undoes the switch and loses what the new log
%% held, synced or not (iris-power-loss.yaml found it). So when LATEST.LOG is a new file
%% since the last look, the syncer also syncs every file of the Mnesia dir and the dir
%% itself (coreutils sync, one fork per dump) before it answers.
%% ack=sync-log skips that (sync_log alone: what Mnesia itself offers).
syncer() ->
    case arg(cdm_ack) of
        "sync-log" -> syncer(never);
        _ -> syncer(undefined)
    end.

syncer(Inode) ->
    receive
        {sync, From} ->
            Waiting = drain([From]),
            R = mnesia:sync_log(),
            Dir = mnesia:system_info(directory),
            Now = case Inode =/= never andalso file:read_file_info(filename:join(Dir, "LATEST.LOG")) of
                      {ok, #file_info{inode = I}} -> I;
                      _ -> undefined
                  end,
            R2 = if Inode =:= never -> R;
                    Now =/= Inode -> sync_dir(Dir);
                    true -> R
                 end,
            [W ! {synced, if R =:= ok -> R2; true -> R end} || W <- Waiting],
            syncer(if Inode =:= never -> never; R2 =:= ok -> Now; true -> Inode end)
    end.

sync_dir(Dir) ->
    %% a file the dumper deletes meanwhile is no error: the directory's sync decides
    case os:cmd("cd '" ++ Dir ++ "' && { sync -- * 2>/dev/null; sync -- . 2>&1; echo $?; }") of
        "0\n" -> ok;
        Out -> {sync_dir, string:trim(Out)}
    end.

drain(Acc) ->
    receive {sync, From} -> drain([From | Acc]) after 0 -> Acc end.

acceptor(L) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive go -> conn(S) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! go,
            acceptor(L);
        {error, E} ->
            fatal("accept: ~p", [E])
    end.

conn(S) ->
    inet:setopts(S, [{active, once}]),
    conn_loop(S, arg(cdm_ack) =/= "commit").

conn_loop(S, Sync) ->
    receive
        {tcp, S, Line} ->
            handle(S, Sync, string:trim(Line, trailing, "\r\n")),
            inet:setopts(S, [{active, once}]),
            conn_loop(S, Sync);
        {reply, Bin} ->
            gen_tcp:send(S, Bin),
            conn_loop(S, Sync);
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> ok
    end.

handle(S, Sync, Line) ->
    Self = self(),
    case binary:split(Line, <<" ">>, [global]) of
        [Id, <<"ping">>] ->
            gen_tcp:send(S, [Id, <<" ok\n">>]);
        [Id, <<"set">>, K, V] ->
            spawn(fun() -> Self ! {reply, [Id, $\s, set(K, V, Sync), $\n]} end);
        [Id, <<"read_all">>] ->
            spawn(fun() -> Self ! {reply, read_all(Id)} end);
        [Id | _] ->
            gen_tcp:send(S, [Id, <<" fail unknown request\n">>]);
        _ -> ok
    end.

%% writes(false): the runbook's application:stop(iris_core) before a restore: every set is
%% refused (`fail`) until writes(true), its application:start.
writes(On) when is_boolean(On) ->
    persistent_term:put(cdm_writes, On).

set(K, V, Sync) ->
    case persistent_term:get(cdm_writes) of
        true -> set1(K, V, Sync);
        false -> <<"fail writes stopped (the application is stopped)">>
    end.

set1(K, V, Sync) ->
    case mnesia:transaction(fun() -> mnesia:write({kv, K, V}) end) of
        {atomic, ok} when Sync ->
            cdm_syncer ! {sync, self()},
            receive
                {synced, ok} -> <<"ok">>;
                {synced, E} -> ["unknown sync_log: ", text(E)]
            after 10000 -> <<"unknown sync_log timed out">>
            end;
        {atomic, ok} -> <<"ok">>;
        {aborted, {no_majority, _} = R} -> ["fail ", text(R)];
        {aborted, {no_exists, _} = R} -> ["fail ", text(R)];
        {aborted, R} -> ["unknown aborted ", text(R)]
    end.

text(T) ->
    re:replace(io_lib:format("~0p", [T]), "[\s\n]+", "_", [global]).

read_all(Id) ->
    try mnesia:dirty_select(kv, [{{kv, '$1', '$2'}, [], [{{'$1', '$2'}}]}]) of
        KVs ->
            [[[Id, <<" kv ">>, K, $\s, V, $\n] || {K, V} <- KVs],
             Id, <<" ok ">>, integer_to_binary(length(KVs)), $\n]
    catch
        exit:{aborted, R} -> [Id, <<" fail ">>, text(R), $\n]
    end.

%% Probes, through erl_call.
%% ready(Ms): the tables are loaded here (wait_for_tables with a short timeout).
ready(Ms) ->
    case lists:member(mnesia, [A || {A, _, _} <- application:which_applications()]) of
        false -> not_running;
        true -> mnesia:wait_for_tables([schema, kv], Ms)
    end.

%% table_size(): this node's view of kv's size (the runbook's "most recent data" test).
table_size() ->
    mnesia:table_info(kv, size).

%% digest(): kv's local copy as {Size, Hash}, for check-online (the replicas agree).
digest() ->
    L = lists:sort(mnesia:dirty_select(kv, [{'_', [], ['$_']}])),
    {length(L), erlang:phash2(L)}.

%% missing(Addrs): the keys of kv that some of the nodes chaosdrill@Addr lack, as text
%% ("w1512 missing on chaosdrill@10.213.0.3"), at most 20 lines.
missing(Addrs) ->
    Nodes = [list_to_atom("chaosdrill@" ++ A) || A <- Addrs],
    Sets = [{N, case rpc:call(N, mnesia, dirty_all_keys, [kv]) of
                    L when is_list(L) -> sets:from_list(L);
                    _ -> sets:new()
                end} || N <- Nodes],
    All = lists:usort(lists:append([sets:to_list(S) || {_, S} <- Sets])),
    Lines = [io_lib:format("~s missing on ~s~n", [K, lists:join(" ", [atom_to_list(N) || N <- Lack])])
             || K <- All,
                Lack <- [[N || {N, S} <- Sets, not sets:is_element(K, S)]],
                Lack =/= []],
    lists:flatten(lists:sublist(Lines, 20)).
