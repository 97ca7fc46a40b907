// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The user-space twin: counters in plain memory with the module's
 * semantics and errnos.  Each counter sits on its own 64-byte line, value
 * first (as in a mapped context), and is run by the sync kind it was
 * defined with: twin_kinds[] maps a kind to its implementation, so adding
 * a kind (none, mutex, spinlock, sharded) is one more entry.
 *
 * A counter's type and kind live in its meta word, published with release
 * order once the value is initialised.  DEFINE claims the word with a CAS
 * (so two DEFINEs of one id give one -EEXIST), UNDEFINE clears it.  Unlike
 * the module, a twin does not make an op that races UNDEFINE of the same
 * counter safe: the op may still run on the counter being undefined.
 */
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

#define TWIN_PTR_BITS	(sizeof(uintptr_t) * CHAR_BIT)

/* meta: 0 = undefined, BUSY = being defined, else LIVE | sync << 8 | type */
#define META_BUSY	(1U << 31)
#define META_LIVE	(1U << 30)
#define META(type, sync)	(META_LIVE | (sync) << 8 | (type))
#define META_TYPE(m)	((m) & 0xff)
#define META_SYNC(m)	(((m) >> 8) & 0xff)

struct twin_counter {
	alignas(64) union {
		_Atomic uint32_t v32;
		_Atomic uint64_t v64;
	};
	_Atomic uint32_t meta;
	/* The rest of the line is free for a kind's state (a lock). */
};
_Static_assert(sizeof(struct twin_counter) == 64, "one counter per cache line");

struct twin {
	struct katomic k;
	unsigned int nr_counters;
	struct twin_counter *counters;
};

/* A sync kind's implementation of the counter ops. */
struct twin_kind {
	__u64 max_param;	/* DEFINE's param must not exceed it */
	void (*init)(struct twin_counter *c, const struct katomic_width *w,
		     __u64 v);
	/* Runs a checked op; *result gets the raw bits (not extended). */
	int (*run)(struct twin_counter *c, const struct katomic_width *w,
		   const struct katomic_op *op, __u64 *result, bool *applied);
};

/*
 * ATOMIC: C11 seq_cst atomics, the kernel's fully ordered value-returning
 * atomics.  The body is written once for both cell widths; what C11 has no
 * single call for (MAX, MIN, ADD_UNLESS) is a CAS loop around the op's
 * meaning in katomic__apply().
 */
#define TWIN_ATOMIC_RUN(bits)						\
static __u64 twin_atomic_run##bits(_Atomic uint##bits##_t *p,		\
				   const struct katomic_width *w,	\
				   const struct katomic_op *op,		\
				   bool *applied)			\
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
TWIN_ATOMIC_RUN(32)
TWIN_ATOMIC_RUN(64)

static void twin_atomic_init(struct twin_counter *c,
			     const struct katomic_width *w, __u64 v)
{
	if (w->bits == 32)
		atomic_store(&c->v32, (uint32_t)v);
	else
		atomic_store(&c->v64, v);
}

static int twin_atomic_run(struct twin_counter *c,
			   const struct katomic_width *w,
			   const struct katomic_op *op, __u64 *result,
			   bool *applied)
{
	*result = w->bits == 32 ? twin_atomic_run32(&c->v32, w, op, applied)
				: twin_atomic_run64(&c->v64, w, op, applied);
	return 0;
}

static const struct twin_kind twin_atomic = {
	.init = twin_atomic_init,
	.run = twin_atomic_run,
};

/* Counter kinds a twin implements; a NULL entry is -EOPNOTSUPP. */
static const struct twin_kind *const twin_kinds[KATOMIC_SYNC_LAST + 1] = {
	[KATOMIC_SYNC_ATOMIC] = &twin_atomic,
};

static unsigned int resolve_sync(unsigned int sync)
{
	return sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_ATOMIC : sync;
}

static struct twin *to_twin(struct katomic *k)
{
	return container_of(k, struct twin, k);
}

/* The counter d names, after the checks every DEFINE-family call shares. */
static int twin_counter_of(struct twin *t, const struct katomic_define *d,
			   struct twin_counter **c)
{
	if (d->object == KATOMIC_OBJ_VALUE)
		return -EOPNOTSUPP;	/* no KATOMIC_FEAT_VALUES */
	if (d->object != KATOMIC_OBJ_COUNTER || d->flags || d->reserved)
		return -EINVAL;
	if (d->id >= t->nr_counters)
		return -EINVAL;
	*c = &t->counters[d->id];
	return 0;
}

