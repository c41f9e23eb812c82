/* test_form_outbound.c — a booked delivery reaches the logistics system,
 * end to end: the real plus7d + tgsim + extsim (Ozon) + PostgreSQL + the
 * emulated logistics system's receiver (tools/logisim --listen), which
 * checks every request's X-Plus7-Signature and keeps each event once by id.
 *
 * Purpose: a booking made in the chat arrives as a signed delivery.booked
 * with the address, window, price and phone; the owner moves it and then
 * cancels it from the order card, and delivery.moved and
 * delivery.cancelled follow in that order; a change after the cut-off is
 * refused and changes nothing; a tariff changed between the summary and
 * the confirmation is shown and confirmed anew (no booking at the old
 * price); with the receiver down the events wait and back off, and arrive
 * once it is up; events stored while no URL is configured survive a kill -9
 * and are sent after the restart; a kill -9 after the receiver took a batch
 * but before plus7d marked it repeats the batch and the receiver keeps each
 * event once (nothing lost, nothing doubled by id).
 *
 * Each case uses its own Telegram user (ids 716xx), phone and posting.
 * Tags: "e2e" on every case, "slow" on the kill cases.
 * Threads: main thread only.
 */
#include "t.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_harness.h"
#include "texts.h"
#include "tgsim_harness.h"

#define WAIT_S 30.0
#define LO_WAIT_S 90.0       /* an outbound event, through a lease of 30 s after a kill */
#define SECRET "outbound-test-secret-0123456789abcdef"

#define OZ_CLIENT_ID "123456"
#define OZ_API_KEY "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

static pid_t lr_pid;
static char lr_base[128];     /* http://127.0.0.1:PORT of the receiver */
static char lr_url[160];      /* …/events */

/* ---- the receiver --------------------------------------------------------------------- */

static int lr_start(void)
{
    const char *bin = getenv("LOGISIM_BIN");
    if (!bin) { printf("# LOGISIM_BIN is not set\n"); return -1; }
    char out[] = "/tmp/plus7-logisim-XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) return -1;
    lr_pid = fork();
    if (lr_pid == 0) {
        dup2(fd, 1);
        execl(bin, bin, "--listen", "127.0.0.1:0", "--secret", SECRET, (char *)NULL);
        _exit(127);
    }
    close(fd);
    for (int i = 0; i < 200 && !lr_base[0]; i++) {
        FILE *f = fopen(out, "r");
        char line[256];
        if (f && fgets(line, sizeof line, f) && sscanf(line, "logisim listening on %127s", lr_base) == 1)
            snprintf(lr_url, sizeof lr_url, "%s/events", lr_base);
        if (f) fclose(f);
        if (!lr_base[0]) e2e_sleep_ms(50);
    }
    unlink(out);
    return lr_base[0] ? 0 : -1;
}

static void lr_stop(void)
{
    if (lr_pid <= 0) return;
    kill(lr_pid, SIGTERM);
    int st = 0;
    waitpid(lr_pid, &st, 0);
    lr_pid = 0;
}

/* A request to the receiver's control API (tgsim's client: any base URL). */
static cJSON *lr(const char *method, const char *path, const char *body)
{
    tgh_sim_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.base, sizeof s.base, "%s", lr_base);
    long st = 0;
    return tgh_ctl(&s, method, path, body, &st);
}

/* The kept events of `posting` with type `type` (NULL: any), in arrival order (caller frees). */
static cJSON *lr_events(const char *posting, const char *type)
{
    cJSON *j = lr("GET", "/control/events", NULL);
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "events")) {
        if (strcmp(tgh_str((cJSON *)e, "posting_number"), posting) != 0) continue;
        if (type && strcmp(tgh_str((cJSON *)e, "type"), type) != 0) continue;
        cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    cJSON_Delete(j);
    return out;
}

/* Wait until the receiver keeps `n` events of posting (of type). */
static cJSON *lr_wait(const char *posting, const char *type, int n)
{
    double deadline = e2e_now() + LO_WAIT_S;
    cJSON *ev = NULL;
    for (;;) {
        cJSON_Delete(ev);
        ev = lr_events(posting, type);
        if (cJSON_GetArraySize(ev) >= n || e2e_now() > deadline) break;
        e2e_sleep_ms(100);
    }
    if (cJSON_GetArraySize(ev) < n) printf("# %s: %d %s events of %d arrived\n", posting, cJSON_GetArraySize(ev),
                                           type ? type : "", n);
    return ev;
}

