// SPDX-License-Identifier: GPL-2.0
/*
 * katomic bench: its statistics, ratios and self-check rules against
 * results made up here (impossible ones must fail), the CSV and JSON
 * formats (a CSV read back writes the same bytes), then the katomic
 * binary ($KATOMIC_BIN, else ../bin/katomic next to this test): option
 * errors, a real short run of the user paths and --from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/bench.h"
#include "kselftest_harness.h"
#include "run_katomic.h"

/* Statistics ----------------------------------------------------------- */

TEST(stats)
{
	const double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 };
	const double one[] = { 7 }, same[] = { 5, 5, 5, 5, 5 };
	struct bench_stat s;

	bench_stats(odd, 3, &s);
	EXPECT_EQ(2, s.med);
	EXPECT_EQ(1, s.min);
	EXPECT_EQ(3, s.max);
	EXPECT_EQ(3, odd[0]);		/* the input is left as it was */
	bench_stats(even, 4, &s);
	EXPECT_EQ(2.5, s.med);
	EXPECT_EQ(1, s.min);
	EXPECT_EQ(4, s.max);
	bench_stats(one, 1, &s);
	EXPECT_EQ(7, s.med);
	EXPECT_EQ(7, s.min);
	EXPECT_EQ(7, s.max);
	bench_stats(same, 5, &s);
	EXPECT_EQ(5, s.med);
}

/* A measured row of r: path, B, threads, placement, op, ns/op median,
 * min and max. */
static struct bench_row *add(struct bench_result *r, const char *path,
			     unsigned int batch, unsigned int threads,
			     int place, int op, double med, double min,
			     double max)
{
	struct bench_row *row = bench_add_row(r);

	if (!row)
		abort();
	snprintf(row->path, sizeof(row->path), "%s", path);
	row->batch = batch;
	row->threads = threads;
	row->place = place;
	row->op = op;
	row->runs = 5;
	row->ns = (struct bench_stat){ med, min, max };
	row->mops = (struct bench_stat){ threads * 1e3 / med,
					 threads * 1e3 / max,
					 threads * 1e3 / min };
	return row;
}

/* Rows as add() takes them. */
struct spec {
	const char *path;
	unsigned int batch, threads;
	int place, op;
	double med, min, max;
};

static void add_all(struct bench_result *r, const struct spec *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		add(r, s[i].path, s[i].batch, s[i].threads, s[i].place,
		    s[i].op, s[i].med, s[i].min, s[i].max);
}

TEST(ratios)
{
	static const struct spec rows[] = {
		{ "kernel:nop", 0, 1, -1, -1, 100, 90, 110 },
		{ "user:c11", 0, 1, BENCH_SHARED, BENCH_ADD, 10, 9, 11 },
		{ "user:c11", 0, 1, BENCH_PADDED, BENCH_ADD, 5, 4, 6 },
		{ "kernel:atomic", 0, 1, BENCH_SHARED, BENCH_ADD, 250, 240, 260 },
		{ "kernel:atomic", 0, 1, BENCH_PADDED, BENCH_ADD, 200, 190, 210 },
		{ "kernel:atomic", 0, 2, BENCH_SHARED, BENCH_ADD, 300, 290, 310 },
		{ "kernel:atomic", 0, 1, BENCH_SHARED, BENCH_LOAD, 120, 110, 130 },
	};
	struct bench_result r = { 0 };

	add_all(&r, rows, ARRAY_SIZE(rows));
	bench_ratios(&r);
	EXPECT_EQ(1, r.rows[0].vs_nop);
	EXPECT_EQ(10, r.rows[0].vs_c11);	/* against shared add */
	EXPECT_EQ(1, r.rows[1].vs_c11);
	EXPECT_EQ(0.1, r.rows[1].vs_nop);
	EXPECT_EQ(2.5, r.rows[3].vs_nop);
	EXPECT_EQ(25, r.rows[3].vs_c11);
	EXPECT_EQ(40, r.rows[4].vs_c11);	/* same placement */
	EXPECT_EQ(0, r.rows[5].vs_nop);		/* no NOP at 2 threads */
	EXPECT_EQ(0, r.rows[5].vs_c11);
	EXPECT_EQ(0, r.rows[6].vs_c11);		/* no c11 load */
	EXPECT_EQ(1.2, r.rows[6].vs_nop);
	bench_free(&r);
}

