/* fuzz_conv_dialog.c — fuzz target: the dialog itself (conv_step and every
 * feature behind it), fed the way the conversation actor feeds it.
 *
 * The input bytes choose the sender's role, the dialog step (and its
 * stored data), the kind of update — text, command, contact, pin, sticker,
 * voice, photo with or without a caption, button press — and build its
 * text from pieces people really send: Cyrillic letters, emoji (with
 * joiners and variation selectors), HTML specials, posting and order
 * numbers with every kind of dash, menu button labels, long repeats up to
 * 4,096 characters. Lookups are answered with rows that carry the same
 * text (item names, addresses, template bodies), round after round, as the
 * actor does.
 *
 * Invariants (abort on violation): every reply, SQL parameter, step and
 * step data is valid UTF-8 as the dialog produced it (out.repaired == 0: the
 * last-line repair never had to act), every reply parses as JSON and its
 * text has at most 4,096 characters, and a press on a button is always
 * answered.
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conv_broadcast.h"
#include "conv_dialog.h"
#include "conv_form.h"
#include "rt.h"
#include "texts.h"
#include "utf8.h"

#define FZ_TEXT_CHARS 4096

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in_t;

static uint8_t fz_byte(fz_in_t *in)
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static const char *const fz_pieces[] = {
    "ж", "Ё", "я", "щ", "і", "ї", "є", "ґ", "😀", "👨‍👩‍👧", "❤️", "🇷🇺", "a", "Z", "7", " ", "\n", "\t", "&", "<", ">",
    "\"", "'", "\\", "«", "»", "–", "—", "−", "-", "12345678-0001-1", "12345678-0001", "0132112277–0101–123",
    "+380501234567", "заказ ", "Донецк, ул. Артёма 1", "{posting}", "%s", "%%", "…", "\xC2\xA0",
};

/* Append pieces chosen by the input to buf until the input or the
 * character budget runs out. */
static void fz_text(fz_in_t *in, char *buf, size_t cap, size_t max_chars)
{
    size_t len = 0, chars = 0;
    buf[0] = '\0';
    int pieces = fz_byte(in) % 64;
    for (int i = 0; i < pieces && in->n; i++) {
        uint8_t b = fz_byte(in);
        const char *piece = fz_pieces[b % (sizeof fz_pieces / sizeof fz_pieces[0])];
        if (b & 0x80) piece = text_get((text_id_t)(fz_byte(in) % T__COUNT));   /* a catalogue text, e.g. a button */
        int repeat = (b & 0x40) ? 1 + fz_byte(in) * 16 : 1;
        size_t plen = strlen(piece), pchars = utf8_chars(piece);
        for (int r = 0; r < repeat && len + plen < cap && chars + pchars <= max_chars; r++) {
            memcpy(buf + len, piece, plen + 1);
            len += plen;
            chars += pchars;
        }
    }
}

static const char *const fz_steps[] = {"menu", "await_contact", "track_wait", "form_posting", "form_address",
                                       "form_slot", "form_confirm", "form_gone", "bc_text", "bc_seg",
                                       "bc_confirm", "", "nonsense"};

static const char *const fz_callbacks[] = {"t:r:12345678-0001-1", "t:r:", "f:s:20261209:1", "f:ok:12345678-0001-1:20261209:1",
                                           "f:ea", "f:et", "f:b", "f:x", "b:s:all", "b:s:st", "b:st:delivered",
                                           "b:z:1", "b:go:00000000", "b:x", "pk:ext:12345678-0001-1",
                                           "pk:cur:12345678-0001-1", "pk:ret:12345678-0001-1", "x:y", ""};

