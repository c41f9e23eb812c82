/* test_orders_unit.c — statuses and their order, the Ozon mapping, RFC 3339
 * parsing and Moscow display, and the logistics webhook body validator.
 * Threads: main only.
 */
#include "t.h"

#include <stdio.h>
#include <string.h>

#include "geo.h"
#include "logistics_event.h"
#include "template.h"
#include "order_status.h"
#include "rt.h"
#include "timefmt.h"

T_CASE(status_codes_and_russian_names)
{
    order_status_t s;
    T_EQ_INT(order_status_parse("at_pickup_point", &s), RT_OK);
    T_EQ_INT(s, ORDER_AT_PICKUP_POINT);
    T_EQ_STR(order_status_name_ru(s), "Прибыл в пункт выдачи");
    T_EQ_STR(order_status_name_ru(ORDER_DELIVERED), "Выдан");
    T_EQ_STR(order_status_code(ORDER_OUT_FOR_DELIVERY), "out_for_delivery");
    T_EQ_INT(order_status_parse("lost", &s), RT_EINVAL);
    T_EQ_INT(order_status_parse("", &s), RT_EINVAL);
}

T_CASE(ozon_mapping_follows_the_design)
{
    T_EQ_INT(order_status_from_ozon("awaiting_packaging"), ORDER_CREATED);
    T_EQ_INT(order_status_from_ozon("awaiting_deliver"), ORDER_CREATED);
    T_EQ_INT(order_status_from_ozon("acceptance_in_progress"), ORDER_CREATED);
    T_EQ_INT(order_status_from_ozon("delivering"), ORDER_IN_TRANSIT);
    T_EQ_INT(order_status_from_ozon("driver_pickup"), ORDER_OUT_FOR_DELIVERY);
    T_EQ_INT(order_status_from_ozon("delivered"), ORDER_DELIVERED);
    T_EQ_INT(order_status_from_ozon("cancelled"), ORDER_CANCELLED);
    T_EQ_INT(order_status_from_ozon("not_accepted"), ORDER_CANCELLED);
    T_EQ_INT(order_status_from_ozon("arbitration"), ORDER_NONE);
}

T_CASE(status_never_moves_backwards)
{
    T_CHECK(order_status_advances(ORDER_NONE, ORDER_CREATED));
    T_CHECK(order_status_advances(ORDER_CREATED, ORDER_IN_TRANSIT));
    T_CHECK(order_status_advances(ORDER_AT_PICKUP_POINT, ORDER_OUT_FOR_DELIVERY));
    T_CHECK(order_status_advances(ORDER_DELIVERED, ORDER_RETURNED));
    T_CHECK(order_status_advances(ORDER_IN_TRANSIT, ORDER_CANCELLED));
    T_CHECK(!order_status_advances(ORDER_IN_TRANSIT, ORDER_IN_TRANSIT));      /* repeated */
    T_CHECK(!order_status_advances(ORDER_DELIVERED, ORDER_IN_TRANSIT));       /* late */
    T_CHECK(!order_status_advances(ORDER_DELIVERED, ORDER_CANCELLED));
    T_CHECK(!order_status_advances(ORDER_CANCELLED, ORDER_DELIVERED));
    T_CHECK(!order_status_advances(ORDER_RETURNED, ORDER_CANCELLED));
    T_CHECK(!order_status_advances(ORDER_CREATED, ORDER_NONE));
}

T_CASE(rfc3339_parsing)
{
    int64_t ms;
    T_EQ_INT(timefmt_parse_rfc3339("1970-01-01T00:00:00Z", &ms), RT_OK);
    T_EQ_INT(ms, 0);
    T_EQ_INT(timefmt_parse_rfc3339("2026-11-26T11:14:26Z", &ms), RT_OK);
    T_EQ_INT(ms, 1795691666000LL);
    int64_t ms2;
    T_EQ_INT(timefmt_parse_rfc3339("2026-11-26T14:14:26.5+03:00", &ms2), RT_OK);
    T_EQ_INT(ms2, 1795691666500LL);
    T_EQ_INT(timefmt_parse_rfc3339("2024-02-29T00:00:00Z", &ms), RT_OK);
    const char *bad[] = {"", "2026-11-26", "2026-11-26T11:14:26", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                         "2026-11-26T25:00:00Z", "2026-11-26T11:14:26+3:00", "2026-11-26T11:14:26Zjunk", "abcd"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) T_EQ_INT(timefmt_parse_rfc3339(bad[i], &ms), RT_EINVAL);
}

