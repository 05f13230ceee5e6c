// One run of the TCP twin (see tcp-twin.h): the devices, the sockets, the
// handshake through the twin, the window, the end of the window and the
// drain, then the counters.
#include "tcp-twin.h"

#include "clock.h"
#include "traffic.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

namespace
{

constexpr int64_t kMs = 1000000;
constexpr int kFarEndRtPriority = 10; ///< SCHED_FIFO 10: above every normal task, below the kernel's threads
bool g_farEndRealtime = true;
constexpr int64_t kQuietNs = 100 * kMs; ///< the drain ends after the path was quiet this long (> delayed ACK)

/// Sockets closed on every exit path.
struct FdList
{
    std::vector<int> fds;
    explicit FdList(size_t n)
        : fds(n, -1)
    {
    }
    ~FdList()
    {
        for (int x : fds)
        {
            if (x >= 0)
            {
                close(x);
            }
        }
    }
    FdList(const FdList&) = delete;
    FdList& operator=(const FdList&) = delete;
};

/// Flow i's receiver: bytes read (the sampler reads them while it runs).
struct Receiver
{
    std::atomic<uint64_t> bytes{0};
    uint64_t windowBytes = 0;
    bool realtime = false; ///< it ran at SCHED_FIFO
};

std::runtime_error
Errno(const std::string& what)
{
    return std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr_in
ServerAddress(size_t flow)
{
    sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(kFirstPort + flow));
    inet_pton(AF_INET, "10.8.0.2", &a.sin_addr);
    return a;
}

/// Wait until `fd` is ready for `events`, polling the signal flag; false at `deadline`.
bool
WaitReady(int fd, short events, int64_t deadline)
{
    while (NowNs() < deadline)
    {
        ThrowIfInterrupted();
        pollfd p{fd, events, 0};
        if (poll(&p, 1, 20) > 0)
        {
            return true;
        }
    }
    return false;
}

/// Listeners on 10.8.0.2:kFirstPort+i (server), and each sender's
/// non-blocking connect() with its congestion control (client): the
/// handshake crosses the twin, so the endpoints must already run.
void
OpenAndConnect(const Netns& client, const Netns& server, const Scenario& sc, FdList& listeners, FdList& senders)
{
    InNamespace(server.Fd(), [&]() {
        for (size_t i = 0; i < sc.flows.size(); ++i)
        {
            int s = listeners.fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const int one = 1;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sockaddr_in a = ServerAddress(i);
            if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 4) != 0)
            {
                throw Errno("listen on 10.8.0.2:" + std::to_string(kFirstPort + i));
            }
        }
    });
    InNamespace(client.Fd(), [&]() {
        for (size_t i = 0; i < sc.flows.size(); ++i)
        {
            int s = senders.fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            const char* cc = LinuxCcName(sc.flows[i].cc);
            if (s < 0 || setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, std::strlen(cc)) != 0)
            {
                throw Errno("flows[" + std::to_string(i) + "]: TCP_CONGESTION " + cc);
            }
            sockaddr_in a = ServerAddress(i);
            if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
            {
                throw Errno("connect 10.8.0.2:" + std::to_string(kFirstPort + i));
            }
        }
    });
}

