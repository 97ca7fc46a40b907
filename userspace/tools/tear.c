// SPDX-License-Identifier: GPL-2.0
/*
 * katomic tear: W writers store values into one value slot of a target (a
 * kernel slot of a sync kind, or a user-space twin's) while R readers load
 * it, all started together at a barrier.  Every value a writer stores has
 * one byte in all its bytes, and that byte tells its length; a reader
 * checks every load it makes, and a load that is no such value is torn.
 *
 * The threads are a crew (crew.h): each writes only its own cache lines
 * (its struct crew_worker and struct tear_worker) and the slot under
 * test; the main thread stops them and does every count and every print.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crew.h"
#include "katomic.h"
#include "options.h"
#include "tear.h"

#define CMD			"tear"
#define MIN_SIZE		2	/* one byte cannot show a mix */
#define MAX_SIZE		1048576	/* the module's max_value */
#define MAX_LOADS		1000000000000ULL	/* per reader */
#define DEFAULT_LOADS		100000
#define TAG			0x7ea4	/* the tag of every value stored */

#define usage_error(...)	report(EXIT_USAGE, CMD, NULL, __VA_ARGS__)
#define fail(target, ...)	report(EXIT_FAILED, CMD, target, __VA_ARGS__)

/* The default sizes: 8 bytes to the module's default value_max. */
static const uint32_t default_sizes[] = { 8, 64, 512, 4096 };

/* The slot kinds, in uapi order: all, kernel:all, user:all. */
static const unsigned int slot_syncs[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_RCU, KATOMIC_SYNC_SEQLOCK,
};
static const struct crew_kinds slot_kinds = {
	slot_syncs, sizeof(slot_syncs) / sizeof(slot_syncs[0]), "slot kind", false,
};

/* Arithmetic ---------------------------------------------------------- */

void tear_pattern_init(struct tear_pattern *p, const uint32_t *sizes,
		       unsigned int nr, uint32_t tag)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->sizes, sizes, nr * sizeof(*sizes));
	p->nr_sizes = nr;
	p->nr_bytes = 255 - 255 % nr;
	p->tag = tag;
}

unsigned char tear_byte(const struct tear_pattern *p, uint64_t seq)
{
	return 1 + seq % p->nr_bytes;
}

uint32_t tear_len(const struct tear_pattern *p, unsigned char b)
{
	return p->sizes[(b - 1) % p->nr_sizes];
}

enum tear_verdict tear_check(const struct tear_pattern *p, uint32_t tag,
			     const unsigned char *buf, uint32_t len)
{
	if (tag != p->tag)
		return TEAR_TAG;
	if (!len)
		return TEAR_LENGTH;
	/* Every byte equals the next: all equal the first. */
	if (!buf[0] || buf[0] > p->nr_bytes || memcmp(buf, buf + 1, len - 1))
		return TEAR_MIXED;
	return len == tear_len(p, buf[0]) ? TEAR_OK : TEAR_LENGTH;
}

void tear_count(struct tear_tally *t, enum tear_verdict v)
{
	t->loads++;
	switch (v) {
	case TEAR_OK:
		return;
	case TEAR_TAG:
		t->tag++;
		break;
	case TEAR_MIXED:
		t->mixed++;
		break;
	case TEAR_LENGTH:
		t->length++;
		break;
	}
	t->torn++;
}

void tear_add(struct tear_tally *sum, const struct tear_tally *t)
{
	sum->loads += t->loads;
	sum->torn += t->torn;
	sum->mixed += t->mixed;
	sum->length += t->length;
	sum->tag += t->tag;
}

double tear_share(const struct tear_tally *t)
{
	return t->loads ? 100.0 * (double)t->torn / (double)t->loads : 0.0;
}

/* The command's state ----------------------------------------------- */

/* The command's options; the crew's come first. */
struct tear_opts {
	struct crew_cmd cc;
	unsigned int nr_writers;	/* 0 until parsed: half */
	uint64_t loads;		/* per reader; 0 with --seconds */
	struct tear_pattern pattern;
	bool sizes_given, size_given;
};

/* One target's row. */
struct tear_row {
	char target[CREW_TARGET_LEN];
	struct tear_tally tally;
	uint64_t stores;
	struct crew_rates loads, stores_rate, all;
};

/* A worker's own state (its crew_worker's arg): written by it only. */
struct tear_worker {
	struct tear_tally tally;	/* readers */
	int error;			/* -errno of failed_op */
	unsigned int failed_op;		/* KATOMIC_VOP_* */
	/* set by the main thread before the run */
	const struct tear_pattern *p;
	__u32 id;			/* the slot */
	unsigned int nr, nr_writers;	/* writers: which one, of how many */
	unsigned char *buf;		/* a value's room */
	uint32_t cap;
};

