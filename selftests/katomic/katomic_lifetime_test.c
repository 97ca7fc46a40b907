// SPDX-License-Identifier: GPL-2.0
/*
 * katomic lifetime tests (issue 8): what happens to a context, its
 * objects and the module when their users go in awkward orders.
 *
 *   uring_close.*      a context closed with io_uring commands in flight,
 *                      the ring and the context closed in every order:
 *                      every completion is posted or the ring torn down,
 *                      and the module's reference count comes back
 *   fork_shared        a context shared by fork: the child uses it and
 *                      exits, the parent goes on; then the parent lets go
 *                      first and the child keeps it alive
 *   lifecycles         10^4 contexts (KT_LIFECYCLES) with counters of
 *                      every kind and slots of every kind holding values:
 *                      created, used, closed; the kernel memory charged to
 *                      the test's cgroup is back to its base
 *   reload_rcu_pending with KATOMIC_RELOAD=1 only (scripts/vm-hardening.sh
 *                      loads the module again): values retired through
 *                      RCU, objects undefined, files closed and the module
 *                      removed at once (its exit waits with rcu_barrier);
 *                      every other test skips in that mode, and this one
 *                      skips without it
 */
#include <limits.h>
#include <signal.h>
#include <sys/mount.h>
#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_ctx.h"
#include "katomic_value.h"

#ifndef IOSQE_ASYNC
#define IOSQE_ASYNC	(1U << 4)
#endif

#define LT_URING_OPS	200

static bool reload_mode(void)
{
	return kt_env_ulong("KATOMIC_RELOAD", 0, 0, 1) == 1;
}

#define SKIP_IF_RELOAD()						\
	do {								\
		if (reload_mode())					\
			SKIP(return, "KATOMIC_RELOAD=1: only reload_rcu_pending runs"); \
	} while (0)

/* The module's reference count (files and rings that hold it), or -errno. */
static long lt_refs(void)
{
	FILE *f = fopen(KT_SYSFS "/refcnt", "re");
	long v = -ENOENT;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -EIO;
		fclose(f);
	}
	return v;
}

/* Poll until the reference count is at most want (io_uring drops its
 * files from a workqueue): the last count read. */
static long lt_refs_settle(long want, double secs)
{
	double t0 = kt_now();
	long r;

	while ((r = lt_refs()) > want && kt_now() - t0 < secs)
		usleep(20000);
	return r;
}

FIXTURE(life) {
	int fd;
	struct katomic_info info;
};

/* In reload mode the module may be gone: the tests skip, unopened. */
static void lt_setup(struct __test_metadata *_metadata, int *fd,
		     struct katomic_info *info)
{
	*fd = -1;
	if (!reload_mode())
		kt_setup_dev(_metadata, fd, info);
}

FIXTURE_SETUP(life)
{
	lt_setup(_metadata, &self->fd, &self->info);
}

FIXTURE_TEARDOWN(life)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* ---- a context closed with io_uring commands in flight ------------------ */

FIXTURE(uring) {
	int fd;
	struct katomic_info info;
};

/* What is closed first, and whether the completions are waited for. */
FIXTURE_VARIANT(uring) {
	bool ctx_first;		/* close the context before the ring */
	bool reap;		/* wait for every completion before closing the ring */
};

FIXTURE_VARIANT_ADD(uring, ctx_then_reap) { .ctx_first = true, .reap = true };
FIXTURE_VARIANT_ADD(uring, ctx_then_ring) { .ctx_first = true, .reap = false };
FIXTURE_VARIANT_ADD(uring, ring_then_ctx) { .ctx_first = false, .reap = false };

FIXTURE_SETUP(uring)
{
	lt_setup(_metadata, &self->fd, &self->info);
}

