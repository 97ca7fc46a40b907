// SPDX-License-Identifier: GPL-2.0
/*
 * katomic counter ops: every op of KATOMIC_OP_TABLE on every type of
 * KATOMIC_TYPE_TABLE, in the global context, against the reference model
 * of katomic_test.h; then the edges spelled out: wraparound, sign and zero
 * extension, CAS, bit sweeps, MAX/MIN orders, ADD_UNLESS, and the value
 * vectors of the kernel's lib/atomic64_test.c.
 */
#include "kselftest_harness.h"
#include "katomic_test.h"

/* Most mismatches a test logs before it only counts them. */
#define KT_MAX_LOGGED	8

FIXTURE(ops) {
	int fd;
	struct katomic_info info;
	struct kt_type t;	/* the variant's type, UINTPTR resolved */
	__u32 id;		/* a counter of type t, sync DEFAULT, value 0 */
	__u32 id2;		/* the same, defined with sync ATOMIC */
};

#define KT_TYPE_FIXTURE ops
KT_TYPE_VARIANTS

FIXTURE_SETUP(ops)
{
	kt_setup_type(_metadata, &self->fd, &self->info, &self->t,
		      &variant->t);
	/* ids of this program: 16..31, two per type */
	self->id = 16 + 2 * variant->t.type;
	self->id2 = self->id + 1;
	ASSERT_LT(self->id2, self->info.nr_counters);
	ASSERT_EQ(0, kt_redefine(self->fd, self->id, self->t.type,
				 KATOMIC_SYNC_DEFAULT, 0));
	ASSERT_EQ(0, kt_redefine(self->fd, self->id2, self->t.type,
				 KATOMIC_SYNC_ATOMIC, 0));
}

FIXTURE_TEARDOWN(ops)
{
	kt_undefine(self->fd, self->id);
	kt_undefine(self->fd, self->id2);
	close(self->fd);
}

/* Shorthands for the fixture's counter. */
#define OP(op, arg, arg2, res, app) \
	kt_do(self->fd, self->id, self->t.type, (op), (arg), (arg2), (res), (app))
#define STORE(v)	kt_store(self->fd, self->id, self->t.type, (v))

static __u64 load(struct __test_metadata *_metadata, int fd, __u32 id,
		  __u8 type)
{
	__u64 v = KT_POISON;

	EXPECT_EQ(0, kt_load(fd, id, type, &v));
	return v;
}
#define LOAD()		load(_metadata, self->fd, self->id, self->t.type)

/*
 * Run one op on a counter holding start and compare every out field and
 * the value left behind with the model.  The out fields go in poisoned:
 * a successful op must write them all.  Returns false on a mismatch.
 */
static bool check_op(struct __test_metadata *_metadata, int fd, __u32 id,
		     const struct kt_type *t, __u8 op, __u64 start,
		     __u64 arg, __u64 arg2, unsigned int *fails)
{
	struct kt_expect e = kt_model(t, op, start, arg, arg2);
	struct katomic_op o;
	__u64 value = KT_POISON;
	int r_store, r_op, r_load;

	r_store = kt_store(fd, id, t->type, start);
	kt_op_init(&o, id, t->type, op, arg, arg2);
	o.result = KT_POISON;
	o.applied = 0xa5;
	o.error = -12345;
	r_op = kt_ioctl(fd, KATOMIC_IOC_OP, &o);
	r_load = kt_load(fd, id, t->type, &value);

	if (!r_store && !r_op && !r_load && o.result == e.result &&
	    o.applied == e.applied && o.error == 0 && value == e.value)
		return true;
	if (++*fails <= KT_MAX_LOGGED)
		TH_LOG("%s %s(start=%#llx, arg=%#llx, arg2=%#llx): ret %d/%d/%d result %#llx applied %u error %d value %#llx; want result %#llx applied %u value %#llx",
		       t->name, kt_op_name(op), (unsigned long long)start,
		       (unsigned long long)arg, (unsigned long long)arg2,
		       r_store, r_op, r_load, (unsigned long long)o.result,
		       o.applied, o.error, (unsigned long long)value,
		       (unsigned long long)e.result, e.applied,
		       (unsigned long long)e.value);
	return false;
}

