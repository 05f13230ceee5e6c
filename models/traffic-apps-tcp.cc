// The TCP applications of traffic-apps.h: the bulk sender (iperf3's writer)
// and the sink.
#include "traffic-apps.h"

#include "linux-tcp-socket.h"

#include "ns3/boolean.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-base.h"
#include "ns3/uinteger.h"

#include <algorithm>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(TcpBulkSender);
NS_OBJECT_ENSURE_REGISTERED(TcpSink);

// ------------------------------------------------------------- TcpBulkSender

ns3::TypeId
TcpBulkSender::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::TcpBulkSender")
            .SetParent<ns3::Application>()
            .SetGroupName("Tunsim")
            .AddConstructor<TcpBulkSender>()
            .AddAttribute("WriteSpaceWake",
                          "a writer that found the send buffer full writes again only when it is down to 2/3 "
                          "(sk_stream_write_space()); false: whenever there is free space (ns-3's NotifySend)",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&TcpBulkSender::m_writeSpaceWake),
                          ns3::MakeBooleanChecker());
    return tid;
}

void
TcpBulkSender::Setup(ns3::InetSocketAddress dest,
                     CongestionControl congestionControl,
                     uint64_t maxBytes,
                     ns3::Ptr<SocketAccount> account,
                     ns3::Ptr<PacketLedger> ledger,
                     uint32_t flowId)
{
    m_dest = dest;
    m_cc = congestionControl;
    m_maxBytes = maxBytes;
    m_account = account;
    m_ledger = ledger;
    m_flowId = flowId;
}

uint64_t
TcpBulkSender::Retransmits() const
{
    return m_linux ? m_linux->Retransmissions() : m_retransmits;
}

ns3::Ptr<ns3::TcpSocketBase>
TcpBulkSender::GetSocket() const
{
    return ns3::DynamicCast<ns3::TcpSocketBase>(m_socket);
}

void
TcpBulkSender::StartApplication()
{
    // A Linux-like TCP socket (LinuxTcpSocket) with TCP Small Queues on the
    // flow's socket account.
    auto socket = LinuxTcpSocket::Create(GetNode(), m_cc);
    m_linux = socket;
    socket->SetAccount(m_account);
    m_socket = socket;
    m_socket->TraceConnectWithoutContext("Tx", ns3::MakeCallback(&TcpBulkSender::OnTx, this));
    m_socket->TraceConnectWithoutContext(
        "CongestionWindow",
        ns3::MakeCallback(&TcpBulkSender::OnCwnd, this));
    m_socket->TraceConnectWithoutContext("RTT", ns3::MakeCallback(&TcpBulkSender::OnRtt, this));
    m_socket->TraceConnectWithoutContext("BytesInFlight",
                                         ns3::MakeCallback(&TcpBulkSender::OnBytesInFlight, this));
    m_socket->Bind();
    m_socket->SetConnectCallback(ns3::MakeCallback(&TcpBulkSender::Connected, this),
                                 ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
    m_socket->SetSendCallback(ns3::MakeCallback(&TcpBulkSender::Fill, this));
    m_socket->Connect(m_dest);
}

void
TcpBulkSender::StopApplication()
{
    if (m_socket)
    {
        m_socket->SetSendCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, uint32_t>());
    }
}

void
TcpBulkSender::DoDispose()
{
    m_socket = nullptr;
    m_linux = nullptr;
    m_account = nullptr;
    m_ledger = nullptr;
    ns3::Application::DoDispose();
}

void
TcpBulkSender::OnCwnd(uint32_t, uint32_t cwnd)
{
    m_cwnd = cwnd;
}

void
TcpBulkSender::OnRtt(ns3::Time, ns3::Time rtt)
{
    if (rtt.IsZero())
    {
        return; // the trace's initial value, not a sample
    }
    m_lastRtt = rtt;
    m_srtt = m_srtt.IsZero() ? rtt : m_srtt + (rtt - m_srtt) / 8;
    m_minRtt = m_minRtt.IsZero() ? rtt : std::min(m_minRtt, rtt);
}

