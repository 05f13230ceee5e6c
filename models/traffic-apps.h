// Traffic applications: what the hosts run through the tunnel.
//
//  UdpSeqSender  the authors' validation sender: datagrams with a sequence
//                number and send time (ns-3 SeqTsHeader); as fast as the
//                socket allows (flood), at a constant or Poisson rate, or in
//                bursts of N every T. It blocks, like sendto(), while its
//                socket's sk_wmem_alloc >= sk_sndbuf -- or, non-blocking,
//                gets -EAGAIN and drops the datagram (or the rest of its
//                video frame); with IP_RECVERR it sees local drops
//                (-ENOBUFS). Its CPU per send() may depend on what the
//                send() did in the tun path (SetXmitProbe): the first after
//                a sleep, waking the reader, into a running reader, into a
//                full ring.
//  UdpSeqSink    counts what arrives, per sequence number.
//  TcpBulkSender iperf3-like bulk sender on ns-3's TCP (Cubic by default).
//  TcpSink       accepts and counts bytes.
//
// Every packet a sender hands down is tagged (TunsimTag), charged to its
// socket account and counted in the PacketLedger.
#pragma once

#include "host-cpu.h"
#include "linux-tcp-socket.h"
#include "packet-ledger.h"
#include "traffic-kinds.h"
#include "socket-account.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/inet-socket-address.h"
#include "ns3/random-variable-stream.h"
#include "ns3/socket.h"
#include "ns3/tcp-header.h"

#include <array>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace ns3
{
class TcpSocketBase;
}

namespace tunsim
{

class UdpSeqSender : public ns3::Application
{
  public:
    using Mode = UdpMode;

    struct Config
    {
        Mode mode = Mode::Flood;
        uint32_t payloadBytes = 1400;
        double rateBps = 1e8;       ///< Rate: payload bits per second
        bool poisson = false;       ///< Rate: exponential gaps
        uint32_t burstPackets = 10; ///< Bursts
        ns3::Time burstInterval = ns3::MilliSeconds(10);
        ns3::Time wakeupLatency = ns3::MicroSeconds(5); ///< blocked -> running
        ns3::Time sendCost = ns3::NanoSeconds(1000);    ///< CPU per sendto()
        /// CPU of the first sendto() after the sender slept with nothing to
        /// send (a burst's or a paced datagram's first): cold caches, and the
        /// wake-up of an idle reader paid inside send() (docs/kernel.md)
        ns3::Time sendCostFirst = ns3::NanoSeconds(1000);
        // Video: rateBps is the encoder's bit rate; a GOP of `gop` frames
        // starts with an I frame `iFrameRatio` times the size of a P frame.
        double fps = 30;
        uint32_t gop = 30;
        double iFrameRatio = 5;
        ns3::Time phase; ///< first frame at start + phase
        double frameSizeCv = 0; ///< frame sizes vary by a log-normal factor (mean 1, this CV)
        /// O_NONBLOCK: sock_alloc_send_pskb() returns -EAGAIN when
        /// sk_wmem_alloc >= sk_sndbuf instead of sleeping in
        /// sock_wait_for_wmem(); the datagram is dropped by the application.
        bool nonblocking = false;
        /// On a refused datagram (-EAGAIN, or -ENOBUFS seen with recverr)
        /// drop the rest of its video frame too.
        bool dropFrame = false;
        /// IP_RECVERR: a local drop reported as NET_XMIT_DROP (qdisc enqueue;
        /// with noqueue, tun_net_xmit()) comes back as -ENOBUFS
        /// (udp_send_skb()); without it the kernel counts SNDBUFERRORS and
        /// send() succeeds.
        bool recverr = false;
        /// CPU of a send() by what it did (SetXmitProbe); negative: the
        /// cost without contexts (sendCostFirst / sendCost).
        ns3::Time sendCostWake = ns3::NanoSeconds(-1);    ///< its sk_data_ready() woke the sleeping reader
        /// Or that cost by how long the sender was idle before the send:
        /// (idle from, cost) bins, the first from 0 (empty: sendCostWake).
        std::vector<std::pair<ns3::Time, ns3::Time>> sendCostWakeByIdle;
        ns3::Time sendCostRunning = ns3::NanoSeconds(-1); ///< into the ring of a reader that is awake
        ns3::Time sendCostFull = ns3::NanoSeconds(-1);    ///< tun_net_xmit() found the ring full (dropped)
        /// The datagram reaches the qdisc and the ring this long after its
        /// send() began (udp_sendmsg()'s copy and the stack before
        /// tun_net_xmit()); the send's cost still counts from its start
        /// (with a HostCpu: that much of it is done first).
        ns3::Time sendEnqueue;
    };

