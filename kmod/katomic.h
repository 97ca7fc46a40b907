/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic: internal declarations shared by the module's files.
 */
#ifndef _KATOMIC_H
#define _KATOMIC_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cache.h>
#include <linux/gfp.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/katomic.h>

/* Module parameters (main.c). */
extern unsigned int katomic_max_batch;

/*
 * A counter.  Each sits on its own cache line: an op touches this line and
 * nothing else that another CPU writes.  @state is 0 while the counter is
 * undefined, else KATOMIC_STATE_DEFINED | type << 8 | sync; it is written
 * under the context's lock and read locklessly (acquire) by ops, which run
 * inside an RCU read-side section so that UNDEFINE can wait them out.
 */
struct katomic_counter {
	union {
		atomic_t i32;
		atomic64_t i64;
		atomic_long_t ilong;
	} v;
	u32 state;
} ____cacheline_aligned_in_smp;

#define KATOMIC_STATE_DEFINED	BIT(31)
#define KATOMIC_STATE_TYPE(s)	(((s) >> 8) & 0xff)
#define KATOMIC_STATE_SYNC(s)	((s) & 0xff)

/* A context: the counters and value slots that one ioctl can address. */
struct katomic_ctx {
	struct katomic_counter *counters;
	u32 nr_counters;
	u32 nr_slots;
	u32 value_max;
	struct mutex lock;	/* serialises DEFINE and UNDEFINE */
};

struct katomic_ctx *katomic_ctx_create(u32 nr_counters, u32 nr_slots,
				       u32 value_max, gfp_t gfp);
void katomic_ctx_destroy(struct katomic_ctx *ctx);

/* counter.c: the ioctl handlers for counters. */
int katomic_counter_define(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_counter_undefine(struct katomic_ctx *ctx,
			     struct katomic_define *d);
int katomic_counter_query(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_counter_op(struct katomic_ctx *ctx, struct katomic_op *op,
		       bool writable);

#endif /* _KATOMIC_H */
