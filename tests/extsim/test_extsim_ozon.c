/* test_extsim_ozon.c — black-box tests of extsim's Ozon Seller API
 * emulator over real HTTP: authentication errors, the posting shape, v3
 * offset and v4 cursor paging, the rFBS status machine and its refusals,
 * the rate limit, the legacy error envelope, fault and latency injection,
 * returns, and a clean SIGTERM exit.
 *
 * Exports: main (TAP). Threads: main only.
 */
#include "t.h"
#include "xs_harness.h"

#include <math.h>
#include <time.h>

static xs_server_t srv;

/* The running extsim (started on first use with --seed-demo), reset to its
 * start-up state. */
static const xs_server_t *fresh(void)
{
    static const char *const args[] = {"--seed-demo", NULL};
    if (!srv.pid) T_CHECK(xs_start(&srv, args) == 0);
    xs_resp_t r;
    T_CHECK(xs_ctl(&srv, "POST", "/control/reset", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    return &srv;
}

/* Reset to an empty Ozon (no demo postings). */
static const xs_server_t *empty(void)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/reset", "{\"seed_demo\":false}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(xs_num(r.json, "postings"), 0);
    xs_resp_free(&r);
    return s;
}

static void seed(const xs_server_t *s, const char *json)
{
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings", json, &r) == 0);
    if (r.status != 200) printf("# seed failed: %s\n", r.body);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
}

static void get_posting(const xs_server_t *s, const char *number, xs_resp_t *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"posting_number\":\"%s\"}", number);
    T_CHECK(xs_ozon(s, "/v3/posting/fbs/get", body, r) == 0);
}

static int has_str(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it) && !strcmp(it->valuestring, s)) return 1;
    return 0;
}

static const char *const rfbs_one =
    "{\"posting_number\":\"55550001-0001-1\",\"status\":\"awaiting_deliver\","
    "\"tpl_integration_type\":\"non_integrated\","
    "\"customer\":{\"name\":\"Тестова Анна Петровна\",\"phone\":\"+79490000001\","
    "\"address\":\"ул. Университетская, д. 24, кв. 5\",\"city\":\"Донецк\",\"region\":\"Донецкая Народная Республика\"},"
    "\"products\":[{\"name\":\"Книга\",\"weight\":450,\"price\":590}]}";

T_CASE(auth_missing_headers_401)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_http(s, "POST", "/v3/posting/fbs/get", NULL, "{\"posting_number\":\"12345678-0001-1\"}", &r) == 0);
    T_EQ_INT(r.status, 401);
    T_EQ_INT(xs_num(r.json, "code"), 16);
    T_EQ_STR(xs_str(r.json, "message"), "Client-Id and Api-Key headers are required");
    T_CHECK(cJSON_IsArray(xs_get(r.json, "details")));
    xs_resp_free(&r);
    const char *only_client[] = {"Client-Id: " XS_OZON_CLIENT_ID, NULL};
    T_CHECK(xs_http(s, "POST", "/v3/posting/fbs/get", only_client, "{}", &r) == 0);
    T_EQ_INT(r.status, 401);
    xs_resp_free(&r);
}

T_CASE(auth_wrong_key_403)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    const char *bad_key[] = {"Client-Id: " XS_OZON_CLIENT_ID, "Api-Key: wrong", NULL};
    T_CHECK(xs_http(s, "POST", "/v3/posting/fbs/get", bad_key, "{\"posting_number\":\"12345678-0001-1\"}", &r) == 0);
    T_EQ_INT(r.status, 403);
    T_EQ_INT(xs_num(r.json, "code"), 7);
    T_EQ_STR(xs_str(r.json, "message"), "Invalid Api-Key, please contact support");
    xs_resp_free(&r);
    const char *bad_client[] = {"Client-Id: 999", "Api-Key: " XS_OZON_API_KEY, NULL};
    T_CHECK(xs_http(s, "POST", "/v3/posting/fbs/get", bad_client, "{}", &r) == 0);
    T_EQ_INT(r.status, 403);
    T_EQ_INT(xs_num(r.json, "code"), 7);
    xs_resp_free(&r);
}

