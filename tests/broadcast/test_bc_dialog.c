/* test_bc_dialog.c — the mass-message dialog (conv_broadcast.c), the
 * pickup-reminder buttons (conv_pickup.c) and what a broadcast sends
 * (bc_render.c), path by path, without I/O: lookups are built by hand as
 * the conversation actor would answer them, and the decided actions
 * (replies, SQL statements with their parameters, the next step) are
 * checked.
 * Threads: main only.
 */
#include "t.h"

#include <stdarg.h>

#include "bc_render.h"
#include "conv_broadcast.h"
#include "conv_dialog.h"
#include "conv_form.h"
#include "conv_pickup.h"
#include "order_status.h"
#include "rt.h"
#include "texts.h"
#include "timefmt.h"

#define OP_ID 501
#define CLIENT_ID 77

/* ---- building updates and contexts ------------------------------------------- */

static tg_update_t upd_text(int64_t uid, const char *text)
{
    cJSON *t = cJSON_CreateString(text);
    char *ts = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    char json[16384];
    snprintf(json, sizeof json,
             "{\"update_id\":1,\"message\":{\"message_id\":1,\"from\":{\"id\":%lld,\"first_name\":\"Оля\"},"
             "\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":%s}}",
             (long long)uid, (long long)uid, ts);
    free(ts);
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static tg_update_t upd_photo(int64_t uid)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":2,\"message\":{\"message_id\":2,\"from\":{\"id\":%lld},\"chat\":{\"id\":%lld,"
             "\"type\":\"private\"},\"photo\":[{\"file_id\":\"F\",\"file_unique_id\":\"U\",\"width\":1,\"height\":1}]}}",
             (long long)uid, (long long)uid);
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static tg_update_t upd_cb(int64_t uid, const char *data)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":3,\"callback_query\":{\"id\":\"cb1\",\"from\":{\"id\":%lld,\"first_name\":\"Оля\"},"
             "\"message\":{\"message_id\":9,\"chat\":{\"id\":%lld,\"type\":\"private\"}},\"data\":\"%s\"}}",
             (long long)uid, (long long)uid, data);
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static conv_ctx_t ctx_of(conv_role_t role, int64_t uid, const char *phone, const char *step, const char *data)
{
    conv_ctx_t c;
    memset(&c, 0, sizeof c);
    c.role = role;
    c.tg_user_id = uid;
    snprintf(c.phone, sizeof c.phone, "%s", phone ? phone : "");
    snprintf(c.step, sizeof c.step, "%s", step);
    snprintf(c.data, sizeof c.data, "%s", data ? data : "");
    snprintf(c.first_name, sizeof c.first_name, "Оля");
    return c;
}

/* Add a lookup answer: `ncols` column names then nrows*ncols values. */
static void add_rows(conv_ctx_t *c, int kind, const char *key, int status, int nrows, int ncols, ...)
{
    T_CHECK(c->nlookups < CONV_LOOKUPS_MAX);
    const char **cells = calloc((size_t)(ncols + nrows * ncols) + 1, sizeof *cells);
    va_list ap;
    va_start(ap, ncols);
    for (int i = 0; i < ncols + nrows * ncols; i++) cells[i] = va_arg(ap, const char *);
    va_end(ap);
    conv_lookup_t *l = &c->lookups[c->nlookups++];
    l->kind = kind;
    snprintf(l->key, sizeof l->key, "%s", key);
    l->rows = (conv_rows_t){status, nrows, ncols, cells, cells + ncols};
}

static void ctx_free(conv_ctx_t *c)
{
    for (int i = 0; i < c->nlookups; i++) free((void *)c->lookups[i].rows.cols);
    c->nlookups = 0;
}

/* ---- reading the decision ------------------------------------------------------ */

static int count_calls(const conv_out_t *o, const char *method)
{
    int n = 0;
    for (int i = 0; i < o->nacts; i++)
        if (o->acts[i].kind == CONV_ACT_CALL && strcmp(o->acts[i].method, method) == 0) n++;
    return n;
}

static bool said(const conv_out_t *o, const char *needle)
{
    for (int i = 0; i < o->nacts; i++)
        if (o->acts[i].kind == CONV_ACT_CALL && strcmp(o->acts[i].method, "sendMessage") == 0 &&
            strstr(o->acts[i].params, needle))
            return true;
    return false;
}

