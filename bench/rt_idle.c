/* rt_idle.c — our side of bench "idle_memory": RSS per live idle actor.
 *
 * Purpose: creates BENCH_N actors (default 1,000,000), sends each one
 * message and waits until all have handled it, so every actor is live,
 * has run once and sits idle, like the peers' actors
 * (bench/peers/caf_idle.cpp, go_idle.go, erl_idle.erl). Prints
 * "bytes_per_actor <(RSS after - RSS before) / N>". The runtime is
 * started and the reference array allocated and touched before the first
 * RSS reading, so neither is counted.
 *
 * Mode (argv[1]): "anon" (default) — keyless actors from rt_spawn, the
 * equivalent of a CAF spawn or an Erlang spawn; "keyed" — virtual actors
 * activated by rt_send_key("k0000000"...), which also pay for the key and
 * the directory entry. Both kinds have state_size 0 and never passivate.
 *
 * Env: BENCH_N, BENCH_THREADS (default 2).
 *
 * Exports: main. Threads: main creates the actors and polls a counter;
 * the touch handler runs on the workers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "rt.h"

enum { ID_TOUCH = RT_MSG_USER };

/* Actors that handled their touch. Relaxed: main only waits for the count
 * to reach N and reads no data the handlers wrote. */
static _Atomic int64_t id_touched;

static int id_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == ID_TOUCH)
        atomic_fetch_add_explicit(&id_touched, 1, memory_order_relaxed);
    return RT_OK;
}

static const rt_kind_t id_anon_kind = {
    .name = "bench_idle", .state_size = 0, .idle_age_ms = 0, .handle = id_handle,
};
static const rt_kind_t id_keyed_kind = {
    .name = "bench_idle_keyed", .state_size = 0, .idle_age_ms = 0, .handle = id_handle,
};

int main(int argc, char **argv)
{
    int64_t n = bench_env_long("BENCH_N", 1000000);
    int threads = (int)bench_env_long("BENCH_THREADS", 2);
    int keyed = argc > 1 && strcmp(argv[1], "keyed") == 0;
    if (argc > 1 && !keyed && strcmp(argv[1], "anon") != 0) {
        fprintf(stderr, "usage: rt_idle [anon|keyed]\n");
        return 2;
    }
    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 1u << 30};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    if (!rt || rt_kind_register(rt, &id_anon_kind) != RT_OK ||
        rt_kind_register(rt, &id_keyed_kind) != RT_OK || rt_runtime_start(rt) != RT_OK) {
        fprintf(stderr, "rt_idle: runtime start failed\n");
        return 1;
    }
    rt_ref_t *refs = NULL;
    if (!keyed) {
        refs = malloc((size_t)n * sizeof *refs);
        if (!refs)
            return 1;
        memset(refs, 0, (size_t)n * sizeof *refs); /* touched before the baseline */
    }
    bench_settle();
    uint64_t rss0 = bench_rss_bytes();
    for (int64_t i = 0; i < n; i++) {
        rt_msg_t *m = rt_msg_new(ID_TOUCH, 0);
        int rc;
        if (!m)
            return 1;
        if (keyed) {
            char key[24];
            snprintf(key, sizeof key, "k%07lld", (long long)i);
            rc = rt_send_key(rt, &id_keyed_kind, key, m);
        } else {
            rc = rt_spawn(rt, &id_anon_kind, &refs[i]);
            if (rc == RT_OK)
                rc = rt_send(rt, refs[i], m);
            else
                rt_msg_free(m);
        }
        if (rc != RT_OK) {
            fprintf(stderr, "rt_idle: actor %lld: %s\n", (long long)i, rt_strerror(rc));
            return 1;
        }
    }
    while (atomic_load_explicit(&id_touched, memory_order_relaxed) < n) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    bench_settle();
    uint64_t rss1 = bench_rss_bytes();
    printf("bytes_per_actor %.0f\n", (double)(rss1 - rss0) / (double)n);
    fflush(stdout);
    rt_runtime_stop(rt, 5000);
    rt_runtime_free(rt);
    free(refs);
    return 0;
}
