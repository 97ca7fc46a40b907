// SPDX-License-Identifier: GPL-2.0
/*
 * katomic sync kinds: the counter kinds NONE, ATOMIC, SPINLOCK, MUTEX and
 * PERCPU (KATOMIC_FEAT_SYNC_KINDS) against the ABI's contract.
 *
 *  - kind (each kind x type): every op gives the model's result or
 *    -EOPNOTSUPP exactly as the ABI says (PERCPU: LOAD, STORE and ADD,
 *    whose result is 0); the ABI's checks of an op come before the
 *    kind's; a seeded random op sequence follows the model op by op;
 *    DEFINE's param, QUERY, -EEXIST and redefinition as another kind.
 *  - define: DEFINE's errno for a product of good and bad fields, against
 *    the module's order of checks (kt_define_errno); slot kinds refused.
 *  - locked (ATOMIC, SPINLOCK, MUTEX x type): T threads x N ADDs (each
 *    result a distinct new value) and CAS-loop increments end exactly at
 *    start + T*N, wrapping.
 *  - percpu (INT64, UINT64): T threads x N ADDs exact; threads pinned on
 *    the CPUs add; once they stop, LOAD on every CPU is the exact sum,
 *    per-CPU remainders included; extreme deltas wrap.
 *  - mutex: a process of 8 threads hammering a MUTEX counter dies of
 *    SIGKILL promptly and leaves the counter working and consistent with
 *    what it reported; a signal whose handler lacks SA_RESTART may end
 *    an op waiting for the lock with -EINTR, undone (the total is the
 *    successful ADDs exactly); with SA_RESTART no op returns -EINTR.
 *  - none (per type): NONE hammered with every op, with and without a
 *    delay, between two ATOMIC counters under ADDs: the neighbours end
 *    exact, NONE's value is one of its type, the id defines again; the
 *    delay is honoured; with it, concurrent ADDs lose updates.
 *
 * A kind other than ATOMIC is skipped without KATOMIC_FEAT_SYNC_KINDS
 * (errors_test checks that they are refused then).  Workers record what
 * they see, only the main thread asserts.  KATOMIC_THREADS (default 4, at
 * least 4) and KATOMIC_SYNC_ITERS (default 10000) set T and N;
 * KATOMIC_SEED (default 1) the random sequences, KATOMIC_MODEL_OPS
 * (default 2000) their length.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "katomic_test.h"

/* ids of this program: 128..159 */
#define KT_ID		128	/* the counter under test */
#define KT_SPARE	129	/* kept undefined */
#define KT_NONE_ID	141	/* none: NONE here, ATOMIC at 140 and 142 */

/* Most mismatches a test logs before it only counts them. */
#define KT_MAX_LOGGED	8

static unsigned int nthreads(void)
{
	return kt_env_ulong("KATOMIC_THREADS", 4, 4, KT_MAX_THREADS);
}

static unsigned long iters(void)
{
	return kt_env_ulong("KATOMIC_SYNC_ITERS", 10000, 1, 100000000);
}

/* Does a counter of this kind exist with these features? */
static bool kind_claimed(const struct katomic_info *info, __u8 sync)
{
	return kt_sync_resolve(sync) == KATOMIC_SYNC_ATOMIC ||
	       (info->features & KATOMIC_FEAT_SYNC_KINDS);
}

#define SKIP_UNCLAIMED(self, sync) do {					\
		if (!kind_claimed(&(self)->info, (sync))) {		\
			(self)->absent = true;				\
			SKIP(return, "KATOMIC_FEAT_SYNC_KINDS not claimed"); \
		}							\
	} while (0)

/* A skip in FIXTURE_SETUP does not stop the test body: this does. */
#define RETURN_IF_ABSENT() do { if (self->absent) return; } while (0)

/*
 * Call OP with o, which must fail with err, write nothing back and leave
 * the counter id (of type t) at want.  Returns false on a mismatch.
 */
static bool op_refused(struct __test_metadata *_metadata, int fd,
		       struct katomic_op *o, int err, __u32 id,
		       const struct kt_type *t, __u64 want, const char *what)
{
	struct katomic_op before;
	__u64 v = KT_POISON;
	int r, r_load;

	o->result = KT_POISON;
	o->applied = 0xa5;
	o->error = -12345;
	before = *o;
	r = kt_ioctl(fd, KATOMIC_IOC_OP, o);
	r_load = kt_load(fd, id, t->type, &v);
	if (r == err && !memcmp(&before, o, sizeof(*o)) && !r_load &&
	    v == want)
		return true;
	TH_LOG("%s %s(arg=%#llx, arg2=%#llx) %s: ret %d (want %d)%s; counter %#llx (want %#llx)",
	       t->name, kt_op_name(before.op), (unsigned long long)before.arg,
	       (unsigned long long)before.arg2, what, r, err,
	       memcmp(&before, o, sizeof(*o)) ? ", written back" : "",
	       (unsigned long long)v, (unsigned long long)want);
	return false;
}

/* ---- workers -------------------------------------------------------------- */

struct worker {
	struct kt_thread thr;		/* first: see kt_crew_start() */
	int fd;
	__u32 id;
	const struct kt_type *t;
	unsigned long iters;
	__u64 delta;			/* what each ADD adds */
	int cpu;			/* pin here first, if >= 0 */
	struct kt_adds *add;		/* add: the results to return */
	bool eintr_ok;			/* signals: -EINTR is an outcome */
	const unsigned int *stop;	/* none: stop once this is 2;
					 * signals: once it is not 0 */
	unsigned int *stopped;		/* none: count the neighbours done */
	__u64 seed;

	/* what the worker saw; read by the main thread after join */
	unsigned long tries;		/* signals: ADDs tried */
	unsigned long ok;		/* successful ops */
	unsigned long eintr;		/* -EINTR */
	unsigned long retries;		/* cas_loop: failed CASes */
	struct kt_record rec;		/* errors and wrong results */
	unsigned int done;		/* signals: the worker is through */
};

/* Pin the worker if asked; false (and an error recorded) if that fails. */
static bool worker_pin(struct worker *w)
{
	int r;

	if (w->cpu < 0)
		return true;
	r = kt_pin(w->cpu);
	if (r)
		kt_record_error(&w->rec, "pin", r);
	return !r;
}

/*
 * Point w[0..n) at counter id of type t, iters ops each (ADDs: of 1),
 * unpinned; the rest of each worker zero, what it saw included.
 */
static void aim_workers(struct worker *w, unsigned int n, int fd, __u32 id,
			const struct kt_type *t, unsigned long iters)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = fd;
		w[i].id = id;
		w[i].t = t;
		w[i].iters = iters;
		w[i].delta = 1;
		w[i].cpu = -1;
	}
}

/* Run n workers on fn and wait for them; they start together. */
static void run_workers(struct __test_metadata *_metadata, struct worker *w,
			unsigned int n, void *(*fn)(void *), const char *what)
{
	struct kt_crew crew;
	double t0 = kt_now();

	ASSERT_EQ(0, kt_crew_start(&crew, n, fn, w, sizeof(*w)));
	kt_crew_join(&crew);
	TH_LOG("%s: %u threads in %.2f s", what, n, kt_now() - t0);
}

/* The main thread's verdict on what the workers recorded. */
static void check_workers(struct __test_metadata *_metadata,
			  const struct worker *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		kt_record_check(_metadata, i, &w[i].rec);
}

/* ---- kind: every kind x type, single-threaded ------------------------------ */

FIXTURE(kind) {
	int fd;
	struct katomic_info info;
	struct kt_type t;	/* the variant's type, UINTPTR resolved */
	__u8 sync;
	bool absent;
	__u32 id;		/* a counter of the variant's kind and type */
	__u32 spare;		/* kept undefined */
};

#define KT_KIND_FIXTURE kind
KT_KIND_VARIANT_DECL
KT_KIND_VARIANTS(NONE)
KT_KIND_VARIANTS(ATOMIC)
KT_KIND_VARIANTS(SPINLOCK)
KT_KIND_VARIANTS(MUTEX)
KT_KIND_VARIANTS(PERCPU)
#undef KT_KIND_FIXTURE

