/* conv_dialog.h — the conversation's dialog state machine (pure logic).
 *
 * Purpose: decide, for one Telegram update and the chat's persisted state,
 * what the bot answers and what must change: the next dialog step, Bot API
 * calls to queue (as outbox rows), database changes (registration,
 * subscriptions, feature rows). No I/O: the conversation actor feeds it
 * facts and executes its actions in one database transaction, which keeps
 * every dialog path unit-testable.
 *
 * Facts the dialog needs beyond the update come as LOOKUPS. The dialog
 * asks for one (conv_need) and returns RT_PENDING; the actor runs it (a
 * named SQL query, see conv_lookups.c; for an order it first makes sure the
 * posting exists, fetching it from Ozon), adds the rows to ctx->lookups and
 * calls conv_step again with the same update. Each call starts from
 * scratch, so the decision is a pure function of (update, state, lookups).
 *
 * Features (tracking, the delivery form, mass messages, pickup buttons)
 * live in their own files and plug in through conv_feature_t
 * (conv_features.c lists them); this file owns commands, registration,
 * menus and dispatch. Dispatch rules: a main-menu button (also one of an
 * older menu still on a person's screen) is never swallowed by a step — it
 * leaves the step; a message without text (sticker, voice, photo, pin)
 * reaches a step only if its feature takes media, else it gets a short
 * hint and the step waits on; each role's keyboard holds only buttons that
 * work today; a registered person never gets the guest keyboard.
 *
 * Exports: conv_role_t, conv_role_name, conv_role_parse, conv_rows_t,
 * conv_lookup_t, conv_need_kind_t, conv_ctx_t, conv_act_t, conv_out_t,
 * conv_feature_t, conv_step, conv_out_free, conv_lookup_find, conv_need,
 * conv_rows_value, conv_rows_col, and the reply helpers conv_say,
 * conv_sayf, conv_answer_callback, conv_set_step, conv_menu_keyboard,
 * conv_sql, conv_track_posting, conv_track_order.
 * Threads: any.
 */
#ifndef PLUS7_CONV_DIALOG_H
#define PLUS7_CONV_DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phone.h"
#include "posting.h"
#include "texts.h"
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

/* ---- lookups --------------------------------------------------------------- */

typedef enum conv_need_kind {
    CONV_NEED_PHONE_ROLE = 1,   /* key: E.164 phone → role */
    CONV_NEED_ORDER,            /* key: posting → the order row with its history */
    CONV_NEED_MY_ORDERS,        /* key: "" → the sender's orders */
    CONV_NEED_ORDER_POSTINGS,   /* key: Ozon order number → its postings */
    CONV_NEED__FEATURE = 32,    /* feature lookups start here (conv_lookups.c) */
} conv_need_kind_t;

/* A row set (owned by the actor). values are row-major, NULL = SQL NULL. */
typedef struct conv_rows {
    int status;                 /* RT_OK, RT_ENOTFOUND (order unknown), RT_E* */
    int nrows, ncols;
    const char *const *cols;
    const char *const *values;
} conv_rows_t;

#define CONV_KEY_MAX 160
#define CONV_LOOKUPS_MAX 8

typedef struct conv_lookup {
    int kind;
    char key[CONV_KEY_MAX];
    conv_rows_t rows;
} conv_lookup_t;

/* Value at (row, column name) or NULL (SQL NULL, no such row or column). */
const char *conv_rows_value(const conv_rows_t *r, int row, const char *col);
/* Index of a column or -1. */
int conv_rows_col(const conv_rows_t *r, const char *col);

#define CONV_STEP_MAX 32
#define CONV_TEXT_MAX 512      /* a typed text as the dispatcher matches it (bytes) */
#define CONV_ECHO_CHARS 200    /* a person's text quoted back in a reply (characters) */
#define CONV_DATA_MAX 512
#define CONV_NAME_MAX 64

typedef struct conv_ctx {
    conv_role_t role;                 /* the sender's current role (GUEST if unregistered) */
    int64_t tg_user_id;               /* the sender */
    char phone[PHONE_E164_MAX];       /* the sender's phone, "" if unregistered */
    char first_name[CONV_NAME_MAX];   /* stored name, "" if unknown */
    char step[CONV_STEP_MAX];         /* persisted dialog step */
    char data[CONV_DATA_MAX];         /* persisted step data (feature-defined) */
    conv_lookup_t lookups[CONV_LOOKUPS_MAX];
    int nlookups;
} conv_ctx_t;

/* The lookup (kind, key) if the actor has run it, else NULL. */
const conv_rows_t *conv_lookup_find(const conv_ctx_t *ctx, int kind, const char *key);

/* ---- actions ---------------------------------------------------------------- */

typedef enum conv_act_kind {
    CONV_ACT_CALL = 1,     /* queue a Bot API call: method + params JSON */
    CONV_ACT_REGISTER,     /* store the sender: phone, name */
    CONV_ACT_SQL,          /* run `sql` with params in the update's transaction */
    CONV_ACT_AFTER,        /* after the commit: after(rt, sql_params[0]) (wake another actor) */
} conv_act_kind_t;

#define CONV_SQL_PARAMS 10

