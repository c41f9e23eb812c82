/* test_notify_e2e.c — notifications end to end: the real plus7d against
 * tgsim (Telegram), extsim (SMS.ru) and a fresh PostgreSQL database.
 *
 * Purpose: the paths of issue item 6 (and the rendering side of item 7) as
 * a person and an operator see them: a signed logistics event for a posting
 * a registered person tracks gives them the rendered Telegram message
 * exactly once (a repeated event gives nothing); a person who blocked the
 * bot gets an SMS instead; an Ozon customer without Telegram gets an SMS;
 * SMS.ru refusing (code 207, bad api_id) fails the row with the code,
 * transient failures (503, 220) are retried; pickup reminders carry their
 * buttons, and an unknown day count uses the generic reminder template;
 * `plus7d template set` refuses an unknown placeholder naming it (exit 2)
 * and a saved template is used by the next notification; kill -9 between
 * queuing and sending loses nothing (duplicates only within the documented
 * window); PLUS7_SMS_PROVIDER=none fails SMS rows with a clear reason.
 * People are set up in SQL (users, order_subscribers, orders) so the test
 * depends on the notification path only, not on the dialog's wording.
 *
 * Exports: main (TAP).
 * Threads: main thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "e2e_harness.h"
#include "notify_render.h"
#include "rt.h"
#include "smsru.h"
#include "t.h"
#include "tgsim_harness.h"
#include "template.h"

#define LOGI_SECRET "notify-e2e-logistics-secret-0123456789"
#define SMS_KEY "EXTSIM-SMS-API-ID"
#define WAIT_S 30.0

static bool g_ready;

/* ---- helpers ---------------------------------------------------------------------- */

/* An RFC 3339 time, strictly increasing across calls (ms steps). */
static const char *rfc3339_now(void)
{
    static char buf[8][40];
    static unsigned next;
    static long long last_ms;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long ms = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    if (ms <= last_ms) ms = last_ms + 1;
    last_ms = ms;
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char *b = buf[next++ % 8];
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b, sizeof buf[0], "%s.%03lldZ", date, ms % 1000);
    return b;
}

static size_t sink_write(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* POST a signed batch to /api/logistics/events; the HTTP status. */
static long post_events(const char *body)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)LOGI_SECRET, strlen(LOGI_SECRET));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1], hdr[128], url[256];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(hdr, sizeof hdr, "X-Plus7-Signature: sha256=%s", hex);
    snprintf(url, sizeof url, "%s/api/logistics/events", e2e_p7_base());
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, hdr);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (code != 200) printf("# logistics POST: HTTP %ld for %s\n", code, body);
    return code;
}

/* One event: id, posting, status, optional pickup point. */
static long post_event(const char *id, const char *posting, const char *status, const char *pickup)
{
    char body[1024];
    if (pickup)
        snprintf(body, sizeof body,
                 "{\"events\":[{\"id\":\"%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\","
                 "\"pickup_point\":\"%s\"}]}", id, posting, status, rfc3339_now(), pickup);
    else
        snprintf(body, sizeof body,
                 "{\"events\":[{\"id\":\"%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\"}]}", id,
                 posting, status, rfc3339_now());
    return post_events(body);
}

/* One event naming its recipient by phone (which makes them the owner). */
static long post_event_to(const char *id, const char *posting, const char *status, const char *recipient_phone)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"events\":[{\"id\":\"%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\","
             "\"recipient_phone\":\"%s\"}]}", id, posting, status, rfc3339_now(), recipient_phone);
    return post_events(body);
}

/* A registered person (users row) who started the bot in tgsim. */
static int person(long long uid, const char *name, const char *phone)
{
    if (e2e_user(uid, name, phone, true) != 0) return -1;
    return e2e_sql_exec("INSERT INTO users (tg_user_id, chat_id, phone, first_name) VALUES ($1, $1, $2, $3)"
                        " ON CONFLICT (tg_user_id) DO NOTHING", e2e_i(uid), phone, name, NULL);
}

static int track(const char *posting, long long chat)
{
    return e2e_sql_exec("INSERT INTO order_subscribers (posting_number, chat_id) VALUES ($1, $2)"
                        " ON CONFLICT DO NOTHING", posting, e2e_i(chat), NULL);
}

/* An order Ozon told us about, with the customer's phone. */
static int ozon_order(const char *posting, const char *phone)
{
    return e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source, customer_phone, customer_name)"
                        " VALUES ($1, 'created', 'ozon', $2, 'Покупатель')", posting, phone, NULL);
}

/* extsim's SMS messages to `phone` ("+7..."): wait for n of them. Returns
 * the reply (caller frees) or NULL. */
