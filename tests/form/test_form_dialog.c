/* test_form_dialog.c — the delivery order form, path by path, without I/O.
 *
 * Purpose: drive the dialog (conv_step) exactly as the conversation actor
 * does — answering each lookup it asks for from a small in-memory "database"
 * (orders, zones with the seeded polygons, pickup points, windows, tariffs),
 * then feeding the persisted step and data into the next update — and check
 * what the person is told, which buttons they get, the step and data kept
 * for a restart, and the SQL the confirmation queues. Also the pure helpers
 * (state format, text folding and city matching, prices, weight bands).
 * Threads: main only.
 */
#include "t.h"

#include <math.h>
#include <stddef.h>

#include "conv_booking.h"
#include "conv_dialog.h"
#include "conv_form.h"
#include "rt.h"
#include "texts.h"

/* ---- a fake database answering lookups ---------------------------------------- */

typedef struct fake_order {
    const char *posting, *status, *customer_phone, *addressee_phone, *weight_g;
    const char *delivery_address, *delivery_date;   /* an ordered delivery, or NULL */
    int ozon;                                       /* CONV_NEED_ORDER status when not RT_OK */
} fake_order_t;

static fake_order_t fake_orders[] = {
    {"12345678-0001-1", "created", "+79491234501", "+79491234501", "180", NULL, NULL, RT_OK},
    {"12345678-0002-1", "in_transit", "+79491234502", "+79491234501", "2400", NULL, NULL, RT_OK},   /* addressee */
    {"12345678-0005-1", "delivered", "+79491234501", NULL, "300", NULL, NULL, RT_OK},
    {"12345678-0008-1", "cancelled", "+79491234501", NULL, "300", NULL, NULL, RT_OK},
    {"12345678-0010-1", "returned", "+79491234501", NULL, "300", NULL, NULL, RT_OK},
    {"12345678-0011-1", "created", "+79491234501", NULL, NULL, NULL, NULL, RT_OK},      /* weight unknown */
    {"12345678-0012-1", "created", "+79491234501", NULL, "42000", NULL, NULL, RT_OK},   /* too heavy */
    {"12345678-0013-1", "at_pickup_point", NULL, "+79491234501", "900", "Донецк, ул. Артёма, 1", "20261127",
     RT_OK},
    {"99999999-0001-1", NULL, NULL, NULL, NULL, NULL, NULL, RT_ENOTFOUND},
    {"99999999-0002-1", NULL, NULL, NULL, NULL, NULL, NULL, RT_EIO},
};

static const char *const zone_rows[][4] = {
    {"1", "Донецк", "Донецк",
     "48.105,37.760;48.090,37.840;48.060,37.880;48.020,37.895;47.980,37.905;47.930,37.890;"
     "47.900,37.830;47.920,37.710;47.940,37.620;47.980,37.580;48.020,37.640;48.060,37.680;48.090,37.700"},
    {"2", "Макеевка", "Макеевка",
     "48.100,37.900;48.110,38.000;48.080,38.100;48.030,38.110;47.990,38.060;47.970,37.980;"
     "47.980,37.915;48.020,37.905;48.060,37.890"},
    {"3", "Луганск", "Луганск",
     "48.630,39.250;48.635,39.360;48.600,39.420;48.550,39.430;48.500,39.380;48.490,39.280;"
     "48.520,39.200;48.580,39.190"},
};

static const char *const pickup_rows[][7] = {
    {"1", "Горловка", "ПВЗ «Центральный»", "г. Горловка, пр. Победы, 58", "48.3000", "38.0500", "9–20"},
    {"2", "Донецк", "ПВЗ «Центр»", "г. Донецк, ул. Артёма, 130", "48.0087", "37.8040", "9–20"},
    {"3", "Луганск", "ПВЗ на Оборонной", "г. Луганск, ул. Оборонная, 2", "48.5620", "39.3330", "9–20"},
};

static const char *const tariff_rows[][3] = {
    {"0", "1000", "25000"}, {"1000", "5000", "35000"}, {"5000", "15000", "50000"}, {"15000", "30000", "80000"}};

/* windows: 3 days × 3 slots (ids zone*10 + 1..3); taken per cell, editable */
static const char *const slot_days[] = {"20261127", "20261128", "20261129"};
static const char *const slot_times[][2] = {{"10:00", "14:00"}, {"14:00", "18:00"}, {"18:00", "22:00"}};
static int slot_taken[3][3];
static int slot_capacity = 20;
static int lookups_asked;
/* the ordered delivery of 12345678-0013-1 as CONV_NEED_BOOKING gives it */
static const char *booking_user = "77";
static const char *booking_starts_in = "600";

typedef struct fake_rows {
    int ncols, nrows;
    const char *cols[12];
    const char *vals[12 * 40];
    char text[40][4][24];   /* formatted numbers */
} fake_rows_t;

static fake_rows_t *rows_new(int ncols, const char *const *cols)
{
    fake_rows_t *r = calloc(1, sizeof *r);
    r->ncols = ncols;
    for (int i = 0; i < ncols; i++) r->cols[i] = cols[i];
    return r;
}

static void rows_add(fake_rows_t *r, const char *const *vals)
{
    for (int i = 0; i < r->ncols; i++) r->vals[r->nrows * r->ncols + i] = vals[i];
    r->nrows++;
}

