// SPDX-License-Identifier: GPL-2.0
/*
 * The twin under contention, for every counter type: N threads x M adds,
 * or M CAS-loop increments, end at exactly N*M, and every value the ops
 * returned was returned exactly once; MAX ends at the largest operand; OR
 * and AND on bits owned by one thread each never lose that thread's bit.
 * Worker threads only record; the main thread asserts (kselftest's
 * ASSERT is not thread-safe).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "katomic.h"
#include "kselftest_harness.h"

#define NR_THREADS	4
#define NR_ITERS	100000
#define TOTAL		(NR_THREADS * NR_ITERS)

struct worker {
	pthread_t thread;
	unsigned int nr;		/* 0..NR_THREADS-1 */
	struct katomic *k;
	unsigned int type;
	pthread_barrier_t *start;
	__u64 *results;			/* what each op returned, in order */
	long errors;			/* failed calls or broken invariants */
	int first_error;
	long retries;			/* CAS attempts that found another value */
	long applied;
};

static void record_error(struct worker *w, int err)
{
	if (!w->errors++)
		w->first_error = err;
}

static int run_op(struct worker *w, unsigned int opc, __u64 arg, __u64 arg2,
		  __u64 *result)
{
	struct katomic_op op = {
		.type = w->type, .op = opc, .arg = arg, .arg2 = arg2,
	};
	int ret = katomic_op(w->k, &op);

	if (ret < 0)
		record_error(w, ret);
	*result = op.result;
	return ret;
}

static void *add_worker(void *arg)
{
	struct worker *w = arg;
	int i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < NR_ITERS; i++)
		run_op(w, KATOMIC_OP_ADD, 1, 0, &w->results[i]);
	return NULL;
}

/* Go's way to increment with CompareAndSwap: load, then retry from what CAS saw. */
static void *cas_worker(void *arg)
{
	struct worker *w = arg;
	__u64 old, seen;
	int i, ret;

	pthread_barrier_wait(w->start);
	for (i = 0; i < NR_ITERS; i++) {
		if (run_op(w, KATOMIC_OP_LOAD, 0, 0, &old) < 0)
			continue;
		while ((ret = run_op(w, KATOMIC_OP_CAS, old, old + 1, &seen)) == 0) {
			w->retries++;
			old = seen;
		}
		w->results[i] = old;
	}
	return NULL;
}

/* Thread nr offers nr, nr + N, nr + 2N, ...: the largest is TOTAL - 1. */
static void *max_worker(void *arg)
{
	struct worker *w = arg;
	__u64 old;
	int i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < NR_ITERS; i++)
		w->applied += run_op(w, KATOMIC_OP_MAX,
				     (__u64)i * NR_THREADS + w->nr, 0, &old) == 1;
	return NULL;
}

/* Thread nr owns bit nr: the old value always shows the bit as it left it. */
static void *bits_worker(void *arg)
{
	struct worker *w = arg;
	__u64 bit = 1ULL << w->nr, old;
	int i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < NR_ITERS; i++) {
		if (run_op(w, KATOMIC_OP_OR, bit, 0, &old) >= 0 && (old & bit))
			record_error(w, 1);
		if (run_op(w, KATOMIC_OP_AND, ~bit & 0x7fffffff, 0, &old) >= 0 &&
		    !(old & bit))
			record_error(w, 2);
	}
	return NULL;
}

FIXTURE(twin_mt) {
	struct katomic *k;
	struct worker workers[NR_THREADS];
	pthread_barrier_t start;
};

FIXTURE_VARIANT(twin_mt) {
	unsigned int type;
};

#define TYPE_VARIANT(NAME, nr, name, bits, is_signed) \
	FIXTURE_VARIANT_ADD(twin_mt, name) { .type = nr };
KATOMIC_TYPE_TABLE(TYPE_VARIANT)
#undef TYPE_VARIANT

