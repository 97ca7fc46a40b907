// SPDX-License-Identifier: GPL-2.0
/* Command-line option parsing shared by the katomic command and its hammer. */
#include <string.h>

#include "options.h"

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
