/* t.h — the test harness: TAP output, one executable per area.
 *
 * Purpose: every test executable is a list of cases; each case prints one
 * TAP line ("ok 3 - name" / "not ok 3 - name"), so `./dev test` counts
 * cases, not executables. A failed check prints the file, line and the
 * expression as a TAP comment and ends that case (the next case still runs).
 *
 *   T_CASE(mailbox_many_producers) { ... T_CHECK(x == 3); T_EQ_INT(a, b); }
 *   int main(void) { return t_run_all(); }       // or T_MAIN()
 *
 * Tags: T_CASE_TAGGED(name, "slow db") — `T_TAGS=db` in the environment runs
 * only cases carrying one of the given tags; `T_SKIP_TAGS=slow` skips them.
 * A skipped case prints "ok N - name # SKIP".
 *
 * Exports: T_CASE, T_CASE_TAGGED, T_CHECK, T_EQ_INT, T_EQ_STR, T_FAIL,
 * T_MAIN, t_run_all, t_env (getenv with a default).
 * Threads: cases run on the main thread; T_CHECK may be used from other
 * threads only if the case joins them before returning (failures are
 * recorded atomically).
 */
#ifndef PLUS7_T_H
#define PLUS7_T_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

typedef struct t_case {
    const char *name;
    const char *tags;
    void (*fn)(void);
    struct t_case *next;
} t_case_t;

static t_case_t *t_cases_head, **t_cases_tail = &t_cases_head;
static atomic_int t_case_failed;   /* relaxed: read after the case's threads joined */
static jmp_buf t_case_jmp;
static pthread_t t_main_thread;

static inline void t_register(t_case_t *c) { *t_cases_tail = c; t_cases_tail = &c->next; }

#define T_CASE_TAGGED(name_, tags_)                                           \
    static void t_fn_##name_(void);                                           \
    static t_case_t t_case_##name_ = {#name_, tags_, t_fn_##name_, NULL};     \
    __attribute__((constructor)) static void t_reg_##name_(void) { t_register(&t_case_##name_); } \
    static void t_fn_##name_(void)
#define T_CASE(name_) T_CASE_TAGGED(name_, "")

static inline void t_fail_at(const char *file, int line, const char *what)
{
    printf("# FAIL %s:%d: %s\n", file, line, what);
    fflush(stdout);
    atomic_store_explicit(&t_case_failed, 1, memory_order_relaxed);
    if (pthread_equal(pthread_self(), t_main_thread)) longjmp(t_case_jmp, 1);
}

#define T_CHECK(e) do { if (!(e)) t_fail_at(__FILE__, __LINE__, #e); } while (0)
#define T_FAIL(msg) t_fail_at(__FILE__, __LINE__, msg)
#define T_EQ_INT(a, b) do { long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
    if (t_a_ != t_b_) { char t_m_[1024]; snprintf(t_m_, sizeof t_m_, "%s == %s (%lld != %lld)", #a, #b, t_a_, t_b_); \
    t_fail_at(__FILE__, __LINE__, t_m_); } } while (0)
#define T_EQ_STR(a, b) do { const char *t_a_ = (a), *t_b_ = (b); \
    if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) { char t_m_[1024]; \
    snprintf(t_m_, sizeof t_m_, "%s == %s (\"%.200s\" != \"%.200s\")", #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
    t_fail_at(__FILE__, __LINE__, t_m_); } } while (0)

static inline const char *t_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static inline int t_tag_match(const char *tags, const char *list)
{
    if (!list || !*list) return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
        size_t n = strlen(tok);
        for (const char *p = tags; (p = strstr(p, tok)); p += n)
            if ((p == tags || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
    }
    return 0;
}

static inline int t_run_all(void)
{
    int n = 0;
    volatile int failed = 0;
    const char *only = getenv("T_TAGS"), *skip = getenv("T_SKIP_TAGS"), *name = getenv("T_NAME");
    t_main_thread = pthread_self();
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (t_case_t *c = t_cases_head; c; c = c->next) n++;
    printf("1..%d\n", n);
    volatile int i = 0;
    for (t_case_t *c = t_cases_head; c; c = c->next) {
        i++;
        if ((only && *only && !t_tag_match(c->tags, only)) || t_tag_match(c->tags, skip) ||
            (name && *name && strcmp(name, c->name) != 0)) {
            printf("ok %d - %s # SKIP\n", i, c->name);
            continue;
        }
        atomic_store_explicit(&t_case_failed, 0, memory_order_relaxed);
        if (setjmp(t_case_jmp) == 0) c->fn();
        int f = atomic_load_explicit(&t_case_failed, memory_order_relaxed);
        printf("%sok %d - %s\n", f ? "not " : "", i, c->name);
        failed += f;
    }
    return failed ? 1 : 0;
}

#define T_MAIN() int main(void) { return t_run_all(); }

#endif
