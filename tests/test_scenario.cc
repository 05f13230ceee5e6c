// Scenario JSON: defaults, round trip, every class of bad input, --set.
#include "scenario/scenario.h"

#include "scenario-test-support.h"
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

using namespace scenario_test;

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
    s.tun.policy = "iff-backpressure";
    s.tun.softirqLatencyUs = 0.1;
    s.tun.softirqOnReaderCpu = true;
    s.tun.xmitCostNs = 123.456;
    s.tun.softirqCostNs = 1e-7;
    s.tun.iffBackpressure = false;
    s.tun.queues = 1; // > 1 needs reader.kind vpn: the `queued` variant below
    s.tun.mode = TunMode::Tap;
    s.qdisc.kind = QdiscKind::FqCodel;
    s.qdisc.limit = 1000000;
    s.qdisc.targetMs = 2.5;
    s.qdisc.intervalMs = 1e5;
    s.qdisc.sharedRoot = false; // true needs tun.queues > 1: the `queued` variant
    s.reader.perPacketNs = 1e10;
    s.reader.nsPerByte = 0.3;
    s.reader.wakeupLatencyUs = 7.7;
    s.reader.deepIdleAfterUs = 1.0 / 3.0;
    s.reader.deepWakeupLatencyUs = 1e6;
    s.reader.batch = 64;
    s.reader.loop = ReaderLoop::Batched;
    s.reader.pollNs = 333.5;
    s.reader.pollBlockNs = 1333.5;
    s.reader.readNs = 1e9;
    s.reader.readEmptyNs = 0.25;
    s.reader.writeNs = 7750.5;
    s.reader.writeXmitNs = 1e9;
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
    s.underlay.peerWakeupQuantilesUs = {52.5, 1e6};
    s.underlay.peerWriteNs = 12000;
    s.underlay.peerWriteQuantilesUs = {3.5, 900};
    s.underlay.peerPreemptIntervalMs = 2000;
    s.underlay.peerPreemptMs = 2.5;
    s.underlay.peerAckPerPass = true;
    s.reader.preemptIntervalMs = 12.5;
    s.reader.preemptMs = 0.125;
    s.reader.kind = ConsumerKind::VhostNet;
    s.vm.nic = VmNic::VirtioNet;
    s.vm.frameNs = 250.5;
    s.vm.nsPerByte = 0.25;
    s.vm.txFrameNs = 0;
    s.vm.guestRxSize = 1024;
    s.vm.guestRefill = 32;
    s.vm.guestFrameNs = 1500;
    s.vm.guestIrqUs = 0.5;
    s.vm.gro = false;
    s.vm.offloads = VmOffloads::Off;
    s.vm.hostXmitNs = 3070;
    s.underlay.qdisc = QdiscKind::FqCodel;
    s.host.udpSndbufBytes = 2147483647;
    s.host.senderWakeupLatencyUs = 0.0;
    s.host.tcpSmallQueues = false;
    s.host.tcpLimitOutputBytes = 4096;
    s.host.tcpPacingShift = 31;
    s.host.tcpRmemDefault = 87380;
    s.host.tcpRmemMax = 6291456;
    s.host.tcpCompSackNr = 3;
    s.host.tcpCompSackDelayNs = 500000;
    s.host.tcpCompSackSlackNs = 10000;
    s.host.tcpCompSackRttPercent = 33;

    FlowConfig rate;
    rate.mode = UdpMode::Rate;
    rate.payloadBytes = 12;
    rate.rateMbps = 0.001;
    rate.poisson = true;
    rate.sendCostNs = 0;
    rate.sendCostFirstNs = 1e9;
    rate.sendCostWakeNs = 0;
    rate.sendCostWakeByIdle = {{0, 45000.5}, {30000, 1e9}};
    rate.sendCostRunningNs = 1.5;
    rate.sendCostFullNs = 1e9;
    rate.sendEnqueueNs = 2500.5;
    rate.sender = SenderStyle::Nonblocking;
    rate.recverr = true;
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
    video.onSendError = OnSendError::DropFrame;

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
    // encap_overhead_bytes is there only with encap custom, vm.offloads only
    // with a VM backend.
    json j = ScenarioToJson(ScenarioFromJson(json::parse(R"({"flows": [{}, {"kind": "tcp"}]})")));
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        SCOPED_TRACE(f.path);
        std::vector<json> v = ValuesAt(j, f.path);
        if (f.path.rfind("reader.stalls[].", 0) == 0 || f.path.rfind("reader.wakeup_by_sleep[].", 0) == 0 ||
            f.path.rfind("flows[].send_cost_wake_by_idle[].", 0) == 0)
        {
            EXPECT_TRUE(v.empty()); // no stalls, no wake-up bins, no wake-send bins
            continue;
        }
        size_t expected = f.path.rfind("flows[].", 0) == 0 ? (f.only.empty() ? 2 : 1) : 1;
        if (f.only == "encap custom" || f.only == "reader.kind qemu or vhost-net")
        {
            expected = 0;
        }
        ASSERT_EQ(v.size(), expected);
        if (f.type != "object" && f.type != "array" && expected)
        {
            EXPECT_EQ(v[0], json::parse(f.dflt)) << "default";
        }
    }
    const json vm = ScenarioToJson(
        ScenarioFromJson(json::parse(R"({"tun": {"mode": "tap"}, "reader": {"kind": "qemu"}, "flows": [{}]})")));
    EXPECT_EQ(vm["vm"]["offloads"], "auto");
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
    // ... and the wake-up by sleep length (a host profile's bins) a third.
    Scenario binned = Everything();
    binned.reader.wakeupQuantilesUs.clear();
    binned.reader.deepWakeupQuantilesUs.clear();
    binned.reader.deepIdleAfterUs = 0;
    binned.reader.wakeupBySleep = {{0, {1.25}}, {50, {70, 1e6}}};
    ExpectSame(binned, ScenarioFromJson(ScenarioToJson(binned)));
    // ... and several tun queues, which one VM backend cannot read: a fourth.
    Scenario queued = Everything();
    queued.reader.kind = ConsumerKind::Vpn;
    queued.tun.queues = 3;
    queued.qdisc.sharedRoot = true;
    queued.tun.steerByFlow = true;
    ExpectSame(queued, ScenarioFromJson(ScenarioToJson(queued)));
    // ... and the multi-core host, which runs a VPN reader only: a fifth.
    Scenario cores = queued;
    cores.tun.softirqOnReaderCpu = false;
    cores.host.cpus = 4;
    cores.host.tcpSendmsgNs = 312.5;
    cores.host.tcpOutputNs = 812.5;
    cores.host.qdiscLockContendedNs = 200;
    cores.host.devTxWeight = 16;
    cores.host.ackOnSenderCpu = true;
    cores.reader.cpu = 3;
    cores.flows = Everything().flows; // udp and tcp senders alike
    for (size_t i = 0; i < cores.flows.size(); ++i)
    {
        cores.flows[i].cpu = static_cast<uint32_t>(i % 4);
    }
    ExpectSame(cores, ScenarioFromJson(ScenarioToJson(cores)));
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
        for (const auto& v : ValuesAt(ScenarioToJson(binned), f.path))
        {
            values.push_back(v);
        }
        for (const auto& v : ValuesAt(ScenarioToJson(queued), f.path))
        {
            values.push_back(v);
        }
        for (const auto& v : ValuesAt(ScenarioToJson(cores), f.path))
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
        if (line.rfind("Each `wakeup_by_sleep` element", 0) == 0)
        {
            section = "reader.wakeup_by_sleep[]";
        }
        if (line.rfind("Each `send_cost_wake_by_idle` element", 0) == 0)
        {
            section = "flows[].send_cost_wake_by_idle[]";
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
