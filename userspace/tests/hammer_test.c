// SPDX-License-Identifier: GPL-2.0
/*
 * katomic hammer: its own arithmetic (token accounting, lost and its share,
 * expected, rates) against synthetic data with planted faults, then runs
 * of the katomic binary ($KATOMIC_BIN, else ../bin/katomic next to this
 * test) on user-space twins of every kind, checked through --json.
 *
 * NONE may or may not lose updates on the host: its rows are only checked
 * for consistency, and for exactness where no two threads share a value.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/hammer.h"
#include "kselftest_harness.h"
#include "run_katomic.h"

/* Arithmetic ---------------------------------------------------------- */

TEST(tokens)
{
	unsigned int t;
	uint64_t k;

	/* k*N+t+1: never 0, distinct, thread t's tokens are t+1 mod N. */
	for (t = 0; t < 3; t++)
		for (k = 0; k < 5; k++)
			EXPECT_EQ(k * 3 + t + 1, hammer_token(3, t, k));
	EXPECT_EQ(1, hammer_token(1, 0, 0));
	EXPECT_EQ(UINT64_C(1024) * 1000000 + 1024,
		  hammer_token(1024, 1023, 1000000));
}

#define H_THREADS	3
#define H_OPS		200

/* A deterministic generator for the interleavings. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A serial history of swaps as a correct counter gives it: threads take
 * turns at random, thread t's k-th swap stores its token on its counter
 * (one counter, or one per thread) and logs the old value.
 */
struct history {
	uint64_t done[H_THREADS];
	uint64_t logs[H_THREADS][H_OPS];
	const uint64_t *log_ptrs[H_THREADS];
	uint64_t finals[H_THREADS];
	unsigned int nr_counters;
};

static void make_history(struct history *h, const uint64_t *done,
			 bool per_thread, uint64_t seed)
{
	uint64_t left = 0, k[H_THREADS] = { 0 }, *counter;
	unsigned int t;

	memset(h, 0, sizeof(*h));
	h->nr_counters = per_thread ? H_THREADS : 1;
	for (t = 0; t < H_THREADS; t++) {
		h->done[t] = done[t];
		h->log_ptrs[t] = h->logs[t];
		left += done[t];
	}
	while (left) {
		t = xorshift(&seed) % H_THREADS;
		if (k[t] == done[t])
			continue;
		counter = &h->finals[per_thread ? t : 0];
		h->logs[t][k[t]] = *counter;
		*counter = hammer_token(H_THREADS, t, k[t]);
		k[t]++;
		left--;
	}
}

static void account(struct __test_metadata *_metadata,
		    const struct history *h, struct hammer_swap_tally *tally)
{
	ASSERT_EQ(0, hammer_swap_account(H_THREADS, h->done, h->log_ptrs,
					 h->finals, h->nr_counters, tally));
}

TEST(swap_accounting_exact)
{
	const uint64_t full[H_THREADS] = { H_OPS, H_OPS, H_OPS };
	const uint64_t uneven[H_THREADS] = { H_OPS, 17, 0 };	/* --seconds */
	struct hammer_swap_tally tally;
	struct history h;
	int per_thread;

	for (per_thread = 0; per_thread < 2; per_thread++) {
		make_history(&h, full, per_thread, 0x9e3779b97f4a7c15);
		account(_metadata, &h, &tally);
		EXPECT_EQ(H_THREADS * H_OPS, tally.got);
		EXPECT_EQ(0, tally.duplicates);
		EXPECT_EQ(0, tally.foreign);

		make_history(&h, uneven, per_thread, 42);
		account(_metadata, &h, &tally);
		EXPECT_EQ(H_OPS + 17, tally.got);
		EXPECT_EQ(0, tally.duplicates);
		EXPECT_EQ(0, tally.foreign);
	}
	/* Nothing done: the counter still holds its 0. */
	memset(&h, 0, sizeof(h));
	h.nr_counters = 1;
	for (int t = 0; t < H_THREADS; t++)
		h.log_ptrs[t] = h.logs[t];
	account(_metadata, &h, &tally);
	EXPECT_EQ(0, tally.got);
	EXPECT_EQ(0, tally.duplicates);
	EXPECT_EQ(0, tally.foreign);
}

