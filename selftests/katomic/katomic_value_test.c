// SPDX-License-Identifier: GPL-2.0
/*
 * katomic value slots: Go's atomic.Value in /dev/katomic, checked with the
 * invariants of Go's own src/sync/atomic/value_test.go, for every slot kind
 * (RCU, SEQLOCK, NONE; DEFAULT is RCU):
 *
 *  - semantics (Go's TestValue, TestValuePanic, the Swap and
 *    CompareAndSwap tables): an empty slot loads as nil, nil cannot be
 *    stored, the first store fixes the tag, SWAP returns the old value,
 *    CAS compares tag, length and bytes, version counts the successful
 *    stores; every op writes back only the fields abi.md says it writes
 *    (and applied, which ops other than CAS may clear);
 *  - errors: every rule of abi.md's "Value operations" and of
 *    notes/values.md, in its order of checks; a failed op changes
 *    nothing and writes nothing back (-ERANGE's out_len apart), but for
 *    an -EFAULT on the way out, after which the change stands;
 *  - concurrency (threads record, the main thread judges):
 *      load_store  every load is one of the values stored (Go's
 *                  TestValueConcurrent) at several sizes; NONE's others
 *                  are counted, not judged;
 *      swap_sum    every value swapped in comes back exactly once
 *                  (TestValueSwapConcurrent);
 *      cas_chain   a CAS ticket chain run by many threads ends at its
 *                  target (TestValueCompareAndSwapConcurrent);
 *      tear        >= 10^6 loads against concurrent stores: none torn on
 *                  RCU and SEQLOCK; NONE's torn ones are counted;
 *  - memory: the kernel memory charged to a cgroup of its own while a
 *    process there runs 10^5 stores (and every other path, failing ones
 *    included) is back at its baseline after the UNDEFINE.
 *
 * Knobs: KATOMIC_THREADS (4, at least 4) threads T; KATOMIC_VALUE_ITERS
 * (1000) the ops per thread of load_store (per size) and swap_sum, and
 * ITERS / 16 + 1 the tickets per thread of cas_chain (2T threads);
 * KATOMIC_VALUE_LOADS (1000000) the tear test's loads of RCU and SEQLOCK
 * (NONE: a fifth); KATOMIC_VALUE_STORES (100000) the memory test's stores.
 * The whole program takes about 35 s in the test bed (QEMU TCG, 2 CPUs).
 *
 * Slots 32..63 of the global context are this program's.
 */
#include <limits.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_value.h"

/* This program's slots: 32..63 of the global context. */
#define KV_FIRST_ID	32
#define KV_NR_IDS	32

/* The tags the tests store; any non-zero number is a tag. */
#define KV_TAG		0x4b41544fU
#define KV_TAG2		0x474f4c41U

/* Poison for the fields an op ignores on input. */
#define KV_POISON_APPLIED	0xa5
#define KV_POISON_TAG		0xdeadbeefU

/*
 * The start of every fixture: the device, INFO, and room for this
 * program's slots when values are claimed.
 */
static void kv_setup(struct __test_metadata *_metadata, int *fd,
		     struct katomic_info *info)
{
	kt_setup_dev(_metadata, fd, info);
	if (!(info->features & KATOMIC_FEAT_VALUES))
		return;
	ASSERT_LE(KV_FIRST_ID + KV_NR_IDS, info->nr_slots)
		TH_LOG("the global context has %u slots", info->nr_slots);
	ASSERT_LE(8, info->value_max);
}

/* The 6.1 harness runs the body even after a SKIP in the setup. */
#define KV_NEED_VALUES(self) do {					\
		if (!((self)->info.features & KATOMIC_FEAT_VALUES))	\
			SKIP(return, "KATOMIC_FEAT_VALUES not claimed"); \
	} while (0)

/* ---- checks ------------------------------------------------------------ */

/* Poison what op ignores on input: applied, version, out_tag (not CAS's). */
static void poison(struct katomic_value_op *v)
{
	v->applied = KV_POISON_APPLIED;
	v->version = KT_POISON;
	if (v->op != KATOMIC_VOP_CAS)
		v->out_tag = KV_POISON_TAG;
}

/*
 * After a successful op: every field but those abi.md says the op writes
 * (LOAD and SWAP: out_len, out_tag, version; STORE: version; CAS:
 * applied, version) is as it was given -- applied, an out field, may
 * also come back 0.
 */
static void expect_untouched(struct __test_metadata *_metadata,
			     const struct katomic_value_op *in,
			     const struct katomic_value_op *out,
			     const char *what)
{
	struct katomic_value_op want = *in;

	want.version = out->version;
	/* applied is CAS's answer: other ops leave it or write it 0 */
	if (!out->applied)
		want.applied = 0;
	if (in->op == KATOMIC_VOP_LOAD || in->op == KATOMIC_VOP_SWAP) {
		want.out_len = out->out_len;
		want.out_tag = out->out_tag;
	} else if (in->op == KATOMIC_VOP_CAS) {
		want.applied = out->applied;
	}
	EXPECT_EQ(0, memcmp(&want, out, sizeof(want)))
		TH_LOG("%s: %s wrote a field it does not write (applied %#x, out_len %u, out_tag %#x)",
		       what, kv_vop_name(in->op), out->applied, out->out_len,
		       out->out_tag);
}

/* Run op with its ignored fields poisoned; it must succeed. */
static void vop_ok(struct __test_metadata *_metadata, int fd,
		   struct katomic_value_op *v, const char *what)
{
	struct katomic_value_op in;
	int r;

	poison(v);
	in = *v;
	r = kv_vop(fd, v);
	ASSERT_EQ(0, r) TH_LOG("%s: %s: %s", what, kv_vop_name(in.op),
			       strerror(-r));
	expect_untouched(_metadata, &in, v, what);
}

/* Run op; it must fail with err and write nothing back. */
static void vop_fails(struct __test_metadata *_metadata, int fd,
		      struct katomic_value_op *v, int err, const char *what)
{
	struct katomic_value_op in = *v;
	int r = kv_vop(fd, v);

	EXPECT_EQ(err, r) TH_LOG("%s: %s returned %d (%s), expected %d (%s)",
				 what, kv_vop_name(in.op), r, strerror(-r),
				 err, strerror(-err));
	EXPECT_EQ(0, memcmp(&in, v, sizeof(in)))
		TH_LOG("%s: the argument was written back after an error",
		       what);
}

/* Run op; -ERANGE, and of the argument only out_len written: needed. */
static void vop_erange(struct __test_metadata *_metadata, int fd,
		       struct katomic_value_op *v, __u32 needed,
		       const char *what)
{
	struct katomic_value_op in, want;
	int r;

	poison(v);
	in = *v;
	want = *v;
	want.out_len = needed;
	r = kv_vop(fd, v);
	EXPECT_EQ(-ERANGE, r) TH_LOG("%s: %s returned %d", what,
				     kv_vop_name(in.op), r);
	EXPECT_EQ(needed, v->out_len) TH_LOG("%s: out_len", what);
	EXPECT_EQ(0, memcmp(&want, v, sizeof(want)))
		TH_LOG("%s: -ERANGE wrote more than out_len (applied %#x, out_tag %#x, version %#llx)",
		       what, v->applied, v->out_tag,
		       (unsigned long long)v->version);
}

/*
 * Slot id holds (tag, len bytes of data), stored version times (tag 0:
 * empty); LOAD writes nothing past the value into a larger buffer.
 */
static void expect_slot(struct __test_metadata *_metadata, int fd, __u32 id,
			__u32 vmax, __u32 tag, const void *data, __u32 len,
			__u64 version, const char *what)
{
	struct katomic_value_op v;
	unsigned char *out;
	__u32 i, cap = vmax + 64;

	out = malloc(cap);
	ASSERT_NE(NULL, out);
	memset(out, 0xee, cap);
	kv_op_init(&v, id, KATOMIC_VOP_LOAD);
	kv_op_out(&v, out, cap);
	vop_ok(_metadata, fd, &v, what);
	EXPECT_EQ(tag, v.out_tag) TH_LOG("%s: tag", what);
	EXPECT_EQ(tag ? len : 0, v.out_len) TH_LOG("%s: length", what);
	EXPECT_EQ(version, v.version) TH_LOG("%s: version", what);
	if (tag && v.out_len == len)
		EXPECT_EQ(0, memcmp(out, data, len))
			TH_LOG("%s: the bytes loaded", what);
	for (i = tag ? len : 0; i < cap && out[i] == 0xee; i++)
		;
	EXPECT_EQ(cap, i) TH_LOG("%s: LOAD wrote byte %u past the value",
				 what, i);
	free(out);
}

/* QUERY of slot id: defined, of the resolved kind sync; nothing else. */
static void expect_kind(struct __test_metadata *_metadata, int fd, __u32 id,
			__u8 sync, const char *what)
{
	struct katomic_define q, want;

	ASSERT_EQ(0, kv_query(fd, id, &q)) TH_LOG("%s: QUERY", what);
	kv_define_init(&want, id, kv_sync_resolve(sync));
	EXPECT_EQ(0, memcmp(&want, &q, sizeof(q)))
		TH_LOG("%s: QUERY says type %u sync %u (%s) param %#llx, expected sync %s",
		       what, q.type, q.sync, kt_sync_name(q.sync),
		       (unsigned long long)q.param,
		       kt_sync_name(kv_sync_resolve(sync)));
}

static bool slot_absent(int fd, __u32 id)
{
	struct katomic_define q;

	return kv_query(fd, id, &q) == -ENOENT;
}

/* ---- one slot of each kind --------------------------------------------- */

FIXTURE(slot) {
	int fd;
	struct katomic_info info;
	__u32 id;		/* defined as the variant's kind */
	__u32 vmax;
	unsigned char *a, *b;	/* two different values, vmax + 8 bytes */
	size_t pg;
	char *pages;		/* read-write, PROT_NONE, read-only */
};

#define KV_KIND_FIXTURE slot
KV_KIND_VARIANTS(ALL)

FIXTURE_SETUP(slot)
{
	kv_setup(_metadata, &self->fd, &self->info);
	if (!(self->info.features & KATOMIC_FEAT_VALUES))
		return;
	self->id = KV_FIRST_ID;
	self->vmax = self->info.value_max;
	self->a = malloc(self->vmax + 8);
	self->b = malloc(self->vmax + 8);
	ASSERT_NE(NULL, self->a);
	ASSERT_NE(NULL, self->b);
	kv_fill(self->a, self->vmax + 8, 0xa);
	kv_fill(self->b, self->vmax + 8, 0xb);
	self->pg = sysconf(_SC_PAGESIZE);
	self->pages = mmap(NULL, 3 * self->pg, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->pages);
	ASSERT_EQ(0, mprotect(self->pages + self->pg, self->pg, PROT_NONE));
	ASSERT_EQ(0, mprotect(self->pages + 2 * self->pg, self->pg,
			      PROT_READ));
	ASSERT_EQ(0, kv_redefine(self->fd, self->id, variant->sync));
}

FIXTURE_TEARDOWN(slot)
{
	if (self->info.features & KATOMIC_FEAT_VALUES)
		kv_undefine(self->fd, self->id);
	if (self->pages && self->pages != MAP_FAILED)
		munmap(self->pages, 3 * self->pg);
	free(self->a);
	free(self->b);
	close(self->fd);
}

#define SLOT_IS(tag, data, len, version, what)				\
	expect_slot(_metadata, self->fd, self->id, self->vmax, (tag),	\
		    (data), (len), (version), (what))

