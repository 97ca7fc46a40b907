/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the katomic value-slot selftests: the slot kinds taken from
 * the uapi's sync table, raw wrappers of slot DEFINE/UNDEFINE/QUERY and
 * KATOMIC_IOC_VALUE, the errno the contract gives a slot DEFINE (abi.md
 * and notes/values.md, in their order of checks), and value patterns
 * whose mixes a reader can tell from the values themselves.
 *
 * Include after kselftest_harness.h and katomic_test.h.
 */
#ifndef KATOMIC_VALUE_SELFTEST_H
#define KATOMIC_VALUE_SELFTEST_H

#include "katomic_test.h"

/* ---- the slot kinds, from KATOMIC_SYNC_TABLE ----------------------------- */

/*
 * What each sync kind is to a slot: S a slot kind, A DEFAULT (which a
 * slot resolves to RCU), N a counter kind (-EOPNOTSUPP).  A kind added to
 * the uapi's table without a line here does not compile.
 */
#define KV__SLOT_DEFAULT	A
#define KV__SLOT_NONE		S
#define KV__SLOT_ATOMIC		N
#define KV__SLOT_SPINLOCK	N
#define KV__SLOT_MUTEX		N
#define KV__SLOT_PERCPU		N
#define KV__SLOT_RCU		S
#define KV__SLOT_SEQLOCK	S

