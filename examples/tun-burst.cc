// A bursty UDP sender behind a VPN's tun device, built with tunsim's models
// in an ns-3 program of its own: where do the packets of a burst go?
//
//   ./tun-burst --policy=drop       # mainline: the ring overflows, packets die in tun0
//   ./tun-burst --policy=nodrop-v8  # the queue stops, the qdisc holds them: no loss
//
// Two nodes, one TunPathHelper path between them, one UdpSeqSender sending
// bursts of --burst datagrams every 10 ms into a --ring entry ring that a VPN
// process drains at 10 us per packet. The PacketLedger books every packet:
// delivered, dropped at a named place, or still queued.
#include "helper/tun-path-helper.h"
#include "helper/tun-path-monitor.h"
#include "packet-ledger.h"
#include "socket-account.h"
#include "traffic-apps.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"

#include <iostream>

using namespace ns3;
using namespace tunsim;

int
main(int argc, char** argv)
{
    std::string policy = "drop";
    uint32_t ring = 25;
    uint32_t burst = 60;
    CommandLine cmd;
    cmd.AddValue("policy", "tun0's stop/wake policy (drop, nodrop-v2, nodrop-v6, nodrop-v8, ...)", policy);
    cmd.AddValue("ring", "tun0's txqueuelen (ring entries)", ring);
    cmd.AddValue("burst", "datagrams per burst", burst);
    cmd.Parse(argc, argv);

    // Two hosts with IPv4, connected routes only.
    NodeContainer nodes;
    nodes.Create(2);
    InternetStackHelper internet;
    Ipv4StaticRoutingHelper staticRouting;
    internet.SetRoutingHelper(staticRouting);
    internet.SetIpv6StackInstall(false);
    internet.Install(nodes);

    // The VPN path: fq_codel on tun0, a reader at 10 us per packet, a 100 Mbit/s underlay.
    TunPathHelper tunnel;
    tunnel.SetPolicy(policy);
    tunnel.SetRingSize(ring);
    tunnel.SetQdisc(QdiscKind::FqCodel);
    tunnel.SetReaderAttribute("PerPacketCost", TimeValue(MicroSeconds(10)));
    tunnel.SetUnderlay(DataRate("100Mbps"), MilliSeconds(5), 1000, QdiscKind::PfifoFast);
    TunPath path = tunnel.Install(nodes.Get(0), nodes.Get(1));

    // Book every packet: one forward flow, then the path's drop points.
    Ptr<PacketLedger> ledger = Create<PacketLedger>();
    const uint32_t flow = ledger->AddFlow("bursts", Direction::Forward);
    TunPathMonitor monitor(path, ledger);
    monitor.TrackReverse({}, ledger->AddFlow("reverse", Direction::Reverse));

    // Bursts of `burst` 1400-byte datagrams every 10 ms, 1 us of CPU per sendto().
    UdpSeqSender::Config c;
    c.mode = UdpMode::Bursts;
    c.burstPackets = burst;
    c.burstInterval = MilliSeconds(10);
    c.sendCost = MicroSeconds(1);
    c.sendCostFirst = MicroSeconds(1);
    Ptr<SocketAccount> socket = SocketAccountTable::Create("sender", 212992);
    Ptr<UdpSeqSender> sender = CreateObject<UdpSeqSender>();
    sender->Setup(InetSocketAddress(TunPath::ServerTunAddress(), 5000), c, socket, ledger, flow);
    nodes.Get(0)->AddApplication(sender);
    Ptr<UdpSeqSink> sink = CreateObject<UdpSeqSink>();
    sink->Setup(5000);
    nodes.Get(1)->AddApplication(sink);
    sender->SetStartTime(Seconds(0));
    sender->SetStopTime(Seconds(0.095)); // ten bursts, all delivered or dropped by the end

    Simulator::Stop(Seconds(0.2));
    Simulator::Run();

    const uint64_t sent = ledger->SentPackets(Direction::Forward);
    const uint64_t delivered = ledger->DeliveredPackets(Direction::Forward);
    const uint64_t dropped = ledger->DroppedPackets(Direction::Forward);
    uint64_t queued = 0;
    for (const auto& [place, n] : monitor.StillQueued(Direction::Forward))
    {
        queued += n;
    }
    std::cout << "policy " << policy << ", ring " << ring << ", bursts of " << burst << "\n"
              << "sent " << sent << "  delivered " << delivered << "  dropped " << dropped << "  queued "
              << queued << "\n";
    for (const auto& [place, n] : ledger->Drops(Direction::Forward))
    {
        std::cout << "  dropped at " << place << ": " << n << "\n";
    }
    std::cout << "tx queue stops " << path.tun->GetQueue(0).StopCount() << ", sender blocked "
              << socket->BlockCount() << " times\n"
              << "conservation " << (sent == delivered + dropped + queued ? "ok" : "VIOLATED") << "\n";
    Simulator::Destroy();
    return sent == delivered + dropped + queued ? 0 : 3;
}
