// SPDX-License-Identifier: GPL-2.0
/*
 * katomic private contexts (KATOMIC_IOC_CONTEXT_NEW, issue 5):
 *
 *  - isolation: counters and slots of one context never show in another
 *    one or in the global context, for every op of the table;
 *  - INFO on a context reports its sizes and the module-wide fields;
 *    CONTEXT_NEW on a context is -ENOTTY (the ABI);
 *  - limits: each size above its module parameter -E2BIG (at it: works),
 *    unknown flags, reserved words and slots without value_max -EINVAL,
 *    MMAP -EOPNOTSUPP while FEAT_MMAP is not claimed, a descriptor not
 *    open for writing -EBADF;
 *  - the descriptor: "[katomic]", O_RDWR, close-on-exec as asked (checked
 *    across a real exec of /bin/sh when there is one);
 *  - lifetime: dup, fork, exit and SCM_RIGHTS share one context, which
 *    outlives its creator; each live context pins the module (refcnt, and
 *    delete_module refused with only a context open); 10^4 create/close
 *    cycles in a cgroup of their own leave its kernel memory and
 *    /proc/meminfo's Percpu where they were (with a deadline), while 256
 *    live contexts do show in the cgroup (so the measure can fail).
 *
 * Skips when the module does not claim KATOMIC_FEAT_CONTEXTS.
 * Knob: KT_CTX_CYCLES (default 10000).  About 5 s in the TCG VM.
 */
#include <limits.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_ctx.h"

#define CTX_N		8	/* counters of the contexts tested */
#define CTX_SLOTS	4
#define CTX_VMAX	64

FIXTURE(ctx) {
	int fd;			/* /dev/katomic: the global context */
	struct katomic_info info;
	struct kt_limits lim;
	__u32 gid;		/* a counter of the global context */
};

FIXTURE_SETUP(ctx)
{
	kt_setup_dev(_metadata, &self->fd, &self->info);
	if (!(self->info.features & KATOMIC_FEAT_CONTEXTS))
		SKIP(return, "KATOMIC_FEAT_CONTEXTS not claimed");
	ASSERT_EQ(0, kt_limits(&self->lim));
	ASSERT_LT(0, self->info.nr_counters);
	self->gid = self->info.nr_counters - 1;
	ASSERT_EQ(0, kt_redefine(self->fd, self->gid, KATOMIC_TYPE_INT64,
				 KATOMIC_SYNC_DEFAULT, 4242));
}

FIXTURE_TEARDOWN(ctx)
{
	if (self->info.nr_counters)
		kt_undefine(self->fd, self->gid);
	close(self->fd);
}

/* A new context of CTX_N counters, CTX_SLOTS slots; ASSERTs it. */
#define NEW_CTX(var, from)						\
	int var = kt_ctx_new((from), CTX_N, CTX_SLOTS, CTX_VMAX, 0);	\
	ASSERT_LE(0, var) TH_LOG("CONTEXT_NEW: %s", strerror(-var))

/* A slot's version and tag, through VALUE LOAD; -errno if it failed. */
static int slot_peek(int fd, __u32 id, __u32 *tag, __u64 *version)
{
	char out[CTX_VMAX];
	struct katomic_value_op v = {
		.id = id, .op = KATOMIC_VOP_LOAD, .out = (uintptr_t)out,
		.out_len = sizeof(out),
	};
	int r = kt_ioctl(fd, KATOMIC_IOC_VALUE, &v);

	*tag = v.out_tag;
	*version = v.version;
	return r;
}

/*
 * Every op of the table, on every type, in context a: b and the global
 * context never see any of it.
 */
