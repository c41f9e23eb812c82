/* test_dash_kpi.c — analytics and exports against a data set whose numbers
 * the test computes itself.
 *
 * The data set: 240 orders in 2025-03-01..10 (Moscow) in three zones, each
 * with a planned life (delivered at a pickup point or by a courier in a
 * booked slot — some late, some on a second trip —, cancelled, returned,
 * waiting at a pickup point, in transit), status history and
 * notifications, written through the same tables and triggers the service
 * uses (statuses move with UPDATEs, so every rollup is incremental). The
 * test computes counts, averages, nearest-rank p50/p90, rates and money
 * from its plan and checks: the summary (all zones and one zone; p50/p90
 * within the histogram's 2.5 %), the series by day and by hour, the same
 * numbers after dash_rebuild() (triggers = set-based recomputation), the
 * CSV parsed as RFC 4180 and the XLSX unzipped (rows, cell types, money
 * sum, date serials, frozen header, autofilter, the KPI sheet).
 */
#include "t.h"

#include <math.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "dash_util.h"
#include "e2e_harness.h"

#define N 240
#define MSK 10800
#define DAY 86400

typedef struct plan {
    int zone;
    int kind;          /* 0 pickup-delivered, 1 courier-delivered, 2 cancelled, 3 returned, 4 waiting, 5 transit */
    int64_t created, acc, transit, pickup, ofd, final;
    bool late, second, sms, failed;
    long long price;   /* kopecks, courier only */
    char slot_date[11];
    int slot_start_h, slot_end_h;
} plan_t;

static plan_t g_plan[N];
static int64_t g_p0, g_p1;   /* the period [p0, p1) */
static char g_tok[65], g_csrf[65];
static bool g_loaded;

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static int64_t rnd(int64_t lo, int64_t hi)
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return lo + (int64_t)(g_rng % (uint64_t)(hi - lo + 1));
}

