/* tgsim_html.c — the HTML parse mode: tags to MessageEntity, with the real
 * server's error messages.
 *
 * The parser walks the input once. Text and decoded character references go
 * to the output buffer while a UTF-16 counter advances; a start tag pushes an
 * open-tag record, an end tag pops it and emits an entity covering the text
 * between them (empty ranges emit nothing). Errors name the byte offset of
 * the offending '<' in the input, like the Bot API does.
 *
 * Exports: tgsim_html_parse, tgsim_text_finish. Threads: any (no state).
 */
#include "tgsim_html.h"
#include "tgsim_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char tag[64];
    char *arg;            /* href, language, emoji id, "expandable", "tg-spoiler" */
    size_t off16;         /* UTF-16 offset where the tag opened */
} tgsim_open_tag_t;

typedef struct {
    const char *type;
    size_t off, len;
    char *arg;            /* url / language / custom_emoji_id */
    int seq;              /* creation order */
} tgsim_ent_t;

typedef struct {
    const char *s;
    size_t n;
    tgsim_buf_t out;
    size_t off16;
    tgsim_open_tag_t *open;
    size_t nopen, capopen;
    tgsim_ent_t *ents;
    size_t nents, capents;
    char *err;
    size_t errlen;
} tgsim_html_ctx_t;

static int tgsim_html_at(const tgsim_html_ctx_t *c, size_t i)
{
    return i < c->n ? (unsigned char)c->s[i] : 0;
}

static int tgsim_html_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static int tgsim_html_fail(tgsim_html_ctx_t *c, const char *fmt, const char *a, size_t pos)
{
    if (a) snprintf(c->err, c->errlen, fmt, a, pos);
    else snprintf(c->err, c->errlen, fmt, pos);
    return -1;
}

/* Decode a character reference at s[i] == '&'. Returns the number of input
 * bytes consumed and sets *cp, or 0 if it is not a recognised reference. */
