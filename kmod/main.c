// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: Go's sync/atomic family over the kernel's atomics, shown to user
 * space through /dev/katomic.
 *
 * This file holds the module's parameters, the misc device and the ioctl
 * dispatch: one table of commands and one generic copy-in, validate,
 * copy-out path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "katomic.h"

static unsigned int nr_counters = 256;
module_param(nr_counters, uint, 0444);
MODULE_PARM_DESC(nr_counters, "counters in the global context (256)");

static unsigned int nr_slots = 64;
module_param(nr_slots, uint, 0444);
MODULE_PARM_DESC(nr_slots, "value slots in the global context (64)");

static unsigned int value_max = 4096;
module_param(value_max, uint, 0444);
MODULE_PARM_DESC(value_max, "largest value in bytes in the global context (4096)");

static unsigned int max_counters = 65536;
module_param(max_counters, uint, 0444);
MODULE_PARM_DESC(max_counters, "most counters in a private context (65536)");

static unsigned int max_slots = 4096;
module_param(max_slots, uint, 0444);
MODULE_PARM_DESC(max_slots, "most value slots in a private context (4096)");

static unsigned int max_value = 1048576;
module_param(max_value, uint, 0444);
MODULE_PARM_DESC(max_value, "largest value_max of a private context (1048576)");

unsigned int katomic_max_batch = 4096;
module_param_named(max_batch, katomic_max_batch, uint, 0444);
MODULE_PARM_DESC(max_batch, "most ops in one KATOMIC_IOC_BATCH (4096)");

static ushort devmode = 0600;

/* devmode reads back in octal, as modes are written. */
static int katomic_devmode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "0%03o\n", *(ushort *)kp->arg);
}

static const struct kernel_param_ops katomic_devmode_ops = {
	.set = param_set_ushort,
	.get = katomic_devmode_get,
};

module_param_cb(devmode, &katomic_devmode_ops, &devmode, 0444);
MODULE_PARM_DESC(devmode, "mode of /dev/katomic (0600)");

/* Bounds on the parameters, so that no size computed from them overflows. */
#define KATOMIC_LIMIT_COUNTERS	BIT(24)
#define KATOMIC_LIMIT_SLOTS	BIT(20)
#define KATOMIC_LIMIT_VALUE	BIT(28)
#define KATOMIC_LIMIT_BATCH	BIT(20)

static struct katomic_ctx *katomic_global;

/*
 * The objects DEFINE, UNDEFINE and QUERY address, and what each call does
 * for each; NULL where the object's feature is not built.
 */
enum katomic_call {
	KATOMIC_CALL_DEFINE,
	KATOMIC_CALL_UNDEFINE,
	KATOMIC_CALL_QUERY,
	KATOMIC_NR_CALLS,
};

typedef int (*katomic_object_fn)(struct katomic_ctx *ctx,
				 struct katomic_define *d);

static const katomic_object_fn katomic_objects[][KATOMIC_NR_CALLS] = {
	[KATOMIC_OBJ_COUNTER] = {
		[KATOMIC_CALL_DEFINE] = katomic_counter_define,
		[KATOMIC_CALL_UNDEFINE] = katomic_counter_undefine,
		[KATOMIC_CALL_QUERY] = katomic_counter_query,
	},
	[KATOMIC_OBJ_VALUE] = {
		[KATOMIC_CALL_DEFINE] = katomic_slot_define,
		[KATOMIC_CALL_UNDEFINE] = katomic_slot_undefine,
		[KATOMIC_CALL_QUERY] = katomic_slot_query,
	},
};

static int katomic_object_call(struct katomic_ctx *ctx,
			       struct katomic_define *d, enum katomic_call call)
{
	katomic_object_fn fn;

	if (d->object < KATOMIC_OBJ_COUNTER ||
	    d->object >= ARRAY_SIZE(katomic_objects))
		return -EINVAL;
	fn = katomic_objects[array_index_nospec(d->object,
						ARRAY_SIZE(katomic_objects))][call];
	return fn ? fn(ctx, d) : -EOPNOTSUPP;
}

