/* rt_mpsc.h — the runtime's one Vyukov intrusive MPSC queue.
 *
 * Purpose: a multi-producer single-consumer FIFO of nodes that embed a
 * `next` link (`T *_Atomic next`), with a stub node owned by the queue:
 * producers do one atomic exchange on the head and then link the previous
 * node; the consumer pops from the tail. Used twice: an actor's two
 * mailbox lanes (nodes are rt_msg_t, rt_mailbox.h) and a worker's run
 * queue (nodes are rt_rq_node_t embedded in actors, rt_worker.c). The
 * mailbox keeps its scheduling token in bit 0 of the normal lane's head,
 * so every head read here is untagged first (the run queue never tags).
 *
 * Exports: RT_MPSC_DEFINE(prefix, T), which defines for node type T
 *   prefix_link(headp, n, order)  producer: append n; returns the previous
 *                                 head (possibly tagged)
 *   prefix_pop(headp, tailp, stub) consumer: the oldest node, or NULL when
 *                                 the queue is empty or a producer is
 *                                 between its exchange and its link
 *
 * Threads: link from any thread (the caller keeps the queue's owner
 * alive); pop only by the single consumer.
 */
#ifndef PLUS7_RT_MPSC_H
#define PLUS7_RT_MPSC_H

#include <stdatomic.h>
#include <stdint.h>

#define RT_MPSC_UNTAG(T, p) ((T *)((uintptr_t)(p) & ~(uintptr_t)1))

#define RT_MPSC_DEFINE(prefix, T)                                                         \
    static inline T *prefix##_link(T *_Atomic *headp, T *n, memory_order order)          \
    {                                                                                     \
        /* relaxed: published by the release half of the exchange below */              \
        atomic_store_explicit(&n->next, NULL, memory_order_relaxed);                     \
        /* release: n's contents and next = NULL are visible to whoever follows the     \
         * link; acquire: we may write prev->next, which the consumer may just have     \
         * re-initialised (stub). Callers ask for seq_cst where a Dekker pair needs    \
         * the total order (run queue vs `sleeping`, urgent lane vs the token). */       \
        T *prev = atomic_exchange_explicit(headp, n, order);                             \
        /* release: the consumer's acquire load of prev->next sees n complete */         \
        atomic_store_explicit(&RT_MPSC_UNTAG(T, prev)->next, n, memory_order_release);   \
        return prev;                                                                      \
    }                                                                                     \
                                                                                          \
    static inline T *prefix##_pop(T *_Atomic *headp, T **tailp, T *stub)                  \
    {                                                                                     \
        T *tail = *tailp;                                                                 \
        /* acquire: pairs with the producer's release link; the node is visible */       \
        T *next = atomic_load_explicit(&tail->next, memory_order_acquire);               \
        if (tail == stub) {                                                               \
            if (!next) return NULL;                                                       \
            *tailp = next;                                                                \
            tail = next;                                                                  \
            /* acquire: as above */                                                       \
            next = atomic_load_explicit(&next->next, memory_order_acquire);              \
        }                                                                                 \
        if (next) {                                                                       \
            *tailp = next;                                                                \
            return tail;                                                                  \
        }                                                                                 \
        /* relaxed: compared for identity only */                                        \
        T *head = RT_MPSC_UNTAG(T, atomic_load_explicit(headp, memory_order_relaxed));   \
        if (tail != head) return NULL;                                                    \
        /* tail is the last node: put the stub behind it so it can go (seq_cst: the     \
         * stub's exchange is also a producer exchange in the run queue's Dekker pair) */ \
        prefix##_link(headp, stub, memory_order_seq_cst);                                 \
        /* acquire: as above */                                                           \
        next = atomic_load_explicit(&tail->next, memory_order_acquire);                  \
        if (next) {                                                                       \
            *tailp = next;                                                                \
            return tail;                                                                  \
        }                                                                                 \
        return NULL;                                                                      \
    }

#endif
