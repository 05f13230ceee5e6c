// TCP_INFO, congestion controls, sysctls and the sampler (see tcp-info.h).
#include "tcp-info.h"

#include "clock.h"
#include "traffic.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <netinet/in.h>
#include <linux/tcp.h> // struct tcp_info up to tcpi_snd_wnd (Debian 12); not <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/utsname.h>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

const char*
LinuxCcName(CongestionControl cc)
{
    switch (cc)
    {
    case CongestionControl::Cubic:
        return "cubic";
    case CongestionControl::NewReno:
        return "reno";
    case CongestionControl::Bbr:
        return "bbr";
    }
    return "cubic";
}

std::string
AvailableCongestionControls()
{
    std::ifstream in("/proc/sys/net/ipv4/tcp_available_congestion_control");
    std::string s;
    std::getline(in, s);
    return s;
}

uint64_t
TcpInfoSample::InFlightBytes() const
{
    const int64_t packets = static_cast<int64_t>(unacked) - sacked - lost + retrans;
    return packets > 0 ? static_cast<uint64_t>(packets) * mss : 0;
}

TcpInfoSample
ReadTcpInfo(int fd)
{
    tcp_info t;
    std::memset(&t, 0, sizeof t);
    socklen_t len = sizeof t;
    TcpInfoSample s;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t, &len) != 0)
    {
        return s;
    }
    s.ok = true;
    s.length = len;
    s.state = t.tcpi_state;
    s.caState = t.tcpi_ca_state;
    s.mss = t.tcpi_snd_mss;
    s.cwnd = t.tcpi_snd_cwnd;
    s.ssthresh = t.tcpi_snd_ssthresh;
    s.unacked = t.tcpi_unacked;
    s.sacked = t.tcpi_sacked;
    s.lost = t.tcpi_lost;
    s.retrans = t.tcpi_retrans;
    s.totalRetrans = t.tcpi_total_retrans;
    s.rtoUs = t.tcpi_rto;
    s.rttUs = t.tcpi_rtt; // srtt_us >> 3: TCP_INFO has no last RTT sample
    s.rttVarUs = t.tcpi_rttvar;
    s.minRttUs = t.tcpi_min_rtt;
    s.rcvSpace = t.tcpi_rcv_space;
    s.rcvSsthresh = t.tcpi_rcv_ssthresh;
    s.notsentBytes = t.tcpi_notsent_bytes;
    s.sndWnd = t.tcpi_snd_wnd;
    s.reordSeen = t.tcpi_reord_seen;
    s.segsOut = t.tcpi_segs_out;
    s.dataSegsOut = t.tcpi_data_segs_out;
    s.delivered = t.tcpi_delivered;
    s.appLimited = t.tcpi_delivery_rate_app_limited;
    s.pacingRateBps = t.tcpi_pacing_rate == ~0ULL ? ~0ULL : t.tcpi_pacing_rate * 8;
    s.deliveryRateBps = t.tcpi_delivery_rate * 8;
    s.busyUs = t.tcpi_busy_time;
    s.rwndLimitedUs = t.tcpi_rwnd_limited;
    s.sndbufLimitedUs = t.tcpi_sndbuf_limited;
    s.bytesSent = t.tcpi_bytes_sent;
    s.bytesRetrans = t.tcpi_bytes_retrans;
    s.bytesAcked = t.tcpi_bytes_acked;
    s.bytesReceived = t.tcpi_bytes_received;
    return s;
}

