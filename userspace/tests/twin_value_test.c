// SPDX-License-Identifier: GPL-2.0
/*
 * The twin's value slots, one thread at a time: every error rule of
 * spec/abi.md's value operations (in the module's order where several
 * faults meet), Go's atomic.Value rules as value_test.go checks them
 * (TestValue, TestValuePanic, TestValue_Swap, TestValue_CompareAndSwap:
 * nil is refused, the first store fixes the type, an empty Value loads
 * nil, CompareAndSwap(nil, new) on an empty Value swaps), -ERANGE with
 * the length needed and nothing changed, the version, every length from 1
 * to value_max, DEFINE/UNDEFINE/QUERY of slots, and memory: 10^5 stores
 * and an UNDEFINE give back every byte.  Each slot test runs on every slot
 * kind (NONE, RCU, SEQLOCK): they differ only when loads race stores
 * (twin_value_mt_test).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "katomic.h"
#include "kselftest_harness.h"
#include "twin_common.h"

#define NR_COUNTERS	2
#define NR_SLOTS	4
#define VALUE_MAX	100	/* not a multiple of 8 */
#define ID		1	/* the slot under test; 0 and 2 its neighbours */
#define TAG		0x7a6
#define OTHER_TAG	0x7a7
#define FILL		0xee	/* what a buffer holds before an op */

static const unsigned int slot_kinds[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_RCU, KATOMIC_SYNC_SEQLOCK,
};
#define NR_SLOT_KINDS	(sizeof(slot_kinds) / sizeof(slot_kinds[0]))

static __u64 ptr(const void *p)
{
	return (uintptr_t)p;
}

/* n bytes that differ from every other (seed, n) pair's, never FILL. */
static void pattern(unsigned char *b, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(seed * 31 + i * 7 + n) % 0xe0 + 1;
}

static struct katomic_value_op vop_load(__u32 id, void *out, __u32 cap)
{
	return (struct katomic_value_op){ .id = id, .op = KATOMIC_VOP_LOAD,
					  .out = ptr(out), .out_len = cap };
}

static struct katomic_value_op vop_store(__u32 id, __u32 tag, const void *buf,
					 __u32 len)
{
	return (struct katomic_value_op){ .id = id, .op = KATOMIC_VOP_STORE,
					  .tag = tag, .len = len,
					  .buf = ptr(buf) };
}

static struct katomic_value_op vop_swap(__u32 id, __u32 tag, const void *buf,
					__u32 len, void *out, __u32 cap)
{
	return (struct katomic_value_op){ .id = id, .op = KATOMIC_VOP_SWAP,
					  .tag = tag, .len = len,
					  .buf = ptr(buf), .out = ptr(out),
					  .out_len = cap };
}

static struct katomic_value_op vop_cas(__u32 id, __u32 old_tag,
				       const void *old, __u32 old_len,
				       __u32 tag, const void *buf, __u32 len)
{
	return (struct katomic_value_op){ .id = id, .op = KATOMIC_VOP_CAS,
					  .tag = tag, .len = len,
					  .buf = ptr(buf), .out = ptr(old),
					  .out_len = old_len,
					  .out_tag = old_tag };
}

/* The slot holds (tag, bytes[0..len)) at version: tag 0 is empty. */
static void expect_value(struct __test_metadata *_metadata, struct katomic *k,
			 __u32 id, __u32 tag, const void *bytes, __u32 len,
			 __u64 version)
{
	unsigned char out[VALUE_MAX + 8];
	struct katomic_value_op op;

	memset(out, FILL, sizeof(out));
	op = vop_load(id, out, sizeof(out));
	ASSERT_EQ(0, katomic_value_op(k, &op));
	EXPECT_EQ(tag, op.out_tag);
	EXPECT_EQ(len, op.out_len);
	EXPECT_EQ(version, op.version);
	if (len)
		EXPECT_EQ(0, memcmp(out, bytes, len));
	EXPECT_EQ(FILL, out[len]);	/* nothing past the value */
}

/* An op that must fail with err and leave its struct as it was. */
static void expect_error(struct __test_metadata *_metadata, struct katomic *k,
			 struct katomic_value_op op, int err)
{
	struct katomic_value_op copy = op;

	EXPECT_EQ(err, katomic_value_op(k, &op));
	EXPECT_EQ(0, memcmp(&op, &copy, sizeof(op)));
}

/*
 * An op that must fail with -ERANGE, as getxattr: out_len becomes needed,
 * nothing is copied to out (filled with FILL first), nothing else in the
 * struct changes.
 */
static void expect_erange(struct __test_metadata *_metadata,
			  struct katomic *k, struct katomic_value_op op,
			  __u32 needed)
{
	unsigned char *out = (unsigned char *)(uintptr_t)op.out;
	struct katomic_value_op copy = op;

	memset(out, FILL, op.out_len);
	EXPECT_EQ(-ERANGE, katomic_value_op(k, &op));
	EXPECT_EQ(needed, op.out_len);
	op.out_len = copy.out_len;
	EXPECT_EQ(0, memcmp(&op, &copy, sizeof(op)));
	EXPECT_EQ(FILL, out[0]);
}

static struct katomic *new_twin(struct __test_metadata *_metadata,
				unsigned int nr_slots, unsigned int value_max)
{
	struct katomic_twin_params p = { NR_COUNTERS, nr_slots, value_max, 0 };
	struct katomic *k = NULL;

	EXPECT_EQ(0, katomic_twin_create(&p, &k));
	return k;
}

FIXTURE(slot) {
	struct katomic *k;
	unsigned char a[VALUE_MAX], b[VALUE_MAX];	/* two patterns */
};

FIXTURE_VARIANT(slot) {
	unsigned int sync;
};

FIXTURE_VARIANT_ADD(slot, none) { .sync = KATOMIC_SYNC_NONE };
FIXTURE_VARIANT_ADD(slot, rcu) { .sync = KATOMIC_SYNC_RCU };
FIXTURE_VARIANT_ADD(slot, seqlock) { .sync = KATOMIC_SYNC_SEQLOCK };

