/* dash_util.c — helpers of the dashboard API tests (see dash_util.h).
 *
 * Exports: see dash_util.h. Threads: the test's main thread.
 */
#include "dash_util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "e2e_harness.h"

/* Growing strings come from open_memstream: fwrite appends, fclose leaves
 * a NUL-terminated malloc'd buffer. */
typedef struct dash_mem {
    FILE *f;
    char *p;
    size_t len;
} dash_mem_t;

static void dash_mem_open(dash_mem_t *m)
{
    m->p = NULL;
    m->len = 0;
    m->f = open_memstream(&m->p, &m->len);
    if (!m->f) abort();
}

static char *dash_mem_close(dash_mem_t *m)
{
    fclose(m->f);
    return m->p;
}

dash_resp_t dash_http(const char *method, const char *path, const char *body, const char *token,
                      const char *csrf)
{
    dash_resp_t r = {0};
    dash_mem_t out, head;
    dash_mem_open(&out);
    dash_mem_open(&head);
    char url[2048], cookie[128], hcsrf[160];
    snprintf(url, sizeof url, "%s%s", e2e_p7_base(), path);
    struct curl_slist *h = body ? curl_slist_append(NULL, "Content-Type: application/json") : NULL;
    if (csrf) {
        snprintf(hcsrf, sizeof hcsrf, "X-CSRF-Token: %s", csrf);
        h = curl_slist_append(h, hcsrf);
    }
    snprintf(cookie, sizeof cookie, "plus7_session=%s", token ? token : "");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (token) curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out.f);    /* curl's default writer is fwrite */
    curl_easy_setopt(c, CURLOPT_HEADERDATA, head.f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    char *hdrs = dash_mem_close(&head);
    snprintf(r.headers, sizeof r.headers, "%s", hdrs ? hdrs : "");
    free(hdrs);
    r.body = dash_mem_close(&out);   /* binary bodies (XLSX) keep their length */
    r.len = out.len;
    r.json = cJSON_Parse(r.body);
    return r;
}

void dash_resp_free(dash_resp_t *r)
{
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

bool dash_header(const dash_resp_t *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= cap) len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

bool dash_cookie_token(const dash_resp_t *r, char *out)
{
    char v[512];
    if (!dash_header(r, "Set-Cookie", v, sizeof v) || strncmp(v, "plus7_session=", 14) != 0) return false;
    size_t n = strcspn(v + 14, ";");
    if (n != 64) return false;
    memcpy(out, v + 14, 64);
    out[64] = '\0';
    return true;
}

long dash_sign_in(const char *login, const char *password, char *token, char *csrf)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "login", login);
    cJSON_AddStringToObject(b, "password", password);
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    dash_resp_t r = dash_http("POST", "/api/session", body, NULL, NULL);
    free(body);
    long st = r.status;
    if (st == 200) {
        if (!dash_cookie_token(&r, token)) st = -1;
        const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "csrf"));
        snprintf(csrf, 65, "%s", c ? c : "");
    }
    dash_resp_free(&r);
    return st;
}

static const char *dash_conninfo(void)
{
    static char ci[2048];
    if (!ci[0]) {
        const char *db = e2e_sqls("SELECT current_database()", NULL);
        snprintf(ci, sizeof ci, "%s dbname=%s", getenv("PLUS7_DB") ? getenv("PLUS7_DB") : "", db ? db : "");
    }
    return ci;
}

int dash_cli_user(const char *stdin_text, const char *args, char *out, size_t cap)
{
    setenv("DASH_DB", dash_conninfo(), 1);
    setenv("DASH_STDIN", stdin_text ? stdin_text : "", 1);
    char cmd[1024];
    if (stdin_text)
        snprintf(cmd, sizeof cmd, "printf '%%s' \"$DASH_STDIN\" | PLUS7_DB=\"$DASH_DB\" \"$PLUS7D_BIN\" user %s 2>&1", args);
    else
        snprintf(cmd, sizeof cmd, "PLUS7_DB=\"$DASH_DB\" \"$PLUS7D_BIN\" user %s 2>&1 </dev/null", args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

PGconn *dash_db(void)
{
    static PGconn *db;
    if (!db || PQstatus(db) != CONNECTION_OK) {
        PQfinish(db);
        db = PQconnectdb(dash_conninfo());
    }
    return db;
}

int dash_db_exec(const char *sql)
{
    PGresult *r = PQexec(dash_db(), sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc) printf("# SQL failed: %s\n", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

/* ---- websocket ----------------------------------------------------------------- */

dash_ws_t dash_ws_open(const char *token)
{
    dash_ws_t ws = {.fd = -1};
    const char *base = e2e_p7_base();   /* http://127.0.0.1:PORT */
    const char *colon = strrchr(base, ':');
    int port = colon ? atoi(colon + 1) : 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return ws;
    }
    unsigned char nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    char key[32];
    sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     key, token ? "Cookie: plus7_session=" : "", token ? token : "", token ? "\r\n" : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return ws;
    }
    /* read the response head byte by byte so no frame byte is consumed */
    char head[4096];
    size_t len = 0;
    while (len + 1 < sizeof head) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 30000) <= 0 || read(fd, head + len, 1) != 1) break;
        len++;
        head[len] = '\0';
        if (len >= 4 && strcmp(head + len - 4, "\r\n\r\n") == 0) break;
    }
    head[len] = '\0';
    ws.status = strncmp(head, "HTTP/1.1 ", 9) == 0 ? atol(head + 9) : 0;
    ws.fd = fd;
    return ws;
}

