// SPDX-License-Identifier: GPL-2.0
/*
 * What every katomic command shares: its exit status, its one-line
 * messages and its option parsing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "katomic.h"
#include "options.h"

int vreport(int status, const char *cmd, const char *what, const char *fmt,
	    va_list ap)
{
	fputs("katomic: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	if (what)
		fprintf(stderr, "%s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return status;
}

int report(int status, const char *cmd, const char *what, const char *fmt,
	   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(status, cmd, what, fmt, ap);
	va_end(ap);
	return status;
}

int option_value(int argc, char **argv, int *i, const char *name,
		 const char **value)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

int option_match(int argc, char **argv, int *i,
		 const struct option_spec *opts, unsigned int nr,
		 const char **value)
{
	unsigned int j;
	int m;

	for (j = 0; j < nr; j++) {
		*value = NULL;
		if (opts[j].valued)
			m = option_value(argc, argv, i, opts[j].name, value);
		else
			m = !strcmp(argv[*i], opts[j].name);
		if (m)
			return j;
	}
	return -1;
}

int option_uint(const char *cmd, const char *opt, const char *s,
		uint64_t min, uint64_t max, uint64_t *v)
{
	__u64 parsed = 0;
	int ret = katomic_value_parse(s, KATOMIC_TYPE_UINT64, 64, &parsed);

	*v = parsed;
	if (ret == -EINVAL)
		return report(EXIT_USAGE, cmd, NULL, "%s '%s' is not a number",
			      opt, s);
	if (ret || *v < min || *v > max)
		return report(EXIT_USAGE, cmd, NULL,
			      "%s %s is out of range %llu..%llu", opt, s,
			      (unsigned long long)min,
			      (unsigned long long)max);
	return EXIT_OK;
}
