// Scenario JSON: defaults, round trip, every class of bad input, --set.
#include "scenario/scenario.h"

#include "tun-policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <fstream>
#include <string>
#include <unistd.h>

using nlohmann::json;
using namespace tunsim;

namespace
{

/// The smallest valid scenario: one default flow.
json
Minimal()
{
    return json::parse(R"({"flows": [{}]})");
}

/// Parses `j` expecting a ScenarioError; returns it (fails the test if none).
ScenarioError
ErrorOf(const json& j)
{
    try
    {
        ScenarioFromJson(j);
    }
    catch (const ScenarioError& e)
    {
        return e;
    }
    ADD_FAILURE() << "no ScenarioError for " << j.dump();
    return ScenarioError("<none>", "<none>");
}

/// Minimal() with `assignment` applied, then parsed, expecting an error.
ScenarioError
ErrorWith(const std::string& assignment)
{
    json j = Minimal();
    ApplySet(j, assignment);
    return ErrorOf(j);
}

bool
Contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

#define EXPECT_CONTAINS(haystack, needle)                                                         \
    EXPECT_TRUE(Contains(haystack, needle)) << "\"" << (haystack) << "\" lacks \"" << (needle) << "\""

/// A temporary file with `content`, removed at scope exit.
class TempFile
{
  public:
    explicit TempFile(const std::string& content)
    {
        char name[] = "/tmp/tunsim-test-scenario-XXXXXX";
        int fd = mkstemp(name);
        EXPECT_GE(fd, 0);
        close(fd);
        m_path = name;
        std::ofstream(m_path) << content;
    }

    ~TempFile()
    {
        std::remove(m_path.c_str());
    }

    const std::string& Path() const
    {
        return m_path;
    }

  private:
    std::string m_path;
};

/// Two scenarios are the same when every field of the field table has the
/// same value (the resolved JSON lists them all).
void
ExpectSame(const Scenario& a, const Scenario& b)
{
    EXPECT_EQ(ScenarioToJson(a).dump(), ScenarioToJson(b).dump());
}

/// The value at a FieldDoc path ("flows[].cc" -> every flow's cc, in order)
/// in a resolved scenario; absent paths give nothing.
std::vector<json>
ValuesAt(const json& resolved, const std::string& path)
{
    std::vector<const json*> cur = {&resolved};
    size_t pos = 0;
    while (pos <= path.size())
    {
        size_t dot = path.find('.', pos);
        std::string seg = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        pos = dot == std::string::npos ? path.size() + 1 : dot + 1;
        const bool all = seg.size() > 2 && seg.compare(seg.size() - 2, 2, "[]") == 0;
        if (all)
        {
            seg.resize(seg.size() - 2);
        }
        std::vector<const json*> next;
        for (const json* j : cur)
        {
            if (!j->is_object() || !j->contains(seg))
            {
                continue;
            }
            const json& v = (*j)[seg];
            if (all)
            {
                for (const auto& e : v)
                {
                    next.push_back(&e);
                }
            }
            else
            {
                next.push_back(&v);
            }
        }
        cur = next;
    }
    std::vector<json> out;
    for (const json* j : cur)
    {
        out.push_back(*j);
    }
    return out;
}

/// Every field away from its default; awkward doubles on purpose.
Scenario
Everything()
{
    Scenario s;
    s.name = "everything \"quoted\" é";
    s.description = "all fields set";
    s.durationS = 10.0 / 3.0;
    s.seed = 9223372036854775807ULL;
    s.tun.ringSize = 25;
    s.tun.policy = "nodrop-v6";
    s.tun.softirqLatencyUs = 0.1;
    s.tun.softirqOnReaderCpu = true;
    s.tun.xmitCostNs = 123.456;
    s.tun.softirqCostNs = 1e-7;
    s.qdisc.kind = QdiscKind::FqCodel;
    s.qdisc.limit = 1000000;
    s.qdisc.targetMs = 2.5;
    s.qdisc.intervalMs = 1e5;
    s.reader.perPacketNs = 1e10;
    s.reader.nsPerByte = 0.3;
    s.reader.wakeupLatencyUs = 7.7;
    s.reader.deepIdleAfterUs = 1.0 / 3.0;
    s.reader.deepWakeupLatencyUs = 1e6;
    s.reader.batch = 64;
    s.reader.wakeupLatencyUs = 0;
    s.reader.wakeupQuantilesUs = {1.5, 45, 1e6};
    s.reader.deepWakeupLatencyUs = 0;
    s.reader.deepWakeupQuantilesUs = {80.25, 0};
    s.reader.encap = EncapKind::Custom;
    s.reader.encapOverheadBytes = 60;
    s.reader.sndbufBytes = 4608;
    s.reader.stalls = {{0.5, 0.25}, {1.0 / 7.0, 1e-3}};
    s.underlay.rateMbps = 100.5;
    s.underlay.delayMs = 60.0;
    s.underlay.queuePackets = 1;
    s.reader.preemptIntervalMs = 12.5;
    s.reader.preemptMs = 0.125;
    s.underlay.qdisc = QdiscKind::FqCodel;
    s.host.udpSndbufBytes = 2147483647;
    s.host.senderWakeupLatencyUs = 0.0;
    s.host.tcpSmallQueues = false;
    s.host.tcpLimitOutputBytes = 4096;
    s.host.tcpPacingShift = 31;
    s.host.tcpRmemDefault = 87380;
    s.host.tcpRmemMax = 6291456;

    FlowConfig rate;
    rate.mode = UdpMode::Rate;
    rate.payloadBytes = 12;
    rate.rateMbps = 0.001;
    rate.poisson = true;
    rate.sendCostNs = 0;
    rate.sendCostFirstNs = 1e9;
    rate.startS = 0.1;
    rate.stopS = 10.0 / 3.0; // == duration: allowed

    FlowConfig bursts;
    bursts.mode = UdpMode::Bursts;
    bursts.payloadBytes = 1472;
    bursts.burstPackets = 40;
    bursts.burstIntervalMs = 33.333333333333336;

    FlowConfig video;
    video.mode = UdpMode::Video;
    video.fps = 1000;
    video.gop = 100000;
    video.iFrameRatio = 1000;
    video.phaseMs = 1.0 / 9.0;
    video.frameSizeCv = 10;

    FlowConfig tcp;
    tcp.kind = FlowKind::Tcp;
    tcp.cc = CongestionControl::NewReno;
    tcp.maxBytes = 18446744073709551615ULL;
    tcp.startS = 1.0;
    tcp.stopS = 2.0;

    s.flows = {rate, bursts, video, tcp};
    return s;
}

} // namespace

