// SPDX-License-Identifier: GPL-2.0
/*
 * katomic permission and leak tests (issue 8).
 *
 *   unprivileged_open   a process of uid/gid 65534 opens /dev/katomic as
 *                       devmode allows: -EACCES at 0600 (the default),
 *                       and a working device at 0666 (scripts/
 *                       vm-hardening.sh runs this test again so)
 *   private_ctx_by_fd   such a process reaches a private context through
 *                       a descriptor it inherited or got by SCM_RIGHTS,
 *                       and through nothing else (not by /proc/self/fd)
 *   canary.*            every struct the module copies out, filled with
 *                       0xA5 first: every byte afterwards is a documented
 *                       output with its right value, or as it was given
 *   memcg_enomem        in a cgroup with memory.max 32 MiB, large contexts
 *                       (plain and mapped) and large value stores fail
 *                       with -ENOMEM: the kernel memory they take, a
 *                       mapped context's cells too, is charged to the
 *                       cgroup, and at its limit they fail without an OOM
 *                       event
 *
 * The unprivileged parts need root (to drop to uid 65534) and skip without.
 */
#include <grp.h>
#include <limits.h>
#include <sys/mount.h>
#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_ctx.h"
#include "katomic_value.h"

#define PT_CANARY	0xA5
#define PT_NOBODY	65534

/*
 * /dev, opened by root before a child drops its privileges: the child
 * opens the device relative to it, so that what is checked is the
 * device's mode, not the search permission of the directories above
 * (the test bed's initramfs root is 0700).
 */
static int pt_devdir = -1;

static int pt_open_dev(void)
{
	if (pt_devdir < 0)
		pt_devdir = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return openat(pt_devdir, "katomic", O_RDWR | O_CLOEXEC);
}

/* Become uid and gid 65534 with no groups: 0 or -errno. */
static int pt_drop(void)
{
	if (setgroups(0, NULL) || setgid(PT_NOBODY) || setuid(PT_NOBODY))
		return -errno;
	return 0;
}

/* Does devmode let others (not owner, not group) open for read and write? */
static int pt_others_rw(bool *rw)
{
	unsigned long mode = 0;
	int r = kt_param("devmode", &mode);

	*rw = (mode & 006) == 006;
	return r;
}

