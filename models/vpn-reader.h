// VpnReader: the user-space VPN process on the tun side (OpenVPN, WireGuard-go,
// OpenConnect): a single thread that loops
//
//     read(tun_fd)  -> encrypt -> sendto(udp_fd, peer)
//
// and, in the other direction, decrypts what arrives on udp_fd and write()s
// it to tun_fd.
//
// Model, per read:
//   * the packet(s) come from TunNetDevice::TunRingConsume() (tun_ring_recv);
//     `Batch` > 1 takes up to that many per wake-up (recvmmsg/vhost style);
//   * the loop style (SetLoop, reader-loop.h): read-until-empty (above);
//     poll-each: each read is preceded by a poll() of PollCost CPU
//     (tun_chr_poll()), one packet per poll; batched: one poll of PollCost,
//     then up to `Batch` packets; in both a poll that finds the ring empty
//     sleeps as an empty read does;
//   * CPU time per packet = max(PerPacketCost + NsPerByte * bytes, ReadCost)
//     (ReadCost: the read() syscall itself, the kernel twin's floor);
//   * an empty ring puts the process to sleep (TunRingWait: the blocking wait
//     in tun_ring_recv); the producer's sk_data_ready() wakes it, and it runs
//     again WakeupLatency later (scheduler wake-up). With PollCost > 0 the
//     sleep goes through poll(): the reader blocks only PollBlockCost
//     (default PollCost) after it found the ring empty (do_sys_poll() ->
//     poll_initwait(), the timeout, tun_chr_poll(), which puts it
//     on the socket's wait queue and then checks the ring; schedule() comes
//     after), and a packet produced before then is seen by that poll()
//     without a wake-up (pollwake() on a task still running). Two levels when
//     DeepIdleAfter > 0: a reader that slept at least DeepIdleAfter before
//     sk_data_ready() pays DeepWakeupLatency instead (its CPU went into a
//     deep idle state, or its vCPU was descheduled by the host). Either
//     level can instead be drawn per wake-up from equally likely values
//     (SetWakeupQuantiles(), SetDeepWakeupQuantiles(): measured
//     distributions);
//   * each packet is encapsulated (EncapOverhead bytes) and sent on the VPN's
//     UDP socket; that socket has its own sk_sndbuf account, released when
//     the underlay NIC has transmitted the packet: when the underlay is the
//     bottleneck the process blocks in sendto() and the tun ring fills;
//   * stalls: the process stops reading for a while (seed 002's misbehaving
//     reader);
//   * CPU stolen by a NET_TX softirq on its CPU (ChargeCpu) delays it.
//   * the reverse direction (what the peer sends back, TCP's ACKs) is the
//     same thread's work: a packet arriving on the UDP socket wakes a
//     sleeping reader, and each loop iteration first decrypts and write()s
//     every waiting reverse packet into tun (PerPacketCost + NsPerByte *
//     bytes each), then reads one batch from the ring. In Linux the write()
//     runs the sender's ACK processing and its next transmits into tun0's
//     qdisc and ring (tun_get_user() -> netif_receive_skb() under
//     local_bh_disable()): the sender is clocked by the reader's loop.
#pragma once

#include "host-cpu.h"
#include "reader-loop.h"
#include "socket-account.h"
#include "tun-net-device.h"
#include "vpn-encap.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/inet-socket-address.h"
#include "ns3/nstime.h"
#include "ns3/random-variable-stream.h"
#include "underlay-endpoint.h"
#include "ns3/traced-callback.h"

#include <deque>
#include <functional>
#include <vector>

namespace tunsim
{

/// A latency drawn per use from equally likely values (e.g. the quantiles
/// of a measured distribution), or a fixed one when there are none.
class DrawnLatency
{
  public:
    /// `values` empty: Next() returns its `fixed` argument.
    void Set(std::vector<ns3::Time> values, int64_t stream);
    ns3::Time Next(ns3::Time fixed) const
    {
        return m_draw ? m_values[m_draw->GetInteger(0, static_cast<uint32_t>(m_values.size() - 1))] : fixed;
    }