TEST_F(ctx, isolation)
{
	const struct kt_type *tp;
	struct katomic_define q;
	__u64 vals[40];
	unsigned int k, i, nv;

	NEW_CTX(a, self->fd);
	NEW_CTX(b, self->fd);

	/* a's definitions do not define b's ids, nor the reverse */
	kt_for_each_type(tp) {
		__u32 id = tp - kt_types;

		ASSERT_EQ(0, kt_define(a, id, tp->type, KATOMIC_SYNC_DEFAULT,
				       0));
		EXPECT_EQ(-ENOENT, kt_query(b, id, &q));
		ASSERT_EQ(0, kt_define(b, id, tp->type, KATOMIC_SYNC_DEFAULT,
				       7));
	}
	for (k = 0; k < KT_NR_OPS; k++) {
		kt_for_each_type(tp) {
			struct kt_type t = kt_resolve(tp, self->info.ptr_bits);
			__u32 id = tp - kt_types;
			__u64 cur = kt_value_of(_metadata, a, id, t.type), r;
			struct kt_expect e;
			__u8 applied;

			nv = kt_interesting(&t, vals, KT_ARRAY_SIZE(vals));
			for (i = 0; i < nv; i += 5) {
				__u64 arg = vals[i], arg2 = vals[(i + 3) % nv];

				if (kt_ops[k].op == KATOMIC_OP_CAS && i % 2)
					arg = cur;	/* one that swaps */
				if (kt_ops[k].operands < 2)
					arg2 = 0;
				if (kt_ops[k].operands < 1)
					arg = 0;
				e = kt_model(&t, kt_ops[k].op, cur, arg, arg2);
				ASSERT_EQ(0, kt_do(a, id, t.type, kt_ops[k].op,
						   arg, arg2, &r, &applied))
					TH_LOG("%s %s", kt_ops[k].name, t.name);
				EXPECT_EQ(e.result, r);
				EXPECT_EQ(e.applied, applied);
				cur = e.value;
				EXPECT_EQ(cur, kt_value_of(_metadata, a, id,
							   t.type));
				EXPECT_EQ(7, kt_value_of(_metadata, b, id,
							 t.type))
					TH_LOG("%s on %s in a reached b",
					       kt_ops[k].name, t.name);
			}
		}
	}
	EXPECT_EQ(4242, kt_value_of(_metadata, self->fd, self->gid,
				    KATOMIC_TYPE_INT64));

	/* and the other way: the global context's ops never reach a or b */
	ASSERT_EQ(0, kt_define(a, CTX_N - 1, KATOMIC_TYPE_INT64,
			       KATOMIC_SYNC_DEFAULT, 1));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, kt_do(self->fd, self->gid, KATOMIC_TYPE_INT64,
				   KATOMIC_OP_ADD, 1, 0, NULL, NULL));
	EXPECT_EQ(1, kt_value_of(_metadata, a, CTX_N - 1, KATOMIC_TYPE_INT64));
	EXPECT_EQ(-ENOENT, kt_load(b, CTX_N - 1, KATOMIC_TYPE_INT64, NULL));
	EXPECT_EQ(4342, kt_value_of(_metadata, self->fd, self->gid,
				    KATOMIC_TYPE_INT64));

	/* value slots too, when the module has them */
	if (self->info.features & KATOMIC_FEAT_VALUES) {
		struct katomic_define d = {
			.id = 0, .object = KATOMIC_OBJ_VALUE,
		};
		static const char msg[] = "only in a";
		struct katomic_value_op v = {
			.id = 0, .op = KATOMIC_VOP_STORE, .tag = 9,
			.len = sizeof(msg), .buf = (uintptr_t)msg,
		};
		__u64 version;
		__u32 tag;

		ASSERT_EQ(0, kt_ioctl(a, KATOMIC_IOC_DEFINE, &d));
		ASSERT_EQ(0, kt_ioctl(b, KATOMIC_IOC_DEFINE, &d));
		ASSERT_EQ(0, kt_ioctl(a, KATOMIC_IOC_VALUE, &v));
		EXPECT_EQ(0, slot_peek(b, 0, &tag, &version));
		EXPECT_EQ(0, tag);
		EXPECT_EQ(0, version);
		EXPECT_EQ(0, slot_peek(a, 0, &tag, &version));
		EXPECT_EQ(9, tag);
		EXPECT_EQ(1, version);
	}
	close(a);
	close(b);
}