/* The JSON-escaped form of a catalogue text, as it appears in params. */
static bool said_text(const conv_out_t *o, text_id_t id)
{
    cJSON *s = cJSON_CreateString(text_get(id));
    char *j = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    j[strlen(j) - 1] = '\0';
    bool r = said(o, j + 1);
    free(j);
    return r;
}

static const char *answer_params(const conv_out_t *o)
{
    for (int i = 0; i < o->nacts; i++)
        if (o->acts[i].kind == CONV_ACT_CALL && strcmp(o->acts[i].method, "answerCallbackQuery") == 0)
            return o->acts[i].params;
    return NULL;
}

static const conv_act_t *sql_with(const conv_out_t *o, const char *needle)
{
    for (int i = 0; i < o->nacts; i++)
        if (o->acts[i].kind == CONV_ACT_SQL && strstr(o->acts[i].sql, needle)) return &o->acts[i];
    return NULL;
}

static int count_sql(const conv_out_t *o)
{
    int n = 0;
    for (int i = 0; i < o->nacts; i++) n += o->acts[i].kind == CONV_ACT_SQL;
    return n;
}

static bool needs(const conv_out_t *o, int kind, const char *key)
{
    for (int i = 0; i < o->nneeds; i++)
        if (o->needs[i].kind == kind && strcmp(o->needs[i].key, key) == 0) return true;
    return false;
}

/* The «✅ Отправить» callback for a draft text and "<segment>:<arg>": FNV-1a
 * of both, as conv_broadcast.c tags it. */
static const char *go_data(const char *body, const char *key)
{
    static char buf[32];
    uint32_t h = 2166136261u;
    for (const char *p = body; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ '\n') * 16777619u;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(buf, sizeof buf, "b:go:%08x", h);
    return buf;
}

/* Run the dialog once; returns its code. */
static int step(const conv_ctx_t *c, const tg_update_t *u, conv_out_t *o)
{
    return conv_step(c, u, o);
}

/* ---- broadcast: entry -------------------------------------------------------------- */

T_CASE(bc_button_lists_templates_and_own_text)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "menu", NULL);
    tg_update_t u = upd_text(OP_ID, text_get(T_BTN_BROADCAST));
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_PENDING);
    T_CHECK(needs(&o, CONV_NEED_BC_TEMPLATES, ""));
    conv_out_free(&o);
    add_rows(&c, CONV_NEED_BC_TEMPLATES, "", RT_OK, 2, 2, "event", "body",
             "at_pickup_point", "📍 Заказ <b>{posting}</b> прибыл",
             "promo_spring", "Весенняя акция: доставка бесплатно!");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_pick");
    T_CHECK(said(&o, "b:t:at_pickup_point"));
    T_CHECK(said(&o, "b:t:promo_spring"));
    T_CHECK(said(&o, "b:txt"));
    T_CHECK(said(&o, "b:x"));
    T_CHECK(said(&o, "Весенняя акция"));              /* the label previews the body */
    T_CHECK(!said(&o, "<b>{posting}"));               /* tags dropped from labels */
    const conv_act_t *a = sql_with(&o, "DELETE FROM broadcasts");   /* an old draft is dropped */
    T_CHECK(a != NULL);
    T_EQ_STR(a->sql_params[0], "501");
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_without_templates_asks_for_text)
{
    conv_ctx_t c = ctx_of(CONV_ADMIN, OP_ID, "+79001110001", "menu", NULL);
    add_rows(&c, CONV_NEED_BC_TEMPLATES, "", RT_EINVAL, 0, 0);   /* no notify_templates table */
    tg_update_t u = upd_text(OP_ID, text_get(T_BTN_BROADCAST));
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_text");
    T_CHECK(said(&o, "{name}"));
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_refused_to_clients_and_couriers)
{
    conv_role_t roles[] = {CONV_CLIENT, CONV_COURIER, CONV_GUEST};
    for (int i = 0; i < 3; i++) {
        conv_ctx_t c = ctx_of(roles[i], CLIENT_ID, roles[i] == CONV_GUEST ? NULL : "+79001110002", "menu", NULL);
        tg_update_t u = upd_text(CLIENT_ID, text_get(T_BTN_BROADCAST));
        conv_out_t o;
        T_EQ_INT(step(&c, &u, &o), RT_OK);
        T_CHECK(strncmp(o.step, "bc_", 3) != 0);
        T_EQ_INT(count_sql(&o), 0);
        T_EQ_INT(o.nneeds, 0);
        conv_out_free(&o);
        tg_update_free(&u);
        /* a stale step or an old keyboard after losing the role */
        c = ctx_of(roles[i], CLIENT_ID, "+79001110002", "bc_confirm", "all:");
        u = upd_cb(CLIENT_ID, "b:go");
        T_EQ_INT(step(&c, &u, &o), RT_OK);
        T_EQ_INT(count_sql(&o), 0);
        T_CHECK(answer_params(&o) != NULL);
        T_CHECK(strstr(answer_params(&o), "операторам") != NULL);
        conv_out_free(&o);
        tg_update_free(&u);
        u = upd_text(CLIENT_ID, "привет всем");
        c = ctx_of(roles[i], CLIENT_ID, "+79001110002", "bc_text", NULL);
        T_EQ_INT(step(&c, &u, &o), RT_OK);
        T_EQ_INT(count_sql(&o), 0);
        T_CHECK(said_text(&o, T_BC_NO_RIGHTS));
        T_CHECK(strncmp(o.step, "bc_", 3) != 0);
        conv_out_free(&o);
        tg_update_free(&u);
    }
}

