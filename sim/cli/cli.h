// What every tunsim command shares on the command line: option parsing with
// positional arguments, and turning errors into exit codes.
#pragma once

#include "common/errors.h"

#include <boost/program_options.hpp>

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

/// Before a run: BadInput ("--out: ...") when `dir` exists and is not a
/// directory, so that no time is spent on a run whose result cannot be written.
void CheckOutputDirectory(const std::string& dir);

/// Run a command's body and turn what it throws into the exit codes every
/// tunsim command uses: a ScenarioError or BadInput is printed as
/// "<prefix>: <message>" and gives kExitBadInput; any other exception
/// "<prefix>: error: <message>" and kExitFailure.
int RunCommand(const std::string& prefix, const std::function<int()>& body);

} // namespace tunsim
