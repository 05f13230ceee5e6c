#!/usr/bin/env bash
# Build the twin's QEMU guest into DIR (default build/vm-guest), once:
#   DIR/vmlinuz    Debian's kernel (the package linux-image-amd64 depends on,
#                  fetched with `apt-get download`, unpacked, not installed)
#   DIR/initrd.gz  busybox-static, the kernel's virtio/e1000/netem modules,
#                  iperf3 and iproute2's tc with their libraries, and /init:
#                  eth0 = 10.77.0.2/24, `netem delay <tunsim_delay_ms>` on its
#                  egress when the kernel command line sets it, iperf3 -s,
#                  then "GUEST-READY" on the serial console.
# Installs (Debian, as root) qemu-system-x86, busybox-static, iperf3, cpio
# when missing.
set -euo pipefail
DIR=${1:-build/vm-guest}
[ -s "$DIR/vmlinuz" ] && [ -s "$DIR/initrd.gz" ] && exit 0

need=()
for p in qemu-system-x86 busybox-static iperf3 cpio iproute2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "vm-guest-image: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$PKG" ] || { echo "vm-guest-image: apt-cache knows no linux-image-amd64 dependency" >&2; exit 1; }
(cd "$TMP" && apt-get -o APT::Sandbox::User=root download "$PKG" >/dev/null)
dpkg-deb -x "$TMP"/"$PKG"_*.deb "$TMP/kernel"
KVER=${PKG#linux-image-}
MOD=$TMP/kernel/lib/modules/$KVER/kernel

R=$TMP/initrd
mkdir -p "$R"/{bin,proc,sys,dev,tmp,lib/mod}
cp /bin/busybox "$R/bin/"
for a in sh mount ip insmod echo cat sleep; do ln -s busybox "$R/bin/$a"; done
# In load order (insmod does not resolve dependencies).
for m in drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko \
         drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
         drivers/virtio/virtio_pci.ko net/core/failover.ko drivers/net/net_failover.ko \
         drivers/net/virtio_net.ko drivers/net/ethernet/intel/e1000/e1000.ko net/sched/sch_netem.ko; do
  [ -f "$MOD/$m" ] && cp "$MOD/$m" "$R/lib/mod/"
done
for b in /usr/bin/iperf3 /sbin/tc; do
  cp "$b" "$R/bin/$(basename "$b")"
  for l in $(ldd "$b" | grep -o '/[^ ]*'); do mkdir -p "$R$(dirname "$l")"; cp -L "$l" "$R$l"; done
done
cat > "$R/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
         failover net_failover virtio_net e1000 sch_netem; do
  [ -f /lib/mod/$m.ko ] && insmod /lib/mod/$m.ko 2>/dev/null
done
ip link set lo up; ip link set eth0 up; ip addr add 10.77.0.2/24 dev eth0
# e1000's watchdog reports the link a second or two after "up".
i=0; while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 20 ]; do sleep 1; i=$((i+1)); done
D=0; for w in $(cat /proc/cmdline); do case $w in tunsim_delay_ms=*) D=${w#*=};; esac; done
# busybox's sh runs its own applets first: iproute2's tc by its path.
[ "$D" != 0 ] && /bin/tc qdisc replace dev eth0 root netem delay ${D}ms limit 1000000
/bin/iperf3 -s -D
echo GUEST-READY delay=$D
exec /bin/sh
EOF
chmod +x "$R/init"
mkdir -p "$DIR"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$DIR/initrd.gz.tmp"
cp "$TMP/kernel/boot/vmlinuz-$KVER" "$DIR/vmlinuz.tmp"
mv "$DIR/initrd.gz.tmp" "$DIR/initrd.gz"; mv "$DIR/vmlinuz.tmp" "$DIR/vmlinuz"
echo "vm-guest-image: $DIR ($PKG)"
