/* web_cidr.h — address allow-lists: "185.71.76.0/27,77.75.156.11,2a02:5180::/32".
 *
 * Purpose: the payment callback accepts notifications only from the
 * provider's published ranges (PLUS7_YOOKASSA_NOTIFY_FROM). A bare address
 * is a /32 (/128); an IPv4-mapped IPv6 peer (::ffff:a.b.c.d) matches IPv4
 * ranges.
 *
 * Exports: web_cidr_t, web_cidr_list_t, web_cidr_parse, web_cidr_match,
 * web_cidr_free.
 * Threads: parse/free on the main thread; match from any thread on a list
 * that no longer changes.
 */
#ifndef PLUS7_WEB_CIDR_H
#define PLUS7_WEB_CIDR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct web_cidr {
    int family;                 /* 4 or 6 */
    unsigned char addr[16];
    int bits;
} web_cidr_t;

typedef struct web_cidr_list {
    web_cidr_t *v;
    int n;
} web_cidr_list_t;

/* Parse a comma-separated list (spaces around items allowed, at least one
 * item). RT_OK, or RT_EINVAL with the first bad item copied into `bad`
 * (may be NULL); RT_ENOMEM. On error *out holds nothing to free. */
int web_cidr_parse(const char *list, web_cidr_list_t *out, char *bad, size_t badsz);

/* Does textual address `ip` fall in one of the ranges? */
bool web_cidr_match(const web_cidr_list_t *l, const char *ip);

void web_cidr_free(web_cidr_list_t *l);

#endif
