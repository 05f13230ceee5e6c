// Host profiles (see host-profile.h).
#include "host-profile.h"

#include "scenario.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include <sys/utsname.h>

namespace tunsim
{

using nlohmann::json;

namespace
{

constexpr size_t kMaxProfileBytes = 4u << 20;

/// A gap of send_wake_by_gap needs this many waking send()s for its mean.
constexpr int kMinGapSamples = 10;

/// profile key under "costs" -> the scenario field it fills (per udp flow
/// when `perFlow`, else under "reader").
struct CostField
{
    const char* key;
    const char* field;
    bool perFlow;
};

constexpr CostField kCosts[] = {
    {"send_ns", "send_cost_ns", true},
    {"send_first_ns", "send_cost_first_ns", true},
    {"send_wake_ns", "send_cost_wake_ns", true},
    {"send_running_ns", "send_cost_running_ns", true},
    {"send_full_ns", "send_cost_full_ns", true},
    {"read_ns", "read_ns", false},
    {"poll_ns", "poll_ns", false},
};

/// Reader costs a profile has only when their measurement had samples
/// (read_empty_ns: version 3; poll_block_ns: since 2026-12-01): checked when
/// there, each filling the reader field of its name.
constexpr const char* kOptionalReaderCosts[] = {"read_empty_ns", "poll_block_ns"};

/// The reader fields that give the wake-up after a sleep on the ring: one
/// of them in the scenario keeps the profile's bins out.
constexpr const char* kWakeFields[] = {"wakeup_latency_us",      "wakeup_quantiles_us",      "deep_idle_after_us",
                                       "deep_wakeup_latency_us", "deep_wakeup_quantiles_us", "wakeup_by_sleep"};

[[noreturn]] void
Bad(const std::string& field, const std::string& path, const std::string& what)
{
    throw ScenarioError("host_profile" + (field.empty() ? "" : "." + field), path + ": " + what);
}

double
NumberAt(const json& obj, const std::string& key, const std::string& field, const std::string& path, double hi)
{
    const auto it = obj.find(key);
    if (it == obj.end())
    {
        Bad(field, path, "missing (a profile written by tunsim calibrate has it)");
    }
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0 || it->get<double>() > hi)
    {
        std::ostringstream o;
        o << "must be a number in [0, " << hi << "], got " << it->dump();
        Bad(field, path, o.str());
    }
    return it->get<double>();
}

void
CheckBins(const json& p, const std::string& path)
{
    const auto it = p.find("wakeup_by_sleep");
    if (it == p.end())
    {
        Bad("wakeup_by_sleep", path, "missing (a profile written by tunsim calibrate has it)");
    }
    if (!it->is_array() || it->empty() || it->size() > 32)
    {
        Bad("wakeup_by_sleep", path, "must be an array of 1 to 32 {sleep_us_from, wake_quantiles_us} bins");
    }
    double last = -1;
    for (size_t k = 0; k < it->size(); ++k)
    {
        const json& b = (*it)[k];
        const std::string at = "wakeup_by_sleep[" + std::to_string(k) + "]";
        if (!b.is_object())
        {
            Bad(at, path, "must be an object {sleep_us_from, wake_quantiles_us}");
        }
        const double from = NumberAt(b, "sleep_us_from", at + ".sleep_us_from", path, 1e7);
        if ((k == 0 && from != 0) || (k > 0 && from <= last))
        {
            Bad(at + ".sleep_us_from", path, k == 0 ? "the first bin must start at 0" : "bins must increase");
        }
        last = from;
        const auto q = b.find("wake_quantiles_us");
        if (q == b.end() || !q->is_array() || q->empty() || q->size() > 1000)
        {
            Bad(at + ".wake_quantiles_us", path, "must be an array of 1 to 1000 numbers (us)");
        }
        for (const json& x : *q)
        {
            if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < 0 || x.get<double>() > 1e6)
            {
                Bad(at + ".wake_quantiles_us", path, "each value must be a number in [0, 1e6], got " + x.dump());
            }
        }
    }
}

/// A profile's array of numbers (us) at `key`: 1 to 1000 of them in [0, 1e6].
void
CheckQuantiles(const json& p, const std::string& key, const std::string& path)
{
    const auto it = p.find(key);
    if (it == p.end())
    {
        Bad(key, path, "missing");
    }
    if (!it->is_array() || it->empty() || it->size() > 1000)
    {
        Bad(key, path, "must be an array of 1 to 1000 numbers (us)");
    }
    for (const json& x : *it)
    {
        if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < 0 || x.get<double>() > 1e6)
        {
            Bad(key, path, "each value must be a number in [0, 1e6], got " + x.dump());
        }
    }
}

