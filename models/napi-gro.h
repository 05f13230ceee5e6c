// NapiGro: generic receive offload in a guest's NAPI poll, for TCP over
// IPv4 in Ethernet frames (net/core/gro.c dev_gro_receive(),
// net/ipv4/tcp_offload.c tcp_gro_receive(), napi_gro_flush()).
//
// A driver's poll hands each received frame to napi_gro_receive(). A TCP
// segment that continues a held skb of its flow is merged into it; the held
// skb goes up the stack (napi_gro_complete -> netif_receive_skb) as ONE skb
// when a segment of the flow cannot be merged, when a segment ends it, or
// when the poll flushes. The guest's TCP then runs __tcp_ack_snd_check()
// once per skb: one ACK per GRO skb, not one per two segments -- which is
// what makes a guest's ACKs (and the host's answering bursts into the tap
// ring) large.
//
// Rules, as tcp_gro_receive() applies them to a segment of a held flow
// (same addresses and ports):
//   * merged only if it starts where the held skb ends (seq), carries the
//     same ACK number, the same TCP option bytes (timestamps: a new TSval
//     starts a new skb), no CWR and the same flags but FIN/PSH, is not
//     longer than the first segment (gso_size), and the skb stays under
//     GRO_LEGACY_MAX_SIZE (65536 bytes from the IP header);
//   * otherwise the held skb is flushed and the segment starts a new one;
//   * a segment shorter than gso_size, or with URG/PSH/RST/SYN/FIN, ends its
//     skb: it is merged (or starts one) and the skb is flushed at once;
//   * at most MAX_GRO_SKBS (8) flows are held; a ninth flushes the oldest;
//   * a GSO skb (FlushFlowOf()) is not merged here: the flow's held skb
//     goes up before it, so the segments stay in order;
//   * Flush() at the end of every poll: napi_complete_done(), and
//     napi_poll() after a poll that used its whole budget, flush all held
//     skbs when HZ < 1000 (Debian's kernels: HZ 250).
// Not TCP over IPv4 (UDP, ARP), and TCP segments without payload, go up at
// once, as packets GRO does not merge.
//
// tunsim carries a GRO skb as its segments: each but the last is tagged
// VnetFrameTag(false), the last VnetFrameTag(true) (as a GSO frame from a
// tap with offloads); an skb of one segment goes up untagged.
//
// Simplifications: a segment that is out of order still makes the guest's
// TCP send its own duplicate ACK (ns-3's receive path), where Linux sends
// one per GRO skb; gro_normal_batch (8 skbs handed up together) is not
// modelled: an skb goes up when it is flushed.
#pragma once

#include "ns3/packet.h"
#include "ns3/ptr.h"

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace tunsim
{

class NapiGro
{
  public:
    /// MAX_GRO_SKBS: flows held at once.
    static constexpr size_t kMaxHeld = 8;
    /// GRO_LEGACY_MAX_SIZE: bytes of a merged skb from its IP header.
    static constexpr uint32_t kMaxBytes = 65536;

    /// netif_receive_skb(): where a frame or a GRO skb's segments go up.
    void SetDeliver(std::function<void(ns3::Ptr<ns3::Packet>)> deliver) { m_deliver = std::move(deliver); }

    /// napi_gro_receive(): `frame` is an Ethernet frame (ethhdr first).
    void Receive(ns3::Ptr<ns3::Packet> frame);
    /// napi_gro_flush(): every held skb goes up, oldest first.
    void Flush();
    /// A GSO skb of `frame`'s flow arrives (a virtio frame from a tap with
    /// offloads): dev_gro_receive() sets its flush, so tcp_gro_receive()
    /// completes the flow's held skb before the GSO skb goes up. The caller
    /// then hands the GSO skb up itself.
    void FlushFlowOf(ns3::Ptr<ns3::Packet> frame);

    struct Stats
    {
        uint64_t skbs = 0;     ///< GRO skbs handed up (one or more segments)
        uint64_t merged = 0;   ///< segments merged into a held skb
        uint64_t passed = 0;   ///< frames handed up without GRO
    };
    const Stats& GetStats() const { return m_stats; }
    size_t HeldSkbs() const { return m_held.size(); }
    /// Segments in held skbs (not yet handed up).
    uint32_t HeldSegments() const { return m_heldSegments; }

  private:
    /// What tcp_gro_receive() compares, read from the frame's bytes.
    struct Seg
    {
        uint32_t saddr = 0, daddr = 0;
        uint16_t sport = 0, dport = 0;
        uint32_t seq = 0, ack = 0;
        uint16_t flags = 0;       ///< TCP flag bits (FIN 0x01 ... CWR 0x80)
        uint32_t hdrBytes = 0;    ///< IP + TCP header bytes
        uint32_t payload = 0;     ///< TCP payload bytes
        uint32_t optLen = 0;
        std::array<uint8_t, 40> opts{};
    };
    struct Held
    {
        Seg first;
        uint32_t nextSeq = 0;
        uint32_t bytes = 0; ///< from the IP header
        std::vector<ns3::Ptr<ns3::Packet>> segs;
    };

    static bool Parse(ns3::Ptr<ns3::Packet> frame, Seg& s);
    static bool SameFlow(const Seg& a, const Seg& b);
    static bool CanMerge(const Held& h, const Seg& s);
    void Start(ns3::Ptr<ns3::Packet> frame, const Seg& s);
    void Complete(size_t i); ///< napi_gro_complete() of held skb i

    std::vector<Held> m_held; ///< oldest first
    uint32_t m_heldSegments = 0;
    std::function<void(ns3::Ptr<ns3::Packet>)> m_deliver;
    Stats m_stats;
};

} // namespace tunsim
