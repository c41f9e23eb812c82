/* rt_internal.h — private structures shared by the runtime core's files.
 *
 * Purpose: the actor, worker, runtime and directory layouts, and the
 * functions the core's files call on each other. Nothing outside
 * runtime/core/ includes this header.
 *
 * Exports (core-internal): struct rt_actor, struct rt_worker, struct
 * rt_runtime, rt_dir_*, rt_slot_*, rt_actor_* (run, push, retire),
 * rt_worker_* (schedule, current), rt_tls_* accessors.
 *
 * Threads: see each declaration. The invariants that tie them together are
 * written up in docs/runtime.md ("Invariants").
 */
#ifndef PLUS7_RT_INTERNAL_H
#define PLUS7_RT_INTERNAL_H

#include "rt.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct event;
struct event_base;

#define RT_CACHELINE 64
#define RT_KINDS_MAX 16
#define RT_DIR_SHARDS 64            /* power of two */
#define RT_WORKER_BUDGET 256        /* actor runs per loop iteration */
#define RT_CRON_HZ 10
#define RT_KIDX_NONE 0xff
#define RT_SPIN_MAX_US 1000         /* adaptive idle spin ceiling */
#define RT_SPIN_YIELD_US 3          /* spin with sched_yield after this */
#define RT_PLACE_SLACK 256          /* see rt_worker_place */

/* Internal message types (below RT_MSG_USER, never delivered to handle()). */
enum {
    RT_MSG_I_MONITOR = 60,          /* from = the watcher; urgent */
};

typedef struct rt_qsbr_rec rt_qsbr_rec_t;
typedef struct rt_worker rt_worker_t;

/* Run-queue link embedded in every actor (Vyukov intrusive MPSC node). */
typedef struct rt_rq_node {
    struct rt_rq_node *_Atomic next;
} rt_rq_node_t;

/* A mailbox stub: only its `next` field is ever accessed, through an
 * rt_msg_t pointer (the field is the first member of rt_msg_t). */
typedef struct rt_mstub {
    rt_msg_t *_Atomic next;
} rt_mstub_t;

/* Activation status; written only by the home worker. */
enum { RT_ST_INACTIVE = 0, RT_ST_LOADING = 1, RT_ST_ACTIVE = 2, RT_ST_DEAD = 3 };

/* Immutable actor flags. */
enum { RT_AF_KEYED = 1u << 0 };

typedef struct rt_timer_rec {
    struct rt_timer_rec *next;
    struct event *ev;
    rt_actor_t *actor;
    uint32_t id;
    bool fired;
} rt_timer_rec_t;

/* Rarely needed per-activation data, allocated on first use. Home worker only. */
typedef struct rt_actor_ext {
    rt_msg_t *held_head, *held_tail;    /* held while LOADING / re-activating */
    rt_timer_rec_t *timers;
    uint32_t timer_seq;
    uint32_t act_timer;                 /* activation deadline timer id, 0 = none */
    uint32_t nwatch, capwatch;
    rt_ref_t *watch;                    /* monitors watching this actor */
    rt_msg_t *stale_n, *stale_u;        /* see rt_actor_deactivate */
} rt_actor_ext_t;

/* An actor: two cache lines. Line 0 is written by producers (mailbox
 * heads, depth counter, run-queue link) and read by senders (immutable
 * fields); line 1 belongs to the home worker. The key (keyed actors) and
 * the state follow the struct in the same allocation. */
struct rt_actor {
    /* ---- line 0: producers ---- */
    _Atomic(rt_msg_t *) head;       /* normal lane; bit 0 = idle (unscheduled) */
    _Atomic(rt_msg_t *) uhead;      /* urgent lane */
    rt_mstub_t stub;                /* normal lane stub: the first producer after
                                     * idle links it, so it shares head's line */
    rt_rq_node_t rq;                /* run-queue link */
    _Atomic uint32_t pushed;        /* messages pushed (both lanes) */
    _Atomic uint32_t gen;           /* generation of the current activation */
    const rt_kind_t *kind;
    rt_runtime_t *rt;
    uint16_t worker;                /* home worker */
    uint16_t state_off;             /* state = (char *)a + state_off */
    uint8_t kidx;                   /* kind index or RT_KIDX_NONE */
    uint8_t aflags;                 /* RT_AF_* */
    uint8_t pad0[2];
    /* ---- line 1: home worker ---- */
    alignas(RT_CACHELINE) rt_msg_t *tail;
    rt_msg_t *utail;
    rt_mstub_t ustub;
    rt_actor_ext_t *ext;
    rt_actor_t *dir_next;           /* directory chain; under the shard lock */
    uint32_t slot;
    uint32_t hash;                  /* directory hash (keyed) */
    _Atomic uint32_t popped;        /* messages popped; single writer */
    uint32_t last_active;           /* runtime-relative ms of the last delivery */
    uint32_t cron_idx;              /* index in the worker's cron vector or UINT32_MAX */
    uint8_t status;                 /* RT_ST_* */
    uint8_t running;                /* inside actor_run (re-entrancy guard) */
    uint8_t pad1[2];
};

