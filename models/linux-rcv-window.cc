#include "linux-rcv-window.h"

#include <algorithm>

namespace tunsim
{

namespace
{
constexpr uint32_t kRmemToWinScale = 8; // TCP_RMEM_TO_WIN_SCALE
constexpr uint32_t kInitCwnd = 10;      // TCP_INIT_CWND
} // namespace

LinuxRcvWindow::LinuxRcvWindow(const Config& c)
    : m_cfg(c),
      m_rcvbuf(c.rmemDefault)
{
    // tcp_select_initial_window(): the full space, rounded down to the MSS
    const uint32_t space = WinFromSpace(m_rcvbuf);
    m_rcvWnd = space > c.advmss ? space / c.advmss * c.advmss : space;
    m_rcvSsthresh = m_rcvWnd;
    // tcp_init_buffer_space() at the end of the handshake: window_clamp =
    // the full space, less one segment (tcp_app_win reserves it).
    const uint32_t maxwin = space;
    m_windowClamp = maxwin;
    if (m_windowClamp > 2 * c.advmss && m_windowClamp + c.advmss > maxwin)
    {
        m_windowClamp = std::max(2 * c.advmss, maxwin - c.advmss);
    }
    m_rcvSsthresh = std::min(m_rcvSsthresh, m_windowClamp);
    m_rcvqSpace = std::min({m_rcvSsthresh, m_rcvWnd, kInitCwnd * c.advmss});
}

uint32_t
LinuxRcvWindow::WinFromSpace(uint64_t space) const
{
    // __tcp_win_from_space(): space * scaling_ratio / 256
    return static_cast<uint32_t>((space * m_scalingRatio) >> kRmemToWinScale);
}

uint64_t
LinuxRcvWindow::SpaceFromWin(uint64_t win) const
{
    return (win << kRmemToWinScale) / m_scalingRatio;
}

uint32_t
LinuxRcvWindow::Space() const
{
    // tcp_space(): what the free receive buffer holds (read data is freed
    // at once by the application; out-of-order data waits in it).
    const int64_t free = static_cast<int64_t>(m_rcvbuf) - m_oooTruesize;
    return free > 0 ? WinFromSpace(static_cast<uint64_t>(free)) : 0;
}

uint32_t
LinuxRcvWindow::InitialWindow() const
{
    return std::min<uint32_t>(m_rcvWnd, 65535);
}

void
LinuxRcvWindow::OnSegment(uint32_t len,
                          uint32_t truesize,
                          bool inOrder,
                          uint64_t nowUs,
                          uint32_t tsEchoMs,
                          uint32_t nowTsMs,
                          uint32_t ooo)
{
    if (len == 0 || truesize == 0)
    {
        return;
    }
    m_oooTruesize = static_cast<uint32_t>(static_cast<uint64_t>(ooo) * truesize / len);
    // tcp_rcv_rtt_measure_ts(): a full segment with a new TSecr
    if (tsEchoMs && tsEchoMs != m_lastTsEcho && len >= m_cfg.advmss)
    {
        m_lastTsEcho = tsEchoMs;
        const auto delta = static_cast<int32_t>(nowTsMs - tsEchoMs);
        if (delta > 0)
        {
            const uint32_t m = static_cast<uint32_t>(delta) * 1000 << 3;
            // tcp_rcv_rtt_update(..., win_dep 0): a new minimum, or smoothed
            m_rcvRttUs8 = m_rcvRttUs8 == 0 || m < m_rcvRttUs8 ? m
                                                              : m_rcvRttUs8 - (m_rcvRttUs8 >> 3) + (m >> 3);
        }
    }
    if (!inOrder)
    {
        return; // tcp_data_queue_ofo(): no tcp_event_data_recv()
    }
    // tcp_event_data_recv() -> tcp_measure_rcv_mss(): the first full-size
    // segment sets scaling_ratio = len / truesize, and window_clamp follows.
    if (!m_started)
    {
        m_started = true;
        // tcp_incr_quickack(sk, TCP_MAX_QUICKACKS): rcv_wnd / (2 * rcv_mss)
        m_quick = std::clamp<uint32_t>(m_rcvWnd / (2 * m_cfg.advmss), 2, m_cfg.maxQuickAcks);
        m_rcvqTimeUs = nowUs;
        if (len >= m_cfg.advmss)
        {
            const uint32_t ratio = std::max<uint32_t>((static_cast<uint64_t>(len) << kRmemToWinScale) / truesize, 1);
            if (ratio != m_scalingRatio)
            {
                m_scalingRatio = ratio;
                m_windowClamp = WinFromSpace(m_rcvbuf);
                m_rcvqSpace = std::min(m_rcvqSpace, m_windowClamp);
            }
        }
    }
    // tcp_grow_window()
    if (len >= 128)
    {
        const int64_t room = static_cast<int64_t>(std::min(m_windowClamp, Space())) - m_rcvSsthresh;
        if (room > 0)
        {
            uint32_t incr = 2 * m_cfg.advmss; // WinFromSpace(truesize) <= len for full segments
            if (WinFromSpace(truesize) > len)
            {
                // __tcp_grow_window(): the skb's overhead is too large; a
                // window this small is not grown (tiny segments).
                incr = 0;
            }
            if (incr)
            {
                incr = std::max(incr, 2 * len);
                m_rcvSsthresh += static_cast<uint32_t>(std::min<int64_t>(room, incr));
                m_quick |= 1; // icsk_ack.quick |= 1
            }
        }
    }
}

void
LinuxRcvWindow::RcvbufGrow(uint32_t copied)
{
    // tcp_rcvbuf_grow(sk, copied), 6.18
    const uint32_t oldval = m_rcvqSpace;
    m_rcvqSpace = copied;
    if (!m_cfg.moderateRcvbuf || oldval == 0)
    {
        return;
    }
    uint64_t rcvwin = static_cast<uint64_t>(copied) << 1; // DRS is always one RTT late
    // slow start: allow the sender to double its rate
    const uint64_t grow = rcvwin * (copied - oldval) / oldval;
    rcvwin += grow << 1;
    const auto rcvbuf = static_cast<uint32_t>(std::min<uint64_t>(SpaceFromWin(rcvwin), m_cfg.rmemMax));
    if (rcvbuf > m_rcvbuf)
    {
        m_rcvbuf = rcvbuf;
        m_windowClamp = WinFromSpace(m_rcvbuf); // the window clamp follows
    }
}

void
LinuxRcvWindow::OnRead(uint64_t copiedTotal, uint64_t nowUs, uint32_t inq)
{
    // tcp_rcv_space_adjust(): at most once per receiver RTT
    if (!m_started || m_rcvRttUs8 == 0 || nowUs - m_rcvqTimeUs < (m_rcvRttUs8 >> 3))
    {
        return;
    }
    const int64_t copied = static_cast<int64_t>(copiedTotal - m_rcvqSeq) - inq;
    if (copied > static_cast<int64_t>(m_rcvqSpace))
    {
        RcvbufGrow(static_cast<uint32_t>(copied));
    }
    m_rcvqSeq = copiedTotal;
    m_rcvqTimeUs = nowUs;
}

uint32_t
LinuxRcvWindow::Window(uint32_t rcvNxt, uint32_t wscale)
{
    // __tcp_select_window(): min(free space, rcv_ssthresh), aligned up to
    // the window-scale unit; tcp_select_window(): never shrink the offer.
    uint32_t window = std::min(Space(), m_rcvSsthresh);
    window = std::min(window, m_windowClamp);
    const uint32_t unit = 1u << wscale;
    window = (window + unit - 1) / unit * unit;
    if (m_haveEdge)
    {
        const auto left = static_cast<int64_t>(static_cast<int32_t>(m_rightEdge - rcvNxt));
        if (left > static_cast<int64_t>(window))
        {
            window = static_cast<uint32_t>(left) + unit - 1;
            window = window / unit * unit;
        }
    }
    m_rightEdge = rcvNxt + window;
    m_haveEdge = true;
    return window;
}

void
LinuxRcvWindow::AckSent()
{
    // tcp_dec_quickack_mode()
    if (m_quick)
    {
        --m_quick;
    }
}

} // namespace tunsim