/// send_wake_by_gap: 1 to 32 {gap_us > 0 increasing, send_ns}.
void
CheckGapCosts(const json& p, const std::string& path)
{
    const auto it = p.find("send_wake_by_gap");
    if (it == p.end())
    {
        Bad("send_wake_by_gap", path, "missing (a version-3 profile written by tunsim calibrate has it)");
    }
    if (!it->is_array() || it->empty() || it->size() > 32)
    {
        Bad("send_wake_by_gap", path, "must be an array of 1 to 32 {gap_us, send_ns} objects");
    }
    double last = 0;
    for (size_t k = 0; k < it->size(); ++k)
    {
        const std::string at = "send_wake_by_gap[" + std::to_string(k) + "]";
        if (!(*it)[k].is_object())
        {
            Bad(at, path, "must be an object {gap_us, send_ns}");
        }
        const double gap = NumberAt((*it)[k], "gap_us", at + ".gap_us", path, 1e7);
        if (gap <= last)
        {
            Bad(at + ".gap_us", path, "gaps must be > 0 and increase");
        }
        last = gap;
        NumberAt((*it)[k], "send_ns", at + ".send_ns", path, 1e9);
    }
}

bool
IsUdpFlow(const json& f)
{
    const auto k = f.find("kind");
    return k == f.end() || (k->is_string() && k->get<std::string>() == "udp");
}

} // namespace

void
CheckHostProfile(const json& p, const std::string& path)
{
    if (!p.is_object())
    {
        Bad("", path, "must be a JSON object (a tunsim calibrate profile)");
    }
    const auto fmt = p.find("format");
    if (fmt == p.end() || !fmt->is_string() || fmt->get<std::string>() != kHostProfileFormat)
    {
        Bad("format", path, std::string("must be \"") + kHostProfileFormat + "\" (not a tunsim host profile?)");
    }
    const auto ver = p.find("version");
    if (ver == p.end() || !ver->is_number_integer() || ver->get<int>() < kHostProfileOldestVersion ||
        ver->get<int>() > kHostProfileVersion)
    {
        Bad("version", path, "must be " + std::to_string(kHostProfileOldestVersion) + ".." +
                                 std::to_string(kHostProfileVersion) + " (this tunsim's profile versions), got " +
                                 (ver == p.end() ? std::string("none") : ver->dump()) +
                                 "; measure again with tunsim calibrate");
    }
    const auto kernel = p.find("kernel");
    if (kernel == p.end() || !kernel->is_string() || kernel->get<std::string>().empty())
    {
        Bad("kernel", path, "missing: the kernel release (uname -r) the profile was measured on");
    }
    const auto costs = p.find("costs");
    if (costs == p.end() || !costs->is_object())
    {
        Bad("costs", path, "missing: an object of the measured costs (ns)");
    }
    for (const CostField& c : kCosts)
    {
        NumberAt(*costs, c.key, std::string("costs.") + c.key, path, 1e9);
    }
    if ((*costs)["send_ns"].get<double>() <= 0)
    {
        Bad("costs.send_ns", path, "must be > 0 (a flood's send cost)");
    }
    CheckBins(p, path);
    if (p["version"].get<int>() >= 3)
    {
        CheckGapCosts(p, path);
    }
    // What the TCP twin's calibration measured (version 3; absent when a
    // measurement gave no samples): checked when present, both write costs
    // or neither.
    if (costs->contains("write_ns") || costs->contains("write_xmit_ns"))
    {
        NumberAt(*costs, "write_ns", "costs.write_ns", path, 1e9);
        NumberAt(*costs, "write_xmit_ns", "costs.write_xmit_ns", path, 1e9);
    }
    if (p.contains("timer_wakeup_quantiles_us"))
    {
        CheckQuantiles(p, "timer_wakeup_quantiles_us", path);
    }
    for (const char* key : kOptionalReaderCosts)
    {
        if (costs->contains(key))
        {
            NumberAt(*costs, key, std::string("costs.") + key, path, 1e9);
        }
    }
    if (p["version"].get<int>() >= 4 || costs->contains("send_enqueue_ns"))
    {
        // version 4: the wake-up bins count from it
        NumberAt(*costs, "send_enqueue_ns", "costs.send_enqueue_ns", path, 1e6);
    }
    const auto sched = p.find("scheduling");
    if (sched != p.end())
    {
        if (!sched->is_object())
        {
            Bad("scheduling", path, "must be an object {preempt_interval_ms, preempt_ms}");
        }
        NumberAt(*sched, "preempt_interval_ms", "scheduling.preempt_interval_ms", path, 1e6);
        NumberAt(*sched, "preempt_ms", "scheduling.preempt_ms", path, 1e6);
        if (((*sched)["preempt_interval_ms"].get<double>() > 0) != ((*sched)["preempt_ms"].get<double>() > 0))
        {
            Bad("scheduling", path, "preempt_interval_ms and preempt_ms are both > 0 or both 0");
        }
    }
}