FIXTURE_SETUP(kind)
{
	kt_setup_type(_metadata, &self->fd, &self->info, &self->t,
		      &variant->t);
	self->sync = variant->sync;
	self->id = KT_ID;
	self->spare = KT_SPARE;
	ASSERT_LT(self->spare, self->info.nr_counters);
	kt_undefine(self->fd, self->spare);
	SKIP_UNCLAIMED(self, self->sync);
	ASSERT_EQ(0, kt_redefine(self->fd, self->id, self->t.type, self->sync,
				 0));
}

FIXTURE_TEARDOWN(kind)
{
	kt_undefine(self->fd, self->id);
	kt_undefine(self->fd, self->spare);
	close(self->fd);
}

/*
 * Run op on the counter set to start, its out fields poisoned, and compare
 * with the kind's model: result, applied, error and the value left; or,
 * for an op the kind does not run, -EOPNOTSUPP, nothing written back and
 * the value unchanged.  Returns false, and logs the first few, on a
 * mismatch.
 */
static bool check_kind_op(struct __test_metadata *_metadata, int fd,
			  __u32 id, __u8 sync, const struct kt_type *t,
			  __u8 op, __u64 start, __u64 arg, __u64 arg2,
			  unsigned int *fails)
{
	struct kt_expect e;
	int want = kt_sync_model(sync, t, op, start, arg, arg2, &e);
	struct katomic_op o, before;
	__u64 value = KT_POISON;
	int r_store, r_op, r_load;
	bool ok;

	r_store = kt_store(fd, id, t->type, start);
	kt_op_init(&o, id, t->type, op, arg, arg2);
	o.result = KT_POISON;
	o.applied = 0xa5;
	o.error = -12345;
	before = o;
	r_op = kt_ioctl(fd, KATOMIC_IOC_OP, &o);
	r_load = kt_load(fd, id, t->type, &value);

	ok = !r_store && !r_load && r_op == want && value == e.value;
	if (want)
		ok = ok && !memcmp(&o, &before, sizeof(o));
	else
		ok = ok && o.result == e.result && o.applied == e.applied &&
		     o.error == 0;
	if (ok)
		return true;
	if (++*fails <= KT_MAX_LOGGED)
		TH_LOG("%s %s %s(start=%#llx, arg=%#llx, arg2=%#llx): ret %d/%d/%d result %#llx applied %u error %d value %#llx; want ret %d result %#llx applied %u value %#llx",
		       kt_sync_name(sync), t->name, kt_op_name(op),
		       (unsigned long long)start, (unsigned long long)arg,
		       (unsigned long long)arg2, r_store, r_op, r_load,
		       (unsigned long long)o.result, o.applied, o.error,
		       (unsigned long long)value, want,
		       (unsigned long long)e.result, e.applied,
		       (unsigned long long)e.value);
	return false;
}

/*
 * The op-support matrix: every op x interesting start values x
 * interesting operands (two-operand ops: one operand near the start, so
 * that both outcomes of their comparison occur).
 */
TEST_F_TIMEOUT(kind, ops, 120)
{
	const struct kt_type *t = &self->t;
	unsigned int n, i, a, b, o, fails = 0, runs = 0, refused = 0;
	__u64 vals[40];

	RETURN_IF_ABSENT();
	n = kt_interesting(t, vals, KT_ARRAY_SIZE(vals));
	ASSERT_LE(20, n);
	for (o = 0; o < KT_NR_OPS; o++) {
		const struct kt_opdesc *d = &kt_ops[o];

		refused += !kt_sync_runs(self->sync, d->op);
		for (i = 0; i < n; i++) {
			__u64 start = vals[i];
			__u64 near[] = {
				start, kt_canon(t, start + 1),
				kt_canon(t, start - 1),
			};

			for (a = 0; a < (d->operands ? n : 1); a++) {
				__u64 arg = d->operands ? vals[a] : 0;

				if (d->operands < 2) {
					check_kind_op(_metadata, self->fd,
						      self->id, self->sync, t,
						      d->op, start, arg, 0,
						      &fails);
					runs++;
					continue;
				}
				for (b = 0; b < KT_ARRAY_SIZE(near); b++) {
					check_kind_op(_metadata, self->fd,
						      self->id, self->sync, t,
						      d->op, start, arg,
						      near[b], &fails);
					check_kind_op(_metadata, self->fd,
						      self->id, self->sync, t,
						      d->op, start, near[b],
						      arg, &fails);
					runs += 2;
				}
			}
		}
	}
	TH_LOG("%s %s: %u op runs, %u of %u ops refused by the kind",
	       kt_sync_name(self->sync), t->name, runs, refused, KT_NR_OPS);
	if (fails)
		TH_LOG("%u of %u op runs differ from the model", fails, runs);
	EXPECT_EQ(0, fails);
	/* PERCPU runs LOAD, STORE and ADD, every other kind everything */
	EXPECT_EQ(kt_sync_resolve(self->sync) == KATOMIC_SYNC_PERCPU ?
		  KT_NR_OPS - 3 : 0, refused);
}

/*
 * The ABI's checks of an op come before the kind's: flags, reserved, an
 * unused operand, another type, an id out of range or undefined, a
 * read-only descriptor and (32-bit types) an operand out of range fail
 * every op as on ATOMIC, PERCPU's unsupported ones included, with
 * nothing written back and the counter unchanged.
 */
TEST_F(kind, checks_first)
{
	const struct kt_type *t = &self->t, *u;
	__u64 start = kt_canon(t, KT_V0), v = KT_POISON;
	struct katomic_op o;
	unsigned int i, fails = 0;
	int rofd;

	RETURN_IF_ABSENT();
	/* another type: the next row of the table */
	u = &kt_types[(kt_type_of(t->type) - kt_types + 1) % KT_NR_TYPES];
	ASSERT_EQ(0, kt_store(self->fd, self->id, t->type, start));
	rofd = open(KT_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rofd) TH_LOG("open %s O_RDONLY: %s", KT_DEV,
				  strerror(errno));

	for (i = 0; i < KT_NR_OPS; i++) {
		const struct kt_opdesc *d = &kt_ops[i];
		__u64 arg = d->operands >= 1 ? 1 : 0;
		__u64 arg2 = d->operands >= 2 ? 2 : 0;

#define REFUSED(fd_, err, what) do {					\
		if (!op_refused(_metadata, (fd_), &o, (err), self->id,	\
				t, start, (what)))			\
			fails++;					\
	} while (0)

		kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
		o.flags = 1;
		REFUSED(self->fd, -EINVAL, "with flags");
		kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
		o.reserved = 1;
		REFUSED(self->fd, -EINVAL, "with reserved");
		if (d->operands < 2) {
			kt_op_init(&o, self->id, t->type, d->op, arg, 1);
			REFUSED(self->fd, -EINVAL, "with an unused arg2");
		}
		kt_op_init(&o, self->id, u->type, d->op, arg, arg2);
		REFUSED(self->fd, -EINVAL, u->name);
		kt_op_init(&o, self->info.nr_counters, t->type, d->op, arg,
			   arg2);
		REFUSED(self->fd, -EINVAL, "on an id out of range");
		kt_op_init(&o, self->spare, t->type, d->op, arg, arg2);
		REFUSED(self->fd, -ENOENT, "on an undefined id");
		if (d->op != KATOMIC_OP_LOAD) {
			kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
			REFUSED(rofd, -EBADF, "on an O_RDONLY descriptor");
		}
		if (t->bits == 32 && d->operands) {
			kt_op_init(&o, self->id, t->type, d->op, 1ULL << 32,
				   arg2);
			REFUSED(self->fd, -EOVERFLOW, "operand out of range");
		}
#undef REFUSED
	}
	/* what a read-only descriptor may do, it does */
	EXPECT_EQ(0, kt_load(rofd, self->id, t->type, &v));
	EXPECT_EQ(start, v);
	close(rofd);
	EXPECT_EQ(0, fails);
}

