/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * katomic: Go's sync/atomic family over the kernel's atomics, ABI v1.
 *
 * The contract between the katomic module and user space.  Every struct
 * has explicit padding, a size that is a multiple of 8 and the same
 * layout for 32- and 64-bit user space; user pointers travel as __u64.
 */
#ifndef _UAPI_LINUX_KATOMIC_H
#define _UAPI_LINUX_KATOMIC_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KATOMIC_ABI_VERSION	1
#define KATOMIC_IOC_MAGIC	0xBA

/*
 * The op family, written once.  KATOMIC_OP_TABLE(X) expands
 * X(NAME, number, name, operands, applied) for every counter op:
 * operands is how many of arg/arg2 the op reads, applied is 1 when the
 * op reports in katomic_op.applied whether it changed the counter.
 * The module's dispatch, the library's typed calls, the command's parser
 * and the tests all expand this list.
 *
 *   LOAD        return *addr
 *   STORE       *addr = arg
 *   ADD         *addr += arg; return *addr                   (new)
 *   SWAP        old = *addr; *addr = arg; return old
 *   CAS         old = *addr; if (old == arg) *addr = arg2; return old
 *   AND         old = *addr; *addr &= arg; return old
 *   OR          old = *addr; *addr |= arg; return old
 *   XOR         old = *addr; *addr ^= arg; return old
 *   MAX         old = *addr; if (arg > old) *addr = arg; return old
 *   MIN         old = *addr; if (arg < old) *addr = arg; return old
 *   ADD_UNLESS  old = *addr; if (old != arg2) *addr += arg; return old
 */
#define KATOMIC_OP_TABLE(X)				\
	X(LOAD,        1, load,       0, 0)		\
	X(STORE,       2, store,      1, 0)		\
	X(ADD,         3, add,        1, 0)		\
	X(SWAP,        4, swap,       1, 0)		\
	X(CAS,         5, cas,        2, 1)		\
	X(AND,         6, and,        1, 0)		\
	X(OR,          7, or,         1, 0)		\
	X(XOR,         8, xor,        1, 0)		\
	X(MAX,         9, max,        1, 1)		\
	X(MIN,        10, min,        1, 1)		\
	X(ADD_UNLESS, 11, add_unless, 2, 1)

/*
 * Counter types: X(NAME, number, name, bits, signed).  bits is 0 for
 * UINTPTR, whose width is katomic_info.ptr_bits.
 */
#define KATOMIC_TYPE_TABLE(X)				\
	X(INT32,   1, int32,   32, 1)			\
	X(INT64,   2, int64,   64, 1)			\
	X(UINT32,  3, uint32,  32, 0)			\
	X(UINT64,  4, uint64,  64, 0)			\
	X(UINTPTR, 5, uintptr,  0, 0)

/* Sync kinds: X(NAME, number, name). */
#define KATOMIC_SYNC_TABLE(X)				\
	X(DEFAULT,  0, default)				\
	X(NONE,     1, none)				\
	X(ATOMIC,   2, atomic)				\
	X(SPINLOCK, 3, spinlock)			\
	X(MUTEX,    4, mutex)				\
	X(PERCPU,   5, percpu)				\
	X(RCU,      6, rcu)				\
	X(SEQLOCK,  7, seqlock)

/* Value (atomic.Value) ops: X(NAME, number, name). */
#define KATOMIC_VOP_TABLE(X)				\
	X(LOAD,  1, load)				\
	X(STORE, 2, store)				\
	X(SWAP,  3, swap)				\
	X(CAS,   4, cas)

#define __KATOMIC_ENUM_OP(n, nr, name, operands, applied) \
	KATOMIC_OP_##n = nr,
#define __KATOMIC_ENUM_TYPE(n, nr, name, bits, is_signed) \
	KATOMIC_TYPE_##n = nr,
#define __KATOMIC_ENUM_SYNC(n, nr, name)	KATOMIC_SYNC_##n = nr,
#define __KATOMIC_ENUM_VOP(n, nr, name)		KATOMIC_VOP_##n = nr,

enum katomic_op_code {
	KATOMIC_OP_TABLE(__KATOMIC_ENUM_OP)
	KATOMIC_OP_LAST = KATOMIC_OP_ADD_UNLESS,
};

enum katomic_type {
	KATOMIC_TYPE_TABLE(__KATOMIC_ENUM_TYPE)
	KATOMIC_TYPE_LAST = KATOMIC_TYPE_UINTPTR,
};

enum katomic_sync {
	KATOMIC_SYNC_TABLE(__KATOMIC_ENUM_SYNC)
	KATOMIC_SYNC_LAST = KATOMIC_SYNC_SEQLOCK,
};

/* A NONE counter's param: its delay between load and store, at most 1 ms. */
#define KATOMIC_NONE_MAX_DELAY	1000000	/* ns */

enum katomic_vop_code {
	KATOMIC_VOP_TABLE(__KATOMIC_ENUM_VOP)
	KATOMIC_VOP_LAST = KATOMIC_VOP_CAS,
};

enum katomic_object {
	KATOMIC_OBJ_COUNTER = 1,
	KATOMIC_OBJ_VALUE = 2,
};

