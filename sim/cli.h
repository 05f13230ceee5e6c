// What every tunsim command shares on the command line: the bad-input error
// (exit code 2), option parsing with positional arguments, and reading a
// result file.
#pragma once

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tunsim
{

/// Bad usage or bad input: the command prints the message and exits 2,
/// having written nothing.
struct BadInput : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// Parse `argv` against `visible` plus positional arguments, given as
/// (name, count) pairs (count -1 = the rest). A parse error is a BadInput
/// "usage: <what> (see tunsim <command> --help)".
boost::program_options::variables_map ParseCommandLine(
    int argc,
    char** argv,
    const boost::program_options::options_description& visible,
    const std::vector<std::pair<std::string, int>>& positional,
    const std::string& command);

/// Run a command's body and turn what it throws into the exit codes every
/// tunsim command uses: a ScenarioError or BadInput is printed as
/// "<prefix>: <message>" and gives 2; any other exception
/// "<prefix>: error: <message>" and 1.
int RunCommand(const std::string& prefix, const std::function<int()>& body);

/// A result.json, named as the file or as its directory. BadInput when it
/// cannot be read or is not a tunsim result.
nlohmann::json ReadResultFile(const std::string& fileOrDir);

} // namespace tunsim
