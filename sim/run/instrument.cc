// The instrument step: the ledger on every drop and delivery point of the
// path, and the optional time series.
#include "testbed.h"

#include "ns3/simulator.h"

#include <functional>
#include <memory>

namespace tunsim
{

using namespace ns3;

/// One CSV row every `interval`: ring, qdisc, txq, socket memory of all
/// senders, and the first TCP flow's cwnd, srtt and bytes in flight.
class TimeSeries
{
  public:
    TimeSeries(const Testbed& tb, Time interval, std::ostringstream& out)
        : m_tb(tb),
          m_interval(interval),
          m_out(out)
    {
        m_out << "time_s,ring_occupancy,qdisc_backlog,txq_stopped,sender_wmem_bytes,cwnd_bytes,srtt_ms,"
                 "bytes_in_flight\n";
        for (const auto& a : tb.flows)
        {
            if (a.tcpTx)
            {
                m_tcp0 = a.tcpTx;
                break;
            }
        }
        Simulator::ScheduleNow(&TimeSeries::Sample, this);
    }

  private:
    void Sample()
    {
        uint64_t wmem = 0;
        for (const auto& a : m_tb.flows)
        {
            wmem += a.account->WmemAlloc();
        }
        const TunQueue& q = m_tb.path.tun->GetQueue(0);
        m_out << Simulator::Now().GetSeconds() << ',' << q.Ring().Count() << ','
              << (m_tb.path.tunQdisc ? m_tb.path.tunQdisc->GetNPackets() : 0) << ',' << (q.IsStopped() ? 1 : 0)
              << ',' << wmem << ',';
        if (m_tcp0)
        {
            m_out << m_tcp0->Cwnd() << ',' << m_tcp0->Srtt().GetSeconds() * 1e3 << ',' << m_tcp0->BytesInFlight();
        }
        else
        {
            m_out << ",,";
        }
        m_out << '\n';
        Simulator::Schedule(m_interval, &TimeSeries::Sample, this);
    }

    const Testbed& m_tb;
    Time m_interval;
    std::ostringstream& m_out;
    Ptr<TcpBulkSender> m_tcp0;
};

Instruments::Instruments() = default;
Instruments::~Instruments() = default;

void
Instrument(Testbed& tb, double timeseriesIntervalMs, Instruments& out)
{
    out.monitor = std::make_unique<TunPathMonitor>(tb.path, tb.ledger);
    std::map<uint16_t, uint32_t> reverseByPort; // sink port -> reverse ledger flow
    for (size_t i = 0; i < tb.flows.size(); ++i)
    {
        if (tb.flows[i].tcpTx)
        {
            reverseByPort[tb.flows[i].port] = tb.flows[i].reverseFlow;
        }
    }
    out.monitor->TrackReverse(reverseByPort, tb.ledger->AddFlow("reverse-other", Direction::Reverse));
    if (timeseriesIntervalMs > 0)
    {
        out.sampler = std::make_unique<TimeSeries>(
            tb, NanoSeconds(static_cast<int64_t>(timeseriesIntervalMs * 1e6)), out.series);
    }
}

} // namespace tunsim
