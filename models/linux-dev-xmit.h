// LinuxDevXmit: the transmit path into tun0's qdisc on a multi-core host
// (issue 13): who runs the qdisc, on which CPU, for how long.
//
// Mirrors, for the tun device:
//   net/core/dev.c       __dev_queue_xmit() -> __dev_xmit_skb(): enqueue;
//                        if the qdisc is running on another CPU
//                        (qdisc_is_running(): `contended`), take busylock,
//                        enqueue and leave; else qdisc_run_begin() and
//                        __qdisc_run() on this CPU (direct transmit).
//   net/sched/sch_generic.c  __qdisc_run(): qdisc_restart() ->
//                        sch_direct_xmit() -> dev_hard_start_xmit() ->
//                        tun_net_xmit(), one packet at a time, until the
//                        qdisc is empty or the tx queue stopped, or the quota
//                        (dev_tx_weight, 64) is used: then __netif_schedule().
//   net/core/dev.c       __netif_schedule() / __netif_reschedule(): put the
//                        qdisc on this CPU's softnet_data output_queue (once:
//                        __QDISC_STATE_SCHED) and raise NET_TX_SOFTIRQ here;
//                        net_tx_action(): qdisc_run() for each one listed.
//   netif_tx_wake_queue() (tun's consumer, inside the reader's read()):
//                        __netif_schedule() on the waking CPU.
//
// It is a TrafficControlLayer set on the client's tun0 Ipv4Interface only
// (Ipv4Interface::SetTrafficControl); other devices go to the node's own
// layer. Each ns-3 QueueDisc::Run() it calls sends at most one packet (the
// tun qdiscs' Quota attribute is 1): the loop, its quota and its CPU time
// are here. Simplifications (docs/model.md): the enqueue happens when TCP
// hands the segment down (so NET_XMIT_DROP reaches the socket inside its
// send, as in Linux) and the sender's CPU time for it follows; a packet
// reaches the ring when its transmit work starts; the quota counts packets
// (segments), where Linux counts skbs (a GSO skb once).
#pragma once

#include "host-cpu.h"
#include "tun-net-device.h"

#include "ns3/nstime.h"
#include "ns3/queue-disc.h"
#include "ns3/traffic-control-layer.h"

#include <deque>
#include <functional>
#include <vector>

namespace tunsim
{

class LinuxDevXmit : public ns3::TrafficControlLayer
{
  public:
    static ns3::TypeId GetTypeId();
    LinuxDevXmit() = default;

    /// CPU time per unit of work.
    struct Costs
    {
        ns3::Time sendmsg;  ///< tcp_sendmsg()'s skb + copy, per segment, on the flow's own CPU
        ns3::Time output;   ///< TCP/IP output up to the enqueue, per segment, on the transmitting CPU
        ns3::Time xmit;     ///< dequeue + validate_xmit_skb() + tun_net_xmit(), per packet
        ns3::Time softirq;  ///< fixed per NET_TX softirq run (net_tx_action())
        ns3::Time lock;     ///< a contended enqueue: busylock + root lock
        uint32_t quota = 64; ///< dev_tx_weight (net.core.dev_weight 64 x dev_weight_tx_bias 1)
    };

    /// `inner`: the node's own layer (every other device). `flowCpu[f]`:
    /// the CPU of flow f's sender; `readerCpu[q]`: of queue q's reader (a
    /// wake outside any CPU's work raises the softirq there).
    void Setup(ns3::Ptr<ns3::TrafficControlLayer> inner,
               ns3::Ptr<TunNetDevice> tun,
               std::vector<ns3::Ptr<HostCpu>> cpus,
               std::vector<uint32_t> flowCpu,
               std::vector<uint32_t> readerCpu,
               const Costs& costs);

    /// Flows whose sender charges its own sendmsg() and stack (udp: the
    /// sender's send_cost_ns covers udp_sendmsg() -> ip_output() ->
    /// __dev_queue_xmit() on its CPU): for their packets neither
    /// Costs::sendmsg nor Costs::output is charged here, and the enqueue's
    /// __dev_xmit_skb() runs at once, inside that sendto().
    void SetSenderChargedFlows(std::vector<bool> flows) { m_senderCharged = std::move(flows); }

