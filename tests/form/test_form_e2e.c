/* test_form_e2e.c — the delivery order form end to end: the real plus7d +
 * tgsim (people) + extsim (Ozon, with the demo postings and a few of our
 * own) + PostgreSQL, with the demo zones, tariffs and windows of
 * `plus7d seed`.
 *
 * Purpose: the form as people live it — a location pin in Donetsk
 * and a typed «Макеевка, ул. …» address through to a stored delivery (the
 * posting fetched from Ozon on the way), an address outside every zone
 * (a pin in Moscow: the nearest pickup point is offered), one place left
 * in a window and two people after it, the same race inside PostgreSQL
 * with two concurrent transactions, the back buttons, plus7d killed and
 * restarted mid-form, a non-owner and finished postings refused, the owner
 * seeing the address and window when tracking, and `plus7d seed` run twice
 * giving the same rows. Expected texts come from the message catalogue.
 *
 * Each case uses its own Telegram user (ids 713xx), phone and postings, so
 * the cases share one database, tgsim, extsim and plus7d.
 * Tags: "e2e" on every case, "slow" on the restart case.
 * Threads: main thread only.
 */
#include "t.h"

#include <libpq-fe.h>

#include "conv_form.h"
#include "e2e_harness.h"
#include "geo.h"
#include "texts.h"
#include "tgsim_harness.h"

#define WAIT_S 30.0          /* one bot reply, generous for sanitizer builds on 2 cores */
#define DB_WAIT_S 30.0

#define OZ_CLIENT_ID "123456"
#define OZ_API_KEY "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

#define DONETSK_LAT 48.0159
#define DONETSK_LON 37.8028

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

/* ---- helpers ----------------------------------------------------------------------- */

static bool has(const cJSON *m, const char *needle)
{
    const char *t = e2e_text(m);
    bool ok = t && strstr(t, needle) != NULL;
    if (!ok) printf("# expected \"%s\" in: %.600s\n", needle, t ? t : "(none)");
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
    T_CHECK(strlen(b) >= 12);
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

/* Press a reply-keyboard button (a location button sends the given point). */
static cJSON *press_reply(long long uid, const char *label)
{
    cJSON *a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", label);
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    return reply(uid);
}

static cJSON *send_pin(long long uid, double lat, double lon)
{
    cJSON *a = e2e_act(uid, "press_reply", "{\"text\":\"%s\",\"latitude\":%.6f,\"longitude\":%.6f}",
                       text_get(T_BTN_FORM_LOCATION), lat, lon);
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    return reply(uid);
}

/* Press inline button `data` under message m (it must be there). */
static cJSON *press(long long uid, const cJSON *m, const char *data)
{
    cJSON *r = e2e_press(uid, m, data, WAIT_S);
    T_CHECK(r != NULL);
    return r;
}

#define button e2e_button

static int buttons(const cJSON *m, const char *prefix)
{
    int k = 0;
    const cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
    const cJSON *row, *btn;
    cJSON_ArrayForEach(row, kb) cJSON_ArrayForEach(btn, row) {
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(btn, "callback_data"));
        if (d && strncmp(d, prefix, strlen(prefix)) == 0) k++;
    }
    return k;
}

static const char *step_of(long long uid)
{
    return e2e_sqls("SELECT step FROM conversations WHERE chat_id = $1", e2e_i(uid), NULL);
}

/* Register uid with phone through the share-phone button. */
static void register_person(long long uid, const char *name, const char *phone)
{
    T_CHECK(e2e_user(uid, name, phone, false) == 0);
    cJSON *a = e2e_act(uid, "command", "{\"command\":\"start\"}");
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON_Delete(reply(uid));
    cJSON *m = press_reply(uid, text_get(T_BTN_SHARE_PHONE));
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_ORDER)));
    cJSON_Delete(m);
}

