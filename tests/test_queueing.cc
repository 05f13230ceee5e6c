// Queueing-theory cross-check of the whole tun transmit path.
//
// With Poisson arrivals, a reader that spends a fixed time D per packet, the
// mainline `drop` policy (the tx queue is never stopped, so the qdisc above
// the ring never holds anything and the sender is never throttled) and every
// other latency set to zero, tun0 is an M/D/1/K loss system:
//
//   * arrivals: UdpSeqSender, mode rate, poisson, send_cost_ns 0 and a huge
//     sk_sndbuf, so datagrams reach tun_net_xmit() at the Poisson instants;
//   * service: VpnReader.per_packet_ns = D, ns_per_byte 0, wakeup latency 0
//     (a reader asleep on the empty ring takes the packet at once);
//   * capacity K counts the packet in service: the reader consumes a packet
//     (ptr_ring_consume frees the slot, when the ring's batch is 1) at the
//     moment it starts working on it, so the ring holds ring_size waiting
//     packets while one more is in the reader's hands: K = ring_size + 1;
//   * the underlay (100 Gbit/s) and the VPN's socket never hold the reader up.
//
// Rings of 32 entries or more free consumed slots 16 at a time (the ptr_ring
// batch rule), so the producer sees the ring full with between ring_size - 15
// and ring_size packets waiting: the loss must lie between M/D/1/K with
// K = ring_size + 1 - 15 and K = ring_size + 1. For that case the test also
// compares against a small reference simulation that drives the model's own
// PtrRing with Poisson arrivals and a deterministic server (no ns-3), which
// gives the exact expected loss of the batched ring.
//
// Blocking probability of M/G/1/K (Gross, Shortle, Thompson & Harris,
// "Fundamentals of Queueing Theory", 4th ed., Sec. 5.1.9 "M/G/1/K"):
//   Embedded Markov chain at departure epochs, states n = 0..K-1 (number left
//   behind; a departure never leaves K behind). With a_k = P{k arrivals during
//   one service} (M/D/1: a_k = e^{-rho} rho^k / k!, rho = lambda D),
//     P[0][j] = a_j,          j = 0..K-2;  P[0][K-1] = 1 - sum_{j<=K-2} a_j
//     P[i][j] = a_{j-i+1},    i >= 1, j = i-1..K-2;  P[i][K-1] = 1 - the rest
//   Solve pi = pi P, sum pi = 1. Arrival-epoch (= time-average, PASTA)
//   probabilities: p_n = pi_n / (pi_0 + rho) for n < K and
//     p_K = P_block = 1 - 1 / (pi_0 + rho).
//   (Derivation: accepted arrivals see the departure-epoch distribution,
//   p_n = (1 - p_K) pi_n; the server is busy 1 - p_0 = rho (1 - p_K) of the
//   time; eliminate p_0.) K = 1 has no chain: P_block = rho / (1 + rho).
//
// Statistical tolerance: the loss fraction from N arrivals has variance
// F * p (1 - p) / N, where F >= 1 inflates the binomial variance for the
// correlation of losses (they come in clusters while the system is full). F is
// estimated by batch means (100 batches) from the reference simulation of the
// same system with 4 million arrivals, and the test allows 5 standard errors
// (with F at least 1, times 1.3 for the error of the estimate itself, and an
// absolute floor of 25 packets' worth for the near-zero losses). The runs are
// seeded, so the test is deterministic.
//
// Wall time: the model simulates about 100k packets per wall second on the
// 2-core test machine; the whole file runs ~4.2 million simulated packets
// (about 50 s).
#include "run/experiment.h"
#include "ptr-ring.h"
#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

using nlohmann::json;
using namespace tunsim;

