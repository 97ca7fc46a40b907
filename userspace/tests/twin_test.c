// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space twin against a reference model and against the ABI's
 * error table, for every counter kind and both layouts (padded and
 * packed).  The model works on mathematical integers (__int128) and
 * reduces them into the type's range, a different road from the library's
 * bit masks; hand-computed vectors anchor both.  Every kind but PERCPU
 * must give exactly the model's (ATOMIC's) results; PERCPU has LOAD, STORE
 * and ADD (result 0) and refuses the rest with -EOPNOTSUPP.
 */
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "katomic.h"
#include "kselftest_harness.h"
#include "twin_common.h"

#define PTR_BITS	(sizeof(uintptr_t) * 8)
#define NR_COUNTERS	8

typedef __int128 mint;

/* A counter type as the model sees it, from the uapi table. */
struct mtype {
	unsigned int nr;
	const char *name;
	unsigned int bits;
	bool is_signed;
};

static const struct mtype mtypes[] = {
#define MTYPE(NAME, nr, name, bits, is_signed) \
	{ nr, #name, (bits) ? (bits) : PTR_BITS, is_signed },
	KATOMIC_TYPE_TABLE(MTYPE)
#undef MTYPE
};
#define NR_MTYPES	(sizeof(mtypes) / sizeof(mtypes[0]))

/* Every counter kind: the model says what each must do. */
static const unsigned int kinds[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK,
	KATOMIC_SYNC_MUTEX, KATOMIC_SYNC_PERCPU,
};
#define NR_KINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* The two layouts of a twin: one result for both. */
static const unsigned int layouts[] = { 0, KATOMIC_TWIN_PACKED };
#define NR_LAYOUTS	(sizeof(layouts) / sizeof(layouts[0]))
#define LAYOUT_NAME(l)	(layouts[l] ? "packed" : "padded")

/* The ABI's support matrix, written out here, not taken from the library. */
static bool kind_takes(unsigned int sync, unsigned int type)
{
	return sync != KATOMIC_SYNC_PERCPU || type == KATOMIC_TYPE_INT64 ||
	       type == KATOMIC_TYPE_UINT64;
}

static bool kind_has(unsigned int sync, unsigned int op)
{
	return sync != KATOMIC_SYNC_PERCPU || op == KATOMIC_OP_LOAD ||
	       op == KATOMIC_OP_STORE || op == KATOMIC_OP_ADD;
}

static mint m_min(const struct mtype *t)
{
	return t->is_signed ? -((mint)1 << (t->bits - 1)) : 0;
}

static mint m_max(const struct mtype *t)
{
	return ((mint)1 << (t->bits - t->is_signed)) - 1;
}

/* The number an encoded operand or result stands for. */
static mint m_value(const struct mtype *t, __u64 v)
{
	return t->is_signed ? (mint)(int64_t)v : (mint)v;
}

/* x modulo 2^bits, into the type's range, encoded. */
static __u64 m_wrap(const struct mtype *t, mint x)
{
	mint mod = (mint)1 << t->bits;

	x %= mod;
	if (x < 0)
		x += mod;
	if (x > m_max(t))
		x -= mod;
	return (__u64)x;
}

/* Whether the encoded v is a number of the type (else -EOVERFLOW). */
static bool m_fits(const struct mtype *t, __u64 v)
{
	return m_value(t, v) >= m_min(t) && m_value(t, v) <= m_max(t);
}

struct expect {
	__u64 result;
	__u64 after;
	int applied;
};

/* The ABI's counter-operations table, on numbers. */
static struct expect model(const struct mtype *t, unsigned int op,
			   __u64 before, __u64 arg, __u64 arg2)
{
	mint old = m_value(t, before), a = m_value(t, arg), b = m_value(t, arg2);
	struct expect unchanged = { before, before, 0 };
	__u64 sum = m_wrap(t, old + a);

	switch (op) {
	case KATOMIC_OP_STORE:
		return (struct expect){ 0, arg, 0 };
	case KATOMIC_OP_ADD:
		return (struct expect){ sum, sum, 0 };
	case KATOMIC_OP_SWAP:
		return (struct expect){ before, arg, 0 };
	case KATOMIC_OP_CAS:
		return old == a ? (struct expect){ before, arg2, 1 } : unchanged;
	case KATOMIC_OP_AND:
		return (struct expect){ before, m_wrap(t, old & a), 0 };
	case KATOMIC_OP_OR:
		return (struct expect){ before, m_wrap(t, old | a), 0 };
	case KATOMIC_OP_XOR:
		return (struct expect){ before, m_wrap(t, old ^ a), 0 };
	case KATOMIC_OP_MAX:
		return a > old ? (struct expect){ before, arg, 1 } : unchanged;
	case KATOMIC_OP_MIN:
		return a < old ? (struct expect){ before, arg, 1 } : unchanged;
	case KATOMIC_OP_ADD_UNLESS:
		return old != b ? (struct expect){ before, sum, 1 } : unchanged;
	}
	return unchanged;	/* LOAD */
}

/* Values at and around each type's limits, and bit patterns. */
static const mint samples[] = {
	0, 1, 2, 3, -1, -2, -3, 0x7fffffff, 0x80000000, 0xffffffff,
	0x5555555555555555, (mint)0xaaaaaaaaaaaaaaaa, 0x0123456789abcdef,
	(mint)0xfedcba9876543210,
};
#define NR_SAMPLES	(sizeof(samples) / sizeof(samples[0]) + 6)

/* samples[] and min, min + 1, max - 1, max, max / 2, max / 2 + 1, encoded. */
static void type_samples(const struct mtype *t, __u64 out[NR_SAMPLES])
{
	size_t i, n = sizeof(samples) / sizeof(samples[0]);

	for (i = 0; i < n; i++)
		out[i] = m_wrap(t, samples[i]);
	out[n++] = m_wrap(t, m_min(t));
	out[n++] = m_wrap(t, m_min(t) + 1);
	out[n++] = m_wrap(t, m_max(t) - 1);
	out[n++] = m_wrap(t, m_max(t));
	out[n++] = m_wrap(t, m_max(t) / 2);
	out[n++] = m_wrap(t, m_max(t) / 2 + 1);
}

static __u64 load(struct __test_metadata *_metadata, struct katomic *k,
		  __u32 id, unsigned int type)
{
	struct katomic_op op = { .id = id, .type = type, .op = KATOMIC_OP_LOAD };

	EXPECT_EQ(0, katomic_op(k, &op));
	return op.result;
}

/*
 * The model's answer for kind sync: the model's, except that PERCPU's ADD
 * returns 0 and its other ops are -EOPNOTSUPP (returned as applied) with
 * the counter unchanged.
 */
static struct expect kind_model(unsigned int sync, const struct mtype *t,
				unsigned int op, __u64 before, __u64 arg,
				__u64 arg2)
{
	struct expect e = model(t, op, before, arg, arg2);

	if (!kind_has(sync, op))
		return (struct expect){ 0, before, -EOPNOTSUPP };
	if (sync == KATOMIC_SYNC_PERCPU && op == KATOMIC_OP_ADD)
		e.result = 0;
	return e;
}

/* The counter check_op uses; its neighbours hold NEIGHBOUR. */
#define ID		3
#define NEIGHBOUR	0xa5a5a5a5a5a5a5a5ULL

/* Defines ID's neighbours, to see that ops on ID leave them alone. */
static void define_neighbours(struct __test_metadata *_metadata,
			      struct katomic *k)
{
	ASSERT_EQ(0, katomic_define(k, ID - 1, KATOMIC_TYPE_UINT64,
				    KATOMIC_SYNC_ATOMIC, NEIGHBOUR));
	ASSERT_EQ(0, katomic_define(k, ID + 1, KATOMIC_TYPE_UINT64,
				    KATOMIC_SYNC_ATOMIC, NEIGHBOUR));
}

static void check_neighbours(struct __test_metadata *_metadata,
			     struct katomic *k)
{
	EXPECT_EQ(NEIGHBOUR, load(_metadata, k, ID - 1, KATOMIC_TYPE_UINT64));
	EXPECT_EQ(NEIGHBOUR, load(_metadata, k, ID + 1, KATOMIC_TYPE_UINT64));
}

/*
 * Runs one op on counter ID defined with kind sync and before; checks it
 * against the model.  A failed op must leave the struct as it was.
 */
static void check_op(struct __test_metadata *_metadata, struct katomic *k,
		     unsigned int sync, const struct mtype *t,
		     unsigned int opc, __u64 before, __u64 arg, __u64 arg2)
{
	struct katomic_op op = {
		.id = ID, .type = t->nr, .op = opc, .arg = arg, .arg2 = arg2,
	};
	struct expect e = kind_model(sync, t, opc, before, arg, arg2);
	struct katomic_op copy = op;
	__u64 after;
	int ret;

	ASSERT_EQ(0, katomic_define(k, ID, t->nr, sync, before));
	ret = katomic_op(k, &op);
	after = load(_metadata, k, ID, t->nr);
	ASSERT_EQ(0, katomic_undefine(k, ID));
	if (e.applied < 0) {
		if (ret != e.applied || memcmp(&op, &copy, sizeof(op)) ||
		    after != before)
			TH_LOG("%s %s %s(before 0x%llx, arg 0x%llx, arg2 0x%llx): returned %d after 0x%llx; expected %d, unchanged",
			       katomic_sync_name(sync), katomic_op_name(opc),
			       t->name, before, arg, arg2, ret, after,
			       e.applied);
		ASSERT_EQ(e.applied, ret);
		ASSERT_EQ(0, memcmp(&op, &copy, sizeof(op)));
		ASSERT_EQ(before, after);
		return;
	}
	if (ret != e.applied || op.applied != e.applied ||
	    op.result != e.result || after != e.after || op.error)
		TH_LOG("%s %s %s(before 0x%llx, arg 0x%llx, arg2 0x%llx): returned %d applied %u result 0x%llx after 0x%llx; model: applied %d result 0x%llx after 0x%llx",
		       katomic_sync_name(sync), katomic_op_name(opc), t->name,
		       before, arg, arg2, ret, op.applied, op.result, after,
		       e.applied, e.result, e.after);
	ASSERT_EQ(e.applied, ret);
	ASSERT_EQ(e.applied, op.applied);
	ASSERT_EQ(e.result, op.result);
	ASSERT_EQ(e.after, after);
	ASSERT_EQ(0, op.error);
}

FIXTURE(twin) {
	struct katomic *k;
};

FIXTURE_SETUP(twin)
{
	ASSERT_EQ(0, katomic_twin_new(NR_COUNTERS, &self->k));
}

FIXTURE_TEARDOWN(twin)
{
	katomic_close(self->k);
}

/* One op per variant, from the op table; a twin of each layout. */
FIXTURE(twin_op) {
	struct katomic *k;		/* padded */
	struct katomic *kl[NR_LAYOUTS];	/* by layout */
	const struct katomic_op_desc *desc;
};

FIXTURE_VARIANT(twin_op) {
	unsigned int op;
};

#define OP_VARIANT(NAME, nr, name, operands, applied) \
	FIXTURE_VARIANT_ADD(twin_op, name) { .op = nr };
KATOMIC_OP_TABLE(OP_VARIANT)
#undef OP_VARIANT

FIXTURE_SETUP(twin_op)
{
	size_t l;

	self->desc = katomic_op_desc(variant->op);
	ASSERT_NE(NULL, self->desc);
	for (l = 0; l < NR_LAYOUTS; l++)
		ASSERT_EQ(0, katomic_twin_new2(NR_COUNTERS, layouts[l],
					       &self->kl[l]));
	self->k = self->kl[0];
}

FIXTURE_TEARDOWN(twin_op)
{
	size_t l;

	for (l = 0; l < NR_LAYOUTS; l++)
		katomic_close(self->kl[l]);
}

/* Every sample of t as the old value and as each operand the op reads. */
static void check_samples(struct __test_metadata *_metadata, struct katomic *k,
			  unsigned int sync, const struct mtype *t,
			  unsigned int opc, unsigned int operands)
{
	__u64 v[NR_SAMPLES];
	size_t i, j, l;

	type_samples(t, v);
	for (i = 0; i < NR_SAMPLES; i++)
		for (j = 0; j < (operands > 0 ? NR_SAMPLES : 1); j++)
			for (l = 0; l < (operands > 1 ? NR_SAMPLES : 1); l++)
				check_op(_metadata, k, sync, t, opc, v[i],
					 operands > 0 ? v[j] : 0,
					 operands > 1 ? v[l] : 0);
}

/* Every kind, layout and type; the counter's neighbours never change. */
TEST_F(twin_op, matches_model)
{
	size_t ki, lo, ti;

	for (lo = 0; lo < NR_LAYOUTS; lo++) {
		struct katomic *k = self->kl[lo];

		define_neighbours(_metadata, k);
		for (ki = 0; ki < NR_KINDS; ki++)
			for (ti = 0; ti < NR_MTYPES; ti++)
				if (kind_takes(kinds[ki], mtypes[ti].nr))
					check_samples(_metadata, k, kinds[ki],
						      &mtypes[ti], variant->op,
						      self->desc->operands);
		check_neighbours(_metadata, k);
		if (!_metadata->passed) {
			TH_LOG("layout %s", LAYOUT_NAME(lo));
			return;
		}
	}
}

/* Encoded numbers some types cannot hold. */
static const __u64 edges[] = {
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
	0xffffffff80000000, 0xffffffff7fffffff, 0x7fffffffffffffff,
	0x8000000000000000, 0xffffffffffffffff,
};

/*
 * An operand the type cannot hold is -EOVERFLOW and changes nothing; one
 * it can hold is accepted (or -EOPNOTSUPP, if the kind lacks the op).  An
 * operand the op does not read must be 0.  The operands are checked
 * before the kind is asked.
 */
static void check_operands(struct __test_metadata *_metadata, struct katomic *k,
			   unsigned int sync, const struct mtype *t,
			   unsigned int opc, unsigned int operands)
{
	bool passed = _metadata->passed;
	struct katomic_op op, copy;
	size_t i, n;
	int ret;

	ASSERT_EQ(0, katomic_define(k, 1, t->nr, sync, 7));
	for (n = 0; n < 2; n++) {
		for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			op = (struct katomic_op){ .id = 1, .type = t->nr,
						  .op = opc, .result = 0x5a5a };
			*(n ? &op.arg2 : &op.arg) = edges[i];
			copy = op;
			ret = katomic_op(k, &op);
			if (n >= operands) {
				EXPECT_EQ(-EINVAL, ret);
			} else if (!m_fits(t, edges[i])) {
				EXPECT_EQ(-EOVERFLOW, ret);
			} else if (!kind_has(sync, opc)) {
				EXPECT_EQ(-EOPNOTSUPP, ret);
			} else {
				EXPECT_LE(0, ret);
				ASSERT_EQ(0, katomic_undefine(k, 1));
				ASSERT_EQ(0, katomic_define(k, 1, t->nr, sync, 7));
				continue;
			}
			EXPECT_EQ(0, memcmp(&op, &copy, sizeof(op)));
			EXPECT_EQ(7, load(_metadata, k, 1, t->nr));
		}
	}
	ASSERT_EQ(0, katomic_undefine(k, 1));
	if (passed && !_metadata->passed)
		TH_LOG("%s %s", katomic_sync_name(sync), t->name);
}

