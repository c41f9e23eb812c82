/* rt_life.h — what the actor life-cycle files share (core-internal).
 *
 * Purpose: an actor's life is split by stage, the way Pony keeps its
 * collector apart from actor.c:
 *
 *   rt_actor.c      allocation, pushing, the running actor's view
 *   rt_activate.c   the status machine: activation, delivery, a run
 *   rt_supervise.c  failures and quarantine
 *   rt_monitor.c    monitors (watchers, DOWN)
 *   rt_passivate.c  deactivation, passivation, retirement, reclaim, shutdown
 *
 * This header holds the status machine (the one place that changes
 * a->status), the held-message FIFO and the functions the stages call on
 * each other.
 *
 * Exports (core-internal): rt_actor_set_status, rt_actor_state,
 * rt_actor_ctr, RT_CTR_INC, rt_held_*, rt_actor_hold, rt_actor_fail,
 * rt_actor_deactivate, rt_actor_try_close, rt_actor_retire,
 * rt_actor_send_down, rt_actor_add_watch, rt_actor_drop_bound,
 * rt_actor_free_mem, rt_actor_run_result (RT_RUN_*).
 *
 * Threads: the actor's home worker (the owner of its scheduling token),
 * except where a declaration says otherwise.
 */
#ifndef PLUS7_RT_LIFE_H
#define PLUS7_RT_LIFE_H

#include "rt_internal.h"

#include <assert.h>

/* What a delivery did to the run: go on, or the actor was retired. */
enum { RT_RUN_CONT = 0, RT_RUN_ENDED = 1 };

/* ---- the status machine ----------------------------------------------------------
 *
 *            activate              load ready / activation result
 *   INACTIVE ---------> LOADING ---------------------------------> ACTIVE
 *      ^  ^                |  failure, deadline                       |
 *      |  +----------------+  (supervision)                           |
 *      +--------------------------------------------------------------+
 *                 RT_STOP, idle passivation, failure
 *   any ----> DEAD   retired (left the slot table) or the FINAL phase
 *
 * INACTIVE is also the state of a keyed actor re-activated in place: it
 * keeps its struct and held messages, the next delivery activates it. */
static inline bool rt_status_legal(uint8_t from, uint8_t to)
{
    static const uint8_t ok[4] = {
        [RT_ST_INACTIVE] = 1u << RT_ST_LOADING | 1u << RT_ST_DEAD,
        [RT_ST_LOADING] = 1u << RT_ST_ACTIVE | 1u << RT_ST_INACTIVE | 1u << RT_ST_DEAD,
        [RT_ST_ACTIVE] = 1u << RT_ST_INACTIVE | 1u << RT_ST_DEAD,
        [RT_ST_DEAD] = 0,
    };
    return from < 4 && to < 4 && (ok[from] >> to & 1u);
}

/* The only writer of a->status. An illegal transition is a runtime bug
 * (asserted in debug builds). */
static inline void rt_actor_set_status(rt_actor_t *a, uint8_t to)
{
    assert(rt_status_legal(a->status, to));
    a->status = to;
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

/* ---- held messages (FIFO through m->next; a popped message is ours) ---------- */

static inline void rt_held_push_back(rt_actor_ext_t *x, rt_msg_t *m)
{
    /* relaxed: consumer-private list */
    atomic_store_explicit(&m->next, NULL, memory_order_relaxed);
    if (x->held_tail) atomic_store_explicit(&x->held_tail->next, m, memory_order_relaxed);
    else x->held_head = m;
    x->held_tail = m;
}

static inline void rt_held_push_front(rt_actor_ext_t *x, rt_msg_t *m)
{
    /* relaxed: consumer-private list */
    atomic_store_explicit(&m->next, x->held_head, memory_order_relaxed);
    x->held_head = m;
    if (!x->held_tail) x->held_tail = m;
}

static inline rt_msg_t *rt_held_pop(rt_actor_ext_t *x)
{
    rt_msg_t *m = x->held_head;
    if (!m) return NULL;
    /* relaxed: consumer-private list */
    x->held_head = atomic_load_explicit(&m->next, memory_order_relaxed);
    if (!x->held_head) x->held_tail = NULL;
    return m;
}

static inline bool rt_held_any(const rt_actor_t *a)
{
    return a->ext && a->ext->held_head;
}

/* ---- across the stages -------------------------------------------------------------- */

/* Keep m for later (front: before the held messages); dropped with ENOMEM
 * (logged) when the ext block cannot be allocated. (rt_actor.c) */
void rt_actor_hold(rt_actor_t *a, rt_msg_t *m, bool front);
/* Free the actor's memory and ext block. (rt_actor.c) */
void rt_actor_free_mem(rt_actor_t *a);

/* Supervision: a negative return from load, on_activate or handle, or an
 * activation past its deadline. Returns RT_RUN_*. (rt_supervise.c) */
int rt_actor_fail(rt_worker_t *w, rt_actor_t *a, int rc, const char *where);

/* End the current activation (see rt_passivate.c); `passivate` calls
 * on_passivate of an ACTIVE actor. */
void rt_actor_deactivate(rt_worker_t *w, rt_actor_t *a, bool passivate, uint32_t reason);
/* After deactivation: retire the actor unless a keyed one has work left
 * (`force`: regardless). Returns RT_RUN_*. (rt_passivate.c) */
int rt_actor_try_close(rt_worker_t *w, rt_actor_t *a, bool force);

/* Monitors (rt_monitor.c). A DOWN from `from` to `to` (any thread). */
void rt_actor_send_down(rt_runtime_t *rt, rt_ref_t to, rt_ref_t from, uint32_t reason);
/* Remember watcher `who` (or tell it DOWN at once when out of memory). */
void rt_actor_add_watch(rt_actor_t *a, rt_ref_t who);
/* Drop a message bound to an ended activation `old` (a monitor request is
 * answered with DOWN). */
void rt_actor_drop_bound(rt_actor_t *a, rt_msg_t *m, rt_ref_t old, int code);

#endif
