/* yookassa.c — the emulated YooKassa API v3 and its control routes.
 *
 * API (under /yookassa/v3, HTTP Basic shopId:secret, JSON; shapes of
 * docs/reference C.1):
 *   POST /payments          needs Idempotence-Key; a repeat with the same key
 *                           answers the payment created first (also after
 *                           the injected "created, then 500"); creates a
 *                           pending payment with confirmation {type qr,
 *                           confirmation_data "https://qr.nspk.ru/AD…"}
 *   GET  /payments/{id}     the payment; 404 not_found
 *   POST /refunds           needs Idempotence-Key; {payment_id, amount}; the
 *                           payment must be succeeded with enough left; a
 *                           payment id ending in "_test" that extsim does not
 *                           know is a Telegram test payment (any amount)
 * Errors are {"type":"error","id","code","description","parameter"}.
 *
 * Control routes (sub = path after /control/yookassa/):
 *   GET  payments | refunds               what exists
 *   POST payments/<id>/succeed {"notify":true,"notify_times":1}
 *   POST payments/<id>/cancel  {"notify":true}
 *        change the status and POST the notification to notify_url (the
 *        answer lists the HTTP statuses the service gave)
 *   POST notify {"payment_id","event","status"?}   a notification only (a
 *        forged one when the status differs from the real one)
 *   GET|POST config {"notify_url","create_then_500":n,"shop_id","secret"}
 *
 * Exports: yookassa_service, yookassa_control, yookassa_config,
 * yookassa_reset, yookassa_free.
 * Threads: civetweb workers; state under es_lock; the notification POST is
 * made without the lock.
 */
#include "yookassa.h"

#include "es_control.h"
#include "es_json.h"
#include "es_state.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct yk_pay {
    char id[40];
    char status[24];
    long long amount, refunded;
    char *json_extra;          /* description, metadata, receipt as sent (JSON text) */
    char qr[160];
    int64_t created_ms;
    struct yk_pay *next;
} yk_pay_t;

typedef struct yk_idem {
    char key[80];
    char path[16];
    int status;
    char *body;
    struct yk_idem *next;
} yk_idem_t;

typedef struct yk_refund {
    char id[40];
    char payment_id[64];
    long long amount;
    struct yk_refund *next;
} yk_refund_t;

static yk_pay_t *yk_pays;
static yk_idem_t *yk_idems;
static yk_refund_t *yk_refunds;
static char yk_notify_url[256];
static int yk_create_then_500;
static char yk_shop[64] = "100500", yk_secret[128] = "test_extsim_secret";
static unsigned long long yk_seq;
/* the command line's settings, restored by a reset */
static char yk_start_shop[64] = "100500", yk_start_secret[128] = "test_extsim_secret", yk_start_url[256];
static char yk_pay_page[160];   /* "http://host:port": confirmation links lead to extsim's own pay page */

void yookassa_pay_page(const char *base)
{
    snprintf(yk_pay_page, sizeof yk_pay_page, "%s", base ? base : "");
}

void yookassa_config(const char *shop_id, const char *secret, const char *notify_url)
{
    if (shop_id) snprintf(yk_start_shop, sizeof yk_start_shop, "%s", shop_id);
    if (secret) snprintf(yk_start_secret, sizeof yk_start_secret, "%s", secret);
    if (notify_url) snprintf(yk_start_url, sizeof yk_start_url, "%s", notify_url);
}

void yookassa_reset(void)
{
    yookassa_free();
    yk_create_then_500 = 0;
    snprintf(yk_notify_url, sizeof yk_notify_url, "%s", yk_start_url);
    snprintf(yk_shop, sizeof yk_shop, "%s", yk_start_shop);
    snprintf(yk_secret, sizeof yk_secret, "%s", yk_start_secret);
}

void yookassa_free(void)
{
    while (yk_pays) { yk_pay_t *p = yk_pays; yk_pays = p->next; free(p->json_extra); free(p); }
    while (yk_idems) { yk_idem_t *i = yk_idems; yk_idems = i->next; free(i->body); free(i); }
    while (yk_refunds) { yk_refund_t *r = yk_refunds; yk_refunds = r->next; free(r); }
}

static int yk_owns(const char *path) { return strncmp(path, "/yookassa/", 10) == 0; }

