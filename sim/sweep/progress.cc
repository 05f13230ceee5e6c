// Progress and ETA of a sweep. See progress.h.
#include "progress.h"

#include <cmath>
#include <cstdio>

namespace tunsim::sweep
{

namespace
{

/// "m:ss" or "h:mm:ss"; "?" when unknown.
std::string
FormatDuration(double s)
{
    if (!std::isfinite(s) || s < 0)
    {
        return "?";
    }
    long t = std::lround(s);
    char buf[32];
    if (t >= 3600)
    {
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    }
    else
    {
        std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    }
    return buf;
}

} // namespace

Progress::Progress(size_t total, size_t already, bool tty, bool quiet)
    : m_total(total),
      m_already(already),
      m_toRun(total - already),
      m_tty(tty),
      m_quiet(quiet),
      m_start(Clock::now())
{
}

void
Progress::Done(size_t failed, const std::string& what, const std::string& outcome)
{
    ++m_doneNow;
    m_failed = failed;
    if (m_tty)
    {
        Paint();
    }
    else if (!m_quiet)
    {
        std::fprintf(stderr, "sweep: [%zu/%zu] %s: %s (ETA %s)\n", m_already + m_doneNow, m_total, what.c_str(),
                     outcome.c_str(), FormatDuration(Eta()).c_str());
    }
}

void
Progress::Tick()
{
    if (m_tty)
    {
        Paint();
    }
}

void
Progress::Finish()
{
    if (m_tty)
    {
        Paint();
        std::fprintf(stderr, "\n");
    }
}

void
Progress::Note(const std::string& line)
{
    if (m_tty)
    {
        std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
        Paint();
    }
}

double
Progress::Elapsed() const
{
    return std::chrono::duration<double>(Clock::now() - m_start).count();
}

double
Progress::Eta() const
{
    if (m_doneNow == 0)
    {
        return std::nan("");
    }
    return Elapsed() / m_doneNow * (m_toRun - m_doneNow);
}

void
Progress::Paint()
{
    const size_t done = m_already + m_doneNow;
    const int width = 30;
    int fill = m_total ? static_cast<int>(width * done / m_total) : width;
    std::string bar(fill, '#');
    bar += std::string(width - fill, '.');
    std::fprintf(stderr, "\r\033[Ksweep [%s] %zu/%zu runs  %zu failed  elapsed %s  ETA %s", bar.c_str(), done, m_total,
                 m_failed, FormatDuration(Elapsed()).c_str(),
                 m_doneNow == m_toRun ? "0:00" : FormatDuration(Eta()).c_str());
    std::fflush(stderr);
}

} // namespace tunsim::sweep
