// SPDX-License-Identifier: LGPL-2.1-or-later
/* The handle's calls: each builds the ABI struct and hands it to the backend. */
#include <errno.h>

#include "internal.h"

void katomic_close(struct katomic *k)
{
	if (k)
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