/* Usage --------------------------------------------------------------- */

void tear_usage(FILE *f)
{
	fprintf(f,
"usage: katomic [--device PATH] tear [--threads N] [--writers W]\n"
"         [--loads M | --seconds S] [--size BYTES | --sizes B1,B2,...]\n"
"         [--target T]... [--pin] [--json] [--id BASE]\n"
"\n"
"Writers store values into one value slot while readers load it and check\n"
"every load, one target after another: a slot without synchronisation\n"
"(none) can return a value half written, a torn load.  The threads start\n"
"together at a barrier.  Every value stored has one byte b (1..255) in all\n"
"its bytes, and b tells its length: the sizes cycle with the bytes.  A load\n"
"is torn if its bytes are not all one byte a store wrote (mixed), if its\n"
"length is not its byte's (length), or if its tag is not the run's (tag).\n"
"\n"
"targets (--target T, repeatable, run in the order given; default all):\n"
"  kernel:KIND    a value slot of /dev/katomic (or --device PATH), global\n"
"                 context; each thread opens the device for itself\n"
"  user:KIND      a slot of a fresh in-process twin (libkatomic); its\n"
"                 seqlock is a mutex slot, its rcu liburcu's\n"
"  kernel:all, user:all   every KIND there, in the order below\n"
"  all            kernel:all, then user:all\n"
"KIND:");
	crew_print_kinds(f, &slot_kinds);
	fprintf(f, "\n"
"\n"
"options:\n"
"  --threads N    writers and readers, 2..%d (default: 2 per online CPU)\n"
"  --writers W    how many of them write, 1..N-1 (default: half)\n"
"  --loads M      loads per reader, 1..%llu (default %d);\n"
"                 the writers store until the readers are done\n"
"  --seconds S    run each target for S seconds (decimal, up to %.0f)\n"
"                 instead; not together with --loads\n"
"  --sizes LIST   the value sizes in bytes, comma-separated, %d..%d\n"
"                 each, at most %d of them (default 8,64,512,4096); a\n"
"                 kernel target needs them within the device's value_max,\n"
"                 a twin gets the largest as its value_max\n"
"  --size BYTES   one size: --sizes BYTES\n"
"  --pin          pin thread i to the i-th CPU of the process's affinity\n"
"                 mask, round-robin (writers first, then readers)\n"
"  --json         print one JSON document instead of the table\n"
"  --id BASE      kernel targets use the first free slot from BASE (default\n"
"                 0); it is defined for the target and undefined after it,\n"
"                 on errors and on SIGINT/SIGTERM too\n"
"  -h, --help     this text\n"
"\n"
"On stdout, a line of the parameters, a header, then a row per target:\n"
"  loads     the readers' loads, all checked\n"
"  torn      the loads that were no value stored, and torn%% their share\n"
"  stores    the writers' stores\n"
"  loads/s, stores/s   over the readers' and the writers' own time\n"
"  seconds   from the barrier's release to the last thread's finish\n"
"While a target runs longer than a second, a progress line goes to stderr\n"
"if it is a terminal.  SIGINT or SIGTERM stops the threads; the slots are\n"
"released and katomic dies of the signal (the rows printed stand; --json\n"
"prints nothing).\n"
"\n"
"--json prints {\"threads\", \"writers\", \"readers\", \"loads\" (null with\n"
"--seconds), \"seconds\" (null with --loads), \"sizes\", \"pin\", \"id\",\n"
"\"results\": [{\"target\", \"loads\", \"torn\", \"torn_share\" (%%), \"mixed\",\n"
"\"bad_length\", \"bad_tag\", \"stores\", \"loads_per_s\", \"stores_per_s\",\n"
"\"seconds\"}]}, a result a line.\n"
"\n"
"Exit status: 0 ok (torn loads are results), 1 an operation failed,\n"
"2 usage error.\n",
		CREW_MAX_THREADS, (unsigned long long)MAX_LOADS, DEFAULT_LOADS,
		CREW_MAX_SECONDS, MIN_SIZE, MAX_SIZE, TEAR_MAX_SIZES);
}

/* Options ------------------------------------------------------------- */

