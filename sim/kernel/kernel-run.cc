// tunsim kernel: the scenario on a live tun device (see kernel-run.h and
// docs/kernel.md).
//
// Threads: the main thread sets up and tears down (ip/tc via fork+exec, in
// their own process group so a terminal Ctrl-C reaches only tunsim); one
// reader thread and one sender thread per flow each setns() into the private
// namespace. SIGINT/SIGTERM only set a flag; every wait polls it, so the
// destructors (device fd, namespace) always run.
#include "kernel-run.h"

#include "cli/cli.h"
#include "result/result-writer.h"
#include "result/run-result.h"
#include "scenario/scenario.h"
#include "tunsim-version.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace po = boost::program_options;
using json = nlohmann::json;

namespace tunsim
{
namespace
{

constexpr int kExitCrossCheck = kExitConservation;

constexpr uint16_t kFirstPort = 5000;
constexpr uint32_t kHeaderBytes = 12; // u32 sequence + u64 send time (ns), like ns-3's SeqTsHeader
constexpr const char* kDev = "tun0";

std::atomic<int> g_signal{0};

extern "C" void
OnSignal(int sig)
{
    g_signal.store(sig);
}

bool
Interrupted()
{
    return g_signal.load() != 0;
}

struct InterruptedError : std::runtime_error
{
    InterruptedError()
        : std::runtime_error("interrupted")
    {
    }
};

inline int64_t
NowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

void
SpinUntil(int64_t t)
{
    while (NowNs() < t)
    {
    }
}

/// Sleep until t (monotonic ns); the last 80 us spin for precision.
void
WaitUntil(int64_t t, const std::atomic<bool>* stop = nullptr)
{
    for (;;)
    {
        int64_t now = NowNs();
        if (now >= t || Interrupted() || (stop && stop->load()))
        {
            return;
        }
        int64_t left = t - now;
        if (left > 80000)
        {
            int64_t nap = std::min<int64_t>(left - 60000, 5000000);
            timespec ts{static_cast<time_t>(nap / 1000000000LL), static_cast<long>(nap % 1000000000LL)};
            nanosleep(&ts, nullptr);
        }
        else
        {
            SpinUntil(t);
            return;
        }
    }
}

void
SleepMs(int ms)
{
    WaitUntil(NowNs() + static_cast<int64_t>(ms) * 1000000LL);
}

void
PinToCpu(int cpu)
{
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (n < 2)
    {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % n, &set);
    sched_setaffinity(0, sizeof(set), &set); // best effort
}

// ------------------------------------------------------------ ip / tc helpers

struct CmdResult
{
    int code = -1;
    std::string out;
};

/// fork + execvp, stdout and stderr captured; the child gets its own process
/// group so a terminal's SIGINT does not kill half-done setup or cleanup.
CmdResult
Run(const std::vector<std::string>& args)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
    {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    std::vector<char*> argv;
    for (const auto& a : args)
    {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0)
    {
        close(pipefd[0]);
        close(pipefd[1]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0)
    {
        setpgid(0, 0);
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        execvp(argv[0], argv.data());
        _exit(127);
    }
    close(pipefd[1]);
    CmdResult r;
    char buf[4096];
    for (;;)
    {
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n > 0)
        {
            r.out.append(buf, static_cast<size_t>(n));
        }
        else if (n < 0 && errno == EINTR)
        {
            continue;
        }
        else
        {
            break;
        }
    }
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string
Join(const std::vector<std::string>& a)
{
    std::string s;
    for (const auto& x : a)
    {
        s += (s.empty() ? "" : " ") + x;
    }
    return s;
}

std::string
MustRun(const std::vector<std::string>& args)
{
    CmdResult r = Run(args);
    if (r.code != 0)
    {
        std::string out = r.out;
        while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        {
            out.pop_back();
        }
        throw std::runtime_error("`" + Join(args) + "` failed (exit " + std::to_string(r.code) + "): " + out);
    }
    return r.out;
}

/// Run `fn` on a fresh thread that has joined network namespace `nsfd`;
/// rethrows its exception.
template <typename F>
void
InNamespace(int nsfd, F fn)
{
    std::exception_ptr err;
    std::thread t([&]() {
        try
        {
            if (setns(nsfd, CLONE_NEWNET) != 0)
            {
                throw std::runtime_error(std::string("setns: ") + std::strerror(errno));
            }
            fn();
        }
        catch (...)
        {
            err = std::current_exception();
        }
    });
    t.join();
    if (err)
    {
        std::rethrow_exception(err);
    }
}

/// The network namespace: `ip netns add` on construction, `ip netns del` on
/// destruction (also during stack unwinding after an error or a signal).
class Netns
{
  public:
    explicit Netns(std::string name)
        : m_name(std::move(name))
    {
        MustRun({"ip", "netns", "add", m_name});
        m_fd = open(("/run/netns/" + m_name).c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0)
        {
            int e = errno;
            Run({"ip", "netns", "del", m_name});
            throw std::runtime_error("open /run/netns/" + m_name + ": " + std::strerror(e));
        }
    }
    ~Netns()
    {
        if (m_fd >= 0)
        {
            close(m_fd);
        }
        Run({"ip", "netns", "del", m_name});
    }
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    int Fd() const { return m_fd; }
    const std::string& Name() const { return m_name; }

    std::string Ip(std::vector<std::string> args) const
    {
        args.insert(args.begin(), {"ip", "-n", m_name});
        return MustRun(args);
    }
    std::string Tc(std::vector<std::string> args) const
    {
        args.insert(args.begin(), {"tc", "-n", m_name});
        return MustRun(args);
    }
    /// Files under /sys/class/net as this namespace sees them (ip netns exec
    /// mounts a sysfs of the namespace in a private mount namespace).
    std::vector<uint64_t> Sysfs(const std::string& dev, const std::vector<std::string>& files) const
    {
        std::vector<std::string> args = {"ip", "netns", "exec", m_name, "cat"};
        for (const auto& f : files)
        {
            args.push_back("/sys/class/net/" + dev + "/" + f);
        }
        std::istringstream in(MustRun(args));
        std::vector<uint64_t> v;
        uint64_t x;
        while (in >> x)
        {
            v.push_back(x);
        }
        if (v.size() != files.size())
        {
            throw std::runtime_error("sysfs of " + dev + ": expected " + std::to_string(files.size()) + " numbers");
        }
        return v;
    }

  private:
    std::string m_name;
    int m_fd = -1;
};

void
WriteProc(const std::string& path, const std::string& value, bool mustExist)
{
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
    {
        if (!mustExist && errno == ENOENT)
        {
            return;
        }
        throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    }
    ssize_t n = write(fd, value.data(), value.size());
    int e = errno;
    close(fd);
    if (n != static_cast<ssize_t>(value.size()))
    {
        throw std::runtime_error("write " + path + ": " + std::strerror(e));
    }
}

/// A non-persistent tun device (IFF_TUN | IFF_NO_PI): it exists while the fd
/// is open, in the namespace of the thread that opened it.
class TunDevice
{
  public:
    TunDevice(const Netns& ns, const std::string& name, uint32_t txqueuelen, const std::string& addrCidr)
        : m_name(name)
    {
        InNamespace(ns.Fd(), [&]() {
            m_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
            if (m_fd < 0)
            {
                throw std::runtime_error(std::string("open /dev/net/tun: ") + std::strerror(errno));
            }
            ifreq ifr;
            std::memset(&ifr, 0, sizeof ifr);
            ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
            std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
            if (ioctl(m_fd, TUNSETIFF, &ifr) != 0)
            {
                int e = errno;
                close(m_fd);
                m_fd = -1;
                throw std::runtime_error("TUNSETIFF " + name + ": " + std::strerror(e));
            }
            // No IPv6 on the device (router solicitations would be extra
            // packets and extra drops). default/all were set for the namespace
            // already; this is the device's own switch.
            WriteProc("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6", "1", false);
        });
        ns.Ip({"link", "set", name, "txqueuelen", std::to_string(txqueuelen)});
        ns.Ip({"addr", "add", addrCidr, "dev", name});
        ns.Ip({"link", "set", name, "up"});
    }
    ~TunDevice()
    {
        if (m_fd >= 0)
        {
            close(m_fd);
        }
    }
    TunDevice(const TunDevice&) = delete;
    TunDevice& operator=(const TunDevice&) = delete;
    int Fd() const { return m_fd; }
    const std::string& Name() const { return m_name; }

  private:
    std::string m_name;
    int m_fd = -1;
};

void
SetQdisc(const Netns& ns, const std::string& dev, const std::string& kind, uint32_t limit)
{
    std::vector<std::string> a = {"qdisc", "replace", "dev", dev, "root", kind};
    if (kind == "pfifo")
    {
        a.push_back("limit");
        a.push_back(std::to_string(limit));
    }
    ns.Tc(a);
}

kernel::TcStats
QdiscStats(const Netns& ns, const std::string& dev)
{
    return kernel::ParseTcJson(ns.Tc({"-s", "-j", "qdisc", "show", "dev", dev}));
}

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

/// What the reader found in one packet read from the device.
struct Parsed
{
    bool ours = false;
    uint32_t flow = 0;
    uint32_t seq = 0;
    int64_t ts = 0;
};

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

double
Quantile(std::vector<int64_t>& v, double q)
{
    if (v.empty())
    {
        return 0.0;
    }
    size_t k = static_cast<size_t>(std::ceil(q * v.size()));
    k = std::max<size_t>(k, 1) - 1;
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return static_cast<double>(v[k]);
}

// ------------------------------------------------------------ one measurement

struct FlowStats
{
    // sender
    uint64_t sent = 0;          ///< successful send() calls
    uint64_t sentBytes = 0;     ///< their payload bytes
    uint64_t sendErrors = 0;    ///< send() failures (ENOBUFS, ...), not counted as sent
    uint64_t generated = 0;     ///< rate/bursts: datagrams the pattern generated by the stop time
    int64_t sendNsTotal = 0;    ///< time inside send()
    std::vector<int32_t> sendNs;    ///< per sequence number: time inside its send()
    std::vector<uint32_t> sendPos;  ///< per sequence number: sends since the sender last slept (0 = first)
    int sndbuf = 0;             ///< SO_SNDBUF read back
    // reader
    uint64_t received = 0;
    uint64_t receivedBytes = 0; ///< payload bytes
    uint64_t gaps = 0;          ///< missing sequence numbers below the highest seen
    uint64_t reordered = 0;
    uint32_t expected = 0;      ///< next sequence number expected
    std::vector<int64_t> delayNs;
    std::vector<uint8_t> got;   ///< per sequence number: read by the reader
};

/// How long send() took, by the datagram's position since the sender last
/// slept (position 0 = the first send of a burst, or of a rate/Poisson
/// datagram) and by its fate (delivered = the reader read it; dropped = it
/// never arrived). Summed over repeats.
struct SendProfile
{
    static constexpr size_t kPositions = 8; ///< positions 0..6 each, 7 = 7 and later
    std::array<std::array<int64_t, kPositions>, 2> sumNs{}; ///< [dropped][position]
    std::array<std::array<uint64_t, kPositions>, 2> n{};

    void Add(const FlowStats& f)
    {
        for (size_t seq = 0; seq < f.sendNs.size(); ++seq)
        {
            const size_t pos = std::min<size_t>(f.sendPos[seq], kPositions - 1);
            const int dropped = seq < f.got.size() && f.got[seq] ? 0 : 1;
            sumNs[dropped][pos] += f.sendNs[seq];
            ++n[dropped][pos];
        }
    }

    /// {n, mean_ns} over positions [from, to) of the datagrams of the given
    /// fates (0 = delivered, 1 = dropped); mean_ns null when n is 0.
    json Summary(size_t from, size_t to, std::initializer_list<int> fates) const
    {
        int64_t sum = 0;
        uint64_t cnt = 0;
        for (size_t pos = from; pos < to; ++pos)
        {
            for (int d : fates)
            {
                sum += sumNs[d][pos];
                cnt += n[d][pos];
            }
        }
        return {{"n", cnt}, {"mean_ns", cnt ? json(static_cast<double>(sum) / cnt) : json(nullptr)}};
    }

    /// {by_position: [{position, n, mean_ns, delivered_mean_ns, dropped_mean_ns}],
    ///  first (position 0), rest (positions 1+), delivered, dropped: {n, mean_ns}}
    json ToJson() const
    {
        json byPos = json::array();
        for (size_t pos = 0; pos < kPositions; ++pos)
        {
            json all = Summary(pos, pos + 1, {0, 1});
            if (all["n"] == 0)
            {
                continue;
            }
            all["position"] = pos == kPositions - 1 ? std::to_string(pos) + "+" : std::to_string(pos);
            all["delivered_mean_ns"] = Summary(pos, pos + 1, {0})["mean_ns"];
            all["dropped_mean_ns"] = Summary(pos, pos + 1, {1})["mean_ns"];
            byPos.push_back(all);
        }
        return {{"by_position", byPos},
                {"first", Summary(0, 1, {0, 1})},
                {"rest", Summary(1, kPositions, {0, 1})},
                {"delivered", Summary(0, kPositions, {0})},
                {"dropped", Summary(0, kPositions, {1})}};
    }
};

struct ReaderStats
{
    uint64_t packetsRead = 0; ///< every packet read(), ours or not
    uint64_t bytesRead = 0;   ///< their L3 bytes
    uint64_t untracked = 0;   ///< packets that were not one of our datagrams
    uint64_t sleeps = 0;      ///< read() found the ring empty, poll()ed
    int64_t busyNs = 0;       ///< read + per-packet work, inside the measurement window
    int64_t readNsTotal = 0;  ///< time inside read() for packets returned
    std::vector<int64_t> wakeNs;   ///< read done - send time, for the first packet found after a sleep
    /// (sleep, wake) per wake sample: sleep = send() of the datagram that woke
    /// the reader - the first poll() entry of that idle stretch; wake = wakeNs.
    std::vector<std::pair<int64_t, int64_t>> sleepWakeNs;
};

struct Repeat
{
    std::vector<FlowStats> flows;
    ReaderStats reader;
    uint64_t txPackets = 0, txBytes = 0, txDropped = 0, rxPackets = 0, txQueueLen = 0;
    kernel::TcStats tc;
    bool haveTc = false;
    double measuredS = 0.0;   ///< first send to the end of the sending window
    double wallS = 0.0;
    double drainS = 0.0;
};

/// The reader: read() the device (non-blocking; poll() when empty), parse,
/// busy-wait until `per_packet_ns + ns_per_byte * len` has passed since the
/// read began. Stalls: no read() during [t0 + at_s, t0 + at_s + for_s).
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
    TunDevice dev(ns, kDev, sc.tun.ringSize, "10.8.0.1/24");
    SetQdisc(ns, kDev, NameOf(sc.qdisc.kind), qdiscLimit);

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

    auto v = ns.Sysfs(kDev, {"statistics/tx_packets", "statistics/tx_bytes", "statistics/tx_dropped",
                             "statistics/rx_packets", "tx_queue_len"});
    rep.txPackets = v[0];
    rep.txBytes = v[1];
    rep.txDropped = v[2];
    rep.rxPackets = v[3];
    rep.txQueueLen = v[4];
    if (sc.qdisc.kind != QdiscKind::Noqueue)
    {
        rep.tc = QdiscStats(ns, kDev);
        rep.haveTc = true;
    }
    rep.wallS = (NowNs() - wall0) / 1e9;
    return rep;
}

// ------------------------------------------------------------ probe and calibration

/// Send `burst` datagrams back to back into a device of txqueuelen `ring`
/// whose reader does not read; then look where they went. Mainline tun drops
/// on a full ring (tx_dropped = burst - ring); a NODROP kernel stops the tx
/// queue, so nothing is dropped at tun and the rest waits in the qdisc.
json
PolicyProbe(const Netns& ns, uint32_t ring, uint32_t burst, uint32_t payload)
{
    TunDevice dev(ns, "tunprobe", ring, "10.9.0.1/24");
    SetQdisc(ns, "tunprobe", "pfifo", 10000);
    uint64_t sent = 0;
    uint64_t wouldBlock = 0;
    InNamespace(ns.Fd(), [&]() {
        int s = UdpSocket("10.9.0.2", kFirstPort, 0);
        std::vector<uint8_t> buf(payload, 0);
        for (uint32_t i = 0; i < burst; ++i)
        {
            PutHeader(buf.data(), i, NowNs());
            ssize_t r = send(s, buf.data(), buf.size(), MSG_DONTWAIT);
            if (r == static_cast<ssize_t>(buf.size()))
            {
                ++sent;
            }
            else if (errno == EAGAIN)
            {
                ++wouldBlock;
            }
        }
        close(s);
    });
    SleepMs(20);
    auto v = ns.Sysfs("tunprobe", {"statistics/tx_dropped", "statistics/tx_packets"});
    kernel::TcStats tc = QdiscStats(ns, "tunprobe");
    // Now read what the ring holds (never more than the ring).
    uint64_t inRing = 0;
    {
        std::vector<uint8_t> b(65536);
        while (read(dev.Fd(), b.data(), b.size()) > 0)
        {
            ++inRing;
        }
    }
    const uint64_t txDropped = v[0];
    std::string verdict;
    std::string why;
    if (txDropped > 0 && tc.backlogPackets == 0)
    {
        verdict = "drop";
        why = "a full tun ring dropped packets (tx_dropped > 0) and the qdisc held none: tun_net_xmit() drops "
              "instead of stopping the tx queue (mainline)";
    }
    else if (txDropped == 0 && tc.backlogPackets > 0)
    {
        verdict = "nodrop-like";
        why = "no tun drops while packets waited in the qdisc: the tx queue was stopped (a NODROP kernel)";
    }
    else
    {
        verdict = "unknown";
        why = "neither pattern: tx_dropped " + std::to_string(txDropped) + ", qdisc backlog " +
              std::to_string(tc.backlogPackets);
    }
    const uint64_t expectDrop = burst > ring ? burst - ring : 0;
    return {{"device", "tunprobe"},
            {"txqueuelen", ring},
            {"qdisc", "pfifo limit 10000"},
            {"burst_packets", burst},
            {"sent", sent},
            {"send_would_block", wouldBlock},
            {"tx_dropped", txDropped},
            {"qdisc_backlog_packets", tc.backlogPackets},
            {"qdisc_dropped", tc.dropped},
            {"ring_entries_read_after", inRing},
            {"closed_form_drops", expectDrop},
            {"matches_closed_form", verdict == "drop" && txDropped == expectDrop && inRing == ring},
            {"verdict", verdict},
            {"why", why}};
}

/// The reader's fixed cost: read() a full ring back to back (no busy wait)
/// and time each read + parse; the sender's cost per send() into a ring with
/// room. Both on a device of their own.
json
Calibrate(const Netns& ns, uint32_t payload)
{
    const uint32_t n = 400;
    TunDevice dev(ns, "tuncal", 1000, "10.10.0.1/24");
    SetQdisc(ns, "tuncal", "pfifo", 10000);
    std::vector<int64_t> sendNs;
    InNamespace(ns.Fd(), [&]() {
        int s = UdpSocket("10.10.0.2", kFirstPort, 0);
        std::vector<uint8_t> buf(payload, 0);
        for (uint32_t i = 0; i < n; ++i)
        {
            int64_t a = NowNs();
            PutHeader(buf.data(), i, a);
            if (send(s, buf.data(), buf.size(), 0) == static_cast<ssize_t>(buf.size()))
            {
                sendNs.push_back(NowNs() - a);
            }
        }
        close(s);
    });
    std::vector<int64_t> readNs;
    std::vector<uint8_t> b(65536);
    for (;;)
    {
        int64_t a = NowNs();
        ssize_t r = read(dev.Fd(), b.data(), b.size());
        if (r <= 0)
        {
            break;
        }
        Parsed p = ParsePacket(b.data(), static_cast<size_t>(r), 1);
        (void)p;
        readNs.push_back(NowNs() - a);
    }
    int64_t c0 = NowNs();
    for (int i = 0; i < 1000; ++i)
    {
        NowNs();
    }
    double clockNs = (NowNs() - c0) / 1000.0;
    auto stats = [](std::vector<int64_t> v) {
        if (v.empty())
        {
            return json{{"samples", 0}, {"mean_ns", nullptr}, {"p50_ns", nullptr}, {"p90_ns", nullptr}};
        }
        double sum = 0;
        for (auto x : v)
        {
            sum += static_cast<double>(x);
        }
        double mean = sum / v.size();
        double p50 = Quantile(v, 0.5);
        double p90 = Quantile(v, 0.9);
        return json{{"samples", v.size()}, {"mean_ns", mean}, {"p50_ns", p50}, {"p90_ns", p90}};
    };
    return {{"payload_bytes", payload},
            {"reader_read_ns", stats(readNs)},
            {"sender_send_ns", stats(sendNs)},
            {"clock_gettime_ns", clockNs}};
}

// ------------------------------------------------------------ result

json
DelayJson(std::vector<int64_t>& v)
{
    if (v.empty())
    {
        return {{"samples", 0}, {"p50_ms", 0.0}, {"p99_ms", 0.0}, {"max_ms", 0.0}, {"mean_ms", 0.0}};
    }
    long double sum = 0;
    int64_t mx = 0;
    for (auto x : v)
    {
        sum += x;
        mx = std::max(mx, x);
    }
    double p50 = Quantile(v, 0.5);
    double p99 = Quantile(v, 0.99);
    return {{"samples", v.size()},
            {"p50_ms", p50 / 1e6},
            {"p99_ms", p99 / 1e6},
            {"max_ms", mx / 1e6},
            {"mean_ms", static_cast<double>(sum / v.size()) / 1e6}};
}

double
Mean(const std::vector<double>& v)
{
    double s = 0;
    for (double x : v)
    {
        s += x;
    }
    return v.empty() ? 0.0 : s / v.size();
}

double
Stddev(const std::vector<double>& v)
{
    if (v.size() < 2)
    {
        return 0.0;
    }
    double m = Mean(v);
    double s = 0;
    for (double x : v)
    {
        s += (x - m) * (x - m);
    }
    return std::sqrt(s / (v.size() - 1));
}

struct Assembled
{
    json result;
    bool crossOk = false;
    std::string summary;
};

/// The result document (the `tunsim run` schema) of one or more repeats; with
/// several, counters are summed and ratios pooled, and kernel.repeats lists
/// each repeat's figures.
/// The reader's wake-up split by how long it slept (docs/kernel.md). `pairs`
/// are (sleep, wake) in ns; the threshold between a short and a long sleep is
/// fitted to the data: the step function (median wake below / at or above T)
/// with the least absolute deviation, T on a log grid of 1 us .. 100 ms (20
/// per decade); when a range of T fits equally well (a gap in the sleep
/// lengths), the geometric middle of that range.
json
WakeBySleepJson(const std::vector<std::pair<int64_t, int64_t>>& pairs)
{
    if (pairs.empty())
    {
        return nullptr;
    }
    std::vector<std::pair<int64_t, int64_t>> v(pairs); // sorted by sleep
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    auto stats = [](std::vector<int64_t> w, std::vector<int64_t> sl) {
        if (w.empty())
        {
            return json(nullptr);
        }
        double sum = 0;
        for (auto x : w)
        {
            sum += static_cast<double>(x);
        }
        return json({{"samples", w.size()},
                     {"wake_us_mean", sum / w.size() / 1e3},
                     {"wake_us_p10", Quantile(w, 0.1) / 1e3},
                     {"wake_us_p50", Quantile(w, 0.5) / 1e3},
                     {"wake_us_p90", Quantile(w, 0.9) / 1e3},
                     {"sleep_us_min", sl.empty() ? 0.0 : *std::min_element(sl.begin(), sl.end()) / 1e3},
                     {"sleep_us_p50", Quantile(sl, 0.5) / 1e3},
                     {"sleep_us_max", sl.empty() ? 0.0 : *std::max_element(sl.begin(), sl.end()) / 1e3}});
    };
    auto split = [&](size_t from, size_t to, std::vector<int64_t>& w, std::vector<int64_t>& sl) {
        w.clear();
        sl.clear();
        for (size_t i = from; i < to; ++i)
        {
            sl.push_back(v[i].first);
            w.push_back(v[i].second);
        }
    };
    auto absDev = [](std::vector<int64_t> w) {
        if (w.empty())
        {
            return 0.0;
        }
        double med = Quantile(w, 0.5);
        double d = 0;
        for (auto x : w)
        {
            d += std::fabs(static_cast<double>(x) - med);
        }
        return d;
    };
    // histogram
    const std::vector<double> edgesUs = {0, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};
    json hist = json::array();
    std::vector<int64_t> w, sl;
    size_t i = 0;
    for (size_t b = 0; b < edgesUs.size(); ++b)
    {
        const bool last = b + 1 == edgesUs.size();
        const int64_t hi = last ? INT64_MAX : static_cast<int64_t>(edgesUs[b + 1] * 1e3);
        size_t j = i;
        while (j < n && v[j].first < hi)
        {
            ++j;
        }
        split(i, j, w, sl);
        json row = {{"sleep_us_from", b == 0 ? json("-inf") : json(edgesUs[b])},
                    {"sleep_us_to", last ? json("inf") : json(edgesUs[b + 1])},
                    {"samples", j - i}};
        if (j > i)
        {
            std::vector<int64_t> wc(w);
            row["wake_us_p10"] = Quantile(wc, 0.1) / 1e3;
            row["wake_us_p50"] = Quantile(wc, 0.5) / 1e3;
            row["wake_us_p90"] = Quantile(wc, 0.9) / 1e3;
        }
        hist.push_back(row);
        i = j;
    }
    // threshold: least absolute deviation of a two-level step
    std::vector<int64_t> all;
    for (const auto& p : v)
    {
        all.push_back(p.second);
    }
    const double oneLevel = absDev(all);
    const size_t minSide = std::max<size_t>(5, n / 100);
    std::vector<std::pair<double, double>> cand; // (T us, cost)
    for (int k = 0; k <= 100; ++k)
    {
        double tUs = std::pow(10.0, k / 20.0);
        int64_t t = static_cast<int64_t>(tUs * 1e3);
        size_t cut = static_cast<size_t>(std::lower_bound(v.begin(), v.end(), std::make_pair(t, INT64_MIN)) - v.begin());
        if (cut < minSide || n - cut < minSide)
        {
            continue;
        }
        split(0, cut, w, sl);
        double c = absDev(w);
        split(cut, n, w, sl);
        c += absDev(w);
        cand.emplace_back(tUs, c);
    }
    json out;
    out["sleep"] = "first poll() entry after the ring was found empty -> send() of the datagram that woke the reader";
    out["wake"] = "send() -> read() returned for that datagram (wake-up latency + one send())";
    out["samples"] = n;
    out["histogram"] = hist;
    out["abs_dev_one_level_us_mean"] = oneLevel / n / 1e3;
    if (cand.empty())
    {
        out["threshold_us"] = nullptr;
        out["short"] = nullptr;
        out["long"] = nullptr;
        return out;
    }
    size_t best = 0;
    for (size_t c = 1; c < cand.size(); ++c)
    {
        if (cand[c].second < cand[best].second)
        {
            best = c;
        }
    }
    const double tol = cand[best].second * 1e-3 + 1.0;
    size_t lo = best, hi = best;
    while (lo > 0 && cand[lo - 1].second <= cand[best].second + tol)
    {
        --lo;
    }
    while (hi + 1 < cand.size() && cand[hi + 1].second <= cand[best].second + tol)
    {
        ++hi;
    }
    const double tUs = std::sqrt(cand[lo].first * cand[hi].first);
    const int64_t t = static_cast<int64_t>(tUs * 1e3);
    size_t cut = static_cast<size_t>(std::lower_bound(v.begin(), v.end(), std::make_pair(t, INT64_MIN)) - v.begin());
    out["threshold_us"] = tUs;
    out["threshold_range_us"] = {cand[lo].first, cand[hi].first};
    out["abs_dev_two_levels_us_mean"] = cand[best].second / n / 1e3;
    split(0, cut, w, sl);
    out["short"] = stats(w, sl);
    split(cut, n, w, sl);
    out["long"] = stats(w, sl);
    return out;
}

Assembled
Assemble(const Scenario& sc, uint32_t qdiscLimit, std::vector<Repeat>& reps, const json& probe,
         const json& calibration, const std::string& nsName, double wallS)
{
    const size_t nf = sc.flows.size();
    const size_t nr = reps.size();
    const bool detectedDrop = probe.value("verdict", "") == "drop";

    // pooled counters
    Repeat tot;
    tot.flows.resize(nf);
    std::vector<SendProfile> sendProfiles(nf);
    for (auto& r : reps)
    {
        for (size_t i = 0; i < nf; ++i)
        {
            sendProfiles[i].Add(r.flows[i]);
        }
        for (size_t i = 0; i < nf; ++i)
        {
            FlowStats& a = tot.flows[i];
            FlowStats& b = r.flows[i];
            a.sent += b.sent;
            a.sentBytes += b.sentBytes;
            a.sendErrors += b.sendErrors;
            a.generated += b.generated;
            a.sendNsTotal += b.sendNsTotal;
            a.sndbuf = b.sndbuf;
            a.received += b.received;
            a.receivedBytes += b.receivedBytes;
            a.gaps += b.gaps;
            a.reordered += b.reordered;
            a.delayNs.insert(a.delayNs.end(), b.delayNs.begin(), b.delayNs.end());
        }
        tot.reader.packetsRead += r.reader.packetsRead;
        tot.reader.bytesRead += r.reader.bytesRead;
        tot.reader.untracked += r.reader.untracked;
        tot.reader.sleeps += r.reader.sleeps;
        tot.reader.busyNs += r.reader.busyNs;
        tot.reader.readNsTotal += r.reader.readNsTotal;
        tot.reader.wakeNs.insert(tot.reader.wakeNs.end(), r.reader.wakeNs.begin(), r.reader.wakeNs.end());
        tot.reader.sleepWakeNs.insert(tot.reader.sleepWakeNs.end(), r.reader.sleepWakeNs.begin(),
                                      r.reader.sleepWakeNs.end());
        tot.txPackets += r.txPackets;
        tot.txBytes += r.txBytes;
        tot.txDropped += r.txDropped;
        tot.rxPackets += r.rxPackets;
        tot.txQueueLen = r.txQueueLen;
        tot.haveTc = r.haveTc;
        tot.tc.kind = r.tc.kind;
        tot.tc.sentPackets += r.tc.sentPackets;
        tot.tc.sentBytes += r.tc.sentBytes;
        tot.tc.dropped += r.tc.dropped;
        tot.tc.requeues += r.tc.requeues;
        tot.tc.overlimits += r.tc.overlimits;
        tot.tc.backlogPackets += r.tc.backlogPackets;
        tot.tc.backlogBytes += r.tc.backlogBytes;
        tot.drainS = std::max(tot.drainS, r.drainS);
    }
    const double windowS = sc.durationS * nr;

    // per-repeat cross-check and figures
    json repeats = json::array();
    bool allOk = true;
    std::vector<std::vector<double>> lossPerFlow(nf);
    auto crossCheck = [&](const Repeat& r) {
        uint64_t sent = 0, received = 0, seqLost = 0;
        for (const auto& f : r.flows)
        {
            sent += f.sent;
            received += f.received;
            seqLost += f.sent - std::min(f.sent, f.received);
        }
        uint64_t qdrop = r.haveTc ? r.tc.dropped : 0;
        uint64_t qbacklog = r.haveTc ? r.tc.backlogPackets : 0;
        // Entries still in the ring: what the qdisc handed to tun_net_xmit()
        // minus what tun dropped and what the reader read.
        int64_t ring = r.haveTc ? static_cast<int64_t>(r.tc.sentPackets) - static_cast<int64_t>(r.txDropped) -
                                      static_cast<int64_t>(r.txPackets)
                                : 0;
        uint64_t dropped = r.txDropped + qdrop;
        bool sumOk = sent + r.reader.untracked == received + r.reader.untracked + dropped + qbacklog +
                                                     static_cast<uint64_t>(std::max<int64_t>(ring, 0)) &&
                     ring >= 0;
        bool readOk = r.txPackets == r.reader.packetsRead;
        bool seqOk = seqLost == dropped;
        json j = {{"app_sent", sent},
                  {"reader_received", received},
                  {"reader_untracked", r.reader.untracked},
                  {"reader_seq_lost", seqLost},
                  {"sysfs_tx_packets", r.txPackets},
                  {"sysfs_tx_dropped", r.txDropped},
                  {"tc_sent_packets", r.haveTc ? json(r.tc.sentPackets) : json(nullptr)},
                  {"tc_dropped", r.haveTc ? json(qdrop) : json(nullptr)},
                  {"tc_backlog_packets", r.haveTc ? json(qbacklog) : json(nullptr)},
                  {"ring_entries_left", r.haveTc ? json(ring) : json(nullptr)},
                  {"sent_eq_received_plus_drops_plus_queued", sumOk},
                  {"tx_packets_eq_reader_reads", readOk},
                  {"seq_lost_eq_kernel_drops", seqOk},
                  {"ok", sumOk && readOk && seqOk}};
        return j;
    };
    for (size_t k = 0; k < nr; ++k)
    {
        Repeat& r = reps[k];
        json cc = crossCheck(r);
        allOk = allOk && cc["ok"].get<bool>();
        json fl = json::array();
        for (size_t i = 0; i < nf; ++i)
        {
            const FlowStats& f = r.flows[i];
            double loss = f.sent ? static_cast<double>(f.sent - std::min(f.sent, f.received)) / f.sent : 0.0;
            lossPerFlow[i].push_back(loss);
            fl.push_back({{"index", i},
                          {"sent_packets", f.sent},
                          {"delivered_packets", f.received},
                          {"loss_ratio", loss},
                          {"send_ns_mean", f.sent ? json(static_cast<double>(f.sendNsTotal) / f.sent) : json(nullptr)}});
        }
        repeats.push_back({{"repeat", k + 1},
                           {"flows", fl},
                           {"tx_dropped", r.txDropped},
                           {"qdisc_dropped", r.haveTc ? json(r.tc.dropped) : json(nullptr)},
                           {"drain_s", r.drainS},
                           {"wall_s", r.wallS},
                           {"cross_check", cc}});
    }
    json lossStats = json::array();
    for (size_t i = 0; i < nf; ++i)
    {
        const auto& v = lossPerFlow[i];
        lossStats.push_back({{"index", i},
                             {"n", v.size()},
                             {"mean", Mean(v)},
                             {"stddev", Stddev(v)},
                             {"min", *std::min_element(v.begin(), v.end())},
                             {"max", *std::max_element(v.begin(), v.end())}});
    }
    json crossTotal = crossCheck(tot);
    crossTotal["ok"] = allOk;

    // flows
    json flows = json::array();
    uint64_t totalSent = 0;
    uint64_t totalDelivered = 0;
    for (size_t i = 0; i < nf; ++i)
    {
        const FlowConfig& fc = sc.flows[i];
        FlowStats& f = tot.flows[i];
        const double stopS = fc.stopS < 0 ? sc.durationS : std::min(fc.stopS, sc.durationS);
        const double active = (stopS - fc.startS) * nr;
        const double act = active > 0 ? active : 1.0;
        uint64_t dropped = f.sent - std::min(f.sent, f.received);
        totalSent += f.sent;
        totalDelivered += f.received;
        json j;
        j["index"] = i;
        j["kind"] = NameOf(fc.kind);
        j["mode"] = NameOf(fc.mode);
        j["active_s"] = stopS - fc.startS;
        j["sent_packets"] = f.sent;
        j["delivered_packets"] = f.received;
        j["dropped_packets"] = dropped;
        j["in_flight_packets"] = 0;
        j["loss_ratio"] = f.sent ? static_cast<double>(dropped) / f.sent : 0.0;
        j["goodput_mbps"] = f.receivedBytes * 8.0 / act / 1e6;
        j["delay"] = DelayJson(f.delayNs);
        j["app_sent_datagrams"] = f.sent;
        j["app_received_datagrams"] = f.received;
        j["app_backlog_datagrams"] = fc.mode == UdpMode::Flood ? 0 : (f.generated > f.sent + f.sendErrors ? f.generated - f.sent - f.sendErrors : 0);
        j["reordered_datagrams"] = f.reordered;
        j["sent_mbps"] = f.sentBytes * 8.0 / act / 1e6;
        j["socket"] = {{"sndbuf_bytes", f.sndbuf}, {"wmem_max_bytes", nullptr}, {"blocked_count", nullptr},
                       {"blocked_s", nullptr}};
        j["kernel"] = {{"send_errors", f.sendErrors},
                       {"send_ns_mean", f.sent ? json(static_cast<double>(f.sendNsTotal) / f.sent) : json(nullptr)},
                       {"seq_gaps", f.gaps},
                       {"seq_tail_lost", dropped >= f.gaps ? dropped - f.gaps : 0},
                       {"loss_ratio_over_repeats", lossStats[i]},
                       {"send_ns_profile", sendProfiles[i].ToJson()}};
        flows.push_back(j);
    }

    // tun
    json tunJ;
    tunJ["policy"] = detectedDrop ? "drop" : probe.value("verdict", "unknown");
    tunJ["tx_queue_len"] = tot.txQueueLen;
    tunJ["ring_size"] = tot.txQueueLen;
    tunJ["ring_batch"] = kernel::RingBatch(static_cast<uint32_t>(tot.txQueueLen));
    tunJ["has_qdisc"] = sc.qdisc.kind != QdiscKind::Noqueue;
    tunJ["tx_packets"] = tot.txPackets;
    tunJ["tx_bytes"] = tot.txBytes;
    tunJ["tx_dropped"] = tot.txDropped;
    tunJ["drop_reasons"] = nullptr;
    tunJ["rx_packets"] = tot.rxPackets;
    tunJ["xmit_calls"] = nullptr;
    if (detectedDrop)
    {
        // Mainline tun never stops its tx queue: these follow from the source.
        tunJ["txq"] = {{"stop_count", 0}, {"wake_count", 0}, {"stopped_s", 0.0}, {"stopped_fraction", 0.0},
                       {"stopped_at_end", false}, {"softirq_runs", nullptr}};
    }
    else
    {
        tunJ["txq"] = {{"stop_count", nullptr}, {"wake_count", nullptr}, {"stopped_s", nullptr},
                       {"stopped_fraction", nullptr}, {"stopped_at_end", nullptr}, {"softirq_runs", nullptr}};
    }
    tunJ["ring_occupancy"] = {{"mean", nullptr}, {"max", nullptr}, {"end", crossTotal["ring_entries_left"]}};

    // qdisc
    json qd;
    qd["kind"] = NameOf(sc.qdisc.kind);
    if (sc.qdisc.kind == QdiscKind::Noqueue)
    {
        qd["limit_packets"] = nullptr;
    }
    else
    {
        qd["limit_packets"] = qdiscLimit;
        qd["sent_packets"] = tot.tc.sentPackets;
        qd["dropped_packets"] = tot.tc.dropped;
        qd["received_packets"] = tot.tc.sentPackets + tot.tc.dropped + tot.tc.backlogPackets;
        qd["drop_reasons"] = nullptr;
        qd["requeues"] = tot.tc.requeues;
        qd["backlog_packets_end"] = tot.tc.backlogPackets;
        qd["backlog_packets_max"] = nullptr;
        qd["backlog_packets_mean"] = nullptr;
    }

    // reader
    json rd;
    rd["packets_read"] = tot.reader.packetsRead;
    rd["bytes_read"] = tot.reader.bytesRead;
    rd["reads"] = tot.reader.packetsRead;
    rd["sleeps"] = tot.reader.sleeps;
    rd["wakeups"] = tot.reader.wakeNs.size();
    if (sc.reader.deepIdleAfterUs > 0)
    {
        uint64_t deep = 0;
        for (const auto& [sl, wk] : tot.reader.sleepWakeNs)
        {
            deep += sl >= static_cast<int64_t>(sc.reader.deepIdleAfterUs * 1e3) ? 1 : 0;
        }
        rd["deep_wakeups"] = deep;
    }
    else
    {
        rd["deep_wakeups"] = nullptr;
    }
    rd["sndbuf_blocks"] = nullptr;
    rd["busy_fraction"] = windowS > 0 ? tot.reader.busyNs / 1e9 / windowS : 0.0;
    rd["softirq_stolen_s"] = nullptr;
    rd["capacity_pps_at_mean_size"] =
        tot.reader.packetsRead && (sc.reader.perPacketNs > 0 || sc.reader.nsPerByte > 0)
            ? json(1e9 / (sc.reader.perPacketNs +
                          sc.reader.nsPerByte * static_cast<double>(tot.reader.bytesRead) / tot.reader.packetsRead))
            : json(nullptr);
    rd["socket"] = {{"sndbuf_bytes", nullptr}, {"wmem_max_bytes", nullptr}, {"blocked_count", nullptr},
                    {"blocked_s", nullptr}};

    // conservation (forward: what the kernel's own counters say)
    uint64_t dropped = tot.txDropped + (tot.haveTc ? tot.tc.dropped : 0);
    uint64_t qback = tot.haveTc ? tot.tc.backlogPackets : 0;
    int64_t ringLeft = crossTotal["ring_entries_left"].is_null() ? 0 : crossTotal["ring_entries_left"].get<int64_t>();
    json byPlace = json::object();
    if (tot.txDropped)
    {
        byPlace["tun0_ring/tx_dropped"] = tot.txDropped;
    }
    if (tot.haveTc && tot.tc.dropped)
    {
        byPlace["tun0_qdisc/dropped"] = tot.tc.dropped;
    }
    uint64_t stillQueued = qback + static_cast<uint64_t>(std::max<int64_t>(ringLeft, 0));
    json fwd = {{"sent", totalSent + tot.reader.untracked},
                {"delivered", totalDelivered + tot.reader.untracked},
                {"dropped", dropped},
                {"dropped_by_place", byPlace},
                {"still_queued", stillQueued},
                {"still_queued_by_place",
                 {{"tun0_qdisc", qback}, {"tun0_ring", std::max<int64_t>(ringLeft, 0)}, {"vpn_reader", 0}}},
                {"ok", totalSent + tot.reader.untracked == totalDelivered + tot.reader.untracked + dropped + stillQueued}};
    json rev = {{"sent", 0}, {"delivered", 0}, {"dropped", 0}, {"dropped_by_place", json::object()},
                {"still_queued", 0}, {"still_queued_by_place", json::object()}, {"ok", true}};
    bool consOk = fwd["ok"].get<bool>();
    json cons = {{"forward", fwd}, {"reverse", rev}, {"untracked_packets", tot.reader.untracked}, {"ok", consOk}};

    utsname u;
    uname(&u);
    json warnings = json::array();
    if (sc.tun.policy != "drop" && sc.tun.policy != tunJ["policy"].get<std::string>())
    {
        warnings.push_back("tun.policy \"" + sc.tun.policy +
                           "\" cannot be chosen on a live kernel; this kernel behaves as \"" +
                           tunJ["policy"].get<std::string>() + "\"");
    }
    if (sc.reader.batch != 1)
    {
        warnings.push_back("reader.batch " + std::to_string(sc.reader.batch) +
                           " not applicable: a tun read() returns one packet");
    }
    double readFloor = calibration["reader_read_ns"]["mean_ns"].is_number()
                           ? calibration["reader_read_ns"]["mean_ns"].get<double>()
                           : 0.0;
    if (sc.reader.perPacketNs + sc.reader.nsPerByte * 28 < readFloor)
    {
        std::ostringstream w;
        w << "reader.per_packet_ns " << sc.reader.perPacketNs << " is below the measured read() cost "
          << std::fixed << std::setprecision(0) << readFloor << " ns: the kernel reader is slower than the scenario's";
        warnings.push_back(w.str());
    }

    json kernelJ;
    kernelJ["uname"] = {{"sysname", u.sysname}, {"release", u.release}, {"version", u.version}, {"machine", u.machine}};
    kernelJ["policy"] = tunJ["policy"];
    kernelJ["policy_probe"] = probe;
    kernelJ["requested_policy"] = sc.tun.policy;
    kernelJ["namespace"] = nsName;
    kernelJ["device"] = kDev;
    kernelJ["cpus"] = std::thread::hardware_concurrency();
    kernelJ["calibration"] = calibration;
    kernelJ["repeat"] = nr;
    kernelJ["repeats"] = repeats;
    kernelJ["loss_ratio"] = lossStats;
    kernelJ["cross_check"] = crossTotal;
    kernelJ["reader_wakeup_by_sleep"] = WakeBySleepJson(tot.reader.sleepWakeNs);
    {
        // Send -> read() returned, for the first datagram after the reader slept
        // in poll(): the reader's wake-up latency plus one send().
        auto& w = tot.reader.wakeNs;
        double sum = 0;
        for (auto x : w)
        {
            sum += static_cast<double>(x);
        }
        kernelJ["reader_wakeup_us"] =
            w.empty() ? json(nullptr)
                      : json({{"samples", w.size()}, {"mean", sum / w.size() / 1e3}, {"p50", Quantile(w, 0.5) / 1e3},
                              {"p90", Quantile(w, 0.9) / 1e3}});
    }
    kernelJ["reader_read_ns_mean"] =
        tot.reader.packetsRead ? json(static_cast<double>(tot.reader.readNsTotal) / tot.reader.packetsRead) : json(nullptr);
    kernelJ["drain_s_max"] = tot.drainS;
    kernelJ["warnings"] = warnings;
    kernelJ["not_applicable"] = {"flows[].send_cost_ns, flows[].send_cost_first_ns (the sender's real cost: "
                                 "flows[].kernel.send_ns_mean, send_ns_profile)",
                                 "reader.wakeup_latency_us, reader.wakeup_quantiles_us, reader.deep_idle_after_us, "
                                 "reader.deep_wakeup_latency_us, reader.deep_wakeup_quantiles_us "
                                 "(the kernel's own: kernel.reader_wakeup_by_sleep, reader_wakeups.csv)",
                                 "reader.encap, reader.sndbuf_bytes, underlay.* (no underlay: the reader is the tunnel exit)",
                                 "tun.softirq_latency_us, tun.softirq_on_reader_cpu, tun.xmit_cost_ns, tun.softirq_cost_ns",
                                 "host.sender_wakeup_latency_us"};

    json out;
    out["tunsim"] = {{"version", TUNSIM_VERSION}, {"git", TUNSIM_GIT_REV}, {"ns3", "3.37"}};
    out["scenario"] = ScenarioToJson(sc);
    out["seed"] = sc.seed;
    out["simulated_s"] = sc.durationS;
    out["flows"] = flows;
    out["tun"] = tunJ;
    out["qdisc"] = qd;
    out["reader"] = rd;
    out["underlay"] = {{"client_qdisc_drops", nullptr}, {"server_qdisc_drops", nullptr}};
    out["conservation"] = cons;
    out["simulated_packets"] = totalSent;
    out["simulator_events"] = nullptr;
    out["wall"] = {{"seconds", wallS},
                   {"simulated_packets_per_wall_s", wallS > 0 ? totalSent / wallS : 0.0},
                   {"events_per_wall_s", nullptr}};
    out["kernel"] = kernelJ;

    std::ostringstream s;
    s << std::fixed << std::setprecision(2);
    s << "tunsim kernel  " << u.sysname << " " << u.release << "  behaves as \"" << tunJ["policy"].get<std::string>()
      << "\" (probe: txqueuelen " << probe["txqueuelen"] << ", burst " << probe["burst_packets"] << " -> tx_dropped "
      << probe["tx_dropped"] << ", qdisc backlog " << probe["qdisc_backlog_packets"] << ")\n";
    s << "  scenario " << sc.name << "  ring " << sc.tun.ringSize << "  qdisc " << NameOf(sc.qdisc.kind) << "  repeats "
      << nr << "\n";
    for (size_t i = 0; i < nf; ++i)
    {
        const json& f = flows[i];
        s << "  flow " << i << " udp/" << NameOf(sc.flows[i].mode) << ": sent " << f["sent_packets"].get<uint64_t>()
          << "  delivered " << f["delivered_packets"].get<uint64_t>() << "  dropped "
          << f["dropped_packets"].get<uint64_t>() << " (" << 100.0 * f["loss_ratio"].get<double>() << " %";
        if (nr > 1)
        {
            s << "; per repeat " << 100.0 * lossStats[i]["mean"].get<double>() << " +- "
              << 100.0 * lossStats[i]["stddev"].get<double>();
        }
        s << ")  goodput " << f["goodput_mbps"].get<double>() << " Mbit/s  delay p50 "
          << f["delay"]["p50_ms"].get<double>() << " ms p99 " << f["delay"]["p99_ms"].get<double>() << " ms\n";
    }
    s << "  tun0: tx_packets " << tot.txPackets << "  tx_dropped " << tot.txDropped;
    if (tot.haveTc)
    {
        s << "  qdisc sent " << tot.tc.sentPackets << " dropped " << tot.tc.dropped << " backlog "
          << tot.tc.backlogPackets << " requeues " << tot.tc.requeues;
    }
    s << "\n  cross-check: " << (allOk ? "ok" : "MISMATCH") << " (sent " << crossTotal["app_sent"]
      << " = received " << crossTotal["reader_received"] << " + tun tx_dropped " << tot.txDropped
      << " + qdisc drops " << (tot.haveTc ? tot.tc.dropped : 0) << " + queued " << stillQueued
      << "; seq-gap loss " << crossTotal["reader_seq_lost"] << ")\n";
    for (const auto& w : warnings)
    {
        s << "  note: " << w.get<std::string>() << "\n";
    }

    Assembled a;
    a.result = std::move(out);
    a.crossOk = allOk && consOk;
    a.summary = s.str();
    return a;
}

/// Remove namespaces a killed tunsim kernel (SIGKILL, power loss) left behind:
/// tunsim-<pid> whose process no longer exists.
void
RemoveStaleNamespaces()
{
    for (const auto& n : kernel::TunsimNamespaces())
    {
        std::string pid = n.substr(7);
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos)
        {
            continue;
        }
        if (std::stoll(pid) == getpid())
        {
            continue;
        }
        if (!std::filesystem::exists("/proc/" + pid))
        {
            Run({"ip", "netns", "del", n});
        }
    }
}

const char* kKernelUsage = R"(usage: tunsim kernel SCENARIO.json [--set key=value]... [--out DIR] [--repeat N] [--quiet]

Run the scenario's UDP flows on this machine's kernel: a real tun device
(txqueuelen = tun.ring_size) with the scenario's root qdisc, in a private
network namespace tunsim-<pid>, a reader that busy-waits the scenario's
per-packet cost, and sequence-numbered senders. Writes DIR/result.json
(default results/<name>-kernel) in the tunsim run schema plus a "kernel"
block; with --repeat N the counters are summed over N runs and
kernel.loss_ratio gives mean and spread. Needs CAP_NET_ADMIN (root).
The namespace is removed on success, error and Ctrl-C. See docs/kernel.md.

exit codes: 0 ok, 2 bad input or missing privileges (nothing written),
3 the kernel's counters do not add up (result written), 130 interrupted.
)";

