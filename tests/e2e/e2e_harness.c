/* e2e_harness.c — the end-to-end harness (see e2e_harness.h).
 *
 * Exports: the e2e_* functions. Threads: see the header; the state below
 * is written on the main thread only (setup, start/stop, cursors).
 */
#include "e2e_harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "tgsim_harness.h"

extern char **environ;

#define E2E_READY_TIMEOUT_S 60.0   /* plus7d/tgsim start-up under sanitizers */
#define E2E_STOP_TIMEOUT_S 30.0
#define E2E_MAX_ENV 16
#define E2E_MAX_CHATS 1024

typedef struct e2e_child {
    pid_t pid;
    int port;
    char base[64];
    char log[512];
} e2e_child_t;

static struct {
    bool ready;
    e2e_mode_t mode;
    char name[64];
    char tmpdir[256];
    const char *p7_bin, *tg_bin, *xs_bin;
    char admin_conninfo[2048];     /* $PLUS7_DB */
    char db_conninfo[2048];        /* the same server, our database */
    char db_name[96];
    PGconn *db;
    e2e_child_t p7, tg, xs;
    char *extra_env[E2E_MAX_ENV];
    long long cursor_chat[E2E_MAX_CHATS];
    long long cursor_id[E2E_MAX_CHATS];
    int ncursors;
} g;

/* ---- small helpers ---------------------------------------------------------- */

double e2e_now(void) { return tgh_now(); }
void e2e_sleep_ms(int ms) { tgh_sleep_ms(ms); }

const char *e2e_i(long long n)
{
    static char bufs[16][24];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%lld", n);
    return b;
}

e2e_mode_t e2e_mode(void) { return g.mode; }
const char *e2e_mode_name(void) { return g.mode == E2E_WEBHOOK ? "webhook" : "polling"; }
const char *e2e_p7_base(void) { return g.p7.base; }
const char *e2e_tg_base(void) { return g.tg.base; }
const char *e2e_xs_base(void) { return g.xs.base; }
int e2e_xs_port(void) { return g.xs.port; }
const char *e2e_tg_log_path(void) { return g.tg.log; }

int e2e_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static long e2e_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Print the last `lines` lines of a log file as TAP comments. */
static void e2e_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f), pos = size;
    int seen = 0;
    while (pos > 0 && seen <= lines) {
        pos--;
        fseek(f, pos, SEEK_SET);
        if (fgetc(f) == '\n') seen++;
    }
    if (pos > 0) pos++;
    fseek(f, pos, SEEK_SET);
    printf("# ---- last lines of %s\n", path);
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        printf("#   %s\n", line);
    }
    fclose(f);
}

/* ---- child processes -------------------------------------------------------- */

/* fork/exec argv with envp, stdout+stderr appended to log. */
static pid_t e2e_spawn(const char *const *argv, char *const *envp, const char *log)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* die with the test, so a crashed test leaves nothing running */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) { dup2(devnull, 0); close(devnull); }
        execve(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    return pid;
}

/* Wait for pid with a deadline; returns the raw status or -1 on timeout. */
static int e2e_reap(pid_t pid, double timeout_s, int *status)
{
    double deadline = e2e_now() + timeout_s;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 0;
        if (r < 0 && errno != EINTR) return -1;
        if (e2e_now() > deadline) return -1;
        e2e_sleep_ms(10);
    }
}

static int e2e_status_code(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return -1;
}

static void e2e_describe_status(const char *who, int st)
{
    if (WIFEXITED(st)) printf("# %s exited with status %d\n", who, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("# %s died by signal %d\n", who, WTERMSIG(st));
}

/* Scan log from offset for "listening on http://HOST:PORT". */
static int e2e_wait_listening(e2e_child_t *c, long from, double timeout_s)
{
    double deadline = e2e_now() + timeout_s;
    while (e2e_now() < deadline) {
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
            e2e_describe_status(c->log, st);
            c->pid = 0;
            return -1;
        }
        FILE *f = fopen(c->log, "r");
        if (f) {
            fseek(f, from, SEEK_SET);
            char line[1024];
            while (fgets(line, sizeof line, f)) {
                const char *p = strstr(line, "listening on http://");
                if (!p) continue;
                const char *colon = strrchr(p, ':');
                int port = colon ? atoi(colon + 1) : 0;
                if (port > 0) {
                    fclose(f);
                    c->port = port;
                    snprintf(c->base, sizeof c->base, "http://127.0.0.1:%d", port);
                    return 0;
                }
            }
            fclose(f);
        }
        e2e_sleep_ms(20);
    }
    printf("# %s: no \"listening on\" line within %.0f s\n", c->log, timeout_s);
    return -1;
}

