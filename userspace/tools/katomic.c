// SPDX-License-Identifier: GPL-2.0
/*
 * katomic: the counters and value slots of /dev/katomic, or of an
 * in-process twin, from the shell.  The op commands come from
 * KATOMIC_OP_TABLE through libkatomic's op descriptions: there is no code
 * per op.  The value commands are value.c's, hammer and tear run on their
 * own (hammer.c, tear.c, bench.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "bench.h"
#include "hammer.h"
#include "katomic.h"
#include "options.h"
#include "tear.h"
#include "value.h"

/* The twin of --twin: the module's default global context. */
#define TWIN_COUNTERS	256
#define TWIN_SLOTS	64
#define TWIN_VALUE_MAX	4096
#define NAME_MAX_LEN	32
#define VALUE_MAX_LEN	32	/* "-0x8000000000000000" and the like */
#define HELP_COLUMN	32

struct cli {
	const char *device;
	bool twin;
	bool hex;
	struct katomic *k;
	struct katomic_info info;	/* of the handle, once open */
};

struct command;

/* One command of the chain, parsed. */
struct cmdline {
	const struct command *cmd;
	const char *name;	/* as typed */
	const struct katomic_op_desc *op;	/* op commands */
	int op_nr;
	char **args;		/* positional arguments */
	int nr_args;
	const char *sync;	/* define's --sync, --init, --delay */
	const char *init;
	const char *delay;
	bool hex;
	struct value_cmd *value;	/* value commands */
};

struct command {
	const char *name;	/* NULL: the op commands */
	const char *args;
	const char *help;
	int min_args, max_args;
	bool define_options;	/* takes --sync, --init, --delay */
	bool needs_handle;
	/* NULL: the command runs on its own, by main (hammer, tear) */
	int (*run)(struct cli *c, const struct cmdline *l);
	/* NULL: the words after the name are parsed as below */
	int (*parse)(const struct cli *c, char **tok, int n,
		     struct cmdline *l);
	/* Of a command that runs on its own: argv[0] is its name. */
	int (*main)(int argc, char **argv, const char *device,
		    const char *(*open_hint)(int err));
	/* Its own help, for katomic help NAME (NULL: its line). */
	void (*usage)(FILE *f);
};

