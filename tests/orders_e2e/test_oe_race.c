/* test_oe_race.c — statuses never race (issue 7, item 5): Ozon answers and
 * logistics events for the same postings at the same time, end to end
 * through the real plus7d, extsim (Ozon Seller API) and PostgreSQL.
 *
 * Purpose: NP postings the company delivers itself (non_integrated) are
 * seeded in extsim with their owners' phones; plus7d imports them every
 * second (each import lists every posting changed in the last minutes, so
 * Ozon's data reaches each order actor again and again). Logistics events
 * take every posting to accepted. Then the test forces the two paths to
 * overlap: it holds the postings' orders rows locked (FOR UPDATE, on its
 * own connection), posts at_pickup_point for all — the order actors'
 * transactions wait on the lock (seen in pg_stat_activity) — and moves
 * them in Ozon to delivering (ours: in_transit); once an import has handed
 * those answers to the actors it lets the lock go. Then out_for_delivery
 * and delivered, still under the imports. Afterwards:
 *   - every order is delivered and its applied history never went
 *     backwards (order_status_rank strictly increasing in applied order);
 *   - every applied status gave its owner exactly one notification, sent;
 *   - the pickup reminders set on arrival were cancelled when the parcel
 *     left the pickup point (no runtime_reminders row remains);
 *   - Ozon was told of every delivery exactly once
 *     (/v2/fbs/posting/delivered per posting) and holds it as delivered.
 * Before the fix the Ozon answer, handled while the logistics transaction
 * was in flight, overwrote its bookkeeping (the arrival's reminders and
 * kick were lost) and its unguarded upsert moved the status back from
 * at_pickup_point to in_transit; and an Ozon-imported order's first
 * notification missed its owner (the phones were stored after it).
 *
 * Exports: main (TAP). Tags: "e2e slow". Threads: main thread only.
 */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "e2e_harness.h"
#include "oe_owner.h"
#include "oe_util.h"
#include "tgsim_harness.h"

#define NP 24
#define CHAT0 74200LL
#define OZ_CLIENT_ID "123456"   /* extsim's default credentials (docs/extsim.md) */
#define OZ_API_KEY "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static char g_post[NP][24];
static int64_t g_t0;

static long xs_status(const char *method, const char *path, const char *body)
{
    long st = 0;
    cJSON_Delete(body ? e2e_xs(method, path, &st, "%s", body) : e2e_xs(method, path, &st, NULL));
    if (st != 200) printf("# extsim %s %s: HTTP %ld\n", method, path, st);
    return st;
}

/* One event of `step` for every posting; the number that failed. */
static int race_step(const char *step, int64_t at, const char *pickup)
{
    int failures = 0;
    for (int i = 0; i < NP; i++) {
        char id[48];
        snprintf(id, sizeof id, "race-%d-%s", i, step);
        failures += oe_event_to(id, g_post[i], step, at, pickup, NULL) != 200;
    }
    return failures;
}

/* plus7d's /metrics value of `name` (a counter without labels), -1 if none. */
static long long race_metric(const char *name)
{
    char url[256], needle[128];
    snprintf(url, sizeof url, "%s/metrics", e2e_p7_base());
    snprintf(needle, sizeof needle, "\n%s ", name);
    tgh_resp_t r;
    tgh_http("GET", url, NULL, NULL, 0, &r);
    const char *at = r.body ? strstr(r.body, needle) : NULL;
    long long v = at ? atoll(at + strlen(needle)) : -1;
    tgh_resp_free(&r);
    return v;
}

