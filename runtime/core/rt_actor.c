/* rt_actor.c — an actor's life on its home worker: activation, batches,
 * supervision, passivation, retirement.
 *
 * Purpose: rt_actor_run delivers at most RT_BATCH messages per scheduling
 * (urgent lane first, normal lane up to the head seen when the run began),
 * activating the actor on its first message, holding messages in order
 * while load() is pending, and turning handler failures into a dropped
 * activation (supervision) and repeated failures into quarantine. An
 * actor's memory is freed only after a grace period (rt_qsbr.h); messages
 * that raced its end are re-sent by key to a fresh activation.
 *
 * Exports: rt_actor_new, rt_actor_discard, rt_actor_ext, rt_actor_push,
 * rt_actor_enqueue, rt_actor_run, rt_actor_cron, rt_actor_reclaim,
 * rt_actor_shutdown_all, rt_actor_destroy_orphan; the public rt_self_*,
 * rt_send_self, rt_monitor.
 *
 * Threads: rt_actor_new / push / enqueue from any thread; everything else
 * on the actor's home worker (rt_actor_destroy_orphan: main thread after
 * the workers are joined).
 */
#include "rt_mailbox.h"
#include "rt_qsbr.h"
#include "rt_log.h"
#include "rt_pool.h"

#include <stdlib.h>
#include <string.h>

enum { RT_RUN_CONT = 0, RT_RUN_ENDED = 1 };

/* ---- allocation ------------------------------------------------------------- */

/* Actors come from the size-class pools (64-byte aligned, no header) or,
 * when bigger than RT_POOL_MAX, from posix_memalign. The size is
 * recomputed from state_off and the kind when the actor is freed. */
static void *rt_actor_mem_get(size_t size)
{
    int c = rt_pool_class(size);
    if (c >= 0) return rt_pool_get(c);
    void *p = NULL;
    return posix_memalign(&p, RT_CACHELINE, size) == 0 ? p : NULL;
}

static void rt_actor_mem_put(rt_actor_t *a)
{
    int c = rt_pool_class((size_t)a->state_off + a->kind->state_size);
    if (c >= 0) rt_pool_put(c, a);
    else free(a);
}

rt_actor_t *rt_actor_new(rt_runtime_t *rt, const rt_kind_t *kind, int kidx, const char *key,
                         size_t keylen, uint32_t hash, int worker)
{
    size_t off = sizeof(rt_actor_t);
    if (key) off += keylen + 1;
    off = (off + 15) & ~(size_t)15;
    if (off > UINT16_MAX) return NULL;
    void *p = rt_actor_mem_get(off + kind->state_size);
    if (!p) return NULL;
    rt_actor_t *a = p;
    memset(a, 0, sizeof *a);
    uint32_t gen = 0;
    a->state_off = (uint16_t)off;
    a->kind = kind;
    uint32_t slot = rt_slot_alloc(rt, &gen);
    if (!slot) {
        rt_actor_mem_put(a);
        return NULL;
    }
    rt_mbox_init(a);
    /* relaxed: published by rt_slot_set (release) / the shard lock */
    atomic_store_explicit(&a->gen, gen, memory_order_relaxed);
    atomic_store_explicit(&a->pushed, 0, memory_order_relaxed);
    atomic_store_explicit(&a->popped, 0, memory_order_relaxed);
    atomic_store_explicit(&a->rq.next, NULL, memory_order_relaxed);
    a->kind = kind;
    a->rt = rt;
    a->slot = slot;
    a->hash = hash;
    a->worker = (uint16_t)worker;
    a->state_off = (uint16_t)off;
    a->kidx = (uint8_t)kidx;
    a->aflags = key ? RT_AF_KEYED : 0;
    a->cron_idx = UINT32_MAX;
    a->status = RT_ST_INACTIVE;
    if (key) {
        memcpy((char *)(a + 1), key, keylen);
        ((char *)(a + 1))[keylen] = '\0';
    }
    /* relaxed: placement heuristic only */
    atomic_fetch_add_explicit(&rt->workers[worker].nlive, 1, memory_order_relaxed);
    rt_slot_set(rt, slot, a);
    return a;
}