  private:
    std::vector<ns3::Time> m_values;
    ns3::Ptr<ns3::UniformRandomVariable> m_draw; ///< index into m_values
};

/// A process's CPU preemptions: exponential gaps of mean `interval` between
/// exponential lengths of mean `duration`, from streams `stream` and
/// `stream + 1`; both null (no preemption) when either is zero. Shared by
/// the VPN reader and a VM backend's thread.
void MakePreemptionDraws(ns3::Time interval,
                         ns3::Time duration,
                         int64_t stream,
                         ns3::Ptr<ns3::ExponentialRandomVariable>& gap,
                         ns3::Ptr<ns3::ExponentialRandomVariable>& length);

/// The first half of a reverse write(tun_fd) -- the VPN reader's and the
/// VM backend's (tun_get_user() follows): take the packet at the head of
/// `waiting`, count it in `written` and hand it to `delivered` (the ledger;
/// may be empty). Shared by VpnReader::WriteDone() and VmBackend::WriteDone().
ns3::Ptr<ns3::Packet> TakeReverseForWrite(std::deque<ns3::Ptr<ns3::Packet>>& waiting,
                                          uint64_t& written,
                                          const std::function<void(ns3::Ptr<const ns3::Packet>)>& delivered);

class VpnReader : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();
    VpnReader();

    /// The tun device and queue this process has open, the peer endpoint on
    /// the underlay, and the account of the VPN's UDP socket.
    void Setup(ns3::Ptr<TunNetDevice> tun,
               uint32_t queue,
               ns3::InetSocketAddress local,
               ns3::InetSocketAddress peer,
               ns3::Ptr<SocketAccount> account);

    /// Stop reading during [at, at + duration).
    void AddStall(ns3::Time at, ns3::Time duration);

    /// Random preemption: the process loses its CPU to other tasks at
    /// exponentially distributed intervals (mean `interval`) for exponentially
    /// distributed times (mean `duration`). Zero interval = never. Only a
    /// preemption that finds the process on its CPU (OnCpu()) counts: one
    /// that falls while it sleeps leaves the sleep alone (Preempt()).
    void SetPreemption(ns3::Time interval, ns3::Time duration, int64_t stream);

    /// The wake-up as a distribution: each wake-up after a sleep shorter
    /// than DeepIdleAfter (every wake-up with one level) takes one of
    /// `quantiles` (equally likely, e.g. the quantiles of measured
    /// wake-ups) instead of WakeupLatency. Empty = WakeupLatency every time.
    void SetWakeupQuantiles(std::vector<ns3::Time> quantiles, int64_t stream);
    /// The same for the slow wake-up, after a sleep of at least
    /// DeepIdleAfter, instead of DeepWakeupLatency.
    void SetDeepWakeupQuantiles(std::vector<ns3::Time> quantiles, int64_t stream);

    /// The loop style (reader-loop.h); ReadUntilEmpty by default.
    void SetLoop(ReaderLoop loop) { m_loop = loop; }

    /// The wake-up by sleep length (a host profile's bins): a wake-up after a
    /// sleep of s takes one of the values of the last bin whose start is
    /// <= s (equally likely), instead of WakeupLatency / the two levels.
    /// `bins` sorted by start, the first starting at 0; each bin's draws use
    /// stream `stream + k`. Empty = off.
    void SetWakeupBySleep(std::vector<std::pair<ns3::Time, std::vector<ns3::Time>>> bins, int64_t stream);

