// SPDX-License-Identifier: GPL-2.0
/*
 * katomic hammer: N threads race on UINT64 counters of one target at a time
 * (a kernel counter of a sync kind, or a user-space twin's), start together
 * at a barrier, and the final values tell how many updates were lost.
 *
 * Worker threads write only their own cache line (struct hammer_worker)
 * and the counter under test; the main thread reads their progress a few
 * times a second, stops them (--seconds, a signal) through a flag that is
 * written once, and does every check and every print.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hammer.h"
#include "katomic.h"
#include "options.h"

enum { EXIT_OK, EXIT_FAILED, EXIT_USAGE };

#define CACHE_LINE		64
#define MAX_THREADS		1024
#define MAX_TARGETS		64
#define MAX_OPS			1000000000000ULL	/* per thread */
#define MAX_SECONDS		86400.0
#define MAX_DELAY_NS		1000000
#define DEFAULT_OPS		500000
/* With --seconds, the SWAP logs of all threads hold at most this many
 * values (8 bytes each, written once before the start); a full log stops
 * its thread. */
#define SWAP_LOG_MAX		(1ULL << 24)
#define POLL_NS			50000000L	/* main thread's poll period */
#define PROGRESS_AFTER		1.0		/* s before the progress line */
#define PROGRESS_EVERY		0.25		/* s between its updates */

/* The counter kinds, in uapi order: all, kernel:all, user:all. */
static const unsigned int counter_kinds[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK,
	KATOMIC_SYNC_MUTEX, KATOMIC_SYNC_PERCPU,
};
#define NR_KINDS	(sizeof(counter_kinds) / sizeof(counter_kinds[0]))

struct hammer_worker;
typedef int hammer_step_fn(struct hammer_worker *w, uint64_t k);

/* A workload: what one op of a thread is. */
struct hammer_op {
	const char *name;
	hammer_step_fn *step;
	unsigned int needs;	/* the katomic op beyond LOAD it needs */
};

enum { COUNTER_SHARED, COUNTER_PER_THREAD, COUNTER_ADJACENT };
static const char *const counter_names[] = {
	[COUNTER_SHARED] = "shared",
	[COUNTER_PER_THREAD] = "per-thread",
	[COUNTER_ADJACENT] = "adjacent",
};

struct hammer_target {
	bool kernel;
	unsigned int sync;
};

struct hammer_opts {
	unsigned int nr_threads;
	uint64_t ops;		/* per thread; 0 with --seconds */
	double seconds;		/* 0 with --ops */
	const struct hammer_op *op;
	unsigned int counter;
	uint64_t delay;
	bool pin, json;
	uint32_t id_base;
	const char *device;	/* --device; NULL: /dev/katomic */
	struct hammer_target targets[MAX_TARGETS];
	unsigned int nr_targets;
};

/* One target's row. */
struct hammer_row {
	char target[24];
	const char *unsupported;	/* why, or NULL */
	uint64_t expected, got;
	int64_t lost;
	double lost_share;
	struct hammer_rates rates;
	uint64_t retries;		/* cas-loop */
	struct hammer_swap_tally swap;	/* swap */
};

/* What every worker of a run reads; only stop is ever written meanwhile. */
struct hammer_run {
	const struct hammer_op *op;
	unsigned int nr_threads;
	uint64_t limit;			/* ops per thread */
	pthread_mutex_t lock;		/* the gate: armed, abort */
	pthread_cond_t cond;
	bool armed, abort;
	pthread_barrier_t barrier;
	alignas(CACHE_LINE) atomic_bool stop;
	alignas(CACHE_LINE) char end[1];	/* nothing else on stop's line */
};

/* A worker's cache line(s): written by the worker only. */
struct hammer_worker {
	alignas(CACHE_LINE) atomic_uint_fast64_t done;	/* ops completed */
	atomic_bool finished;
	struct timespec start, end;
	uint64_t retries;
	int error;			/* -errno of failed_op */
	unsigned int failed_op;
	/* set by the main thread before the run */
	struct hammer_run *run;
	struct katomic *k;		/* kernel: the thread's own open file */
	unsigned int nr;
	__u32 id;			/* the counter */
	uint64_t *log;			/* swap: what each SWAP returned */
	pthread_t thread;
};

/* Set by SIGINT/SIGTERM; the main thread passes it on to the workers. */
static volatile sig_atomic_t hammer_signal;

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