void rt_actor_discard(rt_actor_t *a)
{
    rt_runtime_t *rt = a->rt;
    rt_slot_free(rt, a->slot);
    atomic_fetch_sub_explicit(&rt->workers[a->worker].nlive, 1, memory_order_relaxed);
    rt_actor_mem_put(a);
}

rt_actor_ext_t *rt_actor_ext(rt_actor_t *a)
{
    if (!a->ext) a->ext = calloc(1, sizeof *a->ext);
    return a->ext;
}

static inline void *rt_actor_state(rt_actor_t *a) { return (char *)a + a->state_off; }

static inline rt_kind_ctr_t *rt_actor_ctr(rt_worker_t *w, rt_actor_t *a)
{
    return a->kidx < RT_KINDS_MAX ? &w->kc[a->kidx] : NULL;
}

/* Owner-only counter bump: relaxed load + store (single writer), read
 * relaxed by rt_stats_get. */
#define RT_CTR_INC(p) atomic_store_explicit((p), atomic_load_explicit((p), memory_order_relaxed) + 1, \
                                            memory_order_relaxed)

/* ---- pushing ------------------------------------------------------------------- */

bool rt_actor_enqueue(rt_actor_t *a, rt_msg_t *m)
{
    /* relaxed: depth metric; incremented before the push so depth never
     * goes negative for long */
    atomic_fetch_add_explicit(&a->pushed, 1, memory_order_relaxed);
    if (m->flags & RT_MSG_F_URGENT) return rt_mbox_push_urgent(a, m);
    return rt_mbox_push_normal(a, m);
}

void rt_actor_push(rt_actor_t *a, rt_msg_t *m)
{
    if (rt_actor_enqueue(a, m)) rt_worker_schedule(a->rt, a);
}

/* ---- held messages (FIFO through m->next; a popped message is ours) -------- */

static void rt_held_push_back(rt_actor_ext_t *x, rt_msg_t *m)
{
    /* relaxed: consumer-private list */
    atomic_store_explicit(&m->next, NULL, memory_order_relaxed);
    if (x->held_tail) atomic_store_explicit(&x->held_tail->next, m, memory_order_relaxed);
    else x->held_head = m;
    x->held_tail = m;
}

static void rt_held_push_front(rt_actor_ext_t *x, rt_msg_t *m)
{
    atomic_store_explicit(&m->next, x->held_head, memory_order_relaxed);
    x->held_head = m;
    if (!x->held_tail) x->held_tail = m;
}

static rt_msg_t *rt_held_pop(rt_actor_ext_t *x)
{
    rt_msg_t *m = x->held_head;
    if (!m) return NULL;
    x->held_head = atomic_load_explicit(&m->next, memory_order_relaxed);
    if (!x->held_head) x->held_tail = NULL;
    return m;
}

/* Keep m for later; if the ext block cannot be allocated the message is
 * dropped (ENOMEM) and logged. */
static void rt_actor_hold(rt_actor_t *a, rt_msg_t *m, bool front)
{
    rt_actor_ext_t *x = rt_actor_ext(a);
    if (!x) {
        LOG_ERROR("actor_hold_enomem", "kind=%s type=%u", a->kind->name, (unsigned)m->type);
        rt_msg_drop(m, RT_ENOMEM);
        return;
    }
    if (front) rt_held_push_front(x, m);
    else rt_held_push_back(x, m);
}

/* ---- monitors --------------------------------------------------------------- */

static void rt_actor_send_down(rt_runtime_t *rt, rt_ref_t to, rt_ref_t from, uint32_t reason)
{
    rt_msg_t *d = rt_msg_new(RT_MSG_DOWN, 0);
    if (!d) return;
    d->flags = RT_MSG_F_URGENT;
    d->from = from;
    d->corr = reason;
    (void)rt_send(rt, to, d);
}

