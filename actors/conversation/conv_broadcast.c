/* conv_broadcast.c — the mass-message dialog («📢 Рассылка»).
 *
 * Purpose: an operator or admin picks the message — a Telegram
 * notification template (notify_templates) or a typed text — then the
 * segment — all clients, clients with an order in a given status, clients
 * in a delivery zone (sql/008_broadcast.sql defines them) — sees the
 * message and the number of recipients, and confirms. The chosen text is
 * kept as this chat's draft row in `broadcasts` (conversations.data is too
 * small for it). Confirming, in the update's transaction, turns the draft
 * into a running broadcast, snapshots the recipients and inserts the
 * durable reminder that starts the broadcast actor (actors/broadcast/)
 * within a second of the commit — and resumes it after a restart.
 *
 * Steps: bc_pick (template or own text), bc_text (waiting for the text),
 * bc_seg (segment), bc_status, bc_zone (its argument), bc_confirm (data
 * "<segment>:<arg>"). Callbacks: "b:t:<event>", "b:txt", "b:s:all",
 * "b:s:st", "b:s:zn", "b:st:<status>", "b:z:<zone id>", "b:back",
 * "b:go:<tag>", "b:x" (cancel); each is valid in one step only, otherwise
 * it is answered as stale. The tag (a hash of the draft's text and the
 * segment) makes «Отправить» under an older confirmation — showing another
 * text or segment — stale too. Every callback is answered.
 *
 * Exports: conv_feature_broadcast.
 * Threads: any (pure).
 */
#include "conv_broadcast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order_status.h"
#include "rt.h"
#include "template.h"
#include "tg_markup.h"
#include "utf8.h"

#define BC_LABEL_CHARS 48   /* template button label, code points */

static const char bc_sql_drop_draft[] =
    "DELETE FROM broadcasts WHERE chat_id = $1::bigint AND status = 'draft'";

static const char bc_sql_save_draft[] =
    "INSERT INTO broadcasts (created_by, chat_id, template_event, body) VALUES ($1::bigint, $2::bigint, $3, $4)"
    " ON CONFLICT (chat_id) WHERE status = 'draft' DO UPDATE SET created_by = EXCLUDED.created_by,"
    " template_event = EXCLUDED.template_event, body = EXCLUDED.body, created_at = now()";

/* Draft → running, the recipients' snapshot and the actor's start, in one
 * statement (the update's transaction). Nothing happens without a draft. */
static const char bc_sql_start[] =
    "WITH b AS (UPDATE broadcasts SET status = 'running', segment = $2, segment_arg = $3, started_at = now()"
    "            WHERE chat_id = $1::bigint AND status = 'draft' RETURNING id),"
    "     r AS (INSERT INTO broadcast_recipients (broadcast_id, tg_user_id, chat_id, posting_number)"
    "           SELECT b.id, a.tg_user_id, a.chat_id, a.posting_number FROM b, broadcast_audience($2, $3) a"
    "           ON CONFLICT DO NOTHING)"
    " INSERT INTO runtime_reminders (kind, key, name, due_at) SELECT 'broadcast', b.id::text, 'run', now() FROM b"
    " ON CONFLICT (kind, key, name) DO NOTHING";

/* ---- small helpers ------------------------------------------------------------ */

static void bc_i64(char *buf, size_t n, int64_t v) { snprintf(buf, n, "%lld", (long long)v); }

static bool bc_in_step(const conv_ctx_t *ctx, const char *step) { return strcmp(ctx->step, step) == 0; }


static void bc_button(cJSON *row, text_id_t label, const char *data)
{
    tg_kb_inline_button(row, text_get(label), data);
}

static cJSON *bc_cancel_row(cJSON *kb)
{
    bc_button(tg_kb_inline_row(kb), T_BTN_CANCEL, "b:x");
    return kb;
}

/* The confirmation's tag: FNV-1a of the draft's text and "<segment>:<arg>". */
static void bc_go_data(const char *body, const char *key, char *out, size_t outsz)
{
    uint32_t h = 2166136261u;
    for (const char *p = body; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ '\n') * 16777619u;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(out, outsz, "b:go:%08x", h);
}

static void bc_home(const conv_ctx_t *ctx, conv_out_t *out)
{
    conv_set_step(out, conv_home_step(ctx->role), NULL);
}

