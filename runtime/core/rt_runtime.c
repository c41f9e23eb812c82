/* rt_runtime.c — the runtime's life cycle, kinds, metrics and small helpers.
 *
 * Purpose: create the workers (each with its event_base and eventfd),
 * start them, stop them gracefully (refuse intake, drain, passivate, join,
 * free what is left), register kinds, and sum the per-worker counters into
 * an rt_stats_t snapshot.
 *
 * Exports: rt_runtime_new, rt_runtime_start, rt_runtime_stop,
 * rt_runtime_free, rt_runtime_threads, rt_kind_register, rt_kind_find,
 * rt_kind_index (core-internal), rt_stats_get, rt_strerror, rt_now_ms.
 *
 * Threads: life cycle and rt_kind_register from the main thread; the rest
 * from any thread.
 */
#include "rt_internal.h"
#include "rt_qsbr.h"
#include "rt_clock.h"
#include "rt_log.h"

#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t rt_evthread_once = PTHREAD_ONCE_INIT;
static int rt_evthread_rc;

static void rt_evthread_init(void)
{
    rt_evthread_rc = evthread_use_pthreads();
}

uint64_t rt_now_ms(void)
{
    return rt_clock_ms();
}

const char *rt_strerror(int rc)
{
    switch (rc) {
    case RT_OK: return "RT_OK";
    case RT_STOP: return "RT_STOP";
    case RT_PENDING: return "RT_PENDING";
    case RT_EFAIL: return "RT_EFAIL";
    case RT_ENOMEM: return "RT_ENOMEM";
    case RT_ESTALE: return "RT_ESTALE";
    case RT_ETIMEDOUT: return "RT_ETIMEDOUT";
    case RT_EQUARANTINED: return "RT_EQUARANTINED";
    case RT_ESHUTDOWN: return "RT_ESHUTDOWN";
    case RT_EINVAL: return "RT_EINVAL";
    case RT_EIO: return "RT_EIO";
    case RT_ENOTFOUND: return "RT_ENOTFOUND";
    case RT_EFULL: return "RT_EFULL";
    default: return rc < 0 ? "RT_E?" : "RT_?";
    }
}

static void rt_runtime_release(rt_runtime_t *rt)
{
    if (rt->workers) {
        for (int i = 0; i < rt->nthreads; i++) rt_worker_teardown(&rt->workers[i]);
        free(rt->workers);
    }
    rt_dir_fini(rt);
    rt_slot_fini(rt);
    pthread_mutex_destroy(&rt->kinds_mu);
    pthread_mutex_destroy(&rt->start_mu);
    pthread_cond_destroy(&rt->start_cv);
    free(rt);
}

rt_runtime_t *rt_runtime_new(const rt_config_t *cfg)
{
    if (!cfg || cfg->threads < 1 || cfg->threads > UINT16_MAX) return NULL;
    pthread_once(&rt_evthread_once, rt_evthread_init);
    if (rt_evthread_rc != 0) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, RT_CACHELINE, sizeof(rt_runtime_t)) != 0) return NULL;
    rt_runtime_t *rt = p;
    memset(rt, 0, sizeof *rt);
    rt->cfg = *cfg;
    rt->nthreads = cfg->threads;
    rt->t0 = rt_now_ms();
    atomic_init(&rt->phase, RT_PHASE_NEW);
    atomic_init(&rt->nkinds, 0);
    atomic_init(&rt->dropped_q, 0);
    atomic_init(&rt->place_rr, 0);
    for (int i = 0; i < RT_KINDS_MAX; i++) atomic_init(&rt->kinds[i], NULL);
    pthread_mutex_init(&rt->kinds_mu, NULL);
    pthread_mutex_init(&rt->start_mu, NULL);
    pthread_cond_init(&rt->start_cv, NULL);
    const char *spin = getenv("PLUS7_RT_SPIN_US");
    rt->spin_us = spin && *spin ? atoi(spin) : 50;
    if (rt_slot_init(rt) != RT_OK || rt_dir_init(rt) != RT_OK) {
        rt_runtime_release(rt);
        return NULL;
    }
    if (posix_memalign(&p, RT_CACHELINE, sizeof(rt_worker_t) * (size_t)rt->nthreads) != 0) {
        rt_runtime_release(rt);
        return NULL;
    }
    rt->workers = p;
    memset(rt->workers, 0, sizeof(rt_worker_t) * (size_t)rt->nthreads);
    for (int i = 0; i < rt->nthreads; i++) rt->workers[i].efd = -1;
    for (int i = 0; i < rt->nthreads; i++) {
        if (rt_worker_setup(rt, &rt->workers[i], i) != RT_OK) {
            rt_runtime_release(rt);
            return NULL;
        }
    }
    return rt;
}

