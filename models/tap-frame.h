// TAP mode of a tun device (IFF_TAP): the ring holds Ethernet frames.
//
// drivers/net/tun.c serves IFF_TUN and IFF_TAP with the same tun_net_xmit(),
// ptr_ring and tun_do_read(); for IFF_TAP the skb handed to tun_net_xmit()
// already carries the Ethernet header the neighbour layer built
// (neigh_resolve_output() -> dev_hard_header() -> eth_header()), so every
// ring entry, every byte counted by tun_put_user() and every byte a reader
// copies is 14 bytes longer (ETH_HLEN). In the other direction tun_get_user()
// calls eth_type_trans() and pulls the header before netif_rx().
//
// Simplifications: no ARP (the neighbour entry is assumed resolved), no VLAN
// tags, no virtio-net header (IFF_VNET_HDR) and no offloads (TUNSETOFFLOAD):
// every frame is one MTU-sized segment.
#pragma once

#include "enum-names.h"

#include "ns3/header.h"

#include <cstdint>

namespace tunsim
{

/// tun.mode: what the device carries.
enum class TunMode
{
    Tun, ///< IFF_TUN: IP packets
    Tap, ///< IFF_TAP: Ethernet frames
};

template <>
struct EnumNames<TunMode>
{
    static constexpr const char* kNoun = "tun mode";
    static constexpr std::array<const char*, 2> kNames{"tun", "tap"};
};

/// ETH_HLEN: destination MAC, source MAC, EtherType.
constexpr uint32_t kEthHeaderBytes = 14;

/// The Ethernet II header of a frame in a TAP ring (struct ethhdr).
class TapFrameHeader : public ns3::Header
{
  public:
    TapFrameHeader() = default;
    static ns3::TypeId GetTypeId();
    ns3::TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override { return kEthHeaderBytes; }
    void Serialize(ns3::Buffer::Iterator start) const override;
    uint32_t Deserialize(ns3::Buffer::Iterator start) override;
    void Print(std::ostream& os) const override;

    uint16_t EtherType() const { return m_etherType; }

  private:
    uint16_t m_etherType = 0x0800; ///< ETH_P_IP
};

} // namespace tunsim