/* The fixture's slot, stored once with (KV_TAG, len bytes of a). */
static void slot_store_a(struct __test_metadata *_metadata,
			 FIXTURE_DATA(slot) *self, __u32 len)
{
	struct katomic_value_op v;

	kv_op_init(&v, self->id, KATOMIC_VOP_STORE);
	kv_op_value(&v, KV_TAG, self->a, len);
	vop_ok(_metadata, self->fd, &v, "the first STORE");
	ASSERT_EQ(1, v.version);
}

/* A page the process cannot read, one it can only read, one byte before. */
#define SLOT_NONE_PAGE	(self->pages + self->pg)
#define SLOT_RO_PAGE	(self->pages + 2 * self->pg)

/* Go's TestValue: nil at first; QUERY says the kind DEFINE resolved. */
TEST_F(slot, empty)
{
	struct katomic_value_op v;

	KV_NEED_VALUES(self);
	expect_kind(_metadata, self->fd, self->id, variant->sync, "DEFINE");
	SLOT_IS(0, NULL, 0, 0, "a new slot");

	/* an empty slot fits any buffer: none, or one that cannot be written */
	kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
	vop_ok(_metadata, self->fd, &v, "LOAD of nil into nothing");
	EXPECT_EQ(0, v.out_len);
	EXPECT_EQ(0, v.out_tag);
	EXPECT_EQ(0, v.version);
	kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
	kv_op_out(&v, SLOT_NONE_PAGE, 16);
	vop_ok(_metadata, self->fd, &v, "LOAD of nil into PROT_NONE");
	EXPECT_EQ(0, v.out_len);
	EXPECT_EQ(0, v.out_tag);
}

/* Go's TestValue and TestValueLarge: what is stored loads, any size. */
TEST_F(slot, store_load)
{
	const __u32 vmax = self->vmax;
	const __u32 lens[] = {
		1, 7, 8, 9, vmax < 100 ? vmax : 100, vmax - 1, vmax, 8, 1,
		vmax, vmax / 2 + 1, 3,
	};
	struct katomic_value_op v;
	unsigned int i;
	char what[64];

	KV_NEED_VALUES(self);
	for (i = 0; i < KT_ARRAY_SIZE(lens); i++) {
		const unsigned char *data = i % 2 ? self->b : self->a;

		snprintf(what, sizeof(what), "STORE %u of %u bytes", i + 1,
			 lens[i]);
		kv_op_init(&v, self->id, KATOMIC_VOP_STORE);
		kv_op_value(&v, KV_TAG, data, lens[i]);
		vop_ok(_metadata, self->fd, &v, what);
		EXPECT_EQ(i + 1, v.version) TH_LOG("%s", what);
		SLOT_IS(KV_TAG, data, lens[i], i + 1, what);
	}
	/* a value of exactly the capacity fits */
	kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
	kv_op_out(&v, self->pages, 3);
	vop_ok(_metadata, self->fd, &v, "LOAD into exactly 3 bytes");
	EXPECT_EQ(3, v.out_len);
	EXPECT_EQ(0, memcmp(self->pages, self->b, 3));
}

/* Go's TestValuePanic: nil is never stored; the first store fixes the tag. */
TEST_F(slot, nil_and_tag)
{
	/*
	 * (tag, len, buf) of a nil value: the ways to say it, with a tag
	 * (KV_TAG2) that a nil must not fix
	 */
	const struct {
		__u32 tag, len;
		const void *buf;
	} nils[] = {
		{ 0, 8, self->a }, { KV_TAG2, 0, self->a }, { 0, 0, NULL },
		{ KV_TAG2, 0, NULL }, { 0, 8, NULL },
	};
	static const __u8 writers[] = {
		KATOMIC_VOP_STORE, KATOMIC_VOP_SWAP, KATOMIC_VOP_CAS,
	};
	unsigned char out[64];
	struct katomic_value_op v;
	unsigned int i, j;
	__u64 version = 0;

	KV_NEED_VALUES(self);
	for (j = 0; j < 2; j++) {
		for (i = 0; i < KT_ARRAY_SIZE(nils) * KT_ARRAY_SIZE(writers);
		     i++) {
			__u8 op = writers[i % KT_ARRAY_SIZE(writers)];

			kv_op_init(&v, self->id, op);
			kv_op_value(&v, nils[i / KT_ARRAY_SIZE(writers)].tag,
				    nils[i / KT_ARRAY_SIZE(writers)].buf,
				    nils[i / KT_ARRAY_SIZE(writers)].len);
			if (op == KATOMIC_VOP_SWAP)
				kv_op_out(&v, out, sizeof(out));
			if (op == KATOMIC_VOP_CAS && j)	/* expect the value */
				kv_op_out(&v, self->a, 8);
			v.out_tag = op == KATOMIC_VOP_CAS && j ? KV_TAG : 0;
			vop_fails(_metadata, self->fd, &v, -EINVAL,
				  j ? "nil into a value" : "nil into nil");
		}
		if (!j) {
			/* nothing stored, no tag fixed: KV_TAG stores */
			SLOT_IS(0, NULL, 0, 0, "after the nils");
			slot_store_a(_metadata, self, 8);
			version = 1;
		}
	}
	SLOT_IS(KV_TAG, self->a, 8, version, "after the nils");

	/* another tag: STORE, SWAP and CAS refuse it (Go panics) */
	for (i = 0; i < KT_ARRAY_SIZE(writers); i++) {
		kv_op_init(&v, self->id, writers[i]);
		kv_op_value(&v, KV_TAG2, self->b, 8);
		if (writers[i] == KATOMIC_VOP_SWAP)
			kv_op_out(&v, out, sizeof(out));
		if (writers[i] == KATOMIC_VOP_CAS) {
			/* even though the expected value is there */
			kv_op_out(&v, self->a, 8);
			v.out_tag = KV_TAG;
		}
		vop_fails(_metadata, self->fd, &v, -EINVAL,
			  "a store of another tag");
	}
	SLOT_IS(KV_TAG, self->a, 8, version, "after the other tags");

	/* a slot defined again is new: nil, version 0, no tag fixed */
	ASSERT_EQ(0, kv_undefine(self->fd, self->id));
	ASSERT_EQ(0, kv_define(self->fd, self->id, variant->sync));
	SLOT_IS(0, NULL, 0, 0, "defined again");
	kv_op_init(&v, self->id, KATOMIC_VOP_STORE);
	kv_op_value(&v, KV_TAG2, self->b, 5);
	vop_ok(_metadata, self->fd, &v, "another tag after a redefinition");
	SLOT_IS(KV_TAG2, self->b, 5, 1, "defined again and stored");
}

/* Go's Value_SwapTests: SWAP returns the old value as LOAD would. */
TEST_F(slot, swap)
{
	unsigned char *out;
	struct katomic_value_op v;
	__u32 cap = self->vmax + 64, i;

	KV_NEED_VALUES(self);
	out = malloc(cap);
	ASSERT_NE(NULL, out);

	/* from nil: returns nil, copies nothing, even into too little room */
	memset(out, 0xee, cap);
	kv_op_init(&v, self->id, KATOMIC_VOP_SWAP);
	kv_op_value(&v, KV_TAG, self->a, 10);
	vop_ok(_metadata, self->fd, &v, "SWAP into nil, no room");
	EXPECT_EQ(0, v.out_tag);
	EXPECT_EQ(0, v.out_len);
	EXPECT_EQ(1, v.version);
	SLOT_IS(KV_TAG, self->a, 10, 1, "after a SWAP into nil");

	/* the old value comes out; nothing past it is written */
	kv_op_init(&v, self->id, KATOMIC_VOP_SWAP);
	kv_op_value(&v, KV_TAG, self->b, self->vmax);
	kv_op_out(&v, out, cap);
	vop_ok(_metadata, self->fd, &v, "SWAP");
	EXPECT_EQ(KV_TAG, v.out_tag);
	EXPECT_EQ(10, v.out_len);
	EXPECT_EQ(2, v.version);
	EXPECT_EQ(0, memcmp(out, self->a, 10));
	for (i = 10; i < cap && out[i] == 0xee; i++)
		;
	EXPECT_EQ(cap, i) TH_LOG("SWAP wrote byte %u past the old value", i);
	SLOT_IS(KV_TAG, self->b, self->vmax, 2, "after a SWAP");

	/* into exactly the room the old value needs, the same value again */
	kv_op_init(&v, self->id, KATOMIC_VOP_SWAP);
	kv_op_value(&v, KV_TAG, self->b, self->vmax);
	kv_op_out(&v, out, self->vmax);
	vop_ok(_metadata, self->fd, &v, "SWAP into exactly its room");
	EXPECT_EQ(self->vmax, v.out_len);
	EXPECT_EQ(KV_TAG, v.out_tag);
	EXPECT_EQ(3, v.version);
	EXPECT_EQ(0, memcmp(out, self->b, self->vmax));
	SLOT_IS(KV_TAG, self->b, self->vmax, 3, "after the same value");
	free(out);
}

/*
 * Go's Value_CompareAndSwapTests: CAS swaps iff (out_tag, out_len, the
 * bytes at out) are the current value, nil being (0, 0); it writes
 * applied and version, and leaves out_len and out_tag as given.
 */
TEST_F(slot, cas)
{
	const __u32 n = self->vmax < 100 ? self->vmax : 100;
	unsigned char *exp;
	struct katomic_value_op v;
	__u64 version = 0;
	unsigned int i;

	KV_NEED_VALUES(self);
	exp = malloc(self->vmax + 8);
	ASSERT_NE(NULL, exp);

#define CAS_TRY(etag, ebuf, elen, ntag, nbuf, nlen, want, what) do {	\
		kv_op_init(&v, self->id, KATOMIC_VOP_CAS);		\
		kv_op_value(&v, (ntag), (nbuf), (nlen));		\
		kv_op_out(&v, (void *)(ebuf), (elen));			\
		v.out_tag = (etag);					\
		vop_ok(_metadata, self->fd, &v, (what));		\
		EXPECT_EQ((want), v.applied) TH_LOG("%s", (what));	\
		version += (want);					\
		EXPECT_EQ(version, v.version) TH_LOG("%s", (what));	\
	} while (0)

	/* nil: only nil is expected; a failed CAS fixes no tag */
	CAS_TRY(KV_TAG2, self->a, n, KV_TAG2, self->b, n, 0,
		"CAS of nil expecting a value");
	CAS_TRY(KV_TAG, self->a, n, KV_TAG, self->a, n, 0,
		"CAS of nil expecting the new value");
	SLOT_IS(0, NULL, 0, 0, "nil after the failed CASes");
	/* out is not read for an empty expected value */
	CAS_TRY(0, SLOT_NONE_PAGE, 0, KV_TAG, self->a, n, 1,
		"CAS of nil expecting nil");
	SLOT_IS(KV_TAG, self->a, n, version, "after CAS from nil");
	CAS_TRY(0, NULL, 0, KV_TAG, self->b, n, 0,
		"CAS of a value expecting nil");

	/* any difference in tag, length or bytes: no swap */
	memcpy(exp, self->a, n);
	CAS_TRY(KV_TAG2, exp, n, KV_TAG, self->b, n, 0, "another tag");
	CAS_TRY(KV_TAG, exp, n - 1, KV_TAG, self->b, n, 0, "shorter");
	CAS_TRY(KV_TAG, self->a, n + 1, KV_TAG, self->b, n, 0, "longer");
	exp[0] ^= 1;
	CAS_TRY(KV_TAG, exp, n, KV_TAG, self->b, n, 0, "first byte differs");
	exp[0] ^= 1;
	exp[n - 1] ^= 0x80;
	CAS_TRY(KV_TAG, exp, n, KV_TAG, self->b, n, 0, "last byte differs");
	exp[n - 1] ^= 0x80;
	SLOT_IS(KV_TAG, self->a, n, version, "after the failed CASes");

	/* equal bytes elsewhere in memory are equal (Go's heapA, heapB) */
	CAS_TRY(KV_TAG, exp, n, KV_TAG, self->b, 1, 1, "CAS from a copy");
	SLOT_IS(KV_TAG, self->b, 1, version, "after a CAS");
	/* the value for itself (Go's {true, true, true}) */
	CAS_TRY(KV_TAG, self->b, 1, KV_TAG, self->b, 1, 1, "CAS to itself");
	/* the largest, both ways */
	CAS_TRY(KV_TAG, self->b, 1, KV_TAG, self->a, self->vmax, 1,
		"CAS to value_max bytes");
	CAS_TRY(KV_TAG, self->a, self->vmax, KV_TAG, self->b, self->vmax, 1,
		"CAS from value_max bytes");
	for (i = 0; i < 8; i++) {
		memcpy(exp, self->b, self->vmax);
		exp[(self->vmax - 1) * i / 7] ^= 0x10;
		CAS_TRY(KV_TAG, exp, self->vmax, KV_TAG, self->a, 2, 0,
			"one byte of value_max differs");
	}
	SLOT_IS(KV_TAG, self->b, self->vmax, version, "after the CASes");
