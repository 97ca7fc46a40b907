// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: typed counters and Go's op family over the kernel's atomic_t,
 * atomic64_t and atomic_long_t.
 *
 * The op family is data: KATOMIC_OP_TABLE and KATOMIC_TYPE_TABLE in the
 * uapi header are expanded here into the per-op and per-type facts, and one
 * op body is instantiated for each of the three backing stores.  The other
 * sync kinds run the same family as load, compute, store on a plain
 * integer: without synchronisation (NONE), under a lock (SPINLOCK, MUTEX),
 * or, for LOAD, STORE and ADD, on a percpu_counter (PERCPU).
 *
 * An ATOMIC counter's value lives in the counter, or, in a context made
 * with KATOMIC_CTX_MMAP, in its cell of the pages user space maps
 * (katomic_value()): the same op bodies run on either, and user space's
 * own atomics on the cell are atomic with respect to them.
 */
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/nospec.h>
#include <linux/processor.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "katomic.h"

enum katomic_backing {
	KATOMIC_BACK_32,	/* atomic_t */
	KATOMIC_BACK_64,	/* atomic64_t */
	KATOMIC_BACK_LONG,	/* atomic_long_t */
};

struct katomic_type_info {
	u8 bits;
	bool is_signed;
	u8 backing;
};

#define KATOMIC_TYPE_INFO(n, nr, name, b, s)				\
	[KATOMIC_TYPE_##n] = {						\
		.bits = (b) ? (b) : BITS_PER_LONG,			\
		.is_signed = (s),					\
		.backing = (b) == 32 ? KATOMIC_BACK_32 :		\
			   (b) == 64 ? KATOMIC_BACK_64 : KATOMIC_BACK_LONG, \
	},

static const struct katomic_type_info katomic_types[] = {
	KATOMIC_TYPE_TABLE(KATOMIC_TYPE_INFO)
};

