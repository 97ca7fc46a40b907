// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: value slots, Go's atomic.Value for values of any size up to the
 * context's value_max.
 *
 * Go's rules are written once here: a nil value cannot be stored, the first
 * store fixes the type (our tag), LOAD of an empty slot is nil, CAS
 * compares (tag, length, bytes), every successful store counts a version.
 * The three sync kinds differ only in how a value is published and read:
 *
 *   RCU      immutable buffers published by pointer; LOAD takes a
 *            reference under rcu_read_lock() and copies to user space
 *            outside it, so it never blocks a writer and is never torn.
 *   SEQLOCK  one buffer written in place inside a seqcount write section;
 *            LOAD copies it out and retries if a writer came by.
 *   NONE     one buffer written in place with nothing to stop a reader:
 *            LOAD can return a mix of two values.  The study case.
 */
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "katomic.h"

static struct katomic_slot *katomic_slot(struct katomic_ctx *ctx, u32 id)
{
	if (id >= ctx->nr_slots)
		return NULL;
	return &ctx->slots[array_index_nospec(id, ctx->nr_slots)];
}

static struct katomic_vbuf *katomic_vbuf_alloc(u32 len)
{
	struct katomic_vbuf *v;

	/*
	 * Charged to whoever stores, whichever context holds it; at the
	 * cgroup's limit -ENOMEM, quietly, not the OOM killer.
	 */
	v = kvmalloc(struct_size(v, data, len),
		     GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!v)
		return NULL;
	refcount_set(&v->ref, 1);
	v->published = false;
	v->tag = 0;
	v->len = len;
	v->version = 0;
	return v;
}

static void katomic_vbuf_put(struct katomic_vbuf *v)
{
	if (!v || !refcount_dec_and_test(&v->ref))
		return;
	if (v->published)
		kvfree_rcu(v, rcu);
	else
		kvfree(v);
}

/* The value user space passes in @buf, @len bytes, copied once. */
static struct katomic_vbuf *katomic_vbuf_from_user(struct katomic_ctx *ctx,
						   u64 buf, u32 len)
{
	struct katomic_vbuf *v = katomic_vbuf_alloc(len);

	if (!v)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(v->data, u64_to_user_ptr(buf), len)) {
		katomic_vbuf_put(v);
		return ERR_PTR(-EFAULT);
	}
	return v;
}

/* Does the slot's value @cur (NULL: empty) equal (@tag, @v's bytes)? */
static bool katomic_vbuf_equal(const struct katomic_vbuf *cur,
			       const struct katomic_vbuf *v, u32 tag)
{
	if (!cur)
		return !tag;
	return cur->tag == tag && cur->len == v->len &&
	       !memcmp(cur->data, v->data, v->len);
}

/*
 * What a sync kind does.  @setup and @teardown run at DEFINE and after
 * UNDEFINE; @get returns a reference to a stable copy of the current
 * value, or NULL for an empty slot (or an ERR_PTR); @peek, @snapshot and
 * @publish run with the slot's lock held: the current value (NULL: empty),
 * a reference that outlives the next @publish, and the switch to @v, whose
 * reference @publish takes over.
 */
struct katomic_slot_kind {
	int (*setup)(struct katomic_ctx *ctx, struct katomic_slot *s);
	void (*teardown)(struct katomic_slot *s);
	struct katomic_vbuf *(*get)(struct katomic_ctx *ctx,
				    struct katomic_slot *s);
	struct katomic_vbuf *(*peek)(struct katomic_slot *s);
	struct katomic_vbuf *(*snapshot)(struct katomic_ctx *ctx,
					 struct katomic_slot *s);
	void (*publish)(struct katomic_slot *s, struct katomic_vbuf *v);
};

/* RCU ------------------------------------------------------------------ */

static int katomic_rcu_setup(struct katomic_ctx *ctx, struct katomic_slot *s)
{
	RCU_INIT_POINTER(s->cur, NULL);
	return 0;
}

static struct katomic_vbuf *katomic_rcu_peek(struct katomic_slot *s)
{
	return rcu_dereference_protected(s->cur, lockdep_is_held(&s->lock));
}

static void katomic_rcu_teardown(struct katomic_slot *s)
{
	katomic_vbuf_put(rcu_dereference_protected(s->cur, true));
	RCU_INIT_POINTER(s->cur, NULL);
}

static struct katomic_vbuf *katomic_rcu_get(struct katomic_ctx *ctx,
					    struct katomic_slot *s)
{
	struct katomic_vbuf *v;

