// SPDX-License-Identifier: GPL-2.0
/*
 * katomic tear: its own arithmetic (the values a run stores, the verdict
 * on a load, the tally) against synthetic loads with planted tears, then
 * runs of the katomic binary ($KATOMIC_BIN, else ../bin/katomic next to
 * this test) on user-space twins of every slot kind, checked through
 * --json.
 *
 * RCU and SEQLOCK must never tear.  NONE may or may not tear on the host
 * (it depends on how the threads meet): its rows are only checked for
 * consistency, never for torn loads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/tear.h"
#include "kselftest_harness.h"
#include "run_katomic.h"

#define TAG		0x7ea4	/* the command's tag */

static const uint32_t four[] = { 8, 64, 512, 4096 };

/* Arithmetic ---------------------------------------------------------- */

TEST(pattern)
{
	uint32_t sizes[TEAR_MAX_SIZES];
	struct tear_pattern p;
	unsigned int nr, b, seen[4] = { 0 };
	uint64_t seq;

	/* 255 rounded down to a multiple of the sizes. */
	for (nr = 1; nr <= TEAR_MAX_SIZES; nr++) {
		for (b = 0; b < nr; b++)
			sizes[b] = 2 + b;
		tear_pattern_init(&p, sizes, nr, TAG);
		EXPECT_EQ(255 - 255 % nr, p.nr_bytes);
		EXPECT_EQ(0, p.nr_bytes % nr);
		EXPECT_EQ(nr, p.nr_sizes);
		EXPECT_EQ(TAG, p.tag);
	}
	tear_pattern_init(&p, four, 4, TAG);
	EXPECT_EQ(252, p.nr_bytes);
	/* Bytes 1..252 in turn, never 0; the sizes cycle with them. */
	for (seq = 0; seq < 3 * 252; seq++) {
		b = tear_byte(&p, seq);
		EXPECT_EQ(1 + seq % 252, b);
		EXPECT_EQ(four[seq % 4], tear_len(&p, b));
		seen[seq % 4]++;
	}
	EXPECT_EQ(seen[0], seen[3]);
	EXPECT_EQ(1, tear_byte(&p, 252));
	EXPECT_EQ(1 + (UINT64_MAX % 252), tear_byte(&p, UINT64_MAX));
	EXPECT_EQ(8, tear_len(&p, 1));
	EXPECT_EQ(4096, tear_len(&p, 252));
	/* One size: every byte has it. */
	tear_pattern_init(&p, (const uint32_t[]){ 100 }, 1, TAG);
	EXPECT_EQ(255, p.nr_bytes);
	EXPECT_EQ(100, tear_len(&p, 1));
	EXPECT_EQ(100, tear_len(&p, 255));
}

/* A value of byte b at len into buf. */
static void fill(unsigned char *buf, unsigned char b, uint32_t len)
{
	memset(buf, b, len);
}

TEST(every_stored_value_is_whole)
{
	static unsigned char buf[4096];
	struct tear_pattern p;
	unsigned int b;

	tear_pattern_init(&p, four, 4, TAG);
	for (b = 1; b <= p.nr_bytes; b++) {
		fill(buf, b, tear_len(&p, b));
		EXPECT_EQ(TEAR_OK, tear_check(&p, TAG, buf, tear_len(&p, b)));
	}
	/* Two bytes is the least a mix can show in. */
	tear_pattern_init(&p, (const uint32_t[]){ 2 }, 1, TAG);
	fill(buf, 7, 2);
	EXPECT_EQ(TEAR_OK, tear_check(&p, TAG, buf, 2));
	buf[1] = 8;
	EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 2));
}

