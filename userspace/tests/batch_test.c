// SPDX-License-Identifier: GPL-2.0
/*
 * Private contexts, batches and io_uring in libkatomic: the twin's batch
 * and context semantics (spec/abi.md, notes/issue5.md), the device
 * backend's marshalling of KATOMIC_IOC_BATCH and KATOMIC_IOC_CONTEXT_NEW
 * against a stand-in for the device's ioctls, and the io_uring path's
 * SQEs and completions, with a real ring on a file that has no uring_cmd.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "kselftest_harness.h"

#define U64	KATOMIC_TYPE_UINT64
#define I32	KATOMIC_TYPE_INT32
#define JUNK	0x5a5a5a5a5a5a5a5aULL	/* an out field nothing wrote */

static struct katomic_op op_of(__u32 id, unsigned int type, unsigned int op,
			       __u64 arg, __u64 arg2)
{
	return (struct katomic_op){ .id = id, .type = type, .op = op,
				    .arg = arg, .arg2 = arg2,
				    .result = JUNK, .error = 12345 };
}

/* The twin's batch ------------------------------------------------------ */

FIXTURE(twin) {
	struct katomic *k;
};

FIXTURE_SETUP(twin)
{
	ASSERT_EQ(0, katomic_twin_new(8, &self->k));
	ASSERT_EQ(0, katomic_define(self->k, 0, U64, KATOMIC_SYNC_ATOMIC, 5));
	ASSERT_EQ(0, katomic_define(self->k, 1, I32, KATOMIC_SYNC_MUTEX, 0));
}

FIXTURE_TEARDOWN(twin)
{
	katomic_close(self->k);
}

/* ADD, a failing op (counter 2 undefined), CAS that applies, LOAD. */
static void fill_ops(struct katomic_op *ops)
{
	ops[0] = op_of(0, U64, KATOMIC_OP_ADD, 3, 0);
	ops[1] = op_of(2, U64, KATOMIC_OP_LOAD, 0, 0);
	ops[2] = op_of(0, U64, KATOMIC_OP_CAS, 8, 1);
	ops[3] = op_of(1, I32, KATOMIC_OP_ADD, (__u64)-4, 0);
}

/* Both paths of a twin, katomic_batch and katomic_uring, are one. */
typedef int run_fn(struct katomic *k, struct katomic_op *ops, unsigned int nr,
		   unsigned int flags, unsigned int *done);
static run_fn *const runs[] = { katomic_batch, katomic_uring };

TEST_F(twin, stop_and_continue)
{
	struct katomic_op ops[4];
	unsigned int done, i;
	uint64_t v;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, katomic_store_uint64(self->k, 0, 5, NULL));
		fill_ops(ops);
		done = 99;
		EXPECT_EQ(0, runs[i](self->k, ops, 4, 0, &done));
		EXPECT_EQ(2, done);
		EXPECT_EQ(8, ops[0].result);
		EXPECT_EQ(0, ops[0].error);
		EXPECT_EQ(0, ops[1].result);
		EXPECT_EQ(0, ops[1].applied);
		EXPECT_EQ(-ENOENT, ops[1].error);
		/* Not run: as they were. */
		EXPECT_EQ(JUNK, ops[2].result);
		EXPECT_EQ(12345, ops[2].error);
		EXPECT_EQ(0, katomic_load_uint64(self->k, 0, &v));
		EXPECT_EQ(8, v);

		ASSERT_EQ(0, katomic_store_uint64(self->k, 0, 5, NULL));
		ASSERT_EQ(0, katomic_store_int32(self->k, 1, 0, NULL));
		fill_ops(ops);
		EXPECT_EQ(0, runs[i](self->k, ops, 4, KATOMIC_BATCH_CONTINUE,
				     &done));
		EXPECT_EQ(4, done);
		EXPECT_EQ(-ENOENT, ops[1].error);
		EXPECT_EQ(8, ops[2].result);
		EXPECT_EQ(1, ops[2].applied);
		EXPECT_EQ(0, ops[2].error);
		EXPECT_EQ((__u64)-4, ops[3].result);	/* sign-extended */
		EXPECT_EQ(0, ops[3].error);
		EXPECT_EQ(0, katomic_load_uint64(self->k, 0, &v));
		EXPECT_EQ(1, v);
		/* done may be NULL */
		fill_ops(ops);
		EXPECT_EQ(0, runs[i](self->k, ops, 1, 0, NULL));
		EXPECT_EQ(4, ops[0].result);
	}
}

