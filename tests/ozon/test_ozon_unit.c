/* test_ozon_unit.c — unit tests of the Ozon pieces that need no server:
 * the posting reader (actors/orders/ozon_posting.c) on the shapes of
 * reference/api-facts.md A.4/A.5 (FBS with a null customer, rFBS with
 * customer and address, v4 price objects, weights as strings), the
 * Seller API bodies and reply readers (actors/ozon/ozon_api.c: both error
 * envelopes, v3/v4 list pages, push results with error "" or []), the
 * rate limiter (actors/ozon/ozon_rate.c) and the metrics text
 * (actors/ozon/ozon_stats.c).
 *
 * Tags: "unit" on every case. Threads: main only.
 */
#include "t.h"

#include <cjson/cJSON.h>

#include "ozon_api.h"
#include "ozon_posting.h"
#include "ozon_rate.h"
#include "ozon_stats.h"
#include "rt.h"

#define S(x) x, strlen(x)

/* ---- ozon_posting_parse ------------------------------------------------------ */

/* A.4: the /v3/posting/fbs/get "result" of an FBS posting (customer null). */
static const char *const fbs_posting =
    "{\"posting_number\":\"0132112277-0101-1\",\"order_id\":35566798085,\"order_number\":\"0132112277-0101\","
    "\"status\":\"awaiting_packaging\",\"substatus\":\"posting_created\",\"previous_substatus\":\"posting_split_pending\","
    "\"delivery_method\":{\"id\":1020005003107121,\"name\":\"Доставка\",\"warehouse_id\":1020005003107121,"
    "\"warehouse\":\"FBS LikeSK\",\"tpl_provider_id\":24,\"tpl_provider\":\"Ozon\"},\"tracking_number\":\"\","
    "\"tpl_integration_type\":\"ozon\",\"in_process_at\":\"2026-03-30T11:26:00Z\",\"shipment_date\":\"2026-03-31T09:00:00Z\","
    "\"delivering_date\":null,\"cancellation\":{\"cancel_reason_id\":0,\"cancel_reason\":\"\",\"cancellation_type\":\"\","
    "\"cancelled_after_ship\":false,\"affect_cancellation_rating\":false,\"cancellation_initiator\":\"\"},"
    "\"customer\":null,\"addressee\":null,"
    "\"products\":[{\"price\":\"1530.0000\",\"offer_id\":\"SK-58\",\"name\":\"Чехол-книжка\",\"sku\":827098843,"
    "\"quantity\":1,\"currency_code\":\"RUB\",\"dimensions\":{\"height\":\"150.00\",\"length\":\"500.00\","
    "\"weight\":\"550\",\"width\":\"300.00\"}}],"
    "\"barcodes\":null,\"analytics_data\":null,\"financial_data\":null,\"courier\":null,\"related_postings\":null,"
    "\"available_actions\":[\"cancel\",\"has_barcode_for_printing\",\"product_cancel\",\"ship\",\"ship_async\"],"
    "\"is_express\":false,\"future_field\":{\"x\":[1,2,3]}}";

T_CASE_TAGGED(posting_fbs_with_null_customer, "unit")
{
    ozon_posting_t p;
    T_EQ_INT(ozon_posting_parse(S(fbs_posting), &p), RT_OK);
    T_EQ_STR(p.posting_number, "0132112277-0101-1");
    T_EQ_STR(p.status, "awaiting_packaging");
    T_EQ_STR(p.tpl_integration_type, "ozon");
    T_EQ_STR(p.available_actions, "cancel,has_barcode_for_printing,product_cancel,ship,ship_async");
    T_CHECK(p.customer_name == NULL);
    T_EQ_STR(p.customer_phone, "");
    T_CHECK(p.addressee_name == NULL);
    T_EQ_STR(p.addressee_phone, "");
    T_CHECK(p.address == NULL);
    T_EQ_INT(p.weight_g, 550);
    cJSON *items = cJSON_Parse(p.items);
    T_CHECK(cJSON_IsArray(items) && cJSON_GetArraySize(items) == 1);
    T_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "name")->valuestring, "Чехол-книжка");
    T_EQ_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "quantity")->valuedouble, 1);
    cJSON_Delete(items);
    ozon_posting_free(&p);
    T_CHECK(p.items == NULL && p.available_actions == NULL);
}

