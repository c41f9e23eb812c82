/* conv_pay.c — paying for a delivery in the chat (see conv_pay.h).
 *
 * Steps: none (every action is one callback). Callbacks: p:o:<posting>
 * (choose), p:t:<posting> (invoice), p:q:<posting> (YooKassa QR / СБП),
 * p:b:<posting> (bank QR). Attempt ids are 'a<update_id>': a replayed
 * update writes the same row (INSERT … ON CONFLICT DO NOTHING).
 * Exports: see conv_pay.h. Threads: any (pure).
 */
#include "conv_pay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_form.h"
#include "conv_watch.h"
#include "pay.h"
#include "pay_yk.h"
#include "posting.h"
#include "rt.h"
#include "tg_markup.h"

static conv_pay_cfg_t pay_cfg;

void conv_pay_configure(const conv_pay_cfg_t *cfg)
{
    pay_cfg = *cfg;
}

bool conv_pay_enabled(void)
{
    return (pay_cfg.provider_token && *pay_cfg.provider_token) || pay_cfg.qr || pay_cfg.bank;
}

static bool pay_true(const char *v) { return v && v[0] == 't'; }

static long long pay_ll(const char *v) { return v ? strtoll(v, NULL, 10) : 0; }

static bool pay_final(const char *status)
{
    return status && (strcmp(status, "delivered") == 0 || strcmp(status, "cancelled") == 0 ||
                      strcmp(status, "returned") == 0);
}

bool conv_pay_payable(const conv_rows_t *r, int row)
{
    const char *price = conv_rows_value(r, row, "price");
    return price && pay_ll(price) > 0 && !conv_rows_value(r, row, "paid_attempt") &&
           !pay_final(conv_rows_value(r, row, "status"));
}

void conv_pay_order_line(const conv_rows_t *r, int row, bool card, char *out, size_t outsz)
{
    char money[64];
    out[0] = '\0';
    if (conv_rows_value(r, row, "paid_attempt")) {
        conv_form_price_text(pay_ll(conv_rows_value(r, row, "paid_kop")), money, sizeof money);
        if (card) snprintf(out, outsz, text_get(T_PAY_TRACK_PAID), money);
        else snprintf(out, outsz, "%s", text_get(T_PAY_PAID_MARK));
        return;
    }
    const char *price = conv_rows_value(r, row, "price");
    if (!price || pay_ll(price) <= 0) return;
    conv_form_price_text(pay_ll(price), money, sizeof money);
    snprintf(out, outsz, text_get(card ? T_PAY_TRACK_DUE : T_PAY_DUE_MARK), money);
}

void conv_pay_button(cJSON *kb, const char *posting)
{
    char data[64];
    snprintf(data, sizeof data, "p:o:%s", posting);
    tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_PAY_BTN_PAY), data);
}

void conv_pay_paid_text(int64_t amount_kop, const char *posting, const char *receipt, char *out, size_t outsz)
{
    char money[64];
    conv_form_price_text(amount_kop, money, sizeof money);
    if (receipt && *receipt) {
        char *esc = tg_html_escape(receipt);
        snprintf(out, outsz, text_get(T_PAY_RECEIVED_RECEIPT), money, posting, esc ? esc : "");
        free(esc);
    } else {
        snprintf(out, outsz, text_get(T_PAY_RECEIVED), money, posting);
    }
}

void conv_pay_double_text(int64_t amount_kop, const char *posting, const char *attempt, char *out, size_t outsz)
{
    char money[64];
    conv_form_price_text(amount_kop, money, sizeof money);
    snprintf(out, outsz, text_get(T_PAY_DOUBLE), posting, attempt, money);
}

void conv_pay_offer(conv_out_t *out, int64_t chat, const char *posting, long long price_kop)
{
    if (!conv_pay_enabled() || price_kop <= 0 || !posting_is_valid(posting)) return;
    char money[64], msg[512];
    conv_form_price_text(price_kop, money, sizeof money);
    snprintf(msg, sizeof msg, text_get(T_PAY_OFFER), posting, money);
    cJSON *kb = tg_kb_inline_new();
    conv_pay_button(kb, posting);
    conv_say(out, chat, msg, kb);
}