TEST_F(twin, header_errors)
{
	struct katomic_op *ops = calloc(KATOMIC_TWIN_MAX_BATCH + 1,
					sizeof(*ops));
	unsigned int done = 77, i;

	ASSERT_NE(NULL, ops);
	for (i = 0; i <= KATOMIC_TWIN_MAX_BATCH; i++)
		ops[i] = op_of(0, U64, KATOMIC_OP_ADD, 1, 0);
	EXPECT_EQ(-EINVAL, katomic_batch(self->k, ops, 0, 0, &done));
	EXPECT_EQ(-EINVAL, katomic_batch(self->k, ops, 1, 2, &done));
	EXPECT_EQ(-EINVAL, katomic_batch(self->k, NULL, 0, 0,
					 &done));
	EXPECT_EQ(-E2BIG, katomic_batch(self->k, ops,
					KATOMIC_TWIN_MAX_BATCH + 1, 0, &done));
	EXPECT_EQ(77, done);
	EXPECT_EQ(JUNK, ops[0].result);		/* nothing ran */
	EXPECT_EQ(-EFAULT, katomic_batch(self->k, NULL, 1, 0, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(-EINVAL, katomic_uring(self->k, ops, 0, 0, &done));
	EXPECT_EQ(-EINVAL, katomic_uring(self->k, ops, 1, 4, &done));
	/* io_uring has no max_batch: every op runs. */
	EXPECT_EQ(0, katomic_uring(self->k, ops, KATOMIC_TWIN_MAX_BATCH + 1,
				   0, &done));
	EXPECT_EQ(KATOMIC_TWIN_MAX_BATCH + 1, done);
	EXPECT_EQ(5 + KATOMIC_TWIN_MAX_BATCH + 1,
		  ops[KATOMIC_TWIN_MAX_BATCH].result);
	free(ops);
}

/*
 * A random sequence over every op and type, with invalid ops mixed in,
 * gives the same results one op at a time and as a batch (continue).
 */
TEST(twin_batch_matches_ops)
{
	enum { N = 3000, IDS = 10 };
	struct katomic_op *a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
	struct katomic *k1, *k2;
	unsigned int i, done, type;
	int ret;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, katomic_twin_new(IDS, &k1));
	ASSERT_EQ(0, katomic_twin_new(IDS, &k2));
	for (i = 0; i < IDS - 1; i++) {		/* the last stays undefined */
		type = 1 + i % KATOMIC_TYPE_LAST;
		ASSERT_EQ(0, katomic_define(k1, i, type, 0, 0));
		ASSERT_EQ(0, katomic_define(k2, i, type, 0, 0));
	}
	srandom(5);
	for (i = 0; i < N; i++) {
		unsigned int id = random() % IDS;
		const struct katomic_op_desc *d;

		type = 1 + id % KATOMIC_TYPE_LAST;
		if (random() % 16 == 0)	/* the wrong type: -EINVAL */
			type = 1 + (type % KATOMIC_TYPE_LAST);
		a[i] = op_of(id, type, 1 + random() % KATOMIC_OP_LAST, 0, 0);
		d = katomic_op_desc(a[i].op);
		if (d->operands > 0)
			a[i].arg = random() % 8;
		if (d->operands > 1)
			a[i].arg2 = random() % 8;
		b[i] = a[i];
	}
	for (i = 0; i < N; i++) {
		ret = katomic_op(k1, &a[i]);
		if (ret < 0)
			a[i] = (struct katomic_op){ .error = ret };
		else
			a[i] = (struct katomic_op){ .result = a[i].result,
						    .applied = a[i].applied };
	}
	for (i = 0; i < N; i += KATOMIC_TWIN_MAX_BATCH)
		ASSERT_EQ(0, katomic_batch(k2, b + i, N - i < KATOMIC_TWIN_MAX_BATCH ? N - i :
					   KATOMIC_TWIN_MAX_BATCH,
					   KATOMIC_BATCH_CONTINUE, &done));
	for (i = 0; i < N; i++) {
		EXPECT_EQ(a[i].error, b[i].error);
		EXPECT_EQ(a[i].result, b[i].result);
		EXPECT_EQ(a[i].applied, b[i].applied);
		if (a[i].error != b[i].error || a[i].result != b[i].result)
			break;
	}
	katomic_close(k1);
	katomic_close(k2);
	free(a);
	free(b);
}

/* The twin's contexts --------------------------------------------------- */

TEST(twin_context)
{
	struct katomic_context c = { .nr_counters = 4, .nr_slots = 2,
				     .value_max = 16 };
	struct katomic *k, *ctx, *ctx2, *keep;
	struct katomic_info info;
	uint64_t v;

	ASSERT_EQ(0, katomic_twin_new(4, &k));
	ASSERT_EQ(0, katomic_info(k, &info));
	EXPECT_EQ(KATOMIC_FEAT_CONTEXTS | KATOMIC_FEAT_BATCH,
		  info.features & (KATOMIC_FEAT_CONTEXTS | KATOMIC_FEAT_BATCH));
	ASSERT_EQ(0, katomic_context_new(k, &c, &ctx));
	ASSERT_EQ(0, katomic_info(ctx, &info));
	EXPECT_EQ(4, info.nr_counters);
	EXPECT_EQ(2, info.nr_slots);
	EXPECT_EQ(16, info.value_max);
	EXPECT_EQ(-1, katomic_fd(ctx));
	/* Isolated: the same id in each is its own counter. */
	ASSERT_EQ(0, katomic_define(k, 0, U64, 0, 1));
	EXPECT_EQ(-ENOENT, katomic_load_uint64(ctx, 0, &v));
	ASSERT_EQ(0, katomic_define(ctx, 0, U64, 0, 7));
	EXPECT_EQ(0, katomic_add_uint64(ctx, 0, 1, &v));
	EXPECT_EQ(8, v);
	EXPECT_EQ(0, katomic_load_uint64(k, 0, &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, katomic_value_define(ctx, 1, 0));
	/* A private context makes no others (abi.md: -ENOTTY there). */
	c.flags = KATOMIC_CTX_CLOEXEC;
	ctx2 = NULL;
	EXPECT_EQ(-ENOTTY, katomic_context_new(ctx, &c, &ctx2));
	EXPECT_EQ(NULL, ctx2);

	/* The module's checks, in its order; *out untouched. */
	keep = ctx2 = (struct katomic *)&c;
	EXPECT_EQ(-EFAULT, katomic_context_new(k, NULL, &ctx2));
	c = (struct katomic_context){ .nr_counters = 1, .flags = 4 };
	EXPECT_EQ(-EINVAL, katomic_context_new(k, &c, &ctx2));
	c = (struct katomic_context){ .nr_counters = 1, .reserved[1] = 1 };
	EXPECT_EQ(-EINVAL, katomic_context_new(k, &c, &ctx2));
	c = (struct katomic_context){ .nr_counters = 1 << 20,
				      .flags = KATOMIC_CTX_MMAP };
	EXPECT_EQ(-E2BIG, katomic_context_new(k, &c, &ctx2));
	c = (struct katomic_context){ .nr_counters = KATOMIC_TWIN_MAX_COUNTERS + 1,
				      .nr_slots = 1 };
	EXPECT_EQ(-E2BIG, katomic_context_new(k, &c, &ctx2));
	c = (struct katomic_context){ .nr_slots = KATOMIC_TWIN_MAX_SLOTS + 1 };
	EXPECT_EQ(-E2BIG, katomic_context_new(k, &c, &ctx2));
	c = (struct katomic_context){ .nr_slots = 1,
				      .value_max = KATOMIC_TWIN_MAX_VALUE + 1 };
	EXPECT_EQ(-E2BIG, katomic_context_new(k, &c, &ctx2));
	c = (struct katomic_context){ .nr_counters = 1, .nr_slots = 1 };
	EXPECT_EQ(-EINVAL, katomic_context_new(k, &c, &ctx2));
	EXPECT_EQ(keep, ctx2);
	/* The limits themselves are fine, and so is an empty context. */
	c = (struct katomic_context){ .nr_counters = KATOMIC_TWIN_MAX_COUNTERS };
	ASSERT_EQ(0, katomic_context_new(k, &c, &ctx2));
	katomic_close(ctx2);
	c = (struct katomic_context){ 0 };
	ASSERT_EQ(0, katomic_context_new(k, &c, &ctx2));
	ASSERT_EQ(0, katomic_info(ctx2, &info));
	EXPECT_EQ(0, info.nr_counters);
	katomic_close(ctx2);
	katomic_close(ctx);
	katomic_close(k);
}

/* The device backend's marshalling ---------------------------------------- */

/*
 * This program's own ioctl() (a static link takes it instead of libc's)
 * stands in for /dev/katomic's commands; other ioctls go to the kernel.
 * The handle is katomic_open() of /dev/null, whose INFO it answers.
 */
static struct {
	unsigned int calls;
	int fd;
	unsigned long cmd;
	struct katomic_batch b;		/* BATCH: as passed */
	struct katomic_context c;	/* CONTEXT_NEW: as passed */
	const void *arg;
	int err;			/* fail with it; 0: succeed */
	__u32 done;			/* BATCH's answer */
	int new_fd;			/* CONTEXT_NEW's answer */
} fake;

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(cmd) != KATOMIC_IOC_MAGIC)
		return syscall(SYS_ioctl, fd, cmd, arg);
	fake.calls++;
	fake.fd = fd;
	fake.cmd = cmd;
	fake.arg = arg;
	switch (cmd) {
	case KATOMIC_IOC_INFO:
		*(struct katomic_info *)arg = (struct katomic_info){
			.abi_version = KATOMIC_ABI_VERSION,
			.max_batch = 4096,
		};
		return 0;
	case KATOMIC_IOC_BATCH:
		fake.b = *(struct katomic_batch *)arg;
		/* written back on success and on -EFAULT, as the module does */
		if (!fake.err || fake.err == EFAULT)
			((struct katomic_batch *)arg)->done = fake.done;
		break;
	case KATOMIC_IOC_NOP:
		break;
	case KATOMIC_IOC_CONTEXT_NEW:
		fake.c = *(struct katomic_context *)arg;
		if (!fake.err)
			return fake.new_fd;
		break;
	default:
		errno = ENOTTY;
		return -1;
	}
	if (fake.err) {
		errno = fake.err;
		return -1;
	}
	return 0;
}

