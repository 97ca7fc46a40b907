// SPDX-License-Identifier: GPL-2.0
/*
 * katomic fuzz: N threads make random and structure-aware calls on
 * /dev/katomic for S seconds (or C calls) and check every result against
 * spec/abi.md, while helper threads create and close private contexts,
 * define and undefine objects, run io_uring commands and try to unload
 * the module.
 *
 * Every call is made from a seed of its own (the run's seed, the thread
 * and the call's number, mixed): a failure names it, and --replay SEED
 * makes that one call again.  A call is one of
 *
 *   - a structured call: a command of the ABI with fields drawn around
 *     the valid ones (ids in and just out of range, every object, type,
 *     sync and op number and some beyond, operands at the edges of each
 *     type, non-zero flags and reserved fields, batch counts 0, 1, a
 *     chunk, max_batch + 1), its argument and its inner pointers (a
 *     batch's ops, a value's buf and out) valid, NULL, unmapped, kernel
 *     addresses, read-only (PROT_READ), or ending across a PROT_NONE page;
 *   - a raw call: a known command's number with its size, direction or
 *     type changed, an unknown number, or a known command with random
 *     bytes.
 *
 * The check: an errno must be one the ABI allows for that command and
 * argument; a success must not be one the ABI forbids (bad flags,
 * reserved, ids, sizes, pointers); and what a success copies out is
 * checked against a canary fill: out fields valid, in fields and every
 * byte not documented as an output unchanged (0xA5 where it was 0xA5).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "katomic.h"
#include "options.h"

#define CMD		"fuzz"
#define CANARY		0xA5
#define CANARY64	0xA5A5A5A5A5A5A5A5ULL
#define NERR		160	/* errnos counted by number; the rest as one */
#define MAX_THREADS	64
#define RW_PAGES	4	/* struct | value in (2) | value out, then none */
#define URING_ENTRIES	64
#define HELPER_PAUSE_NS	20000000	/* between a helper's rounds */
#define KERNEL_ADDR	0xffff888000000000ULL
#define SYSFS_PARAMS	"/sys/module/katomic/parameters/"

#define usage_error(...)	report(EXIT_USAGE, CMD, NULL, __VA_ARGS__)

/* ---- random numbers: splitmix64 seeds, xorshift64* draws ---------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd(s) % n) : 0;
}

static bool chance(uint64_t *s, unsigned int percent)
{
	return below(s, 100) < percent;
}

/* A u32 at the edges of 0..n (n: the count the field indexes). */
static uint32_t edge32(uint64_t *s, uint32_t n)
{
	static const uint32_t far[] = { 0x7fffffff, 0x80000000, 0xffffffff };

	switch (below(s, 6)) {
	case 0: return n;
	case 1: return n + 1;
	case 2: return n ? n - 1 : 0;
	case 3: return far[below(s, 3)];
	case 4: return (uint32_t)rnd(s);
	default: return below(s, n < 8 ? n + 1 : 8);
	}
}

/* An operand at the edges of the types. */
static uint64_t edge64(uint64_t *s)
{
	static const uint64_t v[] = {
		0, 1, ~0ULL, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xffffffff80000000ULL, 2, 3,
	};

	return chance(s, 80) ? v[below(s, sizeof(v) / sizeof(v[0]))] : rnd(s);
}

/* ---- errno sets ------------------------------------------------------------- */

struct errset {
	uint32_t bits[(NERR + 31) / 32];
};

static void allow(struct errset *e, int err)
{
	if (err > 0 && err < NERR)
		e->bits[err / 32] |= 1u << (err % 32);
}

/* Every errno of a list that ends with 0. */
static void allow_list(struct errset *e, const int *errs)
{
	for (; *errs; errs++)
		allow(e, *errs);
}

static bool allowed(const struct errset *e, int err)
{
	return err > 0 && err < NERR && (e->bits[err / 32] >> (err % 32) & 1);
}

static const char *errname(int err, char buf[16])
{
	const char *n = katomic_errno_name(err);

	if (strcmp(n, "E?"))
		return n;
	snprintf(buf, 16, "errno %d", err);
	return buf;
}

/* ---- the ABI's knowledge ------------------------------------------------- */

static const struct {
	unsigned int cmd;
	const char *name;
	size_t size;
} commands[] = {
	{ KATOMIC_IOC_INFO, "INFO", sizeof(struct katomic_info) },
	{ KATOMIC_IOC_NOP, "NOP", 0 },
	{ KATOMIC_IOC_DEFINE, "DEFINE", sizeof(struct katomic_define) },
	{ KATOMIC_IOC_UNDEFINE, "UNDEFINE", sizeof(struct katomic_define) },
	{ KATOMIC_IOC_QUERY, "QUERY", sizeof(struct katomic_define) },
	{ KATOMIC_IOC_OP, "OP", sizeof(struct katomic_op) },
	{ KATOMIC_IOC_BATCH, "BATCH", sizeof(struct katomic_batch) },
	{ KATOMIC_IOC_VALUE, "VALUE", sizeof(struct katomic_value_op) },
	{ KATOMIC_IOC_CONTEXT_NEW, "CONTEXT_NEW",
	  sizeof(struct katomic_context) },
};
enum { C_INFO, C_NOP, C_DEFINE, C_UNDEFINE, C_QUERY, C_OP, C_BATCH, C_VALUE,
	C_CONTEXT_NEW, NR_COMMANDS };

#define OP_OPERANDS(n, nr, name, operands, applied)	[nr] = operands,
#define OP_APPLIED(n, nr, name, operands, applied)	[nr] = applied,
static const unsigned char op_operands[] = { KATOMIC_OP_TABLE(OP_OPERANDS) };
static const unsigned char op_applied[] = { KATOMIC_OP_TABLE(OP_APPLIED) };
#define TYPE_BITS(n, nr, name, bits, is_signed)		[nr] = bits,
#define TYPE_SIGNED(n, nr, name, bits, is_signed)	[nr] = is_signed,
static const unsigned char type_bits[] = { KATOMIC_TYPE_TABLE(TYPE_BITS) };
static const unsigned char type_signed[] = { KATOMIC_TYPE_TABLE(TYPE_SIGNED) };

static bool type_valid(unsigned int t)
{
	return t >= 1 && t <= KATOMIC_TYPE_LAST;
}

static bool op_valid(unsigned int op)
{
	return op >= 1 && op <= KATOMIC_OP_LAST;
}

static unsigned int width(unsigned int type, unsigned int ptr_bits)
{
	return type_bits[type] ? type_bits[type] : ptr_bits;
}

/* Is v an operand of type (spec: "must be representable")? */
static bool fits(unsigned int type, uint64_t v, unsigned int ptr_bits)
{
	unsigned int w = width(type, ptr_bits);

	if (w == 64)
		return true;
	if (type_signed[type])
		return (int64_t)v >= -(1LL << (w - 1)) &&
		       (int64_t)v < (1LL << (w - 1));
	return v >> w == 0;
}

/* Is a result of type extended as the spec says (sign or zero)? */
static bool extended(unsigned int type, uint64_t v, unsigned int ptr_bits)
{
	return fits(type, v, ptr_bits);
}

/* ---- the run's shared state ------------------------------------------------ */

enum { FD_GLOBAL, FD_RDONLY, FD_PRIVATE, NR_TARGETS };
static const char *const target_names[] = { "global", "read-only", "private" };

struct limits {
	unsigned long max_counters, max_slots, max_value, max_batch;
};

struct env {
	const char *device;
	int fds[NR_TARGETS];
	struct katomic_info info[NR_TARGETS];
	struct limits lim;
	unsigned int page;
};

struct opts {
	unsigned int threads;
	uint64_t seconds, calls, seed, replay;
	bool have_replay, rmmod, quiet, faults;
};

/* A thread's counts: its own cache lines. */
struct tally {
	uint64_t calls;
	uint64_t hist[NERR + 1];	/* [0] success, [NERR] other errnos */
	uint64_t canary_checks;
	uint64_t ns[NR_COMMANDS + 1];	/* time in ioctl by command (+ raw) */
	uint64_t by_cmd[NR_COMMANDS + 1];
} __attribute__((aligned(64)));

struct run {
	const struct opts *o;
	struct env env;
	atomic_bool stop;
	atomic_uint_fast64_t calls;	/* fuzz calls so far, for --calls */
	atomic_int failures;
	pthread_mutex_t report_lock;
	struct tally fuzz[MAX_THREADS];
	struct tally uring;
	atomic_uint_fast64_t defines;	/* three helpers count them */
	uint64_t lifecycles, forks, rmmod_tries, rmmod_refused;
	uint64_t uring_closes, uring_teardowns;
	const char *rmmod_note;
	struct timespec start;
};

