// Sender styles and send() contexts (models/traffic-apps.h) on whole runs:
// a non-blocking sender's -EAGAIN drops and their booking (conservation),
// drop-frame, IP_RECVERR, and the send() context each send is charged by.
// The runs are hand-worked: one burst at t = 0 into a reader stalled for
// the whole run, so nothing leaves the ring and every count follows from
// the ring, the qdisc and sk_sndbuf.
#include "run/experiment.h"
#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <string>

using json = nlohmann::json;

namespace
{

/// One udp flow, one burst of `burst` 1400-byte datagrams at 0 (interval
/// longer than the run), reader stalled for the whole 0.1 s.
json
Burst(uint32_t burst, const std::string& extra, const std::string& top = "")
{
    return json::parse(R"({"name": "t", "duration_s": 0.1, )" + top + R"(
        "reader": {"per_packet_ns": 1000, "wakeup_latency_us": 5, "stalls": [{"at_s": 0, "for_s": 0.1}]},
        "flows": [{"mode": "bursts", "payload_bytes": 1400, "burst_packets": )" +
                       std::to_string(burst) + R"(, "burst_interval_ms": 1000)" + extra + "}]}");
}

json
RunScenario(const json& sc)
{
    return tunsim::ToJson(tunsim::RunExperiment(tunsim::ScenarioFromJson(sc)).result);
}

void
ExpectConserved(const json& r)
{
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>()) << r["conservation"].dump(2);
}

} // namespace

TEST(SenderStyles, NonblockingDropsWhatABlockingSenderWouldWaitWith)
{
    // nodrop-v8, ring 1, pfifo of 1000, sk_sndbuf 4608 (two 1400-byte skbs of
    // truesize 2304): datagram 1 goes into the ring (orphaned: its memory
    // freed) and the queue stops; 2 and 3 wait in the qdisc holding 4608 B;
    // from 4 on sk_wmem_alloc >= sk_sndbuf. Blocking: 4..10 wait in the
    // application (backlog 7). Non-blocking: 4..10 get -EAGAIN and are
    // dropped at place app/EAGAIN -- sent 10 = dropped 7 + queued 3.
    const std::string top = R"("tun": {"ring_size": 1, "policy": "nodrop-v8"}, "qdisc": {"kind": "pfifo", "limit": 1000},
                                 "host": {"udp_sndbuf_bytes": 4608},)";
    const json blocking = RunScenario(Burst(10, "", top));
    ExpectConserved(blocking);
    EXPECT_EQ(blocking["flows"][0]["app_backlog_datagrams"], 7);
    EXPECT_EQ(blocking["flows"][0]["sent_packets"], 3);
    EXPECT_FALSE(blocking["flows"][0].contains("sender")) << "the blocking default adds nothing to the result";

    const json r = RunScenario(Burst(10, R"(, "sender": "nonblocking")", top));
    ExpectConserved(r);
    const json& f = r["flows"][0];
    EXPECT_EQ(f["sent_packets"], 10);
    EXPECT_EQ(f["dropped_packets"], 7);
    EXPECT_EQ(f["in_flight_packets"], 3);
    EXPECT_EQ(f["app_backlog_datagrams"], 0);
    EXPECT_EQ(f["sender"]["eagain_drops"], 7);
    EXPECT_EQ(r["conservation"]["forward"]["dropped_by_place"]["app/EAGAIN"], 7);
    EXPECT_DOUBLE_EQ(f["loss_ratio"].get<double>(), 0.7);
}

