/* caf_fanin.cpp — peer: many producers sending to one CAF 0.17 actor.
 *
 * Purpose: the CAF side of bench "fanin". BENCH_PRODUCERS producer actors
 * (default 4) each send BENCH_N messages (default 1,000,000) to one sink
 * actor, in chunks of BENCH_CHUNK (default 1000) sends per handler run,
 * continuing with a message to themselves so the scheduler can interleave
 * (the same shape as bench/rt_fanin.c). The clock runs from the go
 * messages to the sink having counted every message. Prints
 * "throughput <messages per second>".
 *
 * Exports: main (via CAF_MAIN). Threads: CAF workers; main waits on a
 * scoped actor.
 */
#include <cstdint>
#include <cstdio>
#include <vector>

#include "caf/all.hpp"

extern "C" {
#include "../bench_util.h"
}

using namespace caf;

using item_atom = atom_constant<atom("item")>;
using go_atom = atom_constant<atom("go")>;
using done_atom = atom_constant<atom("done")>;

struct sink_state {
    int64_t seen = 0;
};

/* sink: count items; tell `done` when `total` arrived. */
static behavior sink_fun(stateful_actor<sink_state> *self, actor done, int64_t total)
{
    return {
        [=](item_atom, int64_t) {
            if (++self->state.seen == total) {
                self->send(done, done_atom::value);
                self->quit();
            }
        },
    };
}

struct producer_state {
    int64_t left = 0;
};

/* producer: on go, send up to `chunk` items, then go again to itself. */
static behavior producer_fun(stateful_actor<producer_state> *self, actor sink,
                             int64_t n, int64_t chunk)
{
    self->state.left = n;
    return {
        [=](go_atom) {
            int64_t k = self->state.left < chunk ? self->state.left : chunk;
            for (int64_t i = 0; i < k; i++)
                self->send(sink, item_atom::value, i);
            self->state.left -= k;
            if (self->state.left > 0)
                self->send(self, go_atom::value);
            else
                self->quit();
        },
    };
}

static void caf_main(actor_system &sys)
{
    int64_t n = bench_env_long("BENCH_N", 1000000);
    int64_t np = bench_env_long("BENCH_PRODUCERS", 4);
    int64_t chunk = bench_env_long("BENCH_CHUNK", 1000);
    scoped_actor waiter{sys};
    auto sink = sys.spawn(sink_fun, actor_cast<actor>(waiter), n * np);
    std::vector<actor> producers;
    for (int64_t i = 0; i < np; i++)
        producers.push_back(sys.spawn(producer_fun, sink, n, chunk));
    uint64_t t0 = bench_now_ns();
    for (auto &p : producers)
        anon_send(p, go_atom::value);
    waiter->receive([](done_atom) {});
    uint64_t t1 = bench_now_ns();
    printf("throughput %.0f\n", (double)(n * np) / ((double)(t1 - t0) / 1e9));
    fflush(stdout);
}

CAF_MAIN()
