// SPDX-License-Identifier: GPL-2.0
/*
 * katomic errors: every row of the ABI's error table that applies to
 * counters in the global context, INFO and QUERY, and what the ABI
 * requires of features that INFO does not claim (checked against the
 * feature bits, so the checks keep their meaning as features land), and
 * what a descriptor may do by its access mode (O_RDONLY: read only).
 *
 * A failed call must change nothing: after each expected error the
 * argument struct is compared with what went in and the counter is read
 * back.
 */
#include <signal.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "katomic_test.h"

#define KT_FEAT_BIT(NAME, name)	| KATOMIC_FEAT_##NAME
#define KT_FEAT_KNOWN		(0 KATOMIC_FEAT_TABLE(KT_FEAT_BIT))

/* The ioctls, for loops over all of them. */
static const struct {
	const char *name;
	unsigned long cmd;
	__u32 feature;		/* the feature an absent ioctl belongs to */
} kt_cmds[] = {
	{ "INFO", KATOMIC_IOC_INFO, 0 },
	{ "NOP", KATOMIC_IOC_NOP, 0 },
	{ "DEFINE", KATOMIC_IOC_DEFINE, 0 },
	{ "UNDEFINE", KATOMIC_IOC_UNDEFINE, 0 },
	{ "QUERY", KATOMIC_IOC_QUERY, 0 },
	{ "OP", KATOMIC_IOC_OP, 0 },
	{ "BATCH", KATOMIC_IOC_BATCH, KATOMIC_FEAT_BATCH },
	{ "VALUE", KATOMIC_IOC_VALUE, KATOMIC_FEAT_VALUES },
	{ "CONTEXT_NEW", KATOMIC_IOC_CONTEXT_NEW, KATOMIC_FEAT_CONTEXTS },
};

/*
 * Call an ioctl that must fail with err and leave its argument as it was
 * (the ABI writes nothing back after an error, -ERANGE and batches aside).
 */
static void expect_fail(struct __test_metadata *_metadata, int fd,
			unsigned long cmd, void *arg, size_t size, int err,
			const char *what)
{
	unsigned char before[256];
	int r;

	ASSERT_GE(sizeof(before), size);
	memcpy(before, arg, size);
	r = kt_ioctl(fd, cmd, arg);
	EXPECT_EQ(err, r) TH_LOG("%s", what);
	if (r >= 0 && cmd == KATOMIC_IOC_CONTEXT_NEW)
		close(r);
	EXPECT_EQ(0, memcmp(before, arg, size))
		TH_LOG("%s: argument written back after an error", what);
}

static bool counter_absent(int fd, __u32 id)
{
	struct katomic_define q;

	return kt_query(fd, id, &q) == -ENOENT;
}

/* ---- per type -------------------------------------------------------- */

FIXTURE(typed) {
	int fd;
	struct katomic_info info;
	struct kt_type t;
	__u32 id;	/* a counter of type t holding value */
	__u32 spare;	/* an id kept undefined */
	__u64 value;
};

#define KT_TYPE_FIXTURE typed
KT_TYPE_VARIANTS

FIXTURE_SETUP(typed)
{
	kt_setup_type(_metadata, &self->fd, &self->info, &self->t,
		      &variant->t);
	/* ids of this program: 32..63 */
	self->id = 32 + 2 * variant->t.type;
	self->spare = self->id + 1;
	ASSERT_LT(self->spare, self->info.nr_counters);
	self->value = kt_canon(&self->t, KT_V0);
	ASSERT_EQ(0, kt_redefine(self->fd, self->id, self->t.type,
				 KATOMIC_SYNC_DEFAULT, self->value));
	kt_undefine(self->fd, self->spare);
}

FIXTURE_TEARDOWN(typed)
{
	kt_undefine(self->fd, self->id);
	kt_undefine(self->fd, self->spare);
	close(self->fd);
}

/*
 * Operands with which op would change a counter holding cur (LOAD aside),
 * so that a failure that still ran the op shows.
 */
static void changing_args(const struct kt_type *t, __u8 op, __u64 cur,
			  __u64 *arg, __u64 *arg2)
{
	*arg = 0;
	*arg2 = 0;
	switch (op) {
	case KATOMIC_OP_LOAD:
		break;
	case KATOMIC_OP_STORE:
	case KATOMIC_OP_SWAP:
		*arg = kt_canon(t, cur + 1);
		break;
	case KATOMIC_OP_ADD:
	case KATOMIC_OP_XOR:
		*arg = 1;
		break;
	case KATOMIC_OP_CAS:
		*arg = cur;
		*arg2 = kt_canon(t, cur + 1);
		break;
	case KATOMIC_OP_AND:
		*arg = kt_canon(t, ~cur);
		break;
	case KATOMIC_OP_OR:
		*arg = kt_canon(t, ~cur);
		break;
	case KATOMIC_OP_MAX:
		*arg = kt_max(t);
		break;
	case KATOMIC_OP_MIN:
		*arg = kt_min(t);
		break;
	case KATOMIC_OP_ADD_UNLESS:
		*arg = 1;
		*arg2 = kt_canon(t, cur + 1);
		break;
	}
}

/* Expect o to fail with err, leave o as it was and the counter alone. */
static void expect_op_fails(struct __test_metadata *_metadata, int fd,
			    __u32 id, const struct kt_type *t,
			    struct katomic_op *o, int err, const char *what)
{
	__u64 before = KT_POISON, after = KT_POISON;
	char msg[160];

	ASSERT_EQ(0, kt_load(fd, id, t->type, &before));
	o->result = KT_POISON;
	o->applied = 0xa5;
	o->error = 12345;
	snprintf(msg, sizeof(msg), "%s %s(arg=%#llx, arg2=%#llx): %s",
		 t->name, kt_op_name(o->op), (unsigned long long)o->arg,
		 (unsigned long long)o->arg2, what);
	expect_fail(_metadata, fd, KATOMIC_IOC_OP, o, sizeof(*o), err, msg);
	ASSERT_EQ(0, kt_load(fd, id, t->type, &after));
	EXPECT_EQ(before, after) TH_LOG("%s: a failed op changed the counter",
					msg);
}

/* The sanity of changing_args(), and that the fixture's counter works. */
TEST_F(typed, changing_args_change)
{
	struct kt_expect e;
	__u64 arg, arg2, r;
	unsigned int i;

	for (i = 0; i < KT_NR_OPS; i++) {
		__u8 op = kt_ops[i].op;

		if (op == KATOMIC_OP_LOAD)
			continue;
		changing_args(&self->t, op, self->value, &arg, &arg2);
		e = kt_model(&self->t, op, self->value, arg, arg2);
		EXPECT_NE(self->value, e.value) TH_LOG("%s", kt_ops[i].name);
		ASSERT_EQ(0, kt_do(self->fd, self->id, self->t.type, op, arg,
				   arg2, &r, NULL));
		ASSERT_EQ(0, kt_load(self->fd, self->id, self->t.type, &r));
		EXPECT_EQ(e.value, r) TH_LOG("%s", kt_ops[i].name);
		ASSERT_EQ(0, kt_store(self->fd, self->id, self->t.type,
				      self->value));
	}
}

