// SPDX-License-Identifier: GPL-2.0
/*
 * The katomic command on a twin: parsing, output and exit status.  The
 * binary is $KATOMIC_BIN, else ../bin/katomic next to this test.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "run_katomic.h"

#define PTR_BITS	(sizeof(void *) * 8)

/* Success: exit 0, exactly this on stdout, nothing on stderr. */
static void expect_output(struct __test_metadata *_metadata,
			  const struct run *r, const char *out)
{
	if (r->status || strcmp(r->out, out) || *r->err)
		TH_LOG("exit %d, stdout:\n%s\nstderr:\n%s", r->status, r->out,
		       r->err);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ(out, r->out);
	EXPECT_STREQ("", r->err);
}

TEST(help)
{
	struct run r;

	KATOMIC(&r, "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "usage: katomic", 14));
	EXPECT_NE(NULL, strstr(r.out, "add-unless ID DELTA UNLESS"));
	EXPECT_NE(NULL, strstr(r.out, "cas ID OLD NEW"));
	EXPECT_NE(NULL, strstr(r.out, "int32 int64 uint32 uint64 uintptr"));
	EXPECT_NE(NULL, strstr(r.out, "Exit status: 0 ok, 1 an operation failed, 2 usage error."));
	EXPECT_NE(NULL, strstr(r.out, "(256 counters,"));
	EXPECT_NE(NULL, strstr(r.out, "values are checked when their command runs"));
	EXPECT_STREQ("", r.err);

	KATOMIC(&r, "help", "add");
	expect_output(_metadata, &r,
		      "  add ID DELTA                  *addr += delta; return *addr\n");
	KATOMIC(&r, "help", "frob");
	expect_error(_metadata, &r, 2, "unknown command 'frob'");
}

TEST(usage_errors)
{
	struct run r;

	KATOMIC(&r, "--twin");
	expect_error(_metadata, &r, 2, "missing command");
	KATOMIC(&r, "frob");
	expect_error(_metadata, &r, 2, "unknown command 'frob'");
	KATOMIC(&r, "--frob", "info");
	expect_error(_metadata, &r, 2, "unknown option '--frob'");
	KATOMIC(&r, "--device");
	expect_error(_metadata, &r, 2, "--device needs a PATH");
	KATOMIC(&r, "--twin", "--device", "/dev/katomic", "info");
	expect_error(_metadata, &r, 2, "exclude each other");
	KATOMIC(&r, "--twin", "load");
	expect_error(_metadata, &r, 2, "load: wrong number of arguments (usage: katomic load ID)");
	KATOMIC(&r, "--twin", "cas", "0", "1");
	expect_error(_metadata, &r, 2, "usage: katomic cas ID OLD NEW");
	KATOMIC(&r, "--twin", "info", "1");
	expect_error(_metadata, &r, 2, "info: wrong number of arguments");
	KATOMIC(&r, "--twin", "define", "0", "int32", ",");
	expect_error(_metadata, &r, 2, "empty command");
	KATOMIC(&r, "--twin", "store", "0", "1", "--sync", "atomic");
	expect_error(_metadata, &r, 2, "--sync, --init and --delay are options of define");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--init");
	expect_error(_metadata, &r, 2, "--init needs a value");
	KATOMIC(&r, "--twin", "load", "0", "--frob");
	expect_error(_metadata, &r, 2, "unknown option '--frob'");
	/* Names and argument counts of the whole chain are checked first. */
	KATOMIC(&r, "--twin", "info", ",", "frob");
	expect_error(_metadata, &r, 2, "unknown command 'frob'");
	EXPECT_STREQ("", r.out);
	KATOMIC(&r, "--twin", "info", ",", "add", "0");
	expect_error(_metadata, &r, 2, "add: wrong number of arguments");
	EXPECT_STREQ("", r.out);
}

TEST(bad_numbers)
{
	struct run r;

	KATOMIC(&r, "--twin", "define", "0", "int64", ",", "add", "0", "12x");
	expect_error(_metadata, &r, 2, "add: delta '12x' is not a number");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--init", "2147483648");
	expect_error(_metadata, &r, 2,
		     "define: init 2147483648 does not fit int32 [-2147483648, 2147483647]");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--init", "0xffffffff");
	expect_error(_metadata, &r, 2, "init 0xffffffff does not fit int32");
	KATOMIC(&r, "--twin", "define", "0", "uint32", ",", "add", "0", "-1");
	expect_error(_metadata, &r, 2, "delta -1 does not fit uint32 [0, 4294967295]");
	KATOMIC(&r, "--twin", "define", "0", "uint32", ",", "add-unless", "0", "1", "-1");
	expect_error(_metadata, &r, 2, "unless -1 does not fit uint32");
	KATOMIC(&r, "--twin", "define", "x", "int32");
	expect_error(_metadata, &r, 2, "define: id 'x' is not a number");
	KATOMIC(&r, "--twin", "load", "-1");
	expect_error(_metadata, &r, 2, "id -1 does not fit uint32");
	KATOMIC(&r, "--twin", "define", "0", "uint8");
	expect_error(_metadata, &r, 2, "unknown type 'uint8' (types: int32 int64 uint32 uint64 uintptr)");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--sync", "bogus");
	expect_error(_metadata, &r, 2, "unknown sync kind 'bogus'");
	/*
	 * A value is checked when its command runs, against the counter's
	 * type: the commands before it have run.
	 */
	KATOMIC(&r, "--twin", "define", "0", "int32", ",", "add", "0", "3", ",",
		"add", "0", "x", ",", "load", "0");
	expect_error(_metadata, &r, 2, "add: delta 'x' is not a number");
	EXPECT_STREQ("3\n", r.out);
}

TEST(op_output)
{
	struct run r;

	KATOMIC(&r, "--twin", "define", "0", "int32", "--init", "5", ",",
		"load", "0", ",", "add", "0", "3", ",", "swap", "0", "-2", ",",
		"store", "0", "-7", ",", "load", "0");
	expect_output(_metadata, &r, "5\n8\n8\n-7\n");
	KATOMIC(&r, "--twin", "define", "0", "uint32", "--init", "5", ",",
		"cas", "0", "5", "7", ",", "cas", "0", "5", "9", ",", "load", "0");
	expect_output(_metadata, &r, "5 applied\n7 not-applied\n7\n");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--init", "-1", ",",
		"max", "0", "1", ",", "max", "0", "0", ",", "min", "0", "-5", ",",
		"load", "0");
	expect_output(_metadata, &r, "-1 applied\n1 not-applied\n1 applied\n-5\n");
	KATOMIC(&r, "--twin", "define", "0", "uint32", "--init", "0xffffffff",
		",", "max", "0", "1");
	expect_output(_metadata, &r, "4294967295 not-applied\n");
	KATOMIC(&r, "--twin", "define", "0", "int64", "--init", "3", ",",
		"add-unless", "0", "1", "3", ",", "add_unless", "0", "1", "4",
		",", "load", "0");
	expect_output(_metadata, &r, "3 not-applied\n3 applied\n4\n");
	KATOMIC(&r, "--twin", "define", "0", "uint64", "--init", "0xff", ",",
		"and", "0", "0x0f", ",", "or", "0", "0x30", ",", "xor", "0",
		"0xff", ",", "load", "0", "--hex");
	expect_output(_metadata, &r, "255\n15\n63\n0xc0\n");
	/* Wraparound, and Go's unsigned decrement. */
	KATOMIC(&r, "--twin", "define", "0", "int32", "--init", "2147483647",
		",", "add", "0", "1", ",", "define", "1", "uint32", ",", "add",
		"1", "0xffffffff");
	expect_output(_metadata, &r, "-2147483648\n4294967295\n");
	/* --hex before the command applies to every command. */
	KATOMIC(&r, "--twin", "--hex", "define", "0", "int32", "--init=-16",
		",", "load", "0", ",", "add", "0", "0x10");
	expect_output(_metadata, &r, "-0x10\n0x0\n");
}

