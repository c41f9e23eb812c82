/* pay_peer.c — the two stand-ins of bench/payments.sh.
 *
 *   pay_peer ceiling LISTEN CONNINFO THREADS
 *       the ceiling of the callback benchmark: a bare civetweb handler that
 *       reads the body, parses it with the same parser, does the same INSERT
 *       (web_pay_yookassa.h's WEB_PAY_SQL_STORE) on its thread's own libpq
 *       connection and answers 200 in one write — plus7d's endpoint minus
 *       its routing, allow-list, pool and actor hand-off.
 *   pay_peer botapi LISTEN
 *       a Bot API that answers every call {"ok":true,"result":true} and
 *       prints "<method> <pre_checkout_query_id or callback_query_id>
 *       <unix µs>" for every answerPreCheckoutQuery / answerCallbackQuery
 *       on stdout, so the script measures when each answer arrived.
 * Runs until SIGTERM. Prints "ready" on stdout once listening.
 * Exports: main. Threads: civetweb workers + the main thread (sigwait).
 */
#include <civetweb.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cjson/cJSON.h>

#include "pay_yk.h"
#include "rt.h"
#include "web_pay_yookassa.h"

static const char *peer_conninfo;
static pthread_key_t peer_conn_key;
static pthread_mutex_t peer_out = PTHREAD_MUTEX_INITIALIZER;

static int peer_read(struct mg_connection *c, char *buf, size_t cap)
{
    size_t n = 0;
    int r;
    while (n + 1 < cap && (r = mg_read(c, buf + n, cap - 1 - n)) > 0) n += (size_t)r;
    buf[n] = '\0';
    return (int)n;
}

static void peer_reply(struct mg_connection *c, int status, const char *body)
{
    char out[512];
    int n = snprintf(out, sizeof out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     status, status == 200 ? "OK" : "Error", strlen(body), body);
    mg_write(c, out, (size_t)n);
}

static int peer_ceiling(struct mg_connection *c, void *arg)
{
    (void)arg;
    char body[65536];
    int n = peer_read(c, body, sizeof body);
    yk_notification_t note;
    if (yk_notification_parse(body, (size_t)n, &note, NULL) != RT_OK) {
        peer_reply(c, 400, "{\"error\":\"bad\"}");
        return 400;
    }
    PGconn *db = pthread_getspecific(peer_conn_key);
    if (!db) {
        db = PQconnectdb(peer_conninfo);
        pthread_setspecific(peer_conn_key, db);
    }
    const char *params[] = {note.object_id, note.event, mg_get_request_info(c)->remote_addr, body};
    PGresult *r = PQexecParams(db, WEB_PAY_SQL_STORE, 4, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    peer_reply(c, ok ? 200 : 503, ok ? "{\"ok\":true}" : "{\"error\":\"db\"}");
    return ok ? 200 : 503;
}

static int peer_botapi(struct mg_connection *c, void *arg)
{
    (void)arg;
    const char *uri = mg_get_request_info(c)->local_uri;
    const char *method = strrchr(uri, '/');
    method = method ? method + 1 : "";
    char body[65536];
    int n = peer_read(c, body, sizeof body);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (!strcmp(method, "answerPreCheckoutQuery") || !strcmp(method, "answerCallbackQuery")) {
        cJSON *j = cJSON_ParseWithLength(body, (size_t)n);
        const cJSON *id = cJSON_GetObjectItem(j, method[6] == 'P' ? "pre_checkout_query_id" : "callback_query_id");
        pthread_mutex_lock(&peer_out);
        printf("%s %s %lld\n", method, cJSON_IsString(id) ? id->valuestring : "-",
               (long long)tv.tv_sec * 1000000 + tv.tv_usec);
        pthread_mutex_unlock(&peer_out);
        cJSON_Delete(j);
    }
    if (!strcmp(method, "getUpdates")) peer_reply(c, 200, "{\"ok\":true,\"result\":[]}");
    else if (!strcmp(method, "getMe"))
        peer_reply(c, 200, "{\"ok\":true,\"result\":{\"id\":5000000002,\"is_bot\":true,\"first_name\":\"b\",\"username\":\"b\"}}");
    else peer_reply(c, 200, "{\"ok\":true,\"result\":{\"message_id\":1}}");
    return 200;
}

static void peer_close_conn(void *p) { PQfinish(p); }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pay_peer ceiling LISTEN CONNINFO THREADS | pay_peer botapi LISTEN\n");
        return 2;
    }
    bool ceiling = !strcmp(argv[1], "ceiling");
    if (ceiling && argc < 5) return 2;
    peer_conninfo = ceiling ? argv[3] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);   /* the script reads the answers while they come */
    pthread_key_create(&peer_conn_key, peer_close_conn);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    const char *opts[] = {"listening_ports", argv[2], "num_threads", ceiling ? argv[4] : "64",
                          "tcp_nodelay", "1", "enable_keep_alive", "yes", NULL};
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    struct mg_context *ctx = mg_start(&cb, NULL, opts);
    if (!ctx) { fprintf(stderr, "pay_peer: cannot listen on %s\n", argv[2]); return 1; }
    mg_set_request_handler(ctx, "/", ceiling ? peer_ceiling : peer_botapi, NULL);
    printf("ready\n");
    fflush(stdout);
    int sig;
    sigwait(&s, &sig);
    mg_stop(ctx);
    fflush(stdout);
    return 0;
}
