/* test_bc_e2e.c — mass messages and the pickup-reminder buttons end to
 * end: the real plus7d + tgsim + PostgreSQL (the harness of tests/e2e,
 * compiled in).
 *
 * Purpose: an operator (granted with `plus7d role PHONE operator`) sends a
 * broadcast through the dialog; every client gets it exactly once and the
 * operator sees ONE progress message, edited to the final count; kill -9 in
 * the middle of a broadcast and a restart deliver the rest without
 * duplicates; a longer broadcast edits its progress message while it
 * runs; segments by order status and by delivery zone reach exactly
 * their people with their order's data filled in; the pickup buttons
 * extend the storage once (the date and the pending reminders move),
 * record a return request once, open the delivery form, and refuse
 * anybody who is not the recipient. Expected texts come from the
 * catalogue.
 *
 * Clients are tgsim users (ids 72xxx) inserted into `users` directly (their
 * registration is tested elsewhere); the operator and the pickup clients
 * register through the dialog. Cases share one database and one plus7d and
 * run in order: the "all clients" case first (later cases add clients).
 *
 * Tags: "e2e" on every case, "slow" on the one that kills plus7d.
 * Threads: main thread only.
 */
#include "t.h"

#include "e2e_harness.h"
#include "order_status.h"
#include "texts.h"
#include "timefmt.h"

#define WAIT_S 20.0          /* one bot reply, generous for sanitizer builds */
#define DB_WAIT_S 30.0       /* an asynchronous database effect */
#define BC_WAIT_S 120.0      /* a whole broadcast */

#define OPERATOR 72900LL
#define OPERATOR_PHONE "+79002009900"
#define NCLIENTS 50

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

/* ---- helpers ------------------------------------------------------------------------ */

static const char *fmt1(text_id_t id, const char *arg)
{
    static char buf[4][2048];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], text_get(id), arg);
    return b;
}

static cJSON *reply(long long uid)
{
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    return m;
}

static cJSON *say(long long uid, const char *text)
{
    cJSON *m = e2e_say(uid, "text", text, WAIT_S);
    T_CHECK(m != NULL);
    return m;
}

static cJSON *press(long long uid, const char *label)
{
    cJSON *m = e2e_say(uid, "press_reply", label, WAIT_S);
    T_CHECK(m != NULL);
    return m;
}

/* Press an inline button (by callback data) under message `mid`; force:
 * send the data even if that message has no such button (the pickup
 * reminder's buttons, whose message the notifier would have sent). */
static void press_inline(long long uid, long long mid, const char *data, bool force)
{
    cJSON *a = e2e_act(uid, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\",\"force\":%s}", mid, data,
                       force ? "true" : "false");
    T_CHECK(a != NULL);
    cJSON_Delete(a);
}

static long long msg_id(const cJSON *m) { return (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "message_id")); }

static void expect_text(const cJSON *m, const char *want) { T_EQ_STR(e2e_text(m), want); }

/* The callback data of the message's first inline button whose data
 * starts with `prefix`, or NULL. */
static const char *button_data(const cJSON *m, const char *prefix)
{
    const cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
    const cJSON *row, *b;
    cJSON_ArrayForEach(row, rows) cJSON_ArrayForEach(b, row) {
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(b, "callback_data"));
        if (d && strncmp(d, prefix, strlen(prefix)) == 0) return d;
    }
    return NULL;
}

/* Does the message carry an inline button with this callback data? */
static bool has_data(const cJSON *m, const char *data)
{
    const char *d = button_data(m, data);
    return d && strcmp(d, data) == 0;
}

/* Register uid through the contact button (first name `name`); returns
 * the message id of the bot's answer. */
static long long register_person(long long uid, const char *name, const char *phone)
{
    T_CHECK(e2e_user(uid, name, phone, false) == 0);
    cJSON *a = e2e_act(uid, "command", "{\"command\":\"start\"}");
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON *m = reply(uid);
    expect_text(m, text_get(T_GREETING));
    cJSON_Delete(m);
    m = press(uid, text_get(T_BTN_SHARE_PHONE));
    expect_text(m, fmt1(T_REGISTERED, name));
    long long mid = msg_id(m);
    cJSON_Delete(m);
    return mid;
}

static bool g_operator_ready;

/* The operator: registered and granted once; its menu has «📢 Рассылка». */
static void operator_ready(void)
{
    if (g_operator_ready) return;
    register_person(OPERATOR, "Оператор", OPERATOR_PHONE);
    const char *args[] = {"role", OPERATOR_PHONE, "operator", NULL};
    char out[512];
    T_EQ_INT(e2e_p7_run(args, out, sizeof out), 0);
    cJSON *m = say(OPERATOR, "/menu");
    expect_text(m, text_get(T_MENU_OPERATOR));
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_BROADCAST)));
    cJSON_Delete(m);
    g_operator_ready = true;
}

