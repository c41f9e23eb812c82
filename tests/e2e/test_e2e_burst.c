/* test_e2e_burst.c — kill -9 during a burst loses nothing, in the mode
 * named by argv[1] ("polling" or "webhook").
 *
 * Purpose: 20 people each put their chat into the «📦 Отследить» step,
 * then send 10 distinct texts quickly (a sender thread, paced so the burst
 * is still arriving when the bot dies). When the bot has delivered 20
 * answers, plus7d is killed with SIGKILL and started again on the same
 * database; once more after 100 answers. Afterwards: every update is in tg_inbox exactly once and
 * processed; every outbox row is sent; every person got an answer to every
 * text (the answer echoes the text: «burst-i-j» не похоже на номер
 * отправления), first answers in the order sent. Duplicates are allowed
 * only inside the documented window (a message sent but not yet marked
 * 'sent' is sent again): at most 32 (the gateway's in-flight limit); the
 * number seen is printed.
 *
 * Before that, many_chats_at_once_all_answered: 40 people write at the
 * same moment (4 sender threads), 6 rounds; every one must be answered
 * without any crash or restart (replies committed concurrently by
 * conversations on both workers must all leave the outbox).
 *
 * Tags: "e2e", "slow" on the kill case. Threads: the cases run sender
 * threads and join them.
 */
#include "t.h"

#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>

#include "e2e_harness.h"
#include "texts.h"
#include "tgsim_harness.h"

#define USERS 20
#define MSGS 10
#define UID0 72001LL
#define PACE_MS 15          /* between two sends: the burst lasts ~3 s */
#define KILLS 2
#define KILL_AFTER 20       /* bot answers delivered before the first kill */
#define KILL_AFTER_2 100    /* ... before the second */

static atomic_int sent_count;     /* relaxed: progress figure, read after join */
static atomic_int send_failures;  /* relaxed: read after join */

static void *sender(void *arg)
{
    (void)arg;
    for (int j = 0; j < MSGS; j++) {
        for (int i = 0; i < USERS; i++) {
            cJSON *a = e2e_act(UID0 + i, "text", "{\"text\":\"burst-%d-%d\"}", i, j);
            if (!a) atomic_fetch_add_explicit(&send_failures, 1, memory_order_relaxed);
            cJSON_Delete(a);
            atomic_fetch_add_explicit(&sent_count, 1, memory_order_relaxed);
            e2e_sleep_ms(PACE_MS);
        }
    }
    return NULL;
}

static int bot_messages_total(void)
{
    cJSON *j = e2e_tg("GET", "/control/stats", NULL, NULL);
    double n = tgh_num(j, "bot_messages");
    cJSON_Delete(j);
    return n < 0 ? -1 : (int)n;
}

/* Print what the chat and the database hold, to explain a failure. */
static void dump_chat(long long uid, const cJSON *msgs)
{
    const cJSON *m;
    printf("# chat %lld, bot messages in order:\n", uid);
    cJSON_ArrayForEach(m, msgs) printf("#   %.0f: %.60s\n", tgh_num((cJSON *)m, "message_id"), e2e_text(m));
    char path[128];
    snprintf(path, sizeof path, "/control/chats/%lld?from=user", uid);
    cJSON *chat = e2e_tg("GET", path, NULL, NULL);
    printf("# chat %lld, user messages in order:\n", uid);
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(chat, "messages"))
        printf("#   %.0f: %.60s\n", tgh_num((cJSON *)m, "message_id"), e2e_text(m));
    cJSON_Delete(chat);
    for (int k = 0; k < 40; k++) {
        const char *row = e2e_sqls("SELECT update_id || ' processed=' || (processed_at IS NOT NULL) || ' '"
                                   " || (body::json -> 'message' ->> 'text')"
                                   " FROM tg_inbox WHERE chat_id = $1 ORDER BY update_id OFFSET $2 LIMIT 1",
                                   e2e_i(uid), e2e_i(k), NULL);
        if (!row) break;
        printf("#   inbox %s\n", row);
    }
    for (int k = 0; k < 40; k++) {
        const char *row = e2e_sqls("SELECT id || ' ' || status || ' key=' || coalesce(dedupe_key, '-') || ' '"
                                   " || substr(params::json ->> 'text', 1, 24)"
                                   " FROM tg_outbox WHERE chat_id = $1 ORDER BY id OFFSET $2 LIMIT 1",
                                   e2e_i(uid), e2e_i(k), NULL);
        if (!row) break;
        printf("#   outbox %s\n", row);
    }
}

/* Index (in msgs) of the first answer to each text, -1 if none; returns
 * the number of answers that match no text. */
