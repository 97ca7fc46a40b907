// SPDX-License-Identifier: GPL-2.0
/*
 * katomic mapped counters (KATOMIC_CTX_MMAP, issue 9): kernel and user
 * atomics on the same memory.
 *
 *  - layout, every type: counter id's value is at byte id * 64 of the
 *    mapping, in the type's width (atomic_t: 4 bytes; atomic64_t,
 *    atomic_long_t: 8); DEFINE writes init there; a store through the
 *    mapping is what the next ioctl LOAD returns and an ioctl STORE what
 *    the mapping reads next; every op through the ioctl is seen by the
 *    mapping and the other way round; UNDEFINE leaves the cell 0;
 *  - mixed, every type: threads add 1 and CAS-increment, half through
 *    KATOMIC_IOC_OP, half with their own atomics on the mapping, on one
 *    counter: the total is exact (wrapping from near the maximum);
 *  - refused: counter kinds other than ATOMIC (-EOPNOTSUPP), offsets other
 *    than 0, lengths beyond nr_counters * 64 rounded up to a page,
 *    MAP_PRIVATE (-EINVAL: its copy-on-write pages would leave the
 *    kernel's counters behind), the global context and a context without
 *    the flag (-ENODEV); mremap cannot grow a mapping past the cells;
 *  - the mapping shows nothing but the cells: the rest of the page reads
 *    0 and stays so whatever the kernel does; what user space writes there
 *    changes no counter; value slots of a mapped context are unaffected;
 *  - lifetime: munmap and close in either order; a mapping outliving its
 *    descriptor (and a second mapping of the same context) keeps working;
 *    fork shares it: a child's adds through the mapping are the parent's;
 *    a mapping alone keeps the module in use (its refcnt).  That unload is
 *    refused while mapped and works after is katomic_module_test's.
 *
 * Needs KATOMIC_FEAT_MMAP: this tree's module claims it, so a module
 * without it fails here rather than skipping.
 * Knob: KT_MMAP_OPS (adds per thread per type, default 20000).
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_ctx.h"

#define CELL		64
#define MM_N		8	/* counters of the contexts tested */
#define MM_THREADS	4

/* ---- the cells, with the test's own atomics -------------------------- */

static void *cell_of(void *map, __u32 id)
{
	return (char *)map + (size_t)id * CELL;
}

/* The raw bits of a cell at bits' width, zero-extended. */
static __u64 cell_load(void *p, unsigned int bits)
{
	if (bits == 32)
		return __atomic_load_n((__u32 *)p, __ATOMIC_SEQ_CST);
	return __atomic_load_n((__u64 *)p, __ATOMIC_SEQ_CST);
}

static void cell_store(void *p, unsigned int bits, __u64 v)
{
	if (bits == 32)
		__atomic_store_n((__u32 *)p, (__u32)v, __ATOMIC_SEQ_CST);
	else
		__atomic_store_n((__u64 *)p, v, __ATOMIC_SEQ_CST);
}

/* Adds d; returns the new raw bits. */
static __u64 cell_add(void *p, unsigned int bits, __u64 d)
{
	if (bits == 32)
		return __atomic_add_fetch((__u32 *)p, (__u32)d,
					  __ATOMIC_SEQ_CST);
	return __atomic_add_fetch((__u64 *)p, d, __ATOMIC_SEQ_CST);
}

