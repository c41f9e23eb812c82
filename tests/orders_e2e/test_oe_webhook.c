/* test_oe_webhook.c — the logistics webhook end to end: real plus7d, real
 * HTTP over loopback, real PostgreSQL (suite 'orders_e2e').
 *
 * Purpose: the contract of POST /api/logistics/events (DESIGN.md,
 * "Logistics webhook") as the company's logistics system meets it: a bad
 * or missing signature is 401 and stores nothing; malformed JSON is 400
 * naming "body"; an unknown status code, a malformed posting number or a
 * bad timestamp is 400 naming events[i].<field> and stores nothing of the
 * batch; a valid batch is 200 with one result per event; a repeated event
 * id is "duplicate" and applied once; a stale event is kept in the
 * history as not applied and leaves the status alone; an unknown posting is
 * created from its event; a batch of 1,000 events over 100 postings is
 * applied in `at` order per posting.
 *
 * Each case uses its own posting numbers (2000xxxx-....-1) and event id
 * prefix, so the cases share one database and one plus7d.
 * Tags: "e2e" on every case; "slow" on the 1,000-event batch.
 * Threads: main thread only.
 */
#include "t.h"

#include <time.h>

#include "e2e_harness.h"
#include "oe_util.h"

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

static int64_t t0;   /* a day ago: every event time is relative to it */

/* 400/401 answers: {"error": "...", "field": want_field}. */
static void expect_error(const oe_resp_t *r, long status, const char *want_field)
{
    T_EQ_INT(r->status, status);
    T_CHECK(r->json != NULL);
    const cJSON *e = cJSON_GetObjectItem(r->json, "error"), *f = cJSON_GetObjectItem(r->json, "field");
    T_CHECK(cJSON_IsString(e) && e->valuestring[0]);
    T_CHECK(cJSON_IsString(f));
    T_EQ_STR(f->valuestring, want_field);
}

static long long inbox_count(const char *like)
{
    return e2e_sql_int("SELECT count(*) FROM logistics_inbox WHERE event_id LIKE $1", like, NULL);
}

/* A valid event for another posting, sent and fully applied: after it, a
 * rejected request had every chance to have changed something. */
static void settle(const char *id, const char *posting)
{
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, id, posting, "created", t0, NULL, NULL);
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    oe_resp_free(&r);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "created", "SELECT status FROM orders WHERE posting_number = $1", posting, NULL));
}

/* ---- signature ------------------------------------------------------------------ */

T_CASE_TAGGED(signature_missing_or_bad_is_401, "e2e")
{
    T_START();
    const char *posting = "20000001-0001-1";
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, "sig-1", posting, "created", t0, NULL, NULL);
    const char *body = oe_batch_finish(&b);

    oe_resp_t r = oe_post(NULL, body);                              /* no header */
    expect_error(&r, 401, "X-Plus7-Signature");
    oe_resp_free(&r);

    char sig[80];
    oe_sign("another-secret", body, strlen(body), sig);             /* wrong key */
    r = oe_post(sig, body);
    expect_error(&r, 401, "X-Plus7-Signature");
    oe_resp_free(&r);

    oe_sign(OE_SECRET, body, strlen(body) - 1, sig);                /* not the whole body */
    r = oe_post(sig, body);
    expect_error(&r, 401, "X-Plus7-Signature");
    oe_resp_free(&r);

    oe_sign(OE_SECRET, body, strlen(body), sig);
    char bare[80];
    snprintf(bare, sizeof bare, "%s", sig + 7);                     /* hex without "sha256=" */
    r = oe_post(bare, body);
    expect_error(&r, 401, "X-Plus7-Signature");
    oe_resp_free(&r);
    sig[10] = sig[10] == 'a' ? 'b' : 'a';                           /* one hex digit off */
    r = oe_post(sig, body);
    expect_error(&r, 401, "X-Plus7-Signature");
    oe_resp_free(&r);
    r = oe_post("sha256=zz", body);                                 /* not hex */
    expect_error(&r, 401, "X-Plus7-Signature");
    oe_resp_free(&r);

    settle("sig-settle", "20000001-0002-1");
    T_EQ_INT(inbox_count("sig-1"), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = $1", posting, NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_history WHERE posting_number = $1", posting, NULL), 0);

    /* the same body with the right signature is taken */
    r = oe_post_signed(body);
    T_EQ_INT(r.status, 200);
    oe_resp_free(&r);
    oe_batch_free(&b);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "created", "SELECT status FROM orders WHERE posting_number = $1", posting, NULL));
}