static int twin_define(struct katomic *k, const struct katomic_define *d)
{
	struct twin *t = to_twin(k);
	const struct twin_kind *kind;
	struct katomic_width w;
	struct twin_counter *c;
	unsigned int sync;
	uint32_t meta = 0;
	int ret;

	ret = twin_counter_of(t, d, &c);
	if (ret)
		return ret;
	if (katomic__width(d->type, TWIN_PTR_BITS, &w) ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	sync = resolve_sync(d->sync);
	kind = twin_kinds[sync];
	if (!kind)
		return -EOPNOTSUPP;
	if (d->param > kind->max_param)
		return -EINVAL;
	if (katomic__extend(&w, d->init) != d->init)
		return -EOVERFLOW;
	if (!atomic_compare_exchange_strong(&c->meta, &meta, META_BUSY))
		return -EEXIST;
	kind->init(c, &w, d->init);
	atomic_store_explicit(&c->meta, META(d->type, sync),
			      memory_order_release);
	return 0;
}

static int twin_undefine(struct katomic *k, const struct katomic_define *d)
{
	struct twin_counter *c;
	uint32_t meta;
	int ret;

	ret = twin_counter_of(to_twin(k), d, &c);
	if (ret)
		return ret;
	if (d->type || d->sync || d->init || d->param)
		return -EINVAL;
	meta = atomic_load(&c->meta);
	do {
		if (!(meta & META_LIVE))
			return -ENOENT;
	} while (!atomic_compare_exchange_weak(&c->meta, &meta, 0));
	return 0;
}

static int twin_query(struct katomic *k, struct katomic_define *d)
{
	struct twin_counter *c;
	uint32_t meta;
	int ret;

	ret = twin_counter_of(to_twin(k), d, &c);
	if (ret)
		return ret;
	if (d->init)
		return -EINVAL;
	meta = atomic_load_explicit(&c->meta, memory_order_acquire);
	if (!(meta & META_LIVE))
		return -ENOENT;
	d->type = META_TYPE(meta);
	d->sync = META_SYNC(meta);
	d->param = 0;
	return 0;
}

static int twin_op(struct katomic *k, struct katomic_op *op)
{
	struct twin *t = to_twin(k);
	struct katomic_width w;
	struct twin_counter *c;
	bool applied = false;
	__u64 result;
	uint32_t meta;
	int ret;

	ret = katomic__check_op(op, TWIN_PTR_BITS);
	if (ret)
		return ret;
	if (op->id >= t->nr_counters)
		return -EINVAL;
	c = &t->counters[op->id];
	meta = atomic_load_explicit(&c->meta, memory_order_acquire);
	if (!(meta & META_LIVE))
		return -ENOENT;
	if (META_TYPE(meta) != op->type)
		return -EINVAL;
	katomic__width(op->type, TWIN_PTR_BITS, &w);
	ret = twin_kinds[META_SYNC(meta)]->run(c, &w, op, &result, &applied);
	if (ret)
		return ret;
	op->result = katomic__extend(&w, result);
	op->applied = applied;
	op->error = 0;
	return applied;
}

static int twin_info(struct katomic *k, struct katomic_info *info)
{
	*info = (struct katomic_info){
		.abi_version = KATOMIC_ABI_VERSION,
		.nr_counters = to_twin(k)->nr_counters,
		.ptr_bits = TWIN_PTR_BITS,
	};
	return 0;
}

static int twin_nop(struct katomic *k)
{
	(void)k;
	return 0;
}

static void twin_close(struct katomic *k)
{
	struct twin *t = to_twin(k);

	free(t->counters);
	free(t);
}

static const struct katomic_backend twin_backend = {
	.info = twin_info,
	.nop = twin_nop,
	.define = twin_define,
	.undefine = twin_undefine,
	.query = twin_query,
	.op = twin_op,
	.close = twin_close,
};

int katomic_twin_new(unsigned int nr_counters, struct katomic **out)
{
	size_t size = (size_t)nr_counters * sizeof(struct twin_counter);
	struct twin *t;

	if (size / sizeof(struct twin_counter) != nr_counters)
		return -E2BIG;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->k.be = &twin_backend;
	t->k.fd = -1;
	t->nr_counters = nr_counters;
	if (size) {
		t->counters = aligned_alloc(alignof(struct twin_counter), size);
		if (!t->counters) {
			free(t);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nr_counters; i++)
			atomic_init(&t->counters[i].meta, 0);
	}
	*out = &t->k;
	return 0;
}