/* Self-checks ------------------------------------------------------------ */

TEST(check_values)
{
	const uint64_t done[3] = { 10, 20, 30 };
	uint64_t shared = 60, per[3] = { 10, 20, 30 }, loaded[3] = { 7, 7, 7 };
	char buf[160];

	EXPECT_EQ(NULL, bench_check_values(BENCH_ADD, 3, done, 1, &shared, 0,
					   buf, sizeof(buf)));
	EXPECT_EQ(NULL, bench_check_values(BENCH_CAS_LOOP, 3, done, 3, per, 0,
					   buf, sizeof(buf)));
	shared = 61;
	EXPECT_EQ(NULL, bench_check_values(BENCH_ADD, 3, done, 1, &shared, 1,
					   buf, sizeof(buf)));
	EXPECT_EQ(NULL, bench_check_values(BENCH_LOAD, 3, done, 3, loaded, 7,
					   buf, sizeof(buf)));
	/* a lost update, one too many, a load that wrote, a miscount */
	shared = 59;
	ASSERT_NE(NULL, bench_check_values(BENCH_ADD, 3, done, 1, &shared, 0,
					   buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "1 lost"));
	per[1] = 21;
	ASSERT_NE(NULL, bench_check_values(BENCH_ADD, 3, done, 3, per, 0, buf,
					   sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "counter 1"));
	loaded[2] = 8;
	ASSERT_NE(NULL, bench_check_values(BENCH_LOAD, 3, done, 3, loaded, 7,
					   buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "loads changed counter 2"));
	EXPECT_NE(NULL, bench_check_values(BENCH_ADD, 3, done, 2, per, 0, buf,
					   sizeof(buf)));
	/* sharded: one shard per thread, each its thread's own */
	per[1] = 20;
	EXPECT_EQ(NULL, bench_check_values(BENCH_ADD, 3, done, 3, per, 0, buf,
					   sizeof(buf)));
	per[0] = 11, per[1] = 19;	/* the right sum, the wrong shards */
	EXPECT_NE(NULL, bench_check_values(BENCH_ADD, 3, done, 3, per, 0, buf,
					   sizeof(buf)));
}

TEST(lost_share)
{
	const uint64_t done[2] = { 50, 50 }, none = 0;
	uint64_t shared = 90, per[2] = { 50, 50 };

	EXPECT_EQ(10, bench_lost_share(2, done, 1, &shared, 0));
	shared = 1090;
	EXPECT_EQ(10, bench_lost_share(2, done, 1, &shared, 1000));
	EXPECT_EQ(0, bench_lost_share(2, done, 2, per, 0));
	EXPECT_EQ(0, bench_lost_share(1, &none, 1, &none, 0));
}

TEST(nop_floor)
{
	static const struct spec possible[] = {
		{ "kernel:nop", 0, 1, -1, -1, 100, 90, 110 },
		{ "kernel:nop", 0, 2, -1, -1, 200, 180, 220 },
		{ "user:c11", 0, 1, BENCH_SHARED, BENCH_ADD, 10, 9, 11 },
		/* within the noise: max at or above the NOP's min */
		{ "kernel:atomic", 0, 1, BENCH_SHARED, BENCH_ADD, 85, 80, 90 },
		/* below it by less than BENCH_NOISE: 75 * 1.25 > 90 */
		{ "kernel:spinlock", 0, 1, BENCH_SHARED, BENCH_ADD, 70, 60, 75 },
		/* batching may beat it */
		{ "kernel:batch", 16, 1, BENCH_SHARED, BENCH_ADD, 20, 19, 21 },
		{ "kernel:uring", 256, 2, BENCH_SHARED, BENCH_ADD, 20, 19, 21 },
	};
	/* each impossible, and named */
	static const struct spec impossible[] = {
		/* at 2 threads the NOP's min is 180: 140 * 1.25 < 180 */
		{ "kernel:mutex", 0, 2, BENCH_PADDED, BENCH_LOAD, 130, 120, 140 },
		{ "kernel:batch", 1, 1, BENCH_SHARED, BENCH_LOAD, 50, 40, 60 },
		{ "kernel:uring", 1, 2, BENCH_SHARED, BENCH_ADD, 50, 40, 60 },
	};
	static const char *const names[] = {
		"kernel:mutex 2 threads padded load",
		"kernel:batch B=1 1 thread shared load",
		"kernel:uring B=1 2 threads shared add",
	};
	struct bench_result r = { 0 };
	char buf[256];
	size_t i;

	add_all(&r, possible, ARRAY_SIZE(possible));
	EXPECT_EQ(NULL, bench_check_floor(&r, buf, sizeof(buf)));
	for (i = 0; i < ARRAY_SIZE(impossible); i++) {
		add_all(&r, &impossible[i], 1);
		ASSERT_NE(NULL, bench_check_floor(&r, buf, sizeof(buf)));
		EXPECT_NE(NULL, strstr(buf, names[i])) {
			TH_LOG("%s", buf);
		}
		r.nr--;
	}
	bench_free(&r);
}

