/* notify_render.c — rendering one notification (see notify_render.h).
 * Exports: notify_reminder_days, notify_render_text, notify_render_tg_params.
 * A watcher's row (audience 'watcher': tracks the number, does not own the
 * parcel) renders T_NOTIFY_WATCHER_TG with posting and status only.
 * Threads: any.
 */
#include "notify_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rt.h"
#include "template.h"
#include "texts.h"
#include "tg_markup.h"
#include "timefmt.h"

#define NR_MAX_VARS 32
#define NR_REMINDER "pickup_reminder_"

int notify_reminder_days(const char *event)
{
    size_t n = strlen(NR_REMINDER);
    if (!event || strncmp(event, NR_REMINDER, n) != 0) return 0;
    const char *d = event + n;
    size_t len = strspn(d, "0123456789");
    if (len == 0 || len > 3 || d[len] != '\0') return 0;
    int days = atoi(d);
    return days > 0 ? days : 0;
}

/* The variables of a row: owned copies in `store`, pointers in `vars`. */
typedef struct nr_vars {
    tpl_var_t vars[NR_MAX_VARS];
    char *store[NR_MAX_VARS * 2];
    int n, nstore;
} nr_vars_t;

static const char *nr_keep(nr_vars_t *v, char *s)
{
    if (!s) return NULL;
    if (v->nstore >= (int)(sizeof v->store / sizeof v->store[0])) { free(s); return NULL; }
    v->store[v->nstore++] = s;
    return s;
}

static int nr_find(const nr_vars_t *v, const char *name)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->vars[i].name, name) == 0) return i;
    return -1;
}

/* Set name=value (copied), replacing an existing one when `replace`, or
 * only filling a missing/empty one otherwise. */
static void nr_set(nr_vars_t *v, const char *name, const char *value, bool replace)
{
    if (!value || !*value) return;
    int i = nr_find(v, name);
    if (i >= 0 && !replace && v->vars[i].value && *v->vars[i].value) return;
    const char *nm = i >= 0 ? v->vars[i].name : nr_keep(v, strdup(name));
    const char *val = nr_keep(v, strdup(value));
    if (!nm || !val) return;
    if (i < 0) {
        if (v->n >= NR_MAX_VARS) return;
        i = v->n++;
    }
    v->vars[i] = (tpl_var_t){nm, val};
}

static void nr_vars_free(nr_vars_t *v)
{
    for (int i = 0; i < v->nstore; i++) free(v->store[i]);
    v->nstore = v->n = 0;
}

static void nr_collect(const notify_row_t *row, nr_vars_t *v)
{
    cJSON *j = row->vars_json ? cJSON_Parse(row->vars_json) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (!it->string) continue;
        if (row->watcher && strcmp(it->string, "posting") != 0 && strcmp(it->string, "status") != 0) continue;
        if (cJSON_IsString(it)) {
            nr_set(v, it->string, it->valuestring, true);
        } else if (cJSON_IsNumber(it)) {
            char num[32];
            snprintf(num, sizeof num, "%.15g", it->valuedouble);
            nr_set(v, it->string, num, true);
        }
    }
    cJSON_Delete(j);
    nr_set(v, "posting", row->posting, false);
    if (row->watcher) return;   /* strangers learn the status, nothing more */
    nr_set(v, "name", row->name, false);
    nr_set(v, "pickup_point", row->pickup_point, false);
    if (row->storage_until_ms > 0) {            /* the order's deadline now (it may have been extended) */
        char when[32];
        timefmt_msk(row->storage_until_ms, when, sizeof when);
        nr_set(v, "storage_deadline", when, true);
    }
    int days = notify_reminder_days(row->event);
    if (days > 0) {
        char d[16];
        snprintf(d, sizeof d, "%d", days);
        nr_set(v, "days", d, true);
    }
}

static const char *nr_generic(const notify_row_t *row, bool html)
{
    bool reminder = row->event && strncmp(row->event, "pickup_reminder", 15) == 0;
    if (reminder) return text_get(html ? T_NOTIFY_GENERIC_REMINDER_TG : T_NOTIFY_GENERIC_REMINDER_SMS);
    return text_get(html ? T_NOTIFY_GENERIC_TG : T_NOTIFY_GENERIC_SMS);
}

char *notify_render_text(const notify_row_t *row, bool html, unsigned *flags)
{
    unsigned f = 0;
    nr_vars_t v = {.n = 0};
    nr_collect(row, &v);
    char *out = NULL;
    if (row->watcher) {
        out = tpl_render(text_get(html ? T_NOTIFY_WATCHER_TG : T_NOTIFY_GENERIC_SMS), v.vars, v.n, html);
        if (out) tpl_tidy(out);
        nr_vars_free(&v);
        if (flags) *flags = 0;
        return out;
    }
    if (row->tpl && (tpl_check(row->tpl, NULL, 0) != RT_OK || (html && tpl_check_html(row->tpl, NULL, 0) != RT_OK))) {
        f |= NOTIFY_BAD_TPL;
    } else if (row->tpl) {
        out = tpl_render(row->tpl, v.vars, v.n, html);
        if (out) tpl_tidy(out);
        if (out && !*out) { free(out); out = NULL; }   /* nothing left to say: the generic text */
    }
    if (!out) {
        f |= NOTIFY_GENERIC;
        out = tpl_render(nr_generic(row, html), v.vars, v.n, html);
        if (out) tpl_tidy(out);
    }
    nr_vars_free(&v);
    if (flags) *flags = f;
    return out;
}

char *notify_render_tg_params(const notify_row_t *row, int64_t chat_id, unsigned *flags)
{
    char *html = notify_render_text(row, true, flags);
    if (!html) return NULL;
    cJSON *kb = NULL;
    if (row->watcher && row->posting && *row->posting) {
        char data[TG_CALLBACK_DATA_MAX + 16];
        snprintf(data, sizeof data, "w:off:%s", row->posting);
        kb = tg_kb_inline_new();
        if (kb && tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_NOTIFY_BTN_UNWATCH), data) != RT_OK) {
            cJSON_Delete(kb);
            kb = NULL;
        }
    } else if (row->posting && *row->posting && notify_reminder_days(row->event) > 0) {
        static const struct { text_id_t label; const char *action; } buttons[] = {
            {T_NOTIFY_BTN_EXTEND, "ext"}, {T_NOTIFY_BTN_COURIER, "cur"}, {T_NOTIFY_BTN_RETURN, "ret"}};
        kb = tg_kb_inline_new();
        for (size_t i = 0; kb && i < sizeof buttons / sizeof buttons[0]; i++) {
            char data[TG_CALLBACK_DATA_MAX + 16];
            snprintf(data, sizeof data, "pk:%s:%s", buttons[i].action, row->posting);
            cJSON *r = tg_kb_inline_row(kb);
            if (!r || tg_kb_inline_button(r, text_get(buttons[i].label), data) != RT_OK) {
                cJSON_Delete(kb);   /* a posting too long for callback data: no buttons rather than broken ones */
                kb = NULL;
            }
        }
    }
    char *params = tg_params_send_message(chat_id, html, kb);
    free(html);
    return params;
}
