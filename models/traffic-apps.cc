#include "traffic-apps.h"

#include "linux-tcp-socket.h"

#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/seq-ts-header.h"
#include "ns3/simulator.h"
#include "ns3/tcp-cubic.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/tcp-congestion-ops.h"
#include "ns3/tcp-socket-base.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"
#include "ns3/double.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace tunsim
{

NS_LOG_COMPONENT_DEFINE("TunsimTrafficApps");
NS_OBJECT_ENSURE_REGISTERED(UdpSeqSender);
NS_OBJECT_ENSURE_REGISTERED(UdpSeqSink);

namespace
{
constexpr uint32_t kUdpIpHeaders = 8 + 20;
constexpr uint32_t kSeqTsBytes = 12; // SeqTsHeader: seq (4) + timestamp (8)
constexpr int64_t kFirstStream = 1000; // RNG streams of the traffic apps
} // namespace

// -------------------------------------------------------------- UdpSeqSender

ns3::TypeId
UdpSeqSender::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::UdpSeqSender")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<UdpSeqSender>();
    return tid;
}

void
UdpSeqSender::Setup(ns3::InetSocketAddress dest,
                    const Config& cfg,
                    ns3::Ptr<SocketAccount> account,
                    ns3::Ptr<PacketLedger> ledger,
                    uint32_t flowId)
{
    m_dest = dest;
    m_cfg = cfg;
    m_account = account;
    m_ledger = ledger;
    m_flowId = flowId;
    m_gap = ns3::CreateObject<ns3::ExponentialRandomVariable>();
    // A fixed stream per flow: ns-3 would otherwise number streams from a
    // process-wide counter, and a second run in one process would differ.
    m_gap->SetStream(static_cast<int64_t>(kFirstStream + 2 * flowId));
    if (cfg.frameSizeCv > 0)
    {
        // log-normal with mean 1 and the given coefficient of variation
        double sigma2 = std::log(1 + cfg.frameSizeCv * cfg.frameSizeCv);
        m_frameFactor = ns3::CreateObject<ns3::LogNormalRandomVariable>();
        m_frameFactor->SetAttribute("Mu", ns3::DoubleValue(-sigma2 / 2));
        m_frameFactor->SetAttribute("Sigma", ns3::DoubleValue(std::sqrt(sigma2)));
        m_frameFactor->SetStream(static_cast<int64_t>(kFirstStream + 2 * flowId + 1));
    }
}

void
UdpSeqSender::StartApplication()
{
    m_socket = ns3::Socket::CreateSocket(GetNode(), ns3::UdpSocketFactory::GetTypeId());
    m_socket->Bind();
    m_socket->Connect(m_dest);
    m_running = true;
    if (m_cfg.mode == Mode::Flood)
    {
        m_backlog = std::numeric_limits<uint64_t>::max() / 2;
        SendLoop();
    }
    else if (m_cfg.mode == Mode::Video && !m_cfg.phase.IsZero())
    {
        m_genEvent = ns3::Simulator::Schedule(m_cfg.phase, &UdpSeqSender::Generate, this);
    }
    else
    {
        Generate();
    }
}

void
UdpSeqSender::StopApplication()
{
    m_running = false;
    m_genEvent.Cancel();
    m_sendEvent.Cancel();
    m_sendScheduled = false;
    if (m_cfg.mode == Mode::Flood)
    {
        m_backlog = 0;
    }
}

void
UdpSeqSender::DoDispose()
{
    m_socket = nullptr;
    m_account = nullptr;
    m_ledger = nullptr;
    ns3::Application::DoDispose();
}

void
UdpSeqSender::Generate()
{
    // The traffic pattern adds datagrams to the application's backlog.
    if (!m_running)
    {
        return;
    }
    ns3::Time next;
    switch (m_cfg.mode)
    {
    case Mode::Flood:
        return; // no pattern: StartApplication() gives a flood an unbounded backlog
    case Mode::Rate: {
        ++m_backlog;
        const double mean = m_cfg.payloadBytes * 8.0 / m_cfg.rateBps;
        next = ns3::Seconds(m_cfg.poisson ? m_gap->GetValue(mean, 0) : mean);
        break;
    }
    case Mode::Bursts:
        m_backlog += m_cfg.burstPackets;
        next = m_cfg.burstInterval;
        break;
    case Mode::Video: {
        // One encoded frame: the encoder hands all its datagrams to the
        // socket at once (RTP packetisation); I frame first in each GOP.
        const double gopBits = m_cfg.rateBps * m_cfg.gop / m_cfg.fps;
        const double pBytes = gopBits / 8.0 / (m_cfg.iFrameRatio + m_cfg.gop - 1);
        double bytes = m_frame % m_cfg.gop == 0 ? m_cfg.iFrameRatio * pBytes : pBytes;
        if (m_frameFactor)
        {
            bytes *= m_frameFactor->GetValue();
        }
        const auto packets = static_cast<uint64_t>(std::ceil(bytes / m_cfg.payloadBytes));
        m_frameStarts.push_back(m_seq + m_backlog);
        m_backlog += std::max<uint64_t>(packets, 1);
        ++m_frame;
        next = ns3::Seconds(1.0 / m_cfg.fps);
        break;
    }
    }
    m_genEvent = ns3::Simulator::Schedule(next, &UdpSeqSender::Generate, this);
    SendLoop();
}