static int usage_error(const struct cmdline *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(const struct cmdline *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(EXIT_USAGE, l ? l->name : NULL, NULL, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* "katomic: CMD: counter 7: not defined (ENOENT)" */
static int counter_error(const struct cli *c, const struct cmdline *l,
			 __u32 id, int err)
{
	if (err == -EINVAL && id >= c->info.nr_counters)
		fprintf(stderr, "katomic: %s: counter %u is out of range, the context has %u (EINVAL)\n",
			l->name, id, c->info.nr_counters);
	else
		fprintf(stderr, "katomic: %s: counter %u: %s (%s)\n", l->name,
			id, katomic_strerror(err), katomic_errno_name(err));
	return EXIT_FAILED;
}

/* name with '_' shown as '-', the command line's spelling. */
static const char *dashed(const char *name, char buf[NAME_MAX_LEN])
{
	size_t i;

	for (i = 0; name[i] && i < NAME_MAX_LEN - 1; i++)
		buf[i] = name[i] == '_' ? '-' : name[i];
	buf[i] = '\0';
	return buf;
}

/* The i-th operand name of an op ("delta" of "delta unless"). */
static const char *operand_name(const struct katomic_op_desc *d, int i,
				char buf[NAME_MAX_LEN])
{
	const char *s = d->args;
	size_t n;

	for (; i > 0; i--)
		s = strchr(s, ' ') + 1;
	n = strcspn(s, " ");
	if (n >= NAME_MAX_LEN)
		n = NAME_MAX_LEN - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static void print_value(const struct cmdline *l, unsigned int type, __u64 v,
			const char *suffix)
{
	char buf[VALUE_MAX_LEN];

	katomic_value_format(buf, sizeof(buf), type, v, l->hex);
	printf("%s%s\n", buf, suffix);
}

/* Parses s for type; on error prints why, naming the argument what. */
static int parse_value(const struct cli *c, const struct cmdline *l,
		       const char *what, const char *s, unsigned int type,
		       __u64 *v)
{
	char lo[VALUE_MAX_LEN], hi[VALUE_MAX_LEN];
	unsigned int ptr_bits = c->info.ptr_bits;
	int ret;

	ret = katomic_value_parse(s, type, ptr_bits, v);
	if (ret == -EOVERFLOW) {
		katomic_value_format(lo, sizeof(lo), type,
				     katomic_value_min(type, ptr_bits), false);
		katomic_value_format(hi, sizeof(hi), type,
				     katomic_value_max(type, ptr_bits), false);
		return usage_error(l, "%s %s does not fit %s [%s, %s]", what, s,
				   katomic_type_name(type), lo, hi);
	}
	if (ret)
		return usage_error(l, "%s '%s' is not a number", what, s);
	return EXIT_OK;
}

static int parse_id(const struct cli *c, const struct cmdline *l, __u32 *id)
{
	__u64 v = 0;
	int ret = parse_value(c, l, "id", l->args[0], KATOMIC_TYPE_UINT32, &v);

	*id = v;
	return ret;
}

static int cmd_info(struct cli *c, const struct cmdline *l)
{
	const struct katomic_info *i = &c->info;
	char buf[NAME_MAX_LEN];
	unsigned int bit;

	(void)l;
	printf("abi_version %u\n", i->abi_version);
	printf("features 0x%x", i->features);
	for (bit = 0; bit < 32; bit++) {
		const char *name = katomic_feature_name(1U << bit);

		if (!(i->features & (1U << bit)))
			continue;
		if (name)
			printf(" %s", dashed(name, buf));
		else
			printf(" bit%u", bit);
	}
	printf("%s\n", i->features ? "" : " none");
	printf("nr_counters %u\nnr_slots %u\nvalue_max %u\nmax_batch %u\nptr_bits %u\n",
	       i->nr_counters, i->nr_slots, i->value_max, i->max_batch,
	       i->ptr_bits);
	return EXIT_OK;
}

/* Prints the names of a table, from its name function, space-separated. */
static void print_names(FILE *f, const char *(*name_of)(unsigned int),
			unsigned int last)
{
	unsigned int nr;

	for (nr = 0; nr <= last; nr++)
		if (name_of(nr))
			fprintf(f, " %s", name_of(nr));
}

/* A name from a table (a type, a kind); unknown: lists the table's names. */
static int parse_name(const struct cmdline *l, const char *what,
		      const char *s, int (*parse)(const char *),
		      const char *(*name_of)(unsigned int), unsigned int last)
{
	int nr = parse(s);

	if (nr < 0) {
		fprintf(stderr, "katomic: %s: unknown %s '%s' (%ss:", l->name,
			what, s, what);
		print_names(stderr, name_of, last);
		fprintf(stderr, ")\n");
	}
	return nr;
}

/* define's --delay: NONE's param, in nanoseconds. */
static int parse_delay(const struct cmdline *l, int sync, __u64 *param)
{
	char *end;

	if (!l->delay)
		return EXIT_OK;
	if (sync != KATOMIC_SYNC_NONE)
		return usage_error(l, "--delay is for none counters only");
	errno = 0;
	*param = strtoull(l->delay, &end, 0);
	if (errno || end == l->delay || *end || *l->delay == '-' ||
	    *param > KATOMIC_NONE_MAX_DELAY)
		return usage_error(l, "--delay '%s' is not a number of nanoseconds in 0..%u",
				   l->delay, KATOMIC_NONE_MAX_DELAY);
	return EXIT_OK;
}

static int cmd_define(struct cli *c, const struct cmdline *l)
{
	struct katomic_define d = { .object = KATOMIC_OBJ_COUNTER };
	int type, sync = KATOMIC_SYNC_DEFAULT, ret;

	ret = parse_id(c, l, &d.id);
	if (ret)
		return ret;
	type = parse_name(l, "type", l->args[1], katomic_type_parse,
			  katomic_type_name, KATOMIC_TYPE_LAST);
	if (type < 0)
		return EXIT_USAGE;
	if (l->sync) {
		sync = parse_name(l, "sync kind", l->sync, katomic_sync_parse,
				  katomic_sync_name, KATOMIC_SYNC_LAST);
		if (sync < 0)
			return EXIT_USAGE;
	}
	ret = parse_delay(l, sync, &d.param);
	if (ret)
		return ret;
	if (l->init) {
		ret = parse_value(c, l, "init", l->init, type, &d.init);
		if (ret)
			return ret;
	}
	d.type = type;
	d.sync = sync;
	ret = katomic_define_raw(c->k, &d);
	if (ret == -EOPNOTSUPP &&
	    (sync == KATOMIC_SYNC_RCU || sync == KATOMIC_SYNC_SEQLOCK)) {
		fprintf(stderr, "katomic: %s: %s is a value-slot kind, not a counter kind (EOPNOTSUPP)\n",
			l->name, katomic_sync_name(sync));
		return EXIT_FAILED;
	}
	if (ret == -EOPNOTSUPP) {
		fprintf(stderr, "katomic: %s: %s %s counters are not supported here (EOPNOTSUPP)\n",
			l->name, katomic_sync_name(sync), katomic_type_name(type));
		return EXIT_FAILED;
	}
	return ret ? counter_error(c, l, d.id, ret) : EXIT_OK;
}

static int cmd_undefine(struct cli *c, const struct cmdline *l)
{
	__u32 id;
	int ret = parse_id(c, l, &id);

	if (ret)
		return ret;
	ret = katomic_undefine(c->k, id);
	return ret ? counter_error(c, l, id, ret) : EXIT_OK;
}

static int cmd_query(struct cli *c, const struct cmdline *l)
{
	struct katomic_define d = { .object = KATOMIC_OBJ_COUNTER };
	int ret = parse_id(c, l, &d.id);

	if (ret)
		return ret;
	ret = katomic_query_raw(c->k, &d);
	if (ret)
		return counter_error(c, l, d.id, ret);
	printf("%s %s", katomic_type_name(d.type), katomic_sync_name(d.sync));
	if (d.param)	/* none's delay */
		printf(" --delay %llu", (unsigned long long)d.param);
	putchar('\n');
	return EXIT_OK;
}

static int cmd_list(struct cli *c, const struct cmdline *l)
{
	unsigned int type, sync;
	struct katomic_op op;
	char buf[VALUE_MAX_LEN];
	__u32 id;
	int ret;

	for (id = 0; id < c->info.nr_counters; id++) {
		ret = katomic_query(c->k, id, &type, &sync);
		if (ret == -ENOENT)
			continue;
		op = (struct katomic_op){ .id = id, .type = type,
					  .op = KATOMIC_OP_LOAD };
		if (!ret)
			ret = katomic_op(c->k, &op);
		if (ret == -ENOENT)	/* undefined meanwhile */
			continue;
		if (ret < 0)
			return counter_error(c, l, id, ret);
		katomic_value_format(buf, sizeof(buf), type, op.result, l->hex);
		printf("%u %s %s %s\n", id, katomic_type_name(type),
		       katomic_sync_name(sync), buf);
	}
	return EXIT_OK;
}

/* Every op command: QUERY the counter's type, parse the operands for it, run. */
static int cmd_op(struct cli *c, const struct cmdline *l)
{
	struct katomic_op op = { .op = l->op_nr };
	__u64 *operands[] = { &op.arg, &op.arg2 };
	char name[NAME_MAX_LEN];
	unsigned int type;
	int i, ret;

	ret = parse_id(c, l, &op.id);
	if (ret)
		return ret;
	ret = katomic_query(c->k, op.id, &type, NULL);
	if (ret)
		return counter_error(c, l, op.id, ret);
	op.type = type;
	for (i = 0; i < l->op->operands; i++) {
		ret = parse_value(c, l, operand_name(l->op, i, name),
				  l->args[1 + i], type, operands[i]);
		if (ret)
			return ret;
	}
	ret = katomic_op(c->k, &op);
	if (ret < 0)
		return counter_error(c, l, op.id, ret);
	if (op.op == KATOMIC_OP_STORE)	/* its result is always 0 */
		return EXIT_OK;
	print_value(l, type, op.result,
		    !l->op->applied ? "" : ret ? " applied" : " not-applied");
	return EXIT_OK;
}

static int cmd_value(struct cli *c, const struct cmdline *l)
{
	return value_run(l->value, c->k, &c->info);
}

static int parse_value_line(const struct cli *c, char **tok, int n,
			    struct cmdline *l)
{
	(void)c;
	return value_parse(tok, n, l->hex, &l->value);
}

static int cmd_help(struct cli *c, const struct cmdline *l);

static const struct command commands[] = {
	{ .name = "info", .args = "",
	  .help = "abi_version, features, sizes, max_batch, ptr_bits",
	  .needs_handle = true, .run = cmd_info },
	{ .name = "define", .args = "ID TYPE [--sync KIND] [--init V] [--delay NS]",
	  .help = "give counter ID a type, a kind (default) and a value (0); --delay:\n"
		  "a none counter's window between load and store, 0..1000000 ns",
	  .min_args = 2, .max_args = 2, .define_options = true,
	  .needs_handle = true, .run = cmd_define },
	{ .name = "undefine", .args = "ID", .help = "make counter ID undefined",
	  .min_args = 1, .max_args = 1, .needs_handle = true,
	  .run = cmd_undefine },
	{ .name = "query", .args = "ID",
	  .help = "print the counter's TYPE and KIND", .min_args = 1,
	  .max_args = 1, .needs_handle = true, .run = cmd_query },
	{ .name = "list", .args = "",
	  .help = "print ID TYPE KIND VALUE of every defined counter",
	  .needs_handle = true, .run = cmd_list },
	{ .name = "help", .args = "[COMMAND]",
	  .help = "this text, or one command's", .max_args = 1,
	  .run = cmd_help },
	{ .name = "value", .args = "SUBCOMMAND [ARG]...",
	  .help = "Go's atomic.Value slots: define, undefine, query, list,\n"
		  "load, store, swap, cas (katomic help value)",
	  .needs_handle = true, .run = cmd_value, .parse = parse_value_line,
	  .usage = value_usage },
	{ .name = "hammer", .args = "[OPTION]...",
	  .help = "race threads on counters, count lost updates",
	  .main = hammer_main, .usage = hammer_usage },
	{ .name = "tear", .args = "[OPTION]...",
	  .help = "race writers and readers on value slots, count torn loads",
	  .main = tear_main, .usage = tear_usage },
	{ .name = "fuzz", .args = "[OPTION]...",
	  .help = "random and malformed ioctls, each result checked against the ABI",
	  .main = fuzz_main, .usage = fuzz_usage },
	{ .name = "bench", .args = "[OPTION]...",
	  .help = "measure kernel and user counters: ns/op, Mops/s, ratios",
	  .main = bench_main, .usage = bench_usage },
};

/* The op commands: name, arguments and help come from the op's description. */
static const struct command op_command = {
	.needs_handle = true,
	.run = cmd_op,
};

static const struct command *find_command(const char *name, int *op_nr)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	*op_nr = katomic_op_parse(name);
	return *op_nr < 0 ? NULL : &op_command;
}

/* The usage of a command: "define ID TYPE ...", "add-unless ID DELTA UNLESS". */
static void command_usage(const struct command *cmd,
			  const struct katomic_op_desc *op, char *buf,
			  size_t size)
{
	char name[NAME_MAX_LEN];
	size_t i, n;

	if (!op) {
		snprintf(buf, size, "%s%s%s", cmd->name, *cmd->args ? " " : "",
			 cmd->args);
		return;
	}
	n = snprintf(buf, size, "%s ID%s", dashed(op->name, name),
		     *op->args ? " " : "");
	for (i = 0; op->args[i] && n < size - 1; i++)
		buf[n++] = toupper((unsigned char)op->args[i]);
	buf[n] = '\0';
}

/* "  USAGE    help", the help at HELP_COLUMN or on a line of its own. */
static void print_command(const struct command *cmd,
			  const struct katomic_op_desc *op)
{
	const char *help = op ? op->doc : cmd->help;
	char usage[128];
	int col, n;

	command_usage(cmd, op, usage, sizeof(usage));
	col = printf("  %s", usage);
	if (col >= HELP_COLUMN - 1) {
		putchar('\n');
		col = 0;
	}
	/* Each line of the help at the column. */
	for (; *help; help += n + !!help[n], col = 0) {
		n = strcspn(help, "\n");
		printf("%*s%.*s\n", HELP_COLUMN - col, "", n, help);
	}
}

static void print_usage(void)
{
	unsigned int nr;
	size_t i;

	printf("usage: katomic [--device PATH | --twin] [--hex] COMMAND [ARG]... [, COMMAND [ARG]...]...\n"
	       "       katomic [--device PATH] hammer [OPTION]...\n"
	       "       katomic [--device PATH] tear [OPTION]...\n"
	       "       katomic [--device PATH] fuzz [OPTION]...\n"
	       "       katomic [--device PATH] bench [OPTION]...\n"
	       "\n"
	       "Runs commands on the counters and value slots of /dev/katomic (or PATH).\n"
	       "With --twin they run on an in-process user-space twin instead (%d counters,\n"
	       "%d value slots of up to %d bytes, every kind of each): it lives for this\n"
	       "one invocation only, so chain commands with ',':\n"
	       "  katomic --twin define 0 int32 --init 5 , add 0 3 , list\n"
	       "Names and argument counts of the whole chain are checked before anything\n"
	       "runs; counter values are checked when their command runs, against the\n"
	       "counter's type.  The commands run in order; the first that fails ends the\n"
	       "chain.\n"
	       "\n"
	       "commands:\n", TWIN_COUNTERS, TWIN_SLOTS, TWIN_VALUE_MAX);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		print_command(&commands[i], NULL);
	for (nr = 0; nr <= KATOMIC_OP_LAST; nr++)
		if (katomic_op_desc(nr))
			print_command(&op_command, katomic_op_desc(nr));
	fputs("\n"
	      "options:\n"
	      "  --device PATH   the device (default /dev/katomic)\n"
	      "  --twin          an in-process twin instead of the device\n"
	      "  --hex           print values in hexadecimal (also after a command)\n"
	      "\n"
	      "TYPE:", stdout);
	print_names(stdout, katomic_type_name, KATOMIC_TYPE_LAST);
	fputs("\nKIND:", stdout);
	print_names(stdout, katomic_sync_name, KATOMIC_SYNC_LAST);
	fputs("\n\n"
	      "ID and values are decimal or 0x hex numbers with an optional sign, and\n"
	      "must fit the type: a uint32 takes 0..4294967295, so subtract 1 by adding\n"
	      "0xffffffff; an int32 takes -2147483648..2147483647 (0xffffffff does not\n"
	      "fit, -1 does).\n"
	      "An op prints its result: add the new value, store nothing, the others the\n"
	      "old value.  cas, max, min and add-unless then print 'applied' or\n"
	      "'not-applied' (cas swapped, max/min changed the value, add-unless added).\n"
	      "Values print in decimal, signed for INT types; --hex prints hex, negative\n"
	      "values as -0x..., so every value printed parses back.\n"
	      "hammer, tear, bench and fuzz run on their own, not in a chain: katomic\n"
	      "help hammer, katomic help tear, katomic help bench and katomic help fuzz\n"
	      "tell more; katomic help value tells of the slots.\n"
	      "\n"
	      "Exit status: 0 ok, 1 an operation failed, 2 usage error.\n", stdout);
}

static int cmd_help(struct cli *c, const struct cmdline *l)
{
	const struct command *cmd;
	int op_nr = -1;

	(void)c;
	if (!l->nr_args) {
		print_usage();
		return EXIT_OK;
	}
	cmd = find_command(l->args[0], &op_nr);
	if (!cmd)
		return usage_error(l, "unknown command '%s'", l->args[0]);
	if (cmd->usage) {
		cmd->usage(stdout);
		return EXIT_OK;
	}
	print_command(cmd, op_nr < 0 ? NULL : katomic_op_desc(op_nr));
	return EXIT_OK;
}

static bool is_option(const char *s)
{
	return !strncmp(s, "--", 2) || !strcmp(s, "-h");
}

/* The options before the command; *first is the command's index. */
static int parse_globals(struct cli *c, int argc, char **argv, int *first,
			 bool *help)
{
	int i, m;

	for (i = 1; i < argc && is_option(argv[i]); i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		m = option_value(argc, argv, &i, "--device", &c->device);
		if (m < 0)
			return usage_error(NULL, "--device needs a PATH");
		if (m)
			continue;
		if (!strcmp(argv[i], "--twin"))
			c->twin = true;
		else if (!strcmp(argv[i], "--hex"))
			c->hex = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			*help = true;
		else
			return usage_error(NULL, "unknown option '%s' (try katomic --help)",
					   argv[i]);
	}
	if (c->twin && c->device)
		return usage_error(NULL, "--device and --twin exclude each other");
	*first = i;
	return EXIT_OK;
}

/* One command of the chain: its name, then options and arguments mixed. */
static int parse_line(const struct cli *c, char **tok, int n,
		      struct cmdline *l)
{
	char usage[128];
	int i, m, min, max;

	*l = (struct cmdline){ .name = tok[0], .args = tok + 1, .hex = c->hex };
	l->cmd = find_command(tok[0], &l->op_nr);
	if (!l->cmd)
		return usage_error(NULL, "unknown command '%s' (try katomic --help)",
				   tok[0]);
	if (!l->cmd->run)
		return usage_error(NULL, "%s runs on its own, not in a chain",
				   tok[0]);
	if (l->cmd->parse)
		return l->cmd->parse(c, tok, n, l);
	if (l->cmd == &op_command)
		l->op = katomic_op_desc(l->op_nr);
	for (i = 1; i < n; i++) {
		if (!strcmp(tok[i], "--hex")) {
			l->hex = true;
			continue;
		}
		m = option_value(n, tok, &i, "--sync", &l->sync);
		if (!m)
			m = option_value(n, tok, &i, "--init", &l->init);
		if (!m)
			m = option_value(n, tok, &i, "--delay", &l->delay);
		if (m < 0)
			return usage_error(l, "%s needs a value", tok[i]);
		if (m && !l->cmd->define_options)
			return usage_error(l, "--sync, --init and --delay are options of define");
		if (m)
			continue;
		if (is_option(tok[i]))
			return usage_error(l, "unknown option '%s'", tok[i]);
		l->args[l->nr_args++] = tok[i];	/* positional, kept in order */
	}
	min = l->op ? 1 + l->op->operands : l->cmd->min_args;
	max = l->op ? min : l->cmd->max_args;
	if (l->nr_args < min || l->nr_args > max) {
		command_usage(l->cmd, l->op, usage, sizeof(usage));
		return usage_error(l, "wrong number of arguments (usage: katomic %s)",
				   usage);
	}
	return EXIT_OK;
}

/* Why opening the device may have failed, for the error line. */
static const char *open_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return ": is the katomic module loaded?";
	case -EACCES:
		return ": its mode is the module's devmode parameter (default 0600, root only):"
		       " run as root, or load the module with e.g. devmode=0666";
	default:
		return "";
	}
}

static int open_handle(struct cli *c)
{
	const char *what = c->twin ? "twin" : c->device ? c->device : "/dev/katomic";
	const struct katomic_twin_params twin = {
		.nr_counters = TWIN_COUNTERS,
		.nr_slots = TWIN_SLOTS,
		.value_max = TWIN_VALUE_MAX,
	};
	int ret;

	ret = c->twin ? katomic_twin_create(&twin, &c->k)
		      : katomic_open(c->device, &c->k);
	if (!ret)
		ret = katomic_info(c->k, &c->info);
	if (ret) {
		fprintf(stderr, "katomic: %s: %s (%s)%s\n", what,
			ret == -EPROTO ? "ABI version mismatch" : strerror(-ret),
			katomic_errno_name(ret), c->twin ? "" : open_hint(ret));
		katomic_close(c->k);
		c->k = NULL;
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	struct cli c = { 0 };
	struct cmdline *lines;
	int first = 0, start, end, nr_lines = 0, op_nr, i, ret;
	bool help = false;

	ret = parse_globals(&c, argc, argv, &first, &help);
	if (ret)
		return ret;
	if (help) {
		print_usage();
		return EXIT_OK;
	}
	if (first >= argc)
		return usage_error(NULL, "missing command (try katomic --help)");
	cmd = find_command(argv[first], &op_nr);
	if (cmd && cmd->main) {
		if (c.twin || c.hex)
			return usage_error(NULL, "%s takes no --twin or --hex (user:KIND targets run on twins)",
					   cmd->name);
		return cmd->main(argc - first, argv + first, c.device,
				 open_hint);
	}
	lines = calloc(argc, sizeof(*lines));
	if (!lines)
		return EXIT_FAILED;
	/*
	 * Check the names, options and argument counts of the whole chain
	 * before anything runs.  Values are parsed when their command runs:
	 * they must fit the counter's type, which only a QUERY then tells.
	 */
	for (start = first; start <= argc; start = end + 1) {
		for (end = start; end < argc && strcmp(argv[end], ","); end++)
			;
		if (end == start) {
			ret = usage_error(NULL, "empty command in the chain");
			goto out;
		}
		ret = parse_line(&c, argv + start, end - start, &lines[nr_lines++]);
		if (ret)
			goto out;
	}
	for (i = 0; i < nr_lines && !ret; i++) {
		if (lines[i].cmd->needs_handle && !c.k)
			ret = open_handle(&c);
		if (!ret)
			ret = lines[i].cmd->run(&c, &lines[i]);
	}
out:
	katomic_close(c.k);
	for (i = 0; i < nr_lines; i++)
		value_free(lines[i].value);
	free(lines);
	return ret;
}
