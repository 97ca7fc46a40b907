// SPDX-License-Identifier: GPL-2.0
/*
 * The twin's value slots under concurrency, after Go's value_test.go:
 *
 *   loads_are_stored_values  (TestValueConcurrent) 4 threads store values
 *                            of several sizes and load: every load is one
 *                            of the values stored (RCU, SEQLOCK; NONE's
 *                            mixes are counted and printed).
 *   swap_conservation        (TestValueSwapConcurrent) every value swapped
 *                            in comes back exactly once, from a SWAP or as
 *                            the final value: the sums agree (every kind:
 *                            writers are serialised even for NONE).
 *   cas_ticket_chain         (TestValueCompareAndSwapConcurrent) threads
 *                            take turns by CAS(j, j + 1) on their own
 *                            tickets: the chain ends at its target.
 *   torn_loads               2 writers store buffers whose every byte is
 *                            one per-store byte (8 bytes to value_max), 2
 *                            readers check 10^6 loads: RCU and SEQLOCK
 *                            tear none; NONE's torn loads are counted and
 *                            printed, not asserted.
 *
 * Workers record what they saw; the main thread asserts.  Values are
 * numbers encoded at lengths that vary with the number, so that a wrong
 * length is caught as surely as wrong bytes.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "katomic.h"
#include "kselftest_harness.h"

#define THREADS		4
#define VALUE_MAX	512
#define ID		1
#define TAG		0x5107

/* A number as a value: 8 bytes of n, then n % 41 bytes of n * 13. */
#define ENC_MAX		(8 + 40)

static size_t encode(unsigned char *b, uint64_t n)
{
	size_t len = 8 + n % 41;

	memcpy(b, &n, 8);
	memset(b + 8, (unsigned char)(n * 13), len - 8);
	return len;
}

/* The number b encodes, or -1 if b[0..len) is no encoding of one. */
static int64_t decode(const unsigned char *b, size_t len)
{
	unsigned char check[ENC_MAX];
	uint64_t n;

	if (len < 8 || len > ENC_MAX)
		return -1;
	memcpy(&n, b, 8);
	if (n > INT64_MAX || encode(check, n) != len || memcmp(check, b, len))
		return -1;
	return n;
}

static struct katomic *new_slot(struct __test_metadata *_metadata,
				unsigned int sync)
{
	struct katomic_twin_params p = { 0, ID + 2, VALUE_MAX, 0 };
	struct katomic *k = NULL;

	EXPECT_EQ(0, katomic_twin_create(&p, &k));
	if (k)
		EXPECT_EQ(0, katomic_value_define(k, ID, sync));
	return k;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Runs fn on THREADS (or n) threads that start together. */
struct crew {
	pthread_barrier_t start;
	struct katomic *k;
	unsigned int sync;
};

struct worker {
	struct crew *crew;
	unsigned int i;
	long errors;		/* op failures and impossible values */
	int first_error;	/* the first failing op's return, or 0 */
	char what[96];		/* the first impossible thing seen */
	uint64_t sum, count, torn, loads, empty;
};

static void worker_error(struct worker *w, int ret, const char *what,
			 uint64_t v)
{
	if (!w->errors++) {
		w->first_error = ret;
		snprintf(w->what, sizeof(w->what), "%s %llu", what,
			 (unsigned long long)v);
	}
}

static void run_crew(struct __test_metadata *_metadata, struct crew *c,
		     struct worker *w, unsigned int n, void *(*fn)(void *))
{
	pthread_t t[8];
	unsigned int i;

	ASSERT_GE(8, n);
	ASSERT_EQ(0, pthread_barrier_init(&c->start, NULL, n));
	for (i = 0; i < n; i++) {
		w[i] = (struct worker){ .crew = c, .i = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fn, &w[i]));
	}
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	pthread_barrier_destroy(&c->start);
	for (i = 0; i < n; i++)
		if (w[i].errors)
			TH_LOG("thread %u: %ld errors; the first: returned %d, %s",
			       i, w[i].errors, w[i].first_error, w[i].what);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, w[i].errors);
}

FIXTURE(mt) {
	struct katomic *k;
	struct crew crew;
};

FIXTURE_VARIANT(mt) {
	unsigned int sync;
};

