/* rt_pg.h — asynchronous PostgreSQL for actors.
 *
 * Purpose: an actor issues a query (or a small transaction) and returns at
 * once; the decoded result arrives later in its mailbox as a message of type
 * RT_MSG_PG_RESULT (urgent lane) with m->corr = the caller's corr and
 * m->ptr = an rt_pg_result_t* that the runtime frees with the message. No
 * actor ever blocks on the database: every worker thread owns
 * `conns_per_worker` non-blocking libpq connections in pipeline mode on its
 * own event_base (runtime/pg/rt_pg_conn.h), created through worker slot
 * RT_PG_WORKER_SLOT.
 *
 * Results are decoded copies (column names, values as NUL-terminated text or
 * NULL for SQL NULL, affected-row count, error text and SQLSTATE) — never a
 * shared PGresult.
 *
 * Ordering: requests issued by one actor run on one connection, in the order
 * issued. Requests of different actors may interleave.
 *
 * Failure semantics (rt_pg_result_t.status):
 *   RT_OK         the statement(s) ran and (for a transaction) committed.
 *   RT_EINVAL     the server rejected a statement; sqlstate and error are set.
 *   RT_EIO        the connection dropped while the request was in flight: it
 *                 may or may not have committed. Requests marked
 *                 RT_PG_IDEMPOTENT are re-sent after reconnecting instead.
 *                 Requests not yet sent are kept and sent after reconnecting.
 *   RT_ETIMEDOUT  no result within the request's timeout (it may still run
 *                 and commit on the server; its late result is discarded).
 *   RT_ESHUTDOWN  the runtime stopped before the request completed.
 *
 * Exports: rt_pg_result_t and its accessors, rt_pg_init, rt_pg_query,
 * rt_pg_query_ex, rt_pg_tx, rt_pg_tx_ex, rt_pg_msg_result, rt_pg_stats_*.
 *
 * Threads: rt_pg_init on the main thread before rt_runtime_start; the
 * request functions only from inside an actor's handler (or its load()),
 * i.e. on a worker thread; result accessors on whoever owns the result;
 * rt_pg_stats_* from any thread.
 *
 * Design note: runtime/pg/DESIGN.md.
 */
#ifndef PLUS7_RT_PG_H
#define PLUS7_RT_PG_H

#include <stdbool.h>
#include <stdint.h>

#include "rt.h"

/* Worker slot used by rt_pg (rt_http uses slot 1). */
#define RT_PG_WORKER_SLOT 0
/* Default per-request timeout of rt_pg_query / rt_pg_tx. */
#define RT_PG_DEFAULT_TIMEOUT_MS 30000u

/* Request flags. */
enum {
    /* Safe to run twice: if the connection drops while it is in flight it is
     * re-sent after reconnecting instead of failing with RT_EIO. */
    RT_PG_IDEMPOTENT = 1u << 0,
};

/* One decoded statement result (or, for a transaction, the overall outcome
 * plus per-statement results in `stmts`). */
typedef struct rt_pg_result {
    int status;           /* RT_OK or an RT_E* code, see above */
    char sqlstate[6];     /* five-character SQLSTATE, "" when none */
    char *error;          /* error text (NUL-terminated) or NULL */
    int ncols;            /* columns of the row set (0 for commands) */
    int nrows;            /* rows of the row set */
    char **cols;          /* ncols column names */
    char **values;        /* nrows * ncols values, row-major; NULL = SQL NULL */
    int64_t affected;     /* rows affected / returned (PQcmdTuples), -1 if none */
    /* Transactions only (rt_pg_tx): nstmts per-statement results; the
     * top-level result then has no rows of its own. failed_stmt is the index
     * of the statement that failed, or -1. Statements after a failed one
     * have status RT_EINVAL, sqlstate "" and an error saying they did not run. */
    int nstmts;
    struct rt_pg_result *stmts;
    int failed_stmt;
    void *mem_;           /* private: one block holding cols, values and text */
} rt_pg_result_t;

/* Free a result (NULL is a no-op). Signature fits rt_msg_t.ptr_free. */
void rt_pg_result_free(void *result);

/* Value at (row, col) as a NUL-terminated string; NULL for SQL NULL or when
 * row/col are out of range. The string lives as long as the result. */
const char *rt_pg_value(const rt_pg_result_t *r, int row, int col);

/* True when (row, col) is SQL NULL or out of range. */
bool rt_pg_is_null(const rt_pg_result_t *r, int row, int col);

/* Index of the column called `name`, or -1. */
int rt_pg_col(const rt_pg_result_t *r, const char *name);

/* Parse (row, col) as a base-10 int64 into *out. RT_OK, RT_ENOTFOUND (NULL
 * or out of range) or RT_EINVAL (not an integer). */
