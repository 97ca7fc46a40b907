// SPDX-License-Identifier: GPL-2.0
/*
 * katomic bench: the cost of each guarantee, kernel against user space.
 *
 * The matrix is paths (the table paths[] below: one entry per way of
 * counting) x threads x placement x op.  Each cell is run by a crew
 * (crew.h): the threads start together at a barrier, each runs chunks of
 * ops in a tight loop, checks the crew's stop flag between chunks and
 * times itself.  Every cell gets a short warm-up, then --runs timed runs
 * of --seconds, the cells in a rotated order each run (round-robin), so
 * that a drift of the machine hits every row alike.  After every run the
 * values are checked (bench_check_values); after all, the NOP floor
 * (bench_check_floor).  bench_out.c does the statistics and the outputs.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "crew.h"
#include "katomic.h"
#include "options.h"

#define CMD			"bench"
#define DEFAULT_SECONDS		0.2
#define DEFAULT_RUNS		5
#define WARMUP_SECONDS		0.05	/* at most: --seconds if shorter */
#define MAX_BATCH		4096	/* the module's default max_batch */
#define MAX_BATCHES		8
#define MAX_THREAD_COUNTS	16
#define USER_CHUNK		1024	/* ops between two looks at the stop */
#define KERNEL_CHUNK		16
#define LOAD_INIT		1000	/* what load cells' counters hold */
#define RETRIES			5	/* runs in which a thread did nothing */

#define usage_error(...)	report(EXIT_USAGE, CMD, NULL, __VA_ARGS__)

struct bench_run;

/*
 * A path: a way of counting.  setup() makes the run's counters (and
 * fills each worker's state), step() is a chunk of one thread's ops,
 * ready() (may be NULL) runs in each thread before the barrier, finals()
 * reads the counters' values after the run, teardown() undoes setup().
 * User paths also say how one counter is laid out (size, init, fini,
 * value).
 */
struct bench_path {
	const char *name;
	const char *help;
	unsigned int flags;		/* BENCH_* */
	unsigned int sync;		/* kernel counters' kind */
	int (*setup)(struct bench_run *r);
	crew_step_fn *step;
	crew_ready_fn *ready;
	int (*finals)(struct bench_run *r, uint64_t *values);
	int (*teardown)(struct bench_run *r);
	size_t size;
	void (*init)(void *obj, uint64_t v);
	void (*fini)(void *obj);
	uint64_t (*value)(const void *obj);
};

/* A cell of the matrix, and what its runs measured. */
struct bench_cell {
	const struct bench_path *path;
	unsigned int batch, threads;
	int place, op;
	unsigned int runs;
	double ns[BENCH_MAX_RUNS], mops[BENCH_MAX_RUNS], lost[BENCH_MAX_RUNS];
};

/* The options. */
struct bench_opts {
	struct crew_cmd cc;		/* name, device, pin, seconds, id */
	double seconds;
	unsigned int runs;
	unsigned int threads[MAX_THREAD_COUNTS], nr_threads;
	unsigned int batches[MAX_BATCHES], nr_batches;
	uint64_t paths;			/* bit i: paths[i] */
	unsigned int ops, places;	/* bit masks */
	const char *csv, *json, *plot, *from, *machine, *commit;
	bool run_opts;			/* any option of a run given */
};

/* One run of a cell. */
struct bench_run {
	const struct bench_opts *o;
	const struct bench_cell *cell;
	const char *label;
	struct crew *crew;
	unsigned int nr_values;		/* 1 shared, else one per thread */
	uint64_t init;
	char *mem;			/* user: the counters */
	size_t stride;
	struct crew_claim claim;	/* kernel: the counters' ids */
	struct katomic *ctx;		/* kernel:mmap: the mapped context */
};

/* A worker's own state (its crew_worker's arg). */
struct bench_worker {
	int error;			/* -errno of failed_op */
	unsigned int failed_op;
	int op;
	unsigned int chunk;		/* ops per step */
	void *obj;			/* user: its counter */
	const char *all;		/* sharded: every shard */
	unsigned int nr_all;
	size_t stride;
	__u32 id;			/* kernel: its counter */
	struct katomic_op *ops;		/* batch, uring: B of them */
	unsigned int batch;
	uint64_t sink;			/* what loads read */
};

/* User-space counters -------------------------------------------------- */

/*
 * The primitives, inline in each path's tight loop: LOAD, ADD, CAS (on
 * failure *old is the value seen) and READ (the load op: the counter's
 * value, a sharded counter's sum).  plain: i++ as a relaxed load and a
 * relaxed store, no sync; its CAS is a compare and a store.
 */
typedef _Atomic uint64_t atomic_u64;