/* Run fn(arg) in a child as uid 65534: its exit status (0 ok), or -1. */
static int pt_as_nobody(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(pt_devdir < 0 || pt_drop() ? 100 : fn(arg));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- opening the device ------------------------------------------------ */

/* 0: open as devmode says; 1..: the step that went wrong. */
static int pt_open_check(void *arg)
{
	bool rw = *(bool *)arg;
	struct katomic_info info;
	int fd = pt_open_dev(), ctx;

	if (!rw)
		return fd < 0 && errno == EACCES ? 0 : 1;
	if (fd < 0 || kt_info(fd, &info)) {
		fprintf(stderr, "# uid %d: open or INFO: %s\n", PT_NOBODY,
			strerror(errno));
		return 2;
	}
	ctx = kt_ctx_new(fd, 2, 1, 8, 0);
	if (ctx < 0 || kt_define(ctx, 1, KATOMIC_TYPE_UINT32, 0, 6) ||
	    kt_do(ctx, 1, KATOMIC_TYPE_UINT32, KATOMIC_OP_ADD, 1, 0, NULL, NULL))
		return 3;
	return 0;
}

TEST(unprivileged_open)
{
	bool rw;

	if (geteuid())
		SKIP(return, "not root: cannot become another user");
	ASSERT_EQ(0, pt_others_rw(&rw));
	ASSERT_LE(0, close(pt_open_dev()));	/* opens /dev too */
	EXPECT_EQ(0, pt_as_nobody(pt_open_check, &rw))
		TH_LOG("uid %d: open /dev/katomic with devmode %s others: not as it should be",
		       PT_NOBODY, rw ? "letting in" : "shutting out");
}

/* ---- a private context: only through a descriptor ------------------------ */

struct pt_fds {
	int inherited, sock;
	bool rw;
};

static int pt_fd_check(void *arg)
{
	const struct pt_fds *f = arg;
	char path[64];
	__u64 v;
	int got, fd;

	/* The device: shut at 0600. */
	fd = pt_open_dev();
	if (!f->rw && (fd >= 0 || errno != EACCES))
		return 1;
	/* The inherited context works. */
	if (kt_load(f->inherited, 0, KATOMIC_TYPE_INT64, &v) || v != 42 ||
	    kt_do(f->inherited, 0, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0,
		  NULL, NULL))
		return 2;
	/* No path leads to it: not its /proc/self/fd link. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->inherited);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return 3;
	/* The one sent works. */
	got = kt_recv_fd(f->sock);
	if (got < 0 || kt_load(got, 0, KATOMIC_TYPE_INT64, &v) || v != 7)
		return 4;
	return kt_store(got, 0, KATOMIC_TYPE_INT64, 8) ? 5 : 0;
}

TEST(private_ctx_by_fd)
{
	struct pt_fds f;
	int dev, sent, sv[2], status;
	char path[64];
	pid_t pid;
	__u64 v;

	if (geteuid())
		SKIP(return, "not root: cannot become another user");
	ASSERT_EQ(0, pt_others_rw(&f.rw));
	dev = pt_open_dev();
	ASSERT_LE(0, dev);
	f.inherited = kt_ctx_new(dev, 1, 0, 0, 0);
	sent = kt_ctx_new(dev, 1, 0, 0, KATOMIC_CTX_CLOEXEC);
	ASSERT_LE(0, f.inherited);
	ASSERT_LE(0, sent);
	ASSERT_EQ(0, kt_define(f.inherited, 0, KATOMIC_TYPE_INT64, 0, 42));
	ASSERT_EQ(0, kt_define(sent, 0, KATOMIC_TYPE_INT64, 0, 7));
	/* Not even root reopens it by path. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f.inherited);
	EXPECT_GT(0, open(path, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	f.sock = sv[1];
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(dev);
		close(sent);
		_exit(pt_drop() ? 100 : pt_fd_check(&f));
	}
	ASSERT_EQ(0, kt_send_fd(sv[0], sent));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the unprivileged child: status %#x (step %d)", status,
		       WEXITSTATUS(status));
	ASSERT_EQ(0, kt_load(f.inherited, 0, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(43, v);
	ASSERT_EQ(0, kt_load(sent, 0, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(8, v);
	close(sv[0]);
	close(sv[1]);
	close(sent);
	close(f.inherited);
	close(dev);
}

/* ---- canaries: every byte copied out ------------------------------------- */

FIXTURE(canary) {
	int dev, ctx;
	struct katomic_info info;
};

FIXTURE_SETUP(canary)
{
	kt_setup_dev(_metadata, &self->dev, &self->info);
	self->ctx = kt_ctx_new(self->dev, 8, 4, 64, KATOMIC_CTX_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, kt_define(self->ctx, 0, KATOMIC_TYPE_INT32, 0, -5));
	ASSERT_EQ(0, kt_define(self->ctx, 1, KATOMIC_TYPE_UINT64,
			       KATOMIC_SYNC_MUTEX, 9));
	ASSERT_EQ(0, kv_define(self->ctx, 0, KATOMIC_SYNC_RCU));
	ASSERT_EQ(0, kv_store(self->ctx, 0, 3, "canary!", 7, NULL));
}

FIXTURE_TEARDOWN(canary)
{
	close(self->ctx);
	close(self->dev);
}

/*
 * Bytes [from, to) of got and given are equal: the first that is not,
 * or -1.
 */
static int pt_diff(const void *got, const void *given, size_t from, size_t to)
{
	const unsigned char *a = got, *b = given;
	size_t i;

	for (i = from; i < to; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

/* An out field no longer holds a run of canary bytes. */
static bool pt_written(const void *field, size_t len)
{
	const unsigned char *p = field;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != PT_CANARY)
			return true;
	return false;
}

#define PT_SPAN(s, a, b) offsetof(s, a), offsetof(s, b)

/* A counter op of id, its out fields (applied, result, error) canary. */
static void pt_op(struct katomic_op *o, __u32 id, __u8 type, __u8 op,
		  __u64 arg)
{
	kt_op_init(o, id, type, op, arg, 0);
	memset(&o->applied, PT_CANARY, 1);
	memset(&o->result, PT_CANARY, sizeof(o->result));
	memset(&o->error, PT_CANARY, sizeof(o->error));
}

/* Only the out fields of o differ from given. */
static bool pt_op_ins_kept(const struct katomic_op *o,
			   const struct katomic_op *given)
{
	return pt_diff(o, given, 0, offsetof(struct katomic_op, applied)) < 0 &&
	       pt_diff(o, given, PT_SPAN(struct katomic_op, arg, result)) < 0 &&
	       pt_diff(o, given, offsetof(struct katomic_op, reserved),
		       sizeof(*o)) < 0;
}

TEST_F(canary, info)
{
	struct katomic_info i;
	unsigned int k;

	memset(&i, PT_CANARY, sizeof(i));
	ASSERT_EQ(0, kt_ioctl(self->ctx, KATOMIC_IOC_INFO, &i));
	EXPECT_EQ(KATOMIC_ABI_VERSION, i.abi_version);
	EXPECT_EQ(self->info.features, i.features);
	EXPECT_EQ(8, i.nr_counters);
	EXPECT_EQ(4, i.nr_slots);
	EXPECT_EQ(64, i.value_max);
	EXPECT_EQ(self->info.max_batch, i.max_batch);
	EXPECT_EQ(self->info.ptr_bits, i.ptr_bits);
	EXPECT_TRUE(i.ptr_bits == 32 || i.ptr_bits == 64);
	for (k = 0; k < KT_ARRAY_SIZE(i.reserved); k++)
		EXPECT_EQ(0, i.reserved[k]) TH_LOG("reserved[%u]", k);
}

TEST_F(canary, query)
{
	struct katomic_define d, given;

	memset(&d, PT_CANARY, sizeof(d));
	d.id = 1;
	d.object = KATOMIC_OBJ_COUNTER;
	d.flags = 0;
	d.init = 0;
	d.reserved = 0;
	given = d;
	ASSERT_EQ(0, kt_ioctl(self->ctx, KATOMIC_IOC_QUERY, &d));
	EXPECT_EQ(KATOMIC_TYPE_UINT64, d.type);
	EXPECT_EQ(KATOMIC_SYNC_MUTEX, d.sync);
	EXPECT_EQ(0, d.param);
	/* id, object; flags..reserved as given */
	EXPECT_EQ(-1, pt_diff(&d, &given, 0, offsetof(struct katomic_define, type)));
	EXPECT_EQ(-1, pt_diff(&d, &given, PT_SPAN(struct katomic_define, flags, param)));
	EXPECT_EQ(-1, pt_diff(&d, &given, offsetof(struct katomic_define, reserved),
			      sizeof(d)));
}

TEST_F(canary, op)
{
	struct katomic_op o, given;

	pt_op(&o, 0, KATOMIC_TYPE_INT32, KATOMIC_OP_ADD, 2);
	given = o;
	ASSERT_EQ(0, kt_ioctl(self->ctx, KATOMIC_IOC_OP, &o));
	EXPECT_EQ((__u64)-3, o.result);	/* INT32 sign-extended */
	EXPECT_EQ(0, o.applied);
	EXPECT_EQ(0, o.error);
	EXPECT_TRUE(pt_op_ins_kept(&o, &given));
}

TEST_F(canary, batch)
{
	struct katomic_op ops[20], given[20];
	struct katomic_batch b, bgiven;
	unsigned int i;

	for (i = 0; i < 20; i++) {
		/* op 5 on an undefined counter: it fails, the batch goes on */
		pt_op(&ops[i], i == 5 ? 7 : 0, KATOMIC_TYPE_INT32,
		      KATOMIC_OP_ADD, 1);
	}
	memcpy(given, ops, sizeof(ops));
	memset(&b, 0, sizeof(b));
	b.ops = (uintptr_t)ops;
	b.nr = 20;
	b.flags = KATOMIC_BATCH_CONTINUE;
	memset(&b.done, PT_CANARY, sizeof(b.done));
	bgiven = b;
	ASSERT_EQ(0, kt_ioctl(self->ctx, KATOMIC_IOC_BATCH, &b));
	EXPECT_EQ(20, b.done);
	EXPECT_EQ(-1, pt_diff(&b, &bgiven, 0, offsetof(struct katomic_batch, done)));
	EXPECT_EQ(bgiven.reserved, b.reserved);
	for (i = 0; i < 20; i++) {
		EXPECT_EQ(i == 5 ? -ENOENT : 0, ops[i].error) TH_LOG("op %u", i);
		EXPECT_EQ(0, ops[i].applied) TH_LOG("op %u", i);
		EXPECT_EQ(i == 5 ? 0 : (__u64)((__s64)i - 5 + (i < 5)),
			  ops[i].result) TH_LOG("op %u", i);
		EXPECT_TRUE(pt_op_ins_kept(&ops[i], &given[i])) TH_LOG("op %u", i);
	}
}

TEST_F(canary, value)
{
	struct katomic_value_op v, given;
	unsigned char out[64];
	unsigned int i;

	/* LOAD: out_len, out_tag, version written; 7 bytes of out */
	kv_op_init(&v, 0, KATOMIC_VOP_LOAD);
	memset(out, PT_CANARY, sizeof(out));
	kv_op_out(&v, out, sizeof(out));
	memset(&v.applied, PT_CANARY, 1);
	memset(&v.out_tag, PT_CANARY, sizeof(v.out_tag));
	memset(&v.version, PT_CANARY, sizeof(v.version));
	given = v;
	ASSERT_EQ(0, kv_vop(self->ctx, &v));
	EXPECT_EQ(7, v.out_len);
	EXPECT_EQ(3, v.out_tag);
	EXPECT_EQ(1, v.version);
	EXPECT_EQ(0, memcmp(out, "canary!", 7));
	for (i = 7; i < sizeof(out); i++)
		EXPECT_EQ(PT_CANARY, out[i]) TH_LOG("out[%u]", i);
	/* applied: not LOAD's output; as given or cleared, never garbage */
	EXPECT_TRUE(v.applied == PT_CANARY || v.applied == 0);
	EXPECT_EQ(-1, pt_diff(&v, &given, 0, offsetof(struct katomic_value_op, applied)));
	EXPECT_EQ(-1, pt_diff(&v, &given, PT_SPAN(struct katomic_value_op,
						   reserved0, out_len)));
	EXPECT_EQ(given.reserved, v.reserved);

	/* -ERANGE: out_len says what is needed, nothing else moves */
	kv_op_init(&v, 0, KATOMIC_VOP_LOAD);
	memset(out, PT_CANARY, sizeof(out));
	kv_op_out(&v, out, 3);
	memset(&v.out_tag, PT_CANARY, sizeof(v.out_tag));
	memset(&v.version, PT_CANARY, sizeof(v.version));
	given = v;
	ASSERT_EQ(-ERANGE, kv_vop(self->ctx, &v));
	EXPECT_EQ(7, v.out_len);
	EXPECT_FALSE(pt_written(out, sizeof(out)));
	EXPECT_EQ(-1, pt_diff(&v, &given, 0, offsetof(struct katomic_value_op, out_len)));
	EXPECT_EQ(-1, pt_diff(&v, &given, offsetof(struct katomic_value_op, out_tag),
			      offsetof(struct katomic_value_op, version)));

	/* CAS: applied and version written; out_len, out_tag as given */
	kv_op_init(&v, 0, KATOMIC_VOP_CAS);
	kv_op_value(&v, 3, "CANARY!", 7);
	kv_op_out(&v, "canary!", 7);
	v.out_tag = 3;
	memset(&v.applied, PT_CANARY, 1);
	memset(&v.version, PT_CANARY, sizeof(v.version));
	given = v;
	ASSERT_EQ(0, kv_vop(self->ctx, &v));
	EXPECT_EQ(1, v.applied);
	EXPECT_EQ(2, v.version);
	EXPECT_EQ(-1, pt_diff(&v, &given, 0, offsetof(struct katomic_value_op, applied)));
	EXPECT_EQ(-1, pt_diff(&v, &given, PT_SPAN(struct katomic_value_op,
						   reserved0, version)));
}

TEST_F(canary, uring)
{
	struct katomic_op o;
	struct kt_ring ring;
	unsigned int i;
	int e;

	e = kt_ring_setup(&ring, 8, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (e == -ENOSYS || e == -EPERM)
		SKIP(return, "no io_uring: %s", strerror(-e));
	ASSERT_EQ(0, e);
	/* Every CQE slot filled with canary: a posted one is wholly written. */
	memset(ring.cqes, PT_CANARY, (size_t)ring.cq_entries * ring.cqe_size);
	for (i = 0; i < 4; i++) {
		struct kt_cqe c;

		kt_op_init(&o, 1, KATOMIC_TYPE_UINT64, KATOMIC_OP_SWAP, 100 + i, 0);
		ASSERT_EQ(0, kt_ring_queue(&ring, self->ctx, KATOMIC_IOC_OP, &o,
					   sizeof(o), i));
		ASSERT_EQ(1, kt_ring_enter(&ring, 1, 1));
		ASSERT_TRUE(kt_ring_reap(&ring, &c));
		EXPECT_EQ(i, c.user_data);
		EXPECT_EQ(0, c.res);
		EXPECT_EQ(0, c.flags);
		EXPECT_EQ(i ? 99 + i : 9, c.big[0]);
		EXPECT_EQ(0, c.big[1]);
	}
	kt_ring_close(&ring);
}

TEST_F(canary, context_new)
{
	struct katomic_context c, given;
	int fd;

	/* _IOW: nothing is copied back; the new fd is the return value. */
	memset(&c, 0, sizeof(c));
	c.nr_counters = 3;
	given = c;
	fd = kt_ioctl(self->dev, KATOMIC_IOC_CONTEXT_NEW, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, memcmp(&c, &given, sizeof(c)));
	close(fd);
}

/* ---- a small memory.max: ENOMEM, not the machine's memory ---------------- */

#define PT_MEMMAX	(32 << 20)

/* The number a file holds, or -errno. */
static long long pt_read_ll(const char *path)
{
	FILE *f = fopen(path, "re");
	long long v = -ENOENT;

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -EIO;
		fclose(f);
	}
	return v;
}
#define PT_HOLD		64

/* Big contexts made with flags until one fails: its -errno (0: none did). */
static int pt_fill(int dev, const struct kt_limits *l, __u32 flags)
{
	int held[PT_HOLD], n, r;

	for (n = 0; n < PT_HOLD; n++) {
		held[n] = kt_ctx_new(dev, l->max_counters, l->max_slots, 1, flags);
		if (held[n] < 0)
			break;
	}
	r = n < PT_HOLD ? held[n] : 0;
	while (n > 0)
		close(held[--n]);
	return r;
}

/* What making one big context with flags adds to memory.current. */
static long long pt_charge(const char *current, int dev,
			   const struct kt_limits *l, __u32 flags)
{
	long long before = pt_read_ll(current), after;
	int ctx = kt_ctx_new(dev, l->max_counters, l->max_slots, 1, flags);

	if (ctx < 0)
		return ctx;
	after = pt_read_ll(current);
	close(ctx);
	return after - before;
}

/*
 * In the cgroup: big contexts until one fails, plain and mapped; a mapped
 * context charged its cells (max_counters * 64 B) on top of what a plain
 * one costs; then big values.  Exit 0 if all of that holds.
 */
static int pt_memcg_child(const char *cg, int dev, const struct kt_limits *l,
			  unsigned char *val)
{
	long long plain, mapped, cells = (long long)l->max_counters * 64;
	char current[400];
	int r = 0, ctx, k;

	if (kt_cg_join(cg))
		return 20;
	if (pt_fill(dev, l, 0) != -ENOMEM)
		return 21;
	if (pt_fill(dev, l, KATOMIC_CTX_MMAP) != -ENOMEM)
		return 24;
	snprintf(current, sizeof(current), "%s/memory.current", cg);
	plain = pt_charge(current, dev, l, 0);
	mapped = pt_charge(current, dev, l, KATOMIC_CTX_MMAP);
	if (plain < 0 || mapped - plain < cells * 3 / 4) {
		printf("# a plain context charged %lld B, a mapped one %lld B (its cells: %lld B)\n",
		       plain, mapped, cells);
		return 25;
	}
	ctx = kt_ctx_new(dev, 1, PT_HOLD, l->max_value, 0);
	if (ctx < 0)
		return 22;
	for (k = 0, r = 0; !r && k < PT_HOLD; k++)
		r = kv_define(ctx, k, KATOMIC_SYNC_RCU) ?:
		    kv_store(ctx, k, 1, val, l->max_value, NULL);
	close(ctx);
	return r == -ENOMEM ? 0 : 23;
}

TEST(memcg_enomem)
{
	char root[256], cg[320], max[32], path[400];
	struct kt_limits l = { 0 };
	unsigned char *val;
	long long peak, ooms, oom;
	int dev, r, status;
	bool mounted;
	pid_t pid;

	if (geteuid())
		SKIP(return, "not root: cannot make a cgroup");
	ASSERT_EQ(0, kt_limits(&l));
	if ((unsigned long long)l.max_counters * 64 * PT_HOLD < 2ULL * PT_MEMMAX ||
	    (unsigned long long)l.max_value * PT_HOLD < 2ULL * PT_MEMMAX)
		SKIP(return, "the module's limits are too small to reach memory.max");
	r = kt_cg_root(root, sizeof(root), &mounted);
	if (r)
		SKIP(return, "no cgroup2 hierarchy: %s", strerror(-r));
	kt_cg_write(root, "cgroup.subtree_control", "+memory");
	ASSERT_EQ(0, kt_cg_child(cg, sizeof(cg), root, "katomic-perm"));
	snprintf(max, sizeof(max), "%d", PT_MEMMAX);
	if (kt_cg_write(cg, "memory.max", max)) {
		rmdir(cg);
		SKIP(return, "%s/memory.max: no memory controller", cg);
	}
	kt_cg_write(cg, "memory.swap.max", "0");
	dev = kt_open();
	ASSERT_LE(0, dev);
	/* The value's user pages, touched outside the cgroup. */
	val = malloc(l.max_value);
	ASSERT_NE(NULL, val);
	memset(val, 0x77, l.max_value);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(pt_memcg_child(cg, dev, &l, val));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the child in %s: status %#x (21: contexts, 24: mapped contexts, 23: values did not end in ENOMEM; 25: cells not charged)",
		       cg, status);
	snprintf(path, sizeof(path), "%s/memory.events", cg);
	ooms = kt_file_key(path, "oom_kill");
	oom = kt_file_key(path, "oom");
	snprintf(path, sizeof(path), "%s/memory.peak", cg);
	peak = pt_read_ll(path);
	TH_LOG("memory.max %d B: peak %lld B, OOM events %lld, kills %lld",
	       PT_MEMMAX, peak, oom, ooms);
	/* The module's big allocations fail; they never call the OOM killer. */
	EXPECT_EQ(0, oom);
	EXPECT_EQ(0, ooms);
	free(val);
	close(dev);
	rmdir(cg);
	if (mounted)
		umount2(root, MNT_DETACH);
}

TEST_HARNESS_MAIN
