// Every trace source of every tunsim TypeId names, as its callback
// signature, a typedef that exists (ns-3's convention: the fourth argument of
// AddTraceSource is "namespace::Class::TypedefName", and the typedef is the
// function-pointer type a sink must have).
//
// Two halves:
//  * compile time: each typedef in kCallbacks is named in code (KNOWN), so a
//    missing or misspelled typedef fails the build; each is checked against
//    the TracedCallback it documents;
//  * run time: the string every tunsim trace source registers must be one of
//    kCallbacks, and a sink of exactly the typedef's type connects to the
//    source and is called when the kernel event happens.
#include "tcp-tsq-socket.h"
#include "traffic-apps.h"
#include "gso-tag.h"
#include "helper/linux-fifo-queue-disc.h"
#include "linux-cubic.h"
#include "linux-tcp-socket.h"
#include "host-cpu.h"
#include "linux-dev-xmit.h"
#include "tun-net-device.h"
#include "tun-policy.h"
#include "tunsim-tag.h"
#include "vpn-peer.h"
#include "vpn-reader.h"
#include "qemu-tap-reader.h"
#include "vhost-net-worker.h"

#include "ns3/callback.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/type-id.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>

using namespace tunsim;

namespace
{

// The typedef must exist (sizeof of it compiles) and the string is derived
// from the same tokens, so the two cannot drift apart.
#define KNOWN(cls, td) (static_cast<void>(sizeof(cls::td)), std::string("tunsim::" #cls "::" #td))

const std::set<std::string>&
KnownCallbacks()
{
    static const std::set<std::string> known = {
        KNOWN(TunNetDevice, RingOccupancyCallback),
        KNOWN(TunNetDevice, QueueCallback),
        KNOWN(TunNetDevice, DropCallback),
    };
    return known;
}

// The typedefs have the signatures of the TracedCallbacks they describe
// (m_ringOccupancyTrace: <uint32_t, uint32_t>; m_txqStopTrace and
// m_txqWakeTrace: <uint32_t>; m_dropTrace: <Ptr<const Packet>, TunDropReason>).
static_assert(std::is_same_v<TunNetDevice::RingOccupancyCallback, void (*)(uint32_t, uint32_t)>);
static_assert(std::is_same_v<TunNetDevice::QueueCallback, void (*)(uint32_t)>);
static_assert(std::is_same_v<TunNetDevice::DropCallback,
                             void (*)(ns3::Ptr<const ns3::Packet>, TunDropReason)>);

int g_occupancy = 0;
int g_stops = 0;
int g_wakes = 0;
int g_drops = 0;

void
OnOccupancy(uint32_t, uint32_t)
{
    ++g_occupancy;
}

void
OnStop(uint32_t)
{
    ++g_stops;
}

void
OnWake(uint32_t)
{
    ++g_wakes;
}

void
OnDrop(ns3::Ptr<const ns3::Packet>, TunDropReason)
{
    ++g_drops;
}

} // namespace

/// Every TypeId name models/ declares (ns3::TypeId("tunsim::...")).
std::set<std::string>
DeclaredTypeIds()
{
    std::set<std::string> names;
    const std::regex decl(R"re(TypeId\("(tunsim::[A-Za-z0-9_]+)"\))re");
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(std::string(TUNSIM_SOURCE_DIR) + "/models"))
    {
        if (!e.is_regular_file() || e.path().extension() != ".cc")
        {
            continue;
        }
        std::ifstream in(e.path());
        std::stringstream text;
        text << in.rdbuf();
        const std::string s = text.str();
        for (std::sregex_iterator it(s.begin(), s.end(), decl), end; it != end; ++it)
        {
            names.insert((*it)[1].str());
        }
    }
    return names;
}

