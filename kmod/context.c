// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: contexts, the sets of counters and value slots an fd addresses.
 */
#include <linux/slab.h>

#include "katomic.h"

struct katomic_ctx *katomic_ctx_create(u32 nr_counters, u32 nr_slots,
				       u32 value_max, gfp_t gfp)
{
	struct katomic_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), gfp);
	if (!ctx)
		return NULL;
	/*
	 * Counters are a multiple of the cache line in size, so the array
	 * (slab objects of such sizes, or vmalloc pages) keeps each on a
	 * line of its own.
	 */
	ctx->counters = kvcalloc(nr_counters, sizeof(*ctx->counters), gfp);
	if (!ctx->counters) {
		kfree(ctx);
		return NULL;
	}
	ctx->nr_counters = nr_counters;
	ctx->nr_slots = nr_slots;
	ctx->value_max = value_max;
	mutex_init(&ctx->lock);
	return ctx;
}

void katomic_ctx_destroy(struct katomic_ctx *ctx)
{
	mutex_destroy(&ctx->lock);
	kvfree(ctx->counters);
	kfree(ctx);
}
