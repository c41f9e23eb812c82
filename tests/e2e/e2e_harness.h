/* e2e_harness.h — end-to-end test harness: the real plus7d binary against
 * tgsim (emulated Telegram), extsim (emulated Bitrix24) and a real
 * PostgreSQL.
 *
 * Purpose: one harness per test executable. e2e_init creates a fresh
 * database e2e_<test>_<pid> on the server of $PLUS7_DB (dropped again by
 * e2e_finish; stale ones of dead test processes are dropped first), runs
 * `plus7d migrate` on it and starts tgsim on a free port. plus7d itself is
 * started (fork/exec, PLUS7_LISTEN on a free port kept across restarts,
 * polling or webhook mode) by e2e_p7_start, which waits for GET /healthz;
 * it can be stopped gracefully (SIGTERM, exit status checked), killed with
 * SIGKILL and started again on the same database. Children get
 * PR_SET_PDEATHSIG, so a crashed test leaves no process behind; their
 * stdout/stderr go to log files in a private temporary directory, whose
 * tails are printed as TAP comments when a case failed.
 *
 * Helpers act as Telegram users through tgsim's control API and wait for
 * the bot's messages with tgsim's wait endpoint (never sleep-and-hope);
 * SQL helpers (libpq, parameterised) read the test database; e2e_sql_until
 * polls for an asynchronous effect (every 50 ms, bounded).
 *
 * Binaries come from meson through the environment: PLUS7D_BIN, TGSIM_BIN,
 * EXTSIM_BIN.
 *
 * Exports: e2e_mode_t, e2e_init, e2e_finish, e2e_mode, e2e_mode_name,
 * e2e_p7_setenv, e2e_p7_start, e2e_p7_ensure, e2e_p7_stop, e2e_p7_kill,
 * e2e_p7_running, e2e_p7_run, e2e_p7_base, e2e_webhook_post, e2e_tg_base,
 * e2e_tg, e2e_user, e2e_act, e2e_reply, e2e_say, e2e_wait, e2e_cursor,
 * e2e_cursor_set, e2e_bot_count, e2e_text, e2e_kb_has, e2e_kb_contact,
 * e2e_tg_log_path, e2e_xs_start, e2e_xs_stop, e2e_xs_port, e2e_xs_base,
 * e2e_xs, e2e_free_port, e2e_sql1, e2e_sqls, e2e_sql_int, e2e_sql_exec,
 * e2e_sql_until, e2e_i, e2e_now, e2e_sleep_ms, E2E_TOKEN, E2E_SECRET.
 * Threads: the test's main thread; e2e_act, e2e_tg and e2e_xs may also be
 * called from helper threads the case joins.
 */
#ifndef PLUS7_E2E_HARNESS_H
#define PLUS7_E2E_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define E2E_TOKEN "5000000000:e2e-Token_x"
#define E2E_SECRET "e2e-webhook-Secret_42-0123456789abcdef"

typedef enum e2e_mode { E2E_POLLING = 0, E2E_WEBHOOK = 1 } e2e_mode_t;

/* Set the harness up for test `name` (lowercase letters, digits, '_') in
 * `mode`: database, migrations, tgsim. Returns 0, or -1 after printing the
 * reason as a TAP comment; the cases then fail in e2e_p7_ensure. */
int e2e_init(const char *name, e2e_mode_t mode);

/* Tear down: stop plus7d with SIGTERM (a non-zero exit, e.g. a sanitizer
 * report at exit, makes the result 1), stop tgsim/extsim, drop the
 * database (kept when $E2E_KEEP_DB is set), print log tails and a summary
 * of the database when `rc` != 0. Returns the exit code for main. */
int e2e_finish(int rc);

e2e_mode_t e2e_mode(void);
const char *e2e_mode_name(void);        /* "polling" / "webhook" */

/* Extra environment for later plus7d starts (value NULL removes it). */
void e2e_p7_setenv(const char *name, const char *value);

/* Start plus7d serve and wait (up to 60 s) for /healthz 200. 0 or -1. */
int e2e_p7_start(void);
/* Make sure plus7d runs. Returns -1 (the case should fail) when the harness
 * is not set up or plus7d had died on its own since the last check (it is
 * then restarted for the cases that follow). */
int e2e_p7_ensure(void);
/* SIGTERM and wait up to 30 s. Returns the exit status (0 = clean), or -1
 * when it died by a signal or had to be killed. *seconds = time to exit. */
int e2e_p7_stop(double *seconds);
/* SIGKILL and reap. */
void e2e_p7_kill(void);
bool e2e_p7_running(void);
/* Run `plus7d ARGS...` (NULL-terminated) with the test database; stdout is
 * copied into out (may be NULL). Returns the exit status or -1. */
int e2e_p7_run(const char *const *args, char *out, size_t outsz);
const char *e2e_p7_base(void);          /* http://127.0.0.1:PORT */

/* POST body to plus7d's /telegram/webhook with the given secret header
 * (NULL: no header). Returns the HTTP status (0 if no answer). */