FIXTURE_VARIANT_ADD(mt, none) { .sync = KATOMIC_SYNC_NONE };
FIXTURE_VARIANT_ADD(mt, rcu) { .sync = KATOMIC_SYNC_RCU };
FIXTURE_VARIANT_ADD(mt, seqlock) { .sync = KATOMIC_SYNC_SEQLOCK };

FIXTURE_SETUP(mt)
{
	self->k = new_slot(_metadata, variant->sync);
	ASSERT_NE(NULL, self->k);
	self->crew = (struct crew){ .k = self->k, .sync = variant->sync };
}

FIXTURE_TEARDOWN(mt)
{
	katomic_close(self->k);
}

/* loads_are_stored_values ------------------------------------------------ */

#define CONC_ITERS	50000
static const __u32 conc_sizes[] = { 1, 7, 8, 9, 64, 100, 257, VALUE_MAX };
#define NR_CONC		(sizeof(conc_sizes) / sizeof(conc_sizes[0]))
static unsigned char conc_values[NR_CONC][VALUE_MAX];

static void conc_setup(void)
{
	size_t i, j;

	for (i = 0; i < NR_CONC; i++)
		for (j = 0; j < VALUE_MAX; j++)
			conc_values[i][j] = (unsigned char)(i * 37 + j * 11 + 1);
}

/* The index of the stored value (tag, b[0..len)) is, or -1. */
static int conc_find(__u32 tag, const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < NR_CONC; i++)
		if (tag == TAG && len == conc_sizes[i] &&
		    !memcmp(b, conc_values[i], len))
			return i;
	return -1;
}

static void *conc_worker(void *arg)
{
	struct worker *w = arg;
	struct katomic *k = w->crew->k;
	unsigned char out[VALUE_MAX];
	unsigned int seed = w->i * 7919 + 1, i, v;
	size_t len;
	__u32 tag;
	int ret;

	pthread_barrier_wait(&w->crew->start);
	for (i = 0; i < CONC_ITERS; i++) {
		v = rand_r(&seed) % NR_CONC;
		ret = katomic_value_store(k, ID, TAG, conc_values[v],
					  conc_sizes[v], NULL);
		if (ret)
			worker_error(w, ret, "store of value", v);
		len = sizeof(out);
		ret = katomic_value_load(k, ID, out, &len, &tag, NULL);
		if (ret)
			worker_error(w, ret, "load after", i);
		else if (tag != TAG || !len || len > VALUE_MAX)
			worker_error(w, 0, "a load of length", len);
		else if (conc_find(tag, out, len) >= 0)
			;
		else if (w->crew->sync == KATOMIC_SYNC_NONE)
			w->torn++;
		else
			worker_error(w, 0, "a value never stored, length", len);
		w->loads++;
	}
	return NULL;
}

/*
 * Go's TestValueConcurrent: a load that races stores of several sizes
 * returns one of the values stored, never a mix.  NONE exists to tear:
 * its loads need only be of the tag and a length the slot holds, and
 * the mixes are printed.
 */
TEST_F(mt, loads_are_stored_values)
{
	struct worker w[THREADS];
	uint64_t mixed = 0;
	int i;

	conc_setup();
	run_crew(_metadata, &self->crew, w, THREADS, conc_worker);
	for (i = 0; i < THREADS; i++)
		mixed += w[i].torn;
	if (variant->sync == KATOMIC_SYNC_NONE)
		TH_LOG("none: %d loads, %llu of a value never stored",
		       THREADS * CONC_ITERS, (unsigned long long)mixed);
	EXPECT_TRUE(variant->sync == KATOMIC_SYNC_NONE || !mixed);
}

/* swap_conservation -------------------------------------------------------- */

#define SWAPS		50000	/* per thread */

/* Each n in 1..THREADS * SWAPS: how many times it came back. */
static _Atomic unsigned char swap_seen[THREADS * SWAPS + 1];

