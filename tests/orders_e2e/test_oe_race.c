/* test_oe_race.c — statuses never race (issue 7, item 5): Ozon answers and
 * logistics events for the same postings at the same time, end to end
 * through the real plus7d, extsim (Ozon Seller API) and PostgreSQL.
 *
 * Purpose: NP postings the company delivers itself (non_integrated) are
 * seeded in extsim with their owners' phones; plus7d imports them every
 * second (each import lists every posting changed in the last minutes, so
 * Ozon's data reaches each order actor again and again). While that runs,
 * logistics events take every posting through accepted, in_transit,
 * at_pickup_point and out_for_delivery, and Ozon itself moves them to
 * delivering (ours: in_transit) at the same moment; then, still under the
 * imports, every posting is delivered. Afterwards:
 *   - every order is delivered and its applied history never went
 *     backwards (order_status_rank strictly increasing in applied order);
 *   - every applied status gave its owner exactly one notification, sent;
 *   - the pickup reminders set on arrival were cancelled when the parcel
 *     left the pickup point (no runtime_reminders row remains);
 *   - Ozon was told of every delivery exactly once
 *     (/v2/fbs/posting/delivered per posting) and holds it as delivered.
 * Before the fix the Ozon path's transaction overwrote the logistics
 * path's bookkeeping (lost kicks, reminders and pushes) and its unguarded
 * upsert could move a status back.
 *
 * Exports: main (TAP). Tags: "e2e slow". Threads: main thread and one
 * helper thread that posts the logistics events (joined by the case).
 */
#include "t.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e_harness.h"
#include "oe_owner.h"
#include "oe_util.h"

#define NP 24
#define CHAT0 74200LL
#define OZ_CLIENT_ID "123456"   /* extsim's default credentials (docs/extsim.md) */
#define OZ_API_KEY "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static char g_post[NP][24];
static int64_t g_t0;

static const char *const STEPS[] = {"accepted", "in_transit", "at_pickup_point", "out_for_delivery"};
#define NSTEPS 4

static long xs_status(const char *method, const char *path, const char *body)
{
    long st = 0;
    cJSON_Delete(body ? e2e_xs(method, path, &st, "%s", body) : e2e_xs(method, path, &st, NULL));
    if (st != 200) printf("# extsim %s %s: HTTP %ld\n", method, path, st);
    return st;
}

/* Logistics events: each step for every posting in turn, one POST each. */
static void *race_events(void *arg)
{
    long *failures = arg;
    for (int s = 0; s < NSTEPS; s++)
        for (int i = 0; i < NP; i++) {
            char id[48];
            snprintf(id, sizeof id, "race-%d-%d", i, s);
            if (oe_event_to(id, g_post[i], STEPS[s], g_t0 + 60 * (s + 1), s == 2 ? "ПВЗ Херсон" : NULL, NULL) != 200)
                (*failures)++;
        }
    return NULL;
}

T_CASE_TAGGED(ozon_and_logistics_at_once_lose_nothing_and_never_go_back, "e2e slow")
{
    T_CHECK(e2e_p7_ensure() == 0);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "24", "SELECT count(*) FROM orders WHERE posting_number LIKE '42000%'", NULL));
    /* both paths at once: the events in a helper thread, Ozon's own moves here */
    long failures = 0;
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, race_events, &failures), 0);
    for (int i = 0; i < NP; i++) {
        char path[96];
        snprintf(path, sizeof path, "/control/ozon/postings/%s/status", g_post[i]);
        xs_status("POST", path, "{\"status\":\"delivering\"}");
    }
    pthread_join(th, NULL);
    T_EQ_INT(failures, 0);
    T_CHECK(oe_processed_until(OE_WAIT_S, "race-"));
    /* Ozon's delivering (or the driver_pickup our last-mile push made) has reached every order */
    T_CHECK(e2e_sql_until(OE_WAIT_S, "24", "SELECT count(*) FROM orders WHERE posting_number LIKE '42000%'"
                                           " AND ozon_status IN ('delivering', 'driver_pickup')", NULL));
    /* every delivery, still under the imports */
    for (int i = 0; i < NP; i++) {
        char id[48];
        snprintf(id, sizeof id, "race-%d-d", i);
        T_EQ_INT(oe_event_to(id, g_post[i], "delivered", g_t0 + 600, NULL, NULL), 200);
    }
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
    /* one notification per applied status, to the owner, all sent */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM (SELECT h.posting_number, h.status FROM order_history h"
                         "  WHERE h.applied AND h.posting_number LIKE '42000%') a"
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
