/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the katomic selftests for private contexts, the batch ioctl
 * and io_uring (issue 5): CONTEXT_NEW and BATCH wrappers, a raw io_uring
 * ring (no liburing: Debian's 2.3 has no uring_cmd helper and no 32-bit
 * static library), descriptor passing over a unix socket, and a seeded
 * random op generator.
 *
 * Include after katomic_test.h.
 */
#ifndef KATOMIC_CTX_H
#define KATOMIC_CTX_H

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/io_uring.h>

/*
 * Issue 5's contract: a batch copies its ops in and out 16 at a time (the
 * -EFAULT tests' expected done depends on it).
 */
#define KT_BATCH_CHUNK	16

/* ---- contexts ---------------------------------------------------------- */

/* CONTEXT_NEW: the new descriptor, or -errno. */
static inline int kt_ctx_new(int fd, __u32 nr_counters, __u32 nr_slots,
			     __u32 value_max, __u32 flags)
{
	struct katomic_context c = {
		.nr_counters = nr_counters, .nr_slots = nr_slots,
		.value_max = value_max, .flags = flags,
	};

	return kt_ioctl(fd, KATOMIC_IOC_CONTEXT_NEW, &c);
}

/* The module's counters, ops and value_max limits for contexts. */
struct kt_limits {
	unsigned long max_counters, max_slots, max_value, max_batch;
};

static inline int kt_limits(struct kt_limits *l)
{
	return kt_param("max_counters", &l->max_counters) ?:
	       kt_param("max_slots", &l->max_slots) ?:
	       kt_param("max_value", &l->max_value) ?:
	       kt_param("max_batch", &l->max_batch);
}

/* ---- batch ------------------------------------------------------------- */

/*
 * BATCH of ops[0..nr): the ioctl's return; *done (if given) is the
 * header's done afterwards, KT_POISON's low half if it was not written.
 */
static inline int kt_batch(int fd, struct katomic_op *ops, __u32 nr,
			   __u32 flags, __u32 *done)
{
	struct katomic_batch b = {
		.ops = (uintptr_t)ops, .nr = nr, .flags = flags,
		.done = (__u32)KT_POISON,
	};
	int r = kt_ioctl(fd, KATOMIC_IOC_BATCH, &b);

	if (done)
		*done = b.done;
	return r;
}

/* An op whose out fields no correct answer leaves as they are. */
static inline void kt_op_poisoned(struct katomic_op *o, __u32 id, __u8 type,
				  __u8 op, __u64 arg, __u64 arg2)
{
	kt_op_init(o, id, type, op, arg, arg2);
	o->result = KT_POISON;
	o->applied = 0xee;
	o->error = (__s32)0x5a5a5a5a;
}

/* Is o as kt_op_poisoned() left it (an op that did not run)? */
static inline bool kt_op_untouched(const struct katomic_op *o)
{
	return o->result == KT_POISON && o->applied == 0xee &&
	       o->error == (__s32)0x5a5a5a5a;
}

/* ---- io_uring, raw --------------------------------------------------------- */

#ifndef IORING_SETUP_SQE128
#define IORING_SETUP_SQE128	(1U << 10)
#endif
#ifndef IORING_SETUP_CQE32
#define IORING_SETUP_CQE32	(1U << 11)
#endif

/* The SQE128 command area: 80 bytes from the SQE's cmd field (offset 48). */
#define KT_SQE_CMD_OFF		48
#define KT_SQE_CMD_LEN		80

/*
 * A ring set up by io_uring_setup(2) and mapped by hand: the SQ ring, the
 * SQE array and the CQ ring (one mapping with IORING_FEAT_SINGLE_MMAP).
 */
struct kt_ring {
	int fd;
	unsigned int flags;		/* of the setup */
	unsigned int sqe_size, cqe_size;
	unsigned int entries, cq_entries;
	void *sq_map, *cq_map, *sqes;
	size_t sq_len, cq_len, sqes_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	void *cqes;
};

static inline int kt_ring_setup(struct kt_ring *r, unsigned int entries,
				unsigned int flags)
{
	struct io_uring_params p;
	char *sq, *cq;
	int e;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	r->fd = syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -errno;
	r->flags = flags;
	r->sqe_size = flags & IORING_SETUP_SQE128 ? 128 : 64;
	r->cqe_size = flags & IORING_SETUP_CQE32 ? 32 : 16;
	r->entries = p.sq_entries;
	r->cq_entries = p.cq_entries;
	r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_len = p.cq_off.cqes + (size_t)p.cq_entries * r->cqe_size;
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_len > r->sq_len)
			r->sq_len = r->cq_len;
		r->cq_len = r->sq_len;
	}
	r->sq_map = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		goto fail;
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		r->cq_map = r->sq_map;
	} else {
		r->cq_map = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd,
				 IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED)
			goto fail_sq;
	}
	r->sqes_len = (size_t)p.sq_entries * r->sqe_size;
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		goto fail_cq;
	sq = r->sq_map;
	cq = r->cq_map;
	r->sq_head = (unsigned int *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)(sq + p.sq_off.array);
	r->cq_head = (unsigned int *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	r->cqes = cq + p.cq_off.cqes;
	return 0;

fail_cq:
	e = -errno;
	if (r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_len);
	errno = -e;
fail_sq:
	e = -errno;
	munmap(r->sq_map, r->sq_len);
	errno = -e;
fail:
	e = -errno;
	close(r->fd);
	r->fd = -1;
	return e;
}

