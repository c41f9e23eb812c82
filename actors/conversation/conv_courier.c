/* conv_courier.c — the courier in the chat (see conv_courier.h).
 *
 * Buttons (role courier): «▶️ Начать смену», «⏹ Закончить смену»,
 * «📋 Доставки на сегодня». Locations: a live location started as a
 * message, every move as an edited message of the same message_id, each a
 * track point through courier_point() (thinned there). The delivery card
 * (sent by the dispatcher, actors/couriers/dispatcher.c) carries
 *   cr:pk:<id>:<gen>  «✅ Забрал»           assigned → picked (order: out_for_delivery)
 *   cr:go:<id>:<gen>  «🚗 В пути к клиенту» picked → en_route («Курьер выехал», ETA, PIN)
 *   cr:ok:<id>:<gen>  «📦 Доставлено»       asks the client's PIN (step cr_pin)
 *   cr:ph:<id>:<gen>  «📷 Фото вместо PIN»  asks a photo (step cr_photo)
 *   cr:no:<id>:<gen>  «❌ Не удалось»        reasons cr:nr:<id>:<gen>:<h|a|r|b|o>
 * Every press is checked against the delivery as it is now: the courier
 * must be its courier, the generation the card's and the stage the one the
 * button belongs to; otherwise the press is answered and changes nothing.
 *
 * Steps: cr_pin, cr_photo, cr_fail (data "<id>:<gen>"). Callbacks: "cr:".
 * Exports: conv_feature_courier, conv_courier_location, conv_courier_keyboard.
 * Threads: any (pure).
 */
#include "conv_courier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pay.h"
#include "route.h"
#include "rt.h"
#include "tg_markup.h"

#define CR_PIN_TRIES 3
#define CR_DONE_MINUTE (48 * 60)   /* after every window of the day */

static const char cr_sql_shift_start[] = "SELECT courier_shift_start($1::bigint, $2)";
static const char cr_sql_shift_end[] = "SELECT courier_shift_end($1::bigint)";
static const char cr_sql_point[] =
    "SELECT courier_point($1::bigint, $2::float8, $3::float8, nullif($4, '')::float8, nullif($5, '')::int,"
    "                     to_timestamp($6::bigint), $7::int, $8::bigint, $9::boolean)";
static const char cr_sql_picked[] =
    "WITH d AS (UPDATE deliveries SET stage = 'picked', picked_at = now()"
    "            WHERE id = $1::bigint AND card_gen = $2::int AND stage = 'assigned' RETURNING courier_id)"
    " SELECT courier_publish(courier_id) FROM d";
static const char cr_sql_en_route[] =
    "WITH d AS (UPDATE deliveries SET stage = 'en_route', en_route_at = now(),"
    "                  eta_at = to_timestamp(nullif($3, '')::bigint / 1000.0)"
    "            WHERE id = $1::bigint AND card_gen = $2::int AND stage = 'picked' RETURNING courier_id)"
    " SELECT courier_publish(courier_id) FROM d";
static const char cr_sql_delivered[] =
    "WITH d AS (UPDATE deliveries SET stage = 'delivered', done_at = now(), proof_file_id = $3"
    "            WHERE id = $1::bigint AND card_gen = $2::int AND stage = 'en_route' AND NOT locked"
    "            RETURNING courier_id)"
    " SELECT courier_publish(courier_id) FROM d";
static const char cr_sql_pin_wrong[] =
    "UPDATE deliveries SET pin_tries = pin_tries + 1, locked = pin_tries + 1 >= $4::int"
    " WHERE id = $1::bigint AND card_gen = $2::int AND pin_tries = $3::int AND stage = 'en_route'";
/* The alert to every operator and admin who has a chat with the bot. */
static const char cr_sql_alert_staff[] =
    "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT u.chat_id, 'sendMessage',"
    "        json_build_object('chat_id', u.chat_id, 'text', $2::text, 'parse_mode', 'HTML',"
    "                          'reply_markup', $3::json)::text, 0, $1 || ':' || u.chat_id"
    "   FROM users u JOIN role_grants g ON g.phone = u.phone WHERE g.role IN ('operator', 'admin')"
    " ON CONFLICT (dedupe_key) DO NOTHING";