	rcu_read_lock();
	/* A value whose last reference just went is being replaced. */
	do {
		v = rcu_dereference(s->cur);
	} while (v && !refcount_inc_not_zero(&v->ref));
	rcu_read_unlock();
	return v;
}

static struct katomic_vbuf *katomic_rcu_snapshot(struct katomic_ctx *ctx,
						 struct katomic_slot *s)
{
	struct katomic_vbuf *v = katomic_rcu_peek(s);

	refcount_inc(&v->ref);
	return v;
}

static void katomic_rcu_publish(struct katomic_slot *s, struct katomic_vbuf *v)
{
	v->published = true;
	katomic_vbuf_put(rcu_replace_pointer(s->cur, v,
					     lockdep_is_held(&s->lock)));
}

/* SEQLOCK and NONE: one buffer in place --------------------------------- */

static int katomic_inplace_setup(struct katomic_ctx *ctx,
				 struct katomic_slot *s)
{
	s->inplace = katomic_vbuf_alloc(ctx->value_max);
	if (!s->inplace)
		return -ENOMEM;
	s->inplace->len = 0;
	seqcount_mutex_init(&s->seq, &s->lock);
	return 0;
}

static void katomic_inplace_teardown(struct katomic_slot *s)
{
	katomic_vbuf_put(s->inplace);
	s->inplace = NULL;
}

static struct katomic_vbuf *katomic_inplace_peek(struct katomic_slot *s)
{
	return s->inplace->len ? s->inplace : NULL;
}

/* A private copy of @len bytes of @from's value, with its tag and version. */
static struct katomic_vbuf *katomic_inplace_copy(struct katomic_ctx *ctx,
						 const struct katomic_vbuf *from,
						 u32 len)
{
	struct katomic_vbuf *v = katomic_vbuf_alloc(len);

	if (!v)
		return ERR_PTR(-ENOMEM);
	v->tag = READ_ONCE(from->tag);
	v->version = READ_ONCE(from->version);
	/* NONE: a writer may be copying over these bytes right now. */
	data_race(memcpy(v->data, from->data, len));
	return v;
}

static struct katomic_vbuf *katomic_inplace_snapshot(struct katomic_ctx *ctx,
						     struct katomic_slot *s)
{
	return katomic_inplace_copy(ctx, s->inplace, s->inplace->len);
}

static struct katomic_vbuf *katomic_seqlock_get(struct katomic_ctx *ctx,
						struct katomic_slot *s)
{
	struct katomic_vbuf *v;
	unsigned int seq;
	u32 len;

	for (;;) {
		seq = read_seqcount_begin(&s->seq);
		len = READ_ONCE(s->inplace->len);
		if (!len) {
			v = NULL;
			if (!read_seqcount_retry(&s->seq, seq))
				return NULL;
			continue;
		}
		v = katomic_inplace_copy(ctx, s->inplace, len);
		if (IS_ERR(v) || !read_seqcount_retry(&s->seq, seq))
			return v;
		katomic_vbuf_put(v);
	}
}

static void katomic_seqlock_publish(struct katomic_slot *s,
				    struct katomic_vbuf *v)
{
	struct katomic_vbuf *to = s->inplace;

	write_seqcount_begin(&s->seq);
	to->tag = v->tag;
	to->version = v->version;
	memcpy(to->data, v->data, v->len);
	to->len = v->len;
	write_seqcount_end(&s->seq);
	katomic_vbuf_put(v);
}

static struct katomic_vbuf *katomic_none_get(struct katomic_ctx *ctx,
					     struct katomic_slot *s)
{
	/* Pairs with publish's release: the first value's tag before its len */
	u32 len = smp_load_acquire(&s->inplace->len);

	return len ? katomic_inplace_copy(ctx, s->inplace, len) : NULL;
}

static void katomic_none_publish(struct katomic_slot *s,
				 struct katomic_vbuf *v)
{
	struct katomic_vbuf *to = s->inplace;

	WRITE_ONCE(to->tag, v->tag);
	WRITE_ONCE(to->version, v->version);
	/* In place, under the eyes of readers: they may see it half done. */
	data_race(memcpy(to->data, v->data, v->len));
	/* Pairs with get's acquire: a first value's tag before its len. */
	smp_store_release(&to->len, v->len);
	katomic_vbuf_put(v);
}

