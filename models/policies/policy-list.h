// Every built-in stop/wake policy, one line each, in the order `tunsim list`
// shows them:
//
//   TUNSIM_POLICY(factory, "name", "summary for tunsim list", "source")
//
// A new policy is one file in this folder defining
// `ns3::Ptr<TunPolicy> factory()` and one line here (the folder's .cc files
// are built by a glob). Included twice by registry.cc; no include guard.
TUNSIM_POLICY(CreateDropPolicy, "drop",
              "mainline: never stop the queue; drop FULL_RING when the ring is full",
              "mainline drivers/net/tun.c (tun_net_xmit); again after the revert f11b48aa674b (net, 2026-07-30)")
TUNSIM_POLICY(CreateLegacyFlowctlPolicy, "legacy-flowctl",
              "pre-3.8 / IFF_FLOW_CONTROL (seed 002): stop all queues at tx_queue_len, wake all after every read",
              "seed 002: 'tuntap: add flow control to support back pressure', lkml 2014-04-13")
TUNSIM_POLICY(CreateStopIfNonemptyPolicy, "stop-if-nonempty",
              "seed 003 (OpenConnect test): stop after produce if the ring is not empty, wake after every read",
              "seed 003: OpenConnect netperf test patch (netdev, undated mail)")
TUNSIM_POLICY(CreateNodropV2Policy, "nodrop-v2",
              "NODROP v2 (seed 000): stop when the ring became full; wake when it is empty and in the reader's wait",
              "seed 000: [PATCH net v2] TUN/TAP: Improving throughput and latency by avoiding SKB drops, 2025-08-13")
TUNSIM_POLICY(CreateNodropV4Policy, "nodrop-v4",
              "NODROP v4: stop when full; wake after consume and in the wait when __ptr_ring_spare(1)",
              "NODROP v4 series (tudo-cni/nodrop patch_series), Sep 2025")
TUNSIM_POLICY(CreateNodropV6Policy, "nodrop-v6",
              "NODROP v5/v6 (seed 004): stop before producing the last fitting entry; wake when consume created space or emptied the ring",
              "seed 004: tun/tap: add synchronized ring produce/consume with queue management (v6), 2025-11-20")
TUNSIM_POLICY(CreateNodropV8Policy, "nodrop-v8",
              "NODROP v8 (seed 001): as v6 but only with a qdisc attached; wake after half the ring was consumed since the stop",
              "seed 001: tun/tap & vhost-net: apply qdisc backpressure on full ptr_ring to reduce TX drops (v8), 2026-03-13")
TUNSIM_POLICY(CreateMergedPolicy, "merged",
              "as merged (1d6e569b7d0c): stop when a qdisc is attached and the ring became full; wake after half the ring was consumed; wake + cons_cnt = 0 on resize",
              "net-next 1d6e569b7d0c + d4c22d70d725, pushed 2026-05-14; reverted in net (f11b48aa674b) 2026-07-30")
TUNSIM_POLICY(CreateIffBackpressurePolicy, "iff-backpressure",
              "merged behind the per-device flag IFF_BACKPRESSURE (tun.iff_backpressure): off = drop, on = merged; force-wake on attach, TUNSETIFF, resize",
              "net-next 485e38995cc3 + d00c7369ef24, pushed 2026-08-08; patch mail 2026-07-04 (Simon Schippers)")