void
TcpBulkSender::Connected(ns3::Ptr<ns3::Socket> socket)
{
    ns3::UintegerValue sndbuf;
    socket->GetAttribute("SndBufSize", sndbuf);
    m_sndBuf = static_cast<uint32_t>(sndbuf.Get());
    Fill(socket, socket->GetTxAvailable());
}

void
TcpBulkSender::Fill(ns3::Ptr<ns3::Socket> socket, uint32_t)
{
    // iperf3: keep the socket's send buffer full. A writer that found it
    // full sleeps in sk_stream_wait_memory() until sk_stream_write_space()
    // finds sk_stream_wspace() >= sk_stream_min_wspace(): free space at
    // least half of what is queued, i.e. the queue down to 2/3 of sk_sndbuf.
    constexpr uint32_t kChunk = 65536;
    if (m_writeSpaceWake && m_waitMemory && socket->GetTxAvailable() < m_sndBuf / 3)
    {
        return;
    }
    m_waitMemory = false;
    while (m_maxBytes == 0 || m_queued < m_maxBytes)
    {
        uint32_t avail = socket->GetTxAvailable();
        if (avail == 0)
        {
            m_waitMemory = true;
            break;
        }
        uint64_t n = std::min<uint64_t>(avail, kChunk);
        if (m_maxBytes)
        {
            n = std::min<uint64_t>(n, m_maxBytes - m_queued);
        }
        int sent = socket->Send(ns3::Create<ns3::Packet>(static_cast<uint32_t>(n)));
        if (sent <= 0)
        {
            break;
        }
        m_queued += static_cast<uint64_t>(sent);
    }
}

void
TcpBulkSender::OnTx(ns3::Ptr<const ns3::Packet> p,
                    const ns3::TcpHeader& h,
                    ns3::Ptr<const ns3::TcpSocketBase> s)
{
    // The segment leaves tcp_transmit_skb(): skb_set_owner_w() and count it.
    if (p->GetSize() > 0)
    {
        uint32_t seq = h.GetSequenceNumber().GetValue();
        if (m_anySent && static_cast<int32_t>(seq - m_highestSeq) < 0)
        {
            ++m_retransmits;
        }
        else
        {
            m_highestSeq = seq + p->GetSize();
            m_anySent = true;
        }
    }
    uint32_t l3 = p->GetSize() + h.GetSerializedSize() + 20;
    SocketAccountTable::SetOwner(p, *m_account, m_flowId, l3);
    m_ledger->Sent(m_flowId, l3);
}

// -------------------------------------------------------------------- TcpSink

ns3::TypeId
TcpSink::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::TcpSink")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<TcpSink>();
    return tid;
}

void
TcpSink::StartApplication()
{
    // The receiver's socket is Linux's too: its window and its ACKs shape
    // the sender's bursts (LinuxTcpSocket).
    m_listen = LinuxTcpSocket::Create(GetNode(), CongestionControl::Cubic);
    m_listen->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), m_port));
    m_listen->Listen();
    m_listen->SetAcceptCallback(
        ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
        ns3::MakeCallback(&TcpSink::Accept, this));
}

void
TcpSink::StopApplication()
{
}

void
TcpSink::DoDispose()
{
    m_listen = nullptr;
    m_accepted.clear();
    ns3::Application::DoDispose();
}

void
TcpSink::Accept(ns3::Ptr<ns3::Socket> s, const ns3::Address& from)
{
    s->SetRecvCallback(ns3::MakeCallback(&TcpSink::HandleRead, this));
    m_accepted.push_back(s);
    HandleRead(s);
}

uint64_t
TcpSink::AcksCompressed() const
{
    uint64_t n = 0;
    for (const auto& s : m_accepted)
    {
        if (auto ls = ns3::DynamicCast<LinuxTcpSocket>(s))
        {
            n += ls->AcksCompressed();
        }
    }
    return n;
}

void
TcpSink::HandleRead(ns3::Ptr<ns3::Socket> socket)
{
    ns3::Ptr<ns3::Packet> p;
    while ((p = socket->Recv()))
    {
        m_bytes += p->GetSize();
    }
}

} // namespace tunsim
