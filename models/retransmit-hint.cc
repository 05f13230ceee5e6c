// RetransmitHint: see retransmit-hint.h.
#include "retransmit-hint.h"

#include "ns3/tcp-tx-buffer.h"
#include "ns3/tcp-tx-item.h"

namespace tunsim
{
namespace
{

// ns-3.37 keeps the sent list and three of a segment's flags private to
// TcpTxBuffer (no accessor; the project uses Debian's ns-3 as it is). They
// are read here, and only read, through the standard rule that access is not
// checked in the template arguments of an explicit instantiation
// ([temp.spec] / [temp.explicit]): Member<Tag, &X::m> hands out &X::m.
template <typename Tag, typename Tag::type M>
struct Member
{
    friend typename Tag::type Pointer(Tag) { return M; }
};

struct SentList
{
    using type = std::list<ns3::TcpTxItem*> ns3::TcpTxBuffer::*;
    friend type Pointer(SentList);
};
struct ItemLost
{
    using type = bool ns3::TcpTxItem::*;
    friend type Pointer(ItemLost);
};
struct ItemSacked
{
    using type = bool ns3::TcpTxItem::*;
    friend type Pointer(ItemSacked);
};
struct ItemStart
{
    using type = ns3::SequenceNumber32 ns3::TcpTxItem::*;
    friend type Pointer(ItemStart);
};

template struct Member<SentList, &ns3::TcpTxBuffer::m_sentList>;
template struct Member<ItemLost, &ns3::TcpTxItem::m_lost>;
template struct Member<ItemSacked, &ns3::TcpTxItem::m_sacked>;
template struct Member<ItemStart, &ns3::TcpTxItem::m_startSeq>;

/// neither retransmitted nor SACKed: what NextSeg() rules (1) and (3) look at
bool
Candidate(const ns3::TcpTxItem* item)
{
    return !item->m_retrans && !(item->*Pointer(ItemSacked{}));
}

bool
Lost(const ns3::TcpTxItem* item)
{
    return item->*Pointer(ItemLost{});
}

ns3::SequenceNumber32
Start(const ns3::TcpTxItem* item)
{
    return item->*Pointer(ItemStart{});
}

} // namespace

bool
RetransmitHint::Before(It a, ns3::SequenceNumber32 aSeq, It b, ns3::SequenceNumber32 bSeq) const
{
    const It end = m_list->end();
    return a != end && (b == end || aSeq < bSeq);
}

void
RetransmitHint::Restart(ns3::TcpTxBuffer& buf)
{
    m_buf = &buf;
    m_list = &(buf.*Pointer(SentList{}));
    m_valid = true;
    m_head = buf.HeadSequence();
    m_c = m_l = m_list->begin();
    m_f = m_list->end();
    m_cSeq = m_lSeq = m_head;
    ++m_restarts;
}

void
RetransmitHint::Sync(ns3::TcpTxBuffer& buf)
{
    if (!m_valid || m_buf != &buf)
    {
        Restart(buf);
        return;
    }
    const ns3::SequenceNumber32 head = buf.HeadSequence();
    if (head != m_head)
    {
        // DiscardUpTo(): the segments below the new head are gone (a
        // partly acked one was cut at its front); a position there moves to
        // the new front, which keeps what it claims.
        const It end = m_list->end();
        if (m_c != end && m_cSeq < head)
        {
            m_c = m_list->begin();
            m_cSeq = head;
        }
        if (m_l != end && m_lSeq < head)
        {
            m_l = m_list->begin();
            m_lSeq = head;
        }
        if (m_f != end && m_fSeq < head)
        {
            m_f = m_list->begin();
            m_fSeq = head;
        }
        m_head = head;
    }
    const It begin = m_list->begin();
    if (begin != m_list->end() && m_c != begin && Candidate(*begin))
    {
        // The head is a candidate again: MarkHeadAsLost() or
        // DeleteRetransmittedFlagFromHead() cleared a flag on it (nothing
        // else changed behind c). Lost, it is the first lost candidate.
        m_c = begin;
        m_cSeq = head;
        if (Lost(*begin))
        {
            m_l = begin;
            m_lSeq = head;
            if (m_f == begin)
            {
                m_f = std::next(begin);
                m_fSeq = m_f != m_list->end() ? Start(*m_f) : head;
            }
        }
    }
}

RetransmitHint::Answer
RetransmitHint::Query(ns3::TcpTxBuffer& buf)
{
    Sync(buf);
    const It end = m_list->end();
    while (m_c != end && !Candidate(*m_c))
    {
        ++m_c;
        ++m_steps;
    }
    Answer a;
    if (m_c == end)
    {
        m_l = m_f = end; // no candidate at all
        return a;
    }
    m_cSeq = Start(*m_c);
    a.unsacked = true;
    a.unsackedSeq = m_cSeq;
    if (Before(m_l, m_lSeq, m_c, m_cSeq))
    {
        m_l = m_c;
        m_lSeq = m_cSeq;
    }
    if (Before(m_f, m_fSeq, m_c, m_cSeq))
    {
        m_f = m_c;
        m_fSeq = m_cSeq;
    }
    if (Lost(*m_c))
    {
        // Lost marks may be new: they reach from the front up to a point,
        // every unSACKed segment below it. l restarts at c; f holds if the
        // first candidate at or after it is not lost, else it moves past
        // the marked ones to the first unlost candidate.
        m_l = m_c;
        m_lSeq = m_cSeq;
        while (m_f != end && (!Candidate(*m_f) || Lost(*m_f)))
        {
            ++m_f;
            ++m_steps;
        }
        if (m_f != end)
        {
            m_fSeq = Start(*m_f);
        }
    }
    else if (Before(m_f, m_fSeq, m_l, m_lSeq))
    {
        m_l = m_f; // no lost candidate before l nor at or after f: none at all
        m_lSeq = m_fSeq;
    }
    // rule (1): the first lost candidate in [l, f)
    const It from = m_l;
    const ns3::SequenceNumber32 fromSeq = m_lSeq;
    while (m_l != m_f && !(Candidate(*m_l) && Lost(*m_l)))
    {
        ++m_l;
        ++m_steps;
    }
    if (m_l == m_f)
    {
        // none in [from, f), none at or after f: f can start where the
        // search started (and l with it: none before it either)
        m_l = m_f = from;
        m_lSeq = m_fSeq = fromSeq;
        return a;
    }
    m_lSeq = Start(*m_l);
    a.lost = true;
    a.lostSeq = m_lSeq;
    return a;
}

void
RetransmitHint::BeforeSend(ns3::TcpTxBuffer& buf, ns3::SequenceNumber32 seq, ns3::SequenceNumber32 highTx)
{
    Sync(buf);
    m_sizeBefore = m_list->size();
    m_sendNew = seq >= highTx;
    m_sendKnown = false;
    if (m_sendNew || m_list->empty())
    {
        return;
    }
    // a retransmission: of which segment (by its start) -- the head, the
    // answer to rule (1) or rule (3), or one this class does not know of
    if (seq == m_head)
    {
        m_sendIt = m_list->begin();
        m_sendKnown = true;
    }
    else
    {
        const Answer a = Query(buf);
        if (a.lost && a.lostSeq == seq)
        {
            m_sendIt = m_l;
            m_sendKnown = true;
        }
        else if (a.unsacked && a.unsackedSeq == seq)
        {
            m_sendIt = m_c;
            m_sendKnown = true;
        }
    }
    if (m_sendKnown)
    {
        m_sendItSize = (*m_sendIt)->GetSeqSize();
    }
}

void
RetransmitHint::AfterSend(ns3::TcpTxBuffer& buf, ns3::SequenceNumber32 seq, uint32_t sz)
{
    if (!m_valid || m_buf != &buf)
    {
        return;
    }
    const std::size_t size = m_list->size();
    if (m_sendNew)
    {
        // GetNewSegment() appended one segment (or it was refused and taken
        // back by ResetLastSegmentSent()): not lost, so l and f hold; it is
        // a candidate, so c moves to it if no candidate was left.
        if (size == m_sizeBefore + 1 && Start(m_list->back()) == seq && !Lost(m_list->back()))
        {
            if (m_c == m_list->end())
            {
                m_c = std::prev(m_list->end());
                m_cSeq = seq;
            }
            return;
        }
        if (size == m_sizeBefore)
        {
            return;
        }
        Forget();
        return;
    }
    // A retransmission of one whole segment in place changes only its
    // retransmitted flag (set: no longer a candidate; cleared again when
    // refused at the head: Sync() sees it). A split or a merge
    // (GetPacketFromList()) may have removed a segment a position points at.
    if (!m_sendKnown || size != m_sizeBefore || Start(*m_sendIt) != seq ||
        (*m_sendIt)->GetSeqSize() != m_sendItSize || (sz != 0 && sz != m_sendItSize))
    {
        Forget();
    }
}

} // namespace tunsim