/* The segment question (step bc_seg). */
static void bc_ask_segment(const tg_update_t *u, conv_out_t *out)
{
    cJSON *kb = tg_kb_inline_new();
    bc_button(tg_kb_inline_row(kb), T_BTN_BC_ALL, "b:s:all");
    bc_button(tg_kb_inline_row(kb), T_BTN_BC_BY_STATUS, "b:s:st");
    bc_button(tg_kb_inline_row(kb), T_BTN_BC_BY_ZONE, "b:s:zn");
    conv_say(out, u->chat_id, text_get(T_BC_SEGMENT), bc_cancel_row(kb));
    conv_set_step(out, "bc_seg", NULL);
}

static void bc_save_draft(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *event,
                          const char *body)
{
    char uid[24], chat[24];
    bc_i64(uid, sizeof uid, ctx->tg_user_id);
    bc_i64(chat, sizeof chat, u->chat_id);
    const char *p[] = {uid, chat, event, body};
    conv_sql(out, bc_sql_save_draft, 4, p);
}

/* "event: preview…" — tags dropped, whitespace folded, BC_LABEL_CHARS long. */
static void bc_template_label(const char *event, const char *body, char *out, size_t outsz)
{
    size_t len = (size_t)snprintf(out, outsz, "%s: ", event);
    if (len >= outsz) { out[utf8_drop_partial(out, outsz - 1)] = '\0'; return; }
    size_t chars = utf8_chars(out);
    bool tag = false, space = false;
    for (const char *p = body ? body : ""; *p && len + 8 < outsz; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '<') { tag = true; continue; }
        if (tag) { tag = c != '>'; continue; }
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') { space = true; continue; }
        if ((c & 0xC0) != 0x80) {
            if (chars + (space ? 1 : 0) >= BC_LABEL_CHARS) {
                snprintf(out + len, outsz - len, "…");
                return;
            }
            if (space && len && out[len - 1] != ' ') { out[len++] = ' '; chars++; }
            space = false;
            chars++;
        }
        out[len++] = (char)c;
        out[len] = '\0';
    }
    out[utf8_drop_partial(out, len)] = '\0';   /* the room ran out inside a character */
}

/* ---- the steps ------------------------------------------------------------------ */

/* «📢 Рассылка»: the templates to pick from, or straight to typing. */
static int bc_begin(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const conv_rows_t *t = conv_lookup_find(ctx, CONV_NEED_BC_TEMPLATES, "");
    if (!t) {
        conv_need(out, CONV_NEED_BC_TEMPLATES, "");
        return RT_PENDING;
    }
    char chat[24];
    bc_i64(chat, sizeof chat, u->chat_id);
    const char *p[] = {chat};
    conv_sql(out, bc_sql_drop_draft, 1, p);
    cJSON *kb = tg_kb_inline_new();
    int shown = 0;
    for (int i = 0; t->status == RT_OK && i < t->nrows && shown < 20; i++) {
        const char *event = conv_rows_value(t, i, "event");
        char data[TG_CALLBACK_DATA_MAX + 8], label[256];
        if (!event || snprintf(data, sizeof data, "b:t:%s", event) > TG_CALLBACK_DATA_MAX) continue;
        bc_template_label(event, conv_rows_value(t, i, "body"), label, sizeof label);
        if (tg_kb_inline_button(tg_kb_inline_row(kb), label, data) == RT_OK) shown++;
    }
    if (shown == 0) {   /* no templates (yet): type the text */
        cJSON_Delete(kb);
        conv_say(out, u->chat_id, text_get(T_BC_ASK_TEXT), bc_cancel_row(tg_kb_inline_new()));
        conv_set_step(out, "bc_text", NULL);
        return RT_OK;
    }
    bc_button(tg_kb_inline_row(kb), T_BTN_BC_OWN_TEXT, "b:txt");
    conv_say(out, u->chat_id, text_get(T_BC_PICK), bc_cancel_row(kb));
    conv_set_step(out, "bc_pick", NULL);
    return RT_OK;
}

/* A template picked: its body becomes the draft. */
static int bc_pick_template(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *event)
{
    const conv_rows_t *t = conv_lookup_find(ctx, CONV_NEED_BC_TEMPLATES, "");
    if (!t) {
        conv_need(out, CONV_NEED_BC_TEMPLATES, "");
        return RT_PENDING;
    }
    const char *body = NULL;
    for (int i = 0; t->status == RT_OK && i < t->nrows && !body; i++) {
        const char *e = conv_rows_value(t, i, "event");
        if (e && strcmp(e, event) == 0) body = conv_rows_value(t, i, "body");
    }
    if (!body || !*body || tpl_check(body, NULL, 0) != RT_OK) {
        conv_answer_callback(out, u, text_get(T_BC_TEMPLATE_GONE));
        return RT_OK;
    }
    conv_answer_callback(out, u, NULL);
    bc_save_draft(ctx, u, out, event, body);
    bc_ask_segment(u, out);
    return RT_OK;
}