// ------------------------------------------------------------- defaults

TEST(Scenario, MinimalGivesTheStructDefaults)
{
    Scenario s = ScenarioFromJson(Minimal());
    Scenario d;
    d.flows.push_back(FlowConfig{});
    ExpectSame(s, d);
    // and the documented values themselves
    EXPECT_EQ(s.name, "unnamed");
    EXPECT_EQ(s.durationS, 2.0);
    EXPECT_EQ(s.seed, 1u);
    EXPECT_EQ(s.tun.ringSize, 500u);
    EXPECT_EQ(s.tun.policy, "drop");
    EXPECT_EQ(s.qdisc.kind, QdiscKind::PfifoFast);
    EXPECT_EQ(s.qdisc.limit, 0u);
    EXPECT_EQ(s.reader.encap, EncapKind::OpenVpn);
    EXPECT_EQ(s.reader.sndbufBytes, 212992u);
    EXPECT_TRUE(s.reader.stalls.empty());
    EXPECT_EQ(s.host.udpSndbufBytes, 212992u);
    ASSERT_EQ(s.flows.size(), 1u);
    EXPECT_EQ(s.flows[0].kind, FlowKind::Udp);
    EXPECT_EQ(s.flows[0].mode, UdpMode::Flood);
    EXPECT_EQ(s.flows[0].stopS, -1.0);
}

TEST(Scenario, CommentsAreAllowedEverywhere)
{
    json j = json::parse(R"({
      "comment": ["what this is", "and why"],
      "tun": {"comment": "ring", "ring_size": 25},
      "qdisc": {"comment": "q"}, "reader": {"comment": "r", "stalls": [{"comment": "s", "at_s": 1, "for_s": 0.5}]},
      "underlay": {"comment": "u"}, "host": {"comment": "h"},
      "flows": [{"comment": "f", "kind": "tcp"}]
    })");
    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.tun.ringSize, 25u);
    EXPECT_EQ(s.flows[0].kind, FlowKind::Tcp);

    j["comment"] = 5;
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "comment");
    j["comment"] = "ok";
    j["tun"]["comment"] = json::array({"a", 1});
    EXPECT_EQ(ErrorOf(j).Field(), "tun.comment");
}

TEST(Scenario, IntegralFloatsAreIntegers)
{
    json j = Minimal();
    j["underlay"]["queue_packets"] = 1e6;
    EXPECT_EQ(ScenarioFromJson(j).underlay.queuePackets, 1000000u);
}

// ----------------------------------------------------------- round trip

TEST(Scenario, RoundTripInMemory)
{
    Scenario s = Everything();
    Scenario back = ScenarioFromJson(ScenarioToJson(s));
    ExpectSame(s, back);
}

TEST(Scenario, RoundTripThroughText)
{
    Scenario s = Everything();
    std::string text = ScenarioToJson(s).dump(2);
    TempFile f(text);
    Scenario back = ScenarioFromJson(LoadScenarioJson(f.Path()));
    ExpectSame(s, back);
    EXPECT_EQ(ScenarioToJson(back), ScenarioToJson(s));
}

