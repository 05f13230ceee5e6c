#include "common/allocator.h"
#include "run-result.h"
#include "tunsim-version.h"

namespace tunsim
{

RunResult
NewRunResult(const nlohmann::json& resolvedScenario, uint64_t seed)
{
    RunResult r;
    r.tunsimVersion = TUNSIM_VERSION;
    r.tunsimGit = TUNSIM_GIT_REV;
    r.ns3Version = "3.37";
    r.scenario = resolvedScenario;
    r.seed = seed;
    r.wall.allocator = HeapAllocator();
    return r;
}

} // namespace tunsim