static double lr_counter(const char *name)
{
    cJSON *j = lr("GET", "/control/events", NULL);
    double v = tgh_num(j, name);
    cJSON_Delete(j);
    return v;
}

/* Configure the receiver; returns its counter `name` as it is now. */
static double receiver_set(const char *config, const char *name)
{
    cJSON_Delete(lr("POST", "/control/config", config));
    return lr_counter(name);
}

/* delivery.booked of posting reaches the receiver once and is marked sent. */
static void booked_arrives_once(const char *posting)
{
    cJSON *ev = lr_wait(posting, "delivery.booked", 1);
    T_EQ_INT(cJSON_GetArraySize(ev), 1);
    cJSON_Delete(ev);
    T_CHECK(e2e_sql_until(WAIT_S, "t", "SELECT sent_at IS NOT NULL FROM logistics_outbox WHERE posting_number = $1",
                          posting, NULL));
}

/* ---- the chat ------------------------------------------------------------------------- */

static bool has(const cJSON *m, const char *needle)
{
    const char *t = e2e_text(m);
    bool ok = t && strstr(t, needle) != NULL;
    if (!ok) printf("# expected \"%s\" in: %.600s\n", needle, t ? t : "(none)");
    return ok;
}

/* The bot's answer to uid's text (action "text") or button (NULL text: the
 * next message); every one must come. */
static cJSON *answer(long long uid, const char *text)
{
    cJSON *m = text ? e2e_say(uid, "text", text, WAIT_S) : e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    return m;
}
#define reply(uid) answer(uid, NULL)
#define say(uid, text) answer(uid, text)

#define button e2e_button

static cJSON *press(long long uid, const cJSON *m, const char *data)
{
    cJSON *r = e2e_press(uid, m, data, WAIT_S);
    T_CHECK(r != NULL);
    return r;
}

static void ozon_posting(const char *posting, const char *phone)
{
    long st = 0;
    cJSON_Delete(e2e_xs("POST", "/control/ozon/postings", &st,
                        "{\"posting_number\":\"%s\",\"status\":\"awaiting_deliver\","
                        "\"customer\":{\"name\":\"Покупатель\",\"phone\":\"%s\",\"address\":\"ул. Мира, д. 1\","
                        "\"city\":\"Донецк\",\"latitude\":48.0,\"longitude\":37.8},"
                        "\"products\":[{\"name\":\"Товар\",\"price\":990,\"weight\":500,\"quantity\":1}]}",
                        posting, phone));
    T_EQ_INT(st, 200);
}

static void register_person(long long uid, const char *phone)
{
    T_CHECK(e2e_user(uid, "Клиент", phone, false) == 0);
    cJSON *a = e2e_act(uid, "command", "{\"command\":\"start\"}");
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON_Delete(reply(uid));
    a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_SHARE_PHONE));
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON_Delete(reply(uid));
}

/* plus7d running, and a registered client uid (phone +7949123<last 4
 * digits of uid>) who owns posting 12345678-<last 4 digits of uid>-1 in
 * extsim; returns uid. */
static long long client(long long uid, char posting[32])
{
    T_START();
    char phone[24];
    snprintf(posting, 32, "12345678-%04lld-1", uid % 10000);
    snprintf(phone, sizeof phone, "+7949123%04lld", uid % 10000);
    ozon_posting(posting, phone);
    register_person(uid, phone);
    return uid;
}

/* Through the form to the summary (Донецк, the first offered window). */
static cJSON *to_summary(long long uid, const char *posting)
{
    cJSON *a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_ORDER));
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON_Delete(reply(uid));
    cJSON_Delete(say(uid, posting));
    cJSON *m = say(uid, "Донецк, ул. Артёма, 100, кв. 5");
    const char *pick = button(m, "f:s:");
    T_CHECK(pick != NULL);
    char p[80];
    snprintf(p, sizeof p, "%s", pick ? pick : "");
    cJSON *s = press(uid, m, p);
    cJSON_Delete(m);
    T_CHECK(button(s, "f:ok:") != NULL);
    return s;
}

/* Book posting for uid; returns the confirmation message. */
static cJSON *book(long long uid, const char *posting)
{
    cJSON *s = to_summary(uid, posting);
    char ok[80];
    snprintf(ok, sizeof ok, "%s", button(s, "f:ok:") ? button(s, "f:ok:") : "");
    cJSON *m = press(uid, s, ok);
    cJSON_Delete(s);
    T_CHECK(has(m, "Доставка оформлена"));
    return m;
}