static int katomic_ioc_info(struct file *file, void *arg)
{
	struct katomic_ctx *ctx = file->private_data;
	struct katomic_info *info = arg;

	info->abi_version = KATOMIC_ABI_VERSION;
	info->features = KATOMIC_FEAT_SYNC_KINDS | KATOMIC_FEAT_VALUES |
			 KATOMIC_FEAT_CONTEXTS | KATOMIC_FEAT_BATCH |
			 KATOMIC_FEAT_URING | KATOMIC_FEAT_MMAP;
	info->nr_counters = ctx->nr_counters;
	info->nr_slots = ctx->nr_slots;
	info->value_max = ctx->value_max;
	info->max_batch = katomic_max_batch;
	info->ptr_bits = BITS_PER_LONG;
	return 0;
}

static int katomic_ioc_nop(struct file *file, void *arg)
{
	return 0;
}

static int katomic_ioc_define(struct file *file, void *arg)
{
	return katomic_object_call(file->private_data, arg, KATOMIC_CALL_DEFINE);
}

static int katomic_ioc_undefine(struct file *file, void *arg)
{
	return katomic_object_call(file->private_data, arg, KATOMIC_CALL_UNDEFINE);
}

static int katomic_ioc_query(struct file *file, void *arg)
{
	return katomic_object_call(file->private_data, arg, KATOMIC_CALL_QUERY);
}

static int katomic_ioc_op(struct file *file, void *arg)
{
	return katomic_counter_op(file->private_data, arg,
				  file->f_mode & FMODE_WRITE);
}

static int katomic_ioc_value(struct file *file, void *arg)
{
	return katomic_value_op(file->private_data, arg,
				file->f_mode & FMODE_WRITE);
}

/*
 * Ops a batch copies in and out at a time, on the stack (640 bytes): no
 * allocation at all, and none in proportion to what nr says.
 */
#define KATOMIC_BATCH_CHUNK	16

/*
 * A batch moves ops field by field, inside one user access window per
 * chunk: in, only what an op reads; out, only what it writes (result,
 * applied, error).  That is half the bytes of copying whole structs, and
 * word-sized moves instead of a string copy per chunk, which costs little
 * on hardware but byte by byte under an emulator such as QEMU's TCG.  A
 * fault anywhere in a chunk's input fails the whole chunk, before any of
 * it runs.
 */
static int katomic_batch_read(struct katomic_op *ops,
			      const struct katomic_op __user *u, u32 n)
{
	u32 i;

	if (!user_read_access_begin(u, array_size(n, sizeof(*u))))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		unsafe_get_user(ops[i].id, &u[i].id, efault);
		unsafe_get_user(ops[i].type, &u[i].type, efault);
		unsafe_get_user(ops[i].op, &u[i].op, efault);
		unsafe_get_user(ops[i].flags, &u[i].flags, efault);
		unsafe_get_user(ops[i].arg, &u[i].arg, efault);
		unsafe_get_user(ops[i].arg2, &u[i].arg2, efault);
		unsafe_get_user(ops[i].reserved, &u[i].reserved, efault);
	}
	user_read_access_end();
	return 0;
efault:
	user_read_access_end();
	return -EFAULT;
}

static int katomic_batch_write(struct katomic_op __user *u,
			       const struct katomic_op *ops, u32 n)
{
	u32 i;

	if (!user_write_access_begin(u, array_size(n, sizeof(*u))))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		unsafe_put_user(ops[i].result, &u[i].result, efault);
		unsafe_put_user(ops[i].applied, &u[i].applied, efault);
		unsafe_put_user(ops[i].error, &u[i].error, efault);
	}
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * One op of a batch: its outcome goes into the op itself.  A signal that
 * ended a MUTEX op's wait cannot restart the syscall half way through a
 * batch: the op reports -EINTR and the batch stops there.
 */
static int katomic_batch_one(struct katomic_ctx *ctx, struct katomic_op *op,
			     bool writable)
{
	int ret = katomic_counter_op(ctx, op, writable);

	if (ret == -ERESTARTSYS)
		ret = -EINTR;
	if (ret) {
		op->result = 0;
		op->applied = 0;
		op->error = ret;
	}
	return ret;
}

/*
 * Runs ops[0..nr) in order, KATOMIC_BATCH_CHUNK at a time: each chunk is
 * read in, run, and the outcomes of the ops that ran written back (see
 * katomic_batch_read/write).  b->done counts the
 * ops that ran; on -EFAULT it is still written back (the table's partial
 * errno), so user space learns how far the batch got.
 */
