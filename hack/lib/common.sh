# Shared helpers for the hack/ scripts: paths, logging, and failures that say what broke and how to fix it.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths and settings here are read by the scripts that source this file

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$HACK_DIR/.." && pwd)
# shellcheck source=../versions.env
source "$HACK_DIR/versions.env"

# Built tools survive across checkouts and CI runs of the same machine; the platform's state does not.
KUBRICKS_CACHE_DIR=${KUBRICKS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubricks}
KUBRICKS_STATE_DIR=${KUBRICKS_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/kubricks-testenv}
HOST_CA_BUNDLE=${KUBRICKS_HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }

# die WHAT [HOW-TO-FIX] [LOGFILE]: print what broke, how to fix it, and the tail of the step's log.
die() {
  printf '\nerror: %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf 'fix:   %s\n' "$2" >&2
  if [ -n "${3:-}" ] && [ -s "$3" ]; then
    printf -- '--- last lines of %s ---\n' "$3" >&2
    tail -n 25 "$3" >&2
  fi
  exit 1
}

# run_logged LOGFILE WHAT HOW-TO-FIX COMMAND...: COMMAND in a subshell with `set -e` in force, its output in
# LOGFILE; when it fails, die with WHAT, HOW-TO-FIX and the log's tail. Call it untested: bash ignores
# `set -e` inside anything run as `cmd || ...` or `if cmd`, so a failed step would go unnoticed there.
run_logged() {
  local logfile=$1 what=$2 fix=$3 status restore=+e
  shift 3
  [[ $- == *e* ]] && restore=-e
  set +e
  (
    set -e
    "$@"
  ) >"$logfile" 2>&1
  status=$?
  set "$restore"
  [ "$status" = 0 ] || die "$what" "$fix" "$logfile"
}

need_command() {  # need_command CMD DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed" "apt-get install -y $2 (or run 'make deps')"
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD until it succeeds; false after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && { warn "timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Background processes of the platform: one pid file and one log per process under $RUN_DIR.
RUN_DIR="$KUBRICKS_STATE_DIR/run"
LOG_DIR="$KUBRICKS_STATE_DIR/logs"

process_running() {  # process_running NAME: true when NAME's recorded pid is alive and still NAME's binary
  local pidfile="$RUN_DIR/$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(cat "$RUN_DIR/$1.cmd")"
}

# start_process NAME BINARY ARGS...: run BINARY detached from this shell so it outlives `make`.
start_process() {
  local name=$1
  shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  basename "$1" >"$RUN_DIR/$name.cmd"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

stop_process() {  # stop_process NAME [SECONDS]: TERM, then KILL after SECONDS (10)
  local pidfile="$RUN_DIR/$1.pid" pid
  if process_running "$1"; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    wait_for "${2:-10}" "$1 to stop" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    log "stopped $1"
  fi
  rm -f "$pidfile"
}

# ensure_port_free NAME PORT: a port held by something other than our NAME process is a clear error.
ensure_port_free() {
  port_in_use "$2" && die "port $2, needed by $1, is taken by another program" \
    "stop that program ('ss -ltnp | grep :$2' shows it) or choose another port: export KUBRICKS_TESTENV_$(echo "$1" | tr a-z- A-Z_)_PORT=<free port>"
  return 0
}