FIXTURE(dev) {
	struct katomic *k;
	struct katomic_op ops[3];
};

FIXTURE_SETUP(dev)
{
	memset(&fake, 0, sizeof(fake));
	ASSERT_EQ(0, katomic_open("/dev/null", &self->k));
	fake.calls = 0;
}

FIXTURE_TEARDOWN(dev)
{
	katomic_close(self->k);
}

TEST_F(dev, batch)
{
	unsigned int done = 99;

	fake.done = 3;
	EXPECT_EQ(0, katomic_batch(self->k, self->ops, 3,
				   KATOMIC_BATCH_CONTINUE, &done));
	EXPECT_EQ(KATOMIC_IOC_BATCH, fake.cmd);
	EXPECT_EQ(katomic_fd(self->k), fake.fd);
	EXPECT_EQ((uintptr_t)self->ops, fake.b.ops);
	EXPECT_EQ(3, fake.b.nr);
	EXPECT_EQ(KATOMIC_BATCH_CONTINUE, fake.b.flags);
	EXPECT_EQ(0, fake.b.done);
	EXPECT_EQ(0, fake.b.reserved);
	EXPECT_EQ(3, done);
	/* -EFAULT brings done back: how far it got. */
	fake.err = EFAULT;
	fake.done = 1;
	EXPECT_EQ(-EFAULT, katomic_batch(self->k, self->ops, 3, 0, &done));
	EXPECT_EQ(1, done);
	/* Other errors: the device's errno, done untouched; the header is
	 * the module's to check. */
	fake.err = E2BIG;
	EXPECT_EQ(-E2BIG, katomic_batch(self->k, self->ops, 5000, 0, &done));
	EXPECT_EQ(5000, fake.b.nr);
	fake.err = EINVAL;
	EXPECT_EQ(-EINVAL, katomic_batch(self->k, self->ops, 0, 8, &done));
	EXPECT_EQ(8, fake.b.flags);
	EXPECT_EQ(1, done);
	EXPECT_EQ(4, fake.calls);
}

