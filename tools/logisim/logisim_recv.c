/* logisim_recv.c — the emulated logistics system's receiving side.
 *
 * Purpose: plays the company's logistics system as plus7d's outbound
 * events reach it (DESIGN.md "Outbound logistics events"):
 *   POST /events   body {"events":[{"id","type","posting_number","at",…}]},
 *                  header X-Plus7-Signature: sha256=<hex HMAC-SHA256 of the
 *                  raw body with --secret>, checked in constant time:
 *                  401 {"error":…} when missing or wrong (nothing kept);
 *                  400 {"error":"<field>: …"} when the body or an event is
 *                  malformed (nothing kept); else every event is kept once
 *                  by id — a repeated id is counted as a duplicate, not kept
 *                  again — and the answer is 200 {"accepted":n,"duplicates":m}.
 *   GET  /control/events  {"events":[…kept, in arrival order…], "posts",
 *                  "duplicates", "bad_signature", "bad_request", "refused"}
 *   POST /control/config  {"status": S (0 = answer normally; else answer S
 *                  and keep nothing — the system "down"), "delay_ms": D
 *                  (keep the events, then wait D ms before answering)}
 *   POST /control/reset   forget everything (events, counters, config).
 * A receiver restarted from scratch forgets what it kept.
 *
 * usage: logisim --listen HOST:PORT --secret S [--status N] [--delay-ms N]
 * Prints "logisim listening on http://HOST:PORT" (the bound port when :0 was
 * asked) and serves until SIGTERM/SIGINT (exit 0); 2 on bad arguments, 1
 * when it cannot listen. With --plus7 and --db as well (./dev up), the
 * sending side runs too and sends couriers to the postings whose last
 * delivery event received here is a booking or a move.
 *
 * Exports: logisim_recv_main, logisim_recv_start, logisim_recv_couriers,
 * logisim_recv_stop. Threads: main (start, wait, stop, couriers);
 * civetweb's workers run the handlers under lr_mu.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <civetweb.h>
#include <sodium.h>

#include "logisim.h"

#define LR_BODY_MAX (4 * 1024 * 1024)

static pthread_mutex_t lr_mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *lr_events;          /* kept events, arrival order */
static cJSON *lr_ids;             /* id -> true */
static long lr_posts, lr_dups, lr_bad_sig, lr_bad_req, lr_refused;
static int lr_status, lr_delay_ms;
static const char *lr_secret;
static volatile sig_atomic_t lr_stop;

static void lr_on_signal(int sig) { (void)sig; lr_stop = 1; }

/* One write of headers and body. */
static int lr_reply(struct mg_connection *c, int status, const char *json)
{
    size_t n = strlen(json);
    char *buf = malloc(n + 256);
    if (!buf) return status;
    int h = snprintf(buf, 256, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     status, mg_get_response_code_text(c, status), n);
    memcpy(buf + h, json, n);
    mg_write(c, buf, (size_t)h + n);
    free(buf);
    return status;
}

static int lr_error(struct mg_connection *c, int status, const char *what)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", what);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = lr_reply(c, status, s ? s : "{}");
    free(s);
    return rc;
}

static char *lr_read_body(struct mg_connection *c, size_t *len)
{
    size_t cap = 4096;
    char *b = malloc(cap);
    *len = 0;
    while (b) {
        if (*len + 1 >= cap) {
            if (cap >= LR_BODY_MAX) { free(b); return NULL; }
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); return NULL; }
            b = nb;
            cap *= 2;
        }
        int n = mg_read(c, b + *len, cap - *len - 1);
        if (n <= 0) break;
        *len += (size_t)n;
    }
    if (b) b[*len] = '\0';
    return b;
}

/* Constant-time check of "sha256=<hex>" against the body's HMAC. */
static int lr_signature_ok(const char *hdr, const char *body, size_t len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    if (!hdr || strncmp(hdr, "sha256=", 7) != 0 || strlen(hdr + 7) != 2 * sizeof got) return 0;
    if (sodium_hex2bin(got, sizeof got, hdr + 7, 2 * sizeof got, NULL, NULL, NULL) != 0) return 0;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)lr_secret, strlen(lr_secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    return sodium_memcmp(mac, got, sizeof mac) == 0;
}