    /// The multi-core host: this process runs on `cpu` (HostCpu), whose
    /// run queue it shares with senders, softirqs and other readers; its
    /// work (ScheduleOnCpu) and its resumption after a wake-up wait there.
    /// Null (default): a CPU of its own, as before.
    void SetHostCpu(ns3::Ptr<HostCpu> cpu) { m_hostCpu = cpu; }
    /// The multi-core host: the TCP sender owns its socket when an ACK this
    /// process writes arrives (sock_owned_by_user()): tcp_v4_rcv() queues it
    /// to the backlog and the sender's release_sock() processes it -- the
    /// transmits it releases run on the sender's CPU, not in this write().
    void SetAckOnSenderCpu(bool on) { m_ackOnSenderCpu = on; }

    /// CPU time taken from this process by something else on its CPU
    /// (a NET_TX softirq it triggered). Delays whatever it does next.
    void ChargeCpu(ns3::Time t);

    /// Called on the reverse path with each decapsulated packet just before
    /// it is written to tun (for the ledger).
    void SetReverseDeliveryCallback(std::function<void(ns3::Ptr<const ns3::Packet>)> cb)
    {
        m_reverseDelivered = std::move(cb);
    }

    struct Stats
    {
        uint64_t packetsRead = 0;
        uint64_t bytesRead = 0;
        uint64_t reads = 0;       ///< read calls that returned data
        uint64_t sleeps = 0;      ///< times it slept on an empty ring
        uint64_t pollCatches = 0; ///< of which ended by a packet its poll() saw before it blocked
        uint64_t wakeups = 0;     ///< sleeps ended by sk_data_ready()
        uint64_t deepWakeups = 0; ///< of which after >= DeepIdleAfter (DeepWakeupLatency; with
                                  ///< SetWakeupBySleep: after a sleep beyond the first bin)
        uint64_t sndbufBlocks = 0;///< times sendto() blocked on sk_sndbuf
        ns3::Time busy;           ///< CPU time spent (packets + stolen)
        ns3::Time stolen;         ///< of which charged by softirqs
        uint64_t reversePackets = 0;
        ns3::Time writeBusy;      ///< CPU inside reverse write()s (WriteCost, WriteXmitCost)
        uint64_t preemptions = 0; ///< preemptions that found it on its CPU
        uint64_t polls = 0;       ///< poll() calls that found data (poll-each, batched)
    };
    const Stats& GetStats() const { return m_stats; }
    /// Packets consumed from the ring and not yet handed to the underlay.
    uint32_t InHand() const { return static_cast<uint32_t>(m_inHand.size()); }
    /// Reverse packets received and not yet written into tun.
    uint32_t ReverseWaiting() const { return static_cast<uint32_t>(m_reverse.size()); }

  private:
    enum class State
    {
        Idle,      ///< not started / stopped
        Polling,   ///< in poll() (poll-each, batched) until m_doneAt, then reads
        Running,   ///< processing m_inHand until m_doneAt
        Writing,   ///< decrypting m_reverse.front(), then inside its write(), until m_doneAt
        Checking,  ///< in the read() (ReadEmptyCost) / poll(0) (PollCost) that finds the ring empty
        Blocking,  ///< in the poll() that found the ring empty, not yet asleep (PollBlockCost)
        Sleeping,  ///< blocking wait on an empty ring
        Waking,    ///< woken, waiting for the scheduler
        Blocked,   ///< sendto() waits for sk_sndbuf
        Stalled,   ///< not reading on purpose
    };

    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;