TEST(TraceSources, EveryTunsimTraceSourceNamesAKnownTypedef)
{
    // The models are a static library: a TypeId is registered only if its
    // object file is linked, so name every class here. The comparison with
    // the declarations found in models/ fails when a new one is missing.
    for (const ns3::TypeId& tid : {TunPolicy::GetTypeId(),
                                   TunNetDevice::GetTypeId(),
                                   TunsimTag::GetTypeId(),
                                   VpnEncapHeader::GetTypeId(),
                                   VpnReader::GetTypeId(),
                                   VpnPeer::GetTypeId(),
                                   TapFrameHeader::GetTypeId(),
                                   GuestRxQueue::GetTypeId(),
                                   VmBackend::GetTypeId(),
                                   QemuTapReader::GetTypeId(),
                                   VhostNetWorker::GetTypeId(),
                                   UdpSeqSender::GetTypeId(),
                                   UdpSeqSink::GetTypeId(),
                                   TcpBulkSender::GetTypeId(),
                                   TcpSink::GetTypeId(),
                                   TsqTcpSocket::GetTypeId(),
                                   CwndLimitedGate::GetTypeId(),
                                   LinuxTcpSocket::GetTypeId(),
                                   LinuxCubic::GetTypeId(),
                                   LinuxFifoQueueDisc::GetTypeId(),
                                   GsoTag::GetTypeId(),
                                   HostCpu::GetTypeId(),
                                   LinuxDevXmit::GetTypeId()})
    {
        ASSERT_EQ(tid.GetName().rfind("tunsim::", 0), 0u) << tid.GetName();
    }
    const auto& known = KnownCallbacks();
    std::set<std::string> registered;
    uint32_t sources = 0;
    for (uint16_t i = 0; i < ns3::TypeId::GetRegisteredN(); ++i)
    {
        ns3::TypeId tid = ns3::TypeId::GetRegistered(i);
        if (tid.GetName().rfind("tunsim::", 0) != 0)
        {
            continue;
        }
        registered.insert(tid.GetName());
        // GetTraceSource(j) lists the sources this TypeId declares itself
        // (inherited ns-3 ones are ns-3's business).
        for (std::size_t j = 0; j < tid.GetTraceSourceN(); ++j)
        {
            ++sources;
            const auto info = tid.GetTraceSource(j);
            EXPECT_TRUE(known.count(info.callback))
                << tid.GetName() << " trace source \"" << info.name << "\" names callback \""
                << info.callback << "\", which is not a typedef the test knows of";
            // Convention: the typedef lives in the class that declares the source.
            EXPECT_EQ(info.callback.rfind(tid.GetName() + "::", 0), 0u)
                << info.name << ": " << info.callback;
        }
    }
    EXPECT_EQ(registered, DeclaredTypeIds())
        << "a TypeId declared in models/ is missing from the list above (or vice versa)";
    // TunNetDevice declares four (RingOccupancy, TxQueueStop, TxQueueWake, Drop).
    EXPECT_GE(sources, 4u);
}

TEST(TraceSources, SinksOfTheTypedefTypeConnectAndFire)
{
    // A ring of 2 under nodrop-v2: two sends fill it (stop after the produce
    // that makes it full), a third send is dropped FULL_RING (the qdisc would
    // not send with the queue stopped; Send() is called by hand here), and a
    // consume that empties the ring wakes the queue (v2: wake if empty).
    auto dev = ns3::CreateObject<TunNetDevice>();
    dev->Configure(CreateTunPolicy("nodrop-v2"), 2);
    dev->AggregateObject(ns3::CreateObject<ns3::NetDeviceQueueInterface>());
    g_occupancy = g_stops = g_wakes = g_drops = 0;

    TunNetDevice::RingOccupancyCallback occupancy = &OnOccupancy;
    TunNetDevice::QueueCallback stop = &OnStop;
    TunNetDevice::QueueCallback wake = &OnWake;
    TunNetDevice::DropCallback drop = &OnDrop;
    ASSERT_TRUE(dev->TraceConnectWithoutContext("RingOccupancy", ns3::MakeCallback(occupancy)));
    ASSERT_TRUE(dev->TraceConnectWithoutContext("TxQueueStop", ns3::MakeCallback(stop)));
    ASSERT_TRUE(dev->TraceConnectWithoutContext("TxQueueWake", ns3::MakeCallback(wake)));
    ASSERT_TRUE(dev->TraceConnectWithoutContext("Drop", ns3::MakeCallback(drop)));

    for (int i = 0; i < 3; ++i)
    {
        dev->Send(ns3::Create<ns3::Packet>(100), ns3::Address(), 0x0800);
    }
    EXPECT_EQ(g_stops, 1);
    EXPECT_EQ(g_drops, 1);
    ASSERT_TRUE(dev->TunRingConsume(0));
    ASSERT_TRUE(dev->TunRingConsume(0));
    EXPECT_EQ(g_wakes, 1);
    EXPECT_EQ(g_occupancy, 4); // two produces, two consumes

    dev->Dispose();
    ns3::Simulator::Destroy();
}
