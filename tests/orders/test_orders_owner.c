/* test_orders_owner.c — who owns a parcel, as the dialog decides it (issue 7,
 * items 3 and 4): the recipient the logistics system named
 * (orders.recipient_phone) is an owner like the Ozon customer; with no phone
 * known anywhere the card says so plainly and offers «🙋 Спросить
 * оператора» (never «ваш номер не совпадает»); «🔕 Не следить» mutes the
 * chat, tracking again un-mutes it; the delivery form says the same.
 * Pure: conv_step with lookups given in memory.
 *
 * Exports: main (TAP). Threads: main thread.
 */
#include "t.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_dialog.h"
#include "conv_form.h"
#include "conv_watch.h"
#include "rt.h"
#include "texts.h"

#define POSTING "12345678-0001-1"
#define ME 4242

/* An update from Telegram: a text message or a button press of user ME. */
static tg_update_t ow_update(const char *text, const char *callback)
{
    char json[1024];
    if (callback)
        snprintf(json, sizeof json, "{\"update_id\":9,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":%d},"
                 "\"message\":{\"message_id\":5,\"chat\":{\"id\":%d,\"type\":\"private\"}},\"data\":\"%s\"}}",
                 ME, ME, callback);
    else
        snprintf(json, sizeof json, "{\"update_id\":9,\"message\":{\"message_id\":5,\"from\":{\"id\":%d},"
                 "\"chat\":{\"id\":%d,\"type\":\"private\"},\"text\":\"%s\"}}", ME, ME, text);
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("update");
    return u;
}

/* The order lookup: one row with these phones (NULL = unknown). */
typedef struct ow_order {
    const char *cols[8];
    const char *vals[8];
} ow_order_t;

static conv_ctx_t ow_ctx(const char *my_phone, ow_order_t *o, const char *cp, const char *ap, const char *rp)
{
    conv_ctx_t c;
    memset(&c, 0, sizeof c);
    c.role = my_phone ? CONV_CLIENT : CONV_GUEST;
    c.tg_user_id = ME;
    snprintf(c.phone, sizeof c.phone, "%s", my_phone ? my_phone : "");
    snprintf(c.step, sizeof c.step, "%s", my_phone ? "menu" : "await_contact");
    static const char *const names[] = {"posting_number", "status", "customer_phone", "addressee_phone",
                                        "recipient_phone", "ordered_by", "pickup_point", "storage_until_ms"};
    const char *vals[] = {POSTING, "at_pickup_point", cp, ap, rp, NULL, "ПВЗ Донецк", "1765782000000"};
    memcpy(o->cols, names, sizeof names);
    memcpy(o->vals, vals, sizeof vals);
    const int kinds[] = {CONV_NEED_ORDER, CONV_NEED_FORM_POSTING};   /* the same row serves both */
    for (int i = 0; i < 2; i++) {
        c.lookups[i].kind = kinds[i];
        snprintf(c.lookups[i].key, sizeof c.lookups[i].key, "%s", POSTING);
        c.lookups[i].rows = (conv_rows_t){RT_OK, 1, 8, o->cols, o->vals};
    }
    c.lookups[2].kind = CONV_NEED_MY_ORDERS;   /* the form's parcel buttons: none */
    c.lookups[2].rows = (conv_rows_t){RT_OK, 0, 0, NULL, NULL};
    c.nlookups = 3;
    return c;
}

/* The first sendMessage's parameters, or "". */
static const char *ow_sent(const conv_out_t *out)
{
    for (int i = 0; i < out->nacts; i++)
        if (out->acts[i].kind == CONV_ACT_CALL && strcmp(out->acts[i].method, "sendMessage") == 0)
            return out->acts[i].params;
    return "";
}

/* The message text holds catalogue text `id` (its %s, if any, = the posting). */
static bool ow_has_text(const char *params, text_id_t id)
{
    char want[2048];
    snprintf(want, sizeof want, text_get(id), POSTING);
    cJSON *j = cJSON_Parse(params);
    const cJSON *t = cJSON_GetObjectItem(j, "text");
    bool r = cJSON_IsString(t) && strstr(t->valuestring, want) != NULL;
    cJSON_Delete(j);
    return r;
}

/* Run the dialog (or, with form, the delivery form's start) on a text or
 * a button press; the update is freed, `out` is the caller's to free. */
static int ow_run(const conv_ctx_t *c, const char *text, const char *callback, bool form, conv_out_t *out)
{
    tg_update_t u = ow_update(text, callback);
    memset(out, 0, sizeof *out);
    int rc = form ? conv_form_start(c, &u, out, POSTING) : conv_step(c, &u, out);
    tg_update_free(&u);
    return rc;
}

static const char *ow_sql(const conv_out_t *out, const char *needle)
{
    for (int i = 0; i < out->nacts; i++)
        if (out->acts[i].kind == CONV_ACT_SQL && strstr(out->acts[i].sql, needle)) return out->acts[i].sql;
    return NULL;
}

