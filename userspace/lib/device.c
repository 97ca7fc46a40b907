// SPDX-License-Identifier: LGPL-2.1-or-later
/* The kernel backend: each call is one ioctl on /dev/katomic. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define KATOMIC_DEVICE	"/dev/katomic"

static int dev_ioctl(struct katomic *k, unsigned long cmd, void *arg)
{
	return ioctl(k->fd, cmd, arg) < 0 ? -errno : 0;
}

static int dev_info(struct katomic *k, struct katomic_info *info)
{
	return dev_ioctl(k, KATOMIC_IOC_INFO, info);
}

static int dev_nop(struct katomic *k)
{
	return dev_ioctl(k, KATOMIC_IOC_NOP, NULL);
}

static int dev_define(struct katomic *k, const struct katomic_define *d)
{
	return dev_ioctl(k, KATOMIC_IOC_DEFINE, (void *)d);
}

static int dev_undefine(struct katomic *k, const struct katomic_define *d)
{
	return dev_ioctl(k, KATOMIC_IOC_UNDEFINE, (void *)d);
}

static int dev_query(struct katomic *k, struct katomic_define *d)
{
	return dev_ioctl(k, KATOMIC_IOC_QUERY, d);
}

static int dev_op(struct katomic *k, struct katomic_op *op)
{
	int ret = dev_ioctl(k, KATOMIC_IOC_OP, op);

	return ret ? ret : op->applied;
}

static int dev_value(struct katomic *k, struct katomic_value_op *vop)
{
	return dev_ioctl(k, KATOMIC_IOC_VALUE, vop);
}

static int dev_batch(struct katomic *k, struct katomic_op *ops,
		     unsigned int nr, unsigned int flags, unsigned int *done)
{
	struct katomic_batch b = {
		.ops = (uintptr_t)ops,
		.nr = nr,
		.flags = flags,
	};
	int ret = dev_ioctl(k, KATOMIC_IOC_BATCH, &b);

	*done = b.done;		/* written back on success and on -EFAULT */
	return ret;
}

static void dev_close(struct katomic *k)
{
	katomic__ring_release(k);
	close(k->fd);
	free(k);
}

static struct katomic *dev_handle(int fd);

static int dev_context_new(struct katomic *k, const struct katomic_context *c,
			   struct katomic **out)
{
	struct katomic *ctx;
	int fd;

	fd = ioctl(k->fd, KATOMIC_IOC_CONTEXT_NEW, c);
	if (fd < 0)
		return -errno;
	ctx = dev_handle(fd);
	if (!ctx) {
		close(fd);
		return -ENOMEM;
	}
	*out = ctx;
	return 0;
}

/* The module checks the rest: -ENODEV for a context without
 * KATOMIC_CTX_MMAP (and for the global one, whose file has no mmap). */
static int dev_map(struct katomic *k, unsigned int nr, void **cells,
		   size_t *len)
{
	size_t size = (size_t)nr * KATOMIC_MAP_CELL;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd,
		       0);

	if (p == MAP_FAILED)
		return -errno;
	*cells = p;
	*len = size;
	return 0;
}

static const struct katomic_backend dev_backend = {
	.info = dev_info,
	.nop = dev_nop,
	.define = dev_define,
	.undefine = dev_undefine,
	.query = dev_query,
	.op = dev_op,
	.value = dev_value,
	.batch = dev_batch,
	.context_new = dev_context_new,
	.map = dev_map,
	.close = dev_close,
};

/* A handle on fd (-1: to be opened), or NULL. */
static struct katomic *dev_handle(int fd)
{
	struct katomic *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->be = &dev_backend;
	k->fd = fd;
	atomic_init(&k->ring, NULL);
	k->ring_free = NULL;
	return k;
}

int katomic_open(const char *path, struct katomic **out)
{
	struct katomic_info info;
	struct katomic *k;
	int ret;

	k = dev_handle(-1);
	if (!k)
		return -ENOMEM;
	if (!path)
		path = KATOMIC_DEVICE;
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	/* Read access alone still lets a caller load: changes get -EBADF. */
	if (k->fd < 0 && errno == EACCES)
		k->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		free(k);
		return ret;
	}
	ret = dev_info(k, &info);
	if (!ret && info.abi_version != KATOMIC_ABI_VERSION)
		ret = -EPROTO;
	if (ret) {
		dev_close(k);
		return ret;
	}
	*out = k;
	return 0;
}