    /// __dev_queue_xmit() for tun0; the inner layer's Send for the rest.
    void Send(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<ns3::QueueDiscItem> item) override;
    /// A packet for a local address (Ipv4Interface::Send): the inner layer's.
    void Receive(ns3::Ptr<ns3::NetDevice> device,
                 ns3::Ptr<const ns3::Packet> p,
                 uint16_t protocol,
                 const ns3::Address& from,
                 const ns3::Address& to,
                 ns3::NetDevice::PacketType packetType) override;

    /// One qdisc's runs (the root, or one mq child per tx queue).
    struct RunStats
    {
        uint64_t directRuns = 0;   ///< qdisc_run_begin() won by a sender/reader in __dev_xmit_skb()
        uint64_t softirqRuns = 0;  ///< qdisc_run() from net_tx_action()
        uint64_t packets = 0;      ///< packets it passed to tun_net_xmit()
        uint64_t softirqPackets = 0; ///< of which from softirq runs
        uint64_t quotaHits = 0;    ///< runs ended by the quota (then __netif_schedule)
        uint64_t contended = 0;    ///< enqueues that found it running on another CPU
        uint64_t scheduled = 0;    ///< __netif_schedule() that listed it (SCHED bit clear)
        uint64_t wakeSchedules = 0; ///< of which from a tx queue wake
        uint32_t maxRunPackets = 0; ///< most packets in one run
    };
    size_t NQdiscs() const { return m_qdiscs.size(); }
    const RunStats& GetRunStats(size_t i) const { return m_qdiscs[i].stats; }
    /// The CPU running qdisc i now, or null.
    const HostCpu* Owner(size_t i) const { return m_qdiscs[i].owner; }

    /// A trace of who ran which qdisc: (qdisc, cpu, softirq?, packets) at
    /// the end of each run. For tests.
    void SetRunTrace(std::function<void(uint32_t, uint32_t, bool, uint32_t)> t) { m_runTrace = std::move(t); }

  protected:
    void DoDispose() override;

  private:
    struct Qdisc
    {
        ns3::Ptr<ns3::QueueDisc> q;
        HostCpu* owner = nullptr; ///< qdisc_run_begin() holder
        bool sched = false;       ///< __QDISC_STATE_SCHED
        bool inSoftirq = false;
        int32_t quota = 0;
        uint32_t runPackets = 0;
        std::function<void()> onEnd;
        RunStats stats;
    };

    HostCpu* CpuOf(uint32_t flowId) const;
    /// The rest of __dev_xmit_skb() once the sender's CPU did its part.
    void DevXmitSkb(uint32_t qi, HostCpu* cpu);
    /// qdisc_run_begin() + __qdisc_run() on `cpu`.
    void QdiscRun(uint32_t qi, HostCpu* cpu, bool softirq, std::function<void()> onEnd);
    /// qdisc_restart(): one packet, then its CPU time, then the next.
    void QdiscRestart(uint32_t qi);
    void QdiscRunEnd(uint32_t qi);
    /// __netif_schedule()
    void NetifSchedule(uint32_t qi, HostCpu* cpu);
    /// net_tx_action() on `cpu`: its output_queue, one qdisc after another.
    void NetTxAction(HostCpu* cpu);
    void RunListed(HostCpu* cpu, std::vector<uint32_t> list, size_t next);
    /// The tun device woke tx queue `txq` (netif_tx_wake_queue()).
    void OnTxqWake(uint32_t txq);

    ns3::Ptr<ns3::TrafficControlLayer> m_inner;
    ns3::Ptr<TunNetDevice> m_tun;
    ns3::Ptr<ns3::NetDeviceQueueInterface> m_ndqi;
    bool m_mq = false; ///< one child qdisc per tx queue
    bool m_noqueue = false;
    std::vector<ns3::Ptr<HostCpu>> m_cpus;
    std::vector<uint32_t> m_flowCpu;
    std::vector<uint32_t> m_readerCpu;
    std::vector<bool> m_senderCharged; ///< by flow: SetSenderChargedFlows()
    Costs m_costs;
    std::vector<Qdisc> m_qdiscs;
    std::vector<std::vector<uint32_t>> m_outputQueue; ///< per CPU: softnet_data.output_queue
    std::function<void(uint32_t, uint32_t, bool, uint32_t)> m_runTrace;
};

} // namespace tunsim
