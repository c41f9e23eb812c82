/* rt_fanin.c — our side of bench "fanin": many producers, one sink actor.
 *
 * Purpose: BENCH_PRODUCERS producer actors (default 4) each send BENCH_N
 * messages (default 1,000,000) to one sink actor, BENCH_CHUNK (default
 * 1000) sends per handler run, continuing with a message to themselves
 * (the same shape as bench/peers/caf_fanin.cpp). Actors are placed by
 * rt_spawn (the runtime's own placement), as CAF places its own. The
 * clock runs from the go messages to the sink having counted every
 * message. Prints "throughput <messages per second>".
 *
 * Env: BENCH_N, BENCH_PRODUCERS, BENCH_CHUNK, BENCH_THREADS (default 2).
 *
 * Exports: main. Threads: main sets up and waits on a semaphore; the
 * handlers run on the workers.
 */
#include <semaphore.h>
#include <stdio.h>

#include "bench_util.h"
#include "rt.h"

enum { FI_GO = RT_MSG_USER, FI_ITEM };

static rt_ref_t fi_sink_ref; /* written by main before any go is sent */
static int64_t fi_n, fi_chunk, fi_total;
static sem_t fi_done;

typedef struct fi_sink {
    int64_t seen;
} fi_sink_t;

typedef struct fi_producer {
    int64_t left;
    int started;
} fi_producer_t;

static int fi_sink_handle(rt_actor_t *self, const rt_msg_t *m)
{
    fi_sink_t *s = rt_self_state(self);
    if (m->type == FI_ITEM && ++s->seen == fi_total)
        sem_post(&fi_done);
    return RT_OK;
}

static int fi_producer_handle(rt_actor_t *self, const rt_msg_t *m)
{
    fi_producer_t *s = rt_self_state(self);
    rt_runtime_t *rt = rt_self_runtime(self);
    if (m->type != FI_GO)
        return RT_OK;
    if (!s->started) {
        s->started = 1;
        s->left = fi_n;
    }
    int64_t k = s->left < fi_chunk ? s->left : fi_chunk;
    for (int64_t i = 0; i < k; i++) {
        rt_msg_t *item = rt_msg_new(FI_ITEM, 0);
        if (!item)
            return RT_ENOMEM;
        item->corr = (uint32_t)i;
        int rc = rt_send(rt, fi_sink_ref, item);
        if (rc < 0)
            return rc;
    }
    s->left -= k;
    if (s->left == 0)
        return RT_STOP;
    rt_msg_t *again = rt_msg_new(FI_GO, 0);
    if (!again)
        return RT_ENOMEM;
    return rt_send_self(self, again);
}

static const rt_kind_t fi_sink_kind = {
    .name = "bench_sink", .state_size = sizeof(fi_sink_t), .handle = fi_sink_handle,
};
static const rt_kind_t fi_producer_kind = {
    .name = "bench_producer", .state_size = sizeof(fi_producer_t),
    .handle = fi_producer_handle,
};

int main(void)
{
    fi_n = bench_env_long("BENCH_N", 1000000);
    fi_chunk = bench_env_long("BENCH_CHUNK", 1000);
    int np = (int)bench_env_long("BENCH_PRODUCERS", 4);
    int threads = (int)bench_env_long("BENCH_THREADS", 2);
    if (np < 1 || np > 1024 || fi_chunk < 1 || threads < 1) {
        fprintf(stderr, "rt_fanin: bad parameters\n");
        return 2;
    }
    fi_total = fi_n * np;
    sem_init(&fi_done, 0, 0);

    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 1u << 30};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    if (!rt || rt_kind_register(rt, &fi_sink_kind) != RT_OK ||
        rt_kind_register(rt, &fi_producer_kind) != RT_OK || rt_runtime_start(rt) != RT_OK) {
        fprintf(stderr, "rt_fanin: runtime start failed\n");
        return 1;
    }
    rt_ref_t prod[1024];
    if (rt_spawn(rt, &fi_sink_kind, &fi_sink_ref) != RT_OK) {
        fprintf(stderr, "rt_fanin: spawn failed\n");
        return 1;
    }
    for (int i = 0; i < np; i++) {
        if (rt_spawn(rt, &fi_producer_kind, &prod[i]) != RT_OK) {
            fprintf(stderr, "rt_fanin: spawn failed\n");
            return 1;
        }
    }
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < np; i++) {
        rt_msg_t *go = rt_msg_new(FI_GO, 0);
        if (!go || rt_send(rt, prod[i], go) != RT_OK) {
            fprintf(stderr, "rt_fanin: send failed\n");
            return 1;
        }
    }
    sem_wait(&fi_done);
    uint64_t t1 = bench_now_ns();
    printf("throughput %.0f\n", (double)fi_total / ((double)(t1 - t0) / 1e9));
    fflush(stdout);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
    return 0;
}