/* An op whose type is not the counter's: -EINVAL, for every other type. */
TEST_F(typed, type_mismatch)
{
	const struct kt_type *u;
	struct katomic_op o;
	unsigned int i;

	kt_for_each_type(u) {
		if (u->type == self->t.type)
			continue;
		for (i = 0; i < KT_NR_OPS; i++) {
			const struct kt_opdesc *d = &kt_ops[i];

			/* small operands, valid for both types */
			kt_op_init(&o, self->id, u->type, d->op,
				   d->operands >= 1 ? 1 : 0,
				   d->operands >= 2 ? 2 : 0);
			expect_op_fails(_metadata, self->fd, self->id,
					&self->t, &o, -EINVAL, u->name);
		}
	}
	/* unknown types */
	for (i = 0; i < 3; i++) {
		static const __u8 bad[] = { 0, KATOMIC_TYPE_LAST + 1, 0xff };

		kt_op_init(&o, self->id, bad[i], KATOMIC_OP_ADD, 1, 0);
		expect_op_fails(_metadata, self->fd, self->id, &self->t, &o,
				-EINVAL, "unknown type");
	}
}

/*
 * Operands outside the type: -EOVERFLOW for arg, arg2 and DEFINE's init;
 * the edges themselves are accepted.
 */
TEST_F(typed, operand_overflow)
{
	static const __u64 raw[] = {
		0x80000000ULL, 0xffffffffULL, 0x100000000ULL,
		0xffffffff7fffffffULL, 0xffffffff80000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xfffffffffffffffeULL, 0xffffffffffffffffULL,
		0x0000000180000000ULL, KT_V0, KT_V1, KT_V2, KT_V3,
	};
	const struct kt_type *t = &self->t;
	struct katomic_op o;
	unsigned int i, j, bad = 0;
	__u64 arg, arg2;
	char what[64];

	for (j = 0; j < KT_ARRAY_SIZE(raw); j++) {
		__u64 v = raw[j];

		if (kt_fits(t, v))
			continue;
		bad++;
		for (i = 0; i < KT_NR_OPS; i++) {
			const struct kt_opdesc *d = &kt_ops[i];

			changing_args(t, d->op, self->value, &arg, &arg2);
			snprintf(what, sizeof(what), "operand %#llx",
				 (unsigned long long)v);
			if (d->operands >= 1) {
				kt_op_init(&o, self->id, t->type, d->op, v,
					   arg2);
				expect_op_fails(_metadata, self->fd, self->id,
						t, &o, -EOVERFLOW, what);
			}
			if (d->operands >= 2) {
				kt_op_init(&o, self->id, t->type, d->op, arg,
					   v);
				expect_op_fails(_metadata, self->fd, self->id,
						t, &o, -EOVERFLOW, what);
			}
		}
		EXPECT_EQ(-EOVERFLOW, kt_define(self->fd, self->spare,
						 t->type, KATOMIC_SYNC_DEFAULT,
						 v)) TH_LOG("init %s", what);
		EXPECT_TRUE(counter_absent(self->fd, self->spare));
	}
	/* 32-bit types refuse most of the list; 64-bit ones none of it */
	if (t->bits == 32) {
		EXPECT_LE(8, bad);
	} else {
		EXPECT_EQ(0, bad);
	}

	/* the edges go through every op */
	for (i = 0; i < KT_NR_OPS; i++) {
		const struct kt_opdesc *d = &kt_ops[i];
		__u64 edge[] = { kt_min(t), kt_max(t) };

		for (j = 0; j < 2 && d->operands; j++) {
			EXPECT_EQ(0, kt_do(self->fd, self->id, t->type, d->op,
					   edge[j], d->operands > 1 ? edge[j] : 0,
					   NULL, NULL))
				TH_LOG("%s(%#llx)", d->name,
				       (unsigned long long)edge[j]);
		}
	}
	for (j = 0; j < 2; j++) {
		__u64 v = j ? kt_max(t) : kt_min(t), r;

		ASSERT_EQ(0, kt_define(self->fd, self->spare, t->type,
				       KATOMIC_SYNC_DEFAULT, v));
		ASSERT_EQ(0, kt_load(self->fd, self->spare, t->type, &r));
		EXPECT_EQ(v, r);
		ASSERT_EQ(0, kt_undefine(self->fd, self->spare));
	}
}

/* Non-zero flags, reserved or operands the op does not read: -EINVAL. */
TEST_F(typed, must_be_zero)
{
	static const __u8 flags[] = { 1, 0x80, 0xff };
	static const __u32 reserved[] = { 1, 0x80000000 };
	const struct kt_type *t = &self->t;
	struct katomic_op o;
	unsigned int i, j;
	__u64 arg, arg2;

	for (i = 0; i < KT_NR_OPS; i++) {
		const struct kt_opdesc *d = &kt_ops[i];

		changing_args(t, d->op, self->value, &arg, &arg2);
		for (j = 0; j < KT_ARRAY_SIZE(flags); j++) {
			kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
			o.flags = flags[j];
			expect_op_fails(_metadata, self->fd, self->id, t, &o,
					-EINVAL, "flags");
		}
		for (j = 0; j < KT_ARRAY_SIZE(reserved); j++) {
			kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
			o.reserved = reserved[j];
			expect_op_fails(_metadata, self->fd, self->id, t, &o,
					-EINVAL, "reserved");
		}
		if (d->operands < 1) {
			kt_op_init(&o, self->id, t->type, d->op, 1, 0);
			expect_op_fails(_metadata, self->fd, self->id, t, &o,
					-EINVAL, "unused arg");
		}
		if (d->operands < 2) {
			kt_op_init(&o, self->id, t->type, d->op, arg, 1);
			expect_op_fails(_metadata, self->fd, self->id, t, &o,
					-EINVAL, "unused arg2");
		}
	}
}

/* Unknown op codes: -EINVAL. */
TEST_F(typed, unknown_op)
{
	static const __u8 bad[] = { 0, KATOMIC_OP_LAST + 1, 0x80, 0xff };
	struct katomic_op o;
	unsigned int i;

	for (i = 0; i < KT_ARRAY_SIZE(bad); i++) {
		kt_op_init(&o, self->id, self->t.type, bad[i], 0, 0);
		expect_op_fails(_metadata, self->fd, self->id, &self->t, &o,
				-EINVAL, "unknown op");
		kt_op_init(&o, self->id, self->t.type, bad[i], 1, 0);
		expect_op_fails(_metadata, self->fd, self->id, &self->t, &o,
				-EINVAL, "unknown op with arg");
	}
}

