// GsoTag: which GSO skb a TCP segment belongs to.
//
// Linux TCP hands the stack GSO skbs of several segments (tcp_tso_autosize():
// about 1 ms of data at the pacing rate, at least 2 segments); a qdisc holds
// and counts such an skb as one packet, and for a device without TSO (tun
// without TUNSETOFFLOAD) validate_xmit_skb() cuts it into segments after the
// dequeue, which dev_hard_start_xmit() passes to the driver one by one.
// tunsim's TCP sends the segments one by one and marks those of one skb with
// the same GsoTag; LinuxFifoQueueDisc counts them as one packet.
#pragma once

#include "ns3/tag.h"

#include <cstdint>

namespace tunsim
{

class GsoTag : public ns3::Tag
{
  public:
    GsoTag() = default;
    explicit GsoTag(uint64_t skb)
        : m_skb(skb)
    {
    }
    static ns3::TypeId GetTypeId();
    ns3::TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(ns3::TagBuffer i) const override;
    void Deserialize(ns3::TagBuffer i) override;
    void Print(std::ostream& os) const override;

    /// The GSO skb's number, unique in a run; 0 = a segment of its own.
    uint64_t Skb() const { return m_skb; }

    /// A fresh skb number.
    static uint64_t Next();

  private:
    uint64_t m_skb = 0;
};

} // namespace tunsim