TEST_F(dev, context_new)
{
	struct katomic_context c = { .nr_counters = 9, .nr_slots = 3,
				     .value_max = 100,
				     .flags = KATOMIC_CTX_CLOEXEC };
	struct katomic *ctx = NULL;

	fake.new_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fake.new_fd);
	ASSERT_EQ(0, katomic_context_new(self->k, &c, &ctx));
	EXPECT_EQ(KATOMIC_IOC_CONTEXT_NEW, fake.cmd);
	EXPECT_EQ(katomic_fd(self->k), fake.fd);
	EXPECT_EQ(0, memcmp(&c, &fake.c, sizeof(c)));
	ASSERT_NE(NULL, ctx);
	EXPECT_EQ(fake.new_fd, katomic_fd(ctx));
	/* The new handle is a device handle on that descriptor. */
	EXPECT_EQ(0, katomic_nop(ctx));
	EXPECT_EQ(KATOMIC_IOC_NOP, fake.cmd);
	EXPECT_EQ(fake.new_fd, fake.fd);
	katomic_close(ctx);
	EXPECT_EQ(-1, fcntl(fake.new_fd, F_GETFD));	/* closed */
	fake.err = EBADF;
	ctx = NULL;
	EXPECT_EQ(-EBADF, katomic_context_new(self->k, &c, &ctx));
	EXPECT_EQ(NULL, ctx);
}

