// SPDX-License-Identifier: GPL-2.0
/*
 * libkatomic's mapped counters on a twin (katomic_map and the
 * katomic_map_* calls; the device's are checked in the test bed by
 * vmtests/katomic_lib_map_test.c):
 *
 *  - which twins map: a private twin made with KATOMIC_CTX_MMAP, not the
 *    root twin or one without the flag (-ENODEV), not one of 0 counters
 *    (-EINVAL); mapping twice is fine; after katomic_unmap every mapped
 *    call is -ENODEV; only ATOMIC counters can be defined in such a twin;
 *  - the layout: counter id's cell at id * KATOMIC_MAP_CELL, the value in
 *    the type's width, written by DEFINE and zeroed by UNDEFINE;
 *  - every typed call katomic_map_<op>_<type> returns what
 *    katomic_<op>_<type> returns for the same operands, over edge values
 *    of every type (the op x type table expanded once);
 *  - katomic_map_op's checks and results are katomic_op's, and
 *    katomic_map_batch's stop and done are katomic_batch's;
 *  - threads adding through katomic_add and katomic_map_add on one
 *    counter end exact.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "katomic.h"
#include "kselftest_harness.h"

#define N		8
#define PTR_BITS	(sizeof(uintptr_t) * 8)

/* A mapped twin of n counters. */
static int mapped_twin(struct katomic *root, unsigned int n,
		       struct katomic **out)
{
	struct katomic_context c = {
		.nr_counters = n, .flags = KATOMIC_CTX_MMAP,
	};

	return katomic_context_new(root, &c, out);
}

FIXTURE(map) {
	struct katomic *root, *k;
};

FIXTURE_SETUP(map)
{
	ASSERT_EQ(0, katomic_twin_new(N, &self->root));
	ASSERT_EQ(0, mapped_twin(self->root, N, &self->k));
	ASSERT_EQ(0, katomic_map(self->k));
}

FIXTURE_TEARDOWN(map)
{
	katomic_close(self->k);
	katomic_close(self->root);
}

TEST_F(map, which_twins_map)
{
	struct katomic_context plain = { .nr_counters = N };
	struct katomic_info info;
	struct katomic *k;
	uint64_t v;

	EXPECT_EQ(-ENODEV, katomic_map(self->root));
	EXPECT_EQ(NULL, katomic_map_cell(self->root, 0));
	EXPECT_EQ(-ENODEV, katomic_map_load_uint64(self->root, 0, &v));
	ASSERT_EQ(0, katomic_context_new(self->root, &plain, &k));
	EXPECT_EQ(-ENODEV, katomic_map(k));
	katomic_close(k);
	ASSERT_EQ(0, mapped_twin(self->root, 0, &k));
	EXPECT_EQ(-EINVAL, katomic_map(k));
	katomic_close(k);

	/* the twin says it has the feature */
	ASSERT_EQ(0, katomic_info(self->k, &info));
	EXPECT_TRUE(info.features & KATOMIC_FEAT_MMAP);
	/* twice is fine; unmapped, the calls are -ENODEV; again, fine */
	EXPECT_EQ(0, katomic_map(self->k));
	ASSERT_EQ(0, katomic_define(self->k, 1, KATOMIC_TYPE_UINT64, 0, 7));
	katomic_unmap(self->k);
	katomic_unmap(self->k);
	EXPECT_EQ(NULL, katomic_map_cell(self->k, 1));
	EXPECT_EQ(-ENODEV, katomic_map_load_uint64(self->k, 1, &v));
	ASSERT_EQ(0, katomic_map(self->k));
	EXPECT_EQ(0, katomic_map_load_uint64(self->k, 1, &v));
	EXPECT_EQ(7, v);
}

TEST_F(map, atomic_only)
{
	unsigned int sync, type;

	for (sync = 0; sync <= KATOMIC_SYNC_LAST; sync++) {
		int r = katomic_define(self->k, 0, KATOMIC_TYPE_INT64, sync, 0);

		if (sync == KATOMIC_SYNC_DEFAULT || sync == KATOMIC_SYNC_ATOMIC) {
			EXPECT_EQ(0, r);
			EXPECT_EQ(0, katomic_query(self->k, 0, &type, NULL));
			EXPECT_EQ(0, katomic_undefine(self->k, 0));
		} else {
			EXPECT_EQ(-EOPNOTSUPP, r) TH_LOG("sync %u", sync);
		}
	}
	/* the twin's other checks come first, as the module's */
	EXPECT_EQ(-EOVERFLOW, katomic_define(self->k, 0, KATOMIC_TYPE_INT32,
					     KATOMIC_SYNC_NONE, 1ULL << 40));
}