/* Slot ID and its neighbours, of the variant's kind, empty. */
FIXTURE_SETUP(slot)
{
	unsigned int sync = 0;
	__u32 id;

	self->k = new_twin(_metadata, NR_SLOTS, VALUE_MAX);
	ASSERT_NE(NULL, self->k);
	for (id = ID - 1; id <= ID + 1; id++)
		ASSERT_EQ(0, katomic_value_define(self->k, id, variant->sync));
	ASSERT_EQ(0, katomic_value_query(self->k, ID, &sync));
	ASSERT_EQ(variant->sync, sync);
	pattern(self->a, sizeof(self->a), 1);
	pattern(self->b, sizeof(self->b), 2);
}

FIXTURE_TEARDOWN(slot)
{
	katomic_close(self->k);
}

/* The neighbours of ID are still empty: no op reached them. */
static void expect_neighbours_empty(struct __test_metadata *_metadata,
				    struct katomic *k)
{
	expect_value(_metadata, k, ID - 1, 0, NULL, 0, 0);
	expect_value(_metadata, k, ID + 1, 0, NULL, 0, 0);
}

/* Go's TestValue: an empty Value loads nil, whatever the capacity. */
TEST_F(slot, empty_load)
{
	unsigned char out[8];
	struct katomic_value_op op;

	memset(out, FILL, sizeof(out));
	op = vop_load(ID, out, sizeof(out));
	op.out_tag = 5;		/* out fields are ignored on input */
	op.version = 5;
	op.applied = 1;
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(0, op.out_tag);
	EXPECT_EQ(0, op.out_len);
	EXPECT_EQ(0, op.version);
	EXPECT_EQ(FILL, out[0]);
	/* An empty value fits any capacity, and no buffer at all. */
	op = vop_load(ID, NULL, 0);
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(0, op.out_len);
	expect_neighbours_empty(_metadata, self->k);
}

/* Go's TestValuePanic: Store(nil) panics; here every writing op says -EINVAL. */
TEST_F(slot, nil_is_refused)
{
	unsigned char out[VALUE_MAX];
	int i;

	for (i = 0; i < 3; i++) {
		__u32 tag = i == 1 ? TAG : 0, len = i == 0 ? 5 : 0;

		expect_error(_metadata, self->k,
			     vop_store(ID, tag, self->a, len), -EINVAL);
		expect_error(_metadata, self->k,
			     vop_swap(ID, tag, self->a, len, out, sizeof(out)),
			     -EINVAL);
		expect_error(_metadata, self->k,
			     vop_cas(ID, 0, NULL, 0, tag, self->a, len),
			     -EINVAL);
	}
	expect_value(_metadata, self->k, ID, 0, NULL, 0, 0);
	/* Once a value is there, nil still cannot replace it. */
	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 3, NULL));
	expect_error(_metadata, self->k, vop_store(ID, TAG, self->a, 0),
		     -EINVAL);
	expect_error(_metadata, self->k, vop_store(ID, 0, self->a, 3), -EINVAL);
	expect_value(_metadata, self->k, ID, TAG, self->a, 3, 1);
}

/* Go's TestValuePanic: a store of another type panics; here -EINVAL. */
TEST_F(slot, first_store_fixes_the_tag)
{
	unsigned char out[VALUE_MAX];
	__u64 version = 0;

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 10,
					 &version));
	EXPECT_EQ(1, version);
	expect_error(_metadata, self->k, vop_store(ID, OTHER_TAG, self->b, 10),
		     -EINVAL);
	expect_error(_metadata, self->k,
		     vop_swap(ID, OTHER_TAG, self->b, 10, out, sizeof(out)),
		     -EINVAL);
	/* CAS checks the new value's tag even when the old one matches. */
	expect_error(_metadata, self->k,
		     vop_cas(ID, TAG, self->a, 10, OTHER_TAG, self->b, 10),
		     -EINVAL);
	expect_value(_metadata, self->k, ID, TAG, self->a, 10, 1);
	/* The same tag with another length and bytes is the same type. */
	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->b, 77,
					 &version));
	EXPECT_EQ(2, version);
	expect_value(_metadata, self->k, ID, TAG, self->b, 77, 2);
	/* A neighbour fixes its own tag. */
	ASSERT_EQ(0, katomic_value_store(self->k, ID + 1, OTHER_TAG, self->a,
					 1, &version));
	EXPECT_EQ(1, version);
	expect_value(_metadata, self->k, ID + 1, OTHER_TAG, self->a, 1, 1);
	/* UNDEFINE forgets the tag: a new definition takes any. */
	ASSERT_EQ(0, katomic_value_undefine(self->k, ID));
	ASSERT_EQ(0, katomic_value_define(self->k, ID, variant->sync));
	expect_value(_metadata, self->k, ID, 0, NULL, 0, 0);
	ASSERT_EQ(0, katomic_value_store(self->k, ID, OTHER_TAG, self->a, 4,
					 &version));
	EXPECT_EQ(1, version);
	expect_value(_metadata, self->k, ID - 1, 0, NULL, 0, 0);
}

/* -E2BIG above value_max for the new value and for CAS's expected one. */
TEST_F(slot, value_max)
{
	unsigned char big[VALUE_MAX + 1], out[VALUE_MAX + 1];
	__u64 version;

	pattern(big, sizeof(big), 3);
	expect_error(_metadata, self->k, vop_store(ID, TAG, big, VALUE_MAX + 1),
		     -E2BIG);
	expect_error(_metadata, self->k, vop_store(ID, TAG, big, UINT32_MAX),
		     -E2BIG);
	expect_error(_metadata, self->k,
		     vop_swap(ID, TAG, big, VALUE_MAX + 1, out, sizeof(out)),
		     -E2BIG);
	expect_error(_metadata, self->k,
		     vop_cas(ID, 0, NULL, 0, TAG, big, VALUE_MAX + 1), -E2BIG);
	expect_error(_metadata, self->k,
		     vop_cas(ID, TAG, big, VALUE_MAX + 1, TAG, big, 1), -E2BIG);
	/* The typed calls refuse what the ABI cannot carry. */
	if (SIZE_MAX > UINT32_MAX) {
		EXPECT_EQ(-E2BIG, katomic_value_store(self->k, ID, TAG, big,
					(size_t)UINT32_MAX + 1, NULL));
		EXPECT_EQ(-E2BIG, katomic_value_cas(self->k, ID, 0, NULL,
					(size_t)UINT32_MAX + 1, TAG, big, 1,
					NULL));
	}
	expect_value(_metadata, self->k, ID, 0, NULL, 0, 0);
	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, big, VALUE_MAX,
					 &version));
	expect_value(_metadata, self->k, ID, TAG, big, VALUE_MAX, 1);
}

