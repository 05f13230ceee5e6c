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
#include <poll.h>
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


// ------------------------------------------------------------ one measurement

void
ReaderLoop(int fd, const Scenario& sc, int64_t t0, int64_t tEnd, std::vector<FlowStats>& flows,
           ReaderStats& rs, const std::atomic<bool>& sendersDone, int64_t idleNs, int64_t drainCapNs)
{
    std::vector<uint8_t> buf(65536);
    const uint32_t nflows = static_cast<uint32_t>(flows.size());
    bool idleBefore = true;
    int64_t sleepStart = -1; ///< first poll() entry since the last packet read
    int64_t idleSince = -1;
    int64_t doneAt = -1;
    for (;;)
    {
        if (Interrupted())
        {
            return;
        }
        int64_t now = NowNs();
        // stalls
        bool stalled = false;
        for (const auto& st : sc.reader.stalls)
        {
            int64_t a = t0 + static_cast<int64_t>(st.atS * 1e9);
            int64_t b = a + static_cast<int64_t>(st.forS * 1e9);
            if (now >= a && now < b)
            {
                WaitUntil(b);
                stalled = true;
                break;
            }
        }
        if (stalled)
        {
            continue;
        }
        int64_t start = NowNs();
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            if (errno != EAGAIN)
            {
                throw std::runtime_error(std::string("read tun: ") + std::strerror(errno));
            }
            now = NowNs();
            if (sendersDone.load())
            {
                if (doneAt < 0)
                {
                    doneAt = now;
                }
                if (idleSince < 0)
                {
                    idleSince = now;
                }
                if (now - idleSince >= idleNs || now - doneAt >= drainCapNs)
                {
                    return;
                }
            }
            ++rs.sleeps;
            idleBefore = true;
            if (sleepStart < 0)
            {
                sleepStart = NowNs();
            }
            pollfd p{fd, POLLIN, 0};
            poll(&p, 1, 2);
            continue;
        }
        idleSince = -1;
        int64_t afterRead = NowNs();
        Parsed p = ParsePacket(buf.data(), static_cast<size_t>(n), nflows);
        ++rs.packetsRead;
        rs.bytesRead += static_cast<uint64_t>(n);
        rs.readNsTotal += afterRead - start;
        double cost = sc.reader.perPacketNs + sc.reader.nsPerByte * static_cast<double>(n);
        SpinUntil(start + static_cast<int64_t>(cost));
        int64_t done = NowNs();
        if (start < tEnd)
        {
            rs.busyNs += std::min(done, tEnd) - std::max(start, t0);
        }
        if (!p.ours)
        {
            ++rs.untracked;
            continue;
        }
        if (idleBefore)
        {
            if (rs.wakeNs.size() < 1000000)
            {
                rs.wakeNs.push_back(afterRead - p.ts);
                if (sleepStart >= 0)
                {
                    rs.sleepWakeNs.emplace_back(p.ts - sleepStart, afterRead - p.ts);
                }
            }
            idleBefore = false;
            sleepStart = -1;
        }
        FlowStats& f = flows[p.flow];
        if (p.seq < (1u << 26)) // 64 Mi datagrams per flow
        {
            if (f.got.size() <= p.seq)
            {
                f.got.resize(std::max<size_t>(p.seq + 1, f.got.size() * 2), 0);
            }
            f.got[p.seq] = 1;
        }
        ++f.received;
        f.receivedBytes += static_cast<uint64_t>(n) - 28;
        if (p.seq >= f.expected)
        {
            f.gaps += p.seq - f.expected;
            f.expected = p.seq + 1;
        }
        else
        {
            ++f.reordered;
        }
        if (f.delayNs.size() < 50000000)
        {
            f.delayNs.push_back(done - p.ts);
        }
        if (sendersDone.load() && doneAt >= 0 && NowNs() - doneAt >= drainCapNs)
        {
            return;
        }
        if (sendersDone.load() && doneAt < 0)
        {
            doneAt = NowNs();
        }
    }
}

