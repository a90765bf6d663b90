#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
#
# Runs inside the new guest root (chroot, proc/sys/dev bound) while scripts/vm builds a VM image.
# Part of the image recipe: any change here changes the recipe hash and rebuilds the image.
set -eu
KVER="$1"
echo oomguard-vm > /etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 oomguard-vm\n' > /etc/hosts
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > /etc/fstab
: > /etc/resolv.conf   # no DNS on purpose: the guest has no network but the forwarded SSH port
mkdir -p /etc/systemd/network
cat > /etc/systemd/network/10-user-net.network <<'NET'
[Match]
Name=en* eth*
[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
mkdir -p /etc/ssh/sshd_config.d
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' > /etc/ssh/sshd_config.d/oomguard-vm.conf
printf 'MODULES=list\nCOMPRESS=gzip\n' > /etc/initramfs-tools/conf.d/oomguard-vm.conf
printf 'virtio_pci\nvirtio_blk\next4\n' > /etc/initramfs-tools/modules
# no background jobs in a test host
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer; do
    ln -sf /dev/null "/etc/systemd/system/$u"
done
# systemd-oomd is installed but stays off until a test starts it (the machine-wide drill needs the kernel alone)
systemctl disable systemd-oomd.service systemd-oomd.socket >/dev/null 2>&1 || true
systemctl enable systemd-networkd.service >/dev/null 2>&1
systemctl set-default multi-user.target >/dev/null 2>&1
# hardware a virtio guest never has (~250 MB of modules)
cd "/lib/modules/$KVER/kernel"
rm -rf drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet drivers/infiniband drivers/staging \
    drivers/bluetooth drivers/iio drivers/isdn drivers/usb/gadget sound net/bluetooth net/wireless net/mac80211
cd /
depmod -a "$KVER"
update-initramfs -u -k "$KVER" >/dev/null 2>&1
passwd -l root >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/*