TEST_F(map, layout)
{
	unsigned char *c0 = katomic_map_cell(self->k, 0), *c;
	unsigned int id;

	ASSERT_NE(NULL, c0);
	EXPECT_EQ(NULL, katomic_map_cell(self->k, N));
	for (id = 0; id < N; id++)
		EXPECT_EQ(c0 + id * KATOMIC_MAP_CELL,
			  katomic_map_cell(self->k, id));
	c = katomic_map_cell(self->k, 2);
	/* a user write to an undefined cell is overwritten by DEFINE */
	memset(c, 0xff, 8);
	ASSERT_EQ(0, katomic_define(self->k, 2, KATOMIC_TYPE_INT32, 0,
				    (__u64)-2));
	EXPECT_EQ(0xfffffffeU, *(uint32_t *)c);
	EXPECT_EQ(0, *(uint32_t *)(c + 4));
	ASSERT_EQ(0, katomic_map_add_int32(self->k, 2, 3, NULL));
	EXPECT_EQ(1, *(uint32_t *)c);
	ASSERT_EQ(0, katomic_undefine(self->k, 2));
	EXPECT_EQ(0, *(uint64_t *)c);
}

/* Edge operands of every type: the typed calls agree pairwise. */
static const __u64 edges[] = {
	0, 1, 2, 0x7f, 0x80000000ULL, 0xffffffffULL, 0x7fffffffffffffffULL,
	0x8000000000000000ULL, ~0ULL, 0x0123456789abcdefULL,
};
#define NR_EDGES	(sizeof(edges) / sizeof(edges[0]))

/* A typed call's operands, by its count: edges j and i + j. */
#define ARGS_0
#define ARGS_1		(__typeof__(a))edges[j],
#define ARGS_2		(__typeof__(a))edges[j], \
			(__typeof__(a))edges[(i + j) % NR_EDGES],

