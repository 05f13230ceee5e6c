#include "vm-backend.h"

#include "ns3/double.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(VmBackend);

VmPreset
VmPresetFor(ConsumerKind kind, VmNic nic)
{
    // Where the numbers come from (docs/model.md, "Virtual machines"):
    //   qemu + e1000: the one figure taken from a measurement. The authors'
    //     own run (tudo-cni/nodrop validation_tools/qemu/benchmarks/tap/
    //     default_1000packets_0ms.json: mainline, txqueuelen 1000, no delay)
    //     received 2194 Mbit/s of TCP payload, 1448 B per segment: 5.28 us
    //     of QEMU per data frame, one guest ACK per two frames included.
    //     Split as receive = transmit (both are one e1000 descriptor, one
    //     DMA, one tap syscall and the register exits around them):
    //     3.52 + 3.52 / 2 = 5.28 us.
    //   qemu + virtio-net and vhost-net: no measurement of the authors'
    //     set-up at MTU-sized frames exists (their vhost-net runs move 64 KB
    //     GSO frames); these are set-up parameters, not fitted to anything:
    //     QEMU's virtio-net without vhost needs no exit per descriptor
    //     (2 us a frame either way); vhost-net copies the frame in the
    //     kernel (tun_put_user() -> copy_to_iter(): 300 ns + 0.1 ns/B) and
    //     takes 500 ns per guest transmit (handle_tx() -> tun_sendmsg()).
    //   refill: e1000 gives buffers back every E1000_RX_BUFFER_WRITE (16);
    //     virtio-net's virtnet_receive() refills once per NAPI poll (64).
    switch (kind)
    {
    case ConsumerKind::Vpn:
        return VmPreset{};
    case ConsumerKind::Qemu:
        return nic == VmNic::E1000 ? VmPreset{3520, 0, 3520, 16} : VmPreset{2000, 0, 2000, 64};
    case ConsumerKind::VhostNet:
        return VmPreset{300, 0.1, 500, 64};
    }
    return VmPreset{};
}

bool
VmOffloadsOn(ConsumerKind kind, VmNic nic, VmOffloads offloads)
{
    switch (offloads)
    {
    case VmOffloads::On:
        return true;
    case VmOffloads::Off:
        return false;
    case VmOffloads::Auto:
        break;
    }
    return kind == ConsumerKind::VhostNet || (kind == ConsumerKind::Qemu && nic == VmNic::VirtioNet);
}

