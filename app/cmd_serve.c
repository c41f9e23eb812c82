/* cmd_serve.c — `plus7d serve` (the default command): run the service.
 *
 * Purpose: start-up in dependency order — logging, schema check, runtime
 * with async PostgreSQL and HTTP, module kinds (wire.c), the web layer
 * (health, metrics, module routes, static dashboard) — then wait for
 * SIGTERM/SIGINT and shut down in reverse: stop accepting HTTP (handlers in
 * progress finish), stop the runtime with a bounded drain, close the web
 * database pool, flush the log. A watchdog ends the process with status 1
 * if shutdown has not finished within 4.5 s of the signal.
 *
 * Exit status: 0 after a signal-initiated shutdown; 2 when the database
 * schema does not match this binary (not migrated, migrations pending, or
 * newer than known: restarting cannot fix it, so it is treated like a
 * configuration error); 1 for runtime failures (cannot listen, runtime
 * failed to start). A database that is unreachable at start-up is not
 * fatal: serve starts degraded (/healthz answers 503) and logs
 * schema_check_skipped; the runtime keeps reconnecting.
 *
 * Signals: SIGTERM, SIGINT and SIGHUP are blocked on the main thread
 * before any thread is created (so every thread inherits the mask) and
 * received synchronously with sigwait; SIGHUP is logged and ignored.
 * SIGPIPE is ignored process-wide.
 *
 * Exports: app_cmd_serve.
 * Threads: main thread; starts the runtime workers, the log writer, the
 * civetweb threads and, at shutdown, the watchdog thread.
 */
#include "commands.h"
#include "migrations.h"
#include "wire.h"

#include "rt.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "web_builtin.h"
#include "web_db.h"
#include "web_server.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVE_DRAIN_MS 1500          /* rt_runtime_stop drain budget */
#define SERVE_SHUTDOWN_DEADLINE_MS 4500
#define SERVE_MAILBOX_HIGH_WATER 10000

/* release/acquire: the main thread sets it after the last shutdown step;
 * the watchdog only needs to see that store eventually. */
static atomic_bool g_shutdown_done;

