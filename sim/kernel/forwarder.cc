// The VPN endpoints of the TCP twin (see forwarder.h).
#include "forwarder.h"

#include "clock.h"
#include "traffic.h"
#include "unaligned-be.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

TcpSeen
ParseTcpPacket(const uint8_t* b, size_t n, uint32_t nflows, bool forward)
{
    TcpSeen s;
    if (n < 20 || (b[0] >> 4) != 4 || b[9] != IPPROTO_TCP)
    {
        return s;
    }
    const size_t ihl = (b[0] & 0x0f) * 4u;
    if (n < ihl + 20)
    {
        return s;
    }
    const uint8_t* t = b + ihl;
    const uint16_t port = GetUnalignedBe16(forward ? t + 2 : t);
    if (port < kFirstPort || port >= kFirstPort + nflows)
    {
        return s;
    }
    const size_t total = GetUnalignedBe16(b + 2);
    const size_t doff = (t[12] >> 4) * 4u;
    s.flow = port - kFirstPort;
    s.data = total > ihl + doff;
    s.ackFlag = (t[13] & 0x10) != 0;
    s.ack = GetUnalignedBe32(t + 8);
    return s;
}

namespace
{

constexpr int64_t kPollCapNs = 5000000;      ///< the longest poll(): stop and end requests are seen by then
constexpr size_t kMaxSamples = 20000000;     ///< delay and lateness samples kept per run

/// One endpoint: its loop and what it keeps between steps.
class Endpoint
{
  public:
    Endpoint(int fd, DelayLine& in, DelayLine& out, const EndpointConfig& cfg, TwinControl& ctl, EndStats& st,
             std::vector<FlowPath>& paths, LiveCounters* live)
        : m_fd(fd),
          m_in(in),
          m_out(out),
          m_cfg(cfg),
          m_ctl(ctl),
          m_st(st),
          m_paths(paths),
          m_live(live),
          m_buf(65536)
    {
    }

    void Run()
    {
        // poll() and nanosleep() wake within a microsecond of their time,
        // not the default 50 us timer slack later.
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
        if (m_cfg.rtPriority > 0)
        {
            sched_param sp{};
            sp.sched_priority = m_cfg.rtPriority;
            m_st.realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
        }
        while (!m_ctl.stop.load() && !Interrupted())
        {
            if (m_cfg.readsForward && m_ctl.endRequested.load() && !m_ctl.endDone.load())
            {
                m_ctl.endAction();
                m_ctl.endDone.store(true);
            }
            const int64_t t0 = m_ctl.t0.load();
            if (m_cfg.costs && t0 != INT64_MAX)
            {
                const int64_t stallEnd = StallEndAt(*m_cfg.costs, t0, NowNs());
                if (stallEnd > 0)
                {
                    WaitUntil(stallEnd, &m_ctl.stop);
                    continue;
                }
            }
            bool did = WriteDue();
            did = ReadSome() || did;
            if (did)
            {
                m_st.wakeups += m_slept ? 1 : 0;
                m_slept = false;
                continue;
            }
            Sleep();
        }
        rusage ru;
        if (getrusage(RUSAGE_THREAD, &ru) == 0)
        {
            m_st.cpuS = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
            m_st.involuntarySwitches = static_cast<uint64_t>(ru.ru_nivcsw);
        }
    }

  private:
    static void KeepSample(std::vector<int64_t>& v, int64_t x)
    {
        if (v.size() < kMaxSamples)
        {
            v.push_back(x);
        }
    }

    /// The scenario's cost of a packet of `len` bytes (0 for the far end).
    int64_t Cost(size_t len) const
    {
        return m_cfg.costs ? static_cast<int64_t>(m_cfg.costs->perPacketNs +
                                                  m_cfg.costs->nsPerByte * static_cast<double>(len))
                           : 0;
    }