/* Every op on an undefined counter: -ENOENT; ids past the end: -EINVAL. */
TEST_F(typed, undefined_and_out_of_range)
{
	const struct kt_type *t = &self->t;
	__u32 far[] = { self->info.nr_counters, self->info.nr_counters + 1,
			0x80000000, 0xffffffff };
	struct katomic_op o, before;
	unsigned int i, j;
	__u64 arg, arg2;

	for (i = 0; i < KT_NR_OPS; i++) {
		const struct kt_opdesc *d = &kt_ops[i];

		changing_args(t, d->op, self->value, &arg, &arg2);
		kt_op_init(&o, self->spare, t->type, d->op, arg, arg2);
		o.result = KT_POISON;
		before = o;
		EXPECT_EQ(-ENOENT, kt_ioctl(self->fd, KATOMIC_IOC_OP, &o))
			TH_LOG("%s on an undefined counter", d->name);
		EXPECT_EQ(0, memcmp(&before, &o, sizeof(o)));
		EXPECT_TRUE(counter_absent(self->fd, self->spare));

		for (j = 0; j < KT_ARRAY_SIZE(far); j++) {
			kt_op_init(&o, far[j], t->type, d->op, arg, arg2);
			o.result = KT_POISON;
			before = o;
			EXPECT_EQ(-EINVAL, kt_ioctl(self->fd, KATOMIC_IOC_OP,
						    &o))
				TH_LOG("%s on id %u", d->name, far[j]);
			EXPECT_EQ(0, memcmp(&before, &o, sizeof(o)));
		}
	}
}

/* Out fields are ignored on input; after success all of them are set. */
TEST_F(typed, out_fields_ignored)
{
	const struct kt_type *t = &self->t;
	struct katomic_op o;
	unsigned int i;
	__u64 arg, arg2;

	for (i = 0; i < KT_NR_OPS; i++) {
		const struct kt_opdesc *d = &kt_ops[i];
		struct kt_expect e;

		ASSERT_EQ(0, kt_store(self->fd, self->id, t->type,
				      self->value));
		changing_args(t, d->op, self->value, &arg, &arg2);
		e = kt_model(t, d->op, self->value, arg, arg2);
		kt_op_init(&o, self->id, t->type, d->op, arg, arg2);
		o.result = ~e.result;
		o.applied = 0xff;
		o.error = -EINVAL;
		ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_OP, &o))
			TH_LOG("%s", d->name);
		EXPECT_EQ(e.result, o.result) TH_LOG("%s", d->name);
		EXPECT_EQ(e.applied, o.applied) TH_LOG("%s", d->name);
		EXPECT_EQ(0, o.error) TH_LOG("%s", d->name);
	}
}

/* DEFINE with init out of range leaves nothing defined: see overflow. */
TEST_F(typed, define_twice)
{
	const struct kt_type *t = &self->t;
	const struct kt_type *u;
	struct katomic_define q;
	__u64 v;

	/* -EEXIST whatever the second DEFINE says; the first one stands */
	kt_for_each_type(u) {
		int r = kt_define(self->fd, self->id, u->type,
				  KATOMIC_SYNC_DEFAULT, 0);

		EXPECT_EQ(-EEXIST, r) TH_LOG("redefine as type %u", u->type);
	}
	EXPECT_EQ(-EEXIST, kt_define(self->fd, self->id, t->type,
				     KATOMIC_SYNC_ATOMIC, 1));
	ASSERT_EQ(0, kt_query(self->fd, self->id, &q));
	EXPECT_EQ(t->type, q.type);
	EXPECT_EQ(KATOMIC_SYNC_ATOMIC, q.sync);
	ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
	EXPECT_EQ(self->value, v);

	/* after UNDEFINE the id is free, and comes back with the new init */
	ASSERT_EQ(0, kt_undefine(self->fd, self->id));
	EXPECT_EQ(-ENOENT, kt_undefine(self->fd, self->id));
	EXPECT_EQ(-ENOENT, kt_load(self->fd, self->id, t->type, &v));
	ASSERT_EQ(0, kt_define(self->fd, self->id, t->type,
			       KATOMIC_SYNC_ATOMIC, 7));
	ASSERT_EQ(0, kt_load(self->fd, self->id, t->type, &v));
	EXPECT_EQ(7, v);
}

/* ---- the device as a whole -------------------------------------------- */

FIXTURE(dev) {
	int fd;
	struct katomic_info info;
	__u32 id;	/* an INT64 counter holding 1234 */
	__u32 spare;	/* kept undefined */
	char *pages;	/* [rw][none][read-only] */
	size_t pg;
};

FIXTURE_SETUP(dev)
{
	kt_setup_dev(_metadata, &self->fd, &self->info);
	self->id = 44;
	self->spare = 45;
	ASSERT_EQ(0, kt_redefine(self->fd, self->id, KATOMIC_TYPE_INT64,
				 KATOMIC_SYNC_DEFAULT, 1234));
	kt_undefine(self->fd, self->spare);

	self->pg = getpagesize();
	self->pages = mmap(NULL, 3 * self->pg, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->pages);
	ASSERT_EQ(0, mprotect(self->pages + self->pg, self->pg, PROT_NONE));
}

FIXTURE_TEARDOWN(dev)
{
	kt_undefine(self->fd, self->id);
	kt_undefine(self->fd, self->spare);
	munmap(self->pages, 3 * self->pg);
	close(self->fd);
}

static __u64 dev_value(struct __test_metadata *_metadata, int fd, __u32 id)
{
	__u64 v = KT_POISON;

	EXPECT_EQ(0, kt_load(fd, id, KATOMIC_TYPE_INT64, &v));
	return v;
}

/* Put a copy of arg at the start of the read-only page; return it there. */
static void *dev_readonly(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dev) *self, const void *arg,
			  size_t size)
{
	char *ro = self->pages + 2 * self->pg;

	ASSERT_EQ(0, mprotect(ro, self->pg, PROT_READ | PROT_WRITE));
	memset(ro, 0, self->pg);
	memcpy(ro, arg, size);
	ASSERT_EQ(0, mprotect(ro, self->pg, PROT_READ));
	return ro;
}

TEST_F(dev, info)
{
	struct katomic_info info;
	unsigned long p;
	unsigned int i;
	int r;

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_INFO, &info));
	EXPECT_EQ(KATOMIC_ABI_VERSION, info.abi_version);
	EXPECT_EQ(1, info.abi_version);
	for (i = 0; i < KT_ARRAY_SIZE(info.reserved); i++)
		EXPECT_EQ(0, info.reserved[i]) TH_LOG("reserved[%u]", i);
	EXPECT_EQ(0, info.features & ~KT_FEAT_KNOWN);
	TH_LOG("features %#x, nr_counters %u, nr_slots %u, value_max %u, max_batch %u, ptr_bits %u",
	       info.features, info.nr_counters, info.nr_slots, info.value_max,
	       info.max_batch, info.ptr_bits);
#if defined(__x86_64__) || defined(__aarch64__)
	EXPECT_EQ(64, info.ptr_bits);
#else
	EXPECT_TRUE(info.ptr_bits == 32 || info.ptr_bits == 64);