TEST_F(twin_op, operand_checks)
{
	size_t ki, ti;

	for (ki = 0; ki < NR_KINDS; ki++)
		for (ti = 0; ti < NR_MTYPES; ti++)
			if (kind_takes(kinds[ki], mtypes[ti].nr))
				check_operands(_metadata, self->k, kinds[ki],
					       &mtypes[ti], variant->op,
					       self->desc->operands);
}

/* The op on a counter of another type, and unknown types: -EINVAL, for every kind. */
TEST_F(twin_op, type_must_match)
{
	struct katomic_op op = { .id = 2, .op = variant->op };
	size_t ki, ti;

	for (ki = 0; ki < NR_KINDS; ki++) {
		ASSERT_EQ(0, katomic_define(self->k, 2, KATOMIC_TYPE_INT64,
					    kinds[ki], 3));
		for (ti = 0; ti < NR_MTYPES; ti++) {
			op.type = mtypes[ti].nr;
			if (op.type != KATOMIC_TYPE_INT64)
				EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
		}
		op.type = 0;
		EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
		op.type = KATOMIC_TYPE_LAST + 1;
		EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
		EXPECT_EQ(3, load(_metadata, self->k, 2, KATOMIC_TYPE_INT64));
		ASSERT_EQ(0, katomic_undefine(self->k, 2));
		if (!_metadata->passed) {
			TH_LOG("%s", katomic_sync_name(kinds[ki]));
			return;
		}
	}
}