/* CAS(*old -> new): true if it swapped, else *old is the value seen. */
static bool cell_cas(void *p, unsigned int bits, __u64 *old, __u64 new)
{
	__u32 o32 = (__u32)*old;
	bool ok;

	if (bits == 64)
		return __atomic_compare_exchange_n((__u64 *)p, old, new, false,
						   __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	ok = __atomic_compare_exchange_n((__u32 *)p, &o32, (__u32)new, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	*old = o32;
	return ok;
}

/* The cell as the ABI encodes the type's values. */
static __u64 cell_value(void *p, const struct kt_type *t)
{
	return kt_canon(t, cell_load(p, t->bits));
}

static bool page_zero(const void *p, size_t from, size_t to)
{
	const unsigned char *b = p;
	size_t i;

	for (i = from; i < to; i++)
		if (b[i])
			return false;
	return true;
}

/* A mapped context of nr counters (and slots): its fd, or -errno. */
static int mm_ctx(int fd, __u32 nr, __u32 slots)
{
	return kt_ctx_new(fd, nr, slots, slots ? 64 : 0,
			  KATOMIC_CTX_MMAP | KATOMIC_CTX_CLOEXEC);
}

/* mmap's result as a pointer or NULL with errno set. */
static void *mm_map(int ctx, size_t len, int prot, int flags, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, ctx, off);

	return p == MAP_FAILED ? NULL : p;
}

static void *mm_map_rw(int ctx, size_t len)
{
	return mm_map(ctx, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
}

/*
 * A mapped context of MM_N counters and a mapping of its len bytes; its
 * ASSERTs end the test.
 */
static void mm_mapped(struct __test_metadata *_metadata, int fd, size_t len,
		      int *ctx, void **p)
{
	*ctx = mm_ctx(fd, MM_N, 0);
	ASSERT_LE(0, *ctx) TH_LOG("CONTEXT_NEW(MMAP): %s", strerror(-*ctx));
	*p = mm_map_rw(*ctx, len);
	ASSERT_NE(NULL, *p) TH_LOG("mmap: %s", strerror(errno));
}

/* ---- the device-wide checks ------------------------------------------ */

FIXTURE(mm) {
	int fd;
	struct katomic_info info;
	size_t pg;
};

FIXTURE_SETUP(mm)
{
	kt_setup_dev(_metadata, &self->fd, &self->info);
	self->pg = sysconf(_SC_PAGESIZE);
	ASSERT_TRUE(self->info.features & KATOMIC_FEAT_MMAP)
		TH_LOG("this module does not claim KATOMIC_FEAT_MMAP");
}

FIXTURE_TEARDOWN(mm)
{
	close(self->fd);
}

/* Only ATOMIC counters in a mapped context; slots as anywhere else. */
TEST_F(mm, kinds)
{
	struct katomic_define q;
	const struct kt_sync *s;
	int ctx, r;

	ctx = mm_ctx(self->fd, MM_N, 2);
	ASSERT_LE(0, ctx);
	for (s = kt_syncs; s < kt_syncs + KT_NR_SYNCS; s++) {
		__u8 type = s->sync == KATOMIC_SYNC_PERCPU ? KATOMIC_TYPE_INT64
							   : KATOMIC_TYPE_INT32;

		r = kt_define(ctx, 0, type, s->sync, 1);
		if (s->sync == KATOMIC_SYNC_DEFAULT ||
		    s->sync == KATOMIC_SYNC_ATOMIC) {
			EXPECT_EQ(0, r) TH_LOG("%s", s->name);
			ASSERT_EQ(0, kt_query(ctx, 0, &q));
			EXPECT_EQ(KATOMIC_SYNC_ATOMIC, q.sync);
			EXPECT_EQ(0, kt_undefine(ctx, 0));
		} else {
			EXPECT_EQ(-EOPNOTSUPP, r) TH_LOG("%s", s->name);
			EXPECT_EQ(-ENOENT, kt_query(ctx, 0, &q));
		}
	}
	/* the other checks still come first */
	EXPECT_EQ(-EINVAL, kt_define(ctx, MM_N, KATOMIC_TYPE_INT32,
				     KATOMIC_SYNC_NONE, 0));
	EXPECT_EQ(-EINVAL, kt_define_param(ctx, 0, KATOMIC_TYPE_INT32,
					   KATOMIC_SYNC_ATOMIC, 0, 1));
	EXPECT_EQ(-EOVERFLOW, kt_define(ctx, 0, KATOMIC_TYPE_INT32,
					KATOMIC_SYNC_ATOMIC, 1ULL << 40));

	/* value slots of a mapped context: unaffected */
	if (self->info.features & KATOMIC_FEAT_VALUES) {
		struct katomic_define d = {
			.id = 1, .object = KATOMIC_OBJ_VALUE,
		};
		struct katomic_value_op v = {
			.id = 1, .op = KATOMIC_VOP_STORE, .tag = 7, .len = 3,
		};
		char buf[8] = "abc", out[8] = { 0 };

		ASSERT_EQ(0, kt_ioctl(ctx, KATOMIC_IOC_DEFINE, &d));
		v.buf = (uintptr_t)buf;
		ASSERT_EQ(0, kt_ioctl(ctx, KATOMIC_IOC_VALUE, &v));
		memset(&v, 0, sizeof(v));
		v.id = 1;
		v.op = KATOMIC_VOP_LOAD;
		v.out = (uintptr_t)out;
		v.out_len = sizeof(out);
		ASSERT_EQ(0, kt_ioctl(ctx, KATOMIC_IOC_VALUE, &v));
		EXPECT_EQ(3, v.out_len);
		EXPECT_EQ(7, v.out_tag);
		EXPECT_EQ(0, memcmp(out, "abc", 3));
	}
	close(ctx);
}

/* What mmap refuses, with the spec's errnos. */
TEST_F(mm, refused)
{
	size_t pg = self->pg, one = MM_N * CELL;
	__u32 two_pages = pg / CELL + 1;	/* 2 pages of cells */
	void *p;
	int ctx, plain;

	/* the global context, and a context without the flag: -ENODEV */
	errno = 0;
	EXPECT_EQ(NULL, mm_map_rw(self->fd, pg));
	EXPECT_EQ(ENODEV, errno);
	plain = kt_ctx_new(self->fd, MM_N, 0, 0, 0);
	ASSERT_LE(0, plain);
	errno = 0;
	EXPECT_EQ(NULL, mm_map_rw(plain, one));
	EXPECT_EQ(ENODEV, errno);
	close(plain);

	ctx = mm_ctx(self->fd, MM_N, 0);
	ASSERT_LE(0, ctx);
	/* beyond a page: -EINVAL; the cells' size and a page are fine */
	errno = 0;
	EXPECT_EQ(NULL, mm_map_rw(ctx, 2 * pg));
	EXPECT_EQ(EINVAL, errno);
	p = mm_map_rw(ctx, one);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, munmap(p, one));
	p = mm_map_rw(ctx, pg);
	ASSERT_NE(NULL, p);
	/* mremap cannot grow it past the cells (VM_DONTEXPAND) */
	EXPECT_EQ(MAP_FAILED, mremap(p, pg, 2 * pg, MREMAP_MAYMOVE));
	EXPECT_EQ(0, munmap(p, pg));
	/* an offset: -EINVAL */
	errno = 0;
	EXPECT_EQ(NULL, mm_map(ctx, pg, PROT_READ | PROT_WRITE, MAP_SHARED,
			       pg));
	EXPECT_EQ(EINVAL, errno);
	/* private: -EINVAL, readable or writable */
	errno = 0;
	EXPECT_EQ(NULL, mm_map(ctx, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			       0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, mm_map(ctx, pg, PROT_READ, MAP_PRIVATE, 0));
	EXPECT_EQ(EINVAL, errno);
	/* read-only and shared: a view */
	ASSERT_EQ(0, kt_define(ctx, 1, KATOMIC_TYPE_UINT64, 0, 42));
	p = mm_map(ctx, one, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(42, cell_load(cell_of(p, 1), 64));
	EXPECT_EQ(0, munmap(p, one));
	close(ctx);

	/* more than a page of cells: two pages, and an offset within them */
	ctx = mm_ctx(self->fd, two_pages, 0);
	ASSERT_LE(0, ctx);
	p = mm_map_rw(ctx, 2 * pg);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, kt_define(ctx, two_pages - 1, KATOMIC_TYPE_INT32, 0, -5));
	EXPECT_EQ((__u32)-5, cell_load(cell_of(p, two_pages - 1), 32));
	EXPECT_EQ(0, munmap(p, 2 * pg));
	errno = 0;
	EXPECT_EQ(NULL, mm_map_rw(ctx, 3 * pg));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, mm_map(ctx, pg, PROT_READ | PROT_WRITE, MAP_SHARED,
			       pg));
	EXPECT_EQ(EINVAL, errno);
	close(ctx);

	/* a mapped context of no counters has nothing to map */
	ctx = mm_ctx(self->fd, 0, 0);
	ASSERT_LE(0, ctx);
	errno = 0;
	EXPECT_EQ(NULL, mm_map_rw(ctx, pg));
	EXPECT_EQ(EINVAL, errno);
	close(ctx);
}

/*
 * Nothing but the cells: the rest of the page is 0 and stays 0 through
 * every kind of kernel op; bytes written there change no counter.
 */
TEST_F(mm, only_cells)
{
	size_t pg = self->pg, end = MM_N * CELL, i;
	unsigned char *p;
	__u64 v;
	__u32 id;
	int ctx;

	ASSERT_GT(pg, end);
	ctx = mm_ctx(self->fd, MM_N, 2);
	ASSERT_LE(0, ctx);
	p = mm_map_rw(ctx, pg);
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(page_zero(p, 0, pg));
	for (id = 0; id < MM_N; id++) {
		ASSERT_EQ(0, kt_define(ctx, id, KATOMIC_TYPE_UINT64, 0, ~0ULL));
		ASSERT_EQ(0, kt_do(ctx, id, KATOMIC_TYPE_UINT64, KATOMIC_OP_ADD,
				   id, 0, NULL, NULL));
	}
	EXPECT_TRUE(page_zero(p, end, pg));
	/* each cell holds its value in its first 8 bytes, and nothing else */
	for (id = 0; id < MM_N; id++) {
		EXPECT_EQ(id - 1ULL, cell_load(cell_of(p, id), 64));
		EXPECT_TRUE(page_zero(p, id * CELL + 8, (id + 1) * CELL));
	}
	/* scribbling beyond the cells changes no counter */
	for (i = end; i < pg; i++)
		p[i] = 0xa5;
	for (id = 0; id < MM_N; id++) {
		ASSERT_EQ(0, kt_load(ctx, id, KATOMIC_TYPE_UINT64, &v));
		EXPECT_EQ(id - 1ULL, v);
	}
	EXPECT_EQ(0, munmap(p, pg));
	close(ctx);
}

/*
 * The ops the mixed test runs from both sides, per type: a worker thread
 * adds 1 and CAS-increments in turn, through the ioctl or the mapping.
 */
struct mm_worker {
	struct kt_thread th;
	int ctx;
	void *cell;
	const struct kt_type *t;
	bool mapped;
	unsigned long n;	/* increments: n/2 adds, the rest CASes */
	unsigned long retries;
	struct kt_record rec;
} __attribute__((aligned(64)));

static void *mm_worker_main(void *arg)
{
	struct mm_worker *w = arg;
	const struct kt_type *t = w->t;
	unsigned long i;
	__u64 old, seen;
	__u8 applied;
	int r;

	if (!kt_thread_go(&w->th))
		return NULL;
	for (i = 0; i < w->n; i++) {
		if (i % 2 == 0) {
			if (w->mapped) {
				cell_add(w->cell, t->bits, 1);
				continue;
			}
			r = kt_do(w->ctx, 0, t->type, KATOMIC_OP_ADD, 1, 0,
				  NULL, NULL);
			if (r)
				kt_record_error(&w->rec, "add", r);
			continue;
		}
		/* CAS(old, old + 1) until it applies */
		if (w->mapped) {
			old = cell_load(w->cell, t->bits);
			while (!cell_cas(w->cell, t->bits, &old, old + 1))
				w->retries++;
			continue;
		}
		r = kt_load(w->ctx, 0, t->type, &old);
		for (; !r; old = seen, w->retries++) {
			r = kt_do(w->ctx, 0, t->type, KATOMIC_OP_CAS, old,
				  kt_canon(t, old + 1), &seen, &applied);
			if (!r && applied)
				break;
		}
		if (r)
			kt_record_error(&w->rec, "cas", r);
	}
	return NULL;
}

/* ---- per type ------------------------------------------------------- */

FIXTURE(mm_type) {
	int fd, ctx;
	struct katomic_info info;
	struct kt_type t;
	void *map;
	size_t len;
};

#define KT_TYPE_FIXTURE mm_type
KT_TYPE_VARIANTS

FIXTURE_SETUP(mm_type)
{
	kt_setup_type(_metadata, &self->fd, &self->info, &self->t,
		      &variant->t);
	ASSERT_TRUE(self->info.features & KATOMIC_FEAT_MMAP)
		TH_LOG("this module does not claim KATOMIC_FEAT_MMAP");
	self->len = MM_N * CELL;
	mm_mapped(_metadata, self->fd, self->len, &self->ctx, &self->map);
}

FIXTURE_TEARDOWN(mm_type)
{
	if (self->map)
		munmap(self->map, self->len);
	close(self->ctx);
	close(self->fd);
}

/*
 * Layout and both directions: DEFINE's init in the cell, user stores seen
 * by ioctl LOAD and ioctl stores by the mapping, every op of the table
 * through the ioctl seen in the cell, UNDEFINE leaves 0.
 */
TEST_F(mm_type, both_ways)
{
	const struct kt_type *t = &self->t;
	void *c = cell_of(self->map, 3);
	const struct kt_opdesc *d;
	__u64 v, vals[4], res;
	unsigned int i;
	__u8 applied;

	vals[0] = kt_max(t);
	vals[1] = kt_min(t);
	vals[2] = kt_canon(t, KT_V1);
	vals[3] = kt_canon(t, KT_ONESTWOS);
	ASSERT_EQ(0, kt_define(self->ctx, 3, t->type, 0, vals[0]));
	EXPECT_EQ(vals[0], cell_value(c, t));
	/* a 32-bit value is the cell's first 4 bytes, the rest 0 */
	EXPECT_TRUE(page_zero(c, t->bits / 8, CELL));
	for (i = 0; i < 4; i++) {
		cell_store(c, t->bits, vals[i]);
		ASSERT_EQ(0, kt_load(self->ctx, 3, t->type, &v));
		EXPECT_EQ(vals[i], v) TH_LOG("user store %u", i);
		ASSERT_EQ(0, kt_store(self->ctx, 3, t->type, vals[3 - i]));
		EXPECT_EQ(vals[3 - i], cell_value(c, t))
			TH_LOG("ioctl store %u", i);
	}
	/* every op through the ioctl, on what the mapping stored */
	for (d = kt_ops; d < kt_ops + KT_NR_OPS; d++) {
		__u64 a = d->operands ? vals[2] : 0;
		__u64 b = d->operands > 1 ? vals[1] : 0;
		struct kt_expect e;

		if (d->op == KATOMIC_OP_CAS)
			a = vals[3];	/* one that applies */
		cell_store(c, t->bits, vals[3]);
		e = kt_model(t, d->op, vals[3], a, b);
		ASSERT_EQ(0, kt_do(self->ctx, 3, t->type, d->op, a, b, &res,
				   &applied)) TH_LOG("%s", d->name);
		EXPECT_EQ(e.result, res) TH_LOG("%s", d->name);
		EXPECT_EQ(e.applied, applied) TH_LOG("%s", d->name);
		EXPECT_EQ(e.value, cell_value(c, t)) TH_LOG("%s", d->name);
	}
	/* ADD's delta through the mapping, the result through the ioctl */
	cell_store(c, t->bits, kt_max(t));
	cell_add(c, t->bits, 1);
	ASSERT_EQ(0, kt_load(self->ctx, 3, t->type, &v));
	EXPECT_EQ(kt_canon(t, kt_max(t) + 1), v);

	/* UNDEFINE: 0; a user write to an undefined cell is overwritten */
	ASSERT_EQ(0, kt_undefine(self->ctx, 3));
	EXPECT_TRUE(page_zero(c, 0, CELL));
	cell_store(c, 64, ~0ULL);
	ASSERT_EQ(0, kt_define(self->ctx, 3, t->type, 0, 5));
	EXPECT_EQ(5, cell_load(c, 64));
	EXPECT_TRUE(page_zero(c, 8, CELL));
	/* the other cells were never touched */
	EXPECT_TRUE(page_zero(self->map, 0, 3 * CELL));
	EXPECT_TRUE(page_zero(self->map, 4 * CELL, self->len));
}

/*
 * Half the threads through KATOMIC_IOC_OP, half on the mapping, adding 1
 * and CAS-incrementing one counter from just below the type's maximum:
 * it ends at start + T*N exactly.
 */
TEST_F_TIMEOUT(mm_type, mixed, 120)
{
	unsigned long n = kt_env_ulong("KT_MMAP_OPS", 20000, 1, 100000000);
	struct mm_worker w[MM_THREADS];
	const struct kt_type *t = &self->t;
	__u64 start = kt_canon(t, kt_max(t) - 1000);
	unsigned long retries = 0;
	struct kt_crew crew;
	unsigned int i;

	ASSERT_EQ(0, kt_define(self->ctx, 0, t->type, 0, start));
	memset(w, 0, sizeof(w));
	for (i = 0; i < MM_THREADS; i++) {
		w[i].ctx = self->ctx;
		w[i].cell = cell_of(self->map, 0);
		w[i].t = t;
		w[i].mapped = i % 2;
		w[i].n = n;
	}
	ASSERT_EQ(0, kt_crew_start(&crew, MM_THREADS, mm_worker_main, w,
				   sizeof(w[0])));
	kt_crew_join(&crew);
	for (i = 0; i < MM_THREADS; i++) {
		kt_record_check(_metadata, i, &w[i].rec);
		retries += w[i].retries;
	}
	kt_expect_counted(_metadata, self->ctx, 0, t, start, MM_THREADS * n,
			  "mixed ioctl and mapped increments of");
	EXPECT_EQ(kt_canon(t, start + MM_THREADS * n),
		  cell_value(cell_of(self->map, 0), t));
	TH_LOG("%s: %lu increments, %lu CAS retries", t->name,
	       MM_THREADS * n, retries);
}

/* ---- lifetime -------------------------------------------------------- */

/* munmap, then close: the context and its counters stay as they were. */
TEST_F(mm, unmap_then_close)
{
	size_t len = MM_N * CELL;
	void *p, *q;
	__u64 v;
	int ctx;

	mm_mapped(_metadata, self->fd, len, &ctx, &p);
	ASSERT_EQ(0, kt_define(ctx, 2, KATOMIC_TYPE_INT64, 0, 10));
	cell_add(cell_of(p, 2), 64, 5);
	EXPECT_EQ(0, munmap(p, len));
	ASSERT_EQ(0, kt_load(ctx, 2, KATOMIC_TYPE_INT64, &v));
	EXPECT_EQ(15, v);
	/* mapped again: the same cells */
	q = mm_map_rw(ctx, len);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(15, cell_load(cell_of(q, 2), 64));
	EXPECT_EQ(0, munmap(q, len));
	EXPECT_EQ(0, close(ctx));
}

/*
 * close, then use, then munmap: the mapping keeps the context; a second
 * mapping of it too, after the first is gone.
 */
TEST_F(mm, outlives_fd)
{
	size_t len = MM_N * CELL;
	void *p, *q;
	int ctx;

	mm_mapped(_metadata, self->fd, len, &ctx, &p);
	q = mm_map_rw(ctx, len);
	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, kt_define(ctx, 0, KATOMIC_TYPE_UINT32, 0, 1));
	EXPECT_EQ(0, close(ctx));
	/* no descriptor left: the cells are still the counter's */
	EXPECT_EQ(2, cell_add(cell_of(p, 0), 32, 1));
	EXPECT_EQ(3, cell_add(cell_of(q, 0), 32, 1));
	EXPECT_EQ(0, munmap(p, len));
	EXPECT_EQ(4, cell_add(cell_of(q, 0), 32, 1));
	EXPECT_EQ(0, munmap(q, len));
}