/* n tgsim users uid0.. (started), inserted as registered clients. */
static void make_clients(long long uid0, int n, const char *name_prefix)
{
    for (int i = 0; i < n; i++) {
        char name[64], phone[24];
        snprintf(name, sizeof name, "%s%d", name_prefix, i);
        snprintf(phone, sizeof phone, "+7900%07lld", uid0 + i);
        T_CHECK(e2e_user(uid0 + i, name, phone, true) == 0);
        T_EQ_INT(e2e_sql_exec("INSERT INTO users (tg_user_id, chat_id, phone, first_name) VALUES ($1, $1, $2, $3)"
                              " ON CONFLICT DO NOTHING", e2e_i(uid0 + i), phone, name, NULL), 0);
    }
}

/* The operator's dialog up to the confirmation: «📢 Рассылка», then the
 * template `event` (NULL: type `text`), then the segment callbacks in
 * `seg` (e.g. {"b:s:all"} or {"b:s:st", "b:st:delivered"}). Returns the
 * confirmation message (caller frees). */
static cJSON *operator_prepare(const char *event, const char *text, const char *const *seg, int nseg)
{
    cJSON *m = press(OPERATOR, text_get(T_BTN_BROADCAST));
    expect_text(m, text_get(T_BC_PICK));   /* 006_notify.sql seeds templates */
    char data[80];
    if (event) {
        snprintf(data, sizeof data, "b:t:%s", event);
        T_CHECK(has_data(m, data));
        press_inline(OPERATOR, msg_id(m), data, false);
        cJSON_Delete(m);
    } else {
        T_CHECK(has_data(m, "b:txt"));
        press_inline(OPERATOR, msg_id(m), "b:txt", false);
        cJSON_Delete(m);
        m = reply(OPERATOR);
        expect_text(m, text_get(T_BC_ASK_TEXT));
        cJSON_Delete(m);
        cJSON *t = cJSON_CreateString(text);
        char *ts = cJSON_PrintUnformatted(t);
        cJSON_Delete(t);
        cJSON *a = e2e_act(OPERATOR, "text", "{\"text\":%s}", ts);
        free(ts);
        T_CHECK(a != NULL);
        cJSON_Delete(a);
    }
    m = reply(OPERATOR);
    expect_text(m, text_get(T_BC_SEGMENT));
    for (int i = 0; i < nseg; i++) {
        T_CHECK(has_data(m, seg[i]));
        press_inline(OPERATOR, msg_id(m), seg[i], false);
        cJSON_Delete(m);
        m = reply(OPERATOR);
    }
    T_CHECK(button_data(m, "b:go:") != NULL);
    return m;
}

/* Confirm; returns the new broadcast's id once it runs. */
static long long operator_go(const cJSON *confirm)
{
    long long before = e2e_sql_int("SELECT coalesce(max(id), 0) FROM broadcasts WHERE status <> 'draft'", NULL);
    const char *go = button_data(confirm, "b:go:");
    T_CHECK(go != NULL);
    press_inline(OPERATOR, msg_id(confirm), go, false);
    cJSON *m = reply(OPERATOR);
    expect_text(m, text_get(T_BC_STARTED));
    cJSON_Delete(m);
    long long id = e2e_sql_int("SELECT max(id) FROM broadcasts WHERE status <> 'draft'", NULL);
    T_CHECK(id > before);
    return id;
}

/* Wait until broadcast `id` is done; then its one progress message must
 * show the final counts. */
static void expect_done(long long id, long long sent, long long failed)
{
    T_CHECK(e2e_sql_until(BC_WAIT_S, "done", "SELECT status FROM broadcasts WHERE id = $1", e2e_i(id), NULL));
    char want[256];
    snprintf(want, sizeof want, text_get(T_BC_DONE), id, sent, failed);
    T_EQ_INT(e2e_sql_int("SELECT sent FROM broadcasts WHERE id = $1", e2e_i(id), NULL), sent);
    T_EQ_INT(e2e_sql_int("SELECT failed FROM broadcasts WHERE id = $1", e2e_i(id), NULL), failed);
    /* the final text lands in the operator's chat (the gateway sends it after the commit) */
    cJSON *m = reply(OPERATOR);
    T_CHECK(m != NULL);
    long long mid = e2e_sql_int("SELECT progress_message_id FROM broadcasts WHERE id = $1", e2e_i(id), NULL);
    T_EQ_INT(msg_id(m), mid);                          /* the progress message itself... */
    double deadline = e2e_now() + WAIT_S;
    while (strcmp(e2e_text(m), want) != 0 && e2e_now() < deadline) {   /* ...edited to the final text */
        cJSON_Delete(m);
        e2e_sleep_ms(100);
        bool ok = false;
        cJSON *w = e2e_wait(OPERATOR, 1, mid - 1, 5, &ok);
        m = cJSON_Duplicate(cJSON_GetArrayItem(cJSON_GetObjectItem(w, "messages"), 0), 1);
        cJSON_Delete(w);
        T_CHECK(m != NULL);
    }
    expect_text(m, want);
    T_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "edit_count")) >= 1);
    cJSON_Delete(m);
    /* nothing else came: one progress message, no second final message —
     * the reply to /help, queued after everything the broadcast queued, is
     * the very next message */
    T_EQ_INT(e2e_probe(OPERATOR, mid, "help", text_get(T_HELP_STAFF), WAIT_S), 0);
}