/* rFBS (the seller delivers): customer with phone and address, addressee. */
T_CASE_TAGGED(posting_rfbs_with_customer_and_address, "unit")
{
    const char *j =
        "{\"posting_number\":\"12345678-0001-1\",\"status\":\"awaiting_deliver\","
        "\"tpl_integration_type\":\"non_integrated\","
        "\"customer\":{\"customer_id\":77,\"name\":\"Иванова Мария Сергеевна\",\"phone\":\"+79491234501\","
        "\"customer_email\":\"\",\"address\":{\"address_tail\":\"ул. Артёма, д. 120, кв. 45\",\"city\":\"Донецк\","
        "\"comment\":\"\",\"country\":\"Россия\",\"district\":\"\",\"latitude\":48.0159,\"longitude\":37.8029,"
        "\"provider_pvz_code\":\"\",\"pvz_code\":0,\"region\":\"ДНР\",\"zip_code\":\"283001\"}},"
        "\"addressee\":{\"name\":\"Иванов Пётр\",\"phone\":\"8 (949) 123-45-99\"},"
        "\"products\":[{\"name\":\"Наушники\",\"quantity\":1,\"price\":\"2990.0000\","
        "\"dimensions\":{\"weight\":\"180\"}}],"
        "\"available_actions\":[\"can_create_chat\",\"cancel\",\"customer_phone_available\",\"label_download\","
        "\"non_int_delivering\"]}";
    ozon_posting_t p;
    T_EQ_INT(ozon_posting_parse(S(j), &p), RT_OK);
    T_EQ_STR(p.tpl_integration_type, "non_integrated");
    T_EQ_STR(p.customer_name, "Иванова Мария Сергеевна");
    T_EQ_STR(p.customer_phone, "+79491234501");
    T_EQ_STR(p.addressee_name, "Иванов Пётр");
    T_EQ_STR(p.addressee_phone, "+79491234599");      /* normalised to E.164 */
    T_EQ_STR(p.address, "Донецк, ул. Артёма, д. 120, кв. 45");
    T_CHECK(strstr(p.available_actions, "non_int_delivering") != NULL);
    T_EQ_INT(p.weight_g, 180);
    ozon_posting_free(&p);

    /* an address without a city, a phone that is no phone */
    const char *k = "{\"posting_number\":\"12345678-0002-1\",\"customer\":{\"name\":\"А\",\"phone\":\"скрыт\","
                    "\"address\":{\"address_tail\":\"пр. Мира, 75\"}}}";
    T_EQ_INT(ozon_posting_parse(S(k), &p), RT_OK);
    T_EQ_STR(p.address, "пр. Мира, 75");
    T_EQ_STR(p.customer_phone, "");
    T_EQ_STR(p.status, "");
    T_EQ_STR(p.items, "[]");
    ozon_posting_free(&p);
}

/* A.5: a /v4/posting/fbs/list element: price objects, weights as strings
 * and numbers, quantities > 1. */
T_CASE_TAGGED(posting_v4_prices_and_string_weights, "unit")
{
    const char *j =
        "{\"posting_number\":\"12345678-0009-1\",\"status\":\"delivering\",\"tpl_integration_type\":\"non_integrated\","
        "\"products\":["
        "{\"name\":\"Книга\",\"quantity\":2,\"price\":{\"amount\":\"590.00\",\"currency\":\"RUB\"},"
        "\"dimensions\":{\"weight\":\"1250\",\"height\":\"30.00\"}},"
        "{\"name\":\"Лампа\",\"quantity\":\"3\",\"price\":{\"amount\":\"1490.00\",\"currency\":\"RUB\"},"
        "\"dimensions\":{\"weight\":300}},"
        "{\"name\":\"Без размеров\",\"quantity\":1,\"price\":{\"amount\":\"1.00\",\"currency\":\"RUB\"}},"
        "{\"name\":\"Кривой вес\",\"quantity\":1,\"dimensions\":{\"weight\":\"тяжёлый\"}}"
        "],\"available_actions\":[\"non_int_last_mile\",\"non_int_delivered\",7,null]}";
    ozon_posting_t p;
    T_EQ_INT(ozon_posting_parse(S(j), &p), RT_OK);
    T_EQ_INT(p.weight_g, 1250 * 2 + 300 * 3);
    T_EQ_STR(p.available_actions, "non_int_last_mile,non_int_delivered");
    cJSON *items = cJSON_Parse(p.items);
    T_EQ_INT(cJSON_GetArraySize(items), 4);
    T_EQ_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 1), "quantity")->valuedouble, 3);
    cJSON_Delete(items);
    ozon_posting_free(&p);
}