json
TcpInfoJson(const TcpInfoSample& s)
{
    if (!s.ok)
    {
        return nullptr;
    }
    return {{"state", s.state},
            {"ca_state", s.caState},
            {"snd_mss", s.mss},
            {"snd_cwnd", s.cwnd},
            {"snd_ssthresh", s.ssthresh},
            {"unacked", s.unacked},
            {"sacked", s.sacked},
            {"lost", s.lost},
            {"retrans", s.retrans},
            {"total_retrans", s.totalRetrans},
            {"rto_us", s.rtoUs},
            {"rtt_us", s.rttUs},
            {"rttvar_us", s.rttVarUs},
            {"min_rtt_us", s.minRttUs},
            {"rcv_space", s.rcvSpace},
            {"rcv_ssthresh", s.rcvSsthresh},
            {"notsent_bytes", s.notsentBytes},
            {"snd_wnd", s.sndWnd},
            {"reord_seen", s.reordSeen},
            {"segs_out", s.segsOut},
            {"data_segs_out", s.dataSegsOut},
            {"delivered", s.delivered},
            {"delivery_rate_app_limited", s.appLimited},
            {"pacing_rate_bps", s.pacingRateBps == ~0ULL ? json(nullptr) : json(s.pacingRateBps)},
            {"delivery_rate_bps", s.deliveryRateBps},
            {"busy_us", s.busyUs},
            {"rwnd_limited_us", s.rwndLimitedUs},
            {"sndbuf_limited_us", s.sndbufLimitedUs},
            {"bytes_sent", s.bytesSent},
            {"bytes_retrans", s.bytesRetrans},
            {"bytes_acked", s.bytesAcked},
            {"bytes_received", s.bytesReceived},
            {"tcp_info_bytes", s.length}};
}

json
TcpSysctls(const Netns& ns)
{
    static const char* const kFiles[] = {
        "ipv4/tcp_rmem", "ipv4/tcp_wmem", "ipv4/tcp_congestion_control", "ipv4/tcp_limit_output_bytes",
        "ipv4/tcp_min_tso_segs", "ipv4/tcp_tso_rtt_log", "ipv4/tcp_pacing_ss_ratio", "ipv4/tcp_pacing_ca_ratio",
        "ipv4/tcp_slow_start_after_idle", "ipv4/tcp_notsent_lowat", "ipv4/tcp_autocorking", "ipv4/tcp_adv_win_scale",
        "ipv4/tcp_moderate_rcvbuf", "ipv4/tcp_no_metrics_save", "ipv4/tcp_sack", "ipv4/tcp_timestamps",
        "ipv4/tcp_window_scaling", "ipv4/tcp_ecn", "ipv4/tcp_recovery", "ipv4/tcp_early_retrans",
        "ipv4/tcp_comp_sack_nr", "ipv4/tcp_comp_sack_delay_ns", "ipv4/tcp_comp_sack_slack_ns",
        "ipv4/tcp_comp_sack_rtt_percent", "ipv4/tcp_shrink_window", "core/rmem_max", "core/wmem_max",
        "core/default_qdisc", "core/dev_weight"};
    json j = json::object();
    InNamespace(ns.Fd(), [&]() {
        for (const char* f : kFiles)
        {
            std::ifstream in(std::string("/proc/sys/net/") + f);
            std::string v;
            const std::string key = std::string("net.") + std::string(f).replace(std::string(f).find('/'), 1, ".");
            if (!in || !std::getline(in, v))
            {
                j[key] = nullptr;
                continue;
            }
            for (char& c : v)
            {
                c = c == '\t' ? ' ' : c;
            }
            j[key] = v;
        }
    });
    utsname u;
    uname(&u);
    j["kernel.release"] = u.release;
    return j;
}

std::string
TimeSeriesHeader()
{
    return "time_s,cwnd_bytes,srtt_ms,bytes_in_flight,repeat,flow,cwnd_segments,ssthresh_segments,unacked,sacked,"
           "lost,retrans,total_retrans,ca_state,delivery_rate_bps,pacing_rate_bps,snd_wnd_bytes,rcv_space,"
           "rcv_ssthresh,busy_us,rwnd_limited_us,sndbuf_limited_us,notsent_bytes,min_rtt_ms,data_segs_out,"
           "bytes_acked,received_bytes,tun0_tx_packets,tun0_tx_dropped,reader_reads,reader_sleeps,reader_writes\n";
}

