/* smsru.c — the emulated SMS.ru API and its control routes.
 *
 * Control routes (sub = path after /control/sms/):
 *   GET    messages[?phone=&since=]     messages accepted so far
 *   DELETE messages                     forget them
 *   POST   messages/<sms_id>/status     {"status_code": 104} delivery status
 *   GET    wait?n=&phone=&timeout_ms=   block until n messages (to phone)
 *   GET|POST config                     {"api_id","balance","price",
 *                                        "senders","number_codes",
 *                                        "delivery_status"}
 *
 * Exports: see smsru.h. Threads: civetweb workers.
 */
#include "smsru.h"

#include "es_control.h"
#include "es_json.h"
#include "es_state.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct smsru_msg {
    long long seq;
    char id[32];
    char phone[24];       /* "+7…" */
    char *text;
    char sender[64];
    int test;
    int parts;
    int status_code;      /* delivery status for /sms/status */
    int64_t at_ms;
    struct smsru_msg *next;
} smsru_msg_t;

static smsru_msg_t *smsru_head, **smsru_tail = &smsru_head;
static long long smsru_seq;
static double smsru_balance = 1000.0, smsru_price;
static cJSON *smsru_senders;      /* array of allowed senders or NULL = any */
static cJSON *smsru_codes;        /* object "+7…" -> forced per-number code */
static int smsru_delivery = 103;

static void smsru_clear_messages(void)
{
    while (smsru_head) {
        smsru_msg_t *m = smsru_head;
        smsru_head = m->next;
        free(m->text);
        free(m);
    }
    smsru_tail = &smsru_head;
}

/* The key a number gets in the reply's "sms" object: its digits, as SMS.ru
 * answers, or the raw text when it is not a phone number. */
static int smsru_norm(const char *in, char out[24]);
static void smsru_key(const char *raw, char key[24])
{
    if (smsru_norm(raw, key) == 0) memmove(key, key + 1, strlen(key));
    else snprintf(key, 24, "%.23s", raw);
}

static const char *smsru_text(int code)
{
    switch (code) {
    case -1: return "Сообщение не найдено";
    case 100: return "Сообщение принято к отправке";
    case 101: return "Сообщение передается оператору";
    case 102: return "Сообщение отправлено (в пути)";
    case 103: return "Сообщение доставлено";
    case 104: return "Не может быть доставлено: время жизни истекло";
    case 105: return "Не может быть доставлено: удалено оператором";
    case 106: return "Не может быть доставлено: сбой в телефоне";
    case 107: return "Не может быть доставлено: неизвестная причина";
    case 108: return "Не может быть доставлено: отклонено";
    case 150: return "Не может быть доставлено: не найден маршрут на данный номер";
    case 200: return "Неправильный api_id";
    case 201: return "Не хватает средств на лицевом счету";
    case 202: return "Неправильно указан номер телефона получателя, либо на него нет маршрута";
    case 203: return "Нет текста сообщения";
    case 204: return "Имя отправителя не согласовано с администрацией";
    case 205: return "Сообщение слишком длинное (превышает 8 СМС)";
    case 206: return "Будет превышен или уже превышен дневной лимит на отправку сообщений";
    case 207: return "На этот номер нет маршрута для доставки сообщений";
    case 208: return "Параметр time указан неправильно";
    case 209: return "Вы добавили этот номер (или один из номеров) в стоп-лист";
    case 210: return "Используется GET, где необходимо использовать POST";
    case 211: return "Метод не найден";
    case 220: return "Сервис временно недоступен, попробуйте чуть позже";
    default: return "Ошибка";
    }
}

static int smsru_owns(const char *path)
{
    return strncmp(path, "/sms/", 5) == 0;
}

/* "+7 (949) 123-45-01", "89491234501", "79491234501" -> "+79491234501";
 * returns 0, or -1 when it cannot be a phone number. */
static int smsru_norm(const char *in, char out[24])
{
    char d[24];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n >= 16) return -1;
            d[n++] = *p;
        } else if (!strchr(" +-()", *p)) return -1;
    }
    d[n] = '\0';
    if (n == 11 && d[0] == '8') d[0] = '7';
    if (n == 10 && d[0] == '9') { memmove(d + 1, d, 11); d[0] = '7'; n = 11; }
    if (n < 11 || n > 15) return -1;
    snprintf(out, 24, "+%s", d);
    return 0;
}

