/* test_extsim_bitrix24.c — black-box tests of extsim's Bitrix24 incoming-
 * webhook emulator over real HTTP: contact add and list with the exact
 * PHONE filter and select, PHP-style form parameters, 50-row pages,
 * crm.duplicate.findbycomm, deals, credential and method errors, and the
 * leaky bucket's 503 QUERY_LIMIT_EXCEEDED.
 *
 * Exports: main (TAP). Threads: main only.
 */
#include "t.h"
#include "xs_harness.h"

#include <unistd.h>

static xs_server_t srv;

static const xs_server_t *fresh(void)
{
    if (!srv.pid) T_CHECK(xs_start(&srv, NULL) == 0);
    xs_resp_t r;
    T_CHECK(xs_ctl(&srv, "POST", "/control/reset", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    return &srv;
}

static int bx(const xs_server_t *s, const char *method, const char *json, xs_resp_t *r)
{
    char path[256];
    snprintf(path, sizeof path, XS_BITRIX_PATH "%s", method);
    const char *h[] = {"Content-Type: application/json", NULL};
    return xs_http(s, "POST", path, h, json, r);
}

static int bx_form(const xs_server_t *s, const char *method, const char *form, xs_resp_t *r)
{
    char path[256];
    snprintf(path, sizeof path, XS_BITRIX_PATH "%s", method);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    return xs_http(s, "POST", path, h, form, r);
}

static int add_contact(const xs_server_t *s, const char *name, const char *phone)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"FIELDS\":{\"NAME\":\"%s\",\"LAST_NAME\":\"Петров\",\"PHONE\":[{\"VALUE\":\"%s\",\"VALUE_TYPE\":\"WORK\"}],"
             "\"SOURCE_ID\":\"WEB\"}}",
             name, phone);
    xs_resp_t r;
    T_CHECK(bx(s, "crm.contact.add.json", body, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(cJSON_IsNumber(xs_get(r.json, "result")));
    T_CHECK(cJSON_IsObject(xs_get(r.json, "time")));
    int id = (int)xs_num(r.json, "result");
    xs_resp_free(&r);
    return id;
}

T_CASE(contact_add_and_list_by_exact_phone)
{
    const xs_server_t *s = fresh();
    int id = add_contact(s, "Иван", "+79491234501");
    add_contact(s, "Пётр", "+79491234502");
    T_CHECK(id > 0);
    xs_resp_t r;
    T_CHECK(bx(s, "crm.contact.list",
               "{\"filter\":{\"PHONE\":\"+79491234501\"},\"select\":[\"ID\",\"NAME\",\"LAST_NAME\",\"PHONE\"]}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(xs_num(r.json, "total"), 1);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result")), 1);
    char ids[16];
    snprintf(ids, sizeof ids, "%d", id);
    T_EQ_STR(xs_str(r.json, "result.0.ID"), ids); /* IDs are strings */
    T_EQ_STR(xs_str(r.json, "result.0.NAME"), "Иван");
    T_EQ_STR(xs_str(r.json, "result.0.PHONE.0.VALUE"), "+79491234501");
    T_EQ_STR(xs_str(r.json, "result.0.PHONE.0.VALUE_TYPE"), "WORK");
    T_CHECK(xs_get(r.json, "next") == NULL);
    xs_resp_free(&r);
    /* exact match only: the 8… form of the same number is not found */
    T_CHECK(bx(s, "crm.contact.list", "{\"filter\":{\"PHONE\":\"89491234501\"}}", &r) == 0);
    T_EQ_INT(xs_num(r.json, "total"), 0);
    xs_resp_free(&r);
    /* multiple fields come back only when selected */
    T_CHECK(bx(s, "crm.contact.list", "{\"filter\":{\"PHONE\":\"+79491234501\"},\"select\":[\"ID\",\"NAME\"]}", &r) == 0);
    T_EQ_INT(xs_num(r.json, "total"), 1);
    T_CHECK(xs_get(r.json, "result.0.PHONE") == NULL);
    T_CHECK(xs_get(r.json, "result.0.LAST_NAME") == NULL);
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.contact.get", "{\"id\":1}", &r) == 0);
    T_EQ_STR(xs_str(r.json, "result.PHONE.0.VALUE"), "+79491234501");
    T_EQ_STR(xs_str(r.json, "result.HAS_PHONE"), "Y");
    xs_resp_free(&r);
}

