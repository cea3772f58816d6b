#!/bin/sh
# Exit with the status given as the first argument (kvmini.args=N), so the
# host can check that it reaches kvmini's own exit status intact.
echo "exit.sh: exiting with ${1:-0}"
exit "${1:-0}"
