/* conv_courier_shared.c — helpers the courier dialog files share (see
 * conv_courier.h): the delivery lookup decoded, card references, sends to
 * another chat, pokes after the commit, courier events for the order actor,
 * the one-tap slot keyboard.
 * Exports: cc_delivery_get, cc_parse_ref, cc_send_to, cc_poke_order,
 * cc_poke_courier, cc_order_event, cc_slot_keyboard, cc_utf8_trim, cc_hhmm.
 * Threads: any (pure).
 */
#include "conv_courier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt.h"
#include "tg_markup.h"

#define CC_SLOT_BUTTONS 9

static bool cc_flag(const conv_rows_t *r, const char *col)
{
    const char *v = conv_rows_value(r, 0, col);
    return v && (v[0] == 't' || v[0] == '1');
}

static void cc_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int cc_delivery_get(const conv_ctx_t *ctx, conv_out_t *out, int64_t id, cc_delivery_t *d)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)id);
    const conv_rows_t *r = conv_lookup_find(ctx, CONV_NEED_DELIVERY, key);
    if (!r) {
        conv_need(out, CONV_NEED_DELIVERY, key);
        return RT_PENDING;
    }
    memset(d, 0, sizeof *d);
    if (r->status != RT_OK) return RT_EIO;
    if (r->nrows == 0) return RT_ENOTFOUND;
    d->id = id;
    cc_copy(d->posting, sizeof d->posting, conv_rows_value(r, 0, "posting_number"));
    cc_copy(d->stage, sizeof d->stage, conv_rows_value(r, 0, "stage"));
    const char *status = conv_rows_value(r, 0, "status");
    d->ordered = status && strcmp(status, "ordered") == 0;
    const char *v;
    d->card_gen = (v = conv_rows_value(r, 0, "card_gen")) ? atoi(v) : 0;
    cc_copy(d->pin, sizeof d->pin, conv_rows_value(r, 0, "pin"));
    d->pin_tries = (v = conv_rows_value(r, 0, "pin_tries")) ? atoi(v) : 0;
    d->locked = cc_flag(r, "locked");
    d->courier_tg = (v = conv_rows_value(r, 0, "courier_tg")) ? strtoll(v, NULL, 10) : 0;
    cc_copy(d->courier_name, sizeof d->courier_name, conv_rows_value(r, 0, "courier_name"));
    cc_utf8_trim(d->courier_name);
    d->client_chat = (v = conv_rows_value(r, 0, "client_chat")) ? strtoll(v, NULL, 10) : 0;
    const char *lat = conv_rows_value(r, 0, "lat"), *lon = conv_rows_value(r, 0, "lon");
    d->has_point = lat && lon;
    d->lat = lat ? atof(lat) : 0;
    d->lon = lon ? atof(lon) : 0;
    const char *clat = conv_rows_value(r, 0, "c_lat"), *clon = conv_rows_value(r, 0, "c_lon");
    d->courier_has_point = clat && clon;
    d->c_lat = clat ? atof(clat) : 0;
    d->c_lon = clon ? atof(clon) : 0;
    cc_copy(d->t_start, sizeof d->t_start, conv_rows_value(r, 0, "t_start"));
    cc_copy(d->t_end, sizeof d->t_end, conv_rows_value(r, 0, "t_end"));
    cc_copy(d->day, sizeof d->day, conv_rows_value(r, 0, "day"));
    d->now_ms = (v = conv_rows_value(r, 0, "now_ms")) ? strtoll(v, NULL, 10) : 0;
    d->price_kop = (v = conv_rows_value(r, 0, "price")) ? strtoll(v, NULL, 10) : 0;
    d->paid = cc_flag(r, "paid");
    return RT_OK;
}

bool cc_parse_ref(const char *s, int64_t *id, int *gen, const char **rest)
{
    char *end;
    if (!s || *s < '1' || *s > '9') return false;
    long long v = strtoll(s, &end, 10);
    if (*end != ':' || v <= 0) return false;
    const char *g = end + 1;
    if (*g < '0' || *g > '9') return false;
    long gv = strtol(g, &end, 10);
    if (gv < 0 || gv > 1000000000L) return false;
    if (*end == ':') {
        if (!rest) return false;
        *rest = end + 1;
    } else if (*end != '\0') {
        return false;
    } else if (rest) {
        *rest = NULL;
    }
    *id = v;
    *gen = (int)gv;
    return true;
}

void cc_send_to(conv_out_t *out, int64_t chat, const char *html, cJSON *markup, const char *key)
{
    char *params = tg_params_send_message(chat, html, markup);
    char chat_s[24];
    snprintf(chat_s, sizeof chat_s, "%lld", (long long)chat);
    const char *q[] = {chat_s, params, key};
    conv_sql(out, "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
                  " VALUES ($1::bigint, 'sendMessage', $2, 0, $3) ON CONFLICT (dedupe_key) DO NOTHING", 3, q);
    free(params);
}

void cc_poke_order(conv_out_t *out, const char *posting) { conv_poke(out, "order", posting); }

void cc_poke_courier(conv_out_t *out, int64_t tg_user_id)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)tg_user_id);
    conv_poke(out, "courier", key);
}

void cc_order_event(conv_out_t *out, const char *posting, const char *status, const char *event_id,
                    const char *comment)
{
    const char *q[] = {event_id, posting, status, comment};
    conv_sql(out, "INSERT INTO logistics_inbox (event_id, posting_number, status, at, comment, source)"
                  " VALUES ($1, $2, $3, now(), $4, 'courier') ON CONFLICT (event_id) DO NOTHING", 4, q);
    cc_poke_order(out, posting);
}

cJSON *cc_slot_keyboard(const conv_rows_t *slots, int64_t delivery_id)
{
    if (!slots || slots->status != RT_OK) return NULL;
    cJSON *kb = NULL;
    int buttons = 0;
    for (int i = 0; i < slots->nrows && buttons < CC_SLOT_BUTTONS; i++) {
        const char *day = conv_rows_value(slots, i, "day"), *slot = conv_rows_value(slots, i, "slot_id");
        const char *cap = conv_rows_value(slots, i, "capacity"), *taken = conv_rows_value(slots, i, "taken");
        if (!day || strlen(day) != 8 || !slot || !cap || !taken || atoi(taken) >= atoi(cap)) continue;
        char label[64], data[64];
        snprintf(label, sizeof label, "%.2s.%.2s %s–%s", day + 6, day + 4, conv_rows_value(slots, i, "t_start"),
                 conv_rows_value(slots, i, "t_end"));
        snprintf(data, sizeof data, "cl:rs:%lld:%s:%s", (long long)delivery_id, slot, day);
        if (!kb) kb = tg_kb_inline_new();
        if (tg_kb_inline_button(tg_kb_inline_row(kb), label, data) == RT_OK) buttons++;
    }
    return kb;
}

void cc_utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;   /* back to the last lead byte */
    if (i == 0) return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < want) s[i - 1] = '\0';
}

void cc_hhmm(int64_t unix_ms, char *out, size_t outsz)
{
    time_t t = (time_t)(unix_ms / 1000) + 3 * 3600;   /* Moscow: UTC+3, no DST */
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%H:%M", &tm);
}
