/* test_rt_stress.c — everything at once: keyed and reference sends, RT_STOP,
 * timers, monitors, idle passivation (1 ms), handler failures and
 * quarantine, asks from outside threads, spawned helpers — for ~2 s on
 * 2 workers. Checks: every ping accepted by the runtime is handled exactly
 * once; every ask ends with an allowed code; the runtime stops cleanly.
 * Its real value is under ASan/TSan: races in rarely combined paths.
 *
 * Threads: 4 sender threads, 2 asker threads, the workers.
 */
#include "rt_testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { MSG_PING = RT_MSG_USER, MSG_STOP, MSG_TIMER, MSG_WATCH, MSG_ASK, MSG_FAIL };
enum { NKEYS = 32, NSEND = 4, NASK = 2 };

static atomic_ulong st_handled[NKEYS];
static atomic_ullong st_ref[NKEYS];
static atomic_ulong st_downs, st_timers, st_bad;

typedef struct st_state { uint32_t timer; uint32_t n; } st_state_t;

static int st_handle(rt_actor_t *self, const rt_msg_t *m)
{
    st_state_t *s = rt_self_state(self);
    unsigned k = (unsigned)(rt_test_val(m) & 0xffff);
    rt_ref_t me = rt_self_ref(self);
    switch (m->type) {
    case MSG_PING:
        if (k >= NKEYS) atomic_fetch_add(&st_bad, 1);
        else {
            atomic_store(&st_ref[k], ((uint64_t)me.slot << 32) | me.gen);
            atomic_fetch_add(&st_handled[k], 1);
        }
        s->n++;
        return RT_OK;
    case MSG_STOP:
        return RT_STOP;
    case MSG_TIMER:
        if (s->timer && rt_timer_cancel(self, s->timer) != RT_OK) atomic_fetch_add(&st_bad, 1);
        s->timer = rt_timer_after(self, (uint32_t)(rt_test_val(m) >> 16) % 5);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr == s->timer) s->timer = 0;
        atomic_fetch_add(&st_timers, 1);
        return RT_OK;
    case MSG_ASK:
        if (rt_reply(self, m, rt_test_msg(MSG_ASK, 0, s->n)) != RT_OK) atomic_fetch_add(&st_bad, 1);
        return RT_OK;
    }
    return RT_OK;
}
static const rt_kind_t st_kind = {.name = "stress", .state_size = sizeof(st_state_t), .idle_age_ms = 1,
                                  .handle = st_handle};

/* A kind that fails a lot (its own keys; quarantine happens here). */
static int fl_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == MSG_FAIL) return RT_EFAIL;
    if (m->type == MSG_ASK) return rt_reply(self, m, rt_test_msg(MSG_ASK, 0, 0)) == RT_OK ? RT_OK : RT_EFAIL;
    return RT_OK;
}
static const rt_kind_t fl_kind = {.name = "flaky", .idle_age_ms = 5, .handle = fl_handle};

/* Anonymous watchers: monitor a keyed actor's current ref, count DOWNs. */
static int w_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == RT_MSG_DOWN) {
        atomic_fetch_add(&st_downs, 1);
        return RT_OK;
    }
    if (m->type == MSG_WATCH) {
        rt_ref_t r = {(uint32_t)(rt_test_val(m) >> 32), (uint32_t)rt_test_val(m)};
        int rc = rt_monitor(self, r);
        if (rc != RT_OK && rc != RT_ESTALE) atomic_fetch_add(&st_bad, 1);
        return RT_OK;
    }
    return m->type == MSG_STOP ? RT_STOP : RT_OK;
}
static const rt_kind_t w_kind = {.name = "watcher", .handle = w_handle};

typedef struct sender {
    rt_runtime_t *rt;
    unsigned seed;
    unsigned long pings[NKEYS];
    unsigned long errors;
    rt_ref_t watcher;
} sender_t;