static inline uint64_t plain_load(struct bench_worker *w, atomic_u64 *c)
{
	(void)w;
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void plain_add(struct bench_worker *w, atomic_u64 *c)
{
	atomic_store_explicit(c, plain_load(w, c) + 1, memory_order_relaxed);
}

static inline bool plain_cas(struct bench_worker *w, atomic_u64 *c,
			     uint64_t *old)
{
	uint64_t cur = plain_load(w, c);

	if (cur != *old) {
		*old = cur;
		return false;
	}
	atomic_store_explicit(c, cur + 1, memory_order_relaxed);
	return true;
}

/* sharded: plain ops on the thread's own shard; a load sums them all. */
static inline uint64_t shard_sum(struct bench_worker *w, atomic_u64 *c)
{
	uint64_t sum = 0;
	unsigned int i;

	(void)c;
	for (i = 0; i < w->nr_all; i++)
		sum += atomic_load_explicit((atomic_u64 *)(w->all +
							   i * w->stride),
					    memory_order_relaxed);
	return sum;
}

/* C11: sequentially consistent, as Go's sync/atomic. */
static inline uint64_t c11_load(struct bench_worker *w, atomic_u64 *c)
{
	(void)w;
	return atomic_load(c);
}

static inline void c11_add(struct bench_worker *w, atomic_u64 *c)
{
	(void)w;
	atomic_fetch_add(c, 1);
}

static inline bool c11_cas(struct bench_worker *w, atomic_u64 *c,
			   uint64_t *old)
{
	(void)w;
	return atomic_compare_exchange_strong(c, old, *old + 1);
}

/* A plain value under a lock: pthread mutex or spinlock. */
#define LOCKED_COUNTER(pfx, lock_t, LOCK, UNLOCK, INIT, DESTROY)	\
struct pfx##_counter {							\
	lock_t lock;							\
	uint64_t v;							\
};									\
static inline uint64_t pfx##_load(struct bench_worker *w,		\
				  struct pfx##_counter *c)		\
{									\
	uint64_t v;							\
									\
	(void)w;							\
	LOCK(&c->lock);							\
	v = c->v;							\
	UNLOCK(&c->lock);						\
	return v;							\
}									\
static inline void pfx##_add(struct bench_worker *w,			\
			     struct pfx##_counter *c)			\
{									\
	(void)w;							\
	LOCK(&c->lock);							\
	c->v++;								\
	UNLOCK(&c->lock);						\
}									\
static inline bool pfx##_cas(struct bench_worker *w,			\
			     struct pfx##_counter *c, uint64_t *old)	\
{									\
	bool ok;							\
									\
	(void)w;							\
	LOCK(&c->lock);							\
	ok = c->v == *old;						\
	if (ok)								\
		c->v++;							\
	else								\
		*old = c->v;						\
	UNLOCK(&c->lock);						\
	return ok;							\
}									\
static void pfx##_init_v(void *obj, uint64_t v)				\
{									\
	struct pfx##_counter *c = obj;					\
									\
	INIT(&c->lock);							\
	c->v = v;							\
}									\
static void pfx##_fini(void *obj)					\
{									\
	DESTROY(&((struct pfx##_counter *)obj)->lock);			\
}									\
static uint64_t pfx##_value(const void *obj)				\
{									\
	return ((const struct pfx##_counter *)obj)->v;			\
}

#define MUTEX_INIT(m)	pthread_mutex_init(m, NULL)
#define SPIN_INIT(s)	pthread_spin_init(s, PTHREAD_PROCESS_PRIVATE)
LOCKED_COUNTER(mutex, pthread_mutex_t, pthread_mutex_lock,
	       pthread_mutex_unlock, MUTEX_INIT, pthread_mutex_destroy)
LOCKED_COUNTER(spin, pthread_spinlock_t, pthread_spin_lock,
	       pthread_spin_unlock, SPIN_INIT, pthread_spin_destroy)

/* A user path's step: a chunk of ops of one kind in a tight loop. */
#define USER_STEP(name, T, LOAD, ADD, CAS, READ)			\
static int name(struct crew_worker *cw, uint64_t k)			\
{									\
	struct bench_worker *w = cw->arg;				\
	T *c = w->obj;							\
	uint64_t i, old, sink = 0;					\
									\
	(void)k;							\
	switch (w->op) {						\
	case BENCH_ADD:							\
		for (i = 0; i < w->chunk; i++)				\
			ADD(w, c);					\
		break;							\
	case BENCH_CAS_LOOP:						\
		for (i = 0; i < w->chunk; i++) {			\
			old = LOAD(w, c);				\
			while (!CAS(w, c, &old))			\
				;					\
		}							\
		break;							\
	default:							\
		for (i = 0; i < w->chunk; i++)				\
			sink += READ(w, c);				\
		w->sink += sink;					\
	}								\
	return 0;							\
}

USER_STEP(step_plain, atomic_u64, plain_load, plain_add, plain_cas,
	  plain_load)
USER_STEP(step_sharded, atomic_u64, plain_load, plain_add, plain_cas,
	  shard_sum)
USER_STEP(step_c11, atomic_u64, c11_load, c11_add, c11_cas, c11_load)
USER_STEP(step_mutex, struct mutex_counter, mutex_load, mutex_add, mutex_cas,
	  mutex_load)
USER_STEP(step_spin, struct spin_counter, spin_load, spin_add, spin_cas,
	  spin_load)

/* How an atomic counter is made and read (locked ones: above). */
static void atomic_init_v(void *obj, uint64_t v)
{
	atomic_init((atomic_u64 *)obj, v);
}

static uint64_t atomic_value(const void *obj)
{
	return atomic_load((atomic_u64 *)obj);
}

static void worker_common(struct bench_run *r, struct bench_worker *w,
			  unsigned int chunk)
{
	w->op = r->cell->op;
	w->chunk = chunk;
}

/*
 * The counters of a user path: one, or one per thread (padded: each on
 * cache lines of its own; adjacent: packed, neighbours share a line); a
 * sharded counter is one shard per thread, padded.
 */
static int user_setup(struct bench_run *r)
{
	const struct bench_path *p = r->cell->path;
	bool padded = r->cell->place == BENCH_PADDED ||
		      (p->flags & BENCH_SHARDED);
	struct bench_worker *w;
	unsigned int i;
	size_t bytes;

	r->stride = padded ? (p->size + CREW_LINE - 1) / CREW_LINE * CREW_LINE :
		    p->size;
	bytes = (r->nr_values * r->stride + CREW_LINE - 1) / CREW_LINE *
		CREW_LINE;
	r->mem = aligned_alloc(CREW_LINE, bytes);
	if (!r->mem)
		return report(EXIT_FAILED, CMD, r->label, "no memory");
	memset(r->mem, 0, bytes);
	for (i = 0; i < r->nr_values; i++)
		p->init(r->mem + i * r->stride, r->init);
	for (i = 0; i < r->crew->nr; i++) {
		w = r->crew->w[i].arg;
		worker_common(r, w, USER_CHUNK);
		w->obj = r->mem + (r->nr_values == 1 ? 0 : i * r->stride);
		w->all = r->mem;
		w->nr_all = r->nr_values;
		w->stride = r->stride;
	}
	return EXIT_OK;
}

static int user_finals(struct bench_run *r, uint64_t *values)
{
	const struct bench_path *p = r->cell->path;
	struct bench_worker w = { .all = r->mem, .nr_all = r->nr_values,
				  .stride = r->stride };
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < r->nr_values; i++) {
		values[i] = p->value(r->mem + i * r->stride);
		sum += values[i];
	}
	/* A sharded counter's value is its shards' sum, as its load reads it. */
	if ((p->flags & BENCH_SHARDED) && shard_sum(&w, NULL) != sum)
		return report(EXIT_FAILED, CMD, r->label,
			      "self-check failed: the shards' sum is %llu, not %llu",
			      (unsigned long long)shard_sum(&w, NULL),
			      (unsigned long long)sum);
	return EXIT_OK;
}

static int user_teardown(struct bench_run *r)
{
	const struct bench_path *p = r->cell->path;
	unsigned int i;

	for (i = 0; r->mem && p->fini && i < r->nr_values; i++)
		p->fini(r->mem + i * r->stride);
	free(r->mem);
	r->mem = NULL;
	return EXIT_OK;
}

/* Kernel paths ---------------------------------------------------------- */

static int kernel_failed(struct bench_worker *w, unsigned int op, int err)
{
	w->error = err;
	w->failed_op = op;
	return -1;
}

static int step_nop(struct crew_worker *cw, uint64_t k)
{
	struct bench_worker *w = cw->arg;
	unsigned int i;
	int ret;

	(void)k;
	for (i = 0; i < w->chunk; i++) {
		ret = katomic_nop(cw->k);
		if (ret < 0)
			return kernel_failed(w, 0, ret);
	}
	return 0;
}

/* KATOMIC_IOC_OP code(arg, arg2) on the worker's counter: applied (0 or
 * 1) with *result, or -1 with the worker's error set. */
static int kernel_op(struct crew_worker *cw, unsigned int code, __u64 arg,
		     __u64 arg2, __u64 *result)
{
	struct bench_worker *w = cw->arg;
	struct katomic_op op = { .id = w->id, .type = KATOMIC_TYPE_UINT64,
				 .op = code, .arg = arg, .arg2 = arg2 };
	int applied = katomic_op(cw->k, &op);

	if (applied < 0)
		return kernel_failed(w, code, applied);
	*result = op.result;
	return applied;
}

static int step_ioctl(struct crew_worker *cw, uint64_t k)
{
	static const unsigned int codes[] = {
		[BENCH_ADD] = KATOMIC_OP_ADD, [BENCH_LOAD] = KATOMIC_OP_LOAD,
	};
	struct bench_worker *w = cw->arg;
	unsigned int i;
	__u64 old;
	int ret;

	(void)k;
	for (i = 0; i < w->chunk; i++) {
		if (w->op != BENCH_CAS_LOOP) {
			if (kernel_op(cw, codes[w->op], w->op == BENCH_ADD, 0,
				      &old) < 0)
				return -1;
			w->sink += old;
			continue;
		}
		/* LOAD, then CAS(old, old + 1) until it applies */
		if (kernel_op(cw, KATOMIC_OP_LOAD, 0, 0, &old) < 0)
			return -1;
		do {
			ret = kernel_op(cw, KATOMIC_OP_CAS, old, old + 1, &old);
			if (ret < 0)
				return -1;
		} while (!ret);
	}
	return 0;
}

/* B ops in one call of fn (katomic_batch or katomic_uring); every op
 * must have run without an error. */
static int run_group(struct crew_worker *cw,
		     int (*fn)(struct katomic *k, struct katomic_op *ops,
			       unsigned int nr, unsigned int flags,
			       unsigned int *done))
{
	struct bench_worker *w = cw->arg;
	unsigned int done = 0, i;
	int ret;

	ret = fn(cw->k, w->ops, w->batch, 0, &done);
	if (!ret && done != w->batch)
		ret = -EPROTO;
	for (i = 0; i < done && !ret; i++)
		ret = w->ops[i].error;
	return ret ? kernel_failed(w, w->ops[0].op, ret) : 0;
}

static int step_batch(struct crew_worker *cw, uint64_t k)
{
	(void)k;
	return run_group(cw, katomic_batch);
}

static int step_uring(struct crew_worker *cw, uint64_t k)
{
	(void)k;
	return run_group(cw, katomic_uring);
}

/* Sets the thread's ring up before the clock starts: one LOAD. */
static void uring_ready(struct crew_worker *cw)
{
	struct bench_worker *w = cw->arg;
	struct katomic_op op = { .id = w->id, .type = KATOMIC_TYPE_UINT64,
				 .op = KATOMIC_OP_LOAD };
	int ret = katomic_uring(cw->k, &op, 1, 0, NULL);

	if (ret < 0)
		kernel_failed(w, KATOMIC_OP_LOAD, ret);
}

/*
 * The counters of a kernel path: free ids of the global context, defined
 * for the run (UINT64 of the path's kind) and undefined after it; each
 * thread opens the device for itself.  NOP has none.
 */
static int kernel_setup(struct bench_run *r)
{
	const struct bench_path *p = r->cell->path;
	struct katomic_define d = { .type = KATOMIC_TYPE_UINT64,
				    .sync = p->sync, .init = r->init };
	unsigned int i, j, batched = p->flags & BENCH_BATCHED;
	struct bench_worker *w;
	char kind[48];
	int ret;

	r->claim = (struct crew_claim){ .k = r->o->cc.dev,
					.object = KATOMIC_OBJ_COUNTER,
					.nr = r->nr_values };
	if (!(p->flags & BENCH_NO_COUNTER)) {
		snprintf(kind, sizeof(kind), "%s uint64 counters",
			 katomic_sync_name(p->sync));
		ret = crew_claim_ids(&r->claim, r->o->cc.id_base, CMD,
				     r->label);
		if (!ret)
			ret = crew_define(&r->claim, d, kind, CMD, r->label);
		if (ret)
			return ret;
	}
	ret = crew_handles(&r->o->cc, r->crew, &r->claim, r->label);
	for (i = 0; i < r->crew->nr && !ret; i++) {
		w = r->crew->w[i].arg;
		worker_common(r, w, batched ? r->cell->batch : KERNEL_CHUNK);
		if (r->claim.ids)
			w->id = r->claim.ids[r->nr_values == 1 ? 0 : i];
		if (!batched)
			continue;
		w->batch = r->cell->batch;
		w->ops = calloc(w->batch, sizeof(*w->ops));
		if (!w->ops)
			return report(EXIT_FAILED, CMD, r->label, "no memory");
		for (j = 0; j < w->batch; j++)
			w->ops[j] = (struct katomic_op){
				.id = w->id, .type = KATOMIC_TYPE_UINT64,
				.op = w->op == BENCH_LOAD ? KATOMIC_OP_LOAD :
				      KATOMIC_OP_ADD,
				.arg = w->op == BENCH_ADD,
			};
	}
	return ret;
}

static int kernel_finals(struct bench_run *r, uint64_t *values)
{
	unsigned int i;
	int ret;

	for (i = 0; r->claim.ids && i < r->claim.nr; i++) {
		ret = katomic_load_uint64(r->claim.k, r->claim.ids[i],
					  &values[i]);
		if (ret < 0)
			return crew_fail_object(CMD, r->label, "load",
						KATOMIC_OBJ_COUNTER,
						r->claim.ids[i], ret);
	}
	return EXIT_OK;
}

static int kernel_teardown(struct bench_run *r)
{
	unsigned int i;

	for (i = 0; r->crew && i < r->crew->nr; i++)
		free(((struct bench_worker *)r->crew->w[i].arg)->ops);
	return r->claim.ids ? crew_release(&r->claim, CMD, r->label) :
	       EXIT_OK;
}

/*
 * kernel:mmap: the ATOMIC counters of a private context made with
 * KATOMIC_CTX_MMAP, mapped (ids 0..n-1, a cache line each).  The threads
 * run user:c11's step on the kernel's own cells, no syscall per op; the
 * check reads the values back with ioctl LOADs, so every update must be
 * what the kernel sees too.
 */
static int mmap_setup(struct bench_run *r)
{
	struct katomic_context c = { .nr_counters = r->nr_values,
				     .flags = KATOMIC_CTX_MMAP };
	struct bench_worker *w;
	unsigned int i;
	int ret;

	ret = katomic_context_new(r->o->cc.dev, &c, &r->ctx);
	for (i = 0; !ret && i < r->nr_values; i++)
		ret = katomic_define(r->ctx, i, KATOMIC_TYPE_UINT64,
				     KATOMIC_SYNC_ATOMIC, r->init);
	if (!ret)
		ret = katomic_map(r->ctx);
	if (ret)
		return report(EXIT_FAILED, CMD, r->label,
			      "a mapped context of %u counters: %s",
			      r->nr_values, strerror(-ret));
	for (i = 0; i < r->crew->nr; i++) {
		w = r->crew->w[i].arg;
		worker_common(r, w, USER_CHUNK);
		w->obj = katomic_map_cell(r->ctx, r->nr_values == 1 ? 0 : i);
	}
	return EXIT_OK;
}

static int mmap_finals(struct bench_run *r, uint64_t *values)
{
	unsigned int i;
	int ret;

	for (i = 0; i < r->nr_values; i++) {
		ret = katomic_load_uint64(r->ctx, i, &values[i]);
		if (ret < 0)
			return crew_fail_object(CMD, r->label, "load",
						KATOMIC_OBJ_COUNTER, i, ret);
	}
	return EXIT_OK;
}

/* Unmaps and closes: the context goes with its last reference. */
static int mmap_teardown(struct bench_run *r)
{
	katomic_close(r->ctx);
	r->ctx = NULL;
	return EXIT_OK;
}

/* The paths ------------------------------------------------------------- */

#define USER_PATH(n, h, f, st, T, in, fi, val)				\
	{ .name = n, .help = h, .flags = (f), .setup = user_setup,	\
	  .step = st, .finals = user_finals, .teardown = user_teardown,	\
	  .size = sizeof(T), .init = in, .fini = fi, .value = val }
#define KERNEL_PATH(n, h, f, s, st, rd)					\
	{ .name = n, .help = h, .flags = BENCH_KERNEL | (f), .sync = s,	\
	  .setup = kernel_setup, .step = st, .ready = rd,		\
	  .finals = kernel_finals, .teardown = kernel_teardown }

/*
 * Every path, in the order of the table.  A new way of counting is one
 * more entry: its flags, its step and, if its counters are not the
 * global context's ioctl counters, its own setup, finals and teardown.
 */
static const struct bench_path paths[] = {
	USER_PATH("user:plain", "i++ as a relaxed load and store: no sync, loses updates",
		  0, step_plain, atomic_u64, atomic_init_v, NULL, atomic_value),
	USER_PATH("user:mutex", "a pthread mutex around a plain value",
		  BENCH_EXACT, step_mutex, struct mutex_counter, mutex_init_v,
		  mutex_fini, mutex_value),
	USER_PATH("user:spin", "a pthread spinlock around a plain value",
		  BENCH_EXACT, step_spin, struct spin_counter, spin_init_v,
		  spin_fini, spin_value),
	USER_PATH("user:c11", "C11 atomics (seq_cst: fetch_add, compare_exchange, load)",
		  BENCH_EXACT, step_c11, atomic_u64, atomic_init_v, NULL,
		  atomic_value),
	USER_PATH("user:sharded", "a shard per thread on its own cache line; a load sums them",
		  BENCH_EXACT | BENCH_SHARDED, step_sharded, atomic_u64,
		  atomic_init_v, NULL, atomic_value),
	KERNEL_PATH("kernel:nop", "KATOMIC_IOC_NOP: the syscall floor, no counter",
		    BENCH_EXACT | BENCH_NO_COUNTER | BENCH_ONE_PER_CALL, 0,
		    step_nop, NULL),
	KERNEL_PATH("kernel:none", "an ioctl per op on a none counter (loses updates)",
		    BENCH_ONE_PER_CALL, KATOMIC_SYNC_NONE, step_ioctl, NULL),
	KERNEL_PATH("kernel:atomic", "an ioctl per op on an atomic counter",
		    BENCH_EXACT | BENCH_ONE_PER_CALL, KATOMIC_SYNC_ATOMIC,
		    step_ioctl, NULL),
	KERNEL_PATH("kernel:spinlock", "an ioctl per op on a spinlock counter",
		    BENCH_EXACT | BENCH_ONE_PER_CALL, KATOMIC_SYNC_SPINLOCK,
		    step_ioctl, NULL),
	KERNEL_PATH("kernel:mutex", "an ioctl per op on a mutex counter",
		    BENCH_EXACT | BENCH_ONE_PER_CALL, KATOMIC_SYNC_MUTEX,
		    step_ioctl, NULL),
	KERNEL_PATH("kernel:percpu", "an ioctl per op on a percpu counter",
		    BENCH_EXACT | BENCH_ONE_PER_CALL, KATOMIC_SYNC_PERCPU,
		    step_ioctl, NULL),
	KERNEL_PATH("kernel:batch", "KATOMIC_IOC_BATCH of B ops (atomic counters)",
		    BENCH_EXACT | BENCH_BATCHED | BENCH_ONE_PER_CALL,
		    KATOMIC_SYNC_ATOMIC, step_batch, NULL),
	KERNEL_PATH("kernel:uring", "B io_uring commands per submission, a ring per thread (atomic)",
		    BENCH_EXACT | BENCH_BATCHED | BENCH_ONE_PER_CALL,
		    KATOMIC_SYNC_ATOMIC, step_uring, uring_ready),
	{ .name = "kernel:mmap",
	  .help = "C11 atomics on a mapped context's cells (atomic), no syscall per op",
	  .flags = BENCH_KERNEL | BENCH_EXACT, .sync = KATOMIC_SYNC_ATOMIC,
	  .setup = mmap_setup, .step = step_c11, .finals = mmap_finals,
	  .teardown = mmap_teardown },
};
#define NR_PATHS	(sizeof(paths) / sizeof(paths[0]))

int bench_path_flags(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_PATHS; i++)
		if (!strcmp(paths[i].name, name))
			return paths[i].flags;
	return -1;
}

/* Why path p cannot run op on place, or NULL. */
static const char *skip_reason(const struct bench_path *p, int place, int op)
{
	if ((p->flags & BENCH_BATCHED) && op == BENCH_CAS_LOOP)
		return "each CAS needs the value the last one saw: no cas-loop in a batch";
	if ((p->flags & BENCH_KERNEL) && p->sync == KATOMIC_SYNC_PERCPU &&
	    op == BENCH_CAS_LOOP)
		return "percpu has load, store and add only";
	if ((p->flags & BENCH_KERNEL) && place == BENCH_ADJACENT)
		return "kernel counters always have a cache line each: adjacent would be padded";
	if ((p->flags & BENCH_SHARDED) && place != BENCH_SHARED)
		return "a sharded counter is one counter of padded shards: shared only";
	return NULL;
}

/* Usage ----------------------------------------------------------------- */

void bench_usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
"usage: katomic [--device PATH] bench [--threads LIST] [--seconds S] [--runs N]\n"
"         [--path LIST] [--op LIST] [--placement LIST] [--batch LIST] [--pin]\n"
"         [--id BASE] [--csv FILE] [--json FILE] [--plot FILE.png]\n"
"         [--machine TEXT] [--commit TEXT]\n"
"       katomic bench --from FILE.csv [--csv FILE] [--json FILE] [--plot FILE.png]\n"
"\n"
"Measures what each guarantee costs: ns per op and Mops/s of every path below\n"
"x threads x placement x op, and each row's ratio to the NOP ioctl (the\n"
"syscall floor) and to user:c11 (the honest user-space atomic) of the same\n"
"run.  User paths are the primitive inline in a tight loop, not libkatomic's\n"
"twin (whose dispatch would be measured too).\n"
"\n"
"paths (--path LIST: names, user, kernel or all; default all):\n");
	for (i = 0; i < NR_PATHS; i++)
		fprintf(f, "  %-16s %s\n", paths[i].name, paths[i].help);
	fprintf(f,
"\n"
"axes:\n"
"  --threads LIST    thread counts, 1..%d (default 1 and the online CPUs)\n"
"  --placement LIST  shared: one counter for all threads; padded: one per\n"
"                    thread on its own cache line; adjacent: one per thread,\n"
"                    unpadded neighbours (false sharing).  Kernel counters\n"
"                    always have a cache line each: adjacent is skipped\n"
"  --op LIST         add; cas-loop: load, then CAS(old, old+1) until it\n"
"                    applies (an op is one increment); load\n"
"  --batch LIST      B for kernel:batch and kernel:uring, 1..%d (default\n"
"                    1,16,256)\n"
"Impossible cells are skipped with the reason: cas-loop in a batch, cas on\n"
"percpu, kernel adjacent, sharded other than shared.  kernel:nop has no op\n"
"and no placement.\n"
"\n"
"the runs:\n"
"  --seconds S       each timed run of a cell (default %g)\n"
"  --runs N          timed runs per cell, 1..%d (default %d); before them\n"
"                    every cell has a warm-up run of min(S, %g) s\n"
"  --pin             pin thread i to the i-th CPU of the affinity mask\n"
"  --id BASE         kernel counters: the first free ids from BASE, defined\n"
"                    for each run and undefined after it\n"
"The threads of a cell start together at a barrier, run chunks of ops in a\n"
"tight loop, look at a stop flag between chunks and time themselves.  Each\n"
"run takes the cells in a rotated order (round-robin), so that drift hits\n"
"all rows alike.  A row shows the median of its runs with min and max: ns/op\n"
"per thread (its own time over its own ops, the threads' mean rate) and\n"
"Mops/s of all threads; xNOP and xC11 are its ns/op median over the NOP's and\n"
"user:c11's (same threads; user:c11 also same placement and op).  A progress\n"
"line goes to stderr.\n"
"\n"
"self-check (exit 1, a line naming the row): after every run the counters of\n"
"exact paths must hold exactly the ops done (load: unchanged; sharded: the\n"
"shards' sum too) and every batch and uring completion must be without\n"
"error; user:plain and kernel:none report the updates they lost instead.  A\n"
"row of one op per syscall (kernel ioctl paths, batch and uring at B=1)\n"
"whose slowest run beats the NOP's fastest at the same threads by more than\n"
"the noise (%.0f%%) is impossible.\n"
"\n"
"outputs (FILE - is stdout; the table goes to stdout unless one does):\n"
"  --csv FILE        the rows as CSV, the machine in '# key: value' lines\n"
"  --json FILE       the same as one JSON document\n"
"  --plot FILE.png   Mops/s against threads, a line per path (one shared\n"
"                    counter, add), log scale, titled with the machine;\n"
"                    needs gnuplot (Debian: gnuplot-nox)\n"
"  --from FILE.csv   run nothing: read a CSV this command wrote and print\n"
"                    the table, the JSON or the plot of it\n"
"  --machine TEXT    the machine label (default: detected, QEMU TCG, KVM or\n"
"                    bare metal, from CPUID and the DMI vendor)\n"
"  --commit TEXT     a commit to name in the outputs\n"
"\n"
"Under QEMU's TCG every instruction is translated: absolute numbers there say\n"
"little, ratios taken in one run say more.\n"
"\n"
"Exit status: 0 ok, 1 an operation or a self-check failed, 2 usage error.\n",
		CREW_MAX_THREADS, MAX_BATCH, DEFAULT_SECONDS, BENCH_MAX_RUNS,
		DEFAULT_RUNS, WARMUP_SECONDS, 100 * BENCH_NOISE);
}

/* Options --------------------------------------------------------------- */

enum { OPT_THREADS, OPT_SECONDS, OPT_RUNS, OPT_PATH, OPT_OP, OPT_PLACEMENT,
       OPT_BATCH, OPT_PIN, OPT_ID, OPT_CSV, OPT_JSON, OPT_PLOT, OPT_FROM,
       OPT_MACHINE, OPT_COMMIT, NR_OPTS };
static const struct option_spec options[NR_OPTS] = {
	{ "--threads", true }, { "--seconds", true }, { "--runs", true },
	{ "--path", true }, { "--op", true }, { "--placement", true },
	{ "--batch", true }, { "--pin", false }, { "--id", true },
	{ "--csv", true }, { "--json", true }, { "--plot", true },
	{ "--from", true }, { "--machine", true }, { "--commit", true },
};

/* Where the options that take a text keep it. */
static const size_t text_options[NR_OPTS] = {
	[OPT_CSV] = offsetof(struct bench_opts, csv),
	[OPT_JSON] = offsetof(struct bench_opts, json),
	[OPT_PLOT] = offsetof(struct bench_opts, plot),
	[OPT_FROM] = offsetof(struct bench_opts, from),
	[OPT_MACHINE] = offsetof(struct bench_opts, machine),
	[OPT_COMMIT] = offsetof(struct bench_opts, commit),
};

/* The next item of a comma list s into buf; NULL at the end. */
static const char *next_item(const char **s, char *buf, size_t len)
{
	size_t n;

	if (!*s)
		return NULL;
	n = strcspn(*s, ",");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), *s);
	*s = (*s)[n] ? *s + n + 1 : NULL;
	return buf;
}