static void *swap_worker(void *arg)
{
	struct worker *w = arg;
	struct katomic *k = w->crew->k;
	unsigned char in[ENC_MAX], out[ENC_MAX];
	uint64_t n = (uint64_t)w->i * SWAPS + 1, end = n + SWAPS;
	int64_t old;
	size_t len;
	__u32 tag;
	int ret;

	pthread_barrier_wait(&w->crew->start);
	for (; n < end; n++) {
		len = sizeof(out);
		ret = katomic_value_swap(k, ID, TAG, in, encode(in, n), out,
					 &len, &tag, NULL);
		if (ret) {
			worker_error(w, ret, "swap in of", n);
			continue;
		}
		if (!tag && !len)
			continue;	/* the first swap: nil */
		old = decode(out, len);
		if (tag != TAG || old < 1 || old > THREADS * SWAPS) {
			worker_error(w, 0, "swapped out a value never stored, length",
				     len);
			continue;
		}
		w->sum += old;
		w->count++;
		atomic_fetch_add_explicit(&swap_seen[old], 1,
					  memory_order_relaxed);
	}
	return NULL;
}

/*
 * Go's TestValueSwapConcurrent: the values swapped out plus the final one
 * are exactly the values swapped in, each once.
 */
TEST_F(mt, swap_conservation)
{
	const uint64_t total = THREADS * SWAPS;
	unsigned char out[ENC_MAX];
	struct worker w[THREADS];
	uint64_t sum = 0, count = 0, n, once = 0;
	int64_t last;
	size_t len = sizeof(out);
	__u64 version;
	__u32 tag;
	int i;

	for (n = 0; n <= total; n++)
		atomic_init(&swap_seen[n], 0);
	run_crew(_metadata, &self->crew, w, THREADS, swap_worker);
	for (i = 0; i < THREADS; i++) {
		sum += w[i].sum;
		count += w[i].count;
	}
	ASSERT_EQ(0, katomic_value_load(self->k, ID, out, &len, &tag,
					&version));
	last = decode(out, len);
	ASSERT_LT(0, last);
	EXPECT_EQ(TAG, tag);
	EXPECT_EQ(total, version);
	EXPECT_EQ(total - 1, count);
	EXPECT_EQ(total * (total + 1) / 2, sum + last);
	atomic_fetch_add(&swap_seen[last], 1);
	for (n = 1; n <= total; n++)
		once += atomic_load(&swap_seen[n]) == 1;
	EXPECT_EQ(total, once);
}

/* cas_ticket_chain --------------------------------------------------------- */

#define TICKETS		20000

/* Thread i moves the chain from j to j + 1 for every j = i mod THREADS. */
static void *cas_worker(void *arg)
{
	struct worker *w = arg;
	struct katomic *k = w->crew->k;
	unsigned char old[ENC_MAX], new[ENC_MAX];
	uint64_t j = w->i;
	size_t old_len, new_len;
	int ret;

	pthread_barrier_wait(&w->crew->start);
	while (j < TICKETS) {
		old_len = encode(old, j);
		new_len = encode(new, j + 1);
		ret = katomic_value_cas(k, ID, TAG, old, old_len, TAG, new,
					new_len, NULL);
		if (ret < 0) {
			worker_error(w, ret, "cas from", j);
			break;
		}
		if (ret) {
			w->count++;
			j += THREADS;
		} else {
			w->loads++;	/* failed tries */
			sched_yield();
		}
	}
	return NULL;
}

/*
 * Go's TestValueCompareAndSwapConcurrent: ticket j + 1 can only follow
 * ticket j, and only its own thread moves it, so the chain ends at
 * TICKETS after exactly TICKETS swaps, whichever thread runs when.
 */
TEST_F(mt, cas_ticket_chain)
{
	unsigned char b[ENC_MAX];
	struct worker w[THREADS];
	uint64_t swaps = 0, tries = 0;
	size_t len;
	__u64 version;
	int i;

	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, b, encode(b, 0),
					 NULL));
	run_crew(_metadata, &self->crew, w, THREADS, cas_worker);
	for (i = 0; i < THREADS; i++) {
		swaps += w[i].count;
		tries += w[i].loads;
		EXPECT_EQ(TICKETS / THREADS, w[i].count);
	}
	EXPECT_EQ(TICKETS, swaps);
	len = sizeof(b);
	ASSERT_EQ(0, katomic_value_load(self->k, ID, b, &len, NULL, &version));
	EXPECT_EQ(TICKETS, decode(b, len));
	EXPECT_EQ(TICKETS + 1, version);
	TH_LOG("%s: %d tickets, %llu failed CAS tries",
	       katomic_sync_name(variant->sync), TICKETS,
	       (unsigned long long)tries);
}