static const char cr_sql_failed[] =
    "WITH d AS (UPDATE deliveries SET stage = 'failed', fail_reason = $3, failed_attempts = failed_attempts + 1,"
    "                  done_at = now()"
    "            WHERE id = $1::bigint AND card_gen = $2::int AND stage IN ('picked', 'en_route')"
    "            RETURNING courier_id, posting_number),"
    "     h AS (INSERT INTO order_history (posting_number, status, source, at, event_id, comment, applied)"
    "           SELECT posting_number, 'out_for_delivery', 'courier', now(), 'courier:' || $1 || ':' || $2 || ':failed',"
    "                  $3, false FROM d)"
    " SELECT courier_publish(courier_id) FROM d";

cJSON *conv_courier_keyboard(void)
{
    cJSON *kb = tg_kb_reply_new(text_get(T_INPUT_PLACEHOLDER)), *row = tg_kb_reply_row(kb);
    tg_kb_reply_button(row, text_get(T_BTN_SHIFT_START), 0);
    tg_kb_reply_button(row, text_get(T_BTN_SHIFT_END), 0);
    row = tg_kb_reply_row(kb);
    tg_kb_reply_button(row, text_get(T_BTN_TODAY), 0);
    tg_kb_reply_button(row, text_get(T_BTN_TRACK), 0);
    tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_HELP), 0);
    return kb;
}

static const char *cr_i64(int64_t v, char *buf, size_t size)
{
    snprintf(buf, size, "%lld", (long long)v);
    return buf;
}

static bool cr_flag(const conv_rows_t *r, int row, const char *col)
{
    const char *v = conv_rows_value(r, row, col);
    return v && (v[0] == 't' || v[0] == '1');
}

/* The sender's couriers row, or RT_PENDING. *on_shift etc. filled when found. */
typedef struct cr_self {
    bool exists, on_shift, stale;
    bool on_the_way;             /* a delivery of theirs is en route: its client waits for news */
    int64_t live_message_id;
} cr_self_t;

static int cr_self_get(const conv_ctx_t *ctx, conv_out_t *out, cr_self_t *me)
{
    const conv_rows_t *r = conv_lookup_find(ctx, CONV_NEED_COURIER, "");
    if (!r) {
        conv_need(out, CONV_NEED_COURIER, "");
        return RT_PENDING;
    }
    memset(me, 0, sizeof *me);
    if (r->status != RT_OK) return RT_EIO;
    if (r->nrows == 0) return RT_OK;
    me->exists = true;
    me->on_shift = cr_flag(r, 0, "on_shift");
    me->stale = cr_flag(r, 0, "stale");
    me->on_the_way = cr_flag(r, 0, "on_the_way");
    const char *lm = conv_rows_value(r, 0, "live_message_id");
    me->live_message_id = lm ? strtoll(lm, NULL, 10) : 0;
    return RT_OK;
}

/* ---- shifts ---------------------------------------------------------------------- */

static int cr_shift_start(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    cr_self_t me;
    int rc = cr_self_get(ctx, out, &me);
    if (rc == RT_PENDING) return rc;
    char uid[24];
    const char *params[] = {cr_i64(ctx->tg_user_id, uid, sizeof uid), ctx->first_name};
    conv_sql(out, cr_sql_shift_start, 2, params);
    conv_say(out, u->chat_id, text_get(me.on_shift ? T_CR_SHIFT_ALREADY : T_CR_SHIFT_STARTED),
             conv_courier_keyboard());
    return RT_OK;
}

static int cr_shift_end(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    cr_self_t me;
    int rc = cr_self_get(ctx, out, &me);
    if (rc == RT_PENDING) return rc;
    const conv_rows_t *today = conv_lookup_find(ctx, CONV_NEED_COURIER_TODAY, "");
    if (!today) {
        conv_need(out, CONV_NEED_COURIER_TODAY, "");
        return RT_PENDING;
    }
    if (!me.on_shift) {
        conv_say(out, u->chat_id, text_get(T_CR_NOT_ON_SHIFT), conv_courier_keyboard());
        return RT_OK;
    }
    int released = 0;
    for (int i = 0; today->status == RT_OK && i < today->nrows; i++) {
        const char *stage = conv_rows_value(today, i, "stage");
        if (stage && strcmp(stage, "assigned") == 0) released++;
    }
    char uid[24], msg[512];
    const char *params[] = {cr_i64(ctx->tg_user_id, uid, sizeof uid)};
    conv_sql(out, cr_sql_shift_end, 1, params);
    if (released) snprintf(msg, sizeof msg, text_get(T_CR_SHIFT_ENDED_RELEASED), released);
    else snprintf(msg, sizeof msg, "%s", text_get(T_CR_SHIFT_ENDED));
    conv_say(out, u->chat_id, msg, conv_courier_keyboard());
    conv_set_step(out, conv_home_step(ctx->role), NULL);
    return RT_OK;
}

