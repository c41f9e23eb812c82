/* test_courier_e2e.c — couriers end to end: the real plus7d + tgsim
 * (couriers, clients and an operator as Telegram users) + PostgreSQL, with
 * the demo zones and windows of `plus7d seed`.
 *
 * Purpose: the courier module as people live it — a shift with a live
 * location (a stream of edits, thinned into a track), automatic assignment
 * and the delivery card, «Забрал» → «В пути» (the client reads «Курьер
 * выехал» with the ETA and PIN) → «Курьер подъезжает» → a wrong PIN, then the
 * right one; three wrong PINs locking the delivery until an operator
 * unlocks it, then a photo proof the client sees; a failed attempt and the
 * client's one-tap new slot; a client pressing a courier's button and an
 * old card after reassignment (refused, nothing changes); a courier going
 * quiet (stale: asked to share again, the delivery offered to someone
 * else); «Будете дома?» → «Перенести»; kill -9 mid-shift (track,
 * assignment and PIN survive); the route of «Доставки на сегодня»; and the
 * assignment rules (zone, capacity, least loaded, nearest, stale) checked
 * on the SQL functions with the service stopped.
 *
 * Every delivery is made for today in its own window so that capacity
 * never interferes; couriers keep their live location fresh between steps.
 * Tags: "e2e" on every case, "slow" on the kill -9 and stale cases.
 * Threads: main thread only.
 */
#include "t.h"

#include <stdarg.h>

#include "conv_courier.h"
#include "e2e_harness.h"
#include "texts.h"

#define WAIT_S 30.0
#define DB_WAIT_S 30.0
#define STALE_S "30"

#define DONETSK_LAT 48.0159
#define DONETSK_LON 37.8028

enum {
    COURIER_A = 72101, COURIER_B = 72102, CLIENT_1 = 72111, CLIENT_2 = 72112, OPERATOR = 72121,
};
static const char *const PHONE_A = "+79491110001", *const PHONE_B = "+79491110002";
static const char *const PHONE_C1 = "+79491110011", *const PHONE_C2 = "+79491110012";
static const char *const PHONE_OP = "+79491110021";

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

/* ---- helpers ------------------------------------------------------------------------ */

/* A message's text on one TAP comment line (newlines as spaces). */
static const char *one_line(const char *t, int max)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", max, t ? t : "(none)");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return buf;
}

static bool has(const cJSON *m, const char *needle)
{
    const char *t = e2e_text(m);
    bool ok = t && strstr(t, needle) != NULL;
    if (!ok) printf("# expected \"%s\" in: %s\n", needle, one_line(t, 600));
    return ok;
}

/* The first line of catalogue text id, up to a placeholder, tag or newline. */
static const char *head_of(text_id_t id)
{
    static char buf[8][256];
    static int n;
    char *b = buf[n++ % 8];
    const char *t = text_get(id);
    snprintf(b, 256, "%.*s", (int)strcspn(t, "%\n<"), t);
    return b;
}

/* The next bot message in chat uid (within timeout_s each) that contains
 * needle in its text or caption (others skipped). */
static cJSON *wait_text_for(long long uid, const char *needle, double timeout_s)
{
    for (int i = 0; i < 12; i++) {
        cJSON *m = e2e_reply(uid, timeout_s);
        if (!m) break;
        const char *t = e2e_text(m);
        const char *cap = cJSON_GetStringValue(cJSON_GetObjectItem(m, "caption"));
        if ((t && strstr(t, needle)) || (cap && strstr(cap, needle))) return m;
        printf("# (chat %lld, skipped: %s)\n", uid, one_line(t, 160));
        cJSON_Delete(m);
    }
    printf("# no message with \"%s\" in chat %lld\n", needle, uid);
    T_FAIL("message not received");
    return NULL;
}

static cJSON *wait_text(long long uid, const char *needle) { return wait_text_for(uid, needle, WAIT_S); }

static cJSON *act(long long uid, const char *action, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cJSON *act(long long uid, const char *action, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    cJSON *a = e2e_act(uid, action, "%s", body);
    T_CHECK(a != NULL);
    return a;
}

static long long msg_id(const cJSON *m) { return (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "message_id")); }

/* Press inline button data under m; returns nothing (answers are callbacks). */
static void press(long long uid, const cJSON *m, const char *data)
{
    cJSON_Delete(act(uid, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\",\"force\":true}", msg_id(m), data));
}

static cJSON *press_reply(long long uid, const char *label)
{
    cJSON_Delete(act(uid, "press_reply", "{\"text\":\"%s\"}", label));
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    return m;
}

/* The callback data of the first inline button starting with prefix (e2e_button). */
static const char *button(const cJSON *m, const char *prefix)
{
    const char *b = e2e_button(m, prefix);
    if (!b) printf("# no button %s\n", prefix);
    return b;
}

static void grant(const char *phone, const char *role)
{
    const char *args[] = {"role", phone, role, NULL};
    T_EQ_INT(e2e_p7_run(args, NULL, 0), 0);
}

static void register_person(long long uid, const char *name, const char *phone)
{
    if (e2e_sql_int("SELECT count(*) FROM users WHERE tg_user_id = $1", e2e_i(uid), NULL) == 1) return;
    T_CHECK(e2e_user(uid, name, phone, false) == 0);
    cJSON_Delete(act(uid, "command", "{\"command\":\"start\"}"));
    cJSON_Delete(e2e_reply(uid, WAIT_S));
    cJSON *m = press_reply(uid, text_get(T_BTN_SHARE_PHONE));
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "1", "SELECT count(*) FROM users WHERE tg_user_id = $1", e2e_i(uid), NULL));
}

