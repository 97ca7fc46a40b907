/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the katomic selftests: raw ioctl wrappers over
 * <linux/katomic.h>, the type and op tables expanded from the uapi X-macros,
 * a reference model of every counter op that tests compare against, and
 * the cgroup memory figures the leak checks read.
 *
 * Include after kselftest_harness.h.
 */
#ifndef KATOMIC_SELFTEST_H
#define KATOMIC_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/katomic.h>

#ifndef KT_DEV
#define KT_DEV		"/dev/katomic"
#endif
#define KT_SYSFS	"/sys/module/katomic"
#define KT_PARAMS	KT_SYSFS "/parameters"

#define KT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The value vectors of the kernel's lib/atomic64_test.c. */
#define KT_V0		0xaaa31337c001d00dULL
#define KT_V1		0xdeadbeefdeafcafeULL
#define KT_V2		0xfaceabadf00df001ULL
#define KT_V3		0x0000000100000001ULL
#define KT_ONESTWOS	0x1111111122222222ULL
#define KT_ONE		1ULL

/* A filler that no correct out field equals by chance. */
#define KT_POISON	0x5a5a5a5aa5a5a5a5ULL

/* ---- the tables, expanded from the uapi X-macros ----------------------- */

struct kt_type {
	const char *name;
	__u8 type;		/* KATOMIC_TYPE_* */
	unsigned int bits;	/* 0 in the table for UINTPTR: see kt_resolve() */
	bool is_signed;
};

