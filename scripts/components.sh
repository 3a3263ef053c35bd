#!/usr/bin/env bash
# Installs and starts the real components Portcullis is built and tested against.
# Idempotent; everything downloaded or built is cached under $PORTCULLIS_CACHE_DIR
# (default: $XDG_CACHE_HOME/portcullis, i.e. ~/.cache/portcullis, the folder the PDP looks in for
# opa too), so a second run is fast.
#
#   scripts/components.sh install opa     build the opa binary (go install) unless cached
#   scripts/components.sh path opa        print the path of the opa binary (installs first)
#   scripts/components.sh install wrk     the HTTP load generator the benchmarks use (Debian package)
#   scripts/components.sh install kafka   the Apache Kafka broker jars (Maven Central) unless cached
#   scripts/components.sh path kafka-libs print the folder of the broker jars (installs first)
#   scripts/components.sh install kcat    the Kafka command-line client (Debian package)
#   scripts/components.sh install redis   the Redis server the approval store uses (Debian package)
#   scripts/components.sh path redis-server
#                                         print the path of the redis-server binary (installs first)
#   scripts/components.sh install tmux    the terminal multiplexer the approvals console tests drive (Debian package)
#   scripts/components.sh install postgres
#                                         PostgreSQL server and client, pgbench, pgbouncer (Debian packages)
#   scripts/components.sh path pg-bin     print the folder holding initdb, postgres, pg_ctl, pgbench and psql
#   scripts/components.sh install chromium
#                                         headless Chromium for the console's browser tests (Debian package)
#   scripts/components.sh path chromium   print the path of the chromium binary (installs first)
#   scripts/components.sh install openssh OpenSSH server and client (Debian packages; no system sshd is
#                                         started) and, as root, the throwaway login the tests' sshd
#                                         serves (portcullis-ssh)
#   scripts/components.sh install kubernetes
#                                         kube-apiserver, kubectl and etcd, built from the Go module
#                                         proxy unless cached (first run: about 5 minutes)
#   scripts/components.sh path kubernetes-bin
#                                         print the folder holding kube-apiserver and kubectl
#   scripts/components.sh path etcd       print the path of the etcd binary
#   scripts/components.sh install all     every component the tests need
#   scripts/components.sh start kafka [--port 9092] [--controller-port 9093] [--dir DIR]
#                                         a single-node KRaft broker on 127.0.0.1 (data, log and
#                                         pid file in DIR, default <cache>/kafka/data)
#   scripts/components.sh stop kafka [--dir DIR]
#   scripts/components.sh prepare kafka [same options as start]
#                                         write DIR's broker configuration and format its storage
#                                         once, without starting (test/support/kafka-broker.ts)
#   scripts/components.sh start postgres [--dir DIR] [--port 5432]
#                                         a throwaway cluster on 127.0.0.1 (initdb'd once into DIR,
#                                         default <cache>/postgres/data): superuser postgres with the
#                                         password in $PORTCULLIS_POSTGRES_PASSWORD (default
#                                         "portcullis"), scram-sha-256 over TCP, trust on DIR's socket
#   scripts/components.sh stop postgres [--dir DIR]
set -euo pipefail