/* A list of numbers in min..max into v[max_n]. */
static int parse_numbers(const char *opt, const char *s, uint64_t min,
			 uint64_t max, unsigned int *v, unsigned int max_n,
			 unsigned int *n)
{
	char item[32];
	uint64_t x;
	int ret;

	for (*n = 0; next_item(&s, item, sizeof(item)); (*n)++) {
		if (*n == max_n)
			return usage_error("%s: more than %u values", opt,
					   max_n);
		ret = option_uint(CMD, opt, item, min, max, &x);
		if (ret)
			return ret;
		v[*n] = x;
	}
	return EXIT_OK;
}

/* A list of names of names[nr] into a mask. */
static int parse_names(const char *opt, const char *s,
		       const char *const *names, unsigned int nr,
		       unsigned int *mask)
{
	char item[32];
	unsigned int i;

	for (*mask = 0; next_item(&s, item, sizeof(item));) {
		for (i = 0; i < nr && strcmp(item, names[i]); i++)
			;
		if (i == nr)
			return usage_error("%s: '%s' is not one of %s%s%s", opt,
					   item, names[0],
					   nr > 2 ? ", " : " or ",
					   nr > 2 ? "..." : names[1]);
		*mask |= 1u << i;
	}
	return EXIT_OK;
}

static int parse_paths(const char *s, uint64_t *mask)
{
	char item[32];
	unsigned int i;
	uint64_t m;

	for (*mask = 0; next_item(&s, item, sizeof(item)); *mask |= m) {
		for (m = 0, i = 0; i < NR_PATHS; i++)
			if (!strcmp(item, "all") || !strcmp(item, paths[i].name) ||
			    (!strcmp(item, "user") &&
			     !(paths[i].flags & BENCH_KERNEL)) ||
			    (!strcmp(item, "kernel") &&
			     (paths[i].flags & BENCH_KERNEL)))
				m |= 1ULL << i;
		if (!m)
			return usage_error("--path: '%s' is not a path, user, kernel or all (katomic help bench lists them)",
					   item);
	}
	return EXIT_OK;
}

