/* test_tgsim_webhook.c — tgsim's webhook delivery, checked by a civetweb
 * receiver running inside the test.
 *
 * The receiver records every POST (update_id, chat id, secret header) and
 * answers 500 for a chat while that chat has planned failures left, else 200
 * (optionally with a body carrying a Bot API method). tgsim runs with fast
 * retries (50 ms doubling to 200 ms) set through /control/config.
 *
 * Waiting is "poll the receiver until it saw N posts, at most 20 s"; no case
 * asserts on how long delivery took.
 * Threads: main; civetweb's receiver threads record under a mutex.
 */
#include "t.h"
#include "tgsim_harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#define MAX_SEEN 256

typedef struct {
    long long update_id;
    long long chat_id;
    char secret[80];
    char type[32];
} seen_t;

static struct {
    pthread_mutex_t mu;
    seen_t seen[MAX_SEEN];
    int nseen;
    long long fail_chat;        /* answer 500 for this chat ... */
    int fail_left;              /* ... this many times */
    int fail_all;               /* answer 500 to everything */
    char reply[512];            /* body of 200 answers */
} rx = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct mg_context *rx_ctx;
static int rx_port;

static long long chat_of(cJSON *u, char *type, size_t tl)
{
    static const char *const kinds[] = {"message", "edited_message", "callback_query", "my_chat_member",
                                        "pre_checkout_query", NULL};
    for (int i = 0; kinds[i]; i++) {
        cJSON *p = cJSON_GetObjectItem(u, kinds[i]);
        if (!p) continue;
        snprintf(type, tl, "%s", kinds[i]);
        cJSON *c = tgh_path(p, "chat.id");
        if (!c) c = tgh_path(p, "message.chat.id");
        if (!c) c = tgh_path(p, "from.id");
        return c ? (long long)c->valuedouble : 0;
    }
    return 0;
}

static int rx_handler(struct mg_connection *conn, void *cb)
{
    (void)cb;
    enum { CAP = 65536 };
    char *buf = malloc(CAP);               /* civetweb threads have small stacks */
    int n = 0, r;
    while (n < CAP - 1 && (r = mg_read(conn, buf + n, CAP - 1 - (size_t)n)) > 0) n += r;
    buf[n] = '\0';
    cJSON *u = cJSON_Parse(buf);
    free(buf);
    const char *sec = mg_get_header(conn, "X-Telegram-Bot-Api-Secret-Token");
    int status = 200;
    char body[512] = "";
    pthread_mutex_lock(&rx.mu);
    if (rx.nseen < MAX_SEEN) {
        seen_t *s = &rx.seen[rx.nseen++];
        s->update_id = (long long)tgh_num(u, "update_id");
        s->chat_id = chat_of(u, s->type, sizeof s->type);
        snprintf(s->secret, sizeof s->secret, "%s", sec ? sec : "");
        if (rx.fail_all || (rx.fail_left > 0 && s->chat_id == rx.fail_chat)) {
            status = 500;
            if (!rx.fail_all) rx.fail_left--;
        }
    }
    if (status == 200) snprintf(body, sizeof body, "%s", rx.reply);
    pthread_mutex_unlock(&rx.mu);
    cJSON_Delete(u);
    mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
              status, status == 200 ? "OK" : "Internal Server Error", strlen(body), body);
    return status;
}

static void rx_reset(void)
{
    pthread_mutex_lock(&rx.mu);
    rx.nseen = 0;
    rx.fail_chat = 0;
    rx.fail_left = 0;
    rx.fail_all = 0;
    rx.reply[0] = '\0';
    pthread_mutex_unlock(&rx.mu);
}

static int rx_count(void)
{
    pthread_mutex_lock(&rx.mu);
    int n = rx.nseen;
    pthread_mutex_unlock(&rx.mu);
    return n;
}

/* Wait until the receiver saw at least n posts (at most 20 s). */
static int rx_wait(int n)
{
    double deadline = tgh_now() + 20;
    while (rx_count() < n && tgh_now() < deadline) tgh_sleep_ms(10);
    return rx_count() >= n;
}

static tgh_sim_t sim;
static int sim_up;

static tgh_sim_t *S(void)
{
    if (!rx_ctx) {
        const char *opts[] = {"listening_ports", "127.0.0.1:0", "num_threads", "16", NULL};
        rx_ctx = mg_start(NULL, NULL, opts);
        if (!rx_ctx) T_FAIL("receiver did not start");
        mg_set_request_handler(rx_ctx, "/hook", rx_handler, NULL);
        struct mg_server_port ports[2];
        memset(ports, 0, sizeof ports);
        mg_get_server_ports(rx_ctx, 2, ports);
        rx_port = ports[0].port;
    }
    if (!sim_up) {
        if (tgh_start(&sim, NULL) != 0) T_FAIL("tgsim did not start");
        sim_up = 1;
    }
    T_CHECK(tgh_fresh(&sim) == 0);
    rx_reset();
    return &sim;
}