static void yk_uuid(char out[40])
{
    unsigned long long n = ++yk_seq;
    snprintf(out, 40, "%08llx-000f-5000-8000-%012llx", (unsigned long long)(es_now_ms() / 1000) & 0xffffffffULL,
             n * 7919ULL + 0x1266ULL);
}

static void yk_fmt(long long kop, char out[32]) { snprintf(out, 32, "%lld.%02lld", kop / 100, kop % 100); }

/* "350.00" -> kopecks; -1 when malformed. */
static long long yk_parse_amount(const cJSON *amount)
{
    const char *v = es_json_str(amount, "value"), *cur = es_json_str(amount, "currency");
    if (!v || !cur || strcmp(cur, "RUB") != 0) return -1;
    long long rub = 0, frac = 0;
    int n = 0, f = -1;
    for (const char *p = v; *p; p++) {
        if (*p == '.' && f < 0) { f = 0; continue; }
        if (*p < '0' || *p > '9') return -1;
        if (f >= 0) { if (++f > 2) return -1; frac = frac * 10 + (*p - '0'); }
        else if (++n > 12) return -1;
        else rub = rub * 10 + (*p - '0');
    }
    if (n == 0 || f == 0) return -1;
    if (f == 1) frac *= 10;
    return rub * 100 + frac;
}

/* An answer built under es_lock and written after it is released. */
typedef struct yk_ans {
    int status;
    char *body;
} yk_ans_t;

static yk_ans_t yk_err(int status, const char *code, const char *desc, const char *param)
{
    char id[40];
    yk_uuid(id);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", "error");
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "description", desc);
    if (param) cJSON_AddStringToObject(e, "parameter", param);
    return (yk_ans_t){status, es_json_print_owned(e)};
}

static void yk_send(es_req_t *req, yk_ans_t a)
{
    es_reply(req, a.status, "application/json; charset=utf-8", a.body ? a.body : "", a.body ? strlen(a.body) : 0, NULL);
    free(a.body);
}

static void yk_error(es_req_t *req, int status, const char *code, const char *desc, const char *param)
{
    yk_send(req, yk_err(status, code, desc, param));
}

static char *yk_fault_body(int status, const char **ctype)
{
    *ctype = "application/json; charset=utf-8";
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", "error");
    cJSON_AddStringToObject(e, "id", "00000000-0000-0000-0000-000000000000");
    cJSON_AddStringToObject(e, "code", status == 429 ? "too_many_requests" : "internal_server_error");
    cJSON_AddStringToObject(e, "description", status >= 500 ? "Internal server error, result unknown" : "Error");
    return es_json_print_owned(e);
}

static bool yk_auth_ok(const es_req_t *req)
{
    const char *h = es_header(req, "Authorization");
    if (!h || strncmp(h, "Basic ", 6) != 0) return false;
    unsigned char buf[256];
    int n = es_base64_decode(h + 6, buf, sizeof buf - 1);
    if (n <= 0) return false;
    buf[n] = '\0';
    char want[256];
    snprintf(want, sizeof want, "%s:%s", yk_shop, yk_secret);
    return strcmp((const char *)buf, want) == 0;
}

static yk_pay_t *yk_find(const char *id)
{
    for (yk_pay_t *p = yk_pays; p; p = p->next)
        if (!strcmp(p->id, id)) return p;
    return NULL;
}

static cJSON *yk_pay_json(const yk_pay_t *p)
{
    cJSON *o = p->json_extra ? cJSON_Parse(p->json_extra) : NULL;
    if (!o) o = cJSON_CreateObject();
    char v[32], at[32];
    yk_fmt(p->amount, v);
    es_iso_time(p->created_ms, at);
    es_json_set_str(o, "id", p->id);
    es_json_set_str(o, "status", p->status);
    es_json_replace(o, "paid", cJSON_CreateBool(!strcmp(p->status, "succeeded")));
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "value", v);
    cJSON_AddStringToObject(a, "currency", "RUB");
    es_json_replace(o, "amount", a);
    if (!strcmp(p->status, "pending")) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", "qr");
        cJSON_AddStringToObject(c, "confirmation_data", p->qr);
        es_json_replace(o, "confirmation", c);
    } else {
        cJSON_DeleteItemFromObject(o, "confirmation");
    }
    if (p->refunded) {
        yk_fmt(p->refunded, v);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "value", v);
        cJSON_AddStringToObject(r, "currency", "RUB");
        es_json_replace(o, "refunded_amount", r);
    }
    es_json_set_str(o, "created_at", at);
    es_json_replace(o, "refundable", cJSON_CreateBool(!strcmp(p->status, "succeeded")));
    es_json_replace(o, "test", cJSON_CreateBool(1));
    return o;
}

