/* rt.h — the plus7 actor runtime: public interface.
 *
 * Purpose: virtual actors addressed by (kind, key), activated on their first
 * message (state loaded asynchronously), passivated when idle, each running on
 * one home worker thread that owns a libevent event_base. Messages are
 * immutable heap blocks carrying a msgpack payload (see rt_pack.h for the
 * typed layer). Nothing in this header knows about Telegram, orders or HTTP.
 *
 * Exports: rt_runtime_* (life cycle), rt_kind_t (behaviour table),
 * rt_send, rt_send_key, rt_ask, rt_reply (messaging), rt_timer_* (volatile timers),
 * rt_self_* (accessors for the running actor), rt_worker_* (per-worker hooks
 * for the I/O modules rt_pg.c and rt_http.c), return codes.
 *
 * Threads: rt_runtime_new/start/stop/free from the main thread; rt_send and friends,
 * rt_ask from any thread (rt_ask must not be called on a worker thread);
 * everything taking an rt_actor_t* only from inside that actor's handler,
 * i.e. on its home worker thread.
 *
 * Design note: docs/runtime.md.
 */
#ifndef PLUS7_RT_H
#define PLUS7_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* ---- return codes: one convention everywhere ------------------------------
 * 0 is success; positive values are successful outcomes that ask for an
 * action; negative values are errors. */
enum {
    RT_OK = 0,
    RT_STOP = 1,         /* handler: passivate me after this message */
    RT_PENDING = 2,      /* the result will arrive later as a message */
    RT_EFAIL = -1,       /* handler failed: drop RAM state, reload later */
    RT_ENOMEM = -2,
    RT_ESTALE = -3,      /* reference to an actor that no longer exists */
    RT_ETIMEDOUT = -4,
    RT_EQUARANTINED = -5,
    RT_ESHUTDOWN = -6,
    RT_EINVAL = -7,
    RT_EIO = -8,
    RT_ENOTFOUND = -9,
    RT_EFULL = -10,      /* ingress bound reached; caller should shed load */
};

/* Name of a return code, for logs ("RT_ETIMEDOUT"). Never NULL. */
const char *rt_strerror(int rc);

typedef struct rt_runtime rt_runtime_t;
typedef struct rt_actor rt_actor_t;
typedef struct rt_msg rt_msg_t;

/* An actor reference. A stale reference (the actor passivated, the slot
 * reused) is detected by the generation and fails with RT_ESTALE. */
typedef struct rt_ref {
    uint32_t slot;
    uint32_t gen;
} rt_ref_t;

#define RT_REF_NONE ((rt_ref_t){0, 0})
static inline bool rt_ref_is_none(rt_ref_t r) { return r.slot == 0 && r.gen == 0; }

/* ---- messages ------------------------------------------------------------
 * A message is one allocation: header + payload bytes (msgpack, or for
 * runtime/I-O results a pointer-carrying struct, see `ptr`). The runtime owns
 * a message once it is sent; a handler borrows it for the duration of the
 * call. Types below RT_MSG_USER are reserved for the runtime and its I/O
 * modules; application types are listed in actors/msg_types.def. */
enum {
    RT_MSG_NONE = 0,
    RT_MSG_TIMER = 2,           /* volatile timer fired; corr = timer id */
    RT_MSG_REMINDER = 3,        /* durable reminder fired; payload {name, data} */
    RT_MSG_PG_RESULT = 4,       /* rt_pg: ptr = rt_pg_result_t*, freed by runtime */
    RT_MSG_HTTP_RESULT = 5,     /* rt_http: ptr = rt_http_result_t*, freed by runtime */
    RT_MSG_DOWN = 6,            /* a monitored actor failed or stopped */
    RT_MSG_USER = 64,
};

/* corr of an RT_MSG_DOWN: why the watched activation ended. */
enum {
    RT_DOWN_STOPPED = 0,        /* RT_STOP, idle passivation or shutdown */
    RT_DOWN_FAILED = 1,         /* a handler failed (supervision) */
};

enum {
    RT_MSG_F_URGENT = 1u << 0,  /* delivered before normal messages */
    RT_MSG_F_ASK = 1u << 1,     /* sender waits for rt_reply */
};

