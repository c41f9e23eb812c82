/* rt_http_xfer.c — one transfer: request → curl easy handle → result.
 *
 * Purpose: see rt_http_xfer.h. Builds a CURL easy handle from a request
 * (method, URL, headers, raw or multipart body, limits), collects the
 * response body up to a limit and the header lines of the final response,
 * and maps curl's outcome onto the RT_E* codes of rt_http_result_t.
 *
 * Exports (inside runtime/http only): rt_http_xfer_new, rt_http_xfer_finish.
 *
 * Threads: the loop thread of the multi that runs the transfer.
 */
#include "rt_http_xfer.h"
#include "rt_clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- validation ------------------------------------------------------------ */

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

/* An HTTP method is a token (RFC 9110 tchar). */
static int is_token(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(isalnum(c) || strchr("!#$%&'*+-.^_`|~", c))) return 0;
    }
    return 1;
}

static int req_validate(const rt_http_req_t *req)
{
    if (!req || !req->url || !*req->url || has_crlf(req->url)) return RT_EINVAL;
    if (req->method && !is_token(req->method)) return RT_EINVAL;
    if (req->nparts && (req->body || req->body_len)) return RT_EINVAL;
    if (req->nparts && !req->parts) return RT_EINVAL;
    if (req->body_len && !req->body) return RT_EINVAL;
    if (req->nheaders && !req->headers) return RT_EINVAL;
    if (has_crlf(req->content_type)) return RT_EINVAL;
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *h = req->headers[i];
        if (!h || has_crlf(h) || (!strchr(h, ':') && !strchr(h, ';'))) return RT_EINVAL;
    }
    for (size_t i = 0; i < req->nparts; i++) {
        const rt_http_part_t *p = &req->parts[i];
        if (!p->name || !*p->name || has_crlf(p->name) || has_crlf(p->filename) ||
            has_crlf(p->content_type) || (p->len && !p->data))
            return RT_EINVAL;
    }
    return RT_OK;
}

/* ---- curl callbacks ---------------------------------------------------------- */

/* CURLOPT_WRITEFUNCTION: append to the result body; returning less than
 * asked makes curl fail the transfer with CURLE_WRITE_ERROR. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rt_http_xfer_t *x = ud;
    size_t len = size * n;
    rt_http_result_t *r = x->res;
    if (len > x->max_body - r->body_len) {
        x->too_large = 1;
        return 0;
    }
    if (r->body_len + len + 1 > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 4096;
        while (cap < r->body_len + len + 1) cap *= 2;
        if (cap > x->max_body + 1) cap = x->max_body + 1;
        char *nb = realloc(r->body, cap);
        if (!nb) return 0; /* reported as a write error; rc becomes RT_ENOMEM below */
        r->body = nb;
        x->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return len;
}

/* CURLOPT_HEADERFUNCTION: keep the header lines of the latest response
 * (a new status line — after 1xx or a redirect — starts over). Lines past
 * RT_HTTP_MAX_HEADER_BYTES are dropped; obsolete folded lines are ignored. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    rt_http_xfer_t *x = ud;
    size_t len = size * n, l = len;
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        x->hlen = 0;
        return len;
    }
    while (l && (p[l - 1] == '\n' || p[l - 1] == '\r')) l--;
    if (l == 0 || p[0] == ' ' || p[0] == '\t' || !memchr(p, ':', l)) return len;
    if (x->hlen + l + 1 > RT_HTTP_MAX_HEADER_BYTES) return len;
    if (x->hlen + l + 1 > x->hcap) {
        size_t cap = x->hcap ? x->hcap : 1024;
        while (cap < x->hlen + l + 1) cap *= 2;
        char *nb = realloc(x->hbuf, cap);
        if (!nb) return len; /* lose the header, keep the transfer */
        x->hbuf = nb;
        x->hcap = cap;
    }
    memcpy(x->hbuf + x->hlen, p, l);
    x->hbuf[x->hlen + l] = '\0';
    x->hlen += l + 1;
    return len;
}

/* ---- building ------------------------------------------------------------------ */

static int hdr_add(rt_http_xfer_t *x, const char *line)
{
    struct curl_slist *n = curl_slist_append(x->hdrs, line);
    if (!n) return RT_ENOMEM;
    x->hdrs = n;
    return RT_OK;
}