/* An operand for the random sequence: often interesting, often near cur. */
static __u64 pick(const struct kt_type *t, __u64 cur, const __u64 *vals,
		  unsigned int n, __u64 *seed)
{
	switch (kt_rand(seed) % 5) {
	case 0:
	case 1:
		return vals[kt_rand(seed) % n];
	case 2:
		return cur;
	case 3:
		return kt_canon(t, cur + kt_rand(seed) % 5 - 2);
	default:
		return kt_canon(t, kt_rand(seed));
	}
}

/*
 * A seeded random sequence of ops with random operands, from a random
 * init, compared op by op with the kind's model (and the value after each
 * op): every kind but PERCPU is ATOMIC single-threaded, PERCPU its subset.
 */
TEST_F(kind, model)
{
	const struct kt_type *t = &self->t;
	unsigned long seed0 = kt_env_ulong("KATOMIC_SEED", 1, 0, ~0UL);
	unsigned long steps = kt_env_ulong("KATOMIC_MODEL_OPS", 2000, 1,
					   100000000);
	unsigned long k, refused = 0;
	__u64 seed = seed0, cur, vals[40], v;
	struct katomic_op o, before;
	unsigned int n;
	int r, r_load;

	RETURN_IF_ABSENT();
	/* a sequence of its own for each variant */
	seed ^= (__u64)self->sync << 40 | (__u64)t->type << 32;
	n = kt_interesting(t, vals, KT_ARRAY_SIZE(vals));
	cur = pick(t, 0, vals, n, &seed);
	ASSERT_EQ(0, kt_redefine(self->fd, self->id, t->type, self->sync,
				 cur));

	for (k = 0; k < steps; k++) {
		const struct kt_opdesc *d = &kt_ops[kt_rand(&seed) % KT_NR_OPS];
		__u64 arg = d->operands >= 1 ? pick(t, cur, vals, n, &seed) : 0;
		__u64 arg2 = d->operands >= 2 ? pick(t, cur, vals, n, &seed) : 0;
		struct kt_expect e;
		int want = kt_sync_model(self->sync, t, d->op, cur, arg, arg2,
					 &e);
		bool ok;

		kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
		o.result = KT_POISON;
		o.applied = 0xa5;
		o.error = -12345;
		before = o;
		r = kt_ioctl(self->fd, KATOMIC_IOC_OP, &o);
		v = KT_POISON;
		r_load = kt_load(self->fd, self->id, t->type, &v);
		ok = r == want && !r_load && v == e.value;
		if (want)
			ok = ok && !memcmp(&o, &before, sizeof(o));
		else
			ok = ok && o.result == e.result &&
			     o.applied == e.applied && !o.error;
		if (!ok) {
			TH_LOG("seed %lu, op %lu: %s %s %s(arg=%#llx, arg2=%#llx) on %#llx: ret %d result %#llx applied %u error %d, then %#llx (LOAD %d); want ret %d result %#llx applied %u, then %#llx",
			       seed0, k, kt_sync_name(self->sync), t->name,
			       d->name, (unsigned long long)arg,
			       (unsigned long long)arg2,
			       (unsigned long long)cur, r,
			       (unsigned long long)o.result, o.applied,
			       o.error, (unsigned long long)v, r_load, want,
			       (unsigned long long)e.result, e.applied,
			       (unsigned long long)e.value);
			break;
		}
		refused += want != 0;
		cur = e.value;
	}
	EXPECT_EQ(steps, k) TH_LOG("the sequence left the model");
	TH_LOG("seed %lu: %lu ops, %lu refused by the kind", seed0, k,
	       refused);
}

/*
 * DEFINE of this kind and type: the params it takes (NONE: a delay up to
 * KT_NONE_MAX_DELAY, the others 0) and QUERY reporting the type, the kind
 * and the param; init at the type's edges; -EEXIST on a defined id,
 * whatever kind is asked, after the checks that come before it; and the
 * id defined again as each kind, counting as that kind.
 */
TEST_F(kind, define_query)
{
	static const __u64 params[] = {
		0, 1, 999, KT_NONE_MAX_DELAY, KT_NONE_MAX_DELAY + 1,
		1ULL << 32, ~0ULL,
	};
	const struct kt_type *t = &self->t;
	struct katomic_define d, q, before;
	unsigned int i, j;
	__u64 v, r;
	int want, got;

	RETURN_IF_ABSENT();
	for (i = 0; i < KT_ARRAY_SIZE(params); i++) {
		for (j = 0; j < 2; j++) {
			__u64 init = j ? kt_max(t) : kt_min(t);

			memset(&d, 0, sizeof(d));
			d.id = self->spare;
			d.object = KATOMIC_OBJ_COUNTER;
			d.type = t->type;
			d.sync = self->sync;
			d.init = init;
			d.param = params[i];
			want = kt_define_errno(&d, &self->info, false);
			before = d;
			got = kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d);
			EXPECT_EQ(want, got)
				TH_LOG("%s %s param %#llx",
				       kt_sync_name(self->sync), t->name,
				       (unsigned long long)params[i]);
			EXPECT_EQ(0, memcmp(&before, &d, sizeof(d)));
			if (got) {
				EXPECT_EQ(-ENOENT,
					  kt_query(self->fd, self->spare, &q));
				continue;
			}
			/* the out fields go in poisoned */
			kt_query_poisoned(&q, self->spare);
			ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_QUERY, &q));
			EXPECT_EQ(self->spare, q.id);
			EXPECT_EQ(KATOMIC_OBJ_COUNTER, q.object);
			EXPECT_EQ(t->type, q.type);
			EXPECT_EQ(self->sync, q.sync);
			EXPECT_EQ(params[i], q.param);
			EXPECT_EQ(0, q.flags);
			EXPECT_EQ(0, q.reserved);
			v = KT_POISON;
			EXPECT_EQ(0, kt_load(self->fd, self->spare, t->type,
					     &v));
			EXPECT_EQ(init, v);
			ASSERT_EQ(0, kt_undefine(self->fd, self->spare));
		}
	}
	/* a defined id: -EEXIST, unless a check before that fails */
	ASSERT_EQ(0, kt_store(self->fd, self->id, t->type, 42));
	for (i = 0; i <= KATOMIC_SYNC_LAST + 1; i++) {
		memset(&d, 0, sizeof(d));
		d.id = self->id;
		d.object = KATOMIC_OBJ_COUNTER;
		d.type = t->type;
		d.sync = i;
		d.init = 7;
		want = kt_define_errno(&d, &self->info, true);
		EXPECT_EQ(want, kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d))
			TH_LOG("DEFINE of a defined id as %s",
			       kt_sync_name(i));
	}
	ASSERT_EQ(0, kt_query(self->fd, self->id, &q));
	EXPECT_EQ(self->sync, q.sync);
	EXPECT_EQ(t->type, q.type);
	ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
	EXPECT_EQ(42, v);

	/* the id again as every kind that takes the type, and counting */
	for (i = 0; i < KT_NR_SYNCS; i++) {
		__u8 s = kt_syncs[i].sync;

		if (!kt_sync_counter(s) || !kt_sync_takes(s, t->type) ||
		    !kind_claimed(&self->info, s))
			continue;
		ASSERT_EQ(0, kt_undefine(self->fd, self->id));
		ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, s, i))
			TH_LOG("as %s", kt_syncs[i].name);
		ASSERT_EQ(0, kt_query(self->fd, self->id, &q));
		EXPECT_EQ(kt_sync_resolve(s), q.sync);
		EXPECT_EQ(0, q.param);
		r = KT_POISON;
		ASSERT_EQ(0, kt_do(self->fd, self->id, t->type, KATOMIC_OP_ADD,
				   1, 0, &r, NULL));
		EXPECT_EQ(kt_sync_resolve(s) == KATOMIC_SYNC_PERCPU ? 0 : i + 1,
			  r) TH_LOG("ADD's result as %s", kt_syncs[i].name);
		ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
		EXPECT_EQ(i + 1, v) TH_LOG("as %s", kt_syncs[i].name);
	}
}

/* ---- define: the order of DEFINE's checks ---------------------------------- */

FIXTURE(define) {
	int fd;
	struct katomic_info info;
	__u32 busy;	/* defined as busy_sync, busy_param, INT64 */
	__u8 busy_sync;
	__u64 busy_param;
	__u32 spare;	/* kept undefined */
};