static int set_option(struct bench_opts *o, int opt, const char *v)
{
	uint64_t n;
	int ret;

	o->run_opts |= opt < OPT_CSV || opt > OPT_FROM;
	switch (opt) {
	case OPT_THREADS:
		return parse_numbers("--threads", v, 1, CREW_MAX_THREADS,
				     o->threads, MAX_THREAD_COUNTS,
				     &o->nr_threads);
	case OPT_SECONDS:
		return crew_parse_seconds(CMD, v, &o->seconds);
	case OPT_RUNS:
		ret = option_uint(CMD, "--runs", v, 1, BENCH_MAX_RUNS, &n);
		o->runs = n;
		return ret;
	case OPT_PATH:
		return parse_paths(v, &o->paths);
	case OPT_OP:
		return parse_names("--op", v, bench_op_names, BENCH_NR_OPS,
				   &o->ops);
	case OPT_PLACEMENT:
		return parse_names("--placement", v, bench_place_names,
				   BENCH_NR_PLACES, &o->places);
	case OPT_BATCH:
		return parse_numbers("--batch", v, 1, MAX_BATCH, o->batches,
				     MAX_BATCHES, &o->nr_batches);
	case OPT_ID:
		ret = option_uint(CMD, "--id", v, 0, UINT32_MAX, &n);
		o->cc.id_base = n;
		return ret;
	case OPT_PIN:
		o->cc.pin = true;
		return EXIT_OK;
	}
	/* the options that name a file or a text */
	*(const char **)((char *)o + text_options[opt]) = v;
	return EXIT_OK;
}

