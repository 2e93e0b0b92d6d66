/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxsim SDK: cmask helpers for BPF programs.
 *
 * struct scx_cmask (vmlinux.h) is sched_ext's bitmap over cid space: it
 * covers the cids [base, base + nr_cids), and its bits[] words sit on the
 * global 64-cid grid, so bits[0] starts at cid (base & ~63). The bits below
 * base in the first word and past base + nr_cids in the last word are
 * padding every mutating helper keeps zero. Two cmasks of any bases line up
 * word for word, which makes AND/OR/... plain word loops.
 *
 * cmasks live in a BPF arena (the kernel hands ops_cid.set_cmask() one
 * there), so every helper takes "struct scx_cmask __arena *". Loops are
 * bounded by CMASK_MAX_WORDS for the verifier. Included by common.bpf.h.
 * Names follow the kernel's BPF-side cmask helpers.
 */
#ifndef __SCX_CMASK_BPF_H
#define __SCX_CMASK_BPF_H

#ifndef BIT_U64
#define BIT_U64(nr)		(1ULL << (nr))
#endif
#ifndef GENMASK_U64
#define GENMASK_U64(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#endif

/* Loop bound over bits[]: 8192 cids plus one word of head misalignment. */
#ifndef CMASK_MAX_WORDS
#define CMASK_MAX_WORDS		129
#endif

/* Words of bits[] that hold nr_cids cids at any base alignment. */
#define CMASK_NR_WORDS(nr_cids)	((u32)(((u64)(nr_cids) + 63) / 64 + 1))

/* Bound of the compare-and-swap retry loops of the atomic bit helpers. */
#define CMASK_CAS_TRIES		(1U << 16)

static __always_inline bool __cmask_contains(u32 cid, const struct scx_cmask __arena *m)
{
	return cid >= m->base && cid - m->base < m->nr_cids;
}

/* The word holding cid's bit; cid must be in range. */
static __always_inline u64 __arena *__cmask_word(u32 cid, const struct scx_cmask __arena *m)
{
	return (u64 __arena *)&m->bits[cid / 64 - m->base / 64];
}

/* Initialize m for [base, base + nr_cids) with room for alloc_cids cids. */
static __always_inline void __cmask_init(struct scx_cmask __arena *m, u32 base,
					 u32 nr_cids, u32 alloc_cids)
{
	u32 words, i;

	if (nr_cids > alloc_cids) {
		scx_bpf_error("cmask: %u cids do not fit %u", nr_cids, alloc_cids);
		return;
	}
	words = CMASK_NR_WORDS(alloc_cids);
	m->base = base;
	m->nr_cids = nr_cids;
	m->alloc_words = words;
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		if (i >= words)
			break;
		m->bits[i] = 0;
	}
}

/* Initialize m for [base, base + nr_cids) on storage of exactly that size. */
static __always_inline void cmask_init(struct scx_cmask __arena *m, u32 base, u32 nr_cids)
{
	__cmask_init(m, base, nr_cids, nr_cids);
}

/*
 * Move m's window to [base, base + nr_cids) within its storage. Only the
 * head and tail words are cleared; other bits keep stale values.
 */
static __always_inline void cmask_reframe(struct scx_cmask __arena *m, u32 base, u32 nr_cids)
{
	if (CMASK_NR_WORDS(nr_cids) > m->alloc_words) {
		scx_bpf_error("cmask: reframe to %u cids exceeds %u words",
			      nr_cids, m->alloc_words);
		return;
	}
	if (nr_cids) {
		m->bits[0] = 0;
		m->bits[((base & 63) + nr_cids - 1) / 64] = 0;
	}
	m->base = base;
	m->nr_cids = nr_cids;
}

/* Clear every word of m's window. */
static __always_inline void cmask_zero(struct scx_cmask __arena *m)
{
	u32 words = CMASK_NR_WORDS(m->nr_cids), i;

	bpf_for(i, 0, CMASK_MAX_WORDS) {
		if (i >= words)
			break;
		m->bits[i] = 0;
	}
}

static __always_inline bool cmask_test(u32 cid, const struct scx_cmask __arena *m)
{
	if (!__cmask_contains(cid, m))
		return false;
	return *__cmask_word(cid, m) & BIT_U64(cid & 63);
}

/* Non-atomic bit updates, for cmasks only this CPU writes. */
static __always_inline void __cmask_set(u32 cid, struct scx_cmask __arena *m)
{
	if (__cmask_contains(cid, m))
		*__cmask_word(cid, m) |= BIT_U64(cid & 63);
}

static __always_inline void __cmask_clear(u32 cid, struct scx_cmask __arena *m)
{
	if (__cmask_contains(cid, m))
		*__cmask_word(cid, m) &= ~BIT_U64(cid & 63);
}