static int scan_answers(int i, const cJSON *msgs, int first_at[MSGS])
{
    int n = cJSON_GetArraySize(msgs), unexpected = 0;
    for (int j = 0; j < MSGS; j++) first_at[j] = -1;
    for (int k = 1; k < n; k++) {
        const char *t = e2e_text(cJSON_GetArrayItem(msgs, k));
        int found = -1;
        for (int j = 0; j < MSGS && found < 0; j++) {
            char arg[32], want[1024];
            snprintf(arg, sizeof arg, "burst-%d-%d", i, j);
            snprintf(want, sizeof want, text_get(T_TRACK_BAD_FORMAT), arg);
            if (strcmp(t, want) == 0) found = j;
        }
        if (found < 0) {
            printf("# chat %lld: unexpected answer: %.120s\n", UID0 + i, t);
            unexpected++;
        } else if (first_at[found] < 0) {
            first_at[found] = k;
        }
    }
    return unexpected;
}

/* Check chat i's answers, waiting (up to 120 s) until every text has one. */
static void check_chat(int i)
{
    long long uid = UID0 + i;
    char path[128];
    snprintf(path, sizeof path, "/control/chats/%lld?from=bot", uid);
    double deadline = e2e_now() + 120;
    int first_at[MSGS], unexpected = 0, n = 0;
    bool complete = false;
    cJSON *chat = NULL;
    for (;;) {
        /* at least one more message than last time (duplicates count too) */
        bool ok = false;
        int want = n < 1 + MSGS ? 1 + MSGS : n + 1;
        double left = deadline - e2e_now();
        cJSON_Delete(e2e_wait(uid, want, 0, left > 1 ? left : 1, &ok));
        cJSON_Delete(chat);
        chat = e2e_tg("GET", path, NULL, NULL);
        cJSON *msgs = cJSON_GetObjectItem(chat, "messages");
        n = cJSON_GetArraySize(msgs);
        unexpected = scan_answers(i, msgs, first_at);
        complete = unexpected == 0;
        for (int j = 0; j < MSGS; j++)
            if (first_at[j] < 0 || (j && first_at[j] < first_at[j - 1])) complete = false;
        if (complete || !ok || e2e_now() > deadline) break;
    }
    cJSON *msgs = cJSON_GetObjectItem(chat, "messages");
    if (!complete) {
        for (int j = 0; j < MSGS; j++)
            if (first_at[j] < 0) printf("# chat %lld: no answer to burst-%d-%d\n", uid, i, j);
        dump_chat(uid, msgs);
    }
    T_CHECK(n >= 1 + MSGS);
    T_EQ_STR(e2e_text(cJSON_GetArrayItem(msgs, 0)), text_get(T_TRACK_ASK));
    cJSON_Delete(chat);
    T_EQ_INT(unexpected, 0);
    for (int j = 0; j < MSGS; j++) {
        T_CHECK(first_at[j] > 0);
        if (j) T_CHECK(first_at[j] > first_at[j - 1]);
    }
}

/* ---- many chats at once, no crash ------------------------------------------------- */

#define WIDE_USERS 40
#define WIDE_THREADS 4
#define WIDE_ROUNDS 6
#define WIDE_UID0 72101LL

static atomic_int wide_failures;   /* relaxed: read after join */

static void *wide_sender(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = t; i < WIDE_USERS; i += WIDE_THREADS) {
        cJSON *a = e2e_act(WIDE_UID0 + i, "text", "{\"text\":\"/help\"}");
        if (!a) atomic_fetch_add_explicit(&wide_failures, 1, memory_order_relaxed);
        cJSON_Delete(a);
    }
    return NULL;
}

/* Many conversations commit their replies at the same moment, on both
 * workers: every reply must leave (a reply committed out of id order must
 * not be skipped by the gateway). */
T_CASE_TAGGED(many_chats_at_once_all_answered, "e2e")
{
    T_CHECK(e2e_p7_ensure() == 0);
    for (int i = 0; i < WIDE_USERS; i++) T_CHECK(e2e_user(WIDE_UID0 + i, "Толпа", NULL, false) == 0);
    int missing = 0;
    for (int round = 0; round < WIDE_ROUNDS; round++) {
        pthread_t th[WIDE_THREADS];
        for (int t = 0; t < WIDE_THREADS; t++)
            T_CHECK(pthread_create(&th[t], NULL, wide_sender, (void *)(intptr_t)t) == 0);
        for (int t = 0; t < WIDE_THREADS; t++) pthread_join(th[t], NULL);
        T_EQ_INT(atomic_load_explicit(&wide_failures, memory_order_relaxed), 0);
        for (int i = 0; i < WIDE_USERS; i++) {
            bool ok = false;
            cJSON_Delete(e2e_wait(WIDE_UID0 + i, round + 1, 0, 30, &ok));
            if (!ok) {
                printf("# round %d: chat %lld got no answer within 30 s\n", round, WIDE_UID0 + i);
                missing++;
            }
        }
        if (missing) break;
    }
    if (missing) {
        const char *v = e2e_sqls("SELECT count(*) FILTER (WHERE processed_at IS NULL) || ' unprocessed updates, '"
                                 " || (SELECT count(*) FROM tg_outbox WHERE status = 'pending') || ' pending outbox rows'"
                                 " FROM tg_inbox", NULL);
        printf("# %s\n", v ? v : "?");
    }
    T_EQ_INT(missing, 0);
    for (int i = 0; i < WIDE_USERS; i++) T_EQ_INT(e2e_bot_count(WIDE_UID0 + i), WIDE_ROUNDS);
}

