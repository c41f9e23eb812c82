/* main.c — extsim: emulators of the Ozon Seller API, SMS.ru and the
 * Bitrix24 incoming-webhook REST API and YooKassa on one HTTP listener, for plus7's
 * end-to-end tests and `./dev up`. See docs/extsim.md.
 *
 * Usage: extsim [--listen 127.0.0.1:8082] [--seed-demo] [--threads N]
 *               [--ozon-client-id ID] [--ozon-api-key KEY] [--ozon-rps N]
 *               [--sms-api-id ID]
 *               [--bitrix-user-id ID] [--bitrix-code CODE]
 *               [--bitrix-rate R] [--bitrix-burst N]
 * Prints "extsim listening on http://HOST:PORT" on stdout once ready
 * (port 0 picks a free port), logs to stderr, exits 0 on SIGTERM/SIGINT,
 * 1 when it cannot listen, 2 on a usage error.
 *
 * Exports: main. Threads: the main thread parses flags, starts civetweb
 * (whose workers inherit the blocked signal mask) and waits in sigwait.
 */
#include "bitrix24.h"
#include "es_fault.h"
#include "es_journal.h"
#include "es_server.h"
#include "es_state.h"
#include "ozon.h"
#include "smsru.h"
#include "yookassa.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLUS7_VERSION
#define PLUS7_VERSION "dev"
#endif

static void main_usage(FILE *f)
{
    fprintf(f,
            "usage: extsim [options]\n"
            "  --listen HOST:PORT      listen address (default 127.0.0.1:8082; port 0 = any free port)\n"
            "  --seed-demo             seed the demo postings (docs/extsim.md)\n"
            "  --threads N             HTTP worker threads (default 32)\n"
            "  --ozon-client-id ID     Ozon Client-Id accepted (default 123456)\n"
            "  --ozon-api-key KEY      Ozon Api-Key accepted\n"
            "  --ozon-rps N            Ozon requests per second per Client-Id (default 50, 0 = no limit)\n"
            "  --sms-api-id ID         SMS.ru api_id accepted\n"
            "  --bitrix-user-id ID     Bitrix24 webhook user id (default 1)\n"
            "  --bitrix-code CODE      Bitrix24 webhook code\n"
            "  --bitrix-rate R         Bitrix24 leaky bucket drain per second (default 2)\n"
            "  --bitrix-burst N        Bitrix24 leaky bucket size (default 50, 0 = no limit)\n"
            "  --yookassa-shop-id ID   YooKassa shopId accepted (default 100500)\n"
            "  --yookassa-secret KEY   YooKassa secret key accepted\n"
            "  --yookassa-notify-url U where YooKassa notifications are POSTed (http://…/payments/yookassa)\n"
            "  --yookassa-pay-page     QR links lead to extsim's own page with an «Оплатить» button (demo)\n"
            "  --help, --version\n");
}

/* Copy a flag value into a fixed buffer; -1 when it does not fit. */
static int main_set(char *dst, size_t n, const char *v)
{
    if (!v || !v[0] || strlen(v) >= n) return -1;
    snprintf(dst, n, "%s", v);
    return 0;
}

static int main_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

static int pay_page;   /* --yookassa-pay-page: set once the listener is bound */