#define S(x)	((__u64)(int64_t)(x))
#define T(name)	KATOMIC_TYPE_##name
#define O(name)	KATOMIC_OP_##name

/* Worked by hand from the ABI. */
static const struct vector {
	unsigned int type, op;
	__u64 before, arg, arg2;
	__u64 result, after;
	int applied;
} vectors[] = {
	/* wraparound at the limits */
	{ T(INT32), O(ADD), 0x7fffffff, 1, 0, S(-0x80000000LL), S(-0x80000000LL), 0 },
	{ T(INT32), O(ADD), S(-0x80000000LL), S(-1), 0, 0x7fffffff, 0x7fffffff, 0 },
	{ T(UINT32), O(ADD), 0, 0xffffffff, 0, 0xffffffff, 0xffffffff, 0 },
	{ T(UINT32), O(ADD), 5, 0xffffffff, 0, 4, 4, 0 },
	{ T(UINT32), O(ADD), 0xffffffff, 1, 0, 0, 0, 0 },
	{ T(INT64), O(ADD), INT64_MAX, 1, 0, S(INT64_MIN), S(INT64_MIN), 0 },
	{ T(UINT64), O(ADD), UINT64_MAX, 2, 0, 1, 1, 0 },
	{ T(UINTPTR), O(ADD), UINTPTR_MAX, 1, 0, 0, 0, 0 },
	{ T(INT32), O(ADD_UNLESS), 0x7fffffff, 1, 0, 0x7fffffff, S(INT32_MIN), 1 },
	/* results: INT32 sign-extended, UINT32 zero-extended */
	{ T(INT32), O(LOAD), S(-2), 0, 0, 0xfffffffffffffffe, S(-2), 0 },
	{ T(INT32), O(SWAP), S(-1), 7, 0, 0xffffffffffffffff, 7, 0 },
	{ T(UINT32), O(SWAP), 0xffffffff, 1, 0, 0x00000000ffffffff, 1, 0 },
	{ T(UINT32), O(LOAD), 0x80000000, 0, 0, 0x0000000080000000, 0x80000000, 0 },
	{ T(UINT64), O(STORE), 9, 3, 0, 0, 3, 0 },
	/* CAS */
	{ T(INT32), O(CAS), S(-1), S(-1), 0, S(-1), 0, 1 },
	{ T(UINT32), O(CAS), 0xffffffff, 0xffffffff, 5, 0xffffffff, 5, 1 },
	{ T(INT64), O(CAS), 5, 6, 7, 5, 5, 0 },
	{ T(UINT64), O(CAS), UINT64_MAX, UINT64_MAX, 0, UINT64_MAX, 0, 1 },
	/* bit ops return the old value */
	{ T(UINT32), O(AND), 0xf0f0f0f0, 0xff00ff00, 0, 0xf0f0f0f0, 0xf000f000, 0 },
	{ T(INT32), O(OR), 0x0f, S(-256), 0, 0x0f, S(-241), 0 },
	{ T(INT32), O(XOR), S(-1), 0x7fffffff, 0, S(-1), S(INT32_MIN), 0 },
	{ T(UINT64), O(XOR), 0xff00, 0x0ff0, 0, 0xff00, 0xf0f0, 0 },
	/* MAX and MIN: signed for INT types, unsigned otherwise */
	{ T(INT32), O(MAX), S(-1), 1, 0, S(-1), 1, 1 },
	{ T(UINT32), O(MAX), 0xffffffff, 1, 0, 0xffffffff, 0xffffffff, 0 },
	{ T(INT64), O(MIN), 1, S(-1), 0, 1, S(-1), 1 },
	{ T(UINT64), O(MIN), 1, UINT64_MAX, 0, 1, 1, 0 },
	{ T(UINTPTR), O(MAX), 1, UINTPTR_MAX, 0, 1, UINTPTR_MAX, 1 },
	{ T(INT32), O(MAX), 5, 5, 0, 5, 5, 0 },
	{ T(INT32), O(MIN), 5, 5, 0, 5, 5, 0 },
	/* ADD_UNLESS: applied iff old != unless, even when adding 0 */
	{ T(INT32), O(ADD_UNLESS), 5, 1, 5, 5, 5, 0 },
	{ T(INT32), O(ADD_UNLESS), 4, 1, 5, 4, 5, 1 },
	{ T(INT32), O(ADD_UNLESS), 5, 0, 4, 5, 5, 1 },
	{ T(UINT32), O(ADD_UNLESS), 0, 0xffffffff, 1, 0, 0xffffffff, 1 },
};

/* Every kind that has all the ops (all but PERCPU). */
TEST_F(twin, vectors)
{
	struct katomic_op op;
	size_t ki, i;
	int ret;

	for (ki = 0; ki < NR_KINDS; ki++) {
		if (kinds[ki] == KATOMIC_SYNC_PERCPU)
			continue;
		for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
			const struct vector *v = &vectors[i];

			ASSERT_EQ(0, katomic_define(self->k, 3, v->type,
						    kinds[ki], v->before));
			op = (struct katomic_op){ .id = 3, .type = v->type,
						  .op = v->op, .arg = v->arg,
						  .arg2 = v->arg2 };
			ret = katomic_op(self->k, &op);
			if (ret != v->applied || op.result != v->result)
				TH_LOG("vector %zu: %s %s %s", i,
				       katomic_sync_name(kinds[ki]),
				       katomic_op_name(v->op),
				       katomic_type_name(v->type));
			EXPECT_EQ(v->applied, ret);
			EXPECT_EQ(v->result, op.result);
			EXPECT_EQ(v->after, load(_metadata, self->k, 3, v->type));
			ASSERT_EQ(0, katomic_undefine(self->k, 3));
		}
	}
}

