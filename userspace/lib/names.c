// SPDX-License-Identifier: LGPL-2.1-or-later
/* Names of ops, value ops, types, sync kinds, features and errnos, from the
 * uapi tables. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "internal.h"

static const struct katomic_op_desc op_descs[] = {
#define OP_ROW(NAME, nr, name, operands, applied) \
	[nr] = { #name, operands, applied, KATOMIC_DOC_##name },
	KATOMIC_OP_TABLE(OP_ROW)
#undef OP_ROW
};

static const char *const type_names[] = {
#define TYPE_ROW(NAME, nr, name, bits, is_signed)	[nr] = #name,
	KATOMIC_TYPE_TABLE(TYPE_ROW)
#undef TYPE_ROW
};

static const char *const sync_names[] = {
#define SYNC_ROW(NAME, nr, name)	[nr] = #name,
	KATOMIC_SYNC_TABLE(SYNC_ROW)
#undef SYNC_ROW
};

static const char *const vop_names[] = {
#define VOP_ROW(NAME, nr, name)	[nr] = #name,
	KATOMIC_VOP_TABLE(VOP_ROW)
#undef VOP_ROW
};

const struct katomic_op_desc *katomic_op_desc(unsigned int op)
{
	return op < ARRAY_SIZE(op_descs) && op_descs[op].name ? &op_descs[op] : NULL;
}

const char *katomic_op_name(unsigned int op)
{
	const struct katomic_op_desc *d = katomic_op_desc(op);

	return d ? d->name : NULL;
}

const char *katomic_type_name(unsigned int type)
{
	return type < ARRAY_SIZE(type_names) ? type_names[type] : NULL;
}

const char *katomic_sync_name(unsigned int sync)
{
	return sync < ARRAY_SIZE(sync_names) ? sync_names[sync] : NULL;
}

const char *katomic_vop_name(unsigned int vop)
{
	return vop < ARRAY_SIZE(vop_names) ? vop_names[vop] : NULL;
}

/* Equal ignoring case, with '-' and '_' alike. */
static bool name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : tolower((unsigned char)*a);
		char y = *b == '-' ? '_' : tolower((unsigned char)*b);

		if (x != y)
			return false;
	}
	return !*a && !*b;
}

static int parse_name(const char *s, const char *(*name_of)(unsigned int),
		      unsigned int last)
{
	const char *name;
	unsigned int nr;

	for (nr = 0; nr <= last; nr++) {
		name = name_of(nr);
		if (name && name_eq(s, name))
			return nr;
	}
	return -EINVAL;
}

int katomic_op_parse(const char *name)
{
	return parse_name(name, katomic_op_name, KATOMIC_OP_LAST);
}

int katomic_type_parse(const char *name)
{
	return parse_name(name, katomic_type_name, KATOMIC_TYPE_LAST);
}

int katomic_sync_parse(const char *name)
{
	return parse_name(name, katomic_sync_name, KATOMIC_SYNC_LAST);
}

int katomic_vop_parse(const char *name)
{
	return parse_name(name, katomic_vop_name, KATOMIC_VOP_LAST);
}

#define FEATURE(NAME, name)	{ KATOMIC_FEAT_##NAME, #name },
static const struct {
	__u32 bit;
	const char *name;
} features[] = {
	KATOMIC_FEAT_TABLE(FEATURE)
};
#undef FEATURE

const char *katomic_feature_name(__u32 bit)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(features); i++)
		if (features[i].bit == bit)
			return features[i].name;
	return NULL;
}

/* The errnos of the ABI's error table, and those of opening the device. */
static const struct {
	int err;
	const char *name;
	const char *meaning;
} errnos[] = {
	{ ENOTTY, "ENOTTY", "not a katomic device, or an unknown command" },
	{ EFAULT, "EFAULT", "bad address" },
	{ EINVAL, "EINVAL", "invalid argument" },
	{ ENOENT, "ENOENT", "not defined" },
	{ EEXIST, "EEXIST", "already defined" },
	{ EOPNOTSUPP, "EOPNOTSUPP", "not supported for this object, type or kind" },
	{ EOVERFLOW, "EOVERFLOW", "operand not representable in the type" },
	{ E2BIG, "E2BIG", "above the limit" },
	{ ERANGE, "ERANGE", "buffer too small" },
	{ ENOMEM, "ENOMEM", "out of memory" },
	{ EPROTO, "EPROTO", "ABI version mismatch" },
	{ EACCES, "EACCES", "permission denied" },
	{ EPERM, "EPERM", "operation not permitted" },
	{ ENODEV, "ENODEV", "no such device" },
	{ ENXIO, "ENXIO", "no such device or address" },
	{ EBADF, "EBADF", "the device is open read-only" },
};

static int errno_index(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].err == err)
			return i;
	return -1;
}

const char *katomic_errno_name(int err)
{
	int i = errno_index(err);

	return i < 0 ? "E?" : errnos[i].name;
}

const char *katomic_strerror(int err)
{
	int i = errno_index(err);

	return i < 0 ? strerror(err < 0 ? -err : err) : errnos[i].meaning;
}
