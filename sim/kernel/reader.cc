// The reader thread of tunsim kernel (declared in traffic.h): it reads tun0
// as the VPN process would (reader.loop: read-until-empty, poll-each or
// batched, as VpnReader does; reader-loop.h), busy-waits the scenario's
// per-packet cost, and
// counts per flow what arrived, the sequence gaps, the delays and the
// reader's wake-ups after it slept.
#include "traffic.h"

#include "clock.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <poll.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

namespace
{

/// The reader thread: its loop, and what it keeps between packets.
class Reader
{
  public:
    Reader(int fd, const Scenario& sc, int64_t t0, int64_t tEnd, std::vector<FlowStats>& flows, ReaderStats& rs,
           const std::atomic<bool>& sendersDone, int64_t idleNs, int64_t drainCapNs)
        : m_fd(fd),
          m_sc(sc),
          m_t0(t0),
          m_tEnd(tEnd),
          m_flows(flows),
          m_rs(rs),
          m_sendersDone(sendersDone),
          m_idleNs(idleNs),
          m_drainCapNs(drainCapNs),
          m_buf(65536)
    {
        if (sc.reader.loop != ReaderLoop::ReadUntilEmpty)
        {
            // A tun packet is at most the MTU (1500) plus headroom; 64 KiB
            // covers any MTU the device could be given.
            const uint32_t slots = sc.reader.loop == ReaderLoop::PollEach ? 1 : sc.reader.batch;
            m_slots.assign(slots, std::vector<uint8_t>(65536));
            m_lens.assign(slots, 0);
        }
    }

    void Run()
    {
        for (;;)
        {
            if (Interrupted())
            {
                return;
            }
            if (WaitOutStall())
            {
                continue;
            }
            const bool done = m_sc.reader.loop == ReaderLoop::ReadUntilEmpty ? ReadOne() : PollThenRead();
            if (done)
            {
                return;
            }
        }
    }

  private:
    /// read-until-empty: one read(); -EAGAIN sleeps in poll(). True when the
    /// drain is over.
    bool ReadOne()
    {
        const int64_t start = NowNs();
        const ssize_t n = read(m_fd, m_buf.data(), m_buf.size());
        if (n < 0)
        {
            return Empty();
        }
        m_idleSince = -1;
        const int64_t afterRead = NowNs();
        return Take(m_buf.data(), static_cast<size_t>(n), start, afterRead, start + Cost(static_cast<size_t>(n))) &&
               DrainCapReached();
    }

    /// poll-each and batched: poll() (timeout 0: is the ring empty?); if it
    /// is, sleep as read-until-empty does; else read one packet (poll-each)
    /// or up to reader.batch back to back (batched), then do their work.
    bool PollThenRead()
    {
        const int64_t p0 = NowNs();
        pollfd pf{m_fd, POLLIN, 0};
        const int pr = poll(&pf, 1, 0);
        if (pr <= 0 || !(pf.revents & POLLIN))
        {
            errno = pr < 0 ? errno : 0;
            return Empty();
        }
        ++m_rs.polls;
        m_rs.pollNsTotal += NowNs() - p0;
        const size_t max = m_slots.size(); // 1 (poll-each) or reader.batch
        const int64_t start = NowNs();
        size_t got = 0;
        while (got < max)
        {
            const ssize_t n = read(m_fd, m_slots[got].data(), m_slots[got].size());
            if (n < 0 && errno == EINTR)
            {
                continue;
            }
            if (n < 0)
            {
                break;
            }
            m_lens[got++] = static_cast<size_t>(n);
        }
        if (got == 0)
        {
            return Empty();
        }
        m_idleSince = -1;
        const int64_t afterRead = NowNs();
        int64_t deadline = start;
        int64_t from = start;
        for (size_t i = 0; i < got; ++i)
        {
            deadline += Cost(m_lens[i]);
            if (Take(m_slots[i].data(), m_lens[i], from, i == 0 ? afterRead : from, deadline) && DrainCapReached())
            {
                return true;
            }
            from = NowNs();
        }
        return false;
    }

    /// read() or poll() found the ring empty: EINTR retries, another error
    /// throws; after the senders stopped the drain may be over (true); else
    /// sleep in poll().
    bool Empty()
    {
        if (errno == EINTR)
        {
            return false;
        }
        if (errno != EAGAIN && errno != 0)
        {
            throw std::runtime_error(std::string("read tun: ") + std::strerror(errno));
        }
        if (DrainOver())
        {
            return true;
        }
        Sleep();
        return false;
    }

    /// The scenario's CPU for a packet of n bytes, in ns.
    int64_t Cost(size_t n) const
    {
        return static_cast<int64_t>(m_sc.reader.perPacketNs + m_sc.reader.nsPerByte * static_cast<double>(n));
    }

  private:
    /// Inside one of the scenario's stalls: sleep to its end, return true.
    bool WaitOutStall() const
    {
        const int64_t end = StallEndAt(m_sc.reader, m_t0, NowNs());
        if (end < 0)
        {
            return false;
        }
        WaitUntil(end);
        return true;
    }

