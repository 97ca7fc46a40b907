// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every allocation and every user copy an operation's path
 * passes through fails once, in turn, and each time the operation must fail
 * cleanly (-ENOMEM or -EFAULT) with the state it found, or absorb the
 * failure and succeed with the state it promises.
 *
 * The tool is the task's fail-nth (Documentation/fault-injection): writing
 * N to /proc/thread-self/fail-nth makes the N-th fault injection point this
 * thread passes fail (failslab, fail_page_alloc, fail_usercopy alike); it
 * reads back 0 once that happened.  For N = 1, 2, ... an operation runs
 * with the N-th point armed, until it runs without reaching it: then every
 * point on its path has failed once.
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and
 * FAULT_INJECTION_USERCOPY with debugfs: make check-debug's KASAN kernel.
 * scripts/vm-selftests.sh runs it where /proc/thread-self/fail-nth exists
 * (Debian's kernels have none of it).  Run as root.
 *
 * What "the state" is, per operation: the file descriptors a process has
 * (CONTEXT_NEW), a counter's definition (DEFINE), a counter's value (OP,
 * BATCH), a value slot's value, tag and version (VALUE).  -EFAULT may also
 * come after an op ran, when its results cannot be written back (the ABI's
 * one exception, as with read(2)): then the new state is allowed too.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_ctx.h"
#include "katomic_value.h"

#define KF_NTH		"/proc/thread-self/fail-nth"
#define KF_DEBUGFS	"/sys/kernel/debug"
/* No path here has this many fault points: a walk that reaches it is stuck. */
#define KF_MAX_POINTS	4096
#define KF_COUNTERS	16
#define KF_SLOTS	4
#define KF_VALUE_MAX	512

/* What a walk saw. */
struct kf_walk {
	unsigned int points;	/* fault points on the path */
	unsigned int enomem, efault, absorbed;
};

/* The outcome of one operation with a fault armed. */
enum kf_state { KF_OLD, KF_NEW, KF_OTHER };

static int kf_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

/*
 * The injection points must not skip what the module does: failslab and
 * fail_page_alloc by default leave sleeping allocations (GFP_KERNEL) alone;
 * and no stack dump per injected fault in the log.
 */
static int kf_attrs(void)
{
	static const char *const set[][2] = {
		{ KF_DEBUGFS "/failslab/ignore-gfp-wait", "N" },
		{ KF_DEBUGFS "/failslab/verbose", "0" },
		{ KF_DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ KF_DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ KF_DEBUGFS "/fail_page_alloc/min-order", "0" },
		{ KF_DEBUGFS "/fail_page_alloc/verbose", "0" },
		{ KF_DEBUGFS "/fail_usercopy/verbose", "0" },
	};
	unsigned int i;
	int r;

	for (i = 0; i < KT_ARRAY_SIZE(set); i++) {
		r = kf_write(set[i][0], set[i][1]);
		if (r)
			return r;
	}
	return 0;
}

/* The open fail-nth of the calling thread; opening it is no operation's. */
static int kf_nth_fd = -1;

static int kf_arm(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	return pwrite(kf_nth_fd, s, len, 0) == len ? 0 : -errno;
}

/*
 * Whether the armed fault was injected (1) or is still pending (0, and
 * disarmed now).  Reading the count copies it out to user space, itself a
 * fault point: if it was the last one left, that copy fails (-EFAULT) and
 * the fault is spent, which means the op did not reach it.  Disarming is
 * a copy from user space, the same.  The count must read 0 after either.
 */
static int kf_fired(void)
{
	char s[16] = "";
	ssize_t n;

	n = pread(kf_nth_fd, s, sizeof(s) - 1, 0);
	if (n > 0 && !strtoul(s, NULL, 10))
		return 1;
	if (n <= 0 && errno != EFAULT)
		return -errno;
	if (n > 0)
		(void)!pwrite(kf_nth_fd, "0", 1, 0);
	memset(s, 0, sizeof(s));
	n = pread(kf_nth_fd, s, sizeof(s) - 1, 0);
	if (n <= 0 || strtoul(s, NULL, 10))
		return -EIO;
	return 0;
}

static unsigned int kf_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * One walk: reset() puts the state back (no fault armed), op() runs with
 * the N-th point armed and returns 0 or -errno, state() says what the
 * state is afterwards.  Every outcome is checked here.
 */
struct kf_case {
	const char *name;
	int (*reset)(void *arg);
	int (*op)(void *arg);
	enum kf_state (*state)(void *arg, int r);
	void *arg;
};

/*
 * One outcome, judged: a success (a fault absorbed) must leave the new
 * state, -ENOMEM the old one, -EFAULT either (results not written back);
 * no other errno may come.  @what and @n name the fault or the op.
 */
static void kf_judge(struct __test_metadata *_metadata,
		     const struct kf_case *c, const char *what, unsigned int n,
		     int r, enum kf_state st, struct kf_walk *w)
{
	if (!r) {
		ASSERT_EQ(KF_NEW, st)
			TH_LOG("%s: %s %u: success, wrong state", c->name,
			       what, n);
		w->absorbed++;
	} else if (r == -ENOMEM) {
		ASSERT_EQ(KF_OLD, st)
			TH_LOG("%s: %s %u: -ENOMEM changed the state",
			       c->name, what, n);
		w->enomem++;
	} else {
		ASSERT_EQ(-EFAULT, r)
			TH_LOG("%s: %s %u: errno %d, not ENOMEM/EFAULT",
			       c->name, what, n, -r);
		ASSERT_NE(KF_OTHER, st)
			TH_LOG("%s: %s %u: -EFAULT left a state that is neither",
			       c->name, what, n);
		w->efault++;
	}
}

static void kf_walk(struct __test_metadata *_metadata,
		    const struct kf_case *c, struct kf_walk *w)
{
	enum kf_state st;
	unsigned int n;
	int r, fired;

	memset(w, 0, sizeof(*w));
	for (n = 1; n <= KF_MAX_POINTS; n++) {
		ASSERT_EQ(0, c->reset(c->arg)) TH_LOG("%s: reset", c->name);
		ASSERT_EQ(0, kf_arm(n));
		r = c->op(c->arg);
		fired = kf_fired();
		ASSERT_LE(0, fired) TH_LOG("%s: reading fail-nth", c->name);
		st = c->state(c->arg, r);
		if (!fired) {
			/* The whole path ran without reaching point n. */
			ASSERT_EQ(0, r) TH_LOG("%s: fails with %d unfaulted",
					       c->name, r);
			ASSERT_EQ(KF_NEW, st) TH_LOG("%s: wrong state unfaulted",
						     c->name);
			w->points = n - 1;
			return;
		}
		kf_judge(_metadata, c, "fault", n, r, st, w);
	}
	ASSERT_TRUE(false) TH_LOG("%s: more than %d fault points", c->name,
				  KF_MAX_POINTS);
}

static void kf_report(const char *name, const struct kf_walk *w)
{
	ksft_print_msg("%s: %u fault points: %u -ENOMEM, %u -EFAULT, %u absorbed\n",
		       name, w->points, w->enomem, w->efault, w->absorbed);
}

FIXTURE(faults) {
	int dev, ctx;
	char why[128];		/* why the tests skip, or "" */
};

/* A fixture's setup cannot skip a test: its body does, with the reason. */
#define KF_READY() do {							\
	if (self->why[0])						\
		SKIP(return, "%s", self->why);				\
} while (0)

