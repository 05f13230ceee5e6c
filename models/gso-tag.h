// GsoTag: which GSO skb a TCP segment belongs to.
//
// Linux TCP hands the stack GSO skbs of several segments (tcp_tso_autosize():
// about 1 ms of data at the pacing rate, at least 2 segments); a qdisc holds
// and counts such an skb as one packet, and for a device without TSO (tun
// without TUNSETOFFLOAD) validate_xmit_skb() cuts it into segments after the
// dequeue, which dev_hard_start_xmit() passes to the driver one by one.
// tunsim's TCP sends the segments one by one and marks those of one skb with
// the same GsoTag; LinuxFifoQueueDisc counts them as one packet. The tag also
// says how many segments the skb has (skb_shinfo(skb)->gso_segs), so a device
// with offloads (a tap after TUNSETOFFLOAD) can take the whole skb as one
// ring entry (TunNetDevice).
#pragma once

#include "ns3/tag.h"

#include <cstdint>

namespace tunsim
{

class GsoTag : public ns3::Tag
{
  public:
    GsoTag() = default;
    explicit GsoTag(uint64_t skb, uint32_t segs = 0)
        : m_skb(skb),
          m_segs(segs)
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
    /// gso_segs: the segments of that skb (0 = not known).
    uint32_t Segs() const { return m_segs; }

    /// A fresh skb number.
    static uint64_t Next();

  private:
    uint64_t m_skb = 0;
    uint32_t m_segs = 0;
};

} // namespace tunsim

namespace tunsim
{

/// VnetFrameTag: the segment reached the guest inside one GSO frame (a tap
/// with offloads hands the skb whole to the VM backend, which writes it into
/// the guest with a virtio_net_hdr of gso_type TCPV4; the guest's driver
/// builds ONE skb of it: virtio_net_hdr_to_skb(), receive_mergeable()).
/// tunsim still carries the frame's segments; the tag tells the guest's TCP
/// which one ends the frame, so that it acknowledges once per frame as
/// __tcp_ack_snd_check() does for one skb of more than one full segment.
class VnetFrameTag : public ns3::Tag
{
  public:
    VnetFrameTag() = default;
    explicit VnetFrameTag(bool last)
        : m_last(last)
    {
    }
    static ns3::TypeId GetTypeId();
    ns3::TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override { return 1; }
    void Serialize(ns3::TagBuffer i) const override { i.WriteU8(m_last ? 1 : 0); }
    void Deserialize(ns3::TagBuffer i) override { m_last = i.ReadU8() != 0; }
    void Print(std::ostream& os) const override { os << "vnet-frame last=" << m_last; }

    /// The frame's last segment (the end of the guest's skb).
    bool Last() const { return m_last; }

  private:
    bool m_last = false;
};

} // namespace tunsim