    /// Counters of the tun path, read before and after each send(): what
    /// that send() did.
    struct XmitCounters
    {
        uint64_t ringDrops = 0;     ///< tun_net_xmit() found the ring full
        uint64_t produced = 0;      ///< entries put into the ring
        uint64_t readerWakeups = 0; ///< sleeping reader woken by sk_data_ready()
        uint64_t returnedDrops = 0; ///< drops reported to the caller as NET_XMIT_DROP
    };
    /// What a send() did, in the order the cost is chosen.
    enum class SendContext : uint8_t
    {
        FullRing = 0, ///< the ring was full: the packet (or one dequeued with it) dropped
        WokeReader,   ///< its sk_data_ready() woke the sleeping reader
        First,        ///< the first after the sender slept
        RunningReader,///< into the ring, the reader awake
        Plain,        ///< held by the qdisc (stopped queue) or dropped there
        COUNT
    };
    struct SenderStats
    {
        uint64_t eagainDrops = 0;  ///< datagrams dropped after -EAGAIN (with the rest of their frames)
        uint64_t enobufsSeen = 0;  ///< -ENOBUFS returned (IP_RECVERR)
        uint64_t enobufsFrameDrops = 0; ///< rest-of-frame datagrams dropped after -ENOBUFS
        uint64_t sndbufErrors = 0; ///< NET_XMIT_DROP hidden from the app (SNDBUFERRORS)
        std::array<uint64_t, static_cast<size_t>(SendContext::COUNT)> byContext{}; ///< with a probe
    };
    /// Read the tun path's counters (build.cc makes it from the testbed).
    /// Without one, every send() costs sendCostFirst / sendCost.
    void SetXmitProbe(std::function<XmitCounters()> probe) { m_probe = std::move(probe); }
    const SenderStats& GetSenderStats() const { return m_sstats; }
    bool HasXmitProbe() const { return static_cast<bool>(m_probe); }

    /// The multi-core host (host.cpus > 0): the sender runs on `cpu`. Each
    /// sendto() starts when that CPU runs the sender (after what it runs
    /// before) and its send_cost_ns is that CPU's work (udp_sendmsg() ->
    /// ip_output() -> __dev_queue_xmit(): the copy, the stack, the enqueue
    /// and a direct transmit are all inside the syscall); the next sendto()
    /// follows when that work is done. Null: the sender keeps its own clock.
    void SetHostCpu(ns3::Ptr<HostCpu> cpu) { m_cpu = std::move(cpu); }

    /// Video: sequence number of the first datagram of every frame generated.
    const std::vector<uint64_t>& FrameStarts() const { return m_frameStarts; }

    static ns3::TypeId GetTypeId();
    void Setup(ns3::InetSocketAddress dest,
               const Config& cfg,
               ns3::Ptr<SocketAccount> account,
               ns3::Ptr<PacketLedger> ledger,
               uint32_t flowId);

    uint64_t Sent() const { return m_seq; }
    uint64_t SentBytes() const { return m_seq * m_cfg.payloadBytes; }
    /// Datagrams generated by the traffic pattern but not yet sent (the
    /// application's own backlog while the socket blocks).
    uint64_t Backlog() const { return m_backlog; }