/* ---- bad input -------------------------------------------------------------------- */

T_CASE_TAGGED(malformed_json_is_400_body, "e2e")
{
    T_START();
    const char *bodies[] = {
        "{\"events\":[{\"id\":\"mal-1\",\"posting_number\":\"20000002-0001-1\",\"status\":\"created\"",
        "not json at all",
        "[{\"id\":\"mal-2\"}]",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        oe_resp_t r = oe_post_signed(bodies[i]);
        printf("# body %zu -> %ld %s\n", i, r.status, r.body);
        expect_error(&r, 400, "body");
        oe_resp_free(&r);
    }
    /* a JSON object without a usable events array names "events" */
    const char *no_events[] = {"{}", "{\"events\":[]}", "{\"events\":{}}"};
    for (size_t i = 0; i < sizeof no_events / sizeof no_events[0]; i++) {
        oe_resp_t r = oe_post_signed(no_events[i]);
        expect_error(&r, 400, "events");
        oe_resp_free(&r);
    }
    settle("mal-settle", "20000002-0002-1");
    T_EQ_INT(inbox_count("mal-%"), 1);   /* the settle event only */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = '20000002-0001-1'", NULL), 0);
}

T_CASE_TAGGED(unknown_status_is_400_and_nothing_of_the_batch_stored, "e2e")
{
    T_START();
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, "ust-1", "20000003-0001-1", "created", t0, NULL, NULL);
    oe_batch_add(&b, "ust-2", "20000003-0002-1", "accepted", t0 + 60, NULL, NULL);
    oe_batch_add(&b, "ust-3", "20000003-0001-1", "lost_in_space", t0 + 120, NULL, NULL);
    oe_batch_add(&b, "ust-4", "20000003-0002-1", "in_transit", t0 + 180, NULL, NULL);
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    expect_error(&r, 400, "events[2].status");
    oe_resp_free(&r);
    oe_batch_free(&b);

    /* a status in another case or an Ozon status is not ours either */
    const char *wrong[] = {"Delivered", "delivering", ""};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        oe_batch_init(&b);
        oe_batch_add(&b, "ust-5", "20000003-0001-1", wrong[i], t0, NULL, NULL);
        r = oe_post_signed(oe_batch_finish(&b));
        expect_error(&r, 400, "events[0].status");
        oe_resp_free(&r);
        oe_batch_free(&b);
    }
    settle("ust-settle", "20000003-0003-1");
    T_EQ_INT(inbox_count("ust-_"), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number IN ('20000003-0001-1', '20000003-0002-1')",
                         NULL), 0);
}

