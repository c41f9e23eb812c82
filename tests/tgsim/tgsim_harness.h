/* tgsim_harness.h — helpers for the tgsim black-box tests.
 *
 * Purpose: start tgsim (the binary named by $TGSIM_BIN) as a child process
 * on a free port (--listen 127.0.0.1:0; the port is read from its first
 * stdout line), talk HTTP to it with libcurl easy, parse replies with cJSON,
 * and stop it with SIGTERM checking the exit status.
 *
 * Exports: tgh_sim_t, tgh_resp_t, tgh_start, tgh_stop, tgh_http, tgh_resp_free,
 * tgh_api, tgh_api_form, tgh_ctl, tgh_fresh, tgh_str, tgh_num, tgh_path,
 * tgh_sleep_ms, tgh_now.
 * Threads: any thread may issue requests; start/stop from the test's main
 * thread.
 */
#ifndef TGSIM_HARNESS_H
#define TGSIM_HARNESS_H

#include <stddef.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#define TGH_TOKEN "123456:TEST-token_x"

typedef struct tgh_sim {
    pid_t pid;
    int port;
    char base[64];              /* http://127.0.0.1:PORT */
} tgh_sim_t;

typedef struct tgh_resp {
    long status;                /* HTTP status, 0 if the request failed */
    char *body;
    size_t len;
    char *ctype;
} tgh_resp_t;

/* Start tgsim with extra arguments (NULL-terminated list, may be NULL).
 * Returns 0, or -1 with a reason printed as a TAP comment. */
int tgh_start(tgh_sim_t *s, const char *const *args);
/* SIGTERM, wait; returns the exit status (0 = clean) or -1 if it died by a
 * signal or did not stop within 15 s (then it is killed). */
int tgh_stop(tgh_sim_t *s);

/* One HTTP request; body may be NULL. Fills r (free with tgh_resp_free). */
int tgh_http(const char *method, const char *url, const char *ctype, const char *body, size_t len, tgh_resp_t *r);
void tgh_resp_free(tgh_resp_t *r);

/* POST a JSON body to /bot<TGH_TOKEN>/<method>; returns the parsed reply
 * (NULL if not JSON) and the HTTP status in *status. */
cJSON *tgh_api(tgh_sim_t *s, const char *method, const char *json, long *status);
/* Same with an application/x-www-form-urlencoded body. */
cJSON *tgh_api_form(tgh_sim_t *s, const char *method, const char *form, long *status);
/* Control API call: method "GET"/"POST", path under the base ("/control/.."). */
cJSON *tgh_ctl(tgh_sim_t *s, const char *method, const char *path, const char *json, long *status);
/* Reset the world and set test defaults (no rate limits, fast retries). */
int tgh_fresh(tgh_sim_t *s);

/* Navigate: tgh_path(root, "result.photo.0.file_id"); NULL if absent. */
cJSON *tgh_path(cJSON *root, const char *path);
const char *tgh_str(cJSON *root, const char *path);     /* "" if absent */
double tgh_num(cJSON *root, const char *path);          /* -1e300 if absent */

void tgh_sleep_ms(int ms);
double tgh_now(void);

#endif