static __always_inline bool __cmask_test_and_set(u32 cid, struct scx_cmask __arena *m)
{
	u64 __arena *w;
	bool was;

	if (!__cmask_contains(cid, m))
		return false;
	w = __cmask_word(cid, m);
	was = *w & BIT_U64(cid & 63);
	*w |= BIT_U64(cid & 63);
	return was;
}

static __always_inline bool __cmask_test_and_clear(u32 cid, struct scx_cmask __arena *m)
{
	u64 __arena *w;
	bool was;

	if (!__cmask_contains(cid, m))
		return false;
	w = __cmask_word(cid, m);
	was = *w & BIT_U64(cid & 63);
	*w &= ~BIT_U64(cid & 63);
	return was;
}

/*
 * Atomic bit updates. The x86 JIT supports only cmpxchg, xchg and add with
 * fetch on arena memory, so set/clear with the old value go through a
 * compare-and-swap loop. Each returns whether the bit was set before.
 */
static __always_inline bool __cmask_cas_update(u32 cid, struct scx_cmask __arena *m, bool set)
{
	u64 __arena *w;
	u64 bit, old, new;
	u32 i;

	if (!__cmask_contains(cid, m))
		return false;
	w = __cmask_word(cid, m);
	bit = BIT_U64(cid & 63);
	bpf_for(i, 0, CMASK_CAS_TRIES) {
		old = *w;
		if (set ? (old & bit) : !(old & bit))
			return old & bit;
		new = set ? (old | bit) : (old & ~bit);
		if (__sync_val_compare_and_swap(w, old, new) == old)
			return old & bit;
	}
	scx_bpf_error("cmask: compare-and-swap kept failing at cid %u", cid);
	return false;
}

static __always_inline void cmask_set(u32 cid, struct scx_cmask __arena *m)
{
	__cmask_cas_update(cid, m, true);
}

static __always_inline void cmask_clear(u32 cid, struct scx_cmask __arena *m)
{
	__cmask_cas_update(cid, m, false);
}

static __always_inline bool cmask_test_and_set(u32 cid, struct scx_cmask __arena *m)
{
	return __cmask_cas_update(cid, m, true);
}

static __always_inline bool cmask_test_and_clear(u32 cid, struct scx_cmask __arena *m)
{
	return __cmask_cas_update(cid, m, false);
}

enum {
	SCX_CMASK_AND,
	SCX_CMASK_OR,
	SCX_CMASK_COPY,
	SCX_CMASK_ANDNOT,
};

/*
 * dst = dst OP src over the intersection of the two windows; dst bits
 * outside it are left alone (cmask_copy() does not clear them).
 */
static __always_inline void __cmask_op(struct scx_cmask __arena *dst,
				       const struct scx_cmask __arena *src, int op)
{
	u32 lo = max(dst->base, src->base);
	u32 hi = min(dst->base + dst->nr_cids, src->base + src->nr_cids);
	u32 dw = dst->base / 64, sw = src->base / 64, first, last, i;

	if (lo >= hi)
		return;
	first = lo / 64;
	last = (hi - 1) / 64;
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		u32 w = first + i;
		u64 mask = ~0ULL, d, s, r;

		if (w > last)
			break;
		if (w == first)
			mask &= GENMASK_U64(63, lo & 63);
		if (w == last)
			mask &= GENMASK_U64((hi - 1) & 63, 0);
		d = dst->bits[w - dw];
		s = src->bits[w - sw];
		switch (op) {
		case SCX_CMASK_AND:
			r = d & s;
			break;
		case SCX_CMASK_OR:
			r = d | s;
			break;
		case SCX_CMASK_ANDNOT:
			r = d & ~s;
			break;
		default:
			r = s;
			break;
		}
		dst->bits[w - dw] = (d & ~mask) | (r & mask);
	}
}

static __always_inline void cmask_and(struct scx_cmask __arena *dst,
				      const struct scx_cmask __arena *src)
{
	__cmask_op(dst, src, SCX_CMASK_AND);
}

static __always_inline void cmask_or(struct scx_cmask __arena *dst,
				     const struct scx_cmask __arena *src)
{
	__cmask_op(dst, src, SCX_CMASK_OR);
}

static __always_inline void cmask_copy(struct scx_cmask __arena *dst,
				       const struct scx_cmask __arena *src)
{
	__cmask_op(dst, src, SCX_CMASK_COPY);
}

static __always_inline void cmask_andnot(struct scx_cmask __arena *dst,
					 const struct scx_cmask __arena *src)
{
	__cmask_op(dst, src, SCX_CMASK_ANDNOT);
}

/* Same window and same bits. */
static __always_inline bool cmask_equal(const struct scx_cmask __arena *a,
					const struct scx_cmask __arena *b)
{
	u32 words, i;

	if (a->base != b->base || a->nr_cids != b->nr_cids)
		return false;
	words = CMASK_NR_WORDS(a->nr_cids);
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		if (i >= words)
			break;
		if (a->bits[i] != b->bits[i])
			return false;
	}
	return true;
}