void
UdpSeqSender::SendEvent()
{
    m_sendScheduled = false;
    SendLoop();
}

void
UdpSeqSender::SendLoop()
{
    // One sendto() per call; each costs the sender `sendCost` of CPU.
    if (!m_running || m_backlog == 0 || m_blocked || m_sendScheduled)
    {
        return;
    }
    ns3::Time now = ns3::Simulator::Now();
    if (now < m_nextSendAllowed)
    {
        m_sendScheduled = true;
        m_sendEvent = ns3::Simulator::Schedule(m_nextSendAllowed - now, &UdpSeqSender::SendEvent, this);
        return;
    }
    if (m_cpu && HostCpu::Current() != ns3::PeekPointer(m_cpu))
    {
        // The multi-core host: a process calls sendto() only when its CPU
        // runs it (a woken or newly busy sender waits for that CPU).
        m_sendScheduled = true;
        m_cpu->Submit(ns3::Time(0), CpuWork::Sender, [this]() { SendEvent(); });
        return;
    }
    if (!m_account->MaySend())
    {
        if (m_cfg.nonblocking)
        {
            RefuseEagain();
            return;
        }
        // sock_alloc_send_pskb(): sleep until sk_write_space().
        m_blocked = true;
        m_account->Block([this]() {
            m_sendScheduled = true;
            m_sendEvent = ns3::Simulator::Schedule(m_cfg.wakeupLatency, [this]() {
                m_blocked = false;
                SendEvent();
            });
        });
        return;
    }
    ns3::SeqTsHeader seqTs;
    seqTs.SetSeq(static_cast<uint32_t>(m_seq));
    ns3::Ptr<ns3::Packet> p = ns3::Create<ns3::Packet>(m_cfg.payloadBytes - kSeqTsBytes);
    p->AddHeader(seqTs);
    // sock_alloc_send_pskb() at the send()'s start: the skb is charged to
    // the socket, and its one-way delay counts, from here.
    SocketAccountTable::SetOwner(p, *m_account, m_flowId, m_cfg.payloadBytes + kUdpIpHeaders);
    // The first sendto() after the sender slept with nothing to send (its
    // backlog had run out and its last send had finished before this one was
    // due) costs sendCostFirst; the rest of a burst sendCost.
    const bool first = m_drained && (m_seq == 0 || now > m_nextSendAllowed);
    // How long the sender was idle: since its last send() returned (the
    // flow's first send: longer than any bin; a send inside a burst: 0).
    const ns3::Time idle = !first ? ns3::Time(0) : m_seq == 0 ? ns3::Time::Max() : now - m_nextSendAllowed;
    if (m_cfg.sendEnqueue.IsStrictlyPositive())
    {
        // udp_sendmsg() copies the payload and walks the stack before
        // dev_queue_xmit() -> tun_net_xmit() puts it in the ring: the
        // datagram is there sendEnqueue after the send() began (a reader
        // that empties the ring meanwhile goes to sleep before it lands).
        // With a HostCpu that part is the sender's CPU work.
        m_sendScheduled = true;
        if (m_cpu)
        {
            m_cpu->Submit(m_cfg.sendEnqueue, CpuWork::Sender, [this, p, first, idle]() { Enqueue(p, first, idle); });
            return;
        }
        m_sendEvent = ns3::Simulator::Schedule(m_cfg.sendEnqueue, &UdpSeqSender::Enqueue, this, p, first, idle);
        return;
    }
    Enqueue(p, first, idle);
}