/* Move the operator's cursor past the last message marked sent — never
 * back: the last reply's 'sent' mark (its tg_message_id) may not be
 * stored yet when the test has already read the reply. */
static void operator_cursor_to_last_sent(void)
{
    long long last = e2e_sql_int("SELECT max(tg_message_id) FROM tg_outbox WHERE chat_id = $1", e2e_i(OPERATOR), NULL);
    if (last > e2e_cursor(OPERATOR)) e2e_cursor_set(OPERATOR, last);
}

/* Messages in `chat` from the bot whose text contains `needle`. */
static int count_with(long long chat, const char *needle)
{
    char path[96];
    snprintf(path, sizeof path, "/control/chats/%lld?from=bot", chat);
    long st = 0;
    cJSON *j = e2e_tg("GET", path, &st, NULL);
    int n = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "messages")) if (strstr(e2e_text(m), needle)) n++;
    cJSON_Delete(j);
    return st == 200 ? n : -1;
}

/* Broadcast messages containing `needle` that tgsim delivered to the
 * clients of the first two cases (72001.., 72101..). */
static long long bc_delivered(const char *needle)
{
    long long n = 0;
    for (long long uid = 72001; uid < 72001 + NCLIENTS; uid++) n += count_with(uid, needle);
    for (long long uid = 72101; uid < 72131; uid++) n += count_with(uid, needle);
    return n;
}

/* tgsim's 429 answers from its own limiter so far. */
static long long tg_rate_limited(void)
{
    cJSON *s = e2e_tg("GET", "/control/stats", NULL, NULL);
    long long n = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "rate_limited"));
    cJSON_Delete(s);
    return n;
}

/* ---- mass messages -------------------------------------------------------------------- */

T_CASE_TAGGED(broadcast_all_clients, "e2e")
{
    T_START();
    /* Telegram's limit as a strict sliding window: 30 in ANY second */
    cJSON *cfg = e2e_tg("POST", "/control/config", NULL, "{\"rate_global\":30,\"rate_global_strict\":true}");
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "config"), "rate_global_strict")));
    cJSON_Delete(cfg);
    long long limited0 = tg_rate_limited();
    make_clients(72001, NCLIENTS, "Клиент");
    operator_ready();
    long long clients = e2e_sql_int("SELECT count(*) FROM broadcast_clients", NULL);
    T_EQ_INT(clients, NCLIENTS);
    static const char *const seg[] = {"b:s:all"};
    cJSON *c = operator_prepare(NULL, "Привет, {name}! Новости <+7Доставки> & акции.", seg, 1);
    char n[32];
    snprintf(n, sizeof n, "%d", NCLIENTS);
    T_CHECK(strstr(e2e_text(c), n) != NULL);
    T_CHECK(strstr(e2e_text(c), "Привет, {name}! Новости &lt;+7Доставки&gt; &amp; акции.") != NULL);
    long long id = operator_go(c);
    cJSON_Delete(c);
    /* the progress message comes first... */
    cJSON *p = reply(OPERATOR);
    T_CHECK(strstr(e2e_text(p), "Рассылка №") != NULL);
    long long pmid = msg_id(p);
    cJSON_Delete(p);
    e2e_cursor_set(OPERATOR, pmid - 1);
    expect_done(id, NCLIENTS, 0);
    /* ...and every client got the message exactly once, with their name */
    for (int i = 0; i < NCLIENTS; i++) {
        char want[256];
        snprintf(want, sizeof want, "Привет, Клиент%d! Новости &lt;+7Доставки&gt; &amp; акции.", i);
        T_EQ_INT(e2e_bot_count(72001 + i), 1);
        T_EQ_INT(count_with(72001 + i, want), 1);
    }
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1 AND state = 'sent'",
                         e2e_i(id), NULL), NCLIENTS);
    char like[32];
    snprintf(like, sizeof like, "b%lld:%%", id);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE $1 AND prio = 1", like, NULL),
             NCLIENTS);
    /* the durable start reminder is gone with the broadcast */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM runtime_reminders WHERE kind = 'broadcast' AND key = $1",
                         e2e_i(id), NULL), 0);
    T_EQ_STR(e2e_sqls("SELECT step FROM conversations WHERE chat_id = $1", e2e_i(OPERATOR), NULL), "menu");
    /* paced with headroom: not one 429 from the strict limiter */
    T_EQ_INT(tg_rate_limited() - limited0, 0);
}

