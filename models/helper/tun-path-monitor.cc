#include "tun-path-monitor.h"

#include "socket-account.h"
#include "tunsim-tag.h"
#include "unaligned-be.h"

#include "ns3/queue.h"
#include "ns3/queue-disc.h"
#include "ns3/simulator.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/traffic-control-layer.h"

#include <array>

namespace tunsim
{

void
BacklogStats::Change(uint32_t, uint32_t n)
{
    const int64_t now = ns3::Simulator::Now().GetNanoSeconds();
    area += static_cast<long double>(last) * (now - lastNs);
    lastNs = now;
    last = n;
    max = std::max(max, n);
}

double
BacklogStats::Mean(int64_t endNs) const
{
    if (endNs <= 0)
    {
        return last;
    }
    return static_cast<double>((area + static_cast<long double>(last) * (endNs - lastNs)) / endNs);
}

namespace
{
using PacketTrace = ns3::Callback<void, ns3::Ptr<const ns3::Packet>>;
} // namespace

TunPathMonitor::TunPathMonitor(const TunPath& path, ns3::Ptr<PacketLedger> ledger)
    : m_path(path),
      m_ledger(ledger)
{
    using namespace ns3;
    // Deliveries: the peer writes into its tunnel device; the reader into tun0.
    path.peer->SetDeliveryCallback([ledger](Ptr<const Packet> p) { ledger->Delivered(p); });
    // (For a VM: the backend writes the guest's frames into the tap.)
    for (const auto& reader : path.readers)
    {
        reader->SetReverseDeliveryCallback([ledger](Ptr<const Packet> p) { ledger->Delivered(p); });
    }
    if (path.vm)
    {
        path.vm->SetReverseDeliveryCallback([ledger](Ptr<const Packet> p) { ledger->Delivered(p); });
    }

    for (const auto& leaf : path.tunLeafQdiscs)
    {
        ConnectQdisc(leaf, "tun0_qdisc");
    }
    ConnectQdisc(path.clientNicQdisc, "underlay_qdisc");
    ConnectQdisc(path.serverNicQdisc, "underlay_qdisc");

    std::array<uint32_t, static_cast<size_t>(TunDropReason::COUNT)> ringPoints{};
    for (size_t r = 0; r < ringPoints.size(); ++r)
    {
        ringPoints[r] = ledger->DropPoint("tun0_ring", TunDropReasonName(static_cast<TunDropReason>(r)));
    }
    // tun_net_xmit() orphaned the skb before the ring: nothing to release.
    path.tun->TraceConnectWithoutContext(
        "Drop", Callback<void, Ptr<const Packet>, TunDropReason>([ledger, ringPoints](Ptr<const Packet> p, TunDropReason r) {
            ledger->Dropped(p, ringPoints[static_cast<size_t>(r)]);
        }));
    // noqueue + stopped txq: __dev_queue_xmit() frees the skb (still charged
    // to its socket) and counts tx_dropped.
    path.client->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
        "TcDrop", PacketTrace([this, ledger, point = ledger->DropPoint("tun0_noqueue", "TXQ_STOPPED")](
                                  Ptr<const Packet> p) {
            ++m_noqueueDrops;
            SocketAccountTable::Orphan(p);
            ledger->Dropped(p, point);
        }));
    PacketTrace nicDrop([ledger, point = ledger->DropPoint("underlay_nic", "QUEUE_FULL")](Ptr<const Packet> p) {
        SocketAccountTable::Orphan(p);
        ledger->Dropped(p, point);
    });
    path.clientNic->TraceConnectWithoutContext("MacTxDrop", nicDrop);
    path.serverNic->TraceConnectWithoutContext("MacTxDrop", nicDrop);
    // The underlay NIC finished sending: the skb is freed, sock_wfree() for
    // the VPN's socket.
    path.clientNic->TraceConnectWithoutContext("PhyTxEnd",
                                               PacketTrace([](Ptr<const Packet> p) { SocketAccountTable::Orphan(p); }));
    auto countWire = [](Ptr<PointToPointNetDevice> from, Ptr<PointToPointNetDevice> to, WireCount& w) {
        from->TraceConnectWithoutContext("PhyTxBegin", PacketTrace([&w](Ptr<const Packet>) { ++w.txBegin; }));
        to->TraceConnectWithoutContext("PhyRxEnd", PacketTrace([&w](Ptr<const Packet>) { ++w.rxEnd; }));
    };
    countWire(path.clientNic, path.serverNic, m_wireForward);
    countWire(path.serverNic, path.clientNic, m_wireReverse);
    if (path.tunLeafQdiscs.size() == 1)
    {
        path.tunQdisc->TraceConnectWithoutContext("PacketsInQueue", MakeCallback(&BacklogStats::Change, &m_tunBacklog));
    }
    else
    {
        // mq: the backlog of all children, updated by the changed one's delta.
        m_leafBacklog.assign(path.tunLeafQdiscs.size(), 0);
        for (size_t i = 0; i < path.tunLeafQdiscs.size(); ++i)
        {
            path.tunLeafQdiscs[i]->TraceConnectWithoutContext(
                "PacketsInQueue", Callback<void, uint32_t, uint32_t>([this, i](uint32_t, uint32_t n) {
                    const uint32_t total = m_tunBacklog.last - m_leafBacklog[i] + n;
                    m_leafBacklog[i] = n;
                    m_tunBacklog.Change(0, total);
                }));
        }
    }
}

