/* conv_booking.c — cancel or move a booked courier delivery (conv_booking.h).
 *
 * Purpose: the buttons under the order card of a posting with an ordered
 * delivery, for its owner (whoever booked it, or the person whose phone is
 * the posting's customer or addressee phone):
 *   dl:x:<posting>   «❌ Отменить доставку» — asks «Отменить …?» with
 *                    dl:xy:<posting> «Да, отменить» / dl:k «Нет, оставить»;
 *   dl:xy:<posting>  cancels: SQL delivery_cancel (sql/014) in the update's
 *                    transaction — the window's place is freed, an audit row
 *                    and the outbound event delivery.cancelled are written;
 *   dl:m:<posting>   «🕑 Перенести доставку» — the zone's windows with room
 *                    for the next three days except the current one;
 *   dl:ms:<posting>:<yyyymmdd>:<slot>  moves: SQL delivery_move (locks the
 *                    window, refuses a full one), event delivery.moved.
 * Every change is allowed only while the window starts more than the
 * cut-off (PLUS7_BOOKING_CUTOFF_MIN) from now: the lookup says so
 * (starts_in_min), and the SQL functions check it again under the row lock
 * (SQLSTATE P7F05; a full window P7F01) — a refusal aborts the update's
 * transaction, the conversation replays the update, and the fresh lookup
 * then gives the person the right answer. Every press is answered.
 *
 * Steps: none. Callbacks: "dl:".
 * Exports: see conv_booking.h. Threads: any (pure); the setter on the main
 * thread before workers start.
 */
#include "conv_booking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_booking_cb.h"
#include "conv_form.h"
#include "posting.h"
#include "rt.h"
#include "tg_markup.h"

/* Written once by the main thread before the workers start (thread
 * creation orders it before every read); read-only afterwards. */
static int bk_cutoff_min = 120;

void conv_booking_set_cutoff_min(int minutes)
{
    if (minutes >= 0 && minutes <= 10080) bk_cutoff_min = minutes;
}

int conv_booking_cutoff_min(void) { return bk_cutoff_min; }

static const char bk_sql_cancel[] = "SELECT delivery_cancel($1, $2::bigint, $3::int)";
static const char bk_sql_move[] =
    "SELECT delivery_move($1, $2::bigint, $3::int, to_date($4, 'YYYYMMDD'), $5::int)";

void conv_booking_buttons(const conv_rows_t *o, const char *posting, bool owner, cJSON *kb)
{
    const char *d = conv_rows_value(o, 0, "delivery_address");
    if (!owner || !d || !*d || !posting_is_valid(posting)) return;
    char move[TG_CALLBACK_DATA_MAX + 1], cancel[TG_CALLBACK_DATA_MAX + 1];
    snprintf(move, sizeof move, "dl:m:%s", posting);
    snprintf(cancel, sizeof cancel, "dl:x:%s", posting);
    cJSON *row = tg_kb_inline_row(kb);
    tg_kb_inline_button(row, text_get(T_BTN_BOOK_MOVE), move);
    tg_kb_inline_button(row, text_get(T_BTN_BOOK_CANCEL), cancel);
}

static bool bk_is_owner(const conv_ctx_t *ctx, const conv_rows_t *b)
{
    const char *by = conv_rows_value(b, 0, "tg_user_id");
    const char *cp = conv_rows_value(b, 0, "customer_phone"), *ap = conv_rows_value(b, 0, "addressee_phone");
    if (by && ctx->tg_user_id && strtoll(by, NULL, 10) == ctx->tg_user_id) return true;
    return ctx->phone[0] && ((cp && strcmp(cp, ctx->phone) == 0) || (ap && strcmp(ap, ctx->phone) == 0));
}

static void bk_esc(const char *s, char *out, size_t outsz)
{
    char *e = tg_html_escape(s ? s : "");
    snprintf(out, outsz, "%s", e ? e : "");
    free(e);
}