static void msk_date(int64_t t, char out[11])
{
    time_t x = (time_t)(t + MSK);
    struct tm tm;
    gmtime_r(&x, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int64_t msk_midnight(const char *date)
{
    struct tm tm = {0};
    sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) - MSK;
}

static void plan_make(void)
{
    g_p0 = msk_midnight("2025-03-01");
    g_p1 = g_p0 + 10 * DAY;
    static const int kinds[10] = {0, 1, 0, 1, 0, 1, 2, 3, 4, 5};
    static const int slot_h[3][2] = {{10, 14}, {14, 18}, {18, 22}};   /* plus7d seed's windows */
    for (int i = 0; i < N; i++) {
        plan_t *p = &g_plan[i];
        memset(p, 0, sizeof *p);
        p->zone = 1 + i % 3;
        p->kind = kinds[i % 10];
        p->created = g_p0 + rnd(0, 9 * DAY);
        p->sms = i % 5 == 0;
        p->failed = i % 13 == 0;
        if (p->kind == 2) {
            p->final = p->created + rnd(600, 100000);
            continue;
        }
        p->acc = p->created + rnd(600, 40000);
        p->transit = p->acc + rnd(600, 40000);
        if (p->kind == 5) continue;
        if (p->kind == 1) {
            int k = i % 3;
            msk_date(p->transit + DAY, p->slot_date);
            p->slot_start_h = slot_h[k][0];
            p->slot_end_h = slot_h[k][1];
            int64_t s = msk_midnight(p->slot_date) + slot_h[k][0] * 3600, e = msk_midnight(p->slot_date) + slot_h[k][1] * 3600;
            p->late = i % 7 == 0;
            p->final = p->late ? e + rnd(600, 7200) : rnd(s, e);
            p->ofd = p->final - rnd(900, 5400);
            p->second = i % 11 == 0;
            p->price = 20000 + 100 * i;
            continue;
        }
        p->pickup = p->transit + rnd(3600, 100000);
        if (p->kind == 0) p->final = p->pickup + rnd(600, 300000);
        if (p->kind == 3) p->final = p->pickup + 8 * DAY;
    }
}

static const char *const k_final[6] = {"delivered", "delivered", "cancelled", "returned", "at_pickup_point", "in_transit"};

/* The SQL that writes order i the way the service would. */
static void plan_sql(int i, char *sql, size_t cap)
{
    const plan_t *p = &g_plan[i];
    char post[24], name[128];
    snprintf(post, sizeof post, "20250301%02d-%04d-1", i / 100, i % 100);
    if (i == 0) snprintf(name, sizeof name, "Иван \"Ваня\", Петров");
    else if (i == 1) snprintf(name, sizeof name, "=1+2");
    else snprintf(name, sizeof name, "Клиент %d", i);
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(sql + n, cap - n, __VA_ARGS__)
    ADD("INSERT INTO orders (posting_number, status, status_at, status_source, addressee_name, addressee_phone,"
        " ozon_address, created_at, updated_at) SELECT '%s', 'created', to_timestamp(%lld), 'logistics', '%s',"
        " '+7949555%04d', 'г. ' || city || ', ул. Тестовая, %d', to_timestamp(%lld), to_timestamp(%lld)"
        " FROM delivery_zones WHERE id = %d;",
        post, (long long)p->created, name, i, i, (long long)p->created, (long long)p->created, p->zone);
    struct { const char *st; int64_t at; } steps[] = {
        {"created", p->created}, {"accepted", p->acc}, {"in_transit", p->transit},
        {"at_pickup_point", p->pickup}, {"out_for_delivery", p->ofd}, {k_final[p->kind], p->final},
    };
    for (int s = 0; s < 6; s++) {
        if (!steps[s].at || (s == 5 && p->kind >= 4)) continue;
        ADD("INSERT INTO order_history (posting_number, status, source, at, applied)"
            " VALUES ('%s', '%s', 'logistics', to_timestamp(%lld), true);", post, steps[s].st, (long long)steps[s].at);
    }
    if (p->second)
        ADD("INSERT INTO order_history (posting_number, status, source, at, applied)"
            " VALUES ('%s', 'out_for_delivery', 'courier', to_timestamp(%lld), false);", post, (long long)p->ofd + 60);
    if (p->kind == 1)
        ADD("INSERT INTO deliveries (posting_number, tg_user_id, address, zone_id, slot_id, slot_date, slot_start,"
            " slot_end, price_kopecks, created_at) SELECT '%s', 1, 'ул. Тестовая, %d', %d, s.id, '%s', s.start_time,"
            " s.end_time, %lld, to_timestamp(%lld) FROM delivery_slots s WHERE s.zone_id = %d AND"
            " s.start_time = time '%02d:00';",
            post, i, p->zone, p->slot_date, p->price, (long long)p->transit, p->zone, p->slot_start_h);
    if (p->acc) ADD("UPDATE orders SET status = 'accepted', status_at = to_timestamp(%lld) WHERE posting_number = '%s';",
                    (long long)p->acc, post);
    if (p->transit) ADD("UPDATE orders SET status = 'in_transit', status_at = to_timestamp(%lld) WHERE posting_number = '%s';",
                        (long long)p->transit, post);
    if (p->pickup) ADD("UPDATE orders SET status = 'at_pickup_point', status_at = to_timestamp(%lld),"
                       " pickup_arrived_at = to_timestamp(%lld) WHERE posting_number = '%s';",
                       (long long)p->pickup, (long long)p->pickup, post);
    if (p->ofd) ADD("UPDATE orders SET status = 'out_for_delivery', status_at = to_timestamp(%lld) WHERE posting_number = '%s';",
                    (long long)p->ofd, post);
    if (p->final && p->kind < 4)
        ADD("UPDATE orders SET status = '%s', status_at = to_timestamp(%lld), updated_at = to_timestamp(%lld)"
            " WHERE posting_number = '%s';", k_final[p->kind], (long long)p->final, (long long)p->final, post);
    ADD("INSERT INTO notify_outbox (dedupe_key, posting_number, event, chat_id, channel, status, created_at, sent_at)"
        " VALUES ('k%d:t', '%s', 'created', 1, 'telegram', 'queued', to_timestamp(%lld), NULL);",
        i, post, (long long)p->created + 5);
    /* the gateway's outcome arrives later, as an UPDATE */
    ADD("UPDATE notify_outbox SET status = 'sent', sent_at = to_timestamp(%lld) WHERE dedupe_key = 'k%d:t';",
        (long long)p->created + 5, i);
    if (p->sms)
        ADD("INSERT INTO notify_outbox (dedupe_key, posting_number, event, phone, channel, status, created_at, sent_at)"
            " VALUES ('k%d:s', '%s', 'created', '+79495550000', 'sms', 'sent', to_timestamp(%lld), to_timestamp(%lld));",
            i, post, (long long)p->created + 10, (long long)p->created + 10);
    if (p->failed)
        ADD("INSERT INTO notify_outbox (dedupe_key, posting_number, event, chat_id, channel, status, created_at)"
            " VALUES ('k%d:f', '%s', 'created', 1, 'telegram', 'failed', to_timestamp(%lld));",
            i, post, (long long)p->created + 1);
#undef ADD
}

static void load_once(void)
{
    T_CHECK(e2e_p7_ensure() == 0);
    if (g_loaded) return;
    char out[1024];
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add mgr manager", out, sizeof out), 0);
    T_EQ_INT(dash_sign_in("mgr", DASH_PW, g_tok, g_csrf), 200);
    plan_make();
    char *sql = malloc(16384);
    for (int i = 0; i < N; i++) {
        plan_sql(i, sql, 16384);
        T_CHECK(dash_db_exec(sql) == 0);
    }
    free(sql);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders", NULL), N);
    g_loaded = true;
}

/* ---- what the numbers must be ----------------------------------------------------- */

typedef struct expect {
    int created, delivered, cancelled, returned, on_n, on_ok, first_n, first_ok, tg, sms, failed, waiting;
    double d_avg, d_p50, d_p90, p_avg, p_p50, p_p90, a_avg, a_p50, a_p90;
    int d_n, p_n, a_n;
} expect_t;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void stats(int64_t *v, int n, double *avg, double *p50, double *p90)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i];
    *avg = n ? s / n : NAN;
    *p50 = n ? (double)v[(int)ceil(0.5 * n) - 1] : NAN;
    *p90 = n ? (double)v[(int)ceil(0.9 * n) - 1] : NAN;
}

