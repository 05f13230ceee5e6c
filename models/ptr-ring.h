// PtrRing: include/linux/ptr_ring.h, entry for entry.
//
// A fixed array of pointers; an entry is free when it holds null. The producer
// writes queue[producer] and advances; the consumer reads queue[consumer_head]
// and advances, but does NOT clear the slot at once: consumed slots are zeroed
// in runs of `batch` (or when the end of the array is reached), from the end
// of the run backwards, and only then does consumer_tail catch up. So the
// producer can see the ring as full although fewer than `size` entries are
// waiting: up to batch-1 consumed-but-unzeroed slots sit in front of it.
//
// Every operation is O(1) (resize is O(size)). Names follow the kernel's so
// the two can be read side by side; the double-underscore "unlocked" variants
// are the only ones, as a discrete-event simulation has no concurrency.
//
// T must be a nullable pointer type (raw pointer, ns3::Ptr<>): the ring tests
// emptiness of a slot with `!slot`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tunsim
{

/// SMP_CACHE_BYTES on x86-64.
constexpr uint32_t kSmpCacheBytes = 64;
/// The kernel's pointer size on x86-64: sizeof(void *).
constexpr uint32_t kPointerBytes = 8;

/// mirrors the batch rule in __ptr_ring_set_size(): 2 cache lines of
/// pointers (16 on x86-64), but 1 when that exceeds half the ring.
constexpr uint32_t
PtrRingBatchFor(uint32_t size)
{
    uint32_t batch = kSmpCacheBytes * 2 / kPointerBytes;
    if (batch > size / 2 || batch == 0)
    {
        batch = 1;
    }
    return batch;
}

template <typename T>
class PtrRing
{
  public:
    /// mirrors ptr_ring_init(): `size` slots, all free. size >= 1.
    explicit PtrRing(uint32_t size)
    {
        SetSize(size);
        m_queue.assign(m_size, T());
    }

    uint32_t Size() const { return m_size; }
    uint32_t Batch() const { return m_batch; }
    uint32_t Producer() const { return m_producer; }
    uint32_t ConsumerHead() const { return m_consumerHead; }
    uint32_t ConsumerTail() const { return m_consumerTail; }

    /// Entries produced and not yet consumed (what a reader would still get).
    /// Not a kernel helper: the kernel never counts; tunsim reports it.
    uint32_t Count() const { return m_count; }

    /// mirrors __ptr_ring_full(): the slot the producer would write is taken.
    bool Full() const { return static_cast<bool>(m_queue[m_producer]); }

    /// mirrors __ptr_ring_full_next() (NODROP v5+): the next produce will make
    /// the ring full: a ring of one slot, a full ring, or the slot after
    /// `producer` is taken (the zeroing runs backwards, so the next slot can be
    /// free while the current one is not).
    bool FullNext() const
    {
        if (m_size <= 1 || Full())
        {
            return true;
        }
        uint32_t p = m_producer + 1;
        if (p >= m_size)
        {
            p = 0;
        }
        return static_cast<bool>(m_queue[p]);
    }

    /// mirrors __ptr_ring_empty(): nothing at consumer_head.
    bool Empty() const { return !m_queue[m_consumerHead]; }

    /// mirrors __ptr_ring_produce(): 0 on success, -ENOSPC (-28) when full.
    int Produce(T ptr)
    {
        if (Full())
        {
            return -28;
        }
        m_queue[m_producer++] = std::move(ptr);
        if (m_producer >= m_size)
        {
            m_producer = 0;
        }
        ++m_count;
        return 0;
    }

    /// mirrors __ptr_ring_peek(): the entry at consumer_head, or null.
    const T& Peek() const { return m_queue[m_consumerHead]; }

    /// mirrors __ptr_ring_discard_one(): advance consumer_head; once `batch`
    /// entries (or the end of the array) are behind it, zero the run
    /// [consumer_tail, consumer_head) from its end backwards so the producer
    /// never overtakes the consumer, and move consumer_tail.
    void DiscardOne()
    {
        uint32_t head = m_consumerHead + 1;
        if (head - m_consumerTail >= m_batch || head >= m_size)
        {
            // Zero out entries in the reverse order: this way the cache line
            // the producer will write next is touched last (as in the kernel).
            while (head > m_consumerTail)
            {
                m_queue[--head] = T();
            }
            m_consumerTail = m_consumerHead + 1;
            if (m_consumerTail >= m_size)
            {
                m_consumerTail = 0;
            }
        }
        // As in the kernel, a consumed entry stays in its slot until its run is
        // zeroed: the slot is still taken for the producer.
        m_consumerHead = m_consumerHead + 1 >= m_size ? 0 : m_consumerHead + 1;
        --m_count;
    }

    /// mirrors __ptr_ring_consume(): peek, and discard if there was an entry.
    T Consume()
    {
        T ptr = m_queue[m_consumerHead];
        if (ptr)
        {
            DiscardOne();
        }
        return ptr;
    }

    /// mirrors __ptr_ring_consume_batched(): up to n entries into out.
    uint32_t ConsumeBatched(std::vector<T>& out, uint32_t n)
    {
        uint32_t i = 0;
        for (; i < n; ++i)
        {
            T ptr = Consume();
            if (!ptr)
            {
                break;
            }
            out.push_back(std::move(ptr));
        }
        return i;
    }

    /// mirrors __ptr_ring_consume_created_space() (NODROP v6+): the last
    /// consume zeroed a run, so the producer got room: true when
    /// consumer_head - consumer_tail < n.
    bool ConsumeCreatedSpace(uint32_t n) const
    {
        return DistanceTailToHead() < n;
    }

    /// mirrors __ptr_ring_spare() (NODROP v4): at least `cnt` slots behind
    /// consumer_head are free, i.e. queue[consumer_head - cnt] is null.
    bool Spare(uint32_t cnt) const
    {
        if (cnt > m_size)
        {
            cnt = 0; // as the kernel: a count beyond the ring checks the head itself
        }
        int64_t idx = static_cast<int64_t>(m_consumerHead) - cnt;
        if (idx < 0)
        {
            idx += m_size;
        }
        return !m_queue[static_cast<uint32_t>(idx)];
    }

    /// mirrors ptr_ring_resize(): copy the waiting entries, oldest first, into
    /// a new array of `size` slots; entries that do not fit are returned to the
    /// caller (the kernel hands them to the destroy callback, tun frees them).
    std::vector<T> Resize(uint32_t size)
    {
        std::vector<T> overflow;
        std::vector<T> queue(size, T());
        uint32_t producer = 0;
        for (T ptr = Consume(); ptr; ptr = Consume())
        {
            if (producer < size)
            {
                queue[producer++] = std::move(ptr);
            }
            else
            {
                overflow.push_back(std::move(ptr));
            }
        }
        if (producer >= size)
        {
            producer = 0;
        }
        SetSize(size);
        m_queue = std::move(queue);
        m_producer = producer;
        m_consumerHead = 0;
        m_consumerTail = 0;
        m_count = 0;
        for (uint32_t i = 0; i < m_size && m_queue[i]; ++i)
        {
            ++m_count;
        }
        return overflow;
    }

    /// Force the batch (the legacy skb-queue model uses 1: a list frees
    /// entries one by one). Not a kernel API.
    void OverrideBatch(uint32_t batch) { m_batch = batch == 0 ? 1 : batch; }

  private:
    /// mirrors __ptr_ring_set_size().
    void SetSize(uint32_t size)
    {
        m_size = size == 0 ? 1 : size;
        m_batch = PtrRingBatchFor(m_size);
    }

    /// consumer_head - consumer_tail as the kernel computes it: the tail never
    /// passes the head (when the head wraps to 0 the tail is reset with it).
    uint32_t DistanceTailToHead() const { return m_consumerHead - m_consumerTail; }

    std::vector<T> m_queue;
    uint32_t m_size = 0;
    uint32_t m_batch = 1;
    uint32_t m_producer = 0;
    uint32_t m_consumerHead = 0;
    uint32_t m_consumerTail = 0;
    uint32_t m_count = 0;
};

} // namespace tunsim
