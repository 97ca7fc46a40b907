// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Counter values as the ABI encodes them: every operand and result is a
 * __u64, INT types sign-extended and unsigned types zero-extended.  One
 * representability rule (katomic_value_fits) serves the twin's -EOVERFLOW
 * checks and the parser alike.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "internal.h"

static const struct {
	unsigned char bits;	/* 0: ptr_bits */
	bool is_signed;
	bool known;
} types[] = {
#define TYPE_ROW(NAME, nr, name, bits, is_signed) \
	[nr] = { bits, is_signed, true },
	KATOMIC_TYPE_TABLE(TYPE_ROW)
#undef TYPE_ROW
};

int katomic__width(unsigned int type, unsigned int ptr_bits,
		   struct katomic_width *w)
{
	unsigned int bits;

	if (type >= ARRAY_SIZE(types) || !types[type].known)
		return -EINVAL;
	bits = types[type].bits ? types[type].bits : ptr_bits;
	if (bits != 32 && bits != 64)
		return -EINVAL;
	w->bits = bits;
	w->is_signed = types[type].is_signed;
	w->mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	return 0;
}

__u64 katomic__extend(const struct katomic_width *w, __u64 v)
{
	v &= w->mask;
	if (w->is_signed && (v >> (w->bits - 1)) & 1)
		v |= ~w->mask;
	return v;
}

unsigned int katomic_type_bits(unsigned int type, unsigned int ptr_bits)
{
	struct katomic_width w;

	return katomic__width(type, ptr_bits, &w) ? 0 : w.bits;
}

__u64 katomic_value_extend(unsigned int type, unsigned int ptr_bits, __u64 v)
{
	struct katomic_width w;

	return katomic__width(type, ptr_bits, &w) ? v : katomic__extend(&w, v);
}

/* Representable exactly when cutting to the width and extending is a no-op. */
bool katomic_value_fits(unsigned int type, unsigned int ptr_bits, __u64 v)
{
	struct katomic_width w;

	return !katomic__width(type, ptr_bits, &w) && katomic__extend(&w, v) == v;
}

__u64 katomic_value_min(unsigned int type, unsigned int ptr_bits)
{
	struct katomic_width w;

	if (katomic__width(type, ptr_bits, &w) || !w.is_signed)
		return 0;
	return ~(w.mask >> 1);
}

__u64 katomic_value_max(unsigned int type, unsigned int ptr_bits)
{
	struct katomic_width w;

	if (katomic__width(type, ptr_bits, &w))
		return 0;
	return w.is_signed ? w.mask >> 1 : w.mask;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses the digits of s in base into *mag; -EOVERFLOW past 2^64 - 1. */
static int parse_magnitude(const char *s, unsigned int base, __u64 *mag)
{
	bool overflow = false;
	__u64 v = 0;
	int d;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		d = digit_value(*s);
		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	*mag = v;
	return overflow ? -EOVERFLOW : 0;
}

int katomic_value_parse(const char *s, unsigned int type,
			unsigned int ptr_bits, __u64 *out)
{
	struct katomic_width w;
	unsigned int base = 10;
	bool neg = false;
	__u64 mag, v;
	int ret;

	if (katomic__width(type, ptr_bits, &w))
		return -EINVAL;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	ret = parse_magnitude(s, base, &mag);
	if (ret)
		return ret;
	/* Map the number into the encoding, refusing what no type holds. */
	if (neg) {
		if (mag > (UINT64_C(1) << 63) || (!w.is_signed && mag))
			return -EOVERFLOW;
		v = -mag;
	} else {
		if (w.is_signed && mag > (__u64)INT64_MAX)
			return -EOVERFLOW;
		v = mag;
	}
	if (!katomic_value_fits(type, ptr_bits, v))
		return -EOVERFLOW;
	*out = v;
	return 0;
}

int katomic_value_format(char *buf, size_t size, unsigned int type, __u64 v,
			 bool hex)
{
	bool is_signed = type < ARRAY_SIZE(types) && types[type].is_signed;

	if (is_signed && (int64_t)v < 0)
		return hex ? snprintf(buf, size, "-0x%" PRIx64, (uint64_t)-v)
			   : snprintf(buf, size, "%" PRId64, (int64_t)v);
	return snprintf(buf, size, hex ? "0x%" PRIx64 : "%" PRIu64, (uint64_t)v);
}