TEST(swap_accounting_planted)
{
	const uint64_t full[H_THREADS] = { H_OPS, H_OPS, H_OPS };
	const uint64_t uneven[H_THREADS] = { 5, H_OPS, 9 };
	struct hammer_swap_tally tally;
	struct history h;

	/*
	 * A lost update as NONE makes it: two swaps read the same old value,
	 * so one token is returned twice and the one in between never.
	 */
	make_history(&h, full, false, 7);
	h.logs[1][40] = h.logs[2][90];
	account(_metadata, &h, &tally);
	EXPECT_EQ(H_THREADS * H_OPS - 1, tally.got);
	EXPECT_EQ(1, tally.duplicates);
	EXPECT_EQ(0, tally.foreign);

	/* The final value replaced by one returned before. */
	make_history(&h, full, false, 8);
	h.finals[0] = h.logs[1][5];
	account(_metadata, &h, &tally);
	EXPECT_EQ(H_THREADS * H_OPS - 1, tally.got);
	EXPECT_EQ(1, tally.duplicates);
	EXPECT_EQ(0, tally.foreign);

	/* A counter's initial 0 returned twice, in place of a token. */
	make_history(&h, full, true, 9);
	h.logs[2][1] = 0;
	account(_metadata, &h, &tally);
	EXPECT_EQ(H_THREADS * H_OPS - 1, tally.got);
	EXPECT_EQ(1, tally.duplicates);

	/*
	 * Foreign values: a token thread 0 never stored (k >= done[0]), a
	 * value beyond every thread's, and a torn value.
	 */
	make_history(&h, uneven, false, 10);
	h.logs[1][3] = hammer_token(H_THREADS, 0, 5);
	h.logs[1][4] = hammer_token(H_THREADS, 1, H_OPS);
	h.logs[1][5] = 0xdeadbeef00000000;
	account(_metadata, &h, &tally);
	EXPECT_EQ(5 + H_OPS + 9 - 3, tally.got);
	EXPECT_EQ(0, tally.duplicates);
	EXPECT_EQ(3, tally.foreign);

	/* A token returned three times: two duplicates, two tokens lost. */
	make_history(&h, full, false, 11);
	h.logs[0][10] = h.logs[1][10];
	h.logs[2][10] = h.logs[1][10];
	account(_metadata, &h, &tally);
	EXPECT_EQ(H_THREADS * H_OPS - 2, tally.got);
	EXPECT_EQ(2, tally.duplicates);
	EXPECT_EQ(0, tally.foreign);
}

TEST(lost_and_share)
{
	EXPECT_EQ(100, hammer_lost(400, 300));
	EXPECT_EQ(0, hammer_lost(400, 400));
	EXPECT_EQ(-5, hammer_lost(400, 405));	/* a bug shows, not hidden */
	EXPECT_EQ(UINT64_C(1) << 40, hammer_lost(UINT64_C(3) << 40,
						 UINT64_C(2) << 40));
	EXPECT_EQ(25.0, hammer_lost_share(400, 100));
	EXPECT_EQ(100.0, hammer_lost_share(400, 400));
	EXPECT_EQ(0.0, hammer_lost_share(400, 0));
	EXPECT_EQ(0.0, hammer_lost_share(0, 0));	/* no NaN */
	EXPECT_EQ(-1.25, hammer_lost_share(400, -5));
}

