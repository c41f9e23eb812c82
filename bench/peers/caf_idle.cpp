/* caf_idle.cpp — peer: resident memory of live idle CAF 0.17 actors.
 *
 * Purpose: the CAF side of bench "idle_memory". Spawns BENCH_N
 * event-based actors (default 1,000,000), sends each one message (so every
 * actor has started and run a handler once, like bench/rt_idle.c), waits
 * until all have handled it, lets the process settle and prints
 * "bytes_per_actor <(RSS after - RSS before) / N>". The handle array is
 * allocated and touched before the first RSS reading, so it is not
 * counted (CAF needs the handles: an unreferenced actor is destroyed).
 *
 * Exports: main (via CAF_MAIN). Threads: CAF workers; main spawns and
 * waits on an atomic counter.
 */
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "caf/all.hpp"

extern "C" {
#include "../bench_util.h"
}

using namespace caf;

using touch_atom = atom_constant<atom("touch")>;

/* Count of actors that handled their touch; relaxed is enough: main only
 * needs to see the count reach N eventually, it reads no other data. */
static std::atomic<int64_t> touched{0};

static behavior idle_fun(event_based_actor *)
{
    return {
        [](touch_atom) { touched.fetch_add(1, std::memory_order_relaxed); },
    };
}

static void caf_main(actor_system &sys)
{
    int64_t n = bench_env_long("BENCH_N", 1000000);
    std::vector<actor> handles(n); /* touched now, before the baseline */
    bench_settle();
    uint64_t rss0 = bench_rss_bytes();
    for (int64_t i = 0; i < n; i++) {
        handles[i] = sys.spawn(idle_fun);
        anon_send(handles[i], touch_atom::value);
    }
    while (touched.load(std::memory_order_relaxed) < n)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    bench_settle();
    uint64_t rss1 = bench_rss_bytes();
    printf("bytes_per_actor %.0f\n", (double)(rss1 - rss0) / (double)n);
    fflush(stdout);
    for (auto &h : handles)
        anon_send_exit(h, exit_reason::user_shutdown);
}

CAF_MAIN()