#undef CAS_TRY
	free(exp);
}

/* -E2BIG: a new value or CAS's expected one longer than value_max. */
TEST_F(slot, too_big)
{
	const __u32 big[] = { self->vmax + 1, self->vmax + 4096, 0x80000000,
			      0xffffffff };
	static const __u8 writers[] = {
		KATOMIC_VOP_STORE, KATOMIC_VOP_SWAP, KATOMIC_VOP_CAS,
	};
	unsigned char *out;
	struct katomic_value_op v;
	unsigned int i, j;

	KV_NEED_VALUES(self);
	out = malloc(self->vmax + 8);
	ASSERT_NE(NULL, out);
	slot_store_a(_metadata, self, 8);
	for (i = 0; i < KT_ARRAY_SIZE(big); i++) {
		for (j = 0; j < KT_ARRAY_SIZE(writers); j++) {
			/* only value_max + 1 bytes are there to read */
			kv_op_init(&v, self->id, writers[j]);
			kv_op_value(&v, KV_TAG, self->b, big[i]);
			if (writers[j] == KATOMIC_VOP_SWAP)
				kv_op_out(&v, out, self->vmax + 8);
			if (writers[j] == KATOMIC_VOP_CAS) {
				kv_op_out(&v, self->a, 8);
				v.out_tag = KV_TAG;
			}
			vop_fails(_metadata, self->fd, &v, -E2BIG,
				  "a new value over value_max");
		}
		/* CAS expecting a value over value_max */
		kv_op_init(&v, self->id, KATOMIC_VOP_CAS);
		kv_op_value(&v, KV_TAG, self->b, 8);
		kv_op_out(&v, self->a, big[i]);
		v.out_tag = KV_TAG;
		vop_fails(_metadata, self->fd, &v, -E2BIG,
			  "CAS expecting a value over value_max");
	}
	SLOT_IS(KV_TAG, self->a, 8, 1, "after the values over value_max");
	free(out);
}

/*
 * -EFAULT: a value that cannot be read changes nothing; a value or an
 * argument that cannot be written back fails the call after the op ran,
 * and its change stands.
 */
TEST_F(slot, bad_buffers)
{
	char *straddle = SLOT_NONE_PAGE - 32;	/* 32 bytes, then PROT_NONE */
	const __u64 bad[] = {
		0, 1, 4096, (uintptr_t)SLOT_NONE_PAGE, (uintptr_t)straddle,
		0xffffffff81000000ULL, 0x8000000000000000ULL, ~0ULL - 63,
	};
	const char *const names[] = {
		"NULL", "1", "4096", "PROT_NONE", "straddling PROT_NONE",
		"kernel", "non-canonical", "the top",
	};
	struct katomic_value_op v, *ro;
	unsigned char out[128];
	__u64 version = 1;
	unsigned int i;
	char what[96];

	KV_NEED_VALUES(self);
	memcpy(straddle, self->b, 32);
	slot_store_a(_metadata, self, 64);
	for (i = 0; i < KT_ARRAY_SIZE(bad); i++) {
		/* the new value */
		snprintf(what, sizeof(what), "STORE from %s", names[i]);
		kv_op_init(&v, self->id, KATOMIC_VOP_STORE);
		kv_op_value(&v, KV_TAG, NULL, 64);
		v.buf = bad[i];
		vop_fails(_metadata, self->fd, &v, -EFAULT, what);
		snprintf(what, sizeof(what), "SWAP from %s", names[i]);
		v.op = KATOMIC_VOP_SWAP;
		kv_op_out(&v, out, sizeof(out));
		vop_fails(_metadata, self->fd, &v, -EFAULT, what);
		snprintf(what, sizeof(what), "CAS from %s", names[i]);
		v.op = KATOMIC_VOP_CAS;
		kv_op_out(&v, self->a, 64);
		v.out_tag = KV_TAG;
		vop_fails(_metadata, self->fd, &v, -EFAULT, what);
		/* CAS's expected value */
		snprintf(what, sizeof(what), "CAS expecting %s", names[i]);
		kv_op_value(&v, KV_TAG, self->b, 64);
		v.out = bad[i];
		vop_fails(_metadata, self->fd, &v, -EFAULT, what);
		/* LOAD's room */
		snprintf(what, sizeof(what), "LOAD into %s", names[i]);
		kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
		v.out = bad[i];
		v.out_len = 64;
		vop_fails(_metadata, self->fd, &v, -EFAULT, what);
		SLOT_IS(KV_TAG, self->a, 64, version, what);
	}
	kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
	kv_op_out(&v, SLOT_RO_PAGE, 64);
	vop_fails(_metadata, self->fd, &v, -EFAULT, "LOAD into a read-only page");
	SLOT_IS(KV_TAG, self->a, 64, version, "after the unreadable values");

	/* SWAP whose old value cannot be written: the swap stands */
	kv_op_init(&v, self->id, KATOMIC_VOP_SWAP);
	kv_op_value(&v, KV_TAG, self->b, 20);
	kv_op_out(&v, SLOT_RO_PAGE, 64);
	vop_fails(_metadata, self->fd, &v, -EFAULT,
		  "SWAP into a read-only page");
	SLOT_IS(KV_TAG, self->b, 20, ++version, "after SWAP into read-only");
	kv_op_init(&v, self->id, KATOMIC_VOP_SWAP);
	kv_op_value(&v, KV_TAG, self->a, 30);
	kv_op_out(&v, SLOT_NONE_PAGE - 8, 64);	/* the old value is 20 */
	vop_fails(_metadata, self->fd, &v, -EFAULT,
		  "SWAP into a buffer straddling PROT_NONE");
	SLOT_IS(KV_TAG, self->a, 30, ++version, "after SWAP into PROT_NONE");

	/* an argument that cannot be written back: the change stands */
	ro = (void *)(SLOT_RO_PAGE + self->pg - sizeof(*ro));
	ASSERT_EQ(0, mprotect(SLOT_RO_PAGE, self->pg, PROT_READ | PROT_WRITE));
	kv_op_init(ro, self->id, KATOMIC_VOP_STORE);
	kv_op_value(ro, KV_TAG, self->b, 40);
	ASSERT_EQ(0, mprotect(SLOT_RO_PAGE, self->pg, PROT_READ));
	EXPECT_EQ(-EFAULT, kv_vop(self->fd, ro)) TH_LOG("STORE, read-only");
	SLOT_IS(KV_TAG, self->b, 40, ++version, "after a read-only STORE");
	ASSERT_EQ(0, mprotect(SLOT_RO_PAGE, self->pg, PROT_READ | PROT_WRITE));
	kv_op_init(ro, self->id, KATOMIC_VOP_CAS);
	kv_op_value(ro, KV_TAG, self->a, 50);
	kv_op_out(ro, self->b, 40);
	ro->out_tag = KV_TAG;
	ASSERT_EQ(0, mprotect(SLOT_RO_PAGE, self->pg, PROT_READ));
	EXPECT_EQ(-EFAULT, kv_vop(self->fd, ro)) TH_LOG("CAS, read-only");
	SLOT_IS(KV_TAG, self->a, 50, ++version, "after a read-only CAS");
	ASSERT_EQ(0, mprotect(SLOT_RO_PAGE, self->pg, PROT_READ | PROT_WRITE));
	kv_op_init(ro, self->id, KATOMIC_VOP_LOAD);
	kv_op_out(ro, out, sizeof(out));
	ASSERT_EQ(0, mprotect(SLOT_RO_PAGE, self->pg, PROT_READ));
	EXPECT_EQ(-EFAULT, kv_vop(self->fd, ro)) TH_LOG("LOAD, read-only");
	SLOT_IS(KV_TAG, self->a, 50, version, "after a read-only LOAD");
}

/*
 * -ERANGE: LOAD and SWAP into too little room write back out_len, the
 * room needed, and nothing else; copy nothing; change nothing.
 */
TEST_F(slot, erange)
{
	const __u32 len = self->vmax;
	const __u32 caps[] = { 0, 1, len / 2, len - 1 };
	struct katomic_value_op v;
	unsigned char *out;
	unsigned int i, j;
	char what[64];

	KV_NEED_VALUES(self);
	out = malloc(len);
	ASSERT_NE(NULL, out);
	slot_store_a(_metadata, self, len);
	for (i = 0; i < KT_ARRAY_SIZE(caps); i++) {
		memset(out, 0xee, len);
		snprintf(what, sizeof(what), "LOAD into %u bytes", caps[i]);
		kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
		kv_op_out(&v, out, caps[i]);
		vop_erange(_metadata, self->fd, &v, len, what);
		/* nothing copied: a buffer that cannot be written is fine */
		kv_op_init(&v, self->id, KATOMIC_VOP_LOAD);
		kv_op_out(&v, SLOT_NONE_PAGE, caps[i]);
		vop_erange(_metadata, self->fd, &v, len, what);

		snprintf(what, sizeof(what), "SWAP into %u bytes", caps[i]);
		kv_op_init(&v, self->id, KATOMIC_VOP_SWAP);
		kv_op_value(&v, KV_TAG, self->b, 8);
		kv_op_out(&v, out, caps[i]);
		vop_erange(_metadata, self->fd, &v, len, what);
		for (j = 0; j < len && out[j] == 0xee; j++)
			;
		EXPECT_EQ(len, j) TH_LOG("%s: byte %u copied", what, j);
		SLOT_IS(KV_TAG, self->a, len, 1, what);
	}
	free(out);
}

