// Host socket memory accounting: the part of struct sock that decides whether
// a sender may hand down another packet.
//
// Linux charges every skb a socket sends to that socket (skb_set_owner_w():
// sk_wmem_alloc += skb->truesize) and uncharges it when the skb is freed or
// orphaned (sock_wfree()). A UDP sender blocks in sock_alloc_send_pskb() while
// sk_wmem_alloc >= sk_sndbuf and is woken by sk_write_space() once
// sock_writeable() holds again. tun_net_xmit() orphans the skb before it
// enters the ring, so under the mainline drop policy a sender never feels the
// ring; a packet held in the qdisc by a stopped queue still counts. That is
// why NODROP removes the loss (reference §5).
//
// TCP Small Queues (next issue) plugs in as another limit on the same
// account: SocketAccount::SetLimitFunction.
#pragma once

#include "ns3/callback.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "ns3/simple-ref-count.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ns3
{
class Packet;
}

namespace tunsim
{

/// mirrors SKB_TRUESIZE() of an skb allocated for an L3 packet of `l3Bytes`
/// on x86-64: the sk_buff (256 after SKB_DATA_ALIGN) plus the kmalloc'ed data
/// block, whose size is the power-of-two slab that holds headroom + data +
/// skb_shared_info (320). A 1428-byte UDP/IPv4 datagram gives 2304.
uint32_t SkbTruesize(uint32_t l3Bytes);

/// The memory account of one sending socket (sk_wmem_alloc vs sk_sndbuf).
class SocketAccount : public ns3::SimpleRefCount<SocketAccount>
{
  public:
    SocketAccount(uint32_t id, std::string name, uint32_t sndbuf);

    uint32_t Id() const { return m_id; }
    const std::string& Name() const { return m_name; }
    uint32_t Sndbuf() const { return m_sndbuf; }
    uint64_t WmemAlloc() const { return m_wmemAlloc; }
    uint64_t MaxWmemAlloc() const { return m_maxWmemAlloc; }

    /// The condition sock_alloc_send_pskb() waits for: sk_wmem_alloc < sk_sndbuf
    /// (and whatever extra limit is installed, e.g. TSQ).
    bool MaySend() const;

    /// mirrors skb_set_owner_w(): charge `truesize` bytes.
    void Charge(uint32_t truesize);

    /// mirrors sock_wfree(): uncharge, then sk_write_space(): a blocked sender
    /// is woken once sock_writeable() (2 * sk_wmem_alloc < sk_sndbuf) holds.
    void Release(uint32_t truesize);

    /// The sender calls this when it finds MaySend() false and goes to sleep;
    /// `wake` is invoked (once) from Release() when it may go on.
    void Block(std::function<void()> wake);
    bool Blocked() const { return static_cast<bool>(m_wake); }
    /// Times a sender blocked / total time spent blocked.
    uint64_t BlockCount() const { return m_blockCount; }
    ns3::Time BlockedTime() const;

    /// An extra send limit, evaluated by MaySend() and on every release.
    /// Null = none.
    void SetLimitFunction(std::function<bool(const SocketAccount&)> mayQueueMore);

    /// Called after every Release() (tcp_wfree(): TCP Small Queues resumes a
    /// throttled socket from here). Null = none.
    void SetReleaseCallback(std::function<void()> onRelease) { m_onRelease = std::move(onRelease); }

    /// The stack refused one of this socket's packets on its way down and
    /// said so (NET_XMIT_DROP from a full qdisc's enqueue, or from the
    /// driver under noqueue): counted, and passed to the socket, which is
    /// still inside its send (TCP: tcp_enter_cwr(), the segment stays
    /// unsent; UDP: -ENOBUFS, which udp_send_skb() hides and counts as
    /// SNDBUFERRORS unless IP_RECVERR is set).
    void LocalDrop(ns3::Ptr<const ns3::Packet> p);
    uint64_t LocalDrops() const { return m_localDrops; }
    void SetLocalDropCallback(std::function<void(ns3::Ptr<const ns3::Packet>)> cb) { m_onLocalDrop = std::move(cb); }

  private:
    bool Writeable() const;

    uint32_t m_id;
    std::string m_name;
    uint32_t m_sndbuf;
    uint64_t m_wmemAlloc = 0;
    uint64_t m_maxWmemAlloc = 0;
    std::function<void()> m_wake;
    std::function<bool(const SocketAccount&)> m_limit;
    std::function<void()> m_onRelease;
    std::function<void(ns3::Ptr<const ns3::Packet>)> m_onLocalDrop;
    uint64_t m_localDrops = 0;
    uint64_t m_blockCount = 0;
    ns3::Time m_blockedSince;
    ns3::Time m_blockedTotal;
};

/// Every socket account of one simulation, by id (id 0 means "no owner").
class SocketAccountTable
{
  public:
    /// Forget every account (start of a run).
    static void Reset();
    static ns3::Ptr<SocketAccount> Create(const std::string& name, uint32_t sndbuf);
    static ns3::Ptr<SocketAccount> Get(uint32_t id);
    static const std::vector<ns3::Ptr<SocketAccount>>& All();

    /// mirrors skb_set_owner_w() on a packet a socket is handing down: tag it
    /// with its flow, the time, and `account` charged SkbTruesize(l3Bytes).
    /// The packet must not carry a TunsimTag yet.
    static void SetOwner(ns3::Ptr<const ns3::Packet> p,
                         SocketAccount& account,
                         uint32_t flowId,
                         uint32_t l3Bytes);

    /// mirrors skb_set_owner_w() for a packet that already carries a
    /// TunsimTag (the VPN process re-sending a packet it read): keep the flow
    /// and time, charge `account`.
    static void Reown(ns3::Ptr<ns3::Packet> p, SocketAccount& account, uint32_t l3Bytes);

    /// mirrors skb_orphan() / the sock_wfree() of kfree_skb(): if the packet
    /// is charged to a socket, release the charge. Returns true if it was.
    /// Call it once per owner, at the one place where that owner's charge
    /// ends (tun_net_xmit's orphan, a qdisc drop, the NIC's TX completion...):
    /// the tag is not modified.
    static bool Orphan(ns3::Ptr<const ns3::Packet> p);
    /// The owner of `p` hears that the stack refused it (SocketAccount::LocalDrop()).
    static void NotifyLocalDrop(ns3::Ptr<const ns3::Packet> p);

  private:
    static std::vector<ns3::Ptr<SocketAccount>>& Table();
};

} // namespace tunsim
