// SPDX-License-Identifier: GPL-2.0
/*
 * katomic module lifecycle: load and unload through the raw syscalls
 * (finit_module, delete_module), so nothing depends on the shell's
 * insmod/rmmod; /dev/katomic appears and goes; unloading is refused while
 * a descriptor is open, and while only a mapping of a KATOMIC_CTX_MMAP
 * context is (which keeps working); the parameters reach INFO, sysfs and the device
 * node's mode; each parameter's range is enforced at both ends (a value
 * outside it refuses the load); 20 load/unload cycles each start from a
 * fresh global context.
 *
 * Run it as root; the module file is $KATOMIC_KO (default /katomic.ko).
 * A module already loaded is unloaded first.  Each test leaves the module
 * unloaded.
 *
 * Skips only when not root, or when KATOMIC_KO is not set and
 * /katomic.ko does not exist (nothing to test here).  A KATOMIC_KO that
 * names no readable file, or a loaded module that cannot be unloaded,
 * fails: whoever set it up (scripts/vm-selftests.sh) meant the tests to
 * run.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "katomic_test.h"

#define KT_CYCLES	20

/* Was the module file named explicitly? */
static bool ko_explicit(void)
{
	const char *ko = getenv("KATOMIC_KO");

	return ko && *ko;
}

static const char *ko_path(void)
{
	return ko_explicit() ? getenv("KATOMIC_KO") : "/katomic.ko";
}

/* Load the module with params: 0 or -errno. */
static int mod_load(const char *params)
{
	int fd, r;

	fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params, 0);
	if (r < 0 && errno == ENOSYS) {
		/* old kernels: init_module with the image in memory */
		struct stat st;
		void *img;

		r = -1;
		if (!fstat(fd, &st)) {
			img = malloc(st.st_size);
			if (img && pread(fd, img, st.st_size, 0) == st.st_size)
				r = syscall(SYS_init_module, img,
					    (unsigned long)st.st_size, params);
			free(img);
		}
	}
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Unload without waiting: 0 or -errno (-EWOULDBLOCK while in use). */
static int mod_unload(void)
{
	return syscall(SYS_delete_module, "katomic", O_NONBLOCK) < 0 ? -errno
								       : 0;
}

static bool mod_loaded(void)
{
	return access(KT_SYSFS, F_OK) == 0;
}

/* Wait up to 2 s for /dev/katomic to (dis)appear; true once it did. */
static bool dev_wait(bool present)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200; i++) {
		if ((access(KT_DEV, F_OK) == 0) == present)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

FIXTURE(module) {
	const char *skip;	/* why this machine cannot run the test */
	int fd;
};

FIXTURE_SETUP(module)
{
	int r;

	self->fd = -1;
	if (geteuid() != 0) {
		self->skip = "needs root";
		return;
	}
	if (access(ko_path(), R_OK)) {
		r = -errno;
		/* named but missing: lost coverage, not a machine without it */
		ASSERT_FALSE(ko_explicit())
			TH_LOG("KATOMIC_KO=%s: %s", ko_path(), strerror(-r));
		self->skip = "no /katomic.ko: set KATOMIC_KO";
		return;
	}
	if (mod_loaded()) {
		r = mod_unload();
		ASSERT_EQ(0, r)
			TH_LOG("katomic is loaded and cannot be unloaded: %s",
			       strerror(-r));
		TH_LOG("katomic was loaded: unloaded it first");
	}
	ASSERT_TRUE(dev_wait(false)) TH_LOG("%s without the module", KT_DEV);
}

FIXTURE_TEARDOWN(module)
{
	if (self->fd >= 0)
		close(self->fd);
	if (!self->skip && mod_loaded())
		EXPECT_EQ(0, mod_unload()) TH_LOG("unload at teardown");
}

/*
 * The 6.1 harness runs the body even after a SKIP in the setup, so each
 * body starts with this.
 */
#define MODULE_PREAMBLE() do {						\
		if (self->skip)						\
			SKIP(return, "%s", self->skip);			\
	} while (0)

