// Which heap allocator this tunsim process runs on (see TUNSIM_MALLOC in
// CMakeLists.txt). It changes wall time only, never a simulated figure; the
// name goes into result.json's `wall` block and `tunsim --version`.
#pragma once

#include <string>

namespace tunsim
{

/// "mimalloc 2.0.9" when mimalloc serves this process's malloc(), "glibc"
/// otherwise. Checked at run time: a build for mimalloc whose override did not
/// take (e.g. --as-needed dropped the library) reports "glibc".
std::string HeapAllocator();

} // namespace tunsim
