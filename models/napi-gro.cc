#include "napi-gro.h"

#include "gso-tag.h"
#include "tap-frame.h"
#include "unaligned-be.h"

#include <cstring>

namespace tunsim
{

namespace
{
constexpr uint16_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kUrg = 0x20, kCwr = 0x80;
} // namespace

// The headers as the stack reads them: ethhdr, iphdr (protocol TCP, not a
// fragment), tcphdr and its options.
bool
NapiGro::Parse(ns3::Ptr<ns3::Packet> frame, Seg& s)
{
    uint8_t b[kEthHeaderBytes + 60 + 60];
    const uint32_t n = frame->CopyData(b, sizeof(b));
    if (n < kEthHeaderBytes + 20 + 20 || GetUnalignedBe16(b + 12) != 0x0800)
    {
        return false;
    }
    const uint8_t* ip = b + kEthHeaderBytes;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    const uint32_t totLen = GetUnalignedBe16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 6 || (GetUnalignedBe16(ip + 6) & 0x3fff) != 0 ||
        kEthHeaderBytes + ihl + 20 > n)
    {
        return false;
    }
    const uint8_t* th = ip + ihl;
    const uint32_t doff = (th[12] >> 4) * 4u;
    if (doff < 20 || kEthHeaderBytes + ihl + doff > n || ihl + doff > totLen)
    {
        return false;
    }
    s.saddr = GetUnalignedBe32(ip + 12);
    s.daddr = GetUnalignedBe32(ip + 16);
    s.sport = GetUnalignedBe16(th);
    s.dport = GetUnalignedBe16(th + 2);
    s.seq = GetUnalignedBe32(th + 4);
    s.ack = GetUnalignedBe32(th + 8);
    s.flags = th[13];
    s.hdrBytes = ihl + doff;
    s.payload = totLen - ihl - doff;
    s.optLen = doff - 20;
    std::memcpy(s.opts.data(), th + 20, s.optLen);
    return true;
}

bool
NapiGro::SameFlow(const Seg& a, const Seg& b)
{
    return a.saddr == b.saddr && a.daddr == b.daddr && a.sport == b.sport && a.dport == b.dport;
}

// tcp_gro_receive(): the checks that set `flush` before skb_gro_receive(),
// and skb_gro_receive()'s size limit.
bool
NapiGro::CanMerge(const Held& h, const Seg& s)
{
    const Seg& f = h.first;
    return s.seq == h.nextSeq && s.ack == f.ack && !(s.flags & kCwr) &&
           ((s.flags ^ f.flags) & ~(kCwr | kFin | kPsh)) == 0 && s.optLen == f.optLen &&
           std::memcmp(s.opts.data(), f.opts.data(), s.optLen) == 0 && s.payload <= f.payload &&
           h.bytes + s.payload < kMaxBytes;
}

void
NapiGro::Receive(ns3::Ptr<ns3::Packet> frame)
{
    Seg s;
    if (!Parse(frame, s) || s.payload == 0)
    {
        // Not merged by GRO: up at once (a pure ACK or SYN of a held flow
        // does not flush it here; the flows tunsim's guest receives carry
        // data one way).
        ++m_stats.passed;
        if (m_deliver)
        {
            m_deliver(frame);
        }
        return;
    }
    for (size_t i = 0; i < m_held.size(); ++i)
    {
        if (!SameFlow(m_held[i].first, s))
        {
            continue;
        }
        if (!CanMerge(m_held[i], s))
        {
            Complete(i); // the held skb goes up; the segment starts its own
            break;
        }
        Held& h = m_held[i];
        h.segs.push_back(frame);
        ++m_heldSegments;
        h.nextSeq = s.seq + s.payload;
        h.bytes += s.payload;
        ++m_stats.merged;
        // out_check_final: a short segment or a flag ends the skb.
        if (s.payload < h.first.payload || (s.flags & (kUrg | kPsh | kRst | kSyn | kFin)))
        {
            Complete(i);
        }
        return;
    }
    Start(frame, s);
}

void
NapiGro::Start(ns3::Ptr<ns3::Packet> frame, const Seg& s)
{
    if (m_held.size() >= kMaxHeld)
    {
        Complete(0); // gro_flush_oldest()
    }
    Held h;
    h.first = s;
    h.nextSeq = s.seq + s.payload;
    h.bytes = s.hdrBytes + s.payload;
    h.segs.push_back(frame);
    ++m_heldSegments;
    m_held.push_back(std::move(h));
    if (s.flags & (kUrg | kPsh | kRst | kSyn | kFin))
    {
        Complete(m_held.size() - 1);
    }
}

void
NapiGro::Complete(size_t i)
{
    Held h = std::move(m_held[i]);
    m_held.erase(m_held.begin() + static_cast<std::ptrdiff_t>(i));
    m_heldSegments -= static_cast<uint32_t>(h.segs.size());
    ++m_stats.skbs;
    if (!m_deliver)
    {
        return;
    }
    if (h.segs.size() == 1)
    {
        m_deliver(h.segs.front());
        return;
    }
    for (size_t k = 0; k < h.segs.size(); ++k)
    {
        h.segs[k]->AddPacketTag(VnetFrameTag(k + 1 == h.segs.size()));
        m_deliver(h.segs[k]);
    }
}

void
NapiGro::FlushFlowOf(ns3::Ptr<ns3::Packet> frame)
{
    Seg s;
    if (!Parse(frame, s))
    {
        return;
    }
    for (size_t i = 0; i < m_held.size(); ++i)
    {
        if (SameFlow(m_held[i].first, s))
        {
            Complete(i); // one held skb per flow
            return;
        }
    }
}

void
NapiGro::Flush()
{
    while (!m_held.empty())
    {
        Complete(0);
    }
}

} // namespace tunsim