/* How many of arg/arg2 each op reads; the others must be 0. */
#define KATOMIC_OP_OPERANDS(n, nr, name, operands, applied)		\
	[KATOMIC_OP_##n] = (operands),

static const u8 katomic_op_operands[] = {
	KATOMIC_OP_TABLE(KATOMIC_OP_OPERANDS)
};

static bool katomic_type_valid(u8 type)
{
	return type >= 1 && type <= KATOMIC_TYPE_LAST;
}

static const struct katomic_type_info *katomic_type(u8 type)
{
	return &katomic_types[array_index_nospec(type, ARRAY_SIZE(katomic_types))];
}

/* Is @x, as the ABI carries operands, a value of type @t? */
static bool katomic_fits(const struct katomic_type_info *t, u64 x)
{
	if (t->bits == 64)
		return true;
	if (t->is_signed)
		return (s64)x == sign_extend64(x, t->bits - 1);
	return !(x >> t->bits);
}

/* Widen a raw result to the ABI's 64 bits: sign- or zero-extended. */
static u64 katomic_extend(const struct katomic_type_info *t, u64 raw)
{
	if (t->bits == 64)
		return raw;
	if (t->is_signed)
		return sign_extend64(raw, t->bits - 1);
	return raw & GENMASK_ULL(t->bits - 1, 0);
}

/* Would MAX or MIN move the counter from @old to @a? */
static bool katomic_moves(u8 op, bool is_signed, s64 sa, s64 sold, u64 ua,
			  u64 uold)
{
	if (is_signed)
		return op == KATOMIC_OP_MAX ? sa > sold : sa < sold;
	return op == KATOMIC_OP_MAX ? ua > uold : ua < uold;
}

/*
 * The op family, written once and instantiated per backing store the way
 * the kernel's own atomic headers are: @pfx is the API (atomic, atomic64,
 * atomic_long), @P a pointer to its atomic type, @T its value type, @U
 * the unsigned type of the same width.  The raw result is returned as @T
 * converted to u64; katomic_extend() makes it the ABI's.
 *
 * Every op is fully ordered, as Go's are sequentially consistent.  The
 * value-returning RMWs are so by themselves; LOAD, STORE and the paths
 * that change nothing (a failed CAS, a MAX or MIN that does not move, an
 * ADD_UNLESS that does not add) end with smp_mb(), and STORE also starts
 * with one, so that what came before it is seen before it.
 */
#define KATOMIC_DEFINE_EXEC(pfx, P, T, U)				\
static u64 pfx##_exec(P v, u8 op, T a, T b, bool is_signed, u8 *applied) \
{									\
	T old = 0;							\
									\
	*applied = 0;							\
	switch (op) {							\
	case KATOMIC_OP_LOAD:						\
		old = pfx##_read(v);					\
		break;							\
	case KATOMIC_OP_STORE:						\
		/* what came before the STORE is seen before it */	\
		smp_mb();						\
		pfx##_set(v, a);					\
		break;							\
	case KATOMIC_OP_ADD:						\
		return pfx##_add_return(a, v);				\
	case KATOMIC_OP_SWAP:						\
		return pfx##_xchg(v, a);				\
	case KATOMIC_OP_CAS:						\
		old = a;						\
		*applied = pfx##_try_cmpxchg(v, &old, b);		\
		break;							\
	case KATOMIC_OP_AND:						\
		return pfx##_fetch_and(a, v);				\
	case KATOMIC_OP_OR:						\
		return pfx##_fetch_or(a, v);				\
	case KATOMIC_OP_XOR:						\
		return pfx##_fetch_xor(a, v);				\
	case KATOMIC_OP_MAX:						\
	case KATOMIC_OP_MIN:						\
		old = pfx##_read(v);					\
		while (katomic_moves(op, is_signed, a, old, (U)a, (U)old)) { \
			if (pfx##_try_cmpxchg(v, &old, a)) {		\
				*applied = 1;				\
				break;					\
			}						\
		}							\
		break;							\
	case KATOMIC_OP_ADD_UNLESS:					\
		old = pfx##_fetch_add_unless(v, a, b);			\
		*applied = old != b;					\
		break;							\
	}								\
	if (!*applied) {						\
		/* no ordering RMW ran: order it against what follows */ \
		smp_mb();						\
	}								\
	return old;							\
}

/* The switch above handles exactly the ops of KATOMIC_OP_TABLE. */
static_assert(KATOMIC_OP_LAST == KATOMIC_OP_ADD_UNLESS);
static_assert(ARRAY_SIZE(katomic_op_operands) == KATOMIC_OP_LAST + 1);

KATOMIC_DEFINE_EXEC(atomic, atomic_t *, int, unsigned int)
KATOMIC_DEFINE_EXEC(atomic64, atomic64_t *, s64, u64)
KATOMIC_DEFINE_EXEC(atomic_long, atomic_long_t *, long, unsigned long)

/*
 * Run @op on the ATOMIC value at @v (katomic_value()) as type @t; operands
 * are already checked.
 */
static u64 katomic_exec(void *v, const struct katomic_type_info *t, u8 op,
			u64 a, u64 b, u8 *applied)
{
	u64 raw;

	switch (t->backing) {
	case KATOMIC_BACK_32:
		raw = atomic_exec(v, op, (int)a, (int)b, t->is_signed, applied);
		break;
	case KATOMIC_BACK_64:
		raw = atomic64_exec(v, op, (s64)a, (s64)b, t->is_signed,
				    applied);
		break;
	default:
		raw = atomic_long_exec(v, op, (long)a, (long)b, t->is_signed,
				       applied);
		break;
	}
	return katomic_extend(t, raw);
}

/*
 * Where @c's ATOMIC value lives: @c itself, or in a mapped context the
 * cell of the same id, which user space reads and writes too.  The kernel
 * takes nothing else from the cell: whatever bits user space leaves there
 * are simply the counter's value.
 */
static void *katomic_value(struct katomic_ctx *ctx, struct katomic_counter *c)
{
	if (ctx->cells)
		return ctx->cells + (size_t)(c - ctx->counters) * KATOMIC_CELL;
	return &c->v;
}

/*
 * The op family on a plain value, for the kinds that load, compute and
 * store: @old and the operands are in the ABI's extended form.  Returns
 * whether the op stores, and then *@new, the value to store.
 */
static bool katomic_apply(const struct katomic_type_info *t, u8 op, u64 old,
			  u64 a, u64 b, u64 *new, u64 *res, u8 *applied)
{
	*res = old;
	*applied = 0;
	switch (op) {
	case KATOMIC_OP_LOAD:
		return false;
	case KATOMIC_OP_STORE:
		*res = 0;
		*new = a;
		return true;
	case KATOMIC_OP_ADD:
		*new = katomic_extend(t, old + a);
		*res = *new;
		return true;
	case KATOMIC_OP_SWAP:
		*new = a;
		return true;
	case KATOMIC_OP_CAS:
		*new = b;
		*applied = old == a;
		return *applied;
	case KATOMIC_OP_AND:
		*new = old & a;
		return true;
	case KATOMIC_OP_OR:
		*new = old | a;
		return true;
	case KATOMIC_OP_XOR:
		*new = old ^ a;
		return true;
	case KATOMIC_OP_MAX:
	case KATOMIC_OP_MIN:
		*new = a;
		*applied = katomic_moves(op, t->is_signed, a, old, a, old);
		return *applied;
	case KATOMIC_OP_ADD_UNLESS:
		*new = katomic_extend(t, old + a);
		*applied = old != b;
		return *applied;
	}
	return false;
}

/*
 * NONE's window: @ns (at most 1 ms) between the load and the store, spent
 * on the clock rather than in udelay(), whose loop count comes from each
 * CPU's own calibration (wrong by far on a secondary vCPU under TCG).  No
 * lock is held, only RCU: the wait is preemptible wherever the kernel is
 * (always on PREEMPT_RT), as a window that shows races should be.
 */
static void katomic_delay(u32 ns)
{
	u64 end = ktime_get_ns() + ns;

	while (ktime_get_ns() < end)
		cpu_relax();
}

/* NONE: load, compute, store, each a plain access; nothing is atomic. */
static void katomic_run_none(struct katomic_counter *c,
			     const struct katomic_type_info *t, u8 op, u64 a,
			     u64 b, u64 *res, u8 *applied)
{
	u64 new;

	if (katomic_apply(t, op, READ_ONCE(c->v.plain), a, b, &new, res,
			  applied)) {
		if (c->param)
			katomic_delay(c->param);
		WRITE_ONCE(c->v.plain, new);
	}
}

/* SPINLOCK and MUTEX: the same steps, with the lock held. */
static void katomic_run_locked(struct katomic_counter *c,
			       const struct katomic_type_info *t, u8 op, u64 a,
			       u64 b, u64 *res, u8 *applied)
{
	u64 new;

	if (katomic_apply(t, op, c->v.plain, a, b, &new, res, applied))
		c->v.plain = new;
}

/* PERCPU: a percpu_counter has LOAD (the exact sum), STORE and ADD. */
static int katomic_run_percpu(struct katomic_counter *c, u8 op, u64 a,
			      u64 *res)
{
	switch (op) {
	case KATOMIC_OP_LOAD:
		*res = percpu_counter_sum(&c->lock.pcpu);
		return 0;
	case KATOMIC_OP_STORE:
		percpu_counter_set(&c->lock.pcpu, a);
		return 0;
	case KATOMIC_OP_ADD:
		/*
		 * A per-CPU add returns nothing: the result is 0.  The add
		 * tests abs(this CPU's share + delta) against the batch, and
		 * abs(S64_MIN) is negative: that sum would be added to the
		 * s32 share and lose its high bits.  A delta of at most 2^62
		 * cannot reach S64_MIN, so larger ones go in two halves.
		 */
		if (a + BIT_ULL(62) > BIT_ULL(63)) {
			percpu_counter_add(&c->lock.pcpu, (s64)a / 2);
			a -= (s64)a / 2;
		}
		percpu_counter_add(&c->lock.pcpu, a);
		return 0;
	}
	return -EOPNOTSUPP;
}

/*
 * Run a checked @op on @c of @ctx, defined with @sync.  Returns 0,
 * -EOPNOTSUPP (an op PERCPU lacks) or -ERESTARTSYS (a signal ended MUTEX's
 * wait).
 */
static int katomic_run(struct katomic_ctx *ctx, struct katomic_counter *c,
		       const struct katomic_type_info *t, u8 sync, u8 op,
		       u64 a, u64 b, u64 *res, u8 *applied)
{
	switch (sync) {
	case KATOMIC_SYNC_ATOMIC:
		*res = katomic_exec(katomic_value(ctx, c), t, op, a, b,
				    applied);
		return 0;
	case KATOMIC_SYNC_NONE:
		katomic_run_none(c, t, op, a, b, res, applied);
		return 0;
	case KATOMIC_SYNC_SPINLOCK:
		/*
		 * spinlock_t, as drivers take it: on PREEMPT_RT an rtmutex
		 * that sleeps when contended, which RT's preemptible RCU
		 * allows here.  The kind shows what spin_lock() is, there too.
		 */
		spin_lock(&c->lock.spin);
		katomic_run_locked(c, t, op, a, b, res, applied);
		spin_unlock(&c->lock.spin);
		return 0;
	case KATOMIC_SYNC_MUTEX:
		if (mutex_lock_interruptible(&c->lock.mutex))
			return -ERESTARTSYS;
		katomic_run_locked(c, t, op, a, b, res, applied);
		mutex_unlock(&c->lock.mutex);
		return 0;
	}
	return katomic_run_percpu(c, op, a, res);
}

static struct katomic_counter *katomic_counter(struct katomic_ctx *ctx, u32 id)
{
	if (id >= ctx->nr_counters)
		return NULL;
	return &ctx->counters[array_index_nospec(id, ctx->nr_counters)];
}

/* The checks of DEFINE that need no counter state, in the ABI's order. */
static int katomic_define_check(const struct katomic_define *d, u8 sync)
{
	if (d->flags || d->reserved || !katomic_type_valid(d->type) ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	switch (sync) {
	case KATOMIC_SYNC_NONE:
		if (d->param > KATOMIC_NONE_MAX_DELAY)
			return -EINVAL;
		break;
	case KATOMIC_SYNC_PERCPU:
		if (d->type != KATOMIC_TYPE_INT64 &&
		    d->type != KATOMIC_TYPE_UINT64)
			return -EOPNOTSUPP;
		fallthrough;
	case KATOMIC_SYNC_ATOMIC:
	case KATOMIC_SYNC_SPINLOCK:
	case KATOMIC_SYNC_MUTEX:
		if (d->param)
			return -EINVAL;
		break;
	default:
		/* RCU and SEQLOCK are kinds of value slots. */
		return -EOPNOTSUPP;
	}
	if (!katomic_fits(katomic_type(d->type), d->init))
		return -EOVERFLOW;
	return 0;
}

/* Give the undefined @c its kind and initial value. */
static int katomic_counter_setup(struct katomic_ctx *ctx,
				 struct katomic_counter *c,
				 const struct katomic_define *d, u8 sync)
{
	u8 applied;
	void *v;

	switch (sync) {
	case KATOMIC_SYNC_ATOMIC:
		/* A mapped cell: nothing but the value, in the type's width. */
		v = katomic_value(ctx, c);
		if (ctx->cells)
			memset(v, 0, KATOMIC_CELL);
		katomic_exec(v, katomic_type(d->type), KATOMIC_OP_STORE,
			     d->init, 0, &applied);
		break;
	case KATOMIC_SYNC_PERCPU:
		return percpu_counter_init(&c->lock.pcpu, d->init, ctx->gfp);
	case KATOMIC_SYNC_SPINLOCK:
		spin_lock_init(&c->lock.spin);
		fallthrough;
	case KATOMIC_SYNC_NONE:
		c->v.plain = d->init;
		break;
	case KATOMIC_SYNC_MUTEX:
		mutex_init(&c->lock.mutex);
		c->v.plain = d->init;
		break;
	}
	c->param = d->param;
	return 0;
}

/* Undo katomic_counter_setup() of a counter that no op can reach. */
static void katomic_counter_teardown(struct katomic_counter *c, u32 state)
{
	switch (KATOMIC_STATE_SYNC(state)) {
	case KATOMIC_SYNC_PERCPU:
		percpu_counter_destroy(&c->lock.pcpu);
		break;
	case KATOMIC_SYNC_MUTEX:
		mutex_destroy(&c->lock.mutex);
		break;
	}
	c->param = 0;
}

void katomic_counter_release(struct katomic_counter *c)
{
	if (c->state)
		katomic_counter_teardown(c, c->state);
}

int katomic_counter_define(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_counter *c = katomic_counter(ctx, d->id);
	u8 sync = d->sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_ATOMIC : d->sync;
	int ret;

	if (!c)
		return -EINVAL;
	ret = katomic_define_check(d, sync);
	if (ret)
		return ret;
	/* User space runs its own atomics on a mapped context's values. */
	if (ctx->mappable && sync != KATOMIC_SYNC_ATOMIC)
		return -EOPNOTSUPP;

	mutex_lock(&ctx->lock);
	if (c->state) {
		ret = -EEXIST;
	} else {
		ret = katomic_counter_setup(ctx, c, d, sync);
		if (!ret)
			/* Pairs with ops' acquire: the value before the type. */
			smp_store_release(&c->state, KATOMIC_STATE_DEFINED |
					  d->type << 8 | sync);
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

int katomic_counter_undefine(struct katomic_ctx *ctx,
			     struct katomic_define *d)
{
	struct katomic_counter *c = katomic_counter(ctx, d->id);
	int ret = 0;
	u32 state;

	if (!c || d->type || d->sync || d->flags || d->init || d->param ||
	    d->reserved)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	state = c->state;
	if (!state) {
		ret = -ENOENT;
	} else {
		WRITE_ONCE(c->state, 0);
		/*
		 * An op that saw the old definition finishes before the id
		 * can be defined again, so no op runs with a stale type or on
		 * a lock being torn down.  Ops on a MUTEX counter look it up
		 * again inside SRCU and run there: the SRCU grace period
		 * covers them.
		 */
		synchronize_rcu();
		if (KATOMIC_STATE_SYNC(state) == KATOMIC_SYNC_MUTEX)
			synchronize_srcu(&ctx->srcu);
		katomic_counter_teardown(c, state);
		/* An undefined cell reads 0, as a new one does. */
		if (ctx->cells)
			memset(katomic_value(ctx, c), 0, KATOMIC_CELL);
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

int katomic_counter_query(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_counter *c = katomic_counter(ctx, d->id);
	int ret = 0;
	u32 state;

	if (!c || d->flags || d->init || d->reserved)
		return -EINVAL;
	/* Under the lock, so that type, sync and param are one definition. */
	mutex_lock(&ctx->lock);
	state = c->state;
	if (!state) {
		ret = -ENOENT;
	} else {
		d->type = KATOMIC_STATE_TYPE(state);
		d->sync = KATOMIC_STATE_SYNC(state);
		d->param = c->param;
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

/* @c's kind for an op of @type, or -errno; called inside (S)RCU. */
static int katomic_counter_kind(struct katomic_counter *c, u8 type)
{
	/* Pairs with DEFINE's release: see the initial value and the lock. */
	u32 state = smp_load_acquire(&c->state);

	if (!state)
		return -ENOENT;
	if (KATOMIC_STATE_TYPE(state) != type)
		return -EINVAL;
	return KATOMIC_STATE_SYNC(state);
}

/*
 * Run @code on @c if it is still a MUTEX counter, in an SRCU read-side
 * section because the mutex sleeps; -EAGAIN if it has become another kind.
 */
static int katomic_counter_run_sleeping(struct katomic_ctx *ctx,
					struct katomic_counter *c,
					const struct katomic_type_info *t,
					u8 code, const struct katomic_op *op,
					u64 *res, u8 *applied)
{
	int idx, ret;

	idx = srcu_read_lock(&ctx->srcu);
	ret = katomic_counter_kind(c, op->type);
	if (ret == KATOMIC_SYNC_MUTEX)
		ret = katomic_run(ctx, c, t, KATOMIC_SYNC_MUTEX, code,
				  op->arg, op->arg2, res, applied);
	else if (ret >= 0)
		ret = -EAGAIN;
	srcu_read_unlock(&ctx->srcu, idx);
	return ret;
}

/*
 * Run a checked @code on @c as its kind says.  Every kind but MUTEX runs
 * inside an RCU read-side section, which UNDEFINE waits out; MUTEX leaves
 * it and looks the counter up again under SRCU.
 */
static int katomic_counter_run(struct katomic_ctx *ctx,
			       struct katomic_counter *c,
			       const struct katomic_type_info *t, u8 code,
			       const struct katomic_op *op, u64 *res,
			       u8 *applied)
{
	int sync, ret;

	do {
		rcu_read_lock();
		ret = katomic_counter_kind(c, op->type);
		sync = ret;
		if (sync >= 0 && sync != KATOMIC_SYNC_MUTEX)
			ret = katomic_run(ctx, c, t, sync, code, op->arg,
					  op->arg2, res, applied);
		rcu_read_unlock();
		if (sync != KATOMIC_SYNC_MUTEX)
			return ret;
		ret = katomic_counter_run_sleeping(ctx, c, t, code, op, res,
						   applied);
	} while (ret == -EAGAIN);
	return ret;
}

int katomic_counter_op(struct katomic_ctx *ctx, struct katomic_op *op,
		       bool writable)
{
	struct katomic_counter *c = katomic_counter(ctx, op->id);
	const struct katomic_type_info *t;
	u8 code, applied = 0;
	u64 res = 0;
	int ret;

	if (!c || op->flags || op->reserved || !katomic_type_valid(op->type) ||
	    op->op < 1 || op->op > KATOMIC_OP_LAST)
		return -EINVAL;
	code = array_index_nospec(op->op, ARRAY_SIZE(katomic_op_operands));
	if ((katomic_op_operands[code] < 1 && op->arg) ||
	    (katomic_op_operands[code] < 2 && op->arg2))
		return -EINVAL;
	t = katomic_type(op->type);
	if (!katomic_fits(t, op->arg) || !katomic_fits(t, op->arg2))
		return -EOVERFLOW;
	/* Every op but LOAD may change the counter. */
	if (!writable && code != KATOMIC_OP_LOAD)
		return -EBADF;

	ret = katomic_counter_run(ctx, c, t, code, op, &res, &applied);
	if (ret)
		return ret;
	op->result = res;
	op->applied = applied;
	op->error = 0;
	return 0;
}