/* «🚚 Оформить доставку», then the posting: returns the address prompt. */
static cJSON *start_form(long long uid, const char *posting)
{
    cJSON *m = press_reply(uid, text_get(T_BTN_ORDER));
    T_CHECK(has(m, "Оформление доставки"));
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_BACK)));
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "form_posting");
    m = say(uid, posting);
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_FORM_LOCATION)));
    T_EQ_STR(step_of(uid), "form_address");
    return m;
}

/* A posting of our own in extsim (rFBS, the seller delivers). */
static void ozon_posting(const char *posting, const char *phone, const char *city, int weight_g)
{
    long st = 0;
    cJSON_Delete(e2e_xs("POST", "/control/ozon/postings", &st,
                        "{\"posting_number\":\"%s\",\"status\":\"awaiting_deliver\","
                        "\"customer\":{\"name\":\"Тестовый Покупатель\",\"phone\":\"%s\",\"address\":\"ул. Мира, д. 1\","
                        "\"city\":\"%s\",\"latitude\":48.0,\"longitude\":37.8},"
                        "\"products\":[{\"name\":\"Товар\",\"price\":990,\"weight\":%d,\"quantity\":1}]}",
                        posting, phone, city, weight_g));
    T_EQ_INT(st, 200);
}

/* The id of zone city's window starting at hh:mm. */
static const char *slot_id(const char *city, const char *start)
{
    return e2e_sqls("SELECT s.id::text FROM delivery_slots s JOIN delivery_zones z ON z.id = s.zone_id"
                    " WHERE z.name = $1 AND s.start_time = $2::time", city, start, NULL);
}

static const char *first_day(void)
{
    return e2e_sqls("SELECT to_char((now() AT TIME ZONE 'Europe/Moscow')::date + 1, 'YYYYMMDD')", NULL);
}

