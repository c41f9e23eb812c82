/* web_dash_export.c — CSV and Excel exports of the orders of a period.
 *
 * Purpose: manager and admin downloads (Content-Disposition: attachment):
 *   GET /api/export/orders.csv   ?from&to&zone   RFC 4180, UTF-8 with a BOM,
 *                                CRLF, streamed with chunked encoding
 *   GET /api/export/orders.xlsx  ?from&to&zone   libxlsxwriter in
 *                                constant_memory mode: sheet «Заказы» (dates
 *                                as dates, money as numbers in a rouble
 *                                format, frozen header, autofilter) and
 *                                sheet «Показатели» (the summary's KPIs)
 * Rows come from COPY (…) TO STDOUT one at a time (PQgetCopyData), so a
 * million rows take the memory of one row. The XLSX is written to a
 * scratch file (libxlsxwriter needs one; it is unlinked at once and read
 * back through its descriptor) and sent with its length. Free-text CSV
 * cells that a spreadsheet would run as a formula (= + - @ first) get a
 * leading apostrophe.
 *
 * Exports: web_dash_export_register, web_dash_export_rows,
 * web_dash_xlsx_build.
 * Threads: civetweb worker threads (and the daily report's thread).
 */
#include "web_dash.h"
#include "web_dash_export.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>
#include <xlsxwriter.h>

#include "order_status.h"
#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_buf.h"
#include "web_dash_params.h"

#define EXP_MAX_RUNNING 2   /* each export holds one of the web layer's few pooled connections */
#define EXP_CHUNK (64 * 1024)
#define EXP_SUMMARY_MS 30000   /* the KPI sheet's queries */
#define EXP_MSK_OFFSET_S (3 * 3600)

/* The rows, as COPY text (the database's fastest way out: a cursor's FETCH
 * round trips cost twice as much over a million rows). COPY takes no bind
 * parameters, so the period and zone travel as transaction-local settings
 * set with set_config($1...) — still parameters, never SQL text. */
static const char exp_rows_sql[] =
    "COPY (SELECT o.posting_number, o.status, coalesce(z.name, ''),"
    "        coalesce(o.recipient_name, o.addressee_name, o.customer_name, ''), coalesce(o.recipient_phone, o.addressee_phone, o.customer_phone, ''),"
    "        coalesce(d.address, o.ozon_address, ''),"
    "        CASE WHEN d.id IS NOT NULL THEN to_char(d.slot_date, 'YYYY-MM-DD') || ' ' ||"
    "             to_char(d.slot_start, 'HH24:MI') || '-' || to_char(d.slot_end, 'HH24:MI') ELSE '' END,"
    "        d.price_kopecks, extract(epoch FROM o.created_at)::bigint, extract(epoch FROM o.updated_at)::bigint"
    "   FROM orders o"
    "   LEFT JOIN dash_order_facts f ON f.posting_number = o.posting_number"
    "   LEFT JOIN delivery_zones z ON z.id = f.zone_id"
    "   LEFT JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'"
    "  WHERE o.created_at >= (current_setting('plus7.export_from')::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "    AND o.created_at < (current_setting('plus7.export_to')::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "    AND (current_setting('plus7.export_zone') = ''"
    "         OR f.zone_id = nullif(current_setting('plus7.export_zone'), '')::int)"
    "  ORDER BY o.created_at, o.posting_number) TO STDOUT";

static bool exp_ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_OUT;
    if (!ok) LOG_WARN("dash_export_query_failed", "error=\"%s\"", PQresultErrorMessage(r));
    return ok;
}

/* Split one COPY text row (tab-separated, '\n'-terminated, backslash
 * escapes, \N = NULL) into f[0..n-1] in place. False on a short row. */
