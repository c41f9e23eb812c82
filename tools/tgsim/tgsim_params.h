/* tgsim_params.h — Bot API request parameters from any of the four encodings.
 *
 * Purpose: the real server accepts parameters in the query string, as
 * application/x-www-form-urlencoded, as application/json or as
 * multipart/form-data (uploads). This module flattens all of them into one
 * name -> value list; JSON values that are objects/arrays are kept as their
 * JSON text (like a form field carrying reply_markup would be), numbers and
 * booleans as their text. Multipart parts with a filename are files.
 *
 * Exports: tgsim_param_t, tgsim_params_t, tgsim_params_parse_query,
 * tgsim_params_parse_body, tgsim_params_get, tgsim_params_str,
 * tgsim_params_set, tgsim_params_set_file, tgsim_params_free.
 * Threads: a params list belongs to one request (one thread).
 */
#ifndef TGSIM_PARAMS_H
#define TGSIM_PARAMS_H

#include <stddef.h>

typedef struct tgsim_param {
    char *name;
    char *value;          /* NUL-terminated; may contain NULs for files */
    size_t len;
    int is_file;          /* multipart part with a filename */
    char *filename;       /* files only */
    char *content_type;   /* files only; may be NULL */
} tgsim_param_t;

typedef struct tgsim_params {
    tgsim_param_t *v;
    size_t n, cap;
} tgsim_params_t;

/* Add every name=value pair of a query string (NULL is fine). Later values
 * replace earlier ones with the same name. */
void tgsim_params_parse_query(tgsim_params_t *p, const char *qs);

/* Add the parameters of a request body according to its Content-Type
 * (NULL or unknown: form-urlencoded if it looks like one, else ignored).
 * Returns 0, or -1 for a malformed multipart body (err gets a reason). A JSON
 * body that does not parse adds nothing, like the real server. */
int tgsim_params_parse_body(tgsim_params_t *p, const char *content_type,
                            const char *body, size_t len, char *err, size_t errlen);

/* Set (replace) one text parameter; copies name and value. */
void tgsim_params_set(tgsim_params_t *p, const char *name, const char *value, size_t len);

/* Set (replace) one file parameter; takes ownership of the malloc'd data
 * (which must have one spare byte for a NUL); copies the strings. */
void tgsim_params_set_file(tgsim_params_t *p, const char *name, char *data, size_t len,
                           const char *filename, const char *content_type);

/* Lookup by exact name; NULL if absent. */
const tgsim_param_t *tgsim_params_get(const tgsim_params_t *p, const char *name);
/* The value of a non-file parameter, or NULL. */
const char *tgsim_params_str(const tgsim_params_t *p, const char *name);

void tgsim_params_free(tgsim_params_t *p);

#endif