/* Runs op with arg on counter 0 and returns the result; checks it ran. */
static __u64 run(struct __test_metadata *_metadata, struct katomic *k,
		 const struct mtype *t, unsigned int opc, __u64 arg)
{
	struct katomic_op op = { .type = t->nr, .op = opc, .arg = arg };

	EXPECT_EQ(0, katomic_op(k, &op));
	return op.result;
}

/*
 * OR in, AND out and XOR each bit in turn, checking every old value, on
 * every kind that has the bit ops.
 */
static void bit_sweeps(struct __test_metadata *_metadata, struct katomic *k,
		       unsigned int sync)
{
	unsigned int bit;
	size_t ti;
	mint acc;

	for (ti = 0; ti < NR_MTYPES; ti++) {
		const struct mtype *t = &mtypes[ti];
		__u64 ones = t->is_signed || t->bits == 64 ?
			     UINT64_MAX : (UINT64_C(1) << t->bits) - 1;

		ASSERT_EQ(0, katomic_define(k, 0, t->nr, sync, 0));
		for (acc = 0, bit = 0; bit < t->bits; bit++) {
			EXPECT_EQ(m_wrap(t, acc),
				  run(_metadata, k, t, KATOMIC_OP_OR,
				      m_wrap(t, (mint)1 << bit)));
			acc |= (mint)1 << bit;
		}
		EXPECT_EQ(ones, load(_metadata, k, 0, t->nr));
		for (bit = 0; bit < t->bits; bit++) {
			EXPECT_EQ(m_wrap(t, acc),
				  run(_metadata, k, t, KATOMIC_OP_AND,
				      m_wrap(t, ~((mint)1 << bit))));
			acc &= ~((mint)1 << bit);
		}
		EXPECT_EQ(0, load(_metadata, k, 0, t->nr));
		for (bit = 0; bit < 2 * t->bits; bit++) {
			EXPECT_EQ(m_wrap(t, acc),
				  run(_metadata, k, t, KATOMIC_OP_XOR,
				      m_wrap(t, (mint)1 << bit % t->bits)));
			acc ^= (mint)1 << bit % t->bits;
		}
		EXPECT_EQ(0, load(_metadata, k, 0, t->nr));
		ASSERT_EQ(0, katomic_undefine(k, 0));
		if (!_metadata->passed) {
			TH_LOG("%s %s", katomic_sync_name(sync), t->name);
			return;
		}
	}
}

TEST_F(twin, bit_sweeps)
{
	size_t ki;

	for (ki = 0; ki < NR_KINDS; ki++)
		if (kinds[ki] != KATOMIC_SYNC_PERCPU)
			bit_sweeps(_metadata, self->k, kinds[ki]);
}

TEST_F(twin, define_errors)
{
	struct katomic_define d = {
		.id = 1, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_INT32,
	};
	unsigned int sync;
	size_t ti, i;

	EXPECT_EQ(-EINVAL, katomic_define(self->k, NR_COUNTERS, KATOMIC_TYPE_INT32, 0, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, UINT32_MAX, KATOMIC_TYPE_INT32, 0, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, 1, 0, 0, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, 1, KATOMIC_TYPE_LAST + 1, 0, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, 1, 255, 0, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, 1, 256 + KATOMIC_TYPE_INT32, 0, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, 1, KATOMIC_TYPE_INT32,
					  KATOMIC_SYNC_LAST + 1, 0));
	EXPECT_EQ(-EINVAL, katomic_define(self->k, 1, KATOMIC_TYPE_INT32, 255, 0));
	/*
	 * Every counter kind defines every type, but PERCPU only INT64 and
	 * UINT64; RCU and SEQLOCK are slot kinds.
	 */
	for (sync = 0; sync <= KATOMIC_SYNC_LAST; sync++) {
		for (ti = 0; ti < NR_MTYPES; ti++) {
			int ret = katomic_define(self->k, 1, mtypes[ti].nr,
						 sync, 0);

			if (sync == KATOMIC_SYNC_RCU ||
			    sync == KATOMIC_SYNC_SEQLOCK ||
			    !kind_takes(sync, mtypes[ti].nr)) {
				EXPECT_EQ(-EOPNOTSUPP, ret);
				continue;
			}
			EXPECT_EQ(0, ret);
			EXPECT_EQ(0, katomic_undefine(self->k, 1));
		}
	}
	/* Every field of the struct is checked. */
	EXPECT_EQ(0, katomic_define_raw(self->k, &d));
	EXPECT_EQ(-EEXIST, katomic_define_raw(self->k, &d));
	EXPECT_EQ(0, katomic_undefine(self->k, 1));
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, flags, 1);
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, reserved, 1);
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, param, 1);
	for (i = 0; i < 4; i++) {
		d.object = (unsigned char[]){ 0, 3, 255, KATOMIC_OBJ_VALUE }[i];
		EXPECT_EQ(i < 3 ? -EINVAL : -EOPNOTSUPP,
			  katomic_define_raw(self->k, &d));
	}
	/* None of that defined it. */
	EXPECT_EQ(-ENOENT, katomic_query(self->k, 1, NULL, NULL));
	/* init must be representable. */
	for (ti = 0; ti < NR_MTYPES; ti++) {
		for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			int ret = katomic_define(self->k, 1, mtypes[ti].nr,
						 KATOMIC_SYNC_DEFAULT, edges[i]);

			if (!m_fits(&mtypes[ti], edges[i])) {
				EXPECT_EQ(-EOVERFLOW, ret);
				continue;
			}
			EXPECT_EQ(0, ret);
			EXPECT_EQ(edges[i], load(_metadata, self->k, 1, mtypes[ti].nr));
			EXPECT_EQ(0, katomic_undefine(self->k, 1));
		}
	}
}

/*
 * Where several faults are present, the module's order (kinds.md): id,
 * flags, reserved, type, sync (-EINVAL); kind and type (-EOPNOTSUPP);
 * param (-EINVAL); init (-EOVERFLOW); defined (-EEXIST).
 */