T_CASE(form_encoded_parameters)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(bx_form(s, "crm.contact.add",
                    "FIELDS[NAME]=%D0%9E%D0%BB%D1%8C%D0%B3%D0%B0&FIELDS[PHONE][0][VALUE]=%2B79591234503"
                    "&FIELDS[PHONE][0][VALUE_TYPE]=MOBILE", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(xs_num(r.json, "result"), 1);
    xs_resp_free(&r);
    T_CHECK(bx_form(s, "crm.contact.list.json", "filter[PHONE]=%2B79591234503&select[]=ID&select[]=NAME&select[]=PHONE", &r) == 0);
    T_EQ_INT(xs_num(r.json, "total"), 1);
    T_EQ_STR(xs_str(r.json, "result.0.NAME"), "Ольга");
    T_EQ_STR(xs_str(r.json, "result.0.PHONE.0.VALUE_TYPE"), "MOBILE");
    xs_resp_free(&r);
}

T_CASE(pages_of_fifty)
{
    const xs_server_t *s = fresh();
    char body[8192];
    size_t n = (size_t)snprintf(body, sizeof body, "[");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"NAME\":\"Клиент %d\",\"PHONE\":[{\"VALUE\":\"+7949000%04d\"}]}",
                              i ? "," : "", i, i);
    snprintf(body + n, sizeof body - n, "]");
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/bitrix/contacts", body, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "ids")), 60);
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.contact.list", "{\"select\":[\"ID\"]}", &r) == 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result")), 50);
    T_EQ_INT(xs_num(r.json, "total"), 60);
    T_EQ_INT(xs_num(r.json, "next"), 50);
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.contact.list", "{\"select\":[\"ID\"],\"start\":50}", &r) == 0);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result")), 10);
    T_EQ_STR(xs_str(r.json, "result.0.ID"), "51");
    T_CHECK(xs_get(r.json, "next") == NULL);
    xs_resp_free(&r);
}

T_CASE(duplicate_findbycomm)
{
    const xs_server_t *s = fresh();
    int a = add_contact(s, "Иван", "+79491234501");
    add_contact(s, "Пётр", "+79491234502");
    int c = add_contact(s, "Иван-2", "+79491234501");
    xs_resp_t r;
    T_CHECK(bx(s, "crm.duplicate.findbycomm",
               "{\"entity_type\":\"CONTACT\",\"type\":\"PHONE\",\"values\":[\"+79491234501\"]}", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result.CONTACT")), 2);
    T_EQ_INT(xs_num(r.json, "result.CONTACT.0"), a);
    T_EQ_INT(xs_num(r.json, "result.CONTACT.1"), c);
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.duplicate.findbycomm",
               "{\"entity_type\":\"CONTACT\",\"type\":\"PHONE\",\"values\":[\"+79990000000\"]}", &r) == 0);
    T_CHECK(cJSON_IsArray(xs_get(r.json, "result")));
    T_EQ_INT(cJSON_GetArraySize(xs_get(r.json, "result")), 0);
    xs_resp_free(&r);
    char body[1024];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"entity_type\":\"CONTACT\",\"type\":\"PHONE\",\"values\":[");
    for (int i = 0; i < 21; i++) n += (size_t)snprintf(body + n, sizeof body - n, "%s\"+7949000%04d\"", i ? "," : "", i);
    snprintf(body + n, sizeof body - n, "]}");
    T_CHECK(bx(s, "crm.duplicate.findbycomm", body, &r) == 0);
    T_EQ_INT(r.status, 400); /* at most 20 values */
    T_CHECK(xs_str(r.json, "error_description") != NULL);
    xs_resp_free(&r);
}

