/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katomic value SUBCOMMAND: Go's atomic.Value slots from the shell, one
 * command of the katomic chain.  value_parse() checks a command's words
 * before anything of the chain runs; value_run() runs it on the chain's
 * handle.
 */
#ifndef KATOMIC_VALUE_H
#define KATOMIC_VALUE_H

#include <stdbool.h>
#include <stdio.h>

#include "katomic.h"

struct value_cmd;

/*
 * tok[0..n) is "value SUBCOMMAND [ARG | OPTION]..."; hex: the chain's
 * --hex (the default output format of the command).  Returns EXIT_OK with
 * *out set, or a reported EXIT_USAGE.
 */
int value_parse(char **tok, int n, bool hex, struct value_cmd **out);
/* Runs v on k, whose info is info: EXIT_OK, EXIT_FAILED or EXIT_USAGE. */
int value_run(const struct value_cmd *v, struct katomic *k,
	      const struct katomic_info *info);
void value_free(struct value_cmd *v);	/* NULL is fine */
void value_usage(FILE *f);

#endif /* KATOMIC_VALUE_H */
