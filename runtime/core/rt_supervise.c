/* rt_supervise.c — supervision: what a failure does to an actor.
 *
 * Purpose: a negative return from load, on_activate or handle (or an
 * activation that missed its deadline) is logged (actor_failed) and
 * counted; the activation's RAM state is dropped without on_passivate;
 * messages already queued stay, and the next one re-activates the actor
 * from committed state. RT_QUARANTINE_MAX failures of one key within
 * RT_QUARANTINE_WINDOW_MS quarantine it: logged, counted, its held
 * messages dropped, the actor removed; later sends fail with
 * RT_EQUARANTINED (rt_dir.c keeps the records).
 *
 * Exports: rt_actor_fail (rt_life.h).
 * Threads: the actor's home worker.
 */
#include "rt_life.h"
#include "rt_log.h"

/* Supervision: a negative return from load, on_activate or handle. */
int rt_actor_fail(rt_worker_t *w, rt_actor_t *a, int rc, const char *where)
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

