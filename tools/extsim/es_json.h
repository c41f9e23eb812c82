/* es_json.h — small helpers over cJSON and over form/query encoding.
 *
 * Purpose: the emulated services read loosely typed input (Ozon ids may come
 * as numbers or strings, Bitrix24 parameter names are case-insensitive and
 * may arrive as PHP-style form fields) and build JSON replies. These helpers
 * keep that tolerance in one place.
 *
 * Exports: es_json_get_ci, es_json_str, es_json_int, es_json_num,
 * es_json_bool, es_json_item_int, es_json_set_str, es_json_replace,
 * es_json_print, es_json_print_owned,
 * es_form_parse, es_url_decode, es_query_get, es_base64_encode,
 * es_base64_decode.
 *
 * Threads: pure functions; any thread.
 */
#ifndef EXTSIM_ES_JSON_H
#define EXTSIM_ES_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Member `key` of object `obj`, matched case-insensitively; NULL when absent
 * or when obj is not an object. */
cJSON *es_json_get_ci(const cJSON *obj, const char *key);

/* Member `key` (exact case) as a string; NULL when absent or not a string. */
const char *es_json_str(const cJSON *obj, const char *key);

/* Member `key` as an integer: a JSON number or a string of digits.
 * Returns 0 and sets *out, or -1 when absent or not an integer. */
int es_json_int(const cJSON *obj, const char *key, long long *out);

/* An item (not a member) as an integer, same rules as es_json_int. */
int es_json_item_int(const cJSON *item, long long *out);

/* Member `key` as a number (number or numeric string). 0 ok, -1 otherwise. */
int es_json_num(const cJSON *obj, const char *key, double *out);

/* Member `key` as a boolean: true/false, 1/0, "Y"/"N", "true"/"false".
 * Returns the value, or `dflt` when absent or unreadable. */
int es_json_bool(const cJSON *obj, const char *key, int dflt);

/* Set (add or replace) member `key` of `obj` to `val` (takes ownership). */
void es_json_replace(cJSON *obj, const char *key, cJSON *val);
/* Set member `key` to a string copy of `s` (NULL makes it JSON null). */
void es_json_set_str(cJSON *obj, const char *key, const char *s);

/* Print unformatted into a malloc'd string (caller frees with free()). */
char *es_json_print(const cJSON *item);
/* Print unformatted, then delete `item`; caller frees the string. */
char *es_json_print_owned(cJSON *item);

/* Decode %XX and '+' in place over [s, s+len); returns the new length and
 * NUL-terminates. */
size_t es_url_decode(char *s, size_t len);

/* Parse application/x-www-form-urlencoded text (also a query string) into
 * `into` (an object), understanding PHP-style names:
 *   a=1            -> {"a":"1"}
 *   f[PHONE]=+7…   -> {"f":{"PHONE":"+7…"}}
 *   s[]=ID&s[]=N   -> {"s":["ID","N"]}
 *   F[PHONE][0][VALUE]=… -> {"F":{"PHONE":{"0":{"VALUE":"…"}}}}
 * Values stay strings. Existing members are not overwritten. Returns 0 or -1
 * on allocation failure. */
int es_form_parse(const char *s, size_t len, cJSON *into);

/* Copy the decoded value of `name` from a query string into `out`.
 * Returns the length, or -1 when absent. */
int es_query_get(const char *query, const char *name, char *out, size_t outlen);

/* Standard base64 (with padding) of [src, src+len) into a malloc'd string. */
char *es_base64_encode(const unsigned char *src, size_t len);

/* Decode standard or URL-safe base64 (padding optional) into `out` (at most
 * outlen-1 bytes, NUL-terminated). Returns the length or -1 if malformed. */
int es_base64_decode(const char *src, unsigned char *out, size_t outlen);

#endif
