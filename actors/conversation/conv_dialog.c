/* conv_dialog.c — dialog state machine (see conv_dialog.h).
 * Exports: see conv_dialog.h. Threads: any.
 */
#include "conv_dialog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posting.h"
#include "rt.h"
#include "texts.h"
#include "tg_flood.h"
#include "tg_markup.h"

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

/* ---- building replies ------------------------------------------------------ */

static void conv_call(conv_out_t *out, const char *method, char *params)
{
    if (!params || out->nacts >= CONV_ACTS_MAX) { free(params); return; }
    conv_act_t *a = &out->acts[out->nacts++];
    a->kind = CONV_ACT_CALL;
    a->method = method;
    a->params = params;
    a->prio = TG_PRIO_INTERACTIVE;
}

static cJSON *conv_menu_keyboard(conv_role_t role)
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
        tg_kb_reply_button(row, text_get(T_BTN_SUPPORT), 0);
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_RETURN), 0);
        tg_kb_reply_button(row, text_get(T_BTN_HELP), 0);
        break;
    case CONV_COURIER:
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_ROUTE), 0);
        tg_kb_reply_button(row, text_get(T_BTN_LOCATION), 2);
        tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_HELP), 0);
        break;
    case CONV_OPERATOR:
    case CONV_ADMIN:
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_TICKETS), 0);
        tg_kb_reply_button(row, text_get(T_BTN_FIND_ORDER), 0);
        row = tg_kb_reply_row(kb);
        tg_kb_reply_button(row, text_get(T_BTN_BROADCAST), 0);
        if (role == CONV_ADMIN) tg_kb_reply_button(row, text_get(T_BTN_ADMIN), 0);
        tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_HELP), 0);
        break;
    }
    return kb;
}

static void conv_say(conv_out_t *out, int64_t chat, const char *html, cJSON *markup)
{
    conv_call(out, "sendMessage", tg_params_send_message(chat, html, markup));
}

/* Say a catalogue text with one person-supplied argument, escaped. */
static void conv_sayf(conv_out_t *out, int64_t chat, text_id_t id, const char *arg, cJSON *markup)
{
    char *esc = tg_html_escape(arg);
    char buf[1024];
    snprintf(buf, sizeof buf, text_get(id), esc ? esc : "");
    free(esc);
    conv_say(out, chat, buf, markup);
}

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

static void conv_set_step(conv_out_t *out, const char *step, const char *data)
{
    snprintf(out->step, sizeof out->step, "%s", step);
    snprintf(out->data, sizeof out->data, "%s", data ? data : "");
}

static const char *conv_home_step(conv_role_t r) { return r == CONV_GUEST ? "await_contact" : "menu"; }

static void conv_track(conv_out_t *out, const char *posting)
{
    if (out->nacts >= CONV_ACTS_MAX) return;
    conv_act_t *a = &out->acts[out->nacts++];
    a->kind = CONV_ACT_TRACK;
    snprintf(a->posting, sizeof a->posting, "%s", posting);
}

/* ---- handlers --------------------------------------------------------------- */

static void conv_on_command(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    int64_t chat = u->chat_id;
    const char *cmd = u->command;
    if (strcmp(cmd, "/start") == 0) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        if (ctx->role == CONV_GUEST)
            conv_say(out, chat, text_get(T_GREETING), conv_menu_keyboard(CONV_GUEST));
        else
            conv_sayf(out, chat, T_WELCOME_BACK, ctx->first_name[0] ? ctx->first_name : "", conv_menu_keyboard(ctx->role));
        if (u->command_arg && posting_is_valid(u->command_arg)) conv_track(out, u->command_arg);
    } else if (strcmp(cmd, "/cancel") == 0) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_say(out, chat, text_get(T_CANCELLED), conv_menu_keyboard(ctx->role));
    } else if (strcmp(cmd, "/help") == 0) {
        conv_say(out, chat, text_get(conv_help_text(ctx->role)), conv_menu_keyboard(ctx->role));
    } else if (strcmp(cmd, "/menu") == 0) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_say(out, chat, text_get(conv_menu_text(ctx->role)), conv_menu_keyboard(ctx->role));
    } else {
        conv_say(out, chat, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
    }
}

