/* test_tgsim_api.c — black-box tests of tgsim's Bot API and control API.
 *
 * One tgsim child process (started on a free port by the first case that
 * needs it) serves every case; each case starts with /control/reset and the
 * test defaults (rate limits off, fast webhook retries), then turns on what
 * it checks. Two cases start their own tgsim to test command-line options
 * and the clean SIGTERM exit.
 *
 * Timing: only the long-poll cases assert on elapsed time, with wide margins
 * (a 1 s poll must take 0.8..6 s; an early wake-up must come well before
 * the 20 s timeout).
 * Threads: main; a few cases start a helper thread and join it.
 */
#include "t.h"
#include "tgsim_harness.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

static tgh_sim_t sim;
static int sim_up;

/* Start the shared tgsim once and reset it for this case. */
static tgh_sim_t *S(void)
{
    if (!sim_up) {
        if (tgh_start(&sim, NULL) != 0) T_FAIL("tgsim did not start");
        sim_up = 1;
    }
    T_CHECK(tgh_fresh(&sim) == 0);
    return &sim;
}

/* Create a user who has started the bot; returns its id. */
static long long user(tgh_sim_t *s, long long id, const char *name, const char *phone)
{
    char body[256];
    snprintf(body, sizeof body, "{\"id\":%lld,\"first_name\":\"%s\",\"phone\":\"%s\",\"started\":true}", id, name, phone);
    long st;
    cJSON *j = tgh_ctl(s, "POST", "/control/users", body, &st);
    T_EQ_INT(st, 200);
    long long got = (long long)tgh_num(j, "user.id");
    cJSON_Delete(j);
    return got;
}

/* Send a text to chat 111 and return the reply. */
static cJSON *say(tgh_sim_t *s, long long chat, const char *json_text_fields, long *st)
{
    char body[8192];
    snprintf(body, sizeof body, "{\"chat_id\":%lld,%s}", chat, json_text_fields);
    return tgh_api(s, "sendMessage", body, st);
}

static cJSON *updates(tgh_sim_t *s, const char *query, long *st)
{
    char path[256];
    snprintf(path, sizeof path, "/bot%s/getUpdates%s", TGH_TOKEN, query);
    return tgh_ctl(s, "GET", path, NULL, st);
}

/* ---- envelopes and tokens ---- */

T_CASE(envelope_getme_ok)
{
    tgh_sim_t *s = S();
    long st;
    cJSON *j = tgh_api(s, "getMe", NULL, &st);
    T_EQ_INT(st, 200);
    T_CHECK(cJSON_IsTrue(tgh_path(j, "ok")));
    T_EQ_INT((long long)tgh_num(j, "result.id"), 123456);
    T_CHECK(cJSON_IsTrue(tgh_path(j, "result.is_bot")));
    T_EQ_STR(tgh_str(j, "result.username"), "plus7_bot");
    cJSON_Delete(j);
}

T_CASE(envelope_error_unauthorized_and_not_found)
{
    tgh_sim_t *s = S();
    long st;
    char path[128];
    snprintf(path, sizeof path, "/botnot-a-token/getMe");
    cJSON *j = tgh_ctl(s, "GET", path, NULL, &st);
    T_EQ_INT(st, 401);
    T_CHECK(cJSON_IsFalse(tgh_path(j, "ok")));
    T_EQ_INT((int)tgh_num(j, "error_code"), 401);
    T_EQ_STR(tgh_str(j, "description"), "Unauthorized");
    cJSON_Delete(j);
    j = tgh_api(s, "noSuchMethod", NULL, &st);
    T_EQ_INT(st, 404);
    T_EQ_INT((int)tgh_num(j, "error_code"), 404);
    T_EQ_STR(tgh_str(j, "description"), "Not Found");
    cJSON_Delete(j);
}