static bool in_p(int64_t t) { return t >= g_p0 && t < g_p1; }

static expect_t expect_for(int zone)
{
    expect_t e = {0};
    int64_t dv[N], pv[N], av[N];
    for (int i = 0; i < N; i++) {
        const plan_t *p = &g_plan[i];
        if (zone && p->zone != zone) continue;
        e.created += in_p(p->created);
        e.tg += in_p(p->created + 5);
        e.sms += p->sms && in_p(p->created + 10);
        e.failed += p->failed && in_p(p->created + 1);
        e.waiting += p->kind == 4;
        if (p->acc && in_p(p->acc)) av[e.a_n++] = p->acc - p->created;
        if (!p->final || !in_p(p->final)) continue;
        if (p->kind == 2) e.cancelled++;
        if (p->kind == 3) e.returned++;
        if (p->kind > 1) continue;
        e.delivered++;
        dv[e.d_n++] = p->final - p->created;
        if (p->kind == 0) pv[e.p_n++] = p->final - p->pickup;
        if (p->kind == 1) {
            e.on_n++, e.on_ok += !p->late;
            e.first_n++, e.first_ok += !p->second;
        }
    }
    stats(dv, e.d_n, &e.d_avg, &e.d_p50, &e.d_p90);
    stats(pv, e.p_n, &e.p_avg, &e.p_p50, &e.p_p90);
    stats(av, e.a_n, &e.a_avg, &e.a_p50, &e.a_p90);
    return e;
}

static void near_q(double got, double want, const char *what)
{
    bool ok = fabs(got - want) <= 0.026 * want + 1;
    if (!ok) printf("# %s: got %.0f, want %.0f (±2.6%%)\n", what, got, want);
    T_CHECK(ok);
}

