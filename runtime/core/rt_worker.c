/* rt_worker.c — worker threads: run queue, event loop, wake-ups, cron,
 * deferred free, per-worker hooks for the I/O modules.
 *
 * Purpose: each worker owns an event_base, an eventfd and a lock-free MPSC
 * run queue of actors homed on it (no work stealing). Its loop:
 *
 *   announce a quiescent state; free retired actors whose grace passed;
 *   run ready actors (each up to RT_BATCH messages) within a budget;
 *   poll the event_base without blocking every so often when busy, or
 *   spin briefly and then block in it when idle.
 *
 * A producer that schedules an actor writes the eventfd only when the
 * worker announced it may be sleeping (`sleeping`, a seq_cst Dekker pair
 * with the run-queue head), so an awake worker costs no syscall. A 10 Hz
 * cron timer passivates idle keyed actors a slice at a time.
 *
 * Exports: rt_worker_setup, rt_worker_teardown, rt_worker_spawn_thread,
 * rt_worker_schedule, rt_worker_retire, rt_worker_cron_add/del,
 * rt_worker_place, rt_worker_kick; the public rt_worker_base/index/
 * runtime/slot/hook, rt_worker_init_failed, rt_worker_inflight_add,
 * rt_assert_not_worker.
 *
 * Threads: setup/teardown/spawn from the main thread; schedule, place and
 * kick from any thread; the rest on the worker itself.
 */
#include "rt_mailbox.h"
#include "rt_mpsc.h"
#include "rt_qsbr.h"
#include "rt_clock.h"
#include "rt_log.h"

#include <errno.h>
#include <sched.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

__thread rt_worker_t *rt_tls_worker;
__thread rt_actor_t *rt_tls_actor;

static inline void rt_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ---- run queue (rt_mpsc.h; nodes are rt_actor.rq) ------------------------- */

static inline rt_actor_t *rt_rq_actor(rt_rq_node_t *n)
{
    return (rt_actor_t *)(void *)((char *)n - offsetof(rt_actor_t, rq));
}

RT_MPSC_DEFINE(rt_rq_q, rt_rq_node_t)

static inline void rt_rq_push(rt_worker_t *w, rt_rq_node_t *n)
{
    /* seq_cst: the total order pairs with the worker's seq_cst store of
     * `sleeping` + load of rq_head (Dekker, see rt_worker_schedule) */
    (void)rt_rq_q_link(&w->rq_head, n, memory_order_seq_cst);
}

static inline rt_rq_node_t *rt_rq_pop(rt_worker_t *w)
{
    return rt_rq_q_pop(&w->rq_head, &w->rq_tail, &w->rq_stub);
}

/* Nothing queued (worker only). `order` seq_cst for the sleep check. */
static inline bool rt_rq_empty(rt_worker_t *w, memory_order order)
{
    return w->rq_tail == &w->rq_stub && atomic_load_explicit(&w->rq_head, order) == &w->rq_stub;
}

