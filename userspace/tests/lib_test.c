// SPDX-License-Identifier: GPL-2.0
/*
 * libkatomic's tables and values: names from the uapi tables, the number
 * parser and formatter, and the representability rule; and the device
 * backend's value calls, against a stand-in for the device's ioctls.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "katomic.h"
#include "kselftest_harness.h"

#define PTR_BITS	(sizeof(uintptr_t) * 8)
#define S(x)		((__u64)(int64_t)(x))
#define T(name)		KATOMIC_TYPE_##name

TEST(op_names)
{
	const struct katomic_op_desc *d;

#define OP_CHECK(NAME, nr, op_name, op_operands, op_applied)		\
	d = katomic_op_desc(nr);					\
	ASSERT_NE(NULL, d);						\
	EXPECT_STREQ(#op_name, d->name);				\
	EXPECT_EQ(op_operands, d->operands);				\
	EXPECT_EQ(op_applied, d->applied);				\
	EXPECT_NE(0, strlen(d->doc));					\
	EXPECT_EQ(nr, katomic_op_parse(#op_name));
	KATOMIC_OP_TABLE(OP_CHECK)
#undef OP_CHECK
	EXPECT_EQ(NULL, katomic_op_desc(0));
	EXPECT_EQ(NULL, katomic_op_desc(KATOMIC_OP_LAST + 1));
	EXPECT_EQ(NULL, katomic_op_name(1000));
	EXPECT_EQ(KATOMIC_OP_ADD_UNLESS, katomic_op_parse("add-unless"));
	EXPECT_EQ(KATOMIC_OP_ADD_UNLESS, katomic_op_parse("ADD_UNLESS"));
	EXPECT_EQ(-EINVAL, katomic_op_parse("add-"));
	EXPECT_EQ(-EINVAL, katomic_op_parse("addunless"));
	EXPECT_EQ(-EINVAL, katomic_op_parse(""));
	/* The operand names count what the op reads. */
	EXPECT_STREQ("", katomic_op_desc(KATOMIC_OP_LOAD)->args);
	EXPECT_STREQ("delta unless", katomic_op_desc(KATOMIC_OP_ADD_UNLESS)->args);
	EXPECT_STREQ("old new", katomic_op_desc(KATOMIC_OP_CAS)->args);
}