/* Idempotence: the stored answer of (path, key), or NULL. */
static yk_idem_t *yk_idem_find(const char *path, const char *key)
{
    for (yk_idem_t *i = yk_idems; i; i = i->next)
        if (!strcmp(i->key, key) && !strcmp(i->path, path)) return i;
    return NULL;
}

static void yk_idem_store(const char *path, const char *key, int status, const char *body)
{
    yk_idem_t *i = calloc(1, sizeof *i);
    if (!i) return;
    snprintf(i->key, sizeof i->key, "%s", key);
    snprintf(i->path, sizeof i->path, "%s", path);
    i->status = status;
    i->body = strdup(body);
    i->next = yk_idems;
    yk_idems = i;
}

static yk_ans_t yk_create(const es_req_t *req, const char *key)
{
    cJSON *in = cJSON_ParseWithLength(req->body, req->body_len);
    long long amount = yk_parse_amount(cJSON_GetObjectItemCaseSensitive(in, "amount"));
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(in, "confirmation");
    if (amount <= 0) { cJSON_Delete(in); return yk_err(400, "invalid_request", "Invalid amount", "amount.value"); }
    if (!es_json_str(conf, "type")) {
        cJSON_Delete(in);
        return yk_err(400, "invalid_request", "Confirmation is required", "confirmation.type");
    }
    yk_pay_t *p = calloc(1, sizeof *p);
    if (!p) { cJSON_Delete(in); return yk_err(500, "internal_server_error", "out of memory", NULL); }
    yk_uuid(p->id);
    snprintf(p->status, sizeof p->status, "pending");
    p->amount = amount;
    p->created_ms = es_now_ms();
    if (yk_pay_page[0])   /* the demo: a page where a person "pays" */
        snprintf(p->qr, sizeof p->qr, "%s/yookassa/pay/%s", yk_pay_page, p->id);
    else
        snprintf(p->qr, sizeof p->qr, "https://qr.nspk.ru/AD10%028llX?type=02&bank=100000000111&sum=%lld&cur=RUB&crc=%04llX",
                 yk_seq * 104729ULL, amount, (yk_seq * 31ULL) & 0xFFFF);
    cJSON *extra = cJSON_CreateObject();
    const char *keep[] = {"description", "metadata", "receipt", "payment_method_data"};
    for (size_t k = 0; k < 4; k++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keep[k]);
        if (v) cJSON_AddItemToObject(extra, k == 3 ? "payment_method" : keep[k], cJSON_Duplicate(v, 1));
    }
    p->json_extra = es_json_print_owned(extra);
    cJSON_Delete(in);
    p->next = yk_pays;
    yk_pays = p;
    char *body = es_json_print_owned(yk_pay_json(p));
    int status = 200;
    yk_idem_store("payments", key, status, body);   /* a repeat with this key gets the payment */
    if (yk_create_then_500 > 0) {      /* the payment exists, this answer says "result unknown" */
        yk_create_then_500--;
        free(body);
        body = yk_fault_body(500, &(const char *){NULL});
        status = 500;
    }
    ES_LOG_INFO("yookassa_payment", "id=%s amount=%lld status=%d", p->id, amount, status);
    return (yk_ans_t){status, body};
}

