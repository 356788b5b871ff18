#!/usr/bin/env bash
# bench/serve.sh — how much `wsdoctor serve` costs per connection and how fast it fans out,
# next to a Go gorilla/websocket server and a Node `ws` server doing the same job.
#
#   bench/serve.sh [--connections N] [--subscribers "1000 5000"] [--messages M]
#                  [--offered-rate D] [--servers "swift gorilla node"] [--idle-only]
#                  [--skip-build | --binary PATH]
#
# 1. idle: N WebSocket connections to /ws (default 1000; 10000 needs `ulimit -n` above
#    ~10500, raised here up to the hard limit), held for a few seconds; reports the
#    server's resident memory per connection and how many were still open.
# 2. fan-out: one publisher, S subscribers on one channel (1000 and 5000):
#    - burst: M messages published as fast as the socket takes them → delivered/s;
#    - paced: M messages at D/S per second (D deliveries/s offered, default 50000)
#      → p50/p99 publish-to-delivery latency (HDR histogram, µs resolution).
# Every server is started afresh for each scenario on 127.0.0.1, port 0, and stopped on
# exit (trap). The load client, the gorilla server (bench/serve/) and the Node server
# are built from Debian packages, installed with apt when missing (as root).
# Not part of the tests; takes a few minutes. Read the figures with the notes it prints.
set -euo pipefail

CONNECTIONS=1000
SUBSCRIBERS="1000 5000"
MESSAGES=200
OFFERED=50000
SERVERS="swift gorilla node"
SKIP_BUILD=0
WSDOCTOR=""

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "bench/serve.sh: $*" >&2; exit 1; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive number, not '$2'"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --connections) positive "$1" "${2:-}"; CONNECTIONS="$2"; shift 2 ;;
    --subscribers) [[ "${2:-}" =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || die "--subscribers needs numbers like \"1000 5000\""; SUBSCRIBERS="$2"; shift 2 ;;
    --messages) positive "$1" "${2:-}"; MESSAGES="$2"; shift 2 ;;
    --offered-rate) positive "$1" "${2:-}"; OFFERED="$2"; shift 2 ;;
    --servers) SERVERS="${2:-}"; shift 2
      for s in $SERVERS; do [[ "$s" =~ ^(swift|gorilla|node)$ ]] || die "--servers takes swift, gorilla, node"; done ;;
    --idle-only) SUBSCRIBERS=""; shift ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --binary) [[ -x "${2:-}" ]] || die "--binary needs an executable wsdoctor"; WSDOCTOR="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wsdoctor-bench.XXXXXX")"
SERVER_PID=""

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------------
GOPATH_DEB=/usr/share/gocode
need=()
command -v go >/dev/null || need+=(golang-go)
[[ -d $GOPATH_DEB/src/github.com/gorilla/websocket ]] || need+=(golang-github-gorilla-websocket-dev)
[[ -d $GOPATH_DEB/src/github.com/codahale/hdrhistogram ]] || need+=(golang-github-codahale-hdrhistogram-dev)
if [[ " $SERVERS " == *" node "* ]]; then
  command -v node >/dev/null || need+=(nodejs)
  [[ -f /usr/share/nodejs/ws/package.json ]] || need+=(node-ws)
