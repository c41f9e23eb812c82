/* test_log.c — unit tests of runtime/log/rt_log.c: phone masking, the
 * logfmt line format, level filtering, and the bounded ring (a blocked
 * writer makes lines drop instead of stalling the caller).
 *
 * Suite 'app' (tag "unit"). Threads: cases on the main thread; the ring
 * case starts one reader thread and joins it.
 */
#include "t.h"

#include "rt_log.h"

#include <fcntl.h>
#include <regex.h>
#include <unistd.h>

static void mask(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in);
    rt_log_mask_phones(out, strlen(out));
}

#define T_MASK(in, want) do { char b_[256]; mask(in, b_, sizeof b_); T_EQ_STR(b_, want); } while (0)

T_CASE_TAGGED(mask_e164_plus, "unit")
{
    T_MASK("+79123454567", "+7******4567");
    T_MASK("phone=+79123454567 ok", "phone=+7******4567 ok");
    T_MASK("a \"+79991112233\"", "a \"+7******2233\"");
}

T_CASE_TAGGED(mask_bare_digits, "unit")
{
    T_MASK("79123454567", "7******4567");
    T_MASK("89123454567", "8******4567");
    T_MASK("9123454567", "9*****4567");               /* 10 digits, no prefix */
    T_MASK("x=380501234567,", "x=3*******4567,");     /* 12-digit E.164 */
    T_MASK("123456789012345", "1**********2345");     /* 15 digits */
}

T_CASE_TAGGED(mask_formatted_plus, "unit")
{
    T_MASK("+7 (912) 345-45-67", "+7 (***) ***-45-67");
    T_MASK("+7 912 345 45 67.", "+7 *** *** 45 67.");
}

T_CASE_TAGGED(mask_leaves_non_phones, "unit")
{
    T_MASK("ts=2026-11-26T11:14:26.123Z", "ts=2026-11-26T11:14:26.123Z");
    T_MASK("n=123456789", "n=123456789");             /* 9 digits */
    T_MASK("date=1764152066", "date=1764152066");     /* Unix seconds */
    T_MASK("id=0123456789012", "id=0123456789012");   /* leading zero */
    T_MASK("1234567890123456", "1234567890123456");   /* 16 digits */
    T_MASK("tok=ab79123454567", "tok=ab79123454567"); /* glued to letters */
    T_MASK("x=0.79123454567", "x=0.79123454567");     /* decimal fraction */
    T_MASK("+7912", "+7912");
    T_MASK("", "");
}

T_CASE_TAGGED(mask_respects_len, "unit")
{
    char b[32] = "+79123454567";
    rt_log_mask_phones(b, 5);                  /* only "+7912" is in range */
    T_EQ_STR(b, "+79123454567");
    char c[] = "call 89123454567 now 89123454568";
    rt_log_mask_phones(c, strlen(c));
    T_EQ_STR(c, "call 8******4567 now 8******4568");
}

T_CASE_TAGGED(level_parse, "unit")
{
    T_EQ_INT(rt_log_level_parse("debug"), RT_LOG_DEBUG);
    T_EQ_INT(rt_log_level_parse("info"), RT_LOG_INFO);
    T_EQ_INT(rt_log_level_parse("warn"), RT_LOG_WARN);
    T_EQ_INT(rt_log_level_parse("error"), RT_LOG_ERROR);
    T_EQ_INT(rt_log_level_parse("loud"), -1);
    T_EQ_INT(rt_log_level_parse(NULL), -1);
}

T_CASE_TAGGED(value_scrubbed_for_logfmt, "unit")
{
    char b[32];
    T_EQ_STR(rt_log_value(b, sizeof b, "say \"hi\"\nnext\tline"), "say 'hi' next line");
    T_EQ_STR(rt_log_value(b, sizeof b, NULL), "");
    /* cut on a character boundary: "Ж" is two bytes and must not be split */
    char small[6];
    T_EQ_STR(rt_log_value(small, sizeof small, "abcdЖ"), "abcd");
    T_EQ_STR(rt_log_value(small, sizeof small, "abЖd"), "abЖd");
    char one[1];
    T_EQ_STR(rt_log_value(one, sizeof one, "x"), "");
}

/* Read everything from fd until EOF into buf. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0) n += (size_t)r;
    buf[n] = '\0';
    return n;
}

T_CASE_TAGGED(line_format_and_levels, "unit")
{
    int p[2];
    T_CHECK(pipe(p) == 0);
    T_EQ_INT(rt_log_init(RT_LOG_INFO, p[1]), 0);
    LOG_DEBUG("hidden_event", "x=%d", 1);
    LOG_INFO("order_created", "order=%s phone=%s n=%d", "A-1", "+79123454567", 7);
    LOG_WARN("multi_line", "text=\"%s\"", "a\nb");
    LOG_ERROR("bare_event", "%s", "");
    rt_log_shutdown();
    rt_log_shutdown();                        /* idempotent */
    close(p[1]);
    char out[4096];
    read_all(p[0], out, sizeof out);
    close(p[0]);

    T_CHECK(strstr(out, "hidden_event") == NULL);
    T_CHECK(strstr(out, "+79123454567") == NULL);
    regex_t re;
    T_EQ_INT(regcomp(&re,
        "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z level=info "
        "at=test_log\\.c:[0-9]+ event=order_created order=A-1 phone=\\+7\\*{6}4567 n=7$",
        REG_EXTENDED | REG_NEWLINE), 0);
    T_CHECK(regexec(&re, out, 0, NULL, 0) == 0);
    regfree(&re);
    T_CHECK(strstr(out, "level=warn at=test_log.c:") != NULL);
    T_CHECK(strstr(out, "event=multi_line text=\"a b\"\n") != NULL);   /* one line */
    T_CHECK(strstr(out, "level=error") != NULL && strstr(out, "event=bare_event\n") != NULL);
    int lines = 0;
    for (char *q = out; *q; q++) lines += *q == '\n';
    T_EQ_INT(lines, 3);
}

static int g_drain_fd;
static void *drain_main(void *arg)
{
    (void)arg;
    char buf[65536];
    while (read(g_drain_fd, buf, sizeof buf) > 0) {}
    return NULL;
}

T_CASE_TAGGED(full_ring_drops_instead_of_blocking, "unit")
{
    int p[2];
    T_CHECK(pipe(p) == 0);
    unsigned long before = rt_log_dropped();
    T_EQ_INT(rt_log_init(RT_LOG_INFO, p[1]), 0);
    /* Nobody reads the pipe: the writer blocks once it holds 64 KiB, the
     * 1 MiB ring fills, and further lines must be dropped, not block us. */
    char pad[200];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < 20000; i++) LOG_INFO("flood", "i=%d pad=%s", i, pad);
    T_CHECK(rt_log_dropped() > before);

    g_drain_fd = p[0];
    pthread_t t;
    T_EQ_INT(pthread_create(&t, NULL, drain_main, NULL), 0);
    rt_log_shutdown();
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
}

T_CASE_TAGGED(before_init_goes_to_stderr, "unit")
{
    /* With no writer running, a line is written synchronously to fd 2. */
    int saved = dup(2), p[2];
    T_CHECK(saved >= 0 && pipe(p) == 0);
    dup2(p[1], 2);
    LOG_WARN("early_event", "phone=%s", "89123454567");
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    char out[1024];
    read_all(p[0], out, sizeof out);
    close(p[0]);
    T_CHECK(strstr(out, "event=early_event phone=8******4567\n") != NULL);
}

T_MAIN()
