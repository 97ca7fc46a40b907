// SPDX-License-Identifier: GPL-2.0
/*
 * libkatomic's mapped path on the device, in the test bed: one private
 * context made with KATOMIC_CTX_MMAP, one ATOMIC counter of each type,
 * and a seeded random sequence of ops (10^4 by default, a few with an
 * operand out of range) where each op takes a path of its own:
 * katomic_op (ioctl), katomic_batch, katomic_uring, katomic_map_op or
 * katomic_map_batch.  Kernel and user atomics on the same counters must
 * give, op by op, the result, applied and error of the same sequence run
 * by katomic_op on the user-space twin, and the same final values, read
 * through the ioctl and through the mapping.  Then the typed calls of
 * each side in turn: katomic_map_<op>_<type> and katomic_<op>_<type>
 * alternate on one counter per type, against the twin.
 *
 * Also: the global context and a context without the flag do not map
 * (-ENODEV).  (Lifetimes, fork and the layout are katomic_mmap_test's.)
 *
 * Built with libkatomic (static) and run by scripts/vm-selftests.sh.
 * Knobs: KT_MAP_OPS (10000), KT_MAP_SEED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "katomic.h"
#include "kselftest_harness.h"

#define NR_IDS		KATOMIC_TYPE_LAST	/* counter t - 1 is of type t */

enum { P_IOCTL, P_BATCH, P_URING, P_MAP_OP, P_MAP_BATCH, NR_PATHS };
static const char *const path_name[NR_PATHS] = {
	"ioctl", "batch", "uring", "map_op", "map_batch",
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

static __u64 operand(unsigned int type, unsigned int ptr_bits, __u64 *seed)
{
	__u64 x = next(seed);

	switch (x % 6) {
	case 0:
		return x & 1;
	case 1:
		return katomic_value_max(type, ptr_bits);
	case 2:
		return katomic_value_min(type, ptr_bits);
	case 3:
		return katomic_value_extend(type, ptr_bits, x >> 60);
	default:
		return katomic_value_extend(type, ptr_bits, next(seed));
	}
}

/* One op on k through path p: fills result, applied, error as a batch. */
static int run_one(struct katomic *k, unsigned int p, struct katomic_op *op)
{
	unsigned int done = 0;
	int r;

	switch (p) {
	case P_BATCH:
		return katomic_batch(k, op, 1, 0, &done);
	case P_URING:
		return katomic_uring(k, op, 1, 0, &done);
	case P_MAP_BATCH:
		return katomic_map_batch(k, op, 1, 0, &done);
	}
	r = p == P_MAP_OP ? katomic_map_op(k, op) : katomic_op(k, op);
	if (r < 0) {
		op->result = 0;
		op->applied = 0;
		op->error = r;
	}
	return 0;
}

FIXTURE(map) {
	struct katomic *dev, *k, *twin;
	unsigned int ptr_bits;
};

FIXTURE_SETUP(map)
{
	struct katomic_context c = {
		.nr_counters = NR_IDS, .flags = KATOMIC_CTX_MMAP,
	};
	struct katomic_info info;
	unsigned int id;
	int r;

	self->k = self->twin = NULL;
	r = katomic_open(NULL, &self->dev);
	ASSERT_EQ(0, r) TH_LOG("/dev/katomic: %s", strerror(-r));
	ASSERT_EQ(0, katomic_info(self->dev, &info));
	ASSERT_TRUE(info.features & KATOMIC_FEAT_MMAP)
		TH_LOG("this module does not claim KATOMIC_FEAT_MMAP");
	self->ptr_bits = info.ptr_bits;
	ASSERT_EQ(0, katomic_context_new(self->dev, &c, &self->k));
	ASSERT_EQ(0, katomic_map(self->k));
	ASSERT_EQ(0, katomic_twin_new(NR_IDS, &self->twin));
	for (id = 0; id < NR_IDS; id++) {
		__u64 init = katomic_value_extend(id + 1, self->ptr_bits,
						  0x0123456789abcdefULL * (id + 1));

		ASSERT_EQ(0, katomic_define(self->k, id, id + 1, 0, init));
		ASSERT_EQ(0, katomic_define(self->twin, id, id + 1, 0, init));
	}
}

FIXTURE_TEARDOWN(map)
{
	katomic_close(self->twin);
	katomic_close(self->k);
	katomic_close(self->dev);
}

TEST_F(map, not_mappable)
{
	struct katomic_context plain = { .nr_counters = 2 };
	struct katomic *k;

	EXPECT_EQ(-ENODEV, katomic_map(self->dev));
	ASSERT_EQ(0, katomic_context_new(self->dev, &plain, &k));
	EXPECT_EQ(-ENODEV, katomic_map(k));
	katomic_close(k);
}

TEST_F(map, paths_agree)
{
	unsigned long n = env_ulong("KT_MAP_OPS", 10000), i, fails = 0;
	__u64 seed = env_ulong("KT_MAP_SEED", 0x3a9d1), x;
	unsigned long per_path[NR_PATHS] = { 0 };
	struct katomic_op a, b;
	unsigned int id, p;

	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		const struct katomic_op_desc *d;
		unsigned int op, type;

		x = next(&seed);
		op = 1 + x % KATOMIC_OP_LAST;
		id = (x >> 8) % NR_IDS;
		type = id + 1;
		d = katomic_op_desc(op);
		a = (struct katomic_op){ .id = id, .type = type, .op = op };
		if (d->operands > 0)
			a.arg = operand(type, self->ptr_bits, &seed);
		if (d->operands > 1)
			a.arg2 = operand(type, self->ptr_bits, &seed);
		if ((x >> 16) % 32 == 0)	/* out of range for 32 bits */
			a.arg |= 1ULL << 40;
		p = (x >> 24) % NR_PATHS;
		per_path[p]++;
		b = a;
		ASSERT_EQ(0, run_one(self->twin, P_IOCTL, &a));
		ASSERT_EQ(0, run_one(self->k, p, &b)) TH_LOG("%s",
							     path_name[p]);
		fails += a.error != 0;
		EXPECT_TRUE(a.result == b.result && a.applied == b.applied &&
			    a.error == b.error) {
			TH_LOG("op %lu: %s %s via %s: twin %#llx/%u/%d, device %#llx/%u/%d",
			       i, d->name, katomic_type_name(type) ?
			       katomic_type_name(type) : "?", path_name[p], (unsigned long long)a.result,
			       a.applied, a.error, (unsigned long long)b.result,
			       b.applied, b.error);
			break;
		}
	}
	/* the same values through the ioctl and through the mapping */
	for (id = 0; id < NR_IDS; id++) {
		struct katomic_op t = { .id = id, .type = id + 1,
					.op = KATOMIC_OP_LOAD };
		struct katomic_op io = t, mp = t;

		ASSERT_LE(0, katomic_op(self->twin, &t));
		ASSERT_LE(0, katomic_op(self->k, &io));
		ASSERT_LE(0, katomic_map_op(self->k, &mp));
		EXPECT_EQ(t.result, io.result);
		EXPECT_EQ(t.result, mp.result);
	}
	/* every path had its share of the sequence */
	for (p = 0; p < NR_PATHS; p++)
		EXPECT_LT(n / (2 * NR_PATHS), per_path[p]) TH_LOG("path %u", p);
	EXPECT_LT(0, fails);
	EXPECT_GT(n / 4, fails);
	TH_LOG("%lu ops over 5 paths on one mapped context, %lu refused alike",
	       n, fails);
}

