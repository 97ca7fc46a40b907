/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running the katomic binary from a host test: $KATOMIC_BIN, else
 * ../bin/katomic next to the test, and the checks of its results that
 * the command's tests share.  Include after kselftest_harness.h.  The
 * functions are static inline, so that a test need not use them all.
 */
#ifndef KATOMIC_RUN_KATOMIC_H
#define KATOMIC_RUN_KATOMIC_H

#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct run {
	int status;		/* exit status, 128 + signal if killed */
	char out[16384];	/* stdout, what fits */
	char err[2048];		/* stderr, what fits */
};

static inline const char *katomic_bin(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("KATOMIC_BIN");
	ssize_t n;

	if (env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n < 0)
		return "katomic";
	path[n] = '\0';
	strncat(dirname(path), "/../bin/katomic", sizeof(path) - strlen(path) - 1);
	return path;
}

/*
 * Reads pid's stdout (fds[0]) and stderr (fds[1]) to their end into r,
 * keeping what fits; if sig, sends it once stdout contains trigger.
 */
static inline void run_drain(struct run *r, int fds[2], pid_t pid, int sig,
			     const char *trigger)
{
	struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
	char *bufs[2] = { r->out, r->err };
	size_t sizes[2] = { sizeof(r->out), sizeof(r->err) };
	size_t len[2] = { 0, 0 };
	char scratch[512];
	int open = 2, i;
	bool sent = false;
	ssize_t n;

	while (open && poll(p, 2, -1) > 0) {
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (len[i] < sizes[i] - 1)
				n = read(p[i].fd, bufs[i] + len[i],
					 sizes[i] - 1 - len[i]);
			else
				n = read(p[i].fd, scratch, sizeof(scratch));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open--;
			} else if (len[i] < sizes[i] - 1) {
				len[i] += n;
			}
		}
		r->out[len[0]] = '\0';
		if (sig && !sent && strstr(r->out, trigger)) {
			kill(pid, sig);
			sent = true;
		}
	}
	r->out[len[0]] = '\0';
	r->err[len[1]] = '\0';
}

/*
 * Runs katomic with args (at most 62), reading stdout and stderr to their
 * end; if sig is not 0, sends it once stdout contains trigger.  Fills r;
 * returns -1 if it could not run.
 */
