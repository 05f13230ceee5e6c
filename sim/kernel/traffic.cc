// One measurement of tunsim kernel (see traffic.h): datagrams, the sender
// and reader threads, RunOnce().
#include "traffic.h"

#include "clock.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

// ------------------------------------------------------------ datagrams

int
UdpSocket(const char* dstIp, uint16_t port, uint32_t sndbufBytes)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
    {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    if (sndbufBytes)
    {
        // The kernel doubles the value it is given (sk_sndbuf = 2 * val).
        int v = static_cast<int>(sndbufBytes / 2);
        if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
        {
            setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
        }
    }
    sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, dstIp, &a.sin_addr);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    {
        int e = errno;
        close(s);
        throw std::runtime_error(std::string("connect ") + dstIp + ": " + std::strerror(e));
    }
    return s;
}

int
SocketSndbuf(int s)
{
    int v = 0;
    socklen_t l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l);
    return v;
}

void
PutHeader(uint8_t* p, uint32_t seq, int64_t ts)
{
    std::memcpy(p, &seq, 4);
    std::memcpy(p + 4, &ts, 8);
}

Parsed
ParsePacket(const uint8_t* b, size_t n, uint32_t nflows)
{
    Parsed p;
    if (n < 20 || (b[0] >> 4) != 4 || b[9] != IPPROTO_UDP)
    {
        return p;
    }
    size_t ihl = (b[0] & 0x0f) * 4u;
    if (n < ihl + 8 + kHeaderBytes)
    {
        return p;
    }
    uint16_t dport = static_cast<uint16_t>((b[ihl + 2] << 8) | b[ihl + 3]);
    if (dport < kFirstPort || dport >= kFirstPort + nflows)
    {
        return p;
    }
    p.ours = true;
    p.flow = dport - kFirstPort;
    std::memcpy(&p.seq, b + ihl + 8, 4);
    std::memcpy(&p.ts, b + ihl + 12, 8);
    return p;
}


namespace
{

// ------------------------------------------------------------ the senders

/// One flow's sender: every send() timed, with its position since the
/// sender last slept.
class Sender
{
  public:
    Sender(int sock, uint32_t payloadBytes, bool nonblocking, FlowStats& fs)
        : m_sock(sock),
          m_fs(fs),
          m_buf(payloadBytes, 0),
          m_flags(nonblocking ? MSG_DONTWAIT : 0)
    {
    }

    void SendOne()
    {
        int64_t a = NowNs();
        PutHeader(m_buf.data(), m_seq, a);
        ssize_t r = send(m_sock, m_buf.data(), m_buf.size(), m_flags);
        int64_t b = NowNs();
        if (r != static_cast<ssize_t>(m_buf.size()))
        {
            if (r < 0 && errno == EAGAIN && m_flags)
            {
                // sock_alloc_send_pskb(): sk_sndbuf full, no wait: the
                // application drops the datagram (the frame's rest: not for
                // the twin's modes).
                ++m_fs.eagainDrops;
                return;
            }
            if (r < 0 && errno == ENOBUFS)
            {
                // IP_RECVERR: the stack dropped it (NET_XMIT_DROP): it was
                // handed down, so it counts as sent and as lost.
                ++m_fs.enobufsSeen;
            }
            else
            {
                ++m_fs.sendErrors;
                return;
            }
        }
        ++m_seq;
        ++m_fs.sent;
        m_fs.sentBytes += m_buf.size();
        m_fs.sendNsTotal += b - a;
        if (m_fs.sendNs.size() < (1u << 26))
        {
            m_fs.sendNs.push_back(static_cast<int32_t>(std::min<int64_t>(b - a, INT32_MAX)));
            m_fs.sendPos.push_back(m_pos);
        }
        ++m_pos;
    }

    /// Sleep until `due`; a send after a sleep starts a new position count.
    void WaitFor(int64_t due)
    {
        if (NowNs() < due)
        {
            m_pos = 0;
        }
        WaitUntil(due);
    }

    void Flood(int64_t tStop)
    {
        while (!Interrupted() && NowNs() < tStop)
        {
            SendOne();
        }
    }

    /// One datagram every meanNs, or exponential gaps of that mean.
    void Paced(int64_t tStart, int64_t tStop, double meanNs, bool poisson, std::mt19937_64& rng)
    {
        std::exponential_distribution<double> expo(1.0 / meanNs);
        double next = static_cast<double>(tStart);
        while (!Interrupted())
        {
            int64_t due = static_cast<int64_t>(next);
            if (due >= tStop)
            {
                break;
            }
            ++m_fs.generated;
            WaitFor(due);
            if (NowNs() >= tStop)
            {
                break;
            }
            SendOne();
            next += poisson ? expo(rng) : meanNs;
        }
    }

    void Bursts(int64_t tStart, int64_t tStop, uint32_t packets, int64_t period)
    {
        for (int64_t due = tStart; due < tStop && !Interrupted(); due += period)
        {
            m_fs.generated += packets;
            WaitFor(due);
            for (uint32_t i = 0; i < packets && !Interrupted(); ++i)
            {
                if (NowNs() >= tStop)
                {
                    break;
                }
                SendOne();
            }
        }
    }