/*
 * CONTEXT_NEW on a context: -ENOTTY (the ABI), whatever the argument;
 * the context is unharmed.
 */
TEST_F(ctx, no_nested)
{
	struct katomic_context bad = { .flags = 1U << 31 };

	NEW_CTX(a, self->fd);
	ASSERT_EQ(0, kt_define(a, 2, KATOMIC_TYPE_INT32, 0, 5));
	EXPECT_EQ(-ENOTTY, kt_ctx_new(a, 3, 0, 0, 0));
	EXPECT_EQ(-ENOTTY, kt_ctx_new(a, 0, 0, 0, KATOMIC_CTX_CLOEXEC));
	EXPECT_EQ(-ENOTTY, kt_ioctl(a, KATOMIC_IOC_CONTEXT_NEW, &bad));
	EXPECT_EQ(5, kt_value_of(_metadata, a, 2, KATOMIC_TYPE_INT32));
	close(a);
}

TEST_F(ctx, info)
{
	static const struct { __u32 n, s, v; } sizes[] = {
		{ 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 1 }, { 17, 3, 100 },
		{ 1000, 100, 4096 },
	};
	struct katomic_info info;
	unsigned int i, j;

	for (i = 0; i < KT_ARRAY_SIZE(sizes); i++) {
		int c = kt_ctx_new(self->fd, sizes[i].n, sizes[i].s,
				   sizes[i].v, 0);

		ASSERT_LE(0, c) TH_LOG("%u %u %u", sizes[i].n, sizes[i].s,
				       sizes[i].v);
		memset(&info, 0xee, sizeof(info));
		ASSERT_EQ(0, kt_ioctl(c, KATOMIC_IOC_INFO, &info));
		EXPECT_EQ(KATOMIC_ABI_VERSION, info.abi_version);
		EXPECT_EQ(self->info.features, info.features);
		EXPECT_EQ(sizes[i].n, info.nr_counters);
		EXPECT_EQ(sizes[i].s, info.nr_slots);
		EXPECT_EQ(sizes[i].v, info.value_max);
		EXPECT_EQ(self->info.max_batch, info.max_batch);
		EXPECT_EQ(self->info.ptr_bits, info.ptr_bits);
		for (j = 0; j < KT_ARRAY_SIZE(info.reserved); j++)
			EXPECT_EQ(0, info.reserved[j]);
		/* ids end where the context does */
		EXPECT_EQ(-EINVAL, kt_define(c, sizes[i].n, KATOMIC_TYPE_INT64,
					     0, 0));
		if (sizes[i].n)
			EXPECT_EQ(0, kt_define(c, sizes[i].n - 1,
					       KATOMIC_TYPE_INT64, 0, 0));
		EXPECT_EQ(0, kt_ioctl(c, KATOMIC_IOC_NOP, NULL));
		close(c);
	}
	/* the global context's INFO is unchanged by all that */
	ASSERT_EQ(0, kt_info(self->fd, &info));
	EXPECT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
}