/* The courier's current live-location message (0 when none). */
static long long live_msg[2];

static long long *live_of(long long uid) { return &live_msg[uid == COURIER_B]; }

/* Start a shift (if not on one) and a live location at (lat, lon). */
static void on_shift_at(long long uid, double lat, double lon)
{
    if (e2e_sql_int("SELECT count(*) FROM couriers WHERE tg_user_id = $1 AND on_shift", e2e_i(uid), NULL) != 1) {
        cJSON *m = press_reply(uid, text_get(T_BTN_SHIFT_START));
        T_CHECK(has(m, head_of(T_CR_SHIFT_STARTED)));
        cJSON_Delete(m);
    }
    cJSON *a = act(uid, "live_start", "{\"latitude\":%.6f,\"longitude\":%.6f,\"live_period\":3600}", lat, lon);
    *live_of(uid) = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(a, "message_id"));
    cJSON_Delete(a);
    cJSON *m = wait_text(uid, head_of(T_CR_LIVE_ON));
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "1", "SELECT count(*) FROM couriers WHERE tg_user_id = $1 AND live_message_id = $2",
                          e2e_i(uid), e2e_i(*live_of(uid)), NULL));
}

/* A move of the live location; waits until the courier's row shows it. */
static void move_to(long long uid, double lat, double lon)
{
    cJSON_Delete(act(uid, "live_move", "{\"message_id\":%lld,\"latitude\":%.6f,\"longitude\":%.6f}", *live_of(uid),
                     lat, lon));
    char want[64];
    snprintf(want, sizeof want, "%.5f", lat);
    T_CHECK(e2e_sql_until(DB_WAIT_S, want, "SELECT to_char(lat, 'FM99.00000') FROM couriers WHERE tg_user_id = $1",
                          e2e_i(uid), NULL));
}

/* A delivery for today ordered by client uid in its own new window of the
 * Donetsk zone starting at hh:00 (so capacity never interferes). Returns
 * its id as a string (rotating buffer). */
static const char *delivery_today(const char *posting, long long client, const char *phone, int hour, double lat,
                                  double lon)
{
    char start[8], end[8];
    snprintf(start, sizeof start, "%02d:00", hour);
    snprintf(end, sizeof end, "%02d:59", hour);
    T_EQ_INT(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source, customer_name, customer_phone)"
                          " VALUES ($1, 'accepted', 'logistics', 'Ольга', $2) ON CONFLICT DO NOTHING",
                          posting, phone, NULL), 0);
    T_EQ_INT(e2e_sql_exec("INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
                          " SELECT id, $1::time, $2::time, 5 FROM delivery_zones WHERE name = 'Донецк'"
                          " ON CONFLICT DO NOTHING", start, end, NULL), 0);
    char lat_s[32], lon_s[32];
    snprintf(lat_s, sizeof lat_s, "%.6f", lat);
    snprintf(lon_s, sizeof lon_s, "%.6f", lon);
    return e2e_sqls("INSERT INTO deliveries (posting_number, tg_user_id, address, lat, lon, zone_id, slot_id, slot_date,"
                    "                        slot_start, slot_end, price_kopecks)"
                    " SELECT $1, $2::bigint, 'Донецк, ул. Артёма, 1 <b>кв. 5</b>', $3::float8, $4::float8, z.id, s.id,"
                    "        msk_today(), s.start_time, s.end_time, 35000"
                    "   FROM delivery_zones z JOIN delivery_slots s ON s.zone_id = z.id AND s.start_time = $5::time"
                    "  WHERE z.name = 'Донецк' RETURNING id::text",
                    posting, e2e_i(client), lat_s, lon_s, start, NULL);
}

static const char *stage_of(const char *id)
{
    return e2e_sqls("SELECT stage FROM deliveries WHERE id = $1::bigint", id, NULL);
}

/* The card of delivery id in the courier's chat (waits for it). */
static cJSON *card_of(long long courier, const char *posting)
{
    cJSON *m = wait_text(courier, posting);
    if (m) T_CHECK(has(m, head_of(T_CR_CARD)));
    return m;
}

static bool status_is(const char *posting, const char *status)
{
    return e2e_sql_until(DB_WAIT_S, status, "SELECT status FROM orders WHERE posting_number = $1", posting, NULL);
}

/* «✅ Забрал» then «🚗 В пути» on the card; returns the message with «📦 Доставлено». */
static cJSON *pick_and_go(long long courier, const cJSON *card, const char *id)
{
    const char *pk = button(card, "cr:pk:");
    T_CHECK(pk != NULL);
    press(courier, card, pk);
    cJSON *m = wait_text(courier, head_of(T_CR_PICKED));
    T_EQ_STR(stage_of(id), "picked");
    const char *go = button(m, "cr:go:");
    T_CHECK(go != NULL);
    press(courier, m, go);
    cJSON_Delete(m);
    m = wait_text(courier, head_of(T_CR_GO));
    T_EQ_STR(stage_of(id), "en_route");
    return m;
}

/* Courier A on shift at Donetsk; a delivery of today (its own window at
 * `hour`) to (lat, lon); its card picked up and the courier on the way.
 * Fills id (24 bytes) and *card; returns the message with «📦 Доставлено». */
