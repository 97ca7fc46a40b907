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

int crew_init(struct crew **out, unsigned int nr, size_t state_size)
{
	size_t line = (state_size + CREW_LINE - 1) / CREW_LINE * CREW_LINE;
	struct crew *c = aligned_alloc(CREW_LINE, sizeof(*c));
	struct crew_worker *w = aligned_alloc(CREW_LINE, nr * sizeof(*w));
	char *states = aligned_alloc(CREW_LINE, nr * line + CREW_LINE);
	unsigned int i;

	if (!c || !w || !states) {
		free(states);
		free(c);
		free(w);
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	memset(w, 0, nr * sizeof(*w));
	memset(states, 0, nr * line + CREW_LINE);
	c->nr = nr;
	c->w = w;
	c->states = states;
	atomic_init(&c->stop, false);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_barrier_init(&c->barrier, NULL, nr + 1);
	for (i = 0; i < nr; i++) {
		atomic_init(&w[i].done, 0);
		atomic_init(&w[i].finished, false);
		w[i].crew = c;
		w[i].arg = states + i * line;
	}
	*out = c;
	return 0;
}

void crew_fini(struct crew *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; c->own_handles && i < c->nr; i++)
		katomic_close(c->w[i].k);
	pthread_barrier_destroy(&c->barrier);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c->states);
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

int crew_run(const struct crew_cmd *cc, struct crew *c, const char *target)
{
	unsigned int i;
	int ret;

	ret = start_workers(c, cc->pin ? cc->cpus : NULL, cc->nr_cpus);
	if (ret)
		return report(EXIT_FAILED, cc->name, target,
			      "starting %u threads: %s", c->nr, strerror(-ret));
	pthread_barrier_wait(&c->barrier);
	watch(c, cc->seconds, target, cc->unit);
	for (i = 0; i < c->nr; i++)
		pthread_join(c->w[i].thread, NULL);
	return EXIT_OK;
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
	t[(*nr)++] = (struct crew_target){ kernel, sync, CREW_ACCESS_IOCTL };
	return EXIT_OK;
}

/* The names of the kernel targets on a mapping, by enum crew_access. */
static const char *const access_names[] = {
	[CREW_ACCESS_MMAP] = "mmap",
	[CREW_ACCESS_MIXED] = "mixed",
};

/* kernel:mmap or kernel:mixed, if kind names one: ATOMIC counters. */
static int add_mapped(const char *cmd, const char *kind,
		      struct crew_target *t, unsigned int *nr)
{
	unsigned int a;

