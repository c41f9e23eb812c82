/* web_dash_report.c — the daily XLSX report to admins in Telegram.
 *
 * Purpose: from PLUS7_REPORT_HOUR (Moscow) on, every day, the previous
 * day's workbook (web_dash_xlsx_build: sheet of orders, sheet of KPIs) is
 * sent as a document to every person whose role is admin, through the
 * existing outbox path: one tg_files row, one tg_outbox sendDocument row
 * per admin chat (dedupe key 'dash_report:<day>:<chat>'), and the
 * dash_reports row of the day — all in ONE transaction, so the report is
 * queued exactly once per day across restarts and instances (a second
 * builder's insert of the day conflicts and it rolls back). The check runs
 * at start and every WEB_DASH_REPORT_CHECK_S, so a service that was down
 * at the hour sends the day's report as soon as it is back. Building the
 * workbook blocks, so this is a thread of its own with its own connection,
 * never a runtime worker; after the commit it asks the gateway to look at
 * the outbox (the kick callback app/ provides).
 *
 * Exports: web_dash_report_start, web_dash_report_stop.
 * Threads: start/stop on the main thread; the report thread.
 */
#include "web_dash.h"
#include "web_dash_export.h"
#include "web_dash_report.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_dash_params.h"

#define WEB_DASH_REPORT_CHECK_S 60
#define WEB_DASH_REPORT_MAX_BYTES (45u << 20)   /* Telegram bots may upload 50 MB */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
    pthread_t thread;
    char *conninfo;
    int hour;
    web_dash_report_kick_fn kick;
    void *kick_arg;
} g_rep = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static bool rep_ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) LOG_WARN("dash_report_query_failed", "error=\"%s\"", PQresultErrorMessage(r));
    return ok;
}

/* Read the whole scratch file behind fd (offset anywhere). */
static char *rep_slurp(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (size_t)st.st_size > WEB_DASH_REPORT_MAX_BYTES) return NULL;
    char *buf = malloc((size_t)st.st_size);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    *len = got;
    return buf;
}

/* Queue the report of `day` (sent on day, covering day-1) unless queued. */
static void rep_run(PGconn *db, const char *day, const char *covered)
{
    const char *p1[] = {day};
    PGresult *r = PQexecParams(db, "SELECT 1 FROM dash_reports WHERE day = $1::date", 1, NULL, p1, NULL, NULL, 0);
    bool done = !rep_ok(r) || PQntuples(r) > 0;
    PQclear(r);
    if (done) return;

    web_dash_query_t q;
    const char *field;
    text_id_t err;
    char query[64];
    snprintf(query, sizeof query, "from=%s&to=%s", covered, covered);
    if (web_dash_query_parse(query, time(NULL), &q, &field, &err) != RT_OK) return;
    int fd = -1;
    long rows = 0;
    if (web_dash_xlsx_build(db, &q, &fd, &rows) != RT_OK) return;
    size_t len = 0;
    char *bytes = rep_slurp(fd, &len);
    close(fd);
    if (!bytes) {
        LOG_WARN("dash_report_too_large", "day=%s", covered);
        return;
    }
    char filename[64], caption[256];
    snprintf(filename, sizeof filename, "plus7-report-%s.xlsx", covered);
    snprintf(caption, sizeof caption, text_get(T_DASH_REPORT_CAPTION), covered);
    r = PQexec(db, "BEGIN");
    bool ok = rep_ok(r);
    PQclear(r);
    int recipients = -1;
    if (ok) {
        const char *p[] = {day, filename, bytes, caption};
        int lens[] = {0, 0, (int)len, 0}, fmts[] = {0, 0, 1, 0};
        r = PQexecParams(db,
            "WITH f AS (INSERT INTO tg_files (filename, content_type, data)"
            "           VALUES ($2, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', $3::bytea)"
            "           RETURNING id),"
            "     d AS (INSERT INTO dash_reports (day, file_id) SELECT $1::date, f.id FROM f"
            "           ON CONFLICT (day) DO NOTHING RETURNING day, file_id),"
            "     a AS (SELECT DISTINCT u.chat_id FROM users u JOIN role_grants g ON g.phone = u.phone"
            "            WHERE g.role = 'admin'),"
            "     o AS (INSERT INTO tg_outbox (chat_id, method, params, file_id, file_field, dedupe_key)"
            "           SELECT a.chat_id, 'sendDocument', json_build_object('chat_id', a.chat_id, 'caption', $4::text)::text,"
            "                  d.file_id, 'document', 'dash_report:' || $1 || ':' || a.chat_id FROM a, d"
            "           ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1)"
            " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM o)",
            4, NULL, p, lens, fmts, 0);
        ok = rep_ok(r);
        if (ok && PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) == 1) recipients = atoi(PQgetvalue(r, 0, 1));
        PQclear(r);
    }
    if (ok && recipients >= 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", recipients);
        const char *p[] = {day, n};
        r = PQexecParams(db, "UPDATE dash_reports SET recipients = $2::int WHERE day = $1::date", 2, NULL, p, NULL,
                         NULL, 0);
        ok = rep_ok(r);
        PQclear(r);
    }
    r = PQexec(db, ok && recipients >= 0 ? "COMMIT" : "ROLLBACK");
    ok = ok && rep_ok(r);
    PQclear(r);
    free(bytes);
    if (!ok || recipients < 0) return;   /* another instance queued it first */
    LOG_INFO("dash_report_queued", "day=%s covers=%s orders=%ld bytes=%zu recipients=%d", day, covered, rows, len,
             recipients);
    if (recipients > 0 && g_rep.kick) g_rep.kick(g_rep.kick_arg);
}