TEST(info_list_query)
{
	char info[256];
	struct run r;

	snprintf(info, sizeof(info),
		 "abi_version 1\nfeatures 0x2f sync-kinds values contexts batch mmap\n"
		 "nr_counters 256\nnr_slots 64\nvalue_max 4096\nmax_batch 4096\n"
		 "ptr_bits %zu\n", PTR_BITS);
	KATOMIC(&r, "--twin", "info");
	expect_output(_metadata, &r, info);
	KATOMIC(&r, "--twin", "list");
	expect_output(_metadata, &r, "");
	KATOMIC(&r, "--twin", "define", "3", "uint64", "--init", "7", ",",
		"define", "1", "int32", "--sync", "default", "--init", "-1", ",",
		"list");
	expect_output(_metadata, &r, "1 int32 atomic -1\n3 uint64 atomic 7\n");
	KATOMIC(&r, "--twin", "define", "2", "int64", "--sync=atomic", ",",
		"query", "2", ",", "undefine", "2", ",", "list");
	expect_output(_metadata, &r, "int64 atomic\n");
	/* Every counter kind; none's delay shows in query, not in list. */
	KATOMIC(&r, "--twin", "define", "0", "int64", "--sync", "none",
		"--delay", "1500", ",", "define", "1", "uint32", "--sync",
		"spinlock", "--init", "9", ",", "define", "2", "int32",
		"--sync", "mutex", ",", "define", "3", "uint64", "--sync",
		"percpu", "--init", "4", ",", "add", "3", "2", ",", "query", "0",
		",", "query", "3", ",", "list");
	expect_output(_metadata, &r, "0\nint64 none --delay 1500\nuint64 percpu\n"
		      "0 int64 none 0\n1 uint32 spinlock 9\n2 int32 mutex 0\n"
		      "3 uint64 percpu 6\n");
}

