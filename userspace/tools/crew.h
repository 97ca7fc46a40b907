/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A crew: the worker threads of katomic hammer and katomic tear.  They
 * start together at a barrier, each runs its step until its limit or a
 * stop, and the main thread watches them (the deadline, SIGINT/SIGTERM, a
 * progress line), then reads what each recorded.  With the crew come what
 * both commands share around it: targets, the objects a target claims,
 * rates, options and JSON output.
 */
#ifndef KATOMIC_CREW_H
#define KATOMIC_CREW_H

#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "katomic.h"
#include "options.h"

#define CREW_LINE		64
#define CREW_MAX_THREADS	1024
#define CREW_MAX_TARGETS	64
#define CREW_MAX_SECONDS	86400.0
#define CREW_UNLIMITED		UINT64_MAX
#define CREW_TARGET_LEN		24	/* "kernel:spinlock" */

struct crew_cmd;
struct crew_worker;
/* The k-th op of a worker; non-zero stops the whole crew. */
typedef int crew_step_fn(struct crew_worker *w, uint64_t k);
/* Once the run is on, before the barrier (fault memory in, ...). */
typedef void crew_ready_fn(struct crew_worker *w);

/* A worker's cache line: written by the worker only. */
struct crew_worker {
	alignas(CREW_LINE) atomic_uint_fast64_t done;	/* steps completed */
	atomic_bool finished;
	struct timespec start, end;	/* of its steps */
	/* set by the main thread before the run */
	crew_step_fn *step;
	crew_ready_fn *ready;		/* or NULL */
	uint64_t limit;			/* steps, or CREW_UNLIMITED */
	bool counted;	/* its steps show in the progress, and the run ends
			 * once every counted worker has finished */
	struct katomic *k;		/* the handle it works on */
	void *arg;			/* the command's state of the worker */
	struct crew *crew;
	pthread_t thread;
};

struct crew {
	unsigned int nr;
	struct crew_worker *w;		/* nr of them */
	void *states;			/* the command's, nr of them */
	bool own_handles;		/* w[i].k are opened for the run */
	pthread_mutex_t lock;		/* the gate: armed, abort */
	pthread_cond_t cond;
	bool armed, abort;
	pthread_barrier_t barrier;
	alignas(CREW_LINE) atomic_bool stop;
	alignas(CREW_LINE) char end[1];	/* nothing else on stop's line */
};

/*
 * nr workers, zeroed but for crew and arg: each worker's arg is a zeroed
 * state of state_size bytes of its own, on cache lines of its own.
 * -ENOMEM.
 */
int crew_init(struct crew **out, unsigned int nr, size_t state_size);
/* Closes what crew_handles opened, frees the states.  NULL is fine. */
void crew_fini(struct crew *c);

/*
 * Starts the workers (worker i pinned to the i-th CPU of cc's, round
 * robin, with --pin), lets them go at the barrier and watches them: stops
 * them after --seconds, on a signal, on a step's failure, or once every
 * counted worker has finished; on a terminal, a progress line on stderr
 * after a second ("target: 2.5 s, 12345 unit, 50%").  Returns when all
 * have been joined: EXIT_OK, or EXIT_FAILED (reported) if the threads
 * could not start (then none ran).
 */
int crew_run(const struct crew_cmd *cc, struct crew *c, const char *target);

/* Signals ----------------------------------------------------------- */

/* SIGINT or SIGTERM once crew_main caught it, else 0.  Workers never take
 * them. */
extern volatile sig_atomic_t crew_signal;

/* Catches SIGINT and SIGTERM into crew_signal (crew_main does it). */
void crew_catch_signals(void);
/* After the cleanup: "interrupted by SIGINT; released" and katomic dies
 * of crew_signal, as if it had not been caught. */
void crew_reraise(const char *cmd, const char *released);

/* Rates -------------------------------------------------------------- */

