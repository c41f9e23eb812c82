/* rt_pg_conn.h — one non-blocking libpq connection on a libevent event_base.
 *
 * Purpose: the transport under rt_pg.h, usable on any event_base (tests drive
 * it on a bare base without the actor runtime). A connection
 *   - connects with PQconnectStartParams/PQconnectPoll driven by socket
 *     events (own connect timeout: libpq ignores connect_timeout there),
 *   - runs in non-blocking pipeline mode: queued requests are sent together
 *     (each request ends with its own sync point, so each is its own
 *     transaction), output is flushed on EV_WRITE while PQflush returns 1,
 *     input consumed on EV_READ,
 *   - resolves host names off this thread (rt_pg_resolve.h) and connects
 *     with `hostaddr`, so libpq never blocks the loop in getaddrinfo,
 *   - prepares each distinct statement once per session and executes it by
 *     name afterwards (rt_pg_stmts.h), preparing again after a reconnect,
 *   - reconnects with exponential backoff (backoff_min_ms doubling up to
 *     backoff_max_ms, each delay jittered to [half, full]) after a lost
 *     connection; queued requests are kept and
 *     sent after reconnecting; requests in flight when the connection dropped
 *     fail with RT_EIO (they may have committed) unless RT_PG_IDEMPOTENT,
 *   - enforces a per-request timeout (RT_ETIMEDOUT; a request already sent is
 *     abandoned and its late result discarded; if the server still has not
 *     answered it `stall_ms` later the connection is reset).
 * Completion is a plain C callback that receives ownership of a decoded
 * rt_pg_result_t. A callback is never run from inside rt_pg_conn_submit.
 *
 * Exports: rt_pg_conn_t, rt_pg_conn_opts_t, rt_pg_conn_done_fn,
 * rt_pg_conn_new, rt_pg_conn_free, rt_pg_conn_query, rt_pg_conn_tx,
 * rt_pg_conn_is_up, rt_pg_conn_pending, rt_pg_conn_max_depth,
 * rt_pg_conn_connects, rt_pg_conn_prepared, rt_pg_opts_default,
 * rt_pg_backoff_jitter; rt_pg_result_from_pg and
 * rt_pg_result_error, rt_pg_result_set_error, rt_pg_result_clear
 * (decoding, rt_pg_result.c). rt_pg_conn.c also defines the process-wide
 * rt_pg_stats_* counters declared in rt_pg.h.
 *
 * Threads: a connection belongs to the thread running its event_base; every
 * function taking an rt_pg_conn_t* must be called on that thread.
 */
#ifndef PLUS7_RT_PG_CONN_H
#define PLUS7_RT_PG_CONN_H

#include <stdint.h>

#include <libpq-fe.h>

#include "rt_pg.h"

struct event_base;
typedef struct rt_pg_conn rt_pg_conn_t;

/* Completion: `res` is owned by the callee (free with rt_pg_result_free). */
typedef void (*rt_pg_conn_done_fn)(rt_pg_result_t *res, void *arg);

typedef struct rt_pg_conn_opts {
    uint32_t backoff_min_ms;     /* first reconnect delay (default 50) */
    uint32_t backoff_max_ms;     /* cap of the doubling delay (default 5000) */
    uint32_t connect_timeout_ms; /* one connection attempt (default 10000) */
    uint32_t max_inflight;       /* requests sent but unanswered (default 1024) */
    uint32_t max_queue;          /* requests waiting to be sent (default 100000) */
    uint32_t stall_ms;           /* reset after a timed-out request stays
                                    unanswered this long (default 5000) */
} rt_pg_conn_opts_t;

/* The defaults listed above. */
rt_pg_conn_opts_t rt_pg_opts_default(void);

/* Create a connection on `base` and start connecting (asynchronously; the
 * first attempt starts from the event loop). `conninfo` is a libpq
 * connection string or URI and is copied; `opts` may be NULL for defaults.
 * Returns NULL when libpq cannot parse `conninfo` (logged:
 * pg_conninfo_invalid) or on allocation failure. Base's thread. */
