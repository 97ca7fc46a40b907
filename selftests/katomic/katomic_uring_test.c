// SPDX-License-Identifier: GPL-2.0
/*
 * katomic over io_uring (IORING_OP_URING_CMD, issue 5), and the three
 * paths -- one ioctl per op, KATOMIC_IOC_BATCH, io_uring -- against each
 * other:
 *
 *  - a ring without SQE128 and CQE32 (either missing): -EINVAL, nothing
 *    ran; an unknown cmd_op: -ENOTTY;
 *  - every op of the table on every type: cqe->res = applied, big_cqe[0]
 *    = result, big_cqe[1] = 0; failing ops: the errno KATOMIC_IOC_OP
 *    gives; on a private context and on the global one; a read-only
 *    descriptor runs LOADs only (-EBADF);
 *  - differential: one seeded random sequence of 10^4 ops over all types
 *    and ops (and some that fail) through the three paths, each on a
 *    context of its own, gives the same result, applied and error op by
 *    op, and the same final values;
 *  - hammer: threads on one counter through the three paths at once
 *    (workers record, the main thread asserts): it ends exactly at
 *    start + all ADDs, and every value in between was returned once.
 *
 * The ring is set up by hand (raw syscalls): Debian's liburing 2.3 has no
 * uring_cmd helper and no 32-bit static library.  Skips without
 * KATOMIC_FEAT_URING (and CONTEXTS, BATCH for what needs them), or when
 * the kernel has no io_uring.  Knobs: KT_DIFF_OPS (10000), KT_DIFF_SEED,
 * KT_HAMMER_ADDS (per thread, 20000).  About 2 s in the TCG VM.
 */
#include "kselftest_harness.h"
#include "katomic_test.h"
#include "katomic_ctx.h"

#define U_RING		64	/* SQ entries */
#define U_BIG		(IORING_SETUP_SQE128 | IORING_SETUP_CQE32)

FIXTURE(uring) {
	int dev;
	struct katomic_info info;
	struct kt_ring ring;
	int ctx;		/* a private context of 8 counters */
};

FIXTURE_SETUP(uring)
{
	int r;

	self->ring.fd = -1;
	self->ctx = -1;
	kt_setup_dev(_metadata, &self->dev, &self->info);
	if (!(self->info.features & KATOMIC_FEAT_URING))
		SKIP(return, "KATOMIC_FEAT_URING not claimed");
	r = kt_ring_setup(&self->ring, U_RING, U_BIG);
	if (r == -ENOSYS || r == -EPERM)
		SKIP(return, "no io_uring here: %s", strerror(-r));
	ASSERT_EQ(0, r) TH_LOG("io_uring_setup(SQE128|CQE32): %s",
			       strerror(-r));
	if (self->info.features & KATOMIC_FEAT_CONTEXTS) {
		self->ctx = kt_ctx_new(self->dev, 8, 0, 0, 0);
		ASSERT_LE(0, self->ctx);
	}
}

FIXTURE_TEARDOWN(uring)
{
	kt_ring_close(&self->ring);
	if (self->ctx >= 0)
		close(self->ctx);
	close(self->dev);
}

/* One URING_CMD with any cmd_op on ring r: the completion's res. */
static int raw_cmd(struct __test_metadata *_metadata, struct kt_ring *r,
		   int fd, __u32 cmd_op, const struct katomic_op *o,
		   struct kt_cqe *c)
{
	ASSERT_EQ(0, kt_ring_queue(r, fd, cmd_op, o, sizeof(*o), 42));
	ASSERT_EQ(1, kt_ring_enter(r, 1, 1));
	ASSERT_TRUE(kt_ring_reap(r, c));
	EXPECT_EQ(42, c->user_data);
	return c->res;
}