static int e2e_child_stop(e2e_child_t *c, double *seconds)
{
    if (c->pid <= 0) return -1;
    double t0 = e2e_now();
    kill(c->pid, SIGTERM);
    int st = 0;
    if (e2e_reap(c->pid, E2E_STOP_TIMEOUT_S, &st) != 0) {
        printf("# %s: no exit within %.0f s of SIGTERM, killed\n", c->log, E2E_STOP_TIMEOUT_S);
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &st, 0);
        c->pid = 0;
        if (seconds) *seconds = e2e_now() - t0;
        return -1;
    }
    if (seconds) *seconds = e2e_now() - t0;
    c->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) e2e_describe_status(c->log, st);
    return e2e_status_code(st);
}

/* ---- HTTP ------------------------------------------------------------------- */

static cJSON *e2e_call(const char *base, const char *method, const char *path, long *status, const char *fmt,
                       va_list ap)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    char *body = NULL;
    if (fmt && vasprintf(&body, fmt, ap) < 0) body = NULL;
    tgh_resp_t r;
    tgh_http(method, url, body ? "application/json" : NULL, body, body ? strlen(body) : 0, &r);
    free(body);
    if (status) *status = r.status;
    cJSON *j = cJSON_Parse(r.body);
    tgh_resp_free(&r);
    return j;
}

cJSON *e2e_tg(const char *method, const char *path, long *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cJSON *j = e2e_call(g.tg.base, method, path, status, fmt, ap);
    va_end(ap);
    return j;
}

cJSON *e2e_xs(const char *method, const char *path, long *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cJSON *j = e2e_call(g.xs.base, method, path, status, fmt, ap);
    va_end(ap);
    return j;
}

long e2e_webhook_post(const char *secret, const char *body)
{
    char url[256], hdr[512];
    snprintf(url, sizeof url, "%s/telegram/webhook", g.p7.base);
    CURL *h = curl_easy_init();
    if (!h) return 0;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (secret) {
        snprintf(hdr, sizeof hdr, "X-Telegram-Bot-Api-Secret-Token: %s", secret);
        hdrs = curl_slist_append(hdrs, hdr);
    }
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (sink) curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (sink) fclose(sink);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return code;
}

static long e2e_get_status(const char *url)
{
    tgh_resp_t r;
    tgh_http("GET", url, NULL, NULL, 0, &r);
    long s = r.status;
    tgh_resp_free(&r);
    return s;
}

/* ---- database ----------------------------------------------------------------- */

/* Append key='value' (libpq quoting) to out. */
static void e2e_conninfo_add(char *out, size_t cap, const char *key, const char *val)
{
    size_t n = strlen(out);
    n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s='", n ? " " : "", key);
    for (const char *p = val; *p && n + 3 < cap; p++) {
        if (*p == '\'' || *p == '\\') out[n++] = '\\';
        out[n++] = *p;
    }
    if (n + 2 < cap) { out[n++] = '\''; out[n] = '\0'; }
}

/* The conninfo of $PLUS7_DB with dbname replaced. */
static int e2e_conninfo_with_db(const char *conninfo, const char *db, char *out, size_t cap)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        printf("# PLUS7_DB is not a valid conninfo: %s\n", err ? err : "?");
        PQfreemem(err);
        return -1;
    }
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "dbname") == 0) continue;
        if (o->val && *o->val) e2e_conninfo_add(out, cap, o->keyword, o->val);
    }
    e2e_conninfo_add(out, cap, "dbname", db);
    PQconninfoFree(opts);
    return 0;
}

