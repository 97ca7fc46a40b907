// SPDX-License-Identifier: GPL-2.0
/*
 * The four paths of libkatomic against each other, in the test bed: one
 * seeded random sequence of counter ops (10^4 by default) over every type,
 * every op and every counter kind, run
 *
 *   ioctl  katomic_op() on a private context of the device, op by op;
 *   batch  katomic_batch() on another context, in batches of 1..256;
 *   uring  katomic_uring() on a third, in submissions of 1..300 ops;
 *   twin   katomic_op() on the user-space twin;
 *
 * must give the same result, applied and error op by op, and the same
 * final values.  The sequence mixes in ops bound to fail (an undefined
 * counter, the wrong type, an operand out of range, an op the kind does
 * not take).  A second sequence then goes through batch, uring and the
 * twin's batch without KATOMIC_BATCH_CONTINUE: each stops at the same op
 * (the same done) with the same results.
 *
 * Each counter id is one (type, kind) pair, so every kind -- NONE, ATOMIC,
 * SPINLOCK, MUTEX, PERCPU -- sees every op; a pair the module refuses at
 * DEFINE (PERCPU on a 32-bit type) must be refused alike by the twin and
 * then stays undefined.  Single-threaded, so NONE is exact too.
 *
 * Built with libkatomic (static) and run by scripts/vm-selftests.sh.
 * Knobs: KT_PATHS_OPS (10000), KT_PATHS_SEED.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katomic.h"
#include "kselftest_harness.h"

#define NR_TYPES	KATOMIC_TYPE_LAST
static const unsigned int kinds[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK,
	KATOMIC_SYNC_MUTEX, KATOMIC_SYNC_PERCPU,
};
#define NR_KINDS	(sizeof(kinds) / sizeof(kinds[0]))
#define NR_PAIRS	(NR_TYPES * NR_KINDS)
#define NR_IDS		(NR_PAIRS + 3)	/* the last three never defined */

enum { P_IOCTL, P_BATCH, P_URING, P_TWIN, NR_PATHS };
static const char *const path_name[NR_PATHS] = {
	"ioctl", "batch", "uring", "twin",
};

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static __u64 next(__u64 *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static unsigned int pair_type(unsigned int id)
{
	return 1 + id / NR_KINDS;
}

/* An operand of type: an edge of its range or a random value, in range. */
static __u64 operand(unsigned int type, unsigned int ptr_bits, __u64 *seed)
{
	__u64 x = next(seed);

	switch (x % 8) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return katomic_value_max(type, ptr_bits);
	case 3:
		return katomic_value_min(type, ptr_bits);
	case 4:
		return katomic_value_extend(type, ptr_bits, -1ULL);
	case 5:
		return katomic_value_extend(type, ptr_bits, x >> 59);
	default:
		return katomic_value_extend(type, ptr_bits, next(seed));
	}
}

static void sequence(struct katomic_op *ops, unsigned int n, __u64 seed,
		     unsigned int ptr_bits)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		__u64 x = next(&seed);
		unsigned int op = 1 + x % KATOMIC_OP_LAST;
		unsigned int id = (x >> 8) % NR_PAIRS;
		unsigned int type = pair_type(id);
		const struct katomic_op_desc *d = katomic_op_desc(op);
		__u64 arg = 0, arg2 = 0;

		if (d->operands > 0)
			arg = operand(type, ptr_bits, &seed);
		if (d->operands > 1)
			arg2 = operand(type, ptr_bits, &seed);
		switch ((x >> 16) % 64) {
		case 0:			/* never defined: -ENOENT */
			id = NR_PAIRS + (x >> 24) % (NR_IDS - NR_PAIRS);
			break;
		case 1:			/* the wrong type: -EINVAL */
			type = 1 + type % NR_TYPES;
			break;
		case 2:			/* out of range for 32 bits */
			arg |= 1ULL << 40;
			break;
		}
		ops[i] = (struct katomic_op){ .id = id, .type = type, .op = op,
					      .arg = arg, .arg2 = arg2 };
	}
}

/* Define every (type, kind) pair in k; the refusals, in refused[]. */
static int define_all(struct katomic *k, unsigned int ptr_bits,
		      int refused[NR_PAIRS])
{
	unsigned int id;
	int r;

	for (id = 0; id < NR_PAIRS; id++) {
		unsigned int type = pair_type(id);

		r = katomic_define(k, id, type, kinds[id % NR_KINDS],
				   katomic_value_extend(type, ptr_bits,
					0x0123456789abcdefULL * (id + 1)));
		refused[id] = r;
		if (r && r != -EOPNOTSUPP)
			return r;
	}
	return 0;
}