json
LoadHostProfile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        Bad("", path, "cannot be read (tunsim calibrate --out FILE writes one)");
    }
    std::string text;
    text.resize(kMaxProfileBytes + 1);
    in.read(&text[0], static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxProfileBytes)
    {
        Bad("", path, "larger than 4 MiB: not a host profile");
    }
    json p;
    try
    {
        p = json::parse(text);
    }
    catch (const json::exception& e)
    {
        Bad("", path, std::string("not valid JSON: ") + e.what());
    }
    CheckHostProfile(p, path);
    return p;
}

namespace
{

/// Set reader/underlay `field` of `sec` from `value` unless the scenario has
/// it; its provenance under `name`.
void
FillUnlessSet(json& sec, const char* field, const json& value, const std::string& name, json& prov)
{
    const bool mine = sec.contains(field);
    prov[name] = mine ? "scenario" : "profile";
    if (!mine)
    {
        sec[field] = value;
    }
}

/// The scenario's flows are all tcp (the TCP twin's scenarios).
bool
AllTcpFlows(const json& j)
{
    if (!j.contains("flows") || !j["flows"].is_array() || j["flows"].empty())
    {
        return false;
    }
    for (const json& f : j["flows"])
    {
        if (!f.is_object() || IsUdpFlow(f))
        {
            return false;
        }
    }
    return true;
}

/// The reader's costs, its lost CPU, its wake-up; a tcp scenario's write()
/// and timer wake-ups (ApplyHostProfile()).
void
ApplyReaderCosts(json& j, const json& profile, json& prov)
{
    const json& costs = profile["costs"];
    json& reader = j["reader"];
    if (!reader.is_object())
    {
        reader = json::object();
    }
    for (const CostField& c : kCosts)
    {
        if (!c.perFlow)
        {
            FillUnlessSet(reader, c.field, costs[c.key], std::string("reader.") + c.field, prov);
        }
    }
    bool ownWake = false;
    for (const char* w : kWakeFields)
    {
        ownWake = ownWake || reader.contains(w);
    }
    // A busy reader's lost CPU (tunsim calibrate's flooded reader), when the
    // profile has it and the scenario sets neither field.
    if (profile.contains("scheduling"))
    {
        const bool ownPreempt = reader.contains("preempt_interval_ms") || reader.contains("preempt_ms");
        prov["reader.preempt_interval_ms"] = ownPreempt ? "scenario" : "profile";
        prov["reader.preempt_ms"] = ownPreempt ? "scenario" : "profile";
        if (!ownPreempt)
        {
            reader["preempt_interval_ms"] = profile["scheduling"]["preempt_interval_ms"];
            reader["preempt_ms"] = profile["scheduling"]["preempt_ms"];
        }
    }
    // Version 3: the TCP twin's calibration. The reader's write() of an ACK
    // into tun and the transmits inside it; in a scenario of tcp flows only
    // the timer wake-ups are the reader's wake-up and the far end's (the
    // sim-cal/ scenarios of validate-kernel-tcp.sh), not the bins of
    // 1400-byte datagrams.
    const bool tcp = AllTcpFlows(j);
    if (costs.contains("write_ns") && costs.contains("write_xmit_ns"))
    {
        FillUnlessSet(reader, "write_ns", costs["write_ns"], "reader.write_ns", prov);
        FillUnlessSet(reader, "write_xmit_ns", costs["write_xmit_ns"], "reader.write_xmit_ns", prov);
    }
    for (const char* key : kOptionalReaderCosts)
    {
        if (costs.contains(key))
        {
            FillUnlessSet(reader, key, costs[key], std::string("reader.") + key, prov);
        }
    }
    const bool timer = tcp && profile.contains("timer_wakeup_quantiles_us");
    if (timer)
    {
        json& underlay = j["underlay"];
        if (!underlay.is_object())
        {
            underlay = json::object();
        }
        FillUnlessSet(underlay, "peer_wakeup_quantiles_us", profile["timer_wakeup_quantiles_us"],
                      "underlay.peer_wakeup_quantiles_us", prov);
        if (costs.contains("write_ns"))
        {
            // The far end's write() of a data packet: the same receive path
            // as the reader's write() of an ACK (validate-kernel-tcp.sh's sim-cal/).
            FillUnlessSet(underlay, "peer_write_ns", costs["write_ns"], "underlay.peer_write_ns", prov);
        }
    }
    prov[timer ? "reader.wakeup_quantiles_us" : "reader.wakeup_by_sleep"] = ownWake ? "scenario" : "profile";
    if (ownWake)
    {
        return;
    }
    if (timer)
    {
        reader["wakeup_quantiles_us"] = profile["timer_wakeup_quantiles_us"];
        return;
    }
    json bins = json::array();
    for (const json& b : ProfileWakeBins(profile))
    {
        bins.push_back({{"sleep_us_from", b["sleep_us_from"]}, {"wake_quantiles_us", b["wake_quantiles_us"]}});
    }
    reader["wakeup_by_sleep"] = bins;
}

/// Each udp flow's send costs, when its datagram reaches the ring, and the
/// waking send()'s cost by idle time.
void
ApplyFlowCosts(json& j, const json& profile, json& prov)
{
    if (!j.contains("flows") || !j["flows"].is_array())
    {
        return;
    }
    const json& costs = profile["costs"];
    const json byIdle = ProfileSendWakeByIdle(profile);
    for (size_t i = 0; i < j["flows"].size(); ++i)
    {
        json& f = j["flows"][i];
        if (!f.is_object() || !IsUdpFlow(f))
        {
            continue;
        }
        const std::string at = "flows[" + std::to_string(i) + "].";
        // The scenario's own wake cost (one number) keeps the table out.
        const bool ownWake = f.contains("send_cost_wake_ns") || f.contains("send_cost_wake_by_idle");
        for (const CostField& c : kCosts)
        {
            if (c.perFlow)
            {
                FillUnlessSet(f, c.field, costs[c.key], at + c.field, prov);
            }
        }
        if (costs.contains("send_enqueue_ns"))
        {
            FillUnlessSet(f, "send_enqueue_ns", costs["send_enqueue_ns"], at + "send_enqueue_ns", prov);
        }
        if (!byIdle.empty())
        {
            prov[at + "send_cost_wake_by_idle"] = ownWake ? "scenario" : "profile";
            if (!ownWake)
            {
                f["send_cost_wake_by_idle"] = byIdle;
            }
        }
    }
}

} // namespace

