/* rt_actor.c — an actor's memory and mailbox entry points, and the running
 * actor's view of itself.
 *
 * Purpose: allocate an actor (size-class pools, key and state in the same
 * block), push messages into its mailbox (scheduling it when the push took
 * its token), keep messages aside while it loads (the held FIFO), free it.
 * The life-cycle stages that run on the home worker live beside this file
 * (see rt_life.h).
 *
 * Exports: rt_actor_new, rt_actor_discard, rt_actor_ext, rt_actor_enqueue,
 * rt_actor_push (rt_internal.h); rt_actor_hold, rt_actor_free_mem
 * (rt_life.h); the public rt_self_*, rt_send_self.
 *
 * Threads: rt_actor_new / push / enqueue from any thread; the rest on the
 * actor's home worker (rt_actor_free_mem also on the main thread after the
 * workers are joined).
 */
#include "rt_life.h"
#include "rt_mailbox.h"
#include "rt_log.h"
#include "rt_pool.h"

#include <stdlib.h>
#include <string.h>

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
    memset(a, 0, sizeof *a);   /* status RT_ST_INACTIVE */
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
    a->rt = rt;
    a->slot = slot;
    a->hash = hash;
    a->worker = (uint16_t)worker;
    a->kidx = (uint8_t)kidx;
    a->aflags = key ? RT_AF_KEYED : 0;
    a->cron_idx = UINT32_MAX;
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

void rt_actor_free_mem(rt_actor_t *a)
{
    if (a->ext) {
        free(a->ext->watch);
        free(a->ext);
    }
    rt_actor_mem_put(a);
}

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

/* Keep m for later; if the ext block cannot be allocated the message is
 * dropped (ENOMEM) and logged. */
void rt_actor_hold(rt_actor_t *a, rt_msg_t *m, bool front)
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

