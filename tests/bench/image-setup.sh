#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
#
# Runs inside the debootstrapped bookworm root (chroot) before `podman import`. Part of the image
# recipe: scripts/testbench hashes this file into the image tag, so editing it builds a new image.
set -eu

# Each container gets its own machine id at boot (empty file: systemd makes a transient one).
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

# The services our users protect must start at boot.
systemctl enable postgresql.service postgresql@15-main.service nginx.service

# Nothing in the test hosts needs these; some of them only slow the boot or fail without a network.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
            systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service \
            systemd-timesyncd.service getty@tty1.service console-getty.service \
            systemd-firstboot.service systemd-update-utmp-runlevel.service; do
    systemctl mask "$unit" >/dev/null 2>&1 || true
done

# Keep the image small: no package caches, indexes, documentation, message translations or locale
# sources (C.UTF-8 is built into glibc; PostgreSQL's cluster was created with it).
apt-get clean
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/info/* \
       /usr/share/i18n/* /var/log/*.log /var/log/apt/* /tmp/* /var/tmp/*
