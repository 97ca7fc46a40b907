// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: typed counters and Go's op family over the kernel's atomic_t,
 * atomic64_t and atomic_long_t.
 *
 * The op family is data: KATOMIC_OP_TABLE and KATOMIC_TYPE_TABLE in the
 * uapi header are expanded here into the per-op and per-type facts, and one
 * op body is instantiated for each of the three backing stores.
 */
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/nospec.h>
#include <linux/rcupdate.h>

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

/* Run @op on @c as type @t; operands are already checked. */
static u64 katomic_exec(struct katomic_counter *c,
			const struct katomic_type_info *t, u8 op, u64 a, u64 b,
			u8 *applied)
{
	u64 raw;

	switch (t->backing) {
	case KATOMIC_BACK_32:
		raw = atomic_exec(&c->v.i32, op, (int)a, (int)b, t->is_signed,
				  applied);
		break;
	case KATOMIC_BACK_64:
		raw = atomic64_exec(&c->v.i64, op, (s64)a, (s64)b,
				    t->is_signed, applied);
		break;
	default:
		raw = atomic_long_exec(&c->v.ilong, op, (long)a, (long)b,
				       t->is_signed, applied);
		break;
	}
	return katomic_extend(t, raw);
}

static struct katomic_counter *katomic_counter(struct katomic_ctx *ctx, u32 id)
{
	if (id >= ctx->nr_counters)
		return NULL;
	return &ctx->counters[array_index_nospec(id, ctx->nr_counters)];
}

int katomic_counter_define(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_counter *c = katomic_counter(ctx, d->id);
	u8 sync = d->sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_ATOMIC : d->sync;
	const struct katomic_type_info *t;
	u8 applied;
	int ret = 0;

	if (!c || d->flags || d->reserved || !katomic_type_valid(d->type) ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	/* RCU and SEQLOCK are slot kinds; the other counter kinds come later. */
	if (sync != KATOMIC_SYNC_ATOMIC)
		return -EOPNOTSUPP;
	if (d->param)
		return -EINVAL;
	t = katomic_type(d->type);
	if (!katomic_fits(t, d->init))
		return -EOVERFLOW;

	mutex_lock(&ctx->lock);
	if (c->state) {
		ret = -EEXIST;
	} else {
		katomic_exec(c, t, KATOMIC_OP_STORE, d->init, 0, &applied);
		/* Pairs with the acquire in ops: the value before the type. */
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

	if (!c || d->type || d->sync || d->flags || d->init || d->param ||
	    d->reserved)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (!c->state) {
		ret = -ENOENT;
	} else {
		WRITE_ONCE(c->state, 0);
		/*
		 * An op that saw the old definition finishes before the id
		 * can be defined again, so no op runs with a stale type.
		 */
		synchronize_rcu();
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

int katomic_counter_query(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_counter *c = katomic_counter(ctx, d->id);
	u32 state;

	if (!c || d->flags || d->init || d->reserved)
		return -EINVAL;
	state = READ_ONCE(c->state);
	if (!state)
		return -ENOENT;
	d->type = KATOMIC_STATE_TYPE(state);
	d->sync = KATOMIC_STATE_SYNC(state);
	d->param = 0;
	return 0;
}

int katomic_counter_op(struct katomic_ctx *ctx, struct katomic_op *op,
		       bool writable)
{
	struct katomic_counter *c = katomic_counter(ctx, op->id);
	const struct katomic_type_info *t;
	u8 code, applied = 0;
	int ret = 0;
	u32 state;
	u64 res = 0;

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

	rcu_read_lock();
	/* Pairs with DEFINE's release: see the initial value. */
	state = smp_load_acquire(&c->state);
	if (!state)
		ret = -ENOENT;
	else if (KATOMIC_STATE_TYPE(state) != op->type)
		ret = -EINVAL;
	else
		res = katomic_exec(c, t, code, op->arg, op->arg2, &applied);
	rcu_read_unlock();
	if (ret)
		return ret;

	op->result = res;
	op->applied = applied;
	op->error = 0;
	return 0;
}
