/* tgsim_webhook.c — webhook delivery threads.
 *
 * Design: while a webhook is set, up to max_connections worker threads post
 * pending updates to its URL with the X-Telegram-Bot-Api-Secret-Token
 * header. A worker picks the oldest update whose ordering key (its chat) has
 * no older update still pending — so one chat's updates arrive strictly in
 * order, each only after the previous one got a 2xx — while different chats
 * are posted concurrently. A non-2xx answer or a connection error keeps the
 * update queued with an exponential back-off (cfg.webhook_retry_ms doubling
 * up to cfg.webhook_retry_max_ms) and records last_error_date/message for
 * getWebhookInfo. A 2xx answer whose JSON body carries {"method":...} is
 * executed as a Bot API call, as the real server does.
 *
 * Threads are created on demand (tgsim_webhook_ensure_threads, from
 * setWebhook) and live until shutdown; worker k works only while
 * k < max_connections. Each worker owns one curl easy handle.
 *
 * Exports: tgsim_webhook_ensure_threads, tgsim_webhook_join.
 * Threads: the workers; ensure from a Bot API handler (lock held); join from
 * main.
 */
#include "tgsim.h"
#include "tgsim_log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

typedef struct {
    tgsim_world_t *w;
    int index;
} tgsim_wh_arg_t;

/* Find the first deliverable update; *next_at gets the earliest future
 * retry time among blocked-by-backoff candidates (or +inf). */
static tgsim_update_t *tgsim_wh_pick(tgsim_world_t *w, double now, double *next_at)
{
    *next_at = INFINITY;
    /* keys already seen in this scan: an older update of that key is pending */
    size_t cap = 64;
    while (cap < w->npending * 2) cap *= 2;
    int64_t *seen = tgsim_xmalloc(cap * sizeof *seen);
    unsigned char *used = tgsim_xcalloc(cap, 1);
    tgsim_update_t *pick = NULL;
    for (tgsim_update_t *u = w->uhead; u; u = u->next) {
        uint64_t h = (uint64_t)u->key * UINT64_C(0x9E3779B97F4A7C15);
        size_t s = (size_t)(h >> 32) & (cap - 1);
        int dup = 0;
        while (used[s]) {
            if (seen[s] == u->key) { dup = 1; break; }
            s = (s + 1) & (cap - 1);
        }
        if (dup) continue;
        used[s] = 1;
        seen[s] = u->key;
        if (u->in_flight) continue;
        if (u->next_attempt > now) {
            if (u->next_attempt < *next_at) *next_at = u->next_attempt;
            continue;
        }
        pick = u;
        break;
    }
    free(seen);
    free(used);
    return pick;
}

typedef struct {
    tgsim_buf_t body;
} tgsim_wh_sink_t;

static size_t tgsim_wh_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    tgsim_wh_sink_t *s = ud;
    size_t n = size * nmemb;
    if (s->body.len + n <= 1024 * 1024) tgsim_buf_put(&s->body, ptr, n);
    return n;
}

static const char *tgsim_reason(long code)
{
    switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

/* Execute {"method":"sendMessage",...} from a webhook reply. Lock NOT held. */
static void tgsim_wh_reply_method(tgsim_world_t *w, const char *token, const char *body, size_t len)
{
    cJSON *o = tgsim_json_parse(body, len);
    cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "method");
    if (cJSON_IsString(m)) {
        tgsim_params_t p = {0};
        char err[128];
        tgsim_params_parse_body(&p, "application/json", body, len, err, sizeof err);
        tgsim_resp_t r = {0};
        tgsim_api_handle(w, token, m->valuestring, &p, &r);
        TGSIM_DEBUG("webhook_reply_method", "method=%s status=%d", m->valuestring, r.status);
        tgsim_buf_free(&r.body);
        tgsim_params_free(&p);
    }
    cJSON_Delete(o);
}