/* A second connection to the test database. */
static PGconn *db_connect(void)
{
    const char *name = e2e_sqls("SELECT current_database()", NULL);
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {getenv("PLUS7_DB"), name, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) printf("# connect: %s", PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

static bool db_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) printf("# %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* ---- the cases ------------------------------------------------------------------------ */

T_CASE_TAGGED(seed_is_idempotent, "e2e")
{
    static const char sum[] =
        "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
        " SELECT 'z' || name || city || polygon || active AS x FROM delivery_zones"
        " UNION ALL SELECT 'p' || city || name || address || lat || lon || hours || coalesce(zone_id, 0) FROM pickup_points"
        " UNION ALL SELECT 't' || zone_id || ':' || weight_from_g || ':' || weight_to_g || ':' || price_kopecks FROM tariffs"
        " UNION ALL SELECT 's' || zone_id || start_time || end_time || capacity || active FROM delivery_slots) q";
    char *before = e2e_sql1(sum, NULL);
    long long counts = e2e_sql_int("SELECT (SELECT count(*) FROM delivery_zones) * 1000000 + (SELECT count(*) FROM "
                                   "pickup_points) * 10000 + (SELECT count(*) FROM tariffs) * 100 + (SELECT count(*) "
                                   "FROM delivery_slots)", NULL);
    T_EQ_INT(counts, 5 * 1000000 + 11 * 10000 + 20 * 100 + 15);
    const char *args[] = {"seed", NULL};
    char out[512];
    T_EQ_INT(e2e_p7_run(args, out, sizeof out), 0);
    T_CHECK(strstr(out, "(0 new rows)") != NULL);
    char *after = e2e_sql1(sum, NULL);
    T_CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    /* every demo pickup point of a zone city lies inside that zone's polygon */
    PGconn *c = db_connect();
    PGresult *r = PQexec(c, "SELECT p.lat, p.lon, z.polygon FROM pickup_points p JOIN delivery_zones z ON z.id = p.zone_id");
    T_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 10);
    for (int i = 0; i < PQntuples(r); i++) {
        geo_point_t pts[GEO_POLYGON_MAX];
        int n = geo_polygon_parse(PQgetvalue(r, i, 2), pts, GEO_POLYGON_MAX);
        T_CHECK(n >= 3);
        T_CHECK(geo_polygon_contains(pts, n, (geo_point_t){atof(PQgetvalue(r, i, 0)), atof(PQgetvalue(r, i, 1))}));
    }
    PQclear(r);
    PQfinish(c);
    /* and a usage error is exit 2 */
    const char *bad[] = {"seed", "extra", NULL};
    T_EQ_INT(e2e_p7_run(bad, NULL, 0), 2);
}

T_CASE_TAGGED(pin_in_donetsk_to_a_stored_delivery, "e2e")
{
    T_START();
    const long long uid = 71301;
    register_person(uid, "Мария", "+79491234501");
    /* the posting is not in the database yet: the form fetches it from Ozon */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = '12345678-0001-1'", NULL), 0);
    cJSON *m = start_form(uid, "12345678-0001-1");
    T_CHECK(has(m, "0,18 кг"));
    cJSON_Delete(m);
    m = send_pin(uid, DONETSK_LAT, DONETSK_LON);
    T_CHECK(has(m, "Зона доставки: Донецк"));
    T_EQ_INT(buttons(m, "f:s:"), 9);
    T_EQ_STR(step_of(uid), "form_slot");
    char pick[80];
    snprintf(pick, sizeof pick, "f:s:%s:%s", first_day(), slot_id("Донецк", "10:00"));
    T_CHECK(button(m, pick) != NULL);
    cJSON *s = press(uid, m, pick);
    cJSON_Delete(m);
    T_CHECK(has(s, "250,00 ₽"));
    T_CHECK(has(s, "10:00–14:00"));
    T_CHECK(has(s, "Геопозиция: 48.01590, 37.80280"));
    T_EQ_STR(step_of(uid), "form_confirm");
    const char *ok = button(s, "f:ok:");
    T_CHECK(ok != NULL);
    char okd[80];
    snprintf(okd, sizeof okd, "%s", ok);
    m = press(uid, s, okd);
    cJSON_Delete(s);
    T_CHECK(has(m, "Доставка оформлена"));
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_TRACK)));
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "menu");
    T_EQ_STR(e2e_sqls("SELECT d.tg_user_id || '|' || z.name || '|' || d.price_kopecks || '|' || d.status || '|' ||"
                      " round(d.lat::numeric, 4) || '|' || round(d.lon::numeric, 4) || '|' || d.slot_start"
                      "  FROM deliveries d JOIN delivery_zones z ON z.id = d.zone_id"
                      " WHERE d.posting_number = '12345678-0001-1'", NULL),
              "71301|Донецк|25000|ordered|48.0159|37.8028|10:00:00");
    T_EQ_INT(e2e_sql_int("SELECT ordered_by FROM orders WHERE posting_number = '12345678-0001-1'", NULL), uid);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_subscribers WHERE posting_number = '12345678-0001-1'"
                         " AND chat_id = $1", e2e_i(uid), NULL), 1);

    /* the owner sees the address and the window when tracking */
    m = say(uid, "12345678-0001-1");
    T_CHECK(has(m, "Геопозиция: 48.01590, 37.80280"));
    T_CHECK(has(m, "10:00–14:00"));
    const char *date = e2e_sqls("SELECT to_char(slot_date, 'DD.MM.YYYY') FROM deliveries"
                                " WHERE posting_number = '12345678-0001-1'", NULL);
    T_CHECK(date && has(m, date));
    cJSON_Delete(m);

    /* ordering the same posting again is refused with what is booked */
    m = press_reply(uid, text_get(T_BTN_ORDER));
    cJSON_Delete(m);
    m = say(uid, "12345678-0001-1");
    T_CHECK(has(m, head_of(T_FORM_ALREADY_ORDERED)));
    T_CHECK(has(m, "10:00–14:00"));
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "form_posting");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number = '12345678-0001-1'", NULL), 1);
    cJSON_Delete(say(uid, "/cancel"));
}