static void tally_errno(struct tally *t, int err)
{
	t->calls++;
	t->hist[err <= 0 ? 0 : err < NERR ? err : NERR]++;
}

static double elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) +
	       (now.tv_nsec - since->tv_nsec) / 1e9;
}

/* ---- a thread's memory: where arguments and buffers live ----------------- */

/*
 * RW_PAGES read-write pages, then a PROT_NONE page; and one page of a
 * memfd mapped twice: read-write (where the fuzzer writes) and read-only
 * (what the kernel is given).
 */
struct arena {
	unsigned char *rw, *none;	/* none = rw + RW_PAGES pages */
	unsigned char *ro, *ro_w;	/* the same page, two views */
	size_t page;
};

static int arena_init(struct arena *a, size_t page)
{
	void *m;
	int fd;

	a->page = page;
	m = mmap(NULL, (RW_PAGES + 1) * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	a->rw = m;
	a->none = a->rw + RW_PAGES * page;
	if (mprotect(a->none, page, PROT_NONE))
		return -errno;
	fd = memfd_create("katomic-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, page)) {
		close(fd);
		return -errno;
	}
	a->ro_w = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	a->ro = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (a->ro_w == MAP_FAILED || a->ro == MAP_FAILED)
		return -ENOMEM;
	return 0;
}

static void arena_fini(struct arena *a)
{
	munmap(a->rw, (RW_PAGES + 1) * a->page);
	munmap(a->ro_w, a->page);
	munmap(a->ro, a->page);
}

/* Where a buffer is. */
enum { PTR_OK, PTR_NULL, PTR_UNMAPPED, PTR_STRADDLE, PTR_RDONLY, PTR_KERNEL,
	NR_PTRS };
static const char *const ptr_names[] = {
	"ok", "NULL", "unmapped", "straddling", "read-only", "kernel",
};

/*
 * Puts size bytes of src at a place of kind in the arena, in region
 * (a page index: 0 the struct, 1 a value in, 3 a value out; room: the
 * pages it may fill).  Returns the address the kernel is given; *w is
 * where its bytes are (NULL if nowhere), *wn how many of them.
 */
static uint64_t place(struct arena *a, uint64_t *s, int kind,
		      unsigned int region, size_t room, const void *src,
		      size_t size, unsigned char **w)
{
	size_t off, k;

	*w = NULL;
	switch (kind) {
	case PTR_OK:
		off = size < room * a->page ?
		      below(s, (room * a->page - size) / 8 + 1) * 8 : 0;
		if (off > 256)
			off &= 255;
		*w = a->rw + region * a->page + off;
		memcpy(*w, src, size);
		return (uintptr_t)*w;
	case PTR_NULL:
		return 0;
	case PTR_UNMAPPED:
		return (uintptr_t)(a->none + below(s, a->page / 8) * 8);
	case PTR_STRADDLE:
		/* The first k bytes readable, the rest in the PROT_NONE page. */
		k = size > 1 ? 1 + below(s, size - 1) : 0;
		memcpy(a->none - k, src, k);
		*w = a->none - k;
		return (uintptr_t)*w;
	case PTR_RDONLY:
		off = size < a->page ? below(s, (a->page - size) / 8 + 1) * 8 : 0;
		memcpy(a->ro_w + off, src, size < a->page ? size : a->page);
		*w = a->ro_w + off;
		return (uintptr_t)(a->ro + off);
	default:
		return KERNEL_ADDR + below(s, 1 << 20) * 8;
	}
}

/* Which kinds fault for a read (in) or a write (out) of the buffer. */
static bool faults(int kind, bool written)
{
	return kind != PTR_OK && (kind != PTR_RDONLY || written);
}

/* ---- one call ---------------------------------------------------------------- */

/* A call as made: what the failure line and --replay show. */
struct call {
	uint64_t seed, s;		/* its seed; the draws from it */
	int target, ptr;
	unsigned int cmd, c;		/* c: index in commands, -1 raw */
	bool raw;
	unsigned char in[64];		/* the struct as given */
	size_t size;			/* of in */
	struct errset ok;		/* errnos the ABI allows */
	const char *must_fail;		/* a reason the ABI forbids success */
	/* inner buffers: a batch's ops, a value's buf and out */
	bool random;			/* a known command, random bytes */
	int inner[2];
	size_t inner_len[2];
	unsigned char *inner_w[2];
	struct katomic_op ops[128];	/* a batch's ops as given */
};

static void forbid(struct call *c, bool cond, const char *why)
{
	if (cond && !c->must_fail)
		c->must_fail = why;
}

static uint32_t gen_id(struct call *c, uint32_t n)
{
	uint32_t id = chance(&c->s, 85) ? below(&c->s, n < 8 ? n : 8) :
		      edge32(&c->s, n);

	forbid(c, id >= n, "id out of range");
	return id;
}

/* A byte field that is valid in 1..last (or 0..last with zero_ok). */
static uint8_t gen_enum(struct call *c, unsigned int lo, unsigned int last,
			const char *why)
{
	uint8_t v = chance(&c->s, 92) ? lo + below(&c->s, last - lo + 1) :
		    (uint8_t)rnd(&c->s);

	forbid(c, v < lo || v > last, why);
	return v;
}

/* A field that must be zero, sometimes not. */
static uint64_t gen_zero(struct call *c, unsigned int percent, const char *why)
{
	uint64_t v = chance(&c->s, percent) ? edge64(&c->s) | 1 : 0;

	forbid(c, v != 0, why);
	return v;
}

static void allow_op_errors(struct errset *e, bool rdonly)
{
	allow_list(e, (const int[]){ EINVAL, ENOENT, EOPNOTSUPP, EOVERFLOW, 0 });
	if (rdonly)
		allow(e, EBADF);
}

/* A counter op's in fields; out fields canary.  Checks go to c. */
static void gen_op(struct call *c, struct katomic_op *op,
		   const struct katomic_info *info)
{
	unsigned int i;

	memset(op, CANARY, sizeof(*op));
	op->id = gen_id(c, info->nr_counters);
	op->type = gen_enum(c, 1, KATOMIC_TYPE_LAST, "unknown type");
	op->op = gen_enum(c, 1, KATOMIC_OP_LAST, "unknown op");
	op->flags = gen_zero(c, 3, "flags != 0");
	op->reserved = gen_zero(c, 3, "reserved != 0");
	op->arg = 0;
	op->arg2 = 0;
	for (i = 0; i < 2; i++) {
		bool used = op_valid(op->op) && op_operands[op->op] > i;
		uint64_t v = used || chance(&c->s, 3) ? edge64(&c->s) : 0;

		forbid(c, !used && v, "an unused operand != 0");
		forbid(c, v && type_valid(op->type) &&
			  !fits(op->type, v, info->ptr_bits),
		       "operand not representable");
		*(i ? &op->arg2 : &op->arg) = v;
	}
}

/* Is a counter op's outcome as the ABI says?  NULL or the problem. */
static const char *check_op_out(const struct katomic_op *got,
				const struct katomic_op *given,
				unsigned int ptr_bits, bool single)
{
	if (got->id != given->id || got->type != given->type ||
	    got->op != given->op || got->flags != given->flags ||
	    got->arg != given->arg || got->arg2 != given->arg2 ||
	    got->reserved != given->reserved)
		return "an in field changed";
	if (single && got->error)
		return "error != 0 after a successful OP";
	if (got->error) {
		if (got->result || got->applied)
			return "a failed op's result or applied != 0";
		return NULL;
	}
	if (got->applied > 1 || (!op_applied[got->op] && got->applied))
		return "applied is not 0 or 1 (or set by an op without it)";
	if (!extended(got->type, got->result, ptr_bits))
		return "result not sign/zero-extended for its type";
	return NULL;
}

static void gen_define(struct call *c, struct katomic_define *d,
		       const struct katomic_info *info, int which)
{
	bool counter;

	memset(d, CANARY, sizeof(*d));
	d->object = chance(&c->s, 95) ? 1 + below(&c->s, 2) : (uint8_t)rnd(&c->s);
	counter = d->object == KATOMIC_OBJ_COUNTER;
	forbid(c, d->object != KATOMIC_OBJ_COUNTER &&
		  d->object != KATOMIC_OBJ_VALUE, "unknown object");
	d->id = gen_id(c, counter ? info->nr_counters : info->nr_slots);
	d->flags = gen_zero(c, 3, "flags != 0");
	d->reserved = gen_zero(c, 3, "reserved != 0");
	if (which == C_QUERY) {
		d->init = gen_zero(c, 3, "init != 0");
		return;		/* type, sync, param: out (canary) */
	}
	if (which == C_UNDEFINE) {
		d->type = gen_zero(c, 3, "type != 0");
		d->sync = gen_zero(c, 3, "sync != 0");
		d->init = gen_zero(c, 3, "init != 0");
		d->param = gen_zero(c, 3, "param != 0");
		return;
	}
	if (counter) {
		static const uint8_t kinds[] = { 0, 1, 2, 3, 4, 5 };

		d->type = gen_enum(c, 1, KATOMIC_TYPE_LAST, "unknown type");
		d->sync = chance(&c->s, 95) ? kinds[below(&c->s, 6)] :
			  (uint8_t)rnd(&c->s);
		forbid(c, d->sync > KATOMIC_SYNC_PERCPU,
		       "not a counter kind");
		forbid(c, d->sync == KATOMIC_SYNC_PERCPU &&
			  d->type != KATOMIC_TYPE_INT64 &&
			  d->type != KATOMIC_TYPE_UINT64,
		       "PERCPU of a 32-bit or pointer type");
		d->init = chance(&c->s, 50) ? 0 : edge64(&c->s);
		forbid(c, type_valid(d->type) &&
			  !fits(d->type, d->init, info->ptr_bits),
		       "init not representable");
		d->param = 0;
		if (d->sync == KATOMIC_SYNC_NONE && chance(&c->s, 30))
			d->param = chance(&c->s, 90) ? below(&c->s, 1000) :
				   KATOMIC_NONE_MAX_DELAY + 1;
		else if (chance(&c->s, 3))
			d->param = edge64(&c->s) | 1;
		forbid(c, d->param > KATOMIC_NONE_MAX_DELAY ||
			  (d->param && d->sync != KATOMIC_SYNC_NONE),
		       "param not allowed");
	} else {
		static const uint8_t kinds[] = { 0, 1, 6, 7 };

		d->type = gen_zero(c, 3, "type != 0 for a slot");
		d->sync = chance(&c->s, 95) ? kinds[below(&c->s, 4)] :
			  (uint8_t)rnd(&c->s);
		forbid(c, d->sync != 0 && d->sync != 1 && d->sync != 6 &&
			  d->sync != 7, "not a slot kind");
		d->init = gen_zero(c, 3, "init != 0 for a slot");
		d->param = gen_zero(c, 3, "param != 0 for a slot");
	}
}

static const char *check_query(const struct katomic_define *got,
			       const struct katomic_define *given)
{
	if (got->id != given->id || got->object != given->object ||
	    got->flags != given->flags || got->init != given->init ||
	    got->reserved != given->reserved)
		return "an in field changed";
	if (got->object == KATOMIC_OBJ_COUNTER)
		return !type_valid(got->type) || got->sync < 1 ||
		       got->sync > KATOMIC_SYNC_PERCPU ||
		       got->param > KATOMIC_NONE_MAX_DELAY ||
		       (got->param && got->sync != KATOMIC_SYNC_NONE) ?
		       "type, sync or param not a counter's" : NULL;
	return got->type || got->param ||
	       (got->sync != 1 && got->sync != 6 && got->sync != 7) ?
	       "type, sync or param not a slot's" : NULL;
}

static const char *check_info(const struct katomic_info *i,
			      const struct katomic_info *want)
{
	unsigned int k;

	for (k = 0; k < 9; k++)
		if (i->reserved[k])
			return "reserved not written as 0";
	if (i->abi_version != KATOMIC_ABI_VERSION ||
	    i->features != want->features ||
	    i->nr_counters != want->nr_counters ||
	    i->nr_slots != want->nr_slots || i->value_max != want->value_max ||
	    i->max_batch != want->max_batch || i->ptr_bits != want->ptr_bits)
		return "a field differs from the context's";
	return NULL;
}

static void gen_batch(struct call *c, struct katomic_batch *b,
		      const struct katomic_info *info, struct arena *a)
{
	uint32_t nr, i, room;

	memset(b, CANARY, sizeof(*b));
	switch (below(&c->s, 10)) {
	case 0: nr = 0; break;
	case 1: nr = info->max_batch + 1; break;
	case 2: nr = edge32(&c->s, info->max_batch); break;
	case 3: nr = 17 + below(&c->s, 30); break;
	default: nr = 1 + below(&c->s, 16); break;
	}
	allow(&c->ok, EINVAL);
	allow(&c->ok, E2BIG);
	forbid(c, nr == 0, "nr == 0");
	forbid(c, nr > info->max_batch, "nr > max_batch");
	b->nr = nr;
	b->flags = chance(&c->s, 50) ? KATOMIC_BATCH_CONTINUE : 0;
	if (chance(&c->s, 3))
		b->flags = (uint32_t)rnd(&c->s);
	forbid(c, b->flags & ~KATOMIC_BATCH_CONTINUE, "unknown flags");
	b->reserved = gen_zero(c, 3, "reserved != 0");
	/* The ops: at most what the arena holds; the rest runs off it. */
	room = nr < 128 ? nr : 128;
	for (i = 0; i < room; i++) {
		const char *mf = c->must_fail;

		gen_op(c, &c->ops[i], info);
		c->must_fail = mf;	/* an op's own fault fails only it */
	}
	c->inner[0] = chance(&c->s, 85) ? PTR_OK : below(&c->s, NR_PTRS);
	c->inner_len[0] = room * sizeof(struct katomic_op);
	if (nr > room && c->inner[0] == PTR_OK) {
		/* The ops the arena holds, then the PROT_NONE page. */
		c->inner_w[0] = a->none - c->inner_len[0];
		memcpy(c->inner_w[0], c->ops, c->inner_len[0]);
		b->ops = (uintptr_t)c->inner_w[0];
	} else {
		b->ops = place(a, &c->s, c->inner[0], 1, 2, c->ops,
			       c->inner_len[0], &c->inner_w[0]);
	}
	if (nr > room || faults(c->inner[0], true))
		allow(&c->ok, EFAULT);
	/*
	 * The first chunk cannot be read: a failure.  (A batch whose later
	 * ops cannot be read may stop at a failed op before them.)
	 */
	forbid(c, faults(c->inner[0], false) && c->inner[0] != PTR_STRADDLE,
	       "ops unreadable");
}

static const char *check_batch(struct call *c, const struct katomic_batch *got,
			       const struct katomic_batch *given,
			       const struct katomic_info *info, bool rdonly)
{
	const struct katomic_op *ops = (const void *)c->inner_w[0];
	struct errset e = { { 0 } };
	bool cont = given->flags & KATOMIC_BATCH_CONTINUE;
	const char *p;
	uint32_t i;

	if (got->ops != given->ops || got->nr != given->nr ||
	    got->flags != given->flags || got->reserved != given->reserved)
		return "a header in field changed";
	if (got->done < 1 || got->done > got->nr)
		return "done outside 1..nr";
	/* Straddling ops: it may have stopped before the unreadable part. */
	if (c->inner[0] == PTR_STRADDLE)
		return NULL;
	if (c->inner[0] != PTR_OK)
		return "a batch succeeded with its ops unreadable or read-only";
	if (got->done > 128)
		return "a batch ran ops it could not read";
	if (cont && got->done != got->nr)
		return "a CONTINUE batch stopped early";
	allow_op_errors(&e, rdonly);
	allow(&e, EINTR);
	for (i = 0; i < got->nr && i < 128; i++) {
		if (i >= got->done) {
			if (memcmp(&ops[i], &c->ops[i], sizeof(ops[i])))
				return "an op after done was written";
			continue;
		}
		p = check_op_out(&ops[i], &c->ops[i], info->ptr_bits, false);
		if (p)
			return p;
		if (ops[i].error && !allowed(&e, -ops[i].error))
			return "an op's error is not one the ABI allows";
		if (!cont && ops[i].error && i + 1 != got->done)
			return "a batch ran on after a failed op";
	}
	if (!cont && got->done < got->nr && !ops[got->done - 1].error)
		return "a batch stopped without a failed op";
	return NULL;
}

static void gen_value(struct call *c, struct katomic_value_op *v,
		      const struct katomic_info *info, struct arena *a,
		      bool rdonly)
{
	unsigned char data[2 * 4096];
	bool load, store, out_in;
	uint32_t cap;
	size_t i;

	memset(v, CANARY, sizeof(*v));
	v->id = gen_id(c, info->nr_slots);
	v->op = gen_enum(c, 1, KATOMIC_VOP_LAST, "unknown op");
	v->flags = gen_zero(c, 3, "flags != 0");
	v->reserved0 = gen_zero(c, 3, "reserved0 != 0");
	v->reserved = gen_zero(c, 3, "reserved != 0");
	load = v->op == KATOMIC_VOP_LOAD;
	store = v->op == KATOMIC_VOP_STORE;
	out_in = v->op == KATOMIC_VOP_CAS;
	forbid(c, rdonly && !load, "a change on a read-only fd");
	/* The new value: buf, len, tag. */
	v->tag = 0;
	v->len = 0;
	c->inner[0] = PTR_OK;
	if (!load || chance(&c->s, 3)) {
		v->tag = chance(&c->s, 90) ? 1 + below(&c->s, 2) :
			 (uint32_t)edge64(&c->s);
		v->len = chance(&c->s, 90) ? 1 + below(&c->s, 64) :
			 edge32(&c->s, info->value_max);
		if (v->len > sizeof(data))
			v->len = chance(&c->s, 50) ? v->len : sizeof(data);
		for (i = 0; i < 64; i++)
			data[i] = (unsigned char)(c->seed >> (i % 8 * 8));
		c->inner[0] = chance(&c->s, 90) ? PTR_OK : below(&c->s, NR_PTRS);
		if (v->len > sizeof(data))
			c->inner[0] = PTR_STRADDLE;	/* runs off the arena */
		c->inner_len[0] = v->len <= sizeof(data) ? v->len : 64;
		v->buf = place(a, &c->s, c->inner[0], 1, 2, data,
			       c->inner_len[0], &c->inner_w[0]);
	} else {
		v->buf = 0;
	}
	forbid(c, load && (v->tag || v->len || v->buf),
	       "LOAD with tag, len or buf");
	forbid(c, !load && (!v->tag || !v->len), "a nil value");
	forbid(c, !load && v->len > info->value_max, "len > value_max");
	if (!load && v->len && faults(c->inner[0], false))
		allow(&c->ok, EFAULT);
	forbid(c, !load && v->len && faults(c->inner[0], false),
	       "buf unreadable");
	/* out: capacity (LOAD, SWAP) or the expected value (CAS). */
	cap = 0;
	c->inner[1] = PTR_OK;
	v->out = 0;
	if (!store || chance(&c->s, 3)) {
		cap = chance(&c->s, 85) ? below(&c->s, 80) :
		      edge32(&c->s, info->value_max);
		if (cap > a->page && chance(&c->s, 70))
			cap = a->page;
		c->inner[1] = chance(&c->s, 90) ? PTR_OK : below(&c->s, NR_PTRS);
		memset(data, CANARY, cap < sizeof(data) ? cap : sizeof(data));
		if (out_in && cap)
			memcpy(data, &c->seed, cap < 8 ? cap : 8);
		c->inner_len[1] = cap <= a->page ? cap : 0;
		v->out = place(a, &c->s, c->inner[1], 3, 1, data,
			       c->inner_len[1], &c->inner_w[1]);
		if (cap > a->page)
			c->inner[1] = PTR_STRADDLE;
	}
	v->out_len = cap;
	v->out_tag = out_in ? (chance(&c->s, 50) ? 0 : 1 + below(&c->s, 2)) :
		     (uint32_t)CANARY64;
	forbid(c, store && (v->out || v->out_len), "STORE with out or out_len");
	if (cap && faults(c->inner[1], !out_in))
		allow(&c->ok, EFAULT);
	allow_list(&c->ok, (const int[]){ EINVAL, ENOENT, E2BIG, ERANGE,
					  ENOMEM, 0 });
	if (rdonly)
		allow(&c->ok, EBADF);
}

static const char *check_value(struct call *c, const struct katomic_value_op *g,
			       const struct katomic_value_op *v, bool erange)
{
	const unsigned char *out = c->inner_w[1];
	uint32_t i, keep;

	if (g->id != v->id || g->op != v->op || g->flags != v->flags ||
	    g->reserved0 != v->reserved0 || g->tag != v->tag ||
	    g->len != v->len || g->buf != v->buf || g->out != v->out ||
	    g->reserved != v->reserved)
		return "an in field changed";
	if (erange) {
		if (v->op == KATOMIC_VOP_CAS || v->op == KATOMIC_VOP_STORE)
			return "ERANGE from a CAS or STORE";
		if (g->out_len <= v->out_len)
			return "ERANGE without out_len > capacity";
		keep = 0;
	} else if (v->op == KATOMIC_VOP_CAS) {
		if (g->applied > 1 || g->out_len != v->out_len ||
		    g->out_tag != v->out_tag)
			return "CAS: applied not 0/1, or out_len/out_tag changed";
		keep = v->out_len;	/* expected: unchanged */
		if (out && c->inner[1] == PTR_OK)
			for (i = 0; i < v->out_len; i++)
				if (out[i] != (i < 8 ?
					       (unsigned char)(c->seed >> i * 8) :
					       CANARY))
					return "CAS wrote its expected value";
		return NULL;
	} else if (v->op == KATOMIC_VOP_STORE) {
		return g->version ? NULL : "version 0 after a STORE";
	} else {
		if (g->out_len > v->out_len)
			return "out_len beyond the capacity";
		if (!g->out_tag != !g->out_len)
			return "out_tag and out_len disagree on empty";
		if (g->applied != 0 && g->applied != CANARY)
			return "applied written with garbage";
		keep = g->out_len;
	}
	/* Bytes past what was copied out: still canary. */
	if (out && c->inner[1] == PTR_OK)
		for (i = keep; i < v->out_len && i < c->inner_len[1]; i++)
			if (out[i] != CANARY)
				return "a byte past out_len was written";
	return NULL;
}

static void gen_context(struct call *c, struct katomic_context *k,
			const struct limits *l, bool private)
{
	memset(k, CANARY, sizeof(*k));
	/* At the limits rarely: a context of max_counters is 4 MiB. */
	k->nr_counters = chance(&c->s, 97) ? below(&c->s, 64) :
			 edge32(&c->s, l->max_counters);
	k->nr_slots = chance(&c->s, 97) ? below(&c->s, 16) :
		      edge32(&c->s, l->max_slots);
	k->value_max = chance(&c->s, 90) ? below(&c->s, 512) :
		       edge32(&c->s, l->max_value);
	k->flags = chance(&c->s, 90) ? below(&c->s, 2) :
		   chance(&c->s, 50) ? KATOMIC_CTX_MMAP : (uint32_t)rnd(&c->s);
	k->reserved[0] = gen_zero(c, 3, "reserved != 0");
	k->reserved[1] = gen_zero(c, 3, "reserved != 0");
	forbid(c, k->flags & ~(KATOMIC_CTX_CLOEXEC | KATOMIC_CTX_MMAP),
	       "unknown flags");
	forbid(c, k->nr_counters > l->max_counters ||
		  k->nr_slots > l->max_slots || k->value_max > l->max_value,
	       "a size above its limit");
	forbid(c, k->nr_slots && !k->value_max, "slots without value_max");
	forbid(c, private, "CONTEXT_NEW on a private context");
	/* EOPNOTSUPP: the mmap'd contexts of issue 9 may not be there. */
	allow_list(&c->ok, (const int[]){ EINVAL, E2BIG, ENOMEM, EMFILE,
					  ENFILE, EOPNOTSUPP, 0 });
	if (private)
		allow(&c->ok, ENOTTY);
}

/* A raw call: a command number the ABI does not know, or random bytes. */
static void gen_raw(struct call *c)
{
	unsigned int k = below(&c->s, NR_COMMANDS), known = commands[k].cmd;
	unsigned int dir = _IOC_DIR(known), size = _IOC_SIZE(known), i;

	c->raw = true;
	for (i = 0; i < sizeof(c->in); i++)
		c->in[i] = (unsigned char)rnd(&c->s);
	c->size = sizeof(c->in);
	switch (below(&c->s, 5)) {
	case 0:		/* the size changed */
		do {
			size = chance(&c->s, 50) ? size + 8 * (1 + below(&c->s, 4)) :
			       below(&c->s, 1 << 14);
		} while (size == _IOC_SIZE(known));
		c->cmd = _IOC(dir, KATOMIC_IOC_MAGIC, _IOC_NR(known), size);
		break;
	case 1:		/* the direction changed */
		c->cmd = _IOC((dir + 1 + below(&c->s, 3)) & 3,
			      KATOMIC_IOC_MAGIC, _IOC_NR(known), size);
		break;
	case 2:		/* a number beyond the table */
		c->cmd = _IOC(below(&c->s, 4), KATOMIC_IOC_MAGIC,
			      NR_COMMANDS + below(&c->s, 256 - NR_COMMANDS),
			      below(&c->s, 1 << 14));
		break;
	case 3:		/* another magic */
		c->cmd = _IOC(dir, (KATOMIC_IOC_MAGIC + 1 +
				    below(&c->s, 255)) & 0xff,
			      _IOC_NR(known), size);
		break;
	default:	/* a known command, random bytes */
		c->cmd = known;
		c->c = k;
		c->raw = false;
		c->random = true;
		/* Pointers inside: never into this process (bit 63 set). */
		if (k == C_BATCH)
			((struct katomic_batch *)c->in)->ops |= 1ULL << 63;
		if (k == C_VALUE) {
			((struct katomic_value_op *)c->in)->buf |= 1ULL << 63;
			((struct katomic_value_op *)c->in)->out |= 1ULL << 63;
		}
		/* EFAULT: random user pointers inside; ENOTTY: CONTEXT_NEW
		 * on a private context. */
		allow_list(&c->ok, (const int[]){ EINVAL, ENOENT, EEXIST,
						  EOPNOTSUPP, EOVERFLOW, E2BIG,
						  ERANGE, ENOMEM, EFAULT, EMFILE,
						  ENOTTY, 0 });
		if (c->target == FD_RDONLY)
			allow(&c->ok, EBADF);
		return;
	}
	c->c = (unsigned int)-1;
	allow(&c->ok, ENOTTY);
}

/* ---- making and judging a call ----------------------------------------------- */

/*
 * How often each command is made, in parts of 1000.  DEFINE, UNDEFINE
 * and QUERY take the context's lock, which a successful UNDEFINE holds
 * for an RCU grace period (about 5 ms under TCG): they are rare, so that
 * the run's calls per second are not that lock's.
 */
static const unsigned short command_weight[NR_COMMANDS] = {
	[C_INFO] = 60, [C_NOP] = 40, [C_DEFINE] = 5, [C_UNDEFINE] = 1,
	[C_QUERY] = 4, [C_OP] = 340, [C_BATCH] = 180, [C_VALUE] = 355,
	[C_CONTEXT_NEW] = 15,
};

static unsigned int pick_command(uint64_t *s)
{
	unsigned int c, x = below(s, 1000);

	for (c = 0; c < NR_COMMANDS - 1 && x >= command_weight[c]; c++)
		x -= command_weight[c];
	return c;
}

/* "BATCH cmd 0xc018ba06 on the read-only fd, arg ok" and the arg's bytes. */
static void describe(const struct call *c, char *what, size_t n,
		     char hex[2 * sizeof(c->in) + 1])
{
	size_t i;

	snprintf(what, n, "%s cmd 0x%08x on the %s fd, arg %s",
		 c->c < NR_COMMANDS ? commands[c->c].name : "raw", c->cmd,
		 target_names[c->target], ptr_names[c->ptr]);
	for (i = 0; i < c->size && i < sizeof(c->in); i++)
		sprintf(hex + 2 * i, "%02x", c->in[i]);
	hex[2 * i] = '\0';
}

static void fail_call(struct run *r, unsigned int t, uint64_t n,
		      struct call *c, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fail_call(struct run *r, unsigned int t, uint64_t n,
		      struct call *c, const char *fmt, ...)
{
	char why[256], what[128], hex[2 * sizeof(c->in) + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	describe(c, what, sizeof(what), hex);
	pthread_mutex_lock(&r->report_lock);
	if (atomic_fetch_add(&r->failures, 1) < 5)
		fprintf(stderr,
			"katomic: fuzz: FAIL thread %u call %" PRIu64
			" (--replay 0x%016" PRIx64 "): %s: %s [arg %s]\n",
			t, n, c->seed, what, why, hex);
	pthread_mutex_unlock(&r->report_lock);
	atomic_store(&r->stop, true);
}

/* Makes the call of seed on env; returns its errno (0: success). */
static int make_call(struct run *r, struct arena *a, uint64_t seed,
		     unsigned int t, uint64_t n, struct tally *tl)
{
	const struct env *env = &r->env;
	const struct katomic_info *info;
	union {
		struct katomic_info info;
		struct katomic_define d;
		struct katomic_op op;
		struct katomic_batch b;
		struct katomic_value_op v;
		struct katomic_context k;
		unsigned char raw[64];
	} in, got;
	struct timespec t0;
	struct call c;
	const char *p = NULL;
	unsigned char *w;
	uint64_t arg;
	bool rdonly;
	int ret, err;

	memset(&c, 0, offsetof(struct call, ops));	/* ops: as generated */
	c.seed = seed;
	c.s = mix(seed) | 1;
	c.target = below(&c.s, NR_TARGETS);
	info = &env->info[c.target];
	rdonly = c.target == FD_RDONLY;
	c.ptr = chance(&c.s, 88) ? PTR_OK : below(&c.s, NR_PTRS);
	memset(&in, CANARY, sizeof(in));
	if (chance(&c.s, 25)) {
		gen_raw(&c);
		memcpy(&in, c.in, sizeof(in));
	} else {
		c.c = pick_command(&c.s);
		c.cmd = commands[c.c].cmd;
		switch (c.c) {
		case C_DEFINE:
		case C_UNDEFINE:
		case C_QUERY:
			gen_define(&c, &in.d, info, c.c);
			allow_list(&c.ok, (const int[]){ EINVAL, ENOENT, 0 });
			if (c.c == C_DEFINE)
				allow_list(&c.ok, (const int[]){ EEXIST, EOPNOTSUPP,
								 EOVERFLOW, ENOMEM, 0 });
			forbid(&c, rdonly && c.c != C_QUERY,
			       "a change on a read-only fd");
			if (rdonly && c.c != C_QUERY)
				allow(&c.ok, EBADF);
			break;
		case C_OP:
			gen_op(&c, &in.op, info);
			allow_op_errors(&c.ok, rdonly);
			forbid(&c, rdonly && in.op.op != KATOMIC_OP_LOAD,
			       "a change on a read-only fd");
			break;
		case C_BATCH:
			gen_batch(&c, &in.b, info, a);
			break;
		case C_VALUE:
			gen_value(&c, &in.v, info, a, rdonly);
			break;
		case C_CONTEXT_NEW:
			gen_context(&c, &in.k, &env->lim,
				    c.target == FD_PRIVATE);
			forbid(&c, rdonly, "a change on a read-only fd");
			if (rdonly)
				allow(&c.ok, EBADF);
			break;
		}
		c.size = commands[c.c].size;
		memcpy(c.in, &in, c.size);
	}
	/* The argument itself. */
	c.size = c.raw ? _IOC_SIZE(c.cmd) : c.size;
	if (c.size > sizeof(in))
		c.size = sizeof(in);
	arg = place(a, &c.s, c.ptr, 0, 1, &in, c.size, &w);
	if (c.c < NR_COMMANDS && c.c != C_NOP && !c.raw &&
	    faults(c.ptr, _IOC_DIR(c.cmd) & _IOC_READ)) {
		allow(&c.ok, EFAULT);
		forbid(&c, true, "the argument is not accessible");
	}
	/*
	 * Under --faults any allocation or user copy on the call's path may
	 * fail: -ENOMEM and -EFAULT are then clean answers to any call.
	 */
	if (r->o->faults)
		allow_list(&c.ok, (const int[]){ ENOMEM, EFAULT, 0 });
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ioctl(env->fds[c.target], c.cmd, (unsigned long)arg);
	err = ret < 0 ? errno : 0;
	tl->ns[c.raw ? NR_COMMANDS : c.c] += (uint64_t)(elapsed(&t0) * 1e9);
	tl->by_cmd[c.raw ? NR_COMMANDS : c.c]++;
	tally_errno(tl, err);
	if (ret < 0) {
		char buf[16];

		if (!allowed(&c.ok, err))
			fail_call(r, t, n, &c, "returned %s, not one the ABI allows here",
				  errname(err, buf));
		else if (err == ERANGE && c.c == C_VALUE && !c.raw && w &&
			 c.ptr == PTR_OK)
			p = check_value(&c, (void *)w, &in.v, true);
		goto out;
	}
	if (c.must_fail) {
		fail_call(r, t, n, &c, "succeeded (%d), the ABI demands a failure: %s",
			  ret, c.must_fail);
		goto out;
	}
	if (c.raw) {
		fail_call(r, t, n, &c, "an unknown command succeeded (%d)", ret);
		goto out;
	}
	if (c.c == C_CONTEXT_NEW) {
		close(ret);
		goto out;
	}
	if (c.ptr != PTR_OK || !w || c.c == C_NOP ||
	    (c.random && c.c != C_INFO))
		goto out;
	/* A success: check what came back, byte by byte. */
	memcpy(&got, w, c.size);
	tl->canary_checks++;
	switch (c.c) {
	case C_INFO:
		p = check_info(&got.info, info);
		break;
	case C_QUERY:
		p = check_query(&got.d, &in.d);
		break;
	case C_DEFINE:
	case C_UNDEFINE:
		p = memcmp(&got.d, &in.d, sizeof(got.d)) ?
		    "an _IOW argument was written" : NULL;
		break;
	case C_OP:
		p = check_op_out(&got.op, &in.op, info->ptr_bits, true);
		break;
	case C_BATCH:
		p = check_batch(&c, &got.b, &in.b, info, rdonly);
		break;
	case C_VALUE:
		p = check_value(&c, &got.v, &in.v, false);
		break;
	}
out:
	if (p)
		fail_call(r, t, n, &c, "%s", p);
	if (r->o->have_replay) {
		char what[128], hex[2 * sizeof(c.in) + 1];

		describe(&c, what, sizeof(what), hex);
		printf("fuzz: replay 0x%016" PRIx64 ": %s [arg %s]: %s\n",
		       seed, what, hex, err ? strerror(err) : "success");
	}
	return err;
}

/* ---- the threads ------------------------------------------------------------ */

struct worker {
	struct run *r;
	unsigned int t;
	pthread_t tid;
};

/*
 * --faults: from fault_mark(r, true) on, this thread's kernel work meets
 * the fault injection (failslab, fail_page_alloc, fail_usercopy) set up in
 * debugfs with task-filter Y (Documentation/fault-injection/); the
 * helpers are not marked.  What the kernel writes of the thread's own
 * must not meet it, or the thread dies where no call failed:
 *
 *   - its rseq area, written on the way back to user space after a
 *     preemption: a failed write is a SIGSEGV, and the write allocates
 *     when the page is copy-on-write after a helper's fork.  The thread
 *     unregisters it first (glibc then makes system calls for what it
 *     read there);
 *   - its tid, cleared at exit for pthread_join(): the mark comes off
 *     before the thread ends.  Taking it off is a copy from user space,
 *     which may be failed itself (-EFAULT): it is made again.
 */
static int fault_mark(struct run *r, int *fd, bool on)
{
	const char *what = "/proc/thread-self/make-it-fail";
	unsigned int tries = 0;
	int err = 0;

	if (on) {
		if (__rseq_size &&
		    syscall(SYS_rseq,
			    (char *)__builtin_thread_pointer() + __rseq_offset,
			    (uint32_t)sizeof(struct rseq), RSEQ_FLAG_UNREGISTER,
			    RSEQ_SIG) && errno != EINVAL) {
			err = errno;
			what = "unregistering the thread's rseq area";
			goto out;
		}
		/* opened while unmarked: the unmarking needs no open */
		*fd = open(what, O_WRONLY | O_CLOEXEC);
		if (*fd < 0) {
			err = errno;
			goto out;
		}
	}
	while (write(*fd, on ? "1" : "0", 1) != 1) {
		if (errno == EFAULT && !on && ++tries < 1000)
			continue;
		err = errno;
		break;
	}
	if (!on || err)
		close(*fd);
out:
	if (!err)
		return 0;
	pthread_mutex_lock(&r->report_lock);
	if (atomic_fetch_add(&r->failures, 1) == 0)
		report(EXIT_FAILED, CMD, NULL,
		       "--faults: %s: %s%s", what, strerror(err),
		       err == ENOENT ?
		       " (the kernel needs CONFIG_FAULT_INJECTION)" : "");
	pthread_mutex_unlock(&r->report_lock);
	atomic_store(&r->stop, true);
	return -err;
}

static void *fuzz_thread(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	struct tally *tl = &r->fuzz[w->t];
	uint64_t base = mix(r->o->seed ^ mix(w->t + 1)), n;
	struct arena a;
	int mif = -1;

	if (arena_init(&a, r->env.page)) {
		atomic_fetch_add(&r->failures, 1);
		return NULL;
	}
	if (r->o->faults && fault_mark(r, &mif, true)) {
		arena_fini(&a);
		return NULL;
	}
	for (n = 0; !atomic_load_explicit(&r->stop, memory_order_relaxed); n++) {
		make_call(r, &a, mix(base + n), w->t, n, tl);
		if (n % 64 == 63) {
			uint64_t total = atomic_fetch_add(&r->calls, 64) + 64;

			if ((r->o->calls && total >= r->o->calls) ||
			    (r->o->seconds && elapsed(&r->start) >= r->o->seconds))
				atomic_store(&r->stop, true);
		}
	}
	if (r->o->faults)
		fault_mark(r, &mif, false);
	arena_fini(&a);
	return NULL;
}

/*
 * The helpers make the fuzzing threads' calls meet every state, not the
 * run's load: an UNDEFINE holds its context's lock for a grace period,
 * which every DEFINE, UNDEFINE and QUERY of that context waits for.
 */
static void pause_helper(void)
{
	struct timespec ts = { 0, HELPER_PAUSE_NS };

	nanosleep(&ts, NULL);
}

/* A small valid context: fd or -errno. */
static int new_context(int fd, uint64_t *s)
{
	struct katomic_context k = {
		.nr_counters = 1 + below(s, 64), .nr_slots = below(s, 8),
		.value_max = 1 + below(s, 256), .flags = KATOMIC_CTX_CLOEXEC,
	};
	int ret = ioctl(fd, KATOMIC_IOC_CONTEXT_NEW, &k);

	return ret < 0 ? -errno : ret;
}

/* Defines, stores, undefines on fd: the churn that frees with RCU. */
static void churn_objects(int fd, uint64_t *s, unsigned int rounds,
			  atomic_uint_fast64_t *defines)
{
	static const uint8_t ck[] = { 0, 1, 2, 3, 4, 5 }, sk[] = { 0, 1, 6, 7 };
	unsigned char val[64];
	unsigned int i;

	memset(val, 0x5a, sizeof(val));
	for (i = 0; i < rounds; i++) {
		bool counter = chance(s, 50);
		struct katomic_define d = {
			.id = below(s, 8),
			.object = counter ? KATOMIC_OBJ_COUNTER : KATOMIC_OBJ_VALUE,
		};
		struct katomic_value_op v = {
			.id = d.id, .op = KATOMIC_VOP_STORE, .tag = 7,
			.len = 1 + below(s, sizeof(val)), .buf = (uintptr_t)val,
		};

		if (counter) {
			d.type = chance(s, 50) ? KATOMIC_TYPE_INT64 :
				 1 + below(s, KATOMIC_TYPE_LAST);
			d.sync = ck[below(s, 6)];
		} else {
			d.sync = sk[below(s, 4)];
		}
		if (ioctl(fd, KATOMIC_IOC_DEFINE, &d) == 0 && defines)
			atomic_fetch_add_explicit(defines, 1,
						  memory_order_relaxed);
		if (!counter)
			while (chance(s, 70))
				ioctl(fd, KATOMIC_IOC_VALUE, &v);
		if (chance(s, 60)) {
			struct katomic_define u = { .id = d.id,
						    .object = d.object };

			ioctl(fd, KATOMIC_IOC_UNDEFINE, &u);
		}
	}
}

/* Contexts made, filled, shared with a child, and closed. */
static void *churn_thread(void *arg)
{
	struct run *r = arg;
	uint64_t s = mix(r->o->seed ^ 0xc0ffee) | 1;
	int fd;

	while (!atomic_load(&r->stop)) {
		fd = new_context(r->env.fds[FD_GLOBAL], &s);
		if (fd < 0)
			continue;
		churn_objects(fd, &s, 1 + below(&s, 8), &r->defines);
		if (chance(&s, 5)) {
			/* The child uses the shared context and exits. */
			pid_t pid = fork();

			if (pid == 0) {
				uint64_t cs = s ^ 1;

				churn_objects(fd, &cs, 4, NULL);
				_exit(0);
			}
			if (pid > 0) {
				waitpid(pid, NULL, 0);
				r->forks++;
			}
		}
		close(fd);
		r->lifecycles++;
		pause_helper();
	}
	return NULL;
}

/* DEFINE and UNDEFINE on the contexts the fuzz threads use. */
static void *definer_thread(void *arg)
{
	struct run *r = arg;
	uint64_t s = mix(r->o->seed ^ 0xdef1) | 1;

	while (!atomic_load(&r->stop)) {
		churn_objects(r->env.fds[chance(&s, 50) ? FD_GLOBAL : FD_PRIVATE],
			      &s, 4, &r->defines);
		/* Its UNDEFINEs hold the lock the fuzzers' DEFINEs want. */
		pause_helper();
		pause_helper();
		pause_helper();
		pause_helper();
	}
	return NULL;
}

/* delete_module must fail while we hold the module's files. */
static void *rmmod_thread(void *arg)
{
	struct run *r = arg;
	struct timespec ms = { 0, 20 * 1000 * 1000 };

	while (!atomic_load(&r->stop)) {
		long ret = syscall(SYS_delete_module, "katomic", O_NONBLOCK);

		r->rmmod_tries++;
		if (ret == 0) {
			fprintf(stderr, "katomic: fuzz: FAIL delete_module(\"katomic\") succeeded while its files are open\n");
			atomic_fetch_add(&r->failures, 1);
			atomic_store(&r->stop, true);
			break;
		}
		if (errno == EBUSY || errno == EAGAIN) {
			r->rmmod_refused++;
		} else {
			r->rmmod_note = errno == EPERM ? "not permitted" :
					errno == ENOENT ? "no module katomic" :
					"unexpected errno";
			if (errno != EPERM && errno != ENOENT) {
				fprintf(stderr, "katomic: fuzz: FAIL delete_module(\"katomic\"): %s\n",
					strerror(errno));
				atomic_fetch_add(&r->failures, 1);
			}
			break;
		}
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/* ---- io_uring --------------------------------------------------------------- */

static void uring_prep(struct io_uring_sqe *sqe, int fd, __u32 cmd_op,
		       const struct katomic_op *op, uint64_t data, bool async)
{
	/* The command area runs past struct io_uring_sqe (SQE128). */
	memset(sqe, 0, offsetof(struct io_uring_sqe, cmd));
	memset(sqe->cmd, 0, 128 - offsetof(struct io_uring_sqe, cmd));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	sqe->user_data = data;
	sqe->flags = async ? IOSQE_ASYNC : 0;
	memcpy(sqe->cmd, op, sizeof(*op));
}

/*
 * Submits n commands on fd (random ops, some with a wrong cmd_op, some
 * forced to io-wq), maybe closes fd before reaping, and checks each
 * completion: -errno of the allowed set, or applied 0/1, the result
 * extended for its type and the second extra word 0.
 */
static void uring_round(struct run *r, struct io_uring *ring, int fd,
			bool rdonly, const struct katomic_info *info,
			uint64_t *s, bool close_early)
{
	struct katomic_op ops[32];
	__u32 cmd_ops[32];
	struct io_uring_cqe *cqe;
	unsigned int i, n = 1 + below(s, 32), seen;
	struct call c;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (!sqe) {	/* cannot be: every round reaps all */
			n = i;
			break;
		}
		memset(&c, 0, offsetof(struct call, ops));
		c.s = rnd(s) | 1;
		gen_op(&c, &ops[i], info);
		cmd_ops[i] = chance(s, 3) ? (__u32)rnd(s) : KATOMIC_IOC_OP;
		uring_prep(sqe, fd, cmd_ops[i], &ops[i], i, chance(s, 10));
	}
	if (io_uring_submit(ring) < 0) {
		atomic_store(&r->stop, true);
		return;
	}
	if (close_early) {
		close(fd);
		r->uring_closes++;
	}
	for (seen = 0; seen < n; seen++) {
		struct errset e = { { 0 } };
		const char *p = NULL;
		int ret;

		do {
			ret = io_uring_wait_cqe(ring, &cqe);
		} while (ret == -EINTR);
		if (ret < 0) {
			fprintf(stderr, "katomic: fuzz: FAIL io_uring_wait_cqe: %s\n",
				strerror(-ret));
			atomic_fetch_add(&r->failures, 1);
			atomic_store(&r->stop, true);
			return;
		}
		i = cqe->user_data;
		allow_op_errors(&e, rdonly);
		allow(&e, EINTR);
		allow(&e, ENOTTY);
		allow(&e, ECANCELED);
		tally_errno(&r->uring, cqe->res < 0 ? -cqe->res : 0);
		if (i >= n)
			p = "a completion of no submission";
		else if (cqe->res < 0 && !allowed(&e, -cqe->res))
			p = "an errno the ABI does not allow";
		else if (cqe->res >= 0 && cmd_ops[i] != KATOMIC_IOC_OP)
			p = "an unknown cmd_op succeeded";
		else if (cqe->res > 1 || (cqe->res >= 0 && cqe->big_cqe[1]))
			p = "res not 0/1, or the second extra word not 0";
		else if (cqe->res >= 0 &&
			 !extended(ops[i].type, cqe->big_cqe[0], info->ptr_bits))
			p = "result not extended for its type";
		if (p) {
			fprintf(stderr, "katomic: fuzz: FAIL uring_cmd op %u type %u id %u cmd_op 0x%x: res %d: %s\n",
				i < n ? ops[i].op : 0, i < n ? ops[i].type : 0,
				i < n ? ops[i].id : 0,
				i < n ? cmd_ops[i] : 0, cqe->res, p);
			atomic_fetch_add(&r->failures, 1);
			atomic_store(&r->stop, true);
		}
		io_uring_cqe_seen(ring, cqe);
	}
}

static void *uring_thread(void *arg)
{
	struct run *r = arg;
	uint64_t s = mix(r->o->seed ^ 0x1a1a) | 1, round;
	struct io_uring ring;
	int t, fd;

	if (io_uring_queue_init(URING_ENTRIES, &ring,
				IORING_SETUP_SQE128 | IORING_SETUP_CQE32))
		return NULL;	/* no io_uring here: say so in the summary */
	for (round = 0; !atomic_load(&r->stop); round++) {
		if (round % 16 == 15) {
			/* A context of its own, closed with commands in flight. */
			struct katomic_info info;

			fd = new_context(r->env.fds[FD_GLOBAL], &s);
			if (fd < 0)
				continue;
			churn_objects(fd, &s, 4, &r->defines);
			if (ioctl(fd, KATOMIC_IOC_INFO, &info) == 0)
				uring_round(r, &ring, fd, false, &info, &s, true);
			else
				close(fd);
		} else {
			t = below(&s, NR_TARGETS);
			uring_round(r, &ring, r->env.fds[t], t == FD_RDONLY,
				    &r->env.info[t], &s, false);
		}
		pause_helper();
		if (round % 64 == 63) {
			/* Torn down with submissions it never waited for. */
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			struct katomic_op op = {
				.type = KATOMIC_TYPE_INT64, .op = KATOMIC_OP_LOAD,
			};

			if (sqe) {
				uring_prep(sqe, r->env.fds[FD_PRIVATE],
					   KATOMIC_IOC_OP, &op, 0, true);
				io_uring_submit(&ring);
			}
			io_uring_queue_exit(&ring);
			r->uring_teardowns++;
			if (io_uring_queue_init(URING_ENTRIES, &ring,
						IORING_SETUP_SQE128 |
						IORING_SETUP_CQE32))
				return NULL;
		}
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

/* ---- set-up, options, summary ------------------------------------------------- */

static int read_param(const char *name, unsigned long *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), SYSFS_PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%lu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int env_open(struct env *e, const char *device,
		    const char *(*open_hint)(int err))
{
	static const char *const pnames[] = {
		"max_counters", "max_slots", "max_value", "max_batch",
	};
	unsigned long *pv[] = { &e->lim.max_counters, &e->lim.max_slots,
				&e->lim.max_value, &e->lim.max_batch };
	struct katomic_context k = {
		.nr_counters = 64, .nr_slots = 16, .value_max = 512,
		.flags = KATOMIC_CTX_CLOEXEC,
	};
	unsigned int i;

	e->device = device ? device : "/dev/katomic";
	e->page = sysconf(_SC_PAGESIZE);
	e->fds[FD_GLOBAL] = open(e->device, O_RDWR | O_CLOEXEC);
	e->fds[FD_RDONLY] = open(e->device, O_RDONLY | O_CLOEXEC);
	if (e->fds[FD_GLOBAL] < 0 || e->fds[FD_RDONLY] < 0) {
		int err = errno;

		return report(EXIT_FAILED, CMD, e->device, "%s%s", strerror(err),
			      open_hint ? open_hint(-err) : "");
	}
	e->fds[FD_PRIVATE] = ioctl(e->fds[FD_GLOBAL], KATOMIC_IOC_CONTEXT_NEW, &k);
	if (e->fds[FD_PRIVATE] < 0)
		return report(EXIT_FAILED, CMD, e->device, "CONTEXT_NEW: %s",
			      strerror(errno));
	for (i = 0; i < NR_TARGETS; i++)
		if (ioctl(e->fds[i], KATOMIC_IOC_INFO, &e->info[i]))
			return report(EXIT_FAILED, CMD, e->device, "INFO: %s",
				      strerror(errno));
	/* The limits: the module's parameters, else the ABI's defaults. */
	e->lim = (struct limits){ 65536, 4096, 1048576,
				  e->info[FD_GLOBAL].max_batch };
	for (i = 0; i < 4; i++)
		read_param(pnames[i], pv[i]);
	return EXIT_OK;
}

static void env_close(struct env *e)
{
	unsigned int i;

	for (i = 0; i < NR_TARGETS; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
}

void fuzz_usage(FILE *f)
{
	fputs("usage: katomic [--device PATH] fuzz [OPTION]...\n"
	      "\n"
	      "Random and structure-aware ioctls on the device from --threads threads,\n"
	      "every result checked against the ABI (spec/abi.md), while helper threads\n"
	      "create, use, fork and close private contexts, define and undefine objects,\n"
	      "submit io_uring commands (closing contexts and rings with commands in\n"
	      "flight) and try to unload the module (delete_module must fail while its\n"
	      "files are open).  Stops after --seconds or --calls, whichever comes\n"
	      "first; then prints calls, calls/s and the errno mix.\n"
	      "\n"
	      "options:\n"
	      "  --threads N      fuzzing threads (default 2, at most 64)\n"
	      "  --seconds S      run for S seconds (default 10; 0: no limit)\n"
	      "  --calls C        stop after about C fuzzing calls (default: no limit)\n"
	      "  --seed X         the run's seed (default: from the clock; printed)\n"
	      "  --replay SEED    make the one call a failure line names, and judge it\n"
	      "  --no-rmmod       do not try to unload the module\n"
	      "  --quiet          print the summary line only\n"
	      "  --faults         mark the fuzzing threads for fault injection\n"
	      "                   (/proc/thread-self/make-it-fail): with failslab,\n"
	      "                   fail_page_alloc or fail_usercopy set up in debugfs\n"
	      "                   with task-filter Y, their calls meet injected\n"
	      "                   failures, and -ENOMEM and -EFAULT are allowed from\n"
	      "                   every call (a debug kernel: make check-debug)\n"
	      "\n"
	      "A failure prints one line per call (at most 5): the thread, the call's\n"
	      "number and its seed, the command, the fd, where its argument was, what\n"
	      "was wrong and the argument's bytes; the run stops and exits 1.\n"
	      "Calls of several threads race: --seed replays each thread's calls, not\n"
	      "their interleaving, and --replay makes one call on fresh contexts.\n",
	      f);
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option_spec spec[] = {
		{ "--threads", true }, { "--seconds", true },
		{ "--calls", true }, { "--seed", true }, { "--replay", true },
		{ "--no-rmmod", false }, { "--quiet", false },
		{ "--faults", false },
	};
	const char *v;
	uint64_t x;
	int i, k, ret;

	*o = (struct opts){ .threads = 2, .seconds = 10, .rmmod = true };
	o->seed = mix((uint64_t)time(NULL) ^ (uint64_t)getpid() << 32);
	for (i = 1; i < argc; i++) {
		k = option_match(argc, argv, &i, spec, 8, &v);
		if (k < 0)
			return usage_error("unknown option '%s' (katomic help fuzz)",
					   argv[i]);
		if (spec[k].valued && !v)
			return usage_error("%s needs a value", argv[i]);
		ret = EXIT_OK;
		switch (k) {
		case 0:
			ret = option_uint(CMD, "--threads", v, 1, MAX_THREADS, &x);
			o->threads = x;
			break;
		case 1:
			ret = option_uint(CMD, "--seconds", v, 0, 86400, &o->seconds);
			break;
		case 2:
			ret = option_uint(CMD, "--calls", v, 1, UINT64_MAX, &o->calls);
			break;
		case 3:
			ret = option_uint(CMD, "--seed", v, 0, UINT64_MAX, &o->seed);
			break;
		case 4:
			ret = option_uint(CMD, "--replay", v, 0, UINT64_MAX,
					  &o->replay);
			o->have_replay = true;
			break;
		case 5:
			o->rmmod = false;
			break;
		case 6:
			o->quiet = true;
			break;
		case 7:
			o->faults = true;
			break;
		}
		if (ret)
			return ret;
	}
	if (!o->seconds && !o->calls && !o->have_replay)
		return usage_error("--seconds 0 needs --calls");
	return EXIT_OK;
}

static void print_summary(struct run *r, double secs)
{
	uint64_t hist[NERR + 1] = { 0 }, calls = 0, canaries = 0;
	unsigned int t, e;
	char buf[16];

	for (t = 0; t < r->o->threads; t++) {
		calls += r->fuzz[t].calls;
		canaries += r->fuzz[t].canary_checks;
		for (e = 0; e <= NERR; e++)
			hist[e] += r->fuzz[t].hist[e];
	}
	printf("fuzz: %" PRIu64 " calls in %.1f s (%.0f calls/s) by %u threads, seed 0x%016" PRIx64 "\n",
	       calls, secs, secs > 0 ? calls / secs : 0.0, r->o->threads,
	       r->o->seed);
	if (r->o->quiet)
		return;
	printf("fuzz: results:");
	for (e = 0; e <= NERR; e++)
		if (hist[e])
			printf(" %s %.1f%%", e == 0 ? "ok" : e == NERR ? "other" :
			       errname(e, buf), 100.0 * hist[e] / calls);
	printf("\nfuzz: calls, mean time in the ioctl:");
	for (e = 0; e <= NR_COMMANDS; e++) {
		uint64_t n = 0, ns = 0;

		for (t = 0; t < r->o->threads; t++) {
			n += r->fuzz[t].by_cmd[e];
			ns += r->fuzz[t].ns[e];
		}
		printf(" %s %" PRIu64 " %.0f us", e < NR_COMMANDS ?
		       commands[e].name : "raw", n, n ? ns / 1e3 / n : 0.0);
	}
	printf("\nfuzz: %" PRIu64 " successes checked byte by byte against the canary\n",
	       canaries);
	printf("fuzz: io_uring: %" PRIu64 " commands (%" PRIu64 " ok), %" PRIu64
	       " contexts closed with commands in flight, %" PRIu64 " rings torn down unreaped\n",
	       r->uring.calls, r->uring.hist[0], r->uring_closes,
	       r->uring_teardowns);
	printf("fuzz: helpers: %" PRIu64 " context lifecycles (%" PRIu64
	       " shared with a child), %" PRIu64 " defines; rmmod: %" PRIu64
	       " tries, %" PRIu64 " refused (EBUSY/EAGAIN)%s%s\n",
	       r->lifecycles, r->forks, (uint64_t)atomic_load(&r->defines),
	       r->rmmod_tries,
	       r->rmmod_refused, r->rmmod_note ? ", then " : "",
	       r->rmmod_note ? r->rmmod_note : "");
}

int fuzz_main(int argc, char **argv, const char *device,
	      const char *(*open_hint)(int err))
{
	static struct run run;	/* big: the tallies */
	struct worker w[MAX_THREADS];
	pthread_t helpers[4];
	struct opts o;
	unsigned int t, nh = 0;
	int ret;

	ret = parse(argc, argv, &o);
	if (ret)
		return ret;
	memset(&run, 0, sizeof(run));
	run.o = &o;
	pthread_mutex_init(&run.report_lock, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = env_open(&run.env, device, open_hint);
	if (ret) {
		env_close(&run.env);
		return ret;
	}
	if (o.have_replay) {
		struct arena a;

		if (arena_init(&a, run.env.page))
			return report(EXIT_FAILED, CMD, NULL, "no memory");
		make_call(&run, &a, o.replay, 0, 0, &run.fuzz[0]);
		arena_fini(&a);
		env_close(&run.env);
		return atomic_load(&run.failures) ? EXIT_FAILED : EXIT_OK;
	}
	/*
	 * A marked thread's page fault meets the injection too (the kernel
	 * retries it: "VM_FAULT_OOM leaked out"): locked in, the threads'
	 * stacks and arenas are in memory before they are marked.
	 */
	if (o.faults && mlockall(MCL_CURRENT | MCL_FUTURE))
		return report(EXIT_FAILED, CMD, NULL, "--faults: mlockall: %s",
			      strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &run.start);
	for (t = 0; t < o.threads; t++) {
		w[t] = (struct worker){ .r = &run, .t = t };
		if (pthread_create(&w[t].tid, NULL, fuzz_thread, &w[t]))
			return report(EXIT_FAILED, CMD, NULL, "no threads");
	}
	pthread_create(&helpers[nh++], NULL, churn_thread, &run);
	pthread_create(&helpers[nh++], NULL, definer_thread, &run);
	pthread_create(&helpers[nh++], NULL, uring_thread, &run);
	if (o.rmmod)
		pthread_create(&helpers[nh++], NULL, rmmod_thread, &run);
	for (t = 0; t < o.threads; t++)
		pthread_join(w[t].tid, NULL);
	atomic_store(&run.stop, true);
	while (nh)
		pthread_join(helpers[--nh], NULL);
	print_summary(&run, elapsed(&run.start));
	env_close(&run.env);
	if (atomic_load(&run.failures))
		return report(EXIT_FAILED, CMD, NULL,
			      "%d call(s) had results the ABI does not allow",
			      atomic_load(&run.failures));
	return EXIT_OK;
}