static void rt_actor_add_watch(rt_actor_t *a, rt_ref_t who)
{
    rt_actor_ext_t *x = rt_actor_ext(a);
    if (x && x->nwatch == x->capwatch) {
        uint32_t cap = x->capwatch ? x->capwatch * 2 : 4;
        rt_ref_t *g = realloc(x->watch, cap * sizeof *g);
        if (g) {
            x->watch = g;
            x->capwatch = cap;
        }
    }
    if (!x || x->nwatch == x->capwatch) {
        /* cannot remember the watcher: tell it now rather than never */
        rt_actor_send_down(a->rt, who, rt_self_ref(a), RT_DOWN_STOPPED);
        return;
    }
    x->watch[x->nwatch++] = who;
}

/* A message that belonged to an ended activation or a gone actor. */
static void rt_actor_drop_bound(rt_actor_t *a, rt_msg_t *m, rt_ref_t old, int code)
{
    if (m->type == RT_MSG_I_MONITOR) rt_actor_send_down(a->rt, m->from, old, RT_DOWN_STOPPED);
    rt_msg_drop(m, code);
}

/* ---- activation, deactivation, end --------------------------------------- */

/* Start an activation: zero the state, call load() and, when the state is
 * ready, on_activate(NULL). Leaves status LOADING or ACTIVE, or returns a
 * negative code (status LOADING: the caller fails the activation). */
static int rt_actor_activate(rt_worker_t *w, rt_actor_t *a)
{
    const rt_kind_t *k = a->kind;
    memset(rt_actor_state(a), 0, k->state_size);
    if ((a->aflags & RT_AF_KEYED) && k->idle_age_ms && a->cron_idx == UINT32_MAX)
        rt_worker_cron_add(w, a);
    rt_kind_ctr_t *c = rt_actor_ctr(w, a);
    if (c) RT_CTR_INC(&c->activations);
    a->last_active = w->now;
    a->status = RT_ST_LOADING;
    int r = k->load ? k->load(a) : RT_OK;
    if (r < 0) return r;
    if (r == RT_PENDING) return RT_OK;
    if (k->on_activate) {
        r = k->on_activate(a, NULL);
        if (r < 0) return r;
    }
    a->status = RT_ST_ACTIVE;
    return RT_OK;
}

/* End the current activation: on_passivate (if asked and the actor was
 * active), state_free, timers, a new generation, DOWN to monitors. A keyed
 * actor stays allocated and INACTIVE; everything it has already
 * received is moved to the held list except messages that belonged to the
 * old activation (I/O results, timers, DOWN, monitor requests). */
static void rt_actor_deactivate(rt_worker_t *w, rt_actor_t *a, bool passivate, uint32_t reason)
{
    if (a->status == RT_ST_INACTIVE || a->status == RT_ST_DEAD) return;
    const rt_kind_t *k = a->kind;
    rt_ref_t old = rt_self_ref(a);
    if (passivate && a->status == RT_ST_ACTIVE && k->on_passivate) k->on_passivate(a);
    if (k->state_free) k->state_free(rt_actor_state(a));
    rt_timer_clear(a);
    rt_kind_ctr_t *c = rt_actor_ctr(w, a);
    if (c) RT_CTR_INC(&c->deactivations);
    a->status = RT_ST_INACTIVE;

    /* new generation: refs to the old activation go stale before anyone
     * hears of its end (release: whoever learns of it through the DOWN
     * below also sees the new generation) */
    uint32_t g = rt_slot_bump(a->rt, a->slot);
    atomic_store_explicit(&a->gen, g, memory_order_release);
    rt_actor_ext_t *x = a->ext;
    if (x && x->nwatch) {
        for (uint32_t i = 0; i < x->nwatch; i++) rt_actor_send_down(a->rt, x->watch[i], old, reason);
        x->nwatch = 0;
    }
    if (!(a->aflags & RT_AF_KEYED)) return;

    /* filter what the old activation left behind */
    if (x && x->held_head) {
        rt_msg_t *keep = x->held_head;
        x->held_head = x->held_tail = NULL;
        while (keep) {
            rt_msg_t *n = atomic_load_explicit(&keep->next, memory_order_relaxed);
            if (rt_msg_activation_bound(keep) && keep->type != RT_MSG_I_MONITOR)
                rt_msg_drop(keep, RT_ESTALE);
            else if (keep->type == RT_MSG_I_MONITOR)
                rt_actor_drop_bound(a, keep, old, RT_ESTALE);
            else
                rt_held_push_back(x, keep);
            keep = n;
        }
    }
    rt_msg_t *m;
    uint32_t n = 0;
    while ((m = rt_mbox_pop_urgent(a)) || (m = rt_mbox_pop_normal(a))) {
        n++;
        if (rt_msg_activation_bound(m)) rt_actor_drop_bound(a, m, old, RT_ESTALE);
        else rt_actor_hold(a, m, false);
    }
    if (n) atomic_fetch_add_explicit(&a->popped, n, memory_order_relaxed); /* relaxed: metric */
}