TEST_F(uring, ring_without_big_entries)
{
	static const unsigned int flags[] = {
		0, IORING_SETUP_SQE128, IORING_SETUP_CQE32,
	};
	struct katomic_op o;
	struct kt_ring r;
	struct kt_cqe c;
	unsigned int i;

	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, kt_define(self->ctx, 0, KATOMIC_TYPE_INT64, 0, 10));
	for (i = 0; i < KT_ARRAY_SIZE(flags); i++) {
		ASSERT_EQ(0, kt_ring_setup(&r, 4, flags[i]));
		kt_op_init(&o, 0, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0);
		EXPECT_EQ(-EINVAL, raw_cmd(_metadata, &r, self->ctx,
					   KATOMIC_IOC_OP, &o, &c))
			TH_LOG("ring flags %#x", flags[i]);
		kt_ring_close(&r);
	}
	EXPECT_EQ(10, kt_value_of(_metadata, self->ctx, 0, KATOMIC_TYPE_INT64))
		TH_LOG("a refused command ran");
}

TEST_F(uring, unknown_cmd_op)
{
	const __u32 cmds[] = {
		0, KATOMIC_IOC_BATCH, KATOMIC_IOC_INFO, KATOMIC_IOC_NOP,
		KATOMIC_IOC_VALUE,
		_IOWR(KATOMIC_IOC_MAGIC, 0x05, struct katomic_batch),
		_IOR(KATOMIC_IOC_MAGIC, 0x05, struct katomic_op),
		KATOMIC_IOC_OP + 0x100, ~0U,
	};
	struct katomic_op o;
	struct kt_cqe c;
	unsigned int i;

	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, kt_define(self->ctx, 0, KATOMIC_TYPE_INT64, 0, 10));
	for (i = 0; i < KT_ARRAY_SIZE(cmds); i++) {
		kt_op_init(&o, 0, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0);
		EXPECT_EQ(-ENOTTY, raw_cmd(_metadata, &self->ring, self->ctx,
					   cmds[i], &o, &c))
			TH_LOG("cmd_op %#x", cmds[i]);
	}
	EXPECT_EQ(10, kt_value_of(_metadata, self->ctx, 0, KATOMIC_TYPE_INT64));
}

/*
 * Every op on every type, on a private context and on the global one:
 * res = applied, big_cqe[0] = result, big_cqe[1] = 0.
 */
TEST_F(uring, results)
{
	int fds[2] = { self->ctx, self->dev };
	__u32 ids[2] = { 0, self->info.nr_counters - 1 };
	unsigned int f, k, i, nv;
	__u64 vals[40];

	ASSERT_LE(0, self->ctx);
	for (f = 0; f < 2; f++) {
		const struct kt_type *tp;

		kt_for_each_type(tp) {
			struct kt_type t = kt_resolve(tp, self->info.ptr_bits);
			__u64 cur;

			nv = kt_interesting(&t, vals, KT_ARRAY_SIZE(vals));
			cur = vals[nv / 2];
			ASSERT_EQ(0, kt_redefine(fds[f], ids[f], t.type, 0, cur));
			for (k = 0; k < KT_NR_OPS; k++) {
				for (i = 0; i < nv; i += 3) {
					__u64 arg = kt_ops[k].operands ? vals[i] : 0;
					__u64 arg2 = kt_ops[k].operands > 1 ?
						     vals[(i + 1) % nv] : 0;
					struct kt_expect e;
					struct katomic_op o;
					struct kt_cqe c;

					if (i % 2 && kt_ops[k].operands)
						arg = cur;
					e = kt_model(&t, kt_ops[k].op, cur, arg,
						     arg2);
					kt_op_init(&o, ids[f], t.type,
						   kt_ops[k].op, arg, arg2);
					EXPECT_EQ(e.applied,
						  raw_cmd(_metadata, &self->ring,
							  fds[f], KATOMIC_IOC_OP,
							  &o, &c))
						TH_LOG("%s %s", kt_ops[k].name,
						       t.name);
					EXPECT_EQ(e.result, c.big[0])
						TH_LOG("%s %s", kt_ops[k].name,
						       t.name);
					EXPECT_EQ(0, c.big[1]);
					cur = e.value;
				}
			}
			EXPECT_EQ(cur, kt_value_of(_metadata, fds[f], ids[f],
						   t.type));
		}
		kt_undefine(fds[f], ids[f]);
	}
}