T_CASE_TAGGED(bad_posting_or_time_is_400_naming_the_field, "e2e")
{
    T_START();
    struct {
        const char *posting, *at, *field;
    } bad[] = {
        {"1234-0001-1", NULL, "events[1].posting_number"},          /* too few digits */
        {"20000004-01-1", NULL, "events[1].posting_number"},
        {"20000004-0001-1 ", NULL, "events[1].posting_number"},
        {"20000004_0001_1", NULL, "events[1].posting_number"},
        {"20000004-0001-1", "yesterday", "events[1].at"},
        {"20000004-0001-1", "2026-13-01T10:00:00Z", "events[1].at"},
        {"20000004-0001-1", "2026-05-01 10:00:00", "events[1].at"},
        {"20000004-0001-1", "", "events[1].at"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"events\":[{\"id\":\"bpt-1\",\"posting_number\":\"20000004-0002-1\",\"status\":\"created\","
                 "\"at\":\"%s\"},{\"id\":\"bpt-2\",\"posting_number\":\"%s\",\"status\":\"accepted\",\"at\":\"%s\"}]}",
                 oe_rfc3339(t0), bad[i].posting, bad[i].at ? bad[i].at : oe_rfc3339(t0 + 60));
        oe_resp_t r = oe_post_signed(body);
        printf("# case %zu -> %ld %s\n", i, r.status, r.body);
        expect_error(&r, 400, bad[i].field);
        oe_resp_free(&r);
    }
    /* a missing field and a wrong type are named too */
    oe_resp_t r = oe_post_signed("{\"events\":[{\"id\":\"bpt-3\",\"status\":\"created\",\"at\":\"2026-05-01T10:00:00Z\"}]}");
    expect_error(&r, 400, "events[0].posting_number");
    oe_resp_free(&r);
    r = oe_post_signed("{\"events\":[{\"id\":\"bpt-4\",\"posting_number\":\"20000004-0003-1\",\"status\":\"created\","
                       "\"at\":1714557600}]}");
    expect_error(&r, 400, "events[0].at");
    oe_resp_free(&r);
    r = oe_post_signed("{\"events\":[{\"posting_number\":\"20000004-0003-1\",\"status\":\"created\","
                       "\"at\":\"2026-05-01T10:00:00Z\"}]}");
    expect_error(&r, 400, "events[0].id");
    oe_resp_free(&r);
    settle("bpt-settle", "20000004-0004-1");
    T_EQ_INT(inbox_count("bpt-_"), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number IN ('20000004-0002-1', '20000004-0003-1')",
                         NULL), 0);
}

/* ---- valid batches ------------------------------------------------------------------ */

T_CASE_TAGGED(valid_batch_is_200_with_per_event_results, "e2e")
{
    T_START();
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, "vb-1", "20000005-0001-1", "created", t0, NULL, NULL);
    oe_batch_add(&b, "vb-2", "20000005-0002-1", "accepted", t0 + 60, NULL, "склад Донецк");
    oe_batch_add(&b, "vb-3", "20000005-0001-1", "at_pickup_point", t0 + 120, "ПВЗ ул. Артёма, 120", NULL);
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    T_CHECK(r.json != NULL);
    const cJSON *res = cJSON_GetObjectItem(r.json, "results");
    T_EQ_INT(cJSON_GetArraySize(res), 3);
    const char *ids[] = {"vb-1", "vb-2", "vb-3"}, *postings[] = {"20000005-0001-1", "20000005-0002-1", "20000005-0001-1"};
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(res, i);
        T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "id")), ids[i]);
        T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "posting_number")), postings[i]);
        T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "result")), "accepted");
    }
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "accepted")), 3);
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "duplicates")), 0);
    oe_resp_free(&r);

    /* stored before the answer */
    T_EQ_INT(inbox_count("vb-_"), 3);
    T_EQ_STR(e2e_sqls("SELECT comment FROM logistics_inbox WHERE event_id = 'vb-2'", NULL), "склад Донецк");
    T_EQ_STR(e2e_sqls("SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM logistics_inbox"
                      " WHERE event_id = 'vb-3'", NULL), oe_rfc3339(t0 + 120));
    T_CHECK(oe_processed_until(OE_WAIT_S, "vb-"));
    T_EQ_STR(e2e_sqls("SELECT status FROM orders WHERE posting_number = '20000005-0001-1'", NULL), "at_pickup_point");
    T_EQ_STR(e2e_sqls("SELECT pickup_point FROM orders WHERE posting_number = '20000005-0001-1'", NULL),
             "ПВЗ ул. Артёма, 120");
    T_EQ_STR(e2e_sqls("SELECT status FROM orders WHERE posting_number = '20000005-0002-1'", NULL), "accepted");
    T_EQ_STR(e2e_sqls("SELECT status_source FROM orders WHERE posting_number = '20000005-0002-1'", NULL), "logistics");
    T_EQ_STR(e2e_sqls("SELECT string_agg(status || ':' || applied, ',' ORDER BY at, id) FROM order_history"
                      " WHERE posting_number = '20000005-0001-1'", NULL), "created:true,at_pickup_point:true");
    T_EQ_STR(e2e_sqls("SELECT comment FROM order_history WHERE event_id = 'vb-2'", NULL), "склад Донецк");
}