TEST(planted_tears)
{
	static unsigned char buf[4096];
	struct tear_pattern p;
	uint32_t i;

	tear_pattern_init(&p, four, 4, TAG);
	/* One byte of another store, first, in the middle, last. */
	for (i = 0; i < 512; i += 511 / 2) {
		fill(buf, 3, 512);
		buf[i] = 4;
		EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 512));
	}
	/* A copy that raced a store: the new value's first half. */
	fill(buf, 4, 4096);
	fill(buf, 8, 2048);
	EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 4096));
	/* One byte, but never stored: 0 and bytes past nr_bytes. */
	fill(buf, 0, 64);
	EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 64));
	fill(buf, 253, 512);
	EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 512));
	fill(buf, 255, 4096);
	EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 4096));
	/*
	 * The length of one store, the bytes of the next: byte 2 is a
	 * 64-byte value, read as 8 bytes (the length before) or 4096.
	 */
	fill(buf, 2, 4096);
	EXPECT_EQ(TEAR_LENGTH, tear_check(&p, TAG, buf, 8));
	EXPECT_EQ(TEAR_LENGTH, tear_check(&p, TAG, buf, 4096));
	EXPECT_EQ(TEAR_LENGTH, tear_check(&p, TAG, buf, 63));
	EXPECT_EQ(TEAR_LENGTH, tear_check(&p, TAG, buf, 0));
	EXPECT_EQ(TEAR_OK, tear_check(&p, TAG, buf, 64));
	/* Not the run's tag: nil, or another; the tag is checked first. */
	EXPECT_EQ(TEAR_TAG, tear_check(&p, 0, buf, 0));
	EXPECT_EQ(TEAR_TAG, tear_check(&p, TAG + 1, buf, 64));
	buf[5] = 3;
	EXPECT_EQ(TEAR_TAG, tear_check(&p, 0, buf, 64));
	EXPECT_EQ(TEAR_MIXED, tear_check(&p, TAG, buf, 64));
}

TEST(tally)
{
	static unsigned char buf[4096];
	struct tear_tally t = { 0 }, sum = { 0 };
	struct tear_pattern p;
	uint64_t k, b;

	tear_pattern_init(&p, four, 4, TAG);
	/*
	 * 10,000 loads of the run's values in turn, with planted tears: a
	 * mixed one every 97th, a wrong length every 101st (not on a
	 * 97th), nil every 1000th (not on either).
	 */
	for (k = 0; k < 10000; k++) {
		b = tear_byte(&p, k);
		fill(buf, b, tear_len(&p, b));
		if (k % 97 == 0) {
			buf[tear_len(&p, b) - 1] ^= 1;
			tear_count(&t, tear_check(&p, TAG, buf,
						  tear_len(&p, b)));
		} else if (k % 101 == 0) {
			tear_count(&t, tear_check(&p, TAG, buf,
						  tear_len(&p, b) / 2));
		} else if (k % 1000 == 0) {
			tear_count(&t, tear_check(&p, 0, buf, 0));
		} else {
			tear_count(&t, tear_check(&p, TAG, buf,
						  tear_len(&p, b)));
		}
	}
	/*
	 * 104 multiples of 97 below 10,000; 100 of 101, less 0 and 9797
	 * (97ths); 10 of 1000, less 0.
	 */
	EXPECT_EQ(10000, t.loads);
	EXPECT_EQ(104, t.mixed);
	EXPECT_EQ(100 - 2, t.length);
	EXPECT_EQ(10 - 1, t.tag);
	EXPECT_EQ(t.mixed + t.length + t.tag, t.torn);
	EXPECT_EQ(100.0 * (104 + 98 + 9) / 10000, tear_share(&t));
	tear_add(&sum, &t);
	tear_add(&sum, &t);
	EXPECT_EQ(20000, sum.loads);
	EXPECT_EQ(2 * t.torn, sum.torn);
	EXPECT_EQ(2 * t.mixed, sum.mixed);
	EXPECT_EQ(2 * t.length, sum.length);
	EXPECT_EQ(2 * t.tag, sum.tag);
	EXPECT_EQ(tear_share(&t), tear_share(&sum));
	/* No loads: no share, no NaN. */
	memset(&t, 0, sizeof(t));
	EXPECT_EQ(0.0, tear_share(&t));
	tear_count(&t, TEAR_OK);
	EXPECT_EQ(1, t.loads);
	EXPECT_EQ(0, t.torn);
	EXPECT_EQ(0.0, tear_share(&t));
}

/* Running the command ------------------------------------------------- */

/*
 * The --json document: a parameter line, a line per result, a closing
 * line.  Each line is matched against the exact text tear prints, so
 * that a field renamed, reordered or malformed fails.
 */
struct params {
	unsigned int threads, writers, readers, id;
	char loads[32], seconds[32], sizes[256], pin[8];
};

