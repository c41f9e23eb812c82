/* smsru.c — the SMS.ru protocol (see smsru.h).
 * Exports: smsru_form, smsru_parse, smsru_code_transient, smsru_code_text,
 * smsru_parts, smsru_backoff_ms. Threads: any.
 */
#include "smsru.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

typedef struct sr_buf {
    char *p;
    size_t len, cap;
    bool oom;
} sr_buf_t;

static void sr_put(sr_buf_t *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->oom = true; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Append s percent-encoded for a form body (unreserved bytes as they are). */
static void sr_put_enc(sr_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~') {
            sr_put(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sr_put(b, e, 3);
        }
    }
}

/* The digits of an E.164 number into out (no '+'). */
static void sr_digits(const char *phone, char *out, size_t cap)
{
    size_t j = 0;
    for (const char *p = phone ? phone : ""; *p && j + 1 < cap; p++)
        if (*p >= '0' && *p <= '9') out[j++] = *p;
    out[j] = '\0';
}

char *smsru_form(const char *api_id, const char *phone_e164, const char *msg, const char *sender)
{
    char to[24];
    sr_digits(phone_e164, to, sizeof to);
    if (!to[0]) return NULL;
    sr_buf_t b = {0};
    sr_put(&b, "api_id=", 7);
    sr_put_enc(&b, api_id);
    sr_put(&b, "&to=", 4);
    sr_put(&b, to, strlen(to));
    sr_put(&b, "&msg=", 5);
    sr_put_enc(&b, msg);
    sr_put(&b, "&json=1", 7);
    if (sender && *sender) {
        sr_put(&b, "&from=", 6);
        sr_put_enc(&b, sender);
    }
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}

bool smsru_code_transient(int code) { return code == 220; }

const char *smsru_code_text(int code)
{
    switch (code) {
    case 100: return "accepted";
    case 101: return "passing to the operator";
    case 102: return "sent";
    case 103: return "delivered";
    case 104: return "TTL expired";
    case 105: return "deleted by the operator";
    case 106: return "phone failure";
    case 107: return "unknown reason";
    case 108: return "rejected";
    case 150: return "no route to this number";
    case 200: return "bad api_id";
    case 201: return "insufficient funds";
    case 202: return "bad recipient";
    case 203: return "no text";
    case 204: return "sender name not approved";
    case 205: return "message longer than 8 SMS";
    case 206: return "daily limit reached";
    case 207: return "cannot send to this number";
    case 208: return "bad time";
    case 209: return "number in the stop-list";
    case 210: return "GET used where POST is required";
    case 211: return "method not found";
    case 220: return "service temporarily unavailable";
    default: return "";
    }
}

/* Decide by an SMS.ru code, with the reply's status_text when given. */
static void sr_by_code(int code, const char *status_text, smsru_result_t *out)
{
    out->code = code;
    if (code >= 100 && code <= 103) out->outcome = SMSRU_SENT;
    else if (smsru_code_transient(code) || code == 0) out->outcome = SMSRU_RETRY;
    else out->outcome = SMSRU_FAILED;
    const char *desc = status_text && *status_text ? status_text : smsru_code_text(code);
    snprintf(out->text, sizeof out->text, "smsru %d%s%s", code, *desc ? ": " : "", desc);
}

static int sr_code(const cJSON *o)
{
    const cJSON *c = cJSON_GetObjectItem(o, "status_code");
    if (cJSON_IsNumber(c)) return c->valueint;
    if (cJSON_IsString(c)) return atoi(c->valuestring);
    return 0;
}

static const char *sr_str(const cJSON *o, const char *name)
{
    const cJSON *s = cJSON_GetObjectItem(o, name);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

void smsru_parse(bool got_response, const char *transport_error, long http_status, const char *body, size_t len,
                 const char *phone_e164, smsru_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (!got_response) {
        out->outcome = SMSRU_RETRY;
        snprintf(out->text, sizeof out->text, "network: %s", transport_error ? transport_error : "no answer");
        return;
    }
    if (http_status != 200) {
        out->code = (int)-http_status;
        out->outcome = (http_status >= 500 || http_status == 408 || http_status == 429) ? SMSRU_RETRY : SMSRU_FAILED;
        snprintf(out->text, sizeof out->text, "smsru HTTP %ld", http_status);
        return;
    }
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        out->outcome = SMSRU_RETRY;
        snprintf(out->text, sizeof out->text, "smsru: unreadable reply");
        return;
    }
    const char *status = sr_str(j, "status");
    if (!status || strcmp(status, "OK") != 0) {
        sr_by_code(sr_code(j), sr_str(j, "status_text"), out);
        cJSON_Delete(j);
        return;
    }
    char digits[24];
    sr_digits(phone_e164, digits, sizeof digits);
    const cJSON *sms = cJSON_GetObjectItem(j, "sms");
    const cJSON *mine = cJSON_GetObjectItem(sms, digits);
    if (!mine && cJSON_GetArraySize(sms) == 1) mine = cJSON_GetArrayItem(sms, 0);   /* one number asked */
    if (!cJSON_IsObject(mine)) {
        /* accepted as a whole without a per-number entry: it is on its way */
        sr_by_code(sr_code(j) ? sr_code(j) : 100, NULL, out);
        cJSON_Delete(j);
        return;
    }
    sr_by_code(sr_code(mine), sr_str(mine, "status_text"), out);
    const char *id = sr_str(mine, "sms_id");
    if (out->outcome == SMSRU_SENT && id) snprintf(out->sms_id, sizeof out->sms_id, "%s", id);
    cJSON_Delete(j);
}

int smsru_parts(const char *utf8)
{
    size_t units = 0;
    bool gsm = true;
    for (const unsigned char *p = (const unsigned char *)(utf8 ? utf8 : ""); *p;) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
        if (c < 0x80) {
            units += strchr("^{}\\[~]|", (int)c) ? 2 : 1;   /* GSM-7 extension characters take two */
        } else {
            gsm = false;
            units += n == 4 ? 2 : 1;   /* UTF-16 units: astral characters (emoji) take two */
        }
        for (size_t i = 0; i < n && *p; i++) p++;
    }
    if (units == 0) return 0;
    if (gsm) return units <= 160 ? 1 : (int)((units + 152) / 153);
    /* UCS-2: count characters, not GSM units (extension characters are one unit there) */
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)utf8; *p;) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
        chars += n == 4 ? 2 : 1;
        for (size_t i = 0; i < n && *p; i++) p++;
    }
    return chars <= 70 ? 1 : (int)((chars + 66) / 67);
}

uint32_t smsru_backoff_ms(int attempts)
{
    if (attempts < 1) attempts = 1;
    uint32_t ms = 1000u << (attempts - 1 < 9 ? attempts - 1 : 9);
    return ms > 300000u ? 300000u : ms;
}
