// tunsim run SCENARIO.json [--set k=v]... [--seed N] [--out DIR] [--timeseries MS] [--quiet]
// tunsim validate SCENARIO.json [--set k=v]...
// (argv[0] is the command name; the return value is the exit code.)
#pragma once

namespace tunsim
{

int RunScenarioCommand(int argc, char** argv);
int ValidateCommand(int argc, char** argv);

} // namespace tunsim
