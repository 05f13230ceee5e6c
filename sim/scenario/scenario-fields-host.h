// Scenario field table, continued: the VM consumer, the underlay and the
// sending host (scenario-fields.h explains the table and its visitors).
#pragma once

#include "scenario-field-types.h"

namespace tunsim
{

// ---------------------------------------------------------------- vm

template <typename V, typename T>
void
VisitVm(V& v, T& m, const ConsumerKind& kind)
{
    const char* sim = "tunsim kernel has no VM mode (the TAP + QEMU twin is scripts/twin-tap-qemu.sh)";
    v.Enum("nic", m.nic, Doc{"", "the guest's NIC behind QEMU: e1000 or virtio-net; vhost-net needs virtio-net"}.SimOnly(sim));
    v.DoubleOrMinusOne("frame_ns", m.frameNs, Closed(0, 1e9), "the preset",
                       Doc{"ns", "backend CPU per frame from the tap ring into the guest; -1 = preset"}.SimOnly(sim));
    v.DoubleOrMinusOne("ns_per_byte", m.nsPerByte, Closed(0, 1e6), "the preset",
                       Doc{"ns/B", "backend CPU per byte of such a frame; -1 = preset"}.SimOnly(sim));
    v.DoubleOrMinusOne("tx_frame_ns", m.txFrameNs, Closed(0, 1e9), "the preset",
                       Doc{"ns", "backend CPU per frame the guest sends into the tap; -1 = preset"}.SimOnly(sim));
    v.Uint("guest_rx_size", m.guestRxSize, 1, 32768,
           Doc{"buffers", "guest receive buffers: e1000 rx ring (E1000_DEFAULT_RXD) / rx virtqueue size"}.SimOnly(sim));
    v.Uint("guest_refill", m.guestRefill, 0, 32768,
           Doc{"buffers", "handled buffers given back to the device at a time; 0 = preset (e1000 16, virtio 64)"}
               .SimOnly(sim));
    v.Double("guest_frame_ns", m.guestFrameNs, Closed(0, 1e9),
             Doc{"ns", "guest CPU per received frame in its NAPI poll (driver + stack)"}.SimOnly(sim));
    v.Double("guest_irq_us", m.guestIrqUs, Closed(0, 1e6),
             Doc{"us", "interrupt raised -> the guest's NAPI poll runs"}.SimOnly(sim));
    v.Bool("gro", m.gro,
           Doc{"", "GRO in the guest's NAPI poll: consecutive MTU segments of a TCP flow go up as one skb, "
                   "acknowledged once (napi_gro_receive(), on by default in Linux)"}
               .SimOnly(sim));
    v.Check([&](auto& p) {
        if (kind == ConsumerKind::VhostNet && m.nic != VmNic::VirtioNet && p.Has("nic"))
        {
            throw ScenarioError(p.Path("nic"), "vhost-net serves a virtio-net guest only: use \"virtio-net\"");
        }
    });
    v.Only(kind != ConsumerKind::Vpn, "reader.kind qemu or vhost-net", [&]() {
        return std::string("only allowed with reader.kind \"qemu\" or \"vhost-net\" (the VPN reader opens "
                           "the device without IFF_VNET_HDR, so it never has offloads); reader.kind is \"") +
               NameOf(kind) + "\"";
    });
    v.Enum("offloads", m.offloads,
           Doc{"", "TUNSETOFFLOAD on the tap: GSO skbs of up to 64 KB go into the ring whole, one entry each, and "
                   "reach the guest as one frame (virtio_net_hdr, mergeable buffers); auto = as QEMU sets it: on "
                   "for virtio-net and vhost-net, off for e1000 | on | off"}
               .SimOnly(sim));
    v.Check([&](auto& p) {
        if (m.offloads == VmOffloads::On && kind == ConsumerKind::Qemu && m.nic == VmNic::E1000)
        {
            throw ScenarioError(p.Path("offloads"), "QEMU's e1000 never enables tap offloads (it has no "
                                                    "virtio_net_hdr): use \"auto\" or \"off\", or vm.nic "
                                                    "\"virtio-net\"");
        }
    });
    v.Only(kind != ConsumerKind::Vpn, "reader.kind qemu or vhost-net", [&]() {
        return std::string("only allowed with reader.kind \"qemu\" or \"vhost-net\" (a VPN reader's transmit "
                           "costs are reader.write_xmit_ns and, with host.cpus, tun.xmit_cost_ns); reader.kind is \"") +
               NameOf(kind) + "\"";
    });
    v.Double("host_xmit_ns", m.hostXmitNs, Closed(0, 1e9),
             Doc{"ns", "host CPU per packet its stack puts into the tap (TCP output, qdisc, tun_net_xmit()): one "
                       "packet reaches the ring per host_xmit_ns, the qdisc holds the next meanwhile; 0 = at once"}
                 .SimOnly(sim));
    v.Only(true, "", nullptr);
}

// ------------------------------------------------------- underlay, host

template <typename V, typename T>
void
VisitUnderlay(V& v, T& u)
{
    const char* none = "no underlay: the reader is the tunnel exit";
    v.Double("rate_mbps", u.rateMbps, Closed(0.001, 1e6), Doc{"Mbit/s", "link rate"}.SimOnly(none));
    v.Double("delay_ms", u.delayMs, Closed(0, 1e4), Doc{"ms", "one-way propagation delay"}.SimOnly(none));
    v.Uint("queue_packets", u.queuePackets, 1, 1000000, Doc{"packets", "device queue"}.SimOnly(none));
    v.Enum("qdisc", u.qdisc, Doc{"", "qdisc on the underlay device"}.SimOnly(none),
           {QdiscKind::PfifoFast, QdiscKind::FqCodel, QdiscKind::Noqueue}, "qdisc");
    v.Quantiles("peer_wakeup_quantiles_us", u.peerWakeupQuantilesUs,
                Doc{"us", "the far VPN endpoint is a process that sleeps when idle: a packet (either direction) "
                          "that arrives while it sleeps waits for its wake-up, drawn per wake-up from these "
                          "equally likely values, and everything that arrived meanwhile leaves together; "
                          "[] = it handles each packet as it arrives"}
                    .SimOnly("the twin's far end wakes as the kernel wakes it: kernel.far_end.late_us"));
    v.Double("peer_write_ns", u.peerWriteNs, Closed(0, 1e9),
             Doc{"ns", "the far VPN endpoint's write() of one inner packet into its tunnel device (its host's "
                       "receive processing, and the ACK it sends, run inside it): packets arriving meanwhile "
                       "wait, and what its host sent is read after the last due packet is written; 0 = free"}
                 .SimOnly("the twin's far end writes as the kernel does: kernel.far_end.write_ns_mean"));
    v.Quantiles("peer_write_quantiles_us", u.peerWriteQuantilesUs,
                Doc{"us", "the far endpoint's time per packet written, drawn per write from these equally likely "
                          "values (a thread that loses its CPU or a write() that stalls makes the tail); "
                          "[] = underlay.peer_write_ns for every write"}
                    .SimOnly("the twin's far end writes as the kernel does: kernel.far_end.write_service_quantiles_us"));
    const char* peerStalls = "the twin's far end loses its CPU as the kernel takes it: kernel.far_end.stalls";
    v.Double("peer_preempt_interval_ms", u.peerPreemptIntervalMs, Closed(0, 1e6),
             Doc{"ms", "mean time between the far endpoint's preemptions (exponential, start to start): it "
                       "loses its CPU and handles nothing, either direction, until the preemption ends; "
                       "0 = never"}
                 .SimOnly(peerStalls));
    v.Double("peer_preempt_ms", u.peerPreemptMs, Closed(0, 1e4),
             Doc{"ms", "mean length of one of the far endpoint's preemptions (exponential); 0 = never"}.SimOnly(
                 peerStalls));
    v.Bool("peer_ack_per_pass", u.peerAckPerPass,
           Doc{"", "the receiving application reads only after the far endpoint's write pass (they share a CPU, "
                   "as in the TCP twin, where both run at one real-time priority), so its TCP acknowledges the "
                   "segments of a pass of two or more with one ACK at the end (tcp_cleanup_rbuf()) instead of "
                   "one per two segments; false = the receiver reads each segment as it arrives"}
               .SimOnly("the twin's receivers are scheduled by the kernel: flows[].kernel.ack_stride_segments"));
}

template <typename V, typename T>
void
VisitHost(V& v, T& h)
{
    v.Uint("udp_sndbuf_bytes", h.udpSndbufBytes, kMinSndbuf, kMaxSndbuf,
           Doc{"B", "net.core.wmem_default: a UDP sender blocks when sk_wmem_alloc reaches sk_sndbuf"});
    v.Double("sender_wakeup_latency_us", h.senderWakeupLatencyUs, Closed(0, 1e6),
             Doc{"us", "a sender blocked on sk_sndbuf -> running again after sock_wfree()"}.SimOnly(
                 "the kernel's own wake-up"));
    v.Bool("tcp_small_queues", h.tcpSmallQueues, Doc{"", "TCP Small Queues (tcp_small_queue_check())"});
    v.Uint("tcp_limit_output_bytes", h.tcpLimitOutputBytes, 4096, 2147483647,
           Doc{"B", "net.ipv4.tcp_limit_output_bytes, the cap of the TSQ limit"});
    v.Uint("tcp_pacing_shift", h.tcpPacingShift, 0, 31, Doc{"", "sk_pacing_shift (10: ~1 ms of data)"});
    v.Uint("tcp_rmem_default", h.tcpRmemDefault, 4096, kMaxSndbuf,
           Doc{"B", "net.ipv4.tcp_rmem[1]: a TCP receiver's sk_rcvbuf before autotuning"});
    v.Uint("tcp_rmem_max", h.tcpRmemMax, 65536, 1073741824,
           Doc{"B", "net.ipv4.tcp_rmem[2]: the receive-buffer autotuning cap (32 MiB since Linux 6.16)"});
    v.Uint("tcp_comp_sack_nr", h.tcpCompSackNr, 0, 255,
           Doc{"ACKs", "net.ipv4.tcp_comp_sack_nr: a TCP receiver with out-of-order data holds back at most "
                       "this many ACKs (SACK compression); 0 = every segment acked at once"});
    v.Uint("tcp_comp_sack_delay_ns", h.tcpCompSackDelayNs, 0, 1000000000,
           Doc{"ns", "net.ipv4.tcp_comp_sack_delay_ns: the longest a compressed ACK waits"});
    v.Uint("tcp_comp_sack_slack_ns", h.tcpCompSackSlackNs, 0, 1000000000,
           Doc{"ns", "net.ipv4.tcp_comp_sack_slack_ns: the compressed-ACK timer's slack"});
    v.Uint("tcp_comp_sack_rtt_percent", h.tcpCompSackRttPercent, 1, 1000,
           Doc{"%", "the compressed-ACK delay's cap as a share of the RTT: 5 (rtt/20) up to Linux 6.18, "
                    "net.ipv4.tcp_comp_sack_rtt_percent (default 33) from 6.19"});
    const char* cpuSim = "the host's own CPUs";
    v.Uint("cpus", h.cpus, 0, 256,
           Doc{"CPUs", "the multi-core host (issue 13): senders, readers and qdisc runs on CPUs that serialize "
                       "their work; 0 = no CPU model (senders free, each reader a CPU of its own)"}
               .SimOnly(cpuSim));
    v.Double("tcp_sendmsg_ns", h.tcpSendmsgNs, Closed(0, 1e9),
             Doc{"ns", "host.cpus > 0: CPU per segment's worth of data of tcp_sendmsg() (skb, copy), on the "
                       "flow's own CPU"}
                 .SimOnly(cpuSim));
    v.Double("tcp_output_ns", h.tcpOutputNs, Closed(0, 1e9),
             Doc{"ns", "host.cpus > 0: CPU per segment of TCP/IP output (tcp_write_xmit() .. the qdisc enqueue), on "
                       "the CPU that transmits it (the sender's, or the one that processed the ACK)"}
                 .SimOnly(cpuSim));
    v.Double("qdisc_lock_contended_ns", h.qdiscLockContendedNs, Closed(0, 1e9),
             Doc{"ns", "host.cpus > 0: CPU of an enqueue that finds the qdisc running on another CPU (busylock, "
                       "root lock: __dev_xmit_skb())"}
                 .SimOnly(cpuSim));
    v.Uint("dev_tx_weight", h.devTxWeight, 1, 65536,
           Doc{"packets", "host.cpus > 0: the quota of one __qdisc_run() (net.core.dev_weight x "
                          "dev_weight_tx_bias = 64), then __netif_schedule()"}
               .SimOnly(cpuSim));
    v.Bool("ack_on_sender_cpu", h.ackOnSenderCpu,
           Doc{"", "host.cpus > 0: the sender owns its socket when an ACK arrives (sock_owned_by_user()): the ACK "
                   "waits in the backlog and what it releases is sent from the flow's CPU (release_sock()); false: "
                   "in the reader's write() on the reader's CPU"}
               .SimOnly(cpuSim));
    v.Check([&](auto& p) {
        if (h.cpus == 0)
        {
            const std::pair<const char*, bool> needCpus[] = {{"tcp_sendmsg_ns", h.tcpSendmsgNs != 0},
                                                             {"tcp_output_ns", h.tcpOutputNs != 0},
                                                             {"qdisc_lock_contended_ns", h.qdiscLockContendedNs != 0},
                                                             {"dev_tx_weight", h.devTxWeight != 64},
                                                             {"ack_on_sender_cpu", h.ackOnSenderCpu}};
            for (const auto& [key, set] : needCpus)
            {
                if (set)
                {
                    throw ScenarioError(p.Path(key), "needs host.cpus > 0 (the multi-core host); host.cpus is 0");
                }
            }
        }
    });
    v.Check([&](auto& p) {
        if (h.tcpRmemDefault > h.tcpRmemMax)
        {
            throw ScenarioError(p.Path("tcp_rmem_default"), "must not exceed tcp_rmem_max");
        }
    });
}

} // namespace tunsim
