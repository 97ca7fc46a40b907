// SPDX-License-Identifier: GPL-2.0
/*
 * katomic value on a twin: the output of every subcommand (text, hex, nil,
 * raw bytes to the byte), values from arguments, files and stdin, every
 * error message and exit status, and chains mixing value and counter
 * commands.  The binary is $KATOMIC_BIN, else ../bin/katomic next to this
 * test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "run_katomic.h"

/* What stdout holds beyond what the command wrote (see expect_bytes). */
#define UNWRITTEN	0x5a

/* Runs katomic with stdout's buffer filled with UNWRITTEN first. */
#define VALUE(r, ...)							\
	do {								\
		memset((r)->out, UNWRITTEN, sizeof((r)->out));		\
		KATOMIC(r, __VA_ARGS__);				\
	} while (0)

/*
 * Success: exit 0, nothing on stderr, and stdout exactly out[0..n), NUL
 * bytes included.  run_katomic() keeps no length, but writes only the
 * bytes read and a NUL after them: stdout was n bytes iff out[n] is that
 * NUL and every byte after it is still UNWRITTEN.
 */
static void expect_bytes(struct __test_metadata *_metadata,
			 const struct run *r, const void *out, size_t n)
{
	size_t i, tail = 0;

	ASSERT_LT(n + 1, sizeof(r->out));
	for (i = n + 1; i < sizeof(r->out); i++)
		tail += (unsigned char)r->out[i] != UNWRITTEN;
	if (r->status || *r->err || memcmp(r->out, out, n) || r->out[n] || tail)
		TH_LOG("exit %d, stdout:\n%s\nstderr:\n%s", r->status, r->out,
		       r->err);
	EXPECT_EQ(0, r->status);
	EXPECT_STREQ("", r->err);
	EXPECT_EQ(0, memcmp(r->out, out, n));
	EXPECT_EQ('\0', r->out[n]);
	EXPECT_EQ(0, tail);
}

static void expect_text(struct __test_metadata *_metadata,
			const struct run *r, const char *out)
{
	expect_bytes(_metadata, r, out, strlen(out));
}

/* Drops prefix (which stdout must begin with) from r's stdout. */
static void drop_prefix(struct __test_metadata *_metadata, struct run *r,
			const char *prefix)
{
	size_t n = strlen(prefix);

	ASSERT_EQ(0, strncmp(r->out, prefix, n));
	memmove(r->out, r->out + n, sizeof(r->out) - n);
	memset(r->out + sizeof(r->out) - n, UNWRITTEN, n);
}

