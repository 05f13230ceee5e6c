// results.csv and summary.csv from a sweep's records. See tables.h.
#include "tables.h"

#include "common/number-text.h"
#include "csv.h"
#include "result/result-writer.h"

#include <cmath>
#include <map>
#include <optional>
#include <utility>

namespace tunsim
{

using sweep::CsvLine;

namespace
{

/// One metric cell: a count (written in full) or a measured figure (the
/// shortest text that reads back); none where the result has no such value.
class MetricValue
{
  public:
    MetricValue() = default;

    MetricValue(uint64_t count)
        : m_number(static_cast<double>(count)),
          m_count(count)
    {
    }

    MetricValue(double figure)
        : m_number(figure)
    {
    }

    template <typename T>
    MetricValue(const std::optional<T>& v)
    {
        if (v)
        {
            *this = MetricValue(*v);
        }
    }

    /// The value for means and confidence intervals; nullopt when none.
    std::optional<double> Number() const { return m_number; }

    /// The CSV cell: "" when none.
    std::string Text() const
    {
        if (m_count)
        {
            return std::to_string(*m_count);
        }
        return m_number ? NumberText(*m_number, NumberStyle::Cell) : "";
    }

  private:
    std::optional<double> m_number;
    std::optional<uint64_t> m_count;
};

/// A metric column of results.csv: its name and how to read it from a run
/// and one of its flows (per-run figures ignore the flow and repeat on each
/// flow's row).
struct MetricColumn
{
    const char* name;
    MetricValue (*value)(const RunResult& r, const FlowResult& f);
};

/// The metric columns, in order (docs/sweep.md names each one's field).
const std::vector<MetricColumn>&
MetricColumns()
{
    using R = const RunResult&;
    using F = const FlowResult&;
    static const std::vector<MetricColumn> cols{
        {"sent_packets", [](R, F f) -> MetricValue { return f.sentPackets; }},
        {"delivered_packets", [](R, F f) -> MetricValue { return f.deliveredPackets; }},
        {"dropped_packets", [](R, F f) -> MetricValue { return f.droppedPackets; }},
        {"loss_ratio", [](R, F f) -> MetricValue { return f.lossRatio; }},
        {"goodput_mbps", [](R, F f) -> MetricValue { return f.goodputMbps; }},
        {"delay_p50_ms", [](R, F f) -> MetricValue { return f.delay.p50Ms; }},
        {"delay_p99_ms", [](R, F f) -> MetricValue { return f.delay.p99Ms; }},
        {"delay_max_ms", [](R, F f) -> MetricValue { return f.delay.maxMs; }},
        {"delay_mean_ms", [](R, F f) -> MetricValue { return f.delay.meanMs; }},
        {"retransmits", [](R, F f) { return f.tcp ? MetricValue(f.tcp->retransmits) : MetricValue(); }},
        {"tun_tx_dropped", [](R r, F) -> MetricValue { return r.tun.txDropped; }},
        {"txq_stop_count", [](R r, F) -> MetricValue { return r.tun.txq.stopCount; }},
        {"txq_stopped_fraction", [](R r, F) -> MetricValue { return r.tun.txq.stoppedFraction; }},
        {"ring_occupancy_mean", [](R r, F) -> MetricValue { return r.tun.ringOccupancyMean; }},
        {"ring_occupancy_max", [](R r, F) -> MetricValue { return r.tun.ringOccupancyMax; }},
        {"qdisc_backlog_max",
         [](R r, F) { return r.qdisc.counters ? MetricValue(r.qdisc.counters->backlogPacketsMax) : MetricValue(); }},
        {"qdisc_dropped_packets",
         [](R r, F) { return r.qdisc.counters ? MetricValue(r.qdisc.counters->droppedPackets) : MetricValue(); }},
        {"reader_busy_fraction", [](R r, F) -> MetricValue { return r.reader.busyFraction; }},
        {"wall_s", [](R r, F) -> MetricValue { return r.wall.seconds; }},
    };
    return cols;
}

std::string
BoolText(bool b)
{
    return b ? "true" : "false";
}

std::vector<std::string>
Header(const std::vector<std::string>& keys, bool summary)
{
    std::vector<std::string> h{"point"};
    h.insert(h.end(), keys.begin(), keys.end());
    if (!summary)
    {
        h.push_back("seed");
    }
    for (const char* c : {"policy", "ring_size", "qdisc", "flow", "kind"})
    {
        h.push_back(c);
    }
    if (summary)
    {
        h.push_back("seeds");
    }
    for (const auto& c : MetricColumns())
    {
        if (summary)
        {
            h.push_back(std::string(c.name) + "_mean");
            h.push_back(std::string(c.name) + "_ci95");
        }
        else
        {
            h.push_back(c.name);
        }
    }
    h.push_back("conservation_ok");
    return h;
}

/// The leading cells of a CSV row, as Header() names them: point, the varied
/// values, [seed,] policy, ring_size, qdisc, flow, kind.
std::vector<std::string>
LeadCells(const SweepRecord& rec, const FlowResult& flow, bool withSeed)
{
    std::vector<std::string> row{rec.point};
    row.insert(row.end(), rec.values.begin(), rec.values.end());
    if (withSeed)
    {
        row.push_back(std::to_string(rec.seed));
    }
    row.push_back(rec.result.tun.policy);
    row.push_back(std::to_string(rec.result.tun.txQueueLen));
    row.push_back(rec.result.qdisc.kind);
    row.push_back(std::to_string(flow.index));
    row.push_back(flow.kind);
    return row;
}

/// Mean and 95 % CI half-width cells of one metric over the seeds that have
/// a value: both empty without a value, the CI empty with a single one.
std::pair<std::string, std::string>
MeanAndCi95(const std::vector<double>& xs)
{
    if (xs.empty())
    {
        return {"", ""};
    }
    double sum = 0;
    for (double x : xs)
    {
        sum += x;
    }
    const double mean = sum / xs.size();
    if (xs.size() < 2)
    {
        return {NumberText(mean, NumberStyle::Cell), ""};
    }
    double ss = 0;
    for (double x : xs)
    {
        ss += (x - mean) * (x - mean);
    }
    const double sd = std::sqrt(ss / (xs.size() - 1));
    const double ci = StudentT975(static_cast<unsigned>(xs.size() - 1)) * sd / std::sqrt(double(xs.size()));
    return {NumberText(mean, NumberStyle::Cell), NumberText(ci, NumberStyle::Cell)};
}

} // namespace

double
StudentT975(unsigned df)
{
    static const double table[] = {
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
        2.262157,  2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
        2.109816,  2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
        2.059539,  2.055529, 2.051831, 2.048407, 2.045230, 2.042272};
    if (df == 0)
    {
        return std::nan("");
    }
    if (df <= 30)
    {
        return table[df - 1];
    }
    // Cornish-Fisher expansion around the normal quantile; < 2e-6 off for df > 30.
    const double z = 1.959963984540054;
    const double d = df;
    return z + (z * z * z + z) / (4 * d) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d) +
           (3 * std::pow(z, 7) + 19 * std::pow(z, 5) + 17 * z * z * z - 15 * z) / (384 * d * d * d);
}