#endif

	/*
	 * The global context's sizes and max_batch are the parameters'; the
	 * slots' sizes are reported whether or not FEAT_VALUES is claimed.
	 */
	{
		static const char *const names[] = {
			"nr_counters", "nr_slots", "value_max", "max_batch",
		};
		const __u32 got[] = {
			info.nr_counters, info.nr_slots, info.value_max,
			info.max_batch,
		};

		for (i = 0; i < KT_ARRAY_SIZE(names); i++) {
			p = ~0UL;
			r = kt_param(names[i], &p);
			ASSERT_EQ(0, r) TH_LOG(KT_PARAMS "/%s: %s", names[i],
					       strerror(-r));
			EXPECT_EQ(p, got[i]) TH_LOG("INFO's %s", names[i]);
		}
	}

	/* a second call, into an unaligned buffer, says the same */
	{
		char buf[sizeof(info) + 1] __attribute__((aligned(8)));

		memset(buf, 0xff, sizeof(buf));
		ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_INFO, buf + 1));
		EXPECT_EQ(0, memcmp(buf + 1, &info, sizeof(info)));
	}
}

TEST_F(dev, nop)
{
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_NOP, NULL));
	/* no argument: whatever is passed is not looked at */
	EXPECT_EQ(0, ioctl(self->fd, KATOMIC_IOC_NOP, 0xdeadbeefUL));
}

/* Unknown commands, and known numbers with another size or direction. */
TEST_F(dev, unknown_commands)
{
	static const unsigned long unknown[] = {
		_IO(KATOMIC_IOC_MAGIC, 0x09),
		_IO(KATOMIC_IOC_MAGIC, 0x3f),
		_IO(KATOMIC_IOC_MAGIC, 0xff),
		_IOWR(KATOMIC_IOC_MAGIC, 0x09, struct katomic_op),
		_IOR(KATOMIC_IOC_MAGIC, 0x80, __u64),
		_IO(KATOMIC_IOC_MAGIC + 1, 0x01),
		_IOWR(KATOMIC_IOC_MAGIC + 1, 0x05, struct katomic_op),
		_IOR(KATOMIC_IOC_MAGIC - 1, 0x00, struct katomic_info),
		_IO(0, 0),
	};
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	static __u64 buf[2048];
	unsigned int i, j, n = 0;

	for (i = 0; i < KT_ARRAY_SIZE(unknown); i++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, kt_ioctl(self->fd, unknown[i], buf))
			TH_LOG("cmd %#lx", unknown[i]);
	}

	for (i = 0; i < KT_ARRAY_SIZE(kt_cmds); i++) {
		unsigned long cmd = kt_cmds[i].cmd;
		unsigned int size = _IOC_SIZE(cmd), dir = _IOC_DIR(cmd);
		unsigned int sizes[] = { 0, 8, size - 8, size + 8, size * 2,
					 4096 };

		for (j = 0; j < KT_ARRAY_SIZE(sizes); j++) {
			unsigned long c;

			if (sizes[j] == size || sizes[j] > 4096)
				continue;
			c = _IOC(dir == _IOC_NONE ? _IOC_READ : dir,
				 KATOMIC_IOC_MAGIC, _IOC_NR(cmd), sizes[j]);
			if (dir == _IOC_NONE && !sizes[j])
				continue;
			memset(buf, 0, sizeof(buf));
			EXPECT_EQ(-ENOTTY, kt_ioctl(self->fd, c, buf))
				TH_LOG("%s with size %u", kt_cmds[i].name,
				       sizes[j]);
			n++;
		}
		for (j = 0; j < KT_ARRAY_SIZE(dirs); j++) {
			unsigned long c;

			if (dirs[j] == dir)
				continue;
			c = _IOC(dirs[j], KATOMIC_IOC_MAGIC, _IOC_NR(cmd),
				 size);
			memset(buf, 0, sizeof(buf));
			EXPECT_EQ(-ENOTTY, kt_ioctl(self->fd, c, buf))
				TH_LOG("%s with direction %u", kt_cmds[i].name,
				       dirs[j]);
			n++;
		}
	}
	EXPECT_LE(50, n);
	/* none of that touched the counter */
	EXPECT_EQ(1234, dev_value(_metadata, self->fd, self->id));
}

/* Every ioctl with an argument, given one it cannot read: -EFAULT. */
TEST_F(dev, bad_pointers)
{
	char *straddle_base = self->pages + self->pg;
	unsigned int i, j;

	for (i = 0; i < KT_ARRAY_SIZE(kt_cmds); i++) {
		unsigned long cmd = kt_cmds[i].cmd;
		size_t size = _IOC_SIZE(cmd);
		bool absent = kt_cmds[i].feature &&
			      !(self->info.features & kt_cmds[i].feature);
		void *bad[] = {
			NULL, (void *)1, (void *)(uintptr_t)4096,
			self->pages + self->pg,		 /* PROT_NONE */
			straddle_base - (size - 8),	 /* last 8 bytes */
			straddle_base - 1,		 /* all but 1 byte */
			(void *)(uintptr_t)0xffffffff81000000ULL, /* kernel */
			(void *)(uintptr_t)0x8000000000000000ULL,
		};

		if (!size)
			continue;
		/* readable part of the straddlers: a valid-looking struct */
		memset(self->pages, 0, self->pg);
		for (j = 0; j < KT_ARRAY_SIZE(bad); j++) {
			int r;

			if (sizeof(void *) < 8 && j >= 6)
				continue;
			r = kt_ioctl(self->fd, cmd, bad[j]);
			if (r >= 0 && cmd == KATOMIC_IOC_CONTEXT_NEW)
				close(r);
			if (absent && r == -EOPNOTSUPP)
				continue;
			EXPECT_EQ(-EFAULT, r)
				TH_LOG("%s at %p", kt_cmds[i].name, bad[j]);
		}
	}
	EXPECT_EQ(1234, dev_value(_metadata, self->fd, self->id));
}

/*
 * Arguments that can be read but not written: DEFINE and UNDEFINE only
 * read theirs and work; INFO, QUERY and OP must write theirs back and
 * fail with -EFAULT -- for OP after the op ran (the change stands).
 */
TEST_F(dev, readonly_arguments)
{
	struct katomic_define d = {
		.id = self->spare, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_INT64, .init = 77,
	};
	struct katomic_info info;
	struct katomic_op o;
	void *ro;

	ro = dev_readonly(_metadata, self, &d, sizeof(d));
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, ro));
	EXPECT_EQ(77, dev_value(_metadata, self->fd, self->spare));

	d.type = 0;
	d.init = 0;
	ro = dev_readonly(_metadata, self, &d, sizeof(d));
	EXPECT_EQ(-EFAULT, kt_ioctl(self->fd, KATOMIC_IOC_QUERY, ro));
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_UNDEFINE, ro));
	EXPECT_TRUE(counter_absent(self->fd, self->spare));

	memset(&info, 0, sizeof(info));
	ro = dev_readonly(_metadata, self, &info, sizeof(info));
	EXPECT_EQ(-EFAULT, kt_ioctl(self->fd, KATOMIC_IOC_INFO, ro));

	kt_op_init(&o, self->id, KATOMIC_TYPE_INT64, KATOMIC_OP_LOAD, 0, 0);
	ro = dev_readonly(_metadata, self, &o, sizeof(o));
	EXPECT_EQ(-EFAULT, kt_ioctl(self->fd, KATOMIC_IOC_OP, ro));
	kt_op_init(&o, self->id, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 5, 0);
	ro = dev_readonly(_metadata, self, &o, sizeof(o));
	EXPECT_EQ(-EFAULT, kt_ioctl(self->fd, KATOMIC_IOC_OP, ro));
	EXPECT_EQ(1239, dev_value(_metadata, self->fd, self->id))
		TH_LOG("an op whose result cannot be written back still ran");
}

