/* test_notify_unit.c — unit tests of the notification pieces that need no
 * I/O: templates (check, HTML check, render with escaping, missing
 * variables, tidying), rendering of notify_outbox rows (variables from the
 * row and the database, the generic fallback, the pickup reminder keyboard)
 * the SMS.ru protocol (form body, replies, codes, parts, backoff), the
 * notification policy (hours, SMS events, storage of late arrivals) and the
 * watcher's status-only rendering.
 *
 * Exports: main (TAP).
 * Threads: main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "notify_policy.h"
#include "notify_render.h"
#include "rt.h"
#include "smsru.h"
#include "t.h"
#include "template.h"
#include "texts.h"
#include "timefmt.h"

T_CASE(template_check_names_and_syntax)
{
    char bad[64];
    tpl_problem_t pr;
    T_EQ_INT(tpl_check_ex("Заказ {posting}: {status}, {days} дн. {{literal}}", bad, sizeof bad, &pr), RT_OK);
    T_EQ_INT(pr, TPL_OK);
    T_EQ_INT(tpl_check_ex("Заказ {posting} {bogus}", bad, sizeof bad, &pr), RT_EINVAL);
    T_EQ_INT(pr, TPL_UNKNOWN_NAME);
    T_EQ_STR(bad, "bogus");
    T_EQ_INT(tpl_check_ex("Заказ {posting", bad, sizeof bad, &pr), RT_EINVAL);
    T_EQ_INT(pr, TPL_SYNTAX);
    T_EQ_STR(bad, "unclosed '{'");
    T_EQ_INT(tpl_check_ex("a } b", bad, sizeof bad, &pr), RT_EINVAL);
    T_EQ_INT(pr, TPL_SYNTAX);
    T_EQ_INT(tpl_check_ex("a {} b", bad, sizeof bad, &pr), RT_EINVAL);
    T_EQ_INT(pr, TPL_SYNTAX);
    T_EQ_INT(tpl_check_ex("a {post{ing} b", bad, sizeof bad, &pr), RT_EINVAL);
    T_EQ_INT(pr, TPL_SYNTAX);
    T_EQ_INT(tpl_check("", bad, sizeof bad), RT_OK);
    T_CHECK(strstr(tpl_known_list(), "storage_deadline") != NULL);
}

T_CASE(template_html_check)
{
    char bad[64];
    T_EQ_INT(tpl_check_html("📦 Заказ <b>{posting}</b> <i>в <u>пути</u></i> <a href=\"https://x/?a=1&b=2\">ссылка</a>",
                            bad, sizeof bad), RT_OK);
    T_EQ_INT(tpl_check_html("a > b &amp; {name}", bad, sizeof bad), RT_OK);
    T_EQ_INT(tpl_check_html("<b>не закрыт", bad, sizeof bad), RT_EINVAL);
    T_EQ_STR(bad, "<b> is not closed");
    T_EQ_INT(tpl_check_html("<b><i>x</b></i>", bad, sizeof bad), RT_EINVAL);
    T_EQ_STR(bad, "unexpected </b>");
    T_EQ_INT(tpl_check_html("<br>", bad, sizeof bad), RT_EINVAL);
    T_EQ_STR(bad, "unsupported tag <br>");
    T_EQ_INT(tpl_check_html("1 < 2", bad, sizeof bad), RT_EINVAL);
    T_EQ_INT(tpl_check_html("<b", bad, sizeof bad), RT_EINVAL);
}

T_CASE(template_render_escapes_for_html_only)
{
    tpl_var_t v[] = {{"posting", "12345678-0001-1"}, {"name", "<Иван & Co>"}, {"pickup_point", "ПВЗ \"Центр\""}};
    char *s = tpl_render("<b>{name}</b>: {posting} @ {pickup_point}", v, 3, true);
    T_EQ_STR(s, "<b>&lt;Иван &amp; Co&gt;</b>: 12345678-0001-1 @ ПВЗ &quot;Центр&quot;");
    free(s);
    s = tpl_render("{name}: {posting}", v, 3, false);
    T_EQ_STR(s, "<Иван & Co>: 12345678-0001-1");
    free(s);
    T_CHECK(tpl_render("{nope}", v, 3, false) == NULL);
}

T_CASE(template_missing_vars_are_tidied)
{
    tpl_var_t v[] = {{"posting", "12345678-0001-1"}};
    char *s = tpl_render("Заказ {posting} в пункте {pickup_point}. До {storage_deadline} .\nИмя: {name} !", v, 1,
                         false);
    T_EQ_STR(s, "Заказ 12345678-0001-1 в пункте . До  .\nИмя:  !");
    tpl_tidy(s);
    T_EQ_STR(s, "Заказ 12345678-0001-1 в пункте. До.\nИмя:!");
    free(s);
    char t[] = "a  b   c \n  d ";
    tpl_tidy(t);
    T_EQ_STR(t, "a b c\nd");
}

T_CASE(render_row_uses_template_and_database_values)
{
    notify_row_t row = {
        .event = "at_pickup_point",
        .posting = "12345678-0001-1",
        .vars_json = "{\"posting\":\"12345678-0001-1\",\"status\":\"Прибыл в пункт выдачи\"}",
        .name = "Мария <3",
        .pickup_point = "ПВЗ <Центр>",
        .storage_until_ms = 1764155666000LL,   /* 2025-11-26 11:14:26 UTC = 14:14 in Moscow */
        .tpl = "{name}, заказ <b>{posting}</b> в {pickup_point} до {storage_deadline}.",
    };
    unsigned flags = 99;
    char *s = notify_render_text(&row, true, &flags);
    T_EQ_INT(flags, 0);
    T_EQ_STR(s, "Мария &lt;3, заказ <b>12345678-0001-1</b> в ПВЗ &lt;Центр&gt; до 26.11.2025 14:14.");
    free(s);
    s = notify_render_text(&row, false, &flags);
    T_EQ_STR(s, "Мария <3, заказ <b>12345678-0001-1</b> в ПВЗ <Центр> до 26.11.2025 14:14.");
    free(s);
}

