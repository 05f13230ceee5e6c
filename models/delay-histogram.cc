#include "delay-histogram.h"

#include <algorithm>
#include <cmath>

namespace tunsim
{

int
DelayHistogram::BucketOf(uint64_t v)
{
    if (v < static_cast<uint64_t>(kSub))
    {
        return static_cast<int>(v);
    }
    int msb = 63 - __builtin_clzll(v);  // >= 6
    int shift = msb - 5;                // keep 6 significant bits: 32..63
    int sub = static_cast<int>(v >> shift); // 32..63
    return kSub + (shift - 1) * 32 + (sub - 32);
}

uint64_t
DelayHistogram::UpperEdge(int bucket)
{
    if (bucket < kSub)
    {
        return static_cast<uint64_t>(bucket);
    }
    int rel = bucket - kSub;
    int shift = rel / 32 + 1;
    uint64_t sub = static_cast<uint64_t>(rel % 32 + 32);
    return ((sub + 1) << shift) - 1;
}

void
DelayHistogram::Add(int64_t ns)
{
    uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
    int b = std::min(BucketOf(v), kBuckets - 1);
    ++m_buckets[b];
    ++m_count;
    m_sum += static_cast<double>(v);
    m_max = std::max<int64_t>(m_max, static_cast<int64_t>(v));
}

int64_t
DelayHistogram::QuantileNs(double q) const
{
    if (m_count == 0)
    {
        return 0;
    }
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(m_count)));
    rank = std::clamp<uint64_t>(rank, 1, m_count);
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b)
    {
        seen += m_buckets[b];
        if (seen >= rank)
        {
            return std::min<int64_t>(static_cast<int64_t>(UpperEdge(b)), m_max);
        }
    }
    return m_max;
}

std::vector<std::pair<int64_t, uint64_t>>
DelayHistogram::Buckets() const
{
    std::vector<std::pair<int64_t, uint64_t>> out;
    for (int b = 0; b < kBuckets; ++b)
    {
        if (m_buckets[b])
        {
            out.emplace_back(static_cast<int64_t>(UpperEdge(b)), m_buckets[b]);
        }
    }
    return out;
}

} // namespace tunsim
