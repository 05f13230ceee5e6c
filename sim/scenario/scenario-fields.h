// The field table: every scenario field, declared once.
//
// Each Visit*() function names the fields of one JSON object in order, with
// the member that holds it, its range, unit and doc line. A visitor does one
// job with the table:
//
//   Parser        (scenario-parse.cc)  JSON -> struct, strict, exit-2 errors
//   KeyCollector  (scenario-parse.cc)  the keys an object may have
//   Writer        (scenario-write.cc)  struct -> the resolved JSON
//   DocCollector  (scenario-write.cc)  `tunsim list fields`, the docs check
//
// A visitor provides, for a field `key` of member `m`:
//   Uint(key, m, lo, hi, doc)           Double(key, m, range, doc)
//   DoubleOrMinusOne(key, m, range, meaning, doc)
//   Bool(key, m, doc)                   String(key, m, nonEmpty, doc)
//   Enum(key, m, doc[, allowed, noun])  (EnumNames<E>; a subset)
//   Name(key, m, names, noun, doc)  (a string from a list: the policy)
//   Quantiles(key, m, doc)              Object(key, m, visit, doc)
//   Array(key, m, visit, rules, doc)    Only(active, label, whyNot)
//   Check(fn)  (cross-field rules; only the Parser runs fn(parser))
//
// Visit functions are templates over the visitor and over the (const or not)
// section, so one list serves reading and writing.
//
// The table is in two files: this one (tun, qdisc, reader, flows, the
// scenario) and scenario-fields-host.h (vm, underlay, host); the vocabulary
// they share (Range, Doc, ArrayRules, limits) is scenario-field-types.h.
// A new field: its member in scenario.h, one line in the table (and its use
// in the model or the build step). docs/scenario.md must document it: a test
// compares the doc tables with this one.
#pragma once

#include "scenario.h"
#include "scenario-field-types.h"
#include "scenario-fields-host.h"

#include "tun-policy.h"

#include <string>

