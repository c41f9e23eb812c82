/* test_pay_unit.c — payments' pure parts: YooKassa amounts, bodies and
 * parsers, the GOST R 56042-2014 payload, QR PNGs, address allow-lists,
 * and the chat's pre-checkout decisions with lookups answered in memory.
 * Threads: main thread only.
 */
#include "t.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conv_dialog.h"
#include "conv_pay.h"
#include "pay_qr.h"
#include "pay_yk.h"
#include "rt.h"
#include "texts.h"
#include "web_cidr.h"

T_CASE(amounts)
{
    int64_t k = 0;
    T_EQ_INT(yk_amount_parse("350.00", &k), RT_OK);
    T_EQ_INT(k, 35000);
    T_EQ_INT(yk_amount_parse("350.5", &k), RT_OK);
    T_EQ_INT(k, 35050);
    T_EQ_INT(yk_amount_parse("7", &k), RT_OK);
    T_EQ_INT(k, 700);
    const char *bad[] = {"", "-1.00", "1.005", "1.", ".5", " 1", "1e3", "12345678901234", "1,00", NULL};
    for (int i = 0; bad[i]; i++) T_EQ_INT(yk_amount_parse(bad[i], &k), RT_EINVAL);
    char out[32];
    yk_amount_format(125005, out, sizeof out);
    T_EQ_STR(out, "1250.05");
}

T_CASE(payment_body_has_receipt_and_sbp)
{
    char *b = yk_payment_body("a42", 35000, "Доставка", "+79491234567", true);
    cJSON *j = cJSON_Parse(b);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "amount"), "value")), "350.00");
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "capture")));
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "confirmation"), "type")), "qr");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "payment_method_data"), "type")), "sbp");
    const cJSON *r = cJSON_GetObjectItem(j, "receipt");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "customer"), "phone")), "79491234567");
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "items"), 0);
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(item, "vat_code")), 1);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(item, "payment_mode")), "full_payment");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "attempt")), "a42");
    cJSON_Delete(j);
    free(b);
}

T_CASE(parsers_take_only_the_documented_shape)
{
    const char ok[] = "{\"id\":\"23d9\",\"status\":\"pending\",\"paid\":false,\"amount\":{\"value\":\"100.00\","
                      "\"currency\":\"RUB\"},\"confirmation\":{\"type\":\"qr\",\"confirmation_data\":\"https://qr.nspk.ru/AD1\"}}";
    yk_payment_t p;
    const char *field = NULL;
    T_EQ_INT(yk_payment_parse(ok, strlen(ok), &p, &field), RT_OK);
    T_EQ_INT(p.status, YK_PENDING);
    T_EQ_INT(p.amount_kop, 10000);
    T_EQ_STR(p.confirmation_url, "https://qr.nspk.ru/AD1");
    const char usd[] = "{\"id\":\"1\",\"status\":\"succeeded\",\"amount\":{\"value\":\"1.00\",\"currency\":\"USD\"}}";
    T_EQ_INT(yk_payment_parse(usd, strlen(usd), &p, &field), RT_EINVAL);
    T_EQ_STR(field, "amount");
    const char st[] = "{\"id\":\"1\",\"status\":\"paid\",\"amount\":{\"value\":\"1.00\",\"currency\":\"RUB\"}}";
    T_EQ_INT(yk_payment_parse(st, strlen(st), &p, &field), RT_EINVAL);
    T_EQ_STR(field, "status");
    yk_notification_t n;
    const char note[] = "{\"type\":\"notification\",\"event\":\"payment.succeeded\",\"object\":{\"id\":\"22d6\"}}";
    T_EQ_INT(yk_notification_parse(note, strlen(note), &n, &field), RT_OK);
    T_EQ_STR(n.object_id, "22d6");
    const char noid[] = "{\"type\":\"notification\",\"event\":\"payment.succeeded\",\"object\":{\"id\":5}}";
    T_EQ_INT(yk_notification_parse(noid, strlen(noid), &n, &field), RT_EINVAL);
    T_EQ_STR(field, "object.id");
    T_EQ_INT(yk_notification_parse("[]", 2, &n, &field), RT_EINVAL);
    T_EQ_STR(field, "body");
}

