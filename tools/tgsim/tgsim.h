/* tgsim.h — the emulated Telegram world shared by every tgsim module.
 *
 * Purpose: one process emulates one bot. The world holds the users (people
 * chatting with the bot), chats and their message histories, the queue of
 * updates waiting for getUpdates or webhook delivery, uploaded files, pending
 * callback and pre-checkout queries, rate-limit buckets, injected faults and
 * statistics. Every accepted token addresses this same bot.
 *
 * Locking: one mutex (w->mu) guards everything in tgsim_world_t; one
 * condition variable (w->cv, CLOCK_MONOTONIC) is broadcast on every change
 * (new update, new or edited message, answered query, webhook settings,
 * shutdown) so long polls, webhook workers and control "wait" calls re-check
 * their condition. Functions named tgsim_world_* / tgsim_chat_* / tgsim_msg_*
 * / tgsim_update_* / tgsim_file_* below must be called with w->mu held
 * unless their contract says otherwise.
 *
 * Exports: the world types, tgsim_resp_t, and the functions of
 * tgsim_world.c, tgsim_api*.c, tgsim_control.c, tgsim_webhook.c,
 * tgsim_http.c and tgsim_www_data.c declared below.
 * Threads: civetweb workers (Bot API, control API, web page), webhook
 * delivery threads, and main (start-up and shutdown).
 */
#ifndef TGSIM_H
#define TGSIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tgsim_map.h"
#include "tgsim_params.h"
#include "tgsim_util.h"

/* ---- configuration (set in main before any thread starts; the rate and
 * timing fields may change later through /control/config under w->mu) ---- */
typedef struct tgsim_config {
    char listen[128];
    char **tokens;              /* accepted tokens; none = any "digits:chars" */
    size_t ntokens;
    char bot_username[64];
    char bot_name[128];
    int rate_enabled;
    double rate_chat, rate_chat_burst;           /* per private chat: msgs/s, burst */
    double rate_group_per_min, rate_group_burst; /* per group: msgs/min, burst */
    double rate_global, rate_global_burst;       /* whole bot: msgs/s, burst */
    int rate_global_strict;     /* whole bot: a strict sliding window (at most rate_global
                                   arrivals in any 1000 ms) instead of the bucket */
    int webhook_retry_ms;       /* first retry delay; doubles per attempt */
    int webhook_retry_max_ms;   /* cap of the retry delay */
    int webhook_timeout_ms;     /* one delivery attempt */
    int webhook_max_attempts;   /* 0 = retry forever */
    int callback_timeout_ms;    /* answerCallbackQuery deadline */
    int precheckout_timeout_ms; /* answerPreCheckoutQuery deadline (10 s) */
    int threads;                /* civetweb worker threads */
    int64_t update_id_start;
    int64_t user_id_start;
    size_t max_body;            /* largest accepted request body */
    int verbose;
} tgsim_config_t;

/* ---- update types this emulator produces ---- */
enum {
    TGSIM_U_MESSAGE,
    TGSIM_U_EDITED_MESSAGE,
    TGSIM_U_CALLBACK_QUERY,
    TGSIM_U_PRE_CHECKOUT_QUERY,
    TGSIM_U_MY_CHAT_MEMBER,
    TGSIM_U_CHAT_MEMBER,
    TGSIM_U_COUNT
};
extern const char *const tgsim_update_names[TGSIM_U_COUNT];
/* Default when allowed_updates is unset or empty: everything but chat_member. */
#define TGSIM_ALLOWED_DEFAULT (((1u << TGSIM_U_COUNT) - 1) & ~(1u << TGSIM_U_CHAT_MEMBER))

typedef struct tgsim_user {
    int64_t id;
    char *first_name, *last_name, *username, *phone, *language_code;
    char *role;                 /* free label for the web page: client, courier... */
    int started;                /* has written to the bot at least once */
    int blocked;                /* has blocked the bot */
} tgsim_user_t;

typedef struct tgsim_msg {
    int64_t id;
    int from_bot;
    int64_t from_id;            /* user id, or the bot id */
    cJSON *json;                /* current Message object, as the API shows it */
    char *parse_mode;           /* bot messages: as given, or NULL */
    char *raw;                  /* bot messages: text/caption before parsing */
    cJSON *edits;               /* array of {"edit_date":N,"message":{previous}} */
    cJSON *files;               /* array of {"file_id","kind","file_size","sha256",...} */
    cJSON *markup;              /* bot messages: reply_markup as sent (any kind), or NULL */
    cJSON *meta;                /* invoices: {"payload","prices","need_*",...}, or NULL */
    int deleted;
    int live_active;            /* user live location still being shared */
    double live_until;          /* monotonic deadline of the live period */
    int64_t sent_mono_ms;       /* when it was created (monotonic ms) */
} tgsim_msg_t;