FIXTURE_SETUP(faults)
{
	int r;

	self->dev = self->ctx = -1;
	if (access(KF_NTH, W_OK)) {
		snprintf(self->why, sizeof(self->why),
			 "no %s: the kernel has no fault injection", KF_NTH);
		return;
	}
	r = kf_attrs();
	if (r) {
		snprintf(self->why, sizeof(self->why),
			 "fault injection attributes in debugfs: %s",
			 strerror(-r));
		return;
	}
	kf_nth_fd = open(KF_NTH, O_RDWR);
	ASSERT_LE(0, kf_nth_fd);
	self->dev = kt_open();
	ASSERT_LE(0, self->dev);
	self->ctx = kt_ctx_new(self->dev, KF_COUNTERS, KF_SLOTS, KF_VALUE_MAX, 0);
	ASSERT_LE(0, self->ctx);
}

FIXTURE_TEARDOWN(faults)
{
	if (self->ctx >= 0)
		close(self->ctx);
	if (self->dev >= 0)
		close(self->dev);
	if (kf_nth_fd >= 0)
		close(kf_nth_fd);
}

/* ---- CONTEXT_NEW ------------------------------------------------------ */

struct kf_ctx_new {
	int dev, fd;
	__u32 flags;
	unsigned int fds;
};

