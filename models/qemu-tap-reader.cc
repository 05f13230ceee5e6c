#include "qemu-tap-reader.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(QemuTapReader);

ns3::TypeId
QemuTapReader::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::QemuTapReader")
                                 .SetParent<VmBackend>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<QemuTapReader>();
    return tid;
}

void
QemuTapReader::ForwardStep()
{
    if (!m_inHand.head)
    {
        // tap_send(): only while the NIC can receive (qemu_can_send_packet()).
        if (m_guest->Free() == 0)
        {
            StopOnGuestFull(); // tap_read_poll(s, false)
            return;
        }
        // tap_read_packet(): one read(), one ring entry (tun_do_read()).
        m_inHand = TakeFrame();
        if (!m_inHand.head)
        {
            SleepOnRing(); // back in ppoll() on the tap fd
            return;
        }
        ++m_stats.reads;
    }
    if (m_guest->Free() < BuffersOf(m_inHand))
    {
        // virtio_net_receive(): !virtio_net_has_buffers() for a GSO frame:
        // it stays queued in QEMU until the guest refills.
        StopOnGuestFull();
        return;
    }
    RunOnCpu(FrameCost(m_inHand), static_cast<void (VmBackend::*)()>(&QemuTapReader::ReceiveDone));
}

void
QemuTapReader::ReceiveDone()
{
    if (m_state == State::Idle)
    {
        return;
    }
    // e1000_receive_iov() / virtio_net_receive(): DMA into the guest's
    // buffer(s), write-back, interrupt (set_ics(E1000_ICR_RXT0) /
    // virtio_notify()).
    m_guest->Put(std::move(m_inHand));
    m_inHand = VmFrame{};
    m_guest->Publish();
    m_guest->Signal();
    Loop();
}

} // namespace tunsim