/* "8,64,4096" */
static int parse_sizes(struct tear_opts *o, const char *opt, const char *s)
{
	uint32_t sizes[TEAR_MAX_SIZES];
	unsigned int nr = 0;
	char item[32];
	uint64_t v;
	size_t n;
	int ret;

	for (;;) {
		n = strcspn(s, ",");
		if (nr == TEAR_MAX_SIZES)
			return usage_error("%s: more than %d sizes", opt,
					   TEAR_MAX_SIZES);
		snprintf(item, sizeof(item), "%.*s", (int)n, s);
		ret = option_uint(CMD, opt, item, MIN_SIZE, MAX_SIZE, &v);
		if (ret)
			return ret;
		sizes[nr++] = v;
		if (!s[n])
			break;
		s += n + 1;
	}
	tear_pattern_init(&o->pattern, sizes, nr, TAG);
	return EXIT_OK;
}

/* The command's own options, in the order of set_option()'s switch. */
enum { OPT_WRITERS, OPT_LOADS, OPT_SIZES, OPT_SIZE, NR_OPTS };
static const struct option_spec options[NR_OPTS] = {
	{ "--writers", true }, { "--loads", true }, { "--sizes", true },
	{ "--size", true },
};

static int set_option(struct crew_cmd *cc, int opt, const char *v)
{
	struct tear_opts *o = cc->arg;
	const char *name = options[opt].name;
	uint64_t n;
	int ret;

	switch (opt) {
	case OPT_WRITERS:
		ret = option_uint(CMD, name, v, 1, CREW_MAX_THREADS - 1, &n);
		o->nr_writers = n;
		return ret;
	case OPT_LOADS:
		return option_uint(CMD, name, v, 1, MAX_LOADS, &o->loads);
	case OPT_SIZES:
		o->sizes_given = true;
		return parse_sizes(o, name, v);
	default:
		o->size_given = true;
		ret = option_uint(CMD, name, v, MIN_SIZE, MAX_SIZE, &n);
		if (!ret)
			tear_pattern_init(&o->pattern,
					  (const uint32_t[]){ n }, 1, TAG);
		return ret;
	}
}

/* The run ------------------------------------------------------------- */

static int record(struct tear_worker *w, unsigned int vop, int ret)
{
	if (ret >= 0)
		return 0;
	w->error = ret;
	w->failed_op = vop;
	return -1;
}

/* Writer w's k-th store: the run's seq-th value. */
static int step_store(struct crew_worker *cw, uint64_t k)
{
	struct tear_worker *w = cw->arg;
	unsigned char b = tear_byte(w->p, k * w->nr_writers + w->nr);
	uint32_t len = tear_len(w->p, b);

	memset(w->buf, b, len);
	return record(w, KATOMIC_VOP_STORE,
		      katomic_value_store(cw->k, w->id, w->p->tag, w->buf,
					  len, NULL));
}

/* A load, checked. */
static int step_load(struct crew_worker *cw, uint64_t k)
{
	struct tear_worker *w = cw->arg;
	size_t len = w->cap;
	__u32 tag;
	int ret;

	(void)k;
	ret = katomic_value_load(cw->k, w->id, w->buf, &len, &tag, NULL);
	if (ret < 0)
		return record(w, KATOMIC_VOP_LOAD, ret);
	tear_count(&w->tally, tear_check(w->p, tag, w->buf, len));
	return 0;
}

/* Fault the buffer in now: no page fault in the timed loop. */
static void fault_buf_in(struct crew_worker *cw)
{
	struct tear_worker *w = cw->arg;

	memset(w->buf, 0, w->cap);
}

static uint32_t largest_size(const struct tear_pattern *p)
{
	uint32_t most = 0;
	unsigned int i;

	for (i = 0; i < p->nr_sizes; i++)
		if (p->sizes[i] > most)
			most = p->sizes[i];
	return most;
}

/*
 * The slot for target t: a twin's slot 0, or the first free slot of the
 * device from --id, defined with t's kind and holding one value of the
 * run, so that no load finds it empty.
 */
