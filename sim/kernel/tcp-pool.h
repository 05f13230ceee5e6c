// The TCP twin's repeats summed, and each one's books and counters checked
// against each other (docs/kernel.md, "The TCP twin: what is measured").
#pragma once

#include "tcp-twin.h"

#include "result/run-result.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// The repeats summed: counters added, samples concatenated; end-of-window
/// state (TCP_INFO, SO_SNDBUF) of the last repeat; `dataSegsOut` and
/// `totalRetrans` summed over the repeats' TCP_INFO at the end.
struct TcpPooled
{
    TcpRepeat tot;
    std::vector<uint64_t> dataSegsOut;  ///< per flow
    std::vector<uint64_t> totalRetrans; ///< per flow
};

TcpPooled PoolTcp(const std::vector<TcpRepeat>& reps, size_t nflows);

/// Data segments of flow i that TCP sent (tcpi_data_segs_out at the end of
/// the window, retransmissions included) and that never reached tun1.
uint64_t DataDropped(uint64_t dataSegsOut, const FlowPath& p);

/// One direction's books (RunResult conservation): `from` is the device the
/// packets entered (tun0 forward, tun1 reverse) and `fromName` its name;
/// sent = what its qdisc took (tc sent + dropped + backlog; without a qdisc
/// what reached the device: tx_packets + tx_dropped); delivered = what the
/// other endpoint wrote into its device; dropped by place (the ring, the
/// qdisc, the delay line "forwarder", a failed write "<to>_write"); still
/// queued in the qdisc, the ring and the delay line.
DirectionBooks BooksOf(const DeviceCounters& from, const std::string& fromName, uint64_t lineLeft,
                       uint64_t lineDrops, const EndStats& writer, const std::string& toName);

/// The counters of one repeat (or the pooled ones) against each other.
struct TcpCheck
{
    DirectionBooks forward, reverse;
    bool tun0ReadsOk = false;   ///< tun0 tx_packets (sysfs) = packets the reader read
    bool tun1ReadsOk = false;   ///< tun1 tx_packets = packets the far end read
    bool tun0WritesOk = false;  ///< tun0 rx_packets + rx_dropped = packets the reader wrote
    bool tun1WritesOk = false;  ///< tun1 rx_packets + rx_dropped = packets the far end wrote
    bool ringsOk = false;       ///< no ring has fewer than 0 entries left
    bool drained = false;       ///< the path went quiet before the drain's cap
    bool ok = false;            ///< all of the above but `drained`

    nlohmann::json ToJson(const TcpRepeat& r) const;
};

TcpCheck CheckTcp(const TcpRepeat& r);

} // namespace kernel
} // namespace tunsim
