/* test_rt_mailbox.c — the mailbox primitive on its own (rt_mailbox.h):
 * many producers on both lanes, one consumer; no loss, per-producer FIFO
 * per lane, exactly one owner of the scheduling token at any time.
 *
 * Threads: producers and one consumer thread per case; the case joins them.
 */
#include "rt_mailbox.h"
#include "t.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { NPROD = 6, PER_PROD = 40000 };

typedef struct mb_world {
    rt_actor_t *a;
    atomic_int owner;          /* 1 while someone owns the token */
    atomic_int double_owner;   /* violations seen */
    atomic_ulong takes;        /* token taken by producers */
    atomic_int producers_done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} mb_world_t;

static mb_world_t mbw;

typedef struct mb_prod {
    unsigned id;
} mb_prod_t;

static void mb_take(void)
{
    /* the producer that took the token schedules the actor */
    if (atomic_exchange(&mbw.owner, 1) != 0) atomic_fetch_add(&mbw.double_owner, 1);
    atomic_fetch_add(&mbw.takes, 1);
    pthread_mutex_lock(&mbw.mu);
    pthread_cond_signal(&mbw.cv);
    pthread_mutex_unlock(&mbw.mu);
}

static void *mb_producer(void *p)
{
    mb_prod_t *pr = p;
    for (uint32_t i = 1; i <= PER_PROD; i++) {
        rt_msg_t *m = rt_msg_new(RT_MSG_USER, 0);
        m->corr = i;
        m->from.slot = pr->id;
        bool urgent = (i % 7) == 0;
        if (urgent) m->flags |= RT_MSG_F_URGENT;
        bool took = urgent ? rt_mbox_push_urgent(mbw.a, m) : rt_mbox_push_normal(mbw.a, m);
        if (took) mb_take();
    }
    atomic_fetch_add(&mbw.producers_done, 1);
    pthread_mutex_lock(&mbw.mu);
    pthread_cond_signal(&mbw.cv);
    pthread_mutex_unlock(&mbw.mu);
    return NULL;
}

typedef struct mb_result {
    unsigned long got;
    unsigned long fifo_errors;
    unsigned long ran_unowned;
} mb_result_t;

static void *mb_consumer(void *p)
{
    mb_result_t *res = p;
    uint32_t last_n[NPROD] = {0}, last_u[NPROD] = {0};
    const unsigned long total = (unsigned long)NPROD * PER_PROD;
    while (res->got < total) {
        pthread_mutex_lock(&mbw.mu);
        while (atomic_load(&mbw.owner) == 0) pthread_cond_wait(&mbw.cv, &mbw.mu);
        pthread_mutex_unlock(&mbw.mu);
        for (;;) {
            if (atomic_load(&mbw.owner) != 1) res->ran_unowned++;
            int budget = RT_BATCH;
            rt_msg_t *m;
            while (budget-- > 0 && ((m = rt_mbox_pop_urgent(mbw.a)) || (m = rt_mbox_pop_normal(mbw.a)))) {
                unsigned id = m->from.slot;
                uint32_t *last = (m->flags & RT_MSG_F_URGENT) ? last_u : last_n;
                if (id >= NPROD || m->corr <= last[id]) res->fifo_errors++;
                else last[id] = m->corr;
                res->got++;
                rt_msg_free(m);
            }
            /* release ownership, then give the token back */
            atomic_store(&mbw.owner, 0);
            if (rt_mbox_try_idle(mbw.a)) break;
            if (atomic_exchange(&mbw.owner, 1) != 0) atomic_fetch_add(&mbw.double_owner, 1);
        }
    }
    return NULL;
}

static rt_actor_t mb_actor1, mb_actor2;   /* only the mailbox fields are used */

T_CASE(mailbox_many_producers_both_lanes_single_owner)
{
    memset(&mbw, 0, sizeof mbw);
    mbw.a = &mb_actor1;
    pthread_mutex_init(&mbw.mu, NULL);
    pthread_cond_init(&mbw.cv, NULL);
    rt_mbox_init(mbw.a);

    mb_result_t res = {0};
    pthread_t ct, pt[NPROD];
    mb_prod_t pr[NPROD];
    pthread_create(&ct, NULL, mb_consumer, &res);
    for (unsigned i = 0; i < NPROD; i++) {
        pr[i].id = i;
        pthread_create(&pt[i], NULL, mb_producer, &pr[i]);
    }
    for (unsigned i = 0; i < NPROD; i++) pthread_join(pt[i], NULL);
    pthread_join(ct, NULL);

    T_EQ_INT(res.got, (unsigned long)NPROD * PER_PROD);
    T_EQ_INT(res.fifo_errors, 0);
    T_EQ_INT(res.ran_unowned, 0);
    T_EQ_INT(atomic_load(&mbw.double_owner), 0);
    T_CHECK(atomic_load(&mbw.takes) >= 1);
    /* quiescent: idle again and empty */
    T_CHECK(rt_mbox_take_token(mbw.a));
    T_CHECK(rt_mbox_lanes_empty(mbw.a));
    T_EQ_INT(rt_mbox_pop_normal(mbw.a) == NULL, 1);
    pthread_mutex_destroy(&mbw.mu);
    pthread_cond_destroy(&mbw.cv);
}

T_CASE(mailbox_token_once_per_idle_transition)
{
    rt_actor_t *a = &mb_actor2;
    rt_mbox_init(a);
    rt_msg_t *m1 = rt_msg_new(RT_MSG_USER, 0), *m2 = rt_msg_new(RT_MSG_USER, 0);
    rt_msg_t *u = rt_msg_new(RT_MSG_USER, 0);
    T_CHECK(rt_mbox_push_normal(a, m1));     /* idle -> takes the token */
    T_CHECK(!rt_mbox_push_normal(a, m2));    /* already scheduled */
    T_CHECK(!rt_mbox_push_urgent(a, u));     /* already scheduled */
    T_CHECK(rt_mbox_pop_urgent(a) == u);
    T_CHECK(rt_mbox_pop_normal(a) == m1);
    T_CHECK(!rt_mbox_try_idle(a));           /* m2 still there */
    T_CHECK(rt_mbox_pop_normal(a) == m2);
    T_CHECK(rt_mbox_pop_normal(a) == NULL);
    T_CHECK(rt_mbox_try_idle(a));
    rt_msg_t *u2 = rt_msg_new(RT_MSG_USER, 0);
    T_CHECK(rt_mbox_push_urgent(a, u2));     /* urgent push wakes an idle actor */
    T_CHECK(rt_mbox_pop_urgent(a) == u2);
    T_CHECK(rt_mbox_try_idle(a));
    T_EQ_INT(rt_mbox_depth(a), 0);
    rt_msg_free(m1);
    rt_msg_free(m2);
    rt_msg_free(u);
    rt_msg_free(u2);
}

T_MAIN()
