/* conv_dialog.c — dispatch, commands, registration and menus (see
 * conv_dialog.h). Features plug in through conv_features[].
 * Exports: see conv_dialog.h. Threads: any.
 */
#include "conv_dialog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_pay.h"
#include "posting.h"
#include "rt.h"
#include "tg_flood.h"
#include "tg_markup.h"
#include "utf8.h"

static const char *const conv_role_names[] = {"guest", "client", "courier", "operator", "admin"};

const char *conv_role_name(conv_role_t r)
{
    return (unsigned)r <= CONV_ADMIN ? conv_role_names[r] : "guest";
}

int conv_role_parse(const char *s, conv_role_t *out)
{
    for (int r = CONV_CLIENT; r <= CONV_ADMIN; r++)
        if (s && strcmp(s, conv_role_names[r]) == 0) { *out = (conv_role_t)r; return RT_OK; }
    return RT_EINVAL;
}

/* ---- lookups ------------------------------------------------------------------ */

int conv_rows_col(const conv_rows_t *r, const char *col)
{
    for (int c = 0; r && c < r->ncols; c++)
        if (strcmp(r->cols[c], col) == 0) return c;
    return -1;
}

const char *conv_rows_value(const conv_rows_t *r, int row, const char *col)
{
    int c = conv_rows_col(r, col);
    if (c < 0 || row < 0 || row >= r->nrows) return NULL;
    return r->values[(size_t)row * (size_t)r->ncols + (size_t)c];
}

const conv_rows_t *conv_lookup_find(const conv_ctx_t *ctx, int kind, const char *key)
{
    for (int i = 0; i < ctx->nlookups; i++)
        if (ctx->lookups[i].kind == kind && strcmp(ctx->lookups[i].key, key ? key : "") == 0)
            return &ctx->lookups[i].rows;
    return NULL;
}

void conv_need(conv_out_t *out, int kind, const char *key)
{
    for (int i = 0; i < out->nneeds; i++)
        if (out->needs[i].kind == kind && strcmp(out->needs[i].key, key ? key : "") == 0) return;
    if (out->nneeds >= CONV_NEEDS_MAX) return;
    out->needs[out->nneeds].kind = kind;
    utf8_copy(out->needs[out->nneeds].key, CONV_KEY_MAX, key);
    out->nneeds++;
}

/* ---- building replies -------------------------------------------------------- */

static conv_act_t *conv_act_new(conv_out_t *out, conv_act_kind_t kind)
{
    if (out->nacts >= CONV_ACTS_MAX) return NULL;
    conv_act_t *a = &out->acts[out->nacts++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    return a;
}

void conv_call(conv_out_t *out, const char *method, char *params)
{
    conv_act_t *a = params ? conv_act_new(out, CONV_ACT_CALL) : NULL;
    if (!a) { free(params); return; }
    a->method = method;
    a->params = params;
    a->prio = TG_PRIO_INTERACTIVE;
}

void conv_sql(conv_out_t *out, const char *sql, int n, const char *const *params)
{
    conv_act_t *a = conv_act_new(out, CONV_ACT_SQL);
    if (!a) return;
    a->sql = sql;
    a->nsql_params = n < CONV_SQL_PARAMS ? n : CONV_SQL_PARAMS;
    for (int i = 0; i < a->nsql_params; i++) a->sql_params[i] = params[i] ? strdup(params[i]) : NULL;
}

conv_act_t *conv_after(conv_out_t *out, void (*fn)(void *rt, const char *arg), const char *arg)
{
    conv_act_t *a = fn ? conv_act_new(out, CONV_ACT_AFTER) : NULL;
    if (!a) return NULL;
    a->after = fn;
    a->nsql_params = 1;
    a->sql_params[0] = strdup(arg ? arg : "");
    return a;
}

cJSON *conv_menu_keyboard(conv_role_t role)
{
    cJSON *kb = tg_kb_reply_new(text_get(T_INPUT_PLACEHOLDER)), *row;
    switch (role) {
    case CONV_GUEST:
        tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_SHARE_PHONE), 1);
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_TRACK), 0);
        tg_kb_reply_button(row, text_get(T_BTN_HELP), 0);
        break;
    case CONV_CLIENT:
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_TRACK), 0);
        tg_kb_reply_button(row, text_get(T_BTN_ORDER), 0);
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_MY_ORDERS), 0);
        tg_kb_reply_button(row, text_get(T_BTN_HELP), 0);
        break;
    case CONV_COURIER:
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_TRACK), 0);
        tg_kb_reply_button(row, text_get(T_BTN_HELP), 0);
        break;
    case CONV_OPERATOR:
    case CONV_ADMIN:
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_FIND_ORDER), 0);
        tg_kb_reply_button(row, text_get(T_BTN_BROADCAST), 0);
        tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_DASHBOARD), 0);   /* conv_dashlink.c */
        tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_HELP), 0);
        break;
    }
    return kb;
}

