#include "cli.h"

#include "scenario/scenario.h"

#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace tunsim
{

po::variables_map
ParseCommandLine(int argc,
                 char** argv,
                 const po::options_description& visible,
                 const std::vector<std::pair<std::string, int>>& positional,
                 const std::string& command)
{
    po::options_description hidden;
    po::positional_options_description pos;
    for (const auto& [name, count] : positional)
    {
        if (count == 1)
        {
            hidden.add_options()(name.c_str(), po::value<std::string>());
        }
        else
        {
            hidden.add_options()(name.c_str(), po::value<std::vector<std::string>>());
        }
        pos.add(name.c_str(), count);
    }
    po::options_description all;
    all.add(visible).add(hidden);
    po::variables_map vm;
    try
    {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    }
    catch (const po::error& e)
    {
        std::string see = command.empty() ? "tunsim --help" : "tunsim " + command + " --help";
        throw BadInput(std::string("usage: ") + e.what() + " (see " + see + ")");
    }
    return vm;
}

void
CheckOutputDirectory(const std::string& dir)
{
    std::error_code ec;
    const std::filesystem::path p(dir);
    if (std::filesystem::exists(p, ec) && !std::filesystem::is_directory(p, ec))
    {
        throw BadInput("--out: " + dir + " exists and is not a directory");
    }
}

int
RunCommand(const std::string& prefix, const std::function<int()>& body)
{
    try
    {
        return body();
    }
    catch (const ScenarioError& e)
    {
        std::cerr << prefix << ": " << e.what() << "\n";
        return kExitBadInput;
    }
    catch (const BadInput& e)
    {
        std::cerr << prefix << ": " << e.what() << "\n";
        return kExitBadInput;
    }
    catch (const std::exception& e)
    {
        std::cerr << prefix << ": error: " << e.what() << "\n";
        return kExitFailure;
    }
}

} // namespace tunsim