/*
 * -ERANGE, as getxattr: out_len becomes the length needed, nothing is
 * copied, nothing else in the struct changes, and a SWAP leaves the slot
 * as it was.
 */
TEST_F(slot, erange)
{
	unsigned char out[VALUE_MAX];
	size_t len;

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 50, NULL));
	expect_erange(_metadata, self->k, vop_load(ID, out, 49), 50);
	/* Ask for the length with no buffer, then load with exactly that. */
	len = 0;
	EXPECT_EQ(-ERANGE, katomic_value_load(self->k, ID, NULL, &len, NULL,
					      NULL));
	EXPECT_EQ(50, len);
	EXPECT_EQ(0, katomic_value_load(self->k, ID, out, &len, NULL, NULL));
	EXPECT_EQ(50, len);
	EXPECT_EQ(0, memcmp(out, self->a, 50));

	expect_erange(_metadata, self->k,
		      vop_swap(ID, TAG, self->b, 10, out, 49), 50);
	len = 0;
	EXPECT_EQ(-ERANGE, katomic_value_swap(self->k, ID, TAG, self->b, 10,
					      NULL, &len, NULL, NULL));
	EXPECT_EQ(50, len);
	expect_value(_metadata, self->k, ID, TAG, self->a, 50, 1);
	/* A capacity above UINT32_MAX is no error. */
	if (SIZE_MAX > UINT32_MAX) {
		len = (size_t)UINT32_MAX + 5;
		EXPECT_EQ(0, katomic_value_load(self->k, ID, out, &len, NULL,
						NULL));
		EXPECT_EQ(50, len);
	}
	expect_neighbours_empty(_metadata, self->k);
}

/* Go's TestValue_Swap: Swap returns the old value, nil on an empty Value. */
TEST_F(slot, swap)
{
	unsigned char out[VALUE_MAX];
	struct katomic_value_op op;

	memset(out, FILL, sizeof(out));
	op = vop_swap(ID, TAG, self->a, 20, out, sizeof(out));
	op.out_tag = 9;		/* ignored on input */
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(0, op.out_tag);
	EXPECT_EQ(0, op.out_len);
	EXPECT_EQ(1, op.version);
	EXPECT_EQ(FILL, out[0]);

	op = vop_swap(ID, TAG, self->b, VALUE_MAX, out, 20);
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(TAG, op.out_tag);
	EXPECT_EQ(20, op.out_len);
	EXPECT_EQ(2, op.version);
	EXPECT_EQ(0, memcmp(out, self->a, 20));
	expect_value(_metadata, self->k, ID, TAG, self->b, VALUE_MAX, 2);
	expect_neighbours_empty(_metadata, self->k);
}

/*
 * A SWAP whose out is its buf: the new value is read before the old one
 * is written, as the module copies it in first, on every kind.
 */
TEST_F(slot, swap_in_one_buffer)
{
	unsigned char buf[VALUE_MAX];
	size_t len;
	__u32 tag;

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 30, NULL));
	memcpy(buf, self->b, sizeof(buf));
	len = sizeof(buf);
	EXPECT_EQ(0, katomic_value_swap(self->k, ID, TAG, buf, 60, buf, &len,
					&tag, NULL));
	EXPECT_EQ(30, len);
	EXPECT_EQ(TAG, tag);
	EXPECT_EQ(0, memcmp(buf, self->a, 30));
	expect_value(_metadata, self->k, ID, TAG, self->b, 60, 2);
	/* Overlapping, not equal: out starts inside buf. */
	memcpy(buf, self->a, sizeof(buf));
	len = 60;
	EXPECT_EQ(0, katomic_value_swap(self->k, ID, TAG, buf, 50, buf + 10,
					&len, NULL, NULL));
	EXPECT_EQ(60, len);
	EXPECT_EQ(0, memcmp(buf + 10, self->b, 60));
	expect_value(_metadata, self->k, ID, TAG, self->a, 50, 3);
}

/* Go's TestValue_CompareAndSwap, with (tag, length, bytes) for ==. */
TEST_F(slot, cas)
{
	unsigned char old[VALUE_MAX];
	struct katomic_value_op op;
	size_t i;

	/* CompareAndSwap(nil, new) on an empty Value swaps ... */
	op = vop_cas(ID, 0, NULL, 0, TAG, self->a, 40);
	op.applied = 1;
	EXPECT_EQ(1, katomic_value_op(self->k, &op));
	EXPECT_EQ(1, op.applied);
	EXPECT_EQ(1, op.version);
	EXPECT_EQ(0, op.out_tag);	/* CAS leaves them as given */
	EXPECT_EQ(0, op.out_len);
	/* ... and only on an empty one. */
	op = vop_cas(ID, 0, NULL, 0, TAG, self->b, 40);
	op.applied = 1;
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(0, op.applied);
	EXPECT_EQ(1, op.version);

	/* Another tag, a length one short or long, one byte off: no swap. */
	memcpy(old, self->a, sizeof(old));
	EXPECT_EQ(0, katomic_value_cas(self->k, ID, OTHER_TAG, old, 40, TAG,
				       self->b, 40, NULL));
	EXPECT_EQ(0, katomic_value_cas(self->k, ID, TAG, old, 39, TAG,
				       self->b, 40, NULL));
	EXPECT_EQ(0, katomic_value_cas(self->k, ID, TAG, old, 41, TAG,
				       self->b, 40, NULL));
	for (i = 0; i < 40; i += 13) {
		old[i] ^= 1;
		EXPECT_EQ(0, katomic_value_cas(self->k, ID, TAG, old, 40, TAG,
					       self->b, 40, NULL));
		old[i] ^= 1;
	}
	old[39] ^= 0x80;
	EXPECT_EQ(0, katomic_value_cas(self->k, ID, TAG, old, 40, TAG,
				       self->b, 40, NULL));
	old[39] ^= 0x80;
	expect_value(_metadata, self->k, ID, TAG, self->a, 40, 1);

	/* The value itself: swaps, and the struct keeps out_len, out_tag. */
	op = vop_cas(ID, TAG, old, 40, TAG, self->b, VALUE_MAX);
	EXPECT_EQ(1, katomic_value_op(self->k, &op));
	EXPECT_EQ(TAG, op.out_tag);
	EXPECT_EQ(40, op.out_len);
	EXPECT_EQ(2, op.version);
	expect_value(_metadata, self->k, ID, TAG, self->b, VALUE_MAX, 2);
	/* Equal bytes from another buffer compare equal. */
	memcpy(old, self->b, sizeof(old));
	EXPECT_EQ(1, katomic_value_cas(self->k, ID, TAG, old, VALUE_MAX, TAG,
				       self->a, 1, NULL));
	expect_value(_metadata, self->k, ID, TAG, self->a, 1, 3);

	/* An empty expected value is tag 0 and length 0, both. */
	expect_error(_metadata, self->k, vop_cas(ID, 0, old, 1, TAG, self->a, 1),
		     -EINVAL);
	expect_error(_metadata, self->k,
		     vop_cas(ID, TAG, old, 0, TAG, self->a, 1), -EINVAL);
	expect_value(_metadata, self->k, ID, TAG, self->a, 1, 3);
	expect_neighbours_empty(_metadata, self->k);
}

