// PtrRing against hand-worked traces of include/linux/ptr_ring.h.
//
// Every expected value below was worked out from the kernel code quoted in
// the kernel notes (section 1), not from the model:
//
//   __ptr_ring_full:     queue[producer] != NULL
//   __ptr_ring_produce:  -ENOSPC if queue[producer]; else write, producer++,
//                        wrap to 0 at size
//   __ptr_ring_discard_one: head = consumer_head + 1;
//                        if (head - consumer_tail >= batch || head >= size)
//                            zero [consumer_tail, head), consumer_tail = head;
//                        if (head >= size) head = consumer_tail = 0;
//   batch = 16, or 1 if 16 > size / 2.
//
// Entries are addresses of a static int array: non-null and distinguishable.
#include "ptr-ring.h"

#include <gtest/gtest.h>

#include <vector>

using tunsim::PtrRing;
using tunsim::PtrRingBatchFor;

namespace
{

int g_items[4096];

int*
E(int i)
{
    return &g_items[i];
}

constexpr int kENOSPC = -28;

/// Asserts the three indices of the ring.
#define EXPECT_INDICES(r, p, h, t)                                                                 \
    do                                                                                             \
    {                                                                                              \
        EXPECT_EQ((r).Producer(), static_cast<uint32_t>(p)) << "producer";                         \
        EXPECT_EQ((r).ConsumerHead(), static_cast<uint32_t>(h)) << "consumer_head";                \
        EXPECT_EQ((r).ConsumerTail(), static_cast<uint32_t>(t)) << "consumer_tail";                \
    } while (0)

/// Produce entries E(first) .. E(first + n - 1); all must succeed.
void
ProduceN(PtrRing<int*>& r, int first, int n)
{
    for (int i = 0; i < n; ++i)
    {
        ASSERT_EQ(r.Produce(E(first + i)), 0) << "produce #" << i << " of " << n;
    }
}

/// Consume n entries, expecting E(first) .. E(first + n - 1) in order.
void
ConsumeN(PtrRing<int*>& r, int first, int n)
{
    for (int i = 0; i < n; ++i)
    {
        ASSERT_EQ(r.Consume(), E(first + i)) << "consume #" << i << " of " << n;
    }
}

/// Number of produces that succeed before the first -ENOSPC (the successful
/// entries stay in the ring). Stops at `limit`.
int
ProducesUntilFull(PtrRing<int*>& r, int firstId, int limit = 100000)
{
    int n = 0;
    while (n < limit && r.Produce(E(firstId + n)) == 0)
    {
        ++n;
    }
    return n;
}

} // namespace

// ------------------------------------------------------------------ batch

TEST(PtrRingBatch, KernelRule)
{
    // batch = SMP_CACHE_BYTES * 2 / sizeof(void *) = 16; 1 if 16 > size / 2.
    EXPECT_EQ(PtrRingBatchFor(1), 1u);
    EXPECT_EQ(PtrRingBatchFor(2), 1u);
    EXPECT_EQ(PtrRingBatchFor(25), 1u);
    EXPECT_EQ(PtrRingBatchFor(31), 1u); // 31 / 2 = 15 < 16
    EXPECT_EQ(PtrRingBatchFor(32), 16u); // 32 / 2 = 16, not > 16
    EXPECT_EQ(PtrRingBatchFor(33), 16u);
    EXPECT_EQ(PtrRingBatchFor(500), 16u);
    EXPECT_EQ(PtrRingBatchFor(65536), 16u);
}

TEST(PtrRingBatch, RingUsesTheRule)
{
    EXPECT_EQ(PtrRing<int*>(25).Batch(), 1u);
    EXPECT_EQ(PtrRing<int*>(31).Batch(), 1u);
    EXPECT_EQ(PtrRing<int*>(32).Batch(), 16u);
    EXPECT_EQ(PtrRing<int*>(500).Batch(), 16u);
    EXPECT_EQ(PtrRing<int*>(500).Size(), 500u);
}

// ------------------------------------------------------- empty ring basics

TEST(PtrRingBasics, EmptyRing)
{
    PtrRing<int*> r(25);
    EXPECT_TRUE(r.Empty());
    EXPECT_FALSE(r.Full());
    EXPECT_EQ(r.Count(), 0u);
    EXPECT_EQ(r.Peek(), nullptr);
    EXPECT_EQ(r.Consume(), nullptr);
    // a failed consume moves nothing
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_EQ(r.Count(), 0u);
}

