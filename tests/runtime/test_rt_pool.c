/* test_rt_pool.c — the size-class pools (runtime/core/rt_pool.h): class
 * arithmetic, alignment, and blocks handed between threads (allocated on
 * one, freed on another) never overlapping or losing their contents.
 * Under ASan/TSan the pool forwards to malloc, so these cases then check
 * the forwarding; in other builds they check the pool itself.
 *
 * Threads: producer and consumer threads per case, joined by the case.
 */
#include "rt_pool.h"
#include "rt.h"
#include "t.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

T_CASE(pool_classes)
{
    T_EQ_INT(rt_pool_class(0), 0);
    T_EQ_INT(rt_pool_class(1), 0);
    T_EQ_INT(rt_pool_class(64), 0);
    T_EQ_INT(rt_pool_class(65), 1);
    T_EQ_INT(rt_pool_class(128), 1);
    T_EQ_INT(rt_pool_class(RT_POOL_MAX), RT_POOL_NCLASS - 1);
    T_EQ_INT(rt_pool_class(RT_POOL_MAX + 1), -1);
    for (int c = 0; c < RT_POOL_NCLASS; c++) T_EQ_INT(rt_pool_class(rt_pool_class_size(c)), c);
}

/* A bounded hand-off queue between producer and consumer threads. */
enum { QCAP = 1024, NPAIRS = 3, PER = 60000 };
typedef struct handoff {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *blk[QCAP];
    int cls[QCAP];
    int head, n, done;
} handoff_t;

static handoff_t hq;

static void fill(unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i + 4 <= n; i += 4) memcpy(p + i, &tag, 4);
}

static int check(const unsigned char *p, size_t n)
{
    uint32_t tag;
    memcpy(&tag, p, 4);
    for (size_t i = 0; i + 4 <= n; i += 4)
        if (memcmp(p + i, &tag, 4) != 0) return 0;
    return 1;
}

static void *pool_producer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < PER; i++) {
        int c = (int)(rand_r(&seed) % RT_POOL_NCLASS);
        if (i % 3) c = (int)(rand_r(&seed) % 4);   /* mostly small, like messages */
        unsigned char *p = rt_pool_get(c);
        if (!p) abort();
        fill(p, rt_pool_class_size(c), (uint32_t)seed ^ (uint32_t)i);
        pthread_mutex_lock(&hq.mu);
        while (hq.n == QCAP) pthread_cond_wait(&hq.cv, &hq.mu);
        int at = (hq.head + hq.n) % QCAP;
        hq.blk[at] = p;
        hq.cls[at] = c;
        hq.n++;
        pthread_cond_broadcast(&hq.cv);
        pthread_mutex_unlock(&hq.mu);
    }
    pthread_mutex_lock(&hq.mu);
    hq.done++;
    pthread_cond_broadcast(&hq.cv);
    pthread_mutex_unlock(&hq.mu);
    return NULL;
}

typedef struct cons_res { unsigned long got, bad, misaligned; } cons_res_t;

static void *pool_consumer(void *arg)
{
    cons_res_t *r = arg;
    /* keep a window of blocks alive so live blocks coexist */
    enum { WIN = 257 };
    void *keep[WIN] = {0};
    int keepc[WIN];
    for (;;) {
        pthread_mutex_lock(&hq.mu);
        while (hq.n == 0 && hq.done < NPAIRS) pthread_cond_wait(&hq.cv, &hq.mu);
        if (hq.n == 0) {
            pthread_mutex_unlock(&hq.mu);
            break;
        }
        void *p = hq.blk[hq.head];
        int c = hq.cls[hq.head];
        hq.head = (hq.head + 1) % QCAP;
        hq.n--;
        pthread_cond_broadcast(&hq.cv);
        pthread_mutex_unlock(&hq.mu);
        if ((uintptr_t)p % 64) r->misaligned++;
        if (!check(p, rt_pool_class_size(c))) r->bad++;
        size_t k = r->got++ % WIN;
        if (keep[k]) {
            if (!check(keep[k], rt_pool_class_size(keepc[k]))) r->bad++;
            rt_pool_put(keepc[k], keep[k]);
        }
        keep[k] = p;
        keepc[k] = c;
    }
    for (int k = 0; k < WIN; k++)
        if (keep[k]) {
            if (!check(keep[k], rt_pool_class_size(keepc[k]))) r->bad++;
            rt_pool_put(keepc[k], keep[k]);
        }
    return NULL;
}

T_CASE(pool_blocks_cross_threads_intact)
{
    memset(&hq, 0, sizeof hq);
    pthread_mutex_init(&hq.mu, NULL);
    pthread_cond_init(&hq.cv, NULL);
    pthread_t pr[NPAIRS], co[NPAIRS];
    cons_res_t res[NPAIRS];
    memset(res, 0, sizeof res);
    for (int i = 0; i < NPAIRS; i++) {
        pthread_create(&pr[i], NULL, pool_producer, (void *)(uintptr_t)(1000 + i));
        pthread_create(&co[i], NULL, pool_consumer, &res[i]);
    }
    for (int i = 0; i < NPAIRS; i++) pthread_join(pr[i], NULL);
    for (int i = 0; i < NPAIRS; i++) pthread_join(co[i], NULL);
    unsigned long got = 0;
    for (int i = 0; i < NPAIRS; i++) {
        got += res[i].got;
        T_EQ_INT(res[i].bad, 0);
        T_EQ_INT(res[i].misaligned, 0);
    }
    T_EQ_INT(got, (unsigned long)NPAIRS * PER);
    pthread_mutex_destroy(&hq.mu);
    pthread_cond_destroy(&hq.cv);
}

T_CASE(pool_messages_keep_their_capacity)
{
    /* a message's capacity is rounded up to its class and must survive a
     * free/alloc cycle on another size */
    for (uint32_t cap = 0; cap < 5000; cap += 37) {
        rt_msg_t *m = rt_msg_new(RT_MSG_USER, cap);
        T_CHECK(m);
        T_CHECK(m->cap >= cap);
        T_EQ_INT(m->len, 0);
        memset(m->payload, 0xab, m->cap);
        rt_msg_free(m);
    }
}

T_MAIN()