T_CASE(render_row_falls_back_to_generic_text)
{
    notify_row_t row = {.event = "in_transit", .posting = "12345678-0002-1",
                        .vars_json = "{\"posting\":\"12345678-0002-1\",\"status\":\"В пути\"}", .tpl = NULL};
    unsigned flags = 0;
    char *s = notify_render_text(&row, true, &flags);
    T_CHECK(flags & NOTIFY_GENERIC);
    T_CHECK(!(flags & NOTIFY_BAD_TPL));
    T_CHECK(strstr(s, "<b>12345678-0002-1</b>") != NULL);
    T_CHECK(strstr(s, "В пути") != NULL);
    free(s);
    row.tpl = "Заказ {postingg}";           /* edited by hand and broken */
    s = notify_render_text(&row, false, &flags);
    T_CHECK(flags & NOTIFY_GENERIC);
    T_CHECK(flags & NOTIFY_BAD_TPL);
    T_CHECK(strstr(s, "12345678-0002-1") != NULL && strstr(s, "<b>") == NULL);
    free(s);
    row.tpl = "Заказ <b>{posting}";          /* Telegram would refuse this HTML */
    s = notify_render_text(&row, true, &flags);
    T_CHECK(flags & NOTIFY_BAD_TPL);
    T_CHECK(strstr(s, "<b>12345678-0002-1</b>") != NULL);
    free(s);
    s = notify_render_text(&row, false, &flags);   /* as SMS it is only text */
    T_EQ_INT(flags, 0);
    T_EQ_STR(s, "Заказ <b>12345678-0002-1");
    free(s);
    row.tpl = "{comment}";                   /* renders to nothing */
    s = notify_render_text(&row, false, &flags);
    T_CHECK(flags & NOTIFY_GENERIC);
    T_CHECK(strstr(s, "12345678-0002-1") != NULL);
    free(s);
    row.vars_json = "not json";              /* unreadable vars: the row's own posting still shows */
    row.tpl = "Заказ {posting}: {status}.";
    s = notify_render_text(&row, false, &flags);
    T_EQ_STR(s, "Заказ 12345678-0002-1:.");
    free(s);
}

