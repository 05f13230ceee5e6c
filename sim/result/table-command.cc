#include "table-command.h"

#include "cli/cli.h"
#include "run-result.h"

#include <cstdio>

namespace tunsim
{

int
TableCommand(int argc, char** argv)
{
    boost::program_options::options_description opts("options");
    const auto vm = ParseCommandLine(argc, argv, opts, {{"result", -1}}, "");
    if (!vm.count("result"))
    {
        throw BadInput("usage: tunsim table RESULT.json|DIR... (see tunsim --help)");
    }
    std::vector<RunResult> results;
    for (const auto& f : vm["result"].as<std::vector<std::string>>())
    {
        results.push_back(ReadResultFile(f));
    }
    std::printf("%-18s %6s %-10s %4s %10s %10s %10s %7s %10s %9s %9s %9s %s\n", "policy", "ring", "qdisc", "flow",
                "sent", "delivered", "dropped", "loss%", "goodput", "p50_ms", "p99_ms", "txqstops", "conserved");
    for (const auto& r : results)
    {
        for (const auto& f : r.flows)
        {
            std::printf("%-18s %6llu %-10s %4llu %10llu %10llu %10llu %7.2f %10.2f %9.3f %9.3f %9llu %s\n",
                        r.tun.policy.c_str(), static_cast<unsigned long long>(r.tun.txQueueLen), r.qdisc.kind.c_str(),
                        static_cast<unsigned long long>(f.index), static_cast<unsigned long long>(f.sentPackets),
                        static_cast<unsigned long long>(f.deliveredPackets),
                        static_cast<unsigned long long>(f.droppedPackets), 100.0 * f.lossRatio, f.goodputMbps,
                        f.delay.p50Ms, f.delay.p99Ms, static_cast<unsigned long long>(r.tun.txq.stopCount.value_or(0)),
                        r.conservation.ok ? "yes" : "NO");
        }
    }
    std::printf("(goodput in Mbit/s; delay is one-way, send to tunnel exit)\n");
    return kExitOk;
}

} // namespace tunsim