T_CASE_TAGGED(typed_address_in_makeyevka, "e2e")
{
    T_START();
    const long long uid = 71302;
    register_person(uid, "Алексей", "+79491234502");
    cJSON *m = start_form(uid, "12345678-0002-1");
    cJSON_Delete(m);
    m = say(uid, "Макеевка, ул. Ленина, 45, кв. 3 <строение 2>");
    T_CHECK(has(m, "Зона доставки: Макеевка"));
    T_CHECK(has(m, "ул. Ленина, 45, кв. 3 &lt;строение 2&gt;"));
    const char *pick = button(m, "f:s:");
    T_CHECK(pick != NULL);
    char p[80];
    snprintf(p, sizeof p, "%s", pick);
    cJSON *s = press(uid, m, p);
    cJSON_Delete(m);
    /* 1.2 kg: the 1-5 kg band of Makeyevka, from the tariff table */
    long long want = e2e_sql_int("SELECT t.price_kopecks FROM tariffs t JOIN delivery_zones z ON z.id = t.zone_id"
                                 " WHERE z.name = 'Макеевка' AND t.weight_from_g < 1200 AND 1200 <= t.weight_to_g", NULL);
    T_EQ_INT(want, 40000);
    char price[64];
    conv_form_price_text(want, price, sizeof price);
    T_CHECK(has(s, price));
    char okd[80];
    snprintf(okd, sizeof okd, "%s", button(s, "f:ok:") ? button(s, "f:ok:") : "");
    m = press(uid, s, okd);
    cJSON_Delete(s);
    T_CHECK(has(m, "Доставка оформлена"));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT d.address || '|' || z.name || '|' || d.price_kopecks || '|' || (d.lat IS NULL)"
                      "  FROM deliveries d JOIN delivery_zones z ON z.id = d.zone_id"
                      " WHERE d.posting_number = '12345678-0002-1'", NULL),
              "Макеевка, ул. Ленина, 45, кв. 3 <строение 2>|Макеевка|40000|true");
    T_EQ_INT(e2e_sql_int("SELECT ordered_by FROM orders WHERE posting_number = '12345678-0002-1'", NULL), uid);
}

T_CASE_TAGGED(pin_in_moscow_offers_the_nearest_pickup_point, "e2e")
{
    T_START();
    const long long uid = 71303;
    register_person(uid, "Татьяна", "+79491234509");
    cJSON *m = start_form(uid, "12345678-0009-2");
    cJSON_Delete(m);
    const double lat = 55.7558, lon = 37.6173;
    m = send_pin(uid, lat, lon);
    T_CHECK(has(m, head_of(T_FORM_OUTSIDE_PIN)));
    /* the nearest of the seeded points, by the same great-circle distance */
    PGconn *c = db_connect();
    PGresult *r = PQexec(c, "SELECT address, lat, lon FROM pickup_points WHERE active");
    int best = -1;
    double best_m = 0;
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        double d = geo_distance_m((geo_point_t){lat, lon},
                                  (geo_point_t){atof(PQgetvalue(r, i, 1)), atof(PQgetvalue(r, i, 2))});
        if (best < 0 || d < best_m) { best = i; best_m = d; }
    }
    T_CHECK(best >= 0);
    if (best >= 0) T_CHECK(has(m, PQgetvalue(r, best, 0)));
    T_CHECK(strstr(PQgetvalue(r, best, 0), "Луганск") != NULL);
    PQclear(r);
    PQfinish(c);
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_FORM_LOCATION)));
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "form_address");
    /* a typed address in a city without couriers: that city's pickup point */
    m = say(uid, "Горловка, ул. Пушкина, 3");
    T_CHECK(has(m, head_of(T_FORM_OUTSIDE_TEXT)));
    T_CHECK(has(m, "г. Горловка, пр. Победы, 58"));
    cJSON_Delete(m);
    m = say(uid, "/cancel");
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "menu");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE tg_user_id = $1", e2e_i(uid), NULL), 0);
}

