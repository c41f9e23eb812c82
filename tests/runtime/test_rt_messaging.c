/* test_rt_messaging.c — the runtime's messaging: sends by reference and by
 * key, many producers into one mailbox (no loss, per-producer FIFO),
 * scheduler fairness and the urgent lane, stale references, monitors, a
 * skynet-style spawn tree, metrics.
 *
 * Threads: cases on the main thread; producers on helper threads; handlers
 * on the runtime's workers.
 */
#include "rt_testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { MSG_PING = RT_MSG_USER, MSG_SEQ, MSG_STOP, MSG_FAIL, MSG_SPAWN, MSG_RESULT, MSG_WATCH };

/* ---- a counting actor (anonymous) ------------------------------------------ */

#define NPROD_MAX 16
static atomic_ulong cnt_handled;
static atomic_int cnt_order_errors;
static uint64_t cnt_last[NPROD_MAX];   /* per producer: last seq seen (actor only) */

static int cnt_handle(rt_actor_t *self, const rt_msg_t *m)
{
    (void)self;
    if (m->type == MSG_SEQ) {
        uint64_t v = rt_test_val(m);
        unsigned p = (unsigned)(v >> 32);
        uint64_t seq = v & 0xffffffffu;
        if (p >= NPROD_MAX || seq != cnt_last[p] + 1) atomic_fetch_add(&cnt_order_errors, 1);
        else cnt_last[p] = seq;
    }
    atomic_fetch_add(&cnt_handled, 1);
    return m->type == MSG_STOP ? RT_STOP : RT_OK;
}

static const rt_kind_t cnt_kind = {.name = "counter", .handle = cnt_handle};

static void cnt_reset(void)
{
    atomic_store(&cnt_handled, 0);
    atomic_store(&cnt_order_errors, 0);
    memset(cnt_last, 0, sizeof cnt_last);
}