/* ---- today's route ------------------------------------------------------------------ */

static text_id_t cr_stage_text(const char *stage)
{
    if (!stage) return T_CR_STAGE_ASSIGNED;
    if (strcmp(stage, "picked") == 0) return T_CR_STAGE_PICKED;
    if (strcmp(stage, "en_route") == 0) return T_CR_STAGE_EN_ROUTE;
    if (strcmp(stage, "delivered") == 0) return T_CR_STAGE_DELIVERED;
    if (strcmp(stage, "failed") == 0) return T_CR_STAGE_FAILED;
    return T_CR_STAGE_ASSIGNED;
}

static int cr_minutes(const char *hhmm)
{
    int h = 0, m = 0;
    if (!hhmm || sscanf(hhmm, "%d:%d", &h, &m) != 2) return 0;
    return h * 60 + m;
}

static int cr_today(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const conv_rows_t *me = conv_lookup_find(ctx, CONV_NEED_COURIER, "");
    const conv_rows_t *t = conv_lookup_find(ctx, CONV_NEED_COURIER_TODAY, "");
    if (!me || !t) {
        if (!me) conv_need(out, CONV_NEED_COURIER, "");
        if (!t) conv_need(out, CONV_NEED_COURIER_TODAY, "");
        return RT_PENDING;
    }
    if (t->status != RT_OK || t->nrows == 0) {
        conv_say(out, u->chat_id, text_get(T_CR_TODAY_EMPTY), conv_courier_keyboard());
        return RT_OK;
    }
    int n = t->nrows < ROUTE_MAX_STOPS ? t->nrows : ROUTE_MAX_STOPS;
    route_stop_t stops[ROUTE_MAX_STOPS];
    int order[ROUTE_MAX_STOPS];
    for (int i = 0; i < n; i++) {
        const char *lat = conv_rows_value(t, i, "lat"), *lon = conv_rows_value(t, i, "lon");
        const char *stage = conv_rows_value(t, i, "stage");
        bool done = stage && (strcmp(stage, "delivered") == 0 || strcmp(stage, "failed") == 0);
        /* what is done is listed after the route, in the order of the day */
        stops[i] = (route_stop_t){.has_point = lat && lon && !done, .lat = lat ? atof(lat) : 0,
                                  .lon = lon ? atof(lon) : 0,
                                  .slot_minute = done ? CR_DONE_MINUTE : cr_minutes(conv_rows_value(t, i, "t_start"))};
    }
    const char *clat = me->status == RT_OK && me->nrows ? conv_rows_value(me, 0, "lat") : NULL;
    const char *clon = me->status == RT_OK && me->nrows ? conv_rows_value(me, 0, "lon") : NULL;
    bool has_start = clat && clon;
    double slat = has_start ? atof(clat) : 0, slon = has_start ? atof(clon) : 0;
    route_plan(stops, n, has_start, slat, slon, order);

    char msg[4096];
    size_t len = (size_t)snprintf(msg, sizeof msg, "%s", text_get(T_CR_TODAY_HEAD));
    for (int k = 0; k < n && len < sizeof msg; k++) {
        int i = order[k];
        char *addr = tg_html_escape(conv_rows_value(t, i, "address"));
        char line[768];
        snprintf(line, sizeof line, text_get(T_CR_TODAY_ITEM), k + 1, conv_rows_value(t, i, "posting_number"),
                 conv_rows_value(t, i, "t_start"), conv_rows_value(t, i, "t_end"), addr ? addr : "",
                 text_get(cr_stage_text(conv_rows_value(t, i, "stage"))));
        free(addr);
        if (len + 1 + strlen(line) >= sizeof msg) break;   /* whole lines only */
        len += (size_t)snprintf(msg + len, sizeof msg - len, "\n%s", line);
    }
    cJSON *kb = NULL;
    char link[2048];
    if (route_map_link(stops, order, n, has_start, slat, slon, link, sizeof link) == RT_OK) {
        kb = tg_kb_inline_new();
        cJSON *btn = cJSON_CreateObject();
        cJSON_AddStringToObject(btn, "text", text_get(T_CR_BTN_ROUTE));
        cJSON_AddStringToObject(btn, "url", link);
        cJSON_AddItemToArray(tg_kb_inline_row(kb), btn);
    }
    conv_say(out, u->chat_id, msg, kb);
    return RT_OK;
}

