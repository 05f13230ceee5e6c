#include "vpn-reader.h"

#include "ns3/double.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <algorithm>

namespace tunsim
{

NS_LOG_COMPONENT_DEFINE("VpnReader");
NS_OBJECT_ENSURE_REGISTERED(VpnReader);

// ----------------------------------------------------------------- VpnReader

ns3::TypeId
VpnReader::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::VpnReader")
            .SetParent<ns3::Application>()
            .SetGroupName("Tunsim")
            .AddConstructor<VpnReader>()
            .AddAttribute("PerPacketCost",
                          "Fixed CPU time per packet read (syscall, copy, encrypt setup, sendto)",
                          ns3::TimeValue(ns3::NanoSeconds(1000)),
                          ns3::MakeTimeAccessor(&VpnReader::m_perPacket),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("NsPerByte",
                          "CPU time per byte of packet (crypto), in ns",
                          ns3::DoubleValue(0.0),
                          ns3::MakeDoubleAccessor(&VpnReader::m_nsPerByte),
                          ns3::MakeDoubleChecker<double>(0.0))
            .AddAttribute("WakeupLatency",
                          "From sk_data_ready() on a sleeping reader (or sk_write_space() on a "
                          "blocked one) until it runs",
                          ns3::TimeValue(ns3::MicroSeconds(5)),
                          ns3::MakeTimeAccessor(&VpnReader::m_wakeupLatency),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("DeepIdleAfter",
                          "A reader that slept at least this long before sk_data_ready() pays "
                          "DeepWakeupLatency instead of WakeupLatency (0 = one level)",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_deepIdleAfter),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("DeepWakeupLatency",
                          "Wake-up latency after a sleep of at least DeepIdleAfter (deep idle "
                          "state, descheduled vCPU)",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_deepWakeupLatency),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("Batch",
                          "Packets taken from the ring per read",
                          ns3::UintegerValue(1),
                          ns3::MakeUintegerAccessor(&VpnReader::m_batch),
                          ns3::MakeUintegerChecker<uint32_t>(1, 1024))
            .AddAttribute("PollCost",
                          "CPU of one poll()/epoll_wait() that finds the ring non-empty "
                          "(loop styles poll-each and batched)",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_pollCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("PollBlockCost",
                          "CPU of the poll() that may block, from its entry to where it would "
                          "sleep: poll_initwait(), tun_chr_poll() putting the reader on the wait "
                          "queue, the timeout; a packet that lands meanwhile is seen without a "
                          "wake-up (negative: PollCost)",
                          ns3::TimeValue(ns3::NanoSeconds(-1)),
                          ns3::MakeTimeAccessor(&VpnReader::m_pollBlockCost),
                          ns3::MakeTimeChecker())
            .AddAttribute("ReadCost",
                          "The least CPU a packet takes: one read() syscall (a packet costs "
                          "max(PerPacketCost + NsPerByte * bytes, ReadCost))",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_readCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("ReadEmptyCost",
                          "CPU of the read() that finds the ring empty (-EAGAIN) before a "
                          "read-until-empty reader sleeps in poll()",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_readEmptyCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("WriteCost",
                          "CPU of one write() of a reverse packet into tun besides its "
                          "decryption (tun_get_user() -> netif_receive_skb(), the receive path)",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_writeCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("WriteXmitCost",
                          "CPU per packet the stack transmits into tun inside that write() "
                          "(tcp_ack() -> tcp_write_xmit() -> qdisc -> tun_net_xmit())",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&VpnReader::m_writeXmitCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("EncapOverhead",
                          "Bytes the VPN adds in front of each inner packet (beyond UDP/IP)",
                          ns3::UintegerValue(0),
                          ns3::MakeUintegerAccessor(&VpnReader::m_encapOverhead),
                          ns3::MakeUintegerChecker<uint32_t>(0, 1000));
    return tid;
}

VpnReader::VpnReader() = default;

void
VpnReader::Setup(ns3::Ptr<TunNetDevice> tun,
                 uint32_t queue,
                 ns3::InetSocketAddress local,
                 ns3::InetSocketAddress peer,
                 ns3::Ptr<SocketAccount> account)
{
    m_tun = tun;
    m_queue = queue;
    m_local = local;
    m_peer = peer;
    m_account = account;
    m_tun->AttachReader(queue, [this]() { OnDataReady(); });
}

void
VpnReader::AddStall(ns3::Time at, ns3::Time duration)
{
    m_stalls.emplace_back(at, duration);
}

void
MakePreemptionDraws(ns3::Time interval,
                    ns3::Time duration,
                    int64_t stream,
                    ns3::Ptr<ns3::ExponentialRandomVariable>& gap,
                    ns3::Ptr<ns3::ExponentialRandomVariable>& length)
{
    if (interval.IsZero() || duration.IsZero())
    {
        gap = nullptr;
        return;
    }
    gap = ns3::CreateObject<ns3::ExponentialRandomVariable>();
    gap->SetAttribute("Mean", ns3::DoubleValue(interval.GetSeconds()));
    gap->SetStream(stream);
    length = ns3::CreateObject<ns3::ExponentialRandomVariable>();
    length->SetAttribute("Mean", ns3::DoubleValue(duration.GetSeconds()));
    length->SetStream(stream + 1);
}

void
VpnReader::SetPreemption(ns3::Time interval, ns3::Time duration, int64_t stream)
{
    MakePreemptionDraws(interval, duration, stream, m_preemptGap, m_preemptLength);
}

void
DrawnLatency::Set(std::vector<ns3::Time> values, int64_t stream)
{
    m_values = std::move(values);
    m_draw = nullptr;
    if (!m_values.empty())
    {
        m_draw = ns3::CreateObject<ns3::UniformRandomVariable>();
        m_draw->SetStream(stream);
    }
}

void
VpnReader::SetWakeupQuantiles(std::vector<ns3::Time> quantiles, int64_t stream)
{
    m_wakeupDraw.Set(std::move(quantiles), stream);
}

void
VpnReader::SetDeepWakeupQuantiles(std::vector<ns3::Time> quantiles, int64_t stream)
{
    m_deepWakeupDraw.Set(std::move(quantiles), stream);
}

void
VpnReader::SetWakeupBySleep(std::vector<std::pair<ns3::Time, std::vector<ns3::Time>>> bins, int64_t stream)
{
    m_sleepBinFrom.clear();
    m_sleepBinDraw.clear();
    m_sleepBinDraw.resize(bins.size());
    for (size_t k = 0; k < bins.size(); ++k)
    {
        m_sleepBinFrom.push_back(bins[k].first);
        m_sleepBinDraw[k].Set(std::move(bins[k].second), stream + static_cast<int64_t>(k));
    }
}

bool
VpnReader::OnCpu() const
{
    // Running a syscall or the packets' work (or stopped on purpose by a
    // scenario stall, which keeps its own meaning); not asleep in poll() /
    // tun_ring_recv() (Sleeping), in sock_alloc_send_pskb() (Blocked), nor
    // woken and not yet running (Waking: that wait is the wake-up latency).
    return m_state == State::Running || m_state == State::Polling || m_state == State::Writing ||
           m_state == State::Checking || m_state == State::Blocking || m_state == State::Stalled;
}

void
VpnReader::Preempt()
{
    // The scheduler takes the CPU away from a task that runs on it
    // (__schedule() picking another task: a tick's or a wake-up's
    // preemption, or the host descheduling the vCPU). A task asleep in
    // poll() is on no run queue and has no CPU to lose: a preemption that
    // falls while the reader sleeps leaves it asleep -- its sleep goes on
    // (the wake-up by sleep length counts from when it went to sleep, not
    // from the preemption) and whatever ran on its CPU meanwhile is in the
    // measured wake-up latency (reader.wakeup_by_sleep). The preemptions
    // come as a Poisson process in wall time; keeping only those that find
    // the reader on its CPU thins it to 1 / preempt_interval per unit of
    // *busy* time -- what tunsim calibrate measures (MeasureReaderStolen:
    // busy time per gap of a spinning reader). Both draws are taken every
    // time so that the process does not depend on the reader's state.
    const ns3::Time length = ns3::Seconds(m_preemptLength->GetValue());
    ns3::Simulator::Schedule(ns3::Seconds(m_preemptGap->GetValue()), &VpnReader::Preempt, this);
    if (!OnCpu())
    {
        return;
    }
    ++m_stats.preemptions;
    StallBegin(length);
}

void
VpnReader::StartApplication()
{
    m_socket = ns3::CreateObject<UnderlayEndpoint>();
    m_socket->Open(GetNode(), m_local, [this](ns3::Ptr<ns3::Packet> p) { HandleUnderlayRead(p); });
    for (const auto& [at, duration] : m_stalls)
    {
        ns3::Simulator::Schedule(at - ns3::Simulator::Now(), &VpnReader::StallBegin, this, duration);
    }
    if (m_preemptGap)
    {
        ns3::Simulator::Schedule(ns3::Seconds(m_preemptGap->GetValue()), &VpnReader::Preempt, this);
    }
    m_state = State::Sleeping; // about to read
    ReadLoop();
}

void
VpnReader::StopApplication()
{
    m_state = State::Idle;
    m_event.Cancel();
}

void
VpnReader::DoDispose()
{
    m_event.Cancel();
    m_tun = nullptr;
    m_hostCpu = nullptr;
    if (m_socket)
    {
        m_socket->Dispose();
    }
    m_socket = nullptr;
    m_account = nullptr;
    m_inHand.clear();
    ns3::Application::DoDispose();
}

void
VpnReader::ScheduleOnCpu(ns3::Time work, void (VpnReader::*fn)())
{
    ns3::Time now = ns3::Simulator::Now();
    if (m_hostCpu)
    {
        // the host's CPU: the work waits for whatever else it runs
        m_stats.busy += work;
        m_hostCpu->Submit(work, CpuWork::Reader, [this, fn]() { (this->*fn)(); });
        return;
    }
    ns3::Time start = std::max(now, m_cpuFreeAt);
    m_doneAt = start + work;
    m_cpuFreeAt = m_doneAt;
    m_stats.busy += work;
    m_event = ns3::Simulator::Schedule(m_doneAt - now, fn, this);
}

void
VpnReader::ChargeCpu(ns3::Time t)
{
    if (t.IsZero())
    {
        return;
    }
    m_stats.busy += t;
    m_stats.stolen += t;
    ns3::Time now = ns3::Simulator::Now();
    if (m_state == State::Running || m_state == State::Polling || m_state == State::Blocking ||
        m_state == State::Checking)
    {
        // The softirq interrupts the processing of the current packets (or the poll).
        m_doneAt += t;
        m_cpuFreeAt = m_doneAt;
        m_event.Cancel();
        m_event = ns3::Simulator::Schedule(m_doneAt - now,
                                           m_state == State::Running    ? &VpnReader::ProcessDone
                                           : m_state == State::Polling  ? &VpnReader::PollDone
                                           : m_state == State::Checking ? &VpnReader::CheckedEmpty
                                                                        : &VpnReader::PollBlock,
                                           this);
    }
    else
    {
        m_cpuFreeAt = std::max(now, m_cpuFreeAt) + t;
    }
}

void
VpnReader::ReadLoop()
{
    // One iteration of the VPN's main loop: read(tun_fd) [x batch].
    if (m_state == State::Idle)
    {
        return;
    }
    if (m_stalled)
    {
        m_state = State::Stalled;
        return;
    }
    if (!m_reverse.empty())
    {
        // The loop writes what came back before each read of the ring, as
        // the TCP twin's reader does (sim/kernel/forwarder.cc: WriteDue(),
        // then ReadSome() -- one read() -- and round again): the ACKs go
        // into tun0 as they come, between two reads of a run, not saved up
        // for the run's -EAGAIN.
        const ns3::Ptr<ns3::Packet>& p = m_reverse.front();
        m_state = State::Writing;
        const double ns = m_perPacket.GetNanoSeconds() + m_nsPerByte * p->GetSize();
        ScheduleOnCpu(ns3::NanoSeconds(static_cast<int64_t>(ns + 0.5)), &VpnReader::WriteDone);
        return;
    }
    if (m_loop == ReaderLoop::ReadUntilEmpty)
    {
        if (!TunRingRecv(m_batch))
        {
            RingFoundEmpty(m_readEmptyCost);
            return;
        }
        ProcessInHand();
        return;
    }
    // poll-each, batched: poll() first (tun_chr_poll()); an empty ring
    // sleeps in it until sk_data_ready(), as an empty read() does.
    if (m_tun->GetQueue(m_queue).Ring().Empty())
    {
        RingFoundEmpty(m_pollCost);
        return;
    }
    ++m_stats.polls;
    m_state = State::Polling;
    ScheduleOnCpu(m_pollCost, &VpnReader::PollDone);
}

bool
VpnReader::TunRingRecv(uint32_t max)
{
    m_inHand.clear();
    for (uint32_t i = 0; i < max; ++i)
    {
        ns3::Ptr<ns3::Packet> p = m_tun->TunRingConsume(m_queue);
        if (!p)
        {
            break;
        }
        m_inHand.push_back(p);
    }
    return !m_inHand.empty();
}

void
VpnReader::RingFoundEmpty(ns3::Time cost)
{
    // tun_do_read() -> tun_ring_recv() with O_NONBLOCK returning -EAGAIN
    // (read-until-empty), or do_sys_poll() with a zero timeout whose
    // tun_chr_poll() found nothing (poll-each, batched: the same path as a
    // poll() that finds data, PollCost): the syscall returns, then the loop
    // blocks in poll() -- as the kernel twin's reader does (ReadOne(),
    // PollThenRead() -> Empty() -> Sleep()). A packet produced meanwhile
    // finds the reader running (no wake-up); the blocking poll() sees it.
    if (!cost.IsStrictlyPositive())
    {
        SleepOnRing();
        return;
    }
    m_state = State::Checking;
    ScheduleOnCpu(cost, &VpnReader::CheckedEmpty);
}

ns3::Time
VpnReader::PollBlockTime() const
{
    return m_pollBlockCost.IsNegative() ? m_pollCost : m_pollBlockCost;
}

void
VpnReader::CheckedEmpty()
{
    if (m_state != State::Checking)
    {
        return;
    }
    if (!PollBlockTime().IsStrictlyPositive() && (!m_tun->GetQueue(m_queue).Ring().Empty() || !m_reverse.empty()))
    {
        // What came during the syscall: a poll() that costs nothing sees it
        // at once (with a cost, SleepOnRing()'s PollBlock() does).
        m_state = State::Sleeping; // between iterations; ReadLoop decides
        ReadLoop();
        return;
    }
    SleepOnRing();
}

void
VpnReader::SleepOnRing()
{
    // tun_ring_recv(): nothing there, go to sleep until sk_data_ready().
    // With a poll() cost the sleep is poll()'s (do_sys_poll() -> do_poll()):
    // tun_chr_poll() puts the reader on the socket's wait queue
    // (poll_wait()) and checks the ring; only then does poll_schedule_timeout()
    // call schedule(). A packet produced in between is seen without a
    // wake-up: pollwake() finds the task still running (PollBlock()).
    const ns3::Time block = PollBlockTime();
    m_state = block.IsStrictlyPositive() ? State::Blocking : State::Sleeping;
    ++m_stats.sleeps;
    m_sleepingSince = ns3::Simulator::Now();
    m_tun->TunRingWait(m_queue);
    if (m_state == State::Blocking)
    {
        ScheduleOnCpu(block, &VpnReader::PollBlock);
    }
}

void
VpnReader::PollBlock()
{
    // do_poll(): no event yet -> schedule(); an event that came during the
    // poll (pwq->triggered, or the ring check) -> return and read.
    if (m_state != State::Blocking)
    {
        return;
    }
    m_state = State::Sleeping;
    if (!m_tun->GetQueue(m_queue).Ring().Empty() || !m_reverse.empty())
    {
        ++m_stats.pollCatches;
        ReadLoop();
    }
}

void
VpnReader::PollDone()
{
    // poll() said readable: poll-each reads one packet, batched up to Batch
    // back to back. Only this reader consumes the ring, so it still has data.
    if (m_state == State::Idle)
    {
        return;
    }
    if (!TunRingRecv(m_loop == ReaderLoop::PollEach ? 1 : m_batch))
    {
        SleepOnRing();
        return;
    }
    ProcessInHand();
}

void
VpnReader::ProcessInHand()
{
    ++m_stats.reads;
    double ns = 0;
    const double floorNs = static_cast<double>(m_readCost.GetNanoSeconds());
    for (const auto& p : m_inHand)
    {
        ++m_stats.packetsRead;
        m_stats.bytesRead += p->GetSize();
        ns += std::max(m_perPacket.GetNanoSeconds() + m_nsPerByte * p->GetSize(), floorNs);
    }
    m_state = State::Running;
    ScheduleOnCpu(ns3::NanoSeconds(static_cast<int64_t>(ns + 0.5)), &VpnReader::ProcessDone);
}

void
VpnReader::ProcessDone()
{
    SendInHand();
}

void
VpnReader::SendInHand()
{
    // sendto(udp_fd, peer) for each encrypted packet.
    if (m_state == State::Idle)
    {
        return;
    }
    size_t sent = 0;
    for (; sent < m_inHand.size(); ++sent)
    {
        if (!m_account->MaySend())
        {
            // sock_alloc_send_pskb() sleeps until sk_write_space().
            m_inHand.erase(m_inHand.begin(), m_inHand.begin() + sent);
            m_state = State::Blocked;
            ++m_stats.sndbufBlocks;
            m_account->Block([this]() {
                m_event = ns3::Simulator::Schedule(m_wakeupDraw.Next(m_wakeupLatency), &VpnReader::SendInHand, this);
            });
            return;
        }
        ns3::Ptr<ns3::Packet> p = m_inHand[sent];
        p->AddHeader(VpnEncapHeader(m_encapOverhead));
        SocketAccountTable::Reown(p, *m_account, p->GetSize() + 28);
        m_socket->SendTo(p, m_peer);
    }
    m_inHand.clear();
    m_state = State::Sleeping; // between iterations; ReadLoop decides
    ReadLoop();
}

void
VpnReader::OnDataReady()
{
    // sk_data_ready() from tun_net_xmit(): wake the process if it sleeps.
    // In the poll() that has not blocked yet (Blocking) the wake-up finds it
    // running: that poll() returns with the data (PollBlock()).
    if (m_state != State::Sleeping)
    {
        return;
    }
    m_state = State::Waking;
    ns3::Time now = ns3::Simulator::Now();
    ++m_stats.wakeups;
    ns3::Time latency;
    if (!m_sleepBinFrom.empty())
    {
        // The host profile's wake-up for this sleep length (a few bins).
        const auto it = std::upper_bound(m_sleepBinFrom.begin(), m_sleepBinFrom.end(), now - m_sleepingSince);
        const size_t k = it == m_sleepBinFrom.begin() ? 0 : static_cast<size_t>(it - m_sleepBinFrom.begin()) - 1;
        latency = m_sleepBinDraw[k].Next(m_wakeupLatency);
        m_stats.deepWakeups += k > 0 ? 1 : 0;
    }
    else if (m_deepIdleAfter.IsStrictlyPositive() && now - m_sleepingSince >= m_deepIdleAfter)
    {
        // Slept long enough for the CPU to enter a deep idle state (or the
        // host to deschedule the vCPU): the wake-up is the slow one.
        latency = m_deepWakeupDraw.Next(m_deepWakeupLatency);
        ++m_stats.deepWakeups;
    }
    else
    {
        latency = m_wakeupDraw.Next(m_wakeupLatency);
    }
    if (m_hostCpu)
    {
        // runnable after the wake-up latency; it runs when its CPU is free
        m_event = ns3::Simulator::Schedule(latency, [this]() {
            m_hostCpu->Submit(ns3::Time(0), CpuWork::Reader, [this]() { Resume(); });
        });
        return;
    }
    ns3::Time at = std::max(now + latency, m_cpuFreeAt);
    m_event = ns3::Simulator::Schedule(at - now, &VpnReader::Resume, this);
}

void
VpnReader::Resume()
{
    if (m_state == State::Waking)
    {
        ReadLoop();
    }
}

void
VpnReader::StallBegin(ns3::Time duration)
{
    ++m_stalled;
    if (m_state == State::Sleeping || m_state == State::Waking)
    {
        m_event.Cancel();
        m_state = State::Stalled;
    }
    ns3::Simulator::Schedule(duration, &VpnReader::StallEnd, this);
}

void
VpnReader::StallEnd()
{
    --m_stalled;
    if (m_stalled == 0 && m_state == State::Stalled)
    {
        ReadLoop();
    }
}

void
VpnReader::HandleUnderlayRead(ns3::Ptr<ns3::Packet> p)
{
    // The reverse direction arrives on udp_fd: it waits for the loop, and
    // wakes a reader asleep in its poll() like sk_data_ready() of tun.
    VpnEncapHeader encap(m_encapOverhead);
    p->RemoveHeader(encap);
    m_reverse.push_back(p);
    OnDataReady();
}

ns3::Ptr<ns3::Packet>
TakeReverseForWrite(std::deque<ns3::Ptr<ns3::Packet>>& waiting,
                    uint64_t& written,
                    const std::function<void(ns3::Ptr<const ns3::Packet>)>& delivered)
{
    ns3::Ptr<ns3::Packet> p = waiting.front();
    waiting.pop_front();
    ++written;
    if (delivered)
    {
        delivered(p);
    }
    return p;
}

void
VpnReader::WriteDone()
{
    // write(tun_fd): tun_get_user() -> netif_rx; the stack (TCP's ACK
    // processing, its next transmits) runs now, inside this write().
    if (m_state == State::Idle)
    {
        return;
    }
    ns3::Ptr<ns3::Packet> p = TakeReverseForWrite(m_reverse, m_stats.reversePackets, m_reverseDelivered);
    const uint64_t xmitsBefore = m_tun->GetStats().xmitCalls;
    if (m_hostCpu && m_ackOnSenderCpu)
    {
        // the socket's backlog: what the ACK releases is the sender's work
        HostCpu::ContextScope backlog(nullptr);
        m_tun->TunGetUser(p);
    }
    else
    {
        m_tun->TunGetUser(p); // still Writing: an sk_data_ready() now finds it awake
    }
    const uint64_t xmits = m_tun->GetStats().xmitCalls - xmitsBefore;
    // The write() itself: the receive path and what the stack transmits
    // inside it run on this thread before write() returns. Simplification:
    // the stack runs at the start of that time (ns-3 is synchronous), so the
    // transmits it triggers reach the ring up to WriteCost + n * WriteXmitCost
    // earlier than in Linux; the reader is busy for the whole of it.
    const ns3::Time cost = m_writeCost + m_writeXmitCost * static_cast<int64_t>(xmits);
    if (cost.IsStrictlyPositive())
    {
        m_stats.writeBusy += cost;
        ScheduleOnCpu(cost, &VpnReader::WriteReturned);
        return;
    }
    WriteReturned();
}

void
VpnReader::WriteReturned()
{
    // write(tun_fd) returned: the loop goes on.
    if (m_state == State::Idle)
    {
        return;
    }
    m_state = State::Sleeping; // between iterations; ReadLoop decides
    ReadLoop();
}

} // namespace tunsim
