// What tunsim kernel does to the host: ip and tc by fork + exec, the private
// network namespace and the tun device (both RAII: removed on every exit
// path), /proc writes, the root qdisc and its counters, the privilege check,
// and the signal flag every wait polls.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tunsim
{
namespace kernel
{

// ------------------------------------------------------------ signals

/// SIGINT, SIGTERM and SIGHUP only set a flag (Interrupted()); every wait and
/// loop polls it, so an interrupted run unwinds through the destructors.
void InstallSignalHandlers();

/// A signal arrived.
bool Interrupted();

/// Thrown where a loop notices Interrupted(): exit 130, nothing written.
struct InterruptedError : std::runtime_error
{
    InterruptedError()
        : std::runtime_error("interrupted")
    {
    }
};

/// Throw InterruptedError if a signal arrived.
void ThrowIfInterrupted();

// ------------------------------------------------------------ ip / tc

struct CmdResult
{
    int code = -1;
    std::string out;
};

/// fork + execvp, stdout and stderr captured; the child gets its own process
/// group so a terminal's SIGINT does not kill half-done setup or cleanup.
CmdResult Run(const std::vector<std::string>& args);

/// Run(); a non-zero exit is a std::runtime_error with the command's output.
std::string MustRun(const std::vector<std::string>& args);

/// Run `fn` on a fresh thread that has joined network namespace `nsfd`;
/// rethrows its exception.
void InNamespace(int nsfd, const std::function<void()>& fn);

/// Threads that each join a network namespace and a CPU, and are joined
/// on destruction after `stopAll` told them to end (so that an error or a
/// signal unwinds through a run without leaving a thread behind).
class ThreadGroup
{
  public:
    explicit ThreadGroup(std::function<void()> stopAll);
    ~ThreadGroup();
    ThreadGroup(const ThreadGroup&) = delete;
    ThreadGroup& operator=(const ThreadGroup&) = delete;

    /// Run `fn` on a new thread in namespace `nsfd`, pinned to `cpu` (PinToCpu).
    void Start(int nsfd, int cpu, std::function<void()> fn);

    /// Join every thread started so far; rethrow the first exception.
    void JoinAll();

  private:
    std::function<void()> m_stopAll;
    std::vector<std::thread> m_threads;
    std::deque<std::exception_ptr> m_errors; ///< one per thread (stable addresses)
};

/// The network namespace: `ip netns add` on construction, `ip netns del` on
/// destruction (also during stack unwinding after an error or a signal).
/// Before it is created, its owner marker (/run/tunsim/NAME.owner: this
/// process's pid and start time) is written; it is removed with the
/// namespace. A namespace NAME that exists already is not taken over (a
/// std::runtime_error, nothing marked).
class Netns
{
  public:
    explicit Netns(std::string name);
    ~Netns();
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    int Fd() const { return m_fd; }
    const std::string& Name() const { return m_name; }

    /// `ip -n NAME args...`, `tc -n NAME args...` (MustRun).
    std::string Ip(std::vector<std::string> args) const;
    std::string Tc(std::vector<std::string> args) const;
    /// Files under /sys/class/net as this namespace sees them (ip netns exec
    /// mounts a sysfs of the namespace in a private mount namespace).
    std::vector<uint64_t> Sysfs(const std::string& dev, const std::vector<std::string>& files) const;
    /// The namespace's TCP MIB counters: /proc/net/netstat's TcpExt and
    /// /proc/net/snmp's Tcp lines as this namespace sees them (net/ipv4/proc.c:
    /// netstat_seq_show(), snmp_seq_show_tcp_udp()), keyed "TcpExt.NAME" and
    /// "Tcp.NAME".
    std::map<std::string, int64_t> TcpMib() const;

  private:
    std::string m_name;
    int m_fd = -1;
};

/// The counters of /proc/net/netstat + /proc/net/snmp text (Netns::TcpMib()).
std::map<std::string, int64_t> ParseProcNetMib(const std::string& text);
/// after - before, the counters that moved (gauges such as Tcp.CurrEstab left out).
std::map<std::string, int64_t> MibDelta(const std::map<std::string, int64_t>& before,
                                        const std::map<std::string, int64_t>& after);

/// Write `value` to a /proc file; a missing file is an error only if `mustExist`.
void WriteProc(const std::string& path, const std::string& value, bool mustExist);

/// IPv6 off for the namespace (net.ipv6.conf.{default,all}.disable_ipv6), so
/// no router solicitations add packets or drops.
void DisableIpv6(const Netns& ns);

/// A non-persistent tun device (IFF_TUN | IFF_NO_PI): it exists while the fd
/// is open, in the namespace of the thread that opened it. txqueuelen, the
/// address and the link state are set with ip.
class TunDevice
{
  public:
    TunDevice(const Netns& ns, const std::string& name, uint32_t txqueuelen, const std::string& addrCidr);
    ~TunDevice();
    TunDevice(const TunDevice&) = delete;
    TunDevice& operator=(const TunDevice&) = delete;
    int Fd() const { return m_fd; }
    const std::string& Name() const { return m_name; }

  private:
    std::string m_name;
    int m_fd = -1;
};

// ------------------------------------------------------------ the qdisc

/// Counters of `tc -s -j qdisc show dev DEV` for the root qdisc.
struct TcStats
{
    std::string kind;
    uint64_t sentPackets = 0;
    uint64_t sentBytes = 0;
    uint64_t dropped = 0;
    uint64_t overlimits = 0;
    uint64_t requeues = 0;
    uint64_t backlogPackets = 0;
    uint64_t backlogBytes = 0;
};

/// `tc qdisc replace dev DEV root KIND` (`limit` for pfifo only).
void SetQdisc(const Netns& ns, const std::string& dev, const std::string& kind, uint32_t limit);

/// The root qdisc's counters (tc -s -j).
TcStats QdiscStats(const Netns& ns, const std::string& dev);

/// Parse the JSON `tc -s -j qdisc show dev DEV` prints (the root qdisc entry).
/// Throws std::runtime_error if there is none.
TcStats ParseTcJson(const std::string& text);

/// One tun device's counters after a run: sysfs and, with a qdisc, tc.
struct DeviceCounters
{
    uint64_t txPackets = 0;  ///< packets the reader read (tun counts them in tun_put_user())
    uint64_t txBytes = 0;
    uint64_t txDropped = 0;  ///< tun_net_xmit() found the ring full (and noqueue drops)
    uint64_t rxPackets = 0;  ///< packets written into the device
    uint64_t rxDropped = 0;
    uint64_t txQueueLen = 0;
    TcStats tc;
    bool haveTc = false;     ///< a qdisc to count (not noqueue)

    /// What the qdisc handed to tun_net_xmit() (tc sent, in segments) minus
    /// what tun dropped and what was read: entries still in the ring (0
    /// without a qdisc: nothing counts what reached the device).
    int64_t RingLeft() const
    {
        return haveTc ? static_cast<int64_t>(tc.sentPackets) - static_cast<int64_t>(txDropped) -
                            static_cast<int64_t>(txPackets)
                      : 0;
    }

    /// Pooled over repeats: counters added; txqueuelen and the qdisc kind kept.
    void Add(const DeviceCounters& o);
};

/// `dev`'s sysfs statistics and, when `haveQdisc`, its root qdisc's counters.
DeviceCounters ReadDeviceCounters(const Netns& ns, const std::string& dev, bool haveQdisc);

// ------------------------------------------------------------ the host

/// Does this process have CAP_NET_ADMIN and CAP_SYS_ADMIN (both needed: a tun
/// device and a network namespace)? If not, `why` says what is missing.
bool HavePrivileges(std::string* why);

/// Names of network namespaces under /run/netns that tunsim kernel creates
/// ("tunsim-<pid>", and others beginning "tunsim-").
std::vector<std::string> TunsimNamespaces();

/// Where Netns marks the namespaces it creates: /run/tunsim/<name>.owner,
/// one line "<pid> <start time>" (field 22 of /proc/<pid>/stat).
std::string OwnerMarkerPath(const std::string& nsName);

/// The start time of process `pid` (field 22 of /proc/<pid>/stat, clock
/// ticks after boot); "" when there is no such process.
std::string ProcessStartTime(long pid);

/// Remove the namespaces a killed tunsim kernel (SIGKILL, power loss) left
/// behind, and only those: a namespace whose owner marker names a process
/// that no longer exists (its pid gone, or reused by a process with another
/// start time). A namespace without a marker (`ip netns add tunsim-999999`
/// by someone else) or whose creator still runs is left alone. Markers of
/// dead owners whose namespace is gone are removed too.
void RemoveStaleNamespaces();

} // namespace kernel
} // namespace tunsim
