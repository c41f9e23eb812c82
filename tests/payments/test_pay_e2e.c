/* test_pay_e2e.c — payments end to end: the real plus7d (webhook mode) +
 * tgsim (people paying invoices) + extsim (YooKassa) + PostgreSQL.
 *
 * Purpose: the list — both ways of paying, a forged notification
 * while the payment is pending, the same notification and the same
 * successful_payment twice (one message), an unknown payment id, a
 * notification from outside the allow-list, a malformed body, the provider
 * failing on create (one payment, the same Idempotence-Key), pre-checkout
 * for a paid / cancelled order, a changed amount and an expired invoice,
 * an expired QR attempt, a lost notification healed by reconciliation,
 * kill -9 right after the 200 and during the create call, refunds (full
 * and partial, a Telegram invoice by its provider charge id), a double
 * payment refunded automatically and reported to operators, the bank QR
 * confirmed by an operator. Expected texts come from the catalogue.
 *
 * Each case has its own Telegram user (ids 720xx) and postings; time is
 * never waited for: "later" is simulated by moving next_check_at /
 * expires_at in the database, and every "nothing happened" is checked
 * after a positive control (the notification processed, the update
 * applied).
 * Tags: "e2e" on every case, "slow" on the kill -9 cases.
 * Threads: main thread only.
 */
#include "t.h"

#include <curl/curl.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_harness.h"
#include "texts.h"
#include "tgsim_harness.h"

#define WAIT_S 30.0
#define DB_WAIT_S 40.0
#define PRICE 35000
#define T_START() T_CHECK(e2e_p7_ensure() == 0)

/* ---- helpers ---------------------------------------------------------------------- */

static const char *head_of(text_id_t id)
{
    static char buf[8][256];
    static int n;
    char *b = buf[n++ % 8];
    const char *t = text_get(id);
    snprintf(b, 256, "%.*s", (int)strcspn(t, "%\n<"), t);
    return b;
}

static bool has(const cJSON *m, const char *needle)
{
    const char *t = m ? e2e_text(m) : NULL;
    if (!t) t = m ? cJSON_GetStringValue(cJSON_GetObjectItem(m, "caption")) : NULL;
    bool ok = t && strstr(t, needle) != NULL;
    if (!ok) printf("# expected \"%s\" in: %.600s\n", needle, t ? t : "(none)");
    return ok;
}

static bool kind_is(const cJSON *m, const char *kind)
{
    const char *k = m ? cJSON_GetStringValue(cJSON_GetObjectItem(m, "kind")) : NULL;
    return k && strcmp(k, kind) == 0;
}

/* The next bot message in uid's chat whose text or caption holds needle
 * (earlier ones are skipped); NULL when none came in time. */
static cJSON *wait_msg(long long uid, const char *needle)
{
    double end = e2e_now() + WAIT_S;
    while (e2e_now() < end) {
        cJSON *m = e2e_reply(uid, end - e2e_now());
        if (!m) break;
        const char *t = e2e_text(m);
        if (!t) t = cJSON_GetStringValue(cJSON_GetObjectItem(m, "caption"));
        if (t && strstr(t, needle)) return m;
        if (strcmp(needle, "invoice") == 0 && kind_is(m, "invoice")) return m;
        cJSON_Delete(m);
    }
    printf("# no bot message with \"%s\" for %lld\n", needle, uid);
    return NULL;
}

/* The next bot message of uid's chat holding catalogue text id must come. */
static void expect_msg(long long uid, text_id_t id)
{
    cJSON *m = wait_msg(uid, head_of(id));
    T_CHECK(m != NULL);
    cJSON_Delete(m);
}

static void register_person(long long uid, const char *phone)
{
    T_CHECK(e2e_user(uid, "Павел", phone, false) == 0);
    cJSON *a = e2e_act(uid, "command", "{\"command\":\"start\"}");
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON_Delete(e2e_reply(uid, WAIT_S));
    a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_SHARE_PHONE));
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON_Delete(wait_msg(uid, "Павел"));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "client", "SELECT coalesce(g.role, 'client') FROM users u"
                          " LEFT JOIN role_grants g ON g.phone = u.phone WHERE u.tg_user_id = $1", e2e_i(uid), NULL));
}

/* An accepted order of uid with a booked delivery at PRICE. */
static void make_order(long long uid, const char *posting)
{
    T_EQ_INT(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source, ordered_by)"
                          " VALUES ($1, 'accepted', 'logistics', $2::bigint)", posting, e2e_i(uid), NULL), 0);
    T_EQ_INT(e2e_sql_exec("SELECT delivery_book($1, $2::bigint, 'Донецк, ул. Артёма, 1', NULL, NULL,"
                          " (SELECT min(id) FROM delivery_slots), (now() AT TIME ZONE 'Europe/Moscow')::date + 1,"
                          " $3::bigint)", posting, e2e_i(uid), e2e_i(PRICE), NULL), 0);
}