struct result {
	char target[32];
	unsigned long long loads, torn, mixed, length, tag, stores;
	double share, loads_per_s, stores_per_s, seconds;
};

#define MAX_RESULTS	8

/* The results of a --json run; their number, or -1 if malformed. */
static int parse_json(const char *doc, struct params *pa, struct result *res)
{
	const char *line = doc, *end;
	int n = 0, used;
	struct result *r;

	used = -1;
	sscanf(line, "{\"threads\": %u, \"writers\": %u, \"readers\": %u, \"loads\": %31[0-9a-z], \"seconds\": %31[0-9.a-z], \"sizes\": [%255[0-9, ]], \"pin\": %7[a-z], \"id\": %u,\n \"results\": [%n",
	       &pa->threads, &pa->writers, &pa->readers, pa->loads,
	       pa->seconds, pa->sizes, pa->pin, &pa->id, &used);
	if (used < 0)
		return -1;
	for (line += used; n < MAX_RESULTS; n++) {
		r = &res[n];
		used = -1;
		sscanf(line, "\n  {\"target\": \"%31[a-z:]\", \"loads\": %llu, \"torn\": %llu, \"torn_share\": %lf, \"mixed\": %llu, \"bad_length\": %llu, \"bad_tag\": %llu, \"stores\": %llu, \"loads_per_s\": %lf, \"stores_per_s\": %lf, \"seconds\": %lf}%n",
		       r->target, &r->loads, &r->torn, &r->share, &r->mixed,
		       &r->length, &r->tag, &r->stores, &r->loads_per_s,
		       &r->stores_per_s, &r->seconds, &used);
		if (used < 0)
			return -1;
		line += used;
		if (*line != ',')
			break;
		line++;
	}
	end = "\n ]}\n";
	return strcmp(line, end) ? -1 : n + 1;
}

/*
 * The checks of any row: it adds up, its tag never tears (it is fixed
 * before the threads start), its rates are real.  RCU and SEQLOCK: no
 * torn load at all.
 */
static void check_row(struct __test_metadata *_metadata,
		      const struct result *r, unsigned long long loads)
{
	bool none = !strcmp(r->target, "user:none");

	TH_LOG("%s: %llu loads, %llu torn (%.3f%%: %llu mixed, %llu length, %llu tag), %llu stores",
	       r->target, r->loads, r->torn, r->share, r->mixed, r->length,
	       r->tag, r->stores);
	if (loads)
		EXPECT_EQ(loads, r->loads);
	EXPECT_GT(r->loads, 0);
	EXPECT_EQ(r->mixed + r->length + r->tag, r->torn);
	EXPECT_LE(r->torn, r->loads);
	EXPECT_GE(r->share, 100.0 * r->torn / r->loads - 1e-6);
	EXPECT_LE(r->share, 100.0 * r->torn / r->loads + 1e-6);
	EXPECT_EQ(0, r->tag);
	EXPECT_GT(r->loads_per_s, 0);
	EXPECT_GE(r->stores_per_s, 0);
	EXPECT_GT(r->seconds, 0);
	if (none)
		return;
	EXPECT_EQ(0, r->torn);
	EXPECT_EQ(0.0, r->share);
}

/* Runs tear with args on the user targets, all three kinds, and checks. */
static void tear_user(struct __test_metadata *_metadata,
		      const char *const *args, unsigned int readers,
		      unsigned long long loads, const char *sizes)
{
	static const char *const kinds[] = { "user:none", "user:rcu",
					     "user:seqlock" };
	const char *argv[32] = { "tear", "--json", "--target", "user:all" };
	struct result res[MAX_RESULTS];
	struct params pa;
	struct run r;
	int i, n;

	for (i = 0; args[i]; i++)
		argv[4 + i] = args[i];
	ASSERT_EQ(0, run_katomic(&r, argv));
	if (r.status || *r.err)
		TH_LOG("exit %d, stderr: %s", r.status, r.err);
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	n = parse_json(r.out, &pa, res);
	if (n != 3)
		TH_LOG("stdout: %s", r.out);
	ASSERT_EQ(3, n);
	EXPECT_EQ(pa.threads, pa.writers + pa.readers);
	EXPECT_EQ(readers, pa.readers);
	EXPECT_STREQ(sizes, pa.sizes);
	EXPECT_STREQ("false", pa.pin);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(kinds[i], res[i].target);
		check_row(_metadata, &res[i], loads * readers);
	}
}