struct rt_msg {
    struct rt_msg *_Atomic next; /* mailbox link; owned by the runtime */
    uint16_t type;
    uint16_t flags;
    uint32_t corr;        /* correlation id chosen by the requester */
    rt_ref_t from;        /* sender, or RT_REF_NONE for outside threads */
    void *ask;            /* runtime-private reply slot for RT_MSG_F_ASK */
    void *ptr;            /* optional owned object (I/O results) */
    void (*ptr_free)(void *); /* frees ptr when the message is freed */
    uint32_t len;         /* payload length in bytes */
    uint32_t cap;         /* payload capacity */
    unsigned char payload[];
};

/* Allocate a message with `cap` bytes of payload room (len starts at 0).
 * Returns NULL on allocation failure. Any thread. */
rt_msg_t *rt_msg_new(uint16_t type, uint32_t cap);

/* Free a message that was never sent (sent messages are freed by the
 * runtime). Calls ptr_free(ptr) when set. Any thread. */
void rt_msg_free(rt_msg_t *m);

/* ---- kinds: behaviour tables -----------------------------------------------
 * A kind describes one sort of actor (conversation, order, courier, ...).
 *
 * Activation: on the first message to (kind, key) the runtime creates the
 * actor on a home worker, allocates state_size zeroed bytes and calls
 * load(). load() either returns RT_OK (state ready; on_activate is called
 * with m == NULL) or issues an asynchronous request (e.g. rt_pg_query with
 * corr RT_CORR_ACTIVATE) and returns RT_PENDING; the runtime then holds
 * every other message, in order, until a message with corr ==
 * RT_CORR_ACTIVATE arrives, and passes that one to on_activate(). Only
 * after on_activate returns RT_OK are held messages handed to handle().
 * on_activate returning an error counts as a failure (see supervision), and
 * so does an activation whose result has not arrived within the activation
 * deadline (rt_config_t.activate_timeout_ms): it fails with RT_ETIMEDOUT
 * and the held messages start a fresh activation.
 *
 * Handling: handle() returns RT_OK, RT_STOP (passivate after this message)
 * or an error (failure). At most RT_BATCH messages run per scheduling.
 *
 * Passivation: after idle_age_ms without messages the runtime calls
 * on_passivate() (optional; must not block), frees the state and the actor.
 * A message that races passivation re-activates a fresh actor; none is lost.
 *
 * Supervision: a failure (negative return) logs, counts in metrics, drops
 * the actor's RAM state (on_passivate is NOT called) and frees the actor;
 * the next message re-activates it from committed state. RT_QUARANTINE_MAX
 * failures of one key within RT_QUARANTINE_WINDOW_MS quarantine that key
 * for RT_QUARANTINE_MS: messages to it are dropped and counted, and asks
 * fail with RT_EQUARANTINED. */
typedef struct rt_kind {
    const char *name;          /* "conversation", "order", ... */
    uint32_t state_size;       /* bytes of zeroed state per actor */
    uint32_t idle_age_ms;      /* 0 = never passivate on idleness */
    int (*load)(rt_actor_t *self);                       /* optional */
    int (*on_activate)(rt_actor_t *self, const rt_msg_t *m); /* optional */
    int (*handle)(rt_actor_t *self, const rt_msg_t *m);  /* required */
    void (*on_passivate)(rt_actor_t *self);              /* optional */
    void (*state_free)(void *state); /* optional: free what state owns */
} rt_kind_t;

#define RT_CORR_ACTIVATE 0xFFFFFFFFu
#define RT_ACTIVATE_TIMEOUT_MS 60000u  /* default activation deadline */
#define RT_BATCH 64
#define RT_QUARANTINE_MAX 3
#define RT_QUARANTINE_WINDOW_MS 60000
#define RT_QUARANTINE_MS 60000
#define RT_KEY_MAX 128   /* bytes of a key, excluding the terminator */

/* ---- runtime life cycle --------------------------------------------------- */

typedef struct rt_config {
    int threads;               /* worker threads, >= 1 */
    uint32_t mailbox_high_water; /* rt_send_key_bounded refuses above this */
    uint32_t activate_timeout_ms; /* LOADING longer than this fails; 0 = RT_ACTIVATE_TIMEOUT_MS */
} rt_config_t;

