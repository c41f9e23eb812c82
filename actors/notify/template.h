/* template.h — notification templates with named placeholders.
 *
 * A template is text with {name} placeholders, e.g.
 *   "Заказ {posting}: {status}. Пункт выдачи: {pickup_point}."
 * Known names: posting, status, pickup_point, storage_deadline, name,
 * slot, address, price, comment. Saving a template checks it: an unknown
 * name or an unbalanced brace is refused, naming it. Rendering escapes the
 * values for Telegram HTML when asked (SMS gets them as they are); "{{" and
 * "}}" stand for literal braces.
 *
 * Exports: tpl_var_t, tpl_check, tpl_render, TPL_KNOWN.
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

/* RT_OK, or RT_EINVAL with `bad` (size badsz) holding the unknown
 * placeholder name or a description of the syntax problem. */
int tpl_check(const char *tpl, char *bad, size_t badsz);

/* Render into a new malloc'd string (NULL on ENOMEM or a template that
 * fails tpl_check). Missing variables render as "". `html` escapes values. */
char *tpl_render(const char *tpl, const tpl_var_t *vars, int nvars, bool html);

#endif