T_CASE_TAGGED(posting_refused_inputs, "unit")
{
    ozon_posting_t p;
    const char *bad[] = {
        "", "null", "[]", "\"12345678-0001-1\"", "{}", "{\"posting_number\":12345678}",
        "{\"posting_number\":\"abc\"}", "{\"posting_number\":\"12345678-0001\"}",
        "{\"posting_number\":\"12345678-0001-1\"", "{\"result\":{\"posting_number\":\"12345678-0001-1\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(ozon_posting_parse(S(bad[i]), &p), RT_EINVAL);
        T_CHECK(p.items == NULL && p.available_actions == NULL && p.address == NULL);
    }
    /* the wrong types everywhere are tolerated, not fatal */
    const char *odd = "{\"posting_number\":\"12345678-0003-1\",\"status\":5,\"customer\":[],\"addressee\":\"x\","
                      "\"products\":{\"a\":1},\"available_actions\":\"cancel\"}";
    T_EQ_INT(ozon_posting_parse(S(odd), &p), RT_OK);
    T_EQ_STR(p.status, "");
    T_EQ_STR(p.available_actions, "");
    T_EQ_STR(p.items, "[]");
    T_EQ_INT(p.weight_g, 0);
    ozon_posting_free(&p);
}

/* ---- ozon_classify: both error envelopes --------------------------------------- */

T_CASE_TAGGED(classify_rpc_status_envelope, "unit")
{
    ozon_error_t e;
    T_EQ_INT(ozon_classify(RT_OK, 200, S("{\"result\":{}}"), NULL, &e), OZON_OK);
    T_EQ_INT(ozon_classify(RT_OK, 403, S("{\"code\":7,\"message\":\"Invalid Api-Key, please contact support\",\"details\":[]}"),
                           NULL, &e), OZON_AUTH);
    T_EQ_STR(e.code, "7");
    T_EQ_STR(e.message, "Invalid Api-Key, please contact support");
    T_EQ_INT(e.status, 403);
    T_EQ_INT(ozon_classify(RT_OK, 401, S("{\"code\":16,\"message\":\"Client-Id and Api-Key headers are required\"}"),
                           NULL, &e), OZON_AUTH);
    T_EQ_INT(ozon_classify(RT_OK, 429, S("{\"code\":8,\"message\":\"You have reached request rate limit per second\"}"),
                           NULL, &e), OZON_RATE);
    T_EQ_INT(ozon_classify(RT_OK, 404, S("{\"code\":5,\"message\":\"POSTING_NOT_FOUND\",\"details\":[]}"), NULL, &e),
             OZON_NOT_FOUND);
    T_EQ_STR(e.message, "POSTING_NOT_FOUND");
    T_EQ_INT(ozon_classify(RT_OK, 400, S("{\"code\":3,\"message\":\"posting_number: required\"}"), NULL, &e),
             OZON_CLIENT);
    T_EQ_INT(ozon_classify(RT_OK, 400, S("{\"code\":5,\"message\":\"not found\"}"), NULL, &e), OZON_NOT_FOUND);
    T_EQ_INT(ozon_classify(RT_OK, 500, S("{\"code\":13,\"message\":\"internal\"}"), NULL, &e), OZON_SERVER);
    T_EQ_INT(ozon_classify(RT_OK, 503, S("<html>busy</html>"), NULL, &e), OZON_SERVER);
    T_EQ_STR(e.message, "HTTP 503");
    T_EQ_INT(ozon_classify(RT_ETIMEDOUT, 0, NULL, 0, "Operation timed out after 15000 ms", &e), OZON_NETWORK);
    T_EQ_STR(e.message, "Operation timed out after 15000 ms");
    T_EQ_INT(e.status, 0);
    T_CHECK(ozon_class_retryable(OZON_RATE) && ozon_class_retryable(OZON_SERVER) &&
            ozon_class_retryable(OZON_NETWORK) && ozon_class_retryable(OZON_BAD_REPLY));
    T_CHECK(!ozon_class_retryable(OZON_AUTH) && !ozon_class_retryable(OZON_NOT_FOUND) &&
            !ozon_class_retryable(OZON_CLIENT) && !ozon_class_retryable(OZON_OK));
    T_EQ_STR(ozon_class_name(OZON_RATE), "rate_limited");
    T_EQ_STR(ozon_class_name(OZON_AUTH), "auth");
}

