// LinuxRcvWindow: the receive window a Linux TCP receiver advertises, and
// when it acknowledges at once (net/ipv4/tcp_input.c, tcp_output.c, 6.12 +
// the 6.16-6.18 receive autotuning). The logic only: LinuxTcpSocket feeds
// it the receiver's events and puts its window into every ACK.
//
//   tcp_select_initial_window()  InitialWindow(): 65535 -> 45 * 1448 on the SYN
//   tcp_measure_rcv_mss()        OnSegment(): scaling_ratio = len * 256 / truesize,
//                                window_clamp = tcp_win_from_space(sk_rcvbuf)
//   tcp_init_buffer_space()      at the first data: rcvq_space = min(rcv_ssthresh,
//                                rcv_wnd, 10 * advmss)
//   tcp_grow_window()            OnSegment() of in-order data: rcv_ssthresh +=
//                                min(room, max(2 * advmss, 2 * len)), and a
//                                quick ACK (icsk_ack.quick |= 1)
//   tcp_incr_quickack()          the first data: 16 quick ACKs
//   tcp_rcv_rtt_measure_ts()     OnSegment(): the receiver's RTT from TSecr
//   tcp_rcv_space_adjust() +     OnRead(): once per receiver RTT, when more
//   tcp_rcvbuf_grow() (6.18)     was read than in the last one, sk_rcvbuf grows
//                                so that the window is 2 * copied, plus twice
//                                the growth (the sender doubles in slow start),
//                                up to tcp_rmem[2]; window_clamp follows
//   __tcp_select_window()        Window(): min(tcp_space, rcv_ssthresh) on the
//                                window-scale grid, never shrinking the right edge
//
// Simplified (docs/model.md): memory pressure, the free_space < full_space/2
// shrink path, SACK compression and the adaptive delayed-ACK timeout are not
// modelled; out-of-order data takes receive space as truesize at the
// measured scaling ratio.
#pragma once

#include <cstdint>

namespace tunsim
{

class LinuxRcvWindow
{
  public:
    struct Config
    {
        uint32_t rmemDefault = 131072;   ///< tcp_rmem[1]: sk_rcvbuf at the start
        uint32_t rmemMax = 33554432;     ///< tcp_rmem[2]: the autotuning cap (32 MiB since 6.16)
        uint32_t advmss = 1448;          ///< MSS the receiver advertises (1500 - 40 - 12 TS)
        uint32_t maxQuickAcks = 16;      ///< TCP_MAX_QUICKACKS
        bool moderateRcvbuf = true;      ///< net.ipv4.tcp_moderate_rcvbuf
    };

    explicit LinuxRcvWindow(const Config& c);

    /// The window in the SYN / SYN-ACK (unscaled, at most 65535).
    uint32_t InitialWindow() const;

    /// A data segment of `len` bytes (TCP header included, as skb->len)
    /// and `truesize` arrived at `nowUs`; `inOrder` when it advanced
    /// rcv_nxt; `tsEchoMs`/`nowTsMs` its timestamp echo and the receiver's
    /// clock (ms), 0 when absent; `ooo` bytes wait out of order now.
    void OnSegment(uint32_t len, uint32_t truesize, bool inOrder, uint64_t nowUs, uint32_t tsEchoMs,
                   uint32_t nowTsMs, uint32_t ooo);

    /// The application read; `copiedTotal` bytes read since the start,
    /// `inq` bytes received in order but not yet read.
    void OnRead(uint64_t copiedTotal, uint64_t nowUs, uint32_t inq);

    /// The window to advertise now, in bytes, for an ACK of `rcvNxt`
    /// (never moving the right edge left; rounded up to 2^wscale).
    uint32_t Window(uint32_t rcvNxt, uint32_t wscale);

    /// Whether the next ACK goes out at once (quick-ACK mode).
    bool QuickAck() const { return m_quick > 0; }
    /// An ACK was sent: one quick ACK used (tcp_dec_quickack_mode()).
    void AckSent();

    uint32_t RcvSsthresh() const { return m_rcvSsthresh; }
    uint32_t WindowClamp() const { return m_windowClamp; }
    uint32_t Rcvbuf() const { return m_rcvbuf; }
    uint32_t ScalingRatio() const { return m_scalingRatio; }
    uint32_t RcvRttUs() const { return m_rcvRttUs8 >> 3; }

  private:
    uint32_t WinFromSpace(uint64_t space) const;
    uint64_t SpaceFromWin(uint64_t win) const;
    /// tcp_space(): the window the free receive buffer allows.
    uint32_t Space() const;
    void RcvbufGrow(uint32_t copied);

    Config m_cfg;
    uint32_t m_scalingRatio = 128; ///< TCP_DEFAULT_SCALING_RATIO: 50 %
    uint32_t m_rcvbuf;
    uint32_t m_windowClamp;
    uint32_t m_rcvSsthresh;
    uint32_t m_rcvWnd;
    uint32_t m_oooTruesize = 0;
    bool m_started = false;        ///< the first data arrived (tcp_init_buffer_space)
    uint32_t m_quick = 0;          ///< icsk_ack.quick
    uint32_t m_rcvRttUs8 = 0;      ///< rcv_rtt_est.rtt_us (<< 3)
    uint32_t m_lastTsEcho = 0;
    uint32_t m_rcvqSpace = 0;      ///< rcvq_space.space
    uint64_t m_rcvqSeq = 0;        ///< rcvq_space.seq (bytes copied then)
    uint64_t m_rcvqTimeUs = 0;     ///< rcvq_space.time
    uint32_t m_rightEdge = 0;      ///< rcv_wup + rcv_wnd of the last ACK
    bool m_haveEdge = false;
};

} // namespace tunsim
