/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic hammer: threads racing on kernel and user-space counters of each
 * sync kind, counting the updates that were lost.  hammer_main() is the
 * command; the pure arithmetic below is its own, exported for the host
 * tests.
 */
#ifndef KATOMIC_HAMMER_H
#define KATOMIC_HAMMER_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "crew.h"

/*
 * katomic [--device PATH] hammer [OPTION]...: argv[0] is "hammer".  device
 * is --device (NULL: the default); open_hint(err) adds the CLI's hint to a
 * failed open.  Returns the exit status: 0 ok, 1 failed, 2 usage error.
 */
int hammer_main(int argc, char **argv, const char *device,
		const char *(*open_hint)(int err));
void hammer_usage(FILE *f);

/* The token thread t (of nr_threads) stores with its k-th SWAP; never 0. */
uint64_t hammer_token(unsigned int nr_threads, unsigned int t, uint64_t k);

/*
 * The swap accounting.  Thread t made done[t] SWAPs, storing the tokens
 * hammer_token(nr_threads, t, k) for k < done[t], and logs[t][k] is what
 * its k-th SWAP returned.  finals[] are the nr_counters counters' final
 * values; each counter started at 0.  Every token stored must appear
 * exactly once among the returned values and the final values.
 */
struct hammer_swap_tally {
	uint64_t got;		/* distinct tokens found */
	uint64_t duplicates;	/* occurrences beyond a value's first
				 * (0: beyond one per counter) */
	uint64_t foreign;	/* values no thread stored, not 0 */
};

/* Returns 0 or -ENOMEM. */
int hammer_swap_account(unsigned int nr_threads, const uint64_t *done,
			const uint64_t *const *logs, const uint64_t *finals,
			unsigned int nr_counters, struct hammer_swap_tally *t);

/*
 * The updates expected: nr_threads * ops with --ops (ops > 0), the ops the
 * threads completed (done[]) with --seconds (ops == 0).
 */
uint64_t hammer_expected(uint64_t ops, unsigned int nr_threads,
			 const uint64_t *done);

/* lost = expected - got; share: lost as a percentage of expected (0 if
 * nothing was expected). */
int64_t hammer_lost(uint64_t expected, uint64_t got);
double hammer_lost_share(uint64_t expected, int64_t lost);

/* The rates of a run are the crew's (crew.h), by the names the tests know. */
#define hammer_rates	crew_rates

/* kernel:mixed's figure: the mapped half's ops/s/thread over the ioctl
 * half's (0 if the ioctl half has no rate). */
double hammer_mixed_ratio(const struct hammer_rates *ioctl,
			  const struct hammer_rates *mapped);

#endif /* KATOMIC_HAMMER_H */