static int parse_options(struct bench_opts *o, int argc, char **argv,
			 bool *help)
{
	const char *v;
	int i, opt, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			*help = true;
			return EXIT_OK;
		}
		opt = option_match(argc, argv, &i, options, NR_OPTS, &v);
		if (opt < 0)
			return usage_error("%s '%s' (try katomic bench --help)",
					   argv[i][0] == '-' ?
					   "unknown option" :
					   "unexpected argument", argv[i]);
		if (options[opt].valued && !v)
			return usage_error("%s needs a value", argv[i]);
		ret = set_option(o, opt, v);
		if (ret)
			return ret;
	}
	if (o->from && o->run_opts)
		return usage_error("--from runs nothing: it takes only --csv, --json and --plot");
	if ((o->csv && !strcmp(o->csv, "-") && o->json && !strcmp(o->json, "-")))
		return usage_error("--csv - and --json - cannot both go to stdout");
	if (o->plot && !strcmp(o->plot, "-"))
		return usage_error("--plot needs a file name");
	return EXIT_OK;
}

/* The matrix ------------------------------------------------------------ */

/* The cells to run (threads outermost) and the skipped rows, in r. */
static int make_cells(const struct bench_opts *o, struct bench_cell **out,
		      unsigned int *nr, struct bench_result *r)
{
	const struct bench_path *p;
	struct bench_cell *cells = NULL, *c;
	struct bench_row *row;
	unsigned int t, i, b, nb, cap = 0;
	int place, op, np, no;
	const char *why;

	*nr = 0;
	for (t = 0; t < o->nr_threads; t++)
	for (i = 0; i < NR_PATHS; i++) {
		p = &paths[i];
		if (!(o->paths & (1ULL << i)))
			continue;
		nb = p->flags & BENCH_BATCHED ? o->nr_batches : 1;
		np = p->flags & BENCH_NO_COUNTER ? 1 : BENCH_NR_PLACES;
		no = p->flags & BENCH_NO_COUNTER ? 1 : BENCH_NR_OPS;
		for (b = 0; b < nb; b++)
		for (place = 0; place < np; place++)
		for (op = 0; op < no; op++) {
			if (!(p->flags & BENCH_NO_COUNTER) &&
			    (!(o->places & (1u << place)) ||
			     !(o->ops & (1u << op))))
				continue;
			why = p->flags & BENCH_NO_COUNTER ? NULL :
			      skip_reason(p, place, op);
			if (why && t)
				continue;
			if (why) {
				row = bench_add_row(r);
				if (!row)
					goto nomem;
				snprintf(row->path, sizeof(row->path), "%s",
					 p->name);
				snprintf(row->reason, sizeof(row->reason),
					 "%s", why);
				row->batch = p->flags & BENCH_BATCHED ?
					     o->batches[b] : 0;
				row->place = place;
				row->op = op;
				continue;
			}
			if (*nr == cap) {
				cap = cap ? 2 * cap : 64;
				c = realloc(cells, cap * sizeof(*c));
				if (!c)
					goto nomem;
				cells = c;
			}
			c = &cells[(*nr)++];
			memset(c, 0, sizeof(*c));
			c->path = p;
			c->batch = p->flags & BENCH_BATCHED ? o->batches[b] : 0;
			c->threads = o->threads[t];
			c->place = p->flags & BENCH_NO_COUNTER ? -1 : place;
			c->op = p->flags & BENCH_NO_COUNTER ? -1 : op;
		}
	}
	*out = cells;
	return EXIT_OK;
nomem:
	free(cells);
	return report(EXIT_FAILED, CMD, NULL, "no memory for the matrix");
}