T_CASE_TAGGED(classify_legacy_envelope, "unit")
{
    ozon_error_t e;
    T_EQ_INT(ozon_classify(RT_OK, 404, S("{\"error\":{\"code\":\"NOT_FOUND_ERROR\",\"message\":\"POSTING_NOT_FOUND\",\"data\":[]}}"),
                           NULL, &e), OZON_NOT_FOUND);
    T_EQ_STR(e.code, "NOT_FOUND_ERROR");
    T_EQ_STR(e.message, "POSTING_NOT_FOUND");
    /* old APIs answered a missing posting with 400 and the legacy code */
    T_EQ_INT(ozon_classify(RT_OK, 400, S("{\"error\":{\"code\":\"NOT_FOUND_ERROR\",\"message\":\"x\"}}"), NULL, &e),
             OZON_NOT_FOUND);
    T_EQ_INT(ozon_classify(RT_OK, 403, S("{\"error\":{\"code\":\"PERMISSION_DENIED\",\"message\":\"Api-key is deactivated\"}}"),
                           NULL, &e), OZON_AUTH);
    T_EQ_STR(e.message, "Api-key is deactivated");
    T_EQ_INT(ozon_classify(RT_OK, 429, S("{\"error\":{\"code\":\"TOO_MANY_REQUESTS\"}}"), NULL, &e), OZON_RATE);
    /* a message with quotes, backslashes and a newline is made log-safe */
    T_EQ_INT(ozon_classify(RT_OK, 400, S("{\"code\":3,\"message\":\"bad \\\"x\\\"\\\\\\n end\"}"), NULL, &e), OZON_CLIENT);
    T_EQ_STR(e.message, "bad _x___ end");
}

/* ---- bodies ---------------------------------------------------------------------------- */

