%% erl_idle.erl — peer: resident memory of live idle Erlang processes.
%%
%% Purpose: the Erlang side of bench "idle_memory". Spawns BENCH_N
%% processes (default 1,000,000); each receives one message (so it has
%% run, like the actors of the other runtimes), counts itself in a shared
%% atomic counter (a message to main would pile up 1M acks in one mailbox,
%% which BEAM garbage-collects quadratically) and then waits in receive
%% forever. Prints "bytes_per_actor <(RSS after - RSS
%% before) / N>", RSS read from /proc/self/statm of the BEAM process.
%% Processes need no handle to stay alive, so none is kept.
%%
%% Exports: main/0. Threads: the BEAM schedulers.
-module(erl_idle).
-export([main/0]).

rss() ->
    {ok, B} = file:read_file("/proc/self/statm"),
    [_Size, Res | _] = string:lexemes(binary_to_list(B), " \n"),
    list_to_integer(Res) * 4096.

idle(Ctr) ->
    receive touch -> counters:add(Ctr, 1, 1) end,
    wait().

wait() ->
    receive _ -> wait() end.

spawn_all(_Ctr, 0) ->
    ok;
spawn_all(Ctr, K) ->
    P = spawn(fun() -> idle(Ctr) end),
    P ! touch,
    spawn_all(Ctr, K - 1).

await(Ctr, N) ->
    case counters:get(Ctr, 1) >= N of
        true -> ok;
        false -> timer:sleep(1), await(Ctr, N)
    end.

count() ->
    case os:getenv("BENCH_N") of
        false -> 1000000;
        "" -> 1000000;
        S -> list_to_integer(S)
    end.

main() ->
    N = count(),
    erlang:garbage_collect(),
    timer:sleep(200),
    Ctr = counters:new(1, [atomics]),
    R0 = rss(),
    spawn_all(Ctr, N),
    await(Ctr, N),
    erlang:garbage_collect(),
    timer:sleep(200),
    R1 = rss(),
    io:format("bytes_per_actor ~w~n", [round((R1 - R0) / N)]).