static void expect_param(struct __test_metadata *_metadata, const char *name,
			 unsigned long want)
{
	unsigned long v = ~0UL;
	char path[128];
	struct stat st;
	int r;

	r = kt_param(name, &v);
	EXPECT_EQ(0, r) TH_LOG("%s: %s", name, strerror(-r));
	EXPECT_EQ(want, v) TH_LOG("parameter %s", name);
	/* read-only in sysfs once loaded */
	snprintf(path, sizeof(path), KT_PARAMS "/%s", name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0, st.st_mode & 0222) TH_LOG("%s is writable", path);
}

static void expect_dev_mode(struct __test_metadata *_metadata, mode_t mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(KT_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(mode, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST_F(module, load_defaults)
{
	struct katomic_info info;

	MODULE_PREAMBLE();
	ASSERT_EQ(0, mod_load(""));
	EXPECT_TRUE(mod_loaded());
	ASSERT_TRUE(dev_wait(true)) TH_LOG("%s did not appear", KT_DEV);
	expect_dev_mode(_metadata, 0600);

	expect_param(_metadata, "nr_counters", 256);
	expect_param(_metadata, "nr_slots", 64);
	expect_param(_metadata, "value_max", 4096);
	expect_param(_metadata, "max_counters", 65536);
	expect_param(_metadata, "max_slots", 4096);
	expect_param(_metadata, "max_value", 1048576);
	expect_param(_metadata, "max_batch", 4096);
	expect_param(_metadata, "devmode", 0600);

	self->fd = kt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_info(self->fd, &info));
	EXPECT_EQ(KATOMIC_ABI_VERSION, info.abi_version);
	EXPECT_EQ(256, info.nr_counters);
	EXPECT_EQ(4096, info.max_batch);
	/* the slots' sizes are reported with or without FEAT_VALUES */
	EXPECT_EQ(64, info.nr_slots);
	EXPECT_EQ(4096, info.value_max);
	close(self->fd);
	self->fd = -1;

	/* loading twice: the kernel says -EEXIST */
	EXPECT_EQ(-EEXIST, mod_load(""));

	ASSERT_EQ(0, mod_unload());
	EXPECT_FALSE(mod_loaded());
	EXPECT_TRUE(dev_wait(false)) TH_LOG("%s stayed after unload", KT_DEV);
	EXPECT_EQ(-ENOENT, mod_unload());
}

/* An open descriptor pins the module: delete_module must refuse. */
TEST_F(module, busy_while_open)
{
	struct katomic_info info;
	int fd2, r, status, pfd[2];
	pid_t pid;

	MODULE_PREAMBLE();
	ASSERT_EQ(0, mod_load(""));
	ASSERT_TRUE(dev_wait(true));
	self->fd = kt_open();
	ASSERT_LE(0, self->fd);

	r = mod_unload();
	EXPECT_TRUE(r == -EWOULDBLOCK || r == -EBUSY)
		TH_LOG("unload with %s open: %d (%s)", KT_DEV, r,
		       strerror(-r));
	ASSERT_TRUE(mod_loaded());
	/* the refused unload left the module working */
	EXPECT_EQ(0, kt_info(self->fd, &info));
	EXPECT_EQ(0, kt_define(self->fd, 0, KATOMIC_TYPE_INT64,
			       KATOMIC_SYNC_DEFAULT, 41));

	/* a dup keeps it pinned after the original is closed */
	fd2 = dup(self->fd);
	ASSERT_LE(0, fd2);
	close(self->fd);
	self->fd = fd2;
	r = mod_unload();
	EXPECT_TRUE(r == -EWOULDBLOCK || r == -EBUSY) TH_LOG("%d", r);

	/* so does a child's inherited copy, until the child exits */
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		__u64 v = 0;
		char c;

		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			_exit(2);
		_exit(kt_do(self->fd, 0, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD,
			    1, 0, &v, NULL) || v != 42);
	}
	close(pfd[0]);
	close(self->fd);
	self->fd = -1;
	r = mod_unload();
	EXPECT_TRUE(r == -EWOULDBLOCK || r == -EBUSY)
		TH_LOG("unload with the child's descriptor open: %d", r);
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	close(pfd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child's op failed: status %#x", status);

	/* everyone closed: now it goes */
	EXPECT_EQ(0, mod_unload());
	EXPECT_FALSE(mod_loaded());
	EXPECT_TRUE(dev_wait(false));
}

/*
 * A mapping of a KATOMIC_CTX_MMAP context, with every descriptor closed,
 * pins the module too: delete_module is refused, the mapped counter keeps
 * counting; after munmap the module goes.
 */
TEST_F(module, busy_while_mapped)
{
	struct katomic_context c = {
		.nr_counters = 2, .flags = KATOMIC_CTX_MMAP,
	};
	struct katomic_info info;
	__u64 *cell;
	void *p;
	int ctx, r;

	MODULE_PREAMBLE();
	ASSERT_EQ(0, mod_load(""));
	ASSERT_TRUE(dev_wait(true));
	self->fd = kt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_info(self->fd, &info));
	if (!(info.features & KATOMIC_FEAT_MMAP))
		SKIP(return, "KATOMIC_FEAT_MMAP not claimed");
	ctx = kt_ioctl(self->fd, KATOMIC_IOC_CONTEXT_NEW, &c);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, kt_define(ctx, 1, KATOMIC_TYPE_UINT64,
			       KATOMIC_SYNC_DEFAULT, 41));
	p = mmap(NULL, 2 * 64, PROT_READ | PROT_WRITE, MAP_SHARED, ctx, 0);
	ASSERT_NE(MAP_FAILED, p);
	cell = (__u64 *)((char *)p + 64);
	close(ctx);
	close(self->fd);
	self->fd = -1;

	r = mod_unload();
	EXPECT_TRUE(r == -EWOULDBLOCK || r == -EBUSY)
		TH_LOG("unload with only a mapping: %d (%s)", r, strerror(-r));
	ASSERT_TRUE(mod_loaded());
	EXPECT_EQ(42, __atomic_add_fetch(cell, 1, __ATOMIC_SEQ_CST));

	EXPECT_EQ(0, munmap(p, 2 * 64));
	EXPECT_EQ(0, mod_unload());
	EXPECT_FALSE(mod_loaded());
	EXPECT_TRUE(dev_wait(false));
}

