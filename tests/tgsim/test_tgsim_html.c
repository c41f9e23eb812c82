/* test_tgsim_html.c — unit tests of tgsim's HTML parse mode and text
 * finishing (tools/tgsim/tgsim_html.c), compiled in directly.
 *
 * Each case feeds one text and checks the plain text, the entities (type,
 * UTF-16 offset and length, url/language) or the exact error message the
 * real Bot API gives after "can't parse entities: ".
 * Threads: main only.
 */
#include "t.h"
#include "tgsim_html.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int rc;
    char *text;
    cJSON *ents;
    char err[512];
} parsed_t;

static parsed_t parse(const char *s)
{
    parsed_t p = {0};
    size_t tl = 0;
    p.rc = tgsim_html_parse(s, strlen(s), &p.text, &tl, &p.ents, p.err, sizeof p.err);
    if (p.rc == 0) tgsim_text_finish(&p.text, &tl, p.ents);
    return p;
}

static void parsed_free(parsed_t *p)
{
    free(p->text);
    cJSON_Delete(p->ents);
}

/* "type@offset+length" of entity i, e.g. "bold@0+5". */
static const char *ent(parsed_t *p, int i)
{
    static char buf[128];
    cJSON *e = cJSON_GetArrayItem(p->ents, i);
    if (!e) return "(none)";
    snprintf(buf, sizeof buf, "%s@%d+%d", cJSON_GetObjectItem(e, "type")->valuestring,
             (int)cJSON_GetObjectItem(e, "offset")->valuedouble, (int)cJSON_GetObjectItem(e, "length")->valuedouble);
    return buf;
}

T_CASE(html_plain_text_and_references)
{
    parsed_t p = parse("a &lt;b&gt; &amp; &quot;c&quot; &#1058;&#x0415; &foo; & x > y");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(p.text, "a <b> & \"c\" ТЕ &foo; & x > y");
    T_EQ_INT(cJSON_GetArraySize(p.ents), 0);
    parsed_free(&p);
}

T_CASE(html_basic_tags_map_to_entities)
{
    parsed_t p = parse("<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
                       "<del>d</del><tg-spoiler>p</tg-spoiler><span class=\"tg-spoiler\">q</span><code>c</code>");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(p.text, "bsieunskdpqc");
    const char *want[] = {"bold@0+1", "bold@1+1", "italic@2+1", "italic@3+1", "underline@4+1", "underline@5+1",
                          "strikethrough@6+1", "strikethrough@7+1", "strikethrough@8+1", "spoiler@9+1",
                          "spoiler@10+1", "code@11+1"};
    T_EQ_INT(cJSON_GetArraySize(p.ents), 12);
    for (int i = 0; i < 12; i++) T_EQ_STR(ent(&p, i), want[i]);
    parsed_free(&p);
}

T_CASE(html_offsets_are_utf16_units)
{
    /* Cyrillic letters are 1 unit each, the emoji U+1F69A is 2 units */
    parsed_t p = parse("Заказ \xF0\x9F\x9A\x9A <b>№1</b>");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(p.text, "Заказ \xF0\x9F\x9A\x9A №1");
    T_EQ_STR(ent(&p, 0), "bold@9+2");
    parsed_free(&p);
}

T_CASE(html_nested_and_sorted_outer_first)
{
    parsed_t p = parse("<b>x <i>y</i></b>");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(p.text, "x y");
    T_EQ_STR(ent(&p, 0), "bold@0+3");
    T_EQ_STR(ent(&p, 1), "italic@2+1");
    parsed_free(&p);
}

T_CASE(html_links_pre_language_blockquote)
{
    parsed_t p = parse("<a href=\"https://example.com/?a=1&amp;b=2\">site</a> <a href='x.ru'>x</a> "
                       "<pre><code class=\"language-c\">int x;</code></pre><blockquote expandable>q</blockquote>");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(p.text, "site x int x;q");
    T_EQ_STR(ent(&p, 0), "text_link@0+4");
    T_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(p.ents, 0), "url")->valuestring, "https://example.com/?a=1&b=2");
    T_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(p.ents, 1), "url")->valuestring, "http://x.ru");
    T_EQ_STR(ent(&p, 2), "pre@7+6");
    T_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(p.ents, 2), "language")->valuestring, "c");
    T_EQ_STR(ent(&p, 3), "expandable_blockquote@13+1");
    T_EQ_INT(cJSON_GetArraySize(p.ents), 4);
    parsed_free(&p);
}

T_CASE(html_empty_tags_make_no_entity_and_text_is_trimmed)
{
    parsed_t p = parse("  <b></b>\n<i> hi </i>\n ");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(p.text, "hi");
    T_EQ_INT(cJSON_GetArraySize(p.ents), 1);
    T_EQ_STR(ent(&p, 0), "italic@0+2");
    parsed_free(&p);
}

T_CASE(html_errors_use_the_server_wording)
{
    static const struct { const char *in, *err; } cases[] = {
        {"a<br>b", "Unsupported start tag \"br\" at byte offset 1"},
        {"1 < 2", "Unsupported start tag \"\" at byte offset 2"},
        {"x <b", "Unclosed start tag at byte offset 2"},
        {"<b>bold", "Can't find end tag corresponding to start tag \"b\""},
        {"<b>x</i>", "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""},
        {"x</b>", "Unexpected end tag at byte offset 1"},
        {"<span>x</span>", "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"},
        {"<a href>x</a>", "Expected equal sign in declaration of an attribute of the tag \"a\" at byte offset 0"},
        {"<a href=x\"y>z</a>", "Unexpected end of name token at byte offset 8"},
        {"<b>x</b", "Unclosed end tag at byte offset 4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed_t p = parse(cases[i].in);
        T_EQ_INT(p.rc, -1);
        T_EQ_STR(p.err, cases[i].err);
        parsed_free(&p);
    }
}

T_CASE(html_tag_names_are_case_insensitive)
{
    parsed_t p = parse("<B>x</B><A HREF=\"https://a.b\">l</A>");
    T_EQ_INT(p.rc, 0);
    T_EQ_STR(ent(&p, 0), "bold@0+1");
    T_EQ_STR(ent(&p, 1), "text_link@1+1");
    parsed_free(&p);
}

T_MAIN()
