// Scenario: strict JSON <-> struct. See sim/scenario.h and docs/scenario.md.
#include "scenario.h"

#include "tun-policy.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

ScenarioError::ScenarioError(const std::string& field, const std::string& message)
    : std::runtime_error(field.empty() ? message : field + ": " + message),
      m_field(field)
{
}

namespace
{

// ---------------------------------------------------------------- helpers

std::string
Join(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
    {
        if (!out.empty())
        {
            out += ", ";
        }
        out += s;
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

std::string
Quote(const std::string& s)
{
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Shortest text that reads back as `v`, exponent without '+' and leading
/// zeros: 1e6, 0.05, 65536, 2.5e-7.
std::string
Num(double v)
{
    char buf[64];
    for (int p = 1; p <= 17; ++p)
    {
        std::snprintf(buf, sizeof buf, "%.*g", p, v);
        if (std::strtod(buf, nullptr) == v)
        {
            break;
        }
    }
    std::string s = buf;
    auto e = s.find('e');
    if (e == std::string::npos)
    {
        return s;
    }
    std::string mant = s.substr(0, e);
    std::string ex = s.substr(e + 1);
    bool neg = !ex.empty() && ex[0] == '-';
    size_t i = (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) ? 1 : 0;
    while (i + 1 < ex.size() && ex[i] == '0')
    {
        ++i;
    }
    return mant + "e" + (neg ? "-" : "") + ex.substr(i);
}

/// A closed/open interval of doubles.
struct Range
{
    double lo;
    bool loOpen;
    double hi;
    bool hiOpen;

    bool Contains(double v) const
    {
        return (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
    }

    std::string Text() const
    {
        return std::string(loOpen ? "(" : "[") + Num(lo) + ", " + Num(hi) + (hiOpen ? ")" : "]");
    }
};

std::string
Child(const std::string& path, const std::string& key)
{
    return path.empty() ? key : path + "." + key;
}

std::string
Index(const std::string& path, size_t i)
{
    return path + "[" + std::to_string(i) + "]";
}

// ------------------------------------------------------ value validators

void
CheckComment(const json& v, const std::string& field)
{
    if (v.is_string())
    {
        return;
    }
    if (v.is_array())
    {
        bool ok = true;
        for (const auto& e : v)
        {
            ok = ok && e.is_string();
        }
        if (ok)
        {
            return;
        }
    }
    throw ScenarioError(field, "must be a string or an array of strings, got " + Got(v));
}

/// An unsigned integer in [lo, hi]. Integral floats (1e6) are accepted.
uint64_t
ToUint(const json& v, const std::string& field, uint64_t lo, uint64_t hi)
{
    auto bad = [&]() {
        return ScenarioError(field,
                             "must be an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "], got " + Got(v));
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
        double d = v.get<double>();
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

/// A finite number (integer or float) in `r`; `rangeText` replaces r.Text()
/// in the message when given.
double
ToDouble(const json& v, const std::string& field, const Range& r, const std::string& rangeText = "")
{
    const std::string text = rangeText.empty() ? r.Text() : rangeText;
    if (!v.is_number() || !std::isfinite(v.get<double>()) || !r.Contains(v.get<double>()))
    {
        throw ScenarioError(field, "must be a number in " + text + ", got " + Got(v));
    }
    return v.get<double>();
}

bool
ToBool(const json& v, const std::string& field)
{
    if (!v.is_boolean())
    {
        throw ScenarioError(field, "must be true or false, got " + Got(v));
    }
    return v.get<bool>();
}

/// A string that dumps as valid UTF-8 (it ends up in the result file).
std::string
ToString(const json& v, const std::string& field, bool nonEmpty)
{
    if (!v.is_string() || (nonEmpty && v.get_ref<const std::string&>().empty()))
    {
        throw ScenarioError(field,
                            std::string("must be a ") + (nonEmpty ? "non-empty " : "") +
                                "string, got " + Got(v));
    }
    try
    {
        (void)v.dump();
    }
    catch (const json::type_error&)
    {
        throw ScenarioError(field, "must be valid UTF-8");
    }
    return v.get<std::string>();
}

std::string
ToEnum(const json& v,
       const std::string& field,
       const std::vector<std::string>& allowed,
       const std::string& noun)
{
    if (!v.is_string())
    {
        throw ScenarioError(field,
                            "must be a string, one of: " + Join(allowed) + "; got " + Got(v));
    }
    const auto& s = v.get_ref<const std::string&>();
    for (const auto& a : allowed)
    {
        if (s == a)
        {
            return s;
        }
    }
    throw ScenarioError(field, "unknown " + noun + " " + Quote(s) + "; allowed: " + Join(allowed));
}

// ------------------------------------------------------------ one object

/// One JSON object of the scenario: checks it is an object, that every key is
/// known (plus "comment", validated and ignored), and reads fields by key.
class Obj
{
  public:
    Obj(const json& j, std::string path, std::vector<std::string> keys)
        : m_j(j),
          m_path(std::move(path))
    {
        if (!j.is_object())
        {
            if (m_path.empty())
            {
                throw ScenarioError("", "a scenario must be a JSON object, got " + Got(j));
            }
            throw ScenarioError(m_path, "must be an object, got " + Got(j));
        }
        for (const auto& [key, value] : j.items())
        {
            if (key == "comment")
            {
                CheckComment(value, Path(key));
                continue;
            }
            bool known = false;
            for (const auto& k : keys)
            {
                known = known || k == key;
            }
            if (!known)
            {
                throw ScenarioError(Path(key), "unknown key; allowed keys: " + Join(keys));
            }
        }
    }

    std::string Path(const std::string& key) const
    {
        return Child(m_path, key);
    }

    const json* Get(const std::string& key) const
    {
        auto it = m_j.find(key);
        return it == m_j.end() ? nullptr : &*it;
    }

    bool Has(const std::string& key) const
    {
        return Get(key) != nullptr;
    }

    template <typename T>
    void Uint(const std::string& key, T& out, uint64_t lo, uint64_t hi) const
    {
        if (const json* v = Get(key))
        {
            out = static_cast<T>(ToUint(*v, Path(key), lo, hi));
        }
    }

    void Double(const std::string& key,
                double& out,
                const Range& r,
                const std::string& rangeText = "") const
    {
        if (const json* v = Get(key))
        {
            out = ToDouble(*v, Path(key), r, rangeText);
        }
    }

    /// -1 (which means `minusOne`, e.g. "run to the end") or a number in r.
    void DoubleOrMinusOne(const std::string& key,
                          double& out,
                          const Range& r,
                          const std::string& minusOne,
                          const std::string& rangeText = "") const
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
            throw ScenarioError(Path(key),
                                "must be -1 (" + minusOne + ") or a number in " +
                                    (rangeText.empty() ? r.Text() : rangeText) + ", got " + Got(*v));
        }
        out = v->get<double>();
    }

    /// Equally likely latencies (us), drawn per use: an array of at most
    /// 1000 numbers in [0, 1e6]; an error names the element.
    void Quantiles(const std::string& key, std::vector<double>& out) const
    {
        const json* q = Get(key);
        if (!q)
        {
            return;
        }
        constexpr size_t kMax = 1000;
        if (!q->is_array() || q->size() > kMax)
        {
            throw ScenarioError(Path(key), "must be an array of at most " + std::to_string(kMax) +
                                               " numbers in [0, 1e6] (us), got " + Got(*q));
        }
        out.clear();
        for (size_t i = 0; i < q->size(); ++i)
        {
            out.push_back(ToDouble((*q)[i], Index(Path(key), i), {0, false, 1e6, false}));
        }
    }

    /// Two settings that switch one feature on together: both > 0 (`on`) or
    /// both 0 (`off`); the error names the one that is 0.
    void BothPositiveOrZero(const std::string& a,
                            double va,
                            const std::string& b,
                            double vb,
                            const std::string& on,
                            const std::string& off) const
    {
        if ((va > 0) != (vb > 0))
        {
            throw ScenarioError(Path(va > 0 ? b : a),
                                a + " and " + b + " must both be > 0 (" + on + ") or both 0 (" + off + ")");
        }
    }

    void Bool(const std::string& key, bool& out) const
    {
        if (const json* v = Get(key))
        {
            out = ToBool(*v, Path(key));
        }
    }

    void String(const std::string& key, std::string& out, bool nonEmpty) const
    {
        if (const json* v = Get(key))
        {
            out = ToString(*v, Path(key), nonEmpty);
        }
    }

    void Enum(const std::string& key,
              std::string& out,
              const std::vector<std::string>& allowed,
              const std::string& noun) const
    {
        if (const json* v = Get(key))
        {
            out = ToEnum(*v, Path(key), allowed, noun);
        }
    }

  private:
    const json& m_j;
    std::string m_path;
};

// ------------------------------------------------------------- constants

constexpr uint64_t kMaxSndbuf = 2147483647ULL; // INT_MAX: sk_sndbuf is an int
constexpr uint64_t kMinSndbuf = 4608;          // SOCK_MIN_SNDBUF on x86-64
constexpr uint64_t kMaxSeed = 9223372036854775807ULL; // 2^63 - 1

const std::vector<std::string> kTopKeys = {"name", "description", "duration_s", "seed", "tun",
                                           "qdisc", "reader", "underlay", "host", "flows"};
const std::vector<std::string> kTunKeys = {"ring_size",
                                           "policy",
                                           "softirq_latency_us",
                                           "softirq_on_reader_cpu",
                                           "xmit_cost_ns",
                                           "softirq_cost_ns"};
const std::vector<std::string> kQdiscKeys = {"kind", "limit", "target_ms", "interval_ms"};
const std::vector<std::string> kReaderKeys = {"per_packet_ns",
                                              "ns_per_byte",
                                              "wakeup_latency_us",
                                              "wakeup_quantiles_us",
                                              "deep_idle_after_us",
                                              "deep_wakeup_latency_us",
                                              "deep_wakeup_quantiles_us",
                                              "batch",
                                              "encap",
                                              "encap_overhead_bytes",
                                              "sndbuf_bytes",
                                              "stalls",
                                              "preempt_interval_ms",
                                              "preempt_ms"};
const std::vector<std::string> kStallKeys = {"at_s", "for_s"};
const std::vector<std::string> kUnderlayKeys = {"rate_mbps", "delay_ms", "queue_packets", "qdisc"};
const std::vector<std::string> kHostKeys = {"udp_sndbuf_bytes",
                                            "sender_wakeup_latency_us",
                                            "tcp_small_queues",
                                            "tcp_limit_output_bytes",
                                            "tcp_pacing_shift"};
const std::vector<std::string> kFlowKeys = {"kind",
                                            "mode",
                                            "payload_bytes",
                                            "rate_mbps",
                                            "burst_packets",
                                            "burst_interval_ms",
                                            "poisson",
                                            "send_cost_ns",
                                            "send_cost_first_ns",
                                            "fps",
                                            "gop",
                                            "i_frame_ratio",
                                            "phase_ms",
                                            "frame_size_cv",
                                            "cc",
                                            "max_bytes",
                                            "start_s",
                                            "stop_s"};
const std::vector<std::string> kUdpOnlyKeys =
    {"mode", "payload_bytes", "rate_mbps", "burst_packets", "burst_interval_ms", "poisson", "send_cost_ns",
     "send_cost_first_ns", "fps", "gop", "i_frame_ratio", "phase_ms", "frame_size_cv"};
const std::vector<std::string> kTcpOnlyKeys = {"cc", "max_bytes"};

const std::vector<std::string> kUnderlayQdiscs = {"pfifo_fast", "fq_codel", "noqueue"};
const std::vector<std::string> kFlowKinds = {"udp", "tcp"};
// tun0 MTU 1500 - IPv4 20 - UDP 8: larger datagrams would be IP fragments,
// which tunsim does not model (one ledger entry per datagram).
constexpr uint32_t kMaxUdpPayload = 1472;
const std::vector<std::string> kUdpModes = {"flood", "rate", "bursts", "video"};
const std::vector<std::string> kCcs = {"cubic", "newreno"};

// -------------------------------------------------------------- sections

TunConfig
ParseTun(const json& j)
{
    Obj o(j, "tun", kTunKeys);
    TunConfig t;
    o.Uint("ring_size", t.ringSize, 1, 65536);
    o.Enum("policy", t.policy, TunPolicyNames(), "policy");
    o.Double("softirq_latency_us", t.softirqLatencyUs, {0, false, 1e6, false});
    o.Bool("softirq_on_reader_cpu", t.softirqOnReaderCpu);
    o.Double("xmit_cost_ns", t.xmitCostNs, {0, false, 1e9, false});
    o.Double("softirq_cost_ns", t.softirqCostNs, {0, false, 1e9, false});
    return t;
}

QdiscConfig
ParseQdisc(const json& j)
{
    Obj o(j, "qdisc", kQdiscKeys);
    QdiscConfig q;
    o.Enum("kind", q.kind, QdiscKinds(), "qdisc kind");
    o.Uint("limit", q.limit, 0, 1000000);
    o.Double("target_ms", q.targetMs, {0, true, 1e4, false});
    o.Double("interval_ms", q.intervalMs, {0, true, 1e5, false});
    return q;
}

ReaderConfig
ParseReader(const json& j, double durationS)
{
    Obj o(j, "reader", kReaderKeys);
    ReaderConfig r;
    o.Double("per_packet_ns", r.perPacketNs, {0, false, 1e10, false});
    o.Double("ns_per_byte", r.nsPerByte, {0, false, 1e6, false});
    o.Double("wakeup_latency_us", r.wakeupLatencyUs, {0, false, 1e6, false});
    o.Double("deep_idle_after_us", r.deepIdleAfterUs, {0, false, 1e6, false});
    o.Double("deep_wakeup_latency_us", r.deepWakeupLatencyUs, {0, false, 1e6, false});
    o.Quantiles("wakeup_quantiles_us", r.wakeupQuantilesUs);
    if (!r.wakeupQuantilesUs.empty())
    {
        if (r.wakeupLatencyUs != 0 && o.Has("wakeup_latency_us"))
        {
            throw ScenarioError(o.Path("wakeup_latency_us"),
                                "give either wakeup_latency_us (one wake-up latency) or wakeup_quantiles_us "
                                "(drawn per wake-up), not both");
        }
        r.wakeupLatencyUs = 0;
    }
    o.Quantiles("deep_wakeup_quantiles_us", r.deepWakeupQuantilesUs);
    if (r.deepWakeupQuantilesUs.empty())
    {
        o.BothPositiveOrZero("deep_idle_after_us", r.deepIdleAfterUs, "deep_wakeup_latency_us",
                             r.deepWakeupLatencyUs, "two-level wake-up on",
                             "off: every wake-up takes wakeup_latency_us");
    }
    else if (r.deepIdleAfterUs <= 0)
    {
        throw ScenarioError(o.Path("deep_wakeup_quantiles_us"),
                            "needs reader.deep_idle_after_us > 0 (the sleep after which the slow "
                            "wake-up applies); deep_idle_after_us is 0");
    }
    else if (r.deepWakeupLatencyUs > 0)
    {
        throw ScenarioError(o.Path("deep_wakeup_latency_us"),
                            "give either deep_wakeup_latency_us (one slow wake-up) or "
                            "deep_wakeup_quantiles_us (drawn per wake-up), not both");
    }
    o.Uint("batch", r.batch, 1, 1024);
    o.Enum("encap", r.encap, EncapKinds(), "encap");
    if (o.Has("encap_overhead_bytes") && r.encap != "custom")
    {
        throw ScenarioError(o.Path("encap_overhead_bytes"),
                            "only allowed when reader.encap is \"custom\"; encap is " +
                                Quote(r.encap) + " (overhead " +
                                std::to_string(EncapOverhead(r)) + " B, fixed)");
    }
    o.Uint("encap_overhead_bytes", r.encapOverheadBytes, 0, 1000);
    o.Uint("sndbuf_bytes", r.sndbufBytes, kMinSndbuf, kMaxSndbuf);
    o.Double("preempt_interval_ms", r.preemptIntervalMs, {0, false, 1e6, false});
    o.Double("preempt_ms", r.preemptMs, {0, false, 1e6, false});
    o.BothPositiveOrZero("preempt_interval_ms", r.preemptIntervalMs, "preempt_ms", r.preemptMs, "preemption on",
                         "off");
    if (const json* stalls = o.Get("stalls"))
    {
        const std::string path = o.Path("stalls");
        if (!stalls->is_array())
        {
            throw ScenarioError(path, "must be an array of {at_s, for_s} objects, got " +
                                          Got(*stalls));
        }
        for (size_t i = 0; i < stalls->size(); ++i)
        {
            const std::string sp = Index(path, i);
            Obj so((*stalls)[i], sp, kStallKeys);
            StallConfig st;
            so.Double("at_s", st.atS, {0, false, 1e6, false});
            if (!so.Has("for_s"))
            {
                throw ScenarioError(so.Path("for_s"), "required: a number in (0, 1e6] (seconds)");
            }
            so.Double("for_s", st.forS, {0, true, 1e6, false});
            if (st.atS >= durationS)
            {
                throw ScenarioError(so.Path("at_s"),
                                    "must be a number in [0, duration_s) = [0, " + Num(durationS) +
                                        "), got " + Num(st.atS));
            }
            if (st.atS + st.forS > durationS)
            {
                throw ScenarioError(so.Path("for_s"),
                                    "the stall must end by duration_s: at_s + for_s = " +
                                        Num(st.atS + st.forS) + " > " + Num(durationS));
            }
            r.stalls.push_back(st);
        }
    }
    return r;
}

UnderlayConfig
ParseUnderlay(const json& j)
{
    Obj o(j, "underlay", kUnderlayKeys);
    UnderlayConfig u;
    o.Double("rate_mbps", u.rateMbps, {0, true, 1e6, false});
    o.Double("delay_ms", u.delayMs, {0, false, 1e4, false});
    o.Uint("queue_packets", u.queuePackets, 1, 1000000);
    o.Enum("qdisc", u.qdisc, kUnderlayQdiscs, "qdisc");
    return u;
}

HostConfig
ParseHost(const json& j)
{
    Obj o(j, "host", kHostKeys);
    HostConfig h;
    o.Uint("udp_sndbuf_bytes", h.udpSndbufBytes, kMinSndbuf, kMaxSndbuf);
    o.Double("sender_wakeup_latency_us", h.senderWakeupLatencyUs, {0, false, 1e6, false});
    o.Bool("tcp_small_queues", h.tcpSmallQueues);
    o.Uint("tcp_limit_output_bytes", h.tcpLimitOutputBytes, 4096, 2147483647);
    o.Uint("tcp_pacing_shift", h.tcpPacingShift, 0, 31);
    return h;
}

FlowConfig
ParseFlow(const json& j, const std::string& path, double durationS)
{
    Obj o(j, path, kFlowKeys);
    FlowConfig f;
    o.Enum("kind", f.kind, kFlowKinds, "flow kind");
    const bool udp = f.kind == "udp";
    for (const auto& k : udp ? kTcpOnlyKeys : kUdpOnlyKeys)
    {
        if (o.Has(k))
        {
            throw ScenarioError(o.Path(k),
                                std::string("only for ") + (udp ? "tcp" : "udp") +
                                    " flows; this flow's kind is " + Quote(f.kind));
        }
    }
    if (udp)
    {
        o.Enum("mode", f.mode, kUdpModes, "mode");
        o.Uint("payload_bytes", f.payloadBytes, 12, kMaxUdpPayload);
        o.Double("rate_mbps", f.rateMbps, {0, true, 1e6, false});
        o.Uint("burst_packets", f.burstPackets, 1, 1000000);
        o.Double("burst_interval_ms", f.burstIntervalMs, {0, true, 1e6, false});
        o.Bool("poisson", f.poisson);
        o.Double("send_cost_ns", f.sendCostNs, {0, false, 1e9, false});
        o.DoubleOrMinusOne("send_cost_first_ns", f.sendCostFirstNs, {0, false, 1e9, false}, "same as send_cost_ns");
        o.Double("fps", f.fps, {0, true, 1000, false});
        o.Uint("gop", f.gop, 1, 100000);
        o.Double("i_frame_ratio", f.iFrameRatio, {1, false, 1000, false});
        o.Double("phase_ms", f.phaseMs, {0, false, 1e6, false});
        o.Double("frame_size_cv", f.frameSizeCv, {0, false, 10, false});
    }
    else
    {
        o.Enum("cc", f.cc, kCcs, "congestion control");
        o.Uint("max_bytes", f.maxBytes, 0, std::numeric_limits<uint64_t>::max());
    }
    o.Double("start_s",
             f.startS,
             {0, false, durationS, true},
             "[0, duration_s) = [0, " + Num(durationS) + ")");
    const Range stopRange{f.startS, true, durationS, false};
    o.DoubleOrMinusOne("stop_s", f.stopS, stopRange, "run to the end", "(start_s, duration_s] = " + stopRange.Text());
    return f;
}

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
ParseErrorDetail(const json::parse_error& e)
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

} // namespace

// ================================================================= public

Scenario
ScenarioFromJson(const json& j)
{
    Obj o(j, "", kTopKeys);
    Scenario s;
    o.String("name", s.name, true);
    o.String("description", s.description, false);
    o.Double("duration_s", s.durationS, {0, true, 1e5, false});
    o.Uint("seed", s.seed, 1, kMaxSeed);
    if (const json* v = o.Get("tun"))
    {
        s.tun = ParseTun(*v);
    }
    if (const json* v = o.Get("qdisc"))
    {
        s.qdisc = ParseQdisc(*v);
    }
    if (const json* v = o.Get("reader"))
    {
        s.reader = ParseReader(*v, s.durationS);
    }
    if (const json* v = o.Get("underlay"))
    {
        s.underlay = ParseUnderlay(*v);
    }
    if (const json* v = o.Get("host"))
    {
        s.host = ParseHost(*v);
    }
    const json* flows = o.Get("flows");
    if (!flows)
    {
        throw ScenarioError("flows", "required: an array of at least one flow, e.g. "
                                     "[{\"kind\": \"udp\", \"mode\": \"flood\"}]");
    }
    if (!flows->is_array() || flows->empty())
    {
        throw ScenarioError("flows", "must be an array of at least one flow object, got " +
                                         Got(*flows));
    }
    for (size_t i = 0; i < flows->size(); ++i)
    {
        s.flows.push_back(ParseFlow((*flows)[i], Index("flows", i), s.durationS));
    }
    return s;
}

json
ScenarioToJson(const Scenario& s)
{
    json j = json::object();
    j["name"] = s.name;
    j["description"] = s.description;
    j["duration_s"] = s.durationS;
    j["seed"] = s.seed;

    j["tun"] = {
        {"ring_size", s.tun.ringSize},
        {"policy", s.tun.policy},
        {"softirq_latency_us", s.tun.softirqLatencyUs},
        {"softirq_on_reader_cpu", s.tun.softirqOnReaderCpu},
        {"xmit_cost_ns", s.tun.xmitCostNs},
        {"softirq_cost_ns", s.tun.softirqCostNs},
    };
    j["qdisc"] = {
        {"kind", s.qdisc.kind},
        {"limit", s.qdisc.limit},
        {"target_ms", s.qdisc.targetMs},
        {"interval_ms", s.qdisc.intervalMs},
    };

    json reader = {
        {"per_packet_ns", s.reader.perPacketNs},
        {"ns_per_byte", s.reader.nsPerByte},
        {"wakeup_latency_us", s.reader.wakeupLatencyUs},
        {"wakeup_quantiles_us", s.reader.wakeupQuantilesUs},
        {"deep_idle_after_us", s.reader.deepIdleAfterUs},
        {"deep_wakeup_latency_us", s.reader.deepWakeupLatencyUs},
        {"deep_wakeup_quantiles_us", s.reader.deepWakeupQuantilesUs},
        {"batch", s.reader.batch},
        {"encap", s.reader.encap},
        {"sndbuf_bytes", s.reader.sndbufBytes},
    };
    if (s.reader.encap == "custom")
    {
        reader["encap_overhead_bytes"] = s.reader.encapOverheadBytes;
    }
    json stalls = json::array();
    for (const auto& st : s.reader.stalls)
    {
        stalls.push_back({{"at_s", st.atS}, {"for_s", st.forS}});
    }
    reader["stalls"] = stalls;
    reader["preempt_interval_ms"] = s.reader.preemptIntervalMs;
    reader["preempt_ms"] = s.reader.preemptMs;
    j["reader"] = reader;

    j["underlay"] = {
        {"rate_mbps", s.underlay.rateMbps},
        {"delay_ms", s.underlay.delayMs},
        {"queue_packets", s.underlay.queuePackets},
        {"qdisc", s.underlay.qdisc},
    };
    j["host"] = {
        {"udp_sndbuf_bytes", s.host.udpSndbufBytes},
        {"sender_wakeup_latency_us", s.host.senderWakeupLatencyUs},
        {"tcp_small_queues", s.host.tcpSmallQueues},
        {"tcp_limit_output_bytes", s.host.tcpLimitOutputBytes},
        {"tcp_pacing_shift", s.host.tcpPacingShift},
    };

    json flows = json::array();
    for (const auto& f : s.flows)
    {
        json fj = {{"kind", f.kind}, {"start_s", f.startS}, {"stop_s", f.stopS}};
        if (f.kind == "tcp")
        {
            fj["cc"] = f.cc;
            fj["max_bytes"] = f.maxBytes;
        }
        else
        {
            fj["mode"] = f.mode;
            fj["payload_bytes"] = f.payloadBytes;
            fj["rate_mbps"] = f.rateMbps;
            fj["burst_packets"] = f.burstPackets;
            fj["burst_interval_ms"] = f.burstIntervalMs;
            fj["poisson"] = f.poisson;
            fj["send_cost_ns"] = f.sendCostNs;
            fj["send_cost_first_ns"] = f.sendCostFirstNs;
            fj["fps"] = f.fps;
            fj["gop"] = f.gop;
            fj["i_frame_ratio"] = f.iFrameRatio;
            fj["phase_ms"] = f.phaseMs;
            fj["frame_size_cv"] = f.frameSizeCv;
        }
        flows.push_back(fj);
    }
    j["flows"] = flows;
    return j;
}

json
LoadScenarioJson(const std::string& path)
{
    std::string text;
    {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
        {
            throw ScenarioError(path, std::string("cannot read: ") + std::strerror(errno));
        }
        char buf[65536];
        for (;;)
        {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0)
            {
                if (errno == EINTR)
                {
                    continue;
                }
                const int err = errno;
                ::close(fd);
                throw ScenarioError(path, std::string("cannot read: ") + std::strerror(err));
            }
            if (n == 0)
            {
                break;
            }
            text.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
    }

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

    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
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

std::vector<std::string>
QdiscKinds()
{
    return {"fq_codel", "pfifo_fast", "pfifo", "noqueue"};
}

std::vector<std::string>
TrafficKinds()
{
    return {"udp/flood", "udp/rate", "udp/bursts", "udp/video", "tcp"};
}

std::vector<std::string>
EncapKinds()
{
    return {"none", "openvpn", "wireguard", "custom"};
}

uint32_t
EncapOverhead(const ReaderConfig& r)
{
    if (r.encap == "none")
    {
        return 0;
    }
    if (r.encap == "openvpn")
    {
        // OpenVPN data channel, P_DATA_V2 with an AEAD cipher (AES-256-GCM):
        // 1 byte opcode/key-id + 3 bytes peer-id = 4, packet-id 4, GCM tag 16.
        // No compression framing (the modern default).
        return 4 + 4 + 16;
    }
    if (r.encap == "wireguard")
    {
        // WireGuard transport data message: type 1 + reserved 3 + receiver
        // index 4 + counter 8 = 16-byte header, plus the 16-byte Poly1305 tag.
        // The padding of the plaintext to a multiple of 16 is not modelled.
        return 16 + 16;
    }
    if (r.encap == "custom")
    {
        return r.encapOverheadBytes;
    }
    throw ScenarioError("reader.encap",
                        "unknown encap " + Quote(r.encap) + "; allowed: " + Join(EncapKinds()));
}

} // namespace tunsim