T_CASE(params_in_every_encoding_and_any_method_case)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    char url[256];
    tgh_resp_t r;
    /* query string, GET, odd case */
    snprintf(url, sizeof url, "%s/bot%s/SENDMESSAGE?chat_id=111&text=q%%20s", s->base, TGH_TOKEN);
    T_CHECK(tgh_http("GET", url, NULL, NULL, 0, &r) == 0);
    T_EQ_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    T_EQ_STR(tgh_str(j, "result.text"), "q s");
    cJSON_Delete(j);
    tgh_resp_free(&r);
    /* form */
    j = tgh_api_form(s, "sendmessage", "chat_id=111&text=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82+%D0%BC%D0%B8%D1%80", &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.text"), "привет мир");
    cJSON_Delete(j);
    /* JSON with a reply_markup object */
    j = say(s, 111, "\"text\":\"json\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"A\",\"callback_data\":\"a\"}]]}", &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.reply_markup.inline_keyboard.0.0.callback_data"), "a");
    cJSON_Delete(j);
    /* multipart */
    snprintf(url, sizeof url, "%s/bot%s/sendMessage", s->base, TGH_TOKEN);
    const char *mp = "--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n111\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nmulti\r\n--XyZ--\r\n";
    T_CHECK(tgh_http("POST", url, "multipart/form-data; boundary=XyZ", mp, strlen(mp), &r) == 0);
    T_EQ_INT(r.status, 200);
    j = cJSON_Parse(r.body);
    T_EQ_STR(tgh_str(j, "result.text"), "multi");
    T_EQ_INT((int)tgh_num(j, "result.message_id"), 4);
    cJSON_Delete(j);
    tgh_resp_free(&r);
}

/* ---- chats and users ---- */

T_CASE(chat_not_found_not_started_and_blocked)
{
    tgh_sim_t *s = S();
    long st;
    cJSON *j = say(s, 999, "\"text\":\"x\"", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: chat not found");
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users", "{\"id\":222,\"first_name\":\"Пётр\"}", &st));
    j = say(s, 222, "\"text\":\"x\"", &st);
    T_EQ_INT(st, 403);
    T_EQ_INT((int)tgh_num(j, "error_code"), 403);
    T_EQ_STR(tgh_str(j, "description"), "Forbidden: bot can't initiate conversation with a user");
    cJSON_Delete(j);
    /* writing to the bot starts it */
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users/222/command", "{\"command\":\"start\"}", &st));
    T_EQ_INT(st, 200);
    j = say(s, 222, "\"text\":\"hello\"", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    /* blocking: 403 and a my_chat_member update */
    j = tgh_ctl(s, "POST", "/control/users/222/block", NULL, &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    j = say(s, 222, "\"text\":\"x\"", &st);
    T_EQ_INT(st, 403);
    T_EQ_STR(tgh_str(j, "description"), "Forbidden: bot was blocked by the user");
    cJSON_Delete(j);
    j = updates(s, "", &st);
    T_EQ_STR(tgh_str(j, "result.-1.my_chat_member.new_chat_member.status"), "kicked");
    T_EQ_STR(tgh_str(j, "result.-1.my_chat_member.old_chat_member.status"), "member");
    T_EQ_INT((long long)tgh_num(j, "result.-1.my_chat_member.new_chat_member.user.id"), 123456);
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users/222/unblock", NULL, &st));
    j = say(s, 222, "\"text\":\"back\"", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
}

/* ---- text validation ---- */

T_CASE(html_parse_mode_valid_and_invalid)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON *j = say(s, 111, "\"text\":\"<b>Заказ</b> &lt;12345678-0001-1&gt; <a href=\\\"https://t.me/x\\\">ссылка</a>\","
                           "\"parse_mode\":\"HTML\"", &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.text"), "Заказ <12345678-0001-1> ссылка");
    T_EQ_STR(tgh_str(j, "result.entities.0.type"), "bold");
    T_EQ_INT((int)tgh_num(j, "result.entities.0.length"), 5);
    T_EQ_STR(tgh_str(j, "result.entities.1.type"), "text_link");
    T_EQ_INT((int)tgh_num(j, "result.entities.1.offset"), 24);
    T_EQ_STR(tgh_str(j, "result.entities.1.url"), "https://t.me/x");
    cJSON_Delete(j);
    static const struct { const char *text, *desc; } bad[] = {
        {"a <br> b", "Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 2"},
        {"1 < 2", "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 2"},
        {"<b>x", "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""},
        {"<b>x</i>", "Bad Request: can't parse entities: Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "chat_id", 111);
        cJSON_AddStringToObject(b, "text", bad[i].text);
        cJSON_AddStringToObject(b, "parse_mode", "HTML");
        char *body = cJSON_PrintUnformatted(b);
        j = tgh_api(s, "sendMessage", body, &st);
        T_EQ_INT(st, 400);
        T_EQ_INT((int)tgh_num(j, "error_code"), 400);
        T_EQ_STR(tgh_str(j, "description"), bad[i].desc);
        cJSON_Delete(j);
        free(body);
        cJSON_Delete(b);
    }
    /* the same text without parse_mode is fine */
    j = say(s, 111, "\"text\":\"1 < 2\"", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
}

T_CASE(text_length_limits)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON *j = say(s, 111, "\"text\":\"\"", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: message text is empty");
    cJSON_Delete(j);
    j = say(s, 111, "\"text\":\"<b> </b>\",\"parse_mode\":\"HTML\"", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: message text is empty");
    cJSON_Delete(j);
    /* 4096 Cyrillic letters (8192 bytes) fit; 4097 do not */
    char *text = malloc(4097 * 2 + 1);
    for (int n = 4096; n <= 4097; n++) {
        for (int i = 0; i < n; i++) memcpy(text + 2 * i, "ж", 2);
        text[2 * n] = '\0';
        char *body = malloc(2 * n + 64);
        sprintf(body, "{\"chat_id\":111,\"text\":\"%s\"}", text);
        j = tgh_api(s, "sendMessage", body, &st);
        T_EQ_INT(st, n == 4096 ? 200 : 400);
        if (n == 4097) T_EQ_STR(tgh_str(j, "description"), "Bad Request: message is too long");
        cJSON_Delete(j);
        free(body);
    }
    free(text);
}

T_CASE(callback_data_limit_is_64_bytes)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    char data[200], body[512];
    static const struct { const char *unit; int n; int ok; } cases[] = {
        {"a", 64, 1}, {"a", 65, 0}, {"я", 32, 1}, {"я", 33, 0}, {"a", 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        data[0] = '\0';
        for (int i = 0; i < cases[k].n; i++) strcat(data, cases[k].unit);
        snprintf(body, sizeof body, "{\"chat_id\":111,\"text\":\"t\",\"reply_markup\":{\"inline_keyboard\":"
                 "[[{\"text\":\"B\",\"callback_data\":\"%s\"}]]}}", data);
        cJSON *j = tgh_api(s, "sendMessage", body, &st);
        T_EQ_INT(st, cases[k].ok ? 200 : 400);
        if (!cases[k].ok) T_EQ_STR(tgh_str(j, "description"), "Bad Request: BUTTON_DATA_INVALID");
        cJSON_Delete(j);
    }
}

/* ---- keyboards, callbacks, edits ---- */

T_CASE(reply_keyboard_contact_button_sends_own_contact)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON *j = say(s, 111, "\"text\":\"Поделитесь номером\",\"reply_markup\":{\"keyboard\":[[{\"text\":\"📱 Отправить номер\","
                           "\"request_contact\":true}]],\"one_time_keyboard\":true,\"resize_keyboard\":true}", &st);
    T_EQ_INT(st, 200);
    T_CHECK(tgh_path(j, "result.reply_markup") == NULL);     /* reply keyboards are not echoed */
    cJSON_Delete(j);
    j = tgh_ctl(s, "POST", "/control/users/111/press_reply", "{\"text\":\"нет такой\"}", &st);
    T_EQ_INT(st, 409);
    cJSON_Delete(j);
    j = tgh_ctl(s, "POST", "/control/users/111/press_reply", "{\"text\":\"📱 Отправить номер\"}", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    j = updates(s, "", &st);
    cJSON *m = tgh_path(j, "result.-1.message");
    T_EQ_STR(tgh_str(m, "contact.phone_number"), "+79001234567");
    T_EQ_INT((long long)tgh_num(m, "contact.user_id"), (long long)tgh_num(m, "from.id"));
    cJSON_Delete(j);
    /* one_time_keyboard: gone after the press */
    j = tgh_ctl(s, "GET", "/control/chats/111", NULL, &st);
    T_CHECK(cJSON_IsNull(tgh_path(j, "reply_keyboard")));
    cJSON_Delete(j);
    /* a foreign contact carries another user_id */
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users/111/contact",
                         "{\"phone_number\":\"79990001122\",\"first_name\":\"Мама\",\"user_id\":555}", &st));
    j = updates(s, "", &st);
    T_EQ_INT((long long)tgh_num(j, "result.-1.message.contact.user_id"), 555);
    T_EQ_INT((long long)tgh_num(j, "result.-1.message.from.id"), 111);
    cJSON_Delete(j);
}

T_CASE(inline_button_press_and_answer)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON *j = say(s, 111, "\"text\":\"Подтвердить?\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"Да\","
                           "\"callback_data\":\"confirm:12345678-0001-1\"},{\"text\":\"Нет\",\"callback_data\":\"no\"}]]}", &st);
    int mid = (int)tgh_num(j, "result.message_id");
    cJSON_Delete(j);
    char body[256];
    snprintf(body, sizeof body, "{\"message_id\":%d,\"data\":\"confirm:12345678-0001-1\"}", mid);
    j = tgh_ctl(s, "POST", "/control/users/111/press_inline", body, &st);
    T_EQ_INT(st, 200);
    char cqid[64];
    snprintf(cqid, sizeof cqid, "%s", tgh_str(j, "callback_query_id"));
    T_CHECK(cqid[0] != '\0');
    cJSON_Delete(j);
    j = updates(s, "", &st);
    cJSON *cq = tgh_path(j, "result.-1.callback_query");
    T_EQ_STR(tgh_str(cq, "id"), cqid);
    T_EQ_STR(tgh_str(cq, "data"), "confirm:12345678-0001-1");
    T_EQ_INT((int)tgh_num(cq, "message.message_id"), mid);
    T_EQ_INT((long long)tgh_num(cq, "from.id"), 111);
    T_CHECK(strlen(tgh_str(cq, "chat_instance")) > 0);
    cJSON_Delete(j);
    snprintf(body, sizeof body, "{\"callback_query_id\":\"%s\",\"text\":\"Принято\"}", cqid);
    j = tgh_api(s, "answerCallbackQuery", body, &st);
    T_EQ_INT(st, 200);
    T_CHECK(cJSON_IsTrue(tgh_path(j, "result")));
    cJSON_Delete(j);
    j = tgh_api(s, "answerCallbackQuery", body, &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"),
             "Bad Request: query is too old and response timeout expired or query ID is invalid");
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/chats/111", NULL, &st);
    T_CHECK(cJSON_IsTrue(tgh_path(j, "callbacks.0.answered")));
    T_EQ_STR(tgh_str(j, "callbacks.0.answer.text"), "Принято");
    cJSON_Delete(j);
    /* a button that is not on the message */
    snprintf(body, sizeof body, "{\"message_id\":%d,\"data\":\"forged\"}", mid);
    j = tgh_ctl(s, "POST", "/control/users/111/press_inline", body, &st);
    T_EQ_INT(st, 409);
    cJSON_Delete(j);
}

T_CASE(edit_message_text_rules)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON *j = say(s, 111, "\"text\":\"v1\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"B\",\"callback_data\":\"b\"}]]}", &st);
    int mid = (int)tgh_num(j, "result.message_id");
    cJSON_Delete(j);
    char body[512];
    snprintf(body, sizeof body, "{\"chat_id\":111,\"message_id\":%d,\"text\":\"v1\","
             "\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"B\",\"callback_data\":\"b\"}]]}}", mid);
    j = tgh_api(s, "editMessageText", body, &st);
    T_EQ_INT(st, 400);
    T_CHECK(strncmp(tgh_str(j, "description"), "Bad Request: message is not modified", 36) == 0);
    cJSON_Delete(j);
    /* new text without reply_markup: the keyboard is removed */
    snprintf(body, sizeof body, "{\"chat_id\":111,\"message_id\":%d,\"text\":\"<i>v2</i>\",\"parse_mode\":\"HTML\"}", mid);
    j = tgh_api(s, "editMessageText", body, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.text"), "v2");
    T_CHECK(tgh_num(j, "result.edit_date") > 0);
    T_CHECK(tgh_path(j, "result.reply_markup") == NULL);
    cJSON_Delete(j);
    snprintf(body, sizeof body, "{\"chat_id\":111,\"message_id\":%d,\"text\":\"x\"}", mid + 50);
    j = tgh_api(s, "editMessageText", body, &st);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: message to edit not found");
    cJSON_Delete(j);
    /* a user's message can't be edited by the bot */
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users/111/text", "{\"text\":\"hi\"}", &st));
    snprintf(body, sizeof body, "{\"chat_id\":111,\"message_id\":%d,\"text\":\"x\"}", mid + 1);
    j = tgh_api(s, "editMessageText", body, &st);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: message can't be edited");
    cJSON_Delete(j);
    /* editMessageReplyMarkup, and the history in the control API */
    snprintf(body, sizeof body, "{\"chat_id\":111,\"message_id\":%d,\"reply_markup\":"
             "{\"inline_keyboard\":[[{\"text\":\"C\",\"callback_data\":\"c\"}]]}}", mid);
    j = tgh_api(s, "editMessageReplyMarkup", body, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.reply_markup.inline_keyboard.0.0.text"), "C");
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/chats/111?from=bot", NULL, &st);
    T_EQ_INT((int)tgh_num(j, "messages.0.edit_count"), 2);
    T_EQ_STR(tgh_str(j, "messages.0.edits.0.message.text"), "v1");
    T_EQ_STR(tgh_str(j, "messages.0.raw_text"), "<i>v2</i>");
    T_EQ_STR(tgh_str(j, "messages.0.parse_mode"), "HTML");
    cJSON_Delete(j);
}

/* ---- getUpdates ---- */

T_CASE(getupdates_offsets_and_limit)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    for (int i = 0; i < 3; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"text\":\"m%d\"}", i);
        cJSON_Delete(tgh_ctl(s, "POST", "/control/users/111/text", body, &st));
    }
    cJSON *j = updates(s, "", &st);
    T_EQ_INT(st, 200);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 3);
    long long first = (long long)tgh_num(j, "result.0.update_id");
    T_EQ_INT((long long)tgh_num(j, "result.1.update_id"), first + 1);
    T_EQ_INT((long long)tgh_num(j, "result.2.update_id"), first + 2);
    cJSON_Delete(j);
    /* not confirmed yet: the same three again; limit=2 gives two */
    j = updates(s, "?limit=2", &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 2);
    T_EQ_INT((long long)tgh_num(j, "result.0.update_id"), first);
    cJSON_Delete(j);
    /* offset = first+1 confirms the first */
    char q[64];
    snprintf(q, sizeof q, "?offset=%lld", first + 1);
    j = updates(s, q, &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 2);
    T_EQ_STR(tgh_str(j, "result.0.message.text"), "m1");
    cJSON_Delete(j);
    j = updates(s, "", &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 2);
    cJSON_Delete(j);
    /* a negative offset keeps only the last -offset updates */
    j = updates(s, "?offset=-1", &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 1);
    T_EQ_STR(tgh_str(j, "result.0.message.text"), "m2");
    cJSON_Delete(j);
    snprintf(q, sizeof q, "?offset=%lld", first + 3);
    j = updates(s, q, &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 0);
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/stats", NULL, &st);
    T_EQ_INT((int)tgh_num(j, "pending_updates"), 0);
    cJSON_Delete(j);
}

T_CASE(getupdates_allowed_updates_filter)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON_Delete(updates(s, "?allowed_updates=%5B%22callback_query%22%5D", &st));
    T_EQ_INT(st, 200);
    cJSON *j = tgh_ctl(s, "POST", "/control/users/111/text", "{\"text\":\"dropped\"}", &st);
    T_EQ_INT((int)tgh_num(j, "update_id"), 0);
    cJSON_Delete(j);
    cJSON_Delete(updates(s, "?allowed_updates=%5B%5D", &st));   /* [] = the default set */
    j = tgh_ctl(s, "POST", "/control/users/111/text", "{\"text\":\"kept\"}", &st);
    T_CHECK(tgh_num(j, "update_id") > 0);
    cJSON_Delete(j);
    j = updates(s, "", &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 1);
    T_EQ_STR(tgh_str(j, "result.0.message.text"), "kept");
    cJSON_Delete(j);
}