/* A connection of its own holding the postings' orders rows locked, or NULL. */
static PGconn *race_lock(void)
{
    char ci[2048];
    const char *db = e2e_sqls("SELECT current_database()", NULL);
    snprintf(ci, sizeof ci, "%s dbname=%s", getenv("PLUS7_DB") ? getenv("PLUS7_DB") : "", db ? db : "");
    PGconn *c = PQconnectdb(ci);
    const char *steps[] = {"BEGIN", "SELECT 1 FROM orders WHERE posting_number LIKE '42000%' FOR UPDATE"};
    for (int i = 0; i < 2 && PQstatus(c) == CONNECTION_OK; i++) {
        PGresult *r = PQexec(c, steps[i]);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) printf("# lock: %s", PQerrorMessage(c));
        PQclear(r);
        if (!ok) break;
    }
    if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_INTRANS) {
        printf("# lock: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

T_CASE_TAGGED(ozon_and_logistics_at_once_lose_nothing_and_never_go_back, "e2e slow")
{
    T_CHECK(e2e_p7_ensure() == 0);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "24", "SELECT count(*) FROM orders WHERE posting_number LIKE '42000%'", NULL));
    T_EQ_INT(race_step("accepted", g_t0 + 60, NULL), 0);
    T_CHECK(oe_processed_until(OE_WAIT_S, "race-"));

    /* the overlap, forced: the arrivals wait on the lock while Ozon's answers come */
    PGconn *lock = race_lock();
    T_CHECK(lock != NULL);
    T_EQ_INT(race_step("at_pickup_point", g_t0 + 120, "ПВЗ Херсон"), 0);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "t", "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database()"
                                         " AND wait_event_type = 'Lock'", NULL));
    long long imported = race_metric("plus7_ozon_imported_postings_total");
    for (int i = 0; i < NP; i++) {
        char path[96];
        snprintf(path, sizeof path, "/control/ozon/postings/%s/status", g_post[i]);
        T_EQ_INT(xs_status("POST", path, "{\"status\":\"delivering\"}"), 200);
    }
    /* two more imports: the second began after the moves, so it handed them to the actors */
    bool handed = false;
    for (int k = 0; k < 600 && !handed; k++) {
        handed = race_metric("plus7_ozon_imported_postings_total") >= imported + 2 * NP;
        if (!handed) e2e_sleep_ms(100);
    }
    T_CHECK(handed);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '42000%' AND status = 'accepted'", NULL),
             NP);   /* nothing got through the lock */
    if (lock) {
        PQclear(PQexec(lock, "COMMIT"));
        PQfinish(lock);
    }
    T_CHECK(oe_processed_until(OE_WAIT_S, "race-"));
    T_CHECK(e2e_sql_until(OE_WAIT_S, "24", "SELECT count(*) FROM orders WHERE posting_number LIKE '42000%'"
                                           " AND ozon_status = 'delivering'", NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '42000%'"
                         " AND status = 'at_pickup_point'", NULL), NP);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "48", "SELECT count(*) FROM runtime_reminders WHERE kind = 'order'"
                                           " AND key LIKE '42000%'", NULL));   /* days 3 and 6 of each arrival */

    /* the rest of the way, still under the imports */
    T_EQ_INT(race_step("out_for_delivery", g_t0 + 180, NULL), 0);
    T_EQ_INT(race_step("delivered", g_t0 + 600, NULL), 0);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "24", "SELECT count(*) FROM orders WHERE posting_number LIKE '42000%'"
                                           " AND status = 'delivered'", NULL));
    printf("# applied: %s\n", e2e_sqls("SELECT string_agg(source || ' ' || c, ', ') FROM (SELECT source, count(*) c"
                                       " FROM order_history WHERE applied AND posting_number LIKE '42000%'"
                                       " GROUP BY source) x", NULL));

    /* never backwards */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM (SELECT order_status_rank(status) AS r,"
                         "       lag(order_status_rank(status)) OVER (PARTITION BY posting_number ORDER BY id) AS pr"
                         "  FROM order_history WHERE applied AND posting_number LIKE '42000%') x WHERE r <= pr", NULL),
             0);
    /* one notification per applied change (the import's first sight of a
     * posting is where it starts, not news), to the owner, all sent */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM (SELECT h.posting_number, h.status FROM order_history h"
                         "  WHERE h.applied AND h.posting_number LIKE '42000%' AND h.status <> 'created') a"
                         " WHERE (SELECT count(*) FROM notify_outbox n WHERE n.posting_number = a.posting_number"
                         "          AND n.event = a.status AND n.channel = 'telegram' AND n.audience = 'owner') <> 1",
                         NULL), 0);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "0", "SELECT count(*) FROM notify_outbox WHERE posting_number LIKE '42000%'"
                                          " AND channel = 'telegram' AND status <> 'sent'", NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number LIKE '42000%'"
                         " AND event = 'delivered'", NULL), NP);
    /* the reminders of the arrival went with the departure */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key LIKE '42000%'", NULL), 0);
    /* Ozon heard of every delivery exactly once */
    long st = 0;
    cJSON *j = e2e_xs("GET", "/control/requests?path=/v2/fbs/posting/delivered&limit=0", &st, NULL);
    int pushes[NP] = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "requests")) {
        const cJSON *pn;
        cJSON_ArrayForEach(pn, cJSON_GetObjectItem(cJSON_GetObjectItem(e, "json"), "posting_number"))
            for (int i = 0; i < NP; i++)
                if (cJSON_IsString(pn) && strcmp(pn->valuestring, g_post[i]) == 0) pushes[i]++;
    }
    cJSON_Delete(j);
    for (int i = 0; i < NP; i++) {
        if (pushes[i] != 1) printf("# %s: %d delivered pushes\n", g_post[i], pushes[i]);
        T_EQ_INT(pushes[i], 1);
    }
    j = e2e_xs("GET", "/control/ozon/postings?status=delivered", &st, NULL);
    int delivered = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "postings")) {
        const cJSON *pn = cJSON_GetObjectItem(e, "posting_number");
        delivered += cJSON_IsString(pn) && strncmp(pn->valuestring, "42000", 5) == 0;
    }
    cJSON_Delete(j);
    T_EQ_INT(delivered, NP);
}

