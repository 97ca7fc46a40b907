/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every katomic command shares: its exit status, its one-line
 * messages and its option parsing.
 */
#ifndef KATOMIC_OPTIONS_H
#define KATOMIC_OPTIONS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* The exit status of every command: ok, an operation failed, usage error. */
enum { EXIT_OK, EXIT_FAILED, EXIT_USAGE };

/*
 * Prints "katomic: CMD: WHAT: message" and a newline on stderr (CMD and
 * WHAT may be NULL, and are then left out).  Returns status, so that
 * "return report(EXIT_USAGE, ...)" both says and ends.
 */
int report(int status, const char *cmd, const char *what, const char *fmt,
	   ...) __attribute__((format(printf, 4, 5)));
int vreport(int status, const char *cmd, const char *what, const char *fmt,
	    va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Matches "--name VALUE" or "--name=VALUE" at argv[*i], advancing *i past
 * it.  Returns 1 if matched, 0 if not, -1 if the value is missing.
 */
int option_value(int argc, char **argv, int *i, const char *name,
		 const char **value);

/* An option: "--threads", and whether it takes a value. */
struct option_spec {
	const char *name;
	bool valued;
};

/*
 * Matches argv[*i] against opts[nr] (a valued one as option_value()
 * does).  Returns the option's index, or -1 if none matches.  *value is
 * the value of a valued option, NULL if it is missing (and for a flag).
 */
int option_match(int argc, char **argv, int *i,
		 const struct option_spec *opts, unsigned int nr,
		 const char **value);

/*
 * Parses option opt's value s as a number in min..max (decimal or 0x
 * hex).  Returns EXIT_OK, or reports as cmd ("'x' is not a number", "out
 * of range") and returns EXIT_USAGE.
 */
int option_uint(const char *cmd, const char *opt, const char *s,
		uint64_t min, uint64_t max, uint64_t *v);

#endif /* KATOMIC_OPTIONS_H */
