// Scenario files and --set: reading JSON (line/column errors, duplicate
// keys) and editing it by dotted key before it is parsed.
#include "scenario.h"
#include "scenario-text.h"

#include "common/bounded-input.h"


#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tunsim
{

using nlohmann::json;

namespace
{

using scenario_text::Child;
using scenario_text::Index;
using scenario_text::Quote;

constexpr size_t kMaxScenarioBytes = 4u << 20; ///< 4 MiB
constexpr size_t kMaxJsonDepth = 64;
constexpr size_t kMaxSetValueBytes = 1u << 20; ///< a --set value

/// Byte offset (0-based) -> 1-based line and column (columns count UTF-8
/// characters, not bytes).
std::pair<size_t, size_t>
LineColumn(const std::string& text, size_t offset)
{
    offset = std::min(offset, text.size());
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset; ++i)
    {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n')
        {
            ++line;
            column = 1;
        }
        else if ((c & 0xC0) != 0x80)
        {
            ++column;
        }
    }
    return {line, column};
}

/// The part of a nlohmann parse_error message after its own "[json...] parse
/// error at line L, column C: " prefix.
std::string
ParseErrorDetail(const json::exception& e)
{
    std::string w = e.what();
    auto p = w.find("parse error");
    if (p != std::string::npos)
    {
        auto colon = w.find(": ", p);
        if (colon != std::string::npos)
        {
            return w.substr(colon + 2);
        }
    }
    return w;
}

/// Tracks the path of the value being parsed, to name a duplicate key (which
/// nlohmann would silently resolve to the last occurrence).
class DuplicateKeyFinder
{
  public:
    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed)
    {
        switch (event)
        {
        case json::parse_event_t::object_start:
            m_stack.push_back(Frame{false, {}, "", 0});
            break;
        case json::parse_event_t::array_start:
            m_stack.push_back(Frame{true, {}, "", 0});
            break;
        case json::parse_event_t::key:
            if (!m_stack.empty())
            {
                Frame& f = m_stack.back();
                f.key = parsed.get<std::string>();
                if (!f.keys.insert(f.key).second && m_duplicate.empty())
                {
                    m_duplicate = PathOfTop();
                }
            }
            break;
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            if (!m_stack.empty())
            {
                m_stack.pop_back();
            }
            ElementDone();
            break;
        case json::parse_event_t::value:
            ElementDone();
            break;
        }
        return true;
    }

    const std::string& Duplicate() const
    {
        return m_duplicate;
    }

  private:
    struct Frame
    {
        bool array;
        std::set<std::string> keys;
        std::string key;
        size_t index;
    };

    void ElementDone()
    {
        if (!m_stack.empty() && m_stack.back().array)
        {
            ++m_stack.back().index;
        }
    }

    std::string PathOfTop() const
    {
        std::string p;
        for (const auto& f : m_stack)
        {
            p = f.array ? Index(p, f.index) : Child(p, f.key);
        }
        return p;
    }

    std::vector<Frame> m_stack;
    std::string m_duplicate;
};

// ------------------------------------------------------------ ApplySet key

struct Segment
{
    std::string text; ///< as written
    bool digits;      ///< all digits: an index into an array (or a key of an object)
    bool bracket;     ///< written as [n]: an index only
    size_t index;     ///< when digits
};

bool
AllDigits(const std::string& s)
{
    if (s.empty())
    {
        return false;
    }
    for (char c : s)
    {
        if (c < '0' || c > '9')
        {
            return false;
        }
    }
    return true;
}

size_t
ParseIndex(const std::string& s)
{
    // More than 9 digits is beyond any array a scenario has.
    return s.size() > 9 ? std::numeric_limits<size_t>::max() : std::stoul(s);
}

std::vector<Segment>
ParseSetKey(const std::string& key, const std::string& assignment)
{
    const std::string where = " in " + Quote(assignment);
    std::vector<Segment> segs;
    size_t i = 0;
    const size_t n = key.size();
    for (;;)
    {
        const size_t start = i;
        while (i < n && key[i] != '.' && key[i] != '[' && key[i] != ']')
        {
            ++i;
        }
        const std::string name = key.substr(start, i - start);
        if (name.empty())
        {
            throw ScenarioError("--set", "empty key segment" + where +
                                             "; expected e.g. tun.ring_size=25 or "
                                             "flows[0].rate_mbps=50");
        }
        segs.push_back(Segment{name, AllDigits(name), false, 0});
        if (segs.back().digits)
        {
            segs.back().index = ParseIndex(name);
        }
        while (i < n && key[i] == '[')
        {
            const size_t close = key.find(']', i);
            if (close == std::string::npos)
            {
                throw ScenarioError("--set", "unclosed '['" + where);
            }
            const std::string d = key.substr(i + 1, close - i - 1);
            if (!AllDigits(d))
            {
                throw ScenarioError("--set", "array index must be a non-negative integer, got [" +
                                                 d + "]" + where);
            }
            segs.push_back(Segment{d, true, true, ParseIndex(d)});
            i = close + 1;
        }
        if (i == n)
        {
            break;
        }
        if (key[i] == '.')
        {
            ++i;
            continue; // an empty segment after it is caught above
        }
        throw ScenarioError("--set", std::string("unexpected '") + key[i] + "'" + where);
    }
    return segs;
}

