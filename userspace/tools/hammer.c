// SPDX-License-Identifier: GPL-2.0
/*
 * katomic hammer: N threads race on UINT64 counters of one target at a time
 * (a kernel counter of a sync kind, or a user-space twin's), start together
 * at a barrier, and the final values tell how many updates were lost.
 * kernel:mmap and kernel:mixed run on ATOMIC counters of a mapped private
 * context: threads add with their own C11 atomics on the mapped cells (all
 * of them, or half, the other half through ioctls): kernel and user
 * atomics on the same memory, and the total still exact.
 *
 * The threads are a crew (crew.h): each writes only its own cache lines
 * (its struct crew_worker and struct hammer_worker) and the counter under
 * test; the main thread stops them and does every check and every print.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crew.h"
#include "hammer.h"
#include "katomic.h"
#include "options.h"

#define CMD			"hammer"
#define MAX_OPS			1000000000000ULL	/* per thread */
#define MAX_DELAY_NS		1000000
#define DEFAULT_OPS		500000
#define DEFAULT_BATCH		16
#define MAX_BATCH		4096	/* the module's default max_batch */
/* With --seconds, the SWAP logs of all threads hold at most this many
 * values (8 bytes each, written once before the start); a full log stops
 * its thread. */
#define SWAP_LOG_MAX		(1ULL << 24)

#define usage_error(...)	report(EXIT_USAGE, CMD, NULL, __VA_ARGS__)
#define fail(target, ...)	report(EXIT_FAILED, CMD, target, __VA_ARGS__)

/* The counter kinds, in uapi order: all, kernel:all, user:all. */
static const unsigned int counter_syncs[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK,
	KATOMIC_SYNC_MUTEX, KATOMIC_SYNC_PERCPU,
};
static const struct crew_kinds counter_kinds = {
	counter_syncs, sizeof(counter_syncs) / sizeof(counter_syncs[0]),
	"counter kind", true,
};

/* A workload: what one op of a thread is. */
struct hammer_op {
	const char *name;
	crew_step_fn *step;
	unsigned int needs;	/* the katomic op beyond LOAD it needs */
};

enum { COUNTER_SHARED, COUNTER_PER_THREAD, COUNTER_ADJACENT };
static const char *const counter_names[] = {
	[COUNTER_SHARED] = "shared",
	[COUNTER_PER_THREAD] = "per-thread",
	[COUNTER_ADJACENT] = "adjacent",
};

/* How a kernel target's ops reach the module (--path). */
enum { PATH_IOCTL, PATH_BATCH, PATH_URING };
static const char *const path_names[] = {
	[PATH_IOCTL] = "ioctl",
	[PATH_BATCH] = "batch",
	[PATH_URING] = "uring",
};

/* The command's options; the crew's come first. */
struct hammer_opts {
	struct crew_cmd cc;
	uint64_t ops;		/* per thread; 0 with --seconds */
	const struct hammer_op *op;
	unsigned int counter;
	uint64_t delay;
	unsigned int path;
	uint64_t batch;		/* ops per batch ioctl or io_uring call */
};

/* One target's row. */
struct hammer_row {
	char target[CREW_TARGET_LEN];
	const char *unsupported;	/* why, or NULL */
	uint64_t expected, got;
	int64_t lost;
	double lost_share;
	struct hammer_rates rates;
	uint64_t retries;		/* cas-loop */
	struct hammer_swap_tally swap;	/* swap */
	bool mixed;			/* kernel:mixed: the halves' rates */
	struct hammer_rates ioctl_rates, mapped_rates;
};

/* A worker's own state (its crew_worker's arg): written by it only. */
struct hammer_worker {
	uint64_t retries;
	int error;			/* -errno of failed_op */
	unsigned int failed_op;
	/* set by the main thread before the run */
	unsigned int nr, nr_threads;
	bool mapped;			/* its ops go through the mapping */
	__u32 id;			/* the counter */
	uint64_t *log;			/* swap: what each SWAP returned */
	uint64_t log_len;
	/* --path batch, uring: a step is a group of up to group ops */
	unsigned int path, group;
	unsigned int op;		/* KATOMIC_OP_ADD or KATOMIC_OP_SWAP */
	uint64_t cap;			/* ops in all, or CREW_UNLIMITED */
	struct katomic_op *ops;		/* group of them */
	uint64_t ran;			/* ops that ran */
};

/* Arithmetic ---------------------------------------------------------- */