static void *sender_main(void *p)
{
    sender_t *s = p;
    uint64_t end = rt_now_ms() + 2000;
    rt_spawn(s->rt, &w_kind, &s->watcher);
    while (rt_now_ms() < end) {
        unsigned k = rand_r(&s->seed) % NKEYS, op = rand_r(&s->seed) % 100;
        char key[16];
        snprintf(key, sizeof key, "s%u", k);
        uint64_t v = ((uint64_t)rand_r(&s->seed) << 16) | k;
        int rc;
        if (op < 55) {
            rc = rt_send_key(s->rt, &st_kind, key, rt_test_msg(MSG_PING, 0, k));
            if (rc == RT_OK) s->pings[k]++;
            else s->errors++;
        } else if (op < 75) {
            uint64_t r = atomic_load(&st_ref[k]);
            rc = rt_send(s->rt, (rt_ref_t){(uint32_t)(r >> 32), (uint32_t)r}, rt_test_msg(MSG_PING, 0, k));
            if (rc == RT_OK) s->pings[k]++;
            else if (rc != RT_ESTALE) s->errors++;
        } else if (op < 82) {
            rc = rt_send_key(s->rt, &st_kind, key, rt_test_msg(MSG_STOP, 0, k));
            if (rc != RT_OK) s->errors++;
        } else if (op < 90) {
            rc = rt_send_key(s->rt, &st_kind, key, rt_test_msg(MSG_TIMER, 0, v));
            if (rc != RT_OK) s->errors++;
        } else if (op < 94) {
            rt_msg_t *m = rt_test_msg(MSG_WATCH, 0, atomic_load(&st_ref[k]));
            rc = rt_send(s->rt, s->watcher, m);
            if (rc != RT_OK) s->errors++;
        } else if (op < 98) {
            snprintf(key, sizeof key, "f%u", k % 8);
            rc = rt_send_key(s->rt, &fl_kind, key, rt_test_msg(MSG_FAIL, 0, 0));
            if (rc != RT_OK && rc != RT_EQUARANTINED) s->errors++;
        } else {
            /* replace the watcher (anonymous actor end + spawn) */
            rt_send(s->rt, s->watcher, rt_test_msg(MSG_STOP, 0, 0));
            if (rt_spawn(s->rt, &w_kind, &s->watcher) != RT_OK) s->errors++;
        }
        if (op % 16 == 0) usleep(rand_r(&s->seed) % 2000);
    }
    return NULL;
}

typedef struct asker { rt_runtime_t *rt; unsigned seed; unsigned long ok, quarantined, bad; } asker_t;

static void *asker_main(void *p)
{
    asker_t *a = p;
    uint64_t end = rt_now_ms() + 2000;
    while (rt_now_ms() < end) {
        unsigned k = rand_r(&a->seed) % NKEYS;
        char key[16];
        bool flaky = rand_r(&a->seed) % 4 == 0;
        snprintf(key, sizeof key, flaky ? "f%u" : "s%u", flaky ? k % 8 : k);
        rt_msg_t *reply = NULL;
        int rc = rt_ask(a->rt, flaky ? &fl_kind : &st_kind, key, rt_test_msg(MSG_ASK, 0, k), 10000, &reply);
        if (rc == RT_OK && reply) a->ok++;
        else if (rc == RT_EQUARANTINED || (flaky && rc == RT_EFAIL)) a->quarantined++;
        else a->bad++;
        rt_msg_free(reply);
    }
    return NULL;
}

T_CASE(stress_everything_at_once)
{
    for (int k = 0; k < NKEYS; k++) {
        atomic_store(&st_handled[k], 0);
        atomic_store(&st_ref[k], 0);
    }
    rt_runtime_t *rt = rt_test_new(2);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    pthread_t th[NSEND + NASK];
    sender_t s[NSEND];
    asker_t a[NASK];
    for (int i = 0; i < NSEND; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].rt = rt;
        s[i].seed = 77u + (unsigned)i;
        pthread_create(&th[i], NULL, sender_main, &s[i]);
    }
    for (int i = 0; i < NASK; i++) {
        a[i] = (asker_t){rt, 999u + (unsigned)i, 0, 0, 0};
        pthread_create(&th[NSEND + i], NULL, asker_main, &a[i]);
    }
    for (int i = 0; i < NSEND + NASK; i++) pthread_join(th[i], NULL);
    unsigned long want[NKEYS] = {0}, total = 0;
    for (int i = 0; i < NSEND; i++) {
        T_EQ_INT(s[i].errors, 0);
        for (int k = 0; k < NKEYS; k++) want[k] += s[i].pings[k];
    }
    for (int k = 0; k < NKEYS; k++) {
        total += want[k];
        T_WAIT(atomic_load(&st_handled[k]) == want[k], 20000);
    }
    unsigned long asks = 0;
    for (int i = 0; i < NASK; i++) {
        T_EQ_INT(a[i].bad, 0);
        asks += a[i].ok;
    }
    T_EQ_INT(atomic_load(&st_bad), 0);
    rt_stats_t st;
    rt_stats_get(rt, &st);
    printf("# pings=%lu asks_ok=%lu timers=%lu downs=%lu dropped_q=%llu\n", total, asks,
           atomic_load(&st_timers), atomic_load(&st_downs), (unsigned long long)st.dropped_quarantined);
    for (int k = 0; k < st.nkinds; k++)
        printf("# kind=%s act=%llu pass=%llu fail=%llu quar=%llu live=%llu\n", st.kinds[k].name,
               (unsigned long long)st.kinds[k].activations, (unsigned long long)st.kinds[k].passivations,
               (unsigned long long)st.kinds[k].failures, (unsigned long long)st.kinds[k].quarantines,
               (unsigned long long)st.kinds[k].live);
    T_CHECK(total > 1000);
    T_EQ_INT(rt_runtime_stop(rt, 2000), RT_OK);
    rt_runtime_free(rt);
}

T_MAIN()