static size_t tgsim_html_entity(const tgsim_html_ctx_t *c, size_t i, uint32_t *cp)
{
    static const struct { const char *name; uint32_t cp; } named[] = {
        {"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'},
    };
    const char *p = c->s + i + 1;
    size_t rest = c->n - i - 1;
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t l = strlen(named[k].name);
        if (rest >= l && memcmp(p, named[k].name, l) == 0) { *cp = named[k].cp; return l + 1; }
    }
    if (rest >= 3 && p[0] == '#') {
        size_t j = 1;
        uint32_t v = 0;
        int hex = 0, digits = 0;
        if (p[1] == 'x' || p[1] == 'X') { hex = 1; j = 2; }
        for (; j < rest && digits < 8; j++) {
            int ch = (unsigned char)p[j], d;
            if (ch >= '0' && ch <= '9') d = ch - '0';
            else if (hex && ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
            else if (hex && ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
            else break;
            v = v * (hex ? 16u : 10u) + (uint32_t)d;
            digits++;
        }
        if (digits && j < rest && p[j] == ';' && v > 0 && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF)) {
            *cp = v;
            return j + 2;
        }
    }
    return 0;
}

static void tgsim_html_emit(tgsim_html_ctx_t *c, uint32_t cp)
{
    tgsim_utf8_put(&c->out, cp);
    c->off16 += cp >= 0x10000 ? 2 : 1;
}

static const char *const tgsim_html_tags[] = {
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
    "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote", NULL,
};

static int tgsim_html_known(const char *tag)
{
    for (int k = 0; tgsim_html_tags[k]; k++)
        if (strcmp(tag, tgsim_html_tags[k]) == 0) return 1;
    return 0;
}

static void tgsim_html_add_ent(tgsim_html_ctx_t *c, const char *type, size_t off, size_t len, char *arg)
{
    if (c->nents == c->capents) {
        c->capents = c->capents ? c->capents * 2 : 8;
        c->ents = tgsim_xrealloc(c->ents, c->capents * sizeof *c->ents);
    }
    c->ents[c->nents] = (tgsim_ent_t){type, off, len, arg, (int)c->nents};
    c->nents++;
}

/* Parse a start tag beginning at c->s[begin] == '<'; *i is past '<'. */
static int tgsim_html_start_tag(tgsim_html_ctx_t *c, size_t begin, size_t *ip)
{
    size_t i = *ip;
    while (tgsim_html_at(c, i) && !tgsim_html_space(tgsim_html_at(c, i)) && tgsim_html_at(c, i) != '>') i++;
    if (!tgsim_html_at(c, i)) return tgsim_html_fail(c, "Unclosed start tag at byte offset %zu", NULL, begin);
    char tag[64];
    size_t tl = i - begin - 1;
    if (tl >= sizeof tag) tl = sizeof tag - 1;
    for (size_t k = 0; k < tl; k++) tag[k] = (char)tolower((unsigned char)c->s[begin + 1 + k]);
    tag[tl] = '\0';
    if (!tgsim_html_known(tag))
        return tgsim_html_fail(c, "Unsupported start tag \"%s\" at byte offset %zu", tag, begin);

    char *arg = NULL;
    while (tgsim_html_at(c, i) != '>') {
        while (tgsim_html_at(c, i) && tgsim_html_space(tgsim_html_at(c, i))) i++;
        if (tgsim_html_at(c, i) == '>') break;
        size_t name_begin = i;
        while (tgsim_html_at(c, i) && !tgsim_html_space(tgsim_html_at(c, i)) &&
               tgsim_html_at(c, i) != '=' && tgsim_html_at(c, i) != '>') i++;
        if (!tgsim_html_at(c, i)) { free(arg); return tgsim_html_fail(c, "Unclosed start tag \"%s\" at byte offset %zu", tag, begin); }
        char name[64];
        size_t nl = i - name_begin;
        if (nl == 0) { free(arg); return tgsim_html_fail(c, "Empty attribute name in the tag \"%s\" at byte offset %zu", tag, begin); }
        if (nl >= sizeof name) nl = sizeof name - 1;
        for (size_t k = 0; k < nl; k++) name[k] = (char)tolower((unsigned char)c->s[name_begin + k]);
        name[nl] = '\0';
        while (tgsim_html_at(c, i) && tgsim_html_space(tgsim_html_at(c, i))) i++;
        if (tgsim_html_at(c, i) != '=') {
            if (strcmp(tag, "blockquote") == 0 && strcmp(name, "expandable") == 0) {
                free(arg);
                arg = tgsim_xstrdup("expandable");
                continue;
            }
            free(arg);
            if (!tgsim_html_at(c, i)) return tgsim_html_fail(c, "Unclosed start tag \"%s\" at byte offset %zu", tag, begin);
            return tgsim_html_fail(c, "Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %zu", tag, begin);
        }
        i++;
        while (tgsim_html_at(c, i) && tgsim_html_space(tgsim_html_at(c, i))) i++;
        if (!tgsim_html_at(c, i)) { free(arg); return tgsim_html_fail(c, "Unclosed start tag \"%s\" at byte offset %zu", tag, begin); }
        tgsim_buf_t val = {0};
        int q = tgsim_html_at(c, i);
        if (q != '"' && q != '\'') {
            size_t tok = i;
            while (isalnum(tgsim_html_at(c, i)) || tgsim_html_at(c, i) == '.' || tgsim_html_at(c, i) == '-') {
                char ch = (char)tolower(tgsim_html_at(c, i));
                tgsim_buf_put(&val, &ch, 1);
                i++;
            }
            if (!tgsim_html_space(tgsim_html_at(c, i)) && tgsim_html_at(c, i) != '>') {
                tgsim_buf_free(&val);
                free(arg);
                if (!tgsim_html_at(c, i)) return tgsim_html_fail(c, "Unclosed start tag \"%s\" at byte offset %zu", tag, begin);
                return tgsim_html_fail(c, "Unexpected end of name token at byte offset %zu", NULL, tok);
            }
        } else {
            i++;
            while (tgsim_html_at(c, i) && tgsim_html_at(c, i) != q) {
                uint32_t cp;
                size_t used;
                if (tgsim_html_at(c, i) == '&' && (used = tgsim_html_entity(c, i, &cp))) {
                    tgsim_utf8_put(&val, cp);
                    i += used;
                } else {
                    tgsim_buf_put(&val, c->s + i, 1);
                    i++;
                }
            }
            if (tgsim_html_at(c, i) == q) i++;
        }
        if (!tgsim_html_at(c, i)) {
            tgsim_buf_free(&val);
            free(arg);
            return tgsim_html_fail(c, "Unclosed start tag at byte offset %zu", NULL, begin);
        }
        char *v = tgsim_buf_take(&val);
        if ((strcmp(tag, "a") == 0 && strcmp(name, "href") == 0) ||
            (strcmp(tag, "code") == 0 && strcmp(name, "class") == 0 && strncmp(v, "language-", 9) == 0) ||
            (strcmp(tag, "span") == 0 && strcmp(name, "class") == 0 && strncmp(v, "tg-", 3) == 0) ||
            (strcmp(tag, "tg-emoji") == 0 && strcmp(name, "emoji-id") == 0)) {
            free(arg);
            if (strcmp(tag, "code") == 0) { arg = tgsim_xstrdup(v + 9); free(v); }
            else arg = v;
        } else {
            free(v);
        }
    }
    if (strcmp(tag, "span") == 0 && (!arg || strcmp(arg, "tg-spoiler") != 0)) {
        free(arg);
        return tgsim_html_fail(c, "Tag \"span\" must have class \"tg-spoiler\" at byte offset %zu", NULL, begin);
    }
    if (c->nopen == c->capopen) {
        c->capopen = c->capopen ? c->capopen * 2 : 8;
        c->open = tgsim_xrealloc(c->open, c->capopen * sizeof *c->open);
    }
    tgsim_open_tag_t *o = &c->open[c->nopen++];
    snprintf(o->tag, sizeof o->tag, "%s", tag);
    o->arg = arg;
    o->off16 = c->off16;
    *ip = i;                 /* at '>' */
    return 0;
}

static const char *tgsim_html_type(const char *tag, const char *arg)
{
    if (!strcmp(tag, "b") || !strcmp(tag, "strong")) return "bold";
    if (!strcmp(tag, "i") || !strcmp(tag, "em")) return "italic";
    if (!strcmp(tag, "u") || !strcmp(tag, "ins")) return "underline";
    if (!strcmp(tag, "s") || !strcmp(tag, "strike") || !strcmp(tag, "del")) return "strikethrough";
    if (!strcmp(tag, "tg-spoiler") || !strcmp(tag, "span")) return "spoiler";
    if (!strcmp(tag, "code")) return "code";
    if (!strcmp(tag, "pre")) return "pre";
    if (!strcmp(tag, "a")) return "text_link";
    if (!strcmp(tag, "tg-emoji")) return "custom_emoji";
    if (!strcmp(tag, "blockquote")) return arg && !strcmp(arg, "expandable") ? "expandable_blockquote" : "blockquote";
    return NULL;
}

static int tgsim_html_end_tag(tgsim_html_ctx_t *c, size_t begin, size_t *ip)
{
    size_t i = *ip + 1;     /* past "</" */
    if (c->nopen == 0) return tgsim_html_fail(c, "Unexpected end tag at byte offset %zu", NULL, begin);
    while (tgsim_html_at(c, i) && !tgsim_html_space(tgsim_html_at(c, i)) && tgsim_html_at(c, i) != '>') i++;
    size_t name_end = i;
    while (tgsim_html_at(c, i) && tgsim_html_space(tgsim_html_at(c, i))) i++;
    if (tgsim_html_at(c, i) != '>') return tgsim_html_fail(c, "Unclosed end tag at byte offset %zu", NULL, begin);
    char name[64];
    size_t nl = name_end - begin - 2;
    if (nl >= sizeof name) nl = sizeof name - 1;
    for (size_t k = 0; k < nl; k++) name[k] = (char)tolower((unsigned char)c->s[begin + 2 + k]);
    name[nl] = '\0';
    tgsim_open_tag_t o = c->open[c->nopen - 1];
    if (nl && strcmp(name, o.tag) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "Unmatched end tag at byte offset %zu, expected \"</%s>\", found \"</%s>\"",
                 begin, o.tag, name);
        snprintf(c->err, c->errlen, "%s", msg);
        return -1;
    }
    c->nopen--;
    if (c->off16 > o.off16) {
        const char *type = tgsim_html_type(o.tag, o.arg);
        char *arg = NULL;
        if (!strcmp(type, "text_link") || !strcmp(type, "custom_emoji") || !strcmp(type, "code")) {
            arg = o.arg;
            o.arg = NULL;
        }
        int keep = 1;
        if (!strcmp(type, "text_link") && (!arg || !*arg)) keep = 0;   /* the server drops bad links */
        if (!strcmp(type, "custom_emoji") && (!arg || !*arg)) keep = 0;
        if (!strcmp(type, "pre") && c->nents > 0) {
            tgsim_ent_t *last = &c->ents[c->nents - 1];
            if (!strcmp(last->type, "code") && last->off == o.off16 && last->off + last->len == c->off16) {
                arg = last->arg;          /* <pre><code class="language-x"> is one pre entity */
                c->nents--;
            }
        }
        if (keep) tgsim_html_add_ent(c, type, o.off16, c->off16 - o.off16, arg);
        else free(arg);
    }
    free(o.arg);
    *ip = i;
    return 0;
}