/*
 * Every successful STORE, SWAP and CAS counts one; failures and LOADs
 * count nothing; every op returns the count.
 */
TEST_F(slot, version)
{
	unsigned char out[VALUE_MAX];
	__u64 v = 99;
	size_t len;
	int i;

	for (i = 1; i <= 10; i++) {
		ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a,
						 i, &v));
		EXPECT_EQ(i, v);
	}
	len = sizeof(out);
	ASSERT_EQ(0, katomic_value_swap(self->k, ID, TAG, self->b, 5, out,
					&len, NULL, &v));
	EXPECT_EQ(11, v);
	EXPECT_EQ(1, katomic_value_cas(self->k, ID, TAG, self->b, 5, TAG,
				       self->a, 6, &v));
	EXPECT_EQ(12, v);
	v = 99;
	EXPECT_EQ(0, katomic_value_cas(self->k, ID, TAG, self->b, 5, TAG,
				       self->a, 7, &v));
	EXPECT_EQ(12, v);
	EXPECT_EQ(-EINVAL, katomic_value_store(self->k, ID, OTHER_TAG,
					       self->a, 1, &v));
	EXPECT_EQ(-E2BIG, katomic_value_store(self->k, ID, TAG, self->a,
					      VALUE_MAX + 1, &v));
	len = 1;
	EXPECT_EQ(-ERANGE, katomic_value_swap(self->k, ID, TAG, self->a, 1,
					      out, &len, NULL, &v));
	v = 99;
	len = sizeof(out);
	ASSERT_EQ(0, katomic_value_load(self->k, ID, out, &len, NULL, &v));
	EXPECT_EQ(12, v);
	expect_value(_metadata, self->k, ID, TAG, self->a, 6, 12);
	expect_neighbours_empty(_metadata, self->k);
}

/* Every length from 1 to value_max, stored and loaded back, on one slot. */
TEST_F(slot, every_length)
{
	unsigned char buf[VALUE_MAX];
	__u32 len;

	for (len = 1; len <= VALUE_MAX; len++) {
		pattern(buf, len, len);
		ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, buf, len,
						 NULL));
		expect_value(_metadata, self->k, ID, TAG, buf, len, len);
		if (!_metadata->passed) {
			TH_LOG("length %u", len);
			return;
		}
	}
	/* Shorter after longer: nothing of the longer value shows. */
	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 3, NULL));
	expect_value(_metadata, self->k, ID, TAG, self->a, 3, VALUE_MAX + 1);
	expect_neighbours_empty(_metadata, self->k);
}

/* Fields, op and id: -EINVAL before the slot is looked at. */
TEST_F(slot, field_errors)
{
	static const unsigned char bad_ops[] = { 0, KATOMIC_VOP_LAST + 1, 255 };
	unsigned char out[VALUE_MAX];
	struct katomic_value_op op;
	size_t i;

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 5, NULL));
	for (i = 0; i < 4; i++) {
		struct katomic_value_op ops[4] = {
			vop_load(ID, out, sizeof(out)),
			vop_store(ID, TAG, self->b, 5),
			vop_swap(ID, TAG, self->b, 5, out, sizeof(out)),
			vop_cas(ID, TAG, self->a, 5, TAG, self->b, 5),
		};

		op = ops[i];
		op.flags = 1;
		expect_error(_metadata, self->k, op, -EINVAL);
		op = ops[i];
		op.reserved0 = 1;
		expect_error(_metadata, self->k, op, -EINVAL);
		op = ops[i];
		op.reserved = 1;
		expect_error(_metadata, self->k, op, -EINVAL);
		op = ops[i];
		op.id = NR_SLOTS;
		expect_error(_metadata, self->k, op, -EINVAL);
		op.id = UINT32_MAX;
		expect_error(_metadata, self->k, op, -EINVAL);
		/* An undefined slot, after the fields. */
		op = ops[i];
		op.id = NR_SLOTS - 1;
		expect_error(_metadata, self->k, op, -ENOENT);
		op.flags = 1;
		expect_error(_metadata, self->k, op, -EINVAL);
	}
	for (i = 0; i < sizeof(bad_ops); i++) {
		op = vop_load(ID, out, sizeof(out));
		op.op = bad_ops[i];
		expect_error(_metadata, self->k, op, -EINVAL);
	}
	/* What each op must leave 0. */
	op = vop_load(ID, out, sizeof(out));
	op.tag = TAG;
	expect_error(_metadata, self->k, op, -EINVAL);
	op = vop_load(ID, out, sizeof(out));
	op.len = 1;
	expect_error(_metadata, self->k, op, -EINVAL);
	op = vop_load(ID, out, sizeof(out));
	op.buf = ptr(self->a);
	expect_error(_metadata, self->k, op, -EINVAL);
	op = vop_store(ID, TAG, self->b, 5);
	op.out = ptr(out);
	expect_error(_metadata, self->k, op, -EINVAL);
	op = vop_store(ID, TAG, self->b, 5);
	op.out_len = 1;
	expect_error(_metadata, self->k, op, -EINVAL);
	/* STORE ignores out_tag, applied and version (out fields). */
	op = vop_store(ID, TAG, self->b, 5);
	op.out_tag = 3;
	op.applied = 1;
	op.version = 77;
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(2, op.version);
	expect_value(_metadata, self->k, ID, TAG, self->b, 5, 2);
	expect_neighbours_empty(_metadata, self->k);
}