/* SMS parts: GSM-7 160/153 chars, UCS-2 (any non-ASCII) 70/67 chars. */
static int smsru_parts(const char *text)
{
    size_t chars = 0;
    int ucs = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) != 0x80) chars++;
        if (*p >= 0x80) ucs = 1;
    }
    size_t one = ucs ? 70 : 160, many = ucs ? 67 : 153;
    if (chars == 0) return 0;
    if (chars <= one) return 1;
    return (int)((chars + many - 1) / many);
}

static cJSON *smsru_params(const es_req_t *req)
{
    cJSON *p = cJSON_CreateObject();
    const char *ct = es_header(req, "Content-Type");
    if (req->body_len && (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0))
        es_form_parse(req->body, req->body_len, p);
    if (req->query) es_form_parse(req->query, strlen(req->query), p);
    return p;
}

static void smsru_reply(es_req_t *req, int json, cJSON *doc, const char *plain)
{
    if (json) es_reply_json(req, 200, doc);
    else {
        cJSON_Delete(doc);
        es_reply_text(req, 200, plain);
    }
}

static void smsru_fail(es_req_t *req, int json, int code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ERROR");
    cJSON_AddNumberToObject(o, "status_code", code);
    cJSON_AddStringToObject(o, "status_text", smsru_text(code));
    char plain[16];
    snprintf(plain, sizeof plain, "%d\n", code);
    smsru_reply(req, json, o, plain);
}

static cJSON *smsru_number_error(int code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ERROR");
    cJSON_AddNumberToObject(o, "status_code", code);
    cJSON_AddStringToObject(o, "status_text", smsru_text(code));
    return o;
}

/* Accept one message (es_lock held); returns its per-number JSON. */
static cJSON *smsru_accept(const char *raw, const char *text, const char *sender, int test,
                           char *plain, size_t plen, size_t *pl)
{
    char phone[24];
    int code = 0;
    if (smsru_norm(raw, phone)) code = 202;
    else if (!text || !text[0]) code = 203;
    else if (smsru_parts(text) > 8) code = 205;
    else {
        long long forced;
        if (es_json_int(smsru_codes, phone, &forced) == 0) code = (int)forced;
        else if (smsru_balance < smsru_price * smsru_parts(text)) code = 201;
    }
    if (code) {
        *pl += (size_t)snprintf(plain + *pl, *pl < plen ? plen - *pl : 0, "%d\n", code);
        return smsru_number_error(code);
    }
    smsru_msg_t *m = calloc(1, sizeof *m);
    if (!m) return smsru_number_error(220);
    m->seq = ++smsru_seq;
    snprintf(m->id, sizeof m->id, "000000-%08lld", 10000000LL + m->seq);
    snprintf(m->phone, sizeof m->phone, "%s", phone);
    m->text = strdup(text);
    snprintf(m->sender, sizeof m->sender, "%s", sender ? sender : "");
    m->test = test;
    m->parts = smsru_parts(text);
    m->status_code = smsru_delivery;
    m->at_ms = es_now_ms();
    *smsru_tail = m;
    smsru_tail = &m->next;
    smsru_balance -= smsru_price * m->parts;
    es_broadcast();
    ES_LOG_INFO("sms_accepted", "sms_id=%s phone=%s parts=%d test=%d", m->id, m->phone, m->parts, test);
    *pl += (size_t)snprintf(plain + *pl, *pl < plen ? plen - *pl : 0, "%s\n", m->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "OK");
    cJSON_AddNumberToObject(o, "status_code", 100);
    cJSON_AddStringToObject(o, "sms_id", m->id);
    return o;
}

static int smsru_sender_ok(const char *from)
{
    if (!from || !from[0] || !cJSON_IsArray(smsru_senders)) return 1;
    const cJSON *s;
    cJSON_ArrayForEach(s, smsru_senders)
        if (cJSON_IsString(s) && !strcmp(s->valuestring, from)) return 1;
    return 0;
}