T_CASE(reminder_days_and_keyboard)
{
    T_EQ_INT(notify_reminder_days("pickup_reminder_3"), 3);
    T_EQ_INT(notify_reminder_days("pickup_reminder_14"), 14);
    T_EQ_INT(notify_reminder_days("pickup_reminder_"), 0);
    T_EQ_INT(notify_reminder_days("pickup_reminder_3x"), 0);
    T_EQ_INT(notify_reminder_days("in_transit"), 0);
    notify_row_t row = {.event = "pickup_reminder_4", .posting = "1234567890-0001-123",
                        .vars_json = "{\"status\":\"Прибыл в пункт выдачи\"}",
                        .tpl = "Заказ {posting} ждёт {days} дн."};
    unsigned flags = 0;
    char *p = notify_render_tg_params(&row, 777, &flags);
    cJSON *j = cJSON_Parse(p);
    T_CHECK(j != NULL);
    T_EQ_INT((long long)cJSON_GetObjectItem(j, "chat_id")->valuedouble, 777);
    T_EQ_STR(cJSON_GetObjectItem(j, "text")->valuestring, "Заказ 1234567890-0001-123 ждёт 4 дн.");
    T_EQ_STR(cJSON_GetObjectItem(j, "parse_mode")->valuestring, "HTML");
    cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reply_markup"), "inline_keyboard");
    T_EQ_INT(cJSON_GetArraySize(kb), 3);
    const char *want[][2] = {{"ext", "Продлить хранение"}, {"cur", "Доставить курьером"}, {"ret", "Оформить возврат"}};
    for (int i = 0; i < 3; i++) {
        cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(kb, i), 0);
        char data[80];
        snprintf(data, sizeof data, "pk:%s:1234567890-0001-123", want[i][0]);
        T_EQ_STR(cJSON_GetObjectItem(b, "callback_data")->valuestring, data);
        T_CHECK(strlen(data) <= 64);
        T_EQ_STR(cJSON_GetObjectItem(b, "text")->valuestring, want[i][1]);
    }
    cJSON_Delete(j);
    free(p);
    row.event = "in_transit";                /* no buttons on status notices */
    p = notify_render_tg_params(&row, 777, &flags);
    j = cJSON_Parse(p);
    T_CHECK(cJSON_GetObjectItem(j, "reply_markup") == NULL);
    cJSON_Delete(j);
    free(p);
}

static int64_t ms_of(const char *rfc3339)
{
    int64_t ms = 0;
    if (timefmt_parse_rfc3339(rfc3339, &ms) != RT_OK) T_FAIL(rfc3339);
    return ms;
}

/* 10:00-20:00 Moscow (UTC+3): inside unchanged, before it the same day's
 * 10:00, at or after 20:00 the next day's 10:00 — 03:00 included. */