static cJSON *sms_wait(const char *phone, int n, int timeout_ms)
{
    char path[256];
    snprintf(path, sizeof path, "/control/sms/wait?n=%d&phone=%%2B%s&timeout_ms=%d", n, phone + 1, timeout_ms);
    long st = 0;
    cJSON *j = e2e_xs("GET", path, &st, NULL);
    if (st != 200) {
        printf("# no %d SMS to %s within %d ms (HTTP %ld)\n", n, phone, timeout_ms, st);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int sms_count(const char *phone)
{
    char path[256];
    snprintf(path, sizeof path, "/control/sms/messages?phone=%%2B%s", phone + 1);
    long st = 0;
    cJSON *j = e2e_xs("GET", path, &st, NULL);
    int n = st == 200 ? cJSON_GetArraySize(cJSON_GetObjectItem(j, "messages")) : -1;
    cJSON_Delete(j);
    return n;
}

static const char *sms_text(const cJSON *reply, int i)
{
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(reply, "messages"), i);
    const cJSON *t = cJSON_GetObjectItem(m, "text");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static bool xs_post(const char *path, const char *json)
{
    long st = 0;
    cJSON *j = e2e_xs("POST", path, &st, "%s", json);
    cJSON_Delete(j);
    if (st != 200) printf("# extsim POST %s: HTTP %ld\n", path, st);
    return st == 200;
}

static const char *notify_status(const char *posting, const char *channel)
{
    return e2e_sqls("SELECT string_agg(status, ',' ORDER BY id) FROM notify_outbox"
                    " WHERE posting_number = $1 AND channel = $2", posting, channel, NULL);
}

#define NEED_READY() do { T_CHECK(g_ready); T_CHECK(e2e_p7_ensure() == 0); } while (0)

/* ---- cases -------------------------------------------------------------------------- */

T_CASE(seeded_templates_are_complete_and_valid)
{
    T_CHECK(g_ready);
    static const char *const events[] = {"created", "accepted", "in_transit", "at_pickup_point",
                                         "out_for_delivery", "delivered", "returned", "cancelled",
                                         "pickup_reminder_3", "pickup_reminder_6", "pickup_reminder"};
    static const tpl_var_t sample[] = {
        {"posting", "1234567890-0001-12"}, {"status", "Прибыл в пункт выдачи"},
        {"pickup_point", "ПВЗ Донецк, ул. Артёма, 120"}, {"storage_deadline", "26.11.2026 14:14"},
        {"name", "Мария"}, {"days", "4"}};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        for (int c = 0; c < 2; c++) {
            const char *channel = c ? "sms" : "telegram";
            char *body = e2e_sql1("SELECT body FROM notify_templates WHERE event = $1 AND channel = $2", events[i],
                                  channel, NULL);
            if (!body) printf("# no template %s/%s\n", events[i], channel);
            T_CHECK(body != NULL);
            char bad[128];
            T_EQ_INT(tpl_check(body, bad, sizeof bad), RT_OK);
            if (c == 0) {
                T_EQ_INT(tpl_check_html(body, bad, sizeof bad), RT_OK);
            } else {
                T_CHECK(strchr(body, '<') == NULL);
                char *text = tpl_render(body, sample, (int)(sizeof sample / sizeof sample[0]), false);
                tpl_tidy(text);
                int parts = smsru_parts(text);
                if (parts > 2) printf("# %s/sms takes %d parts: %s\n", events[i], parts, text);
                T_CHECK(parts >= 1 && parts <= 2);
                free(text);
            }
            free(body);
        }
    }
}

/* A watcher of the first cases' posting: tracks the number, owns nothing. */
#define WATCHER_UID 700500011LL

T_CASE(tracked_posting_notifies_telegram_exactly_once)
{
    NEED_READY();
    const long long uid = 700500001;
    const char *p = "55500001-0001-1";
    T_EQ_INT(person(uid, "Мария", "+79490000001"), 0);
    T_EQ_INT(person(WATCHER_UID, "Пётр", "+79490000011"), 0);
    T_EQ_INT(track(p, uid), 0);
    T_EQ_INT(track(p, WATCHER_UID), 0);
    /* the logistics system names the recipient, in a form people type: Мария owns the parcel */
    char body[1024];
    snprintf(body, sizeof body,
             "{\"events\":[{\"id\":\"n1-e1\",\"posting_number\":\"%s\",\"status\":\"in_transit\",\"at\":\"%s\","
             "\"recipient_phone\":\"8 (949) 000-00-01\",\"recipient_name\":\"Мария Иванова\"}]}", p, rfc3339_now());
    T_EQ_INT(post_events(body), 200);
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    T_EQ_STR(e2e_text(m), "🚚 Заказ <b>55500001-0001-1</b> в пути.");
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT recipient_phone || '|' || recipient_name FROM orders WHERE posting_number = $1", p, NULL),
             "+79490000001|Мария Иванова");
    m = e2e_reply(WATCHER_UID, WAIT_S);   /* the watcher: the status only, and a way out */
    T_CHECK(m != NULL);
    T_EQ_STR(e2e_text(m), "📦 Заказ <b>55500001-0001-1</b>: В пути.");
    cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"),
                                                                         "inline_keyboard"), 0), 0);
    T_EQ_STR(cJSON_GetObjectItem(b, "callback_data")->valuestring, "w:off:55500001-0001-1");
    T_EQ_STR(cJSON_GetObjectItem(b, "text")->valuestring, "🔕 Не следить");
    cJSON_Delete(m);
    /* the same event again, and a new event repeating the status: nothing more */
    T_EQ_INT(post_event("n1-e1", p, "in_transit", NULL), 200);
    T_EQ_INT(post_event("n1-e1b", p, "in_transit", NULL), 200);
    T_CHECK(e2e_sql_until(WAIT_S, "repeated", "SELECT result FROM logistics_inbox WHERE event_id = 'n1-e1b'", NULL));
    /* the next status arrives as the second message: nothing came in between */
    T_EQ_INT(post_event("n1-e2", p, "at_pickup_point", "ПВЗ <Центр> & Co"), 200);
    m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    const char *t = e2e_text(m);
    T_CHECK(strstr(t, "прибыл в пункт выдачи ПВЗ &lt;Центр&gt; &amp; Co.") != NULL);
    T_CHECK(strstr(t, "Заберите его до ") != NULL);
    cJSON_Delete(m);
    T_EQ_INT(e2e_bot_count(uid), 2);
    /* strangers learn nothing: no pickup point, no deadline */
    m = e2e_reply(WATCHER_UID, WAIT_S);
    T_CHECK(m != NULL);
    T_EQ_STR(e2e_text(m), "📦 Заказ <b>55500001-0001-1</b>: Прибыл в пункт выдачи.");
    cJSON_Delete(m);
    T_EQ_INT(e2e_bot_count(WATCHER_UID), 2);
    T_CHECK(e2e_sql_until(WAIT_S, "sent,sent,sent,sent", "SELECT string_agg(status, ',' ORDER BY id) FROM notify_outbox"
                                                         " WHERE posting_number = $1", p, NULL));
    T_EQ_STR(e2e_sqls("SELECT string_agg(audience, ',' ORDER BY id) FROM notify_outbox WHERE posting_number = $1"
                      " AND chat_id = $2::bigint", p, e2e_i(WATCHER_UID), NULL), "watcher,watcher");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE chat_id = $1::bigint AND vars LIKE '%ПВЗ%'",
                         e2e_i(WATCHER_UID), NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox t JOIN notify_outbox n ON n.id = t.notify_id"
                         " WHERE n.posting_number = $1 AND t.status = 'sent'", p, NULL), 4);
}