/* Parameters reach INFO, sysfs and the node's mode. */
TEST_F(module, params)
{
	struct katomic_info info;

	MODULE_PREAMBLE();
	ASSERT_EQ(0, mod_load("nr_counters=7 devmode=0666 max_batch=17"));
	ASSERT_TRUE(dev_wait(true));
	expect_dev_mode(_metadata, 0666);
	expect_param(_metadata, "nr_counters", 7);
	expect_param(_metadata, "devmode", 0666);
	expect_param(_metadata, "max_batch", 17);

	self->fd = kt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_info(self->fd, &info));
	EXPECT_EQ(7, info.nr_counters);
	EXPECT_EQ(17, info.max_batch);
	/* the last id is 6 */
	EXPECT_EQ(0, kt_define(self->fd, 6, KATOMIC_TYPE_UINT32,
			       KATOMIC_SYNC_DEFAULT, 1));
	EXPECT_EQ(-EINVAL, kt_define(self->fd, 7, KATOMIC_TYPE_UINT32,
				     KATOMIC_SYNC_DEFAULT, 1));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, mod_unload());
	EXPECT_TRUE(dev_wait(false));

	/* another mode, and the slots' sizes */
	ASSERT_EQ(0, mod_load("devmode=0640 nr_slots=3 value_max=100"));
	ASSERT_TRUE(dev_wait(true));
	expect_dev_mode(_metadata, 0640);
	expect_param(_metadata, "nr_slots", 3);
	expect_param(_metadata, "value_max", 100);
	self->fd = kt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_info(self->fd, &info));
	EXPECT_EQ(256, info.nr_counters);
	EXPECT_EQ(3, info.nr_slots);
	EXPECT_EQ(100, info.value_max);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, mod_unload());
}

/* A parameter the kernel cannot parse: no load, no trace, no harm. */
TEST_F(module, bad_param_value)
{
	MODULE_PREAMBLE();
	EXPECT_GT(0, mod_load("nr_counters=abc"));
	EXPECT_FALSE(mod_loaded());
	EXPECT_TRUE(dev_wait(false));
	ASSERT_EQ(0, mod_load(""));
	EXPECT_TRUE(dev_wait(true));
	ASSERT_EQ(0, mod_unload());
}