/* Failing ops: the errno of KATOMIC_IOC_OP; a read-only fd: LOAD only. */
TEST_F(uring, errors)
{
	struct katomic_op bad[6], o;
	unsigned int i, n = 0;
	struct kt_cqe c;
	int want, ro;

	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, kt_define(self->ctx, 0, KATOMIC_TYPE_INT32, 0, 3));
	kt_op_init(&bad[n++], 1, KATOMIC_TYPE_INT32, KATOMIC_OP_ADD, 1, 0);
	kt_op_init(&bad[n++], 8, KATOMIC_TYPE_INT32, KATOMIC_OP_ADD, 1, 0);
	kt_op_init(&bad[n++], 0, KATOMIC_TYPE_INT64, KATOMIC_OP_ADD, 1, 0);
	kt_op_init(&bad[n++], 0, KATOMIC_TYPE_INT32, 0, 1, 0);
	kt_op_init(&bad[n++], 0, KATOMIC_TYPE_INT32, KATOMIC_OP_ADD,
		   1ULL << 40, 0);
	kt_op_init(&bad[n], 0, KATOMIC_TYPE_INT32, KATOMIC_OP_ADD, 1, 0);
	bad[n++].reserved = 1;
	for (i = 0; i < n; i++) {
		o = bad[i];
		want = kt_ioctl(self->ctx, KATOMIC_IOC_OP, &o);
		ASSERT_GT(0, want);
		EXPECT_EQ(want, raw_cmd(_metadata, &self->ring, self->ctx,
					KATOMIC_IOC_OP, &bad[i], &c))
			TH_LOG("bad op %u", i);
	}
	EXPECT_EQ(3, kt_value_of(_metadata, self->ctx, 0, KATOMIC_TYPE_INT32));

	ro = open(KT_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, kt_redefine(self->dev, self->info.nr_counters - 1,
				 KATOMIC_TYPE_INT64, 0, 77));
	for (i = 0; i < KT_NR_OPS; i++) {
		bool load = kt_ops[i].op == KATOMIC_OP_LOAD;

		kt_op_init(&o, self->info.nr_counters - 1, KATOMIC_TYPE_INT64,
			   kt_ops[i].op, kt_ops[i].operands ? 1 : 0,
			   kt_ops[i].operands > 1 ? 2 : 0);
		EXPECT_EQ(load ? 0 : -EBADF,
			  raw_cmd(_metadata, &self->ring, ro, KATOMIC_IOC_OP,
				  &o, &c)) TH_LOG("%s", kt_ops[i].name);
		if (load)
			EXPECT_EQ(77, c.big[0]);
	}
	EXPECT_EQ(77, kt_value_of(_metadata, self->dev,
				  self->info.nr_counters - 1,
				  KATOMIC_TYPE_INT64));
	kt_undefine(self->dev, self->info.nr_counters - 1);
	close(ro);
}

/* ---- differential: ioctl, batch and uring on one random sequence ------- */

#define D_IDS	8	/* counters 0..4 one per type, 5..7 left undefined */