/* Formats --------------------------------------------------------------- */

static void sample(struct bench_result *r)
{
	struct bench_row *row;

	*r = (struct bench_result){ .meta = {
		.machine = "QEMU TCG", .kernel = "6.1.0-test", .cpus = 2,
		.date = "2026-11-27 01:00 UTC", .commit = "abc1234",
		.seconds = 0.2, .runs = 5, .pin = true } };
	add(r, "kernel:nop", 0, 1, -1, -1, 100, 90, 110);
	add(r, "user:c11", 0, 1, BENCH_SHARED, BENCH_ADD, 10.125, 9, 11);
	row = add(r, "user:plain", 0, 2, BENCH_ADJACENT, BENCH_ADD, 1.5, 1,
		  2.25);
	row->lost = 12.5;
	add(r, "kernel:uring", 256, 2, BENCH_PADDED, BENCH_LOAD, 1e4 / 3,
	    3000, 3500);
	row = bench_add_row(r);
	snprintf(row->path, sizeof(row->path), "kernel:batch");
	row->batch = 16;
	row->place = BENCH_SHARED;
	row->op = BENCH_CAS_LOOP;
	snprintf(row->reason, sizeof(row->reason),
		 "a reason, with a comma and \"quotes\"");
	bench_ratios(r);
}

/* What write wrote of r, in a buffer to free. */
static char *written(const struct bench_result *r,
		     void (*write)(FILE *f, const struct bench_result *r))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	write(f, r);
	fclose(f);
	return buf;
}

static int read_back(const char *text, struct bench_result *r, char *why,
		     size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	if (!f)
		abort();
	ret = bench_read_csv(f, r, why, len);
	fclose(f);
	return ret;
}

TEST(csv_round_trip)
{
	struct bench_result r, back;
	char *csv, *again, why[160];

	sample(&r);
	csv = written(&r, bench_write_csv);
	ASSERT_EQ(0, read_back(csv, &back, why, sizeof(why))) {
		TH_LOG("%s", why);
	}
	EXPECT_EQ(r.nr, back.nr);
	EXPECT_STREQ("QEMU TCG", back.meta.machine);
	EXPECT_STREQ("abc1234", back.meta.commit);
	EXPECT_EQ(2, back.meta.cpus);
	EXPECT_EQ(true, back.meta.pin);
	EXPECT_EQ(12.5, back.rows[2].lost);
	EXPECT_EQ(-1, back.rows[1].lost);
	EXPECT_EQ(-1, back.rows[0].op);
	EXPECT_EQ(256, back.rows[3].batch);
	EXPECT_STREQ("a reason, with a comma and \"quotes\"",
		     back.rows[4].reason);
	again = written(&back, bench_write_csv);
	EXPECT_STREQ(csv, again);
	free(again);
	free(csv);
	bench_free(&back);
	bench_free(&r);
}