/// Every sender connected and every connection accepted (non-blocking).
void
CompleteHandshakes(const Scenario& sc, FdList& listeners, FdList& senders, FdList& receivers,
                   std::vector<TcpFlowRun>& flows, int64_t started)
{
    const int64_t deadline = started + 5000 * kMs + static_cast<int64_t>(4 * sc.underlay.delayMs * kMs);
    for (size_t i = 0; i < sc.flows.size(); ++i)
    {
        const std::string at = "flows[" + std::to_string(i) + "]";
        int err = 0;
        socklen_t len = sizeof err;
        if (!WaitReady(senders.fds[i], POLLOUT, deadline) ||
            getsockopt(senders.fds[i], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        {
            throw std::runtime_error(at + ": the TCP handshake did not cross the twin (" +
                                     (err ? std::strerror(err) : "timed out") + ")");
        }
        flows[i].connectMs = (NowNs() - started) / 1e6;
        if (!WaitReady(listeners.fds[i], POLLIN, deadline))
        {
            throw std::runtime_error(at + ": the server accepted no connection");
        }
        receivers.fds[i] = accept4(listeners.fds[i], nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (receivers.fds[i] < 0)
        {
            throw Errno(at + ": accept");
        }
    }
}

/// The bulk sender: write() 64 KiB buffers from start_s to stop_s (or until
/// max_bytes), waiting in poll() while the send buffer is full.
void
SendBulk(int fd, const FlowConfig& fc, int64_t t0, double durationS, const std::atomic<bool>& stop, TcpFlowRun& run)
{
    const int64_t tStart = t0 + static_cast<int64_t>(fc.startS * 1e9);
    const int64_t tStop = t0 + static_cast<int64_t>(fc.StopOr(durationS) * 1e9);
    const std::vector<char> buf(65536, 'x');
    WaitUntil(tStart, &stop);
    uint64_t written = 0;
    for (int64_t now = NowNs(); now < tStop && !stop.load() && !Interrupted(); now = NowNs())
    {
        if (fc.maxBytes && written >= fc.maxBytes)
        {
            break;
        }
        const size_t want = fc.maxBytes ? std::min<uint64_t>(buf.size(), fc.maxBytes - written) : buf.size();
        const ssize_t n = write(fd, buf.data(), want);
        if (n > 0)
        {
            written += static_cast<uint64_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
            throw Errno("write tcp");
        }
        pollfd p{fd, POLLOUT, 0};
        const int64_t wait = std::min<int64_t>(tStop - now, 5 * kMs);
        const timespec ts{0, static_cast<long>(std::max<int64_t>(wait, 0))};
        ppoll(&p, 1, &ts, nullptr);
    }
    run.bytesWritten = written;
}

/// The receiver: read() everything, count the bytes read inside the window.
/// With the far end real-time, so is the receiver: the other machine's
/// application reads as data arrives, and its reads are what let the
/// receiving TCP acknowledge every second segment at once
/// (__tcp_ack_snd_check() wants the window to advance; tcp_recvmsg() ->
/// tcp_cleanup_rbuf() acknowledges otherwise). A receiver that waits for
/// CPU 0 behind the sender makes stretch ACKs: flows[].kernel.ack_stride_segments.
void
Receive(int fd, int64_t tStart, int64_t tStop, const std::atomic<bool>& stop, Receiver& rx)
{
    if (g_farEndRealtime)
    {
        sched_param sp{};
        sp.sched_priority = kFarEndRtPriority;
        rx.realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
    }
    std::vector<char> buf(262144);
    while (!stop.load() && !Interrupted())
    {
        const ssize_t n = read(fd, buf.data(), buf.size());
        if (n > 0)
        {
            const int64_t t = NowNs();
            rx.bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
            rx.windowBytes += t >= tStart && t <= tStop ? static_cast<uint64_t>(n) : 0;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
        {
            return; // FIN or the sender's reset at the end of the window
        }
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, 5);
    }
}

/// The end of the window, on the reader's thread between two of its steps
/// (no ACK is being written into tun0 meanwhile): each sender's and
/// receiver's TCP_INFO, then the sender is closed with a reset (SO_LINGER 0:
/// what it still had to send is discarded, so the path drains in bounded time).
void
EndOfWindow(FdList& senders, const FdList& receivers, std::vector<TcpFlowRun>& flows)
{
    for (size_t i = 0; i < flows.size(); ++i)
    {
        flows[i].infoEnd = ReadTcpInfo(senders.fds[i]);
        flows[i].rcvInfoEnd = ReadTcpInfo(receivers.fds[i]);
        socklen_t len = sizeof flows[i].sndbuf;
        getsockopt(senders.fds[i], SOL_SOCKET, SO_SNDBUF, &flows[i].sndbuf, &len);
        const linger l{1, 0};
        setsockopt(senders.fds[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(senders.fds[i]);
        senders.fds[i] = -1;
    }
}

/// After the window: until both lines are empty and neither endpoint moved
/// a packet for kQuietNs (at most 4 one-way delays + 3 s). Seconds it took.
double
Drain(const TwinControl& ctl, const DelayLine& fwd, const DelayLine& rev, double delayMs, bool& capped)
{
    const int64_t start = NowNs();
    const int64_t cap = start + static_cast<int64_t>(4 * delayMs * kMs) + 3000 * kMs;
    for (;;)
    {
        SleepMs(5);
        ThrowIfInterrupted();
        const int64_t now = NowNs();
        const int64_t last = std::max(ctl.readerLastNs.load(), ctl.farLastNs.load());
        if (fwd.Size() == 0 && rev.Size() == 0 && now - last >= kQuietNs)
        {
            return (now - start) / 1e9;
        }
        if (now >= cap)
        {
            capped = true;
            return (now - start) / 1e9;
        }
    }
}

/// Ask the reader to run the end of the window; wait until it has.
void
RunOnReader(TwinControl& ctl, const DelayLine& rev, std::function<void()> action)
{
    ctl.endAction = std::move(action);
    ctl.endRequested.store(true);
    rev.Kick();
    const int64_t deadline = NowNs() + 2000 * kMs;
    while (!ctl.endDone.load())
    {
        ThrowIfInterrupted();
        if (NowNs() > deadline)
        {
            throw std::runtime_error("the reader thread did not take the end of the window");
        }
        SleepMs(1);
    }
}

} // namespace

void
SetFarEndRealtime(bool on)
{
    g_farEndRealtime = on;
}

TcpRepeat
RunTcpOnce(const Netns& client, const Netns& server, const Scenario& sc, uint32_t qdiscLimit, double seriesMs,
           int repeat)
{
    const size_t nf = sc.flows.size();
    const int64_t wall0 = NowNs();
    TcpRepeat rep;
    rep.flows.resize(nf);
    rep.paths.resize(nf);
    TunDevice tun0(client, kDevice, sc.tun.ringSize, "10.8.0.1/24");
    SetQdisc(client, kDevice, NameOf(sc.qdisc.kind), qdiscLimit);
    TunDevice tun1(server, kServerDevice, kServerTxQueueLen, "10.8.0.2/24");
    SetQdisc(server, kServerDevice, "pfifo_fast", 0);
    const uint32_t wireOverhead = EncapOverhead(sc.reader) + 28; // the VPN header, outer UDP/IPv4
    DelayLine fwd(sc.underlay.rateMbps, sc.underlay.delayMs, wireOverhead, kLineCapacity);
    DelayLine rev(sc.underlay.rateMbps, sc.underlay.delayMs, wireOverhead, kLineCapacity);
    TwinControl ctl;
    LiveCounters live;
    const int ncpu = static_cast<int>(std::thread::hardware_concurrency());
    const EndpointConfig readerCfg{&sc.reader, false, true, static_cast<uint32_t>(nf)};
    const EndpointConfig farCfg{nullptr, true, false, static_cast<uint32_t>(nf), g_farEndRealtime ? kFarEndRtPriority : 0};
    // Declared before the endpoints: their threads (the end action) use them
    // until the ThreadGroup has joined them.
    FdList listeners(nf), senders(nf), receivers(nf);
    ThreadGroup endpoints([&]() {
        ctl.stop.store(true);
        fwd.Kick();
        rev.Kick();
    });
    endpoints.Start(client.Fd(), ncpu - 1,
                    [&]() { RunEndpoint(tun0.Fd(), rev, fwd, readerCfg, ctl, rep.reader, rep.paths, &live); });
    endpoints.Start(server.Fd(), 0,
                    [&]() { RunEndpoint(tun1.Fd(), fwd, rev, farCfg, ctl, rep.farEnd, rep.paths, nullptr); });

    const auto clientMib0 = client.TcpMib();
    const auto serverMib0 = server.TcpMib();
    const int64_t connectStart = NowNs();
    OpenAndConnect(client, server, sc, listeners, senders);
    CompleteHandshakes(sc, listeners, senders, receivers, rep.flows, connectStart);

    const int64_t t0 = NowNs() + 30 * kMs; // 30 ms to get every thread going
    const int64_t tEnd = t0 + static_cast<int64_t>(sc.durationS * 1e9);
    ctl.t0.store(t0);
    ctl.tEnd.store(tEnd);
    std::atomic<bool> appsStop{false};
    std::vector<Receiver> rx(nf);
    ThreadGroup receiverThreads([&]() { appsStop.store(true); });
    for (size_t i = 0; i < nf; ++i)
    {
        const int64_t a = t0 + static_cast<int64_t>(sc.flows[i].startS * 1e9);
        const int64_t b = t0 + static_cast<int64_t>(sc.flows[i].StopOr(sc.durationS) * 1e9);
        receiverThreads.Start(
            server.Fd(), 0, [&, i, a, b]() { Receive(receivers.fds[i], a, b, appsStop, rx[i]); });
    }
    std::unique_ptr<TcpSampler> sampler;
    if (seriesMs > 0)
    {
        SamplerInputs in{senders.fds, receivers.fds, [&rx](size_t i) { return rx[i].bytes.load(); }, &live,
                         client.Fd(), repeat};
        sampler = std::make_unique<TcpSampler>(std::move(in), seriesMs, t0, tEnd, 0);
    }
    {
        ThreadGroup senderThreads([&]() { appsStop.store(true); });
        for (size_t i = 0; i < nf; ++i)
        {
            senderThreads.Start(client.Fd(), 0, [&, i]() {
                SendBulk(senders.fds[i], sc.flows[i], t0, sc.durationS, appsStop, rep.flows[i]);
            });
        }
        senderThreads.JoinAll();
    }
    WaitUntil(tEnd);
    ThrowIfInterrupted();
    if (sampler)
    {
        sampler->Join();
        rep.seriesRows = sampler->Rows();
    }
    RunOnReader(ctl, rev, [&]() { EndOfWindow(senders, receivers, rep.flows); });
    rep.drainS = Drain(ctl, fwd, rev, sc.underlay.delayMs, rep.drainCapped);
    ctl.stop.store(true);
    fwd.Kick();
    rev.Kick();
    endpoints.JoinAll();
    appsStop.store(true);
    receiverThreads.JoinAll();
    ThrowIfInterrupted();

    for (size_t i = 0; i < nf; ++i)
    {
        rep.flows[i].receivedBytes = rx[i].bytes.load();
        rep.flows[i].windowBytes = rx[i].windowBytes;
        rep.flows[i].receiverRealtime = rx[i].realtime;
    }
    rep.fwdLineLeft = fwd.Size();
    rep.revLineLeft = rev.Size();
    rep.fwdLineDrops = fwd.Drops();
    rep.revLineDrops = rev.Drops();
    rep.fwdLineMax = fwd.MaxDepth();
    rep.revLineMax = rev.MaxDepth();
    rep.tun0 = ReadDeviceCounters(client, kDevice, sc.qdisc.kind != QdiscKind::Noqueue);
    rep.tun1 = ReadDeviceCounters(server, kServerDevice, true);
    rep.clientMib = MibDelta(clientMib0, client.TcpMib());
    rep.serverMib = MibDelta(serverMib0, server.TcpMib());
    rep.wallS = (NowNs() - wall0) / 1e9;
    return rep;
}

} // namespace kernel
} // namespace tunsim