TEST(PtrRingBasics, CountEmptyPeek)
{
    PtrRing<int*> r(25);
    ASSERT_EQ(r.Produce(E(0)), 0);
    EXPECT_FALSE(r.Empty());
    EXPECT_EQ(r.Count(), 1u);
    EXPECT_EQ(r.Peek(), E(0));
    EXPECT_EQ(r.Peek(), E(0)); // peek does not consume
    EXPECT_EQ(r.Count(), 1u);
    ASSERT_EQ(r.Produce(E(1)), 0);
    EXPECT_EQ(r.Count(), 2u);
    EXPECT_EQ(r.Peek(), E(0));
    EXPECT_EQ(r.Consume(), E(0));
    EXPECT_EQ(r.Count(), 1u);
    EXPECT_EQ(r.Peek(), E(1));
    EXPECT_EQ(r.Consume(), E(1));
    EXPECT_EQ(r.Count(), 0u);
    EXPECT_TRUE(r.Empty());
    EXPECT_EQ(r.Peek(), nullptr);
    EXPECT_EQ(r.Consume(), nullptr);
}

TEST(PtrRingBasics, EmptyWhileConsumedSlotsAreUnzeroed)
{
    // 500 entries (batch 16): produce 3, consume 3: nothing has been zeroed
    // (3 < 16) but queue[consumer_head = 3] is NULL, so __ptr_ring_empty().
    PtrRing<int*> r(500);
    ProduceN(r, 0, 3);
    ConsumeN(r, 0, 3);
    EXPECT_INDICES(r, 3, 3, 0);
    EXPECT_TRUE(r.Empty());
    EXPECT_EQ(r.Count(), 0u);
    EXPECT_EQ(r.Consume(), nullptr);
    EXPECT_INDICES(r, 3, 3, 0);
}

// ------------------------------------------------ 25 entries, batch 1

TEST(PtrRing25, HandTrace)
{
    PtrRing<int*> r(25);
    ASSERT_EQ(r.Batch(), 1u);
    EXPECT_INDICES(r, 0, 0, 0);

    ASSERT_EQ(r.Produce(E(0)), 0);
    EXPECT_INDICES(r, 1, 0, 0);
    ASSERT_EQ(r.Produce(E(1)), 0);
    ASSERT_EQ(r.Produce(E(2)), 0);
    EXPECT_INDICES(r, 3, 0, 0);
    EXPECT_EQ(r.Count(), 3u);

    // batch 1: each consume zeroes its own slot at once (head - tail = 1 >= 1)
    EXPECT_EQ(r.Consume(), E(0));
    EXPECT_INDICES(r, 3, 1, 1);
    EXPECT_EQ(r.Consume(), E(1));
    EXPECT_INDICES(r, 3, 2, 2);
    EXPECT_EQ(r.Count(), 1u);

    ASSERT_EQ(r.Produce(E(3)), 0);
    EXPECT_INDICES(r, 4, 2, 2);
    EXPECT_EQ(r.Consume(), E(2));
    EXPECT_INDICES(r, 4, 3, 3);
    EXPECT_EQ(r.Consume(), E(3));
    EXPECT_INDICES(r, 4, 4, 4);
    EXPECT_TRUE(r.Empty());
}

TEST(PtrRing25, FillConsumeOneFreesExactlyOne)
{
    PtrRing<int*> r(25);
    ProduceN(r, 0, 25);
    // producer wrapped to 0 and queue[0] holds E(0): full
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_TRUE(r.Full());
    EXPECT_EQ(r.Count(), 25u);
    EXPECT_EQ(r.Produce(E(100)), kENOSPC); // the 26th
    EXPECT_INDICES(r, 0, 0, 0);            // a failed produce moves nothing
    EXPECT_EQ(r.Count(), 25u);

    EXPECT_EQ(r.Consume(), E(0));
    EXPECT_INDICES(r, 0, 1, 1); // slot 0 zeroed at once (batch 1)
    EXPECT_FALSE(r.Full());
    EXPECT_EQ(r.Produce(E(25)), 0);
    EXPECT_INDICES(r, 1, 1, 1);
    EXPECT_TRUE(r.Full());
    EXPECT_EQ(r.Produce(E(101)), kENOSPC);
    EXPECT_EQ(r.Count(), 25u);
}

