/* rt_activate.c — the status machine at work: activation and delivery.
 *
 * Purpose: rt_actor_run delivers at most RT_BATCH messages per scheduling
 * (held messages first, then the urgent lane, then the normal lane up to
 * the head seen when the run began). Each delivery is decided by the
 * actor's status (the transitions are drawn in rt_life.h):
 *
 *   INACTIVE  the message starts an activation: zeroed state, load();
 *             RT_OK -> on_activate(NULL), ACTIVE; RT_PENDING -> LOADING
 *             with a deadline; an error -> supervision, the message kept.
 *   LOADING   messages are held in order until the one with corr
 *             RT_CORR_ACTIVATE arrives (-> on_activate(m), ACTIVE). If it
 *             has not arrived within the activation deadline
 *             (rt_config_t.activate_timeout_ms) the activation fails with
 *             RT_ETIMEDOUT, so a lost result cannot hold the actor's
 *             messages for ever; the held messages re-activate it.
 *   ACTIVE    handle(); RT_STOP passivates, an error goes to supervision.
 *
 * Exports: rt_actor_run (rt_internal.h).
 * Threads: the actor's home worker (owner of its scheduling token).
 */
#include "rt_life.h"
#include "rt_mailbox.h"

#include <string.h>

/* rt_deliver_inactive: the actor is ACTIVE now, m goes on to handle(). */
enum { RT_RUN_HANDLE = 2 };

/* Start an activation: zero the state, call load() and, when the state is
 * ready, on_activate(NULL). Leaves status LOADING (with the deadline armed)
 * or ACTIVE, or returns a negative code (status LOADING: the caller fails
 * the activation). */
static int rt_actor_activate(rt_worker_t *w, rt_actor_t *a)
{
    const rt_kind_t *k = a->kind;
    memset(rt_actor_state(a), 0, k->state_size);
    if ((a->aflags & RT_AF_KEYED) && k->idle_age_ms && a->cron_idx == UINT32_MAX)
        rt_worker_cron_add(w, a);
    rt_kind_ctr_t *c = rt_actor_ctr(w, a);
    if (c) RT_CTR_INC(&c->activations);
    a->last_active = w->now;
    rt_actor_set_status(a, RT_ST_LOADING);
    int r = k->load ? k->load(a) : RT_OK;
    if (r < 0) return r;
    if (r == RT_PENDING) {
        rt_actor_ext_t *x = rt_actor_ext(a);
        uint32_t ms = a->rt->cfg.activate_timeout_ms ? a->rt->cfg.activate_timeout_ms
                                                     : RT_ACTIVATE_TIMEOUT_MS;
        /* no ext / no timer (ENOMEM): the activation simply has no deadline */
        if (x) x->act_timer = rt_timer_arm(w, a, ms);
        return RT_OK;
    }
    if (k->on_activate) {
        r = k->on_activate(a, NULL);
        if (r < 0) return r;
    }
    rt_actor_set_status(a, RT_ST_ACTIVE);
    return RT_OK;
}

/* INACTIVE: m starts an activation. */
static int rt_deliver_inactive(rt_worker_t *w, rt_actor_t *a, rt_msg_t *m)
{
    int r = rt_actor_activate(w, a);
    if (r < 0) {
        rt_actor_hold(a, m, true);
        return rt_actor_fail(w, a, r, "load");
    }
    if (a->status == RT_ST_LOADING) {
        rt_actor_hold(a, m, true);
        return RT_RUN_CONT;
    }
    return RT_RUN_HANDLE;
}

/* LOADING: hold m, or complete the activation, or miss its deadline. */
static int rt_deliver_loading(rt_worker_t *w, rt_actor_t *a, rt_msg_t *m)
{
    rt_actor_ext_t *x = a->ext;
    if (m->type == RT_MSG_TIMER && x && x->act_timer && m->corr == x->act_timer &&
        rt_timer_take(a, m->corr)) {
        x->act_timer = 0;
        rt_msg_drop(m, RT_OK);
        return rt_actor_fail(w, a, RT_ETIMEDOUT, "activate_deadline");
    }
    if (m->corr != RT_CORR_ACTIVATE) {
        rt_actor_hold(a, m, false);
        return RT_RUN_CONT;
    }
    if (x && x->act_timer) {
        (void)rt_timer_cancel(a, x->act_timer);
        x->act_timer = 0;
    }
    const rt_kind_t *k = a->kind;
    int r = k->on_activate ? k->on_activate(a, m) : RT_OK;
    rt_msg_drop(m, RT_EFAIL);
    if (r < 0) return rt_actor_fail(w, a, r, "on_activate");
    rt_actor_set_status(a, RT_ST_ACTIVE);
    a->last_active = w->now;
    return RT_RUN_CONT;
}

/* ACTIVE: handle m. */
static int rt_deliver_active(rt_worker_t *w, rt_actor_t *a, rt_msg_t *m)
{
    if (m->type == RT_MSG_TIMER) {
        if (!rt_timer_take(a, m->corr)) {          /* cancelled */
            rt_msg_drop(m, RT_ENOTFOUND);
            return RT_RUN_CONT;
        }
    } else {
        a->last_active = w->now;
    }
    int r = a->kind->handle(a, m);
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

static int rt_actor_deliver(rt_worker_t *w, rt_actor_t *a, rt_msg_t *m)
{
    if (m->type == RT_MSG_I_MONITOR) {         /* any status: remember the watcher */
        rt_actor_add_watch(a, m->from);
        rt_msg_drop(m, RT_OK);
        return RT_RUN_CONT;
    }
    switch (a->status) {
    case RT_ST_INACTIVE: {
        int r = rt_deliver_inactive(w, a, m);
        return r == RT_RUN_HANDLE ? rt_deliver_active(w, a, m) : r;
    }
    case RT_ST_LOADING: return rt_deliver_loading(w, a, m);
    case RT_ST_ACTIVE: return rt_deliver_active(w, a, m);
    default:                                   /* DEAD: never scheduled */
        rt_msg_drop(m, RT_ESTALE);
        return RT_RUN_ENDED;
    }
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
    if (rt_held_any(a) && a->status != RT_ST_LOADING) return true;
    return !rt_mbox_try_idle(a);
}