TEST(Scenario, ToJsonHasEveryFieldResolved)
{
    // Every field of the table that applies to an object is in its resolved
    // JSON, with the table's default; a flow has its kind's fields only, and
    // encap_overhead_bytes is there only with encap custom.
    json j = ScenarioToJson(ScenarioFromJson(json::parse(R"({"flows": [{}, {"kind": "tcp"}]})")));
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        SCOPED_TRACE(f.path);
        std::vector<json> v = ValuesAt(j, f.path);
        if (f.path.rfind("reader.stalls[].", 0) == 0)
        {
            EXPECT_TRUE(v.empty()); // no stalls
            continue;
        }
        size_t expected = f.path.rfind("flows[].", 0) == 0 ? (f.only.empty() ? 2 : 1) : 1;
        if (f.only == "encap custom")
        {
            expected = 0;
        }
        ASSERT_EQ(v.size(), expected);
        if (f.type != "object" && f.type != "array" && expected)
        {
            EXPECT_EQ(v[0], json::parse(f.dflt)) << "default";
        }
    }
    EXPECT_EQ(ValuesAt(j, "flows[].mode"), std::vector<json>{"flood"});
    EXPECT_EQ(ValuesAt(j, "flows[].cc"), std::vector<json>{"cubic"});

    // ... and nothing the table does not declare.
    std::set<std::string> declared;
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        declared.insert(f.path);
    }
    std::function<void(const json&, const std::string&)> walk = [&](const json& o, const std::string& prefix) {
        for (const auto& [k, v] : o.items())
        {
            const std::string path = prefix + k;
            EXPECT_TRUE(declared.count(path)) << path << " is written but not in the field table";
            if (v.is_object())
            {
                walk(v, path + ".");
            }
            if (v.is_array() && !v.empty() && v[0].is_object())
            {
                for (const auto& e : v)
                {
                    walk(e, path + "[].");
                }
            }
        }
    };
    walk(ScenarioToJson(Everything()), "");
}

TEST(Scenario, EverythingSetsEveryFieldAwayFromItsDefault)
{
    // The round-trip tests are only as good as Everything(): each field of
    // the table must differ from its default there (a new field that the
    // round trip would not exercise fails here).
    // The two wake-up forms exclude each other: the fixed latencies are
    // exercised by a second variant.
    Scenario fixed = Everything();
    fixed.reader.wakeupQuantilesUs.clear();
    fixed.reader.deepWakeupQuantilesUs.clear();
    fixed.reader.wakeupLatencyUs = 7.7;
    fixed.reader.deepWakeupLatencyUs = 1e6;
    ExpectSame(fixed, ScenarioFromJson(ScenarioToJson(fixed)));
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        if (f.type == "object" || f.type == "array")
        {
            continue;
        }
        SCOPED_TRACE(f.path);
        std::vector<json> values = ValuesAt(ScenarioToJson(Everything()), f.path);
        for (const auto& v : ValuesAt(ScenarioToJson(fixed), f.path))
        {
            values.push_back(v);
        }
        ASSERT_FALSE(values.empty()) << "Everything() does not write it";
        const json dflt = json::parse(f.dflt == "required" ? "null" : f.dflt);
        bool differs = false;
        for (const auto& v : values)
        {
            differs = differs || v != dflt;
        }
        EXPECT_TRUE(differs) << "Everything() leaves it at its default " << f.dflt;
    }
}

TEST(Scenario, DocsDescribeEveryFieldWithTheTablesDefaultAndUnit)
{
    // docs/scenario.md has one table row per field: | `key` | type | default | unit | ...
    // Each field of the table must have a row in its section with the same
    // default (as a number or JSON) and unit; every row must be a field.
    std::ifstream in(std::string(TUNSIM_SOURCE_DIR) + "/docs/scenario.md");
    ASSERT_TRUE(in) << "docs/scenario.md";
    std::map<std::string, std::vector<std::string>> rows; // section/key -> cells
    std::string line;
    std::string section;
    while (std::getline(in, line))
    {
        if (line.rfind("## ", 0) == 0)
        {
            section = line.substr(3);
        }
        if (line.rfind("Each `stalls` element", 0) == 0)
        {
            section = "reader.stalls[]";
        }
        if (line.rfind("| `", 0) != 0)
        {
            continue;
        }
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1));
        std::string cell;
        while (std::getline(ss, cell, '|'))
        {
            cell.erase(0, cell.find_first_not_of(' '));
            cell.erase(cell.find_last_not_of(' ') + 1);
            cells.push_back(cell);
        }
        const std::string key = cells[0].substr(1, cells[0].size() - 2);
        const std::string prefix = section == "Top level" ? "" : section == "flows" ? "flows[]." : section + ".";
        rows[prefix + key] = cells;
    }
    auto unitOf = [](std::string u) {
        // the docs write µs for the table's us
        if (u == "µs")
        {
            u = "us";
        }
        return u;
    };
    std::set<std::string> seen;
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        SCOPED_TRACE(f.path);
        auto it = rows.find(f.path);
        ASSERT_NE(it, rows.end()) << "not documented in docs/scenario.md";
        seen.insert(f.path);
        const auto& cells = it->second;
        ASSERT_GE(cells.size(), 5u);
        std::string dflt = cells[2];
        dflt.erase(std::remove(dflt.begin(), dflt.end(), '`'), dflt.end());
        if (f.dflt == "required")
        {
            EXPECT_NE(dflt.find("required"), std::string::npos);
        }
        else if (f.type != "object")
        {
            EXPECT_EQ(json::parse(dflt), json::parse(f.dflt)) << "docs default " << cells[2];
        }
        EXPECT_EQ(unitOf(cells[3]), f.unit);
    }
    for (const auto& [path, cells] : rows)
    {
        EXPECT_TRUE(seen.count(path)) << path << " is documented but not a field";
    }
}

// ---------------------------------------------------------- bad input

TEST(ScenarioErrors, MalformedJsonGivesLineAndColumn)
{
    TempFile f("{\n  \"flows\": [{}],\n  \"seed\": 1,,\n}\n");
    try
    {
        LoadScenarioJson(f.Path());
        FAIL() << "no error";
    }
    catch (const ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), f.Path());
        EXPECT_CONTAINS(std::string(e.what()), "malformed JSON at line 3, column 13");
    }
}

