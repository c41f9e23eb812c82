/* test_conv_dialog.c — the dialog state machine, path by path, without I/O:
 * registration (own and foreign contact, phone formats), role menus,
 * /cancel from any step, deep link, tracking input, HTML escaping of echoed
 * input, callbacks always answered; long Cyrillic and emoji texts cut on
 * characters (issue 7.1), menu buttons and media in any step, keyboards
 * by role (7.7), numbers in free text, order numbers and the form's parcel
 * buttons (7.9).
 * Threads: main only.
 */
#include "t.h"

#include "conv_dialog.h"
#include "conv_form.h"
#include "posting.h"
#include "rt.h"
#include "texts.h"
#include "utf8.h"

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
    T_CHECK(said(&o, text_get(T_MENU_COURIER)) || said(&o, text_get(T_BTN_TRACK)));   /* the courier's menu */
    T_CHECK(!said(&o, text_get(T_BTN_ORDER)));
    T_CHECK(!said(&o, "request_contact"));
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
    text_id_t marks[] = {T_BTN_ORDER, T_BTN_TRACK, T_BTN_FIND_ORDER, T_BTN_BROADCAST};
    for (int i = 0; i < 4; i++) {
        conv_ctx_t ctx = {.role = roles[i], .step = "menu"};
        tg_update_t u = upd_text("/menu");
        conv_out_t o;
        T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
        T_CHECK(said(&o, text_get(marks[i])));
        if (roles[i] != CONV_CLIENT) T_CHECK(!said(&o, text_get(T_BTN_ORDER)));
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

/* ---- issue 7 ------------------------------------------------------------------------ */

/* Whether a sendMessage of o has exactly the text `want` (parsed, so
 * newlines compare as newlines). */
static bool said_text(const conv_out_t *o, const char *want)
{
    bool found = false;
    for (int i = 0; i < o->nacts && !found; i++) {
        if (o->acts[i].kind != CONV_ACT_CALL) continue;
        cJSON *p = cJSON_Parse(o->acts[i].params);
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(p, "text"));
        found = t && strcmp(t, want) == 0;
        cJSON_Delete(p);
    }
    return found;
}

/* Every text a decision carries is valid UTF-8 without the safety net. */
static void check_utf8(const conv_out_t *o)
{
    T_EQ_INT(o->repaired, 0);
    T_CHECK(utf8_valid(o->step, strlen(o->step)));
    T_CHECK(utf8_valid(o->data, strlen(o->data)));
    for (int i = 0; i < o->nacts; i++) {
        const conv_act_t *a = &o->acts[i];
        if (a->params) T_CHECK(utf8_valid(a->params, strlen(a->params)));
        for (int k = 0; k < a->nsql_params; k++)
            if (a->sql_params[k]) T_CHECK(utf8_valid(a->sql_params[k], strlen(a->sql_params[k])));
        T_CHECK(utf8_valid(a->name, strlen(a->name)));
    }
}

/* `n` copies of `piece` after `lead` (malloc'd). */
static char *repeat(const char *lead, const char *piece, int n)
{
    size_t lp = strlen(piece), ll = strlen(lead);
    char *s = malloc(ll + lp * (size_t)n + 1);
    memcpy(s, lead, ll);
    for (int i = 0; i < n; i++) memcpy(s + ll + lp * (size_t)i, piece, lp);
    s[ll + lp * (size_t)n] = '\0';
    return s;
}

static tg_update_t upd_json(const char *json)
{
    tg_update_t u;
    if (tg_update_parse(json, strlen(json), &u) != RT_OK) T_FAIL("parse");
    return u;
}

/* A message from 77 with `text` JSON-escaped by cJSON. */
static tg_update_t upd_long(const char *text)
{
    cJSON *root = cJSON_CreateObject(), *msg = cJSON_AddObjectToObject(root, "message");
    cJSON_AddNumberToObject(root, "update_id", 5);
    cJSON_AddNumberToObject(msg, "message_id", 5);
    cJSON *from = cJSON_AddObjectToObject(msg, "from");
    cJSON_AddNumberToObject(from, "id", 77);
    cJSON_AddStringToObject(from, "first_name", "Иван");
    cJSON *chat = cJSON_AddObjectToObject(msg, "chat");
    cJSON_AddNumberToObject(chat, "id", 77);
    cJSON_AddStringToObject(chat, "type", "private");
    cJSON_AddStringToObject(msg, "text", text);
    char *j = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    tg_update_t u = upd_json(j);
    free(j);
    return u;
}