fi
if [[ ${#need[@]} -gt 0 ]]; then
  [[ "$(id -u)" == 0 ]] || die "missing ${need[*]}: run as root, or: sudo apt-get install ${need[*]}"
  echo "installing ${need[*]} ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Each side (server, client) holds one descriptor per connection, plus some.
want=$(( CONNECTIONS + 1000 ))
hard=$(ulimit -Hn)
if [[ "$hard" != unlimited && "$hard" -lt "$want" ]]; then
  ulimit -Sn "$hard"
  echo "note: ulimit -n is at most $hard here; connections capped to $(( hard - 1000 ))" >&2
  CONNECTIONS=$(( hard - 1000 ))
else
  ulimit -Sn "$want" 2>/dev/null || true
fi

echo "building ..." >&2
export GO111MODULE=off GOPATH="$GOPATH_DEB" GOFLAGS=
(cd "$ROOT/bench/serve/loadclient" && go build -o "$WORK/loadclient" .)
(cd "$ROOT/bench/serve/gorilla" && go build -o "$WORK/gorilla" .)
if [[ " $SERVERS " == *" swift "* && -z "$WSDOCTOR" ]]; then
  if [[ $SKIP_BUILD == 0 ]]; then (cd "$ROOT" && swift build -c release --product wsdoctor >&2); fi
  WSDOCTOR="$(cd "$ROOT" && swift build -c release --show-bin-path)/wsdoctor"
  [[ -x "$WSDOCTOR" ]] || die "no release build at $WSDOCTOR (drop --skip-build)"
fi

# --- servers -----------------------------------------------------------------------
PORT=""
start_server() {  # $1: swift | gorilla | node
  local log="$WORK/$1.log"
  : >"$log"
  case "$1" in
    swift) "$WSDOCTOR" serve --host 127.0.0.1 --port 0 --data-dir "$WORK/data" \
             --max-connections 1000000 --publish-rate 1000000 2>"$log" & ;;
    gorilla) "$WORK/gorilla" -addr 127.0.0.1:0 2>"$log" & ;;
    node) NODE_PATH=/usr/share/nodejs node --max-old-space-size=4096 "$ROOT/bench/serve/node-server.js" 127.0.0.1 0 2>"$log" & ;;
  esac
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 300); do
    PORT="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://')" || true
    [[ -n "$PORT" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$PORT" ]] || { cat "$log" >&2; die "$1 server did not start"; }
}

# Run the client against a fresh server; the JSON line goes to $WORK/results.
run() {  # $1: server, $2: scenario label, rest: client flags
  local server="$1" label="$2"; shift 2
  start_server "$server"
  local out
  if out="$("$WORK/loadclient" -url "ws://127.0.0.1:$PORT/ws" -pid "$SERVER_PID" "$@" 2>>"$WORK/client.log")"; then
    echo "$server $label $out" >>"$WORK/results"
  else
    echo "$server $label {\"error\":\"client failed\"}" >>"$WORK/results"
  fi
  # A server that does not speak the protocol yet shows as errors in its row, not as a stop.
  stop_server
}

: >"$WORK/results"
for server in $SERVERS; do
  echo "[$server] idle: $CONNECTIONS connections" >&2
  run "$server" "idle" -mode idle -n "$CONNECTIONS" -hold 5s
  for subs in $SUBSCRIBERS; do
    echo "[$server] fan-out to $subs: burst of $MESSAGES, then $MESSAGES paced" >&2
    run "$server" "burst-$subs" -mode fanout -subs "$subs" -messages "$MESSAGES" -rate 0
    rate=$(awk -v d="$OFFERED" -v s="$subs" 'BEGIN { r = d / s; if (r < 1) r = 1; printf "%.2f", r }')
    run "$server" "paced-$subs" -mode fanout -subs "$subs" -messages "$MESSAGES" -rate "$rate"
  done
done

# --- report ------------------------------------------------------------------------
python3 - "$WORK/results" "$CONNECTIONS" "$SUBSCRIBERS" "$OFFERED" "$SERVERS" <<'PY'
import json, sys
path, connections, subscribers, offered, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), int(sys.argv[4]), sys.argv[5].split()
rows = {}
for line in open(path):
    server, label, blob = line.split(" ", 2)
    try: rows[(server, label)] = json.loads(blob)
    except ValueError: rows[(server, label)] = {"error": blob.strip()[:80]}

def get(server, label, key):
    r = rows.get((server, label), {})
    return None if "error" in r else r.get(key)

def fmt(v, spec="{:,.0f}"):
    return "-" if v is None else spec.format(v)

def ratio(a, b):
    return "-" if a is None or b in (None, 0) else "{:.2f}x".format(a / b)

print()
print("idle connections (%d requested, held 5 s)" % connections)
print("  %-8s %10s %10s %16s %12s" % ("server", "opened", "held", "RSS/conn (KiB)", "RSS (MiB)"))
for s in servers:
    per = get(s, "idle", "per_conn_bytes")
    rss = get(s, "idle", "rss_after_kib")
    err = rows.get((s, "idle"), {}).get("error") or rows.get((s, "idle"), {}).get("first_error")
    print("  %-8s %10s %10s %16s %12s  %s" % (s, fmt(get(s, "idle", "opened")), fmt(get(s, "idle", "held")),
          fmt(per and per / 1024, "{:.1f}"), fmt(rss and rss / 1024, "{:.1f}"), ("error: " + err[:60]) if err else ""))