TEST(ScenarioErrors, UnreadableFile)
{
    try
    {
        LoadScenarioJson("/nonexistent/tunsim.json");
        FAIL() << "no error";
    }
    catch (const ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), "/nonexistent/tunsim.json");
        EXPECT_CONTAINS(std::string(e.what()), "cannot read: No such file or directory");
    }
}

TEST(ScenarioErrors, DuplicateKeyInFile)
{
    TempFile f(R"({"flows": [{}, {"kind": "udp", "rate_mbps": 1, "rate_mbps": 2}]})");
    try
    {
        LoadScenarioJson(f.Path());
        FAIL() << "no error";
    }
    catch (const ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), f.Path());
        EXPECT_CONTAINS(std::string(e.what()), "duplicate key \"flows[1].rate_mbps\"");
    }
}

TEST(ScenarioErrors, UnknownTopLevelKey)
{
    json j = Minimal();
    j["durationS"] = 3;
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "durationS");
    EXPECT_CONTAINS(std::string(e.what()), "unknown key; allowed keys: name, description, duration_s");
}

TEST(ScenarioErrors, UnknownNestedKey)
{
    json j = Minimal();
    j["qdisc"]["bogus"] = 1;
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "qdisc.bogus");
    EXPECT_STREQ(e.what(),
                 "qdisc.bogus: unknown key; allowed keys: kind, limit, target_ms, interval_ms");

    j = Minimal();
    j["flows"].push_back({{"kind", "udp"}, {"rate", 5}});
    EXPECT_EQ(ErrorOf(j).Field(), "flows[1].rate");

    j = Minimal();
    j["reader"]["stalls"] = json::parse(R"([{"at_s": 0, "for_s": 1, "until_s": 1}])");
    EXPECT_EQ(ErrorOf(j).Field(), "reader.stalls[0].until_s");
}

TEST(ScenarioErrors, WrongTypes)
{
    ScenarioError e = ErrorWith("tun.ring_size=\"25\"");
    EXPECT_EQ(e.Field(), "tun.ring_size");
    EXPECT_STREQ(e.what(), "tun.ring_size: must be an integer in [1, 65536], got \"25\"");

    e = ErrorWith("tun.ring_size=1.5");
    EXPECT_EQ(e.Field(), "tun.ring_size");
    EXPECT_CONTAINS(std::string(e.what()), "[1, 65536], got 1.5");

    e = ErrorWith("tun.softirq_on_reader_cpu=1");
    EXPECT_EQ(e.Field(), "tun.softirq_on_reader_cpu");
    EXPECT_CONTAINS(std::string(e.what()), "must be true or false, got 1");

    e = ErrorWith("flows.0.poisson=0");
    EXPECT_EQ(e.Field(), "flows[0].poisson");

    e = ErrorWith("duration_s=fast");
    EXPECT_EQ(e.Field(), "duration_s");
    EXPECT_CONTAINS(std::string(e.what()), "must be a number in (0, 1e5], got \"fast\"");

    e = ErrorWith("reader.encap=5");
    EXPECT_EQ(e.Field(), "reader.encap");
    EXPECT_CONTAINS(std::string(e.what()), "none, openvpn, wireguard, custom");

    e = ErrorWith("tun=25");
    EXPECT_EQ(e.Field(), "tun");
    EXPECT_CONTAINS(std::string(e.what()), "must be an object");

    e = ErrorWith("name=42");
    EXPECT_EQ(e.Field(), "name");

    e = ErrorWith("reader.stalls={}");
    EXPECT_EQ(e.Field(), "reader.stalls");

    EXPECT_EQ(ErrorOf(json::array()).Field(), "");
}

TEST(ScenarioErrors, OutOfRange)
{
    ScenarioError e = ErrorWith("tun.ring_size=0");
    EXPECT_EQ(e.Field(), "tun.ring_size");
    EXPECT_STREQ(e.what(), "tun.ring_size: must be an integer in [1, 65536], got 0");

    e = ErrorWith("tun.ring_size=65537");
    EXPECT_EQ(e.Field(), "tun.ring_size");
    EXPECT_CONTAINS(std::string(e.what()), "[1, 65536], got 65537");

    e = ErrorWith("tun.ring_size=-1");
    EXPECT_CONTAINS(std::string(e.what()), "got -1");

    e = ErrorWith("duration_s=0");
    EXPECT_EQ(e.Field(), "duration_s");
    EXPECT_STREQ(e.what(), "duration_s: must be a number in (0, 1e5], got 0");

    e = ErrorWith("qdisc.limit=1000001");
    EXPECT_EQ(e.Field(), "qdisc.limit");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 1000000]");

    e = ErrorWith("reader.sndbuf_bytes=4607");
    EXPECT_EQ(e.Field(), "reader.sndbuf_bytes");
    EXPECT_CONTAINS(std::string(e.what()), "[4608, 2147483647]");

    e = ErrorWith("seed=0");
    EXPECT_EQ(e.Field(), "seed");

    e = ErrorWith("flows.0.payload_bytes=11");
    EXPECT_EQ(e.Field(), "flows[0].payload_bytes");
    EXPECT_CONTAINS(std::string(e.what()), "[12, 1472]");

    e = ErrorWith("underlay.rate_mbps=1000001");
    EXPECT_EQ(e.Field(), "underlay.rate_mbps");
    EXPECT_CONTAINS(std::string(e.what()), "[0.001, 1e6]");
}

