/* test_courier_unit.c — the courier module's pure parts: the route planner
 * (windows first, nearest neighbour + 2-opt never longer than plain
 * nearest neighbour, stops without a point), the map link, the ETA, the
 * card references, the UTF-8 trim, and the dialog's refusals (a client
 * pressing a courier's button, a courier pressing someone else's card, a
 * location of a courier off shift going to the client flow, live moves of
 * a courier on shift becoming track points without a reply).
 * Threads: main only.
 */
#include "t.h"

#include <math.h>

#include "conv_courier.h"
#include "route.h"
#include "rt.h"
#include "texts.h"

/* ---- route ------------------------------------------------------------------------ */

T_CASE(route_distance_is_haversine)
{
    /* one degree of latitude is about 111.2 km */
    double m = route_distance_m(48.0, 37.8, 49.0, 37.8);
    T_CHECK(fabs(m - 111195.0) < 50.0);
    T_CHECK(route_distance_m(48.0, 37.8, 48.0, 37.8) == 0.0);
}

T_CASE(route_visits_windows_in_order_then_nearest)
{
    route_stop_t s[] = {
        {48.03, 37.80, true, 600},   /* 10:00, far */
        {48.01, 37.80, true, 600},   /* 10:00, near */
        {48.00, 37.81, true, 480},   /* 08:00: first, though farther from the start than #1 */
        {48.02, 37.80, true, 600},   /* 10:00, middle */
    };
    int order[4];
    T_EQ_INT(route_plan(s, 4, true, 48.0, 37.8, order), RT_OK);
    T_EQ_INT(order[0], 2);
    T_EQ_INT(order[1], 1);
    T_EQ_INT(order[2], 3);
    T_EQ_INT(order[3], 0);
}

T_CASE(route_stops_without_a_point_end_their_window)
{
    route_stop_t s[] = {{0, 0, false, 600}, {48.01, 37.80, true, 600}, {48.02, 37.8, true, 720}};
    int order[3];
    T_EQ_INT(route_plan(s, 3, false, 0, 0, order), RT_OK);
    T_EQ_INT(order[0], 1);
    T_EQ_INT(order[1], 0);
    T_EQ_INT(order[2], 2);
}

/* Plain nearest neighbour, the baseline 2-opt must never lose to. */
static double nn_length(const route_stop_t *s, int n, double lat, double lon)
{
    bool used[64] = {false};
    double total = 0;
    for (int k = 0; k < n; k++) {
        int best = -1;
        double bd = 0;
        for (int i = 0; i < n; i++) {
            if (used[i]) continue;
            double d = route_distance_m(lat, lon, s[i].lat, s[i].lon);
            if (best < 0 || d < bd) { best = i; bd = d; }
        }
        used[best] = true;
        total += bd;
        lat = s[best].lat;
        lon = s[best].lon;
    }
    return total;
}

T_CASE(route_two_opt_never_longer_than_nearest_neighbour)
{
    unsigned seed = 12345;
    int improved = 0;
    for (int round = 0; round < 200; round++) {
        route_stop_t s[40];
        int n = 5 + round % 35;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            double a = (seed >> 8) % 10000 / 10000.0;
            seed = seed * 1103515245u + 12345u;
            double b = (seed >> 8) % 10000 / 10000.0;
            s[i] = (route_stop_t){48.0 + a * 0.1, 37.7 + b * 0.2, true, 600};
        }
        int order[40];
        T_EQ_INT(route_plan(s, n, true, 48.05, 37.8, order), RT_OK);
        bool seen[40] = {false};
        for (int i = 0; i < n; i++) {
            T_CHECK(order[i] >= 0 && order[i] < n && !seen[order[i]]);
            seen[order[i]] = true;
        }
        double ours = route_length_m(s, order, n, true, 48.05, 37.8), nn = nn_length(s, n, 48.05, 37.8);
        T_CHECK(ours <= nn + 1e-6);
        if (ours < nn - 1.0) improved++;
    }
    T_CHECK(improved > 50);   /* 2-opt does improve most random tours */
}

T_CASE(route_map_link_and_eta)
{
    route_stop_t s[] = {{48.01, 37.80, true, 600}, {0, 0, false, 600}, {48.02, 37.81, true, 600}};
    int order[] = {0, 1, 2};
    char buf[256];
    T_EQ_INT(route_map_link(s, order, 3, true, 48.0, 37.8, buf, sizeof buf), RT_OK);
    T_EQ_STR(buf, "https://yandex.ru/maps/?rtt=auto&rtext=48.000000,37.800000~48.010000,37.800000~48.020000,37.810000");
    T_EQ_INT(route_map_link(s, order, 3, false, 0, 0, buf, sizeof buf), RT_OK);
    T_EQ_STR(buf, "https://yandex.ru/maps/?rtt=auto&rtext=48.010000,37.800000~48.020000,37.810000");
    T_EQ_INT(route_map_link(s, order, 3, true, 48.0, 37.8, buf, 40), RT_EINVAL);
    int only[] = {1};
    T_EQ_INT(route_map_link(s, only, 1, false, 0, 0, buf, sizeof buf), RT_ENOTFOUND);
    /* 25 km/h with a 1.3 detour: 10 km straight is 31.2 minutes, plus 5 minutes per earlier stop */
    T_EQ_INT(route_eta_s(10000.0, 0), 1872);
    T_EQ_INT(route_eta_s(10000.0, 2), 1872 + 600);
}

