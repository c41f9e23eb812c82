/* test_conv_dialog.c — the dialog state machine, path by path, without I/O:
 * registration (own and foreign contact, phone formats), role menus,
 * /cancel from any step, deep link, tracking input, HTML escaping of echoed
 * input, callbacks always answered.
 * Threads: main only.
 */
#include "t.h"

#include "conv_dialog.h"
#include "posting.h"
#include "rt.h"
#include "texts.h"

static tg_update_t upd_text(const char *text)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"update_id\":1,\"message\":{\"message_id\":1,\"from\":{\"id\":77,\"first_name\":\"Иван\"},"
             "\"chat\":{\"id\":77,\"type\":\"private\"},\"text\":\"%s\"}}", text);
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static tg_update_t upd_contact(const char *phone, long user_id)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":2,\"message\":{\"message_id\":2,\"from\":{\"id\":77,\"first_name\":\"Иван\"},"
             "\"chat\":{\"id\":77,\"type\":\"private\"},\"contact\":{\"phone_number\":\"%s\",\"first_name\":\"И\","
             "\"user_id\":%ld}}}", phone, user_id);
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

static int find_act(const conv_out_t *o, conv_act_kind_t k)
{
    for (int i = 0; i < o->nacts; i++) if (o->acts[i].kind == k) return i;
    return -1;
}

static bool said(const conv_out_t *o, const char *needle)
{
    for (int i = 0; i < o->nacts; i++)
        if (o->acts[i].kind == CONV_ACT_CALL && strstr(o->acts[i].params, needle)) return true;
    return false;
}

T_CASE(start_greets_guest_with_contact_button)
{
    conv_ctx_t ctx = {0};
    tg_update_t u = upd_text("/start");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_EQ_STR(o.step, "await_contact");
    T_CHECK(said(&o, "request_contact"));
    T_CHECK(said(&o, "+7Доставки"));
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(own_contact_registers_after_role_lookup)
{
    conv_ctx_t ctx = {.step = "await_contact"};
    tg_update_t u = upd_contact("89491234567", 77);
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_PENDING);
    T_EQ_INT(o.nneeds, 1);
    T_EQ_INT(o.needs[0].kind, CONV_NEED_PHONE_ROLE);
    T_EQ_STR(o.needs[0].key, "+79491234567");
    conv_out_free(&o);
    /* the actor answers the lookup: the phone was granted "courier" */
    static const char *const cols[] = {"role"};
    static const char *const vals[] = {"courier"};
    ctx.lookups[0] = (conv_lookup_t){.kind = CONV_NEED_PHONE_ROLE, .key = "+79491234567",
                                     .rows = {RT_OK, 1, 1, cols, vals}};
    ctx.nlookups = 1;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    int r = find_act(&o, CONV_ACT_REGISTER);
    T_CHECK(r >= 0);
    T_EQ_STR(o.acts[r].phone, "+79491234567");
    T_EQ_STR(o.acts[r].name, "Иван");
    T_EQ_STR(o.step, "menu");
    T_CHECK(said(&o, text_get(T_BTN_ROUTE)));     /* the courier's menu */
    T_CHECK(said(&o, "request_location"));
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(foreign_contact_is_refused_and_asked_again)
{
    conv_ctx_t ctx = {.step = "await_contact"};
    tg_update_t u = upd_contact("+79491234567", 99);
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(find_act(&o, CONV_ACT_REGISTER) < 0);
    T_CHECK(said(&o, "Это не ваш номер"));
    T_CHECK(said(&o, "request_contact"));
    conv_out_free(&o);
    tg_update_free(&u);
    /* a contact without user_id (typed by hand) is not trusted either */
    const char *j = "{\"update_id\":3,\"message\":{\"message_id\":3,\"from\":{\"id\":77},\"chat\":{\"id\":77,\"type\":\"private\"},"
                    "\"contact\":{\"phone_number\":\"+79491234567\",\"first_name\":\"X\"}}}";
    T_EQ_INT(tg_update_parse(j, strlen(j), &u), RT_OK);
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(find_act(&o, CONV_ACT_REGISTER) < 0);
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(role_menus_differ)
{
    conv_role_t roles[] = {CONV_CLIENT, CONV_COURIER, CONV_OPERATOR, CONV_ADMIN};
    text_id_t marks[] = {T_BTN_ORDER, T_BTN_ROUTE, T_BTN_TICKETS, T_BTN_ADMIN};
    for (int i = 0; i < 4; i++) {
        conv_ctx_t ctx = {.role = roles[i], .step = "menu"};
        tg_update_t u = upd_text("/menu");
        conv_out_t o;
        T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
        T_CHECK(said(&o, text_get(marks[i])));
        if (roles[i] != CONV_ADMIN) T_CHECK(!said(&o, text_get(T_BTN_ADMIN)));
        conv_out_free(&o);
        tg_update_free(&u);
    }
}

T_CASE(cancel_from_any_step_returns_home)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "track_wait"};
    tg_update_t u = upd_text("/cancel");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_EQ_STR(o.step, "menu");
    T_CHECK(said(&o, text_get(T_CANCELLED)));
    conv_out_free(&o);
    tg_update_free(&u);
}