static int katomic_ioc_batch(struct file *file, void *arg)
{
	struct katomic_ctx *ctx = file->private_data;
	bool writable = file->f_mode & FMODE_WRITE;
	struct katomic_batch *b = arg;
	struct katomic_op __user *uops = u64_to_user_ptr(b->ops);
	struct katomic_op ops[KATOMIC_BATCH_CHUNK];
	u32 n, ran;
	int ret = 0;
	bool stop = false;

	if (!b->nr || (b->flags & ~KATOMIC_BATCH_CONTINUE) || b->reserved)
		return -EINVAL;
	if (b->nr > katomic_max_batch)
		return -E2BIG;
	b->done = 0;
	while (b->done < b->nr && !stop) {
		n = min_t(u32, b->nr - b->done, KATOMIC_BATCH_CHUNK);
		ret = katomic_batch_read(ops, uops + b->done, n);
		if (ret)
			break;
		for (ran = 0; ran < n && !stop; ran++) {
			ret = katomic_batch_one(ctx, &ops[ran], writable);
			/* A pending signal stops even a CONTINUE batch. */
			stop = ret == -EINTR ||
			       (ret && !(b->flags & KATOMIC_BATCH_CONTINUE));
		}
		/* They ran: done counts them even if their results fault. */
		ret = katomic_batch_write(uops + b->done, ops, ran);
		b->done += ran;
		if (ret)
			break;
		if (fatal_signal_pending(current))
			break;
	}
	return ret;
}

static const struct file_operations katomic_ctx_fops;

/* A private context: an anonymous file that owns it. */
static int katomic_ioc_context_new(struct file *file, void *arg)
{
	struct katomic_context *kc = arg;
	struct katomic_ctx *ctx;
	int fd;

	/* A private context makes no others (spec: -ENOTTY there). */
	if (file->private_data != katomic_global)
		return -ENOTTY;
	if ((kc->flags & ~(KATOMIC_CTX_CLOEXEC | KATOMIC_CTX_MMAP)) ||
	    kc->reserved[0] || kc->reserved[1])
		return -EINVAL;
	if (kc->nr_counters > max_counters || kc->nr_slots > max_slots ||
	    kc->value_max > max_value)
		return -E2BIG;
	if (kc->nr_slots && !kc->value_max)
		return -EINVAL;
	/*
	 * Charged to the memory cgroup of the process that asks; at its
	 * limit the ioctl fails with -ENOMEM, quietly, rather than call the
	 * OOM killer or log an allocation failure (the sizes are the user's).
	 */
	ctx = katomic_ctx_create(kc->nr_counters, kc->nr_slots, kc->value_max,
				 kc->flags & KATOMIC_CTX_MMAP,
				 GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL |
				 __GFP_NOWARN);
	if (!ctx)
		return -ENOMEM;
	fd = anon_inode_getfd("[katomic]", &katomic_ctx_fops, ctx,
			      O_RDWR | (kc->flags & KATOMIC_CTX_CLOEXEC ?
					O_CLOEXEC : 0));
	if (fd < 0)
		katomic_ctx_destroy(ctx);
	return fd;
}

union katomic_ioc_arg {
	struct katomic_info info;
	struct katomic_define define;
	struct katomic_op op;
	struct katomic_batch batch;
	struct katomic_value_op value;
	struct katomic_context context;
};

/*
 * @writes: the command changes state, so the file must be open for
 * writing (-EBADF otherwise).  OP and VALUE decide per op: LOAD only
 * reads.  @partial: an error after which the argument is copied out all
 * the same, because the handler has set a field that tells why (VALUE's
 * -ERANGE sets out_len to the length needed, and nothing else).
 */
struct katomic_ioc {
	unsigned int cmd;
	bool writes;
	int partial;
	int (*handler)(struct file *file, void *arg);
};

#define KATOMIC_IOC_PARTIAL(c, w, p, h) \
	[_IOC_NR(c)] = { .cmd = (c), .writes = (w), .partial = (p), \
			 .handler = (h) }
#define KATOMIC_IOC(c, w, h)	KATOMIC_IOC_PARTIAL(c, w, 0, h)