TEST_F(ctx, limits)
{
	const struct kt_limits *l = &self->lim;
	struct katomic_context c;
	unsigned int bit;
	int r, ro;

	/* at each limit: works; one above: -E2BIG, each on its own */
	r = kt_ctx_new(self->fd, l->max_counters, 0, 0, 0);
	EXPECT_LE(0, r) TH_LOG("max_counters %lu: %d", l->max_counters, r);
	if (r >= 0)
		close(r);
	r = kt_ctx_new(self->fd, 0, l->max_slots, l->max_value, 0);
	EXPECT_LE(0, r) TH_LOG("max_slots, max_value: %d", r);
	if (r >= 0)
		close(r);
	EXPECT_EQ(-E2BIG, kt_ctx_new(self->fd, l->max_counters + 1, 0, 0, 0));
	EXPECT_EQ(-E2BIG, kt_ctx_new(self->fd, 0, l->max_slots + 1, 1, 0));
	EXPECT_EQ(-E2BIG, kt_ctx_new(self->fd, 0, 1, l->max_value + 1, 0));
	EXPECT_EQ(-E2BIG, kt_ctx_new(self->fd, 0, 0, l->max_value + 1, 0));
	EXPECT_EQ(-E2BIG, kt_ctx_new(self->fd, ~0U, ~0U, ~0U, 0));

	/* -EINVAL: slots without room for a value, unknown flags, reserved */
	EXPECT_EQ(-EINVAL, kt_ctx_new(self->fd, 1, 1, 0, 0));
	for (bit = 0; bit < 32; bit++) {
		__u32 f = 1U << bit;

		if (f == KATOMIC_CTX_CLOEXEC || f == KATOMIC_CTX_MMAP)
			continue;
		EXPECT_EQ(-EINVAL, kt_ctx_new(self->fd, 1, 0, 0, f))
			TH_LOG("flag %#x", f);
	}
	memset(&c, 0, sizeof(c));
	c.nr_counters = 1;
	c.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, kt_ioctl(self->fd, KATOMIC_IOC_CONTEXT_NEW, &c));
	c.reserved[0] = 0;
	c.reserved[1] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, kt_ioctl(self->fd, KATOMIC_IOC_CONTEXT_NEW, &c));

	/* MMAP is issue 9's */
	if (!(self->info.features & KATOMIC_FEAT_MMAP))
		EXPECT_EQ(-EOPNOTSUPP, kt_ctx_new(self->fd, 1, 0, 0,
						  KATOMIC_CTX_MMAP));

	/* a descriptor not open for writing makes no context */
	ro = open(KT_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, kt_ctx_new(ro, 1, 0, 0, 0));
	EXPECT_EQ(-EBADF, kt_ctx_new(ro, l->max_counters + 1, 0, 0, 0));
	close(ro);
}

/* Is fd open in a fresh /bin/sh (after an exec)?  1, 0, or -errno. */
static int open_after_exec(int fd)
{
	char cmd[64];
	int status;
	pid_t pid;

	if (access("/bin/sh", X_OK))
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d", fd);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) > 1)
		return -ECHILD;
	return WEXITSTATUS(status) == 0;
}

TEST_F(ctx, descriptor)
{
	static const __u32 flags[] = { 0, KATOMIC_CTX_CLOEXEC };
	unsigned int i;

	for (i = 0; i < KT_ARRAY_SIZE(flags); i++) {
		bool cloexec = flags[i] & KATOMIC_CTX_CLOEXEC;
		char path[64], link[64];
		ssize_t n;
		int c, fl, r;

		c = kt_ctx_new(self->fd, 1, 0, 0, flags[i]);
		ASSERT_LE(0, c);
		fl = fcntl(c, F_GETFD);
		ASSERT_LE(0, fl);
		EXPECT_EQ(cloexec, !!(fl & FD_CLOEXEC));
		fl = fcntl(c, F_GETFL);
		ASSERT_LE(0, fl);
		EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", c);
		n = readlink(path, link, sizeof(link) - 1);
		ASSERT_LT(0, n);
		link[n] = 0;
		EXPECT_STREQ("anon_inode:[katomic]", link);
		r = open_after_exec(c);
		if (r >= 0) {
			EXPECT_EQ(!cloexec, r) TH_LOG("flags %#x", flags[i]);
		} else {
			TH_LOG("no exec check: %s", strerror(-r));
		}
		close(c);
	}
}