/* Seed the postings in extsim and register their owners. 0 or -1. */
static int race_seed(void)
{
    char buf[16384];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{\"postings\":[");
    for (int i = 0; i < NP; i++) {
        char phone[24];
        snprintf(g_post[i], sizeof g_post[i], "42000%03d-0001-1", i);
        oe_owner_phone(CHAT0 + i, phone);
        if (oe_owner(CHAT0 + i, "Владелец") != 0) return -1;
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "%s{\"posting_number\":\"%s\",\"status\":\"awaiting_deliver\","
                              "\"tpl_integration_type\":\"non_integrated\","
                              "\"customer\":{\"name\":\"Владелец\",\"phone\":\"%s\",\"city\":\"Херсон\","
                              "\"address\":\"ул. Суворова, 1\"}}",
                              i ? "," : "", g_post[i], phone);
    }
    snprintf(buf + n, sizeof buf - n, "]}");
    return xs_status("POST", "/control/ozon/postings", buf) == 200 ? 0 : -1;
}

int main(void)
{
    int rc = oe_init("oe_race");
    g_t0 = (int64_t)time(NULL) - 3600;
    if (rc == 0 && e2e_xs_start(0) == 0 && race_seed() == 0) {
        e2e_p7_setenv("PLUS7_OZON_API", e2e_xs_base());
        e2e_p7_setenv("PLUS7_OZON_CLIENT_ID", OZ_CLIENT_ID);
        e2e_p7_setenv("PLUS7_OZON_API_KEY", OZ_API_KEY);
        e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "1");
        e2e_p7_setenv("PLUS7_OZON_RPS", "50");
        e2e_p7_setenv("PLUS7_NOTIFY_HOURS", "0-24");
        e2e_p7_start();
    } else {
        printf("# setting up extsim failed\n");
    }
    return e2e_finish(t_run_all());
}
