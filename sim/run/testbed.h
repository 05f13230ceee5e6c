// The testbed of one simulated run: what the build step made and the
// instrument and report steps read.
#pragma once

#include "result/run-result.h"
#include "scenario/scenario.h"

#include "helper/tun-path-helper.h"
#include "helper/tun-path-monitor.h"
#include "host-cpu.h"
#include "linux-dev-xmit.h"
#include "packet-ledger.h"
#include "traffic-apps.h"

#include "ns3/node-container.h"

#include <memory>
#include <sstream>
#include <vector>

namespace tunsim
{

/// One flow's applications and accounts.
struct FlowApps
{
    ns3::Ptr<UdpSeqSender> udpTx;
    ns3::Ptr<UdpSeqSink> udpRx;
    ns3::Ptr<TcpBulkSender> tcpTx;
    ns3::Ptr<TcpSink> tcpRx;
    ns3::Ptr<SocketAccount> account; ///< the sending socket
    uint16_t port = 0;               ///< the sink's port on the server
    uint32_t reverseFlow = 0;        ///< ledger flow of its ACKs (tcp)
    double activeS = 0;              ///< stop - start
};

struct Testbed
{
    ns3::NodeContainer nodes; ///< client, server
    TunPath path;
    ns3::Ptr<PacketLedger> ledger;
    std::vector<FlowApps> flows; ///< one per scenario flow, same index
    std::vector<ns3::Ptr<HostCpu>> cpus; ///< host.cpus > 0: the client's CPUs
    ns3::Ptr<LinuxDevXmit> devXmit;      ///< host.cpus > 0: tun0's transmit path
};

/// Reset ns-3's global state and set the defaults tunsim runs with.
void ResetSimulator(const Scenario& s);

/// Build the testbed of `s`: nodes, tunnel path, flows and their ledger flows.
Testbed BuildTestbed(const Scenario& s);

class TimeSeries;

/// What the instrument step attached.
struct Instruments
{
    Instruments();
    ~Instruments();
    std::unique_ptr<TunPathMonitor> monitor;
    std::unique_ptr<TimeSeries> sampler;
    std::ostringstream series; ///< time series CSV, if sampled
};

/// Attach the ledger to every drop and delivery point and, when asked, a
/// sampling event every `timeseriesIntervalMs`.
void Instrument(Testbed& tb, double timeseriesIntervalMs, Instruments& out);

/// Fill the result from the testbed's counters at the end of a run.
struct WallClock
{
    double seconds = 0;
    uint64_t events = 0;
};
RunResult Report(const Scenario& s, const Testbed& tb, const Instruments& in, const WallClock& wall);

/// host.cpus > 0: result.json's "host" block (per CPU, per qdisc); null otherwise.
nlohmann::json HostCpusJson(const Testbed& tb);

/// The few lines `tunsim run` prints.
std::string Summary(const Scenario& s, const RunResult& r);

} // namespace tunsim