TEST(ScenarioErrors, ValuesNs3CannotRunAreOutOfRange)
{
    // Each of these passed validation once and then made ns-3 abort, loop
    // without end or grow memory: a DataRate of 0 bps, a time step that
    // rounds to 0 ns, a frame period beyond ns-3's time range.
    for (const char* set : {"underlay.rate_mbps=1e-300", "flows.0.rate_mbps=1e-300", "flows.0.burst_interval_ms=1e-300",
                            "flows.0.fps=1e-300", "flows.0.rate_mbps=1e999", "duration_s=1e999"})
    {
        SCOPED_TRACE(set);
        ScenarioError e = ErrorWith(set);
        const std::string key = std::string(set).substr(0, std::string(set).find('='));
        EXPECT_EQ(e.Field(), key == "flows.0.rate_mbps" || key == "flows.0.burst_interval_ms" || key == "flows.0.fps"
                                 ? "flows[0]." + key.substr(8)
                                 : key);
    }
    // A flood whose sendto() costs nothing never lets simulated time advance.
    ScenarioError zeno = ErrorWith("flows.0.send_cost_ns=0");
    EXPECT_EQ(zeno.Field(), "flows[0].send_cost_ns");
    EXPECT_CONTAINS(std::string(zeno.what()), "never advances");
    json bursts = Minimal();
    ApplySet(bursts, "flows.0.mode=bursts");
    ApplySet(bursts, "flows.0.send_cost_ns=0");
    EXPECT_NO_THROW(ScenarioFromJson(bursts)); // a burst is finite
}

TEST(ScenarioErrors, UnknownPolicyListsTheAllowedOnes)
{
    ScenarioError e = ErrorWith("tun.policy=nodrop");
    EXPECT_EQ(e.Field(), "tun.policy");
    const std::string what = e.what();
    EXPECT_CONTAINS(what, "unknown policy \"nodrop\"; allowed: ");
    ASSERT_FALSE(TunPolicyNames().empty());
    for (const auto& name : TunPolicyNames())
    {
        EXPECT_CONTAINS(what, name);
    }
    for (const auto& name : TunPolicyNames())
    {
        json j = Minimal();
        j["tun"]["policy"] = name;
        EXPECT_EQ(ScenarioFromJson(j).tun.policy, name);
    }
}

TEST(ScenarioErrors, UnknownEnums)
{
    ScenarioError e = ErrorWith("qdisc.kind=fq");
    EXPECT_EQ(e.Field(), "qdisc.kind");
    EXPECT_CONTAINS(std::string(e.what()), "\"fq\"; allowed: fq_codel, pfifo_fast, pfifo, noqueue");

    e = ErrorWith("underlay.qdisc=pfifo");
    EXPECT_EQ(e.Field(), "underlay.qdisc");
    EXPECT_CONTAINS(std::string(e.what()), "allowed: pfifo_fast, fq_codel, noqueue");

    e = ErrorWith("flows.0.kind=quic");
    EXPECT_EQ(e.Field(), "flows[0].kind");
    EXPECT_CONTAINS(std::string(e.what()), "allowed: udp, tcp");

    e = ErrorWith("flows.0.mode=cbr");
    EXPECT_EQ(e.Field(), "flows[0].mode");
    EXPECT_CONTAINS(std::string(e.what()), "allowed: flood, rate, bursts");

    json j = Minimal();
    j["flows"][0] = {{"kind", "tcp"}, {"cc", "vegas"}};
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "flows[0].cc");
    EXPECT_CONTAINS(std::string(e.what()), "allowed: cubic, newreno, bbr");
}

TEST(ScenarioErrors, KindSpecificFlowFields)
{
    json j = Minimal();
    j["flows"].push_back({{"kind", "tcp"}, {"payload_bytes", 1400}});
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "flows[1].payload_bytes");
    EXPECT_CONTAINS(std::string(e.what()), "only for udp flows");

    j = Minimal();
    j["flows"][0]["cc"] = "cubic"; // kind defaults to udp
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "flows[0].cc");
    EXPECT_CONTAINS(std::string(e.what()), "only for tcp flows");

    j = Minimal();
    j["flows"][0] = {{"kind", "tcp"}, {"max_bytes", 1000000}};
    EXPECT_EQ(ScenarioFromJson(j).flows[0].maxBytes, 1000000u);
}

TEST(ScenarioErrors, EmptyOrMissingFlows)
{
    ScenarioError e = ErrorOf(json::parse(R"({"flows": []})"));
    EXPECT_EQ(e.Field(), "flows");
    EXPECT_CONTAINS(std::string(e.what()), "at least one flow");

    e = ErrorOf(json::object());
    EXPECT_EQ(e.Field(), "flows");
    EXPECT_CONTAINS(std::string(e.what()), "required");

    e = ErrorOf(json::parse(R"({"flows": {"kind": "udp"}})"));
    EXPECT_EQ(e.Field(), "flows");
}