void
TunPathMonitor::ConnectQdisc(ns3::Ptr<ns3::QueueDisc> q, const std::string& place)
{
    if (!q)
    {
        return;
    }
    ns3::Ptr<PacketLedger> ledger = m_ledger;
    // A qdisc drop frees the skb: sock_wfree() of whoever owned it.
    ns3::Callback<void, ns3::Ptr<const ns3::QueueDiscItem>, const char*> drop(
        [ledger, place](ns3::Ptr<const ns3::QueueDiscItem> item, const char* reason) {
            ns3::Ptr<ns3::Packet> p = item->GetPacket();
            SocketAccountTable::Orphan(p);
            ledger->Dropped(p, place, reason);
        });
    q->TraceConnectWithoutContext("DropBeforeEnqueue", drop);
    q->TraceConnectWithoutContext("DropAfterDequeue", drop);
}

void
TunPathMonitor::TrackReverse(std::map<uint16_t, uint32_t> flowBySourcePort, uint32_t otherFlow)
{
    using namespace ns3;
    Ptr<PacketLedger> ledger = m_ledger;
    m_path.peer->SetReverseEntryCallback([ledger, flowBySourcePort, otherFlow](Ptr<Packet> p) {
        // The IPv4 header's protocol and the TCP source port, read from the
        // bytes (Ipv4Header / TcpHeader deserialization made a TcpOption
        // object per option, per ACK): version/IHL in byte 0, protocol in
        // byte 9, the source port in the transport header's first two bytes.
        uint8_t b[64];
        const uint32_t n = p->CopyData(b, sizeof b);
        const uint32_t ihl = n >= 20 ? 4u * (b[0] & 0x0fu) : 0;
        uint32_t flow = otherFlow;
        if (n >= 20 && b[9] == TcpL4Protocol::PROT_NUMBER && n >= ihl + 2)
        {
            const uint16_t port = GetUnalignedBe16(b + ihl);
            auto it = flowBySourcePort.find(port);
            if (it != flowBySourcePort.end())
            {
                flow = it->second;
            }
        }
        p->AddPacketTag(TunsimTag(flow, Simulator::Now().GetNanoSeconds(), 0, 0));
        ledger->Sent(flow, p->GetSize());
    });
}

std::map<std::string, uint64_t>
TunPathMonitor::StillQueued(Direction d) const
{
    std::map<std::string, uint64_t> q;
    if (d == Direction::Forward)
    {
        uint64_t qdisc = 0;
        for (const auto& leaf : m_path.tunLeafQdiscs)
        {
            // GetNPackets() leaves out a packet ns-3 holds as requeued (a
            // multiqueue qdisc dequeued it for a stopped queue: the
            // dev_requeue_skb() case); GetStats() counts it as dequeued
            // and not sent.
            const ns3::QueueDisc::Stats& st = leaf->GetStats();
            qdisc += leaf->GetNPackets() +
                     (st.nTotalDequeuedPackets - st.nTotalDroppedPacketsAfterDequeue - st.nTotalSentPackets);
        }
        uint64_t ring = 0;
        for (uint32_t i = 0; i < m_path.tun->GetNQueues(); ++i)
        {
            // entries, and the further segments of GSO entries (offloads)
            ring += m_path.tun->GetQueue(i).Ring().Count() + m_path.tun->GetQueue(i).ExtraSegments();
        }
        uint64_t inHand = 0;
        for (const auto& reader : m_path.readers)
        {
            inHand += reader->InHand();
        }
        q["tun0_qdisc"] = qdisc;
        q["tun0_ring"] = ring;
        if (m_path.vm)
        {
            // Taken from the tap ring, not yet in the guest; in the guest's
            // receive ring, not yet handed to its stack.
            q["vm_backend"] = m_path.vm->InHand();
            q["guest_rxq"] = m_path.vm->Guest()->Queued();
        }
        else
        {
            q["vpn_reader"] = inHand;
        }
        if (m_path.peer->Sleeps())
        {
            q["vpn_peer"] = m_path.peer->PendingForward();
        }
        q["underlay_qdisc"] = m_path.clientNicQdisc ? m_path.clientNicQdisc->GetNPackets() : 0;
        q["underlay_nic"] = m_path.clientNic->GetQueue()->GetNPackets();
        q["underlay_wire"] = m_wireForward.txBegin - m_wireForward.rxEnd;
    }
    else
    {
        if (m_path.vm)
        {
            q["vm_backend"] = m_path.vm->ReverseWaiting();
        }
        else
        {
            uint64_t waiting = 0;
            for (const auto& reader : m_path.readers)
            {
                waiting += reader->ReverseWaiting();
            }
            q["vpn_reader"] = waiting;
        }
        if (m_path.peer->Sleeps())
        {
            q["vpn_peer"] = m_path.peer->PendingReverse();
        }
        q["underlay_qdisc"] = m_path.serverNicQdisc ? m_path.serverNicQdisc->GetNPackets() : 0;
        q["underlay_nic"] = m_path.serverNic->GetQueue()->GetNPackets();
        q["underlay_wire"] = m_wireReverse.txBegin - m_wireReverse.rxEnd;
    }
    return q;
}

} // namespace tunsim
