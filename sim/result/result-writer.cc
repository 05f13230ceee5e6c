#include "result-writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace tunsim
{

void
WriteFileAtomically(const std::string& path, const std::string& text)
{
    namespace fs = std::filesystem;
    fs::path target(path);
    std::error_code ec;
    if (target.has_parent_path())
    {
        fs::create_directories(target.parent_path(), ec);
        if (ec)
        {
            throw std::runtime_error(target.parent_path().string() + ": cannot create: " + ec.message());
        }
    }
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
    {
        throw std::runtime_error(tmp + ": cannot create: " + std::strerror(errno));
    }
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0)
    {
        ssize_t n = ::write(fd, p, left);
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::runtime_error(tmp + ": write failed: " + std::strerror(e));
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
    {
        int e = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error(tmp + ": cannot flush: " + std::strerror(e));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
    {
        int e = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error(path + ": cannot rename into place: " + std::strerror(e));
    }
}

} // namespace tunsim