	for (a = CREW_ACCESS_MMAP; a <= CREW_ACCESS_MIXED; a++) {
		if (strcmp(kind, access_names[a]))
			continue;
		if (add_target(cmd, t, nr, true, KATOMIC_SYNC_ATOMIC))
			return EXIT_USAGE;
		t[*nr - 1].access = a;
		return EXIT_OK;
	}
	return -1;
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

/* Adds the targets of s (kernel:KIND, user:KIND, kernel:all, user:all,
 * all) to t[*nr]. */
static int parse_target(const char *cmd, const struct crew_kinds *kinds,
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
	if (kernel && kinds->mapped) {
		int ret = add_mapped(cmd, kind, t, nr);

		if (ret >= 0)
			return ret;
	}
	sync = katomic_sync_parse(kind);
	for (i = 0; i < kinds->nr; i++)
		if (sync >= 0 && (unsigned int)sync == kinds->sync[i])
			return add_target(cmd, t, nr, kernel, sync);
	fprintf(stderr, "katomic: %s: target '%s': '%s' is not a %s (kinds:",
		cmd, s, kind, kinds->what);
	crew_print_kinds(stderr, kinds);
	fputs(kernel && kinds->mapped ? " all mmap mixed)\n" : " all)\n", stderr);
	return EXIT_USAGE;
}

static void target_name(const struct crew_target *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%s", t->kernel ? "kernel" : "user",
		 t->access != CREW_ACCESS_IOCTL ? access_names[t->access] :
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
	if (!c->twin && !c->mapped)
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
	if (c->twin || c->mapped)
		katomic_close(c->k);
	free(c->ids);
	c->ids = NULL;
	return status;
}

/* Opens the device; a failure is reported, with the hint if there is one. */
static int open_device(const struct crew_cmd *cc, struct katomic **k,
		       const char *(*open_hint)(int err), const char *target)
{
	const char *device = cc->device, *cmd = cc->name;
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

int crew_handles(const struct crew_cmd *cc, struct crew *crew,
		 const struct crew_claim *c, const char *target)
{
	bool shared = c->twin || c->mapped;
	unsigned int i;

	crew->own_handles = !shared;
	for (i = 0; i < crew->nr; i++) {
		crew->w[i].k = c->k;
		if (!shared && open_device(cc, &crew->w[i].k, NULL, target))
			return EXIT_FAILED;
	}
	return EXIT_OK;
}

int crew_claim_mapped(struct crew_claim *c, struct katomic *dev,
		      const char *cmd, const char *target)
{
	struct katomic_context kc = {
		.nr_counters = c->nr,
		.flags = KATOMIC_CTX_MMAP | KATOMIC_CTX_CLOEXEC,
	};
	const char *what = "a context of mapped counters";
	int ret;

	c->k = NULL;
	ret = katomic_context_new(dev, &kc, &c->k);
	if (!ret) {
		what = "mapping its counters";
		ret = katomic_map(c->k);
		if (ret) {
			katomic_close(c->k);
			c->k = NULL;
		}
	}
	if (ret)
		return report(EXIT_FAILED, cmd, target, "%s: %s (%s)%s", what,
			      katomic_strerror(ret), katomic_errno_name(ret),
			      ret == -EOPNOTSUPP || ret == -ENODEV ?
			      "; the module lacks KATOMIC_FEAT_MMAP" : "");
	c->mapped = true;
	return EXIT_OK;
}

/* Options ------------------------------------------------------------- */

unsigned int crew_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CREW_MAX_THREADS ? CREW_MAX_THREADS :
	       (unsigned int)n;
}

/* The CPUs of the process's affinity mask, in order: 0 or -errno. */
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

int crew_pin_cpus(struct crew_cmd *cc)
{
	int ret = affinity_cpus(&cc->cpus, &cc->nr_cpus);

	if (ret || !cc->nr_cpus)
		return report(EXIT_FAILED, cc->name, NULL,
			      "--pin: the affinity mask: %s",
			      strerror(ret ? -ret : ESRCH));
	return EXIT_OK;
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

/* The options every crew command takes, after the command's own. */
enum { OPT_THREADS, OPT_SECONDS, OPT_TARGET, OPT_ID, OPT_PIN, OPT_JSON,
       NR_OPTS };
static const struct option_spec options[NR_OPTS] = {
	{ "--threads", true }, { "--seconds", true }, { "--target", true },
	{ "--id", true }, { "--pin", false }, { "--json", false },
};

static int set_option(struct crew_cmd *cc, int opt, const char *v)
{
	const char *name = options[opt].name;
	uint64_t n;
	int ret;

	switch (opt) {
	case OPT_THREADS:
		ret = option_uint(cc->name, name, v, cc->min_threads,
				  CREW_MAX_THREADS, &n);
		cc->nr_threads = n;
		return ret;
	case OPT_SECONDS:
		return crew_parse_seconds(cc->name, v, &cc->seconds);
	case OPT_TARGET:
		return parse_target(cc->name, cc->kinds, v, cc->targets,
				    &cc->nr_targets);
	case OPT_ID:
		ret = option_uint(cc->name, name, v, 0, UINT32_MAX, &n);
		cc->id_base = n;
		return ret;
	case OPT_PIN:
		cc->pin = true;
		return EXIT_OK;
	default:
		cc->json = true;
		return EXIT_OK;
	}
}

int crew_parse_options(struct crew_cmd *cc, int argc, char **argv,
		       const struct option_spec *opts, unsigned int nr,
		       int (*set)(struct crew_cmd *cc, int opt,
				  const char *v),
		       bool *help)
{
	const char *v, *a;
	bool own;
	int i, opt, ret;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = true;
			return EXIT_OK;
		}
		opt = option_match(argc, argv, &i, opts, nr, &v);
		own = opt >= 0;
		if (!own)
			opt = option_match(argc, argv, &i, options, NR_OPTS,
					   &v);
		if (opt < 0)
			return report(EXIT_USAGE, cc->name, NULL,
				      "%s '%s' (try katomic %s --help)",
				      a[0] == '-' ? "unknown option" :
				      "unexpected argument", a, cc->name);
		if ((own ? opts : options)[opt].valued && !v)
			return report(EXIT_USAGE, cc->name, NULL,
				      "%s needs a value", a);
		ret = own ? set(cc, opt, v) : set_option(cc, opt, v);
		if (ret)
			return ret;
	}
	if (!cc->nr_targets)
		return parse_target(cc->name, cc->kinds, "all", cc->targets,
				    &cc->nr_targets);
	return EXIT_OK;
}