/* ---- callbacks ------------------------------------------------------------------- */

static const char pay_sql_attempt[] =
    "INSERT INTO pay_attempts (id, posting_number, chat_id, tg_user_id, method, amount_kop, status)"
    " VALUES ($1, $2, $3::bigint, $4::bigint, $5, $6::bigint, $7) ON CONFLICT (id) DO NOTHING";

static void pay_add_attempt(conv_out_t *out, const char *id, const char *posting, int64_t chat, int64_t user,
                            const char *method, long long amount, const char *status)
{
    char c[24], u[24], a[24];
    snprintf(c, sizeof c, "%lld", (long long)chat);
    snprintf(u, sizeof u, "%lld", (long long)user);
    snprintf(a, sizeof a, "%lld", amount);
    const char *p[] = {id, posting, c, u, method, a, status};
    conv_sql(out, pay_sql_attempt, 7, p);
}

static void pay_invoice(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting,
                        long long price, const char *attempt)
{
    pay_add_attempt(out, attempt, posting, u->chat_id, ctx->tg_user_id, "telegram", price, "created");
    char desc[256];
    snprintf(desc, sizeof desc, text_get(T_PAY_INVOICE_DESC), posting);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "chat_id", (double)u->chat_id);
    cJSON_AddStringToObject(p, "title", text_get(T_PAY_INVOICE_TITLE));
    cJSON_AddStringToObject(p, "description", desc);
    cJSON_AddStringToObject(p, "payload", attempt);
    cJSON_AddStringToObject(p, "provider_token", pay_cfg.provider_token);
    cJSON_AddStringToObject(p, "currency", "RUB");
    cJSON *price_item = cJSON_CreateObject();
    cJSON_AddStringToObject(price_item, "label", text_get(T_PAY_ITEM_LABEL));
    cJSON_AddNumberToObject(price_item, "amount", (double)price);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "prices"), price_item);
    char *pd = yk_invoice_provider_data(desc, price);
    if (pd) cJSON_AddStringToObject(p, "provider_data", pd);
    free(pd);
    cJSON_AddBoolToObject(p, "need_phone_number", 1);
    cJSON_AddBoolToObject(p, "send_phone_number_to_provider", 1);
    conv_call(out, "sendInvoice", cJSON_PrintUnformatted(p));
    cJSON_Delete(p);
}

static const char pay_sql_photo[] = PAY_SQL_PHOTO;

static int pay_bank_qr(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting,
                       long long price, const char *attempt)
{
    char purpose[128], payload[1024];
    snprintf(purpose, sizeof purpose, text_get(T_PAY_INVOICE_DESC), posting);
    char *hex = NULL;
    if (pay_gost_payload(&pay_cfg.gost, price, purpose, payload, sizeof payload) != RT_OK ||
        pay_qr_bytea(payload, &hex) != RT_OK) {
        conv_say(out, u->chat_id, text_get(T_PAY_UNAVAILABLE), NULL);
        return RT_OK;
    }
    pay_add_attempt(out, attempt, posting, u->chat_id, ctx->tg_user_id, "bank_qr", price, "pending");
    char money[64], caption[512], chat[24], key[96];
    conv_form_price_text(price, money, sizeof money);
    snprintf(caption, sizeof caption, text_get(T_PAY_BANK_CAPTION), posting, money);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "chat_id", (double)u->chat_id);
    cJSON_AddStringToObject(p, "caption", caption);
    cJSON_AddStringToObject(p, "parse_mode", "HTML");
    char *params = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    snprintf(chat, sizeof chat, "%lld", (long long)u->chat_id);
    snprintf(key, sizeof key, "pay:qr:%s", attempt);
    const char *sp[] = {chat, params ? params : "{}", hex, key};
    conv_sql(out, pay_sql_photo, 4, sp);
    free(params);
    free(hex);
    return RT_OK;
}