uint64_t hammer_token(unsigned int nr_threads, unsigned int t, uint64_t k)
{
	return k * nr_threads + t + 1;
}

/* Sets bit i; returns whether it was clear. */
static bool test_and_set(uint64_t *bits, uint64_t i)
{
	uint64_t mask = 1ULL << (i % 64);
	bool seen = bits[i / 64] & mask;

	bits[i / 64] |= mask;
	return !seen;
}

static void account_value(unsigned int nr_threads, const uint64_t *done,
			  uint64_t *seen, uint64_t v, uint64_t *zeros,
			  struct hammer_swap_tally *t)
{
	uint64_t i = v - 1;

	if (!v) {
		(*zeros)++;
		return;
	}
	if (i / nr_threads >= done[i % nr_threads]) {
		t->foreign++;
		return;
	}
	if (test_and_set(seen, i))
		t->got++;
	else
		t->duplicates++;
}

int hammer_swap_account(unsigned int nr_threads, const uint64_t *done,
			const uint64_t *const *logs, const uint64_t *finals,
			unsigned int nr_counters, struct hammer_swap_tally *t)
{
	uint64_t most = 0, zeros = 0, *seen;
	unsigned int i;

	*t = (struct hammer_swap_tally){ 0 };
	for (i = 0; i < nr_threads; i++)
		if (done[i] > most)
			most = done[i];
	/* token - 1 < nr_threads * most: one bit each */
	seen = calloc(most * nr_threads / 64 + 1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (i = 0; i < nr_threads; i++)
		for (uint64_t k = 0; k < done[i]; k++)
			account_value(nr_threads, done, seen, logs[i][k],
				      &zeros, t);
	for (i = 0; i < nr_counters; i++)
		account_value(nr_threads, done, seen, finals[i], &zeros, t);
	if (zeros > nr_counters)
		t->duplicates += zeros - nr_counters;
	free(seen);
	return 0;
}

uint64_t hammer_expected(uint64_t ops, unsigned int nr_threads,
			 const uint64_t *done)
{
	uint64_t sum = 0;
	unsigned int i;

	if (ops)
		return ops * nr_threads;
	for (i = 0; i < nr_threads; i++)
		sum += done[i];
	return sum;
}

double hammer_mixed_ratio(const struct hammer_rates *ioctl,
			  const struct hammer_rates *mapped)
{
	return ioctl->per_thread > 0 ? mapped->per_thread / ioctl->per_thread
				     : 0.0;
}

int64_t hammer_lost(uint64_t expected, uint64_t got)
{
	return (int64_t)(expected - got);
}

double hammer_lost_share(uint64_t expected, int64_t lost)
{
	return expected ? 100.0 * (double)lost / (double)expected : 0.0;
}

/* The workloads ------------------------------------------------------- */

static int run_op(struct crew_worker *cw, struct katomic_op *op)
{
	struct hammer_worker *w = cw->arg;
	int ret;

	op->id = w->id;
	op->type = KATOMIC_TYPE_UINT64;
	ret = w->mapped ? katomic_map_op(cw->k, op) : katomic_op(cw->k, op);
	if (ret < 0) {
		w->error = ret;
		w->failed_op = op->op;
	}
	return ret;
}

static int step_add(struct crew_worker *cw, uint64_t k)
{
	struct katomic_op op = { .op = KATOMIC_OP_ADD, .arg = 1 };

	(void)k;
	return run_op(cw, &op) < 0 ? -1 : 0;
}

/* LOAD, then CAS(old, old + 1) until it applies, retrying with the value
 * the failed CAS saw. */
static int step_cas_loop(struct crew_worker *cw, uint64_t k)
{
	struct katomic_op op = { .op = KATOMIC_OP_LOAD };
	struct hammer_worker *w = cw->arg;
	uint64_t old;
	int ret;

	(void)k;
	if (run_op(cw, &op) < 0)
		return -1;
	old = op.result;
	for (;;) {
		op = (struct katomic_op){ .op = KATOMIC_OP_CAS, .arg = old,
					  .arg2 = old + 1 };
		ret = run_op(cw, &op);
		if (ret < 0)
			return -1;
		if (ret)
			return 0;
		w->retries++;
		old = op.result;
	}
}

static int step_swap(struct crew_worker *cw, uint64_t k)
{
	struct hammer_worker *w = cw->arg;
	struct katomic_op op = {
		.op = KATOMIC_OP_SWAP,
		.arg = hammer_token(w->nr_threads, w->nr, k),
	};

	if (run_op(cw, &op) < 0)
		return -1;
	w->log[k] = op.result;
	return 0;
}

/*
 * --path batch or uring: step k is the group of ops k*B .. k*B+B-1 (fewer
 * at the end of the cap), ADD 1 or the SWAPs of those tokens, in one
 * katomic_batch or katomic_uring call.  ran counts the ops that ran.
 */
static int step_group(struct crew_worker *cw, uint64_t k)
{
	struct hammer_worker *w = cw->arg;
	uint64_t first = k * w->group;
	unsigned int n = w->group, done = 0, i;
	int ret;

	if (w->cap - first < n)
		n = w->cap - first;
	for (i = 0; i < n; i++)
		w->ops[i] = (struct katomic_op){
			.id = w->id, .type = KATOMIC_TYPE_UINT64, .op = w->op,
			.arg = w->op == KATOMIC_OP_SWAP ?
			       hammer_token(w->nr_threads, w->nr, first + i) : 1,
		};
	ret = w->path == PATH_URING ? katomic_uring(cw->k, w->ops, n, 0, &done)
				    : katomic_batch(cw->k, w->ops, n, 0, &done);
	w->ran += done;
	for (i = 0; i < done && !ret; i++)
		ret = w->ops[i].error;
	if (ret) {
		w->error = ret;
		w->failed_op = w->op;
		return -1;
	}
	if (w->op == KATOMIC_OP_SWAP)
		for (i = 0; i < n; i++)
			w->log[first + i] = w->ops[i].result;
	return 0;
}

static const struct hammer_op hammer_ops[] = {
	{ "add", step_add, KATOMIC_OP_ADD },
	{ "cas-loop", step_cas_loop, KATOMIC_OP_CAS },
	{ "swap", step_swap, KATOMIC_OP_SWAP },
};

/* Why a kind cannot run the workload, or NULL (the ABI's op matrix). */
static const char *unsupported(unsigned int sync, const struct hammer_op *op)
{
	if (sync == KATOMIC_SYNC_PERCPU && op->needs != KATOMIC_OP_ADD)
		return "percpu has load, store and add only";
	return NULL;
}

/* Usage --------------------------------------------------------------- */

void hammer_usage(FILE *f)
{
	fprintf(f,
"usage: katomic [--device PATH] hammer [--threads N] [--ops M | --seconds S]\n"
"         [--target T]... [--op add|cas-loop|swap]\n"
"         [--counter shared|per-thread|adjacent] [--delay NS] [--pin]\n"
"         [--path ioctl|batch|uring] [--batch B] [--json] [--id BASE]\n"
"\n"
"Races N threads on UINT64 counters, one target after another, and counts\n"
"the updates that were lost: i++ is load, add, store unless the counter's\n"
"sync kind makes it one indivisible step.  The threads start together at a\n"
"barrier.\n"
"\n"
"targets (--target T, repeatable, run in the order given; default all):\n"
"  kernel:KIND    counters of /dev/katomic (or --device PATH), global context;\n"
"                 each thread opens the device for itself\n"
"  user:KIND      counters of a fresh in-process twin (libkatomic)\n"
"  kernel:all, user:all   every KIND there, in the order below\n"
"  all            kernel:all, then user:all\n"
"KIND:");
	crew_print_kinds(f, &counter_kinds);
	fprintf(f, "\n"
"  kernel:mmap    ATOMIC counters of a private context made with\n"
"                 KATOMIC_CTX_MMAP and mapped: every thread runs its ops with\n"
"                 its own C11 atomics on the mapped cells (libkatomic's\n"
"                 katomic_map_op), the kernel's counters all the same\n"
"  kernel:mixed   the same context, half the threads (the first N/2) through\n"
"                 ioctls (or --path), the others through the mapping, on the\n"
"                 same counters: kernel and user atomics on one cache line;\n"
"                 needs --threads 2 or more.  Its row is followed by a line\n"
"                 with each half's ops/s/thread and their ratio.\n"
"                 Neither is in all or kernel:all; --id does not apply (the\n"
"                 context is the target's own).\n"
"\n"
"options:\n"
"  --threads N    worker threads, 1..%d (default: the online CPUs, at least 2)\n"
"  --ops M        ops per thread, 1..%llu (default %d)\n"
"  --seconds S    run each target for S seconds (decimal, up to %.0f) instead\n"
"                 of a number of ops; not together with --ops\n"
"  --op OP        add: ADD 1 (default)\n"
"                 cas-loop: LOAD, then CAS(old, old+1) until it applies; a\n"
"                   failed CAS is a retry with the value it saw\n"
"                 swap: thread t's k-th SWAP stores the token k*N+t+1; every\n"
"                   token must come back exactly once, returned by a SWAP or\n"
"                   as a final value.  Every value returned is kept (the\n"
"                   log is written once before the start): with --seconds,\n"
"                   %llu in all at most, and a thread whose share is\n"
"                   full stops (a note says so)\n"
"  --counter C    shared: one counter for all threads (default)\n"
"                 per-thread: one counter per thread, each on its own cache\n"
"                   line\n"
"                 adjacent: one counter per thread, the values 8 bytes apart\n"
"                   in one cache line (false sharing).  Kernel counters always\n"
"                   have a cache line each, so for kernel targets adjacent\n"
"                   measures the same as per-thread.\n"
"  --delay NS     none counters wait NS ns between their load and their store\n"
"                 (define's param, 0..%d, default 0); other kinds ignore it\n"
"  --path P       how kernel targets reach the module: ioctl, one\n"
"                 KATOMIC_IOC_OP per op (default); batch, one KATOMIC_IOC_BATCH\n"
"                 per B ops; uring, B io_uring commands per submission on a\n"
"                 ring of each thread's own.  Not with --op cas-loop (each\n"
"                 CAS needs the value the last one saw).  User targets\n"
"                 ignore it: a twin's ops are function calls\n"
"  --batch B      ops per batch or submission, 1..%d (default %d)\n"
"  --pin          pin thread i to the i-th CPU of the process's affinity\n"
"                 mask, round-robin\n"
"  --json         print one JSON document instead of the table\n"
"  --id BASE      kernel targets use the first free counter ids from BASE\n"
"                 (default 0); they are defined for the target and undefined\n"
"                 after it, on errors and on SIGINT/SIGTERM too\n"
"  -h, --help     this text\n"
"\n"
"On stdout, a line of the parameters, a header, then a row per target:\n"
"  expected  increments (add, cas-loop) or tokens stored (swap): N*M with\n"
"            --ops, the ops the threads completed with --seconds\n"
"  got       the final value (per-thread, adjacent: the counters' sum); swap:\n"
"            the distinct tokens returned or left in a counter\n"
"  lost      expected - got, and lost%% its share of expected\n"
"  ops/s/thread  the mean of the threads' own rates\n"
"  ops/s     all ops over seconds; a cas-loop increment counts once,\n"
"            whatever its retries\n"
"  seconds   from the barrier's release to the last thread's finish\n"
"  retries   cas-loop: CASes that found another value\n"
"  dups      swap: values returned more than once (0: more than once per\n"
"            counter); JSON's duplicates\n"
"  foreign   swap: values returned that no thread stored\n"
"A kind that lacks the op (percpu has load, store and add only) gets an\n"
"'unsupported' row and the other targets still run.  While a target runs\n"
"longer than a second, a progress line goes to stderr if it is a terminal.\n"
"SIGINT or SIGTERM stops the threads; the counters are released and katomic\n"
"dies of the signal (the rows printed stand; --json prints nothing).\n"
"\n"
"--json prints {\"threads\", \"ops\" (null with --seconds), \"seconds\" (null\n"
"with --ops), \"op\", \"counter\", \"delay\", \"path\", \"batch\", \"pin\", \"id\", \"results\": [{\"target\",\n"
"\"supported\", then \"expected\", \"got\", \"lost\", \"lost_share\" (%%),\n"
"\"ops_per_s_thread\", \"ops_per_s\", \"seconds\", \"retries\" (cas-loop),\n"
"\"duplicates\", \"foreign\" (swap), or \"reason\" if not supported}]}.\n"
"\n"
"Exit status: 0 ok (lost updates are results), 1 an operation failed,\n"
"2 usage error.\n",
		CREW_MAX_THREADS, (unsigned long long)MAX_OPS, DEFAULT_OPS,
		CREW_MAX_SECONDS, (unsigned long long)SWAP_LOG_MAX, MAX_DELAY_NS,
		MAX_BATCH, DEFAULT_BATCH);
}

/* Options ------------------------------------------------------------- */

static int parse_op(struct hammer_opts *o, const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(hammer_ops) / sizeof(hammer_ops[0]); i++) {
		if (!strcmp(s, hammer_ops[i].name)) {
			o->op = &hammer_ops[i];
			return EXIT_OK;
		}
	}
	return usage_error("--op '%s' is not add, cas-loop or swap", s);
}

