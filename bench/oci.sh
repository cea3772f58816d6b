# make bench's OCI figure (issue 20), sourced by bench/bench.sh: what a
# container costs to start through a real engine. `podman run --rm
# --network none --rootfs DIR true`, fork → podman's exit, with kvmini oci
# (cold: the annotation org.kvmini.snapshot=false; and from a warm snapshot
# cache, which the unmeasured run fills), runc and crun as its runtime,
# interleaved run by run. podman, conmon, runc
# and crun are the build host's (make deps): in the lab they run in the
# chroot of its / (HOSTROOT, which bench/run.sh gives bench.sh when this
# part is measured), as tests/scenarios/oci-podman.sh runs them.
#
# Records:
#   @@BENCH oci RUNTIME RUN status=N ... exit=S
#   (RUNTIME kvmini, kvmini-snap, runc, crun)

oc_runs=${BENCH_OCI_RUNS:-5}
oc_dir=$scratch/oci
rec env oci_runs "$oc_runs"

if [ "$mode" = lab ]; then
	oc_root=${HOSTROOT:-}
	oc_kernel=${OUTER:-}$KERNEL
	oc_kx=${OUTER:-}$BENCH_KVMINI
else
	oc_root=
	oc_kernel=$KERNEL
	oc_kx=$BENCH_KVMINI
fi

# oc_vmmrun ARGS...: vmmrun, in the lab inside the chroot (chroot(1) is
# then not in the time).
oc_vmmrun()
{
	if [ "$mode" = lab ]; then
		chroot "$oc_root" "${OUTER:-}$BENCH_VMMRUN" "$@"
	else
		"$BENCH_VMMRUN" "$@"
	fi
}

# oc_podman RUNTIME PREFIX...: PREFIX and the podman run, its storage and
# state in the scratch directory, nothing of the host's. kvmini boots
# cold (the annotation keeps it from the snapshot cache), kvmini-snap
# restores from the cache.
oc_podman()
{
	oc_ann=
	case $1 in
	kvmini) oc_rt=$oc_dir/kvmini-oci oc_ann=--annotation=org.kvmini.snapshot=false ;;
	kvmini-snap) oc_rt=$oc_dir/kvmini-oci ;;
	runc) oc_rt=/usr/sbin/runc ;;
	*) oc_rt=/usr/bin/crun ;;
	esac
	shift
	"$@" /usr/bin/podman --root "$oc_dir/storage" --runroot "$oc_dir/run" \
		--tmpdir "$oc_dir/tmp" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file --runtime "$oc_rt" \
		run --rm --network none $oc_ann --rootfs "$oc_dir/rootfs" true
}

oc_ok=1
if [ "$mode" = lab ] && [ -z "${HOSTROOT:-}" ]; then
	rec note "oci: no HOSTROOT (the build host's /) in this lab: no podman figures"
	oc_ok=0
else
	for f in usr/bin/podman usr/bin/conmon usr/sbin/runc usr/bin/crun usr/bin/busybox \
		usr/lib/qemu/virtiofsd; do
		[ -x "$oc_root/$f" ] && continue
		rec note "oci: no /$f on the build host (make deps): no podman figures"
		oc_ok=0
	done
fi
if [ $oc_ok -eq 1 ]; then
	# What systemd would have set up for podman: cgroup2 (conmon moves
	# itself into a cgroup under cgroupfs).
	if [ "$mode" = lab ] && ! grep -q " $oc_root/sys/fs/cgroup " /proc/mounts; then
		mount -t cgroup2 cgroup2 "$oc_root/sys/fs/cgroup" ||
			rec note "oci: cannot mount cgroup2 for podman"
	fi
	rm -rf "$oc_dir"
	mkdir -p "$oc_dir/storage" "$oc_dir/run" "$oc_dir/tmp" "$oc_dir/state"
	for d in bin proc sys dev etc run tmp; do
		mkdir -p "$oc_dir/rootfs/$d"
	done
	cp "$oc_root/usr/bin/busybox" "$oc_dir/rootfs/bin/busybox"
	ln -sf busybox "$oc_dir/rootfs/bin/true"
	cat >"$oc_dir/kvmini-oci" <<-EOF
	#!/bin/sh
	exec /usr/bin/env KVMINI_KERNEL="$oc_kernel" XDG_CACHE_HOME="$oc_dir/cache" "$oc_kx" oci --root "$oc_dir/state" "\$@"
	EOF
	chmod 0755 "$oc_dir/kvmini-oci"
	for r in kvmini kvmini-snap runc crun; do
		rec cmd "oci_$r" "$(oc_podman $r show)"
	done
	# One unmeasured run each: podman's storage and the page cache warm,
	# and kvmini-snap's snapshot saved.
	for r in kvmini kvmini-snap runc crun; do
		oc_podman $r oc_vmmrun -t "$run_timeout" -l "$oc_dir/warm-$r.log" -- >/dev/null
	done
	i=1
	while [ $i -le "$oc_runs" ]; do
		for r in kvmini kvmini-snap runc crun; do
			log=$oc_dir/run-$r-$i.log
			line=$(oc_podman $r oc_vmmrun -t "$run_timeout" -l "$log" --)
			rec oci $r $i "$line"
			case $line in
			"status=0 "*) ;;
			*) rec note "oci: podman run with $r, run $i failed: $line"; tail -n 5 "$log" |
				while IFS= read -r l; do rec note "  | $l"; done ;;
			esac
		done
		i=$((i + 1))
	done
fi