T_CASE(pickup_reminders_carry_buttons)
{
    NEED_READY();
    const long long uid = 700500001;                 /* the posting of the case above is at the pickup point */
    const char *p = "55500001-0001-1";
    T_CHECK(e2e_sql_until(WAIT_S, "2", "SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key = $1",
                          p, NULL));
    T_EQ_INT(e2e_sql_exec("UPDATE runtime_reminders SET due_at = now() WHERE kind = 'order' AND key = $1"
                          " AND name = 'pickup_0'", p, NULL), 0);
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    T_CHECK(strstr(e2e_text(m), "Напоминаем: заказ <b>55500001-0001-1</b> ждёт вас") != NULL);
    cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
    T_EQ_INT(cJSON_GetArraySize(kb), 3);
    const char *want[] = {"pk:ext:55500001-0001-1", "pk:cur:55500001-0001-1", "pk:ret:55500001-0001-1"};
    for (int i = 0; i < 3; i++) {
        cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(kb, i), 0);
        T_EQ_STR(cJSON_GetObjectItem(b, "callback_data")->valuestring, want[i]);
    }
    cJSON_Delete(m);
    /* a day count without a template of its own: the generic reminder template */
    T_EQ_INT(e2e_sql_exec("UPDATE runtime_reminders SET due_at = now(), data = '4' WHERE kind = 'order'"
                          " AND key = $1 AND name = 'pickup_1'", p, NULL), 0);
    m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    T_CHECK(strstr(e2e_text(m), "уже 4 дн.") != NULL);
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard")), 3);
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT string_agg(event, ',' ORDER BY id) FROM notify_outbox WHERE posting_number = $1"
                      " AND event LIKE 'pickup%'", p, NULL), "pickup_reminder_3,pickup_reminder_4");
    /* reminders and their buttons go to the owner only: the watcher's rows
     * would have come from the same statements as the owner's */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND chat_id = $2::bigint"
                         " AND event LIKE 'pickup%'", p, e2e_i(WATCHER_UID), NULL), 0);
    T_EQ_INT(e2e_bot_count(WATCHER_UID), 2);
}