T_CASE_TAGGED(request_bodies, "unit")
{
    char *b = ozon_body_fetch("12345678-0001-1");
    cJSON *j = cJSON_Parse(b);
    T_EQ_STR(cJSON_GetObjectItem(j, "posting_number")->valuestring, "12345678-0001-1");
    T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "with"), "financial_data")));
    cJSON_Delete(j);
    free(b);

    b = ozon_body_push("12345678-0001-1");
    T_EQ_STR(b, "{\"posting_number\":[\"12345678-0001-1\"]}");
    free(b);

    ozon_list_req_t q = {.since_ms = 1775072859878LL, .to_ms = 1775133099000LL, .statuses = "awaiting_deliver, delivering",
                         .delivery_methods = "1020005003107121,18446744073709551615,abc", .cursor = "eHMxOjE=",
                         .limit = 100};
    b = ozon_body_list(&q);
    j = cJSON_Parse(b);
    T_CHECK(j != NULL);
    const cJSON *f = cJSON_GetObjectItem(j, "filter");
    T_EQ_STR(cJSON_GetObjectItem(f, "since")->valuestring, "2026-04-01T19:47:39.878Z");
    T_EQ_STR(cJSON_GetObjectItem(f, "to")->valuestring, "2026-04-02T12:31:39.000Z");
    T_CHECK(cJSON_GetObjectItem(f, "last_changed_status_date") == NULL);
    const cJSON *st = cJSON_GetObjectItem(f, "statuses");
    T_EQ_INT(cJSON_GetArraySize(st), 2);
    T_EQ_STR(cJSON_GetArrayItem(st, 1)->valuestring, "delivering");
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(f, "delivery_method_ids")), 2);
    /* ids beyond double precision are written verbatim */
    T_CHECK(strstr(b, "\"delivery_method_ids\":[1020005003107121,18446744073709551615]") != NULL);
    T_EQ_STR(cJSON_GetObjectItem(j, "cursor")->valuestring, "eHMxOjE=");
    T_EQ_INT(cJSON_GetObjectItem(j, "limit")->valuedouble, 100);
    T_EQ_STR(cJSON_GetObjectItem(j, "sort_dir")->valuestring, "asc");
    cJSON_Delete(j);
    free(b);

    ozon_list_req_t q2 = {.since_ms = 0, .to_ms = 1000, .changed_from_ms = 500, .changed_to_ms = 1000, .limit = 0};
    b = ozon_body_list(&q2);
    j = cJSON_Parse(b);
    f = cJSON_GetObjectItem(j, "filter");
    const cJSON *lc = cJSON_GetObjectItem(f, "last_changed_status_date");
    T_EQ_STR(cJSON_GetObjectItem(lc, "from")->valuestring, "1970-01-01T00:00:00.500Z");
    T_EQ_STR(cJSON_GetObjectItem(lc, "to")->valuestring, "1970-01-01T00:00:01.000Z");
    T_CHECK(cJSON_GetObjectItem(f, "statuses") == NULL);
    T_CHECK(cJSON_GetObjectItem(f, "delivery_method_ids") == NULL);
    T_EQ_STR(cJSON_GetObjectItem(j, "cursor")->valuestring, "");
    T_EQ_INT(cJSON_GetObjectItem(j, "limit")->valuedouble, 100);
    cJSON_Delete(j);
    free(b);
}

/* ---- replies ------------------------------------------------------------------------ */

T_CASE_TAGGED(fetch_result_reader, "unit")
{
    char *out = NULL;
    char *body = NULL;
    T_CHECK(asprintf(&body, "{\"result\":%s}", fbs_posting) > 0);
    T_EQ_INT(ozon_fetch_result(body, strlen(body), &out), RT_OK);
    ozon_posting_t p;
    T_EQ_INT(ozon_posting_parse(out, strlen(out), &p), RT_OK);
    T_EQ_STR(p.posting_number, "0132112277-0101-1");
    ozon_posting_free(&p);
    free(out);
    free(body);
    T_EQ_INT(ozon_fetch_result(S("{\"result\":null}"), &out), RT_EINVAL);
    T_CHECK(out == NULL);
    T_EQ_INT(ozon_fetch_result(S("{\"result\":{\"status\":\"delivered\"}}"), &out), RT_EINVAL);
    T_EQ_INT(ozon_fetch_result(S("{\"posting_number\":\"12345678-0001-1\"}"), &out), RT_EINVAL);
    T_EQ_INT(ozon_fetch_result(S("<html>"), &out), RT_EINVAL);
    T_EQ_INT(ozon_fetch_result(NULL, 0, &out), RT_EINVAL);
}