/* The typed text (step bc_text): escaped for HTML, placeholders checked. */
static int bc_on_text(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const char *t = u->text;
    while (t && (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')) t++;
    if (!t || !*t) {
        conv_say(out, u->chat_id, text_get(T_BC_TEXT_EMPTY), NULL);
        return RT_OK;
    }
    if (utf8_chars(t) > CONV_BC_TEXT_MAX) {
        conv_say(out, u->chat_id, text_get(T_BC_TEXT_TOO_LONG), NULL);
        return RT_OK;
    }
    char *body = tg_html_escape(t);
    if (!body) return RT_ENOMEM;
    size_t n = strlen(body);
    while (n && (body[n - 1] == ' ' || body[n - 1] == '\n' || body[n - 1] == '\t' || body[n - 1] == '\r'))
        body[--n] = '\0';
    char bad[64];
    if (tpl_check(body, bad, sizeof bad) != RT_OK) {
        conv_sayf(out, u->chat_id, T_BC_TEXT_BAD, bad, NULL);
        free(body);
        return RT_OK;
    }
    bc_save_draft(ctx, u, out, NULL, body);
    free(body);
    bc_ask_segment(u, out);
    return RT_OK;
}

static void bc_ask_status(const tg_update_t *u, conv_out_t *out)
{
    cJSON *kb = tg_kb_inline_new();
    cJSON *row = NULL;
    for (int s = ORDER_CREATED; s <= ORDER_CANCELLED; s++) {
        if ((s - ORDER_CREATED) % 2 == 0) row = tg_kb_inline_row(kb);
        char data[40];
        snprintf(data, sizeof data, "b:st:%s", order_status_code((order_status_t)s));
        tg_kb_inline_button(row, order_status_name_ru((order_status_t)s), data);
    }
    row = tg_kb_inline_row(kb);
    bc_button(row, T_BTN_BC_BACK, "b:back");
    bc_button(row, T_BTN_CANCEL, "b:x");
    conv_say(out, u->chat_id, text_get(T_BC_PICK_STATUS), kb);
    conv_set_step(out, "bc_status", NULL);
}

static int bc_ask_zone(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const conv_rows_t *z = conv_lookup_find(ctx, CONV_NEED_BC_ZONES, "");
    if (!z) {
        conv_need(out, CONV_NEED_BC_ZONES, "");
        return RT_PENDING;
    }
    cJSON *kb = tg_kb_inline_new();
    int shown = 0;
    for (int i = 0; z->status == RT_OK && i < z->nrows && shown < 30; i++) {
        const char *id = conv_rows_value(z, i, "id"), *name = conv_rows_value(z, i, "name");
        char data[TG_CALLBACK_DATA_MAX + 8];
        if (!id || !name || snprintf(data, sizeof data, "b:z:%s", id) > TG_CALLBACK_DATA_MAX) continue;
        if (tg_kb_inline_button(tg_kb_inline_row(kb), name, data) == RT_OK) shown++;
    }
    if (shown == 0) {
        cJSON_Delete(kb);
        conv_say(out, u->chat_id, text_get(T_BC_NO_ZONES), NULL);
        bc_ask_segment(u, out);
        return RT_OK;
    }
    cJSON *row = tg_kb_inline_row(kb);
    bc_button(row, T_BTN_BC_BACK, "b:back");
    bc_button(row, T_BTN_CANCEL, "b:x");
    conv_say(out, u->chat_id, text_get(T_BC_PICK_ZONE), kb);
    conv_set_step(out, "bc_zone", NULL);
    return RT_OK;
}

/* Does the body use an order's placeholders (empty for "all clients")? */
static bool bc_uses_order_vars(const char *body)
{
    static const char *const vars[] = {"{posting}", "{status}", "{pickup_point}", "{storage_deadline}", "{address}"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strstr(body, vars[i])) return true;
    return false;
}

/* A segment chosen: count its recipients and ask to confirm. */
static int bc_confirm(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *kind,
                      const char *arg)
{
    char key[CONV_KEY_MAX];
    snprintf(key, sizeof key, "%s:%s", kind, arg);
    const conv_rows_t *c = conv_lookup_find(ctx, CONV_NEED_BC_COUNT, key);
    const conv_rows_t *d = conv_lookup_find(ctx, CONV_NEED_BC_DRAFT, "");
    if (!c || !d) {
        if (!c) conv_need(out, CONV_NEED_BC_COUNT, key);
        if (!d) conv_need(out, CONV_NEED_BC_DRAFT, "");
        return RT_PENDING;
    }
    conv_answer_callback(out, u, NULL);
    const char *body = conv_rows_value(d, 0, "body");
    if (d->status != RT_OK || !body) {
        bc_home(ctx, out);
        conv_say(out, u->chat_id, text_get(T_BC_DRAFT_GONE), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    const char *n_s = conv_rows_value(c, 0, "recipients");
    if (c->status != RT_OK || !n_s) {
        conv_say(out, u->chat_id, text_get(T_BC_UNAVAILABLE), NULL);
        bc_ask_segment(u, out);
        return RT_OK;
    }
    long long n = strtoll(n_s, NULL, 10);
    if (n <= 0) {
        conv_say(out, u->chat_id, text_get(T_BC_NOBODY), NULL);
        bc_ask_segment(u, out);
        return RT_OK;
    }
    char who[512], *esc = NULL;
    if (strcmp(kind, "all") == 0) {
        snprintf(who, sizeof who, "%s", text_get(T_BC_SEG_ALL));
    } else if (strcmp(kind, "status") == 0) {
        order_status_t st = ORDER_NONE;
        order_status_parse(arg, &st);
        snprintf(who, sizeof who, text_get(T_BC_SEG_STATUS), order_status_name_ru(st));
    } else {
        const char *label = conv_rows_value(c, 0, "label");
        char cut[64 * 4 + 1];   /* a zone's name, at most 64 characters here */
        utf8_copy(cut, utf8_cut_chars(label ? label : arg, 64) + 1, label ? label : arg);
        esc = tg_html_escape(cut);
        snprintf(who, sizeof who, text_get(T_BC_SEG_ZONE), esc ? esc : "");
    }
    free(esc);
    size_t cap = strlen(body) + 2048;
    char *msg = malloc(cap);
    if (!msg) return RT_ENOMEM;
    int len = snprintf(msg, cap, text_get(T_BC_CONFIRM), body, who, n);
    if (strcmp(kind, "all") == 0 && bc_uses_order_vars(body) && len > 0 && (size_t)len < cap)
        snprintf(msg + len, cap - (size_t)len, "\n\n%s", text_get(T_BC_WARN_ORDER_VARS));
    cJSON *kb = tg_kb_inline_new();
    char go[32];
    bc_go_data(body, key, go, sizeof go);
    bc_button(tg_kb_inline_row(kb), T_BTN_BC_SEND, go);
    cJSON *row = tg_kb_inline_row(kb);
    bc_button(row, T_BTN_BC_BACK, "b:back");
    bc_button(row, T_BTN_CANCEL, "b:x");
    conv_say(out, u->chat_id, msg, kb);
    free(msg);
    conv_set_step(out, "bc_confirm", key);
    return RT_OK;
}

/* «✅ Отправить»: start it (step bc_confirm, data "<segment>:<arg>"). */
static int bc_go(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const conv_rows_t *d = conv_lookup_find(ctx, CONV_NEED_BC_DRAFT, "");
    if (!d) {
        conv_need(out, CONV_NEED_BC_DRAFT, "");
        return RT_PENDING;
    }
    const char *body = conv_rows_value(d, 0, "body");
    char go[32];
    bc_go_data(body ? body : "", ctx->data, go, sizeof go);
    if (d->status == RT_OK && body && strcmp(u->callback_data, go) != 0) {   /* an older confirmation */
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    conv_answer_callback(out, u, NULL);
    bc_home(ctx, out);
    char kind[16];
    const char *colon = strchr(ctx->data, ':');
    size_t kn = colon ? (size_t)(colon - ctx->data) : 0;
    if (d->status != RT_OK || d->nrows == 0 || !colon || kn >= sizeof kind) {
        conv_say(out, u->chat_id, text_get(T_BC_DRAFT_GONE), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    memcpy(kind, ctx->data, kn);
    kind[kn] = '\0';
    char chat[24];
    bc_i64(chat, sizeof chat, u->chat_id);
    const char *p[] = {chat, kind, colon + 1};
    conv_sql(out, bc_sql_start, 3, p);
    conv_say(out, u->chat_id, text_get(T_BC_STARTED), conv_menu_keyboard(ctx->role));
    return RT_OK;
}

static int bc_stale(const tg_update_t *u, conv_out_t *out)
{
    conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
    return RT_OK;
}

static int bc_on_callback(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const char *d = u->callback_data + 2;   /* after "b:" */
    if (strcmp(d, "x") == 0) {
        if (strncmp(ctx->step, "bc_", 3) != 0) return bc_stale(u, out);
        char chat[24];
        bc_i64(chat, sizeof chat, u->chat_id);
        const char *p[] = {chat};
        conv_sql(out, bc_sql_drop_draft, 1, p);
        conv_answer_callback(out, u, NULL);
        bc_home(ctx, out);
        conv_say(out, u->chat_id, text_get(T_CANCELLED), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    if (strncmp(d, "t:", 2) == 0 && bc_in_step(ctx, "bc_pick")) return bc_pick_template(ctx, u, out, d + 2);
    if (strcmp(d, "txt") == 0 && bc_in_step(ctx, "bc_pick")) {
        conv_answer_callback(out, u, NULL);
        conv_say(out, u->chat_id, text_get(T_BC_ASK_TEXT), bc_cancel_row(tg_kb_inline_new()));
        conv_set_step(out, "bc_text", NULL);
        return RT_OK;
    }
    if (strncmp(d, "s:", 2) == 0 && bc_in_step(ctx, "bc_seg")) {
        if (strcmp(d + 2, "all") == 0) return bc_confirm(ctx, u, out, "all", "");
        if (strcmp(d + 2, "st") == 0) {
            conv_answer_callback(out, u, NULL);
            bc_ask_status(u, out);
            return RT_OK;
        }
        if (strcmp(d + 2, "zn") == 0) {
            int rc = bc_ask_zone(ctx, u, out);
            if (rc == RT_OK) conv_answer_callback(out, u, NULL);
            return rc;
        }
        return bc_stale(u, out);
    }
    order_status_t st;
    if (strncmp(d, "st:", 3) == 0 && bc_in_step(ctx, "bc_status") && order_status_parse(d + 3, &st) == RT_OK)
        return bc_confirm(ctx, u, out, "status", order_status_code(st));
    if (strncmp(d, "z:", 2) == 0 && bc_in_step(ctx, "bc_zone") && d[2] && strlen(d + 2) < 24)
        return bc_confirm(ctx, u, out, "zone", d + 2);
    if (strcmp(d, "back") == 0 &&
        (bc_in_step(ctx, "bc_status") || bc_in_step(ctx, "bc_zone") || bc_in_step(ctx, "bc_confirm"))) {
        conv_answer_callback(out, u, NULL);
        bc_ask_segment(u, out);
        return RT_OK;
    }
    if (strncmp(d, "go:", 3) == 0 && bc_in_step(ctx, "bc_confirm")) return bc_go(ctx, u, out);
    return bc_stale(u, out);
}

/* ---- the feature ------------------------------------------------------------------ */

static bool bc_is_staff(const conv_ctx_t *ctx) { return ctx->role == CONV_OPERATOR || ctx->role == CONV_ADMIN; }

static int bc_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (!bc_is_staff(ctx)) {
        if (u->kind == TG_UPD_CALLBACK) {
            conv_answer_callback(out, u, text_get(T_BC_NO_RIGHTS));
        } else {
            bc_home(ctx, out);
            conv_say(out, u->chat_id, text_get(T_BC_NO_RIGHTS), conv_menu_keyboard(ctx->role));
        }
        return RT_OK;
    }
    if (u->kind == TG_UPD_CALLBACK) return bc_on_callback(ctx, u, out);
    if (u->text) {
        char t[64];
        utf8_trim_copy(t, sizeof t, u->text);
        if (strcmp(t, text_get(T_BTN_BROADCAST)) == 0) return bc_begin(ctx, u, out);
    }
    if (bc_in_step(ctx, "bc_text")) return bc_on_text(ctx, u, out);
    conv_say(out, u->chat_id, text_get(T_BC_USE_BUTTONS), NULL);
    return RT_OK;
}

static bool bc_claims(const conv_ctx_t *ctx, const char *text)
{
    return bc_is_staff(ctx) && strcmp(text, text_get(T_BTN_BROADCAST)) == 0;
}

const conv_feature_t conv_feature_broadcast = {
    .name = "broadcast",
    .step_prefix = "bc_",
    .callback_prefix = "b:",
    .on_update = bc_on_update,
    .claims_button = bc_claims,
    .takes_media = true,   /* its steps explain what they wait for */
};
