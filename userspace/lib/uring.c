// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The io_uring path (spec/abi.md, "io_uring"): each counter op one
 * IORING_OP_URING_CMD on a ring of the handle's own, with 128-byte SQEs
 * (the op in the command area) and 32-byte CQEs (the result in the extra
 * words).  Debian's liburing 2.3 has no io_uring_prep_uring_cmd(): the
 * SQE is filled here by hand.
 *
 * Only katomic_uring() refers to this file, so only a program that calls
 * it links liburing; a handle's close frees the ring through ring_free.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The command area: from cmd to the end of a 128-byte SQE. */
#define CMD_OFFSET	offsetof(struct io_uring_sqe, cmd)
#define CMD_SIZE	(128 - CMD_OFFSET)
_Static_assert(sizeof(struct katomic_op) <= CMD_SIZE,
	       "an op fits the command area of a 128-byte SQE");

struct katomic__ring {
	pthread_mutex_t lock;		/* one submitter at a time */
	int err;			/* io_uring failed: the ring is broken */
	struct io_uring ring;
};

void katomic__uring_prep(struct io_uring_sqe *sqe, int fd,
			 const struct katomic_op *op, __u64 user_data,
			 bool link)
{
	memset(sqe, 0, CMD_OFFSET);
	memset(sqe->cmd, 0, CMD_SIZE);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = KATOMIC_IOC_OP;
	sqe->user_data = user_data;
	if (link)
		sqe->flags = IOSQE_IO_LINK;
	memcpy(sqe->cmd, op, sizeof(*op));
}

int katomic__uring_complete(const struct io_uring_cqe *cqe,
			    struct katomic_op *op)
{
	if (cqe->res < 0) {
		op->result = 0;
		op->applied = 0;
		op->error = cqe->res;
	} else {
		op->result = cqe->big_cqe[0];
		op->applied = cqe->res;
		op->error = 0;
	}
	return op->error;
}

static void ring_free(struct katomic__ring *r)
{
	io_uring_queue_exit(&r->ring);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* The handle's ring, set up by the first caller: 0 or -errno. */
static int ring_get(struct katomic *k, struct katomic__ring **out)
{
	struct katomic__ring *r = atomic_load(&k->ring), *none = NULL;
	int ret;

	if (r) {
		*out = r;
		return 0;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = io_uring_queue_init(KATOMIC_URING_ENTRIES, &r->ring,
				  IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret) {
		free(r);
		return ret;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->err = 0;
	k->ring_free = ring_free;	/* the same function for every ring */
	if (!atomic_compare_exchange_strong(&k->ring, &none, r)) {
		ring_free(r);		/* another thread's came first */
		r = none;
	}
	*out = r;
	return 0;
}

/* A transient failure of io_uring_enter: try again. */
static bool again(int ret)
{
	return ret == -EINTR || ret == -EAGAIN || ret == -EBUSY;
}

/*
 * One submission: ops[0..n) as n SQEs (linked unless cont), then their n
 * completions (the module completes each op as it is issued, so they are
 * posted by the time io_uring_enter returns; a cancelled SQE is completed
 * too).  *ran = the ops that ran; returns 1 if one failed and the run
 * must stop, 0, or -errno of io_uring (then the ring is broken).
 */
static int submit(struct katomic__ring *r, int fd, struct katomic_op *ops,
		  unsigned int n, bool cont, unsigned int *ran)
{
	unsigned int i, sent = 0, seen, failed = n;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	*ran = 0;
	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(&r->ring);
		if (!sqe)	/* cannot be: every submission is reaped */
			return r->err = -EBUSY;
		katomic__uring_prep(sqe, fd, &ops[i], i, !cont && i + 1 < n);
	}
	while (sent < n) {
		ret = io_uring_submit(&r->ring);
		if (ret < 0 && !again(ret))
			return r->err = ret;
		if (ret > 0)
			sent += ret;
	}
	for (seen = 0; seen < n; seen++) {
		do {
			ret = io_uring_wait_cqe(&r->ring, &cqe);
		} while (again(ret));
		if (ret < 0)
			return r->err = ret;
		i = cqe->user_data;
		/* Linked: after a failure the rest is cancelled, not run. */
		if (i < n && (cont || i < failed) &&
		    katomic__uring_complete(cqe, &ops[i]))
			failed = i;
		io_uring_cqe_seen(&r->ring, cqe);
	}
	*ran = cont || failed == n ? n : failed + 1;
	return !cont && failed < n;
}

int katomic_uring(struct katomic *k, struct katomic_op *ops, unsigned int nr,
		  unsigned int flags, unsigned int *done)
{
	bool cont = flags & KATOMIC_BATCH_CONTINUE;
	unsigned int pos = 0, n, ran;
	struct katomic__ring *r;
	int ret;

	ret = katomic__check_batch(ops, nr, flags, 0);
	if (ret)
		return ret;
	if (k->fd < 0) {		/* a twin: no ring in user space */
		katomic__run_ops(k, ops, nr, flags, &ran);
		if (done)
			*done = ran;
		return 0;
	}
	ret = ring_get(k, &r);
	if (ret)
		return ret;
	pthread_mutex_lock(&r->lock);
	ret = r->err;
	while (!ret && pos < nr) {
		n = nr - pos < KATOMIC_URING_ENTRIES ? nr - pos :
		    KATOMIC_URING_ENTRIES;
		ret = submit(r, k->fd, ops + pos, n, cont, &ran);
		pos += ran;
	}
	pthread_mutex_unlock(&r->lock);
	if (done)
		*done = pos;
	return ret < 0 ? ret : 0;
}