TEST(ScenarioErrors, StallsWithinTheDuration)
{
    json j = Minimal(); // duration 2 s
    j["reader"]["stalls"] = json::parse(R"([{"at_s": 0.5, "for_s": 0.5}, {"at_s": 1.5, "for_s": 1}])");
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.stalls[1].for_s");
    EXPECT_CONTAINS(std::string(e.what()), "at_s + for_s = 2.5 > 2");

    j["reader"]["stalls"][1] = {{"at_s", 2}, {"for_s", 0.1}};
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.stalls[1].at_s");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 2)");

    j["reader"]["stalls"][1] = {{"at_s", 1}};
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.stalls[1].for_s");
    EXPECT_CONTAINS(std::string(e.what()), "required");

    j["reader"]["stalls"][1] = {{"at_s", 1.5}, {"for_s", 0.5}}; // ends exactly at the end
    EXPECT_EQ(ScenarioFromJson(j).reader.stalls.size(), 2u);
}

TEST(ScenarioErrors, FlowTimesWithinTheDuration)
{
    ScenarioError e = ErrorWith("flows.0.start_s=2");
    EXPECT_EQ(e.Field(), "flows[0].start_s");
    EXPECT_CONTAINS(std::string(e.what()), "[0, duration_s) = [0, 2), got 2");

    json j = Minimal();
    j["flows"][0]["start_s"] = 1;
    j["flows"][0]["stop_s"] = 1;
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "flows[0].stop_s");
    EXPECT_CONTAINS(std::string(e.what()), "-1 (run to the end) or a number in (start_s, duration_s] = (1, 2]");

    j["flows"][0]["stop_s"] = 2.5;
    EXPECT_EQ(ErrorOf(j).Field(), "flows[0].stop_s");

    j["flows"][0]["stop_s"] = -1;
    EXPECT_EQ(ScenarioFromJson(j).flows[0].stopS, -1.0);
}

TEST(ScenarioErrors, SendCostFirstIsMinusOneOrARange)
{
    EXPECT_EQ(ScenarioFromJson(Minimal()).flows[0].sendCostFirstNs, -1.0); // default: = send_cost_ns

    ScenarioError e = ErrorWith("flows.0.send_cost_first_ns=-2");
    EXPECT_EQ(e.Field(), "flows[0].send_cost_first_ns");
    EXPECT_CONTAINS(std::string(e.what()), "-1 (same as send_cost_ns) or a number in [0, 1e9], got -2");
    EXPECT_EQ(ErrorWith("flows.0.send_cost_first_ns=2e9").Field(), "flows[0].send_cost_first_ns");
    EXPECT_EQ(ErrorWith("flows.0.send_cost_first_ns=\"fast\"").Field(), "flows[0].send_cost_first_ns");

    json j = Minimal();
    j["flows"][0]["send_cost_first_ns"] = 45000;
    EXPECT_EQ(ScenarioFromJson(j).flows[0].sendCostFirstNs, 45000.0);
    // The resolved scenario keeps it (results carry what was run).
    EXPECT_EQ(ScenarioToJson(ScenarioFromJson(j))["flows"][0]["send_cost_first_ns"], 45000.0);
}

TEST(ScenarioErrors, DeepWakeupBothOrNeither)
{
    // Defaults: one level.
    Scenario d = ScenarioFromJson(Minimal());
    EXPECT_EQ(d.reader.deepIdleAfterUs, 0.0);
    EXPECT_EQ(d.reader.deepWakeupLatencyUs, 0.0);

    ScenarioError e = ErrorWith("reader.deep_idle_after_us=200");
    EXPECT_EQ(e.Field(), "reader.deep_wakeup_latency_us");
    EXPECT_CONTAINS(std::string(e.what()), "must both be > 0");

    e = ErrorWith("reader.deep_wakeup_latency_us=80");
    EXPECT_EQ(e.Field(), "reader.deep_idle_after_us");
    EXPECT_CONTAINS(std::string(e.what()), "both 0 (off");

    e = ErrorWith("reader.deep_idle_after_us=-1");
    EXPECT_EQ(e.Field(), "reader.deep_idle_after_us");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 1e6], got -1");

    e = ErrorWith("reader.deep_wakeup_latency_us=1000001");
    EXPECT_EQ(e.Field(), "reader.deep_wakeup_latency_us");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 1e6]");

    e = ErrorWith("reader.deep_idle_after_us=\"x\"");
    EXPECT_EQ(e.Field(), "reader.deep_idle_after_us");

    json j = Minimal();
    j["reader"] = {{"deep_idle_after_us", 150}, {"deep_wakeup_latency_us", 80.5}, {"wakeup_latency_us", 3.4}};
    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.reader.deepIdleAfterUs, 150.0);
    EXPECT_EQ(s.reader.deepWakeupLatencyUs, 80.5);
    json back = ScenarioToJson(s);
    EXPECT_EQ(back["reader"]["deep_idle_after_us"], 150.0);
    EXPECT_EQ(back["reader"]["deep_wakeup_latency_us"], 80.5);
    EXPECT_EQ(ScenarioFromJson(back).reader.deepWakeupLatencyUs, 80.5);

    j["reader"] = {{"deep_idle_after_us", 0}, {"deep_wakeup_latency_us", 0}};
    EXPECT_EQ(ScenarioFromJson(j).reader.deepIdleAfterUs, 0.0);
}

