// tunsim kernel: run a scenario's UDP flows on the running Linux kernel, on a
// real tun device inside a private network namespace, and write result.json
// in the same schema as `tunsim run` (docs/kernel.md lists what the kernel
// measures, what is derived, and what is null).
//
//   tunsim kernel SCENARIO.json [--set key=value]... [--out DIR] [--repeat N] [--quiet]
//
// Everything happens in a namespace of our own (tunsim-<pid>): a tun device
// with txqueuelen = tun.ring_size, the scenario's root qdisc (tc), IPv6 off,
// 10.8.0.1/24 on the device; sender threads send sequence-numbered UDP
// datagrams to 10.8.0.2 and a reader thread reads the device and busy-waits
// the scenario's per-packet cost. The namespace and the device are removed on
// success, on error and on SIGINT/SIGTERM.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tunsim
{

/// `tunsim kernel ...` (argv[0] is "kernel"). Exit codes: 0 ok; 2 bad input
/// (usage, scenario, a qdisc or flow kind the kernel run cannot do, missing
/// CAP_NET_ADMIN; nothing written); 3 the kernel's counters do not add up
/// (result written, cross_check.ok false); 130 interrupted (nothing written,
/// namespace removed); 1 any other failure.
int KernelCommand(int argc, char** argv);

namespace kernel
{

/// Does this process have CAP_NET_ADMIN and CAP_SYS_ADMIN (both needed: a tun
/// device and a network namespace)? If not, `why` says what is missing.
bool HavePrivileges(std::string* why);

/// Counters of `tc -s -j qdisc show dev DEV` for the root qdisc.
struct TcStats
{
    std::string kind;
    uint64_t sentPackets = 0;
    uint64_t sentBytes = 0;
    uint64_t dropped = 0;
    uint64_t overlimits = 0;
    uint64_t requeues = 0;
    uint64_t backlogPackets = 0;
    uint64_t backlogBytes = 0;
};

/// Parse the JSON `tc -s -j qdisc show dev DEV` prints (the root qdisc entry).
/// Throws std::runtime_error if there is none.
TcStats ParseTcJson(const std::string& text);

/// Names of network namespaces under /run/netns that tunsim kernel creates
/// ("tunsim-<pid>").
std::vector<std::string> TunsimNamespaces();

/// The ptr_ring consumer batch of a ring of `size` entries on x86-64
/// (include/linux/ptr_ring.h, __ptr_ring_set_size()).
uint32_t RingBatch(uint32_t size);

} // namespace kernel
} // namespace tunsim
