// SPDX-License-Identifier: GPL-2.0
/*
 * katomic concurrency: the invariants of Go's own sync/atomic tests, on
 * one counter of each type hammered by several threads through
 * /dev/katomic:
 *
 *  - add:       T threads x N ADDs of 1 end at start + T*N (wrapping),
 *               and every ADD returns a distinct new value;
 *  - cas_inc:   T threads x N CAS-loop increments end at start + T*N;
 *  - swap:      SWAPs of values whose halves are equal never return a torn
 *               value, and every value swapped in comes out exactly once
 *               (sum of returned + final == sum swapped in + initial);
 *  - define_undefine: DEFINE/UNDEFINE racing with ops and QUERYs on the
 *               same ids only ever yields 0, -ENOENT, -EINVAL or -EEXIST,
 *               the op threads meet both defined and undefined counters,
 *               and the module keeps working;
 *  - stale_op:  UNDEFINE waits for in-flight ops: an INT64 ADD that saw
 *               the old definition, of any counter kind, never lands on
 *               the counter defined again as INT32 (probabilistic, and
 *               blind for PERCPU: see the test).
 *
 * Threads start together on a barrier and record what they see in their
 * own struct; only the main thread asserts (the harness is not
 * thread-safe).  KATOMIC_THREADS (default 4) and KATOMIC_ITERS (default
 * 100000) set T and N; KATOMIC_RACE_ITERS (default 400) the DEFINE/UNDEFINE
 * calls of each of define_undefine's two definers; KATOMIC_STALE_SECS
 * (default 2) how long stale_op redefines its counter, for each kind
 * (a checker and 8 op threads a CPU, whatever KATOMIC_THREADS says).
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "kselftest_harness.h"
#include "katomic_test.h"

struct worker {
	pthread_t th;
	unsigned int idx;
	int fd;
	pthread_barrier_t *bar;
	const struct kt_type *t;
	__u32 id;
	unsigned long iters;
	struct kt_adds *add;		/* add: the results to return */

	/* what the worker saw; read by the main thread after join */
	struct kt_record rec;		/* errors and wrong results */
	unsigned long retries;		/* cas_inc: failed CASes */
	__u64 sum_in, sum_out;		/* swap */
	unsigned long counts[5];	/* races: 0, ENOENT, EINVAL, EEXIST, other */
	unsigned long qcounts[5];	/* define_undefine: the same of QUERYs */
	unsigned int *stop;		/* races: definers (checker) done */
	unsigned long done;		/* races: calls (cycles) made */
	unsigned long *adds;		/* stale_op: successful ADDs, all threads;
					 * define_undefine: the op threads' calls */
	unsigned long *mismatches;	/* stale_op: their -EINVALs */
	__u8 sync;			/* stale_op: the INT64 definition's kind */
	__u32 param;			/* stale_op: and its param */
	int cpu;			/* stale_op: pin here first, if >= 0 */
	double secs;			/* stale_op: the checker's time */
	double hold32, hold64;		/* stale_op: the checker's least time
					 * on each INT32, INT64 definition */
	unsigned long min_cycles;	/* stale_op: cycles at least */
	unsigned long loads;		/* stale_op: INT32 LOADs made */
	unsigned long stale;		/* stale_op: INT32 LOADs that were not 0 */
	__u64 stale_first;		/* stale_op: the first such value */
	unsigned long stale_cycle;	/* stale_op: its cycle */
};

/* The threads of one test. */
struct crew {
	unsigned int nthreads;
	unsigned long iters;
	struct worker w[KT_MAX_THREADS];
	pthread_barrier_t bar;
};

static void crew_init(struct crew *c)
{
	c->nthreads = kt_env_ulong("KATOMIC_THREADS", 4, 2, KT_MAX_THREADS);
	c->iters = kt_env_ulong("KATOMIC_ITERS", 100000, 1, 100000000);
}

/*
 * Start the crew's workers on fn, all on one barrier, and wait for them.
 * The caller has filled in each worker's parameters but idx and bar.
 */
