/* conv_track.c — the tracking feature: status by posting number, history,
 * subscription, "Мои заказы".
 *
 * Purpose: a bare posting number in the main menu, `/start <posting>`, the
 * «📦 Отследить» button, or «🔄 Обновить» under a status card show the
 * posting's status and history. The posting is looked up locally and, when
 * unknown, fetched from Ozon (the CONV_NEED_ORDER lookup does both).
 * Whoever tracks a posting is subscribed to its changes. Only its owner —
 * whose phone matches the Ozon customer or addressee phone, or who ordered
 * the delivery — sees details (pickup point, storage, items, address);
 * everybody else sees the status and its history.
 *
 * Steps: "track_wait" (waiting for a number). Callbacks: "t:r:<posting>".
 * Exports: conv_feature_track, conv_track_posting.
 * Threads: any (pure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_booking.h"
#include "conv_dialog.h"
#include "order_status.h"
#include "posting.h"
#include "rt.h"
#include "tg_markup.h"
#include "timefmt.h"

#define TRACK_CARD_MAX 3500

static void track_add(char *buf, size_t *len, const char *fmt, const char *arg)
{
    size_t room = TRACK_CARD_MAX - *len;
    if (room <= 1) return;
    char *esc = arg ? tg_html_escape(arg) : NULL;
    int n = arg ? snprintf(buf + *len, room, fmt, esc ? esc : "") : snprintf(buf + *len, room, "%s", fmt);
    free(esc);
    if (n > 0) *len += (size_t)n < room ? (size_t)n : room - 1;
}

static bool track_is_owner(const conv_ctx_t *ctx, const conv_rows_t *o)
{
    const char *cp = conv_rows_value(o, 0, "customer_phone"), *ap = conv_rows_value(o, 0, "addressee_phone");
    const char *by = conv_rows_value(o, 0, "ordered_by");
    if (ctx->phone[0] && ((cp && strcmp(cp, ctx->phone) == 0) || (ap && strcmp(ap, ctx->phone) == 0))) return true;
    return by && ctx->tg_user_id && strtoll(by, NULL, 10) == ctx->tg_user_id;
}

static void track_time(const char *ms, char *out, size_t outsz)
{
    out[0] = '\0';
    if (ms && *ms) timefmt_msk(strtoll(ms, NULL, 10), out, outsz);
}

/* The status card. History lines come as "status|at_ms" joined by '\n'. */
static void track_card(const conv_ctx_t *ctx, const conv_rows_t *o, const char *posting, char *buf)
{
    size_t len = 0;
    order_status_t st = ORDER_NONE;
    order_status_parse(conv_rows_value(o, 0, "status"), &st);
    char when[32];
    track_add(buf, &len, text_get(T_TRACK_HEAD), posting);
    track_add(buf, &len, "\n", NULL);
    track_add(buf, &len, text_get(T_TRACK_STATUS), order_status_name_ru(st));
    track_time(conv_rows_value(o, 0, "status_at_ms"), when, sizeof when);
    if (when[0]) track_add(buf, &len, text_get(T_TRACK_SINCE), when);
    bool owner = track_is_owner(ctx, o);
    if (owner) {
        const char *v;
        if ((v = conv_rows_value(o, 0, "pickup_point")) && *v && st == ORDER_AT_PICKUP_POINT) {
            track_add(buf, &len, "\n", NULL);
            track_add(buf, &len, text_get(T_TRACK_PICKUP), v);
            track_time(conv_rows_value(o, 0, "storage_until_ms"), when, sizeof when);
            if (when[0]) {
                track_add(buf, &len, "\n", NULL);
                track_add(buf, &len, text_get(T_TRACK_STORAGE), when);
            }
        }
        if ((v = conv_rows_value(o, 0, "delivery_address")) && *v) {
            track_add(buf, &len, "\n", NULL);
            track_add(buf, &len, text_get(T_TRACK_ADDRESS), v);
        }
        if ((v = conv_rows_value(o, 0, "item_names")) && *v) {
            track_add(buf, &len, "\n", NULL);
            track_add(buf, &len, text_get(T_TRACK_ITEMS), v);
        }
    }
    const char *hist = conv_rows_value(o, 0, "history");
    if (hist && *hist) {
        track_add(buf, &len, "\n\n", NULL);
        track_add(buf, &len, text_get(T_TRACK_HISTORY), NULL);
        char line[128];
        for (const char *p = hist; *p;) {
            size_t n = strcspn(p, "\n");
            snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
            p += n + (p[n] == '\n');
            char *bar = strchr(line, '|');
            if (!bar) continue;
            *bar = '\0';
            order_status_t hs = ORDER_NONE;
            if (order_status_parse(line, &hs) != RT_OK) continue;
            track_time(bar + 1, when, sizeof when);
            char item[160];
            snprintf(item, sizeof item, "\n• %s — %s", when, order_status_name_ru(hs));
            track_add(buf, &len, item, NULL);
        }
    }
    track_add(buf, &len, "\n\n", NULL);
    track_add(buf, &len, text_get(T_TRACK_SUBSCRIBED), NULL);
    if (!owner) {
        track_add(buf, &len, "\n", NULL);
        track_add(buf, &len, text_get(T_TRACK_OWNER_HINT), NULL);
    }
}