T_CASE(utf8_helper_cuts_on_characters)
{
    char buf[8];
    T_EQ_INT(utf8_copy(buf, sizeof buf, "жжжж"), 6);     /* 8 bytes do not fit 7: three letters */
    T_EQ_STR(buf, "жжж");
    T_EQ_INT(utf8_copy(buf, sizeof buf, "a😀😀"), 5);    /* the second emoji does not fit */
    T_EQ_STR(buf, "a😀");
    T_EQ_INT(utf8_copy(buf, sizeof buf, "a\xD0"), 4);   /* a stray lead byte becomes U+FFFD */
    T_EQ_STR(buf, "a" UTF8_REPLACEMENT);
    T_EQ_INT(utf8_cut("жжж", 5), 4);
    T_EQ_INT(utf8_cut("жжж", 6), 6);
    T_EQ_INT(utf8_cut_chars("аб😀в", 3), 8);
    T_EQ_INT(utf8_chars("аб😀в"), 4);
    T_CHECK(!utf8_valid("\xED\xA0\x80", 3));           /* a surrogate */
    T_CHECK(!utf8_valid("\xC0\xAF", 2));                /* overlong '/' */
    T_CHECK(!utf8_valid("\xF4\x90\x80\x80", 4));        /* above U+10FFFF */
    T_CHECK(utf8_valid("ж😀", strlen("ж😀")));
    T_EQ_INT(utf8_trim_copy(buf, sizeof buf, " \n ж \t"), 2);
    T_EQ_STR(buf, "ж");
}

/* 7.1: a text cut at a fixed byte count used to split a letter (the
 * tracking step's 256-byte buffer, the 64-byte name); PostgreSQL then
 * refused the reply and the chat went silent. */
T_CASE(long_cyrillic_and_emoji_texts_are_cut_on_characters)
{
    const char *lead[] = {"", "x", "xy", "xyz"};
    const char *piece[] = {"ж", "😀", "ё😀ж", "&<ж>"};
    for (int l = 0; l < 4; l++) {
        for (int p = 0; p < 4; p++) {
            char *text = repeat(lead[l], piece[p], 4096 / (int)utf8_chars(piece[p]));
            conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "track_wait", .phone = "+79491234567"};
            tg_update_t u = upd_long(text);
            conv_out_t o;
            T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
            check_utf8(&o);
            T_CHECK(said(&o, "…"));                /* the echo was cut, and says so */
            T_EQ_STR(o.step, "track_wait");
            conv_out_free(&o);
            /* the same in the main menu and in the form's address step */
            snprintf(ctx.step, sizeof ctx.step, "menu");
            T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
            check_utf8(&o);
            conv_out_free(&o);
            snprintf(ctx.step, sizeof ctx.step, "form_address");
            snprintf(ctx.data, sizeof ctx.data, "p=12345678-0001-1\n");
            conv_step(&ctx, &u, &o);
            check_utf8(&o);
            conv_out_free(&o);
            tg_update_free(&u);
            free(text);
        }
    }
    /* a long Cyrillic first name, registered */
    char *name = repeat("x", "ж", 40);
    char json[1024];
    snprintf(json, sizeof json,
             "{\"update_id\":2,\"message\":{\"message_id\":2,\"from\":{\"id\":77,\"first_name\":\"%s\"},"
             "\"chat\":{\"id\":77,\"type\":\"private\"},\"contact\":{\"phone_number\":\"380501234567\","
             "\"first_name\":\"И\",\"user_id\":77}}}", name);
    free(name);
    tg_update_t u = upd_json(json);
    conv_ctx_t ctx = {.step = "await_contact"};
    static const char *const cols[] = {"role"};
    ctx.lookups[0] = (conv_lookup_t){.kind = CONV_NEED_PHONE_ROLE, .key = "+380501234567", .rows = {RT_OK, 0, 1, cols, NULL}};
    ctx.nlookups = 1;
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    int r = find_act(&o, CONV_ACT_REGISTER);
    T_CHECK(r >= 0);
    T_EQ_STR(o.acts[r].phone, "+380501234567");    /* 7.2: a Ukrainian contact without '+' */
    check_utf8(&o);
    conv_out_free(&o);
    tg_update_free(&u);
}