static void crew_run(struct __test_metadata *_metadata, struct crew *c,
		     const char *what, void *(*fn)(void *))
{
	unsigned int i;
	double t0;

	ASSERT_EQ(0, pthread_barrier_init(&c->bar, NULL, c->nthreads));
	for (i = 0; i < c->nthreads; i++) {
		c->w[i].idx = i;
		c->w[i].bar = &c->bar;
	}
	t0 = kt_now();
	for (i = 0; i < c->nthreads; i++)
		ASSERT_EQ(0, pthread_create(&c->w[i].th, NULL, fn, &c->w[i]));
	for (i = 0; i < c->nthreads; i++)
		ASSERT_EQ(0, pthread_join(c->w[i].th, NULL));
	pthread_barrier_destroy(&c->bar);
	if (c->w[0].iters)
		TH_LOG("%s: %u threads x %lu in %.2f s", what, c->nthreads,
		       c->w[0].iters, kt_now() - t0);
	else
		TH_LOG("%s: %u threads in %.2f s", what, c->nthreads,
		       kt_now() - t0);
}

/* The main thread's verdict on what the workers recorded. */
static void crew_check(struct __test_metadata *_metadata, struct crew *c)
{
	unsigned int i;

	for (i = 0; i < c->nthreads; i++)
		kt_record_check(_metadata, i, &c->w[i].rec);
}

FIXTURE(conc) {
	int fd;
	struct katomic_info info;
	struct kt_type t;
	__u32 id;
	struct crew c;
};

#define KT_TYPE_FIXTURE conc
KT_TYPE_VARIANTS

FIXTURE_SETUP(conc)
{
	kt_setup_type(_metadata, &self->fd, &self->info, &self->t,
		      &variant->t);
	/* ids of this program: 64..127 */
	self->id = 64 + variant->t.type;
	ASSERT_LT(self->id, self->info.nr_counters);
	kt_undefine(self->fd, self->id);
	crew_init(&self->c);
}

FIXTURE_TEARDOWN(conc)
{
	kt_undefine(self->fd, self->id);
	close(self->fd);
}

/* Point every worker at the fixture's counter. */
static void conc_workers(FIXTURE_DATA(conc) *self)
{
	unsigned int i;

	for (i = 0; i < self->c.nthreads; i++) {
		struct worker *w = &self->c.w[i];

		w->fd = self->fd;
		w->t = &self->t;
		w->id = self->id;
		w->iters = self->c.iters;
	}
}

/* ---- add ---------------------------------------------------------------- */

static void *add_worker(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->bar);
	kt_adds_run(w->add, w->fd, w->id, w->iters, &w->rec);
	return NULL;
}

/* T threads x N ADDs of 1: see struct kt_adds. */
TEST_F_TIMEOUT(conc, add, 120)
{
	const struct kt_type *t = &self->t;
	struct kt_adds a;
	unsigned int i;

	ASSERT_EQ(0, kt_adds_init(&a, t, self->c.nthreads * self->c.iters));
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type,
			       KATOMIC_SYNC_DEFAULT, a.start));
	conc_workers(self);
	for (i = 0; i < self->c.nthreads; i++)
		self->c.w[i].add = &a;
	crew_run(_metadata, &self->c, t->name, add_worker);
	crew_check(_metadata, &self->c);
	kt_adds_check(_metadata, &a, self->fd, self->id, "ADD");
}

/* ---- cas_inc -------------------------------------------------------------- */

static void *cas_worker(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->bar);
	kt_cas_inc_run(w->fd, w->id, w->t, w->iters, &w->rec, &w->retries);
	return NULL;
}

TEST_F_TIMEOUT(conc, cas_inc, 120)
{
	const struct kt_type *t = &self->t;
	unsigned long span = self->c.nthreads * self->c.iters, retries = 0, i;
	__u64 start = kt_cas_inc_start(t, span);

	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type,
			       KATOMIC_SYNC_ATOMIC, start));
	conc_workers(self);
	crew_run(_metadata, &self->c, t->name, cas_worker);
	crew_check(_metadata, &self->c);
	for (i = 0; i < self->c.nthreads; i++)
		retries += self->c.w[i].retries;
	TH_LOG("%s: %lu CAS retries", t->name, retries);

	kt_expect_counted(_metadata, self->fd, self->id, t, start, span,
			  "CAS");
}

/*
 * ---- swap ------------------------------------------------------------------
 *
 * Two checks: no SWAP returns a torn value (halves that differ), and the
 * sum of what was swapped in equals the sum of what came out plus the
 * final value.  On x86_64 only the second can fail: see the test.
 */