static const struct katomic_slot_kind katomic_slot_kinds[] = {
	[KATOMIC_SYNC_RCU] = {
		.setup = katomic_rcu_setup,
		.teardown = katomic_rcu_teardown,
		.get = katomic_rcu_get,
		.peek = katomic_rcu_peek,
		.snapshot = katomic_rcu_snapshot,
		.publish = katomic_rcu_publish,
	},
	[KATOMIC_SYNC_SEQLOCK] = {
		.setup = katomic_inplace_setup,
		.teardown = katomic_inplace_teardown,
		.get = katomic_seqlock_get,
		.peek = katomic_inplace_peek,
		.snapshot = katomic_inplace_snapshot,
		.publish = katomic_seqlock_publish,
	},
	[KATOMIC_SYNC_NONE] = {
		.setup = katomic_inplace_setup,
		.teardown = katomic_inplace_teardown,
		.get = katomic_none_get,
		.peek = katomic_inplace_peek,
		.snapshot = katomic_inplace_snapshot,
		.publish = katomic_none_publish,
	},
};

/* The kind for @sync, or NULL if it is not a slot kind. */
static const struct katomic_slot_kind *katomic_slot_kind(u8 sync)
{
	const struct katomic_slot_kind *kind;

	if (sync >= ARRAY_SIZE(katomic_slot_kinds))
		return NULL;
	kind = &katomic_slot_kinds[array_index_nospec(sync,
					ARRAY_SIZE(katomic_slot_kinds))];
	return kind->setup ? kind : NULL;
}

/* DEFINE, UNDEFINE, QUERY ---------------------------------------------- */

