// SPDX-License-Identifier: LGPL-2.1-or-later
/* The handle's calls: each builds the ABI struct and hands it to the backend. */
#include <errno.h>
#include <stdatomic.h>

#include "internal.h"

void katomic_close(struct katomic *k)
{
	if (!k)
		return;
	katomic_unmap(k);
	k->be->close(k);
}

int katomic_fd(const struct katomic *k)
{
	return k->fd;
}

int katomic_info(struct katomic *k, struct katomic_info *info)
{
	return k->be->info(k, info);
}

int katomic_nop(struct katomic *k)
{
	return k->be->nop(k);
}

int katomic_define_raw(struct katomic *k, const struct katomic_define *d)
{
	return k->be->define(k, d);
}

int katomic_undefine_raw(struct katomic *k, const struct katomic_define *d)
{
	return k->be->undefine(k, d);
}

int katomic_query_raw(struct katomic *k, struct katomic_define *d)
{
	return k->be->query(k, d);
}

int katomic_define(struct katomic *k, __u32 id, unsigned int type,
		   unsigned int sync, __u64 init)
{
	struct katomic_define d = {
		.id = id,
		.object = KATOMIC_OBJ_COUNTER,
		.type = type,
		.sync = sync,
		.init = init,
	};

	/* Out-of-range numbers must not alias valid ones in the __u8 fields. */
	if (type > UINT8_MAX || sync > UINT8_MAX)
		return -EINVAL;
	return k->be->define(k, &d);
}

int katomic_undefine(struct katomic *k, __u32 id)
{
	struct katomic_define d = { .id = id, .object = KATOMIC_OBJ_COUNTER };

	return k->be->undefine(k, &d);
}

int katomic_query(struct katomic *k, __u32 id, unsigned int *type,
		  unsigned int *sync)
{
	struct katomic_define d = { .id = id, .object = KATOMIC_OBJ_COUNTER };
	int ret = k->be->query(k, &d);

	if (ret)
		return ret;
	if (type)
		*type = d.type;
	if (sync)
		*sync = d.sync;
	return 0;
}

int katomic_op(struct katomic *k, struct katomic_op *op)
{
	return k->be->op(k, op);
}

/* Value slots ---------------------------------------------------------- */

int katomic_value_define(struct katomic *k, __u32 id, unsigned int sync)
{
	struct katomic_define d = {
		.id = id,
		.object = KATOMIC_OBJ_VALUE,
		.sync = sync,
	};

	/* Out-of-range numbers must not alias valid ones in the __u8 field. */
	if (sync > UINT8_MAX)
		return -EINVAL;
	return k->be->define(k, &d);
}

int katomic_value_undefine(struct katomic *k, __u32 id)
{
	struct katomic_define d = { .id = id, .object = KATOMIC_OBJ_VALUE };

	return k->be->undefine(k, &d);
}

int katomic_value_query(struct katomic *k, __u32 id, unsigned int *sync)
{
	struct katomic_define d = { .id = id, .object = KATOMIC_OBJ_VALUE };
	int ret = k->be->query(k, &d);

	if (!ret && sync)
		*sync = d.sync;
	return ret;
}

int katomic_value_op(struct katomic *k, struct katomic_value_op *vop)
{
	int ret = k->be->value(k, vop);

	if (ret)
		return ret;
	return vop->op == KATOMIC_VOP_CAS ? vop->applied : 0;
}

/* The typed value calls: the struct from C arguments, the results back. */
static __u64 user_ptr(const void *p)
{
	return (uintptr_t)p;
}

/* A capacity as the ABI carries it: no value is longer than UINT32_MAX. */
static __u32 capacity(size_t n)
{
	return n > UINT32_MAX ? UINT32_MAX : n;
}

int katomic_value_store(struct katomic *k, __u32 id, __u32 tag,
			const void *buf, size_t len, __u64 *version)
{
	struct katomic_value_op vop = {
		.id = id,
		.op = KATOMIC_VOP_STORE,
		.tag = tag,
		.len = len,
		.buf = user_ptr(buf),
	};
	int ret;

	if (len > UINT32_MAX)
		return -E2BIG;
	ret = katomic_value_op(k, &vop);
	if (!ret && version)
		*version = vop.version;
	return ret;
}