int
KernelMain(int argc, char** argv)
{
    po::options_description opts("options");
    opts.add_options()("help,h", "show help")("set", po::value<std::vector<std::string>>()->composing(),
                                                 "key=value override")(
        "out", po::value<std::string>(), "output directory")("repeat", po::value<int>()->default_value(1),
                                                              "repeats (1..1000)")(
        "seed", po::value<std::string>(), "seed (rate/Poisson pattern only)")("quiet,q", "no summary");
    po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"scenario", -1}}, "kernel");
    if (vm.count("help"))
    {
        std::cout << kKernelUsage;
        return kExitOk;
    }
    std::vector<std::string> files;
    if (vm.count("scenario"))
    {
        files = vm["scenario"].as<std::vector<std::string>>();
    }
    if (files.size() != 1)
    {
        throw BadInput("usage: tunsim kernel takes exactly one SCENARIO.json (see tunsim kernel --help)");
    }
    int repeat = vm["repeat"].as<int>();
    if (repeat < 1 || repeat > 1000)
    {
        throw BadInput("--repeat: must be an integer in [1, 1000], got " + std::to_string(repeat));
    }

    json j = LoadScenarioJson(files[0]);
    if (vm.count("set"))
    {
        for (const auto& s : vm["set"].as<std::vector<std::string>>())
        {
            ApplySet(j, s);
        }
    }
    if (vm.count("seed"))
    {
        ApplySet(j, "seed=" + vm["seed"].as<std::string>());
    }
    Scenario sc = ScenarioFromJson(j);

    // What a live kernel here can run.
    if (sc.qdisc.kind == QdiscKind::FqCodel)
    {
        throw ScenarioError("qdisc.kind", "\"" + std::string(NameOf(sc.qdisc.kind)) +
                                              "\" is not available for tunsim kernel on this kernel (no "
                                              "modules; built-in root qdiscs only); allowed here: pfifo_fast, pfifo, noqueue");
    }
    if (sc.qdisc.kind == QdiscKind::PfifoFast && sc.qdisc.limit != 0)
    {
        throw ScenarioError("qdisc.limit", "Linux pfifo_fast takes its limit from txqueuelen; use 0 "
                                           "(or qdisc.kind pfifo), got " + std::to_string(sc.qdisc.limit));
    }
    for (size_t i = 0; i < sc.flows.size(); ++i)
    {
        if (sc.flows[i].kind != FlowKind::Udp)
        {
            throw ScenarioError("flows[" + std::to_string(i) + "].kind",
                                "tunsim kernel runs udp flows only (flood, "
                                "rate, bursts), got \"" + std::string(NameOf(sc.flows[i].kind)) + "\"");
        }
        if (sc.flows[i].mode == UdpMode::Video)
        {
            throw ScenarioError("flows[" + std::to_string(i) + "].mode",
                                "tunsim kernel runs the udp modes flood, rate and bursts; not \"video\"");
        }
    }
    if (sc.flows.size() > 64)
    {
        throw ScenarioError("flows", "tunsim kernel runs at most 64 flows");
    }
    const uint32_t qdiscLimit = sc.qdisc.limit ? sc.qdisc.limit : std::max<uint32_t>(sc.tun.ringSize, 1);

    std::string why;
    if (!kernel::HavePrivileges(&why))
    {
        throw BadInput("kernel: " + why);
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
    {
        throw BadInput(std::string("kernel: /dev/net/tun: ") + std::strerror(errno) + " (no tun support?)");
    }

    std::string out = vm.count("out") ? vm["out"].as<std::string>() : ("results/" + sc.name + "-kernel");
    {
        std::error_code ec;
        std::filesystem::path p(out);
        if (std::filesystem::exists(p, ec) && !std::filesystem::is_directory(p, ec))
        {
            throw BadInput("--out: " + out + " exists and is not a directory");
        }
    }
    const bool quiet = vm.count("quiet") > 0;

    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);

    RemoveStaleNamespaces();
    const int64_t wall0 = NowNs();
    std::vector<Repeat> reps;
    json probe;
    json calibration;
    std::string nsName = "tunsim-" + std::to_string(getpid());
    {
        Netns ns(nsName);
        InNamespace(ns.Fd(), []() {
            WriteProc("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", false);
            WriteProc("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1", false);
        });
        if (Interrupted())
        {
            throw InterruptedError();
        }
        probe = PolicyProbe(ns, 1, 32, 64);
        calibration = Calibrate(ns, sc.flows[0].payloadBytes);
        for (int k = 0; k < repeat; ++k)
        {
            if (Interrupted())
            {
                throw InterruptedError();
            }
            reps.push_back(RunOnce(ns, sc, qdiscLimit));
            if (!quiet && repeat > 1)
            {
                std::cerr << "tunsim kernel: repeat " << (k + 1) << "/" << repeat << " done\n";
            }
        }
    }
    if (Interrupted())
    {
        throw InterruptedError();
    }
    double wallS = (NowNs() - wall0) / 1e9;
    Assembled a = Assemble(sc, qdiscLimit, reps, probe, calibration, nsName, wallS);
    WriteResult(out, RunResultFromJson(a.result));
    {
        // Every (sleep, wake) pair, for calibration (scripts/validate-kernel.sh).
        std::ofstream csv(std::filesystem::path(out) / "reader_wakeups.csv");
        csv << "repeat,sleep_ns,wake_ns\n";
        for (size_t k = 0; k < reps.size(); ++k)
        {
            for (const auto& [sl, wk] : reps[k].reader.sleepWakeNs)
            {
                csv << (k + 1) << ',' << sl << ',' << wk << '\n';
            }
        }
    }
    if (repeat > 1)
    {
        for (size_t k = 0; k < reps.size(); ++k)
        {
            std::vector<Repeat> one;
            one.push_back(std::move(reps[k]));
            Assembled r = Assemble(sc, qdiscLimit, one, probe, calibration, nsName, one[0].wallS);
            WriteResult((std::filesystem::path(out) / "repeats" / std::to_string(k + 1)).string(), RunResultFromJson(r.result));
        }
    }
    if (!quiet)
    {
        std::cout << a.summary;
        std::cout << "  result: " << (std::filesystem::path(out) / "result.json").string() << "\n";
    }
    if (!a.crossOk)
    {
        std::cerr << "tunsim kernel: the kernel's counters do not add up: see kernel.cross_check in "
                  << (std::filesystem::path(out) / "result.json").string() << "\n";
        return kExitCrossCheck;
    }
    return kExitOk;
}

} // namespace