/* Press inline `data` (forced: the button may be on an older message). */
static void press(long long uid, const char *data)
{
    long long mid = e2e_cursor(uid);
    cJSON *a = e2e_act(uid, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\",\"force\":true}",
                       mid > 0 ? mid : 1, data);
    T_CHECK(a != NULL);
    cJSON_Delete(a);
}

/* «💳 Оплатить» → «В Telegram»: the invoice message. */
static cJSON *get_invoice(long long uid, const char *posting)
{
    char data[64];
    snprintf(data, sizeof data, "p:t:%s", posting);
    press(uid, data);
    cJSON *m = wait_msg(uid, "invoice");
    T_CHECK(kind_is(m, "invoice"));
    return m;
}

/* Pay an invoice in tgsim and wait for the bot's pre-checkout answer. */
static cJSON *pay(long long uid, const cJSON *invoice)
{
    long long mid = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(invoice, "message_id"));
    cJSON *a = e2e_act(uid, "pay", "{\"message_id\":%lld,\"wait\":true}", mid);
    T_CHECK(a != NULL);
    return a;
}

static long long paid_messages(long long uid)
{
    return e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE chat_id = $1::bigint AND params LIKE '%' || $2 || '%'",
                       e2e_i(uid), head_of(T_PAY_RECEIVED), NULL);
}

static const char *attempt_of(const char *posting, const char *method)
{
    return e2e_sqls("SELECT id FROM pay_attempts WHERE posting_number = $1 AND method = $2"
                    " ORDER BY created_at DESC LIMIT 1", posting, method, NULL);
}

/* «QR / СБП»: the QR photo message; the attempt id into out. */
static cJSON *get_qr(long long uid, const char *posting)
{
    char data[64];
    snprintf(data, sizeof data, "p:q:%s", posting);
    press(uid, data);
    cJSON *m = wait_msg(uid, head_of(T_PAY_QR_CAPTION));
    T_CHECK(kind_is(m, "photo"));
    return m;
}

static const char *provider_id(const char *posting)
{
    return e2e_sqls("SELECT provider_id FROM pay_attempts WHERE posting_number = $1 AND method = 'sbp'"
                    " AND provider_id IS NOT NULL ORDER BY created_at DESC LIMIT 1", posting, NULL);
}

static long yk_control(const char *path, const char *body)
{
    long st = 0;
    cJSON_Delete(e2e_xs("POST", path, &st, "%s", body));
    return st;
}

/* extsim's YooKassa settles payment `pid` as paid; `body` its options. */
static long yk_succeed(const char *pid, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/control/yookassa/payments/%s/succeed", pid ? pid : "");
    return yk_control(path, body);
}

/* A new order of uid and its QR / СБП payment; the provider's id into pid. */
static void qr_order(long long uid, const char *posting, char pid[80])
{
    make_order(uid, posting);
    cJSON_Delete(get_qr(uid, posting));
    const char *v = provider_id(posting);
    snprintf(pid, 80, "%s", v ? v : "");
}

/* POST a raw body to /payments/yookassa from source address `from`. */
static long notify_post(const char *from, const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "%s/payments/yookassa", e2e_p7_base());
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_INTERFACE, from);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (sink) fclose(sink);
    return code;
}

/* How many payments extsim's YooKassa holds for our attempt `att`. */
static int provider_payments(const char *att)
{
    long st = 0;
    cJSON *j = e2e_xs("GET", "/control/yookassa/payments", &st, NULL);
    int n = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(j, "payments")) {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "metadata"), "attempt"));
        if (a && att && strcmp(a, att) == 0) n++;
    }
    cJSON_Delete(j);
    return n;
}

static size_t http_sink(char *p, size_t size, size_t n, void *arg)
{
    char **buf = arg;
    size_t old = *buf ? strlen(*buf) : 0, add = size * n;
    char *b = realloc(*buf, old + add + 1);
    if (!b) return 0;
    memcpy(b + old, p, add);
    b[old + add] = '\0';
    *buf = b;
    return add;
}

/* GET a path of plus7d; the body (caller frees) or NULL. */
static char *http_get(const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", e2e_p7_base(), path);
    char *body = NULL;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(h) != CURLE_OK) { free(body); body = NULL; }
    curl_easy_cleanup(h);
    return body;
}

static long long notes(const char *pid)
{
    return e2e_sql_int("SELECT count(*) FROM pay_notifications WHERE provider_id = $1", pid, NULL);
}

/* ---- cases --------------------------------------------------------------------------- */

