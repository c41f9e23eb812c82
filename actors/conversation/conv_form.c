/* conv_form.c — the delivery order form: posting → address → time slot →
 * price → confirm.
 *
 * Purpose: a registered client presses «🚚 Оформить доставку» (or another
 * feature calls conv_form_start with a posting, e.g. «Доставить курьером»
 * under a pickup reminder) and is walked through:
 *   1. form_posting — the posting number: the person's own parcels that
 *      can still be delivered are offered as keyboard buttons
 *      (CONV_NEED_MY_ORDERS), or a number is typed, also inside free text
 *      («заказ 12345678-0001-1»). The CONV_NEED_ORDER lookup makes
 *      sure it exists (fetching it from Ozon), then CONV_NEED_FORM_POSTING
 *      gives its status, phones, weight and any ordered delivery. Only the
 *      owner (phone = Ozon customer or addressee phone) may go on; a
 *      delivered, cancelled or returned posting, or one that already has a
 *      delivery, is refused with the reason.
 *   2. form_address — a typed address (matched to a zone by the city name it
 *      contains) or a location pin (matched against the zone polygons).
 *      Outside every zone: say so, offer the nearest pickup point (a pin),
 *      the city's pickup points or the list (text), and wait for another
 *      address. Inside: the price from the zone's tariff for the posting's
 *      weight band (unknown weight: the lowest band, said on the summary).
 *   3. form_slot — an inline keyboard of the zone's windows for the next
 *      three days that still have room ("f:s:<yyyymmdd>:<slot id>").
 *   4. form_confirm — the summary with «Подтвердить» / «Изменить адрес» /
 *      «Изменить время» / «Отменить». Confirming books the delivery in the
 *      update's transaction (SQL function delivery_book, sql/007: it locks
 *      the window and refuses a full one, which aborts the transaction; the
 *      actor then replays the update and the slot lookup shows it full, so
 *      the person is told and shown the windows again), sets
 *      orders.ordered_by, subscribes the chat to the posting and answers
 *      with the summary. The price is re-checked against the tariff first
 *      (a changed price is shown with the summary again, to confirm anew)
 *      and by delivery_book itself (sql/014), which also queues the
 *      signed outbound event delivery.booked (actors/logistics_out).
 * Every step has «⬅️ Назад» (back one step; on the first, out of the form)
 * and «✖️ Отмена»; /cancel works anywhere (the dispatcher). A new address
 * typed or pinned at the slot or confirm step replaces the old one. State
 * lives in conversations.data (conv_form_data_t, "key=value" lines), so
 * each step survives a restart.
 *
 * Callbacks: f:s:<yyyymmdd>:<slot> (pick), f:ok:<posting>:<yyyymmdd>:<slot>
 * (confirm exactly what the summary showed), f:ea (edit address), f:et
 * (edit time), f:b (back), f:x (cancel). A callback that does not fit the
 * current step is answered «Кнопка устарела».
 *
 * Exports: conv_feature_form, conv_form_start and the helpers of
 * conv_form.h. Threads: any (pure: no I/O).
 */
#include "conv_form.h"
#include "conv_pay.h"
#include "conv_watch.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "posting.h"
#include "rt.h"
#include "tg_markup.h"
#include "utf8.h"

#define FORM_MSG_MAX 4000      /* one bot message (Telegram allows 4096 characters) */
#define FORM_ESC_MAX 2600      /* an escaped address (400 bytes, '&' → "&amp;") */

/* ---- state in conversations.data ------------------------------------------- */

void conv_form_data_parse(const char *s, conv_form_data_t *d)
{
    memset(d, 0, sizeof *d);
    while (s && *s) {
        size_t n = strcspn(s, "\n");
        const char *eq = memchr(s, '=', n);
        if (eq && eq - s == 1) {
            char v[CONV_FORM_ADDRESS_BYTES + 1];
            size_t vlen = n - 2;
            if (vlen > CONV_FORM_ADDRESS_BYTES) vlen = utf8_drop_partial(eq + 1, CONV_FORM_ADDRESS_BYTES);
            memcpy(v, eq + 1, vlen);
            v[vlen] = '\0';
            switch (s[0]) {
            case 'p': snprintf(d->posting, sizeof d->posting, "%.*s", (int)sizeof d->posting - 1, v); break;
            case 'z': d->zone = atoi(v); break;
            case 'k': d->price = strtoll(v, NULL, 10); break;
            case 'w': d->weight_unknown = v[0] == '1'; break;
            case 'g':
                d->has_pin = sscanf(v, "%lf,%lf", &d->lat, &d->lon) == 2 && isfinite(d->lat) && isfinite(d->lon) &&
                             fabs(d->lat) <= 90 && fabs(d->lon) <= 180;
                break;
            case 'd':
                if (strlen(v) == 8 && strspn(v, "0123456789") == 8) memcpy(d->date, v, 9);
                break;
            case 's': d->slot = atoi(v); break;
            case 'a': snprintf(d->address, sizeof d->address, "%s", v); break;
            default: break;
            }
        }
        s += n;
        if (*s) s++;
    }
}

static void form_append(char *out, size_t outsz, size_t *len, bool *overflow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void form_append(char *out, size_t outsz, size_t *len, bool *overflow, const char *fmt, ...)
{
    if (*len >= outsz) { *overflow = true; return; }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, outsz - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outsz - *len) {
        *overflow = true;
        *len = outsz;
        return;
    }
    *len += (size_t)n;
}

int conv_form_data_format(const conv_form_data_t *d, char *out, size_t outsz)
{
    size_t len = 0;
    bool over = false;
    if (!outsz) return RT_EINVAL;
    out[0] = '\0';
    form_append(out, outsz, &len, &over, "p=%s\n", d->posting);
    if (d->zone) form_append(out, outsz, &len, &over, "z=%d\n", d->zone);
    if (d->zone) form_append(out, outsz, &len, &over, "k=%lld\n", d->price);
    if (d->weight_unknown) form_append(out, outsz, &len, &over, "w=1\n");
    if (d->has_pin) form_append(out, outsz, &len, &over, "g=%.6f,%.6f\n", d->lat, d->lon);
    if (d->date[0]) form_append(out, outsz, &len, &over, "d=%s\n", d->date);
    if (d->slot) form_append(out, outsz, &len, &over, "s=%d\n", d->slot);
    if (d->address[0]) form_append(out, outsz, &len, &over, "a=%s", d->address);
    if (over) {
        out[0] = '\0';
        return RT_EINVAL;
    }
    return RT_OK;
}