/* Answer lookup (kind, key) into l. */
static void fake_answer(conv_lookup_t *l)
{
    fake_rows_t *r = NULL;
    int status = RT_OK;
    lookups_asked++;
    if (l->kind == CONV_NEED_ORDER || l->kind == CONV_NEED_FORM_POSTING) {
        static const char *const oc[] = {"posting_number", "status", "customer_phone", "addressee_phone", "ordered_by"};
        static const char *const pc[] = {"status", "customer_phone", "addressee_phone", "weight_g", "delivery_id",
                                         "delivery_address", "delivery_date", "delivery_start", "delivery_end"};
        r = l->kind == CONV_NEED_ORDER ? rows_new(5, oc) : rows_new(9, pc);
        status = RT_ENOTFOUND;
        for (size_t i = 0; i < sizeof fake_orders / sizeof fake_orders[0]; i++) {
            fake_order_t *o = &fake_orders[i];
            if (strcmp(o->posting, l->key) != 0) continue;
            status = o->ozon;
            if (status != RT_OK) break;
            if (l->kind == CONV_NEED_ORDER) {
                const char *v[] = {o->posting, o->status, o->customer_phone, o->addressee_phone, NULL};
                rows_add(r, v);
            } else {
                const char *v[] = {o->status, o->customer_phone, o->addressee_phone, o->weight_g,
                                   o->delivery_address ? "7" : NULL, o->delivery_address, o->delivery_date,
                                   o->delivery_address ? "10:00" : NULL, o->delivery_address ? "14:00" : NULL};
                rows_add(r, v);
            }
        }
        if (l->kind == CONV_NEED_FORM_POSTING && status == RT_ENOTFOUND) status = RT_OK;   /* plain SQL: 0 rows */
    } else if (l->kind == CONV_NEED_FORM_ZONES) {
        static const char *const zc[] = {"id", "name", "city", "polygon"};
        r = rows_new(4, zc);
        for (size_t i = 0; i < sizeof zone_rows / sizeof zone_rows[0]; i++) rows_add(r, zone_rows[i]);
    } else if (l->kind == CONV_NEED_FORM_PICKUPS) {
        static const char *const pc[] = {"id", "city", "name", "address", "lat", "lon", "hours"};
        r = rows_new(7, pc);
        for (size_t i = 0; i < sizeof pickup_rows / sizeof pickup_rows[0]; i++) rows_add(r, pickup_rows[i]);
    } else if (l->kind == CONV_NEED_FORM_TARIFF) {
        static const char *const tc[] = {"weight_from_g", "weight_to_g", "price_kopecks"};
        r = rows_new(3, tc);
        for (size_t i = 0; i < 4; i++) rows_add(r, tariff_rows[i]);
    } else if (l->kind == CONV_NEED_FORM_SLOTS) {
        static const char *const sc[] = {"day", "slot_id", "t_start", "t_end", "capacity", "taken"};
        r = rows_new(6, sc);
        int zone = atoi(l->key);
        for (int d = 0; d < 3; d++)
            for (int s = 0; s < 3; s++) {
                char *id = r->text[r->nrows][0], *cap = r->text[r->nrows][1], *taken = r->text[r->nrows][2];
                snprintf(id, 24, "%d", zone * 10 + s + 1);
                snprintf(cap, 24, "%d", slot_capacity);
                snprintf(taken, 24, "%d", slot_taken[d][s]);
                const char *v[] = {slot_days[d], id, slot_times[s][0], slot_times[s][1], cap, taken};
                rows_add(r, v);
            }
    } else if (l->kind == CONV_NEED_BOOKING) {
        static const char *const bc[] = {"delivery_id", "tg_user_id", "address", "day", "t_start", "t_end",
                                         "zone_id", "slot_id", "starts_in_min", "customer_phone", "addressee_phone"};
        r = rows_new(11, bc);
        const char *v[] = {"7", booking_user, "Донецк, ул. Артёма, 1", "20261127", "10:00", "14:00", "1", "11",
                           booking_starts_in, NULL, "+79491234501"};
        if (strcmp(l->key, "12345678-0013-1") == 0) rows_add(r, v);
    } else {
        status = RT_EINVAL;
    }
    l->rows.status = status;
    l->rows.nrows = r ? r->nrows : 0;
    l->rows.ncols = r ? r->ncols : 0;
    l->rows.cols = r ? r->cols : NULL;
    l->rows.values = r ? r->vals : NULL;
}

static void ctx_free_lookups(conv_ctx_t *ctx)
{
    for (int i = 0; i < ctx->nlookups; i++)
        if (ctx->lookups[i].rows.cols)
            free((void *)((const char *)ctx->lookups[i].rows.cols - offsetof(fake_rows_t, cols)));
    ctx->nlookups = 0;
}

/* ---- driving the dialog ------------------------------------------------------------ */

typedef struct person {
    conv_ctx_t ctx;
    conv_out_t out;
    bool have_out;
    long long next_update;
} person_t;

static person_t person(conv_role_t role, const char *phone)
{
    person_t p;
    memset(&p, 0, sizeof p);
    p.ctx.role = role;
    p.ctx.tg_user_id = 77;
    snprintf(p.ctx.phone, sizeof p.ctx.phone, "%s", phone ? phone : "");
    snprintf(p.ctx.first_name, sizeof p.ctx.first_name, "Мария");
    snprintf(p.ctx.step, sizeof p.ctx.step, "%s", conv_home_step(role));
    p.next_update = 1;
    return p;
}

/* Run update u to a decision, answering lookups like the actor; then keep
 * the step and data as the next update's context (what the database holds).
 * Returns the final rc (RT_OK expected). */
static int run(person_t *p, tg_update_t *u)
{
    if (p->have_out) conv_out_free(&p->out);
    p->ctx.nlookups = 0;
    int rc, rounds = 0;
    while ((rc = conv_step(&p->ctx, u, &p->out)) == RT_PENDING && rounds++ < 6) {
        T_CHECK(p->out.nneeds > 0);
        T_CHECK(p->ctx.nlookups + p->out.nneeds <= CONV_LOOKUPS_MAX);
        for (int i = 0; i < p->out.nneeds; i++) {
            conv_lookup_t *l = &p->ctx.lookups[p->ctx.nlookups++];
            l->kind = p->out.needs[i].kind;
            memcpy(l->key, p->out.needs[i].key, sizeof l->key);
            fake_answer(l);
        }
        conv_out_free(&p->out);
    }
    p->have_out = true;
    ctx_free_lookups(&p->ctx);
    if (rc == RT_OK) {
        T_CHECK(strlen(p->out.data) < CONV_DATA_MAX);
        snprintf(p->ctx.step, sizeof p->ctx.step, "%s", p->out.step);
        snprintf(p->ctx.data, sizeof p->ctx.data, "%s", p->out.data);
    }
    tg_update_free(u);
    return rc;
}

static tg_update_t parse_update(const char *json)
{
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static int send_text(person_t *p, const char *text)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "update_id", (double)p->next_update++);
    cJSON *m = cJSON_AddObjectToObject(j, "message");
    cJSON_AddNumberToObject(m, "message_id", 10);
    cJSON *from = cJSON_AddObjectToObject(m, "from");
    cJSON_AddNumberToObject(from, "id", 77);
    cJSON *chat = cJSON_AddObjectToObject(m, "chat");
    cJSON_AddNumberToObject(chat, "id", 77);
    cJSON_AddStringToObject(chat, "type", "private");
    cJSON_AddStringToObject(m, "text", text);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    tg_update_t u = parse_update(s);
    free(s);
    return run(p, &u);
}