/* «🔕 Не следить» under a watcher's notice: nothing more reaches that chat
 * (the owner still hears); tracking the number again subscribes again. */
T_CASE(watcher_unsubscribes_with_one_press)
{
    NEED_READY();
    const char *p = "55500001-0001-1";
    const long long owner = 700500001;
    /* the last notice the watcher read (the arrival) carries the button */
    cJSON *a = e2e_act(WATCHER_UID, "press_inline", "{\"message_id\":%lld,\"data\":\"w:off:%s\"}",
                       e2e_cursor(WATCHER_UID), p);
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON *m = e2e_reply(WATCHER_UID, WAIT_S);
    T_CHECK(m != NULL);
    T_CHECK(strstr(e2e_text(m), "Больше не присылаю новости об отправлении <code>55500001-0001-1</code>") != NULL);
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(WAIT_S, "true", "SELECT muted::text FROM order_subscribers WHERE posting_number = $1"
                                          " AND chat_id = $2::bigint", p, e2e_i(WATCHER_UID), NULL));
    int before = e2e_bot_count(WATCHER_UID);
    /* the next change: the owner hears of it (the positive control), the watcher does not */
    T_EQ_INT(post_event("n1-e4", p, "out_for_delivery", NULL), 200);
    m = e2e_reply(owner, WAIT_S);
    T_CHECK(m != NULL && strstr(e2e_text(m), "передан курьеру") != NULL);
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND chat_id = $2::bigint"
                         " AND event = 'out_for_delivery'", p, e2e_i(WATCHER_UID), NULL), 0);
    T_EQ_INT(e2e_bot_count(WATCHER_UID), before);
}

/* The recipient the logistics system names owns the parcel even when they
 * register only afterwards: before, an SMS reaches their phone; after,
 * the next change reaches them in Telegram with the owner's details. */
T_CASE(recipient_who_registers_later_is_the_owner)
{
    NEED_READY();
    const char *p = "55500009-0001-1", *phone = "+79490000009";
    const long long uid = 700500009;
    T_EQ_INT(post_event_to("n9-e1", p, "in_transit", "+7 (949) 000-00-09"), 200);
    cJSON *s = sms_wait(phone, 1, 30000);
    T_CHECK(s != NULL);
    T_EQ_STR(sms_text(s, 0), "+7Доставка: заказ 55500009-0001-1 в пути.");
    cJSON_Delete(s);
    T_EQ_INT(person(uid, "Зоя", phone), 0);
    T_EQ_INT(post_event("n9-e2", p, "at_pickup_point", "ПВЗ Мелитополь"), 200);
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    T_CHECK(m && strstr(e2e_text(m), "прибыл в пункт выдачи ПВЗ Мелитополь") != NULL);
    T_CHECK(m && strstr(e2e_text(m), "Заберите его до ") != NULL);
    cJSON_Delete(m);
    /* registered now: Telegram, not SMS (decided in the transaction that queued the message above) */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND channel = 'sms'", p, NULL), 1);
}