T_CASE_TAGGED(telegram_invoice_paid_once, "e2e")
{
    T_START();
    long long uid = 72001;
    const char *posting = "72001001-0001-1";
    register_person(uid, "+79490072001");
    make_order(uid, posting);
    /* «📋 Мои заказы» shows what is due and the pay button */
    cJSON *a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_MY_ORDERS));
    cJSON_Delete(a);
    cJSON *m = wait_msg(uid, "72001001-0001-1");
    T_CHECK(has(m, "К оплате"));
    cJSON_Delete(m);
    press(uid, "p:o:72001001-0001-1");
    m = wait_msg(uid, "Как оплатить");
    T_CHECK(m != NULL);
    cJSON_Delete(m);
    cJSON *inv = get_invoice(uid, posting);
    /* one price in kopecks, RUB; the 54-FZ receipt and the phone go to the provider */
    const cJSON *req = cJSON_GetObjectItem(inv, "invoice_request");
    const cJSON *price = cJSON_GetArrayItem(cJSON_GetObjectItem(req, "prices"), 0);
    T_EQ_INT((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(price, "amount")), PRICE);
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(req, "prices")), 1);
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(req, "send_phone_number_to_provider")));
    const char *pd = cJSON_GetStringValue(cJSON_GetObjectItem(req, "provider_data"));
    T_CHECK(pd && strstr(pd, "\"vat_code\":1") && strstr(pd, "\"payment_subject\":\"service\"") &&
            strstr(pd, "\"value\":\"350.00\""));
    cJSON *p = pay(uid, inv);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "status")), "succeeded");
    cJSON_Delete(p);
    m = wait_msg(uid, head_of(T_PAY_RECEIVED));
    T_CHECK(m && has(m, posting) && has(m, "350,00"));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT paid_kop || ':' || paid_via FROM orders WHERE posting_number = $1", posting, NULL),
             "35000:telegram");
    /* the same successful_payment once more (a new update): nothing doubles */
    const char *charge = e2e_sqls("SELECT provider_charge_id FROM pay_attempts WHERE posting_number = $1", posting, NULL);
    const char *att = attempt_of(posting, "telegram");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"update_id\":990001,\"message\":{\"message_id\":9001,\"date\":1700000000,"
             "\"chat\":{\"id\":%lld,\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"П\"},"
             "\"successful_payment\":{\"currency\":\"RUB\",\"total_amount\":%d,\"invoice_payload\":\"%s\","
             "\"telegram_payment_charge_id\":\"dup-tg\",\"provider_payment_charge_id\":\"%s\"}}}",
             uid, uid, PRICE, att ? att : "", charge ? charge : "");
    T_EQ_INT(e2e_webhook_post(E2E_SECRET, body), 200);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "t", "SELECT processed_at IS NOT NULL FROM tg_inbox WHERE update_id = 990001", NULL));
    T_EQ_INT(paid_messages(uid), 1);
    /* tracking and «Мои заказы» say «Оплачено» */
    a = e2e_act(uid, "text", "{\"text\":\"%s\"}", posting);
    cJSON_Delete(a);
    m = wait_msg(uid, "Статус");
    T_CHECK(has(m, text_get(T_PAY_PAID_MARK)));
    cJSON_Delete(m);
    a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_MY_ORDERS));
    cJSON_Delete(a);
    m = wait_msg(uid, head_of(T_MY_ORDERS_HEAD));
    T_CHECK(has(m, text_get(T_PAY_PAID_MARK)));
    cJSON_Delete(m);
    cJSON_Delete(inv);
}

/* A new order and invoice; `change` ($1 = posting) happens before paying;
 * the pre-checkout must be refused with `why`. */
static void refused_after(long long uid, const char *posting, const char *change, text_id_t why)
{
    make_order(uid, posting);
    cJSON *inv = get_invoice(uid, posting);
    T_EQ_INT(e2e_sql_exec(change, posting, NULL), 0);
    cJSON *p = pay(uid, inv);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "status")), "rejected");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "error_message")), text_get(why));
    cJSON_Delete(p);
    cJSON_Delete(inv);
}

T_CASE_TAGGED(precheckout_refusals, "e2e")
{
    T_START();
    long long uid = 72002;
    register_person(uid, "+79490072002");
    /* a second invoice of an order paid meanwhile */
    make_order(uid, "72002001-0001-1");
    cJSON *i1 = get_invoice(uid, "72002001-0001-1");
    cJSON *i2 = get_invoice(uid, "72002001-0001-1");
    cJSON *p = pay(uid, i1);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "status")), "succeeded");
    cJSON_Delete(p);
    expect_msg(uid, T_PAY_RECEIVED);
    p = pay(uid, i2);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "status")), "rejected");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "error_message")), text_get(T_PAY_PC_PAID));
    cJSON_Delete(p);
    /* a cancelled order; the price changed after the invoice; an expired invoice */
    refused_after(uid, "72002002-0001-1", "UPDATE orders SET status = 'cancelled' WHERE posting_number = $1",
                  T_PAY_PC_NOT_PAYABLE);
    refused_after(uid, "72002003-0001-1", "UPDATE deliveries SET price_kopecks = 40000 WHERE posting_number = $1",
                  T_PAY_PC_AMOUNT);
    refused_after(uid, "72002004-0001-1",
                  "UPDATE pay_attempts SET expires_at = now() - interval '1 minute' WHERE posting_number = $1",
                  T_PAY_PC_EXPIRED);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '72002%' AND paid_attempt IS NOT NULL",
                         NULL), 1);
    cJSON_Delete(i1);
    cJSON_Delete(i2);
}

