// SPDX-License-Identifier: GPL-2.0
/*
 * The twin under contention, for every counter type, the kinds ATOMIC,
 * SPINLOCK and MUTEX and both layouts: N threads x M adds, or M CAS-loop
 * increments, end at exactly N*M, and every value the ops returned was
 * returned exactly once; MAX ends at the largest operand; OR and AND on
 * bits owned by one thread each never lose that thread's bit.  In the
 * packed layout the counter shares its cache line with ATOMIC neighbours
 * that must not change.
 *
 * PERCPU: N threads x M adds, and more threads than shards, end exact
 * once the writers have joined, while a reader's LOADs only ever move
 * toward the total.  NONE never crashes, never touches its neighbours
 * (ATOMIC counters hammered at the same time stay exact), and never holds
 * a value its ops could not have made; how many updates it lost is
 * printed, not asserted (two cores need not lose any).
 *
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

/* The counter under test; in the packed layout ID - 1 and ID + 1 share its line. */
#define ID		1
#define NR_COUNTERS	3
#define NEIGHBOUR	0x5aa55aa5

struct worker {
	pthread_t thread;
	unsigned int nr;		/* 0..NR_THREADS-1 */
	struct katomic *k;
	__u32 id;
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
		.id = w->id, .type = w->type, .op = opc, .arg = arg,
		.arg2 = arg2,
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
	unsigned int sync;
	unsigned int flags;		/* katomic_twin_new2's */
};

/* type x {atomic, spinlock, mutex} x {padded, packed} */
#define KIND_VARIANT(tname, tnr, kname, knr, lname, lflags)		\
	FIXTURE_VARIANT_ADD(twin_mt, tname##_##kname##lname) {		\
		.type = tnr, .sync = knr, .flags = lflags,		\
	};
#define TYPE_VARIANTS(NAME, nr, name, bits, is_signed)			\
	KIND_VARIANT(name, nr, atomic, KATOMIC_SYNC_ATOMIC, , 0)	\
	KIND_VARIANT(name, nr, spinlock, KATOMIC_SYNC_SPINLOCK, , 0)	\
	KIND_VARIANT(name, nr, mutex, KATOMIC_SYNC_MUTEX, , 0)		\
	KIND_VARIANT(name, nr, atomic, KATOMIC_SYNC_ATOMIC, _packed,	\
		     KATOMIC_TWIN_PACKED)				\
	KIND_VARIANT(name, nr, spinlock, KATOMIC_SYNC_SPINLOCK, _packed, \
		     KATOMIC_TWIN_PACKED)				\
	KIND_VARIANT(name, nr, mutex, KATOMIC_SYNC_MUTEX, _packed,	\
		     KATOMIC_TWIN_PACKED)
KATOMIC_TYPE_TABLE(TYPE_VARIANTS)
#undef TYPE_VARIANTS
#undef KIND_VARIANT

