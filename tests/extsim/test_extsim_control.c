/* test_extsim_control.c — black-box tests of extsim's control API and
 * process life cycle: health and state, the request journal with its
 * filters, reset, seeding validation, full-JSON seeds, fault rule
 * validation, unknown paths, command-line errors, a busy port, and exit 0
 * on SIGTERM.
 *
 * Exports: main (TAP). Threads: main only.
 */
#include "t.h"
#include "xs_harness.h"

static xs_server_t srv;

static const xs_server_t *fresh(void)
{
    static const char *const args[] = {"--seed-demo", "--ozon-client-id", "777", "--ozon-api-key", "key-777", NULL};
    if (!srv.pid) T_CHECK(xs_start(&srv, args) == 0);
    xs_resp_t r;
    T_CHECK(xs_ctl(&srv, "POST", "/control/reset", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    return &srv;
}

static int ozon777(const xs_server_t *s, const char *path, const char *json, xs_resp_t *r)
{
    const char *h[] = {"Client-Id: 777", "Api-Key: key-777", "Content-Type: application/json", NULL};
    return xs_http(s, "POST", path, h, json, r);
}

T_CASE(health_and_state)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "GET", "/control/health", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "ok")));
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/state", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "ozon.client_id"), "777"); /* from the command line */
    T_EQ_INT(xs_num(r.json, "ozon.postings"), 10);      /* the demo set */
    T_EQ_STR(xs_str(r.json, "bitrix.webhook_path"), XS_BITRIX_PATH);
    xs_resp_free(&r);
}