    /// SpinUntil(t); every gap in the spin that lies inside the measurement
    /// window goes to stolenNs (SpinUntilNotingGaps). Preemptions outside
    /// the cost spins (inside read() or write()) are not seen.
    void SpinCountingStolen(int64_t t)
    {
        SpinUntilNotingGaps(t, [this](int64_t from, int64_t to) {
            if (from >= m_ctl.t0.load(std::memory_order_relaxed) &&
                to <= m_ctl.tEnd.load(std::memory_order_relaxed) && m_st.stolenNs.size() < kMaxSamples)
            {
                m_st.stolenNs.push_back(to - from);
            }
        });
    }

    /// Busy time [a, b) inside the measurement window.
    void Busy(int64_t a, int64_t b)
    {
        const int64_t lo = std::max(a, m_ctl.t0.load(std::memory_order_relaxed));
        const int64_t hi = std::min(b, m_ctl.tEnd.load(std::memory_order_relaxed));
        m_st.busyNs += hi > lo ? hi - lo : 0;
    }

    /// (1) Every packet of the incoming line that is due: busy-wait its cost,
    /// write() it into the device.
    bool WriteDue()
    {
        bool did = false;
        int64_t prevStart = -1; // the previous write of this run
        while (m_in.PopDue(NowNs(), m_pkt))
        {
            const int64_t start = NowNs();
            if (prevStart >= 0)
            {
                KeepSample(m_st.serviceNs, start - prevStart);
            }
            prevStart = start;
            if (m_st.lateNs.size() < kMaxSamples)
            {
                m_st.lateNs.push_back(start - m_pkt.dueNs);
            }
            if (m_slept && !did && m_pkt.dueNs >= m_sleptAt && m_st.wakeLateNs.size() < kMaxSamples)
            {
                // Due while the thread slept: how late poll() returned.
                m_st.wakeLateNs.push_back(start - m_pkt.dueNs);
            }
            SpinCountingStolen(start + Cost(m_pkt.bytes.size()));
            const int64_t w0 = NowNs();
            const ssize_t r = write(m_fd, m_pkt.bytes.data(), m_pkt.bytes.size());
            const int64_t w1 = NowNs();
            m_st.writeNsTotal += w1 - w0;
            Busy(start, w1);
            did = true;
            if (r != static_cast<ssize_t>(m_pkt.bytes.size()))
            {
                ++m_st.writeErrors;
                continue;
            }
            ++m_st.writes;
            m_st.writeBytes += m_pkt.bytes.size();
            if (m_live)
            {
                m_live->writes.store(m_st.writes, std::memory_order_relaxed);
            }
            CountWritten(w0);
        }
        if (prevStart >= 0)
        {
            KeepSample(m_st.serviceNs, NowNs() - prevStart); // the run's last
        }
        if (did)
        {
            (m_cfg.readsForward ? m_ctl.readerLastNs : m_ctl.farLastNs).store(NowNs());
        }
        return did;
    }

    /// A packet written into the device: the flow's counters.
    void CountWritten(int64_t w0)
    {
        const TcpSeen s =
            ParseTcpPacket(m_pkt.bytes.data(), m_pkt.bytes.size(), m_cfg.nflows, !m_cfg.readsForward);
        if (s.flow < 0)
        {
            return;
        }
        FlowPath& p = m_paths[static_cast<size_t>(s.flow)];
        if (m_cfg.readsForward)
        {
            ++p.revWritten;
            if (s.ackFlag)
            {
                // Serial-number arithmetic: an ACK behind the last one (reordered) counts 0.
                const int32_t d = p.haveAck ? static_cast<int32_t>(s.ack - p.lastAck) : 0;
                if (p.ackStrideBytes.size() < kMaxSamples && p.haveAck)
                {
                    p.ackStrideBytes.push_back(d > 0 ? static_cast<uint32_t>(d) : 0u);
                }
                if (!p.haveAck || d > 0)
                {
                    p.lastAck = s.ack;
                }
                p.haveAck = true;
            }
            return;
        }
        ++p.fwdWritten;
        if (s.data)
        {
            ++p.fwdDataWritten;
            if (p.delayNs.size() < kMaxSamples)
            {
                p.delayNs.push_back(w0 - m_pkt.readNs);
            }
        }
    }