/* ---- broadcast: the message -------------------------------------------------------- */

T_CASE(bc_template_pick_saves_draft)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_pick", NULL);
    tg_update_t u = upd_cb(OP_ID, "b:t:promo_spring");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_PENDING);
    T_CHECK(needs(&o, CONV_NEED_BC_TEMPLATES, ""));
    conv_out_free(&o);
    add_rows(&c, CONV_NEED_BC_TEMPLATES, "", RT_OK, 1, 2, "event", "body", "promo_spring", "Акция, {name}!");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    const conv_act_t *a = sql_with(&o, "INSERT INTO broadcasts");
    T_CHECK(a != NULL);
    T_EQ_INT(a->nsql_params, 4);
    T_EQ_STR(a->sql_params[0], "501");
    T_EQ_STR(a->sql_params[1], "501");
    T_EQ_STR(a->sql_params[2], "promo_spring");
    T_EQ_STR(a->sql_params[3], "Акция, {name}!");
    T_EQ_STR(o.step, "bc_seg");
    T_CHECK(said(&o, "b:s:all") && said(&o, "b:s:st") && said(&o, "b:s:zn"));
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    tg_update_free(&u);
    /* a template deleted meanwhile */
    u = upd_cb(OP_ID, "b:t:gone");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_EQ_STR(o.step, "bc_pick");
    T_CHECK(strstr(answer_params(&o), "Шаблон не найден") != NULL);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_typed_text_is_escaped_and_checked)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_pick", NULL);
    tg_update_t u = upd_cb(OP_ID, "b:txt");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_text");
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    tg_update_free(&u);

    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_text", NULL);
    u = upd_text(OP_ID, "  Привет, {name}! Скидка <5%> & доставка  \n");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    const conv_act_t *a = sql_with(&o, "INSERT INTO broadcasts");
    T_CHECK(a != NULL);
    T_CHECK(a->sql_params[2] == NULL);                 /* no template */
    T_EQ_STR(a->sql_params[3], "Привет, {name}! Скидка &lt;5%&gt; &amp; доставка");
    T_EQ_STR(o.step, "bc_seg");
    conv_out_free(&o);
    tg_update_free(&u);

    u = upd_text(OP_ID, "Привет, {nmae}!");             /* a typo in a placeholder */
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_EQ_STR(o.step, "bc_text");
    T_CHECK(said(&o, "«nmae»"));
    conv_out_free(&o);
    tg_update_free(&u);

    char *longer = malloc(CONV_BC_TEXT_MAX * 2 + 8);
    size_t n = 0;
    for (int i = 0; i <= CONV_BC_TEXT_MAX; i++) { memcpy(longer + n, "ж", 2); n += 2; }
    longer[n] = '\0';
    u = upd_text(OP_ID, longer);
    free(longer);
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_CHECK(said_text(&o, T_BC_TEXT_TOO_LONG));
    conv_out_free(&o);
    tg_update_free(&u);

    u = upd_photo(OP_ID);
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_CHECK(said_text(&o, T_BC_TEXT_EMPTY));
    T_EQ_STR(o.step, "bc_text");
    conv_out_free(&o);
    tg_update_free(&u);
}