TEST(ScenarioErrors, DeepWakeupQuantilesReplaceTheFixedSlowWakeup)
{
    EXPECT_TRUE(ScenarioFromJson(Minimal()).reader.deepWakeupQuantilesUs.empty()); // default: fixed

    json j = Minimal();
    j["reader"] = {{"deep_idle_after_us", 250}, {"deep_wakeup_quantiles_us", {60, 80.5, 0, 1e6}}};
    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.reader.deepWakeupQuantilesUs, (std::vector<double>{60, 80.5, 0, 1e6}));
    json back = ScenarioToJson(s);
    EXPECT_EQ(back["reader"]["deep_wakeup_quantiles_us"], json({60.0, 80.5, 0.0, 1e6}));
    EXPECT_EQ(ScenarioFromJson(back).reader.deepWakeupQuantilesUs, s.reader.deepWakeupQuantilesUs);

    // An element out of range or not a number: the error names the element.
    j["reader"]["deep_wakeup_quantiles_us"] = {60, -1};
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.deep_wakeup_quantiles_us[1]");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 1e6], got -1");
    j["reader"]["deep_wakeup_quantiles_us"] = {"slow"};
    EXPECT_EQ(ErrorOf(j).Field(), "reader.deep_wakeup_quantiles_us[0]");
    j["reader"]["deep_wakeup_quantiles_us"] = 80;
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.deep_wakeup_quantiles_us");
    EXPECT_CONTAINS(std::string(e.what()), "an array of at most 1000 numbers");
    j["reader"]["deep_wakeup_quantiles_us"] = std::vector<double>(1001, 50.0);
    EXPECT_EQ(ErrorOf(j).Field(), "reader.deep_wakeup_quantiles_us");

    // Only with the two-level wake-up on, and instead of the fixed value.
    j["reader"] = {{"deep_wakeup_quantiles_us", {60, 80}}};
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.deep_wakeup_quantiles_us");
    EXPECT_CONTAINS(std::string(e.what()), "needs reader.deep_idle_after_us > 0");
    j["reader"] = {{"deep_idle_after_us", 250}, {"deep_wakeup_latency_us", 70}, {"deep_wakeup_quantiles_us", {60}}};
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.deep_wakeup_latency_us");
    EXPECT_CONTAINS(std::string(e.what()), "not both");

    // An empty array is the fixed value (both-or-neither applies again).
    j["reader"] = {{"deep_idle_after_us", 250}, {"deep_wakeup_quantiles_us", json::array()}};
    EXPECT_EQ(ErrorOf(j).Field(), "reader.deep_wakeup_latency_us");
}

TEST(ScenarioErrors, WakeupQuantilesReplaceTheFixedWakeup)
{
    json j = Minimal();
    j["reader"] = {{"wakeup_quantiles_us", {0.8, 1.1, 35}}};
    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.reader.wakeupQuantilesUs, (std::vector<double>{0.8, 1.1, 35}));
    EXPECT_EQ(s.reader.wakeupLatencyUs, 0.0); // replaced: the resolved scenario says 0
    json back = ScenarioToJson(s);
    EXPECT_EQ(back["reader"]["wakeup_latency_us"], 0.0);
    EXPECT_EQ(ScenarioFromJson(back).reader.wakeupQuantilesUs, s.reader.wakeupQuantilesUs);

    j["reader"]["wakeup_quantiles_us"] = {1, 2e6};
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.wakeup_quantiles_us[1]");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 1e6], got 2000000");
    j["reader"]["wakeup_quantiles_us"] = "fast";
    EXPECT_EQ(ErrorOf(j).Field(), "reader.wakeup_quantiles_us");

    j["reader"] = {{"wakeup_latency_us", 5}, {"wakeup_quantiles_us", {1}}};
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.wakeup_latency_us");
    EXPECT_CONTAINS(std::string(e.what()), "not both");
    j["reader"]["wakeup_latency_us"] = 0;
    EXPECT_EQ(ScenarioFromJson(j).reader.wakeupQuantilesUs, std::vector<double>{1});
}

TEST(ScenarioErrors, EncapOverheadOnlyForCustom)
{
    ScenarioError e = ErrorWith("reader.encap_overhead_bytes=40");
    EXPECT_EQ(e.Field(), "reader.encap_overhead_bytes");
    EXPECT_CONTAINS(std::string(e.what()), "\"custom\"");

    json j = Minimal();
    j["reader"] = {{"encap", "custom"}, {"encap_overhead_bytes", 40}};
    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(EncapOverhead(s.reader), 40u);

    j["reader"]["encap_overhead_bytes"] = 1001;
    e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "reader.encap_overhead_bytes");
    EXPECT_CONTAINS(std::string(e.what()), "[0, 1000]");
}

// ----------------------------------------------------------------- --set

