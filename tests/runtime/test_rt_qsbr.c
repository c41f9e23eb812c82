/* test_rt_qsbr.c — quiescent-state-based reclamation (runtime/core/rt_qsbr.h).
 *
 * Cases:
 *   qsbr_quiescent_is_a_full_barrier — the store-buffering litmus test of
 *     the worker/reclaimer pair: a worker announces a quiescent state and
 *     then loads a shared pointer; a reclaimer unlinks the pointer and takes
 *     a snapshot. The forbidden outcome is "the worker loaded the old
 *     pointer AND the snapshot saw the seq from before the announcement":
 *     the reclaimer would then free the object after the worker's next
 *     announcement while the worker still uses it. Each round staggers the
 *     two threads by a random 0-255 spins each, so some rounds line the
 *     store and the loads up whatever the machine's speed. A detector, not
 *     a proof: without the fence in rt_qsbr_quiescent the forbidden outcome
 *     appeared in roughly one run in two or three (300,000 rounds, this
 *     2-vCPU machine under load); with it, never. Rounds: 1,000,000
 *     (PLUS7_QSBR_ROUNDS), 100,000 under TSan, whose atomics cannot show
 *     hardware reordering anyway.
 *   qsbr_worker_sends_while_targets_are_reclaimed — actors on both workers
 *     send by reference (the lock-free, fence-free worker send path) to
 *     keyed actors that stop (RT_STOP) or passivate after 1 ms and are
 *     reclaimed, while outside
 *     threads send by key and by reference. Every accepted ping is handled
 *     exactly once; ASan/TSan see every access to reclaimed memory.
 *
 *   qsbr_outside_senders_race_stop — outside threads send, send by key and
 *     spawn while the runtime stops; none may touch what stop frees.
 *
 * Threads: the litmus case runs two threads of its own; the runtime case
 * 2 workers and 2 outside senders.
 */
#include "rt_testutil.h"
#include "rt_qsbr.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ---- the litmus test ---------------------------------------------------------- */

enum { LIT_ROUNDS = 2000000 };
#if defined(__SANITIZE_THREAD__)
#define LIT_DEFAULT_ROUNDS "100000"
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LIT_DEFAULT_ROUNDS "100000"
#endif
#endif
#ifndef LIT_DEFAULT_ROUNDS
#define LIT_DEFAULT_ROUNDS "1000000"
#endif

/* Two threads meet at a sense-reversing spin barrier before each round, so
 * rounds run back to back when both threads are on a CPU. */
typedef struct litmus {
    rt_qsbr_rec_t *worker;        /* the "worker" thread's record (online) */
    int object;                   /* what the shared pointers point to */
    int *_Atomic *cells;          /* one "slot" per round, unlinked by the reclaimer */
    uint64_t *seq_snap;           /* per round: worker seq the snapshot saw (0 = offline) */
    bool *seen;                   /* per round: the worker loaded the object */
    uint64_t seq0;                /* worker seq before round 0 */
    uint8_t *delay_w, *delay_r;   /* per round: spins before acting (alignment) */
    uint32_t rounds;
    _Atomic uint32_t arrived, sense;
} litmus_t;

static void litmus_barrier(litmus_t *l, uint32_t *local_sense)
{
    *local_sense ^= 1;
    /* acq_rel: the last arriver releases the other thread's wait */
    if (atomic_fetch_add_explicit(&l->arrived, 1, memory_order_acq_rel) == 1) {
        atomic_store_explicit(&l->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&l->sense, *local_sense, memory_order_release);
        return;
    }
    for (uint32_t i = 0; atomic_load_explicit(&l->sense, memory_order_acquire) != *local_sense; i++)
        if (i > 2000) sched_yield();
}

/* Spin `n` iterations: staggers the two threads by a different amount each
 * round so that some rounds line their critical instructions up. */
static inline void litmus_delay(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++) {}
}