static PGresult *e2e_sql_va(const char *sql, va_list ap)
{
    const char *params[16];
    int n = 0;
    const char *p;
    while ((p = va_arg(ap, const char *)) != NULL && n < 16) params[n++] = p;
    if (!g.db) {
        printf("# no test database\n");
        return NULL;
    }
    PGresult *r = PQexecParams(g.db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        printf("# SQL failed: %s -- %s\n", sql, PQresultErrorMessage(r));
        PQclear(r);
        if (PQstatus(g.db) != CONNECTION_OK) PQreset(g.db);
        return NULL;
    }
    return r;
}

static char *e2e_first(PGresult *r)
{
    char *v = NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

char *e2e_sql1(const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *r = e2e_sql_va(sql, ap);
    va_end(ap);
    return e2e_first(r);
}

const char *e2e_sqls(const char *sql, ...)
{
    static char bufs[16][1024];
    static unsigned next;
    va_list ap;
    va_start(ap, sql);
    PGresult *r = e2e_sql_va(sql, ap);
    va_end(ap);
    char *v = e2e_first(r);
    if (!v) return NULL;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s", v);
    free(v);
    return b;
}

long long e2e_sql_int(const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *r = e2e_sql_va(sql, ap);
    va_end(ap);
    char *v = e2e_first(r);
    long long n = v ? strtoll(v, NULL, 10) : -1;
    free(v);
    return n;
}

int e2e_sql_exec(const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *r = e2e_sql_va(sql, ap);
    va_end(ap);
    if (!r) return -1;
    PQclear(r);
    return 0;
}

bool e2e_sql_until(double timeout_s, const char *expect, const char *sql, ...)
{
    double deadline = e2e_now() + timeout_s;
    char *last = NULL;
    for (;;) {
        va_list ap;
        va_start(ap, sql);
        PGresult *r = e2e_sql_va(sql, ap);
        va_end(ap);
        free(last);
        last = e2e_first(r);
        bool hit = expect ? (last && strcmp(last, expect) == 0) : last == NULL;
        if (hit) { free(last); return true; }
        if (e2e_now() > deadline) break;
        e2e_sleep_ms(50);
    }
    printf("# waited %.1f s for \"%s\" from: %s -- last value: %s\n", timeout_s, expect ? expect : "(null)", sql,
           last ? last : "(null)");
    free(last);
    return false;
}

/* Drop e2e_* databases whose test process is gone (a crashed run). */
static void e2e_drop_stale(PGconn *admin)
{
    PGresult *r = PQexec(admin, "SELECT datname FROM pg_database WHERE datname ~ '^e2e_[a-z0-9_]+_[0-9]+$'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) { PQclear(r); return; }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        const char *us = strrchr(name, '_');
        long pid = us ? strtol(us + 1, NULL, 10) : 0;
        if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char sql[256];
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
            PQclear(PQexec(admin, sql));
        }
    }
    PQclear(r);
}

static int e2e_admin_exec(const char *sql)
{
    PGconn *admin = PQconnectdb(g.admin_conninfo);
    if (PQstatus(admin) != CONNECTION_OK) {
        printf("# cannot connect to PLUS7_DB: %s", PQerrorMessage(admin));
        PQfinish(admin);
        return -1;
    }
    e2e_drop_stale(admin);
    PGresult *r = PQexec(admin, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) printf("# %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(admin);
    return ok ? 0 : -1;
}

/* ---- plus7d ----------------------------------------------------------------------- */

void e2e_p7_setenv(const char *name, const char *value)
{
    size_t nl = strlen(name);
    for (int i = 0; i < E2E_MAX_ENV; i++) {
        if (g.extra_env[i] && strncmp(g.extra_env[i], name, nl) == 0 && g.extra_env[i][nl] == '=') {
            free(g.extra_env[i]);
            g.extra_env[i] = NULL;
        }
    }
    if (!value) return;
    for (int i = 0; i < E2E_MAX_ENV; i++) {
        if (g.extra_env[i]) continue;
        if (asprintf(&g.extra_env[i], "%s=%s", name, value) < 0) g.extra_env[i] = NULL;
        return;
    }
}

/* The environment of plus7d: ours minus every PLUS7_*, plus the test's. */
static char **e2e_p7_env(bool serve)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + E2E_MAX_ENV + 16, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "PLUS7_", 6) != 0) env[k++] = strdup(environ[i]);
    char buf[2300];
    snprintf(buf, sizeof buf, "PLUS7_DB=%s", g.db_conninfo);
    env[k++] = strdup(buf);
    if (serve) {
        snprintf(buf, sizeof buf, "PLUS7_LISTEN=127.0.0.1:%d", g.p7.port);
        env[k++] = strdup(buf);
        env[k++] = strdup("PLUS7_TG_TOKEN=" E2E_TOKEN);
        snprintf(buf, sizeof buf, "PLUS7_TG_API=%s", g.tg.base);
        env[k++] = strdup(buf);
        env[k++] = strdup("PLUS7_THREADS=2");
        if (g.mode == E2E_WEBHOOK) {
            env[k++] = strdup("PLUS7_TG_MODE=webhook");
            snprintf(buf, sizeof buf, "PLUS7_TG_WEBHOOK_URL=http://127.0.0.1:%d/telegram/webhook", g.p7.port);
            env[k++] = strdup(buf);
            env[k++] = strdup("PLUS7_TG_SECRET=" E2E_SECRET);
        } else {
            env[k++] = strdup("PLUS7_TG_MODE=polling");
        }
        for (int i = 0; i < E2E_MAX_ENV; i++)
            if (g.extra_env[i]) env[k++] = strdup(g.extra_env[i]);
    }
    env[k] = NULL;
    return env;
}

