/* conv_track.c — the tracking feature: status by posting number, history,
 * subscription, "Мои заказы".
 *
 * Purpose: a bare posting number in the main menu, `/start <posting>`, the
 * «📦 Отследить» button, or «🔄 Обновить» under a status card show the
 * posting's status and history. The posting is looked up locally and, when
 * unknown, fetched from Ozon (the CONV_NEED_ORDER lookup does both).
 * Whoever tracks a posting is subscribed to its changes. Only its owner —
 * whose phone matches the Ozon customer, addressee or logistics recipient
 * phone (conv_watch.h), or who ordered
 * the delivery — sees details (pickup point, storage, items, address);
 * everybody else sees the status and its history.
 *
 * The number may come inside free text («заказ 12345678-0001-1», dashes of
 * any kind); an Ozon order number (12345678-0001) lists the order's
 * postings (known here, else its first posting is fetched from Ozon).
 * Operators and admins («🔎 Найти заказ») see every detail.
 *
 * Steps: "track_wait" (waiting for a number). Callbacks: "t:r:<posting>".
 * Exports: conv_feature_track, conv_track_posting, conv_track_order.
 * Threads: any (pure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_booking.h"
#include "conv_dialog.h"
#include "conv_pay.h"
#include "conv_watch.h"
#include "order_status.h"
#include "posting.h"
#include "rt.h"
#include "tg_markup.h"
#include "timefmt.h"
#include "utf8.h"

#define TRACK_CARD_MAX 3500
#define TRACK_ARG_CHARS 300    /* one stored value (items, address) on the card */

/* Append fmt (with `arg` cut to TRACK_ARG_CHARS characters and escaped,
 * when given) to the card; a piece that does not fit whole is left out, so
 * the card never ends inside a character, an entity or a tag. */
static void track_add(char *buf, size_t *len, const char *fmt, const char *arg)
{
    char *piece = NULL;
    if (arg) {
        size_t n = utf8_cut_chars(arg, TRACK_ARG_CHARS);
        char cut[TRACK_ARG_CHARS * 4 + sizeof "…"];
        memcpy(cut, arg, n);
        snprintf(cut + n, sizeof cut - n, "%s", arg[n] ? "…" : "");
        char *esc = tg_html_escape(cut);
        if (!esc || asprintf(&piece, fmt, esc) < 0) piece = NULL;
        free(esc);
    }
    const char *add = arg ? piece : fmt;
    size_t n = add ? strlen(add) : 0;
    if (add && *len + n < TRACK_CARD_MAX) {
        memcpy(buf + *len, add, n + 1);
        *len += n;
    }
    free(piece);
}

/* The card shows the details to the parcel's owner (conv_watch.h) and to
 * staff («🔎 Найти заказ»). */