/* The actor leaves for good: out of the slot table, out of the cron
 * vector, memory freed after a grace period. Caller owns the token and
 * has removed a keyed actor from the directory. */
static void rt_actor_retire(rt_worker_t *w, rt_actor_t *a)
{
    a->status = RT_ST_DEAD;
    if (a->cron_idx != UINT32_MAX) rt_worker_cron_del(w, a);
    rt_slot_free(a->rt, a->slot);
    /* relaxed: placement heuristic */
    atomic_fetch_sub_explicit(&a->rt->workers[a->worker].nlive, 1, memory_order_relaxed);
    rt_worker_retire(w, a);
}

/* After deactivation: free the actor unless a keyed actor has work left,
 * in which case it stays (INACTIVE) and the next message re-activates it
 * in place, keeping message order. `force` ends it regardless
 * (quarantine). Returns RT_RUN_ENDED when the actor was retired. */
static int rt_actor_try_close(rt_worker_t *w, rt_actor_t *a, bool force)
{
    if (!(a->aflags & RT_AF_KEYED)) {
        rt_actor_retire(w, a);
        return RT_RUN_ENDED;
    }
    rt_dir_shard_t *sh = rt_dir_shard(a->rt, a->hash);
    pthread_mutex_lock(&sh->mu);
    bool busy = (a->ext && a->ext->held_head) || !rt_mbox_lanes_empty(a);
    if (busy && !force) {
        pthread_mutex_unlock(&sh->mu);
        return RT_RUN_CONT;
    }
    rt_dir_remove(sh, a);
    pthread_mutex_unlock(&sh->mu);
    rt_actor_retire(w, a);
    return RT_RUN_ENDED;
}

/* Supervision: a negative return from load, on_activate or handle. */
static int rt_actor_fail(rt_worker_t *w, rt_actor_t *a, int rc, const char *where)
{
    rt_runtime_t *rt = a->rt;
    const char *key = rt_actor_key(a);
    LOG_WARN("actor_failed", "kind=%s key=\"%s\" in=%s rc=%s", a->kind->name, key, where,
             rt_strerror(rc));
    rt_kind_ctr_t *c = rt_actor_ctr(w, a);
    if (c) RT_CTR_INC(&c->failures);
    bool quarantined = false;
    if (a->aflags & RT_AF_KEYED) {
        rt_dir_shard_t *sh = rt_dir_shard(rt, a->hash);
        pthread_mutex_lock(&sh->mu);
        quarantined = rt_dir_record_failure(sh, a->kind, key, a->hash, rt_now_ms());
        pthread_mutex_unlock(&sh->mu);
    }
    rt_actor_deactivate(w, a, false, RT_DOWN_FAILED);
    if (!quarantined) return rt_actor_try_close(w, a, false);

    if (c) RT_CTR_INC(&c->quarantines);
    LOG_ERROR("actor_quarantined", "kind=%s key=\"%s\" failures=%d window_ms=%d for_ms=%d",
              a->kind->name, key, RT_QUARANTINE_MAX, RT_QUARANTINE_WINDOW_MS, RT_QUARANTINE_MS);
    uint32_t dropped = 0;
    if (a->ext) {
        rt_msg_t *m;
        while ((m = rt_held_pop(a->ext))) {
            rt_msg_drop(m, RT_EQUARANTINED);
            dropped++;
        }
    }
    /* relaxed: metric */
    atomic_fetch_add_explicit(&w->dropped_q, dropped, memory_order_relaxed);
    /* whatever still arrives is re-sent by key after the grace period and
     * dropped there by the quarantine check */
    return rt_actor_try_close(w, a, true);
}

