/* rt_pool.c — per-thread size-class pools (see rt_pool.h).
 *
 * Exports: rt_pool_get, rt_pool_put.
 * Threads: any. Thread-local lists need no synchronisation; the depot of
 * each class is a stack of batches under its own mutex; slabs are kept on
 * a global list (mutex) so they stay reachable.
 */
#include "rt_pool.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RT_POOL_DISABLE 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RT_POOL_DISABLE 1
#endif
#endif

#ifdef RT_POOL_DISABLE

void *rt_pool_get(int c)
{
    void *p = NULL;
    if (posix_memalign(&p, RT_POOL_STEP, rt_pool_class_size(c)) != 0) return NULL;
    return p;
}

void rt_pool_put(int c, void *p)
{
    (void)c;
    free(p);
}

#else

#define RT_POOL_SLAB (64 * 1024)

/* A free block: the first word links blocks of one list, the second links
 * batches in the depot (valid on a batch's first block only). */
typedef struct rt_pool_blk {
    struct rt_pool_blk *next;
    struct rt_pool_blk *next_batch;
    uint32_t batch_n;
} rt_pool_blk_t;

typedef struct rt_pool_list {
    rt_pool_blk_t *head;
    uint32_t n;
} rt_pool_list_t;

typedef struct rt_pool_depot {
    alignas(64) pthread_mutex_t mu;
    rt_pool_blk_t *batches;
} rt_pool_depot_t;

typedef struct rt_pool_tls {
    rt_pool_list_t c[RT_POOL_NCLASS];
    bool registered;
} rt_pool_tls_t;

static rt_pool_depot_t rt_pool_depots[RT_POOL_NCLASS];
static pthread_once_t rt_pool_once = PTHREAD_ONCE_INIT;
static pthread_key_t rt_pool_key;
static pthread_mutex_t rt_pool_slab_mu = PTHREAD_MUTEX_INITIALIZER;
static void **rt_pool_slabs;       /* every slab ever carved (kept reachable) */
static size_t rt_pool_nslabs, rt_pool_capslabs;
static __thread rt_pool_tls_t rt_pool_tls;

/* Blocks moved per depot transfer: about 16 KB worth, at least 8. */
static inline uint32_t rt_pool_batch(int c)
{
    uint32_t b = (uint32_t)(16384 / rt_pool_class_size(c));
    return b < 8 ? 8 : b;
}

static void rt_pool_depot_push(int c, rt_pool_blk_t *first, uint32_t n)
{
    rt_pool_depot_t *d = &rt_pool_depots[c];
    first->batch_n = n;
    pthread_mutex_lock(&d->mu);
    first->next_batch = d->batches;
    d->batches = first;
    pthread_mutex_unlock(&d->mu);
}

static void rt_pool_thread_exit(void *arg)
{
    rt_pool_tls_t *t = arg;
    for (int c = 0; c < RT_POOL_NCLASS; c++) {
        if (t->c[c].head) rt_pool_depot_push(c, t->c[c].head, t->c[c].n);
        t->c[c].head = NULL;
        t->c[c].n = 0;
    }
    t->registered = false;
}

static void rt_pool_init(void)
{
    for (int c = 0; c < RT_POOL_NCLASS; c++) {
        pthread_mutex_init(&rt_pool_depots[c].mu, NULL);
        rt_pool_depots[c].batches = NULL;
    }
    (void)pthread_key_create(&rt_pool_key, rt_pool_thread_exit);
}

static inline rt_pool_tls_t *rt_pool_me(void)
{
    rt_pool_tls_t *t = &rt_pool_tls;
    if (__builtin_expect(!t->registered, 0)) {
        pthread_once(&rt_pool_once, rt_pool_init);
        (void)pthread_setspecific(rt_pool_key, t);
        t->registered = true;
    }
    return t;
}

/* Refill an empty thread list of class c: a batch from the depot, or a new slab. */
static bool rt_pool_refill(rt_pool_list_t *l, int c)
{
    rt_pool_depot_t *d = &rt_pool_depots[c];
    pthread_mutex_lock(&d->mu);
    rt_pool_blk_t *b = d->batches;
    if (b) d->batches = b->next_batch;
    pthread_mutex_unlock(&d->mu);
    if (b) {
        l->head = b;
        l->n = b->batch_n;
        return true;
    }
    size_t sz = rt_pool_class_size(c);
    size_t slab = RT_POOL_SLAB;
    void *mem = NULL;
    if (posix_memalign(&mem, RT_POOL_STEP, slab) != 0) return false;
    pthread_mutex_lock(&rt_pool_slab_mu);
    if (rt_pool_nslabs == rt_pool_capslabs) {
        size_t cap = rt_pool_capslabs ? rt_pool_capslabs * 2 : 64;
        void **g = realloc(rt_pool_slabs, cap * sizeof *g);
        if (!g) {
            pthread_mutex_unlock(&rt_pool_slab_mu);
            free(mem);
            return false;
        }
        rt_pool_slabs = g;
        rt_pool_capslabs = cap;
    }
    rt_pool_slabs[rt_pool_nslabs++] = mem;
    pthread_mutex_unlock(&rt_pool_slab_mu);
    size_t n = slab / sz;
    char *p = mem;
    rt_pool_blk_t *head = NULL;
    for (size_t i = n; i-- > 0;) {
        rt_pool_blk_t *blk = (rt_pool_blk_t *)(void *)(p + i * sz);
        blk->next = head;
        head = blk;
    }
    l->head = head;
    l->n = (uint32_t)n;
    return true;
}

void *rt_pool_get(int c)
{
    rt_pool_list_t *l = &rt_pool_me()->c[c];
    if (__builtin_expect(!l->head, 0) && !rt_pool_refill(l, c)) return NULL;
    rt_pool_blk_t *b = l->head;
    l->head = b->next;
    l->n--;
    return b;
}

void rt_pool_put(int c, void *p)
{
    rt_pool_list_t *l = &rt_pool_me()->c[c];
    rt_pool_blk_t *b = p;
    b->next = l->head;
    l->head = b;
    uint32_t batch = rt_pool_batch(c);
    if (++l->n < 2 * batch) return;
    /* spill the first `batch` blocks as one depot batch */
    rt_pool_blk_t *first = l->head, *last = first;
    for (uint32_t i = 1; i < batch; i++) last = last->next;
    l->head = last->next;
    l->n -= batch;
    last->next = NULL;
    rt_pool_depot_push(c, first, batch);
}

#endif