namespace kernel
{

bool
HavePrivileges(std::string* why)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    uint64_t eff = 0;
    while (std::getline(in, line))
    {
        if (line.rfind("CapEff:", 0) == 0)
        {
            eff = std::stoull(line.substr(7), nullptr, 16);
        }
    }
    const bool netAdmin = eff & (1ULL << 12);
    const bool sysAdmin = eff & (1ULL << 21);
    if (netAdmin && sysAdmin)
    {
        return true;
    }
    if (why)
    {
        std::string missing = !netAdmin && !sysAdmin ? "CAP_NET_ADMIN and CAP_SYS_ADMIN"
                              : !netAdmin            ? "CAP_NET_ADMIN"
                                                     : "CAP_SYS_ADMIN";
        *why = "needs CAP_NET_ADMIN (a tun device, tc) and CAP_SYS_ADMIN (a network namespace); this process "
               "(uid " + std::to_string(getuid()) + ") lacks " + missing + ": run it as root";
    }
    return false;
}

TcStats
ParseTcJson(const std::string& text)
{
    json j;
    try
    {
        j = json::parse(text);
    }
    catch (const json::exception& e)
    {
        throw std::runtime_error(std::string("tc -j output is not JSON: ") + e.what());
    }
    if (!j.is_array())
    {
        throw std::runtime_error("tc -j output is not a JSON array");
    }
    for (const auto& q : j)
    {
        if (!q.value("root", false))
        {
            continue;
        }
        TcStats s;
        s.kind = q.value("kind", "");
        s.sentBytes = q.value("bytes", uint64_t{0});
        s.sentPackets = q.value("packets", uint64_t{0});
        s.dropped = q.value("drops", uint64_t{0});
        s.overlimits = q.value("overlimits", uint64_t{0});
        s.requeues = q.value("requeues", uint64_t{0});
        s.backlogBytes = q.value("backlog", uint64_t{0});
        s.backlogPackets = q.value("qlen", uint64_t{0});
        return s;
    }
    throw std::runtime_error("tc -j output has no root qdisc");
}

