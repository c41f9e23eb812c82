/* web_cidr.c — address allow-lists (see web_cidr.h).
 * Exports: web_cidr_parse, web_cidr_match, web_cidr_free. Threads: see header.
 */
#include "web_cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* Text to (family, 16 bytes); IPv4-mapped IPv6 becomes IPv4. */
static bool cidr_addr(const char *s, int *family, unsigned char a[16])
{
    memset(a, 0, 16);
    if (inet_pton(AF_INET, s, a) == 1) { *family = 4; return true; }
    if (inet_pton(AF_INET6, s, a) != 1) return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
        memmove(a, a + 12, 4);
        memset(a + 4, 0, 12);
        *family = 4;
    } else {
        *family = 6;
    }
    return true;
}

static int cidr_item(const char *item, web_cidr_t *c)
{
    char buf[80];
    if (strlen(item) >= sizeof buf) return RT_EINVAL;
    snprintf(buf, sizeof buf, "%s", item);
    char *slash = strchr(buf, '/');
    if (slash) *slash = '\0';
    if (!cidr_addr(buf, &c->family, c->addr)) return RT_EINVAL;
    int max = c->family == 4 ? 32 : 128;
    c->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > max) return RT_EINVAL;
        c->bits = (int)b;
    }
    return RT_OK;
}

int web_cidr_parse(const char *list, web_cidr_list_t *out, char *bad, size_t badsz)
{
    out->v = NULL;
    out->n = 0;
    if (bad && badsz) bad[0] = '\0';
    if (!list) return RT_EINVAL;
    int cap = 1;
    for (const char *p = list; *p; p++) cap += *p == ',';
    web_cidr_t *v = calloc((size_t)cap, sizeof *v);
    if (!v) return RT_ENOMEM;
    int n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t a = 0, b = len;
        while (a < b && p[a] == ' ') a++;
        while (b > a && p[b - 1] == ' ') b--;
        char item[96];
        snprintf(item, sizeof item, "%.*s", (int)(b - a < sizeof item - 1 ? b - a : sizeof item - 1), p + a);
        if (b == a || b - a >= sizeof item || cidr_item(item, &v[n]) != RT_OK) {
            if (bad && badsz) snprintf(bad, badsz, "%s", item);
            free(v);
            return RT_EINVAL;
        }
        n++;
        p += len;
        if (!*p) break;
        p++;
    }
    out->v = v;
    out->n = n;
    return RT_OK;
}

bool web_cidr_match(const web_cidr_list_t *l, const char *ip)
{
    int family;
    unsigned char a[16];
    if (!ip || !cidr_addr(ip, &family, a)) return false;
    for (int i = 0; i < l->n; i++) {
        const web_cidr_t *c = &l->v[i];
        if (c->family != family) continue;
        int full = c->bits / 8, rest = c->bits % 8;
        if (memcmp(a, c->addr, (size_t)full) != 0) continue;
        if (rest) {
            unsigned char mask = (unsigned char)(0xFF << (8 - rest));
            if ((a[full] & mask) != (c->addr[full] & mask)) continue;
        }
        return true;
    }
    return false;
}

void web_cidr_free(web_cidr_list_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