/* DEFINE's fields: what must be 0, unknown enums, ids past the end. */
TEST_F(dev, define_fields)
{
	const struct katomic_define good = {
		.id = self->spare, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_UINT32, .sync = KATOMIC_SYNC_DEFAULT,
		.init = 5,
	};
	static const __u8 bad_obj[] = { 0, 3, 0x80, 0xff };
	static const __u8 bad_type[] = { 0, KATOMIC_TYPE_LAST + 1, 0xff };
	static const __u8 bad_sync[] = { KATOMIC_SYNC_LAST + 1, 0x80, 0xff };
	__u32 far[] = { self->info.nr_counters, self->info.nr_counters + 1,
			0x80000000, 0xffffffff };
	struct katomic_define d;
	unsigned int i;

#define DEF_FAILS(field, val, err) do {					\
		d = good;						\
		d.field = (val);					\
		expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE,	\
			    &d, sizeof(d), (err), "DEFINE " #field);	\
		EXPECT_TRUE(counter_absent(self->fd, self->spare))	\
			TH_LOG(#field " = %#llx", (unsigned long long)(val)); \
	} while (0)

	DEF_FAILS(flags, 1, -EINVAL);
	DEF_FAILS(flags, 0x80, -EINVAL);
	DEF_FAILS(reserved, 1, -EINVAL);
	DEF_FAILS(reserved, 1ULL << 63, -EINVAL);
	DEF_FAILS(param, 1, -EINVAL);
	DEF_FAILS(param, 1000, -EINVAL);
	for (i = 0; i < KT_ARRAY_SIZE(bad_obj); i++)
		DEF_FAILS(object, bad_obj[i], -EINVAL);
	for (i = 0; i < KT_ARRAY_SIZE(bad_type); i++)
		DEF_FAILS(type, bad_type[i], -EINVAL);
	for (i = 0; i < KT_ARRAY_SIZE(bad_sync); i++)
		DEF_FAILS(sync, bad_sync[i], -EINVAL);
	/* ATOMIC takes param 0 too */
	d = good;
	d.sync = KATOMIC_SYNC_ATOMIC;
	d.param = 1;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE, &d, sizeof(d),
		    -EINVAL, "ATOMIC with a param");
	/* slot kinds are not counter kinds */
	DEF_FAILS(sync, KATOMIC_SYNC_RCU, -EOPNOTSUPP);
	DEF_FAILS(sync, KATOMIC_SYNC_SEQLOCK, -EOPNOTSUPP);
	/* init not representable in UINT32 */
	DEF_FAILS(init, 1ULL << 32, -EOVERFLOW);
	DEF_FAILS(init, ~0ULL, -EOVERFLOW);
#undef DEF_FAILS

	for (i = 0; i < KT_ARRAY_SIZE(far); i++) {
		d = good;
		d.id = far[i];
		expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE, &d,
			    sizeof(d), -EINVAL, "DEFINE past the end");
		d.type = 0;
		d.init = 0;
		expect_fail(_metadata, self->fd, KATOMIC_IOC_UNDEFINE, &d,
			    sizeof(d), -EINVAL, "UNDEFINE past the end");
		expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY, &d,
			    sizeof(d), -EINVAL, "QUERY past the end");
	}

	/* and the good one works, at the last id too */
	d = good;
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d));
	d.id = self->info.nr_counters - 1;
	kt_undefine(self->fd, d.id);
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d));
	EXPECT_EQ(0, kt_undefine(self->fd, d.id));
}

/* UNDEFINE reads id and object, all else must be 0. */
TEST_F(dev, undefine_fields)
{
	const struct katomic_define good = {
		.id = self->id, .object = KATOMIC_OBJ_COUNTER,
	};
	struct katomic_define d;

#define UNDEF_FAILS(field, val, err) do {				\
		d = good;						\
		d.field = (val);					\
		expect_fail(_metadata, self->fd, KATOMIC_IOC_UNDEFINE,	\
			    &d, sizeof(d), (err), "UNDEFINE " #field);	\
		EXPECT_EQ(1234, dev_value(_metadata, self->fd, self->id)) \
			TH_LOG("UNDEFINE with " #field " = %#llx",	\
			       (unsigned long long)(val));		\
	} while (0)

	UNDEF_FAILS(type, KATOMIC_TYPE_INT64, -EINVAL);
	UNDEF_FAILS(sync, KATOMIC_SYNC_ATOMIC, -EINVAL);
	UNDEF_FAILS(flags, 1, -EINVAL);
	UNDEF_FAILS(init, 1234, -EINVAL);
	UNDEF_FAILS(param, 1, -EINVAL);
	UNDEF_FAILS(reserved, 1, -EINVAL);
	UNDEF_FAILS(object, 0, -EINVAL);
	UNDEF_FAILS(object, 3, -EINVAL);
#undef UNDEF_FAILS

	/* undefined: -ENOENT */
	d = good;
	d.id = self->spare;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_UNDEFINE, &d, sizeof(d),
		    -ENOENT, "UNDEFINE of an undefined counter");
	/* and the good one works once */
	d = good;
	EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_UNDEFINE, &d));
	EXPECT_EQ(-ENOENT, kt_ioctl(self->fd, KATOMIC_IOC_UNDEFINE, &d));
	EXPECT_TRUE(counter_absent(self->fd, self->id));
}

/*
 * QUERY: in id and object, out type, sync (resolved: never DEFAULT) and
 * param, whatever the out fields held on input.
 */