/* ---- delivery ---------------------------------------------------------------- */

static int rt_actor_deliver(rt_worker_t *w, rt_actor_t *a, rt_msg_t *m)
{
    const rt_kind_t *k = a->kind;
    if (m->type == RT_MSG_I_MONITOR) {
        rt_actor_add_watch(a, m->from);
        rt_msg_drop(m, RT_OK);
        return RT_RUN_CONT;
    }
    bool is_act = m->corr == RT_CORR_ACTIVATE || m->type == RT_MSG_ACTIVATE_RESULT;
    if (a->status == RT_ST_INACTIVE) {
        if (m->type == RT_MSG_ACTIVATE_RESULT) {   /* left over from a failed activation */
            rt_msg_drop(m, RT_ESTALE);
            return RT_RUN_CONT;
        }
        int r = rt_actor_activate(w, a);
        if (r < 0) {
            rt_actor_hold(a, m, true);
            return rt_actor_fail(w, a, r, "load");
        }
        if (a->status == RT_ST_LOADING) {
            rt_actor_hold(a, m, true);
            return RT_RUN_CONT;
        }
        is_act = false;
    } else if (a->status == RT_ST_LOADING) {
        if (!is_act) {
            rt_actor_hold(a, m, false);
            return RT_RUN_CONT;
        }
        int r = k->on_activate ? k->on_activate(a, m) : RT_OK;
        rt_msg_drop(m, RT_EFAIL);
        if (r < 0) return rt_actor_fail(w, a, r, "on_activate");
        a->status = RT_ST_ACTIVE;
        a->last_active = w->now;
        return RT_RUN_CONT;
    }
    /* ACTIVE */
    if (m->type == RT_MSG_ACTIVATE_RESULT) {       /* reserved: never to handle() */
        rt_msg_drop(m, RT_EINVAL);
        return RT_RUN_CONT;
    }
    if (m->type == RT_MSG_TIMER) {
        if (!rt_timer_take(a, m->corr)) {          /* cancelled */
            rt_msg_drop(m, RT_ENOTFOUND);
            return RT_RUN_CONT;
        }
    } else {
        a->last_active = w->now;
    }
    int r = k->handle(a, m);
    RT_CTR_INC(&w->messages);
    rt_msg_drop(m, RT_EFAIL);
    if (r < 0) return rt_actor_fail(w, a, r, "handle");
    if (r == RT_STOP) {
        rt_kind_ctr_t *c = rt_actor_ctr(w, a);
        if (c) RT_CTR_INC(&c->passivations);
        rt_actor_deactivate(w, a, true, RT_DOWN_STOPPED);
        return rt_actor_try_close(w, a, false);
    }
    return RT_RUN_CONT;
}