void rt_worker_kick(rt_worker_t *w)
{
    uint64_t one = 1;
    ssize_t n;
    do n = write(w->efd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
}

void rt_worker_schedule(rt_runtime_t *rt, rt_actor_t *a)
{
    rt_worker_t *w = &rt->workers[a->worker];
    rt_rq_push(w, &a->rq);
    if (w == rt_tls_worker) return;
    /* seq_cst load: second half of the Dekker pair (our exchange on rq_head
     * came first); the exchange on `sleeping` makes one producer the waker */
    if (atomic_load_explicit(&w->sleeping, memory_order_seq_cst) &&
        atomic_exchange_explicit(&w->sleeping, 0, memory_order_seq_cst))
        rt_worker_kick(w);
}

/* ---- placement ------------------------------------------------------------------ */

int rt_worker_place(rt_runtime_t *rt)
{
    int n = rt->nthreads;
    if (n == 1) return 0;
    rt_worker_t *self = rt_worker_of(rt);
    /* fast path for a creating worker: compare its own count with the
     * minimum it saw at most 64 placements ago (reading every worker's
     * counter on each spawn costs cache misses) */
    if (self && (self->place_tick++ & 63) != 0) {
        /* relaxed: own counter, heuristic */
        int64_t mine = atomic_load_explicit(&self->nlive, memory_order_relaxed);
        if (mine <= self->place_min + RT_PLACE_SLACK + self->place_min / 8) return self->index;
    }
    /* relaxed: a tie-break counter */
    uint32_t start = atomic_fetch_add_explicit(&rt->place_rr, 1, memory_order_relaxed) % (uint32_t)n;
    int best = (int)start;
    /* relaxed: a heuristic reading of other workers' counters */
    int64_t bl = atomic_load_explicit(&rt->workers[best].nlive, memory_order_relaxed);
    for (int i = 1; i < n; i++) {
        int j = (int)((start + (uint32_t)i) % (uint32_t)n);
        int64_t l = atomic_load_explicit(&rt->workers[j].nlive, memory_order_relaxed);
        if (l < bl) {
            bl = l;
            best = j;
        }
    }
    /* a worker creating an actor keeps it (no cross-thread traffic for
     * the first messages) unless it is clearly more loaded than the least
     * loaded worker */
    if (self) {
        self->place_min = bl;
        int64_t mine = atomic_load_explicit(&self->nlive, memory_order_relaxed);
        if (mine <= bl + RT_PLACE_SLACK + bl / 8) return self->index;
    }
    return best;
}

/* ---- cron vector ------------------------------------------------------------------ */

void rt_worker_cron_add(rt_worker_t *w, rt_actor_t *a)
{
    if (w->cron_n == w->cron_cap) {
        uint32_t cap = w->cron_cap ? w->cron_cap * 2 : 64;
        rt_actor_t **g = realloc(w->cron_v, cap * sizeof *g);
        if (!g) return;  /* not passivated on idleness; still correct */
        w->cron_v = g;
        w->cron_cap = cap;
    }
    a->cron_idx = w->cron_n;
    w->cron_v[w->cron_n++] = a;
}

void rt_worker_cron_del(rt_worker_t *w, rt_actor_t *a)
{
    uint32_t i = a->cron_idx;
    rt_actor_t *last = w->cron_v[--w->cron_n];
    w->cron_v[i] = last;
    last->cron_idx = i;
    a->cron_idx = UINT32_MAX;
}

static void rt_worker_cron_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rt_worker_t *w = arg;
    uint32_t now = rt_rel_ms(w->rt);
    w->now = now;
    uint32_t n = w->cron_n;
    uint32_t slice = n / RT_CRON_HZ;
    if (slice < 256) slice = 256;
    for (uint32_t k = 0; k < slice && w->cron_n; k++) {
        if (w->cron_cursor >= w->cron_n) w->cron_cursor = 0;
        rt_actor_t *a = w->cron_v[w->cron_cursor];
        rt_actor_cron(w, a, now);
        if (w->cron_cursor < w->cron_n && w->cron_v[w->cron_cursor] == a) w->cron_cursor++;
    }
    /* relaxed: a metric published once per tick */
    atomic_store_explicit(&w->deepest, w->deepest_cur, memory_order_relaxed);
    w->deepest_cur = 0;
}

/* ---- deferred free ---------------------------------------------------------------- */

void rt_worker_retire(rt_worker_t *w, rt_actor_t *a)
{
    if (w->retire_n == w->retire_cap) {
        uint32_t cap = w->retire_cap ? w->retire_cap * 2 : 64;
        rt_actor_t **g = realloc(w->retire_v, cap * sizeof *g);
        if (!g) {
            /* cannot defer: leak rather than free under a reader */
            LOG_ERROR("retire_enomem", "worker=%d", w->index);
            return;
        }
        w->retire_v = g;
        w->retire_cap = cap;
    }
    w->retire_v[w->retire_n++] = a;
}

/* Close the current set of retired actors into a batch stamped with a
 * snapshot of the online threads. */
static void rt_worker_close_batch(rt_worker_t *w)
{
    rt_retire_batch_t *b = calloc(1, sizeof *b);
    if (!b) return;
    bool ok;
    b->snap = rt_qsbr_snapshot(w->qs, &b->nsnap, &ok);
    if (!ok) {
        free(b);
        return;  /* retry next iteration */
    }
    b->actors = w->retire_v;
    b->n = w->retire_n;
    w->retire_v = NULL;
    w->retire_n = w->retire_cap = 0;
    *w->batches_tail = b;
    w->batches_tail = &b->next;
}

