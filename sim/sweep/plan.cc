// The plan of a sweep: --vary, keys and values, points x seeds. See plan.h.
#include "plan.h"

#include "common/number-text.h"
#include "result/result-writer.h"
#include "scenario/scenario.h"

#include <cstdio>
#include <set>
#include <utility>

namespace tunsim
{

using nlohmann::json;

namespace
{

/// "tun.ring_size" -> {tun, ring_size}; "flows[0].rate_mbps" and
/// "flows.0.rate_mbps" -> {flows, 0, rate_mbps}.
std::vector<std::string>
KeyTokens(const std::string& key)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : key)
    {
        if (c == '.' || c == '[' || c == ']')
        {
            if (!cur.empty())
            {
                out.push_back(cur);
            }
            cur.clear();
        }
        else
        {
            cur += c;
        }
    }
    if (!cur.empty())
    {
        out.push_back(cur);
    }
    return out;
}

uint32_t
Fnv1a(const std::string& s)
{
    uint32_t h = 2166136261u;
    for (unsigned char c : s)
    {
        h ^= c;
        h *= 16777619u;
    }
    return h;
}

} // namespace

SweepAxis
ParseVary(const std::string& text)
{
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
    {
        throw ScenarioError("--vary", "expected KEY=V1,V2,..., got \"" + text + "\"");
    }
    SweepAxis a;
    a.key = text.substr(0, eq);
    const std::string rest = text.substr(eq + 1);
    std::string cur;
    int depth = 0;
    bool inString = false;
    for (size_t i = 0; i < rest.size(); ++i)
    {
        char c = rest[i];
        if (inString)
        {
            cur += c;
            if (c == '\\' && i + 1 < rest.size())
            {
                cur += rest[++i];
            }
            else if (c == '"')
            {
                inString = false;
            }
            continue;
        }
        if (c == '"')
        {
            inString = true;
        }
        else if (c == '[' || c == '{')
        {
            ++depth;
        }
        else if ((c == ']' || c == '}') && depth > 0)
        {
            --depth;
        }
        else if (c == ',' && depth == 0)
        {
            a.values.push_back(cur);
            cur.clear();
            continue;
        }
        cur += c;
    }
    a.values.push_back(cur);
    for (const auto& v : a.values)
    {
        if (v.empty())
        {
            throw ScenarioError("--vary", "empty value in \"" + text + "\"");
        }
    }
    return a;
}

json
ValueAtKey(const json& scenario, const std::string& key)
{
    const json* cur = &scenario;
    for (const auto& t : KeyTokens(key))
    {
        if (cur->is_object())
        {
            auto it = cur->find(t);
            if (it == cur->end())
            {
                return nullptr;
            }
            cur = &*it;
        }
        else if (cur->is_array())
        {
            if (t.find_first_not_of("0123456789") != std::string::npos || t.size() > 9)
            {
                return nullptr;
            }
            size_t i = std::stoul(t);
            if (i >= cur->size())
            {
                return nullptr;
            }
            cur = &(*cur)[i];
        }
        else
        {
            return nullptr;
        }
    }
    return *cur;
}

std::string
ValueText(const json& v)
{
    if (v.is_null())
    {
        return "";
    }
    if (v.is_number_float())
    {
        return NumberText(v.get<double>(), NumberStyle::Cell);
    }
    if (v.is_string())
    {
        return v.get<std::string>();
    }
    return v.dump(); // integers, booleans, arrays, objects
}

std::string
PointId(const std::vector<std::string>& keys, const std::vector<std::string>& values)
{
    if (keys.empty())
    {
        return "base";
    }
    std::string exact;
    for (size_t i = 0; i < keys.size(); ++i)
    {
        exact += (i ? "," : "") + keys[i] + "=" + values[i];
    }
    std::string id;
    bool lossy = false;
    for (char c : exact)
    {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '=' || c == ',' || c == '+' || c == '-';
        id += ok ? c : '_';
        lossy |= !ok;
    }
    if (id.size() > 120)
    {
        id.resize(100);
        lossy = true;
    }
    if (id.front() == '.' || id.front() == '-')
    {
        id = "_" + id;
        lossy = true;
    }
    if (lossy)
    {
        char h[16];
        std::snprintf(h, sizeof h, "-%08x", Fnv1a(exact));
        id += h;
    }
    return id;
}

