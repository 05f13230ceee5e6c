// tunsim table RESULT.json|DIR...: the figures a reader compares first, one
// row per result and flow (argv[0] is "table").
#pragma once

namespace tunsim
{

int TableCommand(int argc, char** argv);

} // namespace tunsim
