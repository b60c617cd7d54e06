#!/usr/bin/env bash
# Stop the daemons that setup.sh started, by the process ids it recorded.
# Usage: teardown.sh [STATE_DIR] (the one given to setup.sh; default /tmp/iam-slurm).
set -euo pipefail

STATE=${1:-/tmp/iam-slurm}

stop() {
    local pidfile=$STATE/$1.pid pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pidfile"
    echo "stopped $1 ($pid)"
}

stop slurmd
stop slurmctld
stop munged