typedef struct {
    tgh_sim_t *s;
    int delay_ms;
    long status;
    cJSON *reply;
    const char *what;           /* "text" or "poll" */
} helper_t;

static void *helper_main(void *arg)
{
    helper_t *h = arg;
    tgh_sleep_ms(h->delay_ms);
    if (!strcmp(h->what, "text")) {
        h->reply = tgh_ctl(h->s, "POST", "/control/users/111/text", "{\"text\":\"wake\"}", &h->status);
    } else if (!strcmp(h->what, "bot")) {
        h->reply = say(h->s, 111, "\"text\":\"from bot\"", &h->status);
    } else {
        h->reply = updates(h->s, "?timeout=20", &h->status);
    }
    return NULL;
}

T_CASE_TAGGED(getupdates_long_poll_timeout_and_wakeup, "slow")
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    double t0 = tgh_now();
    cJSON *j = updates(s, "?timeout=1", &st);
    double dt = tgh_now() - t0;
    T_EQ_INT(st, 200);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 0);
    T_CHECK(dt >= 0.8 && dt < 6.0);
    cJSON_Delete(j);
    /* an update arriving during the poll ends it early */
    helper_t h = {s, 300, 0, NULL, "text"};
    pthread_t th;
    pthread_create(&th, NULL, helper_main, &h);
    t0 = tgh_now();
    j = updates(s, "?timeout=20", &st);
    dt = tgh_now() - t0;
    pthread_join(th, NULL);
    cJSON_Delete(h.reply);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 1);
    T_EQ_STR(tgh_str(j, "result.0.message.text"), "wake");
    T_CHECK(dt < 10.0);
    cJSON_Delete(j);
}

