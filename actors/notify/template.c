/* template.c — {placeholder} templates (see template.h).
 * Exports: tpl_check, tpl_check_ex, tpl_check_html, tpl_render, tpl_tidy,
 * tpl_known_list. Threads: any.
 */
#include "template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "tg_markup.h"

static const char *const tpl_known[] = {"posting", "status", "pickup_point", "storage_deadline", "name",
                                        "slot", "address", "price", "comment", "days"};
#define TPL_NKNOWN (sizeof tpl_known / sizeof tpl_known[0])

static bool tpl_is_known(const char *name, size_t n)
{
    for (size_t i = 0; i < TPL_NKNOWN; i++)
        if (strlen(tpl_known[i]) == n && memcmp(tpl_known[i], name, n) == 0) return true;
    return false;
}

const char *tpl_known_list(void)
{
    return "posting, status, pickup_point, storage_deadline, name, slot, address, price, comment, days";
}

/* Output buffer of a render (NULL sink: check only). */
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

static int tpl_fail(char *bad, size_t badsz, tpl_problem_t *problem, tpl_problem_t kind, const char *what,
                    size_t n)
{
    if (bad && badsz) snprintf(bad, badsz, "%.*s", (int)(n > 40 ? 40 : n), what);
    if (problem) *problem = kind;
    return RT_EINVAL;
}

/* Walk the template, copying text and substituted values into `out` (may
 * be NULL). RT_OK or RT_EINVAL (with the problem in bad/problem). */
static int tpl_walk(const char *t, const tpl_var_t *vars, int nvars, bool html, tpl_sink_t *out, char *bad,
                    size_t badsz, tpl_problem_t *problem)
{
    for (const char *p = t; *p;) {
        if (p[0] == '{' && p[1] == '{') { tpl_put(out, "{", 1); p += 2; continue; }
        if (p[0] == '}' && p[1] == '}') { tpl_put(out, "}", 1); p += 2; continue; }
        if (*p == '}') return tpl_fail(bad, badsz, problem, TPL_SYNTAX, "unmatched '}'", 13);
        if (*p != '{') {
            size_t n = strcspn(p, "{}");
            tpl_put(out, p, n);
            p += n;
            continue;
        }
        const char *name = p + 1, *end = strchr(name, '}');
        if (!end) return tpl_fail(bad, badsz, problem, TPL_SYNTAX, "unclosed '{'", 12);
        size_t n = (size_t)(end - name);
        if (n == 0) return tpl_fail(bad, badsz, problem, TPL_SYNTAX, "empty placeholder {}", 20);
        if (memchr(name, '{', n)) return tpl_fail(bad, badsz, problem, TPL_SYNTAX, "unclosed '{'", 12);
        if (!tpl_is_known(name, n)) return tpl_fail(bad, badsz, problem, TPL_UNKNOWN_NAME, name, n);
        for (int i = 0; out && i < nvars; i++) {
            if (!vars[i].name || strlen(vars[i].name) != n || memcmp(vars[i].name, name, n) != 0 ||
                !vars[i].value)
                continue;
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
    if (problem) *problem = TPL_OK;
    return RT_OK;
}

int tpl_check_ex(const char *tpl, char *bad, size_t badsz, tpl_problem_t *problem)
{
    if (bad && badsz) bad[0] = '\0';
    return tpl_walk(tpl ? tpl : "", NULL, 0, false, NULL, bad, badsz, problem);
}

int tpl_check(const char *tpl, char *bad, size_t badsz)
{
    return tpl_check_ex(tpl, bad, badsz, NULL);
}

char *tpl_render(const char *tpl, const tpl_var_t *vars, int nvars, bool html)
{
    tpl_sink_t s = {0};
    tpl_put(&s, "", 0);
    if (tpl_walk(tpl ? tpl : "", vars, nvars, html, &s, NULL, 0, NULL) != RT_OK || s.oom) {
        free(s.buf);
        return NULL;
    }
    return s.buf;
}

/* ---- Telegram HTML ----------------------------------------------------------- */

static const char *const tpl_html_tags[] = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
                                            "code", "pre", "a", "tg-spoiler", "span", "blockquote"};

static bool tpl_html_tag_ok(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof tpl_html_tags / sizeof tpl_html_tags[0]; i++)
        if (strlen(tpl_html_tags[i]) == n && strncasecmp(tpl_html_tags[i], name, n) == 0) return true;
    return false;
}

#define TPL_HTML_DEPTH 16

int tpl_check_html(const char *tpl, char *bad, size_t badsz)
{
    const char *stack[TPL_HTML_DEPTH];
    size_t lens[TPL_HTML_DEPTH];
    int depth = 0;
    if (bad && badsz) bad[0] = '\0';
    for (const char *p = tpl ? tpl : ""; *p;) {
        if (*p == '{' && p[1] != '{') {          /* a placeholder: its value is escaped */
            const char *end = strchr(p, '}');
            p = end ? end + 1 : p + 1;
            continue;
        }
        if (*p != '<') { p++; continue; }
        bool closing = p[1] == '/';
        const char *name = p + 1 + (closing ? 1 : 0);
        size_t n = 0;
        while (isalnum((unsigned char)name[n]) || name[n] == '-') n++;
        if (n == 0) {
            if (bad) snprintf(bad, badsz, "a bare '<' (write &lt;)");
            return RT_EINVAL;
        }
        if (!tpl_html_tag_ok(name, n)) {
            if (bad) snprintf(bad, badsz, "unsupported tag <%.*s>", (int)(n > 20 ? 20 : n), name);
            return RT_EINVAL;
        }
        const char *q = name + n;
        char quote = 0;
        while (*q && (quote || *q != '>')) {     /* attributes, quoted values may hold '>' */
            if (quote && *q == quote) quote = 0;
            else if (!quote && (*q == '"' || *q == '\'')) quote = *q;
            q++;
        }
        if (!*q) {
            if (bad) snprintf(bad, badsz, "unclosed tag <%.*s", (int)(n > 20 ? 20 : n), name);
            return RT_EINVAL;
        }
        if (closing) {
            if (depth == 0 || lens[depth - 1] != n || strncasecmp(stack[depth - 1], name, n) != 0) {
                if (bad) snprintf(bad, badsz, "unexpected </%.*s>", (int)(n > 20 ? 20 : n), name);
                return RT_EINVAL;
            }
            depth--;
        } else {
            if (depth == TPL_HTML_DEPTH) {
                if (bad) snprintf(bad, badsz, "tags nested too deep");
                return RT_EINVAL;
            }
            stack[depth] = name;
            lens[depth++] = n;
        }
        p = q + 1;
    }
    if (depth > 0) {
        if (bad) snprintf(bad, badsz, "<%.*s> is not closed", (int)(lens[depth - 1] > 20 ? 20 : lens[depth - 1]),
                          stack[depth - 1]);
        return RT_EINVAL;
    }
    return RT_OK;
}

/* ---- tidying ------------------------------------------------------------------- */

void tpl_tidy(char *s)
{
    if (!s) return;
    size_t j = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == ' ' && j > 0 && s[j - 1] == ' ') continue;            /* runs of spaces */
        if (c == ' ' && j > 0 && s[j - 1] == '\n') continue;           /* leading blanks of a line */
        if (strchr(".,;:!?)", c) && c != '\0' && j > 0 && s[j - 1] == ' ') j--;   /* " ." -> "." */
        if (c == '\n') while (j > 0 && s[j - 1] == ' ') j--;           /* trailing blanks of a line */
        s[j++] = c;
    }
    while (j > 0 && s[j - 1] == ' ') j--;
    s[j] = '\0';
}