/// Refuse JSON nested deeper than kMaxJsonDepth before parsing it: parsing,
/// copying and freeing a document recurse once per level.
void
CheckNesting(const std::string& text, const std::string& field)
{
    const size_t at = JsonTooDeepAt(text, kMaxJsonDepth);
    if (at != std::string::npos)
    {
        const auto [line, column] = LineColumn(text, at);
        throw ScenarioError(field, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (at line " +
                                       std::to_string(line) + ", column " + std::to_string(column) +
                                       "); a scenario needs 4");
    }
}

} // namespace

namespace
{

Scenario
ScenarioWithSets(json j, const std::vector<std::string>& sets)
{
    for (const auto& s : sets)
    {
        ApplySet(j, s);
    }
    return ScenarioFromJson(j);
}

} // namespace

json
LoadScenarioJson(const std::string& path)
{
    std::string text;
    try
    {
        text = ReadBoundedFile(path, kMaxScenarioBytes);
    }
    catch (const BoundedReadError& e)
    {
        const std::string why = e.what();
        throw ScenarioError(path, why + (why.rfind("not a regular", 0) == 0
                                             ? " (a scenario is a JSON file; - reads standard input)"
                                             : why.rfind("larger", 0) == 0 ? "; a scenario is a small JSON file" : ""));
    }
    return ParseScenarioJson(text, path);
}

json
ParseScenarioJson(const std::string& text, const std::string& path)
{
    if (text.size() > kMaxScenarioBytes)
    {
        throw ScenarioError(path, "larger than 4 MiB; a scenario is a small JSON file");
    }
    CheckNesting(text, path);
    DuplicateKeyFinder dup;
    json j;
    try
    {
        j = json::parse(text, std::ref(dup));
    }
    catch (const json::parse_error& e)
    {
        // e.byte counts the characters read, the offending one included.
        const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        const auto [line, column] = LineColumn(text, offset);
        throw ScenarioError(path,
                            "malformed JSON at line " + std::to_string(line) + ", column " +
                                std::to_string(column) + ": " + ParseErrorDetail(e));
    }
    catch (const json::exception& e)
    {
        // e.g. a number literal too large for any number type (out_of_range)
        throw ScenarioError(path, std::string("malformed JSON: ") + ParseErrorDetail(e));
    }
    if (!dup.Duplicate().empty())
    {
        throw ScenarioError(path, "duplicate key " + Quote(dup.Duplicate()));
    }
    return j;
}

void
ApplySet(json& j, const std::string& assignment)
{
    const auto eq = assignment.find('=');
    if (eq == std::string::npos)
    {
        throw ScenarioError("--set", "no '=' in " + Quote(assignment) +
                                         "; expected key=value, e.g. tun.ring_size=25");
    }
    const std::string key = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    if (key.empty())
    {
        throw ScenarioError("--set", "empty key in " + Quote(assignment) +
                                         "; expected key=value, e.g. tun.ring_size=25");
    }
    const std::vector<Segment> segs = ParseSetKey(key, assignment);

    if (text.size() > kMaxSetValueBytes)
    {
        throw ScenarioError("--set", "the value of " + key + " is longer than 1 MiB");
    }
    CheckNesting(text, key);
    json value;
    try
    {
        value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    }
    catch (const json::exception& e)
    {
        throw ScenarioError(key, std::string("not a value tunsim can read: ") + ParseErrorDetail(e));
    }
    if (value.is_discarded())
    {
        value = text;
    }

    // Work on a copy so that a failed --set leaves `j` as it was.
    json copy = j.is_null() ? json::object() : j;
    json* cur = &copy;
    std::string path;
    for (size_t k = 0; k < segs.size(); ++k)
    {
        const Segment& seg = segs[k];
        json* next = nullptr;
        if (cur->is_array())
        {
            if (!seg.digits)
            {
                throw ScenarioError(path, "is an array; " + Quote(seg.text) +
                                              " is not an index (use " + path + "[0] or " +
                                              path + ".0)");
            }
            if (seg.index >= cur->size())
            {
                throw ScenarioError(Index(path, seg.index),
                                    "index beyond the end of the array (" +
                                        std::to_string(cur->size()) +
                                        (cur->size() == 1 ? " element" : " elements") +
                                        "); set the whole array to add elements");
            }
            path = Index(path, seg.index);
            next = &(*cur)[seg.index];
        }
        else if (cur->is_object())
        {
            if (seg.bracket)
            {
                throw ScenarioError(path.empty() ? "--set" : path,
                                    "is an object, not an array; cannot index [" + seg.text + "]");
            }
            path = Child(path, seg.text);
            next = &(*cur)[seg.text];
        }
        else
        {
            throw ScenarioError(path, std::string("is a ") + cur->type_name() +
                                          ", not an object or array; cannot set " + Quote(key));
        }

        if (k + 1 == segs.size())
        {
            *next = value;
        }
        else
        {
            if (next->is_null())
            {
                if (segs[k + 1].digits)
                {
                    throw ScenarioError(path, "does not exist; cannot index [" +
                                                  segs[k + 1].text +
                                                  "] (set the whole array first)");
                }
                *next = json::object();
            }
            cur = next;
        }
    }
    j = std::move(copy);
}

Scenario
LoadScenario(const std::string& path, const std::vector<std::string>& sets)
{
    return ScenarioWithSets(LoadScenarioJson(path), sets);
}

Scenario
ScenarioFromText(const std::string& text, const std::vector<std::string>& sets, const std::string& name)
{
    return ScenarioWithSets(ParseScenarioJson(text, name), sets);
}

} // namespace tunsim
