/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the twin tests share: the check of a struct katomic_define's
 * fields, the heap and the address space as a test sees them.  Include
 * after kselftest_harness.h.  The functions are static inline, so that a
 * test need not use them all.
 */
#ifndef KATOMIC_TWIN_COMMON_H
#define KATOMIC_TWIN_COMMON_H

#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

/* What every twin's info claims; slots add KATOMIC_FEAT_VALUES. */
#define TWIN_FEATURES	(KATOMIC_FEAT_SYNC_KINDS | KATOMIC_FEAT_CONTEXTS | \
			 KATOMIC_FEAT_BATCH | KATOMIC_FEAT_MMAP)

/*
 * call(k, &d) with d's field set to v, the rest of d as it is, must fail
 * with -EINVAL; the field is set back after.
 */
#define EXPECT_EINVAL_WITH(call, k, d, field, v)			\
	do {								\
		__typeof__((d).field) keep_ = (d).field;		\
									\
		(d).field = (v);					\
		EXPECT_EQ(-EINVAL, call(k, &(d)));			\
		(d).field = keep_;					\
	} while (0)

/*
 * Heap bytes in use: small and mmapped chunks of all arenas (mallinfo2
 * sums them).  Chunks that free() keeps in glibc's per-thread cache count
 * as in use, so a test compares it with a bound: a leak of a block per
 * round grows past any bound, the cache does not.
 */
static inline ssize_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* The process's address space now (VmSize), in bytes; 0 if unknown. */
static inline size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long kb = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * Caps the address space (RLIMIT_AS) at what the process has now plus
 * extra bytes, so that a larger allocation fails; *old gets the limit to
 * set back with setrlimit(RLIMIT_AS, old).
 */
static inline void cap_address_space(struct __test_metadata *_metadata,
				     size_t extra, struct rlimit *old)
{
	size_t vm = vm_size();
	struct rlimit low;

	ASSERT_NE(0, vm);
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, old));
	low = *old;
	low.rlim_cur = vm + extra;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &low));
}

#endif /* KATOMIC_TWIN_COMMON_H */