T_CASE(every_method_is_post)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    const char *h[] = {"Client-Id: " XS_OZON_CLIENT_ID, "Api-Key: " XS_OZON_API_KEY, NULL};
    T_CHECK(xs_http(s, "GET", "/v3/posting/fbs/get", h, NULL, &r) == 0);
    T_EQ_INT(r.status, 405);
    T_EQ_INT(xs_num(r.json, "code"), 12);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v9/no/such/method", "{}", &r) == 0);
    T_EQ_INT(r.status, 404);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v3/posting/fbs/get", "{not json", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_EQ_INT(xs_num(r.json, "code"), 3);
    xs_resp_free(&r);
}

T_CASE(posting_get_shape)
{
    const xs_server_t *s = empty();
    seed(s, rfbs_one);
    xs_resp_t r;
    get_posting(s, "55550001-0001-1", &r);
    T_EQ_INT(r.status, 200);
    const cJSON *p = xs_get(r.json, "result");
    T_CHECK(cJSON_IsObject(p));
    T_EQ_STR(xs_str(p, "posting_number"), "55550001-0001-1");
    T_EQ_STR(xs_str(p, "order_number"), "55550001-0001");
    T_CHECK(cJSON_IsNumber(xs_get(p, "order_id")));
    T_EQ_STR(xs_str(p, "status"), "awaiting_deliver");
    T_EQ_STR(xs_str(p, "substatus"), "posting_transferring_to_delivery");
    T_EQ_STR(xs_str(p, "previous_substatus"), "");
    T_EQ_STR(xs_str(p, "tpl_integration_type"), "non_integrated");
    const cJSON *acts = xs_get(p, "available_actions");
    T_CHECK(has_str(acts, "non_int_delivering"));
    T_CHECK(has_str(acts, "customer_phone_available"));
    T_CHECK(!has_str(acts, "non_int_delivered"));
    T_EQ_STR(xs_str(p, "customer.phone"), "+79490000001");
    T_EQ_STR(xs_str(p, "customer.name"), "Тестова Анна Петровна");
    T_EQ_STR(xs_str(p, "customer.address.address_tail"), "ул. Университетская, д. 24, кв. 5");
    T_EQ_STR(xs_str(p, "customer.address.city"), "Донецк");
    T_CHECK(cJSON_IsNumber(xs_get(p, "customer.address.latitude")));
    T_EQ_STR(xs_str(p, "addressee.name"), "Тестова Анна Петровна");
    T_EQ_STR(xs_str(p, "addressee.phone"), "+79490000001");
    T_EQ_STR(xs_str(p, "products.0.price"), "590.0000");
    T_EQ_STR(xs_str(p, "products.0.dimensions.weight"), "450");
    T_CHECK(xs_str(p, "products.0.dimensions.height") != NULL);
    T_EQ_STR(xs_str(p, "products.0.currency_code"), "RUB");
    T_CHECK(cJSON_IsNumber(xs_get(p, "products.0.sku")));
    T_CHECK(cJSON_IsNumber(xs_get(p, "delivery_method.id")));
    T_CHECK(cJSON_IsNumber(xs_get(p, "delivery_method.warehouse_id")));
    T_CHECK(xs_str(p, "in_process_at") != NULL);
    T_CHECK(cJSON_IsObject(xs_get(p, "cancellation")));
    T_CHECK(cJSON_IsNull(xs_get(p, "analytics_data")));
    T_CHECK(cJSON_IsNull(xs_get(p, "delivering_date")));
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v3/posting/fbs/get",
                    "{\"posting_number\":\"55550001-0001-1\",\"with\":{\"analytics_data\":true,\"financial_data\":true}}",
                    &r) == 0);
    T_EQ_STR(xs_str(r.json, "result.analytics_data.city"), "Донецк");
    T_CHECK(cJSON_IsArray(xs_get(r.json, "result.financial_data.products")));
    xs_resp_free(&r);
}

