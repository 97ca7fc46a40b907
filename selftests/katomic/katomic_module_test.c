// SPDX-License-Identifier: GPL-2.0
/*
 * katomic module lifecycle: load and unload through the raw syscalls
 * (finit_module, delete_module), so nothing depends on the shell's
 * insmod/rmmod; /dev/katomic appears and goes; unloading is refused while
 * a descriptor is open; the parameters reach INFO, sysfs and the device
 * node's mode; 20 load/unload cycles each start from a fresh global
 * context.
 *
 * Run it as root with the module NOT loaded; the module file is
 * $KATOMIC_KO (default /katomic.ko).  Each test leaves the module
 * unloaded.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "katomic_test.h"

#define KT_CYCLES	20

static const char *ko_path(void)
{
	const char *ko = getenv("KATOMIC_KO");

	return ko && *ko ? ko : "/katomic.ko";
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
		self->skip = "no module file: set KATOMIC_KO";
		return;
	}
	if (mod_loaded()) {
		r = mod_unload();
		if (r) {
			self->skip = "katomic is loaded and cannot be unloaded";
			return;
		}
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
	if (info.features & KATOMIC_FEAT_VALUES) {
		EXPECT_EQ(64, info.nr_slots);
		EXPECT_EQ(4096, info.value_max);
	}
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
	if (info.features & KATOMIC_FEAT_VALUES) {
		EXPECT_EQ(3, info.nr_slots);
		EXPECT_EQ(100, info.value_max);
	}
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