/* The seeded sequence: ops over all types, some bound to fail. */
static void diff_sequence(struct katomic_op *ops, unsigned int n, __u64 seed,
			  unsigned int ptr_bits)
{
	struct kt_type t[KT_NR_TYPES];
	__u64 vals[KT_NR_TYPES][40];
	unsigned int nv[KT_NR_TYPES], i, k;

	for (k = 0; k < KT_NR_TYPES; k++) {
		t[k] = kt_resolve(&kt_types[k], ptr_bits);
		nv[k] = kt_interesting(&t[k], vals[k], KT_ARRAY_SIZE(vals[k]));
	}
	for (i = 0; i < n; i++) {
		__u64 x = kt_rand(&seed);
		const struct kt_opdesc *d = &kt_ops[x % KT_NR_OPS];
		__u64 arg = 0, arg2 = 0;
		__u32 id;

		k = (x >> 8) % KT_NR_TYPES;
		id = k;
		if (d->operands)
			arg = kt_rand_operand(&t[k], &seed, vals[k], nv[k]);
		if (d->operands > 1)
			arg2 = kt_rand_operand(&t[k], &seed, vals[k], nv[k]);
		switch ((x >> 16) % 64) {
		case 0:		/* an undefined counter: -ENOENT */
			id = KT_NR_TYPES + (x >> 24) % (D_IDS - KT_NR_TYPES);
			break;
		case 1:		/* the wrong type: -EINVAL */
			k = (k + 1) % KT_NR_TYPES;
			break;
		case 2:		/* an operand out of range (32-bit types) */
			arg |= 1ULL << 62;
			break;
		}
		kt_op_init(&ops[i], id, t[k].type, d->op, arg, arg2);
	}
}

/* Define the counters of a differential run in context fd. */
static int diff_define(int fd, unsigned int ptr_bits)
{
	unsigned int k;
	int r;

	for (k = 0; k < KT_NR_TYPES; k++) {
		struct kt_type t = kt_resolve(&kt_types[k], ptr_bits);

		r = kt_define(fd, k, t.type, k % 2 ? KATOMIC_SYNC_SPINLOCK
						   : KATOMIC_SYNC_ATOMIC,
			      kt_canon(&t, 0x123456789abcdefULL * (k + 1)));
		if (r)
			return r;
	}
	return 0;
}

