// SPDX-License-Identifier: GPL-2.0
/*
 * katomic fuzz from the shell, without the device: its help, its usage
 * errors (exit 2, one line) and a device that cannot be opened (exit 1,
 * one line naming it).  The fuzzing itself needs the module: it runs in
 * the test bed (scripts/vm-hardening.sh).
 */
#include "kselftest_harness.h"
#include "run_katomic.h"

TEST(help)
{
	struct run r;

	KATOMIC(&r, "help", "fuzz");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "usage: katomic [--device PATH] fuzz"));
	EXPECT_NE(NULL, strstr(r.out, "--replay SEED"));
	EXPECT_NE(NULL, strstr(r.out, "--faults         mark the fuzzing threads"));
	KATOMIC(&r, "help");
	EXPECT_NE(NULL, strstr(r.out, "katomic [--device PATH] fuzz [OPTION]..."));
}

TEST(usage_errors)
{
	static const struct error_case cases[] = {
		{ { "fuzz", "--bogus" }, NULL, "fuzz: unknown option '--bogus'" },
		{ { "fuzz", "--threads", "0" }, NULL, "--threads 0 is out of range 1..64" },
		{ { "fuzz", "--threads", "65" }, NULL, "out of range 1..64" },
		{ { "fuzz", "--threads" }, NULL, "--threads needs a value" },
		{ { "fuzz", "--seconds", "x" }, NULL, "--seconds 'x' is not a number" },
		{ { "fuzz", "--seconds", "0" }, NULL, "--seconds 0 needs --calls" },
		{ { "fuzz", "--calls", "0" }, NULL, "--calls 0 is out of range" },
	};

	expect_errors(_metadata, 2, "usage", cases,
		      sizeof(cases) / sizeof(cases[0]));
}

TEST(no_device)
{
	struct run r;

	KATOMIC(&r, "--device", "/nonexistent/katomic", "fuzz", "--seconds", "1");
	expect_failure(_metadata, &r, 1, "fuzz: /nonexistent/katomic: No such file");
}

TEST_HARNESS_MAIN