static int ctx_new_reset(void *arg)
{
	struct kf_ctx_new *a = arg;

	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->fds = kf_open_fds();
	return 0;
}

static int ctx_new_op(void *arg)
{
	struct kf_ctx_new *a = arg;
	int r = kt_ctx_new(a->dev, KF_COUNTERS, KF_SLOTS, KF_VALUE_MAX,
			   a->flags);

	if (r >= 0) {
		a->fd = r;
		return 0;
	}
	return r;
}

static enum kf_state ctx_new_state(void *arg, int r)
{
	struct kf_ctx_new *a = arg;
	unsigned int fds = kf_open_fds();

	if (!r)
		return a->fd >= 0 && fds == a->fds + 1 ? KF_NEW : KF_OTHER;
	return fds == a->fds ? KF_OLD : KF_OTHER;
}

TEST_F(faults, context_new)
{
	static const __u32 flags[] = { 0, KATOMIC_CTX_MMAP };
	static const char *const names[] = { "CONTEXT_NEW",
					     "CONTEXT_NEW mmap" };
	struct kf_ctx_new a = { .dev = self->dev, .fd = -1 };
	struct kf_case c = { NULL, ctx_new_reset, ctx_new_op, ctx_new_state,
			     &a };
	struct kf_walk w;
	unsigned int i;

	KF_READY();
	for (i = 0; i < KT_ARRAY_SIZE(flags); i++) {
		a.flags = flags[i];
		c.name = names[i];
		kf_walk(_metadata, &c, &w);
		ctx_new_reset(&a);
		kf_report(c.name, &w);
	}
}

/* ---- DEFINE and counter ops ------------------------------------------- */

struct kf_counter {
	int fd;
	__u32 id;
	__u8 type, sync;
	__u64 before;		/* the value before the op */
	struct katomic_op ops[8];
	__u32 nr, done;
};

#define KF_INIT		1000
#define KF_DELTA	7

static int define_reset(void *arg)
{
	struct kf_counter *a = arg;
	int r = kt_undefine(a->fd, a->id);

	return r == -ENOENT ? 0 : r;
}

static int define_op(void *arg)
{
	struct kf_counter *a = arg;

	return kt_define(a->fd, a->id, a->type, a->sync, KF_INIT);
}

static enum kf_state define_state(void *arg, int r)
{
	struct kf_counter *a = arg;
	struct katomic_define q;
	__u64 v;
	int qr = kt_query(a->fd, a->id, &q);

	(void)r;
	if (qr == -ENOENT)
		return KF_OLD;
	if (qr || q.type != a->type || q.sync != kt_sync_resolve(a->sync) ||
	    kt_load(a->fd, a->id, a->type, &v) || v != KF_INIT)
		return KF_OTHER;
	return KF_NEW;
}

/* Counters: value before (KF_OLD), after (KF_NEW) or anything else. */
static enum kf_state value_state(const struct kf_counter *a, __u64 after)
{
	__u64 v;

	if (kt_load(a->fd, a->id, a->type, &v))
		return KF_OTHER;
	return v == a->before ? KF_OLD : v == after ? KF_NEW : KF_OTHER;
}

static int add_reset(void *arg)
{
	struct kf_counter *a = arg;

	return kt_load(a->fd, a->id, a->type, &a->before);
}

static int add_op(void *arg)
{
	struct kf_counter *a = arg;
	struct katomic_op o;

	kt_op_init(&o, a->id, a->type, KATOMIC_OP_ADD, KF_DELTA, 0);
	return kt_ioctl(a->fd, KATOMIC_IOC_OP, &o);
}