static int parse_counter(struct hammer_opts *o, const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(counter_names) / sizeof(counter_names[0]); i++) {
		if (!strcmp(s, counter_names[i])) {
			o->counter = i;
			return EXIT_OK;
		}
	}
	return usage_error("--counter '%s' is not shared, per-thread or adjacent",
			   s);
}

/* The hammer's own options, in the order of set_option()'s switch. */
enum { OPT_OPS, OPT_OP, OPT_COUNTER, OPT_DELAY, OPT_PATH, OPT_BATCH,
       NR_OPTS };
static const struct option_spec options[NR_OPTS] = {
	{ "--ops", true }, { "--op", true }, { "--counter", true },
	{ "--delay", true }, { "--path", true }, { "--batch", true },
};

static int parse_path(struct hammer_opts *o, const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(path_names) / sizeof(path_names[0]); i++) {
		if (!strcmp(s, path_names[i])) {
			o->path = i;
			return EXIT_OK;
		}
	}
	return usage_error("--path '%s' is not ioctl, batch or uring", s);
}

static int set_option(struct crew_cmd *cc, int opt, const char *v)
{
	struct hammer_opts *o = cc->arg;
	const char *name = options[opt].name;

	switch (opt) {
	case OPT_OPS:
		return option_uint(CMD, name, v, 1, MAX_OPS, &o->ops);
	case OPT_OP:
		return parse_op(o, v);
	case OPT_COUNTER:
		return parse_counter(o, v);
	case OPT_PATH:
		return parse_path(o, v);
	case OPT_BATCH:
		return option_uint(CMD, name, v, 1, MAX_BATCH, &o->batch);
	default:
		return option_uint(CMD, name, v, 0, MAX_DELAY_NS, &o->delay);
	}
}