TEST_F(twin, define_errno_order)
{
	struct katomic_define d = {
		.id = NR_COUNTERS, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_INT32, .sync = KATOMIC_SYNC_PERCPU,
		.init = 0x100000000, .param = 1,
	};

	ASSERT_EQ(0, katomic_define(self->k, 1, KATOMIC_TYPE_INT32,
				    KATOMIC_SYNC_ATOMIC, 0));
	/* step 1 before all the rest */
	EXPECT_EQ(-EINVAL, katomic_define_raw(self->k, &d));
	d.id = 1;
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, flags, 1);
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, reserved, 1);
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, type, 0);
	EXPECT_EINVAL_WITH(katomic_define_raw, self->k, d, sync,
			   KATOMIC_SYNC_LAST + 1);
	/* step 2: PERCPU's type, slot kinds; before param and init */
	d.sync = KATOMIC_SYNC_PERCPU;
	EXPECT_EQ(-EOPNOTSUPP, katomic_define_raw(self->k, &d));
	d.sync = KATOMIC_SYNC_RCU;
	EXPECT_EQ(-EOPNOTSUPP, katomic_define_raw(self->k, &d));
	d.sync = KATOMIC_SYNC_SEQLOCK;
	EXPECT_EQ(-EOPNOTSUPP, katomic_define_raw(self->k, &d));
	/* step 3: param; before init and -EEXIST */
	d.sync = KATOMIC_SYNC_SPINLOCK;
	EXPECT_EQ(-EINVAL, katomic_define_raw(self->k, &d));
	d.sync = KATOMIC_SYNC_NONE;
	d.param = 1000001;
	EXPECT_EQ(-EINVAL, katomic_define_raw(self->k, &d));
	/* step 4: init; before -EEXIST (counter 1 is defined) */
	d.param = 1000000;
	EXPECT_EQ(-EOVERFLOW, katomic_define_raw(self->k, &d));
	d.init = 0;
	EXPECT_EQ(-EEXIST, katomic_define_raw(self->k, &d));
	/* Counter 1 is still the ATOMIC counter it was. */
	EXPECT_EQ(0, katomic_query_raw(self->k, &d));
	EXPECT_EQ(KATOMIC_SYNC_ATOMIC, d.sync);
	EXPECT_EQ(0, d.param);
}

/*
 * param: NONE's delay, 0..1,000,000 ns; every other kind takes 0 only.
 * QUERY reports it (0 for the other kinds), and it goes with UNDEFINE.
 */
TEST_F(twin, param_and_query)
{
	static const __u64 params[] = { 1, 2, 999999, 1000000, 1000001,
					UINT32_MAX, 1ULL << 32, UINT64_MAX };
	struct katomic_define d = {
		.id = 5, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_INT64,
	};
	size_t i, ki;

	for (ki = 0; ki < NR_KINDS; ki++) {
		d.sync = kinds[ki];
		for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
			d.param = params[i];
			if (kinds[ki] != KATOMIC_SYNC_NONE ||
			    params[i] > 1000000) {
				EXPECT_EQ(-EINVAL, katomic_define_raw(self->k, &d));
				continue;
			}
			ASSERT_EQ(0, katomic_define_raw(self->k, &d));
			d = (struct katomic_define){
				.id = 5, .object = KATOMIC_OBJ_COUNTER,
			};
			EXPECT_EQ(0, katomic_query_raw(self->k, &d));
			EXPECT_EQ(KATOMIC_TYPE_INT64, d.type);
			EXPECT_EQ(KATOMIC_SYNC_NONE, d.sync);
			EXPECT_EQ(params[i], d.param);
			EXPECT_EQ(0, katomic_undefine(self->k, 5));
		}
		d.param = 0;
		ASSERT_EQ(0, katomic_define_raw(self->k, &d));
		d.param = 77;
		EXPECT_EQ(0, katomic_query_raw(self->k, &d));
		EXPECT_EQ(kinds[ki], d.sync);
		EXPECT_EQ(0, d.param);
		EXPECT_EQ(0, katomic_undefine(self->k, 5));
	}
	/* A later ATOMIC counter of the id does not inherit NONE's delay. */
	d.sync = KATOMIC_SYNC_NONE;
	d.param = 1000;
	ASSERT_EQ(0, katomic_define_raw(self->k, &d));
	EXPECT_EQ(0, katomic_undefine(self->k, 5));
	ASSERT_EQ(0, katomic_define(self->k, 5, KATOMIC_TYPE_INT64,
				    KATOMIC_SYNC_DEFAULT, 0));
	d.param = 77;
	EXPECT_EQ(0, katomic_query_raw(self->k, &d));
	EXPECT_EQ(KATOMIC_SYNC_ATOMIC, d.sync);
	EXPECT_EQ(0, d.param);
}

/* ns since an arbitrary point. */
static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * NONE waits param ns between its load and its store: N ops that store
 * take at least N * param.  Ops that do not store (LOAD, a CAS that fails)
 * do not wait: 2000 of them take less than the 2 s they would if they did.
 */
TEST_F(twin, none_delay)
{
	struct katomic_define d = {
		.id = 6, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_UINT32, .sync = KATOMIC_SYNC_NONE,
		.param = 1000000,
	};
	struct katomic_op op = { .id = 6, .type = KATOMIC_TYPE_UINT32 };
	int64_t start;
	int i;

	ASSERT_EQ(0, katomic_define_raw(self->k, &d));
	start = now_ns();
	for (i = 0; i < 10; i++) {
		op.op = KATOMIC_OP_ADD;
		op.arg = 1;
		EXPECT_EQ(0, katomic_op(self->k, &op));
		EXPECT_EQ(i + 1, op.result);
	}
	EXPECT_LE(10 * 1000000, now_ns() - start);
	start = now_ns();
	for (i = 0; i < 1000; i++) {
		op = (struct katomic_op){ .id = 6, .type = KATOMIC_TYPE_UINT32,
					  .op = KATOMIC_OP_LOAD };
		EXPECT_EQ(0, katomic_op(self->k, &op));
		op = (struct katomic_op){ .id = 6, .type = KATOMIC_TYPE_UINT32,
					  .op = KATOMIC_OP_CAS, .arg = 0,
					  .arg2 = 1 };
		EXPECT_EQ(0, katomic_op(self->k, &op));
	}
	EXPECT_GT(2000 * (int64_t)1000000, now_ns() - start);
	EXPECT_EQ(10, load(_metadata, self->k, 6, KATOMIC_TYPE_UINT32));
}