/* JSON ---------------------------------------------------------------- */

void crew_fjson_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void crew_json_string(const char *s)
{
	crew_fjson_string(stdout, s);
}

void crew_fjson_double(FILE *f, double v)
{
	char buf[32];
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fprintf(f, "%.*g", prec, v);
}

void crew_json_double(double v)
{
	crew_fjson_double(stdout, v);
}

/* The command --------------------------------------------------------- */

static void print_json(const struct crew_cmd *cc, const char *rows,
		       unsigned int nr)
{
	unsigned int i;

	printf("{\"threads\": %u, ", cc->nr_threads);
	cc->json_params(cc);
	printf("\"pin\": %s, \"id\": %u,\n \"results\": [",
	       cc->pin ? "true" : "false", cc->id_base);
	for (i = 0; i < nr; i++) {
		printf("%s\n  {\"target\": ", i ? "," : "");
		crew_json_string(rows + i * cc->row_size);
		cc->json_row(cc, rows + i * cc->row_size);
		putchar('}');
	}
	printf("\n ]}\n");
}

/* A target, its name first in its row. */
static int run_target(struct crew_cmd *cc, const struct crew_target *t,
		      char *row)
{
	int ret;

	target_name(t, row, CREW_TARGET_LEN);
	if (t->kernel && !cc->dev) {
		ret = open_device(cc, &cc->dev, cc->open_hint, row);
		if (ret)
			return ret;
	}
	return cc->run(cc, t, row, row);
}

int crew_main(struct crew_cmd *cc)
{
	unsigned int i;
	char *rows;
	int ret = EXIT_OK;

	rows = calloc(cc->nr_targets, cc->row_size);
	if (!rows)
		return report(EXIT_FAILED, cc->name, NULL, "no memory");
	if (cc->pin && crew_pin_cpus(cc)) {
		free(rows);
		return EXIT_FAILED;
	}
	crew_catch_signals();
	/* The header first: a progress line then shows under it. */
	if (!cc->json) {
		cc->print_header(cc);
		fflush(stdout);
	}
	for (i = 0; i < cc->nr_targets && !ret; i++) {
		ret = run_target(cc, &cc->targets[i], rows + i * cc->row_size);
		if (crew_signal)
			break;
		if (!ret && !cc->json) {
			cc->print_row(cc, rows + i * cc->row_size);
			fflush(stdout);
		}
	}
	if (!ret && !crew_signal && cc->json)
		print_json(cc, rows, cc->nr_targets);
	katomic_close(cc->dev);
	cc->dev = NULL;
	free(cc->cpus);
	free(rows);
	if (crew_signal)
		crew_reraise(cc->name, cc->released);
	return ret;
}