json
ApplyHostProfile(json& j, const json& profile)
{
    json prov = json::object();
    ApplyReaderCosts(j, profile, prov);
    ApplyFlowCosts(j, profile, prov);
    // The other timing fields: where their values come from (not the profile).
    const json& reader = j["reader"];
    for (const char* other : {"per_packet_ns", "ns_per_byte"})
    {
        prov[std::string("reader.") + other] = reader.contains(other) ? "scenario" : "default";
    }
    const bool hostWake = j.contains("host") && j["host"].is_object() && j["host"].contains("sender_wakeup_latency_us");
    prov["host.sender_wakeup_latency_us"] = hostWake ? "scenario" : "default";
    return prov;
}

namespace
{

/// measurements.sleeping_reader.KEY of a profile, or null.
const json*
SleepingReader(const json& profile, const char* key)
{
    if (!profile.contains("measurements") || !profile["measurements"].is_object())
    {
        return nullptr;
    }
    const json& m = profile["measurements"];
    if (!m.contains("sleeping_reader") || !m["sleeping_reader"].is_object() || !m["sleeping_reader"].contains(key))
    {
        return nullptr;
    }
    return &m["sleeping_reader"][key];
}

/// Version 1's bin 0 without the wake-ups its poll() saw (ProfileWakeBins).
void
DropSeenByPoll(const json& profile, json& bins)
{
    // Bin 0 held every sleep below 10 us, the negative ones too (the send()
    // began before the reader entered poll()). The twin's histogram says how
    // many slept under 2 us: on this host the wake-ups of ~1-5 us with no
    // block (do_poll() saw the datagram); the rest of bin 0 took a real
    // wake-up (~40 us). The simulator models the first kind itself
    // (VpnReader's poll cost), so they leave the bin.
    const json* w = SleepingReader(profile, "wake_by_sleep");
    const json* hist = w && w->contains("histogram") && (*w)["histogram"].is_array() ? &(*w)["histogram"] : nullptr;
    json& first = bins[0];
    if (!hist || hist->empty() || !(*hist)[0].contains("sleep_us_to") || !(*hist)[0]["sleep_us_to"].is_number() ||
        (*hist)[0]["sleep_us_to"].get<double>() != 2.0 || !(*hist)[0].contains("samples") ||
        !(*hist)[0]["samples"].is_number() || !first.contains("samples") || !first["samples"].is_number() ||
        first["samples"].get<double>() <= 0)
    {
        return;
    }
    const double samples = first["samples"].get<double>();
    const double seen = std::min(samples, (*hist)[0]["samples"].get<double>());
    std::vector<double> q = first["wake_quantiles_us"].get<std::vector<double>>();
    std::sort(q.begin(), q.end());
    const auto drop = static_cast<size_t>(std::lround(seen / samples * static_cast<double>(q.size())));
    if (samples - seen < 5 || drop >= q.size())
    {
        if (bins.size() > 1)
        {
            bins.erase(bins.begin());
            bins[0]["sleep_us_from"] = 0;
        }
        return; // (a single bin: nothing to fall back to, kept as measured)
    }
    first["wake_quantiles_us"] = std::vector<double>(q.begin() + static_cast<std::ptrdiff_t>(drop), q.end());
    first["samples"] = samples - seen;
}

} // namespace

