// The multi-core host's block of result.json (host.cpus > 0): per CPU, where
// its time went and its NET_TX softirqs; per qdisc, who ran it.
// docs/results.md ("host") documents every field.
#include "testbed.h"

#include "ns3/simulator.h"

namespace tunsim
{

nlohmann::json
HostCpusJson(const Testbed& tb)
{
    if (tb.cpus.empty())
    {
        return nullptr;
    }
    const double endNs = static_cast<double>(ns3::Simulator::Now().GetNanoSeconds());
    nlohmann::json cpus = nlohmann::json::array();
    for (const auto& cpu : tb.cpus)
    {
        const HostCpu::Stats& st = cpu->GetStats();
        nlohmann::json busy = nlohmann::json::object();
        for (size_t k = 0; k < st.busy.size(); ++k)
        {
            busy[CpuWorkName(static_cast<CpuWork>(k))] = st.busy[k].GetSeconds();
        }
        cpus.push_back({{"cpu", cpu->Index()},
                        {"busy_fraction", endNs > 0 ? cpu->Busy().GetNanoSeconds() / endNs : 0.0},
                        {"busy_s", busy},
                        {"jobs", st.jobs},
                        {"max_queue_wait_us", st.maxQueueWait.GetNanoSeconds() / 1e3},
                        {"net_tx_softirq",
                         {{"raised", st.softirqRaised},
                          {"run_on_return", st.softirqOnReturn},
                          {"run_in_ksoftirqd", st.softirqKsoftirqd}}}});
    }
    nlohmann::json runs = nlohmann::json::array();
    for (size_t i = 0; tb.devXmit && i < tb.devXmit->NQdiscs(); ++i)
    {
        const LinuxDevXmit::RunStats& r = tb.devXmit->GetRunStats(i);
        runs.push_back({{"qdisc", i},
                        {"direct_runs", r.directRuns},
                        {"softirq_runs", r.softirqRuns},
                        {"packets", r.packets},
                        {"softirq_packets", r.softirqPackets},
                        {"quota_hits", r.quotaHits},
                        {"contended_enqueues", r.contended},
                        {"netif_schedules", r.scheduled},
                        {"wake_schedules", r.wakeSchedules},
                        {"max_run_packets", r.maxRunPackets}});
    }
    return {{"cpus", cpus}, {"qdisc_runs", runs}};
}

} // namespace tunsim