static void *litmus_worker(void *p)
{
    litmus_t *l = p;
    uint32_t sense = 0;
    rt_qsbr_online(l->worker);
    for (uint32_t r = 0; r < l->rounds; r++) {
        litmus_barrier(l, &sense);
        litmus_delay(l->delay_w[r]);
        rt_qsbr_quiescent(l->worker);
        /* acquire, as rt_send's load of a slot's actor pointer */
        l->seen[r] = atomic_load_explicit(&l->cells[r], memory_order_acquire) != NULL;
    }
    rt_qsbr_offline(l->worker);
    return NULL;
}

static void *litmus_reclaimer(void *p)
{
    litmus_t *l = p;
    uint32_t sense = 0;
    rt_qsbr_rec_t *self = rt_qsbr_register();
    for (uint32_t r = 0; r < l->rounds; r++) {
        litmus_barrier(l, &sense);
        litmus_delay(l->delay_r[r]);
        /* relaxed: the unlink, ordered by the fence inside rt_qsbr_snapshot */
        atomic_store_explicit(&l->cells[r], NULL, memory_order_relaxed);
        uint32_t n = 0;
        bool ok;
        rt_qsbr_snap_t *s = rt_qsbr_snapshot(self, &n, &ok);
        for (uint32_t i = 0; i < n; i++)
            if (s[i].rec == l->worker) l->seq_snap[r] = s[i].seq;
        free(s);
    }
    rt_qsbr_unregister(self);
    return NULL;
}

T_CASE(qsbr_quiescent_is_a_full_barrier)
{
    litmus_t *l = calloc(1, sizeof *l);
    T_CHECK(l != NULL);
    /* ThreadSanitizer runs the atomics through its own runtime (the hardware
     * reordering cannot show there, and rounds are slow): fewer rounds */
    l->rounds = (uint32_t)atoi(t_env("PLUS7_QSBR_ROUNDS", LIT_DEFAULT_ROUNDS));
    if (l->rounds < 1 || l->rounds > LIT_ROUNDS) l->rounds = LIT_ROUNDS;
    l->cells = calloc(l->rounds, sizeof *l->cells);
    l->seq_snap = calloc(l->rounds, sizeof *l->seq_snap);
    l->seen = calloc(l->rounds, sizeof *l->seen);
    l->delay_w = malloc(l->rounds);
    l->delay_r = malloc(l->rounds);
    l->worker = rt_qsbr_register();
    T_CHECK(l->cells && l->seq_snap && l->seen && l->delay_w && l->delay_r && l->worker);
    unsigned seed = 12345;
    for (uint32_t r = 0; r < l->rounds; r++) {
        atomic_init(&l->cells[r], &l->object);
        l->delay_w[r] = (uint8_t)(rand_r(&seed) % 256);
        l->delay_r[r] = (uint8_t)(rand_r(&seed) % 256);
    }
    /* relaxed: no other thread yet */
    l->seq0 = atomic_load_explicit(&l->worker->seq, memory_order_relaxed) | 1;
    pthread_t tw, tr;
    pthread_create(&tw, NULL, litmus_worker, l);
    pthread_create(&tr, NULL, litmus_reclaimer, l);
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    /* round r: the worker's announcement moves seq from seq0 + 2r to
     * seq0 + 2r + 2. Forbidden: it loaded the object, yet the snapshot saw
     * the seq from before that announcement. */
    unsigned long bad = 0, overlap = 0;
    for (uint32_t r = 0; r < l->rounds; r++) {
        bool old = l->seq_snap[r] == l->seq0 + 2ull * r;
        if (old) overlap++;
        if (old && l->seen[r]) bad++;
    }
    printf("# rounds=%u snapshot_before_announcement=%lu forbidden=%lu\n", l->rounds, overlap, bad);
    T_EQ_INT(bad, 0);
    rt_qsbr_unregister(l->worker);
    free(l->cells);
    free(l->seq_snap);
    free(l->seen);
    free(l->delay_w);
    free(l->delay_r);
    free(l);
}