typedef struct tgsim_cbq {
    char id[32];
    int64_t chat_id, user_id, message_id;
    char *data;
    double deadline;            /* monotonic */
    int answered;
    cJSON *answer;              /* {"text","show_alert","url","cache_time"} */
} tgsim_cbq_t;

enum { TGSIM_PAY_PENDING, TGSIM_PAY_SUCCEEDED, TGSIM_PAY_REJECTED, TGSIM_PAY_EXPIRED, TGSIM_PAY_DECLINED };

typedef struct tgsim_payment {
    char id[32];                /* the pre_checkout_query id */
    int64_t chat_id, user_id, invoice_message_id;
    double deadline;            /* monotonic */
    int status;
    char *error_message;
    int64_t message_id;         /* the successful_payment message */
    char *currency, *payload;
    int64_t total;
    int decline;                /* the card is declined after an ok pre-checkout: no successful_payment */
} tgsim_payment_t;

typedef struct tgsim_chat {
    int64_t id;                 /* private chat: == user id; groups: negative */
    char type[16];              /* private, group, supergroup */
    char *title;                /* groups */
    tgsim_msg_t **msgs;         /* msgs[i]->id == i + 1 */
    size_t nmsgs, capmsgs;
    size_t bot_msgs;            /* messages the bot sent here */
    cJSON *reply_keyboard;      /* the ReplyKeyboardMarkup shown now, or NULL */
    tgsim_cbq_t **cbqs;
    size_t ncbqs, capcbqs;
    tgsim_payment_t **pays;
    size_t npays, cappays;
    uint64_t version;           /* bumped on every change in this chat */
} tgsim_chat_t;

enum { TGSIM_FILE_PHOTO, TGSIM_FILE_DOCUMENT };

typedef struct tgsim_file {
    char file_id[96];
    char unique_id[24];
    char file_path[64];
    int kind;
    unsigned char *data;
    size_t len;
    char *file_name, *mime_type;
    char sha256[65];
    int width, height;          /* photos */
    struct tgsim_file *origin;  /* preview sizes: the full file holding the bytes */
    struct tgsim_file *preview; /* full photos: the smaller PhotoSize, or NULL */
} tgsim_file_t;

typedef struct tgsim_update {
    int64_t id;
    int type;
    int64_t key;                /* ordering key: the chat (or user) it belongs to */
    char *json;                 /* the serialised Update object */
    size_t json_len;
    int in_flight;              /* a webhook worker is posting it */
    int orphan;                 /* unlinked while in flight: the worker frees it */
    int attempts;
    double next_attempt;        /* monotonic */
    struct tgsim_update *prev, *next;
} tgsim_update_t;

#define TGSIM_WINDOW_MAX 1000   /* the strict window holds at most this many arrivals */

/* The strict global window: arrival times of the last `rate_global`
 * messages (a ring; n of them recorded so far). */
typedef struct tgsim_window {
    double at[TGSIM_WINDOW_MAX];
    int pos, n;
} tgsim_window_t;

typedef struct tgsim_bucket {
    double tokens;
    double last;                /* monotonic time of the last refill */
} tgsim_bucket_t;

typedef struct tgsim_fault {
    int count;                  /* calls still to fail */
    int status;                 /* 429 or 5xx */
    int retry_after;            /* 429 only */
    char methods[512];          /* comma list of lower-case names; "" = all but getUpdates */
} tgsim_fault_t;

typedef struct tgsim_stats {
    tgsim_map_t methods;        /* tgsim_str_key(name) -> tgsim_method_stat_t* */
    uint64_t calls, ok, errors;
    uint64_t status_4xx, status_5xx;
    uint64_t too_many_requests; /* every 429 sent */
    uint64_t rate_limited;      /* 429s from the rate limiter */
    uint64_t forced_429;        /* 429s from /control/faults */
    uint64_t injected_5xx;
    uint64_t updates_created;
    uint64_t webhook_ok, webhook_failed;
    uint64_t bot_messages;
} tgsim_stats_t;

typedef struct tgsim_method_stat {
    char name[64];
    uint64_t count;
} tgsim_method_stat_t;