/*
 * Rates of a run: thread t did done[t] steps from start[t] to end[t].
 * seconds is from the earliest start to the latest end; per_thread the
 * mean of each thread's own rate; total all steps over seconds.  A zero
 * duration counts as no rate (0).
 */
struct crew_rates {
	double seconds;
	double per_thread;
	double total;
};

void crew_rates(unsigned int nr_threads, const uint64_t *done,
		const struct timespec *start, const struct timespec *end,
		struct crew_rates *r);
/* The rates of workers first..first+n-1 of a finished run; -ENOMEM. */
int crew_group_rates(const struct crew *c, unsigned int first,
		     unsigned int n, struct crew_rates *r);

/* Targets ------------------------------------------------------------ */

/*
 * How a kernel target's threads reach its counters: ioctls on the global
 * context (kernel:KIND), or a KATOMIC_CTX_MMAP context of the target's
 * own, ATOMIC counters, all threads adding through the mapping
 * (kernel:mmap) or half through ioctls, half through the mapping
 * (kernel:mixed).
 */
enum crew_access {
	CREW_ACCESS_IOCTL,
	CREW_ACCESS_MMAP,
	CREW_ACCESS_MIXED,
};

/* kernel:KIND (the device) or user:KIND (a twin); kernel:mmap, kernel:mixed. */
struct crew_target {
	bool kernel;
	unsigned int sync;
	enum crew_access access;	/* CREW_ACCESS_IOCTL but for kernel */
};

/* The kinds a command takes, in the order of kernel:all and user:all. */
struct crew_kinds {
	const unsigned int *sync;
	unsigned int nr;
	const char *what;		/* "counter kind" */
	bool mapped;	/* also kernel:mmap and kernel:mixed (not in all) */
};

void crew_print_kinds(FILE *f, const struct crew_kinds *kinds);

/* Objects ------------------------------------------------------------ */

/*
 * The counters or slots (object) a target runs on: ids on the device, or
 * a twin or a mapped private context of the target's own (ids from 0,
 * closed on release; every worker shares its handle).
 */
struct crew_claim {
	struct katomic *k;
	bool twin;
	bool mapped;			/* a mapped context (crew_claim_mapped) */
	unsigned int object;		/* KATOMIC_OBJ_* */
	unsigned int nr;
	__u32 *ids;
	unsigned int nr_defined;
};

/*
 * For kernel:mmap and kernel:mixed: c->k becomes a new private context of
 * dev with c->nr counters, made with KATOMIC_CTX_MMAP and mapped (c->mapped).
 * EXIT_OK or EXIT_FAILED, reported.
 */
int crew_claim_mapped(struct crew_claim *c, struct katomic *dev,
		      const char *cmd, const char *target);
/*
 * The first c->nr free ids (QUERY says ENOENT) from base on c->k, or on a
 * twin or mapped context ids 0..nr-1, into a new c->ids.  EXIT_OK or
 * EXIT_FAILED, reported.
 */
int crew_claim_ids(struct crew_claim *c, uint32_t base, const char *cmd,
		   const char *target);
/*
 * DEFINEs every id as d says (its id aside); kind ("none uint64
 * counters") names them if the kind is not supported.  EXIT_OK or
 * EXIT_FAILED, reported.
 */
int crew_define(struct crew_claim *c, struct katomic_define d,
		const char *kind, const char *cmd, const char *target);
/* Undefines what was defined, closes a twin.  EXIT_OK or EXIT_FAILED. */
int crew_release(struct crew_claim *c, const char *cmd, const char *target);
/* "what counter 7: not defined (ENOENT)", as cmd about target. */
int crew_fail_object(const char *cmd, const char *target, const char *what,
		     unsigned int object, __u32 id, int err);

/*
 * The handle of each worker: the twin or mapped context of c, or on the
 * device a file each thread opens for itself (a file shared by threads is
 * reference-counted on every ioctl: one line all threads would write; a
 * private context cannot be opened again, so its threads share it).
 * EXIT_OK or EXIT_FAILED, reported.
 */