/* A value of t whose two halves are equal, different for each (i, k). */
static __u64 halves(const struct kt_type *t, unsigned int i, unsigned long k)
{
	unsigned int half = t->bits / 2;
	__u64 h = (i + 1) * 0x9e3779b97f4a7c15ULL ^ (k + 1) * 0xc2b2ae3d27d4eb4fULL;

	h &= (1ULL << half) - 1;
	return kt_canon(t, h << half | h);
}

static bool torn(const struct kt_type *t, __u64 v)
{
	unsigned int half = t->bits / 2;
	__u64 m = (1ULL << half) - 1;

	return v != kt_canon(t, v) || (v & m) != ((v >> half) & m);
}

static void *swap_worker(void *arg)
{
	struct worker *w = arg;
	const struct kt_type *t = w->t;
	unsigned long k;
	__u64 in, out;

	pthread_barrier_wait(w->bar);
	for (k = 0; k < w->iters; k++) {
		int e;

		in = halves(t, w->idx, k);
		e = kt_do(w->fd, w->id, t->type, KATOMIC_OP_SWAP, in, 0, &out,
			  NULL);
		if (e) {
			kt_record_error(&w->rec, "SWAP", e);
			continue;
		}
		w->sum_in += in;
		w->sum_out += out;
		if (torn(t, out))
			kt_record_bad(&w->rec, "SWAP returned torn %#llx", out);
	}
	return NULL;
}

TEST_F_TIMEOUT(conc, swap, 120)
{
	const struct kt_type *t = &self->t;
	__u64 start = halves(t, 1000, 0), v, in = start, out = 0;
	unsigned int i;

	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type,
			       KATOMIC_SYNC_DEFAULT, start));
	conc_workers(self);
	crew_run(_metadata, &self->c, t->name, swap_worker);
	crew_check(_metadata, &self->c);

	ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
	EXPECT_FALSE(torn(t, v)) TH_LOG("final value %#llx", (unsigned long long)v);
	for (i = 0; i < self->c.nthreads; i++) {
		in += self->c.w[i].sum_in;
		out += self->c.w[i].sum_out;
	}
	/*
	 * What went in came out exactly once (sums mod 2^64).  This is the
	 * check that catches a non-atomic SWAP (a load and a store that let
	 * two threads return the same old value and lose another).  The
	 * "torn" check above cannot fail on x86_64, where the kernel's xchg
	 * is one instruction that cannot tear; it stays for other targets.
	 */
	EXPECT_EQ(in, out + v);
}

/* ---- define_race ------------------------------------------------------- */

#define RACE_IDS	8

enum { RC_OK, RC_ENOENT, RC_EINVAL, RC_EEXIST, RC_OTHER };

static void race_count(struct worker *w, unsigned long *counts, const char *op,
		       int r, bool eexist_ok)
{
	switch (r) {
	case 0:
		counts[RC_OK]++;
		return;
	case -ENOENT:
		counts[RC_ENOENT]++;
		return;
	case -EINVAL:
		counts[RC_EINVAL]++;
		return;
	case -EEXIST:
		if (eexist_ok) {
			counts[RC_EEXIST]++;
			return;
		}
		break;
	}
	counts[RC_OTHER]++;
	kt_record_error(&w->rec, op, r);
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 16;
}

/*
 * Calls the op threads make, together, before the definers may stop, and
 * how long the definers wait for them (within the test's 120 s).  Every
 * 8th call is a QUERY, which takes the context's mutex that each UNDEFINE
 * holds across an RCU grace period (about 16 ms under TCG).  On 6.12-rt,
 * whose mutexes go to their first waiter (here the other definer) rather
 * than to a running thread, the op threads made about 1,900 calls a
 * second (6.12: 60,000): 100,000 took 53 to 60 s, and a 60 s limit failed
 * one run in two.
 */
#define RACE_MIN_CALLS	100000
#define RACE_MAX_SECS	100

/* Shall a definer that made its iters calls go on? */
static bool race_more(struct worker *w, double end)
{
	return __atomic_load_n(w->adds, __ATOMIC_RELAXED) < RACE_MIN_CALLS &&
	       kt_now() < end;
}

/*
 * Threads 0 and 1 define and undefine, iters times each and on until the
 * op threads have made RACE_MIN_CALLS calls (within RACE_MAX_SECS): a
 * module whose UNDEFINE is quick could otherwise be done before the op
 * threads start.  The others run ops and QUERYs until both are done,
 * counting their calls in *adds.
 */
