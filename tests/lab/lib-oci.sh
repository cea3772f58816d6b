#!/bin/sh
# Helpers for the kvmini oci scenarios (oci.sh, oci-podman.sh, oci-ctr.sh),
# sourced after lib.sh.

# The snapshot cache's passes: a scenario runs its checks with the cache
# empty, calls oci_cache_mark DIR, runs them again, then oci_cache_check
# DIR MIN. mark notes each snapshot's inode and a time after every key's
# stamp; check says whether the second pass restored every shape the
# first saved (each key's stamp touched by its hit: newer than that
# time), replaced none (a restore refused would have replaced it) and
# added none, with at least MIN shapes. (test -nt: the outer VM's
# busybox find has no -newermt.)
oci_cache_mark()
{
	(cd "$1" 2>/dev/null && ls -id -- */) 2>/dev/null | sort >"$T/oci-cache.1"
	sleep 1
	touch "$T/oci-cache.ref"
	sleep 1
}

oci_cache_check()
{
	n=$(wc -l <"$T/oci-cache.1")
	(cd "$1" 2>/dev/null && ls -id -- */) 2>/dev/null | sort >"$T/oci-cache.2"
	unused=0 keys=0
	for k in "$1"/*.key; do
		[ -e "$k" ] || continue
		keys=$((keys + 1))
		[ "$k" -nt "$T/oci-cache.ref" ] || unused=$((unused + 1))
		# A snapshot written after the mark replaced one (its inode
		# may be the old one's again).
		[ -d "${k%.key}" ] && [ "${k%.key}" -nt "$T/oci-cache.ref" ] && unused=$((unused + 1))
	done
	if [ "$n" -ge "$2" ] && [ "$keys" -eq "$n" ] && [ "$unused" -eq 0 ] &&
		cmp -s "$T/oci-cache.1" "$T/oci-cache.2"; then
		echo "cache: the warm pass restored every shape ($n), replaced and added none"
	else
		fail cache "$n shapes (at least $2 expected), $keys keys, $unused not restored or replaced; snapshots before: $(tr '\n' ' ' <"$T/oci-cache.1") after: $(tr '\n' ' ' <"$T/oci-cache.2")"
	fi
}

# oci_need NAME FILE...: the scenario NAME skips (77) unless the build
# host's / (HOSTROOT) has each FILE and a static busybox.
oci_need()
{
	n=$1
	shift
	[ -n "${HOSTROOT:-}" ] || { echo "$n: needs the build host's / (HOSTROOT, x86_64 lab)"; exit 77; }
	for f in "$@"; do
		[ -x "$HOSTROOT/$f" ] || { echo "$n: no /$f on the build host (make deps)"; exit 77; }
	done
	hostrun sh -c 'ldd /usr/bin/busybox 2>&1' | grep -q 'not a dynamic executable' ||
		{ echo "$n: no static busybox on the build host (busybox-static)"; exit 77; }
}

# oci_rootfs DIR APPLET...: a static-busybox root with the mount points a
# read-only root must have (/proc, /sys, /dev, /etc, /run, /tmp).
oci_rootfs()
{
	r=$1
	shift
	mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/etc" "$r/run" "$r/tmp"
	cp "$HOSTROOT/usr/bin/busybox" "$r/bin/busybox"
	for a in "$@"; do
		ln -sf busybox "$r/bin/$a"
	done
}

# oci_wrapper FILE [FLAG...]: FILE runs kvmini oci with its guest kernel,
# FLAGs before the engine's arguments, and no HOME or XDG_CACHE_HOME (as
# conmon and a containerd service give it): its snapshot cache is then
# under --root.
oci_wrapper()
{
	w=$1
	shift
	{
		echo '#!/bin/sh'
		printf 'exec /usr/bin/env -u HOME -u XDG_CACHE_HOME KVMINI_KERNEL="%s" "%s" oci' \
			"$OUTER$KERNEL" "$KVMINI_PATH"
		for a in "$@"; do
			printf ' "%s"' "$a"
		done
		printf ' "$@"\n'
	} >"$w"
	chmod 0755 "$w"
}

# oci_cgroup2: what podman needs of the machine that systemd would have
# set up, cgroup2 (conmon moves itself into a cgroup under cgroupfs); the
# outer /init gives a writable /run and /dev/shm (its locks).
oci_cgroup2()
{
	grep -q " $HOSTROOT/sys/fs/cgroup " /proc/mounts ||
		mount -t cgroup2 cgroup2 "$HOSTROOT/sys/fs/cgroup"
}
