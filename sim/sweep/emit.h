// --emit: the plan as a job list to run elsewhere (GNU parallel, a SLURM job
// array) instead of running it here; `tunsim merge` then builds the CSVs.
#pragma once

#include "plan.h"

#include <filesystem>
#include <string>

namespace tunsim::sweep
{

enum class EmitKind
{
    Parallel, ///< DIR/jobs.txt
    Slurm,    ///< DIR/jobs.txt and DIR/sweep.sbatch, a job array over its lines
};

/// Write DIR/jobs.txt, one shell command a run (point-major, then seed),
/// paths relative to DIR and `exe` (this tunsim) absolute, plus the SLURM
/// script for EmitKind::Slurm; print what was written and how to run it.
void WriteJobFiles(const Plan& plan, const std::filesystem::path& dir, const std::string& exe, EmitKind kind);

} // namespace tunsim::sweep