    /// (2) read() one packet (the far end: all there are), busy-wait its
    /// cost from the start of the read(), push it to the outgoing line.
    bool ReadSome()
    {
        bool did = false;
        do
        {
            const int64_t start = NowNs();
            const ssize_t n = read(m_fd, m_buf.data(), m_buf.size());
            if (n < 0)
            {
                if (errno != EAGAIN && errno != EINTR)
                {
                    throw std::runtime_error(std::string("read tun: ") + std::strerror(errno));
                }
                break;
            }
            const int64_t afterRead = NowNs();
            m_st.readNsTotal += afterRead - start;
            SpinCountingStolen(start + Cost(static_cast<size_t>(n)));
            const int64_t done = NowNs();
            Busy(start, done);
            CountRead(static_cast<size_t>(n));
            if (!m_out.Push(std::vector<uint8_t>(m_buf.begin(), m_buf.begin() + n), start, done))
            {
                ++m_st.lineDrops;
            }
            (m_cfg.readsForward ? m_ctl.readerLastNs : m_ctl.farLastNs).store(done);
            did = true;
        } while (m_cfg.readAll);
        return did;
    }

    void CountRead(size_t n)
    {
        ++m_st.reads;
        m_st.readBytes += n;
        if (m_live)
        {
            m_live->reads.store(m_st.reads, std::memory_order_relaxed);
        }
        const TcpSeen s = ParseTcpPacket(m_buf.data(), n, m_cfg.nflows, m_cfg.readsForward);
        if (s.flow < 0)
        {
            ++m_st.untracked;
            return;
        }
        FlowPath& p = m_paths[static_cast<size_t>(s.flow)];
        if (m_cfg.readsForward)
        {
            ++p.fwdRead;
            p.fwdDataRead += s.data ? 1 : 0;
        }
        else
        {
            ++p.revRead;
        }
    }

    /// (3) Nothing read, nothing due: poll() the device and the incoming
    /// line's event until the line's head is due (at most kPollCapNs).
    void Sleep()
    {
        const int64_t now = NowNs();
        const int64_t due = m_in.NextDue();
        int64_t wait = due < 0 ? kPollCapNs : std::min(due - now, kPollCapNs);
        if (wait <= 0)
        {
            return;
        }
        ++m_st.sleeps;
        if (m_live)
        {
            m_live->sleeps.store(m_st.sleeps, std::memory_order_relaxed);
        }
        m_slept = true;
        m_sleptAt = now;
        pollfd p[2] = {{m_fd, POLLIN, 0}, {m_in.EventFd(), POLLIN, 0}};
        const timespec ts{static_cast<time_t>(wait / 1000000000LL), static_cast<long>(wait % 1000000000LL)};
        if (ppoll(p, 2, &ts, nullptr) > 0 && (p[1].revents & POLLIN))
        {
            m_in.ClearEvent();
        }
    }

    const int m_fd;
    DelayLine& m_in;
    DelayLine& m_out;
    const EndpointConfig& m_cfg;
    TwinControl& m_ctl;
    EndStats& m_st;
    std::vector<FlowPath>& m_paths;
    LiveCounters* m_live;
    std::vector<uint8_t> m_buf;
    LinePacket m_pkt;
    bool m_slept = false;
    int64_t m_sleptAt = 0; ///< when the last poll() began
};

} // namespace

void
RunEndpoint(int fd, DelayLine& in, DelayLine& out, const EndpointConfig& cfg, TwinControl& ctl, EndStats& st,
            std::vector<FlowPath>& paths, LiveCounters* live)
{
    Endpoint(fd, in, out, cfg, ctl, st, paths, live).Run();
}

} // namespace kernel
} // namespace tunsim
