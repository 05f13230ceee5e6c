// Time for tunsim kernel: CLOCK_MONOTONIC in ns, busy and sleeping waits
// (every sleeping wait returns early on a signal: host.h's Interrupted()),
// and pinning a thread to a CPU.
#pragma once

#include "host.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>

#include <sched.h>
#include <time.h>

namespace tunsim
{
namespace kernel
{

inline int64_t
NowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/// Busy-wait until t (monotonic ns).
inline void
SpinUntil(int64_t t)
{
    while (NowNs() < t)
    {
    }
}

/// A gap between two clock reads of a busy-wait longer than this: the
/// thread was runnable and did not run (another task or an interrupt had
/// its CPU). clock_gettime() costs ~25 ns here.
constexpr int64_t kStolenNs = 20000;

/// SpinUntil(t), calling onGap(from, to) for every gap of more than
/// kStolenNs between two clock reads. Returns the last clock read (>= t).
template <typename OnGap>
inline int64_t
SpinUntilNotingGaps(int64_t t, OnGap&& onGap)
{
    int64_t prev = NowNs();
    while (prev < t)
    {
        const int64_t now = NowNs();
        if (now - prev > kStolenNs)
        {
            onGap(prev, now);
        }
        prev = now;
    }
    return prev;
}

/// Sleep until t (monotonic ns); the last 80 us spin for precision. Returns
/// early on a signal or when `stop` is set.
inline void
WaitUntil(int64_t t, const std::atomic<bool>* stop = nullptr)
{
    for (;;)
    {
        int64_t now = NowNs();
        if (now >= t || Interrupted() || (stop && stop->load()))
        {
            return;
        }
        int64_t left = t - now;
        if (left > 80000)
        {
            int64_t nap = std::min<int64_t>(left - 60000, 5000000);
            timespec ts{static_cast<time_t>(nap / 1000000000LL), static_cast<long>(nap % 1000000000LL)};
            nanosleep(&ts, nullptr);
        }
        else
        {
            SpinUntil(t);
            return;
        }
    }
}

inline void
SleepMs(int ms)
{
    WaitUntil(NowNs() + static_cast<int64_t>(ms) * 1000000LL);
}

/// Pin the calling thread to `cpu` (modulo the CPUs there are); best effort,
/// and nothing on a single CPU.
inline void
PinToCpu(int cpu)
{
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (n < 2)
    {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % n, &set);
    sched_setaffinity(0, sizeof(set), &set); // best effort
}

} // namespace kernel
} // namespace tunsim