T_CASE(getupdates_conflicts)
{
    tgh_sim_t *s = S();
    long st;
    /* a second poller ends the first with 409 */
    helper_t h = {s, 0, 0, NULL, "poll"};
    pthread_t th;
    pthread_create(&th, NULL, helper_main, &h);
    tgh_sleep_ms(300);
    cJSON *j = updates(s, "?timeout=0", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    pthread_join(th, NULL);
    T_EQ_INT(h.status, 409);
    T_EQ_STR(tgh_str(h.reply, "description"),
             "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
    cJSON_Delete(h.reply);
    /* with a webhook set, getUpdates is refused */
    j = tgh_api(s, "setWebhook", "{\"url\":\"http://127.0.0.1:9/hook\"}", &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "description"), "Webhook was set");
    cJSON_Delete(j);
    j = updates(s, "", &st);
    T_EQ_INT(st, 409);
    T_EQ_STR(tgh_str(j, "description"),
             "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    cJSON_Delete(j);
    j = tgh_api(s, "deleteWebhook", NULL, &st);
    T_EQ_STR(tgh_str(j, "description"), "Webhook was deleted");
    cJSON_Delete(j);
    j = updates(s, "", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
}

/* ---- flood control and faults ---- */

T_CASE(rate_limit_per_chat_answers_429_with_retry_after)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON_Delete(tgh_ctl(s, "POST", "/control/config",
                         "{\"rate_limits\":true,\"rate_chat\":0.2,\"rate_chat_burst\":3,\"rate_global\":1000}", &st));
    int ok = 0, limited = 0, ra = 0;
    char desc[128] = "";
    for (int i = 0; i < 5; i++) {
        cJSON *j = say(s, 111, "\"text\":\"x\"", &st);
        if (st == 200) ok++;
        if (st == 429) {
            limited++;
            ra = (int)tgh_num(j, "parameters.retry_after");
            T_EQ_INT((int)tgh_num(j, "error_code"), 429);
            snprintf(desc, sizeof desc, "%s", tgh_str(j, "description"));
        }
        cJSON_Delete(j);
    }
    T_EQ_INT(ok, 3);
    T_EQ_INT(limited, 2);
    /* one token per 5 s: the wait is about 5 s, never below 1 */
    T_CHECK(ra >= 1 && ra <= 5);
    char want[64];
    snprintf(want, sizeof want, "Too Many Requests: retry after %d", ra);
    T_EQ_STR(desc, want);
    /* another chat has its own bucket */
    user(s, 112, "Ольга", "+79001234568");
    cJSON *j = say(s, 112, "\"text\":\"y\"", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/stats", NULL, &st);
    T_EQ_INT((int)tgh_num(j, "too_many_requests"), 2);
    T_EQ_INT((int)tgh_num(j, "rate_limited"), 2);
    T_EQ_INT((int)tgh_num(j, "methods.sendMessage"), 6);
    cJSON_Delete(j);
}

T_CASE(rate_limit_per_group_per_minute)
{
    tgh_sim_t *s = S();
    long st;
    cJSON_Delete(tgh_ctl(s, "POST", "/control/groups", "{\"id\":-100500,\"title\":\"Курьеры\"}", &st));
    T_EQ_INT(st, 200);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/config",
                         "{\"rate_limits\":true,\"rate_group_per_min\":20,\"rate_group_burst\":2,\"rate_global\":1000}", &st));
    cJSON *j;
    for (int i = 0; i < 2; i++) {
        j = say(s, -100500, "\"text\":\"g\"", &st);
        T_EQ_INT(st, 200);
        cJSON_Delete(j);
    }
    j = say(s, -100500, "\"text\":\"g\"", &st);
    T_EQ_INT(st, 429);
    T_EQ_INT((int)tgh_num(j, "parameters.retry_after"), 3);    /* 20/min = one per 3 s */
    cJSON_Delete(j);
}

/* Strict mode: at most rate_global sends arrive in any 1000 ms. Six sends
 * to six chats: the sixth is refused while the first is under a second
 * old (checked only when the machine sent them that fast), and it passes
 * once the first has left the window. */
T_CASE(rate_limit_global_strict_sliding_window)
{
    tgh_sim_t *s = S();
    long st;
    for (int i = 0; i < 6; i++) user(s, 121 + i, "Пётр", "+79001234570");
    cJSON *c = tgh_ctl(s, "POST", "/control/config",
                       "{\"rate_limits\":true,\"rate_chat\":100,\"rate_chat_burst\":100,\"rate_global\":5,"
                       "\"rate_global_burst\":5,\"rate_global_strict\":true}", &st);
    T_EQ_INT(st, 200);
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "config"), "rate_global_strict")));
    cJSON_Delete(c);
    double t0 = tgh_now();
    int ok = 0;
    for (int i = 0; i < 5; i++) {
        cJSON_Delete(say(s, 121 + i, "\"text\":\"w\"", &st));
        ok += st == 200;
    }
    cJSON *j = say(s, 126, "\"text\":\"w\"", &st);
    double dt = tgh_now() - t0;
    T_EQ_INT(ok, 5);
    if (dt < 0.9) {
        T_EQ_INT(st, 429);
        T_EQ_INT((int)tgh_num(j, "parameters.retry_after"), 1);
    }
    cJSON_Delete(j);
    while (tgh_now() - t0 < 1.1) tgh_sleep_ms(20);
    j = say(s, 126, "\"text\":\"w\"", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/config", "{\"rate_global_strict\":false,\"rate_global\":1000}", &st));
}