static const char *outbox(const char *posting, const char *what)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM logistics_outbox WHERE posting_number = $1 ORDER BY id LIMIT 1", what);
    return e2e_sqls(sql, posting, NULL);
}

/* ---- the cases ------------------------------------------------------------------------ */

T_CASE_TAGGED(booking_arrives_signed_with_its_details, "e2e")
{
    char posting[32];
    const long long uid = client(71601, posting);
    cJSON_Delete(book(uid, posting));
    cJSON *ev = lr_wait(posting, "delivery.booked", 1);
    T_EQ_INT(cJSON_GetArraySize(ev), 1);
    cJSON *e = cJSON_GetArrayItem(ev, 0);
    long long did = e2e_sql_int("SELECT id FROM deliveries WHERE posting_number = $1", posting, NULL);
    char want_id[64];
    snprintf(want_id, sizeof want_id, "delivery.booked:%lld", did);
    T_EQ_STR(tgh_str(e, "id"), want_id);
    T_EQ_STR(tgh_str(e, "address"), "Донецк, ул. Артёма, 100, кв. 5");
    T_EQ_STR(tgh_str(e, "phone"), "+79491231601");
    T_EQ_INT((long long)tgh_num(e, "price_kopecks"), 25000);
    T_EQ_STR(tgh_str(e, "slot.from"), e2e_sqls("SELECT to_char(slot_start, 'HH24:MI') FROM deliveries WHERE id = $1",
                                               e2e_i(did), NULL));
    T_CHECK(strlen(tgh_str(e, "at")) == 20);
    cJSON_Delete(ev);
    T_CHECK(e2e_sql_until(WAIT_S, "t", "SELECT sent_at IS NOT NULL FROM logistics_outbox WHERE event_id = $1",
                          want_id, NULL));
    T_EQ_INT((long long)lr_counter("bad_signature"), 0);
}

T_CASE_TAGGED(move_then_cancel_from_the_order_card, "e2e")
{
    char posting[32];
    const long long uid = client(71602, posting);
    cJSON_Delete(book(uid, posting));
    /* the card (as from «Мои заказы») carries the two buttons */
    cJSON *card = say(uid, posting);
    char mv[80], cx[80];
    snprintf(mv, sizeof mv, "dl:m:%s", posting);
    snprintf(cx, sizeof cx, "dl:x:%s", posting);
    T_CHECK(button(card, mv) != NULL);
    T_CHECK(button(card, cx) != NULL);
    const char *slot0 = e2e_sqls("SELECT slot_id || ':' || slot_date FROM deliveries WHERE posting_number = $1",
                                 posting, NULL);
    char before[64];
    snprintf(before, sizeof before, "%s", slot0 ? slot0 : "");
    /* move: the windows come, the current one left out */
    cJSON *w = press(uid, card, mv);
    T_CHECK(has(w, "Перенос доставки"));
    char prefix[80];
    snprintf(prefix, sizeof prefix, "dl:ms:%s:", posting);
    const char *to = button(w, prefix);
    T_CHECK(to != NULL);
    char tod[80];
    snprintf(tod, sizeof tod, "%s", to ? to : "");
    cJSON *m = press(uid, w, tod);
    T_CHECK(has(m, "перенесена"));
    cJSON_Delete(m);
    cJSON_Delete(w);
    T_CHECK(strcmp(e2e_sqls("SELECT slot_id || ':' || slot_date FROM deliveries WHERE posting_number = $1", posting,
                            NULL), before) != 0);
    T_EQ_INT(e2e_sql_int("SELECT moves FROM deliveries WHERE posting_number = $1", posting, NULL), 1);
    /* cancel: asked first, then done */
    cJSON *q = press(uid, card, cx);
    T_CHECK(has(q, "Отменить доставку"));
    char yes[80];
    snprintf(yes, sizeof yes, "dl:xy:%s", posting);
    T_CHECK(button(q, yes) != NULL);
    m = press(uid, q, yes);
    T_CHECK(has(m, "отменена"));
    cJSON_Delete(m);
    cJSON_Delete(q);
    cJSON_Delete(card);
    T_EQ_STR(e2e_sqls("SELECT status FROM deliveries WHERE posting_number = $1", posting, NULL), "cancelled");
    /* the logistics system learns all three, in that order */
    cJSON *ev = lr_wait(posting, NULL, 3);
    T_EQ_INT(cJSON_GetArraySize(ev), 3);
    T_EQ_STR(tgh_str(cJSON_GetArrayItem(ev, 0), "type"), "delivery.booked");
    T_EQ_STR(tgh_str(cJSON_GetArrayItem(ev, 1), "type"), "delivery.moved");
    T_EQ_STR(tgh_str(cJSON_GetArrayItem(ev, 2), "type"), "delivery.cancelled");
    T_CHECK(tgh_str(cJSON_GetArrayItem(ev, 1), "previous_slot.from")[0] != '\0');
    cJSON_Delete(ev);
    /* a second press of the old confirmation changes nothing */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM logistics_outbox WHERE posting_number = $1", posting, NULL), 3);
}