/* A file holding data[0..n); its path in path (a mkstemp template). */
static void make_file(struct __test_metadata *_metadata, char *path,
		      const void *data, size_t n)
{
	int fd;

	strcpy(path, "/tmp/cli_value_test.XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)n, write(fd, data, n));
	ASSERT_EQ(0, close(fd));
}

/* The test's stdin, which katomic inherits, becomes path. */
static void stdin_from(struct __test_metadata *_metadata, const char *path)
{
	int fd = open(path, O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, dup2(fd, STDIN_FILENO));
	ASSERT_EQ(0, close(fd));
}

/* Every byte value in turn: 0, 1, ..., 255, 0, 1, ... */
static void all_bytes(unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = i;
}

TEST(help)
{
	const char *usage =
		"usage: katomic [--device PATH | --twin] [--hex] value SUBCOMMAND [ARG]... [, ...]\n";
	struct run r;

	KATOMIC(&r, "help", "value");
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	EXPECT_EQ(0, strncmp(r.out, usage, strlen(usage)));
	EXPECT_NE(NULL, strstr(r.out, "\n  value load ID [--raw | --hex | --text] [--max BYTES]\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  value store ID [--tag T] (VALUE | --file F | --stdin)\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  value swap ID [--tag T] (VALUE | --file F | --stdin) [--raw | --hex | --text] [--max BYTES]\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  value cas ID [--old-tag T] (OLD | --old-file F | --old-empty) [--tag T] (NEW | --file F | --stdin)\n"));
	EXPECT_NE(NULL, strstr(r.out, "if v == (old-tag, OLD) { v = (tag, NEW) }; return swapped\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nKIND: none rcu seqlock\n"));
	EXPECT_NE(NULL, strstr(r.out, "tag T len N version V FORMAT BYTES"));
	KATOMIC(&r, "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "\n  value SUBCOMMAND [ARG]...     Go's atomic.Value slots"));
	EXPECT_NE(NULL, strstr(r.out, "(256 counters,\n64 value slots of up to 4096 bytes"));
	EXPECT_NE(NULL, strstr(r.out, "\n       katomic [--device PATH] tear [OPTION]...\n"));
}

TEST(store_load_text_hex_nil)
{
	struct run r;

	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "load", "0",
	      ",", "value", "store", "0", "--tag", "7", "hello world", ",",
	      "value", "load", "0", ",", "value", "load", "0", "--hex", ",",
	      "value", "load", "0", "--text");
	expect_text(_metadata, &r,
		    "tag 0 len 0 version 0 nil\n"
		    "version 1\n"
		    "tag 7 len 11 version 1 text hello world\n"
		    "tag 7 len 11 version 1 hex 68656c6c6f20776f726c64\n"
		    "tag 7 len 11 version 1 text hello world\n");
	/* The default tag is 1; a backslash is text, as \\. */
	VALUE(&r, "--twin", "value", "define", "3", ",", "value", "store", "3",
	      "a\\b", ",", "value", "load", "3");
	expect_text(_metadata, &r, "version 1\ntag 1 len 3 version 1 text a\\\\b\n");
}

TEST(formats)
{
	struct run r;

	/* A byte outside 0x20..0x7e: hex by default, \xNN with --text. */
	VALUE(&r, "--twin", "value", "define", "3", ",", "value", "store", "3",
	      "tab\there\x7f", ",", "value", "load", "3", ",", "value", "load",
	      "3", "--text", ",", "value", "load", "3", "--raw");
	expect_text(_metadata, &r,
		    "version 1\n"
		    "tag 1 len 9 version 1 hex 74616209686572657f\n"
		    "tag 1 len 9 version 1 text tab\\x09here\\x7f\n"
		    "tab\there\x7f");
	/* katomic --hex: every load in hex, unless the command says. */
	VALUE(&r, "--twin", "--hex", "value", "define", "0", ",", "value",
	      "store", "0", "ok", ",", "value", "load", "0", ",", "value",
	      "load", "0", "--text", ",", "value", "list");
	expect_text(_metadata, &r,
		    "version 1\n"
		    "tag 1 len 2 version 1 hex 6f6b\n"
		    "tag 1 len 2 version 1 text ok\n"
		    "0 rcu tag 1 len 2 version 1 hex 6f6b\n");
	/* Values that begin with -- after a lone --. */
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store", "0",
	      "--", "--tag", ",", "value", "load", "0", "--raw");
	expect_text(_metadata, &r, "version 1\n--tag");
}

TEST(kinds_query_list)
{
	struct run r;

	VALUE(&r, "--twin", "value", "define", "5", "--sync", "seqlock", ",",
	      "value", "define", "2", "--sync", "none", ",", "value", "define",
	      "63", ",", "value", "define", "4", "--sync=default", ",",
	      "value", "store", "2", "--tag", "3", "two", ",", "value", "store",
	      "63", "x", ",", "value", "store", "63", "yy", ",", "value",
	      "query", "5", ",", "value", "query", "4", ",", "value", "query",
	      "2", ",", "value", "list");
	expect_text(_metadata, &r,
		    "version 1\nversion 1\nversion 2\n"
		    "seqlock\nrcu\nnone\n"
		    "2 none tag 3 len 3 version 1 text two\n"
		    "4 rcu tag 0 len 0 version 0 nil\n"
		    "5 seqlock tag 0 len 0 version 0 nil\n"
		    "63 rcu tag 1 len 2 version 2 text yy\n");
	VALUE(&r, "--twin", "value", "list");
	expect_text(_metadata, &r, "");
	VALUE(&r, "--twin", "value", "define", "9", "--sync", "rcu", ",",
	      "value", "store", "9", "z", ",", "value", "undefine", "9", ",",
	      "value", "list", ",", "value", "define", "9", ",", "value",
	      "load", "9");
	expect_text(_metadata, &r, "version 1\ntag 0 len 0 version 0 nil\n");
}

