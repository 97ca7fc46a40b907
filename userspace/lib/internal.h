/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libkatomic internals: the handle, its backends, the counter ops' meaning,
 * the twin's value slots. */
#ifndef KATOMIC_INTERNAL_H
#define KATOMIC_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>

#include "katomic.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * What a handle can do: the device (device.c) or a twin (twin.c).  The
 * define/undefine/query calls take the ABI's struct katomic_define so that
 * a twin validates exactly the fields the module validates.
 */
struct katomic_backend {
	int (*info)(struct katomic *k, struct katomic_info *info);
	int (*nop)(struct katomic *k);
	int (*define)(struct katomic *k, const struct katomic_define *d);
	int (*undefine)(struct katomic *k, const struct katomic_define *d);
	int (*query)(struct katomic *k, struct katomic_define *d);
	int (*op)(struct katomic *k, struct katomic_op *op);
	/* KATOMIC_IOC_VALUE: 0 or -errno (katomic_value_op adds applied). */
	int (*value)(struct katomic *k, struct katomic_value_op *vop);
	/* KATOMIC_IOC_BATCH: 0 or -errno; *done as katomic_batch says. */
	int (*batch)(struct katomic *k, struct katomic_op *ops,
		     unsigned int nr, unsigned int flags, unsigned int *done);
	/* KATOMIC_IOC_CONTEXT_NEW: a new handle on a new context. */
	int (*context_new)(struct katomic *k, const struct katomic_context *c,
			   struct katomic **out);
	/*
	 * katomic_map: the cells of the context's nr counters, each
	 * KATOMIC_MAP_CELL bytes, into *cells; *len the bytes to munmap
	 * (0: none, the cells are the backend's own memory).  0 or -errno.
	 */
	int (*map)(struct katomic *k, unsigned int nr, void **cells,
		   size_t *len);
	void (*close)(struct katomic *k);
};

/* A counter type as arithmetic sees it. */
struct katomic_width {
	unsigned int bits;	/* 32 or 64 */
	bool is_signed;
	__u64 mask;		/* the low bits bits set */
};

struct katomic__ring;

struct katomic {
	const struct katomic_backend *be;
	int fd;			/* -1 for a twin */
	/* The device's io_uring (uring.c), set up by the first katomic_uring
	 * call; freed through ring_free so that a program that never calls
	 * katomic_uring does not link liburing. */
	struct katomic__ring *_Atomic ring;
	void (*ring_free)(struct katomic__ring *r);
	/* katomic_map (map.c): the cells, or NULL while not mapped */
	unsigned char *cells;
	size_t map_len;			/* bytes to munmap; 0: none */
	unsigned int map_nr;		/* counters mapped */
	/* each type's width, at the mapped context's ptr_bits */
	struct katomic_width map_w[KATOMIC_TYPE_LAST + 1];
};

/* Frees k's ring, if it has one (every backend's close calls it). */
void katomic__ring_release(struct katomic *k);

/*
 * Runs ops[0..nr) in order through be->op, as KATOMIC_IOC_BATCH runs them
 * (the header already checked): a failed op gets result 0, applied 0 and
 * error -errno, and without KATOMIC_BATCH_CONTINUE ends the run.  *done
 * (not NULL) is the number of ops that ran.  The twin's batch, and
 * katomic_uring on a twin.
 */
void katomic__run_ops(struct katomic *k, struct katomic_op *ops,
		      unsigned int nr, unsigned int flags, unsigned int *done);
/* The same through the mapping (katomic_map_batch). */
void katomic__run_ops_with(struct katomic *k, struct katomic_op *ops,
			   unsigned int nr, unsigned int flags,
			   unsigned int *done,
			   int (*run)(struct katomic *k, struct katomic_op *op));

/*
 * The header checks of a batch, in the module's order: nr 0 or unknown
 * flags -EINVAL, nr above max -E2BIG (max 0: no limit), then ops NULL
 * -EFAULT (where the module would fault on it).
 */
int katomic__check_batch(const struct katomic_op *ops, unsigned int nr,
			 unsigned int flags, unsigned int max);

/*
 * io_uring's marshalling (uring.c), for the tests too: an SQE (128 bytes,
 * zeroed here) that runs op on fd with user_data and, if link, IOSQE_IO_LINK;
 * and a completion (a 32-byte CQE: res, flags, big_cqe[0]) into op as
 * KATOMIC_IOC_OP writes it (res < 0: result 0, applied 0, error res).
 * Returns the op's error (0 or -errno).
 */
struct io_uring_sqe;
struct io_uring_cqe;
void katomic__uring_prep(struct io_uring_sqe *sqe, int fd,
			 const struct katomic_op *op, __u64 user_data,
			 bool link);
int katomic__uring_complete(const struct io_uring_cqe *cqe,
			    struct katomic_op *op);


/* -EINVAL for an unknown type. */
int katomic__width(unsigned int type, unsigned int ptr_bits,
		   struct katomic_width *w);
/* v cut to the width, then sign- or zero-extended. */
__u64 katomic__extend(const struct katomic_width *w, __u64 v);

/*
 * The checks of a struct katomic_op that need no counter: flags, reserved,
 * op and type known, unused operands zero (-EINVAL), used ones
 * representable (-EOVERFLOW).
 */
