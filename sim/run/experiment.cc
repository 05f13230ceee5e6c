#include "experiment.h"

#include "testbed.h"

#include "common/number-text.h"

#include "ns3/simulator.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tunsim
{

namespace
{

using Clock = std::chrono::steady_clock;

void
StopNow()
{
    ns3::Simulator::Stop();
}

/// Stops the simulation from outside when the run exceeds its budget. A
/// watchdog thread looks at the event count and the wall clock every 20 ms;
/// over budget, it schedules Simulator::Stop() through ScheduleWithContext(),
/// the one thread-safe way into ns-3's default simulator (events from other
/// threads are queued under a mutex and taken at the next event). A run
/// within its budget is never touched: its events and results are those of
/// a run without a budget.
class Budget
{
  public:
    Budget(const RunOptions& o, Clock::time_point start)
        : m_maxEvents(o.maxEvents),
          m_maxWallS(o.maxWallS),
          m_start(start)
    {
        if (m_maxEvents || m_maxWallS > 0)
        {
            m_thread = std::thread([this] { Watch(); });
        }
    }

    ~Budget()
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_done = true;
        }
        m_cv.notify_all();
        if (m_thread.joinable())
        {
            m_thread.join();
        }
    }

    /// Why the run was stopped early ("" if it was not). Call after Run().
    const std::string& Reason() const { return m_reason; }

  private:
    void Watch()
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        while (!m_done)
        {
            m_cv.wait_for(lock, std::chrono::milliseconds(20));
            if (m_done || !m_reason.empty())
            {
                continue;
            }
            // A racy read of a counter only the simulation thread writes:
            // a 64-bit aligned load, good enough for a safety net.
            const uint64_t events = ns3::Simulator::GetEventCount();
            const double wall = std::chrono::duration<double>(Clock::now() - m_start).count();
            if (m_maxEvents && events >= m_maxEvents)
            {
                m_reason = "max-events: " + std::to_string(m_maxEvents) + " events processed";
            }
            else if (m_maxWallS > 0 && wall >= m_maxWallS)
            {
                m_reason = "max-wall-s: " + NumberText(m_maxWallS) + " s of wall time used";
            }
            if (!m_reason.empty())
            {
                ns3::Simulator::ScheduleWithContext(0, ns3::Time(0), &StopNow);
            }
        }
    }

    uint64_t m_maxEvents;
    double m_maxWallS;
    Clock::time_point m_start;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    std::string m_reason;
};

} // namespace

RunOutput
RunExperiment(const Scenario& s, const RunOptions& options)
{
    const auto wallStart = Clock::now();
    ResetSimulator(s);
    RunOutput out;
    {
        Testbed tb = BuildTestbed(s);
        Instruments in;
        Instrument(tb, options.timeseriesIntervalMs, in);

        std::string stoppedBecause;
        {
            Budget budget(options, wallStart);
            ns3::Simulator::Stop(ns3::NanoSeconds(static_cast<int64_t>(s.durationS * 1e9)));
            ns3::Simulator::Run();
            stoppedBecause = budget.Reason();
        }

        WallClock wall;
        wall.seconds = std::chrono::duration<double>(Clock::now() - wallStart).count();
        wall.events = ns3::Simulator::GetEventCount();
        out.result = Report(s, tb, in, wall);
        if (!stoppedBecause.empty())
        {
            out.result.partial = PartialRun{stoppedBecause, out.result.simulatedS};
        }
        out.timeseriesCsv = in.series.str();
        ns3::Simulator::Destroy();
        SocketAccountTable::Reset();
    }
    out.conservationOk = out.result.conservation.ok;
    out.summary = Summary(s, out.result);
    return out;
}

} // namespace tunsim