static int pay_on_callback(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const char *cb = u->callback_data;
    char what = strlen(cb) > 4 && cb[3] == ':' ? cb[2] : 0;
    const char *posting = cb + 4;
    if (!what || !strchr("otqb", what) || !posting_is_valid(posting) || ctx->role == CONV_GUEST) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    const conv_rows_t *o = conv_lookup_find(ctx, CONV_NEED_PAY_ORDER, posting);
    if (!o) {
        conv_need(out, CONV_NEED_PAY_ORDER, posting);
        return RT_PENDING;
    }
    conv_answer_callback(out, u, NULL);
    if (o->status != RT_OK) {
        conv_say(out, u->chat_id, text_get(T_PAY_UNAVAILABLE), NULL);
        return RT_OK;
    }
    if (o->nrows == 0 || conv_order_owner(ctx, o) != CONV_OWNER_YES) {
        conv_sayf(out, u->chat_id, T_PAY_NOT_PAYABLE, posting, NULL);
        return RT_OK;
    }
    if (conv_rows_value(o, 0, "paid_attempt")) {
        conv_sayf(out, u->chat_id, T_PAY_PAID_ALREADY, posting, NULL);
        return RT_OK;
    }
    if (!conv_pay_payable(o, 0)) {
        conv_sayf(out, u->chat_id, T_PAY_NOT_PAYABLE, posting, NULL);
        return RT_OK;
    }
    long long price = pay_ll(conv_rows_value(o, 0, "price"));
    char attempt[32];
    snprintf(attempt, sizeof attempt, "a%lld", (long long)u->update_id);
    bool tg = pay_cfg.provider_token && *pay_cfg.provider_token;
    if (what == 't' && tg) {
        pay_invoice(ctx, u, out, posting, price, attempt);
    } else if (what == 'q' && pay_cfg.qr) {
        pay_add_attempt(out, attempt, posting, u->chat_id, ctx->tg_user_id, "sbp", price, "created");
        if (pay_cfg.poke) conv_after(out, pay_cfg.poke, attempt);   /* the payment actor takes over */
        conv_say(out, u->chat_id, text_get(T_PAY_PREPARING_QR), NULL);
    } else if (what == 'b' && pay_cfg.bank) {
        return pay_bank_qr(ctx, u, out, posting, price, attempt);
    } else if (what == 'o' && conv_pay_enabled()) {
        char money[64], msg[512], data[64];
        conv_form_price_text(price, money, sizeof money);
        snprintf(msg, sizeof msg, text_get(T_PAY_CHOOSE), posting, money);
        cJSON *kb = tg_kb_inline_new();
        if (tg) {
            snprintf(data, sizeof data, "p:t:%s", posting);
            tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_PAY_BTN_TELEGRAM), data);
        }
        if (pay_cfg.qr) {
            snprintf(data, sizeof data, "p:q:%s", posting);
            tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_PAY_BTN_QR), data);
        }
        if (pay_cfg.bank) {
            snprintf(data, sizeof data, "p:b:%s", posting);
            tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_PAY_BTN_BANK), data);
        }
        conv_say(out, u->chat_id, msg, kb);
    } else {
        conv_say(out, u->chat_id, text_get(T_PAY_UNAVAILABLE), NULL);
    }
    return RT_OK;
}

/* ---- pre_checkout_query and successful_payment ------------------------------------ */

static void pay_answer_checkout(conv_out_t *out, const tg_update_t *u, text_id_t refusal)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "pre_checkout_query_id", u->pre_checkout_id);
    cJSON_AddBoolToObject(p, "ok", refusal == T__COUNT);
    if (refusal != T__COUNT) cJSON_AddStringToObject(p, "error_message", text_get(refusal));
    conv_call(out, "answerPreCheckoutQuery", cJSON_PrintUnformatted(p));
    cJSON_Delete(p);
}