static void user(tgh_sim_t *s, long long id)
{
    char body[160];
    snprintf(body, sizeof body, "{\"id\":%lld,\"first_name\":\"U%lld\",\"started\":true}", id, id);
    long st;
    cJSON_Delete(tgh_ctl(s, "POST", "/control/users", body, &st));
    T_EQ_INT(st, 200);
}

static void user_says(tgh_sim_t *s, long long id, const char *text)
{
    char path[96], body[160];
    snprintf(path, sizeof path, "/control/users/%lld/text", id);
    snprintf(body, sizeof body, "{\"text\":\"%s\"}", text);
    long st;
    cJSON_Delete(tgh_ctl(s, "POST", path, body, &st));
    T_EQ_INT(st, 200);
}

static void set_webhook(tgh_sim_t *s, const char *secret, int max_conn)
{
    char body[256];
    snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%d/hook\",\"secret_token\":\"%s\",\"max_connections\":%d}",
             rx_port, secret, max_conn);
    long st;
    cJSON *j = tgh_api(s, "setWebhook", body, &st);
    T_EQ_INT(st, 200);
    T_CHECK(cJSON_IsTrue(tgh_path(j, "result")));
    cJSON_Delete(j);
}

static cJSON *webhook_info(tgh_sim_t *s)
{
    long st;
    cJSON *j = tgh_api(s, "getWebhookInfo", NULL, &st);
    T_EQ_INT(st, 200);
    return j;
}

/* Wait until tgsim reports no pending updates (at most 20 s). */
static int pending_zero(tgh_sim_t *s)
{
    double deadline = tgh_now() + 20;
    while (tgh_now() < deadline) {
        cJSON *j = webhook_info(s);
        int n = (int)tgh_num(j, "result.pending_update_count");
        cJSON_Delete(j);
        if (n == 0) return 1;
        tgh_sleep_ms(20);
    }
    return 0;
}

T_CASE(webhook_delivers_with_secret_header)
{
    tgh_sim_t *s = S();
    user(s, 111);
    set_webhook(s, "s3cr3t_Token-1", 40);
    user_says(s, 111, "привет");
    T_CHECK(rx_wait(1));
    pthread_mutex_lock(&rx.mu);
    seen_t got = rx.seen[0];
    pthread_mutex_unlock(&rx.mu);
    T_EQ_STR(got.secret, "s3cr3t_Token-1");
    T_EQ_INT(got.chat_id, 111);
    T_EQ_STR(got.type, "message");
    T_CHECK(pending_zero(s));
    cJSON *j = webhook_info(s);
    char want[96];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/hook", rx_port);
    T_EQ_STR(tgh_str(j, "result.url"), want);
    T_EQ_INT((int)tgh_num(j, "result.max_connections"), 40);
    T_CHECK(tgh_path(j, "result.last_error_date") == NULL);
    cJSON_Delete(j);
}

T_CASE(webhook_retries_after_500_and_reports_last_error)
{
    tgh_sim_t *s = S();
    user(s, 111);
    pthread_mutex_lock(&rx.mu);
    rx.fail_chat = 111;
    rx.fail_left = 2;
    pthread_mutex_unlock(&rx.mu);
    set_webhook(s, "abc", 10);
    user_says(s, 111, "one");
    T_CHECK(rx_wait(3));
    T_CHECK(pending_zero(s));
    pthread_mutex_lock(&rx.mu);
    int n = rx.nseen;
    long long a = rx.seen[0].update_id, b = rx.seen[1].update_id, c = rx.seen[2].update_id;
    pthread_mutex_unlock(&rx.mu);
    T_EQ_INT(n, 3);                   /* two failures, then the same update succeeds */
    T_EQ_INT(a, b);
    T_EQ_INT(b, c);
    cJSON *j = webhook_info(s);
    T_EQ_STR(tgh_str(j, "result.last_error_message"), "Wrong response from the webhook: 500 Internal Server Error");
    T_CHECK(tgh_num(j, "result.last_error_date") > 0);
    cJSON_Delete(j);
    long st;
    j = tgh_ctl(s, "GET", "/control/stats", NULL, &st);
    T_EQ_INT((int)tgh_num(j, "webhook.failed_attempts"), 2);
    T_EQ_INT((int)tgh_num(j, "webhook.delivered"), 1);
    cJSON_Delete(j);
}