static void rt_worker_reclaim(rt_worker_t *w)
{
    while (w->batches && rt_qsbr_passed(w->batches->snap, w->batches->nsnap)) {
        rt_retire_batch_t *b = w->batches;
        w->batches = b->next;
        if (!w->batches) w->batches_tail = &w->batches;
        for (uint32_t i = 0; i < b->n; i++) rt_actor_reclaim(w, b->actors[i]);
        free(b->actors);
        free(b->snap);
        free(b);
    }
}

/* ---- event callbacks -------------------------------------------------------------- */

static void rt_worker_wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    uint64_t v;
    while (read(fd, &v, sizeof v) == (ssize_t)sizeof v) {}
}

/* ---- set-up ---------------------------------------------------------------------- */

int rt_worker_setup(rt_runtime_t *rt, rt_worker_t *w, int index)
{
    w->rt = rt;
    w->index = index;
    w->efd = -1;
    w->rq_tail = &w->rq_stub;
    /* relaxed: before the threads exist */
    atomic_init(&w->rq_stub.next, NULL);
    atomic_init(&w->rq_head, &w->rq_stub);
    atomic_init(&w->sleeping, 0);
    atomic_init(&w->stop, 0);
    atomic_init(&w->inflight, 0);
    atomic_init(&w->runs, 0);
    atomic_init(&w->messages, 0);
    atomic_init(&w->dropped_q, 0);
    atomic_init(&w->nlive, 0);
    atomic_init(&w->deepest, 0);
    w->batches_tail = &w->batches;
    w->base = event_base_new();
    if (!w->base) return RT_ENOMEM;
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->efd < 0) return RT_EIO;
    w->wake_ev = event_new(w->base, w->efd, EV_READ | EV_PERSIST, rt_worker_wake_cb, w);
    w->cron_ev = event_new(w->base, -1, EV_PERSIST, rt_worker_cron_cb, w);
    if (!w->wake_ev || !w->cron_ev) return RT_ENOMEM;
    struct timeval tv = rt_clock_tv(1000 / RT_CRON_HZ);
    if (event_add(w->wake_ev, NULL) != 0 || event_add(w->cron_ev, &tv) != 0) return RT_EIO;
    return RT_OK;
}

void rt_worker_teardown(rt_worker_t *w)
{
    if (w->wake_ev) event_free(w->wake_ev);
    if (w->cron_ev) event_free(w->cron_ev);
    w->wake_ev = w->cron_ev = NULL;
    if (w->base) event_base_free(w->base);
    w->base = NULL;
    if (w->efd >= 0) close(w->efd);
    w->efd = -1;
    free(w->cron_v);
    w->cron_v = NULL;
    w->cron_n = w->cron_cap = 0;
}

/* ---- the loop -------------------------------------------------------------------- */

/* Run queued actors: at most RT_WORKER_BUDGET runs or ~2 ms. */
static uint32_t rt_worker_run_ready(rt_worker_t *w)
{
    uint32_t n = 0;
    uint64_t t0 = 0;
    while (n < RT_WORKER_BUDGET) {
        rt_rq_node_t *node = rt_rq_pop(w);
        if (!node) break;
        rt_actor_t *a = rt_rq_actor(node);
        if (rt_actor_run(w, a)) rt_rq_push(w, &a->rq);
        n++;
        if ((n & 31) == 0) {
            uint64_t t = rt_clock_us();
            if (!t0) t0 = t;
            else if (t - t0 > 2000) break;
        }
    }
    if (n) {
        /* owner-only counter: relaxed load + store; read by the drain check */
        uint64_t r = atomic_load_explicit(&w->runs, memory_order_relaxed) + n;
        atomic_store_explicit(&w->runs, r, memory_order_relaxed);
    }
    return n;
}