ns3::TypeId
VmBackend::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::VmBackend")
            .SetParent<ns3::Application>()
            .SetGroupName("Tunsim")
            .AddAttribute("FrameCost", "CPU per frame taken from the tap ring and written into the guest",
                          ns3::TimeValue(ns3::NanoSeconds(1000)), ns3::MakeTimeAccessor(&VmBackend::m_frameCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("NsPerByte", "CPU per byte of such a frame, in ns", ns3::DoubleValue(0.0),
                          ns3::MakeDoubleAccessor(&VmBackend::m_nsPerByte), ns3::MakeDoubleChecker<double>(0.0))
            .AddAttribute("TxCost", "CPU per frame the guest transmits, written into the tap",
                          ns3::TimeValue(ns3::NanoSeconds(1000)), ns3::MakeTimeAccessor(&VmBackend::m_txCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("WakeupLatency", "From a wake-up (sk_data_ready, kick) until the thread runs",
                          ns3::TimeValue(ns3::MicroSeconds(5)), ns3::MakeTimeAccessor(&VmBackend::m_wakeupLatency),
                          ns3::MakeTimeChecker(ns3::Time(0)));
    return tid;
}

void
VmBackend::Setup(ns3::Ptr<TunNetDevice> tap,
                 uint32_t queue,
                 ns3::InetSocketAddress local,
                 ns3::InetSocketAddress guestStack,
                 ns3::Ptr<GuestRxQueue> guest)
{
    m_tap = tap;
    m_queue = queue;
    m_local = local;
    m_guestStack = guestStack;
    m_guest = guest;
    m_tap->AttachReader(queue, [this]() { OnDataReady(); });
    m_guest->SetDeliver([this](ns3::Ptr<ns3::Packet> f) { DeliverToGuestStack(f); });
    m_guest->SetRefillCallback([this]() { OnGuestRefill(); });
}

void
VmBackend::AddStall(ns3::Time at, ns3::Time duration)
{
    m_stalls.emplace_back(at, duration);
}

void
VmBackend::SetPreemption(ns3::Time interval, ns3::Time duration, int64_t stream)
{
    MakePreemptionDraws(interval, duration, stream, m_preemptGap, m_preemptLength);
}

void
VmBackend::Preempt()
{
    ++m_stats.preemptions;
    LoseCpu(ns3::Seconds(m_preemptLength->GetValue()));
    ns3::Simulator::Schedule(ns3::Seconds(m_preemptGap->GetValue()), &VmBackend::Preempt, this);
}

void
VmBackend::LoseCpu(ns3::Time d)
{
    const ns3::Time now = ns3::Simulator::Now();
    const ns3::Time until = now + d;
    if (until <= m_offCpuUntil)
    {
        return; // already off the CPU at least that long
    }
    const ns3::Time extra = until - std::max(now, m_offCpuUntil);
    m_offCpuUntil = until;
    if ((m_state == State::Running || m_state == State::Waking) && m_event.IsRunning())
    {
        // The work (or the wake-up) in progress resumes when the thread
        // gets its CPU back: it ends `extra` later.
        m_event.Cancel();
        ScheduleDone(m_doneAt + extra, m_doneFn);
    }
    // Sleeping / GuestFull: a wake-up meanwhile waits for the CPU (Wake()).
}

void
VmBackend::ScheduleDone(ns3::Time at, void (VmBackend::*fn)())
{
    m_doneFn = fn;
    m_doneAt = at;
    m_event = ns3::Simulator::Schedule(at - ns3::Simulator::Now(), fn, this);
}

void
VmBackend::StartApplication()
{
    m_socket = ns3::CreateObject<UnderlayEndpoint>();
    m_socket->Open(GetNode(), m_local, [this](ns3::Ptr<ns3::Packet> p) { HandleGuestTx(p); });
    m_guest->Open();
    for (const auto& [at, duration] : m_stalls)
    {
        ns3::Simulator::Schedule(at - ns3::Simulator::Now(), &VmBackend::LoseCpu, this, duration);
    }
    if (m_preemptGap)
    {
        ns3::Simulator::Schedule(ns3::Seconds(m_preemptGap->GetValue()), &VmBackend::Preempt, this);
    }
    m_state = State::Sleeping;
    Loop();
}

void
VmBackend::StopApplication()
{
    m_state = State::Idle;
    m_event.Cancel();
}

void
VmBackend::DoDispose()
{
    m_event.Cancel();
    m_tap = nullptr;
    if (m_socket)
    {
        m_socket->Dispose();
    }
    m_socket = nullptr;
    if (m_guest)
    {
        m_guest->Dispose();
    }
    m_guest = nullptr;
    m_reverse.clear();
    ns3::Application::DoDispose();
}

ns3::Time
VmBackend::FrameCost(const VmFrame& f) const
{
    return m_frameCost + ns3::NanoSeconds(static_cast<int64_t>(m_nsPerByte * f.Bytes() + 0.5));
}

VmFrame
VmBackend::TakeFrame()
{
    // tun_do_read() / tun_recvmsg(): one ring entry; with IFF_VNET_HDR and
    // offloads a GSO skb comes whole (tun_put_user() writes its
    // virtio_net_hdr in front).
    VmFrame f;
    f.head = m_tap->TunRingConsume(m_queue, &f.rest);
    if (f.head)
    {
        ++m_stats.packetsRead;
        m_stats.bytesRead += f.Bytes();
    }
    return f;
}

void
VmBackend::RunOnCpu(ns3::Time work, void (VmBackend::*done)())
{
    m_state = State::Running;
    m_stats.busy += work;
    ScheduleDone(std::max(ns3::Simulator::Now(), m_offCpuUntil) + work, done);
}

void
VmBackend::Loop()
{
    if (m_state == State::Idle)
    {
        return;
    }
    if (!m_reverse.empty())
    {
        // The guest's transmit (e1000 start_xmit() in QEMU / vhost-net
        // handle_tx()): one frame, then tun_get_user().
        RunOnCpu(m_txCost, &VmBackend::WriteDone);
        return;
    }
    ForwardStep();
}

void
VmBackend::WriteDone()
{
    if (m_state == State::Idle)
    {
        return;
    }
    ns3::Ptr<ns3::Packet> p = TakeReverseForWrite(m_reverse, m_stats.reversePackets, m_reverseDelivered);
    m_tap->TunGetUser(p); // the host stack (the sender's ACK processing) runs now
    Loop();
}

void
VmBackend::SleepOnRing()
{
    m_state = State::Sleeping;
    ++m_stats.sleeps;
    m_tap->TunRingWait(m_queue);
}

void
VmBackend::StopOnGuestFull()
{
    m_state = State::GuestFull;
    ++m_stats.sndbufBlocks;
}

void
VmBackend::Wake()
{
    m_state = State::Waking;
    ++m_stats.wakeups;
    // The wake-up latency, or until the thread has a CPU again.
    ScheduleDone(std::max(ns3::Simulator::Now() + m_wakeupLatency, m_offCpuUntil), &VmBackend::Resume);
}

void
VmBackend::Resume()
{
    if (m_state == State::Waking)
    {
        Loop();
    }
}

void
VmBackend::OnDataReady()
{
    // sk_data_ready() of the tap's socket: QEMU's ppoll() returns / the
    // vhost poll queues handle_rx work.
    if (m_state == State::Sleeping)
    {
        Wake();
    }
}

void
VmBackend::OnGuestRefill()
{
    // The guest gave buffers back: e1000 RDT write -> qemu_flush_queued_packets()
    // re-enables the tap fd; virtqueue kick -> handle_rx_kick().
    if (m_state == State::GuestFull)
    {
        Wake();
    }
}

void
VmBackend::HandleGuestTx(ns3::Ptr<ns3::Packet> p)
{
    // A frame the guest's stack sent (its ACKs): the guest notified the
    // device (TDT write / tx virtqueue kick).
    m_reverse.push_back(p);
    if (m_state == State::Sleeping || m_state == State::GuestFull)
    {
        Wake();
    }
}

void
VmBackend::DeliverToGuestStack(ns3::Ptr<ns3::Packet> frame)
{
    m_socket->SendTo(frame, m_guestStack);
}

} // namespace tunsim