/* -EINVAL: the fields every op, or this op, must leave 0; op and id. */
TEST_F(slot, fields)
{
	const __u32 far[] = { self->info.nr_slots, self->info.nr_slots + 1,
			      0x80000000, 0xffffffff };
	static const __u8 bad_ops[] = { 0, KATOMIC_VOP_LAST + 1, 0x80, 0xff };
	unsigned char out[64];
	struct katomic_value_op good[4], v;
	unsigned int i, j;
	char what[96];

	KV_NEED_VALUES(self);
	slot_store_a(_metadata, self, 16);
	/* a valid call of each op, in the order of KATOMIC_VOP_TABLE */
	for (i = 0; i < KT_ARRAY_SIZE(good); i++) {
		kv_op_init(&good[i], self->id, i + 1);
		if (i + 1 != KATOMIC_VOP_LOAD)
			kv_op_value(&good[i], KV_TAG, self->b, 16);
		if (i + 1 != KATOMIC_VOP_STORE)
			kv_op_out(&good[i], out, sizeof(out));
	}
	kv_op_out(&good[KATOMIC_VOP_CAS - 1], self->a, 16);
	good[KATOMIC_VOP_CAS - 1].out_tag = KV_TAG2;	/* does not apply */

#define FIELD_FAILS(field, val) do {					\
		v = good[i];						\
		v.field = (val);					\
		snprintf(what, sizeof(what), "%s with " #field " %#llx", \
			 kv_vop_name(v.op), (unsigned long long)(val));	\
		vop_fails(_metadata, self->fd, &v, -EINVAL, what);	\
	} while (0)

	for (i = 0; i < KT_ARRAY_SIZE(good); i++) {
		ASSERT_STRNE("?", kv_vop_name(good[i].op));
		FIELD_FAILS(flags, 1);
		FIELD_FAILS(flags, 0x80);
		FIELD_FAILS(reserved0, 1);
		FIELD_FAILS(reserved0, 0xff);
		FIELD_FAILS(reserved, 1);
		FIELD_FAILS(reserved, 1ULL << 63);
		for (j = 0; j < KT_ARRAY_SIZE(far); j++)
			FIELD_FAILS(id, far[j]);
		if (good[i].op == KATOMIC_VOP_LOAD) {
			FIELD_FAILS(tag, KV_TAG);
			FIELD_FAILS(len, 1);
			FIELD_FAILS(buf, (uintptr_t)self->b);
		}
		if (good[i].op == KATOMIC_VOP_STORE) {
			FIELD_FAILS(out, (uintptr_t)out);
			FIELD_FAILS(out_len, 1);
			FIELD_FAILS(out_len, 0xffffffff);
		}
		for (j = 0; j < KT_ARRAY_SIZE(bad_ops); j++)
			FIELD_FAILS(op, bad_ops[j]);
	}
#undef FIELD_FAILS
	SLOT_IS(KV_TAG, self->a, 16, 1, "after the bad fields");
	/* and the good ones work (the CAS does not apply) */
	for (i = 0; i < KT_ARRAY_SIZE(good); i++) {
		v = good[i];
		vop_ok(_metadata, self->fd, &v, "a good call");
	}
	SLOT_IS(KV_TAG, self->b, 16, 3, "after the good calls");
}

/* -ENOENT: every op on an undefined slot, after the -EINVAL checks. */
TEST_F(slot, undefined)
{
	static const __u8 ops[] = {
		KATOMIC_VOP_LOAD, KATOMIC_VOP_STORE, KATOMIC_VOP_SWAP,
		KATOMIC_VOP_CAS,
	};
	unsigned char out[64];
	struct katomic_value_op v;
	struct katomic_define d;
	unsigned int i;

	KV_NEED_VALUES(self);
	slot_store_a(_metadata, self, 16);
	ASSERT_EQ(0, kv_undefine(self->fd, self->id));
	for (i = 0; i < KT_ARRAY_SIZE(ops); i++) {
		kv_op_init(&v, self->id, ops[i]);
		if (ops[i] != KATOMIC_VOP_LOAD)
			kv_op_value(&v, KV_TAG, self->a, 16);
		if (ops[i] != KATOMIC_VOP_STORE)
			kv_op_out(&v, out, sizeof(out));
		if (ops[i] == KATOMIC_VOP_CAS)
			v.out_len = 0;		/* expecting nil */
		vop_fails(_metadata, self->fd, &v, -ENOENT, "undefined");
		/* the new value is judged after the slot is found */
		if (ops[i] != KATOMIC_VOP_LOAD) {
			v.tag = 0;
			vop_fails(_metadata, self->fd, &v, -ENOENT,
				  "nil into an undefined slot");
			v.tag = KV_TAG;
			v.len = self->vmax + 1;
			vop_fails(_metadata, self->fd, &v, -ENOENT,
				  "too big for an undefined slot");
			v.len = 16;
			v.buf = (uintptr_t)SLOT_NONE_PAGE;
			vop_fails(_metadata, self->fd, &v, -ENOENT,
				  "an unreadable value for an undefined slot");
			v.buf = (uintptr_t)self->a;
		}
		if (ops[i] == KATOMIC_VOP_LOAD) {
			v.out_len = 0;
			vop_fails(_metadata, self->fd, &v, -ENOENT,
				  "no room in an undefined slot");
		}
		/* but the fields first */
		v.flags = 1;
		vop_fails(_metadata, self->fd, &v, -EINVAL,
			  "flags on an undefined slot");
	}
	kv_define_init(&d, self->id, 0);
	EXPECT_EQ(-ENOENT, kt_ioctl(self->fd, KATOMIC_IOC_UNDEFINE, &d));
	EXPECT_TRUE(slot_absent(self->fd, self->id));
}

/*
 * O_RDONLY descriptors may LOAD and QUERY, not change a slot (-EBADF);
 * O_WRONLY ones do everything.
 */
TEST_F(slot, descriptors)
{
	static const struct {
		int flags;
		const char *name;
	} modes[] = {
		{ O_RDONLY, "O_RDONLY" },
		{ O_WRONLY, "O_WRONLY" },
	};
	static const __u8 writers[] = {
		KATOMIC_VOP_STORE, KATOMIC_VOP_SWAP, KATOMIC_VOP_CAS,
	};
	const __u32 spare = KV_FIRST_ID + 1;
	unsigned char out[64];
	struct katomic_value_op v;
	struct katomic_define d;
	__u64 version = 1;
	unsigned int m, i;
	int fd;

	KV_NEED_VALUES(self);
	slot_store_a(_metadata, self, 16);
	kv_undefine(self->fd, spare);
	for (m = 0; m < KT_ARRAY_SIZE(modes); m++) {
		bool ro = modes[m].flags == O_RDONLY;
		const char *mode = modes[m].name;

		fd = open(KT_DEV, modes[m].flags | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open %s: %s", mode, strerror(errno));
		SLOT_IS(KV_TAG, self->a, 16, version, mode);
		expect_kind(_metadata, fd, self->id, variant->sync, mode);
		for (i = 0; i < KT_ARRAY_SIZE(writers); i++) {
			kv_op_init(&v, self->id, writers[i]);
			kv_op_value(&v, KV_TAG, self->a, 16);
			if (writers[i] != KATOMIC_VOP_STORE)
				kv_op_out(&v, out, sizeof(out));
			v.out_tag = writers[i] == KATOMIC_VOP_CAS ? KV_TAG : 0;
			if (writers[i] == KATOMIC_VOP_CAS)
				kv_op_out(&v, self->a, 16);
			if (ro) {
				vop_fails(_metadata, fd, &v, -EBADF, mode);
			} else {
				vop_ok(_metadata, fd, &v, mode);
				version++;
			}
			SLOT_IS(KV_TAG, self->a, 16, version, mode);
		}
		/* slot DEFINE and UNDEFINE change the context */
		kv_define_init(&d, spare, KATOMIC_SYNC_SEQLOCK);
		EXPECT_EQ(ro ? -EBADF : 0, kt_ioctl(fd, KATOMIC_IOC_DEFINE, &d))
			TH_LOG("DEFINE on %s", mode);
		kv_define_init(&d, ro ? self->id : spare, 0);
		EXPECT_EQ(ro ? -EBADF : 0,
			  kt_ioctl(fd, KATOMIC_IOC_UNDEFINE, &d))
			TH_LOG("UNDEFINE on %s", mode);
		EXPECT_TRUE(slot_absent(self->fd, spare));
		close(fd);
	}
}

/* version: successful STORE, SWAP and CAS so far; every op returns it. */
TEST_F(slot, versions)
{
	unsigned char out[64];
	struct kv_res res;
	__u64 want = 0;
	unsigned int i;

	KV_NEED_VALUES(self);
	for (i = 0; i < 50; i++) {
		const unsigned char *cur = i % 2 ? self->a : self->b;
		const unsigned char *next = i % 2 ? self->b : self->a;
		__u32 len = 1 + i % 40;

		switch (i % 5) {
		case 0:
			EXPECT_EQ(0, kv_store(self->fd, self->id, KV_TAG, next,
					      len, &res));
			break;
		case 1:
			EXPECT_EQ(0, kv_swap(self->fd, self->id, KV_TAG, next,
					     len, out, sizeof(out), &res));
			break;
		default:
			/* a CAS that cannot apply, then one that does */
			EXPECT_EQ(0, kv_cas(self->fd, self->id, KV_TAG, next,
					    len, KV_TAG2, cur, 1, &res));
			EXPECT_EQ(0, res.applied);
			EXPECT_EQ(want, res.version) TH_LOG("failed CAS %u", i);
			EXPECT_EQ(0, kv_load(self->fd, self->id, out,
					     sizeof(out), &res));
			EXPECT_EQ(want, res.version) TH_LOG("LOAD %u", i);
			EXPECT_EQ(0, kv_cas(self->fd, self->id, KV_TAG, next,
					    len, res.tag, out, res.len, &res));
			EXPECT_EQ(1, res.applied) TH_LOG("CAS %u", i);
			break;
		}
		want++;
		EXPECT_EQ(want, res.version) TH_LOG("op %u", i);
		/* failures do not count */
		EXPECT_EQ(-EINVAL, kv_store(self->fd, self->id, KV_TAG2, next,
					    len, NULL));
		EXPECT_EQ(-E2BIG, kv_store(self->fd, self->id, KV_TAG, next,
					   self->vmax + 1, NULL));
		EXPECT_EQ(-EFAULT, kv_store(self->fd, self->id, KV_TAG, NULL,
					    len, NULL));
		EXPECT_EQ(-ERANGE, kv_swap(self->fd, self->id, KV_TAG, next,
					   len, out, 0, NULL));
		SLOT_IS(KV_TAG, next, len, want, "versions");
	}
}

/*
 * The order of checks where several rules are broken at once (abi.md
 * lets any of their errnos be returned; the README's "Value ops" orders
 * them so that the module and the twin agree): nil, too big, CAS's
 * expected value (too big, half nil), unreadable memory, then under the
 * slot's lock another tag, then SWAP's room.
 */
TEST_F(slot, errno_order)
{
	static const __u8 writers[] = {
		KATOMIC_VOP_STORE, KATOMIC_VOP_SWAP, KATOMIC_VOP_CAS,
	};
	const __u64 none = (uintptr_t)SLOT_NONE_PAGE;
	unsigned char out[64];
	struct katomic_value_op v;
	unsigned int i;
	char what[96];

	KV_NEED_VALUES(self);
	slot_store_a(_metadata, self, 16);
	for (i = 0; i < KT_ARRAY_SIZE(writers); i++) {
		const char *op = kv_vop_name(writers[i]);

		/* a valid call: the current value for a new one */
		kv_op_init(&v, self->id, writers[i]);
		kv_op_value(&v, KV_TAG, self->b, 16);
		if (writers[i] == KATOMIC_VOP_SWAP)
			kv_op_out(&v, out, sizeof(out));
		if (writers[i] == KATOMIC_VOP_CAS) {
			kv_op_out(&v, self->a, 16);
			v.out_tag = KV_TAG;
		}
#define ORDER(err, why, ...) do {					\
			struct katomic_value_op w = v;			\
									\
			__VA_ARGS__;					\
			snprintf(what, sizeof(what), "%s: %s", op, why); \
			vop_fails(_metadata, self->fd, &w, err, what);	\
		} while (0)
		ORDER(-EINVAL, "nil before too big",
		      w.tag = 0; w.len = self->vmax + 1);
		ORDER(-EINVAL, "nil before unreadable", w.len = 0; w.buf = none);
		ORDER(-EINVAL, "nil before another tag", w.tag = 0);
		ORDER(-E2BIG, "too big before another tag",
		      w.tag = KV_TAG2; w.len = self->vmax + 1);
		ORDER(-E2BIG, "too big before unreadable",
		      w.len = self->vmax + 1; w.buf = none);
		/* user memory is read before the tag is checked, locked */
		ORDER(-EFAULT, "unreadable before another tag",
		      w.tag = KV_TAG2; w.buf = none);
		if (writers[i] == KATOMIC_VOP_SWAP) {
			ORDER(-EINVAL, "another tag before no room",
			      w.tag = KV_TAG2; w.out_len = 1);
			ORDER(-E2BIG, "too big before no room",
			      w.len = self->vmax + 1; w.out_len = 1);
			ORDER(-EFAULT, "unreadable before no room",
			      w.buf = none; w.out_len = 1);
		}
		if (writers[i] == KATOMIC_VOP_CAS) {
			/*
			 * the new value's fields, then the expected value's,
			 * then user memory, then the tag (under the lock)
			 */
			ORDER(-EINVAL, "nil before an expected too big",
			      w.tag = 0; w.out_len = self->vmax + 1);
			ORDER(-E2BIG, "too big before an expected too big",
			      w.len = self->vmax + 1;
			      w.out_len = self->vmax + 1);
			ORDER(-E2BIG, "an expected too big before another tag",
			      w.tag = KV_TAG2; w.out_len = self->vmax + 1);
			ORDER(-EFAULT, "an expected unreadable before another tag",
			      w.tag = KV_TAG2; w.out = none);
			ORDER(-E2BIG, "an expected too big before unreadable",
			      w.buf = none; w.out_len = self->vmax + 1);
			ORDER(-EINVAL, "an expected half nil before unreadable",
			      w.buf = none; w.out_tag = 0);
			ORDER(-EINVAL, "an expected half nil before unreadable",
			      w.buf = none; w.out_len = 0);
			/* within 4.: too big, half nil, unreadable */
			ORDER(-E2BIG, "expected too big before half nil",
			      w.out_tag = 0; w.out_len = self->vmax + 1);
			ORDER(-E2BIG, "expected too big before unreadable",
			      w.out = none; w.out_len = self->vmax + 1);
			ORDER(-EINVAL, "expected half nil before unreadable",
			      w.out = none; w.out_tag = 0);
		}
#undef ORDER
	}
	SLOT_IS(KV_TAG, self->a, 16, 1, "after the broken calls");
}

