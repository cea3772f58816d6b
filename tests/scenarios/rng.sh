#!/bin/sh
# Linux binds virtio-rng over virtio-mmio, modern and legacy, and reads
# random data from it; --no-rng removes the device.
. "$LIB"

guest rng-modern 0 --cmdline "kvmini.script=rng kvmini.args=modern"
guest rng-legacy 0 --virtio-legacy --cmdline "kvmini.script=rng kvmini.args=legacy"
guest no-rng 1 --no-rng --cmdline "kvmini.script=rng kvmini.args=modern"
finish