T_CASE(notify_hours_shift_to_the_next_window)
{
    static const struct { const char *at, *want; } cases[] = {
        {"2026-12-08T00:00:00Z", "2026-12-08T07:00:00Z"},   /* 03:00 -> 10:00 */
        {"2026-12-08T06:59:59Z", "2026-12-08T07:00:00Z"},   /* 09:59:59 */
        {"2026-12-08T07:00:00Z", "2026-12-08T07:00:00Z"},   /* 10:00 */
        {"2026-12-08T09:30:00Z", "2026-12-08T09:30:00Z"},   /* 12:30 */
        {"2026-12-08T16:59:59Z", "2026-12-08T16:59:59Z"},   /* 19:59:59 */
        {"2026-12-08T17:00:00Z", "2026-12-09T07:00:00Z"},   /* 20:00 -> tomorrow */
        {"2026-12-08T20:59:59Z", "2026-12-09T07:00:00Z"},   /* 23:59:59 */
        {"2026-12-08T21:00:00Z", "2026-12-09T07:00:00Z"},   /* 00:00 of the 9th */
        {"2026-12-31T18:00:00Z", "2027-01-01T07:00:00Z"},   /* over the year's end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = notify_window_next_h(ms_of(cases[i].at), 10, 20);
        if (got != ms_of(cases[i].want)) printf("# %s -> %lld\n", cases[i].at, (long long)got);
        T_EQ_INT(got, ms_of(cases[i].want));
    }
    T_EQ_INT(notify_window_next_h(ms_of("2026-12-08T00:00:00Z"), 0, 24), ms_of("2026-12-08T00:00:00Z"));
    T_EQ_INT(notify_window_next_h(ms_of("2026-12-08T20:30:00Z"), 0, 1), ms_of("2026-12-08T21:00:00Z"));
    /* the configured hours */
    T_EQ_INT(notify_policy_set(20, 10, NULL), RT_EINVAL);
    T_EQ_INT(notify_policy_set(9, 21, "in_transit"), RT_OK);
    T_EQ_INT(notify_window_next(ms_of("2026-12-08T05:00:00Z")), ms_of("2026-12-08T06:00:00Z"));
    T_CHECK(notify_window_open(ms_of("2026-12-08T17:30:00Z")));
    T_CHECK(!notify_window_open(ms_of("2026-12-08T18:00:00Z")));
    T_EQ_INT(notify_policy_set(10, 20, NULL), RT_OK);
}

T_CASE(sms_only_for_the_chosen_events)
{
    const char *list = "at_pickup_point, out_for_delivery,pickup_reminder";
    T_CHECK(notify_sms_event_in("at_pickup_point", list));
    T_CHECK(notify_sms_event_in("out_for_delivery", list));
    T_CHECK(notify_sms_event_in("pickup_reminder_3", list));
    T_CHECK(notify_sms_event_in("pickup_reminder_14", list));
    T_CHECK(!notify_sms_event_in("in_transit", list));
    T_CHECK(!notify_sms_event_in("at_pickup", list));
    T_CHECK(!notify_sms_event_in("delivered", "in_transit,pickup_reminder"));
    T_CHECK(notify_sms_event_in("delivered", "all"));
    T_CHECK(!notify_sms_event_in(NULL, "all"));
    T_EQ_INT(notify_policy_set(10, 20, NULL), RT_OK);   /* the default list */
    T_CHECK(notify_sms_event_on("at_pickup_point") && notify_sms_event_on("pickup_reminder_6"));
    T_CHECK(!notify_sms_event_on("accepted") && !notify_sms_event_on("in_transit"));
    T_EQ_INT(notify_policy_set(10, 20, "all"), RT_OK);
    T_CHECK(notify_sms_event_on("accepted"));
    T_EQ_INT(notify_policy_set(10, 20, NULL), RT_OK);
}

/* A parcel we learn of after its storage would have ended: the storage
 * counts from now, so the deadline shown is never in the past. */
T_CASE(late_arrival_storage_counts_from_now)
{
    const int64_t day = 86400000LL, now = ms_of("2026-12-08T09:00:00Z");
    T_EQ_INT(notify_pickup_start(now - 2 * day, now, 7), now - 2 * day);
    T_EQ_INT(notify_pickup_start(now - 7 * day + 1, now, 7), now - 7 * day + 1);
    T_EQ_INT(notify_pickup_start(now - 7 * day, now, 7), now);
    T_EQ_INT(notify_pickup_start(now - 30 * day, now, 7), now);
}

/* Someone who only tracks the number: the status, never the pickup point,
 * the deadline or the owner's name; «🔕 Не следить» under it. */
T_CASE(watcher_gets_status_only)
{
    notify_row_t row = {.event = "at_pickup_point", .posting = "12345678-0001-1",
                        .vars_json = "{\"posting\":\"12345678-0001-1\",\"status\":\"Прибыл в пункт выдачи\","
                                     "\"pickup_point\":\"ПВЗ Донецк\",\"storage_deadline\":\"15.12.2026 10:00\"}",
                        .name = "Мария", .pickup_point = "ПВЗ Донецк", .storage_until_ms = 1765782000000LL,
                        .tpl = "📍 {name}, заказ <b>{posting}</b> в пункте {pickup_point} до {storage_deadline}.",
                        .watcher = true};
    unsigned flags = 7;
    char *p = notify_render_tg_params(&row, 42, &flags);
    T_EQ_INT(flags, 0);
    cJSON *j = cJSON_Parse(p);
    T_EQ_STR(cJSON_GetObjectItem(j, "text")->valuestring, "📦 Заказ <b>12345678-0001-1</b>: Прибыл в пункт выдачи.");
    T_CHECK(strstr(p, "ПВЗ") == NULL && strstr(p, "15.12") == NULL && strstr(p, "Мария") == NULL);
    cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reply_markup"),
                                                                         "inline_keyboard"), 0), 0);
    T_EQ_STR(cJSON_GetObjectItem(b, "callback_data")->valuestring, "w:off:12345678-0001-1");
    T_EQ_STR(cJSON_GetObjectItem(b, "text")->valuestring, "🔕 Не следить");
    cJSON_Delete(j);
    free(p);
    row.watcher = false;   /* the owner: the template with everything */
    p = notify_render_text(&row, true, &flags);
    T_CHECK(strstr(p, "ПВЗ Донецк") != NULL && strstr(p, "Мария") != NULL);
    free(p);
}

