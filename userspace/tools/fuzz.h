/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic fuzz: random and structure-aware ioctls and io_uring commands on
 * /dev/katomic from several threads, every result checked against the ABI
 * (spec/abi.md), while other threads churn contexts, define and undefine
 * objects and try to unload the module.
 */
#ifndef KATOMIC_FUZZ_H
#define KATOMIC_FUZZ_H

#include <stdio.h>

/*
 * katomic [--device PATH] fuzz [OPTION]...: argv[0] is "fuzz".  Returns
 * the exit status: 0 every result was one the ABI allows, 1 one was not
 * (or the set-up failed), 2 usage error.
 */
int fuzz_main(int argc, char **argv, const char *device,
	      const char *(*open_hint)(int err));
void fuzz_usage(FILE *f);

#endif /* KATOMIC_FUZZ_H */
