// SPDX-License-Identifier: GPL-2.0
/*
 * katomic bench: the statistics, the checks of a finished matrix and the
 * outputs (bench.h).  Nothing here runs a thread or opens the device, so
 * that the host tests can drive all of it with results of their own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "crew.h"
#include "options.h"

#define CMD		"bench"
#define CSV_MAGIC	"# katomic bench results"
#define CSV_HEADER	"path,batch,threads,placement,op,runs,ns_med,ns_min,ns_max,mops_med,mops_min,mops_max,lost_pct,vs_nop,vs_c11,skipped"
#define CSV_FIELDS	16

const char *const bench_op_names[BENCH_NR_OPS] = {
	[BENCH_ADD] = "add",
	[BENCH_CAS_LOOP] = "cas-loop",
	[BENCH_LOAD] = "load",
};

const char *const bench_place_names[BENCH_NR_PLACES] = {
	[BENCH_SHARED] = "shared",
	[BENCH_PADDED] = "padded",
	[BENCH_ADJACENT] = "adjacent",
};

/* Statistics ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_stats(const double *v, unsigned int n, struct bench_stat *s)
{
	double sorted[BENCH_MAX_RUNS];

	*s = (struct bench_stat){ 0 };
	if (!n || n > BENCH_MAX_RUNS)
		return;
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->med = n % 2 ? sorted[n / 2] :
		 (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

struct bench_row *bench_add_row(struct bench_result *r)
{
	struct bench_row *rows, *row;
	unsigned int cap;

	if (r->nr == r->cap) {
		cap = r->cap ? 2 * r->cap : 64;
		rows = realloc(r->rows, cap * sizeof(*rows));
		if (!rows)
			return NULL;
		r->rows = rows;
		r->cap = cap;
	}
	row = &r->rows[r->nr++];
	*row = (struct bench_row){ .place = -1, .op = -1, .lost = -1 };
	return row;
}

void bench_free(struct bench_result *r)
{
	free(r->rows);
	r->rows = NULL;
	r->nr = r->cap = 0;
}

static bool measured(const struct bench_row *row)
{
	return !row->reason[0];
}

/* The measured row of path at threads, place and op; NULL if none. */
static const struct bench_row *find_row(const struct bench_result *r,
					const char *path, unsigned int threads,
					int place, int op)
{
	unsigned int i;

	for (i = 0; i < r->nr; i++) {
		const struct bench_row *row = &r->rows[i];

		if (measured(row) && !strcmp(row->path, path) &&
		    row->threads == threads && row->place == place &&
		    row->op == op)
			return row;
	}
	return NULL;
}

static double ratio(const struct bench_row *row, const struct bench_row *ref)
{
	return ref && ref->ns.med > 0 ? row->ns.med / ref->ns.med : 0;
}

void bench_ratios(struct bench_result *r)
{
	const struct bench_row *nop, *c11;
	struct bench_row *row;
	unsigned int i;

	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		if (!measured(row))
			continue;
		nop = find_row(r, "kernel:nop", row->threads, -1, -1);
		c11 = find_row(r, "user:c11", row->threads,
			       row->place < 0 ? BENCH_SHARED : row->place,
			       row->op < 0 ? BENCH_ADD : row->op);
		row->vs_nop = ratio(row, nop);
		row->vs_c11 = ratio(row, c11);
	}
}

/* Checks -------------------------------------------------------------- */

const char *bench_check_values(int op, unsigned int nr_threads,
			       const uint64_t *done, unsigned int nr_values,
			       const uint64_t *values, uint64_t init,
			       char *buf, size_t len)
{
	uint64_t want, sum = 0;
	unsigned int i;

	for (i = 0; i < nr_threads; i++)
		sum += done[i];
	if (nr_values != 1 && nr_values != nr_threads) {
		snprintf(buf, len, "%u values for %u threads", nr_values,
			 nr_threads);
		return buf;
	}
	for (i = 0; i < nr_values; i++) {
		want = init;
		if (op != BENCH_LOAD)
			want += nr_values == 1 ? sum : done[i];
		if (values[i] == want)
			continue;
		if (op == BENCH_LOAD)
			snprintf(buf, len,
				 "loads changed counter %u: %llu, not %llu", i,
				 (unsigned long long)values[i],
				 (unsigned long long)want);
		else
			snprintf(buf, len,
				 "counter %u is %llu after %llu ops from %llu (%lld lost)",
				 i, (unsigned long long)values[i],
				 (unsigned long long)(want - init),
				 (unsigned long long)init,
				 (long long)(want - values[i]));
		return buf;
	}
	return NULL;
}