static enum kf_state add_state(void *arg, int r)
{
	struct kf_counter *a = arg;

	(void)r;
	return value_state(a, a->before + KF_DELTA);
}

static int batch_reset(void *arg)
{
	struct kf_counter *a = arg;
	__u32 i;

	a->nr = KT_ARRAY_SIZE(a->ops);
	for (i = 0; i < a->nr; i++)
		kt_op_init(&a->ops[i], a->id, a->type, KATOMIC_OP_ADD,
			   KF_DELTA, 0);
	return kt_load(a->fd, a->id, a->type, &a->before);
}

static int batch_op(void *arg)
{
	struct kf_counter *a = arg;

	return kt_batch(a->fd, a->ops, a->nr, KATOMIC_BATCH_CONTINUE,
			&a->done);
}

/*
 * A batch reports what ran: on success all of it; on -EFAULT, done (when
 * it could be written) says how many ops ran, and the counter moved by
 * exactly those; -ENOMEM ran nothing.
 */
static enum kf_state batch_state(void *arg, int r)
{
	struct kf_counter *a = arg;
	__u64 v, ran;

	if (kt_load(a->fd, a->id, a->type, &v) || (v - a->before) % KF_DELTA)
		return KF_OTHER;
	ran = (v - a->before) / KF_DELTA;
	if (!r)
		return a->done == a->nr && ran == a->nr ? KF_NEW : KF_OTHER;
	if (r == -EFAULT && a->done != (__u32)KT_POISON)
		return a->done == ran ? (ran ? KF_NEW : KF_OLD) : KF_OTHER;
	if (r == -EFAULT)
		return ran <= a->nr ? (ran ? KF_NEW : KF_OLD) : KF_OTHER;
	return ran ? KF_OTHER : KF_OLD;
}

TEST_F(faults, counters)
{
	static const __u8 kinds[] = {
		KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK, KATOMIC_SYNC_MUTEX,
		KATOMIC_SYNC_NONE, KATOMIC_SYNC_PERCPU,
	};
	struct kf_counter a = { .fd = self->ctx, .type = KATOMIC_TYPE_INT64 };
	struct kf_case def = { "DEFINE", define_reset, define_op,
			       define_state, &a };
	struct kf_case add = { "OP ADD", add_reset, add_op, add_state, &a };
	struct kf_case bat = { "BATCH", batch_reset, batch_op, batch_state,
			       &a };
	char name[64];
	struct kf_walk w;
	unsigned int i;

	KF_READY();
	for (i = 0; i < KT_ARRAY_SIZE(kinds); i++) {
		a.id = i;
		a.sync = kinds[i];
		snprintf(name, sizeof(name), "DEFINE %s",
			 kt_sync_name(kinds[i]));
		def.name = name;
		kf_walk(_metadata, &def, &w);
		kf_report(name, &w);
		snprintf(name, sizeof(name), "OP ADD %s",
			 kt_sync_name(kinds[i]));
		add.name = name;
		kf_walk(_metadata, &add, &w);
		kf_report(name, &w);
		snprintf(name, sizeof(name), "BATCH ADD %s",
			 kt_sync_name(kinds[i]));
		bat.name = name;
		kf_walk(_metadata, &bat, &w);
		kf_report(name, &w);
	}
}

/* ---- value slots ------------------------------------------------------ */

struct kf_slot {
	int fd;
	__u32 id;
	__u8 vop;
	unsigned int cur;	/* val[cur] is there before the op */
	__u64 version;		/* and its version */
	unsigned char val[2][KF_VALUE_MAX], out[KF_VALUE_MAX];
	struct kv_res res;
};

/*
 * One tag (Go: a slot keeps its first value's type), two values: each op
 * but LOAD puts the other one in.
 */
#define KF_TAG		0x41