T_CASE_TAGGED(the_last_place_goes_to_the_first_who_confirms, "e2e")
{
    T_START();
    const long long a = 71304, b = 71305;
    ozon_posting("12345678-0101-1", "+79491230101", "Донецк", 500);
    ozon_posting("12345678-0102-1", "+79491230102", "Донецк", 500);
    register_person(a, "Анна", "+79491230101");
    register_person(b, "Борис", "+79491230102");
    const char *sid = slot_id("Донецк", "18:00");
    T_CHECK(sid != NULL);
    char slot[16];
    snprintf(slot, sizeof slot, "%s", sid ? sid : "0");
    T_CHECK(e2e_sql_exec("UPDATE delivery_slots SET capacity = 1 WHERE id = $1::int", slot, NULL) == 0);
    char pick[80];
    snprintf(pick, sizeof pick, "f:s:%s:%s", first_day(), slot);

    cJSON *m = start_form(a, "12345678-0101-1");
    cJSON_Delete(m);
    m = send_pin(a, DONETSK_LAT, DONETSK_LON);
    T_CHECK(button(m, pick) != NULL);
    cJSON *sa = press(a, m, pick);
    cJSON_Delete(m);
    m = start_form(b, "12345678-0102-1");
    cJSON_Delete(m);
    m = say(b, "Донецк, бул. Пушкина, 18");
    T_CHECK(button(m, pick) != NULL);
    cJSON *sb = press(b, m, pick);
    T_EQ_STR(step_of(a), "form_confirm");
    T_EQ_STR(step_of(b), "form_confirm");

    char oka[80], okb[80];
    snprintf(oka, sizeof oka, "%s", button(sa, "f:ok:") ? button(sa, "f:ok:") : "");
    snprintf(okb, sizeof okb, "%s", button(sb, "f:ok:") ? button(sb, "f:ok:") : "");
    cJSON *ra = press(a, sa, oka);
    T_CHECK(has(ra, "Доставка оформлена"));
    cJSON *rb = press(b, sb, okb);
    T_CHECK(has(rb, head_of(T_FORM_SLOT_FILLED)));
    T_CHECK(button(rb, pick) == NULL);           /* the full window is not offered */
    T_CHECK(buttons(rb, "f:s:") == 8);
    T_EQ_STR(step_of(b), "form_slot");
    /* the old list's button of the full window is refused as well */
    cJSON *rb2 = press(b, m, pick);
    T_CHECK(has(rb2, text_get(T_FORM_SLOT_TAKEN)));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE slot_id = $1::int AND status = 'ordered'", slot, NULL), 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number = '12345678-0102-1'", NULL), 0);
    /* b takes another window */
    const char *other = button(rb2, "f:s:");
    char o[80];
    snprintf(o, sizeof o, "%s", other ? other : "");
    cJSON *sb2 = press(b, rb2, o);
    snprintf(okb, sizeof okb, "%s", button(sb2, "f:ok:") ? button(sb2, "f:ok:") : "");
    cJSON *done = press(b, sb2, okb);
    T_CHECK(has(done, "Доставка оформлена"));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number = '12345678-0102-1'", NULL), 1);
    cJSON_Delete(m);
    cJSON_Delete(sa);
    cJSON_Delete(sb);
    cJSON_Delete(ra);
    cJSON_Delete(rb);
    cJSON_Delete(rb2);
    cJSON_Delete(sb2);
    cJSON_Delete(done);
}