static const struct katomic_ioc katomic_iocs[] = {
	KATOMIC_IOC(KATOMIC_IOC_INFO, false, katomic_ioc_info),
	KATOMIC_IOC(KATOMIC_IOC_NOP, false, katomic_ioc_nop),
	KATOMIC_IOC(KATOMIC_IOC_DEFINE, true, katomic_ioc_define),
	KATOMIC_IOC(KATOMIC_IOC_UNDEFINE, true, katomic_ioc_undefine),
	KATOMIC_IOC(KATOMIC_IOC_QUERY, false, katomic_ioc_query),
	KATOMIC_IOC(KATOMIC_IOC_OP, false, katomic_ioc_op),
	KATOMIC_IOC_PARTIAL(KATOMIC_IOC_BATCH, false, -EFAULT,
			    katomic_ioc_batch),
	KATOMIC_IOC_PARTIAL(KATOMIC_IOC_VALUE, false, -ERANGE,
			    katomic_ioc_value),
	KATOMIC_IOC(KATOMIC_IOC_CONTEXT_NEW, true, katomic_ioc_context_new),
};

/*
 * The one ioctl path: a command is known only with the exact number, size
 * and direction of the table; the argument is copied in whole, handled,
 * and copied out whole on success (and on the command's @partial error).
 * Nothing is written back on failure (but for what copy_to_user() wrote
 * before it faulted, with -EFAULT).
 */
static long katomic_ioctl(struct file *file, unsigned int cmd,
			  unsigned long uarg)
{
	void __user *argp = (void __user *)uarg;
	const struct katomic_ioc *ioc;
	union katomic_ioc_arg arg;
	unsigned int nr = _IOC_NR(cmd);
	size_t size = _IOC_SIZE(cmd);
	int ret;

	if (_IOC_TYPE(cmd) != KATOMIC_IOC_MAGIC || nr >= ARRAY_SIZE(katomic_iocs))
		return -ENOTTY;
	ioc = &katomic_iocs[array_index_nospec(nr, ARRAY_SIZE(katomic_iocs))];
	if (!ioc->handler || ioc->cmd != cmd)
		return -ENOTTY;
	if (ioc->writes && !(file->f_mode & FMODE_WRITE))
		return -EBADF;

	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		if (copy_from_user(&arg, argp, size))
			return -EFAULT;
	} else {
		memset(&arg, 0, size);
	}
	ret = ioc->handler(file, &arg);
	if (ret < 0 && ret != ioc->partial)
		return ret;
	if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(argp, &arg, size))
		return -EFAULT;
	return ret;
}

static int katomic_open(struct inode *inode, struct file *file)
{
	file->private_data = katomic_global;
	return 0;
}

/*
 * io_uring: IORING_OP_URING_CMD with cmd_op KATOMIC_IOC_OP runs one counter
 * op from the SQE's command area; cqe->res is applied or -errno and
 * big_cqe[0] the result, so the ring must have 128-byte SQEs and 32-byte
 * CQEs.
 */
/*
 * The op of an SQE's command area, read once: the SQE stays writable by
 * user space while we run.  Field by field, what the op reads, as a batch
 * reads it; the out fields are what katomic_counter_op() writes.
 */
static void katomic_uring_read(struct katomic_op *op,
			       const struct katomic_op *sqe_op)
{
	*op = (struct katomic_op){
		.id = READ_ONCE(sqe_op->id),
		.type = READ_ONCE(sqe_op->type),
		.op = READ_ONCE(sqe_op->op),
		.flags = READ_ONCE(sqe_op->flags),
		.arg = READ_ONCE(sqe_op->arg),
		.arg2 = READ_ONCE(sqe_op->arg2),
		.reserved = READ_ONCE(sqe_op->reserved),
	};
}

static int katomic_uring_cmd(struct io_uring_cmd *ioucmd,
			     unsigned int issue_flags)
{
	const unsigned int big = IO_URING_F_SQE128 | IO_URING_F_CQE32;
	struct file *file = ioucmd->file;
	struct katomic_op op;
	int ret;

	if ((issue_flags & big) != big)
		return -EINVAL;
	if (ioucmd->cmd_op != KATOMIC_IOC_OP)
		return -ENOTTY;
	katomic_uring_read(&op, katomic_uring_payload(ioucmd));
	ret = katomic_counter_op(file->private_data, &op,
				 file->f_mode & FMODE_WRITE);
	if (ret == -ERESTARTSYS)	/* a completion cannot restart */
		ret = -EINTR;
	if (ret)
		return ret;
	katomic_uring_done(ioucmd, op.applied, op.result, issue_flags);
	return -EIOCBQUEUED;
}