int64_t hammer_lost(uint64_t expected, uint64_t got)
{
	return (int64_t)(expected - got);
}

double hammer_lost_share(uint64_t expected, int64_t lost)
{
	return expected ? 100.0 * (double)lost / (double)expected : 0.0;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

void hammer_rates(unsigned int nr_threads, const uint64_t *done,
		  const struct timespec *start, const struct timespec *end,
		  struct hammer_rates *r)
{
	struct timespec first, last;
	uint64_t sum = 0;
	double d;
	unsigned int i;

	*r = (struct hammer_rates){ 0 };
	if (!nr_threads)
		return;
	first = start[0];
	last = end[0];
	for (i = 0; i < nr_threads; i++) {
		if (ts_before(&start[i], &first))
			first = start[i];
		if (ts_before(&last, &end[i]))
			last = end[i];
		d = ts_diff(&start[i], &end[i]);
		if (d > 0)
			r->per_thread += (double)done[i] / d;
		sum += done[i];
	}
	r->per_thread /= nr_threads;
	r->seconds = ts_diff(&first, &last);
	if (r->seconds > 0)
		r->total = (double)sum / r->seconds;
	else
		r->seconds = 0;
}

/* The workloads ------------------------------------------------------- */

static int run_op(struct hammer_worker *w, struct katomic_op *op)
{
	int ret;

	op->id = w->id;
	op->type = KATOMIC_TYPE_UINT64;
	ret = katomic_op(w->k, op);
	if (ret < 0) {
		w->error = ret;
		w->failed_op = op->op;
	}
	return ret;
}

static int step_add(struct hammer_worker *w, uint64_t k)
{
	struct katomic_op op = { .op = KATOMIC_OP_ADD, .arg = 1 };

	(void)k;
	return run_op(w, &op) < 0 ? -1 : 0;
}

/* LOAD, then CAS(old, old + 1) until it applies, retrying with the value
 * the failed CAS saw. */
static int step_cas_loop(struct hammer_worker *w, uint64_t k)
{
	struct katomic_op op = { .op = KATOMIC_OP_LOAD };
	uint64_t old;
	int ret;

	(void)k;
	if (run_op(w, &op) < 0)
		return -1;
	old = op.result;
	for (;;) {
		op = (struct katomic_op){ .op = KATOMIC_OP_CAS, .arg = old,
					  .arg2 = old + 1 };
		ret = run_op(w, &op);
		if (ret < 0)
			return -1;
		if (ret)
			return 0;
		w->retries++;
		old = op.result;
	}
}

static int step_swap(struct hammer_worker *w, uint64_t k)
{
	struct katomic_op op = {
		.op = KATOMIC_OP_SWAP,
		.arg = hammer_token(w->run->nr_threads, w->nr, k),
	};

	if (run_op(w, &op) < 0)
		return -1;
	w->log[k] = op.result;
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

/* Messages ------------------------------------------------------------ */

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("katomic: hammer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* "katomic: hammer: user:mutex: ..." */
static int fail(const char *target, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(const char *target, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "katomic: hammer: %s: ", target);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILED;
}

static int fail_counter(const char *target, const char *what, __u32 id,
			int err)
{
	return fail(target, "%s counter %u: %s (%s)", what, id,
		    katomic_strerror(err), katomic_errno_name(err));
}

static void print_kinds(FILE *f)
{
	size_t i;

	for (i = 0; i < NR_KINDS; i++)
		fprintf(f, " %s", katomic_sync_name(counter_kinds[i]));
}

void hammer_usage(FILE *f)
{
	fprintf(f,
"usage: katomic [--device PATH] hammer [--threads N] [--ops M | --seconds S]\n"
"         [--target T]... [--op add|cas-loop|swap]\n"
"         [--counter shared|per-thread|adjacent] [--delay NS] [--pin]\n"
"         [--json] [--id BASE]\n"
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
	print_kinds(f);
	fprintf(f, "\n"
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
"with --ops), \"op\", \"counter\", \"delay\", \"pin\", \"id\", \"results\": [{\"target\",\n"
"\"supported\", then \"expected\", \"got\", \"lost\", \"lost_share\" (%%),\n"
"\"ops_per_s_thread\", \"ops_per_s\", \"seconds\", \"retries\" (cas-loop),\n"
"\"duplicates\", \"foreign\" (swap), or \"reason\" if not supported}]}.\n"
"\n"
"Exit status: 0 ok (lost updates are results), 1 an operation failed,\n"
"2 usage error.\n",
		MAX_THREADS, (unsigned long long)MAX_OPS, DEFAULT_OPS,
		MAX_SECONDS, (unsigned long long)SWAP_LOG_MAX, MAX_DELAY_NS);
}

/* Options ------------------------------------------------------------- */

static int parse_uint(const char *opt, const char *s, uint64_t min,
		      uint64_t max, uint64_t *v)
{
	__u64 parsed = 0;
	int ret = katomic_value_parse(s, KATOMIC_TYPE_UINT64, 64, &parsed);

	*v = parsed;
	if (ret == -EINVAL)
		return usage_error("%s '%s' is not a number", opt, s);
	if (ret || *v < min || *v > max)
		return usage_error("%s %s is out of range %llu..%llu", opt, s,
				   (unsigned long long)min,
				   (unsigned long long)max);
	return EXIT_OK;
}

static int parse_seconds(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE)
		return usage_error("--seconds '%s' is not a decimal number", s);
	if (!isfinite(*v) || *v <= 0 || *v > MAX_SECONDS)
		return usage_error("--seconds %s is out of range (0, %.0f]", s,
				   MAX_SECONDS);
	return EXIT_OK;
}

static int add_target(struct hammer_opts *o, bool kernel, unsigned int sync)
{
	if (o->nr_targets == MAX_TARGETS)
		return usage_error("more than %d targets", MAX_TARGETS);
	o->targets[o->nr_targets++] = (struct hammer_target){ kernel, sync };
	return EXIT_OK;
}

static int add_side(struct hammer_opts *o, bool kernel)
{
	size_t i;
	int ret = EXIT_OK;

	for (i = 0; i < NR_KINDS && !ret; i++)
		ret = add_target(o, kernel, counter_kinds[i]);
	return ret;
}

/* kernel:KIND, user:KIND, kernel:all, user:all, all */
static int parse_target(struct hammer_opts *o, const char *s)
{
	const char *colon = strchr(s, ':'), *kind;
	bool kernel;
	size_t i;
	int sync;

	if (!strcmp(s, "all")) {
		int ret = add_side(o, true);

		return ret ? ret : add_side(o, false);
	}
	if (colon && colon - s == 6 && !strncmp(s, "kernel", 6))
		kernel = true;
	else if (colon && colon - s == 4 && !strncmp(s, "user", 4))
		kernel = false;
	else
		return usage_error("target '%s' is not kernel:KIND, user:KIND or all",
				   s);
	kind = colon + 1;
	if (!strcmp(kind, "all"))
		return add_side(o, kernel);
	sync = katomic_sync_parse(kind);
	for (i = 0; i < NR_KINDS; i++)
		if (sync >= 0 && (unsigned int)sync == counter_kinds[i])
			return add_target(o, kernel, sync);
	fprintf(stderr, "katomic: hammer: target '%s': '%s' is not a counter kind (kinds:",
		s, kind);
	print_kinds(stderr);
	fputs(" all)\n", stderr);
	return EXIT_USAGE;
}

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

static unsigned int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > MAX_THREADS ? MAX_THREADS : (unsigned int)n;
}

/* The options that take a value, in the order of set_option()'s switch. */
enum { OPT_THREADS, OPT_OPS, OPT_SECONDS, OPT_TARGET, OPT_OP, OPT_COUNTER,
       OPT_DELAY, OPT_ID, NR_VALUED };
static const char *const valued[NR_VALUED] = {
	"--threads", "--ops", "--seconds", "--target", "--op", "--counter",
	"--delay", "--id",
};

static int set_option(struct hammer_opts *o, int opt, const char *v)
{
	uint64_t n;
	int ret;

	switch (opt) {
	case OPT_THREADS:
		ret = parse_uint(valued[opt], v, 1, MAX_THREADS, &n);
		o->nr_threads = n;
		return ret;
	case OPT_OPS:
		return parse_uint(valued[opt], v, 1, MAX_OPS, &o->ops);
	case OPT_SECONDS:
		return parse_seconds(v, &o->seconds);
	case OPT_TARGET:
		return parse_target(o, v);
	case OPT_OP:
		return parse_op(o, v);
	case OPT_COUNTER:
		return parse_counter(o, v);
	case OPT_DELAY:
		return parse_uint(valued[opt], v, 0, MAX_DELAY_NS, &o->delay);
	default:
		ret = parse_uint(valued[opt], v, 0, UINT32_MAX, &n);
		o->id_base = n;
		return ret;
	}
}

/* Options of argv[1..]; *help if asked for. */
static int parse_opts(struct hammer_opts *o, int argc, char **argv,
		      bool *help)
{
	bool ops = false, seconds = false;
	const char *v = NULL;
	int i, j, m, ret;

	*o = (struct hammer_opts){ .op = &hammer_ops[0] };
	o->nr_threads = default_threads();
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			*help = true;
			return EXIT_OK;
		}
		if (!strcmp(arg, "--pin")) {
			o->pin = true;
			continue;
		}
		if (!strcmp(arg, "--json")) {
			o->json = true;
			continue;
		}
		for (j = 0, m = 0; j < NR_VALUED && !m; j++)
			m = option_value(argc, argv, &i, valued[j], &v);
		if (m < 0)
			return usage_error("%s needs a value", arg);
		if (!m)
			return usage_error("%s '%s' (try katomic hammer --help)",
					   arg[0] == '-' ? "unknown option" :
					   "unexpected argument", arg);
		ret = set_option(o, j - 1, v);
		if (ret)
			return ret;
		ops |= j - 1 == OPT_OPS;
		seconds |= j - 1 == OPT_SECONDS;
	}
	if (ops && seconds)
		return usage_error("--ops and --seconds exclude each other");
	if (!ops && !seconds)
		o->ops = DEFAULT_OPS;
	if (!o->nr_targets)
		return parse_target(o, "all");
	return EXIT_OK;
}

