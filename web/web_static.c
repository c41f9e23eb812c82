/* web_static.c — the dashboard's static files under GET /.
 *
 * Purpose: serves files from one directory (PLUS7_STATIC_DIR) with content
 * types by extension and an ETag, in one write per response. Never lists
 * a directory, never serves a dot-file, never leaves the directory: a
 * request whose path holds a ".." segment is refused with 403 before any
 * file-system access, and every path is resolved with realpath and must
 * stay under the resolved root (symlinks pointing out answer 404).
 *
 * Exports: web_static_register.
 * Threads: registration on the main thread; the handler on civetweb threads
 * (blocking file reads are fine there).
 */
#include "web_builtin.h"
#include "web_server.h"

#include "rt_log.h"

#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_STATIC_MAX_FILE (16u << 20)

static char g_root[PATH_MAX];   /* written before the server starts */
static size_t g_root_len;

static const struct { const char *ext, *type; } web_static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
    {".csv", "text/csv; charset=utf-8"},
    {".pdf", "application/pdf"},
};

static const char *web_static_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof web_static_types / sizeof web_static_types[0]; i++)
            if (strcasecmp(dot, web_static_types[i].ext) == 0) return web_static_types[i].type;
    return "application/octet-stream";
}

/* Segment scan: returns 2 for a ".." segment, 1 for another dot-segment or
 * dot-file (".", ".git"), 0 otherwise. */
static int web_static_dots(const char *p)
{
    int worst = 0;
    while (p && *p) {
        while (*p == '/') p++;
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - seg);
        if (n == 2 && seg[0] == '.' && seg[1] == '.') return 2;
        if (n >= 1 && seg[0] == '.') worst = 1;
    }
    return worst;
}

static bool web_static_inside(const char *resolved)
{
    return strncmp(resolved, g_root, g_root_len) == 0 &&
           (resolved[g_root_len] == '\0' || resolved[g_root_len] == '/');
}

static int web_static_get(web_req_t *req)
{
    const char *path = req->path;
    const char *raw = req->ri ? req->ri->local_uri_raw : NULL;
    if (!path) return web_reply_error(req, 404, "not found", NULL);
    if (web_static_dots(raw) == 2 || web_static_dots(path) == 2 || strchr(path, '\\'))
        return web_reply_error(req, 403, "forbidden path", NULL);
    if (web_static_dots(path) != 0) return web_reply_error(req, 404, "not found", NULL);

    char full[PATH_MAX], resolved[PATH_MAX];
    if ((size_t)snprintf(full, sizeof full, "%s%s", g_root, path) >= sizeof full - 16 ||
        !realpath(full, resolved) || !web_static_inside(resolved))
        return web_reply_error(req, 404, "not found", NULL);

    struct stat st;
    if (stat(resolved, &st) != 0) return web_reply_error(req, 404, "not found", NULL);
    if (S_ISDIR(st.st_mode)) {
        size_t pl = strlen(path);
        if (pl == 0 || path[pl - 1] != '/') {   /* "/sub" -> "/sub/" so relative links work */
            char loc[PATH_MAX + 32];
            snprintf(loc, sizeof loc, "Location: %s/\r\n", path);
            if (strpbrk(path, "\r\n")) return web_reply_error(req, 404, "not found", NULL);
            return web_reply(req, 301, NULL, loc, NULL, 0);
        }
        char idx[PATH_MAX];
        if ((size_t)snprintf(idx, sizeof idx, "%s/index.html", resolved) >= sizeof idx ||
            !realpath(idx, resolved) || !web_static_inside(resolved) || stat(resolved, &st) != 0)
            return web_reply_error(req, 404, "not found", NULL);
    }
    if (!S_ISREG(st.st_mode)) return web_reply_error(req, 404, "not found", NULL);
    if ((unsigned long long)st.st_size > WEB_STATIC_MAX_FILE)
        return web_reply_error(req, 500, "file too large", NULL);

    char etag[96];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    const char *type = web_static_type(resolved);
    bool html = strncmp(type, "text/html", 9) == 0;
    char headers[512];
    snprintf(headers, sizeof headers,
             "Cache-Control: no-cache\r\nETag: %s\r\n%s", etag,
             html ? "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
                    "img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
                    "form-action 'self'; frame-ancestors 'none'\r\n"
                    "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
                  : "Referrer-Policy: no-referrer\r\n");
    const char *inm = web_req_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) return web_reply(req, 304, NULL, headers, NULL, 0);

    size_t size = (size_t)st.st_size;
    char *body = malloc(size ? size : 1);
    if (!body) return web_reply_error(req, 500, "out of memory", NULL);
    int fd = open(resolved, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    while (fd >= 0 && got < size) {
        ssize_t r = read(fd, body + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (fd >= 0) close(fd);
    int rc = got == size ? web_reply(req, 200, type, headers, body, size)
                         : web_reply_error(req, 404, "not found", NULL);
    free(body);
    return rc;
}

/* Contract: see web_builtin.h. */
int web_static_register(const char *dir)
{
    struct stat st;
    if (!dir || !realpath(dir, g_root) || stat(g_root, &st) != 0 || !S_ISDIR(st.st_mode))
        return RT_EINVAL;
    g_root_len = strlen(g_root);
    if (g_root_len == 1) g_root_len = 0;   /* root "/": every path is inside */
    return web_route_add("GET", "/", web_static_get);
}