static bool track_sees_details(const conv_ctx_t *ctx, conv_owner_t who)
{
    return who == CONV_OWNER_YES || ctx->role == CONV_OPERATOR || ctx->role == CONV_ADMIN;
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
    buf[0] = '\0';
    order_status_t st = ORDER_NONE;
    order_status_parse(conv_rows_value(o, 0, "status"), &st);
    char when[32];
    track_add(buf, &len, text_get(T_TRACK_HEAD), posting);
    track_add(buf, &len, "\n", NULL);
    track_add(buf, &len, text_get(T_TRACK_STATUS), order_status_name_ru(st));
    track_time(conv_rows_value(o, 0, "status_at_ms"), when, sizeof when);
    if (when[0]) track_add(buf, &len, text_get(T_TRACK_SINCE), when);
    conv_owner_t who = conv_order_owner(ctx, o);
    bool owner = track_sees_details(ctx, who);
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
        char payline[256];   /* «Оплачено» / «к оплате» (conv_pay.c) */
        conv_pay_order_line(o, 0, true, payline, sizeof payline);
        if (payline[0]) {
            track_add(buf, &len, "\n", NULL);
            track_add(buf, &len, payline, NULL);
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
            size_t keep = utf8_cut(p, n < sizeof line ? n : sizeof line - 1);
            memcpy(line, p, keep);
            line[keep] = '\0';
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
        if (who == CONV_OWNER_UNKNOWN) track_add(buf, &len, text_get(T_OWNER_UNKNOWN), posting);
        else track_add(buf, &len, text_get(T_TRACK_OWNER_HINT), NULL);
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
    conv_owner_t who = conv_order_owner(ctx, o);
    conv_watch_buttons(kb, posting, track_sees_details(ctx, who) ? CONV_OWNER_YES : who);
    conv_booking_buttons(o, posting, who == CONV_OWNER_YES, kb);   /* move / cancel a booked delivery */
    conv_say(out, chat, card, kb);
    free(card);
    char chat_s[24];
    snprintf(chat_s, sizeof chat_s, "%lld", (long long)chat);
    const char *params[] = {posting, chat_s};
    conv_sql(out, CONV_WATCH_SQL_TRACK, 2, params);
    return RT_OK;
}

/* A list of postings (rows posting_number, status) under `head`: one
 * "• <code>posting</code> — status" line and one «🔄» button each. */
static void track_list(const conv_rows_t *r, const char *head, const char *head_arg, int64_t chat, conv_out_t *out)
{
    char buf[TRACK_CARD_MAX];
    size_t len = 0;
    buf[0] = '\0';
    track_add(buf, &len, head, head_arg);
    cJSON *kb = tg_kb_inline_new();
    for (int i = 0; i < r->nrows && i < 20; i++) {
        const char *p = conv_rows_value(r, i, "posting_number");
        order_status_t st = ORDER_NONE;
        order_status_parse(conv_rows_value(r, i, "status"), &st);
        if (!p || !posting_is_valid(p)) continue;
        char line[256], payline[128], data[64];
        snprintf(line, sizeof line, text_get(T_TRACK_LIST_LINE), p, order_status_name_ru(st));
        track_add(buf, &len, line, NULL);
        conv_pay_order_line(r, i, false, payline, sizeof payline);   /* «Оплачено» / «К оплате» (conv_pay.c) */
        if (payline[0]) {
            track_add(buf, &len, " · ", NULL);
            track_add(buf, &len, payline, NULL);
        }
        snprintf(data, sizeof data, "t:r:%s", p);
        tg_kb_inline_button(tg_kb_inline_row(kb), p, data);
        if (conv_pay_enabled() && conv_pay_payable(r, i)) conv_pay_button(kb, p);
    }
    conv_say(out, chat, buf, kb);
}

int conv_track_order(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *order)
{
    const conv_rows_t *r = conv_lookup_find(ctx, CONV_NEED_ORDER_POSTINGS, order);
    if (!r) {
        conv_need(out, CONV_NEED_ORDER_POSTINGS, order);
        return RT_PENDING;
    }
    if (r->status == RT_OK && r->nrows == 0) {
        /* not known here: its first posting (<order>-1) is fetched from Ozon */
        char first[POSTING_MAX + 4];
        snprintf(first, sizeof first, "%s-1", order);
        const conv_rows_t *o = conv_lookup_find(ctx, CONV_NEED_ORDER, first);
        if (!o) {
            conv_need(out, CONV_NEED_ORDER, first);
            return RT_PENDING;
        }
        if (o->status == RT_OK && o->nrows > 0) return conv_track_posting(ctx, u, out, first);
        conv_sayf(out, u->chat_id, o->status == RT_OK || o->status == RT_ENOTFOUND ? T_ORDER_NOT_FOUND
                                                                                  : T_TRACK_UNAVAILABLE, order, NULL);
        return RT_OK;
    }
    if (r->status != RT_OK) {
        conv_sayf(out, u->chat_id, T_TRACK_UNAVAILABLE, order, NULL);
        return RT_OK;
    }
    track_list(r, text_get(T_ORDER_POSTINGS_HEAD), order, u->chat_id, out);
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
    track_list(r, text_get(T_MY_ORDERS_HEAD), NULL, u->chat_id, out);
    return RT_OK;
}

static bool track_claims(const conv_ctx_t *ctx, const char *text)
{
    return strcmp(text, text_get(T_BTN_TRACK)) == 0 ||
           (ctx->role != CONV_GUEST && strcmp(text, text_get(T_BTN_MY_ORDERS)) == 0) ||
           ((ctx->role == CONV_OPERATOR || ctx->role == CONV_ADMIN) && strcmp(text, text_get(T_BTN_FIND_ORDER)) == 0);
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
    char t[CONV_TEXT_MAX];
    utf8_trim_copy(t, sizeof t, u->text);
    if (strcmp(t, text_get(T_BTN_TRACK)) == 0 || strcmp(t, text_get(T_BTN_FIND_ORDER)) == 0) {
        conv_set_step(out, "track_wait", NULL);
        conv_say(out, u->chat_id, text_get(T_TRACK_ASK), NULL);
        return RT_OK;
    }
    if (strcmp(t, text_get(T_BTN_MY_ORDERS)) == 0) return track_my_orders(ctx, u, out);
    char number[POSTING_MAX];
    posting_kind_t kind = posting_find(t, number);
    if (kind != POSTING_NONE) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        return kind == POSTING_NUMBER ? conv_track_posting(ctx, u, out, number)
                                      : conv_track_order(ctx, u, out, number);
    }
    /* stay in track_wait; the echo is cut (and marked) by characters */
    conv_sayf(out, u->chat_id, T_TRACK_BAD_FORMAT, u->text ? u->text + strspn(u->text, " \t\r\n") : "", NULL);
    return RT_OK;
}

const conv_feature_t conv_feature_track = {
    .name = "track",
    .step_prefix = "track_",
    .callback_prefix = "t:",
    .on_update = track_on_update,
    .claims_button = track_claims,
};