/* The run ------------------------------------------------------------- */

/* Fault the log in now: no page fault in the timed loop. */
static void fault_log_in(struct crew_worker *cw)
{
	struct hammer_worker *w = cw->arg;

	memset(w->log, 0, w->log_len * sizeof(*w->log));
}

/* The counters for target t: a twin's, or free ids of the device. */
static int claim_counters(struct crew_claim *c, const struct hammer_opts *o,
			  const struct crew_target *t, const char *target)
{
	struct katomic_define d = {
		.type = KATOMIC_TYPE_UINT64,
		.sync = t->sync,
		.param = t->sync == KATOMIC_SYNC_NONE ? o->delay : 0,
	};
	char kind[48];
	int ret;

	c->object = KATOMIC_OBJ_COUNTER;
	c->twin = !t->kernel;
	c->nr = o->counter == COUNTER_SHARED ? 1 : o->cc.nr_threads;
	c->k = o->cc.dev;
	if (t->access != CREW_ACCESS_IOCTL) {
		ret = crew_claim_mapped(c, o->cc.dev, CMD, target);
		if (ret)
			return ret;
	}
	if (c->twin) {
		ret = katomic_twin_new2(c->nr,
					o->counter == COUNTER_ADJACENT ?
					KATOMIC_TWIN_PACKED : 0, &c->k);
		if (ret) {
			c->k = NULL;
			return fail(target, "twin of %u counters: %s (%s)",
				    c->nr, strerror(-ret),
				    katomic_errno_name(ret));
		}
	}
	ret = crew_claim_ids(c, o->cc.id_base, CMD, target);
	snprintf(kind, sizeof(kind), "%s uint64 counters",
		 katomic_sync_name(t->sync));
	return ret ? ret : crew_define(c, d, kind, CMD, target);
}