/*
 * Every op x interesting start value x interesting operands.  Two-operand
 * ops (CAS, ADD_UNLESS) draw one operand from all interesting values and
 * the other from values near start, so both outcomes of the comparison
 * with the counter occur; the counters with sync DEFAULT and ATOMIC take
 * turns.
 */
TEST_F_TIMEOUT(ops, matrix, 120)
{
	const struct kt_type *t = &self->t;
	unsigned int n, i, a, b, o, fails = 0, runs = 0;
	__u64 vals[40];

	n = kt_interesting(t, vals, KT_ARRAY_SIZE(vals));
	ASSERT_LE(20, n);

	for (o = 0; o < KT_NR_OPS; o++) {
		const struct kt_opdesc *d = &kt_ops[o];

		for (i = 0; i < n; i++) {
			__u64 start = vals[i];
			__u64 near[] = {
				start, kt_canon(t, start + 1),
				kt_canon(t, start - 1), 0, kt_min(t), kt_max(t),
			};
			__u32 id = (i & 1) ? self->id2 : self->id;

			if (d->operands == 0) {
				check_op(_metadata, self->fd, id, t, d->op,
					 start, 0, 0, &fails);
				runs++;
				continue;
			}
			for (a = 0; a < n; a++) {
				if (d->operands == 1) {
					check_op(_metadata, self->fd, id, t,
						 d->op, start, vals[a], 0,
						 &fails);
					runs++;
					continue;
				}
				for (b = 0; b < KT_ARRAY_SIZE(near); b++) {
					check_op(_metadata, self->fd, id, t,
						 d->op, start, vals[a], near[b],
						 &fails);
					check_op(_metadata, self->fd, id, t,
						 d->op, start, near[b], vals[a],
						 &fails);
					runs += 2;
				}
			}
		}
	}
	if (fails)
		TH_LOG("%u of %u op runs differ from the model", fails, runs);
	EXPECT_EQ(0, fails);
}

/* DEFINE's init is an operand too: every interesting value comes back. */
TEST_F(ops, define_init)
{
	const struct kt_type *t = &self->t;
	struct katomic_define q;
	unsigned int n, i;
	__u64 vals[40];

	n = kt_interesting(t, vals, KT_ARRAY_SIZE(vals));
	for (i = 0; i < n; i++) {
		__u8 sync = (i & 1) ? KATOMIC_SYNC_ATOMIC : KATOMIC_SYNC_DEFAULT;

		ASSERT_EQ(0, kt_undefine(self->fd, self->id));
		ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, sync,
				       vals[i]));
		EXPECT_EQ(vals[i], LOAD());
		ASSERT_EQ(0, kt_query(self->fd, self->id, &q));
		EXPECT_EQ(t->type, q.type);
		EXPECT_EQ(KATOMIC_SYNC_ATOMIC, q.sync);
		EXPECT_EQ(0, q.param);
	}
}

/* The limits, written out rather than taken from the model. */
TEST_F(ops, limits_model)
{
	const struct kt_type *t = &self->t;
	__u64 min, max;

	if (t->bits == 32 && t->is_signed) {
		min = 0xffffffff80000000ULL;
		max = 0x7fffffffULL;
	} else if (t->bits == 32) {
		min = 0;
		max = 0xffffffffULL;
	} else if (t->is_signed) {
		min = 0x8000000000000000ULL;
		max = 0x7fffffffffffffffULL;
	} else {
		min = 0;
		max = 0xffffffffffffffffULL;
	}
	EXPECT_EQ(min, kt_min(t));
	EXPECT_EQ(max, kt_max(t));
	ASSERT_EQ(0, STORE(min));
	EXPECT_EQ(min, LOAD());
	ASSERT_EQ(0, STORE(max));
	EXPECT_EQ(max, LOAD());
}

