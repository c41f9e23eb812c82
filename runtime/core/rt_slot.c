/* rt_slot.c — the slot table behind actor references {slot, gen}.
 *
 * Purpose: a reference names a slot; the slot holds the actor pointer and
 * the actor holds the generation of its current activation, so a stale
 * reference (actor gone, slot reused, or actor re-activated) fails with
 * RT_ESTALE. The table is two-level (chunks of 64K entries allocated on
 * demand, never freed while the runtime lives), so a reader never touches
 * freed memory. Free slot numbers are cached per worker (no lock on the
 * spawn path) and spill to / refill from a global list under a mutex in
 * batches.
 *
 * Exports: rt_slot_init, rt_slot_fini, rt_slot_alloc, rt_slot_set,
 * rt_slot_bump, rt_slot_free, rt_slot_entry.
 *
 * Threads: rt_slot_entry from any thread; rt_slot_alloc from any thread;
 * rt_slot_set/bump/free from the thread that owns the actor in the slot
 * (its creator before publication, its home worker after).
 */
#include "rt_internal.h"

#include <stdlib.h>

int rt_slot_init(rt_runtime_t *rt)
{
    if (pthread_mutex_init(&rt->slot_mu, NULL) != 0) return RT_ENOMEM;
    for (int i = 0; i < RT_SLOT_CHUNKS; i++)
        atomic_init(&rt->slot_chunks[i], NULL);
    atomic_init(&rt->slot_hwm, 1);  /* slot 0 is RT_REF_NONE */
    rt->slot_free = 0;
    return RT_OK;
}

void rt_slot_fini(rt_runtime_t *rt)
{
    for (int i = 0; i < RT_SLOT_CHUNKS; i++)
        /* relaxed: single-threaded teardown */
        free(atomic_load_explicit(&rt->slot_chunks[i], memory_order_relaxed));
    pthread_mutex_destroy(&rt->slot_mu);
}

rt_slot_t *rt_slot_entry(rt_runtime_t *rt, uint32_t s)
{
    /* acquire: pairs with the release store of hwm after the chunk was
     * published, so the chunk pointer below is valid */
    if (s == 0 || s >= atomic_load_explicit(&rt->slot_hwm, memory_order_acquire)) return NULL;
    /* relaxed: ordered by the acquire on hwm above */
    rt_slot_t *c = atomic_load_explicit(&rt->slot_chunks[s >> RT_SLOT_CHUNK_BITS], memory_order_relaxed);
    return &c[s & (RT_SLOT_CHUNK - 1)];
}

/* Take one slot number from the global pool; slot_mu held. 0 on ENOMEM. */
static uint32_t rt_slot_take_locked(rt_runtime_t *rt)
{
    if (rt->slot_free) {
        uint32_t s = rt->slot_free;
        rt->slot_free = rt_slot_entry(rt, s)->next_free;
        return s;
    }
    /* relaxed: hwm is only written under slot_mu */
    uint32_t s = atomic_load_explicit(&rt->slot_hwm, memory_order_relaxed);
    uint32_t ci = s >> RT_SLOT_CHUNK_BITS;
    if (ci >= RT_SLOT_CHUNKS) return 0;
    if (!atomic_load_explicit(&rt->slot_chunks[ci], memory_order_relaxed)) {
        rt_slot_t *c = calloc(RT_SLOT_CHUNK, sizeof *c);
        if (!c) return 0;
        /* relaxed: published by the release store of hwm below */
        atomic_store_explicit(&rt->slot_chunks[ci], c, memory_order_relaxed);
    }
    /* release: readers that see s < hwm see the chunk */
    atomic_store_explicit(&rt->slot_hwm, s + 1, memory_order_release);
    return s;
}

uint32_t rt_slot_alloc(rt_runtime_t *rt, uint32_t *gen)
{
    rt_worker_t *w = rt_worker_of(rt);
    uint32_t s = 0;
    if (w) {
        if (w->slot_cache_n == 0) {
            pthread_mutex_lock(&rt->slot_mu);
            while (w->slot_cache_n < RT_SLOT_CACHE / 2) {
                uint32_t t = rt_slot_take_locked(rt);
                if (!t) break;
                w->slot_cache[w->slot_cache_n++] = t;
            }
            pthread_mutex_unlock(&rt->slot_mu);
        }
        if (w->slot_cache_n) s = w->slot_cache[--w->slot_cache_n];
    } else {
        pthread_mutex_lock(&rt->slot_mu);
        s = rt_slot_take_locked(rt);
        pthread_mutex_unlock(&rt->slot_mu);
    }
    if (!s) return 0;
    rt_slot_t *e = rt_slot_entry(rt, s);
    uint32_t g = e->gen + 1;
    if (g == 0) g = 1;
    e->gen = g;
    *gen = g;
    return s;
}

void rt_slot_set(rt_runtime_t *rt, uint32_t s, rt_actor_t *a)
{
    /* release: the actor is fully initialised before a sender can load it */
    atomic_store_explicit(&rt_slot_entry(rt, s)->actor, a, memory_order_release);
}

uint32_t rt_slot_bump(rt_runtime_t *rt, uint32_t s)
{
    rt_slot_t *e = rt_slot_entry(rt, s);
    uint32_t g = e->gen + 1;
    if (g == 0) g = 1;
    e->gen = g;
    return g;
}

void rt_slot_free(rt_runtime_t *rt, uint32_t s)
{
    rt_slot_t *e = rt_slot_entry(rt, s);
    /* release: orders our earlier writes before a sender sees NULL (it
     * then fails with RT_ESTALE and touches nothing else) */
    atomic_store_explicit(&e->actor, NULL, memory_order_release);
    rt_worker_t *w = rt_worker_of(rt);
    if (w) {
        if (w->slot_cache_n == RT_SLOT_CACHE) {
            pthread_mutex_lock(&rt->slot_mu);
            while (w->slot_cache_n > RT_SLOT_CACHE / 2) {
                uint32_t t = w->slot_cache[--w->slot_cache_n];
                rt_slot_entry(rt, t)->next_free = rt->slot_free;
                rt->slot_free = t;
            }
            pthread_mutex_unlock(&rt->slot_mu);
        }
        w->slot_cache[w->slot_cache_n++] = s;
        return;
    }
    pthread_mutex_lock(&rt->slot_mu);
    e->next_free = rt->slot_free;
    rt->slot_free = s;
    pthread_mutex_unlock(&rt->slot_mu);
}