static const struct file_operations katomic_fops = {
	.owner = THIS_MODULE,
	.open = katomic_open,
	.unlocked_ioctl = katomic_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = katomic_uring_cmd,
	.llseek = noop_llseek,
};

/*
 * The last reference to a private context's file is gone: so is it.  A
 * mapping holds one (vma->vm_file, taken by mmap and again by fork), so
 * the context outlives its descriptors while it is mapped, and the module
 * (the file's fops->owner) cannot be removed until the last unmap.
 */
static int katomic_ctx_release(struct inode *inode, struct file *file)
{
	katomic_ctx_destroy(file->private_data);
	return 0;
}

/*
 * mmap of a KATOMIC_CTX_MMAP context: its counters' cells, from offset 0,
 * at most nr_counters * KATOMIC_CELL bytes rounded up to a page, shared
 * (a private mapping would copy the pages on the first write and leave
 * the kernel's counters behind).  Other contexts: -ENODEV, as for a file
 * without mmap (the global context's /dev/katomic has none).
 * vm_map_pages() maps the pages at once, so no fault ever comes to us;
 * VM_DONTEXPAND keeps mremap from growing the mapping past the cells, and
 * VM_DONTDUMP keeps them out of core dumps.  Any protection is fine:
 * PROT_READ alone makes a view that cannot change the counters.
 */
static int katomic_ctx_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct katomic_ctx *ctx = file->private_data;

	if (!ctx->mappable)
		return -ENODEV;
	if (vma->vm_pgoff || !(vma->vm_flags & VM_MAYSHARE) ||
	    vma->vm_end - vma->vm_start > ctx->cells_size)
		return -EINVAL;
	katomic_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_map_pages(vma, ctx->cell_pages, ctx->cells_size >> PAGE_SHIFT);
}

static const struct file_operations katomic_ctx_fops = {
	.owner = THIS_MODULE,
	.release = katomic_ctx_release,
	.mmap = katomic_ctx_mmap,
	.unlocked_ioctl = katomic_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = katomic_uring_cmd,
	.llseek = noop_llseek,
};

static struct miscdevice katomic_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "katomic",
	.fops = &katomic_fops,
};

static int __init katomic_check_param(const char *name, unsigned int val,
				      unsigned int lo, unsigned int hi)
{
	if (val >= lo && val <= hi)
		return 0;
	pr_err("parameter %s=%u is outside %u..%u\n", name, val, lo, hi);
	return -EINVAL;
}

static int __init katomic_init(void)
{
	int ret;

	ret = katomic_check_param("max_counters", max_counters, 0,
				  KATOMIC_LIMIT_COUNTERS) ?:
	      katomic_check_param("max_slots", max_slots, 0,
				  KATOMIC_LIMIT_SLOTS) ?:
	      katomic_check_param("max_value", max_value, 1,
				  KATOMIC_LIMIT_VALUE) ?:
	      katomic_check_param("max_batch", katomic_max_batch, 1,
				  KATOMIC_LIMIT_BATCH) ?:
	      katomic_check_param("nr_counters", nr_counters, 0, max_counters) ?:
	      katomic_check_param("nr_slots", nr_slots, 0, max_slots) ?:
	      katomic_check_param("value_max", value_max, nr_slots ? 1 : 0,
				  max_value) ?:
	      katomic_check_param("devmode", devmode, 1, 0777);
	if (ret)
		return ret;

	/* Lives until rmmod: not charged to the cgroup of whoever loaded us. */
	katomic_global = katomic_ctx_create(nr_counters, nr_slots, value_max,
					    false, GFP_KERNEL);
	if (!katomic_global)
		return -ENOMEM;

	katomic_misc.mode = devmode;
	ret = misc_register(&katomic_misc);
	if (ret) {
		katomic_ctx_destroy(katomic_global);
		return ret;
	}
	return 0;
}

/*
 * No file of ours is open (each holds a module reference), so no op runs.
 * Values retired with kvfree_rcu() are freed by the kernel's own code, but
 * any RCU callback that is ours must have run before our text goes: wait
 * for every callback queued so far.
 */
static void __exit katomic_exit(void)
{
	misc_deregister(&katomic_misc);
	katomic_ctx_destroy(katomic_global);
	rcu_barrier();
}

module_init(katomic_init);
module_exit(katomic_exit);

MODULE_DESCRIPTION("Go's sync/atomic family over the kernel's atomics");
MODULE_AUTHOR("The katomic developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(KATOMIC_VERSION);
