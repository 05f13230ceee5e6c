// PacketLedger: where every packet of a run went.
//
// Each packet entering the tunnel is tagged (TunsimTag) by its sending socket
// and counted as sent for its flow; it leaves the books exactly once, either
// delivered at the far end of the tunnel or dropped at a named place for a
// named reason. Whatever is neither is still queued somewhere, and the run
// checks that the queues really hold that many (conservation).
#pragma once

#include "delay-histogram.h"

#include "ns3/ptr.h"
#include "ns3/simple-ref-count.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ns3
{
class Packet;
}

namespace tunsim
{

/// Direction through the tunnel: forward = client -> tun0 -> peer.
enum class Direction : uint8_t
{
    Forward = 0,
    Reverse = 1,
};

struct FlowLedger
{
    std::string name;
    Direction direction = Direction::Forward;
    uint64_t sentPackets = 0;
    uint64_t sentBytes = 0;
    uint64_t deliveredPackets = 0;
    uint64_t deliveredBytes = 0;
    uint64_t droppedPackets = 0;
    DelayHistogram delay; ///< send -> tunnel exit, ns
};

class PacketLedger : public ns3::SimpleRefCount<PacketLedger>
{
  public:
    /// Register a flow; returns its id (the TunsimTag flowId).
    uint32_t AddFlow(const std::string& name, Direction d);

    /// A socket handed the (tagged) packet down; `bytes` is its L3 size.
    void Sent(uint32_t flowId, uint32_t bytes);
    /// A datagram of flow `flowId` (L3 `bytes`) the application generated
    /// but the socket refused (send() -> -EAGAIN): counted as sent and as
    /// dropped at drop point `point` at once (no packet was made).
    void Refused(uint32_t flowId, uint32_t bytes, uint32_t point);
    /// The packet left the tunnel at the far end (decapsulated).
    void Delivered(ns3::Ptr<const ns3::Packet> p);
    /// The id of drop point "place/reason", registered on first use. Drop
    /// sites look theirs up once, so a drop costs no string work.
    uint32_t DropPoint(const std::string& place, const std::string& reason);
    /// The packet was freed at drop point `point` (from DropPoint()).
    void Dropped(ns3::Ptr<const ns3::Packet> p, uint32_t point);
    /// The packet was freed at `place` for `reason`.
    void Dropped(ns3::Ptr<const ns3::Packet> p, const std::string& place, const std::string& reason)
    {
        Dropped(p, DropPoint(place, reason));
    }

    const std::vector<FlowLedger>& Flows() const { return m_flows; }
    /// Per direction: "place/reason" -> packets (points with drops only).
    std::map<std::string, uint64_t> Drops(Direction d) const;
    uint64_t SentPackets(Direction d) const;
    uint64_t DeliveredPackets(Direction d) const;
    uint64_t DroppedPackets(Direction d) const;
    /// Packets seen at a drop or delivery point without a TunsimTag (should be 0).
    uint64_t Untracked() const { return m_untracked; }

  private:
    FlowLedger* Lookup(ns3::Ptr<const ns3::Packet> p);

    std::vector<FlowLedger> m_flows;
    std::map<std::string, uint32_t> m_pointIds; ///< "place/reason" -> point id (0, 1, ...)
    std::vector<uint64_t> m_drops[2];           ///< per direction, per point id
    uint64_t m_untracked = 0;
};

} // namespace tunsim