static int slot_reset(void *arg)
{
	struct kf_slot *a = arg;
	struct kv_res res;
	int r = kv_load(a->fd, a->id, a->out, sizeof(a->out), &res);

	if (r)
		return r;
	if (res.tag != KF_TAG || res.len != KF_VALUE_MAX)
		return -EINVAL;
	if (!memcmp(a->out, a->val[0], KF_VALUE_MAX))
		a->cur = 0;
	else if (!memcmp(a->out, a->val[1], KF_VALUE_MAX))
		a->cur = 1;
	else
		return -EINVAL;
	a->version = res.version;
	return 0;
}

static int slot_op(void *arg)
{
	struct kf_slot *a = arg;
	unsigned int next = !a->cur;

	memset(&a->res, 0, sizeof(a->res));
	switch (a->vop) {
	case KATOMIC_VOP_LOAD:
		memset(a->out, 0, sizeof(a->out));
		return kv_load(a->fd, a->id, a->out, sizeof(a->out), &a->res);
	case KATOMIC_VOP_STORE:
		return kv_store(a->fd, a->id, KF_TAG, a->val[next],
				KF_VALUE_MAX, &a->res);
	case KATOMIC_VOP_SWAP:
		return kv_swap(a->fd, a->id, KF_TAG, a->val[next],
			       KF_VALUE_MAX, a->out, sizeof(a->out), &a->res);
	default:
		return kv_cas(a->fd, a->id, KF_TAG, a->val[next],
			      KF_VALUE_MAX, KF_TAG, a->val[a->cur],
			      KF_VALUE_MAX, &a->res);
	}
}

/*
 * The slot holds val[cur] at its version (KF_OLD) or the other value at
 * the next version (KF_NEW).  A LOAD changes nothing: its KF_NEW is a
 * success that read all of it.
 */
static enum kf_state slot_state(void *arg, int r)
{
	struct kf_slot *a = arg;
	unsigned char now[KF_VALUE_MAX];
	unsigned int next = !a->cur;
	struct kv_res res;
	bool old, new;

	if (kv_load(a->fd, a->id, now, sizeof(now), &res) ||
	    res.len != KF_VALUE_MAX)
		return KF_OTHER;
	old = res.tag == KF_TAG && res.version == a->version &&
	      !memcmp(now, a->val[a->cur], KF_VALUE_MAX);
	new = res.tag == KF_TAG && res.version == a->version + 1 &&
	      !memcmp(now, a->val[next], KF_VALUE_MAX);
	if (a->vop == KATOMIC_VOP_LOAD) {
		if (!old)
			return KF_OTHER;
		if (r)
			return KF_OLD;
		return a->res.len == KF_VALUE_MAX &&
		       a->res.tag == KF_TAG &&
		       !memcmp(a->out, a->val[a->cur], KF_VALUE_MAX) ?
		       KF_NEW : KF_OTHER;
	}
	if (!r && a->vop == KATOMIC_VOP_CAS && !a->res.applied)
		return KF_OTHER;
	return old ? KF_OLD : new ? KF_NEW : KF_OTHER;
}

TEST_F(faults, values)
{
	static const __u8 kinds[] = { KATOMIC_SYNC_RCU, KATOMIC_SYNC_SEQLOCK };
	static const __u8 vops[] = {
		KATOMIC_VOP_STORE, KATOMIC_VOP_LOAD, KATOMIC_VOP_SWAP,
		KATOMIC_VOP_CAS,
	};
	struct kf_slot *a = calloc(1, sizeof(*a));
	struct kf_case c = { NULL, slot_reset, slot_op, slot_state, NULL };
	unsigned int i, j;
	char name[64];
	struct kf_walk w;

	KF_READY();
	ASSERT_NE(NULL, a);
	a->fd = self->ctx;
	c.arg = a;
	for (i = 0; i < KT_ARRAY_SIZE(kinds); i++) {
		a->id = i;
		ASSERT_EQ(0, kv_define(a->fd, a->id, kinds[i]));
		kv_fill(a->val[0], KF_VALUE_MAX, 1 + i);
		kv_fill(a->val[1], KF_VALUE_MAX, 100 + i);
		ASSERT_EQ(0, kv_store(a->fd, a->id, KF_TAG, a->val[0],
				      KF_VALUE_MAX, NULL));
		for (j = 0; j < KT_ARRAY_SIZE(vops); j++) {
			a->vop = vops[j];
			snprintf(name, sizeof(name), "VALUE %s %s",
				 kv_vop_name(vops[j]), kt_sync_name(kinds[i]));
			c.name = name;
			kf_walk(_metadata, &c, &w);
			kf_report(name, &w);
		}
	}
	free(a);
}