static int main_parse(int argc, char **argv, es_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8082");
    c->threads = 32;
    snprintf(c->ozon_client_id, sizeof c->ozon_client_id, "123456");
    snprintf(c->ozon_api_key, sizeof c->ozon_api_key, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    c->ozon_rps = 50;
    snprintf(c->sms_api_id, sizeof c->sms_api_id, "EXTSIM-SMS-API-ID");
    snprintf(c->bitrix_user_id, sizeof c->bitrix_user_id, "1");
    snprintf(c->bitrix_code, sizeof c->bitrix_code, "extsimwebhook001");
    c->bitrix_rate = 2.0;
    c->bitrix_burst = 50;
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *val = NULL, *eq = strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else snprintf(name, sizeof name, "%.63s", a);
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) { main_usage(stdout); return 1; }
        if (!strcmp(name, "--version")) { printf("extsim %s\n", PLUS7_VERSION); return 1; }
        if (!strcmp(name, "--seed-demo")) { c->seed_demo = 1; continue; }
        if (!strcmp(name, "--yookassa-pay-page")) { pay_page = 1; continue; }
        if (!val) {
            if (i + 1 >= argc) { fprintf(stderr, "extsim: %s needs a value\n", name); return -1; }
            val = argv[++i];
        }
        long x;
        int bad = 0;
        if (!strcmp(name, "--listen")) bad = main_set(c->listen, sizeof c->listen, val) || !strchr(val, ':');
        else if (!strcmp(name, "--threads")) { bad = main_int(val, 2, 512, &x); c->threads = (int)x; }
        else if (!strcmp(name, "--ozon-client-id")) bad = main_set(c->ozon_client_id, sizeof c->ozon_client_id, val);
        else if (!strcmp(name, "--ozon-api-key")) bad = main_set(c->ozon_api_key, sizeof c->ozon_api_key, val);
        else if (!strcmp(name, "--ozon-rps")) { bad = main_int(val, 0, 1000000, &x); c->ozon_rps = (int)x; }
        else if (!strcmp(name, "--sms-api-id")) bad = main_set(c->sms_api_id, sizeof c->sms_api_id, val);
        else if (!strcmp(name, "--bitrix-user-id"))
            bad = main_set(c->bitrix_user_id, sizeof c->bitrix_user_id, val) || strchr(val, '/');
        else if (!strcmp(name, "--bitrix-code"))
            bad = main_set(c->bitrix_code, sizeof c->bitrix_code, val) || strchr(val, '/');
        else if (!strcmp(name, "--bitrix-rate")) {
            char *end;
            c->bitrix_rate = strtod(val, &end);
            bad = *end || c->bitrix_rate < 0;
        } else if (!strcmp(name, "--bitrix-burst")) { bad = main_int(val, 0, 1000000, &x); c->bitrix_burst = (int)x; }
        else if (!strcmp(name, "--yookassa-shop-id")) yookassa_config(val, NULL, NULL);
        else if (!strcmp(name, "--yookassa-secret")) yookassa_config(NULL, val, NULL);
        else if (!strcmp(name, "--yookassa-notify-url")) { bad = strncmp(val, "http://", 7) != 0; yookassa_config(NULL, NULL, val); }
        else { fprintf(stderr, "extsim: unknown option %s (see --help)\n", name); return -1; }
        if (bad) { fprintf(stderr, "extsim: bad value for %s: %s\n", name, val); return -1; }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = main_parse(argc, argv, &es_cfg);
    if (rc > 0) return 0;
    if (rc < 0) return 2;
    es_cfg_startup = es_cfg;

    /* Block the stop signals before civetweb starts its threads, so only
     * sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    es_lock();
    smsru_reset();
    bitrix24_reset();
    yookassa_reset();
    ozon_reset();
    es_unlock();

    char bound[sizeof es_cfg.listen];
    if (es_server_start(bound, sizeof bound) != 0) {
        fprintf(stderr, "extsim: cannot listen on %s\n", es_cfg.listen);
        es_lock();
        ozon_free();
        smsru_free();
        bitrix24_free();
        es_unlock();
        return 1;
    }
    es_lock();
    snprintf(es_cfg.listen, sizeof es_cfg.listen, "%s", bound);
    es_unlock();
    ES_LOG_INFO("listening", "addr=%s seed_demo=%d ozon_client_id=%s bitrix_path=/rest/%s/%s/", bound,
                es_cfg.seed_demo, es_cfg.ozon_client_id, es_cfg.bitrix_user_id, es_cfg.bitrix_code);
    if (pay_page) {
        char base[160];
        snprintf(base, sizeof base, "http://%s", bound);
        es_lock();
        yookassa_pay_page(base);
        es_unlock();
    }
    printf("extsim listening on http://%s\n", bound);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {}
    ES_LOG_INFO("stopping", "signal=%d", sig);
    es_server_stop();
    es_lock();
    es_journal_free();
    es_fault_clear();
    ozon_free();
    smsru_free();
    bitrix24_free();
    yookassa_free();
    es_unlock();
    return 0;
}