for subs in subscribers:
    print()
    print("fan-out to %s subscribers" % subs)
    print("  %-8s %14s %8s %10s %10s %10s %12s" % ("server", "burst msg/s", "lost", "p50 (ms)", "p99 (ms)", "paced lost", "peak RSS MiB"))
    for s in servers:
        b, p = "burst-" + subs, "paced-" + subs
        lost_b = get(s, b, "lost"); lost_p = get(s, p, "lost")
        hwm = max([v for v in (get(s, b, "hwm_kib"), get(s, p, "hwm_kib")) if v] or [0]) or None
        err = rows.get((s, b), {}).get("error") or rows.get((s, p), {}).get("error")
        print("  %-8s %14s %8s %10s %10s %10s %12s  %s" % (s, fmt(get(s, b, "delivered_per_sec")), fmt(lost_b),
              fmt(get(s, p, "p50_ms"), "{:.2f}"), fmt(get(s, p, "p99_ms"), "{:.2f}"), fmt(lost_p),
              fmt(hwm and hwm / 1024, "{:.1f}"), ("error: " + err[:60]) if err else ""))

if "swift" in servers:
    print()
    print("ratios, wsdoctor serve against each baseline (throughput: higher is better; memory, latency: lower is better)")
    for base in [s for s in servers if s != "swift"]:
        parts = ["RSS/conn " + ratio(get("swift", "idle", "per_conn_bytes"), get(base, "idle", "per_conn_bytes"))]
        for subs in subscribers:
            parts.append("%s subs: msg/s %s, p99 %s, peak RSS %s" % (subs,
                ratio(get("swift", "burst-" + subs, "delivered_per_sec"), get(base, "burst-" + subs, "delivered_per_sec")),
                ratio(get("swift", "paced-" + subs, "p99_ms"), get(base, "paced-" + subs, "p99_ms")),
                ratio(get("swift", "burst-" + subs, "hwm_kib"), get(base, "burst-" + subs, "hwm_kib"))))
        print("  vs %-8s %s" % (base, "; ".join(parts)))

    print()
    print("targets (2 cores):")
    per = get("swift", "idle", "per_conn_bytes")
    held = get("swift", "idle", "held")
    print("  <= 16 KiB per idle connection ........ %s" % ("-" if per is None else ("ok" if per <= 16 * 1024 else "MISSED") + " (%.1f KiB)" % (per / 1024)))
    print("  10,000 connections held .............. %s" % ("-" if held is None else ("ok" if held >= 10000 else ("MISSED" if connections >= 10000 else "not tried: run with --connections 10000")) + " (%d held)" % held))
    if "gorilla" in servers:
        for subs in subscribers:
            a, b = get("swift", "burst-" + subs, "delivered_per_sec"), get("gorilla", "burst-" + subs, "delivered_per_sec")
            ma, mb = get("swift", "burst-" + subs, "hwm_kib"), get("gorilla", "burst-" + subs, "hwm_kib")
            ok = a is not None and b and a >= 0.9 * b
            okm = ma is not None and mb and ma <= 1.1 * mb
            print("  fan-out %5s: msg/s on par with gorilla (within 10%%) %s; peak memory on par %s" % (subs,
                  "ok" if ok else "MISSED" if a is not None else "-", "ok" if okm else "MISSED" if ma is not None else "-"))

print("""
how to read this:
  RSS/conn    (server resident memory with N idle connections - before) / N, sampled 2 s after the last
              dial; includes per-connection buffers, tasks/goroutines and bookkeeping, not the process base.
  held        connections still open after 5 s; fewer than opened means the server dropped some.
  burst msg/s messages delivered to all subscribers / time from the first publish to the last delivery,
              with M messages published back to back: the fan-out throughput.
  p50/p99     publish-to-delivery latency with a paced publisher (%d deliveries/s offered in total),
              from an HDR histogram fed by every subscriber; the publisher stamps each message.
  lost        expected deliveries that never came (a dropped slow consumer, a refusal); should be 0.
  peak RSS    the server's VmHWM during the fan-out.
  The load client runs on the same 2 cores as the server, so absolute numbers are modest; compare the
  ratios, which put every server under the same client. Baselines: bench/serve/gorilla (gorilla's chat-
  example structure) and bench/serve/node-server.js (ws with a heartbeat); neither keeps history.""" % offered)
PY