  private:
    const int m_sock;
    FlowStats& m_fs;
    std::vector<uint8_t> m_buf;
    const int m_flags; ///< MSG_DONTWAIT for a non-blocking sender
    uint32_t m_seq = 0;
    uint32_t m_pos = 0; ///< sends since the sender last slept
};

// ------------------------------------------------------------ one run

/// The flows' sockets, closed on every exit path.
struct Sockets
{
    std::vector<int> fds;
    ~Sockets()
    {
        for (int x : fds)
        {
            if (x >= 0)
            {
                close(x);
            }
        }
    }
};

/// Flow i's socket, connected to 10.8.0.2:kFirstPort+i (routed to tun0).
void
OpenSockets(const Netns& ns, const Scenario& sc, Sockets& socks, Repeat& rep)
{
    socks.fds.assign(sc.flows.size(), -1);
    InNamespace(ns.Fd(), [&]() {
        for (size_t i = 0; i < sc.flows.size(); ++i)
        {
            socks.fds[i] = UdpSocket("10.8.0.2", static_cast<uint16_t>(kFirstPort + i), sc.host.udpSndbufBytes);
            if (sc.flows[i].recverr)
            {
                // ip_send_skb()'s -ENOBUFS reaches send() (udp_send_skb()).
                const int one = 1;
                setsockopt(socks.fds[i], SOL_IP, IP_RECVERR, &one, sizeof one);
            }
            rep.flows[i].sndbuf = SocketSndbuf(socks.fds[i]);
        }
    });
}

/// The reader on the last CPU and the senders on the others, all starting
/// 30 ms from now; returns when the reader has drained the ring.
void
RunThreads(const Netns& ns, const Scenario& sc, int devFd, const Sockets& socks, Repeat& rep)
{
    const int64_t t0 = NowNs() + 30000000; // 30 ms to get every thread going
    const int64_t tEnd = t0 + static_cast<int64_t>(sc.durationS * 1e9);
    std::atomic<bool> sendersDone{false};
    std::exception_ptr readerErr;
    const int ncpu = static_cast<int>(std::thread::hardware_concurrency());
    std::thread reader([&]() {
        try
        {
            if (setns(ns.Fd(), CLONE_NEWNET) != 0)
            {
                throw std::runtime_error(std::string("setns: ") + std::strerror(errno));
            }
            PinToCpu(ncpu - 1);
            ReaderLoop(devFd, sc, t0, tEnd, rep.flows, rep.reader, sendersDone, 20000000LL, 10000000000LL);
        }
        catch (...)
        {
            readerErr = std::current_exception();
        }
    });
    std::vector<std::thread> senders;
    for (size_t i = 0; i < sc.flows.size(); ++i)
    {
        senders.emplace_back([&, i]() {
            if (setns(ns.Fd(), CLONE_NEWNET) != 0)
            {
                return;
            }
            PinToCpu(static_cast<int>(i) % std::max(1, ncpu - 1));
            SenderLoop(socks.fds[i], sc.flows[i], static_cast<uint32_t>(i), sc.seed, t0, sc.durationS, rep.flows[i]);
        });
    }
    for (auto& t : senders)
    {
        t.join();
    }
    int64_t sendEnd = std::max(NowNs(), tEnd);
    sendersDone.store(true);
    reader.join();
    if (readerErr)
    {
        std::rethrow_exception(readerErr);
    }
    ThrowIfInterrupted();
    ReadOutRing(devFd, rep.flows, rep.reader);
    rep.measuredS = sc.durationS;
    rep.drainS = (NowNs() - sendEnd) / 1e9;
}

} // namespace

void
SenderLoop(int sock, const FlowConfig& fc, uint32_t flowIndex, uint64_t seed, int64_t t0, double durationS,
           FlowStats& fs)
{
    const double stopS = fc.stopS < 0 ? durationS : std::min(fc.stopS, durationS);
    const int64_t tStart = t0 + static_cast<int64_t>(fc.startS * 1e9);
    const int64_t tStop = t0 + static_cast<int64_t>(stopS * 1e9);
    Sender s(sock, fc.payloadBytes, fc.sender == SenderStyle::Nonblocking, fs);
    s.WaitFor(tStart);
    if (fc.mode == UdpMode::Flood)
    {
        s.Flood(tStop);
    }
    else if (fc.mode == UdpMode::Rate)
    {
        std::mt19937_64 rng(seed * 1000003ULL + flowIndex);
        s.Paced(tStart, tStop, fc.payloadBytes * 8.0 / (fc.rateMbps * 1e6) * 1e9, fc.poisson, rng);
    }
    else
    {
        s.Bursts(tStart, tStop, fc.burstPackets, static_cast<int64_t>(fc.burstIntervalMs * 1e6));
    }
}

Repeat
RunOnce(const Netns& ns, const Scenario& sc, uint32_t qdiscLimit)
{
    Repeat rep;
    rep.flows.resize(sc.flows.size());
    auto wall0 = NowNs();
    TunDevice dev(ns, kDevice, sc.tun.ringSize, "10.8.0.1/24");
    SetQdisc(ns, kDevice, NameOf(sc.qdisc.kind), qdiscLimit);
    Sockets socks;
    OpenSockets(ns, sc, socks, rep);
    RunThreads(ns, sc, dev.Fd(), socks, rep);
    rep.dev = ReadDeviceCounters(ns, kDevice, sc.qdisc.kind != QdiscKind::Noqueue);
    rep.wallS = (NowNs() - wall0) / 1e9;
    return rep;
}

} // namespace kernel
} // namespace tunsim