/* ---- broadcast: the segment and confirmation -------------------------------------- */

T_CASE(bc_all_clients_counts_and_confirms)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_seg", NULL);
    tg_update_t u = upd_cb(OP_ID, "b:s:all");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_PENDING);
    T_CHECK(needs(&o, CONV_NEED_BC_COUNT, "all:"));
    T_CHECK(needs(&o, CONV_NEED_BC_DRAFT, ""));
    conv_out_free(&o);
    add_rows(&c, CONV_NEED_BC_COUNT, "all:", RT_OK, 1, 2, "recipients", "label", "50", "");
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Привет, {name}!", "");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_confirm");
    T_EQ_STR(o.data, "all:");
    T_CHECK(said(&o, "Привет, {name}!"));
    T_CHECK(said(&o, text_get(T_BC_SEG_ALL)));
    T_CHECK(said(&o, "50"));
    T_CHECK(said(&o, go_data("Привет, {name}!", "all:")));
    T_CHECK(!said(&o, "⚠️"));
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    T_EQ_INT(count_sql(&o), 0);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);

    /* an order placeholder sent to everybody: a warning */
    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_seg", NULL);
    add_rows(&c, CONV_NEED_BC_COUNT, "all:", RT_OK, 1, 2, "recipients", "label", "3", "");
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Заказ {posting}", "created");
    u = upd_cb(OP_ID, "b:s:all");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_CHECK(said(&o, "⚠️"));
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_empty_segment_and_lost_draft)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_status", NULL);
    add_rows(&c, CONV_NEED_BC_COUNT, "status:returned", RT_OK, 1, 2, "recipients", "label", "0", "returned");
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Текст", "");
    tg_update_t u = upd_cb(OP_ID, "b:st:returned");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_CHECK(said_text(&o, T_BC_NOBODY));
    T_EQ_STR(o.step, "bc_seg");
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);

    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_seg", NULL);
    add_rows(&c, CONV_NEED_BC_COUNT, "all:", RT_OK, 1, 2, "recipients", "label", "7", "");
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 0, 2, "body", "template_event");
    u = upd_cb(OP_ID, "b:s:all");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_CHECK(said_text(&o, T_BC_DRAFT_GONE));
    T_EQ_STR(o.step, "menu");
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_status_segment)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_seg", NULL);
    tg_update_t u = upd_cb(OP_ID, "b:s:st");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_status");
    for (int s = ORDER_CREATED; s <= ORDER_CANCELLED; s++) {   /* all 8 statuses */
        char data[40];
        snprintf(data, sizeof data, "b:st:%s", order_status_code((order_status_t)s));
        T_CHECK(said(&o, data));
        T_CHECK(said(&o, order_status_name_ru((order_status_t)s)));
    }
    T_CHECK(said(&o, "b:back"));
    conv_out_free(&o);
    tg_update_free(&u);

    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_status", NULL);
    u = upd_cb(OP_ID, "b:st:nonsense");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(o.nneeds, 0);
    T_CHECK(strstr(answer_params(&o), text_get(T_CALLBACK_STALE)) != NULL);
    conv_out_free(&o);
    tg_update_free(&u);

    add_rows(&c, CONV_NEED_BC_COUNT, "status:at_pickup_point", RT_OK, 1, 2, "recipients", "label", "4",
             "at_pickup_point");
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Заберите {posting}", "");
    u = upd_cb(OP_ID, "b:st:at_pickup_point");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_confirm");
    T_EQ_STR(o.data, "status:at_pickup_point");
    T_CHECK(said(&o, "Прибыл в пункт выдачи"));
    T_CHECK(!said(&o, "⚠️"));
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_zone_segment)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_seg", NULL);
    add_rows(&c, CONV_NEED_BC_ZONES, "", RT_EINVAL, 0, 0);   /* no zones table / none configured */
    tg_update_t u = upd_cb(OP_ID, "b:s:zn");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_CHECK(said_text(&o, T_BC_NO_ZONES));
    T_EQ_STR(o.step, "bc_seg");
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    ctx_free(&c);

    add_rows(&c, CONV_NEED_BC_ZONES, "", RT_OK, 2, 2, "id", "name", "1", "Донецк", "2", "Макеевка");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "bc_zone");
    T_CHECK(said(&o, "b:z:1") && said(&o, "b:z:2") && said(&o, "Макеевка"));
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);

    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_zone", NULL);
    add_rows(&c, CONV_NEED_BC_COUNT, "zone:2", RT_OK, 1, 2, "recipients", "label", "12", "Макеевка <центр>");
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Новости", "");
    u = upd_cb(OP_ID, "b:z:2");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.data, "zone:2");
    T_CHECK(said(&o, "Макеевка &lt;центр&gt;"));      /* the zone name is escaped */
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(bc_go_starts_in_the_update_transaction)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_confirm", "status:at_pickup_point");
    tg_update_t u = upd_cb(OP_ID, go_data("Заберите {posting}", "status:at_pickup_point"));
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_PENDING);
    T_CHECK(needs(&o, CONV_NEED_BC_DRAFT, ""));
    conv_out_free(&o);
    add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Заберите {posting}", "");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    const conv_act_t *a = sql_with(&o, "broadcast_audience");
    T_CHECK(a != NULL);
    T_CHECK(strstr(a->sql, "runtime_reminders") != NULL);   /* the actor's start */
    T_EQ_INT(a->nsql_params, 3);
    T_EQ_STR(a->sql_params[0], "501");
    T_EQ_STR(a->sql_params[1], "status");
    T_EQ_STR(a->sql_params[2], "at_pickup_point");
    T_EQ_STR(o.step, "menu");
    T_CHECK(said_text(&o, T_BC_STARTED));
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);

    /* «Отправить» under an older confirmation (another text or segment) starts nothing */
    static const char *const older[][2] = {{"Заберите {posting}", "status:delivered"}, {"Старый текст", "status:at_pickup_point"}};
    for (int i = 0; i < 2; i++) {
        c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_confirm", "status:at_pickup_point");
        add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Заберите {posting}", "");
        u = upd_cb(OP_ID, go_data(older[i][0], older[i][1]));
        T_EQ_INT(step(&c, &u, &o), RT_OK);
        T_EQ_INT(count_sql(&o), 0);
        T_EQ_STR(o.step, "bc_confirm");
        T_CHECK(strstr(answer_params(&o), text_get(T_CALLBACK_STALE)) != NULL);
        conv_out_free(&o);
        tg_update_free(&u);
        ctx_free(&c);
    }

    /* a second press (the step moved on) starts nothing */
    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "menu", NULL);
    u = upd_cb(OP_ID, go_data("Заберите {posting}", "status:at_pickup_point"));
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_CHECK(strstr(answer_params(&o), text_get(T_CALLBACK_STALE)) != NULL);
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(bc_cancel_drops_the_draft)
{
    conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_seg", NULL);
    tg_update_t u = upd_cb(OP_ID, "b:x");
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_CHECK(sql_with(&o, "DELETE FROM broadcasts") != NULL);
    T_EQ_STR(o.step, "menu");
    T_CHECK(said_text(&o, T_CANCELLED));
    conv_out_free(&o);
    tg_update_free(&u);
    /* /cancel works from the text step too (the dispatcher's command) */
    c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", "bc_text", NULL);
    u = upd_text(OP_ID, "/cancel");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_STR(o.step, "menu");
    T_EQ_INT(count_sql(&o), 0);
    conv_out_free(&o);
    tg_update_free(&u);
}