static bool exp_copy_fields(char *line, int len, char **f, int n)
{
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    else line[len] = '\0';
    char *p = line;
    for (int k = 0; k < n; k++) {
        if (!p) return false;
        char *w = p, *start = p;
        if (p[0] == '\\' && p[1] == 'N' && (p[2] == '\t' || p[2] == '\0')) {
            f[k] = NULL;
            p = p[2] == '\t' ? p + 3 : NULL;
            continue;
        }
        for (;;) {
            char c = *p;
            if (c == '\0' || c == '\t') {
                *w = '\0';
                p = c == '\t' ? p + 1 : NULL;
                break;
            }
            if (c == '\\' && p[1]) {
                char e = p[1];
                p += 2;
                switch (e) {
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'n': *w++ = '\n'; break;
                case 'r': *w++ = '\r'; break;
                case 't': *w++ = '\t'; break;
                case 'v': *w++ = '\v'; break;
                default: *w++ = e; break;   /* \\ and any other escaped byte */
                }
                continue;
            }
            *w++ = c;
            p++;
        }
        f[k] = start;
    }
    return true;
}

/* Contract: see web_dash_export.h. */
int web_dash_export_rows(PGconn *db, const web_dash_query_t *q, web_dash_row_fn fn, void *arg, long *nrows)
{
    char zone[24] = "";
    if (q->zone) snprintf(zone, sizeof zone, "%lld", (long long)q->zone);
    const char *p[] = {q->from, q->to_next, zone};
    *nrows = 0;
    /* COPY streams for minutes: blocking libpq, bounded by the 15-minute
     * statement_timeout set below (the pool's bounded calls switch the
     * connection to non-blocking mode; back to blocking here) */
    if (PQsetnonblocking(db, 0) != 0) return RT_EIO;
    PGresult *r = PQexec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    bool ok = exp_ok(r);
    PQclear(r);
    if (ok) {
        /* a million rows outlast the pool's 3 s statement_timeout: this
         * transaction gets 15 minutes */
        r = PQexecParams(db, "SELECT set_config('plus7.export_from', $1, true), set_config('plus7.export_to', $2, true),"
                             "       set_config('plus7.export_zone', $3, true),"
                             "       set_config('statement_timeout', '900000', true)", 3, NULL, p, NULL, NULL, 0);
        ok = exp_ok(r);
        PQclear(r);
    }
    if (ok) {
        r = PQexec(db, exp_rows_sql);
        ok = PQresultStatus(r) == PGRES_COPY_OUT;
        if (!ok) exp_ok(r);
        PQclear(r);
    }
    int rc = RT_OK;
    char *line = NULL;
    for (int len; ok && (len = PQgetCopyData(db, &line, 0)) > 0; PQfreemem(line), line = NULL) {
        if (rc != RT_OK) continue;   /* cancelled: drain what is on its way */
        web_dash_row_t row;
        char *f[10];
        if (!exp_copy_fields(line, len, f, 10)) {
            rc = RT_EIO;
            continue;
        }
        for (int k = 0; k < 8; k++) row.f[k] = f[k];
        row.status_text = order_status_name_ru(ORDER_NONE);
        order_status_t st;
        if (f[1] && order_status_parse(f[1], &st) == RT_OK) row.status_text = order_status_name_ru(st);
        row.price_kop = f[7] ? strtoll(f[7], NULL, 10) : -1;
        row.created = f[8] ? strtoll(f[8], NULL, 10) : 0;
        row.updated = f[9] ? strtoll(f[9], NULL, 10) : 0;
        rc = fn(&row, arg);
        (*nrows)++;
        if (rc != RT_OK) {   /* the client went away: stop the server's side too */
            PGcancel *cn = PQgetCancel(db);
            char errbuf[128];
            if (cn) PQcancel(cn, errbuf, sizeof errbuf), PQfreeCancel(cn);
        }
    }
    PQfreemem(line);
    if (ok) {   /* the COPY's own result, then nothing */
        bool copy_ok = true;
        while ((r = PQgetResult(db))) {
            copy_ok = copy_ok && PQresultStatus(r) == PGRES_COMMAND_OK;
            if (rc == RT_OK && PQresultStatus(r) != PGRES_COMMAND_OK) exp_ok(r);
            PQclear(r);
        }
        ok = copy_ok || rc != RT_OK;
    }
    r = PQexec(db, ok && rc == RT_OK ? "COMMIT" : "ROLLBACK");
    PQclear(r);
    if (!ok) return RT_EIO;
    return rc;
}

/* ---- CSV ------------------------------------------------------------------------ */

typedef struct exp_csv {
    web_req_t *req;
    web_buf_t buf;
    bool failed;
} exp_csv_t;