    void ReadLoop();
    /// The poll() that may block: its CPU up to where it would sleep.
    ns3::Time PollBlockTime() const;
    /// Take up to `max` packets from the ring into m_inHand; false if none.
    bool TunRingRecv(uint32_t max);
    /// The read() (read-until-empty) or the zero-timeout poll() (poll-each,
    /// batched) found the ring empty: that syscall's `cost`, then
    /// SleepOnRing() (at once when the cost is 0).
    void RingFoundEmpty(ns3::Time cost);
    /// RingFoundEmpty()'s syscall returned: SleepOnRing().
    void CheckedEmpty();
    /// The ring was empty: sleep in tun_ring_recv() / poll().
    void SleepOnRing();
    /// Charge the CPU of the packets in hand; ProcessDone() when done.
    void ProcessInHand();
    /// poll() returned (poll-each, batched): read.
    void PollDone();
    /// The poll() that found the ring empty reaches schedule(): block, or
    /// go on reading if a packet arrived meanwhile.
    void PollBlock();
    void ProcessDone();
    void SendInHand();
    void OnDataReady();
    void Resume();
    void StallBegin(ns3::Time duration);
    void StallEnd();
    void Preempt();
    /// The process is on its CPU (what a preemption can take away).
    bool OnCpu() const;
    void ScheduleOnCpu(ns3::Time work, void (VpnReader::*fn)());
    void HandleUnderlayRead(ns3::Ptr<ns3::Packet> p);
    /// write(tun_fd) of the reverse packet just decrypted.
    void WriteDone();
    /// write(tun_fd) returned after WriteCost + n * WriteXmitCost.
    void WriteReturned();

    ns3::Ptr<TunNetDevice> m_tun;
    uint32_t m_queue = 0;
    ns3::InetSocketAddress m_local{ns3::Ipv4Address::GetAny(), 0};
    ns3::InetSocketAddress m_peer{ns3::Ipv4Address::GetAny(), 0};
    ns3::Ptr<SocketAccount> m_account;
    ns3::Ptr<UnderlayEndpoint> m_socket; // udp_fd

    ns3::Time m_perPacket;
    double m_nsPerByte = 0;
    ns3::Time m_wakeupLatency;
    ns3::Time m_deepIdleAfter;      ///< 0 = one level
    ns3::Time m_deepWakeupLatency;
    DrawnLatency m_wakeupDraw;      ///< drawn instead of m_wakeupLatency, if set
    DrawnLatency m_deepWakeupDraw;  ///< drawn instead of m_deepWakeupLatency, if set
    std::vector<ns3::Time> m_sleepBinFrom;  ///< SetWakeupBySleep: each bin's shortest sleep
    std::vector<DrawnLatency> m_sleepBinDraw; ///< and its wake-ups
    ns3::Time m_sleepingSince;      ///< when it last went to sleep on an empty ring
    uint32_t m_batch = 1;
    ReaderLoop m_loop = ReaderLoop::ReadUntilEmpty;
    ns3::Time m_pollCost;           ///< CPU of one poll() that finds data
    ns3::Time m_pollBlockCost;      ///< the poll() that may block, to where it sleeps (< 0: m_pollCost)
    ns3::Time m_readCost;           ///< floor of a packet's CPU: the read() itself
    ns3::Time m_readEmptyCost;      ///< a read() that finds the ring empty (-EAGAIN)
    ns3::Time m_writeCost;          ///< a reverse write(): tun_get_user() and the receive path
    ns3::Time m_writeXmitCost;      ///< per packet transmitted into tun inside that write()
    uint32_t m_encapOverhead = 0;

    State m_state = State::Idle;
    uint32_t m_stalled = 0; ///< stalls in progress (they may overlap)
    ns3::Ptr<ns3::ExponentialRandomVariable> m_preemptGap;
    ns3::Ptr<ns3::ExponentialRandomVariable> m_preemptLength;
    uint64_t m_preemptions = 0;
    std::vector<ns3::Ptr<ns3::Packet>> m_inHand;
    std::deque<ns3::Ptr<ns3::Packet>> m_reverse; ///< decapsulated, waiting for write()
    ns3::Ptr<HostCpu> m_hostCpu; ///< the multi-core host's CPU, or null
    bool m_ackOnSenderCpu = false;
    ns3::Time m_cpuFreeAt;  ///< the CPU is owed until then (stolen time)
    ns3::Time m_doneAt;     ///< Running: when m_inHand is processed
    ns3::EventId m_event;
    std::vector<std::pair<ns3::Time, ns3::Time>> m_stalls;
    std::function<void(ns3::Ptr<const ns3::Packet>)> m_reverseDelivered;
    Stats m_stats;
};

} // namespace tunsim
