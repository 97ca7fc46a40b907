// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The user-space twin: counters (and value slots, slot.c) in plain memory
 * with the module's semantics and errnos.  Each counter has a record of its own 64-byte
 * line: its meta word, NONE's delay and its kind's state (a lock, or a
 * sharded counter's shards).  Its value is an 8-byte cell, first in the
 * record (as in a mapped context) or, in a packed twin, in one array of
 * cells 8 bytes apart, so that adjacent counters share a cache line.
 * Each counter is run by the sync kind it was defined with: twin_kinds[]
 * maps a kind to its implementation.
 *
 * A counter's type and kind live in its meta word, published with release
 * order once the value and the kind's state are initialised.  DEFINE
 * claims the word with a CAS (so two DEFINEs of one id give one -EEXIST),
 * UNDEFINE claims it back, tears the kind's state down, then clears it.
 * Unlike the module, a twin does not make an op that races UNDEFINE of
 * the same counter safe: such an op may use a destroyed lock or freed
 * shards.  The caller must not let them race.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define TWIN_PTR_BITS	(sizeof(uintptr_t) * CHAR_BIT)
#define TWIN_LINE	64

/* meta: 0 undefined, BUSY being (un)defined, else LIVE | sync << 8 | type */
#define META_BUSY	(1U << 31)
#define META_LIVE	(1U << 30)
#define META(type, sync)	(META_LIVE | (sync) << 8 | (type))
#define META_TYPE(m)	((m) & 0xff)
#define META_SYNC(m)	(((m) >> 8) & 0xff)

/*
 * A counter's value, accessed at its type's width: as a C11 atomic by the
 * kinds without a lock (NONE with relaxed loads and stores, ATOMIC), as a
 * plain integer by the kinds that hold a lock around every access.  A
 * counter's kind decides once, at DEFINE, which members it uses.
 */
union twin_cell {
	_Atomic uint32_t a32;
	_Atomic uint64_t a64;
	uint32_t p32;
	uint64_t p64;
};
_Static_assert(sizeof(union twin_cell) == 8, "cells are 8 bytes apart");

/* One shard of a PERCPU counter, on a line of its own. */
struct twin_shard {
	alignas(TWIN_LINE) _Atomic uint64_t v;
};

struct twin_counter {
	alignas(TWIN_LINE) union twin_cell value;	/* unused if packed */
	_Atomic uint32_t meta;
	_Atomic uint32_t param;		/* NONE's delay in ns, else 0 */
	union {				/* the kind's state */
		pthread_spinlock_t spin;
		pthread_mutex_t mutex;
		struct {
			pthread_spinlock_t lock;	/* LOAD against STORE */
			struct twin_shard *shards;	/* the shards */
		} pcpu;
	};
};
_Static_assert(sizeof(struct twin_counter) == TWIN_LINE,
	       "one counter record per cache line");

struct twin {
	struct katomic k;
	unsigned int nr_counters;
	struct twin_counter *counters;
	union twin_cell *values;	/* packed: the values; else NULL */
	unsigned int nr_slots, value_max;
	struct katomic__slots *slots;	/* NULL: no slots, no values */
	bool private;			/* made by katomic_context_new() */
	bool mappable;			/* ... with KATOMIC_CTX_MMAP */
};

/* A sync kind's implementation of the counter ops. */
struct twin_kind {
	unsigned int types;	/* 1 << type for each type it takes */
	__u32 max_param;	/* DEFINE's param must not exceed it */
	/* Sets up the kind's state and the value: 0 or -errno. */
	int (*init)(struct twin_counter *c, union twin_cell *v,
		    const struct katomic_width *w, __u64 init);
	/* Tears the kind's state down (NULL: nothing to do). */
	void (*fini)(struct twin_counter *c);
	/* Runs a checked op; *result gets the raw bits (not extended). */
	int (*run)(struct twin_counter *c, union twin_cell *v,
		   const struct katomic_width *w, const struct katomic_op *op,
		   __u64 *result, bool *applied);
};

#define TWIN_ALL_TYPES	((2U << KATOMIC_TYPE_LAST) - 2)

/* The cell at the type's width, as a plain integer or a relaxed atomic. */
static __u64 cell_get(const union twin_cell *v, unsigned int bits)
{
	return bits == 32 ? v->p32 : v->p64;
}

static void cell_set(union twin_cell *v, unsigned int bits, __u64 x)
{
	if (bits == 32)
		v->p32 = (uint32_t)x;
	else
		v->p64 = x;
}

static __u64 cell_load_relaxed(union twin_cell *v, unsigned int bits)
{
	return bits == 32 ? atomic_load_explicit(&v->a32, memory_order_relaxed)
			  : atomic_load_explicit(&v->a64, memory_order_relaxed);
}

static void cell_store_relaxed(union twin_cell *v, unsigned int bits, __u64 x)
{
	if (bits == 32)
		atomic_store_explicit(&v->a32, (uint32_t)x,
				      memory_order_relaxed);
	else
		atomic_store_explicit(&v->a64, x, memory_order_relaxed);
}

/*
 * ATOMIC: C11 seq_cst atomics, the kernel's fully ordered value-returning
 * atomics: katomic__cell_run(), which a mapped context's cells run too.
 */

static int twin_atomic_init(struct twin_counter *c, union twin_cell *v,
			    const struct katomic_width *w, __u64 init)
{
	(void)c;
	cell_store_relaxed(v, w->bits, init);	/* published by meta */
	return 0;
}

static int twin_atomic_run(struct twin_counter *c, union twin_cell *v,
			   const struct katomic_width *w,
			   const struct katomic_op *op, __u64 *result,
			   bool *applied)
{
	(void)c;
	*result = katomic__cell_run(v, w, op, applied);
	return 0;
}

static const struct twin_kind twin_atomic = {
	.types = TWIN_ALL_TYPES,
	.init = twin_atomic_init,
	.run = twin_atomic_run,
};

/*
 * NONE, the racy "plain int": load, compute, [wait], store, as three
 * separate steps.  The load and the store are relaxed atomics, what the
 * module's READ_ONCE and WRITE_ONCE are: each is one untorn access, and
 * nothing makes the three steps one.  (A plain int would make the race
 * undefined behaviour in C; relaxed atomics keep it well defined, and on
 * the machines we run on they compile to the same plain moves.)
 */

/* Busy-waits ns nanoseconds, as the module's ndelay(). */
static void twin_delay(uint32_t ns)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += ns;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_nsec -= 1000000000L;
		end.tv_sec++;
	}
	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
}

