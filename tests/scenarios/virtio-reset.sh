#!/bin/sh
# A guest that resets its devices over and over, and one that writes
# nonsense into the registers: kvmini keeps running, reports the broken
# device once, and the device works again after a reset.
. "$LIB"

guest reset 0 --cmdline "kvmini.script=reset kvmini.args=5"
guest reset-legacy 0 --virtio-legacy --cmdline "kvmini.script=reset kvmini.args=3"
guest hostile 0 --cmdline "kvmini.script=hostile"
stderr hostile "virtio rng: device needs reset"
finish