TEST(expected)
{
	const uint64_t done[4] = { 10, 0, 7, 1 };
	const uint64_t none[4] = { 0 };

	/* --ops: what was asked, whatever done says. */
	EXPECT_EQ(4 * 200000, hammer_expected(200000, 4, done));
	EXPECT_EQ(4 * 200000, hammer_expected(200000, 4, none));
	EXPECT_EQ(UINT64_C(1024) * 1000000000000, hammer_expected(1000000000000,
							    1024, none));
	/* --seconds: what the threads completed. */
	EXPECT_EQ(18, hammer_expected(0, 4, done));
	EXPECT_EQ(0, hammer_expected(0, 4, none));
	EXPECT_EQ(10, hammer_expected(0, 1, done));
}

TEST(rates)
{
	const uint64_t done[2] = { 100, 200 };
	const struct timespec start[2] = { { 5, 0 }, { 5, 250000000 } };
	const struct timespec end[2] = { { 6, 0 }, { 5, 750000000 } };
	const struct timespec late_end[2] = { { 6, 0 }, { 7, 0 } };
	struct hammer_rates r;

	/* From the first start to the last end; each thread's own rate. */
	hammer_rates(2, done, start, end, &r);
	EXPECT_EQ(1.0, r.seconds);
	EXPECT_EQ((100.0 / 1.0 + 200.0 / 0.5) / 2, r.per_thread);
	EXPECT_EQ(300.0, r.total);
	hammer_rates(2, done, start, late_end, &r);
	EXPECT_EQ(2.0, r.seconds);
	EXPECT_EQ((100.0 + 200.0 / 1.75) / 2, r.per_thread);
	EXPECT_EQ(150.0, r.total);
	/* No time passed: no rates, no division by zero. */
	hammer_rates(1, done, start, start, &r);
	EXPECT_EQ(0.0, r.seconds);
	EXPECT_EQ(0.0, r.per_thread);
	EXPECT_EQ(0.0, r.total);
}

/* kernel:mixed's figure: the mapped half's rate over the ioctl half's. */
TEST(mixed_ratio)
{
	struct hammer_rates ioctl = { .per_thread = 250.0 };
	struct hammer_rates mapped = { .per_thread = 5000.0 };
	struct hammer_rates none = { 0 };

	EXPECT_EQ(20.0, hammer_mixed_ratio(&ioctl, &mapped));
	EXPECT_EQ(0.05, hammer_mixed_ratio(&mapped, &ioctl));
	EXPECT_EQ(0.0, hammer_mixed_ratio(&none, &mapped));
}

/* Running the command ------------------------------------------------- */

/* JSON ------------------------------------------------------------------
 * A strict syntax check of the whole document (RFC 8259's grammar), then
 * the fields of the result objects by name.
 */
static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;	/* also the end of the text */
		if (*s == '\\' && !strchr("\"\\/bfnrtu", *++s))
			return NULL;
	}
	return s + 1;
}

static const char *json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return NULL;
	if (*s == '0' && isdigit((unsigned char)s[1]))
		return NULL;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

/* The members of an object or the elements of an array. */
static const char *json_items(const char *s, char close, int depth)
{
	s = json_ws(s);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (close == '}') {
			s = json_string(json_ws(s));
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		s = json_value(s, depth + 1);
		if (!s)
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *s, int depth)
{
	if (depth > 16)
		return NULL;
	s = json_ws(s);
	switch (*s) {
	case '{':
		return json_items(s + 1, '}', depth);
	case '[':
		return json_items(s + 1, ']', depth);
	case '"':
		return json_string(s);
	case 't':
		return strncmp(s, "true", 4) ? NULL : s + 4;
	case 'f':
		return strncmp(s, "false", 5) ? NULL : s + 5;
	case 'n':
		return strncmp(s, "null", 4) ? NULL : s + 4;
	default:
		return json_number(s);
	}
}

static bool json_document(const char *s)
{
	s = json_value(s, 0);
	return s && !*json_ws(s);
}

/* The value text of "key": in [obj, end), or NULL. */
static const char *json_field(const char *obj, const char *end,
			      const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\": ", key);
	p = strstr(obj, pattern);
	return p && p < end ? p + strlen(pattern) : NULL;
}

