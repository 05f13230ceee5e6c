// DelayHistogram: one-way delays in O(1) per sample and bounded memory.
//
// Log-linear buckets (as HdrHistogram): exact below 64 ns, then 32 linear
// sub-buckets per power of two, so a reported percentile is at most 1/32
// (3.1 %) above the true sample; the maximum is kept exactly.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace tunsim
{

class DelayHistogram
{
  public:
    void Add(int64_t ns);
    uint64_t Count() const { return m_count; }
    int64_t Max() const { return m_max; }
    double MeanNs() const { return m_count ? m_sum / static_cast<double>(m_count) : 0.0; }
    /// The q-quantile (0 < q <= 1): the upper edge of the bucket holding the
    /// ceil(q * count)-th smallest sample, clipped to the maximum. 0 if empty.
    int64_t QuantileNs(double q) const;

    /// The non-empty buckets, in increasing order: (upper edge in ns, count).
    /// Merging two histograms' bucket lists adds counts of equal edges.
    std::vector<std::pair<int64_t, uint64_t>> Buckets() const;

  private:
    static constexpr int kSub = 64;
    static constexpr int kBuckets = 64 + 58 * 32;
    static int BucketOf(uint64_t v);
    static uint64_t UpperEdge(int bucket);

    std::array<uint64_t, kBuckets> m_buckets{};
    uint64_t m_count = 0;
    int64_t m_max = 0;
    double m_sum = 0;
};

} // namespace tunsim