static int claim_slot(struct crew_claim *c, const struct tear_opts *o,
		      const struct crew_target *t, const char *target)
{
	const struct tear_pattern *p = &o->pattern;
	uint32_t most = largest_size(p);
	struct katomic_twin_params twin = {
		.nr_slots = 1,
		.value_max = most,
	};
	struct katomic_define d = { .sync = t->sync };
	struct katomic_info info;
	unsigned char b = p->nr_bytes;
	char kind[32];
	void *first;
	int ret;

	c->object = KATOMIC_OBJ_VALUE;
	c->twin = !t->kernel;
	c->nr = 1;
	c->k = o->cc.dev;
	ret = c->twin ? katomic_twin_create(&twin, &c->k) :
	      katomic_info(c->k, &info);
	if (ret) {
		if (c->twin)
			c->k = NULL;
		return fail(target, "%s: %s (%s)", c->twin ? "twin" : "info",
			    strerror(-ret), katomic_errno_name(ret));
	}
	if (!c->twin && most > info.value_max)
		return fail(target, "a value of %u bytes (--sizes) is over the device's value_max %u (E2BIG)",
			    most, info.value_max);
	ret = crew_claim_ids(c, o->cc.id_base, CMD, target);
	snprintf(kind, sizeof(kind), "%s slots", katomic_sync_name(t->sync));
	if (!ret)
		ret = crew_define(c, d, kind, CMD, target);
	if (ret)
		return ret;
	first = malloc(tear_len(p, b));
	if (!first)
		return fail(target, "no memory for %u bytes", tear_len(p, b));
	memset(first, b, tear_len(p, b));
	ret = katomic_value_store(c->k, c->ids[0], p->tag, first,
				  tear_len(p, b), NULL);
	free(first);
	return ret ? crew_fail_object(CMD, target, "store", c->object,
				      c->ids[0], ret) : EXIT_OK;
}

/* Each worker's state: its role, its buffer. */
static int prepare_workers(const struct tear_opts *o, struct crew *crew,
			   const struct crew_claim *c, const char *target)
{
	struct tear_worker *w;
	unsigned int i;
	bool writer;

	for (i = 0; i < crew->nr; i++) {
		w = crew->w[i].arg;
		writer = i < o->nr_writers;
		w->p = &o->pattern;
		w->id = c->ids[0];
		w->nr = i;
		w->nr_writers = o->nr_writers;
		w->cap = largest_size(&o->pattern);
		w->buf = malloc(w->cap);
		if (!w->buf)
			return fail(target, "no memory for %u bytes a thread",
				    w->cap);
		crew->w[i].step = writer ? step_store : step_load;
		crew->w[i].ready = fault_buf_in;
		crew->w[i].limit = writer || !o->loads ? CREW_UNLIMITED :
				   o->loads;
		crew->w[i].counted = !writer;
	}
	return EXIT_OK;
}

/* The row of a finished run. */
static int account_run(const struct tear_opts *o, const struct crew *crew,
		       const struct crew_claim *c, const char *target,
		       struct tear_row *row)
{
	unsigned int n = crew->nr, nw = o->nr_writers, i;
	const struct tear_worker *w;

	for (i = 0; i < n; i++) {
		w = crew->w[i].arg;
		if (w->error)
			return crew_fail_object(CMD, target,
						katomic_vop_name(w->failed_op),
						c->object, w->id, w->error);
		if (i < nw)
			row->stores += crew->w[i].done;
		else
			tear_add(&row->tally, &w->tally);
	}
	if (crew_group_rates(crew, 0, nw, &row->stores_rate) ||
	    crew_group_rates(crew, nw, n - nw, &row->loads) ||
	    crew_group_rates(crew, 0, n, &row->all))
		return fail(target, "no memory for the rates");
	return EXIT_OK;
}

/* Runs the threads on the slot of c and fills the row. */
static int run_slot(const struct tear_opts *o, struct crew_claim *c,
		    const char *target, struct tear_row *row)
{
	unsigned int n = o->cc.nr_threads, i;
	struct crew *crew = NULL;
	int ret;

	if (crew_init(&crew, n, sizeof(struct tear_worker)))
		return fail(target, "no memory for %u threads", n);
	ret = crew_handles(&o->cc, crew, c, target);
	if (!ret)
		ret = prepare_workers(o, crew, c, target);
	if (!ret)
		ret = crew_run(&o->cc, crew, target);
	if (!ret && !crew_signal)
		ret = account_run(o, crew, c, target, row);
	for (i = 0; i < n; i++)
		free(((struct tear_worker *)crew->w[i].arg)->buf);
	crew_fini(crew);
	return ret;
}

static int run_target(struct crew_cmd *cc, const struct crew_target *t,
		      const char *target, void *row)
{
	const struct tear_opts *o = cc->arg;
	struct crew_claim c = { 0 };
	int ret;

	ret = claim_slot(&c, o, t, target);
	if (!ret && !crew_signal)
		ret = run_slot(o, &c, target, row);
	return crew_release(&c, CMD, target) ? EXIT_FAILED : ret;
}

/* Output -------------------------------------------------------------- */

