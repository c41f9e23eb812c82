/* tgsim_log.h — logfmt lines on stderr for the emulator.
 *
 * Purpose: tgsim must not link the runtime, so it has its own tiny logger
 * with the same line shape as rt_log (ts=... level=... at=file:line
 * event=... fields). Digit runs of 10+ (phone-like) are masked like rt_log
 * does: the first digit and the last four stay.
 *
 * Exports: tgsim_log_write, tgsim_log_verbose, TGSIM_DEBUG/INFO/WARN/ERROR.
 * Threads: any; each line is written with one write(2).
 */
#ifndef TGSIM_LOG_H
#define TGSIM_LOG_H

extern int tgsim_log_verbose;   /* set once in main before threads start */

void tgsim_log_write(const char *level, const char *file, int line, const char *event,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define TGSIM_DEBUG(ev, ...) do { if (tgsim_log_verbose) tgsim_log_write("debug", __FILE__, __LINE__, ev, __VA_ARGS__); } while (0)
#define TGSIM_INFO(ev, ...) tgsim_log_write("info", __FILE__, __LINE__, ev, __VA_ARGS__)
#define TGSIM_WARN(ev, ...) tgsim_log_write("warn", __FILE__, __LINE__, ev, __VA_ARGS__)
#define TGSIM_ERROR(ev, ...) tgsim_log_write("error", __FILE__, __LINE__, ev, __VA_ARGS__)

#endif