/* 7.7: «ℹ️ Помощь» in the tracking step used to be "not a posting number". */
T_CASE(menu_buttons_leave_any_step)
{
    struct { conv_role_t role; const char *step, *data, *button; text_id_t want; } cases[] = {
        {CONV_CLIENT, "track_wait", "", "ℹ️ Помощь", T_HELP_CLIENT},
        {CONV_CLIENT, "form_address", "p=12345678-0001-1\n", "ℹ️ Помощь", T_HELP_CLIENT},
        {CONV_CLIENT, "form_posting", "", "📦 Отследить", T_TRACK_ASK},
        {CONV_OPERATOR, "bc_text", "", "🔎 Найти заказ", T_TRACK_ASK},
        {CONV_GUEST, "track_wait", "", "📱 Поделиться номером", T_ASK_CONTACT},
        {CONV_CLIENT, "track_wait", "", "💬 Оператор", T_MENU_BUTTON_GONE},   /* an older menu's button */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conv_ctx_t ctx = {.role = cases[i].role};
        snprintf(ctx.step, sizeof ctx.step, "%s", cases[i].step);
        snprintf(ctx.data, sizeof ctx.data, "%s", cases[i].data);
        if (ctx.role != CONV_GUEST) snprintf(ctx.phone, sizeof ctx.phone, "+79491234567");
        tg_update_t u = upd_text(cases[i].button);
        conv_out_t o;
        T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
        T_CHECK(said_text(&o, text_get(cases[i].want)));
        T_CHECK(strcmp(o.step, cases[i].step) != 0);       /* the step was left */
        T_CHECK(!said(&o, "не похоже"));
        conv_out_free(&o);
        tg_update_free(&u);
    }
}

/* 7.7: a sticker used to be echoed as «» in the tracking step. */
T_CASE(media_where_they_mean_nothing_get_a_hint)
{
    const char *media[] = {
        ("\"sticker\":{\"file_id\":\"s1\",\"file_unique_id\":\"u\",\"type\":\"regular\",\"width\":512,\"height\":512,"
         "\"is_animated\":false,\"is_video\":false,\"emoji\":\"😀\"}"),
        "\"voice\":{\"file_id\":\"v1\",\"file_unique_id\":\"u\",\"duration\":3}",
        "\"photo\":[{\"file_id\":\"p1\",\"file_unique_id\":\"u\",\"width\":90,\"height\":90}]",
    };
    const char *steps[] = {"track_wait", "menu", "menu"};   /* the last as an operator */
    for (size_t m = 0; m < 3; m++) {
        for (size_t s = 0; s < 3; s++) {
            char json[1024];
            snprintf(json, sizeof json,
                     "{\"update_id\":4,\"message\":{\"message_id\":4,\"from\":{\"id\":77,\"first_name\":\"И\"},"
                     "\"chat\":{\"id\":77,\"type\":\"private\"},%s}}", media[m]);
            tg_update_t u = upd_json(json);
            conv_ctx_t ctx = {.role = s == 2 ? CONV_OPERATOR : CONV_CLIENT, .phone = "+79491234567"};
            snprintf(ctx.step, sizeof ctx.step, "%s", steps[s]);
            conv_out_t o;
            T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
            T_EQ_INT(o.nacts, 1);
            T_CHECK(said_text(&o, text_get(T_HINT_MEDIA)));
            T_CHECK(!said(&o, "«»"));
            T_EQ_STR(o.step, steps[s]);                      /* the step waits on */
            conv_out_free(&o);
            tg_update_free(&u);
        }
    }
    /* a pin in the main menu means nothing; at the form's address it is the address */
    const char *pin = "{\"update_id\":6,\"message\":{\"message_id\":6,\"from\":{\"id\":77},"
                      "\"chat\":{\"id\":77,\"type\":\"private\"},\"location\":{\"latitude\":48.0,\"longitude\":37.8}}}";
    tg_update_t u = upd_json(pin);
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "menu", .phone = "+79491234567"};
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said_text(&o, text_get(T_HINT_LOCATION)));
    conv_out_free(&o);
    conv_ctx_t form = {.role = CONV_CLIENT, .step = "form_address", .data = "p=12345678-0001-1\n",
                       .phone = "+79491234567"};
    T_EQ_INT(conv_step(&form, &u, &o), RT_PENDING);           /* the form looks up its zones */
    conv_out_free(&o);
    tg_update_free(&u);
}