/* ---- locations ------------------------------------------------------------------------ */

int conv_courier_location(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    cr_self_t me;
    int rc = cr_self_get(ctx, out, &me);
    if (rc == RT_PENDING) return rc;
    bool edited = u->kind == TG_UPD_EDITED_MESSAGE;
    if (!me.on_shift) return edited ? RT_OK : RT_ENOTFOUND;
    char uid[24], lat[32], lon[32], acc[32] = "", head[16] = "", at[24], period[16], mid[24];
    snprintf(lat, sizeof lat, "%.7f", u->latitude);
    snprintf(lon, sizeof lon, "%.7f", u->longitude);
    if (u->horizontal_accuracy > 0) snprintf(acc, sizeof acc, "%.1f", u->horizontal_accuracy);
    if (u->heading > 0) snprintf(head, sizeof head, "%d", u->heading);
    cr_i64(edited && u->edit_date ? u->edit_date : u->date, at, sizeof at);
    snprintf(period, sizeof period, "%d", u->live_period);
    const char *params[] = {cr_i64(ctx->tg_user_id, uid, sizeof uid), lat, lon, acc, head, at, period,
                            cr_i64(u->message_id, mid, sizeof mid), edited ? "true" : "false"};
    conv_sql(out, cr_sql_point, 9, params);
    if (me.on_the_way) cc_poke_courier(out, ctx->tg_user_id);   /* ETA, «подъезжает» */
    if (!edited) {
        conv_say(out, u->chat_id, text_get(u->live_period > 0 ? T_CR_LIVE_ON : T_CR_STATIC), NULL);
    } else if (u->message_id == me.live_message_id) {
        if (u->live_period == 0) conv_say(out, u->chat_id, text_get(T_CR_LIVE_ENDED), NULL);
        else if (me.stale) conv_say(out, u->chat_id, text_get(T_CR_LIVE_ON), NULL);
    }
    return RT_OK;
}

/* ---- the card's buttons ----------------------------------------------------------------- */

static cJSON *cr_card_buttons(int64_t id, int gen, const char *stage)
{
    cJSON *kb = tg_kb_inline_new();
    char data[64];
    if (strcmp(stage, "picked") == 0) {
        snprintf(data, sizeof data, "cr:go:%lld:%d", (long long)id, gen);
        tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_CR_BTN_GO), data);
        snprintf(data, sizeof data, "cr:no:%lld:%d", (long long)id, gen);
        tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_CR_BTN_FAIL), data);
    } else {   /* en_route */
        cJSON *row = tg_kb_inline_row(kb);
        snprintf(data, sizeof data, "cr:ok:%lld:%d", (long long)id, gen);
        tg_kb_inline_button(row, text_get(T_CR_BTN_DONE), data);
        snprintf(data, sizeof data, "cr:no:%lld:%d", (long long)id, gen);
        tg_kb_inline_button(row, text_get(T_CR_BTN_FAIL), data);
    }
    return kb;
}

static cJSON *cr_photo_button(int64_t id, int gen)
{
    cJSON *kb = tg_kb_inline_new();
    char data[64];
    snprintf(data, sizeof data, "cr:ph:%lld:%d", (long long)id, gen);
    tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_CR_BTN_PHOTO), data);
    return kb;
}

static void cr_ref_params(const cc_delivery_t *d, char *id, char *gen)
{
    snprintf(id, 24, "%lld", (long long)d->id);
    snprintf(gen, 16, "%d", d->card_gen);
}

/* «🚗 В пути к клиенту»: the client learns the courier left, when they
 * arrive and the handover PIN. */