/* A dup shares the context; it lives until the last descriptor goes. */
TEST_F(ctx, dup)
{
	int d;

	NEW_CTX(c, self->fd);
	ASSERT_EQ(0, kt_define(c, 0, KATOMIC_TYPE_UINT64, 0, 10));
	d = dup(c);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, kt_do(d, 0, KATOMIC_TYPE_UINT64, KATOMIC_OP_ADD, 5, 0,
			   NULL, NULL));
	EXPECT_EQ(15, kt_value_of(_metadata, c, 0, KATOMIC_TYPE_UINT64));
	close(c);
	EXPECT_EQ(15, kt_value_of(_metadata, d, 0, KATOMIC_TYPE_UINT64));
	close(d);
}

/*
 * fork: the child's inherited descriptor is the same context; the child
 * adds, exits, and the parent sees the sum and keeps the context.
 */
TEST_F(ctx, fork)
{
	const int kids = 4, adds = 100;
	int i, status;
	pid_t pid;

	NEW_CTX(c, self->fd);
	ASSERT_EQ(0, kt_define(c, 1, KATOMIC_TYPE_INT64, 0, 0));
	for (i = 0; i < kids; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			int j, bad = 0;

			for (j = 0; j < adds; j++)
				bad |= kt_do(c, 1, KATOMIC_TYPE_INT64,
					     KATOMIC_OP_ADD, 1, 0, NULL, NULL);
			_exit(!!bad);
		}
	}
	for (i = 0; i < kids; i++) {
		ASSERT_LT(0, wait(&status));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("a child's ADD failed: %#x", status);
	}
	EXPECT_EQ(kids * adds, kt_value_of(_metadata, c, 1,
					   KATOMIC_TYPE_INT64));
	close(c);
}

/*
 * SCM_RIGHTS and exit: a child creates a context, defines and adds in it,
 * passes the descriptor over a unix socket, closes its own and exits; the
 * parent's received descriptor is that context.  Then the parent passes
 * a context of its own to a second child, which adds in it.
 */
TEST_F(ctx, scm_rights)
{
	int sv[2], status, got;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int c = kt_ctx_new(self->fd, CTX_N, 0, 0, KATOMIC_CTX_CLOEXEC);

		if (c < 0 || kt_define(c, 5, KATOMIC_TYPE_UINT32, 0, 1000) ||
		    kt_do(c, 5, KATOMIC_TYPE_UINT32, KATOMIC_OP_ADD, 234, 0,
			  NULL, NULL) || kt_send_fd(sv[1], c))
			_exit(1);
		close(c);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	/* the creator is gone; the context is in flight in the socket */
	got = kt_recv_fd(sv[0]);
	ASSERT_LE(0, got) TH_LOG("recvmsg: %s", strerror(-got));
	EXPECT_EQ(1234, kt_value_of(_metadata, got, 5, KATOMIC_TYPE_UINT32));

	/* and from the parent to a child */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int c;

		close(got);	/* the child knows it only through the socket */
		c = kt_recv_fd(sv[1]);
		_exit(c < 0 || kt_do(c, 5, KATOMIC_TYPE_UINT32,
				     KATOMIC_OP_ADD, 1, 0, NULL, NULL));
	}
	ASSERT_EQ(0, kt_send_fd(sv[0], got));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(1235, kt_value_of(_metadata, got, 5, KATOMIC_TYPE_UINT32));
	close(got);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Each live context holds a reference to the module, dropped on its last
 * close; with only a context open, delete_module is refused and the
 * context keeps working.
 */