T_CASE_TAGGED(repeated_event_ids_are_duplicates_applied_once, "e2e")
{
    T_START();
    const char *p = "20000006-0001-1";
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, "dup-1", p, "created", t0, NULL, NULL);
    oe_batch_add(&b, "dup-2", p, "accepted", t0 + 60, NULL, NULL);
    const char *body = oe_batch_finish(&b);
    oe_resp_t r = oe_post_signed(body);
    T_EQ_INT(r.status, 200);
    oe_resp_free(&r);
    T_CHECK(oe_processed_until(OE_WAIT_S, "dup-"));

    /* the same request again (a retry after a lost answer) */
    r = oe_post_signed(body);
    T_EQ_INT(r.status, 200);
    const cJSON *res = cJSON_GetObjectItem(r.json, "results");
    T_EQ_INT(cJSON_GetArraySize(res), 2);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "result")), "duplicate");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 1), "result")), "duplicate");
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "accepted")), 0);
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "duplicates")), 2);
    oe_resp_free(&r);
    oe_batch_free(&b);

    /* an id repeated inside one batch, with a different content: the first wins */
    oe_batch_init(&b);
    oe_batch_add(&b, "dup-3", p, "in_transit", t0 + 120, NULL, NULL);
    oe_batch_add(&b, "dup-3", p, "delivered", t0 + 180, NULL, NULL);
    oe_batch_add(&b, "dup-1", p, "cancelled", t0 + 240, NULL, NULL);
    r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    res = cJSON_GetObjectItem(r.json, "results");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "result")), "accepted");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 1), "result")), "duplicate");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 2), "result")), "duplicate");
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "accepted")), 1);
    oe_resp_free(&r);
    T_CHECK(oe_processed_until(OE_WAIT_S, "dup-"));

    T_EQ_INT(inbox_count("dup-%"), 3);
    T_EQ_STR(e2e_sqls("SELECT status FROM logistics_inbox WHERE event_id = 'dup-3'", NULL), "in_transit");
    T_EQ_STR(e2e_sqls("SELECT status FROM orders WHERE posting_number = $1", p, NULL), "in_transit");
    T_EQ_STR(e2e_sqls("SELECT string_agg(event_id || ':' || status || ':' || applied, ',' ORDER BY at, id)"
                      "  FROM order_history WHERE posting_number = $1", p, NULL),
             "dup-1:created:true,dup-2:accepted:true,dup-3:in_transit:true");
}