#define KT_TYPE_INIT(nr, lname, nbits, sgn) \
	{ .name = #lname, .type = (nr), .bits = (nbits), .is_signed = (sgn) }
#define KT_TYPE_ENTRY(N, nr, lname, nbits, sgn) \
	KT_TYPE_INIT(nr, lname, nbits, sgn),
static const struct kt_type kt_types[] = {
	KATOMIC_TYPE_TABLE(KT_TYPE_ENTRY)
};
#define KT_NR_TYPES	KT_ARRAY_SIZE(kt_types)

#define kt_for_each_type(tp) \
	for ((tp) = kt_types; (tp) < kt_types + KT_NR_TYPES; (tp)++)

/*
 * A fixture run once per counter type: a program defines KT_TYPE_FIXTURE
 * as the fixture's name, then KT_TYPE_VARIANTS declares its variant (a
 * struct kt_type t) and adds one variant per row of KATOMIC_TYPE_TABLE.
 * (The indirection lets KT_TYPE_FIXTURE expand before the harness pastes.)
 */
#define KT__VARIANT(f)			FIXTURE_VARIANT(f)
#define KT__VARIANT_ADD(f, v)		FIXTURE_VARIANT_ADD(f, v)
#define KT__TYPE_VARIANT(N, nr, lname, nbits, sgn)			\
	KT__VARIANT_ADD(KT_TYPE_FIXTURE, lname) {			\
		.t = KT_TYPE_INIT(nr, lname, nbits, sgn),		\
	};
#define KT_TYPE_VARIANTS						\
	KT__VARIANT(KT_TYPE_FIXTURE) {					\
		struct kt_type t;					\
	};								\
	KATOMIC_TYPE_TABLE(KT__TYPE_VARIANT)

struct kt_opdesc {
	const char *name;
	__u8 op;		/* KATOMIC_OP_* */
	unsigned int operands;	/* how many of arg, arg2 the op reads */
	bool applied;		/* reports katomic_op.applied */
};

#define KT_OP_ENTRY(N, nr, lname, nops, app) \
	{ .name = #lname, .op = (nr), .operands = (nops), .applied = (app) },
static const struct kt_opdesc kt_ops[] = {
	KATOMIC_OP_TABLE(KT_OP_ENTRY)
};
#define KT_NR_OPS	KT_ARRAY_SIZE(kt_ops)

static inline const struct kt_opdesc *kt_opdesc(__u8 op)
{
	unsigned int i;

	for (i = 0; i < KT_NR_OPS; i++)
		if (kt_ops[i].op == op)
			return &kt_ops[i];
	return NULL;
}

static inline const char *kt_op_name(__u8 op)
{
	const struct kt_opdesc *d = kt_opdesc(op);

	return d ? d->name : "?";
}

/* The type with UINTPTR's width taken from katomic_info.ptr_bits. */
static inline struct kt_type kt_resolve(const struct kt_type *t,
					unsigned int ptr_bits)
{
	struct kt_type r = *t;

	if (!r.bits)
		r.bits = ptr_bits;
	return r;
}

/* The table's row of a type number, or NULL for an unknown one. */
static inline const struct kt_type *kt_type_of(__u8 type)
{
	const struct kt_type *t;

	kt_for_each_type(t)
		if (t->type == type)
			return t;
	return NULL;
}

struct kt_sync {
	const char *name;
	__u8 sync;		/* KATOMIC_SYNC_* */
};

#define KT_SYNC_ENTRY(N, nr, lname)	{ .name = #lname, .sync = (nr) },
static const struct kt_sync kt_syncs[] = {
	KATOMIC_SYNC_TABLE(KT_SYNC_ENTRY)
};
#define KT_NR_SYNCS	KT_ARRAY_SIZE(kt_syncs)

static inline const char *kt_sync_name(__u8 sync)
{
	unsigned int i;

	for (i = 0; i < KT_NR_SYNCS; i++)
		if (kt_syncs[i].sync == sync)
			return kt_syncs[i].name;
	return "?";
}

/*
 * A fixture run once per counter kind and type: a program defines
 * KT_KIND_FIXTURE as the fixture's name, declares its variant (the kind
 * in sync, the type in t) with KT_KIND_VARIANT_DECL (of fixture f:
 * KT_KIND_VARIANT_DECL_OF(f)), then adds the variants of each kind with
 * KT_KIND_VARIANTS(NONE), (ATOMIC), ...: one per row of
 * KATOMIC_TYPE_TABLE, named kind_type (mutex_int64), PERCPU only for the
 * 64-bit types it takes.
 */
#define KT__KIND_ROW(SN, sname, N, nr, lname, nbits, sgn)		\
	KT__VARIANT_ADD(KT_KIND_FIXTURE, sname##_##lname) {		\
		.sync = KATOMIC_SYNC_##SN,				\
		.t = KT_TYPE_INIT(nr, lname, nbits, sgn),		\
	};
#define KT__IF_64_64(x)	x
#define KT__IF_64_32(x)
#define KT__IF_64_0(x)
#define KT__KIND_NONE(...)	KT__KIND_ROW(NONE, none, __VA_ARGS__)
#define KT__KIND_ATOMIC(...)	KT__KIND_ROW(ATOMIC, atomic, __VA_ARGS__)
#define KT__KIND_SPINLOCK(...)	KT__KIND_ROW(SPINLOCK, spinlock, __VA_ARGS__)
#define KT__KIND_MUTEX(...)	KT__KIND_ROW(MUTEX, mutex, __VA_ARGS__)
#define KT__KIND_PERCPU(N, nr, lname, nbits, sgn)			\
	KT__IF_64_##nbits(KT__KIND_ROW(PERCPU, percpu, N, nr, lname, nbits, sgn))
#define KT_KIND_VARIANT_DECL	KT_KIND_VARIANT_DECL_OF(KT_KIND_FIXTURE)
#define KT_KIND_VARIANT_DECL_OF(f)					\
	KT__VARIANT(f) {						\
		__u8 sync;						\
		struct kt_type t;					\
	};
#define KT_KIND_VARIANTS(SN)	KATOMIC_TYPE_TABLE(KT__KIND_##SN)

/* The kind DEFINE makes of sync: DEFAULT is ATOMIC. */
static inline __u8 kt_sync_resolve(__u8 sync)
{
	return sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_ATOMIC : sync;
}

/* Is sync a kind counters take (RCU and SEQLOCK are slot kinds)? */
static inline bool kt_sync_counter(__u8 sync)
{
	switch (kt_sync_resolve(sync)) {
	case KATOMIC_SYNC_NONE:
	case KATOMIC_SYNC_ATOMIC:
	case KATOMIC_SYNC_SPINLOCK:
	case KATOMIC_SYNC_MUTEX:
	case KATOMIC_SYNC_PERCPU:
		return true;
	}
	return false;
}

/* Does a counter of kind sync take type (PERCPU: INT64 and UINT64)? */
static inline bool kt_sync_takes(__u8 sync, __u8 type)
{
	return kt_sync_resolve(sync) != KATOMIC_SYNC_PERCPU ||
	       type == KATOMIC_TYPE_INT64 || type == KATOMIC_TYPE_UINT64;
}

/* Does a counter of kind sync run op (PERCPU: LOAD, STORE and ADD)? */
static inline bool kt_sync_runs(__u8 sync, __u8 op)
{
	return kt_sync_resolve(sync) != KATOMIC_SYNC_PERCPU ||
	       op == KATOMIC_OP_LOAD || op == KATOMIC_OP_STORE ||
	       op == KATOMIC_OP_ADD;
}

/* NONE's param: a delay in ns between its load and its store, at most. */
#define KT_NONE_MAX_DELAY	((__u64)KATOMIC_NONE_MAX_DELAY)

/* ---- the reference model ---------------------------------------------- */

/*
 * The 64-bit form the ABI uses for a value of type t: truncated to the
 * type's width, then sign-extended (signed types) or zero-extended.
 */
static inline __u64 kt_canon(const struct kt_type *t, __u64 v)
{
	if (t->bits >= 64)
		return v;
	v &= (1ULL << t->bits) - 1;
	if (t->is_signed && (v >> (t->bits - 1)) & 1)
		v |= ~0ULL << t->bits;
	return v;
}

/* Is v an operand the type accepts (else -EOVERFLOW)? */
static inline bool kt_fits(const struct kt_type *t, __u64 v)
{
	return kt_canon(t, v) == v;
}

static inline __u64 kt_min(const struct kt_type *t)
{
	return t->is_signed ? kt_canon(t, 1ULL << (t->bits - 1)) : 0;
}

static inline __u64 kt_max(const struct kt_type *t)
{
	return t->is_signed ? kt_canon(t, (1ULL << (t->bits - 1)) - 1)
			    : kt_canon(t, ~0ULL);
}

/* The operand that subtracts v (Go's way for unsigned types). */
static inline __u64 kt_neg(const struct kt_type *t, __u64 v)
{
	return kt_canon(t, -v);
}

/* a < b in the type's order: signed for INT types, unsigned otherwise. */
static inline bool kt_lt(const struct kt_type *t, __u64 a, __u64 b)
{
	return t->is_signed ? (__s64)a < (__s64)b : a < b;
}

struct kt_expect {
	__u64 result;	/* katomic_op.result */
	__u64 value;	/* the counter afterwards */
	__u8 applied;	/* katomic_op.applied */
};

/* What op does to a counter holding cur (all values canonical). */
static inline struct kt_expect kt_model(const struct kt_type *t, __u8 op,
					__u64 cur, __u64 arg, __u64 arg2)
{
	struct kt_expect e = { .result = cur, .value = cur, .applied = 0 };

	switch (op) {
	case KATOMIC_OP_LOAD:
		break;
	case KATOMIC_OP_STORE:
		e.value = arg;
		e.result = 0;
		break;
	case KATOMIC_OP_ADD:
		e.value = kt_canon(t, cur + arg);
		e.result = e.value;
		break;
	case KATOMIC_OP_SWAP:
		e.value = arg;
		break;
	case KATOMIC_OP_CAS:
		if (cur == arg) {
			e.value = arg2;
			e.applied = 1;
		}
		break;
	case KATOMIC_OP_AND:
		e.value = kt_canon(t, cur & arg);
		break;
	case KATOMIC_OP_OR:
		e.value = kt_canon(t, cur | arg);
		break;
	case KATOMIC_OP_XOR:
		e.value = kt_canon(t, cur ^ arg);
		break;
	case KATOMIC_OP_MAX:
		if (kt_lt(t, cur, arg))
			e.value = arg;
		e.applied = e.value != cur;
		break;
	case KATOMIC_OP_MIN:
		if (kt_lt(t, arg, cur))
			e.value = arg;
		e.applied = e.value != cur;
		break;
	case KATOMIC_OP_ADD_UNLESS:
		if (cur != arg2) {
			e.value = kt_canon(t, cur + arg);
			e.applied = 1;
		}
		break;
	}
	return e;
}

/*
 * What op does to a counter of kind sync holding cur, single-threaded:
 * 0 and *e as kt_model() says, PERCPU's ADD reporting result 0; or
 * -EOPNOTSUPP for an op the kind does not run (the counter unchanged).
 */
static inline int kt_sync_model(__u8 sync, const struct kt_type *t, __u8 op,
				__u64 cur, __u64 arg, __u64 arg2,
				struct kt_expect *e)
{
	*e = kt_model(t, op, cur, arg, arg2);
	if (!kt_sync_runs(sync, op)) {
		e->result = cur;
		e->value = cur;
		e->applied = 0;
		return -EOPNOTSUPP;
	}
	if (kt_sync_resolve(sync) == KATOMIC_SYNC_PERCPU &&
	    op == KATOMIC_OP_ADD)
		e->result = 0;
	return 0;
}

/*
 * The errno of DEFINE of a counter, on a module that reports info, in
 * its order of checks: id, flags, reserved, type, sync number (-EINVAL);
 * a kind counters do not take, or one of SYNC_KINDS when info's features
 * lack it, or PERCPU of a type other than INT64/UINT64 (-EOPNOTSUPP);
 * param (-EINVAL); init (-EOVERFLOW); an id already defined (-EEXIST).
 * d->object must be KATOMIC_OBJ_COUNTER.
 */
static inline int kt_define_errno(const struct katomic_define *d,
				  const struct katomic_info *info,
				  bool defined)
{
	const struct kt_type *tp = kt_type_of(d->type);
	__u8 sync = kt_sync_resolve(d->sync);
	struct kt_type t;

	if (d->id >= info->nr_counters || d->flags || d->reserved || !tp ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	if (!kt_sync_counter(sync) || !kt_sync_takes(sync, d->type) ||
	    (sync != KATOMIC_SYNC_ATOMIC &&
	     !(info->features & KATOMIC_FEAT_SYNC_KINDS)))
		return -EOPNOTSUPP;
	if (sync == KATOMIC_SYNC_NONE ? d->param > KT_NONE_MAX_DELAY
				      : d->param != 0)
		return -EINVAL;
	t = kt_resolve(tp, info->ptr_bits);
	if (!kt_fits(&t, d->init))
		return -EOVERFLOW;
	return defined ? -EEXIST : 0;
}

/*
 * Values worth trying for a type: small ones, every width's edges, bit
 * patterns and the atomic64_test vectors, each in the type's canonical
 * form, without duplicates.  Returns how many were written to out.
 */
static inline unsigned int kt_interesting(const struct kt_type *t,
					  __u64 *out, unsigned int max)
{
	static const __u64 raw[] = {
		0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
		0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xfffffffffffffffeULL, 0xffffffffffffffffULL,
		0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL,
		KT_V0, KT_V1, KT_V2, KT_V3, KT_ONESTWOS,
	};
	unsigned int i, j, n = 0;

	for (i = 0; i < KT_ARRAY_SIZE(raw) + 2 && n < max; i++) {
		__u64 v;

		if (i < KT_ARRAY_SIZE(raw))
			v = kt_canon(t, raw[i]);
		else if (i == KT_ARRAY_SIZE(raw))
			v = kt_min(t);
		else
			v = kt_max(t);
		for (j = 0; j < n && out[j] != v; j++)
			;
		if (j == n)
			out[n++] = v;
	}
	return n;
}

/* ---- raw ioctls -------------------------------------------------------- */

/* ioctl(2) as 0 (or the returned fd) or -errno. */
static inline int kt_ioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static inline int kt_open(void)
{
	return open(KT_DEV, O_RDWR | O_CLOEXEC);
}

static inline int kt_info(int fd, struct katomic_info *info)
{
	memset(info, 0, sizeof(*info));
	return kt_ioctl(fd, KATOMIC_IOC_INFO, info);
}

/*
 * The start of every fixture: open the device and read INFO.  Its ASSERTs
 * end the test as they would in FIXTURE_SETUP itself.
 */
static inline void kt_setup_dev(struct __test_metadata *_metadata, int *fd,
				struct katomic_info *info)
{
	*fd = kt_open();
	ASSERT_LE(0, *fd)
		TH_LOG("open %s: %s", KT_DEV, strerror(errno));
	ASSERT_EQ(0, kt_info(*fd, info));
}

/* The start of every per-type fixture: also resolve the variant's type. */
static inline void kt_setup_type(struct __test_metadata *_metadata, int *fd,
				 struct katomic_info *info, struct kt_type *t,
				 const struct kt_type *variant_t)
{
	kt_setup_dev(_metadata, fd, info);
	*t = kt_resolve(variant_t, info->ptr_bits);
	ASSERT_TRUE(t->bits == 32 || t->bits == 64);
}

static inline int kt_define(int fd, __u32 id, __u8 type, __u8 sync, __u64 init)
{
	struct katomic_define d = {
		.id = id, .object = KATOMIC_OBJ_COUNTER, .type = type,
		.sync = sync, .init = init,
	};

	return kt_ioctl(fd, KATOMIC_IOC_DEFINE, &d);
}

/* DEFINE with a kind's param (NONE's delay). */
static inline int kt_define_param(int fd, __u32 id, __u8 type, __u8 sync,
				  __u64 init, __u64 param)
{
	struct katomic_define d = {
		.id = id, .object = KATOMIC_OBJ_COUNTER, .type = type,
		.sync = sync, .init = init, .param = param,
	};

	return kt_ioctl(fd, KATOMIC_IOC_DEFINE, &d);
}

static inline int kt_undefine(int fd, __u32 id)
{
	struct katomic_define d = { .id = id, .object = KATOMIC_OBJ_COUNTER };

	return kt_ioctl(fd, KATOMIC_IOC_UNDEFINE, &d);
}

static inline int kt_query(int fd, __u32 id, struct katomic_define *d)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->object = KATOMIC_OBJ_COUNTER;
	return kt_ioctl(fd, KATOMIC_IOC_QUERY, d);
}

/* (Re)define a counter, whatever state it was left in. */
static inline int kt_redefine(int fd, __u32 id, __u8 type, __u8 sync,
			      __u64 init)
{
	kt_undefine(fd, id);
	return kt_define(fd, id, type, sync, init);
}

static inline void kt_op_init(struct katomic_op *o, __u32 id, __u8 type,
			      __u8 op, __u64 arg, __u64 arg2)
{
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->type = type;
	o->op = op;
	o->arg = arg;
	o->arg2 = arg2;
}

/* One op; result and applied are optional. */
static inline int kt_do(int fd, __u32 id, __u8 type, __u8 op, __u64 arg,
			__u64 arg2, __u64 *result, __u8 *applied)
{
	struct katomic_op o;
	int r;

	kt_op_init(&o, id, type, op, arg, arg2);
	r = kt_ioctl(fd, KATOMIC_IOC_OP, &o);
	if (!r) {
		if (result)
			*result = o.result;
		if (applied)
			*applied = o.applied;
	}
	return r;
}

static inline int kt_load(int fd, __u32 id, __u8 type, __u64 *v)
{
	return kt_do(fd, id, type, KATOMIC_OP_LOAD, 0, 0, v, NULL);
}

static inline int kt_store(int fd, __u32 id, __u8 type, __u64 v)
{
	return kt_do(fd, id, type, KATOMIC_OP_STORE, v, 0, NULL, NULL);
}

/* QUERY's argument for counter id, its out fields poisoned. */
static inline void kt_query_poisoned(struct katomic_define *q, __u32 id)
{
	memset(q, 0, sizeof(*q));
	q->id = id;
	q->object = KATOMIC_OBJ_COUNTER;
	q->type = 0xee;
	q->sync = 0xee;
	q->param = KT_POISON;
}

/* id's value, read by LOAD; EXPECTs the LOAD to succeed (else KT_POISON). */
static inline __u64 kt_value_of(struct __test_metadata *_metadata, int fd,
				__u32 id, __u8 type)
{
	__u64 v = KT_POISON;

	EXPECT_EQ(0, kt_load(fd, id, type, &v));
	return v;
}

/* ---- sysfs ------------------------------------------------------------- */

/* Read a module parameter; base 0, so "0600" reads as octal. */
static inline int kt_param(const char *name, unsigned long *val)
{
	char path[256], buf[64], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KT_PARAMS "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	buf[n] = 0;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/* ---- time, knobs, randomness ------------------------------------------ */

static inline double kt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The environment's name as a number in [min, max], else def. */
static inline unsigned long kt_env_ulong(const char *name, unsigned long def,
					 unsigned long min, unsigned long max)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return def;
	return v;
}

/* splitmix64: a seeded sequence, the same on every run and machine. */
static inline __u64 kt_rand(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- cgroups and memory figures ----------------------------------------- */

/* Write s to dir's file: 0 or -errno. */
static inline int kt_cg_write(const char *dir, const char *file, const char *s)
{
	char path[512];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * The number after "key" and blanks (or ':') in path, or -errno
 * (-ENOENT: no such key).
 */
static inline long long kt_file_key(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long v = -ENOENT;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) &&
		    (line[n] == ' ' || line[n] == ':')) {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The module's reference count, from sysfs: -errno if unreadable. */
static inline long kt_mod_refcnt(void)
{
	char buf[32];
	ssize_t n;
	int fd = open(KT_SYSFS "/refcnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/* /proc/meminfo's figure for key, in bytes, or -errno. */
static inline long long kt_meminfo(const char *key)
{
	long long v = kt_file_key("/proc/meminfo", key);

	return v < 0 ? v : v * 1024;
}

/* Where cgroup2 is mounted (mounted at /sys/fs/cgroup if nowhere). */
static inline int kt_cg_root(char *dir, size_t size, bool *mounted)
{
	char line[512], mnt[256], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	int r = -ENOENT;

	*mounted = false;
	if (!f)
		return -errno;
	while (r && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %255s %63s", mnt, type) == 2 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(dir, size, "%s", mnt);
			r = 0;
		}
	fclose(f);
	if (!r)
		return 0;
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL))
		return -errno;
	snprintf(dir, size, "/sys/fs/cgroup");
	*mounted = true;
	return 0;
}

/* Make cg, root's child "name.<our pid>": 0 or -errno (cg set either way). */
static inline int kt_cg_child(char *cg, size_t size, const char *root,
			      const char *name)
{
	snprintf(cg, size, "%s/%s.%d", root, name, getpid());
	return mkdir(cg, 0755) ? -errno : 0;
}

/* Move the calling process into cg: 0 or -errno. */
static inline int kt_cg_join(const char *cg)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d\n", getpid());
	return kt_cg_write(cg, "cgroup.procs", pid);
}

/* A cgroup's kernel memory (memory.stat "kernel"), in bytes, or -errno. */
static inline long long kt_cg_kernel(const char *cg)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	return kt_file_key(path, "kernel");
}

/*
 * Poll cg's kernel memory until lo <= figure <= hi, an error, or secs
 * passed: the last figure read; the time it took in *took (if not NULL).
 * (Statistics reach memory.stat when the memcg rstat is flushed, and what
 * is freed after an RCU grace period goes later still.)
 */
static inline long long kt_cg_poll(const char *cg, long long lo, long long hi,
				   double secs, double *took)
{
	double t0 = kt_now(), t;
	long long m;

	for (;;) {
		m = kt_cg_kernel(cg);
		t = kt_now() - t0;
		if (took)
			*took = t;
		if (m < 0 || (m >= lo && m <= hi) || t > secs)
			return m;
		usleep(20000);
	}
}

/* ---- threads and CPUs ---------------------------------------------------- */

#define KT_MAX_THREADS	64

/*
 * A crew of threads that start together.  Each thread's argument begins
 * with a struct kt_thread; the thread calls kt_thread_go() first and
 * returns at once if it says false (the crew could not be started).
 */
struct kt_crew;

struct kt_thread {
	unsigned int idx;
	struct kt_crew *crew;
};

struct kt_crew {
	unsigned int n;			/* threads running */
	int gate;			/* 0 wait, 1 go, -1 give up */
	pthread_t th[KT_MAX_THREADS];
};

static inline bool kt_thread_go(struct kt_thread *t)
{
	int g;

	while (!(g = __atomic_load_n(&t->crew->gate, __ATOMIC_ACQUIRE)))
		sched_yield();
	return g > 0;
}

/*
 * Start n threads on fn, the i-th with the kt_thread at base + i * stride,
 * and open the gate once all run.  0, or -errno with no thread left.
 */
static inline int kt_crew_start(struct kt_crew *c, unsigned int n,
				void *(*fn)(void *), void *base, size_t stride)
{
	unsigned int i;
	int r = 0;

	if (n > KT_MAX_THREADS)
		return -EINVAL;
	c->n = 0;
	c->gate = 0;
	for (i = 0; i < n; i++) {
		struct kt_thread *t = (void *)((char *)base + i * stride);

		t->idx = i;
		t->crew = c;
		r = pthread_create(&c->th[i], NULL, fn, t);
		if (r)
			break;
		c->n++;
	}
	__atomic_store_n(&c->gate, r ? -1 : 1, __ATOMIC_RELEASE);
	if (!r)
		return 0;
	for (i = 0; i < c->n; i++)
		pthread_join(c->th[i], NULL);
	c->n = 0;
	return -r;
}

static inline void kt_crew_join(struct kt_crew *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		pthread_join(c->th[i], NULL);
	c->n = 0;
}

/* The CPUs the caller may run on, at most max of them; how many. */
static inline unsigned int kt_cpus(int *cpus, unsigned int max)
{
	unsigned int n = 0;
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

/* Pin the calling thread to cpu: 0, or -errno. */
static inline int kt_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return sched_getcpu() == cpu ? 0 : -EAGAIN;
}

/* ---- what worker threads saw ------------------------------------------- */

/*
 * What went wrong in a worker thread, recorded for the main thread to
 * judge after the join (the harness's ASSERTs are not thread-safe).
 */
struct kt_record {
	unsigned long nerr;	/* unexpected returns */
	int err;		/* the first of them */
	const char *err_op;	/* and its op */
	unsigned long bad;	/* wrong results */
	char bad_msg[160];	/* the first of them */
};

static inline void kt_record_error(struct kt_record *rec, const char *op,
				   int r)
{
	if (!rec->nerr++) {
		rec->err = r;
		rec->err_op = op;
	}
}

static inline void __attribute__((format(printf, 2, 3)))
kt_record_bad(struct kt_record *rec, const char *fmt, ...)
{
	va_list ap;

	if (rec->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(rec->bad_msg, sizeof(rec->bad_msg), fmt, ap);
	va_end(ap);
}

/* The main thread's verdict on thread i's record: nothing went wrong. */
static inline void kt_record_check(struct __test_metadata *_metadata,
				   unsigned int i, const struct kt_record *rec)
{
	EXPECT_EQ(0, rec->nerr)
		TH_LOG("thread %u: %lu errors, first %s: %d (%s)", i,
		       rec->nerr, rec->err_op ? rec->err_op : "?", rec->err,
		       strerror(-rec->err));
	EXPECT_EQ(0, rec->bad)
		TH_LOG("thread %u: %lu wrong results, first: %s", i, rec->bad,
		       rec->bad_msg);
}

/*
 * The main thread's verdict on span increments of counter id (of type t)
 * from start: it ends at start + span, wrapping.
 */
static inline void kt_expect_counted(struct __test_metadata *_metadata,
				     int fd, __u32 id, const struct kt_type *t,
				     __u64 start, unsigned long span,
				     const char *what)
{
	__u64 v = KT_POISON;

	ASSERT_EQ(0, kt_load(fd, id, t->type, &v));
	EXPECT_EQ(kt_canon(t, start + span), v)
		TH_LOG("%s %s: %lu increments from %#llx", what, t->name, span,
		       (unsigned long long)start);
}

/*
 * ---- T threads x N ADDs of 1 ----------------------------------------------
 *
 * From below the type's maximum, so that they wrap: the counter ends at
 * start + T*N, and the ADDs return the T*N values in between, each once.
 */
struct kt_adds {
	const struct kt_type *t;
	__u64 start;		/* the counter's initial value */
	unsigned long span;	/* T*N: the results are start + 1..span */
	unsigned char *seen;	/* one bit per result, set by the workers */
};

static inline __u64 kt_adds_start(const struct kt_type *t,
				  unsigned long span)
{
	return kt_canon(t, kt_max(t) - span / 2);
}

/* 0, or -ENOMEM. */
static inline int kt_adds_init(struct kt_adds *a, const struct kt_type *t,
			       unsigned long span)
{
	a->t = t;
	a->span = span;
	a->start = kt_adds_start(t, span);
	a->seen = calloc(span / 8 + 1, 1);
	return a->seen ? 0 : -ENOMEM;
}

/*
 * A worker saw ADD of 1 return r: it must be start + k for a k in 1..span
 * that no one else got; a wrong or repeated result goes in rec.
 */
static inline void kt_adds_note(struct kt_adds *a, __u64 r,
				struct kt_record *rec)
{
	const struct kt_type *t = a->t;
	__u64 mask = t->bits >= 64 ? ~0ULL : (1ULL << t->bits) - 1;
	__u64 off = (r - a->start) & mask;

	if (r != kt_canon(t, r) || off < 1 || off > a->span) {
		kt_record_bad(rec, "ADD returned %#llx (offset %llu)", r, off);
		return;
	}
	off--;
	if (__atomic_fetch_or(&a->seen[off / 8], 1u << (off % 8),
			      __ATOMIC_RELAXED) & (1u << (off % 8)))
		kt_record_bad(rec, "ADD result %#llx returned twice", r);
}

/*
 * A worker's iters ADDs of 1 to counter id (of type a->t): how many
 * succeeded; the errors and wrong or repeated results go in rec.
 */
static inline unsigned long kt_adds_run(struct kt_adds *a, int fd, __u32 id,
					unsigned long iters,
					struct kt_record *rec)
{
	unsigned long i, ok = 0;
	__u64 r;

	for (i = 0; i < iters; i++) {
		int e = kt_do(fd, id, a->t->type, KATOMIC_OP_ADD, 1, 0, &r,
			      NULL);

		if (e) {
			kt_record_error(rec, "ADD", e);
			continue;
		}
		ok++;
		kt_adds_note(a, r, rec);
	}
	return ok;
}

/*
 * The main thread's verdict once the workers are done: counter id ends at
 * start + span, and every value in between was returned.  Frees a->seen.
 */
static inline void kt_adds_check(struct __test_metadata *_metadata,
				 struct kt_adds *a, int fd, __u32 id,
				 const char *what)
{
	unsigned long i, missing = 0;

	kt_expect_counted(_metadata, fd, id, a->t, a->start, a->span, what);
	for (i = 0; i < a->span; i++)
		missing += !(a->seen[i / 8] & (1u << (i % 8)));
	EXPECT_EQ(0, missing) TH_LOG("new values no ADD returned");
	free(a->seen);
	a->seen = NULL;
}

/*
 * ---- T threads x N CAS-loop increments -------------------------------------
 *
 * From above the type's minimum, so that they wrap the other way: the
 * counter ends at start + T*N.
 */
static inline __u64 kt_cas_inc_start(const struct kt_type *t,
				     unsigned long span)
{
	return kt_canon(t, kt_min(t) - span / 3);
}

/*
 * A worker's iters increments of counter id, each a CAS from the value it
 * last saw (LOADed first): how many applied; the CASes that did not in
 * *retries, errors and wrong results in rec.  It gives up after 100 of
 * either, as a CAS that never applies would spin forever.
 */
static inline unsigned long kt_cas_inc_run(int fd, __u32 id,
					   const struct kt_type *t,
					   unsigned long iters,
					   struct kt_record *rec,
					   unsigned long *retries)
{
	unsigned long done = 0;
	__u64 cur, r;
	__u8 applied;
	int e;

	e = kt_load(fd, id, t->type, &cur);
	if (e) {
		kt_record_error(rec, "LOAD", e);
		return 0;
	}
	while (done < iters) {
		__u64 next = kt_canon(t, cur + 1);

		e = kt_do(fd, id, t->type, KATOMIC_OP_CAS, cur, next, &r,
			  &applied);
		if (e) {
			kt_record_error(rec, "CAS", e);
			if (rec->nerr > 100)
				break;
			continue;
		}
		if (applied) {
			if (r != cur)
				kt_record_bad(rec, "CAS applied but saw %#llx, expected %#llx",
					      r, cur);
			done++;
			cur = next;
		} else {
			if (r == cur) {
				kt_record_bad(rec, "CAS saw the expected %#llx but did not swap",
					      r);
				if (rec->bad > 100)
					break;
			}
			(*retries)++;
			cur = r;
		}
	}
	return done;
}

/*
 * A debug kernel (KASAN, KCSAN, lockdep; make check-debug) under TCG runs
 * these tests several times slower than Debian's kernel:
 * KATOMIC_TIMEOUT_SCALE=N (2..100) multiplies every test's harness
 * timeout.  scripts/vm-selftests.sh sets it on the debug kernels.  The
 * harness's own TEST_HARNESS_MAIN, with the scaling before the run and
 * stdout line-buffered: a test's messages must reach a file its output is
 * redirected to, and the harness ends each test's child with _exit().
 */
static inline void kt_scale_timeouts(void)
{
	const char *s = getenv("KATOMIC_TIMEOUT_SCALE");
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	long n = s ? strtol(s, NULL, 10) : 1;

	if (n < 2 || n > 100)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= n;
}

#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN						\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		setvbuf(stdout, NULL, _IOLBF, 0);			\
		kt_scale_timeouts();					\
		return test_harness_run(argc, argv);			\
	}

#endif /* KATOMIC_SELFTEST_H */
