// Collecting results into SweepRecords. See collect.h.
#include "collect.h"

#include "common/errors.h"
#include "result/run-result.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <utility>

namespace tunsim::sweep
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

/// A sweep.json manifest; null when missing, not JSON, or not a manifest.
json
ReadManifest(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
    {
        return nullptr;
    }
    json m = json::parse(in, nullptr, false);
    if (m.is_discarded() || !m.is_object() || !m.contains("keys") || !m.contains("points"))
    {
        return nullptr;
    }
    return m;
}

std::vector<json>
ReadManifests(const std::vector<std::string>& dirs)
{
    std::vector<json> manifests;
    for (const auto& d : dirs)
    {
        if (!fs::is_directory(d))
        {
            throw BadInput(d + ": not a directory");
        }
        json m = ReadManifest(fs::path(d) / "sweep.json");
        if (!m.is_null())
        {
            manifests.push_back(std::move(m));
        }
    }
    return manifests;
}

/// Every file named result.json below `dirs`, sorted by path.
std::vector<fs::path>
FindResultFiles(const std::vector<std::string>& dirs)
{
    std::vector<fs::path> files;
    for (const auto& d : dirs)
    {
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(d, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec))
        {
            if (ec)
            {
                break;
            }
            if (it->is_regular_file() && it->path().filename() == "result.json")
            {
                files.push_back(it->path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// A result file and what it holds.
struct FoundResult
{
    fs::path file;
    RunResult result;
};

std::vector<FoundResult>
ReadResults(const std::vector<fs::path>& files, std::vector<std::string>& warnings)
{
    std::vector<FoundResult> found;
    for (const auto& f : files)
    {
        try
        {
            found.push_back({f, ReadResultFile(f.string())});
        }
        catch (const BadInput&)
        {
            warnings.push_back(f.string() + ": not a tunsim result; skipped");
        }
    }
    return found;
}

/// The leaves of a JSON value by dotted path (flows.0.rate_mbps), as JSON text.
void
AddLeaves(const json& j, const std::string& path, std::map<std::string, std::string>& leaves)
{
    if (j.is_object())
    {
        for (auto it = j.begin(); it != j.end(); ++it)
        {
            AddLeaves(it.value(), path.empty() ? it.key() : path + "." + it.key(), leaves);
        }
    }
    else if (j.is_array() && !j.empty())
    {
        for (size_t i = 0; i < j.size(); ++i)
        {
            AddLeaves(j[i], path + "." + std::to_string(i), leaves);
        }
    }
    else
    {
        leaves[path] = j.dump();
    }
}

/// The scenario leaves (seed excluded) whose values differ between the
/// results, or that some lack, in the order first seen.
std::vector<std::string>
InferKeys(const std::vector<FoundResult>& results)
{
    std::map<std::string, std::set<std::string>> seen;
    std::vector<std::string> order;
    std::vector<std::map<std::string, std::string>> all;
    for (const auto& r : results)
    {
        std::map<std::string, std::string> leaves;
        AddLeaves(r.result.scenario, "", leaves);
        for (const auto& [k, v] : leaves)
        {
            if (!seen.count(k))
            {
                order.push_back(k);
            }
            seen[k].insert(v);
        }
        all.push_back(std::move(leaves));
    }
    std::vector<std::string> keys;
    for (const auto& k : order)
    {
        if (k == "seed")
        {
            continue;
        }
        bool differs = seen[k].size() > 1;
        for (const auto& l : all)
        {
            differs |= !l.count(k);
        }
        if (differs)
        {
            keys.push_back(k);
        }
    }
    return keys;
}

/// The manifests' keys (their union, first seen first); without a manifest,
/// the keys inferred from the results.
std::vector<std::string>
SweepKeys(const std::vector<json>& manifests, const std::vector<FoundResult>& results)
{
    if (manifests.empty())
    {
        return InferKeys(results);
    }
    std::vector<std::string> keys;
    for (const auto& m : manifests)
    {
        for (const auto& k : m["keys"])
        {
            if (std::find(keys.begin(), keys.end(), k.get<std::string>()) == keys.end())
            {
                keys.push_back(k.get<std::string>());
            }
        }
    }
    return keys;
}

/// What the manifests list: the points in order and each point's seeds.
struct Expected
{
    std::map<std::string, size_t> order; ///< point id -> position
    std::map<std::string, std::vector<unsigned long long>> seeds;
};

/// The runs the manifests varying exactly `keys` list (a warning for each
/// other manifest).
Expected
ExpectedRuns(const std::vector<json>& manifests, const std::vector<std::string>& keys, std::vector<std::string>& warnings)
{
    Expected e;
    for (const auto& m : manifests)
    {
        if (m["keys"].get<std::vector<std::string>>() != keys)
        {
            warnings.push_back("the sweep.json manifests vary different keys; points are matched on " +
                               std::to_string(keys.size()) + " keys");
            continue;
        }
        for (const auto& p : m["points"])
        {
            const std::string id = p["id"].get<std::string>();
            e.order.emplace(id, e.order.size());
            auto& seeds = e.seeds[id];
            for (const auto& s : m["seeds"])
            {
                if (std::find(seeds.begin(), seeds.end(), s.get<unsigned long long>()) == seeds.end())
                {
                    seeds.push_back(s.get<unsigned long long>());
                }
            }
        }
    }
    return e;
}

/// A result as JSON without its wall-clock block: what two runs of the same
/// point and seed must agree on.
std::string
WithoutWall(const RunResult& r)
{
    json j = ToJson(r);
    j.erase("wall");
    return j.dump();
}

using RunKey = std::pair<std::string, unsigned long long>; ///< point id, seed

/// One record per point and seed, the first found kept (a warning when a
/// later one differs beyond wall time). Returns where each run's record is.
std::map<RunKey, size_t>
AddRecords(std::vector<FoundResult>& results, Collected& c)
{
    std::map<RunKey, size_t> byRun;
    for (auto& found : results)
    {
        SweepRecord rec;
        for (const auto& k : c.keys)
        {
            rec.values.push_back(ValueText(ValueAtKey(found.result.scenario, k)));
        }
        rec.point = PointId(c.keys, rec.values);
        rec.seed = found.result.seed;
        const RunKey key{rec.point, rec.seed};
        auto it = byRun.find(key);
        if (it != byRun.end())
        {
            if (WithoutWall(c.records[it->second].result) != WithoutWall(found.result))
            {
                c.warnings.push_back(found.file.string() + ": point " + rec.point + " seed " +
                                     std::to_string(rec.seed) +
                                     " was already read from another file with different results; kept the first");
            }
            continue;
        }
        rec.result = std::move(found.result);
        byRun[key] = c.records.size();
        c.records.push_back(std::move(rec));
    }
    return byRun;
}

/// Numeric-aware comparison of two value tuples.
bool
ValuesLess(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    {
        if (a[i] == b[i])
        {
            continue;
        }
        char* ea;
        char* eb;
        double x = std::strtod(a[i].c_str(), &ea);
        double y = std::strtod(b[i].c_str(), &eb);
        if (!a[i].empty() && !b[i].empty() && *ea == 0 && *eb == 0 && x != y)
        {
            return x < y;
        }
        return a[i] < b[i];
    }
    return a.size() < b.size();
}

/// Manifest point order first, then the other points by value, then seed.
void
SortRecords(std::vector<SweepRecord>& records, const std::map<std::string, size_t>& order)
{
    std::stable_sort(records.begin(), records.end(), [&](const SweepRecord& a, const SweepRecord& b) {
        auto ia = order.find(a.point);
        auto ib = order.find(b.point);
        size_t pa = ia == order.end() ? SIZE_MAX : ia->second;
        size_t pb = ib == order.end() ? SIZE_MAX : ib->second;
        if (pa != pb)
        {
            return pa < pb;
        }
        if (a.point != b.point)
        {
            return ValuesLess(a.values, b.values);
        }
        return a.seed < b.seed;
    });
}

/// "point seed S" for each listed run without a record, in manifest order.
std::vector<std::string>
MissingRuns(const Expected& expected, const std::map<RunKey, size_t>& byRun)
{
    std::vector<std::pair<size_t, std::string>> missing;
    for (const auto& [id, seeds] : expected.seeds)
    {
        for (auto s : seeds)
        {
            if (!byRun.count({id, s}))
            {
                missing.emplace_back(expected.order.at(id), id + " seed " + std::to_string(s));
            }
        }
    }
    std::sort(missing.begin(), missing.end());
    std::vector<std::string> out;
    for (auto& m : missing)
    {
        out.push_back(std::move(m.second));
    }
    return out;
}

} // namespace

std::vector<SweepRecord>
CollectPlan(const Plan& plan, const fs::path& dir, std::vector<Failure>& failures)
{
    std::set<size_t> failedRuns;
    for (const auto& f : failures)
    {
        failedRuns.insert(f.run);
    }
    std::vector<SweepRecord> records;
    for (size_t i = 0; i < plan.runs.size(); ++i)
    {
        const Run& r = plan.runs[i];
        std::optional<RunResult> result = CompleteResult(dir, r);
        if (!result)
        {
            if (failedRuns.insert(i).second)
            {
                failures.push_back({i, "no result", "result.json missing or for another scenario"});
            }
            continue;
        }
        if (!result->conservation.ok && failedRuns.insert(i).second)
        {
            failures.push_back({i, "exit status 3 (packet conservation violated)",
                                "conservation.ok is false in " + r.dir + "/result.json"});
        }
        const Point& p = plan.points[r.point];
        records.push_back({p.id, p.values, r.seed, std::move(*result)});
    }
    std::sort(failures.begin(), failures.end(), [](const Failure& a, const Failure& b) { return a.run < b.run; });
    return records;
}

Collected
CollectDirs(const std::vector<std::string>& dirs)
{
    Collected c;
    const std::vector<json> manifests = ReadManifests(dirs);
    std::vector<FoundResult> results = ReadResults(FindResultFiles(dirs), c.warnings);
    c.keys = SweepKeys(manifests, results);
    const Expected expected = ExpectedRuns(manifests, c.keys, c.warnings);
    const std::map<RunKey, size_t> byRun = AddRecords(results, c);
    SortRecords(c.records, expected.order);
    c.missing = MissingRuns(expected, byRun);
    return c;
}

} // namespace tunsim::sweep