TEST(SenderStyles, DropFrameDropsTheRestOfTheFrameAtOnce)
{
    // The same path; a video flow whose frames are 10 datagrams (a P frame
    // of 14000 B: rate, gop 1, fps 10) and a 0.25 s run: 3 frames at 0,
    // 100 and 200 ms. Frame 1: datagrams 1..3 fit (ring 1 + qdisc 2), the
    // 4th gets -EAGAIN and drop-frame drops 4..10 together; frames 2 and 3
    // meet the full sk_sndbuf at their first datagram and go whole. Every
    // frame is lost; 27 datagrams dropped at app/EAGAIN. With
    // drop-datagram the count is the same here (nothing frees the buffer),
    // so only the frame rule differs: checked by the scenario rule below.
    const json sc = json::parse(R"({"name": "t", "duration_s": 0.25,
        "tun": {"ring_size": 1, "policy": "nodrop-v8"}, "qdisc": {"kind": "pfifo", "limit": 1000},
        "host": {"udp_sndbuf_bytes": 4608}, "reader": {"stalls": [{"at_s": 0, "for_s": 0.25}]},
        "flows": [{"mode": "video", "payload_bytes": 1400, "rate_mbps": 1.12, "fps": 10, "gop": 1,
                   "i_frame_ratio": 1, "sender": "nonblocking", "on_send_error": "drop-frame"}]})");
    const json r = RunScenario(sc);
    ExpectConserved(r);
    const json& f = r["flows"][0];
    EXPECT_EQ(f["sent_packets"], 30);
    EXPECT_EQ(f["sender"]["eagain_drops"], 27);
    EXPECT_EQ(f["in_flight_packets"], 3);
}

TEST(SenderStyles, DropFrameNeedsVideo)
{
    try
    {
        tunsim::ScenarioFromJson(Burst(10, R"(, "sender": "nonblocking", "on_send_error": "drop-frame")"));
        FAIL() << "accepted";
    }
    catch (const tunsim::ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), "flows[0].on_send_error");
    }
}

TEST(SenderStyles, RecverrSeesNoqueueRingDropsOnly)
{
    // noqueue, ring 10, burst 20, mainline drop: datagrams 11..20 find the
    // ring full; tun_net_xmit() returns NET_XMIT_DROP straight to the
    // sender (no qdisc): -ENOBUFS with IP_RECVERR (enobufs_seen 10),
    // SNDBUFERRORS without (sndbuf_errors 10). Behind pfifo_fast the same
    // drops are silent (the qdisc returned NET_XMIT_SUCCESS).
    const std::string noq = R"("tun": {"ring_size": 10}, "qdisc": {"kind": "noqueue"},)";
    const json seen = RunScenario(Burst(20, R"(, "recverr": true)", noq));
    ExpectConserved(seen);
    EXPECT_EQ(seen["flows"][0]["dropped_packets"], 10);
    EXPECT_EQ(seen["flows"][0]["sender"]["enobufs_seen"], 10);
    EXPECT_EQ(seen["flows"][0]["sender"]["sndbuf_errors"], 0);
    const json hidden = RunScenario(Burst(20, R"(, "send_cost_full_ns": 1000)", noq));
    EXPECT_EQ(hidden["flows"][0]["sender"]["enobufs_seen"], 0);
    EXPECT_EQ(hidden["flows"][0]["sender"]["sndbuf_errors"], 10);
    const json silent = RunScenario(Burst(20, R"(, "recverr": true)", R"("tun": {"ring_size": 10},)"));
    EXPECT_EQ(silent["flows"][0]["dropped_packets"], 10);
    EXPECT_EQ(silent["flows"][0]["sender"]["enobufs_seen"], 0);
}

