#!/bin/sh
# A driver that transmits one valid frame over and over while a second
# thread flips its header's NEEDS_CSUM flag (guests/tools/hostile.c race
# SECS): the device must send the header it checked, never the guest's
# (tests/scenarios/hostile-tap.sh captures what reaches the tap).
hostile race "${1:-5}"