TEST_F(map, typed_calls_agree)
{
	struct katomic *ref;
	unsigned int i, j, calls = 0;

	ASSERT_EQ(0, katomic_twin_new(N, &ref));
	for (i = 0; i < NR_EDGES; i++) {
		for (j = 0; j < NR_EDGES; j++) {
#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
			do {						\
				katomic_##tname##_t init =		\
					(katomic_##tname##_t)edges[i];	\
				katomic_##tname##_t a = 0, b = 0;	\
				__u64 v = katomic_value_extend(tnr,	\
					PTR_BITS, (__u64)init);		\
				int ra, rb;				\
									\
				ASSERT_EQ(0, katomic_define(ref, tnr, tnr, 0, v)); \
				ASSERT_EQ(0, katomic_define(self->k, tnr, tnr, 0, v)); \
				ra = katomic_##name##_##tname(ref, tnr,	\
					ARGS_##operands &a);		\
				rb = katomic_map_##name##_##tname(self->k, tnr, \
					ARGS_##operands &b);		\
				EXPECT_EQ(ra, rb) TH_LOG(#name " " #tname); \
				EXPECT_EQ(a, b) TH_LOG(#name " " #tname); \
				ASSERT_EQ(0, katomic_load_##tname(ref, tnr, &a)); \
				ASSERT_EQ(0, katomic_map_load_##tname(self->k, tnr, &b)); \
				EXPECT_EQ(a, b) TH_LOG(#name " " #tname " after"); \
				ASSERT_EQ(0, katomic_undefine(ref, tnr)); \
				ASSERT_EQ(0, katomic_undefine(self->k, tnr)); \
				calls++;				\
			} while (0);
			KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE
		}
	}
	EXPECT_EQ(NR_EDGES * NR_EDGES * KATOMIC_OP_LAST * KATOMIC_TYPE_LAST,
		  calls);
	katomic_close(ref);
}

/* katomic_map_op: katomic_op's checks and results, op for op. */
TEST_F(map, op_as_katomic_op)
{
	struct katomic_op a, b;
	unsigned int type, op, i;

	for (type = 1; type <= KATOMIC_TYPE_LAST; type++) {
		ASSERT_EQ(0, katomic_define(self->root, type, type, 0, 5));
		ASSERT_EQ(0, katomic_define(self->k, type, type, 0, 5));
	}
	for (i = 0; i < NR_EDGES; i++) {
		for (type = 1; type <= KATOMIC_TYPE_LAST; type++) {
			for (op = 1; op <= KATOMIC_OP_LAST; op++) {
				const struct katomic_op_desc *d =
					katomic_op_desc(op);
				int ra, rb;

				a = (struct katomic_op){
					.id = type, .type = type, .op = op,
					.arg = d->operands ? edges[i] : 0,
					.arg2 = d->operands > 1 ?
						edges[NR_EDGES - 1 - i] : 0,
					.result = 0xbad, .error = 1,
				};
				b = a;
				ra = katomic_op(self->root, &a);
				rb = katomic_map_op(self->k, &b);
				EXPECT_EQ(ra, rb) TH_LOG("%s %s %#llx",
					katomic_op_name(op),
					katomic_type_name(type),
					(unsigned long long)a.arg);
				EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
			}
		}
	}
	/* the struct's checks, and the mapping's own */
	a = (struct katomic_op){ .id = 1, .type = 1, .op = 0 };
	EXPECT_EQ(-EINVAL, katomic_map_op(self->k, &a));
	a = (struct katomic_op){ .id = 1, .type = 9, .op = 1 };
	EXPECT_EQ(-EINVAL, katomic_map_op(self->k, &a));
	a = (struct katomic_op){ .id = 1, .type = 1, .op = 1, .arg = 1 };
	EXPECT_EQ(-EINVAL, katomic_map_op(self->k, &a));
	a = (struct katomic_op){ .id = 1, .type = 1, .op = 1, .flags = 1 };
	EXPECT_EQ(-EINVAL, katomic_map_op(self->k, &a));
	a = (struct katomic_op){ .id = 1, .type = KATOMIC_TYPE_UINT32,
				 .op = KATOMIC_OP_ADD, .arg = 1ULL << 32 };
	EXPECT_EQ(-EOVERFLOW, katomic_map_op(self->k, &a));
	a = (struct katomic_op){ .id = N, .type = 1, .op = 1 };
	EXPECT_EQ(-EINVAL, katomic_map_op(self->k, &a));
	katomic_unmap(self->k);
	a = (struct katomic_op){ .id = 1, .type = 1, .op = 1 };
	EXPECT_EQ(-ENODEV, katomic_map_op(self->k, &a));
}

/* katomic_map_batch: katomic_batch's header checks, stop and done. */
TEST_F(map, batch_as_katomic_batch)
{
	struct katomic_op a[4], b[4];
	unsigned int da = 77, db = 77, i;

	ASSERT_EQ(0, katomic_define(self->root, 0, KATOMIC_TYPE_UINT64, 0, 0));
	ASSERT_EQ(0, katomic_define(self->k, 0, KATOMIC_TYPE_UINT64, 0, 0));
	for (i = 0; i < 4; i++)
		a[i] = (struct katomic_op){ .id = 0, .type = KATOMIC_TYPE_UINT64,
					    .op = KATOMIC_OP_ADD, .arg = i + 1 };
	a[2].id = N;		/* fails: -EINVAL */
	memcpy(b, a, sizeof(a));
	EXPECT_EQ(0, katomic_batch(self->root, a, 4, 0, &da));
	EXPECT_EQ(0, katomic_map_batch(self->k, b, 4, 0, &db));
	EXPECT_EQ(3, da);
	EXPECT_EQ(da, db);
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	EXPECT_EQ(-EINVAL, b[2].error);
	EXPECT_EQ(0, katomic_batch(self->root, a, 4, KATOMIC_BATCH_CONTINUE,
				   &da));
	EXPECT_EQ(0, katomic_map_batch(self->k, b, 4, KATOMIC_BATCH_CONTINUE,
				       &db));
	EXPECT_EQ(4, db);
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	EXPECT_EQ(10, b[3].result);	/* 1 + 2 (stopped), then 1 + 2 + 4 */

	EXPECT_EQ(-EINVAL, katomic_map_batch(self->k, b, 0, 0, &db));
	EXPECT_EQ(-EINVAL, katomic_map_batch(self->k, b, 1, 2, &db));
	EXPECT_EQ(-EFAULT, katomic_map_batch(self->k, NULL, 1, 0, &db));
	EXPECT_EQ(0, katomic_map_batch(self->k, b, 1, 0, NULL));
	katomic_unmap(self->k);
	EXPECT_EQ(-ENODEV, katomic_map_batch(self->k, b, 1, 0, &db));
}

/* Threads: half through katomic_add, half through katomic_map_add. */
struct adder {
	struct katomic *k;
	bool mapped;
	unsigned long n;
	int err;
};

static void *adder_main(void *arg)
{
	struct adder *a = arg;
	unsigned long i;
	int r = 0;

	for (i = 0; i < a->n && !r; i++)
		r = a->mapped ? katomic_map_add_uint32(a->k, 3, 1, NULL)
			      : katomic_add_uint32(a->k, 3, 1, NULL);
	a->err = r;
	return NULL;
}

TEST_F(map, mixed_threads)
{
	struct adder a[4];
	pthread_t th[4];
	unsigned int i;
	uint32_t v;

	ASSERT_EQ(0, katomic_define(self->k, 3, KATOMIC_TYPE_UINT32, 0,
				    0xffffff00U));
	for (i = 0; i < 4; i++) {
		a[i] = (struct adder){ .k = self->k, .mapped = i % 2,
				       .n = 100000 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, adder_main, &a[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, a[i].err);
	}
	ASSERT_EQ(0, katomic_load_uint32(self->k, 3, &v));
	EXPECT_EQ((uint32_t)(0xffffff00U + 400000), v);
}

TEST_HARNESS_MAIN
