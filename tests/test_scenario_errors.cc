// Scenario JSON: every class of bad input (exit 2 naming the field), and
// --set (ApplySet).
#include "scenario-test-support.h"

#include "tun-policy.h"

#include <gtest/gtest.h>

#include <string>

using nlohmann::json;
using namespace tunsim;
using namespace scenario_test;

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
                 "qdisc.bogus: unknown key; allowed keys: kind, limit, target_ms, interval_ms, shared_root");

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

TEST(ScenarioErrors, IffBackpressureOnlyWithItsPolicy)
{
    ScenarioError e = ErrorWith("tun.iff_backpressure=\"on\"");
    EXPECT_EQ(e.Field(), "tun.iff_backpressure");
    EXPECT_CONTAINS(std::string(e.what()), "must be true or false");

    e = ErrorWith("tun.iff_backpressure=false");
    EXPECT_EQ(e.Field(), "tun.iff_backpressure");
    EXPECT_CONTAINS(std::string(e.what()), "only with tun.policy = \"iff-backpressure\"");

    json j = Minimal();
    j["tun"] = {{"policy", "iff-backpressure"}, {"iff_backpressure", false}};
    EXPECT_FALSE(ScenarioFromJson(j).tun.iffBackpressure);
    j["tun"] = {{"policy", "merged"}, {"iff_backpressure", true}};
    EXPECT_TRUE(ScenarioFromJson(j).tun.iffBackpressure);
}

TEST(ScenarioErrors, OneVmBackendReadsOneQueue)
{
    json j = Minimal();
    j["tun"] = {{"queues", 2}, {"mode", "tap"}};
    j["reader"] = {{"kind", "qemu"}};
    try
    {
        ScenarioFromJson(j);
        FAIL() << "tun.queues 2 with reader.kind qemu was accepted";
    }
    catch (const ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), "tun.queues");
        EXPECT_CONTAINS(std::string(e.what()), "must be 1 with reader.kind \"qemu\"");
    }
}

TEST(ScenarioErrors, QueuesAndSharedRoot)
{
    for (const char* bad : {"tun.queues=0", "tun.queues=257", "tun.queues=1.5", "tun.queues=\"2\""})
    {
        ScenarioError e = ErrorWith(bad);
        EXPECT_EQ(e.Field(), "tun.queues") << bad;
        EXPECT_CONTAINS(std::string(e.what()), "[1, 256]");
    }
    ScenarioError e = ErrorWith("qdisc.shared_root=true");
    EXPECT_EQ(e.Field(), "qdisc.shared_root");
    EXPECT_CONTAINS(std::string(e.what()), "needs tun.queues > 1");
    e = ErrorWith("qdisc.shared_root=1");
    EXPECT_EQ(e.Field(), "qdisc.shared_root");
    json j = Minimal();
    j["tun"] = {{"queues", 4}};
    j["qdisc"] = {{"shared_root", true}};
    const Scenario s = ScenarioFromJson(j);
    EXPECT_EQ(s.tun.queues, 4u);
    EXPECT_TRUE(s.qdisc.sharedRoot);
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

