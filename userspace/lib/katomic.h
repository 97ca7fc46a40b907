/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkatomic: Go's sync/atomic family on /dev/katomic counters, or on a
 * user-space "twin" with the same semantics.
 *
 * A handle is either the kernel device (katomic_open) or a twin
 * (katomic_twin_create): counters and value slots in plain memory, each
 * run by its own sync kind.  Every call works on both and behaves the
 * same, errno for errno (spec/abi.md).
 *
 * Every call returns 0, a documented non-negative value, or -errno; errno
 * is never the result channel.
 */
#ifndef KATOMIC_LIB_H
#define KATOMIC_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/katomic.h>

#ifdef __cplusplus
extern "C" {
#endif

struct katomic;

/* Handles ----------------------------------------------------------- */

/* Opens the device (path NULL: "/dev/katomic") for reading and writing, or
 * for reading only if writing is not permitted (then every change returns
 * -EBADF), and checks its abi_version (-EPROTO if not KATOMIC_ABI_VERSION). */
int katomic_open(const char *path, struct katomic **out);
/*
 * A twin of nr_counters counters (-E2BIG if their size does not fit a
 * size_t, -ENOMEM).  Each counter has a record of its own 64-byte cache
 * line (its type, kind, NONE's delay and the kind's lock or shards) and an
 * 8-byte value cell, the first 8 bytes of its record.  Its counters take
 * every counter kind, as the module with KATOMIC_FEAT_SYNC_KINDS does,
 * with the same results and errnos:
 *
 *   DEFAULT, ATOMIC  C11 seq_cst atomics (what C11 has no call for, MAX,
 *                    MIN and ADD_UNLESS, is a CAS loop).
 *   NONE             the racy "plain int": relaxed atomic load, compute,
 *                    a busy-wait of param ns (0..1,000,000, else -EINVAL)
 *                    if the op stores, relaxed atomic store.  These are
 *                    READ_ONCE/WRITE_ONCE, as in the module: no access is
 *                    torn and the race is well defined C, but the three
 *                    steps are not one, so concurrent ops lose updates.
 *   SPINLOCK, MUTEX  every op on a plain integer under a pthread_spinlock_t
 *                    or pthread_mutex_t of the counter's record.
 *   PERCPU           INT64 and UINT64 only (else -EOPNOTSUPP at DEFINE):
 *                    a base and KATOMIC_TWIN_SHARDS shards, each on its own
 *                    cache line.  A thread takes a shard the first time it
 *                    adds (threads numbered in order, modulo the shards)
 *                    and keeps it; ADD is a relaxed fetch_add on it, so
 *                    threads that share a shard stay exact, and returns 0
 *                    (applied 0).  LOAD is the base plus every shard: exact
 *                    once the adds have stopped.  STORE sets the base and
 *                    zeroes the shards (percpu_counter_set): LOAD and
 *                    STORE exclude each other, but an ADD that races a
 *                    STORE may be kept or wiped out.  Every other op is
 *                    -EOPNOTSUPP and leaves the counter as it was.
 *
 * RCU and SEQLOCK are slot kinds: -EOPNOTSUPP.  An op must not race
 * UNDEFINE of its own counter (it could use a destroyed lock or freed
 * shards); UNDEFINE and katomic_close destroy locks and free shards.
 * A twin of katomic_twin_new has no value slots (see katomic_twin_create).
 */
int katomic_twin_new(unsigned int nr_counters, struct katomic **out);

/* Shards of a twin's PERCPU counter: threads beyond it share shards. */
#define KATOMIC_TWIN_SHARDS	64

/*
 * katomic_twin_new with flags: katomic_twin_new(n, out) is
 * katomic_twin_new2(n, 0, out).  KATOMIC_TWIN_PACKED, for false-sharing
 * studies, puts the value cells in one array, 8 bytes apart, so that
 * adjacent counters share a cache line; each counter's record (meta, lock,
 * shards) stays on a line of its own.  The layout changes no result.
 * Unknown flags are -EINVAL.
 */
#define KATOMIC_TWIN_PACKED	1u
int katomic_twin_new2(unsigned int nr_counters, unsigned int flags,
		      struct katomic **out);

/*
 * A twin with value slots: what katomic_twin_new2 makes, plus nr_slots
 * slots of values up to value_max bytes (a private context's sizes).
 * katomic_twin_new2(n, flags, out) is katomic_twin_create with
 * { n, 0, 0, flags }.  -EINVAL: p NULL, unknown flags, or nr_slots > 0
 * with value_max 0; -E2BIG if the records do not fit a size_t; -ENOMEM.
 * *out is written only on success.
 *
 * With nr_slots 0 the twin has no values: info lacks KATOMIC_FEAT_VALUES
 * and every slot call (DEFINE, UNDEFINE, QUERY of KATOMIC_OBJ_VALUE, and
 * every value op) is -EOPNOTSUPP, as on a device without values.  With
 * slots, info reports KATOMIC_FEAT_VALUES, nr_slots and value_max, and
 * the slots follow spec/abi.md and notes/values.md errno for errno.  Each
 * slot kind differs only in how a value is published and read:
 *
 *   RCU (DEFAULT)  liburcu's urcu-memb flavour: every value an immutable
 *                  buffer, published with rcu_xchg_pointer and freed by
 *                  call_rcu after a grace period.  LOAD copies the value
 *                  inside a read-side critical section: it never waits
 *                  for a writer, a writer never waits for it, and it is
 *                  never torn.  A thread is registered with liburcu the
 *                  first time it uses an RCU slot and unregistered when it
 *                  exits (a pthread key's destructor); a program must not
 *                  register its threads with urcu-memb itself.
 *   SEQLOCK        the user-space twin of a seqlock is a mutex slot: one
 *                  buffer per slot, written in place, and a pthread mutex
 *                  held around every op, loads included.
 *   NONE           the naive slot: one buffer per slot, written in place,
 *                  writers serialised by the slot's mutex (so the tag and
 *                  version stay right), loads take nothing and copy with
 *                  relaxed 8-byte atomic loads: the race is well defined
 *                  C, but a load that races a store can return a mix of
 *                  old and new bytes and lengths (the study case).
 *
 * Writers of every kind are serialised by a mutex per slot.  NONE and
 * SEQLOCK allocate value_max bytes at DEFINE (-ENOMEM), RCU allocates each
 * value as it is stored (-ENOMEM from STORE, SWAP and CAS, slot unchanged).
 * A twin cannot tell a bad pointer: a buf or out of 0 (or one that does
 * not fit a pointer) is -EFAULT where the module would fault on it, any
 * other bad pointer is the caller's crash.  UNDEFINE frees the slot's
 * memory before it returns (RCU: it waits with rcu_barrier for the values
 * retired so far); an op must not race UNDEFINE of its own slot.
 */
struct katomic_twin_params {
	unsigned int nr_counters;
	unsigned int nr_slots;
	unsigned int value_max;	/* bytes; >= 1 if nr_slots > 0 */
	unsigned int flags;	/* KATOMIC_TWIN_PACKED */
};
int katomic_twin_create(const struct katomic_twin_params *p,
			struct katomic **out);
void katomic_close(struct katomic *k);	/* NULL is fine */
int katomic_fd(const struct katomic *k);	/* -1 for a twin */

/* Context ----------------------------------------------------------- */

/* A twin reports abi_version 1, features KATOMIC_FEAT_SYNC_KINDS |
 * KATOMIC_FEAT_CONTEXTS | KATOMIC_FEAT_BATCH | KATOMIC_FEAT_MMAP (and
 * KATOMIC_FEAT_VALUES if it has slots), its nr_counters, nr_slots and value_max, max_batch
 * KATOMIC_TWIN_MAX_BATCH, and ptr_bits = the width of uintptr_t. */
int katomic_info(struct katomic *k, struct katomic_info *info);
int katomic_nop(struct katomic *k);	/* KATOMIC_IOC_NOP: the syscall floor */
int katomic_define(struct katomic *k, __u32 id, unsigned int type,
		   unsigned int sync, __u64 init);
int katomic_undefine(struct katomic *k, __u32 id);
/* type and sync may be NULL; sync is resolved (never DEFAULT). */
int katomic_query(struct katomic *k, __u32 id, unsigned int *type,
		  unsigned int *sync);

/*
 * DEFINE, UNDEFINE and QUERY with every field of the ABI struct chosen by
 * the caller (object, flags, param, reserved), for tools and tests.
 * katomic_query_raw fills d->type, d->sync and d->param.
 */
int katomic_define_raw(struct katomic *k, const struct katomic_define *d);
int katomic_undefine_raw(struct katomic *k, const struct katomic_define *d);
int katomic_query_raw(struct katomic *k, struct katomic_define *d);

/*
 * One counter op, as KATOMIC_IOC_OP: fills op->result, op->applied and
 * op->error; returns op->applied (0 or 1) or -errno (op left as it was).
 */
int katomic_op(struct katomic *k, struct katomic_op *op);

/* Private contexts, batches, io_uring ----------------------------------- */

/*
 * A new private context of c's sizes (KATOMIC_IOC_CONTEXT_NEW), as a new
 * handle: on the device a handle on the context's own descriptor (close
 * it with katomic_close; the context lives while any descriptor of it
 * does), on a twin a new, independent twin of those sizes.  Checks in the
 * module's order: c NULL -EFAULT; flags other than KATOMIC_CTX_CLOEXEC |
 * KATOMIC_CTX_MMAP or reserved != 0 -EINVAL;
 * a size above the module's limit -E2BIG (a twin takes the module's
 * default limits, KATOMIC_TWIN_MAX_*); nr_slots > 0 with value_max 0
 * -EINVAL; -ENOMEM.  The device also says -EBADF for a descriptor not
 * open for writing.  *out is written only on success.
 */
int katomic_context_new(struct katomic *k, const struct katomic_context *c,
			struct katomic **out);

/* A twin's limits: the module parameters' defaults (spec/abi.md). */
#define KATOMIC_TWIN_MAX_COUNTERS	65536
#define KATOMIC_TWIN_MAX_SLOTS		4096
#define KATOMIC_TWIN_MAX_VALUE		1048576
#define KATOMIC_TWIN_MAX_BATCH		4096

/*
 * KATOMIC_CTX_MMAP makes a context whose counters user space can map
 * (katomic_map, below).  Such a context takes ATOMIC counters only
 * (DEFAULT is ATOMIC): DEFINE of another kind is -EOPNOTSUPP.  A twin
 * made by katomic_context_new with the flag behaves the same, and maps
 * its own records (see katomic_map).
 */

/*
 * ops[0..nr) in order, each atomic on its own (KATOMIC_IOC_BATCH): each
 * op that ran gets result, applied and error (0, or -errno with result
 * and applied 0); without KATOMIC_BATCH_CONTINUE the run stops after the
 * first op that failed.  *done (may be NULL) = the ops that ran.  Returns
 * 0 once the header was valid; nr 0 or unknown flags -EINVAL, nr above
 * info's max_batch -E2BIG (nothing ran, *done not written); ops NULL
 * -EFAULT with *done 0; -EFAULT from the device if part of ops could not be read or
 * written (then *done says how far it got: the ops before that point ran,
 * none after it).  A twin runs the same semantics in user space.
 */
int katomic_batch(struct katomic *k, struct katomic_op *ops, unsigned int nr,
		  unsigned int flags, unsigned int *done);

/*
 * The same as katomic_batch through io_uring: each op one
 * IORING_OP_URING_CMD (cmd_op KATOMIC_IOC_OP, the op in the SQE's command
 * area), submitted KATOMIC_URING_ENTRIES at a time on a ring of the
 * handle's own (IORING_SETUP_SQE128 | IORING_SETUP_CQE32, set up by the
 * first call: -errno of io_uring_queue_init, e.g. -ENOSYS or -EPERM where
 * io_uring is off, and again on the next call).  Without
 * KATOMIC_BATCH_CONTINUE each submission's SQEs are linked
 * (IOSQE_IO_LINK), so the ops after a failed one are cancelled, never
 * run, and no further submission is made; with it, the ops are issued in
 * order and each completes on its own (the module completes every op as
 * it is issued).  Every op that ran is written as by katomic_batch (the
 * completion's res is applied or -errno, big_cqe[0] the result), *done
 * (may be NULL) counts them.  No max_batch: nr is limited only by its
 * type.  nr 0 or unknown flags -EINVAL, ops NULL -EFAULT; io_uring
 * failing (not for EINTR, EAGAIN or EBUSY, which are retried) -errno
 * with *done = the ops that ran before it, and the ring is broken: every
 * later call on the handle returns that errno.  One ring
 * per handle, used under a lock: threads that want their own ring open
 * their own handle.  Do not use it in both parent and child after fork.
 * On a twin (no ring in user space) it is katomic_batch without the
 * max_batch limit.
 */
#define KATOMIC_URING_ENTRIES	256
int katomic_uring(struct katomic *k, struct katomic_op *ops, unsigned int nr,
		  unsigned int flags, unsigned int *done);

/* Mapped counters: kernel and user atomics on the same memory --------- */

/*
 * Bytes between two counters' cells in a mapping: counter id's value is at
 * byte id * KATOMIC_MAP_CELL, as the kernel's atomic_t (INT32, UINT32) or
 * atomic64_t / atomic_long_t (INT64, UINT64, UINTPTR at info's ptr_bits),
 * in the CPU's byte order.
 */
#define KATOMIC_MAP_CELL	64

/*
 * Maps the counters of k's context, made by katomic_context_new with
 * KATOMIC_CTX_MMAP: on the device mmap(nr_counters * KATOMIC_MAP_CELL,
 * PROT_READ | PROT_WRITE, MAP_SHARED) of its descriptor, on a twin its
 * own records (each cell the first 8 bytes of a 64-byte record whose
 * rest is the twin's: write nothing there).  Then the katomic_map_* calls
 * run the op family on the cells with C11 seq_cst atomics, no syscall,
 * while the module's ioctls, batches and io_uring commands run the
 * kernel's atomics on the same memory: both see one counter.  Returns 0
 * (also if k is mapped already), or -errno: -ENODEV for the global
 * context, a context without the flag or a twin that is not such a
 * context; -EINVAL for a context of 0 counters (nothing to map); mmap's
 * errno (-ENOMEM).
 *
 * The mapping lives until katomic_unmap or katomic_close, whichever comes
 * first, and keeps the context alive meanwhile (the module counts it as a
 * reference).  A child of fork() inherits it (MAP_SHARED): its adds are
 * the parent's.  Map and unmap must not race calls on the same handle:
 * map before starting the threads that use it, unmap after they end.
 */
int katomic_map(struct katomic *k);
/* Unmaps k's counters; then the katomic_map_* calls are -ENODEV.  A
 * handle that is not mapped is fine. */
void katomic_unmap(struct katomic *k);
/* Counter id's cell, for a program's own atomics; NULL if k is not
 * mapped or id is beyond its counters. */
void *katomic_map_cell(struct katomic *k, __u32 id);

/*
 * The op as katomic_op runs it, on the mapped cell: the same checks of
 * the struct (-EINVAL, -EOVERFLOW), -ENODEV if k is not mapped, -EINVAL
 * for an id beyond the mapping; fills result (ADD the new value, STORE 0,
 * the others the old one; extended as the ABI's), applied and error (0);
 * returns applied.  The mapping carries no types: the op runs as op->type
 * says, whether or not the counter is defined with it (the module would
 * say -ENOENT or -EINVAL).  Keep to the definitions: an op on an
 * undefined counter changes its cell, and DEFINE and UNDEFINE overwrite
 * the cell (with init, with 0).
 */
int katomic_map_op(struct katomic *k, struct katomic_op *op);
/*
 * ops[0..nr) through katomic_map_op, in order, with katomic_batch's
 * signature and semantics (so a program can swap one path for another):
 * each op gets result, applied and error; without KATOMIC_BATCH_CONTINUE
 * the run stops after the first failed op; *done (may be NULL) counts
 * the ops that ran.  No max_batch.  nr 0 or unknown flags -EINVAL, ops
 * NULL -EFAULT, k not mapped -ENODEV (nothing ran).
 */
int katomic_map_batch(struct katomic *k, struct katomic_op *ops,
		      unsigned int nr, unsigned int flags, unsigned int *done);

/*
 * katomic_map_<op>_<type>(k, id, [arg, [arg2,]] out): the typed calls
 * (katomic_<op>_<type>, below) on the mapped cell, with the same results:
 * *out (may be NULL) the new value for add, 0 for store, else the old
 * one; returns applied, -ENODEV (not mapped) or -EINVAL (id beyond the
 * mapping).  For example:
 *
 *   int katomic_map_add_uint64(struct katomic *k, __u32 id, uint64_t arg,
 *                              uint64_t *out);
 */

/* Value slots (Go's atomic.Value) ------------------------------------ */

/*
 * DEFINE, UNDEFINE and QUERY of slot id (KATOMIC_OBJ_VALUE): sync is
 * DEFAULT (= RCU), NONE, RCU or SEQLOCK; a counter kind is -EOPNOTSUPP.
 * QUERY's sync (may be NULL) is resolved, never DEFAULT.
 */
int katomic_value_define(struct katomic *k, __u32 id, unsigned int sync);
int katomic_value_undefine(struct katomic *k, __u32 id);
int katomic_value_query(struct katomic *k, __u32 id, unsigned int *sync);

/*
 * One value op, as KATOMIC_IOC_VALUE: returns vop->applied (CAS: 1 if it
 * swapped, 0 if not), 0 for the other ops, or -errno.  On success the
 * op's out fields are written (LOAD: out_len, out_tag, version; STORE:
 * version; SWAP: out_len, out_tag, version; CAS: applied, version); on
 * -ERANGE only out_len, the length needed; on any other error nothing.
 */
int katomic_value_op(struct katomic *k, struct katomic_value_op *vop);

/*
 * The value ops with plain C arguments.  Lengths are size_t: one above
 * UINT32_MAX (what the ABI carries) is -E2BIG, before anything else; a
 * capacity above it is taken as UINT32_MAX.  tag and version (may be NULL)
 * receive the value's tag (0: empty, Go's nil) and the slot's version,
 * the number of successful stores so far.
 *
 * katomic_value_store   Store(tag, buf[0..len)).  tag 0 or len 0 is Go's
 *                       Store(nil): -EINVAL; another tag than the first
 *                       store's: -EINVAL; len > value_max: -E2BIG.
 * katomic_value_load    *len in: out's capacity; out: the value's length
 *                       (0 and tag 0 for an empty slot).  A value longer
 *                       than the capacity is -ERANGE with *len = the
 *                       length needed and nothing copied (out may be NULL
 *                       with *len 0 to ask for the length).
 * katomic_value_swap    a store that returns the old value as load does
 *                       (into out, *out_len, *out_tag); if the old value
 *                       does not fit, -ERANGE, *out_len = the length
 *                       needed, and the slot is unchanged.
 * katomic_value_cas     stores (new_tag, new_buf) iff the slot holds
 *                       (old_tag, old_buf); old_tag 0 with old_len 0 is
 *                       an empty slot
 *                       (CompareAndSwap(nil, new)).  Returns 1 if it
 *                       swapped, 0 if not, or -errno.
 *
 * Each returns 0 (cas: applied), or -errno and writes nothing but the
 * -ERANGE length.
 */
int katomic_value_store(struct katomic *k, __u32 id, __u32 tag,
			const void *buf, size_t len, __u64 *version);
int katomic_value_load(struct katomic *k, __u32 id, void *out, size_t *len,
		       __u32 *tag, __u64 *version);
int katomic_value_swap(struct katomic *k, __u32 id, __u32 tag,
		       const void *buf, size_t len, void *out,
		       size_t *out_len, __u32 *out_tag, __u64 *version);
int katomic_value_cas(struct katomic *k, __u32 id, __u32 old_tag,
		      const void *old_buf, size_t old_len, __u32 new_tag,
		      const void *new_buf, size_t new_len, __u64 *version);

/* Typed calls -------------------------------------------------------- */

/*
 * Each op in one line, Go's way, with the names of its operands.  arg is
 * the first operand and arg2 the second, as in struct katomic_op.
 */
#define KATOMIC_DOC_load	"",		"return *addr"
#define KATOMIC_DOC_store	"val",		"*addr = val"
#define KATOMIC_DOC_add		"delta",	"*addr += delta; return *addr"
#define KATOMIC_DOC_swap	"new",		"old = *addr; *addr = new; return old"
#define KATOMIC_DOC_cas		"old new",	"seen = *addr; if seen == old { *addr = new }; return seen, seen == old"
#define KATOMIC_DOC_and		"mask",		"old = *addr; *addr &= mask; return old"
#define KATOMIC_DOC_or		"mask",		"old = *addr; *addr |= mask; return old"
#define KATOMIC_DOC_xor		"mask",		"old = *addr; *addr ^= mask; return old"
#define KATOMIC_DOC_max		"val",		"old = *addr; if val > old { *addr = val }; return old, val > old"
#define KATOMIC_DOC_min		"val",		"old = *addr; if val < old { *addr = val }; return old, val < old"
#define KATOMIC_DOC_add_unless	"delta unless",	"old = *addr; if old != unless { *addr += delta }; return old, old != unless"

/* The C type of each counter type: katomic_int32_t is int32_t, ... */
#define KATOMIC_CTYPE_1_32	int32_t
#define KATOMIC_CTYPE_1_64	int64_t
#define KATOMIC_CTYPE_0_32	uint32_t
#define KATOMIC_CTYPE_0_64	uint64_t
#define KATOMIC_CTYPE_0_0	uintptr_t	/* bits 0: pointer-wide */
#define KATOMIC_CTYPEDEF(NAME, nr, name, bits, is_signed) \
	typedef KATOMIC_CTYPE_##is_signed##_##bits katomic_##name##_t;
KATOMIC_TYPE_TABLE(KATOMIC_CTYPEDEF)
#undef KATOMIC_CTYPEDEF

/*
 * The op x type product.  KATOMIC_OP_TYPE_TABLE expands
 *   KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,
 *                   TNAME, tnr, tname, bits, is_signed)
 * for every op and every type: define KATOMIC_OP_TYPE, expand, undef it.
 * The uapi tables take only a callback, so each op row walks the type
 * table as a list of tuples; KATOMIC__TYPES_ takes exactly one parameter
 * per type and fails to compile when the type table changes size.
 */
#define KATOMIC__TUPLE(...)		(__VA_ARGS__),
#define KATOMIC__UNPACK(...)		__VA_ARGS__
#define KATOMIC__CALL(...)		KATOMIC_OP_TYPE(__VA_ARGS__)
#define KATOMIC__PAIR(o, t)		KATOMIC__CALL(KATOMIC__UNPACK o, KATOMIC__UNPACK t)
#define KATOMIC__TYPES_(o, t1, t2, t3, t4, t5, end) \
	KATOMIC__PAIR(o, t1) KATOMIC__PAIR(o, t2) KATOMIC__PAIR(o, t3) \
	KATOMIC__PAIR(o, t4) KATOMIC__PAIR(o, t5)
#define KATOMIC__TYPES(...)		KATOMIC__TYPES_(__VA_ARGS__)
#define KATOMIC__OP_ROW(...) \
	KATOMIC__TYPES((__VA_ARGS__), KATOMIC_TYPE_TABLE(KATOMIC__TUPLE))
#define KATOMIC_OP_TYPE_TABLE		KATOMIC_OP_TABLE(KATOMIC__OP_ROW)

/*
 * katomic_<op>_<type>(k, id, [arg, [arg2,]] out): the op on counter id,
 * which must have that type.  The shape follows the op's operand count:
 *
 *   int katomic_load_int64(struct katomic *k, __u32 id, int64_t *out);
 *   int katomic_add_int64(struct katomic *k, __u32 id, int64_t arg, int64_t *out);
 *   int katomic_cas_uint32(struct katomic *k, __u32 id, uint32_t arg,
 *                          uint32_t arg2, uint32_t *out);
 *
 * *out (may be NULL) receives the op's result: the new value for add, 0
 * for store, otherwise the old value (cas: the value seen).  Returns
 * applied (cas swapped, max/min changed, add_unless added: 1 or 0; always
 * 0 for the other ops) or -errno.
 */
#define KATOMIC_TYPED_PARAMS_0(T)	T *out
#define KATOMIC_TYPED_PARAMS_1(T)	T arg, T *out
#define KATOMIC_TYPED_PARAMS_2(T)	T arg, T arg2, T *out
#define KATOMIC_TYPED_PROTO_OF(pfx, name, operands, tname)		\
	int pfx##name##_##tname(struct katomic *k, __u32 id,		\
		KATOMIC_TYPED_PARAMS_##operands(katomic_##tname##_t))
#define KATOMIC_TYPED_PROTO(name, operands, tname)			\
	KATOMIC_TYPED_PROTO_OF(katomic_, name, operands, tname)
/* katomic_map_<op>_<type>: the same on a mapped cell (see katomic_map). */
#define KATOMIC_MAP_TYPED_PROTO(name, operands, tname)			\
	KATOMIC_TYPED_PROTO_OF(katomic_map_, name, operands, tname)

#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
	KATOMIC_TYPED_PROTO(name, operands, tname);			\
	KATOMIC_MAP_TYPED_PROTO(name, operands, tname);
KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE

/* Counter values ----------------------------------------------------- */

/*
 * Operands and results travel as __u64: INT types sign-extended, unsigned
 * types zero-extended.  ptr_bits is the width of UINTPTR (katomic_info).
 */
unsigned int katomic_type_bits(unsigned int type, unsigned int ptr_bits);
/* Whether v is representable in type (the ABI's -EOVERFLOW rule). */
bool katomic_value_fits(unsigned int type, unsigned int ptr_bits, __u64 v);
/* v cut to the type's width and extended back as the ABI returns results. */
__u64 katomic_value_extend(unsigned int type, unsigned int ptr_bits, __u64 v);
/* The smallest and largest value of type, encoded as operands are. */
__u64 katomic_value_min(unsigned int type, unsigned int ptr_bits);
__u64 katomic_value_max(unsigned int type, unsigned int ptr_bits);
/*
 * Parses a number for type: decimal or 0x hex, with an optional sign, as a
 * mathematical value ("0xffffffff" is 4294967295, so not an int32: write
 * -1).  Returns 0, -EINVAL if s is not a number, -EOVERFLOW if it is not
 * representable in type.
 */
int katomic_value_parse(const char *s, unsigned int type,
			unsigned int ptr_bits, __u64 *out);
/* Formats v (encoded) in decimal or hex ("-0x10" for a negative INT value,
 * so the text parses back).  Returns snprintf's count. */
int katomic_value_format(char *buf, size_t size, unsigned int type, __u64 v,
			 bool hex);

/* Names ---------------------------------------------------------------- */

struct katomic_op_desc {
	const char *name;	/* "add_unless" */
	unsigned char operands;	/* how many of arg, arg2 it reads */
	unsigned char applied;	/* reports applied */
	const char *args;	/* operand names, space-separated: "delta unless" */
	const char *doc;	/* one line, Go's way */
};

/* NULL for an unknown number. */
const struct katomic_op_desc *katomic_op_desc(unsigned int op);
const char *katomic_op_name(unsigned int op);
const char *katomic_type_name(unsigned int type);
const char *katomic_sync_name(unsigned int sync);
const char *katomic_vop_name(unsigned int vop);	/* "load", ... */
/* Name to number, '-' and '_' alike ("add-unless"); -EINVAL if unknown. */
int katomic_op_parse(const char *name);
int katomic_type_parse(const char *name);
int katomic_sync_parse(const char *name);
int katomic_vop_parse(const char *name);
/* Name of feature bit (a single KATOMIC_FEAT_* bit), NULL if unknown. */
const char *katomic_feature_name(__u32 bit);
/* "ENOENT" for -ENOENT or ENOENT; "E?" if unknown. */
const char *katomic_errno_name(int err);
/* What err means for a katomic call, one line ("not defined"). */
const char *katomic_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* KATOMIC_LIB_H */