/* Create a runtime (workers not yet running). NULL on failure. Main thread. */
rt_runtime_t *rt_runtime_new(const rt_config_t *cfg);

/* Register a kind before rt_runtime_start. The kind must outlive the
 * runtime. Returns RT_OK or RT_EINVAL (duplicate name / full). */
int rt_kind_register(rt_runtime_t *rt, const rt_kind_t *kind);

/* Look up a registered kind by name (used by durable reminders). */
const rt_kind_t *rt_kind_find(rt_runtime_t *rt, const char *name);

/* Start the worker threads; returns RT_OK once every worker runs its loop.
 * RT_ENOMEM when a thread cannot be created, RT_EIO when a worker's init
 * hook reported failure (rt_worker_init_failed; logged as
 * runtime_start_failed with the reason). On failure the runtime is stopped
 * (free it with rt_runtime_free). */
int rt_runtime_start(rt_runtime_t *rt);

/* Graceful stop: refuse new sends (RT_ESHUTDOWN), let workers drain their
 * mailboxes and in-flight I/O for at most `drain_ms`, call on_passivate of
 * every live actor, join the workers. Main thread. */
int rt_runtime_stop(rt_runtime_t *rt, int drain_ms);

/* Free a stopped runtime. */
void rt_runtime_free(rt_runtime_t *rt);

int rt_runtime_threads(const rt_runtime_t *rt);

/* ---- sending --------------------------------------------------------------
 * All send functions take ownership of `m` whatever they return. */

/* Send to (kind, key), activating the actor if needed. Any thread. */
int rt_send_key(rt_runtime_t *rt, const rt_kind_t *kind, const char *key,
                rt_msg_t *m);

/* As rt_send_key, but refuse with RT_EFULL when the target's mailbox is
 * deeper than the configured high-water mark (for ingress from HTTP). */
int rt_send_key_bounded(rt_runtime_t *rt, const rt_kind_t *kind,
                        const char *key, rt_msg_t *m);

/* Send to a live actor by reference; RT_ESTALE if it is gone. Any thread. */
int rt_send(rt_runtime_t *rt, rt_ref_t to, rt_msg_t *m);

/* For I/O modules (rt_pg, rt_http): hand the result `ptr` of a request to
 * the actor `to` that issued it, as an urgent message of `type` with `corr`
 * that owns ptr (ptr_free runs when the message is freed — also at once
 * when it cannot be allocated or delivered). Returns rt_send's code, or
 * RT_ENOMEM (logged). The actor having ended is normal (RT_ESTALE). Any
 * thread, typically the worker whose event loop completed the request. */
int rt_send_result(rt_runtime_t *rt, rt_ref_t to, uint16_t type, uint32_t corr, void *ptr,
                   void (*ptr_free)(void *));

/* Spawn an anonymous (keyless) actor of `kind` and return its reference.
 * Anonymous actors never passivate on idleness; they end on RT_STOP or
 * failure. Used for service actors and benchmarks. Any thread. */
int rt_spawn(rt_runtime_t *rt, const rt_kind_t *kind, rt_ref_t *out);

/* As rt_spawn, but home the actor on worker `worker` (0..threads-1), e.g.
 * for benchmarks that need two actors on different workers. RT_EINVAL for
 * a bad worker index. Any thread. */
int rt_spawn_on(rt_runtime_t *rt, const rt_kind_t *kind, int worker, rt_ref_t *out);

/* Ask from a non-worker thread: send `m` to (kind, key) and wait up to
 * timeout_ms for rt_reply. On RT_OK *reply holds the reply (caller frees
 * with rt_msg_free). Returns RT_ETIMEDOUT, RT_EQUARANTINED, RT_ESHUTDOWN
 * or RT_EFULL otherwise. Never call from a worker thread.
 * (Also: RT_EFAIL at once when the actor handled the request without
 * replying or failed on it; RT_EINVAL for bad arguments or a worker
 * caller; RT_ENOMEM.) */
int rt_ask(rt_runtime_t *rt, const rt_kind_t *kind, const char *key,
           rt_msg_t *m, int timeout_ms, rt_msg_t **reply);

/* Reply to a message sent with rt_ask (no-op returning RT_EINVAL if the
 * message was not an ask; RT_ETIMEDOUT if the asker gave up). Takes
 * ownership of `reply`. Handler context. */
