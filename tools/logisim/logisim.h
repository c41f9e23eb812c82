/* logisim.h — the emulated logistics system's two sides.
 *
 * Purpose: logisim.c sends signed status events to plus7d (the inbound
 * webhook); logisim_recv.c receives plus7d's signed outbound events.
 *
 * Exports: logisim_recv_main, logisim_recv_start, logisim_recv_couriers,
 * logisim_recv_stop. Threads: main.
 */
#ifndef PLUS7_LOGISIM_H
#define PLUS7_LOGISIM_H

/* Run the receiving side alone (logisim --listen …) until SIGTERM; the exit code. */
int logisim_recv_main(int argc, char **argv);

/* Start the receiver on `listen` checking signatures with `secret` (kept
 * by reference); the bound HOST:PORT into `bound`. 0 or -1. */
int logisim_recv_start(const char *listen, const char *secret, char *bound, size_t boundlen);

/* The postings a courier delivers (their last delivery.* event received is
 * booked or moved) as a PostgreSQL text array literal into out; how many. */
int logisim_recv_couriers(char *out, size_t outsz);

/* Stop the receiver and forget what it received. */
void logisim_recv_stop(void);

#endif