static int twin_none_run(struct twin_counter *c, union twin_cell *v,
			 const struct katomic_width *w,
			 const struct katomic_op *op, __u64 *result,
			 bool *applied)
{
	struct katomic_step s;
	uint32_t delay;

	katomic__apply(w, op, cell_load_relaxed(v, w->bits), &s);
	if (s.store) {
		delay = atomic_load_explicit(&c->param, memory_order_relaxed);
		if (delay)
			twin_delay(delay);
		cell_store_relaxed(v, w->bits, s.new);
	}
	*result = s.result;
	*applied = s.applied;
	return 0;
}

static const struct twin_kind twin_none = {
	.types = TWIN_ALL_TYPES,
	.max_param = KATOMIC_NONE_MAX_DELAY,
	.init = twin_atomic_init,
	.run = twin_none_run,
};

/* SPINLOCK and MUTEX: the op on the plain integer, with the lock held. */
static void twin_plain_run(union twin_cell *v, const struct katomic_width *w,
			   const struct katomic_op *op, __u64 *result,
			   bool *applied)
{
	struct katomic_step s;

	katomic__apply(w, op, cell_get(v, w->bits), &s);
	if (s.store)
		cell_set(v, w->bits, s.new);
	*result = s.result;
	*applied = s.applied;
}

/*
 * pthread_spin_init() and pthread_mutex_init() can fail only for want of
 * resources (glibc's never do): DEFINE reports that as -ENOMEM.
 */
static int twin_spin_setup(pthread_spinlock_t *lock)
{
	return pthread_spin_init(lock, PTHREAD_PROCESS_PRIVATE);
}

static int twin_mutex_setup(pthread_mutex_t *lock)
{
	return pthread_mutex_init(lock, NULL);
}

/*
 * A kind that holds a lock around twin_plain_run(): SPINLOCK and MUTEX are
 * the same code around a different lock.  member is the lock's member of
 * struct twin_counter; setup, take, release and destroy are its calls
 * (setup and take return 0 or an errno).  Written out for each lock, so
 * that the lock calls are direct, as if written by hand.
 */