void
UdpSeqSender::Enqueue(ns3::Ptr<ns3::Packet> p, bool first, ns3::Time idle)
{
    // (A datagram still on its way when the run ends was never sent: the
    // ledger counts it here, in sent = delivered + dropped + queued.)
    m_sendScheduled = false;
    m_ledger->Sent(m_flowId, m_cfg.payloadBytes + kUdpIpHeaders);
    // The rest of the send()'s cost after its datagram landed: the cost
    // counts from the send()'s start (a send() returns after its datagram
    // is in the ring: one that costs less than sendEnqueue takes that).
    auto rest = [this](ns3::Time cost) { return std::max(ns3::Time(0), cost - m_cfg.sendEnqueue); };
    if (m_probe)
    {
        NextSendAfter(rest(SendProbed(p, first, idle)));
        return;
    }
    const ns3::Time cost = first ? m_cfg.sendCostFirst : m_cfg.sendCost;
    ++m_seq;
    --m_backlog;
    m_drained = m_backlog == 0;
    m_nextSendAllowed = ns3::Simulator::Now() + rest(cost);
    m_socket->Send(p);
    NextSendAfter(rest(cost));
}

void
UdpSeqSender::NextSendAfter(ns3::Time cost)
{
    m_nextSendAllowed = ns3::Simulator::Now() + cost;
    if (m_cpu)
    {
        // the sendto()'s CPU on the sender's CPU, in the same context as
        // the stack's work it started (that goes first: it is inside the
        // syscall), even with nothing more to send
        m_sendScheduled = true;
        m_cpu->Submit(cost, CpuWork::Sender, [this]() { SendEvent(); });
        return;
    }
    if (m_backlog > 0 && m_running)
    {
        m_sendScheduled = true;
        m_sendEvent = ns3::Simulator::Schedule(cost, &UdpSeqSender::SendEvent, this);
    }
}

ns3::Time
UdpSeqSender::SendProbed(ns3::Ptr<ns3::Packet> p, bool first, ns3::Time idle)
{
    // udp_sendmsg() -> ip_send_skb() -> the qdisc -> tun_net_xmit(), all in
    // this call: the counters before and after say what it did.
    const XmitCounters before = m_probe();
    ++m_seq;
    --m_backlog;
    m_drained = m_backlog == 0;
    m_socket->Send(p);
    const XmitCounters after = m_probe();
    SendContext ctx = SendContext::Plain;
    if (after.ringDrops > before.ringDrops)
    {
        ctx = SendContext::FullRing;
    }
    else if (after.readerWakeups > before.readerWakeups)
    {
        ctx = SendContext::WokeReader;
    }
    else if (first)
    {
        ctx = SendContext::First;
    }
    else if (after.produced > before.produced)
    {
        ctx = SendContext::RunningReader;
    }
    ++m_sstats.byContext[static_cast<size_t>(ctx)];
    if (after.returnedDrops > before.returnedDrops)
    {
        // ip_send_skb(): NET_XMIT_DROP -> -ENOBUFS; udp_send_skb() hides it
        // unless IP_RECVERR (UDP_MIB_SNDBUFERRORS).
        if (!m_cfg.recverr)
        {
            ++m_sstats.sndbufErrors;
        }
        else
        {
            ++m_sstats.enobufsSeen;
            if (m_cfg.dropFrame)
            {
                const uint64_t n = std::min(FrameEnd(m_seq - 1) - m_seq, m_backlog);
                m_sstats.enobufsFrameDrops += n;
                DropFromBacklog(n, m_ledger->DropPoint("app", "ENOBUFS"));
            }
        }
    }
    if (ctx == SendContext::WokeReader && !m_cfg.sendCostWakeByIdle.empty())
    {
        return WakeCostAfterIdle(idle);
    }
    const ns3::Time base = first ? m_cfg.sendCostFirst : m_cfg.sendCost;
    const ns3::Time* own = nullptr;
    switch (ctx)
    {
    case SendContext::FullRing:
        own = &m_cfg.sendCostFull;
        break;
    case SendContext::WokeReader:
        own = &m_cfg.sendCostWake;
        break;
    case SendContext::RunningReader:
        own = &m_cfg.sendCostRunning;
        break;
    case SendContext::First:
    case SendContext::Plain:
    case SendContext::COUNT:
        break;
    }
    return own && !own->IsNegative() ? *own : base;
}

