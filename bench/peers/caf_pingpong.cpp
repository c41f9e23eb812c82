/* caf_pingpong.cpp — peer: ping-pong between two CAF 0.17 actors.
 *
 * Purpose: the CAF side of bench "pingpong". A ping actor and a pong actor
 * bounce BENCH_BALLS balls (default 1) until BENCH_N round trips
 * (default 1,000,000) are done; every hop is one plain asynchronous send
 * (no request/response machinery), the same as bench/rt_pingpong.c.
 * Prints "throughput <messages per second>" (both directions counted).
 * CAF places the actors itself (work-stealing scheduler with
 * BENCH_THREADS workers, default 2); it cannot pin an actor to a worker.
 *
 * Exports: main (via CAF_MAIN). Threads: the CAF scheduler's workers and
 * main; main only waits for the "done" message on a scoped actor.
 */
#include <cstdint>
#include <cstdio>

#include "caf/all.hpp"

extern "C" {
#include "../bench_util.h"
}

using namespace caf;

using ball_atom = atom_constant<atom("ball")>;
using go_atom = atom_constant<atom("go")>;
using done_atom = atom_constant<atom("done")>;

/* pong: send every ball straight back to whoever sent it. */
static behavior pong_fun(event_based_actor *self)
{
    return {
        [=](ball_atom, int64_t n) {
            self->send(actor_cast<actor>(self->current_sender()), ball_atom::value, n);
        },
    };
}

struct ping_state {
    int64_t left = 0; /* round trips still to start */
    int64_t out = 0;  /* balls in flight */
};

/* ping: start `balls` balls on go; count round trips; report done. */
static behavior ping_fun(stateful_actor<ping_state> *self, actor pong,
                         actor done, int64_t n, int64_t balls)
{
    self->state.left = n;
    return {
        [=](go_atom) {
            for (int64_t i = 0; i < balls && self->state.left > 0; i++) {
                self->state.left--;
                self->state.out++;
                self->send(pong, ball_atom::value, i);
            }
        },
        [=](ball_atom, int64_t b) {
            if (self->state.left > 0) {
                self->state.left--;
                self->send(pong, ball_atom::value, b);
            } else if (--self->state.out == 0) {
                self->send(done, done_atom::value);
                self->quit();
            }
        },
    };
}

static void caf_main(actor_system &sys)
{
    int64_t n = bench_env_long("BENCH_N", 1000000);
    int64_t balls = bench_env_long("BENCH_BALLS", 1);
    scoped_actor waiter{sys};
    auto pong = sys.spawn(pong_fun);
    auto ping = sys.spawn(ping_fun, pong, actor_cast<actor>(waiter), n, balls);
    uint64_t t0 = bench_now_ns();
    anon_send(ping, go_atom::value);
    waiter->receive([](done_atom) {});
    uint64_t t1 = bench_now_ns();
    anon_send_exit(pong, exit_reason::user_shutdown);
    printf("throughput %.0f\n", 2.0 * (double)n / ((double)(t1 - t0) / 1e9));
    fflush(stdout);
}

CAF_MAIN()
