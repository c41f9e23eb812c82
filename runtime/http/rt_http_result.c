/* rt_http_result.c — accessors of rt_http_result_t.
 *
 * Purpose: header lookup and freeing of a finished request's result.
 * Exports: rt_http_result_header, rt_http_result_free.
 * Threads: any (a result is a plain heap object owned by one holder).
 */
#include "rt_http.h"

#include <stdlib.h>
#include <strings.h>

/* First header named `name`, ASCII case-insensitive; NULL when absent.
 * Any thread. */
const char *rt_http_result_header(const rt_http_result_t *r, const char *name)
{
    if (!r || !name) return NULL;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

/* Free the result, its body and its header storage. NULL is a no-op.
 * Any thread. */
void rt_http_result_free(void *p)
{
    rt_http_result_t *r = p;
    if (!r) return;
    free(r->body);
    free(r->headers);
    free(r->header_buf_);
    free(r);
}