T_CASE(moscow_time_display)
{
    char buf[32];
    timefmt_msk(1795691666000LL, buf, sizeof buf);
    T_EQ_STR(buf, "26.11.2026 14:14");
}

static int parse(const char *body, logi_batch_t *b, logi_error_t *e) { return logi_parse(body, strlen(body), b, e); }

T_CASE(logistics_body_valid_batch)
{
    logi_batch_t b;
    logi_error_t e;
    T_EQ_INT(parse("{\"events\":[{\"id\":\"e1\",\"posting_number\":\"12345678-0001-1\",\"status\":\"in_transit\","
                   "\"at\":\"2026-11-26T11:00:00Z\"},{\"id\":\"e2\",\"posting_number\":\"12345678-0001-1\","
                   "\"status\":\"at_pickup_point\",\"at\":\"2026-11-26T12:00:00+03:00\",\"pickup_point\":\"ПВЗ Донецк, ул. Артёма 1\","
                   "\"comment\":null}]}", &b, &e), RT_OK);
    T_EQ_INT(b.n, 2);
    T_EQ_STR(b.events[1].id, "e2");
    T_EQ_INT(b.events[1].status, ORDER_AT_PICKUP_POINT);
    T_EQ_STR(b.events[1].pickup_point, "ПВЗ Донецк, ул. Артёма 1");
    T_CHECK(b.events[1].comment == NULL);
    logi_batch_free(&b);
}

