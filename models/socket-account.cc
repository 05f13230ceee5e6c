#include "socket-account.h"

#include "tunsim-tag.h"

#include "ns3/packet.h"
#include "ns3/simulator.h"

namespace tunsim
{

namespace
{
constexpr uint32_t kSkBuffAligned = 256;     // SKB_DATA_ALIGN(sizeof(struct sk_buff))
constexpr uint32_t kSharedInfoAligned = 320; // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
constexpr uint32_t kHeadroom = 80;           // NET_SKB_PAD (64) + LL_RESERVED_SPACE (16)

uint32_t
DataAlign(uint32_t n)
{
    return (n + 63u) & ~63u; // SKB_DATA_ALIGN: SMP_CACHE_BYTES
}

uint32_t
KmallocSize(uint32_t n)
{
    // kmalloc() rounds up to its slab sizes: 32, 64, 96, 128, 192, then powers
    // of two. Packets are always above 192 here.
    if (n <= 192)
    {
        return n <= 96 ? (n <= 64 ? 64 : 96) : (n <= 128 ? 128 : 192);
    }
    uint32_t s = 256;
    while (s < n)
    {
        s <<= 1;
    }
    return s;
}
} // namespace

uint32_t
SkbTruesize(uint32_t l3Bytes)
{
    // __alloc_skb(): data = kmalloc_reserve(SKB_DATA_ALIGN(size) + shinfo),
    // truesize = SKB_TRUESIZE(ksize(data) - shinfo)
    //          = ksize(data) - shinfo + sk_buff + shinfo.
    uint32_t data = KmallocSize(DataAlign(l3Bytes + kHeadroom) + kSharedInfoAligned);
    return data + kSkBuffAligned;
}

SocketAccount::SocketAccount(uint32_t id, std::string name, uint32_t sndbuf)
    : m_id(id),
      m_name(std::move(name)),
      m_sndbuf(sndbuf)
{
}

bool
SocketAccount::MaySend() const
{
    if (m_wmemAlloc >= m_sndbuf)
    {
        return false;
    }
    return !m_limit || m_limit(*this);
}

bool
SocketAccount::Writeable() const
{
    // sock_writeable(): sk_wmem_alloc < (sk_sndbuf >> 1)
    if (m_wmemAlloc >= (m_sndbuf >> 1))
    {
        return false;
    }
    return !m_limit || m_limit(*this);
}

void
SocketAccount::Charge(uint32_t truesize)
{
    m_wmemAlloc += truesize;
    if (m_wmemAlloc > m_maxWmemAlloc)
    {
        m_maxWmemAlloc = m_wmemAlloc;
    }
}

void
SocketAccount::Release(uint32_t truesize)
{
    m_wmemAlloc = truesize > m_wmemAlloc ? 0 : m_wmemAlloc - truesize;
    if (m_wake && Writeable())
    {
        m_blockedTotal += ns3::Simulator::Now() - m_blockedSince;
        auto wake = std::move(m_wake);
        m_wake = nullptr;
        wake();
    }
    if (m_onRelease)
    {
        m_onRelease();
    }
}

void
SocketAccount::Block(std::function<void()> wake)
{
    ++m_blockCount;
    m_blockedSince = ns3::Simulator::Now();
    m_wake = std::move(wake);
}

ns3::Time
SocketAccount::BlockedTime() const
{
    if (m_wake)
    {
        return m_blockedTotal + (ns3::Simulator::Now() - m_blockedSince);
    }
    return m_blockedTotal;
}

void
SocketAccount::SetLimitFunction(std::function<bool(const SocketAccount&)> mayQueueMore)
{
    m_limit = std::move(mayQueueMore);
}

std::vector<ns3::Ptr<SocketAccount>>&
SocketAccountTable::Table()
{
    static std::vector<ns3::Ptr<SocketAccount>> table;
    return table;
}

void
SocketAccountTable::Reset()
{
    Table().clear();
}

ns3::Ptr<SocketAccount>
SocketAccountTable::Create(const std::string& name, uint32_t sndbuf)
{
    auto& t = Table();
    auto a = ns3::Create<SocketAccount>(static_cast<uint32_t>(t.size() + 1), name, sndbuf);
    t.push_back(a);
    return a;
}

ns3::Ptr<SocketAccount>
SocketAccountTable::Get(uint32_t id)
{
    auto& t = Table();
    return id == 0 || id > t.size() ? nullptr : t[id - 1];
}

const std::vector<ns3::Ptr<SocketAccount>>&
SocketAccountTable::All()
{
    return Table();
}

void
SocketAccountTable::SetOwner(ns3::Ptr<const ns3::Packet> p,
                             SocketAccount& account,
                             uint32_t flowId,
                             uint32_t l3Bytes)
{
    TunsimTag tag(flowId,
                  ns3::Simulator::Now().GetNanoSeconds(),
                  account.Id(),
                  SkbTruesize(l3Bytes));
    p->AddPacketTag(tag);
    account.Charge(tag.truesize);
}

void
SocketAccountTable::Reown(ns3::Ptr<ns3::Packet> p, SocketAccount& account, uint32_t l3Bytes)
{
    TunsimTag tag;
    p->PeekPacketTag(tag);
    tag.ownerId = account.Id();
    tag.truesize = SkbTruesize(l3Bytes);
    p->ReplacePacketTag(tag);
    account.Charge(tag.truesize);
}

bool
SocketAccountTable::Orphan(ns3::Ptr<const ns3::Packet> p)
{
    // The tag keeps naming the owner: each skb reaches exactly one place that
    // frees or orphans it for its current owner (the callers guarantee it),
    // and leaving the tag alone saves a copy-on-write of the tag list.
    TunsimTag tag;
    if (!p->PeekPacketTag(tag) || tag.ownerId == 0)
    {
        return false;
    }
    if (auto account = Get(tag.ownerId))
    {
        account->Release(tag.truesize);
    }
    return true;
}

void
SocketAccount::LocalDrop(ns3::Ptr<const ns3::Packet> p)
{
    ++m_localDrops;
    if (m_onLocalDrop)
    {
        m_onLocalDrop(p);
    }
}

void
SocketAccountTable::NotifyLocalDrop(ns3::Ptr<const ns3::Packet> p)
{
    TunsimTag tag;
    if (!p->PeekPacketTag(tag) || tag.ownerId == 0)
    {
        return;
    }
    if (auto account = Get(tag.ownerId))
    {
        account->LocalDrop(p);
    }
}

} // namespace tunsim