/* Every broadcast callback, in every step, is answered exactly once. */
T_CASE(bc_every_callback_answered_once)
{
    static const char *const steps[] = {"menu", "bc_pick", "bc_text", "bc_seg", "bc_status", "bc_zone", "bc_confirm"};
    static const char *const datas[] = {"b:t:promo", "b:txt", "b:s:all", "b:s:st", "b:s:zn", "b:s:zz",
                                        "b:st:delivered", "b:z:1", "b:back", "b:go", "b:go:00000000", "b:x", "b:", "b:?"};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
        for (size_t d = 0; d < sizeof datas / sizeof datas[0]; d++) {
            conv_ctx_t c = ctx_of(CONV_OPERATOR, OP_ID, "+79001110001", steps[s], "all:");
            add_rows(&c, CONV_NEED_BC_TEMPLATES, "", RT_OK, 1, 2, "event", "body", "promo", "Текст");
            add_rows(&c, CONV_NEED_BC_ZONES, "", RT_OK, 1, 2, "id", "name", "1", "Донецк");
            add_rows(&c, CONV_NEED_BC_COUNT, "all:", RT_OK, 1, 2, "recipients", "label", "2", "");
            add_rows(&c, CONV_NEED_BC_COUNT, "status:delivered", RT_OK, 1, 2, "recipients", "label", "2", "");
            add_rows(&c, CONV_NEED_BC_COUNT, "zone:1", RT_OK, 1, 2, "recipients", "label", "2", "Донецк");
            add_rows(&c, CONV_NEED_BC_DRAFT, "", RT_OK, 1, 2, "body", "template_event", "Текст", "");
            tg_update_t u = upd_cb(OP_ID, datas[d]);
            conv_out_t o;
            T_EQ_INT(step(&c, &u, &o), RT_OK);
            if (count_calls(&o, "answerCallbackQuery") != 1) {
                printf("# step=%s data=%s answers=%d\n", steps[s], datas[d], count_calls(&o, "answerCallbackQuery"));
                T_FAIL("answered once");
            }
            conv_out_free(&o);
            tg_update_free(&u);
            ctx_free(&c);
        }
}