T_CASE(forced_429_storm_and_injected_5xx)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON_Delete(tgh_ctl(s, "POST", "/control/faults",
                         "{\"too_many_requests\":{\"count\":2,\"retry_after\":7,\"methods\":[\"sendMessage\"]}}", &st));
    T_EQ_INT(st, 200);
    cJSON *j = tgh_api(s, "getMe", NULL, &st);            /* not in the list */
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    for (int i = 0; i < 2; i++) {
        j = say(s, 111, "\"text\":\"x\"", &st);
        T_EQ_INT(st, 429);
        T_EQ_INT((int)tgh_num(j, "parameters.retry_after"), 7);
        T_EQ_STR(tgh_str(j, "description"), "Too Many Requests: retry after 7");
        cJSON_Delete(j);
    }
    j = say(s, 111, "\"text\":\"x\"", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/faults", "{\"server_error\":{\"count\":1,\"status\":500}}", &st));
    j = say(s, 111, "\"text\":\"x\"", &st);
    T_EQ_INT(st, 500);
    T_EQ_INT((int)tgh_num(j, "error_code"), 500);
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/faults", "{\"server_error\":{\"count\":1,\"status\":502}}", &st));
    j = say(s, 111, "\"text\":\"x\"", &st);
    T_EQ_INT(st, 502);
    T_CHECK(j == NULL);                                   /* an HTML page, like the real front end */
    j = tgh_ctl(s, "GET", "/control/stats", NULL, &st);
    T_EQ_INT((int)tgh_num(j, "forced_429"), 2);
    T_EQ_INT((int)tgh_num(j, "too_many_requests"), 2);
    T_EQ_INT((int)tgh_num(j, "injected_5xx"), 2);
    cJSON_Delete(j);
    /* no message was stored by the failed calls */
    j = tgh_ctl(s, "GET", "/control/chats/111", NULL, &st);
    T_EQ_INT((int)tgh_num(j, "bot_messages"), 1);
    cJSON_Delete(j);
}

/* ---- files ---- */

/* A tiny PNG header (signature + IHDR) of w x h; enough for size detection. */
static size_t png(unsigned char *out, unsigned w, unsigned h, size_t total)
{
    static const unsigned char sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    memcpy(out, sig, sizeof sig);
    unsigned char dims[8] = {w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16, h >> 8, h};
    memcpy(out + 16, dims, 8);
    for (size_t i = 24; i < total; i++) out[i] = (unsigned char)(i * 31 + 7);
    return total;
}

