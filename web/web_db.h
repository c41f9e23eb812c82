/* web_db.h — the web layer's small synchronous PostgreSQL pool.
 *
 * Purpose: civetweb threads may block, runtime workers may not. Handlers
 * that must touch the database before answering (health check, storing an
 * incoming webhook update before acknowledging it) borrow a blocking libpq
 * connection from this pool, use PQexecParams, and give it back.
 * Connections are opened lazily and re-opened after a failure, so the
 * server starts (and /healthz answers 503) while the database is down.
 *
 *   PGconn *db = web_db_acquire(2000);
 *   if (!db) return web_reply_error(req, 503, "database unavailable", NULL);
 *   PGresult *r = PQexecParams(db, "INSERT ...", ...);
 *   bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
 *   PQclear(r);
 *   web_db_release(db, !ok && PQstatus(db) != CONNECTION_OK);
 *
 * Exports: web_db_init, web_db_shutdown, web_db_acquire, web_db_release,
 * web_db_ping.
 * Threads: init/shutdown on the main thread; the rest on any thread that
 * is not a runtime worker (checked with rt_assert_not_worker).
 */
#ifndef PLUS7_WEB_DB_H
#define PLUS7_WEB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

/* Prepare a pool of `size` (1..64) connections to `conninfo` (copied). No
 * connection is opened yet. Returns RT_OK, RT_EINVAL or RT_ENOMEM. Main
 * thread, before the web server starts. */
int web_db_init(const char *conninfo, int size);

/* Close every connection and free the pool. Call after web_server_stop.
 * Idempotent. Main thread. */
void web_db_shutdown(void);

/* Borrow a connected PGconn, waiting up to timeout_ms for a free slot,
 * connecting (connect_timeout 5 s unless conninfo says otherwise) if the
 * slot has no live connection. Returns NULL when no slot frees up in time,
 * the connection cannot be made, or the pool is not initialised. The
 * connection is the caller's until web_db_release. Not on a runtime worker. */
PGconn *web_db_acquire(int timeout_ms);

/* Give a connection back. `broken` = true closes it (use after a
 * connection-level error); an open transaction is rolled back. */
void web_db_release(PGconn *conn, bool broken);

/* Health probe: SELECT 1 on a pooled connection within timeout_ms (the
 * connection attempt has its own connect_timeout). Returns RT_OK, RT_EIO
 * (cannot connect / query failed) or RT_ETIMEDOUT. Not on a worker. */
int web_db_ping(int timeout_ms);

#endif
