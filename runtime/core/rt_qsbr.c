/* rt_qsbr.c — the record registry and grace-period checks of rt_qsbr.h.
 *
 * Exports: rt_qsbr_register, rt_qsbr_unregister, rt_qsbr_thread_rec,
 * rt_qsbr_snapshot, rt_qsbr_passed.
 *
 * Threads: any. The registry is a process-wide singly linked list of
 * records that are never freed: insertion takes a mutex, traversal is
 * lock-free, and a record is recycled (used 0 -> 1) by the next thread
 * that registers.
 */
#include "rt_qsbr.h"

#include <pthread.h>
#include <stdlib.h>

static rt_qsbr_rec_t *_Atomic rt_qsbr_head;
#ifdef RT_QSBR_RMW_FENCE
_Atomic uint64_t rt_qsbr_fence_word;
#endif
static pthread_mutex_t rt_qsbr_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t rt_qsbr_key;
static pthread_once_t rt_qsbr_once = PTHREAD_ONCE_INIT;
static __thread rt_qsbr_rec_t *rt_qsbr_tls;

rt_qsbr_rec_t *rt_qsbr_register(void)
{
    /* acquire: pairs with the release publication below, so a record's
     * fields are initialised before we can see it in the list */
    for (rt_qsbr_rec_t *r = atomic_load_explicit(&rt_qsbr_head, memory_order_acquire); r;
         r = atomic_load_explicit(&r->next, memory_order_acquire)) {
        int expect = 0;
        /* acq_rel: acquire the previous owner's last (offline) store;
         * release is irrelevant but harmless */
        if (atomic_load_explicit(&r->used, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&r->used, &expect, 1, memory_order_acq_rel,
                                                    memory_order_relaxed))
            return r;
    }
    rt_qsbr_rec_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    /* relaxed: not yet published */
    atomic_store_explicit(&r->used, 1, memory_order_relaxed);
    pthread_mutex_lock(&rt_qsbr_mu);
    /* relaxed load under the mutex (only inserters write head); release
     * store publishes the initialised record to lock-free readers */
    atomic_store_explicit(&r->next, atomic_load_explicit(&rt_qsbr_head, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&rt_qsbr_head, r, memory_order_release);
    pthread_mutex_unlock(&rt_qsbr_mu);
    return r;
}

void rt_qsbr_unregister(rt_qsbr_rec_t *r)
{
    if (!r) return;
    if (rt_qsbr_is_online(r)) rt_qsbr_offline(r);
    /* release: the offline store happens before the record can be reused */
    atomic_store_explicit(&r->used, 0, memory_order_release);
}

static void rt_qsbr_tls_dtor(void *p)
{
    rt_qsbr_unregister(p);
}

static void rt_qsbr_key_init(void)
{
    (void)pthread_key_create(&rt_qsbr_key, rt_qsbr_tls_dtor);
}

rt_qsbr_rec_t *rt_qsbr_thread_rec(void)
{
    rt_qsbr_rec_t *r = rt_qsbr_tls;
    if (r) return r;
    pthread_once(&rt_qsbr_once, rt_qsbr_key_init);
    r = rt_qsbr_register();
    if (!r) return NULL;
    rt_qsbr_tls = r;
    (void)pthread_setspecific(rt_qsbr_key, r);
    return r;
}

rt_qsbr_snap_t *rt_qsbr_snapshot(rt_qsbr_rec_t *self, uint32_t *n, bool *ok)
{
    /* seq_cst fence: orders the caller's unlink stores before the loads of
     * the records below (pairs with the fence in rt_qsbr_online). */
    RT_QSBR_FENCE();
    uint32_t cap = 0, cnt = 0;
    rt_qsbr_snap_t *v = NULL;
    *ok = true;
    /* acquire: pairs with the release publication in rt_qsbr_register */
    for (rt_qsbr_rec_t *r = atomic_load_explicit(&rt_qsbr_head, memory_order_acquire); r;
         r = atomic_load_explicit(&r->next, memory_order_acquire)) {
        if (r == self) continue;
        /* acquire: if the thread already went offline/quiescent, its
         * accesses happened before; nothing to wait for */
        uint64_t s = atomic_load_explicit(&r->seq, memory_order_acquire);
        if (!(s & 1)) continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            rt_qsbr_snap_t *g = realloc(v, cap * sizeof *v);
            if (!g) { free(v); *ok = false; *n = 0; return NULL; }
            v = g;
        }
        v[cnt].rec = r;
        v[cnt].seq = s;
        cnt++;
    }
    *n = cnt;
    return v;
}

bool rt_qsbr_passed(const rt_qsbr_snap_t *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        /* acquire: a changed value was stored with release after the
         * thread's last use of the retired pointers */
        if (atomic_load_explicit(&s[i].rec->seq, memory_order_acquire) == s[i].seq) return false;
    return true;
}
