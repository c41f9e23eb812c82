/* test_extsim_smsru.c — black-box tests of extsim's SMS.ru emulator over
 * real HTTP: a POSTed form with json=1, per-number results, the request-level
 * error codes (200 bad api_id, 202, 203 empty text, 204, 210 GET), balance
 * and forced per-number codes, the plain-text reply, /sms/status, and the
 * control API's message list and wait-until-N.
 *
 * Exports: main (TAP). Threads: main, plus one sender thread in one case.
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

static int sms_post(const xs_server_t *s, const char *path, const char *form, xs_resp_t *r)
{
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    return xs_http(s, "POST", path, h, form, r);
}

T_CASE(send_ok_json)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send",
                     "api_id=" XS_SMS_API_ID "&to=%2B79491234501&msg=%D0%92%D0%B0%D1%88%20%D0%BA%D0%BE%D0%B4%201234"
                     "&from=PLUS7&json=1",
                     &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "status"), "OK");
    T_EQ_INT(xs_num(r.json, "status_code"), 100);
    T_EQ_STR(xs_str(r.json, "sms.79491234501.status"), "OK");
    T_EQ_INT(xs_num(r.json, "sms.79491234501.status_code"), 100);
    const char *id = xs_str(r.json, "sms.79491234501.sms_id");
    T_CHECK(id && id[0]);
    T_CHECK(cJSON_IsNumber(xs_get(r.json, "balance")));
    char sms_id[64];
    snprintf(sms_id, sizeof sms_id, "%s", id);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/messages", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "messages.0.phone"), "+79491234501");
    T_EQ_STR(xs_str(r.json, "messages.0.text"), "Ваш код 1234");
    T_EQ_STR(xs_str(r.json, "messages.0.sender"), "PLUS7");
    T_EQ_STR(xs_str(r.json, "messages.0.sms_id"), sms_id);
    xs_resp_free(&r);
}

T_CASE(several_numbers_and_multi)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501,89491234502,12&msg=hello&json=1", &r) == 0);
    T_EQ_STR(xs_str(r.json, "status"), "OK");
    T_EQ_INT(xs_num(r.json, "sms.79491234501.status_code"), 100);
    T_EQ_INT(xs_num(r.json, "sms.79491234502.status_code"), 100); /* 8… normalised to 7… */
    T_EQ_STR(xs_str(r.json, "sms.12.status"), "ERROR");
    T_EQ_INT(xs_num(r.json, "sms.12.status_code"), 202);
    T_CHECK(xs_str(r.json, "sms.12.status_text") != NULL);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send",
                     "api_id=" XS_SMS_API_ID "&multi[79491234503]=first&multi[79491234504]=second&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "sms.79491234503.status_code"), 100);
    T_EQ_INT(xs_num(r.json, "sms.79491234504.status_code"), 100);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/messages?phone=%2B79491234504", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 1);
    T_EQ_STR(xs_str(r.json, "messages.0.text"), "second");
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/messages", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 4);
    xs_resp_free(&r);
}

T_CASE(bad_api_id_200)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send", "api_id=WRONG&to=79491234501&msg=hi&json=1", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "status"), "ERROR");
    T_EQ_INT(xs_num(r.json, "status_code"), 200);
    T_CHECK(xs_str(r.json, "status_text") != NULL);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/messages", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 0);
    xs_resp_free(&r);
}

T_CASE(empty_text_203)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501&msg=&json=1", &r) == 0);
    T_EQ_STR(xs_str(r.json, "status"), "ERROR");
    T_EQ_INT(xs_num(r.json, "status_code"), 203);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&msg=hi&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "status_code"), 202); /* no recipient */
    xs_resp_free(&r);
}

T_CASE(get_is_210)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_http(s, "GET", "/sms/send?api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&json=1", NULL, NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "status"), "ERROR");
    T_EQ_INT(xs_num(r.json, "status_code"), 210);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/messages", NULL, &r) == 0);
    T_EQ_INT(xs_num(r.json, "count"), 0);
    xs_resp_free(&r);
}

T_CASE(plain_text_reply_without_json)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi", &r) == 0);
    T_EQ_INT(r.status, 200);
    T_CHECK(strncmp(r.body, "100\n", 4) == 0);
    T_CHECK(strstr(r.body, "\nbalance=") != NULL);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send", "api_id=nope&to=79491234501&msg=hi", &r) == 0);
    T_EQ_STR(r.body, "200\n");
    xs_resp_free(&r);
}

