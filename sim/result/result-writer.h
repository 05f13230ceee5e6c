// Writing results without ever leaving a half-written file: write a
// temporary file in the same directory, flush it to disk, rename it over the
// target (rename(2) is atomic within a file system).
#pragma once

#include <string>

namespace tunsim
{

/// Write `text` to `path` atomically; creates the parent directories.
/// Throws std::runtime_error naming the path on failure.
void WriteFileAtomically(const std::string& path, const std::string& text);

} // namespace tunsim
