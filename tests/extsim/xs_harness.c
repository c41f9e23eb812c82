/* xs_harness.c — child-process and HTTP helpers for the extsim tests (see
 * xs_harness.h).
 *
 * Threads: test threads.
 */
#include "xs_harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t xs_curl_once = PTHREAD_ONCE_INIT;

static void xs_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *xs_bin(void)
{
    const char *b = getenv("EXTSIM_BIN");
    return b && *b ? b : "build/tools/extsim/extsim";
}

static double xs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Children still running at exit are killed, so a failed test leaves no
 * extsim behind. */
static pid_t xs_children[8];

static void xs_atexit(void)
{
    for (int i = 0; i < 8; i++)
        if (xs_children[i] > 0) {
            kill(xs_children[i], SIGKILL);
            waitpid(xs_children[i], NULL, 0);
        }
}

static void xs_track(pid_t pid, int add)
{
    static int registered;
    if (!registered) { atexit(xs_atexit); registered = 1; }
    for (int i = 0; i < 8; i++)
        if (add ? xs_children[i] == 0 : xs_children[i] == pid) {
            xs_children[i] = add ? pid : 0;
            return;
        }
}

int xs_start(xs_server_t *s, const char *const *args)
{
    memset(s, 0, sizeof *s);
    int fds[2];
    if (pipe(fds) != 0) return -1;
    const char *argv[64];
    int n = 0;
    argv[n++] = xs_bin();
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    for (int i = 0; args && args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    s->pid = pid;
    xs_track(pid, 1);
    char buf[512];
    size_t len = 0;
    double deadline = xs_now() + 20.0;
    while (len < sizeof buf - 1 && !memchr(buf, '\n', len)) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int ms = (int)((deadline - xs_now()) * 1000);
        if (ms <= 0 || poll(&p, 1, ms) <= 0) break;
        ssize_t r = read(fds[0], buf + len, sizeof buf - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(fds[0]);
    const char *colon = strrchr(buf, ':');
    if (!strstr(buf, "listening on http://") || !colon) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        xs_track(pid, 0);
        s->pid = 0;
        return -1;
    }
    s->port = atoi(colon + 1);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    return s->port > 0 ? 0 : -1;
}

static int xs_wait_status(pid_t pid, double timeout)
{
    double deadline = xs_now() + timeout;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return -1;
        if (xs_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(10000);
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

int xs_stop(xs_server_t *s)
{
    if (s->pid <= 0) return -1;
    kill(s->pid, SIGTERM);
    int rc = xs_wait_status(s->pid, 20.0);
    xs_track(s->pid, 0);
    s->pid = 0;
    return rc;
}

int xs_run_exit(const char *const *args)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = xs_bin();
    for (int i = 0; args && args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return xs_wait_status(pid, 20.0);
}

typedef struct xs_buf {
    char *p;
    size_t n;
} xs_buf_t;

static size_t xs_write(char *data, size_t size, size_t nmemb, void *ud)
{
    xs_buf_t *b = ud;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np) return 0;
    memcpy(np + b->n, data, add);
    b->p = np;
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

int xs_http(const xs_server_t *s, const char *method, const char *path, const char *const *headers,
            const char *body, xs_resp_t *out)
{
    pthread_once(&xs_curl_once, xs_curl_init);
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c) return -1;
    char url[2048];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    xs_buf_t b = {NULL, 0}, h = {NULL, 0};
    struct curl_slist *hl = NULL;
    for (int i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, xs_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, xs_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    double t0 = xs_now();
    CURLcode rc = curl_easy_perform(c);
    out->seconds = xs_now() - t0;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->body = b.p ? b.p : strdup("");
    out->len = b.n;
    out->headers = h.p ? h.p : strdup("");
    out->json = cJSON_Parse(out->body);
    return rc == CURLE_OK ? 0 : -1;
}

int xs_ozon(const xs_server_t *s, const char *path, const char *json, xs_resp_t *out)
{
    const char *h[] = {"Client-Id: " XS_OZON_CLIENT_ID, "Api-Key: " XS_OZON_API_KEY,
                       "Content-Type: application/json", NULL};
    return xs_http(s, "POST", path, h, json ? json : "{}", out);
}

int xs_ctl(const xs_server_t *s, const char *method, const char *path, const char *json, xs_resp_t *out)
{
    const char *h[] = {"Content-Type: application/json", NULL};
    return xs_http(s, method, path, h, json, out);
}

void xs_resp_free(xs_resp_t *r)
{
    free(r->body);
    free(r->headers);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

const cJSON *xs_get(const cJSON *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = root;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(cur)) {
            char *end;
            long i = strtol(tok, &end, 10);
            cur = *end ? NULL : cJSON_GetArrayItem(cur, (int)i);
        } else {
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        }
    }
    return cur;
}

const char *xs_str(const cJSON *root, const char *path)
{
    const cJSON *v = xs_get(root, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double xs_num(const cJSON *root, const char *path)
{
    const cJSON *v = xs_get(root, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -999999;
}