static void *race_worker(void *arg)
{
	struct worker *w = arg;
	unsigned int seed = w->idx * 7919 + 1;
	bool definer = w->idx < 2;
	double end = kt_now() + RACE_MAX_SECS;
	unsigned long k;

	pthread_barrier_wait(w->bar);
	for (k = 0; definer ? k < w->iters || race_more(w, end)
			    : __atomic_load_n(w->stop, __ATOMIC_RELAXED) < 2;
	     k++) {
		__u32 id = w->id + rnd(&seed) % RACE_IDS;
		const struct kt_type *t = &kt_types[rnd(&seed) % KT_NR_TYPES];

		if (definer) {
			__u8 sync = rnd(&seed) & 1 ? KATOMIC_SYNC_ATOMIC
						   : KATOMIC_SYNC_DEFAULT;

			if (rnd(&seed) & 1)
				race_count(w, w->counts, "DEFINE",
					   kt_define(w->fd, id, t->type, sync,
						     rnd(&seed) & 0xff), true);
			else
				race_count(w, w->counts, "UNDEFINE",
					   kt_undefine(w->fd, id), false);
		} else if (rnd(&seed) % 8 == 0) {
			struct katomic_define q;

			race_count(w, w->qcounts, "QUERY",
				   kt_query(w->fd, id, &q), false);
		} else {
			const struct kt_opdesc *d =
				&kt_ops[rnd(&seed) % KT_NR_OPS];

			/* small operands: valid in every type */
			race_count(w, w->counts, d->name,
				   kt_do(w->fd, id, t->type, d->op,
					 d->operands >= 1 ? 1 : 0,
					 d->operands >= 2 ? 2 : 0, NULL, NULL),
				   false);
		}
		if (!definer && k % 64 == 63)
			__atomic_fetch_add(w->adds, 64, __ATOMIC_RELAXED);
	}
	w->done = k;
	if (definer)
		__atomic_fetch_add(w->stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

FIXTURE(race) {
	int fd;
	__u32 id;	/* the first of RACE_IDS ids */
	struct crew c;
};

FIXTURE_SETUP(race)
{
	struct katomic_info info;
	unsigned int j;

	kt_setup_dev(_metadata, &self->fd, &info);
	self->id = 96;
	ASSERT_LE(self->id + RACE_IDS, info.nr_counters);
	for (j = 0; j < RACE_IDS; j++)
		kt_undefine(self->fd, self->id + j);
	crew_init(&self->c);
	/* two definers and at least one op thread */
	if (self->c.nthreads < 3)
		self->c.nthreads = 3;
}

FIXTURE_TEARDOWN(race)
{
	unsigned int j;

	for (j = 0; j < RACE_IDS; j++)
		kt_undefine(self->fd, self->id + j);
	close(self->fd);
}

TEST_F_TIMEOUT(race, define_undefine, 120)
{
	unsigned long iters = kt_env_ulong("KATOMIC_RACE_ITERS", 400, 1,
					100000000);
	/* the op threads' ops, their QUERYs, and the definers' calls */
	unsigned long tot[5] = { 0 }, qtot[5] = { 0 }, dtot[5] = { 0 };
	unsigned long defs = 0, ops = 0, queries = 0, calls = 0;
	struct katomic_info info;
	unsigned int i, j, stop = 0;
	__u64 v = 0;

	for (i = 0; i < self->c.nthreads; i++) {
		struct worker *w = &self->c.w[i];

		/* each thread on a descriptor of its own */
		w->fd = kt_open();
		ASSERT_LE(0, w->fd);
		w->id = self->id;
		w->iters = iters;
		w->stop = &stop;
		w->adds = &calls;
	}
	crew_run(_metadata, &self->c, "define/undefine vs ops", race_worker);
	crew_check(_metadata, &self->c);
	for (i = 0; i < self->c.nthreads; i++) {
		struct worker *w = &self->c.w[i];

		close(w->fd);
		/* the definers' own results apart: they say nothing of ops */
		for (j = 0; j < 5; j++) {
			if (i < 2) {
				dtot[j] += w->counts[j];
				defs += w->counts[j];
			} else {
				tot[j] += w->counts[j];
				qtot[j] += w->qcounts[j];
				ops += w->counts[j];
				queries += w->qcounts[j];
			}
		}
	}
	TH_LOG("definers: %lu DEFINE/UNDEFINE: %lu ok, %lu ENOENT, %lu EEXIST, %lu other",
	       defs, dtot[RC_OK], dtot[RC_ENOENT], dtot[RC_EEXIST],
	       dtot[RC_OTHER]);
	TH_LOG("op threads: %lu ops: %lu ok, %lu ENOENT, %lu EINVAL, %lu other",
	       ops, tot[RC_OK], tot[RC_ENOENT], tot[RC_EINVAL], tot[RC_OTHER]);
	TH_LOG("op threads: %lu QUERYs: %lu ok, %lu ENOENT, %lu other",
	       queries, qtot[RC_OK], qtot[RC_ENOENT],
	       qtot[RC_EINVAL] + qtot[RC_OTHER]);
	EXPECT_EQ(0, tot[RC_OTHER] + qtot[RC_OTHER] + dtot[RC_OTHER]);
	EXPECT_EQ(0, qtot[RC_EINVAL]) TH_LOG("QUERY of an id in range");
	EXPECT_LE(iters * 2, defs);
	EXPECT_LE(RACE_MIN_CALLS, ops + queries);
	/*
	 * The race happened: the op threads ran ops and QUERYs, and both met
	 * defined counters (success) and undefined ones (-ENOENT).
	 */
	EXPECT_LT(0, ops);
	EXPECT_LT(0, tot[RC_OK]);
	EXPECT_LT(0, tot[RC_ENOENT]);
	EXPECT_LT(0, queries);
	EXPECT_LT(0, qtot[RC_OK]);
	EXPECT_LT(0, qtot[RC_ENOENT]);

	/* the module still works, on those ids too */
	ASSERT_EQ(0, kt_info(self->fd, &info));
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_NOP, NULL));
	for (j = 0; j < RACE_IDS; j++) {
		__u32 id = self->id + j;

		kt_undefine(self->fd, id);
		ASSERT_EQ(0, kt_define(self->fd, id, KATOMIC_TYPE_UINT64,
				       KATOMIC_SYNC_DEFAULT, j));
		EXPECT_EQ(0, kt_do(self->fd, id, KATOMIC_TYPE_UINT64,
				   KATOMIC_OP_ADD, 10, 0, &v, NULL));
		EXPECT_EQ(j + 10, v);
		EXPECT_EQ(0, kt_undefine(self->fd, id));
	}
}