/* ---- faults by probability -------------------------------------------- */

/*
 * The walks above fail one point at a time.  Here the faults come as a
 * real system's would: failslab, fail_page_alloc and fail_usercopy with a
 * probability (set up in debugfs by scripts/vm-hardening.sh, task-filter
 * Y), this thread marked make-it-fail across each operation only, and the
 * operations drawn at random from all of the walks' cases.  Each outcome
 * is judged as the walks judge theirs.  Other threads (katomic fuzz
 * --faults) may run into faults of their own meanwhile.
 */
#define KF_MIF		"/proc/thread-self/make-it-fail"
#define KF_RANDOM_OPS	20000
#define KF_RANDOM_SECS	30

/*
 * make-it-fail on or off.  Turning it off is a copy from user space made
 * while it is on, which may itself fail (-EFAULT): it is made again.
 */
static int kf_mark(int fd, bool on, unsigned int *refused)
{
	unsigned int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (pwrite(fd, on ? "1" : "0", 1, 0) == 1)
			return 0;
		if (errno != EFAULT)
			return -errno;
		(*refused)++;
	}
	return -EIO;
}

/* Why faults by probability are not set up, or NULL. */
static const char *kf_random_unset(void)
{
	static const char *const attrs[] = { "failslab", "fail_page_alloc",
					     "fail_usercopy" };
	char path[128], v[32];
	unsigned int i, set = 0;
	ssize_t n;
	int fd;

	for (i = 0; i < KT_ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), KF_DEBUGFS "/%s/task-filter",
			 attrs[i]);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, v, 1);
		if (fd >= 0)
			close(fd);
		if (n != 1 || v[0] != 'Y')
			continue;
		snprintf(path, sizeof(path), KF_DEBUGFS "/%s/probability",
			 attrs[i]);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, v, sizeof(v) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			v[n] = '\0';
			set += !!strtoul(v, NULL, 10);
		}
	}
	return set ? NULL :
	       "no failslab, fail_page_alloc or fail_usercopy probability with task-filter Y in debugfs (scripts/vm-hardening.sh sets them)";
}

static unsigned long kf_env(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 10) : dflt;
}

#define KF_KINDS	5
#define KF_VKINDS	2
#define KF_VOPS		4
#define KF_CASES	(2 + 3 * KF_KINDS + KF_VKINDS * KF_VOPS)