    /// The ring is empty: after the senders stopped, the drain ends once the
    /// ring stayed empty for idleNs, or drainCapNs after they stopped.
    bool DrainOver()
    {
        const int64_t now = NowNs();
        if (!m_sendersDone.load())
        {
            return false;
        }
        if (m_doneAt < 0)
        {
            m_doneAt = now;
        }
        if (m_idleSince < 0)
        {
            m_idleSince = now;
        }
        return now - m_idleSince >= m_idleNs || now - m_doneAt >= m_drainCapNs;
    }

    /// poll() for 2 ms; the next datagram read is a wake-up sample.
    void Sleep()
    {
        ++m_rs.sleeps;
        m_idleBefore = true;
        if (m_sleepStart < 0)
        {
            m_sleepStart = NowNs();
        }
        pollfd p{m_fd, POLLIN, 0};
        poll(&p, 1, 2);
    }

    /// A packet of n bytes at b whose read() began at `start` and returned
    /// by `afterRead`: busy-wait until `deadline` (its cost), count it. True
    /// when it was one of our datagrams.
    bool Take(const uint8_t* b, size_t n, int64_t start, int64_t afterRead, int64_t deadline)
    {
        const Parsed p = ParsePacket(b, n, static_cast<uint32_t>(m_flows.size()));
        ++m_rs.packetsRead;
        m_rs.bytesRead += n;
        m_rs.readNsTotal += afterRead - start;
        while (NowNs() < deadline && !DrainCapReached())
        {
        }
        const int64_t done = NowNs();
        if (start < m_tEnd)
        {
            m_rs.busyNs += std::min(done, m_tEnd) - std::max(start, m_t0);
        }
        if (!p.ours)
        {
            ++m_rs.untracked;
            return false;
        }
        if (m_idleBefore)
        {
            CountWake(p, afterRead);
        }
        CountDatagram(p, n, done);
        return true;
    }

    /// The first datagram after a sleep: its wake-up (and sleep) sample.
    void CountWake(const Parsed& p, int64_t afterRead)
    {
        if (m_rs.wakeNs.size() < 1000000)
        {
            m_rs.wakeNs.push_back(afterRead - p.ts);
            if (m_sleepStart >= 0)
            {
                m_rs.sleepWakeNs.emplace_back(p.ts - m_sleepStart, afterRead - p.ts);
            }
        }
        m_idleBefore = false;
        m_sleepStart = -1;
    }

    /// The flow's counts: received, sequence gaps, reordering, the delay.
    void CountDatagram(const Parsed& p, size_t n, int64_t done)
    {
        FlowStats& f = m_flows[p.flow];
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
    }

    /// The drain has lasted drainCapNs although the ring never ran empty.
    bool DrainCapReached()
    {
        if (m_sendersDone.load() && m_doneAt >= 0 && NowNs() - m_doneAt >= m_drainCapNs)
        {
            return true;
        }
        if (m_sendersDone.load() && m_doneAt < 0)
        {
            m_doneAt = NowNs();
        }
        return false;
    }

    const int m_fd;
    const Scenario& m_sc;
    const int64_t m_t0;
    const int64_t m_tEnd;
    std::vector<FlowStats>& m_flows;
    ReaderStats& m_rs;
    const std::atomic<bool>& m_sendersDone;
    const int64_t m_idleNs;
    const int64_t m_drainCapNs;
    std::vector<uint8_t> m_buf;
    std::vector<std::vector<uint8_t>> m_slots; ///< poll-each, batched: the packets of one poll
    std::vector<size_t> m_lens;
    bool m_idleBefore = true;
    int64_t m_sleepStart = -1; ///< first poll() entry since the last packet read
    int64_t m_idleSince = -1;
    int64_t m_doneAt = -1;
};

} // namespace

int64_t
StallEndAt(const ReaderConfig& r, int64_t t0, int64_t now)
{
    for (const auto& st : r.stalls)
    {
        const int64_t a = t0 + static_cast<int64_t>(st.atS * 1e9);
        const int64_t b = a + static_cast<int64_t>(st.forS * 1e9);
        if (now >= a && now < b)
        {
            return b;
        }
    }
    return -1;
}

void
ReadOutRing(int fd, std::vector<FlowStats>& flows, ReaderStats& rs)
{
    std::vector<uint8_t> buf(65536);
    for (;;)
    {
        const ssize_t n = read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            return; // EAGAIN: the ring is empty
        }
        ++rs.leftInRing;
        const Parsed p = ParsePacket(buf.data(), static_cast<size_t>(n), static_cast<uint32_t>(flows.size()));
        if (p.ours)
        {
            ++flows[p.flow].queuedAtEnd;
        }
    }
}

void
ReaderLoop(int fd, const Scenario& sc, int64_t t0, int64_t tEnd, std::vector<FlowStats>& flows,
           ReaderStats& rs, const std::atomic<bool>& sendersDone, int64_t idleNs, int64_t drainCapNs)
{
    Reader(fd, sc, t0, tEnd, flows, rs, sendersDone, idleNs, drainCapNs).Run();
}

} // namespace kernel
} // namespace tunsim
