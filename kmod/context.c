// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: contexts, the sets of counters and value slots an fd addresses.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "katomic.h"

static void katomic_cells_free(struct katomic_ctx *ctx)
{
	size_t i;

	if (ctx->cells)
		vunmap(ctx->cells);
	for (i = 0; ctx->cell_pages && i < ctx->cells_size >> PAGE_SHIFT; i++)
		if (ctx->cell_pages[i])
			__free_page(ctx->cell_pages[i]);
	kvfree(ctx->cell_pages);
}

/*
 * A mapped context's cells: zeroed pages of their own, allocated with the
 * context's @gfp (charged to the creator's memory cgroup, as the rest of
 * the context is), vmap()ed for the kernel and handed to user space's
 * mappings by katomic_ctx_mmap().  Nothing but the cells, and zeros up to
 * the last page's end, is ever in them.
 */
static int katomic_cells_alloc(struct katomic_ctx *ctx, u32 nr_counters,
			       gfp_t gfp)
{
	size_t i, n;

	ctx->cells_size = PAGE_ALIGN((size_t)nr_counters * KATOMIC_CELL);
	n = ctx->cells_size >> PAGE_SHIFT;
	ctx->cell_pages = kvcalloc(n, sizeof(*ctx->cell_pages), gfp);
	if (!ctx->cell_pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ctx->cell_pages[i] = alloc_page(gfp | __GFP_ZERO);
		if (!ctx->cell_pages[i])
			goto err;
	}
	ctx->cells = vmap(ctx->cell_pages, n, VM_MAP, PAGE_KERNEL);
	if (ctx->cells)
		return 0;
err:
	katomic_cells_free(ctx);
	return -ENOMEM;
}

struct katomic_ctx *katomic_ctx_create(u32 nr_counters, u32 nr_slots,
				       u32 value_max, bool mappable, gfp_t gfp)
{
	struct katomic_ctx *ctx;
	u32 id;

	ctx = kzalloc(sizeof(*ctx), gfp);
	if (!ctx)
		return NULL;
	/*
	 * Counters are a multiple of the cache line in size, so the array
	 * (slab objects of such sizes, or vmalloc pages) keeps each on a
	 * line of its own.
	 */
	ctx->counters = kvcalloc(nr_counters, sizeof(*ctx->counters), gfp);
	if (!ctx->counters)
		goto err_free_ctx;
	ctx->slots = kvcalloc(nr_slots, sizeof(*ctx->slots), gfp);
	if (!ctx->slots)
		goto err_free_counters;
	if (mappable && nr_counters && katomic_cells_alloc(ctx, nr_counters, gfp))
		goto err_free_slots;
	for (id = 0; id < nr_slots; id++)
		mutex_init(&ctx->slots[id].lock);
	if (init_srcu_struct(&ctx->srcu))
		goto err_free_cells;
	ctx->mappable = mappable;
	ctx->nr_counters = nr_counters;
	ctx->nr_slots = nr_slots;
	ctx->value_max = value_max;
	ctx->gfp = gfp;
	mutex_init(&ctx->lock);
	return ctx;

err_free_cells:
	katomic_cells_free(ctx);
err_free_slots:
	kvfree(ctx->slots);
err_free_counters:
	kvfree(ctx->counters);
err_free_ctx:
	kfree(ctx);
	return NULL;
}

/*
 * No fd and no mapping refers to @ctx any more (a mapping holds its file):
 * no op runs and none can start.
 */
void katomic_ctx_destroy(struct katomic_ctx *ctx)
{
	u32 id;

	for (id = 0; id < ctx->nr_counters; id++)
		katomic_counter_release(&ctx->counters[id]);
	for (id = 0; id < ctx->nr_slots; id++) {
		katomic_slot_release(&ctx->slots[id]);
		mutex_destroy(&ctx->slots[id].lock);
	}
	kvfree(ctx->slots);
	cleanup_srcu_struct(&ctx->srcu);
	mutex_destroy(&ctx->lock);
	katomic_cells_free(ctx);
	kvfree(ctx->counters);
	kfree(ctx);
}