TEST_F(dev, query)
{
	const struct kt_type *t;
	struct katomic_define d;
	unsigned int s;

	kt_for_each_type(t) {
		for (s = 0; s < 2; s++) {
			__u8 sync = s ? KATOMIC_SYNC_ATOMIC
				      : KATOMIC_SYNC_DEFAULT;

			ASSERT_EQ(0, kt_define(self->fd, self->spare, t->type,
					       sync, 1));
			kt_query_poisoned(&d, self->spare);
			ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_QUERY, &d))
				TH_LOG("%s", t->name);
			EXPECT_EQ(self->spare, d.id);
			EXPECT_EQ(KATOMIC_OBJ_COUNTER, d.object);
			EXPECT_EQ(t->type, d.type) TH_LOG("%s", t->name);
			EXPECT_EQ(KATOMIC_SYNC_ATOMIC, d.sync)
				TH_LOG("%s, defined with sync %u", t->name,
				       sync);
			EXPECT_EQ(0, d.param);
			EXPECT_EQ(0, d.flags);
			EXPECT_EQ(0, d.reserved);
			ASSERT_EQ(0, kt_undefine(self->fd, self->spare));
		}
	}

	/* what must be 0 */
	memset(&d, 0, sizeof(d));
	d.id = self->id;
	d.object = KATOMIC_OBJ_COUNTER;
	d.flags = 1;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY, &d, sizeof(d),
		    -EINVAL, "QUERY flags");
	d.flags = 0;
	d.reserved = 1;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY, &d, sizeof(d),
		    -EINVAL, "QUERY reserved");
	d.reserved = 0;
	d.object = 0;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY, &d, sizeof(d),
		    -EINVAL, "QUERY object 0");
	d.object = 0xff;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY, &d, sizeof(d),
		    -EINVAL, "QUERY object 0xff");

	/* undefined: -ENOENT, and the poisoned out fields stay */
	kt_query_poisoned(&d, self->spare);
	expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY, &d, sizeof(d),
		    -ENOENT, "QUERY of an undefined counter");
}

/*
 * Counters live in the context, not in the descriptor: another open()
 * sees them, and they outlive the descriptor that defined them.
 */
TEST_F(dev, shared_global_context)
{
	int fd2 = kt_open();
	__u64 v = 0;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, kt_define(fd2, self->spare, KATOMIC_TYPE_UINT64,
			       KATOMIC_SYNC_DEFAULT, 99));
	EXPECT_EQ(0, kt_do(fd2, self->id, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD,
			   1, 0, &v, NULL));
	EXPECT_EQ(1235, v);
	close(fd2);
	EXPECT_EQ(0, kt_load(self->fd, self->spare, KATOMIC_TYPE_UINT64, &v));
	EXPECT_EQ(99, v);
	EXPECT_EQ(1235, dev_value(_metadata, self->fd, self->id));
}

/* ---- access modes ------------------------------------------------------ */

/*
 * A descriptor not open for writing may INFO, NOP, QUERY and LOAD;
 * DEFINE, UNDEFINE and every other op are -EBADF (as write(2) on it
 * would be), write nothing back and change nothing.
 */
