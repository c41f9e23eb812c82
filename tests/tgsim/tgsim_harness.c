/* tgsim_harness.c — start/stop tgsim and talk to it (see tgsim_harness.h).
 *
 * Exports: the tgh_* functions. Threads: see the header.
 */
#include "tgsim_harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

void tgh_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

double tgh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tgh_start(tgh_sim_t *s, const char *const *args)
{
    static int curl_ready;
    if (!curl_ready) { curl_global_init(CURL_GLOBAL_DEFAULT); curl_ready = 1; }
    const char *bin = getenv("TGSIM_BIN");
    if (!bin || !*bin) { printf("# TGSIM_BIN is not set (run through meson test)\n"); return -1; }
    const char *argv[40];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--threads";
    argv[n++] = "32";
    for (int i = 0; args && args[i] && n < 38; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* a crashed or killed test must not leave tgsim running */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1) _exit(127);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    if (!f || !fgets(line, sizeof line, f)) {
        printf("# tgsim did not start (%s)\n", bin);
        if (f) fclose(f);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    fclose(f);                  /* tgsim writes nothing else to stdout */
    const char *colon = strrchr(line, ':');
    s->pid = pid;
    s->port = colon ? atoi(colon + 1) : 0;
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    return s->port > 0 ? 0 : -1;
}

int tgh_stop(tgh_sim_t *s)
{
    if (s->pid <= 0) return -1;
    kill(s->pid, SIGTERM);
    int st = 0;
    double deadline = tgh_now() + 15;
    for (;;) {
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) break;
        if (tgh_now() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            s->pid = 0;
            return -1;
        }
        tgh_sleep_ms(20);
    }
    s->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct {
    char *p;
    size_t len;
} tgh_sink_t;

static size_t tgh_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    tgh_sink_t *s = ud;
    size_t n = size * nmemb;
    char *q = realloc(s->p, s->len + n + 1);
    if (!q) return 0;
    s->p = q;
    memcpy(s->p + s->len, ptr, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

int tgh_http(const char *method, const char *url, const char *ctype, const char *body, size_t len, tgh_resp_t *r)
{
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    if (!h) return -1;
    tgh_sink_t sink = {0};
    struct curl_slist *hdrs = NULL;
    char ct[256];
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, ct);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tgh_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        char *t = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &t);
        r->ctype = t ? strdup(t) : NULL;
    }
    r->body = sink.p ? sink.p : strdup("");
    r->len = sink.len;
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}

void tgh_resp_free(tgh_resp_t *r)
{
    free(r->body);
    free(r->ctype);
    memset(r, 0, sizeof *r);
}

static cJSON *tgh_call(const char *method, const char *url, const char *ctype, const char *body, long *status)
{
    tgh_resp_t r;
    tgh_http(method, url, ctype, body, body ? strlen(body) : 0, &r);
    if (status) *status = r.status;
    cJSON *j = cJSON_Parse(r.body);
    tgh_resp_free(&r);
    return j;
}

cJSON *tgh_api(tgh_sim_t *s, const char *method, const char *json, long *status)
{
    char url[256];
    snprintf(url, sizeof url, "%s/bot%s/%s", s->base, TGH_TOKEN, method);
    return tgh_call("POST", url, json ? "application/json" : NULL, json, status);
}

cJSON *tgh_api_form(tgh_sim_t *s, const char *method, const char *form, long *status)
{
    char url[256];
    snprintf(url, sizeof url, "%s/bot%s/%s", s->base, TGH_TOKEN, method);
    return tgh_call("POST", url, "application/x-www-form-urlencoded", form, status);
}

cJSON *tgh_ctl(tgh_sim_t *s, const char *method, const char *path, const char *json, long *status)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    return tgh_call(method, url, json ? "application/json" : NULL, json, status);
}

int tgh_fresh(tgh_sim_t *s)
{
    long st1 = 0, st2 = 0;
    cJSON_Delete(tgh_ctl(s, "POST", "/control/reset", "{\"bot_settings\":true}", &st1));
    cJSON_Delete(tgh_ctl(s, "POST", "/control/config",
                         "{\"rate_limits\":false,\"webhook_retry_ms\":50,\"webhook_retry_max_ms\":200,"
                         "\"webhook_timeout_ms\":5000,\"callback_timeout_ms\":15000,\"precheckout_timeout_ms\":10000}",
                         &st2));
    return st1 == 200 && st2 == 200 ? 0 : -1;
}

cJSON *tgh_path(cJSON *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = root;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(cur)) {
            char *end;
            long i = strtol(t, &end, 10);
            if (*end) return NULL;
            if (i < 0) i += cJSON_GetArraySize(cur);
            cur = cJSON_GetArrayItem(cur, (int)i);
        } else {
            cur = cJSON_GetObjectItemCaseSensitive(cur, t);
        }
    }
    return cur;
}

const char *tgh_str(cJSON *root, const char *path)
{
    cJSON *v = tgh_path(root, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

double tgh_num(cJSON *root, const char *path)
{
    cJSON *v = tgh_path(root, path);
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return -1e300;
}