static yk_ans_t yk_refund(const es_req_t *req, const char *key)
{
    cJSON *in = cJSON_ParseWithLength(req->body, req->body_len);
    const char *pid = es_json_str(in, "payment_id");
    long long amount = yk_parse_amount(cJSON_GetObjectItemCaseSensitive(in, "amount"));
    yk_pay_t *p = pid ? yk_find(pid) : NULL;
    size_t pl = pid ? strlen(pid) : 0;
    bool telegram = !p && pl > 5 && pl < 60 && !strcmp(pid + pl - 5, "_test");
    if (!pid || (!p && !telegram)) {
        cJSON_Delete(in);
        return yk_err(400, "invalid_request", "Payment not found", "payment_id");
    }
    if (amount <= 0 || (p && (strcmp(p->status, "succeeded") != 0 || amount > p->amount - p->refunded))) {
        cJSON_Delete(in);
        return yk_err(400, "invalid_request", "Refund amount is not available", "amount.value");
    }
    yk_refund_t *r = calloc(1, sizeof *r);
    if (!r) { cJSON_Delete(in); return yk_err(500, "internal_server_error", "out of memory", NULL); }
    yk_uuid(r->id);
    snprintf(r->payment_id, sizeof r->payment_id, "%s", pid);
    r->amount = amount;
    r->next = yk_refunds;
    yk_refunds = r;
    if (p) p->refunded += amount;
    cJSON_Delete(in);
    char v[32], at[32];
    yk_fmt(amount, v);
    es_iso_time(es_now_ms(), at);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "payment_id", r->payment_id);
    cJSON_AddStringToObject(o, "status", "succeeded");
    cJSON *a = cJSON_AddObjectToObject(o, "amount");
    cJSON_AddStringToObject(a, "value", v);
    cJSON_AddStringToObject(a, "currency", "RUB");
    cJSON_AddStringToObject(o, "created_at", at);
    char *body = es_json_print_owned(o);
    yk_idem_store("refunds", key, 200, body);
    ES_LOG_INFO("yookassa_refund", "id=%s payment=%s amount=%lld", r->id, r->payment_id, amount);
    return (yk_ans_t){200, body};
}

static void yk_pay_page_handle(es_req_t *req, const char *id);

static void yk_handle(es_req_t *req)
{
    const char *sub = req->path + 10;   /* after "/yookassa/" */
    if (!strncmp(sub, "pay/", 4) && strlen(sub + 4) < 40) { yk_pay_page_handle(req, sub + 4); return; }
    if (strncmp(sub, "v3/", 3) != 0) { yk_error(req, 404, "not_found", "Unknown path", NULL); return; }
    sub += 3;
    es_lock();
    if (!yk_auth_ok(req)) {
        es_unlock();
        yk_error(req, 401, "invalid_credentials", "Login or password is wrong", NULL);
        return;
    }
    bool post = !strcmp(req->method, "POST");
    if (post && (!strcmp(sub, "payments") || !strcmp(sub, "refunds"))) {
        const char *key = es_header(req, "Idempotence-Key");
        if (!key || !*key || strlen(key) > 64) {
            es_unlock();
            yk_error(req, 400, "invalid_request", "Idempotence key is required", "Idempotence-Key");
            return;
        }
        yk_idem_t *i = yk_idem_find(sub, key);
        if (i) {
            char *body = strdup(i->body);
            int status = i->status;
            es_unlock();
            es_reply(req, status, "application/json; charset=utf-8", body ? body : "", body ? strlen(body) : 0, NULL);
            free(body);
            return;
        }
        yk_ans_t a = !strcmp(sub, "payments") ? yk_create(req, key) : yk_refund(req, key);
        es_unlock();
        yk_send(req, a);
        return;
    }
    if (!strcmp(req->method, "GET") && !strncmp(sub, "payments/", 9)) {
        yk_pay_t *p = yk_find(sub + 9);
        cJSON *o = p ? yk_pay_json(p) : NULL;
        es_unlock();
        if (o) es_reply_json(req, 200, o);
        else yk_error(req, 404, "not_found", "Payment not found", "payment_id");
        return;
    }
    es_unlock();
    yk_error(req, 405, "invalid_request", "Method not allowed", NULL);
}

const es_service_t yookassa_service = {
    .name = "yookassa",
    .owns = yk_owns,
    .handle = yk_handle,
    .fault_body = yk_fault_body,
};

/* ---- notifications ------------------------------------------------------------- */

/* POST `body` to the configured http:// notify URL (blocking, loopback);
 * returns the HTTP status or 0 when it could not be sent. */