static cJSON *on_the_way(const char *posting, long long client, const char *phone, int hour, double lat, double lon,
                         char *id, cJSON **card)
{
    on_shift_at(COURIER_A, DONETSK_LAT, DONETSK_LON);
    snprintf(id, 24, "%s", delivery_today(posting, client, phone, hour, lat, lon));
    *card = card_of(COURIER_A, posting);
    T_CHECK(*card != NULL);
    return pick_and_go(COURIER_A, *card, id);
}

/* ---- the cases ------------------------------------------------------------------------- */

T_CASE_TAGGED(shift_and_live_track, "e2e")
{
    T_START();
    grant(PHONE_A, "courier");
    grant(PHONE_B, "courier");
    grant(PHONE_OP, "operator");
    register_person(COURIER_A, "Курьер Алексей", PHONE_A);
    register_person(COURIER_B, "Курьер Борис", PHONE_B);
    register_person(CLIENT_1, "Ольга", PHONE_C1);
    register_person(CLIENT_2, "Пётр", PHONE_C2);
    register_person(OPERATOR, "Оператор", PHONE_OP);

    cJSON *m = press_reply(COURIER_A, text_get(T_BTN_SHIFT_END));   /* not on shift yet */
    T_CHECK(has(m, head_of(T_CR_NOT_ON_SHIFT)));
    cJSON_Delete(m);
    on_shift_at(COURIER_A, DONETSK_LAT, DONETSK_LON);
    const char *cid = e2e_sqls("SELECT id::text FROM couriers WHERE tg_user_id = $1", e2e_i(COURIER_A), NULL);
    T_CHECK(cid != NULL);
    char courier_id[16];
    snprintf(courier_id, sizeof courier_id, "%s", cid);
    long long points = e2e_sql_int("SELECT count(*) FROM courier_points WHERE courier_id = $1::int", courier_id, NULL);
    T_EQ_INT(points, 1);
    /* a stream of edits: 5 m away within 30 s is thinned; 100 m away is kept */
    cJSON_Delete(act(COURIER_A, "live_move", "{\"message_id\":%lld,\"latitude\":%.6f,\"longitude\":%.6f}",
                     *live_of(COURIER_A), DONETSK_LAT + 0.00004, DONETSK_LON));
    move_to(COURIER_A, DONETSK_LAT + 0.0009, DONETSK_LON);   /* the positive control: processed after the 5 m edit */
    T_CHECK(e2e_sql_until(DB_WAIT_S, "0", "SELECT count(*) FROM tg_inbox WHERE chat_id = $1 AND processed_at IS NULL",
                          e2e_i(COURIER_A), NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM courier_points WHERE courier_id = $1::int", courier_id, NULL), 2);
    T_CHECK(e2e_sql_int("SELECT round(km * 1000) FROM courier_shifts s JOIN couriers c ON c.shift_id = s.id"
                        " WHERE c.id = $1::int", courier_id, NULL) >= 99);
    /* the sharing stops: noticed, and a new one starts */
    cJSON_Delete(act(COURIER_A, "live_stop", "{\"message_id\":%lld}", *live_of(COURIER_A)));
    m = wait_text(COURIER_A, head_of(T_CR_LIVE_ENDED));
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(DB_WAIT_S, NULL, "SELECT live_message_id FROM couriers WHERE id = $1::int", courier_id, NULL));
    on_shift_at(COURIER_A, DONETSK_LAT, DONETSK_LON);
    T_CHECK(e2e_sql_int("SELECT count(*) FROM courier_shifts WHERE courier_id = $1::int", courier_id, NULL) == 1);
}

T_CASE_TAGGED(location_of_a_courier_off_shift_goes_to_the_client_flow, "e2e")
{
    T_START();
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM couriers WHERE tg_user_id = $1 AND on_shift", e2e_i(COURIER_B), NULL) > 0,
             0);
    cJSON_Delete(act(COURIER_B, "location", "{\"latitude\":%.6f,\"longitude\":%.6f}", DONETSK_LAT, DONETSK_LON));
    cJSON *m = e2e_reply(COURIER_B, WAIT_S);
    T_CHECK(m != NULL);
    T_CHECK(!strstr(e2e_text(m), head_of(T_CR_STATIC)) && !strstr(e2e_text(m), head_of(T_CR_LIVE_ON)));
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM courier_points p JOIN couriers c ON c.id = p.courier_id"
                         " WHERE c.tg_user_id = $1", e2e_i(COURIER_B), NULL), 0);
}

