// The probe, the calibration and the statistics of tunsim kernel (see measure.h).
#include "measure.h"

#include "clock.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

// ------------------------------------------------------------ probe and calibration

namespace
{

/// Where the probe's burst went: "drop" (tun dropped, the qdisc held none),
/// "nodrop-like" (the qdisc held them, tun dropped none) or "unknown"; `why`
/// says which pattern.
std::string
ProbeVerdict(uint64_t txDropped, uint64_t backlog, std::string& why)
{
    if (txDropped > 0 && backlog == 0)
    {
        why = "a full tun ring dropped packets (tx_dropped > 0) and the qdisc held none: tun_net_xmit() drops "
              "instead of stopping the tx queue (mainline)";
        return "drop";
    }
    if (txDropped == 0 && backlog > 0)
    {
        why = "no tun drops while packets waited in the qdisc: the tx queue was stopped (a NODROP kernel)";
        return "nodrop-like";
    }
    why = "neither pattern: tx_dropped " + std::to_string(txDropped) + ", qdisc backlog " + std::to_string(backlog);
    return "unknown";
}

} // namespace

json
PolicyProbe(const Netns& ns, uint32_t ring, uint32_t burst, uint32_t payload)
{
    TunDevice dev(ns, "tunprobe", ring, "10.9.0.1/24");
    SetQdisc(ns, "tunprobe", "pfifo", 10000);
    uint64_t sent = 0;
    uint64_t wouldBlock = 0;
    InNamespace(ns.Fd(), [&]() {
        int s = UdpSocket("10.9.0.2", kFirstPort, 0);
        std::vector<uint8_t> buf(payload, 0);
        for (uint32_t i = 0; i < burst; ++i)
        {
            PutHeader(buf.data(), i, NowNs());
            ssize_t r = send(s, buf.data(), buf.size(), MSG_DONTWAIT);
            if (r == static_cast<ssize_t>(buf.size()))
            {
                ++sent;
            }
            else if (errno == EAGAIN)
            {
                ++wouldBlock;
            }
        }
        close(s);
    });
    SleepMs(20);
    auto v = ns.Sysfs("tunprobe", {"statistics/tx_dropped", "statistics/tx_packets"});
    TcStats tc = QdiscStats(ns, "tunprobe");
    // Now read what the ring holds (never more than the ring).
    uint64_t inRing = 0;
    {
        std::vector<uint8_t> b(65536);
        while (read(dev.Fd(), b.data(), b.size()) > 0)
        {
            ++inRing;
        }
    }
    const uint64_t txDropped = v[0];
    std::string why;
    const std::string verdict = ProbeVerdict(txDropped, tc.backlogPackets, why);
    const uint64_t expectDrop = burst > ring ? burst - ring : 0;
    return {{"device", "tunprobe"},
            {"txqueuelen", ring},
            {"qdisc", "pfifo limit 10000"},
            {"burst_packets", burst},
            {"sent", sent},
            {"send_would_block", wouldBlock},
            {"tx_dropped", txDropped},
            {"qdisc_backlog_packets", tc.backlogPackets},
            {"qdisc_dropped", tc.dropped},
            {"ring_entries_read_after", inRing},
            {"closed_form_drops", expectDrop},
            {"matches_closed_form", verdict == "drop" && txDropped == expectDrop && inRing == ring},
            {"verdict", verdict},
            {"why", why}};
}

