%% erl_pingpong.erl — peer: ping-pong between two Erlang processes.
%%
%% Purpose: the Erlang side of bench "pingpong" (a second peer beside CAF).
%% A ping process and a pong process bounce BENCH_BALLS balls (default 1)
%% until BENCH_N round trips (default 1,000,000) are done; every hop is
%% one `!` send. Prints "throughput <messages per second>" (both
%% directions counted). BEAM places the processes itself (+S schedulers).
%%
%% Exports: main/0. Threads: the BEAM schedulers.
-module(erl_pingpong).
-export([main/0]).

env(Name, Default) ->
    case os:getenv(Name) of
        false -> Default;
        "" -> Default;
        S -> list_to_integer(S)
    end.

pong() ->
    receive
        {ball, From, B} -> From ! {ball, self(), B}, pong();
        stop -> ok
    end.

%% Left: round trips still to start; Out: balls in flight.
ping(_Pong, Main, 0, 0) ->
    Main ! done;
ping(Pong, Main, Left, Out) ->
    receive
        {ball, _From, B} when Left > 0 ->
            Pong ! {ball, self(), B},
            ping(Pong, Main, Left - 1, Out);
        {ball, _From, _B} ->
            ping(Pong, Main, 0, Out - 1)
    end.

start(Pong, Main, N, Balls) ->
    K = min(N, Balls),
    Self = self(),
    [Pong ! {ball, Self, I} || I <- lists:seq(1, K)],
    ping(Pong, Main, N - K, K).

main() ->
    N = env("BENCH_N", 1000000),
    Balls = env("BENCH_BALLS", 1),
    Main = self(),
    Pong = spawn(fun pong/0),
    T0 = erlang:monotonic_time(nanosecond),
    spawn(fun() -> start(Pong, Main, N, Balls) end),
    receive done -> ok end,
    T1 = erlang:monotonic_time(nanosecond),
    Pong ! stop,
    io:format("throughput ~w~n", [round(2 * N / ((T1 - T0) / 1.0e9))]).