xdg_cache="${XDG_CACHE_HOME:-}"; [[ "$xdg_cache" == /* ]] || xdg_cache="$HOME/.cache"
cache_dir="${PORTCULLIS_CACHE_DIR:-$xdg_cache/portcullis}"
tools_bin="$cache_dir/tools/bin"
# The PDP builds the same release when it serves a Rego folder (pdp/src/policy/opa-binary.ts).
OPA_VERSION="${PORTCULLIS_OPA_VERSION:-v1.22.3}"
KAFKA_VERSION="${PORTCULLIS_KAFKA_VERSION:-4.4.0}"

log() { echo "[components] $*" >&2; }

opa_path() { echo "$tools_bin/opa-$OPA_VERSION"; }

install_opa() {
  local target; target="$(opa_path)"
  if [[ -x "$target" ]] && "$target" version >/dev/null 2>&1; then
    log "opa $OPA_VERSION: cached at $target"
    return
  fi
  command -v go >/dev/null || { log "error: go is required to build opa (https://go.dev)"; exit 1; }
  log "opa $OPA_VERSION: building with 'go install' (first run only, a few minutes)…"
  mkdir -p "$tools_bin" "$cache_dir/go"
  local gobin; gobin="$(mktemp -d "$cache_dir/go/bin.XXXXXX")"
  # A private module and build cache keeps the build reproducible and the cache in one place.
  GOBIN="$gobin" GOMODCACHE="${GOMODCACHE:-$cache_dir/go/mod}" GOCACHE="${GOCACHE:-$cache_dir/go/build}" \
    GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION" &
  local build=$! started=$SECONDS
  while kill -0 "$build" 2>/dev/null; do
    sleep 5
    kill -0 "$build" 2>/dev/null && (( (SECONDS - started) % 15 < 5 )) && log "opa: still building ($((SECONDS - started)) s)…"
  done
  wait "$build" || { log "error: building opa failed (see the go output above)"; exit 1; }
  mv "$gobin/opa" "$target"
  rmdir "$gobin"
  log "opa $OPA_VERSION: installed at $target ($("$target" version | head -1))"
}

apt_updated=""
# Installs Debian packages that are missing; apt's index is refreshed once per run.
install_debian_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && { log "debian packages present: $*"; return; }
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  if [[ -z "$apt_updated" ]]; then
    log "apt-get update…"
    $sudo apt-get update -qq
    apt_updated=1
  fi
  log "installing debian packages: ${missing[*]}…"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "installed: ${missing[*]}"
}

kafka_home() { echo "$cache_dir/kafka/$KAFKA_VERSION"; }
kafka_libs() { echo "$(kafka_home)/libs"; }

# The broker's POM brings no SLF4J binding, so without one it logs nothing. 4.x logs through
# log4j2 (kafka-server brings log4j-api/-core) behind SLF4J 1.7, whose log4j2 binding is
# log4j-slf4j-impl (log4j-slf4j2-impl is for SLF4J 2 and would be ignored); 3.x used reload4j.
# The log4j2 binding's own dependencies are excluded so the log4j version the broker chose wins;
# reload4j's binding needs its dependency (reload4j itself).
kafka_logging_binding() {
  case "$KAFKA_VERSION" in
    3.*) echo "org.slf4j slf4j-reload4j 1.7.36 -" ;;
    *) echo "org.apache.logging.log4j log4j-slf4j-impl 2.25.5 *" ;;
  esac
}

install_kafka() {
  local home libs; home="$(kafka_home)"; libs="$(kafka_libs)"
  local done_marker="$home/.installed"
  if [[ -f "$done_marker" && -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    log "kafka $KAFKA_VERSION: cached at $libs"
    return
  fi
  command -v java >/dev/null || { log "error: java (17 or newer) is required for the kafka broker"; exit 1; }
  command -v mvn >/dev/null || { log "error: mvn is required to fetch the kafka broker jars"; exit 1; }
  mkdir -p "$home"
  # Test files run in parallel and may all ask for the install at once: one fetches, the rest wait.
  exec {lock_fd}>"$home/.install.lock"
  flock "$lock_fd"
  if [[ -f "$done_marker" && -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    log "kafka $KAFKA_VERSION: cached at $libs"
    exec {lock_fd}>&-
    return
  fi
  local group artifact version exclude exclusions=""
  read -r group artifact version exclude <<<"$(kafka_logging_binding)"
  [[ "$exclude" == "*" ]] && exclusions="<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>"
  cat >"$home/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/components.sh: the jars of a runnable Kafka broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.portcullis.components</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>$group</groupId>
      <artifactId>$artifact</artifactId>
      <version>$version</version>
      $exclusions
    </dependency>
  </dependencies>
</project>
EOF
  log "kafka $KAFKA_VERSION: fetching the broker jars from Maven Central (first run only)…"
  rm -rf "$libs.partial"
  mvn -q -B -Dstyle.color=never -f "$home/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs.partial" >"$home/mvn.log" 2>&1 &
  local fetch=$! started=$SECONDS next_beat=10
  # mvn -q is silent for its whole run: say that it is still going.
  while kill -0 "$fetch" 2>/dev/null; do
    sleep 1
    if kill -0 "$fetch" 2>/dev/null && (( SECONDS - started >= next_beat )); then
      log "kafka: still fetching jars ($((SECONDS - started)) s)…"
      next_beat=$((next_beat + 10))
    fi
  done
  if ! wait "$fetch"; then
    log "error: fetching the kafka jars failed; the end of $home/mvn.log:"
    tail -n 30 "$home/mvn.log" >&2
    exit 1
  fi
  rm -rf "$libs"
  mv "$libs.partial" "$libs"
  touch "$done_marker"
  exec {lock_fd}>&-
  log "kafka $KAFKA_VERSION: installed $(find "$libs" -name '*.jar' | wc -l) jars at $libs ($((SECONDS - started)) s)"
}

# The java command line for the broker and its tools. The JVM options come from DIR/jvm.options
# (written by prepare_kafka), which the TypeScript test harness passes to java as well.
kafka_java() {
  kafka_java_cmd=(java "@$1/jvm.options" -cp "$(kafka_libs)/*")
}

# A random cluster id in Kafka's form (16 bytes, base64url, no padding); like Kafka's own
# generator it never starts with '-', which the command-line tools would read as a flag.
kafka_cluster_id() {
  local id="-"
  while [[ "$id" == -* ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  echo "$id"
}

# Writes the configuration of a single-node KRaft broker+controller into DIR (every time, so a
# port change takes effect) and formats its storage once. The TypeScript test harness calls this
# too, so the broker's configuration lives in one place.
prepare_kafka() {
  local dir="$1" port="$2" controller_port="$3"
  mkdir -p "$dir/data"
  dir="$(cd "$dir" && pwd)"
  # Static voters, not a dynamic quorum (format --standalone): the voter's address is then not
  # stored in the metadata log, so the same data can come back on other ports.
  cat >"$dir/server.properties" <<EOF
# Written by scripts/components.sh on every start: change the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# One node: every internal topic has one replica and needs one in sync.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# After a SIGKILL the restarted controller holds the new registration back until the old broker
# session expires (default 9 s): a shorter session makes outage tests recover in seconds.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
# Consumers in tests join one by one; do not hold the first rebalance back for 3 s.
group.initial.rebalance.delay.ms=0
# Sized for a 2-core machine and a 512 MiB heap (the cleaner's default buffer is 128 MiB).
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=16777216
EOF
  # A small heap (the default is 1 GiB) and the serial collector: a test broker on 2 cores.
  # log4j.configuration is the 3.x name of the logging configuration.
  cat >"$dir/jvm.options" <<EOF
-Xms64m
-Xmx${PORTCULLIS_KAFKA_HEAP:-512m}
-XX:+UseSerialGC
-XX:+ExitOnOutOfMemoryError
-Djava.awt.headless=true
"-Dlog4j2.configurationFile=$dir/log4j2.properties"
"-Dlog4j.configuration=file:$dir/log4j.properties"
EOF
  # Quiet: warnings and errors, plus the broker's "started" line. No log4j shutdown hook: the
  # broker logs while the JVM exits, and log4j would only warn that the hook came too late.
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
shutdownHook = disable
appender.out.type = Console
appender.out.name = out
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.raftserver.name = kafka.server.KafkaRaftServer
logger.raftserver.level = info
EOF
  cat >"$dir/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
EOF
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    log "kafka: formatting storage in $dir/data…"
    kafka_java "$dir"
    # A one-shot tool: the C1-only JIT starts it sooner.
    "${kafka_java_cmd[@]}" -XX:TieredStopAtLevel=1 kafka.tools.StorageTool format -t "$(kafka_cluster_id)" -c "$dir/server.properties" \
      >>"$dir/kafka.log" 2>&1 \
      || { log "error: formatting kafka storage failed; the end of $dir/kafka.log:"; tail -n 30 "$dir/kafka.log" >&2; exit 1; }
  fi
}

# The pid in DIR/kafka.pid if that process is alive and still our broker (pids get reused).
kafka_running_pid() {
  local pidfile="$1/kafka.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $1/server.properties" || return 1
  echo "$pid"
}

kafka_args() {
  kafka_port=9092 kafka_controller_port="" kafka_dir="$cache_dir/kafka/data"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) kafka_port="${2:?--port needs a value}"; shift 2 ;;
      --controller-port) kafka_controller_port="${2:?--controller-port needs a value}"; shift 2 ;;
      --dir) kafka_dir="${2:?--dir needs a value}"; shift 2 ;;
      *) log "error: unknown option $1"; exit 2 ;;
    esac
  done
  kafka_controller_port="${kafka_controller_port:-$((kafka_port + 1))}"
  mkdir -p "$kafka_dir"
  kafka_dir="$(cd "$kafka_dir" && pwd)"
}

start_kafka() {
  kafka_args "$@"
  local dir="$kafka_dir" port="$kafka_port" pid
  if pid="$(kafka_running_pid "$dir")"; then
    log "kafka: already running (pid $pid, $dir)"
    return
  fi
  install_kafka
  install_debian_packages kcat # the readiness probe is a real metadata request
  prepare_kafka "$dir" "$port" "$kafka_controller_port"
  local started=$SECONDS
  # setsid: the broker outlives this script and ignores the terminal's Ctrl-C.
  kafka_java "$dir"
  setsid "${kafka_java_cmd[@]}" kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/kafka.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/kafka.pid"
  log "kafka: starting (pid $pid) on 127.0.0.1:$port, controller 127.0.0.1:$kafka_controller_port, log $dir/kafka.log…"
  until kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "error: kafka exited during start-up; the end of $dir/kafka.log:"
      tail -n 30 "$dir/kafka.log" >&2
      rm -f "$dir/kafka.pid"
      exit 1
    fi
    if (( SECONDS - started > 120 )); then
      log "error: kafka did not answer a metadata request within 120 s; the end of $dir/kafka.log:"
      tail -n 30 "$dir/kafka.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  log "kafka $KAFKA_VERSION: ready on 127.0.0.1:$port in $((SECONDS - started)) s"
}

stop_kafka() {
  kafka_args "$@"
  local dir="$kafka_dir" pid
  if ! pid="$(kafka_running_pid "$dir")"; then
    log "kafka: not running ($dir)"
    rm -f "$dir/kafka.pid"
    return
  fi
  log "kafka: stopping pid $pid…"
  kill -TERM "$pid"
  # A clean shutdown saves log recovery on the next start; it is bounded all the same.
  local waited=0
  while kill -0 "$pid" 2>/dev/null && (( waited < 60 )); do sleep 0.5; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    log "kafka: no exit 30 s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$dir/kafka.pid"
  log "kafka: stopped"
}

# --- PostgreSQL (Debian's packages) ---

# The newest installed server's bin folder: Debian keeps initdb, postgres and pg_ctl off PATH.
pg_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    log "error: no PostgreSQL server found under /usr/lib/postgresql (run: $0 install postgres)"
    exit 1
  fi
  echo "$dir"
}

install_postgres() { install_debian_packages postgresql postgresql-client pgbouncer; }

# initdb and postgres refuse to run as root: as root, the cluster belongs to Debian's postgres user.
pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postgres_args() {
  postgres_port=5432 postgres_dir="$cache_dir/postgres/data"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) postgres_port="${2:?--port needs a value}"; shift 2 ;;
      --dir) postgres_dir="${2:?--dir needs a value}"; shift 2 ;;
      *) log "error: unknown option $1"; exit 2 ;;
    esac
  done
  mkdir -p "$postgres_dir"
  postgres_dir="$(cd "$postgres_dir" && pwd)"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$postgres_dir"; fi
}

start_postgres() {
  postgres_args "$@"
  local dir="$postgres_dir" port="$postgres_port" bin
  install_postgres
  bin="$(pg_bin_dir)"
  if pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "postgres: already running ($dir)"
    return
  fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    log "postgres: initdb into $dir/data…"
    local pwfile="$dir/superuser.password"
    (umask 077; printf '%s\n' "${PORTCULLIS_POSTGRES_PASSWORD:-portcullis}" >"$pwfile")
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$pwfile"; fi
    pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$dir/initdb.log" 2>&1 \
      || { log "error: initdb failed; the end of $dir/initdb.log:"; tail -n 20 "$dir/initdb.log" >&2; rm -f "$pwfile"; exit 1; }
    rm -f "$pwfile"
    echo "include_if_exists = 'portcullis.conf'" | pg_as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
  fi
  # Written on every start, so a port change takes effect. TCP on 127.0.0.1 only, with SCRAM;
  # the Unix socket lives in DIR, so only this cluster's owner reaches its trust entry.
  pg_as_owner tee "$dir/data/portcullis.conf" >/dev/null <<CONF
# Written by scripts/components.sh on every start: change the script, not this file.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
password_encryption = 'scram-sha-256'
max_connections = 100
shared_buffers = 32MB
CONF
  pg_as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<CONF
# Written by scripts/components.sh on every start: change the script, not this file.
local all all trust
host all all 127.0.0.1/32 scram-sha-256
CONF
  log "postgres: starting on 127.0.0.1:$port (log $dir/postgres.log)…"
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || { log "error: postgres did not start; the end of $dir/postgres.log:"; tail -n 20 "$dir/postgres.log" >&2; exit 1; }
  log "postgres $("$bin/postgres" --version | awk '{print $3}'): ready on 127.0.0.1:$port"
}

stop_postgres() {
  postgres_args "$@"
  local dir="$postgres_dir" bin
  bin="$(pg_bin_dir)"
  if [[ ! -f "$dir/data/PG_VERSION" ]] || ! pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "postgres: not running ($dir)"
    return
  fi
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  log "postgres: stopped ($dir)"
}

# --- OpenSSH (Debian's packages) ---

# The login the tests' own sshd serves (test/support/sshd-server.ts); without root the tests use the
# current user instead.
SSH_TEST_USER="${PORTCULLIS_SSH_TEST_USER:-portcullis-ssh}"

install_openssh() {
  local missing=0
  for package in openssh-server openssh-client; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing=1
  done
  if (( missing )); then
    # The package's maintainer scripts would start (and enable) a system sshd on port 22: a
    # policy-rc.d that answers 101 ("action forbidden") keeps every service down during the install.
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    local policy=/usr/sbin/policy-rc.d had_policy=""
    if [[ -e "$policy" ]]; then had_policy=1; $sudo cp -p "$policy" "$policy.portcullis-saved"; fi
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    local status=0
    install_debian_packages openssh-server openssh-client || status=$?
    if [[ -n "$had_policy" ]]; then $sudo mv "$policy.portcullis-saved" "$policy"; else $sudo rm -f "$policy"; fi
    (( status == 0 )) || exit "$status"
  else
    log "debian packages present: openssh-server openssh-client"
  fi
  if [[ $(id -u) -eq 0 ]]; then
    # sshd's privilege-separation folder, which a package install without systemd does not create.
    mkdir -p /run/sshd && chmod 755 /run/sshd
    if ! getent passwd "$SSH_TEST_USER" >/dev/null; then
      useradd --create-home --shell /bin/bash --user-group "$SSH_TEST_USER"
      log "created the throwaway login $SSH_TEST_USER"
    fi
    # '*': no password can match, but the account is not locked ('!'), which sshd without PAM
    # would refuse even for a key.
    usermod -p '*' "$SSH_TEST_USER"
  fi
}

# --- Kubernetes API server, kubectl and etcd (built from the Go module proxy) ---

KUBERNETES_VERSION="${PORTCULLIS_KUBERNETES_VERSION:-v1.34.4}"
ETCD_VERSION="${PORTCULLIS_ETCD_VERSION:-v3.6.5}"

kube_bin_dir() { echo "$tools_bin/kubernetes-$KUBERNETES_VERSION"; }
etcd_path() { echo "$tools_bin/etcd-$ETCD_VERSION"; }

# Runs a go build in the background and says every 15 s that it is still going.
go_build_with_progress() {
  local label="$1"; shift
  "$@" &
  local build=$! started=$SECONDS
  while kill -0 "$build" 2>/dev/null; do
    sleep 5
    kill -0 "$build" 2>/dev/null && (( (SECONDS - started) % 15 < 5 )) && log "$label: still building ($((SECONDS - started)) s)…"
  done
  wait "$build"
}

go_env_for_builds() {
  export GOMODCACHE="${GOMODCACHE:-$cache_dir/go/mod}" GOCACHE="${GOCACHE:-$cache_dir/go/build}" GOFLAGS=-mod=mod CGO_ENABLED=0
}

# k8s.io/kubernetes cannot be 'go install'ed: its go.mod points its staging modules at local
# folders. A wrapper module requires it and points each staging module at its published release
# (v1.X.Y ↔ v0.X.Y) instead; the staging list is read from Kubernetes' own go.mod.
install_kubernetes() {
  local dir; dir="$(kube_bin_dir)"
  if [[ -x "$dir/kube-apiserver" && -x "$dir/kubectl" ]]; then
    log "kubernetes $KUBERNETES_VERSION: cached at $dir"
    return
  fi
  command -v go >/dev/null || { log "error: go is required to build kube-apiserver and kubectl (https://go.dev)"; exit 1; }
  mkdir -p "$tools_bin" "$cache_dir/go"
  exec {kube_lock}>"$cache_dir/go/.kubernetes.lock"
  flock "$kube_lock"
  if [[ -x "$dir/kube-apiserver" && -x "$dir/kubectl" ]]; then exec {kube_lock}>&-; log "kubernetes: cached at $dir"; return; fi
  go_env_for_builds
  local work="$cache_dir/go/kubernetes-wrapper-$KUBERNETES_VERSION" staging="v0.${KUBERNETES_VERSION#v1.}"
  mkdir -p "$work"
  log "kubernetes $KUBERNETES_VERSION: preparing the wrapper module in $work…"
  (
    cd "$work"
    local upstream_mod
    upstream_mod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    [[ -f "$upstream_mod" ]] || { log "error: could not download k8s.io/kubernetes@$KUBERNETES_VERSION's go.mod"; exit 1; }
    {
      echo "module portcullis.dev/kubernetes-tools"
      echo
      echo "go 1.24"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      # Every "k8s.io/x => ./staging/src/k8s.io/x" line, except the samples the proxy does not serve.
      sed -n 's#^\s*\(k8s.io/[A-Za-z0-9._/-]*\) => ./staging/src/.*#\1#p' "$upstream_mod" \
        | grep -v -e sample-cli-plugin -e sample-controller \
        | while read -r module; do echo "replace $module => $module $staging"; done
    } >go.mod
    cat >tools.go <<'EOF_TOOLS'
//go:build tools

// The commands this module exists to build.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF_TOOLS
    go mod tidy >"$work/tidy.log" 2>&1 || { log "error: go mod tidy failed; the end of $work/tidy.log:"; tail -n 20 "$work/tidy.log" >&2; exit 1; }
  )
  local version_pkg="k8s.io/component-base/version" ldflags
  ldflags="-s -w -X $version_pkg.gitVersion=$KUBERNETES_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2) -X $version_pkg.gitTreeState=clean -X $version_pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
  mkdir -p "$dir.partial"
  for command in kube-apiserver kubectl; do
    log "kubernetes: building $command (first run only; kube-apiserver takes minutes)…"
    (cd "$work" && go_build_with_progress "$command" go build -trimpath -ldflags "$ldflags" -o "$dir.partial/$command" "k8s.io/kubernetes/cmd/$command") \
      || { log "error: building $command failed (see the go output above)"; exit 1; }
  done
  rm -rf "$dir"; mv "$dir.partial" "$dir"
  exec {kube_lock}>&-
  log "kubernetes $KUBERNETES_VERSION: installed at $dir ($("$dir/kubectl" version --client 2>/dev/null | head -1))"
}

# etcd's server module also points its siblings at local folders; the same wrapper trick.
install_etcd() {
  local target; target="$(etcd_path)"
  if [[ -x "$target" ]]; then log "etcd $ETCD_VERSION: cached at $target"; return; fi
  command -v go >/dev/null || { log "error: go is required to build etcd (https://go.dev)"; exit 1; }
  mkdir -p "$tools_bin" "$cache_dir/go"
  exec {etcd_lock}>"$cache_dir/go/.etcd.lock"
  flock "$etcd_lock"
  if [[ -x "$target" ]]; then exec {etcd_lock}>&-; log "etcd: cached at $target"; return; fi
  go_env_for_builds
  local work="$cache_dir/go/etcd-wrapper-$ETCD_VERSION"
  mkdir -p "$work"
  (
    cd "$work"
    cat >go.mod <<EOF_MOD
module portcullis.dev/etcd-tools

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
replace go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
replace go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
replace go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
EOF_MOD
    cat >tools.go <<'EOF_TOOLS'
//go:build tools

// The command this module exists to build.
package tools

import _ "go.etcd.io/etcd/server/v3"
EOF_TOOLS
    go mod tidy >"$work/tidy.log" 2>&1 || { log "error: go mod tidy failed; the end of $work/tidy.log:"; tail -n 20 "$work/tidy.log" >&2; exit 1; }
    log "etcd $ETCD_VERSION: building (first run only)…"
    go_build_with_progress etcd go build -trimpath -ldflags "-s -w" -o "$target.partial" go.etcd.io/etcd/server/v3 \
      || { log "error: building etcd failed (see the go output above)"; exit 1; }
  )
  mv "$target.partial" "$target"
  exec {etcd_lock}>&-
  log "etcd $ETCD_VERSION: installed at $target"
}

cmd="${1:-}"; what="${2:-}"
case "$cmd:$what" in
  install:opa) install_opa ;;
  install:wrk) install_debian_packages wrk ;;
  install:kafka) install_kafka ;;
  install:kcat) install_debian_packages kcat ;;
  install:redis) install_debian_packages redis-server ;;
  install:tmux) install_debian_packages tmux ;;
  install:postgres) install_postgres ;;
  install:chromium) install_debian_packages chromium ;;
  install:openssh) install_openssh ;;
  install:kubernetes) install_etcd; install_kubernetes ;;
  install:all) install_opa; install_kafka; install_debian_packages kcat redis-server postgresql postgresql-client pgbouncer chromium tmux; install_openssh; install_etcd; install_kubernetes ;;
  path:opa) install_opa; opa_path ;;
  path:kafka-libs) install_kafka; kafka_libs ;; # progress goes to stderr, the path alone to stdout
  path:redis-server) install_debian_packages redis-server >&2; command -v redis-server ;;
  path:pg-bin) install_postgres >&2; pg_bin_dir ;;
  path:chromium) install_debian_packages chromium >&2; command -v chromium ;;
  path:kubernetes-bin) install_etcd >&2; install_kubernetes >&2; kube_bin_dir ;;
  path:etcd) install_etcd >&2; etcd_path ;;
  prepare:kafka) shift 2; kafka_args "$@"; install_kafka
    prepare_kafka "$kafka_dir" "$kafka_port" "$kafka_controller_port" ;;
  start:kafka) shift 2; start_kafka "$@" ;;
  stop:kafka) shift 2; stop_kafka "$@" ;;
  start:postgres) shift 2; start_postgres "$@" ;;
  stop:postgres) shift 2; stop_postgres "$@" ;;
  *) echo "usage: $0 install opa|wrk|kafka|kcat|redis|tmux|postgres|chromium|openssh|kubernetes|all | path opa|kafka-libs|redis-server|pg-bin|chromium|kubernetes-bin|etcd | start|stop kafka [--port P] [--controller-port P] [--dir D] | prepare kafka [same options] | start|stop postgres [--port P] [--dir D]" >&2; exit 2 ;;
esac
