/* template.h — notification templates with named placeholders.
 *
 * A template is text with {name} placeholders, e.g.
 *   "Заказ {posting}: {status}. Пункт выдачи: {pickup_point}."
 * Known names: posting, status, pickup_point, storage_deadline, name,
 * slot, address, price, comment, days. Saving a template checks it: an
 * unknown name or an unbalanced brace is refused, naming it. Rendering
 * escapes the values for Telegram HTML when asked (SMS gets them as they
 * are); "{{" and "}}" stand for literal braces. Templates of the Telegram
 * channel are HTML themselves: tpl_check_html checks their tags against
 * what Telegram's HTML parse mode accepts.
 *
 * Exports: tpl_var_t, tpl_problem_t, tpl_check, tpl_check_ex,
 * tpl_check_html, tpl_render, tpl_tidy, tpl_known_list.
 * Threads: any (pure).
 */
#ifndef PLUS7_TEMPLATE_H
#define PLUS7_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tpl_var {
    const char *name;
    const char *value;
} tpl_var_t;

typedef enum tpl_problem {
    TPL_OK = 0,
    TPL_UNKNOWN_NAME,   /* `bad` holds the placeholder name */
    TPL_SYNTAX,         /* `bad` describes the problem */
} tpl_problem_t;

/* RT_OK, or RT_EINVAL with `bad` (size badsz) holding the unknown
 * placeholder name or a description of the syntax problem. */
int tpl_check(const char *tpl, char *bad, size_t badsz);

/* As tpl_check, and *problem (may be NULL) says which kind of problem it
 * was, so a caller can word its message ("unknown placeholder {x}"). */
int tpl_check_ex(const char *tpl, char *bad, size_t badsz, tpl_problem_t *problem);

/* Check the literal HTML of a Telegram template (placeholders are skipped:
 * their values are escaped when rendered): every '<' opens or closes a tag
 * Telegram supports (b strong i em u ins s strike del code pre a
 * tg-spoiler span blockquote), properly nested and closed. RT_OK or
 * RT_EINVAL with a description in `bad`. */
int tpl_check_html(const char *tpl, char *bad, size_t badsz);

/* Render into a new malloc'd string (NULL on ENOMEM or a template that
 * fails tpl_check). Missing variables render as "". `html` escapes values. */
char *tpl_render(const char *tpl, const tpl_var_t *vars, int nvars, bool html);

/* Tidy a rendered text in place after missing variables left gaps: runs of
 * spaces become one, a space before . , ; : ! ? ) is dropped, and spaces at
 * the end of a line go. Newlines are kept. */
void tpl_tidy(char *s);

/* The known placeholder names, comma-separated ("posting, status, ..."),
 * for messages. */
const char *tpl_known_list(void);

#endif