T_CASE_TAGGED(declined_card_then_paid, "e2e")
{
    T_START();
    long long uid = 72013;
    register_person(uid, "+79490072013");
    make_order(uid, "72013001-0001-1");
    cJSON *inv = get_invoice(uid, "72013001-0001-1");
    long long mid = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(inv, "message_id"));
    cJSON *a = e2e_act(uid, "pay", "{\"message_id\":%lld,\"wait\":true,\"decline\":true}", mid);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a, "status")), "declined");
    cJSON_Delete(a);
    T_CHECK(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = '72013001-0001-1'"
                        " AND paid_attempt IS NULL", NULL) == 1);
    /* the same invoice paid again with a good card */
    a = pay(uid, inv);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a, "status")), "succeeded");
    cJSON_Delete(a);
    cJSON_Delete(inv);
    expect_msg(uid, T_PAY_RECEIVED);
    T_EQ_INT(paid_messages(uid), 1);
}

T_CASE_TAGGED(sbp_qr_forged_then_paid_once, "e2e")
{
    T_START();
    long long uid = 72003;
    const char *posting = "72003001-0001-1";
    register_person(uid, "+79490072003");
    make_order(uid, posting);
    cJSON *qr = get_qr(uid, posting);
    /* a PNG with a URL button to the same link */
    const cJSON *btn = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(qr,
                                                             "reply_markup"), "inline_keyboard"), 0), 0);
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(btn, "url"));
    T_CHECK(url && strncmp(url, "https://qr.nspk.ru/", 19) == 0);
    cJSON_Delete(qr);
    char pid[80];
    snprintf(pid, sizeof pid, "%s", provider_id(posting) ? provider_id(posting) : "");
    T_CHECK(pid[0] != '\0');
    /* the create call: Basic auth, an Idempotence-Key, the receipt, SBP */
    long st = 0;
    cJSON *j = e2e_xs("GET", "/control/requests?path=/yookassa/v3/payments&method=POST&limit=1", &st, NULL);
    const cJSON *last = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
    const cJSON *hdrs = cJSON_GetObjectItem(last, "headers");
    T_CHECK(cJSON_GetObjectItem(hdrs, "Idempotence-Key") != NULL);
    const char *body = cJSON_GetStringValue(cJSON_GetObjectItem(last, "body"));
    T_CHECK(body && strstr(body, "\"sbp\"") && strstr(body, "\"receipt\"") && strstr(body, "\"qr\""));
    cJSON_Delete(j);
    /* a forged "succeeded" while the provider still says pending: nothing changes */
    char req[256];
    snprintf(req, sizeof req, "{\"payment_id\":\"%s\",\"event\":\"payment.succeeded\",\"status\":\"succeeded\"}", pid);
    T_EQ_INT(yk_control("/control/yookassa/notify", req), 200);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "pending", "SELECT result FROM pay_notifications WHERE provider_id = $1", pid, NULL));
    T_CHECK(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = $1 AND paid_attempt IS NULL", posting,
                        NULL) == 1);
    /* really paid; the news arrives twice */
    T_EQ_INT(yk_succeed(pid, "{\"notify_times\":2}"), 200);
    cJSON *m = wait_msg(uid, head_of(T_PAY_RECEIVED));
    T_CHECK(m && has(m, posting));
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "0", "SELECT count(*) FROM pay_notifications WHERE provider_id = $1"
                          " AND processed_at IS NULL", pid, NULL));
    T_EQ_INT(notes(pid), 3);
    T_EQ_INT(paid_messages(uid), 1);
    T_EQ_STR(e2e_sqls("SELECT paid_via FROM orders WHERE posting_number = $1", posting, NULL), "sbp");
}

T_CASE_TAGGED(callback_guards, "e2e")
{
    T_START();
    long long before = e2e_sql_int("SELECT count(*) FROM pay_notifications", NULL);
    /* outside the allow-list: 403, nothing stored */
    T_EQ_INT(notify_post("127.0.0.2", "{\"type\":\"notification\",\"event\":\"payment.succeeded\","
                                      "\"object\":{\"id\":\"x-1\"}}"), 403);
    /* malformed: 400, nothing stored */
    T_EQ_INT(notify_post("127.0.0.1", "{\"type\":\"notification\",\"event\":\"payment.succeeded\"}"), 400);
    T_EQ_INT(notify_post("127.0.0.1", "not json"), 400);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM pay_notifications", NULL), before);
    /* an unknown payment: stored, logged, 200 */
    T_EQ_INT(notify_post("127.0.0.1", "{\"type\":\"notification\",\"event\":\"payment.succeeded\","
                                      "\"object\":{\"id\":\"unknown-payment-77\",\"status\":\"succeeded\"}}"), 200);
    T_EQ_STR(e2e_sqls("SELECT result FROM pay_notifications WHERE provider_id = 'unknown-payment-77'", NULL), "unknown");
    /* /metrics counts each outcome */
    char *metrics = http_get("/metrics");
    T_CHECK(metrics && strstr(metrics, "plus7_pay_notifications_total{outcome=\"forbidden\"} ") &&
            !strstr(metrics, "plus7_pay_notifications_total{outcome=\"forbidden\"} 0\n") &&
            !strstr(metrics, "plus7_pay_notifications_total{outcome=\"malformed\"} 0\n") &&
            !strstr(metrics, "plus7_pay_notifications_total{outcome=\"unknown_payment\"} 0\n"));
    free(metrics);
}