TEST(SenderStyles, EachSendIsChargedByItsContext)
{
    // Ring 10, stalled reader (awake: no wake-up to do), burst 20: send 1
    // is the first after the sender slept, 2..10 go into the ring of a
    // reader that is not asleep, 11..20 find the ring full.
    // (The flow starts at 1 ms: the stall has begun, the reader is not asleep.)
    const json r = RunScenario(Burst(20, R"(, "send_cost_full_ns": 5000, "start_s": 0.001)", R"("tun": {"ring_size": 10},)"));
    const json& c = r["flows"][0]["sender"]["sends_by_context"];
    EXPECT_EQ(c["first"], 1);
    EXPECT_EQ(c["running_reader"], 9);
    EXPECT_EQ(c["full_ring"], 10);
    EXPECT_EQ(c["woke_reader"], 0);
    // A reader asleep on an empty ring: the first send wakes it; while it
    // is waking (5 us) and working (1 ms per packet) the other two find it
    // awake.
    const json w = RunScenario(json::parse(R"({"name": "t", "duration_s": 0.1,
        "reader": {"per_packet_ns": 1000000, "wakeup_latency_us": 5},
        "flows": [{"mode": "bursts", "burst_packets": 3, "burst_interval_ms": 1000, "start_s": 0.01,
                   "send_cost_wake_ns": 30000}]})"));
    const json& cw = w["flows"][0]["sender"]["sends_by_context"];
    EXPECT_EQ(cw["woke_reader"], 1);
    EXPECT_EQ(cw["running_reader"], 2);
}

TEST(SenderStyles, ContextCostsDelayTheRestOfTheBurst)
{
    // The cost of each send is what the next waits for: a burst of 3 into a
    // sleeping reader of 1 ms per packet with the wake-up send at 30 us and
    // the others at 1 us: datagram 2 leaves 30 us after datagram 1, 3 one
    // us later. The reader reads 1 at 10 ms + 5 us (wake-up), 2 at 11.005
    // ms and 3 at 12.005 ms; their delays (send -> delivered, the underlay
    // adding the same to each) differ by those send instants.
    auto delays = [](const std::string& wake) {
        const json r = RunScenario(json::parse(R"({"name": "t", "duration_s": 0.1,
            "reader": {"per_packet_ns": 1000000, "wakeup_latency_us": 5, "encap": "none"},
            "underlay": {"delay_ms": 0},
            "flows": [{"mode": "bursts", "burst_packets": 3, "burst_interval_ms": 1000, "start_s": 0.01,
                       "send_cost_ns": 1000, "send_cost_wake_ns": )" + wake + "}]}"));
        return r["flows"][0]["delay"];
    };
    const json base = delays("-1");
    const json slow = delays("30000");
    // The max delay is datagram 3's: 2.005 ms after its send at 2 us (base)
    // or at 31 us (slow wake-up send): 29 us less.
    EXPECT_NEAR(base["max_ms"].get<double>() - slow["max_ms"].get<double>(), 0.029, 1e-6);
}

TEST(SenderStyles, TheWakingSendCostsWhatItsIdleTimeBeforeItSays)
{
    // Ring 1, bursts of 2 every 10 ms for 0.1 s (10 bursts), a reader asleep
    // on the empty ring that wakes 20 us after a send() puts datagram 1 in
    // the ring and frees the slot then. Datagram 2 is sent when datagram
    // 1's send() is done: after 1 us it finds the ring full (dropped), after
    // 50 us empty (delivered). send_cost_wake_by_idle picks datagram 1's
    // cost by how long the sender was idle before it: ~9.95 ms inside the
    // run, longer than any bin for the flow's first send.
    auto run = [](const std::string& wake) {
        return RunScenario(json::parse(R"({"name": "t", "duration_s": 0.1, "tun": {"ring_size": 1},
            "reader": {"per_packet_ns": 1000, "wakeup_latency_us": 20},
            "flows": [{"mode": "bursts", "burst_packets": 2, "burst_interval_ms": 10, "send_cost_ns": 1000, )" +
                                       wake + "}]}"));
    };
    // idle >= 5 ms costs 50 us: every burst's datagram 2 finds the ring empty.
    const json all = run(R"("send_cost_wake_by_idle": [{"idle_us_from": 0, "send_ns": 1000},
                                                        {"idle_us_from": 5000, "send_ns": 50000}])");
    ExpectConserved(all);
    EXPECT_EQ(all["flows"][0]["sent_packets"], 20);
    EXPECT_EQ(all["flows"][0]["dropped_packets"], 0);
    EXPECT_EQ(all["flows"][0]["sender"]["sends_by_context"]["woke_reader"], 20);
    // idle >= 20 ms costs 50 us: only the flow's first send (idle "forever");
    // bursts 2..10 lose datagram 2 -- 9 of 20.
    const json first = run(R"("send_cost_wake_by_idle": [{"idle_us_from": 0, "send_ns": 1000},
                                                          {"idle_us_from": 20000, "send_ns": 50000}])");
    ExpectConserved(first);
    EXPECT_EQ(first["flows"][0]["dropped_packets"], 9);
    EXPECT_EQ(first["flows"][0]["sender"]["sends_by_context"]["full_ring"], 9);
    // One cost for every waking send (send_cost_wake_ns 1 us): all 10 lost.
    const json flat = run(R"("send_cost_wake_ns": 1000)");
    EXPECT_EQ(flat["flows"][0]["dropped_packets"], 10);
}