/*
 * Each parameter's range, at both ends: a value at the limit loads, one
 * past it makes finit_module fail with -EINVAL, leaves the module
 * unloaded and /dev/katomic absent, and puts a line naming the parameter
 * in the kernel log.  The ranges (README, kmod/main.c):
 *
 *   max_counters 0..2^24, max_slots 0..2^20, max_value 1..2^28,
 *   max_batch 1..2^20, nr_counters 0..max_counters, nr_slots 0..max_slots,
 *   value_max (nr_slots ? 1 : 0)..max_value, devmode 1..0777.
 */
struct param_case {
	const char *params;
	const char *refused;	/* the parameter named, or NULL: loads */
};

static const struct param_case param_cases[] = {
	{ "max_counters=16777216", NULL },
	{ "max_counters=16777217", "max_counters" },
	{ "max_counters=0 nr_counters=0", NULL },
	{ "max_slots=1048576", NULL },
	{ "max_slots=1048577", "max_slots" },
	{ "max_slots=0 nr_slots=0", NULL },
	{ "max_value=268435456", NULL },
	{ "max_value=268435457", "max_value" },
	{ "max_value=1 value_max=1", NULL },
	{ "max_value=0 value_max=0", "max_value" },
	{ "max_value=0", "max_value" },
	{ "max_batch=1048576", NULL },
	{ "max_batch=1048577", "max_batch" },
	{ "max_batch=1", NULL },
	{ "max_batch=0", "max_batch" },
	/* nr_counters against max_counters, given and default (65536) */
	{ "max_counters=300 nr_counters=300", NULL },
	{ "max_counters=300 nr_counters=301", "nr_counters" },
	{ "max_counters=255", "nr_counters" },
	{ "max_counters=0", "nr_counters" },
	{ "nr_counters=65536", NULL },
	{ "nr_counters=65537", "nr_counters" },
	{ "nr_counters=0", NULL },
	/* nr_slots against max_slots (default 4096) */
	{ "max_slots=10 nr_slots=10", NULL },
	{ "max_slots=10 nr_slots=11", "nr_slots" },
	{ "max_slots=63", "nr_slots" },
	{ "nr_slots=4096", NULL },
	{ "nr_slots=4097", "nr_slots" },
	/* value_max against max_value (default 2^20), and nr_slots */
	{ "max_value=100 value_max=100", NULL },
	{ "max_value=100 value_max=101", "value_max" },
	{ "max_value=100", "value_max" },
	{ "value_max=1048576", NULL },
	{ "value_max=1048577", "value_max" },
	{ "nr_slots=5 value_max=1", NULL },
	{ "nr_slots=5 value_max=0", "value_max" },
	{ "nr_slots=0 value_max=0", NULL },
	/* devmode 1..0777 */
	{ "devmode=0777", NULL },
	{ "devmode=01000", "devmode" },
	{ "devmode=01", NULL },
	{ "devmode=0", "devmode" },
};

/* The kernel log from now on: a /dev/kmsg reader at its end, or -errno. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* Does a record since kmsg_open() contain both a and b? */
static bool kmsg_has(int fd, const char *a, const char *b)
{
	char rec[1024];
	bool found = false;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		if (strstr(rec, a) && strstr(rec, b))
			found = true;
	}
	return found;
}

/* Every name=value of params reads back from sysfs; devmode is the mode. */
static void expect_params(struct __test_metadata *_metadata,
			  const char *params)
{
	char buf[128], *save = NULL, *kv, *eq;

	snprintf(buf, sizeof(buf), "%s", params);
	for (kv = strtok_r(buf, " ", &save); kv;
	     kv = strtok_r(NULL, " ", &save)) {
		unsigned long want;

		eq = strchr(kv, '=');
		ASSERT_NE(NULL, eq);
		*eq = 0;
		want = strtoul(eq + 1, NULL, 0);
		expect_param(_metadata, kv, want);
		if (!strcmp(kv, "devmode"))
			expect_dev_mode(_metadata, want);
	}
}