/* Arithmetic wraps modulo 2^width at both ends, through every adder. */
TEST_F(ops, wraparound)
{
	const struct kt_type *t = &self->t;
	__u64 min = kt_min(t), max = kt_max(t);
	__u64 minus1 = kt_neg(t, 1), r;
	__u8 applied;

	/* max + 1 == min */
	ASSERT_EQ(0, STORE(max));
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, 1, 0, &r, NULL));
	EXPECT_EQ(min, r);
	EXPECT_EQ(min, LOAD());

	/* min - 1 == max (unsigned: add the all-ones operand) */
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, minus1, 0, &r, NULL));
	EXPECT_EQ(max, r);
	EXPECT_EQ(max, LOAD());

	/* max + max == -2 (signed) or max - 1 (unsigned) */
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, max, 0, &r, NULL));
	EXPECT_EQ(t->is_signed ? 0xfffffffffffffffeULL : max - 1, r);

	/* min + min == 0 */
	ASSERT_EQ(0, STORE(min));
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, min, 0, &r, NULL));
	EXPECT_EQ(0, r);

	/* ADD_UNLESS wraps too, and returns the old value */
	ASSERT_EQ(0, STORE(max));
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 1, 0, &r, &applied));
	EXPECT_EQ(max, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(min, LOAD());
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, minus1, max, &r, &applied));
	EXPECT_EQ(min, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(max, LOAD());

	/* 0 - 1: -1 for signed types, the maximum for unsigned ones */
	ASSERT_EQ(0, STORE(0));
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, minus1, 0, &r, NULL));
	EXPECT_EQ(t->is_signed ? ~0ULL : max, r);
	/* ... and + 1 is 0 again (inc_and_test) */
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, 1, 0, &r, NULL));
	EXPECT_EQ(0, r);
}

/*
 * 32-bit results reach user space sign-extended (INT32) or zero-extended
 * (UINT32, a 32-bit UINTPTR): the high half never leaks through.
 */
TEST_F(ops, extension)
{
	const struct kt_type *t = &self->t;
	/* is a value with bit 31 set negative in this type? */
	bool neg = t->is_signed && t->bits == 32;
	__u64 hi = neg ? 0xffffffff00000000ULL : 0;
	__u64 r;
	__u8 applied;

	/*
	 * A value with bit 31 set, reached by every kind of op: extended
	 * from bit 31 for INT32, zero-extended for UINT32, and left alone
	 * (no extension at bit 31) for the 64-bit types.
	 */
	ASSERT_EQ(0, STORE(kt_canon(t, 0x80000000)));
	EXPECT_EQ(hi | 0x80000000, LOAD());
	ASSERT_EQ(0, OP(KATOMIC_OP_LOAD, 0, 0, &r, NULL));
	EXPECT_EQ(hi | 0x80000000, r);
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD, 0x7fffffff, 0, &r, NULL));
	EXPECT_EQ(hi | 0xffffffff, r);
	ASSERT_EQ(0, OP(KATOMIC_OP_SWAP, 1, 0, &r, NULL));
	EXPECT_EQ(hi | 0xffffffff, r);
	ASSERT_EQ(0, OP(KATOMIC_OP_XOR, kt_canon(t, 0xc0000000), 0, &r, NULL));
	EXPECT_EQ(1, r);
	EXPECT_EQ(hi | 0xc0000001, LOAD());
	ASSERT_EQ(0, OP(KATOMIC_OP_OR, 2, 0, &r, NULL));
	EXPECT_EQ(hi | 0xc0000001, r);
	ASSERT_EQ(0, OP(KATOMIC_OP_AND, kt_canon(t, 0xfffffffe), 0, &r, NULL));
	EXPECT_EQ(hi | 0xc0000003, r);
	ASSERT_EQ(0, OP(KATOMIC_OP_CAS, hi | 0xc0000002,
			kt_canon(t, 0x90000000), &r, &applied));
	EXPECT_EQ(hi | 0xc0000002, r);
	EXPECT_EQ(1, applied);
	ASSERT_EQ(0, OP(KATOMIC_OP_MIN, 0, 0, &r, &applied));
	EXPECT_EQ(hi | 0x90000000, r);
	EXPECT_EQ(neg ? 0 : 1, applied);
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 5, 7, &r, &applied));
	EXPECT_EQ(neg ? hi | 0x90000000 : 0, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(neg ? hi | 0x90000005 : 5, LOAD());

	/* all ones round trip as 64 one bits, or 32 of them for UINT32 */
	ASSERT_EQ(0, STORE(kt_max(t) | kt_min(t)));
	EXPECT_EQ(t->is_signed || t->bits == 64 ? ~0ULL : 0xffffffffULL,
		  LOAD());
}

