/* ozon_posting.h — read an Ozon posting object (Seller API
 * /v3/posting/fbs/get "result", or one element of /v4/posting/fbs/list
 * "postings") into the fields plus7 keeps.
 *
 * Tolerant of Ozon's churn: unknown fields are ignored, money and weights
 * may be strings or numbers, customer/addressee may be null (FBS).
 * Exports: ozon_posting_t, ozon_posting_parse, ozon_posting_free.
 * Threads: any (pure). Fuzzed by tests/fuzz/fuzz_ozon_posting.c.
 */
#ifndef PLUS7_OZON_POSTING_H
#define PLUS7_OZON_POSTING_H

#include <stddef.h>

#include "phone.h"

typedef struct ozon_posting {
    char posting_number[24];
    char status[48];                 /* Ozon's status code */
    char tpl_integration_type[32];
    char *available_actions;         /* comma-separated, "" if none */
    char *customer_name;             /* NULL when absent */
    char customer_phone[PHONE_E164_MAX];   /* E.164 or "" */
    char *addressee_name;
    char addressee_phone[PHONE_E164_MAX];
    char *address;                   /* "city, address_tail" or NULL */
    char *items;                     /* JSON array [{"name","quantity"}] (never NULL) */
    int weight_g;                    /* sum of products' weight × quantity, 0 if unknown */
} ozon_posting_t;

/* Parse `len` bytes of JSON. RT_OK (free with ozon_posting_free) or
 * RT_EINVAL (not an object, or no valid posting_number). */
int ozon_posting_parse(const char *json, size_t len, ozon_posting_t *out);
void ozon_posting_free(ozon_posting_t *p);

#endif