static void cr_go(const cc_delivery_t *d, const tg_update_t *u, conv_out_t *out)
{
    char id[24], gen[16], eta_ms[24] = "", msg[1024], key[64];
    cr_ref_params(d, id, gen);
    if (d->has_point && d->courier_has_point) {
        double m = route_distance_m(d->c_lat, d->c_lon, d->lat, d->lon);
        int64_t eta = d->now_ms + (int64_t)route_eta_s(m, 0) * 1000;
        char hhmm[8];
        cc_hhmm(eta, hhmm, sizeof hhmm);
        snprintf(eta_ms, sizeof eta_ms, "%lld", (long long)eta);
        snprintf(msg, sizeof msg, text_get(T_CL_COURIER_LEFT), d->posting, hhmm, d->pin);
    } else {
        snprintf(msg, sizeof msg, text_get(T_CL_COURIER_LEFT_NO_ETA), d->posting, d->t_start, d->t_end, d->pin);
    }
    const char *params[] = {id, gen, eta_ms};
    conv_sql(out, cr_sql_en_route, 3, params);
    if (d->client_chat) {
        snprintf(key, sizeof key, "left:%s:%s", id, gen);
        cc_send_to(out, d->client_chat, msg, NULL, key);
    }
    cc_poke_courier(out, d->courier_tg);
    conv_answer_callback(out, u, NULL);
    conv_say(out, u->chat_id, text_get(T_CR_GO), cr_card_buttons(d->id, d->card_gen, "en_route"));
}

static void cr_delivered(const conv_ctx_t *ctx, const cc_delivery_t *d, const tg_update_t *u, conv_out_t *out,
                         const char *photo)
{
    char id[24], gen[16], ev[80], key[64], msg[512];
    cr_ref_params(d, id, gen);
    const char *params[] = {id, gen, photo};
    conv_sql(out, cr_sql_delivered, 3, params);
    snprintf(ev, sizeof ev, "courier:%s:%s:delivered", id, gen);
    cc_order_event(out, d->posting, "delivered", ev, photo ? "photo" : "pin");
    if (photo && d->client_chat) {
        snprintf(key, sizeof key, "proof:%s:%s", id, gen);
        snprintf(msg, sizeof msg, text_get(T_CL_PROOF), d->posting);
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "chat_id", (double)d->client_chat);
        cJSON_AddStringToObject(p, "photo", photo);
        cJSON_AddStringToObject(p, "caption", msg);
        cJSON_AddStringToObject(p, "parse_mode", "HTML");
        char *s = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
        char chat[24];
        const char *q[] = {cr_i64(d->client_chat, chat, sizeof chat), s, key};
        conv_sql(out, "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
                      " VALUES ($1::bigint, 'sendPhoto', $2, 0, $3) ON CONFLICT (dedupe_key) DO NOTHING", 3, q);
        free(s);
    }
    conv_set_step(out, conv_home_step(ctx->role), NULL);
    conv_sayf(out, u->chat_id, T_CR_DELIVERED, d->posting, conv_courier_keyboard());
    if (!d->paid && d->price_kop > 0) {   /* cash or card on delivery: the courier marks it */
        char cb[64];
        cJSON *kb = tg_kb_inline_new();
        cJSON *row = tg_kb_inline_row(kb);
        snprintf(cb, sizeof cb, "cr:pc:%s:%s:c", id, gen);
        tg_kb_inline_button(row, text_get(T_CR_BTN_PAID_CASH), cb);
        snprintf(cb, sizeof cb, "cr:pc:%s:%s:k", id, gen);
        tg_kb_inline_button(row, text_get(T_CR_BTN_PAID_CARD), cb);
        conv_sayf(out, u->chat_id, T_CR_ASK_PAYMENT, d->posting, kb);
    }
}

static const struct { char code; text_id_t text; } cr_reasons[] = {
    {'h', T_CR_FAIL_NOT_HOME}, {'a', T_CR_FAIL_NO_ANSWER}, {'r', T_CR_FAIL_REFUSED},
    {'b', T_CR_FAIL_BAD_ADDRESS}, {'o', T_CR_FAIL_OTHER},
};

static void cr_failed(const cc_delivery_t *d, const tg_update_t *u, conv_out_t *out, const char *reason,
                      const conv_rows_t *slots)
{
    char id[24], gen[16], msg[1024], key[64];
    cr_ref_params(d, id, gen);
    const char *params[] = {id, gen, reason};
    conv_sql(out, cr_sql_failed, 3, params);
    if (d->client_chat) {
        char *esc = tg_html_escape(reason);
        cJSON *kb = cc_slot_keyboard(slots, d->id);
        if (kb) snprintf(msg, sizeof msg, text_get(T_CL_FAILED), d->posting, esc ? esc : "");
        else snprintf(msg, sizeof msg, "%s", text_get(T_CL_NO_SLOTS));
        free(esc);
        snprintf(key, sizeof key, "fail:%s:%s", id, gen);
        cc_send_to(out, d->client_chat, msg, kb, key);
    }
    cc_poke_courier(out, d->courier_tg);
    conv_set_step(out, "menu", NULL);
    conv_sayf(out, u->chat_id, T_CR_FAIL_DONE, d->posting, conv_courier_keyboard());
}