T_CASE(send_by_ref_single_producer_fifo)
{
    cnt_reset();
    rt_runtime_t *rt = rt_test_new(2);
    T_CHECK(rt);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    rt_ref_t r;
    T_EQ_INT(rt_spawn(rt, &cnt_kind, &r), RT_OK);
    T_CHECK(!rt_ref_is_none(r));
    for (uint64_t i = 1; i <= 10000; i++)
        T_EQ_INT(rt_send(rt, r, rt_test_msg(MSG_SEQ, 0, i)), RT_OK);
    T_WAIT(atomic_load(&cnt_handled) == 10000, 10000);
    T_EQ_INT(atomic_load(&cnt_order_errors), 0);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

typedef struct prod_arg {
    rt_runtime_t *rt;
    rt_ref_t to;
    unsigned id;
    unsigned n;
    int errors;
} prod_arg_t;

static void *prod_main(void *p)
{
    prod_arg_t *a = p;
    for (uint64_t i = 1; i <= a->n; i++)
        if (rt_send(a->rt, a->to, rt_test_msg(MSG_SEQ, 0, ((uint64_t)a->id << 32) | i)) != RT_OK)
            a->errors++;
    return NULL;
}

T_CASE(mailbox_many_producers_no_loss_fifo)
{
    cnt_reset();
    rt_runtime_t *rt = rt_test_new(2);
    T_CHECK(rt);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    rt_ref_t r;
    T_EQ_INT(rt_spawn(rt, &cnt_kind, &r), RT_OK);
    enum { NP = 8, N = 25000 };
    pthread_t th[NP];
    prod_arg_t args[NP];
    for (unsigned i = 0; i < NP; i++) {
        args[i] = (prod_arg_t){rt, r, i, N, 0};
        pthread_create(&th[i], NULL, prod_main, &args[i]);
    }
    for (unsigned i = 0; i < NP; i++) pthread_join(th[i], NULL);
    for (unsigned i = 0; i < NP; i++) T_EQ_INT(args[i].errors, 0);
    T_WAIT(atomic_load(&cnt_handled) == (unsigned long)NP * N, 30000);
    T_EQ_INT(atomic_load(&cnt_order_errors), 0);
    for (unsigned i = 0; i < NP; i++) T_EQ_INT(cnt_last[i], N);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

/* ---- actors sending to actors across workers ----------------------------------- */

static atomic_ulong pp_done;
static int pp_handle(rt_actor_t *self, const rt_msg_t *m)
{
    uint64_t left = rt_test_val(m);
    if (left == 0) {
        atomic_fetch_add(&pp_done, 1);
        return RT_OK;
    }
    rt_ref_t peer;
    memcpy(&peer, m->payload + 8, sizeof peer);
    rt_msg_t *r = rt_msg_new(MSG_PING, 16);
    uint64_t v = left - 1;
    memcpy(r->payload, &v, 8);
    rt_ref_t me = rt_self_ref(self);
    memcpy(r->payload + 8, &me, sizeof me);
    r->len = 16;
    return rt_send(rt_self_runtime(self), peer, r) == RT_OK ? RT_OK : RT_EFAIL;
}
static const rt_kind_t pp_kind = {.name = "pingpong", .handle = pp_handle};

T_CASE(ping_pong_across_workers)
{
    atomic_store(&pp_done, 0);
    rt_runtime_t *rt = rt_test_new(2);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    rt_ref_t a, b;
    T_EQ_INT(rt_spawn_on(rt, &pp_kind, 0, &a), RT_OK);
    T_EQ_INT(rt_spawn_on(rt, &pp_kind, 1, &b), RT_OK);
    T_EQ_INT(rt_spawn_on(rt, &pp_kind, 2, &b), RT_EINVAL);
    T_EQ_INT(rt_spawn_on(rt, &pp_kind, 1, &b), RT_OK);
    rt_msg_t *m = rt_msg_new(MSG_PING, 16);
    uint64_t v = 20000;
    memcpy(m->payload, &v, 8);
    memcpy(m->payload + 8, &b, sizeof b);
    m->len = 16;
    T_EQ_INT(rt_send(rt, a, m), RT_OK);
    T_WAIT(atomic_load(&pp_done) == 1, 20000);
    rt_stats_t st;
    rt_stats_get(rt, &st);
    T_CHECK(st.messages >= 20001);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

/* ---- fairness and the urgent lane (one worker, deterministic) ----------------------- */

static atomic_ulong fl_flood_handled;
static atomic_long fl_seen_at_small = -1;
static atomic_long urg_pos = -1;
static atomic_ulong urg_count;

static int fl_flood_handle(rt_actor_t *self, const rt_msg_t *m)
{
    (void)self;
    (void)m;
    atomic_fetch_add(&fl_flood_handled, 1);
    return RT_OK;
}
static int fl_small_handle(rt_actor_t *self, const rt_msg_t *m)
{
    (void)self;
    (void)m;
    atomic_store(&fl_seen_at_small, (long)atomic_load(&fl_flood_handled));
    return RT_OK;
}
static const rt_kind_t fl_flood_kind = {.name = "flood", .handle = fl_flood_handle};
static const rt_kind_t fl_small_kind = {.name = "small", .handle = fl_small_handle};

T_CASE(scheduler_flooded_actor_does_not_starve_others)
{
    atomic_store(&fl_flood_handled, 0);
    atomic_store(&fl_seen_at_small, -1);
    rt_runtime_t *rt = rt_test_new(1);
    rt_ref_t f, s;
    T_EQ_INT(rt_spawn(rt, &fl_flood_kind, &f), RT_OK);
    T_EQ_INT(rt_spawn(rt, &fl_small_kind, &s), RT_OK);
    /* queued before the worker starts: the flood is ahead of the small one */
    enum { FLOOD = 100000 };
    for (int i = 0; i < FLOOD; i++) T_EQ_INT(rt_send(rt, f, rt_test_msg(MSG_PING, 0, 0)), RT_OK);
    T_EQ_INT(rt_send(rt, s, rt_test_msg(MSG_PING, 0, 0)), RT_OK);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    T_WAIT(atomic_load(&fl_flood_handled) == FLOOD, 20000);
    /* the small actor ran after at most one batch of the flood */
    T_CHECK(atomic_load(&fl_seen_at_small) >= 0);
    T_CHECK(atomic_load(&fl_seen_at_small) <= RT_BATCH);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

static int urg_handle(rt_actor_t *self, const rt_msg_t *m)
{
    (void)self;
    unsigned long n = atomic_fetch_add(&urg_count, 1);
    if (m->flags & RT_MSG_F_URGENT) atomic_store(&urg_pos, (long)n);
    return RT_OK;
}
static const rt_kind_t urg_kind = {.name = "urgent", .handle = urg_handle};

T_CASE(urgent_lane_is_drained_first)
{
    atomic_store(&urg_pos, -1);
    atomic_store(&urg_count, 0);
    rt_runtime_t *rt = rt_test_new(1);
    rt_ref_t a;
    T_EQ_INT(rt_spawn(rt, &urg_kind, &a), RT_OK);
    for (int i = 0; i < 500; i++) T_EQ_INT(rt_send(rt, a, rt_test_msg(MSG_PING, 0, 0)), RT_OK);
    rt_msg_t *u = rt_test_msg(MSG_PING, 0, 0);
    u->flags |= RT_MSG_F_URGENT;
    T_EQ_INT(rt_send(rt, a, u), RT_OK);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    T_WAIT(atomic_load(&urg_count) == 501, 10000);
    T_EQ_INT(atomic_load(&urg_pos), 0);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

/* ---- stale references and monitors ---------------------------------------------------- */

static atomic_int mon_down_count;
static atomic_uint mon_down_reason = 99;
static atomic_int mon_acks, mon_stale;
static rt_ref_t mon_down_from;

static int mon_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == MSG_WATCH) {
        rt_ref_t t;
        memcpy(&t, m->payload, sizeof t);
        int rc = rt_monitor(self, t);
        if (rc == RT_ESTALE) atomic_fetch_add(&mon_stale, 1);
        atomic_fetch_add(&mon_acks, 1);
        return rc == RT_OK || rc == RT_ESTALE ? RT_OK : RT_EFAIL;
    }
    if (m->type == RT_MSG_DOWN) {
        mon_down_from = m->from;
        atomic_store(&mon_down_reason, m->corr);
        atomic_fetch_add(&mon_down_count, 1);
    }
    return RT_OK;
}
static const rt_kind_t mon_kind = {.name = "watcher", .handle = mon_handle};

static int victim_handle(rt_actor_t *self, const rt_msg_t *m)
{
    (void)self;
    if (m->type == MSG_STOP) return RT_STOP;
    if (m->type == MSG_FAIL) return RT_EFAIL;
    return RT_OK;
}
static const rt_kind_t victim_kind = {.name = "victim", .handle = victim_handle};

static void watch(rt_runtime_t *rt, rt_ref_t watcher, rt_ref_t target)
{
    rt_msg_t *m = rt_msg_new(MSG_WATCH, sizeof target);
    memcpy(m->payload, &target, sizeof target);
    m->len = sizeof target;
    T_EQ_INT(rt_send(rt, watcher, m), RT_OK);
}

T_CASE(stale_refs_fail_cleanly_and_monitors_get_down)
{
    atomic_store(&mon_down_count, 0);
    atomic_store(&mon_acks, 0);
    atomic_store(&mon_stale, 0);
    rt_runtime_t *rt = rt_test_new(2);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    rt_ref_t w, v1, v2;
    T_EQ_INT(rt_spawn(rt, &mon_kind, &w), RT_OK);
    T_EQ_INT(rt_spawn(rt, &victim_kind, &v1), RT_OK);
    T_EQ_INT(rt_spawn(rt, &victim_kind, &v2), RT_OK);

    /* never-issued and none refs */
    T_EQ_INT(rt_send(rt, RT_REF_NONE, rt_test_msg(MSG_PING, 0, 0)), RT_ESTALE);
    T_EQ_INT(rt_send(rt, (rt_ref_t){999999, 1}, rt_test_msg(MSG_PING, 0, 0)), RT_ESTALE);
    T_EQ_INT(rt_send(rt, (rt_ref_t){v1.slot, v1.gen + 1}, rt_test_msg(MSG_PING, 0, 0)), RT_ESTALE);

    /* the monitor request is in v1's mailbox once the watcher acked, so
     * it is ahead of the stop */
    watch(rt, w, v1);
    T_WAIT(atomic_load(&mon_acks) == 1, 10000);
    T_EQ_INT(rt_send(rt, v1, rt_test_msg(MSG_STOP, 0, 0)), RT_OK);
    T_WAIT(atomic_load(&mon_down_count) == 1, 10000);
    T_EQ_INT(atomic_load(&mon_down_reason), RT_DOWN_STOPPED);
    T_EQ_INT(mon_down_from.slot, v1.slot);
    T_EQ_INT(mon_down_from.gen, v1.gen);
    T_EQ_INT(rt_send(rt, v1, rt_test_msg(MSG_PING, 0, 0)), RT_ESTALE);

    watch(rt, w, v2);
    T_WAIT(atomic_load(&mon_acks) == 2, 10000);
    T_EQ_INT(rt_send(rt, v2, rt_test_msg(MSG_FAIL, 0, 0)), RT_OK);
    T_WAIT(atomic_load(&mon_down_count) == 2, 10000);
    T_EQ_INT(atomic_load(&mon_down_reason), RT_DOWN_FAILED);
    T_EQ_INT(rt_send(rt, v2, rt_test_msg(MSG_PING, 0, 0)), RT_ESTALE);

    /* monitoring something already gone fails with RT_ESTALE */
    watch(rt, w, v2);
    T_WAIT(atomic_load(&mon_acks) == 3, 10000);
    T_EQ_INT(atomic_load(&mon_stale), 1);
    T_EQ_INT(atomic_load(&mon_down_count), 2);

    /* a reused slot does not revive an old ref */
    rt_ref_t v3;
    T_EQ_INT(rt_spawn(rt, &victim_kind, &v3), RT_OK);
    T_EQ_INT(rt_send(rt, v1, rt_test_msg(MSG_PING, 0, 0)), RT_ESTALE);
    T_EQ_INT(rt_send(rt, v3, rt_test_msg(MSG_PING, 0, 0)), RT_OK);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

/* ---- skynet-style tree: spawn, reply, stop (exercises reclamation) ----------------- */

typedef struct sky_state {
    uint64_t sum;
    uint32_t left;
    rt_ref_t parent;
} sky_state_t;

#ifndef SKY_SIZE
#define SKY_SIZE 10000
#endif
static atomic_ullong sky_result;
static atomic_int sky_done;

static int sky_handle(rt_actor_t *self, const rt_msg_t *m)
{
    sky_state_t *s = rt_self_state(self);
    rt_runtime_t *rt = rt_self_runtime(self);
    if (m->type == MSG_SPAWN) {
        uint64_t num, size;
        memcpy(&num, m->payload, 8);
        memcpy(&size, m->payload + 8, 8);
        s->parent = m->from;
        if (size == 1) {
            if (rt_ref_is_none(s->parent)) {
                atomic_store(&sky_result, num);
                atomic_store(&sky_done, 1);
            } else {
                rt_send(rt, s->parent, rt_test_msg(MSG_RESULT, 0, num));
            }
            return RT_STOP;
        }
        s->left = 10;
        for (uint64_t i = 0; i < 10; i++) {
            rt_ref_t c;
            if (rt_spawn(rt, rt_self_kind(self), &c) != RT_OK) return RT_EFAIL;
            rt_msg_t *cm = rt_msg_new(MSG_SPAWN, 16);
            uint64_t cn = num + i * (size / 10), cs = size / 10;
            memcpy(cm->payload, &cn, 8);
            memcpy(cm->payload + 8, &cs, 8);
            cm->len = 16;
            if (rt_send(rt, c, cm) != RT_OK) return RT_EFAIL;
        }
        return RT_OK;
    }
    if (m->type == MSG_RESULT) {
        s->sum += rt_test_val(m);
        if (--s->left) return RT_OK;
        if (rt_ref_is_none(s->parent)) {
            atomic_store(&sky_result, s->sum);
            atomic_store(&sky_done, 1);
        } else {
            rt_send(rt, s->parent, rt_test_msg(MSG_RESULT, 0, s->sum));
        }
        return RT_STOP;
    }
    return RT_OK;
}
static const rt_kind_t sky_kind = {.name = "skynet", .state_size = sizeof(sky_state_t), .handle = sky_handle};

T_CASE(skynet_tree_spawn_reply_stop)
{
    atomic_store(&sky_done, 0);
    rt_runtime_t *rt = rt_test_new(2);
    T_EQ_INT(rt_kind_register(rt, &sky_kind), RT_OK);
    T_EQ_INT(rt_kind_register(rt, &sky_kind), RT_EINVAL);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    rt_ref_t root;
    T_EQ_INT(rt_spawn(rt, &sky_kind, &root), RT_OK);
    rt_msg_t *m = rt_msg_new(MSG_SPAWN, 16);
    uint64_t num = 0, size = SKY_SIZE;
    memcpy(m->payload, &num, 8);
    memcpy(m->payload + 8, &size, 8);
    m->len = 16;
    T_EQ_INT(rt_send(rt, root, m), RT_OK);
    T_WAIT(atomic_load(&sky_done) == 1, 60000);
    T_EQ_INT(atomic_load(&sky_result), (uint64_t)SKY_SIZE * (SKY_SIZE - 1) / 2);
    rt_stats_t st;
    rt_stats_get(rt, &st);
    T_EQ_INT(st.nkinds, 1);
    T_EQ_STR(st.kinds[0].name, "skynet");
    uint64_t nact = 0;
    for (uint64_t p = 1; p <= SKY_SIZE; p *= 10) nact += p;
    T_EQ_INT(st.kinds[0].activations, nact);
    T_WAIT((rt_stats_get(rt, &st), st.kinds[0].live == 0), 10000);
    T_EQ_INT(st.kinds[0].passivations, nact);
    T_EQ_INT(st.kinds[0].failures, 0);
    rt_runtime_stop(rt, 1000);
    rt_runtime_free(rt);
}

/* ---- sends by key --------------------------------------------------------------------------- */

static atomic_ulong key_handled;
static atomic_int key_bad;
static int key_handle(rt_actor_t *self, const rt_msg_t *m)
{
    char want[32];
    snprintf(want, sizeof want, "k%llu", (unsigned long long)rt_test_val(m));
    if (strcmp(rt_self_key(self), want) != 0) atomic_fetch_add(&key_bad, 1);
    atomic_fetch_add(&key_handled, 1);
    return RT_OK;
}
static const rt_kind_t key_kind = {.name = "keyed", .handle = key_handle};

T_CASE(send_by_key_activates_one_actor_per_key)
{
    atomic_store(&key_handled, 0);
    atomic_store(&key_bad, 0);
    rt_runtime_t *rt = rt_test_new(2);
    T_EQ_INT(rt_kind_register(rt, &key_kind), RT_OK);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    for (int round = 0; round < 3; round++)
        for (uint64_t k = 0; k < 1000; k++) {
            char key[32];
            snprintf(key, sizeof key, "k%llu", (unsigned long long)k);
            T_EQ_INT(rt_send_key(rt, &key_kind, key, rt_test_msg(MSG_PING, 0, k)), RT_OK);
        }
    T_WAIT(atomic_load(&key_handled) == 3000, 10000);
    T_EQ_INT(atomic_load(&key_bad), 0);
    rt_stats_t st;
    rt_stats_get(rt, &st);
    T_EQ_INT(st.kinds[0].activations, 1000);
    T_EQ_INT(st.kinds[0].live, 1000);
    /* bad keys */
    char big[RT_KEY_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    T_EQ_INT(rt_send_key(rt, &key_kind, big, rt_test_msg(MSG_PING, 0, 0)), RT_EINVAL);
    T_EQ_INT(rt_send_key(rt, &key_kind, NULL, rt_test_msg(MSG_PING, 0, 0)), RT_EINVAL);
    T_EQ_INT(rt_send_key(rt, NULL, "x", rt_test_msg(MSG_PING, 0, 0)), RT_EINVAL);
    T_CHECK(rt_kind_find(rt, "keyed") == &key_kind);
    T_CHECK(rt_kind_find(rt, "nope") == NULL);
    rt_runtime_stop(rt, 1000);
    rt_stats_get(rt, &st);
    T_EQ_INT(st.kinds[0].live, 0);
    T_EQ_INT(st.kinds[0].passivations, 1000);
    rt_runtime_free(rt);
}

T_MAIN()