double bench_lost_share(unsigned int nr_threads, const uint64_t *done,
			unsigned int nr_values, const uint64_t *values,
			uint64_t init)
{
	uint64_t expected = 0, got = 0;
	unsigned int i;

	for (i = 0; i < nr_threads; i++)
		expected += done[i];
	for (i = 0; i < nr_values; i++)
		got += values[i] - init;
	return expected ? 100.0 * ((double)expected - (double)got) /
			  (double)expected : 0;
}

const char *bench_check_floor(const struct bench_result *r, char *buf,
			      size_t len)
{
	const struct bench_row *row, *nop;
	char name[128];
	unsigned int i;
	int flags;

	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		flags = bench_path_flags(row->path);
		if (!measured(row) || flags < 0 ||
		    !(flags & BENCH_ONE_PER_CALL) || row->batch > 1)
			continue;
		nop = find_row(r, "kernel:nop", row->threads, -1, -1);
		if (!nop || nop == row ||
		    row->ns.max * (1 + BENCH_NOISE) >= nop->ns.min)
			continue;
		bench_row_name(row, name, sizeof(name));
		snprintf(buf, len,
			 "%s: impossible: %.4g ns/op at most, well below the NOP ioctl's %.4g ns at least",
			 name, row->ns.max, nop->ns.min);
		return buf;
	}
	return NULL;
}

void bench_row_name(const struct bench_row *row, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", row->path);

	if (row->batch && n < (int)len)
		n += snprintf(buf + n, len - n, " B=%u", row->batch);
	if (row->threads && n < (int)len)
		n += snprintf(buf + n, len - n, " %u thread%s", row->threads,
			      row->threads == 1 ? "" : "s");
	if (row->place >= 0 && n < (int)len)
		n += snprintf(buf + n, len - n, " %s",
			      bench_place_names[row->place]);
	if (row->op >= 0 && n < (int)len)
		snprintf(buf + n, len - n, " %s", bench_op_names[row->op]);
}

/* The table ----------------------------------------------------------- */

static void print_ratio(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, " %8.3g", v);
	else
		fprintf(f, " %8s", "-");
}

static void print_skipped(FILE *f, const struct bench_result *r)
{
	const struct bench_row *row, *other;
	unsigned int i, j, k, n;
	bool seen;

	/* One line per reason: the paths it skips, the cells' number. */
	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		if (measured(row))
			continue;
		for (seen = false, j = 0; j < i && !seen; j++)
			seen = !measured(&r->rows[j]) &&
			       !strcmp(r->rows[j].reason, row->reason);
		if (seen)
			continue;
		fprintf(f, "  skipped:");
		for (n = 0, j = i; j < r->nr; j++) {
			other = &r->rows[j];
			if (measured(other) || strcmp(other->reason, row->reason))
				continue;
			n++;
			for (seen = false, k = i; k < j && !seen; k++)
				seen = !measured(&r->rows[k]) &&
				       !strcmp(r->rows[k].reason, row->reason) &&
				       !strcmp(r->rows[k].path, other->path);
			if (!seen)
				fprintf(f, " %s", other->path);
		}
		fprintf(f, " (%u cell%s): %s\n", n, n == 1 ? "" : "s",
			row->reason);
	}
}

void bench_print_table(FILE *f, const struct bench_result *r)
{
	const struct bench_meta *m = &r->meta;
	const struct bench_row *row;
	unsigned int i;

	fprintf(f, "katomic bench: %s, Linux %s, %u CPUs, %s%s%s\n",
		m->machine, m->kernel, m->cpus, m->date,
		m->commit[0] ? ", commit " : "", m->commit);
	fprintf(f, "%u runs of %g s per cell%s, median [min, max]; ns/op per thread, Mops/s of all threads;\n"
		"xNOP, xC11: ns/op over the NOP ioctl's and over user:c11's (same threads, placement, op)\n",
		m->runs, m->seconds, m->pin ? ", pinned" : "");
	fprintf(f, "%-15s %4s %3s %-8s %-8s %9s %9s %9s %9s %9s %9s %8s %8s %7s\n",
		"path", "B", "thr", "place", "op", "ns/op", "min", "max",
		"Mops/s", "min", "max", "xNOP", "xC11", "lost%");
	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		if (!measured(row))
			continue;
		fprintf(f, "%-15s ", row->path);
		if (row->batch)
			fprintf(f, "%4u", row->batch);
		else
			fprintf(f, "%4s", "-");
		fprintf(f, " %3u %-8s %-8s %9.4g %9.4g %9.4g %9.4g %9.4g %9.4g",
			row->threads,
			row->place < 0 ? "-" : bench_place_names[row->place],
			row->op < 0 ? "-" : bench_op_names[row->op],
			row->ns.med, row->ns.min, row->ns.max, row->mops.med,
			row->mops.min, row->mops.max);
		print_ratio(f, row->vs_nop);
		print_ratio(f, row->vs_c11);
		if (row->lost >= 0)
			fprintf(f, " %6.2f%%\n", row->lost);
		else
			fprintf(f, " %7s\n", "-");
	}
	print_skipped(f, r);
}