static void e2e_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++) free(env[i]);
    free(env);
}

bool e2e_p7_running(void) { return g.p7.pid > 0; }

int e2e_p7_start(void)
{
    if (!g.ready) return -1;
    if (g.p7.pid > 0) return 0;
    char **env = e2e_p7_env(true);
    const char *argv[] = {g.p7_bin, "serve", NULL};
    FILE *f = fopen(g.p7.log, "a");
    if (f) { fprintf(f, "==== e2e: plus7d serve (%s mode)\n", e2e_mode_name()); fclose(f); }
    g.p7.pid = e2e_spawn(argv, env, g.p7.log);
    e2e_env_free(env);
    if (g.p7.pid <= 0) { g.p7.pid = 0; return -1; }
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", g.p7.base);
    double deadline = e2e_now() + E2E_READY_TIMEOUT_S;
    while (e2e_now() < deadline) {
        int st;
        if (waitpid(g.p7.pid, &st, WNOHANG) == g.p7.pid) {
            e2e_describe_status("plus7d serve", st);
            g.p7.pid = 0;
            e2e_tail(g.p7.log, 20);
            return -1;
        }
        if (e2e_get_status(url) == 200) return 0;
        e2e_sleep_ms(50);
    }
    printf("# plus7d: /healthz not 200 within %.0f s\n", E2E_READY_TIMEOUT_S);
    e2e_p7_kill();
    return -1;
}

int e2e_p7_ensure(void)
{
    if (!g.ready) {
        printf("# the e2e harness is not set up (see the comments above)\n");
        return -1;
    }
    if (g.p7.pid > 0) {
        int st;
        if (waitpid(g.p7.pid, &st, WNOHANG) != g.p7.pid) return 0;
        e2e_describe_status("plus7d (unexpectedly)", st);
        e2e_tail(g.p7.log, 30);
        g.p7.pid = 0;
        e2e_p7_start();
        return -1;
    }
    return e2e_p7_start();
}

int e2e_p7_stop(double *seconds)
{
    FILE *f = fopen(g.p7.log, "a");
    if (f) { fprintf(f, "==== e2e: SIGTERM\n"); fclose(f); }
    return e2e_child_stop(&g.p7, seconds);
}

void e2e_p7_kill(void)
{
    if (g.p7.pid <= 0) return;
    kill(g.p7.pid, SIGKILL);
    waitpid(g.p7.pid, NULL, 0);
    g.p7.pid = 0;
    FILE *f = fopen(g.p7.log, "a");
    if (f) { fprintf(f, "==== e2e: SIGKILL\n"); fclose(f); }
}

