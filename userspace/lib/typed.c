// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The typed calls, katomic_<op>_<type> through the handle's backend and
 * katomic_map_<op>_<type> on its mapped cells: one body for both, expanded
 * over the op x type table.
 */
#include "internal.h"

#define TYPED_ARGS_0
#define TYPED_ARGS_1	.arg = (__u64)arg,
#define TYPED_ARGS_2	.arg = (__u64)arg, .arg2 = (__u64)arg2,

/* The backend's op, in katomic__map_run's shape. */
static inline int typed_op(struct katomic *k, struct katomic_op *op,
			   __u64 *result)
{
	int ret = katomic_op(k, op);

	*result = op->result;
	return ret;
}

#define TYPED_BODY(run, NAME, TNAME, operands, tname)			\
{									\
	struct katomic_op op = {					\
		.id = id,						\
		.type = KATOMIC_TYPE_##TNAME,				\
		.op = KATOMIC_OP_##NAME,				\
		TYPED_ARGS_##operands					\
	};								\
	__u64 result = 0;						\
	int ret = run(k, &op, &result);					\
									\
	if (ret >= 0 && out)						\
		*out = (katomic_##tname##_t)result;			\
	return ret;							\
}

#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
KATOMIC_TYPED_PROTO(name, operands, tname)				\
	TYPED_BODY(typed_op, NAME, TNAME, operands, tname)		\
KATOMIC_MAP_TYPED_PROTO(name, operands, tname)				\
	TYPED_BODY(katomic__map_run, NAME, TNAME, operands, tname)
KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE
