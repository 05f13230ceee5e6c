#include "allocator.h"

#include <cstdlib>

#ifdef TUNSIM_MIMALLOC
#include <mimalloc.h>
#endif

namespace tunsim
{

std::string
HeapAllocator()
{
#ifdef TUNSIM_MIMALLOC
    // malloc() goes to mimalloc only if libmimalloc precedes libc in symbol
    // lookup; ask mimalloc whether a plain calloc() block is one of its own.
    void* p = std::calloc(1, 64);
    const bool ours = mi_is_in_heap_region(p);
    std::free(p);
    if (ours)
    {
        const int v = mi_version(); // e.g. 209
        return "mimalloc " + std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
               std::to_string(v % 10);
    }
#endif
    return "glibc";
}

} // namespace tunsim