bool rt_actor_run(rt_worker_t *w, rt_actor_t *a)
{
    rt_tls_actor = a;
    a->running = 1;
    int budget = RT_BATCH;
    /* relaxed: identity only; we own the token so the head is untagged.
     * The head may be the stub while messages remain in front of it (the
     * stub was re-linked behind a message a producer had not linked yet):
     * then there is no message to stop at and RT_BATCH alone bounds the run. */
    rt_msg_t *snap = rt_mbox_untag(atomic_load_explicit(&a->head, memory_order_relaxed));
    if (snap == RT_MBOX_STUB(a)) snap = NULL;
    bool nopen = snap || a->tail != RT_MBOX_STUB(a);
    uint32_t npop = 0;
    int r = RT_RUN_CONT;
    while (budget > 0) {
        rt_msg_t *m;
        rt_actor_ext_t *x = a->ext;
        if (x && x->held_head && a->status != RT_ST_LOADING) {
            m = rt_held_pop(x);
        } else if ((m = rt_mbox_pop_urgent(a))) {
            npop++;
        } else if (nopen && (m = rt_mbox_pop_normal(a))) {
            npop++;
            if (m == snap) nopen = false;
        } else {
            break;
        }
        budget--;
        r = rt_actor_deliver(w, a, m);
        if (r == RT_RUN_ENDED) break;
    }
    rt_tls_actor = NULL;
    if (npop) {
        /* single writer: relaxed load + store is enough (metric) */
        uint32_t po = atomic_load_explicit(&a->popped, memory_order_relaxed) + npop;
        atomic_store_explicit(&a->popped, po, memory_order_relaxed);
    }
    if (r == RT_RUN_ENDED) return false;
    a->running = 0;
    uint32_t d = rt_mbox_depth(a);
    if (d > w->deepest_cur) w->deepest_cur = d;
    if (a->ext && a->ext->held_head && a->status != RT_ST_LOADING) return true;
    return !rt_mbox_try_idle(a);
}

/* ---- passivation ---------------------------------------------------------------- */

void rt_actor_cron(rt_worker_t *w, rt_actor_t *a, uint32_t now)
{
    if (a->status == RT_ST_LOADING || a->status == RT_ST_DEAD) return;
    if (now - a->last_active < a->kind->idle_age_ms) return;
    if (!rt_mbox_take_token(a)) return;        /* queued or has mail */
    if ((a->ext && a->ext->held_head) || !rt_mbox_lanes_empty(a)) {
        rt_worker_schedule(a->rt, a);
        return;
    }
    if (a->status == RT_ST_ACTIVE) {
        rt_kind_ctr_t *c = rt_actor_ctr(w, a);
        if (c) RT_CTR_INC(&c->passivations);
    }
    rt_tls_actor = a;
    rt_actor_deactivate(w, a, true, RT_DOWN_STOPPED);
    rt_tls_actor = NULL;
    if (rt_actor_try_close(w, a, false) != RT_RUN_ENDED) rt_worker_schedule(a->rt, a);
}

/* ---- after the grace period ------------------------------------------------------ */

static void rt_actor_reroute(rt_actor_t *a, rt_msg_t *m, void *arg)
{
    (void)arg;
    rt_runtime_t *rt = a->rt;
    rt_ref_t old = {a->slot, atomic_load_explicit(&a->gen, memory_order_relaxed)};
    int ph = atomic_load_explicit(&rt->phase, memory_order_relaxed); /* relaxed: hint */
    if (ph >= RT_PHASE_FINAL) {
        rt_actor_drop_bound(a, m, old, RT_ESHUTDOWN);
        return;
    }
    if ((a->aflags & RT_AF_KEYED) && (m->type >= RT_MSG_USER || m->type == RT_MSG_REMINDER)) {
        (void)rt_send_key(rt, a->kind, rt_actor_key(a), m);   /* never lost */
        return;
    }
    rt_actor_drop_bound(a, m, old, RT_ESTALE);
}

static void rt_actor_free_mem(rt_actor_t *a)
{
    if (a->ext) {
        free(a->ext->watch);
        free(a->ext);
    }
    rt_actor_mem_put(a);
}

void rt_actor_reclaim(rt_worker_t *w, rt_actor_t *a)
{
    (void)w;
    if (a->ext) {
        rt_msg_t *m;
        while ((m = rt_held_pop(a->ext))) rt_actor_reroute(a, m, NULL);
    }
    rt_mbox_drain(a, rt_actor_reroute, NULL);
    rt_actor_free_mem(a);
}