static inline void kt_ring_close(struct kt_ring *r)
{
	if (r->fd < 0)
		return;
	munmap(r->sqes, r->sqes_len);
	if (r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_len);
	munmap(r->sq_map, r->sq_len);
	close(r->fd);
	r->fd = -1;
}

/*
 * Queue a URING_CMD SQE for fd with cmd_op and, in its command area, len
 * bytes of cmd (at most KT_SQE_CMD_LEN; the rest zeroed).  -EBUSY when
 * the SQ ring is full.
 */
static inline int kt_ring_queue(struct kt_ring *r, int fd, __u32 cmd_op,
				const void *cmd, size_t len, __u64 user_data)
{
	unsigned int tail = *r->sq_tail, idx;
	struct io_uring_sqe *sqe;

	if (tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >=
	    r->entries)
		return -EBUSY;
	idx = tail & *r->sq_mask;
	sqe = (void *)((char *)r->sqes + (size_t)idx * r->sqe_size);
	memset(sqe, 0, r->sqe_size);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->user_data = user_data;
	/* 6.1's uapi names the word cmd_op in a union with off */
	*(__u32 *)((char *)sqe + 8) = cmd_op;
	if (len > (r->sqe_size == 128 ? KT_SQE_CMD_LEN : 16))
		len = r->sqe_size == 128 ? KT_SQE_CMD_LEN : 16;
	memcpy((char *)sqe + KT_SQE_CMD_OFF, cmd, len);
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Submit what was queued and wait for want completions: submitted or -errno. */
static inline int kt_ring_enter(struct kt_ring *r, unsigned int submit,
				unsigned int want)
{
	int n;

	do
		n = syscall(__NR_io_uring_enter, r->fd, submit, want,
			    want ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* A completion, as read from the ring. */
struct kt_cqe {
	__u64 user_data;
	__s32 res;
	__u32 flags;
	__u64 big[2];		/* CQE32's extra words, 0 otherwise */
};

/* Take the next completion if there is one: true if it did. */
static inline bool kt_ring_reap(struct kt_ring *r, struct kt_cqe *out)
{
	unsigned int head = *r->cq_head;
	struct io_uring_cqe *cqe;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	cqe = (void *)((char *)r->cqes +
		       (size_t)(head & *r->cq_mask) * r->cqe_size);
	out->user_data = cqe->user_data;
	out->res = cqe->res;
	out->flags = cqe->flags;
	out->big[0] = out->big[1] = 0;
	if (r->cqe_size == 32)
		memcpy(out->big, (char *)cqe + 16, sizeof(out->big));
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/*
 * One katomic_op through the ring, waited for: cqe->res (applied or
 * -errno), *result set from big_cqe[0] on success.  A failure of the ring
 * itself is returned as -errno with *ring_err set.
 */
static inline int kt_uring_op(struct kt_ring *r, int fd, struct katomic_op *o,
			      bool *ring_err)
{
	struct kt_cqe c;
	int e;

	*ring_err = true;
	e = kt_ring_queue(r, fd, KATOMIC_IOC_OP, o, sizeof(*o), 1);
	if (e)
		return e;
	e = kt_ring_enter(r, 1, 1);
	if (e < 0)
		return e;
	if (!kt_ring_reap(r, &c))
		return -EIO;
	*ring_err = false;
	if (c.res >= 0) {
		o->result = c.big[0];
		o->applied = c.res;
	}
	return c.res;
}

/* ---- descriptors over a unix socket ------------------------------------ */

static inline int kt_send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* The descriptor received, or -errno (-EBADMSG: none came). */
static inline int kt_recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno ?: -EBADMSG;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- a seeded random op ------------------------------------------------- */

/* An operand of type t: mostly small, now and then an interesting value. */
static inline __u64 kt_rand_operand(const struct kt_type *t, __u64 *seed,
				    const __u64 *vals, unsigned int nvals)
{
	__u64 x = kt_rand(seed);

	switch (x % 4) {
	case 0:
		return vals[(x >> 8) % nvals];
	case 1:
		return kt_canon(t, (x >> 8) % 16);
	case 2:
		return kt_neg(t, (x >> 8) % 16);
	default:
		return kt_canon(t, x >> 3);
	}
}

#endif /* KATOMIC_CTX_H */