T_CASE(sender_funds_and_forced_codes)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(xs_ctl(s, "POST", "/control/sms/config",
                   "{\"senders\":[\"PLUS7\"],\"number_codes\":{\"+79491234509\":207}}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&from=OTHER&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "status_code"), 204);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234509,79491234501&msg=hi&from=PLUS7&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "sms.79491234509.status_code"), 207);
    T_EQ_INT(xs_num(r.json, "sms.79491234501.status_code"), 100);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "POST", "/control/sms/config", "{\"balance\":1,\"price\":1.5}", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "sms.79491234501.status_code"), 201);
    xs_resp_free(&r);
    /* 9 parts of Cyrillic text: over the 8-SMS limit */
    char form[4096];
    size_t n = (size_t)snprintf(form, sizeof form, "api_id=" XS_SMS_API_ID "&to=79491234501&json=1&msg=");
    for (int i = 0; i < 67 * 8 + 1; i++) n += (size_t)snprintf(form + n, sizeof form - n, "%%D0%%AF");
    T_CHECK(xs_ctl(s, "POST", "/control/sms/config", "{\"balance\":1000,\"price\":0}", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/send", form, &r) == 0);
    T_EQ_INT(xs_num(r.json, "sms.79491234501.status_code"), 205);
    xs_resp_free(&r);
}

T_CASE(status_method)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501&msg=hi&json=1", &r) == 0);
    char id[64], form[256], path[128];
    snprintf(id, sizeof id, "%s", xs_str(r.json, "sms.79491234501.sms_id"));
    xs_resp_free(&r);
    snprintf(form, sizeof form, "api_id=" XS_SMS_API_ID "&sms_id=%s&json=1", id);
    T_CHECK(sms_post(s, "/sms/status", form, &r) == 0);
    T_EQ_STR(xs_str(r.json, "status"), "OK");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(xs_get(r.json, "sms"), id);
    T_EQ_INT(xs_num(st, "status_code"), 103);
    xs_resp_free(&r);
    snprintf(path, sizeof path, "/control/sms/messages/%s/status", id);
    T_CHECK(xs_ctl(s, "POST", path, "{\"status_code\":104}", &r) == 0);
    T_EQ_INT(r.status, 200);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/status", form, &r) == 0);
    st = cJSON_GetObjectItemCaseSensitive(xs_get(r.json, "sms"), id);
    T_EQ_INT(xs_num(st, "status_code"), 104);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/status", "api_id=" XS_SMS_API_ID "&sms_id=000000-99999999&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "sms.000000-99999999.status_code"), -1);
    xs_resp_free(&r);
    T_CHECK(sms_post(s, "/sms/nosuch", "api_id=" XS_SMS_API_ID "&json=1", &r) == 0);
    T_EQ_INT(xs_num(r.json, "status_code"), 211);
    xs_resp_free(&r);
}

static void *sms_later(void *arg)
{
    const xs_server_t *s = arg;
    usleep(200 * 1000);
    xs_resp_t r;
    sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234507&msg=later&json=1", &r);
    xs_resp_free(&r);
    return NULL;
}

T_CASE(wait_until_n)
{
    const xs_server_t *s = fresh();
    xs_resp_t r;
    T_CHECK(sms_post(s, "/sms/send", "api_id=" XS_SMS_API_ID "&to=79491234501,79491234502&msg=hi&json=1", &r) == 0);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/wait?n=2&timeout_ms=5000", NULL, &r) == 0);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(xs_num(r.json, "count"), 2);
    xs_resp_free(&r);
    T_CHECK(xs_ctl(s, "GET", "/control/sms/wait?n=3&timeout_ms=200", NULL, &r) == 0);
    T_EQ_INT(r.status, 408);
    T_CHECK(cJSON_IsTrue(xs_get(r.json, "timed_out")));
    T_EQ_INT(xs_num(r.json, "count"), 2);
    xs_resp_free(&r);
    /* a wait that is satisfied by a message sent while it blocks */
    pthread_t th;
    T_CHECK(pthread_create(&th, NULL, sms_later, (void *)s) == 0);
    xs_ctl(s, "GET", "/control/sms/wait?n=1&phone=%2B79491234507&timeout_ms=30000", NULL, &r);
    pthread_join(th, NULL);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(xs_str(r.json, "messages.0.text"), "later");
    xs_resp_free(&r);
}

T_CASE(zz_sigterm_exits_zero)
{
    fresh();
    T_EQ_INT(xs_stop(&srv), 0);
}

T_MAIN()