/* ---- pickup buttons ------------------------------------------------------------------- */

#define PK_POSTING "12345678-0001-1"
#define PK_PHONE "+79001112233"
#define PK_UNTIL "1767225600000"   /* 2026-01-01T00:00:00Z */

static void pk_order(conv_ctx_t *c, const char *status, const char *phone)
{
    add_rows(c, CONV_NEED_ORDER, PK_POSTING, RT_OK, 1, 5, "posting_number", "status", "customer_phone",
             "addressee_phone", "ordered_by", PK_POSTING, status, phone, NULL, NULL);
}

static void pk_state(conv_ctx_t *c, const char *extended, const char *returned)
{
    add_rows(c, CONV_NEED_PICKUP, PK_POSTING, RT_OK, 1, 3, "storage_extended", "storage_until_ms",
             "return_requested", extended, PK_UNTIL, returned);
}

T_CASE(pk_extend_once)
{
    conv_ctx_t c = ctx_of(CONV_CLIENT, CLIENT_ID, PK_PHONE, "menu", NULL);
    tg_update_t u = upd_cb(CLIENT_ID, "pk:ext:" PK_POSTING);
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_PENDING);
    T_CHECK(needs(&o, CONV_NEED_ORDER, PK_POSTING));
    T_CHECK(needs(&o, CONV_NEED_PICKUP, PK_POSTING));
    conv_out_free(&o);
    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "f", "f");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    const conv_act_t *a = sql_with(&o, "storage_extended = true");
    T_CHECK(a != NULL);
    T_CHECK(strstr(a->sql, "NOT storage_extended") != NULL);     /* the once-only condition */
    T_CHECK(strstr(a->sql, "runtime_reminders") != NULL);        /* reminders follow the date */
    T_EQ_INT(a->nsql_params, 3);
    T_EQ_STR(a->sql_params[0], PK_POSTING);
    T_EQ_STR(a->sql_params[1], "7");
    T_EQ_STR(a->sql_params[2], "77");
    char when[40];
    timefmt_msk(1767225600000LL + 7 * 86400000LL, when, sizeof when);   /* the new date */
    T_CHECK(said(&o, when));
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    ctx_free(&c);

    /* pressed again: already extended, nothing changes */
    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "t", "f");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_CHECK(said(&o, "уже продлевалось"));
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(pk_extend_days_configurable)
{
    conv_pickup_set_extend_days(3);
    conv_pickup_set_extend_days(0);     /* ignored */
    conv_pickup_set_extend_days(500);   /* ignored */
    T_EQ_INT(conv_pickup_extend_days(), 3);
    conv_ctx_t c = ctx_of(CONV_CLIENT, CLIENT_ID, PK_PHONE, "menu", NULL);
    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "f", "f");
    tg_update_t u = upd_cb(CLIENT_ID, "pk:ext:" PK_POSTING);
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    const conv_act_t *a = sql_with(&o, "storage_extended = true");
    T_CHECK(a != NULL);
    T_EQ_STR(a->sql_params[1], "3");
    conv_pickup_set_extend_days(7);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(pk_refused_for_others_and_when_gone)
{
    /* somebody who only tracks it */
    conv_ctx_t c = ctx_of(CONV_CLIENT, CLIENT_ID, "+79009999999", "menu", NULL);
    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "f", "f");
    static const char *const acts[] = {"pk:ext:" PK_POSTING, "pk:ret:" PK_POSTING, "pk:cur:" PK_POSTING};
    conv_out_t o;
    for (int i = 0; i < 3; i++) {
        tg_update_t u = upd_cb(CLIENT_ID, acts[i]);
        T_EQ_INT(step(&c, &u, &o), RT_OK);
        T_EQ_INT(count_sql(&o), 0);
        T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
        T_CHECK(strstr(answer_params(&o), "получатель") != NULL);
        T_CHECK(strncmp(o.step, "form_", 5) != 0);
        conv_out_free(&o);
        tg_update_free(&u);
    }
    ctx_free(&c);

    /* collected meanwhile */
    c = ctx_of(CONV_CLIENT, CLIENT_ID, PK_PHONE, "menu", NULL);
    pk_order(&c, "delivered", PK_PHONE);
    pk_state(&c, "f", "f");
    for (int i = 0; i < 3; i++) {
        tg_update_t u = upd_cb(CLIENT_ID, acts[i]);
        T_EQ_INT(step(&c, &u, &o), RT_OK);
        T_EQ_INT(count_sql(&o), 0);
        T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
        T_CHECK(said(&o, "уже не в пункте выдачи"));
        conv_out_free(&o);
        tg_update_free(&u);
    }
    ctx_free(&c);

    /* the owner by "ordered_by" counts too; a malformed button is stale */
    tg_update_t u = upd_cb(CLIENT_ID, "pk:ext:123");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(o.nneeds, 0);
    T_CHECK(strstr(answer_params(&o), text_get(T_CALLBACK_STALE)) != NULL);
    conv_out_free(&o);
    tg_update_free(&u);
    u = upd_cb(CLIENT_ID, "pk:zzz:" PK_POSTING);
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(o.nneeds, 0);
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    tg_update_free(&u);

    /* unknown posting / database trouble */
    c = ctx_of(CONV_CLIENT, CLIENT_ID, PK_PHONE, "menu", NULL);
    add_rows(&c, CONV_NEED_ORDER, PK_POSTING, RT_ENOTFOUND, 0, 0);
    add_rows(&c, CONV_NEED_PICKUP, PK_POSTING, RT_OK, 0, 0);
    u = upd_cb(CLIENT_ID, "pk:ret:" PK_POSTING);
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(pk_owner_by_ordered_by)
{
    conv_ctx_t c = ctx_of(CONV_CLIENT, CLIENT_ID, "+79009999999", "menu", NULL);
    add_rows(&c, CONV_NEED_ORDER, PK_POSTING, RT_OK, 1, 5, "posting_number", "status", "customer_phone",
             "addressee_phone", "ordered_by", PK_POSTING, "at_pickup_point", PK_PHONE, NULL, "77");
    pk_state(&c, "f", "f");
    tg_update_t u = upd_cb(CLIENT_ID, "pk:ret:" PK_POSTING);
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_CHECK(sql_with(&o, "return_requests") != NULL);
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(pk_return_recorded_once)
{
    conv_ctx_t c = ctx_of(CONV_CLIENT, CLIENT_ID, PK_PHONE, "menu", NULL);
    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "f", "f");
    tg_update_t u = upd_cb(CLIENT_ID, "pk:ret:" PK_POSTING);
    conv_out_t o;
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    const conv_act_t *a = sql_with(&o, "INSERT INTO return_requests");
    T_CHECK(a != NULL);
    T_CHECK(strstr(a->sql, "'not_collected'") != NULL);
    T_CHECK(strstr(a->sql, "ON CONFLICT (posting_number) DO NOTHING") != NULL);
    T_EQ_STR(a->sql_params[0], PK_POSTING);
    T_EQ_STR(a->sql_params[1], "77");
    T_CHECK(said(&o, "Оператор свяжется"));
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    conv_out_free(&o);
    ctx_free(&c);

    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "f", "t");
    T_EQ_INT(step(&c, &u, &o), RT_OK);
    T_EQ_INT(count_sql(&o), 0);
    T_CHECK(said(&o, "уже оформлена"));
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