/* The sets: ALL the kinds DEFINE takes for a slot, RES the resolved ones. */
#define KV__IN_ALL_S(...)	__VA_ARGS__
#define KV__IN_ALL_A(...)	__VA_ARGS__
#define KV__IN_ALL_N(...)
#define KV__IN_RES_S(...)	__VA_ARGS__
#define KV__IN_RES_A(...)
#define KV__IN_RES_N(...)
#define KV__PASTE_(a, b)	a##b
#define KV__PASTE(a, b)		KV__PASTE_(a, b)
/* The rest of the arguments if sync kind N is in set (ALL or RES). */
#define KV__IF(set, N, ...) \
	KV__PASTE(KV__IN_##set##_, KV__SLOT_##N)(__VA_ARGS__)

struct kv_kind {
	const char *name;
	__u8 sync;		/* KATOMIC_SYNC_* */
};

#define KV__KIND_ROW(N, nr, lname) \
	KV__IF(ALL, N, { .name = #lname, .sync = (nr) },)
/* The kinds a slot takes, DEFAULT included. */
static const struct kv_kind kv_kinds[] = {
	KATOMIC_SYNC_TABLE(KV__KIND_ROW)
};
#define KV_NR_KINDS	KT_ARRAY_SIZE(kv_kinds)

/* The kind DEFINE makes of a slot's sync: DEFAULT is RCU. */
static inline __u8 kv_sync_resolve(__u8 sync)
{
	return sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_RCU : sync;
}

/* Does a slot take sync (else -EOPNOTSUPP, or -EINVAL past the table)? */
static inline bool kv_sync_slot(__u8 sync)
{
	unsigned int i;

	for (i = 0; i < KV_NR_KINDS; i++)
		if (kv_kinds[i].sync == sync)
			return true;
	return false;
}

/*
 * A fixture run once per slot kind: a program defines KV_KIND_FIXTURE as
 * the fixture's name, then KV_KIND_VARIANTS(ALL) declares its variant
 * (the sync given to DEFINE in sync) and adds one per kind a slot takes,
 * DEFAULT included; KV_KIND_VARIANTS(RES) only the resolved kinds.
 */
#define KV__VARIANT(f)			FIXTURE_VARIANT(f)
#define KV__VARIANT_ADD(f, v)		FIXTURE_VARIANT_ADD(f, v)
#define KV__VARIANT_ROW_ALL(N, nr, lname) \
	KV__IF(ALL, N, KV__VARIANT_ADD(KV_KIND_FIXTURE, lname) { .sync = (nr) };)
#define KV__VARIANT_ROW_RES(N, nr, lname) \
	KV__IF(RES, N, KV__VARIANT_ADD(KV_KIND_FIXTURE, lname) { .sync = (nr) };)
#define KV_KIND_VARIANTS(set)						\
	KV__VARIANT(KV_KIND_FIXTURE) {					\
		__u8 sync;						\
	};								\
	KATOMIC_SYNC_TABLE(KV__VARIANT_ROW_##set)

/* ---- DEFINE, UNDEFINE, QUERY of slots ------------------------------------ */

static inline void kv_define_init(struct katomic_define *d, __u32 id,
				  __u8 sync)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->object = KATOMIC_OBJ_VALUE;
	d->sync = sync;
}

static inline int kv_define(int fd, __u32 id, __u8 sync)
{
	struct katomic_define d;

	kv_define_init(&d, id, sync);
	return kt_ioctl(fd, KATOMIC_IOC_DEFINE, &d);
}

static inline int kv_undefine(int fd, __u32 id)
{
	struct katomic_define d;

	kv_define_init(&d, id, 0);
	return kt_ioctl(fd, KATOMIC_IOC_UNDEFINE, &d);
}

/* QUERY of slot id, its out fields (type, sync, param) poisoned first. */
static inline int kv_query(int fd, __u32 id, struct katomic_define *d)
{
	kv_define_init(d, id, 0xee);
	d->type = 0xee;
	d->param = KT_POISON;
	return kt_ioctl(fd, KATOMIC_IOC_QUERY, d);
}

/* (Re)define slot id as kind sync, whatever state it was left in. */
static inline int kv_redefine(int fd, __u32 id, __u8 sync)
{
	kv_undefine(fd, id);
	return kv_define(fd, id, sync);
}

/*
 * The errno of a slot DEFINE (d->object KATOMIC_OBJ_VALUE) in the order of
 * notes/values.md: id, flags, reserved, type, a sync past the table
 * (-EINVAL); a counter kind (-EOPNOTSUPP); init, param (-EINVAL); an id
 * already defined (-EEXIST).
 */
static inline int kv_define_errno(const struct katomic_define *d,
				  const struct katomic_info *info,
				  bool defined)
{
	if (d->id >= info->nr_slots || d->flags || d->reserved || d->type ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	if (!kv_sync_slot(d->sync))
		return -EOPNOTSUPP;
	if (d->init || d->param)
		return -EINVAL;
	return defined ? -EEXIST : 0;
}

/* ---- KATOMIC_IOC_VALUE ------------------------------------------------ */

static inline void kv_op_init(struct katomic_value_op *v, __u32 id, __u8 op)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->op = op;
}

/* The new value of a STORE, SWAP or CAS. */
static inline void kv_op_value(struct katomic_value_op *v, __u32 tag,
			       const void *buf, __u32 len)
{
	v->tag = tag;
	v->len = len;
	v->buf = (uintptr_t)buf;
}

/* LOAD's and SWAP's out buffer, or CAS's expected value (out_tag apart). */
static inline void kv_op_out(struct katomic_value_op *v, void *out,
			     __u32 out_len)
{
	v->out = (uintptr_t)out;
	v->out_len = out_len;
}

static inline int kv_vop(int fd, struct katomic_value_op *v)
{
	return kt_ioctl(fd, KATOMIC_IOC_VALUE, v);
}

/* What an op wrote back: out_len, out_tag, version, applied. */
struct kv_res {
	__u32 len;
	__u32 tag;
	__u64 version;
	__u8 applied;
};

static inline int kv_run(int fd, struct katomic_value_op *v,
			 struct kv_res *res)
{
	int r = kv_vop(fd, v);

	if (res) {
		res->len = v->out_len;
		res->tag = v->out_tag;
		res->version = v->version;
		res->applied = v->applied;
	}
	return r;
}

static inline int kv_load(int fd, __u32 id, void *out, __u32 cap,
			  struct kv_res *res)
{
	struct katomic_value_op v;

	kv_op_init(&v, id, KATOMIC_VOP_LOAD);
	kv_op_out(&v, out, cap);
	return kv_run(fd, &v, res);
}

static inline int kv_store(int fd, __u32 id, __u32 tag, const void *buf,
			   __u32 len, struct kv_res *res)
{
	struct katomic_value_op v;

	kv_op_init(&v, id, KATOMIC_VOP_STORE);
	kv_op_value(&v, tag, buf, len);
	return kv_run(fd, &v, res);
}

static inline int kv_swap(int fd, __u32 id, __u32 tag, const void *buf,
			  __u32 len, void *out, __u32 cap, struct kv_res *res)
{
	struct katomic_value_op v;

	kv_op_init(&v, id, KATOMIC_VOP_SWAP);
	kv_op_value(&v, tag, buf, len);
	kv_op_out(&v, out, cap);
	return kv_run(fd, &v, res);
}

/* CAS from (etag, expect, elen) to (tag, buf, len); res->applied. */
static inline int kv_cas(int fd, __u32 id, __u32 tag, const void *buf,
			 __u32 len, __u32 etag, const void *expect, __u32 elen,
			 struct kv_res *res)
{
	struct katomic_value_op v;

	kv_op_init(&v, id, KATOMIC_VOP_CAS);
	kv_op_value(&v, tag, buf, len);
	kv_op_out(&v, (void *)expect, elen);
	v.out_tag = etag;
	return kv_run(fd, &v, res);
}

static inline const char *kv_vop_name(__u8 op)
{
#define KV__VOP_NAME(N, nr, lname)	case nr: return #N;
	switch (op) {
	KATOMIC_VOP_TABLE(KV__VOP_NAME)
	}
#undef KV__VOP_NAME
	return "?";
}

/* ---- values a reader can judge ----------------------------------------- */

/* len bytes of the sequence seed names: distinct seeds, distinct values. */
static inline void kv_fill(void *buf, size_t len, __u64 seed)
{
	unsigned char *p = buf;
	__u64 state = seed, w = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i % 8))
			w = kt_rand(&state);
		p[i] = w >> (8 * (i % 8));
	}
}

/* Are all len bytes of buf equal (a tear study value, len >= 1)? */
static inline bool kv_uniform(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	return !len || !memcmp(p, p + 1, len - 1);
}

/* len bytes of the 64-bit number n over and over (the last one cut). */
static inline void kv_fill_num(void *buf, size_t len, __u64 n)
{
	size_t i;

	for (i = 0; i < len; i += 8)
		memcpy((char *)buf + i, &n, len - i < 8 ? len - i : 8);
}

/* The number kv_fill_num() repeated in buf, or ~0 if buf is not one. */
static inline __u64 kv_num_of(const void *buf, size_t len)
{
	unsigned char want[8];
	__u64 n = 0;
	size_t i;

	if (len < 8)
		return ~0ULL;
	memcpy(&n, buf, 8);
	memcpy(want, &n, 8);
	for (i = 8; i < len; i++)
		if (((const unsigned char *)buf)[i] != want[i % 8])
			return ~0ULL;
	return n;
}

#endif /* KATOMIC_VALUE_SELFTEST_H */