static void rep_check(PGconn **db)
{
    time_t now = time(NULL);
    int64_t msk = (int64_t)now + 3 * 3600;
    if ((int)((msk % 86400) / 3600) < g_rep.hour) return;
    int64_t today = msk / 86400, y;
    unsigned m, d;
    char day[11], covered[11];
    web_dash_civil_from_days(today, &y, &m, &d);
    snprintf(day, sizeof day, "%04d-%02u-%02u", (int)y, m, d);
    web_dash_civil_from_days(today - 1, &y, &m, &d);
    snprintf(covered, sizeof covered, "%04d-%02u-%02u", (int)y, m, d);
    if (!*db || PQstatus(*db) != CONNECTION_OK) {
        PQfinish(*db);
        const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *vals[] = {"5", "plus7d-report", g_rep.conninfo, NULL};
        *db = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(*db) != CONNECTION_OK) return;
    }
    rep_run(*db, day, covered);
}

static void *rep_thread(void *arg)
{
    (void)arg;
    PGconn *db = NULL;
    pthread_mutex_lock(&g_rep.mu);
    while (!g_rep.stop) {
        pthread_mutex_unlock(&g_rep.mu);
        rep_check(&db);
        pthread_mutex_lock(&g_rep.mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WEB_DASH_REPORT_CHECK_S;
        while (!g_rep.stop && pthread_cond_timedwait(&g_rep.cv, &g_rep.mu, &ts) == 0) {}
    }
    pthread_mutex_unlock(&g_rep.mu);
    PQfinish(db);
    return NULL;
}

/* Contract: see web_dash_report.h. */
int web_dash_report_start(const char *conninfo, int hour, web_dash_report_kick_fn kick, void *arg)
{
    if (!conninfo || hour < 0 || hour > 23 || g_rep.started) return RT_EINVAL;
    g_rep.conninfo = strdup(conninfo);
    if (!g_rep.conninfo) return RT_ENOMEM;
    g_rep.hour = hour;
    g_rep.kick = kick;
    g_rep.kick_arg = arg;
    g_rep.stop = false;
    if (pthread_create(&g_rep.thread, NULL, rep_thread, NULL) != 0) {
        free(g_rep.conninfo);
        g_rep.conninfo = NULL;
        return RT_ENOMEM;
    }
    g_rep.started = true;
    LOG_INFO("dash_report_scheduled", "hour_msk=%d", hour);
    return RT_OK;
}

/* Contract: see web_dash_report.h. */
void web_dash_report_stop(void)
{
    if (!g_rep.started) return;
    pthread_mutex_lock(&g_rep.mu);
    g_rep.stop = true;
    pthread_cond_signal(&g_rep.cv);
    pthread_mutex_unlock(&g_rep.mu);
    pthread_join(g_rep.thread, NULL);
    g_rep.started = false;
    free(g_rep.conninfo);
    g_rep.conninfo = NULL;
}