TEST_F(dev, readonly_descriptor)
{
	const struct kt_type *t = kt_type_of(KATOMIC_TYPE_INT64);
	struct katomic_define d, q;
	struct katomic_info info;
	struct katomic_op o;
	__u64 v = KT_POISON, arg, arg2;
	unsigned int i;
	int fd;

	ASSERT_NE(NULL, t);
	fd = open(KT_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s O_RDONLY: %s", KT_DEV,
				strerror(errno));

	/* what only reads works */
	memset(&info, 0xff, sizeof(info));
	EXPECT_EQ(0, kt_ioctl(fd, KATOMIC_IOC_INFO, &info));
	EXPECT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
	EXPECT_EQ(0, kt_ioctl(fd, KATOMIC_IOC_NOP, NULL));
	ASSERT_EQ(0, kt_query(fd, self->id, &q));
	EXPECT_EQ(KATOMIC_TYPE_INT64, q.type);
	EXPECT_EQ(KATOMIC_SYNC_ATOMIC, q.sync);
	EXPECT_EQ(-ENOENT, kt_query(fd, self->spare, &q));
	EXPECT_EQ(0, kt_load(fd, self->id, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(1234, v);
	/* and sees what a writer does */
	ASSERT_EQ(0, kt_store(self->fd, self->id, KATOMIC_TYPE_INT64, 99));
	EXPECT_EQ(0, kt_load(fd, self->id, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(99, v);
	ASSERT_EQ(0, kt_store(self->fd, self->id, KATOMIC_TYPE_INT64, 1234));

	/* what changes anything: -EBADF, and nothing changed */
	memset(&d, 0, sizeof(d));
	d.id = self->spare;
	d.object = KATOMIC_OBJ_COUNTER;
	d.type = KATOMIC_TYPE_INT64;
	d.init = 5;
	expect_fail(_metadata, fd, KATOMIC_IOC_DEFINE, &d, sizeof(d), -EBADF,
		    "DEFINE on an O_RDONLY descriptor");
	EXPECT_TRUE(counter_absent(self->fd, self->spare));
	memset(&d, 0, sizeof(d));
	d.id = self->id;
	d.object = KATOMIC_OBJ_COUNTER;
	expect_fail(_metadata, fd, KATOMIC_IOC_UNDEFINE, &d, sizeof(d),
		    -EBADF, "UNDEFINE on an O_RDONLY descriptor");
	EXPECT_EQ(0, kt_query(self->fd, self->id, &q))
		TH_LOG("UNDEFINE on an O_RDONLY descriptor undefined it");
	for (i = 0; i < KT_NR_OPS; i++) {
		const struct kt_opdesc *op = &kt_ops[i];

		if (op->op == KATOMIC_OP_LOAD)
			continue;
		changing_args(t, op->op, 1234, &arg, &arg2);
		kt_op_init(&o, self->id, t->type, op->op, arg, arg2);
		expect_op_fails(_metadata, fd, self->id, t, &o, -EBADF,
				"on an O_RDONLY descriptor");
	}
	EXPECT_EQ(1234, dev_value(_metadata, self->fd, self->id));
	close(fd);
}

/*
 * O_WRONLY and O_RDWR descriptors do everything, LOAD included: reading
 * a counter is an ioctl, not read(2).
 */
TEST_F(dev, write_descriptors)
{
	static const struct {
		int flags;
		const char *name;
	} modes[] = {
		{ O_WRONLY, "O_WRONLY" },
		{ O_RDWR, "O_RDWR" },
	};
	const struct kt_type *t = kt_type_of(KATOMIC_TYPE_INT64);
	struct katomic_info info;
	struct katomic_define q;
	struct kt_expect e;
	__u64 arg, arg2, r, v;
	unsigned int i, m;
	__u8 applied;
	int fd;

	ASSERT_NE(NULL, t);
	for (m = 0; m < KT_ARRAY_SIZE(modes); m++) {
		const char *mode = modes[m].name;

		fd = open(KT_DEV, modes[m].flags | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open %s %s: %s", KT_DEV, mode,
					strerror(errno));
		memset(&info, 0xff, sizeof(info));
		EXPECT_EQ(0, kt_ioctl(fd, KATOMIC_IOC_INFO, &info))
			TH_LOG("%s", mode);
		EXPECT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
		EXPECT_EQ(0, kt_ioctl(fd, KATOMIC_IOC_NOP, NULL))
			TH_LOG("%s", mode);
		ASSERT_EQ(0, kt_define(fd, self->spare, t->type,
				       KATOMIC_SYNC_DEFAULT, 1234))
			TH_LOG("%s", mode);
		ASSERT_EQ(0, kt_query(fd, self->spare, &q)) TH_LOG("%s", mode);
		EXPECT_EQ(t->type, q.type);
		for (i = 0; i < KT_NR_OPS; i++) {
			const struct kt_opdesc *op = &kt_ops[i];

			ASSERT_EQ(0, kt_store(fd, self->spare, t->type, 1234));
			changing_args(t, op->op, 1234, &arg, &arg2);
			e = kt_model(t, op->op, 1234, arg, arg2);
			r = KT_POISON;
			applied = 0xa5;
			ASSERT_EQ(0, kt_do(fd, self->spare, t->type, op->op,
					   arg, arg2, &r, &applied))
				TH_LOG("%s on %s", op->name, mode);
			EXPECT_EQ(e.result, r) TH_LOG("%s on %s", op->name,
						      mode);
			EXPECT_EQ(e.applied, applied)
				TH_LOG("%s on %s", op->name, mode);
			v = KT_POISON;
			EXPECT_EQ(0, kt_load(fd, self->spare, t->type, &v))
				TH_LOG("LOAD on %s", mode);
			EXPECT_EQ(e.value, v) TH_LOG("%s on %s", op->name,
						     mode);
		}
		EXPECT_EQ(0, kt_undefine(fd, self->spare)) TH_LOG("%s", mode);
		EXPECT_TRUE(counter_absent(self->fd, self->spare));
		close(fd);
	}
}

/* ---- features: claimed ones work, absent ones are refused ------------- */

TEST_F(dev, feature_sync_kinds)
{
	static const __u8 kinds[] = {
		KATOMIC_SYNC_NONE, KATOMIC_SYNC_SPINLOCK, KATOMIC_SYNC_MUTEX,
		KATOMIC_SYNC_PERCPU,
	};
	const struct kt_type *t;
	struct katomic_define q;
	unsigned int i;
	__u64 r;

	if (!(self->info.features & KATOMIC_FEAT_SYNC_KINDS)) {
		kt_for_each_type(t) {
			for (i = 0; i < KT_ARRAY_SIZE(kinds); i++) {
				EXPECT_EQ(-EOPNOTSUPP,
					  kt_define(self->fd, self->spare,
						    t->type, kinds[i], 0))
					TH_LOG("%s sync %u", t->name, kinds[i]);
				EXPECT_TRUE(counter_absent(self->fd,
							   self->spare));
			}
		}
		return;
	}

	/* claimed: each kind defines, reports itself and counts */
	kt_for_each_type(t) {
		for (i = 0; i < KT_ARRAY_SIZE(kinds); i++) {
			bool percpu = kinds[i] == KATOMIC_SYNC_PERCPU;
			int r_def = kt_define(self->fd, self->spare, t->type,
					      kinds[i], 3);

			/* PERCPU takes INT64 and UINT64 only */
			if (!kt_sync_takes(kinds[i], t->type)) {
				EXPECT_EQ(-EOPNOTSUPP, r_def)
					TH_LOG("PERCPU %s", t->name);
				if (!counter_absent(self->fd, self->spare)) {
					EXPECT_TRUE(false)
						TH_LOG("PERCPU %s defined",
						       t->name);
					kt_undefine(self->fd, self->spare);
				}
				continue;
			}
			ASSERT_EQ(0, r_def)
				TH_LOG("%s sync %u", t->name, kinds[i]);
			ASSERT_EQ(0, kt_query(self->fd, self->spare, &q));
			EXPECT_EQ(t->type, q.type);
			EXPECT_EQ(kinds[i], q.sync);
			EXPECT_EQ(0, q.param);
			EXPECT_EQ(0, kt_do(self->fd, self->spare, t->type,
					   KATOMIC_OP_ADD, 2, 0, &r, NULL));
			EXPECT_EQ(percpu ? 0 : 5, r);
			EXPECT_EQ(0, kt_load(self->fd, self->spare, t->type,
					     &r));
			EXPECT_EQ(5, r);
			/* PERCPU has no CAS; it changes nothing */
			EXPECT_EQ(percpu ? -EOPNOTSUPP : 0,
				  kt_do(self->fd, self->spare, t->type,
					KATOMIC_OP_CAS, 5, 6, NULL, NULL))
				TH_LOG("CAS on %s sync %u", t->name, kinds[i]);
			EXPECT_EQ(0, kt_load(self->fd, self->spare, t->type,
					     &r));
			EXPECT_EQ(percpu ? 5 : 6, r);
			ASSERT_EQ(0, kt_undefine(self->fd, self->spare));
		}
	}
}

TEST_F(dev, feature_sync_params)
{
	struct katomic_define d = {
		.id = self->spare, .object = KATOMIC_OBJ_COUNTER,
		.type = KATOMIC_TYPE_INT64,
	};
	struct katomic_define q;

	if (!(self->info.features & KATOMIC_FEAT_SYNC_KINDS))
		SKIP(return, "KATOMIC_FEAT_SYNC_KINDS not claimed");
	/* NONE takes a delay of up to 1 ms, the other kinds 0 */
	d.sync = KATOMIC_SYNC_NONE;
	d.param = 1000001;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE, &d, sizeof(d),
		    -EINVAL, "NONE with a delay over 1 ms");
	d.param = 1000000;
	ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d));
	ASSERT_EQ(0, kt_query(self->fd, self->spare, &q));
	EXPECT_EQ(1000000, q.param);
	ASSERT_EQ(0, kt_undefine(self->fd, self->spare));
	d.sync = KATOMIC_SYNC_SPINLOCK;
	d.param = 1;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE, &d, sizeof(d),
		    -EINVAL, "SPINLOCK with a param");
	d.sync = KATOMIC_SYNC_MUTEX;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE, &d, sizeof(d),
		    -EINVAL, "MUTEX with a param");
	d.sync = KATOMIC_SYNC_PERCPU;
	expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE, &d, sizeof(d),
		    -EINVAL, "PERCPU with a param");
}