TEST_F(uring, differential)
{
	unsigned long n = kt_env_ulong("KT_DIFF_OPS", 10000, 1, 1000000);
	__u64 seed = kt_env_ulong("KT_DIFF_SEED", 0x5eed, 0, ~0UL);
	struct katomic_op *seq, *via_ioctl, *via_batch, *via_uring;
	unsigned long i, j, mism = 0, errs = 0;
	int fd[3];
	__u32 done;
	unsigned int k;
	double t0 = kt_now();

	if (!(self->info.features & KATOMIC_FEAT_BATCH) || self->ctx < 0)
		SKIP(return, "needs KATOMIC_FEAT_BATCH and CONTEXTS");
	seq = calloc(n, sizeof(*seq));
	via_ioctl = calloc(n, sizeof(*seq));
	via_batch = calloc(n, sizeof(*seq));
	via_uring = calloc(n, sizeof(*seq));
	ASSERT_TRUE(seq && via_ioctl && via_batch && via_uring);
	diff_sequence(seq, n, seed, self->info.ptr_bits);
	for (k = 0; k < 3; k++) {
		fd[k] = kt_ctx_new(self->dev, D_IDS, 0, 0, 0);
		ASSERT_LE(0, fd[k]);
		ASSERT_EQ(0, diff_define(fd[k], self->info.ptr_bits));
	}

	/* one ioctl per op */
	for (i = 0; i < n; i++) {
		struct katomic_op *o = &via_ioctl[i];
		int r;

		*o = seq[i];
		r = kt_ioctl(fd[0], KATOMIC_IOC_OP, o);
		if (r) {
			o->result = 0;
			o->applied = 0;
			o->error = r;
		}
	}
	/* batches of 1..256 ops, going on past failures */
	memcpy(via_batch, seq, n * sizeof(*seq));
	for (i = 0; i < n; i += j) {
		j = 1 + (i * 2654435761UL) % 256;
		if (j > n - i)
			j = n - i;
		ASSERT_EQ(0, kt_batch(fd[1], via_batch + i, j,
				      KATOMIC_BATCH_CONTINUE, &done));
		ASSERT_EQ(j, done);
	}
	/* submissions of 1..U_RING SQEs, completions matched by user_data */
	for (i = 0; i < n; i += j) {
		unsigned long m;
		struct kt_cqe c;

		j = 1 + (i * 40503UL) % U_RING;
		if (j > n - i)
			j = n - i;
		for (m = 0; m < j; m++)
			ASSERT_EQ(0, kt_ring_queue(&self->ring, fd[2],
						   KATOMIC_IOC_OP, &seq[i + m],
						   sizeof(*seq), i + m));
		ASSERT_EQ((int)j, kt_ring_enter(&self->ring, j, j));
		for (m = 0; m < j; m++) {
			struct katomic_op *o;

			ASSERT_TRUE(kt_ring_reap(&self->ring, &c));
			ASSERT_TRUE(c.user_data >= i && c.user_data < i + j);
			o = &via_uring[c.user_data];
			*o = seq[c.user_data];
			o->result = c.res < 0 ? 0 : c.big[0];
			o->applied = c.res < 0 ? 0 : c.res;
			o->error = c.res < 0 ? c.res : 0;
		}
	}
	for (i = 0; i < n; i++) {
		const struct katomic_op *a = &via_ioctl[i], *b = &via_batch[i],
					*u = &via_uring[i];

		errs += a->error != 0;
		if (a->result == b->result && a->result == u->result &&
		    a->applied == b->applied && a->applied == u->applied &&
		    a->error == b->error && a->error == u->error)
			continue;
		if (!mism++)
			TH_LOG("op %lu %s id %u: ioctl %#llx/%u/%d batch %#llx/%u/%d uring %#llx/%u/%d",
			       i, kt_op_name(a->op), a->id,
			       (unsigned long long)a->result, a->applied,
			       a->error, (unsigned long long)b->result,
			       b->applied, b->error,
			       (unsigned long long)u->result, u->applied,
			       u->error);
	}
	EXPECT_EQ(0, mism) TH_LOG("%lu of %lu ops differ", mism, n);
	for (k = 0; k < KT_NR_TYPES; k++) {
		__u8 type = kt_types[k].type;
		__u64 v0 = kt_value_of(_metadata, fd[0], k, type);

		EXPECT_EQ(v0, kt_value_of(_metadata, fd[1], k, type));
		EXPECT_EQ(v0, kt_value_of(_metadata, fd[2], k, type));
	}
	/* the sequence is not trivial: some fail, most do not */
	EXPECT_LT(n / 100, errs + (n < 1000 ? n : 0));
	EXPECT_GT(n / 4, errs);
	TH_LOG("%lu ops, seed %#llx, %lu failing: %.2f s", n,
	       (unsigned long long)seed, errs, kt_now() - t0);
	for (k = 0; k < 3; k++)
		close(fd[k]);
	free(seq);
	free(via_ioctl);
	free(via_batch);
	free(via_uring);
}

/* ---- hammer: one counter, three paths, at once --------------------------- */

enum { PATH_IOCTL, PATH_BATCH, PATH_URING, NR_PATHS };
static const char *const path_name[] = { "ioctl", "batch", "uring" };

#define H_THREADS	6	/* two per path */
#define H_CHUNK		32	/* ops per batch or submission */

struct hammer {
	struct kt_thread th;	/* first: the crew's */
	struct kt_adds *adds;
	int fd;
	unsigned int path;
	unsigned long iters, ok;
	struct kt_record rec;
};