T_CASE_TAGGED(create_fails_one_payment, "e2e")
{
    T_START();
    long long uid = 72005;
    register_person(uid, "+79490072005");
    /* created, then answered 500 */
    make_order(uid, "72005001-0001-1");
    T_EQ_INT(yk_control("/control/yookassa/config", "{\"create_then_500\":1}"), 200);
    cJSON *qr = get_qr(uid, "72005001-0001-1");
    T_CHECK(qr != NULL);
    cJSON_Delete(qr);
    const char *att = attempt_of("72005001-0001-1", "sbp");
    T_EQ_INT(provider_payments(att), 1);
    T_CHECK(e2e_sql_int("SELECT checks FROM pay_attempts WHERE id = $1", att, NULL) >= 0);
    /* a 503 before anything is created */
    make_order(uid, "72005002-0001-1");
    T_EQ_INT(yk_control("/control/faults", "{\"path\":\"/yookassa/v3/payments\",\"method\":\"POST\",\"status\":503}"), 200);
    qr = get_qr(uid, "72005002-0001-1");
    T_CHECK(qr != NULL);
    cJSON_Delete(qr);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "pending", "SELECT status FROM pay_attempts WHERE posting_number = $1",
                          "72005002-0001-1", NULL));
}

T_CASE_TAGGED(lost_notification_and_expiry, "e2e")
{
    T_START();
    long long uid = 72006;
    register_person(uid, "+79490072006");
    char pid[80];
    qr_order(uid, "72006001-0001-1", pid);
    T_EQ_INT(yk_succeed(pid, "{\"notify\":false}"), 200);
    /* the reconciliation's next check comes due */
    e2e_sql_exec("UPDATE pay_attempts SET next_check_at = now() WHERE provider_id = $1", pid, NULL);
    expect_msg(uid, T_PAY_RECEIVED);
    /* an attempt whose window passed while still pending: expired, a new one can be made */
    make_order(uid, "72006002-0001-1");
    cJSON_Delete(get_qr(uid, "72006002-0001-1"));
    e2e_sql_exec("UPDATE pay_attempts SET expires_at = now() - interval '11 minutes', next_check_at = now()"
                 " WHERE posting_number = '72006002-0001-1'", NULL);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "expired", "SELECT status FROM pay_attempts WHERE posting_number = $1",
                          "72006002-0001-1", NULL));
    cJSON_Delete(get_qr(uid, "72006002-0001-1"));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM pay_attempts WHERE posting_number = '72006002-0001-1'"
                         " AND status = 'pending'", NULL), 1);
}

T_CASE_TAGGED(kill9_after_the_200, "e2e slow")
{
    T_START();
    long long uid = 72007;
    register_person(uid, "+79490072007");
    char pid[80], path[200];
    qr_order(uid, "72007001-0001-1", pid);
    /* the re-read is slow: the process dies after storing and answering, before acting */
    snprintf(path, sizeof path, "{\"path\":\"/yookassa/v3/payments/%s\",\"method\":\"GET\",\"delay_ms\":4000}", pid);
    T_EQ_INT(yk_control("/control/faults", path), 200);
    snprintf(path, sizeof path, "/control/yookassa/payments/%s/succeed", pid);
    long st = 0;
    cJSON *r = e2e_xs("POST", path, &st, "{}");
    T_EQ_INT((long long)cJSON_GetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "notified"), 0)), 200);
    cJSON_Delete(r);
    e2e_p7_kill();
    T_EQ_INT(notes(pid), 1);   /* stored before the 200 */
    T_CHECK(e2e_p7_start() == 0);
    expect_msg(uid, T_PAY_RECEIVED);
    T_EQ_INT(paid_messages(uid), 1);
}