static inline int run_katomic_signal(struct run *r, const char *const *args,
				     int sig, const char *trigger)
{
	const char *argv[64] = { "katomic" };
	int out[2], err[2], fds[2], i, status;
	pid_t pid;

	for (i = 0; args[i] && i < 62; i++)
		argv[i + 1] = args[i];
	if (pipe(out) || pipe(err))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(katomic_bin(), (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	fds[0] = out[0];
	fds[1] = err[0];
	run_drain(r, fds, pid, sig, trigger);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

static inline int run_katomic(struct run *r, const char *const *args)
{
	return run_katomic_signal(r, args, 0, NULL);
}

#define KATOMIC(r, ...) \
	ASSERT_EQ(0, run_katomic(r, (const char *const[]){ __VA_ARGS__, NULL }))

/* Failure: this exit status, one line "katomic: ..." containing what. */
static inline void expect_error(struct __test_metadata *_metadata,
				const struct run *r, int status,
				const char *what)
{
	const char *nl = strchr(r->err, '\n');

	if (r->status != status || !strstr(r->err, what))
		TH_LOG("exit %d, stderr: %s", r->status, r->err);
	EXPECT_EQ(status, r->status);
	EXPECT_EQ(0, strncmp(r->err, "katomic: ", 9));
	EXPECT_NE(NULL, strstr(r->err, what));
	EXPECT_NE(NULL, nl);
	if (nl)
		EXPECT_EQ('\0', nl[1]);		/* one line */
}

/* Failure: expect_error()'s, and nothing on stdout. */
static inline void expect_failure(struct __test_metadata *_metadata,
				  const struct run *r, int status,
				  const char *what)
{
	expect_error(_metadata, r, status, what);
	EXPECT_STREQ("", r->out);
}

/* A command that fails: its arguments, the error, what stdout holds. */
struct error_case {
	const char *args[24];	/* NULL-terminated */
	const char *out;	/* stdout (of the commands before); NULL: "" */
	const char *what;	/* in the one line on stderr */
};

/*
 * Runs the n cases of the table named name: each must exit with status,
 * write one line "katomic: ..." containing its what on stderr and exactly
 * its out on stdout.
 */
static inline void expect_errors(struct __test_metadata *_metadata,
				 int status, const char *name,
				 const struct error_case *c, size_t n)
{
	struct run r;
	size_t i;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, run_katomic(&r, c[i].args));
		if (r.status != status || !strstr(r.err, c[i].what))
			TH_LOG("%s[%zu], expecting \"%s\"", name, i, c[i].what);
		expect_error(_metadata, &r, status, c[i].what);
		EXPECT_STREQ(c[i].out ? c[i].out : "", r.out);
	}
}

#define EXPECT_ERRORS(status, table) \
	expect_errors(_metadata, status, #table, table, ARRAY_SIZE(table))

/*
 * A table from a run that succeeded: exit 0, nothing on stderr, stdout
 * starting with caption; *header gets the header line and *row the row of
 * target, each from the '\n' before it.
 */
static inline void expect_table(struct __test_metadata *_metadata,
				const struct run *r, const char *caption,
				const char *target, const char **header,
				const char **row)
{
	char key[64];

	ASSERT_EQ(0, r->status);
	EXPECT_STREQ("", r->err);
	EXPECT_EQ(0, strncmp(r->out, caption, strlen(caption)));
	snprintf(key, sizeof(key), "\n%s ", target);
	*header = strstr(r->out, "\ntarget ");
	*row = strstr(r->out, key);
	if (!*header || !*row)
		TH_LOG("header or %s row missing, stdout:\n%s", target, r->out);
	ASSERT_NE(NULL, *header);
	ASSERT_NE(NULL, *row);
}

/*
 * A table's column: where heading, which the header line must contain,
 * ends, as an offset from header; a row that starts as header does (at
 * its '\n') has its number for the column end there.
 */
static inline size_t column_end(struct __test_metadata *_metadata,
				const char *header, const char *heading)
{
	const char *col = strstr(header, heading);

	if (!col)
		TH_LOG("no \"%s\" in the header", heading);
	ASSERT_NE(NULL, col);
	return col - header + strlen(heading);
}

/* row's field of the column under heading ends in value. */
static inline void expect_column(struct __test_metadata *_metadata,
				 const char *header, const char *row,
				 const char *heading, const char *value)
{
	size_t end = column_end(_metadata, header, heading);
	size_t n = strlen(value);

	if (strncmp(row + end - n, value, n))
		TH_LOG("column \"%s\": expecting \"%s\" in \"%.*s\"", heading,
		       value, (int)strcspn(row + 1, "\n"), row + 1);
	EXPECT_EQ(0, strncmp(row + end - n, value, n));
}

#define INTERRUPT_MORE	20	/* targets after the first */

/*
 * SIGINT to "katomic CMD --seconds 0.2 --target user:FIRST" and
 * INTERRUPT_MORE times "--target user:REST", once FIRST's row is out: the
 * threads must stop, the targets left not run (fewer rows than targets),
 * and the process write exactly err on stderr and die of the signal.
 */
static inline void expect_interrupt(struct __test_metadata *_metadata,
				    const char *cmd, const char *first,
				    const char *rest, const char *err)
{
	const char *args[64] = { cmd, "--seconds", "0.2", "--target" };
	char first_target[64], rest_target[64], trigger[72];
	int i, rows = 0;
	const char *p;
	struct run r;

	snprintf(first_target, sizeof(first_target), "user:%s", first);
	snprintf(rest_target, sizeof(rest_target), "user:%s", rest);
	snprintf(trigger, sizeof(trigger), "\n%s ", first_target);
	args[4] = first_target;
	for (i = 5; i < 5 + 2 * INTERRUPT_MORE; i += 2) {
		args[i] = "--target";
		args[i + 1] = rest_target;
	}
	ASSERT_EQ(0, run_katomic_signal(&r, args, SIGINT, trigger));
	EXPECT_EQ(128 + SIGINT, r.status);
	EXPECT_STREQ(err, r.err);
	for (p = r.out; (p = strstr(p, "\nuser:")); p++)
		rows++;
	EXPECT_LT(rows, 1 + INTERRUPT_MORE);
}

#endif /* KATOMIC_RUN_KATOMIC_H */