static int send_pin(person_t *p, double lat, double lon)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":%lld,\"message\":{\"message_id\":11,\"from\":{\"id\":77},\"chat\":{\"id\":77,"
             "\"type\":\"private\"},\"location\":{\"latitude\":%.6f,\"longitude\":%.6f}}}",
             p->next_update++, lat, lon);
    tg_update_t u = parse_update(json);
    return run(p, &u);
}

static int press(person_t *p, const char *data)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":%lld,\"callback_query\":{\"id\":\"cb%lld\",\"from\":{\"id\":77},\"chat_instance\":\"1\","
             "\"message\":{\"message_id\":5,\"chat\":{\"id\":77,\"type\":\"private\"}},\"data\":\"%s\"}}",
             p->next_update, p->next_update, data);
    p->next_update++;
    tg_update_t u = parse_update(json);
    return run(p, &u);
}

/* Does any queued Bot API call contain needle? */
static bool said(const person_t *p, const char *needle)
{
    for (int i = 0; i < p->out.nacts; i++)
        if (p->out.acts[i].kind == CONV_ACT_CALL && strstr(p->out.acts[i].params, needle)) return true;
    return false;
}

static int count_method(const person_t *p, const char *method)
{
    int n = 0;
    for (int i = 0; i < p->out.nacts; i++)
        if (p->out.acts[i].kind == CONV_ACT_CALL && strcmp(p->out.acts[i].method, method) == 0) n++;
    return n;
}

static int count_sql(const person_t *p)
{
    int n = 0;
    for (int i = 0; i < p->out.nacts; i++) n += p->out.acts[i].kind == CONV_ACT_SQL;
    return n;
}

static const conv_act_t *find_sql(const person_t *p, const char *needle)
{
    for (int i = 0; i < p->out.nacts; i++)
        if (p->out.acts[i].kind == CONV_ACT_SQL && strstr(p->out.acts[i].sql, needle)) return &p->out.acts[i];
    return NULL;
}

/* The first catalogue line of text id (up to the first placeholder or newline). */
static const char *head_of(text_id_t id)
{
    static char buf[8][256];
    static int n;
    char *b = buf[n++ % 8];
    const char *t = text_get(id);
    size_t len = strcspn(t, "%\n<");
    snprintf(b, 256, "%.*s", (int)len, t);
    T_CHECK(strlen(b) >= 12);   /* distinctive enough to mean this text */
    return b;
}

/* The callback data of the first inline button whose data starts with prefix. */
static const char *button_data(const person_t *p, const char *prefix)
{
    static char data[80];
    for (int i = 0; i < p->out.nacts; i++) {
        if (p->out.acts[i].kind != CONV_ACT_CALL) continue;
        cJSON *j = cJSON_Parse(p->out.acts[i].params);
        cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reply_markup"), "inline_keyboard");
        cJSON *row, *btn;
        cJSON_ArrayForEach(row, kb) cJSON_ArrayForEach(btn, row) {
            const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(btn, "callback_data"));
            if (d && strncmp(d, prefix, strlen(prefix)) == 0) {
                snprintf(data, sizeof data, "%s", d);
                cJSON_Delete(j);
                return data;
            }
        }
        cJSON_Delete(j);
    }
    return NULL;
}

static int count_buttons(const person_t *p, const char *prefix)
{
    int n = 0;
    for (int i = 0; i < p->out.nacts; i++) {
        if (p->out.acts[i].kind != CONV_ACT_CALL) continue;
        cJSON *j = cJSON_Parse(p->out.acts[i].params);
        cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reply_markup"), "inline_keyboard");
        cJSON *row, *btn;
        cJSON_ArrayForEach(row, kb) cJSON_ArrayForEach(btn, row) {
            const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(btn, "callback_data"));
            if (d && strncmp(d, prefix, strlen(prefix)) == 0) n++;
        }
        cJSON_Delete(j);
    }
    return n;
}

static void reset_world(void)
{
    memset(slot_taken, 0, sizeof slot_taken);
    slot_capacity = 20;
}

/* A client at the address step of 12345678-0001-1. */
static person_t at_address(const char *posting)
{
    person_t p = person(CONV_CLIENT, "+79491234501");
    T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
    T_EQ_INT(send_text(&p, posting), RT_OK);
    T_EQ_STR(p.ctx.step, "form_address");
    return p;
}

static void done(person_t *p)
{
    if (p->have_out) conv_out_free(&p->out);
    p->have_out = false;
}

/* ---- pure helpers -------------------------------------------------------------------- */

T_CASE(state_round_trips_within_512_bytes)
{
    conv_form_data_t d, back;
    memset(&d, 0, sizeof d);
    snprintf(d.posting, sizeof d.posting, "0132112277-0101-123");
    d.zone = 2147483647;
    d.price = 999999999999LL;
    d.weight_unknown = true;
    d.has_pin = true;
    d.lat = -89.123456;
    d.lon = -179.654321;
    memcpy(d.date, "20261127", 9);
    d.slot = 2147483647;
    for (int i = 0; i < CONV_FORM_ADDRESS_CHARS; i++) memcpy(d.address + 2 * i, "Ж", 2);   /* 400 bytes */
    char buf[CONV_DATA_MAX];
    T_EQ_INT(conv_form_data_format(&d, buf, sizeof buf), RT_OK);
    T_CHECK(strlen(buf) < CONV_DATA_MAX);
    conv_form_data_parse(buf, &back);
    T_EQ_STR(back.posting, d.posting);
    T_EQ_INT(back.zone, d.zone);
    T_EQ_INT(back.price, d.price);
    T_CHECK(back.weight_unknown && back.has_pin);
    T_CHECK(fabs(back.lat - d.lat) < 1e-6 && fabs(back.lon - d.lon) < 1e-6);
    T_EQ_STR(back.date, "20261127");
    T_EQ_INT(back.slot, d.slot);
    T_EQ_STR(back.address, d.address);
    /* empty, garbage and unknown keys parse to nothing */
    conv_form_data_parse("", &back);
    T_EQ_STR(back.posting, "");
    conv_form_data_parse("x=1\nzz=3\n=\nd=2026\nnonsense", &back);
    T_EQ_INT(back.zone, 0);
    T_EQ_STR(back.date, "");
    conv_form_data_parse("g=nan,nan", &back);
    T_CHECK(!back.has_pin);
    conv_form_data_parse("g=91,10", &back);
    T_CHECK(!back.has_pin);
    char tiny[16];
    T_EQ_INT(conv_form_data_format(&d, tiny, sizeof tiny), RT_EINVAL);
}

