/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uapi structs' layout, for scripts/lint.sh: one program, two uses.
 *
 * Built natively as C and run, it prints every struct's size, every
 * field's offset and size and every ioctl number as KATOMIC_L_*() lines,
 * and fails if a struct has a hole, a field missing from the list below
 * or a size that is not a multiple of 8 (the uapi rules: explicit padding,
 * every field listed).
 *
 * Compiled with -DKATOMIC_LAYOUT_EXPECT='"file"' (that output), it checks
 * at compile time that the compiler at hand (C or C++, -m64 or -m32) lays
 * every struct out exactly so.  Only a compiler is needed: the 32-bit
 * build is never run (the host kernel may lack 32-bit support).
 *
 * Plain C90 and C++98, so that every dialect lint.sh tries compiles it.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/katomic.h>

/* Every field of every struct, in declaration order: S(struct), F(struct, field). */
#define KATOMIC_LAYOUT(S, F)						\
	S(katomic_info)							\
	F(katomic_info, abi_version) F(katomic_info, features)		\
	F(katomic_info, nr_counters) F(katomic_info, nr_slots)		\
	F(katomic_info, value_max) F(katomic_info, max_batch)		\
	F(katomic_info, ptr_bits) F(katomic_info, reserved)		\
	S(katomic_define)						\
	F(katomic_define, id) F(katomic_define, object)			\
	F(katomic_define, type) F(katomic_define, sync)			\
	F(katomic_define, flags) F(katomic_define, init)		\
	F(katomic_define, param) F(katomic_define, reserved)		\
	S(katomic_op)							\
	F(katomic_op, id) F(katomic_op, type) F(katomic_op, op)		\
	F(katomic_op, flags) F(katomic_op, applied) F(katomic_op, arg)	\
	F(katomic_op, arg2) F(katomic_op, result) F(katomic_op, error)	\
	F(katomic_op, reserved)						\
	S(katomic_batch)						\
	F(katomic_batch, ops) F(katomic_batch, nr)			\
	F(katomic_batch, flags) F(katomic_batch, done)			\
	F(katomic_batch, reserved)					\
	S(katomic_value_op)						\
	F(katomic_value_op, id) F(katomic_value_op, op)			\
	F(katomic_value_op, flags) F(katomic_value_op, applied)		\
	F(katomic_value_op, reserved0) F(katomic_value_op, tag)		\
	F(katomic_value_op, len) F(katomic_value_op, buf)		\
	F(katomic_value_op, out) F(katomic_value_op, out_len)		\
	F(katomic_value_op, out_tag) F(katomic_value_op, version)	\
	F(katomic_value_op, reserved)					\
	S(katomic_context)						\
	F(katomic_context, nr_counters) F(katomic_context, nr_slots)	\
	F(katomic_context, value_max) F(katomic_context, flags)		\
	F(katomic_context, reserved)

/* Every ioctl number (each encodes its struct's size). */
#define KATOMIC_LAYOUT_IOCTLS(I)					\
	I(KATOMIC_IOC_INFO) I(KATOMIC_IOC_NOP) I(KATOMIC_IOC_DEFINE)	\
	I(KATOMIC_IOC_UNDEFINE) I(KATOMIC_IOC_QUERY) I(KATOMIC_IOC_OP)	\
	I(KATOMIC_IOC_BATCH) I(KATOMIC_IOC_VALUE)			\
	I(KATOMIC_IOC_CONTEXT_NEW)

#define KATOMIC_FIELD_SIZE(s, f)	sizeof(((struct s *)0)->f)

#ifdef KATOMIC_LAYOUT_EXPECT

/* A negative array size when cond is false: C90 and C++98 alike. */
#define KATOMIC_CAT_(a, b)	a##b
#define KATOMIC_CAT(a, b)	KATOMIC_CAT_(a, b)
#define KATOMIC_ASSERT(cond) \
	typedef char KATOMIC_CAT(katomic_layout_, __LINE__)[(cond) ? 1 : -1]
#define KATOMIC_L_SIZE(s, size)	KATOMIC_ASSERT(sizeof(struct s) == (size));
#define KATOMIC_L_FIELD(s, f, off, size)				\
	KATOMIC_ASSERT(offsetof(struct s, f) == (off) &&		\
		       KATOMIC_FIELD_SIZE(s, f) == (size));
#define KATOMIC_L_IOCTL(name, nr)					\
	KATOMIC_ASSERT((unsigned long)(name) == (nr##UL));
#include KATOMIC_LAYOUT_EXPECT

#else

struct katomic_layout {
	const char *s, *f;	/* f NULL: the struct itself */
	unsigned long off, size;
};

#define KATOMIC_S(s)	{ #s, NULL, 0, sizeof(struct s) },
#define KATOMIC_F(s, f)	{ #s, #f, offsetof(struct s, f), KATOMIC_FIELD_SIZE(s, f) },
static const struct katomic_layout layout[] = {
	KATOMIC_LAYOUT(KATOMIC_S, KATOMIC_F)
};

#define KATOMIC_I(name)	{ #name, (unsigned long)(name) },
static const struct {
	const char *name;
	unsigned long nr;
} ioctls[] = {
	KATOMIC_LAYOUT_IOCTLS(KATOMIC_I)
};

/* The end of struct i-1's fields: where the next field must start. */
static int katomic_struct_end(const struct katomic_layout *st,
			      unsigned long end)
{
	if (end != st->size) {
		fprintf(stderr, "uapi_layout: struct %s: fields end at %lu, size %lu: %s\n",
			st->s, end, st->size,
			end < st->size ? "a hole or an unlisted field at the end"
				       : "fields overlap");
		return 1;
	}
	if (st->size % 8) {
		fprintf(stderr, "uapi_layout: struct %s: size %lu is not a multiple of 8\n",
			st->s, st->size);
		return 1;
	}
	return 0;
}

int main(void)
{
	const struct katomic_layout *st = NULL;
	unsigned long end = 0;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		const struct katomic_layout *l = &layout[i];

		if (!l->f) {
			if (st)
				bad |= katomic_struct_end(st, end);
			st = l;
			end = 0;
			printf("KATOMIC_L_SIZE(%s, %lu)\n", l->s, l->size);
			continue;
		}
		if (l->off != end) {
			fprintf(stderr, "uapi_layout: %s.%s at %lu, the previous field ends at %lu: %s\n",
				l->s, l->f, l->off, end,
				l->off > end ? "a hole (implicit padding) or an unlisted field"
					     : "out of order");
			bad = 1;
		}
		end = l->off + l->size;
		printf("KATOMIC_L_FIELD(%s, %s, %lu, %lu)\n", l->s, l->f, l->off, l->size);
	}
	if (st)
		bad |= katomic_struct_end(st, end);
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		printf("KATOMIC_L_IOCTL(%s, 0x%lx)\n", ioctls[i].name, ioctls[i].nr);
	return bad;
}

#endif