static void exp_csv_cell(web_buf_t *b, const char *s, bool text, bool last)
{
    s = s ? s : "";
    bool formula = text && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r');
    if (formula || strpbrk(s, ",\"\r\n")) {
        web_buf_append(b, "\"", 1);
        if (formula) web_buf_append(b, "'", 1);
        for (const char *p = s; *p;) {   /* runs without quotes, quotes doubled */
            size_t run = strcspn(p, "\"");
            web_buf_append(b, p, run);
            p += run;
            if (*p == '"') web_buf_append(b, "\"\"", 2), p++;
        }
        web_buf_append(b, "\"", 1);
    } else {
        web_buf_append(b, s, strlen(s));
    }
    web_buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void exp_csv_time(web_buf_t *b, long long unix_s, bool last)
{
    time_t t = (time_t)(unix_s + EXP_MSK_OFFSET_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    char s[32];
    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
    exp_csv_cell(b, s, false, last);
}

static int exp_csv_flush(exp_csv_t *c, bool force)
{
    if (c->buf.oom) return RT_ENOMEM;
    if (c->buf.len == 0 || (!force && c->buf.len < EXP_CHUNK)) return RT_OK;
    if (mg_send_chunk(c->req->conn, c->buf.p, (unsigned)c->buf.len) < 0) {
        c->failed = true;
        return RT_EIO;
    }
    c->buf.len = 0;
    return RT_OK;
}

static int exp_csv_row(const web_dash_row_t *r, void *arg)
{
    exp_csv_t *c = arg;
    web_buf_t *b = &c->buf;
    exp_csv_cell(b, r->f[0], false, false);
    exp_csv_cell(b, r->status_text, false, false);
    exp_csv_cell(b, r->f[2], true, false);
    exp_csv_cell(b, r->f[3], true, false);
    exp_csv_cell(b, r->f[4], false, false);
    exp_csv_cell(b, r->f[5], true, false);
    exp_csv_cell(b, r->f[6], false, false);
    char money[32] = "";
    if (r->price_kop >= 0) snprintf(money, sizeof money, "%lld.%02lld", r->price_kop / 100, r->price_kop % 100);
    exp_csv_cell(b, money, false, false);
    exp_csv_time(b, r->created, false);
    exp_csv_time(b, r->updated, true);
    return exp_csv_flush(c, false);
}

/* Exports running now. relaxed: a counter that only admits or refuses;
 * nothing else is published through it. */
static _Atomic int exp_running;

static void exp_end(web_dash_ctx_t *c)
{
    web_dash_end(c);
    atomic_fetch_sub_explicit(&exp_running, 1, memory_order_relaxed);
}

/* Parse the query, borrow the session and an export slot (at most
 * EXP_MAX_RUNNING at once, so exports never take every pooled connection
 * from the webhooks); RT_OK (release with exp_end) or answered. */
static int exp_begin(web_req_t *req, web_dash_ctx_t *c, web_dash_query_t *q)
{
    if (web_dash_begin(req, WEB_DASH_ANALYST, c) != RT_OK) return RT_EINVAL;
    if (atomic_fetch_add_explicit(&exp_running, 1, memory_order_relaxed) >= EXP_MAX_RUNNING) {
        exp_end(c);
        web_dash_error(req, 429, text_get(T_DASH_E_BUSY), NULL);
        return RT_EINVAL;
    }
    const char *field;
    text_id_t err;
    if (web_dash_query_parse(req->query, time(NULL), q, &field, &err) == RT_OK) return RT_OK;
    exp_end(c);
    web_dash_error(req, 400, text_get(err), field);
    return RT_EINVAL;
}

static void exp_filename(const web_dash_query_t *q, const char *ext, char *out, size_t cap)
{
    if (q->zone) snprintf(out, cap, "orders_%s_%s_zone%lld.%s", q->from, q->to, (long long)q->zone, ext);
    else snprintf(out, cap, "orders_%s_%s.%s", q->from, q->to, ext);
}

static int exp_csv(web_req_t *req)
{
    web_dash_ctx_t c;
    web_dash_query_t q;
    if (exp_begin(req, &c, &q) != RT_OK) return RT_OK;
    char name[96], hdr[3072];
    exp_filename(&q, "csv", name, sizeof name);
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\n"
                     "Content-Disposition: attachment; filename=\"%s\"\r\n"
                     "Transfer-Encoding: chunked\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
                     name, web_dash_headers());
    req->status = 200;
    if (mg_write(req->conn, hdr, (size_t)n) != n) {
        exp_end(&c);
        return RT_EIO;
    }
    exp_csv_t x = {.req = req, .buf = WEB_BUF_INIT};
    web_buf_append(&x.buf, "\xEF\xBB\xBF", 3);
    char cols[512];
    snprintf(cols, sizeof cols, "%s", text_get(T_DASH_X_COLUMNS));
    char *save = NULL;
    int i = 0;
    for (char *col = strtok_r(cols, ";", &save); col; col = strtok_r(NULL, ";", &save), i++)
        exp_csv_cell(&x.buf, col, false, i == 9);
    long rows = 0;
    int rc = web_dash_export_rows(c.db, &q, exp_csv_row, &x, &rows);
    c.broken = rc == RT_EIO && PQstatus(c.db) != CONNECTION_OK;
    exp_end(&c);
    if (rc == RT_OK) rc = exp_csv_flush(&x, true);
    web_buf_free(&x.buf);
    if (rc != RT_OK) {
        /* the status line is out: a broken chunk stream tells the client */
        LOG_WARN("dash_export_failed", "kind=csv rows=%ld rc=%s", rows, rt_strerror(rc));
        return RT_OK;
    }
    mg_send_chunk(req->conn, "", 0);
    LOG_INFO("dash_export", "kind=csv rows=%ld login=\"%s\"", rows, c.s.login);
    return RT_OK;
}

/* ---- XLSX ----------------------------------------------------------------------- */

typedef struct exp_xlsx {
    lxw_worksheet *ws;
    lxw_format *date, *money;
    lxw_row_t row;
    long long sum_kop;
} exp_xlsx_t;

static int exp_xlsx_row(const web_dash_row_t *r, void *arg)
{
    exp_xlsx_t *x = arg;
    lxw_row_t row = ++x->row;
    if (row >= LXW_ROW_MAX) return RT_EFULL;
    worksheet_write_string(x->ws, row, 0, r->f[0], NULL);
    worksheet_write_string(x->ws, row, 1, r->status_text, NULL);
    worksheet_write_string(x->ws, row, 2, r->f[2] ? r->f[2] : "", NULL);
    worksheet_write_string(x->ws, row, 3, r->f[3] ? r->f[3] : "", NULL);
    worksheet_write_string(x->ws, row, 4, r->f[4] ? r->f[4] : "", NULL);
    worksheet_write_string(x->ws, row, 5, r->f[5] ? r->f[5] : "", NULL);
    worksheet_write_string(x->ws, row, 6, r->f[6] ? r->f[6] : "", NULL);
    if (r->price_kop >= 0) {
        worksheet_write_number(x->ws, row, 7, (double)r->price_kop / 100.0, x->money);
        x->sum_kop += r->price_kop;
    }
    worksheet_write_unixtime(x->ws, row, 8, r->created + EXP_MSK_OFFSET_S, x->date);
    worksheet_write_unixtime(x->ws, row, 9, r->updated + EXP_MSK_OFFSET_S, x->date);
    return RT_OK;
}

/* A KPI row: label and a number (NAN-free) or a text. */
static void exp_kpi(lxw_worksheet *ws, lxw_row_t row, const char *label, const cJSON *v, lxw_format *fmt)
{
    worksheet_write_string(ws, row, 0, label, NULL);
    if (cJSON_IsNumber(v)) worksheet_write_number(ws, row, 1, v->valuedouble, fmt);
    else if (cJSON_IsString(v)) worksheet_write_string(ws, row, 1, v->valuestring, NULL);
    else worksheet_write_string(ws, row, 1, "—", NULL);
}

static const cJSON *exp_path(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c) v = cJSON_GetObjectItemCaseSensitive(v, c);
    return v;
}

