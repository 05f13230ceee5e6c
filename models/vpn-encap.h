// What a VPN puts in front of each inner packet it tunnels, beyond the outer
// IPv4 + UDP headers its underlay socket adds: the encapsulation kinds, their
// sizes, and the header that carries them in a simulated packet.
#pragma once

#include "enum-names.h"

#include "ns3/header.h"

#include <cstdint>

namespace tunsim
{

enum class EncapKind
{
    None,
    OpenVpn,
    WireGuard,
    Custom,
};

template <>
struct EnumNames<EncapKind>
{
    static constexpr const char* kNoun = "encap";
    static constexpr std::array<const char*, 4> kNames{"none", "openvpn", "wireguard", "custom"};
};

/// Bytes the VPN adds per packet; `customBytes` is the size of kind Custom.
///   openvpn    OpenVPN data channel, P_DATA_V2 with an AEAD cipher
///              (AES-256-GCM): 1 byte opcode/key-id + 3 bytes peer-id = 4,
///              packet-id 4, GCM tag 16 = 24 (no compression framing, the
///              modern default).
///   wireguard  transport data message: type 1 + reserved 3 + receiver index
///              4 + counter 8 = 16-byte header, plus the 16-byte Poly1305 tag
///              = 32. The padding of the plaintext to a multiple of 16 is not
///              modelled.
constexpr uint32_t
EncapOverheadBytes(EncapKind kind, uint32_t customBytes)
{
    switch (kind)
    {
    case EncapKind::None:
        return 0;
    case EncapKind::OpenVpn:
        return 4 + 4 + 16;
    case EncapKind::WireGuard:
        return 16 + 16;
    case EncapKind::Custom:
        return customBytes;
    }
    return 0;
}

/// The header the VPN puts in front of the inner packet (opcode, peer id,
/// packet id, AEAD tag...): opaque bytes of a configurable length.
class VpnEncapHeader : public ns3::Header
{
  public:
    explicit VpnEncapHeader(uint32_t bytes = 0);
    static ns3::TypeId GetTypeId();
    ns3::TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(ns3::Buffer::Iterator start) const override;
    uint32_t Deserialize(ns3::Buffer::Iterator start) override;
    void Print(std::ostream& os) const override;

  private:
    uint32_t m_bytes;
};

} // namespace tunsim