static void check_summary(const cJSON *s, const expect_t *e)
{
    T_EQ_INT(dash_json_num(s, "kpi.created"), e->created);
    T_EQ_INT(dash_json_num(s, "kpi.delivered"), e->delivered);
    T_EQ_INT(dash_json_num(s, "kpi.cancelled"), e->cancelled);
    T_EQ_INT(dash_json_num(s, "kpi.returned"), e->returned);
    T_CHECK(fabs(dash_json_num(s, "kpi.delivery_time.avg_s") - e->d_avg) <= 1);
    near_q(dash_json_num(s, "kpi.delivery_time.p50_s"), e->d_p50, "delivery p50");
    near_q(dash_json_num(s, "kpi.delivery_time.p90_s"), e->d_p90, "delivery p90");
    T_CHECK(fabs(dash_json_num(s, "kpi.pickup_time.avg_s") - e->p_avg) <= 1);
    near_q(dash_json_num(s, "kpi.pickup_time.p50_s"), e->p_p50, "pickup p50");
    near_q(dash_json_num(s, "kpi.pickup_time.p90_s"), e->p_p90, "pickup p90");
    T_CHECK(fabs(dash_json_num(s, "kpi.processing_time.avg_s") - e->a_avg) <= 1);
    near_q(dash_json_num(s, "kpi.processing_time.p50_s"), e->a_p50, "processing p50");
    near_q(dash_json_num(s, "kpi.processing_time.p90_s"), e->a_p90, "processing p90");
    T_CHECK(fabs(dash_json_num(s, "kpi.on_time_rate") - (double)e->on_ok / e->on_n) < 1e-9);
    T_CHECK(fabs(dash_json_num(s, "kpi.first_attempt_rate") - (double)e->first_ok / e->first_n) < 1e-9);
    T_EQ_INT(dash_json_num(s, "kpi.notifications.telegram"), e->tg);
    T_EQ_INT(dash_json_num(s, "kpi.notifications.sms"), e->sms);
    T_EQ_INT(dash_json_num(s, "kpi.notifications.failed"), e->failed);
    T_EQ_INT(dash_json_num(s, "kpi.sms_count"), e->sms);
    T_EQ_INT(dash_json_num(s, "kpi.waiting.count"), e->waiting);
    double buckets = 0;
    for (int i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "kpi.waiting.buckets.%d.count", i);
        buckets += dash_json_num(s, path);
    }
    T_EQ_INT(buckets, e->waiting);
}

T_CASE_TAGGED(summary_matches_the_data_set, "db")
{
    load_once();
    dash_resp_t r = dash_http("GET", "/api/analytics/summary?from=2025-03-01&to=2025-03-10", NULL, g_tok, NULL);
    T_EQ_INT(r.status, 200);
    expect_t all = expect_for(0);
    T_CHECK(all.delivered > 50 && all.d_n > 50 && all.on_ok < all.on_n && all.first_ok < all.first_n);
    check_summary(r.json, &all);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "from")), "2025-03-01");
    /* the per-zone table adds up */
    int zsum = 0;
    const cJSON *z;
    cJSON_ArrayForEach(z, cJSON_GetObjectItem(r.json, "zones")) zsum += (int)dash_json_num(z, "created");
    T_EQ_INT(zsum, all.created);
    dash_resp_free(&r);
    for (int zone = 1; zone <= 3; zone++) {
        char path[128];
        snprintf(path, sizeof path, "/api/analytics/summary?from=2025-03-01&to=2025-03-10&zone=%d", zone);
        r = dash_http("GET", path, NULL, g_tok, NULL);
        expect_t e = expect_for(zone);
        check_summary(r.json, &e);
        T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "zones")), 1);
        dash_resp_free(&r);
    }
    /* a shorter period counts less: only 2025-03-01..03 */
    r = dash_http("GET", "/api/analytics/summary?from=2025-03-01&to=2025-03-03", NULL, g_tok, NULL);
    int first3 = 0;
    for (int i = 0; i < N; i++) first3 += g_plan[i].created < g_p0 + 3 * DAY;
    T_EQ_INT(dash_json_num(r.json, "kpi.created"), first3);
    dash_resp_free(&r);
}