/* Spin for up to spin_cur µs waiting for work. True if work arrived. No
 * spin while this worker has I/O in flight: its result arrives through
 * epoll, and spinning would take the core the database or peer needs. */
static bool rt_worker_spin(rt_worker_t *w)
{
    int spin_us = (int)w->spin_cur;
    if (spin_us <= 0) return false;
    /* relaxed: own counter (only this worker's I/O modules change it) */
    if (atomic_load_explicit(&w->inflight, memory_order_relaxed) > 0) return false;
    uint64_t t0 = rt_clock_us();
    bool yielding = false;
    for (uint32_t i = 1;; i++) {
        /* relaxed: a hint; the sleep path re-checks with seq_cst */
        if (!rt_rq_empty(w, memory_order_relaxed)) return true;
        if (atomic_load_explicit(&w->stop, memory_order_relaxed)) return true;
        if (yielding) {
            /* let any other runnable thread on this core (often the peer
             * we are waiting for, when both share one CPU) go first */
            sched_yield();
        } else {
            rt_cpu_relax();
            if ((i & 15) != 0) continue;
        }
        uint64_t spent = rt_clock_us() - t0;
        if (spent >= (uint64_t)spin_us) return false;
        if (spent >= RT_SPIN_YIELD_US) yielding = true;
    }
}

static void rt_worker_final(rt_worker_t *w)
{
    rt_runtime_t *rt = w->rt;
    rt_actor_shutdown_all(w);
    /* let I/O issued so far (e.g. by on_passivate) complete */
    while (atomic_load_explicit(&w->inflight, memory_order_relaxed) > 0 &&
           rt_now_ms() < rt->final_deadline) {
        struct timeval tv = rt_clock_tv(10);
        event_base_loopexit(w->base, &tv);
        event_base_loop(w->base, EVLOOP_ONCE);
    }
    /* relaxed: read by rt_runtime_stop after join */
    int64_t left = atomic_load_explicit(&w->inflight, memory_order_relaxed);
    if (left > 0) LOG_WARN("worker_inflight_abandoned", "worker=%d inflight=%lld", w->index, (long long)left);
    for (int i = RT_WORKER_SLOTS - 1; i >= 0; i--)
        if (rt->hooks[i].fini) rt->hooks[i].fini(w->slots[i], rt->hooks[i].arg);
}

