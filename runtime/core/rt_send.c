/* rt_send.c — sending: by reference, by (kind, key), and spawning.
 *
 * Purpose: rt_send reads the target from the slot table and pushes without
 * a lock (a worker is always inside a QSBR critical section while it runs;
 * other threads enter one around the whole send, phase check included, so
 * rt_runtime_stop waits for them). rt_send_key looks the key up
 * under its directory shard's mutex, creating the actor on a miss (unless
 * the key is quarantined), and pushes under that mutex, which is what
 * makes "a message racing passivation is never lost" hold for keyed sends.
 *
 * Exports: rt_send, rt_send_result, rt_send_key, rt_send_key_bounded,
 * rt_spawn, rt_spawn_on.
 * Threads: any.
 */
#include "rt_mailbox.h"
#include "rt_qsbr.h"
#include "rt_log.h"

#include <string.h>

/* Enter a send: go online (QSBR) unless this is a worker that already is,
 * then check the phase. Online first, check second: rt_runtime_stop stores
 * FINAL (seq_cst) before it snapshots the online threads (fence, then
 * loads), and rt_qsbr_online is a store + fence, so either we see FINAL
 * and refuse, or stop sees us online and waits for rt_send_leave before it
 * frees anything. (Checking first left a gap: a sender that passed the check
 * and went online after stop's snapshot pushed into freed actors.)
 * Refused: outside threads from DRAINING on, workers (whose in-flight work
 * must finish) only from FINAL on. Returns RT_OK with *q set to the record
 * to take offline (NULL when nothing to undo), or an error (nothing held). */
static inline int rt_send_enter(rt_runtime_t *rt, rt_worker_t *w, rt_qsbr_rec_t **q)
{
    *q = NULL;
    if (!w || !rt_qsbr_is_online(w->qs)) {
        *q = w ? w->qs : rt_qsbr_thread_rec();
        if (!*q) return RT_ENOMEM;
        rt_qsbr_online(*q);
    }
    /* acquire: pairs with the phase stores in rt_runtime_stop (ordered
     * after our online store by the fence in rt_qsbr_online) */
    int ph = atomic_load_explicit(&rt->phase, memory_order_acquire);
    if (ph >= RT_PHASE_FINAL || (ph == RT_PHASE_DRAINING && !w)) {
        if (*q) rt_qsbr_offline(*q);
        *q = NULL;
        return RT_ESHUTDOWN;
    }
    return RT_OK;
}

static inline void rt_send_leave(rt_qsbr_rec_t *q)
{
    if (q) rt_qsbr_offline(q);
}

static inline void rt_send_fill_from(rt_msg_t *m)
{
    rt_actor_t *cur = rt_tls_actor;
    if (cur && rt_ref_is_none(m->from)) m->from = rt_self_ref(cur);
}

/* The common start of a send of m: RT_EINVAL unless `args_ok`, then
 * rt_send_enter; on refusal m is dropped with the code. On RT_OK the caller
 * holds *q (rt_send_leave) and m->from is filled in. */
static inline int rt_send_begin(rt_runtime_t *rt, bool args_ok, rt_msg_t *m, rt_qsbr_rec_t **q)
{
    int rc = args_ok ? rt_send_enter(rt, rt_worker_of(rt), q) : RT_EINVAL;
    if (rc) {
        rt_msg_drop(m, rc);
        return rc;
    }
    rt_send_fill_from(m);
    return RT_OK;
}

int rt_send(rt_runtime_t *rt, rt_ref_t to, rt_msg_t *m)
{
    if (!m) return RT_EINVAL;
    rt_qsbr_rec_t *q;
    int rc = rt_send_begin(rt, rt != NULL, m, &q);
    if (rc) return rc;
    rt_slot_t *e = rt_slot_entry(rt, to.slot);
    /* acquire: pairs with rt_slot_set's release; the actor is initialised */
    rt_actor_t *a = e ? atomic_load_explicit(&e->actor, memory_order_acquire) : NULL;
    /* relaxed: gen changes only on the home worker; a racing change is
     * the passivation race, handled by the grace-period drain */
    if (!a || to.gen == 0 || atomic_load_explicit(&a->gen, memory_order_relaxed) != to.gen) {
        rt_send_leave(q);
        rt_msg_drop(m, RT_ESTALE);
        return RT_ESTALE;
    }
    rt_actor_push(a, m);
    rt_send_leave(q);
    return RT_OK;
}

