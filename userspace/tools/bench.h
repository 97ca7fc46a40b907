/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic bench: what each guarantee costs, kernel against user space.
 * bench.c has the paths and runs the matrix; bench_out.c the statistics,
 * the checks of a finished matrix and the outputs (table, CSV, JSON, the
 * gnuplot PNG, reading a CSV back).  The pure parts are declared here for
 * the host tests.
 */
#ifndef KATOMIC_BENCH_H
#define KATOMIC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * katomic [--device PATH] bench [OPTION]...: argv[0] is "bench".  Returns
 * the exit status: 0 ok, 1 failed (a self-check included), 2 usage error.
 */
int bench_main(int argc, char **argv, const char *device,
	       const char *(*open_hint)(int err));
void bench_usage(FILE *f);

/* The op axis and the placement axis; -1 in a row: the path has none. */
enum { BENCH_ADD, BENCH_CAS_LOOP, BENCH_LOAD, BENCH_NR_OPS };
enum { BENCH_SHARED, BENCH_PADDED, BENCH_ADJACENT, BENCH_NR_PLACES };
extern const char *const bench_op_names[BENCH_NR_OPS];
extern const char *const bench_place_names[BENCH_NR_PLACES];

/* A path's traits (struct bench_path's flags, bench.c's table). */
#define BENCH_KERNEL		0x01	/* through /dev/katomic */
#define BENCH_EXACT		0x02	/* no update may be lost */
#define BENCH_NO_COUNTER	0x04	/* no counter: no op, no placement */
#define BENCH_BATCHED		0x08	/* B ops per call: the batch axis */
#define BENCH_ONE_PER_CALL	0x10	/* a syscall per op at least (at B 1):
					 * cannot beat the NOP ioctl */
#define BENCH_SHARDED		0x20	/* one counter of per-thread shards */

/* The flags of the path named name, or -1 if there is none. */
int bench_path_flags(const char *name);

#define BENCH_NAME_LEN		24
#define BENCH_REASON_LEN	96
#define BENCH_MAX_RUNS		100

/* Median, min and max of some runs. */
struct bench_stat {
	double med, min, max;
};

/* n values (n >= 1): the median is the middle one, or the mean of the
 * middle two for an even n.  v is left as it was. */
void bench_stats(const double *v, unsigned int n, struct bench_stat *s);

/* One row of the matrix: measured, or skipped with a reason. */
struct bench_row {
	char path[BENCH_NAME_LEN];	/* "kernel:batch" */
	unsigned int batch;		/* B, 0 without the batch axis */
	unsigned int threads;		/* 0 in a skipped row: any */
	int place, op;			/* -1: none */
	char reason[BENCH_REASON_LEN];	/* skipped: why; else "" */
	unsigned int runs;
	struct bench_stat ns;		/* ns per op, per thread */
	struct bench_stat mops;		/* Mops/s of all threads */
	double lost;			/* inexact paths: median % lost; else -1 */
	double vs_nop, vs_c11;		/* ns/op medians' ratios; 0: none */
};

/* What ran where. */
struct bench_meta {
	char machine[128];		/* "QEMU TCG", --machine's */
	char kernel[80];		/* uname -r */
	char date[32];			/* UTC, ISO 8601 */
	char commit[48];		/* --commit's, or "" */
	unsigned int cpus;
	double seconds;
	unsigned int runs;
	bool pin;
};

struct bench_result {
	struct bench_meta meta;
	struct bench_row *rows;
	unsigned int nr, cap;
};

/* A new row at the end of r (zeroed: lost and ratios unknown); NULL if
 * there is no memory. */
struct bench_row *bench_add_row(struct bench_result *r);
void bench_free(struct bench_result *r);

/*
 * Each measured row's vs_nop (its ns/op median over kernel:nop's at the
 * same threads) and vs_c11 (over user:c11's at the same threads,
 * placement and op; rows without them against shared add); 0 where the
 * reference is missing.
 */
void bench_ratios(struct bench_result *r);

/*
 * The check of one run's values.  Thread t did done[t] ops of op; every
 * value started at init.  One value (a shared counter) must end at init
 * plus all ops, nr_threads values (one per thread) each at init plus its
 * thread's; LOAD leaves them at init.  NULL if so, else why (in buf).
 */
const char *bench_check_values(int op, unsigned int nr_threads,
			       const uint64_t *done, unsigned int nr_values,
			       const uint64_t *values, uint64_t init,
			       char *buf, size_t len);
/* An inexact path's share of lost updates (%) in the same terms. */
double bench_lost_share(unsigned int nr_threads, const uint64_t *done,
			unsigned int nr_values, const uint64_t *values,
			uint64_t init);
/*
 * The NOP floor: a path with BENCH_ONE_PER_CALL (at B 1) cannot do an op
 * in less time than the NOP ioctl: a row whose slowest run (ns max) is
 * still faster than the NOP's fastest (ns min) at the same threads, by
 * more than the noise (BENCH_NOISE of it), is impossible.  NULL if no row
 * is, else why, naming the row (in buf).
 */
#define BENCH_NOISE	0.25
const char *bench_check_floor(const struct bench_result *r, char *buf,
			      size_t len);

/* "kernel:batch B=16 2 threads padded add" */
void bench_row_name(const struct bench_row *row, char *buf, size_t len);

/* The outputs ------------------------------------------------------- */

void bench_print_table(FILE *f, const struct bench_result *r);
void bench_write_csv(FILE *f, const struct bench_result *r);
void bench_write_json(FILE *f, const struct bench_result *r);
/*
 * Reads what bench_write_csv wrote into r (empty).  0, or -1 with why in
 * buf ("line 3: ..."); r is then freed.
 */
int bench_read_csv(FILE *f, struct bench_result *r, char *buf, size_t len);
/*
 * The PNG: throughput (Mops/s, log scale) against threads, a line per
 * path, for each op of shared counters measured; gnuplot (Debian's
 * gnuplot-nox) draws it.  EXIT_OK or EXIT_FAILED, reported.
 */
int bench_plot(const struct bench_result *r, const char *png);

/* The machine label: "QEMU TCG", "KVM", "hypervisor X" or "bare metal". */
void bench_machine(char *buf, size_t len);

#endif /* KATOMIC_BENCH_H */