/* The final values of the counters, and got: their sum. */
static int load_finals(struct crew_claim *c, uint64_t *finals,
		       uint64_t *got, const char *target)
{
	unsigned int i;
	int ret;

	*got = 0;
	for (i = 0; i < c->nr; i++) {
		ret = katomic_load_uint64(c->k, c->ids[i], &finals[i]);
		if (ret < 0)
			return crew_fail_object(CMD, target, "load",
						c->object, c->ids[i], ret);
		*got += finals[i];
	}
	return EXIT_OK;
}

/*
 * Whether worker i of n goes through the mapping: all of kernel:mmap's,
 * the second half of kernel:mixed's.
 */
static bool worker_mapped(enum crew_access access, unsigned int i,
			  unsigned int n)
{
	return access == CREW_ACCESS_MMAP ||
	       (access == CREW_ACCESS_MIXED && i >= n / 2);
}

/* Each worker's state: its counter, its path, its swap log. */
static int prepare_workers(const struct hammer_opts *o, struct crew *crew,
			   const struct crew_claim *c,
			   const struct crew_target *t, uint64_t cap,
			   const char *target)
{
	bool swap = o->op->step == step_swap, grouped;
	struct hammer_worker *w;
	unsigned int i;

	for (i = 0; i < crew->nr; i++) {
		w = crew->w[i].arg;
		w->nr = i;
		w->nr_threads = crew->nr;
		w->mapped = worker_mapped(t->access, i, crew->nr);
		/* a mapped op is a function call: no batches */
		grouped = !c->twin && !w->mapped && o->path != PATH_IOCTL;
		w->id = c->ids[c->nr == 1 ? 0 : i];
		if (grouped) {
			w->path = o->path;
			w->group = o->batch;
			w->op = swap ? KATOMIC_OP_SWAP : KATOMIC_OP_ADD;
			w->cap = cap;
			w->ops = calloc(o->batch, sizeof(*w->ops));
			if (!w->ops)
				return fail(target, "no memory for the ops of a batch");
		}
		if (swap) {
			w->log_len = cap;
			w->log = malloc(cap * sizeof(*w->log));
			if (!w->log)
				return fail(target, "no memory for the swap log (%llu MiB per thread)",
					    (unsigned long long)(cap * 8 >> 20));
			crew->w[i].ready = fault_log_in;
		}
		crew->w[i].step = grouped ? step_group : o->op->step;
		/* groups: the last one may be short */
		crew->w[i].limit = !grouped || cap == CREW_UNLIMITED ? cap :
				   cap / o->batch + !!(cap % o->batch);
		crew->w[i].counted = true;
	}
	return EXIT_OK;
}

