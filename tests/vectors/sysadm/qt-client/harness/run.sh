#!/usr/bin/env bash
# One capture of the SysAdm Qt client against `monwire serve sysadm`.
#   run.sh OUTDIR MODE
#   MODE restart: at T_LOSS the server process is stopped (SIGTERM) and started again 2 s later.
#   MODE cut:     at T_LOSS the relay cuts the connection (SIGUSR1); the server keeps running.
# Environment: MONWIRE (path of the monwire binary), PY (python with `websockets`),
#   RUN (harness run time, s, default 330), T_LOSS (s, default 120), PORT_WSS/PORT_WS,
#   HOST (the address the client dials and the relay listens on, default 127.0.0.1; the client
#   treats only the literal 127.0.0.1 as localhost), SERVER_ARGS (more `serve sysadm` options;
#   the word @OUT is replaced by OUTDIR).
set -euo pipefail
out=$1 mode=$2
here=$(cd "$(dirname "$0")" && pwd)
HOST=${HOST:-127.0.0.1} RUN=${RUN:-330} T_LOSS=${T_LOSS:-120} PORT_WSS=${PORT_WSS:-42150} PORT_WS=${PORT_WS:-42151}
mkdir -p "$out"
server_args=${SERVER_ARGS:-}
export MONWIRE_SYSADM_PASSWORD=qt-harness-secret SYSADM_PASSWORD=qt-harness-secret
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_for() { # FILE TEXT: up to 30 s for TEXT to appear in FILE
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; exit 1
}

tcpdump -i lo -U -s 0 -w "$out/capture.pcap" "tcp port $PORT_WS" 2>"$out/tcpdump.log" & pids+=($!)
wait_for "$out/tcpdump.log" "listening on"
start_server() {
  local before; before=$(grep -c 'serving ws://' "$out/server.log" 2>/dev/null || true)
  "$MONWIRE" serve sysadm --plain --listen 127.0.0.1:$PORT_WS --user alice --interval 45000 \
    ${server_args//@OUT/$out} >>"$out/server.log" 2>&1 &
  server=$!; pids+=($server)
  for _ in $(seq 300); do
    [ "$(grep -c 'serving ws://' "$out/server.log" 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
    sleep 0.1
  done
  echo "server did not start" >&2; exit 1
}
start_server
"$PY" "$here/tls-relay.py" $PORT_WSS $PORT_WS "$here/relay-cert.pem" "$here/relay-key.pem" "$HOST" \
  >"$out/relay.log" 2>&1 & relay=$!; pids+=($relay)
wait_for "$out/relay.log" "relay: wss on"
"$here/qt-harness" $HOST:$PORT_WSS alice "$RUN" >"$out/harness.log" 2>&1 & harness=$!
sleep "$T_LOSS"
case $mode in
  restart)
    echo "$(date -u +%T) SIGTERM server" >>"$out/steps.log"
    kill -TERM $server; wait $server || echo "server exit $?" >>"$out/steps.log"
    sleep 2
    echo "$(date -u +%T) start server again" >>"$out/steps.log"
    start_server ;;
  cut)
    echo "$(date -u +%T) SIGUSR1 relay (cut)" >>"$out/steps.log"
    kill -USR1 $relay ;;
esac
wait $harness || echo "harness exit $?" >>"$out/steps.log"
sleep 1
kill -INT ${pids[0]}; sleep 1
"$PY" "$here/extract.py" "$out/capture.pcap" $PORT_WS "$out"
