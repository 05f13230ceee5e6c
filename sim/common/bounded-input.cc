// Bounded reading of untrusted files. See bounded-input.h.
#include "bounded-input.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tunsim
{

namespace
{

std::string
SizeText(size_t bytes)
{
    return bytes >= (1u << 20) && bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                                           : std::to_string(bytes) + " bytes";
}

/// Closes the descriptor on every path out.
struct Fd
{
    int fd;
    ~Fd()
    {
        if (fd >= 0)
        {
            ::close(fd);
        }
    }
};

} // namespace

std::string
ReadBoundedFile(const std::string& path, size_t maxBytes)
{
    const bool stdinPath = path == "-";
    const Fd f{stdinPath ? ::dup(0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0)
    {
        throw BoundedReadError(std::string("cannot read: ") + std::strerror(errno));
    }
    struct stat st;
    if (!stdinPath && (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)))
    {
        throw BoundedReadError("not a regular file");
    }
    std::string text;
    char buf[65536];
    for (;;)
    {
        const ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            throw BoundedReadError(std::string("cannot read: ") + std::strerror(errno));
        }
        if (n == 0)
        {
            break;
        }
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > maxBytes)
        {
            throw BoundedReadError("larger than " + SizeText(maxBytes));
        }
    }
    return text;
}

size_t
JsonTooDeepAt(const std::string& json, size_t maxDepth)
{
    size_t depth = 0;
    bool inString = false;
    for (size_t i = 0; i < json.size(); ++i)
    {
        const char c = json[i];
        if (inString)
        {
            if (c == '\\')
            {
                ++i;
            }
            else if (c == '"')
            {
                inString = false;
            }
            continue;
        }
        if (c == '"')
        {
            inString = true;
        }
        else if ((c == '[' || c == '{') && ++depth > maxDepth)
        {
            return i;
        }
        else if ((c == ']' || c == '}') && depth > 0)
        {
            --depth;
        }
    }
    return std::string::npos;
}

} // namespace tunsim