/* CAS: result is always the value seen; swaps only on a match. */
TEST_F(ops, cas)
{
	const struct kt_type *t = &self->t;
	__u64 a = kt_canon(t, KT_V0), b = kt_canon(t, KT_V1), r;
	__u8 applied;

	ASSERT_EQ(0, STORE(a));
	/* success */
	ASSERT_EQ(0, OP(KATOMIC_OP_CAS, a, b, &r, &applied));
	EXPECT_EQ(a, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(b, LOAD());
	/* failure: expected the old value, which is gone */
	ASSERT_EQ(0, OP(KATOMIC_OP_CAS, a, 0, &r, &applied));
	EXPECT_EQ(b, r);
	EXPECT_EQ(0, applied);
	EXPECT_EQ(b, LOAD());
	/* failure on a single bit, in either half */
	ASSERT_EQ(0, OP(KATOMIC_OP_CAS, kt_canon(t, b ^ 1), a, &r, &applied));
	EXPECT_EQ(0, applied);
	ASSERT_EQ(0, OP(KATOMIC_OP_CAS, kt_canon(t, b ^ (1ULL << (t->bits - 1))),
			a, &r, &applied));
	EXPECT_EQ(0, applied);
	EXPECT_EQ(b, LOAD());
	/* swapping a value for itself succeeds */
	ASSERT_EQ(0, OP(KATOMIC_OP_CAS, b, b, &r, &applied));
	EXPECT_EQ(b, r);
	EXPECT_EQ(1, applied);
	/* a CAS chain: each success hands its value to the next */
	ASSERT_EQ(0, STORE(0));
	for (unsigned int i = 0; i < 64; i++) {
		ASSERT_EQ(0, OP(KATOMIC_OP_CAS, kt_canon(t, i),
				kt_canon(t, i + 1), &r, &applied));
		EXPECT_EQ(kt_canon(t, i), r);
		EXPECT_EQ(1, applied);
	}
	EXPECT_EQ(64, LOAD());
}

/*
 * AND / OR / XOR, one bit at a time across the whole width, each returning
 * the value before it.
 */
TEST_F(ops, bit_sweep)
{
	const struct kt_type *t = &self->t;
	__u64 cur, bit, r;
	unsigned int i;

	/* OR sets the bits one by one, from 0 to all ones */
	ASSERT_EQ(0, STORE(0));
	cur = 0;
	for (i = 0; i < t->bits; i++) {
		bit = kt_canon(t, 1ULL << i);
		ASSERT_EQ(0, OP(KATOMIC_OP_OR, bit, 0, &r, NULL));
		EXPECT_EQ(cur, r) TH_LOG("OR bit %u", i);
		cur = kt_canon(t, cur | bit);
	}
	EXPECT_EQ(kt_canon(t, ~0ULL), LOAD());

	/* OR of a bit already set changes nothing */
	ASSERT_EQ(0, OP(KATOMIC_OP_OR, 1, 0, &r, NULL));
	EXPECT_EQ(cur, r);

	/* AND clears them one by one, back to 0 */
	for (i = 0; i < t->bits; i++) {
		bit = kt_canon(t, ~(1ULL << i));
		ASSERT_EQ(0, OP(KATOMIC_OP_AND, bit, 0, &r, NULL));
		EXPECT_EQ(cur, r) TH_LOG("AND ~bit %u", i);
		cur = kt_canon(t, cur & bit);
	}
	EXPECT_EQ(0, cur);
	EXPECT_EQ(0, LOAD());

	/* XOR toggles every bit on, then off, then the pattern flips */
	for (i = 0; i < 2 * t->bits; i++) {
		bit = kt_canon(t, 1ULL << (i % t->bits));
		ASSERT_EQ(0, OP(KATOMIC_OP_XOR, bit, 0, &r, NULL));
		EXPECT_EQ(cur, r) TH_LOG("XOR bit %u", i);
		cur = kt_canon(t, cur ^ bit);
	}
	EXPECT_EQ(0, cur);
	ASSERT_EQ(0, STORE(kt_canon(t, 0x5555555555555555ULL)));
	ASSERT_EQ(0, OP(KATOMIC_OP_XOR, kt_canon(t, ~0ULL), 0, &r, NULL));
	EXPECT_EQ(kt_canon(t, 0x5555555555555555ULL), r);
	EXPECT_EQ(kt_canon(t, 0xaaaaaaaaaaaaaaaaULL), LOAD());

	/* the identities: AND all ones, OR 0, XOR 0 */
	ASSERT_EQ(0, OP(KATOMIC_OP_AND, kt_canon(t, ~0ULL), 0, &r, NULL));
	ASSERT_EQ(0, OP(KATOMIC_OP_OR, 0, 0, &r, NULL));
	ASSERT_EQ(0, OP(KATOMIC_OP_XOR, 0, 0, &r, NULL));
	EXPECT_EQ(kt_canon(t, 0xaaaaaaaaaaaaaaaaULL), r);
	EXPECT_EQ(kt_canon(t, 0xaaaaaaaaaaaaaaaaULL), LOAD());
}

/*
 * MAX / MIN compare signed for INT types, unsigned otherwise; applied says
 * whether the value changed (never for an equal operand).
 */
TEST_F(ops, max_min)
{
	const struct kt_type *t = &self->t;
	__u64 neg = kt_canon(t, ~0ULL);	/* -1, or the unsigned maximum */
	__u64 r, sign, prev;
	__u8 applied;

	/* 1 vs the all-ones value: -1 < 1 signed, max > 1 unsigned */
	ASSERT_EQ(0, STORE(1));
	ASSERT_EQ(0, OP(KATOMIC_OP_MAX, neg, 0, &r, &applied));
	EXPECT_EQ(1, r);
	EXPECT_EQ(t->is_signed ? 0 : 1, applied);
	EXPECT_EQ(t->is_signed ? 1 : neg, LOAD());

	ASSERT_EQ(0, STORE(1));
	ASSERT_EQ(0, OP(KATOMIC_OP_MIN, neg, 0, &r, &applied));
	EXPECT_EQ(1, r);
	EXPECT_EQ(t->is_signed ? 1 : 0, applied);
	EXPECT_EQ(t->is_signed ? neg : 1, LOAD());

	/* the sign bit alone: the minimum (signed) or a big number */
	sign = kt_canon(t, 1ULL << (t->bits - 1));
	ASSERT_EQ(0, STORE(0));
	ASSERT_EQ(0, OP(KATOMIC_OP_MAX, sign, 0, &r, &applied));
	EXPECT_EQ(0, r);
	EXPECT_EQ(t->is_signed ? 0 : 1, applied);
	EXPECT_EQ(t->is_signed ? 0 : sign, LOAD());
	ASSERT_EQ(0, STORE(0));
	ASSERT_EQ(0, OP(KATOMIC_OP_MIN, sign, 0, &r, &applied));
	EXPECT_EQ(0, r);
	EXPECT_EQ(t->is_signed ? 1 : 0, applied);
	EXPECT_EQ(t->is_signed ? sign : 0, LOAD());

	/* equal operands change nothing */
	ASSERT_EQ(0, STORE(kt_canon(t, KT_V2)));
	ASSERT_EQ(0, OP(KATOMIC_OP_MAX, kt_canon(t, KT_V2), 0, &r, &applied));
	EXPECT_EQ(kt_canon(t, KT_V2), r);
	EXPECT_EQ(0, applied);
	ASSERT_EQ(0, OP(KATOMIC_OP_MIN, kt_canon(t, KT_V2), 0, &r, &applied));
	EXPECT_EQ(0, applied);

	/*
	 * Climbing: MAX of the rising sequence 0, 1, 3, 7, ... from the
	 * minimum changes the counter every time (but at the first step of an
	 * unsigned type, whose minimum is 0): each returns the value before
	 * it and leaves the operand.
	 */
	ASSERT_EQ(0, STORE(kt_min(t)));
	prev = kt_min(t);
	for (unsigned int i = 0; i < t->bits - 1; i++) {
		__u64 v = kt_canon(t, (1ULL << i) - 1);
		bool moves = t->is_signed || i > 0;

		ASSERT_EQ(0, OP(KATOMIC_OP_MAX, v, 0, &r, &applied));
		EXPECT_EQ(prev, r) TH_LOG("MAX step %u", i);
		EXPECT_EQ(moves, applied) TH_LOG("MAX step %u", i);
		EXPECT_EQ(v, LOAD()) TH_LOG("MAX step %u", i);
		/* and MAX of what it just passed changes nothing */
		ASSERT_EQ(0, OP(KATOMIC_OP_MAX, prev, 0, &r, &applied));
		EXPECT_EQ(v, r) TH_LOG("MAX step %u, again", i);
		EXPECT_EQ(0, applied) TH_LOG("MAX step %u, again", i);
		EXPECT_EQ(v, LOAD()) TH_LOG("MAX step %u, again", i);
		prev = v;
	}
	ASSERT_EQ(0, OP(KATOMIC_OP_MAX, kt_max(t), 0, &r, &applied));
	EXPECT_EQ(prev, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(kt_max(t), LOAD());

	/* falling: MIN of max, max - 1, max - 3, ... down to the minimum */
	prev = kt_max(t);
	for (unsigned int i = 0; i < t->bits - 1; i++) {
		__u64 v = kt_canon(t, kt_max(t) - ((1ULL << i) - 1));
		bool moves = i > 0;

		ASSERT_EQ(0, OP(KATOMIC_OP_MIN, v, 0, &r, &applied));
		EXPECT_EQ(prev, r) TH_LOG("MIN step %u", i);
		EXPECT_EQ(moves, applied) TH_LOG("MIN step %u", i);
		EXPECT_EQ(v, LOAD()) TH_LOG("MIN step %u", i);
		ASSERT_EQ(0, OP(KATOMIC_OP_MIN, prev, 0, &r, &applied));
		EXPECT_EQ(v, r) TH_LOG("MIN step %u, again", i);
		EXPECT_EQ(0, applied) TH_LOG("MIN step %u, again", i);
		EXPECT_EQ(v, LOAD()) TH_LOG("MIN step %u, again", i);
		prev = v;
	}
	ASSERT_EQ(0, OP(KATOMIC_OP_MIN, kt_min(t), 0, &r, &applied));
	EXPECT_EQ(prev, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(kt_min(t), LOAD());
}

/*
 * ADD_UNLESS returns the old value; applied iff old != unless, even when
 * the delta is 0.
 */
TEST_F(ops, add_unless)
{
	const struct kt_type *t = &self->t;
	__u64 r;
	__u8 applied;

	ASSERT_EQ(0, STORE(10));
	/* old == unless: nothing */
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 5, 10, &r, &applied));
	EXPECT_EQ(10, r);
	EXPECT_EQ(0, applied);
	EXPECT_EQ(10, LOAD());
	/* old != unless: added */
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 5, 11, &r, &applied));
	EXPECT_EQ(10, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(15, LOAD());
	/* a delta of 0 is applied too */
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 0, 0, &r, &applied));
	EXPECT_EQ(15, r);
	EXPECT_EQ(1, applied);
	EXPECT_EQ(15, LOAD());
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 0, 15, &r, &applied));
	EXPECT_EQ(0, applied);
	/* inc_not_zero: ADD_UNLESS(1, unless 0) */
	ASSERT_EQ(0, STORE(0));
	ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, 1, 0, &r, &applied));
	EXPECT_EQ(0, r);
	EXPECT_EQ(0, applied);
	EXPECT_EQ(0, LOAD());
	/* dec_unless_min: stops at the minimum */
	ASSERT_EQ(0, STORE(kt_canon(t, kt_min(t) + 2)));
	for (unsigned int i = 0; i < 4; i++)
		ASSERT_EQ(0, OP(KATOMIC_OP_ADD_UNLESS, kt_neg(t, 1), kt_min(t),
				&r, &applied));
	EXPECT_EQ(kt_min(t), LOAD());
	EXPECT_EQ(0, applied);
}