static const pay_gost_t gost = {"ООО «Три кита»", "40702810138250123017", "ОАО \"БАНК\"", "044525225",
                                "30101810965770000413", "7700000000"};

T_CASE(gost_payload)
{
    char out[1024];
    T_EQ_INT(pay_gost_payload(&gost, 150000, "Оплата заказа 12345678-0001-1", out, sizeof out), RT_OK);
    T_EQ_STR(out, "ST00012|Name=ООО «Три кита»|PersonalAcc=40702810138250123017|BankName=ОАО \"БАНК\"|BIC=044525225"
                  "|CorrespAcc=30101810965770000413|PayeeINN=7700000000|Sum=150000|Purpose=Оплата заказа 12345678-0001-1");
    /* a '|' in a value moves the separator to the next free character */
    T_EQ_INT(pay_gost_payload(&gost, 100, "a|b", out, sizeof out), RT_OK);
    T_CHECK(strncmp(out, "ST00012#Name=", 13) == 0);
    pay_gost_t bad = gost;
    bad.bic = "04452522";
    const char *field = NULL;
    T_EQ_INT(pay_gost_check(&bad, &field), RT_EINVAL);
    T_EQ_STR(field, "bic");
    bad = gost;
    bad.account = "00702810138250123017";
    T_EQ_INT(pay_gost_check(&bad, &field), RT_EINVAL);
    T_EQ_STR(field, "account");
}

T_CASE(qr_png)
{
    unsigned char *png = NULL;
    size_t len = 0;
    T_EQ_INT(pay_qr_png("https://qr.nspk.ru/AD100004BAL7227F9BNP6KNE007J9B3K?type=02", 4, &png, &len), RT_OK);
    T_CHECK(len > 100 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    /* IHDR: square, (modules + 8) * scale pixels; version 3 or more is 29+ modules */
    unsigned w = (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    unsigned h = (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    T_EQ_INT(w, h);
    T_CHECK(w % 4 == 0 && w >= (29 + 8) * 4);
    free(png);
    T_EQ_INT(pay_qr_png("", 4, &png, &len), RT_EINVAL);
    char *hex = NULL;
    T_EQ_INT(pay_qr_bytea("x", &hex), RT_OK);
    T_CHECK(strncmp(hex, "\\x89504e47", 10) == 0);
    free(hex);
}

T_CASE(allow_lists)
{
    web_cidr_list_t l;
    char bad[64];
    T_EQ_INT(web_cidr_parse("185.71.76.0/27, 77.75.156.11,2a02:5180::/32", &l, bad, sizeof bad), RT_OK);
    T_CHECK(web_cidr_match(&l, "185.71.76.31"));
    T_CHECK(!web_cidr_match(&l, "185.71.76.32"));
    T_CHECK(web_cidr_match(&l, "77.75.156.11"));
    T_CHECK(!web_cidr_match(&l, "77.75.156.12"));
    T_CHECK(web_cidr_match(&l, "::ffff:185.71.76.1"));
    T_CHECK(web_cidr_match(&l, "2a02:5180:0:1509::1"));
    T_CHECK(!web_cidr_match(&l, "2a02:5181::1"));
    T_CHECK(!web_cidr_match(&l, "not an address"));
    web_cidr_free(&l);
    T_EQ_INT(web_cidr_parse("10.0.0.0/33", &l, bad, sizeof bad), RT_EINVAL);
    T_EQ_STR(bad, "10.0.0.0/33");
    T_EQ_INT(web_cidr_parse("1.2.3.4,,5.6.7.8", &l, bad, sizeof bad), RT_EINVAL);
}

/* ---- the dialog's pre-checkout decisions ----------------------------------------------- */

static const char *const attempt_cols[] = {"posting_number", "method", "status", "amount_kop", "tg_user_id",
                                           "expired", "order_status", "paid_attempt", "price"};

/* Run one pre-checkout for an attempt row; the params of the answer. */
static char *checkout(const char *const *row, int64_t total)
{
    conv_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.role = CONV_CLIENT;
    ctx.tg_user_id = 501;
    tg_update_t u;
    memset(&u, 0, sizeof u);
    u.kind = TG_UPD_PRE_CHECKOUT;
    u.update_id = 9;
    u.chat_id = u.from_id = 501;
    u.pre_checkout_id = "pc1";
    u.currency = "RUB";
    u.total_amount = total;
    u.invoice_payload = "a77";
    conv_out_t out;
    T_EQ_INT(conv_step(&ctx, &u, &out), RT_PENDING);
    T_EQ_INT(out.nneeds, 1);
    T_EQ_INT(out.needs[0].kind, CONV_NEED_PAY_ATTEMPT);
    conv_out_free(&out);
    ctx.nlookups = 1;
    ctx.lookups[0].kind = CONV_NEED_PAY_ATTEMPT;
    snprintf(ctx.lookups[0].key, sizeof ctx.lookups[0].key, "a77");
    ctx.lookups[0].rows = (conv_rows_t){RT_OK, row ? 1 : 0, 9, attempt_cols, row};
    T_EQ_INT(conv_step(&ctx, &u, &out), RT_OK);
    char *params = NULL;
    for (int i = 0; i < out.nacts; i++)
        if (out.acts[i].kind == CONV_ACT_CALL && strcmp(out.acts[i].method, "answerPreCheckoutQuery") == 0)
            params = strdup(out.acts[i].params);
    conv_out_free(&out);
    T_CHECK(params != NULL);
    return params;
}

static bool answered(char *params, text_id_t refusal)
{
    cJSON *j = cJSON_Parse(params);
    bool ok = refusal == T__COUNT
        ? cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"))
        : cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")) &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error_message")), text_get(refusal)) == 0;
    if (!ok) printf("# answer: %s\n", params);
    cJSON_Delete(j);
    free(params);
    return ok;
}