int e2e_p7_run(const char *const *args, char *out, size_t outsz)
{
    char **env = e2e_p7_env(false);
    const char *argv[16];
    int n = 0;
    argv[n++] = g.p7_bin;
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    char outpath[600];
    snprintf(outpath, sizeof outpath, "%s/cli.out", g.tmpdir);
    unlink(outpath);
    pid_t pid = e2e_spawn(argv, env, outpath);
    e2e_env_free(env);
    if (pid <= 0) return -1;
    int st = 0;
    if (e2e_reap(pid, 120, &st) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    if (out && outsz) {
        out[0] = '\0';
        FILE *f = fopen(outpath, "r");
        if (f) {
            size_t got = fread(out, 1, outsz - 1, f);
            out[got] = '\0';
            fclose(f);
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        e2e_describe_status(argv[1], st);
        e2e_tail(outpath, 10);
    }
    return e2e_status_code(st);
}

/* ---- tgsim ------------------------------------------------------------------------ */

static int e2e_tg_start(void)
{
    const char *argv[] = {g.tg_bin, "--listen", "127.0.0.1:0", "--token", E2E_TOKEN, "--threads", "64",
                          "--webhook-retry-ms", "100", "--webhook-retry-max-ms", "1000", "--verbose", NULL};
    long from = e2e_file_size(g.tg.log);
    g.tg.pid = e2e_spawn(argv, environ, g.tg.log);
    if (g.tg.pid <= 0) { g.tg.pid = 0; return -1; }
    if (e2e_wait_listening(&g.tg, from, E2E_READY_TIMEOUT_S) != 0) {
        e2e_tail(g.tg.log, 10);
        return -1;
    }
    return 0;
}

int e2e_user(long long id, const char *first_name, const char *phone, bool started)
{
    long st = 0;
    cJSON *j;
    if (phone)
        j = e2e_tg("POST", "/control/users", &st,
                   "{\"id\":%lld,\"first_name\":\"%s\",\"phone\":\"%s\",\"language_code\":\"ru\",\"started\":%s}",
                   id, first_name, phone, started ? "true" : "false");
    else
        j = e2e_tg("POST", "/control/users", &st,
                   "{\"id\":%lld,\"first_name\":\"%s\",\"language_code\":\"ru\",\"started\":%s}", id, first_name,
                   started ? "true" : "false");
    cJSON_Delete(j);
    if (st != 200) printf("# tgsim: creating user %lld: HTTP %ld\n", id, st);
    return st == 200 ? 0 : -1;
}

cJSON *e2e_act(long long uid, const char *action, const char *fmt, ...)
{
    char path[256];
    snprintf(path, sizeof path, "/control/users/%lld/%s", uid, action);
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (fmt && vasprintf(&body, fmt, ap) < 0) body = NULL;
    va_end(ap);
    long st = 0;
    cJSON *j = e2e_tg("POST", path, &st, "%s", body ? body : "{}");
    free(body);
    if (st != 200) {
        char *s = j ? cJSON_PrintUnformatted(j) : NULL;
        printf("# tgsim %s as %lld: HTTP %ld %s\n", action, uid, st, s ? s : "");
        free(s);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *e2e_say(long long uid, const char *action, const char *text, double timeout_s)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "text", text);
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    cJSON *a = json ? e2e_act(uid, action, "%s", json) : NULL;
    free(json);
    if (!a) return NULL;
    cJSON_Delete(a);
    return e2e_reply(uid, timeout_s);
}

static int e2e_cursor_slot(long long chat, bool create)
{
    for (int i = 0; i < g.ncursors; i++)
        if (g.cursor_chat[i] == chat) return i;
    if (!create || g.ncursors >= E2E_MAX_CHATS) return -1;
    g.cursor_chat[g.ncursors] = chat;
    g.cursor_id[g.ncursors] = 0;
    return g.ncursors++;
}

long long e2e_cursor(long long chat)
{
    int i = e2e_cursor_slot(chat, false);
    return i < 0 ? 0 : g.cursor_id[i];
}

void e2e_cursor_set(long long chat, long long message_id)
{
    int i = e2e_cursor_slot(chat, true);
    if (i >= 0) g.cursor_id[i] = message_id;
}

cJSON *e2e_wait(long long chat, int count, long long after_id, double timeout_s, bool *ok)
{
    char path[256];
    snprintf(path, sizeof path, "/control/chats/%lld/wait?count=%d&after_id=%lld&timeout=%d", chat, count, after_id,
             (int)(timeout_s + 0.999));
    long st = 0;
    cJSON *j = e2e_tg("GET", path, &st, NULL);
    if (ok) *ok = st == 200 && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
    return j;
}

cJSON *e2e_reply(long long chat, double timeout_s)
{
    long long after = e2e_cursor(chat);
    bool ok = false;
    cJSON *j = e2e_wait(chat, 1, after, timeout_s, &ok);
    cJSON *msgs = cJSON_GetObjectItem(j, "messages");
    cJSON *m = ok ? cJSON_GetArrayItem(msgs, 0) : NULL;
    if (!m) {
        printf("# no bot message in chat %lld after message %lld within %.0f s\n", chat, after, timeout_s);
        cJSON_Delete(j);
        return NULL;
    }
    cJSON *copy = cJSON_Duplicate(m, 1);
    e2e_cursor_set(chat, (long long)tgh_num(copy, "message_id"));
    cJSON_Delete(j);
    return copy;
}

const char *e2e_button(const cJSON *m, const char *prefix)
{
    static char buf[8][80];
    static int n;
    const cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
    const cJSON *row, *btn;
    cJSON_ArrayForEach(row, kb) cJSON_ArrayForEach(btn, row) {
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(btn, "callback_data"));
        if (d && strncmp(d, prefix, strlen(prefix)) == 0) {
            char *b = buf[n++ % 8];
            snprintf(b, 80, "%s", d);
            return b;
        }
    }
    return NULL;
}

cJSON *e2e_press(long long uid, const cJSON *m, const char *data, double timeout_s)
{
    cJSON *a = e2e_act(uid, "press_inline", "{\"message_id\":%lld,\"data\":\"%s\"}",
                       (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "message_id")), data);
    if (!a) return NULL;
    cJSON_Delete(a);
    return e2e_reply(uid, timeout_s);
}

