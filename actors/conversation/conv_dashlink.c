/* conv_dashlink.c — «🖥 Войти в панель» for operators and admins.
 *
 * Purpose: the button answers with a message whose URL button (never the
 * text: link previews would open it) holds a one-time sign-in link
 * {PLUS7_PUBLIC_URL}/api/session/bot?token=<64 hex> — 32 bytes from the
 * kernel's CSPRNG. Only the token's SHA-256 is stored (staff_bot_tokens,
 * sql/020_dash_staff.sql), valid for 5 minutes, in the update's
 * transaction; the web layer (web/web_dash_session.c) spends it once and
 * checks the role again. Other roles never see the button; a stale press
 * by someone who lost the role is refused with a hint.
 *
 * Steps: none. Callbacks: none. Button: T_BTN_DASHBOARD.
 * Exports: conv_feature_dashlink, conv_dashlink_set_public_url.
 * Threads: any (pure but for the random token); the setter on the main
 * thread before workers start.
 */
#include "conv_dashlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "rt.h"
#include "tg_markup.h"

/* Written once by the main thread before the workers start (thread
 * creation orders it before every read); read-only afterwards. */
static char dl_public_url[512] = "http://127.0.0.1:8080";

void conv_dashlink_set_public_url(const char *url)
{
    if (!url || !*url) return;
    snprintf(dl_public_url, sizeof dl_public_url, "%s", url);
    size_t n = strlen(dl_public_url);
    while (n && dl_public_url[n - 1] == '/') dl_public_url[--n] = '\0';
}

static const char dl_sql_token[] =
    "INSERT INTO staff_bot_tokens (token_hash, tg_user_id, expires_at)"
    " VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2::bigint, now() + interval '5 minutes')";

static bool dl_claims(const conv_ctx_t *ctx, const char *text)
{
    (void)ctx;
    return strcmp(text, text_get(T_BTN_DASHBOARD)) == 0;
}

static int dl_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (ctx->role != CONV_OPERATOR && ctx->role != CONV_ADMIN) {
        conv_say(out, u->chat_id, text_get(T_DASH_LINK_DENIED), conv_menu_keyboard(ctx->role));
        return RT_OK;
    }
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n <= 0) return RT_EIO;   /* the actor retries the update */
        got += (size_t)n;
    }
    char token[65];
    for (size_t i = 0; i < sizeof raw; i++) snprintf(token + 2 * i, 3, "%02x", raw[i]);
    memset(raw, 0, sizeof raw);
    char uid[24], url[700];
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->tg_user_id);
    snprintf(url, sizeof url, "%s/api/session/bot?token=%s", dl_public_url, token);
    const char *p[] = {token, uid};
    conv_sql(out, dl_sql_token, 2, p);
    cJSON *kb = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(kb, "inline_keyboard");
    cJSON *row = cJSON_CreateArray(), *btn = cJSON_CreateObject();
    cJSON_AddStringToObject(btn, "text", text_get(T_DASH_LINK_BUTTON));
    cJSON_AddStringToObject(btn, "url", url);
    cJSON_AddItemToArray(row, btn);
    cJSON_AddItemToArray(rows, row);
    conv_say(out, u->chat_id, text_get(T_DASH_LINK), kb);
    return RT_OK;
}

const conv_feature_t conv_feature_dashlink = {
    .name = "dashlink",
    .step_prefix = NULL,
    .callback_prefix = NULL,
    .on_update = dl_on_update,
    .claims_button = dl_claims,
};