/* torn_loads --------------------------------------------------------------- */

#define WRITERS		2
#define READERS		2
#define READER_LOADS	500000	/* 10^6 loads in all */

/* A store of byte b is b repeated tear_len(b) times. */
static const __u32 tear_sizes[] = { 8, 16, 40, 64, 100, 200, 333, VALUE_MAX };
#define NR_TEAR		(sizeof(tear_sizes) / sizeof(tear_sizes[0]))

static __u32 tear_len(unsigned char b)
{
	return tear_sizes[b % NR_TEAR];
}

static atomic_int readers_left;

static void *tear_writer(void *arg)
{
	struct worker *w = arg;
	struct katomic *k = w->crew->k;
	unsigned char buf[VALUE_MAX];
	unsigned int b = w->i;
	int ret;

	pthread_barrier_wait(&w->crew->start);
	while (atomic_load_explicit(&readers_left, memory_order_relaxed)) {
		b = b % 255 + 1;	/* never 0 */
		memset(buf, b, tear_len(b));
		ret = katomic_value_store(k, ID, TAG, buf, tear_len(b), NULL);
		if (ret)
			worker_error(w, ret, "store of byte", b);
		w->count++;
	}
	return NULL;
}

static void *tear_reader(void *arg)
{
	struct worker *w = arg;
	struct katomic *k = w->crew->k;
	unsigned char out[VALUE_MAX];
	__u64 version, last = 0;
	size_t len, i;
	__u32 tag;
	int ret;

	pthread_barrier_wait(&w->crew->start);
	for (w->loads = 0; w->loads < READER_LOADS; w->loads++) {
		len = sizeof(out);
		ret = katomic_value_load(k, ID, out, &len, &tag, &version);
		if (ret) {
			worker_error(w, ret, "load", w->loads);
			break;
		}
		if (version < last)
			worker_error(w, 0, "version went back to", version);
		last = version;
		if (tag != TAG || !len || len > VALUE_MAX) {
			worker_error(w, 0, "load of length", len);
			continue;
		}
		for (i = 1; i < len && out[i] == out[0]; i++)
			;
		if (i < len || len != tear_len(out[0]))
			w->torn++;
	}
	atomic_fetch_sub(&readers_left, 1);
	return NULL;
}

static void *tear_worker(void *arg)
{
	struct worker *w = arg;

	return w->i < WRITERS ? tear_writer(w) : tear_reader(w);
}

/*
 * 10^6 loads against concurrent stores of every size: RCU and SEQLOCK
 * never return a torn value; NONE may (how often depends on the machine
 * and the scheduler, so it is printed, not asserted).  For every kind a
 * load is of the slot's tag and a length it can hold, and the version
 * never goes back.
 */
TEST_F(mt, torn_loads)
{
	struct worker w[WRITERS + READERS];
	uint64_t loads = 0, torn = 0, stores = 0;
	unsigned char b[VALUE_MAX];
	double t;
	int i;

	memset(b, 1, sizeof(b));
	ASSERT_EQ(0, katomic_value_store(self->k, ID, TAG, b, tear_len(1),
					 NULL));
	atomic_store(&readers_left, READERS);
	t = now();
	run_crew(_metadata, &self->crew, w, WRITERS + READERS, tear_worker);
	t = now() - t;
	for (i = 0; i < WRITERS + READERS; i++) {
		loads += w[i].loads;
		torn += w[i].torn;
		stores += w[i].count;
	}
	EXPECT_EQ(READERS * READER_LOADS, loads);
	TH_LOG("%s: %llu loads, %llu torn, %llu stores in %.2f s (%.0f loads/s)",
	       katomic_sync_name(variant->sync), (unsigned long long)loads,
	       (unsigned long long)torn, (unsigned long long)stores, t,
	       loads / t);
	if (variant->sync != KATOMIC_SYNC_NONE)
		EXPECT_EQ(0, torn);
}

TEST_HARNESS_MAIN