/* ---- stale_op ------------------------------------------------------------ */

/*
 * "UNDEFINE waits for in-flight ops: an op that saw the old definition
 * never runs on a counter defined again with another type", for the INT64
 * definition of each counter kind.
 *
 * Op threads hammer one id with INT64 ADDs of 0x100000001 (1 in each
 * half) and get 0, -ENOENT (undefined) or -EINVAL (defined as INT32).
 * The checker cycles the id: UNDEFINE, DEFINE as INT32 ATOMIC with init 0,
 * LOAD it as INT32 (8 times, a yield apart, and on until a LOAD after an
 * op thread has met the INT32), UNDEFINE, DEFINE as INT64 of the
 * variant's kind with init 0, then waits for an ADD to succeed on it.
 * Nobody runs an INT32 op but those LOADs, and the INT32 ATOMIC
 * definition sets only the low word of the counter's value, so an INT32
 * LOAD that is not 0 is an INT64 ADD that saw the INT64 definition and
 * wrote the value after the INT32 DEFINE: its low word shows.  What such
 * a stale ADD would do, by kind:
 *
 *  - ATOMIC: atomic64_add_return() on the value.
 *  - SPINLOCK: load, add, store of the 64-bit value under the counter's
 *    spinlock, which the INT32 definition neither takes nor touches.
 *  - NONE: load, the delay (param), store of what it loaded plus the
 *    delta.  The variant's delay is 50 us, so the store of an ADD that
 *    loaded before UNDEFINE comes after the INT32 DEFINE.
 *  - MUTEX: the op leaves RCU for SRCU, looks the counter up again, and
 *    may sleep in mutex_lock_interruptible() (its cond_resched(), or the
 *    wait for the lock) before its 64-bit load and store: a plain store
 *    on the INT32 counter.  Only UNDEFINE's synchronize_srcu() waits for
 *    it.  It wakes when the scheduler gets to it, so the op threads are 8
 *    a CPU on every CPU, the checker lets the ADDs run on each INT64
 *    definition STALE_HOLD64_MS (some threads park in that sleep) and
 *    watches each INT32 one STALE_HOLD32_MS, about the time they wait for
 *    a CPU.  The other kinds' ops do not sleep (nor, under the voluntary
 *    preemption the test bed's kernel runs with, are they preempted): for
 *    them the checker does not linger.
 *  - PERCPU: the op adds to the percpu_counter (its count and per-CPU
 *    shares), never to the value the INT32 definition holds.  A stale one
 *    adds to a destroyed percpu_counter (freed per-CPU memory, or per-CPU
 *    offset 0 once its pointer is NULL), which no op can see: this variant
 *    races UNDEFINE's percpu_counter_destroy() with adds and checks the
 *    outcomes, but cannot catch a missing grace period.
 *
 * With the grace periods in UNDEFINE no ADD can be stale.  Without them
 * it takes a stopped CPU (interrupt, host preemption of its vCPU) or a
 * sleep in the window, so the check is probabilistic: each variant runs
 * for KATOMIC_STALE_SECS (default 2 s) and at least STALE_MIN_CYCLES.
 * Figures, QEMU TCG with 2 vCPUs on a loaded 2-core host, 30 runs (20 of
 * the 64-bit program, 10 of the 32-bit one), about 10.5 s a run for the
 * five variants: against a module without synchronize_rcu() in UNDEFINE,
 * atomic caught stale ADDs in 29 runs (up to 16 a run), spinlock in 30,
 * none in 30 (mutex in none: its ops look the counter up again under
 * SRCU); against one without synchronize_srcu(), mutex in 30 (8 to 35 a
 * run); the real module passed all 30.  make check runs both programs.
 * The rates depend on how often the host or the guest stops a vCPU and on
 * the scheduler: they are not a bound.
 */
