#!/usr/bin/env bash
# PostgreSQL jetable pour les tests / throwaway PostgreSQL for the test suite.
#
#   scripts/postgres.sh start DIR   # initdb + start on 127.0.0.1:<free port>, create db crisis_test
#                                   # prints the URL on its last stdout line and writes DIR/url
#   scripts/postgres.sh stop DIR    # pg_ctl stop -m fast, then rm -rf DIR
#
# PostgreSQL refuses to run as root: when invoked as root, the server runs as an
# unprivileged system user ($CRISIS_PG_USER, default "crisis-pg", created if missing).
# DIR's parent directories must be traversable by that user (scripts/dev uses a
# `mktemp -d` directory chmod'ed 755).
#
# Progress messages go to stderr; stdout carries only the URL.
set -euo pipefail

PG_OS_USER="${CRISIS_PG_USER:-crisis-pg}"
PG_DB_USER="crisis"
PG_DB_NAME="crisis_test"
MARKER=".crisis-postgres"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { printf 'postgres.sh: ERREUR / ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    printf 'usage: %s {start|stop} DIR\n' "$0" >&2
    exit 2
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Directory holding initdb/pg_ctl/postgres (all from the same major version).
find_bindir() {
    local initdb_path dir
    if initdb_path="$(command -v initdb 2>/dev/null)" && command -v pg_ctl >/dev/null 2>&1; then
        dir="$(dirname "$(readlink -f "$initdb_path")")"
        if [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Highest version first.
    while IFS= read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k4,4 -rn)
    return 1
}

ensure_bindir() {
    if BINDIR="$(find_bindir)"; then
        return 0
    fi
    if is_root && command -v apt-get >/dev/null 2>&1; then
        log "PostgreSQL introuvable, installation via apt / PostgreSQL not found, installing via apt..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || die "apt-get update failed"
        apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
        BINDIR="$(find_bindir)" || die "PostgreSQL installed but initdb/pg_ctl still not found"
        return 0
    fi
    die "initdb/pg_ctl introuvables / not found (PATH, /usr/lib/postgresql/*/bin).
  Install the PostgreSQL server (e.g. 'sudo apt-get install postgresql') and retry."
}

ensure_os_user() {
    if id -u "$PG_OS_USER" >/dev/null 2>&1; then
        return 0
    fi
    log "création de l'utilisateur système / creating system user '$PG_OS_USER'"
    useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$PG_OS_USER" \
        || die "useradd $PG_OS_USER failed"
}

# Run a command as the user that owns the cluster (root -> $PG_OS_USER).
as_pg() {
    if is_root; then
        # cd first: the server user may not be able to read root's cwd.
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

wait_ready() {
    local port="$1" i
    for ((i = 0; i < 100; i++)); do
        if [[ -x "$BINDIR/pg_isready" ]]; then
            if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_DB_USER" -d postgres; then
                return 0
            fi
        elif python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

show_log() {
    if [[ -f "$DIR/postgres.log" ]]; then
        log "--- $DIR/postgres.log (tail) ---"
        tail -n 30 "$DIR/postgres.log" >&2 || true
    fi
}

cmd_start() {
    ensure_bindir
    [[ -e "$DIR/data" ]] && die "$DIR/data existe déjà / already exists (run 'stop $DIR' first)"

    mkdir -p "$DIR"
    DIR="$(cd "$DIR" && pwd)"
    touch "$DIR/$MARKER"
    if is_root; then
        ensure_os_user
        chown "$PG_OS_USER" "$DIR"
        chmod 700 "$DIR"
        runuser -u "$PG_OS_USER" -- test -w "$DIR" -a -x "$DIR" \
            || die "user '$PG_OS_USER' cannot access $DIR: make its parent directories traversable (chmod 755)"
    fi
    # Unix socket paths are limited to ~107 bytes.
    if (( ${#DIR} > 90 )); then
        die "DIR path too long for a Unix socket directory: $DIR"
    fi

    log "initdb ($BINDIR) -> $DIR/data"
    if ! as_pg "$BINDIR/initdb" -D "$DIR/data" -A trust -U "$PG_DB_USER" \
        --encoding=UTF8 --locale=C --no-instructions >"$DIR/initdb.log" 2>&1; then
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    fi

    # Static settings; the port is chosen per attempt on the command line.
    local sockdir_escaped="${DIR//\'/\'\'}"
    cat >>"$DIR/data/postgresql.conf" <<EOF

# --- scripts/postgres.sh: throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir_escaped'
fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 200
EOF

    local attempt port=""
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        log "démarrage / starting on 127.0.0.1:$port (attempt $attempt)"
        if as_pg "$BINDIR/pg_ctl" start -w -t 60 -D "$DIR/data" -l "$DIR/postgres.log" \
            -o "-p $port" >/dev/null; then
            break
        fi
        port=""
        # Port race: another process grabbed the port; retry with a new one.
        if ! grep -qiE 'address already in use|could not bind|could not create any TCP' \
            "$DIR/postgres.log" 2>/dev/null; then
            show_log
            die "pg_ctl start failed"
        fi
    done
    [[ -n "$port" ]] || { show_log; die "could not start PostgreSQL (no free port?)"; }

    if ! wait_ready "$port"; then
        show_log
        as_pg "$BINDIR/pg_ctl" stop -D "$DIR/data" -m immediate >/dev/null 2>&1 || true
        die "PostgreSQL not ready on 127.0.0.1:$port"
    fi

    if ! "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$PG_DB_USER" \
        -d postgres -c "CREATE DATABASE $PG_DB_NAME" >&2; then
        as_pg "$BINDIR/pg_ctl" stop -D "$DIR/data" -m immediate >/dev/null 2>&1 || true
        die "CREATE DATABASE $PG_DB_NAME failed"
    fi

    local url="postgresql+psycopg://$PG_DB_USER@127.0.0.1:$port/$PG_DB_NAME"
    printf '%s\n' "$url" >"$DIR/url"
    printf '%s\n' "$BINDIR" >"$DIR/bindir"
    log "prêt / ready: $url"
    printf '%s\n' "$url"
}

cmd_stop() {
    if [[ ! -d "$DIR" ]]; then
        log "$DIR absent, rien à arrêter / nothing to stop"
        return 0
    fi
    DIR="$(cd "$DIR" && pwd)"
    if [[ ! -e "$DIR/$MARKER" ]]; then
        die "$DIR was not created by scripts/postgres.sh start (no $MARKER); refusing to touch it"
    fi

    if [[ -f "$DIR/data/postmaster.pid" ]]; then
        if [[ -f "$DIR/bindir" ]]; then
            BINDIR="$(<"$DIR/bindir")"
        else
            BINDIR="$(find_bindir)" || die "pg_ctl not found"
        fi
        local owner
        owner="$(stat -c %U "$DIR/data")"
        if is_root; then
            PG_OS_USER="$owner"
        fi
        log "arrêt / stopping ($DIR/data)"
        if ! as_pg "$BINDIR/pg_ctl" stop -w -t 30 -D "$DIR/data" -m fast >/dev/null 2>&1; then
            log "fast shutdown failed, trying immediate"
            as_pg "$BINDIR/pg_ctl" stop -w -t 30 -D "$DIR/data" -m immediate >/dev/null 2>&1 || true
        fi
        if [[ -f "$DIR/data/postmaster.pid" ]]; then
            # Last resort: kill the postmaster by its recorded pid.
            local pid
            pid="$(head -n1 "$DIR/data/postmaster.pid" 2>/dev/null || true)"
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                log "killing postmaster $pid"
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
    fi
    rm -rf -- "$DIR"
}

[[ $# -eq 2 ]] || usage
ACTION="$1"
DIR="$2"
[[ -n "$DIR" && "$DIR" != "/" ]] || die "invalid DIR: '$DIR'"
BINDIR=""

case "$ACTION" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    *) usage ;;
esac