T_CASE(pk_courier_opens_the_form)
{
    conv_ctx_t c = ctx_of(CONV_CLIENT, CLIENT_ID, PK_PHONE, "menu", NULL);
    pk_order(&c, "at_pickup_point", PK_PHONE);
    pk_state(&c, "f", "f");
    tg_update_t u = upd_cb(CLIENT_ID, "pk:cur:" PK_POSTING);
    conv_out_t o;
    int rc = step(&c, &u, &o);
    for (int round = 0; rc == RT_PENDING && round < 4; round++) {   /* the form's own lookups */
        T_CHECK(o.nneeds > 0);
        for (int i = 0; i < o.nneeds; i++) {
            if (o.needs[i].kind == CONV_NEED_FORM_POSTING)
                add_rows(&c, CONV_NEED_FORM_POSTING, o.needs[i].key, RT_OK, 1, 5, "status", "customer_phone",
                         "addressee_phone", "weight_g", "delivery_id", "at_pickup_point", PK_PHONE, NULL, "500",
                         NULL);
            else
                add_rows(&c, o.needs[i].kind, o.needs[i].key, RT_OK, 0, 1, "x");
        }
        conv_out_free(&o);
        rc = step(&c, &u, &o);
    }
    T_EQ_INT(rc, RT_OK);
    T_CHECK(strncmp(o.step, "form_", 5) == 0);
    T_CHECK(strcmp(o.step, "form_posting") != 0);   /* the posting is taken: on to the address */
    T_EQ_INT(count_calls(&o, "answerCallbackQuery"), 1);
    T_CHECK(said(&o, PK_POSTING));
    conv_out_free(&o);
    tg_update_free(&u);
    ctx_free(&c);
}

