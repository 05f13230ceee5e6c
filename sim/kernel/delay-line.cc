// The underlay of the TCP twin, one way (see delay-line.h).
#include "delay-line.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <sys/eventfd.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

DelayLine::DelayLine(double rateMbps, double delayMs, uint32_t overheadBytes, size_t capacity)
    : m_nsPerByte(8.0 * 1e3 / rateMbps),
      m_delayNs(static_cast<int64_t>(delayMs * 1e6)),
      m_overhead(overheadBytes),
      m_capacity(capacity)
{
    m_event = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_event < 0)
    {
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    }
}

DelayLine::~DelayLine()
{
    close(m_event);
}

bool
DelayLine::Push(std::vector<uint8_t>&& bytes, int64_t readNs, int64_t now)
{
    bool wasEmpty = false;
    {
        std::lock_guard<std::mutex> g(m_mu);
        if (m_q.size() >= m_capacity)
        {
            ++m_drops;
            return false;
        }
        const double wire = static_cast<double>(bytes.size() + m_overhead) * m_nsPerByte;
        m_lastDepartureNs = std::max(static_cast<double>(now), m_lastDepartureNs) + wire;
        LinePacket p;
        p.readNs = readNs;
        p.dueNs = static_cast<int64_t>(m_lastDepartureNs) + m_delayNs;
        p.bytes = std::move(bytes);
        wasEmpty = m_q.empty();
        m_q.push_back(std::move(p));
        ++m_pushed;
        m_maxDepth = std::max(m_maxDepth, m_q.size());
    }
    if (wasEmpty)
    {
        Kick();
    }
    return true;
}

bool
DelayLine::PopDue(int64_t now, LinePacket& out)
{
    std::lock_guard<std::mutex> g(m_mu);
    if (m_q.empty() || m_q.front().dueNs > now)
    {
        return false;
    }
    out = std::move(m_q.front());
    m_q.pop_front();
    return true;
}

int64_t
DelayLine::NextDue() const
{
    std::lock_guard<std::mutex> g(m_mu);
    return m_q.empty() ? -1 : m_q.front().dueNs;
}

size_t
DelayLine::Size() const
{
    std::lock_guard<std::mutex> g(m_mu);
    return m_q.size();
}

void
DelayLine::ClearEvent() const
{
    uint64_t v;
    while (read(m_event, &v, sizeof v) == static_cast<ssize_t>(sizeof v))
    {
    }
}

void
DelayLine::Kick() const
{
    const uint64_t one = 1;
    ssize_t r = write(m_event, &one, sizeof one);
    (void)r; // EAGAIN: the counter is already non-zero, the consumer will wake
}

uint64_t
DelayLine::Pushed() const
{
    std::lock_guard<std::mutex> g(m_mu);
    return m_pushed;
}

uint64_t
DelayLine::Drops() const
{
    std::lock_guard<std::mutex> g(m_mu);
    return m_drops;
}

size_t
DelayLine::MaxDepth() const
{
    std::lock_guard<std::mutex> g(m_mu);
    return m_maxDepth;
}

} // namespace kernel
} // namespace tunsim