/* ---- the runtime case ------------------------------------------------------------ */

enum { MSG_PING = RT_MSG_USER, MSG_RELAY, MSG_STOP };
enum { QKEYS = 16, QROUNDS = 20000 };

static atomic_ulong q_handled, q_accepted, q_bad;
static atomic_ullong q_ref[QKEYS];

static int target_handle(rt_actor_t *self, const rt_msg_t *m)
{
    unsigned k = (unsigned)rt_test_val(m);
    if (m->type == MSG_STOP) return RT_STOP;   /* passivate now: retire + reclaim */
    if (m->type != MSG_PING || k >= QKEYS) {
        atomic_fetch_add(&q_bad, 1);
        return RT_OK;
    }
    rt_ref_t me = rt_self_ref(self);
    atomic_store(&q_ref[k], ((uint64_t)me.slot << 32) | me.gen);
    atomic_fetch_add(&q_handled, 1);
    return RT_OK;
}
static const rt_kind_t target_kind = {.name = "qsbr_target", .idle_age_ms = 1,
                                      .handle = target_handle};

/* A relay on each worker: MSG_RELAY carries a key index; the relay sends a
 * ping by reference to that key's latest activation (worker send path). */
static int relay_handle(rt_actor_t *self, const rt_msg_t *m)
{
    unsigned k = (unsigned)rt_test_val(m) % QKEYS;
    for (int i = 0; i < 4; i++) {
        uint64_t r = atomic_load(&q_ref[(k + (unsigned)i) % QKEYS]);
        rt_ref_t to = {(uint32_t)(r >> 32), (uint32_t)r};
        int rc = rt_send(rt_self_runtime(self), to, rt_test_msg(MSG_PING, 0, (k + (unsigned)i) % QKEYS));
        if (rc == RT_OK) atomic_fetch_add(&q_accepted, 1);
        else if (rc != RT_ESTALE) atomic_fetch_add(&q_bad, 1);
    }
    return RT_OK;
}
static const rt_kind_t relay_kind = {.name = "qsbr_relay", .handle = relay_handle};

typedef struct qsender { rt_runtime_t *rt; rt_ref_t relay[2]; unsigned seed; } qsender_t;

static void *qsender_main(void *p)
{
    qsender_t *s = p;
    for (int i = 0; i < QROUNDS; i++) {
        unsigned k = (unsigned)rand_r(&s->seed) % QKEYS;
        char key[16];
        snprintf(key, sizeof key, "q%u", k);
        if (rt_send_key(s->rt, &target_kind, key, rt_test_msg(MSG_PING, 0, k)) == RT_OK)
            atomic_fetch_add(&q_accepted, 1);
        else
            atomic_fetch_add(&q_bad, 1);
        if (rt_send(s->rt, s->relay[i & 1], rt_test_msg(MSG_RELAY, 0, k)) != RT_OK)
            atomic_fetch_add(&q_bad, 1);
        if (i % 5 == 0 && rt_send_key(s->rt, &target_kind, key, rt_test_msg(MSG_STOP, 0, k)) != RT_OK)
            atomic_fetch_add(&q_bad, 1);
        if ((i & 255) == 0) usleep(500); /* let targets go idle and be reclaimed */
    }
    return NULL;
}