TEST(ApplySet, NestedKeysAndTypes)
{
    json j = Minimal();
    ApplySet(j, "tun.ring_size=25");
    ApplySet(j, "tun.policy=nodrop-v6");
    ApplySet(j, "tun.softirq_on_reader_cpu=true");
    ApplySet(j, "underlay.delay_ms=60"); // "underlay" did not exist
    ApplySet(j, "name=\"123\"");         // JSON string: stays a string
    ApplySet(j, "description=a b=c");   // not JSON: taken as text; only the first '=' splits
    EXPECT_TRUE(j["tun"]["ring_size"].is_number_integer());
    EXPECT_EQ(j["tun"]["ring_size"], 25);
    EXPECT_EQ(j["tun"]["policy"], "nodrop-v6");
    EXPECT_EQ(j["tun"]["softirq_on_reader_cpu"], true);
    EXPECT_EQ(j["underlay"]["delay_ms"], 60);
    EXPECT_EQ(j["name"], "123");
    EXPECT_EQ(j["description"], "a b=c");

    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.tun.ringSize, 25u);
    EXPECT_EQ(s.tun.policy, "nodrop-v6");
    EXPECT_TRUE(s.tun.softirqOnReaderCpu);
    EXPECT_EQ(s.underlay.delayMs, 60.0);
    EXPECT_EQ(s.name, "123");

    ApplySet(j, "name=123"); // a number: rejected by the parser, not by --set
    EXPECT_TRUE(j["name"].is_number());
    EXPECT_EQ(ErrorOf(j).Field(), "name");

    ApplySet(j, "description="); // empty value: the empty string
    EXPECT_EQ(j["description"], "");
}

TEST(ApplySet, Arrays)
{
    json j = json::parse(R"({"flows": [{"mode": "rate"}, {"kind": "tcp"}]})");
    ApplySet(j, "flows.0.rate_mbps=50");
    ApplySet(j, "flows[1].cc=newreno");
    ApplySet(j, "reader.stalls=[{\"at_s\": 0.5, \"for_s\": 0.1}]");
    ApplySet(j, "reader.stalls[0].for_s=0.2");
    Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.flows[0].rateMbps, 50.0);
    EXPECT_EQ(s.flows[1].cc, CongestionControl::NewReno);
    ASSERT_EQ(s.reader.stalls.size(), 1u);
    EXPECT_EQ(s.reader.stalls[0].forS, 0.2);

    json before = j;
    try
    {
        ApplySet(j, "flows.2.rate_mbps=5");
        FAIL() << "no error";
    }
    catch (const ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), "flows[2]");
        EXPECT_CONTAINS(std::string(e.what()), "beyond the end of the array (2 elements)");
    }
    EXPECT_EQ(j, before); // a failed --set changes nothing

    EXPECT_THROW(ApplySet(j, "flows[5].kind=tcp"), ScenarioError);
    EXPECT_THROW(ApplySet(j, "flows.x=1"), ScenarioError);      // array needs an index
    EXPECT_THROW(ApplySet(j, "tun[0]=1"), ScenarioError);       // tun is not an array
    EXPECT_THROW(ApplySet(j, "flows.0.mode.x=1"), ScenarioError); // a string, not an object
    json k = Minimal();
    EXPECT_THROW(ApplySet(k, "reader.stalls.0.at_s=1"), ScenarioError); // no stalls array yet
}

TEST(ApplySet, UnknownKeysAreCaughtByTheParser)
{
    json j = Minimal();
    ApplySet(j, "tun.ringsize=25");
    ScenarioError e = ErrorOf(j);
    EXPECT_EQ(e.Field(), "tun.ringsize");
    EXPECT_CONTAINS(std::string(e.what()), "ring_size");
}

TEST(ApplySet, SyntaxErrors)
{
    json j = Minimal();
    for (const char* bad : {"tun.ring_size", "=5", "tun..ring_size=5", "tun.=5", ".tun=5",
                            "flows[x].kind=tcp", "flows[0.kind=tcp", "flows]0.kind=tcp"})
    {
        try
        {
            ApplySet(j, bad);
            ADD_FAILURE() << "no error for " << bad;
        }
        catch (const ScenarioError& e)
        {
            EXPECT_EQ(e.Field(), "--set") << bad;
        }
    }
    try
    {
        ApplySet(j, "tun.ring_size");
    }
    catch (const ScenarioError& e)
    {
        EXPECT_CONTAINS(std::string(e.what()), "no '='");
    }
    EXPECT_EQ(j, Minimal());
}

// ------------------------------------------------------------- listings

TEST(Scenario, Listings)
{
    EXPECT_EQ(AllNames<QdiscKind>(), (std::vector<std::string>{"fq_codel", "pfifo_fast", "pfifo", "noqueue"}));
    EXPECT_EQ(TrafficKinds(),
              (std::vector<std::string>{"udp/flood", "udp/rate", "udp/bursts", "udp/video", "tcp"}));
    EXPECT_EQ(AllNames<EncapKind>(), (std::vector<std::string>{"none", "openvpn", "wireguard", "custom"}));
    for (const auto& name : AllNames<QdiscKind>())
    {
        EXPECT_EQ(NameOf(*EnumFromName<QdiscKind>(name)), name);
    }
    EXPECT_FALSE(EnumFromName<QdiscKind>("cake"));
}

TEST(Scenario, EncapOverhead)
{
    // The bytes each VPN adds (models/vpn-encap.h): OpenVPN P_DATA_V2 with
    // AES-GCM 4 + 4 + 16, WireGuard's data header 16 + Poly1305 tag 16.
    ReaderConfig r;
    r.encap = EncapKind::None;
    EXPECT_EQ(EncapOverhead(r), 0u);
    r.encap = EncapKind::OpenVpn;
    EXPECT_EQ(EncapOverhead(r), 24u);
    r.encap = EncapKind::WireGuard;
    EXPECT_EQ(EncapOverhead(r), 32u);
    r.encap = EncapKind::Custom;
    r.encapOverheadBytes = 77;
    EXPECT_EQ(EncapOverhead(r), 77u);
}