TEST_F(ctx, pins_module)
{
	long r0 = kt_mod_refcnt(), r;
	int c[3], i;

	if (r0 < 0)
		SKIP(return, "no %s/refcnt: %s", KT_SYSFS, strerror(-r0));
	for (i = 0; i < 3; i++) {
		c[i] = kt_ctx_new(self->fd, 1, 0, 0, 0);
		ASSERT_LE(0, c[i]);
		EXPECT_EQ(r0 + i + 1, kt_mod_refcnt());
	}
	close(c[1]);
	close(c[2]);
	EXPECT_EQ(r0 + 1, kt_mod_refcnt());

	/* only c[0] open: the module cannot go */
	kt_undefine(self->fd, self->gid);
	close(self->fd);
	self->fd = -1;
	self->info.nr_counters = 0;	/* nothing for the teardown to do */
	if (geteuid() == 0) {
		r = syscall(SYS_delete_module, "katomic", O_NONBLOCK) ? -errno
								    : 0;
		EXPECT_TRUE(r == -EWOULDBLOCK || r == -EBUSY)
			TH_LOG("delete_module with a context open: %ld", r);
		ASSERT_NE(0, r) TH_LOG("the module went with a context open");
	}
	ASSERT_EQ(0, kt_define(c[0], 0, KATOMIC_TYPE_INT64, 0, 3));
	EXPECT_EQ(3, kt_value_of(_metadata, c[0], 0, KATOMIC_TYPE_INT64));
	close(c[0]);
	EXPECT_EQ(r0 - 1, kt_mod_refcnt()) TH_LOG("after the last close");
}

/* ---- memory: 10^4 create/close cycles leak nothing ------------------------- */

#define LEAK_HOLD	256	/* contexts held open to show they are charged */

/* Steps of the child, told over a pipe. */
enum { STEP_WARM = 'W', STEP_CYCLED = 'C', STEP_HOLD = 'H', STEP_ERR = 'E' };

struct leak_report {
	char step;
	int err;		/* the first failure: -errno */
	unsigned long at;	/* and its cycle */
};

/* The child: joins the cgroup, cycles, holds, reports each step. */
static void leak_child(int dev, const char *cg, unsigned long cycles,
		       int to_parent, int from_parent)
{
	struct leak_report rep = { .step = STEP_ERR };
	int held[LEAK_HOLD];
	unsigned long i;
	char go;
	int c;

	rep.err = kt_cg_join(cg);
	for (i = 0; !rep.err && i < 200 + cycles; i++) {
		c = kt_ctx_new(dev, 16, 4, 64, i % 2 ? KATOMIC_CTX_CLOEXEC : 0);
		if (c < 0) {
			rep.err = c;
			rep.at = i;
			break;
		}
		/* a few of them with something defined */
		if (i % 10 == 0 &&
		    (rep.err = kt_define(c, i % 16, KATOMIC_TYPE_INT64,
					 i % 3 ? KATOMIC_SYNC_ATOMIC
					       : KATOMIC_SYNC_SPINLOCK, i)))
			rep.at = i;
		close(c);
		if (i + 1 == 200 || i + 1 == 200 + cycles) {
			rep.step = i + 1 == 200 ? STEP_WARM : STEP_CYCLED;
			if (write(to_parent, &rep, sizeof(rep)) != sizeof(rep) ||
			    read(from_parent, &go, 1) != 1)
				_exit(2);
		}
	}
	for (i = 0; !rep.err && i < LEAK_HOLD; i++) {
		held[i] = kt_ctx_new(dev, 16, 4, 64, 0);
		if (held[i] < 0)
			rep.err = held[i];
	}
	rep.step = rep.err ? STEP_ERR : STEP_HOLD;
	if (write(to_parent, &rep, sizeof(rep)) != sizeof(rep))
		_exit(2);
	if (read(from_parent, &go, 1) < 0)
		_exit(2);
	_exit(0);
}

static void leak_expect(struct __test_metadata *_metadata, int from_child,
			char step)
{
	struct leak_report rep = { .step = 0 };

	ASSERT_EQ(sizeof(rep), read(from_child, &rep, sizeof(rep)));
	ASSERT_EQ(step, rep.step)
		TH_LOG("the child: %d (%s) at cycle %lu", rep.err,
		       strerror(-rep.err), rep.at);
	ASSERT_EQ(0, rep.err);
}

