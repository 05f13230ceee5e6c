#include "packet-ledger.h"

#include "tunsim-tag.h"

#include "ns3/packet.h"
#include "ns3/simulator.h"

namespace tunsim
{

uint32_t
PacketLedger::AddFlow(const std::string& name, Direction d)
{
    FlowLedger f;
    f.name = name;
    f.direction = d;
    m_flows.push_back(std::move(f));
    return static_cast<uint32_t>(m_flows.size() - 1);
}

void
PacketLedger::Sent(uint32_t flowId, uint32_t bytes)
{
    FlowLedger& f = m_flows.at(flowId);
    ++f.sentPackets;
    f.sentBytes += bytes;
}

FlowLedger*
PacketLedger::Lookup(ns3::Ptr<const ns3::Packet> p)
{
    TunsimTag tag;
    if (!p->PeekPacketTag(tag) || tag.flowId >= m_flows.size())
    {
        ++m_untracked;
        return nullptr;
    }
    return &m_flows[tag.flowId];
}

void
PacketLedger::Delivered(ns3::Ptr<const ns3::Packet> p)
{
    TunsimTag tag;
    if (!p->PeekPacketTag(tag) || tag.flowId >= m_flows.size())
    {
        ++m_untracked;
        return;
    }
    FlowLedger& f = m_flows[tag.flowId];
    ++f.deliveredPackets;
    f.deliveredBytes += p->GetSize();
    f.delay.Add(ns3::Simulator::Now().GetNanoSeconds() - tag.txTimeNs);
}

void
PacketLedger::Dropped(ns3::Ptr<const ns3::Packet> p,
                      const std::string& place,
                      const std::string& reason)
{
    FlowLedger* f = Lookup(p);
    if (!f)
    {
        return;
    }
    ++f->droppedPackets;
    ++m_drops[static_cast<int>(f->direction)][place + "/" + reason];
}

uint64_t
PacketLedger::SentPackets(Direction d) const
{
    uint64_t n = 0;
    for (const auto& f : m_flows)
    {
        n += f.direction == d ? f.sentPackets : 0;
    }
    return n;
}

uint64_t
PacketLedger::DeliveredPackets(Direction d) const
{
    uint64_t n = 0;
    for (const auto& f : m_flows)
    {
        n += f.direction == d ? f.deliveredPackets : 0;
    }
    return n;
}

uint64_t
PacketLedger::DroppedPackets(Direction d) const
{
    uint64_t n = 0;
    for (const auto& f : m_flows)
    {
        n += f.direction == d ? f.droppedPackets : 0;
    }
    return n;
}

} // namespace tunsim
