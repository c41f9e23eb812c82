/* oe_util.c — helpers of the orders end-to-end tests (see oe_util.h).
 *
 * Exports: the oe_* functions. Threads: see the header.
 */
#include "oe_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "e2e_harness.h"
#include "lo_sign.h"

int oe_init(const char *name)
{
    if (sodium_init() < 0) {
        printf("# sodium_init failed\n");
        return -1;
    }
    int rc = e2e_init(name, E2E_POLLING);
    e2e_p7_setenv("PLUS7_LOGISTICS_SECRET", OE_SECRET);
    e2e_p7_setenv("PLUS7_LOG_LEVEL", "info");
    return rc;
}

void oe_sign(const char *key, const char *body, size_t len, char *out)
{
    lo_sign(key, body, len, out);   /* the scheme plus7d signs its outbound events with */
}

typedef struct oe_sink {
    char *p;
    size_t n;
} oe_sink_t;

static size_t oe_write(char *data, size_t size, size_t nmemb, void *arg)
{
    oe_sink_t *s = arg;
    size_t add = size * nmemb;
    char *q = realloc(s->p, s->n + add + 1);
    if (!q) return 0;
    memcpy(q + s->n, data, add);
    s->n += add;
    q[s->n] = '\0';
    s->p = q;
    return add;
}

oe_resp_t oe_post(const char *signature, const char *body)
{
    oe_resp_t r = {0};
    char url[256], hdr[128];
    snprintf(url, sizeof url, "%s/api/logistics/events", e2e_p7_base());
    CURL *h = curl_easy_init();
    if (!h) return r;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (signature) {
        snprintf(hdr, sizeof hdr, "X-Plus7-Signature: %s", signature);
        hdrs = curl_slist_append(hdrs, hdr);
    }
    oe_sink_t sink = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, oe_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    r.body = sink.p ? sink.p : strdup("");
    r.json = r.body ? cJSON_Parse(r.body) : NULL;
    return r;
}

oe_resp_t oe_post_signed(const char *body)
{
    char sig[80];
    oe_sign(OE_SECRET, body, strlen(body), sig);
    return oe_post(sig, body);
}

void oe_resp_free(oe_resp_t *r)
{
    cJSON_Delete(r->json);
    free(r->body);
    r->json = NULL;
    r->body = NULL;
}

const char *oe_rfc3339(int64_t t)
{
    static char bufs[16][32];
    static unsigned next;
    char *b = bufs[next++ % 16];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(b, sizeof bufs[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

static void oe_batch_put(oe_batch_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) cap *= 2;
        char *q = realloc(b->buf, cap);
        if (!q) abort();   /* a test helper: out of memory ends the test */
        b->buf = q;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

void oe_batch_init(oe_batch_t *b)
{
    memset(b, 0, sizeof *b);
    oe_batch_put(b, "{\"events\":[");
}

void oe_batch_add(oe_batch_t *b, const char *id, const char *posting, const char *status, int64_t at_s,
                  const char *pickup, const char *comment)
{
    char ev[1024];
    int n = snprintf(ev, sizeof ev, "%s{\"id\":\"%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\"",
                     b->n ? "," : "", id, posting, status, oe_rfc3339(at_s));
    if (pickup && n > 0 && (size_t)n < sizeof ev)
        n += snprintf(ev + n, sizeof ev - (size_t)n, ",\"pickup_point\":\"%s\"", pickup);
    if (comment && n > 0 && (size_t)n < sizeof ev)
        n += snprintf(ev + n, sizeof ev - (size_t)n, ",\"comment\":\"%s\"", comment);
    if (n > 0 && (size_t)n < sizeof ev - 2) snprintf(ev + n, sizeof ev - (size_t)n, "}");
    oe_batch_put(b, ev);
    b->n++;
}

const char *oe_batch_finish(oe_batch_t *b)
{
    oe_batch_put(b, "]}");
    return b->buf;
}

void oe_batch_free(oe_batch_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

bool oe_processed_until(double timeout_s, const char *prefix)
{
    char like[128];
    snprintf(like, sizeof like, "%s%%", prefix);
    return e2e_sql_until(timeout_s, "0",
                         "SELECT count(*) FROM logistics_inbox WHERE event_id LIKE $1 AND processed_at IS NULL",
                         like, NULL);
}

const char *oe_fmt1(text_id_t id, const char *arg)
{
    static char buf[4][4096];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], text_get(id), arg);
    return b;
}