TEST(failures)
{
	struct run r;

	KATOMIC(&r, "--twin", "add", "7", "1");
	expect_error(_metadata, &r, 1, "add: counter 7: not defined (ENOENT)");
	KATOMIC(&r, "--twin", "define", "0", "int32", ",", "define", "0", "int64");
	expect_error(_metadata, &r, 1, "define: counter 0: already defined (EEXIST)");
	KATOMIC(&r, "--twin", "define", "300", "int32");
	expect_error(_metadata, &r, 1, "counter 300 is out of range");
	KATOMIC(&r, "--twin", "undefine", "0");
	expect_error(_metadata, &r, 1, "(ENOENT)");
	KATOMIC(&r, "--twin", "query", "5");
	expect_error(_metadata, &r, 1, "query: counter 5: not defined (ENOENT)");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--sync", "rcu");
	expect_error(_metadata, &r, 1,
		     "define: rcu is a value-slot kind, not a counter kind (EOPNOTSUPP)");
	KATOMIC(&r, "--twin", "define", "0", "uint64", "--sync", "seqlock");
	expect_error(_metadata, &r, 1,
		     "define: seqlock is a value-slot kind, not a counter kind (EOPNOTSUPP)");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--sync", "percpu");
	expect_error(_metadata, &r, 1,
		     "define: percpu int32 counters are not supported here (EOPNOTSUPP)");
	KATOMIC(&r, "--twin", "define", "0", "uint64", "--sync", "percpu", ",",
		"swap", "0", "1");
	expect_error(_metadata, &r, 1,
		     "swap: counter 0: not supported for this object, type or kind (EOPNOTSUPP)");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--delay", "5");
	expect_error(_metadata, &r, 2, "define: --delay is for none counters only");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--sync", "none",
		"--delay", "1000001");
	expect_error(_metadata, &r, 2,
		     "define: --delay '1000001' is not a number of nanoseconds in 0..1000000");
	KATOMIC(&r, "--twin", "define", "0", "int32", "--sync", "none",
		"--delay", "-1");
	expect_error(_metadata, &r, 2, "is not a number of nanoseconds");
	KATOMIC(&r, "--twin", "load", "0", "--delay", "5");
	expect_error(_metadata, &r, 2,
		     "--sync, --init and --delay are options of define");
	KATOMIC(&r, "--device", "/nonexistent/katomic", "info");
	expect_error(_metadata, &r, 1,
		     "/nonexistent/katomic: No such file or directory (ENOENT): is the katomic module loaded?");
	KATOMIC(&r, "--device", "/dev/null", "info");
	expect_error(_metadata, &r, 1, "/dev/null: ");
	/* The first failure ends the chain. */
	KATOMIC(&r, "--twin", "load", "0", ",", "info");
	expect_error(_metadata, &r, 1, "(ENOENT)");
	EXPECT_STREQ("", r.out);
	/* help needs no device. */
	KATOMIC(&r, "--device", "/nonexistent/katomic", "help", "load");
	EXPECT_EQ(0, r.status);
}

TEST_HARNESS_MAIN