int conv_track_posting(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting)
{
    const conv_rows_t *o = conv_lookup_find(ctx, CONV_NEED_ORDER, posting);
    if (!o) {
        conv_need(out, CONV_NEED_ORDER, posting);
        return RT_PENDING;
    }
    int64_t chat = u->chat_id;
    if (o->status == RT_ENOTFOUND || (o->status == RT_OK && o->nrows == 0)) {
        conv_sayf(out, chat, T_TRACK_NOT_FOUND, posting, NULL);
        return RT_OK;
    }
    if (o->status != RT_OK) {
        conv_sayf(out, chat, T_TRACK_UNAVAILABLE, posting, NULL);
        return RT_OK;
    }
    char *card = malloc(TRACK_CARD_MAX);
    if (!card) return RT_ENOMEM;
    track_card(ctx, o, posting, card);
    cJSON *kb = tg_kb_inline_new();
    char data[64];
    snprintf(data, sizeof data, "t:r:%s", posting);
    tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_BTN_REFRESH), data);
    conv_booking_buttons(o, posting, track_is_owner(ctx, o), kb);   /* move / cancel a booked delivery */
    conv_say(out, chat, card, kb);
    free(card);
    char chat_s[24];
    snprintf(chat_s, sizeof chat_s, "%lld", (long long)chat);
    const char *params[] = {posting, chat_s};
    conv_sql(out, "INSERT INTO order_subscribers (posting_number, chat_id) VALUES ($1, $2)"
                  " ON CONFLICT DO NOTHING", 2, params);
    return RT_OK;
}

static int track_my_orders(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const conv_rows_t *r = conv_lookup_find(ctx, CONV_NEED_MY_ORDERS, "");
    if (!r) {
        conv_need(out, CONV_NEED_MY_ORDERS, "");
        return RT_PENDING;
    }
    if (r->status != RT_OK || r->nrows == 0) {
        conv_say(out, u->chat_id, text_get(T_MY_ORDERS_EMPTY), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    char buf[TRACK_CARD_MAX];
    size_t len = 0;
    track_add(buf, &len, text_get(T_MY_ORDERS_HEAD), NULL);
    cJSON *kb = tg_kb_inline_new();
    for (int i = 0; i < r->nrows && i < 20; i++) {
        const char *p = conv_rows_value(r, i, "posting_number");
        order_status_t st = ORDER_NONE;
        order_status_parse(conv_rows_value(r, i, "status"), &st);
        if (!p) continue;
        char line[128];
        snprintf(line, sizeof line, "\n• <code>%s</code> — %s", p, order_status_name_ru(st));
        track_add(buf, &len, line, NULL);
        char data[64];
        snprintf(data, sizeof data, "t:r:%s", p);
        tg_kb_inline_button(tg_kb_inline_row(kb), p, data);
    }
    conv_say(out, u->chat_id, buf, kb);
    return RT_OK;
}

static bool track_claims(const conv_ctx_t *ctx, const char *text)
{
    return strcmp(text, text_get(T_BTN_TRACK)) == 0 ||
           (ctx->role != CONV_GUEST && strcmp(text, text_get(T_BTN_MY_ORDERS)) == 0);
}

static int track_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind == TG_UPD_CALLBACK) {
        const char *posting = u->callback_data + 4;   /* "t:r:" */
        if (strncmp(u->callback_data, "t:r:", 4) != 0 || !posting_is_valid(posting)) {
            conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
            return RT_OK;
        }
        int rc = conv_track_posting(ctx, u, out, posting);
        if (rc == RT_OK) conv_answer_callback(out, u, NULL);
        return rc;
    }
    char text[256];
    snprintf(text, sizeof text, "%s", u->text ? u->text : "");
    char *t = text;
    while (*t == ' ' || *t == '\n') t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n')) t[--n] = '\0';
    if (strcmp(t, text_get(T_BTN_TRACK)) == 0) {
        conv_set_step(out, "track_wait", NULL);
        conv_say(out, u->chat_id, text_get(T_TRACK_ASK), NULL);
        return RT_OK;
    }
    if (strcmp(t, text_get(T_BTN_MY_ORDERS)) == 0) return track_my_orders(ctx, u, out);
    if (posting_is_valid(t)) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        return conv_track_posting(ctx, u, out, t);
    }
    conv_sayf(out, u->chat_id, T_TRACK_BAD_FORMAT, t, NULL);   /* stay in track_wait */
    return RT_OK;
}

const conv_feature_t conv_feature_track = {
    .name = "track",
    .step_prefix = "track_",
    .callback_prefix = "t:",
    .on_update = track_on_update,
    .claims_button = track_claims,
};