namespace
{

// ------------------------------------------------------------- the formula

/// a_k, k = 0..n-1, for deterministic service: Poisson(rho) pmf.
std::vector<double>
ArrivalsDuringDeterministicService(double rho, size_t n)
{
    std::vector<double> a(n);
    double t = std::exp(-rho);
    for (size_t k = 0; k < n; ++k)
    {
        a[k] = t;
        t *= rho / static_cast<double>(k + 1);
    }
    return a;
}

/// a_k for exponential service of mean 1/mu and arrival rate lambda (rho =
/// lambda/mu): integral of e^{-lambda t} (lambda t)^k / k! mu e^{-mu t} dt
/// = 1/(1+rho) * (rho/(1+rho))^k (geometric).
std::vector<double>
ArrivalsDuringExponentialService(double rho, size_t n)
{
    std::vector<double> a(n);
    for (size_t k = 0; k < n; ++k)
    {
        a[k] = std::pow(rho / (1 + rho), static_cast<double>(k)) / (1 + rho);
    }
    return a;
}

/// Blocking probability of M/G/1/K (K counts the customer in service) given
/// a_k (at least K entries) and rho = lambda E[S]. See the file comment.
double
MG1KBlocking(const std::vector<double>& a, double rho, uint32_t K)
{
    if (K == 1)
    {
        return rho / (1 + rho);
    }
    const size_t n = K; // embedded-chain states 0..K-1
    auto A = [&](size_t k) { return k < a.size() ? a[k] : 0.0; };
    std::vector<std::vector<double>> P(n, std::vector<double>(n, 0.0));
    for (size_t i = 0; i < n; ++i)
    {
        size_t from = i == 0 ? 0 : i - 1;
        double sum = 0;
        for (size_t j = from; j + 1 < n; ++j)
        {
            P[i][j] = A(j - from);
            sum += P[i][j];
        }
        P[i][n - 1] = std::max(0.0, 1 - sum);
    }
    // (P^T - I) pi = 0 with the last equation replaced by sum(pi) = 1;
    // Gauss-Jordan with partial pivoting on the augmented matrix.
    std::vector<std::vector<double>> M(n, std::vector<double>(n + 1, 0.0));
    for (size_t r = 0; r < n; ++r)
    {
        for (size_t c = 0; c < n; ++c)
        {
            M[r][c] = P[c][r] - (r == c ? 1.0 : 0.0);
        }
    }
    for (size_t c = 0; c < n; ++c)
    {
        M[n - 1][c] = 1.0;
    }
    M[n - 1][n] = 1.0;
    for (size_t c = 0; c < n; ++c)
    {
        size_t piv = c;
        for (size_t r = c + 1; r < n; ++r)
        {
            if (std::fabs(M[r][c]) > std::fabs(M[piv][c]))
            {
                piv = r;
            }
        }
        std::swap(M[c], M[piv]);
        for (size_t r = 0; r < n; ++r)
        {
            if (r != c && M[r][c] != 0.0)
            {
                double f = M[r][c] / M[c][c];
                for (size_t k = c; k <= n; ++k)
                {
                    M[r][k] -= f * M[c][k];
                }
            }
        }
    }
    double pi0 = M[0][n] / M[0][0];
    double pK = 1 - 1 / (pi0 + rho);
    return std::clamp(pK, 0.0, 1.0);
}

double
MD1KBlocking(double rho, uint32_t K)
{
    return MG1KBlocking(ArrivalsDuringDeterministicService(rho, K + 1), rho, K);
}

double
MM1KBlocking(double rho, uint32_t K)
{
    if (std::fabs(rho - 1) < 1e-12)
    {
        return 1.0 / (K + 1);
    }
    return (1 - rho) * std::pow(rho, K) / (1 - std::pow(rho, K + 1));
}

// ----------------------------------------------- the reference simulation

/// A ring of plain counting capacity (ring_size slots, freed one by one).
class CountingRing
{
  public:
    explicit CountingRing(uint32_t size) : m_size(size) {}
    bool Produce()
    {
        if (m_n >= m_size)
        {
            return false;
        }
        ++m_n;
        return true;
    }
    bool Consume()
    {
        if (m_n == 0)
        {
            return false;
        }
        --m_n;
        return true;
    }

  private:
    uint32_t m_size;
    uint32_t m_n = 0;
};

/// The model's PtrRing (batch 16 for sizes >= 32) with dummy entries.
class BatchedRing
{
  public:
    explicit BatchedRing(uint32_t size) : m_ring(size) {}
    bool Produce() { return m_ring.Produce(&m_dummy) == 0; }
    bool Consume() { return m_ring.Consume() != nullptr; }
    uint32_t Batch() const { return m_ring.Batch(); }