/* The update as Telegram would send it (cJSON escapes the text). */
static char *fz_update(fz_in_t *in, const char *text, int *kind_out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "update_id", 1);
    int kind = fz_byte(in) % 9;
    *kind_out = kind;
    cJSON *msg;
    if (kind == 8) {
        cJSON *cb = cJSON_AddObjectToObject(root, "callback_query");
        cJSON_AddStringToObject(cb, "id", "cb1");
        cJSON *from = cJSON_AddObjectToObject(cb, "from");
        cJSON_AddNumberToObject(from, "id", 77);
        msg = cJSON_AddObjectToObject(cb, "message");
        const char *data = fz_callbacks[fz_byte(in) % (sizeof fz_callbacks / sizeof fz_callbacks[0])];
        char cbdata[128];
        snprintf(cbdata, sizeof cbdata, "%s", data);
        if (fz_byte(in) & 1) utf8_copy(cbdata + strlen(cbdata), sizeof cbdata - strlen(cbdata), text);
        cJSON_AddStringToObject(cb, "data", cbdata);
    } else {
        msg = cJSON_AddObjectToObject(root, "message");
    }
    cJSON_AddNumberToObject(msg, "message_id", 1);
    cJSON *from = cJSON_AddObjectToObject(msg, "from");
    cJSON_AddNumberToObject(from, "id", 77);
    cJSON_AddStringToObject(from, "first_name", text);
    cJSON *chat = cJSON_AddObjectToObject(msg, "chat");
    cJSON_AddNumberToObject(chat, "id", 77);
    cJSON_AddStringToObject(chat, "type", "private");
    switch (kind) {
    case 0: case 1: cJSON_AddStringToObject(msg, "text", text); break;
    case 2: {                                              /* a command, maybe with an argument */
        char cmd[256];
        static const char *const cmds[] = {"/start", "/cancel", "/help", "/menu", "/x"};
        snprintf(cmd, sizeof cmd, "%s ", cmds[fz_byte(in) % 5]);
        utf8_copy(cmd + strlen(cmd), sizeof cmd - strlen(cmd), text);
        cJSON_AddStringToObject(msg, "text", cmd);
        cJSON *ents = cJSON_AddArrayToObject(msg, "entities"), *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "offset", 0);
        cJSON_AddNumberToObject(e, "length", (double)strcspn(cmd, " "));
        cJSON_AddStringToObject(e, "type", "bot_command");
        cJSON_AddItemToArray(ents, e);
        break;
    }
    case 3: {                                              /* a contact: own or not, digits from the text */
        cJSON *c = cJSON_AddObjectToObject(msg, "contact");
        cJSON_AddStringToObject(c, "phone_number", fz_byte(in) & 1 ? "380501234567" : text);
        cJSON_AddStringToObject(c, "first_name", text);
        cJSON_AddNumberToObject(c, "user_id", fz_byte(in) & 1 ? 77 : 99);
        break;
    }
    case 4: {
        cJSON *l = cJSON_AddObjectToObject(msg, "location");
        cJSON_AddNumberToObject(l, "latitude", 47.0 + fz_byte(in) / 100.0);
        cJSON_AddNumberToObject(l, "longitude", 37.0 + fz_byte(in) / 100.0);
        break;
    }
    case 5: {
        cJSON *s = cJSON_AddObjectToObject(msg, "sticker");
        cJSON_AddStringToObject(s, "file_id", "s");
        cJSON_AddStringToObject(s, "emoji", "😀");
        break;
    }
    case 6: {
        cJSON *v = cJSON_AddObjectToObject(msg, "voice");
        cJSON_AddStringToObject(v, "file_id", "v");
        cJSON_AddNumberToObject(v, "duration", 3);
        break;
    }
    case 7: {
        cJSON *ph = cJSON_AddArrayToObject(msg, "photo"), *sz = cJSON_CreateObject();
        cJSON_AddStringToObject(sz, "file_id", "p");
        cJSON_AddNumberToObject(sz, "width", 90);
        cJSON_AddNumberToObject(sz, "height", 90);
        cJSON_AddItemToArray(ph, sz);
        if (fz_byte(in) & 1) cJSON_AddStringToObject(msg, "caption", text);
        break;
    }
    default: break;
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return json;
}

/* Rows for a lookup: text columns carry the fuzz text. */
typedef struct fz_rows {
    const char *cols[12];
    const char *vals[3 * 12];
} fz_rows_t;