/* CSV ------------------------------------------------------------------ */

static void csv_value(FILE *f, double v, bool known)
{
	if (known)
		fprintf(f, ",%.6g", v);
	else
		fputs(",-", f);
}

void bench_write_csv(FILE *f, const struct bench_result *r)
{
	const struct bench_meta *m = &r->meta;
	const struct bench_row *row;
	const char *c;
	unsigned int i;

	fprintf(f, CSV_MAGIC "\n# machine: %s\n# kernel: %s\n# cpus: %u\n"
		"# date: %s\n# commit: %s\n# seconds: %.6g\n# runs: %u\n"
		"# pin: %d\n" CSV_HEADER "\n",
		m->machine, m->kernel, m->cpus, m->date, m->commit, m->seconds,
		m->runs, m->pin);
	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		fprintf(f, "%s,%u,%u,%s,%s,%u", row->path, row->batch,
			row->threads,
			row->place < 0 ? "-" : bench_place_names[row->place],
			row->op < 0 ? "-" : bench_op_names[row->op], row->runs);
		csv_value(f, row->ns.med, measured(row));
		csv_value(f, row->ns.min, measured(row));
		csv_value(f, row->ns.max, measured(row));
		csv_value(f, row->mops.med, measured(row));
		csv_value(f, row->mops.min, measured(row));
		csv_value(f, row->mops.max, measured(row));
		csv_value(f, row->lost, row->lost >= 0);
		csv_value(f, row->vs_nop, row->vs_nop > 0);
		csv_value(f, row->vs_c11, row->vs_c11 > 0);
		fputs(",\"", f);
		for (c = row->reason; *c; c++)
			fprintf(f, *c == '"' ? "\"\"" : "%c", *c);
		fputs("\"\n", f);
	}
}

/* Splits line (modified) at commas into at most max fields, the last one
 * a quoted CSV string ("" for a quote).  Returns the number of fields. */
static unsigned int csv_split(char *line, char **fields, unsigned int max)
{
	unsigned int n = 0;
	char *p = line, *out;

	while (n < max - 1) {
		fields[n++] = p;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p++ = '\0';
	}
	if (*p != '"')
		return 0;
	fields[n++] = out = ++p;
	for (; *p; p++) {
		if (*p == '"' && p[1] == '"')
			p++;
		else if (*p == '"')
			break;
		*out++ = *p;
	}
	if (*p != '"' || p[1])
		return 0;
	*out = '\0';
	return n;
}

static int parse_name(const char *s, const char *const *names,
		      unsigned int nr, int *v)
{
	unsigned int i;

	*v = -1;
	if (!strcmp(s, "-"))
		return 0;
	for (i = 0; i < nr; i++) {
		if (!strcmp(s, names[i])) {
			*v = i;
			return 0;
		}
	}
	return -1;
}