T_CASE_TAGGED(assigned_card_pin_and_eta, "e2e")
{
    T_START();
    on_shift_at(COURIER_A, DONETSK_LAT, DONETSK_LON);
    const double lat = DONETSK_LAT + 0.03, lon = DONETSK_LON;   /* about 3.3 km north */
    const char *posting = "72000001-0001-1";
    char id[24];
    snprintf(id, sizeof id, "%s", delivery_today(posting, CLIENT_1, PHONE_C1, 6, lat, lon));
    cJSON *card = card_of(COURIER_A, posting);
    T_CHECK(card != NULL);
    T_CHECK(has(card, "350"));                                    /* «К оплате: 350 ₽» */
    T_CHECK(has(card, "&lt;b&gt;кв. 5&lt;/b&gt;"));              /* the address escaped */
    T_CHECK(has(card, PHONE_C1));
    /* the client presses the courier's button: refused, nothing changes */
    const char *pk = button(card, "cr:pk:");
    T_CHECK(pk != NULL);
    char pk_data[80];
    snprintf(pk_data, sizeof pk_data, "%s", pk);
    cJSON_Delete(act(CLIENT_1, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\",\"force\":true}",
                     e2e_cursor(CLIENT_1), pk_data));
    cJSON *go = pick_and_go(COURIER_A, card, id);   /* the courier's own press is the positive control */
    T_CHECK(e2e_sql_int("SELECT count(*) FROM tg_inbox WHERE chat_id = $1 AND processed_at IS NULL", e2e_i(CLIENT_1),
                        NULL) == 0);
    T_CHECK(status_is(posting, "out_for_delivery"));
    T_EQ_STR(e2e_sqls("SELECT status_source FROM orders WHERE posting_number = $1", posting, NULL), "courier");
    /* the client: «Курьер выехал», an ETA and the PIN */
    char pin[8];
    snprintf(pin, sizeof pin, "%s", e2e_sqls("SELECT pin FROM deliveries WHERE id = $1::bigint", id, NULL));
    cJSON *c = wait_text(CLIENT_1, head_of(T_CL_COURIER_LEFT));
    T_CHECK(has(c, pin));
    T_CHECK(has(c, "примерно в"));
    cJSON_Delete(c);
    /* within 500 m: «Курьер подъезжает», once */
    move_to(COURIER_A, lat - 0.002, lon);
    c = wait_text(CLIENT_1, head_of(T_CL_NEAR));
    cJSON_Delete(c);
    move_to(COURIER_A, lat - 0.001, lon);
    /* a wrong PIN, then the right one */
    press(COURIER_A, go, button(go, "cr:ok:"));
    cJSON *m = wait_text(COURIER_A, head_of(T_CR_ASK_PIN));
    cJSON_Delete(m);
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%04d", (atoi(pin) + 1) % 10000);
    m = e2e_say(COURIER_A, "text", wrong, WAIT_S);
    T_CHECK(m && has(m, "Осталось попыток: 2"));
    cJSON_Delete(m);
    m = e2e_say(COURIER_A, "text", "12ab", WAIT_S);
    T_CHECK(m && has(m, head_of(T_CR_PIN_FORMAT)));
    cJSON_Delete(m);
    m = e2e_say(COURIER_A, "text", pin, WAIT_S);
    T_CHECK(m && has(m, head_of(T_CR_DELIVERED)));
    cJSON_Delete(m);
    T_CHECK(status_is(posting, "delivered"));
    T_EQ_STR(stage_of(id), "delivered");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'near:' || $1", id, NULL), 1);
    /* not paid in advance: the courier marks cash on delivery */
    m = wait_text(COURIER_A, "не оплачен заранее");
    T_CHECK(m != NULL);
    press(COURIER_A, m, button(m, "cr:pc:"));
    cJSON_Delete(m);
    cJSON_Delete(wait_text(COURIER_A, "отмечена"));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM pay_attempts WHERE posting_number = $1 AND method = 'cash'"
                         " AND confirmed_by = $2", posting, "courier:72101", NULL), 1);
    cJSON_Delete(go);
    cJSON_Delete(card);
}

T_CASE_TAGGED(three_wrong_pins_lock_until_unlocked_then_photo, "e2e")
{
    T_START();
    const char *posting = "72000002-0001-1";
    char id[24];
    cJSON *card;
    cJSON *go = on_the_way(posting, CLIENT_1, PHONE_C1, 7, DONETSK_LAT + 0.01, DONETSK_LON, id, &card);
    press(COURIER_A, go, button(go, "cr:ok:"));
    cJSON_Delete(wait_text(COURIER_A, head_of(T_CR_ASK_PIN)));
    const char *pin = e2e_sqls("SELECT pin FROM deliveries WHERE id = $1::bigint", id, NULL);
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%04d", (atoi(pin) + 7) % 10000);
    for (int i = 0; i < 2; i++) cJSON_Delete(e2e_say(COURIER_A, "text", wrong, WAIT_S));
    cJSON *m = e2e_say(COURIER_A, "text", wrong, WAIT_S);
    T_CHECK(m && has(m, head_of(T_CR_PIN_LOCKED)));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT locked::text FROM deliveries WHERE id = $1::bigint", id, NULL), "true");
    /* the operator is alerted; the courier cannot confirm meanwhile */
    cJSON *alert = wait_text(OPERATOR, "трижды");
    T_CHECK(alert != NULL);
    press(COURIER_A, go, button(go, "cr:ok:"));
    m = wait_text(COURIER_A, head_of(T_CR_LOCKED));
    cJSON_Delete(m);
    press(OPERATOR, alert, button(alert, "oa:ul:"));
    m = wait_text(OPERATOR, head_of(T_CR_UNLOCKED));
    cJSON_Delete(m);
    cJSON_Delete(wait_text(COURIER_A, head_of(T_CR_UNLOCKED_COURIER)));
    /* a photo proof instead of the PIN */
    press(COURIER_A, go, button(go, "cr:ok:"));
    m = wait_text(COURIER_A, head_of(T_CR_ASK_PIN));
    press(COURIER_A, m, button(m, "cr:ph:"));
    cJSON_Delete(m);
    cJSON_Delete(wait_text(COURIER_A, head_of(T_CR_ASK_PHOTO)));
    cJSON_Delete(act(COURIER_A, "photo", "{\"size\":2048,\"width\":640,\"height\":480}"));
    m = wait_text(COURIER_A, head_of(T_CR_DELIVERED));
    cJSON_Delete(m);
    T_CHECK(status_is(posting, "delivered"));
    T_CHECK(e2e_sqls("SELECT proof_file_id FROM deliveries WHERE id = $1::bigint", id, NULL) != NULL);
    cJSON *p = wait_text(CLIENT_1, "Фото вручения");
    T_CHECK(p && (cJSON_GetObjectItem(p, "photo") != NULL ||
                 strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "kind")) ?: "", "photo") == 0));
    cJSON_Delete(p);
    cJSON_Delete(alert);
    cJSON_Delete(go);
    cJSON_Delete(card);
}