static int conv_on_contact(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    int64_t chat = u->chat_id;
    char phone[PHONE_E164_MAX];
    if (u->contact_user_id == 0 || u->contact_user_id != u->from_id) {
        conv_say(out, chat, text_get(T_CONTACT_NOT_OWN), conv_menu_keyboard(CONV_GUEST));
        return RT_OK;
    }
    if (phone_normalize(u->contact_phone, phone) != RT_OK) {
        conv_say(out, chat, text_get(T_CONTACT_BAD_PHONE), conv_menu_keyboard(CONV_GUEST));
        return RT_OK;
    }
    if (!ctx->have_phone_role) {
        out->need_phone_role = true;
        memcpy(out->phone, phone, sizeof phone);
        return RT_PENDING;
    }
    conv_act_t *a = &out->acts[out->nacts++];
    a->kind = CONV_ACT_REGISTER;
    memcpy(a->phone, phone, sizeof phone);
    snprintf(a->name, sizeof a->name, "%s", u->from_first_name ? u->from_first_name : "");
    conv_set_step(out, "menu", NULL);
    conv_sayf(out, chat, T_REGISTERED, u->from_first_name ? u->from_first_name : "", conv_menu_keyboard(ctx->phone_role));
    return RT_OK;
}

/* A reply-keyboard button pressed (its text arrives as a message). Returns
 * true when `text` was a button. */
static bool conv_on_button(const conv_ctx_t *ctx, const char *text, int64_t chat, conv_out_t *out)
{
    static const text_id_t later[] = {T_BTN_ORDER, T_BTN_MY_ORDERS, T_BTN_SUPPORT, T_BTN_RETURN, T_BTN_ROUTE,
                                      T_BTN_LOCATION, T_BTN_TICKETS, T_BTN_BROADCAST, T_BTN_FIND_ORDER, T_BTN_ADMIN};
    if (strcmp(text, text_get(T_BTN_TRACK)) == 0) {
        conv_set_step(out, "track_wait", NULL);
        conv_say(out, chat, text_get(T_TRACK_ASK), NULL);
        return true;
    }
    if (strcmp(text, text_get(T_BTN_HELP)) == 0) {
        conv_say(out, chat, text_get(conv_help_text(ctx->role)), conv_menu_keyboard(ctx->role));
        return true;
    }
    if (strcmp(text, text_get(T_BTN_SHARE_PHONE)) == 0) {
        conv_say(out, chat, text_get(T_ASK_CONTACT), conv_menu_keyboard(CONV_GUEST));
        return true;
    }
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        if (strcmp(text, text_get(later[i])) != 0) continue;
        if (ctx->role == CONV_GUEST) conv_say(out, chat, text_get(T_NEED_REGISTRATION), conv_menu_keyboard(CONV_GUEST));
        else conv_say(out, chat, text_get(T_SOON), conv_menu_keyboard(ctx->role));
        return true;
    }
    return false;
}

static void conv_on_text(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    int64_t chat = u->chat_id;
    char text[256];
    snprintf(text, sizeof text, "%s", u->text);
    /* trim */
    char *t = text;
    while (*t == ' ' || *t == '\n') t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n')) t[--n] = '\0';

    if (conv_on_button(ctx, t, chat, out)) return;
    if (posting_is_valid(t)) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_track(out, t);
        return;
    }
    if (strcmp(ctx->step, "track_wait") == 0) {
        conv_sayf(out, chat, T_TRACK_BAD_FORMAT, t, NULL);
        return;
    }
    conv_say(out, chat, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
}

int conv_step(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    memset(out, 0, sizeof *out);
    conv_set_step(out, ctx->step, ctx->data);
    if (u->kind == TG_UPD_CALLBACK) {
        /* Every callback is answered, or the client shows a spinner. No
         * inline flows exist yet, so any data is stale. */
        conv_call(out, "answerCallbackQuery", tg_params_answer_callback(u->callback_id, text_get(T_CALLBACK_STALE)));
        return RT_OK;
    }
    if (u->kind != TG_UPD_MESSAGE || !u->chat_private || u->chat_id == 0) return RT_OK;
    if (u->command) {
        conv_on_command(ctx, u, out);
        return RT_OK;
    }
    if (u->has_contact) return conv_on_contact(ctx, u, out);
    if (u->text) {
        conv_on_text(ctx, u, out);
        return RT_OK;
    }
    if (ctx->role == CONV_GUEST) conv_say(out, u->chat_id, text_get(T_ASK_CONTACT), conv_menu_keyboard(CONV_GUEST));
    else conv_say(out, u->chat_id, text_get(T_NOT_UNDERSTOOD), conv_menu_keyboard(ctx->role));
    return RT_OK;
}

void conv_out_free(conv_out_t *out)
{
    for (int i = 0; i < out->nacts; i++) free(out->acts[i].params);
    out->nacts = 0;
}
