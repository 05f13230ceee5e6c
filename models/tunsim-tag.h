// TunsimTag: what tunsim needs to know about an skb as it travels.
//
// One packet tag carries the flow the packet belongs to, when its sender
// handed it down, and the socket it is charged to (the skb->sk /
// skb->truesize pair that skb_set_owner_w() sets and skb_orphan() clears).
#pragma once

#include "ns3/tag.h"

#include <cstdint>

namespace tunsim
{

class TunsimTag : public ns3::Tag
{
  public:
    TunsimTag() = default;
    TunsimTag(uint32_t flowId, int64_t txTimeNs, uint32_t ownerId, uint32_t truesize);

    static ns3::TypeId GetTypeId();
    ns3::TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(ns3::TagBuffer i) const override;
    void Deserialize(ns3::TagBuffer i) override;
    void Print(std::ostream& os) const override;

    uint32_t flowId = 0;   ///< tunsim flow index (0-based)
    int64_t txTimeNs = 0;  ///< when the sending socket handed the packet down
    uint32_t ownerId = 0;  ///< SocketAccount id charged for it; 0 = orphaned
    uint32_t truesize = 0; ///< bytes charged (skb->truesize)
};

} // namespace tunsim