static void smsru_send(es_req_t *req, const cJSON *p, int json)
{
    const char *api_id = es_json_str(p, "api_id");
    const char *to = es_json_str(p, "to"), *msg = es_json_str(p, "msg"), *from = es_json_str(p, "from");
    const cJSON *multi = cJSON_GetObjectItemCaseSensitive(p, "multi");
    int test = es_json_bool(p, "test", 0);
    es_lock();
    int ok_key = api_id && !strcmp(api_id, es_cfg.sms_api_id);
    int ok_sender = smsru_sender_ok(from);
    es_unlock();
    if (!ok_key) { smsru_fail(req, json, 200); return; }
    int has_multi = cJSON_IsObject(multi) && multi->child;
    if (!has_multi && (!to || !to[0])) { smsru_fail(req, json, 202); return; }
    if (!has_multi && (!msg || !msg[0])) { smsru_fail(req, json, 203); return; }
    if (!ok_sender) { smsru_fail(req, json, 204); return; }

    cJSON *sms = cJSON_CreateObject();
    size_t plen = 8192, pl = 0;
    char *plain = malloc(plen);
    if (!plain) { cJSON_Delete(sms); smsru_fail(req, json, 220); return; }
    pl += (size_t)snprintf(plain, plen, "100\n");
    es_lock();
    if (has_multi) {
        char key[24];
        for (const cJSON *m = multi->child; m; m = m->next) {
            if (!m->string) continue;
            smsru_key(m->string, key);
            if (cJSON_GetObjectItemCaseSensitive(sms, key)) continue;
            cJSON_AddItemToObject(sms, key, smsru_accept(m->string, cJSON_IsString(m) ? m->valuestring : "",
                                                         from, test, plain, plen, &pl));
        }
    } else {
        char *list = strdup(to), *save = NULL;
        int count = 0;
        for (char *t = strtok_r(list, ",", &save); t && count < 100; t = strtok_r(NULL, ",", &save), count++) {
            while (*t == ' ') t++;
            if (!*t) continue;
            char key[24];
            smsru_key(t, key);
            if (cJSON_GetObjectItemCaseSensitive(sms, key)) continue;
            cJSON_AddItemToObject(sms, key, smsru_accept(t, msg, from, test, plain, plen, &pl));
        }
        free(list);
    }
    double balance = smsru_balance;
    es_unlock();
    if (pl < plen) pl += (size_t)snprintf(plain + pl, plen - pl, "balance=%.2f\n", balance);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "OK");
    cJSON_AddNumberToObject(o, "status_code", 100);
    cJSON_AddItemToObject(o, "sms", sms);
    cJSON_AddNumberToObject(o, "balance", balance);
    smsru_reply(req, json, o, plain);
    free(plain);
}

static void smsru_status(es_req_t *req, const cJSON *p, int json)
{
    const char *api_id = es_json_str(p, "api_id"), *ids = es_json_str(p, "sms_id");
    es_lock();
    int ok_key = api_id && !strcmp(api_id, es_cfg.sms_api_id);
    es_unlock();
    if (!ok_key) { smsru_fail(req, json, 200); return; }
    if (!ids || !ids[0]) { smsru_fail(req, json, -1); return; }
    cJSON *sms = cJSON_CreateObject();
    char plain[4096];
    size_t pl = (size_t)snprintf(plain, sizeof plain, "100\n");
    char *list = strdup(ids), *save = NULL;
    es_lock();
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        smsru_msg_t *m = smsru_head;
        while (m && strcmp(m->id, t) != 0) m = m->next;
        int code = m ? m->status_code : -1;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", m ? "OK" : "ERROR");
        cJSON_AddNumberToObject(o, "status_code", code);
        cJSON_AddStringToObject(o, "status_text", smsru_text(code));
        if (!cJSON_GetObjectItemCaseSensitive(sms, t)) cJSON_AddItemToObject(sms, t, o);
        else cJSON_Delete(o);
        if (pl < sizeof plain) pl += (size_t)snprintf(plain + pl, sizeof plain - pl, "%d\n", code);
    }
    double balance = smsru_balance;
    es_unlock();
    free(list);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "OK");
    cJSON_AddNumberToObject(o, "status_code", 100);
    cJSON_AddItemToObject(o, "sms", sms);
    cJSON_AddNumberToObject(o, "balance", balance);
    smsru_reply(req, json, o, plain);
}

static void smsru_handle(es_req_t *req)
{
    cJSON *p = smsru_params(req);
    int json = es_json_bool(p, "json", 0);
    if (strcmp(req->method, "POST") != 0) smsru_fail(req, json, 210);
    else if (!strcmp(req->path, "/sms/send")) smsru_send(req, p, json);
    else if (!strcmp(req->path, "/sms/status")) smsru_status(req, p, json);
    else smsru_fail(req, json, 211);
    cJSON_Delete(p);
}