FIXTURE_SETUP(twin_mt)
{
	int i;

	ASSERT_EQ(0, katomic_twin_new2(NR_COUNTERS, variant->flags, &self->k));
	ASSERT_EQ(0, katomic_define(self->k, ID - 1, KATOMIC_TYPE_UINT32,
				    KATOMIC_SYNC_ATOMIC, NEIGHBOUR));
	ASSERT_EQ(0, katomic_define(self->k, ID, variant->type,
				    variant->sync, 0));
	ASSERT_EQ(0, katomic_define(self->k, ID + 1, KATOMIC_TYPE_UINT32,
				    KATOMIC_SYNC_ATOMIC, NEIGHBOUR));
	ASSERT_EQ(0, pthread_barrier_init(&self->start, NULL, NR_THREADS));
	for (i = 0; i < NR_THREADS; i++) {
		self->workers[i] = (struct worker){
			.nr = i, .k = self->k, .id = ID, .type = variant->type,
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
		  __u32 id, unsigned int type)
{
	struct katomic_op op = { .id = id, .type = type, .op = KATOMIC_OP_LOAD };

	EXPECT_EQ(0, katomic_op(k, &op));
	return op.result;
}

/* The counter under test ended at want; its neighbours are as they were. */
static void check_final(struct __test_metadata *_metadata, struct katomic *k,
			unsigned int type, __u64 want)
{
	EXPECT_EQ(want, load(_metadata, k, ID, type));
	EXPECT_EQ(NEIGHBOUR, load(_metadata, k, ID - 1, KATOMIC_TYPE_UINT32));
	EXPECT_EQ(NEIGHBOUR, load(_metadata, k, ID + 1, KATOMIC_TYPE_UINT32));
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
	check_final(_metadata, self->k, variant->type, TOTAL);
	check_each_once(_metadata, self->workers, 1);
}

TEST_F(twin_mt, cas_increment)
{
	long retries = 0;
	int i;

	run_workers(_metadata, self->workers, cas_worker);
	check_final(_metadata, self->k, variant->type, TOTAL);
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
	check_final(_metadata, self->k, variant->type, TOTAL - 1);
	for (i = 0; i < NR_THREADS; i++)
		applied += self->workers[i].applied;
	EXPECT_LE(1, applied);
	EXPECT_GE(TOTAL - 1, applied);
}

TEST_F(twin_mt, or_and_bits)
{
	run_workers(_metadata, self->workers, bits_worker);
	check_final(_metadata, self->k, variant->type, 0);
}

/*
 * PERCPU: threads add their own delta (thread t adds t + 1, negated for
 * INT64, so both directions are covered) while one more thread LOADs.
 * After the join LOAD is exact; a LOAD during the adds is a sum of shards
 * that only grow in one direction, so each reader's LOADs move
 * monotonically from the start toward the total and never past it.
 */
#define PCPU_READS	20000

struct pcpu_run {
	struct katomic *k;
	unsigned int type;
	unsigned int nr_threads;
	unsigned int iters;
	__u64 total;			/* the progress the adds make */
	bool same_shard;		/* all writers on one shard */
	pthread_barrier_t picked;	/* same_shard: a writer has its shard */
	pthread_barrier_t start;
	struct pcpu_worker {
		pthread_t thread;
		struct pcpu_run *run;
		unsigned int nr;
		long errors;		/* failed calls, non-zero results */
		int first_error;
		long bad_reads;		/* LOADs out of order or range */
		__u64 first_bad;
	} *workers;			/* nr_threads writers, then a reader */
};

/* What thread nr adds each time. */
static __u64 pcpu_delta(unsigned int type, unsigned int nr)
{
	return type == KATOMIC_TYPE_INT64 ? (__u64)-(int64_t)(nr + 1) : nr + 1;
}

/* How far v is from 0 in the run's direction. */
static __u64 pcpu_progress(unsigned int type, __u64 v)
{
	return type == KATOMIC_TYPE_INT64 ? -v : v;
}

static void pcpu_error(struct pcpu_worker *w, int err)
{
	if (!w->errors++)
		w->first_error = err;
}

static void pcpu_add(struct pcpu_worker *w, unsigned int nr)
{
	struct katomic_op op = {
		.type = w->run->type, .op = KATOMIC_OP_ADD,
		.arg = pcpu_delta(w->run->type, nr), .result = 1,
	};
	int ret = katomic_op(w->run->k, &op);

	if (ret || op.result || op.applied)
		pcpu_error(w, ret ? ret : 1);
}

static void *pcpu_writer(void *arg)
{
	struct pcpu_worker *w = arg;
	struct pcpu_run *r = w->run;
	unsigned int i = 0;

	if (r->same_shard) {
		pcpu_add(w, w->nr);	/* takes the thread's shard */
		pthread_barrier_wait(&r->picked);
		i++;
	}
	pthread_barrier_wait(&r->start);
	for (; i < r->iters; i++)
		pcpu_add(w, w->nr);
	return NULL;
}

/* One add, for a thread that only takes up a shard number. */
static void *pcpu_filler(void *arg)
{
	pcpu_add(arg, 0);
	return NULL;
}

static void *pcpu_reader(void *arg)
{
	struct pcpu_worker *w = arg;
	struct pcpu_run *r = w->run;
	__u64 last = 0, now;
	struct katomic_op op;
	unsigned int i;
	int ret;

	pthread_barrier_wait(&r->start);
	for (i = 0; i < PCPU_READS; i++) {
		op = (struct katomic_op){ .type = r->type, .op = KATOMIC_OP_LOAD };
		ret = katomic_op(r->k, &op);
		if (ret) {
			pcpu_error(w, ret);
			continue;
		}
		now = pcpu_progress(r->type, op.result);
		if ((now < last || now > r->total) && !w->bad_reads++)
			w->first_bad = op.result;
		last = now;
	}
	return NULL;
}

/*
 * Between two writers, KATOMIC_TWIN_SHARDS - 1 threads that add once and
 * end: as threads are numbered in order modulo the shards, the next
 * writer gets the same shard as the one before.
 */
static void pcpu_fill(struct __test_metadata *_metadata, struct pcpu_run *r,
		      struct pcpu_worker *filler)
{
	pthread_t t;
	int i;

	for (i = 0; i < KATOMIC_TWIN_SHARDS - 1; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, pcpu_filler, filler));
		ASSERT_EQ(0, pthread_join(t, NULL));
	}
	r->total += (KATOMIC_TWIN_SHARDS - 1) *
		    pcpu_progress(r->type, pcpu_delta(r->type, 0));
}