typedef struct tgsim_world {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* CLOCK_MONOTONIC; broadcast on every change */
    tgsim_config_t cfg;

    tgsim_map_t users;          /* id -> tgsim_user_t* */
    tgsim_map_t chats;          /* id -> tgsim_chat_t* */
    tgsim_map_t files;          /* tgsim_str_key(file_id) -> tgsim_file_t* (also file_path) */
    tgsim_map_t cbqs;           /* tgsim_str_key(id) -> tgsim_cbq_t* (owned by the chat) */
    tgsim_map_t pays;           /* tgsim_str_key(id) -> tgsim_payment_t* (owned by the chat) */
    tgsim_map_t buckets;        /* chat id -> tgsim_bucket_t* */
    tgsim_file_t **file_list;   /* ownership of files */
    size_t nfiles, capfiles;
    tgsim_bucket_t global_bucket;
    tgsim_window_t global_window;

    tgsim_update_t *uhead, *utail;  /* pending updates in id order */
    size_t npending;
    int64_t next_update_id;
    uint32_t allowed_mask;
    cJSON *allowed_list;        /* as last given, for getWebhookInfo; may be NULL */

    char *webhook_url;          /* NULL = no webhook */
    char *webhook_secret;
    char *webhook_token;        /* token setWebhook was called with */
    int webhook_max_conn;
    uint64_t webhook_gen;       /* bumped on every setWebhook/deleteWebhook */
    int64_t last_error_date;
    char *last_error_message;
    pthread_t *wh_threads;
    size_t nwh;

    uint64_t poll_gen;          /* getUpdates generation: a newer call ends older ones with 409 */
    uint64_t version;           /* bumped on every change anywhere */
    cJSON *commands;            /* array of {"scope":..., "language_code":..., "commands":[...]} */
    int64_t next_user_id, next_group_id;
    uint64_t next_query_seq, next_file_seq;
    char last_token[128];       /* token of the latest authorised Bot API call */
    tgsim_fault_t fault_429, fault_5xx;
    tgsim_stats_t stats;
    int stopping;
} tgsim_world_t;

/* A reply to an HTTP request, written in one go by tgsim_http.c. */
typedef struct tgsim_resp {
    int status;
    const char *ctype;          /* static string; default application/json */
    tgsim_buf_t body;
    const char *extra_headers;  /* static string of "Name: value\r\n" lines, or NULL */
} tgsim_resp_t;

/* ---- tgsim_world.c ---- */

/* Initialise the world from cfg (copied). Main thread, before threads. */
void tgsim_world_init(tgsim_world_t *w, const tgsim_config_t *cfg);
/* Free everything. Main thread, after every other thread has stopped. */
void tgsim_world_destroy(tgsim_world_t *w);
/* Forget users, chats, pending updates, files, faults, rate buckets and
 * statistics. update_id keeps growing (a bot that keeps running must never
 * see an id again). With bot_settings, also forget the webhook,
 * allowed_updates and the command lists. Lock held; in-flight webhook posts
 * are orphaned and a waiting getUpdates simply keeps waiting. */
void tgsim_world_reset(tgsim_world_t *w, int bot_settings);
/* Record that `chat` (may be NULL) changed and wake every waiter. Lock held. */
void tgsim_world_touch(tgsim_world_t *w, tgsim_chat_t *chat);
/* Wait on w->cv until woken or the monotonic `deadline`; returns 0 if woken,
 * 1 if the deadline passed. Lock held (released while waiting). */
int tgsim_world_wait(tgsim_world_t *w, double deadline);

/* Bot id for a token: the digits before ':' (5000000000 if none). */
int64_t tgsim_bot_id(const char *token);
/* The bot as a User object. */
cJSON *tgsim_bot_json(tgsim_world_t *w, const char *token);

tgsim_user_t *tgsim_user_find(tgsim_world_t *w, int64_t id);
/* Create a user (id 0 = next free id) or update the given fields (NULL =
 * keep) of an existing one; creates the private chat too. */
tgsim_user_t *tgsim_user_upsert(tgsim_world_t *w, int64_t id, const char *first_name,
                                const char *last_name, const char *username,
                                const char *phone, const char *language_code, const char *role);
cJSON *tgsim_user_json(const tgsim_user_t *u);

tgsim_chat_t *tgsim_chat_find(tgsim_world_t *w, int64_t id);
/* Create a group chat (id 0 = next free negative id). NULL if the id exists
 * or is not negative. */
tgsim_chat_t *tgsim_chat_create_group(tgsim_world_t *w, int64_t id, const char *title, const char *type);
/* The Chat object for message.chat. */
cJSON *tgsim_chat_json(tgsim_world_t *w, const tgsim_chat_t *c);

/* Append a new message to `chat` with message_id, from, chat and date set;
 * `from` (taken) is the sender's User object. */
tgsim_msg_t *tgsim_msg_new(tgsim_world_t *w, tgsim_chat_t *chat, int from_bot, int64_t from_id, cJSON *from);
tgsim_msg_t *tgsim_msg_find(const tgsim_chat_t *chat, int64_t id);
/* Snapshot the current version into msg->edits and set edit_date. */
void tgsim_msg_begin_edit(tgsim_msg_t *m, int64_t edit_date);