T_CASE_TAGGED(concurrent_bookings_respect_the_capacity, "e2e db")
{
    T_START();
    /* two postings, one place: two transactions book it at the same time */
    T_CHECK(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source) VALUES"
                         " ('12345678-0201-1', 'created', 'ozon'), ('12345678-0202-1', 'created', 'ozon')", NULL) == 0);
    const char *sid = slot_id("Луганск", "10:00");
    T_CHECK(sid != NULL);
    char slot[16];
    snprintf(slot, sizeof slot, "%s", sid ? sid : "0");
    T_CHECK(e2e_sql_exec("UPDATE delivery_slots SET capacity = 1 WHERE id = $1::int", slot, NULL) == 0);
    PGconn *c1 = db_connect(), *c2 = db_connect();
    char sql[512];
    T_CHECK(db_ok(c1, "BEGIN") && db_ok(c2, "BEGIN"));
    snprintf(sql, sizeof sql, "SELECT delivery_book('12345678-0201-1', 1, 'Луганск, ул. Советская, 1', NULL, NULL,"
                              " %s, current_date + 1, 25000)", slot);
    T_CHECK(db_ok(c1, sql));
    snprintf(sql, sizeof sql, "SELECT delivery_book('12345678-0202-1', 2, 'Луганск, ул. Советская, 2', NULL, NULL,"
                              " %s, current_date + 1, 25000)", slot);
    T_CHECK(PQsendQuery(c2, sql) == 1);
    /* the second waits on the window's lock until the first commits */
    T_CHECK(e2e_sql_until(DB_WAIT_S, "1", "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                          " AND wait_event_type = 'Lock' AND query LIKE '%12345678-0202-1%'", NULL));
    T_CHECK(db_ok(c1, "COMMIT"));
    PGresult *r = PQgetResult(c2);
    T_EQ_INT(PQresultStatus(r), PGRES_FATAL_ERROR);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    T_EQ_STR(state, "P7F01");
    PQclear(r);
    while ((r = PQgetResult(c2))) PQclear(r);
    T_CHECK(db_ok(c2, "ROLLBACK"));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE slot_id = $1::int AND status = 'ordered'", slot, NULL), 1);
    /* a posting gets one ordered delivery at most */
    T_CHECK(e2e_sql_exec("UPDATE delivery_slots SET capacity = 20 WHERE id = $1::int", slot, NULL) == 0);
    snprintf(sql, sizeof sql, "SELECT delivery_book('12345678-0201-1', 1, 'x', NULL, NULL, %s, current_date + 2, 1)", slot);
    r = PQexec(c2, sql);
    T_EQ_STR(PQresultErrorField(r, PG_DIAG_SQLSTATE), "P7F02");
    PQclear(r);
    PQfinish(c1);
    PQfinish(c2);
}

T_CASE_TAGGED(a_booking_racing_the_confirmation_is_replayed, "e2e db")
{
    T_START();
    /* The last place is taken by another transaction after the form has
     * seen it free: the confirmation's transaction waits for the window's
     * lock, fails on the full window, and the replayed update tells the
     * person and offers the windows again. */
    const long long uid = 71311;
    ozon_posting("12345678-0105-1", "+79491230105", "Мариуполь", 500);
    register_person(uid, "Дина", "+79491230105");
    const char *sid = slot_id("Мариуполь", "14:00");
    T_CHECK(sid != NULL);
    char slot[16], pick[80];
    snprintf(slot, sizeof slot, "%s", sid ? sid : "0");
    T_CHECK(e2e_sql_exec("UPDATE delivery_slots SET capacity = 1 WHERE id = $1::int", slot, NULL) == 0);
    snprintf(pick, sizeof pick, "f:s:%s:%s", first_day(), slot);
    cJSON *m = start_form(uid, "12345678-0105-1");
    cJSON_Delete(m);
    m = say(uid, "Мариуполь, пр. Мира, 80");
    T_CHECK(button(m, pick) != NULL);
    cJSON *s = press(uid, m, pick);
    char okd[80];
    snprintf(okd, sizeof okd, "%s", button(s, "f:ok:") ? button(s, "f:ok:") : "");

    T_CHECK(e2e_sql_exec("INSERT INTO orders (posting_number, status, status_source)"
                         " VALUES ('12345678-0203-1', 'created', 'ozon')", NULL) == 0);
    PGconn *c = db_connect();
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT delivery_book('12345678-0203-1', 3, 'Мариуполь, пр. Мира, 1', NULL, NULL, %s,"
                              " to_date('%s', 'YYYYMMDD'), 30000)", slot, first_day());
    T_CHECK(db_ok(c, "BEGIN") && db_ok(c, sql));    /* holds the window, not committed yet */
    cJSON *a = e2e_act(uid, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\"}",
                       (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "message_id")), okd);
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "1", "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                          " AND wait_event_type = 'Lock' AND query LIKE '%delivery_book($1%'", NULL));
    T_CHECK(db_ok(c, "COMMIT"));
    PQfinish(c);
    cJSON *r = reply(uid);
    T_CHECK(has(r, head_of(T_FORM_SLOT_FILLED)));
    T_CHECK(button(r, pick) == NULL);
    T_EQ_STR(step_of(uid), "form_slot");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number = '12345678-0105-1'", NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE slot_id = $1::int AND status = 'ordered'", slot, NULL), 1);
    T_EQ_INT(e2e_sql_int("SELECT ordered_by FROM orders WHERE posting_number = '12345678-0105-1'", NULL), -1);
    cJSON_Delete(m);
    cJSON_Delete(s);
    cJSON_Delete(r);
}