T_CASE(posting_get_demo_data)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    get_posting(s, "12345678-0001-1", &r);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "result.customer.address.city"), "Донецк");
    T_EQ_STR(xs_str(r.json, "result.customer.phone"), "+79491234501");
    T_EQ_STR(xs_str(r.json, "result.status"), "awaiting_deliver");
    xs_resp_free(&r);
    get_posting(s, "12345678-0005-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "delivered");
    T_EQ_STR(xs_str(r.json, "result.customer.address.city"), "Мелитополь");
    T_CHECK(xs_str(r.json, "result.fact_delivery_date") != NULL);
    xs_resp_free(&r);
    get_posting(s, "12345678-0007-1", &r); /* FBS: Ozon delivers, no customer data */
    T_EQ_STR(xs_str(r.json, "result.tpl_integration_type"), "ozon");
    T_CHECK(cJSON_IsNull(xs_get(r.json, "result.customer")));
    T_CHECK(cJSON_IsNull(xs_get(r.json, "result.addressee")));
    xs_resp_free(&r);
    static const char *const cities[][2] = {{"12345678-0002-1", "Макеевка"}, {"12345678-0003-1", "Луганск"},
                                            {"12345678-0004-1", "Мариуполь"}};
    for (int i = 0; i < 3; i++) {
        get_posting(s, cities[i][0], &r);
        T_EQ_STR(xs_str(r.json, "result.customer.address.city"), cities[i][1]);
        xs_resp_free(&r);
    }
}

T_CASE(posting_get_unknown_404)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    get_posting(s, "99999999-9999-9", &r);
    T_EQ_INT(r.status, 404);
    T_EQ_INT(xs_num(r.json, "code"), 5);
    T_EQ_STR(xs_str(r.json, "message"), "POSTING_NOT_FOUND");
    T_CHECK(cJSON_IsArray(xs_get(r.json, "details")));
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v3/posting/fbs/get", "{}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_EQ_INT(xs_num(r.json, "code"), 3);
    xs_resp_free(&r);
}

T_CASE(legacy_envelope_switch)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/config", "{\"legacy_errors\":true}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "legacy_errors")));
    xs_resp_free(&r);
    get_posting(s, "99999999-9999-9", &r);
    T_EQ_INT(r.status, 404);
    T_EQ_STR(xs_str(r.json, "error.code"), "NOT_FOUND_ERROR");
    T_EQ_STR(xs_str(r.json, "error.message"), "POSTING_NOT_FOUND");
    T_CHECK(cJSON_IsArray(xs_get(r.json, "error.data")));
    T_CHECK(xs_get(r.json, "code") == NULL);
    xs_resp_free(&r);
    /* and back */
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/config", "{\"legacy_errors\":false}", &r) == 0);
    xs_resp_free(&r);
    get_posting(s, "99999999-9999-9", &r);
    T_EQ_INT(xs_num(r.json, "code"), 5);
    xs_resp_free(&r);
}

/* Seven awaiting_deliver postings an hour apart plus one cancelled. */
static void seed_eight(const xs_server_t *s)
{
    char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof buf, "[");
    for (int i = 1; i <= 8; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "%s{\"posting_number\":\"7777000%d-0001-1\",\"status\":\"%s\","
                              "\"in_process_at\":\"2026-05-01T%02d:00:00Z\"}",
                              i > 1 ? "," : "", i, i == 5 ? "cancelled" : "awaiting_deliver", i);
    snprintf(buf + n, sizeof buf - n, "]");
    seed(s, buf);
}