/* Queue an update of `type` whose payload (taken) belongs to ordering key
 * `key`. Returns its update_id, or 0 when allowed_updates filters the type
 * out (the payload is freed). Wakes pollers and webhook workers. */
int64_t tgsim_update_push(tgsim_world_t *w, int type, int64_t key, cJSON *payload);
/* Unlink and free (or orphan, if in flight) one pending update. */
void tgsim_update_remove(tgsim_world_t *w, tgsim_update_t *u);
/* Drop every pending update. */
void tgsim_update_drop_all(tgsim_world_t *w);

/* Store a file (data taken). Returns the new record. */
tgsim_file_t *tgsim_file_add(tgsim_world_t *w, int kind, unsigned char *data, size_t len,
                             const char *file_name, const char *mime_type, int width, int height);
/* Register a smaller PhotoSize of photo `f` (no bytes of its own). */
tgsim_file_t *tgsim_file_add_preview(tgsim_world_t *w, tgsim_file_t *f, int width, int height);
/* Look a file up by file_id or by file_path. */
tgsim_file_t *tgsim_file_find(tgsim_world_t *w, const char *id_or_path);

/* Register a callback query / payment with a fresh id (owned by chat). */
tgsim_cbq_t *tgsim_cbq_new(tgsim_world_t *w, tgsim_chat_t *chat);
tgsim_payment_t *tgsim_payment_new(tgsim_world_t *w, tgsim_chat_t *chat);

/* ---- tgsim_rate.c ---- */

/* Take one token from the global bucket and the chat's bucket. Returns 0 when
 * the message may go, else the retry_after (>= 1 s) to report. Lock held. */
int tgsim_rate_take(tgsim_world_t *w, int64_t chat_id);
/* If an injected fault applies to `method` (lower-case), consume one and
 * return its HTTP status (429 or 5xx) with *retry_after set; else 0. */
int tgsim_fault_take(tgsim_world_t *w, const char *method, int *retry_after);

/* ---- tgsim_api.c / tgsim_api_send.c ---- */

/* Serve one Bot API call (token check, faults, dispatch, statistics) and
 * fill `r`. Takes w->mu itself; may block for getUpdates long polling or an
 * URL download. Any thread but a webhook worker holding the lock. */
void tgsim_api_handle(tgsim_world_t *w, const char *token, const char *method,
                      tgsim_params_t *p, tgsim_resp_t *r);
/* 1 if the token is accepted (configured list, or "digits:chars" when no
 * list was given). Lock held or not: reads only the immutable token list. */
int tgsim_api_token_ok(const tgsim_world_t *w, const char *token);
/* The token control-made updates use to describe the bot: the latest
 * authorised one, else the first configured, else a default. Lock held. */
const char *tgsim_world_token(const tgsim_world_t *w);
/* Envelope helpers: {"ok":true,"result":<result taken>[,"description":d]}
 * and {"ok":false,"error_code":code,"description":...[,"parameters":{...}]}. */
void tgsim_api_ok(tgsim_resp_t *r, cJSON *result, const char *description);
void tgsim_api_error(tgsim_resp_t *r, int code, const char *description, int retry_after);

/* ---- tgsim_control.c ---- */

/* Serve a stored file's bytes (by file_id or file_path) into r; 404 if
 * unknown. Takes w->mu itself. */
void tgsim_file_serve(tgsim_world_t *w, const char *id_or_path, tgsim_resp_t *r);

/* Serve one /control/ request. Takes w->mu itself; may block in wait calls. */
void tgsim_control_handle(tgsim_world_t *w, const char *http_method, const char *path,
                          const char *query, const char *body, size_t len, tgsim_resp_t *r);

/* ---- tgsim_webhook.c ---- */

/* Make sure at least n delivery threads exist (n capped at 100). Lock held. */
void tgsim_webhook_ensure_threads(tgsim_world_t *w, int n);
/* Join every delivery thread (w->stopping must be set and broadcast). Main
 * thread, lock NOT held. */
void tgsim_webhook_join(tgsim_world_t *w);

/* ---- tgsim_http.c ---- */

/* Start civetweb on cfg.listen; *port gets the bound port. Returns an opaque
 * server handle or NULL (the reason is logged). Main thread. */
void *tgsim_http_start(tgsim_world_t *w, int *port);
/* Stop civetweb (every handler has returned afterwards). Main thread. */
void tgsim_http_stop(void *server);

/* ---- tgsim_www_data.c (generated from www/index.html) ---- */
extern const unsigned char tgsim_www_index[];
extern const size_t tgsim_www_index_len;

#endif