static void fz_answer(conv_lookup_t *l, fz_rows_t *mem, const char *text, uint8_t shape)
{
    static const char *const order_cols[] = {"posting_number", "status", "status_at_ms", "customer_phone",
                                             "addressee_phone", "ordered_by", "pickup_point", "storage_until_ms",
                                             "item_names", "delivery_address", "history", NULL};
    static const char *const list_cols[] = {"posting_number", "status", NULL};
    static const char *const form_cols[] = {"status", "customer_phone", "addressee_phone", "weight_g", "delivery_id",
                                            "delivery_address", "delivery_date", "delivery_start", "delivery_end", NULL};
    static const char *const zone_cols[] = {"id", "name", "city", "polygon", NULL};
    static const char *const pickup_cols[] = {"id", "city", "name", "address", "lat", "lon", "hours", NULL};
    static const char *const slot_cols[] = {"day", "slot_id", "t_start", "t_end", "capacity", "taken", NULL};
    static const char *const tariff_cols[] = {"weight_from_g", "weight_to_g", "price_kopecks", NULL};
    static const char *const tpl_cols[] = {"event", "body", NULL};
    static const char *const bc_cols[] = {"recipients", "label", NULL};
    static const char *const draft_cols[] = {"body", "template_event", NULL};
    static const char *const pk_cols[] = {"storage_extended", "storage_until_ms", "return_requested", NULL};
    static const char *const role_cols[] = {"role", NULL};
    static const char *const bc_zone_cols[] = {"id", "name", NULL};
    const char *const *cols = NULL;
    const char *row[12] = {0};
    switch (l->kind) {
    case CONV_NEED_ORDER: {
        cols = order_cols;
        const char *v[] = {l->key, shape & 1 ? "at_pickup_point" : "delivered", "1795691666000", "+79491234567",
                           NULL, "77", text, "1796296466000", text, shape & 2 ? text : NULL,
                           "created|1795600000000\nat_pickup_point|1795691666000"};
        memcpy(row, v, sizeof v);
        break;
    }
    case CONV_NEED_MY_ORDERS: case CONV_NEED_ORDER_POSTINGS: {
        cols = list_cols;
        const char *v[] = {"12345678-0001-1", shape & 1 ? "in_transit" : "delivered"};
        memcpy(row, v, sizeof v);
        break;
    }
    case CONV_NEED_PHONE_ROLE: cols = role_cols; row[0] = "courier"; break;
    case CONV_NEED_FORM_POSTING: {
        cols = form_cols;
        const char *v[] = {"in_transit", "+79491234567", NULL, "1200", shape & 2 ? "5" : NULL, text, "20261209",
                           "10:00", "14:00"};
        memcpy(row, v, sizeof v);
        break;
    }
    case CONV_NEED_FORM_ZONES: {
        cols = zone_cols;
        const char *v[] = {"1", text, shape & 1 ? "Донецк" : text, "[[47.9,37.6],[48.1,37.6],[48.1,37.9],[47.9,37.9]]"};
        memcpy(row, v, sizeof v);
        break;
    }
    case CONV_NEED_FORM_PICKUPS: {
        cols = pickup_cols;
        const char *v[] = {"1", "Донецк", text, text, "48.0", "37.8", text};
        memcpy(row, v, sizeof v);
        break;
    }
    case CONV_NEED_FORM_SLOTS: {
        cols = slot_cols;
        const char *v[] = {"20261209", "1", "10:00", "14:00", "5", shape & 1 ? "5" : "0"};
        memcpy(row, v, sizeof v);
        break;
    }
    case CONV_NEED_FORM_TARIFF: {
        cols = tariff_cols;
        const char *v[] = {"0", "5000", "35000"};
        memcpy(row, v, sizeof v);
        break;
    }
    case 50: case 53: {   /* broadcast templates / draft: stored as the dialog accepted them */
        static char body[CONV_BC_TEXT_MAX * 4 + 1];
        size_t n = utf8_cut_chars(text, CONV_BC_TEXT_MAX);
        memcpy(body, text, n);
        body[n] = '\0';
        cols = l->kind == 50 ? tpl_cols : draft_cols;
        const char *v[] = {l->kind == 50 ? "created" : body, l->kind == 50 ? body : "created"};
        memcpy(row, v, sizeof v);
        break;
    }
    case 51: cols = bc_zone_cols; row[0] = "1"; row[1] = text; break;
    case 52: cols = bc_cols; row[0] = "3"; row[1] = text; break;
    case 60: {
        cols = pk_cols;
        const char *v[] = {shape & 1 ? "t" : "f", "1796296466000", shape & 2 ? "t" : "f"};
        memcpy(row, v, sizeof v);
        break;
    }
    default: break;
    }
    int ncols = 0;
    while (cols && cols[ncols] && ncols < 12) {
        mem->cols[ncols] = cols[ncols];
        mem->vals[ncols] = row[ncols];
        ncols++;
    }
    int nrows = (shape & 4) || !cols ? 0 : 1;
    int status = (shape & 8) ? RT_EIO : (l->kind == CONV_NEED_ORDER && nrows == 0) ? RT_ENOTFOUND : RT_OK;
    l->rows = (conv_rows_t){status, status == RT_OK ? nrows : 0, ncols, mem->cols, mem->vals};
}