/* One object of "results", as the hammer prints them: flat. */
struct result {
	char target[32];
	bool supported;
	bool has_retries, has_swap;
	char reason[128];
	unsigned long long expected, got, retries, duplicates, foreign;
	long long lost;
	double lost_share, seconds, ops_per_s, ops_per_s_thread;
};

#define MAX_RESULTS	16

static void parse_result(const char *obj, const char *end, struct result *r)
{
	const char *v;

	memset(r, 0, sizeof(*r));
	v = json_field(obj, end, "target");
	if (v)
		sscanf(v, "\"%31[^\"]\"", r->target);
	v = json_field(obj, end, "supported");
	r->supported = v && !strncmp(v, "true", 4);
	v = json_field(obj, end, "reason");
	if (v)
		sscanf(v, "\"%127[^\"]\"", r->reason);
#define FIELD(name, conv)						\
	do {								\
		v = json_field(obj, end, #name);			\
		if (v)							\
			r->name = conv(v, NULL, 10);			\
	} while (0)
	FIELD(expected, strtoull);
	FIELD(got, strtoull);
	FIELD(lost, strtoll);
	FIELD(duplicates, strtoull);
	FIELD(foreign, strtoull);
	FIELD(retries, strtoull);
#undef FIELD
	r->has_retries = json_field(obj, end, "retries");
	r->has_swap = json_field(obj, end, "duplicates") &&
		      json_field(obj, end, "foreign");
	v = json_field(obj, end, "lost_share");
	r->lost_share = v ? strtod(v, NULL) : -1;
	v = json_field(obj, end, "seconds");
	r->seconds = v ? strtod(v, NULL) : -1;
	v = json_field(obj, end, "ops_per_s");
	r->ops_per_s = v ? strtod(v, NULL) : -1;
	v = json_field(obj, end, "ops_per_s_thread");
	r->ops_per_s_thread = v ? strtod(v, NULL) : -1;
}

/* The results of a --json run; their number, or -1 if malformed. */
static int parse_results(const char *doc, struct result *res)
{
	const char *p = strstr(doc, "\"results\": ["), *end;
	int n = 0;

	if (!json_document(doc) || !p)
		return -1;
	for (p = strchr(p, '{'); p && n < MAX_RESULTS; p = strchr(end, '{')) {
		end = strchr(p, '}');
		if (!end)
			return -1;
		parse_result(p, end, &res[n++]);
	}
	return n;
}

/* The user targets, every kind. */
static const char *const kinds[] = { "none", "atomic", "spinlock", "mutex",
				     "percpu" };
#define NR_KINDS	5
#define THREADS		4
#define OPS		20000
#define STR(x)		#x
#define XSTR(x)		STR(x)

/*
 * The checks of one supported row.  NONE's lost updates are not
 * guaranteed: its row must add up, and lose nothing where each thread has
 * its own counter.
 */
static void check_row(struct __test_metadata *_metadata,
		      const struct result *r, const char *op,
		      const char *counter, uint64_t expected)
{
	bool none = !strcmp(r->target, "user:none");
	bool own = strcmp(counter, "shared");

	if (none || r->got != r->expected)
		TH_LOG("%s --op %s --counter %s: expected %llu got %llu lost %lld (%f%%) dups %llu foreign %llu",
		       r->target, op, counter, r->expected, r->got, r->lost,
		       r->lost_share, r->duplicates, r->foreign);
	EXPECT_TRUE(r->supported);
	if (expected)
		EXPECT_EQ(expected, r->expected);
	EXPECT_EQ((long long)(r->expected - r->got), r->lost);
	EXPECT_GE(r->expected, r->got);
	EXPECT_GE(r->lost_share, 100.0 * r->lost / r->expected - 1e-6);
	EXPECT_LE(r->lost_share, 100.0 * r->lost / r->expected + 1e-6);
	EXPECT_GT(r->seconds, 0);
	EXPECT_GT(r->ops_per_s, 0);
	EXPECT_GT(r->ops_per_s_thread, 0);
	EXPECT_EQ(!strcmp(op, "cas-loop"), r->has_retries);
	EXPECT_EQ(!strcmp(op, "swap"), r->has_swap);
	if (r->has_swap) {
		EXPECT_EQ(0, r->foreign);	/* no torn 64-bit values */
		/* Each token lost left a value returned twice. */
		EXPECT_GE(r->duplicates, (unsigned long long)r->lost);
	}
	if (none && !own)
		return;
	EXPECT_EQ(r->expected, r->got);
	EXPECT_EQ(0, r->lost);
	EXPECT_EQ(0.0, r->lost_share);
	if (r->has_swap)
		EXPECT_EQ(0, r->duplicates);
	if (r->has_retries && own)
		EXPECT_EQ(0, r->retries);	/* no one else's value */
}

/* Every user kind with op on counter: exact, or unsupported for percpu. */
static void hammer_kinds(struct __test_metadata *_metadata, const char *op,
			 const char *counter)
{
	struct result res[MAX_RESULTS];
	struct run r;
	int n, i;

	KATOMIC(&r, "hammer", "--json", "--threads", XSTR(THREADS), "--ops",
		XSTR(OPS), "--op", op, "--counter", counter, "--target",
		"user:all");
	if (r.status || *r.err)
		TH_LOG("exit %d, stderr: %s", r.status, r.err);
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	n = parse_results(r.out, res);
	if (n != NR_KINDS)
		TH_LOG("stdout: %s", r.out);
	ASSERT_EQ(NR_KINDS, n);
	EXPECT_NE(NULL, strstr(r.out, "\"threads\": " XSTR(THREADS) ", \"ops\": "
			       XSTR(OPS) ", \"seconds\": null"));
	for (i = 0; i < n; i++) {
		char target[32];

		snprintf(target, sizeof(target), "user:%s", kinds[i]);
		EXPECT_STREQ(target, res[i].target);
		if (!strcmp(kinds[i], "percpu") && strcmp(op, "add")) {
			EXPECT_FALSE(res[i].supported);
			EXPECT_STREQ("percpu has load, store and add only",
				     res[i].reason);
			continue;
		}
		check_row(_metadata, &res[i], op, counter,
			  (uint64_t)THREADS * OPS);
	}
}

FIXTURE(kinds) {};
FIXTURE_SETUP(kinds) {}
FIXTURE_TEARDOWN(kinds) {}
FIXTURE_VARIANT(kinds) {
	const char *op;
	const char *counter;
};
#define KINDS_VARIANT(name, o, c) \
	FIXTURE_VARIANT_ADD(kinds, name) { .op = o, .counter = c }
KINDS_VARIANT(add_shared, "add", "shared");
KINDS_VARIANT(add_per_thread, "add", "per-thread");
KINDS_VARIANT(add_adjacent, "add", "adjacent");
KINDS_VARIANT(cas_loop_shared, "cas-loop", "shared");
KINDS_VARIANT(cas_loop_per_thread, "cas-loop", "per-thread");
KINDS_VARIANT(cas_loop_adjacent, "cas-loop", "adjacent");
KINDS_VARIANT(swap_shared, "swap", "shared");
KINDS_VARIANT(swap_per_thread, "swap", "per-thread");
KINDS_VARIANT(swap_adjacent, "swap", "adjacent");

TEST_F(kinds, exact)
{
	hammer_kinds(_metadata, variant->op, variant->counter);
}

/* --seconds: expected is what the threads did; correct kinds lose none. */
TEST(seconds)
{
	struct result res[MAX_RESULTS];
	const char *const ops[] = { "add", "swap" };
	struct run r;
	int i, n;

	for (i = 0; i < 2; i++) {
		KATOMIC(&r, "hammer", "--json", "--threads", "2", "--seconds",
			"0.1", "--op", ops[i], "--target", "user:mutex",
			"--target", "user:atomic");
		ASSERT_EQ(0, r.status);
		EXPECT_STREQ("", r.err);
		EXPECT_NE(NULL, strstr(r.out, "\"ops\": null, \"seconds\": 0.1, "));
		n = parse_results(r.out, res);
		ASSERT_EQ(2, n);
		EXPECT_STREQ("user:mutex", res[0].target);
		EXPECT_STREQ("user:atomic", res[1].target);
		for (int j = 0; j < n; j++) {
			check_row(_metadata, &res[j], ops[i], "shared", 0);
			EXPECT_GT(res[j].expected, 0);
		}
	}
}

/* The table: a caption, a header, aligned rows, unsupported rows. */
TEST(table)
{
	const char *caption =
		"hammer: 2 threads x 1000 ops, op cas-loop, counter shared\n";
	const char *header, *row;
	size_t end, digits;
	struct run r;

	KATOMIC(&r, "hammer", "--threads", "2", "--ops", "1000", "--op",
		"cas-loop", "--target", "user:atomic", "--target",
		"user:percpu", "--target", "user:spinlock");
	expect_table(_metadata, &r, caption, "user:atomic", &header, &row);
	EXPECT_NE(NULL, strstr(r.out, "\nuser:percpu      unsupported: percpu has load, store and add only\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nuser:spinlock "));
	/* Numbers end where their heading ends: expected, then retries. */
	expect_column(_metadata, header, row, " expected", " 2000");
	end = column_end(_metadata, header, " retries\n") - 1;
	EXPECT_EQ('\n', row[end]);
	for (digits = end; isdigit((unsigned char)row[digits - 1]); digits--)
		;
	EXPECT_LT(digits, end);
	EXPECT_EQ(' ', row[digits - 1]);
}

TEST(help)
{
	struct run r;

	KATOMIC(&r, "hammer", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "usage: katomic [--device PATH] hammer", 37));
	EXPECT_NE(NULL, strstr(r.out, "KIND: none atomic spinlock mutex percpu\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  --counter C    shared: one counter for all threads (default)\n"));
	EXPECT_NE(NULL, strstr(r.out, "--ops M        ops per thread, 1..1000000000000 (default 500000)"));
	EXPECT_NE(NULL, strstr(r.out, "\n  kernel:mmap    ATOMIC counters of a private context made with\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  kernel:mixed   the same context, half the threads"));
	EXPECT_STREQ("", r.err);
	KATOMIC(&r, "help", "hammer");
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "usage: katomic [--device PATH] hammer", 37));
	KATOMIC(&r, "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "\n       katomic [--device PATH] hammer [OPTION]...\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n  hammer [OPTION]... "));
}

