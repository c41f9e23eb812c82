/* bench_pg.h — the benchmark table for bench "activation".
 *
 * Purpose: creates (idempotently) table bench_kv(k text primary key,
 * v text) holding keys "key000000".."key<n-1>" with a short value each,
 * so that our cold-activation benchmark (bench/rt_activation.c) and its
 * libpq peer (bench/peers/pq_query.c) read exactly the same rows.
 *
 * Exports: bench_pg_setup, bench_pg_key, BENCH_PG_SELECT.
 *
 * Threads: main thread only (synchronous libpq; never on a runtime worker).
 */
#ifndef PLUS7_BENCH_PG_H
#define PLUS7_BENCH_PG_H

#include <stddef.h>

/* The one statement both sides run: one row by primary key. */
#define BENCH_PG_SELECT "SELECT v FROM bench_kv WHERE k = $1"

/* Ensure bench_kv exists and holds exactly keys 0..n-1 (rebuilt when the
 * count differs). Returns 0, or -1 after printing the server's error to
 * stderr. `conninfo` is a libpq connection string. */
int bench_pg_setup(const char *conninfo, long n);

/* Write key number i ("key000042") into buf (at least 16 bytes). */
void bench_pg_key(char *buf, size_t cap, long i);

#endif