T_CASE(blocked_person_gets_sms_instead)
{
    NEED_READY();
    const long long uid = 700500002;
    const char *p = "55500002-0001-1", *phone = "+79490000002";
    T_EQ_INT(person(uid, "Алексей", phone), 0);
    T_EQ_INT(track(p, uid), 0);
    cJSON *b = e2e_act(uid, "block", NULL);
    T_CHECK(b != NULL);
    cJSON_Delete(b);
    T_EQ_INT(post_event_to("n2-e1", p, "in_transit", phone), 200);   /* the owner: SMS replaces Telegram */
    cJSON *s = sms_wait(phone, 1, 30000);
    T_CHECK(s != NULL);
    T_EQ_STR(sms_text(s, 0), "+7Доставка: заказ 55500002-0001-1 в пути.");
    cJSON_Delete(s);
    T_CHECK(e2e_sql_until(WAIT_S, "sent", "SELECT status FROM notify_outbox WHERE posting_number = $1"
                                          " AND channel = 'sms'", p, NULL));
    T_EQ_STR(notify_status(p, "telegram"), "fallback");
    T_CHECK(e2e_sqls("SELECT provider_id FROM notify_outbox WHERE posting_number = $1 AND channel = 'sms'", p,
                     NULL) != NULL);
    T_EQ_STR(e2e_sqls("SELECT t.status FROM tg_outbox t JOIN notify_outbox n ON n.id = t.notify_id"
                      " WHERE n.posting_number = $1", p, NULL), "blocked");
    T_EQ_STR(e2e_sqls("SELECT tg_unreachable::text FROM users WHERE tg_user_id = $1", e2e_i(uid), NULL), "true");
    /* now known unreachable: the next notice goes to SMS without trying Telegram */
    T_EQ_INT(post_event("n2-e2", p, "out_for_delivery", NULL), 200);
    s = sms_wait(phone, 2, 30000);
    T_CHECK(s != NULL);
    T_EQ_STR(sms_text(s, 1), "+7Доставка: заказ 55500002-0001-1 передан курьеру.");
    cJSON_Delete(s);
    T_CHECK(e2e_sql_until(WAIT_S, "sent,sent", "SELECT string_agg(status, ',' ORDER BY id) FROM notify_outbox"
                                               " WHERE posting_number = $1 AND channel = 'sms'", p, NULL));
    T_EQ_STR(notify_status(p, "telegram"), "fallback,fallback");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox t JOIN notify_outbox n ON n.id = t.notify_id"
                         " WHERE n.posting_number = $1", p, NULL), 1);
    T_EQ_INT(sms_count(phone), 2);
    /* an event PLUS7_SMS_EVENTS does not choose: the Telegram row fails, saying why, and no SMS */
    T_EQ_INT(post_event("n2-e3", p, "delivered", NULL), 200);
    T_CHECK(e2e_sql_until(WAIT_S, "failed", "SELECT status FROM notify_outbox WHERE posting_number = $1"
                                            " AND event = 'delivered'", p, NULL));
    const char *why = e2e_sqls("SELECT last_error FROM notify_outbox WHERE posting_number = $1 AND event = 'delivered'",
                               p, NULL);
    T_CHECK(why && strstr(why, "PLUS7_SMS_EVENTS") != NULL);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND channel = 'sms'", p, NULL), 2);
    T_EQ_INT(sms_count(phone), 2);
}

T_CASE(ozon_customer_without_telegram_gets_sms)
{
    NEED_READY();
    const char *p = "55500003-0001-1", *phone = "+79490000003";
    T_EQ_INT(ozon_order(p, phone), 0);
    T_EQ_INT(post_event("n3-e0", p, "accepted", NULL), 200);   /* not among PLUS7_SMS_EVENTS: no SMS */
    T_EQ_INT(post_event("n3-e1", p, "in_transit", NULL), 200);
    cJSON *s = sms_wait(phone, 1, 30000);   /* the later event's SMS: the earlier one was decided before it */
    T_CHECK(s != NULL);
    T_EQ_STR(sms_text(s, 0), "+7Доставка: заказ 55500003-0001-1 в пути.");
    cJSON_Delete(s);
    T_CHECK(e2e_sql_until(WAIT_S, "sent", "SELECT status FROM notify_outbox WHERE posting_number = $1", p, NULL));
    T_EQ_STR(e2e_sqls("SELECT error_code::text FROM notify_outbox WHERE posting_number = $1", p, NULL), "100");
    T_EQ_STR(e2e_sqls("SELECT string_agg(event, ',') FROM notify_outbox WHERE posting_number = $1", p, NULL),
             "in_transit");
    T_EQ_INT(sms_count(phone), 1);
}