/*
 * A twin's -EFAULT: a pointer of 0 where bytes must be read or written.
 * Before the op, nothing changes; a SWAP whose old value cannot be
 * written out has run (as read(2): the change stands).
 */
TEST_F(slot, efault)
{
	unsigned char out[VALUE_MAX];
	struct katomic_value_op op;

	expect_error(_metadata, self->k, vop_store(ID, TAG, NULL, 5), -EFAULT);
	expect_error(_metadata, self->k,
		     vop_swap(ID, TAG, NULL, 5, out, sizeof(out)), -EFAULT);
	expect_error(_metadata, self->k, vop_cas(ID, 0, NULL, 0, TAG, NULL, 5),
		     -EFAULT);
	expect_value(_metadata, self->k, ID, 0, NULL, 0, 0);
	/* Into an empty slot nothing is written out: no fault. */
	op = vop_swap(ID, TAG, self->a, 5, NULL, 0);
	EXPECT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(0, op.out_len);
	/* CAS's expected bytes are read. */
	expect_error(_metadata, self->k,
		     vop_cas(ID, TAG, NULL, 5, TAG, self->b, 5), -EFAULT);
	expect_value(_metadata, self->k, ID, TAG, self->a, 5, 1);
	/* LOAD of a value into nothing. */
	expect_error(_metadata, self->k, vop_load(ID, NULL, sizeof(out)),
		     -EFAULT);
	/* SWAP: the new value is in, the old one is lost, -EFAULT. */
	op = vop_swap(ID, TAG, self->b, 7, NULL, sizeof(out));
	expect_error(_metadata, self->k, op, -EFAULT);
	expect_value(_metadata, self->k, ID, TAG, self->b, 7, 2);
	expect_neighbours_empty(_metadata, self->k);
}

/*
 * Several faults at once: the module's order (README, "Value ops"):
 * fields, slot, new value (nil, size), CAS's expected value (size, empty
 * rule), user memory, then under the lock the tag, SWAP's -ERANGE.
 */
TEST_F(slot, errno_order)
{
	unsigned char out[VALUE_MAX];

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 50, NULL));
	/* nil before size */
	expect_error(_metadata, self->k, vop_store(ID, 0, self->a, VALUE_MAX + 1),
		     -EINVAL);
	/* undefined before nil */
	expect_error(_metadata, self->k, vop_store(NR_SLOTS - 1, 0, self->a, 1),
		     -ENOENT);
	/* the new value's size before the expected one's and before memory */
	expect_error(_metadata, self->k,
		     vop_cas(ID, 0, self->a, 1, TAG, NULL, VALUE_MAX + 1),
		     -E2BIG);
	/* the expected value before memory */
	expect_error(_metadata, self->k,
		     vop_cas(ID, TAG, self->a, VALUE_MAX + 1, TAG, NULL, 1),
		     -E2BIG);
	expect_error(_metadata, self->k, vop_cas(ID, 0, self->a, 1, TAG, NULL, 1),
		     -EINVAL);
	/* size and memory before the tag */
	expect_error(_metadata, self->k,
		     vop_store(ID, OTHER_TAG, self->a, VALUE_MAX + 1), -E2BIG);
	expect_error(_metadata, self->k,
		     vop_cas(ID, TAG, self->a, VALUE_MAX + 1, OTHER_TAG,
			     self->a, 1), -E2BIG);
	expect_error(_metadata, self->k, vop_store(ID, OTHER_TAG, NULL, 1),
		     -EFAULT);
	/* the tag before SWAP's buffer */
	expect_error(_metadata, self->k,
		     vop_swap(ID, OTHER_TAG, self->a, 1, out, 1), -EINVAL);
	expect_error(_metadata, self->k, vop_swap(ID, TAG, NULL, 1, out, 1),
		     -EFAULT);
	/* ... and SWAP's buffer after it (out_len written back) */
	expect_erange(_metadata, self->k, vop_swap(ID, TAG, self->a, 1, out, 1),
		      50);
	expect_value(_metadata, self->k, ID, TAG, self->a, 50, 1);
}

/* The typed calls against the raw op, results and all. */
TEST_F(slot, typed_calls)
{
	unsigned char out[VALUE_MAX], out2[VALUE_MAX];
	struct katomic_value_op op;
	__u64 version = 0;
	__u32 tag = 0;
	size_t len;

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 33,
					 &version));
	op = vop_store(ID + 1, TAG, self->a, 33);
	ASSERT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(op.version, version);

	len = sizeof(out);
	ASSERT_EQ(0, katomic_value_load(self->k, ID, out, &len, &tag,
					&version));
	op = vop_load(ID + 1, out2, sizeof(out2));
	ASSERT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(op.out_len, len);
	EXPECT_EQ(op.out_tag, tag);
	EXPECT_EQ(op.version, version);
	EXPECT_EQ(0, memcmp(out, out2, len));

	len = sizeof(out);
	ASSERT_EQ(0, katomic_value_swap(self->k, ID, TAG, self->b, 44, out,
					&len, &tag, &version));
	op = vop_swap(ID + 1, TAG, self->b, 44, out2, sizeof(out2));
	ASSERT_EQ(0, katomic_value_op(self->k, &op));
	EXPECT_EQ(op.out_len, len);
	EXPECT_EQ(op.out_tag, tag);
	EXPECT_EQ(op.version, version);
	EXPECT_EQ(0, memcmp(out, out2, len));

	EXPECT_EQ(1, katomic_value_cas(self->k, ID, TAG, self->b, 44, TAG,
				       self->a, 2, &version));
	op = vop_cas(ID + 1, TAG, self->b, 44, TAG, self->a, 2);
	EXPECT_EQ(1, katomic_value_op(self->k, &op));
	EXPECT_EQ(op.version, version);
	EXPECT_EQ(3, version);
	/* NULL for every result the caller does not want. */
	EXPECT_EQ(0, katomic_value_store(self->k, ID, TAG, self->a, 1, NULL));
	len = sizeof(out);
	EXPECT_EQ(0, katomic_value_load(self->k, ID, out, &len, NULL, NULL));
	EXPECT_EQ(0, katomic_value_swap(self->k, ID, TAG, self->a, 1, out,
					&len, NULL, NULL));
	EXPECT_EQ(1, katomic_value_cas(self->k, ID, TAG, self->a, 1, TAG,
				       self->b, 1, NULL));
	expect_value(_metadata, self->k, ID, TAG, self->b, 1, 6);
}