rt_pg_conn_t *rt_pg_conn_new(struct event_base *base, const char *conninfo,
                             const rt_pg_conn_opts_t *opts);

/* Close the connection and free it. Every request still queued or in flight
 * completes first, synchronously inside this call, with RT_ESHUTDOWN
 * (callbacks run; they must not submit to this connection — such submits
 * fail with RT_ESHUTDOWN). NULL is a no-op. Must not be called from one of
 * this connection's callbacks. Base's thread. */
void rt_pg_conn_free(rt_pg_conn_t *c);

/* Queue one statement; see rt_pg_query for sql/params. On RT_OK `done` runs
 * exactly once later, from the event loop, with the result. Returns
 * RT_EINVAL (sql NULL, nparams out of 0..65535, done NULL), RT_ENOMEM,
 * RT_EFULL (max_queue reached) or RT_ESHUTDOWN (being freed) and then never
 * calls `done`. flags: RT_PG_IDEMPOTENT. timeout_ms 0 = none. */
int rt_pg_conn_query(rt_pg_conn_t *c, const char *sql, int nparams,
                     const char *const *params, unsigned flags, uint32_t timeout_ms,
                     rt_pg_conn_done_fn done, void *arg);

/* Queue `n` statements (1..RT_PG_TX_MAX) as one transaction (one pipeline
 * segment = one implicit transaction: all commit or none). Same contract
 * as rt_pg_conn_query; the result carries per-statement results. */
int rt_pg_conn_tx(rt_pg_conn_t *c, int n, const rt_pg_stmt_t *stmts,
                  unsigned flags, uint32_t timeout_ms,
                  rt_pg_conn_done_fn done, void *arg);

/* 1 when connected and in pipeline mode, else 0. */
int rt_pg_conn_is_up(const rt_pg_conn_t *c);
/* Requests queued plus in flight (including abandoned ones still awaiting
 * their late result). */
uint32_t rt_pg_conn_pending(const rt_pg_conn_t *c);
/* Highest number of requests ever in flight at once (pipelining depth). */
uint32_t rt_pg_conn_max_depth(const rt_pg_conn_t *c);
/* Successful connects so far (1 after the first, +1 per reconnect). */
uint32_t rt_pg_conn_connects(const rt_pg_conn_t *c);
/* Statements this session has prepared or is preparing (rt_pg_stmts.h);
 * 0 after a reconnect until they are used again. */
uint32_t rt_pg_conn_prepared(const rt_pg_conn_t *c);

/* The reconnect delay for a backoff of `backoff_ms`: uniformly random in
 * [backoff_ms / 2, backoff_ms] ("equal jitter"), drawn from the xorshift
 * state *rng (advanced). Exposed for tests. */
uint32_t rt_pg_backoff_jitter(uint32_t backoff_ms, uint64_t *rng);

/* ---- decoding (rt_pg_result.c) ----------------------------------------------- */

/* Decode a statement's PGresult into a fresh result (status RT_OK for
 * TUPLES_OK/COMMAND_OK/EMPTY_QUERY, RT_EINVAL with sqlstate and error for
 * errors). Does not PQclear. NULL on allocation failure. */
rt_pg_result_t *rt_pg_result_from_pg(const PGresult *pg);

/* Fill `r` (zeroed by the caller or reused) as a failure with `status`,
 * optional sqlstate and message (copied; trailing newline trimmed). */
void rt_pg_result_set_error(rt_pg_result_t *r, int status, const char *sqlstate,
                            const char *msg);

/* A fresh failed result, or NULL on allocation failure. */
rt_pg_result_t *rt_pg_result_error(int status, const char *sqlstate, const char *msg);

/* Release what `r` owns without freeing `r` itself. */
void rt_pg_result_clear(rt_pg_result_t *r);

#endif
