/* rt_pool.h — per-thread size-class pools for messages and actors.
 *
 * Purpose: messages and actors are allocated on one thread and freed on
 * another (a sender's worker, the receiver's worker), which defeats
 * malloc's thread caches and makes 64-byte-aligned actors cost ~100 B of
 * alignment waste. Blocks here come in classes of 64-byte steps up to
 * RT_POOL_MAX, carved from 64-byte-aligned slabs, with no header. Each
 * thread keeps a free list per class; a list that grows past two batches
 * spills one batch to a global depot (one mutex per class), and an empty
 * list refills from the depot (or a new slab) a batch at a time, so the
 * mutex is taken once per batch, not per block. A thread's lists go to
 * the depot when it exits. Memory is never returned to the system.
 *
 * Under AddressSanitizer or ThreadSanitizer (or with RT_POOL_DISABLE) the
 * pool forwards to posix_memalign/free so the sanitizers see every block.
 *
 * Exports: RT_POOL_MAX, rt_pool_class, rt_pool_class_size, rt_pool_get,
 * rt_pool_put.
 * Threads: any.
 */
#ifndef PLUS7_RT_POOL_H
#define PLUS7_RT_POOL_H

#include <stddef.h>

#define RT_POOL_STEP 64
#define RT_POOL_MAX 2048
#define RT_POOL_NCLASS (RT_POOL_MAX / RT_POOL_STEP)

/* Class of a block of `size` bytes, or -1 when it is too big for the pool. */
static inline int rt_pool_class(size_t size)
{
    if (size == 0) size = 1;
    if (size > RT_POOL_MAX) return -1;
    return (int)((size + RT_POOL_STEP - 1) / RT_POOL_STEP) - 1;
}

/* Usable bytes of a block of class c. */
static inline size_t rt_pool_class_size(int c) { return (size_t)(c + 1) * RT_POOL_STEP; }

/* A 64-byte-aligned block of class c (uninitialised), or NULL on ENOMEM. */
void *rt_pool_get(int c);
/* Give back a block of class c (from rt_pool_get, any thread). */
void rt_pool_put(int c, void *p);

#endif
