/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic: every difference between the kernels the module builds on, and
 * the only place that knows kernel versions (LINUX_VERSION_CODE appears
 * nowhere else in kmod/).  One shim per difference, each saying which
 * kernel changed what.
 *
 * Tested: Debian bookworm's 6.1 (6.1.192), Debian's 6.12 for bookworm
 * (6.12.117+deb12) and its PREEMPT_RT flavour; see the README's
 * "Supported kernels".  Other versions are handled by what upstream and
 * the stable trees changed, as noted, but were not built here.
 *
 * Not version shims, written the one way every supported kernel has:
 *  - kvfree_rcu(ptr, rcu_head field): the two-argument form exists in all
 *    of them.  The one-argument form (may sleep, no rcu_head) was renamed
 *    kvfree_rcu_mightsleep() in 6.3, so katomic does not use it.
 *  - PREEMPT_RT is a configuration, not a version: spinlock_t is a
 *    sleeping lock there (see the SPINLOCK kind in counter.c).
 */
#ifndef _KATOMIC_COMPAT_H
#define _KATOMIC_COMPAT_H

#include <linux/mm.h>
#include <linux/types.h>
#include <linux/version.h>

/*
 * Oldest kernels: io_uring_cmd_done() took no issue_flags before 6.3
 * ("block/io_uring: pass in issue_flags for uring_cmd
 * task_work handling"), which the stable trees took into 6.1.23 and 6.2.y.
 * Rather than keep a branch no build here can test, refuse the kernels
 * without it (6.2 reached its end of life at 6.2.16).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 23) || \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0) && \
	 LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0))
#error "katomic needs Linux 6.1.23 or later (6.1.y), or 6.3 or later"
#endif

/*
 * io_uring command API header: 6.8 moved struct io_uring_cmd,
 * io_uring_cmd_done() and io_uring_sqe_cmd() out of <linux/io_uring.h>
 * into <linux/io_uring/cmd.h> ("io_uring: split out
 * cmd api into a separate header"); the IO_URING_F_* issue flags come
 * with it, from <linux/io_uring_types.h>.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif

/*
 * The command's payload, the SQE's command area: up to 6.3 (and in 6.1.y)
 * the command has a pointer to it, ioucmd->cmd; 6.4 gave commands the
 * whole SQE instead, ioucmd->sqe ("io_uring: Pass
 * whole sqe to commands"), and io_uring_sqe_cmd() to find the area in it.
 */
static inline const void *katomic_uring_payload(const struct io_uring_cmd *c)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return io_uring_sqe_cmd(c->sqe);
#else
	return c->cmd;
#endif
}

/*
 * Completing a command with a second result (big_cqe[0] of a CQE32
 * ring): io_uring_cmd_done()'s res2 was ssize_t, which truncates it on a
 * 32-bit kernel; it is u64 since 6.13 ("io_uring: Change res2 parameter
 * type in io_uring_cmd_done"), taken by the stable trees into 6.12.5.
 * Debian's 6.1 (6.1.192) still has ssize_t: on a 64-bit kernel the cast
 * keeps all 64 bits, which io_uring stores back as u64.
 */
static inline void katomic_uring_done(struct io_uring_cmd *c, int res,
				      u64 res2, unsigned int issue_flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 5)
	io_uring_cmd_done(c, res, res2, issue_flags);
#else
	io_uring_cmd_done(c, res, (ssize_t)res2, issue_flags);
#endif
}

/*
 * Setting a vma's flags: 6.3 made vma->vm_flags read-only and gave
 * vm_flags_set() ("mm: introduce vma->vm_flags wrapper functions");
 * 6.1.y has neither the wrapper nor the restriction.
 */
static inline void katomic_vm_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

#endif /* _KATOMIC_COMPAT_H */