/* swap returns the old value with the new version; cas says applied. */
TEST(swap_cas_versions)
{
	struct run r;

	VALUE(&r, "--twin", "value", "define", "1", "--sync", "none", ",",
	      "value", "swap", "1", "--tag", "9", "first", ",", "value", "swap",
	      "1", "--tag", "9", "second", ",", "value", "swap", "1", "--tag",
	      "9", "third", "--raw", ",", "value", "load", "1");
	expect_text(_metadata, &r,
		    "tag 0 len 0 version 1 nil\n"
		    "tag 9 len 5 version 2 text first\n"
		    "secondtag 9 len 5 version 3 text third\n");
	VALUE(&r, "--twin", "value", "define", "0", ",",
	      "value", "cas", "0", "--old-empty", "--tag", "4", "a", ",",
	      "value", "cas", "0", "--old-empty", "--tag", "4", "b", ",",
	      "value", "cas", "0", "--tag", "4", "b", "c", ",",
	      "value", "cas", "0", "--tag", "4", "a", "c", ",",
	      "value", "cas", "0", "--old-tag", "4", "--tag", "4", "c", "dd",
	      ",", "value", "cas", "0", "--old-tag", "5", "--tag", "4", "dd",
	      "e", ",", "value", "load", "0");
	expect_text(_metadata, &r,
		    "applied version 1\n"
		    "not-applied version 1\n"
		    "not-applied version 1\n"
		    "applied version 2\n"
		    "applied version 3\n"
		    "not-applied version 3\n"
		    "tag 4 len 2 version 3 text dd\n");
}

/* --file and --stdin, every byte value, NUL included, back to the byte. */
TEST(files_stdin_raw)
{
	unsigned char data[4096], old[300], twice[600];
	char path[64], path_old[64], hex[1024];
	struct run r;
	size_t i, n;

	all_bytes(data, sizeof(data));
	all_bytes(old, sizeof(old));
	make_file(_metadata, path, data, sizeof(data));
	make_file(_metadata, path_old, old, sizeof(old));
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store",
	      "0", "--file", path, ",", "value", "load", "0", "--raw");
	drop_prefix(_metadata, &r, "version 1\n");
	expect_bytes(_metadata, &r, data, sizeof(data));

	/* From stdin; swap --raw gives back the old bytes. */
	stdin_from(_metadata, path_old);
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store",
	      "0", "--stdin", ",", "value", "swap", "0", "--file", path_old,
	      "--raw", ",", "value", "load", "0", "--raw");
	drop_prefix(_metadata, &r, "version 1\n");
	memcpy(twice, old, sizeof(old));
	memcpy(twice + sizeof(old), old, sizeof(old));
	expect_bytes(_metadata, &r, twice, sizeof(twice));

	/* cas with the expected value from a file. */
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store",
	      "0", "--file", path_old, ",", "value", "cas", "0", "--old-file",
	      path_old, "new", ",", "value", "cas", "0", "--old-file", path_old,
	      "newer", ",", "value", "load", "0");
	expect_text(_metadata, &r,
		    "version 1\napplied version 2\nnot-applied version 2\n"
		    "tag 1 len 3 version 2 text new\n");

	/* A loaded value of every byte, in hex. */
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store",
	      "0", "--file", path_old, "--tag", "2", ",", "value", "load",
	      "0", "--max", "300");
	n = snprintf(hex, sizeof(hex), "version 1\ntag 2 len 300 version 1 hex ");
	for (i = 0; i < sizeof(old); i++)
		n += snprintf(hex + n, sizeof(hex) - n, "%02x", old[i]);
	snprintf(hex + n, sizeof(hex) - n, "\n");
	expect_text(_metadata, &r, hex);
	unlink(path);
	unlink(path_old);
}

/* Chains: value and counter commands together; the first failure ends. */
TEST(chains)
{
	struct run r;

	VALUE(&r, "--twin", "define", "0", "int32", "--init", "5", ",", "value",
	      "define", "0", ",", "add", "0", "1", ",", "value", "store", "0",
	      "six", ",", "load", "0", ",", "value", "load", "0");
	expect_text(_metadata, &r,
		    "6\nversion 1\n6\ntag 1 len 3 version 1 text six\n");
	/* The chain's words are all checked before anything runs. */
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store",
	      "0", ",", "info");
	EXPECT_EQ(2, r.status);
	EXPECT_EQ('\0', r.out[0]);
	/* A failure ends the chain: what ran before stands. */
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store",
	      "0", "--tag", "3", "a", ",", "value", "store", "0", "--tag",
	      "4", "b", ",", "value", "load", "0");
	expect_error(_metadata, &r, 1,
		     "value store: slot 0: tag 4 refused: the first store fixed the slot's tag at 3 (EINVAL)");
	EXPECT_STREQ("version 1\n", r.out);
}

