// libFuzzer harness for the scenario parser and --set (issue 16): what
// `tunsim run FILE --set k=v ...` does with a scenario before any ns-3 object
// exists, from memory (ScenarioFromText: the file loader's bounds, JSON
// parsing, --set, validation).
//
// The input is a scenario text, or, when it contains a line "%%", a scenario
// text (before it; empty: a small valid scenario) and one --set assignment
// per line after it (split at NUL bytes too: no argv holds one). Bad input
// must be a ScenarioError (tunsim exits 2 naming the field); any other
// exception, a crash, a sanitizer report, or a valid scenario that does not
// survive ScenarioToJson -> ScenarioFromJson unchanged is a finding. Built
// and run by scripts/fuzz.sh (make fuzz).
#include "scenario/scenario.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace
{

const char* kValid = R"({"name": "fuzz", "duration_s": 0.1,
  "flows": [{"kind": "udp", "mode": "bursts", "burst_packets": 4},
            {"kind": "tcp"}],
  "reader": {"stalls": [{"at_s": 0.01, "for_s": 0.01}]}})";

void
Fail(const char* what, const std::string& detail)
{
    std::fprintf(stderr, "fuzz_scenario: %s: %s\n", what, detail.c_str());
    std::abort();
}

/// Scenario text and --set assignments (non-empty lines) from the fuzzer's bytes.
void
Split(const std::string& in, std::string& text, std::vector<std::string>& sets)
{
    const std::string mark = "\n%%\n";
    size_t at = in.rfind("%%\n", 0) == 0 ? 0 : in.find(mark);
    if (at == std::string::npos)
    {
        text = in;
        return;
    }
    text = at == 0 ? kValid : in.substr(0, at);
    size_t pos = at == 0 ? 3 : at + mark.size();
    while (pos <= in.size())
    {
        // A line ends at '\n' or at a NUL byte (a command line cannot hold one).
        size_t end = in.find_first_of(std::string("\n\0", 2), pos);
        if (end == std::string::npos)
        {
            end = in.size();
        }
        if (end > pos)
        {
            sets.push_back(in.substr(pos, end - pos));
        }
        pos = end + 1;
    }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string text;
    std::vector<std::string> sets;
    Split(std::string(reinterpret_cast<const char*>(data), size), text, sets);
    tunsim::Scenario s;
    try
    {
        s = tunsim::ScenarioFromText(text, sets, "fuzz.json");
    }
    catch (const tunsim::ScenarioError& e)
    {
        // what() is printed as a C string: a NUL in it would cut the message.
        if (std::strlen(e.what()) == 0 || e.Field().find('\0') != std::string::npos)
        {
            Fail("ScenarioError whose message a NUL byte cuts", e.Field());
        }
        return 0; // exit 2, the field named: what bad input must give
    }
    // Valid: the resolved scenario must read back as itself (the result file
    // embeds it so that a run can be repeated from it alone).
    const nlohmann::json resolved = tunsim::ScenarioToJson(s);
    try
    {
        const nlohmann::json again = tunsim::ScenarioToJson(tunsim::ScenarioFromJson(resolved));
        if (again != resolved)
        {
            Fail("resolved scenario changes when read back", resolved.dump() + "\n" + again.dump());
        }
    }
    catch (const tunsim::ScenarioError& e)
    {
        Fail("resolved scenario does not validate", std::string(e.what()) + "\n" + resolved.dump());
    }
    return 0;
}