static void exp_kpi_sheet(lxw_workbook *wb, lxw_worksheet *ws, const cJSON *s)
{
    lxw_format *bold = workbook_add_format(wb), *hours = workbook_add_format(wb), *pct = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_num_format(hours, "0.0");
    format_set_num_format(pct, "0.0%");
    char heads[128], names[1024];
    snprintf(heads, sizeof heads, "%s", text_get(T_DASH_X_KPI_HEAD));
    char *save = NULL, *h0 = strtok_r(heads, ";", &save), *h1 = strtok_r(NULL, ";", &save);
    worksheet_write_string(ws, 0, 0, h0 ? h0 : "", bold);
    worksheet_write_string(ws, 0, 1, h1 ? h1 : "", bold);
    worksheet_set_column(ws, 0, 0, 34, NULL);
    worksheet_set_column(ws, 1, 1, 16, NULL);
    snprintf(names, sizeof names, "%s", text_get(T_DASH_X_KPI_NAMES));
    const char *label[16] = {0};
    save = NULL;
    int n = 0;
    for (char *t = strtok_r(names, ";", &save); t && n < 16; t = strtok_r(NULL, ";", &save)) label[n++] = t;
    if (n < 13) return;
    cJSON *hrs[3];
    static const char *const dk[3] = {"avg_s", "p50_s", "p90_s"};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = exp_path(s, "kpi", "delivery_time", dk[i]);
        hrs[i] = cJSON_IsNumber(v) ? cJSON_CreateNumber(v->valuedouble / 3600.0) : cJSON_CreateNull();
    }
    exp_kpi(ws, 1, label[0], exp_path(s, "from", NULL, NULL), NULL);
    exp_kpi(ws, 2, label[1], exp_path(s, "to", NULL, NULL), NULL);
    exp_kpi(ws, 3, label[2], exp_path(s, "kpi", "created", NULL), NULL);
    exp_kpi(ws, 4, label[3], exp_path(s, "kpi", "delivered", NULL), NULL);
    exp_kpi(ws, 5, label[4], exp_path(s, "kpi", "cancelled", NULL), NULL);
    exp_kpi(ws, 6, label[5], exp_path(s, "kpi", "returned", NULL), NULL);
    exp_kpi(ws, 7, label[6], hrs[0], hours);
    exp_kpi(ws, 8, label[7], hrs[1], hours);
    exp_kpi(ws, 9, label[8], hrs[2], hours);
    exp_kpi(ws, 10, label[9], exp_path(s, "kpi", "on_time_rate", NULL), pct);
    exp_kpi(ws, 11, label[10], exp_path(s, "kpi", "notifications", "telegram"), NULL);
    exp_kpi(ws, 12, label[11], exp_path(s, "kpi", "notifications", "sms"), NULL);
    exp_kpi(ws, 13, label[12], exp_path(s, "kpi", "notifications", "failed"), NULL);
    for (int i = 0; i < 3; i++) cJSON_Delete(hrs[i]);
}

