#!/bin/sh
# Every way a guest can end: reboot (0), kernel panic (122, whether the
# kernel resets itself or hangs), a device access KVM cannot decode
# (arm64's load pair: 122), --timeout (124), SIGTERM (143).
. "$LIB"

guest reboot 0 --cmdline "kvmini.script=reboot"
console reboot "reboot.sh: rebooting"

# No init to run: the kernel panics. kvmini's panic=-1 resets it at once;
# with panic=0 it hangs and kvmini ends it after a grace period.
guest panic 122 --cmdline "rdinit=/no-such-init"
console panic "Kernel panic - not syncing"
stderr panic "guest kernel panicked"
guest panic-hang 122 --cmdline "rdinit=/no-such-init panic=0"
stderr panic-hang "guest kernel panicked"

if [ "${KVMINI_ARCH:-x86_64}" = arm64 ]; then
	guest ldp 122 --cmdline "kvmini.script=ldpmmio"
	console ldp "ldpmmio: ldp from"
	stderr ldp "accessed device memory at 0x[0-9a-f]+ with an instruction KVM cannot decode"
fi

guest timeout 124 --timeout 8 --cmdline "kvmini.script=sleep"
stderr timeout "timeout: the guest ran for 8 s"

"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --console "file:$T/term.log" \
	--timeout 120 --cmdline "kvmini.script=sleep" 2>"$T/term.err" &
pid=$!
i=0
while ! grep -q "sleep.sh: sleeping" "$T/term.log" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
kill -TERM $pid
rc=0
wait $pid || rc=$?
if [ $rc -eq 143 ]; then echo "term: exit status 143 ok"; else fail term "exit status $rc, expected 143"; fi
finish
