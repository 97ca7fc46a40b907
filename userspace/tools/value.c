// SPDX-License-Identifier: GPL-2.0
/*
 * katomic value: Go's atomic.Value slots from the shell, as commands of the
 * katomic chain.  define, undefine, query and list are written here; the
 * value ops (load, store, swap, cas) come from KATOMIC_VOP_TABLE, each
 * described by its shape: whether it stores a new value, compares with an
 * expected one, returns a value, reports applied.  One function runs them
 * all, one explains their errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katomic.h"
#include "options.h"
#include "value.h"

#define NAME_LEN	32

/* "katomic: value store: ..." about command v, or in context x. */
#define usage_error(v, ...)	report(EXIT_USAGE, (v)->name, NULL, __VA_ARGS__)
#define fail(x, ...)		report(EXIT_FAILED, (x)->v->name, NULL, __VA_ARGS__)
#define HELP_COLUMN	40
#define DEFAULT_TAG	1

/* The options of the value commands; each subcommand takes some. */
enum { OPT_SYNC, OPT_TAG, OPT_FILE, OPT_STDIN, OPT_OLD_TAG, OPT_OLD_FILE,
       OPT_OLD_EMPTY, OPT_RAW, OPT_HEX, OPT_TEXT, OPT_MAX, NR_OPTS };
static const struct option_spec options[NR_OPTS] = {
	[OPT_SYNC] = { "--sync", true },
	[OPT_TAG] = { "--tag", true },
	[OPT_FILE] = { "--file", true },
	[OPT_STDIN] = { "--stdin", false },
	[OPT_OLD_TAG] = { "--old-tag", true },
	[OPT_OLD_FILE] = { "--old-file", true },
	[OPT_OLD_EMPTY] = { "--old-empty", false },
	[OPT_RAW] = { "--raw", false },
	[OPT_HEX] = { "--hex", false },
	[OPT_TEXT] = { "--text", false },
	[OPT_MAX] = { "--max", true },
};
#define BIT(opt)	(1U << (opt))
#define OPTS_FORMAT	(BIT(OPT_HEX) | BIT(OPT_TEXT))

/* A value op's shape, and the options and arguments that come with it. */
enum {
	SHAPE_NEW = 1,		/* stores a new value */
	SHAPE_OLD = 2,		/* compares with an expected value */
	SHAPE_OUT = 4,		/* returns a value */
	SHAPE_APPLIED = 8,	/* reports whether it swapped */
};
#define SHAPE_LOAD	SHAPE_OUT
#define SHAPE_STORE	SHAPE_NEW
#define SHAPE_SWAP	(SHAPE_NEW | SHAPE_OUT)
#define SHAPE_CAS	(SHAPE_NEW | SHAPE_OLD | SHAPE_APPLIED)
#define SHAPE_OPTS(s)							\
	(((s) & SHAPE_NEW ? BIT(OPT_TAG) | BIT(OPT_FILE) | BIT(OPT_STDIN) : 0) | \
	 ((s) & SHAPE_OLD ? BIT(OPT_OLD_TAG) | BIT(OPT_OLD_FILE) |	\
			    BIT(OPT_OLD_EMPTY) : 0) |			\
	 ((s) & SHAPE_OUT ? BIT(OPT_RAW) | OPTS_FORMAT | BIT(OPT_MAX) : 0))

/* Each value op in one line, Go's way. */
#define DOC_LOAD	"return v (tag 0 len 0: nil, never stored)"
#define DOC_STORE	"v = (tag, value); the first store fixes the tag"
#define DOC_SWAP	"old = v; v = (tag, value); return old"
#define DOC_CAS		"if v == (old-tag, OLD) { v = (tag, NEW) }; return swapped"

enum { FMT_AUTO, FMT_RAW, FMT_HEX, FMT_TEXT };

/* Where a value comes from. */
struct source {
	const char *text;	/* an argument: its bytes */
	const char *file;	/* --file, --old-file */
	bool stdin;		/* --stdin */
	bool empty;		/* --old-empty: nil */
};

struct ctx;

struct value_sub {
	const char *name;
	unsigned int vop;	/* KATOMIC_VOP_*, 0 if not a value op */
	unsigned int shape;
	unsigned int opts;	/* BIT()s of the options it takes */
	int nr_args;		/* positional (value ops: ID, then the shape's) */
	const char *args;	/* usage after the name (value ops: built) */
	const char *help;
	int (*run)(const struct ctx *x);
};