TEST(SenderStyles, TheDatagramReachesTheRingSendEnqueueAfterItsSendBegan)
{
    // One burst of 20 into ring 4, a sender faster (4 us per send) than its
    // reader (6 us per packet, woken 5 us after a datagram lands): drops at
    // the ring. With send_enqueue_ns 2500 every datagram lands 2.5 us after
    // its send() began instead of at once, and the sends stay 4 us apart:
    // the ring and the reader see the same run shifted by 2.5 us -- the
    // same drops, wake-ups and sleeps -- and each delivered datagram's
    // one-way delay (from its send()'s start) is 2.5 us longer. A send
    // that costs less than that returns only when its datagram is in.
    const std::string top = R"("tun": {"ring_size": 4},)";
    auto sc = [&](int sendNs, const std::string& extra) {
        json j = Burst(20, R"(, "send_cost_ns": )" + std::to_string(sendNs) + extra, top);
        j["reader"] = json::parse(R"({"per_packet_ns": 6000, "wakeup_latency_us": 5})");
        return j;
    };
    const json at0 = RunScenario(sc(4000, ""));
    const json late = RunScenario(sc(4000, R"(, "send_enqueue_ns": 2500)"));
    ExpectConserved(at0);
    ExpectConserved(late);
    EXPECT_GT(at0["flows"][0]["dropped_packets"].get<int>(), 0);
    EXPECT_EQ(late["flows"][0]["dropped_packets"], at0["flows"][0]["dropped_packets"]);
    EXPECT_EQ(late["flows"][0]["delivered_packets"], at0["flows"][0]["delivered_packets"]);
    EXPECT_EQ(late["reader"]["wakeups"], at0["reader"]["wakeups"]);
    EXPECT_EQ(late["reader"]["sleeps"], at0["reader"]["sleeps"]);
    const json& d0 = at0["flows"][0]["delay"];
    const json& d1 = late["flows"][0]["delay"];
    EXPECT_NEAR(d1["mean_ms"].get<double>() - d0["mean_ms"].get<double>(), 0.0025, 1e-9);
    EXPECT_NEAR(d1["max_ms"].get<double>() - d0["max_ms"].get<double>(), 0.0025, 1e-9);
    // Sends of 1 us that land 2.5 us in: the sender runs at one per 2.5 us,
    // as with sends of 2.5 us landing at once.
    const json slow = RunScenario(sc(1000, R"(, "send_enqueue_ns": 2500)"));
    const json same = RunScenario(sc(2500, ""));
    EXPECT_EQ(slow["flows"][0]["dropped_packets"], same["flows"][0]["dropped_packets"]);
    EXPECT_NEAR(slow["flows"][0]["delay"]["mean_ms"].get<double>() - same["flows"][0]["delay"]["mean_ms"].get<double>(),
                0.0025, 1e-9);
}