int rt_reply(rt_actor_t *self, const rt_msg_t *request, rt_msg_t *reply);

/* ---- the running actor ------------------------------------------------------ */

void *rt_self_state(rt_actor_t *self);
const char *rt_self_key(const rt_actor_t *self);   /* "" for anonymous */
rt_ref_t rt_self_ref(const rt_actor_t *self);
const rt_kind_t *rt_self_kind(const rt_actor_t *self);
rt_runtime_t *rt_self_runtime(rt_actor_t *self);
/* Send to self (e.g. to continue work in a later batch). */
int rt_send_self(rt_actor_t *self, rt_msg_t *m);

/* Watch another actor: when it fails or stops, self gets RT_MSG_DOWN with
 * from = that actor. RT_ESTALE if it is already gone. Handler context. */
int rt_monitor(rt_actor_t *self, rt_ref_t target);

/* ---- volatile timers --------------------------------------------------------
 * A timer delivers RT_MSG_TIMER (corr = the returned id) to the actor after
 * `ms`. Timers die with the activation (passivation or failure) and do not
 * count as activity for idle passivation purposes once fired. Handler
 * context. Returns a non-zero timer id, or 0 on failure. */
uint32_t rt_timer_after(rt_actor_t *self, uint32_t ms);
/* Cancel a pending timer; returns RT_OK or RT_ENOTFOUND. */
int rt_timer_cancel(rt_actor_t *self, uint32_t timer_id);

/* ---- worker integration for I/O modules ---------------------------------------
 * rt_pg.c and rt_http.c keep per-worker state (a libpq connection, a CURLM)
 * on each worker's event_base. */

/* The event_base of the calling worker thread, or NULL on other threads. */
struct event_base *rt_worker_base(void);
/* Index of the calling worker (0..threads-1), or -1 on other threads. */
int rt_worker_index(void);
/* The runtime that owns the calling worker, or NULL on other threads. */
rt_runtime_t *rt_worker_runtime(void);

/* Per-worker hooks: `init` runs on every worker thread before it serves
 * messages and returns a pointer kept in the worker's slot `slot`
 * (0..RT_WORKER_SLOTS-1); `fini` runs on the worker after it stops. Register
 * before rt_runtime_start. */
#define RT_WORKER_SLOTS 8
typedef void *(*rt_worker_init_fn)(rt_runtime_t *rt, int worker, void *arg);
typedef void (*rt_worker_fini_fn)(void *slot_value, void *arg);
int rt_worker_hook(rt_runtime_t *rt, int slot, rt_worker_init_fn init,
                   rt_worker_fini_fn fini, void *arg);
/* Called by an init hook that could not set its worker up (no database
 * connections, no HTTP multi): rt_runtime_start then logs
 * runtime_start_failed with `reason` (copied), stops the runtime and
 * returns RT_EIO, instead of running a worker that cannot serve. Worker
 * thread, inside an init hook. */
void rt_worker_init_failed(const char *reason);
/* Slot value of the calling worker (NULL on other threads). */
void *rt_worker_slot(int slot);

/* Called by I/O modules while they hold in-flight work, so graceful stop
 * waits for it: +1 when a request starts, -1 when its result is posted. */
void rt_worker_inflight_add(int delta);


/* ---- blocking guard ----------------------------------------------------------
 * In debug builds, rt_assert_not_worker() aborts when called on a worker
 * thread; synchronous libpq/curl wrappers call it so that a blocking call
 * on a worker fails tests loudly. */
void rt_assert_not_worker(const char *what);

/* ---- metrics snapshot ---------------------------------------------------------- */
typedef struct rt_kind_stats {
    const char *name;
    uint64_t live, activations, passivations, failures, quarantines;
} rt_kind_stats_t;

typedef struct rt_stats {
    uint64_t messages;          /* delivered to handlers since start */
    uint64_t deepest_mailbox;   /* current deepest mailbox (approximate) */
    uint64_t dropped_quarantined;
    int nkinds;
    rt_kind_stats_t kinds[16];
} rt_stats_t;

/* Fill a snapshot of the runtime's counters. Any thread. */
void rt_stats_get(rt_runtime_t *rt, rt_stats_t *out);

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
uint64_t rt_now_ms(void);

#endif
