%% erl_skynet.erl — peer: the skynet benchmark with Erlang processes.
%%
%% Purpose: the Erlang side of bench "skynet". The root process spawns 10
%% children, each of which spawns 10 more, down to 1,000,000 leaves
%% (1,111,111 processes in all); a leaf sends its ordinal to its parent,
%% an inner node sums its 10 children's messages and sends the sum up.
%% Prints "seconds <wall time>" and "sum <result>". Run with +P above the
%% process count and +S set to the worker count used by the other
%% runtimes (bench/runtime.sh does both).
%%
%% Exports: main/0 (reads BENCH_N, default 1,000,000 leaves).
%% Threads: the BEAM schedulers.
-module(erl_skynet).
-export([main/0]).

node(Parent, Num, 1, _Div) ->
    Parent ! {sum, Num};
node(Parent, Num, Size, Div) ->
    Self = self(),
    Sub = Size div Div,
    spawn_children(Self, Num, Sub, Div, 0),
    Parent ! {sum, collect(Div, 0)}.

spawn_children(_Self, _Num, _Sub, Div, Div) ->
    ok;
spawn_children(Self, Num, Sub, Div, I) ->
    Start = Num + I * Sub,
    spawn(fun() -> node(Self, Start, Sub, Div) end),
    spawn_children(Self, Num, Sub, Div, I + 1).

collect(0, Sum) ->
    Sum;
collect(K, Sum) ->
    receive {sum, V} -> collect(K - 1, Sum + V) end.

leaves() ->
    case os:getenv("BENCH_N") of
        false -> 1000000;
        "" -> 1000000;
        S -> list_to_integer(S)
    end.

main() ->
    N = leaves(),
    Self = self(),
    T0 = erlang:monotonic_time(nanosecond),
    spawn(fun() -> node(Self, 0, N, 10) end),
    Sum = receive {sum, V} -> V end,
    T1 = erlang:monotonic_time(nanosecond),
    io:format("seconds ~.6f~nsum ~w~n", [(T1 - T0) / 1.0e9, Sum]).