T_CASE_TAGGED(changes_after_the_cutoff_are_refused, "e2e")
{
    char posting[32];
    const long long uid = client(71603, posting);
    cJSON_Delete(book(uid, posting));
    /* the window now starts in 30 minutes (the cut-off is 120) */
    T_EQ_INT(e2e_sql_exec("UPDATE deliveries SET slot_date = ((now() + interval '30 minutes') AT TIME ZONE"
                          " 'Europe/Moscow')::date, slot_start = ((now() + interval '30 minutes') AT TIME ZONE"
                          " 'Europe/Moscow')::time WHERE posting_number = $1", posting, NULL), 0);
    cJSON *card = say(uid, posting);
    char cx[80];
    snprintf(cx, sizeof cx, "dl:x:%s", posting);
    cJSON *m = press(uid, card, cx);
    char want[512];
    snprintf(want, sizeof want, text_get(T_BOOK_TOO_LATE), 120);
    T_CHECK(has(m, want));
    cJSON_Delete(m);
    /* even the confirmation pressed late changes nothing */
    char yes[80];
    snprintf(yes, sizeof yes, "dl:xy:%s", posting);
    cJSON *a = e2e_act(uid, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\",\"force\":true}",
                       (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(card, "message_id")), yes);
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    m = reply(uid);
    T_CHECK(has(m, want));
    cJSON_Delete(m);
    cJSON_Delete(card);
    T_EQ_STR(e2e_sqls("SELECT status FROM deliveries WHERE posting_number = $1", posting, NULL), "ordered");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM logistics_outbox WHERE posting_number = $1"
                         " AND type <> 'delivery.booked'", posting, NULL), 0);
}

T_CASE_TAGGED(a_changed_tariff_is_confirmed_anew, "e2e")
{
    char posting[32];
    const long long uid = client(71604, posting);
    cJSON *s = to_summary(uid, posting);
    T_CHECK(has(s, "250,00 ₽"));
    T_EQ_INT(e2e_sql_exec("UPDATE tariffs SET price_kopecks = 27500 FROM delivery_zones z"
                          " WHERE z.id = tariffs.zone_id AND z.name = 'Донецк' AND weight_from_g = 0", NULL), 0);
    char ok[80];
    snprintf(ok, sizeof ok, "%s", button(s, "f:ok:") ? button(s, "f:ok:") : "");
    cJSON *m = press(uid, s, ok);
    cJSON_Delete(s);
    T_CHECK(has(m, "Цена доставки изменилась"));
    T_CHECK(has(m, "275,00 ₽"));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM deliveries WHERE posting_number = $1", posting, NULL), 0);
    snprintf(ok, sizeof ok, "%s", button(m, "f:ok:") ? button(m, "f:ok:") : "");
    cJSON *c = press(uid, m, ok);
    cJSON_Delete(m);
    T_CHECK(has(c, "Доставка оформлена"));
    cJSON_Delete(c);
    T_EQ_INT(e2e_sql_int("SELECT price_kopecks FROM deliveries WHERE posting_number = $1", posting, NULL), 27500);
    T_EQ_INT(e2e_sql_exec("UPDATE tariffs SET price_kopecks = 25000 FROM delivery_zones z"
                          " WHERE z.id = tariffs.zone_id AND z.name = 'Донецк' AND weight_from_g = 0", NULL), 0);
}

