// RetransmitHint (models/retransmit-hint.*) answers RFC 6675 NextSeg() rules
// (1) and (3) without walking ns-3.37's sent list. These tests drive a real
// ns3::TcpTxBuffer as TcpSocketBase does -- new segments and retransmissions
// chosen by NextSeg() itself, SACK blocks and cumulative ACKs from a receiver
// behind a lossy, reordering path, RTOs (SetSentListLost()), the head marked
// lost or its retransmission flag cleared (RACK), retransmissions that split
// or merge segments -- and compare the hint with NextSeg() after every step.
#include "retransmit-hint.h"

#include "ns3/callback.h"
#include "ns3/packet.h"
#include "ns3/tcp-option-sack.h"
#include "ns3/tcp-tx-buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>

using ns3::SequenceNumber32;
using tunsim::RetransmitHint;

namespace
{

constexpr uint32_t kMss = 1000;

uint32_t
BigWindow()
{
    return 1u << 30;
}

class Sender
{
  public:
    Sender(uint32_t segments, uint32_t seed)
        : m_rng(seed)
    {
        m_buf = ns3::CreateObject<ns3::TcpTxBuffer>(1);
        m_buf->SetMaxBufferSize(segments * kMss);
        m_buf->SetSegmentSize(kMss);
        m_buf->SetDupAckThresh(3);
        m_buf->SetRWndCallback(ns3::MakeCallback(&BigWindow));
        m_buf->Add(ns3::Create<ns3::Packet>(segments * kMss));
        m_high = SequenceNumber32(1);
    }

    /// NextSeg() against the hint, for both values of isRecovery.
    void Compare()
    {
        for (const bool rule3 : {false, true})
        {
            SequenceNumber32 s;
            SequenceNumber32 h;
            const bool r = m_buf->NextSeg(&s, &h, rule3);
            const RetransmitHint::Answer a = m_hint.Query(*m_buf);
            const SequenceNumber32 sentEnd = m_buf->HeadSequence() + SentSize();
            ++m_compared;
            if (a.lost)
            {
                ASSERT_TRUE(r);
                ASSERT_EQ(s, a.lostSeq) << "rule 1, step " << m_step;
                ++m_rule1;
            }
            else if (m_buf->SizeFromSequence(sentEnd) > 0)
            {
                ASSERT_TRUE(r);
                ASSERT_EQ(s, sentEnd) << "rule 2, step " << m_step;
            }
            else if (rule3 && a.unsacked)
            {
                ASSERT_TRUE(r);
                ASSERT_EQ(s, a.unsackedSeq) << "rule 3, step " << m_step;
                ++m_rule3;
            }
            else
            {
                ASSERT_FALSE(r) << "step " << m_step << ": NextSeg() has " << s;
            }
        }
    }

    /// SendPendingData(): what NextSeg() offers, while the window allows.
    void Send(uint32_t cwnd, bool recovery)
    {
        while (m_buf->BytesInFlight() < cwnd)
        {
            SequenceNumber32 s;
            SequenceNumber32 h;
            if (!m_buf->NextSeg(&s, &h, recovery))
            {
                return;
            }
            uint32_t size = static_cast<uint32_t>(h - s);
            if (s < m_high && m_rng() % 50 == 0)
            {
                size = m_rng() % 2 ? kMss / 2 : 2 * kMss; // split / merge
            }
            Transmit(s, size);
        }
    }

    void Transmit(SequenceNumber32 s, uint32_t size)
    {
        m_hint.BeforeSend(*m_buf, s, m_high);
        ns3::TcpTxItem* item = m_buf->CopyFromSequence(size, s);
        const uint32_t sz = item ? item->GetSeqSize() : 0;
        m_hint.AfterSend(*m_buf, s, sz);
        for (uint32_t off = 0; off < sz; off += kMss / 2)
        {
            m_wire.push_back((s + off - SequenceNumber32(1)) / (kMss / 2)); // half-segment units
        }
        if (s + sz > m_high)
        {
            m_high = s + sz;
        }
    }

    /// The path delivers some packets (losing some, reordering a little);
    /// the receiver ACKs cumulatively with up to three SACK blocks.
    void Deliver()
    {
        const uint32_t n = 1 + m_rng() % 4;
        for (uint32_t i = 0; i < n && !m_wire.empty(); ++i)
        {
            const size_t at = m_wire.size() > 1 && m_rng() % 8 == 0 ? 1 : 0;
            const uint32_t unit = m_wire[at];
            m_wire.erase(m_wire.begin() + static_cast<long>(at));
            if (m_rng() % 10 != 0)
            {
                m_received.insert(unit);
            }
        }
        uint32_t cum = 0;
        while (m_received.count(cum))
        {
            ++cum;
        }
        ns3::TcpOptionSack::SackList blocks;
        for (auto it = m_received.upper_bound(cum); it != m_received.end() && blocks.size() < 3;)
        {
            uint32_t first = *it;
            uint32_t last = first;
            while (++it != m_received.end() && *it == last + 1)
            {
                last = *it;
            }
            blocks.emplace_back(SequenceNumber32(1 + first * kMss / 2), SequenceNumber32(1 + (last + 1) * kMss / 2));
        }
        std::reverse(blocks.begin(), blocks.end()); // the newest first, as receivers do
        const SequenceNumber32 ack(1 + cum * kMss / 2);
        if (ack > m_buf->HeadSequence() + SentSize())
        {
            return; // a half segment beyond what was sent as one: wait
        }
        if (!blocks.empty())
        {
            m_buf->Update(blocks);
        }
        m_buf->DiscardUpTo(ack);
    }