static void cell_row(const struct bench_cell *c, struct bench_row *row)
{
	snprintf(row->path, sizeof(row->path), "%s", c->path->name);
	row->batch = c->batch;
	row->threads = c->threads;
	row->place = c->place;
	row->op = c->op;
}

/* Runs ------------------------------------------------------------------ */

/* The checks of a finished run, its figures into the cell (if record). */
static int account(struct bench_run *r, struct bench_cell *c, bool record,
		   bool *again)
{
	unsigned int n = r->crew->nr, i;
	uint64_t done[CREW_MAX_THREADS], values[CREW_MAX_THREADS];
	struct timespec start[CREW_MAX_THREADS], end[CREW_MAX_THREADS];
	const struct bench_worker *w;
	struct crew_rates rates;
	char why[160];
	int ret;

	*again = false;
	for (i = 0; i < n; i++) {
		w = r->crew->w[i].arg;
		if (w->error)
			return report(EXIT_FAILED, CMD, r->label,
				      "%s: %s (%s)",
				      w->failed_op ?
				      katomic_op_name(w->failed_op) : "nop",
				      katomic_strerror(w->error),
				      katomic_errno_name(w->error));
		done[i] = atomic_load(&r->crew->w[i].done) * w->chunk;
		start[i] = r->crew->w[i].start;
		end[i] = r->crew->w[i].end;
		*again |= !done[i];
	}
	ret = r->cell->path->finals(r, values);
	if (ret)
		return ret;
	if (!(r->cell->path->flags & BENCH_NO_COUNTER) &&
	    ((r->cell->path->flags & BENCH_EXACT) || r->cell->op == BENCH_LOAD) &&
	    bench_check_values(r->cell->op, n, done, r->nr_values, values,
			       r->init, why, sizeof(why)))
		return report(EXIT_FAILED, CMD, r->label,
			      "self-check failed: %s", why);
	if (*again || !record)
		return EXIT_OK;
	crew_rates(n, done, start, end, &rates);
	c->ns[c->runs] = rates.per_thread > 0 ? 1e9 / rates.per_thread : 0;
	c->mops[c->runs] = rates.total / 1e6;
	c->lost[c->runs] = bench_lost_share(n, done, r->nr_values, values,
					    r->init);
	c->runs++;
	return EXIT_OK;
}

