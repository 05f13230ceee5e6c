// What every tunsim command shares about failing: the exit codes and the
// bad-input error.
#pragma once

#include <stdexcept>

namespace tunsim
{

/// Exit codes of every tunsim command (README, docs/sweep.md, docs/kernel.md).
enum ExitCode : int
{
    kExitOk = 0,
    kExitFailure = 1,      ///< anything else went wrong (message on stderr)
    kExitBadInput = 2,     ///< bad usage, scenario, --set, profile...: nothing written
    kExitConservation = 3, ///< the run finished but its packets do not add up (result written);
                           ///< tunsim kernel: the kernel's counters do not add up
    kExitRunsFailed = 4,   ///< sweep / merge: some runs failed or are missing
    kExitBudget = 5,       ///< run: stopped by --max-events / --max-wall-s (result written, marked partial)
    kExitInterrupted = 130, ///< tunsim kernel: SIGINT/SIGTERM (nothing written, namespace removed)
};

/// Bad usage or bad input: the command prints the message and exits 2,
/// having written nothing.
struct BadInput : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

} // namespace tunsim
