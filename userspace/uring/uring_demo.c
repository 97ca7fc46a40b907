// SPDX-License-Identifier: GPL-2.0
/*
 * uring_demo: katomic counters through io_uring, next to one ioctl per op
 * and the batch ioctl.
 *
 *   uring_demo [-n N] [-b B] [-r R] [-d DEVICE]
 *
 * Opens /dev/katomic, makes a private context (KATOMIC_IOC_CONTEXT_NEW),
 * defines COUNTERS UINT64 counters in it and runs the same N ops five
 * ways: the NOP ioctl (the syscall floor), one KATOMIC_IOC_OP per op, one
 * KATOMIC_IOC_BATCH per B ops, and B IORING_OP_URING_CMD SQEs per
 * io_uring_enter, first on the context's descriptor and then on the same
 * descriptor registered with the ring (IOSQE_FIXED_FILE: io_uring takes
 * no file reference per SQE).  Op i adds (i % 7) + 1 to counter
 * i % COUNTERS, so the result of every op is known in advance: each is
 * checked, after the clock stops, so that the timing is the path's alone.
 * Each way runs R times, round-robin; the table shows the medians and
 * their ratios to the ioctl and to the NOP ioctl.  Three more rows are
 * yardsticks, not ways: the batch ioctl over ops refused at the first
 * check, io_uring's own NOP, and each op's 40 bytes copied in and out in
 * user space (see run_batch_floor() and run_copy()).
 *
 * Debian's liburing 2.3 has no io_uring_prep_uring_cmd(): prep_op() fills
 * the 128-byte SQE by hand.  Plain ABI and liburing only, no libkatomic,
 * so that the whole path is on this page.
 *
 * Exit status: 0 ok, 1 an operation failed or a result was wrong, 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/katomic.h>

#define COUNTERS	4

static const char *device = "/dev/katomic";
static unsigned int nr_ops = 100000, batch = 16, repeats = 5;
static int ctx;			/* the private context's descriptor */
static struct katomic_op *ops;	/* nr_ops of them */
static __u64 *expected;		/* what each op must return */
static __u64 *results;		/* what each op returned */
static struct katomic_op *bad_ops;	/* ops[] with flags 1: refused */
static int *errors;		/* and its error (0, or -errno) */

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int die(const char *what)
{
	fprintf(stderr, "uring_demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Op i, and the counters set back to 0 with their expected results. */
static void reset(void)
{
	__u64 sum[COUNTERS] = { 0 };
	unsigned int i;

	for (i = 0; i < COUNTERS; i++) {
		struct katomic_op store = {
			.id = i, .type = KATOMIC_TYPE_UINT64,
			.op = KATOMIC_OP_STORE,
		};

		if (ioctl(ctx, KATOMIC_IOC_OP, &store))
			die("store");
	}
	for (i = 0; i < nr_ops; i++) {
		ops[i] = (struct katomic_op){
			.id = i % COUNTERS, .type = KATOMIC_TYPE_UINT64,
			.op = KATOMIC_OP_ADD, .arg = i % 7 + 1,
		};
		sum[i % COUNTERS] += i % 7 + 1;
		expected[i] = sum[i % COUNTERS];	/* ADD returns the new value */
		results[i] = 0;
		errors[i] = -ENODATA;	/* until the path reports */
	}
}

/* Every op of the run that just ended, against what it must return. */
static void check(const char *path)
{
	unsigned int i;

	for (i = 0; i < nr_ops; i++) {
		if (!errors[i] && results[i] == expected[i])
			continue;
		fprintf(stderr,
			"uring_demo: %s: op %u returned %llu, error %d; expected %llu\n",
			path, i, (unsigned long long)results[i], errors[i],
			(unsigned long long)expected[i]);
		exit(1);
	}
}

/* The ways ------------------------------------------------------------ */

static void run_nop(void)
{
	unsigned int i;

	for (i = 0; i < nr_ops; i++) {
		if (ioctl(ctx, KATOMIC_IOC_NOP))
			die("nop");
		results[i] = expected[i];	/* nothing to check */
		errors[i] = 0;
	}
}

static void run_ioctl(void)
{
	unsigned int i;

	for (i = 0; i < nr_ops; i++) {
		if (ioctl(ctx, KATOMIC_IOC_OP, &ops[i]))
			die("ioctl");
		results[i] = ops[i].result;
		errors[i] = 0;
	}
}

static void run_batch(void)
{
	unsigned int i, n;

	for (i = 0; i < nr_ops; i += n) {
		n = nr_ops - i < batch ? nr_ops - i : batch;
		struct katomic_batch b = { .ops = (uintptr_t)&ops[i], .nr = n };

		if (ioctl(ctx, KATOMIC_IOC_BATCH, &b))
			die("batch");
		if (b.done != n) {
			fprintf(stderr, "uring_demo: batch: %u of %u ops ran\n",
				b.done, n);
			exit(1);
		}
	}
	for (i = 0; i < nr_ops; i++) {
		results[i] = ops[i].result;
		errors[i] = ops[i].error;
	}
}

/*
 * Yardsticks: not ways to run the ops, but what the ways cannot go below.
 *
 * batch floor: the batch ioctl over ops that the module refuses at its
 * first check (flags != 0: -EINVAL), so it copies each op in and out and
 * runs no counter op: the batch machinery alone.
 */
static void run_batch_floor(void)
{
	unsigned int i, n;

	for (i = 0; i < nr_ops; i++)
		bad_ops[i].error = 0;
	for (i = 0; i < nr_ops; i += n) {
		n = nr_ops - i < batch ? nr_ops - i : batch;
		struct katomic_batch b = { .ops = (uintptr_t)&bad_ops[i],
					   .nr = n,
					   .flags = KATOMIC_BATCH_CONTINUE };

		if (ioctl(ctx, KATOMIC_IOC_BATCH, &b))
			die("batch");
	}
	for (i = 0; i < nr_ops; i++) {	/* each must have been refused */
		results[i] = expected[i];
		errors[i] = bad_ops[i].error == -EINVAL ? 0 : -EPROTO;
	}
}

/*
 * user copy: the bytes one ioctl per op moves between user and kernel
 * (the op in, 40 bytes, and back out), copied in user space.  On hardware
 * that is a few ns against a syscall's 100-300; under QEMU's TCG it is a
 * good part of a syscall, which is why the ratios there are what they are.
 */
static void run_copy(void)
{
	static struct katomic_op scratch;
	unsigned int i;

	for (i = 0; i < nr_ops; i++) {
		memcpy(&scratch, &ops[i], sizeof(scratch));
		__asm__ volatile("" : : "r"(&scratch) : "memory");
		memcpy(&ops[i], &scratch, sizeof(scratch));
		__asm__ volatile("" : : "r"(&ops[i]) : "memory");
		results[i] = expected[i];	/* nothing to check */
		errors[i] = 0;
	}
}

static struct io_uring ring;

enum sqe_kind {
	SQE_FD,		/* URING_CMD on the context's descriptor */
	SQE_FIXED,	/* the same, the context a registered file */
	SQE_NOP,	/* IORING_OP_NOP: io_uring's own floor (a yardstick) */
};

/*
 * One counter op as an SQE: the op goes into the command area, which a
 * ring set up with IORING_SETUP_SQE128 makes 80 bytes long.  With
 * SQE_FIXED, sqe->fd is the index of the context in the ring's registered
 * files; SQE_NOP makes a NOP that io_uring completes with res 0.
 */
static void prep_op(struct io_uring_sqe *sqe, const struct katomic_op *op,
		    __u64 user_data, enum sqe_kind kind)
{
	memset(sqe, 0, offsetof(struct io_uring_sqe, cmd));
	sqe->user_data = user_data;
	if (kind == SQE_NOP) {
		sqe->opcode = IORING_OP_NOP;
		return;
	}
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = kind == SQE_FIXED ? 0 : ctx;
	sqe->flags = kind == SQE_FIXED ? IOSQE_FIXED_FILE : 0;
	sqe->cmd_op = KATOMIC_IOC_OP;
	memcpy(sqe->cmd, op, sizeof(*op));
}

static void run_uring_on(enum sqe_kind kind)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int i, n, k;
	int ret;

	for (i = 0; i < nr_ops; i += n) {
		n = nr_ops - i < batch ? nr_ops - i : batch;
		for (k = 0; k < n; k++) {
			sqe = io_uring_get_sqe(&ring);
			if (!sqe) {
				fprintf(stderr, "uring_demo: the ring is full\n");
				exit(1);
			}
			prep_op(sqe, &ops[i + k], i + k, kind);
		}
		/* One io_uring_enter: submit n, wait for n completions. */
		ret = io_uring_submit_and_wait(&ring, n);
		if (ret != (int)n) {
			errno = ret < 0 ? -ret : EIO;
			die("io_uring_submit_and_wait");
		}
		for (k = 0; k < n; k++) {
			ret = io_uring_wait_cqe(&ring, &cqe);
			if (ret) {
				errno = -ret;
				die("io_uring_wait_cqe");
			}
			/* res: applied or -errno; big_cqe[0]: the result */
			if (cqe->user_data >= nr_ops) {
				fprintf(stderr, "uring_demo: a completion for no op\n");
				exit(1);
			}
			if (kind == SQE_NOP) {	/* nothing to check but res */
				results[cqe->user_data] =
					expected[cqe->user_data];
				errors[cqe->user_data] = cqe->res ? -EPROTO : 0;
			} else {
				results[cqe->user_data] = cqe->big_cqe[0];
				errors[cqe->user_data] =
					cqe->res < 0 ? cqe->res : 0;
			}
			io_uring_cqe_seen(&ring, cqe);
		}
	}
}

static void run_uring(void)
{
	run_uring_on(SQE_FD);
}

static void run_uring_fixed(void)
{
	run_uring_on(SQE_FIXED);
}

static void run_uring_nop(void)
{
	run_uring_on(SQE_NOP);
}

/* Timing -------------------------------------------------------------- */

struct path {
	const char *name;
	void (*run)(void);
	double ns[64];		/* per op, one per repeat */
	double median;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: uring_demo [-n N] [-b B] [-r R] [-d DEVICE]\n"
"  -n N   ops per run (default 100000)\n"
"  -b B   ops per batch ioctl and SQEs per io_uring submission, 1..4096\n"
"         (default 16; the batch ioctl also needs B <= max_batch)\n"
"  -r R   repeats of each way, 1..64 (default 5): medians are shown\n"
"  -d DEVICE  (default /dev/katomic)\n");
}

