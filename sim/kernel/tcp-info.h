// What the TCP twin asks the kernel about its TCP sockets: TCP_INFO (once at
// the end of the window, and every --timeseries ms by a sampler thread into
// timeseries.csv), the congestion controls this kernel has, and the host's
// TCP sysctls (recorded, never changed).
#pragma once

#include "forwarder.h"
#include "host.h"

#include "scenario/scenario.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// Linux's name of a scenario's congestion control (TCP_CONGESTION):
/// cubic -> "cubic", newreno -> "reno".
const char* LinuxCcName(CongestionControl cc);

/// /proc/sys/net/ipv4/tcp_available_congestion_control ("" if unreadable).
std::string AvailableCongestionControls();

/// The fields of struct tcp_info (<linux/tcp.h>, Debian 12's headers: up
/// to tcpi_snd_wnd) the twin reports. `ok` false: getsockopt failed.
struct TcpInfoSample
{
    bool ok = false;
    uint32_t length = 0; ///< bytes the kernel filled
    uint32_t state = 0, caState = 0, mss = 0, cwnd = 0, ssthresh = 0;
    uint32_t unacked = 0, sacked = 0, lost = 0, retrans = 0, totalRetrans = 0;
    uint32_t rtoUs = 0, rttUs = 0, rttVarUs = 0, minRttUs = 0;
    uint32_t rcvSpace = 0, rcvSsthresh = 0, notsentBytes = 0, sndWnd = 0, reordSeen = 0;
    uint32_t segsOut = 0, dataSegsOut = 0, delivered = 0;
    bool appLimited = false;
    uint64_t pacingRateBps = 0, deliveryRateBps = 0; ///< bits/s; pacing ~0: unlimited
    uint64_t busyUs = 0, rwndLimitedUs = 0, sndbufLimitedUs = 0;
    uint64_t bytesSent = 0, bytesRetrans = 0, bytesAcked = 0, bytesReceived = 0;

    /// tcp_packets_in_flight() in bytes: (packets_out - sacked - lost + retrans) * mss.
    uint64_t InFlightBytes() const;
};

/// getsockopt(TCP_INFO) of a TCP socket.
TcpInfoSample ReadTcpInfo(int fd);

/// The sample as JSON (kernel block, flows[].kernel.tcp_info_end).
nlohmann::json TcpInfoJson(const TcpInfoSample& s);

/// net.ipv4.tcp_* and net.core.* values that shape a bulk TCP flow, as this
/// namespace sees them (null when the file does not exist), and the release.
nlohmann::json TcpSysctls(const Netns& ns);

/// The header of timeseries.csv (the columns of `tunsim run --timeseries`
/// where they overlap: time_s, cwnd_bytes, srtt_ms, bytes_in_flight).
std::string TimeSeriesHeader();

/// What the sampler reads besides TCP_INFO.
struct SamplerInputs
{
    std::vector<int> senders;   ///< sender sockets (TCP_INFO)
    std::vector<int> receivers; ///< receiver sockets (rcv_space, rcv_ssthresh)
    std::function<uint64_t(size_t)> receivedBytes; ///< flow i's bytes the receiver read so far
    const LiveCounters* reader = nullptr;
    int clientNsFd = -1;        ///< /proc/thread-self/net/dev: tun0's counters
    int repeat = 1;
};

/// A thread that samples every `intervalMs` from t0 to tEnd, one row per
/// flow (Rows() after Join()).
class TcpSampler
{
  public:
    TcpSampler(SamplerInputs in, double intervalMs, int64_t t0, int64_t tEnd, int cpu);
    ~TcpSampler();
    TcpSampler(const TcpSampler&) = delete;
    TcpSampler& operator=(const TcpSampler&) = delete;
    void Stop() { m_stop.store(true); }
    void Join();
    const std::string& Rows() const { return m_rows; }

  private:
    void Run(int cpu);
    void Sample(int64_t now, uint64_t txPackets, uint64_t txDropped);

    SamplerInputs m_in;
    int64_t m_intervalNs;
    int64_t m_t0;
    int64_t m_tEnd;
    std::atomic<bool> m_stop{false};
    std::string m_rows;
    std::thread m_thread;
};

} // namespace kernel
} // namespace tunsim