void conv_say(conv_out_t *out, int64_t chat, const char *html, cJSON *markup)
{
    conv_call(out, "sendMessage", tg_params_send_message(chat, html, markup));
}

void conv_sayf(conv_out_t *out, int64_t chat, text_id_t id, const char *arg, cJSON *markup)
{
    /* an echoed argument is cut to CONV_ECHO_CHARS characters (never
     * inside one), so the message stays far below Telegram's 4,096 */
    char cut[CONV_ECHO_CHARS * 4 + sizeof "…"];
    const char *a = arg ? arg : "";
    size_t n = utf8_cut_chars(a, CONV_ECHO_CHARS);
    memcpy(cut, a, n);
    snprintf(cut + n, sizeof cut - n, "%s", a[n] ? "…" : "");
    char *esc = tg_html_escape(cut);
    int len = snprintf(NULL, 0, text_get(id), esc ? esc : "");
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (buf) {
        snprintf(buf, (size_t)len + 1, text_get(id), esc ? esc : "");
        conv_say(out, chat, buf, markup);
    } else {
        cJSON_Delete(markup);
    }
    free(buf);
    free(esc);
}

void conv_answer_callback(conv_out_t *out, const tg_update_t *u, const char *text)
{
    if (u->kind == TG_UPD_CALLBACK && u->callback_id)
        conv_call(out, "answerCallbackQuery", tg_params_answer_callback(u->callback_id, text));
}

void conv_set_step(conv_out_t *out, const char *step, const char *data)
{
    utf8_copy(out->step, sizeof out->step, step);
    utf8_copy(out->data, sizeof out->data, data);
}

const char *conv_home_step(conv_role_t r) { return r == CONV_GUEST ? "await_contact" : "menu"; }

static text_id_t conv_menu_text(conv_role_t r)
{
    switch (r) {
    case CONV_COURIER: return T_MENU_COURIER;
    case CONV_OPERATOR: return T_MENU_OPERATOR;
    case CONV_ADMIN: return T_MENU_ADMIN;
    case CONV_CLIENT: return T_MENU_CLIENT;
    default: return T_GREETING;
    }
}

static text_id_t conv_help_text(conv_role_t r)
{
    switch (r) {
    case CONV_GUEST: return T_HELP_GUEST;
    case CONV_CLIENT: return T_HELP_CLIENT;
    case CONV_COURIER: return T_HELP_COURIER;
    default: return T_HELP_STAFF;
    }
}

/* ---- handlers ------------------------------------------------------------------- */

static int conv_on_command(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    int64_t chat = u->chat_id;
    const char *cmd = u->command;
    int prc;
    if (strcmp(cmd, "/start") == 0) {
        if (u->command_arg && posting_is_valid(u->command_arg)) {
            /* A deep link: greet newcomers, then show the posting. */
            if (ctx->role == CONV_GUEST && strcmp(ctx->step, "await_contact") != 0)
                conv_say(out, chat, text_get(T_GREETING), conv_menu_keyboard(CONV_GUEST));
            conv_set_step(out, conv_home_step(ctx->role), NULL);
            return conv_track_posting(ctx, u, out, u->command_arg);
        }
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        if (ctx->role == CONV_GUEST)
            conv_say(out, chat, text_get(T_GREETING), conv_menu_keyboard(CONV_GUEST));
        else
            conv_sayf(out, chat, T_WELCOME_BACK, ctx->first_name, conv_menu_keyboard(ctx->role));
    } else if (strcmp(cmd, "/cancel") == 0) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_say(out, chat, text_get(T_CANCELLED), conv_menu_keyboard(ctx->role));
    } else if (strcmp(cmd, "/help") == 0) {
        conv_say(out, chat, text_get(conv_help_text(ctx->role)), conv_menu_keyboard(ctx->role));
    } else if ((prc = conv_pay_command(ctx, u, out)) != RT_ENOTFOUND) {   /* /refund, /paid (conv_pay.c) */
        return prc;
    } else if (strcmp(cmd, "/menu") == 0) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_say(out, chat, text_get(conv_menu_text(ctx->role)), conv_menu_keyboard(ctx->role));
    } else {
        conv_say(out, chat, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
    }
    return RT_OK;
}