/* The builder proper; runs on a thread with a big stack (see below). */
static int exp_xlsx_build(PGconn *db, const web_dash_query_t *q, int *fd_out, long *nrows)
{
    *fd_out = -1;
    *nrows = 0;
    cJSON *summary = NULL;
    web_dash_ctx_t k = {.db = db, .deadline_ms = rt_now_ms() + EXP_SUMMARY_MS};
    if (web_dash_summary(&k, q, &summary) != RT_OK) return RT_EIO;
    char path[512];
    snprintf(path, sizeof path, "%s/plus7-export-XXXXXX", web_dash_cfg()->tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        cJSON_Delete(summary);
        LOG_WARN("dash_export_tmp_failed", "dir=\"%s\" errno=%d", web_dash_cfg()->tmpdir, errno);
        return RT_EIO;
    }
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = (char *)web_dash_cfg()->tmpdir};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb) {
        close(fd);
        unlink(path);
        cJSON_Delete(summary);
        return RT_ENOMEM;
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, text_get(T_DASH_X_SHEET_ORDERS));
    lxw_worksheet *kpi = workbook_add_worksheet(wb, text_get(T_DASH_X_SHEET_KPI));
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    exp_xlsx_t x = {.ws = ws, .date = workbook_add_format(wb), .money = workbook_add_format(wb)};
    format_set_num_format(x.date, "dd.mm.yyyy hh:mm");
    format_set_num_format(x.money, "#,##0.00\\ \"₽\"");
    static const double widths[10] = {20, 22, 14, 28, 16, 40, 18, 14, 17, 17};
    for (int i = 0; i < 10; i++) worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL);
    worksheet_freeze_panes(ws, 1, 0);
    char cols[512];
    snprintf(cols, sizeof cols, "%s", text_get(T_DASH_X_COLUMNS));
    char *save = NULL;
    lxw_col_t col = 0;
    for (char *h = strtok_r(cols, ";", &save); h; h = strtok_r(NULL, ";", &save), col++)
        worksheet_write_string(ws, 0, col, h, bold);
    int rc = web_dash_export_rows(db, q, exp_xlsx_row, &x, nrows);
    worksheet_autofilter(ws, 0, 0, x.row, 9);
    exp_kpi_sheet(wb, kpi, summary);
    cJSON_Delete(summary);
    lxw_error le = workbook_close(wb);
    unlink(path);   /* the descriptor keeps the bytes until it is closed */
    if (rc != RT_OK || le != LXW_NO_ERROR) {
        if (le != LXW_NO_ERROR) LOG_WARN("dash_xlsx_failed", "error=\"%s\"", lxw_strerror(le));
        close(fd);
        return rc != RT_OK ? rc : RT_EIO;
    }
    *fd_out = fd;
    return RT_OK;
}

