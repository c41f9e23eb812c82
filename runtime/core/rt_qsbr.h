/* rt_qsbr.h — quiescent-state-based reclamation for actor memory.
 *
 * Purpose: rt_send(ref) reads an actor pointer from the slot table and
 * pushes into its mailbox without a lock, so an actor may be freed only when
 * no thread can still hold that pointer. Every thread that sends by
 * reference owns a record whose sequence number is odd while it may hold
 * actor pointers ("online") and even while it cannot ("offline").
 * Workers stay online while they run and announce a quiescent state once
 * per loop iteration (seq += 2, then a full fence) — no fence on their
 * send path. Other
 * threads go online only around one send (store + full fence, then a
 * release store). A retired actor is freed once every record that was
 * online at retirement has moved on.
 *
 * Exports: rt_qsbr_rec_t, rt_qsbr_register, rt_qsbr_unregister,
 * rt_qsbr_thread_rec, rt_qsbr_online, rt_qsbr_offline, rt_qsbr_quiescent,
 * rt_qsbr_snapshot, rt_qsbr_passed.
 *
 * Threads: any; a record is only written by its owning thread.
 */
#ifndef PLUS7_RT_QSBR_H
#define PLUS7_RT_QSBR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The full fence of the online/snapshot Dekker pair. ThreadSanitizer does
 * not model standalone fences, so under TSan it is a seq_cst RMW on one
 * shared word instead (strictly stronger, and visible to TSan). */
#if defined(__SANITIZE_THREAD__)
#define RT_QSBR_RMW_FENCE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RT_QSBR_RMW_FENCE 1
#endif
#endif
#ifdef RT_QSBR_RMW_FENCE
extern _Atomic uint64_t rt_qsbr_fence_word;
#define RT_QSBR_FENCE() ((void)atomic_fetch_add_explicit(&rt_qsbr_fence_word, 0, memory_order_seq_cst))
#else
#define RT_QSBR_FENCE() atomic_thread_fence(memory_order_seq_cst)
#endif

typedef struct rt_qsbr_rec {
    _Atomic uint64_t seq;           /* odd = online */
    struct rt_qsbr_rec *_Atomic next;  /* registry link (records are never freed) */
    _Atomic int used;               /* 1 while owned by a thread */
    char pad[64 - 8 - 8 - 4];
} rt_qsbr_rec_t;

typedef struct rt_qsbr_snap {
    rt_qsbr_rec_t *rec;
    uint64_t seq;
} rt_qsbr_snap_t;

/* Claim a record for the calling thread (offline). Never fails except on
 * ENOMEM (NULL). */
rt_qsbr_rec_t *rt_qsbr_register(void);
/* Give the record back (the thread holds no actor pointers any more). */
void rt_qsbr_unregister(rt_qsbr_rec_t *r);
/* The calling non-worker thread's record, claimed on first use and given
 * back when the thread exits. NULL on ENOMEM. */
rt_qsbr_rec_t *rt_qsbr_thread_rec(void);

/* Go online: after this returns, pointers read from shared structures are
 * protected until rt_qsbr_offline / rt_qsbr_quiescent. (The "fence" in the
 * comments below is RT_QSBR_FENCE.) */
static inline void rt_qsbr_online(rt_qsbr_rec_t *r)
{
    uint64_t s = atomic_load_explicit(&r->seq, memory_order_relaxed);
    /* relaxed store + seq_cst fence: the fence orders the store before every
     * later load of a shared pointer, pairing with the fence in
     * rt_qsbr_snapshot (a reclaimer either sees us online or we see its
     * unlink). */
    atomic_store_explicit(&r->seq, s | 1, memory_order_relaxed);
    RT_QSBR_FENCE();
}

/* Go offline: release orders every access to shared pointers before the
 * store; a reclaimer's acquire load of the new value then knows we are done. */
static inline void rt_qsbr_offline(rt_qsbr_rec_t *r)
{
    uint64_t s = atomic_load_explicit(&r->seq, memory_order_relaxed);
    /* release: see above */
    atomic_store_explicit(&r->seq, (s | 1) + 1, memory_order_release);
}

/* Announce a quiescent state while staying online (seq += 2), then a full
 * fence. The release store orders our earlier uses of shared pointers
 * before the new value (as in rt_qsbr_offline). The fence orders the store
 * before every later load of a shared pointer: without it the worker's next
 * slot load may be satisfied before the new seq is visible while a
 * reclaimer unlinks, fences and still reads the old seq — the
 * store-buffering pattern, after which the reclaimer counts the new seq as
 * "passed" and frees an actor the worker just loaded. liburcu's
 * rcu_quiescent_state has the same barrier; it costs one fence per worker
 * loop turn, never one per send. */
static inline void rt_qsbr_quiescent(rt_qsbr_rec_t *r)
{
    uint64_t s = atomic_load_explicit(&r->seq, memory_order_relaxed);
    /* release: see above */
    atomic_store_explicit(&r->seq, s + 2, memory_order_release);
    RT_QSBR_FENCE();
}

static inline bool rt_qsbr_is_online(rt_qsbr_rec_t *r)
{
    /* relaxed: only the owning thread asks about its own record */
    return atomic_load_explicit(&r->seq, memory_order_relaxed) & 1;
}

/* Record which threads are online now. Call after unlinking the objects
 * to retire. Returns a malloc'd array (*n entries; NULL with *n == 0 when
 * nobody else is online) — free it with free(). *ok false on ENOMEM. */
rt_qsbr_snap_t *rt_qsbr_snapshot(rt_qsbr_rec_t *self, uint32_t *n, bool *ok);
/* True when every thread in the snapshot has passed a quiescent state. */
bool rt_qsbr_passed(const rt_qsbr_snap_t *s, uint32_t n);

#endif
