#!/bin/sh
# Powers off: on arm64 through PSCI SYSTEM_OFF, which ends the VM with 0.
echo "poweroff.sh: powering off"
poweroff -f
sleep 30
exit 1