/* DEFINE of a slot, in the module's order (notes/values.md). */
TEST(define_errors)
{
	struct katomic *k = new_twin(_metadata, NR_SLOTS, VALUE_MAX);
	struct katomic_define d = { .id = 1, .object = KATOMIC_OBJ_VALUE };
	unsigned int sync, got;

	ASSERT_NE(NULL, k);
	/* 1: id, flags, reserved, type, sync: -EINVAL */
	EXPECT_EQ(-EINVAL, katomic_value_define(k, NR_SLOTS, 0));
	EXPECT_EQ(-EINVAL, katomic_value_define(k, UINT32_MAX, 0));
	EXPECT_EQ(-EINVAL, katomic_value_define(k, 1, KATOMIC_SYNC_LAST + 1));
	EXPECT_EQ(-EINVAL, katomic_value_define(k, 1, 255));
	EXPECT_EQ(-EINVAL, katomic_value_define(k, 1,
					256 + KATOMIC_SYNC_RCU));
	EXPECT_EINVAL_WITH(katomic_define_raw, k, d, flags, 1);
	EXPECT_EINVAL_WITH(katomic_define_raw, k, d, reserved, 1);
	d.type = KATOMIC_TYPE_INT64;
	EXPECT_EQ(-EINVAL, katomic_define_raw(k, &d));
	/* ... before 2: a counter kind */
	d.sync = KATOMIC_SYNC_ATOMIC;
	EXPECT_EQ(-EINVAL, katomic_define_raw(k, &d));
	d.type = 0;
	d.init = 1;
	d.param = 1;
	EXPECT_EQ(-EOPNOTSUPP, katomic_define_raw(k, &d));
	/* 2: every counter kind is -EOPNOTSUPP, before init and param */
	for (sync = 0; sync <= KATOMIC_SYNC_LAST; sync++) {
		bool slot_kind = sync == KATOMIC_SYNC_DEFAULT ||
				 sync == KATOMIC_SYNC_NONE ||
				 sync == KATOMIC_SYNC_RCU ||
				 sync == KATOMIC_SYNC_SEQLOCK;

		d.sync = sync;
		d.init = 1;
		d.param = 0;
		EXPECT_EQ(slot_kind ? -EINVAL : -EOPNOTSUPP,
			  katomic_define_raw(k, &d));
		d.init = 0;
		d.param = 1;
		EXPECT_EQ(slot_kind ? -EINVAL : -EOPNOTSUPP,
			  katomic_define_raw(k, &d));
		EXPECT_EQ(slot_kind ? 0 : -EOPNOTSUPP,
			  katomic_value_define(k, 1, sync));
		if (!slot_kind)
			continue;
		/* QUERY resolves DEFAULT to RCU. */
		EXPECT_EQ(0, katomic_value_query(k, 1, &got));
		EXPECT_EQ(sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_RCU : sync,
			  got);
		/* 4: defined, after 3 */
		EXPECT_EQ(-EEXIST, katomic_value_define(k, 1, sync));
		EXPECT_EQ(-EINVAL, katomic_define_raw(k, &d));
		EXPECT_EQ(0, katomic_value_undefine(k, 1));
	}
	/* None of the failures defined it; counters are another object. */
	EXPECT_EQ(-ENOENT, katomic_value_query(k, 1, NULL));
	EXPECT_EQ(-ENOENT, katomic_query(k, 1, NULL, NULL));
	EXPECT_EQ(0, katomic_define(k, 1, KATOMIC_TYPE_INT32, 0, 5));
	EXPECT_EQ(-ENOENT, katomic_value_query(k, 1, NULL));
	EXPECT_EQ(0, katomic_value_define(k, 1, KATOMIC_SYNC_SEQLOCK));
	EXPECT_EQ(0, katomic_undefine(k, 1));
	EXPECT_EQ(0, katomic_value_query(k, 1, &got));
	EXPECT_EQ(KATOMIC_SYNC_SEQLOCK, got);
	/* A slot id beyond nr_counters is fine, beyond nr_slots is not. */
	EXPECT_EQ(0, katomic_value_define(k, NR_SLOTS - 1, 0));
	EXPECT_EQ(-EINVAL, katomic_define(k, NR_SLOTS - 1,
					  KATOMIC_TYPE_INT32, 0, 0));
	katomic_close(k);
}

/* UNDEFINE takes id and object, all else 0; QUERY ignores its out fields. */
TEST(undefine_and_query)
{
	struct katomic *k = new_twin(_metadata, NR_SLOTS, VALUE_MAX);
	struct katomic_define d = { .id = 2, .object = KATOMIC_OBJ_VALUE };

	ASSERT_NE(NULL, k);
	EXPECT_EQ(-ENOENT, katomic_value_undefine(k, 2));
	EXPECT_EQ(-ENOENT, katomic_query_raw(k, &d));
	EXPECT_EQ(-EINVAL, katomic_value_undefine(k, NR_SLOTS));
	EXPECT_EQ(-EINVAL, katomic_value_query(k, NR_SLOTS, NULL));
	ASSERT_EQ(0, katomic_value_define(k, 2, KATOMIC_SYNC_NONE));

	d.type = 77;
	d.sync = 77;
	d.param = 77;
	EXPECT_EQ(0, katomic_query_raw(k, &d));
	EXPECT_EQ(0, d.type);
	EXPECT_EQ(KATOMIC_SYNC_NONE, d.sync);
	EXPECT_EQ(0, d.param);
	EXPECT_EINVAL_WITH(katomic_query_raw, k, d, flags, 1);
	EXPECT_EINVAL_WITH(katomic_query_raw, k, d, init, 1);
	EXPECT_EINVAL_WITH(katomic_query_raw, k, d, reserved, 1);

	d = (struct katomic_define){ .id = 2, .object = KATOMIC_OBJ_VALUE };
	EXPECT_EINVAL_WITH(katomic_undefine_raw, k, d, sync,
			   KATOMIC_SYNC_NONE);
	EXPECT_EINVAL_WITH(katomic_undefine_raw, k, d, type, 1);
	EXPECT_EINVAL_WITH(katomic_undefine_raw, k, d, param, 1);
	EXPECT_EINVAL_WITH(katomic_undefine_raw, k, d, init, 1);
	EXPECT_EINVAL_WITH(katomic_undefine_raw, k, d, flags, 1);
	EXPECT_EQ(0, katomic_undefine_raw(k, &d));
	EXPECT_EQ(-ENOENT, katomic_undefine_raw(k, &d));
	EXPECT_EQ(-ENOENT, katomic_value_query(k, 2, NULL));
	katomic_close(k);
}