typedef struct exp_job {
    PGconn *db;
    const web_dash_query_t *q;
    int fd, rc;
    long nrows;
} exp_job_t;

static void *exp_job_run(void *arg)
{
    exp_job_t *j = arg;
    j->rc = exp_xlsx_build(j->db, j->q, &j->fd, &j->nrows);
    return NULL;
}

/* Contract: see web_dash_export.h. civetweb's threads have small stacks
 * (Debian builds it with a 100 KiB USE_STACK_SIZE) and libxlsxwriter's
 * packager wants more, so the workbook is built on a helper thread with an
 * 8 MiB stack while the caller waits for it. */
int web_dash_xlsx_build(PGconn *db, const web_dash_query_t *q, int *fd_out, long *nrows)
{
    exp_job_t j = {.db = db, .q = q, .fd = -1, .rc = RT_EIO};
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8u << 20);
    int prc = pthread_create(&t, &attr, exp_job_run, &j);
    pthread_attr_destroy(&attr);
    if (prc != 0) return RT_ENOMEM;
    pthread_join(t, NULL);
    *fd_out = j.fd;
    *nrows = j.nrows;
    return j.rc;
}

static int exp_xlsx(web_req_t *req)
{
    web_dash_ctx_t c;
    web_dash_query_t q;
    if (exp_begin(req, &c, &q) != RT_OK) return RT_OK;
    int fd = -1;
    long rows = 0;
    int rc = web_dash_xlsx_build(c.db, &q, &fd, &rows);
    c.broken = rc == RT_EIO && PQstatus(c.db) != CONNECTION_OK;
    exp_end(&c);
    if (rc != RT_OK) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    struct stat st;
    if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return web_dash_error(req, 500, text_get(T_DASH_E_INTERNAL), NULL);
    }
    char name[96], hdr[3072];
    exp_filename(&q, "xlsx", name, sizeof name);
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
                     "Content-Disposition: attachment; filename=\"%s\"\r\nContent-Length: %lld\r\n"
                     "X-Content-Type-Options: nosniff\r\n%s\r\n",
                     name, (long long)st.st_size, web_dash_headers());
    req->status = 200;
    bool ok = mg_write(req->conn, hdr, (size_t)n) == n;
    char *buf = ok ? malloc(EXP_CHUNK) : NULL;
    for (ssize_t got; buf && (got = read(fd, buf, EXP_CHUNK)) > 0;)
        if (mg_write(req->conn, buf, (size_t)got) != got) break;
    free(buf);
    close(fd);
    LOG_INFO("dash_export", "kind=xlsx rows=%ld bytes=%lld login=\"%s\"", rows, (long long)st.st_size, c.s.login);
    return RT_OK;
}

/* Contract: see web_dash.h. */
int web_dash_export_register(void)
{
    int rc = web_route_add("GET", "/api/export/orders.csv", exp_csv);
    return rc == RT_OK ? web_route_add("GET", "/api/export/orders.xlsx", exp_xlsx) : rc;
}