T_CASE(logistics_body_errors_name_the_field)
{
    logi_batch_t b;
    logi_error_t e;
    struct { const char *body, *field; } cases[] = {
        {"not json", "body"},
        {"[]", "body"},
        {"{}", "events"},
        {"{\"events\":[]}", "events"},
        {"{\"events\":[{\"posting_number\":\"12345678-0001-1\",\"status\":\"created\",\"at\":\"2026-11-26T11:00:00Z\"}]}", "events[0].id"},
        {"{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\",\"at\":\"2026-11-26T11:00:00Z\"},"
         "{\"id\":\"b\",\"posting_number\":\"123\",\"status\":\"created\",\"at\":\"2026-11-26T11:00:00Z\"}]}", "events[1].posting_number"},
        {"{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"lost\",\"at\":\"2026-11-26T11:00:00Z\"}]}", "events[0].status"},
        {"{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\",\"at\":\"yesterday\"}]}", "events[0].at"},
        {"{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\",\"at\":\"2026-11-26T11:00:00Z\",\"comment\":5}]}", "events[0].comment"},
        {"{\"events\":[7]}", "events[0]."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        T_EQ_INT(parse(cases[i].body, &b, &e), RT_EINVAL);
        T_EQ_STR(e.field, cases[i].field);
        T_CHECK(e.reason[0] != '\0');
        T_CHECK(b.events == NULL);
    }
}

/* The recipient an event names (issue 7 item 4): any phone form -> E.164;
 * a bad one is refused naming the field; both optional. */
T_CASE(logistics_recipient_phone_and_name)
{
    static const struct { const char *given, *e164; } ok[] = {
        {"+7 949 123-45-67", "+79491234567"}, {"8 (949) 123 45 67", "+79491234567"},
        {"79491234567", "+79491234567"},      {"+380501234567", "+380501234567"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"events\":[{\"id\":\"r%zu\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\","
                 "\"at\":\"2026-11-26T11:00:00Z\",\"recipient_phone\":\"%s\",\"recipient_name\":\"Мария 👩\"}]}",
                 i, ok[i].given);
        logi_batch_t b;
        logi_error_t e;
        T_EQ_INT(parse(body, &b, &e), RT_OK);
        T_EQ_STR(b.events[0].recipient_phone, ok[i].e164);
        T_EQ_STR(b.events[0].recipient_name, "Мария 👩");
        logi_batch_free(&b);
    }
    logi_batch_t b;
    logi_error_t e;
    T_EQ_INT(parse("{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\","
                   "\"at\":\"2026-11-26T11:00:00Z\",\"recipient_phone\":null}]}", &b, &e), RT_OK);
    T_EQ_STR(b.events[0].recipient_phone, "");
    T_CHECK(b.events[0].recipient_name == NULL);
    logi_batch_free(&b);
    static const char *const bad_phone[] = {"\"звоните\"", "\"123\"", "79491234567", "\"+0123456789\"",
                                            "\"+7 949 123-45-67 доб. 5\""};
    for (size_t i = 0; i < sizeof bad_phone / sizeof bad_phone[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\","
                 "\"at\":\"2026-11-26T11:00:00Z\",\"recipient_phone\":%s}]}", bad_phone[i]);
        T_EQ_INT(parse(body, &b, &e), RT_EINVAL);
        T_EQ_STR(e.field, "events[0].recipient_phone");
        T_CHECK(b.events == NULL);
    }
    char body[1024], name[260];
    memset(name, 'x', 201);
    name[201] = '\0';
    snprintf(body, sizeof body,
             "{\"events\":[{\"id\":\"a\",\"posting_number\":\"12345678-0001-1\",\"status\":\"created\","
             "\"at\":\"2026-11-26T11:00:00Z\",\"recipient_name\":\"%s\"}]}", name);
    T_EQ_INT(parse(body, &b, &e), RT_EINVAL);
    T_EQ_STR(e.field, "events[0].recipient_name");
}

T_CASE(zone_polygon_contains_and_distance)
{
    geo_point_t z[GEO_POLYGON_MAX];
    /* a square around central Donetsk */
    int n = geo_polygon_parse("47.95,37.70;48.08,37.70;48.08,37.90;47.95,37.90", z, GEO_POLYGON_MAX);
    T_EQ_INT(n, 4);
    T_CHECK(geo_polygon_contains(z, n, (geo_point_t){48.0159, 37.8028}));     /* Donetsk */
    T_CHECK(!geo_polygon_contains(z, n, (geo_point_t){48.5740, 39.3078}));    /* Luhansk */
    T_CHECK(geo_polygon_contains(z, n, (geo_point_t){47.95, 37.80}));         /* on the edge */
    double d = geo_distance_m((geo_point_t){48.0159, 37.8028}, (geo_point_t){48.5740, 39.3078});
    T_CHECK(d > 120000 && d < 130000);                                        /* ~125 km */
    T_EQ_INT(geo_polygon_parse("1,2;3,4", z, GEO_POLYGON_MAX), RT_EINVAL);
    T_EQ_INT(geo_polygon_parse("1,2;3,x;5,6", z, GEO_POLYGON_MAX), RT_EINVAL);
    T_EQ_INT(geo_polygon_parse("91,2;3,4;5,6", z, GEO_POLYGON_MAX), RT_EINVAL);
}

T_CASE(templates_check_and_render)
{
    char bad[64];
    T_EQ_INT(tpl_check("Заказ {posting}: {status}. {{не переменная}}", bad, sizeof bad), RT_OK);
    T_EQ_INT(tpl_check("Заказ {postng}", bad, sizeof bad), RT_EINVAL);
    T_EQ_STR(bad, "postng");
    T_EQ_INT(tpl_check("Заказ {posting", bad, sizeof bad), RT_EINVAL);
    T_EQ_INT(tpl_check("Заказ }", bad, sizeof bad), RT_EINVAL);
    tpl_var_t v[] = {{"posting", "12345678-0001-1"}, {"status", "В пути"}, {"name", "<Иван>"}};
    char *s = tpl_render("{name}, заказ {posting}: {status}. {pickup_point}{{x}}", v, 3, true);
    T_EQ_STR(s, "&lt;Иван&gt;, заказ 12345678-0001-1: В пути. {x}");
    free(s);
    s = tpl_render("{name}", v, 3, false);
    T_EQ_STR(s, "<Иван>");
    free(s);
}

T_MAIN()