/* NULL when the event has the contract's fields, else what is wrong. */
static const char *lr_event_problem(const cJSON *e)
{
    static const char *const types[] = {"delivery.booked", "delivery.moved", "delivery.cancelled",
                                        "storage.extended", "return.requested", "courier.assigned", NULL};
    if (!cJSON_IsObject(e)) return "events[]: an object is required";
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "posting_number");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "at");
    if (!cJSON_IsString(id) || !id->valuestring[0]) return "id: a non-empty string is required";
    if (!cJSON_IsString(p) || !p->valuestring[0]) return "posting_number: a non-empty string is required";
    if (!cJSON_IsString(at) || strlen(at->valuestring) < 20 || at->valuestring[10] != 'T')
        return "at: an RFC 3339 time is required";
    for (int i = 0; cJSON_IsString(type) && types[i]; i++)
        if (strcmp(type->valuestring, types[i]) == 0) return NULL;
    return "type: one of delivery.booked, delivery.moved, delivery.cancelled, storage.extended, "
           "return.requested, courier.assigned is required";
}

static int lr_events_post(struct mg_connection *c)
{
    size_t len = 0;
    char *body = lr_read_body(c, &len);
    if (!body) return lr_error(c, 413, "body: too large");
    pthread_mutex_lock(&lr_mu);
    lr_posts++;
    int status = lr_status, delay = lr_delay_ms;
    pthread_mutex_unlock(&lr_mu);
    if (status) {
        pthread_mutex_lock(&lr_mu);
        lr_refused++;
        pthread_mutex_unlock(&lr_mu);
        free(body);
        return lr_error(c, status, "the logistics system is down (logisim --status)");
    }
    if (!lr_signature_ok(mg_get_header(c, "X-Plus7-Signature"), body, len)) {
        pthread_mutex_lock(&lr_mu);
        lr_bad_sig++;
        pthread_mutex_unlock(&lr_mu);
        free(body);
        return lr_error(c, 401, "X-Plus7-Signature: missing or wrong");
    }
    cJSON *j = cJSON_ParseWithLength(body, len);
    free(body);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(j, "events");
    const char *problem = !cJSON_IsArray(events) ? "events: an array is required" : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) if (!problem) problem = lr_event_problem(e);
    if (problem) {
        pthread_mutex_lock(&lr_mu);
        lr_bad_req++;
        pthread_mutex_unlock(&lr_mu);
        cJSON_Delete(j);
        return lr_error(c, 400, problem);
    }
    int accepted = 0, dups = 0;
    pthread_mutex_lock(&lr_mu);
    cJSON_ArrayForEach(e, events) {
        const char *id = cJSON_GetObjectItemCaseSensitive(e, "id")->valuestring;
        if (cJSON_GetObjectItemCaseSensitive(lr_ids, id)) {
            dups++;
            continue;
        }
        cJSON_AddTrueToObject(lr_ids, id);
        cJSON_AddItemToArray(lr_events, cJSON_Duplicate(e, 1));
        accepted++;
    }
    lr_dups += dups;
    pthread_mutex_unlock(&lr_mu);
    cJSON_Delete(j);
    if (delay > 0) usleep((useconds_t)delay * 1000u);
    char out[96];
    snprintf(out, sizeof out, "{\"accepted\":%d,\"duplicates\":%d}", accepted, dups);
    return lr_reply(c, 200, out);
}

static void lr_reset_locked(void)
{
    cJSON_Delete(lr_events);
    cJSON_Delete(lr_ids);
    lr_events = cJSON_CreateArray();
    lr_ids = cJSON_CreateObject();
    lr_posts = lr_dups = lr_bad_sig = lr_bad_req = lr_refused = 0;
}

static int lr_control(struct mg_connection *c, const struct mg_request_info *ri)
{
    if (strcmp(ri->local_uri, "/control/events") == 0 && strcmp(ri->request_method, "GET") == 0) {
        pthread_mutex_lock(&lr_mu);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "events", cJSON_Duplicate(lr_events, 1));
        cJSON_AddNumberToObject(o, "posts", (double)lr_posts);
        cJSON_AddNumberToObject(o, "duplicates", (double)lr_dups);
        cJSON_AddNumberToObject(o, "bad_signature", (double)lr_bad_sig);
        cJSON_AddNumberToObject(o, "bad_request", (double)lr_bad_req);
        cJSON_AddNumberToObject(o, "refused", (double)lr_refused);
        pthread_mutex_unlock(&lr_mu);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        int rc = lr_reply(c, 200, s ? s : "{}");
        free(s);
        return rc;
    }
    if (strcmp(ri->request_method, "POST") != 0) return lr_error(c, 404, "path: unknown");
    size_t len = 0;
    char *body = lr_read_body(c, &len);
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    free(body);
    if (strcmp(ri->local_uri, "/control/reset") == 0) {
        pthread_mutex_lock(&lr_mu);
        lr_reset_locked();
        lr_status = lr_delay_ms = 0;
        pthread_mutex_unlock(&lr_mu);
        cJSON_Delete(j);
        return lr_reply(c, 200, "{\"ok\":true}");
    }
    if (strcmp(ri->local_uri, "/control/config") == 0) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delay_ms");
        if ((st && (!cJSON_IsNumber(st) || (st->valueint != 0 && (st->valueint < 300 || st->valueint > 599)))) ||
            (d && (!cJSON_IsNumber(d) || d->valueint < 0 || d->valueint > 600000))) {
            cJSON_Delete(j);
            return lr_error(c, 400, "status: 0 or 300..599; delay_ms: 0..600000");
        }
        pthread_mutex_lock(&lr_mu);
        if (st) lr_status = st->valueint;
        if (d) lr_delay_ms = d->valueint;
        pthread_mutex_unlock(&lr_mu);
        cJSON_Delete(j);
        return lr_reply(c, 200, "{\"ok\":true}");
    }
    cJSON_Delete(j);
    return lr_error(c, 404, "path: unknown");
}