T_CASE_TAGGED(stale_event_recorded_not_applied, "e2e")
{
    T_START();
    const char *p = "20000007-0001-1";
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, "stl-1", p, "in_transit", t0 + 7200, NULL, NULL);
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    oe_resp_free(&r);
    T_CHECK(oe_processed_until(OE_WAIT_S, "stl-"));
    const char *at_before = e2e_sqls("SELECT status_at::text FROM orders WHERE posting_number = $1", p, NULL);
    T_CHECK(at_before != NULL);
    char at_saved[64];
    snprintf(at_saved, sizeof at_saved, "%s", at_before ? at_before : "");

    /* an earlier status that arrives later, and the same status again */
    oe_batch_init(&b);
    oe_batch_add(&b, "stl-2", p, "accepted", t0 + 3600, NULL, "опоздавшее событие");
    oe_batch_add(&b, "stl-3", p, "in_transit", t0 + 9000, NULL, NULL);
    oe_batch_add(&b, "stl-4", p, "created", t0 + 9600, NULL, NULL);
    r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "accepted")), 3);
    oe_resp_free(&r);
    T_CHECK(oe_processed_until(OE_WAIT_S, "stl-"));

    T_EQ_STR(e2e_sqls("SELECT status FROM orders WHERE posting_number = $1", p, NULL), "in_transit");
    T_EQ_STR(e2e_sqls("SELECT status_at::text FROM orders WHERE posting_number = $1", p, NULL), at_saved);
    T_EQ_STR(e2e_sqls("SELECT string_agg(event_id || ':' || status || ':' || applied, ',' ORDER BY event_id)"
                      "  FROM order_history WHERE posting_number = $1", p, NULL),
             "stl-1:in_transit:true,stl-2:accepted:false,stl-3:in_transit:false,stl-4:created:false");
    T_EQ_STR(e2e_sqls("SELECT comment FROM order_history WHERE event_id = 'stl-2'", NULL), "опоздавшее событие");
    T_EQ_STR(e2e_sqls("SELECT result FROM logistics_inbox WHERE event_id = 'stl-2'", NULL), "stale");
    T_EQ_STR(e2e_sqls("SELECT result FROM logistics_inbox WHERE event_id = 'stl-3'", NULL), "repeated");
    T_EQ_STR(e2e_sqls("SELECT result FROM logistics_inbox WHERE event_id = 'stl-4'", NULL), "stale");

    /* a final status never moves back either */
    oe_batch_init(&b);
    oe_batch_add(&b, "stl-5", p, "delivered", t0 + 10800, NULL, NULL);
    oe_batch_add(&b, "stl-6", p, "cancelled", t0 + 11000, NULL, NULL);
    r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    oe_resp_free(&r);
    T_CHECK(oe_processed_until(OE_WAIT_S, "stl-"));
    T_EQ_STR(e2e_sqls("SELECT status FROM orders WHERE posting_number = $1", p, NULL), "delivered");
    T_EQ_STR(e2e_sqls("SELECT applied::text FROM order_history WHERE event_id = 'stl-6'", NULL), "false");
}

T_CASE_TAGGED(unknown_posting_created_from_its_event, "e2e")
{
    T_START();
    const char *p = "2000000812-0042-12";
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = $1", p, NULL), 0);
    oe_batch_t b;
    oe_batch_init(&b);
    oe_batch_add(&b, "unk-1", p, "in_transit", t0 + 300, NULL, "принят перевозчиком");
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    oe_resp_free(&r);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "in_transit|logistics",
                          "SELECT status || '|' || status_source FROM orders WHERE posting_number = $1", p, NULL));
    T_EQ_STR(e2e_sqls("SELECT to_char(status_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM orders"
                      " WHERE posting_number = $1", p, NULL), oe_rfc3339(t0 + 300));
    T_EQ_STR(e2e_sqls("SELECT string_agg(event_id || ':' || status || ':' || source || ':' || applied, ',')"
                      "  FROM order_history WHERE posting_number = $1", p, NULL), "unk-1:in_transit:logistics:true");
    T_EQ_STR(e2e_sqls("SELECT result FROM logistics_inbox WHERE event_id = 'unk-1'", NULL), "created");
}

/* ---- 1,000 events over 100 postings in one request ------------------------------------ */

/* The 10 events of posting k, in `at` order: what each is and whether it
 * moves the status (applied). Sent shuffled across the batch. */
static const struct {
    const char *status;
    bool applied;
} big_plan[10] = {
    {"created", true},         {"accepted", true},   {"accepted", false},       /* repeated */
    {"in_transit", true},      {"created", false},                              /* stale */
    {"at_pickup_point", true}, {"out_for_delivery", true}, {"in_transit", false}, /* stale */
    {"delivered", true},       {"delivered", false},  /* odd k: "returned", applied */
};