TEST(type_and_sync_names)
{
#define TYPE_CHECK(NAME, nr, name, bits, is_signed)			\
	EXPECT_STREQ(#name, katomic_type_name(nr));			\
	EXPECT_EQ(nr, katomic_type_parse(#name));			\
	EXPECT_EQ((bits) ? (bits) : 64, katomic_type_bits(nr, 64));
	KATOMIC_TYPE_TABLE(TYPE_CHECK)
#undef TYPE_CHECK
#define SYNC_CHECK(NAME, nr, name)					\
	EXPECT_STREQ(#name, katomic_sync_name(nr));			\
	EXPECT_EQ(nr, katomic_sync_parse(#name));
	KATOMIC_SYNC_TABLE(SYNC_CHECK)
#undef SYNC_CHECK
	EXPECT_EQ(NULL, katomic_type_name(0));
	EXPECT_EQ(NULL, katomic_type_name(KATOMIC_TYPE_LAST + 1));
	EXPECT_EQ(NULL, katomic_sync_name(KATOMIC_SYNC_LAST + 1));
	EXPECT_EQ(-EINVAL, katomic_type_parse("uint8"));
	EXPECT_EQ(-EINVAL, katomic_sync_parse("lock"));
	EXPECT_EQ(32, katomic_type_bits(KATOMIC_TYPE_UINTPTR, 32));
	EXPECT_EQ(0, katomic_type_bits(0, 64));
}

TEST(vop_names)
{
#define VOP_CHECK(NAME, nr, name)					\
	EXPECT_STREQ(#name, katomic_vop_name(nr));			\
	EXPECT_EQ(nr, katomic_vop_parse(#name));
	KATOMIC_VOP_TABLE(VOP_CHECK)
#undef VOP_CHECK
	EXPECT_EQ(NULL, katomic_vop_name(0));
	EXPECT_EQ(NULL, katomic_vop_name(KATOMIC_VOP_LAST + 1));
	EXPECT_EQ(KATOMIC_VOP_CAS, katomic_vop_parse("CAS"));
	EXPECT_EQ(-EINVAL, katomic_vop_parse("add"));
	EXPECT_EQ(-EINVAL, katomic_vop_parse(""));
}

TEST(feature_and_errno_names)
{
	EXPECT_STREQ("sync_kinds", katomic_feature_name(KATOMIC_FEAT_SYNC_KINDS));
	EXPECT_STREQ("values", katomic_feature_name(KATOMIC_FEAT_VALUES));
	EXPECT_STREQ("mmap", katomic_feature_name(KATOMIC_FEAT_MMAP));
	EXPECT_EQ(NULL, katomic_feature_name(1U << 31));
	EXPECT_EQ(NULL, katomic_feature_name(0));
	EXPECT_STREQ("ENOENT", katomic_errno_name(-ENOENT));
	EXPECT_STREQ("EOVERFLOW", katomic_errno_name(EOVERFLOW));
	EXPECT_STREQ("not defined", katomic_strerror(-ENOENT));
	EXPECT_STREQ("E?", katomic_errno_name(-EHWPOISON));
	EXPECT_NE(0, strlen(katomic_strerror(-EHWPOISON)));
}

struct parse_case {
	const char *s;
	unsigned int type, ptr_bits;
	int ret;
	__u64 v;
};

static const struct parse_case parse_cases[] = {
	{ "0", T(INT32), 64, 0, 0 },
	{ "-1", T(INT32), 64, 0, S(-1) },
	{ "+5", T(INT32), 64, 0, 5 },
	{ "2147483647", T(INT32), 64, 0, 0x7fffffff },
	{ "2147483648", T(INT32), 64, -EOVERFLOW, 0 },
	{ "-2147483648", T(INT32), 64, 0, S(INT32_MIN) },
	{ "-2147483649", T(INT32), 64, -EOVERFLOW, 0 },
	{ "0x7fffffff", T(INT32), 64, 0, 0x7fffffff },
	{ "0x80000000", T(INT32), 64, -EOVERFLOW, 0 },
	{ "0xffffffff", T(INT32), 64, -EOVERFLOW, 0 },
	{ "-0x80000000", T(INT32), 64, 0, S(INT32_MIN) },
	{ "4294967295", T(UINT32), 64, 0, 0xffffffff },
	{ "0XFFFFFFFF", T(UINT32), 64, 0, 0xffffffff },
	{ "4294967296", T(UINT32), 64, -EOVERFLOW, 0 },
	{ "-1", T(UINT32), 64, -EOVERFLOW, 0 },
	{ "-0", T(UINT32), 64, 0, 0 },
	{ "9223372036854775807", T(INT64), 64, 0, INT64_MAX },
	{ "9223372036854775808", T(INT64), 64, -EOVERFLOW, 0 },
	{ "-9223372036854775808", T(INT64), 64, 0, S(INT64_MIN) },
	{ "-9223372036854775809", T(INT64), 64, -EOVERFLOW, 0 },
	{ "-0x8000000000000000", T(INT64), 64, 0, S(INT64_MIN) },
	{ "0xffffffffffffffff", T(INT64), 64, -EOVERFLOW, 0 },
	{ "18446744073709551615", T(UINT64), 64, 0, UINT64_MAX },
	{ "18446744073709551616", T(UINT64), 64, -EOVERFLOW, 0 },
	{ "99999999999999999999999", T(UINT64), 64, -EOVERFLOW, 0 },
	{ "0x10000000000000000", T(UINT64), 64, -EOVERFLOW, 0 },
	{ "0x00000000000000000001", T(UINT64), 64, 0, 1 },
	{ "010", T(UINT64), 64, 0, 10 },
	{ "0xffffffff", T(UINTPTR), 32, 0, 0xffffffff },
	{ "0x100000000", T(UINTPTR), 32, -EOVERFLOW, 0 },
	{ "0x100000000", T(UINTPTR), 64, 0, 0x100000000 },
	{ "", T(INT32), 64, -EINVAL, 0 },
	{ "-", T(INT32), 64, -EINVAL, 0 },
	{ "0x", T(INT32), 64, -EINVAL, 0 },
	{ "12x", T(INT32), 64, -EINVAL, 0 },
	{ "0xg", T(INT32), 64, -EINVAL, 0 },
	{ " 1", T(INT32), 64, -EINVAL, 0 },
	{ "1 ", T(INT32), 64, -EINVAL, 0 },
	{ "--1", T(INT32), 64, -EINVAL, 0 },
	{ "+-1", T(INT32), 64, -EINVAL, 0 },
	{ "1e3", T(INT64), 64, -EINVAL, 0 },
	{ "1", 0, 64, -EINVAL, 0 },
	{ "1", KATOMIC_TYPE_LAST + 1, 64, -EINVAL, 0 },
};

TEST(parse)
{
	size_t i;
	__u64 v;
	int ret;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		v = 0x5a5a;
		ret = katomic_value_parse(c->s, c->type, c->ptr_bits, &v);
		if (ret != c->ret || (!ret && v != c->v))
			TH_LOG("'%s' as %s/%u: %d 0x%llx", c->s,
			       katomic_type_name(c->type), c->ptr_bits, ret, v);
		EXPECT_EQ(c->ret, ret);
		EXPECT_EQ(c->ret ? 0x5a5a : c->v, v);
	}
}

TEST(format_parses_back)
{
	static const __u64 values[] = {
		0, 1, 0x7f, 0x7fffffff, 0x80000000, 0xffffffff,
		S(-1), S(INT32_MIN), S(INT64_MIN), INT64_MAX, UINT64_MAX,
	};
	char buf[32];
	unsigned int type;
	size_t i;
	int hex;
	__u64 v;

	for (type = 1; type <= KATOMIC_TYPE_LAST; type++) {
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			if (!katomic_value_fits(type, PTR_BITS, values[i]))
				continue;
			for (hex = 0; hex < 2; hex++) {
				katomic_value_format(buf, sizeof(buf), type,
						     values[i], hex);
				EXPECT_EQ(0, katomic_value_parse(buf, type,
							PTR_BITS, &v));
				EXPECT_EQ(values[i], v);
			}
		}
	}
	katomic_value_format(buf, sizeof(buf), T(INT32), S(-16), true);
	EXPECT_STREQ("-0x10", buf);
	katomic_value_format(buf, sizeof(buf), T(INT64), S(INT64_MIN), false);
	EXPECT_STREQ("-9223372036854775808", buf);
	katomic_value_format(buf, sizeof(buf), T(UINT64), UINT64_MAX, false);
	EXPECT_STREQ("18446744073709551615", buf);
	katomic_value_format(buf, sizeof(buf), T(UINT32), 0xffffffff, true);
	EXPECT_STREQ("0xffffffff", buf);
}

TEST(limits_and_extension)
{
	EXPECT_EQ(S(INT32_MIN), katomic_value_min(T(INT32), 64));
	EXPECT_EQ(INT32_MAX, katomic_value_max(T(INT32), 64));
	EXPECT_EQ(0, katomic_value_min(T(UINT32), 64));
	EXPECT_EQ(UINT32_MAX, katomic_value_max(T(UINT32), 64));
	EXPECT_EQ(S(INT64_MIN), katomic_value_min(T(INT64), 64));
	EXPECT_EQ(INT64_MAX, katomic_value_max(T(INT64), 64));
	EXPECT_EQ(UINT64_MAX, katomic_value_max(T(UINT64), 64));
	EXPECT_EQ(UINT32_MAX, katomic_value_max(T(UINTPTR), 32));
	EXPECT_EQ(UINT64_MAX, katomic_value_max(T(UINTPTR), 64));

	EXPECT_EQ(S(-1), katomic_value_extend(T(INT32), 64, 0xffffffff));
	EXPECT_EQ(0xffffffff, katomic_value_extend(T(UINT32), 64, S(-1)));
	EXPECT_EQ(0xffffffff, katomic_value_extend(T(UINTPTR), 32, S(-1)));
	EXPECT_EQ(S(-1), katomic_value_extend(T(INT64), 64, S(-1)));

	EXPECT_TRUE(katomic_value_fits(T(INT32), 64, S(-1)));
	EXPECT_FALSE(katomic_value_fits(T(INT32), 64, 0xffffffff));
	EXPECT_FALSE(katomic_value_fits(T(UINT32), 64, S(-1)));
	EXPECT_TRUE(katomic_value_fits(T(UINT64), 64, S(-1)));
	EXPECT_FALSE(katomic_value_fits(T(UINTPTR), 32, 0x100000000));
	EXPECT_FALSE(katomic_value_fits(0, 64, 0));
}

/*
 * The device backend without a device: this program's own ioctl() (a
 * static link takes it instead of libc's weak one) stands in for the
 * commands of /dev/katomic (ioctl type KATOMIC_IOC_MAGIC).  It records
 * the descriptor, the command and the struct the library passed, and
 * answers as the test says; other ioctls go to the kernel.  The handle is
 * katomic_open() of /dev/null, whose INFO the stand-in answers.
 */
static struct {
	unsigned int calls;
	int fd;
	unsigned long cmd;
	struct katomic_define d;	/* DEFINE, UNDEFINE, QUERY: as passed */
	struct katomic_value_op vop;	/* VALUE: as passed */
	int err;			/* fail the calls with it; 0: succeed */
	__u8 sync;			/* QUERY's answer */
	struct katomic_value_op reply;	/* VALUE's out fields */
} fake;

int ioctl(int fd, unsigned long cmd, ...)
{
	struct katomic_value_op *vop;
	struct katomic_define *d;
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
	switch (cmd) {
	case KATOMIC_IOC_INFO:
		*(struct katomic_info *)arg = (struct katomic_info){
			.abi_version = KATOMIC_ABI_VERSION,
			.features = KATOMIC_FEAT_VALUES,
			.nr_slots = 8,
			.value_max = 64,
		};
		return 0;
	case KATOMIC_IOC_DEFINE:
	case KATOMIC_IOC_UNDEFINE:
	case KATOMIC_IOC_QUERY:
		d = arg;
		fake.d = *d;
		if (!fake.err && cmd == KATOMIC_IOC_QUERY)
			d->sync = fake.sync;
		break;
	case KATOMIC_IOC_VALUE:
		vop = arg;
		fake.vop = *vop;
		if (fake.err == ERANGE)
			vop->out_len = fake.reply.out_len;
		if (fake.err)
			break;
		vop->out_len = fake.reply.out_len;
		vop->out_tag = fake.reply.out_tag;
		vop->applied = fake.reply.applied;
		vop->version = fake.reply.version;
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
	unsigned char buf[16], out[16];
};

FIXTURE_SETUP(dev)
{
	memset(&fake, 0, sizeof(fake));
	ASSERT_EQ(0, katomic_open("/dev/null", &self->k));
	EXPECT_EQ(KATOMIC_IOC_INFO, fake.cmd);
	memcpy(self->buf, "0123456789abcdef", sizeof(self->buf));
	fake.calls = 0;
}

FIXTURE_TEARDOWN(dev)
{
	katomic_close(self->k);
}

/* The last call was cmd on the handle's descriptor with struct d. */
static void expect_define(struct __test_metadata *_metadata, struct katomic *k,
			  unsigned long cmd, const struct katomic_define *d)
{
	EXPECT_EQ(cmd, fake.cmd);
	EXPECT_EQ(katomic_fd(k), fake.fd);
	EXPECT_EQ(0, memcmp(d, &fake.d, sizeof(*d)));
}

static void expect_vop(struct __test_metadata *_metadata, struct katomic *k,
		       const struct katomic_value_op *vop)
{
	EXPECT_EQ(KATOMIC_IOC_VALUE, fake.cmd);
	EXPECT_EQ(katomic_fd(k), fake.fd);
	EXPECT_EQ(0, memcmp(vop, &fake.vop, sizeof(*vop)));
}

TEST_F(dev, define_family)
{
	struct katomic_define d = {
		.id = 3, .object = KATOMIC_OBJ_VALUE,
		.sync = KATOMIC_SYNC_SEQLOCK,
	};
	unsigned int sync = 99;

	EXPECT_EQ(0, katomic_value_define(self->k, 3, KATOMIC_SYNC_SEQLOCK));
	expect_define(_metadata, self->k, KATOMIC_IOC_DEFINE, &d);
	d.sync = 0;
	EXPECT_EQ(0, katomic_value_undefine(self->k, 3));
	expect_define(_metadata, self->k, KATOMIC_IOC_UNDEFINE, &d);
	fake.sync = KATOMIC_SYNC_NONE;
	EXPECT_EQ(0, katomic_value_query(self->k, 3, &sync));
	expect_define(_metadata, self->k, KATOMIC_IOC_QUERY, &d);
	EXPECT_EQ(KATOMIC_SYNC_NONE, sync);
	EXPECT_EQ(3, fake.calls);
	/* The device's errno, as -errno; nothing written on failure. */
	fake.err = ENOENT;
	sync = 99;
	EXPECT_EQ(-ENOENT, katomic_value_query(self->k, 3, &sync));
	EXPECT_EQ(99, sync);
	fake.err = EOPNOTSUPP;
	EXPECT_EQ(-EOPNOTSUPP, katomic_value_define(self->k, 3, 0));
	/* A kind that does not fit the struct's byte never reaches it. */
	EXPECT_EQ(-EINVAL, katomic_value_define(self->k, 3,
						256 + KATOMIC_SYNC_RCU));
	EXPECT_EQ(5, fake.calls);
}

TEST_F(dev, store_and_load)
{
	struct katomic_value_op vop = {
		.id = 2, .op = KATOMIC_VOP_STORE, .tag = 7, .len = 10,
		.buf = (uintptr_t)self->buf,
	};
	__u64 version = 0;
	size_t len;
	__u32 tag = 0;

	fake.reply.version = 42;
	fake.reply.applied = 1;		/* a device may echo it: not CAS */
	EXPECT_EQ(0, katomic_value_store(self->k, 2, 7, self->buf, 10,
					 &version));
	expect_vop(_metadata, self->k, &vop);
	EXPECT_EQ(42, version);

	vop = (struct katomic_value_op){
		.id = 2, .op = KATOMIC_VOP_LOAD,
		.out = (uintptr_t)self->out, .out_len = sizeof(self->out),
	};
	fake.reply = (struct katomic_value_op){ .out_len = 5, .out_tag = 9,
						.version = 3, .applied = 1 };
	len = sizeof(self->out);
	EXPECT_EQ(0, katomic_value_load(self->k, 2, self->out, &len, &tag,
					&version));
	expect_vop(_metadata, self->k, &vop);
	EXPECT_EQ(5, len);
	EXPECT_EQ(9, tag);
	EXPECT_EQ(3, version);

	/* -ERANGE brings the length needed back, and only that. */
	fake.err = ERANGE;
	fake.reply.out_len = 100;
	len = sizeof(self->out);
	tag = 0;
	EXPECT_EQ(-ERANGE, katomic_value_load(self->k, 2, self->out, &len,
					      &tag, &version));
	EXPECT_EQ(100, len);
	EXPECT_EQ(0, tag);
	EXPECT_EQ(3, version);
	fake.err = EINVAL;
	len = 1;
	EXPECT_EQ(-EINVAL, katomic_value_load(self->k, 2, self->out, &len,
					      &tag, &version));
	EXPECT_EQ(1, len);
	EXPECT_EQ(-EINVAL, katomic_value_store(self->k, 2, 7, self->buf, 1,
					       &version));
	EXPECT_EQ(3, version);
	EXPECT_EQ(5, fake.calls);

	/* Lengths the ABI cannot carry: refused, or a capacity cut. */
	if (SIZE_MAX > UINT32_MAX) {
		fake.err = 0;
		EXPECT_EQ(-E2BIG, katomic_value_store(self->k, 2, 7, self->buf,
					(size_t)UINT32_MAX + 1, NULL));
		EXPECT_EQ(5, fake.calls);
		len = (size_t)UINT32_MAX + 1;
		EXPECT_EQ(0, katomic_value_load(self->k, 2, self->out, &len,
						NULL, NULL));
		EXPECT_EQ(UINT32_MAX, fake.vop.out_len);
	}
}

TEST_F(dev, swap_and_cas)
{
	struct katomic_value_op vop = {
		.id = 1, .op = KATOMIC_VOP_SWAP, .tag = 4, .len = 3,
		.buf = (uintptr_t)self->buf, .out = (uintptr_t)self->out,
		.out_len = 12,
	};
	__u64 version = 0;
	size_t len = 12;
	__u32 tag = 0;

	fake.reply = (struct katomic_value_op){ .out_len = 6, .out_tag = 4,
						.version = 8 };
	EXPECT_EQ(0, katomic_value_swap(self->k, 1, 4, self->buf, 3,
					self->out, &len, &tag, &version));
	expect_vop(_metadata, self->k, &vop);
	EXPECT_EQ(6, len);
	EXPECT_EQ(4, tag);
	EXPECT_EQ(8, version);
	fake.err = ERANGE;
	fake.reply.out_len = 40;
	EXPECT_EQ(-ERANGE, katomic_value_swap(self->k, 1, 4, self->buf, 3,
					      self->out, &len, &tag, &version));
	EXPECT_EQ(40, len);
	fake.err = 0;

	vop = (struct katomic_value_op){
		.id = 1, .op = KATOMIC_VOP_CAS, .tag = 4, .len = 2,
		.buf = (uintptr_t)self->buf, .out = (uintptr_t)self->out,
		.out_len = 5, .out_tag = 3,
	};
	fake.reply = (struct katomic_value_op){ .applied = 1, .version = 9 };
	EXPECT_EQ(1, katomic_value_cas(self->k, 1, 3, self->out, 5, 4,
				       self->buf, 2, &version));
	expect_vop(_metadata, self->k, &vop);
	EXPECT_EQ(9, version);
	fake.reply.applied = 0;
	EXPECT_EQ(0, katomic_value_cas(self->k, 1, 3, self->out, 5, 4,
				       self->buf, 2, &version));
	/* The raw call: applied for CAS, 0 for the others, or -errno. */
	fake.reply.applied = 1;
	EXPECT_EQ(1, katomic_value_op(self->k, &vop));
	vop.op = KATOMIC_VOP_SWAP;
	EXPECT_EQ(0, katomic_value_op(self->k, &vop));
	fake.err = EFAULT;
	EXPECT_EQ(-EFAULT, katomic_value_op(self->k, &vop));
	EXPECT_EQ(7, fake.calls);
}

TEST_HARNESS_MAIN
