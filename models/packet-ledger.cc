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

void
PacketLedger::Refused(uint32_t flowId, uint32_t bytes, uint32_t point)
{
    Sent(flowId, bytes);
    FlowLedger& f = m_flows.at(flowId);
    ++f.droppedPackets;
    ++m_drops[static_cast<int>(f.direction)].at(point);
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

uint32_t
PacketLedger::DropPoint(const std::string& place, const std::string& reason)
{
    auto [it, added] = m_pointIds.emplace(place + "/" + reason, static_cast<uint32_t>(m_pointIds.size()));
    if (added)
    {
        for (auto& perPoint : m_drops)
        {
            perPoint.push_back(0);
        }
    }
    return it->second;
}

void
PacketLedger::Dropped(ns3::Ptr<const ns3::Packet> p, uint32_t point)
{
    FlowLedger* f = Lookup(p);
    if (!f)
    {
        return;
    }
    ++f->droppedPackets;
    ++m_drops[static_cast<int>(f->direction)].at(point);
}

std::map<std::string, uint64_t>
PacketLedger::Drops(Direction d) const
{
    std::map<std::string, uint64_t> out;
    const auto& perPoint = m_drops[static_cast<int>(d)];
    for (const auto& [name, id] : m_pointIds)
    {
        if (perPoint[id] > 0)
        {
            out[name] = perPoint[id];
        }
    }
    return out;
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