  private:
    int m_dummy = 0;
    PtrRing<int*> m_ring;
};

struct RefResult
{
    uint64_t arrivals = 0;
    uint64_t drops = 0;
    double loss = 0;
    double inflation = 1; ///< F: batch-means variance / binomial variance
};

/// Poisson arrivals (rate rho per service time, service time 1) into `ring`,
/// one deterministic server that takes a packet off the ring when it starts
/// serving it, exactly as VpnReader does: an arrival to an idle system is
/// produced and consumed at once.
template <typename Ring>
RefResult
ReferenceSim(Ring ring, double rho, uint64_t arrivals, uint64_t seed, uint32_t batches = 100)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const uint64_t perBatch = arrivals / batches;
    double t = 0;
    double busyUntil = -1; // the server is busy while t < busyUntil
    uint32_t waiting = 0;  // produced, not consumed
    RefResult r;
    std::vector<double> batchLoss;
    uint64_t batchDrops = 0;
    for (uint64_t i = 0; i < perBatch * batches; ++i)
    {
        t += -std::log(1 - u(rng)) / rho;
        // Service completions before this arrival: the server takes the next.
        while (busyUntil >= 0 && busyUntil <= t)
        {
            if (waiting > 0)
            {
                ring.Consume();
                --waiting;
                busyUntil += 1.0;
            }
            else
            {
                busyUntil = -1;
            }
        }
        if (ring.Produce())
        {
            ++waiting;
            if (busyUntil < 0)
            {
                ring.Consume();
                --waiting;
                busyUntil = t + 1.0;
            }
        }
        else
        {
            ++r.drops;
            ++batchDrops;
        }
        ++r.arrivals;
        if (r.arrivals % perBatch == 0)
        {
            batchLoss.push_back(static_cast<double>(batchDrops) / perBatch);
            batchDrops = 0;
        }
    }
    r.loss = static_cast<double>(r.drops) / r.arrivals;
    double mean = 0;
    for (double x : batchLoss)
    {
        mean += x;
    }
    mean /= batchLoss.size();
    double var = 0;
    for (double x : batchLoss)
    {
        var += (x - mean) * (x - mean);
    }
    var /= batchLoss.size() - 1;
    double binomial = r.loss * (1 - r.loss) / perBatch;
    r.inflation = binomial > 0 ? var / binomial : 1.0;
    return r;
}

/// Tolerance on a loss fraction estimated from `n` arrivals (file comment).
double
Tolerance(double p, double inflation, uint64_t n)
{
    double f = 1.3 * std::max(1.0, inflation);
    return 5 * std::sqrt(f * p * (1 - p) / n) + 25.0 / n;
}

// ------------------------------------------------------------ the ns-3 runs

constexpr double kServiceNs = 10000; // D = 10 us: exponential gaps of ~8-20 us
                                     // lose little to the 1 ns time resolution
constexpr uint32_t kPayload = 1400;

struct TunRun
{
    uint64_t sent = 0;
    uint64_t dropped = 0;
    double loss = 0;
    json result;
};

