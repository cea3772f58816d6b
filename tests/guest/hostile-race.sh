#!/bin/sh
# A driver that transmits one valid frame over and over while a second
# thread flips its header's NEEDS_CSUM flag (guests/tools/hostile.c race
# SECS): the device must send the header it checked, never the guest's
# (tests/scenarios/hostile-race.sh captures what reaches the tap). With
# "control" as the second argument: CSUM negotiated and the flag always
# set, which must show on the tap.
hostile race "${1:-5}" ${2:+"$2"}