static unsigned int number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max || *s == '-') {
		fprintf(stderr, "uring_demo: '%s' is not a number in 1..%lu\n",
			s, max);
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct path paths[] = {
		{ .name = "nop ioctl", .run = run_nop },
		{ .name = "ioctl", .run = run_ioctl },
		{ .name = "batch", .run = run_batch },
		{ .name = "uring", .run = run_uring },
		{ .name = "uring+fix", .run = run_uring_fixed },
		/* yardsticks from here on */
		{ .name = "batch floor", .run = run_batch_floor },
		{ .name = "uring nop", .run = run_uring_nop },
		{ .name = "user copy", .run = run_copy },
	};
	const unsigned int nr_paths = sizeof(paths) / sizeof(paths[0]);
	const unsigned int nr_ways = 5;
	struct katomic_context c = { .nr_counters = COUNTERS,
				     .flags = KATOMIC_CTX_CLOEXEC };
	struct katomic_info info;
	unsigned int p, r, i;
	int opt, dev, ret;
	double t;

	while ((opt = getopt(argc, argv, "n:b:r:d:h")) != -1) {
		switch (opt) {
		case 'n': nr_ops = number(optarg, 100000000); break;
		case 'b': batch = number(optarg, 4096); break;
		case 'r': repeats = number(optarg, 64); break;
		case 'd': device = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uring_demo: unexpected '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* A private context of our own, and its counters. */
	dev = open(device, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die(device);
	if (ioctl(dev, KATOMIC_IOC_INFO, &info))
		die("info");
	if (batch > info.max_batch) {
		fprintf(stderr, "uring_demo: -b %u is above max_batch %u\n",
			batch, info.max_batch);
		return 2;
	}
	ctx = ioctl(dev, KATOMIC_IOC_CONTEXT_NEW, &c);
	if (ctx < 0)
		die("context_new");
	close(dev);		/* the context lives on in ctx */
	for (i = 0; i < COUNTERS; i++) {
		struct katomic_define d = {
			.id = i, .object = KATOMIC_OBJ_COUNTER,
			.type = KATOMIC_TYPE_UINT64,
		};

		if (ioctl(ctx, KATOMIC_IOC_DEFINE, &d))
			die("define");
	}

	/* The ring: 128-byte SQEs for the op, 32-byte CQEs for the result. */
	ret = io_uring_queue_init(batch, &ring,
				  IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret) {
		errno = -ret;
		die("io_uring_queue_init");
	}

	/* The context, registered: file index 0 for IOSQE_FIXED_FILE. */
	ret = io_uring_register_files(&ring, &ctx, 1);
	if (ret) {
		errno = -ret;
		die("io_uring_register_files");
	}

	ops = calloc(nr_ops, sizeof(*ops));
	expected = calloc(nr_ops, sizeof(*expected));
	results = calloc(nr_ops, sizeof(*results));
	errors = calloc(nr_ops, sizeof(*errors));
	bad_ops = calloc(nr_ops, sizeof(*bad_ops));
	if (!ops || !expected || !results || !errors || !bad_ops) {
		errno = ENOMEM;
		die("calloc");
	}
	reset();
	for (i = 0; i < nr_ops; i++) {
		bad_ops[i] = ops[i];
		bad_ops[i].flags = 1;	/* no flag is defined: -EINVAL */
	}
	/* Round-robin over the ways, so that drift hits all alike. */
	for (r = 0; r < repeats; r++) {
		for (p = 0; p < nr_paths; p++) {
			reset();
			t = now_ns();
			paths[p].run();
			paths[p].ns[r] = (now_ns() - t) / nr_ops;
			check(paths[p].name);
		}
	}
	printf("uring_demo: %u ops, B = %u, %u repeats (medians), every result checked\n",
	       nr_ops, batch, repeats);
	printf("%-11s %10s %14s %10s %10s\n", "path", "ns/op", "ops/s",
	       "/ ioctl", "/ nop");
	for (p = 0; p < nr_paths; p++)
		paths[p].median = median(paths[p].ns, repeats);
	for (p = 0; p < nr_paths; p++) {
		if (p == nr_ways)
			printf("yardsticks:\n");
		printf("%-11s %10.1f %14.0f %10.3f %10.3f\n", paths[p].name,
		       paths[p].median, 1e9 / paths[p].median,
		       paths[p].median / paths[1].median,
		       paths[p].median / paths[0].median);
	}
	io_uring_queue_exit(&ring);
	close(ctx);
	free(ops);
	free(expected);
	free(results);
	free(errors);
	free(bad_ops);
	return 0;
}