T_CASE(webhook_per_chat_order_under_retries)
{
    tgh_sim_t *s = S();
    user(s, 111);
    user(s, 222);
    pthread_mutex_lock(&rx.mu);
    rx.fail_chat = 111;               /* chat 111's first update fails 3 times */
    rx.fail_left = 3;
    pthread_mutex_unlock(&rx.mu);
    /* queue everything first, then turn the webhook on */
    user_says(s, 111, "a1");
    user_says(s, 222, "b1");
    user_says(s, 111, "a2");
    user_says(s, 222, "b2");
    user_says(s, 111, "a3");
    set_webhook(s, "ord", 8);
    T_CHECK(rx_wait(8));              /* 5 updates + 3 failed attempts */
    T_CHECK(pending_zero(s));
    pthread_mutex_lock(&rx.mu);
    int n = rx.nseen;
    seen_t seen[MAX_SEEN];
    memcpy(seen, rx.seen, sizeof seen);
    pthread_mutex_unlock(&rx.mu);
    T_EQ_INT(n, 8);
    /* chat 111: the failing first update is retried before the others are
     * posted, and the successful posts come in update order */
    long long last111 = 0, first111 = 0;
    int posts111 = 0, ok111 = 0, b_done_at = -1, a_first_ok_at = -1;
    for (int i = 0; i < n; i++) {
        if (seen[i].chat_id == 111) {
            posts111++;
            if (!first111) first111 = seen[i].update_id;
            if (posts111 <= 4) T_EQ_INT(seen[i].update_id, first111);   /* 3 failures + success */
            else { T_CHECK(seen[i].update_id > last111); ok111++; }
            if (posts111 == 4) a_first_ok_at = i;
            last111 = seen[i].update_id;
        } else {
            T_EQ_INT(seen[i].chat_id, 222);
            b_done_at = i;
        }
    }
    T_EQ_INT(posts111, 6);
    T_EQ_INT(ok111, 2);
    /* chat 222 is not held up by chat 111's retries: both of its updates
     * were delivered before chat 111's first update finally succeeded */
    T_CHECK(b_done_at >= 0 && b_done_at < a_first_ok_at);
}

T_CASE(webhook_connection_refused_then_delete_drops_pending)
{
    tgh_sim_t *s = S();
    user(s, 111);
    long st;
    /* port 9 (discard) is closed on loopback */
    cJSON *j = tgh_api(s, "setWebhook", "{\"url\":\"http://127.0.0.1:9/hook\"}", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    user_says(s, 111, "lost?");
    double deadline = tgh_now() + 20;
    int have_error = 0;
    while (!have_error && tgh_now() < deadline) {
        j = webhook_info(s);
        have_error = strlen(tgh_str(j, "result.last_error_message")) > 0;
        if (have_error) {
            T_EQ_STR(tgh_str(j, "result.last_error_message"), "Connection refused");
            T_EQ_INT((int)tgh_num(j, "result.pending_update_count"), 1);
        }
        cJSON_Delete(j);
        if (!have_error) tgh_sleep_ms(20);
    }
    T_CHECK(have_error);
    j = tgh_api(s, "deleteWebhook", "{\"drop_pending_updates\":true}", &st);
    T_EQ_INT(st, 200);
    cJSON_Delete(j);
    j = webhook_info(s);
    T_EQ_INT((int)tgh_num(j, "result.pending_update_count"), 0);
    T_EQ_STR(tgh_str(j, "result.url"), "");
    cJSON_Delete(j);
}

T_CASE(webhook_reply_may_carry_a_method)
{
    tgh_sim_t *s = S();
    user(s, 111);
    pthread_mutex_lock(&rx.mu);
    snprintf(rx.reply, sizeof rx.reply, "{\"method\":\"sendMessage\",\"chat_id\":111,\"text\":\"эхо\"}");
    pthread_mutex_unlock(&rx.mu);
    set_webhook(s, "m", 4);
    user_says(s, 111, "ping");
    long st;
    cJSON *j = tgh_ctl(s, "GET", "/control/chats/111/wait?count=1&timeout=20", NULL, &st);
    T_EQ_INT(st, 200);
    T_EQ_STR(tgh_str(j, "messages.0.text"), "эхо");
    cJSON_Delete(j);
}

T_CASE(webhook_chats_are_posted_concurrently)
{
    tgh_sim_t *s = S();
    /* every chat fails forever: each chat's first update is retried, and all
     * chats are attempted even though none ever succeeds */
    pthread_mutex_lock(&rx.mu);
    rx.fail_all = 1;
    pthread_mutex_unlock(&rx.mu);
    for (long long id = 501; id <= 504; id++) {
        user(s, id);
        user_says(s, id, "x");
        user_says(s, id, "y");
    }
    set_webhook(s, "c", 4);
    T_CHECK(rx_wait(12));
    pthread_mutex_lock(&rx.mu);
    int chats_seen[4] = {0}, second_update_posted = 0;
    long long firsts[4] = {0};
    for (int i = 0; i < rx.nseen; i++) {
        int k = (int)(rx.seen[i].chat_id - 501);
        if (k < 0 || k > 3) continue;
        chats_seen[k] = 1;
        if (!firsts[k]) firsts[k] = rx.seen[i].update_id;
        if (rx.seen[i].update_id != firsts[k]) second_update_posted = 1;
    }
    pthread_mutex_unlock(&rx.mu);
    for (int k = 0; k < 4; k++) T_CHECK(chats_seen[k]);
    T_CHECK(!second_update_posted);   /* a chat's next update waits for the failing one */
    long st;
    cJSON_Delete(tgh_api(s, "deleteWebhook", "{\"drop_pending_updates\":true}", &st));
}

T_CASE(shared_instance_stops_cleanly)
{
    tgh_sim_t *s = S();
    T_EQ_INT(tgh_stop(s), 0);
    sim_up = 0;
    mg_stop(rx_ctx);
    rx_ctx = NULL;
}

T_MAIN()