/* katomic_twin_create's parameters and what info reports. */
TEST(create_and_info)
{
	struct katomic_twin_params p = { 3, 5, 0, 0 };
	struct katomic *keep = (struct katomic *)&p, *k = keep;
	struct katomic_info info;

	EXPECT_EQ(-EINVAL, katomic_twin_create(NULL, &k));
	EXPECT_EQ(-EINVAL, katomic_twin_create(&p, &k));	/* value_max 0 */
	p.value_max = 1;
	p.flags = 2;
	EXPECT_EQ(-EINVAL, katomic_twin_create(&p, &k));
	EXPECT_EQ(keep, k);

	p.flags = KATOMIC_TWIN_PACKED;
	ASSERT_EQ(0, katomic_twin_create(&p, &k));
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, katomic_info(k, &info));
	EXPECT_EQ(TWIN_FEATURES | KATOMIC_FEAT_VALUES, info.features);
	EXPECT_EQ(3, info.nr_counters);
	EXPECT_EQ(5, info.nr_slots);
	EXPECT_EQ(1, info.value_max);
	EXPECT_EQ(KATOMIC_TWIN_MAX_BATCH, info.max_batch);
	EXPECT_EQ(0, info.reserved[0]);
	EXPECT_EQ(0, info.reserved[8]);
	/* Counters and slots side by side, ids of their own. */
	EXPECT_EQ(0, katomic_define(k, 2, KATOMIC_TYPE_UINT64, 0, 9));
	EXPECT_EQ(0, katomic_value_define(k, 2, 0));
	EXPECT_EQ(0, katomic_value_store(k, 2, 1, "x", 1, NULL));
	EXPECT_EQ(-E2BIG, katomic_value_store(k, 2, 1, "xy", 2, NULL));
	katomic_close(k);

	/* Slots without counters. */
	p = (struct katomic_twin_params){ 0, 1, 8, 0 };
	ASSERT_EQ(0, katomic_twin_create(&p, &k));
	EXPECT_EQ(0, katomic_value_define(k, 0, KATOMIC_SYNC_NONE));
	EXPECT_EQ(-EINVAL, katomic_define(k, 0, KATOMIC_TYPE_INT32, 0, 0));
	katomic_close(k);
}

/*
 * A twin without slots has no values: no KATOMIC_FEAT_VALUES, and every
 * slot call is -EOPNOTSUPP, whatever else is wrong with it.
 */
TEST(no_slots_no_values)
{
	struct katomic_twin_params p = { 4, 0, 64, 0 };
	struct katomic_define d = { .id = 0, .object = KATOMIC_OBJ_VALUE };
	struct katomic_value_op op = vop_store(0, TAG, "abc", 3);
	struct katomic *k;
	struct katomic_info info;
	int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, i ? katomic_twin_create(&p, &k)
			       : katomic_twin_new(4, &k));
		ASSERT_EQ(0, katomic_info(k, &info));
		EXPECT_EQ(TWIN_FEATURES, info.features);
		EXPECT_EQ(0, info.nr_slots);
		EXPECT_EQ(-EOPNOTSUPP, katomic_value_define(k, 0, 0));
		EXPECT_EQ(-EOPNOTSUPP, katomic_value_undefine(k, 0));
		EXPECT_EQ(-EOPNOTSUPP, katomic_value_query(k, 0, NULL));
		EXPECT_EQ(-EOPNOTSUPP, katomic_query_raw(k, &d));
		EXPECT_EQ(-EOPNOTSUPP, katomic_value_op(k, &op));
		op.flags = 1;
		EXPECT_EQ(-EOPNOTSUPP, katomic_value_op(k, &op));
		op.flags = 0;
		katomic_close(k);
	}
}

#define LEAK_STORES	100000
#define LEAK_SLACK	(64 * 1024)
#define LEAK_MAX	1024	/* value_max of the leak twin */
/*
 * Rounds of DEFINE, stores, UNDEFINE (and of twins closed full): an RCU
 * slot whose values were replaced waits some 10 ms for liburcu's
 * call_rcu thread at UNDEFINE and at close.
 */
#define LEAK_ROUNDS	300

static const __u32 leak_sizes[] = { 8, 24, 100, 256, 1000, LEAK_MAX };
#define NR_LEAK_SIZES	(sizeof(leak_sizes) / sizeof(leak_sizes[0]))

/* Stores n values of every size (and swaps and CASes some) into slot id. */
static void churn(struct __test_metadata *_metadata, struct katomic *k,
		  __u32 id, unsigned int n, const unsigned char *buf)
{
	unsigned char out[LEAK_MAX];
	unsigned int i;
	size_t len;

	for (i = 0; i < n; i++) {
		__u32 size = leak_sizes[i % NR_LEAK_SIZES];

		if (i % 16 == 5) {
			len = sizeof(out);
			ASSERT_EQ(0, katomic_value_swap(k, id, TAG, buf + i % 7,
						size, out, &len, NULL, NULL));
		} else if (i % 16 == 9) {
			len = sizeof(out);
			ASSERT_EQ(0, katomic_value_load(k, id, out, &len, NULL,
							NULL));
			ASSERT_EQ(1, katomic_value_cas(k, id, TAG, out, len,
						TAG, buf, size, NULL));
		} else {
			ASSERT_EQ(0, katomic_value_store(k, id, TAG,
						buf + i % 7, size, NULL));
		}
	}
}

/*
 * 10^5 stores (and swaps and CASes) into a slot of each kind, then its
 * UNDEFINE: the heap is back where it was before the DEFINE.  Then
 * rounds of DEFINE, stores, UNDEFINE, and of twins closed with their
 * slots full.
 * A first round before the baseline lets liburcu set up its call_rcu
 * thread and the caches settle.
 */