namespace
{

/// The size of the packets MeasureTunWrite() writes: 20 B IPv4 + 8 B UDP +
/// 24 B, the size of a TCP ACK with timestamps (52 B).
constexpr uint32_t kWriteProbeBytes = 52;

/// write() of `n` small packets into tun (fd of device 10.10.0.1/24 in
/// `ns`), each addressed to a UDP socket of the namespace: tun_get_user() ->
/// netif_receive_skb() -> ip_rcv() -> udp_rcv(), what a VPN's write() of a
/// reverse packet costs besides what the stack then transmits. The packets
/// are the namespace's own datagrams to 10.10.0.2:5001 read back from the
/// ring with the source and destination addresses swapped (both checksums
/// stay valid: the swap keeps every one's-complement sum), so they arrive
/// for 10.10.0.1:5001. Returns the time of each write().
std::vector<int64_t>
MeasureTunWrite(const Netns& ns, int tunFd, uint32_t n)
{
    std::vector<int64_t> writeNs;
    InNamespace(ns.Fd(), [&]() {
        int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(kFirstPort + 1);
        inet_pton(AF_INET, "10.10.0.1", &a.sin_addr);
        const bool bound = rx >= 0 && bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        int tx = UdpSocket("10.10.0.2", static_cast<uint16_t>(kFirstPort + 1), 0);
        std::vector<uint8_t> pkt(65536);
        std::vector<uint8_t> sink(2048);
        const std::vector<uint8_t> small(kWriteProbeBytes - 28, 0);
        for (uint32_t i = 0; bound && tx >= 0 && i < n; ++i)
        {
            if (send(tx, small.data(), small.size(), 0) != static_cast<ssize_t>(small.size()))
            {
                continue;
            }
            ssize_t len = read(tunFd, pkt.data(), pkt.size());
            if (len != static_cast<ssize_t>(kWriteProbeBytes) || (pkt[0] >> 4) != 4)
            {
                continue;
            }
            std::swap_ranges(pkt.begin() + 12, pkt.begin() + 16, pkt.begin() + 16); // saddr <-> daddr
            int64_t t0 = NowNs();
            ssize_t w = write(tunFd, pkt.data(), static_cast<size_t>(len));
            int64_t t1 = NowNs();
            if (w == len && recv(rx, sink.data(), sink.size(), 0) >= 0) // delivered: count it
            {
                writeNs.push_back(t1 - t0);
            }
        }
        if (tx >= 0)
        {
            close(tx);
        }
        if (rx >= 0)
        {
            close(rx);
        }
    });
    return writeNs;
}

/// Sleeps of kTimerSleepNs in ppoll() (timer slack 1 us, as the twin's
/// endpoints set it) and how late each returned: the wake-up of a thread
/// whose timer fires on an idle CPU (on a VM: an idle vCPU the host must
/// schedule again), what the twin's endpoints wait through before each
/// packet that falls due while they sleep.
constexpr int64_t kTimerSleepNs = 100000;
constexpr int kTimerSleeps = 4000;

std::vector<int64_t>
MeasureTimerWakeups()
{
    const unsigned long slack = static_cast<unsigned long>(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    std::vector<int64_t> late;
    late.reserve(kTimerSleeps);
    const timespec ts{0, kTimerSleepNs};
    for (int i = 0; i < kTimerSleeps; ++i)
    {
        const int64_t a = NowNs();
        ppoll(nullptr, 0, &ts, nullptr);
        late.push_back(std::max<int64_t>(NowNs() - a - kTimerSleepNs, 0));
    }
    prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
    return late;
}

} // namespace

json
EqualQuantilesUs(std::vector<int64_t> v, size_t n)
{
    json out = json::array();
    if (v.empty())
    {
        return out;
    }
    std::sort(v.begin(), v.end());
    for (size_t i = 0; i < n; ++i)
    {
        const size_t k = std::min(v.size() - 1, static_cast<size_t>((i + 0.5) / n * v.size()));
        out.push_back(std::round(v[k] / 10.0) / 100.0); // us, two decimals
    }
    return out;
}

json
Calibrate(const Netns& ns, uint32_t payload)
{
    const uint32_t n = 400;
    TunDevice dev(ns, "tuncal", 1000, "10.10.0.1/24");
    SetQdisc(ns, "tuncal", "pfifo", 10000);
    std::vector<int64_t> sendNs;
    InNamespace(ns.Fd(), [&]() {
        int s = UdpSocket("10.10.0.2", kFirstPort, 0);
        std::vector<uint8_t> buf(payload, 0);
        for (uint32_t i = 0; i < n; ++i)
        {
            int64_t a = NowNs();
            PutHeader(buf.data(), i, a);
            if (send(s, buf.data(), buf.size(), 0) == static_cast<ssize_t>(buf.size()))
            {
                sendNs.push_back(NowNs() - a);
            }
        }
        close(s);
    });
    std::vector<int64_t> readNs;
    std::vector<uint8_t> b(65536);
    for (;;)
    {
        int64_t a = NowNs();
        ssize_t r = read(dev.Fd(), b.data(), b.size());
        if (r <= 0)
        {
            break;
        }
        Parsed p = ParsePacket(b.data(), static_cast<size_t>(r), 1);
        (void)p;
        readNs.push_back(NowNs() - a);
    }
    std::vector<int64_t> writeNs = MeasureTunWrite(ns, dev.Fd(), n);
    std::vector<int64_t> timerLate = MeasureTimerWakeups();
    int64_t c0 = NowNs();
    for (int i = 0; i < 1000; ++i)
    {
        NowNs();
    }
    double clockNs = (NowNs() - c0) / 1000.0;
    return {{"payload_bytes", payload},
            {"reader_read_ns", SampleSummary(readNs, 1, "_ns")},
            {"sender_send_ns", SampleSummary(sendNs, 1, "_ns")},
            {"reader_write_ns", SampleSummary(writeNs, 1, "_ns")},
            {"reader_write_bytes", kWriteProbeBytes},
            {"timer_wakeup_sleep_us", kTimerSleepNs / 1000},
            {"timer_wakeup_late_ns", SampleSummary(timerLate, 1, "_ns")},
            {"timer_wakeup_quantiles_us", EqualQuantilesUs(timerLate, 1000)},
            {"clock_gettime_ns", clockNs}};
}


// ------------------------------------------------------------ statistics

double
Quantile(std::vector<int64_t>& v, double q)
{
    if (v.empty())
    {
        return 0.0;
    }
    size_t k = static_cast<size_t>(std::ceil(q * v.size()));
    k = std::max<size_t>(k, 1) - 1;
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return static_cast<double>(v[k]);
}


json
SampleSummary(std::vector<int64_t> v, double unit, const std::string& suffix)
{
    if (v.empty())
    {
        return {{"samples", 0}, {"mean" + suffix, nullptr}, {"p50" + suffix, nullptr}, {"p90" + suffix, nullptr}};
    }
    double sum = 0;
    for (auto x : v)
    {
        sum += static_cast<double>(x);
    }
    return {{"samples", v.size()},
            {"mean" + suffix, sum / v.size() / unit},
            {"p50" + suffix, Quantile(v, 0.5) / unit},
            {"p90" + suffix, Quantile(v, 0.9) / unit}};
}

double
Mean(const std::vector<double>& v)
{
    double s = 0;
    for (double x : v)
    {
        s += x;
    }
    return v.empty() ? 0.0 : s / v.size();
}

double
Stddev(const std::vector<double>& v)
{
    if (v.size() < 2)
    {
        return 0.0;
    }
    double m = Mean(v);
    double s = 0;
    for (double x : v)
    {
        s += (x - m) * (x - m);
    }
    return std::sqrt(s / (v.size() - 1));
}

void
SendProfile::Add(const FlowStats& f)
{
    for (size_t seq = 0; seq < f.sendNs.size(); ++seq)
    {
        const size_t pos = std::min<size_t>(f.sendPos[seq], kPositions - 1);
        const int dropped = seq < f.got.size() && f.got[seq] ? 0 : 1;
        sumNs[dropped][pos] += f.sendNs[seq];
        ++n[dropped][pos];
    }
}

json
SendProfile::Summary(size_t from, size_t to, std::initializer_list<int> fates) const
{
    int64_t sum = 0;
    uint64_t cnt = 0;
    for (size_t pos = from; pos < to; ++pos)
    {
        for (int d : fates)
        {
            sum += sumNs[d][pos];
            cnt += n[d][pos];
        }
    }
    return {{"n", cnt}, {"mean_ns", cnt ? json(static_cast<double>(sum) / cnt) : json(nullptr)}};
}

json
SendProfile::ToJson() const
{
    json byPos = json::array();
    for (size_t pos = 0; pos < kPositions; ++pos)
    {
        json all = Summary(pos, pos + 1, {0, 1});
        if (all["n"] == 0)
        {
            continue;
        }
        all["position"] = pos == kPositions - 1 ? std::to_string(pos) + "+" : std::to_string(pos);
        all["delivered_mean_ns"] = Summary(pos, pos + 1, {0})["mean_ns"];
        all["dropped_mean_ns"] = Summary(pos, pos + 1, {1})["mean_ns"];
        byPos.push_back(all);
    }
    return {{"by_position", byPos},
            {"first", Summary(0, 1, {0, 1})},
            {"rest", Summary(1, kPositions, {0, 1})},
            {"delivered", Summary(0, kPositions, {0})},
            {"dropped", Summary(0, kPositions, {1})}};
}

namespace
{

using SleepWake = std::pair<int64_t, int64_t>; ///< (sleep, wake) in ns

/// The wake-ups and the sleeps of v[from, to).
void
Split(const std::vector<SleepWake>& v, size_t from, size_t to, std::vector<int64_t>& w, std::vector<int64_t>& sl)
{
    w.clear();
    sl.clear();
    for (size_t i = from; i < to; ++i)
    {
        sl.push_back(v[i].first);
        w.push_back(v[i].second);
    }
}

/// One side of the threshold: its wake-ups and sleeps (null when empty).
json
SideJson(std::vector<int64_t> w, std::vector<int64_t> sl)
{
    if (w.empty())
    {
        return nullptr;
    }
    double sum = 0;
    for (auto x : w)
    {
        sum += static_cast<double>(x);
    }
    return {{"samples", w.size()},
            {"wake_us_mean", sum / w.size() / 1e3},
            {"wake_us_p10", Quantile(w, 0.1) / 1e3},
            {"wake_us_p50", Quantile(w, 0.5) / 1e3},
            {"wake_us_p90", Quantile(w, 0.9) / 1e3},
            {"sleep_us_min", sl.empty() ? 0.0 : *std::min_element(sl.begin(), sl.end()) / 1e3},
            {"sleep_us_p50", Quantile(sl, 0.5) / 1e3},
            {"sleep_us_max", sl.empty() ? 0.0 : *std::max_element(sl.begin(), sl.end()) / 1e3}};
}

/// The summed absolute deviation of w from its median.
double
AbsDev(std::vector<int64_t> w)
{
    if (w.empty())
    {
        return 0.0;
    }
    double med = Quantile(w, 0.5);
    double d = 0;
    for (auto x : w)
    {
        d += std::fabs(static_cast<double>(x) - med);
    }
    return d;
}

/// The first index of v (sorted by sleep) whose sleep is at least t ns.
size_t
CutAt(const std::vector<SleepWake>& v, int64_t t)
{
    return static_cast<size_t>(std::lower_bound(v.begin(), v.end(), std::make_pair(t, INT64_MIN)) - v.begin());
}

/// Per sleep bin (-inf, 2, 5, 10, ... 50000 us, inf): samples, wake p10/p50/p90.
json
SleepHistogram(const std::vector<SleepWake>& v)
{
    const std::vector<double> edgesUs = {0, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};
    json hist = json::array();
    std::vector<int64_t> w, sl;
    size_t i = 0;
    for (size_t b = 0; b < edgesUs.size(); ++b)
    {
        const bool last = b + 1 == edgesUs.size();
        const int64_t hi = last ? INT64_MAX : static_cast<int64_t>(edgesUs[b + 1] * 1e3);
        size_t j = i;
        while (j < v.size() && v[j].first < hi)
        {
            ++j;
        }
        Split(v, i, j, w, sl);
        json row = {{"sleep_us_from", b == 0 ? json("-inf") : json(edgesUs[b])},
                    {"sleep_us_to", last ? json("inf") : json(edgesUs[b + 1])},
                    {"samples", j - i}};
        if (j > i)
        {
            row["wake_us_p10"] = Quantile(w, 0.1) / 1e3;
            row["wake_us_p50"] = Quantile(w, 0.5) / 1e3;
            row["wake_us_p90"] = Quantile(w, 0.9) / 1e3;
        }
        hist.push_back(row);
        i = j;
    }
    return hist;
}

/// The two-level step at T = 10^(k/20) us, k = 0..100, wherever both sides
/// have at least max(5, n/100) samples: (T us, summed absolute deviation).
std::vector<std::pair<double, double>>
StepFits(const std::vector<SleepWake>& v)
{
    const size_t n = v.size();
    const size_t minSide = std::max<size_t>(5, n / 100);
    std::vector<std::pair<double, double>> fits;
    std::vector<int64_t> w, sl;
    for (int k = 0; k <= 100; ++k)
    {
        double tUs = std::pow(10.0, k / 20.0);
        size_t cut = CutAt(v, static_cast<int64_t>(tUs * 1e3));
        if (cut < minSide || n - cut < minSide)
        {
            continue;
        }
        Split(v, 0, cut, w, sl);
        double c = AbsDev(w);
        Split(v, cut, n, w, sl);
        c += AbsDev(w);
        fits.emplace_back(tUs, c);
    }
    return fits;
}

} // namespace

json
WakeBySleepJson(const std::vector<std::pair<int64_t, int64_t>>& pairs)
{
    if (pairs.empty())
    {
        return nullptr;
    }
    std::vector<SleepWake> v(pairs); // sorted by sleep
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    std::vector<int64_t> w, sl;
    Split(v, 0, n, w, sl);
    json out;
    out["sleep"] = "first poll() entry after the ring was found empty -> send() of the datagram that woke the reader";
    out["wake"] = "send() -> read() returned for that datagram (wake-up latency + one send())";
    out["samples"] = n;
    out["histogram"] = SleepHistogram(v);
    out["abs_dev_one_level_us_mean"] = AbsDev(w) / n / 1e3;
    // The threshold: the least absolute deviation of a two-level step; where
    // a range of T fits as well (within 0.1 %), its geometric middle.
    const auto fits = StepFits(v);
    if (fits.empty())
    {
        out["threshold_us"] = nullptr;
        out["short"] = nullptr;
        out["long"] = nullptr;
        return out;
    }
    size_t best = 0;
    for (size_t c = 1; c < fits.size(); ++c)
    {
        if (fits[c].second < fits[best].second)
        {
            best = c;
        }
    }
    const double tol = fits[best].second * 1e-3 + 1.0;
    size_t lo = best, hi = best;
    while (lo > 0 && fits[lo - 1].second <= fits[best].second + tol)
    {
        --lo;
    }
    while (hi + 1 < fits.size() && fits[hi + 1].second <= fits[best].second + tol)
    {
        ++hi;
    }
    const double tUs = std::sqrt(fits[lo].first * fits[hi].first);
    const size_t cut = CutAt(v, static_cast<int64_t>(tUs * 1e3));
    out["threshold_us"] = tUs;
    out["threshold_range_us"] = {fits[lo].first, fits[hi].first};
    out["abs_dev_two_levels_us_mean"] = fits[best].second / n / 1e3;
    Split(v, 0, cut, w, sl);
    out["short"] = SideJson(w, sl);
    Split(v, cut, n, w, sl);
    out["long"] = SideJson(w, sl);
    return out;
}

} // namespace kernel
} // namespace tunsim
