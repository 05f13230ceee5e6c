// tunsim compare (see compare.h).
#include "compare.h"

#include "cli/cli.h"
#include "result/run-result.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace po = boost::program_options;
using json = nlohmann::json;

namespace tunsim
{
namespace
{

std::string
FormatNumber(double v)
{
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 1e15)
    {
        std::snprintf(buf, sizeof buf, "%.0f", v);
    }
    else
    {
        std::snprintf(buf, sizeof buf, "%.6g", v);
    }
    return buf;
}

void
Flatten(const json& j, const std::string& path, std::map<std::string, Leaf>& out)
{
    if (j.is_object())
    {
        for (const auto& [k, v] : j.items())
        {
            Flatten(v, path.empty() ? k : path + "." + k, out);
        }
        return;
    }
    if (j.is_array())
    {
        for (size_t i = 0; i < j.size(); ++i)
        {
            Flatten(j[i], path + "[" + std::to_string(i) + "]", out);
        }
        return;
    }
    Leaf l;
    if (j.is_number())
    {
        l.kind = Leaf::Kind::Number;
        l.number = j.get<double>();
        l.text = FormatNumber(l.number);
    }
    else if (j.is_boolean())
    {
        l.kind = Leaf::Kind::Bool;
        l.number = j.get<bool>() ? 1.0 : 0.0;
        l.text = j.get<bool>() ? "true" : "false";
    }
    else if (j.is_string())
    {
        l.kind = Leaf::Kind::String;
        l.text = j.get<std::string>();
    }
    else
    {
        l.kind = Leaf::Kind::Null;
        l.text = "null";
    }
    out[path] = l;
}

/// Natural order: runs of digits compare as numbers (flows[2] < flows[10]).
bool
NaturalLess(const std::string& a, const std::string& b)
{
    size_t i = 0;
    size_t j = 0;
    while (i < a.size() && j < b.size())
    {
        if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j])))
        {
            size_t i2 = i;
            size_t j2 = j;
            while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2])))
            {
                ++i2;
            }
            while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2])))
            {
                ++j2;
            }
            unsigned long long x = std::stoull(a.substr(i, i2 - i));
            unsigned long long y = std::stoull(b.substr(j, j2 - j));
            if (x != y)
            {
                return x < y;
            }
            i = i2;
            j = j2;
            continue;
        }
        if (a[i] != b[j])
        {
            return a[i] < b[j];
        }
        ++i;
        ++j;
    }
    return a.size() - i < b.size() - j;
}

std::string
Label(const json& r, const std::string& arg)
{
    // "kernel" for a tunsim kernel result, else "sim"; plus the file.
    return (r.contains("kernel") ? "kernel:" : "sim:") + arg;
}

} // namespace

std::map<std::string, Leaf>
FlattenResult(const json& j, bool all)
{
    std::map<std::string, Leaf> out;
    if (!j.is_object())
    {
        Flatten(j, "", out);
        return out;
    }
    for (const auto& [k, v] : j.items())
    {
        if (!all && (k == "scenario" || k == "tunsim" || k == "wall"))
        {
            continue;
        }
        Flatten(v, k, out);
    }
    return out;
}

std::vector<CompareRow>
CompareResults(const json& a, const json& b, bool all, const std::vector<std::string>& only)
{
    auto fa = FlattenResult(a, all);
    auto fb = FlattenResult(b, all);
    std::vector<std::string> keys;
    for (const auto& [k, v] : fa)
    {
        keys.push_back(k);
    }
    for (const auto& [k, v] : fb)
    {
        if (!fa.count(k))
        {
            keys.push_back(k);
        }
    }
    std::sort(keys.begin(), keys.end(), NaturalLess);
    std::vector<CompareRow> rows;
    for (const auto& k : keys)
    {
        if (!only.empty() &&
            std::none_of(only.begin(), only.end(), [&](const std::string& p) { return k.rfind(p, 0) == 0; }))
        {
            continue;
        }
        CompareRow r;
        r.metric = k;
        auto ia = fa.find(k);
        auto ib = fb.find(k);
        r.a = ia == fa.end() ? "-" : ia->second.text;
        r.b = ib == fb.end() ? "-" : ib->second.text;
        if (ia != fa.end() && ib != fb.end() && ia->second.kind == Leaf::Kind::Number &&
            ib->second.kind == Leaf::Kind::Number)
        {
            r.numeric = true;
            r.diff = ib->second.number - ia->second.number;
            if (ia->second.number != 0.0)
            {
                r.relDefined = true;
                r.rel = r.diff / std::fabs(ia->second.number);
            }
            r.differs = r.diff != 0.0;
        }
        else
        {
            r.differs = r.a != r.b;
        }
        rows.push_back(r);
    }
    return rows;
}