/* Why this pre-checkout must be refused, or T__COUNT when it may go on. */
static text_id_t pay_checkout_refusal(const conv_ctx_t *ctx, const tg_update_t *u, const conv_rows_t *a)
{
    if (!a || a->status != RT_OK || a->nrows == 0) return T_PAY_PC_UNKNOWN;
    const char *method = conv_rows_value(a, 0, "method"), *status = conv_rows_value(a, 0, "status");
    if (!method || strcmp(method, "telegram") != 0 || pay_ll(conv_rows_value(a, 0, "tg_user_id")) != ctx->tg_user_id)
        return T_PAY_PC_UNKNOWN;
    if (conv_rows_value(a, 0, "paid_attempt")) return T_PAY_PC_PAID;
    if (!status || (strcmp(status, "created") != 0 && strcmp(status, "pending") != 0)) return T_PAY_PC_UNKNOWN;
    if (pay_true(conv_rows_value(a, 0, "expired"))) return T_PAY_PC_EXPIRED;
    const char *price = conv_rows_value(a, 0, "price");
    if (pay_final(conv_rows_value(a, 0, "order_status")) || !price) return T_PAY_PC_NOT_PAYABLE;
    long long amount = pay_ll(conv_rows_value(a, 0, "amount_kop"));
    if (!u->currency || strcmp(u->currency, "RUB") != 0 || u->total_amount != amount || pay_ll(price) != amount)
        return T_PAY_PC_AMOUNT;
    return T__COUNT;
}

static const char pay_sql_checkout_ok[] =
    "UPDATE pay_attempts SET status = 'pending', updated_at = now() WHERE id = $1 AND status = 'created'";
static const char pay_sql_succeed[] =
    "SELECT pay_succeed($1, $2::bigint, $3, NULL, $4, $5, $6, $7)";
static const char pay_sql_unknown[] =
    "INSERT INTO audit_log (actor, action, object_type, object_id, details)"
    " VALUES ('tg:' || $1, 'payment_unknown', 'payment', $2, jsonb_build_object('amount_kop', $3::bigint))";

int conv_pay_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const char *payload = u->invoice_payload ? u->invoice_payload : "";
    bool key_ok = strlen(payload) > 0 && strlen(payload) < CONV_KEY_MAX;
    const conv_rows_t *a = key_ok ? conv_lookup_find(ctx, CONV_NEED_PAY_ATTEMPT, payload) : NULL;
    if (key_ok && !a) {
        conv_need(out, CONV_NEED_PAY_ATTEMPT, payload);
        return RT_PENDING;
    }
    if (u->kind == TG_UPD_PRE_CHECKOUT) {
        text_id_t refusal = pay_checkout_refusal(ctx, u, a);
        pay_answer_checkout(out, u, refusal);
        if (refusal == T__COUNT) {
            const char *p[] = {payload};
            conv_sql(out, pay_sql_checkout_ok, 1, p);
        }
        return RT_OK;
    }
    /* successful_payment: the money is taken; record it whatever the state */
    char amount[24], user[24];
    snprintf(amount, sizeof amount, "%lld", (long long)u->total_amount);
    snprintf(user, sizeof user, "%lld", (long long)ctx->tg_user_id);
    const char *posting = a && a->status == RT_OK && a->nrows ? conv_rows_value(a, 0, "posting_number") : NULL;
    if (!posting) {
        const char *p[] = {user, payload, amount};
        conv_sql(out, pay_sql_unknown, 3, p);
        return RT_OK;
    }
    char paid[1024], dbl[512];
    conv_pay_paid_text(u->total_amount, posting, NULL, paid, sizeof paid);
    conv_pay_double_text(u->total_amount, posting, payload, dbl, sizeof dbl);
    const char *p[] = {payload, amount, u->provider_charge_id && *u->provider_charge_id ? u->provider_charge_id : NULL,
                       u->telegram_charge_id, u->provider_charge_id, paid, dbl};
    conv_sql(out, pay_sql_succeed, 7, p);
    return RT_OK;
}

/* ---- operators' commands -------------------------------------------------------- */