T_CASE_TAGGED(back_buttons, "e2e")
{
    T_START();
    const long long uid = 71306;
    ozon_posting("12345678-0103-1", "+79491230103", "Донецк", 2000);
    register_person(uid, "Вера", "+79491230103");
    cJSON *m = start_form(uid, "12345678-0103-1");
    cJSON_Delete(m);
    m = send_pin(uid, DONETSK_LAT, DONETSK_LON);
    char pick[80];
    snprintf(pick, sizeof pick, "%s", button(m, "f:s:") ? button(m, "f:s:") : "");
    cJSON *s = press(uid, m, pick);
    cJSON_Delete(m);
    T_CHECK(has(s, "350,00 ₽"));                   /* 2 kg in Donetsk */
    T_EQ_STR(step_of(uid), "form_confirm");
    m = press(uid, s, "f:b");                       /* summary → windows */
    cJSON_Delete(s);
    T_EQ_STR(step_of(uid), "form_slot");
    T_CHECK(button(m, pick) != NULL);
    s = press(uid, m, "f:b");                       /* windows → address */
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "form_address");
    T_CHECK(e2e_kb_has(s, text_get(T_BTN_FORM_LOCATION)));
    cJSON_Delete(s);
    m = press_reply(uid, text_get(T_BTN_BACK));     /* address → posting */
    T_EQ_STR(step_of(uid), "form_posting");
    T_CHECK(has(m, "Оформление доставки"));
    cJSON_Delete(m);
    m = press_reply(uid, text_get(T_BTN_BACK));     /* out of the form */
    T_CHECK(has(m, text_get(T_FORM_CANCELLED)));
    T_CHECK(e2e_kb_has(m, text_get(T_BTN_ORDER)));
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "menu");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE tg_user_id = $1", e2e_i(uid), NULL), 0);
}

/* Wait until every reply to uid is marked sent: a kill -9 between
 * Telegram's answer and the mark would send that reply again after the
 * restart (the one repeat the design allows), and the test would read the
 * repeat as the answer to its next step. */
static void all_marked_sent(long long uid)
{
    T_CHECK(e2e_sql_until(DB_WAIT_S, "0", "SELECT count(*) FROM tg_outbox WHERE chat_id = $1 AND status = 'pending'",
                          e2e_i(uid), NULL));
}