T_CASE(reminder_generic_text_for_unknown_days)
{
    notify_row_t row = {.event = "pickup_reminder_5", .posting = "12345678-0001-1",
                        .vars_json = "{\"posting\":\"12345678-0001-1\"}", .pickup_point = "ПВЗ №1",
                        .storage_until_ms = 1764155666000LL, .tpl = NULL};
    unsigned flags = 0;
    char *s = notify_render_text(&row, false, &flags);
    T_CHECK(flags & NOTIFY_GENERIC);
    T_CHECK(strstr(s, "12345678-0001-1") != NULL);
    T_CHECK(strstr(s, "26.11.2025") != NULL);
    T_CHECK(smsru_parts(s) <= 2);
    free(s);
}

T_CASE(generic_texts_are_valid)
{
    char bad[64];
    text_id_t tg[] = {T_NOTIFY_GENERIC_TG, T_NOTIFY_GENERIC_REMINDER_TG};
    text_id_t sms[] = {T_NOTIFY_GENERIC_SMS, T_NOTIFY_GENERIC_REMINDER_SMS};
    for (int i = 0; i < 2; i++) {
        T_EQ_INT(tpl_check(text_get(tg[i]), bad, sizeof bad), RT_OK);
        T_EQ_INT(tpl_check_html(text_get(tg[i]), bad, sizeof bad), RT_OK);
        T_EQ_INT(tpl_check(text_get(sms[i]), bad, sizeof bad), RT_OK);
        T_CHECK(strchr(text_get(sms[i]), '<') == NULL);
    }
}

T_CASE(smsru_form_body)
{
    char *f = smsru_form("KEY+1", "+79491234501", "Заказ 1 & 2", NULL);
    T_EQ_STR(f, "api_id=KEY%2B1&to=79491234501&msg=%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%201%20%26%202&json=1");
    free(f);
    f = smsru_form("K", "+79491234501", "x", "plus7");
    T_EQ_STR(f, "api_id=K&to=79491234501&msg=x&json=1&from=plus7");
    free(f);
    T_CHECK(smsru_form("K", "", "x", NULL) == NULL);
}