FIXTURE(user) {};
FIXTURE_SETUP(user) {}
FIXTURE_TEARDOWN(user) {}
FIXTURE_VARIANT(user) {
	const char *args[12];	/* NULL-terminated */
	unsigned int readers;
	unsigned long long loads;	/* per reader */
	const char *sizes;	/* as the JSON has them */
};
/* The default sizes, 8 to 4096, and 2 writers and 2 readers. */
FIXTURE_VARIANT_ADD(user, defaults) {
	.args = { "--threads", "4", "--loads", "20000" },
	.readers = 2, .loads = 20000, .sizes = "8, 64, 512, 4096",
};
/* One size of one word: mixes cannot show, lengths cannot differ. */
FIXTURE_VARIANT_ADD(user, one_word) {
	.args = { "--threads", "4", "--loads", "20000", "--size", "8" },
	.readers = 2, .loads = 20000, .sizes = "8",
};
/* Odd sizes, beyond the default value_max, few writers, many readers. */
FIXTURE_VARIANT_ADD(user, odd_sizes) {
	.args = { "--threads", "5", "--writers", "1", "--loads", "2000",
		  "--sizes", "3,17,4097,65536,2" },
	.readers = 4, .loads = 2000, .sizes = "3, 17, 4097, 65536, 2",
};
/* Many writers, one reader. */
FIXTURE_VARIANT_ADD(user, many_writers) {
	.args = { "--threads", "4", "--writers", "3", "--loads", "20000",
		  "--sizes", "0x40,0x1000" },
	.readers = 1, .loads = 20000, .sizes = "64, 4096",
};

TEST_F(user, whole_loads)
{
	tear_user(_metadata, variant->args, variant->readers, variant->loads,
		  variant->sizes);
}

/* 10^6 loads each, against concurrent stores: RCU and SEQLOCK tear none. */
TEST(million)
{
	tear_user(_metadata, (const char *const[]){ "--threads", "4",
		  "--loads", "500000", NULL }, 2, 500000, "8, 64, 512, 4096");
}

/* --seconds: the loads the readers made, and the parameters as given. */
TEST(seconds)
{
	struct result res[MAX_RESULTS];
	struct params pa;
	struct run r;
	int n;

	KATOMIC(&r, "tear", "--json", "--threads", "3", "--seconds", "0.2",
		"--target", "user:seqlock", "--target", "user:rcu", "--pin");
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	n = parse_json(r.out, &pa, res);
	ASSERT_EQ(2, n);
	EXPECT_STREQ("null", pa.loads);
	EXPECT_STREQ("0.2", pa.seconds);
	EXPECT_STREQ("true", pa.pin);
	EXPECT_EQ(3, pa.threads);
	EXPECT_EQ(1, pa.writers);
	EXPECT_EQ(0, pa.id);
	EXPECT_STREQ("user:seqlock", res[0].target);
	EXPECT_STREQ("user:rcu", res[1].target);
	for (int i = 0; i < n; i++)
		check_row(_metadata, &res[i], 0);
}

/* The table: a caption, a header, a row a target, numbers aligned. */
TEST(table)
{
	const char *caption =
		"tear: 2 threads (1 writers, 1 readers) x 1000 loads, sizes 8,4096\n";
	const char *header, *row;
	struct run r;

	KATOMIC(&r, "tear", "--threads", "2", "--loads", "1000", "--sizes",
		"8,4096", "--target", "user:rcu", "--target", "user:none");
	expect_table(_metadata, &r, caption, "user:rcu", &header, &row);
	EXPECT_NE(NULL, strstr(r.out, "\nuser:none "));
	EXPECT_EQ(NULL, strstr(r.out, "user:seqlock"));
	/* loads ends where its heading ends; then 0 torn, 0.000%. */
	expect_column(_metadata, header, row, " loads", " 1000");
	expect_column(_metadata, header, row, " torn%", " 0.000%");
	EXPECT_NE(NULL, strstr(header, " stores       loads/s      stores/s  seconds\n"));
}

