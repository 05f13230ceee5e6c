// A sweep's progress on stderr. On a terminal: one line redrawn in place,
//   sweep [#########.........] 9/18 runs  0 failed  elapsed 0:02  ETA 0:02
// with failures printed above it; otherwise one plain line per finished run.
// The ETA is (elapsed / runs finished in this invocation) x runs left.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace tunsim::sweep
{

class Progress
{
  public:
    /// `total` runs in the plan, `already` of them complete before this
    /// invocation. `quiet`: nothing at all.
    Progress(size_t total, size_t already, bool tty, bool quiet);

    /// One more run finished; `failed` runs have failed so far.
    void Done(size_t failed, const std::string& what, const std::string& outcome);

    /// Redraw the line (on a terminal; the elapsed time moves on).
    void Tick();

    /// The last redraw and its line break (on a terminal).
    void Finish();

    /// A line above the bar (on a terminal): a failure as it happens.
    void Note(const std::string& line);

  private:
    using Clock = std::chrono::steady_clock;

    double Elapsed() const;
    double Eta() const;
    void Paint();

    size_t m_total;
    size_t m_already;
    size_t m_toRun;
    bool m_tty;
    bool m_quiet;
    Clock::time_point m_start;
    size_t m_doneNow = 0;
    size_t m_failed = 0;
};

} // namespace tunsim::sweep
