/* rt_activation.c — our side of bench "activation": cold and warm sends.
 *
 * Purpose: BENCH_N keyed actors (default 10,000) of a kind whose load()
 * reads the actor's row from PostgreSQL with rt_pg_query(self,
 * RT_CORR_ACTIVATE, "SELECT v FROM bench_kv WHERE k = $1") and returns
 * RT_PENDING. Cold: for each key in turn, main sends one probe with
 * rt_send_key to the not-yet-active actor and the probe's handler
 * timestamps its arrival — latency = send → first handle(), which spans
 * directory insert, placement, the asynchronous query, on_activate and the
 * delivery of the held probe. Warm: the same keys again, now active —
 * latency = send → handle(). One request at a time (closed loop), so no
 * queueing is measured. BENCH_WARMUP keys (default 100) are activated
 * first and not counted (they open the workers' connections). Prints
 * "cold_p50", "cold_p99", "warm_p50", "warm_p99" in µs. The peer is
 * bench/peers/pq_query.c (the same statement and keys over plain libpq).
 *
 * Env: PLUS7_DB (required), BENCH_N, BENCH_WARMUP, BENCH_THREADS (2).
 *
 * Exports: main. Threads: main sends and waits on a semaphore; load,
 * on_activate and handle run on the workers.
 */
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_pg.h"
#include "bench_util.h"
#include "rt.h"
#include "rt_pg.h"

enum { AC_PROBE = RT_MSG_USER };

typedef struct ac_state {
    bool loaded;    /* the row came back */
    char v[48];     /* its value (copied, as a real kind would) */
} ac_state_t;

/* Written by the probe's handler before sem_post; read by main after
 * sem_wait (the semaphore orders them). */
static uint64_t ac_t_handle;
static bool ac_ok;
static sem_t ac_done;

static int ac_load(rt_actor_t *self)
{
    const char *params[1] = {rt_self_key(self)};
    int rc = rt_pg_query(self, RT_CORR_ACTIVATE, BENCH_PG_SELECT, 1, params);
    return rc < 0 ? rc : RT_PENDING;
}

static int ac_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    ac_state_t *s = rt_self_state(self);
    const rt_pg_result_t *r = m ? rt_pg_msg_result(m) : NULL;
    if (r && r->status == RT_OK && r->nrows == 1) {
        const char *v = rt_pg_value(r, 0, 0);
        snprintf(s->v, sizeof s->v, "%s", v ? v : "");
        s->loaded = true;
    }
    return RT_OK; /* a bad load is reported by the probe, not retried */
}

static int ac_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type != AC_PROBE)
        return RT_OK;
    ac_state_t *s = rt_self_state(self);
    ac_t_handle = bench_now_ns();
    ac_ok = s->loaded;
    sem_post(&ac_done);
    return RT_OK;
}

static const rt_kind_t ac_kind = {
    .name = "bench_cold", .state_size = sizeof(ac_state_t), .idle_age_ms = 0,
    .load = ac_load, .on_activate = ac_on_activate, .handle = ac_handle,
};

/* Send a probe to key i and return send → handle in ns; 0 on failure. */
static uint64_t ac_probe(rt_runtime_t *rt, long i)
{
    char key[32];
    bench_pg_key(key, sizeof key, i);
    rt_msg_t *m = rt_msg_new(AC_PROBE, 0);
    if (!m)
        return 0;
    uint64_t t0 = bench_now_ns();
    int rc = rt_send_key(rt, &ac_kind, key, m);
    if (rc != RT_OK) {
        fprintf(stderr, "rt_activation: send %s: %s\n", key, rt_strerror(rc));
        return 0;
    }
    sem_wait(&ac_done);
    if (!ac_ok) {
        fprintf(stderr, "rt_activation: %s: row not loaded\n", key);
        return 0;
    }
    return ac_t_handle > t0 ? ac_t_handle - t0 : 1;
}

/* Probe keys [from, from+n) into lat (may be NULL); false on failure. */
static bool ac_round(rt_runtime_t *rt, long from, long n, uint64_t *lat)
{
    for (long i = 0; i < n; i++) {
        uint64_t ns = ac_probe(rt, from + i);
        if (ns == 0)
            return false;
        if (lat)
            lat[i] = ns;
    }
    return true;
}

static void ac_print(const char *what, uint64_t *lat, size_t n)
{
    bench_sort_u64(lat, n);
    printf("%s_p50 %.1f\n%s_p99 %.1f\n", what, bench_pct_u64(lat, n, 50) / 1e3, what,
           bench_pct_u64(lat, n, 99) / 1e3);
}

int main(void)
{
    const char *db = getenv("PLUS7_DB");
    long n = bench_env_long("BENCH_N", 10000);
    long warm = bench_env_long("BENCH_WARMUP", 100);
    int threads = (int)bench_env_long("BENCH_THREADS", 2);
    if (!db || !*db) {
        fprintf(stderr, "rt_activation: PLUS7_DB is not set\n");
        return 2;
    }
    if (n < 1 || warm < 0 || bench_pg_setup(db, n + warm) != 0)
        return 1;
    sem_init(&ac_done, 0, 0);
    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 1u << 30};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    if (!rt || rt_kind_register(rt, &ac_kind) != RT_OK || rt_pg_init(rt, db, 1) != RT_OK ||
        rt_runtime_start(rt) != RT_OK) {
        fprintf(stderr, "rt_activation: runtime start failed\n");
        return 1;
    }
    uint64_t *cold = malloc((size_t)n * sizeof *cold);
    uint64_t *hot = malloc((size_t)n * sizeof *hot);
    int rc = 1;
    if (cold && hot && ac_round(rt, 0, warm, NULL) && ac_round(rt, warm, n, cold) &&
        ac_round(rt, warm, n, hot)) {
        ac_print("cold", cold, (size_t)n);
        ac_print("warm", hot, (size_t)n);
        fflush(stdout);
        rc = 0;
    }
    rt_runtime_stop(rt, 2000);
    rt_runtime_free(rt);
    free(cold);
    free(hot);
    return rc;
}
