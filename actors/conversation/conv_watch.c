/* conv_watch.c — ownership of a parcel and the watcher's buttons (see
 * conv_watch.h).
 * Exports: conv_order_owner, conv_watch_buttons, conv_watch_not_owner,
 * conv_feature_watch.
 * Threads: any (pure).
 */
#include "conv_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posting.h"
#include "rt.h"
#include "tg_markup.h"

conv_owner_t conv_order_owner(const conv_ctx_t *ctx, const conv_rows_t *o)
{
    static const char *const cols[] = {"customer_phone", "addressee_phone", "recipient_phone"};
    bool known = false;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        const char *v = conv_rows_value(o, 0, cols[i]);
        if (!v || !*v) continue;
        known = true;
        if (ctx->phone[0] && strcmp(v, ctx->phone) == 0) return CONV_OWNER_YES;
    }
    const char *by = conv_rows_value(o, 0, "ordered_by");
    if (by && ctx->tg_user_id && strtoll(by, NULL, 10) == ctx->tg_user_id) return CONV_OWNER_YES;
    return known ? CONV_OWNER_NO : CONV_OWNER_UNKNOWN;
}

static void watch_button(cJSON *kb, text_id_t label, const char *action, const char *posting)
{
    char data[TG_CALLBACK_DATA_MAX + 1];
    int n = snprintf(data, sizeof data, "w:%s:%s", action, posting);
    if (n > 0 && n <= TG_CALLBACK_DATA_MAX) tg_kb_inline_button(tg_kb_inline_row(kb), text_get(label), data);
}

void conv_watch_buttons(cJSON *kb, const char *posting, conv_owner_t owner)
{
    if (!kb || !posting) return;
    if (owner == CONV_OWNER_UNKNOWN) watch_button(kb, T_WATCH_BTN_ASK, "ask", posting);
    watch_button(kb, T_NOTIFY_BTN_UNWATCH, "off", posting);
}

void conv_watch_not_owner(const conv_ctx_t *ctx, const conv_rows_t *o, conv_out_t *out, int64_t chat,
                          const char *posting, text_id_t not_owner, cJSON *kb)
{
    if (conv_order_owner(ctx, o) != CONV_OWNER_UNKNOWN) {
        conv_sayf(out, chat, not_owner, posting, kb);
        return;
    }
    cJSON_Delete(kb);
    cJSON *ask = tg_kb_inline_new();
    if (ask) watch_button(ask, T_WATCH_BTN_ASK, "ask", posting);
    conv_sayf(out, chat, T_OWNER_UNKNOWN, posting, ask);
}

static const char watch_sql_off[] =
    "INSERT INTO order_subscribers (posting_number, chat_id, muted) VALUES ($1, $2, true)"
    " ON CONFLICT (posting_number, chat_id) DO UPDATE SET muted = true";

static const char watch_sql_ask[] =
    "WITH r AS (INSERT INTO order_owner_requests (posting_number, tg_user_id, chat_id) VALUES ($1, $2, $3)"
    "           ON CONFLICT (posting_number, tg_user_id) DO UPDATE SET status = 'open', created_at = now()"
    "           RETURNING id)"
    " INSERT INTO audit_log (actor, action, object_type, object_id, details)"
    " SELECT 'tg:' || $2, 'owner_check_requested', 'order', $1, jsonb_build_object('request', r.id) FROM r";

static int watch_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind != TG_UPD_CALLBACK) return RT_OK;   /* no steps of its own */
    const char *d = u->callback_data;
    const char *posting = strlen(d) > 6 ? d + 6 : "";
    bool off = strncmp(d, "w:off:", 6) == 0, ask = strncmp(d, "w:ask:", 6) == 0;
    if (!(off || ask) || !posting_is_valid(posting)) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    char chat[24], uid[24];
    snprintf(chat, sizeof chat, "%lld", (long long)u->chat_id);
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->tg_user_id);
    if (off) {
        const char *params[] = {posting, chat};
        conv_sql(out, watch_sql_off, 2, params);
        conv_answer_callback(out, u, text_get(T_WATCH_CB_OFF));
        conv_sayf(out, u->chat_id, T_WATCH_OFF, posting, NULL);
        return RT_OK;
    }
    const char *params[] = {posting, uid, chat};
    conv_sql(out, watch_sql_ask, 3, params);
    conv_answer_callback(out, u, NULL);
    conv_sayf(out, u->chat_id, T_WATCH_ASKED, posting, NULL);
    return RT_OK;
}

const conv_feature_t conv_feature_watch = {
    .name = "watch",
    .step_prefix = NULL,
    .callback_prefix = "w:",
    .on_update = watch_on_update,
    .claims_button = NULL,
};