int katomic_slot_define(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_slot *s = katomic_slot(ctx, d->id);
	u8 sync = d->sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_RCU : d->sync;
	const struct katomic_slot_kind *kind;
	int ret;

	if (!s || d->type || d->flags || d->reserved ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	kind = katomic_slot_kind(sync);
	if (!kind)
		return -EOPNOTSUPP;	/* a counter kind */
	if (d->init || d->param)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (s->state) {
		ret = -EEXIST;
	} else {
		s->tag = 0;
		s->version = 0;
		ret = kind->setup(ctx, s);
		if (!ret)
			/* Pairs with ops' acquire: the buffers before the kind. */
			smp_store_release(&s->state,
					  KATOMIC_STATE_DEFINED | sync);
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

void katomic_slot_release(struct katomic_slot *s)
{
	if (s->state)
		katomic_slot_kind(KATOMIC_STATE_SYNC(s->state))->teardown(s);
	s->state = 0;
}

int katomic_slot_undefine(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_slot *s = katomic_slot(ctx, d->id);
	int ret = 0;
	u32 state;

	if (!s || d->type || d->sync || d->flags || d->init || d->param ||
	    d->reserved)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	state = s->state;
	if (!state) {
		ret = -ENOENT;
	} else {
		WRITE_ONCE(s->state, 0);
		/* Every op that saw the definition has finished. */
		synchronize_srcu(&ctx->srcu);
		katomic_slot_kind(KATOMIC_STATE_SYNC(state))->teardown(s);
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

int katomic_slot_query(struct katomic_ctx *ctx, struct katomic_define *d)
{
	struct katomic_slot *s = katomic_slot(ctx, d->id);
	int ret = 0;

	if (!s || d->flags || d->init || d->reserved)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	if (!s->state) {
		ret = -ENOENT;
	} else {
		d->type = 0;
		d->sync = KATOMIC_STATE_SYNC(s->state);
		d->param = 0;
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

/* KATOMIC_IOC_VALUE ----------------------------------------------------- */

/* Copy @v (NULL: empty) out as LOAD and SWAP return it. */
static int katomic_value_out(struct katomic_value_op *vop,
			     const struct katomic_vbuf *v)
{
	vop->out_tag = v ? v->tag : 0;
	vop->out_len = v ? v->len : 0;
	if (v && copy_to_user(u64_to_user_ptr(vop->out), v->data, v->len))
		return -EFAULT;
	return 0;
}

static int katomic_value_load(struct katomic_ctx *ctx, struct katomic_slot *s,
			      const struct katomic_slot_kind *kind,
			      struct katomic_value_op *vop)
{
	struct katomic_vbuf *v = kind->get(ctx, s);
	int ret;

	if (IS_ERR(v))
		return PTR_ERR(v);
	if (v && v->len > vop->out_len) {
		vop->out_len = v->len;
		katomic_vbuf_put(v);
		return -ERANGE;
	}
	vop->version = v ? v->version : 0;
	ret = katomic_value_out(vop, v);
	katomic_vbuf_put(v);
	return ret;
}

/*
 * STORE, SWAP and CAS: @v is the new value (its reference is consumed),
 * @expect CAS's expected value (its bytes; the tag is vop->out_tag).
 * Go's rules are checked under the slot's lock, then the kind publishes.
 */
static int katomic_value_write(struct katomic_ctx *ctx,
			       struct katomic_slot *s,
			       const struct katomic_slot_kind *kind,
			       struct katomic_value_op *vop,
			       struct katomic_vbuf *v,
			       const struct katomic_vbuf *expect)
{
	struct katomic_vbuf *cur, *old = NULL;
	int ret = 0;

	mutex_lock(&s->lock);
	cur = kind->peek(s);
	if (s->tag && vop->tag != s->tag) {
		ret = -EINVAL;		/* Go: inconsistently typed value */
	} else if (vop->op == KATOMIC_VOP_SWAP && cur &&
		   cur->len > vop->out_len) {
		vop->out_len = cur->len;
		ret = -ERANGE;
	} else if (vop->op == KATOMIC_VOP_CAS &&
		   !katomic_vbuf_equal(cur, expect, vop->out_tag)) {
		vop->applied = 0;
		vop->version = s->version;
		goto unlock;
	} else if (vop->op == KATOMIC_VOP_SWAP && cur) {
		old = kind->snapshot(ctx, s);
		if (IS_ERR(old))
			ret = PTR_ERR(old);
	}
	if (ret)
		goto unlock;

	s->tag = vop->tag;
	v->tag = vop->tag;
	v->version = ++s->version;
	kind->publish(s, v);
	v = NULL;
	vop->applied = vop->op == KATOMIC_VOP_CAS;
	vop->version = s->version;
unlock:
	mutex_unlock(&s->lock);
	katomic_vbuf_put(v);
	if (ret || vop->op != KATOMIC_VOP_SWAP)
		return ret;
	/* The swap is done; if the old value cannot be written, it stands. */
	ret = katomic_value_out(vop, old);
	katomic_vbuf_put(old);
	return ret;
}

/* Fields each op must leave 0 (spec: "must be 0"). */
static bool katomic_value_fields_ok(const struct katomic_value_op *vop)
{
	if (vop->flags || vop->reserved0 || vop->reserved)
		return false;
	switch (vop->op) {
	case KATOMIC_VOP_LOAD:
		return !vop->tag && !vop->len && !vop->buf;
	case KATOMIC_VOP_STORE:
		return !vop->out && !vop->out_len;
	case KATOMIC_VOP_SWAP:
	case KATOMIC_VOP_CAS:
		return true;
	}
	return false;	/* unknown op */
}

static int katomic_value_run(struct katomic_ctx *ctx, struct katomic_slot *s,
			     const struct katomic_slot_kind *kind,
			     struct katomic_value_op *vop)
{
	struct katomic_vbuf *v, *expect = NULL;
	int ret;

	if (vop->op == KATOMIC_VOP_LOAD)
		return katomic_value_load(ctx, s, kind, vop);
	/* The new value, as STORE takes it. */
	if (!vop->tag || !vop->len)
		return -EINVAL;		/* Go: Store(nil) */
	if (vop->len > ctx->value_max)
		return -E2BIG;
	if (vop->op == KATOMIC_VOP_CAS) {
		if (vop->out_len > ctx->value_max)
			return -E2BIG;
		if (!vop->out_tag != !vop->out_len)
			return -EINVAL;	/* empty is tag 0 and length 0 */
		expect = katomic_vbuf_from_user(ctx, vop->out, vop->out_len);
		if (IS_ERR(expect))
			return PTR_ERR(expect);
	}
	v = katomic_vbuf_from_user(ctx, vop->buf, vop->len);
	if (IS_ERR(v)) {
		ret = PTR_ERR(v);
	} else {
		/* CAS leaves out_len and out_tag as they were given. */
		ret = katomic_value_write(ctx, s, kind, vop, v, expect);
	}
	katomic_vbuf_put(expect);
	return ret;
}

int katomic_value_op(struct katomic_ctx *ctx, struct katomic_value_op *vop,
		     bool writable)
{
	struct katomic_slot *s = katomic_slot(ctx, vop->id);
	u32 state;
	int idx, ret;

	if (!s || !katomic_value_fields_ok(vop))
		return -EINVAL;
	/* Every op but LOAD may change the slot. */
	if (!writable && vop->op != KATOMIC_VOP_LOAD)
		return -EBADF;

	idx = srcu_read_lock(&ctx->srcu);
	/* Pairs with DEFINE's release: see the kind's buffers. */
	state = smp_load_acquire(&s->state);
	if (state)
		ret = katomic_value_run(ctx, s,
					katomic_slot_kind(KATOMIC_STATE_SYNC(state)),
					vop);
	else
		ret = -ENOENT;
	srcu_read_unlock(&ctx->srcu, idx);
	return ret;
}
