// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi header against spec/abi.md: every struct's size and every
 * field's offset and width, the ioctl numbers and the constants, with the
 * figures written out here as the ABI gives them.  Most checks are made
 * at compile time; the tests repeat the ioctl numbers at run time so the
 * figures show in the output when one is wrong.
 */
#include <assert.h>
#include <stddef.h>
#include <linux/katomic.h>

#include "kselftest_harness.h"

/* Offset, size and exact type of each field, as the ABI declares it. */
#define FIELD(s, f, off, T)						\
	static_assert(offsetof(struct s, f) == (off), #s "." #f " offset"); \
	static_assert(sizeof(((struct s *)0)->f) == sizeof(T),		\
		      #s "." #f " size");				\
	static_assert(_Generic(((struct s *)0)->f, T: 1, default: 0),	\
		      #s "." #f " type")
#define ARRAY(s, f, off, T, n)						\
	static_assert(offsetof(struct s, f) == (off), #s "." #f " offset"); \
	static_assert(sizeof(((struct s *)0)->f) == (n) * sizeof(T),	\
		      #s "." #f " size");				\
	static_assert(_Generic(&((struct s *)0)->f[0], T *: 1, default: 0), \
		      #s "." #f " type")
#define SIZE(s, size) \
	static_assert(sizeof(struct s) == (size), #s " size")

SIZE(katomic_info, 64);
FIELD(katomic_info, abi_version, 0, __u32);
FIELD(katomic_info, features, 4, __u32);
FIELD(katomic_info, nr_counters, 8, __u32);
FIELD(katomic_info, nr_slots, 12, __u32);
FIELD(katomic_info, value_max, 16, __u32);
FIELD(katomic_info, max_batch, 20, __u32);
FIELD(katomic_info, ptr_bits, 24, __u32);
ARRAY(katomic_info, reserved, 28, __u32, 9);

SIZE(katomic_define, 32);
FIELD(katomic_define, id, 0, __u32);
FIELD(katomic_define, object, 4, __u8);
FIELD(katomic_define, type, 5, __u8);
FIELD(katomic_define, sync, 6, __u8);
FIELD(katomic_define, flags, 7, __u8);
FIELD(katomic_define, init, 8, __u64);
FIELD(katomic_define, param, 16, __u64);
FIELD(katomic_define, reserved, 24, __u64);

SIZE(katomic_op, 40);
FIELD(katomic_op, id, 0, __u32);
FIELD(katomic_op, type, 4, __u8);
FIELD(katomic_op, op, 5, __u8);
FIELD(katomic_op, flags, 6, __u8);
FIELD(katomic_op, applied, 7, __u8);
FIELD(katomic_op, arg, 8, __u64);
FIELD(katomic_op, arg2, 16, __u64);
FIELD(katomic_op, result, 24, __u64);
FIELD(katomic_op, error, 32, __s32);
FIELD(katomic_op, reserved, 36, __u32);

SIZE(katomic_batch, 24);
FIELD(katomic_batch, ops, 0, __u64);
FIELD(katomic_batch, nr, 8, __u32);
FIELD(katomic_batch, flags, 12, __u32);
FIELD(katomic_batch, done, 16, __u32);
FIELD(katomic_batch, reserved, 20, __u32);

SIZE(katomic_value_op, 56);
FIELD(katomic_value_op, id, 0, __u32);
FIELD(katomic_value_op, op, 4, __u8);
FIELD(katomic_value_op, flags, 5, __u8);
FIELD(katomic_value_op, applied, 6, __u8);
FIELD(katomic_value_op, reserved0, 7, __u8);
FIELD(katomic_value_op, tag, 8, __u32);
FIELD(katomic_value_op, len, 12, __u32);
FIELD(katomic_value_op, buf, 16, __u64);
FIELD(katomic_value_op, out, 24, __u64);
FIELD(katomic_value_op, out_len, 32, __u32);
FIELD(katomic_value_op, out_tag, 36, __u32);
FIELD(katomic_value_op, version, 40, __u64);
FIELD(katomic_value_op, reserved, 48, __u64);

SIZE(katomic_context, 32);
FIELD(katomic_context, nr_counters, 0, __u32);
FIELD(katomic_context, nr_slots, 4, __u32);
FIELD(katomic_context, value_max, 8, __u32);
FIELD(katomic_context, flags, 12, __u32);
ARRAY(katomic_context, reserved, 16, __u64, 2);

/* _IOC(dir, 0xBA, nr, size) = dir << 30 | size << 16 | 0xBA << 8 | nr */
static const struct {
	const char *name;
	unsigned long cmd, abi;
} ioctls[] = {
	{ "INFO", KATOMIC_IOC_INFO, 0x8040BA00 },
	{ "NOP", KATOMIC_IOC_NOP, 0x0000BA01 },
	{ "DEFINE", KATOMIC_IOC_DEFINE, 0x4020BA02 },
	{ "UNDEFINE", KATOMIC_IOC_UNDEFINE, 0x4020BA03 },
	{ "QUERY", KATOMIC_IOC_QUERY, 0xC020BA04 },
	{ "OP", KATOMIC_IOC_OP, 0xC028BA05 },
	{ "BATCH", KATOMIC_IOC_BATCH, 0xC018BA06 },
	{ "VALUE", KATOMIC_IOC_VALUE, 0xC038BA07 },
	{ "CONTEXT_NEW", KATOMIC_IOC_CONTEXT_NEW, 0x4020BA08 },
};

static_assert(KATOMIC_ABI_VERSION == 1, "abi_version");
static_assert(KATOMIC_IOC_MAGIC == 0xBA, "magic");
static_assert(KATOMIC_OBJ_COUNTER == 1 && KATOMIC_OBJ_VALUE == 2, "objects");
static_assert(KATOMIC_TYPE_INT32 == 1 && KATOMIC_TYPE_INT64 == 2 &&
	      KATOMIC_TYPE_UINT32 == 3 && KATOMIC_TYPE_UINT64 == 4 &&
	      KATOMIC_TYPE_UINTPTR == 5 && KATOMIC_TYPE_LAST == 5, "types");
static_assert(KATOMIC_SYNC_DEFAULT == 0 && KATOMIC_SYNC_NONE == 1 &&
	      KATOMIC_SYNC_ATOMIC == 2 && KATOMIC_SYNC_SPINLOCK == 3 &&
	      KATOMIC_SYNC_MUTEX == 4 && KATOMIC_SYNC_PERCPU == 5 &&
	      KATOMIC_SYNC_RCU == 6 && KATOMIC_SYNC_SEQLOCK == 7 &&
	      KATOMIC_SYNC_LAST == 7, "sync kinds");
static_assert(KATOMIC_OP_LOAD == 1 && KATOMIC_OP_STORE == 2 &&
	      KATOMIC_OP_ADD == 3 && KATOMIC_OP_SWAP == 4 &&
	      KATOMIC_OP_CAS == 5 && KATOMIC_OP_AND == 6 &&
	      KATOMIC_OP_OR == 7 && KATOMIC_OP_XOR == 8 &&
	      KATOMIC_OP_MAX == 9 && KATOMIC_OP_MIN == 10 &&
	      KATOMIC_OP_ADD_UNLESS == 11 && KATOMIC_OP_LAST == 11, "ops");
static_assert(KATOMIC_VOP_LOAD == 1 && KATOMIC_VOP_STORE == 2 &&
	      KATOMIC_VOP_SWAP == 3 && KATOMIC_VOP_CAS == 4 &&
	      KATOMIC_VOP_LAST == 4, "value ops");
static_assert(KATOMIC_FEAT_SYNC_KINDS == 1 && KATOMIC_FEAT_VALUES == 2 &&
	      KATOMIC_FEAT_CONTEXTS == 4 && KATOMIC_FEAT_BATCH == 8 &&
	      KATOMIC_FEAT_URING == 16 && KATOMIC_FEAT_MMAP == 32, "features");
static_assert(KATOMIC_CTX_CLOEXEC == 1 && KATOMIC_CTX_MMAP == 2 &&
	      KATOMIC_BATCH_CONTINUE == 1, "flags");

/* The op table's operand and applied columns, as the ABI's op table says. */
#define OP_COLUMNS(NAME, nr, name, operands, applied)			\
	static_assert(operands == (KATOMIC_OP_##NAME == KATOMIC_OP_LOAD ? 0 : \
		KATOMIC_OP_##NAME == KATOMIC_OP_CAS ||			\
		KATOMIC_OP_##NAME == KATOMIC_OP_ADD_UNLESS ? 2 : 1),	\
		#name " operands");					\
	static_assert(applied == (KATOMIC_OP_##NAME == KATOMIC_OP_CAS ||\
		KATOMIC_OP_##NAME == KATOMIC_OP_MAX ||			\
		KATOMIC_OP_##NAME == KATOMIC_OP_MIN ||			\
		KATOMIC_OP_##NAME == KATOMIC_OP_ADD_UNLESS),		\
		#name " applied");
KATOMIC_OP_TABLE(OP_COLUMNS)

TEST(ioctl_numbers)
{
	size_t i;

	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		if (ioctls[i].cmd != ioctls[i].abi)
			TH_LOG("KATOMIC_IOC_%s is 0x%lx, the ABI says 0x%lx",
			       ioctls[i].name, ioctls[i].cmd, ioctls[i].abi);
		EXPECT_EQ(ioctls[i].abi, ioctls[i].cmd);
	}
}

TEST_HARNESS_MAIN