static int conv_on_contact(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    int64_t chat = u->chat_id;
    char phone[PHONE_E164_MAX];
    if (u->contact_user_id == 0 || u->contact_user_id != u->from_id) {
        conv_say(out, chat, text_get(T_CONTACT_NOT_OWN), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    if (phone_normalize(u->contact_phone, phone) != RT_OK) {
        conv_say(out, chat, text_get(T_CONTACT_BAD_PHONE), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    const conv_rows_t *grant = conv_lookup_find(ctx, CONV_NEED_PHONE_ROLE, phone);
    if (!grant) {
        conv_need(out, CONV_NEED_PHONE_ROLE, phone);
        return RT_PENDING;
    }
    conv_role_t role = CONV_CLIENT;
    if (grant->status == RT_OK && grant->nrows > 0) conv_role_parse(conv_rows_value(grant, 0, "role"), &role);
    conv_act_t *a = conv_act_new(out, CONV_ACT_REGISTER);
    if (a) {
        memcpy(a->phone, phone, sizeof phone);
        utf8_copy(a->name, sizeof a->name, u->from_first_name);
    }
    conv_set_step(out, "menu", NULL);
    conv_sayf(out, chat, T_REGISTERED, u->from_first_name ? u->from_first_name : "", conv_menu_keyboard(role));
    return RT_OK;
}

/* Every main-menu button, including those of older menus still on people's
 * screens. */
static const text_id_t conv_menu_buttons[] = {
    T_BTN_SHARE_PHONE, T_BTN_TRACK, T_BTN_ORDER, T_BTN_MY_ORDERS, T_BTN_SUPPORT, T_BTN_RETURN, T_BTN_HELP,
    T_BTN_ROUTE, T_BTN_LOCATION, T_BTN_TICKETS, T_BTN_BROADCAST, T_BTN_FIND_ORDER, T_BTN_ADMIN,
};

static bool conv_is_menu_button(const char *text)
{
    for (size_t i = 0; text && i < sizeof conv_menu_buttons / sizeof conv_menu_buttons[0]; i++)
        if (strcmp(text, text_get(conv_menu_buttons[i])) == 0) return true;
    return false;
}

/* A menu button no feature took for this role (features claim theirs
 * first): leave whatever step the person was in and answer it. */
static int conv_on_menu_button(const conv_ctx_t *ctx, const char *text, int64_t chat, conv_out_t *out)
{
    conv_set_step(out, conv_home_step(ctx->role), NULL);
    if (strcmp(text, text_get(T_BTN_HELP)) == 0) {
        conv_say(out, chat, text_get(conv_help_text(ctx->role)), conv_menu_keyboard(ctx->role));
    } else if (ctx->role == CONV_GUEST) {
        conv_say(out, chat, text_get(strcmp(text, text_get(T_BTN_SHARE_PHONE)) == 0 ? T_ASK_CONTACT : T_NEED_REGISTRATION),
                 conv_menu_keyboard(CONV_GUEST));
    } else if (strcmp(text, text_get(T_BTN_SHARE_PHONE)) == 0) {
        conv_sayf(out, chat, T_ALREADY_REGISTERED, ctx->phone, conv_menu_keyboard(ctx->role));
    } else {
        /* a button of an older menu, or of another role: the current menu */
        conv_say(out, chat, text_get(T_MENU_BUTTON_GONE), conv_menu_keyboard(ctx->role));
    }
    return RT_OK;
}

static bool conv_prefix(const char *s, const char *prefix)
{
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The feature that owns this update, or NULL. A menu button is never
 * swallowed by a step; media reach a step only if its feature takes them. */
static const conv_feature_t *conv_owner(const conv_ctx_t *ctx, const tg_update_t *u, const char *text)
{
    for (const conv_feature_t *const *f = conv_features; *f; f++) {
        if (u->kind == TG_UPD_CALLBACK && conv_prefix(u->callback_data, (*f)->callback_prefix)) return *f;
        if (u->kind == TG_UPD_MESSAGE && text && (*f)->claims_button && (*f)->claims_button(ctx, text)) return *f;
    }
    if (u->kind != TG_UPD_MESSAGE || u->command || conv_is_menu_button(text)) return NULL;
    for (const conv_feature_t *const *f = conv_features; *f; f++)
        if (conv_prefix(ctx->step, (*f)->step_prefix) && (text || (*f)->takes_media)) return *f;
    return NULL;
}

/* Whether the sender is in the middle of a feature's step. */
static bool conv_in_feature_step(const conv_ctx_t *ctx)
{
    for (const conv_feature_t *const *f = conv_features; *f; f++)
        if (conv_prefix(ctx->step, (*f)->step_prefix)) return true;
    return false;
}

static int conv_dispatch(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    conv_set_step(out, ctx->step, ctx->data);
    if (u->kind == TG_UPD_CALLBACK) {
        const conv_feature_t *f = conv_owner(ctx, u, NULL);
        if (f) return f->on_update(ctx, u, out);
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));   /* always answered */
        return RT_OK;
    }
    if (u->kind == TG_UPD_PRE_CHECKOUT || (u->kind == TG_UPD_MESSAGE && u->has_payment))
        return conv_pay_on_update(ctx, u, out);   /* conv_pay.c */
    if (u->kind != TG_UPD_MESSAGE || !u->chat_private || u->chat_id == 0) return RT_OK;
    if (u->command) return conv_on_command(ctx, u, out);
    if (u->has_contact) return conv_on_contact(ctx, u, out);

    char text[CONV_TEXT_MAX] = "";
    if (u->text) utf8_trim_copy(text, sizeof text, u->text);
    const conv_feature_t *f = conv_owner(ctx, u, u->text ? text : NULL);
    if (f) return f->on_update(ctx, u, out);
    bool in_step = conv_in_feature_step(ctx);
    /* keep the step's own keyboard while a step waits for its answer */
    cJSON *kb = in_step ? NULL : conv_menu_keyboard(ctx->role);
    if (!u->text) {
        /* a sticker, voice, photo, video, file or pin where it means nothing */
        conv_say(out, u->chat_id, text_get(u->has_location ? T_HINT_LOCATION : T_HINT_MEDIA), kb);
        return RT_OK;
    }
    cJSON_Delete(kb);
    if (conv_is_menu_button(text)) return conv_on_menu_button(ctx, text, u->chat_id, out);
    char number[POSTING_MAX];
    posting_kind_t kind = posting_find(text, number);
    if (kind == POSTING_NUMBER) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        return conv_track_posting(ctx, u, out, number);
    }
    if (kind == POSTING_ORDER) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        return conv_track_order(ctx, u, out, number);
    }
    conv_say(out, u->chat_id, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
    return RT_OK;
}

/* Make every text the decision carries valid UTF-8 (a last line of
 * defence: PostgreSQL refuses broken text, which would stall the chat). */
static void conv_out_sanitize(conv_out_t *out)
{
    for (int i = 0; i < out->nacts; i++) {
        conv_act_t *a = &out->acts[i];
        char **texts[1 + CONV_SQL_PARAMS];
        int n = 0;
        if (a->params) texts[n++] = &a->params;
        for (int k = 0; k < a->nsql_params; k++)
            if (a->sql_params[k]) texts[n++] = &a->sql_params[k];
        for (int k = 0; k < n; k++) {
            if (utf8_valid(*texts[k], strlen(*texts[k]))) continue;
            char *fixed = utf8_repaired(*texts[k]);
            if (!fixed) continue;
            free(*texts[k]);
            *texts[k] = fixed;
            out->repaired++;
        }
    }
}

int conv_step(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = conv_dispatch(ctx, u, out);
    conv_out_sanitize(out);
    return rc;
}

void conv_out_free(conv_out_t *out)
{
    for (int i = 0; i < out->nacts; i++) {
        free(out->acts[i].params);
        for (int k = 0; k < out->acts[i].nsql_params; k++) free(out->acts[i].sql_params[k]);
    }
    out->nacts = 0;
}