TEST(PtrRing25, WrapAround)
{
    PtrRing<int*> r(25);
    ProduceN(r, 0, 25);
    EXPECT_EQ(r.Consume(), E(0));
    ASSERT_EQ(r.Produce(E(25)), 0); // into slot 0
    EXPECT_INDICES(r, 1, 1, 1);

    // consume E(1)..E(23): head 24, tail 24
    ConsumeN(r, 1, 23);
    EXPECT_INDICES(r, 1, 24, 24);
    // E(24) is in the last slot: head reaches size -> zero, head = tail = 0
    EXPECT_EQ(r.Consume(), E(24));
    EXPECT_INDICES(r, 1, 0, 0);
    EXPECT_EQ(r.Count(), 1u);
    // E(25), written in slot 0 after the wrap, comes next (FIFO)
    EXPECT_EQ(r.Peek(), E(25));
    EXPECT_EQ(r.Consume(), E(25));
    EXPECT_INDICES(r, 1, 1, 1);
    EXPECT_TRUE(r.Empty());
    EXPECT_EQ(r.Count(), 0u);
    // the whole ring is free again: 25 produces, then full
    EXPECT_EQ(ProducesUntilFull(r, 200), 25);
    EXPECT_INDICES(r, 1, 1, 1);
}

// ---------------------------------------------- 500 entries, batch 16

TEST(PtrRing500, FifteenConsumesFreeNothingSixteenthFreesSixteen)
{
    PtrRing<int*> r(500);
    ASSERT_EQ(r.Batch(), 16u);
    ProduceN(r, 0, 500);
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_TRUE(r.Full());
    EXPECT_EQ(r.Produce(E(1000)), kENOSPC);

    for (int i = 0; i < 15; ++i)
    {
        ASSERT_EQ(r.Consume(), E(i));
        // read but not zeroed: the tail stays, the producer still sees full
        EXPECT_INDICES(r, 0, i + 1, 0);
        EXPECT_TRUE(r.Full()) << "after " << i + 1 << " consumes";
        EXPECT_EQ(r.Produce(E(1000)), kENOSPC) << "after " << i + 1 << " consumes";
    }
    EXPECT_EQ(r.Count(), 485u);

    // the 16th consume: head - tail = 16 >= batch: zero slots 0..15
    ASSERT_EQ(r.Consume(), E(15));
    EXPECT_INDICES(r, 0, 16, 16);
    EXPECT_FALSE(r.Full());
    EXPECT_EQ(r.Count(), 484u);

    // exactly 16 produces succeed (slots 0..15), the 17th finds E(16)
    EXPECT_EQ(ProducesUntilFull(r, 500), 16);
    EXPECT_INDICES(r, 16, 16, 16);
    EXPECT_EQ(r.Count(), 500u);
}

TEST(PtrRing500, TailMovesOnlyAtBatchBoundaries)
{
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    for (int k = 1; k <= 100; ++k)
    {
        ASSERT_EQ(r.Consume(), E(k - 1));
        EXPECT_EQ(r.ConsumerHead(), static_cast<uint32_t>(k));
        EXPECT_EQ(r.ConsumerTail(), static_cast<uint32_t>(k / 16 * 16)) << "after " << k << " consumes";
    }
}

TEST(PtrRing500, EndOfArrayZeroesPartialRunAndResetsIndices)
{
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    ConsumeN(r, 0, 496); // 31 full batches: tail 496
    EXPECT_INDICES(r, 0, 496, 496);
    // refill slots 0..495: producer stops at 496, which holds E(496) (unread)
    EXPECT_EQ(ProducesUntilFull(r, 500), 496);
    EXPECT_INDICES(r, 496, 496, 496);

    // read E(496)..E(498): 3 < 16, nothing zeroed
    ConsumeN(r, 496, 3);
    EXPECT_INDICES(r, 496, 499, 496);
    EXPECT_TRUE(r.Full());
    EXPECT_EQ(r.Produce(E(2000)), kENOSPC);

    // head runs to 499; reading E(499) makes head = size: slots 496..499 are
    // zeroed although only 4 (< 16) were read since the tail, and head and
    // tail go back to 0.
    EXPECT_EQ(r.Consume(), E(499));
    EXPECT_INDICES(r, 496, 0, 0);
    EXPECT_FALSE(r.Full());
    // exactly 4 slots are free (496..499), then E(500) in slot 0 blocks
    EXPECT_EQ(ProducesUntilFull(r, 3000), 4);
    EXPECT_INDICES(r, 0, 0, 0);
    // FIFO: what was produced into slots 0.. after the first wrap comes next
    EXPECT_EQ(r.Consume(), E(500));
    EXPECT_INDICES(r, 0, 1, 0);
}