#define STALE_ID	104
#define STALE_DELTA	0x100000001ULL
#define STALE_LOADS	8
#define STALE_PER_CPU	8	/* op threads */
#define STALE_NONE_NS	50000	/* NONE's delay */
#define STALE_HOLD32_MS	20	/* MUTEX: least time on an INT32 definition */
#define STALE_HOLD64_MS	5	/* and on an INT64 one */
#define STALE_WAIT_MS	100	/* most time waiting for the op threads */
#define STALE_MIN_CYCLES 10

static void stale_checker(struct worker *w)
{
	double end = kt_now() + w->secs, t0, now;
	unsigned long k, a, m;
	unsigned int j;
	bool met;
	__u64 v;
	int r;

	for (k = 0; k < w->min_cycles || kt_now() < end; k++) {
		/* INT64 of the variant's kind -> INT32 ATOMIC */
		r = kt_undefine(w->fd, w->id);
		if (r) {
			kt_record_error(&w->rec, "UNDEFINE INT64", r);
			break;
		}
		r = kt_define(w->fd, w->id, KATOMIC_TYPE_INT32,
			      KATOMIC_SYNC_ATOMIC, 0);
		if (r) {
			kt_record_error(&w->rec, "DEFINE INT32", r);
			break;
		}
		/*
		 * At least STALE_LOADS LOADs for at least hold32, and on until
		 * one LOAD after an op thread has met the INT32 definition
		 * (-EINVAL): the CPU that ran it has moved on from an ADD it
		 * was stopped in.  Within STALE_WAIT_MS.
		 */
		m = __atomic_load_n(w->mismatches, __ATOMIC_RELAXED);
		t0 = kt_now();
		for (j = 0;; j++) {
			met = __atomic_load_n(w->mismatches,
					      __ATOMIC_RELAXED) != m;
			v = 0;
			r = kt_load(w->fd, w->id, KATOMIC_TYPE_INT32, &v);
			if (r) {
				kt_record_error(&w->rec, "LOAD INT32", r);
				break;
			}
			if (v) {
				if (!w->stale++) {
					w->stale_first = v;
					w->stale_cycle = k;
				}
				break;
			}
			now = kt_now();
			if (j + 1 >= STALE_LOADS && now >= t0 + w->hold32 &&
			    (met || now >= t0 + STALE_WAIT_MS / 1e3))
				break;
			sched_yield();
		}
		w->loads += j + 1;
		if (r)
			break;

		/* INT32 -> INT64, and let the op threads add to it */
		r = kt_undefine(w->fd, w->id);
		if (r) {
			kt_record_error(&w->rec, "UNDEFINE INT32", r);
			break;
		}
		r = kt_define_param(w->fd, w->id, KATOMIC_TYPE_INT64, w->sync,
				    0, w->param);
		if (r) {
			kt_record_error(&w->rec, "DEFINE INT64", r);
			break;
		}
		/* hold64, and on until an ADD has succeeded, within a bound */
		a = __atomic_load_n(w->adds, __ATOMIC_RELAXED);
		t0 = kt_now();
		do {
			sched_yield();
			now = kt_now();
		} while (now < t0 + w->hold64 ||
			 (__atomic_load_n(w->adds, __ATOMIC_RELAXED) == a &&
			  now < t0 + STALE_WAIT_MS / 1e3));
	}
	w->done = k;
}