T_CASE_TAGGED(kill9_during_create, "e2e slow")
{
    T_START();
    long long uid = 72008;
    register_person(uid, "+79490072008");
    make_order(uid, "72008001-0001-1");
    T_EQ_INT(yk_control("/control/faults", "{\"path\":\"/yookassa/v3/payments\",\"method\":\"POST\",\"delay_ms\":3000}"),
             200);
    long long seen = 0;
    press(uid, "p:q:72008001-0001-1");
    /* the create call is on its way to the provider: die now */
    double end = e2e_now() + WAIT_S;
    long st = 0;
    while (e2e_now() < end) {
        cJSON *j = e2e_xs("GET", "/control/requests?path=/yookassa/v3/payments&method=POST", &st, NULL);
        const cJSON *req;
        cJSON_ArrayForEach(req, cJSON_GetObjectItem(j, "requests")) {
            const char *b = cJSON_GetStringValue(cJSON_GetObjectItem(req, "body"));
            if (b && strstr(b, "72008001-0001-1")) seen++;
        }
        cJSON_Delete(j);
        if (seen) break;
        e2e_sleep_ms(20);
    }
    T_CHECK(seen > 0);
    e2e_p7_kill();
    T_CHECK(e2e_p7_start() == 0);
    expect_msg(uid, T_PAY_QR_CAPTION);
    const char *att = attempt_of("72008001-0001-1", "sbp");
    T_EQ_INT(provider_payments(att), 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key = 'pay:qr:' || $1", att, NULL), 1);
}

T_CASE_TAGGED(refunds_full_and_partial, "e2e")
{
    T_START();
    long long uid = 72009;
    register_person(uid, "+79490072009");
    /* QR payment refunded in full */
    char pid[80];
    qr_order(uid, "72009001-0001-1", pid);
    T_EQ_INT(yk_succeed(pid, "{}"), 200);
    expect_msg(uid, T_PAY_RECEIVED);
    const char *args[] = {"refund", "72009001-0001-1", NULL};
    char out[256];
    T_EQ_INT(e2e_p7_run(args, out, sizeof out), 0);
    cJSON *m = wait_msg(uid, head_of(T_PAY_REFUNDED));
    T_CHECK(m && has(m, "350,00"));
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "refunded", "SELECT status FROM pay_attempts WHERE posting_number = $1",
                          "72009001-0001-1", NULL));
    T_CHECK(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = '72009001-0001-1' AND paid_attempt IS NULL",
                        NULL) == 1);
    const char *twice[] = {"refund", "72009001-0001-1", NULL};
    T_EQ_INT(e2e_p7_run(twice, NULL, 0), 1);   /* nothing left to refund */
    /* a Telegram invoice, partly refunded by its provider_payment_charge_id */
    make_order(uid, "72009002-0001-1");
    cJSON *inv = get_invoice(uid, "72009002-0001-1");
    cJSON_Delete(pay(uid, inv));
    cJSON_Delete(inv);
    expect_msg(uid, T_PAY_RECEIVED);
    const char *part[] = {"refund", "72009002-0001-1", "100.50", NULL};
    T_EQ_INT(e2e_p7_run(part, out, sizeof out), 0);
    m = wait_msg(uid, head_of(T_PAY_REFUNDED));
    T_CHECK(m && has(m, "100,50"));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT status || ':' || refunded_kop FROM pay_attempts WHERE posting_number = $1",
                      "72009002-0001-1", NULL), "succeeded:10050");
    T_EQ_STR(e2e_sqls("SELECT paid_kop FROM orders WHERE posting_number = '72009002-0001-1'", NULL), "24950");
    long st = 0;
    cJSON *j = e2e_xs("GET", "/control/requests?path=/yookassa/v3/refunds&method=POST", &st, NULL);
    const char *charge = e2e_sqls("SELECT provider_charge_id FROM pay_attempts WHERE posting_number = $1",
                                  "72009002-0001-1", NULL);
    bool found = false;
    const cJSON *req;
    cJSON_ArrayForEach(req, cJSON_GetObjectItem(j, "requests")) {
        const char *b = cJSON_GetStringValue(cJSON_GetObjectItem(req, "body"));
        if (b && charge && strstr(b, charge) && cJSON_GetObjectItem(cJSON_GetObjectItem(req, "headers"), "Idempotence-Key"))
            found = true;
    }
    cJSON_Delete(j);
    T_CHECK(found);
}

T_CASE_TAGGED(double_payment_refunded_and_reported, "e2e")
{
    T_START();
    long long uid = 72010, op = 72011;
    register_person(op, "+79490072011");
    const char *role[] = {"role", "+79490072011", "operator", NULL};
    T_EQ_INT(e2e_p7_run(role, NULL, 0), 0);
    register_person(uid, "+79490072010");
    make_order(uid, "72010001-0001-1");
    cJSON *inv = get_invoice(uid, "72010001-0001-1");
    cJSON_Delete(get_qr(uid, "72010001-0001-1"));
    cJSON_Delete(pay(uid, inv));
    cJSON_Delete(inv);
    expect_msg(uid, T_PAY_RECEIVED);
    T_EQ_INT(yk_succeed(provider_id("72010001-0001-1"), "{}"), 200);
    cJSON *m = wait_msg(op, head_of(T_PAY_DOUBLE));
    T_CHECK(m && has(m, "72010001-0001-1"));
    cJSON_Delete(m);
    expect_msg(uid, T_PAY_REFUNDED);
    T_EQ_STR(e2e_sqls("SELECT status FROM pay_attempts WHERE posting_number = $1 AND method = 'sbp'",
                      "72010001-0001-1", NULL), "refunded");
    T_EQ_STR(e2e_sqls("SELECT paid_via FROM orders WHERE posting_number = '72010001-0001-1'", NULL), "telegram");
    T_EQ_INT(paid_messages(uid), 1);
}