TEST(PtrRing500, EndOfArrayWithFewReadsSinceTail)
{
    // Tail at 496, head at 499 and one more consume: exactly the brief's
    // "run the head to index 499" case, starting from a non-full ring.
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    ConsumeN(r, 0, 499);
    EXPECT_INDICES(r, 0, 499, 496);
    // slots 496..498 read, not zeroed; slot 499 unread
    EXPECT_EQ(r.Count(), 1u);
    EXPECT_FALSE(r.Full()); // producer 0: slot 0 was zeroed by the batch at 16
    EXPECT_EQ(r.Consume(), E(499));
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_TRUE(r.Empty());
    // everything is free: 500 produces, then full
    EXPECT_EQ(ProducesUntilFull(r, 1000), 500);
}

// --------------------------------------------------------------- FullNext

TEST(PtrRingFullNext, NotFullCasesAsNodropV6CallsIt)
{
    // v6's tun_ring_produce: if (!__ptr_ring_full(r) && __ptr_ring_full_next(r)) stop.
    // With size > 1 and !full the kernel returns queue[producer + 1 mod size].
    PtrRing<int*> r(4);
    EXPECT_FALSE(r.FullNext()); // producer 0, queue[1] NULL
    ProduceN(r, 0, 2);
    EXPECT_FALSE(r.FullNext()); // producer 2, queue[3] NULL
    ProduceN(r, 2, 1);
    EXPECT_FALSE(r.Full());
    EXPECT_TRUE(r.FullNext()); // producer 3, wraps: queue[0] = E(0)
    ProduceN(r, 3, 1);
    EXPECT_TRUE(r.Full());
}

TEST(PtrRingFullNext, NextSlotConsumedButNotZeroed)
{
    // 500 entries: produce 500, consume 20 -> tail 16, head 20; slots 16..19
    // are read but not zeroed. Refill 0..14: producer 15, queue[15] NULL (not
    // full) but queue[16] = E(16) still there: full_next.
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    ConsumeN(r, 0, 20);
    EXPECT_INDICES(r, 0, 20, 16);
    ProduceN(r, 500, 15);
    EXPECT_EQ(r.Producer(), 15u);
    EXPECT_FALSE(r.Full());
    EXPECT_TRUE(r.FullNext());
    ProduceN(r, 515, 1);
    EXPECT_TRUE(r.Full());
}

TEST(PtrRingFullNext, FullRingIsFullNext)
{
    // kernel: `if (r->size <= 1 || __ptr_ring_full(r)) return true;`
    PtrRing<int*> r(4);
    ProduceN(r, 0, 4);
    ASSERT_TRUE(r.Full());
    EXPECT_TRUE(r.FullNext());
}

TEST(PtrRingFullNext, SizeOneIsAlwaysFullNext)
{
    // kernel __ptr_ring_full_next(): `if (unlikely(r->size <= 1 || ...)) return true;`
    // A 1-entry ring is always "full after the next insertion", so NODROP v6
    // stops the queue before producing into an empty 1-entry ring.
    PtrRing<int*> r(1);
    ASSERT_FALSE(r.Full());
    EXPECT_TRUE(r.FullNext()) << "size 1, empty: kernel returns true (size <= 1)";
    ProduceN(r, 0, 1);
    EXPECT_TRUE(r.FullNext());
    EXPECT_EQ(r.Consume(), E(0));
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_TRUE(r.FullNext()) << "size 1, empty again: kernel returns true (size <= 1)";
}

// ---------------------------------------------------- ConsumeCreatedSpace