typedef struct conv_act {
    conv_act_kind_t kind;
    const char *method;    /* CALL: static string: "sendMessage", ... */
    char *params;          /* CALL: malloc'd JSON */
    int prio;              /* CALL: TG_PRIO_INTERACTIVE for replies */
    char phone[PHONE_E164_MAX];   /* REGISTER */
    char name[CONV_NAME_MAX];     /* REGISTER */
    const char *sql;              /* SQL: static statement text */
    int nsql_params;
    char *sql_params[CONV_SQL_PARAMS]; /* SQL: malloc'd, NULL = SQL NULL */
    void (*after)(void *rt, const char *arg);   /* AFTER: called with the runtime */
} conv_act_t;

#define CONV_ACTS_MAX 12
#define CONV_NEEDS_MAX 4

typedef struct conv_need {
    int kind;
    char key[CONV_KEY_MAX];
} conv_need_t;

typedef struct conv_out {
    conv_act_t acts[CONV_ACTS_MAX];
    int nacts;
    char step[CONV_STEP_MAX];       /* next step */
    char data[CONV_DATA_MAX];       /* next step data */
    conv_need_t needs[CONV_NEEDS_MAX];
    int nneeds;
    bool kick_logistics;            /* an SQL action queued an outbound logistics event */
    int repaired;                   /* texts conv_step had to repair to valid UTF-8 (a bug if > 0) */
} conv_out_t;

/* Ask for a lookup (the caller then returns RT_PENDING). */
void conv_need(conv_out_t *out, int kind, const char *key);

/* Decide the reaction to update `u` in context `ctx`. Returns RT_OK with
 * `out` filled (free with conv_out_free), or RT_PENDING with out->needs
 * listing lookups to run before calling again (out holds nothing to free
 * but must still be passed to conv_out_free). Every text in `out` (reply
 * parameters, SQL parameters, step data) is valid UTF-8: texts are cut on
 * character boundaries, and anything invalid that still slipped through is
 * repaired here and counted in out->repaired. */
int conv_step(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);

void conv_out_free(conv_out_t *out);

/* ---- helpers for feature files ------------------------------------------------ */

/* Queue sendMessage with `html` and an optional markup (ownership taken). */
void conv_say(conv_out_t *out, int64_t chat, const char *html, cJSON *markup);
/* Catalogue text `id` with one person-supplied argument, cut to
 * CONV_ECHO_CHARS characters ("…" marks a cut) and HTML-escaped. */
void conv_sayf(conv_out_t *out, int64_t chat, text_id_t id, const char *arg, cJSON *markup);
/* Queue an arbitrary Bot API call (params: malloc'd JSON, ownership taken). */
void conv_call(conv_out_t *out, const char *method, char *params);
/* answerCallbackQuery for the update's callback (text may be NULL). */
void conv_answer_callback(conv_out_t *out, const tg_update_t *u, const char *text);
void conv_set_step(conv_out_t *out, const char *step, const char *data);
/* The main-menu reply keyboard of a role. */
cJSON *conv_menu_keyboard(conv_role_t role);
/* The home step of a role ("menu", or "await_contact" for guests). */
const char *conv_home_step(conv_role_t r);
/* After the commit, poke the actor of kind `kind` ("order", "courier",
 * "courier_dispatcher"; any kind whose poke the poker knows) with `key`:
 * a CONV_ACT_AFTER action calling the poker with "kind:key". Without a
 * poker (pure tests) nothing is queued. */
void conv_poke(conv_out_t *out, const char *kind, const char *key);
/* Install the poker (conv_actor.c's), on the main thread before the
 * workers start. */
void conv_set_poker(void (*fn)(void *rt, const char *arg));
/* Queue a SQL statement (static text) with up to CONV_SQL_PARAMS text
 * parameters (copied; NULL = SQL NULL) into the update's transaction. */
void conv_sql(conv_out_t *out, const char *sql, int n, const char *const *params);
/* Call fn(rt, arg) once the update's transaction has committed (arg
 * copied); e.g. wake the actor that acts on rows the transaction wrote. */
conv_act_t *conv_after(conv_out_t *out, void (*fn)(void *rt, const char *arg), const char *arg);

/* ---- features ------------------------------------------------------------------ */

typedef struct conv_feature {
    const char *name;
    const char *step_prefix;       /* steps it owns, e.g. "form_" (NULL: none) */
    const char *callback_prefix;   /* callback data it owns, e.g. "f:" (NULL: none) */
    /* Called for updates in its steps, for its callbacks and (with
     * `started` true) when a main-menu button it claims is pressed. Return
     * RT_OK / RT_PENDING like conv_step. */
    int (*on_update)(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);
    /* Does this main-menu button text start the feature for this role? */
    bool (*claims_button)(const conv_ctx_t *ctx, const char *text);
    /* Do its steps take messages without text (a pin, a photo)? Otherwise
     * the dispatcher answers those with a short hint and keeps the step. */
    bool takes_media;
} conv_feature_t;

/* NULL-terminated list (conv_features.c). */
extern const conv_feature_t *const conv_features[];

/* Tracking entry point used by the dispatcher for a bare posting number
 * and the /start deep link (conv_track.c). */
int conv_track_posting(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting);
/* An Ozon order number (12345678-0001): list its postings (conv_track.c). */
int conv_track_order(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *order);

#endif