/* Usage errors: exit 2, one line naming the problem, nothing run. */
static const struct error_case bad_usage[] = {
	{ { "hammer", "--ops", "10", "--seconds", "1" }, NULL,
	  "--ops and --seconds exclude each other" },
	{ { "hammer", "--threads", "0" }, NULL,
	  "--threads 0 is out of range 1..1024" },
	{ { "hammer", "--threads", "1025" }, NULL, "out of range" },
	{ { "hammer", "--ops", "x" }, NULL, "--ops 'x' is not a number" },
	{ { "hammer", "--ops", "0" }, NULL, "--ops 0 is out of range" },
	{ { "hammer", "--ops" }, NULL, "--ops needs a value" },
	{ { "hammer", "--seconds", "0" }, NULL, "--seconds 0 is out of range" },
	{ { "hammer", "--seconds", "1s" }, NULL,
	  "--seconds '1s' is not a decimal number" },
	{ { "hammer", "--seconds", "inf" }, NULL, "out of range" },
	{ { "hammer", "--target", "user:rcu" }, NULL,
	  "'rcu' is not a counter kind (kinds: none atomic spinlock mutex percpu all)" },
	{ { "hammer", "--target", "user" }, NULL,
	  "target 'user' is not kernel:KIND, user:KIND or all" },
	{ { "hammer", "--target", "kernel:" }, NULL, "is not a counter kind" },
	{ { "hammer", "--target", "kernel:mapped" }, NULL,
	  "'mapped' is not a counter kind (kinds: none atomic spinlock mutex percpu all mmap mixed)" },
	{ { "hammer", "--target", "user:mmap" }, NULL,
	  "'mmap' is not a counter kind (kinds: none atomic spinlock mutex percpu all)" },
	{ { "hammer", "--threads", "1", "--target", "kernel:mixed" }, NULL,
	  "--target kernel:mixed needs --threads 2 or more" },
	{ { "hammer", "--op", "inc" }, NULL,
	  "--op 'inc' is not add, cas-loop or swap" },
	{ { "hammer", "--counter", "own" }, NULL,
	  "--counter 'own' is not shared, per-thread or adjacent" },
	{ { "hammer", "--delay", "1000001" }, NULL,
	  "--delay 1000001 is out of range 0..1000000" },
	{ { "hammer", "--id", "-1" }, NULL, "--id -1 is out of range" },
	{ { "hammer", "--frob" }, NULL, "unknown option '--frob'" },
	{ { "hammer", "user:atomic" }, NULL,
	  "unexpected argument 'user:atomic'" },
	{ { "--twin", "hammer" }, NULL, "hammer takes no --twin or --hex" },
	{ { "--twin", "info", ",", "hammer" }, NULL,
	  "hammer runs on its own, not in a chain" },
};