/* An order row as the CONV_NEED_ORDER lookup returns it. */
static const char *const order_cols[] = {"posting_number", "status", "status_at_ms", "customer_phone",
                                         "addressee_phone", "ordered_by", "pickup_point", "storage_until_ms",
                                         "item_names", "delivery_address", "history"};
static const char *const order_vals[] = {"12345678-0001-1", "at_pickup_point", "1795691666000", "+79491234567",
                                         NULL, NULL, "ПВЗ Донецк, ул. Артёма 1", "1796296466000",
                                         "Чайник", NULL, "created|1795600000000\nat_pickup_point|1795691666000"};

static void give_order(conv_ctx_t *ctx, const char *posting, int status)
{
    conv_lookup_t *l = &ctx->lookups[ctx->nlookups++];
    l->kind = CONV_NEED_ORDER;
    snprintf(l->key, sizeof l->key, "%s", posting);
    l->rows = (conv_rows_t){status, status == RT_OK ? 1 : 0, 11, order_cols, order_vals};
}

T_CASE(deep_link_and_bare_number_request_tracking)
{
    conv_ctx_t ctx = {0};
    tg_update_t u = upd_text("/start 12345678-0001-1");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_PENDING);
    T_EQ_INT(o.needs[0].kind, CONV_NEED_ORDER);
    T_EQ_STR(o.needs[0].key, "12345678-0001-1");
    conv_out_free(&o);
    give_order(&ctx, "12345678-0001-1", RT_OK);
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "Прибыл в пункт выдачи"));
    T_CHECK(!said(&o, "ПВЗ Донецк"));              /* a guest sees the status only */
    T_CHECK(find_act(&o, CONV_ACT_SQL) >= 0);      /* subscribed */
    conv_out_free(&o);
    tg_update_free(&u);

    conv_ctx_t owner = {.role = CONV_CLIENT, .phone = "+79491234567", .step = "menu"};
    give_order(&owner, "12345678-0001-1", RT_OK);
    u = upd_text(" 12345678-0001-1 ");
    T_EQ_INT(conv_step(&owner, &u, &o), RT_OK);
    T_CHECK(said(&o, "ПВЗ Донецк"));               /* the owner sees details */
    T_CHECK(said(&o, "Чайник"));
    T_CHECK(said(&o, "t:r:12345678-0001-1"));      /* refresh button */
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(unknown_and_unreachable_postings_are_explained)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "menu"};
    give_order(&ctx, "99999999-0001-1", RT_ENOTFOUND);
    tg_update_t u = upd_text("99999999-0001-1");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "не найдено"));
    conv_out_free(&o);
    tg_update_free(&u);
    conv_ctx_t down = {.role = CONV_CLIENT, .step = "menu"};
    give_order(&down, "99999999-0001-1", RT_EIO);
    u = upd_text("99999999-0001-1");
    T_EQ_INT(conv_step(&down, &u, &o), RT_OK);
    T_CHECK(said(&o, "недоступен"));
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(bad_tracking_input_is_escaped_in_the_hint)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "track_wait"};
    tg_update_t u = upd_text("<b>123</b>&");
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "&lt;b&gt;123&lt;/b&gt;&amp;"));
    T_CHECK(!said(&o, "<b>123"));
    T_EQ_STR(o.step, "track_wait");
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(callbacks_are_always_answered)
{
    const char *j = "{\"update_id\":9,\"callback_query\":{\"id\":\"cb1\",\"from\":{\"id\":77},\"chat_instance\":\"1\","
                    "\"message\":{\"message_id\":5,\"chat\":{\"id\":77,\"type\":\"private\"}},\"data\":\"x:y\"}}";
    tg_update_t u;
    T_EQ_INT(tg_update_parse(j, strlen(j), &u), RT_OK);
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "menu"};
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_EQ_INT(o.nacts, 1);
    T_EQ_STR(o.acts[0].method, "answerCallbackQuery");
    T_CHECK(strstr(o.acts[0].params, "cb1") != NULL);
    conv_out_free(&o);
    tg_update_free(&u);
}

T_CASE(posting_number_format)
{
    T_CHECK(posting_is_valid("12345678-0001-1"));
    T_CHECK(posting_is_valid("0132112277-0101-123"));
    T_CHECK(!posting_is_valid("1234567-0001-1"));
    T_CHECK(!posting_is_valid("12345678-001-1"));
    T_CHECK(!posting_is_valid("12345678-0001-"));
    T_CHECK(!posting_is_valid("12345678-0001-1-1"));
    T_CHECK(!posting_is_valid("abc"));
}

T_MAIN()