  private:
    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;
    void Generate();
    void SendLoop();
    /// m_sendEvent fired: no send is scheduled any more; SendLoop().
    void SendEvent();
    /// The datagram reaches the stack (sendEnqueue after its send() began):
    /// send it, then the next send() when this one's cost is over.
    void Enqueue(ns3::Ptr<ns3::Packet> p, bool first, ns3::Time idle);
    /// The send() with the probe: its context, its cost, -ENOBUFS.
    ns3::Time SendProbed(ns3::Ptr<ns3::Packet> p, bool first, ns3::Time idle);
    /// sendCostWakeByIdle's cost for a waking send after `idle`.
    ns3::Time WakeCostAfterIdle(ns3::Time idle) const;
    /// sock_alloc_send_pskb() returned -EAGAIN (non-blocking socket).
    void RefuseEagain();
    /// The sequence number after the frame of datagram `seq` (video), at
    /// most m_seq + m_backlog; seq + 1 without frames.
    uint64_t FrameEnd(uint64_t seq);
    /// Drop the next n datagrams of the backlog at drop point `point`.
    void DropFromBacklog(uint64_t n, uint32_t point);
    /// Schedule the next SendLoop() `cost` from now (if there is backlog);
    /// with a CPU, `cost` is that CPU's work and the next SendLoop() its end.
    void NextSendAfter(ns3::Time cost);

    ns3::InetSocketAddress m_dest{ns3::Ipv4Address::GetAny(), 0};
    Config m_cfg;
    ns3::Ptr<SocketAccount> m_account;
    ns3::Ptr<PacketLedger> m_ledger;
    uint32_t m_flowId = 0;
    ns3::Ptr<ns3::Socket> m_socket;
    ns3::Ptr<ns3::ExponentialRandomVariable> m_gap;
    ns3::Ptr<ns3::LogNormalRandomVariable> m_frameFactor;
    ns3::EventId m_genEvent;
    ns3::EventId m_sendEvent;
    bool m_sendScheduled = false; ///< m_sendEvent is pending (cheaper than EventId::IsRunning())
    uint64_t m_seq = 0;
    uint64_t m_backlog = 0;
    bool m_running = false;
    bool m_blocked = false;
    bool m_drained = true; ///< backlog ran out: the next send may follow a sleep
    ns3::Time m_nextSendAllowed;
    uint64_t m_frame = 0;
    std::vector<uint64_t> m_frameStarts;
    size_t m_frameCursor = 0; ///< FrameEnd(): the frame of the last sequence number asked
    std::function<XmitCounters()> m_probe;
    SenderStats m_sstats;
    ns3::Ptr<HostCpu> m_cpu; ///< host.cpus > 0: the CPU the sender runs on
};

class UdpSeqSink : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();
    void Setup(uint16_t port) { m_port = port; }
    uint64_t Received() const { return m_received; }
    uint64_t ReceivedBytes() const { return m_bytes; }
    /// Datagrams whose sequence number was lower than one already seen.
    uint64_t Reordered() const { return m_reordered; }
    /// Whether datagram `seq` arrived.
    bool Got(uint64_t seq) const
    {
        return seq / 64 < m_seen.size() && (m_seen[seq / 64] >> (seq % 64) & 1u);
    }

    /// Video frames judged and lost.
    struct FrameLoss
    {
        uint64_t judged = 0;
        uint64_t lost = 0;
    };
    /// A frame is lost when any of its datagrams is missing (a decoder shows
    /// an artefact). Judged are the frames `sender` sent entirely whose
    /// datagrams cannot still be in the tunnel: `inFlight` datagrams of the
    /// flow are neither delivered nor dropped at the end, so the frames with
    /// any of the last `inFlight` sequence numbers are not judged.
    FrameLoss FrameLossOf(const UdpSeqSender& sender, uint64_t inFlight) const;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;
    void HandleRead(ns3::Ptr<ns3::Socket> socket);

    uint16_t m_port = 0;
    ns3::Ptr<ns3::Socket> m_socket;
    uint64_t m_received = 0;
    uint64_t m_bytes = 0;
    uint64_t m_reordered = 0;
    int64_t m_maxSeq = -1;
    std::vector<uint64_t> m_seen; ///< bitmap of received sequence numbers
};