/*
 * lib/atomic64_test.c's checks, as katomic ops, with its vectors in the
 * type's width: once as they are and once with their halves exchanged.
 * Expected values are computed here directly, not by the model.
 */
TEST_F(ops, atomic64_vectors)
{
	const struct kt_type *t = &self->t;
	__u64 raw[] = { KT_V0, KT_V1, KT_V2, KT_V3, KT_ONESTWOS };
	__u64 r;
	__u8 applied;

	for (unsigned int pass = 0; pass < 2; pass++) {
		__u64 c[KT_ARRAY_SIZE(raw)];

		for (unsigned int i = 0; i < KT_ARRAY_SIZE(raw); i++)
			c[i] = kt_canon(t, pass ? raw[i] << 32 | raw[i] >> 32
						: raw[i]);
		__u64 v0 = c[0], v1 = c[1], v2 = c[2], v3 = c[3],
		      onestwos = c[4], one = KT_ONE;

#define VEC_OP(op, arg, arg2, want_r, want_v) do {			\
		ASSERT_EQ(0, OP(op, arg, arg2, &r, &applied));		\
		EXPECT_EQ((__u64)(want_r), r)				\
			TH_LOG("pass %u: " #op "(" #arg ")", pass);	\
		EXPECT_EQ((__u64)(want_v), LOAD())			\
			TH_LOG("pass %u: " #op "(" #arg ")", pass);	\
	} while (0)

		/* set, read */
		ASSERT_EQ(0, STORE(v0));
		EXPECT_EQ(v0, LOAD());
		/* add_return, sub_return (add of the negation) */
		VEC_OP(KATOMIC_OP_ADD, onestwos, 0, kt_canon(t, v0 + onestwos),
		       kt_canon(t, v0 + onestwos));
		VEC_OP(KATOMIC_OP_ADD, kt_neg(t, onestwos), 0, v0, v0);
		VEC_OP(KATOMIC_OP_ADD, kt_neg(t, one), 0, kt_canon(t, v0 - 1),
		       kt_canon(t, v0 - 1));
		VEC_OP(KATOMIC_OP_ADD, one, 0, v0, v0);
		/* fetch_and, fetch_andnot (and of the complement) */
		VEC_OP(KATOMIC_OP_AND, v1, 0, v0, v0 & v1);
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_AND, kt_canon(t, ~v1), 0, v0,
		       kt_canon(t, v0 & ~v1));
		/* fetch_or, fetch_xor */
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_OR, v1, 0, v0, v0 | v1);
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_XOR, v1, 0, v0, kt_canon(t, v0 ^ v1));
		/* xchg */
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_SWAP, v1, 0, v0, v1);
		/* cmpxchg, failing and succeeding */
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_CAS, v2, v1, v0, v0);
		EXPECT_EQ(0, applied);
		VEC_OP(KATOMIC_OP_CAS, v0, v1, v0, v1);
		EXPECT_EQ(1, applied);
		/* add_unless: added unless equal */
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_ADD_UNLESS, one, v0, v0, v0);
		EXPECT_EQ(0, applied);
		VEC_OP(KATOMIC_OP_ADD_UNLESS, one, v1, v0,
		       kt_canon(t, v0 + one));
		EXPECT_EQ(1, applied);
		/* inc_not_zero on v0, then on 0 */
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_ADD_UNLESS, one, 0, v0, kt_canon(t, v0 + 1));
		EXPECT_EQ(v0 != 0, applied);
		ASSERT_EQ(0, STORE(0));
		VEC_OP(KATOMIC_OP_ADD_UNLESS, one, 0, 0, 0);
		EXPECT_EQ(0, applied);
		/* carry across the halves: v3 plus all ones in the low half */
		ASSERT_EQ(0, STORE(kt_canon(t, 0xffffffffULL)));
		VEC_OP(KATOMIC_OP_ADD, one, 0, kt_canon(t, 0x100000000ULL),
		       kt_canon(t, 0x100000000ULL));
		VEC_OP(KATOMIC_OP_ADD, v3, 0,
		       kt_canon(t, 0x100000000ULL + v3),
		       kt_canon(t, 0x100000000ULL + v3));
		/* borrow across the halves */
		ASSERT_EQ(0, STORE(kt_canon(t, 0x100000000ULL)));
		VEC_OP(KATOMIC_OP_ADD, kt_neg(t, one), 0,
		       kt_canon(t, 0xffffffffULL), kt_canon(t, 0xffffffffULL));
		/* dec_and_test, inc_and_test, add_negative */
		ASSERT_EQ(0, STORE(one));
		VEC_OP(KATOMIC_OP_ADD, kt_neg(t, one), 0, 0, 0);
		VEC_OP(KATOMIC_OP_ADD, kt_neg(t, one), 0, kt_canon(t, ~0ULL),
		       kt_canon(t, ~0ULL));
		VEC_OP(KATOMIC_OP_ADD, one, 0, 0, 0);
		/* the max and min Rust and Go users build from cmpxchg */
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_MAX, v1, 0, v0, kt_lt(t, v0, v1) ? v1 : v0);
		ASSERT_EQ(0, STORE(v0));
		VEC_OP(KATOMIC_OP_MIN, v1, 0, v0, kt_lt(t, v1, v0) ? v1 : v0);
#undef VEC_OP
	}
}

TEST_HARNESS_MAIN