/* A typed call's operands, by its count: vals i and i + 3. */
#define ARGS_0
#define ARGS_1	(__typeof__(a))vals[i],
#define ARGS_2	(__typeof__(a))vals[i], (__typeof__(a))vals[(i + 3) % 8],

/* The typed calls of both sides in turn, against the twin's. */
TEST_F(map, typed_calls_alternate)
{
	static const __u64 vals[] = {
		0, 1, 0x7fffffff, 0x80000000ULL, 0xffffffffULL,
		0x8000000000000000ULL, ~0ULL, 0xfedcba9876543210ULL,
	};
	unsigned int i, calls = 0;
	bool mapped = false;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
		do {							\
			katomic_##tname##_t a = 0, b = 0;		\
			int ra, rb;					\
									\
			ra = katomic_##name##_##tname(self->twin, tnr - 1, \
				ARGS_##operands &a);			\
			rb = mapped ?					\
				katomic_map_##name##_##tname(self->k, tnr - 1, \
					ARGS_##operands &b) :		\
				katomic_##name##_##tname(self->k, tnr - 1, \
					ARGS_##operands &b);		\
			EXPECT_EQ(ra, rb) TH_LOG(#name " " #tname);	\
			EXPECT_EQ(a, b) TH_LOG(#name " " #tname " %s",	\
					       mapped ? "mapped" : "ioctl"); \
			mapped = !mapped;				\
			calls++;					\
		} while (0);
		KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE
	}
	EXPECT_EQ(8 * KATOMIC_OP_LAST * KATOMIC_TYPE_LAST, calls);
}

TEST_HARNESS_MAIN
