/* tgsim_main.c — command line, start-up and shutdown of tgsim, the Telegram
 * Bot API emulator.
 *
 *   tgsim --listen 127.0.0.1:8081 [--token T]... [--bot-username plus7_bot]
 *         [--rate-chat R[:B]] [--rate-group N[:B]] [--rate-global R[:B]]
 *         [--rate-global-strict] [--no-rate-limits] [--webhook-retry-ms N] ... (see --help)
 *
 * Once listening it prints one line to stdout, "tgsim listening on
 * http://HOST:PORT" (with the real port when --listen ends in :0), so a
 * parent process can read the address. Logs go to stderr. SIGTERM or SIGINT
 * stop it: long polls are released, civetweb and the webhook workers are
 * joined, everything is freed, and the exit code is 0. Usage errors exit 2
 * with a one-line message.
 *
 * Exports: main. Threads: the main thread only; it blocks the stop signals
 * before any thread starts and waits for them with sigwait.
 */
#include "tgsim.h"
#include "tgsim_log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#ifndef PLUS7_VERSION
#define PLUS7_VERSION "dev"
#endif

static const char tgsim_usage[] =
    "usage: tgsim [options]\n"
    "  --listen HOST:PORT          address to serve (default 127.0.0.1:8081; port 0 = any free port)\n"
    "  --token TOKEN               accepted bot token (repeatable; default: any \"digits:chars\" token)\n"
    "  --bot-username NAME         the bot's username (default plus7_bot)\n"
    "  --bot-name NAME             the bot's first_name (default \"+7Доставка\")\n"
    "  --rate-chat R[:B]           per private chat: R messages/s, burst B (default 1:3)\n"
    "  --rate-group N[:B]          per group: N messages/minute, burst B (default 20:5)\n"
    "  --rate-global R[:B]         whole bot: R messages/s, burst B (default 30:30)\n"
    "  --rate-global-strict        whole bot: a strict sliding window, at most R in any 1000 ms\n"
    "  --no-rate-limits            never answer 429 by itself (faults still work)\n"
    "  --webhook-retry-ms N        first webhook retry delay, doubling (default 1000)\n"
    "  --webhook-retry-max-ms N    longest webhook retry delay (default 60000)\n"
    "  --webhook-timeout-ms N      one webhook delivery attempt (default 10000)\n"
    "  --webhook-max-attempts N    give an update up after N attempts (default 0 = never)\n"
    "  --callback-timeout-ms N     answerCallbackQuery deadline (default 15000)\n"
    "  --precheckout-timeout-ms N  answerPreCheckoutQuery deadline (default 10000)\n"
    "  --threads N                 HTTP worker threads (default 64)\n"
    "  --update-id-start N         first update_id (default 100000001)\n"
    "  --user-id-start N           first id given to users created without one (default 700000001)\n"
    "  --max-body-mb N             largest request body (default 60)\n"
    "  --verbose                   log every Bot API call\n"
    "  --help, --version\n";

static int tgsim_usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "tgsim: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* "R" or "R:B" -> rate, burst. */
static int tgsim_parse_rate(const char *s, double *rate, double *burst)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *colon = strchr(buf, ':');
    if (colon) *colon = '\0';
    if (tgsim_parse_double(buf, rate) != 0 || *rate < 0) return -1;
    if (colon && (tgsim_parse_double(colon + 1, burst) != 0 || *burst < 1)) return -1;
    return 0;
}