int katomic_value_load(struct katomic *k, __u32 id, void *out, size_t *len,
		       __u32 *tag, __u64 *version)
{
	struct katomic_value_op vop = {
		.id = id,
		.op = KATOMIC_VOP_LOAD,
		.out = user_ptr(out),
		.out_len = capacity(*len),
	};
	int ret = katomic_value_op(k, &vop);

	if (ret && ret != -ERANGE)
		return ret;
	*len = vop.out_len;
	if (ret)
		return ret;
	if (tag)
		*tag = vop.out_tag;
	if (version)
		*version = vop.version;
	return 0;
}

int katomic_value_swap(struct katomic *k, __u32 id, __u32 tag,
		       const void *buf, size_t len, void *out,
		       size_t *out_len, __u32 *out_tag, __u64 *version)
{
	struct katomic_value_op vop = {
		.id = id,
		.op = KATOMIC_VOP_SWAP,
		.tag = tag,
		.len = len,
		.buf = user_ptr(buf),
		.out = user_ptr(out),
		.out_len = capacity(*out_len),
	};
	int ret;

	if (len > UINT32_MAX)
		return -E2BIG;
	ret = katomic_value_op(k, &vop);
	if (ret && ret != -ERANGE)
		return ret;
	*out_len = vop.out_len;
	if (ret)
		return ret;
	if (out_tag)
		*out_tag = vop.out_tag;
	if (version)
		*version = vop.version;
	return 0;
}

int katomic_value_cas(struct katomic *k, __u32 id, __u32 old_tag,
		      const void *old_buf, size_t old_len, __u32 new_tag,
		      const void *new_buf, size_t new_len, __u64 *version)
{
	struct katomic_value_op vop = {
		.id = id,
		.op = KATOMIC_VOP_CAS,
		.tag = new_tag,
		.len = new_len,
		.buf = user_ptr(new_buf),
		.out = user_ptr(old_buf),
		.out_len = old_len,
		.out_tag = old_tag,
	};
	int ret;

	if (old_len > UINT32_MAX || new_len > UINT32_MAX)
		return -E2BIG;
	ret = katomic_value_op(k, &vop);
	if (ret >= 0 && version)
		*version = vop.version;
	return ret;
}

/* Private contexts and batches ----------------------------------------- */

int katomic_context_new(struct katomic *k, const struct katomic_context *c,
			struct katomic **out)
{
	return k->be->context_new(k, c, out);
}

int katomic__check_batch(const struct katomic_op *ops, unsigned int nr,
			 unsigned int flags, unsigned int max)
{
	if (!nr || flags & ~KATOMIC_BATCH_CONTINUE)
		return -EINVAL;
	if (max && nr > max)
		return -E2BIG;
	return ops ? 0 : -EFAULT;
}

void katomic__run_ops_with(struct katomic *k, struct katomic_op *ops,
			   unsigned int nr, unsigned int flags,
			   unsigned int *done,
			   int (*run)(struct katomic *k, struct katomic_op *op))
{
	unsigned int i;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = run(k, &ops[i]);
		if (ret >= 0)
			continue;
		ops[i].result = 0;
		ops[i].applied = 0;
		ops[i].error = ret;
		if (!(flags & KATOMIC_BATCH_CONTINUE)) {
			i++;
			break;
		}
	}
	*done = i;
}

void katomic__run_ops(struct katomic *k, struct katomic_op *ops,
		      unsigned int nr, unsigned int flags, unsigned int *done)
{
	katomic__run_ops_with(k, ops, nr, flags, done, k->be->op);
}

int katomic_batch(struct katomic *k, struct katomic_op *ops, unsigned int nr,
		  unsigned int flags, unsigned int *done)
{
	unsigned int ran = 0;
	int ret = k->be->batch(k, ops, nr, flags, &ran);

	if ((!ret || ret == -EFAULT) && done)
		*done = ran;
	return ret;
}

void katomic__ring_release(struct katomic *k)
{
	struct katomic__ring *r = atomic_load(&k->ring);

	if (r)
		k->ring_free(r);
}