T_CASE_TAGGED(restarts_mid_form_keep_the_step, "e2e slow")
{
    T_START();
    const long long uid = 71307;
    ozon_posting("12345678-0104-1", "+79491230104", "Донецк", 500);
    register_person(uid, "Глеб", "+79491230104");
    cJSON *m = start_form(uid, "12345678-0104-1");
    cJSON_Delete(m);
    all_marked_sent(uid);
    e2e_p7_kill();                                  /* kill -9 at the address step */
    T_CHECK(e2e_p7_start() == 0);
    m = say(uid, "г. Донецк, пр. Ильича, 19");
    T_CHECK(has(m, "Зона доставки: Донецк"));
    char pick[80];
    snprintf(pick, sizeof pick, "%s", button(m, "f:s:") ? button(m, "f:s:") : "");
    double secs = 0;
    T_EQ_INT(e2e_p7_stop(&secs), 0);                /* a clean stop at the window step */
    T_CHECK(e2e_p7_start() == 0);
    cJSON *s = press(uid, m, pick);
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "form_confirm");
    char okd[80];
    snprintf(okd, sizeof okd, "%s", button(s, "f:ok:") ? button(s, "f:ok:") : "");
    all_marked_sent(uid);
    e2e_p7_kill();                                  /* and at the summary */
    T_CHECK(e2e_p7_start() == 0);
    m = press(uid, s, okd);
    cJSON_Delete(s);
    T_CHECK(has(m, "Доставка оформлена"));
    cJSON_Delete(m);
    T_EQ_STR(e2e_sqls("SELECT address FROM deliveries WHERE posting_number = '12345678-0104-1'", NULL),
             "г. Донецк, пр. Ильича, 19");
}

T_CASE_TAGGED(non_owners_and_finished_postings_are_refused, "e2e")
{
    T_START();
    const long long uid = 71308;
    register_person(uid, "Олег", "+79491230108");
    cJSON *m = press_reply(uid, text_get(T_BTN_ORDER));
    cJSON_Delete(m);
    m = say(uid, "12345678-0009-1");                /* Мельник's posting */
    T_CHECK(has(m, head_of(T_FORM_NOT_OWNER)));
    T_CHECK(strstr(e2e_text(m), "Ильича") == NULL);
    cJSON_Delete(m);
    T_EQ_STR(step_of(uid), "form_posting");
    m = say(uid, "99999999-0001-1");                /* unknown to Ozon */
    T_CHECK(has(m, "не найдено ни у нас"));
    cJSON_Delete(m);
    m = say(uid, "1234-5");
    T_CHECK(has(m, "1234-5"));
    cJSON_Delete(m);
    cJSON_Delete(say(uid, "/cancel"));

    const long long delivered = 71309, cancelled = 71310;
    register_person(delivered, "Анна", "+79901234505");
    cJSON_Delete(press_reply(delivered, text_get(T_BTN_ORDER)));
    m = say(delivered, "12345678-0005-1");
    T_CHECK(has(m, "уже выдано"));
    cJSON_Delete(m);
    register_person(cancelled, "Сергей", "+79491234508");
    cJSON_Delete(press_reply(cancelled, text_get(T_BTN_ORDER)));
    m = say(cancelled, "12345678-0008-1");
    T_CHECK(has(m, "отменено"));
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE tg_user_id IN (71308, 71309, 71310)", NULL), 0);
}

int main(void)
{
    if (e2e_init("form", E2E_POLLING) == 0) {
        if (e2e_xs_start(0) != 0) printf("# extsim did not start\n");
        long st = 0;
        cJSON_Delete(e2e_xs("POST", "/control/ozon/demo", &st, NULL));
        if (st != 200) printf("# extsim: seeding the demo postings: HTTP %ld\n", st);
        e2e_p7_setenv("PLUS7_OZON_API", e2e_xs_base());
        e2e_p7_setenv("PLUS7_OZON_CLIENT_ID", OZ_CLIENT_ID);
        e2e_p7_setenv("PLUS7_OZON_API_KEY", OZ_API_KEY);
        e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "0");   /* postings come on demand */
        e2e_p7_setenv("PLUS7_OZON_RPS", "50");
        const char *seed[] = {"seed", NULL};
        char out[512];
        if (e2e_p7_run(seed, out, sizeof out) != 0 || !strstr(out, "(51 new rows)"))
            printf("# plus7d seed: %s\n", out);
    }
    return e2e_finish(t_run_all());
}