T_CASE(fold_lowercases_russian_and_merges_yo)
{
    char out[128];
    conv_form_fold("  Г.ДОНЕЦК, ул. Артёма—120/кв.«45»  ", out, sizeof out);
    T_EQ_STR(out, "г донецк ул артема 120 кв 45");
    conv_form_fold("ЁЛКИ ёлки Ёж", out, sizeof out);
    T_EQ_STR(out, "елки елки еж");
    conv_form_fold("", out, sizeof out);
    T_EQ_STR(out, "");
    conv_form_fold("\xff\xfe Донецк", out, sizeof out);   /* stray bytes are separators */
    T_EQ_STR(out, "донецк");
}

T_CASE(city_names_match_as_words_and_in_case_forms)
{
    T_CHECK(conv_form_city_match("Донецк, ул. Артёма, 120", "Донецк") == 0);
    T_CHECK(conv_form_city_match("г.ДОНЕЦК ул Артема", "Донецк") >= 0);
    T_CHECK(conv_form_city_match("живу в Донецке на Артёма", "Донецк") >= 0);
    T_CHECK(conv_form_city_match("Макеевка, ул. Ленина, 5", "Макеевка") == 0);
    T_CHECK(conv_form_city_match("в Макеевке, ул. Ленина", "Макеевка") >= 0);
    T_CHECK(conv_form_city_match("Мариуполе, пр. Мира", "Мариуполь") == 0);
    T_CHECK(conv_form_city_match("пгт Щелкино", "Щёлкино") >= 0);          /* ё/е both ways */
    T_CHECK(conv_form_city_match("Новая Каховка, ул. Мира", "новая каховка") == 0);
    /* a region or street named after the city is not the city */
    T_EQ_INT(conv_form_city_match("Донецкая обл., Макеевка", "Донецк"), -1);
    T_EQ_INT(conv_form_city_match("Макеевка, Донецкое шоссе, 5", "Донецк"), -1);
    T_EQ_INT(conv_form_city_match("Горловка, ул. Пушкина", "Донецк"), -1);
    T_EQ_INT(conv_form_city_match("anything", ""), -1);
}

T_CASE(prices_are_rubles_with_kopecks)
{
    char out[64];
    conv_form_price_text(35000, out, sizeof out);
    T_EQ_STR(out, "350,00 ₽");
    conv_form_price_text(125050, out, sizeof out);
    T_EQ_STR(out, "1\xc2\xa0" "250,50 ₽");
    conv_form_price_text(7, out, sizeof out);
    T_EQ_STR(out, "0,07 ₽");
    conv_form_price_text(100000000, out, sizeof out);
    T_EQ_STR(out, "1\xc2\xa0" "000\xc2\xa0" "000,00 ₽");
}

T_CASE(weight_bands_pick_the_tariff)
{
    int from[] = {1000, 0, 5000, 15000}, to[] = {5000, 1000, 15000, 30000};
    long long price[] = {35000, 25000, 50000, 80000};
    T_EQ_INT(conv_form_band(from, to, price, 4, 180), 25000);
    T_EQ_INT(conv_form_band(from, to, price, 4, 1000), 25000);     /* up to 1 kg inclusive */
    T_EQ_INT(conv_form_band(from, to, price, 4, 1001), 35000);
    T_EQ_INT(conv_form_band(from, to, price, 4, 30000), 80000);
    T_EQ_INT(conv_form_band(from, to, price, 4, 30001), -1);       /* too heavy */
    T_EQ_INT(conv_form_band(from, to, price, 4, 0), 25000);        /* unknown: the lowest band */
    T_EQ_INT(conv_form_band(from, to, price, 0, 500), -1);         /* no tariff */
}

/* ---- step 1: the posting -------------------------------------------------------------- */

T_CASE(button_starts_the_form_for_clients_only)
{
    person_t p = person(CONV_CLIENT, "+79491234501");
    T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
    T_EQ_STR(p.ctx.step, "form_posting");
    T_CHECK(said(&p, "Оформление доставки"));
    T_CHECK(said(&p, text_get(T_BTN_BACK)));
    T_CHECK(said(&p, text_get(T_BTN_CANCEL)));
    done(&p);
    person_t g = person(CONV_GUEST, NULL);
    T_EQ_INT(send_text(&g, text_get(T_BTN_ORDER)), RT_OK);
    T_CHECK(said(&g, head_of(T_NEED_REGISTRATION)));
    T_EQ_STR(g.ctx.step, "await_contact");
    done(&g);
    person_t c = person(CONV_COURIER, "+79491230000");
    T_EQ_INT(send_text(&c, text_get(T_BTN_ORDER)), RT_OK);
    T_CHECK(!said(&c, "Оформление доставки"));
    done(&c);
}

T_CASE(bad_unknown_and_unreachable_postings_are_explained)
{
    person_t p = person(CONV_CLIENT, "+79491234501");
    T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
    T_EQ_INT(send_text(&p, "<b>12</b>"), RT_OK);
    T_CHECK(said(&p, "&lt;b&gt;12&lt;/b&gt;"));                 /* echoed input is escaped */
    T_CHECK(!said(&p, "<b>12</b>"));
    T_EQ_STR(p.ctx.step, "form_posting");
    T_EQ_INT(send_text(&p, "99999999-0001-1"), RT_OK);
    T_CHECK(said(&p, "не найдено ни у нас"));
    T_EQ_STR(p.ctx.step, "form_posting");
    T_EQ_INT(send_text(&p, "99999999-0002-1"), RT_OK);
    T_CHECK(said(&p, head_of(T_FORM_POSTING_UNAVAILABLE)));
    T_EQ_STR(p.ctx.step, "form_posting");
    T_EQ_INT(count_sql(&p), 0);
    done(&p);
}

T_CASE(only_the_owner_may_order)
{
    person_t p = person(CONV_CLIENT, "+79990000000");
    T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
    T_EQ_INT(send_text(&p, "12345678-0001-1"), RT_OK);
    T_CHECK(said(&p, head_of(T_FORM_NOT_OWNER)));
    T_EQ_STR(p.ctx.step, "form_posting");
    T_CHECK(!said(&p, "Артёма"));
    done(&p);
    /* the addressee phone counts too */
    person_t a = at_address("12345678-0001-1");
    done(&a);
}