/* Signals ------------------------------------------------------------- */

static void on_signal(int sig)
{
	hammer_signal = sig;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* After the cleanup: die of the signal, as if it had not been caught. */
static void reraise(void)
{
	int sig = hammer_signal;
	sigset_t set;

	fprintf(stderr, "katomic: hammer: interrupted by %s; counters undefined\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	fflush(stdout);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

/* The run ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct hammer_worker *w = arg;
	struct hammer_run *r = w->run;
	hammer_step_fn *step = r->op->step;
	uint64_t k;
	bool go;

	/* The gate: every thread exists, or the run is off. */
	pthread_mutex_lock(&r->lock);
	while (!r->armed)
		pthread_cond_wait(&r->cond, &r->lock);
	go = !r->abort;
	pthread_mutex_unlock(&r->lock);
	if (go) {
		/* Fault the log in now: no page fault in the timed loop. */
		if (w->log)
			memset(w->log, 0, r->limit * sizeof(*w->log));
		pthread_barrier_wait(&r->barrier);
		clock_gettime(CLOCK_MONOTONIC, &w->start);
		for (k = 0; k < r->limit; k++) {
			if (atomic_load_explicit(&r->stop, memory_order_relaxed))
				break;
			if (step(w, k)) {
				atomic_store(&r->stop, true);
				break;
			}
			atomic_store_explicit(&w->done, k + 1,
					      memory_order_relaxed);
		}
		clock_gettime(CLOCK_MONOTONIC, &w->end);
	}
	atomic_store_explicit(&w->finished, true, memory_order_release);
	return NULL;
}

/* The CPUs of the process's affinity mask, in order. */
static int affinity_cpus(int **cpus, int *nr)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	*cpus = malloc(CPU_SETSIZE * sizeof(**cpus));
	if (!*cpus)
		return -ENOMEM;
	*nr = 0;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			(*cpus)[(*nr)++] = cpu;
	return 0;
}

/* Starts the threads; on failure, stops those started.  -errno. */
static int start_workers(const struct hammer_opts *o, struct hammer_run *r,
			 struct hammer_worker *w, const int *cpus, int nr_cpus)
{
	unsigned int i, started;
	sigset_t block, old;
	pthread_attr_t attr;
	cpu_set_t set;
	int ret = 0;

	/* Workers never take the signals: the main thread does. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (started = 0; started < o->nr_threads && !ret; started++) {
		ret = -pthread_attr_init(&attr);
		if (ret)
			break;
		if (o->pin) {
			CPU_ZERO(&set);
			CPU_SET(cpus[started % nr_cpus], &set);
			ret = -pthread_attr_setaffinity_np(&attr, sizeof(set),
							   &set);
		}
		if (!ret)
			ret = -pthread_create(&w[started].thread, &attr,
					      worker_main, &w[started]);
		pthread_attr_destroy(&attr);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&r->lock);
	r->armed = true;
	r->abort = ret != 0;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (ret)
		for (i = 0; i < started; i++)
			pthread_join(w[i].thread, NULL);
	return ret;
}

static double now_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff(t0, &now);
}

/*
 * While the workers run: stop them at the deadline or on a signal, show
 * progress on a terminal.  Returns when all have finished.
 */
static void watch(const struct hammer_opts *o, struct hammer_run *r,
		  struct hammer_worker *w, const char *target)
{
	bool tty = isatty(STDERR_FILENO), all;
	double el, shown = 0, pct;
	struct timespec t0, nap;
	int width = 0;
	uint64_t sum;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		el = now_since(&t0);
		nap.tv_sec = 0;
		nap.tv_nsec = POLL_NS;
		if (o->seconds && o->seconds - el < POLL_NS / 1e9)
			nap.tv_nsec = o->seconds > el ?
				(long)((o->seconds - el) * 1e9) : 0;
		nanosleep(&nap, NULL);
		all = true;
		sum = 0;
		for (i = 0; i < o->nr_threads; i++) {
			if (!atomic_load_explicit(&w[i].finished,
						  memory_order_acquire))
				all = false;
			sum += atomic_load_explicit(&w[i].done,
						    memory_order_relaxed);
		}
		if (all)
			break;
		el = now_since(&t0);
		if ((o->seconds && el >= o->seconds) || hammer_signal)
			atomic_store(&r->stop, true);
		if (tty && el >= PROGRESS_AFTER && el - shown >= PROGRESS_EVERY) {
			pct = o->seconds ? 100 * el / o->seconds :
				100.0 * sum / ((double)o->ops * o->nr_threads);
			width = fprintf(stderr, "\r%s: %.1f s, %llu ops, %.0f%%  ",
					target, el, (unsigned long long)sum,
					pct > 100 ? 100 : pct);
			shown = el;
		}
	}
	if (width > 0)
		fprintf(stderr, "\r%*s\r", width, "");
}

/* The counters of one target and the handle they live in. */
struct hammer_counters {
	struct katomic *k;
	bool kernel;
	unsigned int nr;
	__u32 *ids;
	unsigned int nr_defined;
};

/* Undefines what was defined, closes a twin.  EXIT_OK or EXIT_FAILED. */
static int release_counters(struct hammer_counters *c, const char *target)
{
	int ret, status = EXIT_OK;
	unsigned int i;

	for (i = 0; i < c->nr_defined; i++) {
		ret = katomic_undefine(c->k, c->ids[i]);
		if (ret)
			status = fail_counter(target, "undefine", c->ids[i],
					      ret);
	}
	c->nr_defined = 0;
	if (!c->kernel)
		katomic_close(c->k);
	free(c->ids);
	c->ids = NULL;
	return status;
}

/* Kernel: the first c->nr free ids from base (QUERY says ENOENT). */
static int find_free_ids(struct hammer_counters *c, uint32_t base,
			 const char *target)
{
	struct katomic_info info;
	unsigned int found = 0;
	uint64_t id;
	int ret;

	ret = katomic_info(c->k, &info);
	if (ret)
		return fail(target, "info: %s (%s)", katomic_strerror(ret),
			    katomic_errno_name(ret));
	for (id = base; id < info.nr_counters && found < c->nr; id++) {
		ret = katomic_query(c->k, id, NULL, NULL);
		if (ret == -ENOENT)
			c->ids[found++] = id;
		else if (ret)
			return fail_counter(target, "query", id, ret);
	}
	if (found < c->nr)
		return fail(target, "needs %u free counters from id %u, found %u (the context has %u)",
			    c->nr, base, found, info.nr_counters);
	return EXIT_OK;
}

static int define_counters(struct hammer_counters *c,
			   const struct hammer_opts *o,
			   const struct hammer_target *t, const char *target)
{
	struct katomic_define d = {
		.object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_UINT64,
		.sync = t->sync,
		.param = t->sync == KATOMIC_SYNC_NONE ? o->delay : 0,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < c->nr; i++) {
		d.id = c->ids[i];
		ret = katomic_define_raw(c->k, &d);
		if (ret == -EOPNOTSUPP)
			return fail(target, "define counter %u: %s uint64 counters are not supported here (EOPNOTSUPP)",
				    d.id, katomic_sync_name(t->sync));
		if (ret)
			return fail_counter(target, "define", d.id, ret);
		c->nr_defined++;
	}
	return EXIT_OK;
}

/* The counters for target t: a twin's, or free ids of the device. */
static int claim_counters(struct hammer_counters *c,
			  const struct hammer_opts *o,
			  const struct hammer_target *t, struct katomic *dev,
			  const char *target)
{
	unsigned int i;
	int ret;

	c->kernel = t->kernel;
	c->nr = o->counter == COUNTER_SHARED ? 1 : o->nr_threads;
	c->ids = calloc(c->nr, sizeof(*c->ids));
	if (!c->ids)
		return fail(target, "no memory for %u counter ids", c->nr);
	if (t->kernel) {
		c->k = dev;
		ret = find_free_ids(c, o->id_base, target);
	} else {
		ret = katomic_twin_new2(c->nr,
					o->counter == COUNTER_ADJACENT ?
					KATOMIC_TWIN_PACKED : 0, &c->k);
		if (ret)
			return fail(target, "twin of %u counters: %s (%s)",
				    c->nr, strerror(-ret),
				    katomic_errno_name(ret));
		for (i = 0; i < c->nr; i++)
			c->ids[i] = i;
	}
	return ret ? ret : define_counters(c, o, t, target);
}

/* The final values of the counters, and got: their sum. */
static int load_finals(struct hammer_counters *c, uint64_t *finals,
		       uint64_t *got, const char *target)
{
	unsigned int i;
	int ret;

	*got = 0;
	for (i = 0; i < c->nr; i++) {
		ret = katomic_load_uint64(c->k, c->ids[i], &finals[i]);
		if (ret < 0)
			return fail_counter(target, "load", c->ids[i], ret);
		*got += finals[i];
	}
	return EXIT_OK;
}

/* Runs the threads on c and fills the row. */
static int hammer_counters_run(const struct hammer_opts *o,
			       struct hammer_counters *c,
			       const char *target, struct hammer_row *row,
			       const int *cpus, int nr_cpus)
{
	unsigned int n = o->nr_threads, i;
	struct hammer_worker *w;
	struct hammer_run *r;
	uint64_t *done, *finals = NULL, cap = o->ops;
	const uint64_t **logs;
	struct timespec *start, *end;
	bool swap = o->op->step == step_swap, full = false;
	int ret = EXIT_FAILED, err;

	if (!cap)
		cap = swap ? SWAP_LOG_MAX / n : UINT64_MAX;
	r = aligned_alloc(CACHE_LINE, sizeof(*r));
	w = aligned_alloc(CACHE_LINE, n * sizeof(*w));
	done = calloc(n, sizeof(*done));
	logs = calloc(n, sizeof(*logs));
	start = calloc(n, sizeof(*start));
	end = calloc(n, sizeof(*end));
	finals = calloc(c->nr, sizeof(*finals));
	if (!r || !w || !done || !logs || !start || !end || !finals) {
		fail(target, "no memory for %u threads", n);
		goto out_free;
	}
	memset(w, 0, n * sizeof(*w));
	memset(r, 0, sizeof(*r));
	r->op = o->op;
	r->nr_threads = n;
	r->limit = cap;
	atomic_init(&r->stop, false);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	pthread_barrier_init(&r->barrier, NULL, n + 1);
	for (i = 0; i < n; i++) {
		atomic_init(&w[i].done, 0);
		atomic_init(&w[i].finished, false);
		w[i].run = r;
		w[i].nr = i;
		w[i].id = c->ids[c->nr == 1 ? 0 : i];
		/*
		 * A file shared by threads is reference-counted on every
		 * ioctl: one line all threads write.  Each thread gets its
		 * own, so that only the counter is shared.
		 */
		w[i].k = c->k;
		if (c->kernel) {
			err = katomic_open(o->device, &w[i].k);
			if (err) {
				w[i].k = NULL;
				fail(target, "%s: %s (%s)", o->device ? o->device :
				     "/dev/katomic", strerror(-err),
				     katomic_errno_name(err));
				goto out;
			}
		}
		if (swap) {
			w[i].log = malloc(cap * sizeof(*w[i].log));
			if (!w[i].log) {
				fail(target, "no memory for the swap log (%llu MiB per thread)",
				     (unsigned long long)(cap * 8 >> 20));
				goto out;
			}
		}
	}
	err = start_workers(o, r, w, cpus, nr_cpus);
	if (err) {
		fail(target, "starting %u threads: %s", n, strerror(-err));
		goto out;
	}
	pthread_barrier_wait(&r->barrier);
	watch(o, r, w, target);
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	if (hammer_signal) {
		ret = EXIT_OK;	/* the caller cleans up and re-raises */
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (w[i].error) {
			fail_counter(target, katomic_op_name(w[i].failed_op),
				     w[i].id, w[i].error);
			goto out;
		}
		done[i] = w[i].done;
		logs[i] = w[i].log;
		start[i] = w[i].start;
		end[i] = w[i].end;
		row->retries += w[i].retries;
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
			fprintf(stderr, "katomic: hammer: %s: note: the swap log is full after %llu swaps per thread; the threads stopped there\n",
				target, (unsigned long long)cap);
	}
	row->lost = hammer_lost(row->expected, row->got);
	row->lost_share = hammer_lost_share(row->expected, row->lost);
	hammer_rates(n, done, start, end, &row->rates);
	ret = EXIT_OK;
out:
	for (i = 0; i < n; i++) {
		free(w[i].log);
		if (c->kernel)
			katomic_close(w[i].k);
	}
	pthread_barrier_destroy(&r->barrier);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
out_free:
	free(finals);
	free(end);
	free(start);
	free(logs);
	free(done);
	free(w);
	free(r);
	return ret;
}

/* Output -------------------------------------------------------------- */

static void print_header(const struct hammer_opts *o)
{
	if (o->ops)
		printf("hammer: %u threads x %llu ops, op %s, counter %s",
		       o->nr_threads, (unsigned long long)o->ops, o->op->name,
		       counter_names[o->counter]);
	else
		printf("hammer: %u threads x %g s, op %s, counter %s",
		       o->nr_threads, o->seconds, o->op->name,
		       counter_names[o->counter]);
	if (o->delay)
		printf(", none delay %llu ns", (unsigned long long)o->delay);
	printf("%s\n", o->pin ? ", pinned" : "");
	printf("%-16s %14s %14s %14s %8s %13s %13s %8s", "target", "expected",
	       "got", "lost", "lost%", "ops/s/thread", "ops/s", "seconds");
	if (o->op->step == step_cas_loop)
		printf(" %14s", "retries");
	if (o->op->step == step_swap)
		printf(" %10s %10s", "dups", "foreign");
	putchar('\n');
}

/* A row of the table, printed as soon as its target has run. */
static void print_row(const struct hammer_opts *o, const struct hammer_row *r)
{
	if (r->unsupported) {
		printf("%-16s unsupported: %s\n", r->target, r->unsupported);
		fflush(stdout);
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
	fflush(stdout);
}

/* Our strings are names from tables; escape what JSON requires anyway. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* v in the fewest digits that read back as v: 0.1, not 0.10000000000000001. */
static void json_double(double v)
{
	char buf[32];
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	printf("%.*g", prec, v);
}

static void print_json(const struct hammer_opts *o,
		       const struct hammer_row *rows, unsigned int nr)
{
	const struct hammer_row *r;
	unsigned int i;

	printf("{\"threads\": %u, ", o->nr_threads);
	if (o->ops) {
		printf("\"ops\": %llu, \"seconds\": null, ",
		       (unsigned long long)o->ops);
	} else {
		printf("\"ops\": null, \"seconds\": ");
		json_double(o->seconds);
		printf(", ");
	}
	printf("\"op\": ");
	json_string(o->op->name);
	printf(", \"counter\": ");
	json_string(counter_names[o->counter]);
	printf(", \"delay\": %llu, \"pin\": %s, \"id\": %u,\n \"results\": [",
	       (unsigned long long)o->delay, o->pin ? "true" : "false",
	       o->id_base);
	for (i = 0; i < nr; i++) {
		r = &rows[i];
		printf("%s\n  {\"target\": ", i ? "," : "");
		json_string(r->target);
		if (r->unsupported) {
			printf(", \"supported\": false, \"reason\": ");
			json_string(r->unsupported);
			putchar('}');
			continue;
		}
		printf(", \"supported\": true, \"expected\": %llu, \"got\": %llu, \"lost\": %lld, \"lost_share\": %.6f, \"ops_per_s_thread\": %.3f, \"ops_per_s\": %.3f, \"seconds\": %.9f",
		       (unsigned long long)r->expected,
		       (unsigned long long)r->got, (long long)r->lost,
		       r->lost_share, r->rates.per_thread, r->rates.total,
		       r->rates.seconds);
		if (o->op->step == step_cas_loop)
			printf(", \"retries\": %llu",
			       (unsigned long long)r->retries);
		if (o->op->step == step_swap)
			printf(", \"duplicates\": %llu, \"foreign\": %llu",
			       (unsigned long long)r->swap.duplicates,
			       (unsigned long long)r->swap.foreign);
		putchar('}');
	}
	printf("\n ]}\n");
}

/* The command --------------------------------------------------------- */

struct hammer {
	struct hammer_opts o;
	const char *(*open_hint)(int err);
	struct katomic *dev;		/* opened for the first kernel target */
	int *cpus, nr_cpus;
	struct hammer_row *rows;
};

static int open_device(struct hammer *h, const char *target)
{
	const char *path = h->o.device ? h->o.device : "/dev/katomic";
	int ret;

	if (h->dev)
		return EXIT_OK;
	ret = katomic_open(h->o.device, &h->dev);
	if (ret)
		return fail(target, "%s: %s (%s)%s", path,
			    ret == -EPROTO ? "ABI version mismatch" :
			    strerror(-ret), katomic_errno_name(ret),
			    h->open_hint ? h->open_hint(ret) : "");
	return EXIT_OK;
}

static int run_target(struct hammer *h, const struct hammer_target *t,
		      struct hammer_row *row)
{
	struct hammer_counters c = { 0 };
	int ret;

	snprintf(row->target, sizeof(row->target), "%s:%s",
		 t->kernel ? "kernel" : "user", katomic_sync_name(t->sync));
	row->unsupported = unsupported(t->sync, h->o.op);
	if (row->unsupported)
		return EXIT_OK;
	if (t->kernel) {
		ret = open_device(h, row->target);
		if (ret)
			return ret;
	}
	ret = claim_counters(&c, &h->o, t, h->dev, row->target);
	if (!ret && !hammer_signal)
		ret = hammer_counters_run(&h->o, &c, row->target, row,
					  h->cpus, h->nr_cpus);
	return release_counters(&c, row->target) ? EXIT_FAILED : ret;
}

int hammer_main(int argc, char **argv, const char *device,
		const char *(*open_hint)(int err))
{
	struct hammer h = { .open_hint = open_hint };
	bool help = false, kernel = false;
	unsigned int i;
	int ret;

	ret = parse_opts(&h.o, argc, argv, &help);
	if (ret)
		return ret;
	h.o.device = device;
	if (help) {
		hammer_usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < h.o.nr_targets; i++)
		kernel |= h.o.targets[i].kernel;
	if (kernel && h.o.counter == COUNTER_ADJACENT)
		fprintf(stderr, "katomic: hammer: note: kernel counters always have a cache line each; for kernel targets adjacent measures the same as per-thread\n");
	h.rows = calloc(h.o.nr_targets, sizeof(*h.rows));
	if (!h.rows)
		return EXIT_FAILED;
	if (h.o.pin) {
		ret = affinity_cpus(&h.cpus, &h.nr_cpus);
		if (ret || !h.nr_cpus) {
			fprintf(stderr, "katomic: hammer: --pin: the affinity mask: %s\n",
				strerror(ret ? -ret : ESRCH));
			free(h.rows);
			return EXIT_FAILED;
		}
	}
	catch_signals();
	/* The header first: a progress line then shows under it. */
	if (!h.o.json) {
		print_header(&h.o);
		fflush(stdout);
	}
	for (i = 0; i < h.o.nr_targets && !ret; i++) {
		ret = run_target(&h, &h.o.targets[i], &h.rows[i]);
		if (hammer_signal)
			break;
		if (!ret && !h.o.json)
			print_row(&h.o, &h.rows[i]);
	}
	if (!ret && !hammer_signal && h.o.json)
		print_json(&h.o, h.rows, h.o.nr_targets);
	katomic_close(h.dev);
	free(h.cpus);
	free(h.rows);
	if (hammer_signal)
		reraise();
	return ret;
}
