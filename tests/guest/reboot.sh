#!/bin/sh
# Reboots: with kvmini's reboot=k the i8042 reset ends the VM with 0.
echo "reboot.sh: rebooting"
reboot -f
sleep 30
exit 1