T_CASE_TAGGED(broadcast_survives_kill9, "e2e slow")
{
    T_START();
    operator_ready();
    make_clients(72101, 30, "Гость");   /* 80 clients in all */
    /* slow sending, so the kill lands in the middle */
    double stop_s = 0;
    T_EQ_INT(e2e_p7_stop(&stop_s), 0);
    e2e_p7_setenv("PLUS7_TG_RATE", "4");
    T_CHECK(e2e_p7_start() == 0);
    static const char *const seg[] = {"b:s:all"};
    cJSON *c = operator_prepare(NULL, "Вторая рассылка для {name}.", seg, 1);
    long long id = operator_go(c);
    cJSON_Delete(c);
    long long total = e2e_sql_int("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1", e2e_i(id), NULL);
    T_EQ_INT(total, NCLIENTS + 30);
    T_CHECK(e2e_sql_until(BC_WAIT_S, "t", "SELECT count(*) >= 12 FROM broadcast_recipients r JOIN tg_outbox o"
                          " ON o.dedupe_key = 'b' || r.broadcast_id || ':' || r.tg_user_id"
                          " WHERE r.broadcast_id = $1 AND o.status = 'sent'", e2e_i(id), NULL));
    /* Stop deliveries first (every sendMessage answers 429), so that no send
     * is between Telegram's answer and its 'sent' mark when the process
     * dies — the one window the design allows a repeat in. */
    cJSON *f = e2e_tg("POST", "/control/faults", NULL,
                      "{\"too_many_requests\":{\"count\":1000000,\"retry_after\":2,\"methods\":[\"sendMessage\"]}}");
    cJSON_Delete(f);
    double deadline = e2e_now() + WAIT_S;
    for (;;) {
        cJSON *s = e2e_tg("GET", "/control/stats", NULL, NULL);
        double forced = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "forced_429"));
        cJSON_Delete(s);
        if (forced >= 1 || e2e_now() > deadline) break;
        e2e_sleep_ms(50);
    }
    /* Every send tgsim delivered is marked 'sent' (no send between its 200
     * and its mark) — waited for, not slept on: tgsim's count is frozen by
     * the 429s, the 'sent' rows catch up with it. */
    long long delivered = -1, marked = -2;
    deadline = e2e_now() + WAIT_S;
    while (e2e_now() < deadline) {
        delivered = bc_delivered("Вторая рассылка для ");
        marked = e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'b' || $1 || ':7%'"
                             " AND status = 'sent'", e2e_i(id), NULL);
        if (delivered == marked) break;
        e2e_sleep_ms(100);
    }
    T_EQ_INT(marked, delivered);
    long long sent_before = e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'b' || $1 || ':7%'"
                                        " AND status = 'sent'", e2e_i(id), NULL);
    long long pending_before = e2e_sql_int("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1"
                                           " AND state = 'pending'", e2e_i(id), NULL);
    e2e_p7_kill();
    T_CHECK(sent_before >= 12 && sent_before < total);
    T_CHECK(pending_before > 0);   /* some not even queued yet: the actor must resume them */
    f = e2e_tg("POST", "/control/faults", NULL, "{\"clear\":true}");
    cJSON_Delete(f);
    e2e_p7_setenv("PLUS7_TG_RATE", NULL);
    T_CHECK(e2e_p7_start() == 0);
    T_CHECK(e2e_sql_until(BC_WAIT_S, "done", "SELECT status FROM broadcasts WHERE id = $1", e2e_i(id), NULL));
    /* everybody exactly once */
    int missing = 0, doubled = 0;
    for (long long uid = 72001; uid < 72001 + NCLIENTS; uid++) {
        char want[128];
        snprintf(want, sizeof want, "Вторая рассылка для Клиент%lld.", uid - 72001);
        int n = count_with(uid, want);
        missing += n == 0;
        doubled += n > 1;
    }
    for (long long uid = 72101; uid < 72131; uid++) {
        char want[128];
        snprintf(want, sizeof want, "Вторая рассылка для Гость%lld.", uid - 72101);
        int n = count_with(uid, want);
        missing += n == 0;
        doubled += n > 1;
    }
    T_EQ_INT(missing, 0);
    T_EQ_INT(doubled, 0);
    T_EQ_INT(e2e_sql_int("SELECT sent FROM broadcasts WHERE id = $1", e2e_i(id), NULL), total);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1 AND state = 'sent'",
                         e2e_i(id), NULL), total);
    /* the operator's progress message ends with the final count */
    char want[256];
    snprintf(want, sizeof want, text_get(T_BC_DONE), id, total, 0LL);
    long long mid = e2e_sql_int("SELECT progress_message_id FROM broadcasts WHERE id = $1", e2e_i(id), NULL);
    T_CHECK(mid > 0);
    T_CHECK(e2e_sql_until(WAIT_S, "sent", "SELECT status FROM tg_outbox WHERE dedupe_key = 'b' || $1 || ':final'",
                          e2e_i(id), NULL));
    T_EQ_INT(count_with(OPERATOR, want), 1);
    operator_cursor_to_last_sent();
}

/* Orders for segments: posting 12345678-7<n>-1 owned by client uid. */
static void make_order(long long uid, int n, const char *status, const char *ozon_address)
{
    char posting[32], phone[24];
    snprintf(posting, sizeof posting, "12345678-%04d-1", 7000 + n);
    snprintf(phone, sizeof phone, "+7900%07lld", uid);
    T_EQ_INT(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source, customer_phone, ozon_address,"
                          " pickup_point, storage_until)"
                          " VALUES ($1, $2, 'logistics', $3, nullif($4, ''), 'ПВЗ Артёма 10', now() + interval '3 days')",
                          posting, status, phone, ozon_address ? ozon_address : "", NULL), 0);
}