T_CASE_TAGGED(bank_qr_confirmed_by_operator, "e2e")
{
    T_START();
    long long uid = 72012;
    register_person(uid, "+79490072012");
    make_order(uid, "72012001-0001-1");
    press(uid, "p:b:72012001-0001-1");
    cJSON *m = wait_msg(uid, head_of(T_PAY_BANK_CAPTION));
    T_CHECK(kind_is(m, "photo"));
    cJSON_Delete(m);
    const char *args[] = {"paid", "72012001-0001-1", NULL};
    T_EQ_INT(e2e_p7_run(args, NULL, 0), 0);
    expect_msg(uid, T_PAY_RECEIVED);
    T_EQ_STR(e2e_sqls("SELECT paid_via FROM orders WHERE posting_number = '72012001-0001-1'", NULL), "bank_qr");
    const char *again[] = {"paid", "72012001-0001-1", NULL};
    T_EQ_INT(e2e_p7_run(again, NULL, 0), 1);
}

T_CASE_TAGGED(cancelled_paid_order_refunded, "e2e")
{
    T_START();
    long long uid = 72014;
    register_person(uid, "+79490072014");
    make_order(uid, "72014001-0001-1");
    cJSON *inv = get_invoice(uid, "72014001-0001-1");
    cJSON_Delete(pay(uid, inv));
    cJSON_Delete(inv);
    expect_msg(uid, T_PAY_RECEIVED);
    /* an operator (or Ozon) cancels the order: what was paid goes back */
    T_EQ_INT(e2e_sql_exec("UPDATE orders SET status = 'cancelled' WHERE posting_number = '72014001-0001-1'", NULL), 0);
    cJSON *m = wait_msg(uid, head_of(T_PAY_REFUNDED));
    T_CHECK(m && has(m, "350,00"));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT r.requested_by || ':' || r.status FROM pay_refunds r JOIN pay_attempts a ON a.id = r.attempt_id"
                      " WHERE a.posting_number = '72014001-0001-1'", NULL), "auto:succeeded");
    T_EQ_STR(e2e_sqls("SELECT status FROM pay_attempts WHERE posting_number = '72014001-0001-1'", NULL), "refunded");
}

/* Run `plus7d role …` with the test database and extra settings (shell
 * assignments, quoted); its exit status. */
static int run_with(const char *assignments)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "PLUS7_DB='%s dbname=%s' %s '%s' role +79490072099 client >/dev/null 2>&1",
             getenv("PLUS7_DB"), e2e_sqls("SELECT current_database()", NULL), assignments, getenv("PLUS7D_BIN"));
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

T_CASE_TAGGED(payment_settings_checked_at_start, "e2e")
{
    T_START();
    T_EQ_INT(run_with("PLUS7_YOOKASSA_NOTIFY_FROM='185.71.76.0/33'"), 2);
    T_EQ_INT(run_with("PLUS7_YOOKASSA_SHOP_ID=100500"), 2);            /* no secret */
    T_EQ_INT(run_with("PLUS7_PAY_BANK_NAME='ООО Тест'"), 2);           /* five details missing */
    T_EQ_INT(run_with("PLUS7_PAY_BANK_NAME=N PLUS7_PAY_BANK_ACCOUNT=40702810138250123017 PLUS7_PAY_BANK_BANK=B"
                      " PLUS7_PAY_BANK_BIC=12345 PLUS7_PAY_BANK_CORR=30101810400000000225 PLUS7_PAY_BANK_INN=7700000000"), 2);
    /* the positive control: the same settings, valid, run */
    T_EQ_INT(run_with("PLUS7_YOOKASSA_NOTIFY_FROM='185.71.76.0/27' PLUS7_YOOKASSA_SHOP_ID=100500 PLUS7_YOOKASSA_SECRET=s"
                      " PLUS7_PAY_BANK_NAME=N PLUS7_PAY_BANK_ACCOUNT=40702810138250123017 PLUS7_PAY_BANK_BANK=B"
                      " PLUS7_PAY_BANK_BIC=044525225 PLUS7_PAY_BANK_CORR=30101810400000000225 PLUS7_PAY_BANK_INN=7700000000"),
             0);
}

