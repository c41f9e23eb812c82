/* wire.h — plus7d's wiring of modules into the runtime and the web layer.
 *
 * Purpose: the one place that knows every module. cmd_serve.c calls these
 * hooks in order; a new module adds its calls here (and nowhere else in
 * app/), so dependencies keep pointing one way: actors/ and web/ never
 * include each other, main wires them.
 *
 *   app_wire_runtime  before rt_runtime_start: register kinds, worker hooks
 *   app_wire_web      after rt_runtime_start, before web_server_start:
 *                     register HTTP routes (web_route_add)
 *   app_wire_started  after the HTTP server listens: start service actors,
 *                     setWebhook, etc.
 *
 * Exports: app_wire_runtime, app_wire_web, app_wire_started.
 * Threads: main thread. Each returns RT_OK or an RT_E* code with one line
 * in err (serve then exits 1).
 */
#ifndef PLUS7_APP_WIRE_H
#define PLUS7_APP_WIRE_H

#include <stddef.h>

#include "config.h"
#include "rt.h"

int app_wire_runtime(rt_runtime_t *rt, const app_config_t *cfg, char *err, size_t errlen);
int app_wire_web(rt_runtime_t *rt, const app_config_t *cfg, char *err, size_t errlen);
int app_wire_started(rt_runtime_t *rt, const app_config_t *cfg, char *err, size_t errlen);

/* Shutdown hook: stop the threads the wiring started (the dashboard's live
 * feed), before the web server stops. Main thread. */
void app_wire_stopping(void);

#endif