/* The row of a finished run. */
static int account_run(const struct hammer_opts *o, struct crew *crew,
		       struct crew_claim *c, uint64_t cap, const char *target,
		       struct hammer_row *row)
{
	unsigned int n = crew->nr, i;
	const struct hammer_worker *w;
	uint64_t *done, *finals;
	struct timespec *start, *end;
	const uint64_t **logs;
	bool swap = o->op->step == step_swap, full = false;
	int ret = EXIT_FAILED;

	done = calloc(n, sizeof(*done));
	logs = calloc(n, sizeof(*logs));
	finals = calloc(c->nr, sizeof(*finals));
	start = calloc(n, sizeof(*start));
	end = calloc(n, sizeof(*end));
	if (!done || !logs || !finals || !start || !end) {
		fail(target, "no memory for %u threads", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		w = crew->w[i].arg;
		if (w->error) {
			crew_fail_object(CMD, target,
					 katomic_op_name(w->failed_op),
					 c->object, w->id, w->error);
			goto out;
		}
		/* a group's ops count one by one */
		done[i] = w->ops ? w->ran : crew->w[i].done;
		start[i] = crew->w[i].start;
		end[i] = crew->w[i].end;
		logs[i] = w->log;
		row->retries += w->retries;
		full |= done[i] == cap && !o->ops;
	}
	if (load_finals(c, finals, &row->got, target))
		goto out;
	row->expected = hammer_expected(o->ops, n, done);
	if (swap) {
		if (hammer_swap_account(n, done, logs, finals, c->nr,
					&row->swap)) {
			fail(target, "no memory for the swap accounting");
			goto out;
		}
		row->got = row->swap.got;
		if (full)
			fail(target, "note: the swap log is full after %llu swaps per thread; the threads stopped there",
			     (unsigned long long)cap);
	}
	row->lost = hammer_lost(row->expected, row->got);
	row->lost_share = hammer_lost_share(row->expected, row->lost);
	hammer_rates(n, done, start, end, &row->rates);
	if (row->mixed) {
		/* the ioctl half first, then the mapped half */
		hammer_rates(n / 2, done, start, end, &row->ioctl_rates);
		hammer_rates(n - n / 2, done + n / 2, start + n / 2,
			     end + n / 2, &row->mapped_rates);
	}
	ret = EXIT_OK;
out:
	free(end);
	free(start);
	free(finals);
	free(logs);
	free(done);
	return ret;
}

/* Runs the threads on the counters of c and fills the row. */
static int run_counters(const struct hammer_opts *o, struct crew_claim *c,
			const struct crew_target *t, const char *target,
			struct hammer_row *row)
{
	unsigned int n = o->cc.nr_threads, i;
	struct crew *crew = NULL;
	uint64_t cap = o->ops;
	int ret;

