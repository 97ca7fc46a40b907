// SPDX-License-Identifier: GPL-2.0
/*
 * A crew: the worker threads of katomic hammer and katomic tear, and what
 * both commands share around them (crew.h).
 *
 * Workers write only their own cache line and the object under test; the
 * main thread reads their progress a few times a second, stops them
 * through a flag that is written once, and does every check and print.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crew.h"
#include "options.h"

#define POLL_NS			50000000L	/* the watch's poll period */
#define PROGRESS_AFTER		1.0		/* s before the progress line */
#define PROGRESS_EVERY		0.25		/* s between its updates */

volatile sig_atomic_t crew_signal;

/* The run ------------------------------------------------------------- */

int crew_init(struct crew **out, unsigned int nr)
{
	struct crew *c = aligned_alloc(CREW_LINE, sizeof(*c));
	struct crew_worker *w = aligned_alloc(CREW_LINE, nr * sizeof(*w));
	unsigned int i;

	if (!c || !w) {
		free(c);
		free(w);
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	memset(w, 0, nr * sizeof(*w));
	c->nr = nr;
	c->w = w;
	atomic_init(&c->stop, false);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_barrier_init(&c->barrier, NULL, nr + 1);
	for (i = 0; i < nr; i++) {
		atomic_init(&w[i].done, 0);
		atomic_init(&w[i].finished, false);
		w[i].crew = c;
	}
	*out = c;
	return 0;
}

void crew_fini(struct crew *c)
{
	if (!c)
		return;
	pthread_barrier_destroy(&c->barrier);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c->w);
	free(c);
}

