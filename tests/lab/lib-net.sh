# shellcheck shell=sh
# The tap scenarios' set-up (net-tap.sh, net-mq.sh), sourced after lib.sh
# and their check for /dev/net/tun: . "${LIB%/*}/lib-net.sh". The
# scenario runs again inside a network namespace of its own, so that its
# taps and traffic never meet the lab's (or anyone's) network; there,
# loopback is up, $T/hold is a fifo that keeps a listener's input open,
# and $T/rand is one random MiB for gen.
if [ -z "${LAB_NET_NETNS:-}" ]; then
	LAB_NET_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
mkfifo "$T/hold"
dd if=/dev/urandom of="$T/rand" bs=1M count=1 2>/dev/null

# gen MIB: MIB copies of one random MiB.
gen()
{
	n=0
	while [ $n -lt "$1" ]; do
		cat "$T/rand"
		n=$((n + 1))
	done
}
