// TunPathMonitor: books every packet of a TunPath in a PacketLedger.
//
// It connects to each place a packet of the path can be freed and tells the
// ledger where and why, releasing the charge of the socket that owned the
// skb at that point (the kernel's sock_wfree() of kfree_skb()):
//
//   tun0_qdisc/<reason>      a drop of tun0's qdisc (enqueue or dequeue)
//   tun0_ring/<reason>       tun_net_xmit() freed it (FULL_RING, RESIZE)
//   tun0_noqueue/TXQ_STOPPED noqueue and a stopped queue: __dev_queue_xmit()
//                            frees it ("Virtual device tun0 asks to queue packet!")
//   underlay_qdisc/<reason>  a drop of a NIC's qdisc
//   underlay_nic/QUEUE_FULL  the NIC's own queue was full
//
// the delivery at either tunnel exit, the sock_wfree() of the VPN socket's
// packets when the client NIC has sent them, and what is on each wire. At the
// end of a run StillQueued() measures, place by place, what is neither
// delivered nor dropped, so that sent = delivered + dropped + queued can be
// checked from independent counts.
#pragma once

#include "packet-ledger.h"
#include "tun-path-helper.h"

#include <cstdint>
#include <map>
#include <vector>
#include <string>

namespace tunsim
{

/// Time-weighted occupancy of a queue (max, mean), fed by a trace.
struct BacklogStats
{
    uint32_t max = 0;
    long double area = 0; ///< packets x ns
    int64_t lastNs = 0;
    uint32_t last = 0;

    /// A PacketsInQueue trace sink.
    void Change(uint32_t, uint32_t n);
    /// Mean over [0, endNs].
    double Mean(int64_t endNs) const;
};

class TunPathMonitor
{
  public:
    /// Connect to every drop and delivery point of `path`. The ledger must
    /// know the forward flows already; packets the server sends back into
    /// the tunnel are tagged and counted by TrackReverse().
    TunPathMonitor(const TunPath& path, ns3::Ptr<PacketLedger> ledger);
    TunPathMonitor(const TunPathMonitor&) = delete;
    TunPathMonitor& operator=(const TunPathMonitor&) = delete;

    /// Book what the server sends back into the tunnel: a TCP segment from
    /// source port P to ledger flow flowBySourcePort[P], anything else to
    /// `otherFlow` (all reverse-direction flows of the ledger).
    void TrackReverse(std::map<uint16_t, uint32_t> flowBySourcePort, uint32_t otherFlow);

    /// Packets freed by noqueue with the tx queue stopped.
    uint64_t NoqueueDrops() const { return m_noqueueDrops; }
    /// tun0's qdisc occupancy (zeros for noqueue).
    const BacklogStats& TunBacklog() const { return m_tunBacklog; }
    /// What is still queued now, by place; forward: tun0_qdisc, tun0_ring,
    /// vpn_reader, underlay_qdisc, underlay_nic, underlay_wire; reverse:
    /// vpn_reader (received, not yet written into tun0) and the three
    /// underlay places of the server's side. With a VM backend vpn_reader is
    /// replaced by vm_backend (and, forward, guest_rxq).
    std::map<std::string, uint64_t> StillQueued(Direction d) const;

  private:
    /// Packets put on a wire and taken off at the other end.
    struct WireCount
    {
        uint64_t txBegin = 0;
        uint64_t rxEnd = 0;
    };

    void ConnectQdisc(ns3::Ptr<ns3::QueueDisc> q, const std::string& place);

    TunPath m_path;
    ns3::Ptr<PacketLedger> m_ledger;
    uint64_t m_noqueueDrops = 0;
    BacklogStats m_tunBacklog;
    std::vector<uint32_t> m_leafBacklog; ///< mq: each child's last PacketsInQueue
    WireCount m_wireForward;
    WireCount m_wireReverse;
};

} // namespace tunsim
