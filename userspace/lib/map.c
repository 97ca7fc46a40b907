// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Mapped counters (KATOMIC_CTX_MMAP): the context's cells in this
 * process, and the op family on them with C11 atomics
 * (katomic__cell_run), the same calls a twin's ATOMIC counters make.  The
 * module runs the kernel's atomics on the same cells, so the two are
 * atomic with respect to each other.  The typed calls are in typed.c.
 */
#include <sys/mman.h>

#include "internal.h"

int katomic_map(struct katomic *k)
{
	struct katomic_info info;
	unsigned int type;
	size_t len = 0;
	void *cells;
	int ret;

	if (k->cells)
		return 0;
	ret = katomic_info(k, &info);
	if (ret)
		return ret;
	ret = k->be->map(k, info.nr_counters, &cells, &len);
	if (ret)
		return ret;
	for (type = 1; type <= KATOMIC_TYPE_LAST; type++)
		katomic__width(type, info.ptr_bits, &k->map_w[type]);
	k->map_nr = info.nr_counters;
	k->map_len = len;
	k->cells = cells;
	return 0;
}

void katomic_unmap(struct katomic *k)
{
	if (k->cells && k->map_len)
		munmap(k->cells, k->map_len);
	k->cells = NULL;
	k->map_len = 0;
	k->map_nr = 0;
}

void *katomic_map_cell(struct katomic *k, __u32 id)
{
	if (!k->cells || id >= k->map_nr)
		return NULL;
	return k->cells + (size_t)id * KATOMIC_MAP_CELL;
}

int katomic_map_op(struct katomic *k, struct katomic_op *op)
{
	__u64 raw;
	int ret;

	if (!k->cells)
		return -ENODEV;
	ret = katomic__check_op(op, k->map_w[KATOMIC_TYPE_UINTPTR].bits);
	if (ret)
		return ret;
	ret = katomic__map_run(k, op, &raw);
	if (ret < 0)
		return ret;
	op->result = katomic__extend(&k->map_w[op->type], raw);
	op->applied = ret;
	op->error = 0;
	return ret;
}

int katomic_map_batch(struct katomic *k, struct katomic_op *ops,
		      unsigned int nr, unsigned int flags, unsigned int *done)
{
	unsigned int ran;
	int ret = katomic__check_batch(ops, nr, flags, 0);

	if (ret)
		return ret;
	if (!k->cells)
		return -ENODEV;
	katomic__run_ops_with(k, ops, nr, flags, &ran, katomic_map_op);
	if (done)
		*done = ran;
	return 0;
}