int crew_handles(const struct crew_cmd *cc, struct crew *crew,
		 const struct crew_claim *c, const char *target);

/* Options ------------------------------------------------------------ */

/* The online CPUs, at least 1. */
unsigned int crew_online_cpus(void);

/*
 * --pin: cc->cpus, cc->nr_cpus = the CPUs of the process's affinity mask
 * (free cc->cpus after).  EXIT_OK, or EXIT_FAILED reported as cc->name.
 */
int crew_pin_cpus(struct crew_cmd *cc);
/* --seconds S: decimal, in (0, CREW_MAX_SECONDS].  EXIT_OK or EXIT_USAGE,
 * reported as cmd. */
int crew_parse_seconds(const char *cmd, const char *s, double *v);

/*
 * Walks argv[1..]: -h or --help sets *help and ends the walk; each option
 * of opts[nr] calls set(cc, its index, its value or NULL), the options
 * every crew command takes set cc's fields; anything else is a usage
 * error that names it.  Without --target, cc's targets are all.  EXIT_OK,
 * or set's or EXIT_USAGE.
 */
int crew_parse_options(struct crew_cmd *cc, int argc, char **argv,
		       const struct option_spec *opts, unsigned int nr,
		       int (*set)(struct crew_cmd *cc, int opt,
				  const char *v),
		       bool *help);

/* JSON ---------------------------------------------------------------- */

/* A JSON string, escaped as JSON requires, on stdout. */
void crew_json_string(const char *s);
/* v in the fewest digits that read back as v: 0.1, not 0.10000000000000001. */
void crew_json_double(double v);
/* The same on f. */
void crew_fjson_string(FILE *f, const char *s);
void crew_fjson_double(FILE *f, double v);

/* The command --------------------------------------------------------- */

/*
 * A crew command (hammer, tear): the options every one takes, what it
 * does with each target, how it prints.
 */
struct crew_cmd {
	/* set by the command */
	const char *name;		/* "hammer" */
	const struct crew_kinds *kinds;	/* its targets' kinds */
	unsigned int min_threads;
	const char *unit;		/* its counted steps: "ops" */
	const char *released;		/* "counters undefined" */
	size_t row_size;	/* of its rows, which begin with their target's
				 * name: char target[CREW_TARGET_LEN] */
	void *arg;			/* the command's own */
	/*
	 * Runs target t, named target, filling row (zeroed): EXIT_OK,
	 * EXIT_FAILED (reported) or, after a signal, anything.  On the
	 * device, cc->dev is open.
	 */
	int (*run)(struct crew_cmd *cc, const struct crew_target *t,
		   const char *target, void *row);
	/* The table: a caption and a header, and a row per target. */
	void (*print_header)(const struct crew_cmd *cc);
	void (*print_row)(const struct crew_cmd *cc, const void *row);
	/* JSON: its parameters ("\"ops\": 5, ") and a row's fields
	 * (", \"lost\": 0"). */
	void (*json_params)(const struct crew_cmd *cc);
	void (*json_row)(const struct crew_cmd *cc, const void *row);
	/* the options every crew command takes */
	unsigned int nr_threads;	/* the command's default if not given */
	double seconds;			/* --seconds, else 0 */
	struct crew_target targets[CREW_MAX_TARGETS];
	unsigned int nr_targets;
	bool pin, json;
	uint32_t id_base;		/* --id */
	const char *device;		/* --device; NULL: /dev/katomic */
	const char *(*open_hint)(int err);	/* added to a failed open */
	/* set by crew_main while the targets run */
	struct katomic *dev;		/* opened for the first kernel target */
	int *cpus, nr_cpus;		/* --pin's */
};

/*
 * Runs cc's targets in order, each on its own, with its row printed as
 * soon as it has run (or all rows as JSON at the end); SIGINT or SIGTERM
 * stops the run, and once the target's objects are released katomic dies
 * of the signal.  Returns the exit status.
 */
int crew_main(struct crew_cmd *cc);

#endif /* KATOMIC_CREW_H */