/* ---- helpers ------------------------------------------------------------------------ */

T_CASE(card_references_parse_strictly)
{
    int64_t id;
    int gen;
    const char *rest;
    T_CHECK(cc_parse_ref("42:3", &id, &gen, NULL) && id == 42 && gen == 3);
    T_CHECK(cc_parse_ref("42:3:h", &id, &gen, &rest) && strcmp(rest, "h") == 0);
    T_CHECK(!cc_parse_ref("42:3:h", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref("0:3", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref("-1:3", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref("42", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref("42:x", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref("42:3x", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref("", &id, &gen, NULL));
    T_CHECK(!cc_parse_ref(NULL, &id, &gen, NULL));
}

T_CASE(utf8_trim_drops_only_a_cut_character)
{
    char a[16];
    snprintf(a, sizeof a, "аб");          /* d0 b0 d0 b1 */
    a[3] = '\0';                          /* "а" + a lone lead byte */
    cc_utf8_trim(a);
    T_EQ_STR(a, "а");
    snprintf(a, sizeof a, "x😀");         /* 78 f0 9f 98 80 */
    a[4] = '\0';
    cc_utf8_trim(a);
    T_EQ_STR(a, "x");
    snprintf(a, sizeof a, "x😀");
    cc_utf8_trim(a);
    T_EQ_STR(a, "x😀");
    snprintf(a, sizeof a, "abc");
    cc_utf8_trim(a);
    T_EQ_STR(a, "abc");
}

/* ---- the dialog's refusals ------------------------------------------------------------ */

static tg_update_t upd_json(const char *json)
{
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static tg_update_t upd_callback(long from, const char *data)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":5,\"callback_query\":{\"id\":\"cb1\",\"from\":{\"id\":%ld,\"first_name\":\"И\"},"
             "\"message\":{\"message_id\":9,\"chat\":{\"id\":%ld,\"type\":\"private\"}},\"data\":\"%s\"}}",
             from, from, data);
    return upd_json(json);
}

static bool said(const conv_out_t *o, const char *needle)
{
    for (int i = 0; i < o->nacts; i++)
        if (o->acts[i].kind == CONV_ACT_CALL && strstr(o->acts[i].params, needle)) return true;
    return false;
}

static int count_acts(const conv_out_t *o, conv_act_kind_t k)
{
    int n = 0;
    for (int i = 0; i < o->nacts; i++) n += o->acts[i].kind == k;
    return n;
}

static const char *const delivery_cols[] = {"id", "posting_number", "stage", "status", "card_gen", "pin", "pin_tries",
                                            "locked", "lat", "lon", "t_start", "t_end", "day", "courier_tg",
                                            "courier_name", "c_lat", "c_lon", "client_chat", "now_ms"};
static const char *const delivery_vals[] = {"7", "12345678-0001-1", "assigned", "ordered", "2", "1234", "0", "f",
                                            "48.02", "37.80", "10:00", "14:00", "08.12", "501", "Алексей", "48.0",
                                            "37.8", "601", "1796000000000"};

static void give_delivery(conv_ctx_t *ctx)
{
    conv_lookup_t *l = &ctx->lookups[ctx->nlookups++];
    l->kind = CONV_NEED_DELIVERY;
    snprintf(l->key, sizeof l->key, "7");
    l->rows = (conv_rows_t){RT_OK, 1, 19, delivery_cols, delivery_vals};
}

T_CASE(client_pressing_a_courier_button_is_refused)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .tg_user_id = 601};
    tg_update_t u = upd_callback(601, "cr:pk:7:2");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "answerCallbackQuery") || said(&o, "callback_query_id"));
    T_CHECK(said(&o, "курьера этого заказа"));
    T_EQ_INT(count_acts(&o, CONV_ACT_SQL), 0);
    conv_out_free(&o);
    tg_update_free(&u);
}

static void test_poker(void *rt, const char *arg) { (void)rt; (void)arg; }

T_CASE(another_couriers_card_and_an_old_card_are_stale)
{
    conv_set_poker(test_poker);
    /* courier 502 presses the card of courier 501 */
    conv_ctx_t ctx = {.role = CONV_COURIER, .tg_user_id = 502};
    tg_update_t u = upd_callback(502, "cr:pk:7:2");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_PENDING);
    T_EQ_INT(o.needs[0].kind, CONV_NEED_DELIVERY);
    conv_out_free(&o);
    give_delivery(&ctx);
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "Карточка устарела"));
    T_EQ_INT(count_acts(&o, CONV_ACT_SQL), 0);
    conv_out_free(&o);
    tg_update_free(&u);
    /* the right courier, an older generation */
    conv_ctx_t mine = {.role = CONV_COURIER, .tg_user_id = 501};
    give_delivery(&mine);
    u = upd_callback(501, "cr:pk:7:1");
    T_EQ_INT(conv_step(&mine, &u, &o), RT_OK);
    T_CHECK(said(&o, "Карточка устарела"));
    T_EQ_INT(count_acts(&o, CONV_ACT_SQL), 0);
    conv_out_free(&o);
    tg_update_free(&u);
    /* the current card: picked, an order event and pokes */
    u = upd_callback(501, "cr:pk:7:2");
    T_EQ_INT(conv_step(&mine, &u, &o), RT_OK);
    T_EQ_INT(count_acts(&o, CONV_ACT_SQL), 2);
    T_EQ_INT(count_acts(&o, CONV_ACT_AFTER), 1);
    T_CHECK(said(&o, "cr:go:7:2"));
    conv_out_free(&o);
    tg_update_free(&u);
}