T_CASE_TAGGED(failed_attempt_then_one_tap_new_slot, "e2e")
{
    T_START();
    const char *posting = "72000003-0001-1";
    char id[24];
    cJSON *card;
    cJSON *go = on_the_way(posting, CLIENT_2, PHONE_C2, 8, DONETSK_LAT - 0.01, DONETSK_LON, id, &card);
    press(COURIER_A, go, button(go, "cr:no:"));
    cJSON *m = wait_text(COURIER_A, "Почему не удалось");
    T_CHECK(m != NULL);
    press(COURIER_A, m, button(m, "cr:nr:"));   /* the first reason: «Нет дома» */
    cJSON_Delete(m);
    cJSON_Delete(wait_text(COURIER_A, "не доставлен"));
    T_EQ_STR(stage_of(id), "failed");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_history WHERE posting_number = $1 AND source = 'courier'"
                         " AND NOT applied AND comment = $2", posting, text_get(T_CR_FAIL_NOT_HOME), NULL), 1);
    cJSON *c = wait_text(CLIENT_2, "не смог доставить");
    T_CHECK(c != NULL);
    const char *rs = button(c, "cl:rs:");
    T_CHECK(rs != NULL);
    char rs_data[80];
    snprintf(rs_data, sizeof rs_data, "%s", rs);
    press(CLIENT_2, c, rs_data);
    cJSON *ok = wait_text(CLIENT_2, "Новое время доставки");
    cJSON_Delete(ok);
    /* back to the dispatcher (which may at once give it to a courier again for a later window today) */
    T_CHECK(strcmp(stage_of(id), "new") == 0 || strcmp(stage_of(id), "assigned") == 0);
    T_EQ_INT(e2e_sql_int("SELECT failed_attempts FROM deliveries WHERE id = $1::bigint", id, NULL), 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE id = $1::bigint AND pin_tries = 0 AND NOT near_sent",
                         id, NULL), 1);
    T_CHECK(e2e_sql_int("SELECT (slot_date > msk_today() OR slot_start <> '08:00')::int FROM deliveries"
                        " WHERE id = $1::bigint", id, NULL) == 1);
    cJSON_Delete(c);
    cJSON_Delete(go);
    cJSON_Delete(card);
}

T_CASE_TAGGED(operator_reassigns_and_the_old_card_is_stale, "e2e")
{
    T_START();
    on_shift_at(COURIER_A, DONETSK_LAT, DONETSK_LON);
    on_shift_at(COURIER_B, DONETSK_LAT + 0.05, DONETSK_LON);
    const char *posting = "72000004-0001-1";
    char id[24];
    snprintf(id, sizeof id, "%s", delivery_today(posting, CLIENT_1, PHONE_C1, 9, DONETSK_LAT + 0.001, DONETSK_LON));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "assigned", "SELECT stage FROM deliveries WHERE id = $1::bigint", id, NULL));
    const char *who = e2e_sqls("SELECT c.tg_user_id::text FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                               " WHERE d.id = $1::bigint", id, NULL);
    long long x = who ? atoll(who) : 0, y = x == COURIER_A ? COURIER_B : COURIER_A;
    T_CHECK(x == COURIER_A || x == COURIER_B);
    cJSON *card = card_of(x, posting);
    T_CHECK(card != NULL);
    cJSON *m = e2e_say(OPERATOR, "text", "/assign 72000004-0001-1", WAIT_S);
    T_CHECK(m && has(m, "Кому назначить"));
    const char *y_id = e2e_sqls("SELECT id::text FROM couriers WHERE tg_user_id = $1", e2e_i(y), NULL);
    char data[64];
    snprintf(data, sizeof data, "oa:as:%s:%s", id, y_id);
    press(OPERATOR, m, data);
    cJSON_Delete(m);
    cJSON_Delete(wait_text(OPERATOR, "назначена курьеру"));
    cJSON_Delete(wait_text(x, "передан другому курьеру"));
    cJSON *card_y = card_of(y, posting);
    T_CHECK(card_y != NULL);
    /* the old card: refused; the new courier's press is the positive control */
    press(x, card, button(card, "cr:pk:"));
    press(y, card_y, button(card_y, "cr:pk:"));
    cJSON_Delete(wait_text(y, head_of(T_CR_PICKED)));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "0", "SELECT count(*) FROM tg_inbox WHERE chat_id = $1 AND processed_at IS NULL",
                          e2e_i(x), NULL));
    T_EQ_STR(stage_of(id), "picked");
    T_EQ_STR(e2e_sqls("SELECT c.tg_user_id::text FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                      " WHERE d.id = $1::bigint", id, NULL), e2e_i(y));
    /* a client's /assign is not understood */
    m = e2e_say(CLIENT_1, "text", "/assign 72000004-0001-1", WAIT_S);
    T_CHECK(m && strstr(e2e_text(m), "Кому назначить") == NULL);
    cJSON_Delete(m);
    cJSON *card_b = card_y;
    cJSON_Delete(card_b);
    cJSON_Delete(card);
}

T_CASE_TAGGED(todays_route_in_visiting_order, "e2e")
{
    T_START();
    on_shift_at(COURIER_A, DONETSK_LAT, DONETSK_LON);
    /* B ends the shift: its picked delivery stays with it, nothing else to give back */
    cJSON *m = press_reply(COURIER_B, text_get(T_BTN_SHIFT_END));
    T_CHECK(has(m, head_of(T_CR_SHIFT_ENDED)));
    cJSON_Delete(m);
    /* three stops in one window: far, near, middle along a line north */
    const char *far = "72000005-0001-1", *near = "72000005-0002-1", *mid = "72000005-0003-1";
    char ids[3][24];
    snprintf(ids[0], 24, "%s", delivery_today(far, CLIENT_1, PHONE_C1, 10, DONETSK_LAT + 0.03, DONETSK_LON));
    snprintf(ids[1], 24, "%s", delivery_today(near, CLIENT_1, PHONE_C1, 10, DONETSK_LAT + 0.01, DONETSK_LON));
    snprintf(ids[2], 24, "%s", delivery_today(mid, CLIENT_1, PHONE_C1, 10, DONETSK_LAT + 0.02, DONETSK_LON));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "3", "SELECT count(*) FROM deliveries WHERE id = ANY(ARRAY[$1, $2, $3]::bigint[])"
                          " AND stage = 'assigned'", ids[0], ids[1], ids[2], NULL));
    cJSON_Delete(act(COURIER_A, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_TODAY)));
    m = wait_text(COURIER_A, "в порядке объезда");   /* the three cards may come first */
    T_CHECK(m != NULL);
    const char *t = e2e_text(m);
    const char *pn = strstr(t, near), *pm = strstr(t, mid), *pf = strstr(t, far);
    if (!(pn && pm && pf && pn < pm && pm < pf)) printf("# the route: %s\n", one_line(t, 1000));
    T_CHECK(pn && pm && pf && pn < pm && pm < pf);
    const cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetArrayItem(kb, 0), 0), "url"));
    T_CHECK(url && strstr(url, "rtext=") != NULL);
    cJSON_Delete(m);
}