T_CASE(journal_records_and_filters)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(ozon777(s, "/v3/posting/fbs/get", "{\"posting_number\":\"12345678-0001-1\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    T_CHECK(xs_http(s, "POST", "/sms/send", form, "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&json=1", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(ozon777(s, "/v4/posting/fbs/list", "{\"limit\":1}", &r) == 0);
    xs_resp_free(&r);

    T_CHECK(xs_ctl(s, "GET", "/control/requests?path=/v3/posting/fbs/get", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "requests.0.method"), "POST");
    T_EQ_STR(xs_str(r.json, "requests.0.service"), "ozon");
    T_EQ_STR(xs_str(r.json, "requests.0.headers.Client-Id"), "777");
    T_EQ_STR(xs_str(r.json, "requests.0.headers.Api-Key"), "key-777");
    T_EQ_STR(xs_str(r.json, "requests.0.json.posting_number"), "12345678-0001-1");
    T_EQ_INT(xs_num(r.json, "requests.0.status"), 200);
    int first_seq = (int)xs_num(r.json, "requests.0.seq");
    xs_resp_free(&r);

    T_CHECK(xs_ctl(s, "GET", "/control/requests?service=smsru", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "requests.0.form.to"), "79491234501");
    T_EQ_STR(xs_str(r.json, "requests.0.form.msg"), "hi");
    xs_resp_free(&r);

    T_CHECK(xs_ctl(s, "GET", "/control/requests?prefix=/v", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 2);
    xs_resp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/control/requests?since=%d", first_seq);
    T_CHECK(xs_ctl(s, "GET", path, NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 2); /* control calls are not journaled */
    T_EQ_STR(xs_str(r.json, "requests.1.path"), "/v4/posting/fbs/list");
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/requests?limit=1", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "requests.0.path"), "/v4/posting/fbs/list");
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "DELETE", "/control/requests", NULL, &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/requests", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 0);
    xs_resp_free(&r);
}

T_CASE(reset_restores_start_up_state)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings", "{\"posting_number\":\"11112222-0001-1\"}", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/config", "{\"api_key\":\"other\"}", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/faults", "{\"path\":\"*\",\"status\":500,\"count\":-1}", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(ozon777(s, "/v3/posting/fbs/get", "{\"posting_number\":\"12345678-0001-1\"}", &r) == 0);
    T_EQ_INT(r.status, 500); /* the fault applies to every path */
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/reset", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "postings"), 10);
    xs_resp_free(&r);
    T_CHECK(ozon777(s, "/v3/posting/fbs/get", "{\"posting_number\":\"11112222-0001-1\"}", &r) == 0);
    T_EQ_INT(r.status, 404); /* gone; the original key works again; the fault is gone */
    xs_resp_free(&r);
    T_CHECK(ozon777(s, "/v3/posting/fbs/get", "{\"posting_number\":\"12345678-0001-1\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
}

T_CASE(seed_validation_and_full_json)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings", "{\"status\":\"delivering\"}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_CHECK(strstr(xs_str(r.json, "error"), "posting_number") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings", "[{\"posting_number\":\"11110000-0001-1\"},"
                   "{\"posting_number\":\"11110000-0002-1\",\"status\":\"flying\"}]", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_CHECK(strstr(xs_str(r.json, "error"), "postings[1].status") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings", "{not json", &r) == 0);
    T_EQ_INT(r.status, 400);
    xs_resp_free(&r);
    /* a full posting JSON keeps its own fields and pinned available_actions */
    T_CHECK(xs_ctl(s, "POST", "/control/ozon/postings",
                   "{\"posting_number\":\"0132112277-0101-1\",\"order_id\":35566798085,\"status\":\"awaiting_packaging\","
                   "\"substatus\":\"posting_created\",\"previous_substatus\":\"posting_split_pending\","
                   "\"tpl_integration_type\":\"ozon\",\"is_express\":true,\"customer\":null,"
                   "\"products\":[{\"price\":\"1530.0000\",\"offer_id\":\"SK-58\",\"name\":\"Куртка\",\"sku\":827098843,"
                   "\"quantity\":1,\"currency_code\":\"RUB\",\"dimensions\":{\"height\":\"150.00\",\"length\":\"500.00\","
                   "\"weight\":\"550\",\"width\":\"300.00\"}}],"
                   "\"available_actions\":[\"cancel\",\"has_barcode_for_printing\",\"product_cancel\",\"ship\",\"ship_async\"]}",
                   &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    T_CHECK(ozon777(s, "/v3/posting/fbs/get", "{\"posting_number\":\"0132112277-0101-1\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(xs_num(r.json, "result.order_id"), 35566798085.0);
    T_EQ_STR(xs_str(r.json, "result.previous_substatus"), "posting_split_pending");
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "result.is_express")));
    T_EQ_STR(xs_str(r.json, "result.products.0.price"), "1530.0000");
    T_EQ_INT(xs_num(r.json, "result.products.0.sku"), 827098843);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result.available_actions")), 5);
    T_CHECK(cJSON_IsNull(xs_get(r.json, "result.customer")));
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/ozon/postings/0132112277-0101-1", NULL, &r) == 0);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "extsim.actions_pinned")));
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "DELETE", "/control/ozon/postings/0132112277-0101-1", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/ozon/postings?status=delivered", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "postings.0.posting_number"), "12345678-0005-1");
    xs_resp_free(&r);
}

T_CASE(fault_rules_validated_and_listed)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/faults", "{\"status\":500}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_CHECK(strstr(xs_str(r.json, "error"), "path") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/faults", "{\"path\":\"/sms/send\",\"status\":99}", &r) == 0);
    T_EQ_INT(r.status, 400);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/faults", "{\"path\":\"/sms/send\",\"status\":503,\"count\":3,\"method\":\"POST\"}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/faults", NULL, &r) == 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "faults")), 1);
    T_EQ_INT(xs_num(r.json, "faults.0.remaining"), 3);
    T_EQ_STR(xs_str(r.json, "faults.0.path"), "/sms/send");
    xs_resp_free(&r);
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    T_CHECK(xs_http(s, "POST", "/sms/send", form, "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&json=1", &r) == 0);
    T_EQ_INT(r.status, 503);
    T_EQ_INT(xs_num(r.json, "status_code"), 220); /* SMS.ru's "service unavailable" body */
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/faults", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "faults.0.remaining"), 2);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "DELETE", "/control/faults", NULL, &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_http(s, "POST", "/sms/send", form, "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&json=1", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
}

T_CASE(unknown_paths)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "GET", "/nothing/here", NULL, &r) == 0);
    T_EQ_INT(r.status, 404);
    T_CHECK(xs_str(r.json, "error") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/nothing", NULL, &r) == 0);
    T_EQ_INT(r.status, 404);
    T_CHECK(xs_str(r.json, "error") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/ozon/postings/99999999-9999-9", NULL, &r) == 0);
    T_EQ_INT(r.status, 404);
    xs_resp_free(&r);
}

T_CASE(command_line_errors)
{
    static const char *const help[] = {"--help", NULL};
    T_EQ_INT(xs_run_exit(help), 0);
    static const char *const bogus[] = {"--bogus", NULL};
    T_EQ_INT(xs_run_exit(bogus), 2);
    static const char *const missing[] = {"--listen", NULL};
    T_EQ_INT(xs_run_exit(missing), 2);
    static const char *const badnum[] = {"--ozon-rps", "fast", NULL};
    T_EQ_INT(xs_run_exit(badnum), 2);
    /* the port of the running instance is taken: cannot listen, exit 1 */
    const xs_server_t *s = fresh();
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    const char *const busy[] = {"--listen", addr, NULL};
    T_EQ_INT(xs_run_exit(busy), 1);
}

T_CASE(zz_sigterm_exits_zero)
{
    fresh();
    T_EQ_INT(xs_stop(&srv), 0);
}

T_MAIN()
