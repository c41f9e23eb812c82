/* rt_pingpong.c — our side of bench "pingpong": two actors on two workers.
 *
 * Purpose: a ping actor homed on worker 0 and a pong actor homed on
 * worker 1 (rt_spawn_on) bounce BENCH_BALLS balls (default 1) until
 * BENCH_N round trips (default 1,000,000) are done. Every hop is one
 * rt_msg_new + rt_send, the same work as the CAF peer's send
 * (bench/peers/caf_pingpong.cpp). Prints "throughput <messages per
 * second>" (both directions counted); the clock runs from the go message
 * to ping's last ball.
 *
 * Env: BENCH_N, BENCH_BALLS, BENCH_THREADS (workers, >= 2, default 2),
 * BENCH_PP_SAME=1 (diagnostic, not used by runtime.sh: home both actors on
 * worker 0, which is where CAF's scheduler mostly keeps its pair).
 *
 * Exports: main. Threads: main creates the runtime and waits on a
 * semaphore; the handlers run on the two workers.
 */
#include <semaphore.h>
#include <stdio.h>

#include "bench_util.h"
#include "rt.h"

enum { PP_GO = RT_MSG_USER, PP_BALL };

typedef struct pp_ping {
    int64_t left; /* round trips still to start */
    int64_t out;  /* balls in flight */
} pp_ping_t;

/* Written by main before the first send; the send publishes them. */
static rt_ref_t pp_ping_ref, pp_pong_ref;
static int64_t pp_n, pp_balls;
static sem_t pp_done;

/* Send one ball (corr = ball id) to `to`; RT_ENOMEM when allocation fails. */
static int pp_send_ball(rt_runtime_t *rt, rt_ref_t to, uint32_t ball)
{
    rt_msg_t *m = rt_msg_new(PP_BALL, 0);
    if (!m)
        return RT_ENOMEM;
    m->corr = ball;
    return rt_send(rt, to, m);
}

static int pp_ping_handle(rt_actor_t *self, const rt_msg_t *m)
{
    pp_ping_t *s = rt_self_state(self);
    rt_runtime_t *rt = rt_self_runtime(self);
    if (m->type == PP_GO) {
        s->left = pp_n;
        for (int64_t i = 0; i < pp_balls && s->left > 0; i++) {
            s->left--;
            s->out++;
            int rc = pp_send_ball(rt, pp_pong_ref, (uint32_t)i);
            if (rc < 0)
                return rc;
        }
        return RT_OK;
    }
    if (m->type != PP_BALL)
        return RT_OK;
    if (s->left > 0) {
        s->left--;
        return pp_send_ball(rt, pp_pong_ref, m->corr);
    }
    if (--s->out == 0)
        sem_post(&pp_done);
    return RT_OK;
}

static int pp_pong_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type != PP_BALL)
        return RT_OK;
    return pp_send_ball(rt_self_runtime(self), pp_ping_ref, m->corr);
}

static const rt_kind_t pp_ping_kind = {
    .name = "bench_ping", .state_size = sizeof(pp_ping_t), .handle = pp_ping_handle,
};
static const rt_kind_t pp_pong_kind = {
    .name = "bench_pong", .state_size = 0, .handle = pp_pong_handle,
};

int main(void)
{
    pp_n = bench_env_long("BENCH_N", 1000000);
    pp_balls = bench_env_long("BENCH_BALLS", 1);
    int threads = (int)bench_env_long("BENCH_THREADS", 2);
    if (threads < 2)
        threads = 2;
    sem_init(&pp_done, 0, 0);

    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 1u << 30};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    if (!rt || rt_kind_register(rt, &pp_ping_kind) != RT_OK ||
        rt_kind_register(rt, &pp_pong_kind) != RT_OK || rt_runtime_start(rt) != RT_OK) {
        fprintf(stderr, "rt_pingpong: runtime start failed\n");
        return 1;
    }
    if (rt_spawn_on(rt, &pp_ping_kind, 0, &pp_ping_ref) != RT_OK ||
        rt_spawn_on(rt, &pp_pong_kind, bench_env_long("BENCH_PP_SAME", 0) ? 0 : 1,
                    &pp_pong_ref) != RT_OK) {
        fprintf(stderr, "rt_pingpong: rt_spawn_on failed\n");
        return 1;
    }
    rt_msg_t *go = rt_msg_new(PP_GO, 0);
    uint64_t t0 = bench_now_ns();
    if (!go || rt_send(rt, pp_ping_ref, go) != RT_OK) {
        fprintf(stderr, "rt_pingpong: send failed\n");
        return 1;
    }
    sem_wait(&pp_done);
    uint64_t t1 = bench_now_ns();
    printf("throughput %.0f\n", 2.0 * (double)pp_n / ((double)(t1 - t0) / 1e9));
    fflush(stdout);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
    return 0;
}