static int parse_num(const char *s, double *v, double unknown)
{
	char *end;

	if (!strcmp(s, "-")) {
		*v = unknown;
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	return end == s || *end || errno ? -1 : 0;
}

static int parse_uint(const char *s, unsigned int *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (end == s || *end || errno || n > UINT32_MAX || *s == '-')
		return -1;
	*v = n;
	return 0;
}

static int parse_row(char *line, struct bench_row *row)
{
	char *fl[CSV_FIELDS];
	double *nums[] = {
		&row->ns.med, &row->ns.min, &row->ns.max, &row->mops.med,
		&row->mops.min, &row->mops.max, &row->lost, &row->vs_nop,
		&row->vs_c11,
	};
	unsigned int i;

	if (csv_split(line, fl, CSV_FIELDS) != CSV_FIELDS ||
	    strlen(fl[0]) >= sizeof(row->path) || bench_path_flags(fl[0]) < 0 ||
	    parse_uint(fl[1], &row->batch) || parse_uint(fl[2], &row->threads) ||
	    parse_name(fl[3], bench_place_names, BENCH_NR_PLACES, &row->place) ||
	    parse_name(fl[4], bench_op_names, BENCH_NR_OPS, &row->op) ||
	    parse_uint(fl[5], &row->runs) ||
	    strlen(fl[15]) >= sizeof(row->reason))
		return -1;
	strcpy(row->path, fl[0]);
	strcpy(row->reason, fl[15]);
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (parse_num(fl[6 + i], nums[i], i == 6 ? -1 : 0))
			return -1;
	return 0;
}

/* v into a text field of size bytes; -1 if it does not fit. */
static int set_text(char *field, size_t size, const char *v)
{
	return snprintf(field, size, "%s", v) >= (int)size ? -1 : 0;
}

/* "# key: value" into m; 0, or -1 for a key it does not know. */
static int parse_meta(const char *line, struct bench_meta *m)
{
	static const char *const keys[] = {
		"machine", "kernel", "cpus", "date", "commit", "seconds",
		"runs", "pin",
	};
	const char *v;
	unsigned int i, pin;
	size_t n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		n = strlen(keys[i]);
		if (strncmp(line + 2, keys[i], n) || line[n + 2] != ':' ||
		    line[n + 3] != ' ')
			continue;
		v = line + n + 4;
		switch (i) {
		case 0:
			return set_text(m->machine, sizeof(m->machine), v);
		case 1:
			return set_text(m->kernel, sizeof(m->kernel), v);
		case 2:
			return parse_uint(v, &m->cpus);
		case 3:
			return set_text(m->date, sizeof(m->date), v);
		case 4:
			return set_text(m->commit, sizeof(m->commit), v);
		case 5:
			return parse_num(v, &m->seconds, 0);
		case 6:
			return parse_uint(v, &m->runs);
		default:
			if (parse_uint(v, &pin) || pin > 1)
				return -1;
			m->pin = pin;
			return 0;
		}
	}
	return -1;
}

int bench_read_csv(FILE *f, struct bench_result *r, char *buf, size_t len)
{
	char line[512];
	unsigned int nr = 0;
	struct bench_row *row;
	size_t n;
	bool header = false;

	*r = (struct bench_result){ 0 };
	while (fgets(line, sizeof(line), f)) {
		nr++;
		n = strlen(line);
		if (!n || line[n - 1] != '\n') {
			snprintf(buf, len, "line %u: too long or unterminated",
				 nr);
			goto bad;
		}
		line[n - 1] = '\0';
		if (nr == 1 && strcmp(line, CSV_MAGIC)) {
			snprintf(buf, len, "line 1: not '%s'", CSV_MAGIC);
			goto bad;
		}
		if (nr == 1)
			continue;
		if (!header && !strncmp(line, "# ", 2)) {
			if (parse_meta(line, &r->meta)) {
				snprintf(buf, len, "line %u: bad '%s'", nr,
					 line);
				goto bad;
			}
		} else if (!header) {
			header = !strcmp(line, CSV_HEADER);
			if (!header) {
				snprintf(buf, len, "line %u: not the header",
					 nr);
				goto bad;
			}
		} else {
			row = bench_add_row(r);
			if (!row) {
				snprintf(buf, len, "no memory");
				goto bad;
			}
			if (parse_row(line, row)) {
				snprintf(buf, len, "line %u: not a row", nr);
				goto bad;
			}
		}
	}
	if (ferror(f)) {
		snprintf(buf, len, "%s", strerror(errno));
		goto bad;
	}
	if (!header) {
		snprintf(buf, len, "no header line");
		goto bad;
	}
	return 0;
bad:
	bench_free(r);
	return -1;
}

/* JSON ----------------------------------------------------------------- */

static void json_stat(FILE *f, const char *name, const struct bench_stat *s)
{
	fprintf(f, ", \"%s\": {\"median\": ", name);
	crew_fjson_double(f, s->med);
	fputs(", \"min\": ", f);
	crew_fjson_double(f, s->min);
	fputs(", \"max\": ", f);
	crew_fjson_double(f, s->max);
	fputc('}', f);
}

