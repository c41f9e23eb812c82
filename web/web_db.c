/* web_db.c — synchronous libpq pool for civetweb threads (see web_db.h).
 *
 * Purpose: a fixed array of slots, each holding at most one PGconn; a slot
 * is either free or lent to exactly one thread. A mutex guards the busy
 * flags and a condition variable wakes waiters; connecting and querying
 * happen outside the lock (the borrowing thread owns the slot).
 *
 * Exports: web_db_init, web_db_shutdown, web_db_acquire, web_db_release,
 * web_db_ping.
 * Threads: any non-worker thread; init/shutdown on the main thread.
 */
#include "web_db.h"

#include "rt.h"
#include "rt_log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WEB_DB_MAX 64

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

static PGconn *web_db_connect(const char *conninfo)
{
    /* connect_timeout before dbname: a value inside conninfo wins */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "plus7d-web", conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK) {
        PQsetNoticeProcessor(c, web_db_quiet, NULL);
        return c;
    }
    char msg[256];
    snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '"') *p = ' ';
    LOG_WARN("web_db_connect_failed", "error=\"%s\"", msg);
    PQfinish(c);
    return NULL;
}

/* Contract: see web_db.h. */
PGconn *web_db_acquire(int timeout_ms)
{
    rt_assert_not_worker("web_db_acquire");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&g_db.mu);
    int idx = -1;
    while (g_db.ready) {
        /* prefer a slot that already holds a connection */
        for (int i = 0; i < g_db.size; i++)
            if (!g_db.slots[i].busy && (idx < 0 || (g_db.slots[i].conn && !g_db.slots[idx].conn)))
                idx = i;
        if (idx >= 0) break;
        if (pthread_cond_timedwait(&g_db.cv, &g_db.mu, &deadline) == ETIMEDOUT) break;
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
    if (!c && conninfo) c = web_db_connect(conninfo);
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
        PGresult *r = PQexec(conn, "ROLLBACK");
        broken = PQresultStatus(r) != PGRES_COMMAND_OK;
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
int web_db_ping(int timeout_ms)
{
    uint64_t t_end = rt_now_ms() + (uint64_t)timeout_ms;
    PGconn *c = web_db_acquire(timeout_ms);
    if (!c) return RT_EIO;
    int rc = RT_OK;
    if (!PQsendQuery(c, "SELECT 1")) {
        web_db_release(c, true);
        return RT_EIO;
    }
    while (PQisBusy(c)) {
        uint64_t now = rt_now_ms();
        if (now >= t_end) { rc = RT_ETIMEDOUT; break; }
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(t_end - now));
        if (pr < 0 && errno != EINTR) { rc = RT_EIO; break; }
        if (pr > 0 && !PQconsumeInput(c)) { rc = RT_EIO; break; }
    }
    if (rc == RT_OK) {
        PGresult *r;
        bool ok = false;
        while ((r = PQgetResult(c))) {
            ok = ok || PQresultStatus(r) == PGRES_TUPLES_OK;
            PQclear(r);
        }
        if (!ok) rc = RT_EIO;
    }
    /* a timed-out or failed connection is discarded rather than drained */
    web_db_release(c, rc != RT_OK);
    return rc;
}
