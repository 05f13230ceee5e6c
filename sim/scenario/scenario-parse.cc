// Scenario JSON -> struct, strictly, through the field table
// (scenario-fields.h). See docs/scenario.md for the rules.
#include "common/number-text.h"
#include "host-profile.h"
#include "scenario-fields.h"
#include "scenario-text.h"

#include <cmath>
#include <iostream>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tunsim
{

using nlohmann::json;

namespace
{

/// `s` with control characters (a key "\u0000..." decodes to a NUL byte)
/// written as \u00XX: what() is read as a C string, and a NUL would cut
/// the message, or leave nothing of it.
std::string
Printable(const std::string& s)
{
    std::string out;
    for (const char c : s)
    {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\n') || u == 0x7f)
        {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        }
        else
        {
            out += c;
        }
    }
    return out;
}

} // namespace

ScenarioError::ScenarioError(const std::string& field, const std::string& message)
    : std::runtime_error(field.empty() ? Printable(message) : Printable(field + ": " + message)),
      m_field(Printable(field))
{
}

std::string
Range::Text() const
{
    return std::string(loOpen ? "(" : "[") + NumberText(lo) + ", " + NumberText(hi) + (hiOpen ? ")" : "]");
}

void
CheckBothPositiveOrZero(const std::string& pathA,
                        double va,
                        const std::string& pathB,
                        double vb,
                        const std::string& on,
                        const std::string& off)
{
    if ((va > 0) != (vb > 0))
    {
        auto key = [](const std::string& path) { return path.substr(path.rfind('.') + 1); };
        throw ScenarioError(va > 0 ? pathB : pathA,
                            key(pathA) + " and " + key(pathB) + " must both be > 0 (" + on + ") or both 0 (" +
                                off + ")");
    }
}

namespace
{

using scenario_text::Child;
using scenario_text::Index;
using scenario_text::Quote;

std::string
Join(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
    {
        out += (out.empty() ? "" : ", ") + s;
    }
    return out;
}

/// JSON text of `v` for an error message ("got ..."); never throws on bad
/// UTF-8, shortened when long.
std::string
Got(const json& v)
{
    std::string d = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (d.size() > 80)
    {
        d = d.substr(0, 77) + "...";
    }
    return d;
}

/// An unsigned integer in [lo, hi]. Integral floats (1e6) are accepted.
uint64_t
ToUint(const json& v, const std::string& field, uint64_t lo, uint64_t hi)
{
    auto bad = [&]() {
        return ScenarioError(field, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                        "], got " + Got(v));
    };
    uint64_t u = 0;
    if (v.is_number_unsigned())
    {
        u = v.get<uint64_t>();
    }
    else if (v.is_number_integer())
    {
        if (v.get<int64_t>() < 0)
        {
            throw bad();
        }
        u = static_cast<uint64_t>(v.get<int64_t>());
    }
    else if (v.is_number_float())
    {
        const double d = v.get<double>();
        // 2^64 is exactly representable; anything at or above it is out of range.
        if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d >= 18446744073709551616.0)
        {
            throw bad();
        }
        u = static_cast<uint64_t>(d);
    }
    else
    {
        throw bad();
    }
    if (u < lo || u > hi)
    {
        throw bad();
    }
    return u;
}

/// A finite number in `r`.
double
ToDouble(const json& v, const std::string& field, const Range& r)
{
    if (!v.is_number() || !std::isfinite(v.get<double>()) || !r.Contains(v.get<double>()))
    {
        throw ScenarioError(field, "must be a number in " + r.MessageText() + ", got " + Got(v));
    }
    return v.get<double>();
}

void
CheckComment(const json& v, const std::string& field)
{
    bool ok = v.is_string();
    if (v.is_array())
    {
        ok = true;
        for (const auto& e : v)
        {
            ok = ok && e.is_string();
        }
    }
    if (!ok)
    {
        throw ScenarioError(field, "must be a string or an array of strings, got " + Got(v));
    }
}

/// The keys a section may have, in table order.
class KeyCollector
{
  public:
    std::vector<std::string> keys;

    template <typename T>
    void Uint(const char* key, T&, uint64_t, uint64_t, const Doc&)
    {
        keys.emplace_back(key);
    }
    void Double(const char* key, double&, const Range&, const Doc&) { keys.emplace_back(key); }
    void DoubleOrMinusOne(const char* key, double&, const Range&, const char*, const Doc&) { keys.emplace_back(key); }
    void Bool(const char* key, bool&, const Doc&) { keys.emplace_back(key); }
    void String(const char* key, std::string&, bool, const Doc&) { keys.emplace_back(key); }
    template <typename E>
    void Enum(const char* key, E&, const Doc&, const std::vector<E>& = {}, const char* = nullptr)
    {
        keys.emplace_back(key);
    }
    void Name(const char* key, std::string&, const std::vector<std::string>&, const char*, const Doc&)
    {
        keys.emplace_back(key);
    }
    void Quantiles(const char* key, std::vector<double>&, const Doc&) { keys.emplace_back(key); }
    template <typename T, typename Visit>
    void Object(const char* key, T&, Visit, const Doc&)
    {
        keys.emplace_back(key);
    }
    template <typename T, typename Visit>
    void Array(const char* key, std::vector<T>&, Visit, const ArrayRules&, const Doc&)
    {
        keys.emplace_back(key);
    }
    template <typename F>
    void Only(bool, const char*, F)
    {
    }
    template <typename F>
    void Check(F&&)
    {
    }
};

/// Reads one JSON object of the scenario into its section.
class Parser
{
  public:
    Parser(const json& j, std::string path)
        : m_j(j),
          m_path(std::move(path))
    {
    }

    std::string Path(const std::string& key) const { return Child(m_path, key); }
    bool Has(const std::string& key) const { return m_j.find(key) != m_j.end(); }
    std::string Num(double v) const { return NumberText(v); }

    template <typename T>
    void Uint(const char* key, T& out, uint64_t lo, uint64_t hi, const Doc&)
    {
        if (const json* v = Get(key))
        {
            out = static_cast<T>(ToUint(*v, Path(key), lo, hi));
        }
    }

    void Double(const char* key, double& out, const Range& r, const Doc& doc)
    {
        if (const json* v = Get(key))
        {
            out = ToDouble(*v, Path(key), r);
        }
        else if (doc.required)
        {
            throw ScenarioError(Path(key), "required: a number in " + r.Text() + " (" +
                                               (std::string(doc.unit) == "s" ? "seconds" : doc.unit) + ")");
        }
    }

    /// -1 (which means `minusOne`, e.g. "run to the end") or a number in r.
    void DoubleOrMinusOne(const char* key, double& out, const Range& r, const char* minusOne, const Doc&)
    {
        const json* v = Get(key);
        if (!v)
        {
            return;
        }
        if (v->is_number() && v->get<double>() == -1.0)
        {
            out = -1.0;
            return;
        }
        if (!v->is_number() || !std::isfinite(v->get<double>()) || !r.Contains(v->get<double>()))
        {
            throw ScenarioError(Path(key), std::string("must be -1 (") + minusOne + ") or a number in " +
                                               r.MessageText() + ", got " + Got(*v));
        }
        out = v->get<double>();
    }

    void Bool(const char* key, bool& out, const Doc&)
    {
        if (const json* v = Get(key))
        {
            if (!v->is_boolean())
            {
                throw ScenarioError(Path(key), "must be true or false, got " + Got(*v));
            }
            out = v->get<bool>();
        }
    }

    /// A string that dumps as valid UTF-8 (it ends up in the result file).
    void String(const char* key, std::string& out, bool nonEmpty, const Doc&)
    {
        const json* v = Get(key);
        if (!v)
        {
            return;
        }
        if (!v->is_string() || (nonEmpty && v->get_ref<const std::string&>().empty()))
        {
            throw ScenarioError(Path(key), std::string("must be a ") + (nonEmpty ? "non-empty " : "") +
                                               "string, got " + Got(*v));
        }
        try
        {
            (void)v->dump();
        }
        catch (const json::type_error&)
        {
            throw ScenarioError(Path(key), "must be valid UTF-8");
        }
        out = v->get<std::string>();
    }

    template <typename E>
    void Enum(const char* key, E& out, const Doc&, const std::vector<E>& allowed = {}, const char* noun = nullptr)
    {
        const json* v = Get(key);
        if (!v)
        {
            return;
        }
        std::vector<std::string> names;
        for (const E& e : allowed)
        {
            names.emplace_back(NameOf(e));
        }
        if (allowed.empty())
        {
            names = AllNames<E>();
        }
        std::string word = OneOf(*v, key, names, noun ? noun : EnumNames<E>::kNoun);
        out = *EnumFromName<E>(word);
    }

    void Name(const char* key,
              std::string& out,
              const std::vector<std::string>& names,
              const char* noun,
              const Doc&)
    {
        if (const json* v = Get(key))
        {
            out = OneOf(*v, key, names, noun);
        }
    }

    /// Equally likely latencies (us), drawn per use: an array of at most
    /// kMaxQuantiles numbers in [0, 1e6]; an error names the element.
    void Quantiles(const char* key, std::vector<double>& out, const Doc&)
    {
        const json* q = Get(key);
        if (!q)
        {
            return;
        }
        if (!q->is_array() || q->size() > kMaxQuantiles)
        {
            throw ScenarioError(Path(key), "must be an array of at most " + std::to_string(kMaxQuantiles) +
                                               " numbers in [0, 1e6] (us), got " + Got(*q));
        }
        out.clear();
        for (size_t i = 0; i < q->size(); ++i)
        {
            out.push_back(ToDouble((*q)[i], Index(Path(key), i), Closed(0, 1e6)));
        }
    }

    template <typename T, typename Visit>
    void Object(const char* key, T& out, Visit visit, const Doc&)
    {
        if (const json* v = Get(key))
        {
            ParseSection(*v, Path(key), out, visit);
        }
    }

    template <typename T, typename Visit>
    void Array(const char* key, std::vector<T>& out, Visit visit, const ArrayRules& rules, const Doc&)
    {
        const json* a = Get(key);
        if (!a)
        {
            if (rules.required)
            {
                throw ScenarioError(Path(key), rules.missing);
            }
            return;
        }
        if (!a->is_array() || (rules.nonEmpty && a->empty()))
        {
            throw ScenarioError(Path(key), std::string(rules.notArray) + ", got " + Got(*a));
        }
        out.clear();
        for (size_t i = 0; i < a->size(); ++i)
        {
            T element{};
            ParseSection((*a)[i], Index(Path(key), i), element, visit);
            out.push_back(element);
        }
    }

    /// The fields that follow apply only when `active`; given anyway, they
    /// are an error saying `whyNot()`.
    template <typename F>
    void Only(bool active, const char*, F whyNot)
    {
        m_active = active;
        if constexpr (std::is_same_v<F, std::nullptr_t>)
        {
            m_whyNot = nullptr;
        }
        else
        {
            m_whyNot = whyNot;
        }
    }

    template <typename F>
    void Check(F&& check)
    {
        check(*this);
    }

    /// Check that `j` is an object with only known keys (and "comment"),
    /// then read its fields into `out`.
    template <typename T, typename Visit>
    static void ParseSection(const json& j, const std::string& path, T& out, Visit visit)
    {
        if (!j.is_object())
        {
            if (path.empty())
            {
                throw ScenarioError("", "a scenario must be a JSON object, got " + Got(j));
            }
            throw ScenarioError(path, "must be an object, got " + Got(j));
        }
        KeyCollector kc;
        T scratch{};
        visit(kc, scratch);
        for (const auto& [key, value] : j.items())
        {
            if (key == "comment")
            {
                CheckComment(value, Child(path, key));
                continue;
            }
            bool known = false;
            for (const auto& k : kc.keys)
            {
                known = known || k == key;
            }
            if (!known)
            {
                throw ScenarioError(Child(path, key), "unknown key; allowed keys: " + Join(kc.keys));
            }
        }
        Parser p(j, path);
        visit(p, out);
    }

  private:
    const json* Get(const char* key) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end())
        {
            return nullptr;
        }
        if (!m_active)
        {
            throw ScenarioError(Path(key), m_whyNot ? m_whyNot() : "not allowed here");
        }
        return &*it;
    }

    std::string OneOf(const json& v, const char* key, const std::vector<std::string>& allowed, const char* noun) const
    {
        if (!v.is_string())
        {
            throw ScenarioError(Path(key), "must be a string, one of: " + Join(allowed) + "; got " + Got(v));
        }
        const auto& s = v.get_ref<const std::string&>();
        for (const auto& a : allowed)
        {
            if (s == a)
            {
                return s;
            }
        }
        throw ScenarioError(Path(key), std::string("unknown ") + noun + " " + Quote(s) + "; allowed: " + Join(allowed));
    }

    const json& m_j;
    std::string m_path;
    bool m_active = true;
    std::function<std::string()> m_whyNot;
};

} // namespace