static void json_opt(FILE *f, const char *name, double v, bool known)
{
	fprintf(f, ", \"%s\": ", name);
	if (known)
		crew_fjson_double(f, v);
	else
		fputs("null", f);
}

static void json_name(FILE *f, const char *name, int v,
		      const char *const *names)
{
	fprintf(f, ", \"%s\": ", name);
	if (v < 0)
		fputs("null", f);
	else
		crew_fjson_string(f, names[v]);
}

void bench_write_json(FILE *f, const struct bench_result *r)
{
	const struct bench_meta *m = &r->meta;
	const struct bench_row *row;
	unsigned int i;

	fputs("{\"machine\": ", f);
	crew_fjson_string(f, m->machine);
	fputs(", \"kernel\": ", f);
	crew_fjson_string(f, m->kernel);
	fprintf(f, ", \"cpus\": %u, \"date\": ", m->cpus);
	crew_fjson_string(f, m->date);
	fputs(", \"commit\": ", f);
	crew_fjson_string(f, m->commit);
	fputs(", \"seconds\": ", f);
	crew_fjson_double(f, m->seconds);
	fprintf(f, ", \"runs\": %u, \"pin\": %s,\n \"rows\": [", m->runs,
		m->pin ? "true" : "false");
	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		fprintf(f, "%s\n  {\"path\": ", i ? "," : "");
		crew_fjson_string(f, row->path);
		json_opt(f, "batch", row->batch, row->batch);
		json_opt(f, "threads", row->threads, row->threads);
		json_name(f, "placement", row->place, bench_place_names);
		json_name(f, "op", row->op, bench_op_names);
		if (!measured(row)) {
			fputs(", \"skipped\": ", f);
			crew_fjson_string(f, row->reason);
			fputc('}', f);
			continue;
		}
		fprintf(f, ", \"runs\": %u", row->runs);
		json_stat(f, "ns_per_op", &row->ns);
		json_stat(f, "mops", &row->mops);
		json_opt(f, "lost_pct", row->lost, row->lost >= 0);
		json_opt(f, "vs_nop", row->vs_nop, row->vs_nop > 0);
		json_opt(f, "vs_c11", row->vs_c11, row->vs_c11 > 0);
		fputc('}', f);
	}
	fputs("\n ]}\n", f);
}

/* The plot ------------------------------------------------------------- */

/* Whether rows i and j are one series: path and B. */
static bool same_series(const struct bench_row *a, const struct bench_row *b)
{
	return !strcmp(a->path, b->path) && a->batch == b->batch;
}

/* The rows of op on one shared counter (and kernel:nop's) are plotted. */
static bool plotted(const struct bench_row *row, int op)
{
	return measured(row) &&
	       ((row->op == op && row->place == BENCH_SHARED) ||
		(row->op < 0 && row->place < 0));
}

/* Whether row i is the first plotted of its series. */
static bool series_first(const struct bench_result *r, unsigned int i, int op)
{
	unsigned int j;

	if (!plotted(&r->rows[i], op))
		return false;
	for (j = 0; j < i; j++)
		if (plotted(&r->rows[j], op) &&
		    same_series(&r->rows[j], &r->rows[i]))
			return false;
	return true;
}

/* The op to plot: add if measured on a shared counter, else the first. */
static int plot_op(const struct bench_result *r)
{
	int op;
	unsigned int i;

	for (op = 0; op < BENCH_NR_OPS; op++)
		for (i = 0; i < r->nr; i++)
			if (measured(&r->rows[i]) && r->rows[i].op == op &&
			    r->rows[i].place == BENCH_SHARED)
				return op;
	return -1;
}

static const char *const colours[] = {
	"#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
	"#f781bf", "#999999", "#66c2a5", "#e6ab02", "#1b9e77", "#7570b3",
	"#d95f02", "#666666",
};
#define NR_COLOURS	(sizeof(colours) / sizeof(colours[0]))

