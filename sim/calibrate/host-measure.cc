// The measurements of tunsim calibrate (see host-measure.h).
#include "host-measure.h"

#include "kernel/clock.h"
#include "kernel/measure.h"
#include "kernel/traffic.h"
#include "scenario/host-profile.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cmath>
#include <functional>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tunsim
{
namespace calibrate
{

using json = nlohmann::json;
using namespace kernel;

namespace
{

/// A flood or a long burst sends back to back: the send cost that matters
/// is the steady one. The first sends after an idle millisecond are slower
/// (caches, the CPU's clock): bursts of kStreamBurst, the first kWarmSends
/// left out (the first of all is send_cost_first_ns).
constexpr uint32_t kStreamBurst = 256;
constexpr uint32_t kWarmSends = 32;

/// A calibration device: tun with txqueuelen `ring`, pfifo_fast (the
/// scenarios' default qdisc), its own /24.
struct CalDevice
{
    CalDevice(const Netns& ns, const std::string& name, uint32_t ring, int net)
        : dev(ns, name, ring, "10." + std::to_string(net) + ".0.1/24"),
          dst("10." + std::to_string(net) + ".0.2")
    {
        SetQdisc(ns, name, "pfifo_fast", 0);
    }
    TunDevice dev;
    std::string dst;
};

/// A UDP socket to the device's peer address, made in the namespace.
struct CalSocket
{
    CalSocket(const Netns& ns, const std::string& dst)
    {
        InNamespace(ns.Fd(), [&]() { fd = UdpSocket(dst.c_str(), kFirstPort, 0); });
    }
    ~CalSocket()
    {
        if (fd >= 0)
        {
            close(fd);
        }
    }
    CalSocket(const CalSocket&) = delete;
    CalSocket& operator=(const CalSocket&) = delete;
    int fd = -1;
};

/// A thread on the last CPU running fn(stop) until destroyed (joined on
/// every exit path).
class Background
{
  public:
    explicit Background(std::function<void(const std::atomic<bool>&)> fn)
        : m_thread([this, fn]() {
              PinToCpu(static_cast<int>(std::thread::hardware_concurrency()) - 1);
              fn(m_stop);
          })
    {
    }
    ~Background() { Stop(); }
    void Stop()
    {
        m_stop.store(true);
        if (m_thread.joinable())
        {
            m_thread.join();
        }
    }

  private:
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

/// One timed send() of datagram `seq`: its duration in ns (-1 on an error).
int64_t
TimedSend(int fd, std::vector<uint8_t>& buf, uint32_t seq, int64_t* sentAt = nullptr)
{
    const int64_t a = NowNs();
    PutHeader(buf.data(), seq, a);
    const ssize_t r = send(fd, buf.data(), buf.size(), 0);
    const int64_t b = NowNs();
    if (sentAt)
    {
        *sentAt = a;
    }
    return r == static_cast<ssize_t>(buf.size()) ? b - a : -1;
}

double
MeanOf(const std::vector<int64_t>& v)
{
    double s = 0;
    for (auto x : v)
    {
        s += static_cast<double>(x);
    }
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

uint32_t
Scaled(const Plan& plan, double n)
{
    return static_cast<uint32_t>(std::max(1.0, std::round(n * plan.scale)));
}

/// {n, mean_ns, p50_ns, p90_ns} of v.
json
Summary(std::vector<int64_t> v)
{
    json s = SampleSummary(v, 1, "_ns");
    return s;
}

/// A datagram the spinning reader found right after a read() that found the
/// ring empty: when it reached the ring, to within half a read().
struct Landing
{
    uint32_t seq;
    int64_t at; ///< midway between the empty read()'s ring check and the next one's
};
constexpr size_t kMaxLandings = 1000000;

/// A reader that never sleeps: read() until told to stop. For each datagram
/// read right after an empty read(), the time it reached the ring: between
/// the two reads' ring checks (each taken midway through the empty read's
/// duration into its syscall).
void
SpinningReader(int fd, const std::atomic<bool>& stop, std::vector<Landing>& out)
{
    std::vector<uint8_t> b(65536);
    int64_t emptyAt = -1;  // the last read() that found the ring empty: its start
    int64_t emptyDur = 0;  // and its duration
    while (!stop.load() && !Interrupted())
    {
        const int64_t a = NowNs();
        const ssize_t n = read(fd, b.data(), b.size());
        const int64_t z = NowNs();
        if (n < 0)
        {
            emptyAt = a;
            emptyDur = z - a;
            continue;
        }
        const Parsed p = ParsePacket(b.data(), static_cast<size_t>(n), 1);
        if (p.ours && emptyAt >= 0 && out.size() < kMaxLandings)
        {
            const int64_t half = emptyDur / 2;
            out.push_back({p.seq, ((emptyAt + half) + (a + half)) / 2});
        }
        emptyAt = -1;
    }
}

} // namespace

std::vector<double>
QuantileMidpoints(std::vector<double>& xs, size_t n)
{
    std::sort(xs.begin(), xs.end());
    std::vector<double> q;
    for (size_t i = 0; i < n && !xs.empty(); ++i)
    {
        const size_t k = std::min(xs.size() - 1, static_cast<size_t>((i + 0.5) / n * xs.size()));
        q.push_back(std::round(std::max(0.0, xs[k]) * 100.0) / 100.0);
    }
    return q;
}

json
MeasureReadPoll(const Netns& ns, const Plan& plan)
{
    CalDevice d(ns, "tcal0", 1000, 11);
    CalSocket s(ns, d.dst);
    std::vector<uint8_t> buf(plan.payload, 0);
    std::vector<uint8_t> rbuf(65536);
    std::vector<int64_t> pollNs, readNs, readEmptyNs;
    const uint32_t rounds = Scaled(plan, 5);
    for (uint32_t r = 0; r < rounds && !Interrupted(); ++r)
    {
        for (uint32_t i = 0; i < 200; ++i)
        {
            TimedSend(s.fd, buf, i);
        }
        for (;;)
        {
            // tun_chr_poll() on a ring with data, then tun_do_read().
            const int64_t t0 = NowNs();
            pollfd p{d.dev.Fd(), POLLIN, 0};
            const int pr = poll(&p, 1, 0);
            const int64_t t1 = NowNs();
            if (pr <= 0)
            {
                break;
            }
            const ssize_t n = read(d.dev.Fd(), rbuf.data(), rbuf.size());
            const int64_t t2 = NowNs();
            if (n <= 0)
            {
                break;
            }
            pollNs.push_back(t1 - t0);
            readNs.push_back(t2 - t1);
        }
        // The ring is empty now: a read-until-empty reader's last read()
        // before it sleeps (tun_ring_recv() with O_NONBLOCK: -EAGAIN).
        for (uint32_t i = 0; i < 200; ++i)
        {
            const int64_t t0 = NowNs();
            const ssize_t n = read(d.dev.Fd(), rbuf.data(), rbuf.size());
            const int64_t t1 = NowNs();
            if (n < 0 && errno == EAGAIN)
            {
                readEmptyNs.push_back(t1 - t0);
            }
        }
    }
    ThrowIfInterrupted();
    return {{"poll_ns", MeanOf(pollNs)}, {"read_ns", MeanOf(readNs)}, {"read_empty_ns", MeanOf(readEmptyNs)},
            {"poll", Summary(pollNs)},   {"read", Summary(readNs)},   {"read_empty", Summary(readEmptyNs)}};
}

json
MeasureFullRing(const Netns& ns, const Plan& plan)
{
    CalDevice d(ns, "tcal1", 1, 12);
    CalSocket s(ns, d.dst);
    std::vector<uint8_t> buf(plan.payload, 0);
    std::vector<int64_t> full;
    const uint32_t rounds = Scaled(plan, 25);
    uint32_t seq = 0;
    for (uint32_t r = 0; r < rounds && !Interrupted(); ++r)
    {
        WaitUntil(NowNs() + 1000000);
        for (uint32_t pos = 0; pos < kStreamBurst; ++pos)
        {
            const int64_t ns_ = TimedSend(s.fd, buf, seq++);
            if (pos >= kWarmSends && ns_ >= 0)
            {
                full.push_back(ns_); // nobody reads a ring of 1: tun_net_xmit() drops it
            }
        }
    }
    ThrowIfInterrupted();
    return {{"send_full_ns", MeanOf(full)}, {"send", Summary(full)}};
}

json
MeasureRunning(const Netns& ns, const Plan& plan)
{
    CalDevice d(ns, "tcal2", 1000, 13);
    CalSocket s(ns, d.dst);
    const int fd = d.dev.Fd();
    std::vector<Landing> landings;
    landings.reserve(kMaxLandings);
    Background reader([fd, &landings](const std::atomic<bool>& stop) { SpinningReader(fd, stop, landings); });
    std::vector<uint8_t> buf(plan.payload, 0);
    std::vector<int64_t> first, running, sentAt;
    std::vector<uint32_t> posOf;
    const uint32_t rounds = Scaled(plan, 100);
    uint32_t seq = 0;
    for (uint32_t r = 0; r < rounds && !Interrupted(); ++r)
    {
        WaitUntil(NowNs() + 1000000);
        for (uint32_t pos = 0; pos < kStreamBurst; ++pos)
        {
            int64_t at = 0;
            const int64_t ns_ = TimedSend(s.fd, buf, seq++, &at);
            sentAt.push_back(ns_ >= 0 ? at : -1);
            posOf.push_back(pos);
            if (ns_ >= 0 && (pos == 0 || pos >= kWarmSends))
            {
                (pos == 0 ? first : running).push_back(ns_);
            }
        }
    }
    WaitUntil(NowNs() + 200000); // the last datagram read
    reader.Stop();
    ThrowIfInterrupted();
    // Where in a send() the datagram reached the ring: from the send()'s
    // start to the reader's check that found it (the steady sends only).
    std::vector<int64_t> enqueue;
    for (const Landing& l : landings)
    {
        if (l.seq < sentAt.size() && sentAt[l.seq] >= 0 && posOf[l.seq] >= kWarmSends && l.at >= sentAt[l.seq])
        {
            enqueue.push_back(l.at - sentAt[l.seq]);
        }
    }
    json out = {{"send_first_ns", MeanOf(first)}, {"send_running_ns", MeanOf(running)},
                {"first", Summary(first)},        {"running", Summary(running)},
                {"enqueue", Summary(enqueue)}};
    if (!enqueue.empty())
    {
        out["send_enqueue_ns"] = Quantile(enqueue, 0.5); // = enqueue.p50_ns
    }
    return out;
}

namespace
{

/// MeasureWakeups' trains: gapOf's mark, their length and spacings.
constexpr size_t kTrain = SIZE_MAX;
constexpr uint32_t kTrainLength = 40;
constexpr int64_t kTrainSpacingNs[] = {0, 1000, 2000, 4000, 8000};

/// What the sleeping reader saw: the first datagram after each sleep.
struct WakeRecord
{
    uint32_t seq;
    int64_t sleepStart; ///< first poll() entry after read() found the ring empty
    int64_t afterRead;  ///< read() of the datagram returned
};

/// The twin's reader with no per-packet work: read() until -EAGAIN, then
/// poll() (2 ms timeouts, as the twin); the first datagram read after a
/// sleep is recorded.
void
SleepingReader(int fd, const std::atomic<bool>& stop, std::vector<WakeRecord>& out)
{
    std::vector<uint8_t> b(65536);
    bool idle = true;
    int64_t sleepStart = -1;
    while (!stop.load() && !Interrupted())
    {
        const ssize_t n = read(fd, b.data(), b.size());
        if (n < 0)
        {
            if (sleepStart < 0)
            {
                sleepStart = NowNs();
            }
            idle = true;
            pollfd p{fd, POLLIN, 0};
            poll(&p, 1, 2);
            continue;
        }
        const int64_t afterRead = NowNs();
        const Parsed p = ParsePacket(b.data(), static_cast<size_t>(n), 1);
        if (p.ours && idle && sleepStart >= 0 && out.size() < 1000000)
        {
            out.push_back({p.seq, sleepStart, afterRead});
        }
        idle = false;
        sleepStart = -1;
    }
}

/// What MeasureWakeups sent: per datagram (its seq is the index) its
/// send()'s duration (-1: failed), start and gap (an index into the gaps;
/// kTrain: a datagram of a train).
struct WakeupSends
{
    std::vector<int64_t> sendNs, sentAt;
    std::vector<size_t> gapOf;
};

/// MeasureWakeups' datagrams on socket fd: single ones after each gap of
/// gapsUs, then trains.
void
SendWakeupPattern(int fd, const Plan& plan, const std::vector<int64_t>& gapsUs, WakeupSends& out)
{
    // Single datagrams at gaps cycling through 10 us .. 10 ms: the reader
    // sleeps (about) the gap before each.
    const size_t kShortGaps = 7; // the cycle; 30 and 100 ms (bursts 30 ms apart and more) below
    // At least kMinGapSends per gap whatever --scale says: a gap of
    // send_wake_by_gap needs 10 waking sends (host-profile.cc), and the
    // profile must have at least one gap (at --scale 0.05 none had).
    constexpr uint32_t kMinGapSends = 12;
    const uint32_t perGap = std::max(Scaled(plan, 150), kMinGapSends);
    std::vector<uint8_t> buf(plan.payload, 0);
    auto sendAfter = [&](int64_t waitNs, size_t gap) {
        WaitUntil(NowNs() + waitNs);
        int64_t at = 0;
        const int64_t ns_ = TimedSend(fd, buf, static_cast<uint32_t>(out.sendNs.size()), &at);
        out.sendNs.push_back(ns_);
        out.sentAt.push_back(at);
        out.gapOf.push_back(gap);
    };
    WaitUntil(NowNs() + 20000000); // the reader asleep first
    for (uint32_t k = 0; k < perGap && !Interrupted(); ++k)
    {
        for (size_t g = 0; g < kShortGaps; ++g)
        {
            sendAfter(gapsUs[g] * 1000, g);
        }
    }
    // The long idle gaps: a burst's first send() after the sender slept as
    // long as a grid's bursts are apart (fewer: each costs its gap; at
    // least kMinGapSends, 1.6 s in all, so that the table reaches 100 ms).
    for (uint32_t k = 0; k < std::max(Scaled(plan, 30), kMinGapSends) && !Interrupted(); ++k)
    {
        sendAfter(gapsUs[kShortGaps] * 1000, kShortGaps);
    }
    for (uint32_t k = 0; k < std::max(Scaled(plan, 10), kMinGapSends) && !Interrupted(); ++k)
    {
        sendAfter(gapsUs[kShortGaps + 1] * 1000, kShortGaps + 1);
    }
    // Trains: a sender that keeps sending, kTrainLength datagrams spaced
    // kTrainSpacingNs after each send() returns, 2 ms apart: a reader that
    // is a little faster than the sender finds the ring empty and sleeps a
    // few us before the next datagram wakes it -- the short sleeps of a
    // burst, which single datagrams at 10 us and more never give.
    for (uint32_t k = 0; k < Scaled(plan, 40) && !Interrupted(); ++k)
    {
        for (const int64_t spacingNs : kTrainSpacingNs)
        {
            WaitUntil(NowNs() + 2000000);
            for (uint32_t i = 0; i < kTrainLength; ++i)
            {
                sendAfter(i == 0 ? 0 : spacingNs, kTrain);
            }
        }
    }
}

/// The datagrams the sleeping reader's poll() saw: landed (`enq` after
/// their send() began) before it began -- its first pass found them -- or
/// within `pollNs` of its entry, while it was entering the wait (pollwake()
/// set pwq->triggered: do_poll() goes round again). {poll_block_ns: the
/// poll() that may block, from the first kind: median of its entry ->
/// read() returned, less `readNs`, at least `pollNs`; seen_before_poll,
/// seen_entering_poll: read() returned how long after the poll() began, and
/// after they landed}.
json
PollCatches(const std::vector<WakeRecord>& recs, const WakeupSends& sent, int64_t enq, double pollNs, double readNs)
{
    std::vector<int64_t> beforeFromPoll, inFromPoll, inFromLanding;
    for (const WakeRecord& r : recs)
    {
        if (r.seq >= sent.sendNs.size() || sent.sendNs[r.seq] < 0)
        {
            continue;
        }
        const int64_t landed = sent.sentAt[r.seq] + enq;
        if (landed < r.sleepStart)
        {
            beforeFromPoll.push_back(r.afterRead - r.sleepStart);
        }
        else if (landed - r.sleepStart < static_cast<int64_t>(std::llround(pollNs)))
        {
            inFromPoll.push_back(r.afterRead - r.sleepStart);
            inFromLanding.push_back(r.afterRead - landed);
        }
    }
    const double blockNs = beforeFromPoll.empty() ? pollNs : std::max(pollNs, Quantile(beforeFromPoll, 0.5) - readNs);
    return {{"poll_block_ns", blockNs},
            {"seen_before_poll", {{"read_returned_from_poll", Summary(beforeFromPoll)}}},
            {"seen_entering_poll",
             {{"read_returned_from_poll", Summary(inFromPoll)},
              {"read_returned_from_landing", Summary(inFromLanding)}}}};
}

} // namespace

json
MeasureReaderStolen(const Netns& ns, const Plan& plan)
{
    CalDevice d(ns, "tcal4", 500, 15);
    CalSocket s(ns, d.dst);
    const int fd = d.dev.Fd();
    struct Seen
    {
        std::vector<int64_t> gaps;
        int64_t busyNs = 0;
        uint64_t packets = 0;
    } seen;
    constexpr int64_t kCostNs = 5000;
    Background reader([fd, &seen](const std::atomic<bool>& stop) {
        // The twin's reader with a 5 us cost per packet, flooded: every gap
        // in its spin is time it was runnable and did not run.
        std::vector<uint8_t> b(65536);
        while (!stop.load() && !Interrupted())
        {
            const int64_t start = NowNs();
            if (read(fd, b.data(), b.size()) <= 0)
            {
                continue;
            }
            // as the TCP twin's endpoints count them (SpinUntilNotingGaps)
            const int64_t done = SpinUntilNotingGaps(start + kCostNs, [&seen](int64_t from, int64_t to) {
                if (seen.gaps.size() < 1000000)
                {
                    seen.gaps.push_back(to - from);
                }
            });
            seen.busyNs += done - start;
            ++seen.packets;
        }
    });
    WaitUntil(NowNs() + 2000000);
    std::vector<uint8_t> buf(plan.payload, 0);
    const int64_t end = NowNs() + static_cast<int64_t>(250e6 * plan.scale);
    uint32_t seq = 0;
    while (NowNs() < end && !Interrupted())
    {
        TimedSend(s.fd, buf, seq++);
    }
    reader.Stop();
    ThrowIfInterrupted();
    double stolen = 0;
    for (int64_t g : seen.gaps)
    {
        stolen += static_cast<double>(g);
    }
    const size_t n = seen.gaps.size();
    const double busyMs = seen.busyNs / 1e6;
    return {{"reader_cost_ns", kCostNs},
            {"packets", seen.packets},
            {"busy_ms", busyMs},
            {"preemptions", n},
            {"preempt_interval_ms", n ? busyMs / static_cast<double>(n) : 0.0},
            {"preempt_ms", n ? stolen / 1e6 / static_cast<double>(n) : 0.0},
            {"stolen_fraction", seen.busyNs > 0 ? stolen / static_cast<double>(seen.busyNs) : 0.0},
            {"gaps", Summary(seen.gaps)}};
}

json
MeasureWakeups(const Netns& ns, const Plan& plan, double pollNs, double enqueueNs, double readNs)
{
    CalDevice d(ns, "tcal3", 1000, 14);
    CalSocket s(ns, d.dst);
    std::vector<WakeRecord> recs;
    const int fd = d.dev.Fd();
    Background reader([fd, &recs](const std::atomic<bool>& stop) { SleepingReader(fd, stop, recs); });
    const std::vector<int64_t> gapsUs = {10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000};
    WakeupSends sent;
    SendWakeupPattern(s.fd, plan, gapsUs, sent);
    const std::vector<int64_t>& sendNs = sent.sendNs;
    const std::vector<int64_t>& sentAt = sent.sentAt;
    const std::vector<size_t>& gapOf = sent.gapOf;
    WaitUntil(NowNs() + 20000000);
    reader.Stop();
    ThrowIfInterrupted();
    // (sleep, wake-up) from when the datagram reached the ring: its send()'s
    // start + enqueueNs (MeasureRunning's send_enqueue_ns), where the
    // simulator puts it (flows[].send_enqueue_ns) and counts the wake-up
    // from; the waking send() is the dear one (~35 us here) and the
    // reader's read comes after it. fromSend: the same from the send()'s
    // start (version 3, the twin's reader_wakeups).
    const auto enq = static_cast<int64_t>(std::llround(enqueueNs));
    std::vector<std::pair<int64_t, int64_t>> pairs, fromSend;
    std::vector<int64_t> wakeSend;
    std::vector<std::vector<int64_t>> wakeByGap(gapsUs.size()), sendByGap(gapsUs.size());
    for (const WakeRecord& r : recs)
    {
        if (r.seq >= sendNs.size() || sendNs[r.seq] < 0)
        {
            continue;
        }
        const int64_t wake = std::max<int64_t>(0, r.afterRead - sentAt[r.seq] - sendNs[r.seq]);
        pairs.emplace_back(sentAt[r.seq] + enq - r.sleepStart, std::max<int64_t>(0, r.afterRead - sentAt[r.seq] - enq));
        fromSend.emplace_back(sentAt[r.seq] - r.sleepStart, std::max<int64_t>(0, r.afterRead - sentAt[r.seq]));
        if (gapOf[r.seq] == kTrain)
        {
            continue; // a running sender's wake: in the bins, not in the send costs by gap
        }
        wakeSend.push_back(sendNs[r.seq]);
        wakeByGap[gapOf[r.seq]].push_back(wake);
        sendByGap[gapOf[r.seq]].push_back(sendNs[r.seq]);
    }
    const json catches = PollCatches(recs, sent, enq, pollNs, readNs);
    const double blockNs = catches["poll_block_ns"].get<double>();
    // do_poll(): a datagram that reached the ring before the reader's poll()
    // could have blocked (within poll_block_ns of its entry) was seen by the
    // poll itself, with no wake-up; the simulator models those (VpnReader's
    // Blocking state), so the bins hold only the reader's real wake-ups.
    const auto window = static_cast<int64_t>(std::llround(blockNs));
    const auto seenByPoll = std::count_if(pairs.begin(), pairs.end(),
                                          [window](const std::pair<int64_t, int64_t>& pr) { return pr.first < window; });
    const json real = WakeBins(pairs, 20, window);
    json byGap = json::array();
    for (size_t g = 0; g < gapsUs.size(); ++g)
    {
        byGap.push_back({{"gap_us", gapsUs[g]},
                         {"wake_from_send_return", SampleSummary(wakeByGap[g], 1, "_ns")},
                         {"send", SampleSummary(sendByGap[g], 1, "_ns")}});
    }
    return {{"send_wake_ns", MeanOf(wakeSend)},
            {"send_wake_by_gap", ProfileSendWakeByGap(byGap)},
            {"datagrams", sendNs.size()},
            {"wake_samples", pairs.size()},
            {"send_wake", Summary(wakeSend)},
            {"by_gap", byGap},
            {"wake_by_sleep", WakeBySleepJson(fromSend)},
            {"poll_window_ns", window},
            {"seen_by_poll", seenByPoll},
            {"enqueue_ns", enq},
            {"poll_block_ns", blockNs},
            {"seen_before_poll", catches["seen_before_poll"]},
            {"seen_entering_poll", catches["seen_entering_poll"]},
            {"wakeup_by_sleep_from_send", WakeBins(fromSend, 20, window)},
            // (every datagram seen by the poll: no real wake-up measured, the bins of all)
            {"wakeup_by_sleep", real.empty() ? WakeBins(pairs, 20) : real}};
}

json
WakeBins(std::vector<std::pair<int64_t, int64_t>> pairs, size_t minSamples, int64_t minSleepNs)
{
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                               [minSleepNs](const std::pair<int64_t, int64_t>& pr) { return pr.first < minSleepNs; }),
                pairs.end());
    std::sort(pairs.begin(), pairs.end());
    const std::vector<int64_t> edgesUs = {0, 1, 2, 3, 5, 10, 20, 50, 200, 1000, 5000, 20000};
    // Samples per fixed bin, then merge the small ones.
    std::vector<std::pair<int64_t, std::vector<double>>> bins; // (from us, wake us)
    size_t i = 0;
    for (size_t e = 0; e < edgesUs.size(); ++e)
    {
        const int64_t hi = e + 1 < edgesUs.size() ? edgesUs[e + 1] * 1000 : INT64_MAX;
        std::vector<double> w;
        for (; i < pairs.size() && pairs[i].first < hi; ++i)
        {
            w.push_back(static_cast<double>(pairs[i].second) / 1e3);
        }
        bins.emplace_back(edgesUs[e], std::move(w));
    }
    std::vector<std::pair<int64_t, std::vector<double>>> merged;
    for (auto& b : bins)
    {
        if (!merged.empty() && (b.second.size() < minSamples || merged.back().second.size() < minSamples))
        {
            merged.back().second.insert(merged.back().second.end(), b.second.begin(), b.second.end());
            continue;
        }
        merged.push_back(std::move(b));
    }
    json out = json::array();
    for (auto& [fromUs, w] : merged)
    {
        if (w.empty())
        {
            continue;
        }
        const size_t n = w.size();
        out.push_back({{"sleep_us_from", out.empty() ? 0 : fromUs},
                       {"samples", n},
                       {"wake_quantiles_us", QuantileMidpoints(w, 100)}});
    }
    return out;
}

} // namespace calibrate
} // namespace tunsim