/* ---- what a broadcast sends (bc_render.c) ----------------------------------------- */

T_CASE(render_fills_and_escapes)
{
    bc_recipient_t r = {.chat_id = 42, .first_name = "Ада <А>", .posting = "12345678-0001-1",
                        .status = "at_pickup_point", .pickup_point = "ПВЗ «Центр»",
                        .storage_until_ms = "1767225600000", .address = NULL};
    char *p = bc_render_message("Привет, {name}! {posting}: {status}, {pickup_point}, до {storage_deadline}.{address}", &r);
    T_CHECK(p != NULL);
    cJSON *j = cJSON_Parse(p);
    T_CHECK(j != NULL);
    T_EQ_INT((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "chat_id")), 42);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "parse_mode")), "HTML");
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(j, "text"));
    T_CHECK(strstr(text, "Привет, Ада &lt;А&gt;!") != NULL);
    T_CHECK(strstr(text, "Прибыл в пункт выдачи") != NULL);
    char when[40];
    timefmt_msk(1767225600000LL, when, sizeof when);
    T_CHECK(strstr(text, when) != NULL);
    cJSON_Delete(j);
    free(p);
    /* nothing left to send / a broken template */
    bc_recipient_t empty = {.chat_id = 1};
    T_CHECK(bc_render_message("{posting}", &empty) == NULL);
    T_CHECK(bc_render_message("Привет, {oops}", &empty) == NULL);
}

T_CASE(render_progress)
{
    bc_counts_t c = {.total = 50, .pending = 20, .queued = 10, .sent = 18, .failed = 2};
    char text[256];
    bc_progress_text(7, &c, false, text, sizeof text);
    char want[256];
    snprintf(want, sizeof want, text_get(T_BC_PROGRESS), 7LL, 18LL, 2LL, 30LL);
    T_EQ_STR(text, want);
    T_CHECK(!bc_counts_final(&c));
    c.pending = c.queued = 0;
    c.sent = 48;
    T_CHECK(bc_counts_final(&c));
    bc_progress_text(7, &c, true, text, sizeof text);
    snprintf(want, sizeof want, text_get(T_BC_DONE), 7LL, 48LL, 2LL);
    T_EQ_STR(text, want);
    char *send = bc_progress_params(5, 0, "x"), *edit = bc_progress_params(5, 99, "y");
    T_CHECK(strstr(send, "\"message_id\"") == NULL);
    T_CHECK(strstr(edit, "\"message_id\":99") != NULL);
    T_CHECK(strstr(edit, "\"chat_id\":5") != NULL);
    free(send);
    free(edit);
}

T_MAIN()
