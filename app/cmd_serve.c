/* cmd_serve.c — `plus7d serve` (the default command): run the service.
 *
 * Purpose: start-up in dependency order (serve_start) — logging, schema
 * check, runtime with async PostgreSQL and HTTP, module kinds (wire.c),
 * the web layer (health, metrics, module routes, static dashboard) — then
 * wait for SIGTERM/SIGINT and shut down in reverse (serve_cleanup, which
 * undoes exactly what serve_state_t records as started, on the failure
 * path and after a signal alike): stop accepting HTTP (handlers in progress
 * finish), stop the runtime with a bounded drain, close the web layer's
 * database connections, flush the log. A watchdog ends the process with
 * status 1 if shutdown has not finished within 4.5 s of the signal.
 *
 * Exit status: 0 after a signal-initiated shutdown; 2 when the database
 * schema does not match this binary (not migrated, migrations pending, or
 * newer than known: restarting cannot fix it, so it is treated like a
 * configuration error); 1 for runtime failures (the log writer, the
 * runtime or the HTTP server cannot start), with a one-line message. A database that is unreachable at start-up is not
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
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVE_DRAIN_MS 1500          /* rt_runtime_stop drain budget */
#define SERVE_SHUTDOWN_DEADLINE_MS 4500
#define SERVE_MAILBOX_HIGH_WATER 10000
#define SERVE_REQUEST_DEADLINE_MS 10000  /* per HTTP request: body, database */

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

/* What has been started, so that one routine can undo exactly that. */
typedef struct serve_state {
    bool log_started;
    rt_runtime_t *rt;          /* created */
    bool rt_started;
    bool web_db_ready;
    bool health_registered;
    bool web_started;
} serve_state_t;

/* Undo what `st` says was started, in reverse order: stop accepting HTTP
 * (handlers in progress finish), stop the runtime with a bounded drain,
 * close the web layer's database connections, flush the log. Then report:
 * exit_code 0 logs "stopped"; otherwise `err` is printed as the one-line
 * failure (after the log is flushed, so it is the last line). */
static int serve_cleanup(serve_state_t *st, int exit_code, const char *err)
{
    if (st->web_started) {
        app_wire_stopping();   /* threads the wiring started, before their server goes */
        web_server_stop();
    }
    if (st->rt) {
        if (st->rt_started) {
            int rc = rt_runtime_stop(st->rt, SERVE_DRAIN_MS);
            if (rc != RT_OK) LOG_WARN("runtime_stop", "rc=%s", rt_strerror(rc));
        }
        rt_runtime_free(st->rt);
    }
    if (st->health_registered) web_health_shutdown();
    if (st->web_db_ready) web_db_shutdown();
    if (exit_code == APP_EXIT_OK) LOG_INFO("stopped", "status=0");
    if (st->log_started) rt_log_shutdown();
    atomic_store_explicit(&g_shutdown_done, true, memory_order_release);
    if (exit_code != APP_EXIT_OK) return app_fail(exit_code, "%s", err);
    return APP_EXIT_OK;
}

/* Start everything in dependency order; on failure `err` holds one line
 * and the result is the exit code. */
static int serve_start(serve_state_t *st, const app_config_t *cfg, char *err, size_t errlen)
{
    int rc = rt_log_init(cfg->log_level, 2);
    if (rc != RT_OK) {
        snprintf(err, errlen, "log: cannot start the writer thread: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    st->log_started = true;
    LOG_INFO("starting", "version=%s listen=%s threads=%d web_threads=%d config=\"%s\"",
             PLUS7_VERSION, cfg->listen, cfg->threads, cfg->web_threads,
             cfg->config_file ? cfg->config_file : "");

    rc = app_migrate_check(cfg->db, err, errlen);
    if (rc == RT_EINVAL) return APP_EXIT_USAGE;
    if (rc != RT_OK) {
        char shown[512];
        LOG_WARN("schema_check_skipped", "reason=\"%s\"", rt_log_value(shown, sizeof shown, err));
    }

    rt_config_t rcfg = {.threads = cfg->threads, .mailbox_high_water = SERVE_MAILBOX_HIGH_WATER};
    if (!(st->rt = rt_runtime_new(&rcfg))) {
        snprintf(err, errlen, "runtime: cannot create (threads=%d)", cfg->threads);
        return APP_EXIT_RUNTIME;
    }
    rt_http_options_t hopts;
    memset(&hopts, 0, sizeof hopts);
    if ((rc = rt_pg_init(st->rt, cfg->db, cfg->pg_conns)) != RT_OK) {
        snprintf(err, errlen, "rt_pg_init: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    if ((rc = rt_http_init(st->rt, &hopts)) != RT_OK) {
        snprintf(err, errlen, "rt_http_init: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    if (app_wire_runtime(st->rt, cfg, err, errlen) != RT_OK) return APP_EXIT_RUNTIME;
    if ((rc = rt_runtime_start(st->rt)) != RT_OK) {
        snprintf(err, errlen, "runtime: start failed: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    st->rt_started = true;

    if ((rc = web_db_init(cfg->db, cfg->web_db_conns)) != RT_OK) {
        snprintf(err, errlen, "web: database pool: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    st->web_db_ready = true;
    if ((rc = web_health_register(cfg->db)) != RT_OK) {
        snprintf(err, errlen, "web: /healthz: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    st->health_registered = true;
    if ((rc = web_metrics_register(st->rt)) != RT_OK) {
        snprintf(err, errlen, "web: /metrics: %s", rt_strerror(rc));
        return APP_EXIT_RUNTIME;
    }
    if (app_wire_web(st->rt, cfg, err, errlen) != RT_OK) return APP_EXIT_RUNTIME;
    if (cfg->static_dir) {
        if (web_static_register(cfg->static_dir) != RT_OK) {
            snprintf(err, errlen, "PLUS7_STATIC_DIR: cannot serve \"%s\"", cfg->static_dir);
            return APP_EXIT_RUNTIME;
        }
    } else {
        LOG_WARN("static_off", "reason=\"no dashboard directory found; set PLUS7_STATIC_DIR\"");
    }
    web_server_opts_t wopts = {
        .listen = cfg->listen_civetweb,
        .threads = cfg->web_threads,
        .request_timeout_ms = 10000,
        .keep_alive_timeout_ms = 10000,
        .request_deadline_ms = SERVE_REQUEST_DEADLINE_MS,
        .max_conns_per_addr = cfg->web_conns_per_addr,
    };
    char werr[512];
    if (web_server_start(&wopts, werr, sizeof werr) != RT_OK) {
        snprintf(err, errlen, "PLUS7_LISTEN: %s", werr);
        return APP_EXIT_RUNTIME;
    }
    st->web_started = true;
    if (app_wire_started(st->rt, cfg, err, errlen) != RT_OK) return APP_EXIT_RUNTIME;
    return APP_EXIT_OK;
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

    serve_state_t st = {0};
    char err[1024] = "";
    int exit_code = serve_start(&st, cfg, err, sizeof err);
    if (exit_code != APP_EXIT_OK) return serve_cleanup(&st, exit_code, err);

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
    if (pthread_create(&wd, NULL, serve_watchdog, NULL) == 0) pthread_detach(wd);
    return serve_cleanup(&st, APP_EXIT_OK, "");
}

const app_command_t app_cmd_serve = {
    "serve", "", "run the service: runtime, Telegram, HTTP (default command)", serve_run,
};