T_CASE(finished_or_already_ordered_postings_are_refused)
{
    static const struct { const char *posting, *why; } cases[] = {
        {"12345678-0005-1", "уже выдано"},
        {"12345678-0008-1", "отменено —"},
        {"12345678-0010-1", "возвращено продавцу"},
    };
    for (size_t i = 0; i < 3; i++) {
        person_t p = person(CONV_CLIENT, "+79491234501");
        T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
        T_EQ_INT(send_text(&p, cases[i].posting), RT_OK);
        T_CHECK(said(&p, cases[i].why));
        T_EQ_STR(p.ctx.step, "form_posting");
        done(&p);
    }
    person_t p = person(CONV_CLIENT, "+79491234501");
    T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
    T_EQ_INT(send_text(&p, "12345678-0013-1"), RT_OK);
    T_CHECK(said(&p, head_of(T_FORM_ALREADY_ORDERED)));
    T_CHECK(said(&p, "Донецк, ул. Артёма, 1"));
    T_CHECK(said(&p, "пт, 27.11 · 10:00–14:00"));                /* 27.11.2026 is a Friday */
    T_EQ_STR(p.ctx.step, "form_posting");
    done(&p);
}

T_CASE(owned_posting_asks_for_the_address_with_a_location_button)
{
    person_t p = at_address("12345678-0001-1");
    T_CHECK(said(&p, "0,18 кг"));
    T_CHECK(said(&p, "request_location"));
    T_CHECK(said(&p, text_get(T_BTN_FORM_LOCATION)));
    conv_form_data_t d;
    conv_form_data_parse(p.ctx.data, &d);
    T_EQ_STR(d.posting, "12345678-0001-1");
    done(&p);
}

/* ---- step 2: the address -------------------------------------------------------------- */

T_CASE(pin_in_donetsk_offers_the_zones_windows)
{
    reset_world();
    slot_taken[0][1] = 20;   /* Friday 14-18 is full: not offered */
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_CHECK(said(&p, "Донецк"));
    T_EQ_INT(count_buttons(&p, "f:s:"), 8);
    T_CHECK(button_data(&p, "f:s:20261127:11") != NULL);
    T_CHECK(button_data(&p, "f:s:20261127:12") == NULL);
    T_CHECK(said(&p, "пт, 27.11 · 10:00–14:00"));
    T_CHECK(button_data(&p, "f:b") && button_data(&p, "f:x"));
    conv_form_data_t d;
    conv_form_data_parse(p.ctx.data, &d);
    T_EQ_INT(d.zone, 1);
    T_EQ_INT(d.price, 25000);
    T_CHECK(d.has_pin && fabs(d.lat - 48.0159) < 1e-6);
    T_CHECK(strstr(d.address, "48.01590") != NULL);
    done(&p);
}

T_CASE(typed_address_is_matched_by_its_city)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_text(&p, "  Макеевка,\nул. Ленина, 5  "), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    conv_form_data_t d;
    conv_form_data_parse(p.ctx.data, &d);
    T_EQ_INT(d.zone, 2);
    T_CHECK(!d.has_pin);
    T_EQ_STR(d.address, "Макеевка, ул. Ленина, 5");
    T_CHECK(button_data(&p, "f:s:20261127:21") != NULL);
    done(&p);
    /* ё and case do not matter; the first city named wins */
    person_t q = at_address("12345678-0001-1");
    T_EQ_INT(send_text(&q, "г. ЛУГАНСК, ул. Донецкая, 3"), RT_OK);
    conv_form_data_parse(q.ctx.data, &d);
    T_EQ_INT(d.zone, 3);
    done(&q);
}

T_CASE(typed_address_is_escaped_when_shown)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_text(&p, "Донецк, <b>ул.</b> \"Мира\" & 5"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_CHECK(said(&p, "&lt;b&gt;ул.&lt;/b&gt; &quot;Мира&quot; &amp; 5"));
    T_CHECK(!said(&p, "<b>ул."));
    done(&p);
}

T_CASE(pin_outside_every_zone_offers_the_nearest_pickup_point)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 55.7558, 37.6173), RT_OK);   /* Moscow */
    T_EQ_STR(p.ctx.step, "form_address");
    T_CHECK(said(&p, head_of(T_FORM_OUTSIDE_PIN)));
    T_CHECK(said(&p, "г. Луганск, ул. Оборонная, 2"));     /* the nearest of the three */
    T_CHECK(!said(&p, "г. Горловка"));
    T_CHECK(said(&p, "Донецк, Макеевка, Луганск"));
    T_CHECK(said(&p, "request_location"));
    conv_form_data_t d;
    conv_form_data_parse(p.ctx.data, &d);
    T_EQ_STR(d.posting, "12345678-0001-1");
    T_EQ_INT(d.zone, 0);
    /* then another address goes on */
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    done(&p);
}

T_CASE(typed_address_outside_lists_pickup_points)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_text(&p, "Горловка, ул. Пушкина, 1"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_address");
    T_CHECK(said(&p, head_of(T_FORM_OUTSIDE_TEXT)));
    T_CHECK(said(&p, "г. Горловка, пр. Победы, 58"));        /* that city's point only */
    T_CHECK(!said(&p, "г. Луганск"));
    T_EQ_INT(send_text(&p, "Киев, Крещатик"), RT_OK);
    T_CHECK(said(&p, "г. Горловка") && said(&p, "г. Луганск") && said(&p, "г. Донецк, ул. Артёма, 130"));
    T_EQ_STR(p.ctx.step, "form_address");
    done(&p);
}

T_CASE(address_limits)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    char addr[1024] = "Донецк, ";
    while (strlen(addr) < 420) strcat(addr, "ж");
    T_EQ_INT(send_text(&p, addr), RT_OK);
    T_CHECK(said(&p, head_of(T_FORM_ADDRESS_TOO_LONG)));
    T_EQ_STR(p.ctx.step, "form_address");
    /* 200 Cyrillic characters are fine and fit the state */
    char ok[512] = "Донецк ";
    while (strlen(ok) < 2 * 200 - 6) strcat(ok, "ж");
    T_EQ_INT(send_text(&p, ok), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_CHECK(strlen(p.ctx.data) < CONV_DATA_MAX - 1);
    done(&p);
}

T_CASE(too_heavy_and_unknown_weight)
{
    reset_world();
    person_t p = at_address("12345678-0012-1");
    T_EQ_INT(send_text(&p, "Донецк, ул. Артёма, 5"), RT_OK);
    T_CHECK(said(&p, "42,00 кг"));
    T_CHECK(said(&p, "30,00 кг"));
    T_EQ_STR(p.ctx.step, "form_address");
    done(&p);
    person_t q = at_address("12345678-0011-1");
    T_EQ_INT(send_text(&q, "Донецк, ул. Артёма, 5"), RT_OK);
    T_EQ_STR(q.ctx.step, "form_slot");
    T_EQ_INT(press(&q, "f:s:20261128:13"), RT_OK);
    T_CHECK(said(&q, "250,00 ₽"));
    T_CHECK(said(&q, "Вес посылки в заказе не указан"));
    done(&q);
}

