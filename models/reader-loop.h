// How the VPN process's main loop reads the tun device (VpnReader and the
// kernel twin's reader, sim/kernel/reader.cc, implement each the same way;
// docs/model.md "Reader loop styles").
#pragma once

#include "enum-names.h"

namespace tunsim
{

enum class ReaderLoop
{
    /// read() until it returns -EAGAIN, then sleep in poll() until the ring
    /// has data (tun_ring_recv() with a non-blocking fd); `batch` packets
    /// per read (the simulator only: a tun read() returns one packet).
    ReadUntilEmpty,
    /// poll()/epoll_wait() before every read() (OpenVPN-style event loop):
    /// each packet costs one poll (tun_chr_poll()) and one read(); a poll
    /// that finds the ring empty sleeps until sk_data_ready().
    PollEach,
    /// One poll() per wake-up, then up to `batch` read()s back to back
    /// (stopping at -EAGAIN), then the packets' work; then poll() again.
    Batched,
};

template <>
struct EnumNames<ReaderLoop>
{
    static constexpr const char* kNoun = "reader loop";
    static constexpr std::array<const char*, 3> kNames{"read-until-empty", "poll-each", "batched"};
};

} // namespace tunsim
