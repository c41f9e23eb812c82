/* dash_util.h — helpers of the dashboard API tests (suite 'dash').
 *
 * Purpose: the dashboard tests drive the real plus7d through
 * tests/e2e/e2e_harness (fresh database, tgsim, plus7d child) over real
 * HTTP. On top of it: requests with a session cookie and a CSRF header
 * (libcurl, headers captured), signing in, running `plus7d user` with a
 * password on standard input, a minimal websocket client (RFC 6455 over a
 * plain socket), an RFC 4180 CSV reader and the XML of an XLSX sheet
 * (through `unzip -p`), and a direct libpq connection to the test database.
 *
 * Exports: DASH_PW, dash_resp_t, dash_http, dash_resp_free, dash_header,
 * dash_cookie_token, dash_sign_in, dash_cli_user, dash_db, dash_db_exec,
 * dash_ws_t, dash_ws_open, dash_ws_read_text, dash_ws_close, dash_csv_t,
 * dash_csv_parse, dash_csv_free, dash_unzip, dash_json_num.
 * Threads: the test's main thread.
 */
#ifndef PLUS7_DASH_UTIL_H
#define PLUS7_DASH_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#define DASH_PW "correct horse battery staple"

typedef struct dash_resp {
    long status;        /* 0 = no answer */
    char *body;         /* NUL-terminated */
    size_t len;
    char headers[8192]; /* the raw header block */
    cJSON *json;        /* parsed body or NULL */
} dash_resp_t;

/* A request to plus7d: method, path (with query), body (NULL: none),
 * the session token for the cookie (NULL: no cookie), the X-CSRF-Token
 * value (NULL: no header). */
dash_resp_t dash_http(const char *method, const char *path, const char *body, const char *token,
                      const char *csrf);
void dash_resp_free(dash_resp_t *r);

/* Value of response header `name` (case-insensitive) into out; false when absent. */
bool dash_header(const dash_resp_t *r, const char *name, char *out, size_t cap);

/* The plus7_session token a Set-Cookie carried (out: 65 bytes). */
bool dash_cookie_token(const dash_resp_t *r, char *out);

/* POST /api/session; on 200 fills token and csrf (65 bytes each). Returns the status. */
long dash_sign_in(const char *login, const char *password, char *token, char *csrf);

/* `plus7d user ARGS` with `stdin_text` on standard input (NULL: none);
 * output (stdout+stderr) into out. Returns the exit status. */
int dash_cli_user(const char *stdin_text, const char *args, char *out, size_t cap);

/* A libpq connection to the test database (opened once). */
PGconn *dash_db(void);
/* Run SQL text (may hold several statements); 0 or -1 (printed). */
int dash_db_exec(const char *sql);

typedef struct dash_ws {
    int fd;
    long status;        /* the handshake's HTTP status */
} dash_ws_t;

/* Open ws://plus7d/api/live with the cookie (token NULL: none). */
dash_ws_t dash_ws_open(const char *token);
/* The next text frame within timeout_s into out (pings answered, other
 * frames skipped); false on timeout or close. */
bool dash_ws_read_text(dash_ws_t *ws, double timeout_s, char *out, size_t cap);
void dash_ws_close(dash_ws_t *ws);

typedef struct dash_csv {
    int nrows, ncols;   /* ncols of the first row */
    char ***cells;      /* cells[row][col] */
    int *rowlen;
} dash_csv_t;

/* Parse RFC 4180 text (quoted fields, doubled quotes, CRLF). -1 on a syntax error. */
int dash_csv_parse(const char *text, size_t len, dash_csv_t *out);
void dash_csv_free(dash_csv_t *c);

/* `unzip -p file member` into a malloc'd NUL-terminated string, or NULL. */
char *dash_unzip(const char *file, const char *member);

/* The number at a dotted path ("kpi.delivery_time.p50_s"); NAN if absent. */
double dash_json_num(const cJSON *j, const char *path);

#endif