ns3::Time
UdpSeqSender::WakeCostAfterIdle(ns3::Time idle) const
{
    // try_to_wake_up() inside the send (sock_def_readable() from
    // tun_net_xmit()): what it costs grows with how long the sender's own
    // CPU was idle before (cold caches, its idle state's exit) -- measured
    // by tunsim calibrate at gaps of 10 us .. 100 ms (send_wake_by_gap). The
    // last bin whose start is <= idle; at most 32 bins.
    const auto& bins = m_cfg.sendCostWakeByIdle;
    const auto it = std::upper_bound(bins.begin(), bins.end(), idle,
                                     [](ns3::Time t, const std::pair<ns3::Time, ns3::Time>& b) { return t < b.first; });
    return it == bins.begin() ? bins.front().second : std::prev(it)->second;
}

void
UdpSeqSender::RefuseEagain()
{
    // sock_alloc_send_pskb() with O_NONBLOCK: sk_wmem_alloc >= sk_sndbuf
    // returns -EAGAIN (no sock_wait_for_wmem()). The application drops the
    // datagram -- or the rest of its frame -- and goes on with the next; the
    // failed send() costs a send's CPU (simplification: docs/model.md).
    const uint64_t n = m_cfg.dropFrame ? std::min(FrameEnd(m_seq) - m_seq, m_backlog) : 1;
    m_sstats.eagainDrops += n;
    DropFromBacklog(n, m_ledger->DropPoint("app", "EAGAIN"));
    NextSendAfter(m_cfg.sendCost);
}

uint64_t
UdpSeqSender::FrameEnd(uint64_t seq)
{
    if (m_frameStarts.empty())
    {
        return seq + 1;
    }
    while (m_frameCursor + 1 < m_frameStarts.size() && m_frameStarts[m_frameCursor + 1] <= seq)
    {
        ++m_frameCursor;
    }
    return m_frameCursor + 1 < m_frameStarts.size() ? m_frameStarts[m_frameCursor + 1] : m_seq + m_backlog;
}

void
UdpSeqSender::DropFromBacklog(uint64_t n, uint32_t point)
{
    const uint32_t l3 = m_cfg.payloadBytes + kUdpIpHeaders;
    for (uint64_t i = 0; i < n; ++i)
    {
        m_ledger->Refused(m_flowId, l3, point);
    }
    m_seq += n;
    m_backlog -= n;
    m_drained = m_backlog == 0;
}

// ---------------------------------------------------------------- UdpSeqSink

ns3::TypeId
UdpSeqSink::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::UdpSeqSink")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<UdpSeqSink>();
    return tid;
}

void
UdpSeqSink::StartApplication()
{
    m_socket = ns3::Socket::CreateSocket(GetNode(), ns3::UdpSocketFactory::GetTypeId());
    m_socket->SetAttribute("RcvBufSize", ns3::UintegerValue(1u << 30));
    m_socket->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), m_port));
    m_socket->SetRecvCallback(ns3::MakeCallback(&UdpSeqSink::HandleRead, this));
}

void
UdpSeqSink::StopApplication()
{
}

void
UdpSeqSink::DoDispose()
{
    m_socket = nullptr;
    ns3::Application::DoDispose();
}

UdpSeqSink::FrameLoss
UdpSeqSink::FrameLossOf(const UdpSeqSender& sender, uint64_t inFlight) const
{
    FrameLoss r;
    const auto& starts = sender.FrameStarts();
    const uint64_t sent = sender.Sent();
    for (size_t k = 0; k < starts.size(); ++k)
    {
        const uint64_t end = k + 1 < starts.size() ? starts[k + 1] : sent + 1;
        if (end > sent || end + inFlight > sent)
        {
            break; // not sent entirely, or may still be in the tunnel
        }
        ++r.judged;
        for (uint64_t q = starts[k]; q < end; ++q)
        {
            if (!Got(q))
            {
                ++r.lost;
                break;
            }
        }
    }
    return r;
}

void
UdpSeqSink::HandleRead(ns3::Ptr<ns3::Socket> socket)
{
    ns3::Ptr<ns3::Packet> p;
    while ((p = socket->Recv()))
    {
        ns3::SeqTsHeader seqTs;
        p->PeekHeader(seqTs);
        auto seq = static_cast<int64_t>(seqTs.GetSeq());
        if (seq < m_maxSeq)
        {
            ++m_reordered;
        }
        m_maxSeq = std::max(m_maxSeq, seq);
        auto word = static_cast<size_t>(seq / 64);
        if (word >= m_seen.size())
        {
            m_seen.resize(std::max(word + 1, 2 * m_seen.size()), 0);
        }
        m_seen[word] |= uint64_t{1} << (seq % 64);
        ++m_received;
        m_bytes += p->GetSize();
    }
}

} // namespace tunsim