static int tgsim_parse_args(int argc, char **argv, tgsim_config_t *cfg)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
#define NEED_ARG() do { if (!v) return tgsim_usage_error("missing value for", a); i++; } while (0)
#define INT_ARG(field, lo) do {                                                   \
            NEED_ARG();                                                           \
            if (tgsim_parse_int64(v, &n) || n < (lo) || n > 1000000000)           \
                return tgsim_usage_error("bad value for", a);                     \
            cfg->field = (int)n;                                                  \
        } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(tgsim_usage, stdout); return 1; }
        else if (!strcmp(a, "--version")) { printf("tgsim %s\n", PLUS7_VERSION); return 1; }
        else if (!strcmp(a, "--listen")) { NEED_ARG(); snprintf(cfg->listen, sizeof cfg->listen, "%s", v); }
        else if (!strcmp(a, "--token")) {
            NEED_ARG();
            if (!*v || strchr(v, '/')) return tgsim_usage_error("bad token", v);
            cfg->tokens = tgsim_xrealloc(cfg->tokens, (cfg->ntokens + 1) * sizeof *cfg->tokens);
            cfg->tokens[cfg->ntokens++] = tgsim_xstrdup(v);
        }
        else if (!strcmp(a, "--bot-username")) { NEED_ARG(); snprintf(cfg->bot_username, sizeof cfg->bot_username, "%s", v); }
        else if (!strcmp(a, "--bot-name")) { NEED_ARG(); snprintf(cfg->bot_name, sizeof cfg->bot_name, "%s", v); }
        else if (!strcmp(a, "--rate-chat")) {
            NEED_ARG();
            if (tgsim_parse_rate(v, &cfg->rate_chat, &cfg->rate_chat_burst)) return tgsim_usage_error("bad value for", a);
        }
        else if (!strcmp(a, "--rate-group")) {
            NEED_ARG();
            if (tgsim_parse_rate(v, &cfg->rate_group_per_min, &cfg->rate_group_burst)) return tgsim_usage_error("bad value for", a);
        }
        else if (!strcmp(a, "--rate-global")) {
            NEED_ARG();
            if (tgsim_parse_rate(v, &cfg->rate_global, &cfg->rate_global_burst)) return tgsim_usage_error("bad value for", a);
        }
        else if (!strcmp(a, "--rate-global-strict")) cfg->rate_global_strict = 1;
        else if (!strcmp(a, "--no-rate-limits")) cfg->rate_enabled = 0;
        else if (!strcmp(a, "--webhook-retry-ms")) INT_ARG(webhook_retry_ms, 1);
        else if (!strcmp(a, "--webhook-retry-max-ms")) INT_ARG(webhook_retry_max_ms, 1);
        else if (!strcmp(a, "--webhook-timeout-ms")) INT_ARG(webhook_timeout_ms, 1);
        else if (!strcmp(a, "--webhook-max-attempts")) INT_ARG(webhook_max_attempts, 0);
        else if (!strcmp(a, "--callback-timeout-ms")) INT_ARG(callback_timeout_ms, 1);
        else if (!strcmp(a, "--precheckout-timeout-ms")) INT_ARG(precheckout_timeout_ms, 1);
        else if (!strcmp(a, "--threads")) INT_ARG(threads, 4);
        else if (!strcmp(a, "--update-id-start")) {
            NEED_ARG();
            if (tgsim_parse_int64(v, &cfg->update_id_start) || cfg->update_id_start < 1) return tgsim_usage_error("bad value for", a);
        }
        else if (!strcmp(a, "--user-id-start")) {
            NEED_ARG();
            if (tgsim_parse_int64(v, &cfg->user_id_start) || cfg->user_id_start < 1) return tgsim_usage_error("bad value for", a);
        }
        else if (!strcmp(a, "--max-body-mb")) {
            NEED_ARG();
            if (tgsim_parse_int64(v, &n) || n < 1 || n > 4096) return tgsim_usage_error("bad value for", a);
            cfg->max_body = (size_t)n * 1024 * 1024;
        }
        else if (!strcmp(a, "--verbose")) cfg->verbose = 1;
        else return tgsim_usage_error("unknown option", a);
#undef INT_ARG
#undef NEED_ARG
    }
    if (cfg->webhook_retry_max_ms < cfg->webhook_retry_ms) cfg->webhook_retry_max_ms = cfg->webhook_retry_ms;
    return 0;
}

int main(int argc, char **argv)
{
    tgsim_config_t cfg = {
        .listen = "127.0.0.1:8081",
        .bot_username = "plus7_bot",
        .bot_name = "+7Доставка",
        .rate_enabled = 1,
        .rate_chat = 1, .rate_chat_burst = 3,
        .rate_group_per_min = 20, .rate_group_burst = 5,
        .rate_global = 30, .rate_global_burst = 30,
        .webhook_retry_ms = 1000, .webhook_retry_max_ms = 60000,
        .webhook_timeout_ms = 10000, .webhook_max_attempts = 0,
        .callback_timeout_ms = 15000, .precheckout_timeout_ms = 10000,
        .threads = 64,
        .update_id_start = 100000001,
        .user_id_start = 700000001,
        .max_body = 60u * 1024 * 1024,
    };
    int rc = tgsim_parse_args(argc, argv, &cfg);
    if (rc) {
        for (size_t i = 0; i < cfg.ntokens; i++) free(cfg.tokens[i]);
        free(cfg.tokens);
        return rc == 1 ? 0 : rc;
    }
    tgsim_log_verbose = cfg.verbose;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "tgsim: library initialisation failed\n");
        return 1;
    }
    /* the stop signals are taken by sigwait below; every thread inherits the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    static tgsim_world_t world;
    tgsim_world_init(&world, &cfg);
    int port = 0;
    void *http = tgsim_http_start(&world, &port);
    if (!http) {
        tgsim_world_destroy(&world);
        curl_global_cleanup();
        fprintf(stderr, "tgsim: cannot listen on %s\n", cfg.listen);
        return 1;
    }
    char host[128];
    snprintf(host, sizeof host, "%s", cfg.listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    if (!colon || !*host || !strcmp(host, "0.0.0.0")) snprintf(host, sizeof host, "127.0.0.1");
    printf("tgsim listening on http://%s:%d\n", host, port);
    fflush(stdout);
    TGSIM_INFO("listening", "addr=%s:%d tokens=%zu rate_limits=%d", host, port, cfg.ntokens, cfg.rate_enabled);

    int sig = 0;
    sigwait(&stop, &sig);
    TGSIM_INFO("stopping", "signal=%d", sig);
    pthread_mutex_lock(&world.mu);
    world.stopping = 1;
    pthread_cond_broadcast(&world.cv);
    pthread_mutex_unlock(&world.mu);
    tgsim_http_stop(http);
    tgsim_webhook_join(&world);
    tgsim_world_destroy(&world);
    curl_global_cleanup();
    TGSIM_INFO("stopped", "%s", "exit=0");
    return 0;
}