json
ProfileWakeBins(const json& profile)
{
    json bins = profile["wakeup_by_sleep"];
    if (profile["version"].get<int>() >= 2)
    {
        return bins;
    }
    DropSeenByPoll(profile, bins);
    // Version 1 counted the wake-up from the waking send()'s return; the
    // simulator counts it from the send()'s start. The median waking send
    // (the mean can hold a few sends of milliseconds, the sender's vCPU
    // descheduled, in which the reader had long read the datagram).
    const json* sw = SleepingReader(profile, "send_wake");
    const double sendUs = (sw && sw->contains("p50_ns") && (*sw)["p50_ns"].is_number()
                               ? (*sw)["p50_ns"].get<double>()
                               : profile["costs"]["send_wake_ns"].get<double>()) /
                          1e3;
    for (json& b : bins)
    {
        std::vector<double> q = b["wake_quantiles_us"].get<std::vector<double>>();
        for (double& x : q)
        {
            x = std::round((x + sendUs) * 100.0) / 100.0;
        }
        b["wake_quantiles_us"] = q;
    }
    return bins;
}

json
ProfileSendWakeByGap(const json& byGap)
{
    json out = json::array();
    if (!byGap.is_array())
    {
        return out;
    }
    for (const json& g : byGap)
    {
        if (!g.is_object() || !g.contains("gap_us") || !g["gap_us"].is_number() || !g.contains("send") ||
            !g["send"].is_object() || !g["send"].contains("mean_ns") || !g["send"]["mean_ns"].is_number())
        {
            continue; // a gap without samples (mean null)
        }
        const double gap = g["gap_us"].get<double>();
        if (gap <= 0 || (!out.empty() && gap <= out.back()["gap_us"].get<double>()) ||
            g["send"].value("samples", 0) < kMinGapSamples)
        {
            continue; // (at 10 us the reader is mostly still awake: a handful of waking sends)
        }
        out.push_back({{"gap_us", g["gap_us"]},
                       {"send_ns", g["send"]["mean_ns"]},
                       {"samples", g["send"].value("samples", 0)}});
    }
    return out;
}

json
ProfileSendWakeByIdle(const json& profile)
{
    json gaps = json::array();
    if (profile.contains("send_wake_by_gap"))
    {
        gaps = profile["send_wake_by_gap"];
    }
    else if (const json* by = SleepingReader(profile, "by_gap"))
    {
        gaps = ProfileSendWakeByGap(*by); // versions 1, 2: measured up to 10 ms
    }
    json bins = json::array();
    for (const json& g : gaps)
    {
        bins.push_back({{"idle_us_from", bins.empty() ? json(0) : g["gap_us"]}, {"send_ns", g["send_ns"]}});
    }
    return bins;
}

std::string
StaleProfileWarning(const json& profile, const std::string& path, const std::string& runningKernel)
{
    const std::string k = profile.value("kernel", "");
    if (k == runningKernel)
    {
        return "";
    }
    return "host profile " + path + " was measured on kernel " + k + ", this machine runs " + runningKernel +
           ": its costs may be stale (measure again with tunsim calibrate)";
}

std::string
RunningKernelRelease()
{
    utsname u;
    return uname(&u) == 0 ? std::string(u.release) : std::string("unknown");
}

} // namespace tunsim
