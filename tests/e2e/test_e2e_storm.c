/* test_e2e_storm.c — a storm of 429 answers is honoured (polling mode).
 *
 * Purpose: tgsim is told to answer the next N sendMessage calls with
 * 429 retry_after=R; several people write at once. Every answer must still
 * arrive, tgsim must have counted exactly N forced 429s, and the bot must
 * make no sendMessage call within retry_after of a 429. The call times come
 * from tgsim's own log (it runs with --verbose: one "api_call method=...
 * status=..." line per Bot API call, millisecond timestamps). A call that
 * was already on its way when the 429 was answered lands within a few
 * milliseconds of it, so the quiet window checked is (t+250 ms, t+R-50 ms).
 *
 * Tags: "e2e slow". Threads: main thread only.
 */
#include "t.h"

#include <time.h>

#include "e2e_harness.h"
#include "texts.h"
#include "tgsim_harness.h"

#define PEOPLE 5
#define UID0 73001LL
#define FORCED 6
#define RETRY_AFTER 2

typedef struct call {
    long long ts_ms;
    int status;
} call_t;

/* "ts=2026-11-26T11:57:33.671Z" -> ms since the epoch; -1 if malformed. */
static long long parse_ts(const char *line)
{
    const char *p = strstr(line, "ts=");
    if (!p) return -1;
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(p + 3, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

/* sendMessage calls logged by tgsim after byte offset `from`. */
static int read_calls(long from, call_t *out, int cap)
{
    FILE *f = fopen(e2e_tg_log_path(), "r");
    if (!f) return -1;
    fseek(f, from, SEEK_SET);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < cap) {
        if (!strstr(line, "event=api_call") || !strstr(line, "method=sendMessage ")) continue;
        const char *s = strstr(line, "status=");
        long long ts = parse_ts(line);
        if (!s || ts < 0) continue;
        out[n].ts_ms = ts;
        out[n].status = atoi(s + 7);
        n++;
    }
    fclose(f);
    return n;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

T_CASE_TAGGED(storm_of_429_honoured, "e2e slow")
{
    T_CHECK(e2e_p7_ensure() == 0);
    long st = 0;
    /* only the forced 429s: tgsim's own flood limits off for this case */
    cJSON_Delete(e2e_tg("POST", "/control/config", &st, "{\"rate_limits\":false}"));
    T_EQ_INT(st, 200);
    for (int i = 0; i < PEOPLE; i++) T_CHECK(e2e_user(UID0 + i, "Шторм", NULL, false) == 0);
    cJSON *s0 = e2e_tg("GET", "/control/stats", NULL, NULL);
    double forced0 = tgh_num(s0, "forced_429");
    cJSON_Delete(s0);

    long from = file_size(e2e_tg_log_path());
    cJSON_Delete(e2e_tg("POST", "/control/faults", &st,
                        "{\"too_many_requests\":{\"count\":%d,\"retry_after\":%d,\"methods\":[\"sendMessage\"]}}",
                        FORCED, RETRY_AFTER));
    T_EQ_INT(st, 200);
    double t0 = e2e_now();
    for (int i = 0; i < PEOPLE; i++) {
        cJSON *a = e2e_act(UID0 + i, "text", "{\"text\":\"/help\"}");
        T_CHECK(a != NULL);
        cJSON_Delete(a);
    }
    for (int i = 0; i < PEOPLE; i++) {
        cJSON *m = e2e_reply(UID0 + i, 60);
        T_CHECK(m != NULL);
        T_EQ_STR(e2e_text(m), text_get(T_HELP_GUEST));
        cJSON_Delete(m);
        T_EQ_INT(e2e_bot_count(UID0 + i), 1);
    }
    double took = e2e_now() - t0;

    cJSON *s1 = e2e_tg("GET", "/control/stats", NULL, NULL);
    double forced = tgh_num(s1, "forced_429") - forced0;
    cJSON_Delete(s1);
    cJSON *fl = e2e_tg("GET", "/control/faults", NULL, NULL);
    double left = tgh_num(fl, "too_many_requests.count");
    cJSON_Delete(fl);
    cJSON_Delete(e2e_tg("POST", "/control/config", &st, "{\"rate_limits\":true}"));
    printf("# %d answers through %d forced 429s (retry_after=%d) in %.2f s; faults left: %.0f\n", PEOPLE,
           (int)forced, RETRY_AFTER, took, left);
    T_EQ_INT((int)forced, FORCED);
    /* at least one full pause per wave of 429s */
    T_CHECK(took >= RETRY_AFTER);

    call_t calls[256];
    int n = read_calls(from, calls, 256);
    T_CHECK(n >= FORCED + PEOPLE);
    int n429 = 0, n200 = 0, early = 0;
    for (int i = 0; i < n; i++) {
        if (calls[i].status == 429) n429++;
        else if (calls[i].status == 200) n200++;
    }
    T_EQ_INT(n429, FORCED);
    T_EQ_INT(n200, PEOPLE);
    for (int i = 0; i < n; i++) {
        if (calls[i].status != 429) continue;
        for (int k = 0; k < n; k++) {
            long long d = calls[k].ts_ms - calls[i].ts_ms;
            if (d > 250 && d < RETRY_AFTER * 1000 - 50) {
                printf("# a sendMessage (status %d) %lld ms after a 429 with retry_after=%d\n", calls[k].status, d,
                       RETRY_AFTER);
                early++;
            }
        }
    }
    T_EQ_INT(early, 0);
}

int main(void)
{
    e2e_init("storm", E2E_POLLING);
    return e2e_finish(t_run_all());
}