static char *smsru_fault_body(int status, const char **ctype)
{
    *ctype = "application/json; charset=utf-8";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ERROR");
    cJSON_AddNumberToObject(o, "status_code", 220);
    cJSON_AddStringToObject(o, "status_text", smsru_text(220));
    (void)status;
    return es_json_print_owned(o);
}

const es_service_t smsru_service = {
    .name = "smsru",
    .owns = smsru_owns,
    .handle = smsru_handle,
    .fault_body = smsru_fault_body,
};

/* ---- control ------------------------------------------------------------ */

static cJSON *smsru_msg_json(const smsru_msg_t *m)
{
    cJSON *o = cJSON_CreateObject();
    char at[32];
    es_iso_time(m->at_ms, at);
    cJSON_AddNumberToObject(o, "seq", (double)m->seq);
    cJSON_AddStringToObject(o, "sms_id", m->id);
    cJSON_AddStringToObject(o, "phone", m->phone);
    cJSON_AddStringToObject(o, "text", m->text ? m->text : "");
    cJSON_AddStringToObject(o, "sender", m->sender);
    cJSON_AddBoolToObject(o, "test", m->test);
    cJSON_AddNumberToObject(o, "parts", m->parts);
    cJSON_AddNumberToObject(o, "status_code", m->status_code);
    cJSON_AddStringToObject(o, "at", at);
    return o;
}

/* Messages to `phone` (normalised; NULL = any) with seq > since. */
static cJSON *smsru_select(const char *phone, long long since, int *count)
{
    cJSON *arr = cJSON_CreateArray();
    int n = 0;
    for (smsru_msg_t *m = smsru_head; m; m = m->next) {
        if (m->seq <= since || (phone && strcmp(phone, m->phone) != 0)) continue;
        cJSON_AddItemToArray(arr, smsru_msg_json(m));
        n++;
    }
    *count = n;
    return arr;
}

static cJSON *smsru_config_json(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "api_id", es_cfg.sms_api_id);
    cJSON_AddNumberToObject(o, "balance", smsru_balance);
    cJSON_AddNumberToObject(o, "price", smsru_price);
    cJSON_AddItemToObject(o, "senders", smsru_senders ? cJSON_Duplicate(smsru_senders, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "number_codes", smsru_codes ? cJSON_Duplicate(smsru_codes, 1) : cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "delivery_status", smsru_delivery);
    return o;
}

static void smsru_control_config(es_req_t *req)
{
    if (strcmp(req->method, "POST") != 0) {
        es_lock();
        cJSON *o = smsru_config_json();
        es_unlock();
        es_control_ok(req, o);
        return;
    }
    cJSON *b = es_control_body(req);
    if (!b) return;
    double balance = 0, price = 0;
    long long delivery = 0;
    int has_bal = cJSON_GetObjectItemCaseSensitive(b, "balance") != NULL;
    int has_price = cJSON_GetObjectItemCaseSensitive(b, "price") != NULL;
    int has_del = cJSON_GetObjectItemCaseSensitive(b, "delivery_status") != NULL;
    const char *api_id = es_json_str(b, "api_id");
    const cJSON *senders = cJSON_GetObjectItemCaseSensitive(b, "senders");
    const cJSON *codes = cJSON_GetObjectItemCaseSensitive(b, "number_codes");
    const char *bad = NULL;
    if (has_bal && es_json_num(b, "balance", &balance)) bad = "balance: a number";
    else if (has_price && (es_json_num(b, "price", &price) || price < 0)) bad = "price: a non-negative number";
    else if (has_del && es_json_int(b, "delivery_status", &delivery)) bad = "delivery_status: an SMS.ru status code";
    else if (senders && !cJSON_IsNull(senders) && !cJSON_IsArray(senders)) bad = "senders: an array of names or null";
    else if (codes && !cJSON_IsObject(codes)) bad = "number_codes: an object of phone -> code";
    else if (api_id && (!api_id[0] || strlen(api_id) >= sizeof es_cfg.sms_api_id)) bad = "api_id: a non-empty string";
    cJSON *norm = NULL;
    if (!bad && codes) {
        norm = cJSON_CreateObject();
        for (const cJSON *c = codes->child; c && !bad; c = c->next) {
            char ph[24];
            long long code;
            if (smsru_norm(c->string, ph) || es_json_item_int(c, &code)) bad = "number_codes: phone -> integer code";
            else cJSON_AddNumberToObject(norm, ph, (double)code);
        }
    }
    if (bad) {
        cJSON_Delete(norm);
        cJSON_Delete(b);
        es_control_error(req, 400, "%s", bad);
        return;
    }
    es_lock();
    if (has_bal) smsru_balance = balance;
    if (has_price) smsru_price = price;
    if (has_del) smsru_delivery = (int)delivery;
    if (api_id) snprintf(es_cfg.sms_api_id, sizeof es_cfg.sms_api_id, "%s", api_id);
    if (senders) {
        cJSON_Delete(smsru_senders);
        smsru_senders = cJSON_IsArray(senders) ? cJSON_Duplicate(senders, 1) : NULL;
    }
    if (norm) {
        cJSON_Delete(smsru_codes);
        smsru_codes = norm;
    }
    cJSON *o = smsru_config_json();
    es_unlock();
    cJSON_Delete(b);
    es_control_ok(req, o);
}