T_CASE(smsru_replies)
{
    smsru_result_t r;
    const char *ok = "{\"status\":\"OK\",\"status_code\":100,\"sms\":{\"79491234501\":{\"status\":\"OK\","
                     "\"status_code\":100,\"sms_id\":\"000000-10000001\"}},\"balance\":1000}";
    smsru_parse(true, NULL, 200, ok, strlen(ok), "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_SENT);
    T_EQ_INT(r.code, 100);
    T_EQ_STR(r.sms_id, "000000-10000001");

    const char *per = "{\"status\":\"OK\",\"status_code\":100,\"sms\":{\"79491234501\":{\"status\":\"ERROR\","
                      "\"status_code\":207,\"status_text\":\"Нельзя отправить\"}}}";
    smsru_parse(true, NULL, 200, per, strlen(per), "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_FAILED);
    T_EQ_INT(r.code, 207);
    T_CHECK(strstr(r.text, "207") != NULL);
    T_CHECK(strstr(r.text, "79491234501") == NULL);   /* no phone numbers in errors */

    const char *req = "{\"status\":\"ERROR\",\"status_code\":200,\"status_text\":\"Неправильный api_id\"}";
    smsru_parse(true, NULL, 200, req, strlen(req), "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_FAILED);
    T_EQ_INT(r.code, 200);

    const char *funds = "{\"status\":\"OK\",\"status_code\":100,\"sms\":{\"79491234501\":{\"status\":\"ERROR\","
                        "\"status_code\":201}}}";
    smsru_parse(true, NULL, 200, funds, strlen(funds), "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_FAILED);
    T_EQ_INT(r.code, 201);
    T_CHECK(strstr(r.text, "insufficient funds") != NULL);

    const char *busy = "{\"status\":\"ERROR\",\"status_code\":220}";
    smsru_parse(true, NULL, 200, busy, strlen(busy), "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_RETRY);
    T_EQ_INT(r.code, 220);

    smsru_parse(true, NULL, 503, "<html>", 6, "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_RETRY);
    T_EQ_INT(r.code, -503);
    smsru_parse(true, NULL, 404, "", 0, "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_FAILED);
    smsru_parse(false, "Connection refused", 0, NULL, 0, "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_RETRY);
    T_CHECK(strstr(r.text, "Connection refused") != NULL);
    smsru_parse(true, NULL, 200, "garbage", 7, "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_RETRY);
    /* the number's key in another form: the only entry is taken */
    const char *other = "{\"status\":\"OK\",\"sms\":{\"89491234501\":{\"status\":\"OK\",\"status_code\":101,"
                        "\"sms_id\":\"A\"}}}";
    smsru_parse(true, NULL, 200, other, strlen(other), "+79491234501", &r);
    T_EQ_INT(r.outcome, SMSRU_SENT);
    T_EQ_STR(r.sms_id, "A");
}

T_CASE(smsru_parts_and_backoff)
{
    T_EQ_INT(smsru_parts(""), 0);
    char gsm[200];
    memset(gsm, 'a', 160);
    gsm[160] = '\0';
    T_EQ_INT(smsru_parts(gsm), 1);
    gsm[160] = 'a';
    gsm[161] = '\0';
    T_EQ_INT(smsru_parts(gsm), 2);
    char cyr[400] = "";
    for (int i = 0; i < 70; i++) strcat(cyr, "я");
    T_EQ_INT(smsru_parts(cyr), 1);
    strcat(cyr, "я");
    T_EQ_INT(smsru_parts(cyr), 2);
    while (smsru_parts(cyr) == 2) strcat(cyr, "я");
    T_EQ_INT((int)(strlen(cyr) / 2), 135);   /* 2 parts hold 134 Cyrillic characters */
    T_EQ_INT(smsru_backoff_ms(1), 1000);
    T_EQ_INT(smsru_backoff_ms(2), 2000);
    T_EQ_INT(smsru_backoff_ms(7), 64000);
    T_EQ_INT(smsru_backoff_ms(30), 300000);
    T_CHECK(smsru_code_transient(220));
    T_CHECK(!smsru_code_transient(201));
}

T_MAIN()