T_CASE_TAGGED(broadcast_by_status_with_template, "e2e")
{
    T_START();
    operator_ready();
    make_order(72001, 1, "at_pickup_point", NULL);
    make_order(72002, 2, "at_pickup_point", NULL);
    make_order(72002, 3, "in_transit", NULL);
    make_order(72003, 4, "delivered", NULL);
    static const char *const seg[] = {"b:s:st", "b:st:at_pickup_point"};
    cJSON *c = operator_prepare("at_pickup_point", NULL, seg, 2);
    T_CHECK(strstr(e2e_text(c), order_status_name_ru(ORDER_AT_PICKUP_POINT)) != NULL);
    T_CHECK(strstr(e2e_text(c), "{posting}") != NULL);        /* the template as it is */
    long long id = operator_go(c);
    cJSON_Delete(c);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1", e2e_i(id), NULL), 2);
    cJSON_Delete(reply(OPERATOR));   /* the progress message */
    T_CHECK(e2e_sql_until(BC_WAIT_S, "done", "SELECT status FROM broadcasts WHERE id = $1", e2e_i(id), NULL));
    T_CHECK(e2e_sql_until(WAIT_S, "2", "SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'b' || $1 || ':7%'"
                          " AND status = 'sent'", e2e_i(id), NULL));
    /* the template rendered with each one's order */
    T_EQ_INT(count_with(72001, "12345678-7001-1</code> прибыл в пункт выдачи ПВЗ Артёма 10"), 1);
    T_EQ_INT(count_with(72002, "12345678-7002-1</code> прибыл в пункт выдачи ПВЗ Артёма 10"), 1);
    T_EQ_INT(count_with(72001, "{"), 0);
    /* nobody else */
    T_EQ_INT(count_with(72003, "прибыл в пункт выдачи"), 0);
    T_EQ_INT(count_with(72004, "прибыл в пункт выдачи"), 0);
    T_CHECK(e2e_sql_until(WAIT_S, "sent", "SELECT status FROM tg_outbox WHERE dedupe_key = 'b' || $1 || ':final'",
                          e2e_i(id), NULL));
    operator_cursor_to_last_sent();
}

T_CASE_TAGGED(broadcast_by_zone, "e2e")
{
    T_START();
    operator_ready();
    T_EQ_INT(e2e_sql_exec("INSERT INTO delivery_zones (name, city, polygon) VALUES"
                          " ('Тест-Макеевка', 'Макеевка', '48.0,37.9;48.1,37.9;48.1,38.0'),"
                          " ('Тест-Пусто', 'Нигдеград', '47.0,37.0;47.1,37.0;47.1,37.1')", NULL), 0);
    const char *zone = e2e_sqls("SELECT id::text FROM delivery_zones WHERE name = 'Тест-Макеевка'", NULL);
    char zdata[32];
    snprintf(zdata, sizeof zdata, "b:z:%s", zone);
    make_order(72010, 10, "in_transit", "г. Макеевка, ул. Ленина, 5");
    make_order(72011, 11, "created", "г. МАКЕЕВКА, пр. Гринкевича");
    make_order(72012, 12, "created", "г. Донецк, ул. Артёма, 1");
    /* 72013 ordered a courier delivery into the zone for an order addressed elsewhere */
    make_order(72013, 13, "at_pickup_point", "г. Донецк, ул. Артёма, 2");
    T_EQ_INT(e2e_sql_exec("INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
                          " VALUES ($1::int, '10:00', '12:00', 5)", zone, NULL), 0);
    T_EQ_INT(e2e_sql_exec("INSERT INTO deliveries (posting_number, tg_user_id, address, zone_id, slot_id, slot_date,"
                          " slot_start, slot_end, price_kopecks)"
                          " SELECT '12345678-7013-1', 72013, 'Макеевка, ул. Мира 1', $1::int, s.id, current_date,"
                          " s.start_time, s.end_time, 35000 FROM delivery_slots s WHERE s.zone_id = $1::int",
                          zone, NULL), 0);
    static const char *segs[2];
    segs[0] = "b:s:zn";
    segs[1] = zdata;
    cJSON *c = operator_prepare(NULL, "Курьеры в {address}: новые слоты!", segs, 2);
    T_CHECK(strstr(e2e_text(c), "Тест-Макеевка") != NULL);
    long long id = operator_go(c);
    cJSON_Delete(c);
    cJSON_Delete(reply(OPERATOR));   /* the progress message */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1", e2e_i(id), NULL), 3);
    T_CHECK(e2e_sql_until(BC_WAIT_S, "done", "SELECT status FROM broadcasts WHERE id = $1", e2e_i(id), NULL));
    T_CHECK(e2e_sql_until(WAIT_S, "3", "SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'b' || $1 || ':7%'"
                          " AND status = 'sent'", e2e_i(id), NULL));
    T_EQ_INT(count_with(72010, "Курьеры в г. Макеевка, ул. Ленина, 5: новые слоты!"), 1);
    T_EQ_INT(count_with(72011, "Курьеры в г. МАКЕЕВКА"), 1);
    T_EQ_INT(count_with(72013, "Курьеры в г. Донецк, ул. Артёма, 2"), 1);
    T_EQ_INT(count_with(72012, "Курьеры в"), 0);
    /* an empty zone: nobody to send to, the operator picks again */
    cJSON *m = press(OPERATOR, text_get(T_BTN_BROADCAST));
    press_inline(OPERATOR, msg_id(m), "b:txt", false);
    cJSON_Delete(m);
    cJSON_Delete(reply(OPERATOR));
    m = say(OPERATOR, "Тест");
    press_inline(OPERATOR, msg_id(m), "b:s:zn", false);
    cJSON_Delete(m);
    m = reply(OPERATOR);
    const char *empty = e2e_sqls("SELECT id::text FROM delivery_zones WHERE name = 'Тест-Пусто'", NULL);
    snprintf(zdata, sizeof zdata, "b:z:%s", empty);
    press_inline(OPERATOR, msg_id(m), zdata, false);
    cJSON_Delete(m);
    m = reply(OPERATOR);
    expect_text(m, text_get(T_BC_NOBODY));
    cJSON_Delete(m);
    m = reply(OPERATOR);
    expect_text(m, text_get(T_BC_SEGMENT));
    press_inline(OPERATOR, msg_id(m), "b:x", false);
    cJSON_Delete(m);
    m = reply(OPERATOR);
    expect_text(m, text_get(T_CANCELLED));
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM broadcasts WHERE status = 'draft'", NULL), 0);
    operator_cursor_to_last_sent();
}