static cJSON *upload(tgh_sim_t *s, const char *method, const char *field, const unsigned char *data, size_t len,
                     const char *filename, const char *ctype, long *status)
{
    CURL *h = curl_easy_init();
    curl_mime *mime = curl_mime_init(h);
    curl_mimepart *p = curl_mime_addpart(mime);
    curl_mime_name(p, "chat_id");
    curl_mime_data(p, "111", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(mime);
    curl_mime_name(p, "caption");
    curl_mime_data(p, "<b>Фото</b> доставки", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(mime);
    curl_mime_name(p, "parse_mode");
    curl_mime_data(p, "HTML", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(mime);
    curl_mime_name(p, field);
    curl_mime_data(p, (const char *)data, len);
    curl_mime_filename(p, filename);
    if (ctype) curl_mime_type(p, ctype);
    char url[256];
    snprintf(url, sizeof url, "%s/bot%s/%s", s->base, TGH_TOKEN, method);
    char *body = NULL;
    size_t blen = 0;
    FILE *mem = open_memstream(&body, &blen);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
    curl_easy_perform(h);
    fclose(mem);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_mime_free(mime);
    curl_easy_cleanup(h);
    cJSON *j = cJSON_Parse(body ? body : "");
    free(body);
    return j;
}

T_CASE(multipart_sendphoto_stored_with_sha256)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    T_CHECK(sodium_init() >= 0);
    static unsigned char img[5000];
    size_t n = png(img, 1280, 960, sizeof img);
    unsigned char h[32];
    crypto_hash_sha256(h, img, n);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    long st;
    cJSON *j = upload(s, "sendPhoto", "photo", img, n, "proof.png", "image/png", &st);
    T_EQ_INT(st, 200);
    cJSON *photo = tgh_path(j, "result.photo");
    T_EQ_INT(cJSON_GetArraySize(photo), 2);                   /* a preview and the original */
    T_EQ_INT((int)tgh_num(photo, "-1.width"), 1280);
    T_EQ_INT((int)tgh_num(photo, "-1.height"), 960);
    T_EQ_INT((int)tgh_num(photo, "-1.file_size"), (int)n);
    T_EQ_INT((int)tgh_num(photo, "0.width"), 320);
    T_EQ_STR(tgh_str(j, "result.caption"), "Фото доставки");
    T_EQ_STR(tgh_str(j, "result.caption_entities.0.type"), "bold");
    char file_id[128];
    snprintf(file_id, sizeof file_id, "%s", tgh_str(photo, "-1.file_id"));
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/chats/111?from=bot", NULL, &st);
    T_EQ_STR(tgh_str(j, "messages.0.files.0.sha256"), hex);
    T_EQ_INT((int)tgh_num(j, "messages.0.files.0.file_size"), (int)n);
    cJSON_Delete(j);
    /* the bytes come back through getFile + /file/bot<token>/<path> */
    char body[256];
    snprintf(body, sizeof body, "{\"file_id\":\"%s\"}", file_id);
    j = tgh_api(s, "getFile", body, &st);
    T_EQ_INT(st, 200);
    char url[512];
    snprintf(url, sizeof url, "%s/file/bot%s/%s", s->base, TGH_TOKEN, tgh_str(j, "result.file_path"));
    cJSON_Delete(j);
    tgh_resp_t r;
    T_CHECK(tgh_http("GET", url, NULL, NULL, 0, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT((long long)r.len, (long long)n);
    T_CHECK(r.len == n && memcmp(r.body, img, n) == 0);
    tgh_resp_free(&r);
    /* resend by file_id */
    snprintf(body, sizeof body, "{\"chat_id\":111,\"photo\":\"%s\"}", file_id);
    j = tgh_api(s, "sendPhoto", body, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.photo.-1.file_id"), file_id);
    cJSON_Delete(j);
    j = tgh_api(s, "sendPhoto", "{\"chat_id\":111,\"photo\":\"AgACnope\"}", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: wrong file identifier/HTTP URL specified");
    cJSON_Delete(j);
    /* not an image */
    j = upload(s, "sendPhoto", "photo", (const unsigned char *)"not an image at all", 19, "x.png", NULL, &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: IMAGE_PROCESS_FAILED");
    cJSON_Delete(j);
}

T_CASE(multipart_senddocument)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    const char *pdf = "%PDF-1.4 fake waybill";
    cJSON *j = upload(s, "sendDocument", "document", (const unsigned char *)pdf, strlen(pdf), "waybill.pdf", NULL, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.document.file_name"), "waybill.pdf");
    T_EQ_STR(tgh_str(j, "result.document.mime_type"), "application/pdf");
    T_EQ_INT((int)tgh_num(j, "result.document.file_size"), (int)strlen(pdf));
    cJSON_Delete(j);
    j = tgh_api(s, "sendDocument", "{\"chat_id\":111}", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: there is no document in the request");
    cJSON_Delete(j);
}

/* ---- locations ---- */

T_CASE(live_location_start_move_stop)
{
    tgh_sim_t *s = S();
    user(s, 300, "Курьер", "+79001112233");
    long st;
    cJSON *j = tgh_ctl(s, "POST", "/control/users/300/live_start",
                       "{\"latitude\":48.0159,\"longitude\":37.8028,\"live_period\":900,\"horizontal_accuracy\":12.5}", &st);
    T_EQ_INT(st, 200);
    int mid = (int)tgh_num(j, "message_id");
    cJSON_Delete(j);
    char body[256];
    snprintf(body, sizeof body, "{\"message_id\":%d,\"latitude\":48.0170,\"longitude\":37.8040,\"heading\":45}", mid);
    j = tgh_ctl(s, "POST", "/control/users/300/live_move", body, &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    snprintf(body, sizeof body, "{\"message_id\":%d}", mid);
    j = tgh_ctl(s, "POST", "/control/users/300/live_stop", body, &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    j = updates(s, "", &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 3);
    cJSON *first = tgh_path(j, "result.0.message");
    T_EQ_INT((int)tgh_num(first, "message_id"), mid);
    T_EQ_INT((int)tgh_num(first, "location.live_period"), 900);
    T_CHECK(fabs(tgh_num(first, "location.latitude") - 48.0159) < 1e-9);
    cJSON *moved = tgh_path(j, "result.1.edited_message");
    T_CHECK(moved != NULL);
    T_EQ_INT((int)tgh_num(moved, "message_id"), mid);
    T_CHECK(tgh_num(moved, "edit_date") >= tgh_num(moved, "date"));
    T_CHECK(fabs(tgh_num(moved, "location.latitude") - 48.0170) < 1e-9);
    T_EQ_INT((int)tgh_num(moved, "location.heading"), 45);
    T_EQ_INT((int)tgh_num(moved, "location.live_period"), 900);
    cJSON *stopped = tgh_path(j, "result.2.edited_message");
    T_EQ_INT((int)tgh_num(stopped, "message_id"), mid);
    T_CHECK(tgh_path(stopped, "location.live_period") == NULL);
    cJSON_Delete(j);
    snprintf(body, sizeof body, "{\"message_id\":%d,\"latitude\":48.1,\"longitude\":37.9}", mid);
    j = tgh_ctl(s, "POST", "/control/users/300/live_move", body, &st);
    T_EQ_INT(st, 409);
    cJSON_Delete(j);
}

T_CASE(sendlocation_validation)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON *j = tgh_api(s, "sendLocation", "{\"chat_id\":111,\"latitude\":47.0971,\"longitude\":37.5434}", &st);
    T_EQ_INT(st, 200);
    T_CHECK(fabs(tgh_num(j, "result.location.longitude") - 37.5434) < 1e-9);
    cJSON_Delete(j);
    j = tgh_api(s, "sendLocation", "{\"chat_id\":111,\"latitude\":47,\"longitude\":37,\"live_period\":30}", &st);
    T_EQ_INT(st, 400);
    cJSON_Delete(j);
    j = tgh_api(s, "sendLocation", "{\"chat_id\":111,\"longitude\":37}", &st);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: latitude is empty");
    cJSON_Delete(j);
}

/* ---- the wait endpoint ---- */

T_CASE(control_wait_for_bot_messages)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    helper_t h = {s, 300, 0, NULL, "bot"};
    pthread_t th;
    pthread_create(&th, NULL, helper_main, &h);
    cJSON *j = tgh_ctl(s, "GET", "/control/chats/111/wait?count=1&timeout=20", NULL, &st);
    pthread_join(th, NULL);
    T_EQ_INT(h.status, 200);
    cJSON_Delete(h.reply);
    T_EQ_INT(st, 200);
    T_CHECK(cJSON_IsTrue(tgh_path(j, "ok")));
    T_EQ_INT((int)tgh_num(j, "count"), 1);
    T_EQ_STR(tgh_str(j, "messages.0.text"), "from bot");
    cJSON_Delete(j);
    /* not enough messages: 408 with what there is */
    j = tgh_ctl(s, "GET", "/control/chats/111/wait?count=2&timeout=0.3", NULL, &st);
    T_EQ_INT(st, 408);
    T_CHECK(cJSON_IsFalse(tgh_path(j, "ok")));
    T_EQ_INT((int)tgh_num(j, "count"), 1);
    cJSON_Delete(j);
    /* after_id counts only newer messages */
    j = tgh_ctl(s, "GET", "/control/chats/111/wait?count=1&after_id=1&timeout=0.2", NULL, &st);
    T_EQ_INT(st, 408);
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/chats/999/wait?count=1&timeout=0.2", NULL, &st);
    T_EQ_INT(st, 404);
    cJSON_Delete(j);
}

/* ---- payments ---- */

static int send_invoice(tgh_sim_t *s)
{
    long st;
    cJSON *j = tgh_api(s, "sendInvoice",
                       "{\"chat_id\":111,\"title\":\"Доставка\",\"description\":\"Заказ 12345678-0001-1\","
                       "\"payload\":\"order:42\",\"provider_token\":\"381764678:TEST:1\",\"currency\":\"RUB\","
                       "\"prices\":[{\"label\":\"Доставка\",\"amount\":25000},{\"label\":\"Упаковка\",\"amount\":5000}],"
                       "\"need_phone_number\":true}", &st);
    T_EQ_INT(st, 200);
    T_EQ_INT((int)tgh_num(j, "result.invoice.total_amount"), 30000);
    T_EQ_STR(tgh_str(j, "result.invoice.currency"), "RUB");
    int mid = (int)tgh_num(j, "result.message_id");
    cJSON_Delete(j);
    return mid;
}

T_CASE(invoice_pay_succeeds_after_precheckout_ok)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    int mid = send_invoice(s);
    long st;
    char body[256];
    snprintf(body, sizeof body, "{\"message_id\":%d}", mid);
    cJSON *j = tgh_ctl(s, "POST", "/control/users/111/pay", body, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "status"), "pending");
    cJSON_Delete(j);
    j = updates(s, "", &st);
    cJSON *q = tgh_path(j, "result.-1.pre_checkout_query");
    T_EQ_STR(tgh_str(q, "invoice_payload"), "order:42");
    T_EQ_INT((int)tgh_num(q, "total_amount"), 30000);
    T_EQ_STR(tgh_str(q, "order_info.phone_number"), "79001234567");
    snprintf(body, sizeof body, "{\"pre_checkout_query_id\":\"%s\",\"ok\":true}", tgh_str(q, "id"));
    long long last = (long long)tgh_num(j, "result.-1.update_id");
    cJSON_Delete(j);
    j = tgh_api(s, "answerPreCheckoutQuery", body, &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    char qs[64];
    snprintf(qs, sizeof qs, "?offset=%lld", last + 1);
    j = updates(s, qs, &st);
    cJSON *sp = tgh_path(j, "result.0.message.successful_payment");
    T_CHECK(sp != NULL);
    T_EQ_STR(tgh_str(sp, "invoice_payload"), "order:42");
    T_EQ_INT((int)tgh_num(sp, "total_amount"), 30000);
    T_CHECK(strlen(tgh_str(sp, "telegram_payment_charge_id")) > 0);
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/chats/111", NULL, &st);
    T_EQ_STR(tgh_str(j, "payments.0.status"), "succeeded");
    cJSON_Delete(j);
    /* a second answer is too late */
    j = tgh_api(s, "answerPreCheckoutQuery", body, &st);
    T_EQ_INT(st, 400);
    cJSON_Delete(j);
}

T_CASE(invoice_pay_rejected_or_expired)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON_Delete(tgh_ctl(s, "POST", "/control/config", "{\"precheckout_timeout_ms\":300}", &st));
    int mid = send_invoice(s);
    char body[256];
    snprintf(body, sizeof body, "{\"message_id\":%d}", mid);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users/111/pay", body, &st));
    cJSON *j = updates(s, "", &st);
    snprintf(body, sizeof body, "{\"pre_checkout_query_id\":\"%s\",\"ok\":false,\"error_message\":\"Заказ уже оплачен\"}",
             tgh_str(j, "result.-1.pre_checkout_query.id"));
    cJSON_Delete(j);
    j = tgh_api(s, "answerPreCheckoutQuery", body, &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    /* pay with wait: nobody answers, the query expires */
    snprintf(body, sizeof body, "{\"message_id\":%d,\"wait\":true}", mid);
    j = tgh_ctl(s, "POST", "/control/users/111/pay", body, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "status"), "expired");
    char late[256];
    snprintf(late, sizeof late, "{\"pre_checkout_query_id\":\"%s\",\"ok\":true}", tgh_str(j, "pre_checkout_query_id"));
    cJSON_Delete(j);
    j = tgh_api(s, "answerPreCheckoutQuery", late, &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"),
             "Bad Request: query is too old and response timeout expired or query ID is invalid");
    cJSON_Delete(j);
    j = tgh_ctl(s, "GET", "/control/chats/111", NULL, &st);
    T_EQ_STR(tgh_str(j, "payments.0.status"), "rejected");
    T_EQ_STR(tgh_str(j, "payments.0.error_message"), "Заказ уже оплачен");
    T_EQ_STR(tgh_str(j, "payments.1.status"), "expired");
    cJSON_Delete(j);
}

/* ---- commands, webhook info ---- */

T_CASE(set_my_commands_validation)
{
    tgh_sim_t *s = S();
    long st;
    cJSON *j = tgh_api(s, "setMyCommands", "{\"commands\":[{\"command\":\"start\",\"description\":\"Начать\"},"
                                           "{\"command\":\"track\",\"description\":\"Где посылка\"}]}", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    j = tgh_api(s, "getMyCommands", NULL, &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 2);
    T_EQ_STR(tgh_str(j, "result.1.command"), "track");
    cJSON_Delete(j);
    j = tgh_api(s, "setMyCommands", "{\"commands\":[{\"command\":\"Bad-Cmd\",\"description\":\"x\"}]}", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: BOT_COMMAND_INVALID");
    cJSON_Delete(j);
}

T_CASE(webhook_info_shapes)
{
    tgh_sim_t *s = S();
    long st;
    cJSON *j = tgh_api(s, "getWebhookInfo", NULL, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "result.url"), "");
    T_CHECK(cJSON_IsFalse(tgh_path(j, "result.has_custom_certificate")));
    T_EQ_INT((int)tgh_num(j, "result.pending_update_count"), 0);
    cJSON_Delete(j);
    j = tgh_api(s, "setWebhook", "{\"url\":\"http://127.0.0.1:9/x\",\"secret_token\":\"bad token!\"}", &st);
    T_EQ_INT(st, 400);
    T_EQ_STR(tgh_str(j, "description"), "Bad Request: secret token contains unallowed characters");
    cJSON_Delete(j);
}

T_CASE(reset_keeps_update_ids_and_bot_settings)
{
    tgh_sim_t *s = S();
    user(s, 111, "Иван", "+79001234567");
    long st;
    cJSON_Delete(tgh_api(s, "setMyCommands", "{\"commands\":[{\"command\":\"start\",\"description\":\"Начать\"}]}", &st));
    cJSON *j = tgh_ctl(s, "POST", "/control/users/111/text", "{\"text\":\"before\"}", &st);
    long long before = (long long)tgh_num(j, "update_id");
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/reset", NULL, &st));
    T_EQ_INT(st, 200);
    j = tgh_ctl(s, "GET", "/control/users", NULL, &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "users")), 0);
    cJSON_Delete(j);
    user(s, 111, "Иван", "+79001234567");
    j = tgh_ctl(s, "POST", "/control/users/111/text", "{\"text\":\"after\"}", &st);
    T_CHECK((long long)tgh_num(j, "update_id") > before);
    cJSON_Delete(j);
    j = tgh_api(s, "getMyCommands", NULL, &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 1);
    cJSON_Delete(j);
    cJSON_Delete(tgh_ctl(s, "POST", "/control/reset", "{\"bot_settings\":true}", &st));
    j = tgh_api(s, "getMyCommands", NULL, &st);
    T_EQ_INT(cJSON_GetArraySize(tgh_path(j, "result")), 0);
    cJSON_Delete(j);
}

/* ---- command line and shutdown ---- */

T_CASE(cli_token_list_and_clean_sigterm_exit)
{
    tgh_sim_t own;
    const char *args[] = {"--token", "42:only-this", "--bot-username", "other_bot", NULL};
    T_CHECK(tgh_start(&own, args) == 0);
    char url[256];
    tgh_resp_t r;
    snprintf(url, sizeof url, "%s/bot42:only-this/getMe", own.base);
    T_CHECK(tgh_http("GET", url, NULL, NULL, 0, &r) == 0);
    T_EQ_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    T_EQ_STR(tgh_str(j, "result.username"), "other_bot");
    T_EQ_INT((int)tgh_num(j, "result.id"), 42);
    cJSON_Delete(j);
    tgh_resp_free(&r);
    snprintf(url, sizeof url, "%s/bot%s/getMe", own.base, TGH_TOKEN);
    T_CHECK(tgh_http("GET", url, NULL, NULL, 0, &r) == 0);
    T_EQ_INT(r.status, 401);
    tgh_resp_free(&r);
    T_EQ_INT(tgh_stop(&own), 0);
}

T_CASE(cli_usage_error_exits_2)
{
    tgh_sim_t bad;
    const char *args[] = {"--rate-chat", "fast", NULL};
    T_CHECK(tgh_start(&bad, args) != 0);    /* prints nothing and exits */
}

/* Runs last: the shared instance must also stop cleanly. */
T_CASE(shared_instance_stops_cleanly)
{
    tgh_sim_t *s = S();
    T_EQ_INT(tgh_stop(s), 0);
    sim_up = 0;
}

T_MAIN()
