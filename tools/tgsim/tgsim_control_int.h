/* tgsim_control_int.h — shared pieces of the control API (/control/...).
 *
 * Purpose: tgsim_control.c routes requests and serves the read-side
 * endpoints (users, chats, wait, stats, config, faults, files, reset);
 * tgsim_control_act.c performs what a person does in a Telegram client
 * (text, command, contact, location, live location, photo, document, button
 * presses, payments, blocking). Both answer {"ok":true,...} or
 * {"ok":false,"error":"..."} with a matching HTTP status.
 *
 * Exports: tgsim_ctl_t, tgsim_ctl_* helpers, tgsim_ctl_act.
 * Threads: civetweb workers; w->mu is held inside every handler except where
 * a wait releases it.
 */
#ifndef TGSIM_CONTROL_INT_H
#define TGSIM_CONTROL_INT_H

#include "tgsim.h"

typedef struct tgsim_ctl {
    tgsim_world_t *w;
    cJSON *in;                  /* the JSON body (an object, never NULL) */
    const char *query;
    tgsim_resp_t *r;
} tgsim_ctl_t;

/* Write {"ok":true,...fields of `o` (taken)} with status 200. */
void tgsim_ctl_ok(tgsim_ctl_t *c, cJSON *o);
/* Write {"ok":false,"error":msg} with `status`; returns -1. */
int tgsim_ctl_err(tgsim_ctl_t *c, int status, const char *msg);

/* Body field getters: 1 present and valid, 0 absent, -1 wrong type. */
int tgsim_ctl_i64(const cJSON *in, const char *name, int64_t *out);
int tgsim_ctl_num(const cJSON *in, const char *name, double *out);
const char *tgsim_ctl_str(const cJSON *in, const char *name);
int tgsim_ctl_bool(const cJSON *in, const char *name, int dflt);
/* Query-string value (malloc'd, decoded) or NULL. */
char *tgsim_ctl_q(const char *query, const char *name);

/* The per-chat record the read endpoints return for one message. */
cJSON *tgsim_ctl_msg_json(const tgsim_msg_t *m);

/* "pending" | "succeeded" | "rejected" | "expired". */
const char *tgsim_ctl_pay_status(int status);

/* POST /control/users/<id>/<action>. Lock held on entry and exit; may
 * release it while waiting (pay with "wait"). */
void tgsim_ctl_act(tgsim_ctl_t *c, tgsim_user_t *u, const char *action);

#endif
