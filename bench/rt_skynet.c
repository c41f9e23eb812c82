/* rt_skynet.c — our side of bench "skynet": 1,111,111 actors in a tree.
 *
 * Purpose: the root actor spawns 10 children (rt_spawn), each of which
 * spawns 10 more, down to BENCH_N leaves (default 1,000,000; 1,111,111
 * actors in all). A leaf sends its ordinal to its parent and stops; an
 * inner node sums its 10 children's messages, sends the sum up and stops
 * (the same tree as bench/peers/go_skynet.go and erl_skynet.erl). The
 * root's sum goes to main. Prints "seconds <wall time>" and "sum <sum>"
 * (expected 499999500000 for 1M leaves); exits 1 on a wrong sum.
 *
 * Env: BENCH_N, BENCH_THREADS (default 2).
 *
 * Exports: main. Threads: main starts the tree and waits on a semaphore;
 * the handlers run on the workers.
 */
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "rt.h"

enum { SK_START = RT_MSG_USER, SK_SUM };
#define SK_DIV 10

/* Payload of SK_START (benchmark-private binary layout). */
typedef struct sk_start {
    int64_t num, size;
    rt_ref_t parent; /* RT_REF_NONE for the root: report to main */
} sk_start_t;

typedef struct sk_node {
    rt_ref_t parent;
    int64_t sum;
    int got;
} sk_node_t;

static int64_t sk_result;
static sem_t sk_done;

/* Deliver `v` to `parent`, or to main when parent is none. */
static int sk_report(rt_runtime_t *rt, rt_ref_t parent, int64_t v)
{
    if (rt_ref_is_none(parent)) {
        sk_result = v;
        sem_post(&sk_done); /* sem_post orders the store above for main */
        return RT_OK;
    }
    rt_msg_t *m = rt_msg_new(SK_SUM, sizeof v);
    if (!m)
        return RT_ENOMEM;
    memcpy(m->payload, &v, sizeof v);
    m->len = sizeof v;
    return rt_send(rt, parent, m);
}

static const rt_kind_t sk_kind;

/* Spawn one node and send it its range. */
static int sk_start_node(rt_runtime_t *rt, int64_t num, int64_t size, rt_ref_t parent)
{
    rt_ref_t child;
    int rc = rt_spawn(rt, &sk_kind, &child);
    if (rc != RT_OK)
        return rc;
    rt_msg_t *m = rt_msg_new(SK_START, sizeof(sk_start_t));
    if (!m)
        return RT_ENOMEM;
    sk_start_t st = {.num = num, .size = size, .parent = parent};
    memcpy(m->payload, &st, sizeof st);
    m->len = sizeof st;
    return rt_send(rt, child, m);
}

static int sk_handle(rt_actor_t *self, const rt_msg_t *m)
{
    sk_node_t *s = rt_self_state(self);
    rt_runtime_t *rt = rt_self_runtime(self);
    if (m->type == SK_START && m->len == sizeof(sk_start_t)) {
        sk_start_t st;
        memcpy(&st, m->payload, sizeof st);
        if (st.size == 1) {
            int rc = sk_report(rt, st.parent, st.num);
            return rc < 0 ? rc : RT_STOP;
        }
        s->parent = st.parent;
        int64_t sub = st.size / SK_DIV;
        for (int i = 0; i < SK_DIV; i++) {
            int rc = sk_start_node(rt, st.num + i * sub, sub, rt_self_ref(self));
            if (rc < 0)
                return rc;
        }
        return RT_OK;
    }
    if (m->type == SK_SUM && m->len == sizeof(int64_t)) {
        int64_t v;
        memcpy(&v, m->payload, sizeof v);
        s->sum += v;
        if (++s->got < SK_DIV)
            return RT_OK;
        int rc = sk_report(rt, s->parent, s->sum);
        return rc < 0 ? rc : RT_STOP;
    }
    return RT_OK;
}

static const rt_kind_t sk_kind = {
    .name = "bench_skynet", .state_size = sizeof(sk_node_t), .handle = sk_handle,
};

int main(void)
{
    int64_t leaves = bench_env_long("BENCH_N", 1000000);
    int threads = (int)bench_env_long("BENCH_THREADS", 2);
    sem_init(&sk_done, 0, 0);
    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 1u << 30};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    if (!rt || rt_kind_register(rt, &sk_kind) != RT_OK || rt_runtime_start(rt) != RT_OK) {
        fprintf(stderr, "rt_skynet: runtime start failed\n");
        return 1;
    }
    uint64_t t0 = bench_now_ns();
    if (sk_start_node(rt, 0, leaves, RT_REF_NONE) != RT_OK) {
        fprintf(stderr, "rt_skynet: could not start the root\n");
        return 1;
    }
    sem_wait(&sk_done);
    uint64_t t1 = bench_now_ns();
    printf("seconds %.6f\nsum %lld\n", (double)(t1 - t0) / 1e9, (long long)sk_result);
    fflush(stdout);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
    int64_t want = leaves * (leaves - 1) / 2;
    if (sk_result != want) {
        fprintf(stderr, "rt_skynet: wrong sum %lld, want %lld\n", (long long)sk_result,
                (long long)want);
        return 1;
    }
    return 0;
}
