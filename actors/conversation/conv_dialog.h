/* conv_dialog.h — the conversation's dialog state machine (pure logic).
 *
 * Purpose: decide, for one Telegram update and the chat's persisted state,
 * what the bot answers and what must change: the next dialog step, Bot API
 * calls to queue (as outbox rows), registration of the sender. No I/O: the
 * conversation actor feeds it facts (the sender's registration and role;
 * on request, the role granted to a phone) and executes its actions in one
 * database transaction. That keeps every dialog path unit-testable.
 *
 * Steps: "" (new chat), "await_contact", "menu", "track_wait".
 *
 * Exports: conv_role_t, conv_role_name, conv_role_parse, conv_ctx_t,
 * conv_act_t, conv_out_t, conv_step, conv_out_free.
 * Threads: any.
 */
#ifndef PLUS7_CONV_DIALOG_H
#define PLUS7_CONV_DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "phone.h"
#include "tg_update.h"

typedef enum conv_role {
    CONV_GUEST = 0,   /* not registered */
    CONV_CLIENT,
    CONV_COURIER,
    CONV_OPERATOR,
    CONV_ADMIN,
} conv_role_t;

/* "client", "courier", "operator", "admin" ("guest" for CONV_GUEST). */
const char *conv_role_name(conv_role_t r);
/* Parse a registered role name; RT_OK or RT_EINVAL. */
int conv_role_parse(const char *s, conv_role_t *out);

#define CONV_STEP_MAX 32
#define CONV_DATA_MAX 128
#define CONV_NAME_MAX 64

typedef struct conv_ctx {
    conv_role_t role;                 /* the sender's current role (GUEST if unregistered) */
    char first_name[CONV_NAME_MAX];   /* stored name, "" if unknown */
    char step[CONV_STEP_MAX];         /* persisted dialog step */
    char data[CONV_DATA_MAX];         /* persisted step data */
    bool have_phone_role;             /* answer to out->need_phone_role */
    conv_role_t phone_role;           /* role granted to that phone (CLIENT if none) */
} conv_ctx_t;

typedef enum conv_act_kind {
    CONV_ACT_CALL = 1,     /* queue a Bot API call: method + params JSON */
    CONV_ACT_REGISTER,     /* store the sender: tg_user_id, chat, phone, name */
    CONV_ACT_TRACK,        /* show tracking for `posting` (orders module) */
} conv_act_kind_t;

typedef struct conv_act {
    conv_act_kind_t kind;
    const char *method;    /* static string: "sendMessage", ... */
    char *params;          /* malloc'd JSON */
    int prio;              /* TG_PRIO_INTERACTIVE for replies */
    char phone[PHONE_E164_MAX];
    char name[CONV_NAME_MAX];
    char posting[40];
} conv_act_t;

#define CONV_ACTS_MAX 6

typedef struct conv_out {
    conv_act_t acts[CONV_ACTS_MAX];
    int nacts;
    char step[CONV_STEP_MAX];       /* next step */
    char data[CONV_DATA_MAX];       /* next step data */
    bool need_phone_role;           /* RT_PENDING: look up the role of `phone` */
    char phone[PHONE_E164_MAX];
} conv_out_t;

/* Decide the reaction to update `u` in context `ctx`. Returns RT_OK with
 * `out` filled (free with conv_out_free), or RT_PENDING with
 * out->need_phone_role set: the caller looks up the role granted to
 * out->phone, sets ctx->have_phone_role/phone_role and calls again. */
int conv_step(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);

void conv_out_free(conv_out_t *out);

#endif