/* ---- DEFINE, UNDEFINE and QUERY of slots ------------------------------ */

FIXTURE(defs) {
	int fd;
	struct katomic_info info;
	__u32 id;
};

FIXTURE_SETUP(defs)
{
	kv_setup(_metadata, &self->fd, &self->info);
	self->id = KV_FIRST_ID + 2;
	if (self->info.features & KATOMIC_FEAT_VALUES)
		kv_undefine(self->fd, self->id);
}

FIXTURE_TEARDOWN(defs)
{
	if (self->info.features & KATOMIC_FEAT_VALUES)
		kv_undefine(self->fd, self->id);
	close(self->fd);
}

/*
 * Every combination of a good and a bad value of each DEFINE field, on an
 * undefined and on a defined slot: the errno of kv_define_errno(), the
 * argument not written back, the slot as it was (or defined as asked).
 */
TEST_F(defs, define_errno)
{
	const __u32 ids[] = { self->id, self->info.nr_slots, 0xffffffff };
	static const __u8 flags[] = { 0, 1 };
	static const __u8 types[] = { 0, KATOMIC_TYPE_INT64 };
	static const __u64 nonzero[] = { 0, 1 };
	unsigned int i, n = 0, sync, fi, ti, ii, pi, ri, def;
	int r, want;

	KV_NEED_VALUES(self);
	for (def = 0; def < 2; def++)
	for (i = 0; i < KT_ARRAY_SIZE(ids); i++)
	for (fi = 0; fi < 2; fi++)
	for (ti = 0; ti < 2; ti++)
	for (sync = 0; sync <= KATOMIC_SYNC_LAST + 2; sync++)
	for (ii = 0; ii < 2; ii++)
	for (pi = 0; pi < 2; pi++)
	for (ri = 0; ri < 2; ri++) {
		struct katomic_define d, in;

		if (def)
			ASSERT_EQ(0, kv_define(self->fd, self->id,
					       KATOMIC_SYNC_SEQLOCK));
		kv_define_init(&d, ids[i], sync == KATOMIC_SYNC_LAST + 2 ?
				0xff : sync);
		d.flags = flags[fi];
		d.type = types[ti];
		d.init = nonzero[ii];
		d.param = nonzero[pi];
		d.reserved = nonzero[ri];
		in = d;
		want = kv_define_errno(&d, &self->info, def);
		r = kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d);
		EXPECT_EQ(want, r)
			TH_LOG("DEFINE of slot %u, %s, flags %u type %u sync %u init %llu param %llu reserved %llu: %d (%s)",
			       d.id, def ? "defined" : "undefined", d.flags,
			       d.type, d.sync, (unsigned long long)d.init,
			       (unsigned long long)d.param,
			       (unsigned long long)d.reserved, r,
			       strerror(-r));
		EXPECT_EQ(0, memcmp(&in, &d, sizeof(d)));
		if (!want)
			expect_kind(_metadata, self->fd, self->id, d.sync,
				    "DEFINE");
		else if (def)
			expect_kind(_metadata, self->fd, self->id,
				    KATOMIC_SYNC_SEQLOCK, "a failed DEFINE");
		else
			EXPECT_TRUE(slot_absent(self->fd, self->id));
		kv_undefine(self->fd, self->id);
		n++;
	}
	TH_LOG("%u DEFINEs", n);
}

/* UNDEFINE reads id and object, all else must be 0; QUERY's fields. */
TEST_F(defs, undefine_query)
{
	const __u32 far[] = { self->info.nr_slots, 0x80000000, 0xffffffff };
	struct katomic_define d, in, q;
	unsigned int i, def;

	KV_NEED_VALUES(self);

#define DEF_FAILS(cmd, field, val, err) do {				\
		kv_define_init(&d, self->id, 0);			\
		d.field = (val);					\
		in = d;							\
		EXPECT_EQ(err, kt_ioctl(self->fd, cmd, &d))		\
			TH_LOG(#cmd " " #field " %#llx, %s",		\
			       (unsigned long long)(val),		\
			       def ? "defined" : "undefined");		\
		EXPECT_EQ(0, memcmp(&in, &d, sizeof(d)));		\
	} while (0)

	for (def = 0; def < 2; def++) {
		if (def)
			ASSERT_EQ(0, kv_define(self->fd, self->id,
					       KATOMIC_SYNC_NONE));
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, type, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, sync, KATOMIC_SYNC_NONE,
			  -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, flags, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, init, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, param, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, reserved, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, object, 0, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_UNDEFINE, object, 3, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_QUERY, flags, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_QUERY, init, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_QUERY, reserved, 1, -EINVAL);
		DEF_FAILS(KATOMIC_IOC_QUERY, object, 0, -EINVAL);
		for (i = 0; i < KT_ARRAY_SIZE(far); i++) {
			DEF_FAILS(KATOMIC_IOC_UNDEFINE, id, far[i], -EINVAL);
			DEF_FAILS(KATOMIC_IOC_QUERY, id, far[i], -EINVAL);
		}
		if (def) {
			expect_kind(_metadata, self->fd, self->id,
				    KATOMIC_SYNC_NONE, "after the bad calls");
		} else {
			DEF_FAILS(KATOMIC_IOC_UNDEFINE, id, self->id, -ENOENT);
			DEF_FAILS(KATOMIC_IOC_QUERY, id, self->id, -ENOENT);
		}
	}
#undef DEF_FAILS

	/* QUERY's out fields are ignored on input (kv_query poisons them) */
	ASSERT_EQ(0, kv_query(self->fd, self->id, &q));
	EXPECT_EQ(0, q.type);
	EXPECT_EQ(KATOMIC_SYNC_NONE, q.sync);
	EXPECT_EQ(0, q.param);
	ASSERT_EQ(0, kv_undefine(self->fd, self->id));
	EXPECT_TRUE(slot_absent(self->fd, self->id));
}

/*
 * Each kind defines and reports its resolved self; a slot and a counter
 * of one id are two objects; a slot holds its value until UNDEFINE.
 */
TEST_F(defs, kinds)
{
	unsigned char out[16];
	struct kv_res res;
	unsigned int i;
	__u64 c = 0;

	KV_NEED_VALUES(self);
	ASSERT_LT(self->id, self->info.nr_counters);
	kt_undefine(self->fd, self->id);
	for (i = 0; i < KV_NR_KINDS; i++) {
		const char *name = kv_kinds[i].name;

		ASSERT_EQ(0, kv_define(self->fd, self->id, kv_kinds[i].sync))
			TH_LOG("%s", name);
		expect_kind(_metadata, self->fd, self->id, kv_kinds[i].sync,
			    name);
		EXPECT_EQ(-EEXIST, kv_define(self->fd, self->id,
					     KATOMIC_SYNC_SEQLOCK));
		expect_kind(_metadata, self->fd, self->id, kv_kinds[i].sync,
			    name);
		/* the counter of the same id is another object */
		EXPECT_TRUE(slot_absent(self->fd, self->id + 1));
		ASSERT_EQ(0, kt_define(self->fd, self->id, KATOMIC_TYPE_INT64,
				       0, 77 + i));
		ASSERT_EQ(0, kv_store(self->fd, self->id, KV_TAG, "katomic", 8,
				      NULL));
		ASSERT_EQ(0, kt_undefine(self->fd, self->id));
		ASSERT_EQ(0, kv_load(self->fd, self->id, out, sizeof(out),
				     &res));
		EXPECT_EQ(8, res.len);
		EXPECT_STREQ("katomic", (char *)out);
		ASSERT_EQ(0, kt_define(self->fd, self->id, KATOMIC_TYPE_INT64,
				       0, 77 + i));
		ASSERT_EQ(0, kv_undefine(self->fd, self->id));
		EXPECT_EQ(0, kt_load(self->fd, self->id, KATOMIC_TYPE_INT64,
				     &c));
		EXPECT_EQ(77 + i, c);
		ASSERT_EQ(0, kt_undefine(self->fd, self->id));
		EXPECT_TRUE(slot_absent(self->fd, self->id));
	}
}

/* ---- concurrency --------------------------------------------------------- */

/* The sizes the concurrent tests store, clamped to value_max. */
static unsigned int conc_sizes(const struct katomic_info *info,
			       __u32 sizes[3])
{
	const __u32 want[3] = { 8, 100, 4096 };
	unsigned int i, n = 0;

	for (i = 0; i < 3; i++) {
		__u32 s = want[i] < info->value_max ? want[i]
						    : info->value_max;

		if (!n || sizes[n - 1] != s)
			sizes[n++] = s;
	}
	return n;
}

#define KV_SET	4	/* load_store: values per size */