/* A fixed-seed xorshift: the same sequence on every run. */
static __u64 next_random(__u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/*
 * PERCPU against ATOMIC: the same LOAD, STORE and ADD sequence on a
 * PERCPU and an ATOMIC counter of each 64-bit type, in both layouts.
 * PERCPU's ADD returns 0, its LOAD the ATOMIC counter's value (through
 * wraparound and negative deltas); every other op is -EOPNOTSUPP, writes
 * nothing back and leaves the counter unchanged.
 */
TEST(percpu_ops)
{
	static const unsigned int types[] = {
		KATOMIC_TYPE_INT64, KATOMIC_TYPE_UINT64,
	};
	static const __u64 inits[] = { 0, 5, INT64_MAX, S(INT64_MIN), S(-1) };
	struct katomic_op op, ref, copy;
	__u64 state = 0x9e3779b97f4a7c15, r;
	size_t lo, ti, ii, i;
	struct katomic *k;
	unsigned int o;

	for (lo = 0; lo < NR_LAYOUTS; lo++) {
		ASSERT_EQ(0, katomic_twin_new2(2, layouts[lo], &k));
		for (ti = 0; ti < 2; ti++) {
			for (ii = 0; ii < sizeof(inits) / sizeof(inits[0]); ii++) {
				__u64 init = inits[ii];	/* fits both types */

				ASSERT_EQ(0, katomic_define(k, 0, types[ti],
						KATOMIC_SYNC_PERCPU, init));
				ASSERT_EQ(0, katomic_define(k, 1, types[ti],
						KATOMIC_SYNC_ATOMIC, init));
				for (i = 0; i < 2000; i++) {
					r = next_random(&state);
					o = r % 8 < 5 ? KATOMIC_OP_ADD :
					    r % 8 < 7 ? KATOMIC_OP_LOAD :
					    KATOMIC_OP_STORE;
					op = (struct katomic_op){
						.type = types[ti], .op = o,
					};
					if (o != KATOMIC_OP_LOAD)
						op.arg = r >> 20 & 1 ? r >> 40 :
							 S(-(int64_t)(r >> 40));
					if (types[ti] == KATOMIC_TYPE_INT64 &&
					    (r & 0xff) == 0)
						op.arg = r & 0x100 ? INT64_MAX :
							 S(INT64_MIN);
					ref = op;
					ref.id = 1;
					EXPECT_EQ(0, katomic_op(k, &op));
					EXPECT_EQ(0, katomic_op(k, &ref));
					EXPECT_EQ(0, op.applied);
					EXPECT_EQ(o == KATOMIC_OP_LOAD ? ref.result : 0,
						  op.result);
					EXPECT_EQ(load(_metadata, k, 1, types[ti]),
						  load(_metadata, k, 0, types[ti]));
					if (!_metadata->passed) {
						TH_LOG("%s %s %s, step %zu: %s 0x%llx",
						       LAYOUT_NAME(lo),
						       katomic_type_name(types[ti]),
						       katomic_op_name(o), i,
						       katomic_op_name(o), op.arg);
						katomic_close(k);
						return;
					}
				}
				/* The ops PERCPU lacks, with valid operands. */
				r = load(_metadata, k, 0, types[ti]);
				for (o = 1; o <= KATOMIC_OP_LAST; o++) {
					if (kind_has(KATOMIC_SYNC_PERCPU, o))
						continue;
					op = (struct katomic_op){
						.type = types[ti], .op = o,
						.arg = katomic_op_desc(o)->operands ? r : 0,
						.arg2 = katomic_op_desc(o)->operands > 1 ? 1 : 0,
						.result = 0x5a5a,
					};
					copy = op;
					EXPECT_EQ(-EOPNOTSUPP, katomic_op(k, &op));
					EXPECT_EQ(0, memcmp(&op, &copy, sizeof(op)));
					EXPECT_EQ(r, load(_metadata, k, 0, types[ti]));
				}
				ASSERT_EQ(0, katomic_undefine(k, 0));
				ASSERT_EQ(0, katomic_undefine(k, 1));
			}
		}
		katomic_close(k);
	}
}

/* Hand-computed PERCPU steps. */
TEST(percpu_vectors)
{
	struct katomic *k;
	int64_t i64;
	uint64_t u64;

	ASSERT_EQ(0, katomic_twin_new(2, &k));
	ASSERT_EQ(0, katomic_define(k, 0, KATOMIC_TYPE_INT64,
				    KATOMIC_SYNC_PERCPU, 10));
	ASSERT_EQ(0, katomic_define(k, 1, KATOMIC_TYPE_UINT64,
				    KATOMIC_SYNC_PERCPU, UINT64_MAX));
	i64 = 99;
	EXPECT_EQ(0, katomic_add_int64(k, 0, -15, &i64));
	EXPECT_EQ(0, i64);
	EXPECT_EQ(0, katomic_load_int64(k, 0, &i64));
	EXPECT_EQ(-5, i64);
	EXPECT_EQ(0, katomic_add_int64(k, 0, INT64_MIN, NULL));
	EXPECT_EQ(0, katomic_load_int64(k, 0, &i64));
	EXPECT_EQ(INT64_MAX - 4, i64);
	EXPECT_EQ(0, katomic_store_int64(k, 0, 3, &i64));
	EXPECT_EQ(0, i64);
	EXPECT_EQ(0, katomic_load_int64(k, 0, &i64));
	EXPECT_EQ(3, i64);
	EXPECT_EQ(-EOPNOTSUPP, katomic_swap_int64(k, 0, 1, &i64));
	EXPECT_EQ(-EOPNOTSUPP, katomic_cas_int64(k, 0, 3, 4, &i64));
	EXPECT_EQ(-EOPNOTSUPP, katomic_max_int64(k, 0, 9, &i64));
	EXPECT_EQ(-EOPNOTSUPP, katomic_add_unless_int64(k, 0, 1, 0, &i64));
	EXPECT_EQ(0, katomic_load_int64(k, 0, &i64));
	EXPECT_EQ(3, i64);
	EXPECT_EQ(0, katomic_add_uint64(k, 1, 2, &u64));
	EXPECT_EQ(0, u64);
	EXPECT_EQ(0, katomic_load_uint64(k, 1, &u64));
	EXPECT_EQ(1, u64);
	EXPECT_EQ(-EOPNOTSUPP, katomic_or_uint64(k, 1, 6, &u64));
	EXPECT_EQ(-EOPNOTSUPP, katomic_and_uint64(k, 1, 0, &u64));
	EXPECT_EQ(-EOPNOTSUPP, katomic_xor_uint64(k, 1, 1, &u64));
	EXPECT_EQ(-EOPNOTSUPP, katomic_min_uint64(k, 1, 0, &u64));
	EXPECT_EQ(0, katomic_load_uint64(k, 1, &u64));
	EXPECT_EQ(1, u64);
	katomic_close(k);
}

#define SEQ_COUNTERS	24
#define SEQ_OPS		50000

/* Counter id's type and kind in layout_same: every kind, type and neighbour. */
static void seq_counter(unsigned int id, unsigned int *type, unsigned int *sync)
{
	*sync = kinds[id % NR_KINDS];
	*type = mtypes[id / NR_KINDS % NR_MTYPES].nr;
	if (!kind_takes(*sync, *type))
		*type = id & 1 ? KATOMIC_TYPE_INT64 : KATOMIC_TYPE_UINT64;
}

/*
 * One pseudo-random sequence of every op on counters of every kind and
 * type, side by side, on three twins: padded, packed, and a padded one
 * whose counters are all ATOMIC but the PERCPU ones.  Every op gives the
 * same return, result and applied on all three, and the counters end
 * equal: the layout changes no result, and every kind but PERCPU is
 * ATOMIC to a single thread.
 */
TEST(layout_same)
{
	struct katomic *k[3];
	struct katomic_op op[3];
	__u64 state = 0x2545f4914f6cdd1d, r, v[NR_SAMPLES];
	unsigned int id, type, sync, o;
	int ret[3];
	size_t i, j;

	ASSERT_EQ(0, katomic_twin_new2(SEQ_COUNTERS, 0, &k[0]));
	ASSERT_EQ(0, katomic_twin_new2(SEQ_COUNTERS, KATOMIC_TWIN_PACKED, &k[1]));
	ASSERT_EQ(0, katomic_twin_new2(SEQ_COUNTERS, 0, &k[2]));
	for (id = 0; id < SEQ_COUNTERS; id++) {
		seq_counter(id, &type, &sync);
		for (j = 0; j < 3; j++)
			ASSERT_EQ(0, katomic_define(k[j], id, type,
				j < 2 || sync == KATOMIC_SYNC_PERCPU ? sync :
				KATOMIC_SYNC_ATOMIC, 0));
	}
	for (i = 0; i < SEQ_OPS; i++) {
		r = next_random(&state);
		id = r % SEQ_COUNTERS;
		o = r / SEQ_COUNTERS % KATOMIC_OP_LAST + 1;
		seq_counter(id, &type, &sync);
		type_samples(&mtypes[type - 1], v);
		op[0] = (struct katomic_op){ .id = id, .type = type, .op = o };
		/* small operands half the time, so that CAS and ADD_UNLESS hit */
		if (katomic_op_desc(o)->operands > 0)
			op[0].arg = r >> 32 & 1 ? v[(r >> 33) % NR_SAMPLES] :
					r >> 34 & 3;
		if (katomic_op_desc(o)->operands > 1)
			op[0].arg2 = r >> 40 & 1 ? v[(r >> 41) % NR_SAMPLES] :
					 r >> 42 & 3;
		for (j = 0; j < 3; j++) {
			op[j] = op[0];
			ret[j] = katomic_op(k[j], &op[j]);
		}
		for (j = 1; j < 3; j++) {
			if (ret[j] != ret[0] || op[j].result != op[0].result)
				TH_LOG("step %zu: %s %s %s on %u: twin %zu returned %d result 0x%llx, twin 0 %d 0x%llx",
				       i, katomic_sync_name(sync),
				       katomic_op_name(o), katomic_type_name(type),
				       id, j, ret[j], op[j].result, ret[0],
				       op[0].result);
			ASSERT_EQ(ret[0], ret[j]);
			ASSERT_EQ(0, memcmp(&op[0], &op[j], sizeof(op[0])));
		}
		EXPECT_EQ(kind_has(sync, o) ? 0 : -EOPNOTSUPP,
			  ret[0] < 0 ? ret[0] : 0);
	}
	for (id = 0; id < SEQ_COUNTERS; id++) {
		seq_counter(id, &type, &sync);
		r = load(_metadata, k[0], id, type);
		EXPECT_EQ(r, load(_metadata, k[1], id, type));
		EXPECT_EQ(r, load(_metadata, k[2], id, type));
	}
	for (j = 0; j < 3; j++)
		katomic_close(k[j]);
}

/* katomic_twin_new2's flags; katomic_twin_new is flags 0. */
TEST(twin_new2)
{
	struct katomic *k = (struct katomic *)&k, *keep = k;
	static const unsigned int bad[] = { 2, 4, 0x80000000, ~0U,
					    KATOMIC_TWIN_PACKED | 2 };
	static const unsigned int sizes[] = { 0, 1, 9 };
	struct katomic_info info;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, katomic_twin_new2(4, bad[i], &k));
		EXPECT_EQ(keep, k);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_EQ(0, katomic_twin_new2(sizes[i], KATOMIC_TWIN_PACKED,
					       &k));
		EXPECT_EQ(0, katomic_info(k, &info));
		EXPECT_EQ(sizes[i], info.nr_counters);
		EXPECT_EQ(TWIN_FEATURES, info.features);
		EXPECT_EQ(-1, katomic_fd(k));
		katomic_close(k);
	}
}

