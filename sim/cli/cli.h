// What every tunsim command shares on the command line: option parsing with
// positional arguments, and turning errors into exit codes.
#pragma once

#include "common/errors.h"

#include <boost/program_options.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tunsim
{

/// Parse `argv` against `visible` plus positional arguments, given as
/// (name, count) pairs (count -1 = the rest). A parse error is a BadInput
/// "usage: <what> (see tunsim <command> --help)".
boost::program_options::variables_map ParseCommandLine(
    int argc,
    char** argv,
    const boost::program_options::options_description& visible,
    const std::vector<std::pair<std::string, int>>& positional,
    const std::string& command);

/// Before a run: BadInput ("--out: ...") when `dir` is empty, exists and is
/// not a directory, or cannot be created or written (its nearest existing
/// ancestor is not a writable directory), so that no time is spent on a run
/// whose result cannot be written.
void CheckOutputDirectory(const std::string& dir);

/// The default output directory of a run named `name`: results/<name><suffix>,
/// the name made safe for a path (characters outside [A-Za-z0-9._+-] become
/// '_', no leading '.', at most 100 characters with a hash of the whole
/// name when cut), so that no name can leave results/.
std::string DefaultOutputDir(const std::string& name, const std::string& suffix = "");

/// An output directory made ready before a run: CheckOutputDirectory(),
/// then the directory is created and a probe file written and removed there
/// (BadInput "--out: ..." if that fails: read-only file system, no space,
/// no permission). Undo() removes the directories it created if they are
/// still empty: a failed command leaves nothing half-made behind.
class OutputDirectory
{
  public:
    explicit OutputDirectory(const std::string& dir);
    const std::string& Path() const { return m_dir; }
    void Undo() const;

  private:
    std::string m_dir;
    std::vector<std::string> m_created; ///< deepest first
};

/// A bounded number option: BadInput naming `option` unless finite and in [lo, hi].
double BoundedNumber(const std::string& option, const std::string& text, double lo, double hi);

/// A bounded count option: BadInput naming `option` unless `text` is a
/// decimal integer (digits only: no sign, fraction or exponent) in [lo, hi].
/// "-1" is refused here, where an unsigned parse would wrap it to 2^32 - 1.
uint64_t BoundedCount(const std::string& option, const std::string& text, uint64_t lo, uint64_t hi);

/// An error message as printed: at most its first 1000 characters and how
/// many more there were when it is longer than 2000 (a message quoting a
/// 3 MB number literal or a 100 kB --set value stays one readable line).
std::string MessageText(const std::string& message);

/// Run a command's body and turn what it throws into the exit codes every
/// tunsim command uses: a ScenarioError or BadInput is printed as
/// "<prefix>: <message>" and gives kExitBadInput; any other exception
/// "<prefix>: error: <message>" and kExitFailure (MessageText).
int RunCommand(const std::string& prefix, const std::function<int()>& body);

} // namespace tunsim
