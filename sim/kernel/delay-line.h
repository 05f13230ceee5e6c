// The underlay of the TCP twin, one way: a queue between two threads (the
// client's VPN reader and the far end) that holds each packet until it is
// due. A packet departs at max(push time, last departure) + its bytes at the
// underlay's rate (the link serialises), and is due underlay.delay_ms after
// it departed. Bounded: a push into a full line is a drop (place
// "forwarder"). One producer, one consumer; an eventfd tells a consumer that
// sleeps in poll() that a packet arrived into an empty line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// One packet in a delay line.
struct LinePacket
{
    int64_t readNs = 0; ///< when the producer got it off its tun device (read() began)
    int64_t dueNs = 0;  ///< when the consumer may write it into its tun device
    std::vector<uint8_t> bytes;
};

class DelayLine
{
  public:
    /// `rateMbps` and `delayMs` of the underlay; `overheadBytes` added to each
    /// packet's length on the wire (the VPN's encapsulation and its UDP/IP
    /// headers); at most `capacity` packets.
    DelayLine(double rateMbps, double delayMs, uint32_t overheadBytes, size_t capacity);
    ~DelayLine();
    DelayLine(const DelayLine&) = delete;
    DelayLine& operator=(const DelayLine&) = delete;

    /// Producer: the packet leaves at `now` (read() began at `readNs`); false,
    /// counted as a drop, when the line is full.
    bool Push(std::vector<uint8_t>&& bytes, int64_t readNs, int64_t now);

    /// Consumer: take the head if it is due at `now`.
    bool PopDue(int64_t now, LinePacket& out);

    /// Consumer: the head's due time, or -1 when the line is empty.
    int64_t NextDue() const;

    size_t Size() const;

    /// Readable after a push into an empty line, or after Kick(); the
    /// consumer polls it beside its tun device and calls ClearEvent().
    int EventFd() const { return m_event; }
    void ClearEvent() const;

    /// Wake the consumer (to see a stop or end request).
    void Kick() const;

    uint64_t Pushed() const;
    uint64_t Drops() const;
    size_t MaxDepth() const;

  private:
    const double m_nsPerByte;
    const int64_t m_delayNs;
    const uint32_t m_overhead;
    const size_t m_capacity;
    mutable std::mutex m_mu;
    std::deque<LinePacket> m_q;
    double m_lastDepartureNs = 0;
    uint64_t m_pushed = 0;
    uint64_t m_drops = 0;
    size_t m_maxDepth = 0;
    int m_event = -1;
};

} // namespace kernel
} // namespace tunsim