static bool dash_read_n(int fd, unsigned char *buf, size_t n, double deadline)
{
    size_t got = 0;
    while (got < n) {
        double left = deadline - e2e_now();
        if (left <= 0) return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) return false;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

static void dash_ws_send(int fd, int opcode, const unsigned char *data, size_t n)
{
    unsigned char f[140];
    if (n > 125) return;
    unsigned char mask[4];
    randombytes_buf(mask, 4);
    f[0] = (unsigned char)(0x80 | opcode);
    f[1] = (unsigned char)(0x80 | n);
    memcpy(f + 2, mask, 4);
    for (size_t i = 0; i < n; i++) f[6 + i] = data[i] ^ mask[i % 4];
    if (write(fd, f, 6 + n) < 0) { /* the peer went away: the next read says so */ }
}

bool dash_ws_read_text(dash_ws_t *ws, double timeout_s, char *out, size_t cap)
{
    double deadline = e2e_now() + timeout_s;
    while (ws->fd >= 0) {
        unsigned char h[2], ext[8];
        if (!dash_read_n(ws->fd, h, 2, deadline)) return false;
        int opcode = h[0] & 0x0F;
        uint64_t len = h[1] & 0x7F;
        if (len == 126) {
            if (!dash_read_n(ws->fd, ext, 2, deadline)) return false;
            len = ((uint64_t)ext[0] << 8) | ext[1];
        } else if (len == 127) {
            if (!dash_read_n(ws->fd, ext, 8, deadline)) return false;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | ext[i];
        }
        if (len > (1u << 20)) return false;
        unsigned char *payload = malloc(len + 1);
        if (!payload || !dash_read_n(ws->fd, payload, len, deadline)) {
            free(payload);
            return false;
        }
        payload[len] = '\0';
        if (opcode == 0x9) dash_ws_send(ws->fd, 0xA, payload, len);   /* ping -> pong */
        if (opcode == 0x8) {
            free(payload);
            return false;
        }
        if (opcode == 0x1) {
            snprintf(out, cap, "%s", (char *)payload);
            free(payload);
            return true;
        }
        free(payload);
    }
    return false;
}

void dash_ws_close(dash_ws_t *ws)
{
    if (ws->fd >= 0) close(ws->fd);
    ws->fd = -1;
}

/* ---- CSV ---------------------------------------------------------------------------- */

int dash_csv_parse(const char *t, size_t len, dash_csv_t *out)
{
    memset(out, 0, sizeof *out);
    int cap_rows = 0;
    size_t i = 0;
    while (i < len) {
        if (out->nrows == cap_rows) {
            cap_rows = cap_rows ? cap_rows * 2 : 64;
            out->cells = realloc(out->cells, (size_t)cap_rows * sizeof *out->cells);
            out->rowlen = realloc(out->rowlen, (size_t)cap_rows * sizeof *out->rowlen);
        }
        char **row = NULL;
        int ncol = 0;
        for (;;) {
            dash_mem_t f;
            dash_mem_open(&f);
            if (i < len && t[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) return -1;
                    if (t[i] == '"') {
                        if (i + 1 < len && t[i + 1] == '"') {
                            fputc('"', f.f);
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    fputc(t[i], f.f);
                    i++;
                }
            } else {
                while (i < len && t[i] != ',' && t[i] != '\r' && t[i] != '\n') {
                    if (t[i] == '"') return -1;
                    fputc(t[i], f.f);
                    i++;
                }
            }
            row = realloc(row, (size_t)(ncol + 1) * sizeof *row);
            row[ncol++] = dash_mem_close(&f);
            if (i < len && t[i] == ',') {
                i++;
                continue;
            }
            if (i + 1 < len && t[i] == '\r' && t[i + 1] == '\n') i += 2;
            else if (i < len) return -1;   /* a bare LF or CR is not RFC 4180 */
            break;
        }
        out->cells[out->nrows] = row;
        out->rowlen[out->nrows++] = ncol;
    }
    out->ncols = out->nrows ? out->rowlen[0] : 0;
    return 0;
}

void dash_csv_free(dash_csv_t *c)
{
    for (int r = 0; r < c->nrows; r++) {
        for (int k = 0; k < c->rowlen[r]; k++) free(c->cells[r][k]);
        free(c->cells[r]);
    }
    free(c->cells);
    free(c->rowlen);
    memset(c, 0, sizeof *c);
}

char *dash_unzip(const char *file, const char *member)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' '%s'", file, member);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    dash_mem_t m;
    dash_mem_open(&m);
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) fwrite(buf, 1, n, m.f);
    int st = pclose(p);
    char *text = dash_mem_close(&m);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

double dash_json_num(const cJSON *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(j) && isdigit((unsigned char)k[0])) j = cJSON_GetArrayItem(j, atoi(k));
        else j = cJSON_GetObjectItemCaseSensitive(j, k);
    }
    return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}