/* The delivery behind a card button or step, checked to be this courier's
 * current card. RT_OK, RT_PENDING, or RT_EINVAL after answering. */
static int cr_mine(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, int64_t id, int gen,
                   cc_delivery_t *d)
{
    int rc = cc_delivery_get(ctx, out, id, d);
    if (rc == RT_PENDING) return rc;
    if (rc != RT_OK || !d->ordered || d->courier_tg != ctx->tg_user_id || d->card_gen != gen) {
        if (u->kind == TG_UPD_CALLBACK) conv_answer_callback(out, u, text_get(T_CR_CARD_STALE));
        else conv_say(out, u->chat_id, text_get(T_CR_CARD_STALE), conv_courier_keyboard());
        conv_set_step(out, "menu", NULL);
        return RT_EINVAL;
    }
    return RT_OK;
}

static int cr_on_callback(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const char *data = u->callback_data;
    int64_t id;
    int gen;
    const char *rest = NULL;
    if (strlen(data) < 7 || !cc_parse_ref(data + 6, &id, &gen, &rest)) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    if (ctx->role != CONV_COURIER) {   /* a client or anyone else: refused, nothing changes */
        conv_answer_callback(out, u, text_get(T_CR_NOT_YOURS));
        return RT_OK;
    }
    cc_delivery_t d;
    int rc = cr_mine(ctx, u, out, id, gen, &d);
    if (rc != RT_OK) return rc == RT_PENDING ? rc : RT_OK;
    const char *op = data + 3;
    char id_s[24], gen_s[16], ev[80];
    cr_ref_params(&d, id_s, gen_s);
    if (strncmp(op, "pk:", 3) == 0 && strcmp(d.stage, "assigned") == 0) {
        const char *params[] = {id_s, gen_s};
        conv_sql(out, cr_sql_picked, 2, params);
        snprintf(ev, sizeof ev, "courier:%s:%s:picked", id_s, gen_s);
        cc_order_event(out, d.posting, "out_for_delivery", ev, NULL);
        conv_answer_callback(out, u, NULL);
        conv_sayf(out, u->chat_id, T_CR_PICKED, d.posting, cr_card_buttons(d.id, d.card_gen, "picked"));
        return RT_OK;
    }
    if (strncmp(op, "go:", 3) == 0 && strcmp(d.stage, "picked") == 0) {
        cr_go(&d, u, out);
        return RT_OK;
    }
    bool en_route = strcmp(d.stage, "en_route") == 0;
    if ((strncmp(op, "ok:", 3) == 0 || strncmp(op, "ph:", 3) == 0) && en_route) {
        conv_answer_callback(out, u, NULL);
        if (d.locked) {
            conv_say(out, u->chat_id, text_get(T_CR_LOCKED), NULL);
            return RT_OK;
        }
        char step_data[48];
        snprintf(step_data, sizeof step_data, "%s:%s", id_s, gen_s);
        if (op[0] == 'o') {
            conv_set_step(out, "cr_pin", step_data);
            conv_sayf(out, u->chat_id, T_CR_ASK_PIN, d.posting, cr_photo_button(d.id, d.card_gen));
        } else {
            conv_set_step(out, "cr_photo", step_data);
            conv_say(out, u->chat_id, text_get(T_CR_ASK_PHOTO), NULL);
        }
        return RT_OK;
    }
    bool can_fail = en_route || strcmp(d.stage, "picked") == 0;
    if (strncmp(op, "no:", 3) == 0 && can_fail) {
        cJSON *kb = tg_kb_inline_new();
        for (size_t i = 0; i < sizeof cr_reasons / sizeof cr_reasons[0]; i++) {
            char cb[64];
            snprintf(cb, sizeof cb, "cr:nr:%s:%s:%c", id_s, gen_s, cr_reasons[i].code);
            tg_kb_inline_button(tg_kb_inline_row(kb), text_get(cr_reasons[i].text), cb);
        }
        conv_answer_callback(out, u, NULL);
        conv_sayf(out, u->chat_id, T_CR_FAIL_ASK, d.posting, kb);
        return RT_OK;
    }
    if (strncmp(op, "nr:", 3) == 0 && can_fail && rest && rest[0] && !rest[1]) {
        for (size_t i = 0; i < sizeof cr_reasons / sizeof cr_reasons[0]; i++) {
            if (cr_reasons[i].code != rest[0]) continue;
            const conv_rows_t *slots = conv_lookup_find(ctx, CONV_NEED_DELIVERY_SLOTS, id_s);
            if (!slots && rest[0] != 'o') {
                conv_need(out, CONV_NEED_DELIVERY_SLOTS, id_s);
                return RT_PENDING;
            }
            conv_answer_callback(out, u, NULL);
            if (rest[0] == 'o') {
                char step_data[48];
                snprintf(step_data, sizeof step_data, "%s:%s", id_s, gen_s);
                conv_set_step(out, "cr_fail", step_data);
                conv_say(out, u->chat_id, text_get(T_CR_FAIL_COMMENT), NULL);
                return RT_OK;
            }
            cr_failed(&d, u, out, text_get(cr_reasons[i].text), slots);
            return RT_OK;
        }
    }
    if (strncmp(op, "pc:", 3) == 0 && strcmp(d.stage, "delivered") == 0 && rest && (rest[0] == 'c' || rest[0] == 'k') &&
        !rest[1]) {
        conv_answer_callback(out, u, NULL);
        if (d.paid) {
            conv_sayf(out, u->chat_id, T_CR_ALREADY_PAID, d.posting, NULL);
            return RT_OK;
        }
        char who[40];
        snprintf(who, sizeof who, "courier:%lld", (long long)ctx->tg_user_id);
        const char *params[] = {d.posting, rest[0] == 'c' ? "cash" : "card", who};
        conv_sql(out, PAY_SQL_PAID_HAND, 3, params);   /* one confirmed attempt; the payment actor settles it */
        conv_sayf(out, u->chat_id, T_CR_PAYMENT_MARKED, d.posting, NULL);
        return RT_OK;
    }
    conv_answer_callback(out, u, text_get(T_CR_CARD_STALE));
    return RT_OK;
}