TEST_F(ctx, no_leak)
{
	unsigned long cycles = kt_env_ulong("KT_CTX_CYCLES", 10000, 1, 1000000);
	long cpus = sysconf(_SC_NPROCESSORS_CONF), pg = sysconf(_SC_PAGESIZE);
	long long base, after, held, pcpu0, pcpu1, tol;
	int to_child[2], from_child[2], status, r;
	char root[256], cg[320];
	bool mounted;
	double t0;
	pid_t pid;

	r = kt_cg_root(root, sizeof(root), &mounted);
	if (r)
		SKIP(return, "no cgroup2 hierarchy: %s", strerror(-r));
	r = kt_cg_write(root, "cgroup.subtree_control", "+memory");
	if (r)
		TH_LOG("+memory in %s: %s (may be on already)", root,
		       strerror(-r));
	ASSERT_EQ(0, kt_cg_child(cg, sizeof(cg), root, "katomic-ctx"));
	if (kt_cg_kernel(cg) < 0) {
		rmdir(cg);
		SKIP(return, "%s/memory.stat has no kernel line", cg);
	}
	ASSERT_EQ(0, pipe2(to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from_child, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(to_child[1]);	/* so that the parent's close ends it */
		close(from_child[0]);
		leak_child(self->fd, cg, cycles, from_child[1], to_child[0]);
	}
	close(from_child[1]);
	close(to_child[0]);

	/*
	 * What a cycle leaving nothing behind may still show: per-CPU object
	 * stocks charged ahead (under a page each, and what another cgroup
	 * left, under a page each) and the report pipe's spare page; 16 more
	 * pages for files and dentries whose RCU frees are not yet done at
	 * the deadline's end.  A context of 16 counters is over 1 KiB: a
	 * leak of every one of 10^4 is over 10 MiB.
	 */
	tol = (2 * cpus + 1 + 16) * pg;
	leak_expect(_metadata, from_child[0], STEP_WARM);
	usleep(100000);
	base = kt_cg_kernel(cg);
	pcpu0 = kt_meminfo("Percpu");
	ASSERT_LE(0, base);
	t0 = kt_now();
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	leak_expect(_metadata, from_child[0], STEP_CYCLED);
	TH_LOG("%lu create/close cycles: %.2f s", cycles, kt_now() - t0);
	after = kt_cg_poll(cg, 0, base + tol, 10, NULL);
	pcpu1 = kt_meminfo("Percpu");
	EXPECT_GE(base + tol, after)
		TH_LOG("kernel memory of the cgroup: %lld before, %lld after %lu cycles",
		       base, after, cycles);
	/* srcu's per-CPU data is not charged: /proc/meminfo's Percpu */
	if (pcpu0 >= 0 && pcpu1 >= 0)
		EXPECT_GE(pcpu0 + (1 << 20), pcpu1)
			TH_LOG("Percpu: %lld before, %lld after", pcpu0, pcpu1);

	/* the measure can fail: live contexts are charged to the cgroup */
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	leak_expect(_metadata, from_child[0], STEP_HOLD);
	held = kt_cg_poll(cg, after + LEAK_HOLD * 1024LL, LLONG_MAX, 5, NULL);
	EXPECT_LE(after + LEAK_HOLD * 1024LL, held)
		TH_LOG("%d contexts held: %lld, from %lld", LEAK_HOLD, held,
		       after);
	TH_LOG("cgroup kernel memory: %lld base, %lld after, %lld with %d held (%.0f B each); Percpu %lld -> %lld",
	       base, after, held, LEAK_HOLD,
	       (double)(held - after) / LEAK_HOLD, pcpu0, pcpu1);
	close(to_child[1]);
	close(from_child[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	/* the child's exit closed its 256: back to the base */
	after = kt_cg_poll(cg, 0, base + tol, 10, NULL);
	EXPECT_GE(base + tol, after) TH_LOG("after exit: %lld", after);
	rmdir(cg);
	if (mounted)
		umount2(root, MNT_DETACH);
}

TEST_HARNESS_MAIN
