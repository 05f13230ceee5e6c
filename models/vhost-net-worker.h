// VhostNetWorker: the vhost-net kernel worker serving a virtio-net guest
// from a tap device (qemu ... -netdev tap,vhost=on -device virtio-net-pci).
//
// drivers/vhost/net.c, handle_rx():
//   * vhost_net_rx_peek_head_len() -> vhost_net_buf_produce(): when its own
//     buffer (rxq) is empty, the worker takes up to VHOST_NET_BATCH (64)
//     entries at once from the tap's ptr_ring (ptr_ring_consume_batched()
//     via tun's helpers); with the backpressure series each entry goes
//     through __tun_ring_consume(), so the tun policy's AfterConsume hook
//     runs per entry and may wake the tun queue inside the batch (v8 cover
//     letter: "Batched consume now just calls __tun_ring_consume() in a
//     loop");
//   * get_rx_bufs(): the next guest buffer; none free (headcount 0) ->
//     vhost_enable_notify() and stop: the frames stay in rxq, nothing is
//     dropped, and the worker runs again when the guest kicks the
//     virtqueue after refilling (handle_rx_kick());
//   * tun_recvmsg() -> tun_put_user(): copy the frame into the guest buffer
//     (FrameCost + NsPerByte * bytes);
//   * nvq->done_idx += 1; when done_idx > VHOST_NET_BATCH,
//     vhost_net_signal_used(): publish the used entries and signal the
//     guest; the same at the end of handle_rx() (out:);
//   * vhost_exceeds_weight(): after VHOST_NET_PKT_WEIGHT (256) frames or
//     VHOST_NET_WEIGHT (0x80000) bytes the work is requeued (here: signal
//     and go round the loop, where the guest's transmits come first);
//   * the tap ring empty -> vhost_net_enable_vq(): sleep until the tap
//     socket's sk_data_ready() (vhost_poll_wakeup()).
// With offloads (the virtio-net guest's GUEST_TSO4/6 -> TUNSETOFFLOAD) an
// entry is a whole GSO skb: get_rx_bufs() gathers as many mergeable buffers
// as its length needs (headcount; none enough -> stop as above),
// tun_recvmsg() copies all of it (NsPerByte x its bytes), and
// done_idx grows by headcount (one used entry per buffer).
// handle_tx() (the guest's transmits, TCP's ACKs) runs on the same worker:
// TxCost per frame, then tun_sendmsg() -> tun_get_user().
// Simplifications: no busy polling (vhost_net_busy_poll), no mergeable
// buffers (one buffer per frame), no zero-copy, no XDP batching of
// tun_sendmsg().
#pragma once

#include "vm-backend.h"

#include <deque>

namespace tunsim
{

class VhostNetWorker : public VmBackend
{
  public:
    static ns3::TypeId GetTypeId();
    VhostNetWorker() = default;

    /// VHOST_NET_BATCH
    static constexpr uint32_t kBatch = 64;
    /// VHOST_NET_PKT_WEIGHT and VHOST_NET_WEIGHT
    static constexpr uint32_t kPktWeight = 256;
    static constexpr uint64_t kByteWeight = 0x80000;

    uint32_t InHand() const override { return m_rxqSegments; }
    /// Batches taken from the ring (vhost_net_buf_produce() calls that got entries).
    uint64_t Batches() const { return m_batches; }
    /// vhost_net_signal_used() calls that signalled the guest.
    uint64_t Signals() const { return m_signals; }

  private:
    void ForwardStep() override;
    /// vhost_net_buf_produce(): up to kBatch entries into rxq; how many.
    uint32_t BufProduce();
    /// tun_put_user() done: the frame is in the guest's buffer.
    void CopyDone();
    /// vhost_net_signal_used()
    void SignalUsed();

    std::deque<VmFrame> m_rxq; ///< struct vhost_net_buf
    uint32_t m_rxqSegments = 0; ///< segments in m_rxq (frames without offloads)
    uint32_t m_doneIdx = 0;                  ///< nvq->done_idx
    uint32_t m_weightPkts = 0;
    uint64_t m_weightBytes = 0;
    uint64_t m_batches = 0;
    uint64_t m_signals = 0;
};

} // namespace tunsim