T_CASE(sms_refused_by_smsru_fails_with_its_code)
{
    NEED_READY();
    const char *p = "55500004-0001-1", *phone = "+79490000004";
    T_CHECK(xs_post("/control/sms/config", "{\"number_codes\":{\"+79490000004\":207}}"));
    T_EQ_INT(ozon_order(p, phone), 0);
    T_EQ_INT(post_event("n4-e1", p, "in_transit", NULL), 200);
    T_CHECK(e2e_sql_until(WAIT_S, "failed", "SELECT status FROM notify_outbox WHERE posting_number = $1", p, NULL));
    T_EQ_STR(e2e_sqls("SELECT error_code::text FROM notify_outbox WHERE posting_number = $1", p, NULL), "207");
    T_EQ_STR(e2e_sqls("SELECT attempts::text FROM notify_outbox WHERE posting_number = $1", p, NULL), "1");
    T_CHECK(xs_post("/control/sms/config", "{\"number_codes\":{}}"));
    /* a wrong api_id: request-level 200 */
    const char *p2 = "55500005-0001-1", *phone2 = "+79490000005";
    T_CHECK(xs_post("/control/sms/config", "{\"api_id\":\"SOMETHING-ELSE\"}"));
    T_EQ_INT(ozon_order(p2, phone2), 0);
    T_EQ_INT(post_event("n5-e1", p2, "in_transit", NULL), 200);
    T_CHECK(e2e_sql_until(WAIT_S, "failed", "SELECT status FROM notify_outbox WHERE posting_number = $1", p2, NULL));
    T_EQ_STR(e2e_sqls("SELECT error_code::text FROM notify_outbox WHERE posting_number = $1", p2, NULL), "200");
    const char *err = e2e_sqls("SELECT last_error FROM notify_outbox WHERE posting_number = $1", p2, NULL);
    T_CHECK(err && strstr(err, "smsru 200") != NULL);
    T_CHECK(xs_post("/control/sms/config", "{\"api_id\":\"" SMS_KEY "\"}"));
    T_EQ_INT(sms_count(phone), 0);
    T_EQ_INT(sms_count(phone2), 0);
}

T_CASE(sms_transient_failures_are_retried)
{
    NEED_READY();
    const char *p = "55500006-0001-1", *phone = "+79490000006";
    /* first an HTTP 503, then SMS.ru's own 220 (service unavailable), then through */
    T_CHECK(xs_post("/control/faults", "{\"faults\":[{\"path\":\"/sms/send\",\"count\":1,\"status\":503},"
                                       "{\"path\":\"/sms/send\",\"count\":1,\"status\":200}]}"));
    T_EQ_INT(ozon_order(p, phone), 0);
    T_EQ_INT(post_event("n6-e1", p, "in_transit", NULL), 200);
    cJSON *s = sms_wait(phone, 1, 30000);
    T_CHECK(s != NULL);
    cJSON_Delete(s);
    T_CHECK(e2e_sql_until(WAIT_S, "sent", "SELECT status FROM notify_outbox WHERE posting_number = $1", p, NULL));
    T_EQ_STR(e2e_sqls("SELECT attempts::text FROM notify_outbox WHERE posting_number = $1", p, NULL), "3");
    T_EQ_INT(sms_count(phone), 1);
    long st = 0;
    cJSON *j = e2e_xs("GET", "/control/requests?path=/sms/send&limit=100", &st, NULL);
    int requests = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "requests")) {
        const cJSON *form = cJSON_GetObjectItem(e, "form");
        const cJSON *to = cJSON_GetObjectItem(form, "to");
        if (cJSON_IsString(to) && strcmp(to->valuestring, "79490000006") == 0) {
            requests++;
            T_EQ_STR(cJSON_GetObjectItem(form, "json")->valuestring, "1");
            T_EQ_STR(cJSON_GetObjectItem(form, "api_id")->valuestring, SMS_KEY);
        }
    }
    cJSON_Delete(j);
    T_EQ_INT(requests, 3);
}

T_CASE(template_cli_checks_and_the_next_notice_uses_it)
{
    NEED_READY();
    char out[4096];
    const char *bad[] = {"template", "set", "delivered", "telegram", "Заказ {posting} {bogus}", NULL};
    T_EQ_INT(e2e_p7_run(bad, out, sizeof out), 2);
    T_CHECK(strstr(out, "unknown placeholder {bogus}") != NULL);
    const char *html[] = {"template", "set", "delivered", "telegram", "Заказ <b>{posting}", NULL};
    T_EQ_INT(e2e_p7_run(html, out, sizeof out), 2);
    T_CHECK(strstr(out, "<b> is not closed") != NULL);
    const char *chan[] = {"template", "set", "delivered", "fax", "x", NULL};
    T_EQ_INT(e2e_p7_run(chan, out, sizeof out), 2);
    const char *good[] = {"template", "set", "delivered", "telegram", "🎉 {name}, заказ <b>{posting}</b> у вас!", NULL};
    T_EQ_INT(e2e_p7_run(good, out, sizeof out), 0);
    const char *list[] = {"template", "list", "delivered", NULL};
    T_EQ_INT(e2e_p7_run(list, out, sizeof out), 0);
    T_CHECK(strstr(out, "🎉 {name}, заказ <b>{posting}</b> у вас!") != NULL);
    T_CHECK(strstr(out, "delivered sms") != NULL);
    /* the person of the first case collects the parcel */
    const long long uid = 700500001;
    T_EQ_INT(post_event("n1-e3", "55500001-0001-1", "delivered", NULL), 200);
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    T_EQ_STR(e2e_text(m), "🎉 Мария, заказ <b>55500001-0001-1</b> у вас!");
    cJSON_Delete(m);
    /* reminders were cancelled with the collection */
    T_CHECK(e2e_sql_until(WAIT_S, "0", "SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key = $1",
                          "55500001-0001-1", NULL));
}

