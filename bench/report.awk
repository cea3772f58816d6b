# Turns make bench's raw "@@BENCH" records (bench/bench.sh, bench/run.sh)
# into bench/RESULTS.md (-v md=FILE) and bench/results.json (-v json=FILE).
# POSIX awk (mawk on Debian).

function rest(from,    i, s) {
	# The line from field `from` on, spacing kept.
	s = $0
	for (i = 1; i < from; i++) {
		sub(/^[ \t]*[^ \t]+[ \t]?/, "", s)
	}
	return s
}

function kvparse(from,    i, eq) {
	split("", kv)
	for (i = from; i <= NF; i++) {
		eq = index($i, "=")
		if (eq)
			kv[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
}

function add(key, vmm, v) {
	n = ++cnt[key, vmm]
	val[key, vmm, n] = v + 0
}

# Sorted samples of (key, vmm) into s[1..n]; returns n.
function sorted(key, vmm,    n, i, j, x) {
	n = cnt[key, vmm] + 0
	for (i = 1; i <= n; i++) {
		x = val[key, vmm, i]
		for (j = i - 1; j >= 1 && s[j] > x; j--)
			s[j + 1] = s[j]
		s[j + 1] = x
	}
	return n
}

function stats(key, vmm,    n) {
	n = sorted(key, vmm)
	st_n = n
	if (!n)
		return 0
	st_min = s[1]
	st_max = s[n]
	st_med = (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
	return n
}

function num(v, unit) {
	if (unit == "MiB")
		return sprintf("%.1f", v)
	if (v >= 100)
		return sprintf("%.0f", v)
	if (v >= 10)
		return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}

function cell(key, vmm, unit) {
	if (!stats(key, vmm))
		return "—"
	if (st_n == 1)
		return num(st_med, unit) " (1 run)"
	return "**" num(st_med, unit) "** (" num(st_min, unit) "–" num(st_max, unit) ")"
}

function jstr(x) {
	gsub(/\\/, "\\\\", x)
	gsub(/"/, "\\\"", x)
	gsub(/\t/, "\\t", x)
	return "\"" x "\""
}

function jnum(v) {
	return sprintf("%.6g", v)
}

function jside(key, vmm,    i, out) {
	if (!stats(key, vmm))
		return "null"
	out = "{ \"n\": " st_n ", \"median\": " jnum(st_med) ", \"min\": " jnum(st_min) \
	      ", \"max\": " jnum(st_max) ", \"samples\": ["
	for (i = 1; i <= cnt[key, vmm]; i++)
		out = out (i > 1 ? ", " : "") jnum(val[key, vmm, i])
	return out "] }"
}

function median_of(key, vmm) {
	return stats(key, vmm) ? st_med : ""
}

function ratio_of(key, a, b,    x, y) {
	x = median_of(key, a)
	y = median_of(key, b)
	return (x != "" && y != "" && y + 0 > 0) ? sprintf("%.2f", x / y) : "—"
}

# The block table: one row per fio job and figure, three columns of
# figures (kvmini, QEMU, the host itself) and two ratios.
function blk_md(    i, j, k, unit, what) {
	print "## Block I/O: fio on one image file" > md
	print "" > md
	if (!cnt["blkiops|" blk_job[1], "kvmini"] && !cnt["blkiops|" blk_job[1], "host"]) {
		print "No block figures in this run (see the failed runs below)." > md
		print "" > md
		return
	}
	print "The same raw image file (" info["env.blk_image_mib"] " MiB of random data, on " (lab ? "the lab VM's tmpfs" : "this host's /tmp") "), the same" > md
	print "jobs, " info["env.blk_runtime_s"] " s each after 1 s of ramp, " info["env.blk_runs"] " run(s): inside a kvmini guest" > md
	print "(`--disk IMG`), inside a QEMU microvm guest (`virtio-blk-device`, `aio=io_uring`," > md
	print "`cache=writeback`), both 1 vCPU / 512 MiB and the same kernel, and on the" > md
	print "host itself (" (lab ? "the lab's outer VM" : "this machine") ", fio's `io_uring` engine). Every side goes through the host's" > md
	print "page cache (no O_DIRECT on the image: tmpfs before Linux 6.6 has none); the" > md
	print "guests use O_DIRECT on their `/dev/vda`, so that every request reaches the" > md
	print "device. In the guests, queue depth 32 is 32 threads of synchronous I/O" > md
	print "(`psync`: the test kernel has neither AIO nor io_uring), on the host" > md
	print "`iodepth=32` of `io_uring`. " info["env.fio_version"] "." > md
	print "" > md
	if (lab) {
		print "> **Emulated.** In the lab every guest exit, and every instruction of the" > md
		print "> \"host\" too (the lab's outer VM runs under QEMU TCG), is emulated: these are" > md
		print "> not figures for real disks or real machines, and the issue's host target" > md
		print "> (within 10 % of the host at QD32) cannot be judged here: a guest request" > md
		print "> costs several nested exits, which TCG makes far dearer than the host's" > md
		print "> own system calls. Its QEMU target (at least QEMU's figures) can: QEMU" > md
		print "> pays the same costs." > md
		print "" > md
	}
	print "| job | figure | kvmini | QEMU microvm | host | kvmini/QEMU | kvmini/host |" > md
	print "| --- | --- | --- | --- | --- | --- | --- |" > md
	for (i = 1; i <= nblk; i++) {
		for (j = 1; j <= 3; j++) {
			k = (j == 1 ? "blkiops|" : j == 2 ? "blkbw|" : "blkirq|") blk_job[i]
			unit = j == 1 ? "IOPS" : j == 2 ? "MiB/s" : "interrupts/request"
			what = j == 1 ? blk_label[blk_job[i]] : ""
			if (j == 3 && !cnt[k, "kvmini"] && !cnt[k, "qemu"])
				continue
			print "| " what " | " unit " | " cell(k, "kvmini", unit) " | " cell(k, "qemu", unit) " | " \
				cell(k, "host", unit) " | " ratio_of(k, "kvmini", "qemu") " | " ratio_of(k, "kvmini", "host") " |" > md
		}
	}
	print "" > md
	print "Interrupts per request: the guest's count of the disk's interrupts" > md
	print "(`/proc/interrupts`) over the requests it completed (`/sys/block/vda/stat`)" > md
	print "during the job. Each interrupt costs the guest exits; kvmini holds a busy" > md
	print "driver's interrupts a little so that one serves several completions" > md
	print "(`virtio/coalesce.h`), QEMU gathers them by being slower to answer." > md
	print "" > md
	print "```sh" > md
	print cmd["blk_kvmini"] > md
	print cmd["blk_qemu"] > md
	print cmd["blk_host"] > md
	print "```" > md
	print "" > md
}

function blk_json(    i, j, k, sep) {
	print "  \"block\": [" > json
	sep = ""
	for (i = 1; i <= nblk; i++) {
		for (j = 1; j <= 3; j++) {
			k = (j == 1 ? "blkiops|" : j == 2 ? "blkbw|" : "blkirq|") blk_job[i]
			printf "%s    { \"job\": %s, \"unit\": %s,\n      \"kvmini\": %s,\n      \"qemu\": %s,\n      \"host\": %s }", \
				sep, jstr(blk_job[i]), jstr(j == 1 ? "IOPS" : j == 2 ? "MiB/s" : "interrupts/request"), jside(k, "kvmini"), \
				jside(k, "qemu"), jside(k, "host") > json
			sep = ",\n"
		}
	}
	print "\n  ]," > json
}

# The network table: per set-up (tap, user) and figure, kvmini, QEMU, the
# ratio and whether it meets issue 5's target (kvmini at least QEMU's
# throughput; for the round trip, at most QEMU's).
# net_ahead KEY: "K of N": in how many of the N runs that have both VMMs'
# figure kvmini's was the better one. The two of a run ran back to back,
# so this holds up better against the machine's drifting load than the
# medians alone.
function net_ahead(k, better,    r, a, b, n, w) {
	n = w = 0
	for (r = 1; r <= net_maxrun; r++) {
		if (!((k, "kvmini", r) in net_run) || !((k, "qemu", r) in net_run))
			continue
		a = net_run[k, "kvmini", r]
		b = net_run[k, "qemu", r]
		n++
		if (better == "higher" ? a >= b : a <= b)
			w++
	}
	return n ? w " of " n : "—"
}

function net_md(    i, j, k, r, ok) {
	print "## Network: iperf3 and ping" > md
	print "" > md
	if (!net_any()) {
		print "No network figures in this run" (nnotes ? " (see the failed runs below)." : ".") > md
		print "" > md
		return
	}
	print "The same guest (1 vCPU, 512 MiB, the tools disk for iperf3) on each network," > md
	print info["env.net_runs"] " boots per set-up, interleaved (kvmini then QEMU, then QEMU then kvmini;" > md
	print "both VMMs on the tap, then both on user networking); each boot gives one of" > md
	print "each figure. TCP throughput: one `iperf3 -t " info["env.net_secs"] " -f m` test each way, the" > md
	print "receiver's Mbit/s; guest → host is the guest's client sending to a server" > md
	print "here, host → guest a client here sending to the guest's server (on user" > md
	print "networking through `hostfwd`). Round trip: the median of " info["env.net_pings"] " pings" > md
	print "from the guest (`-i 0.2`) to this side, 10.0.99.1 on the tap; on user" > md
	print "networking the gateway 10.0.2.2, which each VMM's own libslirp answers." > md
	print "All of it inside a network namespace of the benchmark's own. " info["env.iperf3_version"] "." > md
	print "" > md
	print "- **tap**: kvmini `--net tap=benchtap0`; QEMU microvm `-device virtio-net-device`" > md
	print "  on `-netdev tap,...,vhost=off`: the same persistent tap (10.0.99.1/24 here, the" > md
	print "  guest 10.0.99.2), attached in turn, offloads negotiated by each." > md
	print "- **user**: kvmini `--net user,hostfwd=...`; QEMU `-netdev user,hostfwd=...`:" > md
	print "  libslirp in both (the guest takes 10.0.2.15 by DHCP)." > md
	print "" > md
	if (lab) {
		print "> **Emulated.** Nested KVM under QEMU TCG: the iperf3 on this side, both" > md
		print "> VMMs' I/O threads and every exit a guest's notification or interrupt" > md
		print "> causes run in the emulator, so these are not network speeds of real" > md
		print "> machines (hardware is one to two orders of magnitude faster). Compare" > md
		print "> kvmini with QEMU, which pays the same costs; the issue's targets are" > md
		print "> judged on these ratios, in this environment only." > md
		print "" > md
	}
	print "| network | figure | unit | better | kvmini | QEMU microvm | kvmini/QEMU | kvmini better in | target |" > md
	print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |" > md
	for (i = 1; i <= 2; i++) {
		for (j = 1; j <= nnetm; j++) {
			k = "net|" net_set[i] "|" net_m[j]
			r = ratio_of(k, "kvmini", "qemu")
			ok = "—"
			if (r != "—")
				ok = (net_better[net_m[j]] == "higher" ? r + 0 >= 1 : r + 0 <= 1) ? "met" : "**missed**"
			print "| " (j == 1 ? net_label[net_set[i]] : "") " | " net_mlabel[net_m[j]] " | " \
				net_unit[net_m[j]] " | " net_better[net_m[j]] " | " cell(k, "kvmini", "") " | " \
				cell(k, "qemu", "") " | " r " | " net_ahead(k, net_better[net_m[j]]) " runs | " ok " |" > md
		}
	}
	print "" > md
	print "Target (issue 5): kvmini on a tap at least QEMU on a tap, kvmini on user" > md
	print "networking at least QEMU on user networking (throughput ≥, round trip ≤)." > md
	print "\"kvmini better in\": the runs in which kvmini's figure beat QEMU's from the" > md
	print "same run (the two booted back to back). With this few boots on a shared," > md
	print "emulated machine the min–max ranges are wide: read a ratio near 1 as a" > md
	print "tie, and the count of runs as how consistent the difference was." > md
	print "" > md
	print "```sh" > md
	print cmd["net_kvmini_tap"] > md
	print cmd["net_qemu_tap"] > md
	print cmd["net_kvmini_user"] > md
	print cmd["net_qemu_user"] > md
	print "# " cmd["net_iperf3"] > md
	print "```" > md
	print "" > md
}

function net_any(    i, j) {
	for (i = 1; i <= 2; i++)
		for (j = 1; j <= nnetm; j++)
			if (cnt["net|" net_set[i] "|" net_m[j], "kvmini"] + cnt["net|" net_set[i] "|" net_m[j], "qemu"])
				return 1
	return 0
}

function net_json(    i, j, k, a, b, sep) {
	print "  \"network\": [" > json
	sep = ""
	for (i = 1; i <= 2; i++) {
		for (j = 1; j <= nnetm; j++) {
			k = "net|" net_set[i] "|" net_m[j]
			a = median_of(k, "kvmini")
			b = median_of(k, "qemu")
			printf "%s    { \"net\": %s, \"metric\": %s, \"unit\": %s, \"better\": %s,\n      \"kvmini\": %s,\n      \"qemu\": %s,\n      \"kvmini_over_qemu\": %s, \"kvmini_better_runs\": %s }", \
				sep, jstr(net_set[i]), jstr(net_m[j]), jstr(net_unit[net_m[j]]), \
				jstr(net_better[net_m[j]]), jside(k, "kvmini"), jside(k, "qemu"), \
				(a != "" && b != "" && b + 0 > 0) ? jnum(a / b) : "null", \
				jstr(net_ahead(k, net_better[net_m[j]])) > json
			sep = ",\n"
		}
	}
	print "\n  ]," > json
}

# The vsock table: guest → host and host → guest throughput and the round
# trip, kvmini (Unix sockets on the host) against QEMU's vhost-vsock
# (AF_VSOCK on the host), each through its own native host interface.
function vsock_md(    j, k, r) {
	print "## vsock: throughput and round trip" > md
	print "" > md
	if (!vsock_any()) {
		print "No vsock figures in this run" (nnotes ? " (see the failed runs below)." : ".") > md
		print "" > md
		return
	}
	print "The same guest (1 vCPU, 256 MiB; `tests/guest/vsock-bench.sh`, the vsock tool" > md
	print "`guests/tools/vsock.c` on both ends), " info["env.vsock_runs"] " boots per VMM, interleaved; each" > md
	print "boot gives one of each figure, all timed on this side from the moment the" > md
	print "stream is established: one stream of " info["env.vsock_mib"] " MiB from the guest read to its" > md
	print "end (guest → host), one of " info["env.vsock_mib"] " MiB to the guest until the guest's close" > md
	print "(host → guest), and the median of " info["env.vsock_pings"] " round trips of " info["env.vsock_size"] " bytes to an" > md
	print "echo in the guest." > md
	print "" > md
	print "- **kvmini**: `--vsock 3,uds=PATH`; its host end is Unix sockets in" > md
	print "  Firecracker's protocol (`PATH_5100` for the guest's connect, `CONNECT 5101`" > md
	print "  on `PATH` for the host's)." > md
	print "- **QEMU**: microvm, `-device vhost-vsock-device,guest-cid=3`: the host" > md
	print "  kernel's `vhost_vsock` moves the data; its host end is AF_VSOCK sockets." > md
	if (info["env.vsock_vhost"] == "no")
		print "  **Absent from this run**: this side had no `/dev/vhost-vsock` (see the notes)." > md
	print "" > md
	print "End to end for each VMM through its native host interface: the guest's side" > md
	print "is the same program on the same driver, the host's differs (a Unix socket" > md
	print "and kvmini's I/O thread in user space, against AF_VSOCK and a vhost kernel" > md
	print "thread)." > md
	print "" > md
	print "| figure | unit | better | kvmini | QEMU microvm (vhost-vsock) | kvmini/QEMU | kvmini better in |" > md
	print "| --- | --- | --- | --- | --- | --- | --- |" > md
	for (j = 1; j <= nvsm; j++) {
		k = "vsock|" vs_m[j]
		r = ratio_of(k, "kvmini", "qemu")
		print "| " vs_label[vs_m[j]] " | " vs_unit[vs_m[j]] " | " vs_better[vs_m[j]] " | " \
			cell(k, "kvmini", "") " | " cell(k, "qemu", "") " | " r " | " \
			net_ahead(k, vs_better[vs_m[j]]) " runs |" > md
	}
	print "" > md
	print "```sh" > md
	print cmd["vsock_kvmini"] > md
	print "# " cmd["vsock_host_kvmini"] > md
	print cmd["vsock_qemu"] > md
	print "# " cmd["vsock_host_qemu"] > md
	print "```" > md
	print "" > md
}

function vsock_any(    j) {
	for (j = 1; j <= nvsm; j++)
		if (cnt["vsock|" vs_m[j], "kvmini"] + cnt["vsock|" vs_m[j], "qemu"])
			return 1
	return 0
}

function vsock_json(    j, k, a, b, sep) {
	print "  \"vsock\": [" > json
	sep = ""
	for (j = 1; j <= nvsm; j++) {
		k = "vsock|" vs_m[j]
		a = median_of(k, "kvmini")
		b = median_of(k, "qemu")
		printf "%s    { \"metric\": %s, \"unit\": %s, \"better\": %s,\n      \"kvmini\": %s,\n      \"qemu\": %s,\n      \"kvmini_over_qemu\": %s, \"kvmini_better_runs\": %s }", \
			sep, jstr(vs_m[j]), jstr(vs_unit[vs_m[j]]), jstr(vs_better[vs_m[j]]), \
			jside(k, "kvmini"), jside(k, "qemu"), \
			(a != "" && b != "" && b + 0 > 0) ? jnum(a / b) : "null", \
			jstr(net_ahead(k, vs_better[vs_m[j]])) > json
		sep = ",\n"
	}
	print "\n  ]," > json
}

# ---- the exit census (BENCH=census; bench/census.sh) -----------------------
# Sums per (VMM, config) over the traced runs; the tables show the mean per
# boot. Keys: ce[c, vmm, kind "|" what] (counts), ceus[...] (µs).

function ce_cfg(c) {
	return c == "1|128" ? "1 vCPU, 128 MiB" : (c == "2|1024" ? "2 vCPUs, 1 GiB" : c)
}

function ce_n(c, v, k,    r) {
	r = ce_runs[c, v] + 0
	return r ? ce[c, v, k] / r : 0
}

function ce_us(c, v, k,    r) {
	r = ce_runs[c, v] + 0
	return r ? ceus[c, v, k] / r : 0
}

function ce_kat(c, v) {
	return ce[c, v, "katn|"] ? sprintf("%.0f", ce[c, v, "kat|"] / ce[c, v, "katn|"] * 1000) : "—"
}

function ce_fmt(x) {
	if (x == "")
		return "—"
	return x >= 100 || x == int(x) ? sprintf("%.0f", x) : sprintf("%.1f", x)
}

# The keys of one kind (exit, user, pio, mmio, msr) for config c, by the
# larger of the two VMMs' counts, into ck[1..n]; returns n.
function ce_keys(c, kind, max,    k, n, i, j, x, y, p) {
	n = 0
	for (k in ce_key) {
		split(k, p, SUBSEP)
		if (p[1] != c || p[2] != kind)
			continue
		ck[++n] = p[3]
	}
	for (i = 2; i <= n; i++) {
		x = ck[i]
		y = ce_big(c, kind, x)
		for (j = i - 1; j >= 1 && ce_big(c, kind, ck[j]) < y; j--)
			ck[j + 1] = ck[j]
		ck[j + 1] = x
	}
	return n < max ? n : max
}

function ce_big(c, kind, x,    a, b) {
	a = ce_n(c, "kvmini", kind "|" x)
	b = ce_n(c, "qemu", kind "|" x)
	return a > b ? a : b
}

function ce_rows(c, kind, label, max, with_time,    n, i, k, a, b) {
	n = ce_keys(c, kind, max)
	for (i = 1; i <= n; i++) {
		k = kind "|" ck[i]
		a = ce_n(c, "kvmini", k)
		b = ce_n(c, "qemu", k)
		if (with_time)
			print "| " label " " ck[i] " | " ce_fmt(a) " | " ce_fmt(ce_us(c, "kvmini", k) / 1000) \
				" | " ce_fmt(b) " | " ce_fmt(ce_us(c, "qemu", k) / 1000) " |" > md
		else
			print "| " label " " ck[i] " | " ce_fmt(a) " | | " ce_fmt(b) " | |" > md
	}
}

function ce_ms(c, v, m) {
	return (c SUBSEP v SUBSEP m) in ce_pk ? ce_pk[c, v, m] : ""
}

function ce_phase(c, label, from, to,    a0, a1, b0, b1, a, b) {
	a0 = from == "0" ? 0 : ce_ms(c, "kvmini", from)
	a1 = ce_ms(c, "kvmini", to)
	b0 = from == "0" ? 0 : ce_ms(c, "qemu", from)
	b1 = ce_ms(c, "qemu", to)
	a = a0 != "" && a1 != "" ? sprintf("%.0f", (a1 - a0) * 1000) : "—"
	b = b0 != "" && b1 != "" ? sprintf("%.0f", (b1 - b0) * 1000) : "—"
	print "| " label " | " a " | " b " |" > md
}

function census_any(    k) {
	for (k in ce_runs)
		return 1
	return 0
}

function census_md(    ci, c, k, v, n, i) {
	print "## Exit census: where a boot to init goes" > md
	print "" > md
	if (!census_any()) {
		print "No exit census in this run (`BENCH=census`)." > md
		print "" > md
		return
	}
	print "One traced boot per VMM and configuration (" info["env.census_runs"] " each, interleaved;" > md
	print "`bench/census.sh`), from VM creation to the guest's `kvmini-guest: init`" > md
	print "line, both on the same guest, `quiet` (the census initramfs is the test one" > md
	print "with `/tests/census.sh` appended, which prints the guest's dmesg after init)." > md
	print "Counts come from KVM's trace events in the lab's kernel: `kvm_exit` (every" > md
	print "exit and its reason; ms = time until the same vCPU's next `kvm_entry`, for" > md
	print "`hlt` the time halted), `kvm_userspace_exit` (exits the VMM handles; ms =" > md
	print "the VMM's time until it re-enters), `kvm_pio`, `kvm_mmio`, `kvm_msr`; and" > md
	print "KVM's per-VM statistics (debugfs `kvm/PID-FD/`), read at the init line." > md
	print "The trace slows both VMMs' boots: these boot times are not the figures above." > md
	print "" > md
	for (ci = 1; ci <= 2; ci++) {
		c = ci == 1 ? "1|128" : "2|1024"
		if (!ce_runs[c, "kvmini"] && !ce_runs[c, "qemu"])
			continue
		print "### " ce_cfg(c) > md
		print "" > md
		print "| per boot | kvmini | ms | QEMU microvm | ms |" > md
		print "| --- | --- | --- | --- | --- |" > md
		print "| boot to init, traced (ms) | " ce_fmt(ce_n(c, "kvmini", "init|") * 1000) " | | " \
			ce_fmt(ce_n(c, "qemu", "init|") * 1000) " | |" > md
		print "| first exit → kernel's kvmclock set-up (firmware, boot loader, decompression; ms) | " \
			ce_kat(c, "kvmini") " | | " ce_kat(c, "qemu") " | |" > md
		print "| **exits, all** | **" ce_fmt(ce_n(c, "kvmini", "total|")) "** | | **" \
			ce_fmt(ce_n(c, "qemu", "total|")) "** | |" > md
		ce_rows(c, "exit", "exit:", 12, 1)
		ce_rows(c, "user", "to the VMM:", 6, 1)
		print "| KVM stat pages_4k / pages_2m (guest RAM mapped by 4 KiB / 2 MiB pages) | " \
			ce_fmt(ce_n(c, "kvmini", "stat|pages_4k")) " / " ce_fmt(ce_n(c, "kvmini", "stat|pages_2m")) " | | " \
			ce_fmt(ce_n(c, "qemu", "stat|pages_4k")) " / " ce_fmt(ce_n(c, "qemu", "stat|pages_2m")) " | |" > md
		n = split("irq_injections irq_window_exits halt_exits insn_emulation", k, " ")
		for (i = 1; i <= n; i++)
			print "| KVM stat " k[i] " | " ce_fmt(ce_n(c, "kvmini", "stat|" k[i])) " | | " \
				ce_fmt(ce_n(c, "qemu", "stat|" k[i])) " | |" > md
		ce_rows(c, "pio", "port", 10, 0)
		ce_rows(c, "mmio", "MMIO", 8, 0)
		ce_rows(c, "msr", "MSR", 4, 0)
		print "" > md
		print "Guest printk timeline (the guest's own clock, ms; the first run's dmesg):" > md
		print "" > md
		print "| phase (from → to the first line of) | kvmini | QEMU microvm |" > md
		print "| --- | --- | --- |" > md
		ce_phase(c, "early set-up: 0 → `Calibrating delay loop`", "0", "calibrate")
		ce_phase(c, "calibration, local APIC timer → `smp: Bringing up`", "calibrate", "smp_start")
		ce_phase(c, "SMP bring-up → `smp: Brought up`", "smp_start", "smp_done")
		ce_phase(c, "core initcalls → `clocksource: Switched`", "smp_done", "clocksource")
		ce_phase(c, "initcalls, initramfs unpack → `Freeing initrd memory`", "clocksource", "initrd_done")
		ce_phase(c, "device probe → `Freeing unused kernel`", "initrd_done", "freeing")
		ce_phase(c, "→ `Run /init`", "freeing", "run_init")
		ce_phase(c, "**total, 0 → `Run /init`**", "0", "run_init")
		for (v = 1; v <= 2; v++) {
			vm = v == 1 ? "kvmini" : "qemu"
			if (ce_ms(c, vm, "apic_fail") != "")
				print "| " vm "'s guest: `APIC timer disabled due to verification failure` at (ms) | " \
					(v == 1 ? sprintf("%.0f", ce_ms(c, vm, "apic_fail") * 1000) " | |" : " | " \
					sprintf("%.0f", ce_ms(c, vm, "apic_fail") * 1000) " |") > md
		}
		print "" > md
		for (v = 1; v <= 2; v++) {
			vm = v == 1 ? "kvmini" : "qemu"
			if (!ce_ngap[c, vm])
				continue
			print "Largest gaps between consecutive dmesg lines, " vm " (s, at, the line after):" > md
			print "" > md
			print "```" > md
			for (i = 1; i <= ce_ngap[c, vm] && i <= 5; i++)
				print ce_gap[c, vm, i] > md
			print "```" > md
			print "" > md
		}
	}
}

function row(id, key, label, config, unit, better) {
	nrows++
	r_id[nrows] = id
	r_key[nrows] = key
	r_label[nrows] = label
	r_config[nrows] = config
	r_unit[nrows] = unit
	r_better[nrows] = better
}

BEGIN {
	row("boot_to_init", "init|1|128", "Boot to init", "1 vCPU, 128 MiB", "ms", "lower")
	row("boot_to_exit", "exit|1|128", "Boot to exit (guest `reboot -f`)", "1 vCPU, 128 MiB", "ms", "lower")
	row("boot_to_init", "init|2|1024", "Boot to init", "2 vCPUs, 1 GiB", "ms", "lower")
	row("startup_to_kvm_run", "startup|1|128", "VMM start-up: exec → first KVM_RUN", "1 vCPU, 128 MiB", "ms", "lower")
	row("rss_overhead", "ovh|1|128", "VMM memory overhead: RSS − guest RAM", "1 vCPU, 128 MiB", "MiB", "lower")
	row("rss_overhead", "ovh|2|1024", "VMM memory overhead: RSS − guest RAM", "2 vCPUs, 1 GiB", "MiB", "lower")
	row("anon_overhead", "aovh|1|128", "… of which anonymous (heap, stacks; not code)", "1 vCPU, 128 MiB", "MiB", "lower")
	row("anon_overhead", "aovh|2|1024", "… of which anonymous (heap, stacks; not code)", "2 vCPUs, 1 GiB", "MiB", "lower")
	row("file_overhead", "fovh|1|128", "… of which file-backed (code, read-only data)", "1 vCPU, 128 MiB", "MiB", "lower")
	row("file_overhead", "fovh|2|1024", "… of which file-backed (code, read-only data)", "2 vCPUs, 1 GiB", "MiB", "lower")
	row("rss_overhead_net_user", "ovh|1|128|user", "VMM memory overhead, NIC on user networking", "1 vCPU, 128 MiB", "MiB", "lower")
	row("anon_overhead_net_user", "aovh|1|128|user", "… of which anonymous", "1 vCPU, 128 MiB", "MiB", "lower")
	row("file_overhead_net_user", "fovh|1|128|user", "… of which file-backed", "1 vCPU, 128 MiB", "MiB", "lower")
	row("guest_ram_touched", "guest|1|128", "Guest RAM touched at idle (excluded above)", "1 vCPU, 128 MiB", "MiB", "—")
	row("guest_ram_touched", "guest|2|1024", "Guest RAM touched at idle (excluded above)", "2 vCPUs, 1 GiB", "MiB", "—")
	row("start_rate", "rate|1", "Start rate, back to back", "1 vCPU, 128 MiB", "VMs/s", "higher")
	row("start_rate", "rate|2", "Start rate, 2 in parallel", "1 vCPU, 128 MiB", "VMs/s", "higher")
	nnotes = 0
	nblk = split("randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32 read-1m write-1m", blk_job, " ")
	blk_label["randread-4k-qd1"] = "4 KiB random read, QD1"
	blk_label["randread-4k-qd32"] = "4 KiB random read, QD32"
	blk_label["randwrite-4k-qd1"] = "4 KiB random write, QD1"
	blk_label["randwrite-4k-qd32"] = "4 KiB random write, QD32"
	blk_label["read-1m"] = "1 MiB sequential read"
	blk_label["write-1m"] = "1 MiB sequential write"
	split("tap user", net_set, " ")
	net_label["tap"] = "tap"
	net_label["user"] = "user (libslirp)"
	nnetm = split("g2h h2g rtt", net_m, " ")
	net_mlabel["g2h"] = "TCP guest → host"
	net_mlabel["h2g"] = "TCP host → guest"
	net_mlabel["rtt"] = "ping round trip, median"
	net_unit["g2h"] = net_unit["h2g"] = "Mbit/s"
	net_unit["rtt"] = "ms"
	net_better["g2h"] = net_better["h2g"] = "higher"
	net_better["rtt"] = "lower"
	nvsm = split("g2h h2g rtt", vs_m, " ")
	vs_label["g2h"] = "guest → host, one stream"
	vs_label["h2g"] = "host → guest, one stream"
	vs_label["rtt"] = "round trip, median"
	vs_unit["g2h"] = vs_unit["h2g"] = "MiB/s"
	vs_unit["rtt"] = "µs"
	vs_better["g2h"] = vs_better["h2g"] = "higher"
	vs_better["rtt"] = "lower"
}

$1 != "@@BENCH" { next }

$2 == "host" || $2 == "env" {
	info[$2 "." $3] = rest(4)
	next
}

$2 == "cmd" {
	cmd[$3] = rest(4)
	next
}

$2 == "done" {
	complete = 1
	next
}

$2 == "note" {
	notes[++nnotes] = rest(3)
	next
}

$2 == "boot" {
	kvparse(7)
	if (kv["status"] != "0" || kv["init"] == "-" || kv["init"] == "")
		next
	add("init|" $4 "|" $5, $3, kv["init"] * 1000)
	if (kv["exit"] != "-")
		add("exit|" $4 "|" $5, $3, kv["exit"] * 1000)
	if (kv["kvmrun"] != "-" && kv["kvmrun"] != "")
		add("startup|" $4 "|" $5, $3, kv["kvmrun"] * 1000)
	next
}

$2 == "mem" {
	kvparse(7)
	if (kv["rss_kib"] == "-" || kv["rss_kib"] == "")
		next
	# net=user: the runs with a NIC on user networking, rows of their own.
	c = $4 "|" $5 (kv["net"] != "" ? "|" kv["net"] : "")
	add("ovh|" c, $3, kv["ovh_kib"] / 1024)
	add("aovh|" c, $3, kv["ovh_anon_kib"] / 1024)
	add("fovh|" c, $3, (kv["ovh_kib"] - kv["ovh_anon_kib"]) / 1024)
	add("guest|" c, $3, kv["guest_kib"] / 1024)
	# The 1-vCPU boot figures come from the boot runs; the 2-vCPU ones
	# only from here.
	if (c == "2|1024" && kv["init"] != "-")
		add("init|" c, $3, kv["init"] * 1000)
	next
}

# @@BENCH blk VMM JOB RUN iops=N bw_kib=N err=N (VMM: kvmini, qemu, host)
$2 == "blk" {
	kvparse(6)
	if (kv["err"] != "0" || kv["iops"] == "")
		next
	add("blkiops|" $4, $3, kv["iops"])
	add("blkbw|" $4, $3, kv["bw_kib"] / 1024)
	next
}

# @@BENCH blkirq VMM JOB RUN irqs=N ios=N (the guest's counts)
$2 == "blkirq" {
	kvparse(6)
	if (kv["ios"] + 0 > 0)
		add("blkirq|" $4, $3, kv["irqs"] / kv["ios"])
	next
}

# @@BENCH net VMM NET METRIC RUN value=V (bench/net.sh)
$2 == "net" {
	kvparse(7)
	if (kv["value"] != "") {
		add("net|" $4 "|" $5, $3, kv["value"])
		net_run["net|" $4 "|" $5, $3, $6] = kv["value"] + 0
		if ($6 + 0 > net_maxrun)
			net_maxrun = $6 + 0
	}
	next
}

# @@BENCH vsock VMM METRIC RUN value=V (bench/vsock.sh)
$2 == "vsock" {
	kvparse(6)
	if (kv["value"] != "") {
		add("vsock|" $4, $3, kv["value"])
		net_run["vsock|" $4, $3, $5] = kv["value"] + 0
		if ($5 + 0 > net_maxrun)
			net_maxrun = $5 + 0
	}
	next
}

# @@BENCH census VMM CPUS MIB RUN KIND ... (bench/census.sh)
$2 == "census" {
	c = $4 "|" $5
	v = $3
	kind = $7
	if (kind == "run") {
		kvparse(8)
		if (kv["status"] != "0" || kv["init"] == "-" || kv["init"] == "")
			next
		ce_runs[c, v]++
		ce[c, v, "init|"] += kv["init"]
	} else if (kind == "trace") {
		kvparse(8)
		ce[c, v, "total|"] += kv["exits"]
		if (kv["kernel_at"] != "-" && kv["kernel_at"] != "") {
			ce[c, v, "kat|"] += kv["kernel_at"]
			ce[c, v, "katn|"]++
		}
	} else if (kind == "exit" || kind == "user" || kind == "stat") {
		kvparse(9)
		ce[c, v, kind "|" $8] += kv["n"]
		ceus[c, v, kind "|" $8] += kv["us"]
		ce_key[c, kind, $8] = 1
	} else if (kind == "pio" || kind == "mmio" || kind == "msr") {
		kvparse(10)
		ce[c, v, kind "|" $8 " " $9] += kv["n"]
		ce_key[c, kind, $8 " " $9] = 1
	} else if (kind == "printk") {
		kvparse(9)
		if (!((c SUBSEP v SUBSEP $8) in ce_pk))
			ce_pk[c, v, $8] = kv["t"]
	} else if (kind == "gap") {
		if ($6 == "1")
			ce_gap[c, v, ++ce_ngap[c, v]] = rest(8)
	}
	next
}

# @@BENCH exec cold|warm|fill RUN status=N ... exit=S (bench/snapshot.sh)
$2 == "exec" {
	kvparse(5)
	if (kv["status"] == "0" && kv["exit"] != "-" && kv["exit"] != "")
		add("exec|" $3, "kvmini", kv["exit"] * 1000)
	next
}

# @@BENCH oci RUNTIME RUN status=N ... exit=S (bench/oci.sh)
$2 == "oci" {
	kvparse(5)
	if (kv["status"] == "0" && kv["exit"] != "-" && kv["exit"] != "")
		add("oci", $3, kv["exit"] * 1000)
	next
}

# @@BENCH restore kvmini 1 128 RUN status=N init=S idle=- exit=S kvmrun=S
$2 == "restore" {
	kvparse(7)
	if (kv["status"] != "0" || kv["init"] == "-" || kv["init"] == "")
		next
	add("rinit", "kvmini", kv["init"] * 1000)
	if (kv["exit"] != "-")
		add("rexit", "kvmini", kv["exit"] * 1000)
	if (kv["kvmrun"] != "-" && kv["kvmrun"] != "")
		add("rstartup", "kvmini", kv["kvmrun"] * 1000)
	next
}

# @@BENCH snapmem restore 1 128 RUN status=N ... rss_kib=K ... (one restored VM)
$2 == "snapmem" {
	kvparse(7)
	if (kv["rss_kib"] == "-" || kv["rss_kib"] == "")
		next
	add("sovh", "kvmini", kv["ovh_kib"] / 1024)
	add("saovh", "kvmini", kv["ovh_anon_kib"] / 1024)
	add("sfovh", "kvmini", (kv["ovh_kib"] - kv["ovh_anon_kib"]) / 1024)
	add("sguest", "kvmini", kv["guest_kib"] / 1024)
	add("sganon", "kvmini", kv["ganon_kib"] / 1024)
	next
}

# @@BENCH snapshare N RUN vm=K init=S rss_kib=... | status=S1,...
$2 == "snapshare" {
	kvparse(5)
	if (kv["vm"] != "" && kv["rss_kib"] != "-" && kv["rss_kib"] != "") {
		k = kv["vm"] + 0
		if (k > sh_n)
			sh_n = k
		sh["rss", k] = kv["guest_kib"] / 1024
		sh["pss", k] = kv["gpss_kib"] / 1024
		sh["sc", k] = kv["gsc_kib"] / 1024
		sh["sd", k] = kv["gsd_kib"] / 1024
		sh["pc", k] = kv["gpc_kib"] / 1024
		sh["pd", k] = kv["gpd_kib"] / 1024
		sh["prss", k] = kv["rss_kib"] / 1024
		sh["ppss", k] = kv["pss_kib"] / 1024
	} else if (kv["status"] != "") {
		sh_status = kv["status"]
	}
	next
}

$2 == "rate" {
	kvparse(6)
	if (kv["ok"] != kv["n"] || kv["wall"] + 0 <= 0)
		next
	add("rate|" $4, $3, kv["n"] / kv["wall"])
	next
}

# The snapshot section (issue 19): kvmini exec cold and from the snapshot
# cache, kvmini run --restore, its start rate, the memory of restored VMs;
# QEMU microvm's cold boot of the same guest as the ratios' peer.
function tgt(r, op, want) {
	if (r == "—")
		return "—"
	if (op == "<=")
		return r + 0 <= want ? "met" : "**missed** (" sprintf("%.1f", (r + 0) / want) "× the target)"
	return r + 0 >= want ? "met" : "**missed** (" sprintf("%.1f", want / (r + 0)) "× short)"
}

function snap_row(label, unit, better, ka, va, kb, vb, target,    r) {
	r = ratio_of2(ka, va, kb, vb)
	print "| " label " | " unit " | " better " | " cell(ka, va, unit) " | " \
		(kb == "" ? "—" : cell(kb, vb, unit)) " | " r " | " \
		(target == "le01" ? tgt(r, "<=", 0.1) : target == "ge5" ? tgt(r, ">=", 5) : "—") " |" > md
}

function ratio_of2(ka, va, kb, vb,    x, y) {
	if (kb == "")
		return "—"
	x = median_of(ka, va)
	y = median_of(kb, vb)
	return (x != "" && y != "" && y + 0 > 0) ? sprintf("%.3g", x / y) : "—"
}

function snap_any() {
	return cnt["exec|warm", "kvmini"] + cnt["exec|cold", "kvmini"] + cnt["rinit", "kvmini"] + \
		cnt["rate|1", "restore"] + cnt["sovh", "kvmini"] + sh_n > 0
}

function shsum(f,    k, t) {
	t = 0
	for (k = 1; k <= sh_n; k++)
		t += sh[f, k]
	return t
}

function snap_md(    r, k) {
	print "## Snapshots: exec and restore (issue 19)" > md
	print "" > md
	if (!snap_any()) {
		print "No snapshot figures in this run" (nnotes ? " (see the failed runs below)." : ".") > md
		print "" > md
		return
	}
	print "The same kernel as the boot figures, 1 vCPU / 128 MiB throughout; QEMU microvm's" > md
	print "cold boot of that guest (the boot figures above, or measured by this part when" > md
	print "it ran alone) is the peer of each ratio. " info["env.snap_runs"] " runs of each kvmini figure." > md
	print "" > md
	print "- **exec**: `kvmini exec --mem 128M -- true`, fork → exit, boot, job and" > md
	print "  teardown included: cold (`--no-snapshot`) against from the snapshot cache" > md
	print "  (one fresh `--snapshot-dir`, filled by a first run left out), interleaved." > md
	print "  Its peer is QEMU's boot to init, a smaller span (no job, no exit). From" > md
	print "  the cache, the root share's virtiofsd starts before the VM is created," > md
	print "  guest RAM (a memfd, since virtiofsd maps it) is filled from the memory" > md
	print "  file with `sendfile()` while that virtiofsd comes up (before the VM's" > md
	print "  virtio-fs set-up, which waits for it)," > md
	print "  and the restored guest finds every mount but virtio-fs made; it then" > md
	print "  mounts the host's `/` over virtio-fs (`cache=always`, 1 MiB read-ahead)" > md
	print "  and runs the job from it (docs/exec.md; `--verbose` shows the timeline)." > md
	print "- **restore**: `kvmini run --restore DIR` of the test guest snapshotted while" > md
	print "  it printed a tick line every 0.2 s (`bench/snapbench-guest.sh`), with" > md
	print "  \"stop\" lines on its console's input: fork → its first console line (the" > md
	print "  guest running again), and → VMM exit (the guest ends at the first \"stop\")." > md
	print "  Snapshot: " info["env.snap_state_bytes"] " bytes of state, a memory file of " info["env.snap_memory_kib"] " KiB on disk (sparse)." > md
	print "- **start rate**: " info["env.snap_rate_n"] " restores of that snapshot, each ending at once, back to" > md
	print "  back and then 2 at a time, as the cold-boot start rate (" info["env.snap_rate_rounds"] " rounds)." > md
	print "" > md
	if (lab) {
		print "> **Emulated** (nested KVM under QEMU TCG): the ratios are what holds. A" > md
		print "> restore is mostly VMM work and page faults on guest RAM, a cold boot mostly" > md
		print "> guest instructions; the lab weighs exits and faults far more than hardware" > md
		print "> does, so it favours neither side by the same factor." > md
		print "" > md
	}
	print "| figure | unit | better | kvmini | QEMU microvm, cold | kvmini/QEMU | target |" > md
	print "| --- | --- | --- | --- | --- | --- | --- |" > md
	snap_row("`exec -- true`, cold (`--no-snapshot`) vs QEMU boot to init", "ms", "lower", "exec|cold", "kvmini", "init|1|128", "qemu", "")
	snap_row("`exec -- true`, from the snapshot cache vs QEMU boot to init", "ms", "lower", "exec|warm", "kvmini", "init|1|128", "qemu", "le01")
	snap_row("`run --restore` → the guest's first line vs QEMU boot to init", "ms", "lower", "rinit", "kvmini", "init|1|128", "qemu", "")
	snap_row("`run --restore` → VMM exit vs QEMU boot to exit", "ms", "lower", "rexit", "kvmini", "exit|1|128", "qemu", "")
	snap_row("`run --restore`: exec → first KVM_RUN vs QEMU's", "ms", "lower", "rstartup", "kvmini", "startup|1|128", "qemu", "")
	snap_row("start rate, back to back: restores vs QEMU cold boots", "VMs/s", "higher", "rate|1", "restore", "rate|1", "qemu", "ge5")
	snap_row("start rate, 2 in parallel: restores vs QEMU cold boots", "VMs/s", "higher", "rate|2", "restore", "rate|2", "qemu", "ge5")
	print "" > md
	r = ratio_of2("exec|warm", "kvmini", "exec|cold", "kvmini")
	print "Targets (issue 19): exec from a snapshot ≤ 0.1× QEMU's cold boot to init;" > md
	print "restore start rate ≥ 5× QEMU's cold start rate. exec from the snapshot cache /" > md
	print "exec cold: " r "." > md
	print "" > md
	if (cnt["sovh", "kvmini"]) {
		print "Memory of one restored VM, ticking (" info["env.settle_ms"] " ms after its first tick), as the boot" > md
		print "figures' memory overhead; guest RAM is now the private mapping of the" > md
		print "snapshot's memory file (`MAP_PRIVATE`): pages the guest only read are the" > md
		print "file's page cache, pages it wrote are anonymous copies." > md
		print "" > md
		print "| figure | unit | restored VM | cold-booted VM (boot figures) |" > md
		print "| --- | --- | --- | --- |" > md
		print "| VMM overhead: RSS − guest RAM | MiB | " cell("sovh", "kvmini", "MiB") " | " cell("ovh|1|128", "kvmini", "MiB") " |" > md
		print "| … of which anonymous | MiB | " cell("saovh", "kvmini", "MiB") " | " cell("aovh|1|128", "kvmini", "MiB") " |" > md
		print "| … of which file-backed | MiB | " cell("sfovh", "kvmini", "MiB") " | " cell("fovh|1|128", "kvmini", "MiB") " |" > md
		print "| guest RAM resident (Rss of its mapping) | MiB | " cell("sguest", "kvmini", "MiB") " | " cell("guest|1|128", "kvmini", "MiB") " |" > md
		print "| … of which written since the restore (anonymous) | MiB | " cell("sganon", "kvmini", "MiB") " | — |" > md
		print "" > md
	}
	if (sh_n) {
		print sh_n " VMs restored from the one snapshot, alive at once, each ticking; their" > md
		print "guest-RAM mappings read together (`vmmrun -n`), MiB:" > md
		print "" > md
		print "| VM | Rss | Pss | Shared_Clean | Shared_Dirty | Private_Clean | Private_Dirty | whole VMM: Rss | whole VMM: Pss |" > md
		print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |" > md
		for (k = 1; k <= sh_n; k++)
			print "| " k " | " num(sh["rss", k], "MiB") " | " num(sh["pss", k], "MiB") " | " num(sh["sc", k], "MiB") " | " \
				num(sh["sd", k], "MiB") " | " num(sh["pc", k], "MiB") " | " num(sh["pd", k], "MiB") " | " \
				num(sh["prss", k], "MiB") " | " num(sh["ppss", k], "MiB") " |" > md
		print "| Σ | " num(shsum("rss"), "MiB") " | " num(shsum("pss"), "MiB") " | " num(shsum("sc"), "MiB") " | " \
			num(shsum("sd"), "MiB") " | " num(shsum("pc"), "MiB") " | " num(shsum("pd"), "MiB") " | " \
			num(shsum("prss"), "MiB") " | " num(shsum("ppss"), "MiB") " |" > md
		print "" > md
		if (lab)
			print "The snapshot lies on the lab VM's tmpfs, whose pages are always dirty: the pages the VMs share through it show as Shared_Dirty, not Shared_Clean, and a page only one VM maps as Private_Dirty even if never written; the guest's own writes are the Anonymous pages (`ganon_kib` in raw.txt)." > md
		if (shsum("rss") > 0)
			print "Guest RAM: Σ Pss " num(shsum("pss"), "MiB") " MiB against Σ Rss " num(shsum("rss"), "MiB") " MiB: the " sh_n " VMs hold " \
				sprintf("%.0f", 100 * shsum("pss") / shsum("rss")) " % of the memory they map; the rest is shared." > md
		print "" > md
	}
	print "```sh" > md
	print cmd["snap_exec_cold"] > md
	print cmd["snap_exec_warm"] > md
	print cmd["snap_orig"] > md
	print cmd["snap_restore"] > md
	print "```" > md
	print "" > md
}

# podman run's start-up with each runtime (issue 20), when measured.
function oci_md(    r, rt) {
	if (!cnt["oci", "kvmini"] && !cnt["oci", "kvmini-snap"] && !cnt["oci", "runc"] && !cnt["oci", "crun"])
		return
	print "## Containers: `podman run` with kvmini oci, runc and crun (issue 20)" > md
	print "" > md
	print "`podman run --rm --network none --rootfs DIR true` (a static busybox root, no" > md
	print "image, podman's storage and state in a scratch directory), fork → podman's" > md
	print "exit, with each runtime in turn, " info["env.oci_runs"] " runs each after one unmeasured run." > md
	print "With kvmini oci the container is a VM: `create` forks kvmini, `start` boots" > md
	print "the guest kernel with the rootfs over virtio-fs and runs `true` in it (cold:" > md
	print "`--annotation org.kvmini.snapshot=false`), or restores a VM of that shape" > md
	print "from the snapshot cache, which the unmeasured run filled, and hands it the job" > md
	print "(warm). runc and crun start a process in namespaces." > md
	print "" > md
	if (lab) {
		print "> **Emulated**: podman, conmon, runc and crun run on the outer VM's" > md
		print "> emulated CPU, and kvmini's guest under nested KVM on it. Podman's own" > md
		print "> work (seconds of Go on TCG) is inflated as much as the guest's boot, so" > md
		print "> the ratios say only that the VM is a modest part of `podman run` here;" > md
		print "> on hardware podman takes a fraction of a second and the boot weighs more." > md
		print "" > md
	}
	print "| runtime | unit | better | podman run --rm … true | / runc | / crun |" > md
	print "| --- | --- | --- | --- | --- | --- |" > md
	split("kvmini kvmini-snap runc crun", rt, " ")
	for (r = 1; r <= 4; r++)
		print "| " (rt[r] == "kvmini" ? "kvmini oci, cold" : rt[r] == "kvmini-snap" ? "kvmini oci, warm snapshot cache" : rt[r]) \
			" | ms | lower | " cell("oci", rt[r], "ms") " | " \
			ratio_of("oci", rt[r], "runc") " | " ratio_of("oci", rt[r], "crun") " |" > md
	print "" > md
	print "```" > md
	print cmd["oci_kvmini"] > md
	print cmd["oci_kvmini-snap"] > md
	print cmd["oci_runc"] > md
	print cmd["oci_crun"] > md
	print "```" > md
	print "" > md
}

function oci_json() {
	print "  \"oci\": {" > json
	print "    \"podman_run_kvmini_ms\": " jside("oci", "kvmini") "," > json
	print "    \"podman_run_kvmini_snapshot_ms\": " jside("oci", "kvmini-snap") "," > json
	print "    \"podman_run_runc_ms\": " jside("oci", "runc") "," > json
	print "    \"podman_run_crun_ms\": " jside("oci", "crun") > json
	print "  }," > json
}

function snap_json(    k, sep) {
	print "  \"snapshot\": {" > json
	print "    \"exec_cold_ms\": " jside("exec|cold", "kvmini") "," > json
	print "    \"exec_warm_ms\": " jside("exec|warm", "kvmini") "," > json
	print "    \"restore_first_line_ms\": " jside("rinit", "kvmini") "," > json
	print "    \"restore_exit_ms\": " jside("rexit", "kvmini") "," > json
	print "    \"restore_startup_ms\": " jside("rstartup", "kvmini") "," > json
	print "    \"qemu_boot_to_init_ms\": " jside("init|1|128", "qemu") "," > json
	print "    \"qemu_boot_to_exit_ms\": " jside("exit|1|128", "qemu") "," > json
	print "    \"restore_rate_1\": " jside("rate|1", "restore") "," > json
	print "    \"restore_rate_2\": " jside("rate|2", "restore") "," > json
	print "    \"qemu_rate_1\": " jside("rate|1", "qemu") "," > json
	print "    \"qemu_rate_2\": " jside("rate|2", "qemu") "," > json
	print "    \"exec_warm_over_qemu_init\": " jratio("exec|warm", "kvmini", "init|1|128", "qemu") "," > json
	print "    \"restore_rate_1_over_qemu\": " jratio("rate|1", "restore", "rate|1", "qemu") "," > json
	print "    \"restore_rate_2_over_qemu\": " jratio("rate|2", "restore", "rate|2", "qemu") "," > json
	print "    \"restored_overhead_mib\": " jside("sovh", "kvmini") "," > json
	print "    \"restored_overhead_anon_mib\": " jside("saovh", "kvmini") "," > json
	print "    \"restored_guest_rss_mib\": " jside("sguest", "kvmini") "," > json
	printf "    \"shared\": [" > json
	sep = ""
	for (k = 1; k <= sh_n; k++) {
		printf "%s\n      { \"vm\": %d, \"rss_mib\": %s, \"pss_mib\": %s, \"shared_clean_mib\": %s, \"shared_dirty_mib\": %s, \"private_clean_mib\": %s, \"private_dirty_mib\": %s }", \
			sep, k, jnum(sh["rss", k]), jnum(sh["pss", k]), jnum(sh["sc", k]), jnum(sh["sd", k]), jnum(sh["pc", k]), jnum(sh["pd", k]) > json
		sep = ","
	}
	print (sh_n ? "\n    ]" : "]") > json
	print "  }," > json
}

function jratio(ka, va, kb, vb,    x, y) {
	x = median_of(ka, va)
	y = median_of(kb, vb)
	return (x != "" && y != "" && y + 0 > 0) ? jnum(x / y) : "null"
}

$2 == "pci" || $2 == "pciirq" || $2 == "pcikvm" || $2 == "pciinfo" {
	pci_rec()
	next
}
$2 == "pcitrace" || $2 == "pciblk" {
	pci_rec2()
	next
}
# ---- transports (BENCH=pci, bench/pci.sh; issue 21) -------------------------
# @@BENCH pci VMM FIG RUN value=V; pciirq VMM FIG RUN irqs=N reqs=N lines=...;
# pcikvm VMM FIG RUN exits=N io_exits=N ... (KVM's statistics, deltas);
# pciinfo VMM RUN .... VMM: kvmini-mmio, kvmini-pci, qemu-pci. Per request
# figures are per run (the guest's requests of that run), then medians.
function pci_rec(    k, i) {
	if (!pci_nfig) {
		pci_nfig = split("randread-4k-qd1 randread-4k-qd32 read-1m g2h h2g", pci_fig, " ")
		pci_nvmm = split("kvmini-mmio kvmini-pci qemu-pci", pci_vmm, " ")
		pci_label["randread-4k-qd1"] = "fio 4 KiB random read, QD1"
		pci_label["randread-4k-qd32"] = "fio 4 KiB random read, QD32"
		pci_label["read-1m"] = "fio 1 MiB sequential read"
		pci_label["g2h"] = "iperf3 TCP guest → host"
		pci_label["h2g"] = "iperf3 TCP host → guest"
		pci_unit["randread-4k-qd1"] = pci_unit["randread-4k-qd32"] = "IOPS"
		pci_unit["read-1m"] = "MiB/s"
		pci_unit["g2h"] = pci_unit["h2g"] = "Mbit/s"
		pci_nkind = split("io_exits mmio_exits halt_exits irq_exits irq_window_exits", pci_kind, " ")
		pci_klabel["io_exits"] = "port I/O to the VMM"
		pci_klabel["mmio_exits"] = "MMIO to the VMM"
		pci_klabel["halt_exits"] = "hlt"
		pci_klabel["irq_exits"] = "host interrupt"
		pci_klabel["irq_window_exits"] = "interrupt window"
	}
	if ($2 == "pciinfo") {
		pci_info[$3] = rest(5)
		return
	}
	k = $3 SUBSEP $4 SUBSEP $5
	kvparse(6)
	if ($2 == "pci" && kv["value"] != "") {
		add("pci|" $4, $3, kv["value"])
		pci_val[k] = kv["value"] + 0
		if ($5 + 0 > pci_maxrun)
			pci_maxrun = $5 + 0
	} else if ($2 == "pciirq") {
		pci_secs[k] = kv["secs"] + 0
		if (kv["reqs"] + 0 > 0) {
			pci_reqs[k] = kv["reqs"] + 0
			add("pciirq|" $4, $3, kv["irqs"] / kv["reqs"])
		}
	} else if ($2 == "pcikvm" && $4 == "idle") {
		# The host's window is the guest's and about a second of pauses.
		if (pci_secs[k] > 0) {
			pci_rate[$3, $5] = kv["exits"] / (pci_secs[k] + 1)
			add("pciidle", $3, pci_rate[$3, $5])
		}
	} else if ($2 == "pcikvm" && (k in pci_reqs)) {
		add("pciexit|" $4, $3, kv["exits"] / pci_reqs[k])
		for (i = 1; i <= pci_nkind; i++)
			add("pcik|" pci_kind[i] "|" $4, $3, kv[pci_kind[i]] / pci_reqs[k])
		# What KVM handled itself: notifications on ioeventfd, the APIC
		# (EOI, IPIs, timer), MSRs, EPT faults, preemption timer.
		add("pcik|other|" $4, $3, (kv["exits"] - kv["io_exits"] - kv["mmio_exits"] - \
			kv["halt_exits"] - kv["irq_exits"] - kv["irq_window_exits"]) / pci_reqs[k])
		add("pcik|irq_injections|" $4, $3, kv["irq_injections"] / pci_reqs[k])
		add("pcik|insn_emulation|" $4, $3, kv["insn_emulation"] / pci_reqs[k])
	}
}

# @@BENCH pcitrace VMM FIG RUN KIND ... (census.sh's trace of a figure's
# window: "trace exits=N span=S", "exit REASON n=N us=U", "user WHY n=N",
# "msr 0xNNN read|write n=N", pio, mmio): per second of the trace's span.
# @@BENCH pciblk VMM RUN TEXT: kvmini's counters of the bench disk over
# the whole boot (virtio/blk.c, --verbose), a line for the device and one
# per queue; per run: requests per kick, completions per publish and per
# interrupt raised, the share of asked interrupts the driver suppressed
# (EVENT_IDX) and of publishes whose interrupt waited (coalescing).
function pci_rec2(    k, i, n, x, t) {
	if ($2 == "pcitrace") {
		if ($4 != "idle")
			return
		k = $3 SUBSEP $5
		kvparse(7)
		if ($6 == "trace") {
			pci_span[k] = kv["span"] + 0
			if (pci_span[k] > 0)
				add("pcitr|exits", $3, kv["exits"] / pci_span[k])
			return
		}
		if (!(pci_span[k] > 0))
			return
		if ($6 == "exit")
			t = "exit|" $7
		else if ($6 == "user")
			t = "user"
		else if ($6 == "msr" && $7 == "0x6e0" && $8 == "write")
			t = "tscdl"
		else
			return
		pci_tr[$3, $5, t] += kv["n"] / pci_span[k]
		if (!(($3, $5, t) in pci_trseen)) {
			pci_trseen[$3, $5, t] = 1
			pci_trk[++pci_ntr] = $3 SUBSEP $5 SUBSEP t
		}
		return
	}
	# pciblk: every number of the line, in order.
	n = 0
	for (i = 5; i <= NF; i++) {
		x = $i
		gsub(/[^0-9]/, "", x)
		if (x != "")
			pci_bn[++n] = x + 0
	}
	k = $3 SUBSEP $4
	if ($5 == "queue" && n == 8) {
		# queue Q: R requests in K kicks; C completions in P publishes
		# (H held), A interrupts asked, I raised
		pci_b[k, "reqs"] += pci_bn[2]
		pci_b[k, "kicks"] += pci_bn[3]
		pci_b[k, "done"] += pci_bn[4]
		pci_b[k, "pub"] += pci_bn[5]
		pci_b[k, "held"] += pci_bn[6]
		pci_b[k, "asked"] += pci_bn[7]
		pci_b[k, "raised"] += pci_bn[8]
		if (!(k in pci_bseen)) {
			pci_bseen[k] = 1
			pci_bk[++pci_nb] = k
		}
	} else if (n == 3) {
		pci_b[k, "submits"] = pci_bn[1]
		pci_b[k, "wakes"] = pci_bn[2]
	}
}

# The trace and counter records into per-run samples, once.
function pci_fold(    i, k, v) {
	if (pci_folded++)
		return
	for (i = 1; i <= pci_ntr; i++) {
		split(pci_trk[i], v, SUBSEP)
		add("pcitr|" v[3], v[1], pci_tr[pci_trk[i]])
	}
	for (i = 1; i <= pci_nb; i++) {
		k = pci_bk[i]
		split(k, v, SUBSEP)
		if (pci_b[k, "kicks"] > 0)
			add("pcib|per_kick", v[1], pci_b[k, "reqs"] / pci_b[k, "kicks"])
		if (pci_b[k, "pub"] > 0) {
			add("pcib|per_pub", v[1], pci_b[k, "done"] / pci_b[k, "pub"])
			add("pcib|held", v[1], 100 * pci_b[k, "held"] / pci_b[k, "pub"])
		}
		if (pci_b[k, "raised"] > 0)
			add("pcib|per_irq", v[1], pci_b[k, "done"] / pci_b[k, "raised"])
		if (pci_b[k, "asked"] > 0)
			add("pcib|suppressed", v[1], 100 * (pci_b[k, "asked"] - pci_b[k, "raised"]) / pci_b[k, "asked"])
		if (pci_b[k, "submits"] > 0)
			add("pcib|per_submit", v[1], pci_b[k, "reqs"] / pci_b[k, "submits"])
		if (pci_b[k, "wakes"] > 0)
			add("pcib|per_wake", v[1], pci_b[k, "done"] / pci_b[k, "wakes"])
	}
}

function pci_any(    i, j) {
	for (i = 1; i <= pci_nfig; i++)
		for (j = 1; j <= pci_nvmm; j++)
			if (cnt["pci|" pci_fig[i], pci_vmm[j]])
				return 1
	return 0
}

# pci_wins FIG A B BETTER: in how many runs A's figure beat B's of that run.
function pci_wins(f, a, b, better,    r, n, w, x, y) {
	n = w = 0
	for (r = 1; r <= pci_maxrun; r++) {
		if (!((a, f, r) in pci_val) || !((b, f, r) in pci_val))
			continue
		x = pci_val[a, f, r]
		y = pci_val[b, f, r]
		n++
		if (better == "higher" ? x >= y : x <= y)
			w++
	}
	return n ? w " of " n : "—"
}

# pci_judge KEY BETTER: the issue's target for one row: kvmini-pci at least
# kvmini-mmio and QEMU's pci (higher), or fewer (lower).
function pci_judge(k, better,    p, m, q) {
	p = median_of(k, "kvmini-pci")
	m = median_of(k, "kvmini-mmio")
	q = median_of(k, "qemu-pci")
	if (p == "" || m == "" || q == "")
		return "—"
	if (better == "higher")
		return (p + 0 >= m + 0 && p + 0 >= q + 0) ? "met" : "**missed**" (p + 0 < m + 0 ? " (< mmio)" : "") (p + 0 < q + 0 ? " (< QEMU)" : "")
	return (p + 0 < m + 0 && p + 0 < q + 0) ? "met" : "**missed**" (p + 0 >= m + 0 ? " (≥ mmio)" : "") (p + 0 >= q + 0 ? " (≥ QEMU)" : "")
}

function pci_md(    i, j, f, k, met, n) {
	if (!pci_nfig || !pci_any())
		return
	print "## Transports: virtio-mmio, virtio-pci and QEMU's virtio-pci (issue 21)" > md
	print "" > md
	print "The same guest (2 vCPUs, 512 MiB, the same kernel: virtio-mmio and" > md
	print "virtio-pci with MSI-X built in) under kvmini `--transport mmio`, kvmini" > md
	print "`--transport pci` and QEMU's q35 machine (qboot, no ACPI: the kernel has none" > md
	print "and finds the bus through conf1; `virtio-*-pci,disable-legacy=on`; microvm's" > md
	print "`pcie=on` bus is found only through ACPI or a device tree), each with a bench" > md
	print "disk (" (info["env.pci_image_mib"] != "" ? info["env.pci_image_mib"] " MiB of " : "") "random data in an image file here, read through this" > md
	print "side's page cache), the tools" > md
	print "disk and a NIC on one tap (QEMU `vhost=off`). " info["env.pci_runs"] " boots per VMM, interleaved (the" > md
	print "order rotates run by run); each boot gives every figure: fio (`psync`," > md
	print "O_DIRECT on the guest's disk, " info["env.pci_runtime_s"] " s after 1 s of ramp; QD32 is 32 threads)," > md
	print "then `iperf3 -t " info["env.pci_net_secs"] "` each way. From the run of " info["host.date"] " (tree" > md
	print info["host.git"] ", parts: " info["env.parts"] ", " info["host.wall_s"] " s)." > md
	print "" > md
	if (lab) {
		print "> **Emulated.** Nested KVM under QEMU TCG: every exit is emulated and weighs" > md
		print "> far more than on hardware, which is why exits per request are given beside" > md
		print "> each figure. Compare the three with each other, in this run only." > md
		print "" > md
	}
	print "| figure | unit | kvmini mmio | kvmini pci | QEMU q35 pci | pci/mmio | pci/QEMU | pci ≥ mmio in | pci ≥ QEMU in | target |" > md
	print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" > md
	for (i = 1; i <= pci_nfig; i++) {
		f = pci_fig[i]
		k = "pci|" f
		print "| " pci_label[f] " | " pci_unit[f] " | " cell(k, "kvmini-mmio", "") " | " cell(k, "kvmini-pci", "") " | " \
			cell(k, "qemu-pci", "") " | " ratio_of(k, "kvmini-pci", "kvmini-mmio") " | " ratio_of(k, "kvmini-pci", "qemu-pci") " | " \
			pci_wins(f, "kvmini-pci", "kvmini-mmio", "higher") " | " pci_wins(f, "kvmini-pci", "qemu-pci", "higher") " | " \
			pci_judge(k, "higher") " |" > md
	}
	print "" > md
	print "Per request (a disk request the guest completed, or a packet eth0 sent or" > md
	print "received), over the figure's window: the guest's interrupts from the device" > md
	print "(its `/proc/interrupts` lines: one on virtio-mmio, a config vector and one per" > md
	print "queue with MSI-X), and KVM's exits for the whole VM (its per-VM statistics in" > md
	print "debugfs, `kvm/PID-FD/`, census.sh's source, read at the guest's marks) with" > md
	print "the exits KVM passed to the VMM, those it handled itself, and the interrupts" > md
	print "it injected. Each exit window also holds about a second of the guest" > md
	print "idling around the figure (the marks' pauses), and an idle guest exits too" > md
	print "(timer, halts, the APIC; the first row, per second of the host's window):" > md
	print "where a figure moves few requests in its seconds, its exits per request are" > md
	print "mostly that background, not the transport. (It does not simply add up: a" > md
	print "busy guest halts less, and in the lab exits fewer times per second than an" > md
	print "idle one.)" > md
	print "" > md
	print "| figure | per request | kvmini mmio | kvmini pci | QEMU q35 pci | pci/mmio | pci/QEMU | target (fewer) |" > md
	print "| --- | --- | --- | --- | --- | --- | --- | --- |" > md
	if (cnt["pciidle", "kvmini-mmio"] + cnt["pciidle", "kvmini-pci"] + cnt["pciidle", "qemu-pci"])
		print "| idle guest, no I/O (" info["env.pci_runtime_s"] " s) | KVM exits per **second** | " cell("pciidle", "kvmini-mmio", "") " | " \
			cell("pciidle", "kvmini-pci", "") " | " cell("pciidle", "qemu-pci", "") " | " \
			ratio_of("pciidle", "kvmini-pci", "kvmini-mmio") " | " ratio_of("pciidle", "kvmini-pci", "qemu-pci") " |  |" > md
	pci_fold()
	for (j = 1; j <= 8; j++) {
		if (j == 1) { k = "pcitr|exits"; n = "traced: exits per second" }
		else if (j == 2) { k = "pcitr|exit|hlt"; n = "… hlt" }
		else if (j == 3) { k = "pcitr|exit|msr"; n = "… MSR access" }
		else if (j == 4) { k = "pcitr|tscdl"; n = "… … of them TSC deadline writes (0x6e0: the guest's timer)" }
		else if (j == 5) { k = "pcitr|exit|interrupt"; n = "… host interrupt" }
		else if (j == 6) { k = "pcitr|exit|vintr"; n = "… interrupt window" }
		else if (j == 7) { k = "pcitr|exit|npf"; n = "… nested page fault (MMIO, APIC page)" }
		else { k = "pcitr|user"; n = "… to the VMM (port I/O: the console's end mark)" }
		if (!cnt[k, "kvmini-mmio"] && !cnt[k, "kvmini-pci"] && !cnt[k, "qemu-pci"])
			continue
		print "|  | " n " | " cell(k, "kvmini-mmio", "") " | " cell(k, "kvmini-pci", "") " | " \
			cell(k, "qemu-pci", "") " | " ratio_of(k, "kvmini-pci", "kvmini-mmio") " | " ratio_of(k, "kvmini-pci", "qemu-pci") " |  |" > md
	}
	for (i = 1; i <= pci_nfig; i++) {
		f = pci_fig[i]
		for (j = 0; j <= pci_nkind + 4; j++) {
			if (j == 0) { k = "pciirq|" f; n = "guest interrupts" }
			else if (j == 1) { k = "pciexit|" f; n = "**KVM exits**" }
			else if (j <= pci_nkind + 1) { k = "pcik|" pci_kind[j - 1] "|" f; n = "… " pci_klabel[pci_kind[j - 1]] }
			else if (j == pci_nkind + 2) { k = "pcik|other|" f; n = "… handled in KVM (ioeventfd, APIC, MSR, EPT)" }
			else if (j == pci_nkind + 3) { k = "pcik|insn_emulation|" f; n = "instructions KVM emulated (APIC and MMIO accesses)" }
			else { k = "pcik|irq_injections|" f; n = "interrupts injected" }
			if (!cnt[k, "kvmini-mmio"] && !cnt[k, "kvmini-pci"] && !cnt[k, "qemu-pci"])
				continue
			print "| " (j == 0 ? pci_label[f] : "") " | " n " | " cell(k, "kvmini-mmio", "") " | " cell(k, "kvmini-pci", "") " | " \
				cell(k, "qemu-pci", "") " | " ratio_of(k, "kvmini-pci", "kvmini-mmio") " | " ratio_of(k, "kvmini-pci", "qemu-pci") " | " \
				(j == 1 ? pci_judge(k, "lower") : "") " |" > md
		}
	}
	print "" > md
	print "Target (issue 21): kvmini over pci ≥ kvmini over mmio and ≥ QEMU over pci on" > md
	print "every figure, with fewer exits per request than either. \"pci ≥ … in\": the" > md
	print "runs in which kvmini-pci's figure was at least the other's of the same run." > md
	print "Timings are never pass/fail (bench rule): \"missed\" is a finding, explained" > md
	print "in the notes below when it is one." > md
	print "" > md
	# The counters cover the whole boot: a table only when one disk
	# figure ran (BENCH_PCI_FIGS), else they would mix QD1's with QD32's.
	n = split(info["env.pci_figs"], pci_ran, ",")
	met = 0
	for (i = 1; i <= n; i++)
		if (pci_ran[i] ~ /^(rand)?(read|write)-/)
			met++
	if (met > 1 && cnt["pcib|per_kick", "kvmini-pci"]) {
		print "kvmini's own counters of the bench disk (`pciblk` in raw.txt) cover each" > md
		print "whole boot, every disk figure's requests together: for one figure's, run" > md
		print "with `BENCH_PCI_FIGS` naming that figure alone." > md
		print "" > md
	} else if (cnt["pcib|per_kick", "kvmini-mmio"] + cnt["pcib|per_kick", "kvmini-pci"]) {
		print "kvmini's own counters of the bench disk (virtio/blk.c, `--verbose`), over" > md
		print "each whole boot, so over this run's one disk figure: how requests arrive" > md
		print "and completions leave, per run." > md
		print "" > md
		print "| kvmini's bench disk, whole boot | kvmini mmio | kvmini pci | pci/mmio |" > md
		print "| --- | --- | --- | --- |" > md
		for (j = 1; j <= 7; j++) {
			if (j == 1) { k = "pcib|per_kick"; n = "requests per kick (notification)" }
			else if (j == 2) { k = "pcib|per_submit"; n = "requests per `io_uring_submit()`" }
			else if (j == 3) { k = "pcib|per_wake"; n = "completions per completion wake-up" }
			else if (j == 4) { k = "pcib|per_pub"; n = "completions per used-index publish" }
			else if (j == 5) { k = "pcib|held"; n = "publishes whose interrupt waited (coalescing), %" }
			else if (j == 6) { k = "pcib|per_irq"; n = "completions per interrupt raised" }
			else { k = "pcib|suppressed"; n = "interrupts asked that the driver's used_event suppressed, %" }
			print "| " n " | " cell(k, "kvmini-mmio", "") " | " cell(k, "kvmini-pci", "") " | " \
				ratio_of(k, "kvmini-pci", "kvmini-mmio") " |" > md
		}
		print "" > md
	}
	for (j = 1; j <= pci_nvmm; j++)
		if (pci_info[pci_vmm[j]] != "")
			print "- " pci_vmm[j] ": " pci_info[pci_vmm[j]] > md
	print "" > md
	n = 0
	for (i = 1; i <= nnotes; i++)
		if (notes[i] ~ /^pci /)
			n++
	if (n) {
		print "What this part could not measure (left out of the figures):" > md
		print "" > md
		print "```" > md
		for (i = 1; i <= nnotes; i++)
			if (notes[i] ~ /^pci /)
				print notes[i] > md
		print "```" > md
		print "" > md
	}
	print "```sh" > md
	for (j = 1; j <= pci_nvmm; j++)
		if (cmd["pci_" pci_vmm[j]] != "")
			print cmd["pci_" pci_vmm[j]] > md
	print "```" > md
	print "" > md
}

function pci_json(    i, j, f, k, sep, sep2) {
	if (!pci_nfig)
		return
	print "  \"transports\": [" > json
	sep = ""
	for (i = 1; i <= pci_nfig; i++) {
		f = pci_fig[i]
		printf "%s    { \"figure\": %s, \"unit\": %s", sep, jstr(f), jstr(pci_unit[f]) > json
		for (j = 1; j <= pci_nvmm; j++)
			printf ",\n      %s: { \"value\": %s, \"irqs_per_req\": %s, \"exits_per_req\": %s }", \
				jstr(pci_vmm[j]), jside("pci|" f, pci_vmm[j]), jside("pciirq|" f, pci_vmm[j]), \
				jside("pciexit|" f, pci_vmm[j]) > json
		printf ",\n      \"pci_over_mmio\": %s, \"pci_over_qemu\": %s }", \
			jratio("pci|" f, "kvmini-pci", "pci|" f, "kvmini-mmio"), \
			jratio("pci|" f, "kvmini-pci", "pci|" f, "qemu-pci") > json
		sep = ",\n"
	}
	print "\n  ]," > json
}

END {
	mode = info["env.mode"]
	if (mode == "")
		mode = info["host.where"]
	lab = mode == "lab"
	date = info["host.date"]

	# ---- RESULTS.md ----
	print "# kvmini vs QEMU microvm: benchmark results" > md
	print "" > md
	print "Written by `make bench` (bench/run.sh) on " date "; do not edit by hand," > md
	print "run it again. Method: [README.md](README.md); every sample: [results.json](results.json)." > md
	print "" > md
	if (!complete) {
		print "> **Incomplete run**: the measurements stopped before the end; what is" > md
		print "> missing shows as —." > md
		print "" > md
	}
	if (lab) {
		print "> **Measured in the KVM lab: emulated figures.** This host's `/dev/kvm` cannot" > md
		print "> boot Linux, so both VMMs ran on real KVM (kvm-amd) *nested inside a QEMU TCG" > md
		print "> virtual machine*: every guest instruction that traps, and every VM exit, is" > md
		print "> emulated in software. Absolute times are one to two orders of magnitude above" > md
		print "> what the same VMMs do on hardware, and exits (which a VMM's device models and" > md
		print "> start-up cause) weigh far more than they would there. Compare the two VMMs with" > md
		print "> each other, not with figures from real machines; memory figures are the least" > md
		print "> affected." > md
		if (info["env.kvm_key_holder"] == "1") {
			print ">" > md
			print "> Throughout the run an idle VM (one vCPU that never runs) stayed open beside" > md
			print "> the measured ones, for both VMMs alike: it stops the lab's kernel from" > md
			print "> live-patching KVM's code at every VM start and end, which the emulator gets" > md
			print "> wrong now and then (see README.md)." > md
		}
	} else {
		print "> **Measured natively** on this host's `/dev/kvm`." > md
	}
	print "" > md
	print "The machine was shared with other builds and tests while this ran (load" > md
	print "average " info["host.loadavg_start"] " at the start, " info["host.loadavg_end"] " at the end). The runs are" > md
	print "interleaved A/B (kvmini then QEMU, then QEMU then kvmini, …) so that a change in" > md
	print "load affects both VMMs alike: the ratios are the robust part; the min–max" > md
	print "spread shows how noisy the absolute figures were." > md
	print "" > md
	print "## Environment" > md
	print "" > md
	print "| | |" > md
	print "| --- | --- |" > md
	print "| where | " (lab ? "KVM lab (nested KVM under QEMU TCG, emulated)" : "native (host /dev/kvm)") " |" > md
	print "| host CPU | " info["host.cpu"] " (" info["host.ncpu"] " CPUs, shared) |" > md
	print "| host kernel | " info["host.kernel"] " (" info["host.os"] ") |" > md
	if (lab) {
		print "| lab VM | `" info["host.lab_qemu"] "` |" > md
		print "| lab kernel | " info["env.kernel"] "; " info["host.lab_info"] " |" > md
		print "| CPU seen in the lab | " info["env.cpu"] " (" info["env.ncpu"] " CPUs) |" > md
	}
	kn = info["env.kvm_amd_nested"] != "" ? "kvm_amd nested=" info["env.kvm_amd_nested"] " npt=" info["env.kvm_amd_npt"] : ""
	if (info["env.kvm_intel_nested"] != "")
		kn = "kvm_intel nested=" info["env.kvm_intel_nested"] " ept=" info["env.kvm_intel_ept"]
	if (kn != "")
		print "| KVM | " kn " |" > md
	print "| QEMU | " info["env.qemu_version"] " |" > md
	print "| kvmini | " info["env.kvmini_version"] " (dynamic build; tree " info["host.git"] ") |" > md
	print "| guest | build/guest/bzImage (" info["env.kernel_kib"] " KiB), initramfs.cpio.gz (" info["env.initrd_kib"] " KiB) |" > md
	print "| runs | boot " info["env.runs"] " per VMM; memory " info["env.mem_runs"] " per VMM and size; start rate " info["env.rate_rounds"] " rounds of " info["env.rate_n"] " VMs; network " info["env.net_runs"] " per VMM and set-up; vsock " info["env.vsock_runs"] " per VMM; snapshot " info["env.snap_runs"] " per figure |" > md
	if (info["env.parts"] != "" && info["env.parts"] != "boot census blk net vsock snapshot")
		print "| parts measured | " info["env.parts"] " only (`BENCH`); the other tables are empty |" > md
	print "| wall time | " info["host.wall_s"] " s for bench/run.sh" (lab ? ", the lab VM's boot included" : "") " |" > md
	print "" > md
	print "## Results" > md
	print "" > md
	print "Median **in bold**, (min–max) over the runs; ratio = kvmini median / QEMU median." > md
	print "" > md
	print "| metric | config | unit | better | kvmini | QEMU microvm | kvmini/QEMU |" > md
	print "| --- | --- | --- | --- | --- | --- | --- |" > md
	for (i = 1; i <= nrows; i++) {
		k = r_key[i]
		a = median_of(k, "kvmini")
		b = median_of(k, "qemu")
		ratio = (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2f", a / b) : "—"
		print "| " r_label[i] " | " r_config[i] " | " r_unit[i] " | " r_better[i] " | " \
			cell(k, "kvmini", r_unit[i]) " | " cell(k, "qemu", r_unit[i]) " | " ratio " |" > md
	}
	print "" > md
	blk_md()
	net_md()
	vsock_md()
	census_md()
	snap_md()
	oci_md()
	pci_md()
	if (nnotes) {
		print "## Runs that failed (left out of the figures)" > md
		print "" > md
		print "```" > md
		for (i = 1; i <= nnotes; i++)
			print notes[i] > md
		print "```" > md
		print "" > md
	}
	print "## What each figure is" > md
	print "" > md
	print "Times are taken by `bench/vmmrun`, which starts the VMM (fork + exec, stdin" > md
	print "`/dev/null`) with its standard output and error on a pipe it reads itself." > md
	print "" > md
	print "- **Boot to init**: from the fork that starts the VMM to the moment the guest's" > md
	print "  first line from `/init`, `kvmini-guest: init`, arrives on that pipe (the" > md
	print "  serial console, as either VMM writes it to its standard output)." > md
	print "- **Boot to exit**: from the same fork to the VMM's exit, for a guest whose" > md
	print "  `/init` runs `reboot -f` at once (`kvmini.script=reboot`). The guest path is" > md
	print "  the same; the machines differ at the very end: kvmini ends on the i8042 reset" > md
	print "  (`reboot=k`, its default command line); QEMU's microvm has no i8042, so it" > md
	print "  gets `reboot=t` (a triple fault), which `-no-reboot` turns into QEMU's exit." > md
	print "- **VMM start-up**: from just before `execve()` of the VMM to its first" > md
	print "  `ioctl(KVM_RUN)` on any thread, caught by an `LD_PRELOAD` shim" > md
	print "  (`bench/kvmrun-shim.c`) that writes one byte on a pipe at that call, which" > md
	print "  `vmmrun` times as it arrives; both VMMs call KVM through the C library's" > md
	print "  `ioctl()`. (`strace -f` would stop the VMM at every ioctl before it: QEMU" > md
	print "  makes about 170, kvmini about 30.)" > md
	print "- **Memory overhead**: with the guest idle in its `/init` (`kvmini.script=sleep`," > md
	print "  " info["env.settle_ms"] " ms after it prints `sleep.sh: sleeping`), the sum of `Rss` over" > md
	print "  `/proc/PID/smaps` minus the `Rss` of the guest-RAM mapping: the anonymous" > md
	print "  mapping exactly as large as the guest's RAM (kvmini's one guest mapping;" > md
	print "  QEMU's RAM block). \"Anonymous\" counts only `Anonymous` pages (heap," > md
	print "  stacks, written data): what each further VM costs, whereas the rest is the" > md
	print "  binary's and libraries' code, which page cache and other VMs can share." > md
	print "  \"File-backed\" is the difference: pages of files the VMM has mapped (its" > md
	print "  code and read-only data, its libraries'; kvmini drops its mappings of what" > md
	print "  only its set-up used, and of the kernel and initramfs once loaded)." > md
	print "  KVM's own kernel memory (page tables, vCPU state) is in neither. The" > md
	print "  rows *with a NIC on user networking* add a virtio-net device on each VMM's" > md
	print "  user networking (kvmini `--net user`, which loads libslirp and glib; QEMU" > md
	print "  `-netdev user`), the NIC idle: see the command lines below." > md
	print "- **Start rate**: " info["env.rate_n"] " VMs, each booting and ending at once as in *boot to" > md
	print "  exit*, started back to back (or two at a time, the next starting as soon as" > md
	print "  one ends); VMs per second = " info["env.rate_n"] " / wall time of the round." > md
	print "" > md
	print "## Command lines" > md
	print "" > md
	print "Both: the same kernel and initramfs, same RAM and vCPUs, the 8250 UART as" > md
	print "console on standard output, one virtio-rng over virtio-mmio, `quiet`." > md
	print "QEMU: `-nodefaults -no-user-config`, KVM, `-cpu host` (kvmini also gives the" > md
	print "guest the host's CPUID), the microvm machine with qboot (its default" > md
	print "firmware), no option ROMs, no RTC (kvmini has none), `acpi=off` (the guest" > md
	print "kernel has no ACPI, and only without it does microvm put the virtio-mmio" > md
	print "device on the kernel command line), no display, `-no-reboot`." > md
	print "" > md
	print "```sh" > md
	print cmd["kvmini"] > md
	print cmd["qemu"] > md
	print "```" > md
	if (cmd["kvmini-user"] != "") {
		print "" > md
		print "The memory runs with a NIC on user networking (the guest idles in `sleep`):" > md
		print "" > md
		print "```sh" > md
		print cmd["kvmini-user"] > md
		print cmd["qemu-user"] > md
		print "```" > md
	}
	close(md)

	# ---- results.json ----
	print "{" > json
	print "  \"schema\": 1," > json
	print "  \"generated\": " jstr(date) "," > json
	print "  \"where\": " jstr(lab ? "lab" : "native") "," > json
	print "  \"emulated\": " (lab ? "true" : "false") "," > json
	print "  \"complete\": " (complete ? "true" : "false") "," > json
	printf "  \"environment\": {" > json
	sep = ""
	for (k in info) {
		if (info[k] == "")
			continue
		printf "%s\n    %s: %s", sep, jstr(k), jstr(info[k]) > json
		sep = ","
	}
	print "\n  }," > json
	print "  \"commands\": { \"kvmini\": " jstr(cmd["kvmini"]) ", \"qemu\": " jstr(cmd["qemu"]) \
	      ", \"kvmini_net_user\": " jstr(cmd["kvmini-user"]) ", \"qemu_net_user\": " jstr(cmd["qemu-user"]) " }," > json
	print "  \"metrics\": [" > json
	for (i = 1; i <= nrows; i++) {
		k = r_key[i]
		split(k, p, "|")
		a = median_of(k, "kvmini")
		b = median_of(k, "qemu")
		ratio = (a != "" && b != "" && b + 0 > 0) ? jnum(a / b) : "null"
		printf "    { \"id\": %s, \"label\": %s, \"config\": %s, \"unit\": %s, \"better\": %s,\n", \
			jstr(r_id[i]), jstr(r_label[i]), jstr(r_config[i]), jstr(r_unit[i]), jstr(r_better[i]) > json
		printf "      \"kvmini\": %s,\n      \"qemu\": %s,\n      \"kvmini_over_qemu\": %s }%s\n", \
			jside(k, "kvmini"), jside(k, "qemu"), ratio, (i < nrows ? "," : "") > json
	}
	print "  ]," > json
	blk_json()
	net_json()
	vsock_json()
	snap_json()
	oci_json()
	pci_json()
	printf "  \"failed_runs\": [" > json
	for (i = 1; i <= nnotes; i++)
		printf "%s\n    %s", (i > 1 ? "," : ""), jstr(notes[i]) > json
	print (nnotes ? "\n  ]" : "]") > json
	print "}" > json
	close(json)
	for (i = 1; i <= nrows; i++)
		if (cnt[r_key[i], "kvmini"] + cnt[r_key[i], "qemu"] > 0)
			exit 0
	for (i = 1; i <= nblk; i++)
		if (cnt["blkiops|" blk_job[i], "kvmini"] > 0)
			exit 0
	if (net_any() || vsock_any() || census_any() || snap_any() ||
	    cnt["oci", "kvmini"] + cnt["oci", "runc"] + cnt["oci", "crun"] > 0 || pci_any())
		exit 0
	exit 3
}