    uint32_t SentSize() const
    {
        return m_buf->BytesInFlight() + m_buf->GetSacked() + m_buf->GetLost() - m_buf->GetRetransmitsCount();
    }

    void Run(uint32_t steps)
    {
        for (m_step = 0; m_step < steps && m_buf->Size() > 0; ++m_step)
        {
            const uint32_t op = m_rng() % 100;
            if (op < 45)
            {
                Send(20 * kMss, m_rng() % 2 == 0);
            }
            else if (op < 90)
            {
                Deliver();
            }
            else if (op < 93 && SentSize() > 0)
            {
                m_buf->MarkHeadAsLost(); // a partial ACK without SACK, RACK
            }
            else if (op < 96)
            {
                m_buf->DeleteRetransmittedFlagFromHead(); // RACK, a refused retransmission
            }
            else if (op < 97 && SentSize() > 0)
            {
                m_buf->SetSentListLost(m_rng() % 2 == 0); // RTO
                m_hint.Forget();
                m_wire.clear();
            }
            if (m_rng() % 2 == 0)
            {
                Compare();
                if (HasFatalFailure())
                {
                    return;
                }
            }
        }
    }

    std::mt19937 m_rng;
    ns3::Ptr<ns3::TcpTxBuffer> m_buf;
    RetransmitHint m_hint;
    SequenceNumber32 m_high;
    std::deque<uint32_t> m_wire;
    std::set<uint32_t> m_received;
    uint32_t m_step = 0;
    uint64_t m_compared = 0;
    uint64_t m_rule1 = 0;
    uint64_t m_rule3 = 0;

  private:
    bool HasFatalFailure() const { return ::testing::Test::HasFatalFailure(); }
};

} // namespace

TEST(RetransmitHint, AnswersAsNextSegDoesThroughLossesSacksAndRtos)
{
    for (uint32_t seed = 1; seed <= 20; ++seed)
    {
        Sender s(3000, seed);
        s.Run(20000);
        ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "seed " << seed;
        EXPECT_GT(s.m_compared, 1000u);
        EXPECT_GT(s.m_rule1, 50u) << "seed " << seed << ": lost segments were found";
    }
}

TEST(RetransmitHint, RuleThreeOnceAllDataIsSent)
{
    // 60 segments only: the data runs out, and NextSeg() in recovery offers
    // the first segment neither retransmitted nor SACKed (rule 3).
    uint64_t rule3 = 0;
    for (uint32_t seed = 1; seed <= 40; ++seed)
    {
        Sender s(60, seed);
        s.Run(3000);
        ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "seed " << seed;
        rule3 += s.m_rule3;
    }
    EXPECT_GT(rule3, 20u);
}

TEST(RetransmitHint, PassesEachSegmentAFewTimesNotOncePerQuestion)
{
    // The point of the hint: in a long recovery the positions only move
    // forward. 2000 segments in flight, every 10th lost, SACKs for the rest:
    // rule 1 is asked after every retransmission.
    ns3::Ptr<ns3::TcpTxBuffer> buf = ns3::CreateObject<ns3::TcpTxBuffer>(1);
    buf->SetMaxBufferSize(4000 * kMss);
    buf->SetSegmentSize(kMss);
    buf->SetDupAckThresh(3);
    buf->SetRWndCallback(ns3::MakeCallback(&BigWindow));
    buf->Add(ns3::Create<ns3::Packet>(4000 * kMss));
    RetransmitHint hint;
    SequenceNumber32 high(1);
    for (uint32_t i = 0; i < 2000; ++i)
    {
        hint.BeforeSend(*buf, high, high);
        buf->CopyFromSequence(kMss, high);
        hint.AfterSend(*buf, high, kMss);
        high += kMss;
    }
    uint32_t retransmitted = 0;
    for (uint32_t i = 1; i < 2000; ++i)
    {
        if (i % 10 != 0)
        {
            const SequenceNumber32 a(1 + i * kMss);
            buf->Update({{a, a + kMss}});
        }
        RetransmitHint::Answer ans = hint.Query(*buf);
        if (ans.lost)
        {
            SequenceNumber32 s;
            SequenceNumber32 h;
            ASSERT_TRUE(buf->NextSeg(&s, &h, true));
            ASSERT_EQ(s, ans.lostSeq);
            hint.BeforeSend(*buf, s, high);
            buf->CopyFromSequence(kMss, s);
            hint.AfterSend(*buf, s, kMss);
            ++retransmitted;
        }
    }
    EXPECT_GT(retransmitted, 150u); // segments 0, 10, 20, ... below the top SACKs
    // one walk passes 2000 segments, a walk per question about 2000 * 2000
    EXPECT_LT(hint.Steps(), 10u * 2000u);
    EXPECT_EQ(hint.Restarts(), 1u); // the first question only
}