int e2e_probe(long long uid, long long after_id, const char *command, const char *expect, double timeout_s)
{
    cJSON *a = e2e_act(uid, "command", "{\"command\":\"%s\"}", command);
    if (!a) return -1;
    cJSON_Delete(a);
    double deadline = e2e_now() + timeout_s;
    int want = 1;
    while (e2e_now() < deadline) {
        bool ok = false;
        cJSON *j = e2e_wait(uid, want, after_id, deadline - e2e_now(), &ok);
        cJSON *msgs = cJSON_GetObjectItem(j, "messages");
        int n = cJSON_GetArraySize(msgs);
        for (int i = 0; i < n; i++) {
            cJSON *m = cJSON_GetArrayItem(msgs, i);
            if (strcmp(e2e_text(m), expect) != 0) continue;
            e2e_cursor_set(uid, (long long)tgh_num(m, "message_id"));
            cJSON_Delete(j);
            return i;
        }
        cJSON_Delete(j);
        if (!ok) break;
        want = n + 1;
    }
    printf("# probe /%s in chat %lld: no reply \"%.40s\" within %.0f s\n", command, uid, expect, timeout_s);
    return -1;
}

int e2e_bot_count(long long chat)
{
    char path[128];
    snprintf(path, sizeof path, "/control/chats/%lld?from=bot", chat);
    long st = 0;
    cJSON *j = e2e_tg("GET", path, &st, NULL);
    double n = st == 200 ? tgh_num(j, "bot_messages") : -1;
    cJSON_Delete(j);
    return n < 0 ? -1 : (int)n;
}

const char *e2e_text(const cJSON *msg)
{
    const cJSON *t = cJSON_GetObjectItem(msg, "raw_text");
    if (!cJSON_IsString(t)) t = cJSON_GetObjectItem(msg, "text");
    return cJSON_IsString(t) ? t->valuestring : "";
}

/* Call fn on every button of the message's reply keyboard until it says stop. */
static bool e2e_kb_any(const cJSON *msg, bool (*fn)(const cJSON *btn, const void *arg), const void *arg)
{
    const cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "reply_markup"), "keyboard");
    const cJSON *row, *btn;
    cJSON_ArrayForEach(row, kb) {
        cJSON_ArrayForEach(btn, row) {
            if (fn(btn, arg)) return true;
        }
    }
    return false;
}

static bool e2e_btn_label(const cJSON *btn, const void *arg)
{
    const cJSON *t = cJSON_GetObjectItem(btn, "text");
    return cJSON_IsString(t) && strcmp(t->valuestring, (const char *)arg) == 0;
}