/* 7.7: a registered person never gets the guest keyboard. */
T_CASE(registered_person_never_gets_the_guest_keyboard)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "menu", .phone = "+79491234567"};
    tg_update_t u = upd_contact("+79001112233", 99);               /* someone else's contact */
    conv_out_t o;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "Это не ваш номер"));
    T_CHECK(!said(&o, "request_contact"));
    T_CHECK(said(&o, text_get(T_BTN_ORDER)));
    conv_out_free(&o);
    tg_update_free(&u);
    u = upd_contact("12", 77);                                     /* an unreadable own number */
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(!said(&o, "request_contact"));
    conv_out_free(&o);
    tg_update_free(&u);
    u = upd_text(text_get(T_BTN_SHARE_PHONE));                      /* an old keyboard's button */
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(!said(&o, "request_contact"));
    T_CHECK(said(&o, "+79491234567"));
    conv_out_free(&o);
    tg_update_free(&u);
}

/* The labels of the reply keyboard of the first sendMessage in o. */
static int keyboard_labels(const conv_out_t *o, char labels[][64], int max)
{
    int n = 0;
    for (int i = 0; i < o->nacts && n == 0; i++) {
        if (o->acts[i].kind != CONV_ACT_CALL) continue;
        cJSON *p = cJSON_Parse(o->acts[i].params);
        cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "reply_markup"), "keyboard"), *row, *b;
        cJSON_ArrayForEach(row, kb) cJSON_ArrayForEach(b, row) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(b, "text"));
            if (t && n < max) snprintf(labels[n++], 64, "%s", t);
        }
        cJSON_Delete(p);
    }
    return n;
}

/* 7.7: each role sees only buttons that work today. */
T_CASE(every_menu_button_works_for_its_role)
{
    for (int i = 0; i < T__COUNT; i++) T_CHECK(strstr(text_get((text_id_t)i), "скоро") == NULL);
    for (conv_role_t role = CONV_GUEST; role <= CONV_ADMIN; role++) {
        conv_ctx_t ctx = {.role = role, .step = "menu"};
        if (role != CONV_GUEST) snprintf(ctx.phone, sizeof ctx.phone, "+79491234567");
        tg_update_t u = upd_text("/menu");
        conv_out_t o;
        T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
        char labels[16][64];
        int n = keyboard_labels(&o, labels, 16);
        T_CHECK(n >= 2);
        conv_out_free(&o);
        tg_update_free(&u);
        for (int b = 0; b < n; b++) {
            if (strcmp(labels[b], text_get(T_BTN_SHARE_PHONE)) == 0) continue;   /* sends a contact */
            u = upd_text(labels[b]);
            int rc = conv_step(&ctx, &u, &o);
            T_CHECK(rc == RT_OK || rc == RT_PENDING);
            T_CHECK(!said_text(&o, text_get(T_MENU_BUTTON_GONE)));
            T_CHECK(!said_text(&o, text_get(T_NEED_REGISTRATION)));
            T_CHECK(!said_text(&o, text_get(T_NOT_UNDERSTOOD)));
            conv_out_free(&o);
            tg_update_free(&u);
        }
    }
}

/* conv_step asks for exactly the lookup (kind, key) first. */
static void expect_need(const conv_ctx_t *ctx, const tg_update_t *u, int kind, const char *key)
{
    conv_out_t o;
    T_EQ_INT(conv_step(ctx, u, &o), RT_PENDING);
    T_EQ_INT(o.needs[0].kind, kind);
    if (key) T_EQ_STR(o.needs[0].key, key);
    conv_out_free(&o);
}

T_CASE(numbers_are_found_in_free_text)
{
    char n[POSTING_MAX];
    T_EQ_INT(posting_find("заказ 12345678-0001-1", n), POSTING_NUMBER);
    T_EQ_STR(n, "12345678-0001-1");
    T_EQ_INT(posting_find("Номер: 0132112277–0101–123, спасибо", n), POSTING_NUMBER);   /* en dashes */
    T_EQ_STR(n, "0132112277-0101-123");
    T_EQ_INT(posting_find("мой заказ 12345678-0001 где?", n), POSTING_ORDER);
    T_EQ_STR(n, "12345678-0001");
    T_EQ_INT(posting_find("+7 949 123-45-67", n), POSTING_NONE);
    T_EQ_INT(posting_find("123456789012-0001-1", n), POSTING_NONE);   /* 12 digits */
    T_EQ_INT(posting_find("12345678-00011", n), POSTING_NONE);
    T_EQ_INT(posting_find("12345678-0001-1234", n), POSTING_NONE);
    T_EQ_INT(posting_find("2026-12-08", n), POSTING_NONE);

    /* in the main menu and in the tracking step */
    const char *steps[] = {"menu", "track_wait"};
    for (int s = 0; s < 2; s++) {
        conv_ctx_t ctx = {.role = CONV_CLIENT};
        snprintf(ctx.step, sizeof ctx.step, "%s", steps[s]);
        tg_update_t u = upd_text("заказ 12345678-0001-1");
        conv_out_t o;
        expect_need(&ctx, &u, CONV_NEED_ORDER, "12345678-0001-1");
        give_order(&ctx, "12345678-0001-1", RT_OK);
        T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
        T_CHECK(said(&o, "<code>12345678-0001-1</code>"));   /* tap-to-copy */
        conv_out_free(&o);
        tg_update_free(&u);
    }
}