TEST(csv_errors)
{
	static const char *const bad[][2] = {
		{ "path,batch\n", "line 1" },
		{ "# katomic bench results\n# colour: blue\n", "line 2" },
		{ "# katomic bench results\n# cpus: two\n", "line 2" },
		{ "# katomic bench results\n", "no header" },
		{ "# katomic bench results\npath,threads\n", "line 2" },
		{ "# katomic bench results\npath,batch,threads,placement,op,runs,ns_med,ns_min,ns_max,mops_med,mops_min,mops_max,lost_pct,vs_nop,vs_c11,skipped\n"
		  "user:nosuch,0,1,shared,add,5,1,1,1,1,1,1,-,-,-,\"\"\n", "line 3" },
		{ "# katomic bench results\npath,batch,threads,placement,op,runs,ns_med,ns_min,ns_max,mops_med,mops_min,mops_max,lost_pct,vs_nop,vs_c11,skipped\n"
		  "user:c11,0,1,shared,add,5,1,x,1,1,1,1,-,-,-,\"\"\n", "line 3" },
		{ "# katomic bench results\npath,batch,threads,placement,op,runs,ns_med,ns_min,ns_max,mops_med,mops_min,mops_max,lost_pct,vs_nop,vs_c11,skipped\n"
		  "user:c11,0,1,shared,add,5,1,1,1,1,1,1,-,-,-,\"\n", "line 3" },
		{ "# katomic bench results\npath,batch,threads,placement,op,runs,ns_med,ns_min,ns_max,mops_med,mops_min,mops_max,lost_pct,vs_nop,vs_c11,skipped\n"
		  "user:c11,0,1,middle,add,5,1,1,1,1,1,1,-,-,-,\"\"\n", "line 3" },
		{ "# katomic bench results\npath,batch,threads,placement,op,runs,ns_med,ns_min,ns_max,mops_med,mops_min,mops_max,lost_pct,vs_nop,vs_c11,skipped\n"
		  "user:c11,0,1,shared,add,5,1,1,1,1,1,1,-,-,-,\"\"", "line 3" },
	};
	struct bench_result r;
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		EXPECT_EQ(-1, read_back(bad[i][0], &r, why, sizeof(why)));
		if (!strstr(why, bad[i][1]))
			TH_LOG("case %zu: '%s'", i, why);
		EXPECT_NE(NULL, strstr(why, bad[i][1]));
	}
}

/* Whether python3 is there to judge JSON. */
static bool have_python(void)
{
	return !system("python3 -c '' 2>/dev/null");
}

/* JSON: what python's parser says of the file, as "rows measured skipped". */
static void json_check(struct __test_metadata *_metadata, const char *path,
		       const char *want)
{
	char cmd[512], out[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "r=d[\"rows\"]; print(len(r), sum(\"ns_per_op\" in x for x in r), "
		 "sum(\"skipped\" in x for x in r), d[\"machine\"])' %s", path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	EXPECT_EQ(0, pclose(p));
	out[strcspn(out, "\n")] = '\0';
	EXPECT_STREQ(want, out);
}

TEST(json)
{
	char path[] = "/tmp/bench_test_XXXXXX", *json;
	struct bench_result r;
	int fd;

	sample(&r);
	json = written(&r, bench_write_json);
	EXPECT_EQ(0, strncmp(json, "{\"machine\": \"QEMU TCG\"", 22));
	EXPECT_NE(NULL, strstr(json, "\"skipped\": \"a reason, with a comma and \\\"quotes\\\"\""));
	EXPECT_NE(NULL, strstr(json, "\"lost_pct\": 12.5"));
	if (!have_python()) {
		free(json);
		bench_free(&r);
		SKIP(return, "no python3 to parse the JSON");
	}
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(json), write(fd, json, strlen(json)));
	close(fd);
	json_check(_metadata, path, "5 4 1 QEMU TCG");
	unlink(path);
	free(json);
	bench_free(&r);
}

TEST(machine)
{
	char buf[128];

	bench_machine(buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "QEMU TCG") || !strncmp(buf, "KVM", 3) ||
		    !strncmp(buf, "hypervisor ", 11) ||
		    !strcmp(buf, "bare metal")) {
		TH_LOG("machine '%s'", buf);
	}
}

/* The command ------------------------------------------------------------ */

