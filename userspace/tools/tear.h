/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic tear: writers store values into one value slot while readers
 * load it and check every load; a load is torn when it is no value a
 * writer stored.  tear_main() is the command; the arithmetic below is its
 * own, exported for the host tests.
 */
#ifndef KATOMIC_TEAR_H
#define KATOMIC_TEAR_H

#include <stdint.h>
#include <stdio.h>

/*
 * katomic [--device PATH] tear [OPTION]...: argv[0] is "tear".  device is
 * --device (NULL: the default); open_hint(err) adds the CLI's hint to a
 * failed open.  Returns the exit status: 0 ok, 1 failed, 2 usage error.
 */
int tear_main(int argc, char **argv, const char *device,
	      const char *(*open_hint)(int err));
void tear_usage(FILE *f);

/* The most sizes a run stores. */
#define TEAR_MAX_SIZES	32

/*
 * The values of a run.  A store writes one byte b, 1..nr_bytes, into
 * every byte of a value of sizes[(b - 1) % nr_sizes] bytes, tagged tag:
 * the byte tells the length.  nr_bytes is 255 rounded down to a multiple
 * of nr_sizes, so that the bytes cycle through the sizes evenly.
 */
struct tear_pattern {
	uint32_t sizes[TEAR_MAX_SIZES];
	unsigned int nr_sizes;		/* 1..TEAR_MAX_SIZES */
	unsigned int nr_bytes;
	uint32_t tag;			/* not 0 */
};

/* sizes[0..nr), nr in 1..TEAR_MAX_SIZES. */
void tear_pattern_init(struct tear_pattern *p, const uint32_t *sizes,
		       unsigned int nr, uint32_t tag);
/* The byte of the run's seq-th store (writer w's k-th: k * writers + w). */
unsigned char tear_byte(const struct tear_pattern *p, uint64_t seq);
/* The length of a value of byte b (1..nr_bytes). */
uint32_t tear_len(const struct tear_pattern *p, unsigned char b);

/* What a load is. */
enum tear_verdict {
	TEAR_OK,	/* a value stored: byte b in every byte, b's length */
	TEAR_TAG,	/* not the run's tag (nil included) */
	TEAR_MIXED,	/* not every byte one byte a store wrote */
	TEAR_LENGTH,	/* one byte b, but not b's length */
};

enum tear_verdict tear_check(const struct tear_pattern *p, uint32_t tag,
			     const unsigned char *buf, uint32_t len);

/* A reader's loads, and the torn ones by verdict. */
struct tear_tally {
	uint64_t loads;
	uint64_t torn;		/* mixed + length + tag */
	uint64_t mixed, length, tag;
};

void tear_count(struct tear_tally *t, enum tear_verdict v);
/* sum += t */
void tear_add(struct tear_tally *sum, const struct tear_tally *t);
/* torn as a percentage of loads (0 if there were none). */
double tear_share(const struct tear_tally *t);

#endif /* KATOMIC_TEAR_H */