/* io_uring ------------------------------------------------------------- */

TEST(uring_prep_and_complete)
{
	union {
		struct io_uring_sqe sqe;
		unsigned char raw[128];
	} s;
	union {
		struct io_uring_cqe cqe;
		unsigned char raw[32];
	} c;
	struct katomic_op op = op_of(7, U64, KATOMIC_OP_CAS, 1, 2), out = op;
	size_t at = offsetof(struct io_uring_sqe, cmd), i;

	memset(&s, 0xee, sizeof(s));
	katomic__uring_prep(&s.sqe, 42, &op, 1234, true);
	EXPECT_EQ(IORING_OP_URING_CMD, s.sqe.opcode);
	EXPECT_EQ(42, s.sqe.fd);
	EXPECT_EQ(KATOMIC_IOC_OP, s.sqe.cmd_op);
	EXPECT_EQ(1234, s.sqe.user_data);
	EXPECT_EQ(IOSQE_IO_LINK, s.sqe.flags);
	EXPECT_EQ(0, s.sqe.ioprio);
	EXPECT_EQ(0, s.sqe.personality);
	EXPECT_EQ(0, memcmp(s.raw + at, &op, sizeof(op)));
	for (i = at + sizeof(op); i < sizeof(s); i++)
		EXPECT_EQ(0, s.raw[i]);
	katomic__uring_prep(&s.sqe, 3, &op, 0, false);
	EXPECT_EQ(0, s.sqe.flags);

	memset(&c, 0, sizeof(c));
	c.cqe.res = 1;
	c.cqe.big_cqe[0] = 0xfffffffffffffff0ULL;
	EXPECT_EQ(0, katomic__uring_complete(&c.cqe, &out));
	EXPECT_EQ(0xfffffffffffffff0ULL, out.result);
	EXPECT_EQ(1, out.applied);
	EXPECT_EQ(0, out.error);
	c.cqe.res = -ENOENT;
	EXPECT_EQ(-ENOENT, katomic__uring_complete(&c.cqe, &out));
	EXPECT_EQ(0, out.result);
	EXPECT_EQ(0, out.applied);
	EXPECT_EQ(-ENOENT, out.error);
}