T_CASE_TAGGED(list_page_reader_v4_and_v3, "unit")
{
    ozon_list_page_t pg;
    const char *v4 = "{\"cursor\":\"eHMxOjE3NzUwMDA6MTA=\",\"has_next\":true,\"postings\":["
                     "{\"posting_number\":\"12345678-0001-1\",\"status\":\"awaiting_deliver\","
                     "\"products\":[{\"price\":{\"amount\":\"12990.00\",\"currency\":\"RUB\"}}]},"
                     "{\"posting_number\":\"bogus\"},7,"
                     "{\"posting_number\":\"12345678-0002-1\",\"status\":\"delivering\"}]}";
    T_EQ_INT(ozon_list_parse(S(v4), &pg), RT_OK);
    T_EQ_INT(pg.n, 2);
    T_EQ_INT(pg.skipped, 2);
    T_CHECK(pg.has_next);
    T_EQ_STR(pg.cursor, "eHMxOjE3NzUwMDA6MTA=");
    T_EQ_STR(pg.number[0], "12345678-0001-1");
    T_EQ_STR(pg.number[1], "12345678-0002-1");
    ozon_posting_t p;
    T_EQ_INT(ozon_posting_parse(pg.json[1], strlen(pg.json[1]), &p), RT_OK);
    T_EQ_STR(p.status, "delivering");
    ozon_posting_free(&p);
    ozon_list_page_free(&pg);
    T_CHECK(pg.json == NULL && pg.cursor == NULL);

    const char *v3 = "{\"result\":{\"postings\":[{\"posting_number\":\"12345678-0003-1\"}],\"has_next\":false}}";
    T_EQ_INT(ozon_list_parse(S(v3), &pg), RT_OK);
    T_EQ_INT(pg.n, 1);
    T_CHECK(!pg.has_next);
    T_EQ_STR(pg.cursor, "");
    ozon_list_page_free(&pg);

    T_EQ_INT(ozon_list_parse(S("{\"cursor\":\"\",\"has_next\":false,\"postings\":[]}"), &pg), RT_OK);
    T_EQ_INT(pg.n, 0);
    ozon_list_page_free(&pg);
    T_EQ_INT(ozon_list_parse(S("{\"has_next\":true}"), &pg), RT_EINVAL);
    T_EQ_INT(ozon_list_parse(S("[]"), &pg), RT_EINVAL);
    T_EQ_INT(ozon_list_parse(S("{\"postings\":{}}"), &pg), RT_EINVAL);
}

T_CASE_TAGGED(push_result_error_forms, "unit")
{
    const char *pn = "33920157-0018-1";
    ozon_push_result_t r;
    /* A.6: "error" is [] in the status methods' examples ... */
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":[],\"posting_number\":\"33920157-0018-1\",\"result\":true}]}"), pn, &r),
             RT_OK);
    T_CHECK(r.found && r.ok);
    T_EQ_STR(r.error, "");
    /* ... and "" in tracking-number/set's */
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":\"\",\"posting_number\":\"33920157-0018-1\",\"result\":true}]}"), pn, &r),
             RT_OK);
    T_CHECK(r.found && r.ok);
    /* refusals in both forms */
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":\"ACTION_NOT_AVAILABLE\",\"posting_number\":\"33920157-0018-1\","
                               "\"result\":false}]}"), pn, &r), RT_OK);
    T_CHECK(r.found && !r.ok);
    T_EQ_STR(r.error, "ACTION_NOT_AVAILABLE");
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":[\"ACTION_NOT_AVAILABLE\",\"X\"],\"posting_number\":\"33920157-0018-1\","
                               "\"result\":false}]}"), pn, &r), RT_OK);
    T_CHECK(r.found && !r.ok);
    T_EQ_STR(r.error, "ACTION_NOT_AVAILABLE,X");
    /* result false without an error text still fails */
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":null,\"posting_number\":\"33920157-0018-1\",\"result\":false}]}"), pn, &r),
             RT_OK);
    T_CHECK(r.found && !r.ok && r.error[0]);
    /* another posting's entry only */
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":\"\",\"posting_number\":\"1-1-1\",\"result\":true},"
                               "{\"error\":\"\",\"posting_number\":\"2-2-2\",\"result\":true}]}"), pn, &r), RT_OK);
    T_CHECK(!r.found && !r.ok);
    /* a lone entry without posting_number counts; {"result":true} too */
    T_EQ_INT(ozon_push_parse(S("{\"result\":[{\"error\":[],\"result\":true}]}"), pn, &r), RT_OK);
    T_CHECK(r.found && r.ok);
    T_EQ_INT(ozon_push_parse(S("{\"result\":true}"), pn, &r), RT_OK);
    T_CHECK(r.found && r.ok);
    T_EQ_INT(ozon_push_parse(S("{\"result\":{}}"), pn, &r), RT_EINVAL);
    T_EQ_INT(ozon_push_parse(S("oops"), pn, &r), RT_EINVAL);
}