static void *stale_worker(void *arg)
{
	struct worker *w = arg;
	int r;

	if (w->cpu >= 0) {
		r = kt_pin(w->cpu);
		if (r)
			kt_record_error(&w->rec, "pin", r);
	}
	pthread_barrier_wait(w->bar);
	if (!w->idx) {
		stale_checker(w);
		__atomic_store_n(w->stop, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		r = kt_do(w->fd, w->id, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD,
			  STALE_DELTA, 0, NULL, NULL);
		race_count(w, w->counts, "ADD INT64", r, false);
		if (!r)
			__atomic_fetch_add(w->adds, 1, __ATOMIC_RELAXED);
		else if (r == -EINVAL)
			__atomic_fetch_add(w->mismatches, 1, __ATOMIC_RELAXED);
		w->done++;
	}
	return NULL;
}

FIXTURE(stale) {
	int fd;
	struct katomic_info info;
	bool absent;
	int cpus[KT_MAX_THREADS];
	unsigned int ncpus;
	struct crew c;
};

FIXTURE_VARIANT(stale) {
	__u8 sync;		/* the INT64 definition's kind */
	__u32 param;		/* and its param */
	bool sleeps;		/* its ops may sleep: the checker lingers */
};

FIXTURE_VARIANT_ADD(stale, atomic) {
	.sync = KATOMIC_SYNC_ATOMIC,
};

FIXTURE_VARIANT_ADD(stale, spinlock) {
	.sync = KATOMIC_SYNC_SPINLOCK,
};

FIXTURE_VARIANT_ADD(stale, mutex) {
	.sync = KATOMIC_SYNC_MUTEX,
	.sleeps = true,
};

FIXTURE_VARIANT_ADD(stale, none) {
	.sync = KATOMIC_SYNC_NONE,
	.param = STALE_NONE_NS,
};

FIXTURE_VARIANT_ADD(stale, percpu) {
	.sync = KATOMIC_SYNC_PERCPU,
};

FIXTURE_SETUP(stale)
{
	unsigned int spread;

	kt_setup_dev(_metadata, &self->fd, &self->info);
	if (variant->sync != KATOMIC_SYNC_ATOMIC &&
	    !(self->info.features & KATOMIC_FEAT_SYNC_KINDS)) {
		self->absent = true;
		SKIP(return, "KATOMIC_FEAT_SYNC_KINDS not claimed");
	}
	ASSERT_LT(STALE_ID, self->info.nr_counters);
	kt_undefine(self->fd, STALE_ID);
	/*
	 * The checker and STALE_PER_CPU op threads on each CPU but its own
	 * (on every CPU for a kind whose ops sleep): see stale_cpu().
	 */
	self->ncpus = kt_cpus(self->cpus, KT_MAX_THREADS);
	ASSERT_LT(0, self->ncpus);
	spread = self->ncpus;
	if (!variant->sleeps && self->ncpus > 1)
		spread--;
	self->c.nthreads = 1 + STALE_PER_CPU * spread;
	if (self->c.nthreads > KT_MAX_THREADS)
		self->c.nthreads = KT_MAX_THREADS;
}

FIXTURE_TEARDOWN(stale)
{
	kt_undefine(self->fd, STALE_ID);
	close(self->fd);
}

/*
 * Where thread i runs (-1: anywhere).  The checker (0) alone on the first
 * CPU and the op threads on the others, if there are others: the checker
 * cycles fast, and a stop of an op thread's CPU in the window finds it at
 * work.  For a kind whose ops sleep, every thread anywhere: op threads on
 * every CPU contend for the lock, and all wait their turn for a CPU.
 */
static int stale_cpu(FIXTURE_DATA(stale) *self,
		     const FIXTURE_VARIANT(stale) *variant, unsigned int i)
{
	if (variant->sleeps)
		return -1;
	if (self->ncpus == 1 || !i)
		return self->cpus[0];
	return self->cpus[1 + (i - 1) % (self->ncpus - 1)];
}

TEST_F_TIMEOUT(stale, stale_op, 120)
{
	unsigned long tot[5] = { 0 }, ops = 0, adds = 0, mismatches = 0;
	double secs = kt_env_ulong("KATOMIC_STALE_SECS", 2, 0, 3600);
	const char *kind = kt_sync_name(variant->sync);
	struct worker *chk = &self->c.w[0];
	unsigned int i, j, stop = 0;
	struct katomic_define q;
	__u64 v = KT_POISON;

	if (self->absent)
		return;
	ASSERT_EQ(0, kt_define_param(self->fd, STALE_ID, KATOMIC_TYPE_INT64,
				     variant->sync, 0, variant->param));
	ASSERT_EQ(0, kt_query(self->fd, STALE_ID, &q));
	ASSERT_EQ(variant->sync, q.sync);
	ASSERT_EQ(variant->param, q.param);
	for (i = 0; i < self->c.nthreads; i++) {
		struct worker *w = &self->c.w[i];

		w->fd = kt_open();
		ASSERT_LE(0, w->fd);
		w->id = STALE_ID;
		w->sync = variant->sync;
		w->param = variant->param;
		w->cpu = stale_cpu(self, variant, i);
		w->stop = &stop;
		w->adds = &adds;
		w->mismatches = &mismatches;
		w->secs = secs;
		w->min_cycles = STALE_MIN_CYCLES;
		if (variant->sleeps) {
			w->hold32 = STALE_HOLD32_MS / 1e3;
			w->hold64 = STALE_HOLD64_MS / 1e3;
		}
	}
	crew_run(_metadata, &self->c, "redefine vs INT64 ADDs", stale_worker);
	crew_check(_metadata, &self->c);
	for (i = 0; i < self->c.nthreads; i++) {
		close(self->c.w[i].fd);
		if (!i)
			continue;
		for (j = 0; j < 5; j++)
			tot[j] += self->c.w[i].counts[j];
		ops += self->c.w[i].done;
	}
	TH_LOG("%s: %lu redefinitions (%lu INT32 LOADs) vs %lu INT64 ADDs: %lu ok, %lu ENOENT, %lu EINVAL, %lu other; %lu stale",
	       kind, chk->done, chk->loads, ops, tot[RC_OK], tot[RC_ENOENT],
	       tot[RC_EINVAL], tot[RC_OTHER], chk->stale);
	EXPECT_EQ(0, chk->stale)
		TH_LOG("%s: %lu of %lu INT32 redefinitions held a stale INT64 ADD, first %#llx in cycle %lu",
		       kind, chk->stale, chk->done,
		       (unsigned long long)chk->stale_first, chk->stale_cycle);
	EXPECT_LE(STALE_MIN_CYCLES, chk->done);
	/* the op threads met all three states of the id */
	EXPECT_LT(0, tot[RC_OK]);
	EXPECT_LT(0, tot[RC_ENOENT]);
	EXPECT_LT(0, tot[RC_EINVAL]);
	EXPECT_EQ(adds, tot[RC_OK]);
	EXPECT_EQ(mismatches, tot[RC_EINVAL]);

	/* the id is left an INT64 of the kind that works */
	ASSERT_EQ(0, kt_query(self->fd, STALE_ID, &q));
	EXPECT_EQ(KATOMIC_TYPE_INT64, q.type);
	EXPECT_EQ(variant->sync, q.sync);
	EXPECT_EQ(0, kt_do(self->fd, STALE_ID, KATOMIC_TYPE_INT64,
			   KATOMIC_OP_ADD, 0, 0, &v, NULL));
	EXPECT_EQ(0, kt_undefine(self->fd, STALE_ID));
}

TEST_HARNESS_MAIN