/*
 * A real ring on a descriptor without uring_cmd (/dev/zero): every op
 * completes with -EOPNOTSUPP, which shows stop (the linked rest is
 * cancelled, never reported) and continue across several submissions.
 */
TEST(uring_on_a_file_without_uring_cmd)
{
	enum { N = 2 * KATOMIC_URING_ENTRIES + 88 };
	struct katomic_op *ops = calloc(N, sizeof(*ops));
	unsigned int done = 99, i;
	struct katomic *k;
	int ret;

	ASSERT_NE(NULL, ops);
	ASSERT_EQ(0, katomic_open("/dev/zero", &k));
	for (i = 0; i < N; i++)
		ops[i] = op_of(i, U64, KATOMIC_OP_ADD, 1, 0);
	fake.calls = 0;
	ret = katomic_uring(k, ops, 3, 0, &done);
	if (ret == -ENOSYS || ret == -EPERM) {
		katomic_close(k);
		free(ops);
		SKIP(return, "io_uring is off here (%s)", strerror(-ret));
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EOPNOTSUPP, ops[0].error);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(12345, ops[1].error);
	EXPECT_EQ(JUNK, ops[2].result);
	EXPECT_EQ(0, fake.calls);		/* no ioctl */

	EXPECT_EQ(0, katomic_uring(k, ops, N, KATOMIC_BATCH_CONTINUE, &done));
	EXPECT_EQ(N, done);
	for (i = 0; i < N; i++) {
		EXPECT_EQ(-EOPNOTSUPP, ops[i].error);
		if (ops[i].error != -EOPNOTSUPP)
			break;
	}
	/* The ring stays usable, and the header is checked. */
	EXPECT_EQ(0, katomic_uring(k, ops + N - 1, 1, 0, &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EINVAL, katomic_uring(k, ops, 0, 0, &done));
	EXPECT_EQ(-EFAULT, katomic_uring(k, NULL, 1, 0, &done));
	katomic_close(k);
	free(ops);
}

/*
 * /dev/null's uring_cmd (Linux 6.0 on) completes every command with res
 * 0 and nothing in the extra words: each op succeeds with result 0 and
 * applied 0, linked or not, over several submissions.
 */
TEST_F(dev, uring_on_dev_null)
{
	enum { N = KATOMIC_URING_ENTRIES + 5 };
	struct katomic_op ops[N];
	unsigned int done = 99, i, flags;
	int ret;

	for (flags = 0; flags <= KATOMIC_BATCH_CONTINUE; flags++) {
		for (i = 0; i < N; i++) {
			ops[i] = op_of(i, U64, KATOMIC_OP_CAS, 1, 2);
			ops[i].applied = 1;
		}
		ret = katomic_uring(self->k, ops, N, flags, &done);
		if (ret == -ENOSYS || ret == -EPERM)
			SKIP(return, "io_uring is off here (%s)",
			     strerror(-ret));
		ASSERT_EQ(0, ret);
		if (ops[0].error == -EOPNOTSUPP)
			SKIP(return, "this kernel's /dev/null has no uring_cmd");
		EXPECT_EQ(N, done);
		for (i = 0; i < N; i++) {
			EXPECT_EQ(0, ops[i].error);
			EXPECT_EQ(0, ops[i].result);
			EXPECT_EQ(0, ops[i].applied);
			if (ops[i].error || ops[i].result)
				break;
		}
	}
}

TEST_HARNESS_MAIN