int katomic__check_op(const struct katomic_op *op, unsigned int ptr_bits);

/* One op applied to a plain value. */
struct katomic_step {
	__u64 new;		/* the value to store, if store */
	__u64 result;		/* the op's result, raw (not extended) */
	bool store;		/* the op writes the counter */
	bool applied;		/* katomic_op.applied */
};

/*
 * The meaning of every counter op, once: from old (the counter's bits,
 * zero-extended) and op's operands compute what to store and return.
 * Sync kinds that run an op as load-compute-store (a CAS loop, a lock,
 * no synchronisation at all) all go through here.
 */
void katomic__apply(const struct katomic_width *w, const struct katomic_op *op,
		    __u64 old, struct katomic_step *s);

/*
 * A twin's value slots (slot.c): nr_slots slots of values up to
 * value_max bytes.  The calls take the ABI's structs, validate them as
 * the module does and return 0 or -errno; twin.c hands them every
 * KATOMIC_OBJ_VALUE DEFINE, UNDEFINE and QUERY and every value op.
 */
struct katomic__slots;

int katomic__slots_new(unsigned int nr_slots, unsigned int value_max,
		       struct katomic__slots **out);
void katomic__slots_free(struct katomic__slots *ss);	/* NULL is fine */
int katomic__slot_define(struct katomic__slots *ss,
			 const struct katomic_define *d);
int katomic__slot_undefine(struct katomic__slots *ss,
			   const struct katomic_define *d);
int katomic__slot_query(struct katomic__slots *ss, struct katomic_define *d);
int katomic__slot_op(struct katomic__slots *ss, struct katomic_value_op *vop);

/*
 * The op family on one value cell with C11 seq_cst atomics, the kernel's
 * fully ordered value-returning atomics: a twin's ATOMIC counters and a
 * mapped context's cells (which the module runs its own atomics on) both
 * go through here.  The body is written once for both widths; what C11
 * has no single call for (MAX, MIN, ADD_UNLESS) is a CAS loop around the
 * op's meaning in katomic__apply().  Returns the raw bits of the result
 * (not extended); sets *applied where the op reports it (the caller
 * zeroes it).  Inline, so that a typed call with a constant op compiles
 * to the one instruction it needs.
 */
#define KATOMIC__CELL_RUN(bits)						\
static inline __u64 katomic__cell_run##bits(_Atomic uint##bits##_t *p,	\
					  const struct katomic_width *w, \
					  const struct katomic_op *op,	\
					  bool *applied)		\
{									\
	uint##bits##_t arg = op->arg, old;				\
	struct katomic_step s;						\
									\
	switch (op->op) {						\
	case KATOMIC_OP_LOAD:						\
		return atomic_load(p);					\
	case KATOMIC_OP_STORE:						\
		atomic_store(p, arg);					\
		return 0;						\
	case KATOMIC_OP_ADD:						\
		return (uint##bits##_t)(atomic_fetch_add(p, arg) + arg);\
	case KATOMIC_OP_SWAP:						\
		return atomic_exchange(p, arg);				\
	case KATOMIC_OP_CAS:						\
		old = arg;						\
		*applied = atomic_compare_exchange_strong(p, &old,	\
					(uint##bits##_t)op->arg2);	\
		return old;						\
	case KATOMIC_OP_AND:						\
		return atomic_fetch_and(p, arg);			\
	case KATOMIC_OP_OR:						\
		return atomic_fetch_or(p, arg);				\
	case KATOMIC_OP_XOR:						\
		return atomic_fetch_xor(p, arg);			\
	}								\
	old = atomic_load(p);						\
	do {								\
		katomic__apply(w, op, old, &s);				\
	} while (s.store && !atomic_compare_exchange_weak(p, &old,	\
					(uint##bits##_t)s.new));	\
	*applied = s.applied;						\
	return s.result;						\
}
KATOMIC__CELL_RUN(32)
KATOMIC__CELL_RUN(64)
#undef KATOMIC__CELL_RUN

/* The cell at its type's width: a 32-bit type's value is its first 4
 * bytes (little-endian, as the kernel's atomic_t is). */
static inline __u64 katomic__cell_run(void *cell, const struct katomic_width *w,
				      const struct katomic_op *op,
				      bool *applied)
{
	return w->bits == 32 ? katomic__cell_run32(cell, w, op, applied)
			     : katomic__cell_run64(cell, w, op, applied);
}

/*
 * A checked op (or a typed call's, whose operands are its C types) on
 * k's mapped cell: the raw result into *raw; returns applied (0 or 1),
 * -ENODEV if k is not mapped, -EINVAL for an id beyond the mapping.
 */
static inline int katomic__map_run(struct katomic *k,
				   const struct katomic_op *op, __u64 *raw)
{
	bool applied = false;

	if (!k->cells)
		return -ENODEV;
	if (op->id >= k->map_nr)
		return -EINVAL;
	*raw = katomic__cell_run(k->cells + (size_t)op->id * KATOMIC_MAP_CELL,
				 &k->map_w[op->type], op, &applied);
	return applied;
}

#endif /* KATOMIC_INTERNAL_H */