static int build_mime(rt_http_xfer_t *x, const rt_http_req_t *req)
{
    x->mime = curl_mime_init(x->easy);
    if (!x->mime) return RT_ENOMEM;
    for (size_t i = 0; i < req->nparts; i++) {
        const rt_http_part_t *p = &req->parts[i];
        curl_mimepart *mp = curl_mime_addpart(x->mime);
        if (!mp) return RT_ENOMEM;
        /* curl_mime_name/data/filename/type copy their arguments. */
        if (curl_mime_name(mp, p->name) != CURLE_OK) return RT_ENOMEM;
        if (curl_mime_data(mp, p->data ? (const char *)p->data : "", p->len) != CURLE_OK)
            return RT_ENOMEM;
        if (p->filename && curl_mime_filename(mp, p->filename) != CURLE_OK) return RT_ENOMEM;
        if (p->content_type && curl_mime_type(mp, p->content_type) != CURLE_OK)
            return RT_ENOMEM;
    }
    return curl_easy_setopt(x->easy, CURLOPT_MIMEPOST, x->mime) == CURLE_OK ? RT_OK : RT_EIO;
}

/* Method and body. curl copies the URL, custom method and (with
 * CURLOPT_COPYPOSTFIELDS) the body. */
static int set_method_body(rt_http_xfer_t *x, const rt_http_req_t *req)
{
    CURL *e = x->easy;
    int has_body = req->body != NULL || req->body_len > 0;
    const char *method = req->method ? req->method : (has_body || req->nparts ? "POST" : "GET");
    int is_post = strcmp(method, "POST") == 0;
    CURLcode c = CURLE_OK;

    if (req->nparts) {
        int rc = build_mime(x, req);
        if (rc != RT_OK) return rc;
        if (!is_post) c = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (has_body) {
        /* The size must be set before COPYPOSTFIELDS so binary bodies copy whole. */
        c = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (c == CURLE_OK)
            c = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body_len ? (const char *)req->body : "");
        if (c == CURLE_OK && !is_post) c = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        c = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        c = curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (is_post) {
        c = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        if (c == CURLE_OK) c = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, "");
    } else {
        c = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (c == CURLE_OUT_OF_MEMORY) return RT_ENOMEM;
    return c == CURLE_OK ? RT_OK : RT_EIO;
}

static int set_headers(rt_http_xfer_t *x, const rt_http_req_t *req)
{
    int has_expect = 0, rc = RT_OK;
    for (size_t i = 0; i < req->nheaders && rc == RT_OK; i++) {
        if (strncasecmp(req->headers[i], "Expect:", 7) == 0) has_expect = 1;
        rc = hdr_add(x, req->headers[i]);
    }
    if (rc == RT_OK && req->content_type) {
        char line[512];
        int n = snprintf(line, sizeof line, "Content-Type: %s", req->content_type);
        if (n < 0 || (size_t)n >= sizeof line) return RT_EINVAL;
        rc = hdr_add(x, line);
    }
    /* curl would send "Expect: 100-continue" with larger bodies and wait a
     * round trip (or a second) for the answer; servers we talk to do not
     * need it. An empty "Expect:" line switches it off. */
    if (rc == RT_OK && !has_expect) rc = hdr_add(x, "Expect:");
    if (rc == RT_OK && x->hdrs &&
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK)
        rc = RT_EIO;
    return rc;
}

static void xfer_free(rt_http_xfer_t *x)
{
    if (!x) return;
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_mime_free(x->mime);        /* after the easy handle that used it */
    curl_slist_free_all(x->hdrs);
    free(x->hbuf);
    if (x->res) rt_http_result_free(x->res);
    free(x);
}

int rt_http_xfer_new(const rt_http_defaults_t *d, const rt_http_req_t *req,
                     rt_http_xfer_t **out)
{
    *out = NULL;
    int rc = req_validate(req);
    if (rc != RT_OK) return rc;

    rt_http_xfer_t *x = calloc(1, sizeof *x);
    if (!x) return RT_ENOMEM;
    x->res = calloc(1, sizeof *x->res);
    x->easy = curl_easy_init();
    if (!x->res || !x->easy) {
        xfer_free(x);
        return RT_ENOMEM;
    }
    x->max_body = req->max_body ? req->max_body : d->max_body;
    if (x->max_body > SIZE_MAX / 4) x->max_body = SIZE_MAX / 4; /* keeps cap arithmetic safe */
    x->t0_ms = rt_clock_ms();

    CURL *e = x->easy;
    uint32_t timeout = req->timeout_ms ? req->timeout_ms : d->timeout_ms;
    uint32_t ctimeout = req->connect_timeout_ms ? req->connect_timeout_ms : d->connect_timeout_ms;
    CURLcode c = CURLE_OK;
#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)
    SET(CURLOPT_URL, req->url);                 /* copied by curl */
    SET(CURLOPT_PRIVATE, (void *)x);
    SET(CURLOPT_NOSIGNAL, 1L);                  /* never raise SIGALRM/SIGPIPE in a worker */
    SET(CURLOPT_TIMEOUT_MS, (long)timeout);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)ctimeout);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)x);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body); /* early stop on Content-Length */
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    if (d->user_agent) SET(CURLOPT_USERAGENT, d->user_agent);
    if (d->proxy) SET(CURLOPT_PROXY, d->proxy); /* "" switches proxies off */
