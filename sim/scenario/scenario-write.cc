// Scenario struct -> the resolved JSON, and the field table as documentation
// (scenario-fields.h).
#include "common/number-text.h"
#include "scenario-fields.h"

#include <string>
#include <vector>

namespace tunsim
{

using nlohmann::json;

namespace
{

/// Writes every field that applies (an Only() group that does not is left
/// out) with its resolved value.
class Writer
{
  public:
    json out = json::object();

    template <typename T>
    void Uint(const char* key, T& v, uint64_t, uint64_t, const Doc&)
    {
        Put(key, v);
    }
    void Double(const char* key, double& v, const Range&, const Doc&) { Put(key, v); }
    void DoubleOrMinusOne(const char* key, double& v, const Range&, const char*, const Doc&) { Put(key, v); }
    void Bool(const char* key, bool& v, const Doc&) { Put(key, v); }
    void String(const char* key, std::string& v, bool, const Doc&) { Put(key, v); }
    template <typename E>
    void Enum(const char* key, E& v, const Doc&, const std::vector<E>& = {}, const char* = nullptr)
    {
        Put(key, NameOf(v));
    }
    void Name(const char* key, std::string& v, const std::vector<std::string>&, const char*, const Doc&)
    {
        Put(key, v);
    }
    void Quantiles(const char* key, std::vector<double>& v, const Doc&) { Put(key, v); }
    template <typename T, typename Visit>
    void Object(const char* key, T& section, Visit visit, const Doc&)
    {
        Writer w;
        visit(w, section);
        Put(key, w.out);
    }
    template <typename T, typename Visit>
    void Array(const char* key, std::vector<T>& elements, Visit visit, const ArrayRules&, const Doc&)
    {
        json a = json::array();
        for (auto& e : elements)
        {
            Writer w;
            visit(w, e);
            a.push_back(std::move(w.out));
        }
        Put(key, a);
    }
    template <typename F>
    void Only(bool active, const char*, F)
    {
        m_active = active;
    }
    template <typename F>
    void Check(F&&)
    {
    }

  private:
    template <typename T>
    void Put(const char* key, const T& v)
    {
        if (m_active)
        {
            out[key] = v;
        }
    }

    bool m_active = true;
};

/// One FieldDoc per field, nested objects and arrays included.
class DocCollector
{
  public:
    explicit DocCollector(std::string prefix)
        : m_prefix(std::move(prefix))
    {
    }

    std::vector<FieldDoc> rows;

    template <typename T>
    void Uint(const char* key, T& v, uint64_t lo, uint64_t hi, const Doc& d)
    {
        Add(key, "integer", json(v).dump(), "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]", d);
    }
    void Double(const char* key, double& v, const Range& r, const Doc& d)
    {
        Add(key, "number", d.required ? "required" : NumberText(v), r.symbolic.empty() ? r.Text() : r.symbolic, d);
    }
    void DoubleOrMinusOne(const char* key, double& v, const Range& r, const char* minusOne, const Doc& d)
    {
        Add(key, "number", NumberText(v),
            std::string("-1 (") + minusOne + ") or " + (r.symbolic.empty() ? r.Text() : r.symbolic), d);
    }
    void Bool(const char* key, bool& v, const Doc& d) { Add(key, "bool", v ? "true" : "false", "true, false", d); }
    void String(const char* key, std::string& v, bool nonEmpty, const Doc& d)
    {
        Add(key, "string", json(v).dump(), nonEmpty ? "non-empty" : "any", d);
    }
    template <typename E>
    void Enum(const char* key, E& v, const Doc& d, const std::vector<E>& allowed = {}, const char* = nullptr)
    {
        std::vector<std::string> names;
        for (const E& e : allowed)
        {
            names.emplace_back(NameOf(e));
        }
        Add(key, "string", json(NameOf(v)).dump(), Join(allowed.empty() ? AllNames<E>() : names), d);
    }
    void Name(const char* key, std::string& v, const std::vector<std::string>& names, const char*, const Doc& d)
    {
        Add(key, "string", json(v).dump(), Join(names), d);
    }
    void Quantiles(const char* key, std::vector<double>& v, const Doc& d)
    {
        Add(key, "array of numbers", json(v).dump(),
            "each [0, 1e6], at most " + std::to_string(kMaxQuantiles), d);
    }
    template <typename T, typename Visit>
    void Object(const char* key, T& section, Visit visit, const Doc& d)
    {
        Add(key, "object", "", "", d);
        DocCollector inner(m_prefix + key + ".");
        visit(inner, section);
        rows.insert(rows.end(), inner.rows.begin(), inner.rows.end());
    }
    template <typename T, typename Visit>
    void Array(const char* key, std::vector<T>&, Visit visit, const ArrayRules& rules, const Doc& d)
    {
        Add(key, "array", rules.required ? "required" : "[]", rules.nonEmpty ? ">= 1 element" : "", d);
        DocCollector inner(m_prefix + key + "[].");
        T element{};
        visit(inner, element);
        rows.insert(rows.end(), inner.rows.begin(), inner.rows.end());
    }
    template <typename F>
    void Only(bool, const char* label, F)
    {
        m_only = label;
    }
    template <typename F>
    void Check(F&&)
    {
    }

  private:
    static std::string Join(const std::vector<std::string>& v)
    {
        std::string s;
        for (const auto& x : v)
        {
            s += (s.empty() ? "" : ", ") + x;
        }
        return s;
    }

    void Add(const char* key,
             const std::string& type,
             const std::string& dflt,
             const std::string& allowed,
             const Doc& d)
    {
        rows.push_back(FieldDoc{m_prefix + key, type, dflt, d.unit, allowed, m_only, d.text,
                                d.simOnly ? d.simOnly : ""});
    }

    std::string m_prefix;
    std::string m_only;
};

} // namespace

json
ScenarioToJson(const Scenario& s)
{
    Scenario copy = s;
    Writer w;
    VisitScenario(w, copy);
    if (!s.hostProfile.empty())
    {
        w.out["host_profile"] = s.hostProfile;
        w.out["provenance"] = s.provenance;
    }
    return w.out;
}

std::vector<FieldDoc>
ScenarioFieldDocs()
{
    Scenario defaults;
    DocCollector d("");
    VisitScenario(d, defaults);
    return d.rows;
}

} // namespace tunsim