FIXTURE(paths) {
	struct katomic *dev;
	struct katomic *k[NR_PATHS];
	unsigned int ptr_bits;
	int refused[NR_PATHS][NR_PAIRS];
};

FIXTURE_SETUP(paths)
{
	struct katomic_context c = { .nr_counters = NR_IDS };
	struct katomic_info info;
	unsigned int p;
	int r;

	memset(self->k, 0, sizeof(self->k));
	r = katomic_open(NULL, &self->dev);
	ASSERT_EQ(0, r) TH_LOG("/dev/katomic: %s", strerror(-r));
	ASSERT_EQ(0, katomic_info(self->dev, &info));
	if ((info.features & (KATOMIC_FEAT_CONTEXTS | KATOMIC_FEAT_BATCH |
			      KATOMIC_FEAT_URING | KATOMIC_FEAT_SYNC_KINDS)) !=
	    (KATOMIC_FEAT_CONTEXTS | KATOMIC_FEAT_BATCH | KATOMIC_FEAT_URING |
	     KATOMIC_FEAT_SYNC_KINDS))
		SKIP(return, "needs CONTEXTS, BATCH, URING and SYNC_KINDS");
	self->ptr_bits = info.ptr_bits;
	for (p = 0; p < NR_PATHS; p++) {
		if (p == P_TWIN)
			r = katomic_twin_new(NR_IDS, &self->k[p]);
		else
			r = katomic_context_new(self->dev, &c, &self->k[p]);
		ASSERT_EQ(0, r) TH_LOG("%s: %s", path_name[p], strerror(-r));
		r = define_all(self->k[p], self->ptr_bits, self->refused[p]);
		ASSERT_EQ(0, r) TH_LOG("%s: define: %s", path_name[p],
				       strerror(-r));
	}
}

FIXTURE_TEARDOWN(paths)
{
	unsigned int p;

	for (p = 0; p < NR_PATHS; p++)
		katomic_close(self->k[p]);
	katomic_close(self->dev);
}

/* ops[0..n) through path p in pieces of 1..max, CONTINUE or not. */
static int run_path(struct katomic *k, unsigned int p, struct katomic_op *ops,
		    unsigned int n, unsigned int flags, unsigned int max,
		    unsigned int *done)
{
	unsigned int i, j, got;
	int r;

	*done = 0;
	for (i = 0; i < n; i += j) {
		j = 1 + (i * 2654435761U) % max;
		if (j > n - i)
			j = n - i;
		/* The twin runs katomic_batch, as the device's batch leg. */
		if (p == P_URING)
			r = katomic_uring(k, ops + i, j, flags, &got);
		else
			r = katomic_batch(k, ops + i, j, flags, &got);
		if (r)
			return r;
		*done += got;
		/* Stopped at a failed op (which may be the last that ran). */
		if (got < j || (!(flags & KATOMIC_BATCH_CONTINUE) &&
				ops[i + got - 1].error))
			break;
	}
	return 0;
}

/* The first op where a and b differ, or -1. */
static long first_diff(const struct katomic_op *a, const struct katomic_op *b,
		       unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (a[i].result != b[i].result ||
		    a[i].applied != b[i].applied || a[i].error != b[i].error)
			return i;
	return -1;
}

static void report(struct __test_metadata *_metadata, const char *a,
		   const char *b, const struct katomic_op *x,
		   const struct katomic_op *y)
{
	TH_LOG("op %s on id %u (%s): %s %#llx/%u/%d, %s %#llx/%u/%d",
	       katomic_op_name(x->op), x->id, katomic_type_name(x->type),
	       a, (unsigned long long)x->result, x->applied, x->error,
	       b, (unsigned long long)y->result, y->applied, y->error);
}

/* Every counter reads the same through every path. */
static void same_values(struct __test_metadata *_metadata,
			FIXTURE_DATA(paths) *self)
{
	unsigned int id, p;

	for (id = 0; id < NR_PAIRS; id++) {
		struct katomic_op load[NR_PATHS];

		for (p = 0; p < NR_PATHS; p++) {
			load[p] = (struct katomic_op){
				.id = id, .type = pair_type(id),
				.op = KATOMIC_OP_LOAD,
			};
			if (katomic_op(self->k[p], &load[p]) < 0)
				load[p].result = 0xbad;
		}
		for (p = 1; p < NR_PATHS; p++) {
			if (load[p].result == load[0].result)
				continue;
			report(_metadata, path_name[0], path_name[p], &load[0],
			       &load[p]);
			EXPECT_EQ(load[0].result, load[p].result);
		}
	}
}