TEST_F_TIMEOUT(module, param_ranges, 120)
{
	struct katomic_info info;
	unsigned long p;
	unsigned int i;
	int kmsg, r;

	MODULE_PREAMBLE();
	kmsg = kmsg_open();
	EXPECT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	for (i = 0; i < KT_ARRAY_SIZE(param_cases); i++) {
		const struct param_case *c = &param_cases[i];

		if (kmsg >= 0)
			kmsg_has(kmsg, "", "");	/* skip what came before */
		r = mod_load(c->params);
		if (c->refused) {
			EXPECT_EQ(-EINVAL, r)
				TH_LOG("'%s' loaded or failed otherwise: %s",
				       c->params, strerror(-r));
			if (!r) {
				mod_unload();
				continue;
			}
			EXPECT_FALSE(mod_loaded()) TH_LOG("'%s'", c->params);
			EXPECT_TRUE(dev_wait(false))
				TH_LOG("'%s': %s exists", c->params, KT_DEV);
			if (kmsg >= 0)
				EXPECT_TRUE(kmsg_has(kmsg, "katomic",
						     c->refused))
					TH_LOG("'%s': no kernel log line naming %s",
					       c->params, c->refused);
			continue;
		}
		ASSERT_EQ(0, r) TH_LOG("'%s': %s", c->params, strerror(-r));
		ASSERT_TRUE(dev_wait(true)) TH_LOG("'%s'", c->params);
		expect_params(_metadata, c->params);
		self->fd = kt_open();
		ASSERT_LE(0, self->fd) TH_LOG("'%s'", c->params);
		ASSERT_EQ(0, kt_info(self->fd, &info));
		ASSERT_EQ(0, kt_param("nr_counters", &p));
		EXPECT_EQ(p, info.nr_counters) TH_LOG("'%s'", c->params);
		ASSERT_EQ(0, kt_param("max_batch", &p));
		EXPECT_EQ(p, info.max_batch) TH_LOG("'%s'", c->params);
		close(self->fd);
		self->fd = -1;
		ASSERT_EQ(0, mod_unload()) TH_LOG("'%s'", c->params);
		ASSERT_TRUE(dev_wait(false)) TH_LOG("'%s'", c->params);
	}
	if (kmsg >= 0)
		close(kmsg);
}

/*
 * KT_CYCLES loads and unloads, each used in between; every load starts
 * with a fresh global context (nothing defined).
 */
TEST_F_TIMEOUT(module, cycles, 120)
{
	struct katomic_define q;
	struct timespec a, b;
	unsigned int i;
	__u64 v;

	MODULE_PREAMBLE();
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < KT_CYCLES; i++) {
		ASSERT_EQ(0, mod_load(i & 1 ? "nr_counters=16" : ""))
			TH_LOG("cycle %u", i);
		ASSERT_TRUE(dev_wait(true)) TH_LOG("cycle %u", i);
		self->fd = kt_open();
		ASSERT_LE(0, self->fd) TH_LOG("cycle %u", i);
		EXPECT_EQ(-ENOENT, kt_query(self->fd, 3, &q))
			TH_LOG("cycle %u: counter 3 survived the unload", i);
		ASSERT_EQ(0, kt_define(self->fd, 3, KATOMIC_TYPE_UINT64,
				       KATOMIC_SYNC_DEFAULT, i));
		v = 0;
		EXPECT_EQ(0, kt_do(self->fd, 3, KATOMIC_TYPE_UINT64,
				   KATOMIC_OP_ADD, 100, 0, &v, NULL));
		EXPECT_EQ(i + 100, v);
		/* the context outlives the descriptor */
		close(self->fd);
		self->fd = kt_open();
		ASSERT_LE(0, self->fd);
		EXPECT_EQ(0, kt_load(self->fd, 3, KATOMIC_TYPE_UINT64, &v));
		EXPECT_EQ(i + 100, v);
		close(self->fd);
		self->fd = -1;
		ASSERT_EQ(0, mod_unload()) TH_LOG("cycle %u", i);
		ASSERT_TRUE(dev_wait(false)) TH_LOG("cycle %u", i);
		ASSERT_FALSE(mod_loaded());
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	TH_LOG("%u cycles in %.2f s", KT_CYCLES,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
}

TEST_HARNESS_MAIN