static int lr_handler(struct mg_connection *c, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strncmp(ri->local_uri, "/control/", 9) == 0) return lr_control(c, ri);
    if (strcmp(ri->local_uri, "/events") == 0 && strcmp(ri->request_method, "POST") == 0) return lr_events_post(c);
    return lr_error(c, 404, "path: unknown");
}

static struct mg_context *lr_ctx;

int logisim_recv_start(const char *listen, const char *secret, char *bound, size_t boundlen)
{
    if (!listen || !secret || !*secret || sodium_init() < 0) return -1;
    lr_secret = secret;
    pthread_mutex_lock(&lr_mu);
    lr_reset_locked();
    pthread_mutex_unlock(&lr_mu);
    const char *opts[] = {"listening_ports", listen, "num_threads", "8", "tcp_nodelay", "1",
                          "enable_keep_alive", "yes", NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    lr_ctx = mg_start(&cb, NULL, opts);
    if (!lr_ctx) return -1;
    mg_set_request_handler(lr_ctx, "/", lr_handler, NULL);
    struct mg_server_port ports[2];
    int n = mg_get_server_ports(lr_ctx, 2, ports);
    char host[128];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    snprintf(bound, boundlen, "%s:%d", host, n > 0 ? ports[0].port : 0);
    return 0;
}

int logisim_recv_couriers(char *out, size_t outsz)
{
    /* the last delivery.* event of each posting decides: booked/moved = a courier goes */
    cJSON *last = cJSON_CreateObject();
    pthread_mutex_lock(&lr_mu);
    const cJSON *e;
    cJSON_ArrayForEach(e, lr_events) {
        const char *type = cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring;
        const char *p = cJSON_GetObjectItemCaseSensitive(e, "posting_number")->valuestring;
        if (strncmp(type, "delivery.", 9) != 0) continue;
        cJSON_DeleteItemFromObjectCaseSensitive(last, p);
        cJSON_AddBoolToObject(last, p, strcmp(type, "delivery.cancelled") != 0);
    }
    pthread_mutex_unlock(&lr_mu);
    int n = 0;
    size_t len = (size_t)snprintf(out, outsz, "{");
    cJSON_ArrayForEach(e, last) {
        if (!cJSON_IsTrue(e) || strspn(e->string, "0123456789-") != strlen(e->string) ||
            len + strlen(e->string) + 4 >= outsz)
            continue;
        len += (size_t)snprintf(out + len, outsz - len, "%s\"%s\"", n++ ? "," : "", e->string);
    }
    snprintf(out + len, outsz - len, "}");
    cJSON_Delete(last);
    return n;
}

void logisim_recv_stop(void)
{
    if (lr_ctx) mg_stop(lr_ctx);
    lr_ctx = NULL;
    pthread_mutex_lock(&lr_mu);
    cJSON_Delete(lr_events);
    cJSON_Delete(lr_ids);
    lr_events = lr_ids = NULL;
    pthread_mutex_unlock(&lr_mu);
}

int logisim_recv_main(int argc, char **argv)
{
    const char *listen = NULL, *secret = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else if (!strcmp(argv[i], "--secret") && i + 1 < argc) secret = argv[++i];
        else if (!strcmp(argv[i], "--status") && i + 1 < argc) lr_status = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--delay-ms") && i + 1 < argc) lr_delay_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: logisim --listen HOST:PORT --secret S [--status N] [--delay-ms N]\n");
            return 2;
        }
    }
    if (!listen || !secret || !*secret) {
        fprintf(stderr, "logisim: --listen and --secret are required\n");
        return 2;
    }
    signal(SIGTERM, lr_on_signal);
    signal(SIGINT, lr_on_signal);
    char bound[160];
    if (logisim_recv_start(listen, secret, bound, sizeof bound) != 0) {
        fprintf(stderr, "logisim: cannot listen on %s\n", listen);
        return 1;
    }
    printf("logisim listening on http://%s\n", bound);
    fflush(stdout);
    while (!lr_stop) usleep(100000);
    logisim_recv_stop();
    return 0;
}