TEST(PtrRingConsumeCreatedSpace, Batch16)
{
    // consumer_head - consumer_tail < n
    PtrRing<int*> r(500);
    EXPECT_TRUE(r.ConsumeCreatedSpace(1)); // 0 - 0 < 1
    ProduceN(r, 0, 500);
    for (int k = 1; k <= 40; ++k)
    {
        ASSERT_EQ(r.Consume(), E(k - 1));
        bool flushed = k % 16 == 0;
        EXPECT_EQ(r.ConsumeCreatedSpace(1), flushed) << "after " << k << " consumes";
    }
    // now head 40, tail 32: distance 8
    EXPECT_FALSE(r.ConsumeCreatedSpace(8));
    EXPECT_TRUE(r.ConsumeCreatedSpace(9));
}

TEST(PtrRingConsumeCreatedSpace, Batch1AlwaysCreatesSpace)
{
    PtrRing<int*> r(25);
    ProduceN(r, 0, 25);
    for (int k = 0; k < 25; ++k)
    {
        ASSERT_EQ(r.Consume(), E(k));
        EXPECT_TRUE(r.ConsumeCreatedSpace(1)) << "after " << k + 1 << " consumes";
    }
}

TEST(PtrRingConsumeCreatedSpace, EndOfArrayResetCreatesSpace)
{
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    ConsumeN(r, 0, 499);
    EXPECT_FALSE(r.ConsumeCreatedSpace(1)); // head 499, tail 496
    EXPECT_EQ(r.Consume(), E(499));
    EXPECT_TRUE(r.ConsumeCreatedSpace(1)); // head = tail = 0
}

// ------------------------------------------------------------------ Spare

TEST(PtrRingSpare, V4DefinitionBatch16)
{
    // __ptr_ring_spare(r, cnt): !queue[(consumer_head - cnt) mod size]
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    ConsumeN(r, 0, 15);
    EXPECT_FALSE(r.Spare(1)); // queue[14] read, not zeroed
    EXPECT_FALSE(r.Spare(15)); // queue[0]
    ASSERT_EQ(r.Consume(), E(15)); // flush 0..15
    EXPECT_TRUE(r.Spare(1));  // queue[15]
    EXPECT_TRUE(r.Spare(16)); // queue[0]
    EXPECT_FALSE(r.Spare(17)); // 16 - 17 = -1 -> queue[499] = E(499)
    EXPECT_FALSE(r.Spare(0));  // queue[16] = E(16)
    EXPECT_FALSE(r.Spare(500)); // cnt == size: 16 - 500 + 500 = queue[16]
}

TEST(PtrRingSpare, FreshRing)
{
    PtrRing<int*> r(500);
    EXPECT_TRUE(r.Spare(1)); // 0 - 1 -> queue[499] NULL
    EXPECT_TRUE(r.Spare(0)); // queue[0] NULL
}

TEST(PtrRingSpare, CountLargerThanSizeMeansZero)
{
    // kernel: `if (cnt > size) cnt = 0;` so spare(cnt > size) is
    // !queue[consumer_head], i.e. __ptr_ring_empty().
    // 4 entries (batch 1): produce 4, consume 3 -> head 3, tail 3; slots
    // 0..2 NULL, slot 3 = E(3).
    PtrRing<int*> r(4);
    ProduceN(r, 0, 4);
    ConsumeN(r, 0, 3);
    EXPECT_INDICES(r, 0, 3, 3);
    EXPECT_FALSE(r.Spare(0)); // queue[3]
    EXPECT_TRUE(r.Spare(1));  // queue[2]
    EXPECT_TRUE(r.Spare(3));  // queue[0]
    EXPECT_FALSE(r.Spare(4)); // cnt == size: 3 - 4 + 4 = queue[3]
    // cnt = 5 > size: kernel checks queue[3] (E(3)) -> false. (Chosen so the
    // model's index 3 - 5 + 4 = 2 stays inside the array.)
    EXPECT_FALSE(r.Spare(5)) << "kernel: cnt > size -> cnt = 0 -> !queue[consumer_head]";
    EXPECT_FALSE(r.Spare(6)) << "kernel: cnt > size -> cnt = 0 -> !queue[consumer_head]";
}

// ----------------------------------------------------------------- Resize

