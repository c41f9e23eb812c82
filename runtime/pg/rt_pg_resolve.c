/* rt_pg_resolve.c — the resolver thread behind rt_pg_resolve.h.
 *
 * Purpose: one detached thread, started on the first request, takes
 * requests from a FIFO (mutex + condition variable) and runs the blocking
 * getaddrinfo for each host name of a request, then announces the result
 * through the requester's eventfd. A request is reference-counted (its
 * owner and, while queued or running, the resolver); the owner may drop it
 * at any time, after which the resolver neither writes the eventfd nor
 * keeps the memory longer than its own lookup.
 *
 * Exports: rt_pg_resolve_start, rt_pg_resolve_result, rt_pg_resolve_drop,
 * rt_pg_resolve_set_fn.
 *
 * Threads: the three request functions on the owner's thread; the lookup
 * on the resolver thread. g_mu guards the queue and every request's
 * refs/dropped/done fields; a request's results are written before `done`
 * under g_mu and read after it under g_mu.
 */
#include "rt_pg_resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"
#include "rt_log.h"

struct rt_pg_resolve {
    rt_pg_resolve_t *next;        /* queue link (g_mu) */
    char *hosts;                  /* immutable after start */
    int fd;
    int refs;                     /* g_mu */
    bool dropped, done;           /* g_mu */
    int status;                   /* written before done */
    int n;
    const char *addr[RT_PG_RESOLVE_MAX];
    int hidx[RT_PG_RESOLVE_MAX];
    char buf[RT_PG_RESOLVE_MAX][INET6_ADDRSTRLEN];
    char err[160];
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static rt_pg_resolve_t *g_head, *g_tail;   /* g_mu */
static bool g_thread;                       /* g_mu: the resolver runs */
/* relaxed: set by tests while no lookup runs; the queue's mutex orders it
 * before the resolver's next read */
static _Atomic(rt_pg_getaddrinfo_fn) g_fn;

void rt_pg_resolve_set_fn(rt_pg_getaddrinfo_fn fn)
{
    atomic_store_explicit(&g_fn, fn, memory_order_relaxed);
}

/* Drop one reference; the last frees. Under g_mu. */
static void resolve_unref_locked(rt_pg_resolve_t *r)
{
    if (--r->refs > 0) return;
    free(r->hosts);
    free(r);
}

/* Tell the owner (under g_mu, so a drop cannot close the fd meanwhile). */
static void resolve_notify_locked(rt_pg_resolve_t *r)
{
    if (r->dropped) return;
    uint64_t one = 1;
    ssize_t w;
    do w = write(r->fd, &one, sizeof one);
    while (w < 0 && errno == EINTR);
}

/* Run the lookups of one request (resolver thread, without g_mu). */
static void resolve_run(rt_pg_resolve_t *r)
{
    rt_pg_getaddrinfo_fn fn = atomic_load_explicit(&g_fn, memory_order_relaxed);
    if (!fn) fn = getaddrinfo;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    char *save = NULL, *list = r->hosts;
    int idx = 0;
    for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save), idx++) {
        while (*h == ' ') h++;
        struct addrinfo *res = NULL;
        int e = fn(h, NULL, &hints, &res);
        if (e != 0) {
            snprintf(r->err, sizeof r->err, "could not resolve host \"%s\": %s", h, gai_strerror(e));
            continue;
        }
        for (struct addrinfo *a = res; a && r->n < RT_PG_RESOLVE_MAX; a = a->ai_next) {
            const void *src = a->ai_family == AF_INET
                                  ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                  : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
                !inet_ntop(a->ai_family, src, r->buf[r->n], sizeof r->buf[r->n]))
                continue;
            r->addr[r->n] = r->buf[r->n];
            r->hidx[r->n] = idx;
            r->n++;
        }
        freeaddrinfo(res);
    }
    r->status = r->n > 0 ? RT_OK : RT_ENOTFOUND;
    if (r->n == 0 && !r->err[0]) snprintf(r->err, sizeof r->err, "no address for \"%s\"", r->hosts);
}

static void *resolve_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head) pthread_cond_wait(&g_cv, &g_mu);
        rt_pg_resolve_t *r = g_head;
        g_head = r->next;
        if (!g_head) g_tail = NULL;
        bool skip = r->dropped;
        pthread_mutex_unlock(&g_mu);
        if (!skip) resolve_run(r);
        pthread_mutex_lock(&g_mu);
        r->done = true;
        resolve_notify_locked(r);
        resolve_unref_locked(r);
    }
    return NULL;
}

rt_pg_resolve_t *rt_pg_resolve_start(const char *hosts, int notify_fd)
{
    rt_pg_resolve_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->hosts = strdup(hosts ? hosts : "");
    if (!r->hosts) {
        free(r);
        return NULL;
    }
    r->fd = notify_fd;
    r->refs = 2;
    pthread_mutex_lock(&g_mu);
    if (!g_thread) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        g_thread = pthread_create(&t, &at, resolve_main, NULL) == 0;
        pthread_attr_destroy(&at);
        if (!g_thread) {
            /* no resolver: the request fails at once (the owner retries) */
            LOG_ERROR("pg_resolver_start_failed", "errno=%d", errno);
            r->status = RT_ENOMEM;
            snprintf(r->err, sizeof r->err, "cannot start the resolver thread");
            r->done = true;
            r->refs = 1;
            resolve_notify_locked(r);
            pthread_mutex_unlock(&g_mu);
            return r;
        }
    }
    if (g_tail) g_tail->next = r;
    else g_head = r;
    g_tail = r;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    return r;
}

int rt_pg_resolve_result(rt_pg_resolve_t *r, int *n, const char *const **addr,
                         const int **host_idx, const char **err)
{
    pthread_mutex_lock(&g_mu);
    bool done = r->done;
    pthread_mutex_unlock(&g_mu);
    if (!done) return RT_PENDING;
    *n = r->n;
    *addr = r->addr;
    *host_idx = r->hidx;
    *err = r->err;
    return r->status;
}

void rt_pg_resolve_drop(rt_pg_resolve_t *r)
{
    if (!r) return;
    pthread_mutex_lock(&g_mu);
    r->dropped = true;
    resolve_unref_locked(r);
    pthread_mutex_unlock(&g_mu);
}