T_CASE(v4_list_cursor_paging)
{
    const xs_server_t *s = empty();
    seed_eight(s);
    char seen[16][32];
    int nseen = 0, pages = 0;
    char cursor[256] = "";
    for (;;) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"limit\":3,\"cursor\":\"%s\",\"sort_dir\":\"asc\","
                 "\"filter\":{\"statuses\":[\"awaiting_deliver\"],\"since\":\"2026-05-01T00:00:00Z\","
                 "\"to\":\"2026-05-02T00:00:00Z\"}}",
                 cursor);
        xs_resp_t r;
        T_CHECK(xs_ozon(s, "/v4/posting/fbs/list", body, &r) == 0);
        T_EQ_INT(r.status, 200);
        T_CHECK(xs_get(r.json, "result") == NULL);           /* top level, no wrapper */
        T_CHECK(cJSON_IsString(xs_get(r.json, "cursor")));
        T_CHECK(cJSON_IsBool(xs_get(r.json, "has_next")));
        const cJSON *ps = xs_get(r.json, "postings"), *p;
        T_CHECK(cJSON_IsArray(ps));
        pages++;
        T_EQ_INT(cJSON_GetArraySize(ps), pages < 3 ? 3 : 1);
        cJSON_ArrayForEach(p, ps) {
            T_CHECK(nseen < 16);
            snprintf(seen[nseen++], sizeof seen[0], "%s", xs_str(p, "posting_number"));
            T_EQ_STR(xs_str(p, "products.0.price.currency"), "RUB");
            T_CHECK(xs_str(p, "products.0.price.amount") != NULL);
        }
        int more = cJSON_IsTrue(xs_get(r.json, "has_next"));
        snprintf(cursor, sizeof cursor, "%s", xs_str(r.json, "cursor"));
        xs_resp_free(&r);
        if (!more) break;
        T_CHECK(pages < 10);
    }
    T_EQ_INT(pages, 3);
    T_EQ_INT(nseen, 7);
    static const char *const want[] = {"77770001-0001-1", "77770002-0001-1", "77770003-0001-1", "77770004-0001-1",
                                       "77770006-0001-1", "77770007-0001-1", "77770008-0001-1"};
    for (int i = 0; i < 7; i++) T_EQ_STR(seen[i], want[i]);

    xs_resp_t r;
    T_CHECK(xs_ozon(s, "/v4/posting/fbs/list", "{\"limit\":2,\"sort_dir\":\"desc\"}", &r) == 0);
    T_EQ_STR(xs_str(r.json, "postings.0.posting_number"), "77770008-0001-1");
    T_EQ_STR(xs_str(r.json, "postings.1.posting_number"), "77770007-0001-1");
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "has_next")));
    xs_resp_free(&r);
}

T_CASE(v4_list_rejects_bad_input)
{
    const xs_server_t *s = fresh();
    static const char *const bad[] = {
        "{\"limit\":0}", "{\"limit\":101}", "{}", "{\"limit\":5,\"cursor\":\"not a cursor!\"}",
        "{\"limit\":5,\"filter\":{\"since\":\"yesterday\"}}", "{\"limit\":5,\"filter\":{\"statuses\":\"delivering\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xs_resp_t r;
        T_CHECK(xs_ozon(s, "/v4/posting/fbs/list", bad[i], &r) == 0);
        T_EQ_INT(r.status, 400);
        T_EQ_INT(xs_num(r.json, "code"), 3);
        T_CHECK(xs_str(r.json, "message") != NULL);
        xs_resp_free(&r);
    }
}

T_CASE(v3_list_offset_paging)
{
    const xs_server_t *s = empty();
    seed_eight(s);
    xs_resp_t r;
    T_CHECK(xs_ozon(s, "/v3/posting/fbs/list", "{\"limit\":3,\"offset\":0}", &r) == 0);
    T_EQ_INT(r.status, 400); /* since and to are required */
    xs_resp_free(&r);
    int total = 0;
    for (int off = 0; off < 20; off += 3) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"dir\":\"ASC\",\"limit\":3,\"offset\":%d,\"filter\":{\"since\":\"2026-05-01T00:00:00Z\","
                 "\"to\":\"2026-05-02T00:00:00Z\",\"status\":\"awaiting_deliver\"}}",
                 off);
        T_CHECK(xs_ozon(s, "/v3/posting/fbs/list", body, &r) == 0);
        T_EQ_INT(r.status, 200);
        const cJSON *ps = xs_get(r.json, "result.postings");
        T_CHECK(cJSON_IsArray(ps));
        total += cJSON_GetArraySize(ps);
        if (off == 0) {
            T_EQ_STR(xs_str(ps, "0.posting_number"), "77770001-0001-1");
            T_EQ_STR(xs_str(ps, "0.products.0.price"), "990.0000"); /* v3: a decimal string */
        }
        int more = cJSON_IsTrue(xs_get(r.json, "result.has_next"));
        xs_resp_free(&r);
        if (!more) break;
    }
    T_EQ_INT(total, 7);
}

