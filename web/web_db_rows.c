/* web_db_rows.c — one unnest statement per batch (see web_db_rows.h).
 *
 * Exports: web_db_rows_init, web_db_rows_add, web_db_rows_exec.
 * Threads: civetweb threads.
 */
#include "web_db_rows.h"

#include <stdbool.h>
#include <stdlib.h>

#include "rt.h"
#include "rt_log.h"
#include "web_db.h"

/* Contract: see web_db_rows.h. */
void web_db_rows_init(web_db_rows_t *rows, int ncols)
{
    rows->ncols = ncols < 1 ? 1 : ncols > WEB_DB_ROWS_MAX_COLS ? WEB_DB_ROWS_MAX_COLS : ncols;
    for (int i = 0; i < rows->ncols; i++) pg_array_init(&rows->cols[i]);
}

/* Contract: see web_db_rows.h. */
void web_db_rows_add(web_db_rows_t *rows, const char *const *values)
{
    for (int i = 0; i < rows->ncols; i++) pg_array_add(&rows->cols[i], values[i]);
}

/* Contract: see web_db_rows.h. */
int web_db_rows_exec(web_db_rows_t *rows, const char *sql, uint64_t deadline_ms,
                     const char *what, PGresult **out)
{
    char *p[WEB_DB_ROWS_MAX_COLS] = {0};
    bool oom = false;
    for (int i = 0; i < rows->ncols; i++) oom |= !(p[i] = pg_array_finish(&rows->cols[i]));
    *out = NULL;
    int rc = RT_ENOMEM;
    if (!oom) {
        uint64_t now = rt_now_ms();
        PGconn *db = now < deadline_ms ? web_db_acquire((int)(deadline_ms - now)) : NULL;
        rc = RT_EIO;
        if (db) {
            PGresult *r = NULL;
            rc = web_db_exec(db, sql, rows->ncols, (const char *const *)p, deadline_ms, &r);
            bool reusable = rc == RT_OK && PQstatus(db) == CONNECTION_OK;
            ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
            if (rc == RT_OK && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
                *out = r;
            } else {
                char msg[256];
                rt_log_value(msg, sizeof msg, r ? PQresultErrorMessage(r) : rt_strerror(rc));
                LOG_WARN(what, "rc=%s error=\"%s\"", rt_strerror(rc == RT_OK ? RT_EIO : rc), msg);
                if (rc == RT_OK) rc = RT_EIO;
                PQclear(r);
            }
            web_db_release(db, !reusable);
        } else {
            LOG_WARN(what, "rc=%s error=\"no database connection\"", rt_strerror(rc));
        }
    }
    for (int i = 0; i < rows->ncols; i++) free(p[i]);
    return rc;
}
