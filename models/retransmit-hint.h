// RetransmitHint: RFC 6675 NextSeg() rules (1) and (3) over ns-3.37's
// TcpTxBuffer sent list in amortised O(1), with the answers NextSeg() gives.
//
// TcpTxBuffer::NextSeg() walks the whole sent list for every segment it
// offers: rule (1) wants the first segment neither retransmitted nor SACKed
// that is marked lost, rule (3) (in recovery) the first one neither
// retransmitted nor SACKed. In a SACK recovery with thousands of segments in
// flight (a 5000-entry tun ring overflowing) that walk was 35 % of a bulk TCP
// run. Linux keeps hints instead of walking: tcp_xmit_retransmit_queue()
// (net/ipv4/tcp_output.c) starts from tp->retransmit_skb_hint, and
// tcp_mark_head_lost() (net/ipv4/tcp_input.c, up to 5.x) from
// tp->lost_skb_hint. This class keeps three such positions in the sent list
// (a "candidate" is a segment neither retransmitted nor SACKed):
//
//   c  no candidate before c            (rule 3 is the first candidate >= c)
//   l  no lost candidate before l       (rule 1 is the first lost one >= l)
//   f  no lost candidate at or after f  (l never needs to pass f)
//
// and moves them forward only, so that each segment is passed a bounded
// number of times. Why they stay true between two questions, given what
// ns-3.37 does to the list (tcp-tx-buffer.cc):
//
//  - Flags that make a segment a candidate again are cleared only on the
//    head (MarkHeadAsLost(), DeleteRetransmittedFlagFromHead(), the SACKed
//    head in DiscardUpTo()) -- Sync() restarts when the head became a
//    candidate behind c -- or by SetSentListLost()/ResetRenoSack() (the RTO:
//    Forget()) and MergeItems() (inside a retransmission: AfterSend()).
//  - New lost marks come from UpdateLostCount(), which marks every unSACKed
//    segment below a point, and from MarkHeadAsLost() (the head). So if a
//    candidate X was newly marked lost, the first candidate c' <= X was
//    marked lost too (it is unSACKed and below the same point; a lost mark is
//    cleared only by a SACK, which ends candidacy). Hence: if c' is not lost,
//    no candidate became lost since the last question and l and f hold; if
//    c' is lost it is the answer, and f is checked the same way with the
//    first candidate at or after it (the marks reach up to the first unlost
//    candidate and no further).
//  - Segments leave the list at the front only (DiscardUpTo()), except in
//    a retransmission that splits or merges segments and a refused new
//    segment taken back (ResetLastSegmentSent()); sends are bracketed by
//    BeforeSend()/AfterSend(), which restart on anything but one whole
//    segment appended or one whole segment retransmitted in place.
//
// A restart puts all three at the front: one walk, as NextSeg() does each
// time. LinuxTcpSocket's CheckNextSeg attribute asks NextSeg() beside every
// answer and aborts on a difference (tests/test_write_pass.cc).
#pragma once

#include "ns3/sequence-number.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>

namespace ns3
{
class TcpTxBuffer;
class TcpTxItem;
} // namespace ns3

namespace tunsim
{

class RetransmitHint
{
  public:
    RetransmitHint() = default;
    /// A forked socket has a buffer of its own: it starts without hints.
    RetransmitHint(const RetransmitHint&) {}
    RetransmitHint& operator=(const RetransmitHint&) = delete;

    struct Answer
    {
        bool lost = false;            ///< rule (1) has a segment
        ns3::SequenceNumber32 lostSeq; ///< its first byte
        bool unsacked = false;        ///< a candidate exists (rule 3's segment)
        ns3::SequenceNumber32 unsackedSeq;
    };
    /// Rules (1) and (3) of TcpTxBuffer::NextSeg() for `buf` now.
    Answer Query(ns3::TcpTxBuffer& buf);
    /// Before TcpSocketBase::SendDataPacket(seq, ...); highTx = m_highTxMark.
    void BeforeSend(ns3::TcpTxBuffer& buf, ns3::SequenceNumber32 seq, ns3::SequenceNumber32 highTx);
    /// After it (and after a refused segment was taken back); sz: its result.
    void AfterSend(ns3::TcpTxBuffer& buf, ns3::SequenceNumber32 seq, uint32_t sz);
    /// Every flag may have changed (RTO: SetSentListLost(), ResetRenoSack()).
    void Forget() { m_valid = false; }
    /// Segments the hints passed, and restarts (for the benchmark's curiosity and tests).
    uint64_t Steps() const { return m_steps; }
    uint64_t Restarts() const { return m_restarts; }

  private:
    using List = std::list<ns3::TcpTxItem*>;
    using It = List::iterator;
    void Restart(ns3::TcpTxBuffer& buf);
    void Sync(ns3::TcpTxBuffer& buf);
    /// a before b in the list (positions with their start sequences; end last)
    bool Before(It a, ns3::SequenceNumber32 aSeq, It b, ns3::SequenceNumber32 bSeq) const;

    ns3::TcpTxBuffer* m_buf = nullptr;
    List* m_list = nullptr;
    bool m_valid = false;
    It m_c;
    It m_l;
    It m_f;
    ns3::SequenceNumber32 m_cSeq; ///< start of *m_c (when not end), likewise:
    ns3::SequenceNumber32 m_lSeq;
    ns3::SequenceNumber32 m_fSeq;
    ns3::SequenceNumber32 m_head; ///< snd_una when last seen
    // the send in progress
    std::size_t m_sizeBefore = 0;
    bool m_sendNew = false;
    bool m_sendKnown = false; ///< the retransmitted segment is m_sendIt
    It m_sendIt;
    uint32_t m_sendItSize = 0;
    uint64_t m_steps = 0;
    uint64_t m_restarts = 0;
};

} // namespace tunsim
