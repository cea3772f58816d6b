#!/bin/sh
# --mem sizes the guest's RAM, including RAM above the 3 GiB hole.
. "$LIB"

guest mem-128 0 --mem 128M --cmdline "kvmini.script=mem kvmini.args=100,128"
guest mem-4g 0 --mem 4G --cmdline "kvmini.script=mem kvmini.args=3800,4096"
finish