/* ---- shutdown ---------------------------------------------------------------------- */

void rt_actor_shutdown_all(rt_worker_t *w)
{
    rt_runtime_t *rt = w->rt;
    /* acquire: see rt_slot_entry */
    uint32_t hwm = atomic_load_explicit(&rt->slot_hwm, memory_order_acquire);
    for (uint32_t s = 1; s < hwm; s++) {
        rt_slot_t *e = rt_slot_entry(rt, s);
        /* acquire: the actor's fields are initialised */
        rt_actor_t *a = atomic_load_explicit(&e->actor, memory_order_acquire);
        if (!a || a->worker != w->index || a->status == RT_ST_DEAD) continue;
        rt_tls_actor = a;
        if (a->status != RT_ST_INACTIVE) {
            const rt_kind_t *k = a->kind;
            if (a->status == RT_ST_ACTIVE && k->on_passivate) k->on_passivate(a);
            if (k->state_free) k->state_free(rt_actor_state(a));
            rt_kind_ctr_t *c = rt_actor_ctr(w, a);
            if (c) {
                RT_CTR_INC(&c->deactivations);
                RT_CTR_INC(&c->passivations);
            }
        }
        rt_timer_clear(a);
        a->status = RT_ST_DEAD;
        rt_tls_actor = NULL;
    }
}

static void rt_actor_drop_cb(rt_actor_t *a, rt_msg_t *m, void *arg)
{
    (void)a;
    (void)arg;
    rt_msg_drop(m, RT_ESHUTDOWN);
}

void rt_actor_destroy_orphan(rt_runtime_t *rt, rt_actor_t *a)
{
    (void)rt;
    if (a->status != RT_ST_INACTIVE && a->status != RT_ST_DEAD && a->kind->state_free)
        a->kind->state_free(rt_actor_state(a));
    rt_timer_clear(a);
    if (a->ext) {
        rt_msg_t *m;
        while ((m = rt_held_pop(a->ext))) rt_msg_drop(m, RT_ESHUTDOWN);
    }
    rt_mbox_drain(a, rt_actor_drop_cb, NULL);
    rt_actor_free_mem(a);
}

/* ---- the running actor's view ------------------------------------------------------- */

void *rt_self_state(rt_actor_t *self) { return rt_actor_state(self); }
const char *rt_self_key(const rt_actor_t *self) { return rt_actor_key(self); }
const rt_kind_t *rt_self_kind(const rt_actor_t *self) { return self->kind; }
rt_runtime_t *rt_self_runtime(rt_actor_t *self) { return self->rt; }

rt_ref_t rt_self_ref(const rt_actor_t *self)
{
    /* relaxed: only the home worker writes gen; other readers tolerate a
     * just-bumped value (they fail with RT_ESTALE later) */
    rt_ref_t r = {self->slot, atomic_load_explicit(&self->gen, memory_order_relaxed)};
    return r;
}

int rt_send_self(rt_actor_t *self, rt_msg_t *m)
{
    if (!m) return RT_EINVAL;
    if (!self) {
        rt_msg_drop(m, RT_EINVAL);
        return RT_EINVAL;
    }
    /* relaxed: a hint; a message that slips past FINAL is dropped by the
     * main thread's final sweep */
    if (atomic_load_explicit(&self->rt->phase, memory_order_relaxed) >= RT_PHASE_FINAL) {
        rt_msg_drop(m, RT_ESHUTDOWN);
        return RT_ESHUTDOWN;
    }
    if (rt_ref_is_none(m->from)) m->from = rt_self_ref(self);
    rt_actor_push(self, m);
    return RT_OK;
}

int rt_monitor(rt_actor_t *self, rt_ref_t target)
{
    if (!self) return RT_EINVAL;
    rt_msg_t *m = rt_msg_new(RT_MSG_I_MONITOR, 0);
    if (!m) return RT_ENOMEM;
    m->flags = RT_MSG_F_URGENT;
    m->from = rt_self_ref(self);
    return rt_send(self->rt, target, m);
}