/* Every bit of a is set in b; a's window must lie inside b's. */
static __always_inline bool cmask_subset(const struct scx_cmask __arena *a,
					 const struct scx_cmask __arena *b)
{
	u32 words, aw = a->base / 64, bw = b->base / 64, i;

	if (a->base < b->base || a->base + a->nr_cids > b->base + b->nr_cids)
		return false;
	words = CMASK_NR_WORDS(a->nr_cids);
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		if (i >= words)
			break;
		if (a->bits[i] & ~b->bits[aw + i - bw])
			return false;
	}
	return true;
}

/* Number of cids set (padding bits are zero, so whole words count). */
static __always_inline u32 cmask_weight(const struct scx_cmask __arena *m)
{
	u32 words = CMASK_NR_WORDS(m->nr_cids), n = 0, i;

	bpf_for(i, 0, CMASK_MAX_WORDS) {
		if (i >= words)
			break;
		n += __builtin_popcountll(m->bits[i]);
	}
	return n;
}

/* Any cid set in both, over the intersection of the windows. */
static __always_inline bool cmask_intersects(const struct scx_cmask __arena *a,
					     const struct scx_cmask __arena *b)
{
	u32 lo = max(a->base, b->base);
	u32 hi = min(a->base + a->nr_cids, b->base + b->nr_cids);
	u32 aw = a->base / 64, bw = b->base / 64, first, last, i;

	if (lo >= hi)
		return false;
	first = lo / 64;
	last = (hi - 1) / 64;
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		u32 w = first + i;
		u64 mask = ~0ULL;

		if (w > last)
			break;
		if (w == first)
			mask &= GENMASK_U64(63, lo & 63);
		if (w == last)
			mask &= GENMASK_U64((hi - 1) & 63, 0);
		if (a->bits[w - aw] & b->bits[w - bw] & mask)
			return true;
	}
	return false;
}

/*
 * The first cid set in m at or after cid, or base + nr_cids when there is
 * none (the end value cmask_for_each() stops at).
 */
static __always_inline u32 cmask_next_set(const struct scx_cmask __arena *m, u32 cid)
{
	u32 end = m->base + m->nr_cids, bw = m->base / 64, first, last, i;

	if (cid < m->base)
		cid = m->base;
	if (cid >= end)
		return end;
	first = cid / 64;
	last = (end - 1) / 64;
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		u32 w = first + i, found;
		u64 word;

		if (w > last)
			break;
		word = m->bits[w - bw];
		if (!i)
			word &= GENMASK_U64(63, cid & 63);
		if (!word)
			continue;
		found = w * 64 + ctzll(word);
		return found < end ? found : end;
	}
	return end;
}

static __always_inline u32 cmask_first_set(const struct scx_cmask __arena *m)
{
	return cmask_next_set(m, m->base);
}

#define cmask_for_each(cid, m)						\
	for ((cid) = cmask_first_set(m);				\
	     (cid) < (m)->base + (m)->nr_cids;				\
	     (cid) = cmask_next_set((m), (cid) + 1))

/* Like cmask_next_set() but continues from base when nothing is past cid. */
static __always_inline u32 cmask_next_set_wrap(const struct scx_cmask __arena *m, u32 cid)
{
	u32 end = m->base + m->nr_cids, found;

	found = cmask_next_set(m, cid);
	if (found < end || cid <= m->base)
		return found;
	found = cmask_next_set(m, m->base);
	return found < cid ? found : end;
}

/*
 * The first cid at or after cid set in both a and b, within the
 * intersection of their windows; a->base + a->nr_cids when none.
 */
static __always_inline u32 cmask_next_and_set(const struct scx_cmask __arena *a,
					      const struct scx_cmask __arena *b, u32 cid)
{
	u32 end = a->base + a->nr_cids;
	u32 lo = max(a->base, b->base);
	u32 hi = min(end, b->base + b->nr_cids);
	u32 aw = a->base / 64, bw = b->base / 64, first, last, i;

	if (lo >= hi)
		return end;
	if (cid < lo)
		cid = lo;
	if (cid >= hi)
		return end;
	first = cid / 64;
	last = (hi - 1) / 64;
	bpf_for(i, 0, CMASK_MAX_WORDS) {
		u32 w = first + i, found;
		u64 word;

		if (w > last)
			break;
		word = a->bits[w - aw] & b->bits[w - bw];
		if (!i)
			word &= GENMASK_U64(63, cid & 63);
		if (!word)
			continue;
		found = w * 64 + ctzll(word);
		return found < hi ? found : end;
	}
	return end;
}

static __always_inline u32 cmask_next_and_set_wrap(const struct scx_cmask __arena *a,
						   const struct scx_cmask __arena *b, u32 cid)
{
	u32 end = a->base + a->nr_cids, found;

	found = cmask_next_and_set(a, b, cid);
	if (found < end || cid <= a->base)
		return found;
	found = cmask_next_and_set(a, b, a->base);
	return found < cid ? found : end;
}

#endif /* __SCX_CMASK_BPF_H */