static bool e2e_btn_contact(const cJSON *btn, const void *arg)
{
    (void)arg;
    return cJSON_IsTrue(cJSON_GetObjectItem(btn, "request_contact"));
}

bool e2e_kb_has(const cJSON *msg, const char *label) { return e2e_kb_any(msg, e2e_btn_label, label); }
bool e2e_kb_contact(const cJSON *msg) { return e2e_kb_any(msg, e2e_btn_contact, NULL); }

/* ---- extsim --------------------------------------------------------------------------- */

int e2e_xs_start(int port)
{
    if (!g.xs_bin) { printf("# EXTSIM_BIN is not set (run through meson test)\n"); return -1; }
    if (g.xs.pid > 0) return 0;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *argv[] = {g.xs_bin, "--listen", listen, NULL};
    /* the port may still be held for a moment after a stop: retry briefly */
    for (int attempt = 0; attempt < 50; attempt++) {
        long from = e2e_file_size(g.xs.log);
        g.xs.pid = e2e_spawn(argv, environ, g.xs.log);
        if (g.xs.pid <= 0) { g.xs.pid = 0; return -1; }
        if (e2e_wait_listening(&g.xs, from, E2E_READY_TIMEOUT_S) == 0) return 0;
        if (g.xs.pid > 0) { kill(g.xs.pid, SIGKILL); waitpid(g.xs.pid, NULL, 0); g.xs.pid = 0; }
        if (port == 0) break;
        e2e_sleep_ms(100);
    }
    e2e_tail(g.xs.log, 10);
    return -1;
}

int e2e_xs_stop(void) { return e2e_child_stop(&g.xs, NULL); }

/* ---- set-up and tear-down ------------------------------------------------------------------ */

static int e2e_setup(const char *name, e2e_mode_t mode)
{
    g.mode = mode;
    g.p7_bin = getenv("PLUS7D_BIN");
    g.tg_bin = getenv("TGSIM_BIN");
    g.xs_bin = getenv("EXTSIM_BIN");
    if (!g.p7_bin || !*g.p7_bin || !g.tg_bin || !*g.tg_bin) {
        printf("# PLUS7D_BIN and TGSIM_BIN must be set (run through meson test)\n");
        return -1;
    }
    const char *db = getenv("PLUS7_DB");
    if (!db || !*db) {
        printf("# PLUS7_DB is not set: the end-to-end tests need PostgreSQL (eval \"$(./dev pg env plus7_test)\")\n");
        return -1;
    }
    for (const char *p = name; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') return -1;
    snprintf(g.name, sizeof g.name, "%s", name);
    snprintf(g.admin_conninfo, sizeof g.admin_conninfo, "%s", db);

    const char *tmp = getenv("TMPDIR");
    snprintf(g.tmpdir, sizeof g.tmpdir, "%s/plus7-e2e-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(g.tmpdir)) { printf("# mkdtemp: %s\n", strerror(errno)); return -1; }
    snprintf(g.p7.log, sizeof g.p7.log, "%s/plus7d.log", g.tmpdir);
    snprintf(g.tg.log, sizeof g.tg.log, "%s/tgsim.log", g.tmpdir);
    snprintf(g.xs.log, sizeof g.xs.log, "%s/extsim.log", g.tmpdir);
    printf("# logs in %s\n", g.tmpdir);

    snprintf(g.db_name, sizeof g.db_name, "e2e_%s_%ld", name, (long)getpid());
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", g.db_name);
    if (e2e_admin_exec(sql) != 0) return -1;
    if (e2e_conninfo_with_db(db, g.db_name, g.db_conninfo, sizeof g.db_conninfo) != 0) return -1;
    g.db = PQconnectdb(g.db_conninfo);
    if (PQstatus(g.db) != CONNECTION_OK) {
        printf("# cannot connect to %s: %s", g.db_name, PQerrorMessage(g.db));
        return -1;
    }
    PQclear(PQexec(g.db, "SET client_min_messages = warning"));

    g.ready = true;   /* e2e_p7_run needs it */
    const char *mig[] = {"migrate", NULL};
    if (e2e_p7_run(mig, NULL, 0) != 0) {
        printf("# plus7d migrate failed\n");
        g.ready = false;
        return -1;
    }
    g.ready = false;
    if (e2e_tg_start() != 0) return -1;
    /* quick webhook retries, so a killed plus7d is re-fed promptly */
    long st = 0;
    cJSON_Delete(e2e_tg("POST", "/control/config", &st,
                        "{\"webhook_retry_ms\":100,\"webhook_retry_max_ms\":1000,\"webhook_timeout_ms\":10000}"));
    if (st != 200) { printf("# tgsim /control/config: HTTP %ld\n", st); return -1; }
    g.p7.port = e2e_free_port();
    if (g.p7.port <= 0) return -1;
    snprintf(g.p7.base, sizeof g.p7.base, "http://127.0.0.1:%d", g.p7.port);
    g.ready = true;
    return 0;
}

int e2e_init(const char *name, e2e_mode_t mode)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    if (e2e_setup(name, mode) == 0) return 0;
    g.ready = false;
    printf("# e2e set-up failed\n");
    return -1;
}

/* What the database holds, to explain a failure. */
static void e2e_db_summary(void)
{
    static const char *const q[] = {
        "SELECT 'tg_inbox: ' || count(*) || ' rows, ' || count(*) FILTER (WHERE processed_at IS NULL)"
        " || ' unprocessed' || coalesce(' (first: update ' || min(update_id) FILTER (WHERE processed_at IS NULL)"
        " || ', chat ' || min(chat_id) FILTER (WHERE processed_at IS NULL) || ')', '') FROM tg_inbox",
        "SELECT 'tg_outbox: ' || coalesce(string_agg(status || '=' || n, ', '), 'empty')"
        " FROM (SELECT status, count(*) AS n FROM tg_outbox GROUP BY status ORDER BY status) s",
        "SELECT 'users: ' || count(*) || ', unlinked to the CRM: '"
        " || count(*) FILTER (WHERE crm_contact_id IS NULL AND phone IS NOT NULL) FROM users",
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        const char *v = e2e_sqls(q[i], NULL);
        printf("# %s\n", v ? v : "(query failed)");
    }
}

int e2e_finish(int rc)
{
    int result = rc ? 1 : 0;
    if (g.p7.pid > 0) {
        int st;
        if (waitpid(g.p7.pid, &st, WNOHANG) == g.p7.pid) {
            e2e_describe_status("plus7d (unexpectedly, at the end)", st);
            g.p7.pid = 0;
            result = 1;
        } else if (e2e_p7_stop(NULL) != 0) {
            printf("# plus7d did not exit cleanly at the end\n");
            result = 1;
        }
    }
    if (g.xs.pid > 0) e2e_xs_stop();
    if (g.tg.pid > 0 && e2e_child_stop(&g.tg, NULL) != 0) {
        printf("# tgsim did not exit cleanly\n");
        result = 1;
    }
    if (result) {
        if (g.p7.log[0]) e2e_tail(g.p7.log, 60);
        if (g.tg.log[0]) e2e_tail(g.tg.log, 15);
        if (g.xs.log[0] && e2e_file_size(g.xs.log) > 0) e2e_tail(g.xs.log, 10);
    }
    if (result && g.db) e2e_db_summary();
    if (g.db) PQfinish(g.db);
    g.db = NULL;
    if (g.db_name[0] && getenv("E2E_KEEP_DB") && *getenv("E2E_KEEP_DB")) {
        printf("# E2E_KEEP_DB: database %s kept\n", g.db_name);
    } else if (g.db_name[0]) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", g.db_name);
        e2e_admin_exec(sql);
    }
    /* keep the logs of a failed run; remove a passed run's directory */
    if (!result && g.tmpdir[0]) {
        const char *files[] = {g.p7.log, g.tg.log, g.xs.log, NULL};
        for (int i = 0; files[i]; i++) unlink(files[i]);
        char cli[600];
        snprintf(cli, sizeof cli, "%s/cli.out", g.tmpdir);
        unlink(cli);
        rmdir(g.tmpdir);
    }
    for (int i = 0; i < E2E_MAX_ENV; i++) free(g.extra_env[i]);
    curl_global_cleanup();
    return result;
}