/*
 * nr_threads writers x iters adds and a reader on counter 0 of k; if
 * same_shard, the writers share one shard.
 */
static void pcpu_hammer(struct __test_metadata *_metadata, struct katomic *k,
			unsigned int type, unsigned int nr_threads,
			unsigned int iters, bool same_shard)
{
	struct pcpu_run r = {
		.k = k, .type = type, .nr_threads = nr_threads, .iters = iters,
		.same_shard = same_shard,
	};
	unsigned int i, n = nr_threads + 2;	/* writers, reader, filler */

	r.workers = calloc(n, sizeof(*r.workers));
	ASSERT_NE(NULL, r.workers);
	ASSERT_EQ(0, pthread_barrier_init(&r.start, NULL, nr_threads + 1));
	ASSERT_EQ(0, pthread_barrier_init(&r.picked, NULL, 2));
	for (i = 0; i < n; i++) {
		r.workers[i].run = &r;
		r.workers[i].nr = i;
	}
	for (i = 0; i < nr_threads; i++)
		r.total += iters * pcpu_progress(type, pcpu_delta(type, i));
	for (i = 0; i < nr_threads + 1; i++) {
		ASSERT_EQ(0, pthread_create(&r.workers[i].thread, NULL,
					    i < nr_threads ? pcpu_writer :
					    pcpu_reader, &r.workers[i]));
		if (same_shard && i < nr_threads) {
			pthread_barrier_wait(&r.picked);
			if (i + 1 < nr_threads)
				pcpu_fill(_metadata, &r, &r.workers[n - 1]);
		}
	}
	for (i = 0; i < nr_threads + 1; i++)
		ASSERT_EQ(0, pthread_join(r.workers[i].thread, NULL));
	for (i = 0; i < n; i++) {
		if (r.workers[i].errors || r.workers[i].bad_reads)
			TH_LOG("thread %u: %ld errors (the first %d), %ld bad reads (the first 0x%llx)",
			       i, r.workers[i].errors, r.workers[i].first_error,
			       r.workers[i].bad_reads, r.workers[i].first_bad);
		EXPECT_EQ(0, r.workers[i].errors);
		EXPECT_EQ(0, r.workers[i].bad_reads);
	}
	EXPECT_EQ(r.total, pcpu_progress(type, load(_metadata, k, 0, type)));
	pthread_barrier_destroy(&r.picked);
	pthread_barrier_destroy(&r.start);
	free(r.workers);
}

FIXTURE(twin_percpu) {
	struct katomic *k;
};

