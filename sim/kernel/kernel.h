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
//
// The pipeline, one file a step (all in sim/kernel/):
//   support.h         what the live kernel can run (CheckKernelSupports) and
//                     the fields it does not use (NotApplicable)
//   host.h            the host: ip/tc, the namespace, the tun device, signals
//   clock.h           monotonic time, waiting, CPU pinning
//   measure.h         the policy probe and the calibration (before the runs),
//                     and the statistics of the result
//   traffic.h         one run: the sender threads (traffic.cc) and the reader
//                     thread (reader.cc) on a fresh tun device
//   pool.h            the runs summed and cross-checked
//   assemble.h        the RunResult and the summary
//   kernel-command.cc the command: options, checks, the runs, the writing
#pragma once

namespace tunsim
{

/// `tunsim kernel ...` (argv[0] is "kernel"). Exit codes (common/errors.h):
/// kExitOk; kExitBadInput (usage, scenario, a qdisc or flow the kernel run
/// cannot do, missing CAP_NET_ADMIN; nothing written); kExitConservation (the
/// kernel's counters do not add up: result written, cross_check.ok false);
/// kExitInterrupted (nothing written, namespace removed); kExitFailure.
int KernelCommand(int argc, char** argv);

} // namespace tunsim