TEST(help)
{
	struct run r;

	KATOMIC(&r, "tear", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "usage: katomic [--device PATH] tear", 35));
	EXPECT_NE(NULL, strstr(r.out, "\nKIND: none rcu seqlock\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  --loads M      loads per reader, 1..1000000000000 (default 100000);\n"));
	EXPECT_STREQ("", r.err);
	KATOMIC(&r, "help", "tear");
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "usage: katomic [--device PATH] tear", 35));
	KATOMIC(&r, "--help");
	EXPECT_NE(NULL, strstr(r.out, "\n  tear [OPTION]...              race writers and readers on value slots, count torn loads\n"));
}

/* Usage errors: exit 2, one line naming the problem, nothing run. */
static const struct error_case bad_usage[] = {
	{ { "tear", "--loads", "10", "--seconds", "1" }, NULL,
	  "tear: --loads and --seconds exclude each other" },
	{ { "tear", "--threads", "1" }, NULL,
	  "tear: --threads 1 is out of range 2..1024" },
	{ { "tear", "--threads", "4", "--writers", "4" }, NULL,
	  "tear: --writers 4 leaves no reader of --threads 4" },
	{ { "tear", "--writers", "0" }, NULL,
	  "--writers 0 is out of range 1..1023" },
	{ { "tear", "--loads", "0" }, NULL,
	  "--loads 0 is out of range 1..1000000000000" },
	{ { "tear", "--loads", "x" }, NULL, "--loads 'x' is not a number" },
	{ { "tear", "--size", "1" }, NULL,
	  "--size 1 is out of range 2..1048576" },
	{ { "tear", "--sizes", "8,1048577" }, NULL,
	  "--sizes 1048577 is out of range 2..1048576" },
	{ { "tear", "--sizes", "8,,64" }, NULL, "--sizes '' is not a number" },
	{ { "tear", "--sizes", "8,x" }, NULL, "--sizes 'x' is not a number" },
	{ { "tear", "--sizes",
	    "2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2" },
	  NULL, "--sizes: more than 32 sizes" },
	{ { "tear", "--size", "8", "--sizes", "8" }, NULL,
	  "--size and --sizes exclude each other" },
	{ { "tear", "--target", "user:atomic" }, NULL,
	  "tear: target 'user:atomic': 'atomic' is not a slot kind (kinds: none rcu seqlock all)" },
	{ { "tear", "--target", "kernel" }, NULL,
	  "target 'kernel' is not kernel:KIND, user:KIND or all" },
	{ { "tear", "--seconds", "0" }, NULL, "--seconds 0 is out of range" },
	{ { "tear", "--id", "4294967296" }, NULL,
	  "--id 4294967296 is out of range" },
	{ { "tear", "--delay", "5" }, NULL, "tear: unknown option '--delay'" },
	{ { "tear", "user:rcu" }, NULL,
	  "tear: unexpected argument 'user:rcu'" },
	{ { "tear", "--sizes" }, NULL, "tear: --sizes needs a value" },
	{ { "--twin", "tear" }, NULL, "tear takes no --twin or --hex" },
	{ { "--hex", "tear" }, NULL, "tear takes no --twin or --hex" },
};

TEST(usage_errors)
{
	EXPECT_ERRORS(2, bad_usage);
}

/* Kernel targets without a device: exit 1, one line; rows before stand. */
TEST(no_device)
{
	struct run r;

	KATOMIC(&r, "--device", "/nonexistent/katomic", "tear", "--loads", "10",
		"--target", "user:rcu", "--target", "kernel:rcu");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.out, "\nuser:rcu "));
	EXPECT_STREQ("katomic: tear: kernel:rcu: /nonexistent/katomic: No such file or directory (ENOENT): is the katomic module loaded?\n",
		     r.err);
	KATOMIC(&r, "--device", "/nonexistent/katomic", "tear", "--json");
	expect_failure(_metadata, &r, 1,
		       "tear: kernel:none: /nonexistent/katomic: ");
}

/*
 * SIGINT, once the first row is out: the threads stop, the targets left do
 * not run, the process says so and dies of the signal.
 */
TEST(interrupt)
{
	expect_interrupt(_metadata, "tear", "rcu", "seqlock",
			 "katomic: tear: interrupted by SIGINT; slots undefined\n");
}

TEST_HARNESS_MAIN