/* katomic_info.features: set only when the whole feature works. */
#define KATOMIC_FEAT_SYNC_KINDS	0x01
#define KATOMIC_FEAT_VALUES	0x02
#define KATOMIC_FEAT_CONTEXTS	0x04
#define KATOMIC_FEAT_BATCH	0x08
#define KATOMIC_FEAT_URING	0x10
#define KATOMIC_FEAT_MMAP	0x20

/* The feature bits by name: X(NAME, name) for each KATOMIC_FEAT_NAME. */
#define KATOMIC_FEAT_TABLE(X)				\
	X(SYNC_KINDS, sync_kinds)			\
	X(VALUES,     values)				\
	X(CONTEXTS,   contexts)				\
	X(BATCH,      batch)				\
	X(URING,      uring)				\
	X(MMAP,       mmap)

/* katomic_context.flags */
#define KATOMIC_CTX_CLOEXEC	0x01
#define KATOMIC_CTX_MMAP	0x02

/* katomic_batch.flags */
#define KATOMIC_BATCH_CONTINUE	0x01

struct katomic_info {
	__u32 abi_version;	/* KATOMIC_ABI_VERSION */
	__u32 features;		/* KATOMIC_FEAT_*, module-wide */
	__u32 nr_counters;	/* of the context this fd refers to */
	__u32 nr_slots;
	__u32 value_max;
	__u32 max_batch;	/* module-wide */
	__u32 ptr_bits;		/* width of UINTPTR: 32 or 64 */
	__u32 reserved[9];	/* written as 0 */
};

struct katomic_define {
	__u32 id;
	__u8  object;		/* KATOMIC_OBJ_* */
	__u8  type;		/* KATOMIC_TYPE_*; 0 for slots */
	__u8  sync;		/* KATOMIC_SYNC_* */
	__u8  flags;		/* 0 */
	__u64 init;		/* counters: initial value; slots: 0 */
	__u64 param;		/* kind-specific, else 0 */
	__u64 reserved;
};

struct katomic_op {
	__u32 id;
	__u8  type;		/* must equal the counter's type */
	__u8  op;		/* KATOMIC_OP_* */
	__u8  flags;		/* in: 0 */
	__u8  applied;		/* out: CAS swapped, MAX/MIN changed, ADD_UNLESS added */
	__u64 arg;		/* operand (CAS: expected old) */
	__u64 arg2;		/* CAS: new; ADD_UNLESS: unless; else 0 */
	__u64 result;		/* out */
	__s32 error;		/* out: 0 or -errno of this op */
	__u32 reserved;
};

struct katomic_batch {
	__u64 ops;		/* user pointer to struct katomic_op[nr] */
	__u32 nr;		/* 1..max_batch */
	__u32 flags;		/* KATOMIC_BATCH_CONTINUE */
	__u32 done;		/* out: ops executed */
	__u32 reserved;
};

struct katomic_value_op {
	__u32 id;
	__u8  op;		/* KATOMIC_VOP_* */
	__u8  flags;		/* in: 0 */
	__u8  applied;		/* out: CAS swapped */
	__u8  reserved0;
	__u32 tag;		/* in: tag of the new value */
	__u32 len;		/* in: length of the new value */
	__u64 buf;		/* in: user pointer to the new value */
	__u64 out;		/* LOAD, SWAP: current/old value; CAS: expected */
	__u32 out_len;		/* capacity of out / length of expected; out: length */
	__u32 out_tag;		/* out: tag of current/old; CAS in: expected tag */
	__u64 version;		/* out: successful stores so far */
	__u64 reserved;
};

struct katomic_context {
	__u32 nr_counters;
	__u32 nr_slots;
	__u32 value_max;
	__u32 flags;		/* KATOMIC_CTX_* */
	__u64 reserved[2];
};

#define KATOMIC_IOC_INFO	_IOR(KATOMIC_IOC_MAGIC, 0x00, struct katomic_info)
#define KATOMIC_IOC_NOP		_IO(KATOMIC_IOC_MAGIC, 0x01)
#define KATOMIC_IOC_DEFINE	_IOW(KATOMIC_IOC_MAGIC, 0x02, struct katomic_define)
#define KATOMIC_IOC_UNDEFINE	_IOW(KATOMIC_IOC_MAGIC, 0x03, struct katomic_define)
#define KATOMIC_IOC_QUERY	_IOWR(KATOMIC_IOC_MAGIC, 0x04, struct katomic_define)
#define KATOMIC_IOC_OP		_IOWR(KATOMIC_IOC_MAGIC, 0x05, struct katomic_op)
#define KATOMIC_IOC_BATCH	_IOWR(KATOMIC_IOC_MAGIC, 0x06, struct katomic_batch)
#define KATOMIC_IOC_VALUE	_IOWR(KATOMIC_IOC_MAGIC, 0x07, struct katomic_value_op)
#define KATOMIC_IOC_CONTEXT_NEW	_IOW(KATOMIC_IOC_MAGIC, 0x08, struct katomic_context)

#endif /* _UAPI_LINUX_KATOMIC_H */