/* What a crew shares. */
struct job {
	__u32 id;
	__u8 kind;		/* resolved */
	__u32 vmax;
	unsigned long iters;	/* per thread */
	unsigned int nthreads;
	/* load_store */
	__u32 len;
	unsigned char *vals[KV_SET];
	/* swap_sum */
	__u32 sizes[3];
	unsigned int nsizes;
	unsigned char *seen;	/* one bit per value swapped in */
	/* tear */
	unsigned int writers;
	long loads_left;
	int stop;
	/* cas_chain */
	double deadline;
};

struct vworker {
	struct kt_thread t;	/* first, for kt_crew */
	int fd;
	struct job *job;
	__u64 seed;
	unsigned char *buf, *out;	/* vmax + 8 bytes each */

	/* what the worker saw; read by the main thread after the join */
	struct kt_record rec;
	unsigned long ops;		/* loads (tear), ops made */
	unsigned long others;		/* NONE: loads not a stored value */
	unsigned long applied, failed;	/* cas_chain */
	unsigned long empty;		/* swap_sum: nil returned */
	__u64 sum;			/* swap_sum: of the values returned */
	__u64 first_torn_len;		/* tear: NONE's first torn load */
	unsigned char first_torn[2];
};

FIXTURE(conc) {
	int fd;
	struct katomic_info info;
	__u32 id;
	struct job job;
	unsigned int nthreads;
	struct kt_crew crew;
	struct vworker w[KT_MAX_THREADS];
};

#undef KV_KIND_FIXTURE
#define KV_KIND_FIXTURE conc
KV_KIND_VARIANTS(RES)

FIXTURE_SETUP(conc)
{
	unsigned int i;

	kv_setup(_metadata, &self->fd, &self->info);
	if (!(self->info.features & KATOMIC_FEAT_VALUES))
		return;
	self->id = KV_FIRST_ID + 3;
	self->nthreads = kt_env_ulong("KATOMIC_THREADS", 4, 4,
				      KT_MAX_THREADS);
	self->job.id = self->id;
	self->job.kind = variant->sync;
	self->job.vmax = self->info.value_max;
	self->job.nsizes = conc_sizes(&self->info, self->job.sizes);
	for (i = 0; i < KT_MAX_THREADS; i++) {
		self->w[i].fd = self->fd;
		self->w[i].job = &self->job;
		self->w[i].seed = 0x5eed0000 + i;
		self->w[i].buf = malloc(self->job.vmax + 8);
		self->w[i].out = malloc(self->job.vmax + 8);
		ASSERT_NE(NULL, self->w[i].buf);
		ASSERT_NE(NULL, self->w[i].out);
	}
	ASSERT_EQ(0, kv_redefine(self->fd, self->id, variant->sync));
}

FIXTURE_TEARDOWN(conc)
{
	unsigned int i;

	if (self->info.features & KATOMIC_FEAT_VALUES)
		kv_undefine(self->fd, self->id);
	for (i = 0; i < KT_MAX_THREADS; i++) {
		free(self->w[i].buf);
		free(self->w[i].out);
	}
	close(self->fd);
}

/* Run n workers on fn and wait for them; how long they took. */
static double conc_run(struct __test_metadata *_metadata,
		       FIXTURE_DATA(conc) *self, unsigned int n,
		       void *(*fn)(void *))
{
	double t0 = kt_now();
	unsigned int i;

	self->job.nthreads = n;
	for (i = 0; i < n; i++) {
		memset(&self->w[i].rec, 0, sizeof(self->w[i].rec));
		self->w[i].ops = self->w[i].others = 0;
		self->w[i].applied = self->w[i].failed = 0;
		self->w[i].empty = 0;
		self->w[i].sum = 0;
	}
	ASSERT_EQ(0, kt_crew_start(&self->crew, n, fn, self->w,
				   sizeof(self->w[0])));
	kt_crew_join(&self->crew);
	return kt_now() - t0;
}

static void conc_check(struct __test_metadata *_metadata,
		       FIXTURE_DATA(conc) *self, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		kt_record_check(_metadata, i, &self->w[i].rec);
}

/* ---- load_store: Go's TestValueConcurrent ------------------------------ */

/* Which of the job's values buf (len bytes) is, or -1. */
static int which_value(const struct job *job, const void *buf, __u32 len)
{
	int k;

	if (len != job->len)
		return -1;
	for (k = 0; k < KV_SET; k++)
		if (!memcmp(buf, job->vals[k], len))
			return k;
	return -1;
}

static void *load_store_worker(void *arg)
{
	struct vworker *w = arg;
	struct job *job = w->job;
	struct kv_res res;
	unsigned long i;
	int r;

	if (!kt_thread_go(&w->t))
		return NULL;
	for (i = 0; i < job->iters; i++) {
		unsigned int k = kt_rand(&w->seed) % KV_SET;

		r = kv_store(w->fd, job->id, KV_TAG, job->vals[k], job->len,
			     NULL);
		if (r)
			kt_record_error(&w->rec, "STORE", r);
		r = kv_load(w->fd, job->id, w->out, job->vmax, &res);
		w->ops += 2;
		if (r) {
			kt_record_error(&w->rec, "LOAD", r);
			continue;
		}
		if (res.tag == KV_TAG && which_value(job, w->out, res.len) >= 0)
			continue;
		if (job->kind == KATOMIC_SYNC_NONE)
			w->others++;
		else
			kt_record_bad(&w->rec, "loaded tag %#x, %u bytes, not a value stored",
				      res.tag, res.len);
	}
	return NULL;
}

/*
 * T threads each store one of four values of a size (nil's cousins: all
 * zeros and all ones among them) and load: every load is one of them.
 */
TEST_F_TIMEOUT(conc, load_store, 120)
{
	struct job *job = &self->job;
	unsigned int s, k, i;
	unsigned long others;
	double secs;

	KV_NEED_VALUES(self);
	job->iters = kt_env_ulong("KATOMIC_VALUE_ITERS", 1000, 1, 100000000);
	for (s = 0; s < job->nsizes; s++) {
		job->len = job->sizes[s];
		for (k = 0; k < KV_SET; k++) {
			job->vals[k] = malloc(job->len);
			ASSERT_NE(NULL, job->vals[k]);
			if (k < 2)
				memset(job->vals[k], k ? 0xff : 0, job->len);
			else
				kv_fill(job->vals[k], job->len, 100 * s + k);
		}
		secs = conc_run(_metadata, self, self->nthreads,
				load_store_worker);
		conc_check(_metadata, self, self->nthreads);
		for (i = 0, others = 0; i < self->nthreads; i++)
			others += self->w[i].others;
		TH_LOG("%s, %u bytes: %u threads x %lu STORE+LOAD in %.2f s, %lu loads not a value stored",
		       kt_sync_name(job->kind), job->len, self->nthreads,
		       job->iters, secs, others);
		for (k = 0; k < KV_SET; k++)
			free(job->vals[k]);
	}
}

/* ---- swap_sum: Go's TestValueSwapConcurrent ---------------------------- */

/* The value swap_sum swaps in for the number n (1..T*N): n, repeated. */
static __u32 swap_len(const struct job *job, __u64 n)
{
	return job->sizes[n % job->nsizes];
}

static void *swap_worker(void *arg)
{
	struct vworker *w = arg;
	struct job *job = w->job;
	__u64 first = 1 + w->t.idx * job->iters, n, m, span;
	struct kv_res res;
	int r;

	if (!kt_thread_go(&w->t))
		return NULL;
	span = job->nthreads * job->iters;
	for (n = first; n < first + job->iters; n++) {
		__u32 len = swap_len(job, n);

		kv_fill_num(w->buf, len, n);
		r = kv_swap(w->fd, job->id, KV_TAG, w->buf, len, w->out,
			    job->vmax, &res);
		w->ops++;
		if (r) {
			kt_record_error(&w->rec, "SWAP", r);
			continue;
		}
		if (!res.tag && !res.len) {
			w->empty++;
			continue;
		}
		m = kv_num_of(w->out, res.len);
		if (res.tag != KV_TAG || m < 1 || m > span ||
		    res.len != swap_len(job, m)) {
			kt_record_bad(&w->rec, "SWAP returned tag %#x, %u bytes, not a value swapped in",
				      res.tag, res.len);
			continue;
		}
		if (__atomic_fetch_or(&job->seen[(m - 1) / 8],
				      1u << ((m - 1) % 8), __ATOMIC_RELAXED) &
		    (1u << ((m - 1) % 8)))
			kt_record_bad(&w->rec, "SWAP returned %llu twice",
				      (unsigned long long)m);
		w->sum += m;
	}
	return NULL;
}

/*
 * T threads swap in the numbers 1..T*N (of the sizes, each number
 * repeated): every one comes back exactly once, from a SWAP or as the
 * final value, and exactly one SWAP found the slot nil.  Writers are
 * serialised on every kind, NONE's included.
 */
TEST_F_TIMEOUT(conc, swap_sum, 120)
{
	struct job *job = &self->job;
	unsigned long empty = 0, missing = 0, i;
	__u64 span, sum = 0, last;
	struct kv_res res;
	double secs;

	KV_NEED_VALUES(self);
	job->iters = kt_env_ulong("KATOMIC_VALUE_ITERS", 1000, 1, 100000000);
	span = (__u64)self->nthreads * job->iters;
	job->seen = calloc(span / 8 + 1, 1);
	ASSERT_NE(NULL, job->seen);
	secs = conc_run(_metadata, self, self->nthreads, swap_worker);
	conc_check(_metadata, self, self->nthreads);
	for (i = 0; i < self->nthreads; i++) {
		empty += self->w[i].empty;
		sum += self->w[i].sum;
	}
	TH_LOG("%s: %u threads x %lu SWAP in %.2f s", kt_sync_name(job->kind),
	       self->nthreads, job->iters, secs);
	EXPECT_EQ(1, empty) TH_LOG("SWAPs that found the slot nil");

	/* the last value in */
	ASSERT_EQ(0, kv_load(self->fd, self->id, self->w[0].out, job->vmax,
			     &res));
	last = kv_num_of(self->w[0].out, res.len);
	ASSERT_TRUE(last >= 1 && last <= span)
		TH_LOG("the final value is %u bytes, not a value swapped in",
		       res.len);
	EXPECT_EQ(span, res.version);
	EXPECT_FALSE(job->seen[(last - 1) / 8] & (1u << ((last - 1) % 8)))
		TH_LOG("the final value %llu was returned by a SWAP too",
		       (unsigned long long)last);
	job->seen[(last - 1) / 8] |= 1u << ((last - 1) % 8);
	for (i = 0; i < span; i++)
		missing += !(job->seen[i / 8] & (1u << (i % 8)));
	EXPECT_EQ(0, missing) TH_LOG("values swapped in that never came back");
	EXPECT_EQ(span * (span + 1) / 2, sum + last)
		TH_LOG("sum of the values returned and the final one");
	free(job->seen);
	job->seen = NULL;
}

/* ---- cas_chain: Go's TestValueCompareAndSwapConcurrent ---------------- */

/* Ticket j as a value: j repeated over 8, 16, 24 or 32 bytes. */
static __u32 ticket(void *buf, __u64 j)
{
	__u32 len = 8 * (1 + j % 4);

	kv_fill_num(buf, len, j);
	return len;
}