static int tgsim_ent_cmp(const void *a, const void *b)
{
    const tgsim_ent_t *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return y->seq - x->seq;          /* same range: the outer (later-closed) tag first */
}

int tgsim_html_parse(const char *s, size_t len, char **text, size_t *text_len,
                     cJSON **entities, char *err, size_t errlen)
{
    tgsim_html_ctx_t c = {.s = s, .n = len, .err = err, .errlen = errlen};
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '&') {
            uint32_t cp;
            size_t used = tgsim_html_entity(&c, i, &cp);
            if (used) { tgsim_html_emit(&c, cp); i += used - 1; continue; }
        }
        if (ch != '<') {
            const char *p = s + i;
            uint32_t cp = tgsim_utf8_next(&p, s + len);
            tgsim_html_emit(&c, cp);
            i = (size_t)(p - s) - 1;
            continue;
        }
        size_t begin = i;
        i++;
        if (tgsim_html_at(&c, i) != '/') rc = tgsim_html_start_tag(&c, begin, &i);
        else rc = tgsim_html_end_tag(&c, begin, &i);
    }
    if (rc == 0 && c.nopen) {
        snprintf(err, errlen, "Can't find end tag corresponding to start tag \"%s\"", c.open[c.nopen - 1].tag);
        rc = -1;
    }
    for (size_t k = 0; k < c.nopen; k++) free(c.open[k].arg);
    free(c.open);
    if (rc != 0) {
        for (size_t k = 0; k < c.nents; k++) free(c.ents[k].arg);
        free(c.ents);
        tgsim_buf_free(&c.out);
        return -1;
    }
    if (c.nents) qsort(c.ents, c.nents, sizeof *c.ents, tgsim_ent_cmp);
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; k < c.nents; k++) {
        tgsim_ent_t *e = &c.ents[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "offset", (double)e->off);
        cJSON_AddNumberToObject(o, "length", (double)e->len);
        cJSON_AddStringToObject(o, "type", e->type);
        if (!strcmp(e->type, "text_link")) {
            if (strstr(e->arg, "://") || !strncmp(e->arg, "tg:", 3) || !strncmp(e->arg, "mailto:", 7)) {
                cJSON_AddStringToObject(o, "url", e->arg);
            } else {
                char *u = tgsim_xmalloc(strlen(e->arg) + 8);
                sprintf(u, "http://%s", e->arg);
                cJSON_AddStringToObject(o, "url", u);
                free(u);
            }
        } else if (!strcmp(e->type, "pre") && e->arg && *e->arg) {
            cJSON_AddStringToObject(o, "language", e->arg);
        } else if (!strcmp(e->type, "custom_emoji")) {
            cJSON_AddStringToObject(o, "custom_emoji_id", e->arg);
        }
        cJSON_AddItemToArray(arr, o);
        free(e->arg);
    }
    free(c.ents);
    *text_len = c.out.len;
    *text = tgsim_buf_take(&c.out);
    *entities = arr;
    return 0;
}