/// One run of the full path as an M/D/1/K system with load rho and
/// `arrivals` expected Poisson arrivals.
TunRun
RunTunMD1K(double rho, uint32_t ringSize, const std::string& qdisc, uint64_t arrivals, uint64_t seed)
{
    const double lambda = rho / (kServiceNs * 1e-9); // packets per second
    json j = {
        {"name", "md1k"},
        {"duration_s", static_cast<double>(arrivals) / lambda},
        {"seed", seed},
        {"tun", {{"ring_size", ringSize}, {"policy", "drop"}, {"softirq_latency_us", 0}}},
        {"qdisc", {{"kind", qdisc}}},
        {"reader",
         {{"per_packet_ns", kServiceNs},
          {"ns_per_byte", 0},
          {"wakeup_latency_us", 0},
          {"batch", 1},
          {"encap", "wireguard"},
          {"sndbuf_bytes", 2147483647}}},
        {"underlay", {{"rate_mbps", 100000}, {"delay_ms", 0.01}, {"queue_packets", 100000}}},
        {"host", {{"udp_sndbuf_bytes", 2147483647}, {"sender_wakeup_latency_us", 0}}},
        {"flows",
         {{{"kind", "udp"},
           {"mode", "rate"},
           {"poisson", true},
           {"payload_bytes", kPayload},
           {"rate_mbps", lambda * kPayload * 8 / 1e6},
           {"send_cost_ns", 0}}}},
    };
    Scenario s = ScenarioFromJson(j);
    RunOutput out = RunExperiment(s);
    TunRun r;
    r.result = ToJson(out.result);
    const json& f = r.result["flows"][0];
    r.sent = f["sent_packets"].get<uint64_t>();
    r.dropped = f["dropped_packets"].get<uint64_t>();
    r.loss = r.sent ? static_cast<double>(r.dropped) / r.sent : 0.0;

    // The run is the system the theory describes.
    EXPECT_TRUE(out.conservationOk) << out.summary;
    EXPECT_TRUE(r.result["conservation"]["ok"].get<bool>());
    const json& tun = r.result["tun"];
    EXPECT_EQ(tun["ring_size"].get<uint32_t>(), ringSize);
    EXPECT_EQ(tun["ring_batch"].get<uint32_t>(), PtrRingBatchFor(ringSize));
    EXPECT_EQ(tun["txq"]["stop_count"].get<uint64_t>(), 0u) << "drop never stops the queue";
    // Every loss is a full ring; nothing is lost anywhere else.
    const json& byPlace = r.result["conservation"]["forward"]["dropped_by_place"];
    for (const auto& [place, n] : byPlace.items())
    {
        if (n.get<uint64_t>() > 0)
        {
            EXPECT_EQ(place, "tun0_ring/FULL_RING") << byPlace.dump();
        }
    }
    EXPECT_EQ(tun["tx_dropped"].get<uint64_t>(), r.dropped);
    // The sender and the reader were never held back by socket memory.
    EXPECT_EQ(f["socket"]["blocked_count"].get<uint64_t>(), 0u);
    EXPECT_EQ(r.result["reader"]["socket"]["blocked_count"].get<uint64_t>(), 0u);
    EXPECT_EQ(r.result["reader"]["sndbuf_blocks"].get<uint64_t>(), 0u);
    if (qdisc != "noqueue")
    {
        EXPECT_EQ(r.result["qdisc"]["dropped_packets"].get<uint64_t>(), 0u);
        EXPECT_LE(r.result["qdisc"]["backlog_packets_max"].get<uint32_t>(), 1u)
            << "the qdisc passes each packet straight through";
    }
    // The arrival count is Poisson(arrivals): within 6 sigma.
    EXPECT_NEAR(static_cast<double>(r.sent), static_cast<double>(arrivals), 6 * std::sqrt(arrivals));
    return r;
}

} // namespace

// ====================================================== formula validation

TEST(MG1KFormula, SingleServerNoWaitingRoomIsRhoOverOnePlusRho)
{
    // K = 1 (M/G/1/1): P_block = rho / (1 + rho) whatever the service
    // distribution (it agrees with the M/M/1/1 closed form).
    for (double rho : {0.1, 0.5, 0.9, 1.0, 1.2, 3.0})
    {
        EXPECT_DOUBLE_EQ(MD1KBlocking(rho, 1), rho / (1 + rho));
        EXPECT_NEAR(MG1KBlocking(ArrivalsDuringExponentialService(rho, 4), rho, 1), MM1KBlocking(rho, 1), 1e-14);
    }
}

TEST(MG1KFormula, ExponentialServiceMatchesMM1KClosedForm)
{
    // The general M/G/1/K solution with exponential service must reproduce
    // the M/M/1/K closed form (1 - rho) rho^K / (1 - rho^(K+1)).
    for (double rho : {0.3, 0.9, 1.0, 1.2, 2.5})
    {
        for (uint32_t K : {1u, 2u, 3u, 6u, 11u, 26u, 65u})
        {
            double general = MG1KBlocking(ArrivalsDuringExponentialService(rho, K + 1), rho, K);
            EXPECT_NEAR(general, MM1KBlocking(rho, K), 1e-10 + 1e-9 * MM1KBlocking(rho, K))
                << "rho " << rho << " K " << K;
        }
    }
}