/* ---- steps: PIN, photo, a failure's comment ---------------------------------------------- */

/* Compare two short strings without an early exit on the first difference. */
static bool cr_pin_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned diff = (unsigned)(la ^ lb);
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0 && la > 0;
}

static bool cr_is_pin(const char *t)
{
    if (!t || strlen(t) != 4) return false;
    for (int i = 0; i < 4; i++)
        if (t[i] < '0' || t[i] > '9') return false;
    return true;
}

static void cr_pin_wrong(const cc_delivery_t *d, const tg_update_t *u, conv_out_t *out)
{
    char id[24], gen[16], tries[16], limit[16];
    cr_ref_params(d, id, gen);
    snprintf(tries, sizeof tries, "%d", d->pin_tries);
    snprintf(limit, sizeof limit, "%d", CR_PIN_TRIES);
    const char *params[] = {id, gen, tries, limit};
    conv_sql(out, cr_sql_pin_wrong, 4, params);
    int left = CR_PIN_TRIES - d->pin_tries - 1;
    if (left > 0) {
        char msg[256];
        snprintf(msg, sizeof msg, text_get(T_CR_PIN_WRONG), left);
        conv_say(out, u->chat_id, msg, cr_photo_button(d->id, d->card_gen));
        return;
    }
    char key[64], alert[1024], cb[64];
    char *name = tg_html_escape(d->courier_name);
    snprintf(alert, sizeof alert, text_get(T_CR_LOCKED_ALERT), name ? name : "", d->posting);
    free(name);
    snprintf(key, sizeof key, "lock:%s:%s", id, gen);
    snprintf(cb, sizeof cb, "oa:ul:%s:%s", id, gen);
    cJSON *kb = tg_kb_inline_new();
    tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_CR_BTN_UNLOCK), cb);
    char *markup = cJSON_PrintUnformatted(kb);
    cJSON_Delete(kb);
    const char *q[] = {key, alert, markup};
    conv_sql(out, cr_sql_alert_staff, 3, q);
    free(markup);
    conv_set_step(out, "menu", NULL);
    conv_say(out, u->chat_id, text_get(T_CR_PIN_LOCKED), conv_courier_keyboard());
}