FIXTURE_SETUP(define)
{
	kt_setup_dev(_metadata, &self->fd, &self->info);
	self->busy = KT_ID;
	self->spare = KT_SPARE;
	ASSERT_LT(self->spare, self->info.nr_counters);
	kt_undefine(self->fd, self->spare);
	/* without the kinds, this runs on to check their refusal */
	if (self->info.features & KATOMIC_FEAT_SYNC_KINDS) {
		self->busy_sync = KATOMIC_SYNC_NONE;
		self->busy_param = 7;
	} else {
		self->busy_sync = KATOMIC_SYNC_ATOMIC;
	}
	kt_undefine(self->fd, self->busy);
	ASSERT_EQ(0, kt_define_param(self->fd, self->busy, KATOMIC_TYPE_INT64,
				     self->busy_sync, 3, self->busy_param));
}

FIXTURE_TEARDOWN(define)
{
	kt_undefine(self->fd, self->busy);
	kt_undefine(self->fd, self->spare);
	close(self->fd);
}

enum { DE_OK, DE_INVAL, DE_NOTSUPP, DE_OVERFLOW, DE_EXIST, DE_OTHER, DE_N };

static unsigned int errno_class(int r)
{
	switch (r) {
	case 0:
		return DE_OK;
	case -EINVAL:
		return DE_INVAL;
	case -EOPNOTSUPP:
		return DE_NOTSUPP;
	case -EOVERFLOW:
		return DE_OVERFLOW;
	case -EEXIST:
		return DE_EXIST;
	}
	return DE_OTHER;
}

/*
 * Every combination of: an undefined, a defined and an out-of-range id;
 * flags and reserved 0 or not; every type and two unknown ones; every
 * sync number and one past them; params 0, 1 and NONE's limit and one
 * past it; inits that fit every type or overflow some.  Each DEFINE must
 * give the errno of the first check it fails in the module's order
 * (kt_define_errno), write nothing back, and define only when it returns
 * 0, as asked.
 */
TEST_F(define, errno_order)
{
	const __u32 ids[] = { self->spare, self->busy, self->info.nr_counters };
	static const __u8 types[] = {
		KATOMIC_TYPE_INT32, KATOMIC_TYPE_INT64, KATOMIC_TYPE_UINT32,
		KATOMIC_TYPE_UINT64, KATOMIC_TYPE_UINTPTR, 0,
		KATOMIC_TYPE_LAST + 1,
	};
	static const __u64 params[] = {
		0, 1, KT_NONE_MAX_DELAY, KT_NONE_MAX_DELAY + 1,
	};
	static const __u64 inits[] = {
		0, 0x80000000ULL, 1ULL << 32, ~0ULL,
	};
	unsigned long got[DE_N] = { 0 }, runs = 0, fails = 0, written = 0;
	unsigned int a, b, c, e, f, g, h, k;
	struct katomic_define d, before, q;
	__u64 v;

	_Static_assert(KT_ARRAY_SIZE(kt_types) == 5, "types[] lists every type");
	for (a = 0; a < KT_ARRAY_SIZE(ids); a++)
	for (b = 0; b < 2; b++)
	for (c = 0; c < 2; c++)
	for (e = 0; e < KT_ARRAY_SIZE(types); e++)
	for (f = 0; f <= KATOMIC_SYNC_LAST + 1; f++)
	for (g = 0; g < KT_ARRAY_SIZE(params); g++)
	for (h = 0; h < KT_ARRAY_SIZE(inits); h++) {
		bool busy = ids[a] == self->busy;
		int want, r;

		memset(&d, 0, sizeof(d));
		d.id = ids[a];
		d.object = KATOMIC_OBJ_COUNTER;
		d.flags = b;
		d.reserved = c ? 1ULL << 40 : 0;
		d.type = types[e];
		d.sync = f;
		d.param = params[g];
		d.init = inits[h];
		want = kt_define_errno(&d, &self->info, busy);
		before = d;
		r = kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d);
		runs++;
		got[errno_class(r)]++;
		if (memcmp(&before, &d, sizeof(d)))
			written++;
		if (r != want && ++fails <= KT_MAX_LOGGED)
			TH_LOG("DEFINE id %u flags %u reserved %#llx type %u sync %u param %#llx init %#llx: %d, want %d",
			       d.id, d.flags, (unsigned long long)d.reserved,
			       d.type, d.sync, (unsigned long long)d.param,
			       (unsigned long long)d.init, r, want);
		if (r)
			continue;
		/* defined as asked */
		if (kt_query(self->fd, d.id, &q) || q.type != d.type ||
		    q.sync != kt_sync_resolve(d.sync) || q.param != d.param ||
		    kt_load(self->fd, d.id, d.type, &v) || v != d.init) {
			if (++fails <= KT_MAX_LOGGED)
				TH_LOG("DEFINE type %u sync %u param %#llx init %#llx: QUERY says type %u sync %u param %#llx",
				       d.type, d.sync,
				       (unsigned long long)d.param,
				       (unsigned long long)d.init, q.type,
				       q.sync, (unsigned long long)q.param);
		}
		EXPECT_EQ(0, kt_undefine(self->fd, d.id));
	}
	TH_LOG("%lu DEFINEs: %lu ok, %lu EINVAL, %lu EOPNOTSUPP, %lu EOVERFLOW, %lu EEXIST, %lu other",
	       runs, got[DE_OK], got[DE_INVAL], got[DE_NOTSUPP],
	       got[DE_OVERFLOW], got[DE_EXIST], got[DE_OTHER]);
	EXPECT_EQ(0, fails);
	EXPECT_EQ(0, written) TH_LOG("DEFINE wrote its argument back");
	/* every step of the order was reached */
	for (k = 0; k < DE_OTHER; k++)
		EXPECT_LT(0, got[k]) TH_LOG("errno class %u never seen", k);

	/* the defined id stood through it all, the spare stayed free */
	ASSERT_EQ(0, kt_query(self->fd, self->busy, &q));
	EXPECT_EQ(KATOMIC_TYPE_INT64, q.type);
	EXPECT_EQ(self->busy_sync, q.sync);
	EXPECT_EQ(self->busy_param, q.param);
	ASSERT_EQ(0, kt_load(self->fd, self->busy, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(3, v);
	EXPECT_EQ(-ENOENT, kt_query(self->fd, self->spare, &q));
}

/* RCU and SEQLOCK are slot kinds: a counter of any type refuses them. */
TEST_F(define, slot_kinds)
{
	static const __u8 slot[] = { KATOMIC_SYNC_RCU, KATOMIC_SYNC_SEQLOCK };
	const struct kt_type *t;
	struct katomic_define q;
	unsigned int i;

	kt_for_each_type(t) {
		for (i = 0; i < KT_ARRAY_SIZE(slot); i++) {
			EXPECT_EQ(-EOPNOTSUPP,
				  kt_define(self->fd, self->spare, t->type,
					    slot[i], 0))
				TH_LOG("%s %s", kt_sync_name(slot[i]),
				       t->name);
			EXPECT_EQ(-ENOENT,
				  kt_query(self->fd, self->spare, &q));
		}
	}
}

/*
 * ---- locked, percpu: threads on one counter ---------------------------------
 *
 * CREW_FIXTURE(name) declares a fixture whose T threads work on the
 * counter KT_ID of the variant's kind and type, with its variant, setup
 * (CPUs listed to pin threads on) and teardown; the caller adds the
 * variants.
 */
#define CREW_FIXTURE(name)						\
	FIXTURE(name) {							\
		int fd;							\
		struct katomic_info info;				\
		struct kt_type t;					\
		__u8 sync;						\
		bool absent;						\
		__u32 id;						\
		unsigned int n;						\
		unsigned long iters;					\
		int cpus[KT_MAX_THREADS];				\
		unsigned int ncpus;					\
		struct worker w[KT_MAX_THREADS];			\
	};								\
	KT_KIND_VARIANT_DECL_OF(name)					\
									\
	FIXTURE_SETUP(name)						\
	{								\
		kt_setup_type(_metadata, &self->fd, &self->info,	\
			      &self->t, &variant->t);			\
		self->sync = variant->sync;				\
		self->id = KT_ID;					\
		ASSERT_LT(self->id, self->info.nr_counters);		\
		self->n = nthreads();					\
		self->iters = iters();					\
		self->ncpus = kt_cpus(self->cpus, KT_MAX_THREADS);	\
		ASSERT_LT(0, self->ncpus);				\
		kt_undefine(self->fd, self->id);			\
		SKIP_UNCLAIMED(self, self->sync);			\
	}								\
									\
	FIXTURE_TEARDOWN(name)						\
	{								\
		kt_undefine(self->fd, self->id);			\
		close(self->fd);					\
	}

/* ---- locked: ATOMIC, SPINLOCK, MUTEX exact under threads -------------------- */

CREW_FIXTURE(locked)

#define KT_KIND_FIXTURE locked
KT_KIND_VARIANTS(ATOMIC)
KT_KIND_VARIANTS(SPINLOCK)
KT_KIND_VARIANTS(MUTEX)
#undef KT_KIND_FIXTURE

static void *add_worker(void *arg)
{
	struct worker *w = arg;

	if (kt_thread_go(&w->thr))
		w->ok = kt_adds_run(w->add, w->fd, w->id, w->iters, &w->rec);
	return NULL;
}

/*
 * T threads x N ADDs of 1, from below the maximum so that they wrap: the
 * counter ends at start + T*N, and the results are the T*N values in
 * between, each returned once (struct kt_adds).
 */
TEST_F_TIMEOUT(locked, add, 120)
{
	const struct kt_type *t = &self->t;
	struct kt_adds a;
	unsigned int i;

	RETURN_IF_ABSENT();
	ASSERT_EQ(0, kt_adds_init(&a, t, self->n * self->iters));
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, self->sync,
			       a.start));
	aim_workers(self->w, self->n, self->fd, self->id, t, self->iters);
	for (i = 0; i < self->n; i++)
		self->w[i].add = &a;
	run_workers(_metadata, self->w, self->n, add_worker,
		    kt_sync_name(self->sync));
	check_workers(_metadata, self->w, self->n);
	kt_adds_check(_metadata, &a, self->fd, self->id,
		      kt_sync_name(self->sync));
}