/* Usage errors: exit 2, nothing run. */
static const struct error_case bad_usage[] = {
	{ { "--twin", "value" }, NULL,
	  "value: missing subcommand (try katomic help value)" },
	{ { "--twin", "value", "frob" }, NULL,
	  "value: unknown subcommand 'frob' (try katomic help value)" },
	{ { "--twin", "value", "store", "0" }, NULL,
	  "value store: wrong number of arguments (usage: katomic value store ID [--tag T] (VALUE | --file F | --stdin))" },
	{ { "--twin", "value", "store", "0", "a", "b" }, NULL,
	  "value store: wrong number of arguments" },
	{ { "--twin", "value", "store", "0", "--file", "f", "a" }, NULL,
	  "value store: wrong number of arguments" },
	{ { "--twin", "value", "cas", "0", "a" }, NULL,
	  "usage: katomic value cas ID [--old-tag T] (OLD | --old-file F | --old-empty) [--tag T] (NEW | --file F | --stdin)" },
	{ { "--twin", "value", "load" }, NULL,
	  "usage: katomic value load ID [--raw | --hex | --text] [--max BYTES]" },
	{ { "--twin", "value", "list", "0" }, NULL,
	  "value list: wrong number of arguments (usage: katomic value list [--hex | --text])" },
	{ { "--twin", "value", "define", "0", "--sync", "bogus" }, NULL,
	  "value define: unknown sync kind 'bogus' (slot kinds: none rcu seqlock)" },
	{ { "--twin", "value", "define", "x" }, NULL,
	  "value define: id 'x' is not a number" },
	{ { "--twin", "value", "load", "-1" }, NULL,
	  "value load: id -1 is out of range 0..4294967295" },
	{ { "--twin", "value", "store", "0", "--tag", "4294967296", "a" }, NULL,
	  "value store: --tag 4294967296 is out of range 0..4294967295" },
	{ { "--twin", "value", "cas", "0", "--old-tag", "t", "a", "b" }, NULL,
	  "value cas: --old-tag 't' is not a number" },
	{ { "--twin", "value", "load", "0", "--max", "-5" }, NULL,
	  "value load: --max -5 is out of range" },
	{ { "--twin", "value", "store", "0", "--tag" }, NULL,
	  "value store: --tag needs a value" },
	{ { "--twin", "value", "load", "0", "--tag", "3" }, NULL,
	  "value load: --tag is not an option of value load" },
	{ { "--twin", "value", "store", "0", "--raw", "a" }, NULL,
	  "value store: --raw is not an option of value store" },
	{ { "--twin", "value", "define", "0", "--hex" }, NULL,
	  "value define: --hex is not an option of value define" },
	{ { "--twin", "value", "list", "--raw" }, NULL,
	  "value list: --raw is not an option of value list" },
	{ { "--twin", "value", "load", "0", "--frob" }, NULL,
	  "value load: unknown option '--frob'" },
	{ { "--twin", "value", "load", "0", "--raw", "--text" }, NULL,
	  "value load: --raw, --hex and --text exclude each other" },
	{ { "--twin", "value", "store", "0", "--file", "f", "--stdin" }, NULL,
	  "value store: --file and --stdin exclude each other" },
	{ { "--twin", "value", "cas", "0", "--old-empty", "--old-tag", "1", "b" }, NULL,
	  "value cas: --old-empty excludes --old-tag and --old-file" },
	{ { "--twin", "value", "store", "0", "--stdin", ",", "value", "swap",
	    "0", "--stdin" }, NULL,
	  "value swap: --stdin: another command of the chain reads stdin" },
	{ { "--twin", "value", "load", "0", "--delay", "1" }, NULL,
	  "value load: unknown option '--delay'" },
	{ { "value", "load", "0", ",", "tear" }, NULL,
	  "tear runs on its own, not in a chain" },
};

TEST(usage_errors)
{
	EXPECT_ERRORS(2, bad_usage);
}

/*
 * Failures: exit 1, the line names the rule the op broke.  Each chain
 * defines what it needs; the last command fails.
 */
