// tunsim list [fields]: the words a scenario may use (policies, qdisc kinds,
// traffic kinds, encapsulations), or every field of the field table.
#pragma once

namespace tunsim
{

int ListCommand(int argc, char** argv);

} // namespace tunsim