namespace sweep
{

namespace
{

/// The --vary axes, checked: `seed` is not one, and no key comes twice
/// (in any spelling: tun.ring_size, tun[ring_size]).
std::vector<SweepAxis>
ParseAxes(const std::vector<std::string>& varies)
{
    std::vector<SweepAxis> axes;
    std::set<std::string> seenKeys;
    for (const auto& v : varies)
    {
        SweepAxis a = ParseVary(v);
        std::string norm;
        for (const auto& t : KeyTokens(a.key))
        {
            norm += (norm.empty() ? "" : ".") + t;
        }
        if (norm == "seed")
        {
            throw ScenarioError("--vary", "seed cannot be varied; use --seeds N");
        }
        if (!seenKeys.insert(norm).second)
        {
            throw ScenarioError("--vary", "key " + a.key + " is varied twice");
        }
        axes.push_back(std::move(a));
    }
    return axes;
}

/// The value index on each axis of the n-th point, the first axis outermost.
std::vector<size_t>
PointIndices(const std::vector<SweepAxis>& axes, size_t n)
{
    std::vector<size_t> idx(axes.size());
    for (size_t k = axes.size(); k-- > 0;)
    {
        idx[k] = n % axes[k].values.size();
        n /= axes[k].values.size();
    }
    return idx;
}

/// The value at `key` in the resolved scenario; a key that is not part of
/// it (e.g. a comment) has the value as given.
json
ResolvedValue(const json& resolved, const std::string& key, const std::string& given)
{
    json v = ValueAtKey(resolved, key);
    if (v.is_null())
    {
        json parsed = json::parse(given, nullptr, false);
        v = parsed.is_discarded() ? json(given) : parsed;
    }
    return v;
}

/// Resolve the point with value indices `idx`: append it and its runs (one
/// per seed) to the plan. `ids` holds the ids taken so far.
void
AddPoint(Plan& plan, const json& withSets, const std::vector<size_t>& idx, std::set<std::string>& ids)
{
    Point p;
    std::string label;
    for (size_t k = 0; k < plan.axes.size(); ++k)
    {
        p.assignments.push_back(plan.axes[k].key + "=" + plan.axes[k].values[idx[k]]);
        label += (label.empty() ? "" : ",") + p.assignments.back();
    }
    try
    {
        json j = withSets;
        for (const auto& a : p.assignments)
        {
            ApplySet(j, a);
        }
        const json resolved = ScenarioToJson(ScenarioFromJson(j));
        for (size_t k = 0; k < plan.axes.size(); ++k)
        {
            p.values.push_back(ValueText(ResolvedValue(resolved, plan.axes[k].key, plan.axes[k].values[idx[k]])));
        }
        p.id = PointId(plan.keys, p.values);
        if (!ids.insert(p.id).second)
        {
            throw ScenarioError("--vary",
                                "two points resolve to the same values (" + p.id + "); remove the duplicate value");
        }
        for (auto seed : plan.seeds)
        {
            json js = j;
            ApplySet(js, "seed=" + std::to_string(seed));
            Run r;
            r.point = plan.points.size();
            r.seed = seed;
            r.dir = "points/" + p.id + "/seed-" + std::to_string(seed);
            r.scenario = ScenarioToJson(ScenarioFromJson(js));
            plan.runs.push_back(std::move(r));
        }
    }
    catch (const ScenarioError& e)
    {
        throw ScenarioError("", "point " + (label.empty() ? std::string("base") : label) + ": " + e.what());
    }
    plan.points.push_back(std::move(p));
}

json
Manifest(const Plan& plan)
{
    json m;
    m["tunsim_sweep"] = 1;
    m["scenario_file"] = std::filesystem::absolute(plan.scenarioPath).string();
    m["set"] = plan.sets;
    json vary = json::array();
    for (const auto& a : plan.axes)
    {
        vary.push_back({{"key", a.key}, {"values", a.values}});
    }
    m["vary"] = vary;
    m["keys"] = plan.keys;
    m["seeds"] = plan.seeds;
    json points = json::array();
    for (size_t i = 0; i < plan.points.size(); ++i)
    {
        const Point& p = plan.points[i];
        points.push_back({{"index", i}, {"id", p.id}, {"set", p.assignments}, {"values", p.values}});
    }
    m["points"] = points;
    return m;
}

} // namespace

Plan
MakePlan(const std::string& scenarioPath,
         const std::vector<std::string>& sets,
         const std::vector<std::string>& varies,
         unsigned seedsCount)
{
    Plan plan;
    plan.scenarioPath = scenarioPath;
    plan.base = LoadScenarioJson(scenarioPath);
    plan.sets = sets;
    plan.axes = ParseAxes(varies);
    for (const auto& a : plan.axes)
    {
        plan.keys.push_back(a.key);
    }
    json withSets = plan.base;
    for (const auto& s : sets)
    {
        ApplySet(withSets, s);
    }
    const Scenario baseScenario = ScenarioFromJson(withSets);
    for (unsigned i = 0; i < seedsCount; ++i)
    {
        plan.seeds.push_back(baseScenario.seed + i);
    }
    size_t total = 1;
    for (const auto& a : plan.axes)
    {
        total *= a.values.size();
    }
    std::set<std::string> ids;
    for (size_t n = 0; n < total; ++n)
    {
        AddPoint(plan, withSets, PointIndices(plan.axes, n), ids);
    }
    return plan;
}

std::vector<std::string>
RunArgs(const Plan& plan, const Run& r)
{
    std::vector<std::string> a{"run", "scenario.json"};
    for (const auto& s : plan.sets)
    {
        a.push_back("--set");
        a.push_back(s);
    }
    for (const auto& s : plan.points[r.point].assignments)
    {
        a.push_back("--set");
        a.push_back(s);
    }
    a.push_back("--seed");
    a.push_back(std::to_string(r.seed));
    a.push_back("--out");
    a.push_back(r.dir);
    a.push_back("-q");
    return a;
}

void
WritePlanFiles(const Plan& plan, const std::filesystem::path& dir)
{
    WriteFileAtomically((dir / "scenario.json").string(), plan.base.dump(2) + "\n");
    WriteFileAtomically((dir / "sweep.json").string(), Manifest(plan).dump(2) + "\n");
}

} // namespace sweep

} // namespace tunsim