/*
 * A mapping alone keeps the context's file, and so the module, in use:
 * the reference goes with the last munmap, not with the close.
 */
TEST_F(mm, pins_module)
{
	size_t len = MM_N * CELL;
	long before, closed, after;
	void *p;
	int ctx;

	before = kt_mod_refcnt();
	ASSERT_LE(0, before) TH_LOG("%s/refcnt: %s", KT_SYSFS,
				    strerror(-before));
	mm_mapped(_metadata, self->fd, len, &ctx, &p);
	EXPECT_EQ(before + 1, kt_mod_refcnt());
	close(ctx);
	closed = kt_mod_refcnt();
	EXPECT_EQ(before + 1, closed) TH_LOG("the mapping holds the context");
	EXPECT_EQ(0, munmap(p, len));
	after = kt_mod_refcnt();
	EXPECT_EQ(before, after) TH_LOG("munmap released the context");
}

/*
 * fork shares the mapping: a child's adds through it and the parent's
 * through the ioctl, at the same time, on one counter.
 */
TEST_F(mm, fork_shares)
{
	unsigned long n = kt_env_ulong("KT_MMAP_OPS", 20000, 1, 100000000);
	size_t len = MM_N * CELL;
	unsigned long i;
	int ctx, status, r = 0;
	pid_t pid;
	void *p;
	__u64 v;

	mm_mapped(_metadata, self->fd, len, &ctx, &p);
	ASSERT_EQ(0, kt_define(ctx, 5, KATOMIC_TYPE_UINT64, 0, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ctx);	/* the child has the mapping only */
		for (i = 0; i < n; i++)
			cell_add(cell_of(p, 5), 64, 1);
		_exit(0);
	}
	for (i = 0; i < n && !r; i++)
		r = kt_do(ctx, 5, KATOMIC_TYPE_UINT64, KATOMIC_OP_ADD, 1, 0,
			  NULL, NULL);
	EXPECT_EQ(0, r);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(0, kt_load(ctx, 5, KATOMIC_TYPE_UINT64, &v));
	EXPECT_EQ(2 * n, v);
	/* the parent unmaps and closes; the child's copy went with it */
	EXPECT_EQ(0, munmap(p, len));
	EXPECT_EQ(0, close(ctx));
}

TEST_HARNESS_MAIN