T_CASE_TAGGED(broadcast_refused_to_clients, "e2e")
{
    T_START();
    const long long uid = 72300;
    register_person(uid, "Клара", "+79002003000");
    cJSON *m = press(uid, text_get(T_BTN_MY_ORDERS));   /* a client's own menu works... */
    cJSON_Delete(m);
    cJSON *a = e2e_act(uid, "press_reply", "{\"text\":\"%s\",\"force\":true}", text_get(T_BTN_BROADCAST));
    cJSON_Delete(a);
    m = reply(uid);                                       /* ...the operator's button does not */
    T_CHECK(strcmp(e2e_text(m), text_get(T_MENU_BUTTON_GONE)) == 0);
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM broadcasts WHERE chat_id = $1", e2e_i(uid), NULL), 0);
}

/* ---- pickup buttons ------------------------------------------------------------------ */

#define PK_POSTING "12345678-7100-1"

/* A registered owner with an order at the pickup point and its two pending
 * reminders (as the order actor sets them). Returns a bot message id to
 * hang the forced button presses on. */
static long long pickup_setup(long long uid, const char *phone, const char *posting)
{
    long long mid = register_person(uid, "Пётр", phone);
    T_EQ_INT(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source, customer_phone, pickup_point,"
                          " pickup_arrived_at, storage_until)"
                          " VALUES ($1, 'at_pickup_point', 'logistics', $2, 'ПВЗ Центр',"
                          " now() - interval '3 days', date_trunc('second', now()) + interval '4 days')",
                          posting, phone, NULL), 0);
    T_EQ_INT(e2e_sql_exec("INSERT INTO runtime_reminders (kind, key, name, due_at, data) VALUES"
                          " ('order', $1, 'pickup_1', date_trunc('second', now()) + interval '3 days', '6'),"
                          " ('order', $1, 'other', date_trunc('second', now()) + interval '3 days', '')",
                          posting, NULL), 0);
    return mid;
}

/* The last callback answer in uid's chat, once `n` are answered. */
static const char *callback_answer(long long uid, int n)
{
    static char buf[512];
    char path[160];
    snprintf(path, sizeof path, "/control/chats/%lld/wait?count=0&answered=%d&timeout=20", uid, n);
    long st = 0;
    cJSON *j = e2e_tg("GET", path, &st, NULL);
    cJSON_Delete(j);
    T_EQ_INT(st, 200);
    snprintf(path, sizeof path, "/control/chats/%lld", uid);
    j = e2e_tg("GET", path, &st, NULL);
    const cJSON *cbs = cJSON_GetObjectItem(j, "callbacks");
    const cJSON *last = cJSON_GetArrayItem(cbs, cJSON_GetArraySize(cbs) - 1);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(last, "answer"), "text"));
    snprintf(buf, sizeof buf, "%s", t ? t : "");
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(last, "answered")));
    cJSON_Delete(j);
    return buf;
}