#define TWIN_LOCKED_KIND(name, member, setup, take, release, destroy)	\
static int twin_##name##_init(struct twin_counter *c,			\
			      union twin_cell *v,			\
			      const struct katomic_width *w,		\
			      __u64 init)				\
{									\
	if (setup(&c->member))						\
		return -ENOMEM;						\
	cell_set(v, w->bits, init);					\
	return 0;							\
}									\
									\
static void twin_##name##_fini(struct twin_counter *c)			\
{									\
	destroy(&c->member);						\
}									\
									\
static int twin_##name##_run(struct twin_counter *c,			\
			     union twin_cell *v,			\
			     const struct katomic_width *w,		\
			     const struct katomic_op *op,		\
			     __u64 *result, bool *applied)		\
{									\
	int ret = take(&c->member);					\
									\
	if (ret)							\
		return -ret;						\
	twin_plain_run(v, w, op, result, applied);			\
	release(&c->member);						\
	return 0;							\
}									\
									\
static const struct twin_kind twin_##name = {				\
	.types = TWIN_ALL_TYPES,					\
	.init = twin_##name##_init,					\
	.fini = twin_##name##_fini,					\
	.run = twin_##name##_run,					\
};
TWIN_LOCKED_KIND(spinlock, spin, twin_spin_setup, pthread_spin_lock,
		 pthread_spin_unlock, pthread_spin_destroy)
TWIN_LOCKED_KIND(mutex, mutex, twin_mutex_setup, pthread_mutex_lock,
		 pthread_mutex_unlock, pthread_mutex_destroy)

/*
 * PERCPU, the sharded per-thread counter (a percpu_counter with threads
 * for CPUs): a base in the value cell and KATOMIC_TWIN_SHARDS shards, one
 * per cache line.  A thread takes a shard the first time it adds (the
 * next number of a global count, modulo the shards) and keeps it; threads
 * that share a shard stay exact, as the add is a relaxed atomic
 * fetch_add.  LOAD sums base and shards and STORE sets the base and
 * zeroes the shards, both under the counter's spinlock, as
 * percpu_counter_sum() and percpu_counter_set() take the counter's lock:
 * a LOAD never sees half a STORE.  ADD takes no lock: a LOAD while adds
 * run sees some of them, one that follows them sees them all; an add that
 * races a STORE is either kept (counted on top of the stored value) or
 * wiped out by it.  The base is only touched under the lock, so it is a
 * plain integer.
 */
static _Atomic unsigned int twin_shard_next;
/* This thread's shard + 1; 0: none yet. */
static _Thread_local unsigned int twin_shard_mine;

static unsigned int twin_shard(void)
{
	if (!twin_shard_mine)
		twin_shard_mine = atomic_fetch_add_explicit(&twin_shard_next, 1,
					memory_order_relaxed) %
				  KATOMIC_TWIN_SHARDS + 1;
	return twin_shard_mine - 1;
}

