// SPDX-License-Identifier: LGPL-2.1-or-later
/* The typed calls, katomic_<op>_<type>: one definition for the op x type table. */
#include "internal.h"

#define TYPED_ARGS_0
#define TYPED_ARGS_1	.arg = (__u64)arg,
#define TYPED_ARGS_2	.arg = (__u64)arg, .arg2 = (__u64)arg2,

#define KATOMIC_OP_TYPE(NAME, nr, name, operands, applied,		\
			TNAME, tnr, tname, bits, is_signed)		\
KATOMIC_TYPED_PROTO(name, operands, tname)				\
{									\
	struct katomic_op op = {					\
		.id = id,						\
		.type = KATOMIC_TYPE_##TNAME,				\
		.op = KATOMIC_OP_##NAME,				\
		TYPED_ARGS_##operands					\
	};								\
	int ret = katomic_op(k, &op);					\
									\
	if (ret >= 0 && out)						\
		*out = (katomic_##tname##_t)op.result;			\
	return ret;							\
}
KATOMIC_OP_TYPE_TABLE
#undef KATOMIC_OP_TYPE
