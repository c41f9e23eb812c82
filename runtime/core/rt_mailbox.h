/* rt_mailbox.h — an actor's mailbox: two lock-free intrusive MPSC lanes.
 *
 * Purpose: producers (any thread) append messages with one atomic exchange;
 * the home worker pops them in FIFO order per producer. The lanes are
 * Vyukov intrusive queues (rt_mpsc.h) with a stub node embedded in the
 * actor, so an empty mailbox costs no allocation. Bit 0 of the normal lane's head is
 * the actor's scheduling token, as in Pony's messageq: it is set while the
 * actor is idle (not queued, not running); the producer whose exchange
 * returns a tagged head clears it and must schedule the actor. Exactly one
 * scheduling per idle -> non-empty transition, no separate flag, no lock.
 *
 * The urgent lane (RT_MSG_F_URGENT: I/O results, DOWN, control) is drained
 * first. Its producers do not see the token, so after pushing they try to
 * take it with CAS(head, stub|1 -> stub); the consumer re-checks the urgent
 * lane after setting the token and takes it back if needed (both sides use
 * seq_cst, a Dekker pair: at least one of them sees the other).
 *
 * Exports (inline): rt_mbox_init, rt_mbox_push_normal, rt_mbox_push_urgent,
 * rt_mbox_pop_normal, rt_mbox_pop_urgent, rt_mbox_try_idle,
 * rt_mbox_take_token, rt_mbox_lanes_empty, rt_mbox_depth; rt_mbox_drain
 * (rt_mailbox.c).
 *
 * Threads: push from any thread (the caller keeps the actor allocated, see
 * rt_qsbr.h); everything else only by the owner of the scheduling token
 * (the home worker while running the actor).
 */
#ifndef PLUS7_RT_MAILBOX_H
#define PLUS7_RT_MAILBOX_H

#include "rt_internal.h"
#include "rt_mpsc.h"

#define RT_MBOX_IDLE ((uintptr_t)1)
#define RT_MBOX_STUB(a) ((rt_msg_t *)(void *)&(a)->stub)
#define RT_MBOX_USTUB(a) ((rt_msg_t *)(void *)&(a)->ustub)

static inline rt_msg_t *rt_mbox_tag(rt_msg_t *m) { return (rt_msg_t *)((uintptr_t)m | RT_MBOX_IDLE); }
static inline rt_msg_t *rt_mbox_untag(rt_msg_t *m) { return (rt_msg_t *)((uintptr_t)m & ~RT_MBOX_IDLE); }

/* New actor: both lanes empty, idle (tagged). Before publication. */
static inline void rt_mbox_init(rt_actor_t *a)
{
    /* relaxed: the actor is published later with release */
    atomic_store_explicit(&a->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&a->ustub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&a->head, rt_mbox_tag(RT_MBOX_STUB(a)), memory_order_relaxed);
    atomic_store_explicit(&a->uhead, RT_MBOX_USTUB(a), memory_order_relaxed);
    a->tail = RT_MBOX_STUB(a);
    a->utail = RT_MBOX_USTUB(a);
}

/* The lanes are rt_mpsc.h queues of messages: rt_mbox_q_link / _pop. */
RT_MPSC_DEFINE(rt_mbox_q, rt_msg_t)

/* Push to the normal lane; true when the caller took the scheduling token
 * (the actor was idle) and must schedule it. */
static inline bool rt_mbox_push_normal(rt_actor_t *a, rt_msg_t *m)
{
    /* acq_rel: all RMWs on head are totally ordered, which is all the token
     * protocol needs for normal producers (see the file comment) */
    rt_msg_t *prev = rt_mbox_q_link(&a->head, m, memory_order_acq_rel);
    return ((uintptr_t)prev & RT_MBOX_IDLE) != 0;
}

/* Push to the urgent lane; true when the caller took the token. */
static inline bool rt_mbox_push_urgent(rt_actor_t *a, rt_msg_t *m)
{
    /* seq_cst exchange: first half of the Dekker pair with rt_mbox_try_idle */
    (void)rt_mbox_q_link(&a->uhead, m, memory_order_seq_cst);
    rt_msg_t *expect = rt_mbox_tag(RT_MBOX_STUB(a));
    /* seq_cst: second half; succeeds only if the actor is idle */
    return atomic_compare_exchange_strong_explicit(&a->head, &expect, RT_MBOX_STUB(a),
                                                   memory_order_seq_cst, memory_order_relaxed);
}

static inline rt_msg_t *rt_mbox_pop_normal(rt_actor_t *a)
{
    return rt_mbox_q_pop(&a->head, &a->tail, RT_MBOX_STUB(a));
}

static inline rt_msg_t *rt_mbox_pop_urgent(rt_actor_t *a)
{
    return rt_mbox_q_pop(&a->uhead, &a->utail, RT_MBOX_USTUB(a));
}

/* Urgent lane empty (token owner). seq_cst load: the consumer half of the
 * Dekker pair. */
static inline bool rt_mbox_urgent_empty(rt_actor_t *a)
{
    /* seq_cst: see above */
    return a->utail == RT_MBOX_USTUB(a) &&
           atomic_load_explicit(&a->uhead, memory_order_seq_cst) == RT_MBOX_USTUB(a);
}

/* Both lanes empty right now (token owner). */
static inline bool rt_mbox_lanes_empty(rt_actor_t *a)
{
    /* relaxed: a racing push is either seen or will be found later by the
     * caller's protocol (shard lock or grace-period drain) */
    return a->tail == RT_MBOX_STUB(a) &&
           atomic_load_explicit(&a->head, memory_order_relaxed) == RT_MBOX_STUB(a) &&
           rt_mbox_urgent_empty(a);
}

/* Give the token back if both lanes are empty. Returns true when the actor
 * is now idle (or another thread took the token and will schedule it);
 * false when the caller still owns the token and must keep it scheduled. */
static inline bool rt_mbox_try_idle(rt_actor_t *a)
{
    rt_msg_t *stub = RT_MBOX_STUB(a);
    if (a->tail != stub) return false;
    rt_msg_t *expect = stub;
    /* seq_cst: fails if any producer exchanged head after our last pop;
     * also the consumer's store half of the urgent Dekker pair */
    if (!atomic_compare_exchange_strong_explicit(&a->head, &expect, rt_mbox_tag(stub),
                                                 memory_order_seq_cst, memory_order_relaxed))
        return false;
    if (rt_mbox_urgent_empty(a)) return true;
    /* an urgent push raced us: take the token back unless its producer did */
    expect = rt_mbox_tag(stub);
    /* seq_cst: ordered with the urgent producers' CAS on the same word */
    if (atomic_compare_exchange_strong_explicit(&a->head, &expect, stub, memory_order_seq_cst,
                                                memory_order_relaxed))
        return false;
    return true;
}

/* Take the token of an idle actor (cron passivation). True on success. */
static inline bool rt_mbox_take_token(rt_actor_t *a)
{
    rt_msg_t *expect = rt_mbox_tag(RT_MBOX_STUB(a));
    /* seq_cst: same word as producers' exchanges and urgent CAS */
    return atomic_compare_exchange_strong_explicit(&a->head, &expect, RT_MBOX_STUB(a),
                                                   memory_order_seq_cst, memory_order_relaxed);
}

/* Approximate depth (any thread). */
static inline uint32_t rt_mbox_depth(const rt_actor_t *a)
{
    /* relaxed: a metric; the two counters are read independently */
    uint32_t pu = atomic_load_explicit(&a->pushed, memory_order_relaxed);
    uint32_t po = atomic_load_explicit(&a->popped, memory_order_relaxed);
    int32_t d = (int32_t)(pu - po);
    return d > 0 ? (uint32_t)d : 0;
}

/* Pop everything left in both lanes into fn (rt_mailbox.c). Token owner,
 * with no producer still pushing. Returns the number of messages. */
uint32_t rt_mbox_drain(rt_actor_t *a, void (*fn)(rt_actor_t *a, rt_msg_t *m, void *arg), void *arg);

#endif
