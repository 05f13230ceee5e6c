// The host side of tunsim kernel (see host.h): ip/tc, namespace, tun device,
// qdisc counters, privileges, signals.
#include "host.h"

#include "clock.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

// ------------------------------------------------------------ signals

namespace
{

std::atomic<int> g_signal{0};

extern "C" void
OnSignal(int sig)
{
    g_signal.store(sig);
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

} // namespace

void
InstallSignalHandlers()
{
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
}

bool
Interrupted()
{
    return g_signal.load() != 0;
}

void
ThrowIfInterrupted()
{
    if (Interrupted())
    {
        throw InterruptedError();
    }
}

// ------------------------------------------------------------ ip / tc

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

void
InNamespace(int nsfd, const std::function<void()>& fn)
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

namespace
{

constexpr const char* kMarkerDir = "/run/tunsim";

/// /run/tunsim/NAME.owner := "<pid> <start time>", written atomically.
void
WriteOwnerMarker(const std::string& ns)
{
    ::mkdir(kMarkerDir, 0755); // EEXIST is fine; a failure shows below
    const std::string path = OwnerMarkerPath(ns);
    const std::string tmp = path + ".tmp";
    const std::string text = std::to_string(getpid()) + " " + ProcessStartTime(getpid()) + "\n";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int err = errno;
    if (fd >= 0)
    {
        ::close(fd);
    }
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    {
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write the namespace's owner marker " + path + ": " +
                                 std::strerror(ok ? errno : err));
    }
}

/// The marker of `ns` names a process that no longer runs: its pid is gone
/// or belongs to a process started at another time. False without a
/// (well-formed) marker.
bool
OwnerIsGone(const std::string& ns)
{
    std::ifstream in(OwnerMarkerPath(ns));
    long pid = 0;
    std::string start;
    if (!(in >> pid >> start) || pid <= 0 || start.find_first_not_of("0123456789") != std::string::npos)
    {
        return false;
    }
    return ProcessStartTime(pid) != start;
}

/// `ip netns del NS`, then its marker once the namespace is gone (a marker
/// stays while its namespace does, so a later run can remove both).
void
DeleteMarkedNamespace(const std::string& ns)
{
    if (std::filesystem::exists("/run/netns/" + ns))
    {
        Run({"ip", "netns", "del", ns});
    }
    if (!std::filesystem::exists("/run/netns/" + ns))
    {
        ::unlink(OwnerMarkerPath(ns).c_str());
    }
}

} // namespace

ThreadGroup::ThreadGroup(std::function<void()> stopAll)
    : m_stopAll(std::move(stopAll))
{
}

ThreadGroup::~ThreadGroup()
{
    m_stopAll();
    for (auto& t : m_threads)
    {
        if (t.joinable())
        {
            t.join();
        }
    }
}

void
ThreadGroup::Start(int nsfd, int cpu, std::function<void()> fn)
{
    m_errors.emplace_back();
    std::exception_ptr& err = m_errors.back();
    m_threads.emplace_back([nsfd, cpu, fn = std::move(fn), &err]() {
        try
        {
            if (setns(nsfd, CLONE_NEWNET) != 0)
            {
                throw std::runtime_error(std::string("setns: ") + std::strerror(errno));
            }
            PinToCpu(cpu);
            fn();
        }
        catch (...)
        {
            err = std::current_exception();
        }
    });
}

void
ThreadGroup::JoinAll()
{
    for (auto& t : m_threads)
    {
        if (t.joinable())
        {
            t.join();
        }
    }
    for (const auto& e : m_errors)
    {
        if (e)
        {
            std::rethrow_exception(e);
        }
    }
}

