// tunsim: the command-line program. One line per command in kCommands; each
// command lives with the part of sim/ it belongs to.
#include "cli/cli.h"
#include "common/allocator.h"
#include "compare/compare.h"
#include "calibrate/calibrate.h"
#include "kernel/kernel.h"
#include "result/table-command.h"
#include "run/run-command.h"
#include "scenario/list-command.h"
#include "sweep/sweep.h"
#include "tunsim-version.h"

#include <cstring>
#include <iostream>
#include <string>

namespace
{

using tunsim::BadInput;

const char* kUsage = R"(tunsim: a discrete-event simulator of the Linux TUN transmit path (ns-3)

usage:
  tunsim run SCENARIO.json [--set key=value]... [--seed N] [--out DIR] [--quiet]
             [--timeseries MS] [--profile HOST_PROFILE.json]
      Run a scenario; write DIR/result.json (default DIR: results/<name>)
      and print a short summary. --timeseries MS also writes
      DIR/timeseries.csv sampled every MS ms (ring, qdisc, txq, socket
      memory, and cwnd/srtt/bytes in flight of the first TCP flow).
      --profile FILE takes the cost fields the scenario does not set from a
      host profile (tunsim calibrate); the same as --set host_profile=FILE.
  tunsim validate SCENARIO.json [--set key=value]...
      Check a scenario and print it fully resolved (every default filled in).
  tunsim list [fields]
      Policies (with their sources), qdisc kinds, traffic kinds and
      encapsulations; `fields`: every scenario field, its default, unit and range.
  tunsim table RESULT.json|DIR...
      One line per result and flow: policy, ring, qdisc, sent, delivered,
      dropped, loss, goodput, delay p50/p99, txq stops, conservation.
  tunsim sweep SCENARIO.json --vary KEY=V1,V2,... [--vary ...] [--set key=value]...
               [--seeds N] [--jobs N] [--emit parallel|slurm] --out DIR
      Run the cartesian product of the --vary lists (each point and seed in its
      own process, all cores by default; resumable); write DIR/results.csv and
      DIR/summary.csv. Exit 4 if a run failed. See tunsim sweep --help.
  tunsim merge DIR... [--out DIR]
      Build results.csv and summary.csv from result files in DIR... (e.g.
      gathered from several machines).
  tunsim kernel SCENARIO.json [--set key=value]... [--out DIR] [--repeat N]
      Run the scenario's UDP flows on this machine's kernel (a real tun device
      in a private network namespace; needs CAP_NET_ADMIN); write DIR/result.json
      in the same schema (default DIR: results/<name>-kernel). docs/kernel.md.
  tunsim calibrate [--out PROFILE.json] [--scale X] [--payload B]
      Measure this host's costs (send() by context, read(), poll(), the
      reader's wake-up by sleep length; needs CAP_NET_ADMIN) into a host
      profile that scenarios use with "host_profile" or run --profile.
  tunsim compare A.json|DIR B.json|DIR [--only PREFIX]... [--changed] [--csv]
      Metric-by-metric table of two results: A, B, B-A, relative difference.
  tunsim --help | --version

--set takes a dotted key into the scenario, e.g. --set tun.ring_size=25
--set tun.policy=nodrop-v8 --set flows.0.rate_mbps=50. The value is read as
JSON when it parses as JSON, else as a string.

exit codes: 0 ok, 2 bad input (nothing written), 3 packet conservation
violated (result written), 1 other failure.
docs: docs/scenario.md (scenario format), docs/results.md (result format),
docs/sweep.md (sweeps).
)";

/// One tunsim command: argv[0] is its name, the result the exit code.
struct Command
{
    const char* name;
    int (*main)(int argc, char** argv);
    bool ownHelp;      ///< --help is the command's own (else this usage)
    bool ownExitCodes; ///< handles its own errors (kernel: exit 130 on a signal)
};

const Command kCommands[] = {
    {"run", tunsim::RunScenarioCommand, false, false},
    {"validate", tunsim::ValidateCommand, false, false},
    {"list", tunsim::ListCommand, false, false},
    {"table", tunsim::TableCommand, false, false},
    {"sweep", tunsim::SweepCommand, true, false},
    {"merge", tunsim::MergeCommand, true, false},
    {"kernel", tunsim::KernelCommand, true, true},
    {"calibrate", tunsim::CalibrateCommand, true, true},
    {"compare", tunsim::CompareCommand, true, false},
};

bool
Flag(const char* arg, const char* shortName, const char* longName)
{
    return std::strcmp(arg, shortName) == 0 || std::strcmp(arg, longName) == 0;
}

int
Main(int argc, char** argv)
{
    if (argc < 2)
    {
        std::cerr << kUsage;
        return tunsim::kExitBadInput;
    }
    if (Flag(argv[1], "-h", "--help"))
    {
        std::cout << kUsage;
        return tunsim::kExitOk;
    }
    if (std::strcmp(argv[1], "--version") == 0)
    {
        std::cout << "tunsim " << TUNSIM_VERSION << " (" << TUNSIM_GIT_REV << "), ns-3.37, "
                  << tunsim::HeapAllocator() << "\n";
        return tunsim::kExitOk;
    }
    std::string names;
    for (const Command& c : kCommands)
    {
        if (std::strcmp(argv[1], c.name) == 0)
        {
            for (int i = 2; i < argc && !c.ownHelp; ++i)
            {
                if (Flag(argv[i], "-h", "--help"))
                {
                    std::cout << kUsage;
                    return tunsim::kExitOk;
                }
            }
            if (c.ownExitCodes)
            {
                return c.main(argc - 1, argv + 1);
            }
            return tunsim::RunCommand("tunsim", [&] { return c.main(argc - 1, argv + 1); });
        }
        names += (names.empty() ? "" : ", ") + std::string(c.name);
    }
    std::cerr << "tunsim: command: unknown command \"" << argv[1] << "\"; allowed: " << names << "\n";
    return tunsim::kExitBadInput;
}

} // namespace

int
main(int argc, char** argv)
{
    return Main(argc, argv);
}