FIXTURE_SETUP(twin_mt)
{
	int i;

	ASSERT_EQ(0, katomic_twin_new(1, &self->k));
	ASSERT_EQ(0, katomic_define(self->k, 0, variant->type,
				    KATOMIC_SYNC_ATOMIC, 0));
	ASSERT_EQ(0, pthread_barrier_init(&self->start, NULL, NR_THREADS));
	for (i = 0; i < NR_THREADS; i++) {
		self->workers[i] = (struct worker){
			.nr = i, .k = self->k, .type = variant->type,
			.start = &self->start,
		};
		self->workers[i].results = calloc(NR_ITERS, sizeof(__u64));
		ASSERT_NE(NULL, self->workers[i].results);
	}
}

FIXTURE_TEARDOWN(twin_mt)
{
	int i;

	for (i = 0; i < NR_THREADS; i++)
		free(self->workers[i].results);
	pthread_barrier_destroy(&self->start);
	katomic_close(self->k);
}

static void run_workers(struct __test_metadata *_metadata,
			struct worker *workers, void *(*fn)(void *))
{
	int i;

	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&workers[i].thread, NULL, fn,
					    &workers[i]));
	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(0, pthread_join(workers[i].thread, NULL));
	for (i = 0; i < NR_THREADS; i++) {
		if (workers[i].errors)
			TH_LOG("thread %d: %ld errors, the first %d", i,
			       workers[i].errors, workers[i].first_error);
		EXPECT_EQ(0, workers[i].errors);
	}
}

static __u64 load(struct __test_metadata *_metadata, struct katomic *k,
		  unsigned int type)
{
	struct katomic_op op = { .type = type, .op = KATOMIC_OP_LOAD };

	EXPECT_EQ(0, katomic_op(k, &op));
	return op.result;
}

/* Each of first .. first + TOTAL - 1 was returned by exactly one op. */
static void check_each_once(struct __test_metadata *_metadata,
			    struct worker *workers, __u64 first)
{
	unsigned char *seen = calloc(TOTAL, 1);
	__u64 v;
	int t, i;

	ASSERT_NE(NULL, seen);
	for (t = 0; t < NR_THREADS; t++) {
		for (i = 0; i < NR_ITERS; i++) {
			v = workers[t].results[i] - first;
			if (v >= TOTAL || seen[v])
				TH_LOG("thread %d op %d returned %llu%s", t, i,
				       workers[t].results[i],
				       v < TOTAL ? " twice" : "");
			ASSERT_LT(v, TOTAL);
			ASSERT_EQ(0, seen[v]);
			seen[v] = 1;
		}
	}
	free(seen);
}

TEST_F(twin_mt, add)
{
	run_workers(_metadata, self->workers, add_worker);
	EXPECT_EQ(TOTAL, load(_metadata, self->k, variant->type));
	check_each_once(_metadata, self->workers, 1);
}

TEST_F(twin_mt, cas_increment)
{
	long retries = 0;
	int i;

	run_workers(_metadata, self->workers, cas_worker);
	EXPECT_EQ(TOTAL, load(_metadata, self->k, variant->type));
	check_each_once(_metadata, self->workers, 0);
	for (i = 0; i < NR_THREADS; i++)
		retries += self->workers[i].retries;
	TH_LOG("%ld CAS retries", retries);
}

TEST_F(twin_mt, max)
{
	long applied = 0;
	int i;

	run_workers(_metadata, self->workers, max_worker);
	EXPECT_EQ(TOTAL - 1, load(_metadata, self->k, variant->type));
	for (i = 0; i < NR_THREADS; i++)
		applied += self->workers[i].applied;
	EXPECT_LE(1, applied);
	EXPECT_GE(TOTAL - 1, applied);
}

TEST_F(twin_mt, or_and_bits)
{
	run_workers(_metadata, self->workers, bits_worker);
	EXPECT_EQ(0, load(_metadata, self->k, variant->type));
}

TEST_HARNESS_MAIN