TEST(PtrRingResize, ShrinkReturnsNewestKeepsOrderResetsIndices)
{
    PtrRing<int*> r(8);
    ProduceN(r, 0, 6);
    ConsumeN(r, 0, 2); // waiting: E(2) E(3) E(4) E(5)
    std::vector<int*> overflow = r.Resize(3);
    // __ptr_ring_swap_queue: E(2) E(3) E(4) fit, E(5) (the newest) is destroyed
    ASSERT_EQ(overflow.size(), 1u);
    EXPECT_EQ(overflow[0], E(5));
    EXPECT_EQ(r.Size(), 3u);
    EXPECT_EQ(r.Batch(), 1u);
    EXPECT_INDICES(r, 0, 0, 0); // producer 3 >= size -> 0
    EXPECT_EQ(r.Count(), 3u);
    EXPECT_TRUE(r.Full());
    EXPECT_EQ(r.Produce(E(100)), kENOSPC);
    ConsumeN(r, 2, 3);
    EXPECT_TRUE(r.Empty());
}

TEST(PtrRingResize, ShrinkAcrossTheWrap)
{
    PtrRing<int*> r(4);
    ProduceN(r, 0, 4);
    ConsumeN(r, 0, 3);
    ProduceN(r, 4, 2); // slots 0, 1: waiting E(3) E(4) E(5), wrapped
    EXPECT_INDICES(r, 2, 3, 3);
    std::vector<int*> overflow = r.Resize(2);
    ASSERT_EQ(overflow.size(), 1u);
    EXPECT_EQ(overflow[0], E(5));
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_EQ(r.Count(), 2u);
    ConsumeN(r, 3, 2);
    EXPECT_TRUE(r.Empty());
}

TEST(PtrRingResize, GrowKeepsAllAndRecomputesBatch)
{
    PtrRing<int*> r(25);
    ProduceN(r, 0, 25);
    ConsumeN(r, 0, 5);
    ProduceN(r, 25, 3); // wrapped into slots 0..2; waiting E(5)..E(27)
    std::vector<int*> overflow = r.Resize(500);
    EXPECT_TRUE(overflow.empty());
    EXPECT_EQ(r.Size(), 500u);
    EXPECT_EQ(r.Batch(), 16u);
    EXPECT_INDICES(r, 23, 0, 0); // 23 entries copied to 0..22
    EXPECT_EQ(r.Count(), 23u);
    EXPECT_EQ(ProducesUntilFull(r, 100), 477);
    ConsumeN(r, 5, 23);
    ConsumeN(r, 100, 477);
    EXPECT_TRUE(r.Empty());
}

TEST(PtrRingResize, ShrinkEmptyRing)
{
    PtrRing<int*> r(500);
    ProduceN(r, 0, 20);
    ConsumeN(r, 0, 20);
    std::vector<int*> overflow = r.Resize(25);
    EXPECT_TRUE(overflow.empty());
    EXPECT_INDICES(r, 0, 0, 0);
    EXPECT_EQ(r.Count(), 0u);
    EXPECT_TRUE(r.Empty());
    EXPECT_EQ(r.Batch(), 1u);
    EXPECT_EQ(ProducesUntilFull(r, 100), 25);
}

// --------------------------------------------------------- ConsumeBatched

TEST(PtrRingConsumeBatched, StopsAtFirstNull)
{
    PtrRing<int*> r(25);
    ProduceN(r, 0, 5);
    std::vector<int*> out;
    EXPECT_EQ(r.ConsumeBatched(out, 3), 3u);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], E(0));
    EXPECT_EQ(out[2], E(2));
    EXPECT_INDICES(r, 5, 3, 3);
    EXPECT_EQ(r.ConsumeBatched(out, 10), 2u);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[3], E(3));
    EXPECT_EQ(out[4], E(4));
    EXPECT_EQ(r.ConsumeBatched(out, 10), 0u);
    EXPECT_EQ(out.size(), 5u);
    EXPECT_TRUE(r.Empty());
}

TEST(PtrRingConsumeBatched, SameZeroingAsSingleConsumes)
{
    // __ptr_ring_consume_batched is n x __ptr_ring_consume: the tail still
    // moves in runs of 16.
    PtrRing<int*> r(500);
    ProduceN(r, 0, 500);
    std::vector<int*> out;
    EXPECT_EQ(r.ConsumeBatched(out, 20), 20u);
    EXPECT_INDICES(r, 0, 20, 16);
    for (int i = 0; i < 20; ++i)
    {
        EXPECT_EQ(out[i], E(i));
    }
    EXPECT_EQ(ProducesUntilFull(r, 1000), 16);
}