static void *tgsim_wh_main(void *arg)
{
    tgsim_wh_arg_t a = *(tgsim_wh_arg_t *)arg;
    free(arg);
    tgsim_world_t *w = a.w;
    CURL *h = curl_easy_init();
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        if (!w->webhook_url || a.index >= w->webhook_max_conn) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        double now = tgsim_now_mono(), next_at;
        tgsim_update_t *u = tgsim_wh_pick(w, now, &next_at);
        if (!u) {
            tgsim_world_wait(w, isinf(next_at) ? now + 3600.0 : next_at);
            continue;
        }
        u->in_flight = 1;
        u->attempts++;
        uint64_t gen = w->webhook_gen;
        char *url = tgsim_xstrdup(w->webhook_url);
        char *secret = tgsim_xstrdup(w->webhook_secret);
        char *token = tgsim_xstrdup(w->webhook_token);
        char *json = tgsim_xstrndup(u->json, u->json_len);
        size_t json_len = u->json_len;
        int64_t uid = u->id;
        long timeout_ms = w->cfg.webhook_timeout_ms;
        pthread_mutex_unlock(&w->mu);

        struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        if (secret) {
            char hv[320];
            snprintf(hv, sizeof hv, "X-Telegram-Bot-Api-Secret-Token: %s", secret);
            hdrs = curl_slist_append(hdrs, hv);
        }
        hdrs = curl_slist_append(hdrs, "Expect:");
        tgsim_wh_sink_t sink = {0};
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)json_len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tgsim_wh_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(hdrs);
        int ok = rc == CURLE_OK && code >= 200 && code <= 299;
        if (ok && sink.body.len) tgsim_wh_reply_method(w, token, sink.body.p, sink.body.len);

        pthread_mutex_lock(&w->mu);
        u->in_flight = 0;
        if (u->orphan) {
            cJSON_free(u->json);
            free(u);
        } else if (ok) {
            tgsim_update_remove(w, u);
            w->stats.webhook_ok++;
        } else {
            char msg[256];
            /* the wording Telegram's getWebhookInfo uses for the common cases */
            if (rc == CURLE_COULDNT_CONNECT) snprintf(msg, sizeof msg, "Connection refused");
            else if (rc == CURLE_OPERATION_TIMEDOUT) snprintf(msg, sizeof msg, "Read timeout expired");
            else if (rc != CURLE_OK) snprintf(msg, sizeof msg, "%s", curl_easy_strerror(rc));
            else snprintf(msg, sizeof msg, "Wrong response from the webhook: %ld %s", code, tgsim_reason(code));
            w->stats.webhook_failed++;
            if (gen == w->webhook_gen) {
                w->last_error_date = tgsim_now_unix();
                free(w->last_error_message);
                w->last_error_message = tgsim_xstrdup(msg);
            }
            TGSIM_INFO("webhook_failed", "update_id=%lld attempt=%d error=\"%s\"", (long long)uid, u->attempts, msg);
            if (w->cfg.webhook_max_attempts > 0 && u->attempts >= w->cfg.webhook_max_attempts) {
                TGSIM_WARN("webhook_gave_up", "update_id=%lld attempts=%d", (long long)uid, u->attempts);
                tgsim_update_remove(w, u);
            } else {
                double delay = w->cfg.webhook_retry_ms * pow(2.0, u->attempts - 1);
                if (delay > w->cfg.webhook_retry_max_ms) delay = w->cfg.webhook_retry_max_ms;
                u->next_attempt = tgsim_now_mono() + delay / 1000.0;
            }
        }
        tgsim_world_touch(w, NULL);
        tgsim_buf_free(&sink.body);
        free(url); free(secret); free(token); free(json);
    }
    pthread_mutex_unlock(&w->mu);
    curl_easy_cleanup(h);
    return NULL;
}

void tgsim_webhook_ensure_threads(tgsim_world_t *w, int n)
{
    if (n > 100) n = 100;
    if ((size_t)n <= w->nwh) return;
    w->wh_threads = tgsim_xrealloc(w->wh_threads, (size_t)n * sizeof *w->wh_threads);
    while (w->nwh < (size_t)n) {
        tgsim_wh_arg_t *a = tgsim_xmalloc(sizeof *a);
        a->w = w;
        a->index = (int)w->nwh;
        if (pthread_create(&w->wh_threads[w->nwh], NULL, tgsim_wh_main, a) != 0) {
            free(a);
            TGSIM_ERROR("webhook_thread_failed", "index=%zu", w->nwh);
            break;
        }
        w->nwh++;
    }
}

void tgsim_webhook_join(tgsim_world_t *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->nwh;
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++) pthread_join(w->wh_threads[i], NULL);
}
