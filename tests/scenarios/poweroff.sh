#!/bin/sh
# A guest that powers off ends kvmini with 0: PSCI SYSTEM_OFF reaches
# kvmini as a KVM system event. x86 guests without ACPI can only halt, so
# there it is skipped.
. "$LIB"

[ "${KVMINI_ARCH:-x86_64}" = arm64 ] || exit 77
guest poweroff 0 --verbose --cmdline "kvmini.script=poweroff"
console poweroff "poweroff.sh: powering off"
stderr poweroff "guest powered off"
finish