static int cr_on_step(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    int64_t id;
    int gen;
    if (!cc_parse_ref(ctx->data, &id, &gen, NULL)) {
        conv_set_step(out, "menu", NULL);
        conv_say(out, u->chat_id, text_get(T_CR_CARD_STALE), conv_courier_keyboard());
        return RT_OK;
    }
    cc_delivery_t d;
    int rc = cr_mine(ctx, u, out, id, gen, &d);
    if (rc != RT_OK) return rc == RT_PENDING ? rc : RT_OK;
    bool pin_step = strcmp(ctx->step, "cr_pin") == 0, photo_step = strcmp(ctx->step, "cr_photo") == 0;
    if (pin_step || photo_step) {
        if (strcmp(d.stage, "en_route") != 0) {
            conv_set_step(out, "menu", NULL);
            conv_say(out, u->chat_id, text_get(T_CR_CARD_STALE), conv_courier_keyboard());
            return RT_OK;
        }
        if (d.locked) {
            conv_set_step(out, "menu", NULL);
            conv_say(out, u->chat_id, text_get(T_CR_LOCKED), conv_courier_keyboard());
            return RT_OK;
        }
        if (u->photo_file_id) {
            cr_delivered(ctx, &d, u, out, u->photo_file_id);
            return RT_OK;
        }
        if (photo_step) {
            conv_say(out, u->chat_id, text_get(T_CR_PHOTO_NEEDED), NULL);
            return RT_OK;
        }
        const char *t = u->text ? u->text : "";
        while (*t == ' ') t++;
        char pin[8] = "";
        snprintf(pin, sizeof pin, "%.4s", t);
        if (!cr_is_pin(pin) || strlen(t) > 4) {
            conv_say(out, u->chat_id, text_get(T_CR_PIN_FORMAT), cr_photo_button(d.id, d.card_gen));
            return RT_OK;
        }
        if (cr_pin_equal(pin, d.pin)) cr_delivered(ctx, &d, u, out, NULL);
        else cr_pin_wrong(&d, u, out);
        return RT_OK;
    }
    /* cr_fail: the comment of «Другое» */
    if (!u->text || !u->text[0]) {
        conv_say(out, u->chat_id, text_get(T_CR_FAIL_COMMENT), NULL);
        return RT_OK;
    }
    if (strcmp(d.stage, "picked") != 0 && strcmp(d.stage, "en_route") != 0) {
        conv_set_step(out, "menu", NULL);
        conv_say(out, u->chat_id, text_get(T_CR_CARD_STALE), conv_courier_keyboard());
        return RT_OK;
    }
    char id_s[24];
    snprintf(id_s, sizeof id_s, "%lld", (long long)d.id);
    const conv_rows_t *slots = conv_lookup_find(ctx, CONV_NEED_DELIVERY_SLOTS, id_s);
    if (!slots) {
        conv_need(out, CONV_NEED_DELIVERY_SLOTS, id_s);
        return RT_PENDING;
    }
    char reason[400];
    snprintf(reason, sizeof reason, "%s: %s", text_get(T_CR_FAIL_OTHER), u->text);
    cc_utf8_trim(reason);
    cr_failed(&d, u, out, reason, slots);
    return RT_OK;
}

/* ---- the feature ------------------------------------------------------------------------- */

static bool cr_claims(const conv_ctx_t *ctx, const char *text)
{
    return ctx->role == CONV_COURIER &&
           (strcmp(text, text_get(T_BTN_SHIFT_START)) == 0 || strcmp(text, text_get(T_BTN_SHIFT_END)) == 0 ||
            strcmp(text, text_get(T_BTN_TODAY)) == 0);
}

static int cr_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind == TG_UPD_CALLBACK) return cr_on_callback(ctx, u, out);
    const char *text = u->text ? u->text : "";
    if (cr_claims(ctx, text)) {
        conv_set_step(out, "menu", NULL);
        if (strcmp(text, text_get(T_BTN_SHIFT_START)) == 0) return cr_shift_start(ctx, u, out);
        if (strcmp(text, text_get(T_BTN_SHIFT_END)) == 0) return cr_shift_end(ctx, u, out);
        return cr_today(ctx, u, out);
    }
    if (ctx->role != CONV_COURIER) {   /* a step left over from a role taken away */
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_say(out, u->chat_id, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    return cr_on_step(ctx, u, out);
}

const conv_feature_t conv_feature_courier = {
    .name = "courier",
    .step_prefix = "cr_",
    .callback_prefix = "cr:",
    .on_update = cr_on_update,
    .claims_button = cr_claims,
    .takes_media = true,   /* the photo proof of cr_pin / cr_photo; other media are told what is awaited */
};