/* A slot-table entry: refs are {slot, gen}. The entry is never freed while
 * the runtime lives, so a stale ref always reads valid memory. */
typedef struct rt_slot {
    _Atomic(rt_actor_t *) actor;    /* NULL when free */
    uint32_t gen;                   /* last generation issued on this slot */
    uint32_t next_free;
} rt_slot_t;

_Static_assert(sizeof(struct rt_actor) == 2 * RT_CACHELINE, "rt_actor must be two cache lines");
_Static_assert(sizeof(rt_slot_t) == 16, "rt_slot_t must be 16 bytes");
/* Memory budget: a live idle keyless actor (state_size 0) costs the actor,
 * its slot entry and the allocator's header (16 B in glibc, 64-aligned). */
_Static_assert(sizeof(struct rt_actor) + sizeof(rt_slot_t) + 16 <= 256,
               "a live idle keyless actor must fit in 256 bytes");

#define RT_SLOT_CHUNK_BITS 16
#define RT_SLOT_CHUNK (1u << RT_SLOT_CHUNK_BITS)
#define RT_SLOT_CHUNKS 1024         /* 64M slots */
#define RT_SLOT_CACHE 256           /* per-worker cache of free slot numbers */

/* Quarantine bookkeeping for one (kind, key); under the shard lock. */
typedef struct rt_fail_rec {
    struct rt_fail_rec *next;
    const rt_kind_t *kind;
    uint32_t hash;
    uint32_t nfail;
    uint64_t times[RT_QUARANTINE_MAX];  /* ring of failure times (ms) */
    uint64_t until;                     /* quarantined until (ms), 0 = not */
    char key[];
} rt_fail_rec_t;

typedef struct rt_dir_shard {
    alignas(RT_CACHELINE) pthread_mutex_t mu;
    rt_actor_t **buckets;
    uint32_t nbuckets;              /* power of two */
    uint32_t count;
    rt_fail_rec_t *fails;
} rt_dir_shard_t;

/* Retired actors waiting for a grace period (see rt_qsbr.h). */
typedef struct rt_retire_batch {
    struct rt_retire_batch *next;
    rt_actor_t **actors;
    uint32_t n;
    uint32_t nsnap;
    struct rt_qsbr_snap *snap;
} rt_retire_batch_t;

/* Per-kind counters of one worker (single writer: that worker). */
typedef struct rt_kind_ctr {
    _Atomic uint64_t activations, deactivations, passivations, failures, quarantines;
} rt_kind_ctr_t;

struct rt_worker {
    /* ---- producers: run-queue head, its stub (linked by the first
     * producer after the queue drained), the sleeping flag ---- */
    alignas(RT_CACHELINE) rt_rq_node_t *_Atomic rq_head;
    rt_rq_node_t rq_stub;
    _Atomic int sleeping;           /* 1 while the worker may block in epoll */
    int efd;                        /* eventfd written to wake the worker */
    _Atomic int64_t nlive;          /* actors homed here (placement; any thread) */
    /* ---- the worker itself ---- */
    alignas(RT_CACHELINE) rt_rq_node_t *rq_tail;
    rt_runtime_t *rt;
    int index;
    pthread_t thread;
    bool thread_started;
    struct event_base *base;
    struct event *wake_ev, *cron_ev;
    rt_qsbr_rec_t *qs;
    void *slots[RT_WORKER_SLOTS];
    _Atomic int stop;               /* set by rt_runtime_stop (FINAL phase) */
    char init_error[96];            /* set by rt_worker_init_failed before start_mu
                                     * publishes the worker as started */
    _Atomic int64_t inflight;       /* in-flight I/O (rt_worker_inflight_add) */
    _Atomic uint64_t runs;          /* actor runs, for drain detection */
    _Atomic uint64_t messages;      /* messages delivered to handlers */
    _Atomic uint64_t dropped_q;     /* messages dropped to quarantine */
    _Atomic uint64_t deepest;       /* deepest mailbox seen last cron period */
    uint64_t deepest_cur;
    uint32_t now;                   /* cached runtime-relative ms */
    uint32_t spin_cur;              /* current idle spin (µs), adaptive */
    uint32_t place_tick;            /* rt_worker_place: refresh place_min every 64 */
    int64_t place_min;              /* least nlive seen at the last refresh */
    /* cron: keyed actors with idle_age_ms > 0 */
    rt_actor_t **cron_v;
    uint32_t cron_n, cron_cap, cron_cursor;
    /* deferred free */
    rt_actor_t **retire_v;
    uint32_t retire_n, retire_cap;
    rt_retire_batch_t *batches, **batches_tail;
    /* slot cache */
    uint32_t slot_cache[RT_SLOT_CACHE];
    uint32_t slot_cache_n;
    rt_kind_ctr_t kc[RT_KINDS_MAX];
};