/* ---- steps 3-5: window, summary, confirmation ---------------------------------------------- */

T_CASE(full_path_books_in_the_updates_transaction)
{
    reset_world();
    person_t p = at_address("12345678-0002-1");    /* 2.4 kg: the 1-5 kg band */
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_INT(press(&p, "f:s:20261128:12"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_confirm");
    T_CHECK(said(&p, "350,00 ₽"));
    T_CHECK(said(&p, "сб, 28.11 · 14:00–18:00"));
    T_CHECK(!said(&p, "Вес посылки в заказе не указан"));
    T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    const char *ok = button_data(&p, "f:ok:");
    T_CHECK(ok != NULL);
    T_EQ_STR(ok, "f:ok:12345678-0002-1:20261128:12");
    char okbuf[80];
    snprintf(okbuf, sizeof okbuf, "%s", ok);   /* button_data's buffer is reused below */
    T_CHECK(button_data(&p, "f:ea") && button_data(&p, "f:et") && button_data(&p, "f:b") && button_data(&p, "f:x"));
    T_EQ_INT(press(&p, okbuf), RT_OK);
    T_EQ_STR(p.ctx.step, "menu");
    T_EQ_STR(p.ctx.data, "");
    T_CHECK(said(&p, "Доставка оформлена"));
    T_CHECK(said(&p, text_get(T_BTN_TRACK)));            /* the main menu is back */
    T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    const conv_act_t *b = find_sql(&p, "delivery_book(");
    T_CHECK(b != NULL);
    T_EQ_INT(b->nsql_params, 8);
    T_EQ_STR(b->sql_params[0], "12345678-0002-1");
    T_EQ_STR(b->sql_params[1], "77");
    T_CHECK(strstr(b->sql_params[2], "48.01590") != NULL);
    T_EQ_STR(b->sql_params[3], "48.015900");
    T_EQ_STR(b->sql_params[4], "37.802800");
    T_EQ_STR(b->sql_params[5], "12");
    T_EQ_STR(b->sql_params[6], "20261128");
    T_EQ_STR(b->sql_params[7], "35000");
    const conv_act_t *by = find_sql(&p, "ordered_by");
    T_CHECK(by && strcmp(by->sql_params[1], "77") == 0);
    T_CHECK(find_sql(&p, "order_subscribers") != NULL);
    /* the confirmation is not repeated by a second press */
    T_EQ_INT(press(&p, okbuf), RT_OK);
    T_EQ_INT(count_sql(&p), 0);
    T_CHECK(said(&p, text_get(T_CALLBACK_STALE)));
    done(&p);
}

T_CASE(text_address_books_without_coordinates)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_text(&p, "Макеевка, ул. Ленина, 45, кв. 3"), RT_OK);
    T_EQ_INT(press(&p, "f:s:20261129:23"), RT_OK);
    T_EQ_INT(press(&p, "f:ok:12345678-0001-1:20261129:23"), RT_OK);
    const conv_act_t *b = find_sql(&p, "delivery_book(");
    T_CHECK(b != NULL);
    T_EQ_STR(b->sql_params[2], "Макеевка, ул. Ленина, 45, кв. 3");
    T_CHECK(b->sql_params[3] == NULL && b->sql_params[4] == NULL);
    T_EQ_STR(b->sql_params[7], "25000");
    done(&p);
}

T_CASE(a_window_taken_meanwhile_is_refused_and_offered_again)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    /* filled between the list and the press */
    slot_taken[0][0] = 20;
    T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_CHECK(said(&p, head_of(T_FORM_SLOT_TAKEN)));
    T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    T_CHECK(button_data(&p, "f:s:20261127:11") == NULL);
    /* filled between the summary and the confirmation */
    T_EQ_INT(press(&p, "f:s:20261127:13"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_confirm");
    slot_taken[0][2] = 20;
    T_EQ_INT(press(&p, "f:ok:12345678-0001-1:20261127:13"), RT_OK);
    T_EQ_INT(count_sql(&p), 0);
    T_CHECK(said(&p, head_of(T_FORM_SLOT_FILLED)));
    T_CHECK(said(&p, "пт, 27.11 · 18:00–22:00"));
    T_EQ_STR(p.ctx.step, "form_slot");
    T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    T_CHECK(button_data(&p, "f:s:20261128:11") != NULL);
    /* every window full: said so, with back and cancel */
    for (int d = 0; d < 3; d++) for (int s = 0; s < 3; s++) slot_taken[d][s] = 20;
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_INT(count_buttons(&p, "f:s:"), 0);
    T_CHECK(said(&p, "свободных окон нет"));
    T_CHECK(button_data(&p, "f:b") != NULL);
    done(&p);
}

T_CASE(back_buttons_walk_the_steps_backwards)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_confirm");
    T_EQ_INT(press(&p, "f:b"), RT_OK);                    /* confirm → windows */
    T_EQ_STR(p.ctx.step, "form_slot");
    T_CHECK(button_data(&p, "f:s:20261127:11") != NULL);
    T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    T_EQ_INT(press(&p, "f:b"), RT_OK);                    /* windows → address */
    T_EQ_STR(p.ctx.step, "form_address");
    T_CHECK(said(&p, "request_location"));
    T_EQ_INT(send_text(&p, text_get(T_BTN_BACK)), RT_OK); /* address → posting */
    T_EQ_STR(p.ctx.step, "form_posting");
    T_CHECK(said(&p, "Оформление доставки"));
    T_EQ_INT(send_text(&p, text_get(T_BTN_BACK)), RT_OK); /* posting → out of the form */
    T_EQ_STR(p.ctx.step, "menu");
    T_CHECK(said(&p, text_get(T_BTN_ORDER)));
    /* the reply-keyboard Назад also works at the later steps */
    person_t q = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&q, 48.0159, 37.8028), RT_OK);
    T_EQ_INT(press(&q, "f:s:20261127:11"), RT_OK);
    T_EQ_INT(send_text(&q, text_get(T_BTN_BACK)), RT_OK);
    T_EQ_STR(q.ctx.step, "form_slot");
    done(&p);
    done(&q);
}