static int twin_pcpu_init(struct twin_counter *c, union twin_cell *v,
			  const struct katomic_width *w, __u64 init)
{
	struct twin_shard *s;
	unsigned int i;

	s = aligned_alloc(alignof(struct twin_shard),
			  KATOMIC_TWIN_SHARDS * sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (twin_spin_setup(&c->pcpu.lock)) {
		free(s);
		return -ENOMEM;
	}
	for (i = 0; i < KATOMIC_TWIN_SHARDS; i++)
		atomic_init(&s[i].v, 0);
	c->pcpu.shards = s;
	cell_set(v, w->bits, init);
	return 0;
}

static void twin_pcpu_fini(struct twin_counter *c)
{
	pthread_spin_destroy(&c->pcpu.lock);
	free(c->pcpu.shards);
	c->pcpu.shards = NULL;
}

static int twin_pcpu_run(struct twin_counter *c, union twin_cell *v,
			 const struct katomic_width *w,
			 const struct katomic_op *op, __u64 *result,
			 bool *applied)
{
	struct twin_shard *s = c->pcpu.shards;
	unsigned int i;
	__u64 sum;
	int ret;

	(void)w;	/* INT64, UINT64: 64-bit sums wrap as the type does */
	*applied = false;
	*result = 0;	/* STORE's, and ADD's: a per-CPU add returns nothing */
	switch (op->op) {
	case KATOMIC_OP_ADD:
		atomic_fetch_add_explicit(&s[twin_shard()].v, op->arg,
					  memory_order_relaxed);
		return 0;
	case KATOMIC_OP_LOAD:
	case KATOMIC_OP_STORE:
		break;
	default:
		return -EOPNOTSUPP;
	}
	ret = pthread_spin_lock(&c->pcpu.lock);
	if (ret)
		return -ret;
	if (op->op == KATOMIC_OP_LOAD) {
		sum = v->p64;
		for (i = 0; i < KATOMIC_TWIN_SHARDS; i++)
			sum += atomic_load_explicit(&s[i].v,
						    memory_order_relaxed);
		*result = sum;
	} else {
		for (i = 0; i < KATOMIC_TWIN_SHARDS; i++)
			atomic_store_explicit(&s[i].v, 0, memory_order_relaxed);
		v->p64 = op->arg;
	}
	pthread_spin_unlock(&c->pcpu.lock);
	return 0;
}

static const struct twin_kind twin_pcpu = {
	.types = 1U << KATOMIC_TYPE_INT64 | 1U << KATOMIC_TYPE_UINT64,
	.init = twin_pcpu_init,
	.fini = twin_pcpu_fini,
	.run = twin_pcpu_run,
};

/* Counter kinds a twin implements; a NULL entry (slot kinds) is -EOPNOTSUPP. */
static const struct twin_kind *const twin_kinds[KATOMIC_SYNC_LAST + 1] = {
	[KATOMIC_SYNC_NONE] = &twin_none,
	[KATOMIC_SYNC_ATOMIC] = &twin_atomic,
	[KATOMIC_SYNC_SPINLOCK] = &twin_spinlock,
	[KATOMIC_SYNC_MUTEX] = &twin_mutex,
	[KATOMIC_SYNC_PERCPU] = &twin_pcpu,
};

static unsigned int resolve_sync(unsigned int sync)
{
	return sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_ATOMIC : sync;
}

static struct twin *to_twin(struct katomic *k)
{
	return container_of(k, struct twin, k);
}

/* Counter id's value cell: in its record, or in the packed array. */
static union twin_cell *twin_value(struct twin *t, __u32 id)
{
	return t->values ? &t->values[id] : &t->counters[id].value;
}

/* The counter d names, after the checks every DEFINE-family call shares. */
static int twin_counter_of(struct twin *t, const struct katomic_define *d,
			   struct twin_counter **c)
{
	if (d->object != KATOMIC_OBJ_COUNTER || d->flags || d->reserved)
		return -EINVAL;
	if (d->id >= t->nr_counters)
		return -EINVAL;
	*c = &t->counters[d->id];
	return 0;
}

/* DEFINE's checks in the module's order (notes: kinds.md). */
static int twin_define(struct katomic *k, const struct katomic_define *d)
{
	struct twin *t = to_twin(k);
	const struct twin_kind *kind;
	struct katomic_width w;
	struct twin_counter *c;
	unsigned int sync;
	uint32_t meta = 0;
	int ret;

	if (d->object == KATOMIC_OBJ_VALUE)
		return t->slots ? katomic__slot_define(t->slots, d) : -EOPNOTSUPP;
	ret = twin_counter_of(t, d, &c);
	if (ret)
		return ret;
	if (katomic__width(d->type, TWIN_PTR_BITS, &w) ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	sync = resolve_sync(d->sync);
	kind = twin_kinds[sync];
	if (!kind || !(kind->types & 1U << d->type))
		return -EOPNOTSUPP;
	if (d->param > kind->max_param)
		return -EINVAL;
	if (katomic__extend(&w, d->init) != d->init)
		return -EOVERFLOW;
	/* As the module: user space runs its own atomics on a mapped cell. */
	if (t->mappable && sync != KATOMIC_SYNC_ATOMIC)
		return -EOPNOTSUPP;
	if (!atomic_compare_exchange_strong(&c->meta, &meta, META_BUSY))
		return -EEXIST;
	/* A mapped cell holds nothing but the value, in the type's width. */
	if (t->mappable)
		atomic_store(&twin_value(t, d->id)->a64, 0);
	ret = kind->init(c, twin_value(t, d->id), &w, d->init);
	if (ret) {
		atomic_store(&c->meta, 0);
		return ret;
	}
	atomic_store_explicit(&c->param, (uint32_t)d->param,
			      memory_order_relaxed);
	atomic_store_explicit(&c->meta, META(d->type, sync),
			      memory_order_release);
	return 0;
}

/* Tears down the state of a counter that was live with meta. */
static void twin_counter_fini(struct twin_counter *c, uint32_t meta)
{
	const struct twin_kind *kind = twin_kinds[META_SYNC(meta)];

	if (kind->fini)
		kind->fini(c);
	atomic_store_explicit(&c->param, 0, memory_order_relaxed);
}

static int twin_undefine(struct katomic *k, const struct katomic_define *d)
{
	struct twin *t = to_twin(k);
	struct twin_counter *c;
	uint32_t meta;
	int ret;

	if (d->object == KATOMIC_OBJ_VALUE)
		return t->slots ? katomic__slot_undefine(t->slots, d)
				: -EOPNOTSUPP;
	ret = twin_counter_of(t, d, &c);
	if (ret)
		return ret;
	if (d->type || d->sync || d->init || d->param)
		return -EINVAL;
	meta = atomic_load(&c->meta);
	do {
		if (!(meta & META_LIVE))
			return -ENOENT;
	} while (!atomic_compare_exchange_weak(&c->meta, &meta, META_BUSY));
	twin_counter_fini(c, meta);
	/* An undefined mapped cell reads 0, as a new one does. */
	if (t->mappable)
		atomic_store(&twin_value(t, d->id)->a64, 0);
	atomic_store_explicit(&c->meta, 0, memory_order_release);
	return 0;
}

static int twin_query(struct katomic *k, struct katomic_define *d)
{
	struct twin *t = to_twin(k);
	struct twin_counter *c;
	uint32_t meta;
	int ret;

	if (d->object == KATOMIC_OBJ_VALUE)
		return t->slots ? katomic__slot_query(t->slots, d) : -EOPNOTSUPP;
	ret = twin_counter_of(t, d, &c);
	if (ret)
		return ret;
	if (d->init)
		return -EINVAL;
	meta = atomic_load_explicit(&c->meta, memory_order_acquire);
	if (!(meta & META_LIVE))
		return -ENOENT;
	d->type = META_TYPE(meta);
	d->sync = META_SYNC(meta);
	d->param = atomic_load_explicit(&c->param, memory_order_relaxed);
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
	ret = twin_kinds[META_SYNC(meta)]->run(c, twin_value(t, op->id), &w,
					       op, &result, &applied);
	if (ret)
		return ret;
	op->result = katomic__extend(&w, result);
	op->applied = applied;
	op->error = 0;
	return applied;
}

static int twin_value_op(struct katomic *k, struct katomic_value_op *vop)
{
	struct twin *t = to_twin(k);

	return t->slots ? katomic__slot_op(t->slots, vop) : -EOPNOTSUPP;
}

static int twin_info(struct katomic *k, struct katomic_info *info)
{
	struct twin *t = to_twin(k);

	*info = (struct katomic_info){
		.abi_version = KATOMIC_ABI_VERSION,
		.features = KATOMIC_FEAT_SYNC_KINDS | KATOMIC_FEAT_CONTEXTS |
			    KATOMIC_FEAT_BATCH | KATOMIC_FEAT_MMAP |
			    (t->slots ? KATOMIC_FEAT_VALUES : 0),
		.nr_counters = t->nr_counters,
		.nr_slots = t->nr_slots,
		.value_max = t->value_max,
		.max_batch = KATOMIC_TWIN_MAX_BATCH,
		.ptr_bits = TWIN_PTR_BITS,
	};
	return 0;
}

static int twin_nop(struct katomic *k)
{
	(void)k;
	return 0;
}

/* The batch's semantics in user space: the header, then op after op. */
static int twin_batch(struct katomic *k, struct katomic_op *ops,
		      unsigned int nr, unsigned int flags, unsigned int *done)
{
	int ret = katomic__check_batch(ops, nr, flags, KATOMIC_TWIN_MAX_BATCH);

	if (!ret)
		katomic__run_ops(k, ops, nr, flags, done);
	return ret;
}

/* A new twin of c's sizes, checked in the module's order. */
static int twin_context_new(struct katomic *k, const struct katomic_context *c,
			    struct katomic **out)
{
	struct katomic_twin_params p;
	int ret;

	/* As the module: a private context makes no others. */
	if (to_twin(k)->private)
		return -ENOTTY;
	if (!c)
		return -EFAULT;
	if (c->flags & ~(KATOMIC_CTX_CLOEXEC | KATOMIC_CTX_MMAP) ||
	    c->reserved[0] || c->reserved[1])
		return -EINVAL;
	if (c->nr_counters > KATOMIC_TWIN_MAX_COUNTERS ||
	    c->nr_slots > KATOMIC_TWIN_MAX_SLOTS ||
	    c->value_max > KATOMIC_TWIN_MAX_VALUE)
		return -E2BIG;
	p = (struct katomic_twin_params){
		.nr_counters = c->nr_counters,
		.nr_slots = c->nr_slots,
		.value_max = c->value_max,
	};
	ret = katomic_twin_create(&p, out);	/* -EINVAL, -ENOMEM */
	if (!ret) {
		to_twin(*out)->private = true;
		to_twin(*out)->mappable = c->flags & KATOMIC_CTX_MMAP;
	}
	return ret;
}

/*
 * A twin made with KATOMIC_CTX_MMAP "maps" its records: each counter's
 * value cell is the first 8 bytes of its 64-byte record, where the
 * module's cells are, so the mapped calls run on the values the twin's
 * ATOMIC ops run on.  Others are -ENODEV, as the module's contexts are.
 */
static int twin_map(struct katomic *k, unsigned int nr, void **cells,
		    size_t *len)
{
	struct twin *t = to_twin(k);

	_Static_assert(sizeof(struct twin_counter) == KATOMIC_MAP_CELL &&
		       offsetof(struct twin_counter, value) == 0,
		       "a record is a mapped context's cell");
	if (!t->mappable)
		return -ENODEV;
	if (!nr)
		return -EINVAL;		/* as mmap of 0 bytes */
	*cells = t->counters;
	*len = 0;
	return 0;
}

static void twin_close(struct katomic *k)
{
	struct twin *t = to_twin(k);
	uint32_t meta;
	unsigned int i;

	for (i = 0; i < t->nr_counters; i++) {
		meta = atomic_load(&t->counters[i].meta);
		if (meta & META_LIVE)
			twin_counter_fini(&t->counters[i], meta);
	}
	katomic__slots_free(t->slots);
	free(t->values);
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
	.value = twin_value_op,
	.batch = twin_batch,
	.context_new = twin_context_new,
	.map = twin_map,
	.close = twin_close,
};

int katomic_twin_create(const struct katomic_twin_params *p,
			struct katomic **out)
{
	size_t size, values;
	struct twin *t;
	size_t i;
	int ret;

	if (!p || p->flags & ~KATOMIC_TWIN_PACKED ||
	    (p->nr_slots && !p->value_max))
		return -EINVAL;
	size = (size_t)p->nr_counters * sizeof(struct twin_counter);
	/* nr_counters cells, a whole number of lines (aligned_alloc's rule) */
	values = ((size_t)p->nr_counters * sizeof(union twin_cell) +
		  TWIN_LINE - 1) / TWIN_LINE * TWIN_LINE;
	if (size / sizeof(struct twin_counter) != p->nr_counters)
		return -E2BIG;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->k.be = &twin_backend;
	t->k.fd = -1;
	t->nr_counters = p->nr_counters;
	t->nr_slots = p->nr_slots;
	t->value_max = p->value_max;
	ret = -ENOMEM;
	if (size) {
		t->counters = aligned_alloc(alignof(struct twin_counter), size);
		if (p->flags & KATOMIC_TWIN_PACKED)
			t->values = aligned_alloc(TWIN_LINE, values);
		if (!t->counters ||
		    (p->flags & KATOMIC_TWIN_PACKED && !t->values))
			goto fail;
		if (t->values)
			memset(t->values, 0, values);
		for (i = 0; i < p->nr_counters; i++) {
			atomic_init(&t->counters[i].meta, 0);
			atomic_init(&t->counters[i].param, 0);
		}
	}
	if (p->nr_slots) {
		ret = katomic__slots_new(p->nr_slots, p->value_max, &t->slots);
		if (ret)
			goto fail;
	}
	*out = &t->k;
	return 0;
fail:
	free(t->values);
	free(t->counters);
	free(t);
	return ret;
}

int katomic_twin_new2(unsigned int nr_counters, unsigned int flags,
		      struct katomic **out)
{
	struct katomic_twin_params p = {
		.nr_counters = nr_counters,
		.flags = flags,
	};

	return katomic_twin_create(&p, out);
}

int katomic_twin_new(unsigned int nr_counters, struct katomic **out)
{
	return katomic_twin_new2(nr_counters, 0, out);
}