T_CASE_TAGGED(pickup_extend_once, "e2e")
{
    T_START();
    const long long uid = 72400;
    pickup_setup(uid, "+79002004000", PK_POSTING);
    /* the day-3 reminder comes due: the order actor queues it, the notifier
     * sends it with the three buttons; the person presses the real one */
    T_EQ_INT(e2e_sql_exec("INSERT INTO runtime_reminders (kind, key, name, due_at, data)"
                          " VALUES ('order', $1, 'pickup_0', now(), '3')", PK_POSTING, NULL), 0);
    cJSON *r = reply(uid);
    T_CHECK(strstr(e2e_text(r), PK_POSTING) != NULL);
    T_CHECK(has_data(r, "pk:ext:" PK_POSTING));
    T_CHECK(has_data(r, "pk:cur:" PK_POSTING));
    T_CHECK(has_data(r, "pk:ret:" PK_POSTING));
    long long mid = msg_id(r);
    cJSON_Delete(r);
    long long until0 = e2e_sql_int("SELECT extract(epoch FROM storage_until)::bigint FROM orders"
                                   " WHERE posting_number = $1", PK_POSTING, NULL);
    long long due0 = e2e_sql_int("SELECT extract(epoch FROM due_at)::bigint FROM runtime_reminders"
                                 " WHERE kind = 'order' AND key = $1 AND name = 'pickup_1'", PK_POSTING, NULL);
    press_inline(uid, mid, "pk:ext:" PK_POSTING, false);
    cJSON *m = reply(uid);
    char when[40], want[256];
    timefmt_msk((until0 + 7 * 86400) * 1000, when, sizeof when);
    snprintf(want, sizeof want, text_get(T_PK_EXTENDED), PK_POSTING, when);
    expect_text(m, want);
    cJSON_Delete(m);
    T_EQ_STR(callback_answer(uid, 1), text_get(T_PK_CB_EXTENDED));
    T_EQ_INT(e2e_sql_int("SELECT extract(epoch FROM storage_until)::bigint FROM orders WHERE posting_number = $1",
                         PK_POSTING, NULL), until0 + 7 * 86400);
    T_EQ_STR(e2e_sqls("SELECT storage_extended::text FROM orders WHERE posting_number = $1", PK_POSTING, NULL), "true");
    /* the pickup reminder follows the new date; other reminders do not move */
    T_EQ_INT(e2e_sql_int("SELECT extract(epoch FROM due_at)::bigint FROM runtime_reminders"
                         " WHERE kind = 'order' AND key = $1 AND name = 'pickup_1'", PK_POSTING, NULL), due0 + 7 * 86400);
    T_EQ_INT(e2e_sql_int("SELECT extract(epoch FROM due_at)::bigint FROM runtime_reminders"
                         " WHERE kind = 'order' AND key = $1 AND name = 'other'", PK_POSTING, NULL), due0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM audit_log WHERE action = 'storage_extended' AND object_id = $1"
                         " AND actor = 'tg:72400'", PK_POSTING, NULL), 1);
    /* a second press changes nothing */
    press_inline(uid, mid, "pk:ext:" PK_POSTING, false);
    m = reply(uid);
    T_CHECK(strstr(e2e_text(m), "уже продлевалось") != NULL);
    cJSON_Delete(m);
    callback_answer(uid, 2);
    T_EQ_INT(e2e_sql_int("SELECT extract(epoch FROM storage_until)::bigint FROM orders WHERE posting_number = $1",
                         PK_POSTING, NULL), until0 + 7 * 86400);
    T_EQ_INT(e2e_sql_int("SELECT extract(epoch FROM due_at)::bigint FROM runtime_reminders"
                         " WHERE kind = 'order' AND key = $1 AND name = 'pickup_1'", PK_POSTING, NULL), due0 + 7 * 86400);
    /* the logistics system is told once, with the new date (it waits in the
     * outbox: no PLUS7_LOGISTICS_OUT_URL here) */
    T_EQ_STR(e2e_sqls("SELECT string_agg(type || ':' || (payload->>'days') || ':' || (payload->>'storage_until'"
                      " = to_char(o.storage_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text, ',')"
                      "  FROM logistics_outbox l JOIN orders o USING (posting_number) WHERE posting_number = $1",
                      PK_POSTING, NULL), "storage.extended:7:true");
}

T_CASE_TAGGED(pickup_return_request, "e2e")
{
    T_START();
    const long long uid = 72401;
    const char *posting = "12345678-7101-1";
    long long mid = pickup_setup(uid, "+79002004001", posting);
    char data[64];
    snprintf(data, sizeof data, "pk:ret:%s", posting);
    press_inline(uid, mid, data, true);
    cJSON *m = reply(uid);
    expect_text(m, fmt1(T_PK_RETURN_DONE, posting));
    cJSON_Delete(m);
    T_EQ_STR(callback_answer(uid, 1), text_get(T_PK_CB_RETURN));
    T_EQ_STR(e2e_sqls("SELECT reason || ':' || tg_user_id FROM return_requests WHERE posting_number = $1",
                      posting, NULL), "not_collected:72401");
    /* no more "collect your parcel" reminders */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key = $1"
                         " AND name LIKE 'pickup%'", posting, NULL), 0);
    press_inline(uid, mid, data, true);
    m = reply(uid);
    expect_text(m, fmt1(T_PK_RETURN_EXISTS, posting));
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM return_requests WHERE posting_number = $1", posting, NULL), 1);
    /* the logistics system is told once, with who asked */
    T_EQ_STR(e2e_sqls("SELECT string_agg(type || ':' || (payload->>'reason') || ':' || (payload->>'phone'), ',')"
                      "  FROM logistics_outbox WHERE posting_number = $1", posting, NULL),
             "return.requested:not_collected:+79002004001");
}

