// get_unaligned_be16() / get_unaligned_be32() (include/linux/unaligned.h): a
// big-endian (network order) field read from a byte buffer at any
// alignment. For the places that read a header's bytes without
// deserializing it: GRO (napi-gro.cc), the TCP demux and ACK fast paths,
// the path monitor, the kernel twin's forwarder.
#pragma once

#include <cstdint>

namespace tunsim
{

/// The 16-bit big-endian value at `p`.
inline uint16_t
GetUnalignedBe16(const uint8_t* p)
{
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

/// The 32-bit big-endian value at `p`.
inline uint32_t
GetUnalignedBe32(const uint8_t* p)
{
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

} // namespace tunsim