T_CASE(list_filter_last_changed_status_date)
{
    const xs_server_t *s = empty();
    seed(s, "[{\"posting_number\":\"66660001-0001-1\",\"last_changed_status_date\":\"2026-01-01T00:00:00Z\"},"
            "{\"posting_number\":\"66660002-0001-1\",\"last_changed_status_date\":\"2026-01-01T00:00:00Z\"}]");
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings/66660002-0001-1/status",
                   "{\"status\":\"delivering\",\"at\":\"2026-06-01T00:00:00Z\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "extsim.last_changed_status_date"), "2026-06-01T00:00:00Z");
    T_EQ_STR(xs_str(r.json, "previous_substatus"), "posting_transferring_to_delivery");
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v4/posting/fbs/list",
                    "{\"limit\":10,\"filter\":{\"last_changed_status_date\":{\"from\":\"2026-03-01T00:00:00Z\","
                    "\"to\":\"2026-12-31T00:00:00Z\"}}}",
                    &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "postings")), 1);
    T_EQ_STR(xs_str(r.json, "postings.0.posting_number"), "66660002-0001-1");
    T_EQ_STR(xs_str(r.json, "postings.0.status"), "delivering");
    xs_resp_free(&r);
}

static void push(const xs_server_t *s, const char *path, const char *number, xs_resp_t *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"posting_number\":[\"%s\"]}", number);
    T_CHECK(xs_ozon(s, path, body, r) == 0);
    T_EQ_INT(r->status, 200);
}