static void plot_script(FILE *g, const struct bench_result *r,
			const char *png, int op)
{
	const struct bench_meta *m = &r->meta;
	const struct bench_row *row;
	unsigned int i, j, n = 0, top = 1;

	fprintf(g, "set terminal png size 1100,700\nset output ");
	crew_fjson_string(g, png);	/* a gnuplot string takes JSON's escapes */
	fprintf(g, "\nset title \"katomic bench: %s, one shared counter - %s, Linux %s, %u CPUs, %s%s%s\" noenhanced\n",
		op < 0 ? "NOP ioctl" : bench_op_names[op], m->machine,
		m->kernel, m->cpus, m->date, m->commit[0] ? ", " : "",
		m->commit);
	fputs("set xlabel \"threads\"\nset ylabel \"Mops/s, all threads (median; log scale)\"\n"
	      "set logscale y\nset grid\nset key outside right noenhanced\n"
	      "set xtics 1\n", g);
	for (i = 0; i < r->nr; i++)
		if (plotted(&r->rows[i], op) && r->rows[i].threads > top)
			top = r->rows[i].threads;
	fprintf(g, "set xrange [0.5:%u.5]\n", top);
	/* One series per path and B, in the rows' order. */
	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		if (!series_first(r, i, op))
			continue;
		/* a colour each; user paths solid, ioctl dashed, batch and
		 * uring dotted; the NOP black */
		fprintf(g, "%s'-' using 1:2 with linespoints lw 2 pt %u dt %d lc rgb \"%s\" title \"%s",
			n ? ", " : "plot ", n % 13 + 1,
			!(bench_path_flags(row->path) & BENCH_KERNEL) ? 1 :
			row->batch ? 3 : 2,
			bench_path_flags(row->path) & BENCH_NO_COUNTER ?
			"black" : colours[n % NR_COLOURS], row->path);
		n++;
		if (row->batch)
			fprintf(g, " B=%u", row->batch);
		fputc('"', g);
	}
	fputc('\n', g);
	for (i = 0; i < r->nr; i++) {
		row = &r->rows[i];
		if (!series_first(r, i, op))
			continue;
		for (j = i; j < r->nr; j++)
			if (plotted(&r->rows[j], op) &&
			    same_series(&r->rows[j], row))
				fprintf(g, "%u %.6g\n", r->rows[j].threads,
					r->rows[j].mops.med);
		fputs("e\n", g);
	}
}

int bench_plot(const struct bench_result *r, const char *png)
{
	int op = plot_op(r), status;
	FILE *g;

	if (op < 0 && !find_row(r, "kernel:nop", 1, -1, -1))
		return report(EXIT_FAILED, CMD, png,
			      "nothing to plot: no shared counter and no NOP ioctl measured");
	if (access(png, F_OK) && errno != ENOENT)
		return report(EXIT_FAILED, CMD, png, "%s", strerror(errno));
	fflush(NULL);
	g = popen("gnuplot", "w");
	if (!g)
		return report(EXIT_FAILED, CMD, png, "gnuplot: %s",
			      strerror(errno));
	plot_script(g, r, png, op);
	status = pclose(g);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
		return report(EXIT_FAILED, CMD, png,
			      "gnuplot failed (exit status %d)%s",
			      WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			      WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
			      ": is it installed? (Debian: gnuplot-nox)" : "");
	return EXIT_OK;
}

/* The machine ----------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* The hypervisor's CPUID signature (leaf 0x40000000), or "" on bare
 * metal (the hypervisor bit, leaf 1 ECX bit 31, is clear). */
static void hv_signature(char sig[13])
{
	unsigned int a, b, c, d;
	int i;

	sig[0] = '\0';
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (i = 12; i > 0 && (sig[i - 1] == ' ' || !sig[i - 1]); i--)
		sig[i - 1] = '\0';
}
#else
static void hv_signature(char sig[13])
{
	sig[0] = '\0';
}
#endif

void bench_machine(char *buf, size_t len)
{
	char sig[13], vendor[64] = "";
	FILE *f = fopen("/sys/class/dmi/id/sys_vendor", "r");

	if (f) {
		if (fgets(vendor, sizeof(vendor), f))
			vendor[strcspn(vendor, "\n")] = '\0';
		fclose(f);
	}
	hv_signature(sig);
	if (!strcmp(sig, "TCGTCGTCGTCG"))
		snprintf(buf, len, "QEMU TCG");
	else if (!strncmp(sig, "KVMKVMKVM", 9))
		snprintf(buf, len, "KVM%s", strcmp(vendor, "QEMU") ? "" :
			 " (QEMU)");
	else if (sig[0])
		snprintf(buf, len, "hypervisor %s", sig);
	else if (!strcmp(vendor, "QEMU"))
		/* QEMU without a signature: no hypervisor bit, so TCG */
		snprintf(buf, len, "QEMU TCG");
	else
		snprintf(buf, len, "bare metal");
}
