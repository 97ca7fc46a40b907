// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The counter ops' meaning (spec/abi.md, "Counter operations"), written
 * once on plain values, and the checks of a struct katomic_op that do not
 * depend on the counter.
 */
#include <errno.h>

#include "internal.h"

int katomic__check_op(const struct katomic_op *op, unsigned int ptr_bits)
{
	const struct katomic_op_desc *d = katomic_op_desc(op->op);
	struct katomic_width w;

	if (!d || op->flags || op->reserved)
		return -EINVAL;
	if (katomic__width(op->type, ptr_bits, &w))
		return -EINVAL;
	if ((d->operands < 1 && op->arg) || (d->operands < 2 && op->arg2))
		return -EINVAL;
	if (katomic__extend(&w, op->arg) != op->arg ||
	    katomic__extend(&w, op->arg2) != op->arg2)
		return -EOVERFLOW;
	return 0;
}

/* a < b in the type's order: signed for INT types, unsigned otherwise. */
static bool type_less(const struct katomic_width *w, __u64 a, __u64 b)
{
	if (w->is_signed)
		return (int64_t)katomic__extend(w, a) < (int64_t)katomic__extend(w, b);
	return a < b;
}

static void step_store(struct katomic_step *s, __u64 v, bool applied)
{
	s->new = v;
	s->store = true;
	s->applied = applied;
}

void katomic__apply(const struct katomic_width *w, const struct katomic_op *op,
		    __u64 old, struct katomic_step *s)
{
	__u64 arg = op->arg & w->mask, arg2 = op->arg2 & w->mask;

	*s = (struct katomic_step){ .result = old };
	switch (op->op) {
	case KATOMIC_OP_LOAD:
		break;
	case KATOMIC_OP_STORE:
		step_store(s, arg, false);
		s->result = 0;
		break;
	case KATOMIC_OP_ADD:
		step_store(s, (old + arg) & w->mask, false);
		s->result = s->new;
		break;
	case KATOMIC_OP_SWAP:
		step_store(s, arg, false);
		break;
	case KATOMIC_OP_CAS:
		if (old == arg)
			step_store(s, arg2, true);
		break;
	case KATOMIC_OP_AND:
		step_store(s, old & arg, false);
		break;
	case KATOMIC_OP_OR:
		step_store(s, old | arg, false);
		break;
	case KATOMIC_OP_XOR:
		step_store(s, old ^ arg, false);
		break;
	case KATOMIC_OP_MAX:
		if (type_less(w, old, arg))
			step_store(s, arg, true);
		break;
	case KATOMIC_OP_MIN:
		if (type_less(w, arg, old))
			step_store(s, arg, true);
		break;
	case KATOMIC_OP_ADD_UNLESS:
		if (old != arg2)
			step_store(s, (old + arg) & w->mask, true);
		break;
	}
}