static int yk_post(const char *url, const char *body)
{
    char host[128], port[8] = "80", path[256] = "/";
    if (strncmp(url, "http://", 7) != 0) return 0;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl >= sizeof host) return 0;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (slash) snprintf(path, sizeof path, "%s", slash);
    char *colon = strrchr(host, ':');
    if (colon) { snprintf(port, sizeof port, "%s", colon + 1); *colon = '\0'; }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) return 0;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), status = 0;
    struct timeval tv = {10, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        size_t bl = strlen(body);
        char *req = malloc(bl + 512);
        if (req) {
            int n = snprintf(req, bl + 512, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                                            "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                             path, host, port, bl, body);
            if (n > 0 && write(fd, req, (size_t)n) == n) {
                char resp[64] = "";
                ssize_t got = read(fd, resp, sizeof resp - 1);
                if (got > 12 && sscanf(resp, "HTTP/1.%*d %d", &status) != 1) status = 0;
            }
            free(req);
        }
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return status;
}

static cJSON *yk_notification(const yk_pay_t *p, const char *event, const char *forged_status)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "notification");
    cJSON_AddStringToObject(o, "event", event);
    cJSON *obj = yk_pay_json(p);
    if (forged_status) {
        es_json_set_str(obj, "status", forged_status);
        es_json_replace(obj, "paid", cJSON_CreateBool(!strcmp(forged_status, "succeeded")));
    }
    cJSON_AddItemToObject(o, "object", obj);
    return o;
}

/* Send `times` copies of the notification; statuses into `out`. */
static void yk_send_notes(const char *url, const char *body, int times, cJSON *out)
{
    for (int i = 0; i < times; i++) cJSON_AddItemToArray(out, cJSON_CreateNumber(yk_post(url, body)));
}

/* Settle pending payment `id` ("succeed" or "cancel") and POST the
 * notification `times` times when `notify`. Returns 0 with the payment in
 * *out (statuses of the POSTs in out.notified), 404 / 409 otherwise. */
static int yk_settle(const char *id, const char *action, int notify, int times, cJSON **out)
{
    es_lock();
    yk_pay_t *p = yk_find(id);
    if (!p || strcmp(p->status, "pending") != 0) {
        es_unlock();
        return p ? 409 : 404;
    }
    bool ok = !strcmp(action, "succeed");
    snprintf(p->status, sizeof p->status, "%s", ok ? "succeeded" : "canceled");
    char url[256];
    snprintf(url, sizeof url, "%s", yk_notify_url);
    char *body = es_json_print_owned(yk_notification(p, ok ? "payment.succeeded" : "payment.canceled", NULL));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "payment", yk_pay_json(p));
    es_unlock();
    cJSON *st = cJSON_AddArrayToObject(o, "notified");
    if (notify && url[0] && body) yk_send_notes(url, body, times < 1 ? 1 : times > 10 ? 10 : times, st);
    free(body);
    *out = o;
    return 0;
}

static void yk_control_change(es_req_t *req, const char *id, const char *action)
{
    cJSON *in = es_control_body(req);
    if (!in) return;
    int notify = es_json_bool(in, "notify", 1);
    long long times = 1;
    es_json_int(in, "notify_times", &times);
    cJSON_Delete(in);
    cJSON *o = NULL;
    int rc = yk_settle(id, action, notify, (int)times, &o);
    if (rc) es_control_error(req, rc, rc == 404 ? "payment %s not found" : "payment %s is not pending", id);
    else es_control_ok(req, o);
}

/* The demo's pay page: GET shows the amount and a button, POST pays. */
static void yk_pay_page_handle(es_req_t *req, const char *id)
{
    if (!strcmp(req->method, "POST")) {
        cJSON *o = NULL;
        int rc = yk_settle(id, "succeed", 1, 1, &o);
        cJSON_Delete(o);
        es_reply(req, 200, "text/html; charset=utf-8", rc ? "<p>Платёж уже завершён.</p>" : "<p>Оплачено ✅</p>",
                 strlen(rc ? "<p>Платёж уже завершён.</p>" : "<p>Оплачено ✅</p>"), NULL);
        return;
    }
    es_lock();
    yk_pay_t *p = yk_find(id);
    char v[32] = "";
    if (p) yk_fmt(p->amount, v);
    bool pending = p && !strcmp(p->status, "pending");
    es_unlock();
    char html[1024];
    int n = snprintf(html, sizeof html,
                     "<!doctype html><meta charset=utf-8><title>СБП (эмулятор)</title>"
                     "<h1>Оплата через СБП (эмулятор YooKassa)</h1><p>Сумма: %s ₽</p>%s",
                     p ? v : "—", pending ? "<form method=post><button>Оплатить</button></form>"
                                          : "<p>Платёж не ожидает оплаты.</p>");
    es_reply(req, p ? 200 : 404, "text/html; charset=utf-8", html, (size_t)n, NULL);
}

static void yk_control_notify(es_req_t *req)
{
    cJSON *in = es_control_body(req);
    if (!in) return;
    const char *pid = es_json_str(in, "payment_id"), *event = es_json_str(in, "event");
    const char *status = es_json_str(in, "status");
    es_lock();
    yk_pay_t *p = pid ? yk_find(pid) : NULL;
    yk_pay_t ghost = {0};
    if (!p && pid) {   /* a payment extsim never made: still a well-formed notification */
        snprintf(ghost.id, sizeof ghost.id, "%.39s", pid);
        snprintf(ghost.status, sizeof ghost.status, "succeeded");
        ghost.amount = 100;
        p = &ghost;
    }
    char *body = p ? es_json_print_owned(yk_notification(p, event ? event : "payment.succeeded", status)) : NULL;
    char url[256];
    snprintf(url, sizeof url, "%s", yk_notify_url);
    es_unlock();
    cJSON_Delete(in);
    if (!body) { es_control_error(req, 400, "payment_id is required"); return; }
    cJSON *o = cJSON_CreateObject();
    yk_send_notes(url, body, 1, cJSON_AddArrayToObject(o, "notified"));
    free(body);
    es_control_ok(req, o);
}

void yookassa_control(es_req_t *req, const char *sub)
{
    bool get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
    if (!strcmp(sub, "payments") && get) {
        es_lock();
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "payments");
        for (yk_pay_t *p = yk_pays; p; p = p->next) cJSON_AddItemToArray(a, yk_pay_json(p));
        es_unlock();
        es_control_ok(req, o);
    } else if (!strcmp(sub, "refunds") && get) {
        es_lock();
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "refunds");
        for (yk_refund_t *r = yk_refunds; r; r = r->next) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", r->id);
            cJSON_AddStringToObject(e, "payment_id", r->payment_id);
            cJSON_AddNumberToObject(e, "amount_kop", (double)r->amount);
            cJSON_AddItemToArray(a, e);
        }
        es_unlock();
        es_control_ok(req, o);
    } else if (!strncmp(sub, "payments/", 9) && post) {
        char id[64];
        const char *rest = sub + 9, *slash = strchr(rest, '/');
        if (!slash || (size_t)(slash - rest) >= sizeof id) { es_control_error(req, 404, "unknown route"); return; }
        snprintf(id, sizeof id, "%.*s", (int)(slash - rest), rest);
        if (!strcmp(slash + 1, "succeed") || !strcmp(slash + 1, "cancel")) yk_control_change(req, id, slash + 1);
        else es_control_error(req, 404, "unknown action %s", slash + 1);
    } else if (!strcmp(sub, "notify") && post) {
        yk_control_notify(req);
    } else if (!strcmp(sub, "config") && (get || post)) {
        cJSON *in = post ? es_control_body(req) : cJSON_CreateObject();
        if (!in) return;
        es_lock();
        const char *s;
        long long n;
        if ((s = es_json_str(in, "notify_url"))) snprintf(yk_notify_url, sizeof yk_notify_url, "%s", s);
        if ((s = es_json_str(in, "shop_id"))) snprintf(yk_shop, sizeof yk_shop, "%s", s);
        if ((s = es_json_str(in, "secret"))) snprintf(yk_secret, sizeof yk_secret, "%s", s);
        if (es_json_int(in, "create_then_500", &n) == 0) yk_create_then_500 = (int)n;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "notify_url", yk_notify_url);
        cJSON_AddStringToObject(o, "shop_id", yk_shop);
        cJSON_AddNumberToObject(o, "create_then_500", yk_create_then_500);
        es_unlock();
        cJSON_Delete(in);
        es_control_ok(req, o);
    } else {
        es_control_error(req, 404, "unknown control route %s %s", req->method, req->path);
    }
}
