/* web_db.h — the web layer's small synchronous PostgreSQL pool.
 *
 * Purpose: civetweb threads may block, runtime workers may not. Handlers
 * that must touch the database before answering (storing an incoming
 * webhook update before acknowledging it) borrow a libpq connection from
 * this pool, run statements with web_db_exec against the request's
 * deadline, and give it back. Connections are opened lazily and re-opened
 * after a failure, so the server starts while the database is down. Every
 * wait has a deadline (a free slot, the connection, each statement; the
 * server also enforces statement_timeout 3 s), so a frozen database costs
 * a request its deadline, never a thread for ever.
 *
 *   PGconn *db = web_db_acquire(2000);
 *   if (!db) return web_reply_error(req, 503, "database unavailable", NULL);
 *   PGresult *r;
 *   int rc = web_db_exec(db, "INSERT ...", n, values, req->deadline_ms, &r);
 *   bool ok = rc == RT_OK && PQresultStatus(r) == PGRES_COMMAND_OK;
 *   PQclear(r);
 *   web_db_release(db, rc != RT_OK || PQstatus(db) != CONNECTION_OK);
 *
 * Exports: web_db_init, web_db_shutdown, web_db_acquire, web_db_release,
 * web_db_exec.
 * Threads: init/shutdown on the main thread; the rest on any thread that
 * is not a runtime worker (checked with rt_assert_not_worker).
 */
#ifndef PLUS7_WEB_DB_H
#define PLUS7_WEB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Prepare a pool of `size` (1..64) connections to `conninfo` (copied). No
 * connection is opened yet. Returns RT_OK, RT_EINVAL or RT_ENOMEM. Main
 * thread, before the web server starts. */
int web_db_init(const char *conninfo, int size);

/* Close every connection and free the pool. Call after web_server_stop.
 * Idempotent. Main thread. */
void web_db_shutdown(void);

/* Borrow a connected PGconn, waiting up to timeout_ms in all for a free
 * slot and, if the slot has no live connection, for connecting
 * (web_pq_connect). Returns NULL when no slot frees up in time, the
 * connection cannot be made in time, or the pool is not initialised. The
 * connection is the caller's until web_db_release. Not on a runtime worker. */
PGconn *web_db_acquire(int timeout_ms);

/* Give a connection back. `broken` = true closes it (use after a
 * connection-level error or a web_db_exec that did not return RT_OK); an
 * open transaction is rolled back (within 1 s, else the connection is
 * closed). */
void web_db_release(PGconn *conn, bool broken);

/* web_pq_exec on a borrowed connection until `deadline_ms` (rt_now_ms()
 * time): RT_OK with the result in *out (the caller PQclears it and checks
 * its status), RT_ETIMEDOUT (also when the deadline has already passed) or
 * RT_EIO, both logged; then release the connection as broken. */
int web_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *values,
                uint64_t deadline_ms, PGresult **out);

#endif