/* One run of cell c for seconds; record: its figures count. */
static int run_cell(struct bench_opts *o, struct bench_cell *c,
		    double seconds, bool record)
{
	const struct bench_path *p = c->path;
	struct bench_row row;
	char label[128];
	struct bench_run r = { .o = o, .cell = c, .label = label };
	unsigned int i, tries;
	bool again = true;
	int ret = EXIT_OK;

	cell_row(c, &row);
	bench_row_name(&row, label, sizeof(label));
	r.nr_values = c->place == BENCH_SHARED &&
		      !(p->flags & BENCH_SHARDED) ? 1 : c->threads;
	r.init = c->op == BENCH_LOAD ? LOAD_INIT : 0;
	o->cc.seconds = seconds;
	for (tries = 0; again && !ret && !crew_signal; tries++) {
		if (tries == RETRIES)
			return report(EXIT_FAILED, CMD, label,
				      "a thread did no op in %g s, %u times: try a longer --seconds",
				      seconds, RETRIES);
		if (crew_init(&r.crew, c->threads, sizeof(struct bench_worker)))
			return report(EXIT_FAILED, CMD, label, "no memory");
		ret = p->setup(&r);
		for (i = 0; i < c->threads && !ret; i++) {
			r.crew->w[i].step = p->step;
			r.crew->w[i].ready = p->ready;
			r.crew->w[i].limit = CREW_UNLIMITED;
			r.crew->w[i].counted = true;
		}
		if (!ret)
			ret = crew_run(&o->cc, r.crew, label);
		if (!ret && !crew_signal)
			ret = account(&r, c, record, &again);
		if (p->teardown(&r) && !ret)
			ret = EXIT_FAILED;
		crew_fini(r.crew);
		r.crew = NULL;
	}
	return ret;
}

/* The progress line: on a terminal one line rewritten, else (TERM unset
 * or dumb too) a line every quarter of a run. */
struct progress {
	bool tty;
	struct timespec t0;
	unsigned int done, total;	/* cell runs, warm-ups included */
	double busy, left;		/* their seconds done, to do */
	int width;
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress(struct progress *pr, const char *what, unsigned int run,
		     unsigned int runs, unsigned int cell, unsigned int cells)
{
	double el = since(&pr->t0);
	/* the time to do, and each cell run's overhead as so far */
	double eta = pr->left + (pr->done ? (el - pr->busy) / pr->done *
				 (pr->total - pr->done) : 0);

	if (!pr->tty && cell % (cells / 4 ? cells / 4 : 1))
		return;
	pr->width = fprintf(stderr, "%sbench: %s %u of %u, cell %u of %u, %.0f s, ETA %.0f s%s",
			    pr->tty ? "\r" : "", what, run, runs, cell + 1,
			    cells, el, eta, pr->tty ? "  " : "\n");
}

static void progress_end(struct progress *pr)
{
	if (pr->tty && pr->width > 0)
		fprintf(stderr, "\r%*s\r", pr->width, "");
}

/* The warm-up, then the runs, each in a rotated order. */
static int run_matrix(struct bench_opts *o, struct bench_cell *cells,
		      unsigned int nr)
{
	const char *term = getenv("TERM");
	struct progress pr = { .tty = isatty(STDERR_FILENO) && term &&
				      strcmp(term, "dumb"),
			       .total = nr * (o->runs + 1) };
	double warm = o->seconds < WARMUP_SECONDS ? o->seconds : WARMUP_SECONDS;
	unsigned int run, j, first;
	int ret = EXIT_OK;

	clock_gettime(CLOCK_MONOTONIC, &pr.t0);
	pr.left = nr * (warm + o->runs * o->seconds);
	for (j = 0; j < nr && !ret && !crew_signal; j++, pr.done++) {
		progress(&pr, "warm-up", 1, 1, j, nr);
		ret = run_cell(o, &cells[j], warm, false);
		pr.busy += warm;
		pr.left -= warm;
	}
	for (run = 0; run < o->runs && !ret && !crew_signal; run++) {
		first = (unsigned long long)run * nr / o->runs;
		for (j = 0; j < nr && !ret && !crew_signal; j++, pr.done++) {
			progress(&pr, "run", run + 1, o->runs, j, nr);
			ret = run_cell(o, &cells[(first + j) % nr], o->seconds,
				       true);
			pr.busy += o->seconds;
			pr.left -= o->seconds;
		}
	}
	progress_end(&pr);
	return ret;
}

/* The rows of the cells, then the checks of the whole. */
static int make_rows(const struct bench_cell *cells, unsigned int nr,
		     struct bench_result *r)
{
	const struct bench_cell *c;
	struct bench_row *row;
	struct bench_stat lost;
	char why[256];
	unsigned int i, skipped = r->nr;
	struct bench_row *rows;