namespace
{

/// tun0's tx_packets and tx_dropped from /proc/thread-self/net/dev (the
/// calling thread's namespace); false if it has no tun0.
bool
Tun0Counters(uint64_t& txPackets, uint64_t& txDropped)
{
    std::ifstream in("/proc/thread-self/net/dev");
    std::string line;
    while (std::getline(in, line))
    {
        const auto colon = line.find(':');
        if (colon == std::string::npos || line.substr(0, colon).find(kDevice) == std::string::npos)
        {
            continue;
        }
        std::istringstream f(line.substr(colon + 1));
        uint64_t v[12] = {};
        for (auto& x : v)
        {
            f >> x;
        }
        txPackets = v[9];
        txDropped = v[11];
        return static_cast<bool>(f);
    }
    return false;
}

} // namespace

TcpSampler::TcpSampler(SamplerInputs in, double intervalMs, int64_t t0, int64_t tEnd, int cpu)
    : m_in(std::move(in)),
      m_intervalNs(static_cast<int64_t>(intervalMs * 1e6)),
      m_t0(t0),
      m_tEnd(tEnd)
{
    m_thread = std::thread([this, cpu]() { Run(cpu); });
}

TcpSampler::~TcpSampler()
{
    Stop();
    Join();
}

void
TcpSampler::Join()
{
    if (m_thread.joinable())
    {
        m_thread.join();
    }
}

void
TcpSampler::Run(int cpu)
{
    if (setns(m_in.clientNsFd, CLONE_NEWNET) != 0)
    {
        return; // no series rather than a wrong one
    }
    PinToCpu(cpu);
    for (int64_t due = m_t0; due <= m_tEnd && !m_stop.load() && !Interrupted(); due += m_intervalNs)
    {
        WaitUntil(due, &m_stop);
        if (m_stop.load() || Interrupted())
        {
            break;
        }
        uint64_t txPackets = 0, txDropped = 0;
        Tun0Counters(txPackets, txDropped);
        Sample(NowNs(), txPackets, txDropped);
    }
}

void
TcpSampler::Sample(int64_t now, uint64_t txPackets, uint64_t txDropped)
{
    std::ostringstream row;
    row << std::setprecision(9);
    for (size_t i = 0; i < m_in.senders.size(); ++i)
    {
        const TcpInfoSample s = ReadTcpInfo(m_in.senders[i]);
        const TcpInfoSample r = i < m_in.receivers.size() ? ReadTcpInfo(m_in.receivers[i]) : TcpInfoSample{};
        if (!s.ok)
        {
            continue;
        }
        row << (now - m_t0) / 1e9 << ',' << uint64_t{s.cwnd} * s.mss << ',' << s.rttUs / 1e3 << ','
            << s.InFlightBytes() << ',' << m_in.repeat << ',' << i << ',' << s.cwnd << ',' << s.ssthresh << ','
            << s.unacked << ',' << s.sacked << ',' << s.lost << ',' << s.retrans << ',' << s.totalRetrans << ','
            << s.caState << ',' << s.deliveryRateBps << ',';
        if (s.pacingRateBps != ~0ULL)
        {
            row << s.pacingRateBps;
        }
        row << ',' << s.sndWnd << ',' << (r.ok ? std::to_string(r.rcvSpace) : "") << ','
            << (r.ok ? std::to_string(r.rcvSsthresh) : "") << ',' << s.busyUs << ',' << s.rwndLimitedUs << ','
            << s.sndbufLimitedUs << ',' << s.notsentBytes << ',' << s.minRttUs / 1e3 << ',' << s.dataSegsOut << ','
            << s.bytesAcked << ',' << (m_in.receivedBytes ? m_in.receivedBytes(i) : 0) << ',' << txPackets << ','
            << txDropped << ',';
        if (m_in.reader)
        {
            row << m_in.reader->reads.load() << ',' << m_in.reader->sleeps.load() << ','
                << m_in.reader->writes.load();
        }
        else
        {
            row << ",,";
        }
        row << '\n';
    }
    m_rows += row.str();
}

} // namespace kernel
} // namespace tunsim