/* ---- the rate limiter ------------------------------------------------------------------- */

T_CASE_TAGGED(rate_spacing_and_clamps, "unit")
{
    ozon_rate_t r;
    ozon_rate_init(&r, 0);
    T_EQ_INT(r.rps, 1);
    ozon_rate_init(&r, 500);
    T_EQ_INT(r.rps, OZON_RATE_MAX);
    ozon_rate_init(&r, 50);
    T_EQ_INT(ozon_rate_wait_ms(&r, 1000), 0);
    ozon_rate_take(&r, 1000);
    int64_t w = ozon_rate_wait_ms(&r, 1000);
    T_CHECK(w >= 20 && w <= 23);                 /* (1000 + guard) / 50 */
    T_EQ_INT(ozon_rate_wait_ms(&r, 1000 + w), 0);
    T_EQ_INT(ozon_rate_wait_ms(&r, 1000 + w - 1), 1);
}

/* Greedy senders at every millisecond for 10 s: never more than rps in any
 * 1000 ms (nor in the guarded window), and still close to rps overall. */
T_CASE_TAGGED(rate_window_never_exceeded, "unit")
{
    const int rates[] = {1, 7, 20, 50};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        ozon_rate_t r;
        ozon_rate_init(&r, rates[k]);
        static int64_t sent[1000];
        int n = 0;
        for (int64_t t = 0; t < 10000 && n < 1000; t++) {
            if (ozon_rate_wait_ms(&r, t) == 0) {
                ozon_rate_take(&r, t);
                sent[n++] = t;
            }
        }
        for (int i = 0; i + rates[k] < n; i++)
            T_CHECK(sent[i + rates[k]] - sent[i] >= 1000 + OZON_RATE_GUARD_MS);
        /* at least 85% of the nominal rate over the 10 s */
        T_CHECK(n >= rates[k] * 10 * 85 / 100);
        T_CHECK(n <= rates[k] * 10 + 1);
    }
}

/* A caller that ignores the wait still cannot corrupt the window. */
T_CASE_TAGGED(rate_forced_takes, "unit")
{
    ozon_rate_t r;
    ozon_rate_init(&r, 3);
    for (int i = 0; i < 10; i++) ozon_rate_take(&r, 5);
    T_EQ_INT(r.n, 3);
    T_CHECK(ozon_rate_wait_ms(&r, 5) > 1000);
    T_EQ_INT(ozon_rate_wait_ms(&r, 5 + 1000 + OZON_RATE_GUARD_MS), 0);
}

/* ---- metrics text ----------------------------------------------------------------------- */

T_CASE_TAGGED(metrics_text, "unit")
{
    ozon_stats_request(OZON_M_FETCH);
    ozon_stats_request(OZON_M_PUSH);
    ozon_stats_answer(OZON_RATE);
    ozon_stats_answer(OZON_AUTH);
    ozon_stats_config_error();
    ozon_stats_fetch(1);
    ozon_stats_import(1, 230);
    char small[16];
    size_t need = ozon_metrics_render(small, sizeof small);
    T_CHECK(need > sizeof small);
    T_EQ_INT(strlen(small), sizeof small - 1);
    char *buf = malloc(need + 1);
    T_EQ_INT(ozon_metrics_render(buf, need + 1), need);
    T_CHECK(strstr(buf, "plus7_ozon_requests_total{method=\"fetch\"} 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_requests_total{method=\"push\"} 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_errors_total{class=\"rate_limited\"} 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_errors_total{class=\"auth\"} 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_rate_limited_total 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_config_errors_total 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_fetches_total{result=\"not_found\"} 1\n") != NULL);
    T_CHECK(strstr(buf, "plus7_ozon_imported_postings_total 230\n") != NULL);
    T_CHECK(strstr(buf, "# TYPE plus7_ozon_queue gauge\n") != NULL);
    T_CHECK(buf[need - 1] == '\n');
    free(buf);
}

T_MAIN()