/* ---- text matching ------------------------------------------------------------ */

/* Decode one UTF-8 sequence at p (n bytes available): code point, length. */
static unsigned form_utf8(const unsigned char *p, int *len)
{
    if (p[0] < 0x80) { *len = 1; return p[0]; }
    if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
        *len = 2;
        return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    }
    if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
        *len = 3;
        return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    }
    if ((p[0] & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
        *len = 4;
        return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    }
    *len = 1;
    return 0xFFFD;   /* a stray byte: a separator */
}

/* Is code point c part of a word (letters, digits, marks)? Punctuation,
 * spaces, symbols of Latin-1 and the General Punctuation block are not. */
static bool form_is_word(unsigned c)
{
    if (c < 0x80) return isalnum((int)c) != 0;
    if (c == 0xFFFD || (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7) return false;
    if ((c >= 0x2000 && c <= 0x206F) || c == 0x2116 || (c >= 0x3000 && c <= 0x303F)) return false;
    return true;
}

void conv_form_fold(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    bool space = true;   /* no leading space */
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    if (!outsz) return;
    while (*p) {
        int len;
        unsigned c = form_utf8(p, &len);
        if (!form_is_word(c)) {
            if (!space && o + 1 < outsz) out[o++] = ' ';
            space = true;
            p += len;
            continue;
        }
        if (c < 0x80) c = (unsigned)tolower((int)c);
        else if (c >= 0x410 && c <= 0x42F) c += 0x20;          /* А-Я → а-я */
        else if (c == 0x401 || c == 0x451) c = 0x435;          /* Ё, ё → е */
        else if (c >= 0x400 && c <= 0x40F) c += 0x50;          /* Ѐ-Џ → ѐ-џ */
        char enc[4];
        int elen;
        if (c < 0x80) { enc[0] = (char)c; elen = 1; }
        else if (c < 0x800) { enc[0] = (char)(0xC0 | (c >> 6)); enc[1] = (char)(0x80 | (c & 0x3F)); elen = 2; }
        else { memcpy(enc, p, (size_t)len); elen = len; }
        if (o + (size_t)elen >= outsz) break;
        memcpy(out + o, enc, (size_t)elen);
        o += (size_t)elen;
        space = false;
        p += len;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = '\0';
}

/* Case endings accepted after a city name (or its stem, when the name ends
 * in а/я/ь/й): «в Донецке», «из Макеевки», «по Мариуполю». */
static const char *const form_endings[] = {"", "а", "е", "у", "и", "ом", "ой", "ем", "я", "ю", "ью", NULL};

static bool form_word_end(const char *p) { return *p == '\0' || *p == ' '; }

/* Does `at` start with `stem` + one of the endings, ending a word? */
static bool form_matches_at(const char *at, const char *stem, size_t slen)
{
    if (strncmp(at, stem, slen) != 0) return false;
    for (const char *const *e = form_endings; *e; e++) {
        size_t elen = strlen(*e);
        if (strncmp(at + slen, *e, elen) == 0 && form_word_end(at + slen + elen)) return true;
    }
    return false;
}

int conv_form_city_match(const char *address, const char *city)
{
    char a[1024], c[256];
    conv_form_fold(address, a, sizeof a);
    conv_form_fold(city, c, sizeof c);
    size_t clen = strlen(c), slen = clen;
    if (clen == 0) return -1;
    /* a name ending in а, я, ь or й (two bytes in UTF-8) declines on its stem */
    static const char *const soft[] = {"а", "я", "ь", "й", NULL};
    for (const char *const *s = soft; *s; s++)
        if (clen > 2 && strcmp(c + clen - 2, *s) == 0) slen = clen - 2;
    for (size_t i = 0; a[i]; i++) {
        if (i > 0 && a[i - 1] != ' ') continue;     /* word starts only */
        if (form_matches_at(a + i, c, clen) || (slen != clen && form_matches_at(a + i, c, slen)))
            return (int)i;
    }
    return -1;
}

/* ---- money and weight ------------------------------------------------------------- */

void conv_form_price_text(long long kopecks, char *out, size_t outsz)
{
    if (kopecks < 0) kopecks = 0;
    char digits[32], grouped[64], kop[4];
    snprintf(digits, sizeof digits, "%lld", kopecks / 100);
    snprintf(kop, sizeof kop, "%02lld", kopecks % 100);
    size_t n = strlen(digits), g = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {      /* no-break space U+00A0 */
            grouped[g++] = (char)0xC2;
            grouped[g++] = (char)0xA0;
        }
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(out, outsz, text_get(T_FORM_PRICE), grouped, kop);
}

long long conv_form_band(const int *from, const int *to, const long long *price, int n, int weight_g)
{
    int lowest = -1, best = -1;
    for (int i = 0; i < n; i++)
        if (lowest < 0 || from[i] < from[lowest]) lowest = i;
    if (lowest < 0) return -1;
    if (weight_g <= from[lowest]) return price[lowest];
    for (int i = 0; i < n; i++)
        if (from[i] < weight_g && weight_g <= to[i] && (best < 0 || from[i] < from[best])) best = i;
    return best >= 0 ? price[best] : -1;
}

/* Grams as kilograms with two decimals: 180 → "0,18". */
static void form_kg(long long grams, char *out, size_t outsz)
{
    long long cg = (grams + 5) / 10;
    snprintf(out, outsz, "%lld,%02lld", cg / 100, cg % 100);
}

/* ---- small helpers ------------------------------------------------------------------ */

static void form_esc(const char *s, char *out, size_t outsz)
{
    char *e = tg_html_escape(s ? s : "");
    utf8_copy(out, outsz, e);
    free(e);
}

/* Lookup (kind, key) if the actor has answered it; else ask for it. */
static const conv_rows_t *form_get(const conv_ctx_t *ctx, conv_out_t *out, int kind, const char *key, bool *missing)
{
    const conv_rows_t *r = conv_lookup_find(ctx, kind, key);
    if (!r) {
        conv_need(out, kind, key);
        *missing = true;
    }
    return r;
}

static bool form_rows_ok(const conv_rows_t *r) { return r && r->status == RT_OK; }

static void form_set(conv_out_t *out, const char *step, const conv_form_data_t *d)
{
    char data[CONV_DATA_MAX];
    if (!d || conv_form_data_format(d, data, sizeof data) != RT_OK) data[0] = '\0';
    conv_set_step(out, step, data);
}

#define FORM_PARCEL_BUTTONS 6   /* the person's own parcels offered at the posting step */

/* Delivered, cancelled or returned: nothing left to deliver. */
static bool form_status_final(const char *st)
{
    return st && (strcmp(st, "delivered") == 0 || strcmp(st, "cancelled") == 0 || strcmp(st, "returned") == 0);
}

/* The posting step's keyboard: the person's parcels that can still be
 * delivered (from the CONV_NEED_MY_ORDERS lookup, when it was run), one
 * per row — pressing one sends its number — then «Назад» / «Отмена».
 * *parcels (may be NULL) gets how many were offered. */
static cJSON *form_kb_parcels(const conv_ctx_t *ctx, int *parcels)
{
    cJSON *kb = tg_kb_reply_new(text_get(T_FORM_PLACEHOLDER_POSTING));
    const conv_rows_t *mine = conv_lookup_find(ctx, CONV_NEED_MY_ORDERS, "");
    int shown = 0;
    for (int i = 0; mine && mine->status == RT_OK && i < mine->nrows && shown < FORM_PARCEL_BUTTONS; i++) {
        const char *p = conv_rows_value(mine, i, "posting_number");
        if (!posting_is_valid(p) || form_status_final(conv_rows_value(mine, i, "status"))) continue;
        tg_kb_reply_button(tg_kb_reply_row(kb), p, 0);
        shown++;
    }
    if (parcels) *parcels = shown;
    cJSON *row = tg_kb_reply_row(kb);
    tg_kb_reply_button(row, text_get(T_BTN_BACK), 0);
    tg_kb_reply_button(row, text_get(T_BTN_CANCEL), 0);
    return kb;
}

static cJSON *form_kb_address(void)
{
    cJSON *kb = tg_kb_reply_new(text_get(T_FORM_PLACEHOLDER_ADDRESS));
    tg_kb_reply_button(tg_kb_reply_row(kb), text_get(T_BTN_FORM_LOCATION), 2);
    cJSON *row = tg_kb_reply_row(kb);
    tg_kb_reply_button(row, text_get(T_BTN_BACK), 0);
    tg_kb_reply_button(row, text_get(T_BTN_CANCEL), 0);
    return kb;
}

/* Inline «⬅️ Назад» / «✖️ Отменить» row. */
static void form_kb_back_row(cJSON *kb)
{
    cJSON *row = tg_kb_inline_row(kb);
    tg_kb_inline_button(row, text_get(T_BTN_BACK), "f:b");
    tg_kb_inline_button(row, text_get(T_BTN_FORM_ABORT), "f:x");
}

/* A catalogue text whose single %s is a posting number. */
static void form_say_posting(conv_out_t *out, int64_t chat, text_id_t id, const char *posting, cJSON *kb)
{
    conv_sayf(out, chat, id, posting, kb);
}

/* Contract: see conv_form.h. */
void conv_form_slot_label(const char *day, const char *start, const char *end, char *out, size_t outsz)
{
    int y = 0, m = 0, d = 0;
    if (!day || sscanf(day, "%4d%2d%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
        snprintf(out, outsz, "%s", day ? day : "");
        return;
    }
    /* days since 1970-01-01 (a Thursday), proleptic Gregorian */
    int yy = y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long days = era * 146097 + doe - 719468;
    int wd = (int)(((days % 7) + 7 + 3) % 7);   /* 0 = Monday */
    char dm[8];
    snprintf(dm, sizeof dm, "%02d.%02d", d, m);
    snprintf(out, outsz, text_get(T_FORM_SLOT_LABEL), text_get((text_id_t)(T_FORM_WEEKDAY_MON + wd)), dm,
             start ? start : "", end ? end : "");
}

static bool form_in_step(const conv_ctx_t *ctx, const char *step) { return strcmp(ctx->step, step) == 0; }

static void form_home(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, text_id_t id)
{
    conv_set_step(out, conv_home_step(ctx->role), NULL);
    conv_say(out, u->chat_id, text_get(id), conv_menu_keyboard(ctx->role));
}

static bool form_is_owner(const conv_ctx_t *ctx, const conv_rows_t *p)
{
    return conv_order_owner(ctx, p) == CONV_OWNER_YES;
}

/* ---- step 1: the posting ------------------------------------------------------------- */

static int form_ask_posting(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    bool missing = false;
    form_get(ctx, out, CONV_NEED_MY_ORDERS, "", &missing);
    if (missing) return RT_PENDING;
    int parcels = 0;
    cJSON *kb = form_kb_parcels(ctx, &parcels);
    conv_set_step(out, "form_posting", NULL);
    conv_say(out, u->chat_id, text_get(parcels ? T_FORM_PICK_PARCEL : T_FORM_ASK_POSTING), kb);
    return RT_OK;
}

/* Ask for the address of `d->posting` (the weight comes from the posting lookup). */
static int form_ask_address(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting)
{
    bool missing = false;
    const conv_rows_t *p = form_get(ctx, out, CONV_NEED_FORM_POSTING, posting, &missing);
    if (missing) return RT_PENDING;
    const char *w = form_rows_ok(p) ? conv_rows_value(p, 0, "weight_g") : NULL;
    char weight[64] = ".", kg[32], pesc[64], msg[FORM_MSG_MAX];
    if (w && atoll(w) > 0) {
        form_kg(atoll(w), kg, sizeof kg);
        snprintf(weight, sizeof weight, text_get(T_FORM_WEIGHT), kg);
    }
    form_esc(posting, pesc, sizeof pesc);
    snprintf(msg, sizeof msg, text_get(T_FORM_ASK_ADDRESS), pesc, weight);
    conv_form_data_t d;
    memset(&d, 0, sizeof d);
    snprintf(d.posting, sizeof d.posting, "%s", posting);
    form_set(out, "form_address", &d);
    conv_say(out, u->chat_id, msg, form_kb_address());
    return RT_OK;
}

static int form_posting_input(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting)
{
    int64_t chat = u->chat_id;
    conv_set_step(out, "form_posting", NULL);   /* a refusal leaves the person here */
    bool missing = false;
    form_get(ctx, out, CONV_NEED_MY_ORDERS, "", &missing);   /* the parcel buttons of a refusal */
    if (!posting_is_valid(posting)) {
        if (missing) return RT_PENDING;
        conv_sayf(out, chat, T_FORM_BAD_POSTING, posting, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    const conv_rows_t *o = form_get(ctx, out, CONV_NEED_ORDER, posting, &missing);
    if (missing) return RT_PENDING;
    if (o->status == RT_ENOTFOUND || (o->status == RT_OK && o->nrows == 0)) {
        form_say_posting(out, chat, T_FORM_POSTING_NOT_FOUND, posting, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    if (o->status != RT_OK) {
        form_say_posting(out, chat, T_FORM_POSTING_UNAVAILABLE, posting, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    const conv_rows_t *p = form_get(ctx, out, CONV_NEED_FORM_POSTING, posting, &missing);
    if (missing) return RT_PENDING;
    if (!form_rows_ok(p) || p->nrows == 0) {
        form_say_posting(out, chat, T_FORM_POSTING_UNAVAILABLE, posting, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    if (!form_is_owner(ctx, p)) {
        conv_watch_not_owner(ctx, p, out, chat, posting, T_FORM_NOT_OWNER, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    const char *st = conv_rows_value(p, 0, "status");
    text_id_t refuse = T__COUNT;
    if (st && strcmp(st, "delivered") == 0) refuse = T_FORM_ALREADY_DELIVERED;
    else if (st && strcmp(st, "cancelled") == 0) refuse = T_FORM_ALREADY_CANCELLED;
    else if (st && strcmp(st, "returned") == 0) refuse = T_FORM_ALREADY_RETURNED;
    if (refuse != T__COUNT) {
        form_say_posting(out, chat, refuse, posting, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    if (conv_rows_value(p, 0, "delivery_id")) {
        char pesc[64], aesc[FORM_ESC_MAX], label[128], lesc[256], msg[FORM_MSG_MAX];
        form_esc(posting, pesc, sizeof pesc);
        form_esc(conv_rows_value(p, 0, "delivery_address"), aesc, sizeof aesc);
        conv_form_slot_label(conv_rows_value(p, 0, "delivery_date"), conv_rows_value(p, 0, "delivery_start"),
                        conv_rows_value(p, 0, "delivery_end"), label, sizeof label);
        form_esc(label, lesc, sizeof lesc);
        snprintf(msg, sizeof msg, text_get(T_FORM_ALREADY_ORDERED), pesc, aesc, lesc);
        conv_say(out, chat, msg, form_kb_parcels(ctx, NULL));
        return RT_OK;
    }
    return form_ask_address(ctx, u, out, posting);
}

/* ---- step 3: the windows ------------------------------------------------------------- */

/* Name of zone `id` from the zones lookup, or "". */
static const char *form_zone_name(const conv_rows_t *zones, int id)
{
    for (int i = 0; form_rows_ok(zones) && i < zones->nrows; i++) {
        const char *v = conv_rows_value(zones, i, "id");
        if (v && atoi(v) == id) {
            const char *n = conv_rows_value(zones, i, "name");
            return n ? n : "";
        }
    }
    return "";
}

int conv_form_slot_buttons(const conv_rows_t *slots, cJSON *kb, const char *prefix, const char *skip_day,
                           int skip_slot)
{
    int offered = 0;
    for (int i = 0; form_rows_ok(slots) && i < slots->nrows; i++) {
        const char *day = conv_rows_value(slots, i, "day"), *id = conv_rows_value(slots, i, "slot_id");
        const char *cap = conv_rows_value(slots, i, "capacity"), *taken = conv_rows_value(slots, i, "taken");
        if (!day || !id || !cap || !taken || atoll(taken) >= atoll(cap)) continue;
        if (skip_day && strcmp(day, skip_day) == 0 && atoi(id) == skip_slot) continue;
        char label[128], data[TG_CALLBACK_DATA_MAX + 1];
        conv_form_slot_label(day, conv_rows_value(slots, i, "t_start"), conv_rows_value(slots, i, "t_end"), label,
                             sizeof label);
        int n = snprintf(data, sizeof data, "%s%s:%s", prefix, day, id);
        if (n < 0 || (size_t)n >= sizeof data) continue;
        if (tg_kb_inline_button(tg_kb_inline_row(kb), label, data) == RT_OK) offered++;
    }
    return offered;
}

/* Show the windows of d->zone with room; `lead` (HTML, may be NULL) goes first. */
static int form_show_slots(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, conv_form_data_t *d,
                           const char *lead)
{
    char zkey[16];
    snprintf(zkey, sizeof zkey, "%d", d->zone);
    bool missing = false;
    const conv_rows_t *slots = form_get(ctx, out, CONV_NEED_FORM_SLOTS, zkey, &missing);
    const conv_rows_t *zones = form_get(ctx, out, CONV_NEED_FORM_ZONES, "", &missing);
    if (missing) return RT_PENDING;
    cJSON *kb = tg_kb_inline_new();
    int offered = conv_form_slot_buttons(slots, kb, "f:s:", NULL, 0);
    form_kb_back_row(kb);
    char aesc[FORM_ESC_MAX], zesc[256], msg[FORM_MSG_MAX];
    form_esc(d->address, aesc, sizeof aesc);
    form_esc(form_zone_name(zones, d->zone), zesc, sizeof zesc);
    int n = snprintf(msg, sizeof msg, "%s%s", lead ? lead : "", lead ? "\n\n" : "");
    if (n < 0 || (size_t)n >= sizeof msg) n = 0;
    snprintf(msg + n, sizeof msg - (size_t)n, text_get(offered ? T_FORM_ASK_SLOT : T_FORM_NO_SLOTS), aesc, zesc);
    d->date[0] = '\0';
    d->slot = 0;
    form_set(out, "form_slot", d);
    conv_say(out, u->chat_id, msg, kb);
    return RT_OK;
}

/* The window row (day, slot) in the slots lookup, or -1. */
static int form_find_slot(const conv_rows_t *slots, const char *day, int slot)
{
    for (int i = 0; form_rows_ok(slots) && i < slots->nrows; i++) {
        const char *d = conv_rows_value(slots, i, "day"), *id = conv_rows_value(slots, i, "slot_id");
        if (d && id && strcmp(d, day) == 0 && atoi(id) == slot) return i;
    }
    return -1;
}

static bool form_slot_has_room(const conv_rows_t *slots, int row)
{
    const char *cap = conv_rows_value(slots, row, "capacity"), *taken = conv_rows_value(slots, row, "taken");
    return cap && taken && atoll(taken) < atoll(cap);
}

/* ---- step 2: the address --------------------------------------------------------------- */

/* "Донецк, Макеевка, ..." — the distinct cities of the active zones. */
static void form_zone_cities(const conv_rows_t *zones, char *out, size_t outsz)
{
    size_t len = 0;
    bool over = false;
    out[0] = '\0';
    for (int i = 0; form_rows_ok(zones) && i < zones->nrows; i++) {
        const char *c = conv_rows_value(zones, i, "city");
        if (!c || !*c) continue;
        bool seen = false;
        for (int k = 0; k < i; k++) {
            const char *o = conv_rows_value(zones, k, "city");
            if (o && strcmp(o, c) == 0) seen = true;
        }
        if (seen) continue;
        char esc[256];
        form_esc(c, esc, sizeof esc);
        form_append(out, outsz, &len, &over, "%s%s", len ? ", " : "", esc);
    }
}

/* Append pickup point `row` as one line. */
static void form_pickup_line(const conv_rows_t *pp, int row, char *out, size_t outsz, size_t *len, bool *over)
{
    char name[256], addr[512], hours[256], line[1200];
    form_esc(conv_rows_value(pp, row, "name"), name, sizeof name);
    form_esc(conv_rows_value(pp, row, "address"), addr, sizeof addr);
    const char *h = conv_rows_value(pp, row, "hours");
    form_esc(h && *h ? h : "—", hours, sizeof hours);
    snprintf(line, sizeof line, text_get(T_FORM_PICKUP_LINE), name, addr, hours);
    form_append(out, outsz, len, over, "%s%s", *len ? "\n" : "", line);
}

/* The address is outside every zone: say so, offer pickup points, stay. */
static int form_outside(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const conv_form_data_t *d,
                        const conv_rows_t *zones, bool pin, double lat, double lon, const char *typed)
{
    bool missing = false;
    const conv_rows_t *pp = form_get(ctx, out, CONV_NEED_FORM_PICKUPS, "", &missing);
    if (missing) return RT_PENDING;
    char cities[1024], msg[FORM_MSG_MAX], list[3000], part[3400];
    size_t len = 0, llen = 0;
    bool over = false, lover = false;
    form_zone_cities(zones, cities, sizeof cities);
    form_append(msg, sizeof msg, &len, &over, text_get(pin ? T_FORM_OUTSIDE_PIN : T_FORM_OUTSIDE_TEXT), cities);
    list[0] = '\0';
    if (form_rows_ok(pp) && pp->nrows > 0) {
        if (pin) {
            int best = -1;
            double best_m = 0;
            for (int i = 0; i < pp->nrows; i++) {
                const char *la = conv_rows_value(pp, i, "lat"), *lo = conv_rows_value(pp, i, "lon");
                if (!la || !lo) continue;
                double m = geo_distance_m((geo_point_t){lat, lon}, (geo_point_t){atof(la), atof(lo)});
                if (best < 0 || m < best_m) { best = i; best_m = m; }
            }
            if (best >= 0) {
                char km[32];
                if (best_m < 10000) snprintf(km, sizeof km, "%.1f", best_m / 1000.0);
                else snprintf(km, sizeof km, "%.0f", best_m / 1000.0);
                char *dot = strchr(km, '.');
                if (dot) *dot = ',';
                form_pickup_line(pp, best, list, sizeof list, &llen, &lover);
                snprintf(part, sizeof part, text_get(T_FORM_NEAREST_PICKUP), km, list);
                form_append(msg, sizeof msg, &len, &over, "%s", part);
            }
        } else {
            /* the pickup points of the city the address names, else all of them */
            int first = -1;
            const char *city = NULL;
            for (int i = 0; i < pp->nrows; i++) {
                const char *c = conv_rows_value(pp, i, "city");
                int at = c ? conv_form_city_match(typed, c) : -1;
                if (at >= 0 && (first < 0 || at < first)) { first = at; city = c; }
            }
            for (int i = 0; i < pp->nrows && i < 20; i++) {
                const char *c = conv_rows_value(pp, i, "city");
                if (city && (!c || strcmp(c, city) != 0)) continue;
                form_pickup_line(pp, i, list, sizeof list, &llen, &lover);
            }
            snprintf(part, sizeof part, text_get(city ? T_FORM_CITY_PICKUPS : T_FORM_ALL_PICKUPS), list);
            form_append(msg, sizeof msg, &len, &over, "%s", part);
        }
    }
    form_append(msg, sizeof msg, &len, &over, "%s", text_get(T_FORM_OUTSIDE_TAIL));
    conv_form_data_t keep;
    memset(&keep, 0, sizeof keep);
    snprintf(keep.posting, sizeof keep.posting, "%s", d->posting);
    form_set(out, "form_address", &keep);
    conv_say(out, u->chat_id, msg, form_kb_address());
    return RT_OK;
}

/* The tariff's price (kopecks) of the posting's weight from the tariff
 * lookup `t`, or -1 when no band fits; *nbands, *max_to and *weight say
 * why (no tariff at all, too heavy). The same rule as the SQL function
 * delivery_tariff_price (sql/014), which checks the booking. */
static long long form_tariff_price(const conv_rows_t *t, const conv_rows_t *posting, int *nbands, int *max_to,
                                   int *weight)
{
    enum { BANDS = 32 };
    int from[BANDS], to[BANDS], n = 0;
    long long price[BANDS];
    *max_to = 0;
    for (int i = 0; form_rows_ok(t) && i < t->nrows && n < BANDS; i++) {
        const char *f = conv_rows_value(t, i, "weight_from_g"), *e = conv_rows_value(t, i, "weight_to_g");
        const char *p = conv_rows_value(t, i, "price_kopecks");
        if (!f || !e || !p) continue;
        from[n] = atoi(f);
        to[n] = atoi(e);
        price[n] = atoll(p);
        if (to[n] > *max_to) *max_to = to[n];
        n++;
    }
    const char *w = form_rows_ok(posting) ? conv_rows_value(posting, 0, "weight_g") : NULL;
    *weight = w ? atoi(w) : 0;
    *nbands = n;
    return conv_form_band(from, to, price, n, *weight);
}

/* The address is in zone `zone`: price it, then offer the windows. */
static int form_in_zone(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, conv_form_data_t *d,
                        const conv_rows_t *zones, const conv_rows_t *posting, int zone)
{
    char zkey[16];
    snprintf(zkey, sizeof zkey, "%d", zone);
    bool missing = false;
    const conv_rows_t *t = form_get(ctx, out, CONV_NEED_FORM_TARIFF, zkey, &missing);
    form_get(ctx, out, CONV_NEED_FORM_SLOTS, zkey, &missing);   /* asked now, used by form_show_slots */
    if (missing) return RT_PENDING;
    int n = 0, max_to = 0, weight = 0;
    long long k = form_tariff_price(t, posting, &n, &max_to, &weight);
    if (n == 0 || k < 0) {
        conv_form_data_t keep;   /* wait for another address */
        memset(&keep, 0, sizeof keep);
        memcpy(keep.posting, d->posting, sizeof keep.posting);
        form_set(out, "form_address", &keep);
    }
    if (n == 0) {
        char zesc[256], msg[FORM_MSG_MAX];
        form_esc(form_zone_name(zones, zone), zesc, sizeof zesc);
        snprintf(msg, sizeof msg, text_get(T_FORM_NO_TARIFF), zesc);
        conv_say(out, u->chat_id, msg, form_kb_address());
        return RT_OK;
    }
    if (k < 0) {
        char kg[32], max[32], msg[FORM_MSG_MAX];
        form_kg(weight, kg, sizeof kg);
        form_kg(max_to, max, sizeof max);
        snprintf(msg, sizeof msg, text_get(T_FORM_TOO_HEAVY), kg, max);
        conv_say(out, u->chat_id, msg, form_kb_address());
        return RT_OK;
    }
    d->zone = zone;
    d->price = k;
    d->weight_unknown = weight <= 0;
    return form_show_slots(ctx, u, out, d, NULL);
}

/* Collapse whitespace and control characters of a typed address. */
static void form_clean_address(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    bool space = true;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && o + 1 < outsz; p++) {
        if (*p < 0x20 || *p == ' ' || *p == 0x7F) {
            if (!space) out[o++] = ' ';
            space = true;
        } else {
            out[o++] = (char)*p;
            space = false;
        }
    }
    o = utf8_drop_partial(out, o);   /* a long text is cut on a character */
    while (o && out[o - 1] == ' ') o--;
    out[o] = '\0';
}

/* A typed address or a pin at the address (or slot, or confirm) step. */
static int form_address_input(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *text)
{
    conv_form_data_t d;
    conv_form_data_parse(ctx->data, &d);
    if (!posting_is_valid(d.posting)) return form_ask_posting(ctx, u, out);
    bool pin = u->has_location;
    char address[2048];
    if (pin) {
        char coords[64];
        snprintf(coords, sizeof coords, "%.5f, %.5f", u->latitude, u->longitude);
        snprintf(address, sizeof address, text_get(T_FORM_PIN_ADDRESS), coords);
    } else {
        form_clean_address(text, address, sizeof address);
        if (!address[0]) {
            conv_say(out, u->chat_id, text_get(T_FORM_ADDRESS_EMPTY), form_kb_address());
            return RT_OK;
        }
        if (strlen(address) > CONV_FORM_ADDRESS_BYTES || utf8_chars(address) > CONV_FORM_ADDRESS_CHARS) {
            conv_say(out, u->chat_id, text_get(T_FORM_ADDRESS_TOO_LONG), form_kb_address());
            return RT_OK;
        }
    }
    bool missing = false;
    const conv_rows_t *zones = form_get(ctx, out, CONV_NEED_FORM_ZONES, "", &missing);
    const conv_rows_t *posting = form_get(ctx, out, CONV_NEED_FORM_POSTING, d.posting, &missing);
    if (missing) return RT_PENDING;
    int zone = 0, best_at = -1;
    for (int i = 0; form_rows_ok(zones) && i < zones->nrows; i++) {
        const char *id = conv_rows_value(zones, i, "id");
        if (!id) continue;
        if (pin) {
            geo_point_t pts[GEO_POLYGON_MAX];
            int n = geo_polygon_parse(conv_rows_value(zones, i, "polygon"), pts, GEO_POLYGON_MAX);
            if (n > 0 && geo_polygon_contains(pts, n, (geo_point_t){u->latitude, u->longitude})) {
                zone = atoi(id);
                break;
            }
        } else {
            const char *city = conv_rows_value(zones, i, "city");
            int at = city ? conv_form_city_match(address, city) : -1;
            if (at >= 0 && (best_at < 0 || at < best_at)) {
                best_at = at;
                zone = atoi(id);
            }
        }
    }
    if (!zone && !pin && (form_in_step(ctx, "form_slot") || form_in_step(ctx, "form_confirm"))) {
        /* text without a known city while a window or the summary is shown:
         * most likely not meant as an address — keep the step */
        conv_say(out, u->chat_id,
                 text_get(form_in_step(ctx, "form_slot") ? T_FORM_USE_SLOT_BUTTONS : T_FORM_USE_CONFIRM_BUTTONS), NULL);
        return RT_OK;
    }
    if (!zone) return form_outside(ctx, u, out, &d, zones, pin, u->latitude, u->longitude, address);
    conv_form_data_t next;
    memset(&next, 0, sizeof next);
    memcpy(next.posting, d.posting, sizeof next.posting);
    snprintf(next.address, sizeof next.address, "%s", address);
    next.has_pin = pin;
    next.lat = pin ? u->latitude : 0;
    next.lon = pin ? u->longitude : 0;
    return form_in_zone(ctx, u, out, &next, zones, posting, zone);
}

/* ---- step 4: summary and booking ------------------------------------------------------------ */

static int form_pick_slot(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, conv_form_data_t *d,
                          const char *day, int slot, const char *lead)
{
    char zkey[16];
    snprintf(zkey, sizeof zkey, "%d", d->zone);
    bool missing = false;
    const conv_rows_t *slots = form_get(ctx, out, CONV_NEED_FORM_SLOTS, zkey, &missing);
    if (missing) return RT_PENDING;
    int row = form_find_slot(slots, day, slot);
    if (row < 0 || !form_slot_has_room(slots, row)) {
        conv_answer_callback(out, u, text_get(T_FORM_SLOT_TAKEN));
        return form_show_slots(ctx, u, out, d, text_get(T_FORM_SLOT_TAKEN));
    }
    snprintf(d->date, sizeof d->date, "%s", day);
    d->slot = slot;
    char label[128], lesc[256], aesc[FORM_ESC_MAX], pesc[64], price[64], msg[FORM_MSG_MAX];
    conv_form_slot_label(day, conv_rows_value(slots, row, "t_start"), conv_rows_value(slots, row, "t_end"), label,
                    sizeof label);
    form_esc(label, lesc, sizeof lesc);
    form_esc(d->address, aesc, sizeof aesc);
    form_esc(d->posting, pesc, sizeof pesc);
    conv_form_price_text(d->price, price, sizeof price);
    int n = snprintf(msg, sizeof msg, "%s%s", lead ? lead : "", lead ? "\n\n" : "");
    if (n < 0 || (size_t)n >= sizeof msg) n = 0;
    snprintf(msg + n, sizeof msg - (size_t)n, text_get(T_FORM_SUMMARY), pesc, aesc, lesc, price,
             d->weight_unknown ? text_get(T_FORM_WEIGHT_UNKNOWN) : "");
    cJSON *kb = tg_kb_inline_new();
    char ok[TG_CALLBACK_DATA_MAX + 1];
    snprintf(ok, sizeof ok, "f:ok:%s:%s:%d", d->posting, d->date, d->slot);
    tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_BTN_FORM_CONFIRM), ok);
    cJSON *r = tg_kb_inline_row(kb);
    tg_kb_inline_button(r, text_get(T_BTN_FORM_EDIT_ADDRESS), "f:ea");
    tg_kb_inline_button(r, text_get(T_BTN_FORM_EDIT_TIME), "f:et");
    form_kb_back_row(kb);
    form_set(out, "form_confirm", d);
    conv_say(out, u->chat_id, msg, kb);
    return RT_OK;
}

static const char form_sql_book[] =
    "SELECT delivery_book($1, $2::bigint, $3, $4::float8, $5::float8, $6::int, to_date($7, 'YYYYMMDD'), $8::bigint)";
static const char form_sql_ordered_by[] =
    "UPDATE orders SET ordered_by = $2::bigint, updated_at = now() WHERE posting_number = $1";
static const char form_sql_subscribe[] =
    "INSERT INTO order_subscribers (posting_number, chat_id) VALUES ($1, $2::bigint) ON CONFLICT DO NOTHING";
static const char form_sql_audit[] =
    "INSERT INTO audit_log (actor, action, object_type, object_id, details)"
    " VALUES ('tg:' || $1, 'delivery_ordered', 'order', $2,"
    "         jsonb_build_object('slot_date', $3::text, 'slot_id', $4::int, 'price_kopecks', $5::bigint))";

static int form_book(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, conv_form_data_t *d)
{
    char zkey[16];
    snprintf(zkey, sizeof zkey, "%d", d->zone);
    bool missing = false;
    const conv_rows_t *p = form_get(ctx, out, CONV_NEED_FORM_POSTING, d->posting, &missing);
    const conv_rows_t *slots = form_get(ctx, out, CONV_NEED_FORM_SLOTS, zkey, &missing);
    const conv_rows_t *tariff = form_get(ctx, out, CONV_NEED_FORM_TARIFF, zkey, &missing);
    if (missing) return RT_PENDING;
    /* the posting may have moved on since the form began */
    if (!form_rows_ok(p) || p->nrows == 0 || !form_is_owner(ctx, p) || conv_rows_value(p, 0, "delivery_id"))
        return form_posting_input(ctx, u, out, d->posting);
    if (form_status_final(conv_rows_value(p, 0, "status"))) return form_posting_input(ctx, u, out, d->posting);
    int row = form_find_slot(slots, d->date, d->slot);
    char label[128], lesc[256];
    if (row < 0 || !form_slot_has_room(slots, row)) {
        conv_form_slot_label(d->date, row >= 0 ? conv_rows_value(slots, row, "t_start") : "",
                        row >= 0 ? conv_rows_value(slots, row, "t_end") : "", label, sizeof label);
        form_esc(label, lesc, sizeof lesc);
        char lead[512];
        snprintf(lead, sizeof lead, text_get(T_FORM_SLOT_FILLED), lesc);
        conv_answer_callback(out, u, text_get(T_FORM_SLOT_TAKEN));
        return form_show_slots(ctx, u, out, d, lead);
    }
    /* the price is the tariff's as of now (delivery_book checks it again) */
    int nbands = 0, max_to = 0, weight = 0;
    long long now_price = form_tariff_price(tariff, p, &nbands, &max_to, &weight);
    if (now_price < 0) {
        conv_answer_callback(out, u, NULL);
        char pesc[64], msg[FORM_MSG_MAX];
        form_esc(d->posting, pesc, sizeof pesc);
        snprintf(msg, sizeof msg, text_get(T_BOOK_PRICE_GONE), pesc);
        conv_form_data_t keep;
        memset(&keep, 0, sizeof keep);
        memcpy(keep.posting, d->posting, sizeof keep.posting);
        form_set(out, "form_address", &keep);
        conv_say(out, u->chat_id, msg, form_kb_address());
        return RT_OK;
    }
    if (now_price != d->price) {
        char was[64], now[64], lead[512];
        conv_form_price_text(d->price, was, sizeof was);
        conv_form_price_text(now_price, now, sizeof now);
        snprintf(lead, sizeof lead, text_get(T_BOOK_PRICE_CHANGED), was, now);
        d->price = now_price;
        d->weight_unknown = weight <= 0;
        conv_answer_callback(out, u, text_get(T_BOOK_PRICE_CHANGED_CB));
        char day[sizeof d->date];
        memcpy(day, d->date, sizeof day);
        return form_pick_slot(ctx, u, out, d, day, d->slot, lead);
    }
    conv_form_slot_label(d->date, conv_rows_value(slots, row, "t_start"), conv_rows_value(slots, row, "t_end"), label,
                    sizeof label);
    char user[24], chat[24], lat[32], lon[32], slot[16], price[24];
    snprintf(user, sizeof user, "%lld", (long long)ctx->tg_user_id);
    snprintf(chat, sizeof chat, "%lld", (long long)u->chat_id);
    snprintf(lat, sizeof lat, "%.6f", d->lat);
    snprintf(lon, sizeof lon, "%.6f", d->lon);
    snprintf(slot, sizeof slot, "%d", d->slot);
    snprintf(price, sizeof price, "%lld", d->price);
    const char *book[] = {d->posting, user, d->address, d->has_pin ? lat : NULL, d->has_pin ? lon : NULL,
                          slot, d->date, price};
    conv_sql(out, form_sql_book, 8, book);
    const char *by[] = {d->posting, user};
    conv_sql(out, form_sql_ordered_by, 2, by);
    const char *sub[] = {d->posting, chat};
    conv_sql(out, form_sql_subscribe, 2, sub);
    const char *audit[] = {user, d->posting, d->date, slot, price};
    conv_sql(out, form_sql_audit, 5, audit);
    out->kick_logistics = true;   /* delivery_book queued delivery.booked */
    char pesc[64], aesc[FORM_ESC_MAX], ptext[64], msg[FORM_MSG_MAX];
    form_esc(d->posting, pesc, sizeof pesc);
    form_esc(d->address, aesc, sizeof aesc);
    form_esc(label, lesc, sizeof lesc);
    conv_form_price_text(d->price, ptext, sizeof ptext);
    snprintf(msg, sizeof msg, text_get(T_FORM_CONFIRMED), pesc, aesc, lesc, ptext);
    conv_set_step(out, conv_home_step(ctx->role), NULL);
    conv_say(out, u->chat_id, msg, conv_menu_keyboard(ctx->role));
    conv_pay_offer(out, u->chat_id, d->posting, d->price);   /* «💳 Оплатить» (conv_pay.c) */
    return RT_OK;
}

/* ---- dispatch -------------------------------------------------------------------------- */

/* «⬅️ Назад» from the current step. */
static int form_back(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    conv_form_data_t d;
    conv_form_data_parse(ctx->data, &d);
    if (form_in_step(ctx, "form_confirm") && d.zone) return form_show_slots(ctx, u, out, &d, NULL);
    if ((form_in_step(ctx, "form_slot") || form_in_step(ctx, "form_confirm")) && posting_is_valid(d.posting))
        return form_ask_address(ctx, u, out, d.posting);
    if (form_in_step(ctx, "form_address")) return form_ask_posting(ctx, u, out);
    form_home(ctx, u, out, T_FORM_CANCELLED);
    return RT_OK;
}

static int form_on_callback(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    const char *cb = u->callback_data;
    if (strncmp(ctx->step, "form_", 5) != 0) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    conv_form_data_t d;
    conv_form_data_parse(ctx->data, &d);
    bool later = form_in_step(ctx, "form_slot") || form_in_step(ctx, "form_confirm");
    if (strcmp(cb, "f:x") == 0) {
        form_home(ctx, u, out, T_FORM_CANCELLED);
        return RT_OK;
    }
    if (strcmp(cb, "f:b") == 0 && later) return form_back(ctx, u, out);
    if (strcmp(cb, "f:ea") == 0 && later && posting_is_valid(d.posting))
        return form_ask_address(ctx, u, out, d.posting);
    if (strcmp(cb, "f:et") == 0 && later && d.zone) return form_show_slots(ctx, u, out, &d, NULL);
    char day[16];
    int slot = 0, used = 0;
    if (later && d.zone && sscanf(cb, "f:s:%8[0-9]:%d%n", day, &slot, &used) == 2 && cb[used] == '\0' &&
        strlen(day) == 8 && slot > 0)
        return form_pick_slot(ctx, u, out, &d, day, slot, NULL);
    if (form_in_step(ctx, "form_confirm") && d.zone && d.slot && strncmp(cb, "f:ok:", 5) == 0) {
        char want[TG_CALLBACK_DATA_MAX + 1];
        snprintf(want, sizeof want, "f:ok:%s:%s:%d", d.posting, d.date, d.slot);
        if (strcmp(cb, want) == 0) return form_book(ctx, u, out, &d);
    }
    conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
    return RT_OK;
}

static int form_on_message(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    char text[1024];
    form_clean_address(u->text, text, sizeof text);
    if (strcmp(text, text_get(T_BTN_ORDER)) == 0) return conv_form_start(ctx, u, out, NULL);
    if (strcmp(text, text_get(T_BTN_CANCEL)) == 0) {
        form_home(ctx, u, out, T_FORM_CANCELLED);
        return RT_OK;
    }
    if (strcmp(text, text_get(T_BTN_BACK)) == 0) return form_back(ctx, u, out);
    if (form_in_step(ctx, "form_posting")) {
        if (!text[0]) return form_ask_posting(ctx, u, out);
        char number[POSTING_MAX];   /* «заказ 12345678-0001-1» → the number */
        return form_posting_input(ctx, u, out, posting_find(text, number) == POSTING_NUMBER ? number : text);
    }
    if (form_in_step(ctx, "form_address") || form_in_step(ctx, "form_slot") || form_in_step(ctx, "form_confirm")) {
        if (!u->has_location && !u->text) {
            text_id_t id = form_in_step(ctx, "form_slot")      ? T_FORM_USE_SLOT_BUTTONS
                           : form_in_step(ctx, "form_confirm") ? T_FORM_USE_CONFIRM_BUTTONS
                                                               : T_FORM_ADDRESS_EMPTY;
            conv_say(out, u->chat_id, text_get(id), NULL);
            return RT_OK;
        }
        return form_address_input(ctx, u, out, text);
    }
    form_home(ctx, u, out, T_FORM_BROKEN);   /* a form_ step this version does not know */
    return RT_OK;
}

/* Answer a callback query the handler left unanswered (every one must be). */
static int form_done(const tg_update_t *u, conv_out_t *out, int rc)
{
    if (rc != RT_OK || u->kind != TG_UPD_CALLBACK) return rc;
    for (int i = 0; i < out->nacts; i++)
        if (out->acts[i].kind == CONV_ACT_CALL && strcmp(out->acts[i].method, "answerCallbackQuery") == 0) return rc;
    conv_answer_callback(out, u, NULL);
    return rc;
}

int conv_form_start(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting)
{
    if (ctx->role == CONV_GUEST) {
        conv_set_step(out, conv_home_step(ctx->role), NULL);
        conv_say(out, u->chat_id, text_get(T_NEED_REGISTRATION), conv_menu_keyboard(ctx->role));
        return form_done(u, out, RT_OK);
    }
    if (!posting || !*posting) return form_done(u, out, form_ask_posting(ctx, u, out));
    return form_done(u, out, form_posting_input(ctx, u, out, posting));
}

static int form_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind == TG_UPD_CALLBACK) return form_done(u, out, form_on_callback(ctx, u, out));
    return form_on_message(ctx, u, out);
}

static bool form_claims(const conv_ctx_t *ctx, const char *text)
{
    return ctx->role == CONV_CLIENT && strcmp(text, text_get(T_BTN_ORDER)) == 0;
}

const conv_feature_t conv_feature_form = {
    .name = "form",
    .step_prefix = "form_",
    .callback_prefix = "f:",
    .on_update = form_on_update,
    .claims_button = form_claims,
    .takes_media = true,   /* a pin at the address step; the other steps explain themselves */
};