static void *rt_worker_main(void *arg)
{
    rt_worker_t *w = arg;
    rt_runtime_t *rt = w->rt;
    rt_tls_worker = w;
    char name[16];
    snprintf(name, sizeof name, "rt-worker-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    rt_qsbr_online(w->qs);
    for (int i = 0; i < RT_WORKER_SLOTS; i++)
        if (rt->hooks[i].init) w->slots[i] = rt->hooks[i].init(rt, w->index, rt->hooks[i].arg);
    w->now = rt_rel_ms(rt);
    w->spin_cur = rt->spin_us > 0 ? (uint32_t)rt->spin_us : 0;

    pthread_mutex_lock(&rt->start_mu);
    rt->nstarted++;
    pthread_cond_broadcast(&rt->start_cv);
    pthread_mutex_unlock(&rt->start_mu);

    uint32_t since_poll = 0;
    uint64_t last_poll = rt_clock_coarse_ms();
    for (;;) {
        rt_qsbr_quiescent(w->qs);
        if (w->batches) rt_worker_reclaim(w);
        /* acquire: pairs with the release store in rt_runtime_stop, so the
         * FINAL phase and its deadline are visible */
        if (atomic_load_explicit(&w->stop, memory_order_acquire)) break;
        uint64_t cms = rt_clock_coarse_ms();
        w->now = (uint32_t)(cms - rt->t0);
        uint32_t n = rt_worker_run_ready(w);
        if (w->retire_n) rt_worker_close_batch(w);
        if (n) {
            since_poll += n;
            if (since_poll >= RT_WORKER_BUDGET || cms != last_poll) {
                event_base_loop(w->base, EVLOOP_NONBLOCK);
                since_poll = 0;
                last_poll = cms;
            }
            continue;
        }
        bool spun = atomic_load_explicit(&w->inflight, memory_order_relaxed) <= 0 && w->spin_cur;
        if (rt_worker_spin(w)) continue;
        /* seq_cst store then seq_cst load of rq_head: the worker half of
         * the Dekker pair with rt_worker_schedule */
        atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
        if (!rt_rq_empty(w, memory_order_seq_cst) || atomic_load_explicit(&w->stop, memory_order_acquire)) {
            atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
            continue;
        }
        rt_qsbr_offline(w->qs);
        uint64_t slept = rt_clock_us();
        event_base_loop(w->base, EVLOOP_ONCE);
        slept = rt_clock_us() - slept;
        /* relaxed: only suppresses needless kicks */
        atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
        rt_qsbr_online(w->qs);
        /* adaptive spin: a sleep that a longer spin would have avoided
         * doubles the spin (up to RT_SPIN_MAX_US); a long one halves it
         * (down to the configured base) */
        if (spun) {
            uint32_t base = (uint32_t)rt->spin_us;
            if (slept < RT_SPIN_MAX_US) w->spin_cur = w->spin_cur * 2 > RT_SPIN_MAX_US ? RT_SPIN_MAX_US : w->spin_cur * 2;
            else w->spin_cur = w->spin_cur / 2 < base ? base : w->spin_cur / 2;
        }
        since_poll = 0;
        last_poll = rt_clock_coarse_ms();
    }
    rt_worker_final(w);
    rt_qsbr_offline(w->qs);
    rt_tls_worker = NULL;
    return NULL;
}

int rt_worker_spawn_thread(rt_worker_t *w)
{
    w->qs = rt_qsbr_register();
    if (!w->qs) return RT_ENOMEM;
    if (pthread_create(&w->thread, NULL, rt_worker_main, w) != 0) {
        rt_qsbr_unregister(w->qs);
        w->qs = NULL;
        return RT_ENOMEM;
    }
    w->thread_started = true;
    return RT_OK;
}

/* ---- public worker integration ---------------------------------------------------- */

struct event_base *rt_worker_base(void)
{
    return rt_tls_worker ? rt_tls_worker->base : NULL;
}

int rt_worker_index(void)
{
    return rt_tls_worker ? rt_tls_worker->index : -1;
}

rt_runtime_t *rt_worker_runtime(void)
{
    return rt_tls_worker ? rt_tls_worker->rt : NULL;
}

void *rt_worker_slot(int slot)
{
    if (!rt_tls_worker || slot < 0 || slot >= RT_WORKER_SLOTS) return NULL;
    return rt_tls_worker->slots[slot];
}

int rt_worker_hook(rt_runtime_t *rt, int slot, rt_worker_init_fn init, rt_worker_fini_fn fini,
                   void *arg)
{
    if (!rt || slot < 0 || slot >= RT_WORKER_SLOTS) return RT_EINVAL;
    /* relaxed: main thread only */
    if (atomic_load_explicit(&rt->phase, memory_order_relaxed) != RT_PHASE_NEW) return RT_EINVAL;
    if (rt->hooks[slot].init || rt->hooks[slot].fini) return RT_EINVAL;
    rt->hooks[slot].init = init;
    rt->hooks[slot].fini = fini;
    rt->hooks[slot].arg = arg;
    return RT_OK;
}

void rt_worker_init_failed(const char *reason)
{
    rt_worker_t *w = rt_tls_worker;
    if (!w) return;
    snprintf(w->init_error, sizeof w->init_error, "%s", reason && *reason ? reason : "init hook failed");
}

void rt_worker_inflight_add(int delta)
{
    rt_worker_t *w = rt_tls_worker;
    /* relaxed: the drain check polls it; exactness over time is enough */
    if (w) atomic_fetch_add_explicit(&w->inflight, delta, memory_order_relaxed);
}

void rt_assert_not_worker(const char *what)
{
    rt_worker_t *w = rt_tls_worker;
    if (!w) return;
#ifndef NDEBUG
    fprintf(stderr, "plus7: blocking call %s on runtime worker %d — aborting (debug build)\n",
            what ? what : "?", w->index);
    abort();
#else
    LOG_ERROR("blocking_call_on_worker", "what=%s worker=%d", what ? what : "?", w->index);
#endif
}