#define LEAK_ROUNDS	2000
#define LEAK_SLACK	(16 * 1024)	/* < LEAK_ROUNDS * the smallest block */

/*
 * UNDEFINE and katomic_close give back what DEFINE and katomic_twin_new2
 * took, for every kind and layout: LEAK_ROUNDS rounds of each leave the
 * heap as it was, give or take malloc's caches.
 */
TEST(no_leaks)
{
	unsigned int id, round;
	struct katomic *k;
	ssize_t before;
	size_t ki, lo;

	for (lo = 0; lo < NR_LAYOUTS; lo++) {
		ASSERT_EQ(0, katomic_twin_new2(NR_KINDS, layouts[lo], &k));
		before = heap_in_use();
		for (round = 0; round < LEAK_ROUNDS; round++) {
			for (ki = 0; ki < NR_KINDS; ki++)
				ASSERT_EQ(0, katomic_define(k, ki,
					KATOMIC_TYPE_UINT64, kinds[ki], round));
			ASSERT_EQ(0, katomic_add_uint64(k, NR_KINDS - 1, 1, NULL));
			for (ki = 0; ki < NR_KINDS; ki++)
				ASSERT_EQ(0, katomic_undefine(k, ki));
		}
		EXPECT_GT(LEAK_SLACK, heap_in_use() - before);
		katomic_close(k);

		before = heap_in_use();
		for (round = 0; round < LEAK_ROUNDS; round++) {
			ASSERT_EQ(0, katomic_twin_new2(4 * NR_KINDS,
						       layouts[lo], &k));
			for (id = 0; id < 4 * NR_KINDS; id++)
				ASSERT_EQ(0, katomic_define(k, id,
					KATOMIC_TYPE_INT64, kinds[id % NR_KINDS],
					id));
			katomic_close(k);
		}
		EXPECT_GT(LEAK_SLACK, heap_in_use() - before);
		if (!_metadata->passed) {
			TH_LOG("layout %s", LAYOUT_NAME(lo));
			return;
		}
	}
}

/*
 * PERCPU's DEFINE without memory: with the address space capped at what
 * the process has, DEFINEs of PERCPU counters end in -ENOMEM; that one
 * took nothing, left the counter undefined, and the id can be defined
 * once memory is there again.
 */
TEST(percpu_enomem)
{
	const unsigned int n = 8192;	/* 8192 * 4 KiB of shards: past any slack */
	ssize_t before = 0, after;
	struct rlimit old;
	struct katomic *k;
	unsigned int id;
	int ret = 0;

	ASSERT_EQ(0, katomic_twin_new(n, &k));
	cap_address_space(_metadata, 0, &old);
	for (id = 0; id < n; id++) {
		before = heap_in_use();
		ret = katomic_define(k, id, KATOMIC_TYPE_INT64,
				     KATOMIC_SYNC_PERCPU, id);
		if (ret)
			break;
	}
	after = heap_in_use();
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	TH_LOG("%u PERCPU counters defined before -ENOMEM", id);
	ASSERT_EQ(-ENOMEM, ret);
	/* no shards (4 KiB) were kept */
	EXPECT_GT(KATOMIC_TWIN_SHARDS * 64, after - before);
	EXPECT_EQ(-ENOENT, katomic_query(k, id, NULL, NULL));
	EXPECT_EQ(0, katomic_define(k, id, KATOMIC_TYPE_INT64,
				    KATOMIC_SYNC_PERCPU, 7));
	EXPECT_EQ(7, load(_metadata, k, id, KATOMIC_TYPE_INT64));
	if (id)
		EXPECT_EQ(id - 1, load(_metadata, k, id - 1, KATOMIC_TYPE_INT64));
	katomic_close(k);
}

