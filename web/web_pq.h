/* web_pq.h — synchronous libpq with a deadline on every wait.
 *
 * Purpose: threads that may block (civetweb handlers, the CLI commands)
 * still must not block for ever: a half-open TCP connection, a frozen
 * server or a lock held elsewhere would otherwise pin the thread, and with
 * it the shutdown. web_pq_connect opens a connection within a bounded time
 * (asynchronous connect polled against the deadline) with TCP keepalives
 * and tcp_user_timeout, so a dead peer is noticed by the kernel as well;
 * web_pq_exec runs one statement on a non-blocking connection and gives up
 * at the deadline. A connection whose statement timed out is in an unknown
 * state: close it (web_db_release(conn, true) or PQfinish).
 *
 *   char err[256];
 *   PGconn *db = web_pq_connect(cfg->db, "plus7d-cli", 10000, err, sizeof err);
 *   if (!db) return app_fail(APP_EXIT_RUNTIME, "database: %s", err);
 *
 * Exports: web_pq_connect, web_pq_exec, web_wait_until.
 * Threads: any thread that is not a runtime worker (checked).
 */
#ifndef PLUS7_WEB_PQ_H
#define PLUS7_WEB_PQ_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Connect to `conninfo` (a libpq connection string; its own settings win
 * over the defaults added here: keepalives 10 s idle / 5 s interval / 3
 * probes, tcp_user_timeout 10 s) as `app_name`, giving up after
 * timeout_ms. Returns a connected, blocking-mode PGconn owned by the
 * caller (PQfinish), or NULL with one line in err (no newline; quotes
 * scrubbed, so it can go into a logfmt value or an app_fail message).
 * Host names are resolved by libpq with the blocking resolver: the bound
 * covers the connection, not a slow DNS server. */
PGconn *web_pq_connect(const char *conninfo, const char *app_name, int timeout_ms,
                       char *err, size_t errlen);

/* Run `sql` with `nparams` text parameters on `conn`, waiting at most
 * timeout_ms for the whole exchange (sending included: the connection is
 * switched to non-blocking mode). Returns RT_OK with the statement's
 * result in *out (caller PQclears it and checks PQresultStatus), RT_EIO
 * when the statement could not be sent or the connection broke, or
 * RT_ETIMEDOUT; on both errors *out is NULL and the connection must be
 * closed, not reused. */
int web_pq_exec(PGconn *conn, const char *sql, int nparams, const char *const *values,
                int timeout_ms, PGresult **out);

/* pthread_cond_timedwait until `deadline_ms` (rt_now_ms() time, i.e.
 * CLOCK_MONOTONIC) on a condition variable created with the default
 * (realtime) clock; `mu` is held by the caller. Returns 0 when woken
 * (possibly spuriously) or ETIMEDOUT once the deadline has passed. */
int web_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ms);

#endif
