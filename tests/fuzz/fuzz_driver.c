/* fuzz_driver.c — runs a fuzz target without libFuzzer, as a regression
 * test in the ordinary sanitizer build: every file of the seed corpus
 * directories given on the command line, then a fixed number of
 * deterministic mutations of each (byte flips, truncations, insertions).
 * Prints TAP: one case per corpus directory.
 * Exports: main. Threads: main only.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fuzz_rng = 0x9E3779B97F4A7C15ull;
static uint64_t fuzz_next(void)
{
    fuzz_rng ^= fuzz_rng << 13;
    fuzz_rng ^= fuzz_rng >> 7;
    fuzz_rng ^= fuzz_rng << 17;
    return fuzz_rng;
}

static int fuzz_file(const char *path, int mutations)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    uint8_t m[65536 + 16];
    for (int i = 0; i < mutations; i++) {
        size_t len = n;
        memcpy(m, buf, n);
        int edits = 1 + (int)(fuzz_next() % 4);
        for (int e = 0; e < edits && len; e++) {
            size_t at = fuzz_next() % len;
            switch (fuzz_next() % 4) {
            case 0: m[at] ^= (uint8_t)(1u << (fuzz_next() % 8)); break;
            case 1: len = at; break;
            case 2: m[at] = "{}[]\",:0-9e\\u"[fuzz_next() % 14]; break;
            default:
                if (len < sizeof m - 1) {
                    memmove(m + at + 1, m + at, len - at);
                    m[at] = (uint8_t)fuzz_next();
                    len++;
                }
            }
        }
        LLVMFuzzerTestOneInput(m, len);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int mutations = getenv("FUZZ_MUTATIONS") ? atoi(getenv("FUZZ_MUTATIONS")) : 2000;
    printf("1..%d\n", argc - 1);
    int failed = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        int files = 0, bad = 0;
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
                if (fuzz_file(path, mutations) != 0) bad++;
                files++;
            }
            closedir(d);
        }
        /* a crash aborts the process (sanitizers), so reaching here means no crash */
        int ok = d && files > 0 && bad == 0;
        printf("%sok %d - corpus %s (%d files x %d mutations)\n", ok ? "" : "not ", a, argv[a], files, mutations);
        failed += !ok;
    }
    return failed ? 1 : 0;
}