T_CASE(deal_add)
{
    const xs_server_t *s = fresh();
    int cid = add_contact(s, "Иван", "+79491234501");
    char body[512];
    snprintf(body, sizeof body,
             "{\"FIELDS\":{\"TITLE\":\"Ozon 12345678-0001-1\",\"CONTACT_IDS\":[%d],\"STAGE_ID\":\"NEW\","
             "\"OPPORTUNITY\":1500,\"CURRENCY_ID\":\"RUB\",\"CATEGORY_ID\":0},\"PARAMS\":{\"REGISTER_SONET_EVENT\":\"N\"}}",
             cid);
    xs_resp_t r;
    T_CHECK(bx(s, "crm.deal.add", body, &r) == 0);
    T_EQ_INT(r.status, 200);
    int did = (int)xs_num(r.json, "result");
    T_CHECK(did > 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/bitrix/deals", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "deals.0.TITLE"), "Ozon 12345678-0001-1");
    T_EQ_STR(xs_str(r.json, "deals.0.OPPORTUNITY"), "1500.00");
    char cids[16];
    snprintf(cids, sizeof cids, "%d", cid);
    T_EQ_STR(xs_str(r.json, "deals.0.CONTACT_ID"), cids);
    xs_resp_free(&r);
    snprintf(body, sizeof body, "{\"id\":%d}", did);
    T_CHECK(bx(s, "crm.deal.get", body, &r) == 0);
    T_EQ_STR(xs_str(r.json, "result.STAGE_ID"), "NEW");
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/bitrix/contacts", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    xs_resp_free(&r);
}

T_CASE(errors_credentials_method_fields)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    const char *h[] = {"Content-Type: application/json", NULL};
    T_CHECK(xs_http(s, "POST", "/rest/1/wrongcode/crm.contact.list", h, "{}", &r) == 0);
    T_EQ_INT(r.status, 401);
    T_EQ_STR(xs_str(r.json, "error"), "INVALID_CREDENTIALS");
    xs_resp_free(&r);
    T_CHECK(xs_http(s, "POST", "/rest/2/extsimwebhook001/crm.contact.list", h, "{}", &r) == 0);
    T_EQ_INT(r.status, 401);
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.nothing.here", "{}", &r) == 0);
    T_EQ_INT(r.status, 404);
    T_EQ_STR(xs_str(r.json, "error"), "ERROR_METHOD_NOT_FOUND");
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.contact.add", "{}", &r) == 0);
    T_EQ_INT(r.status, 400);
    T_EQ_STR(xs_str(r.json, "error"), "");
    T_CHECK(xs_str(r.json, "error_description") != NULL);
    xs_resp_free(&r);
    T_CHECK(bx(s, "crm.contact.get", "{\"id\":999}", &r) == 0);
    T_EQ_INT(r.status, 400);
    xs_resp_free(&r);
}

T_CASE(query_limit_503)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    /* a bucket of 5 that never drains: exactly 5 pass */
    T_CHECK(xs_ctl(s, "POST", "/control/bitrix/config", "{\"burst\":5,\"rate\":0}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    int ok = 0, limited = 0;
    for (int i = 0; i < 12; i++) {
        T_CHECK(bx(s, "crm.contact.list", "{}", &r) == 0);
        if (r.status == 200) ok++;
        else {
            T_EQ_INT(r.status, 503);
            T_EQ_STR(xs_str(r.json, "error"), "QUERY_LIMIT_EXCEEDED");
            limited++;
        }
        xs_resp_free(&r);
    }
    T_EQ_INT(ok, 5);
    T_EQ_INT(limited, 7);
    /* a bucket that drains 20/s lets a request through again after 200 ms */
    T_CHECK(xs_ctl(s, "POST", "/control/bitrix/config", "{\"burst\":2,\"rate\":20}", &r) == 0);
    xs_resp_free(&r);
    for (int i = 0; i < 6; i++) {
        T_CHECK(bx(s, "crm.contact.list", "{}", &r) == 0);
        xs_resp_free(&r);
    }
    usleep(250 * 1000);
    T_CHECK(bx(s, "crm.contact.list", "{}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    /* reset restores the default bucket (2/s, burst 50) */
    T_CHECK(xs_ctl(s, "POST", "/control/reset", NULL, &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/bitrix/config", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "burst"), 50);
    T_EQ_INT(xs_num(r.json, "rate"), 2);
    xs_resp_free(&r);
}

T_CASE(zz_sigterm_exits_zero)
{
    fresh();
    T_EQ_INT(xs_stop(&srv), 0);
}

T_MAIN()