int rt_runtime_threads(const rt_runtime_t *rt) { return rt ? rt->nthreads : 0; }

int rt_kind_index(rt_runtime_t *rt, const rt_kind_t *kind)
{
    /* acquire: pairs with the release increment below; kinds[i < n] are set */
    int n = atomic_load_explicit(&rt->nkinds, memory_order_acquire);
    for (int i = 0; i < n; i++)
        /* relaxed: ordered by the acquire on nkinds */
        if (atomic_load_explicit(&rt->kinds[i], memory_order_relaxed) == kind) return i;
    pthread_mutex_lock(&rt->kinds_mu);
    n = atomic_load_explicit(&rt->nkinds, memory_order_relaxed);
    int idx = RT_KIDX_NONE;
    for (int i = 0; i < n; i++)
        if (atomic_load_explicit(&rt->kinds[i], memory_order_relaxed) == kind) idx = i;
    if (idx == RT_KIDX_NONE && n < RT_KINDS_MAX) {
        atomic_store_explicit(&rt->kinds[n], kind, memory_order_relaxed);
        /* release: publishes kinds[n] to lock-free readers */
        atomic_store_explicit(&rt->nkinds, n + 1, memory_order_release);
        idx = n;
    }
    pthread_mutex_unlock(&rt->kinds_mu);
    return idx;
}