	if (!cap)
		cap = o->op->step == step_swap ? SWAP_LOG_MAX / n :
		      CREW_UNLIMITED;
	if (crew_init(&crew, n, sizeof(struct hammer_worker)))
		return fail(target, "no memory for %u threads", n);
	ret = crew_handles(&o->cc, crew, c, target);
	if (!ret)
		ret = prepare_workers(o, crew, c, t, cap, target);
	if (!ret)
		ret = crew_run(&o->cc, crew, target);
	if (!ret && !crew_signal)
		ret = account_run(o, crew, c, cap, target, row);
	for (i = 0; i < n; i++) {
		free(((struct hammer_worker *)crew->w[i].arg)->log);
		free(((struct hammer_worker *)crew->w[i].arg)->ops);
	}
	crew_fini(crew);
	return ret;
}

static int run_target(struct crew_cmd *cc, const struct crew_target *t,
		      const char *target, void *arg)
{
	const struct hammer_opts *o = cc->arg;
	struct hammer_row *row = arg;
	struct crew_claim c = { 0 };
	int ret;

	row->unsupported = unsupported(t->sync, o->op);
	if (row->unsupported)
		return EXIT_OK;
	row->mixed = t->access == CREW_ACCESS_MIXED;
	ret = claim_counters(&c, o, t, target);
	if (!ret && !crew_signal)
		ret = run_counters(o, &c, t, target, row);
	return crew_release(&c, CMD, target) ? EXIT_FAILED : ret;
}

/* Output -------------------------------------------------------------- */

static void print_header(const struct crew_cmd *cc)
{
	const struct hammer_opts *o = cc->arg;

	if (o->ops)
		printf("hammer: %u threads x %llu ops, op %s, counter %s",
		       cc->nr_threads, (unsigned long long)o->ops, o->op->name,
		       counter_names[o->counter]);
	else
		printf("hammer: %u threads x %g s, op %s, counter %s",
		       cc->nr_threads, cc->seconds, o->op->name,
		       counter_names[o->counter]);
	if (o->delay)
		printf(", none delay %llu ns", (unsigned long long)o->delay);
	if (o->path != PATH_IOCTL)
		printf(", kernel path %s, B %llu", path_names[o->path],
		       (unsigned long long)o->batch);
	printf("%s\n", cc->pin ? ", pinned" : "");
	printf("%-16s %14s %14s %14s %8s %13s %13s %8s", "target", "expected",
	       "got", "lost", "lost%", "ops/s/thread", "ops/s", "seconds");
	if (o->op->step == step_cas_loop)
		printf(" %14s", "retries");
	if (o->op->step == step_swap)
		printf(" %10s %10s", "dups", "foreign");
	putchar('\n');
}

/* A row of the table, printed as soon as its target has run. */
static void print_row(const struct crew_cmd *cc, const void *arg)
{
	const struct hammer_opts *o = cc->arg;
	const struct hammer_row *r = arg;

	if (r->unsupported) {
		printf("%-16s unsupported: %s\n", r->target, r->unsupported);
		return;
	}
	printf("%-16s %14llu %14llu %14lld %7.2f%% %13.0f %13.0f %8.3f",
	       r->target, (unsigned long long)r->expected,
	       (unsigned long long)r->got, (long long)r->lost, r->lost_share,
	       r->rates.per_thread, r->rates.total, r->rates.seconds);
	if (o->op->step == step_cas_loop)
		printf(" %14llu", (unsigned long long)r->retries);
	if (o->op->step == step_swap)
		printf(" %10llu %10llu", (unsigned long long)r->swap.duplicates,
		       (unsigned long long)r->swap.foreign);
	putchar('\n');
	if (r->mixed)
		printf("  mixed: ioctl %.0f ops/s/thread, mmap %.0f ops/s/thread, mmap/ioctl %.1fx\n",
		       r->ioctl_rates.per_thread, r->mapped_rates.per_thread,
		       hammer_mixed_ratio(&r->ioctl_rates, &r->mapped_rates));
}

static void json_params(const struct crew_cmd *cc)
{
	const struct hammer_opts *o = cc->arg;

	if (o->ops) {
		printf("\"ops\": %llu, \"seconds\": null, ",
		       (unsigned long long)o->ops);
	} else {
		printf("\"ops\": null, \"seconds\": ");
		crew_json_double(cc->seconds);
		printf(", ");
	}
	printf("\"op\": ");
	crew_json_string(o->op->name);
	printf(", \"counter\": ");
	crew_json_string(counter_names[o->counter]);
	printf(", \"delay\": %llu, \"path\": ", (unsigned long long)o->delay);
	crew_json_string(path_names[o->path]);
	printf(", \"batch\": %llu, ", (unsigned long long)o->batch);
}

static void json_row(const struct crew_cmd *cc, const void *arg)
{
	const struct hammer_opts *o = cc->arg;
	const struct hammer_row *r = arg;

	if (r->unsupported) {
		printf(", \"supported\": false, \"reason\": ");
		crew_json_string(r->unsupported);
		return;
	}
	printf(", \"supported\": true, \"expected\": %llu, \"got\": %llu, \"lost\": %lld, \"lost_share\": %.6f, \"ops_per_s_thread\": %.3f, \"ops_per_s\": %.3f, \"seconds\": %.9f",
	       (unsigned long long)r->expected, (unsigned long long)r->got,
	       (long long)r->lost, r->lost_share, r->rates.per_thread,
	       r->rates.total, r->rates.seconds);
	if (o->op->step == step_cas_loop)
		printf(", \"retries\": %llu", (unsigned long long)r->retries);
	if (o->op->step == step_swap)
		printf(", \"duplicates\": %llu, \"foreign\": %llu",
		       (unsigned long long)r->swap.duplicates,
		       (unsigned long long)r->swap.foreign);
	if (r->mixed)
		printf(", \"ioctl_ops_per_s_thread\": %.3f, \"mmap_ops_per_s_thread\": %.3f, \"mmap_ioctl_ratio\": %.3f",
		       r->ioctl_rates.per_thread, r->mapped_rates.per_thread,
		       hammer_mixed_ratio(&r->ioctl_rates, &r->mapped_rates));
}

/* The command --------------------------------------------------------- */

int hammer_main(int argc, char **argv, const char *device,
		const char *(*open_hint)(int err))
{
	unsigned int cpus = crew_online_cpus(), i;
	struct hammer_opts o = {
		.cc = {
			.name = CMD,
			.kinds = &counter_kinds,
			.min_threads = 1,
			.unit = "ops",
			.released = "counters undefined",
			.row_size = sizeof(struct hammer_row),
			.run = run_target,
			.print_header = print_header,
			.print_row = print_row,
			.json_params = json_params,
			.json_row = json_row,
			.nr_threads = cpus < 2 ? 2 : cpus,
			.device = device,
			.open_hint = open_hint,
		},
		.op = &hammer_ops[0],
		.batch = DEFAULT_BATCH,
	};
	bool help = false, kernel = false;
	int ret;

	o.cc.arg = &o;
	ret = crew_parse_options(&o.cc, argc, argv, options, NR_OPTS,
				 set_option, &help);
	if (ret)
		return ret;
	if (help) {
		hammer_usage(stdout);
		return EXIT_OK;
	}
	if (o.ops && o.cc.seconds)
		return usage_error("--ops and --seconds exclude each other");
	if (!o.ops && !o.cc.seconds)
		o.ops = DEFAULT_OPS;
	if (o.path != PATH_IOCTL && o.op->step == step_cas_loop)
		return usage_error("--path %s does not take --op cas-loop: each CAS needs the value the last one saw",
				   path_names[o.path]);
	for (i = 0; i < o.cc.nr_targets; i++) {
		kernel |= o.cc.targets[i].kernel;
		if (o.cc.targets[i].access == CREW_ACCESS_MIXED &&
		    o.cc.nr_threads < 2)
			return usage_error("--target kernel:mixed needs --threads 2 or more (half ioctl, half mapped)");
	}
	if (kernel && o.counter == COUNTER_ADJACENT)
		fail(NULL, "note: kernel counters always have a cache line each; for kernel targets adjacent measures the same as per-thread");
	return crew_main(&o.cc);
}