/// One sender: the flow's pattern from t0 + start_s to t0 + stop_s.
void
SenderLoop(int sock, const FlowConfig& fc, uint32_t flowIndex, uint64_t seed, int64_t t0, double durationS,
           FlowStats& fs)
{
    std::vector<uint8_t> buf(fc.payloadBytes, 0);
    const double stopS = fc.stopS < 0 ? durationS : std::min(fc.stopS, durationS);
    const int64_t tStart = t0 + static_cast<int64_t>(fc.startS * 1e9);
    const int64_t tStop = t0 + static_cast<int64_t>(stopS * 1e9);
    uint32_t seq = 0;
    uint32_t pos = 0; // sends since the sender last slept
    auto sendOne = [&]() {
        int64_t a = NowNs();
        PutHeader(buf.data(), seq, a);
        ssize_t r = send(sock, buf.data(), buf.size(), 0);
        int64_t b = NowNs();
        if (r == static_cast<ssize_t>(buf.size()))
        {
            ++seq;
            ++fs.sent;
            fs.sentBytes += buf.size();
            fs.sendNsTotal += b - a;
            if (fs.sendNs.size() < (1u << 26))
            {
                fs.sendNs.push_back(static_cast<int32_t>(std::min<int64_t>(b - a, INT32_MAX)));
                fs.sendPos.push_back(pos);
            }
            ++pos;
        }
        else
        {
            ++fs.sendErrors;
        }
    };
    // Sleep until `due`; a send after a sleep starts a new position count.
    auto waitFor = [&pos](int64_t due) {
        if (NowNs() < due)
        {
            pos = 0;
        }
        WaitUntil(due);
    };
    waitFor(tStart);
    if (fc.mode == UdpMode::Flood)
    {
        while (!Interrupted() && NowNs() < tStop)
        {
            sendOne();
        }
        return;
    }
    std::mt19937_64 rng(seed * 1000003ULL + flowIndex);
    if (fc.mode == UdpMode::Rate)
    {
        const double meanNs = fc.payloadBytes * 8.0 / (fc.rateMbps * 1e6) * 1e9;
        std::exponential_distribution<double> expo(1.0 / meanNs);
        double next = static_cast<double>(tStart);
        while (!Interrupted())
        {
            int64_t due = static_cast<int64_t>(next);
            if (due >= tStop)
            {
                break;
            }
            ++fs.generated;
            waitFor(due);
            if (NowNs() >= tStop)
            {
                break;
            }
            sendOne();
            next += fc.poisson ? expo(rng) : meanNs;
        }
        return;
    }
    // bursts
    const int64_t period = static_cast<int64_t>(fc.burstIntervalMs * 1e6);
    for (int64_t due = tStart; due < tStop && !Interrupted(); due += period)
    {
        fs.generated += fc.burstPackets;
        waitFor(due);
        for (uint32_t i = 0; i < fc.burstPackets && !Interrupted(); ++i)
        {
            if (NowNs() >= tStop)
            {
                break;
            }
            sendOne();
        }
    }
}

/// One run of the whole scenario on a fresh device in `ns`.
Repeat
RunOnce(const Netns& ns, const Scenario& sc, uint32_t qdiscLimit)
{
    Repeat rep;
    rep.flows.resize(sc.flows.size());
    auto wall0 = NowNs();
    TunDevice dev(ns, kDevice, sc.tun.ringSize, "10.8.0.1/24");
    SetQdisc(ns, kDevice, NameOf(sc.qdisc.kind), qdiscLimit);

    std::vector<int> socks(sc.flows.size(), -1);
    struct SockCloser
    {
        std::vector<int>& s;
        ~SockCloser()
        {
            for (int x : s)
            {
                if (x >= 0)
                {
                    close(x);
                }
            }
        }
    } closer{socks};
    InNamespace(ns.Fd(), [&]() {
        for (size_t i = 0; i < sc.flows.size(); ++i)
        {
            socks[i] = UdpSocket("10.8.0.2", static_cast<uint16_t>(kFirstPort + i), sc.host.udpSndbufBytes);
            rep.flows[i].sndbuf = SocketSndbuf(socks[i]);
        }
    });

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
            ReaderLoop(dev.Fd(), sc, t0, tEnd, rep.flows, rep.reader, sendersDone, 20000000LL, 10000000000LL);
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
            SenderLoop(socks[i], sc.flows[i], static_cast<uint32_t>(i), sc.seed, t0, sc.durationS, rep.flows[i]);
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
    if (Interrupted())
    {
        throw InterruptedError();
    }
    rep.measuredS = sc.durationS;
    rep.drainS = (NowNs() - sendEnd) / 1e9;

    auto v = ns.Sysfs(kDevice, {"statistics/tx_packets", "statistics/tx_bytes", "statistics/tx_dropped",
                             "statistics/rx_packets", "tx_queue_len"});
    rep.txPackets = v[0];
    rep.txBytes = v[1];
    rep.txDropped = v[2];
    rep.rxPackets = v[3];
    rep.txQueueLen = v[4];
    if (sc.qdisc.kind != QdiscKind::Noqueue)
    {
        rep.tc = QdiscStats(ns, kDevice);
        rep.haveTc = true;
    }
    rep.wallS = (NowNs() - wall0) / 1e9;
    return rep;
}


} // namespace kernel
} // namespace tunsim