static void fz_check(const conv_out_t *o, const tg_update_t *u, int rc)
{
    if (o->repaired) abort();                              /* the dialog made broken text */
    if (!utf8_valid(o->step, strlen(o->step)) || !utf8_valid(o->data, strlen(o->data))) abort();
    bool answered = false;
    for (int i = 0; i < o->nacts; i++) {
        const conv_act_t *a = &o->acts[i];
        for (int k = 0; k < a->nsql_params; k++)
            if (a->sql_params[k] && !utf8_valid(a->sql_params[k], strlen(a->sql_params[k]))) abort();
        if (!utf8_valid(a->name, strlen(a->name))) abort();
        if (a->kind != CONV_ACT_CALL) continue;
        if (!a->params || !utf8_valid(a->params, strlen(a->params))) abort();
        cJSON *p = cJSON_Parse(a->params);
        if (!p) abort();
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(p, "text"));
        if (text && utf8_chars(text) > 4096) abort();
        answered |= strcmp(a->method, "answerCallbackQuery") == 0;
        cJSON_Delete(p);
    }
    if (rc == RT_OK && u->kind == TG_UPD_CALLBACK && u->callback_id && !answered) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    static char text[FZ_TEXT_CHARS * 8 + 1];
    conv_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.role = (conv_role_t)(fz_byte(&in) % 5);
    ctx.tg_user_id = 77;
    if (ctx.role != CONV_GUEST) snprintf(ctx.phone, sizeof ctx.phone, "+79491234567");
    snprintf(ctx.step, sizeof ctx.step, "%s", fz_steps[fz_byte(&in) % (sizeof fz_steps / sizeof fz_steps[0])]);
    uint8_t shape = fz_byte(&in);
    fz_text(&in, text, sizeof text, FZ_TEXT_CHARS);
    if (strncmp(ctx.step, "form_", 5) == 0) {
        conv_form_data_t d;
        memset(&d, 0, sizeof d);
        snprintf(d.posting, sizeof d.posting, "12345678-0001-1");
        d.zone = shape & 16 ? 1 : 0;
        d.price = 35000;
        snprintf(d.date, sizeof d.date, "20261209");
        d.slot = 1;
        utf8_copy(d.address, sizeof d.address, text);
        conv_form_data_format(&d, ctx.data, sizeof ctx.data);
    } else if (strncmp(ctx.step, "bc_", 3) == 0) {
        utf8_copy(ctx.data, sizeof ctx.data, shape & 16 ? "all:" : text);
    }
    int kind;
    char *json = fz_update(&in, text, &kind);
    tg_update_t u;
    if (!json || tg_update_parse(json, strlen(json), &u) != RT_OK) abort();   /* Telegram's shape always parses */
    free(json);
    fz_rows_t mem[CONV_LOOKUPS_MAX];
    conv_out_t o;
    int rc = RT_PENDING;
    for (int round = 0; round < 6 && rc == RT_PENDING; round++) {
        rc = conv_step(&ctx, &u, &o);
        fz_check(&o, &u, rc);
        if (rc == RT_PENDING) {
            if (o.nneeds == 0 || ctx.nlookups + o.nneeds > CONV_LOOKUPS_MAX) abort();   /* pending must ask */
            for (int i = 0; i < o.nneeds; i++) {
                conv_lookup_t *l = &ctx.lookups[ctx.nlookups];
                l->kind = o.needs[i].kind;
                memcpy(l->key, o.needs[i].key, sizeof l->key);
                fz_answer(l, &mem[ctx.nlookups], text, (uint8_t)(shape >> (i & 3)));
                ctx.nlookups++;
            }
        }
        conv_out_free(&o);
    }
    tg_update_free(&u);
    return 0;
}