T_CASE_TAGGED(receiver_down_then_up, "e2e")
{
    char posting[32];
    const long long uid = client(71605, posting);
    double refused0 = receiver_set("{\"status\":503}", "refused");
    cJSON_Delete(book(uid, posting));
    /* tried, refused, tried again later: still waiting in the outbox */
    T_CHECK(e2e_sql_until(WAIT_S, "t", "SELECT attempts >= 2 AND sent_at IS NULL AND last_error = 'HTTP 503'"
                                       " AND next_at > now() FROM logistics_outbox WHERE posting_number = $1",
                          posting, NULL));
    T_CHECK(lr_counter("refused") >= refused0 + 2);
    cJSON *ev = lr_events(posting, NULL);
    T_EQ_INT(cJSON_GetArraySize(ev), 0);
    cJSON_Delete(ev);
    cJSON_Delete(lr("POST", "/control/config", "{\"status\":0}"));
    booked_arrives_once(posting);
    /* /metrics counts the refused requests and the accepted events */
    char url[256];
    snprintf(url, sizeof url, "%s/metrics", e2e_p7_base());
    tgh_resp_t r;
    memset(&r, 0, sizeof r);
    T_EQ_INT(tgh_http("GET", url, NULL, NULL, 0, &r), 0);
    T_CHECK(r.body && strstr(r.body, "plus7_logistics_out_requests_total{result=\"failed\"} ") != NULL);
    const char *line = r.body ? strstr(r.body, "\nplus7_logistics_out_events_total ") : NULL;
    T_CHECK(line && atoll(line + strlen("\nplus7_logistics_out_events_total ")) >= 1);
    tgh_resp_free(&r);
}

T_CASE_TAGGED(kill9_between_store_and_send, "e2e slow")
{
    char posting[32];
    const long long uid = client(71606, posting);
    /* no URL: the event is stored and waits */
    double stop_s = 0;
    T_EQ_INT(e2e_p7_stop(&stop_s), 0);
    e2e_p7_setenv("PLUS7_LOGISTICS_OUT_URL", NULL);
    T_EQ_INT(e2e_p7_start(), 0);
    cJSON_Delete(book(uid, posting));
    T_EQ_STR(outbox(posting, "(sent_at IS NULL AND attempts = 0)::text"), "true");
    e2e_p7_kill();
    e2e_p7_setenv("PLUS7_LOGISTICS_OUT_URL", lr_url);
    T_EQ_INT(e2e_p7_start(), 0);
    booked_arrives_once(posting);
}

T_CASE_TAGGED(kill9_between_send_and_mark, "e2e slow")
{
    char posting[32];
    const long long uid = client(71607, posting);
    /* the receiver keeps the events but answers late: plus7d dies waiting */
    double dups0 = receiver_set("{\"delay_ms\":5000}", "duplicates");
    cJSON_Delete(book(uid, posting));
    cJSON *ev = lr_wait(posting, "delivery.booked", 1);
    T_EQ_INT(cJSON_GetArraySize(ev), 1);
    cJSON_Delete(ev);
    e2e_p7_kill();
    T_EQ_STR(outbox(posting, "(sent_at IS NULL)::text"), "true");
    cJSON_Delete(lr("POST", "/control/config", "{\"delay_ms\":0}"));
    T_EQ_INT(e2e_p7_start(), 0);
    /* after the lease the batch is sent again: marked now, kept once */
    T_CHECK(e2e_sql_until(LO_WAIT_S, "t", "SELECT sent_at IS NOT NULL FROM logistics_outbox WHERE posting_number = $1",
                          posting, NULL));
    ev = lr_events(posting, NULL);
    T_EQ_INT(cJSON_GetArraySize(ev), 1);
    cJSON_Delete(ev);
    T_CHECK(lr_counter("duplicates") >= dups0 + 1);
}

int main(void)
{
    if (e2e_init("form_outbound", E2E_POLLING) == 0) {
        if (lr_start() != 0) printf("# logisim did not start\n");
        if (e2e_xs_start(0) != 0) printf("# extsim did not start\n");
        e2e_p7_setenv("PLUS7_OZON_API", e2e_xs_base());
        e2e_p7_setenv("PLUS7_OZON_CLIENT_ID", OZ_CLIENT_ID);
        e2e_p7_setenv("PLUS7_OZON_API_KEY", OZ_API_KEY);
        e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "0");
        e2e_p7_setenv("PLUS7_LOGISTICS_SECRET", SECRET);
        e2e_p7_setenv("PLUS7_LOGISTICS_OUT_URL", lr_url);
        const char *seed[] = {"seed", NULL};
        char out[512];
        if (e2e_p7_run(seed, out, sizeof out) != 0) printf("# plus7d seed: %s\n", out);
    }
    int rc = e2e_finish(t_run_all());
    lr_stop();
    return rc;
}