enum { RT_PHASE_NEW = 0, RT_PHASE_RUNNING = 1, RT_PHASE_DRAINING = 2, RT_PHASE_FINAL = 3,
       RT_PHASE_STOPPED = 4 };

typedef struct rt_hook {
    rt_worker_init_fn init;
    rt_worker_fini_fn fini;
    void *arg;
} rt_hook_t;

struct rt_runtime {
    rt_config_t cfg;
    int nthreads;
    rt_worker_t *workers;
    _Atomic int phase;              /* RT_PHASE_* */
    uint64_t t0;                    /* rt_now_ms() at creation */

    pthread_mutex_t kinds_mu;
    const rt_kind_t *_Atomic kinds[RT_KINDS_MAX];
    _Atomic int nkinds;

    rt_hook_t hooks[RT_WORKER_SLOTS];

    pthread_mutex_t start_mu;
    pthread_cond_t start_cv;
    int nstarted;

    rt_dir_shard_t dir[RT_DIR_SHARDS];

    pthread_mutex_t slot_mu;
    rt_slot_t *_Atomic slot_chunks[RT_SLOT_CHUNKS];
    _Atomic uint32_t slot_hwm;      /* slots [1, hwm) have been handed out */
    uint32_t slot_free;             /* global free list head (0 = none) */

    _Atomic uint64_t dropped_q;     /* quarantine drops seen at send time */
    _Atomic uint32_t place_rr;      /* placement tie-break */
    int spin_us;                    /* idle spin before sleeping */
    uint64_t final_deadline;        /* rt_now_ms() bound for the FINAL phase */
};

/* ---- thread-locals (rt_worker.c) ---- */
extern __thread rt_worker_t *rt_tls_worker;     /* NULL on non-worker threads */
extern __thread rt_actor_t *rt_tls_actor;       /* actor whose handler is running */

/* ---- slots (rt_slot.c) ---- */
int rt_slot_init(rt_runtime_t *rt);
void rt_slot_fini(rt_runtime_t *rt);
/* Allocate a free slot; returns its number (>= 1) and the new generation
 * in *gen, or 0 on ENOMEM. Any thread. */
uint32_t rt_slot_alloc(rt_runtime_t *rt, uint32_t *gen);
/* Publish `a` in slot `s` (release). */
void rt_slot_set(rt_runtime_t *rt, uint32_t s, rt_actor_t *a);
/* Take the next generation of slot s (home worker of its actor). */
uint32_t rt_slot_bump(rt_runtime_t *rt, uint32_t s);
/* Clear and free slot s. Home worker of the actor that held it, or main. */
void rt_slot_free(rt_runtime_t *rt, uint32_t s);
/* Entry of slot s or NULL when s was never handed out. Any thread. */
rt_slot_t *rt_slot_entry(rt_runtime_t *rt, uint32_t s);

/* ---- directory (rt_dir.c) ---- */
int rt_dir_init(rt_runtime_t *rt);
void rt_dir_fini(rt_runtime_t *rt);
uint32_t rt_dir_hash(const rt_kind_t *kind, const char *key, size_t n);
static inline rt_dir_shard_t *rt_dir_shard(rt_runtime_t *rt, uint32_t h)
{
    return &rt->dir[h & (RT_DIR_SHARDS - 1)];
}
/* Under the shard lock: */
rt_actor_t *rt_dir_find(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key, uint32_t h);
int rt_dir_insert(rt_dir_shard_t *sh, rt_actor_t *a);
void rt_dir_remove(rt_dir_shard_t *sh, rt_actor_t *a);
/* Quarantine: true when (kind,key) is quarantined at `now`. */
bool rt_dir_quarantined(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key,
                        uint32_t h, uint64_t now);
/* Record a failure; returns true when it puts the key in quarantine. */
bool rt_dir_record_failure(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key,
                           uint32_t h, uint64_t now);

/* ---- actors (rt_actor.c, rt_activate.c, rt_passivate.c; see rt_life.h) ---- */
static inline const char *rt_actor_key(const rt_actor_t *a)
{
    return (a->aflags & RT_AF_KEYED) ? (const char *)(a + 1) : "";
}
/* Allocate an actor (not yet visible). Any thread. */
rt_actor_t *rt_actor_new(rt_runtime_t *rt, const rt_kind_t *kind, int kidx,
                         const char *key, size_t keylen, uint32_t hash, int worker);