T_CASE(status_transitions_allowed)
{
    const xs_server_t *s = empty();
    seed(s, rfbs_one);
    xs_resp_t r;
    push(s, "/v2/fbs/posting/delivering", "55550001-0001-1", &r);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    T_EQ_STR(xs_str(r.json, "result.0.error"), "");
    T_EQ_STR(xs_str(r.json, "result.0.posting_number"), "55550001-0001-1");
    xs_resp_free(&r);
    get_posting(s, "55550001-0001-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "delivering");
    T_EQ_STR(xs_str(r.json, "result.substatus"), "posting_transferred_to_courier_service");
    T_EQ_STR(xs_str(r.json, "result.previous_substatus"), "posting_transferring_to_delivery");
    T_CHECK(xs_str(r.json, "result.delivering_date") != NULL);
    T_CHECK(has_str(xs_get(r.json, "result.available_actions"), "non_int_last_mile"));
    T_CHECK(has_str(xs_get(r.json, "result.available_actions"), "non_int_delivered"));
    T_CHECK(!has_str(xs_get(r.json, "result.available_actions"), "non_int_delivering"));
    xs_resp_free(&r);

    push(s, "/v2/fbs/posting/last-mile", "55550001-0001-1", &r);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    xs_resp_free(&r);
    get_posting(s, "55550001-0001-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "driver_pickup");
    T_EQ_STR(xs_str(r.json, "result.substatus"), "posting_driver_pick_up");
    T_EQ_STR(xs_str(r.json, "result.previous_substatus"), "posting_transferred_to_courier_service");
    T_CHECK(has_str(xs_get(r.json, "result.available_actions"), "non_int_delivered"));
    T_CHECK(!has_str(xs_get(r.json, "result.available_actions"), "non_int_last_mile"));
    xs_resp_free(&r);

    push(s, "/v2/fbs/posting/delivered", "55550001-0001-1", &r);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    xs_resp_free(&r);
    get_posting(s, "55550001-0001-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "delivered");
    T_EQ_STR(xs_str(r.json, "result.substatus"), "posting_delivered");
    T_EQ_STR(xs_str(r.json, "result.previous_substatus"), "posting_driver_pick_up");
    T_CHECK(xs_str(r.json, "result.fact_delivery_date") != NULL);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result.available_actions")), 0);
    xs_resp_free(&r);
}

T_CASE(status_transitions_refused)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    /* awaiting_packaging (Luhansk demo) cannot jump to delivering */
    push(s, "/v2/fbs/posting/delivering", "12345678-0003-1", &r);
    T_CHECK(cJSON_IsFalse(xs_get(r.json, "result.0.result")));
    T_EQ_STR(xs_str(r.json, "result.0.error"), "ACTION_NOT_AVAILABLE");
    xs_resp_free(&r);
    get_posting(s, "12345678-0003-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "awaiting_packaging");
    xs_resp_free(&r);
    /* awaiting_deliver cannot be marked delivered */
    push(s, "/v2/fbs/posting/delivered", "12345678-0001-1", &r);
    T_CHECK(cJSON_IsFalse(xs_get(r.json, "result.0.result")));
    xs_resp_free(&r);
    /* a posting Ozon delivers (FBS) is never moved by the seller */
    seed(s, "{\"posting_number\":\"44440001-0001-1\",\"status\":\"awaiting_deliver\",\"tpl_integration_type\":\"ozon\"}");
    push(s, "/v2/fbs/posting/delivering", "44440001-0001-1", &r);
    T_EQ_STR(xs_str(r.json, "result.0.error"), "ACTION_NOT_AVAILABLE");
    xs_resp_free(&r);
    /* a batch answers per posting */
    T_CHECK(xs_ozon(s, "/v2/fbs/posting/delivering",
                    "{\"posting_number\":[\"12345678-0001-1\",\"00000000-0000-0\",\"12345678-0005-1\"]}", &r) == 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result")), 3);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    T_EQ_STR(xs_str(r.json, "result.1.error"), "POSTING_NOT_FOUND");
    T_EQ_STR(xs_str(r.json, "result.2.error"), "ACTION_NOT_AVAILABLE");
    xs_resp_free(&r);
    /* error as an array when asked */
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/config", "{\"error_form\":\"array\"}", &r) == 0);
    xs_resp_free(&r);
    push(s, "/v2/fbs/posting/last-mile", "12345678-0001-1", &r);
    T_CHECK(cJSON_IsArray(xs_get(r.json, "result.0.error")));
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result.0.error")), 0);
    xs_resp_free(&r);
    push(s, "/v2/fbs/posting/delivering", "12345678-0003-1", &r);
    T_EQ_STR(xs_str(r.json, "result.0.error.0"), "ACTION_NOT_AVAILABLE");
    xs_resp_free(&r);
    /* malformed */
    T_CHECK(xs_ozon(s, "/v2/fbs/posting/delivering", "{\"posting_number\":[]}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_EQ_INT(xs_num(r.json, "code"), 3);
    xs_resp_free(&r);
}

T_CASE(delivered_conditionally_switch)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/config", "{\"delivered_mode\":\"conditionally_delivered\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    push(s, "/v2/fbs/posting/delivered", "12345678-0002-1", &r); /* demo: delivering */
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    xs_resp_free(&r);
    get_posting(s, "12345678-0002-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "delivering");
    T_EQ_STR(xs_str(r.json, "result.substatus"), "posting_conditionally_delivered");
    T_CHECK(!has_str(xs_get(r.json, "result.available_actions"), "non_int_delivered"));
    xs_resp_free(&r);
}

T_CASE(tracking_number_set)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ozon(s, "/v2/fbs/posting/tracking-number/set",
                    "{\"tracking_numbers\":[{\"posting_number\":\"12345678-0006-1\",\"tracking_number\":\"TRK123\"},"
                    "{\"posting_number\":\"12345678-0001-1\",\"tracking_number\":\"TRK124\"}]}",
                    &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    T_EQ_STR(xs_str(r.json, "result.0.error"), "");
    T_CHECK(cJSON_IsFalse(xs_get(r.json, "result.1.result"))); /* non_integrated: no set_track_number */
    xs_resp_free(&r);
    get_posting(s, "12345678-0006-1", &r);
    T_EQ_STR(xs_str(r.json, "result.tracking_number"), "TRK123");
    xs_resp_free(&r);
}

T_CASE(control_moves_status)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings/12345678-0001-1/status", "{\"status\":\"cancelled\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    get_posting(s, "12345678-0001-1", &r);
    T_EQ_STR(xs_str(r.json, "result.status"), "cancelled");
    T_EQ_STR(xs_str(r.json, "result.substatus"), "posting_canceled");
    T_EQ_STR(xs_str(r.json, "result.previous_substatus"), "posting_transferring_to_delivery");
    T_CHECK(xs_num(r.json, "result.cancellation.cancel_reason_id") > 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result.available_actions")), 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings/12345678-0001-1/status", "{\"status\":\"teleported\"}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_CHECK(strstr(xs_str(r.json, "error"), "status") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings/00000000-0000-0/status", "{\"status\":\"delivered\"}", &r) == 0);
    T_EQ_INT(r.status, 404);
    xs_resp_free(&r);
}

T_CASE(rate_limit_429)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/config", "{\"rps\":5}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int ok = 0, limited = 0;
    for (int i = 0; i < 30; i++) {
        get_posting(s, "12345678-0001-1", &r);
        if (r.status == 200) ok++;
        else {
            T_EQ_INT(r.status, 429);
            T_EQ_INT(xs_num(r.json, "code"), 8);
            T_EQ_STR(xs_str(r.json, "message"), "You have reached request rate limit per second");
            limited++;
        }
        xs_resp_free(&r);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("# rate limit: %d ok, %d limited in %.3f s\n", ok, limited, secs);
    T_CHECK(ok >= 5);                              /* the first five always pass */
    T_CHECK(ok <= 5 * ((int)ceil(secs) + 1));      /* never more than 5 in any second */
    T_CHECK(limited >= 1 || secs > 5.0);
    /* reset restores the default 50 rps */
    T_CHECK(xs_ctl(s, "POST", "/control/reset", NULL, &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/ozon/config", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "rps"), 50);
    xs_resp_free(&r);
}

T_CASE(fault_injection)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/faults",
                   "{\"path\":\"/v3/posting/fbs/get\",\"count\":2,\"status\":500,"
                   "\"body\":{\"code\":13,\"message\":\"boom\",\"details\":[]}}",
                   &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    for (int i = 0; i < 2; i++) {
        get_posting(s, "12345678-0001-1", &r);
        T_EQ_INT(r.status, 500);
        T_EQ_STR(xs_str(r.json, "message"), "boom");
        xs_resp_free(&r);
    }
    get_posting(s, "12345678-0001-1", &r);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);

    /* a 429 with no body of its own gets Ozon's rate-limit body; extra headers pass through */
    T_CHECK(xs_ctl(s, "POST", "/control/faults",
                   "{\"path\":\"/v4/*\",\"status\":429,\"headers\":{\"Retry-After\":\"1\"}}", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v4/posting/fbs/list", "{\"limit\":1}", &r) == 0);
    T_EQ_INT(r.status, 429);
    T_EQ_INT(xs_num(r.json, "code"), 8);
    T_CHECK(strstr(r.headers, "Retry-After: 1") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v4/posting/fbs/list", "{\"limit\":1}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);

    /* 403 and 404 faults render Ozon error bodies */
    T_CHECK(xs_ctl(s, "POST", "/control/faults",
                   "{\"faults\":[{\"path\":\"/v2/fbs/posting/delivering\",\"status\":403},"
                   "{\"path\":\"/v2/fbs/posting/delivering\",\"status\":404}]}", &r) == 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "ids")), 2);
    xs_resp_free(&r);
    const char *body = "{\"posting_number\":[\"12345678-0001-1\"]}";
    T_CHECK(xs_ozon(s, "/v2/fbs/posting/delivering", body, &r) == 0);
    T_EQ_INT(r.status, 403);
    T_EQ_INT(xs_num(r.json, "code"), 7);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v2/fbs/posting/delivering", body, &r) == 0);
    T_EQ_INT(r.status, 404);
    T_EQ_INT(xs_num(r.json, "code"), 5);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v2/fbs/posting/delivering", body, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.0.result")));
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/faults", NULL, &r) == 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "faults")), 0); /* all used up */
    xs_resp_free(&r);
}

T_CASE(latency_injection)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/faults", "{\"path\":\"/v3/posting/fbs/get\",\"delay_ms\":300}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    get_posting(s, "12345678-0001-1", &r);
    T_EQ_INT(r.status, 200); /* delayed, then answered normally */
    T_CHECK(r.seconds >= 0.29);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/faults", "{\"path\":\"/v3/*\",\"delay_ms\":0}", &r) == 0);
    T_EQ_INT(r.status, 400); /* a rule must do something */
    xs_resp_free(&r);
}

T_CASE(returns_list_get_action)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ozon(s, "/v2/returns/rfbs/list", "{\"filter\":{\"group_state\":[\"New\"]},\"last_id\":0,\"limit\":100}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "returns")), 1);
    T_EQ_INT(xs_num(r.json, "returns.0.return_id"), 1000015552);
    T_EQ_STR(xs_str(r.json, "returns.0.posting_number"), "12345678-0005-1");
    T_EQ_STR(xs_str(r.json, "returns.0.state.group_state"), "New");
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v2/returns/rfbs/get", "{\"return_id\":1000015552}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "returns.state.state"), "ON_APPROVAL");
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "returns.available_actions")), 3);
    T_CHECK(cJSON_IsNumber(xs_get(r.json, "returns.available_actions.0.action.id")));
    xs_resp_free(&r);
    /* reject needs a comment and a reason */
    T_CHECK(xs_ozon(s, "/v1/returns/rfbs/action/set", "{\"return_id\":1000015552,\"id\":-1}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_EQ_INT(xs_num(r.json, "code"), 3);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v1/returns/rfbs/action/set", "{\"return_id\":1000015552,\"id\":1}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(cJSON_IsObject(r.json) && r.json->child == NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v2/returns/rfbs/get", "{\"return_id\":1000015552}", &r) == 0);
    T_EQ_STR(xs_str(r.json, "returns.state.group_state"), "Delivering");
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v1/returns/rfbs/action/set", "{\"return_id\":1000015552,\"id\":1}", &r) == 0);
    T_EQ_INT(r.status, 400); /* no longer available */
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v2/returns/rfbs/get", "{\"return_id\":42}", &r) == 0);
    T_EQ_INT(r.status, 404);
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v1/returns/list", "{\"limit\":10,\"last_id\":0,\"filter\":{\"posting_numbers\":[\"12345678-0005-1\"]}}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "returns")), 1);
    T_EQ_STR(xs_str(r.json, "returns.0.posting_number"), "12345678-0005-1");
    T_CHECK(cJSON_IsObject(xs_get(r.json, "returns.0.product.price")));
    T_CHECK(cJSON_IsFalse(xs_get(r.json, "has_next")));
    xs_resp_free(&r);
    T_CHECK(xs_ozon(s, "/v1/returns/list",
                    "{\"limit\":10,\"filter\":{\"logistic_return_date\":{\"time_from\":\"2026-01-01T00:00:00Z\"},"
                    "\"visual_status_change_moment\":{\"time_from\":\"2026-01-01T00:00:00Z\"}}}", &r) == 0);
    T_EQ_INT(r.status, 400); /* only one date filter */
    xs_resp_free(&r);
}

T_CASE(zz_sigterm_exits_zero)
{
    fresh();
    T_EQ_INT(xs_stop(&srv), 0);
}

T_MAIN()