TEST(usage_errors)
{
	EXPECT_ERRORS(2, bad_usage);
}

/* Kernel targets without a device: exit 1, one line, nothing run. */
TEST(no_device)
{
	const char *note =
		"katomic: hammer: note: kernel counters always have a cache line each; for kernel targets adjacent measures the same as per-thread\n"
		"katomic: hammer: kernel:none: /nonexistent/katomic: ";
	struct run r;

	KATOMIC(&r, "--device", "/nonexistent/katomic", "hammer", "--ops", "1",
		"--target", "user:atomic", "--target", "kernel:atomic");
	EXPECT_EQ(1, r.status);
	/* The user row ran and printed before the kernel target failed. */
	EXPECT_NE(NULL, strstr(r.out, "\nuser:atomic "));
	EXPECT_NE(NULL, strstr(r.err,
			       "katomic: hammer: kernel:atomic: /nonexistent/katomic: No such file or directory (ENOENT): is the katomic module loaded?\n"));
	KATOMIC(&r, "--device", "/nonexistent/katomic", "hammer", "--json");
	expect_failure(_metadata, &r, 1, "kernel:none: /nonexistent/katomic: ");
	KATOMIC(&r, "--device", "/nonexistent/katomic", "hammer", "--target",
		"kernel:mixed");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err,
			       "katomic: hammer: kernel:mixed: /nonexistent/katomic: No such file or directory (ENOENT)"));
	/* adjacent is per-thread for kernel counters: said once, up front. */
	KATOMIC(&r, "--device", "/nonexistent/katomic", "hammer", "--counter",
		"adjacent", "--target", "kernel:all");
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(0, strncmp(r.err, note, strlen(note)));
}

/*
 * SIGINT, once the first row is out: the threads stop, the targets left do
 * not run, the process says so and dies of the signal.
 */
TEST(interrupt)
{
	expect_interrupt(_metadata, "hammer", "atomic", "mutex",
			 "katomic: hammer: interrupted by SIGINT; counters undefined\n");
}

TEST_HARNESS_MAIN
