// VpnPeer: the far VPN endpoint (the server side of the tunnel).
//
// It receives the encapsulated packets on its underlay UDP socket, strips the
// VPN header, and writes the inner packet into its own tunnel device, an ns-3
// VirtualNetDevice, from where the receiving host's stack delivers it. Packets
// its host sends back into the tunnel (TCP ACKs) are encapsulated and sent to
// the client at once.
// The peer is one process too: with wake-up latencies set
// (SetWakeupLatencies()) it sleeps whenever it has handled everything, and a
// packet arriving while it sleeps (either direction) is handled only when it
// has woken, a latency drawn per wake-up later; everything that arrived
// meanwhile is handled then, at once -- a late far end writes a train of
// data packets into its tun, and its host's ACKs go back as a train (the
// kernel twin's far end: kernel.far_end.late_us). Without latencies it
// handles each packet as it arrives.
// With a write cost (attribute WriteCost, the twin's kernel.far_end.
// write_ns_mean, or per write drawn from SetWriteCosts(), the twin's
// kernel.far_end.write_service_quantiles_us) each write() into its tun
// takes that long: what arrives
// meanwhile waits, and what its host sends meanwhile is read only after the
// last due packet is written -- the twin's loop (sim/kernel/forwarder.cc:
// WriteDue() until nothing is due, then ReadSome()).
// With preemptions (SetPreemption(), as the reader's: exponential gaps and
// lengths) the process now and then loses its CPU for milliseconds: nothing
// is written or sent back meanwhile, and what arrived is handled when it
// runs again (the twin's far end: kernel.far_end.stalls).
// Simplification: the peer has no ring and its read()/sendto() cost
// nothing; the simulator studies the sending side's tun.
#pragma once

#include "ns3/application.h"
#include "ns3/inet-socket-address.h"
#include "underlay-endpoint.h"
#include "ns3/virtual-net-device.h"

#include "vpn-reader.h"

#include "ns3/event-id.h"

#include <deque>
#include <functional>
#include <vector>

namespace tunsim
{

class VpnPeer : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();
    VpnPeer() = default;

    /// `dev` is the peer's tunnel device, `local` the underlay address it
    /// listens on, `client` where the reverse direction goes, `encapOverhead`
    /// the VPN header size.
    void Setup(ns3::Ptr<ns3::VirtualNetDevice> dev,
               ns3::InetSocketAddress local,
               ns3::InetSocketAddress client,
               uint32_t encapOverhead);

    /// The tunnel carries Ethernet frames (a TAP device at the client, as
    /// OpenVPN's `dev tap` bridges): strip the frame's header before the
    /// inner packet enters this host's stack, add one to what goes back.
    void SetTapFrames(bool tap) { m_tap = tap; }

    /// Called with each inner packet as it leaves the tunnel (ledger).
    void SetDeliveryCallback(std::function<void(ns3::Ptr<const ns3::Packet>)> cb)
    {
        m_delivered = std::move(cb);
    }

    /// Called with each packet the peer's host sends into the tunnel, before
    /// it is encapsulated (the ledger tags and counts the reverse direction).
    void SetReverseEntryCallback(std::function<void(ns3::Ptr<ns3::Packet>)> cb)
    {
        m_reverseEntry = std::move(cb);
    }

    /// A multiqueue client (IFF_MULTI_QUEUE, one reader per queue): the
    /// queue whose reader takes packet p back (its fd writes p into tun).
    /// The peer sends p to that reader's UDP port, the client's port + the
    /// queue. Unset: every packet goes to the client's port (queue 0).
    void SetReverseQueueSelector(std::function<uint32_t(ns3::Ptr<const ns3::Packet>)> select)
    {
        m_reverseQueue = std::move(select);
    }

    /// The wake-up latency of the peer's process, drawn per wake-up from
    /// these equally likely values (empty: it never sleeps).
    void SetWakeupLatencies(std::vector<ns3::Time> values, int64_t stream);

    /// The time one write() into its tun takes, drawn per write from these
    /// equally likely values (empty: the WriteCost attribute, fixed).
    void SetWriteCosts(std::vector<ns3::Time> values, int64_t stream);

    /// The process loses its CPU for exponential lengths of mean `duration`
    /// at exponential gaps (start to start) of mean `interval`, from streams
    /// `stream` and `stream + 1`; either zero: never.
    void SetPreemption(ns3::Time interval, ns3::Time duration, int64_t stream);
    uint64_t Preemptions() const { return m_preemptions; }