T_CASE(recipient_named_by_logistics_owns_the_parcel)
{
    ow_order_t o;
    conv_ctx_t c = ow_ctx("+79491234567", &o, NULL, NULL, "+79491234567");
    T_EQ_INT(conv_order_owner(&c, &c.lookups[0].rows), CONV_OWNER_YES);
    conv_out_t out;
    T_EQ_INT(ow_run(&c, POSTING, NULL, false, &out), RT_OK);
    T_CHECK(strstr(ow_sent(&out), "ПВЗ Донецк") != NULL);       /* the owner's details */
    T_CHECK(strstr(ow_sent(&out), "w:off:" POSTING) != NULL);   /* and a way to stop following */
    T_CHECK(strstr(ow_sent(&out), "w:ask:") == NULL);
    T_CHECK(ow_sql(&out, "muted = false") != NULL);             /* tracking again un-mutes */
    conv_out_free(&out);
}

T_CASE(no_phone_known_says_so_and_offers_an_operator)
{
    ow_order_t o;
    conv_ctx_t c = ow_ctx("+79491234567", &o, NULL, NULL, NULL);
    T_EQ_INT(conv_order_owner(&c, &c.lookups[0].rows), CONV_OWNER_UNKNOWN);
    conv_out_t out;
    T_EQ_INT(ow_run(&c, POSTING, NULL, false, &out), RT_OK);
    const char *sent = ow_sent(&out);
    T_CHECK(strstr(sent, "ПВЗ Донецк") == NULL);
    T_CHECK(ow_has_text(sent, T_OWNER_UNKNOWN));
    T_CHECK(!ow_has_text(sent, T_TRACK_OWNER_HINT));
    T_CHECK(strstr(sent, "w:ask:" POSTING) != NULL);
    conv_out_free(&out);
    /* another person's phone is known: the usual hint, no operator button */
    conv_ctx_t c2 = ow_ctx("+79491234567", &o, "+79490000000", NULL, NULL);
    T_EQ_INT(conv_order_owner(&c2, &c2.lookups[0].rows), CONV_OWNER_NO);
    T_EQ_INT(ow_run(&c2, POSTING, NULL, false, &out), RT_OK);
    T_CHECK(strstr(ow_sent(&out), "w:ask:") == NULL);
    T_CHECK(!ow_has_text(ow_sent(&out), T_OWNER_UNKNOWN));
    conv_out_free(&out);
}

T_CASE(unwatch_and_ask_buttons)
{
    static const struct { const char *data, *sql; text_id_t said; } presses[] = {
        {"w:off:" POSTING, "muted = true", T_WATCH_OFF},                 /* «🔕 Не следить» */
        {"w:ask:" POSTING, "order_owner_requests", T_WATCH_ASKED},       /* «🙋 Спросить оператора» */
        {"w:off:не-номер", NULL, T_CALLBACK_STALE},                     /* forged: nothing changes */
    };
    ow_order_t o;
    conv_ctx_t c = ow_ctx("+79491234567", &o, NULL, NULL, NULL);
    for (size_t i = 0; i < sizeof presses / sizeof presses[0]; i++) {
        conv_out_t out;
        T_EQ_INT(ow_run(&c, NULL, presses[i].data, false, &out), RT_OK);
        if (presses[i].sql) {
            T_CHECK(ow_sql(&out, presses[i].sql) != NULL);
            T_CHECK(ow_has_text(ow_sent(&out), presses[i].said));
        } else {
            T_CHECK(ow_sql(&out, "order_subscribers") == NULL && ow_sql(&out, "order_owner_requests") == NULL);
        }
        conv_out_free(&out);
    }
}

T_CASE(form_without_a_known_phone_offers_an_operator)
{
    ow_order_t o;
    conv_ctx_t c = ow_ctx("+79491234567", &o, NULL, NULL, NULL);
    conv_out_t out;
    T_EQ_INT(ow_run(&c, NULL, "pk:cur:" POSTING, true, &out), RT_OK);
    T_CHECK(ow_has_text(ow_sent(&out), T_OWNER_UNKNOWN));
    T_CHECK(!ow_has_text(ow_sent(&out), T_FORM_NOT_OWNER));   /* never «ваш номер не совпадает» */
    T_CHECK(strstr(ow_sent(&out), "w:ask:" POSTING) != NULL);
    conv_out_free(&out);
    /* the recipient's phone is theirs: the form goes on to the address */
    conv_ctx_t c2 = ow_ctx("+79491234567", &o, NULL, NULL, "+79491234567");
    T_EQ_INT(ow_run(&c2, NULL, "pk:cur:" POSTING, true, &out), RT_OK);
    T_CHECK(!ow_has_text(ow_sent(&out), T_OWNER_UNKNOWN) && !ow_has_text(ow_sent(&out), T_FORM_NOT_OWNER));
    T_CHECK(strstr(ow_sent(&out), "Куда доставить") != NULL);
    conv_out_free(&out);
}

T_MAIN()