struct value_cmd {
	const struct value_sub *sub;
	char name[NAME_LEN];	/* "value store", for messages */
	__u32 id;
	unsigned int sync;	/* define */
	__u32 tag, old_tag;
	struct source new, old;
	int format;
	bool has_max;
	__u32 max;		/* --max: the output's capacity */
};

/* What a command runs with. */
struct ctx {
	const struct value_cmd *v;
	struct katomic *k;
	const struct katomic_info *info;
};

/* A value's bytes, read. */
struct bytes {
	unsigned char *data;	/* malloc'ed, never NULL once read */
	size_t len;
	bool more;		/* the source had more than len bytes */
};

static int run_define(const struct ctx *x);
static int run_undefine(const struct ctx *x);
static int run_query(const struct ctx *x);
static int run_list(const struct ctx *x);
static int run_op(const struct ctx *x);

#define VOP_SUB(NAME, nr, name)						\
	{ #name, nr, SHAPE_##NAME, SHAPE_OPTS(SHAPE_##NAME), -1, NULL,	\
	  DOC_##NAME, run_op },
static const struct value_sub subs[] = {
	{ "define", 0, 0, BIT(OPT_SYNC), 1, "ID [--sync KIND]",
	  "give slot ID a kind (default rcu); it holds nil", run_define },
	{ "undefine", 0, 0, 0, 1, "ID", "make slot ID undefined",
	  run_undefine },
	{ "query", 0, 0, 0, 1, "ID", "print the slot's KIND", run_query },
	{ "list", 0, 0, OPTS_FORMAT, 0, "[--hex | --text]",
	  "print ID KIND and the value of every defined slot", run_list },
	KATOMIC_VOP_TABLE(VOP_SUB)
};
#undef VOP_SUB
#define NR_SUBS		(sizeof(subs) / sizeof(subs[0]))

/* Only one command of a chain can read stdin. */
static bool stdin_claimed;

/* Usage --------------------------------------------------------------- */

/* "cas ID [--old-tag T] (OLD | --old-file F | --old-empty) ..." */
static void sub_usage(const struct value_sub *s, char *buf, size_t size)
{
	unsigned int sh = s->shape;

	if (!s->vop) {
		snprintf(buf, size, "%s%s%s", s->name, *s->args ? " " : "",
			 s->args);
		return;
	}
	snprintf(buf, size, "%s ID%s%s%s%s", s->name,
		 sh & SHAPE_OLD ? " [--old-tag T] (OLD | --old-file F | --old-empty)" : "",
		 sh & SHAPE_NEW ? " [--tag T]" : "",
		 sh & SHAPE_NEW ? (sh & SHAPE_OLD ? " (NEW | --file F | --stdin)" :
				   " (VALUE | --file F | --stdin)") : "",
		 sh & SHAPE_OUT ? " [--raw | --hex | --text] [--max BYTES]" : "");
}

static void print_sub(FILE *f, const struct value_sub *s)
{
	char usage[160];
	int col;

	sub_usage(s, usage, sizeof(usage));
	col = fprintf(f, "  value %s", usage);
	if (col >= HELP_COLUMN - 1) {
		fputc('\n', f);
		col = 0;
	}
	fprintf(f, "%*s%s\n", HELP_COLUMN - col, "", s->help);
}

static void print_slot_kinds(FILE *f)
{
	fprintf(f, " %s %s %s", katomic_sync_name(KATOMIC_SYNC_NONE),
		katomic_sync_name(KATOMIC_SYNC_RCU),
		katomic_sync_name(KATOMIC_SYNC_SEQLOCK));
}

void value_usage(FILE *f)
{
	size_t i;

	fputs("usage: katomic [--device PATH | --twin] [--hex] value SUBCOMMAND [ARG]... [, ...]\n"
	      "\n"
	      "Go's atomic.Value on the value slots of /dev/katomic (or PATH, or of the\n"
	      "twin): a slot holds nil or one value, a non-zero TAG (its type) and up to\n"
	      "value_max bytes.  The first store fixes the slot's tag; a store of\n"
	      "another tag, of tag 0 or of no bytes (Go's Store(nil)) is refused.\n"
	      "The value commands chain with the others:\n"
	      "  katomic --twin value define 0 --sync seqlock , value store 0 --tag 7 hi , value load 0\n"
	      "\n"
	      "subcommands:\n", f);
	for (i = 0; i < NR_SUBS; i++)
		print_sub(f, &subs[i]);
	fputs("\nKIND:", f);
	print_slot_kinds(f);
	fprintf(f, "\n"
"\n"
"VALUE, OLD and NEW are taken as their bytes (after a lone --, even if\n"
"they begin with --); --file F and --old-file F read a file's, --stdin\n"
"standard input's (one command of a chain only).\n"
"--tag T is the new value's tag (default %d); --old-tag T the expected\n"
"value's (default: --tag's); --old-empty expects nil.  ID and tags are\n"
"numbers in 0..4294967295.\n"
"\n"
"Output, one line each:\n"
"  load, swap, list  tag T len N version V FORMAT BYTES\n"
"                    (swap: the old value, and the version after the swap)\n"
"                    FORMAT is text (the bytes, \\\\ for a backslash, \\xNN\n"
"                    for a byte outside 0x20..0x7e), hex (two digits a\n"
"                    byte) or nil (tag 0 len 0, nothing follows).  The\n"
"                    default is text if every byte is printable, else hex;\n"
"                    --text, --hex (or katomic --hex) choose.  --raw writes\n"
"                    exactly the value's bytes and nothing else.\n"
"  store             version V\n"
"  cas               applied version V, or not-applied version V\n"
"  query             KIND\n"
"version counts the slot's successful stores.  --max BYTES is the room for\n"
"the value loaded (default value_max): a longer one fails with ERANGE and\n"
"the length it needs.\n"
"\n"
"Exit status: 0 ok, 1 an operation failed, 2 usage error.\n", DEFAULT_TAG);
}

/* Parsing ------------------------------------------------------------- */

static const struct value_sub *find_sub(const char *name)
{
	size_t i;

	for (i = 0; i < NR_SUBS; i++)
		if (!strcmp(name, subs[i].name))
			return &subs[i];
	return NULL;
}

static int parse_u32(const struct value_cmd *v, const char *what,
		     const char *s, __u32 *out)
{
	uint64_t n = 0;
	int ret = option_uint(v->name, what, s, 0, UINT32_MAX, &n);

	*out = n;
	return ret;
}

static int set_format(struct value_cmd *v, bool *chosen, int format)
{
	if (*chosen && v->format != format)
		return usage_error(v, "--raw, --hex and --text exclude each other");
	*chosen = true;
	v->format = format;
	return EXIT_OK;
}

static int set_option(struct value_cmd *v, int opt, const char *val,
		      bool *format_chosen, bool *old_tag)
{
	int sync;

	switch (opt) {
	case OPT_SYNC:
		sync = katomic_sync_parse(val);
		if (sync < 0) {
			fprintf(stderr, "katomic: %s: unknown sync kind '%s' (slot kinds:",
				v->name, val);
			print_slot_kinds(stderr);
			fputs(")\n", stderr);
			return EXIT_USAGE;
		}
		v->sync = sync;
		return EXIT_OK;
	case OPT_TAG:
		return parse_u32(v, "--tag", val, &v->tag);
	case OPT_FILE:
		v->new.file = val;
		return EXIT_OK;
	case OPT_STDIN:
		v->new.stdin = true;
		return EXIT_OK;
	case OPT_OLD_TAG:
		*old_tag = true;
		return parse_u32(v, "--old-tag", val, &v->old_tag);
	case OPT_OLD_FILE:
		v->old.file = val;
		return EXIT_OK;
	case OPT_OLD_EMPTY:
		v->old.empty = true;
		return EXIT_OK;
	case OPT_RAW:
		return set_format(v, format_chosen, FMT_RAW);
	case OPT_HEX:
		return set_format(v, format_chosen, FMT_HEX);
	case OPT_TEXT:
		return set_format(v, format_chosen, FMT_TEXT);
	default:
		v->has_max = true;
		return parse_u32(v, "--max", val, &v->max);
	}
}

/* The options that exclude each other, and the one reader of stdin. */
static int check_sources(struct value_cmd *v, bool old_tag)
{
	if (v->new.file && v->new.stdin)
		return usage_error(v, "--file and --stdin exclude each other");
	if (v->old.empty && (v->old.file || old_tag))
		return usage_error(v, "--old-empty excludes --old-tag and --old-file");
	if (v->new.stdin) {
		if (stdin_claimed)
			return usage_error(v, "--stdin: another command of the chain reads stdin");
		stdin_claimed = true;
	}
	return EXIT_OK;
}

/* The positional arguments: ID, then OLD and NEW where no option gave them. */
static int take_args(struct value_cmd *v, char **args, int nr)
{
	const struct value_sub *s = v->sub;
	bool old = s->shape & SHAPE_OLD && !v->old.file && !v->old.empty;
	bool new = s->shape & SHAPE_NEW && !v->new.file && !v->new.stdin;
	int want = s->vop ? 1 + old + new : s->nr_args, i = 1;
	char usage[160];

	if (nr != want) {
		sub_usage(s, usage, sizeof(usage));
		return usage_error(v, "wrong number of arguments (usage: katomic value %s)",
				   usage);
	}
	if (old)
		v->old.text = args[i++];
	if (new)
		v->new.text = args[i++];
	return nr ? parse_u32(v, "id", args[0], &v->id) : EXIT_OK;
}

int value_parse(char **tok, int n, bool hex, struct value_cmd **out)
{
	bool format_chosen = false, old_tag = false;
	struct value_cmd *v;
	char **args;
	int i, opt, nr = 0, ret;
	const char *val;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	args = calloc(n, sizeof(*args));
	if (!v || !args) {
		free(args);
		free(v);
		return report(EXIT_FAILED, "value", NULL, "no memory");
	}
	snprintf(v->name, sizeof(v->name), "value");
	ret = EXIT_USAGE;
	if (n < 2) {
		usage_error(v, "missing subcommand (try katomic help value)");
		goto out;
	}
	v->sub = find_sub(tok[1]);
	if (!v->sub) {
		usage_error(v, "unknown subcommand '%s' (try katomic help value)",
			    tok[1]);
		goto out;
	}
	snprintf(v->name, sizeof(v->name), "value %s", v->sub->name);
	v->format = hex ? FMT_HEX : FMT_AUTO;
	v->tag = DEFAULT_TAG;
	for (i = 2, ret = EXIT_OK; i < n && !ret; i++) {
		if (!strcmp(tok[i], "--")) {	/* the rest are arguments */
			while (++i < n)
				args[nr++] = tok[i];
			break;
		}
		opt = option_match(n, tok, &i, options, NR_OPTS, &val);
		if (opt >= 0 && !(v->sub->opts & BIT(opt)))
			ret = usage_error(v, "%s is not an option of value %s",
					  options[opt].name, v->sub->name);
		else if (opt >= 0 && options[opt].valued && !val)
			ret = usage_error(v, "%s needs a value", tok[i]);
		else if (opt >= 0)
			ret = set_option(v, opt, val, &format_chosen, &old_tag);
		else if (!strncmp(tok[i], "--", 2) && tok[i][2])
			ret = usage_error(v, "unknown option '%s'", tok[i]);
		else
			args[nr++] = tok[i];
	}
	if (!ret && !old_tag)
		v->old_tag = v->tag;
	if (!ret)
		ret = check_sources(v, old_tag);
	if (!ret)
		ret = take_args(v, args, nr);
out:
	free(args);
	if (ret)
		free(v);
	else
		*out = v;
	return ret;
}

void value_free(struct value_cmd *v)
{
	free(v);
}

/* Errors -------------------------------------------------------------- */

/* The slot's tag, by a LOAD: 0 if it cannot tell. */
static __u32 slot_tag(const struct ctx *x)
{
	struct katomic_value_op vop = {
		.id = x->v->id,
		.op = KATOMIC_VOP_LOAD,
		.out_len = x->info->value_max,
	};
	void *buf = malloc(x->info->value_max + 1);

	vop.out = (uintptr_t)buf;
	if (!buf || katomic_value_op(x->k, &vop) < 0)
		vop.out_tag = 0;
	free(buf);
	return vop.out_tag;
}

/* Which of the op's EINVAL rules was broken (notes/values.md's order). */
static int explain_einval(const struct ctx *x,
			  const struct katomic_value_op *vop)
{
	const struct value_cmd *v = x->v;
	__u32 id = v->id, fixed;

	if (vop->tag == 0)
		return fail(x, "slot %u: tag 0 is nil: a value needs a non-zero tag (EINVAL)",
			    id);
	if (vop->len == 0)
		return fail(x, "slot %u: an empty value is nil: Go's Store(nil) is refused (EINVAL)",
			    id);
	if (v->sub->shape & SHAPE_OLD && !vop->out_tag != !vop->out_len)
		return fail(x, vop->out_tag ?
			    "slot %u: an expected value without bytes is nil: use --old-empty (EINVAL)" :
			    "slot %u: --old-tag 0 is nil, which has no bytes: use --old-empty (EINVAL)",
			    id);
	fixed = slot_tag(x);
	if (fixed && fixed != vop->tag)
		return fail(x, "slot %u: tag %u refused: the first store fixed the slot's tag at %u (EINVAL)",
			    id, vop->tag, fixed);
	return fail(x, "slot %u: %s (EINVAL)", id, katomic_strerror(-EINVAL));
}

/*
 * One line on what err (from the command's call on slot id) means; vop
 * is the value op, or NULL.  new and old: the values it stored and
 * expected, or NULL.  Returns EXIT_FAILED.
 */
static int slot_error(const struct ctx *x, __u32 id, int err,
		      const struct katomic_value_op *vop,
		      const struct bytes *new, const struct bytes *old)
{
	const struct katomic_info *info = x->info;
	const struct value_cmd *v = x->v;
	const struct bytes *big;

	if (err == -EINVAL && id >= info->nr_slots)
		return fail(x, "slot %u is out of range, the context has %u (EINVAL)",
			    id, info->nr_slots);
	if (err == -EOPNOTSUPP && !(info->features & KATOMIC_FEAT_VALUES))
		return fail(x, "value slots are not supported here (EOPNOTSUPP)");
	if (err == -EOPNOTSUPP && v->sub->run == run_define)
		return fail(x, "%s is a counter kind, not a slot kind (EOPNOTSUPP)",
			    katomic_sync_name(v->sync));
	if (err == -ERANGE && vop)
		return fail(x, v->has_max ?
			    "slot %u: the value needs %u byte%s, more than --max %u (ERANGE)" :
			    "slot %u: the value needs %u byte%s, more than the buffer's %u (ERANGE)",
			    id, vop->out_len, vop->out_len == 1 ? "" : "s",
			    v->has_max ? v->max : info->value_max);
	if (err == -E2BIG && vop) {
		big = new && new->len > info->value_max ? new : old;
		if (big)
			return fail(x, "slot %u: %s of %s%zu bytes is over value_max %u (E2BIG)",
				    id, big == new ? "a value" :
				    "the expected value",
				    big->more ? "more than " : "",
				    big->more ? (size_t)info->value_max :
				    big->len, info->value_max);
	}
	if (err == -EINVAL && vop && v->sub->shape & SHAPE_NEW)
		return explain_einval(x, vop);
	return fail(x, "slot %u: %s (%s)", id, katomic_strerror(err),
		    katomic_errno_name(err));
}

/* Values in and out --------------------------------------------------- */

/* Reads fd into b, at most limit bytes (b->more if there were more). */
static int read_fd(int fd, size_t limit, struct bytes *b)
{
	ssize_t n;

	b->data = malloc(limit + 1);
	if (!b->data)
		return -ENOMEM;
	while (b->len < limit) {
		n = read(fd, b->data + b->len, limit - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		b->len += n;
	}
	b->more = true;
	return 0;
}

/*
 * A value's bytes from s.  Reading stops after value_max + 1 bytes:
 * enough for the op to refuse it with E2BIG.
 */
static int read_source(const struct ctx *x, const struct source *s,
		       struct bytes *b)
{
	size_t limit = (size_t)x->info->value_max + 1;
	const char *path = s->stdin ? "stdin" : s->file;
	int fd, ret;

	*b = (struct bytes){ 0 };
	if (s->text || s->empty) {
		b->len = s->text ? strlen(s->text) : 0;
		b->data = malloc(b->len + 1);
		if (!b->data)
			return fail(x, "no memory for %zu bytes", b->len);
		memcpy(b->data, s->text ? s->text : "", b->len);
		return EXIT_OK;
	}
	fd = s->stdin ? STDIN_FILENO : open(s->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(x, "%s: %s", path, strerror(errno));
	ret = read_fd(fd, limit, b);
	if (!s->stdin)
		close(fd);
	if (ret)
		return fail(x, "%s: %s", path, strerror(-ret));
	return EXIT_OK;
}

static bool printable(const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			return false;
	return true;
}

/* "tag T len N version V FORMAT BYTES", or with --raw the bytes alone. */
static void print_value(const struct value_cmd *v, __u32 tag,
			const unsigned char *b, __u32 len, __u64 version)
{
	int format = v->format;
	__u32 i;

	if (format == FMT_RAW) {
		fwrite(b, 1, len, stdout);
		return;
	}
	printf("tag %u len %u version %llu ", tag, len,
	       (unsigned long long)version);
	if (!tag) {
		puts("nil");
		return;
	}
	if (format == FMT_AUTO)
		format = printable(b, len) ? FMT_TEXT : FMT_HEX;
	fputs(format == FMT_TEXT ? "text " : "hex ", stdout);
	for (i = 0; i < len; i++) {
		if (format == FMT_HEX)
			printf("%02x", b[i]);
		else if (b[i] == '\\')
			fputs("\\\\", stdout);
		else if (b[i] >= 0x20 && b[i] <= 0x7e)
			putchar(b[i]);
		else
			printf("\\x%02x", b[i]);
	}
	putchar('\n');
}

/* The commands -------------------------------------------------------- */

static int run_define(const struct ctx *x)
{
	int ret = katomic_value_define(x->k, x->v->id, x->v->sync);

	return ret ? slot_error(x, x->v->id, ret, NULL, NULL, NULL) : EXIT_OK;
}

static int run_undefine(const struct ctx *x)
{
	int ret = katomic_value_undefine(x->k, x->v->id);

	return ret ? slot_error(x, x->v->id, ret, NULL, NULL, NULL) : EXIT_OK;
}

static int run_query(const struct ctx *x)
{
	unsigned int sync;
	int ret = katomic_value_query(x->k, x->v->id, &sync);

	if (ret)
		return slot_error(x, x->v->id, ret, NULL, NULL, NULL);
	printf("%s\n", katomic_sync_name(sync));
	return EXIT_OK;
}

static int run_list(const struct ctx *x)
{
	struct katomic_value_op vop;
	unsigned char *buf;
	unsigned int sync;
	int ret = 0;
	__u32 id;

	buf = malloc(x->info->value_max + 1);
	if (!buf)
		return fail(x, "no memory for %u bytes", x->info->value_max);
	for (id = 0; id < x->info->nr_slots && ret >= 0; id++) {
		ret = katomic_value_query(x->k, id, &sync);
		vop = (struct katomic_value_op){
			.id = id,
			.op = KATOMIC_VOP_LOAD,
			.out = (uintptr_t)buf,
			.out_len = x->info->value_max,
		};
		if (!ret)
			ret = katomic_value_op(x->k, &vop);
		if (ret == -ENOENT) {	/* undefined (meanwhile) */
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		printf("%u %s ", id, katomic_sync_name(sync));
		print_value(x->v, vop.out_tag, buf, vop.out_len, vop.version);
	}
	free(buf);
	return ret < 0 ? slot_error(x, id, ret, NULL, NULL, NULL) : EXIT_OK;
}

/* Every value op: its values in, the op, its result out. */
static int run_op(const struct ctx *x)
{
	const struct value_cmd *v = x->v;
	unsigned int shape = v->sub->shape;
	struct katomic_value_op vop = { .id = v->id, .op = v->sub->vop };
	struct bytes new = { 0 }, old = { 0 };
	unsigned char *out = NULL;
	__u32 cap = 0;
	int ret;

	if (shape & SHAPE_NEW) {
		ret = read_source(x, &v->new, &new);
		if (ret)
			goto out;
		vop.tag = v->tag;
		vop.len = new.len;
		vop.buf = (uintptr_t)new.data;
	}
	if (shape & SHAPE_OLD) {
		ret = read_source(x, &v->old, &old);
		if (ret)
			goto out;
		vop.out_tag = v->old.empty ? 0 : v->old_tag;
		vop.out_len = old.len;
		vop.out = (uintptr_t)old.data;
	}
	if (shape & SHAPE_OUT) {
		cap = v->has_max ? v->max : x->info->value_max;
		out = malloc((size_t)cap + 1);
		if (!out) {
			ret = fail(x, "no memory for %u bytes", cap);
			goto out;
		}
		vop.out_len = cap;
		vop.out = (uintptr_t)out;
	}
	ret = katomic_value_op(x->k, &vop);
	if (ret < 0) {
		ret = slot_error(x, v->id, ret, &vop, shape & SHAPE_NEW ? &new : NULL,
				 shape & SHAPE_OLD ? &old : NULL);
		goto out;
	}
	if (shape & SHAPE_OUT)
		print_value(v, vop.out_tag, out, vop.out_len, vop.version);
	else if (shape & SHAPE_APPLIED)
		printf("%s version %llu\n", ret ? "applied" : "not-applied",
		       (unsigned long long)vop.version);
	else
		printf("version %llu\n", (unsigned long long)vop.version);
	ret = EXIT_OK;
out:
	free(out);
	free(old.data);
	free(new.data);
	return ret;
}

int value_run(const struct value_cmd *v, struct katomic *k,
	      const struct katomic_info *info)
{
	const struct ctx x = { v, k, info };

	return v->sub->run(&x);
}
