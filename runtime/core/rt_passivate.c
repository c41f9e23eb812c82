/* rt_passivate.c — how an activation ends and how an actor leaves.
 *
 * Purpose: deactivation (on_passivate when asked, state_free, timers, a new
 * generation, DOWN to monitors; a keyed actor keeps what it received for a
 * re-activation in place), retirement (out of the slot table and the
 * directory, freed after a QSBR grace period), idle passivation from the
 * worker's cron, the reclaim after the grace period (messages that raced the
 * end are re-sent by key), and the FINAL phase of shutdown.
 *
 * Exports: rt_actor_deactivate, rt_actor_try_close (rt_life.h);
 * rt_actor_cron, rt_actor_reclaim, rt_actor_shutdown_all,
 * rt_actor_destroy_orphan (rt_internal.h).
 *
 * Threads: the actor's home worker; rt_actor_destroy_orphan on the main
 * thread after the workers are joined.
 */
#include "rt_life.h"
#include "rt_mailbox.h"

/* End the current activation: on_passivate (if asked and the actor was
 * active), state_free, timers, a new generation, DOWN to monitors. A keyed
 * actor stays allocated and INACTIVE; everything it has already
 * received is moved to the held list except messages that belonged to the
 * old activation (I/O results, timers, DOWN, monitor requests). */
void rt_actor_deactivate(rt_worker_t *w, rt_actor_t *a, bool passivate, uint32_t reason)
{
    if (a->status == RT_ST_INACTIVE || a->status == RT_ST_DEAD) return;
    const rt_kind_t *k = a->kind;
    rt_ref_t old = rt_self_ref(a);
    if (passivate && a->status == RT_ST_ACTIVE && k->on_passivate) k->on_passivate(a);
    if (k->state_free) k->state_free(rt_actor_state(a));
    rt_timer_clear(a);
    rt_kind_ctr_t *c = rt_actor_ctr(w, a);
    if (c) RT_CTR_INC(&c->deactivations);
    rt_actor_set_status(a, RT_ST_INACTIVE);

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

    /* filter what the old activation left behind: held messages (a held
     * message is never a monitor request — those are handled on arrival)
     * and the mailbox */
    if (x && x->held_head) {
        rt_msg_t *keep = x->held_head;
        x->held_head = x->held_tail = NULL;
        while (keep) {
            /* relaxed: consumer-private list */
            rt_msg_t *nx = atomic_load_explicit(&keep->next, memory_order_relaxed);
            if (rt_msg_activation_bound(keep)) rt_msg_drop(keep, RT_ESTALE);
            else rt_held_push_back(x, keep);
            keep = nx;
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
    rt_actor_set_status(a, RT_ST_DEAD);
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
int rt_actor_try_close(rt_worker_t *w, rt_actor_t *a, bool force)
{
    if (!(a->aflags & RT_AF_KEYED)) {
        rt_actor_retire(w, a);
        return RT_RUN_ENDED;
    }
    rt_dir_shard_t *sh = rt_dir_shard(a->rt, a->hash);
    pthread_mutex_lock(&sh->mu);
    bool busy = rt_held_any(a) || !rt_mbox_lanes_empty(a);
    if (busy && !force) {
        pthread_mutex_unlock(&sh->mu);
        return RT_RUN_CONT;
    }
    rt_dir_remove(sh, a);
    pthread_mutex_unlock(&sh->mu);
    rt_actor_retire(w, a);
    return RT_RUN_ENDED;
}

/* ---- passivation ---------------------------------------------------------------- */

void rt_actor_cron(rt_worker_t *w, rt_actor_t *a, uint32_t now)
{
    if (a->status == RT_ST_LOADING || a->status == RT_ST_DEAD) return;
    if (now - a->last_active < a->kind->idle_age_ms) return;
    if (!rt_mbox_take_token(a)) return;        /* queued or has mail */
    if (rt_held_any(a) || !rt_mbox_lanes_empty(a)) {
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
        rt_actor_set_status(a, RT_ST_DEAD);
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

