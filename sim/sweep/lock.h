// One sweep at a time per sweep directory: an exclusive flock() on
// DIR/.sweep.lock, held from before the plan files are written until the
// sweep ends (the kernel releases it when the process dies, kill -9
// included). A second `tunsim sweep` into the same --out is bad input.
#pragma once

#include <filesystem>
#include <string>

namespace tunsim::sweep
{

class SweepLock
{
  public:
    /// Take the lock of `dir` (which must exist) or throw BadInput
    /// ("--out: DIR is in use by another tunsim sweep (pid N) ...").
    explicit SweepLock(const std::filesystem::path& dir);
    ~SweepLock();
    SweepLock(const SweepLock&) = delete;
    SweepLock& operator=(const SweepLock&) = delete;

  private:
    int m_fd = -1;
};

} // namespace tunsim::sweep