    uint64_t ForwardPackets() const { return m_forward; }
    uint64_t Wakeups() const { return m_wakeups; }
    bool Sleeps() const { return m_sleeps; }
    /// Arrived while it slept, not yet written into its tun / sent back.
    uint64_t PendingForward() const { return m_pendingFwd.size(); }
    uint64_t PendingReverse() const { return m_pendingRev.size(); }
    uint64_t ReversePackets() const { return m_reverse; }

  private:
    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;
    void HandleRead(ns3::Ptr<ns3::Packet> p);
    /// write() of one inner packet into the peer's tun: its host receives it.
    void Deliver(ns3::Ptr<ns3::Packet> p);
    /// write() the oldest due forward packet into the tun (MarkPass, Deliver).
    void DeliverNextDue();
    /// AckPerPass: tag a packet of a write pass of two or more (VnetFrameTag,
    /// last = nothing more due) so that its receiver acknowledges at the end.
    void MarkPass(ns3::Ptr<ns3::Packet> p);
    /// sendto() of one packet of its host to the client.
    void SendBack(ns3::Ptr<ns3::Packet> packet);
    /// A packet arrived while asleep: wake up a drawn latency from now.
    void ScheduleWake();
    /// Awake: handle everything that arrived meanwhile, then sleep again.
    void Wake();
    /// With a write cost: write() the next pending forward packet, busy for
    /// the cost; none left: send what its host sent meanwhile, go idle.
    void WriteNext();
    /// A forward packet to handle: now, or after what it is doing / its wake-up.
    void Arrive(ns3::Ptr<ns3::Packet> p);
    /// Running again (woken, or its preemption over): handle what waited.
    void RunAwake();
    /// read() what its host sent meanwhile, send it all back, go idle.
    void SendPendingBack();
    /// Awake with no write cost: write() every pending forward packet,
    /// send back every pending reverse one.
    void HandleAll();
    /// A preemption begins: it holds everything until PreemptEnd().
    void Preempt();
    /// It runs again: handle what waited, if anything did.
    void PreemptEnd();
    bool TunnelSend(ns3::Ptr<ns3::Packet> packet,
                    const ns3::Address& source,
                    const ns3::Address& dest,
                    uint16_t protocol);

    ns3::Ptr<ns3::VirtualNetDevice> m_dev;
    ns3::InetSocketAddress m_local{ns3::Ipv4Address::GetAny(), 0};
    ns3::InetSocketAddress m_client{ns3::Ipv4Address::GetAny(), 0};
    uint32_t m_encapOverhead = 0;
    bool m_tap = false;
    ns3::Ptr<UnderlayEndpoint> m_socket;
    std::function<void(ns3::Ptr<const ns3::Packet>)> m_delivered;
    std::function<void(ns3::Ptr<ns3::Packet>)> m_reverseEntry;
    std::function<uint32_t(ns3::Ptr<const ns3::Packet>)> m_reverseQueue;
    uint64_t m_forward = 0;
    uint64_t m_reverse = 0;
    DrawnLatency m_wakeup;
    bool m_sleeps = false;   ///< wake-up latencies set: it sleeps when idle
    bool m_awake = false;    ///< inside Wake(): what its host sends now leaves at once
    ns3::Time m_writeCost;   ///< one write() into its tun (0: free)
    bool m_busy = false;     ///< inside a write() that costs time
    bool m_ackPerPass = false; ///< AckPerPass
    uint32_t m_passWritten = 0; ///< packets written in this pass (since it woke)
    DrawnLatency m_writeCosts; ///< per write; empty: m_writeCost
    bool m_drawsWriteCost = false;
    ns3::Ptr<ns3::ExponentialRandomVariable> m_preemptGap; ///< null: never preempted
    ns3::Ptr<ns3::ExponentialRandomVariable> m_preemptLength;
    ns3::Time m_preemptedUntil;  ///< end of the current preemption
    bool m_preempted = false;
    bool m_resume = false;       ///< something waited for the preemption's end
    uint64_t m_preemptions = 0;
    /// Writes take time: fixed (WriteCost) or drawn (SetWriteCosts()).
    bool WritesCost() const { return m_drawsWriteCost || m_writeCost.IsStrictlyPositive(); }
    ns3::EventId m_wakeEvent;
    std::deque<ns3::Ptr<ns3::Packet>> m_pendingFwd; ///< arrived while asleep, decapsulated
    std::deque<ns3::Ptr<ns3::Packet>> m_pendingRev; ///< its host sent while it slept
    uint64_t m_wakeups = 0;
};

} // namespace tunsim