static void *cas_worker(void *arg)
{
	struct vworker *w = arg;
	struct job *job = w->job;
	__u64 j = w->t.idx, target = job->nthreads * job->iters;
	unsigned char *next = w->buf + 64;
	struct kv_res res;
	__u32 len, nlen;
	int r;

	if (!kt_thread_go(&w->t))
		return NULL;
	/* thread i moves ticket j to j + 1 for j = i, i + T, ... */
	while (j < target) {
		len = ticket(w->buf, j);
		nlen = ticket(next, j + 1);
		r = kv_cas(w->fd, job->id, KV_TAG, next, nlen, KV_TAG, w->buf,
			   len, &res);
		w->ops++;
		if (r) {
			kt_record_error(&w->rec, "CAS", r);
			if (w->rec.nerr > 100)
				break;
		} else if (res.applied) {
			w->applied++;
			j += job->nthreads;
			continue;
		}
		w->failed++;
		if (!(w->failed % 64) && kt_now() > job->deadline) {
			kt_record_bad(&w->rec, "ticket %llu still not reached",
				      (unsigned long long)j);
			break;
		}
		/*
		 * Go's Gosched().  Not sched_yield(): with more threads than
		 * CPUs, CFS hands the CPU back to the yielder so often that
		 * the chain crawls (10x slower in the test bed).
		 */
		usleep(1);
	}
	return NULL;
}

/*
 * 2T threads pass a ticket on with CAS, each waiting for its own: the
 * slot ends at ticket 2T*N, each thread applied exactly N CASes.
 */
TEST_F_TIMEOUT(conc, cas_chain, 120)
{
	struct job *job = &self->job;
	unsigned int n = 2 * self->nthreads, i;
	unsigned long failed = 0;
	unsigned char want[64];
	struct kv_res res;
	__u32 len;
	double secs;

	KV_NEED_VALUES(self);
	if (n > KT_MAX_THREADS)
		n = KT_MAX_THREADS;
	job->iters = kt_env_ulong("KATOMIC_VALUE_ITERS", 1000, 1, 100000000) /
		     16 + 1;
	job->deadline = kt_now() + 90;
	len = ticket(want, 0);
	ASSERT_EQ(0, kv_store(self->fd, self->id, KV_TAG, want, len, NULL));
	job->nthreads = n;
	secs = conc_run(_metadata, self, n, cas_worker);
	conc_check(_metadata, self, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(job->iters, self->w[i].applied) TH_LOG("thread %u", i);
		failed += self->w[i].failed;
	}
	TH_LOG("%s: %u threads x %lu tickets in %.2f s, %lu CASes that did not apply",
	       kt_sync_name(job->kind), n, job->iters, secs, failed);
	len = ticket(want, (__u64)n * job->iters);
	ASSERT_EQ(0, kv_load(self->fd, self->id, self->w[0].out, job->vmax,
			     &res));
	EXPECT_EQ(len, res.len);
	EXPECT_EQ(0, memcmp(want, self->w[0].out, len))
		TH_LOG("did not get to ticket %llu, stopped at %llu",
		       (unsigned long long)n * job->iters,
		       (unsigned long long)kv_num_of(self->w[0].out, res.len));
	EXPECT_EQ(1 + (__u64)n * job->iters, res.version);
}

/* ---- tear: the study, judged ------------------------------------------- */

/*
 * A tear study value: every byte b (1..255), of a length b chooses: 8 or
 * 64 bytes, value_max for one b in 32 (large loads cost ~7 times more in
 * the test bed: they would eat the time the 10^6 loads have).
 */
static __u32 tear_len(const struct job *job, unsigned char b)
{
	__u32 len = b % 32 ? (b % 2 ? 8 : 64) : job->vmax;

	return len < job->vmax ? len : job->vmax;
}

static void *tear_worker(void *arg)
{
	struct vworker *w = arg;
	struct job *job = w->job;
	__u64 last = 0;
	struct kv_res res;
	unsigned long k;
	int r;

	if (!kt_thread_go(&w->t))
		return NULL;
	if (w->t.idx < job->writers) {
		/* writer: byte values of its own, until the readers are done */
		for (k = w->t.idx; !__atomic_load_n(&job->stop, __ATOMIC_RELAXED);
		     k += job->writers) {
			unsigned char b = 1 + k % 255;
			__u32 len = tear_len(job, b);

			memset(w->buf, b, len);
			r = kv_store(w->fd, job->id, KV_TAG, w->buf, len, NULL);
			w->ops++;
			if (r) {
				kt_record_error(&w->rec, "STORE", r);
				if (w->rec.nerr > 100)
					break;
			}
		}
		return NULL;
	}
	/* reader: loads until the crew has made its count */
	while (__atomic_fetch_sub(&job->loads_left, 1, __ATOMIC_RELAXED) > 0) {
		r = kv_load(w->fd, job->id, w->out, job->vmax, &res);
		w->ops++;
		if (r) {
			kt_record_error(&w->rec, "LOAD", r);
			if (w->rec.nerr > 100)
				break;
			continue;
		}
		if (res.tag != KV_TAG || !res.len ||
		    res.len != tear_len(job, w->out[0]) ||
		    !kv_uniform(w->out, res.len)) {
			if (!w->others++) {
				w->first_torn_len = res.len;
				w->first_torn[0] = w->out[0];
				w->first_torn[1] = res.len ?
					w->out[res.len - 1] : 0;
			}
			if (job->kind != KATOMIC_SYNC_NONE)
				kt_record_bad(&w->rec, "torn: %u bytes, first %#x, last %#x",
					      res.len, w->out[0],
					      res.len ? w->out[res.len - 1] : 0);
			continue;
		}
		/* one reader never sees the slot go back in time */
		if (job->kind != KATOMIC_SYNC_NONE && res.version < last)
			kt_record_bad(&w->rec, "version %llu after %llu",
				      (unsigned long long)res.version,
				      (unsigned long long)last);
		last = res.version;
	}
	__atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * A writer stores values whose every byte is the same (tear_len()), three
 * readers make 10^6 loads in all: RCU and SEQLOCK never return a torn one
 * nor go back in version; NONE's torn loads (of 2 * 10^5) are counted and
 * printed.
 */
TEST_F_TIMEOUT(conc, tear, 120)
{
	struct job *job = &self->job;
	unsigned long loads = 0, stores = 0, torn = 0, want;
	unsigned int n = self->nthreads, i;
	double secs;

	KV_NEED_VALUES(self);
	job->writers = n / 4 ? n / 4 : 1;
	want = kt_env_ulong("KATOMIC_VALUE_LOADS", 1000000, 1, 1000000000);
	/* NONE's figure is only shown: a fifth of the loads */
	if (job->kind == KATOMIC_SYNC_NONE)
		want = want / 5 + 1;
	job->loads_left = want;
	job->stop = 0;
	memset(self->w[0].buf, 1, tear_len(job, 1));
	ASSERT_EQ(0, kv_store(self->fd, self->id, KV_TAG, self->w[0].buf,
			      tear_len(job, 1), NULL));
	secs = conc_run(_metadata, self, n, tear_worker);
	conc_check(_metadata, self, n);
	for (i = 0; i < n; i++) {
		if (i < job->writers) {
			stores += self->w[i].ops;
			continue;
		}
		loads += self->w[i].ops;
		torn += self->w[i].others;
		if (self->w[i].others)
			TH_LOG("reader %u: %lu torn, the first %llu bytes from %#x to %#x",
			       i, self->w[i].others,
			       (unsigned long long)self->w[i].first_torn_len,
			       self->w[i].first_torn[0],
			       self->w[i].first_torn[1]);
	}
	TH_LOG("%s: %lu loads (%.0f/s) by %u readers against %lu stores by %u writers, %lu torn",
	       kt_sync_name(job->kind), loads, loads / secs,
	       n - job->writers, stores, job->writers, torn);
	EXPECT_LE(want, loads);
	EXPECT_LT(0, stores);
	if (job->kind != KATOMIC_SYNC_NONE)
		EXPECT_EQ(0, torn);
}

/* ---- memory: every path frees what it took ------------------------------ */

/*
 * The measure is the "kernel" line of the memory.stat of a cgroup of our
 * own (MEMCG_KMEM: every page of kernel memory charged to it, slab objects
 * through their obj_cgroup, large kmallocs and vmalloc pages directly).
 * The module allocates values with GFP_KERNEL_ACCOUNT, so they are charged
 * to the cgroup of the process that stores them -- a child of the test,
 * which joins the cgroup after touching all the memory it will use and
 * does nothing there but its ioctls and a few pipe writes.  The figure
 * is exact but for what is charged ahead, in whole pages, for objects not
 * yet allocated: under a page in each CPU's object stock, and what the
 * stocks left in the obj_cgroup when another cgroup took them, under a
 * page per CPU (mm/memcontrol.c: refill_obj_stock, drain_obj_stock); and
 * for the spare page the child's report pipe keeps (pipe->tmp_page): the
 * tolerance is 2 * CPUs + 1 pages.  A leak of every op's buffer, or of
 * each slot's, is far above it.
 * Statistics reach memory.stat when the memcg rstat is flushed (at once
 * once enough changed, at the latest by the 2 s periodic flush), and RCU
 * values are freed a grace period after kvfree_rcu(): so the test polls,
 * with a deadline, until the figure is back.
 */
#define MEM_SLOTS	16	/* slots 48..63 */
#define MEM_FIRST_ID	(KV_FIRST_ID + KV_NR_IDS - MEM_SLOTS)

FIXTURE(mem) {
	int fd;
	struct katomic_info info;
	char root[256];		/* the cgroup2 mount */
	char cg[320];		/* our cgroup, "" if none */
	bool mounted;		/* root mounted by us */
	pid_t child;
	int to_child, from_child;
};

#undef KV_KIND_FIXTURE
#define KV_KIND_FIXTURE mem
KV_KIND_VARIANTS(RES)

FIXTURE_SETUP(mem)
{
	self->to_child = self->from_child = -1;
	kv_setup(_metadata, &self->fd, &self->info);
}

FIXTURE_TEARDOWN(mem)
{
	unsigned int i;

	if (self->to_child >= 0)
		close(self->to_child);	/* a child still there ends */
	if (self->from_child >= 0)
		close(self->from_child);
	if (self->child > 0)
		waitpid(self->child, NULL, 0);
	if (self->cg[0])
		rmdir(self->cg);
	if (self->mounted)
		umount2(self->root, MNT_DETACH);
	if (self->info.features & KATOMIC_FEAT_VALUES)
		for (i = 0; i < MEM_SLOTS; i++)
			kv_undefine(self->fd, MEM_FIRST_ID + i);
	close(self->fd);
}

/* What the child tells the parent after each step. */
struct mem_report {
	char step;		/* 'J'oined, 'H'olding, 'D'one, 'E'rror */
	unsigned long ops;	/* made so far */
	unsigned long unexpected;
	int first_r;		/* the first unexpected return */
	unsigned int first_path;/* and its path */
	unsigned long first_i;	/* and its iteration */
};

/* The child's memory, all touched before it joins the cgroup. */
struct mem_child {
	int fd;
	__u32 vmax;
	__u8 sync;
	unsigned long stores;
	unsigned char *pool;			/* 2 * vmax random bytes */
	unsigned char *cur[MEM_SLOTS];		/* what each slot holds */
	__u32 cur_len[MEM_SLOTS];
	unsigned char *out, *none, *ro;		/* vmax + 8; no access; read */
	struct mem_report rep;
};

/*
 * The ways through the module an iteration of the child takes besides
 * its STORE: each succeeds or fails as said, and frees what it took.
 */
enum mem_path {
	MEM_SWAP, MEM_SWAP_ERANGE, MEM_SWAP_EFAULT_OUT, MEM_CAS, MEM_CAS_NOT,
	MEM_CAS_EFAULT, MEM_STORE_EINVAL, MEM_STORE_EFAULT, MEM_STORE_E2BIG,
	MEM_LOAD, MEM_LOAD_ERANGE, MEM_NR_PATHS
};

static void mem_note(struct mem_child *c, unsigned int path, unsigned long i,
		     int r, int want)
{
	c->rep.ops++;
	if (r == want)
		return;
	if (!c->rep.unexpected++) {
		c->rep.first_r = r;
		c->rep.first_path = path;
		c->rep.first_i = i;
	}
}

/* One iteration: a STORE to slot i % MEM_SLOTS, then maybe another path. */
static void mem_step(struct mem_child *c, unsigned long i)
{
	unsigned int k = i % MEM_SLOTS, path = (i / MEM_SLOTS) % 16;
	__u32 id = MEM_FIRST_ID + k, len;
	const unsigned char *v = c->pool + (i * 131) % c->vmax;
	struct kv_res res;
	int r;

	/* mostly small values, value_max now and then */
	len = i % 61 ? 1 + (i * 7) % (c->vmax < 200 ? c->vmax : 200) : c->vmax;
	r = kv_store(c->fd, id, KV_TAG, v, len, NULL);
	mem_note(c, MEM_NR_PATHS, i, r, 0);
	if (!r) {
		memcpy(c->cur[k], v, len);
		c->cur_len[k] = len;
	}
	v = c->pool + (i * 17) % c->vmax;
	len = 1 + i % 100 < c->vmax ? 1 + i % 100 : c->vmax;
	switch (path) {
	case MEM_SWAP:
		r = kv_swap(c->fd, id, KV_TAG, v, len, c->out, c->vmax, &res);
		break;
	case MEM_SWAP_ERANGE:
		r = kv_swap(c->fd, id, KV_TAG, v, len, c->out,
			    c->cur_len[k] - 1, &res);
		mem_note(c, path, i, r, -ERANGE);
		return;
	case MEM_SWAP_EFAULT_OUT:
		r = kv_swap(c->fd, id, KV_TAG, v, len, c->ro, c->vmax, &res);
		mem_note(c, path, i, r, -EFAULT);
		break;		/* the swap stands */
	case MEM_CAS:
		r = kv_cas(c->fd, id, KV_TAG, v, len, KV_TAG, c->cur[k],
			   c->cur_len[k], &res);
		mem_note(c, path, i, r || !res.applied ? -1 : 0, 0);
		if (!r && res.applied)
			break;
		return;
	case MEM_CAS_NOT:
		r = kv_cas(c->fd, id, KV_TAG, v, len, KV_TAG2, c->cur[k],
			   c->cur_len[k], &res);
		mem_note(c, path, i, r || res.applied ? -1 : 0, 0);
		return;
	case MEM_CAS_EFAULT:
		r = kv_cas(c->fd, id, KV_TAG, v, len, KV_TAG, c->none,
			   c->cur_len[k], &res);
		mem_note(c, path, i, r, -EFAULT);
		return;
	case MEM_STORE_EINVAL:
		r = kv_store(c->fd, id, KV_TAG2, v, len, NULL);
		mem_note(c, path, i, r, -EINVAL);
		return;
	case MEM_STORE_EFAULT:
		r = kv_store(c->fd, id, KV_TAG, c->none, len, NULL);
		mem_note(c, path, i, r, -EFAULT);
		return;
	case MEM_STORE_E2BIG:
		r = kv_store(c->fd, id, KV_TAG, c->pool, c->vmax + 1, NULL);
		mem_note(c, path, i, r, -E2BIG);
		return;
	case MEM_LOAD:
		r = kv_load(c->fd, id, c->out, c->vmax, &res);
		mem_note(c, path, i, r, 0);
		return;
	case MEM_LOAD_ERANGE:
		r = kv_load(c->fd, id, c->out, c->cur_len[k] - 1, &res);
		mem_note(c, path, i, r, -ERANGE);
		return;
	default:
		return;
	}
	if (path == MEM_SWAP)
		mem_note(c, path, i, r, 0);
	memcpy(c->cur[k], v, len);
	c->cur_len[k] = len;
}

static bool mem_send(int fd, const struct mem_report *rep)
{
	return write(fd, rep, sizeof(*rep)) == sizeof(*rep);
}

/* Wait for the parent's go; false if it is gone. */
static bool mem_wait(int fd)
{
	char c;

	return read(fd, &c, 1) == 1;
}

/* The child: join cg, then DEFINE, the ops, hold, UNDEFINE at each go. */
static void mem_child_run(struct mem_child *c, const char *cg, int in, int out)
{
	unsigned long i;
	unsigned int k;
	int r;

	r = kt_cg_join(cg);
	c->rep.step = r ? 'E' : 'J';
	c->rep.first_r = r;
	if (!mem_send(out, &c->rep) || r || !mem_wait(in))
		return;
	for (k = 0; k < MEM_SLOTS; k++)
		mem_note(c, MEM_NR_PATHS, 0,
			 kv_define(c->fd, MEM_FIRST_ID + k, c->sync), 0);
	for (i = 0; i < c->stores; i++)
		mem_step(c, i);
	/* each slot ends holding a value of value_max bytes */
	for (k = 0; k < MEM_SLOTS; k++)
		mem_note(c, MEM_NR_PATHS, i,
			 kv_store(c->fd, MEM_FIRST_ID + k, KV_TAG, c->pool,
				  c->vmax, NULL), 0);
	c->rep.step = 'H';
	if (!mem_send(out, &c->rep) || !mem_wait(in))
		return;
	for (k = 0; k < MEM_SLOTS; k++)
		mem_note(c, MEM_NR_PATHS, i,
			 kv_undefine(c->fd, MEM_FIRST_ID + k), 0);
	c->rep.step = 'D';
	if (mem_send(out, &c->rep))
		mem_wait(in);	/* until the parent has measured */
}

static struct mem_child *mem_child_alloc(int fd, __u32 vmax, __u8 sync,
					 unsigned long stores, size_t pg)
{
	struct mem_child *c = calloc(1, sizeof(*c));
	unsigned int k;
	char *p;

	if (!c)
		return NULL;
	c->fd = fd;
	c->vmax = vmax;
	c->sync = sync;
	c->stores = stores;
	c->pool = malloc(2 * vmax + 8);
	c->out = malloc(vmax + 8);
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!c->pool || !c->out || p == MAP_FAILED ||
	    mprotect(p, pg, PROT_NONE) || mprotect(p + pg, pg, PROT_READ))
		return NULL;
	c->none = (unsigned char *)p;
	c->ro = (unsigned char *)p + pg;
	kv_fill(c->pool, 2 * vmax + 8, 0x3e3);
	memset(c->out, 0, vmax + 8);
	for (k = 0; k < MEM_SLOTS; k++) {
		c->cur[k] = calloc(1, vmax + 8);
		if (!c->cur[k])
			return NULL;
	}
	return c;
}

