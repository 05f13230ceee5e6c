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
    // tap_send(): only while the NIC can receive (qemu_can_send_packet()).
    if (m_guest->Free() == 0)
    {
        StopOnGuestFull(); // tap_read_poll(s, false)
        return;
    }
    // tap_read_packet(): one read(), one ring entry (tun_do_read()).
    ns3::Ptr<ns3::Packet> p = m_tap->TunRingConsume(m_queue);
    if (!p)
    {
        SleepOnRing(); // back in ppoll() on the tap fd
        return;
    }
    ++m_stats.reads;
    ++m_stats.packetsRead;
    m_stats.bytesRead += p->GetSize();
    m_inHand = p;
    RunOnCpu(FrameCost(p), static_cast<void (VmBackend::*)()>(&QemuTapReader::ReceiveDone));
}

void
QemuTapReader::ReceiveDone()
{
    if (m_state == State::Idle)
    {
        return;
    }
    // e1000_receive_iov(): DMA into the descriptor's buffer, write-back,
    // set_ics(E1000_ICR_RXT0).
    m_guest->Put(m_inHand);
    m_inHand = nullptr;
    m_guest->Publish();
    m_guest->Signal();
    Loop();
}

} // namespace tunsim
