// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A twin's value slots: Go's atomic.Value with the module's semantics and
 * errnos (spec/abi.md, "Value operations"; the order of the checks is the
 * module's, see slot_write()).  Go's rules -- Store(nil), the tag fixed by the first
 * store, -E2BIG, -ERANGE with the length needed, CAS's comparison, the
 * version -- are written once, in slot_load() and slot_write().  A slot
 * kind (slot_kinds[]) only says how a value is published and read:
 *
 *   RCU      each value an immutable buffer, published with
 *            rcu_xchg_pointer and freed by call_rcu after a grace period
 *            (liburcu's urcu-memb flavour, which needs no signals).
 *            Loads copy inside a read-side critical section.
 *   SEQLOCK  the user-space twin of a seqlock is a mutex slot: one buffer
 *            written in place, the slot's mutex held by every op.
 *   NONE     one buffer written in place; loads take nothing and copy
 *            with relaxed 8-byte atomic loads while a store may be writing
 *            it with relaxed stores: well-defined C that still tears.
 *
 * Writers of every kind are serialised by the slot's mutex, so the tag
 * and the version stay right even for NONE.  A slot's meta word is
 * claimed and published as a counter's is (twin.c): an op must not race
 * UNDEFINE of its own slot.
 */
#define _LGPL_SOURCE	/* liburcu's read-side fast paths, inlined */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "internal.h"

#define SLOT_LINE	64
#define WORD		sizeof(uint64_t)

/* meta: 0 undefined, BUSY being (un)defined, else LIVE | sync */
#define META_BUSY	(1U << 31)
#define META_LIVE	(1U << 30)
#define META_SYNC(m)	((m) & 0xff)

/* An RCU slot's value: immutable once published. */
struct rcu_value {
	struct rcu_head rcu;
	__u64 version;		/* the slot's version this store made */
	__u32 tag, len;
	alignas(WORD) unsigned char bytes[];
};

struct twin_slot {
	alignas(SLOT_LINE) _Atomic uint32_t meta;
	_Atomic uint32_t tag;		/* fixed by the first store; 0 before */
	_Atomic uint64_t version;	/* successful stores, changed under lock */
	pthread_mutex_t lock;		/* writers; SEQLOCK's loads too */
	union {
		struct rcu_value *rcu;	/* RCU: the value, NULL while empty */
		struct {		/* NONE, SEQLOCK: the value in place */
			_Atomic uint32_t len;
			void *buf;	/* value_max bytes, in whole words */
		} place;
	};
};

struct katomic__slots {
	unsigned int nr, value_max;
	struct twin_slot *slots;
};

/* What an op sees of a slot's value. */
struct slot_view {
	__u64 version;
	__u32 tag, len;		/* 0, 0: empty (Go's nil) */
	const void *bytes;
};

/* How a slot kind publishes and reads a value. */
struct slot_kind {
	/*
	 * DEFINE: the kind's storage (0 or -errno).  UNDEFINE: fini frees
	 * it, or part of it later: then it returns true, and drain (called
	 * once for any number of finis) waits until all of it is freed.
	 */
	int (*init)(struct twin_slot *s, unsigned int value_max);
	bool (*fini)(struct twin_slot *s);
	void (*drain)(void);
	/* LOAD: enters the read side (0 or -errno) and views the value. */
	int (*read_lock)(struct twin_slot *s, struct slot_view *v);
	void (*read_unlock)(struct twin_slot *s);
	/* A writer, under the slot's lock: the value as it is. */
	void (*current)(struct twin_slot *s, struct slot_view *v);
	/* Copies n bytes of a viewed value (from its bytes + a multiple of 8). */
	void (*copy)(void *dst, const void *src, size_t n);
	/*
	 * Before the lock: what publish needs of the new value (NULL: a kind
	 * that writes in place), 0 or -errno; discard undoes it if the op
	 * does not store.
	 */
	int (*prepare)(void **prep, const void *buf, __u32 len);
	void (*discard)(void *prep);
	/* Under the lock: makes (tag, buf, len) the value, at version. */
	void (*publish)(struct twin_slot *s, void *prep, __u32 tag,
			const void *buf, __u32 len, __u64 version);
};

static void copy_plain(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

/* RCU ------------------------------------------------------------------ */

/*
 * Threads that read (and call call_rcu) must be registered with liburcu:
 * a thread registers the first time it uses an RCU slot, and a pthread
 * key's destructor unregisters it when it exits.  The fork handlers are
 * liburcu's own, so that a child has its call_rcu thread.
 */
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;
static pthread_key_t rcu_key;
static int rcu_setup_error;
static _Thread_local bool rcu_registered;

/* A later key destructor that uses an RCU slot registers the thread again. */
static void rcu_thread_exit(void *unused)
{
	(void)unused;
	urcu_memb_unregister_thread();
	rcu_registered = false;
}

static void rcu_setup(void)
{
	rcu_setup_error = pthread_key_create(&rcu_key, rcu_thread_exit);
	if (!rcu_setup_error)
		rcu_setup_error = pthread_atfork(urcu_memb_call_rcu_before_fork,
					urcu_memb_call_rcu_after_fork_parent,
					urcu_memb_call_rcu_after_fork_child);
}

/* Registers this thread, once: 0, or -ENOMEM if that cannot be set up. */
static int rcu_thread(void)
{
	if (rcu_registered)
		return 0;
	pthread_once(&rcu_once, rcu_setup);
	if (rcu_setup_error)
		return -ENOMEM;
	urcu_memb_register_thread();
	if (pthread_setspecific(rcu_key, &rcu_registered)) {
		urcu_memb_unregister_thread();
		return -ENOMEM;
	}
	rcu_registered = true;
	return 0;
}

static void rcu_free_value(struct rcu_head *head)
{
	free(caa_container_of(head, struct rcu_value, rcu));
}

static void rcu_view(const struct rcu_value *p, struct slot_view *v)
{
	if (p)
		*v = (struct slot_view){ p->version, p->tag, p->len, p->bytes };
	else
		*v = (struct slot_view){ 0 };
}

static int rcu_slot_init(struct twin_slot *s, unsigned int value_max)
{
	(void)value_max;
	s->rcu = NULL;
	return rcu_thread();
}

/*
 * UNDEFINE: after a grace period no load can see the last value.  Values
 * that stores replaced are freed by call_rcu's thread: if there were any,
 * rcu_barrier waits for them (it takes liburcu's thread a few
 * milliseconds to wake up).  Neither needs the thread to be registered.
 */
static bool rcu_slot_fini(struct twin_slot *s)
{
	struct rcu_value *p = rcu_xchg_pointer(&s->rcu, NULL);

	urcu_memb_synchronize_rcu();
	free(p);
	return atomic_load_explicit(&s->version, memory_order_relaxed) > 1;
}

static int rcu_slot_read_lock(struct twin_slot *s, struct slot_view *v)
{
	int ret = rcu_thread();

	if (ret)
		return ret;
	urcu_memb_read_lock();
	rcu_view(rcu_dereference(s->rcu), v);
	return 0;
}

static void rcu_slot_read_unlock(struct twin_slot *s)
{
	(void)s;
	urcu_memb_read_unlock();
}

static void rcu_slot_current(struct twin_slot *s, struct slot_view *v)
{
	rcu_view(rcu_dereference(s->rcu), v);
}

/* The new value's buffer, filled before the lock; call_rcu needs the thread. */
static int rcu_slot_prepare(void **prep, const void *buf, __u32 len)
{
	struct rcu_value *p;
	int ret = rcu_thread();

	if (ret)
		return ret;
	p = malloc(sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	memcpy(p->bytes, buf, len);
	*prep = p;
	return 0;
}

static void rcu_slot_publish(struct twin_slot *s, void *prep, __u32 tag,
			const void *buf, __u32 len, __u64 version)
{
	struct rcu_value *p = prep, *old;

	(void)buf;
	p->version = version;
	p->tag = tag;
	p->len = len;
	old = rcu_xchg_pointer(&s->rcu, p);
	if (old)
		urcu_memb_call_rcu(&old->rcu, rcu_free_value);
}

static const struct slot_kind slot_rcu = {
	.init = rcu_slot_init,
	.fini = rcu_slot_fini,
	.drain = urcu_memb_barrier,
	.read_lock = rcu_slot_read_lock,
	.read_unlock = rcu_slot_read_unlock,
	.current = rcu_slot_current,
	.copy = copy_plain,
	.prepare = rcu_slot_prepare,
	.discard = free,
	.publish = rcu_slot_publish,
};

/* In place: SEQLOCK and NONE --------------------------------------------- */

static int place_init(struct twin_slot *s, unsigned int value_max)
{
	s->place.buf = calloc(((size_t)value_max + WORD - 1) / WORD, WORD);
	atomic_init(&s->place.len, 0);
	return s->place.buf ? 0 : -ENOMEM;
}

static bool place_fini(struct twin_slot *s)
{
	free(s->place.buf);
	s->place.buf = NULL;
	return false;
}

/*
 * The version first: a value is there once a store has counted (with
 * release order after its tag, bytes and length).  Under the lock this is
 * exact; without it (NONE's loads) the bytes and length may already be a
 * later store's, or half of one.
 */
static void place_view(struct twin_slot *s, struct slot_view *v)
{
	v->version = atomic_load_explicit(&s->version, memory_order_acquire);
	v->tag = v->version ? atomic_load_explicit(&s->tag,
						   memory_order_relaxed) : 0;
	v->len = v->version ? atomic_load_explicit(&s->place.len,
						   memory_order_relaxed) : 0;
	v->bytes = s->place.buf;
}

static void place_set_len(struct twin_slot *s, __u32 len)
{
	atomic_store_explicit(&s->place.len, len, memory_order_relaxed);
}

/* SEQLOCK: the mutex slot. */
static int mutex_read_lock(struct twin_slot *s, struct slot_view *v)
{
	int ret = pthread_mutex_lock(&s->lock);

	if (ret)
		return -ret;
	place_view(s, v);
	return 0;
}

static void mutex_read_unlock(struct twin_slot *s)
{
	pthread_mutex_unlock(&s->lock);
}

static void mutex_publish(struct twin_slot *s, void *prep, __u32 tag,
			  const void *buf, __u32 len, __u64 version)
{
	(void)prep;
	(void)tag;
	(void)version;
	memcpy(s->place.buf, buf, len);
	place_set_len(s, len);
}

static const struct slot_kind slot_mutex = {
	.init = place_init,
	.fini = place_fini,
	.read_lock = mutex_read_lock,
	.read_unlock = mutex_read_unlock,
	.current = place_view,
	.copy = copy_plain,
	.publish = mutex_publish,
};

/*
 * NONE: every access to the buffer, a reader's or a writer's, is a relaxed
 * atomic load or store of one 8-byte word (the kernel's READ_ONCE and
 * WRITE_ONCE): no word is torn, a value of several words can be.
 */
static void words_copy(void *dst, const void *src, size_t n)
{
	const _Atomic uint64_t *w = src;
	unsigned char *d = dst;
	uint64_t x;

	for (; n; w++, d += WORD, n -= n < WORD ? n : WORD) {
		x = atomic_load_explicit(w, memory_order_relaxed);
		memcpy(d, &x, n < WORD ? n : WORD);
	}
}

static int none_read_lock(struct twin_slot *s, struct slot_view *v)
{
	place_view(s, v);
	return 0;
}

static void none_read_unlock(struct twin_slot *s)
{
	(void)s;
}

static void none_publish(struct twin_slot *s, void *prep, __u32 tag,
			 const void *buf, __u32 len, __u64 version)
{
	_Atomic uint64_t *w = s->place.buf;
	const unsigned char *b = buf;
	size_t n = len, part;
	uint64_t x;

	(void)prep;
	(void)tag;
	(void)version;
	for (; n; w++, b += WORD, n -= part) {
		part = n < WORD ? n : WORD;
		x = 0;
		memcpy(&x, b, part);
		atomic_store_explicit(w, x, memory_order_relaxed);
	}
	place_set_len(s, len);
}

static const struct slot_kind slot_none = {
	.init = place_init,
	.fini = place_fini,
	.read_lock = none_read_lock,
	.read_unlock = none_read_unlock,
	.current = place_view,
	.copy = words_copy,
	.publish = none_publish,
};

/* Slot kinds; a NULL entry (a counter kind) is -EOPNOTSUPP. */
static const struct slot_kind *const slot_kinds[KATOMIC_SYNC_LAST + 1] = {
	[KATOMIC_SYNC_NONE] = &slot_none,
	[KATOMIC_SYNC_RCU] = &slot_rcu,
	[KATOMIC_SYNC_SEQLOCK] = &slot_mutex,
};

/* Go's rules, once ---------------------------------------------------- */

/*
 * A user pointer of the ABI as a twin can check it: NULL for 0 and for
 * one that does not fit a pointer, where the module would fault.
 */
static void *user_ptr(__u64 p)
{
	return (uintptr_t)p == p ? (void *)(uintptr_t)p : NULL;
}

static bool ranges_overlap(const void *a, size_t a_len, const void *b,
			   size_t b_len)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return a_len && b_len && x < y + b_len && y < x + a_len;
}

/* Whether a viewed value's first n bytes are exp's. */
static bool slot_equal(const struct slot_kind *kind, const void *bytes,
		       const void *exp, size_t n)
{
	unsigned char chunk[256];	/* a multiple of 8: see copy */
	size_t off, part;

	for (off = 0; off < n; off += part) {
		part = n - off < sizeof(chunk) ? n - off : sizeof(chunk);
		kind->copy(chunk, (const unsigned char *)bytes + off, part);
		if (memcmp(chunk, (const unsigned char *)exp + off, part))
			return false;
	}
	return true;
}

/* The fields, op and id: what needs no slot (-EINVAL). */
static int check_vop(const struct katomic__slots *ss,
		     const struct katomic_value_op *vop)
{
	if (vop->flags || vop->reserved0 || vop->reserved)
		return -EINVAL;
	switch (vop->op) {
	case KATOMIC_VOP_LOAD:
		if (vop->tag || vop->len || vop->buf)
			return -EINVAL;
		break;
	case KATOMIC_VOP_STORE:
		if (vop->out || vop->out_len)
			return -EINVAL;
		break;
	case KATOMIC_VOP_SWAP:
	case KATOMIC_VOP_CAS:
		break;
	default:
		return -EINVAL;
	}
	return vop->id < ss->nr ? 0 : -EINVAL;
}

/* LOAD: the value, or -ERANGE with the length needed. */
static int slot_load(struct twin_slot *s, const struct slot_kind *kind,
		     struct katomic_value_op *vop)
{
	void *out = user_ptr(vop->out);
	struct slot_view v;
	int ret;

	ret = kind->read_lock(s, &v);
	if (ret)
		return ret;
	if (v.len > vop->out_len) {
		kind->read_unlock(s);
		vop->out_len = v.len;
		return -ERANGE;
	}
	if (v.len && out)
		kind->copy(out, v.bytes, v.len);
	kind->read_unlock(s);
	if (v.len && !out)
		return -EFAULT;
	vop->out_len = v.len;
	vop->out_tag = v.tag;
	vop->version = v.version;
	return 0;
}

/*
 * STORE, SWAP and CAS, in the module's order (README, "Value ops"): the
 * new value (nil, size), CAS's expected value (size, tag 0 iff length 0),
 * user memory; then, under the slot's lock, the tag fixed by the first
 * store, SWAP's buffer (-ERANGE), CAS's comparison.
 */
static int slot_write(const struct katomic__slots *ss, struct twin_slot *s,
		      const struct slot_kind *kind,
		      struct katomic_value_op *vop)
{
	const void *buf = user_ptr(vop->buf);
	void *out = user_ptr(vop->out), *prep = NULL, *copy = NULL;
	bool applied = true, fault = false;
	struct slot_view cur = { 0 };
	__u64 version = 0;
	__u32 fixed;
	int ret;

	if (!vop->tag || !vop->len)
		return -EINVAL;		/* Go: Store(nil) */
	if (vop->len > ss->value_max)
		return -E2BIG;
	if (vop->op == KATOMIC_VOP_CAS) {
		if (vop->out_len > ss->value_max)
			return -E2BIG;
		if (!vop->out_tag != !vop->out_len)
			return -EINVAL;	/* empty is tag 0 and length 0 */
		if (vop->out_len && !out)
			return -EFAULT;
	}
	if (!buf)
		return -EFAULT;
	/*
	 * The new value is read before the old one is written, as the module
	 * copies it in first: a SWAP whose out overlaps buf works on a kind
	 * that writes in place too.
	 */
	if (kind->prepare) {
		ret = kind->prepare(&prep, buf, vop->len);
		if (ret)
			return ret;
	} else if (vop->op == KATOMIC_VOP_SWAP &&
		   ranges_overlap(out, vop->out_len, buf, vop->len)) {
		copy = malloc(vop->len);
		if (!copy)
			return -ENOMEM;
		buf = memcpy(copy, buf, vop->len);
	}

	ret = pthread_mutex_lock(&s->lock);
	if (ret) {
		ret = -ret;
		goto out_free;
	}
	fixed = atomic_load_explicit(&s->tag, memory_order_relaxed);
	if (fixed && fixed != vop->tag) {
		ret = -EINVAL;		/* Go: inconsistently typed value */
		goto out_unlock;
	}
	kind->current(s, &cur);
	version = atomic_load_explicit(&s->version, memory_order_relaxed);
	if (vop->op == KATOMIC_VOP_SWAP) {
		/* the old value must fit, or nothing happens */
		if (cur.len > vop->out_len) {
			vop->out_len = cur.len;
			ret = -ERANGE;
			goto out_unlock;
		}
		if (cur.len && out)
			kind->copy(out, cur.bytes, cur.len);
		fault = cur.len && !out;	/* -EFAULT, the swap stands */
	} else if (vop->op == KATOMIC_VOP_CAS) {
		applied = cur.tag == vop->out_tag && cur.len == vop->out_len &&
			  slot_equal(kind, cur.bytes, out, cur.len);
	}
	if (applied) {
		if (!fixed)
			atomic_store_explicit(&s->tag, vop->tag,
					      memory_order_release);
		kind->publish(s, prep, vop->tag, buf, vop->len, ++version);
		prep = NULL;
		atomic_store_explicit(&s->version, version,
				      memory_order_release);
	}
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&s->lock);
out_free:
	if (prep)
		kind->discard(prep);
	free(copy);
	if (ret)
		return ret;
	if (fault)
		return -EFAULT;
	if (vop->op == KATOMIC_VOP_SWAP) {
		vop->out_len = cur.len;
		vop->out_tag = cur.tag;
	}
	/* CAS's; 0 after STORE and SWAP, as the module writes it */
	vop->applied = vop->op == KATOMIC_VOP_CAS && applied;
	vop->version = version;
	return 0;
}

int katomic__slot_op(struct katomic__slots *ss, struct katomic_value_op *vop)
{
	struct twin_slot *s;
	uint32_t meta;
	int ret;

	ret = check_vop(ss, vop);
	if (ret)
		return ret;
	s = &ss->slots[vop->id];
	meta = atomic_load_explicit(&s->meta, memory_order_acquire);
	if (!(meta & META_LIVE))
		return -ENOENT;
	if (vop->op == KATOMIC_VOP_LOAD)
		return slot_load(s, slot_kinds[META_SYNC(meta)], vop);
	return slot_write(ss, s, slot_kinds[META_SYNC(meta)], vop);
}

/* DEFINE, UNDEFINE, QUERY ----------------------------------------------- */

int katomic__slot_define(struct katomic__slots *ss,
			 const struct katomic_define *d)
{
	const struct slot_kind *kind;
	struct twin_slot *s;
	uint32_t meta = 0;
	unsigned int sync;
	int ret;

	if (d->id >= ss->nr || d->flags || d->reserved || d->type ||
	    d->sync > KATOMIC_SYNC_LAST)
		return -EINVAL;
	sync = d->sync == KATOMIC_SYNC_DEFAULT ? KATOMIC_SYNC_RCU : d->sync;
	kind = slot_kinds[sync];
	if (!kind)
		return -EOPNOTSUPP;
	if (d->init || d->param)
		return -EINVAL;
	s = &ss->slots[d->id];
	if (!atomic_compare_exchange_strong(&s->meta, &meta, META_BUSY))
		return -EEXIST;
	atomic_store_explicit(&s->tag, 0, memory_order_relaxed);
	atomic_store_explicit(&s->version, 0, memory_order_relaxed);
	if (pthread_mutex_init(&s->lock, NULL)) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = kind->init(s, ss->value_max);
	if (ret) {
		pthread_mutex_destroy(&s->lock);
		goto fail;
	}
	atomic_store_explicit(&s->meta, META_LIVE | sync, memory_order_release);
	return 0;
fail:
	atomic_store(&s->meta, 0);
	return ret;
}

/* Tears a live slot down; returns its kind if it must be drained. */
static const struct slot_kind *slot_fini(struct twin_slot *s, uint32_t meta)
{
	const struct slot_kind *kind = slot_kinds[META_SYNC(meta)];
	bool drain = kind->fini(s);

	pthread_mutex_destroy(&s->lock);
	return drain ? kind : NULL;
}

int katomic__slot_undefine(struct katomic__slots *ss,
			   const struct katomic_define *d)
{
	const struct slot_kind *kind;
	struct twin_slot *s;
	uint32_t meta;

	if (d->id >= ss->nr || d->flags || d->reserved || d->type ||
	    d->sync || d->init || d->param)
		return -EINVAL;
	s = &ss->slots[d->id];
	meta = atomic_load(&s->meta);
	do {
		if (!(meta & META_LIVE))
			return -ENOENT;
	} while (!atomic_compare_exchange_weak(&s->meta, &meta, META_BUSY));
	kind = slot_fini(s, meta);
	if (kind)
		kind->drain();
	atomic_store_explicit(&s->meta, 0, memory_order_release);
	return 0;
}

/* QUERY ignores its out fields (type, sync, param) on input. */
int katomic__slot_query(struct katomic__slots *ss, struct katomic_define *d)
{
	uint32_t meta;

	if (d->id >= ss->nr || d->flags || d->reserved || d->init)
		return -EINVAL;
	meta = atomic_load_explicit(&ss->slots[d->id].meta,
				    memory_order_acquire);
	if (!(meta & META_LIVE))
		return -ENOENT;
	d->type = 0;
	d->sync = META_SYNC(meta);
	d->param = 0;
	return 0;
}

int katomic__slots_new(unsigned int nr_slots, unsigned int value_max,
		       struct katomic__slots **out)
{
	size_t size = (size_t)nr_slots * sizeof(struct twin_slot);
	struct katomic__slots *ss;
	unsigned int i;

	if (size / sizeof(struct twin_slot) != nr_slots)
		return -E2BIG;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->nr = nr_slots;
	ss->value_max = value_max;
	if (size) {
		ss->slots = aligned_alloc(alignof(struct twin_slot), size);
		if (!ss->slots) {
			free(ss);
			return -ENOMEM;
		}
		for (i = 0; i < nr_slots; i++)
			atomic_init(&ss->slots[i].meta, 0);
	}
	*out = ss;
	return 0;
}

/* Every slot torn down, then each kind that must be drained, once. */
void katomic__slots_free(struct katomic__slots *ss)
{
	bool drain[KATOMIC_SYNC_LAST + 1] = { false };
	unsigned int i;
	uint32_t meta;

	if (!ss)
		return;
	for (i = 0; i < ss->nr; i++) {
		meta = atomic_load(&ss->slots[i].meta);
		if (meta & META_LIVE && slot_fini(&ss->slots[i], meta))
			drain[META_SYNC(meta)] = true;
	}
	for (i = 0; i <= KATOMIC_SYNC_LAST; i++)
		if (drain[i])
			slot_kinds[i]->drain();
	free(ss->slots);
	free(ss);
}
