// One bulk TCP flow across tunsim_test::TwoNodes, as the model tests set it
// up: node 0's TcpBulkSender to node 1's TcpSink.
#pragma once

#include "packet-ledger.h"
#include "socket-account.h"
#include "test-p2p.h"
#include "traffic-apps.h"

#include "ns3/inet-socket-address.h"

namespace tunsim_test
{

struct BulkFlow
{
    ns3::Ptr<tunsim::TcpBulkSender> tx;
    ns3::Ptr<tunsim::TcpSink> sink;
    ns3::Ptr<tunsim::SocketAccount> account; ///< the sender socket's sk_wmem account
    uint32_t flow = 0;                       ///< its index in the ledger
};

/// Sender and sink on `port`: `bytes` to send (0 = without end) with
/// congestion control `cc`, the socket charged to a SocketAccount "tcp0" of
/// `sndbuf`, its packets in `ledger` as forward flow "tcp0". Both start at 0.
inline BulkFlow
InstallBulkFlow(TwoNodes& net,
                ns3::Ptr<tunsim::PacketLedger> ledger,
                uint16_t port,
                tunsim::CongestionControl cc,
                uint64_t bytes,
                uint32_t sndbuf = 4u << 20)
{
    BulkFlow f;
    f.flow = ledger->AddFlow("tcp0", tunsim::Direction::Forward);
    f.account = tunsim::SocketAccountTable::Create("tcp0", sndbuf);
    f.tx = ns3::CreateObject<tunsim::TcpBulkSender>();
    f.tx->Setup(ns3::InetSocketAddress(net.Address(1), port), cc, bytes, f.account, ledger, f.flow);
    net.Node(0)->AddApplication(f.tx);
    f.sink = ns3::CreateObject<tunsim::TcpSink>();
    f.sink->Setup(port);
    net.Node(1)->AddApplication(f.sink);
    return f;
}

} // namespace tunsim_test