FIXTURE_TEARDOWN(uring)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(uring, close)
{
	struct katomic_op add;
	struct kt_ring ring;
	struct kt_cqe cqe;
	unsigned int i, posted = 0, added = 0;
	long r0 = lt_refs(), r;
	int ctx, keep, e;
	__u64 v;

	SKIP_IF_RELOAD();
	ctx = kt_ctx_new(self->fd, 4, 0, 0, KATOMIC_CTX_CLOEXEC);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, kt_define(ctx, 0, KATOMIC_TYPE_INT64, KATOMIC_SYNC_ATOMIC, 0));
	ASSERT_EQ(0, kt_define(ctx, 1, KATOMIC_TYPE_INT64, KATOMIC_SYNC_MUTEX, 0));
	/* A second descriptor, to read the outcome when the variant reaps. */
	keep = variant->reap ? dup(ctx) : -1;
	e = kt_ring_setup(&ring, 256, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (e == -ENOSYS || e == -EPERM)
		SKIP(close(ctx); return, "no io_uring: %s", strerror(-e));
	ASSERT_EQ(0, e);
	for (i = 0; i < LT_URING_OPS; i++) {
		kt_op_init(&add, i % 2, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0);
		ASSERT_EQ(0, kt_ring_queue(&ring, ctx, KATOMIC_IOC_OP, &add,
					   sizeof(add), i));
		/* Every other command goes to io-wq: in flight for real. */
		if (i % 2) {
			unsigned int idx = (*ring.sq_tail - 1) & *ring.sq_mask;
			struct io_uring_sqe *sqe = (void *)((char *)ring.sqes +
				(size_t)idx * ring.sqe_size);

			sqe->flags |= IOSQE_ASYNC;
		}
	}
	ASSERT_EQ(LT_URING_OPS, kt_ring_enter(&ring, LT_URING_OPS, 0));
	if (variant->ctx_first)
		close(ctx);
	else
		kt_ring_close(&ring);
	if (variant->reap) {
		/* Each submission completes: the ring holds the file. */
		while (posted < LT_URING_OPS) {
			ASSERT_LE(0, kt_ring_enter(&ring, 0, 1));
			while (kt_ring_reap(&ring, &cqe)) {
				ASSERT_GT(LT_URING_OPS, cqe.user_data);
				EXPECT_EQ(0, cqe.res)
					TH_LOG("command %llu: %d",
					       (unsigned long long)cqe.user_data,
					       cqe.res);
				added += cqe.res == 0;
				posted++;
			}
		}
		ASSERT_EQ(0, kt_load(keep, 0, KATOMIC_TYPE_INT64, &v));
		EXPECT_EQ(LT_URING_OPS / 2, (long long)v);
		ASSERT_EQ(0, kt_load(keep, 1, KATOMIC_TYPE_INT64, &v));
		EXPECT_EQ(LT_URING_OPS / 2, (long long)v);
		EXPECT_EQ(LT_URING_OPS, added);
		close(keep);
	}
	if (variant->ctx_first)
		kt_ring_close(&ring);
	else
		close(ctx);
	/* Nothing is left holding the module but this test's device fd. */
	r = lt_refs_settle(r0, 10);
	if (r0 >= 0)
		EXPECT_EQ(r0, r) TH_LOG("module references: %ld before, %ld after", r0, r);
}

/* ---- fork and exit with shared contexts ---------------------------------- */

#define LT_CHILD_ADDS	1000

/* The child's part: adds, a store, and exit without closing. */
static void lt_child_uses(int ctx, __u64 tag)
{
	char val[16] = "from the child";
	unsigned int i;

	for (i = 0; i < LT_CHILD_ADDS; i++)
		if (kt_do(ctx, 0, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0, NULL, NULL))
			_exit(10);
	if (kv_store(ctx, 0, tag, val, sizeof(val), NULL))
		_exit(11);
	_exit(0);
}

TEST_F(life, fork_shared)
{
	char want[16] = "from the child", got[16];
	int ctx, status, sync[2];
	long r0 = lt_refs();
	struct kv_res res;
	pid_t pid;
	__u64 v;
	char go;

	SKIP_IF_RELOAD();
	ctx = kt_ctx_new(self->fd, 2, 2, 64, 0);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, kt_define(ctx, 0, KATOMIC_TYPE_INT64, KATOMIC_SYNC_ATOMIC, 5));
	ASSERT_EQ(0, kv_define(ctx, 0, KATOMIC_SYNC_RCU));

	/* The child uses the context and exits; the parent goes on. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		lt_child_uses(ctx, 9);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status %#x", status);
	ASSERT_EQ(0, kt_load(ctx, 0, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(5 + LT_CHILD_ADDS, v);
	ASSERT_EQ(0, kv_load(ctx, 0, got, sizeof(got), &res));
	EXPECT_EQ(sizeof(want), res.len);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));

	/* The parent lets go first: the child's copy keeps the context. */
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sync[1]);
		if (read(sync[0], &go, 1) != 0)	/* EOF: the parent closed */
			_exit(12);
		lt_child_uses(ctx, 9);
	}
	close(sync[0]);
	close(ctx);
	close(sync[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status %#x", status);
	/* Both are gone: so is the context's hold on the module. */
	if (r0 >= 0)
		EXPECT_EQ(r0, lt_refs_settle(r0, 5));
}

/* ---- 10^4 lifecycles, memory back to its base -------------------------- */

static const __u8 lt_counter_kinds[] = {
	KATOMIC_SYNC_NONE, KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK,
	KATOMIC_SYNC_MUTEX, KATOMIC_SYNC_PERCPU,
};
static const __u8 lt_slot_kinds[] = {
	KATOMIC_SYNC_RCU, KATOMIC_SYNC_SEQLOCK, KATOMIC_SYNC_NONE,
};

/* One lifecycle: 0 or the first -errno. */
static int lt_lifecycle(int dev, unsigned long i)
{
	char val[200];
	unsigned int k;
	int ctx, r = 0;

	memset(val, (int)i, sizeof(val));
	ctx = kt_ctx_new(dev, 64, 8, sizeof(val), i % 2 ? KATOMIC_CTX_CLOEXEC : 0);
	if (ctx < 0)
		return ctx;
	for (k = 0; !r && k < KT_ARRAY_SIZE(lt_counter_kinds); k++)
		r = kt_define(ctx, k, KATOMIC_TYPE_INT64, lt_counter_kinds[k], i) ?:
		    kt_do(ctx, k, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0, NULL, NULL);
	for (k = 0; !r && k < KT_ARRAY_SIZE(lt_slot_kinds); k++)
		r = kv_define(ctx, k, lt_slot_kinds[k]) ?:
		    kv_store(ctx, k, 1, val, 1 + i % sizeof(val), NULL) ?:
		    kv_store(ctx, k, 1, val, sizeof(val), NULL);
	/*
	 * A few go through UNDEFINE (each waits for a grace period, some
	 * milliseconds under TCG), the others through close.
	 */
	if (!r && i % 64 == 0)
		r = kv_undefine(ctx, 0) ?: kt_undefine(ctx, 4);
	close(ctx);
	return r;
}

TEST_F_TIMEOUT(life, lifecycles, 300)
{
	/* 10^4; the 32-bit build, which runs the same paths through
	 * compat_ioctl, 10^3. */
	unsigned long n = kt_env_ulong("KT_LIFECYCLES",
				       sizeof(long) == 8 ? 10000 : 1000,
				       1, 10000000), i;
	long pg = sysconf(_SC_PAGESIZE), cpus = sysconf(_SC_NPROCESSORS_CONF);
	long long base, after, pcpu0, pcpu1, tol;
	char root[256], cg[320];
	bool mounted;
	double t0;
	int r;

	SKIP_IF_RELOAD();
	r = kt_cg_root(root, sizeof(root), &mounted);
	if (r)
		SKIP(return, "no cgroup2 hierarchy: %s", strerror(-r));
	kt_cg_write(root, "cgroup.subtree_control", "+memory");
	ASSERT_EQ(0, kt_cg_child(cg, sizeof(cg), root, "katomic-life"));
	if (kt_cg_kernel(cg) < 0) {
		rmdir(cg);
		SKIP(return, "%s/memory.stat has no kernel line", cg);
	}
	ASSERT_EQ(0, kt_cg_join(cg));
	/* Warm the caches, then the base. */
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, lt_lifecycle(self->fd, i));
	usleep(200000);
	base = kt_cg_kernel(cg);
	pcpu0 = kt_meminfo("Percpu");
	t0 = kt_now();
	for (i = 0; i < n; i++) {
		r = lt_lifecycle(self->fd, i);
		if (r)
			break;
	}
	EXPECT_EQ(0, r) TH_LOG("lifecycle %lu: %s", i, strerror(-r));
	/*
	 * As ctx.no_leak allows: per-CPU charge stocks, and pages of files,
	 * dentries and values whose RCU frees are still pending.  One
	 * context here holds over 6 KiB (64 counters of 64 bytes, slots,
	 * values): a leak of one object per lifecycle is over the bound.
	 */
	tol = (2 * cpus + 1 + 64) * pg;
	after = kt_cg_poll(cg, 0, base + tol, 10, NULL);
	pcpu1 = kt_meminfo("Percpu");
	TH_LOG("%lu lifecycles in %.1f s; cgroup kernel memory %lld -> %lld B (tolerance %lld); Percpu %lld -> %lld",
	       i, kt_now() - t0, base, after, tol, pcpu0, pcpu1);
	EXPECT_GE(base + tol, after);
	/* srcu's and (uncharged) per-CPU data: /proc/meminfo's Percpu */
	if (pcpu0 >= 0 && pcpu1 >= 0)
		EXPECT_GE(pcpu0 + (1 << 20), pcpu1);
	kt_cg_join(root);
	rmdir(cg);
	if (mounted)
		umount2(root, MNT_DETACH);
}

/* ---- rmmod while RCU frees are pending ----------------------------------- */

TEST(reload_rcu_pending)
{
	char val[512];
	struct katomic_info info;
	unsigned int k, j, slots;
	double t0;
	long r;
	int fd, ctx;

	if (!reload_mode())
		SKIP(return, "needs KATOMIC_RELOAD=1 (it removes the module)");
	if (geteuid())
		SKIP(return, "not root");
	fd = kt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_info(fd, &info));
	memset(val, 0x3c, sizeof(val));
	/* The global context: slots of every kind, values replaced. */
	slots = info.nr_slots < 48 ? info.nr_slots : 48;
	for (k = 0; k < slots; k++) {
		kv_undefine(fd, k);
		ASSERT_EQ(0, kv_define(fd, k, lt_slot_kinds[k % 3]));
		for (j = 0; j < 4; j++)
			ASSERT_EQ(0, kv_store(fd, k, 1, val,
					      1 + (k * 37 + j) % info.value_max %
						  sizeof(val), NULL));
	}
	/* Half undefined (their values retired), half left to the exit. */
	for (k = 0; k < slots; k += 2)
		ASSERT_EQ(0, kv_undefine(fd, k));
	for (k = 0; k < 8 && k < info.nr_counters; k++) {
		kt_undefine(fd, k);
		ASSERT_EQ(0, kt_define(fd, k, KATOMIC_TYPE_INT64,
				       lt_counter_kinds[k % 5], k));
	}
	/* A private context whose values all go at close. */
	ctx = kt_ctx_new(fd, 8, 256, sizeof(val), 0);
	ASSERT_LE(0, ctx);
	for (k = 0; k < 256; k++) {
		ASSERT_EQ(0, kv_define(ctx, k, KATOMIC_SYNC_RCU));
		ASSERT_EQ(0, kv_store(ctx, k, 1, val, sizeof(val), NULL));
		ASSERT_EQ(0, kv_store(ctx, k, 1, val, k + 1, NULL));
	}
	close(ctx);
	close(fd);
	/* At once: nothing of ours is open. */
	t0 = kt_now();
	do {
		r = syscall(SYS_delete_module, "katomic", O_NONBLOCK) ? -errno : 0;
	} while ((r == -EAGAIN || r == -EBUSY) && kt_now() - t0 < 5 &&
		 !usleep(10000));
	ASSERT_EQ(0, r) TH_LOG("delete_module: %s", strerror(-r));
	TH_LOG("removed %.3f s after the last close", kt_now() - t0);
}

TEST_HARNESS_MAIN