T_CASE(metrics_count_notifications)
{
    NEED_READY();
    char url[256];
    snprintf(url, sizeof url, "%s/metrics", e2e_p7_base());
    tgh_resp_t r;
    tgh_http("GET", url, NULL, NULL, 0, &r);
    T_EQ_INT(r.status, 200);
    const char *b = r.body ? r.body : "";
    T_CHECK(strstr(b, "plus7_notify_queued_total{channel=\"telegram\"}") != NULL);
    const char *f = strstr(b, "\nplus7_notify_fallback_total ");
    T_CHECK(f && atoi(f + 29) >= 1);
    const char *s = strstr(b, "\nplus7_sms_sent_total ");
    T_CHECK(s && atoi(s + 22) >= 3);
    const char *e = strstr(b, "\nplus7_sms_failed_total ");
    T_CHECK(e && atoi(e + 24) >= 2);
    tgh_resp_free(&r);
}

/* Outside PLUS7_NOTIFY_HOURS no SMS goes out: the row waits for the
 * opening hour (Moscow time); with the window open it is sent. */
T_CASE(sms_waits_for_the_notify_hours)
{
    NEED_READY();
    int h = (int)e2e_sql_int("SELECT extract(hour FROM now() AT TIME ZONE 'Europe/Moscow')::int", NULL);
    char hours[16], from[8];
    int open_h = h < 22 ? h + 1 : 0;   /* a one-hour window that does not hold the current hour */
    snprintf(hours, sizeof hours, "%d-%d", open_h, open_h + 1);
    snprintf(from, sizeof from, "%d", open_h);
    T_EQ_INT(e2e_p7_stop(NULL), 0);
    e2e_p7_setenv("PLUS7_NOTIFY_HOURS", hours);
    T_EQ_INT(e2e_p7_start(), 0);
    const char *p = "55500008-0001-1", *phone = "+79490000008";
    T_EQ_INT(ozon_order(p, phone), 0);
    T_EQ_INT(post_event("n8-e1", p, "in_transit", NULL), 200);
    /* the pipeline saw the row and moved it to the opening hour */
    T_CHECK(e2e_sql_until(WAIT_S, from, "SELECT extract(hour FROM next_attempt_at AT TIME ZONE 'Europe/Moscow')::int"
                                        "  FROM notify_outbox WHERE posting_number = $1 AND channel = 'sms'", p, NULL));
    T_EQ_STR(e2e_sqls("SELECT status || ':' || attempts || ':' || (next_attempt_at > now())::text FROM notify_outbox"
                      " WHERE posting_number = $1", p, NULL), "pending:0:true");
    T_EQ_INT(sms_count(phone), 0);
    /* the opening hour has come (as if the service slept until then): it goes out */
    T_EQ_INT(e2e_p7_stop(NULL), 0);
    e2e_p7_setenv("PLUS7_NOTIFY_HOURS", "0-24");
    T_EQ_INT(e2e_sql_exec("UPDATE notify_outbox SET next_attempt_at = now() WHERE posting_number = $1", p, NULL), 0);
    T_EQ_INT(e2e_p7_start(), 0);
    cJSON *s = sms_wait(phone, 1, 30000);
    T_CHECK(s != NULL);
    cJSON_Delete(s);
}

/* Many notifications in flight, plus7d killed with SIGKILL part-way: after
 * the restart every one is delivered; a message sent just before the kill
 * whose 'sent' mark did not commit is sent again (the documented window),
 * so duplicates are bounded by what can be in flight at once. */
