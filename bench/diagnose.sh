#!/usr/bin/env bash
# Benchmark of one `wsdoctor diagnose` against a healthy local WebSocket endpoint:
# median and p90 wall time, peak resident memory. Not part of the tests.
#
# Usage: bench/diagnose.sh [--runs N]      (default 30)
#
# Builds the release binary, starts bench/ws_echo_server.py on 127.0.0.1 (a free port),
# runs `wsdoctor diagnose ws://127.0.0.1:PORT/ws --format json --health none` once to warm
# up and then N times, and stops the server on exit, whatever happens.
set -euo pipefail

runs=30
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 || { echo "bench: --runs needs a number" >&2; exit 64; } ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument '$1' (usage: bench/diagnose.sh [--runs N])" >&2; exit 64 ;;
  esac
done
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ]; then
  echo "bench: --runs must be a whole number of at least 1, not '$runs'" >&2
  exit 64
fi

cd "$(dirname "$0")/.."

# Peak RSS comes from GNU time's %M (maximum resident set size of the child, in KiB).
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench: installing GNU time" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null
  else
    echo "bench: /usr/bin/time is missing: apt-get install time (as root)" >&2
    exit 69
  fi
fi
command -v python3 >/dev/null || { echo "bench: python3 is needed for the echo server" >&2; exit 69; }

echo "bench: building release…" >&2
swift build -c release --product wsdoctor >&2
bin="$(swift build -c release --show-bin-path)/wsdoctor"

work="$(mktemp -d "${TMPDIR:-/tmp}/wsdoctor-bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 bench/ws_echo_server.py --host 127.0.0.1 --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
port=""
for _ in $(seq 1 100); do  # at most 5 s
  port="$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$work/server.out")"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench: echo server exited: $(cat "$work/server.err")" >&2; exit 70; }
  sleep 0.05
done
[ -n "$port" ] || { echo "bench: echo server did not start within 5 s" >&2; exit 70; }

url="ws://127.0.0.1:$port/ws"
args=(diagnose "$url" --format json --health none)

# Warm-up, and proof that the endpoint is healthy (a failing run measures nothing useful).
if ! "$bin" "${args[@]}" >"$work/report.json" 2>"$work/stderr"; then
  echo "bench: the warm-up diagnose did not report healthy:" >&2
  sed -n 's/.*"id": "\([^"]*\)".*/  cause: \1/p' "$work/report.json" | head -1 >&2
  exit 70
fi

walls=()
peak_kib=0
for _ in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  /usr/bin/time -f %M -o "$work/rss" "$bin" "${args[@]}" >/dev/null 2>"$work/stderr" \
    || { echo "bench: a run failed (exit $?): $(head -3 "$work/stderr")" >&2; exit 70; }
  end=$(date +%s%N)
  walls+=($(( (end - start) / 1000 )))  # microseconds
  kib=$(tail -1 "$work/rss")
  [ "$kib" -gt "$peak_kib" ] && peak_kib=$kib
done

sorted=($(printf '%s\n' "${walls[@]}" | sort -n))
n=${#sorted[@]}
# Median: middle value (mean of the two middle ones for even N). p90: nearest rank, ceil(0.9 N).
if [ $((n % 2)) -eq 1 ]; then median_us=${sorted[$((n / 2))]}; else median_us=$(( (sorted[n / 2 - 1] + sorted[n / 2]) / 2 )); fi
p90_us=${sorted[$(( (9 * n + 9) / 10 - 1 ))]}
ms() { printf '%d.%01d' $(( $1 / 1000 )) $(( ($1 % 1000) / 100 )); }
mib() { printf '%d.%01d' $(( $1 / 1024 )) $(( ($1 % 1024) * 10 / 1024 )); }
verdict() { if [ "$1" -lt "$2" ]; then echo "ok"; else echo "OVER TARGET"; fi; }

echo "wsdoctor diagnose $url --format json --health none"
echo "runs: $n (after 1 warm-up run), release build: $bin"
echo
printf '  %-10s %-34s %-30s [%s]\n' "wall time" "median $(ms "$median_us") ms, p90 $(ms "$p90_us") ms" \
  "target: median under 50 ms" "$(verdict "$median_us" 50000)"
printf '  %-10s %-34s %-30s [%s]\n' "peak RSS" "$(mib "$peak_kib") MiB (largest of all runs)" \
  "target: under 40 MB" "$(verdict "$peak_kib" 39063)"  # 40 MB = 39063 KiB
cat <<EOF

How to read this: wall time is the whole command as a user runs it (process start, the
stages target→close against a local echo server, JSON rendering, exit), so it measures
wsdoctor's own overhead, not network latency. The median is the typical run; p90 shows
the slow tail (scheduler noise, cold caches) — a p90 far above the median means noisy
runs, so repeat with more --runs. Peak RSS is the maximum resident memory of a single
run (GNU time %M); it is what a CI runner or a monitor sidecar must budget per probe.
EOF
