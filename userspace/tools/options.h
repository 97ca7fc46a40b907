/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line option parsing shared by the katomic command and its hammer. */
#ifndef KATOMIC_OPTIONS_H
#define KATOMIC_OPTIONS_H

/*
 * Matches "--name VALUE" or "--name=VALUE" at argv[*i], advancing *i past
 * it.  Returns 1 if matched, 0 if not, -1 if the value is missing.
 */
int option_value(int argc, char **argv, int *i, const char *name,
		 const char **value);

#endif /* KATOMIC_OPTIONS_H */