FIXTURE_VARIANT(twin_percpu) {
	unsigned int type;
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(twin_percpu, int64) {
	.type = KATOMIC_TYPE_INT64,
};
FIXTURE_VARIANT_ADD(twin_percpu, uint64) {
	.type = KATOMIC_TYPE_UINT64,
};
FIXTURE_VARIANT_ADD(twin_percpu, int64_packed) {
	.type = KATOMIC_TYPE_INT64, .flags = KATOMIC_TWIN_PACKED,
};
FIXTURE_VARIANT_ADD(twin_percpu, uint64_packed) {
	.type = KATOMIC_TYPE_UINT64, .flags = KATOMIC_TWIN_PACKED,
};

FIXTURE_SETUP(twin_percpu)
{
	ASSERT_EQ(0, katomic_twin_new2(1, variant->flags, &self->k));
	ASSERT_EQ(0, katomic_define(self->k, 0, variant->type,
				    KATOMIC_SYNC_PERCPU, 0));
}

FIXTURE_TEARDOWN(twin_percpu)
{
	katomic_close(self->k);
}

TEST_F(twin_percpu, add)
{
	pcpu_hammer(_metadata, self->k, variant->type, NR_THREADS, NR_ITERS,
		    false);
}

/* More threads than shards: some share one, and the sum stays exact. */
TEST_F(twin_percpu, more_threads_than_shards)
{
	pcpu_hammer(_metadata, self->k, variant->type,
		    2 * KATOMIC_TWIN_SHARDS + 3, 2000, false);
}

/* Every writer on one shard, all at once: its adds must be atomic. */
TEST_F(twin_percpu, one_shard)
{
	pcpu_hammer(_metadata, self->k, variant->type, NR_THREADS, NR_ITERS,
		    true);
}

/* A STORE after the adds starts over: the shards are emptied. */
TEST_F(twin_percpu, store_after_adds)
{
	struct katomic_op op = {
		.type = variant->type, .op = KATOMIC_OP_STORE, .arg = 42,
	};

	pcpu_hammer(_metadata, self->k, variant->type, NR_THREADS, 1000, false);
	ASSERT_EQ(0, katomic_op(self->k, &op));
	EXPECT_EQ(42, load(_metadata, self->k, 0, variant->type));
	op = (struct katomic_op){
		.type = variant->type, .op = KATOMIC_OP_ADD, .arg = 1,
	};
	ASSERT_EQ(0, katomic_op(self->k, &op));
	EXPECT_EQ(43, load(_metadata, self->k, 0, variant->type));
}

/*
 * NONE between ATOMIC neighbours, for every type and both layouts: two
 * threads add 1 to the NONE counter, two add 1 to its neighbours (in the
 * packed layout all three share a line).  The NONE counter starts near
 * its type's top, so it wraps.  Every value it returns or holds is one of
 * its type, and one its adds could have made: 1..NONE_TOTAL past the
 * start, as each add stores the value it loaded plus one.  The
 * neighbours end exact.
 */
#define NONE_ITERS	100000
#define NONE_THREADS	2		/* on the NONE counter; as many on neighbours */
#define NONE_TOTAL	(NONE_THREADS * NONE_ITERS)

struct none_worker {
	pthread_t thread;
	struct katomic *k;
	unsigned int type;
	__u64 start_value;		/* the NONE counter's init */
	bool on_neighbours;
	pthread_barrier_t *start;
	long errors;			/* failed calls, impossible values */
	int first_error;
	__u64 first_bad;
};

/* How far v is past start, modulo the type's width. */
static __u64 none_progress(unsigned int type, __u64 start, __u64 v)
{
	__u64 mask = katomic_value_max(KATOMIC_TYPE_UINT64, 64) >>
		     (64 - katomic_type_bits(type, sizeof(uintptr_t) * 8));

	return (v - start) & mask;
}

static void none_error(struct none_worker *w, int err, __u64 v)
{
	if (!w->errors++) {
		w->first_error = err;
		w->first_bad = v;
	}
}

static void *none_worker(void *arg)
{
	struct none_worker *w = arg;
	struct katomic_op op;
	__u64 p;
	int i, ret;

	pthread_barrier_wait(w->start);
	for (i = 0; i < NONE_ITERS; i++) {
		op = (struct katomic_op){
			.id = w->on_neighbours ? ID + (i & 1 ? 1 : -1) : ID,
			.type = w->on_neighbours ? KATOMIC_TYPE_UINT64 : w->type,
			.op = KATOMIC_OP_ADD, .arg = 1,
		};
		ret = katomic_op(w->k, &op);
		if (ret) {
			none_error(w, ret, 0);
			continue;
		}
		if (w->on_neighbours)
			continue;
		p = none_progress(w->type, w->start_value, op.result);
		if (!katomic_value_fits(w->type, sizeof(uintptr_t) * 8,
					op.result) || p < 1 || p > NONE_TOTAL)
			none_error(w, 1, op.result);
	}
	return NULL;
}

FIXTURE(twin_none) {
	struct katomic *k;
	__u64 start_value;
};

FIXTURE_VARIANT(twin_none) {
	unsigned int type;
	unsigned int flags;
	__u64 param;			/* NONE's delay in ns */
};

#define NONE_VARIANTS(NAME, nr, name, bits, is_signed)			\
	FIXTURE_VARIANT_ADD(twin_none, name) { .type = nr };		\
	FIXTURE_VARIANT_ADD(twin_none, name##_packed) {			\
		.type = nr, .flags = KATOMIC_TWIN_PACKED,		\
	};
KATOMIC_TYPE_TABLE(NONE_VARIANTS)
#undef NONE_VARIANTS
/* A window of 1 us between load and store, in both layouts. */
FIXTURE_VARIANT_ADD(twin_none, int32_delay) {
	.type = KATOMIC_TYPE_INT32, .param = 1000,
};
FIXTURE_VARIANT_ADD(twin_none, uint64_packed_delay) {
	.type = KATOMIC_TYPE_UINT64, .flags = KATOMIC_TWIN_PACKED,
	.param = 1000,
};

FIXTURE_SETUP(twin_none)
{
	struct katomic_define d = {
		.id = ID, .object = KATOMIC_OBJ_COUNTER, .type = variant->type,
		.sync = KATOMIC_SYNC_NONE, .param = variant->param,
	};

	/* NONE_TOTAL / 2 below the top: the adds wrap half way. */
	self->start_value = katomic_value_max(variant->type,
					      sizeof(uintptr_t) * 8) -
			    NONE_TOTAL / 2;
	d.init = self->start_value;
	ASSERT_EQ(0, katomic_twin_new2(NR_COUNTERS, variant->flags, &self->k));
	ASSERT_EQ(0, katomic_define(self->k, ID - 1, KATOMIC_TYPE_UINT64,
				    KATOMIC_SYNC_ATOMIC, 0));
	ASSERT_EQ(0, katomic_define_raw(self->k, &d));
	ASSERT_EQ(0, katomic_define(self->k, ID + 1, KATOMIC_TYPE_UINT64,
				    KATOMIC_SYNC_ATOMIC, 0));
}

FIXTURE_TEARDOWN(twin_none)
{
	katomic_close(self->k);
}

TEST_F(twin_none, neighbours_and_values)
{
	struct none_worker w[2 * NONE_THREADS];
	pthread_barrier_t start;
	__u64 v, p;
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2 * NONE_THREADS));
	for (i = 0; i < 2 * NONE_THREADS; i++) {
		w[i] = (struct none_worker){
			.k = self->k, .type = variant->type,
			.start_value = self->start_value,
			.on_neighbours = i >= NONE_THREADS, .start = &start,
		};
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, none_worker,
					    &w[i]));
	}
	for (i = 0; i < 2 * NONE_THREADS; i++)
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
	pthread_barrier_destroy(&start);
	for (i = 0; i < 2 * NONE_THREADS; i++) {
		if (w[i].errors)
			TH_LOG("thread %d: %ld errors, the first %d (value 0x%llx)",
			       i, w[i].errors, w[i].first_error, w[i].first_bad);
		EXPECT_EQ(0, w[i].errors);
	}
	/* The neighbours: NONE_THREADS * NONE_ITERS / 2 adds each. */
	EXPECT_EQ(NONE_TOTAL / 2, load(_metadata, self->k, ID - 1,
				       KATOMIC_TYPE_UINT64));
	EXPECT_EQ(NONE_TOTAL / 2, load(_metadata, self->k, ID + 1,
				       KATOMIC_TYPE_UINT64));
	v = load(_metadata, self->k, ID, variant->type);
	p = none_progress(variant->type, self->start_value, v);
	EXPECT_TRUE(katomic_value_fits(variant->type, sizeof(uintptr_t) * 8, v));
	EXPECT_LE(1, p);
	EXPECT_GE(NONE_TOTAL, p);
	TH_LOG("none %s, delay %llu ns: %llu of %d updates lost",
	       katomic_type_name(variant->type), variant->param,
	       NONE_TOTAL - p, NONE_TOTAL);
}

TEST_HARNESS_MAIN
