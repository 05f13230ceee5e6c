// Reading files tunsim did not write itself (scenarios, result files,
// sweep manifests) without letting them eat the machine: a size bound,
// regular files only (a FIFO or /dev/zero is refused before anything is
// read), and a nesting bound checked before a JSON parser recurses.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace tunsim
{

/// Why a bounded read failed: "not a regular file ...", "larger than 4 MiB
/// ...", "cannot read: <errno text>". Callers name the file or field.
struct BoundedReadError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// The whole of `path`, which must be a regular file of at most `maxBytes`
/// ("-": standard input, on purpose, with the same bound). Opened
/// non-blocking, so a FIFO without a writer is refused, not waited on.
std::string ReadBoundedFile(const std::string& path, size_t maxBytes);

/// The byte offset of the first '[' or '{' of `json` nested deeper than
/// `maxDepth` (strings skipped), or std::string::npos when there is none.
size_t JsonTooDeepAt(const std::string& json, size_t maxDepth);

} // namespace tunsim