static void *hammer_worker(void *arg)
{
	struct hammer *h = arg;
	struct katomic_op ops[H_CHUNK];
	const struct kt_type *t = h->adds->t;
	struct kt_ring ring = { .fd = -1 };
	unsigned long i, j, m;
	struct kt_cqe c;
	__u32 done;
	int r;

	if (!kt_thread_go(&h->th))
		return NULL;
	if (h->path == PATH_URING) {
		r = kt_ring_setup(&ring, H_CHUNK, U_BIG);
		if (r) {
			kt_record_error(&h->rec, "io_uring_setup", r);
			return NULL;
		}
	}
	for (i = 0; i < h->iters; i += j) {
		j = h->iters - i < H_CHUNK ? h->iters - i : H_CHUNK;
		switch (h->path) {
		case PATH_IOCTL:
			j = 1;
			h->ok += kt_adds_run(h->adds, h->fd, 0, 1, &h->rec);
			break;
		case PATH_BATCH:
			for (m = 0; m < j; m++)
				kt_op_init(&ops[m], 0, t->type, KATOMIC_OP_ADD,
					   1, 0);
			r = kt_batch(h->fd, ops, j, KATOMIC_BATCH_CONTINUE,
				     &done);
			if (r || done != j) {
				kt_record_error(&h->rec, "BATCH", r ?: -EIO);
				break;
			}
			for (m = 0; m < j; m++) {
				if (ops[m].error) {
					kt_record_error(&h->rec, "ADD",
							ops[m].error);
					continue;
				}
				h->ok++;
				kt_adds_note(h->adds, ops[m].result, &h->rec);
			}
			break;
		case PATH_URING:
			kt_op_init(&ops[0], 0, t->type, KATOMIC_OP_ADD, 1, 0);
			for (m = 0; m < j; m++)
				if ((r = kt_ring_queue(&ring, h->fd,
						       KATOMIC_IOC_OP, &ops[0],
						       sizeof(ops[0]), m)))
					break;
			r = r ?: kt_ring_enter(&ring, j, j);
			if (r < 0) {
				kt_record_error(&h->rec, "io_uring_enter", r);
				goto out;
			}
			for (m = 0; m < j; m++) {
				if (!kt_ring_reap(&ring, &c)) {
					kt_record_error(&h->rec, "reap", -EIO);
					goto out;
				}
				if (c.res) {
					kt_record_error(&h->rec, "ADD", c.res);
					continue;
				}
				h->ok++;
				kt_adds_note(h->adds, c.big[0], &h->rec);
			}
			break;
		}
	}
out:
	kt_ring_close(&ring);
	return NULL;
}

TEST_F(uring, hammer)
{
	unsigned long iters = kt_env_ulong("KT_HAMMER_ADDS", 20000, 1, 1000000);
	struct hammer h[H_THREADS];
	struct kt_type t = kt_resolve(&kt_types[1], self->info.ptr_bits);
	unsigned long per_path[NR_PATHS] = { 0 };
	struct kt_adds adds;
	struct kt_crew crew;
	unsigned int i;
	double t0;

	if (!(self->info.features & KATOMIC_FEAT_BATCH) || self->ctx < 0)
		SKIP(return, "needs KATOMIC_FEAT_BATCH and CONTEXTS");
	ASSERT_EQ(KATOMIC_TYPE_INT64, t.type);
	ASSERT_EQ(0, kt_adds_init(&adds, &t, H_THREADS * iters));
	ASSERT_EQ(0, kt_define(self->ctx, 0, t.type, KATOMIC_SYNC_ATOMIC,
			       adds.start));
	memset(h, 0, sizeof(h));
	for (i = 0; i < H_THREADS; i++) {
		h[i].adds = &adds;
		h[i].fd = self->ctx;
		h[i].path = i % NR_PATHS;
		h[i].iters = iters;
	}
	t0 = kt_now();
	ASSERT_EQ(0, kt_crew_start(&crew, H_THREADS, hammer_worker, h,
				   sizeof(h[0])));
	kt_crew_join(&crew);
	for (i = 0; i < H_THREADS; i++) {
		kt_record_check(_metadata, i, &h[i].rec);
		EXPECT_EQ(iters, h[i].ok) TH_LOG("thread %u (%s)", i,
						 path_name[h[i].path]);
		per_path[h[i].path] += h[i].ok;
	}
	kt_adds_check(_metadata, &adds, self->ctx, 0, "three paths");
	TH_LOG("%d threads, ADDs by ioctl %lu, batch %lu, uring %lu: %.2f s",
	       H_THREADS, per_path[PATH_IOCTL], per_path[PATH_BATCH],
	       per_path[PATH_URING], kt_now() - t0);
}

TEST_HARNESS_MAIN