T_CASE(an_order_number_lists_its_postings)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "menu"};
    tg_update_t u = upd_text("12345678-0001");
    conv_out_t o;
    expect_need(&ctx, &u, CONV_NEED_ORDER_POSTINGS, "12345678-0001");
    static const char *const cols[] = {"posting_number", "status"};
    static const char *const vals[] = {"12345678-0001-1", "delivered", "12345678-0001-2", "in_transit"};
    ctx.lookups[0] = (conv_lookup_t){.kind = CONV_NEED_ORDER_POSTINGS, .key = "12345678-0001",
                                     .rows = {RT_OK, 2, 2, cols, vals}};
    ctx.nlookups = 1;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "<code>12345678-0001</code>"));
    T_CHECK(said(&o, "<code>12345678-0001-1</code>"));
    T_CHECK(said(&o, "<code>12345678-0001-2</code>"));
    T_CHECK(said(&o, "t:r:12345678-0001-2"));
    conv_out_free(&o);
    /* unknown here: its first posting is fetched */
    ctx.lookups[0].rows.nrows = 0;
    expect_need(&ctx, &u, CONV_NEED_ORDER, "12345678-0001-1");
    give_order(&ctx, "12345678-0001-1", RT_ENOTFOUND);
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said(&o, "не найден"));
    conv_out_free(&o);
    tg_update_free(&u);
}

/* 7.9: the form offers the person's own parcels instead of asking to type. */
T_CASE(delivery_form_offers_own_parcels)
{
    conv_ctx_t ctx = {.role = CONV_CLIENT, .step = "menu", .phone = "+79491234567", .tg_user_id = 77};
    tg_update_t u = upd_text(text_get(T_BTN_ORDER));
    conv_out_t o;
    expect_need(&ctx, &u, CONV_NEED_MY_ORDERS, NULL);
    static const char *const cols[] = {"posting_number", "status"};
    static const char *const vals[] = {"11111111-0001-1", "at_pickup_point", "22222222-0001-1", "delivered",
                                       "33333333-0001-1", "in_transit"};
    ctx.lookups[0] = (conv_lookup_t){.kind = CONV_NEED_MY_ORDERS, .rows = {RT_OK, 3, 2, cols, vals}};
    ctx.nlookups = 1;
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_EQ_STR(o.step, "form_posting");
    T_CHECK(said_text(&o, text_get(T_FORM_PICK_PARCEL)));
    char labels[16][64];
    int n = keyboard_labels(&o, labels, 16);
    T_EQ_INT(n, 4);                                   /* two parcels, «Назад», «Отмена» */
    T_EQ_STR(labels[0], "11111111-0001-1");
    T_EQ_STR(labels[1], "33333333-0001-1");
    conv_out_free(&o);
    tg_update_free(&u);
    /* pressing one goes on as if the number had been typed */
    snprintf(ctx.step, sizeof ctx.step, "form_posting");
    u = upd_text("11111111-0001-1");
    expect_need(&ctx, &u, CONV_NEED_ORDER, "11111111-0001-1");
    tg_update_free(&u);
    /* with nothing to offer, the number is asked for */
    ctx.lookups[0].rows.nrows = 0;
    snprintf(ctx.step, sizeof ctx.step, "menu");
    u = upd_text(text_get(T_BTN_ORDER));
    T_EQ_INT(conv_step(&ctx, &u, &o), RT_OK);
    T_CHECK(said_text(&o, text_get(T_FORM_ASK_POSTING)));
    conv_out_free(&o);
    tg_update_free(&u);
}

T_MAIN()