T_CASE_TAGGED(kill9_mid_shift_keeps_track_assignment_and_pin, "e2e slow")
{
    T_START();
    const char *posting = "72000006-0001-1";
    char id[24];
    cJSON *card;
    cJSON *go = on_the_way(posting, CLIENT_2, PHONE_C2, 11, DONETSK_LAT + 0.005, DONETSK_LON, id, &card);
    char pin[8];
    snprintf(pin, sizeof pin, "%s", e2e_sqls("SELECT pin FROM deliveries WHERE id = $1::bigint", id, NULL));
    long long points = e2e_sql_int("SELECT count(*) FROM courier_points p JOIN couriers c ON c.id = p.courier_id"
                                   " WHERE c.tg_user_id = $1", e2e_i(COURIER_A), NULL);
    e2e_p7_kill();
    T_CHECK(e2e_p7_start() == 0);
    T_EQ_STR(e2e_sqls("SELECT on_shift::text FROM couriers WHERE tg_user_id = $1", e2e_i(COURIER_A), NULL), "true");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM courier_points p JOIN couriers c ON c.id = p.courier_id"
                         " WHERE c.tg_user_id = $1", e2e_i(COURIER_A), NULL), points);
    T_EQ_STR(stage_of(id), "en_route");
    T_EQ_STR(e2e_sqls("SELECT pin FROM deliveries WHERE id = $1::bigint", id, NULL), pin);
    move_to(COURIER_A, DONETSK_LAT + 0.004, DONETSK_LON);   /* the track goes on */
    press(COURIER_A, go, button(go, "cr:ok:"));
    cJSON_Delete(wait_text(COURIER_A, head_of(T_CR_ASK_PIN)));
    cJSON *m = e2e_say(COURIER_A, "text", pin, WAIT_S);
    T_CHECK(m && has(m, head_of(T_CR_DELIVERED)));
    cJSON_Delete(m);
    T_CHECK(status_is(posting, "delivered"));
    cJSON_Delete(go);
    cJSON_Delete(card);
}