static void *serve_watchdog(void *arg)
{
    (void)arg;
    uint64_t end = rt_now_ms() + SERVE_SHUTDOWN_DEADLINE_MS;
    while (!atomic_load_explicit(&g_shutdown_done, memory_order_acquire)) {
        if (rt_now_ms() >= end) {
            static const char msg[] = "plus7d: shutdown did not finish in time; exiting\n";
            if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
            _exit(APP_EXIT_RUNTIME);
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static const char *serve_signame(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "?";
    }
}

static int serve_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc > 0) return app_fail(APP_EXIT_USAGE, "serve: unexpected argument \"%s\"", argv[0]);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    rt_log_init(cfg->log_level, 2);
    LOG_INFO("starting", "version=%s listen=%s threads=%d web_threads=%d config=\"%s\"",
             PLUS7_VERSION, cfg->listen, cfg->threads, cfg->web_threads,
             cfg->config_file ? cfg->config_file : "");

    char err[1024] = "";
    int exit_code = APP_EXIT_OK;
    int rc = app_migrate_check(cfg->db, err, sizeof err);
    if (rc == RT_EINVAL) {
        rt_log_shutdown();
        return app_fail(APP_EXIT_USAGE, "%s", err);
    }
    if (rc != RT_OK) {
        for (char *p = err; *p; p++) if (*p == '"') *p = '\'';
        LOG_WARN("schema_check_skipped", "reason=\"%s\"", err);
    }

    rt_config_t rcfg = {.threads = cfg->threads, .mailbox_high_water = SERVE_MAILBOX_HIGH_WATER};
    rt_runtime_t *rt = rt_runtime_new(&rcfg);
    if (!rt) {
        rt_log_shutdown();
        return app_fail(APP_EXIT_RUNTIME, "runtime: cannot create (threads=%d)", cfg->threads);
    }
    rt_http_options_t hopts;
    memset(&hopts, 0, sizeof hopts);
    if ((rc = rt_pg_init(rt, cfg->db, cfg->pg_conns)) != RT_OK) {
        snprintf(err, sizeof err, "rt_pg_init: %s", rt_strerror(rc));
        goto fail_runtime_new;
    }
    if ((rc = rt_http_init(rt, &hopts)) != RT_OK) {
        snprintf(err, sizeof err, "rt_http_init: %s", rt_strerror(rc));
        goto fail_runtime_new;
    }
    if ((rc = app_wire_runtime(rt, cfg, err, sizeof err)) != RT_OK) goto fail_runtime_new;
    if ((rc = rt_runtime_start(rt)) != RT_OK) {
        snprintf(err, sizeof err, "runtime: start failed: %s", rt_strerror(rc));
        goto fail_runtime_new;
    }

    if ((rc = web_db_init(cfg->db, cfg->web_db_conns)) != RT_OK ||
        (rc = web_health_register()) != RT_OK ||
        (rc = web_metrics_register(rt)) != RT_OK) {
        snprintf(err, sizeof err, "web: set-up failed: %s", rt_strerror(rc));
        goto fail_runtime_started;
    }
    if ((rc = app_wire_web(rt, cfg, err, sizeof err)) != RT_OK) goto fail_runtime_started;
    if (cfg->static_dir) {
        if ((rc = web_static_register(cfg->static_dir)) != RT_OK) {
            snprintf(err, sizeof err, "PLUS7_STATIC_DIR: cannot serve \"%s\"", cfg->static_dir);
            goto fail_runtime_started;
        }
    } else {
        LOG_WARN("static_off", "reason=\"no dashboard directory found; set PLUS7_STATIC_DIR\"");
    }
    web_server_opts_t wopts = {
        .listen = cfg->listen_civetweb,
        .threads = cfg->web_threads,
        .request_timeout_ms = 10000,
        .keep_alive_timeout_ms = 10000,
    };
    char werr[512];
    if ((rc = web_server_start(&wopts, werr, sizeof werr)) != RT_OK) {
        snprintf(err, sizeof err, "PLUS7_LISTEN: %s", werr);
        goto fail_runtime_started;
    }
    if ((rc = app_wire_started(rt, cfg, err, sizeof err)) != RT_OK) goto fail_web_started;

    LOG_INFO("ready", "listen=%s", cfg->listen);
    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0) continue;
        if (sig == SIGHUP) {
            LOG_INFO("signal_ignored", "signal=SIGHUP");
            continue;
        }
        LOG_INFO("stopping", "signal=%s", serve_signame(sig));
        break;
    }
    pthread_t wd;
    bool wd_started = pthread_create(&wd, NULL, serve_watchdog, NULL) == 0;
    if (wd_started) pthread_detach(wd);
    goto shutdown;

fail_web_started:
    exit_code = APP_EXIT_RUNTIME;
shutdown:
    app_wire_stopping();
    web_server_stop();
fail_runtime_started:
    if (exit_code == APP_EXIT_OK && rc != RT_OK) exit_code = APP_EXIT_RUNTIME;
    rc = rt_runtime_stop(rt, SERVE_DRAIN_MS);
    if (rc != RT_OK) LOG_WARN("runtime_stop", "rc=%s", rt_strerror(rc));
    rt_runtime_free(rt);
    web_db_shutdown();
    if (exit_code == APP_EXIT_OK) LOG_INFO("stopped", "status=0");
    rt_log_shutdown();
    atomic_store_explicit(&g_shutdown_done, true, memory_order_release);
    if (exit_code != APP_EXIT_OK) return app_fail(exit_code, "%s", err);
    return APP_EXIT_OK;

fail_runtime_new:
    rt_runtime_free(rt);
    rt_log_shutdown();
    return app_fail(APP_EXIT_RUNTIME, "%s", err);
}

const app_command_t app_cmd_serve = {
    "serve", "", "run the service: runtime, Telegram, HTTP (default command)", serve_run,
};