static const char *const courier_cols[] = {"id", "on_shift", "stale", "live_message_id", "lat", "lon"};

static void give_courier(conv_ctx_t *ctx, const char *on_shift, const char *stale, const char *live)
{
    static const char *vals[6];
    vals[0] = "3";
    vals[1] = on_shift;
    vals[2] = stale;
    vals[3] = live;
    vals[4] = "48.0";
    vals[5] = "37.8";
    conv_lookup_t *l = &ctx->lookups[ctx->nlookups++];
    l->kind = CONV_NEED_COURIER;
    l->key[0] = '\0';
    l->rows = (conv_rows_t){RT_OK, 1, 6, courier_cols, vals};
}

T_CASE(locations_of_couriers)
{
    const char *pin = "{\"update_id\":6,\"message\":{\"message_id\":40,\"date\":1796000000,\"from\":{\"id\":501,"
                      "\"first_name\":\"А\"},\"chat\":{\"id\":501,\"type\":\"private\"},"
                      "\"location\":{\"latitude\":48.01,\"longitude\":37.8}}}";
    const char *move = "{\"update_id\":7,\"edited_message\":{\"message_id\":41,\"date\":1796000000,\"edit_date\":"
                       "1796000060,\"from\":{\"id\":501,\"first_name\":\"А\"},\"chat\":{\"id\":501,\"type\":"
                       "\"private\"},\"location\":{\"latitude\":48.02,\"longitude\":37.8,\"live_period\":900}}}";
    /* off shift: a pin is not a track point, it goes to the client flow */
    conv_ctx_t off = {.role = CONV_COURIER, .tg_user_id = 501, .step = "menu"};
    give_courier(&off, "f", "f", NULL);
    tg_update_t u = upd_json(pin);
    conv_out_t o;
    T_EQ_INT(conv_step(&off, &u, &o), RT_OK);
    for (int i = 0; i < o.nacts; i++)
        T_CHECK(o.acts[i].kind != CONV_ACT_SQL || !strstr(o.acts[i].sql, "courier_point"));
    T_CHECK(!said(&o, "Геопозиция транслируется"));
    conv_out_free(&o);
    tg_update_free(&u);
    /* on shift: a live move is a point, silently; after going stale it is welcomed back */
    conv_ctx_t on = {.role = CONV_COURIER, .tg_user_id = 501, .step = "menu"};
    give_courier(&on, "t", "f", "41");
    u = upd_json(move);
    T_EQ_INT(conv_step(&on, &u, &o), RT_OK);
    T_EQ_INT(count_acts(&o, CONV_ACT_SQL), 1);
    T_EQ_INT(count_acts(&o, CONV_ACT_CALL), 0);
    conv_out_free(&o);
    conv_ctx_t stale = {.role = CONV_COURIER, .tg_user_id = 501, .step = "menu"};
    give_courier(&stale, "t", "t", "41");
    T_EQ_INT(conv_step(&stale, &u, &o), RT_OK);
    T_CHECK(said(&o, "Геопозиция транслируется"));
    conv_out_free(&o);
    tg_update_free(&u);
    /* a client's live-location edit is ignored */
    conv_ctx_t client = {.role = CONV_CLIENT, .tg_user_id = 501, .step = "menu"};
    u = upd_json(move);
    T_EQ_INT(conv_step(&client, &u, &o), RT_OK);
    T_EQ_INT(o.nacts, 0);
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(courier_texts_are_in_the_catalogue)
{
    T_CHECK(strstr(text_get(T_BTN_SHIFT_START), "Начать смену") != NULL);
    T_CHECK(strstr(text_get(T_CR_STALE_RELEASED), "%d") != NULL);   /* the dispatcher turns it into %s */
    cJSON *kb = conv_courier_keyboard();
    char *s = cJSON_PrintUnformatted(kb);
    T_CHECK(strstr(s, "Закончить смену") && strstr(s, "Доставки на сегодня"));
    free(s);
    cJSON_Delete(kb);
}

T_MAIN()