int rt_kind_register(rt_runtime_t *rt, const rt_kind_t *kind)
{
    if (!rt || !kind || !kind->name || !kind->handle) return RT_EINVAL;
    pthread_mutex_lock(&rt->kinds_mu);
    int n = atomic_load_explicit(&rt->nkinds, memory_order_relaxed);
    int rc = RT_OK;
    for (int i = 0; i < n; i++) {
        const rt_kind_t *k = atomic_load_explicit(&rt->kinds[i], memory_order_relaxed);
        if (k == kind || strcmp(k->name, kind->name) == 0) rc = RT_EINVAL;
    }
    if (rc == RT_OK && n >= RT_KINDS_MAX) rc = RT_EINVAL;
    if (rc == RT_OK) {
        atomic_store_explicit(&rt->kinds[n], kind, memory_order_relaxed);
        /* release: as in rt_kind_index */
        atomic_store_explicit(&rt->nkinds, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&rt->kinds_mu);
    return rc;
}

const rt_kind_t *rt_kind_find(rt_runtime_t *rt, const char *name)
{
    if (!rt || !name) return NULL;
    /* acquire: as in rt_kind_index */
    int n = atomic_load_explicit(&rt->nkinds, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const rt_kind_t *k = atomic_load_explicit(&rt->kinds[i], memory_order_relaxed);
        if (k->name && strcmp(k->name, name) == 0) return k;
    }
    return NULL;
}

int rt_runtime_start(rt_runtime_t *rt)
{
    if (!rt) return RT_EINVAL;
    /* relaxed: main thread only */
    if (atomic_load_explicit(&rt->phase, memory_order_relaxed) != RT_PHASE_NEW) return RT_EINVAL;
    atomic_store_explicit(&rt->phase, RT_PHASE_RUNNING, memory_order_release);
    for (int i = 0; i < rt->nthreads; i++) {
        if (rt_worker_spawn_thread(&rt->workers[i]) != RT_OK) {
            LOG_ERROR("runtime_start_failed", "worker=%d", i);
            rt_runtime_stop(rt, 0);
            return RT_ENOMEM;
        }
    }
    pthread_mutex_lock(&rt->start_mu);
    while (rt->nstarted < rt->nthreads) pthread_cond_wait(&rt->start_cv, &rt->start_mu);
    pthread_mutex_unlock(&rt->start_mu);
    /* init_error was written before the worker counted itself under
     * start_mu, so the mutex orders it before these reads */
    int failed = 0;
    for (int i = 0; i < rt->nthreads; i++) {
        if (!rt->workers[i].init_error[0]) continue;
        LOG_ERROR("runtime_start_failed", "worker=%d reason=\"%s\"", i, rt->workers[i].init_error);
        failed++;
    }
    if (failed) {
        rt_runtime_stop(rt, 0);
        return RT_EIO;
    }
    LOG_INFO("runtime_started", "threads=%d", rt->nthreads);
    return RT_OK;
}

/* Everything quiet: every worker blocked in its event loop with nothing
 * queued and no I/O in flight, and no actor ran since the last look. */
static bool rt_runtime_quiet(rt_runtime_t *rt, uint64_t *runs_prev)
{
    bool quiet = true;
    for (int i = 0; i < rt->nthreads; i++) {
        rt_worker_t *w = &rt->workers[i];
        if (!w->thread_started) continue;
        /* relaxed: polled repeatedly; two consecutive quiet looks decide */
        uint64_t r = atomic_load_explicit(&w->runs, memory_order_relaxed);
        if (!atomic_load_explicit(&w->sleeping, memory_order_seq_cst) ||
            atomic_load_explicit(&w->inflight, memory_order_relaxed) > 0 || r != runs_prev[i])
            quiet = false;
        runs_prev[i] = r;
    }
    return quiet;
}

static void rt_runtime_free_leftovers(rt_runtime_t *rt)
{
    for (int i = 0; i < rt->nthreads; i++) {
        rt_worker_t *w = &rt->workers[i];
        while (w->batches) {
            rt_retire_batch_t *b = w->batches;
            w->batches = b->next;
            for (uint32_t j = 0; j < b->n; j++) rt_actor_destroy_orphan(rt, b->actors[j]);
            free(b->actors);
            free(b->snap);
            free(b);
        }
        w->batches_tail = &w->batches;
        for (uint32_t j = 0; j < w->retire_n; j++) rt_actor_destroy_orphan(rt, w->retire_v[j]);
        free(w->retire_v);
        w->retire_v = NULL;
        w->retire_n = w->retire_cap = 0;
        w->cron_n = 0;
    }
    /* relaxed: all workers are joined */
    uint32_t hwm = atomic_load_explicit(&rt->slot_hwm, memory_order_relaxed);
    for (uint32_t s = 1; s < hwm; s++) {
        rt_slot_t *e = rt_slot_entry(rt, s);
        rt_actor_t *a = atomic_load_explicit(&e->actor, memory_order_relaxed);
        if (!a) continue;
        atomic_store_explicit(&e->actor, NULL, memory_order_relaxed);
        rt_actor_destroy_orphan(rt, a);
    }
    for (int i = 0; i < RT_DIR_SHARDS; i++) {
        rt_dir_shard_t *sh = &rt->dir[i];
        memset(sh->buckets, 0, sh->nbuckets * sizeof *sh->buckets);
        sh->count = 0;
    }
}

int rt_runtime_stop(rt_runtime_t *rt, int drain_ms)
{
    if (!rt) return RT_EINVAL;
    /* relaxed: main thread only */
    int ph = atomic_load_explicit(&rt->phase, memory_order_relaxed);
    if (ph >= RT_PHASE_FINAL) return RT_OK;
    if (drain_ms < 0) drain_ms = 0;
    uint64_t t0 = rt_now_ms(), deadline = t0 + (uint64_t)drain_ms;
    if (ph == RT_PHASE_RUNNING) {
        /* seq_cst: intake stops before we start looking for quiet */
        atomic_store_explicit(&rt->phase, RT_PHASE_DRAINING, memory_order_seq_cst);
        uint64_t *prev = calloc((size_t)rt->nthreads, sizeof *prev);
        int quiet = 0;
        while (prev && rt_now_ms() < deadline) {
            if (rt_runtime_quiet(rt, prev)) {
                if (++quiet >= 3) break;
            } else {
                quiet = 0;
            }
            usleep(1000); /* lint:allow-blocking main thread: rt_runtime_stop polls the drain */
        }
        free(prev);
    }
    uint64_t now = rt_now_ms();
    rt->final_deadline = deadline > now + 200 ? deadline : now + 200;
    /* seq_cst: every send that starts after this sees FINAL and is refused */
    atomic_store_explicit(&rt->phase, RT_PHASE_FINAL, memory_order_seq_cst);
    for (int i = 0; i < rt->nthreads; i++) {
        /* release: FINAL and final_deadline are visible to the worker */
        atomic_store_explicit(&rt->workers[i].stop, 1, memory_order_release);
        if (rt->workers[i].thread_started) rt_worker_kick(&rt->workers[i]);
    }
    for (int i = 0; i < rt->nthreads; i++) {
        if (!rt->workers[i].thread_started) continue;
        pthread_join(rt->workers[i].thread, NULL);
        rt_qsbr_unregister(rt->workers[i].qs);
        rt->workers[i].qs = NULL;
        rt->workers[i].thread_started = false;
    }
    /* wait out any outside thread still inside a send */
    uint32_t n;
    bool ok;
    rt_qsbr_snap_t *s = rt_qsbr_snapshot(NULL, &n, &ok);
    while (ok && !rt_qsbr_passed(s, n)) usleep(100); /* lint:allow-blocking main thread: rt_runtime_stop waits out senders */
    free(s);
    rt_runtime_free_leftovers(rt);
    /* release: main thread only; ordered for any later reader */
    atomic_store_explicit(&rt->phase, RT_PHASE_STOPPED, memory_order_release);
    LOG_INFO("runtime_stopped", "drain_ms=%llu", (unsigned long long)(rt_now_ms() - t0));
    return RT_OK;
}

void rt_runtime_free(rt_runtime_t *rt)
{
    if (!rt) return;
    /* relaxed: main thread only */
    int ph = atomic_load_explicit(&rt->phase, memory_order_relaxed);
    if (ph != RT_PHASE_STOPPED) {
        if (ph == RT_PHASE_NEW) {
            atomic_store_explicit(&rt->phase, RT_PHASE_FINAL, memory_order_relaxed);
            rt_runtime_free_leftovers(rt);
        } else {
            rt_runtime_stop(rt, 0);
        }
    }
    rt_runtime_release(rt);
}

void rt_stats_get(rt_runtime_t *rt, rt_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (!rt) return;
    /* relaxed everywhere: a snapshot of independent counters */
    out->dropped_quarantined = atomic_load_explicit(&rt->dropped_q, memory_order_relaxed);
    int nk = atomic_load_explicit(&rt->nkinds, memory_order_acquire);
    out->nkinds = nk;
    for (int k = 0; k < nk; k++)
        out->kinds[k].name = atomic_load_explicit(&rt->kinds[k], memory_order_relaxed)->name;
    for (int i = 0; i < rt->nthreads; i++) {
        rt_worker_t *w = &rt->workers[i];
        out->messages += atomic_load_explicit(&w->messages, memory_order_relaxed);
        out->dropped_quarantined += atomic_load_explicit(&w->dropped_q, memory_order_relaxed);
        uint64_t d = atomic_load_explicit(&w->deepest, memory_order_relaxed);
        if (d > out->deepest_mailbox) out->deepest_mailbox = d;
        for (int k = 0; k < nk; k++) {
            rt_kind_ctr_t *c = &w->kc[k];
            uint64_t act = atomic_load_explicit(&c->activations, memory_order_relaxed);
            uint64_t deact = atomic_load_explicit(&c->deactivations, memory_order_relaxed);
            out->kinds[k].activations += act;
            out->kinds[k].live += act - deact;
            out->kinds[k].passivations += atomic_load_explicit(&c->passivations, memory_order_relaxed);
            out->kinds[k].failures += atomic_load_explicit(&c->failures, memory_order_relaxed);
            out->kinds[k].quarantines += atomic_load_explicit(&c->quarantines, memory_order_relaxed);
        }
    }
}