TEST_F(twin, undefine_and_query)
{
	struct katomic_define d = { .id = 2, .object = KATOMIC_OBJ_COUNTER };
	unsigned int type = 0, sync = 0;

	EXPECT_EQ(-ENOENT, katomic_undefine(self->k, 2));
	EXPECT_EQ(-ENOENT, katomic_query(self->k, 2, &type, &sync));
	EXPECT_EQ(-EINVAL, katomic_undefine(self->k, NR_COUNTERS));
	EXPECT_EQ(-EINVAL, katomic_query(self->k, NR_COUNTERS, NULL, NULL));

	/* QUERY reports the resolved kind, never DEFAULT. */
	ASSERT_EQ(0, katomic_define(self->k, 2, KATOMIC_TYPE_UINTPTR,
				    KATOMIC_SYNC_DEFAULT, 0));
	EXPECT_EQ(0, katomic_query(self->k, 2, &type, &sync));
	EXPECT_EQ(KATOMIC_TYPE_UINTPTR, type);
	EXPECT_EQ(KATOMIC_SYNC_ATOMIC, sync);

	/* QUERY ignores its out fields on input, checks the rest. */
	d.type = 77;
	d.sync = 77;
	d.param = 77;
	EXPECT_EQ(0, katomic_query_raw(self->k, &d));
	EXPECT_EQ(KATOMIC_TYPE_UINTPTR, d.type);
	EXPECT_EQ(KATOMIC_SYNC_ATOMIC, d.sync);
	EXPECT_EQ(0, d.param);
	EXPECT_EINVAL_WITH(katomic_query_raw, self->k, d, flags, 1);
	EXPECT_EINVAL_WITH(katomic_query_raw, self->k, d, init, 1);

	/* UNDEFINE takes id and object, all else 0. */
	d = (struct katomic_define){ .id = 2, .object = KATOMIC_OBJ_COUNTER };
	EXPECT_EINVAL_WITH(katomic_undefine_raw, self->k, d, type,
			   KATOMIC_TYPE_UINTPTR);
	EXPECT_EINVAL_WITH(katomic_undefine_raw, self->k, d, init, 1);
	EXPECT_EQ(0, katomic_undefine_raw(self->k, &d));
	EXPECT_EQ(-ENOENT, katomic_undefine_raw(self->k, &d));

	/* Undefined, the id takes a new type. */
	ASSERT_EQ(0, katomic_define(self->k, 2, KATOMIC_TYPE_INT32,
				    KATOMIC_SYNC_ATOMIC, S(-9)));
	EXPECT_EQ(S(-9), load(_metadata, self->k, 2, KATOMIC_TYPE_INT32));
}

TEST_F(twin, op_errors)
{
	struct katomic_op op = { .id = 4, .type = KATOMIC_TYPE_UINT32,
				 .op = KATOMIC_OP_ADD, .arg = 1 };
	struct katomic_op copy;
	unsigned int i;

	EXPECT_EQ(-ENOENT, katomic_op(self->k, &op));
	ASSERT_EQ(0, katomic_define(self->k, 4, KATOMIC_TYPE_UINT32,
				    KATOMIC_SYNC_ATOMIC, 10));

	op.id = NR_COUNTERS;
	EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
	op.id = 4;
	for (i = 0; i < 3; i++) {
		op.op = (unsigned char[]){ 0, KATOMIC_OP_LAST + 1, 255 }[i];
		EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
	}
	op.op = KATOMIC_OP_ADD;
	op.flags = 1;
	EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
	op.flags = 0;
	op.reserved = 1;
	copy = op;
	EXPECT_EQ(-EINVAL, katomic_op(self->k, &op));
	/* After an error the struct is not written back. */
	EXPECT_EQ(0, memcmp(&op, &copy, sizeof(op)));
	op.reserved = 0;
	EXPECT_EQ(10, load(_metadata, self->k, 4, KATOMIC_TYPE_UINT32));

	/* Out fields are ignored on input and all written on success. */
	op.applied = 1;
	op.result = 12345;
	op.error = -1;
	EXPECT_EQ(0, katomic_op(self->k, &op));
	EXPECT_EQ(0, op.applied);
	EXPECT_EQ(11, op.result);
	EXPECT_EQ(0, op.error);
}

TEST_F(twin, info)
{
	struct katomic_info info;
	struct katomic *empty;
	unsigned int i;

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, katomic_info(self->k, &info));
	EXPECT_EQ(KATOMIC_ABI_VERSION, info.abi_version);
	EXPECT_EQ(TWIN_FEATURES, info.features);
	EXPECT_EQ(NR_COUNTERS, info.nr_counters);
	EXPECT_EQ(0, info.nr_slots);
	EXPECT_EQ(PTR_BITS, info.ptr_bits);
	for (i = 0; i < sizeof(info.reserved) / sizeof(info.reserved[0]); i++)
		EXPECT_EQ(0, info.reserved[i]);
	EXPECT_EQ(-1, katomic_fd(self->k));
	EXPECT_EQ(0, katomic_nop(self->k));

	ASSERT_EQ(0, katomic_twin_new(0, &empty));
	EXPECT_EQ(-EINVAL, katomic_define(empty, 0, KATOMIC_TYPE_INT32, 0, 0));
	katomic_close(empty);
	katomic_close(NULL);
}

/*
 * Each typed call against the generic op with the same arguments, on two
 * counters defined alike.  The checks are generated from the op x type
 * table, like the calls.
 */
#define TYPED_CALL_0(name, tname, a, b, out) \
	katomic_##name##_##tname(k, 1, out)
#define TYPED_CALL_1(name, tname, a, b, out) \
	katomic_##name##_##tname(k, 1, (katomic_##tname##_t)(a), out)
#define TYPED_CALL_2(name, tname, a, b, out) \
	katomic_##name##_##tname(k, 1, (katomic_##tname##_t)(a), \
				 (katomic_##tname##_t)(b), out)

#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
static void typed_##name##_##tname(struct __test_metadata *_metadata,	\
				   struct katomic *k, __u64 init,	\
				   __u64 a, __u64 b)			\
{									\
	struct katomic_op op = {					\
		.type = tnr, .op = nr,					\
		.arg = (operands) > 0 ? a : 0,				\
		.arg2 = (operands) > 1 ? b : 0,				\
	};								\
	katomic_##tname##_t out = 0;					\
									\
	ASSERT_EQ(0, katomic_define(k, 0, tnr, 0, init));		\
	ASSERT_EQ(0, katomic_define(k, 1, tnr, 0, init));		\
	EXPECT_EQ(katomic_op(k, &op),					\
		  TYPED_CALL_##operands(name, tname, a, b, &out));	\
	EXPECT_EQ(op.result, (__u64)out);				\
	EXPECT_EQ(load(_metadata, k, 0, tnr), load(_metadata, k, 1, tnr)); \
	EXPECT_EQ(katomic_op(k, &op),					\
		  TYPED_CALL_##operands(name, tname, a, b, NULL));	\
	ASSERT_EQ(0, katomic_undefine(k, 0));				\
	ASSERT_EQ(0, katomic_undefine(k, 1));				\
}
KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE

static const struct typed_check {
	const char *name;
	unsigned int type;
	void (*check)(struct __test_metadata *_metadata, struct katomic *k,
		      __u64 init, __u64 a, __u64 b);
} typed_checks[] = {
#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
	{ "katomic_" #name "_" #tname, tnr, typed_##name##_##tname },
	KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE
};

TEST_F(twin, typed_calls)
{
	size_t i;

	ASSERT_EQ((KATOMIC_OP_LAST) * NR_MTYPES,
		  sizeof(typed_checks) / sizeof(typed_checks[0]));
	for (i = 0; i < sizeof(typed_checks) / sizeof(typed_checks[0]); i++) {
		const struct typed_check *c = &typed_checks[i];
		const struct mtype *t = &mtypes[c->type - 1];
		__u64 min = m_wrap(t, m_min(t)), max = m_wrap(t, m_max(t));

		ASSERT_EQ(c->type, t->nr);
		c->check(_metadata, self->k, min, max, 1);	/* cas fails */
		c->check(_metadata, self->k, max, max, min);	/* cas swaps */
		c->check(_metadata, self->k, m_wrap(t, -1), 5, m_wrap(t, -1));
		if (!_metadata->passed) {
			TH_LOG("%s", c->name);
			break;
		}
	}
}

TEST_HARNESS_MAIN