T_CASE(kill9_between_queuing_and_sending_loses_nothing)
{
    NEED_READY();
    enum { NPEOPLE = 20, NSMS = 4 };
    T_EQ_INT(e2e_p7_stop(NULL), 0);
    e2e_p7_setenv("PLUS7_TG_RATE", "4");     /* slow sending: the kill lands mid-stream */
    T_EQ_INT(e2e_p7_start(), 0);
    T_CHECK(xs_post("/control/faults", "{\"path\":\"/sms/send\",\"count\":-1,\"delay_ms\":700}"));
    char body[16384];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"events\":[");
    for (int i = 0; i < NPEOPLE + NSMS; i++) {
        char posting[32], phone[32];
        snprintf(posting, sizeof posting, "5560%04d-0001-1", i);
        snprintf(phone, sizeof phone, "+7949100%04d", i);
        if (i < NPEOPLE) {
            char name[48];
            snprintf(name, sizeof name, "Человек%d", i);
            T_EQ_INT(person(700600000 + i, name, phone), 0);
            T_EQ_INT(track(posting, 700600000 + i), 0);
        } else {
            T_EQ_INT(ozon_order(posting, phone), 0);
        }
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "%s{\"id\":\"k-%d\",\"posting_number\":\"%s\",\"status\":\"in_transit\",\"at\":\"%s\"}",
                              i ? "," : "", i, posting, rfc3339_now());
    }
    snprintf(body + n, sizeof body - n, "]}");
    T_EQ_INT(post_events(body), 200);
    /* wait until sending is under way, then kill */
    T_CHECK(e2e_sql_until(WAIT_S, "true", "SELECT (count(*) FILTER (WHERE status = 'sent') >= 3)::text FROM notify_outbox"
                                       " WHERE posting_number LIKE '5560%'", NULL));
    const char *mid = e2e_sqls("SELECT string_agg(status || ':' || c, ' ') FROM (SELECT status, count(*) AS c"
                               " FROM notify_outbox WHERE posting_number LIKE '5560%' GROUP BY status) x", NULL);
    printf("# at the kill: %s\n", mid ? mid : "?");
    e2e_p7_kill();
    long long sent_before = e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number LIKE '5560%'"
                                        " AND status = 'sent'", NULL);
    T_CHECK(sent_before < NPEOPLE + NSMS);   /* the kill really was between queuing and sending */
    long fst = 0;
    cJSON_Delete(e2e_xs("DELETE", "/control/faults", &fst, NULL));
    T_EQ_INT(fst, 200);
    e2e_p7_setenv("PLUS7_TG_RATE", NULL);
    T_EQ_INT(e2e_p7_start(), 0);
    T_CHECK(e2e_sql_until(90, "24", "SELECT count(*) FROM notify_outbox WHERE posting_number LIKE '5560%'"
                                    " AND status = 'sent'", NULL));
    int dup = 0;
    for (int i = 0; i < NPEOPLE; i++) {
        int c = e2e_bot_count(700600000 + i);
        T_CHECK(c >= 1);
        if (c > 1) dup += c - 1;
    }
    for (int i = NPEOPLE; i < NPEOPLE + NSMS; i++) {
        char phone[32];
        snprintf(phone, sizeof phone, "+7949100%04d", i);
        int c = sms_count(phone);
        T_CHECK(c >= 1);
        if (c > 1) dup += c - 1;
    }
    printf("# duplicates after kill -9: %d\n", dup);
    T_CHECK(dup <= 8);   /* at most what was on the wire: 4 msg/s to Telegram, 4 SMS slots */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM (SELECT notify_id FROM tg_outbox WHERE notify_id IS NOT NULL"
                         " GROUP BY notify_id HAVING count(*) > 1) x", NULL), 0);
}

T_CASE(sms_provider_none_fails_sms_rows_clearly)
{
    NEED_READY();
    T_EQ_INT(e2e_p7_stop(NULL), 0);
    e2e_p7_setenv("PLUS7_SMS_PROVIDER", "none");
    T_EQ_INT(e2e_p7_start(), 0);
    const char *p = "55500010-0001-1", *phone = "+79490000010";
    T_EQ_INT(ozon_order(p, phone), 0);
    T_EQ_INT(post_event("n10-e1", p, "in_transit", NULL), 200);
    T_CHECK(e2e_sql_until(WAIT_S, "failed", "SELECT status FROM notify_outbox WHERE posting_number = $1", p, NULL));
    const char *err = e2e_sqls("SELECT last_error FROM notify_outbox WHERE posting_number = $1", p, NULL);
    T_CHECK(err && strstr(err, "PLUS7_SMS_PROVIDER=none") != NULL);
    T_EQ_INT(sms_count(phone), 0);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    if (e2e_init("notify", E2E_POLLING) == 0 && e2e_xs_start(0) == 0) {
        e2e_p7_setenv("PLUS7_LOGISTICS_SECRET", LOGI_SECRET);
        e2e_p7_setenv("PLUS7_SMS_PROVIDER", "smsru");
        e2e_p7_setenv("PLUS7_SMS_API", e2e_xs_base());
        e2e_p7_setenv("PLUS7_SMS_KEY", SMS_KEY);
        e2e_p7_setenv("PLUS7_NOTIFY_HOURS", "0-24");   /* any hour: the window has its own case */
        e2e_p7_setenv("PLUS7_SMS_EVENTS", "in_transit,out_for_delivery,at_pickup_point,pickup_reminder");
        g_ready = e2e_p7_start() == 0;
    }
    int rc = t_run_all();
    return e2e_finish(rc);
}