namespace tunsim
{

// ------------------------------------------------------------------ tun

template <typename V, typename T>
void
VisitTun(V& v, T& t)
{
    v.Uint("ring_size", t.ringSize, 1, 65536,
           Doc{"entries", "dev->tx_queue_len (ip link set tun0 txqueuelen N): the ptr_ring's size"});
    v.Name("policy", t.policy, TunPolicyNames(), "policy",
           Doc{"", "where the tx queue is stopped and woken (tunsim list)"});
    v.Double("softirq_latency_us", t.softirqLatencyUs, Closed(0, 1e6),
             Doc{"us", "netif_tx_wake_queue() -> the NET_TX softirq runs the qdisc"}.SimOnly(
                 "the kernel's own softirq"));
    v.Bool("softirq_on_reader_cpu", t.softirqOnReaderCpu,
           Doc{"", "the softirq's CPU work is charged to the reader"}.SimOnly("the kernel's own softirq"));
    v.Double("xmit_cost_ns", t.xmitCostNs, Closed(0, 1e9),
             Doc{"ns", "CPU per packet of qdisc dequeue + tun_net_xmit(): with host.cpus > 0 on the CPU that runs "
                       "the qdisc, else in a softirq on the reader's CPU (softirq_on_reader_cpu)"}
                 .SimOnly("the kernel's own softirq"));
    v.Double("softirq_cost_ns", t.softirqCostNs, Closed(0, 1e9),
             Doc{"ns", "fixed CPU per NET_TX softirq run (host.cpus > 0: on the CPU that raised it; else on the "
                       "reader's CPU with softirq_on_reader_cpu)"}.SimOnly("the kernel's own softirq"));
    v.Uint("queues", t.queues, 1, 256,
           Doc{"queues", "tx queues of tun0 (IFF_MULTI_QUEUE when > 1): one ring and one reader each, a flow's "
                         "queue by flow hash (tun_automq_select_queue()); its ACKs come back through that queue's reader"}
               .SimOnly("tunsim kernel opens one queue"));
    v.Bool("steer_by_flow", t.steerByFlow,
           Doc{"", "tun.queues > 1: a TUNSETSTEERINGEBPF program returning the flow's index puts flow i on queue i "
                   "mod queues (tun_ebpf_select_queue()); false: the automq flow hash"}
               .SimOnly("tunsim kernel opens one queue"));
    v.Check([&](auto& p) {
        if (t.steerByFlow && t.queues < 2)
        {
            throw ScenarioError(p.Path("steer_by_flow"), "true needs tun.queues > 1 (one queue has nothing to "
                                                         "steer), got tun.queues = " + std::to_string(t.queues));
        }
    });
    v.Bool("iff_backpressure", t.iffBackpressure,
           Doc{"", "the VPN sets IFF_BACKPRESSURE at TUNSETIFF (read by policy iff-backpressure only)"}.SimOnly(
               "a kernel with IFF_BACKPRESSURE (net-next, 2026-08)"));
    v.Check([&](auto& p) {
        if (!t.iffBackpressure && t.policy != "iff-backpressure")
        {
            throw ScenarioError(p.Path("iff_backpressure"),
                                "false is allowed only with tun.policy = \"iff-backpressure\" (the only policy "
                                "with the flag), got policy \"" + t.policy + "\"");
        }
    });
    v.Enum("mode", t.mode,
           Doc{"", "tun: IP packets (IFF_TUN); tap: Ethernet frames (IFF_TAP), 14 bytes more per ring entry"}
               .SimOnly("the live twin opens an IFF_TUN device"));
}

// ---------------------------------------------------------------- qdisc

template <typename V, typename T>
void
VisitQdisc(V& v, T& q, uint32_t tunQueues)
{
    v.Enum("kind", q.kind, Doc{"", "the root qdisc of tun0; noqueue: none, the driver is called directly"});
    v.Uint("limit", q.limit, 0, 1000000,
           Doc{"packets", "0 = the kind's Linux default (fq_codel 10240, pfifo/pfifo_fast tx_queue_len)"});
    v.Double("target_ms", q.targetMs, LeftOpen(0, 1e4), Doc{"ms", "fq_codel target"});
    v.Double("interval_ms", q.intervalMs, LeftOpen(0, 1e5), Doc{"ms", "fq_codel interval"});
    v.Bool("shared_root", q.sharedRoot,
           Doc{"", "with tun.queues > 1: one qdisc of `kind` as root for all queues instead of mq with a child per "
                   "queue"}
               .SimOnly("tunsim kernel opens one queue"));
    v.Check([&q, tunQueues](auto& p) {
        if (q.sharedRoot && tunQueues < 2)
        {
            throw ScenarioError(p.Path("shared_root"), "true needs tun.queues > 1 (a single-queue device has only "
                                                       "one root anyway), got tun.queues = " +
                                                           std::to_string(tunQueues));
        }
    });
}

// --------------------------------------------------------------- reader

template <typename V, typename T>
void
VisitStall(V& v, T& st, double durationS)
{
    v.Double("at_s", st.atS, Closed(0, 1e6), Doc{"s", "the reader stops reading (< duration_s)"});
    v.Double("for_s", st.forS, LeftOpen(0, 1e6),
             Doc{"s", "for this long (at_s + for_s <= duration_s)"}.Required());
    v.Check([&](auto& p) {
        if (st.atS >= durationS)
        {
            throw ScenarioError(p.Path("at_s"), "must be a number in " +
                                                    Range{0, false, durationS, true, "[0, duration_s)"}.MessageText() +
                                                    ", got " + p.Num(st.atS));
        }
        if (st.atS + st.forS > durationS)
        {
            throw ScenarioError(p.Path("for_s"), "the stall must end by duration_s: at_s + for_s = " +
                                                     p.Num(st.atS + st.forS) + " > " + p.Num(durationS));
        }
    });
}

template <typename V, typename T>
void
VisitWakeBin(V& v, T& b)
{
    v.Double("sleep_us_from", b.sleepUsFrom, Closed(0, 1e7),
             Doc{"us", "this bin: sleeps of at least this long (the first bin starts at 0)"});
    v.Quantiles("wake_quantiles_us", b.wakeQuantilesUs,
                Doc{"us", "the wake-up after such a sleep, drawn from these equally likely values (at least one)"});
}

template <typename V, typename T>
void
VisitIdleCostBin(V& v, T& b)
{
    v.Double("idle_us_from", b.idleUsFrom, Closed(0, 1e9),
             Doc{"us", "this bin: the sender was idle at least this long before the send() (the first bin "
                       "starts at 0)"});
    v.Double("send_ns", b.sendNs, Closed(0, 1e9),
             Doc{"ns", "CPU of a sendto() that woke the sleeping reader after such an idle time"});
}

/// flows[].send_cost_wake_by_idle: at most 32 bins ascending from 0.
template <typename P, typename T>
void
CheckIdleCostBins(P& p, const T& f)
{
    const auto& bins = f.sendCostWakeByIdle;
    const std::string path = p.Path("send_cost_wake_by_idle");
    if (bins.size() > 32)
    {
        throw ScenarioError(path, "at most 32 bins, got " + std::to_string(bins.size()));
    }
    for (size_t k = 0; k < bins.size(); ++k)
    {
        if (k == 0 ? bins[k].idleUsFrom != 0 : bins[k].idleUsFrom <= bins[k - 1].idleUsFrom)
        {
            throw ScenarioError(path + "[" + std::to_string(k) + "].idle_us_from",
                                k == 0 ? "the first bin must start at 0" : "bins must be in increasing idle_us_from");
        }
    }
}

/// reader.wakeup_by_sleep: bins ascending from 0, each with values, and not
/// beside the other ways of giving the wake-up after a sleep on the ring.
template <typename P, typename T>
void
CheckWakeBins(P& p, const T& r)
{
    const auto& bins = r.wakeupBySleep;
    if (bins.empty())
    {
        return;
    }
    const std::string path = p.Path("wakeup_by_sleep");
    if (bins.size() > 32)
    {
        throw ScenarioError(path, "at most 32 bins, got " + std::to_string(bins.size()));
    }
    for (size_t k = 0; k < bins.size(); ++k)
    {
        const std::string at = path + "[" + std::to_string(k) + "]";
        if (k == 0 ? bins[k].sleepUsFrom != 0 : bins[k].sleepUsFrom <= bins[k - 1].sleepUsFrom)
        {
            throw ScenarioError(at + ".sleep_us_from", k == 0 ? "the first bin must start at 0"
                                                              : "bins must be in increasing sleep_us_from");
        }
        if (bins[k].wakeQuantilesUs.empty())
        {
            throw ScenarioError(at + ".wake_quantiles_us", "must hold at least one value");
        }
    }
    const std::pair<const char*, bool> others[] = {{"wakeup_quantiles_us", !r.wakeupQuantilesUs.empty()},
                                                   {"deep_idle_after_us", r.deepIdleAfterUs > 0},
                                                   {"deep_wakeup_latency_us", r.deepWakeupLatencyUs > 0},
                                                   {"deep_wakeup_quantiles_us", !r.deepWakeupQuantilesUs.empty()}};
    for (const auto& [other, set] : others)
    {
        if (set)
        {
            throw ScenarioError(p.Path(other), std::string("give either wakeup_by_sleep (the wake-up by sleep "
                                                           "length) or ") + other + ", not both");
        }
    }
}

template <typename V, typename T>
void
VisitReader(V& v, T& r, double durationS)
{
    v.Double("per_packet_ns", r.perPacketNs, Closed(0, 1e10), Doc{"ns", "fixed CPU per packet read"});
    v.Double("ns_per_byte", r.nsPerByte, Closed(0, 1e6), Doc{"ns/B", "crypto cost per byte of the packet"});
    v.Double("wakeup_latency_us", r.wakeupLatencyUs, Closed(0, 1e6),
             Doc{"us", "asleep on an empty ring -> running again after sk_data_ready()"}.SimOnly(
                 "the kernel's own wake-up: kernel.reader_wakeup_by_sleep"));
    v.Quantiles("wakeup_quantiles_us", r.wakeupQuantilesUs,
                Doc{"us", "the wake-up drawn per wake-up from these equally likely values, instead of "
                          "wakeup_latency_us"}
                    .SimOnly("the kernel's own wake-up: kernel.reader_wakeup_by_sleep"));
    v.Check([&](auto& p) {
        if (!r.wakeupQuantilesUs.empty())
        {
            if (r.wakeupLatencyUs != 0 && p.Has("wakeup_latency_us"))
            {
                throw ScenarioError(p.Path("wakeup_latency_us"),
                                    "give either wakeup_latency_us (one wake-up latency) or wakeup_quantiles_us "
                                    "(drawn per wake-up), not both");
            }
            r.wakeupLatencyUs = 0;
        }
    });
    v.Double("deep_idle_after_us", r.deepIdleAfterUs, Closed(0, 1e6),
             Doc{"us", "a reader that slept at least this long pays the slow wake-up; 0 = one level"}.SimOnly(
                 "the kernel's own wake-up: kernel.reader_wakeup_by_sleep; > 0 only sets the sleep length "
                 "that reader.deep_wakeups counts"));
    v.Double("deep_wakeup_latency_us", r.deepWakeupLatencyUs, Closed(0, 1e6),
             Doc{"us", "the wake-up latency after a sleep of at least deep_idle_after_us"}.SimOnly(
                 "the kernel's own wake-up: kernel.reader_wakeup_by_sleep"));
    v.Quantiles("deep_wakeup_quantiles_us", r.deepWakeupQuantilesUs,
                Doc{"us", "the slow wake-up drawn from these equally likely values, instead of "
                          "deep_wakeup_latency_us"}
                    .SimOnly("the kernel's own wake-up: kernel.reader_wakeup_by_sleep"));
    v.Check([&](auto& p) {
        if (r.deepWakeupQuantilesUs.empty())
        {
            CheckBothPositiveOrZero(p.Path("deep_idle_after_us"), r.deepIdleAfterUs, p.Path("deep_wakeup_latency_us"),
                                    r.deepWakeupLatencyUs, "two-level wake-up on",
                                    "off: every wake-up takes wakeup_latency_us");
        }
        else if (r.deepIdleAfterUs <= 0)
        {
            throw ScenarioError(p.Path("deep_wakeup_quantiles_us"),
                                "needs reader.deep_idle_after_us > 0 (the sleep after which the slow "
                                "wake-up applies); deep_idle_after_us is 0");
        }
        else if (r.deepWakeupLatencyUs > 0)
        {
            throw ScenarioError(p.Path("deep_wakeup_latency_us"),
                                "give either deep_wakeup_latency_us (one slow wake-up) or "
                                "deep_wakeup_quantiles_us (drawn per wake-up), not both");
        }
    });
    v.Array("wakeup_by_sleep", r.wakeupBySleep, [](auto& vv, auto& b) { VisitWakeBin(vv, b); },
            ArrayRules{false, false, "", "must be an array of {sleep_us_from, wake_quantiles_us} objects"},
            Doc{"", "the wake-up after a sleep on the empty ring by the sleep's length (a host profile's bins): "
                    "instead of wakeup_latency_us and the two levels"}
                .SimOnly("the kernel's own wake-up: kernel.reader_wakeup_by_sleep"));
    v.Check([&](auto& p) { CheckWakeBins(p, r); });
    v.Uint("batch", r.batch, 1, 1024,
           Doc{"packets", "packets taken per read (read-until-empty: simulator only), per poll (batched)"});
    v.Enum("loop", r.loop,
           Doc{"", "read-until-empty (read() until -EAGAIN, then sleep in poll()) | poll-each (poll() before "
                   "every read(), OpenVPN-style) | batched (one poll(), then up to batch read()s)"});
    v.Double("poll_ns", r.pollNs, Closed(0, 1e9),
             Doc{"ns", "CPU of one poll()/epoll_wait() (poll-each, batched: before each read, and the zero-timeout "
                       "one that finds the ring empty; every style: the one that then blocks, only after it, and "
                       "sees what arrives meanwhile)"}
                 .SimOnly(
                 "the kernel's own poll(): kernel.reader_poll_ns_mean"));
    v.DoubleOrMinusOne("poll_block_ns", r.pollBlockNs, Closed(0, 1e9), "same as poll_ns",
                       Doc{"ns", "CPU of the poll() that may block (after the ring was found empty), from its entry "
                                 "to where it would sleep: poll_initwait(), the timeout, tun_chr_poll() on the wait "
                                 "queue; a packet that lands meanwhile is read without a wake-up. -1 = poll_ns"}
                           .SimOnly("the kernel's own poll()"));
    v.Double("read_ns", r.readNs, Closed(0, 1e9),
             Doc{"ns", "the least CPU of a packet, the read() syscall itself: a packet costs max(per_packet_ns + "
                       "ns_per_byte * bytes, read_ns)"}
                 .SimOnly("the kernel's own read(): kernel.reader_read_ns_mean"));
    v.Double("read_empty_ns", r.readEmptyNs, Closed(0, 1e9),
             Doc{"ns", "CPU of the read() that finds the ring empty (-EAGAIN) before a read-until-empty reader "
                       "sleeps in poll(); 0 = none"}
                 .SimOnly("the kernel's own read()"));
    v.Double("write_ns", r.writeNs, Closed(0, 1e9),
             Doc{"ns", "CPU of one write() of a reverse packet into tun besides its decryption: tun_get_user() "
                       "-> netif_receive_skb() and the receive path (for TCP's ACKs tcp_ack())"}
                 .SimOnly("the kernel's own write(): kernel.reader.write_ns_mean"));
    v.Double("write_xmit_ns", r.writeXmitNs, Closed(0, 1e9),
             Doc{"ns", "CPU per packet the stack transmits into tun inside that write() (the sender's "
                       "tcp_write_xmit() -> qdisc -> tun_net_xmit(), run on the reader's thread)"}
                 .SimOnly("the kernel's own write(): kernel.reader.write_ns_mean"));
    v.Enum("encap", r.encap,
           Doc{"", "bytes the VPN adds per packet: none 0, openvpn 24, wireguard 32, custom "
                   "encap_overhead_bytes"}
               .SimOnly("no underlay: the reader is the tunnel exit"));
    v.Only(r.encap == EncapKind::Custom, "encap custom", [&]() {
        return std::string("only allowed when reader.encap is \"custom\"; encap is \"") + NameOf(r.encap) +
               "\" (overhead " + std::to_string(EncapOverhead(r)) + " B, fixed)";
    });
    v.Uint("encap_overhead_bytes", r.encapOverheadBytes, 0, 1000,
           Doc{"B", "bytes added per packet when encap is custom"}.SimOnly("no underlay: the reader is the tunnel exit"));
    v.Only(true, "", nullptr);
    v.Uint("sndbuf_bytes", r.sndbufBytes, kMinSndbuf, kMaxSndbuf,
           Doc{"B", "sk_sndbuf of the VPN's UDP socket"}.SimOnly("no underlay: the reader is the tunnel exit"));
    v.Array("stalls", r.stalls, [durationS](auto& vv, auto& st) { VisitStall(vv, st, durationS); },
            ArrayRules{false, false, "", "must be an array of {at_s, for_s} objects"},
            Doc{"", "the reader stops reading (seed 002's head-of-line objection)"});
    v.Double("preempt_interval_ms", r.preemptIntervalMs, Closed(0, 1e6),
             Doc{"ms", "mean time between random CPU preemptions of the reader (exponential; one that finds it asleep does nothing); 0 = none"}.SimOnly(
                 "the host's own scheduler"));
    v.Double("preempt_ms", r.preemptMs, Closed(0, 1e6),
             Doc{"ms", "mean length of a preemption (exponential)"}.SimOnly("the host's own scheduler"));
    v.Check([&](auto& p) {
        CheckBothPositiveOrZero(p.Path("preempt_interval_ms"), r.preemptIntervalMs, p.Path("preempt_ms"),
                                r.preemptMs, "preemption on", "off");
    });
    v.Enum("kind", r.kind,
           Doc{"", "who reads the device: vpn (this VPN process), qemu (QEMU's main loop and an emulated "
                   "NIC, section vm), vhost-net (the vhost-net worker and a virtio-net guest)"}
               .SimOnly("the live twin's reader is a user-space loop"));
    v.Uint("cpu", r.cpu, 0, 255,
           Doc{"", "host.cpus > 0: the CPU of queue 0's reader; queue q's reader runs on (cpu + q) mod host.cpus"}
               .SimOnly("the host's own scheduler"));
}


// ---------------------------------------------------------------- flows

template <typename V, typename T>
void
VisitFlow(V& v, T& f, double durationS, uint32_t hostCpus)
{
    auto onlyFor = [&](const char* kind) {
        return [&f, kind]() {
            return std::string("only for ") + kind + " flows; this flow's kind is \"" + NameOf(f.kind) + "\"";
        };
    };
    v.Enum("kind", f.kind, Doc{"", "udp | tcp"});
    v.Only(f.kind == FlowKind::Udp, "udp", onlyFor("udp"));
    v.Enum("mode", f.mode, Doc{"", "flood | rate | bursts | video"});
    v.Uint("payload_bytes", f.payloadBytes, 12, kMaxUdpPayload, Doc{"B", "datagram payload (no IP fragmentation)"});
    v.Double("rate_mbps", f.rateMbps, Closed(0.001, 1e6), Doc{"Mbit/s", "payload bit rate (rate, video)"});
    v.Uint("burst_packets", f.burstPackets, 1, 1000000, Doc{"datagrams", "per burst (bursts)"});
    v.Double("burst_interval_ms", f.burstIntervalMs, Closed(0.001, 1e6), Doc{"ms", "burst period (bursts)"});
    v.Bool("poisson", f.poisson, Doc{"", "exponential inter-send times (rate)"});
    v.Double("send_cost_ns", f.sendCostNs, Closed(0, 1e9),
             Doc{"ns", "sender CPU per sendto()"}.SimOnly("the sender's real cost: flows[].kernel.send_ns_mean"));
    v.Check([&](auto& p) {
        if (f.kind == FlowKind::Udp && f.mode == UdpMode::Flood && f.sendCostNs <= 0)
        {
            throw ScenarioError(p.Path("send_cost_ns"),
                                "must be > 0 for a flood: a sendto() that costs nothing sends without end "
                                "at one instant and simulated time never advances");
        }
    });
    v.DoubleOrMinusOne("send_cost_first_ns", f.sendCostFirstNs, Closed(0, 1e9), "same as send_cost_ns",
                       Doc{"ns", "CPU of the first sendto() after the sender slept; -1 = send_cost_ns"}.SimOnly(
                           "the sender's real cost: flows[].kernel.send_ns_profile"));
    const char* ctxSim = "the sender's real cost: flows[].kernel.send_ns_profile";
    v.DoubleOrMinusOne("send_cost_wake_ns", f.sendCostWakeNs, Closed(0, 1e9), "as without contexts",
                       Doc{"ns", "CPU of a sendto() whose sk_data_ready() woke the sleeping reader"}.SimOnly(ctxSim));
    v.Array("send_cost_wake_by_idle", f.sendCostWakeByIdle, [](auto& vv, auto& b) { VisitIdleCostBin(vv, b); },
            ArrayRules{false, false, "", "must be an array of {idle_us_from, send_ns} objects"},
            Doc{"", "the waking sendto()'s CPU by how long the sender was idle before it (a host profile's "
                    "send_wake_by_gap): instead of send_cost_wake_ns"}
                .SimOnly(ctxSim));
    v.Check([&](auto& p) { CheckIdleCostBins(p, f); });
    v.DoubleOrMinusOne("send_cost_running_ns", f.sendCostRunningNs, Closed(0, 1e9), "as without contexts",
                       Doc{"ns", "CPU of a sendto() into the ring of a reader that is awake"}.SimOnly(ctxSim));
    v.DoubleOrMinusOne("send_cost_full_ns", f.sendCostFullNs, Closed(0, 1e9), "as without contexts",
                       Doc{"ns", "CPU of a sendto() whose tun_net_xmit() found the ring full"}.SimOnly(ctxSim));
    v.Double("send_enqueue_ns", f.sendEnqueueNs, Closed(0, 1e6),
             Doc{"ns", "how long after a sendto() begins its datagram reaches the ring (udp_sendmsg() -> ... -> "
                       "tun_net_xmit()'s ptr_ring_produce()); the send's CPU still counts from its start. 0 = at "
                       "once"}
                 .SimOnly("the kernel's own send path"));
    v.Enum("sender", f.sender,
           Doc{"", "blocking: sendto() sleeps while sk_sndbuf is full | nonblocking: -EAGAIN, the datagram is "
                   "dropped by the application"});
    v.Enum("on_send_error", f.onSendError,
           Doc{"", "what a refused datagram (-EAGAIN; -ENOBUFS with recverr) drops: drop-datagram | drop-frame "
                   "(the rest of its video frame too)"});
    v.Bool("recverr", f.recverr,
           Doc{"", "IP_RECVERR: local drops (qdisc enqueue; noqueue: tun) come back as -ENOBUFS; without it the "
                   "kernel counts SNDBUFERRORS"});
    v.Check([&](auto& p) {
        if (f.kind == FlowKind::Udp && f.onSendError == OnSendError::DropFrame && f.mode != UdpMode::Video)
        {
            throw ScenarioError(p.Path("on_send_error"), "\"drop-frame\" needs mode \"video\" (frames); this "
                                                         "flow's mode is \"" + std::string(NameOf(f.mode)) + "\"");
        }
    });
    v.Double("fps", f.fps, Closed(0.001, 1000), Doc{"frames/s", "frame rate (video)"});
    v.Uint("gop", f.gop, 1, 100000, Doc{"frames", "frames per group of pictures, the first an I frame (video)"});
    v.Double("i_frame_ratio", f.iFrameRatio, Closed(1, 1000), Doc{"", "I-frame size / P-frame size (video)"});
    v.Double("phase_ms", f.phaseMs, Closed(0, 1e6), Doc{"ms", "first frame this long after start_s (video)"});
    v.Double("frame_size_cv", f.frameSizeCv, Closed(0, 10),
             Doc{"", "coefficient of variation of the log-normal frame size factor (video)"});
    v.Only(f.kind == FlowKind::Tcp, "tcp", onlyFor("tcp"));
    v.Enum("cc", f.cc, Doc{"", "congestion control"});
    v.Uint("max_bytes", f.maxBytes, 0, UINT64_MAX, Doc{"B", "bytes to send; 0 = unlimited"});
    v.Only(true, "", nullptr);
    v.Uint("cpu", f.cpu, 0, 255,
           Doc{"", "host.cpus > 0: the CPU this flow's sender runs on (< host.cpus)"}.SimOnly("the host's own scheduler"));
    v.Check([&f, hostCpus](auto& p) {
        if (hostCpus == 0 && f.cpu != 0)
        {
            throw ScenarioError(p.Path("cpu"), "needs host.cpus > 0 (the multi-core host); host.cpus is 0");
        }
        if (hostCpus > 0 && f.cpu >= hostCpus)
        {
            throw ScenarioError(p.Path("cpu"), "must be a CPU of the host, an integer in [0, host.cpus - 1] = [0, " +
                                                   std::to_string(hostCpus - 1) + "], got " + std::to_string(f.cpu));
        }
    });
    v.Double("start_s", f.startS, Range{0, false, durationS, true, "[0, duration_s)"}, Doc{"s", "start time"});
    v.DoubleOrMinusOne("stop_s", f.stopS, Range{f.startS, true, durationS, false, "(start_s, duration_s]"},
                       "run to the end", Doc{"s", "stop time; -1 = run to the end"});
}

// ------------------------------------------------------------ top level

/// The multi-core host's rules between sections (host.cpus > 0): the reader
/// on a CPU of the host, a VPN reader, the softirq charged by the CPU model.
template <typename S>
void
CheckHostCpus(const S& s)
{
    if (s.host.cpus == 0)
    {
        if (s.reader.cpu != 0)
        {
            throw ScenarioError("reader.cpu", "needs host.cpus > 0 (the multi-core host); host.cpus is 0");
        }
        return;
    }
    if (s.reader.cpu >= s.host.cpus)
    {
        throw ScenarioError("reader.cpu", "must be a CPU of the host, an integer in [0, host.cpus - 1] = [0, " +
                                              std::to_string(s.host.cpus - 1) + "], got " +
                                              std::to_string(s.reader.cpu));
    }
    if (s.reader.kind != ConsumerKind::Vpn)
    {
        throw ScenarioError("reader.kind", "must be \"vpn\" with host.cpus > 0 (the VM backends have no CPU "
                                           "model), got \"" + std::string(NameOf(s.reader.kind)) + "\"");
    }
    if (s.tun.softirqOnReaderCpu)
    {
        throw ScenarioError("tun.softirq_on_reader_cpu", "must be false with host.cpus > 0: the CPU model runs "
                                                         "the NET_TX softirq on the CPU that raised it");
    }
}

template <typename V, typename T>
void
VisitScenario(V& v, T& s)
{
    v.String("name", s.name, true, Doc{"", "name of the run (default output directory results/<name>)"});
    v.String("description", s.description, false, Doc{"", "free text, copied to the result"});
    v.Double("duration_s", s.durationS, LeftOpen(0, 1e5), Doc{"s", "simulated time"});
    v.Uint("seed", s.seed, 1, kMaxSeed, Doc{"", "ns-3 RNG run number"});
    v.Object("tun", s.tun, [](auto& vv, auto& t) { VisitTun(vv, t); }, Doc{"", "tun0 and its ring"});
    const uint32_t nq = s.tun.queues;
    v.Object("qdisc", s.qdisc, [nq](auto& vv, auto& q) { VisitQdisc(vv, q, nq); }, Doc{"", "the qdisc on tun0"});
    const double d = s.durationS;
    v.Object("reader", s.reader, [d](auto& vv, auto& r) { VisitReader(vv, r, d); }, Doc{"", "the VPN process"});
    v.Object("vm", s.vm, [&s](auto& vv, auto& m) { VisitVm(vv, m, s.reader.kind); },
             Doc{"", "the virtual machine behind a tap (reader.kind qemu / vhost-net)"});
    v.Check([&s](auto&) {
        if (s.reader.kind != ConsumerKind::Vpn && s.tun.mode != TunMode::Tap)
        {
            throw ScenarioError("reader.kind", std::string("\"") + NameOf(s.reader.kind) +
                                                   "\" reads a tap device: needs tun.mode \"tap\"");
        }
        if (s.reader.kind != ConsumerKind::Vpn && s.tun.queues > 1)
        {
            throw ScenarioError("tun.queues", "must be 1 with reader.kind \"" + std::string(NameOf(s.reader.kind)) +
                                                  "\" (one VM backend reads one queue), got " +
                                                  std::to_string(s.tun.queues));
        }
    });
    v.Object("underlay", s.underlay, [](auto& vv, auto& u) { VisitUnderlay(vv, u); }, Doc{"", "the physical link"});
    v.Object("host", s.host, [](auto& vv, auto& h) { VisitHost(vv, h); }, Doc{"", "sender socket defaults"});
    v.Check([&s](auto&) { CheckHostCpus(s); });
    const uint32_t cpus = s.host.cpus;
    v.Array("flows", s.flows, [d, cpus](auto& vv, auto& f) { VisitFlow(vv, f, d, cpus); },
            ArrayRules{true, true,
                       "required: an array of at least one flow, e.g. [{\"kind\": \"udp\", \"mode\": \"flood\"}]",
                       "must be an array of at least one flow object"},
            Doc{"", "traffic"});
}

} // namespace tunsim