int conv_pay_command(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    bool refund = strcmp(u->command, "/refund") == 0, paid = strcmp(u->command, "/paid") == 0;
    if ((!refund && !paid) || (ctx->role != CONV_OPERATOR && ctx->role != CONV_ADMIN)) return RT_ENOTFOUND;
    char posting[32] = "", extra[32] = "";
    const char *arg = u->command_arg ? u->command_arg : "";
    size_t n = strcspn(arg, " \t\n");
    if (n < sizeof posting) snprintf(posting, sizeof posting, "%.*s", (int)n, arg);
    const char *rest = arg + n;
    while (*rest == ' ' || *rest == '\t' || *rest == '\n') rest++;
    if (strlen(rest) < sizeof extra) snprintf(extra, sizeof extra, "%s", rest);
    int64_t amount = 0;
    bool bad = !posting_is_valid(posting) || strlen(rest) >= sizeof extra;
    if (!bad && refund && extra[0]) bad = yk_amount_parse(extra, &amount) != RT_OK || amount <= 0;
    if (!bad && paid && extra[0]) bad = strcmp(extra, "bank_qr") != 0 && strcmp(extra, "cash") != 0 && strcmp(extra, "card") != 0;
    if (bad) {
        conv_say(out, u->chat_id, text_get(T_PAY_OP_USAGE), NULL);
        return RT_OK;
    }
    const conv_rows_t *o = conv_lookup_find(ctx, CONV_NEED_PAY_ORDER, posting);
    if (!o) {
        conv_need(out, CONV_NEED_PAY_ORDER, posting);
        return RT_PENDING;
    }
    if (o->status != RT_OK) {
        conv_say(out, u->chat_id, text_get(T_PAY_UNAVAILABLE), NULL);
        return RT_OK;
    }
    char who[32], kop[24], money[64];
    snprintf(who, sizeof who, "tg:%lld", (long long)ctx->tg_user_id);
    if (refund) {
        const char *left = o->nrows ? conv_rows_value(o, 0, "left_kop") : NULL;
        if (!left || pay_ll(left) <= 0) {
            conv_sayf(out, u->chat_id, T_PAY_OP_NOT_PAID, posting, NULL);
            return RT_OK;
        }
        if (amount > pay_ll(left)) {
            char msg[256];
            conv_form_price_text(pay_ll(left), money, sizeof money);
            snprintf(msg, sizeof msg, text_get(T_PAY_OP_TOO_MUCH), posting, money);
            conv_say(out, u->chat_id, msg, NULL);
            return RT_OK;
        }
        if (!amount) amount = pay_ll(left);
        snprintf(kop, sizeof kop, "%lld", (long long)amount);
        const char *p[] = {posting, kop, who};
        conv_sql(out, PAY_SQL_REFUND, 3, p);   /* guarded again inside: two operators cannot over-refund */
        char msg[256];
        conv_form_price_text(amount, money, sizeof money);
        snprintf(msg, sizeof msg, text_get(T_PAY_OP_REFUND_QUEUED), money, posting);
        conv_say(out, u->chat_id, msg, NULL);
        return RT_OK;
    }
    const char *how = extra[0] ? extra : "bank_qr";
    bool bank = strcmp(how, "bank_qr") == 0;
    bool can = o->nrows && (bank ? pay_true(conv_rows_value(o, 0, "open_bank")) : conv_pay_payable(o, 0));
    if (!can) {
        conv_sayf(out, u->chat_id, T_PAY_OP_NOTHING_TO_MARK, posting, NULL);
        return RT_OK;
    }
    const char *pb[] = {posting, who}, *ph[] = {posting, how, who};
    if (bank) conv_sql(out, PAY_SQL_PAID_BANK, 2, pb);
    else conv_sql(out, PAY_SQL_PAID_HAND, 3, ph);
    conv_sayf(out, u->chat_id, T_PAY_OP_PAID_QUEUED, posting, NULL);
    return RT_OK;
}

static int pay_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind == TG_UPD_CALLBACK) return pay_on_callback(ctx, u, out);
    return conv_pay_on_update(ctx, u, out);
}

const conv_feature_t conv_feature_pay = {
    .name = "pay",
    .step_prefix = NULL,
    .callback_prefix = "p:",
    .on_update = pay_on_update,
    .claims_button = NULL,
};