long e2e_webhook_post(const char *secret, const char *body);

/* ---- tgsim ---------------------------------------------------------------- */

const char *e2e_tg_base(void);
/* A tgsim request: method "GET"/"POST", path ("/control/..."), JSON body
 * built from a printf format (NULL: none). Returns the parsed reply (caller
 * frees; NULL if not JSON) and the HTTP status in *status (may be NULL). */
cJSON *e2e_tg(const char *method, const char *path, long *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Create (or update) tgsim user `id`; phone may be NULL. started: pretend
 * the user already pressed Start. 0 or -1. */
int e2e_user(long long id, const char *first_name, const char *phone, bool started);
/* POST /control/users/<uid>/<action> with a JSON body (printf format, NULL =
 * "{}"). Returns the reply when the status is 200, else NULL (the reply is
 * printed as a TAP comment). */
cJSON *e2e_act(long long uid, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The next bot message in `chat` after the chat's cursor; advances the
 * cursor. NULL (with a TAP comment) when none came within timeout_s. The
 * caller frees the returned message object. */
cJSON *e2e_reply(long long chat, double timeout_s);
/* Act as uid with `action` ("text", "press_reply") carrying {"text": text}
 * (JSON-escaped), then return the bot's next message in the user's private
 * chat (caller frees). NULL when the action was refused or no reply came
 * within timeout_s. */
cJSON *e2e_say(long long uid, const char *action, const char *text, double timeout_s);
/* tgsim's wait endpoint: at least `count` bot messages with message_id >
 * after_id. Returns the reply (ok true or false; caller frees), *ok set. */
cJSON *e2e_wait(long long chat, int count, long long after_id, double timeout_s, bool *ok);
/* The chat's cursor (last message id e2e_reply returned); set it with
 * e2e_cursor_set. */
long long e2e_cursor(long long chat);
void e2e_cursor_set(long long chat, long long message_id);
/* The callback data of the first inline button of message m whose data
 * starts with prefix (one of 8 rotating buffers), or NULL. */
const char *e2e_button(const cJSON *m, const char *prefix);
/* uid presses the inline button `data` under message m; returns the bot's
 * next message (as e2e_reply; caller frees) or NULL. */
cJSON *e2e_press(long long uid, const cJSON *m, const char *data, double timeout_s);

/* Positive control for "nothing more reached this chat": uid (who has a
 * private chat with the bot) sends /command; wait up to timeout_s for the
 * bot's reply whose text is `expect`. Returns how many bot messages with
 * message_id > after_id came before that reply (0: nothing else was sent),
 * or -1 when the reply never came. The chat's cursor moves to the reply. */
int e2e_probe(long long uid, long long after_id, const char *command, const char *expect, double timeout_s);
/* Bot messages in `chat` so far (tgsim's count), -1 on error. */
int e2e_bot_count(long long chat);
/* The message's text as the bot sent it (HTML: "raw_text", else "text"). */
const char *e2e_text(const cJSON *msg);
/* Whether the message's reply keyboard has a button labelled `label`. */
bool e2e_kb_has(const cJSON *msg, const char *label);
/* Whether the message's reply keyboard has a request_contact button. */
bool e2e_kb_contact(const cJSON *msg);
const char *e2e_tg_log_path(void);      /* tgsim's stderr (run with --verbose) */

/* ---- extsim ---------------------------------------------------------------- */

/* Start extsim on `port` (0: a free one). 0 or -1. */
int e2e_xs_start(int port);
/* SIGTERM extsim; its exit status or -1. */
int e2e_xs_stop(void);
int e2e_xs_port(void);
const char *e2e_xs_base(void);
/* Like e2e_tg, against extsim. */
cJSON *e2e_xs(const char *method, const char *path, long *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int e2e_free_port(void);

/* ---- SQL on the test database ------------------------------------------------ */

/* First column of the first row, as a malloc'd string (caller frees); NULL
 * when there is no row, the value is NULL or the query failed (printed).
 * Parameters are const char * values, terminated by NULL. */
char *e2e_sql1(const char *sql, ...) __attribute__((sentinel));
/* The same in one of 16 rotating static buffers (nothing to free; values
 * longer than 1 KiB are cut); NULL as above. */
const char *e2e_sqls(const char *sql, ...) __attribute__((sentinel));
/* The same as an integer; -1 for no row / NULL / error. */
long long e2e_sql_int(const char *sql, ...) __attribute__((sentinel));
/* Run a statement; 0 or -1 (the error printed). */
int e2e_sql_exec(const char *sql, ...) __attribute__((sentinel));
/* Poll every 50 ms, up to timeout_s, until e2e_sql1(sql, params...) equals
 * `expect` (NULL: until the value is NULL / no row). true when it did. */
bool e2e_sql_until(double timeout_s, const char *expect, const char *sql, ...) __attribute__((sentinel));
/* A decimal string for n (one of 16 rotating static buffers). */
const char *e2e_i(long long n);

double e2e_now(void);                   /* monotonic seconds */
void e2e_sleep_ms(int ms);

#endif
