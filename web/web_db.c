/* web_db.c — synchronous libpq pool for civetweb threads (see web_db.h).
 *
 * Purpose: a fixed array of slots, each holding at most one PGconn; a slot
 * is either free or lent to exactly one thread. A mutex guards the busy
 * flags and a condition variable wakes waiters; connecting and querying
 * happen outside the lock (the borrowing thread owns the slot). Every wait
 * is bounded: for a slot (web_wait_until), for the connection
 * (web_pq_connect), for each statement (web_pq_exec), and on the server
 * by statement_timeout.
 *
 * Exports: web_db_init, web_db_shutdown, web_db_acquire, web_db_release,
 * web_db_exec.
 * Threads: any non-worker thread; init/shutdown on the main thread.
 */
#include "web_db.h"

#include "rt.h"
#include "rt_log.h"

#include "web_pq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WEB_DB_MAX 64
#define WEB_DB_STATEMENT_TIMEOUT "3000"   /* ms, server side */
#define WEB_DB_ROLLBACK_MS 1000

typedef struct web_db_slot {
    PGconn *conn;
    bool busy;
} web_db_slot_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    web_db_slot_t slots[WEB_DB_MAX];
    int size;
    char *conninfo;
    bool ready;
} g_db = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void web_db_quiet(void *arg, const char *message) { (void)arg; (void)message; }

/* Contract: see web_db.h. */
int web_db_init(const char *conninfo, int size)
{
    if (!conninfo || size < 1 || size > WEB_DB_MAX) return RT_EINVAL;
    pthread_mutex_lock(&g_db.mu);
    if (g_db.ready) {
        pthread_mutex_unlock(&g_db.mu);
        return RT_EINVAL;
    }
    g_db.conninfo = strdup(conninfo);
    if (!g_db.conninfo) {
        pthread_mutex_unlock(&g_db.mu);
        return RT_ENOMEM;
    }
    memset(g_db.slots, 0, sizeof g_db.slots);
    g_db.size = size;
    g_db.ready = true;
    pthread_mutex_unlock(&g_db.mu);
    return RT_OK;
}

/* Contract: see web_db.h. */
void web_db_shutdown(void)
{
    pthread_mutex_lock(&g_db.mu);
    if (!g_db.ready) {
        pthread_mutex_unlock(&g_db.mu);
        return;
    }
    g_db.ready = false;
    for (int i = 0; i < g_db.size; i++) {
        if (!g_db.slots[i].busy && g_db.slots[i].conn) {
            PQfinish(g_db.slots[i].conn);
            g_db.slots[i].conn = NULL;
        }
    }
    free(g_db.conninfo);
    g_db.conninfo = NULL;
    pthread_cond_broadcast(&g_db.cv);
    pthread_mutex_unlock(&g_db.mu);
}

/* A new pool connection within timeout_ms: bounded connect, then the
 * server-side statement_timeout (the client-side deadline of web_pq_exec
 * frees this thread; statement_timeout frees the backend too). */
static PGconn *web_db_connect(const char *conninfo, int timeout_ms)
{
    uint64_t deadline = rt_now_ms() + (uint64_t)timeout_ms;
    char err[256];
    PGconn *c = web_pq_connect(conninfo, "plus7d-web", timeout_ms, err, sizeof err);
    if (!c) {
        LOG_WARN("web_db_connect_failed", "error=\"%s\"", err);
        return NULL;
    }
    PQsetNoticeProcessor(c, web_db_quiet, NULL);
    uint64_t now = rt_now_ms();
    PGresult *r = NULL;
    int rc = now < deadline ? web_pq_exec(c, "SET statement_timeout = " WEB_DB_STATEMENT_TIMEOUT, 0,
                                          NULL, (int)(deadline - now), &r)
                            : RT_ETIMEDOUT;
    if (rc == RT_OK && PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        return c;
    }
    LOG_WARN("web_db_connect_failed", "error=\"%s\"", rc == RT_OK ? "SET statement_timeout failed" : rt_strerror(rc));
    PQclear(r);
    PQfinish(c);
    return NULL;
}

/* Contract: see web_db.h. */
PGconn *web_db_acquire(int timeout_ms)
{
    rt_assert_not_worker("web_db_acquire");
    uint64_t deadline = rt_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    pthread_mutex_lock(&g_db.mu);
    int idx = -1;
    while (g_db.ready) {
        /* prefer a slot that already holds a connection */
        for (int i = 0; i < g_db.size; i++)
            if (!g_db.slots[i].busy && (idx < 0 || (g_db.slots[i].conn && !g_db.slots[idx].conn)))
                idx = i;
        if (idx >= 0) break;
        if (web_wait_until(&g_db.cv, &g_db.mu, deadline) == ETIMEDOUT) break;
    }
    if (idx < 0 || !g_db.ready) {
        pthread_mutex_unlock(&g_db.mu);
        return NULL;
    }
    web_db_slot_t *s = &g_db.slots[idx];
    s->busy = true;
    PGconn *c = s->conn;
    char *conninfo = strdup(g_db.conninfo);
    pthread_mutex_unlock(&g_db.mu);

    if (c && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    uint64_t now = rt_now_ms();
    if (!c && conninfo && now < deadline) c = web_db_connect(conninfo, (int)(deadline - now));
    free(conninfo);

    pthread_mutex_lock(&g_db.mu);
    s->conn = c;
    if (!c) {
        s->busy = false;
        pthread_cond_signal(&g_db.cv);
    }
    pthread_mutex_unlock(&g_db.mu);
    return c;
}

/* Contract: see web_db.h. */
void web_db_release(PGconn *conn, bool broken)
{
    if (!conn) return;
    if (!broken && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *r = NULL;
        broken = web_pq_exec(conn, "ROLLBACK", 0, NULL, WEB_DB_ROLLBACK_MS, &r) != RT_OK ||
                 PQresultStatus(r) != PGRES_COMMAND_OK;
        PQclear(r);
    }
    pthread_mutex_lock(&g_db.mu);
    for (int i = 0; i < WEB_DB_MAX; i++) {
        if (g_db.slots[i].conn == conn && g_db.slots[i].busy) {
            g_db.slots[i].busy = false;
            if (broken || !g_db.ready) {
                PQfinish(conn);
                g_db.slots[i].conn = NULL;
            }
            pthread_cond_signal(&g_db.cv);
            pthread_mutex_unlock(&g_db.mu);
            return;
        }
    }
    pthread_mutex_unlock(&g_db.mu);
    PQfinish(conn);   /* not ours (pool shut down meanwhile) */
}

/* Contract: see web_db.h. */
int web_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *values,
                uint64_t deadline_ms, PGresult **out)
{
    uint64_t now = rt_now_ms();
    *out = NULL;
    if (now >= deadline_ms) return RT_ETIMEDOUT;
    int rc = web_pq_exec(conn, sql, nparams, values, (int)(deadline_ms - now), out);
    if (rc != RT_OK) LOG_WARN("web_db_statement_failed", "rc=%s", rt_strerror(rc));
    return rc;
}