T_CASE_TAGGED(series_by_day_and_hour, "db")
{
    load_once();
    dash_resp_t r = dash_http("GET", "/api/analytics/series?from=2025-03-01&to=2025-03-10", NULL, g_tok, NULL);
    T_EQ_INT(r.status, 200);
    const cJSON *pts = cJSON_GetObjectItem(r.json, "points");
    T_EQ_INT(cJSON_GetArraySize(pts), 10);
    for (int d = 0; d < 10; d++) {
        int want = 0;
        for (int i = 0; i < N; i++) want += g_plan[i].created >= g_p0 + d * DAY && g_plan[i].created < g_p0 + (d + 1) * DAY;
        const cJSON *p = cJSON_GetArrayItem(pts, d);
        char day[11];
        msk_date(g_p0 + d * DAY, day);
        T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "t")), day);
        T_EQ_INT(dash_json_num(p, "created"), want);
    }
    dash_resp_free(&r);
    r = dash_http("GET", "/api/analytics/series?from=2025-03-02&to=2025-03-02&group=hour&zone=2", NULL, g_tok, NULL);
    pts = cJSON_GetObjectItem(r.json, "points");
    T_EQ_INT(cJSON_GetArraySize(pts), 24);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 13), "t")), "2025-03-02T13:00");
    for (int h = 0; h < 24; h++) {
        int want = 0;
        int64_t a = g_p0 + DAY + h * 3600;
        for (int i = 0; i < N; i++) want += g_plan[i].zone == 2 && g_plan[i].created >= a && g_plan[i].created < a + 3600;
        T_EQ_INT(dash_json_num(cJSON_GetArrayItem(pts, h), "created"), want);
    }
    dash_resp_free(&r);
    r = dash_http("GET", "/api/analytics/series?from=2025-01-01&to=2025-03-10&group=hour", NULL, g_tok, NULL);
    T_EQ_INT(r.status, 400);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "field")), "group");
    dash_resp_free(&r);
}

T_CASE_TAGGED(rebuild_equals_incremental, "db")
{
    load_once();
    dash_resp_t a = dash_http("GET", "/api/analytics/summary?from=2025-03-01&to=2025-03-10&zone=1", NULL, g_tok, NULL);
    T_CHECK(dash_db_exec("SELECT dash_rebuild()") == 0);
    dash_resp_t b = dash_http("GET", "/api/analytics/summary?from=2025-03-01&to=2025-03-10&zone=1", NULL, g_tok, NULL);
    T_EQ_INT(b.status, 200);
    /* the waiting parcels' age moves with the clock; everything else is equal */
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(a.json, "kpi"), "waiting"), "age_avg_s");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(b.json, "kpi"), "waiting"), "age_avg_s");
    T_CHECK(cJSON_Compare(a.json, b.json, true));
    expect_t e = expect_for(1);
    check_summary(b.json, &e);
    dash_resp_free(&a);
    dash_resp_free(&b);
}

static long long money_sum(void)
{
    long long s = 0;
    for (int i = 0; i < N; i++) s += g_plan[i].kind == 1 ? g_plan[i].price : 0;
    return s;
}

T_CASE_TAGGED(csv_export, "db")
{
    load_once();
    dash_resp_t r = dash_http("GET", "/api/export/orders.csv?from=2025-03-01&to=2025-03-10", NULL, g_tok, NULL);
    T_EQ_INT(r.status, 200);
    char v[256];
    T_CHECK(dash_header(&r, "Content-Disposition", v, sizeof v) && strstr(v, "attachment") &&
            strstr(v, "orders_2025-03-01_2025-03-10.csv"));
    T_CHECK(dash_header(&r, "Content-Type", v, sizeof v) && strstr(v, "text/csv"));
    T_CHECK(r.len > 3 && memcmp(r.body, "\xEF\xBB\xBF", 3) == 0);
    dash_csv_t c;
    T_EQ_INT(dash_csv_parse(r.body + 3, r.len - 3, &c), 0);
    T_EQ_INT(c.nrows, N + 1);
    T_EQ_INT(c.ncols, 10);
    T_EQ_STR(c.cells[0][0], "Отправление");
    long long sum = 0;
    int seen_quoted = 0, seen_formula = 0;
    for (int row = 1; row < c.nrows; row++) {
        T_EQ_INT(c.rowlen[row], 10);
        if (c.cells[row][7][0]) {
            long long rub = 0, kop = 0;
            T_EQ_INT(sscanf(c.cells[row][7], "%lld.%lld", &rub, &kop), 2);
            sum += rub * 100 + kop;
        }
        seen_quoted += strcmp(c.cells[row][3], "Иван \"Ваня\", Петров") == 0;
        seen_formula += strcmp(c.cells[row][3], "'=1+2") == 0;
        if (strcmp(c.cells[row][0], "2025030100-0000-1") == 0) T_EQ_STR(c.cells[row][1], "Выдан");
    }
    T_EQ_INT(sum, money_sum());
    T_EQ_INT(seen_quoted, 1);
    T_EQ_INT(seen_formula, 1);   /* a spreadsheet formula stays text */
    dash_csv_free(&c);
    dash_resp_free(&r);
    r = dash_http("GET", "/api/export/orders.csv?from=2025-03-01&to=2025-03-10&zone=3", NULL, g_tok, NULL);
    T_EQ_INT(dash_csv_parse(r.body + 3, r.len - 3, &c), 0);
    T_EQ_INT(c.nrows - 1, expect_for(3).created);
    dash_csv_free(&c);
    dash_resp_free(&r);
}