T_CASE_TAGGED(home_question_then_move, "e2e")
{
    T_START();
    /* a window starting in 90 minutes (Moscow), today */
    const char *start = e2e_sqls("SELECT to_char(date_trunc('minute', (now() AT TIME ZONE 'Europe/Moscow')"
                                 " + interval '90 minutes'), 'HH24:MI')", NULL);
    char hhmm[8];
    snprintf(hhmm, sizeof hhmm, "%s", start);
    if (strcmp(hhmm, "01:30") < 0 || strcmp(hhmm, "21:30") > 0) {
        printf("# the window would cross midnight in Moscow now (%s): nothing to ask today\n", hhmm);
        return;
    }
    const char *posting = "72000007-0001-1";
    T_EQ_INT(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source, customer_phone)"
                          " VALUES ($1, 'accepted', 'logistics', $2)", posting, PHONE_C2, NULL), 0);
    T_EQ_INT(e2e_sql_exec("INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
                          " SELECT id, $1::time, least($1::time + interval '2 hours', '23:59'::time), 5"
                          "   FROM delivery_zones WHERE name = 'Донецк' ON CONFLICT DO NOTHING", hhmm, NULL), 0);
    const char *id = e2e_sqls("INSERT INTO deliveries (posting_number, tg_user_id, address, zone_id, slot_id, slot_date,"
                              "                        slot_start, slot_end, price_kopecks)"
                              " SELECT $1, $2::bigint, 'Донецк, ул. Мира, 3', z.id, s.id, msk_today(), s.start_time,"
                              "        s.end_time, 35000"
                              "   FROM delivery_zones z JOIN delivery_slots s ON s.zone_id = z.id AND s.start_time = $3::time"
                              "  WHERE z.name = 'Донецк' RETURNING id::text", posting, e2e_i(CLIENT_2), hhmm, NULL);
    T_CHECK(id != NULL);
    char did[24];
    snprintf(did, sizeof did, "%s", id);
    /* (another delivery of this client may be asked about too: look for this one's) */
    cJSON *q = wait_text(CLIENT_2, "Будете дома?");
    while (q && !strstr(e2e_text(q), posting)) {
        cJSON_Delete(q);
        q = wait_text(CLIENT_2, "Будете дома?");
    }
    T_CHECK(q != NULL);
    press(CLIENT_2, q, button(q, "cl:hm:"));
    cJSON *m = wait_text(CLIENT_2, "Выберите новое время доставки <code>72000007-0001-1");
    T_CHECK(m != NULL);
    press(CLIENT_2, m, button(m, "cl:rs:"));
    cJSON_Delete(m);
    cJSON_Delete(wait_text(CLIENT_2, "Новое время доставки <code>72000007-0001-1"));
    T_CHECK(e2e_sql_int("SELECT (slot_start <> $2::time OR slot_date <> msk_today())::int FROM deliveries"
                        " WHERE id = $1::bigint", did, hhmm, NULL) == 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key = 'home:' || $1", did, NULL), 1);
    /* the logistics system hears of the assignment and of the move (signed outbound events) */
    T_CHECK(e2e_sql_int("SELECT count(*) FROM logistics_outbox WHERE posting_number = $1"
                        " AND type = 'courier.assigned'", posting, NULL) >= 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM logistics_outbox WHERE posting_number = $1 AND type = 'delivery.moved'"
                         " AND payload->>'delivery_id' = $2", posting, did, NULL), 1);
    cJSON_Delete(q);
}

T_CASE_TAGGED(quiet_courier_goes_stale_and_orders_go_back, "e2e slow")
{
    T_START();
    on_shift_at(COURIER_B, DONETSK_LAT + 0.05, DONETSK_LON);
    /* A is on shift too but stays quiet as well: the delivery is for B by the operator */
    const char *posting = "72000008-0001-1";
    char id[24];
    snprintf(id, sizeof id, "%s", delivery_today(posting, CLIENT_1, PHONE_C1, 12, DONETSK_LAT + 0.05, DONETSK_LON));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "assigned", "SELECT stage FROM deliveries WHERE id = $1::bigint", id, NULL));
    const char *who = e2e_sqls("SELECT c.tg_user_id::text FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                               " WHERE d.id = $1::bigint", id, NULL);
    long long holder = who ? atoll(who) : 0;
    T_CHECK(holder == COURIER_B);   /* nearest */
    /* nobody moves: after PLUS7_COURIER_STALE_S B is asked to share again and the delivery goes back */
    cJSON *m = wait_text_for(COURIER_B, "не видим вашу геопозицию", 90.0);
    T_CHECK(m && has(m, "переданы другим курьерам"));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT stale::text FROM couriers WHERE tg_user_id = $1", e2e_i(COURIER_B), NULL), "true");
    T_CHECK(e2e_sql_until(DB_WAIT_S, "0", "SELECT count(*) FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                          " WHERE d.id = $1::bigint AND c.tg_user_id = $2", id, e2e_i(COURIER_B), NULL));
    /* sharing again makes B fresh */
    cJSON_Delete(act(COURIER_B, "live_move", "{\"message_id\":%lld,\"latitude\":%.6f,\"longitude\":%.6f}",
                     *live_of(COURIER_B), DONETSK_LAT + 0.051, DONETSK_LON));
    cJSON_Delete(wait_text(COURIER_B, head_of(T_CR_LIVE_ON)));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "false", "SELECT stale::text FROM couriers WHERE tg_user_id = $1",
                          e2e_i(COURIER_B), NULL));
}