T_CASE(precheckout_decisions)
{
    const char *live[] = {"12345678-0001-1", "telegram", "created", "35000", "501", "f", "accepted", NULL, "35000"};
    T_CHECK(answered(checkout(live, 35000), T__COUNT));
    T_CHECK(answered(checkout(live, 34999), T_PAY_PC_AMOUNT));
    T_CHECK(answered(checkout(NULL, 35000), T_PAY_PC_UNKNOWN));
    const char *paid[] = {"12345678-0001-1", "telegram", "created", "35000", "501", "f", "accepted", "a1", "35000"};
    T_CHECK(answered(checkout(paid, 35000), T_PAY_PC_PAID));
    const char *gone[] = {"12345678-0001-1", "telegram", "created", "35000", "501", "f", "cancelled", NULL, "35000"};
    T_CHECK(answered(checkout(gone, 35000), T_PAY_PC_NOT_PAYABLE));
    const char *old[] = {"12345678-0001-1", "telegram", "pending", "35000", "501", "t", "accepted", NULL, "35000"};
    T_CHECK(answered(checkout(old, 35000), T_PAY_PC_EXPIRED));
    const char *other[] = {"12345678-0001-1", "telegram", "created", "35000", "502", "f", "accepted", NULL, "35000"};
    T_CHECK(answered(checkout(other, 35000), T_PAY_PC_UNKNOWN));
    const char *moved[] = {"12345678-0001-1", "telegram", "created", "35000", "501", "f", "accepted", NULL, "40000"};
    T_CHECK(answered(checkout(moved, 35000), T_PAY_PC_AMOUNT));
}

T_CASE(offer_after_booking)
{
    conv_pay_cfg_t off = {0};
    conv_pay_configure(&off);
    conv_out_t out;
    memset(&out, 0, sizeof out);
    conv_pay_offer(&out, 501, "12345678-0001-1", 35000);
    T_EQ_INT(out.nacts, 0);                      /* no way to pay configured: no offer */
    conv_pay_cfg_t on = {.provider_token = "381764678:TEST:1"};
    conv_pay_configure(&on);
    conv_pay_offer(&out, 501, "12345678-0001-1", 0);
    T_EQ_INT(out.nacts, 0);                      /* nothing to pay */
    conv_pay_offer(&out, 501, "12345678-0001-1", 35000);
    T_EQ_INT(out.nacts, 1);
    T_EQ_STR(out.acts[0].method, "sendMessage");
    T_CHECK(strstr(out.acts[0].params, "\"p:o:12345678-0001-1\"") != NULL);
    T_CHECK(strstr(out.acts[0].params, "350,00") != NULL);
    conv_out_free(&out);
}

T_MAIN()