	/* the measured rows first, then the skipped ones made earlier */
	rows = r->rows;
	r->rows = NULL;
	r->nr = r->cap = 0;
	for (i = 0; i < nr; i++) {
		c = &cells[i];
		row = bench_add_row(r);
		if (!row)
			goto nomem;
		cell_row(c, row);
		row->runs = c->runs;
		bench_stats(c->ns, c->runs, &row->ns);
		bench_stats(c->mops, c->runs, &row->mops);
		if (!(c->path->flags & (BENCH_EXACT | BENCH_NO_COUNTER)) &&
		    c->op != BENCH_LOAD) {
			bench_stats(c->lost, c->runs, &lost);
			row->lost = lost.med;
		}
	}
	for (i = 0; i < skipped; i++) {
		row = bench_add_row(r);
		if (!row)
			goto nomem;
		*row = rows[i];
	}
	free(rows);
	bench_ratios(r);
	if (bench_check_floor(r, why, sizeof(why)))
		return report(EXIT_FAILED, CMD, NULL, "self-check failed: %s",
			      why);
	return EXIT_OK;
nomem:
	free(rows);
	return report(EXIT_FAILED, CMD, NULL, "no memory");
}

/* Outputs --------------------------------------------------------------- */

static int write_file(const char *name, const struct bench_result *r,
		      void (*write)(FILE *f, const struct bench_result *r))
{
	FILE *f = strcmp(name, "-") ? fopen(name, "w") : stdout;

	if (!f)
		return report(EXIT_FAILED, CMD, name, "%s", strerror(errno));
	write(f, r);
	if (f == stdout ? fflush(f) : fclose(f))
		return report(EXIT_FAILED, CMD, name, "%s", strerror(errno));
	return EXIT_OK;
}

static bool is_stdout(const char *name)
{
	return name && !strcmp(name, "-");
}

static int outputs(const struct bench_opts *o, const struct bench_result *r)
{
	int ret = EXIT_OK;

	if (!is_stdout(o->csv) && !is_stdout(o->json)) {
		bench_print_table(stdout, r);
		fflush(stdout);
	}
	if (o->csv)
		ret |= write_file(o->csv, r, bench_write_csv);
	if (o->json)
		ret |= write_file(o->json, r, bench_write_json);
	if (o->plot)
		ret |= bench_plot(r, o->plot);
	return ret ? EXIT_FAILED : EXIT_OK;
}

static int from_csv(const struct bench_opts *o)
{
	struct bench_result r;
	char why[160];
	FILE *f = fopen(o->from, "r");
	int ret;

	if (!f)
		return report(EXIT_FAILED, CMD, o->from, "%s", strerror(errno));
	ret = bench_read_csv(f, &r, why, sizeof(why));
	fclose(f);
	if (ret)
		return report(EXIT_FAILED, CMD, o->from, "%s", why);
	ret = outputs(o, &r);
	bench_free(&r);
	return ret;
}

static void describe(const struct bench_opts *o, struct bench_meta *m)
{
	struct utsname u;
	time_t now = time(NULL);

	if (o->machine)
		snprintf(m->machine, sizeof(m->machine), "%s", o->machine);
	else
		bench_machine(m->machine, sizeof(m->machine));
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	strftime(m->date, sizeof(m->date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	snprintf(m->commit, sizeof(m->commit), "%s", o->commit ? o->commit : "");
	m->cpus = crew_online_cpus();
	m->seconds = o->seconds;
	m->runs = o->runs;
	m->pin = o->cc.pin;
}

/* The run: the matrix, its rows, its outputs. */
static int bench_run_all(struct bench_opts *o)
{
	struct bench_result r = { 0 };
	struct bench_cell *cells = NULL;
	unsigned int nr = 0, i;
	bool kernel = false;
	int ret;

	describe(o, &r.meta);
	ret = make_cells(o, &cells, &nr, &r);
	if (!ret && !nr)
		ret = report(EXIT_USAGE, CMD, NULL,
			     "nothing to run: every cell chosen is skipped");
	for (i = 0; i < nr; i++)
		kernel |= cells[i].path->flags & BENCH_KERNEL;
	if (!ret && kernel) {
		ret = katomic_open(o->cc.device, &o->cc.dev);
		if (ret) {
			o->cc.dev = NULL;
			ret = report(EXIT_FAILED, CMD, NULL, "%s: %s (%s)%s",
				     o->cc.device ? o->cc.device : "/dev/katomic",
				     ret == -EPROTO ? "ABI version mismatch" :
				     strerror(-ret), katomic_errno_name(ret),
				     o->cc.open_hint ? o->cc.open_hint(ret) : "");
		}
	}
	if (!ret && o->cc.pin)
		ret = crew_pin_cpus(&o->cc);
	if (!ret) {
		crew_catch_signals();
		ret = run_matrix(o, cells, nr);
	}
	katomic_close(o->cc.dev);
	o->cc.dev = NULL;
	free(o->cc.cpus);
	if (crew_signal) {
		free(cells);
		bench_free(&r);
		crew_reraise(CMD, "counters undefined");
		return EXIT_FAILED;
	}
	if (!ret)
		ret = make_rows(cells, nr, &r);
	if (!ret)
		ret = outputs(o, &r);
	free(cells);
	bench_free(&r);
	return ret;
}

int bench_main(int argc, char **argv, const char *device,
	       const char *(*open_hint)(int err))
{
	unsigned int cpus = crew_online_cpus();
	struct bench_opts o = {
		.cc = {
			.name = CMD,
			.unit = "ops",
			.device = device,
			.open_hint = open_hint,
		},
		.seconds = DEFAULT_SECONDS,
		.runs = DEFAULT_RUNS,
		.threads = { 1, cpus },
		.nr_threads = cpus > 1 ? 2 : 1,
		.batches = { 1, 16, 256 },
		.nr_batches = 3,
		.paths = (1ULL << NR_PATHS) - 1,
		.ops = (1u << BENCH_NR_OPS) - 1,
		.places = (1u << BENCH_NR_PLACES) - 1,
	};
	bool help = false;
	int ret;

	ret = parse_options(&o, argc, argv, &help);
	if (ret)
		return ret;
	if (help) {
		bench_usage(stdout);
		return EXIT_OK;
	}
	if (o.from)
		return from_csv(&o);
	return bench_run_all(&o);
}