T_CASE(edit_buttons_and_a_new_address_at_a_later_step)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);
    T_EQ_INT(press(&p, "f:et"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_EQ_INT(press(&p, "f:s:20261129:13"), RT_OK);
    T_EQ_INT(press(&p, "f:ea"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_address");
    conv_form_data_t d;
    conv_form_data_parse(p.ctx.data, &d);
    T_EQ_INT(d.zone, 0);
    T_EQ_STR(d.posting, "12345678-0001-1");
    /* a new address typed while the summary is shown replaces the old one */
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);
    T_EQ_INT(send_text(&p, "Луганск, ул. Советская, 1"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    conv_form_data_parse(p.ctx.data, &d);
    T_EQ_INT(d.zone, 3);
    T_EQ_STR(d.date, "");
    /* plain text in the window step without a city: told, not lost */
    char before[CONV_DATA_MAX];
    snprintf(before, sizeof before, "%s", p.ctx.data);
    T_EQ_INT(send_text(&p, "когда угодно"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_EQ_STR(p.ctx.data, before);
    T_CHECK(said(&p, text_get(T_FORM_USE_SLOT_BUTTONS)));
    T_EQ_INT(press(&p, "f:s:20261127:31"), RT_OK);
    T_EQ_INT(send_text(&p, "завтра"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_confirm");
    T_CHECK(said(&p, "Подтвердить"));
    /* a pin outside every zone is an address all the same */
    T_EQ_INT(send_pin(&p, 55.7558, 37.6173), RT_OK);
    T_EQ_STR(p.ctx.step, "form_address");
    done(&p);
}

T_CASE(cancel_from_every_step)
{
    reset_world();
    const char *steps[] = {"form_posting", "form_address", "form_slot", "form_confirm"};
    for (int i = 0; i < 4; i++) {
        person_t p = person(CONV_CLIENT, "+79491234501");
        T_EQ_INT(send_text(&p, text_get(T_BTN_ORDER)), RT_OK);
        if (i >= 1) T_EQ_INT(send_text(&p, "12345678-0001-1"), RT_OK);
        if (i >= 2) T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
        if (i >= 3) T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);
        T_EQ_STR(p.ctx.step, steps[i]);
        done(&p);
        person_t a = p, b = p;
        T_EQ_INT(send_text(&a, "/cancel"), RT_OK);           /* the dispatcher */
        T_EQ_STR(a.ctx.step, "menu");
        T_EQ_INT(send_text(&b, text_get(T_BTN_CANCEL)), RT_OK);
        T_EQ_STR(b.ctx.step, "menu");
        T_CHECK(said(&b, text_get(T_FORM_CANCELLED)));
        T_EQ_INT(count_sql(&b), 0);
        if (i >= 2) {
            T_EQ_INT(press(&p, "f:x"), RT_OK);
            T_EQ_STR(p.ctx.step, "menu");
            T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
        }
        done(&a);
        done(&b);
        done(&p);
    }
}

T_CASE(stale_or_forged_callbacks_change_nothing)
{
    reset_world();
    person_t p = person(CONV_CLIENT, "+79491234501");
    T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);          /* not in the form */
    T_EQ_STR(p.ctx.step, "menu");
    T_CHECK(said(&p, text_get(T_CALLBACK_STALE)));
    T_EQ_INT(p.out.nacts, 1);
    done(&p);
    p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    static const char *const bad[] = {"f:ok:12345678-0001-1:20261127:11", "f:s:2026112:11", "f:s:20261127:x",
                                      "f:s:20261127:11:9", "f:zz", "f:s:20261127:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(press(&p, bad[i]), RT_OK);
        T_EQ_STR(p.ctx.step, "form_slot");
        T_EQ_INT(count_sql(&p), 0);
        T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    }
    /* a window of another zone is not in this zone's list */
    T_EQ_INT(press(&p, "f:s:20261127:21"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_slot");
    T_CHECK(said(&p, head_of(T_FORM_SLOT_TAKEN)));
    /* a summary's confirm for another window */
    T_EQ_INT(press(&p, "f:s:20261127:11"), RT_OK);
    T_EQ_INT(press(&p, "f:ok:12345678-0001-1:20261127:12"), RT_OK);
    T_EQ_STR(p.ctx.step, "form_confirm");
    T_EQ_INT(count_sql(&p), 0);
    done(&p);
}

T_CASE(every_step_resumes_from_the_stored_state)
{
    reset_world();
    person_t p = at_address("12345678-0001-1");
    T_EQ_INT(send_pin(&p, 48.0159, 37.8028), RT_OK);
    /* a "restart": a new context holding only what the database keeps */
    person_t r = person(CONV_CLIENT, "+79491234501");
    snprintf(r.ctx.step, sizeof r.ctx.step, "%s", p.ctx.step);
    snprintf(r.ctx.data, sizeof r.ctx.data, "%s", p.ctx.data);
    T_EQ_INT(press(&r, "f:s:20261127:11"), RT_OK);
    person_t r2 = person(CONV_CLIENT, "+79491234501");
    snprintf(r2.ctx.step, sizeof r2.ctx.step, "%s", r.ctx.step);
    snprintf(r2.ctx.data, sizeof r2.ctx.data, "%s", r.ctx.data);
    T_EQ_INT(press(&r2, "f:ok:12345678-0001-1:20261127:11"), RT_OK);
    T_CHECK(find_sql(&r2, "delivery_book(") != NULL);
    done(&p);
    done(&r);
    done(&r2);
}

T_CASE(form_start_entry_point_prefills_the_posting)
{
    reset_world();
    /* as the pickup feature calls it from its own callback */
    const char *j = "{\"update_id\":50,\"callback_query\":{\"id\":\"pk1\",\"from\":{\"id\":77},\"chat_instance\":\"1\","
                    "\"message\":{\"message_id\":5,\"chat\":{\"id\":77,\"type\":\"private\"}},\"data\":\"p:c:x\"}}";
    person_t p = person(CONV_CLIENT, "+79491234501");
    tg_update_t u = parse_update(j);
    conv_out_t o;
    int rc, rounds = 0;
    memset(&o, 0, sizeof o);
    while ((rc = conv_form_start(&p.ctx, &u, &o, "12345678-0001-1")) == RT_PENDING && rounds++ < 4) {
        for (int i = 0; i < o.nneeds; i++) {
            conv_lookup_t *l = &p.ctx.lookups[p.ctx.nlookups++];
            l->kind = o.needs[i].kind;
            memcpy(l->key, o.needs[i].key, sizeof l->key);
            fake_answer(l);
        }
        conv_out_free(&o);
        memset(&o, 0, sizeof o);
    }
    T_EQ_INT(rc, RT_OK);
    T_EQ_STR(o.step, "form_address");
    int answers = 0;
    for (int i = 0; i < o.nacts; i++) answers += o.acts[i].kind == CONV_ACT_CALL && strcmp(o.acts[i].method,
                                                                                          "answerCallbackQuery") == 0;
    T_EQ_INT(answers, 1);
    conv_out_free(&o);
    ctx_free_lookups(&p.ctx);
    /* a guest is asked to register; NULL asks for the number */
    person_t g = person(CONV_GUEST, NULL);
    memset(&o, 0, sizeof o);
    T_EQ_INT(conv_form_start(&g.ctx, &u, &o, "12345678-0001-1"), RT_OK);
    T_EQ_STR(o.step, "await_contact");
    conv_out_free(&o);
    memset(&o, 0, sizeof o);
    T_EQ_INT(conv_form_start(&p.ctx, &u, &o, NULL), RT_PENDING);   /* the person's parcels first */
    T_EQ_INT(o.needs[0].kind, CONV_NEED_MY_ORDERS);
    conv_out_free(&o);
    tg_update_free(&u);
}

/* Typed text and stored state come from outside: random bytes (a fixed
 * seed, so a failure repeats) must never break the parsers (ASan/UBSan
 * watch the memory) and their results stay within bounds. */
T_CASE(random_input_never_breaks_the_parsers)
{
    unsigned long long x = 0x9E3779B97F4A7C15ULL;
    static const char *const pieces[] = {"Донецк", "ё", "Ё", "=", "\n", "a=", "p=", "g=", "d=", "z=", "«", "—",
                                         "\xd0", "\xe2\x80", "\xf0\x9f\x93", " ", ",", "9", "-"};
    for (int iter = 0; iter < 20000; iter++) {
        char in[700];
        size_t len = 0;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t want = (size_t)(x % 600);
        while (len < want) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            if (x & 1) {
                in[len++] = (char)(x >> 8);
            } else {
                const char *p = pieces[(x >> 8) % (sizeof pieces / sizeof pieces[0])];
                size_t n = strlen(p);
                if (len + n >= sizeof in - 1) break;
                memcpy(in + len, p, n);
                len += n;
            }
        }
        in[len] = '\0';
        char folded[256];
        conv_form_fold(in, folded, sizeof folded);
        T_CHECK(strlen(folded) < sizeof folded);
        int at = conv_form_city_match(in, "Донецк");
        T_CHECK(at >= -1 && at < 1024);
        conv_form_data_t d;
        conv_form_data_parse(in, &d);
        T_CHECK(strlen(d.posting) < sizeof d.posting && strlen(d.address) <= CONV_FORM_ADDRESS_BYTES);
        T_CHECK(d.date[0] == '\0' || strlen(d.date) == 8);
        char out[CONV_DATA_MAX];
        int rc = conv_form_data_format(&d, out, sizeof out);
        T_CHECK(rc == RT_OK || rc == RT_EINVAL);
        T_CHECK(strlen(out) < sizeof out);
    }
}

T_CASE(callback_data_fits_64_bytes)
{
    char data[128];
    snprintf(data, sizeof data, "f:ok:%s:%s:%d", "0132112277-0101-123", "20261127", 2147483647);
    T_CHECK(strlen(data) <= 64);
    snprintf(data, sizeof data, "f:s:%s:%d", "20261127", 2147483647);
    T_CHECK(strlen(data) <= 64);
}

/* ---- changing a booked delivery (conv_booking.c) -------------------------------------- */

T_CASE(booking_card_buttons_cancel_and_move_until_the_cutoff)
{
    person_t p = person(CONV_CLIENT, "+79491234501");
    const char *posting = "12345678-0013-1";
    int cutoff = conv_booking_cutoff_min();
    char x[64], xy[64], m[64], ms[64], in[16];
    snprintf(x, sizeof x, "dl:x:%s", posting);
    snprintf(xy, sizeof xy, "dl:xy:%s", posting);
    snprintf(m, sizeof m, "dl:m:%s", posting);
    /* cancel: asked first, then the SQL change and the kick */
    T_EQ_INT(press(&p, x), RT_OK);
    T_CHECK(said(&p, head_of(T_BTN_BOOK_CANCEL_YES)));
    T_EQ_INT(count_sql(&p), 0);
    T_EQ_INT(press(&p, xy), RT_OK);
    T_CHECK(find_sql(&p, "delivery_cancel(") != NULL);
    T_CHECK(p.out.kick_logistics);
    T_EQ_INT(count_method(&p, "answerCallbackQuery"), 1);
    /* move: the windows except the current one (day 20261127, slot 11) */
    T_EQ_INT(press(&p, m), RT_OK);
    snprintf(ms, sizeof ms, "dl:ms:%s:", posting);
    T_EQ_INT(count_buttons(&p, ms), 8);
    snprintf(ms, sizeof ms, "dl:ms:%s:20261127:11", posting);
    T_CHECK(button_data(&p, ms) == NULL);
    snprintf(ms, sizeof ms, "dl:ms:%s:20261128:12", posting);
    T_EQ_INT(press(&p, ms), RT_OK);
    const conv_act_t *mv = find_sql(&p, "delivery_move(");
    T_CHECK(mv != NULL);
    T_EQ_STR(mv->sql_params[3], "20261128");
    T_CHECK(p.out.kick_logistics);
    /* at the cut-off exactly: refused, nothing changes */
    snprintf(in, sizeof in, "%d", cutoff);
    booking_starts_in = in;
    T_EQ_INT(press(&p, xy), RT_OK);
    T_EQ_INT(count_sql(&p), 0);
    T_CHECK(!p.out.kick_logistics);
    T_CHECK(said(&p, head_of(T_BOOK_TOO_LATE)));
    booking_starts_in = "600";
    /* somebody else's booking: refused */
    person_t q = person(CONV_CLIENT, "+79001112233");
    booking_user = "999";
    T_EQ_INT(press(&q, xy), RT_OK);
    T_EQ_INT(count_sql(&q), 0);
    T_CHECK(said(&q, text_get(T_BOOK_NOT_YOURS)));
    booking_user = "77";
    /* forged data and a posting without a delivery */
    T_EQ_INT(press(&p, "dl:xy:12345678-0013-1:x"), RT_OK);
    T_CHECK(said(&p, text_get(T_CALLBACK_STALE)));
    T_EQ_INT(count_sql(&p), 0);
    T_EQ_INT(press(&p, "dl:xy:12345678-0001-1"), RT_OK);
    T_CHECK(said(&p, head_of(T_BOOK_NONE)));
    T_EQ_INT(count_sql(&p), 0);
    if (p.have_out) conv_out_free(&p.out);
    if (q.have_out) conv_out_free(&q.out);
}

T_MAIN()