TEST_F_TIMEOUT(faults, random, 300)
{
	static const __u8 kinds[KF_KINDS] = {
		KATOMIC_SYNC_ATOMIC, KATOMIC_SYNC_SPINLOCK, KATOMIC_SYNC_MUTEX,
		KATOMIC_SYNC_NONE, KATOMIC_SYNC_PERCPU,
	};
	static const __u8 vkinds[KF_VKINDS] = { KATOMIC_SYNC_RCU,
						KATOMIC_SYNC_SEQLOCK };
	static const __u8 vops[KF_VOPS] = {
		KATOMIC_VOP_STORE, KATOMIC_VOP_LOAD, KATOMIC_VOP_SWAP,
		KATOMIC_VOP_CAS,
	};
	unsigned long max_ops = kf_env("KATOMIC_FAULTS_OPS", KF_RANDOM_OPS);
	unsigned long secs = kf_env("KATOMIC_FAULTS_SECONDS", KF_RANDOM_SECS);
	unsigned int ops = 0, refused = 0;
	struct kf_walk w = { 0 };
	struct kf_ctx_new cn[2] = {
		{ .dev = self->dev, .fd = -1, .flags = 0 },
		{ .dev = self->dev, .fd = -1, .flags = KATOMIC_CTX_MMAP },
	};
	struct kf_counter def[KF_KINDS], ctr[KF_KINDS];
	struct kf_slot *slot = calloc(KF_VKINDS * KF_VOPS, sizeof(*slot));
	struct kf_case cases[KF_CASES];
	unsigned int i, j, nc = 0;
	struct timespec t0, t;
	const char *unset;
	__u64 seed;
	int mif, r;

	KF_READY();
	unset = kf_random_unset();
	if (unset)
		SKIP(return, "%s", unset);
	ASSERT_NE(NULL, slot);
	for (i = 0; i < 2; i++)
		cases[nc++] = (struct kf_case){ i ? "CONTEXT_NEW mmap" :
						"CONTEXT_NEW", ctx_new_reset,
						ctx_new_op, ctx_new_state,
						&cn[i] };
	for (i = 0; i < KF_KINDS; i++) {
		/* DEFINE on ids 0..4; OP and BATCH on ids 5..9, defined */
		def[i] = (struct kf_counter){ .fd = self->ctx, .id = i,
					      .type = KATOMIC_TYPE_INT64,
					      .sync = kinds[i] };
		ctr[i] = def[i];
		ctr[i].id = KF_KINDS + i;
		ASSERT_EQ(0, kt_define(self->ctx, ctr[i].id, ctr[i].type,
				       ctr[i].sync, KF_INIT));
		cases[nc++] = (struct kf_case){ "DEFINE", define_reset,
						define_op, define_state,
						&def[i] };
		cases[nc++] = (struct kf_case){ "OP ADD", add_reset, add_op,
						add_state, &ctr[i] };
		cases[nc++] = (struct kf_case){ "BATCH ADD", batch_reset,
						batch_op, batch_state,
						&ctr[i] };
	}
	for (i = 0; i < KF_VKINDS; i++) {
		ASSERT_EQ(0, kv_define(self->ctx, i, vkinds[i]));
		for (j = 0; j < KF_VOPS; j++) {
			struct kf_slot *a = &slot[i * KF_VOPS + j];

			a->fd = self->ctx;
			a->id = i;
			a->vop = vops[j];
			kv_fill(a->val[0], KF_VALUE_MAX, 1 + i);
			kv_fill(a->val[1], KF_VALUE_MAX, 100 + i);
			cases[nc++] = (struct kf_case){ "VALUE", slot_reset,
							slot_op, slot_state,
							a };
		}
		ASSERT_EQ(0, kv_store(self->ctx, i, KF_TAG, slot[i * KF_VOPS].val[0],
				      KF_VALUE_MAX, NULL));
	}
	ASSERT_EQ(KF_CASES, nc);
	mif = open(KF_MIF, O_WRONLY);
	ASSERT_LE(0, mif) TH_LOG("%s: %s", KF_MIF, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	seed = ((__u64)t0.tv_nsec << 20 ^ (__u64)getpid()) | 1;
	ksft_print_msg("random: seed 0x%llx, at most %lu ops or %lu s\n",
		       (unsigned long long)seed, max_ops, secs);
	for (ops = 0; ops < max_ops; ops++) {
		const struct kf_case *c;
		enum kf_state st;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		c = &cases[seed % nc];
		ASSERT_EQ(0, c->reset(c->arg)) TH_LOG("%s: reset", c->name);
		ASSERT_EQ(0, kf_mark(mif, true, &refused));
		r = c->op(c->arg);
		ASSERT_EQ(0, kf_mark(mif, false, &refused));
		st = c->state(c->arg, r);
		kf_judge(_metadata, c, "op", ops, r, st, &w);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= (time_t)secs) {
			ops++;
			break;
		}
	}
	close(mif);
	for (i = 0; i < 2; i++)
		ctx_new_reset(&cn[i]);
	free(slot);
	ksft_print_msg("random: %u ops: %u succeeded, %u -ENOMEM, %u -EFAULT (every one judged); make-it-fail refused %u times\n",
		       ops, w.absorbed, w.enomem, w.efault, refused);
	/* With faults this likely, some must have met the ops. */
	ASSERT_LT(0, w.enomem + w.efault) TH_LOG("no op met an injected fault");
}

TEST_HARNESS_MAIN