/* The delivery's window as "пт, 15.05 · 10:00–14:00", HTML-escaped. */
static void bk_window(const conv_rows_t *b, char *out, size_t outsz)
{
    char label[128];
    conv_form_slot_label(conv_rows_value(b, 0, "day"), conv_rows_value(b, 0, "t_start"),
                         conv_rows_value(b, 0, "t_end"), label, sizeof label);
    bk_esc(label, out, outsz);
}

static int bk_cancel_ask(const tg_update_t *u, conv_out_t *out, const char *posting, const conv_rows_t *b)
{
    char pesc[64], aesc[2600], wesc[256], msg[3200], yes[TG_CALLBACK_DATA_MAX + 1];
    bk_esc(posting, pesc, sizeof pesc);
    bk_esc(conv_rows_value(b, 0, "address"), aesc, sizeof aesc);
    bk_window(b, wesc, sizeof wesc);
    snprintf(msg, sizeof msg, text_get(T_BOOK_CANCEL_ASK), pesc, aesc, wesc);
    snprintf(yes, sizeof yes, "dl:xy:%s", posting);
    cJSON *kb = tg_kb_inline_new();
    cJSON *row = tg_kb_inline_row(kb);
    tg_kb_inline_button(row, text_get(T_BTN_BOOK_CANCEL_YES), yes);
    tg_kb_inline_button(row, text_get(T_BTN_BOOK_KEEP), "dl:k");
    conv_answer_callback(out, u, NULL);
    conv_say(out, u->chat_id, msg, kb);
    return RT_OK;
}

static int bk_cancel(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting)
{
    char uid[24], cutoff[16];
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->tg_user_id);
    snprintf(cutoff, sizeof cutoff, "%d", bk_cutoff_min);
    const char *params[] = {posting, uid, cutoff};
    conv_sql(out, bk_sql_cancel, 3, params);
    out->kick_logistics = true;   /* delivery_cancel queued delivery.cancelled */
    conv_answer_callback(out, u, NULL);
    conv_sayf(out, u->chat_id, T_BOOK_CANCELLED, posting, conv_menu_keyboard(ctx->role));
    return RT_OK;
}

/* The windows to move to; needs the zone's slots lookup. */
static int bk_move_ask(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting,
                       const conv_rows_t *b)
{
    const char *zone = conv_rows_value(b, 0, "zone_id");
    const conv_rows_t *slots = conv_lookup_find(ctx, CONV_NEED_FORM_SLOTS, zone ? zone : "");
    if (!slots) {
        conv_need(out, CONV_NEED_FORM_SLOTS, zone ? zone : "");
        return RT_PENDING;
    }
    char pesc[64], wesc[256], msg[1024], prefix[TG_CALLBACK_DATA_MAX + 1];
    bk_esc(posting, pesc, sizeof pesc);
    bk_window(b, wesc, sizeof wesc);
    snprintf(prefix, sizeof prefix, "dl:ms:%s:", posting);
    cJSON *kb = tg_kb_inline_new();
    const char *slot = conv_rows_value(b, 0, "slot_id");
    int offered = conv_form_slot_buttons(slots, kb, prefix, conv_rows_value(b, 0, "day"), slot ? atoi(slot) : 0);
    conv_answer_callback(out, u, NULL);
    if (!offered) {
        cJSON_Delete(kb);
        snprintf(msg, sizeof msg, text_get(T_BOOK_MOVE_NONE), wesc);
        conv_say(out, u->chat_id, msg, NULL);
        return RT_OK;
    }
    snprintf(msg, sizeof msg, text_get(T_BOOK_MOVE_ASK), pesc, wesc);
    conv_say(out, u->chat_id, msg, kb);
    return RT_OK;
}

