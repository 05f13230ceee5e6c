// The kinds of traffic a host sends through the tunnel (models/traffic-apps.h
// implements them): one word per kind, mode and congestion control.
#pragma once

#include "enum-names.h"

namespace tunsim
{

enum class FlowKind
{
    Udp, ///< UdpSeqSender -> UdpSeqSink
    Tcp, ///< TcpBulkSender -> TcpSink
};

template <>
struct EnumNames<FlowKind>
{
    static constexpr const char* kNoun = "flow kind";
    static constexpr std::array<const char*, 2> kNames{"udp", "tcp"};
};

/// How a UdpSeqSender generates datagrams.
enum class UdpMode
{
    Flood,  ///< as fast as the socket allows
    Rate,   ///< constant (or Poisson) bit rate
    Bursts, ///< N datagrams every T
    Video,  ///< frames of a GOP structure, each handed to the socket at once
};

template <>
struct EnumNames<UdpMode>
{
    static constexpr const char* kNoun = "mode";
    static constexpr std::array<const char*, 4> kNames{"flood", "rate", "bursts", "video"};
};

/// How a UdpSeqSender's socket behaves when sk_sndbuf is full
/// (sock_alloc_send_pskb()).
enum class SenderStyle
{
    Blocking,    ///< send() sleeps in sock_wait_for_wmem() until sk_write_space()
    Nonblocking, ///< O_NONBLOCK / MSG_DONTWAIT: send() returns -EAGAIN at once
};

template <>
struct EnumNames<SenderStyle>
{
    static constexpr const char* kNoun = "sender style";
    static constexpr std::array<const char*, 2> kNames{"blocking", "nonblocking"};
};

/// What a non-blocking (or IP_RECVERR) sender does with a datagram send()
/// refused: drop that datagram, or the rest of its video frame.
enum class OnSendError
{
    DropDatagram,
    DropFrame,
};

template <>
struct EnumNames<OnSendError>
{
    static constexpr const char* kNoun = "send-error action";
    static constexpr std::array<const char*, 2> kNames{"drop-datagram", "drop-frame"};
};

/// TCP congestion control of a TcpBulkSender.
enum class CongestionControl
{
    Cubic,   ///< ns3::TcpCubic (Linux's default)
    NewReno, ///< ns3::TcpNewReno
    Bbr,     ///< ns3::TcpBbr (BBRv1 as net/ipv4/tcp_bbr.c), paced by the socket
};

template <>
struct EnumNames<CongestionControl>
{
    static constexpr const char* kNoun = "congestion control";
    static constexpr std::array<const char*, 3> kNames{"cubic", "newreno", "bbr"};
};

} // namespace tunsim