TEST(MG1KFormula, MD12ClosedForm)
{
    // K = 2: the embedded chain has states {0, 1} with P[i][0] = a_0 for both,
    // so pi_0 = a_0 = e^{-rho} and P_block = 1 - 1 / (e^{-rho} + rho).
    for (double rho : {0.5, 0.9, 1.0, 1.2})
    {
        EXPECT_NEAR(MD1KBlocking(rho, 2), 1 - 1 / (std::exp(-rho) + rho), 1e-14) << rho;
    }
    EXPECT_NEAR(MD1KBlocking(1.0, 2), 0.268941421, 1e-9);
}

TEST(MG1KFormula, LimitsAndOrdering)
{
    // Large K: overload loses the excess 1 - 1/rho; underload loses nothing.
    EXPECT_NEAR(MD1KBlocking(1.2, 300), 1 - 1 / 1.2, 1e-9);
    EXPECT_LT(MD1KBlocking(0.5, 300), 1e-12);
    for (double rho : {0.5, 0.9, 1.0, 1.2})
    {
        for (uint32_t K = 1; K < 60; ++K)
        {
            // More room, less loss; deterministic service loses less than
            // exponential service (less variable service).
            EXPECT_LE(MD1KBlocking(rho, K + 1), MD1KBlocking(rho, K) + 1e-15);
            EXPECT_LE(MD1KBlocking(rho, K), MM1KBlocking(rho, K) + 1e-15);
        }
    }
}

TEST(MG1KFormula, MatchesReferenceSimulation)
{
    // The formula against an independent event simulation of M/D/1/K (a
    // counting ring of K-1 places plus the server), 4 million arrivals each.
    for (double rho : {0.5, 0.9, 1.2})
    {
        for (uint32_t K : {2u, 6u, 26u})
        {
            RefResult ref = ReferenceSim(CountingRing(K - 1), rho, 4000000, 7);
            double theory = MD1KBlocking(rho, K);
            EXPECT_NEAR(ref.loss, theory, Tolerance(theory, ref.inflation, ref.arrivals))
                << "rho " << rho << " K " << K << " F " << ref.inflation;
        }
    }
}

// ================================================ the tun path vs M/D/1/K

struct Md1kCase
{
    double rho;
    uint32_t ring;
};

// What gtest prints for GetParam() (not the bytes of the struct).
void
PrintTo(const Md1kCase& c, std::ostream* os)
{
    *os << "rho " << c.rho << " ring " << c.ring;
}

class TunMD1K : public ::testing::TestWithParam<Md1kCase>
{
};

TEST_P(TunMD1K, LossMatchesTheory)
{
    const Md1kCase c = GetParam();
    const uint32_t K = c.ring + 1; // the ring plus the packet in the reader's hands
    ASSERT_EQ(PtrRingBatchFor(c.ring), 1u) << "exact comparison needs a ring that frees slot by slot";
    constexpr uint64_t kArrivals = 350000;
    const uint64_t seed = 1 + static_cast<uint64_t>(c.rho * 100) * 1000 + c.ring;

    const double theory = MD1KBlocking(c.rho, K);
    const RefResult ref = ReferenceSim(CountingRing(c.ring), c.rho, 4000000, seed);
    TunRun run = RunTunMD1K(c.rho, c.ring, "noqueue", kArrivals, seed);
    const double tol = Tolerance(theory, ref.inflation, run.sent);

    std::printf("[md1k] rho %.2f ring %2u K %2u: measured %.6f (%lu/%lu)  M/D/1/K %.6f  "
                "diff %+.6f  tol %.6f (F %.1f)  reference-sim %.6f\n",
                c.rho, c.ring, K, run.loss, static_cast<unsigned long>(run.dropped),
                static_cast<unsigned long>(run.sent), theory, run.loss - theory, tol, ref.inflation, ref.loss);
    RecordProperty("measured_loss", std::to_string(run.loss));
    RecordProperty("theory_loss", std::to_string(theory));
    EXPECT_NEAR(run.loss, theory, tol) << "M/D/1/" << K << " at rho " << c.rho;
}