static void mem_expect_report(struct __test_metadata *_metadata,
			      const struct mem_report *rep, char step)
{
	ASSERT_EQ(step, rep->step)
		TH_LOG("the child: step %c, error %d (%s)", rep->step,
		       rep->first_r, strerror(-rep->first_r));
	EXPECT_EQ(0, rep->unexpected)
		TH_LOG("the child: %lu unexpected returns, the first %d (%s) on path %u at %lu",
		       rep->unexpected, rep->first_r, strerror(-rep->first_r),
		       rep->first_path, rep->first_i);
}

/*
 * A child in a cgroup of its own defines 16 slots, runs 10^5 STOREs over
 * them (value_max bytes now and then) and every other path (SWAP, CAS
 * applied or not, -EINVAL, -EFAULT in and out, -E2BIG, -ERANGE, LOAD),
 * then fills each slot with value_max bytes: the kernel memory charged to
 * the cgroup rises by at least that; after UNDEFINE it is back at its
 * baseline.
 */
TEST_F_TIMEOUT(mem, memory, 120)
{
	const size_t pg = sysconf(_SC_PAGESIZE);
	const long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	unsigned long stores = kt_env_ulong("KATOMIC_VALUE_STORES", 100000, 1,
					    100000000);
	long long base, held, back, tol, need;
	struct mem_report rep;
	struct mem_child *c;
	int p2c[2], c2p[2], r;
	double t0, secs, took;
	char go = 'g';

	KV_NEED_VALUES(self);
	r = kt_cg_root(self->root, sizeof(self->root), &self->mounted);
	if (r)
		SKIP(return, "no cgroup2 hierarchy: %s", strerror(-r));
	if (kt_cg_write(self->root, "cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory controller in %s: %s", self->root,
		     strerror(errno));
	r = kt_cg_child(self->cg, sizeof(self->cg), self->root,
			"katomic_value_test");
	ASSERT_EQ(0, r) TH_LOG("%s: %s", self->cg, strerror(-r));
	base = kt_cg_kernel(self->cg);
	if (base < 0)
		SKIP(return, "%s/memory.stat has no kernel line: %s",
		     self->cg, strerror(-base));

	c = mem_child_alloc(self->fd, self->info.value_max,
			    variant->sync, stores, pg);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, pipe2(p2c, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(c2p, O_CLOEXEC));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		close(p2c[1]);
		close(c2p[0]);
		mem_child_run(c, self->cg, p2c[0], c2p[1]);
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	self->to_child = p2c[1];
	self->from_child = c2p[0];

	tol = (2 * ncpu + 1) * (long long)pg;
	ASSERT_EQ(sizeof(rep), read(self->from_child, &rep, sizeof(rep)));
	mem_expect_report(_metadata, &rep, 'J');
	base = kt_cg_kernel(self->cg);
	ASSERT_LE(0, base);

	t0 = kt_now();
	ASSERT_EQ(1, write(self->to_child, &go, 1));
	ASSERT_EQ(sizeof(rep), read(self->from_child, &rep, sizeof(rep)));
	secs = kt_now() - t0;
	mem_expect_report(_metadata, &rep, 'H');
	/* the slots' values are charged to the cgroup, and seen */
	need = (long long)MEM_SLOTS * self->info.value_max;
	held = kt_cg_poll(self->cg, base + need - tol, LLONG_MAX, 10, &took);
	TH_LOG("%s: %lu ops in %.2f s; kernel memory %lld at the start, %lld holding %u values of %u bytes",
	       kt_sync_name(variant->sync), rep.ops, secs, base, held,
	       MEM_SLOTS, self->info.value_max);
	if (need >= 2 * tol) {
		EXPECT_LE(base + need - tol, held)
			TH_LOG("the values are not charged to the cgroup that stored them");
	} else {
		TH_LOG("value_max %u too small to see the values over the tolerance",
		       self->info.value_max);
	}

	ASSERT_EQ(1, write(self->to_child, &go, 1));
	ASSERT_EQ(sizeof(rep), read(self->from_child, &rep, sizeof(rep)));
	mem_expect_report(_metadata, &rep, 'D');
	back = kt_cg_poll(self->cg, base - tol, base + tol, 30, &took);
	TH_LOG("%s: after UNDEFINE %lld (%+lld, tolerance %lld) in %.2f s",
	       kt_sync_name(variant->sync), back, back - base, tol, took);
	EXPECT_LE(back, base + tol)
		TH_LOG("kernel memory not returned: %lld bytes over the baseline",
		       back - base);
	EXPECT_LE(base - tol, back);
	ASSERT_EQ(1, write(self->to_child, &go, 1));
	close(self->to_child);
	self->to_child = -1;
	ASSERT_EQ(self->child, waitpid(self->child, NULL, 0));
	self->child = 0;
}

TEST_HARNESS_MAIN