T_CASE_TAGGED(operator_commands_in_the_chat, "e2e")
{
    T_START();
    long long uid = 72015, op = 72016;
    register_person(op, "+79490072016");
    const char *role[] = {"role", "+79490072016", "admin", NULL};
    T_EQ_INT(e2e_p7_run(role, NULL, 0), 0);
    register_person(uid, "+79490072015");
    make_order(uid, "72015001-0001-1");
    /* cash to the courier, marked by staff in the chat */
    cJSON *m = e2e_say(op, "text", "/paid 72015001-0001-1 cash", WAIT_S);
    T_CHECK(has(m, "отмечена"));
    cJSON_Delete(m);
    expect_msg(uid, T_PAY_RECEIVED);
    T_EQ_STR(e2e_sqls("SELECT paid_via FROM orders WHERE posting_number = '72015001-0001-1'", NULL), "cash");
    /* more than was paid is refused; a part is returned */
    m = e2e_say(op, "text", "/refund 72015001-0001-1 400", WAIT_S);
    T_CHECK(has(m, "350,00"));
    cJSON_Delete(m);
    m = e2e_say(op, "text", "/refund 72015001-0001-1 50", WAIT_S);
    T_CHECK(has(m, "50,00"));
    cJSON_Delete(m);
    m = wait_msg(uid, head_of(T_PAY_REFUNDED));
    T_CHECK(m && has(m, "50,00"));
    cJSON_Delete(m);
    /* a client cannot use the commands */
    m = e2e_say(uid, "text", "/refund 72015001-0001-1", WAIT_S);
    T_CHECK(m && !strstr(e2e_text(m) ? e2e_text(m) : "", "Возврат"));
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM pay_refunds r JOIN pay_attempts a ON a.id = r.attempt_id"
                         " WHERE a.posting_number = '72015001-0001-1'", NULL), 1);
}

T_CASE_TAGGED(dashboard_rollups_follow_payments, "e2e")
{
    T_START();
    /* the cases above paid, refunded in part and in full: the hourly rollups agree with the orders */
    const char *orders = e2e_sqls("SELECT count(*) || ':' || coalesce(sum(paid_kop), 0) FROM orders"
                                  " WHERE paid_attempt IS NOT NULL", NULL);
    char want[64];
    snprintf(want, sizeof want, "%s", orders ? orders : "?");
    T_CHECK(strcmp(want, "0:0") != 0);
    T_EQ_STR(e2e_sqls("SELECT coalesce(sum(paid_count), 0) || ':' || coalesce(sum(paid_kop), 0) FROM dash_hourly", NULL),
             want);
    T_EQ_INT(e2e_sql_exec("SELECT pay_dash_rebuild()", NULL), 0);
    T_EQ_STR(e2e_sqls("SELECT coalesce(sum(paid_count), 0) || ':' || coalesce(sum(paid_kop), 0) FROM dash_hourly", NULL),
             want);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (e2e_init("payments", E2E_WEBHOOK) == 0) {
        if (e2e_xs_start(0) != 0) printf("# extsim did not start\n");
        char api[256], notify[256];
        snprintf(api, sizeof api, "%s/yookassa/v3", e2e_xs_base());
        snprintf(notify, sizeof notify, "{\"notify_url\":\"%s/payments/yookassa\"}", e2e_p7_base());
        if (yk_control("/control/yookassa/config", notify) != 200) printf("# extsim: yookassa config failed\n");
        e2e_p7_setenv("PLUS7_PAY_PROVIDER_TOKEN", "381764678:TEST:72000");
        e2e_p7_setenv("PLUS7_YOOKASSA_API", api);
        e2e_p7_setenv("PLUS7_YOOKASSA_SHOP_ID", "100500");
        e2e_p7_setenv("PLUS7_YOOKASSA_SECRET", "test_extsim_secret");
        e2e_p7_setenv("PLUS7_YOOKASSA_NOTIFY_FROM", "127.0.0.1/32, ::1/128");
        e2e_p7_setenv("PLUS7_PAY_BANK_NAME", "ООО «Айси-Транс»");
        e2e_p7_setenv("PLUS7_PAY_BANK_ACCOUNT", "40702810138250123017");
        e2e_p7_setenv("PLUS7_PAY_BANK_BANK", "ПАО Сбербанк");
        e2e_p7_setenv("PLUS7_PAY_BANK_BIC", "044525225");
        e2e_p7_setenv("PLUS7_PAY_BANK_CORR", "30101810400000000225");
        e2e_p7_setenv("PLUS7_PAY_BANK_INN", "7700000000");
        const char *seed[] = {"seed", NULL};
        if (e2e_p7_run(seed, NULL, 0) != 0) printf("# plus7d seed failed\n");
        e2e_sql_exec("UPDATE delivery_slots SET capacity = 1000", NULL);
        /* the bookings are made at PRICE, and delivery_book checks the tariff (014) */
        e2e_sql_exec("UPDATE tariffs SET price_kopecks = $1::bigint", e2e_i(PRICE), NULL);
    }
    int rc = e2e_finish(t_run_all());
    curl_global_cleanup();
    return rc;
}