static void print_sizes(const struct tear_pattern *p, const char *sep)
{
	unsigned int i;

	for (i = 0; i < p->nr_sizes; i++)
		printf("%s%u", i ? sep : "", p->sizes[i]);
}

static void print_header(const struct crew_cmd *cc)
{
	const struct tear_opts *o = cc->arg;

	printf("tear: %u threads (%u writers, %u readers) x ", cc->nr_threads,
	       o->nr_writers, cc->nr_threads - o->nr_writers);
	if (o->loads)
		printf("%llu loads", (unsigned long long)o->loads);
	else
		printf("%g s", cc->seconds);
	printf(", sizes ");
	print_sizes(&o->pattern, ",");
	printf("%s\n", cc->pin ? ", pinned" : "");
	printf("%-16s %14s %14s %8s %14s %13s %13s %8s\n", "target", "loads",
	       "torn", "torn%", "stores", "loads/s", "stores/s", "seconds");
}

/* A row of the table, printed as soon as its target has run. */
static void print_row(const struct crew_cmd *cc, const void *arg)
{
	const struct tear_row *r = arg;

	(void)cc;
	printf("%-16s %14llu %14llu %7.3f%% %14llu %13.0f %13.0f %8.3f\n",
	       r->target, (unsigned long long)r->tally.loads,
	       (unsigned long long)r->tally.torn, tear_share(&r->tally),
	       (unsigned long long)r->stores, r->loads.total,
	       r->stores_rate.total, r->all.seconds);
}

static void json_params(const struct crew_cmd *cc)
{
	const struct tear_opts *o = cc->arg;

	printf("\"writers\": %u, \"readers\": %u, ", o->nr_writers,
	       cc->nr_threads - o->nr_writers);
	if (o->loads) {
		printf("\"loads\": %llu, \"seconds\": null, ",
		       (unsigned long long)o->loads);
	} else {
		printf("\"loads\": null, \"seconds\": ");
		crew_json_double(cc->seconds);
		printf(", ");
	}
	printf("\"sizes\": [");
	print_sizes(&o->pattern, ", ");
	printf("], ");
}

static void json_row(const struct crew_cmd *cc, const void *arg)
{
	const struct tear_row *r = arg;

	(void)cc;
	printf(", \"loads\": %llu, \"torn\": %llu, \"torn_share\": %.6f, \"mixed\": %llu, \"bad_length\": %llu, \"bad_tag\": %llu, \"stores\": %llu, \"loads_per_s\": %.3f, \"stores_per_s\": %.3f, \"seconds\": %.9f",
	       (unsigned long long)r->tally.loads,
	       (unsigned long long)r->tally.torn, tear_share(&r->tally),
	       (unsigned long long)r->tally.mixed,
	       (unsigned long long)r->tally.length,
	       (unsigned long long)r->tally.tag,
	       (unsigned long long)r->stores, r->loads.total,
	       r->stores_rate.total, r->all.seconds);
}

/* The command --------------------------------------------------------- */

int tear_main(int argc, char **argv, const char *device,
	      const char *(*open_hint)(int err))
{
	struct tear_opts o = {
		.cc = {
			.name = CMD,
			.kinds = &slot_kinds,
			.min_threads = 2,
			.unit = "loads",
			.released = "slots undefined",
			.row_size = sizeof(struct tear_row),
			.run = run_target,
			.print_header = print_header,
			.print_row = print_row,
			.json_params = json_params,
			.json_row = json_row,
			.nr_threads = 2 * crew_online_cpus(),
			.device = device,
			.open_hint = open_hint,
		},
	};
	bool help = false;
	int ret;

	o.cc.arg = &o;
	tear_pattern_init(&o.pattern, default_sizes,
			  sizeof(default_sizes) / sizeof(default_sizes[0]),
			  TAG);
	ret = crew_parse_options(&o.cc, argc, argv, options, NR_OPTS,
				 set_option, &help);
	if (ret)
		return ret;
	if (help) {
		tear_usage(stdout);
		return EXIT_OK;
	}
	if (o.loads && o.cc.seconds)
		return usage_error("--loads and --seconds exclude each other");
	if (o.sizes_given && o.size_given)
		return usage_error("--size and --sizes exclude each other");
	if (o.nr_writers >= o.cc.nr_threads)
		return usage_error("--writers %u leaves no reader of --threads %u",
				   o.nr_writers, o.cc.nr_threads);
	if (!o.nr_writers)
		o.nr_writers = o.cc.nr_threads / 2;
	if (!o.loads && !o.cc.seconds)
		o.loads = DEFAULT_LOADS;
	return crew_main(&o.cc);
}