Scenario
ScenarioFromJson(const json& j)
{
    if (j.is_object() && (j.contains("host_profile") || j.contains("provenance")))
    {
        // A host profile fills the cost fields the scenario leaves out
        // (host-profile.h); "provenance" is output only (a resolved scenario).
        json k = j;
        k.erase("provenance");
        std::string path;
        if (k.contains("host_profile"))
        {
            if (!k["host_profile"].is_string())
            {
                throw ScenarioError("host_profile", "must be a string (a profile file's path), got " +
                                                        k["host_profile"].dump());
            }
            path = k["host_profile"].get<std::string>();
            k.erase("host_profile");
        }
        json prov;
        if (!path.empty())
        {
            const json profile = LoadHostProfile(path);
            const std::string stale = StaleProfileWarning(profile, path, RunningKernelRelease());
            if (!stale.empty())
            {
                std::cerr << "tunsim: warning: " << stale << "\n";
            }
            prov = ApplyHostProfile(k, profile);
        }
        Scenario s = ScenarioFromJson(k);
        s.hostProfile = path;
        s.provenance = prov;
        return s;
    }
    Scenario s;
    Parser::ParseSection(j, "", s, [](auto& v, auto& sc) { VisitScenario(v, sc); });
    return s;
}

std::vector<std::string>
TrafficKinds()
{
    std::vector<std::string> kinds;
    for (const auto& m : AllNames<UdpMode>())
    {
        kinds.push_back("udp/" + m);
    }
    kinds.emplace_back("tcp");
    return kinds;
}

} // namespace tunsim
