/* conv_courier_ops.c — operators and couriers' deliveries in Telegram.
 *
 * Purpose: manual assignment and unlocking from the chat (the dashboard
 * does the same through its API):
 *   /assign POSTING              the couriers on shift as buttons, with how
 *                                many deliveries each has left today;
 *   oa:as:<delivery>:<courier>   assign (delivery_assign(): a new card for
 *                                the courier, the previous courier told);
 *   oa:ul:<delivery>:<gen>       unlock a delivery locked by three wrong
 *                                PINs (the courier may try again).
 * Operators and admins only; anyone else pressing is refused.
 *
 * Callbacks: "oa:". Exports: conv_feature_courier_ops,
 * conv_courier_assign_command.
 * Threads: any (pure).
 */
#include "conv_courier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posting.h"
#include "rt.h"
#include "tg_markup.h"

#define OA_COURIER_BUTTONS 20

/* Assign; the courier who had it before is told it left their route. */
static const char oa_sql_assign[] =
    "WITH a AS (SELECT delivery_assign($1::bigint, $2::int) AS prev)"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT a.prev, 'sendMessage', json_build_object('chat_id', a.prev, 'text', $3::text,"
    "                                                  'parse_mode', 'HTML')::text, 0,"
    "        'reassigned:' || $1 || ':' || (SELECT card_gen FROM deliveries WHERE id = $1::bigint)"
    "   FROM a WHERE a.prev > 0 ON CONFLICT (dedupe_key) DO NOTHING";
static const char oa_sql_unlock[] =
    "UPDATE deliveries SET locked = false, pin_tries = 0"
    " WHERE id = $1::bigint AND card_gen = $2::int AND locked AND stage = 'en_route'";

static bool oa_staff(const conv_ctx_t *ctx) { return ctx->role == CONV_OPERATOR || ctx->role == CONV_ADMIN; }

int conv_courier_assign_command(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (!oa_staff(ctx)) {
        conv_say(out, u->chat_id, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    const char *posting = u->command_arg;
    if (!posting || !posting_is_valid(posting)) {
        conv_say(out, u->chat_id, text_get(T_OP_ASSIGN_USAGE), NULL);
        return RT_OK;
    }
    const conv_rows_t *d = conv_lookup_find(ctx, CONV_NEED_POSTING_DELIVERY, posting);
    const conv_rows_t *c = conv_lookup_find(ctx, CONV_NEED_SHIFT_COURIERS, "");
    if (!d || !c) {
        if (!d) conv_need(out, CONV_NEED_POSTING_DELIVERY, posting);
        if (!c) conv_need(out, CONV_NEED_SHIFT_COURIERS, "");
        return RT_PENDING;
    }
    const char *id = d->status == RT_OK && d->nrows ? conv_rows_value(d, 0, "id") : NULL;
    if (!id) {
        conv_sayf(out, u->chat_id, T_OP_ASSIGN_NO_DELIVERY, posting, NULL);
        return RT_OK;
    }
    if (c->status != RT_OK || c->nrows == 0) {
        conv_say(out, u->chat_id, text_get(T_OP_ASSIGN_NONE), NULL);
        return RT_OK;
    }
    cJSON *kb = tg_kb_inline_new();
    for (int i = 0; i < c->nrows && i < OA_COURIER_BUTTONS; i++) {
        char label[96], data[64];
        snprintf(label, sizeof label, "%s (%s)", conv_rows_value(c, i, "name"), conv_rows_value(c, i, "left"));
        cc_utf8_trim(label);
        snprintf(data, sizeof data, "oa:as:%s:%s", id, conv_rows_value(c, i, "id"));
        tg_kb_inline_button(tg_kb_inline_row(kb), label, data);
    }
    conv_sayf(out, u->chat_id, T_OP_ASSIGN_PICK, posting, kb);
    return RT_OK;
}

static int oa_assign(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, int64_t id, int courier)
{
    cc_delivery_t d;
    int rc = cc_delivery_get(ctx, out, id, &d);
    if (rc == RT_PENDING) return rc;
    const conv_rows_t *c = conv_lookup_find(ctx, CONV_NEED_SHIFT_COURIERS, "");
    if (!c) {
        conv_need(out, CONV_NEED_SHIFT_COURIERS, "");
        return RT_PENDING;
    }
    conv_answer_callback(out, u, NULL);
    const char *name = NULL;
    char courier_s[16];
    snprintf(courier_s, sizeof courier_s, "%d", courier);
    for (int i = 0; c->status == RT_OK && i < c->nrows; i++)
        if (strcmp(conv_rows_value(c, i, "id"), courier_s) == 0) name = conv_rows_value(c, i, "name");
    if (rc != RT_OK || !d.ordered || !name || (strcmp(d.stage, "new") != 0 && strcmp(d.stage, "assigned") != 0)) {
        conv_say(out, u->chat_id, text_get(T_OP_ASSIGN_FAILED), NULL);
        return RT_OK;
    }
    char id_s[24], msg[512];
    snprintf(id_s, sizeof id_s, "%lld", (long long)id);
    snprintf(msg, sizeof msg, text_get(T_CR_REASSIGNED), d.posting);
    const char *params[] = {id_s, courier_s, msg};
    conv_sql(out, oa_sql_assign, 3, params);
    conv_poke(out, "courier_dispatcher", "main");   /* the card goes out now, not at the next tick */
    char *esc = tg_html_escape(name);
    snprintf(msg, sizeof msg, text_get(T_OP_ASSIGNED), d.posting, esc ? esc : "");
    free(esc);
    conv_say(out, u->chat_id, msg, NULL);
    return RT_OK;
}

static int oa_unlock(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, int64_t id, int gen)
{
    cc_delivery_t d;
    int rc = cc_delivery_get(ctx, out, id, &d);
    if (rc == RT_PENDING) return rc;
    if (rc != RT_OK || !d.locked || d.card_gen != gen || strcmp(d.stage, "en_route") != 0) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    char id_s[24], gen_s[16], key[64], msg[512];
    snprintf(id_s, sizeof id_s, "%lld", (long long)id);
    snprintf(gen_s, sizeof gen_s, "%d", gen);
    const char *params[] = {id_s, gen_s};
    conv_sql(out, oa_sql_unlock, 2, params);
    if (d.courier_tg) {
        snprintf(key, sizeof key, "unlock:%s:%s", id_s, gen_s);
        snprintf(msg, sizeof msg, text_get(T_CR_UNLOCKED_COURIER), d.posting);
        cc_send_to(out, d.courier_tg, msg, NULL, key);
    }
    conv_answer_callback(out, u, NULL);
    conv_sayf(out, u->chat_id, T_CR_UNLOCKED, d.posting, NULL);
    return RT_OK;
}

static int oa_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind != TG_UPD_CALLBACK) return RT_OK;
    if (!oa_staff(ctx)) {
        conv_answer_callback(out, u, text_get(T_CR_NOT_YOURS));
        return RT_OK;
    }
    const char *data = u->callback_data;
    int64_t id;
    int n;
    if (strlen(data) > 6 && cc_parse_ref(data + 6, &id, &n, NULL)) {
        if (strncmp(data, "oa:as:", 6) == 0) return oa_assign(ctx, u, out, id, n);
        if (strncmp(data, "oa:ul:", 6) == 0) return oa_unlock(ctx, u, out, id, n);
    }
    conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
    return RT_OK;
}

const conv_feature_t conv_feature_courier_ops = {
    .name = "courier_ops",
    .step_prefix = NULL,
    .callback_prefix = "oa:",
    .on_update = oa_on_update,
    .claims_button = NULL,
};