Netns::Netns(std::string name)
    : m_name(std::move(name))
{
    if (std::filesystem::exists("/run/netns/" + m_name))
    {
        throw std::runtime_error("network namespace " + m_name +
                                 " exists already and was not made by this process; not touching it");
    }
    WriteOwnerMarker(m_name);
    try
    {
        MustRun({"ip", "netns", "add", m_name});
    }
    catch (...)
    {
        ::unlink(OwnerMarkerPath(m_name).c_str());
        throw;
    }
    m_fd = open(("/run/netns/" + m_name).c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0)
    {
        int e = errno;
        DeleteMarkedNamespace(m_name);
        throw std::runtime_error("open /run/netns/" + m_name + ": " + std::strerror(e));
    }
}

Netns::~Netns()
{
    if (m_fd >= 0)
    {
        close(m_fd);
    }
    DeleteMarkedNamespace(m_name);
}

std::string
Netns::Ip(std::vector<std::string> args) const
{
    args.insert(args.begin(), {"ip", "-n", m_name});
    return MustRun(args);
}

std::string
Netns::Tc(std::vector<std::string> args) const
{
    args.insert(args.begin(), {"tc", "-n", m_name});
    return MustRun(args);
}

std::vector<uint64_t>
Netns::Sysfs(const std::string& dev, const std::vector<std::string>& files) const
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

std::map<std::string, int64_t>
ParseProcNetMib(const std::string& text)
{
    // Each group is two lines: "Group: name name ..." then "Group: value value ...".
    std::map<std::string, int64_t> mib;
    std::istringstream in(text);
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values))
    {
        std::istringstream n(names), v(values);
        std::string group, vgroup, name;
        n >> group;
        v >> vgroup;
        if (group != vgroup || (group != "TcpExt:" && group != "Tcp:"))
        {
            continue;
        }
        group.pop_back();
        int64_t x = 0;
        while (n >> name && v >> x)
        {
            mib[group + "." + name] = x;
        }
    }
    return mib;
}

std::map<std::string, int64_t>
Netns::TcpMib() const
{
    return ParseProcNetMib(MustRun({"ip", "netns", "exec", m_name, "cat", "/proc/net/netstat", "/proc/net/snmp"}));
}

std::map<std::string, int64_t>
MibDelta(const std::map<std::string, int64_t>& before, const std::map<std::string, int64_t>& after)
{
    std::map<std::string, int64_t> d;
    for (const auto& [k, v] : after)
    {
        const auto b = before.find(k);
        const int64_t x = v - (b == before.end() ? 0 : b->second);
        if (x != 0 && k != "Tcp.CurrEstab" && k != "Tcp.MaxConn" && k.rfind("Tcp.Rto", 0) != 0)
        {
            d[k] = x; // counters only: the gauges and constants of the Tcp group left out
        }
    }
    return d;
}

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

void
DisableIpv6(const Netns& ns)
{
    InNamespace(ns.Fd(), []() {
        WriteProc("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", false);
        WriteProc("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1", false);
    });
}

TunDevice::TunDevice(const Netns& ns, const std::string& name, uint32_t txqueuelen, const std::string& addrCidr)
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

TunDevice::~TunDevice()
{
    if (m_fd >= 0)
    {
        close(m_fd);
    }
}

// ------------------------------------------------------------ the host

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

std::string
OwnerMarkerPath(const std::string& nsName)
{
    return std::string(kMarkerDir) + "/" + nsName + ".owner";
}

std::string
ProcessStartTime(long pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    // "pid (comm) state ppid ...": comm may hold spaces and ')', so count
    // the fields after its last ')'; starttime is field 22, state field 3.
    const size_t close = line.rfind(')');
    if (close == std::string::npos)
    {
        return "";
    }
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22 && (rest >> field); ++i)
    {
    }
    return rest ? field : "";
}

void
RemoveStaleNamespaces()
{
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(kMarkerDir, ec))
    {
        const std::string file = e.path().filename().string();
        const std::string suffix = ".owner";
        if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
        {
            continue;
        }
        const std::string ns = file.substr(0, file.size() - suffix.size());
        if (!OwnerIsGone(ns))
        {
            continue; // its creator still runs (this process included), or the marker is not one of ours
        }
        DeleteMarkedNamespace(ns);
    }
}
} // namespace kernel
} // namespace tunsim