/* The actor's ext block, allocated on first use (NULL on ENOMEM). Home worker. */
rt_actor_ext_t *rt_actor_ext(rt_actor_t *a);
/* Free an actor that never became visible (creation failed). */
void rt_actor_discard(rt_actor_t *a);
/* Push m into a's mailbox without scheduling; true when the caller took
 * the scheduling token and must call rt_worker_schedule. Same rules as
 * rt_actor_push. */
bool rt_actor_enqueue(rt_actor_t *a, rt_msg_t *m);
/* Push m into a's mailbox; schedules a when this push woke it. Caller
 * guarantees a stays allocated (QSBR critical section, shard lock, or
 * ownership of the scheduling token). Any thread. */
void rt_actor_push(rt_actor_t *a, rt_msg_t *m);
/* Run one batch of a; returns true when a must be requeued. Home worker. */
bool rt_actor_run(rt_worker_t *w, rt_actor_t *a);
/* Cron: passivate a if idle beyond its kind's age. Home worker. */
void rt_actor_cron(rt_worker_t *w, rt_actor_t *a, uint32_t now);
/* Free a retired actor after its grace period: drain/reroute its mailbox. */
void rt_actor_reclaim(rt_worker_t *w, rt_actor_t *a);
/* Final phase: passivate and retire every actor of worker w. */
void rt_actor_shutdown_all(rt_worker_t *w);
/* Release everything an actor owns without callbacks (runtime free). */
void rt_actor_destroy_orphan(rt_runtime_t *rt, rt_actor_t *a);

/* ---- messages (rt_msg.c) ---- */
/* Free a message the runtime did not deliver; an ask fails with `code`. */
void rt_msg_drop(rt_msg_t *m, int code);
/* True for runtime types bound to one activation (timer, I/O results, DOWN). */
static inline bool rt_msg_activation_bound(const rt_msg_t *m)
{
    return m->type == RT_MSG_TIMER || m->type == RT_MSG_PG_RESULT ||
           m->type == RT_MSG_HTTP_RESULT || m->type == RT_MSG_DOWN ||
           m->type == RT_MSG_I_MONITOR;
}

/* ---- ask (rt_ask.c) ---- */
/* The request m is being freed: wake its asker with `code` unless replied. */
void rt_ask_release(rt_msg_t *m, int code);

/* ---- timers (rt_timer.c) ---- */
/* Arm a timer of `a` on worker w firing in `ms` (RT_MSG_TIMER, corr = the
 * returned id); 0 on ENOMEM. Home worker (rt_timer_after checks context). */
uint32_t rt_timer_arm(rt_worker_t *w, rt_actor_t *a, uint32_t ms);
/* A TIMER message is about to be delivered: true if its timer is live (and
 * forget it), false if it was cancelled. Home worker. */
bool rt_timer_take(rt_actor_t *a, uint32_t id);
/* Cancel every timer of a, the activation deadline included
 * (deactivation). Home worker. */
void rt_timer_clear(rt_actor_t *a);

/* ---- workers (rt_worker.c) ---- */
int rt_worker_setup(rt_runtime_t *rt, rt_worker_t *w, int index);
void rt_worker_teardown(rt_worker_t *w);
int rt_worker_spawn_thread(rt_worker_t *w);
/* Put a (whose scheduling token the caller owns) on its home run queue and
 * wake the worker if it may be sleeping. Any thread. */
void rt_worker_schedule(rt_runtime_t *rt, rt_actor_t *a);
/* Queue a for deferred free after a grace period. Home worker. */
void rt_worker_retire(rt_worker_t *w, rt_actor_t *a);
/* Add/remove a keyed actor to/from the cron vector. Home worker. */
void rt_worker_cron_add(rt_worker_t *w, rt_actor_t *a);
void rt_worker_cron_del(rt_worker_t *w, rt_actor_t *a);
/* Choose a home worker for a new actor. Any thread. */
int rt_worker_place(rt_runtime_t *rt);
/* Write the worker's eventfd. Any thread. */
void rt_worker_kick(rt_worker_t *w);

/* ---- runtime (rt_runtime.c) ---- */
/* Index of kind (registering it on first use), or RT_KIDX_NONE. */
int rt_kind_index(rt_runtime_t *rt, const rt_kind_t *kind);
static inline uint32_t rt_rel_ms(const rt_runtime_t *rt) { return (uint32_t)(rt_now_ms() - rt->t0); }

/* Shorthand for the calling worker if it belongs to rt. */
static inline rt_worker_t *rt_worker_of(rt_runtime_t *rt)
{
    rt_worker_t *w = rt_tls_worker;
    return (w && w->rt == rt) ? w : NULL;
}

#endif