void smsru_control(es_req_t *req, const char *sub)
{
    char phone_raw[64], phone[24];
    const char *ph = es_control_query_str(req, "phone", phone_raw, sizeof phone_raw);
    if (ph && smsru_norm(ph, phone)) {
        es_control_error(req, 400, "phone: not a phone number");
        return;
    }
    const char *want = ph ? phone : NULL;
    if (!strcmp(sub, "messages") && !strcmp(req->method, "GET")) {
        int n;
        es_lock();
        cJSON *arr = smsru_select(want, es_control_query_int(req, "since", 0), &n);
        es_unlock();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "count", n);
        cJSON_AddItemToObject(o, "messages", arr);
        es_control_ok(req, o);
    } else if (!strcmp(sub, "messages") && !strcmp(req->method, "DELETE")) {
        es_lock();
        smsru_clear_messages();
        es_unlock();
        es_control_ok(req, cJSON_CreateObject());
    } else if (!strcmp(sub, "wait") && !strcmp(req->method, "GET")) {
        long long n = es_control_query_int(req, "n", 1);
        long long timeout = es_control_query_int(req, "timeout_ms", 5000);
        long long since = es_control_query_int(req, "since", 0);
        if (timeout < 0) timeout = 0;
        if (timeout > 60000) timeout = 60000;
        int64_t deadline = es_mono_ms() + timeout;
        int count;
        cJSON *arr;
        es_lock();
        for (;;) {
            arr = smsru_select(want, since, &count);
            if (count >= n || es_mono_ms() >= deadline) break;
            cJSON_Delete(arr);
            es_wait_until(deadline);
        }
        es_unlock();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "count", count);
        cJSON_AddBoolToObject(o, "timed_out", count < n);
        cJSON_AddItemToObject(o, "messages", arr);
        es_reply_json(req, count >= n ? 200 : 408, o);
    } else if (!strncmp(sub, "messages/", 9) && !strcmp(req->method, "POST")) {
        char id[32];
        const char *rest = sub + 9, *slash = strchr(rest, '/');
        if (!slash || strcmp(slash, "/status") || (size_t)(slash - rest) >= sizeof id) {
            es_control_error(req, 404, "use POST /control/sms/messages/<sms_id>/status");
            return;
        }
        snprintf(id, sizeof id, "%.*s", (int)(slash - rest), rest);
        cJSON *b = es_control_body(req);
        if (!b) return;
        long long code;
        if (es_json_int(b, "status_code", &code)) {
            cJSON_Delete(b);
            es_control_error(req, 400, "status_code: an SMS.ru status code");
            return;
        }
        cJSON_Delete(b);
        es_lock();
        smsru_msg_t *m = smsru_head;
        while (m && strcmp(m->id, id)) m = m->next;
        if (m) m->status_code = (int)code;
        cJSON *o = m ? smsru_msg_json(m) : NULL;
        es_unlock();
        if (o) es_control_ok(req, o);
        else es_control_error(req, 404, "sms %s: not found", id);
    } else if (!strcmp(sub, "config")) {
        smsru_control_config(req);
    } else {
        es_control_error(req, 404, "unknown control route /control/sms/%s", sub);
    }
}

void smsru_free(void)
{
    smsru_clear_messages();
    cJSON_Delete(smsru_senders);
    cJSON_Delete(smsru_codes);
    smsru_senders = smsru_codes = NULL;
}

void smsru_reset(void)
{
    smsru_free();
    smsru_seq = 0;
    smsru_balance = 1000.0;
    smsru_price = 0;
    smsru_delivery = 103;
}
