/* template.c — {placeholder} templates (see template.h).
 * Exports: tpl_check, tpl_render. Threads: any.
 */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "tg_markup.h"

static const char *const tpl_known[] = {"posting", "status", "pickup_point", "storage_deadline", "name",
                                        "slot", "address", "price", "comment"};

static bool tpl_is_known(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof tpl_known / sizeof tpl_known[0]; i++)
        if (strlen(tpl_known[i]) == n && memcmp(tpl_known[i], name, n) == 0) return true;
    return false;
}

/* Walk the template; on_text/on_var called in order; returns RT_OK or
 * RT_EINVAL (with a description in bad). */
typedef struct tpl_sink {
    char *buf;
    size_t len, cap;
    bool oom;
} tpl_sink_t;

static void tpl_put(tpl_sink_t *s, const char *p, size_t n)
{
    if (!s || s->oom) return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n + 1) cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) { s->oom = true; return; }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static int tpl_walk(const char *t, const tpl_var_t *vars, int nvars, bool html, tpl_sink_t *out,
                    char *bad, size_t badsz)
{
    for (const char *p = t; *p;) {
        if (p[0] == '{' && p[1] == '{') { tpl_put(out, "{", 1); p += 2; continue; }
        if (p[0] == '}' && p[1] == '}') { tpl_put(out, "}", 1); p += 2; continue; }
        if (*p == '}') { if (bad) snprintf(bad, badsz, "unmatched '}'"); return RT_EINVAL; }
        if (*p != '{') {
            size_t n = strcspn(p, "{}");
            tpl_put(out, p, n);
            p += n;
            continue;
        }
        const char *name = p + 1, *end = strchr(name, '}');
        if (!end) { if (bad) snprintf(bad, badsz, "unclosed '{'"); return RT_EINVAL; }
        size_t n = (size_t)(end - name);
        if (!tpl_is_known(name, n)) {
            if (bad) snprintf(bad, badsz, "%.*s", (int)(n > 40 ? 40 : n), name);
            return RT_EINVAL;
        }
        for (int i = 0; out && i < nvars; i++) {
            if (strlen(vars[i].name) != n || memcmp(vars[i].name, name, n) != 0 || !vars[i].value) continue;
            if (html) {
                char *e = tg_html_escape(vars[i].value);
                if (!e) { out->oom = true; break; }
                tpl_put(out, e, strlen(e));
                free(e);
            } else {
                tpl_put(out, vars[i].value, strlen(vars[i].value));
            }
            break;
        }
        p = end + 1;
    }
    return RT_OK;
}

int tpl_check(const char *tpl, char *bad, size_t badsz)
{
    if (bad && badsz) bad[0] = '\0';
    return tpl_walk(tpl ? tpl : "", NULL, 0, false, NULL, bad, badsz);
}

char *tpl_render(const char *tpl, const tpl_var_t *vars, int nvars, bool html)
{
    tpl_sink_t s = {0};
    tpl_put(&s, "", 0);
    if (tpl_walk(tpl ? tpl : "", vars, nvars, html, &s, NULL, 0) != RT_OK || s.oom) {
        free(s.buf);
        return NULL;
    }
    return s.buf;
}