static void *cas_worker(void *arg)
{
	struct worker *w = arg;

	if (kt_thread_go(&w->thr))
		w->ok = kt_cas_inc_run(w->fd, w->id, w->t, w->iters, &w->rec,
				       &w->retries);
	return NULL;
}

/* T threads x N CAS-loop increments end at start + T*N, wrapping. */
TEST_F_TIMEOUT(locked, cas_loop, 120)
{
	const struct kt_type *t = &self->t;
	unsigned long span = self->n * self->iters, retries = 0;
	__u64 start = kt_cas_inc_start(t, span);
	unsigned int i;

	RETURN_IF_ABSENT();
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, self->sync,
			       start));
	aim_workers(self->w, self->n, self->fd, self->id, t, self->iters);
	run_workers(_metadata, self->w, self->n, cas_worker,
		    kt_sync_name(self->sync));
	check_workers(_metadata, self->w, self->n);
	for (i = 0; i < self->n; i++)
		retries += self->w[i].retries;
	TH_LOG("%s %s: %lu CAS retries", kt_sync_name(self->sync), t->name,
	       retries);

	kt_expect_counted(_metadata, self->fd, self->id, t, start, span,
			  kt_sync_name(self->sync));
}

/* ---- percpu ------------------------------------------------------------------ */

CREW_FIXTURE(percpu)

#define KT_KIND_FIXTURE percpu
KT_KIND_VARIANTS(PERCPU)
#undef KT_KIND_FIXTURE

/* ADDs of delta, each returning result 0 and applied 0. */
static void *percpu_worker(void *arg)
{
	struct worker *w = arg;
	unsigned long i;
	__u64 r;
	__u8 applied;

	if (!kt_thread_go(&w->thr) || !worker_pin(w))
		return NULL;
	for (i = 0; i < w->iters; i++) {
		int e;

		r = KT_POISON;
		applied = 0xa5;
		e = kt_do(w->fd, w->id, w->t->type, KATOMIC_OP_ADD, w->delta,
			  0, &r, &applied);
		if (e) {
			kt_record_error(&w->rec, "ADD", e);
			continue;
		}
		w->ok++;
		if (r || applied)
			kt_record_bad(&w->rec, "ADD returned result %#llx applied %u",
				      r, applied);
	}
	return NULL;
}

/* LOAD on each CPU in turn (the caller pinned there): all say want. */
static void load_everywhere(struct __test_metadata *_metadata,
			    FIXTURE_DATA(percpu) *self, __u64 want,
			    const char *when)
{
	unsigned int c;
	__u64 v;

	for (c = 0; c < self->ncpus; c++) {
		ASSERT_EQ(0, kt_pin(self->cpus[c]));
		v = KT_POISON;
		ASSERT_EQ(0, kt_load(self->fd, self->id, self->t.type, &v));
		EXPECT_EQ(want, v) TH_LOG("LOAD on CPU %d %s",
					  self->cpus[c], when);
	}
}

/* T threads x N ADDs of 1 from below the maximum: exact, wrapping. */
TEST_F_TIMEOUT(percpu, add, 120)
{
	const struct kt_type *t = &self->t;
	unsigned long span = self->n * self->iters;
	__u64 start = kt_adds_start(t, span);

	RETURN_IF_ABSENT();
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, self->sync,
			       start));
	aim_workers(self->w, self->n, self->fd, self->id, t, self->iters);
	run_workers(_metadata, self->w, self->n, percpu_worker, "percpu ADD");
	check_workers(_metadata, self->w, self->n);
	kt_expect_counted(_metadata, self->fd, self->id, t, start, span,
			  kt_sync_name(self->sync));
}

/*
 * Threads pinned round-robin on the CPUs add small deltas, some negative,
 * different counts each: per-CPU remainders are left behind.  Once they
 * stop, LOAD is the exact sum on every CPU.  Then each CPU adds a little
 * on its own (less than any per-CPU batch) and LOAD is still exact; a
 * STORE is seen exactly on every CPU.
 */
TEST_F_TIMEOUT(percpu, exact_after_writers, 120)
{
	const struct kt_type *t = &self->t;
	__u64 start = kt_canon(t, KT_V0), want = start, r;
	unsigned int i, c, k;

	RETURN_IF_ABSENT();
	TH_LOG("%u threads on %u CPUs", self->n, self->ncpus);
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, self->sync,
			       start));
	aim_workers(self->w, self->n, self->fd, self->id, t, 0);
	for (i = 0; i < self->n; i++) {
		struct worker *w = &self->w[i];

		/* +1, -2, +3, -4, ...: counts not multiples of a batch */
		w->delta = kt_canon(t, i % 2 ? -(__u64)(i + 1) : i + 1);
		w->iters = self->iters + 7 * i + 1;
		w->cpu = self->cpus[i % self->ncpus];
		want = kt_canon(t, want + w->delta * w->iters);
	}
	run_workers(_metadata, self->w, self->n, percpu_worker,
		    "pinned percpu ADDs");
	check_workers(_metadata, self->w, self->n);
	load_everywhere(_metadata, self, want, "after the writers");

	/* a remainder on each CPU, added from there */
	for (c = 0; c < self->ncpus; c++) {
		ASSERT_EQ(0, kt_pin(self->cpus[c]));
		for (k = 0; k < 3; k++) {
			ASSERT_EQ(0, kt_do(self->fd, self->id, t->type,
					   KATOMIC_OP_ADD, c + 1, 0, &r,
					   NULL));
			EXPECT_EQ(0, r);
			want = kt_canon(t, want + c + 1);
		}
	}
	load_everywhere(_metadata, self, want, "after per-CPU adds");

	/* STORE replaces the sum, remainders and all */
	ASSERT_EQ(0, kt_pin(self->cpus[0]));
	ASSERT_EQ(0, kt_store(self->fd, self->id, t->type, kt_max(t)));
	load_everywhere(_metadata, self, kt_max(t), "after a STORE");
	for (c = 0; c < self->ncpus; c++) {
		ASSERT_EQ(0, kt_pin(self->cpus[c]));
		ASSERT_EQ(0, kt_do(self->fd, self->id, t->type,
				   KATOMIC_OP_ADD, 1, 0, NULL, NULL));
	}
	load_everywhere(_metadata, self, kt_canon(t, kt_max(t) + self->ncpus),
			"after a STORE and an ADD on each CPU");
}