T_CASE(qsbr_worker_sends_while_targets_are_reclaimed)
{
    rt_runtime_t *rt = rt_test_new(2);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    qsender_t s[2];
    rt_ref_t relay[2];
    T_EQ_INT(rt_spawn_on(rt, &relay_kind, 0, &relay[0]), RT_OK);
    T_EQ_INT(rt_spawn_on(rt, &relay_kind, 1, &relay[1]), RT_OK);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        s[i] = (qsender_t){rt, {relay[0], relay[1]}, 31u + (unsigned)i};
        pthread_create(&th[i], NULL, qsender_main, &s[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    /* positive control: everything accepted arrives, then nothing more */
    T_WAIT(atomic_load(&q_handled) == atomic_load(&q_accepted), 30000);
    rt_stats_t st;
    rt_stats_get(rt, &st);
    unsigned long long pass = 0;
    for (int k = 0; k < st.nkinds; k++)
        if (strcmp(st.kinds[k].name, "qsbr_target") == 0) pass = st.kinds[k].passivations;
    printf("# accepted=%lu handled=%lu passivations=%llu\n", atomic_load(&q_accepted),
           atomic_load(&q_handled), pass);
    T_CHECK(pass > 1000);   /* the targets really were passivated and reclaimed */
    T_EQ_INT(atomic_load(&q_bad), 0);
    T_EQ_INT(rt_runtime_stop(rt, 5000), RT_OK);
    T_EQ_INT(atomic_load(&q_handled), atomic_load(&q_accepted));
    rt_runtime_free(rt);
}

/* ---- senders racing rt_runtime_stop ------------------------------------------------ */

typedef struct late { rt_runtime_t *rt; rt_ref_t sink; unsigned long ok, refused, bad; } late_t;

static int sink_handle(rt_actor_t *self, const rt_msg_t *m)
{
    (void)self;
    (void)m;
    return RT_OK;
}
static const rt_kind_t sink_kind = {.name = "qsbr_sink", .idle_age_ms = 1, .handle = sink_handle};

/* Send by reference, by key and spawn until the runtime refuses all three. */
static void *late_main(void *p)
{
    late_t *l = p;
    for (unsigned i = 0;; i++) {
        char key[16];
        snprintf(key, sizeof key, "l%u", i % 64);
        int a = rt_send(l->rt, l->sink, rt_test_msg(MSG_PING, 0, i));
        int b = rt_send_key(l->rt, &sink_kind, key, rt_test_msg(MSG_PING, 0, i));
        rt_ref_t r;
        int c = rt_spawn(l->rt, &sink_kind, &r);
        if (c == RT_OK) (void)rt_send(l->rt, r, rt_test_msg(MSG_STOP, 0, 0));
        int rcs[3] = {a, b, c};
        for (int k = 0; k < 3; k++) {
            if (rcs[k] == RT_OK) l->ok++;
            else if (rcs[k] == RT_ESHUTDOWN) l->refused++;
            else if (rcs[k] != RT_ESTALE) l->bad++;
        }
        if (a == RT_ESHUTDOWN && b == RT_ESHUTDOWN && c == RT_ESHUTDOWN) break;
    }
    return NULL;
}

/* Outside threads keep sending while the runtime stops: every send either
 * completes before stop frees anything or is refused (ASan reports a push
 * into a freed actor or an actor created after the final sweep as a leak). */
T_CASE(qsbr_outside_senders_race_stop)
{
    unsigned seed = 7;
    for (int cycle = 0; cycle < 40; cycle++) {
        rt_runtime_t *rt = rt_test_new(2);
        T_EQ_INT(rt_kind_register(rt, &sink_kind), RT_OK);
        T_EQ_INT(rt_runtime_start(rt), RT_OK);
        late_t l[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            l[i] = (late_t){.rt = rt};
            T_EQ_INT(rt_spawn(rt, &sink_kind, &l[i].sink), RT_OK);
            pthread_create(&th[i], NULL, late_main, &l[i]);
        }
        usleep((useconds_t)(rand_r(&seed) % 3000));
        T_EQ_INT(rt_runtime_stop(rt, cycle % 2 ? 0 : 5), RT_OK);
        for (int i = 0; i < 2; i++) {
            pthread_join(th[i], NULL);
            T_EQ_INT(l[i].bad, 0);
            T_CHECK(l[i].refused >= 3);   /* each sender saw the stop */
        }
        rt_runtime_free(rt);
    }
}

T_MAIN()