/* Sum of the numbers of column `col` ("H") and the count of its cells. */
static double xml_col(const char *xml, const char *col, int *cells, const char **first_style)
{
    double s = 0;
    *cells = 0;
    char pat[16];
    snprintf(pat, sizeof pat, "<c r=\"%s", col);
    for (const char *p = strstr(xml, pat); p; p = strstr(p + 1, pat)) {
        const char *end = strstr(p, "</c>"), *vv = strstr(p, "<v>");
        if (!end || !vv || vv > end) continue;
        if (strstr(p, "t=\"") && strstr(p, "t=\"") < strchr(p, '>')) continue;   /* a string cell */
        if (!*first_style && strstr(p, " s=\"") && strstr(p, " s=\"") < strchr(p, '>')) *first_style = p;
        s += strtod(vv + 3, NULL);
        (*cells)++;
    }
    return s;
}

T_CASE_TAGGED(xlsx_export, "db")
{
    load_once();
    dash_resp_t r = dash_http("GET", "/api/export/orders.xlsx?from=2025-03-01&to=2025-03-10", NULL, g_tok, NULL);
    T_EQ_INT(r.status, 200);
    char path[] = "/tmp/dash-xlsx-XXXXXX";
    int fd = mkstemp(path);
    T_CHECK(fd >= 0 && write(fd, r.body, r.len) == (ssize_t)r.len);
    close(fd);
    dash_resp_free(&r);
    char *sheet = dash_unzip(path, "xl/worksheets/sheet1.xml");
    char *kpi = dash_unzip(path, "xl/worksheets/sheet2.xml");
    char *book = dash_unzip(path, "xl/workbook.xml");
    char *styles = dash_unzip(path, "xl/styles.xml");
    unlink(path);
    T_CHECK(sheet && kpi && book && styles);
    int rows = 0;
    for (const char *p = strstr(sheet, "<row "); p; p = strstr(p + 1, "<row ")) rows++;
    T_EQ_INT(rows, N + 1);
    T_CHECK(strstr(sheet, "state=\"frozen\"") != NULL);
    char af[64];
    snprintf(af, sizeof af, "<autoFilter ref=\"A1:J%d\"/>", N + 1);
    T_CHECK(strstr(sheet, af) != NULL);
    T_CHECK(strstr(book, "Заказы") && strstr(book, "Показатели"));
    /* money: numbers (not strings) in a rouble format, summing to the plan */
    int cells = 0;
    const char *styled = NULL;
    double money = xml_col(sheet, "H", &cells, &styled);
    int couriers = 0;
    for (int i = 0; i < N; i++) couriers += g_plan[i].kind == 1;
    T_EQ_INT(cells, couriers);
    T_CHECK(fabs(money * 100 - (double)money_sum()) < 0.5);
    T_CHECK(styled != NULL);
    T_CHECK(strstr(styles, "₽") != NULL);
    /* dates: numeric serials (days since 1899-12-30) of the Moscow time */
    styled = NULL;
    double serials = xml_col(sheet, "I", &cells, &styled);
    T_EQ_INT(cells, N);
    double want = 0;
    for (int i = 0; i < N; i++) want += (double)(g_plan[i].created + MSK) / DAY + 25569.0;
    T_CHECK(fabs(serials - want) < 1e-3);
    T_CHECK(strstr(styles, "dd.mm.yyyy hh:mm") != NULL);
    /* the sheet of KPIs carries the summary's numbers */
    char created[64];
    snprintf(created, sizeof created, "<v>%d</v>", expect_for(0).created);
    T_CHECK(strstr(kpi, created) != NULL);
    free(sheet), free(kpi), free(book), free(styles);
}

int main(void)
{
    e2e_init("dash_kpi", E2E_POLLING);
    const char *seed[] = {"seed", NULL};
    if (e2e_p7_run(seed, NULL, 0) != 0) printf("# plus7d seed failed\n");
    return e2e_finish(t_run_all());
}