TEST_F(dev, feature_values)
{
	static const __u8 kinds[] = {
		KATOMIC_SYNC_DEFAULT, KATOMIC_SYNC_NONE, KATOMIC_SYNC_RCU,
		KATOMIC_SYNC_SEQLOCK,
	};
	struct katomic_define d = { .id = 5, .object = KATOMIC_OBJ_VALUE };
	unsigned int i;

	if (!(self->info.features & KATOMIC_FEAT_VALUES)) {
		/* slot ids that exist in the context: the first, 5, the last */
		__u32 ids[] = { 0, 5, self->info.nr_slots - 1 };
		struct katomic_define q;

		ASSERT_LT(5, self->info.nr_slots)
			TH_LOG("the global context has %u slots",
			       self->info.nr_slots);
		for (i = 0; i < KT_ARRAY_SIZE(kinds); i++) {
			d.sync = kinds[i];
			expect_fail(_metadata, self->fd, KATOMIC_IOC_DEFINE,
				    &d, sizeof(d), -EOPNOTSUPP,
				    "DEFINE of a slot without FEAT_VALUES");
		}
		/* UNDEFINE and QUERY of a slot: refused the same way */
		for (i = 0; i < KT_ARRAY_SIZE(ids); i++) {
			memset(&q, 0, sizeof(q));
			q.id = ids[i];
			q.object = KATOMIC_OBJ_VALUE;
			expect_fail(_metadata, self->fd, KATOMIC_IOC_UNDEFINE,
				    &q, sizeof(q), -EOPNOTSUPP,
				    "UNDEFINE of a slot without FEAT_VALUES");
			q.type = 0xee;
			q.sync = 0xee;
			q.param = KT_POISON;
			expect_fail(_metadata, self->fd, KATOMIC_IOC_QUERY,
				    &q, sizeof(q), -EOPNOTSUPP,
				    "QUERY of a slot without FEAT_VALUES");
		}
		return;
	}

	/* claimed: a slot defines, reports RCU and round-trips a value */
	{
		struct katomic_value_op v;
		char in[] = "katomic", out[16] = "";
		struct katomic_define q;

		d.sync = KATOMIC_SYNC_DEFAULT;
		kt_ioctl(self->fd, KATOMIC_IOC_UNDEFINE, &(struct katomic_define){
			.id = 5, .object = KATOMIC_OBJ_VALUE });
		ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_DEFINE, &d));
		memset(&q, 0, sizeof(q));
		q.id = 5;
		q.object = KATOMIC_OBJ_VALUE;
		ASSERT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_QUERY, &q));
		EXPECT_EQ(KATOMIC_SYNC_RCU, q.sync);
		EXPECT_EQ(0, q.type);

		memset(&v, 0, sizeof(v));
		v.id = 5;
		v.op = KATOMIC_VOP_STORE;
		v.tag = 42;
		v.len = sizeof(in);
		v.buf = (uintptr_t)in;
		EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_VALUE, &v));
		memset(&v, 0, sizeof(v));
		v.id = 5;
		v.op = KATOMIC_VOP_LOAD;
		v.out = (uintptr_t)out;
		v.out_len = sizeof(out);
		EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_VALUE, &v));
		EXPECT_EQ(42, v.out_tag);
		EXPECT_EQ(sizeof(in), v.out_len);
		EXPECT_STREQ(in, out);
		EXPECT_EQ(1, v.version);
		q.type = 0;
		q.sync = 0;
		EXPECT_EQ(0, kt_ioctl(self->fd, KATOMIC_IOC_UNDEFINE, &q));
	}
}

TEST_F(dev, feature_batch)
{
	struct katomic_op ops[1];
	struct katomic_batch b = { .ops = (uintptr_t)ops, .nr = 1 };
	int r;

	kt_op_init(&ops[0], self->id, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0);
	r = kt_ioctl(self->fd, KATOMIC_IOC_BATCH, &b);
	if (!(self->info.features & KATOMIC_FEAT_BATCH)) {
		EXPECT_EQ(-EOPNOTSUPP, r);
		EXPECT_EQ(1234, dev_value(_metadata, self->fd, self->id))
			TH_LOG("a refused batch ran its op");
		return;
	}
	ASSERT_EQ(0, r);
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(0, ops[0].error);
	EXPECT_EQ(1235, ops[0].result);
	b.nr = 0;
	EXPECT_EQ(-EINVAL, kt_ioctl(self->fd, KATOMIC_IOC_BATCH, &b));
	b.nr = self->info.max_batch + 1;
	EXPECT_EQ(-E2BIG, kt_ioctl(self->fd, KATOMIC_IOC_BATCH, &b));
	EXPECT_EQ(1235, dev_value(_metadata, self->fd, self->id));
}

TEST_F(dev, feature_contexts)
{
	struct katomic_context c = { .nr_counters = 4 };
	struct katomic_info info;
	int r;

	r = kt_ioctl(self->fd, KATOMIC_IOC_CONTEXT_NEW, &c);
	if (!(self->info.features & KATOMIC_FEAT_CONTEXTS)) {
		if (r >= 0)
			close(r);
		EXPECT_EQ(-EOPNOTSUPP, r);
		return;
	}
	ASSERT_LE(0, r);
	ASSERT_EQ(0, kt_info(r, &info));
	EXPECT_EQ(4, info.nr_counters);
	/* a private context has its own counters, and no CONTEXT_NEW */
	EXPECT_TRUE(counter_absent(r, 3));
	EXPECT_EQ(0, kt_define(r, 3, KATOMIC_TYPE_INT32, 0, 1));
	EXPECT_EQ(-EINVAL, kt_define(r, 4, KATOMIC_TYPE_INT32, 0, 1));
	EXPECT_EQ(-ENOTTY, kt_ioctl(r, KATOMIC_IOC_CONTEXT_NEW, &c));
	close(r);
}

TEST_F(dev, feature_mmap)
{
	struct katomic_context c = {
		.nr_counters = 4, .flags = KATOMIC_CTX_MMAP,
	};
	void *p;
	int r;

	/* the global context never maps */
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
	if (p != MAP_FAILED)
		munmap(p, self->pg);

	if (!(self->info.features & KATOMIC_FEAT_CONTEXTS))
		SKIP(return, "KATOMIC_FEAT_CONTEXTS not claimed");
	r = kt_ioctl(self->fd, KATOMIC_IOC_CONTEXT_NEW, &c);
	if (!(self->info.features & KATOMIC_FEAT_MMAP)) {
		if (r >= 0)
			close(r);
		EXPECT_TRUE(r == -EOPNOTSUPP || r == -EINVAL)
			TH_LOG("CONTEXT_NEW(MMAP) without FEAT_MMAP: %d", r);
		return;
	}
	ASSERT_LE(0, r);
	p = mmap(NULL, 4 * 64, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);
	ASSERT_NE(MAP_FAILED, p);
	{
		volatile __u64 *v = (volatile __u64 *)((char *)p + 64);
		__u64 x = 0;

		ASSERT_EQ(0, kt_define(r, 1, KATOMIC_TYPE_INT64, 0, 5));
		EXPECT_EQ(5, *v);
		__atomic_fetch_add(v, 3, __ATOMIC_SEQ_CST);
		EXPECT_EQ(0, kt_load(r, 1, KATOMIC_TYPE_INT64, &x));
		EXPECT_EQ(8, x);
	}
	munmap(p, 4 * 64);
	close(r);
}

/* IOC_VALUE without FEAT_VALUES: refused; no slot can exist. */
TEST_F(dev, feature_value_ioctl)
{
	struct katomic_value_op v = { .id = 0, .op = KATOMIC_VOP_LOAD };
	char out[8];
	int r;

	if (self->info.features & KATOMIC_FEAT_VALUES)
		SKIP(return, "KATOMIC_FEAT_VALUES claimed: see feature_values");
	v.out = (uintptr_t)out;
	v.out_len = sizeof(out);
	r = kt_ioctl(self->fd, KATOMIC_IOC_VALUE, &v);
	EXPECT_TRUE(r == -EOPNOTSUPP || r == -ENOENT)
		TH_LOG("VALUE LOAD without FEAT_VALUES: %d", r);
}

TEST_HARNESS_MAIN