std::string
FormatCompare(const std::vector<CompareRow>& rows, const std::string& nameA, const std::string& nameB,
              bool changedOnly, bool csv)
{
    std::ostringstream o;
    auto csvField = [](const std::string& s) {
        if (s.find_first_of(",\"\n") == std::string::npos)
        {
            return s;
        }
        std::string q = "\"";
        for (char c : s)
        {
            q += c == '"' ? std::string("\"\"") : std::string(1, c);
        }
        return q + "\"";
    };
    size_t w = 6;
    size_t wv = 12;
    for (const auto& r : rows)
    {
        w = std::max(w, r.metric.size());
        wv = std::max({wv, std::min<size_t>(r.a.size(), 28), std::min<size_t>(r.b.size(), 28)});
    }
    if (csv)
    {
        o << "metric,a,b,diff,rel\n";
    }
    else
    {
        o << "A: " << nameA << "\nB: " << nameB << "\n";
        char line[512];
        std::snprintf(line, sizeof line, "%-*s %*s %*s %14s %9s\n", static_cast<int>(w), "metric",
                      static_cast<int>(wv), "A", static_cast<int>(wv), "B", "B-A", "rel%");
        o << line;
    }
    size_t shown = 0;
    size_t differing = 0;
    for (const auto& r : rows)
    {
        differing += r.differs ? 1 : 0;
        if (changedOnly && !r.differs)
        {
            continue;
        }
        ++shown;
        std::string diff = r.numeric ? FormatNumber(r.diff) : (r.differs ? "differs" : "");
        std::string rel;
        if (r.numeric)
        {
            char b[32];
            if (r.relDefined)
            {
                std::snprintf(b, sizeof b, "%+.2f", 100.0 * r.rel);
                rel = b;
            }
            else
            {
                rel = r.diff == 0.0 ? "+0.00" : "n/a";
            }
        }
        if (csv)
        {
            o << csvField(r.metric) << "," << csvField(r.a) << "," << csvField(r.b) << "," << diff << ","
              << rel << "\n";
        }
        else
        {
            std::string a = r.a.size() > 28 ? r.a.substr(0, 25) + "..." : r.a;
            std::string b = r.b.size() > 28 ? r.b.substr(0, 25) + "..." : r.b;
            char line[1024];
            std::snprintf(line, sizeof line, "%-*s %*s %*s %14s %9s\n", static_cast<int>(w), r.metric.c_str(),
                          static_cast<int>(wv), a.c_str(), static_cast<int>(wv), b.c_str(), diff.c_str(),
                          rel.c_str());
            o << line;
        }
    }
    if (!csv)
    {
        o << "(" << rows.size() << " metrics, " << differing << " differ; B-A absolute, rel% = 100 (B-A)/|A|; "
          << "'-' absent, null = not measured)\n";
    }
    return o.str();
}

int
CompareCommand(int argc, char** argv)
{
    return RunCommand("tunsim", [&] {
        po::options_description opts("options");
        opts.add_options()("help,h", "show help")("all", "include scenario, tunsim and wall")(
            "only", po::value<std::vector<std::string>>()->composing(), "metric path prefix (repeatable)")(
            "changed", "only the metrics that differ")("csv", "CSV instead of a table");
        po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"file", -1}}, "compare");
        if (vm.count("help"))
        {
            std::cout << "usage: tunsim compare A.json|DIR B.json|DIR [--all] [--only PREFIX]... [--changed] [--csv]\n"
                         "\nMetric-by-metric table of two results (sim or kernel): A, B, B-A and\n"
                         "100 (B-A)/|A|. Without --all the scenario, tunsim and wall blocks are left\n"
                         "out. --only flows[0]. keeps the metrics under that prefix.\n";
            return 0;
        }
        std::vector<std::string> files;
        if (vm.count("file"))
        {
            files = vm["file"].as<std::vector<std::string>>();
        }
        if (files.size() != 2)
        {
            throw BadInput("usage: tunsim compare takes exactly two results, A and B (see tunsim compare --help)");
        }
        json a = ToJson(ReadResultFile(files[0]));
        json b = ToJson(ReadResultFile(files[1]));
        std::vector<std::string> only;
        if (vm.count("only"))
        {
            only = vm["only"].as<std::vector<std::string>>();
        }
        auto rows = CompareResults(a, b, vm.count("all") > 0, only);
        std::cout << FormatCompare(rows, Label(a, files[0]), Label(b, files[1]), vm.count("changed") > 0,
                                   vm.count("csv") > 0);
        return 0;
    });
}

} // namespace tunsim
