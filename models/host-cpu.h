// HostCpu: one CPU of the client host (issue 13's multi-core host).
//
// What it mirrors: a CPU runs one thing at a time. Process-context work (a
// sender's sendmsg() and stack, the VPN reader's loop, ksoftirqd) waits in a
// run queue; a pending softirq (NET_TX_SOFTIRQ) runs at the next point where
// bottom halves are enabled again -- `local_bh_enable()` or the return from
// an interrupt, kernel/softirq.c `__do_softirq()` -- which the model takes to
// be the end of the job running now; while a qdisc run owns the CPU
// (`__dev_queue_xmit()` runs under `rcu_read_lock_bh()`), softirqs wait.
// `__do_softirq()` restarts at most MAX_SOFTIRQ_RESTART (10) times when a
// softirq raises itself again (the qdisc quota's `__netif_schedule()`); after
// that the rest runs in `ksoftirqd`, a thread queued like any other work.
//
// The model (the simplifications are named in docs/model.md):
//  * a job is (CPU time, kind, what happens when it is done); the CPU is busy
//    for that long and then calls the continuation;
//  * jobs submitted while one of this CPU's continuations runs are that
//    context's own next work (a syscall that goes on, the stack's transmit
//    inside a write(), the next packet of a qdisc run): they go to the front
//    of the run queue, in the order submitted; anything else waits at the
//    back (run to completion, no time slices);
//  * each job's CPU time is booked under its kind: per-CPU busy time sums to
//    exactly the work charged.
#pragma once

#include "ns3/nstime.h"
#include "ns3/object.h"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

namespace tunsim
{

/// Where a CPU's time went.
enum class CpuWork : uint8_t
{
    Sender = 0,  ///< sendmsg() + TCP/IP output up to the qdisc enqueue
    Reader,      ///< the VPN process's own loop (read, crypto, sendto, write)
    XmitDirect,  ///< dequeue + tun_net_xmit() in a qdisc run a sender or reader started
    XmitSoftirq, ///< dequeue + tun_net_xmit() in net_tx_action() (NET_TX_SOFTIRQ)
    Softirq,     ///< the fixed cost of one NET_TX softirq run
    Lock,        ///< waiting for a contended qdisc lock (busylock)
    COUNT
};
const char* CpuWorkName(CpuWork w);

class HostCpu : public ns3::Object
{
  public:
    static ns3::TypeId GetTypeId();
    HostCpu() = default;

    void SetIndex(uint32_t i) { m_index = i; }
    uint32_t Index() const { return m_index; }

    /// Run `work` of `kind` on this CPU, then `done` (may be empty). From one
    /// of this CPU's own continuations: the front of the run queue (the same
    /// context goes on); otherwise the back.
    void Submit(ns3::Time work, CpuWork kind, std::function<void()> done);

    /// raise_softirq(NET_TX_SOFTIRQ): `action` runs at this CPU's next
    /// softirq point (net_tx_action()). One pending bit per CPU: raising it
    /// again before it runs adds nothing (the caller keeps its own list, as
    /// softnet_data's output_queue).
    void RaiseNetTx(std::function<void()> action);

    /// A qdisc run owns the CPU (bottom halves disabled): no softirq runs
    /// until EnableBh(). Counted, they nest.
    void DisableBh() { ++m_bhDisabled; }
    void EnableBh();

    /// The CPU whose continuation is running now, or null (an ns-3 event
    /// outside any CPU's work: a timer, an application's start).
    static HostCpu* Current();

    /// Current() is `cpu` for the life of this object (null: work done on
    /// behalf of no CPU in particular, e.g. a socket backlog its owner runs).
    class ContextScope
    {
      public:
        explicit ContextScope(HostCpu* cpu);
        ~ContextScope();
        ContextScope(const ContextScope&) = delete;
        ContextScope& operator=(const ContextScope&) = delete;

      private:
        HostCpu* m_saved;
    };

    struct Stats
    {
        std::array<ns3::Time, static_cast<size_t>(CpuWork::COUNT)> busy{};
        uint64_t jobs = 0;
        uint64_t softirqRaised = 0;     ///< NET_TX raised while not pending
        uint64_t softirqOnReturn = 0;   ///< runs at a bh-enable / job end (__do_softirq inline)
        uint64_t softirqKsoftirqd = 0;  ///< runs deferred to ksoftirqd after MAX_SOFTIRQ_RESTART
        ns3::Time maxQueueWait;         ///< longest a back-of-queue job waited
    };
    const Stats& GetStats() const { return m_stats; }
    ns3::Time Busy() const;
    bool Idle() const { return !m_running; }
    size_t Queued() const { return m_queue.size(); }

    /// MAX_SOFTIRQ_RESTART (kernel/softirq.c).
    static constexpr uint32_t kMaxSoftirqRestart = 10;

  protected:
    void DoDispose() override;

  private:
    struct Job
    {
        ns3::Time work;
        CpuWork kind = CpuWork::Sender;
        std::function<void()> done;
        ns3::Time queuedAt;
        bool back = true;
    };
    void Pump();
    void Finish();
    void RunSoftirq(bool inKsoftirqd);

    uint32_t m_index = 0;
    std::deque<Job> m_queue;
    bool m_running = false;
    Job m_current;
    size_t m_insertAt = 0;   ///< front insertion point while a continuation runs
    bool m_inContinuation = false;
    uint32_t m_bhDisabled = 0;
    bool m_softirqPending = false;
    bool m_ksoftirqdQueued = false;
    uint32_t m_restarts = 0; ///< consecutive self-raised softirq runs
    bool m_inKsoftirqd = false; ///< the last softirq run was ksoftirqd's
    std::function<void()> m_netTx;
    Stats m_stats;
};

} // namespace tunsim