/*
 * ADDs of extreme deltas on one CPU, each after a STORE of 0 and a small
 * ADD that stays in that CPU's share (below any per-CPU batch): the sum
 * wraps modulo 2^64 as the ABI's arithmetic does, whatever the share and
 * the delta (a share plus a delta of exactly -2^63 included).
 */
TEST_F(percpu, edge_deltas)
{
	static const __u64 shares[] = { 0, 1, -1ULL, 31 };
	static const __u64 deltas[] = {
		0x8000000000000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000001ULL, 0x7ffffffffffffffeULL,
		0x4000000000000000ULL, 0xc000000000000000ULL,
		0x80000000ULL, 0xffffffffULL, 0x100000000ULL, -1ULL, 1,
	};
	const struct kt_type *t = &self->t;
	unsigned int i, j, fails = 0;
	__u64 v, want;

	RETURN_IF_ABSENT();
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type, self->sync, 0));
	ASSERT_EQ(0, kt_pin(self->cpus[0]));
	for (i = 0; i < KT_ARRAY_SIZE(shares); i++) {
		for (j = 0; j < KT_ARRAY_SIZE(deltas); j++) {
			ASSERT_EQ(0, kt_store(self->fd, self->id, t->type, 0));
			ASSERT_EQ(0, kt_do(self->fd, self->id, t->type,
					   KATOMIC_OP_ADD, shares[i], 0, NULL,
					   NULL));
			ASSERT_EQ(0, kt_do(self->fd, self->id, t->type,
					   KATOMIC_OP_ADD, deltas[j], 0, NULL,
					   NULL));
			v = KT_POISON;
			ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
			want = kt_canon(t, shares[i] + deltas[j]);
			if (v != want && ++fails <= KT_MAX_LOGGED)
				TH_LOG("%s: STORE 0, ADD %#llx, ADD %#llx: LOAD %#llx, want %#llx",
				       t->name, (unsigned long long)shares[i],
				       (unsigned long long)deltas[j],
				       (unsigned long long)v,
				       (unsigned long long)want);
		}
	}
	EXPECT_EQ(0, fails);
}

/* ---- mutex: signals ---------------------------------------------------------- */

FIXTURE(mutex) {
	int fd;
	struct katomic_info info;
	bool absent;
	__u32 id;	/* an INT64 MUTEX counter, value 0 */
	unsigned int n;
	unsigned long iters;
	struct worker w[KT_MAX_THREADS];
};

FIXTURE_SETUP(mutex)
{
	kt_setup_dev(_metadata, &self->fd, &self->info);
	self->id = KT_ID;
	ASSERT_LT(self->id, self->info.nr_counters);
	self->n = nthreads();
	self->iters = iters();
	kt_undefine(self->fd, self->id);
	SKIP_UNCLAIMED(self, KATOMIC_SYNC_MUTEX);
	ASSERT_EQ(0, kt_define(self->fd, self->id, KATOMIC_TYPE_INT64,
			       KATOMIC_SYNC_MUTEX, 0));
}

FIXTURE_TEARDOWN(mutex)
{
	kt_undefine(self->fd, self->id);
	close(self->fd);
}

#define KILL_THREADS	8

/* What the child of mutex.sigkill reports, in memory shared with it. */
struct kill_report {
	unsigned long ok[KILL_THREADS];	/* its successful ADDs */
	unsigned int running;		/* its threads that started */
	int err;			/* its first error */
};

struct kill_arg {
	int fd;
	__u32 id;
	unsigned int idx;
	struct kill_report *rep;
};