INSTANTIATE_TEST_SUITE_P(LoadsAndRings,
                         TunMD1K,
                         ::testing::Values(Md1kCase{0.5, 1},
                                           Md1kCase{0.5, 5},
                                           Md1kCase{0.5, 25},
                                           Md1kCase{0.9, 1},
                                           Md1kCase{0.9, 5},
                                           Md1kCase{0.9, 25},
                                           Md1kCase{1.2, 1},
                                           Md1kCase{1.2, 5},
                                           Md1kCase{1.2, 25}),
                         [](const ::testing::TestParamInfo<Md1kCase>& info) {
                             return "rho" + std::to_string(static_cast<int>(info.param.rho * 100)) + "_ring" +
                                    std::to_string(info.param.ring);
                         });

class TunBatchedRing : public ::testing::TestWithParam<double>
{
};

TEST_P(TunBatchedRing, LossBetweenTheBatchBounds)
{
    // ring_size 32: batch 16 (16 > 32/2 is false), so the producer sees the
    // ring full with 17..32 packets waiting: K between 18 and 33.
    const double rho = GetParam();
    constexpr uint32_t kRing = 32;
    ASSERT_EQ(PtrRingBatchFor(kRing), 16u);
    const uint32_t kHigh = kRing + 1;
    const uint32_t kLow = kRing + 1 - 15;
    constexpr uint64_t kArrivals = 300000;
    const uint64_t seed = 77 + static_cast<uint64_t>(rho * 100);

    const double lossAtLow = MD1KBlocking(rho, kLow);   // the most loss
    const double lossAtHigh = MD1KBlocking(rho, kHigh); // the least loss
    const RefResult ref = ReferenceSim(BatchedRing(kRing), rho, 4000000, seed);
    TunRun run = RunTunMD1K(rho, kRing, "pfifo_fast", kArrivals, seed);
    const double tol = Tolerance(lossAtLow, ref.inflation, run.sent);

    // The K whose M/D/1/K loss is closest to the measured one.
    uint32_t kEff = kLow;
    for (uint32_t k = kLow; k <= kHigh; ++k)
    {
        if (std::fabs(MD1KBlocking(rho, k) - run.loss) < std::fabs(MD1KBlocking(rho, kEff) - run.loss))
        {
            kEff = k;
        }
    }
    std::printf("[md1k-batch16] rho %.2f ring %u: measured %.6f (%lu/%lu)  M/D/1/%u %.6f .. M/D/1/%u %.6f  "
                "tol %.6f  ptr_ring reference-sim %.6f (F %.1f)  closest K %u\n",
                rho, kRing, run.loss, static_cast<unsigned long>(run.dropped),
                static_cast<unsigned long>(run.sent), kHigh, lossAtHigh, kLow, lossAtLow, tol, ref.loss,
                ref.inflation, kEff);
    EXPECT_GE(run.loss, lossAtHigh - tol);
    EXPECT_LE(run.loss, lossAtLow + tol);
    // And it matches the exact batched-ring reference (both are estimates).
    const double refTol = std::hypot(Tolerance(ref.loss, ref.inflation, run.sent),
                                     Tolerance(ref.loss, ref.inflation, ref.arrivals));
    EXPECT_NEAR(run.loss, ref.loss, refTol);
}

INSTANTIATE_TEST_SUITE_P(Loads,
                         TunBatchedRing,
                         ::testing::Values(0.9, 1.0, 1.2),
                         [](const ::testing::TestParamInfo<double>& info) {
                             return "rho" + std::to_string(static_cast<int>(info.param * 100));
                         });

TEST(TunMD1KQdisc, NoqueueAndPfifoFastAreTheSame)
{
    // With `drop` the tx queue never stops, so a pfifo_fast qdisc passes each
    // packet straight to tun_net_xmit(): the same seed gives the same losses.
    TunRun a = RunTunMD1K(1.2, 5, "noqueue", 60000, 5);
    TunRun b = RunTunMD1K(1.2, 5, "pfifo_fast", 60000, 5);
    EXPECT_EQ(a.sent, b.sent);
    EXPECT_EQ(a.dropped, b.dropped);
    EXPECT_GT(a.dropped, 0u);
}