static const struct error_case bad_usage[] = {
	{ { "bench", "--runs", "0" }, NULL, "--runs" },
	{ { "bench", "--runs", "101" }, NULL, "--runs" },
	{ { "bench", "--threads", "1,x" }, NULL, "--threads" },
	{ { "bench", "--threads", "0" }, NULL, "--threads" },
	{ { "bench", "--seconds", "0" }, NULL, "--seconds" },
	{ { "bench", "--path", "user:nosuch" }, NULL, "'user:nosuch' is not a path" },
	{ { "bench", "--op", "swap" }, NULL, "--op: 'swap'" },
	{ { "bench", "--placement", "middle" }, NULL, "--placement: 'middle'" },
	{ { "bench", "--batch", "4097" }, NULL, "--batch" },
	{ { "bench", "--from", "x.csv", "--threads", "1" }, NULL, "--from runs nothing" },
	{ { "bench", "--csv", "-", "--json", "-" }, NULL, "both go to stdout" },
	{ { "bench", "--plot", "-" }, NULL, "--plot needs a file name" },
	{ { "bench", "--frobnicate" }, NULL, "unknown option '--frobnicate'" },
	{ { "bench", "extra" }, NULL, "unexpected argument 'extra'" },
	{ { "bench", "--csv" }, NULL, "--csv needs a value" },
	{ { "bench", "--path", "user:sharded", "--placement", "padded" }, NULL,
	  "nothing to run" },
};

TEST(usage_errors)
{
	EXPECT_ERRORS(2, bad_usage);
}

TEST(help)
{
	struct run r;

	KATOMIC(&r, "bench", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "usage: katomic [--device PATH] bench"));
	EXPECT_NE(NULL, strstr(r.out, "kernel:uring"));
	KATOMIC(&r, "help");
	EXPECT_NE(NULL, strstr(r.out, "bench [OPTION]..."));
}

TEST(from_missing)
{
	struct run r;

	KATOMIC(&r, "bench", "--from", "/nonexistent/results.csv");
	expect_failure(_metadata, &r, 1, "/nonexistent/results.csv");
}

/* A real run of the user paths, short: its rows as its CSV says. */
TEST(user_run)
{
	char csv[] = "/tmp/bench_test_XXXXXX", json[64], why[160];
	const struct bench_row *row;
	struct bench_result res;
	unsigned int i, measured = 0, skipped = 0;
	struct run r;
	FILE *f;
	int fd;

	fd = mkstemp(csv);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(json, sizeof(json), "%s.json", csv);
	KATOMIC(&r, "bench", "--path", "user", "--threads", "1,2", "--seconds",
		"0.01", "--runs", "3", "--csv", csv, "--json", json,
		"--machine", "test box");
	EXPECT_EQ(0, r.status) {
		TH_LOG("stderr: %s", r.err);
	}
	EXPECT_NE(NULL, strstr(r.out, "katomic bench: test box, Linux "));
	f = fopen(csv, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, bench_read_csv(f, &res, why, sizeof(why))) {
		TH_LOG("%s", why);
	}
	fclose(f);
	for (i = 0; i < res.nr; i++) {
		row = &res.rows[i];
		if (row->reason[0]) {
			skipped++;
			EXPECT_STREQ("user:sharded", row->path);
			continue;
		}
		measured++;
		EXPECT_EQ(3, row->runs);
		EXPECT_LT(0, row->ns.min);
		EXPECT_LE(row->ns.min, row->ns.med);
		EXPECT_LE(row->ns.med, row->ns.max);
		EXPECT_LT(0, row->mops.min);
		EXPECT_EQ(0, row->vs_nop);	/* no kernel path ran */
		EXPECT_LT(0, row->vs_c11);
		if (!strcmp(row->path, "user:c11")) {
			EXPECT_EQ(1, row->vs_c11);
		}
		/* plain reports its losses, the others are exact */
		if (!strcmp(row->path, "user:plain") && row->op != BENCH_LOAD) {
			EXPECT_LE(0, row->lost);
		} else {
			EXPECT_EQ(-1, row->lost);
		}
		/* a thread's own counter loses nothing */
		if (row->place == BENCH_PADDED || row->threads == 1) {
			EXPECT_GE(0, row->lost);
		}
	}
	/* 2 thread counts x (4 paths x 3 placements x 3 ops + sharded's 3) */
	EXPECT_EQ(78, measured);
	EXPECT_EQ(6, skipped);
	EXPECT_STREQ("test box", res.meta.machine);
	EXPECT_EQ(3, res.meta.runs);
	bench_free(&res);
	if (have_python())
		json_check(_metadata, json, "84 78 6 test box");
	/* --from: the same table again, without running anything */
	KATOMIC(&r, "bench", "--from", csv);
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "katomic bench: test box, Linux "));
	EXPECT_NE(NULL, strstr(r.out, "user:sharded (6 cells)"));
	unlink(json);
	unlink(csv);
}

TEST_HARNESS_MAIN
