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
#include <linux/percpu_counter.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/katomic.h>

/* Module parameters (main.c). */
extern unsigned int katomic_max_batch;

/*
 * A counter.  Each sits on its own cache line: an op touches this line and
 * nothing else that another CPU writes.  @state is 0 while the counter is
 * undefined, else KATOMIC_STATE_DEFINED | type << 8 | sync; it is written
 * under the context's lock and read locklessly (acquire) by ops, which run
 * inside an RCU read-side section (SRCU for MUTEX, which sleeps) so that
 * UNDEFINE can wait them out.
 *
 * @v holds the value: as an atomic for ATOMIC, as a plain integer (in the
 * ABI's extended form) for NONE, SPINLOCK and MUTEX.  PERCPU keeps it in
 * @lock.pcpu.  Only the kind the counter is defined with uses @lock.
 */
struct katomic_counter {
	union {
		atomic_t i32;
		atomic64_t i64;
		atomic_long_t ilong;
		u64 plain;
	} v;
	u32 state;
	u32 param;		/* NONE: delay in ns between load and store */
	union {
		spinlock_t spin;		/* SPINLOCK: guards @v */
		struct mutex mutex;		/* MUTEX: guards @v */
		struct percpu_counter pcpu;	/* PERCPU: the value */
	} lock;
} ____cacheline_aligned_in_smp;

#define KATOMIC_STATE_DEFINED	BIT(31)
#define KATOMIC_STATE_TYPE(s)	(((s) >> 8) & 0xff)
#define KATOMIC_STATE_SYNC(s)	((s) & 0xff)

/*
 * A value: the bytes of one STORE, its tag, and the slot's version once it
 * was stored.  RCU slots publish immutable ones and LOADs hold a reference;
 * SEQLOCK and NONE slots keep one of value_max bytes in place and LOAD
 * copies it out.
 */
struct katomic_vbuf {
	struct rcu_head rcu;
	refcount_t ref;
	bool published;		/* RCU readers may see it: free after a GP */
	u32 tag;
	u32 len;
	u64 version;
	u8 data[];
};

/*
 * A value slot.  @state is 0 while undefined, else
 * KATOMIC_STATE_DEFINED | sync, as for counters.  Writers (STORE, SWAP,
 * CAS) hold @lock; readers take nothing (RCU, NONE) or retry (SEQLOCK).
 * Slot ops can sleep (user copies), so they run inside the context's SRCU
 * read-side section, which UNDEFINE waits out before it frees anything.
 */
struct katomic_slot {
	u32 state;
	u32 tag;		/* fixed by the first store; 0 until then */
	u64 version;		/* successful stores so far */
	struct mutex lock;
	union {
		struct katomic_vbuf __rcu *cur;	/* RCU: NULL while empty */
		struct {			/* SEQLOCK, NONE */
			struct katomic_vbuf *inplace;	/* len 0: empty */
			seqcount_mutex_t seq;		/* SEQLOCK */
		};
	};
};

/*
 * A mapped context's cells: counter id's value at byte id * KATOMIC_CELL
 * of pages user space can map, one cache line each.
 */
#define KATOMIC_CELL	64

/*
 * A context: the counters and value slots that one ioctl can address.
 * With KATOMIC_CTX_MMAP, @cells holds the counters' values (ATOMIC only),
 * in zeroed pages of their own (@cell_pages, @cells_size bytes, charged as
 * the context is), vmap()ed for the kernel, that user space maps and runs
 * its own atomics on; each counter's type and kind stay in @counters,
 * which user space never sees.
 */
struct katomic_ctx {
	struct katomic_counter *counters;
	struct katomic_slot *slots;
	void *cells;		/* NULL unless mapped (and nr_counters > 0) */
	struct page **cell_pages; /* the pages of @cells */
	size_t cells_size;	/* nr_counters * KATOMIC_CELL, page-aligned */
	bool mappable;		/* made with KATOMIC_CTX_MMAP */
	u32 nr_counters;
	u32 nr_slots;
	u32 value_max;
	gfp_t gfp;		/* for what DEFINE allocates */
	struct mutex lock;	/* serialises DEFINE, UNDEFINE and QUERY */
	struct srcu_struct srcu; /* ops on MUTEX counters and on slots */
};

struct katomic_ctx *katomic_ctx_create(u32 nr_counters, u32 nr_slots,
				       u32 value_max, bool mappable, gfp_t gfp);
void katomic_ctx_destroy(struct katomic_ctx *ctx);

/* counter.c: the ioctl handlers for counters. */
int katomic_counter_define(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_counter_undefine(struct katomic_ctx *ctx,
			     struct katomic_define *d);
int katomic_counter_query(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_counter_op(struct katomic_ctx *ctx, struct katomic_op *op,
		       bool writable);
/* Frees what a defined counter holds; for a context no op can reach. */
void katomic_counter_release(struct katomic_counter *c);

/* value.c: the ioctl handlers for value slots. */
int katomic_slot_define(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_slot_undefine(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_slot_query(struct katomic_ctx *ctx, struct katomic_define *d);
int katomic_value_op(struct katomic_ctx *ctx, struct katomic_value_op *vop,
		     bool writable);
/* Frees what a defined slot holds; for a context no op can reach. */
void katomic_slot_release(struct katomic_slot *s);

#endif /* _KATOMIC_H */