class TcpBulkSender : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();
    void Setup(ns3::InetSocketAddress dest,
               CongestionControl congestionControl,
               uint64_t maxBytes,
               ns3::Ptr<SocketAccount> account,
               ns3::Ptr<PacketLedger> ledger,
               uint32_t flowId);

    uint64_t BytesQueued() const { return m_queued; }
    ns3::Ptr<ns3::TcpSocketBase> GetSocket() const;
    /// The Linux-like socket (null with tcp.linux false).
    ns3::Ptr<LinuxTcpSocket> Linux() const { return m_linux; }
    /// Segments sent again: the socket's own count (a segment the stack
    /// refused and that went out later is not one), else seen on the wire.
    uint64_t Retransmits() const;
    /// Latest congestion window (bytes), from the CongestionWindow trace.
    uint32_t Cwnd() const { return m_cwnd; }
    /// RTT: ns-3 traces only its samples ("RTT", the last sample); the
    /// smoothed RTT is computed from them as RFC 6298 / tcp_rtt_estimator()
    /// do (srtt += (sample - srtt) / 8), and the minimum is kept.
    ns3::Time LastRtt() const { return m_lastRtt; }
    ns3::Time Srtt() const { return m_srtt; }
    ns3::Time MinRtt() const { return m_minRtt; }
    /// Bytes in flight, from the BytesInFlight trace.
    uint32_t BytesInFlight() const { return m_bytesInFlight; }

  private:
    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;
    void Connected(ns3::Ptr<ns3::Socket> socket);
    void OnCwnd(uint32_t oldCwnd, uint32_t cwnd);
    void OnRtt(ns3::Time oldRtt, ns3::Time rtt);
    void OnBytesInFlight(uint32_t oldValue, uint32_t value) { m_bytesInFlight = value; }
    void Fill(ns3::Ptr<ns3::Socket> socket, uint32_t available);
    void OnTx(ns3::Ptr<const ns3::Packet> p,
              const ns3::TcpHeader& h,
              ns3::Ptr<const ns3::TcpSocketBase> s);

    ns3::InetSocketAddress m_dest{ns3::Ipv4Address::GetAny(), 0};
    CongestionControl m_cc = CongestionControl::Cubic;
    ns3::Ptr<LinuxTcpSocket> m_linux;
    uint64_t m_maxBytes = 0;
    ns3::Ptr<SocketAccount> m_account;
    ns3::Ptr<PacketLedger> m_ledger;
    uint32_t m_flowId = 0;
    ns3::Ptr<ns3::Socket> m_socket;
    uint64_t m_queued = 0;
    bool m_writeSpaceWake = true; // sk_stream_write_space()'s wake threshold
    bool m_waitMemory = false;    // the writer found the send buffer full (SOCK_NOSPACE)
    uint32_t m_sndBuf = 0;        // SndBufSize
    uint64_t m_retransmits = 0;
    uint32_t m_highestSeq = 0;
    bool m_anySent = false;
    uint32_t m_cwnd = 0;
    ns3::Time m_lastRtt;
    ns3::Time m_srtt;
    ns3::Time m_minRtt;
    uint32_t m_bytesInFlight = 0;
};

class TcpSink : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();
    void Setup(uint16_t port) { m_port = port; }
    uint64_t ReceivedBytes() const { return m_bytes; }
    /// ACKs its Linux-like sockets held back by SACK compression.
    uint64_t AcksCompressed() const;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;
    void Accept(ns3::Ptr<ns3::Socket> s, const ns3::Address& from);
    void HandleRead(ns3::Ptr<ns3::Socket> socket);

    uint16_t m_port = 0;
    ns3::Ptr<ns3::Socket> m_listen;
    std::vector<ns3::Ptr<ns3::Socket>> m_accepted;
    uint64_t m_bytes = 0;
};

} // namespace tunsim