T_CASE_TAGGED(pickup_courier_opens_form, "e2e")
{
    T_START();
    const long long uid = 72402;
    const char *posting = "12345678-7102-1";
    long long mid = pickup_setup(uid, "+79002004002", posting);
    char data[64];
    snprintf(data, sizeof data, "pk:cur:%s", posting);
    press_inline(uid, mid, data, true);
    cJSON *m = reply(uid);
    T_CHECK(strstr(e2e_text(m), posting) != NULL);
    cJSON_Delete(m);
    callback_answer(uid, 1);
    const char *step = e2e_sqls("SELECT step FROM conversations WHERE chat_id = $1", e2e_i(uid), NULL);
    T_CHECK(step && strncmp(step, "form_", 5) == 0 && strcmp(step, "form_posting") != 0);
    T_CHECK(strstr(e2e_sqls("SELECT data FROM conversations WHERE chat_id = $1", e2e_i(uid), NULL), posting) != NULL);
}

T_CASE_TAGGED(pickup_refused_to_others, "e2e")
{
    T_START();
    const long long stranger = 72403;
    long long mid = register_person(stranger, "Чужой", "+79002004003");
    long long until0 = e2e_sql_int("SELECT extract(epoch FROM storage_until)::bigint FROM orders"
                                   " WHERE posting_number = '12345678-7102-1'", NULL);
    press_inline(stranger, mid, "pk:ext:12345678-7102-1", true);
    T_EQ_STR(callback_answer(stranger, 1), text_get(T_PK_NOT_OWNER));
    press_inline(stranger, mid, "pk:ret:12345678-7102-1", true);
    T_EQ_STR(callback_answer(stranger, 2), text_get(T_PK_NOT_OWNER));
    T_EQ_INT(e2e_sql_int("SELECT extract(epoch FROM storage_until)::bigint FROM orders"
                         " WHERE posting_number = '12345678-7102-1'", NULL), until0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM return_requests WHERE posting_number = '12345678-7102-1'", NULL), 0);
    T_EQ_INT(e2e_bot_count(stranger), 2);   /* greeting and registration only: refusals are answers */
}

/* A longer broadcast: the progress message is edited while it runs, not
 * only at the end, and the counts in it only grow. */
T_CASE_TAGGED(broadcast_progress_edited, "e2e slow")
{
    T_START();
    operator_ready();
    make_clients(74001, 250, "Подписчик");
    long long clients = e2e_sql_int("SELECT count(*) FROM broadcast_clients", NULL);
    static const char *const seg[] = {"b:s:all"};
    cJSON *c = operator_prepare(NULL, "Третья рассылка: {name}", seg, 1);
    long long id = operator_go(c);
    cJSON_Delete(c);
    cJSON *p = reply(OPERATOR);
    long long pmid = msg_id(p);
    cJSON_Delete(p);
    e2e_cursor_set(OPERATOR, pmid - 1);
    expect_done(id, clients, 0);
    /* edits while running: b<id>:e1, e2, ... each with more sent than the one before */
    T_CHECK(e2e_sql_int("SELECT progress_seq FROM broadcasts WHERE id = $1", e2e_i(id), NULL) >= 2);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'b' || $1 || ':e%'"
                         " AND method = 'editMessageText' AND status = 'sent'", e2e_i(id), NULL),
             e2e_sql_int("SELECT progress_seq FROM broadcasts WHERE id = $1", e2e_i(id), NULL));
    T_EQ_STR(e2e_sqls("SELECT bool_and(n > prev)::text FROM (SELECT n, lag(n, 1, -1::bigint) OVER (ORDER BY id) AS prev"
                      "  FROM (SELECT id, substring(params FROM 'Отправлено: ([0-9]+)')::bigint AS n FROM tg_outbox"
                      "         WHERE dedupe_key LIKE 'b' || $1 || ':e%') e) x", e2e_i(id), NULL), "true");
    int missing = 0, doubled = 0;
    for (long long uid = 74001; uid < 74251; uid++) {
        char want[128];
        snprintf(want, sizeof want, "Третья рассылка: Подписчик%lld", uid - 74001);
        int n = count_with(uid, want);
        missing += n == 0;
        doubled += n > 1;
    }
    T_EQ_INT(missing, 0);
    T_EQ_INT(doubled, 0);
}

int main(void)
{
    e2e_init("broadcast", E2E_POLLING);
    e2e_p7_setenv("PLUS7_NOTIFY_HOURS", "0-24");   /* pickup reminders fire at any hour of the run */
    return e2e_finish(t_run_all());
}