#undef SET
    if (c != CURLE_OK) rc = c == CURLE_OUT_OF_MEMORY ? RT_ENOMEM : RT_EIO;
    if (rc == RT_OK) rc = set_method_body(x, req);
    if (rc == RT_OK) rc = set_headers(x, req);
    if (rc != RT_OK) {
        xfer_free(x);
        return rc;
    }
    *out = x;
    return RT_OK;
}

/* ---- finishing -------------------------------------------------------------------- */

/* Split the collected header lines into name/value pairs owned by `r`. */
static int headers_parse(rt_http_xfer_t *x, rt_http_result_t *r)
{
    size_t n = 0;
    for (size_t off = 0; off < x->hlen; off += strlen(x->hbuf + off) + 1) n++;
    if (n == 0) return RT_OK;
    r->headers = calloc(n, sizeof *r->headers);
    if (!r->headers) return RT_ENOMEM;
    r->header_buf_ = x->hbuf; /* ownership moves to the result */
    x->hbuf = NULL;
    char *buf = r->header_buf_;
    for (size_t off = 0; off < x->hlen;) {
        char *line = buf + off;
        size_t l = strlen(line);
        off += l + 1;
        char *colon = strchr(line, ':'); /* on_header kept only lines with one */
        char *ne = colon;
        while (ne > line && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
        *ne = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        char *ve = line + l;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        *ve = '\0';
        r->headers[r->nheaders].name = line;
        r->headers[r->nheaders].value = v;
        r->nheaders++;
    }
    return RT_OK;
}

static int map_code(rt_http_xfer_t *x, CURLcode code)
{
    switch (code) {
    case CURLE_OK: return RT_OK;
    case CURLE_OPERATION_TIMEDOUT: return RT_ETIMEDOUT;
    case CURLE_FILESIZE_EXCEEDED: return RT_EFULL;
    case CURLE_WRITE_ERROR: return x->too_large ? RT_EFULL : RT_ENOMEM;
    case CURLE_OUT_OF_MEMORY: return RT_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return RT_EINVAL;
    default: return RT_EIO;
    }
}

rt_http_result_t *rt_http_xfer_finish(rt_http_xfer_t *x, CURLcode code, int cancelled)
{
    rt_http_result_t *r = x->res;
    x->res = NULL;
    long status = 0, nconn = 0;
    curl_off_t retry = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry);

    r->curl_code = (int)code;
    r->status = status;
    r->new_connections = nconn > 0 ? (uint32_t)nconn : 0;
    r->rc = cancelled ? RT_ESHUTDOWN : map_code(x, code);
    if (r->rc == RT_ESHUTDOWN) {
        snprintf(r->error, sizeof r->error, "cancelled: HTTP client shut down");
    } else if (r->rc == RT_EFULL) {
        snprintf(r->error, sizeof r->error, "response body exceeds %zu bytes", x->max_body);
    } else if (r->rc != RT_OK) {
        snprintf(r->error, sizeof r->error, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
    }

    if (headers_parse(x, r) != RT_OK && r->rc == RT_OK) {
        r->rc = RT_ENOMEM;
        snprintf(r->error, sizeof r->error, "out of memory parsing headers");
    }
    r->content_type = rt_http_result_header(r, "Content-Type");
    const char *ra = rt_http_result_header(r, "Retry-After");
    r->retry_after_s = -1;
    if (ra) {
        char *end = NULL;
        long long v = strtoll(ra, &end, 10);
        if (end != ra && *end == '\0' && v >= 0) r->retry_after_s = v;
        else if (retry > 0) r->retry_after_s = (int64_t)retry; /* an HTTP-date, parsed by curl */
        else r->retry_after_s = 0;
    }
    if (!r->body) {
        r->body = calloc(1, 1);
        r->body_len = 0;
        if (!r->body && r->rc == RT_OK) r->rc = RT_ENOMEM; /* body stays NULL only then */
    }
    uint64_t el = rt_clock_ms() - x->t0_ms;
    r->elapsed_ms = el > UINT32_MAX ? UINT32_MAX : (uint32_t)el;
    xfer_free(x);
    return r;
}