static void big_posting(int k, char *out, size_t n) { snprintf(out, n, "20000009-%04d-1", k + 1); }

T_CASE_TAGGED(batch_of_1000_events_over_100_postings, "e2e slow")
{
    T_START();
    enum { NP = 100, NE = 10 };
    int order[NP * NE];
    for (int i = 0; i < NP * NE; i++) order[i] = i;
    unsigned seed = 12345;
    for (int i = NP * NE - 1; i > 0; i--) {           /* a fixed shuffle */
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 8) % (unsigned)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    oe_batch_t b;
    oe_batch_init(&b);
    for (int i = 0; i < NP * NE; i++) {
        int k = order[i] / NE, e = order[i] % NE;
        char id[32], p[32];
        snprintf(id, sizeof id, "big-%03d-%d", k, e);
        big_posting(k, p, sizeof p);
        const char *st = e == 9 && (k & 1) ? "returned" : big_plan[e].status;
        oe_batch_add(&b, id, p, st, t0 + k + e * 600, e == 5 ? "ПВЗ Донецк, ул. Университетская, 1" : NULL, NULL);
    }
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    oe_batch_free(&b);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "accepted")), NP * NE);
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "results")), NP * NE);
    oe_resp_free(&r);
    T_EQ_INT(inbox_count("big-%"), NP * NE);
    T_CHECK(oe_processed_until(OE_WAIT_S * 2, "big-"));

    /* final statuses */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '20000009-%' AND status = 'delivered'",
                         NULL), NP / 2);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '20000009-%' AND status = 'returned'",
                         NULL), NP / 2);
    /* a complete history: every event once, applied exactly per plan */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_history WHERE event_id LIKE 'big-%'", NULL), NP * NE);
    T_EQ_INT(e2e_sql_int("SELECT count(DISTINCT event_id) FROM order_history WHERE event_id LIKE 'big-%'", NULL),
             NP * NE);
    long long want_applied = 0;
    for (int e = 0; e < NE; e++) want_applied += big_plan[e].applied ? NP : 0;
    want_applied += NP / 2;   /* "returned" of the odd postings */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_history WHERE event_id LIKE 'big-%' AND applied", NULL),
             want_applied);
    for (int k = 0; k < NP; k++) {
        char p[32], want[512];
        big_posting(k, p, sizeof p);
        size_t n = 0;
        for (int e = 0; e < NE; e++) {
            bool applied = big_plan[e].applied || (e == 9 && (k & 1));
            const char *st = e == 9 && (k & 1) ? "returned" : big_plan[e].status;
            n += (size_t)snprintf(want + n, sizeof want - n, "%s%d:%s:%c", e ? "," : "", e, st, applied ? 't' : 'f');
        }
        /* applied in `at` order: the applied rows' statuses strictly increase */
        const char *got = e2e_sqls("SELECT string_agg(split_part(event_id, '-', 3) || ':' || status || ':' ||"
                                   "                  left(applied::text, 1), ',' ORDER BY at, id)"
                                   "  FROM order_history WHERE posting_number = $1", p, NULL);
        if (!got || strcmp(got, want) != 0) {
            printf("# posting %s: history %s, expected %s\n", p, got ? got : "(none)", want);
            T_FAIL("history differs");
        }
    }
    /* the recorded order of application (ids grow) follows `at` */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM (SELECT id, at, lag(at) OVER (PARTITION BY posting_number ORDER BY id) AS"
                         " prev FROM order_history WHERE event_id LIKE 'big-%') x WHERE prev > at", NULL), 0);
    /* pickup reminders set on arrival were cancelled by the delivery */
    T_CHECK(e2e_sql_until(OE_WAIT_S, "0",
                          "SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key LIKE '20000009-%'", NULL));
}

int main(void)
{
    t0 = (int64_t)time(NULL) - 86400;
    int rc = oe_init("oe_webhook");
    if (rc == 0) rc = e2e_p7_start();
    int failed = t_run_all();
    return e2e_finish(failed);
}
