// The sweep directory's lock. See lock.h.
#include "lock.h"

#include "common/errors.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace tunsim::sweep
{

namespace
{

/// The pid the holder wrote into the lock file ("" if unreadable).
std::string
HolderPid(int fd)
{
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    {
        s.pop_back();
    }
    return s.find_first_not_of("0123456789") == std::string::npos ? s : "";
}

} // namespace

SweepLock::SweepLock(const std::filesystem::path& dir)
{
    const std::string path = (dir / ".sweep.lock").string();
    // O_CLOEXEC: the runs (exec'd children) do not hold the lock.
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
    {
        throw BadInput("--out: cannot open " + path + ": " + std::strerror(errno));
    }
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0)
    {
        const int err = errno;
        const std::string pid = HolderPid(m_fd);
        ::close(m_fd);
        m_fd = -1;
        if (err == EWOULDBLOCK)
        {
            throw BadInput("--out: " + dir.string() + " is in use by another tunsim sweep" +
                           (pid.empty() ? "" : " (pid " + pid + ")") + ", which holds " + path +
                           "; wait for it to end or give another --out");
        }
        throw BadInput("--out: cannot lock " + path + ": " + std::strerror(err));
    }
    const std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(m_fd, 0) != 0 || ::pwrite(m_fd, me.data(), me.size(), 0) < 0)
    {
        // The pid is only for the message of a second sweep; the lock holds.
    }
}

SweepLock::~SweepLock()
{
    if (m_fd >= 0)
    {
        ::close(m_fd); // releases the flock
    }
}

} // namespace tunsim::sweep
