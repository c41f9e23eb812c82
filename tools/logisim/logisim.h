/* logisim.h — the emulated logistics system's two sides.
 *
 * Purpose: logisim.c sends signed status events to plus7d (the inbound
 * webhook); logisim_recv.c receives plus7d's signed outbound events.
 *
 * Exports: logisim_recv_main. Threads: main.
 */
#ifndef PLUS7_LOGISIM_H
#define PLUS7_LOGISIM_H

/* Run the receiving side (logisim --listen …) until SIGTERM; the exit code. */
int logisim_recv_main(int argc, char **argv);

#endif