TEST(no_leaks)
{
	unsigned char buf[LEAK_MAX + 8];
	struct katomic *k;
	ssize_t before, grown;
	unsigned int round;
	size_t ki;

	pattern(buf, sizeof(buf), 5);
	k = new_twin(_metadata, 4, LEAK_MAX);
	ASSERT_NE(NULL, k);
	for (ki = 0; ki < NR_SLOT_KINDS; ki++) {
		ASSERT_EQ(0, katomic_value_define(k, 1, slot_kinds[ki]));
		churn(_metadata, k, 1, 1000, buf);
		ASSERT_EQ(0, katomic_value_undefine(k, 1));
	}
	for (ki = 0; ki < NR_SLOT_KINDS; ki++) {
		before = heap_in_use();
		ASSERT_EQ(0, katomic_value_define(k, 1, slot_kinds[ki]));
		churn(_metadata, k, 1, LEAK_STORES, buf);
		ASSERT_EQ(0, katomic_value_undefine(k, 1));
		grown = heap_in_use() - before;
		TH_LOG("%s: %d stores, then UNDEFINE: heap %+zd bytes",
		       katomic_sync_name(slot_kinds[ki]), LEAK_STORES, grown);
		EXPECT_GT(LEAK_SLACK, grown);
	}

	before = heap_in_use();
	for (round = 0; round < LEAK_ROUNDS; round++) {
		ki = round % NR_SLOT_KINDS;
		ASSERT_EQ(0, katomic_value_define(k, 2, slot_kinds[ki]));
		churn(_metadata, k, 2, 3, buf);
		ASSERT_EQ(0, katomic_value_undefine(k, 2));
	}
	katomic_close(k);
	EXPECT_GT(LEAK_SLACK, heap_in_use() - before);

	before = heap_in_use();
	for (round = 0; round < LEAK_ROUNDS / 3; round++) {
		k = new_twin(_metadata, 4, LEAK_MAX);
		ASSERT_NE(NULL, k);
		for (ki = 0; ki < NR_SLOT_KINDS; ki++) {
			ASSERT_EQ(0, katomic_value_define(k, ki,
							  slot_kinds[ki]));
			churn(_metadata, k, ki, 3, buf);
		}
		katomic_close(k);
	}
	EXPECT_GT(LEAK_SLACK, heap_in_use() - before);
}

#define BIG	(64u << 20)	/* no malloc within 1 MiB of VmSize holds it */

/*
 * Without memory: an RCU STORE, SWAP or CAS that cannot allocate its new
 * value is -ENOMEM and changes nothing; a NONE or SEQLOCK DEFINE that
 * cannot allocate its buffer is -ENOMEM and defines nothing.  Both work
 * once memory is there again.
 */
TEST(enomem)
{
	struct katomic_twin_params p = { 0, 4, BIG, 0 };
	unsigned char *big;
	struct katomic *k;
	struct rlimit old;
	size_t len;
	__u64 version;
	int ret[5];

	big = malloc(BIG);
	ASSERT_NE(NULL, big);
	memset(big, 0x5a, BIG);
	ASSERT_EQ(0, katomic_twin_create(&p, &k));
	ASSERT_EQ(0, katomic_value_define(k, 0, KATOMIC_SYNC_RCU));
	/* Two stores: the call_rcu thread exists before the cap. */
	ASSERT_EQ(0, katomic_value_store(k, 0, TAG, big, 8, NULL));
	ASSERT_EQ(0, katomic_value_store(k, 0, TAG, big, 9, NULL));

	cap_address_space(_metadata, 1 << 20, &old);
	ret[0] = katomic_value_store(k, 0, TAG, big, BIG, NULL);
	len = BIG;
	ret[1] = katomic_value_swap(k, 0, TAG, big, BIG, big, &len, NULL,
				    NULL);
	ret[2] = katomic_value_cas(k, 0, TAG, big, 9, TAG, big, BIG, NULL);
	ret[3] = katomic_value_define(k, 1, KATOMIC_SYNC_NONE);
	ret[4] = katomic_value_define(k, 2, KATOMIC_SYNC_SEQLOCK);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));

	EXPECT_EQ(-ENOMEM, ret[0]);
	EXPECT_EQ(-ENOMEM, ret[1]);
	EXPECT_EQ(-ENOMEM, ret[2]);
	EXPECT_EQ(-ENOMEM, ret[3]);
	EXPECT_EQ(-ENOMEM, ret[4]);
	EXPECT_EQ(-ENOENT, katomic_value_query(k, 1, NULL));
	EXPECT_EQ(-ENOENT, katomic_value_query(k, 2, NULL));
	len = 16;
	EXPECT_EQ(0, katomic_value_load(k, 0, big, &len, NULL, &version));
	EXPECT_EQ(9, len);
	EXPECT_EQ(2, version);
	/* With memory again. */
	EXPECT_EQ(0, katomic_value_store(k, 0, TAG, big, BIG, &version));
	EXPECT_EQ(3, version);
	EXPECT_EQ(0, katomic_value_define(k, 1, KATOMIC_SYNC_NONE));
	EXPECT_EQ(0, katomic_value_define(k, 2, KATOMIC_SYNC_SEQLOCK));
	katomic_close(k);
	free(big);
}

/*
 * A child of a process whose threads used RCU slots has a call_rcu
 * thread of its own (liburcu's fork handlers), so its stores that replace
 * values and its UNDEFINE, which waits for their frees, complete.
 */
TEST(rcu_after_fork)
{
	struct katomic *k = new_twin(_metadata, 2, 8);
	int status = -1;
	pid_t pid;

	ASSERT_NE(NULL, k);
	ASSERT_EQ(0, katomic_value_define(k, 0, KATOMIC_SYNC_RCU));
	ASSERT_EQ(0, katomic_value_store(k, 0, TAG, "parent", 6, NULL));
	ASSERT_EQ(0, katomic_value_store(k, 0, TAG, "parent", 6, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		bool ok = !katomic_value_store(k, 0, TAG, "child", 5, NULL) &&
			  !katomic_value_store(k, 0, TAG, "child", 5, NULL) &&
			  !katomic_value_undefine(k, 0) &&
			  !katomic_value_define(k, 1, KATOMIC_SYNC_RCU) &&
			  !katomic_value_store(k, 1, TAG, "x", 1, NULL) &&
			  !katomic_value_store(k, 1, TAG, "y", 1, NULL);

		katomic_close(k);
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent's slot is its own. */
	expect_value(_metadata, k, 0, TAG, "parent", 6, 2);
	ASSERT_EQ(0, katomic_value_store(k, 0, TAG, "parent", 6, NULL));
	EXPECT_EQ(0, katomic_value_undefine(k, 0));
	katomic_close(k);
}

TEST_HARNESS_MAIN