static const struct error_case failing[] = {
	{ { "--twin", "value", "store", "64", "a" }, "",
	  "value store: slot 64 is out of range, the context has 64 (EINVAL)" },
	{ { "--twin", "value", "load", "3" }, "",
	  "value load: slot 3: not defined (ENOENT)" },
	{ { "--twin", "value", "query", "3" }, "",
	  "value query: slot 3: not defined (ENOENT)" },
	{ { "--twin", "value", "undefine", "3" }, "",
	  "value undefine: slot 3: not defined (ENOENT)" },
	{ { "--twin", "value", "define", "1", ",", "value", "define", "1" }, "",
	  "value define: slot 1: already defined (EEXIST)" },
	{ { "--twin", "value", "define", "1", "--sync", "atomic" }, "",
	  "value define: atomic is a counter kind, not a slot kind (EOPNOTSUPP)" },
	{ { "--twin", "value", "define", "1", "--sync", "percpu" }, "",
	  "value define: percpu is a counter kind, not a slot kind (EOPNOTSUPP)" },
	{ { "--twin", "define", "1", "int32", "--sync", "seqlock" }, "",
	  "define: seqlock is a value-slot kind, not a counter kind (EOPNOTSUPP)" },
	{ { "--twin", "value", "define", "1", ",", "value", "store", "1", "" }, "",
	  "value store: slot 1: an empty value is nil: Go's Store(nil) is refused (EINVAL)" },
	{ { "--twin", "value", "define", "1", ",", "value", "swap", "1", "--tag", "0",
	    "a" }, "",
	  "value swap: slot 1: tag 0 is nil: a value needs a non-zero tag (EINVAL)" },
	{ { "--twin", "value", "define", "1", "--sync", "seqlock", ",", "value",
	    "store", "1", "--tag", "5", "a", ",", "value", "swap", "1", "--tag",
	    "6", "b" }, "version 1\n",
	  "value swap: slot 1: tag 6 refused: the first store fixed the slot's tag at 5 (EINVAL)" },
	{ { "--twin", "value", "define", "1", "--sync", "none", ",", "value", "store",
	    "1", "--tag", "5", "a", ",", "value", "cas", "1", "--old-tag", "5",
	    "--tag", "6", "a", "b" }, "version 1\n",
	  "value cas: slot 1: tag 6 refused: the first store fixed the slot's tag at 5 (EINVAL)" },
	{ { "--twin", "value", "define", "1", ",", "value", "cas", "1", "--old-tag",
	    "0", "a", "b" }, "",
	  "value cas: slot 1: --old-tag 0 is nil, which has no bytes: use --old-empty (EINVAL)" },
	{ { "--twin", "value", "define", "1", ",", "value", "cas", "1", "", "b" }, "",
	  "value cas: slot 1: an expected value without bytes is nil: use --old-empty (EINVAL)" },
	{ { "--twin", "value", "define", "1", ",", "value", "cas", "1", "--old-empty",
	    "" }, "",
	  "value cas: slot 1: an empty value is nil: Go's Store(nil) is refused (EINVAL)" },
	{ { "--twin", "value", "define", "1", ",", "value", "store", "1", "abcdef", ",",
	    "value", "load", "1", "--max", "5" }, "version 1\n",
	  "value load: slot 1: the value needs 6 bytes, more than --max 5 (ERANGE)" },
	{ { "--twin", "value", "define", "1", ",", "value", "store", "1", "a", ",",
	    "value", "swap", "1", "bc", "--max", "0" }, "version 1\n",
	  "value swap: slot 1: the value needs 1 byte, more than --max 0 (ERANGE)" },
	{ { "--twin", "value", "define", "1", ",", "value", "store", "1", "--file",
	    "/nonexistent/value" }, "",
	  "value store: /nonexistent/value: No such file or directory" },
	{ { "--twin", "value", "define", "1", ",", "value", "cas", "1", "--old-file",
	    "/nonexistent/old", "b" }, "",
	  "value cas: /nonexistent/old: No such file or directory" },
	{ { "--twin", "value", "define", "1", ",", "value", "store", "1", "--file",
	    "/" }, "",
	  "value store: /: Is a directory" },
};

TEST(failures)
{
	EXPECT_ERRORS(1, failing);
}

TEST(too_big)
{
	char big[4098], path[64];
	struct run r;

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store", "0",
	      big);
	expect_error(_metadata, &r, 1,
		     "value store: slot 0: a value of 4097 bytes is over value_max 4096 (E2BIG)");
	/* Files are read to value_max + 1 bytes: enough to know. */
	make_file(_metadata, path, big, 4097);
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store", "0",
	      "--file", path);
	expect_error(_metadata, &r, 1,
		     "value store: slot 0: a value of more than 4096 bytes is over value_max 4096 (E2BIG)");
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "cas", "0",
	      "--old-file", path, "b");
	expect_error(_metadata, &r, 1,
		     "value cas: slot 0: the expected value of more than 4096 bytes is over value_max 4096 (E2BIG)");
	stdin_from(_metadata, path);
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "swap", "0",
	      "--stdin");
	expect_error(_metadata, &r, 1,
		     "value swap: slot 0: a value of more than 4096 bytes is over value_max 4096 (E2BIG)");
	unlink(path);
	/* 4096 bytes fit. */
	big[4096] = '\0';
	VALUE(&r, "--twin", "value", "define", "0", ",", "value", "store", "0",
	      big);
	expect_text(_metadata, &r, "version 1\n");
}

TEST_HARNESS_MAIN