/* ---- kill -9 during a burst -------------------------------------------------------- */

T_CASE_TAGGED(kill9_during_burst_loses_nothing, "e2e slow")
{
    T_CHECK(e2e_p7_ensure() == 0);
    /* every chat into the track_wait step */
    for (int i = 0; i < USERS; i++) {
        T_CHECK(e2e_user(UID0 + i, "Пачка", NULL, false) == 0);
        cJSON *a = e2e_act(UID0 + i, "text", "{\"text\":\"%s\"}", text_get(T_BTN_TRACK));
        T_CHECK(a != NULL);
        cJSON_Delete(a);
    }
    for (int i = 0; i < USERS; i++) {
        cJSON *m = e2e_reply(UID0 + i, 60);
        T_CHECK(m != NULL);
        T_EQ_STR(e2e_text(m), text_get(T_TRACK_ASK));
        cJSON_Delete(m);
    }
    int base = bot_messages_total();
    T_CHECK(base >= USERS);

    pthread_t th;
    T_CHECK(pthread_create(&th, NULL, sender, NULL) == 0);
    /* kill twice: early in the burst (texts still arriving) and later
     * (mostly answers still going out) */
    static const int kill_after[KILLS] = {KILL_AFTER, KILL_AFTER_2};
    bool reached[KILLS] = {false, false};
    int restart_ok = 0, first_kill_sent = 0;
    for (int k = 0; k < KILLS; k++) {
        for (double end = e2e_now() + 60; !reached[k] && e2e_now() < end; e2e_sleep_ms(50))
            reached[k] = bot_messages_total() >= base + kill_after[k];
        int at_kill_sent = atomic_load_explicit(&sent_count, memory_order_relaxed);
        int at_kill_answered = bot_messages_total() - base;
        if (k == 0) first_kill_sent = at_kill_sent;
        e2e_p7_kill();
        restart_ok |= e2e_p7_start();
        printf("# %s: SIGKILL %d after %d of %d texts sent and %d answered\n", e2e_mode_name(), k + 1,
               at_kill_sent, USERS * MSGS, at_kill_answered);
    }
    pthread_join(th, NULL);
    T_CHECK(reached[0] && reached[1]);
    T_EQ_INT(restart_ok, 0);
    T_EQ_INT(atomic_load_explicit(&send_failures, memory_order_relaxed), 0);
    /* the first kill must have hit the middle of the burst */
    T_CHECK(first_kill_sent < USERS * MSGS);

    for (int i = 0; i < USERS; i++) check_chat(i);

    /* the database agrees: each update once, all processed, each reply once */
    const char *lo = e2e_i(UID0), *hi = e2e_i(UID0 + USERS - 1);
    T_CHECK(e2e_sql_until(60, "0", "SELECT count(*) FROM tg_inbox WHERE processed_at IS NULL", NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_inbox WHERE chat_id BETWEEN $1 AND $2", lo, hi, NULL),
             USERS * (MSGS + 1));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE chat_id BETWEEN $1 AND $2", lo, hi, NULL),
             USERS * (MSGS + 1));
    T_CHECK(e2e_sql_until(60, "0", "SELECT count(*) FROM tg_outbox WHERE status <> 'sent'", NULL));

    /* everything is sent now: the duplicates are final */
    int dups = 0;
    for (int i = 0; i < USERS; i++) dups += e2e_bot_count(UID0 + i) - (1 + MSGS);
    printf("# %s: %d duplicate answers after the kills (allowed: 32)\n", e2e_mode_name(), dups);
    T_CHECK(dups >= 0 && dups <= 32);

    cJSON *st = e2e_tg("GET", "/control/stats", NULL, NULL);
    printf("# tgsim: bot_messages=%.0f rate_limited=%.0f updates_created=%.0f webhook_failed_attempts=%.0f\n",
           tgh_num(st, "bot_messages"), tgh_num(st, "rate_limited"), tgh_num(st, "updates_created"),
           tgh_num(st, "webhook.failed_attempts"));
    cJSON_Delete(st);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "webhook") != 0 && strcmp(argv[1], "polling") != 0) {
        printf("usage: %s polling|webhook\n", argv[0]);
        return 2;
    }
    e2e_mode_t mode = argc > 1 && strcmp(argv[1], "webhook") == 0 ? E2E_WEBHOOK : E2E_POLLING;
    e2e_init(mode == E2E_WEBHOOK ? "burst_webhook" : "burst_polling", mode);
    return e2e_finish(t_run_all());
}