std::vector<std::string>
TunsimNamespaces()
{
    std::vector<std::string> v;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec))
    {
        std::string n = e.path().filename().string();
        if (n.rfind("tunsim-", 0) == 0)
        {
            v.push_back(n);
        }
    }
    std::sort(v.begin(), v.end());
    return v;
}

uint32_t
RingBatch(uint32_t size)
{
    // SMP_CACHE_BYTES (64) * 2 / sizeof(void *) = 16; 1 if that exceeds size / 2.
    uint32_t batch = 16;
    if (batch > size / 2 || batch == 0)
    {
        batch = 1;
    }
    return batch;
}

} // namespace kernel

int
KernelCommand(int argc, char** argv)
{
    // Not RunCommand(): an interruption (exit 130) and an error while
    // interrupted need their own codes.
    try
    {
        return KernelMain(argc, argv);
    }
    catch (const ScenarioError& e)
    {
        std::cerr << "tunsim: " << e.what() << "\n";
        return kExitBadInput;
    }
    catch (const BadInput& e)
    {
        std::cerr << "tunsim: " << e.what() << "\n";
        return kExitBadInput;
    }
    catch (const InterruptedError&)
    {
        std::cerr << "tunsim: kernel: interrupted; namespace removed, nothing written\n";
        return kExitInterrupted;
    }
    catch (const std::exception& e)
    {
        std::cerr << "tunsim: kernel: error: " << e.what() << "\n";
        return Interrupted() ? kExitInterrupted : kExitFailure;
    }
}

} // namespace tunsim