size_t tgsim_text_finish(char **text, size_t *text_len, cJSON *entities)
{
    char *t = *text;
    size_t n = *text_len, a = 0, b = n;
    while (a < n && (unsigned char)t[a] <= 0x20) a++;
    while (b > a && (unsigned char)t[b - 1] <= 0x20) b--;
    size_t cut16 = a;             /* leading bytes are ASCII: one unit each */
    size_t len16 = tgsim_utf16_len(t + a, b - a);
    if (a || b != n) {
        memmove(t, t + a, b - a);
        t[b - a] = '\0';
        *text_len = b - a;
    }
    if (entities) {
        cJSON *e = entities->child;
        while (e) {
            cJSON *next = e->next;
            cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "offset");
            cJSON *jl = cJSON_GetObjectItemCaseSensitive(e, "length");
            long long off = jo ? (long long)jo->valuedouble : 0, end = off + (jl ? (long long)jl->valuedouble : 0);
            off -= (long long)cut16;
            end -= (long long)cut16;
            if (off < 0) off = 0;
            if (end > (long long)len16) end = (long long)len16;
            if (end <= off) {
                cJSON_DetachItemViaPointer(entities, e);
                cJSON_Delete(e);
            } else {
                if (jo) cJSON_SetNumberValue(jo, (double)off);
                if (jl) cJSON_SetNumberValue(jl, (double)(end - off));
            }
            e = next;
        }
    }
    return len16;
}