T_CASE_TAGGED(assignment_rules_on_the_sql, "e2e")
{
    T_START();
    double secs = 0;
    T_EQ_INT(e2e_p7_stop(&secs), 0);   /* no dispatcher rounds meanwhile */
    static const char *const setup[] = {
        "INSERT INTO delivery_zones (name, city, polygon) VALUES ('Тест-А', 'Тест', '1,1;1,2;2,2'),"
        " ('Тест-Б', 'Тест', '3,3;3,4;4,4')",
        "INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
        " SELECT id, '05:00', '06:00', 10 FROM delivery_zones WHERE name LIKE 'Тест-%'",
        "INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
        " SELECT id, '06:00', '07:00', 10 FROM delivery_zones WHERE name = 'Тест-А'",
        "UPDATE couriers SET on_shift = false",
        "INSERT INTO couriers (tg_user_id, name, zone_id, on_shift, lat, lon, last_at) VALUES"
        " (9100001, 'Near', (SELECT id FROM delivery_zones WHERE name = 'Тест-А'), true, 1.5, 1.5, now()),"
        " (9100002, 'Far', (SELECT id FROM delivery_zones WHERE name = 'Тест-А'), true, 1.9, 1.9, now()),"
        " (9100003, 'Stale', (SELECT id FROM delivery_zones WHERE name = 'Тест-А'), true, 1.5, 1.5, now()),"
        " (9100004, 'Other zone', (SELECT id FROM delivery_zones WHERE name = 'Тест-Б'), true, 1.5, 1.5, now())",
        "UPDATE couriers SET stale = true WHERE tg_user_id = 9100003",
        "INSERT INTO orders (posting_number, status, status_source)"
        " SELECT '7300000' || n || '-0001-1', 'accepted', 'logistics' FROM generate_series(1, 5) n",
        "INSERT INTO deliveries (posting_number, tg_user_id, address, lat, lon, zone_id, slot_id, slot_date,"
        "                        slot_start, slot_end, price_kopecks)"
        " SELECT '7300000' || n || '-0001-1', 1, 'x', 1.5, 1.5, s.zone_id, s.id, msk_today(), s.start_time, s.end_time, 0"
        "   FROM generate_series(1, 3) n, delivery_slots s JOIN delivery_zones z ON z.id = s.zone_id"
        "  WHERE z.name = 'Тест-А' AND s.start_time = '05:00'",
    };
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) T_EQ_INT(e2e_sql_exec(setup[i], NULL), 0);
    /* capacity 1 per slot: Near (nearest) and Far get one each; the third waits; Stale and Other zone get none */
    T_EQ_INT(e2e_sql_int("SELECT courier_auto_assign(1, 200)", NULL), 2);
    T_EQ_STR(e2e_sqls("SELECT string_agg(c.name, ',' ORDER BY d.id) FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                      " WHERE d.posting_number LIKE '7300000%'", NULL), "Near,Far");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number LIKE '7300000%' AND stage = 'new'", NULL), 1);
    /* least loaded first, then nearest: two more in the 06:00 window with capacity 4 */
    T_EQ_INT(e2e_sql_exec("INSERT INTO deliveries (posting_number, tg_user_id, address, lat, lon, zone_id, slot_id,"
                          "                        slot_date, slot_start, slot_end, price_kopecks)"
                          " SELECT '7300000' || n || '-0001-1', 1, 'x', 1.5, 1.5, s.zone_id, s.id, msk_today(),"
                          "        s.start_time, s.end_time, 0"
                          "   FROM generate_series(4, 5) n, delivery_slots s JOIN delivery_zones z ON z.id = s.zone_id"
                          "  WHERE z.name = 'Тест-А' AND s.start_time = '06:00'", NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT courier_auto_assign(4, 200)", NULL), 3);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                         " WHERE c.name = 'Near' AND d.posting_number LIKE '7300000%'", NULL), 3);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                         " WHERE c.name = 'Far' AND d.posting_number LIKE '7300000%'", NULL), 2);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                         " WHERE c.name IN ('Stale', 'Other zone')", NULL), 0);
    /* head of line: the earliest window is full for everyone (capacity 1 used up), a later one in
       another zone with a free courier still gets assigned, even with a limit of 1 */
    static const char *const later[] = {
        "INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
        " SELECT id, '07:00', '08:00', 10 FROM delivery_zones WHERE name = 'Тест-Б'",
        "INSERT INTO orders (posting_number, status, status_source) VALUES ('73000009-0001-1', 'accepted', 'logistics')",
        "INSERT INTO deliveries (posting_number, tg_user_id, address, lat, lon, zone_id, slot_id, slot_date,"
        "                        slot_start, slot_end, price_kopecks)"
        " SELECT '73000009-0001-1', 1, 'x', 3.5, 3.5, s.zone_id, s.id, msk_today(), s.start_time, s.end_time, 0"
        "   FROM delivery_slots s JOIN delivery_zones z ON z.id = s.zone_id WHERE z.name = 'Тест-Б'"
        "    AND s.start_time = '07:00'",
    };
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) T_EQ_INT(e2e_sql_exec(later[i], NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number LIKE '7300000%' AND stage = 'new'"
                         " AND slot_start = '05:00'", NULL), 0);
    T_EQ_INT(e2e_sql_exec("UPDATE deliveries SET stage = 'new', courier_id = NULL"
                          " WHERE posting_number = '73000003-0001-1'", NULL), 0);   /* 05:00, all full at 1 */
    T_EQ_INT(e2e_sql_int("SELECT courier_auto_assign(1, 1)", NULL), 1);
    T_EQ_STR(e2e_sqls("SELECT c.name FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
                      " WHERE d.posting_number = '73000009-0001-1'", NULL), "Other zone");
    /* quiet for too long: stale, its unpicked deliveries given back */
    T_EQ_INT(e2e_sql_exec("UPDATE couriers SET last_at = now() - interval '10 minutes' WHERE name = 'Far'", NULL), 0);
    T_EQ_STR(e2e_sqls("SELECT tg_user_id || ':' || released FROM courier_stale_sweep(300)", NULL), "9100002:2");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number LIKE '7300000%' AND stage = 'new'", NULL), 3);
    /* the rules' rows out of the way of later runs */
    T_EQ_INT(e2e_sql_exec("UPDATE couriers SET on_shift = false WHERE tg_user_id BETWEEN 9100001 AND 9100004", NULL), 0);
    T_CHECK(e2e_p7_start() == 0);
}

int main(void)
{
    if (e2e_init("couriers", E2E_POLLING) == 0) {
        e2e_p7_setenv("PLUS7_COURIER_TICK_S", "1");
        e2e_p7_setenv("PLUS7_COURIER_STALE_S", STALE_S);
        const char *seed[] = {"seed", NULL};
        char out[512];
        if (e2e_p7_run(seed, out, sizeof out) != 0) printf("# plus7d seed: %s\n", out);
    }
    return e2e_finish(t_run_all());
}