int rt_pg_get_i64(const rt_pg_result_t *r, int row, int col, int64_t *out);

/* Statement i of a result: for a transaction &r->stmts[i]; for a single
 * query the result itself when i == 0. NULL when out of range. */
const rt_pg_result_t *rt_pg_stmt(const rt_pg_result_t *r, int i);

/* The result carried by an RT_MSG_PG_RESULT message, or NULL if `m` is not
 * one. Borrowed: valid while the message is (i.e. during the handler). */
const rt_pg_result_t *rt_pg_msg_result(const rt_msg_t *m);

/* One statement of a transaction. `params` are text-format parameters
 * ($1..$n), NULL entries meaning SQL NULL. One SQL command per string. */
typedef struct rt_pg_stmt {
    const char *sql;
    int nparams;
    const char *const *params;
} rt_pg_stmt_t;

/* Set up asynchronous PostgreSQL for `rt`: every worker opens
 * `conns_per_worker` (1..8) connections with the libpq connection string
 * `conninfo` when it starts (asynchronously; requests issued before a
 * connection is up wait in its queue) and closes them when it stops. Also
 * registers the reminder poller's kind (see rt_reminder.h). Call once per
 * runtime, on the main thread, before rt_runtime_start. The string is
 * copied. Returns RT_OK, RT_EINVAL (bad arguments, hook slot taken) or
 * RT_ENOMEM. A conninfo libpq cannot parse (or a connection that cannot be
 * created) makes rt_runtime_start fail with RT_EIO (runtime_start_failed);
 * a server that cannot be reached is not an error: connecting is retried
 * with jittered backoff and logged (pg_connect_failed). Host names are
 * resolved off the workers (runtime/pg/DESIGN.md). Every statement is
 * prepared once per connection and executed by name afterwards. */
int rt_pg_init(rt_runtime_t *rt, const char *conninfo, int conns_per_worker);

/* Run one SQL statement with text parameters ($1..$n; a NULL entry is SQL
 * NULL) on the calling worker's connection, on behalf of `self`. Returns
 * RT_OK when the request was queued: exactly one RT_MSG_PG_RESULT message
 * with m->corr == corr then arrives in self's mailbox (urgent lane), even on
 * failure (see status). Returns an error and sends nothing when it could not
 * be queued: RT_EINVAL (not on a worker, rt_pg_init not called, sql NULL,
 * nparams < 0), RT_ENOMEM, RT_EFULL (connection queue full). `sql` and
 * `params` are copied; the caller keeps ownership. Use corr
 * RT_CORR_ACTIVATE from a kind's load() and return RT_PENDING to have the
 * result passed to on_activate. Handler context (self's worker). The
 * request counts as in-flight work for graceful stop until its result is
 * posted. Default timeout RT_PG_DEFAULT_TIMEOUT_MS, not idempotent. */
int rt_pg_query(rt_actor_t *self, uint32_t corr, const char *sql, int nparams,
                const char *const *params);

/* As rt_pg_query, with request flags (RT_PG_IDEMPOTENT) and a timeout in
 * milliseconds (0 = none). */
int rt_pg_query_ex(rt_actor_t *self, uint32_t corr, const char *sql, int nparams,
                   const char *const *params, unsigned flags, uint32_t timeout_ms);

/* Run `n` (1..RT_PG_TX_MAX) statements as one transaction: they are sent
 * together in one pipeline segment, which PostgreSQL runs as a single
 * transaction that commits when all succeed and rolls back entirely when
 * one fails (statements after the failing one do not run). One
 * RT_MSG_PG_RESULT arrives: status RT_OK when committed, otherwise the
 * failing statement's status, sqlstate and error (failed_stmt = its index);
 * per-statement rows in stmts[]. Same return codes, copying and context as
 * rt_pg_query. Statements must not contain BEGIN/COMMIT themselves. */
#define RT_PG_TX_MAX 64
int rt_pg_tx(rt_actor_t *self, uint32_t corr, int n, const rt_pg_stmt_t *stmts);

/* As rt_pg_tx, with request flags and a timeout (0 = none). */
int rt_pg_tx_ex(rt_actor_t *self, uint32_t corr, int n, const rt_pg_stmt_t *stmts,
                unsigned flags, uint32_t timeout_ms);

/* ---- metrics (process-wide, any thread) ------------------------------------ */

/* Requests queued or in flight right now (all connections). */
int64_t rt_pg_stats_inflight(void);
/* Requests completed since start (any status). */
uint64_t rt_pg_stats_queries(void);
/* Requests completed with a status other than RT_OK. */
uint64_t rt_pg_stats_errors(void);
/* Connections currently up (connected and in pipeline mode). */
int rt_pg_stats_connected(void);

#endif
