// --emit parallel | slurm. See emit.h and docs/sweep.md#beyond-one-machine.
#include "emit.h"

#include "result/result-writer.h"

#include <iostream>

namespace tunsim::sweep
{

namespace fs = std::filesystem;

namespace
{

/// `s` as one shell word: as is when it holds only safe characters, else in
/// single quotes.
std::string
ShellQuote(const std::string& s)
{
    if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_./=,+-:@%") == std::string::npos)
    {
        return s;
    }
    std::string out = "'";
    for (char c : s)
    {
        if (c == '\'')
        {
            out += "'\\''";
        }
        else
        {
            out += c;
        }
    }
    return out + "'";
}

/// The shell command of one run, as the sweep itself would start it.
std::string
JobLine(const Plan& plan, const Run& r, const std::string& exe)
{
    std::string line = "mkdir -p " + ShellQuote(r.dir) + " && " + ShellQuote(exe);
    for (const auto& a : RunArgs(plan, r))
    {
        line += " " + ShellQuote(a);
    }
    line += " > " + ShellQuote(r.dir + "/run.log") + " 2>&1";
    return line;
}

/// A SLURM job array with one task per line of jobs.txt (0-based).
std::string
SlurmScript(size_t runs, const fs::path& dir)
{
    return "#!/bin/bash\n"
           "# tunsim sweep: one SLURM array task per line of jobs.txt (0-based).\n"
           "#SBATCH --job-name=tunsim-sweep\n"
           "#SBATCH --array=0-" +
           std::to_string(runs - 1) +
           "\n"
           "#SBATCH --ntasks=1\n"
           "#SBATCH --cpus-per-task=1\n"
           "#SBATCH --output=" +
           (dir / "slurm-logs").string() +
           "/%A_%a.out\n"
           "set -euo pipefail\n"
           "cd \"${TUNSIM_SWEEP_DIR:-" +
           dir.string() +
           "}\"\n"
           ": \"${SLURM_ARRAY_TASK_ID:?run with sbatch --array, or set SLURM_ARRAY_TASK_ID}\"\n"
           "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" jobs.txt)\n"
           "if [ -z \"$line\" ]; then\n"
           "  echo \"tunsim sweep: no line $((SLURM_ARRAY_TASK_ID + 1)) in jobs.txt\" >&2\n"
           "  exit 2\n"
           "fi\n"
           "bash -c \"$line\" || { rc=$?; echo \"tunsim sweep: task $SLURM_ARRAY_TASK_ID "
           "failed ($rc): $line\" >&2; exit $rc; }\n";
}

} // namespace

void
WriteJobFiles(const Plan& plan, const fs::path& dir, const std::string& exe, EmitKind kind)
{
    std::string jobsText;
    for (const auto& r : plan.runs)
    {
        jobsText += JobLine(plan, r, exe) + "\n";
    }
    WriteFileAtomically((dir / "jobs.txt").string(), jobsText);
    std::cout << "wrote " << (dir / "jobs.txt").string() << ": " << plan.runs.size() << " runs ("
              << plan.points.size() << " points x " << plan.seeds.size() << " seeds)\n";
    if (kind == EmitKind::Slurm)
    {
        const fs::path script = dir / "sweep.sbatch";
        fs::create_directories(dir / "slurm-logs"); // sbatch does not create it
        WriteFileAtomically(script.string(), SlurmScript(plan.runs.size(), dir));
        fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
        std::cout << "wrote " << script.string() << ": sbatch " << script.string()
                  << "\nthen: tunsim merge " << dir.string() << "\n";
    }
    else
    {
        std::cout << "run: cd " << ShellQuote(dir.string())
                  << " && parallel --joblog joblog.txt < jobs.txt\nthen: tunsim merge " << ShellQuote(dir.string())
                  << "\n";
    }
}

} // namespace tunsim::sweep