TEST_F(paths, continue_through_failures)
{
	unsigned long n = env_ulong("KT_PATHS_OPS", 10000);
	__u64 seed = env_ulong("KT_PATHS_SEED", 0x9a7b5);
	struct katomic_op *seq, *via[NR_PATHS];
	unsigned long i, fails = 0;
	unsigned int p, done;
	long d;
	int r;

	ASSERT_LT(0, n);
	/* The twin refuses exactly the pairs the module refuses. */
	for (p = 1; p < NR_PATHS; p++)
		ASSERT_EQ(0, memcmp(self->refused[0], self->refused[p],
				    sizeof(self->refused[0])));
	seq = calloc(n, sizeof(*seq));
	ASSERT_NE(NULL, seq);
	sequence(seq, n, seed, self->ptr_bits);
	for (p = 0; p < NR_PATHS; p++) {
		via[p] = malloc(n * sizeof(*seq));
		ASSERT_NE(NULL, via[p]);
		memcpy(via[p], seq, n * sizeof(*seq));
	}
	/* One op at a time: the device, and the twin. */
	for (p = 0; p < NR_PATHS; p++) {
		if (p != P_IOCTL && p != P_TWIN)
			continue;
		for (i = 0; i < n; i++) {
			r = katomic_op(self->k[p], &via[p][i]);
			if (r < 0) {
				via[p][i].result = 0;
				via[p][i].applied = 0;
				via[p][i].error = r;
			}
		}
	}
	ASSERT_EQ(0, run_path(self->k[P_BATCH], P_BATCH, via[P_BATCH], n,
			      KATOMIC_BATCH_CONTINUE, 256, &done));
	EXPECT_EQ(n, done);
	ASSERT_EQ(0, run_path(self->k[P_URING], P_URING, via[P_URING], n,
			      KATOMIC_BATCH_CONTINUE, 300, &done));
	EXPECT_EQ(n, done);

	for (i = 0; i < n; i++)
		fails += via[P_IOCTL][i].error != 0;
	for (p = 1; p < NR_PATHS; p++) {
		d = first_diff(via[P_IOCTL], via[p], n);
		EXPECT_EQ(-1, d) {
			report(_metadata, path_name[P_IOCTL], path_name[p],
			       &via[P_IOCTL][d], &via[p][d]);
		}
	}
	same_values(_metadata, self);
	/* Not trivial: many ops fail, most do not. */
	EXPECT_LT(n / 50, fails);
	EXPECT_GT(n / 2, fails);
	TH_LOG("%lu ops, seed %#llx, %lu failed alike on all four paths", n,
	       (unsigned long long)seed, fails);
	for (p = 0; p < NR_PATHS; p++)
		free(via[p]);
	free(seq);
}

TEST_F(paths, stop_at_first_failure)
{
	unsigned long n = env_ulong("KT_PATHS_OPS", 10000);
	__u64 seed = env_ulong("KT_PATHS_SEED", 0x9a7b5) ^ 0x5709;
	static const unsigned int legs[] = { P_BATCH, P_URING, P_TWIN };
	struct katomic_op *seq, *via[NR_PATHS];
	unsigned int done[NR_PATHS], l, p, start, stops = 0;
	long d;

	seq = calloc(n, sizeof(*seq));
	ASSERT_NE(NULL, seq);
	sequence(seq, n, seed, self->ptr_bits);
	for (l = 0; l < 3; l++) {
		p = legs[l];
		via[p] = malloc(n * sizeof(*seq));
		ASSERT_NE(NULL, via[p]);
		memcpy(via[p], seq, n * sizeof(*seq));
	}
	/*
	 * Run from start until the batch stops; then go on after the op
	 * that failed, until the sequence is used up.  Every leg must stop
	 * at the same op each time.
	 */
	for (start = 0; start < n; ) {
		for (l = 0; l < 3; l++) {
			p = legs[l];
			ASSERT_EQ(0, run_path(self->k[p], p, via[p] + start,
					      n - start, 0, 64, &done[p]));
		}
		ASSERT_EQ(done[P_BATCH], done[P_URING]);
		ASSERT_EQ(done[P_BATCH], done[P_TWIN]);
		ASSERT_LT(0, done[P_BATCH]);
		start += done[P_BATCH];
		stops += start < n;
	}
	for (l = 1; l < 3; l++) {
		p = legs[l];
		d = first_diff(via[P_BATCH], via[p], n);
		EXPECT_EQ(-1, d) {
			report(_metadata, path_name[P_BATCH], path_name[p],
			       &via[P_BATCH][d], &via[p][d]);
		}
	}
	EXPECT_LT(n / 50, stops);
	TH_LOG("%lu ops, %u stops at a failed op, alike on batch, uring, twin",
	       n, stops);
	for (l = 0; l < 3; l++)
		free(via[legs[l]]);
	free(seq);
}

TEST_HARNESS_MAIN
