// SPDX-License-Identifier: GPL-2.0
/*
 * libkatomic's tables and values: names from the uapi tables, the number
 * parser and formatter, and the representability rule.
 */
#include <string.h>

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

TEST(feature_and_errno_names)
{
	EXPECT_STREQ("sync_kinds", katomic_feature_name(KATOMIC_FEAT_SYNC_KINDS));
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

TEST_HARNESS_MAIN
