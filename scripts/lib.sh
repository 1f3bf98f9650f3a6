# shellcheck shell=bash
# Helpers the scripts share; source it (. scripts/lib.sh) from the repository's root.

# free_port prints a loopback TCP port nobody listens on. It picks below Linux's ephemeral range
# (32768-60999): the Go tests running beside the scripts (make test) and every outgoing connection
# take their ports from that range, so one could take this port between the check and the bind.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# wait_healthy BASE PID waits (up to 10 s) until BASE/healthz answers 2xx; it fails at once when
# process PID has exited.
wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1/healthz" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