static void *kill_hammer(void *p)
{
	struct kill_arg *a = p;
	int r, zero;

	__atomic_fetch_add(&a->rep->running, 1, __ATOMIC_RELAXED);
	for (;;) {
		r = kt_do(a->fd, a->id, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1,
			  0, NULL, NULL);
		if (!r) {
			__atomic_fetch_add(&a->rep->ok[a->idx], 1,
					   __ATOMIC_RELAXED);
			continue;
		}
		zero = 0;
		__atomic_compare_exchange_n(&a->rep->err, &zero, r, false,
					    __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The child: KILL_THREADS threads ADD until it is killed. */
static void __attribute__((noreturn))
kill_child(__u32 id, struct kill_report *rep)
{
	struct kill_arg a[KILL_THREADS];
	pthread_t th;
	unsigned int i;
	int fd = kt_open();

	if (fd < 0) {
		rep->err = -errno;
		_exit(1);
	}
	for (i = 0; i < KILL_THREADS; i++) {
		a[i] = (struct kill_arg){ fd, id, i, rep };
		if (pthread_create(&th, NULL, kill_hammer, &a[i])) {
			rep->err = -EAGAIN;
			_exit(1);
		}
	}
	for (;;)
		pause();
}

static unsigned long kill_ok(struct kill_report *rep)
{
	unsigned long s = 0;
	unsigned int i;

	for (i = 0; i < KILL_THREADS; i++)
		s += __atomic_load_n(&rep->ok[i], __ATOMIC_RELAXED);
	return s;
}

/*
 * A child process with 8 threads hammering the MUTEX counter is killed
 * (SIGKILL) ~300 ms into it: it must be gone within 10 s, and the counter
 * must work on, holding at least the ADDs the child saw succeed and at
 * most one more per thread (an ADD done but not yet counted).
 */
TEST_F_TIMEOUT(mutex, sigkill, 60)
{
	struct kill_report *rep;
	unsigned long before_kill, ok;
	double t0, reaped_in;
	int status = 0;
	__u64 v = KT_POISON, r;
	__u8 applied;
	pid_t pid, w = 0;

	RETURN_IF_ABSENT();
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rep);
	memset(rep, 0, sizeof(*rep));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		kill_child(self->id, rep);

	/* all threads running and ADDing, then 300 ms more */
	t0 = kt_now();
	while (kt_now() - t0 < 10 &&
	       (__atomic_load_n(&rep->running, __ATOMIC_RELAXED) <
		KILL_THREADS || kill_ok(rep) < 100) &&
	       !__atomic_load_n(&rep->err, __ATOMIC_RELAXED))
		usleep(1000);
	usleep(300000);
	before_kill = kill_ok(rep);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	t0 = kt_now();
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 &&
	       kt_now() - t0 < 10)
		usleep(1000);
	reaped_in = kt_now() - t0;
	ASSERT_EQ(pid, w) TH_LOG("the child was not reaped within 10 s of SIGKILL");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(0, rep->err) TH_LOG("the child's first error: %s",
				      strerror(-rep->err));
	EXPECT_EQ(KILL_THREADS, rep->running);

	ok = kill_ok(rep);
	ASSERT_EQ(0, kt_load(self->fd, self->id, KATOMIC_TYPE_INT64, &v));
	TH_LOG("%u threads: %lu ADDs reported (%lu at the kill), counter %llu, reaped in %.3f s",
	       KILL_THREADS, ok, before_kill, (unsigned long long)v,
	       reaped_in);
	EXPECT_LT(0, ok);
	EXPECT_LE(ok, v);
	EXPECT_GE(ok + KILL_THREADS, v);

	/* the counter works on: its lock was not left taken */
	ASSERT_EQ(0, kt_do(self->fd, self->id, KATOMIC_TYPE_INT64,
			   KATOMIC_OP_ADD, 1, 0, &r, NULL));
	EXPECT_EQ(v + 1, r);
	ASSERT_EQ(0, kt_do(self->fd, self->id, KATOMIC_TYPE_INT64,
			   KATOMIC_OP_CAS, v + 1, 5, &r, &applied));
	EXPECT_EQ(1, applied);
	ASSERT_EQ(0, kt_load(self->fd, self->id, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(5, v);
	EXPECT_EQ(0, kt_undefine(self->fd, self->id));
	EXPECT_EQ(0, kt_define(self->fd, self->id, KATOMIC_TYPE_INT64,
			       KATOMIC_SYNC_MUTEX, 0));
	munmap(rep, sizeof(*rep));
}

static unsigned long signals_seen;

static void on_usr1(int sig)
{
	(void)sig;
	__atomic_fetch_add(&signals_seen, 1, __ATOMIC_RELAXED);
}

/*
 * ADDs of 1, iters of them and on until told to stop: each done (ok),
 * interrupted (-EINTR, if eintr_ok) or an error.
 */
static void *storm_worker(void *arg)
{
	struct worker *w = arg;

	if (kt_thread_go(&w->thr)) {
		for (; w->tries < w->iters ||
		       !__atomic_load_n(w->stop, __ATOMIC_RELAXED);
		     w->tries++) {
			int r = kt_do(w->fd, w->id, KATOMIC_TYPE_INT64,
				      KATOMIC_OP_ADD, 1, 0, NULL, NULL);

			if (!r)
				w->ok++;
			else if (r == -EINTR && w->eintr_ok)
				w->eintr++;
			else
				kt_record_error(&w->rec, "ADD", r);
		}
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Worker threads ADD to the MUTEX counter while the main thread sends
 * them SIGUSR1 over and over for STORM_SECS, its handler installed with
 * sa_flags: every op returns 0 or (without SA_RESTART) -EINTR, and the
 * counter ends at the number of ADDs that returned 0: an interrupted one
 * was not done.
 */
#define STORM_SECS	0.5

static void signal_storm(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mutex) *self, int sa_flags,
			 unsigned long *ok, unsigned long *eintr)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = sa_flags };
	unsigned long sent = 0, tries = 0;
	unsigned int i, busy, stop = 0;
	struct kt_crew crew;
	double t0;
	__u64 v = KT_POISON;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	__atomic_store_n(&signals_seen, 0, __ATOMIC_RELAXED);
	aim_workers(self->w, self->n, self->fd, self->id,
		    kt_type_of(KATOMIC_TYPE_INT64), self->iters);
	for (i = 0; i < self->n; i++) {
		self->w[i].eintr_ok = !(sa_flags & SA_RESTART);
		self->w[i].stop = &stop;
	}
	t0 = kt_now();
	ASSERT_EQ(0, kt_crew_start(&crew, self->n, storm_worker, self->w,
				   sizeof(self->w[0])));
	do {
		busy = 0;
		for (i = 0; i < self->n; i++) {
			if (__atomic_load_n(&self->w[i].done,
					    __ATOMIC_ACQUIRE))
				continue;
			busy++;
			if (!pthread_kill(crew.th[i], SIGUSR1))
				sent++;
		}
		usleep(50);
		if (kt_now() - t0 >= STORM_SECS)
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	} while (busy);
	kt_crew_join(&crew);
	signal(SIGUSR1, SIG_DFL);
	check_workers(_metadata, self->w, self->n);

	*ok = 0;
	*eintr = 0;
	for (i = 0; i < self->n; i++) {
		*ok += self->w[i].ok;
		*eintr += self->w[i].eintr;
		tries += self->w[i].tries;
	}
	TH_LOG("%u threads, %lu ADDs%s in %.2f s: %lu signals sent, %lu handled; %lu done, %lu EINTR",
	       self->n, tries,
	       sa_flags & SA_RESTART ? " (SA_RESTART)" : "", kt_now() - t0,
	       sent, __atomic_load_n(&signals_seen, __ATOMIC_RELAXED), *ok,
	       *eintr);
	EXPECT_LT(0, sent);
	ASSERT_EQ(0, kt_load(self->fd, self->id, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(*ok, v) TH_LOG("the counter is not the successful ADDs");
	EXPECT_EQ(tries, *ok + *eintr);
	EXPECT_LE(self->n * self->iters, tries);
}

TEST_F_TIMEOUT(mutex, sigusr1_eintr, 120)
{
	unsigned long ok, eintr;

	RETURN_IF_ABSENT();
	signal_storm(_metadata, self, 0, &ok, &eintr);
}

/* With SA_RESTART the interrupted wait restarts: no -EINTR, all done. */
TEST_F_TIMEOUT(mutex, sigusr1_restart, 120)
{
	unsigned long ok, eintr;

	RETURN_IF_ABSENT();
	signal_storm(_metadata, self, SA_RESTART, &ok, &eintr);
	EXPECT_EQ(0, eintr);
}

/* ---- none: racy, but harmless ------------------------------------------------- */

FIXTURE(none) {
	int fd;
	struct katomic_info info;
	struct kt_type t;
	bool absent;
	__u32 id;	/* the NONE counter; id - 1 and id + 1 ATOMIC */
	unsigned int n;
	unsigned long iters;
	int cpus[KT_MAX_THREADS];
	unsigned int ncpus;
	struct worker w[KT_MAX_THREADS + 2];
};

#define KT_TYPE_FIXTURE none
KT_TYPE_VARIANTS
#undef KT_TYPE_FIXTURE

FIXTURE_SETUP(none)
{
	kt_setup_type(_metadata, &self->fd, &self->info, &self->t,
		      &variant->t);
	self->id = KT_NONE_ID;
	ASSERT_LT(self->id + 1, self->info.nr_counters);
	self->n = nthreads();
	self->iters = iters();
	self->ncpus = kt_cpus(self->cpus, KT_MAX_THREADS);
	ASSERT_LT(0, self->ncpus);
	kt_undefine(self->fd, self->id - 1);
	kt_undefine(self->fd, self->id);
	kt_undefine(self->fd, self->id + 1);
	SKIP_UNCLAIMED(self, KATOMIC_SYNC_NONE);
}

FIXTURE_TEARDOWN(none)
{
	kt_undefine(self->fd, self->id - 1);
	kt_undefine(self->fd, self->id);
	kt_undefine(self->fd, self->id + 1);
	close(self->fd);
}

/*
 * Every op with interesting operands on the NONE counter, until the
 * neighbours are done (and at least 20 ops): each must succeed with a
 * result of the type and applied 0 or 1 (0 for ops without it).
 */
static void *none_worker(void *arg)
{
	struct worker *w = arg;
	const struct kt_type *t = w->t;
	unsigned long k;
	__u64 vals[40], r;
	unsigned int n = kt_interesting(t, vals, KT_ARRAY_SIZE(vals));
	__u8 applied;

	if (!kt_thread_go(&w->thr))
		return NULL;
	for (k = 0; k < 20 || __atomic_load_n(w->stop, __ATOMIC_RELAXED) < 2;
	     k++) {
		const struct kt_opdesc *d = &kt_ops[kt_rand(&w->seed) %
						    KT_NR_OPS];
		__u64 arg = d->operands >= 1 ? vals[kt_rand(&w->seed) % n] : 0;
		__u64 arg2 = d->operands >= 2 ? vals[kt_rand(&w->seed) % n] : 0;
		int e;

		r = KT_POISON;
		applied = 0xa5;
		e = kt_do(w->fd, w->id, t->type, d->op, arg, arg2, &r,
			  &applied);
		if (e) {
			kt_record_error(&w->rec, d->name, e);
			continue;
		}
		w->ok++;
		if (r != kt_canon(t, r) || applied > d->applied)
			kt_record_bad(&w->rec, "%s(%#llx, %#llx): result %#llx applied %u",
				      d->name, arg, arg2, r, applied);
	}
	return NULL;
}

/* ADDs of 1 to both neighbours, iters times; then count itself done. */
static void *neighbour_worker(void *arg)
{
	struct worker *w = arg;
	unsigned long i;
	int e;

	if (!kt_thread_go(&w->thr))
		return NULL;
	for (i = 0; i < w->iters; i++) {
		e = kt_do(w->fd, w->id - 1, w->t->type, KATOMIC_OP_ADD, 1, 0,
			  NULL, NULL);
		if (e)
			kt_record_error(&w->rec, "ADD below", e);
		e = kt_do(w->fd, w->id + 1, w->t->type, KATOMIC_OP_ADD, 1, 0,
			  NULL, NULL);
		if (e)
			kt_record_error(&w->rec, "ADD above", e);
		w->ok++;
	}
	__atomic_fetch_add(w->stopped, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *none_or_neighbour(void *arg)
{
	struct worker *w = arg;

	return w->stopped ? neighbour_worker(arg) : none_worker(arg);
}

/*
 * T threads run every op on the NONE counter, without a delay and with
 * one, while two threads ADD to the ATOMIC counters on either side of it:
 * the neighbours end exact; NONE's value is one of its type and QUERY
 * still describes it; it undefines and defines again, and then counts
 * single-threaded as the model says.
 */
TEST_F_TIMEOUT(none, neighbours, 120)
{
	static const __u64 delays[] = { 0, 10000 };
	const struct kt_type *t = &self->t;
	/* a quarter of N each: the NONE threads, with a delay, hog the CPUs */
	unsigned long adds = self->iters / 4 + 1;
	__u64 start = kt_canon(t, kt_max(t) - adds), v, r;
	unsigned int i, p, stopped;
	struct katomic_define q;
	unsigned long ops;

	RETURN_IF_ABSENT();
	for (p = 0; p < KT_ARRAY_SIZE(delays); p++) {
		ASSERT_EQ(0, kt_redefine(self->fd, self->id - 1, t->type,
					 KATOMIC_SYNC_ATOMIC, start));
		ASSERT_EQ(0, kt_redefine(self->fd, self->id + 1, t->type,
					 KATOMIC_SYNC_ATOMIC, start));
		kt_undefine(self->fd, self->id);
		ASSERT_EQ(0, kt_define_param(self->fd, self->id, t->type,
					     KATOMIC_SYNC_NONE,
					     kt_canon(t, KT_V1), delays[p]));
		stopped = 0;
		aim_workers(self->w, self->n + 2, self->fd, self->id, t, adds);
		for (i = 0; i < self->n + 2; i++) {
			struct worker *w = &self->w[i];

			w->seed = i + 1;
			/* NONE's stop once both neighbours' are done */
			w->stop = &stopped;
			/* the last two are the neighbours' */
			if (i >= self->n)
				w->stopped = &stopped;
		}
		run_workers(_metadata, self->w, self->n + 2,
			    none_or_neighbour, "NONE vs neighbours");
		check_workers(_metadata, self->w, self->n + 2);
		for (ops = 0, i = 0; i < self->n; i++)
			ops += self->w[i].ok;
		TH_LOG("%s, delay %llu ns: %lu ops on NONE, 2 x %lu ADDs on each neighbour",
		       t->name, (unsigned long long)delays[p], ops, adds);

		for (i = 0; i < 2; i++) {
			__u32 id = i ? self->id + 1 : self->id - 1;

			ASSERT_EQ(0, kt_load(self->fd, id, t->type, &v));
			EXPECT_EQ(kt_canon(t, start + 2 * adds), v)
				TH_LOG("the neighbour at id %u", id);
		}
		v = KT_POISON;
		ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
		EXPECT_EQ(kt_canon(t, v), v) TH_LOG("NONE holds %#llx",
						    (unsigned long long)v);
		ASSERT_EQ(0, kt_query(self->fd, self->id, &q));
		EXPECT_EQ(t->type, q.type);
		EXPECT_EQ(KATOMIC_SYNC_NONE, q.sync);
		EXPECT_EQ(delays[p], q.param);
	}

	/* it undefines, defines again and counts */
	ASSERT_EQ(0, kt_undefine(self->fd, self->id));
	EXPECT_EQ(-ENOENT, kt_load(self->fd, self->id, t->type, &v));
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type,
			       KATOMIC_SYNC_NONE, 5));
	ASSERT_EQ(0, kt_do(self->fd, self->id, t->type, KATOMIC_OP_ADD, 1, 0,
			   &r, NULL));
	EXPECT_EQ(6, r);
	ASSERT_EQ(0, kt_do(self->fd, self->id, t->type, KATOMIC_OP_SWAP, 9, 0,
			   &r, NULL));
	EXPECT_EQ(6, r);
	ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
	EXPECT_EQ(9, v);
}

/*
 * NONE's delay is spent on each op, on every CPU: pinned to each in turn,
 * 20 ADDs with a delay of 1 ms take 20 ms or more.  Per CPU, because a
 * delay loop would run at the rate of the CPU's own loops_per_jiffy, and
 * in this QEMU TCG guest the secondary CPU's calibration fails at many a
 * boot (BogoMIPS 3.5 to 995 against the boot CPU's 4190, taken from the
 * TSC): there udelay(1000) took 1 to 250 us.  The module waits on the
 * clock instead, so the whole delay is the bound.
 */
TEST_F(none, delay)
{
	const struct kt_type *t = &self->t;
	const unsigned int n = 20;
	unsigned int c, i;
	double t0, secs;
	__u64 v;

	RETURN_IF_ABSENT();
	ASSERT_EQ(0, kt_define_param(self->fd, self->id, t->type,
				     KATOMIC_SYNC_NONE, 0, KT_NONE_MAX_DELAY));
	for (c = 0; c < self->ncpus; c++) {
		ASSERT_EQ(0, kt_pin(self->cpus[c]));
		t0 = kt_now();
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, kt_do(self->fd, self->id, t->type,
					   KATOMIC_OP_ADD, 1, 0, NULL, NULL));
		secs = kt_now() - t0;
		TH_LOG("CPU %d: %u ADDs with a delay of %llu ns in %.1f ms",
		       self->cpus[c], n, KT_NONE_MAX_DELAY, secs * 1e3);
		EXPECT_LE(n * KT_NONE_MAX_DELAY / 1e9, secs)
			TH_LOG("CPU %d: the delay was not spent",
			       self->cpus[c]);
	}
	ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
	EXPECT_EQ(n * self->ncpus, v);
}

/* ADDs of 1 from a pinned thread (the NONE counter of lost_updates). */
static void *lossy_worker(void *arg)
{
	struct worker *w = arg;
	unsigned long i;
	int e;

	if (!kt_thread_go(&w->thr) || !worker_pin(w))
		return NULL;
	for (i = 0; i < w->iters; i++) {
		e = kt_do(w->fd, w->id, w->t->type, KATOMIC_OP_ADD, 1, 0, NULL,
			  NULL);
		if (e)
			kt_record_error(&w->rec, "ADD", e);
		else
			w->ok++;
	}
	return NULL;
}

/*
 * What NONE is for: with a delay between its load and its store, ADDs
 * from threads on different CPUs lose updates.  Rounds of 50 ADDs per
 * thread run until one loses (at most 10 s; the first does, as a rule);
 * no round ever ends above its expected total.
 */
TEST_F_TIMEOUT(none, lost_updates, 60)
{
	const struct kt_type *t = &self->t;
	unsigned long rounds = 0, lost = 0, total;
	double t0 = kt_now();
	unsigned int i, m;
	__u64 v;

	RETURN_IF_ABSENT();
	if (self->ncpus < 2)
		SKIP(return, "one CPU: NONE's ops do not overlap");
	m = self->n;
	ASSERT_EQ(0, kt_define_param(self->fd, self->id, t->type,
				     KATOMIC_SYNC_NONE, 0, 100000));
	while (!lost && kt_now() - t0 < 10) {
		ASSERT_EQ(0, kt_store(self->fd, self->id, t->type, 0));
		aim_workers(self->w, m, self->fd, self->id, t, 50);
		for (i = 0; i < m; i++)
			self->w[i].cpu = self->cpus[i % self->ncpus];
		run_workers(_metadata, self->w, m, lossy_worker,
			    "NONE ADDs, 100 us delay");
		check_workers(_metadata, self->w, m);
		ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
		total = 50 * m;
		ASSERT_LE(v, total) TH_LOG("round %lu: NONE counted %llu of %lu ADDs",
					   rounds, (unsigned long long)v,
					   total);
		ASSERT_LT(0, v);
		lost = total - v;
		rounds++;
	}
	TH_LOG("%s: %lu of %u x 50 ADDs lost in round %lu, %.2f s",
	       t->name, lost, m, rounds, kt_now() - t0);
	EXPECT_LT(0, lost) TH_LOG("no update lost in %lu rounds", rounds);
}

TEST_HARNESS_MAIN