static void *worker_main(void *arg)
{
	struct crew_worker *w = arg;
	struct crew *c = w->crew;
	uint64_t k;
	bool go;

	/* The gate: every thread exists, or the run is off. */
	pthread_mutex_lock(&c->lock);
	while (!c->armed)
		pthread_cond_wait(&c->cond, &c->lock);
	go = !c->abort;
	pthread_mutex_unlock(&c->lock);
	if (go) {
		if (w->ready)
			w->ready(w);
		pthread_barrier_wait(&c->barrier);
		clock_gettime(CLOCK_MONOTONIC, &w->start);
		for (k = 0; k < w->limit; k++) {
			if (atomic_load_explicit(&c->stop, memory_order_relaxed))
				break;
			if (w->step(w, k)) {
				atomic_store(&c->stop, true);
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

/* Starts the threads; on failure, stops those started.  -errno. */
static int start_workers(struct crew *c, const int *cpus, int nr_cpus)
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
	for (started = 0; started < c->nr && !ret; started++) {
		ret = -pthread_attr_init(&attr);
		if (ret)
			break;
		if (cpus) {
			CPU_ZERO(&set);
			CPU_SET(cpus[started % nr_cpus], &set);
			ret = -pthread_attr_setaffinity_np(&attr, sizeof(set),
							   &set);
		}
		if (!ret)
			ret = -pthread_create(&c->w[started].thread, &attr,
					      worker_main, &c->w[started]);
		pthread_attr_destroy(&attr);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&c->lock);
	c->armed = true;
	c->abort = ret != 0;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (ret)
		for (i = 0; i < started; i++)
			pthread_join(c->w[i].thread, NULL);
	return ret;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static double now_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff(t0, &now);
}

/* What the watch sees at a poll. */
struct crew_look {
	bool all;		/* every worker has finished */
	bool counted;		/* every counted worker has */
	uint64_t done;		/* steps of the counted workers */
	double limits;		/* their limits, summed */
};

static void look(const struct crew *c, struct crew_look *l)
{
	const struct crew_worker *w;
	bool finished;
	unsigned int i;

	*l = (struct crew_look){ .all = true, .counted = true };
	for (i = 0; i < c->nr; i++) {
		w = &c->w[i];
		finished = atomic_load_explicit(&w->finished,
						memory_order_acquire);
		l->all &= finished;
		if (!w->counted)
			continue;
		l->counted &= finished;
		l->done += atomic_load_explicit(&w->done,
						memory_order_relaxed);
		l->limits += (double)w->limit;
	}
}

/*
 * While the workers run: stop them at the deadline, on a signal or once
 * the counted ones are done, show progress on a terminal.  Returns when
 * all have finished.
 */
static void watch(struct crew *c, double seconds, const char *target,
		  const char *unit)
{
	bool tty = isatty(STDERR_FILENO);
	double el, shown = 0, pct;
	struct timespec t0, nap;
	struct crew_look l;
	int width = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		el = now_since(&t0);
		nap.tv_sec = 0;
		nap.tv_nsec = POLL_NS;
		if (seconds && seconds - el < POLL_NS / 1e9)
			nap.tv_nsec = seconds > el ?
				(long)((seconds - el) * 1e9) : 0;
		nanosleep(&nap, NULL);
		look(c, &l);
		if (l.all)
			break;
		el = now_since(&t0);
		if ((seconds && el >= seconds) || crew_signal || l.counted)
			atomic_store(&c->stop, true);
		if (tty && el >= PROGRESS_AFTER && el - shown >= PROGRESS_EVERY) {
			pct = seconds ? 100 * el / seconds :
				100.0 * (double)l.done / l.limits;
			width = fprintf(stderr, "\r%s: %.1f s, %llu %s, %.0f%%  ",
					target, el, (unsigned long long)l.done,
					unit, pct > 100 ? 100 : pct);
			shown = el;
		}
	}
	if (width > 0)
		fprintf(stderr, "\r%*s\r", width, "");
}

int crew_run(struct crew *c, const int *cpus, int nr_cpus, double seconds,
	     const char *target, const char *unit)
{
	unsigned int i;
	int ret;

	ret = start_workers(c, cpus, nr_cpus);
	if (ret)
		return ret;
	pthread_barrier_wait(&c->barrier);
	watch(c, seconds, target, unit);
	for (i = 0; i < c->nr; i++)
		pthread_join(c->w[i].thread, NULL);
	return 0;
}

/* Signals ------------------------------------------------------------- */

static void on_signal(int sig)
{
	crew_signal = sig;
}

void crew_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* After the cleanup: die of the signal, as if it had not been caught. */
void crew_reraise(const char *cmd, const char *released)
{
	int sig = crew_signal;
	sigset_t set;

	report(EXIT_FAILED, cmd, NULL, "interrupted by %s; %s",
	       sig == SIGINT ? "SIGINT" : "SIGTERM", released);
	fflush(stdout);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

/* Rates --------------------------------------------------------------- */

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

void crew_rates(unsigned int nr_threads, const uint64_t *done,
		const struct timespec *start, const struct timespec *end,
		struct crew_rates *r)
{
	struct timespec first, last;
	uint64_t sum = 0;
	double d;
	unsigned int i;

	*r = (struct crew_rates){ 0 };
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

int crew_group_rates(const struct crew *c, unsigned int first,
		     unsigned int n, struct crew_rates *r)
{
	uint64_t *done = calloc(n + 1, sizeof(*done));
	struct timespec *start = calloc(n + 1, sizeof(*start));
	struct timespec *end = calloc(n + 1, sizeof(*end));
	unsigned int i;
	int ret = -ENOMEM;

	if (done && start && end) {
		for (i = 0; i < n; i++) {
			done[i] = atomic_load(&c->w[first + i].done);
			start[i] = c->w[first + i].start;
			end[i] = c->w[first + i].end;
		}
		crew_rates(n, done, start, end, r);
		ret = 0;
	}
	free(end);
	free(start);
	free(done);
	return ret;
}

/* Targets ------------------------------------------------------------- */

static int add_target(const char *cmd, struct crew_target *t,
		      unsigned int *nr, bool kernel, unsigned int sync)
{
	if (*nr == CREW_MAX_TARGETS)
		return report(EXIT_USAGE, cmd, NULL, "more than %d targets",
			      CREW_MAX_TARGETS);
	t[(*nr)++] = (struct crew_target){ kernel, sync };
	return EXIT_OK;
}

static int add_side(const char *cmd, const struct crew_kinds *kinds,
		    struct crew_target *t, unsigned int *nr, bool kernel)
{
	unsigned int i;
	int ret = EXIT_OK;

	for (i = 0; i < kinds->nr && !ret; i++)
		ret = add_target(cmd, t, nr, kernel, kinds->sync[i]);
	return ret;
}

void crew_print_kinds(FILE *f, const struct crew_kinds *kinds)
{
	unsigned int i;

	for (i = 0; i < kinds->nr; i++)
		fprintf(f, " %s", katomic_sync_name(kinds->sync[i]));
}

int crew_parse_target(const char *cmd, const struct crew_kinds *kinds,
		      const char *s, struct crew_target *t, unsigned int *nr)
{
	const char *colon = strchr(s, ':'), *kind;
	unsigned int i;
	bool kernel;
	int sync;

	if (!strcmp(s, "all")) {
		int ret = add_side(cmd, kinds, t, nr, true);

		return ret ? ret : add_side(cmd, kinds, t, nr, false);
	}
	if (colon && colon - s == 6 && !strncmp(s, "kernel", 6))
		kernel = true;
	else if (colon && colon - s == 4 && !strncmp(s, "user", 4))
		kernel = false;
	else
		return report(EXIT_USAGE, cmd, NULL,
			      "target '%s' is not kernel:KIND, user:KIND or all",
			      s);
	kind = colon + 1;
	if (!strcmp(kind, "all"))
		return add_side(cmd, kinds, t, nr, kernel);
	sync = katomic_sync_parse(kind);
	for (i = 0; i < kinds->nr; i++)
		if (sync >= 0 && (unsigned int)sync == kinds->sync[i])
			return add_target(cmd, t, nr, kernel, sync);
	fprintf(stderr, "katomic: %s: target '%s': '%s' is not a %s (kinds:",
		cmd, s, kind, kinds->what);
	crew_print_kinds(stderr, kinds);
	fputs(" all)\n", stderr);
	return EXIT_USAGE;
}

void crew_target_name(const struct crew_target *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%s", t->kernel ? "kernel" : "user",
		 katomic_sync_name(t->sync));
}

/* Objects ------------------------------------------------------------- */

static const char *object_name(unsigned int object)
{
	return object == KATOMIC_OBJ_VALUE ? "slot" : "counter";
}

int crew_fail_object(const char *cmd, const char *target, const char *what,
		     unsigned int object, __u32 id, int err)
{
	return report(EXIT_FAILED, cmd, target, "%s %s %u: %s (%s)", what,
		      object_name(object), id, katomic_strerror(err),
		      katomic_errno_name(err));
}

/* The device's ids: the first c->nr that QUERY says are free. */
static int find_free_ids(struct crew_claim *c, uint32_t base,
			 const char *cmd, const char *target)
{
	struct katomic_define d = { .object = c->object };
	struct katomic_info info;
	unsigned int found = 0, nr_ids;
	uint64_t id;
	int ret;

	ret = katomic_info(c->k, &info);
	if (ret)
		return report(EXIT_FAILED, cmd, target, "info: %s (%s)",
			      katomic_strerror(ret), katomic_errno_name(ret));
	nr_ids = c->object == KATOMIC_OBJ_VALUE ? info.nr_slots :
		 info.nr_counters;
	for (id = base; id < nr_ids && found < c->nr; id++) {
		d.id = id;
		ret = katomic_query_raw(c->k, &d);
		if (ret == -ENOENT)
			c->ids[found++] = id;
		else if (ret)
			return crew_fail_object(cmd, target, "query", c->object,
						id, ret);
	}
	if (found < c->nr)
		return report(EXIT_FAILED, cmd, target,
			      "needs %u free %ss from id %u, found %u (the context has %u)",
			      c->nr, object_name(c->object), base, found,
			      nr_ids);
	return EXIT_OK;
}

int crew_claim_ids(struct crew_claim *c, uint32_t base, const char *cmd,
		   const char *target)
{
	unsigned int i;

	c->ids = calloc(c->nr, sizeof(*c->ids));
	if (!c->ids)
		return report(EXIT_FAILED, cmd, target,
			      "no memory for %u %s ids", c->nr,
			      object_name(c->object));
	if (!c->twin)
		return find_free_ids(c, base, cmd, target);
	for (i = 0; i < c->nr; i++)
		c->ids[i] = i;
	return EXIT_OK;
}

int crew_define(struct crew_claim *c, struct katomic_define d,
		const char *kind, const char *cmd, const char *target)
{
	unsigned int i;
	int ret;

	d.object = c->object;
	for (i = 0; i < c->nr; i++) {
		d.id = c->ids[i];
		ret = katomic_define_raw(c->k, &d);
		if (ret == -EOPNOTSUPP)
			return report(EXIT_FAILED, cmd, target,
				      "define %s %u: %s are not supported here (EOPNOTSUPP)",
				      object_name(c->object), d.id, kind);
		if (ret)
			return crew_fail_object(cmd, target, "define",
						c->object, d.id, ret);
		c->nr_defined++;
	}
	return EXIT_OK;
}

int crew_release(struct crew_claim *c, const char *cmd, const char *target)
{
	struct katomic_define d = { .object = c->object };
	int ret, status = EXIT_OK;
	unsigned int i;

	for (i = 0; i < c->nr_defined; i++) {
		d.id = c->ids[i];
		ret = katomic_undefine_raw(c->k, &d);
		if (ret)
			status = crew_fail_object(cmd, target, "undefine",
						  c->object, d.id, ret);
	}
	c->nr_defined = 0;
	if (c->twin)
		katomic_close(c->k);
	free(c->ids);
	c->ids = NULL;
	return status;
}

int crew_open(const char *device, const char *(*open_hint)(int err),
	      struct katomic **k, const char *cmd, const char *target)
{
	int ret = katomic_open(device, k);

	if (ret) {
		*k = NULL;
		return report(EXIT_FAILED, cmd, target, "%s: %s (%s)%s",
			      device ? device : "/dev/katomic",
			      ret == -EPROTO ? "ABI version mismatch" :
			      strerror(-ret), katomic_errno_name(ret),
			      open_hint ? open_hint(ret) : "");
	}
	return EXIT_OK;
}

/* Options ------------------------------------------------------------- */

int crew_parse_options(const char *cmd, int argc, char **argv,
		       const struct option_spec *opts, unsigned int nr,
		       int (*set)(void *arg, int opt, const char *v),
		       void *arg, bool *help)
{
	const char *v;
	int i, opt, ret;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = true;
			return EXIT_OK;
		}
		opt = option_match(argc, argv, &i, opts, nr, &v);
		if (opt == -2)
			return report(EXIT_USAGE, cmd, NULL,
				      "%s needs a value", a);
		if (opt < 0)
			return report(EXIT_USAGE, cmd, NULL,
				      "%s '%s' (try katomic %s --help)",
				      a[0] == '-' ? "unknown option" :
				      "unexpected argument", a, cmd);
		ret = set(arg, opt, v);
		if (ret)
			return ret;
	}
	return EXIT_OK;
}

unsigned int crew_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CREW_MAX_THREADS ? CREW_MAX_THREADS :
	       (unsigned int)n;
}

int crew_affinity_cpus(int **cpus, int *nr)
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

int crew_parse_seconds(const char *cmd, const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE)
		return report(EXIT_USAGE, cmd, NULL,
			      "--seconds '%s' is not a decimal number", s);
	if (!isfinite(*v) || *v <= 0 || *v > CREW_MAX_SECONDS)
		return report(EXIT_USAGE, cmd, NULL,
			      "--seconds %s is out of range (0, %.0f]", s,
			      CREW_MAX_SECONDS);
	return EXIT_OK;
}

/* JSON ---------------------------------------------------------------- */

void crew_json_string(const char *s)
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

void crew_json_double(double v)
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