int rt_send_result(rt_runtime_t *rt, rt_ref_t to, uint16_t type, uint32_t corr, void *ptr,
                   void (*ptr_free)(void *))
{
    rt_msg_t *m = rt_msg_new(type, 0);
    if (!m) {
        LOG_ERROR("io_result_lost", "type=%u corr=%u reason=enomem", (unsigned)type, corr);
        if (ptr_free) ptr_free(ptr);
        return RT_ENOMEM;
    }
    m->flags = RT_MSG_F_URGENT;
    m->corr = corr;
    m->ptr = ptr;
    m->ptr_free = ptr_free;
    int rc = rt_send(rt, to, m);   /* frees m (and ptr) when refused */
    if (rc != RT_OK && rc != RT_ESTALE && rc != RT_ESHUTDOWN)
        LOG_WARN("io_result_undelivered", "type=%u corr=%u rc=%s", (unsigned)type, corr, rt_strerror(rc));
    return rc;
}

static int rt_send_key_impl(rt_runtime_t *rt, const rt_kind_t *kind, const char *key, rt_msg_t *m,
                            bool bounded)
{
    if (!m) return RT_EINVAL;
    size_t n = key ? strnlen(key, RT_KEY_MAX + 1) : 0;
    rt_qsbr_rec_t *q;
    int rc = rt_send_begin(rt, rt && kind && kind->handle && key && n <= RT_KEY_MAX, m, &q);
    if (rc) return rc;
    int kidx = rt_kind_index(rt, kind);
    uint32_t h = rt_dir_hash(kind, key, n);
    rt_dir_shard_t *sh = rt_dir_shard(rt, h);
    pthread_mutex_lock(&sh->mu);
    rt_actor_t *a = rt_dir_find(sh, kind, key, h);
    if (!a) {
        if (sh->fails && rt_dir_quarantined(sh, kind, key, h, rt_now_ms())) {
            pthread_mutex_unlock(&sh->mu);
            rt_send_leave(q);
            /* relaxed: metric */
            atomic_fetch_add_explicit(&rt->dropped_q, 1, memory_order_relaxed);
            rt_msg_drop(m, RT_EQUARANTINED);
            return RT_EQUARANTINED;
        }
        a = rt_actor_new(rt, kind, kidx, key, n, h, rt_worker_place(rt));
        if (!a) {
            pthread_mutex_unlock(&sh->mu);
            rt_send_leave(q);
            rt_msg_drop(m, RT_ENOMEM);
            return RT_ENOMEM;
        }
        rt_dir_insert(sh, a);
    } else if (bounded && rt->cfg.mailbox_high_water &&
               rt_mbox_depth(a) > rt->cfg.mailbox_high_water) {
        pthread_mutex_unlock(&sh->mu);
        rt_send_leave(q);
        rt_msg_drop(m, RT_EFULL);
        return RT_EFULL;
    }
    bool took = rt_actor_enqueue(a, m);
    pthread_mutex_unlock(&sh->mu);
    /* the token keeps `a` alive after the unlock */
    if (took) rt_worker_schedule(rt, a);
    rt_send_leave(q);
    return RT_OK;
}

int rt_send_key(rt_runtime_t *rt, const rt_kind_t *kind, const char *key, rt_msg_t *m)
{
    return rt_send_key_impl(rt, kind, key, m, false);
}

int rt_send_key_bounded(rt_runtime_t *rt, const rt_kind_t *kind, const char *key, rt_msg_t *m)
{
    return rt_send_key_impl(rt, kind, key, m, true);
}

/* worker -1: choose one (rt_worker_place). */
static int rt_spawn_impl(rt_runtime_t *rt, const rt_kind_t *kind, int worker, rt_ref_t *out)
{
    if (!rt || !kind || !kind->handle || !out || worker < -1 || worker >= rt->nthreads)
        return RT_EINVAL;
    *out = RT_REF_NONE;
    rt_qsbr_rec_t *q;
    int rc = rt_send_enter(rt, rt_worker_of(rt), &q);
    if (rc) return rc;
    if (worker < 0) worker = rt_worker_place(rt);
    rt_actor_t *a = rt_actor_new(rt, kind, rt_kind_index(rt, kind), NULL, 0, 0, worker);
    if (a) *out = rt_self_ref(a);
    rt_send_leave(q);
    return a ? RT_OK : RT_ENOMEM;
}

int rt_spawn_on(rt_runtime_t *rt, const rt_kind_t *kind, int worker, rt_ref_t *out)
{
    if (worker < 0) {
        if (out) *out = RT_REF_NONE;
        return RT_EINVAL;
    }
    return rt_spawn_impl(rt, kind, worker, out);
}

int rt_spawn(rt_runtime_t *rt, const rt_kind_t *kind, rt_ref_t *out)
{
    return rt_spawn_impl(rt, kind, -1, out);
}