static int bk_move(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting,
                   const conv_rows_t *b, const char *day, int slot)
{
    const char *zone = conv_rows_value(b, 0, "zone_id");
    const conv_rows_t *slots = conv_lookup_find(ctx, CONV_NEED_FORM_SLOTS, zone ? zone : "");
    if (!slots) {
        conv_need(out, CONV_NEED_FORM_SLOTS, zone ? zone : "");
        return RT_PENDING;
    }
    int row = -1;
    for (int i = 0; slots->status == RT_OK && i < slots->nrows; i++) {
        const char *d = conv_rows_value(slots, i, "day"), *id = conv_rows_value(slots, i, "slot_id");
        const char *cap = conv_rows_value(slots, i, "capacity"), *taken = conv_rows_value(slots, i, "taken");
        if (d && id && cap && taken && strcmp(d, day) == 0 && atoi(id) == slot && atoll(taken) < atoll(cap))
            row = i;
    }
    if (row < 0) {   /* full meanwhile, or no longer offered: show what there is */
        conv_answer_callback(out, u, text_get(T_FORM_SLOT_TAKEN));
        return bk_move_ask(ctx, u, out, posting, b);
    }
    char uid[24], cutoff[16], slot_s[16], label[128], lesc[256], msg[1024];
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->tg_user_id);
    snprintf(cutoff, sizeof cutoff, "%d", bk_cutoff_min);
    snprintf(slot_s, sizeof slot_s, "%d", slot);
    const char *params[] = {posting, uid, slot_s, day, cutoff};
    conv_sql(out, bk_sql_move, 5, params);
    out->kick_logistics = true;   /* delivery_move queued delivery.moved */
    conv_form_slot_label(day, conv_rows_value(slots, row, "t_start"), conv_rows_value(slots, row, "t_end"), label,
                         sizeof label);
    bk_esc(label, lesc, sizeof lesc);
    char pesc[64];
    bk_esc(posting, pesc, sizeof pesc);
    snprintf(msg, sizeof msg, text_get(T_BOOK_MOVED), pesc, lesc);
    conv_answer_callback(out, u, NULL);
    conv_say(out, u->chat_id, msg, NULL);
    return RT_OK;
}

static int bk_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind != TG_UPD_CALLBACK) return RT_OK;   /* no steps of its own */
    const char *cb = u->callback_data;
    conv_booking_cb_t c;
    if (conv_booking_cb_parse(cb, &c) != RT_OK) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    if (strcmp(c.op, "k") == 0) {
        conv_answer_callback(out, u, NULL);
        conv_say(out, u->chat_id, text_get(T_BOOK_KEPT), NULL);
        return RT_OK;
    }
    const char *posting = c.posting, *op = c.op;
    const conv_rows_t *b = conv_lookup_find(ctx, CONV_NEED_BOOKING, posting);
    if (!b) {
        conv_need(out, CONV_NEED_BOOKING, posting);
        return RT_PENDING;
    }
    /* refusals: no delivery any more, not the owner's, past the cut-off */
    const char *in = b->status == RT_OK && b->nrows > 0 ? conv_rows_value(b, 0, "starts_in_min") : NULL;
    char msg[512];
    if (b->status != RT_OK || b->nrows == 0) snprintf(msg, sizeof msg, text_get(T_BOOK_NONE), posting);
    else if (!bk_is_owner(ctx, b)) snprintf(msg, sizeof msg, "%s", text_get(T_BOOK_NOT_YOURS));
    else if (!in || strtoll(in, NULL, 10) <= bk_cutoff_min)
        snprintf(msg, sizeof msg, text_get(T_BOOK_TOO_LATE), bk_cutoff_min);
    else msg[0] = '\0';
    if (msg[0]) {
        conv_answer_callback(out, u, NULL);
        conv_say(out, u->chat_id, msg, NULL);
        return RT_OK;
    }
    if (strcmp(op, "x") == 0) return bk_cancel_ask(u, out, posting, b);
    if (strcmp(op, "xy") == 0) return bk_cancel(ctx, u, out, posting);
    if (strcmp(op, "m") == 0) return bk_move_ask(ctx, u, out, posting, b);
    return bk_move(ctx, u, out, posting, b, c.day, c.slot);
}

const conv_feature_t conv_feature_booking = {
    .name = "booking",
    .step_prefix = NULL,
    .callback_prefix = "dl:",
    .on_update = bk_on_update,
    .claims_button = NULL,
};
