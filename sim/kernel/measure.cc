// The probe, the calibration and the statistics of tunsim kernel (see measure.h).
#include "measure.h"

#include "clock.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include <sys/socket.h>
#include <unistd.h>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

// ------------------------------------------------------------ probe and calibration

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
    std::string verdict;
    std::string why;
    if (txDropped > 0 && tc.backlogPackets == 0)
    {
        verdict = "drop";
        why = "a full tun ring dropped packets (tx_dropped > 0) and the qdisc held none: tun_net_xmit() drops "
              "instead of stopping the tx queue (mainline)";
    }
    else if (txDropped == 0 && tc.backlogPackets > 0)
    {
        verdict = "nodrop-like";
        why = "no tun drops while packets waited in the qdisc: the tx queue was stopped (a NODROP kernel)";
    }
    else
    {
        verdict = "unknown";
        why = "neither pattern: tx_dropped " + std::to_string(txDropped) + ", qdisc backlog " +
              std::to_string(tc.backlogPackets);
    }
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
    int64_t c0 = NowNs();
    for (int i = 0; i < 1000; ++i)
    {
        NowNs();
    }
    double clockNs = (NowNs() - c0) / 1000.0;
    return {{"payload_bytes", payload},
            {"reader_read_ns", SampleSummary(readNs, 1, "_ns")},
            {"sender_send_ns", SampleSummary(sendNs, 1, "_ns")},
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

json
WakeBySleepJson(const std::vector<std::pair<int64_t, int64_t>>& pairs)
{
    if (pairs.empty())
    {
        return nullptr;
    }
    std::vector<std::pair<int64_t, int64_t>> v(pairs); // sorted by sleep
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    auto stats = [](std::vector<int64_t> w, std::vector<int64_t> sl) {
        if (w.empty())
        {
            return json(nullptr);
        }
        double sum = 0;
        for (auto x : w)
        {
            sum += static_cast<double>(x);
        }
        return json({{"samples", w.size()},
                     {"wake_us_mean", sum / w.size() / 1e3},
                     {"wake_us_p10", Quantile(w, 0.1) / 1e3},
                     {"wake_us_p50", Quantile(w, 0.5) / 1e3},
                     {"wake_us_p90", Quantile(w, 0.9) / 1e3},
                     {"sleep_us_min", sl.empty() ? 0.0 : *std::min_element(sl.begin(), sl.end()) / 1e3},
                     {"sleep_us_p50", Quantile(sl, 0.5) / 1e3},
                     {"sleep_us_max", sl.empty() ? 0.0 : *std::max_element(sl.begin(), sl.end()) / 1e3}});
    };
    auto split = [&](size_t from, size_t to, std::vector<int64_t>& w, std::vector<int64_t>& sl) {
        w.clear();
        sl.clear();
        for (size_t i = from; i < to; ++i)
        {
            sl.push_back(v[i].first);
            w.push_back(v[i].second);
        }
    };
    auto absDev = [](std::vector<int64_t> w) {
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
    };
    // histogram
    const std::vector<double> edgesUs = {0, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};
    json hist = json::array();
    std::vector<int64_t> w, sl;
    size_t i = 0;
    for (size_t b = 0; b < edgesUs.size(); ++b)
    {
        const bool last = b + 1 == edgesUs.size();
        const int64_t hi = last ? INT64_MAX : static_cast<int64_t>(edgesUs[b + 1] * 1e3);
        size_t j = i;
        while (j < n && v[j].first < hi)
        {
            ++j;
        }
        split(i, j, w, sl);
        json row = {{"sleep_us_from", b == 0 ? json("-inf") : json(edgesUs[b])},
                    {"sleep_us_to", last ? json("inf") : json(edgesUs[b + 1])},
                    {"samples", j - i}};
        if (j > i)
        {
            std::vector<int64_t> wc(w);
            row["wake_us_p10"] = Quantile(wc, 0.1) / 1e3;
            row["wake_us_p50"] = Quantile(wc, 0.5) / 1e3;
            row["wake_us_p90"] = Quantile(wc, 0.9) / 1e3;
        }
        hist.push_back(row);
        i = j;
    }
    // threshold: least absolute deviation of a two-level step
    std::vector<int64_t> all;
    for (const auto& p : v)
    {
        all.push_back(p.second);
    }
    const double oneLevel = absDev(all);
    const size_t minSide = std::max<size_t>(5, n / 100);
    std::vector<std::pair<double, double>> cand; // (T us, cost)
    for (int k = 0; k <= 100; ++k)
    {
        double tUs = std::pow(10.0, k / 20.0);
        int64_t t = static_cast<int64_t>(tUs * 1e3);
        size_t cut = static_cast<size_t>(std::lower_bound(v.begin(), v.end(), std::make_pair(t, INT64_MIN)) - v.begin());
        if (cut < minSide || n - cut < minSide)
        {
            continue;
        }
        split(0, cut, w, sl);
        double c = absDev(w);
        split(cut, n, w, sl);
        c += absDev(w);
        cand.emplace_back(tUs, c);
    }
    json out;
    out["sleep"] = "first poll() entry after the ring was found empty -> send() of the datagram that woke the reader";
    out["wake"] = "send() -> read() returned for that datagram (wake-up latency + one send())";
    out["samples"] = n;
    out["histogram"] = hist;
    out["abs_dev_one_level_us_mean"] = oneLevel / n / 1e3;
    if (cand.empty())
    {
        out["threshold_us"] = nullptr;
        out["short"] = nullptr;
        out["long"] = nullptr;
        return out;
    }
    size_t best = 0;
    for (size_t c = 1; c < cand.size(); ++c)
    {
        if (cand[c].second < cand[best].second)
        {
            best = c;
        }
    }
    const double tol = cand[best].second * 1e-3 + 1.0;
    size_t lo = best, hi = best;
    while (lo > 0 && cand[lo - 1].second <= cand[best].second + tol)
    {
        --lo;
    }
    while (hi + 1 < cand.size() && cand[hi + 1].second <= cand[best].second + tol)
    {
        ++hi;
    }
    const double tUs = std::sqrt(cand[lo].first * cand[hi].first);
    const int64_t t = static_cast<int64_t>(tUs * 1e3);
    size_t cut = static_cast<size_t>(std::lower_bound(v.begin(), v.end(), std::make_pair(t, INT64_MIN)) - v.begin());
    out["threshold_us"] = tUs;
    out["threshold_range_us"] = {cand[lo].first, cand[hi].first};
    out["abs_dev_two_levels_us_mean"] = cand[best].second / n / 1e3;
    split(0, cut, w, sl);
    out["short"] = stats(w, sl);
    split(cut, n, w, sl);
    out["long"] = stats(w, sl);
    return out;
}


} // namespace kernel
} // namespace tunsim