std::string
ResultsCsv(const std::vector<std::string>& keys, const std::vector<SweepRecord>& records)
{
    std::string out = CsvLine(Header(keys, false));
    for (const auto& rec : records)
    {
        for (const auto& f : rec.result.flows)
        {
            std::vector<std::string> row = LeadCells(rec, f, true);
            for (const auto& c : MetricColumns())
            {
                row.push_back(c.value(rec.result, f).Text());
            }
            row.push_back(BoolText(rec.result.conservation.ok));
            out += CsvLine(row);
        }
    }
    return out;
}

std::string
SummaryCsv(const std::vector<std::string>& keys, const std::vector<SweepRecord>& records)
{
    /// One point and flow: its seeds' values of each metric.
    struct Group
    {
        std::vector<std::string> lead; ///< point, values, policy, ring, qdisc, flow, kind
        size_t seeds = 0;
        std::vector<std::vector<double>> values; ///< per metric column, the seeds that have one
        bool conserved = true;
    };
    std::vector<Group> groups;
    std::map<std::pair<std::string, uint64_t>, size_t> where; // (point, flow index) -> group
    for (const auto& rec : records)
    {
        for (const auto& f : rec.result.flows)
        {
            auto it = where.find({rec.point, f.index});
            if (it == where.end())
            {
                it = where.emplace(std::make_pair(rec.point, f.index), groups.size()).first;
                groups.push_back({LeadCells(rec, f, false), 0, std::vector<std::vector<double>>(MetricColumns().size()),
                                  true});
            }
            Group& g = groups[it->second];
            ++g.seeds;
            for (size_t m = 0; m < MetricColumns().size(); ++m)
            {
                if (auto v = MetricColumns()[m].value(rec.result, f).Number())
                {
                    g.values[m].push_back(*v);
                }
            }
            g.conserved = g.conserved && rec.result.conservation.ok;
        }
    }
    std::string out = CsvLine(Header(keys, true));
    for (const auto& g : groups)
    {
        std::vector<std::string> row = g.lead;
        row.push_back(std::to_string(g.seeds));
        for (const auto& xs : g.values)
        {
            auto [mean, ci] = MeanAndCi95(xs);
            row.push_back(mean);
            row.push_back(ci);
        }
        row.push_back(BoolText(g.conserved));
        out += CsvLine(row);
    }
    return out;
}

namespace sweep
{

void
WriteTables(const std::filesystem::path& dir,
            const std::vector<std::string>& keys,
            const std::vector<SweepRecord>& records)
{
    WriteFileAtomically((dir / "results.csv").string(), ResultsCsv(keys, records));
    WriteFileAtomically((dir / "summary.csv").string(), SummaryCsv(keys, records));
}

} // namespace sweep

} // namespace tunsim
