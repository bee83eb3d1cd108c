#!/usr/bin/env bash
# Runs gridstream's servers as plain local processes, for machines without Docker:
# Apache Kafka (KRaft, one node), QuestDB, FerretDB (MongoDB wire protocol, SQLite) and Eclipse
# Mosquitto (MQTT). Everything is fetched from package registries (Maven Central, the Go module
# proxy, Debian's apt: Mosquitto's packages are downloaded and unpacked into the cache, not
# installed into the system).
#
#   stack.sh install                  fetch/build into the cache (no network once cached)
#   stack.sh start  [--kafka-brokers N] [server...]
#                                     install if needed, start, wait until ready; N Kafka
#                                     nodes (a cluster: 3), kept for later starts of this GS_HOME
#   stack.sh stop   [server...]       SIGTERM, then SIGKILL after a timeout
#   stack.sh status [server...]       one line per server; exit 0 if all running, 3 if not
#   stack.sh logs   <kafka|kafka-N|questdb|mongo|mqtt>
#
# Servers: kafka (all its nodes; kafka-2, kafka-3 name one node of a cluster), questdb, mongo, mqtt.
#
# See deploy/local/README.md for versions, ports, environment variables and traps.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

GS_CACHE=${GS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gridstream}
GS_HOME=${GS_HOME:-$REPO_ROOT/.gridstream}

GS_KAFKA_PORT=${GS_KAFKA_PORT:-9092}
GS_KAFKA_CONTROLLER_PORT=${GS_KAFKA_CONTROLLER_PORT:-9093}
GS_QDB_HTTP_PORT=${GS_QDB_HTTP_PORT:-9000}
GS_QDB_PG_PORT=${GS_QDB_PG_PORT:-8812}
GS_QDB_ILP_TCP_PORT=${GS_QDB_ILP_TCP_PORT:-9009}
GS_QDB_HEALTH_PORT=${GS_QDB_HEALTH_PORT:-9003}
GS_MONGO_PORT=${GS_MONGO_PORT:-27017}
GS_MQTT_PORT=${GS_MQTT_PORT:-1883}

GS_START_TIMEOUT=${GS_START_TIMEOUT:-90}
GS_STOP_TIMEOUT=${GS_STOP_TIMEOUT:-30}
GS_KAFKA_JVM_OPTS=${GS_KAFKA_JVM_OPTS:--Xms512m -Xmx1g}
GS_QDB_JVM_OPTS=${GS_QDB_JVM_OPTS:--Xms256m -Xmx2g}

KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")
# 9.3.x is the last line built for Java 17 (9.4.0 and later need Java 25).
QUESTDB_VERSION=9.3.4
FERRETDB_VERSION=v1.24.2

KAFKA_DIR="$GS_CACHE/kafka-$KAFKA_VERSION"
QUESTDB_JAR="$GS_CACHE/questdb-$QUESTDB_VERSION/questdb-$QUESTDB_VERSION.jar"
FERRETDB_BIN="$GS_CACHE/bin/ferretdb-$FERRETDB_VERSION"
FERRETDB_BUILD="$SCRIPT_DIR/ferretdb/build.sh"
# Debian's packages of the broker and the libraries a Debian 12 base system lacks; the version is
# the one apt offers (Debian keeps only the newest security update of a release on its mirrors).
MOSQUITTO_PACKAGES=(mosquitto mosquitto-clients libmosquitto1 libcjson1 libdlt2 libwrap0)
MOSQUITTO_DIR="$GS_CACHE/mosquitto"

DATA_DIR="$GS_HOME/data"
LOG_DIR="$GS_HOME/logs"
RUN_DIR="$GS_HOME/run"

ALL_SERVERS=(kafka questdb mongo mqtt)
JAVA=""

# --- Kafka nodes ---------------------------------------------------------------------------
# One node by default; `start --kafka-brokers 3` makes a cluster of three (each node broker and
# controller). The count is fixed when the storage is formatted and kept in data/kafka.nodes.
# Node 1 is the server `kafka` on GS_KAFKA_PORT / GS_KAFKA_CONTROLLER_PORT; node k is `kafka-k`
# on GS_KAFKA_PORT_k / GS_KAFKA_CONTROLLER_PORT_k, by default 2(k-1) above node 1's ports.
KAFKA_NODES=""

kafka_node_count() {
  if [[ -n "$KAFKA_NODES" ]]; then echo "$KAFKA_NODES"; return; fi
  if [[ -s "$DATA_DIR/kafka.nodes" ]]; then cat "$DATA_DIR/kafka.nodes"; else echo 1; fi
}

kafka_servers() { # the server names of every node: kafka kafka-2 ...
  local k n
  n=$(kafka_node_count)
  echo kafka
  for ((k = 2; k <= n; k++)); do echo "kafka-$k"; done
}

node_of() { # <kafka | kafka-k>: k
  if [[ "$1" == kafka ]]; then echo 1; else echo "${1#kafka-}"; fi
}

kafka_port() { # <node>
  local v="GS_KAFKA_PORT_$1"
  if (($1 == 1)); then echo "$GS_KAFKA_PORT"; else echo "${!v:-$((GS_KAFKA_PORT + 2 * ($1 - 1)))}"; fi
}

kafka_controller_port() { # <node>
  local v="GS_KAFKA_CONTROLLER_PORT_$1"
  if (($1 == 1)); then
    echo "$GS_KAFKA_CONTROLLER_PORT"
  else
    echo "${!v:-$((GS_KAFKA_CONTROLLER_PORT + 2 * ($1 - 1)))}"
  fi
}

kafka_bootstrap() { # every node's client address, comma separated
  local k n out=""
  n=$(kafka_node_count)
  for ((k = 1; k <= n; k++)); do out+="${out:+,}127.0.0.1:$(kafka_port "$k")"; done
  echo "$out"
}

# --- secrets -------------------------------------------------------------------------------
# The servers' passwords, made once per GS_HOME: random, in data/secrets/<name>.secret, readable
# by this user only. Services read them from there (packages/config) unless set in the
# environment (GS_KAFKA_SASL_PASSWORD, GS_QDB_PASSWORD, GS_MONGO_PASSWORD).
secret() { # <name>: prints the secret, making it first if there is none
  local dir="$DATA_DIR/secrets" f
  f="$dir/$1.secret"
  if [[ ! -s "$f" ]]; then
    mkdir -p "$dir"
    chmod 700 "$dir"
    (umask 077 && new_secret >"$f.tmp" && mv "$f.tmp" "$f")
  fi
  cat "$f"
}

say() { printf 'gridstream: %s\n' "$*"; }
die() { printf 'gridstream: %s\n' "$*" >&2; exit 1; }

# --- prerequisites -----------------------------------------------------------------------

java_major() { # prints the major version of the given java binary, e.g. 17 (or 8 for 1.8)
  local spec
  spec=$("$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = //p' | head -n1)
  case "$spec" in
    1.*) echo "${spec#1.}" ;;
    '') echo 0 ;;
    *) echo "${spec%%.*}" ;;
  esac
}

check_prerequisites() {
  local missing=0 candidate="" major
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    candidate="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    candidate=$(command -v java)
  fi
  if [[ -z "$candidate" ]]; then
    echo "gridstream: missing prerequisite: Java 17+ (no java on PATH or in JAVA_HOME) — install openjdk-17-jdk" >&2
    missing=1
  else
    major=$(java_major "$candidate")
    if ((major < 17)); then
      echo "gridstream: missing prerequisite: Java 17+ (found java $major at $candidate) — install openjdk-17-jdk or set JAVA_HOME" >&2
      missing=1
    else
      JAVA=$candidate
    fi
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    echo "gridstream: missing prerequisite: Maven (mvn) — install maven" >&2
    missing=1
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "gridstream: missing prerequisite: Go (go) — install golang (1.24+) from go.dev or your package manager" >&2
    missing=1
  fi
  if ! command -v curl >/dev/null 2>&1; then
    echo "gridstream: missing prerequisite: curl — install curl" >&2
    missing=1
  fi
  if ! command -v setsid >/dev/null 2>&1; then
    echo "gridstream: missing prerequisite: setsid — install util-linux" >&2
    missing=1
  fi
  if ((missing)); then exit 2; fi
}

# --- install -------------------------------------------------------------------------------

# -q still leaves colour-reset escapes behind; strip them (pipefail keeps mvn's status).
mvn_quiet() { mvn -B -q -Dstyle.color=never "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d'; }

pom_stamp() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }

kafka_installed() {
  [[ -f "$KAFKA_DIR/.complete" && "$(cat "$KAFKA_DIR/.complete")" == "$(pom_stamp)" ]]
}

install_kafka() {
  if kafka_installed; then return 0; fi
  say "fetching Apache Kafka $KAFKA_VERSION and log4j2 from Maven Central"
  local tmp="$GS_CACHE/.kafka-$KAFKA_VERSION.tmp"
  rm -rf "$tmp"
  mvn_quiet -f "$KAFKA_POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/libs" ||
    die "could not fetch Kafka with Maven (see the output above)"
  pom_stamp >"$tmp/.complete"
  rm -rf "$KAFKA_DIR"
  mv "$tmp" "$KAFKA_DIR"
}

install_questdb() {
  if [[ -f "$QUESTDB_JAR" ]]; then return 0; fi
  say "fetching QuestDB $QUESTDB_VERSION from Maven Central"
  local tmp
  tmp=$(mktemp -d "$GS_CACHE/.questdb.XXXXXX")
  # No project is needed: run from the empty temp dir so no pom.xml around is picked up.
  (cd "$tmp" && mvn_quiet org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.questdb:questdb:$QUESTDB_VERSION" -DoutputDirectory="$tmp/out") ||
    { rm -rf "$tmp"; die "could not fetch QuestDB with Maven (see the output above)"; }
  mkdir -p "$(dirname "$QUESTDB_JAR")"
  mv "$tmp/out/questdb-$QUESTDB_VERSION.jar" "$QUESTDB_JAR"
  rm -rf "$tmp"
}

# The launcher is rebuilt whenever its sources (patches/ included) change.
ferretdb_stamp() {
  (cd "$SCRIPT_DIR/ferretdb" && find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

ferretdb_installed() {
  [[ -x "$FERRETDB_BIN" ]] || return 1
  # Without the sources next to this script, any binary built before will do.
  [[ -f "$FERRETDB_BUILD" ]] || return 0
  [[ -f "$FERRETDB_BIN.stamp" && "$(cat "$FERRETDB_BIN.stamp")" == "$(ferretdb_stamp)" ]]
}

install_ferretdb() {
  if ferretdb_installed; then return 0; fi
  [[ -f "$FERRETDB_BUILD" ]] || die "cannot build FerretDB: $FERRETDB_BUILD is missing"
  say "building FerretDB $FERRETDB_VERSION (Go module proxy) into $FERRETDB_BIN"
  mkdir -p "$GS_CACHE/bin"
  local tmp="$FERRETDB_BIN.tmp.$$" stamp
  stamp=$(ferretdb_stamp)
  bash "$FERRETDB_BUILD" "$tmp" || { rm -f "$tmp"; die "FerretDB build failed (see the output above)"; }
  [[ -x "$tmp" ]] || die "FerretDB build did not produce $tmp"
  mv "$tmp" "$FERRETDB_BIN"
  echo "$stamp" >"$FERRETDB_BIN.stamp"
}

mosquitto_installed() { [[ -s "$MOSQUITTO_DIR/.complete" ]]; }

mosquitto_env() { # <command...>: runs one of the unpacked binaries with its libraries
  LD_LIBRARY_PATH="$MOSQUITTO_DIR/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
}

install_mosquitto() {
  if mosquitto_installed; then return 0; fi
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    die "missing prerequisite: apt-get and dpkg-deb (Debian or Ubuntu), to fetch Mosquitto"
  fi
  say "fetching Eclipse Mosquitto from Debian (apt-get download ${MOSQUITTO_PACKAGES[*]})"
  local tmp deb missing
  tmp=$(mktemp -d "$GS_CACHE/.mosquitto.XXXXXX")
  chmod 755 "$tmp" # apt's download user must be able to write there
  if ! (cd "$tmp" && apt-get download "${MOSQUITTO_PACKAGES[@]}" >"$tmp/apt.log" 2>&1); then
    # A machine whose package lists were never fetched has no candidate: fetch them (root only).
    if [[ $(id -u) == 0 ]] && apt-get update -qq >>"$tmp/apt.log" 2>&1 &&
      (cd "$tmp" && apt-get download "${MOSQUITTO_PACKAGES[@]}" >>"$tmp/apt.log" 2>&1); then
      :
    else
      sed 's/^/  | /' "$tmp/apt.log" >&2
      rm -rf "$tmp"
      die "could not download Mosquitto's packages with apt-get (see above; as a user, run 'sudo apt-get update' first)"
    fi
  fi
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  missing=$(LD_LIBRARY_PATH="$tmp/root/usr/lib/x86_64-linux-gnu" ldd "$tmp/root/usr/sbin/mosquitto" | grep 'not found' || true)
  [[ -z "$missing" ]] || { rm -rf "$tmp"; die "Mosquitto needs libraries this machine lacks: $missing"; }
  dpkg-deb -f "$tmp"/mosquitto_*.deb Version >"$tmp/root/.complete.tmp"
  rm -rf "$MOSQUITTO_DIR"
  mv "$tmp/root" "$MOSQUITTO_DIR"
  mv "$MOSQUITTO_DIR/.complete.tmp" "$MOSQUITTO_DIR/.complete"
  rm -rf "$tmp"
}

installed() { # is <server> installed?
  case "$1" in
    kafka | kafka-*) kafka_installed ;;
    questdb) [[ -f "$QUESTDB_JAR" ]] ;;
    mongo) ferretdb_installed ;;
    mqtt) mosquitto_installed ;;
  esac
}

install_servers() { # install the given servers (all of them by default)
  local s need=()
  for s in "$@"; do installed "$s" || need+=("$s"); done
  if ((${#need[@]} == 0)); then return 0; fi
  mkdir -p "$GS_CACHE"
  # One installer at a time per cache.
  exec 8>"$GS_CACHE/.lock"
  flock 8
  for s in "${need[@]}"; do
    case "$s" in
      kafka | kafka-*) install_kafka ;;
      questdb) install_questdb ;;
      mongo) install_ferretdb ;;
      mqtt) install_mosquitto ;;
    esac
  done
  exec 8>&-
}

# --- processes -----------------------------------------------------------------------------

# Each server is started with one argument that names both the server and this GS_HOME, so
# /proc/<pid>/cmdline tells whether a pid really is our server (pid files go stale after a
# crash or a reboot, and pids get reused).
marker() {
  case "$1" in
    kafka | kafka-* | questdb) echo "-Dgridstream.server=$1@$GS_HOME" ;;
    mongo) echo "$DATA_DIR/ferretdb" ;; # the --data argument
    mqtt) echo "$RUN_DIR/mosquitto.conf" ;; # the -c argument
  esac
}

pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$LOG_DIR/$1.log"; }

is_ours() { # <pid> <server>
  grep -qzxF -- "$(marker "$2")" "/proc/$1/cmdline" 2>/dev/null
}

find_pid() { # prints the pid of our running <server>, or fails
  local s=$1 f pid p
  f=$(pid_file "$s")
  if [[ -f "$f" ]]; then
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" "$s"; then
      echo "$pid"
      return 0
    fi
  fi
  # The pid file is missing or stale: look for the process itself.
  # (The second check drops short-lived matches, such as another stack.sh's grep.)
  while IFS= read -r p; do
    pid=${p#/proc/}
    pid=${pid%/cmdline}
    if [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" "$s"; then
      echo "$pid" >"$f" 2>/dev/null || true
      echo "$pid"
      return 0
    fi
  done < <(grep -lzxF -- "$(marker "$s")" /proc/[0-9]*/cmdline 2>/dev/null)
  [[ -f "$f" ]] && rm -f "$f"
  return 1
}

port_open() { # <port>
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

main_port() {
  case "$1" in
    kafka | kafka-*) kafka_port "$(node_of "$1")" ;;
    questdb) echo "$GS_QDB_HTTP_PORT" ;;
    mongo) echo "$GS_MONGO_PORT" ;;
    mqtt) echo "$GS_MQTT_PORT" ;;
  esac
}

ports_of() {
  case "$1" in
    kafka | kafka-*) echo "$(kafka_port "$(node_of "$1")") $(kafka_controller_port "$(node_of "$1")")" ;;
    questdb) echo "$GS_QDB_HTTP_PORT $GS_QDB_PG_PORT $GS_QDB_ILP_TCP_PORT $GS_QDB_HEALTH_PORT" ;;
    mongo) echo "$GS_MONGO_PORT" ;;
    mqtt) echo "$GS_MQTT_PORT" ;;
  esac
}

launch() { # <server> <command...>: detached from this shell, output to the server's log
  local s=$1 log pid i
  shift
  log=$(log_file "$s")
  [[ -f "$log" ]] && mv -f "$log" "$log.1"
  # 8>&- 9>&-: the server must not inherit the lock files' descriptors, or it would hold
  # the locks for as long as it runs.
  (cd "$GS_HOME" && exec setsid nohup "$@" >"$log" 2>&1 </dev/null 8>&- 9>&-) &
  pid=$!
  # setsid execs in place unless it is a process group leader, in which case it forks;
  # find_pid's /proc scan covers that case.
  for i in 1 2 3 4 5 6 7 8 9 10; do
    if is_ours "$pid" "$s"; then break; fi
    if pid=$(find_pid "$s"); then break; fi
    sleep 0.1
  done
  echo "$pid" >"$(pid_file "$s")"
}

render() { # <template> <output> NAME=value...: replaces @NAME@ in the template
  local tmpl=$1 out=$2 kv text
  shift 2
  text=$(<"$tmpl")
  for kv in "$@"; do text=${text//@${kv%%=*}@/${kv#*=}}; done
  printf '%s\n' "$text" >"$out.tmp"
  mv "$out.tmp" "$out"
}

start_kafka_node() { # <kafka | kafka-k>
  local s=$1 node n props data id_file="$DATA_DIR/kafka.cluster-id" cp="$KAFKA_DIR/libs/*"
  local voters="" k rf isr admin
  local jvm=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka/log4j2.properties")
  node=$(node_of "$s")
  n=$(kafka_node_count)
  props="$RUN_DIR/$s.properties"
  data="$DATA_DIR/$s"
  for ((k = 1; k <= n; k++)); do voters+="${voters:+,}$k@127.0.0.1:$(kafka_controller_port "$k")"; done
  rf=$((n < 3 ? n : 3))
  isr=$((rf >= 3 ? 2 : 1))
  admin=$(secret kafka-admin)
  mkdir -p "$data"
  (umask 077 && render "$SCRIPT_DIR/kafka/server.properties.template" "$props" \
    "NODES=$n" "NODE_ID=$node" "VOTERS=$voters" "KAFKA_PORT=$(kafka_port "$node")" \
    "CONTROLLER_PORT=$(kafka_controller_port "$node")" "DATA_DIR=$data" \
    "REPLICATION_FACTOR=$rf" "MIN_ISR=$isr" "ADMIN_PASSWORD=$admin")
  if [[ ! -f "$data/meta.properties" ]]; then
    if [[ ! -s "$id_file" ]]; then
      # A cluster id is 16 random bytes in unpadded base64url; Kafka avoids a leading '-'.
      local id="-"
      while [[ "$id" == -* ]]; do
        id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
      done
      echo "$id" >"$id_file"
    fi
    # The SCRAM accounts go into the cluster's first metadata: the brokers' and the services'.
    "$JAVA" "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format \
      -t "$(cat "$id_file")" -c "$props" --ignore-formatted \
      --add-scram "SCRAM-SHA-512=[name=admin,password=$admin]" \
      --add-scram "SCRAM-SHA-512=[name=gridstream,password=$(secret kafka)]" \
      >"$LOG_DIR/$s-format.log" 2>&1 ||
      { tail -n 30 "$LOG_DIR/$s-format.log" >&2; die "$s: formatting storage failed ($LOG_DIR/$s-format.log)"; }
    touch "$data/.scram"
  elif [[ ! -f "$data/.scram" ]]; then
    die "$s: $data was formatted before Kafka took credentials (no accounts in its metadata); stop the stack and remove $DATA_DIR/kafka* (its topics are lost), or use another GS_HOME"
  fi
  # shellcheck disable=SC2086 # GS_KAFKA_JVM_OPTS is a list of options
  launch "$s" "$JAVA" "$(marker "$s")" $GS_KAFKA_JVM_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent "${jvm[@]}" -cp "$cp" kafka.Kafka "$props"
}

start_questdb() {
  local root="$DATA_DIR/questdb" tmp="$RUN_DIR/questdb-tmp"
  mkdir -p "$root/conf" "$tmp"
  # QuestDB unpacks its native libraries into java.io.tmpdir and deletes them on a clean
  # exit; a killed server leaves them behind. The directory must allow exec.
  rm -f "$tmp"/libquestdb*.so
  (umask 077 && render "$SCRIPT_DIR/questdb/server.conf.template" "$root/conf/server.conf" \
    "HTTP_PORT=$GS_QDB_HTTP_PORT" "HEALTH_PORT=$GS_QDB_HEALTH_PORT" \
    "PG_PORT=$GS_QDB_PG_PORT" "ILP_TCP_PORT=$GS_QDB_ILP_TCP_PORT" "PASSWORD=$(secret questdb)")
  cp "$SCRIPT_DIR/questdb/log.conf" "$root/conf/log.conf"
  # shellcheck disable=SC2086 # GS_QDB_JVM_OPTS is a list of options
  launch questdb "$JAVA" "$(marker questdb)" $GS_QDB_JVM_OPTS "-Djava.io.tmpdir=$tmp" \
    --add-exports java.base/jdk.internal.math=io.questdb \
    -p "$QUESTDB_JAR" -m io.questdb/io.questdb.ServerMain -d "$root"
}

start_mongo() {
  mkdir -p "$DATA_DIR/ferretdb"
  secret mongo >/dev/null
  # Every command but the handshake needs the user `gridstream` (SCRAM-SHA-256), made in the
  # admin database on the first start with the password in data/secrets/mongo.secret.
  launch mongo "$FERRETDB_BIN" --listen "127.0.0.1:$GS_MONGO_PORT" --data "$(marker mongo)" \
    --auth-user gridstream --auth-password-file "$DATA_DIR/secrets/mongo.secret"
}

# The broker's own accounts, made once per GS_HOME: `admin` manages the dynamic security plugin
# (tenants' credentials, docs/mqtt.md), `gridstream-bridge` reads every tenant's topics. Their
# passwords are random, in files only this user can read; services read them from there unless
# GS_MQTT_PASSWORD / GS_MQTT_ADMIN_PASSWORD are set.
mqtt_dir() { echo "$DATA_DIR/mosquitto"; }

new_secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }

start_mqtt() {
  local dir
  dir=$(mqtt_dir)
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ ! -f "$dir/dynamic-security.json" ]]; then
    (umask 077 && new_secret >"$dir/admin.secret" && new_secret >"$dir/bridge.secret")
    mosquitto_env "$MOSQUITTO_DIR/usr/bin/mosquitto_ctrl" dynsec init "$dir/dynamic-security.json" \
      admin "$(cat "$dir/admin.secret")" >"$LOG_DIR/mqtt-init.log" 2>&1 ||
      { cat "$LOG_DIR/mqtt-init.log" >&2; die "mqtt: could not initialise the dynamic security plugin"; }
    rm -f "$dir/.provisioned"
  fi
  render "$SCRIPT_DIR/mosquitto/mosquitto.conf.template" "$RUN_DIR/mosquitto.conf" \
    "PORT=$GS_MQTT_PORT" "DATA_DIR=$dir" "USER=$(id -un)" \
    "PLUGIN=$MOSQUITTO_DIR/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
  launch mqtt env "LD_LIBRARY_PATH=$MOSQUITTO_DIR/usr/lib/x86_64-linux-gnu" \
    "$MOSQUITTO_DIR/usr/sbin/mosquitto" -c "$(marker mqtt)"
}

mqtt_ctl() { # <dynsec command...>: as the broker's admin
  mosquitto_env "$MOSQUITTO_DIR/usr/bin/mosquitto_ctrl" -h 127.0.0.1 -p "$GS_MQTT_PORT" \
    -u admin -P "$(cat "$(mqtt_dir)/admin.secret")" dynsec "$@" >>"$LOG_DIR/mqtt-init.log" 2>&1
}

provision_mqtt() { # once the broker answers: the bridge's account and role, made once
  local dir
  dir=$(mqtt_dir)
  [[ -f "$dir/.provisioned" ]] && return 0
  if ! { mqtt_ctl createRole gridstream-bridge &&
    mqtt_ctl addRoleACL gridstream-bridge subscribePattern 'gridstream/#' allow &&
    mqtt_ctl addRoleACL gridstream-bridge publishClientReceive 'gridstream/#' allow &&
    mqtt_ctl createClient gridstream-bridge -p "$(cat "$dir/bridge.secret")" &&
    mqtt_ctl addClientRole gridstream-bridge gridstream-bridge; }; then
    tail -n 20 "$LOG_DIR/mqtt-init.log" >&2
    die "mqtt: could not create the bridge's account"
  fi
  touch "$dir/.provisioned"
}

ready() { # <server>: is it answering?
  case "$1" in
    kafka | kafka-*)
      grep -q 'Kafka Server started' "$(log_file "$1")" 2>/dev/null && port_open "$(main_port "$1")"
      ;;
    questdb)
      curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$GS_QDB_HEALTH_PORT/" 2>/dev/null &&
        curl -fsS -m 2 -o /dev/null -u "admin:$(secret questdb)" \
          "http://127.0.0.1:$GS_QDB_HTTP_PORT/exec?query=select%201" 2>/dev/null
      ;;
    mongo) port_open "$GS_MONGO_PORT" ;;
    mqtt) port_open "$GS_MQTT_PORT" ;;
  esac
}

fail_with_log() { # <server> <reason>
  local log
  log=$(log_file "$1")
  {
    echo "gridstream: $1 $2; last 30 lines of $log:"
    tail -n 30 "$log" 2>/dev/null | sed 's/^/  | /'
  } >&2
}

settle() { # <server> <deadline (epoch s)>: waits while our server runs without answering;
  # succeeds once it answers, fails when it has exited or the deadline has passed
  local s=$1 deadline=$2
  while find_pid "$s" >/dev/null; do
    if ready "$s"; then return 0; fi
    if (($(date +%s) >= deadline)); then return 1; fi
    sleep 0.25
  done
  return 1
}

wait_ready() { # <server> <deadline (epoch s)>: settle, saying why when it does not answer
  local s=$1 deadline=$2
  if settle "$s" "$deadline"; then return 0; fi
  if find_pid "$s" >/dev/null; then
    fail_with_log "$s" "not ready after ${GS_START_TIMEOUT}s (still running, pid $(find_pid "$s" || echo '?'))"
  else
    fail_with_log "$s" "exited during startup"
  fi
  return 1
}

print_endpoints() {
  local s
  for s in "$@"; do
    case "$s" in
      kafka) echo "  kafka    $(kafka_bootstrap) ($(kafka_node_count) node(s); SASL SCRAM-SHA-512, user gridstream, password in $DATA_DIR/secrets/kafka.secret)" ;;
      questdb)
        echo "  questdb  http://127.0.0.1:$GS_QDB_HTTP_PORT (REST, ILP over HTTP, console; user admin)"
        echo "           postgresql://admin@127.0.0.1:$GS_QDB_PG_PORT/qdb (PG wire), health http://127.0.0.1:$GS_QDB_HEALTH_PORT/"
        echo "           password in $DATA_DIR/secrets/questdb.secret; ILP over TCP is off"
        ;;
      mongo) echo "  mongo    mongodb://gridstream@127.0.0.1:$GS_MONGO_PORT/?authSource=admin (FerretDB $FERRETDB_VERSION, SQLite; password in $DATA_DIR/secrets/mongo.secret)" ;;
      mqtt) echo "  mqtt     mqtt://127.0.0.1:$GS_MQTT_PORT (Mosquitto $(cat "$MOSQUITTO_DIR/.complete" 2>/dev/null); accounts in $(mqtt_dir))" ;;
    esac
  done
}

lock_home() {
  mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock 9
}

cmd_start() {
  local servers=("$@") s p started=() pid t0 deadline failed=0
  install_servers "${servers[@]}"
  lock_home
  t0=$(date +%s)
  deadline=$((t0 + GS_START_TIMEOUT))
  for s in "${servers[@]}"; do
    if pid=$(find_pid "$s"); then
      if ready "$s"; then
        say "$s already running (pid $pid)"
        continue
      fi
      # Ours but not answering: still starting, or shutting down (an earlier run's stop that
      # has not finished). Wait for one or the other; a server that exits is started afresh.
      say "$s (pid $pid) is running but not answering; waiting until it answers or exits"
      if settle "$s" "$deadline"; then
        say "$s ready after $(($(date +%s) - t0))s"
        continue
      elif find_pid "$s" >/dev/null; then
        fail_with_log "$s" "still not answering after ${GS_START_TIMEOUT}s (pid $pid); stop it with: gridstream stack stop $s"
        failed=1
        continue
      fi
      say "$s (pid $pid) exited; starting it again"
    fi
    for p in $(ports_of "$s"); do
      if port_open "$p"; then
        die "$s: port $p on 127.0.0.1 is already taken by another process (not this stack's $s); stop it or set the GS_*_PORT variables"
      fi
    done
    case "$s" in
      kafka | kafka-*) start_kafka_node "$s" ;;
      *) "start_$s" ;;
    esac
    started+=("$s")
  done
  if ((${#started[@]} == 0)); then
    ((failed)) || say "nothing to start: the stack is already running"
  else
    say "started ${started[*]}; waiting until ready (timeout ${GS_START_TIMEOUT}s)"
    for s in "${started[@]}"; do
      if wait_ready "$s" "$deadline"; then
        [[ "$s" == mqtt ]] && provision_mqtt
        say "$s ready after $(($(date +%s) - t0))s"
      else
        failed=1
      fi
    done
  fi
  if ((failed)); then
    say "start failed; servers that did start are still running (stack.sh stop ends them)" >&2
    exit 1
  fi
  echo "gridstream endpoints (state in $GS_HOME):"
  print_endpoints "${servers[@]}"
}

cmd_stop() {
  local servers=("$@") s pid pids=() names=() i deadline alive
  lock_home
  for s in "${servers[@]}"; do
    if pid=$(find_pid "$s"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$s")
    else
      say "$s not running"
    fi
  done
  deadline=$(($(date +%s) + GS_STOP_TIMEOUT))
  for i in "${!pids[@]}"; do
    alive=1
    while kill -0 "${pids[$i]}" 2>/dev/null && is_ours "${pids[$i]}" "${names[$i]}"; do
      if (($(date +%s) >= deadline)); then
        say "${names[$i]} (pid ${pids[$i]}) did not stop within ${GS_STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
        sleep 0.5
        break
      fi
      sleep 0.2
    done
    if kill -0 "${pids[$i]}" 2>/dev/null && is_ours "${pids[$i]}" "${names[$i]}"; then alive=1; else alive=0; fi
    if ((alive)); then
      say "${names[$i]} (pid ${pids[$i]}) is still running" >&2
    else
      rm -f "$(pid_file "${names[$i]}")"
      say "${names[$i]} stopped"
    fi
  done
}

cmd_status() {
  local servers=("$@") s pid all=0 note
  for s in "${servers[@]}"; do
    if pid=$(find_pid "$s"); then
      note=""
      port_open "$(main_port "$s")" || note=" (port not answering yet)"
      printf '%-8s running  pid %-7s port %s%s\n' "$s" "$pid" "$(ports_of "$s" | tr ' ' ',')" "$note"
    else
      printf '%-8s stopped  pid %-7s port %s\n' "$s" "-" "$(ports_of "$s" | tr ' ' ',')"
      all=3
    fi
  done
  return "$all"
}

cmd_logs() {
  local s=${1:-} log
  case "$s" in kafka | kafka-[0-9]* | questdb | mongo | mqtt) ;; *) die "usage: stack.sh logs <kafka|kafka-N|questdb|mongo|mqtt>" ;; esac
  log=$(log_file "$s")
  [[ -f "$log" ]] || die "no log yet: $log"
  if [[ -t 1 ]]; then
    exec tail -n 100 -F "$log"
  else
    exec tail -n 100 "$log"
  fi
}

SERVERS=()
parse_servers() { # validates server names into SERVERS (kafka: every node); none means all
  local s names=("$@") k
  (($# == 0)) && names=("${ALL_SERVERS[@]}")
  SERVERS=()
  for s in "${names[@]}"; do
    case "$s" in
      kafka) mapfile -t -O "${#SERVERS[@]}" SERVERS < <(kafka_servers) ;;
      kafka-[0-9]*)
        k=${s#kafka-}
        if ! [[ "$k" =~ ^[0-9]+$ ]] || ((k < 2 || k > $(kafka_node_count))); then
          die "unknown server '$s': this stack's Kafka has $(kafka_node_count) node(s), named kafka, kafka-2, ..."
        fi
        SERVERS+=("$s")
        ;;
      questdb | mongo | mqtt) SERVERS+=("$s") ;;
      *) die "unknown server '$s' (kafka, kafka-N, questdb, mongo, mqtt)" ;;
    esac
  done
}

# --kafka-brokers N (start only): the cluster's size, fixed once this GS_HOME's Kafka is formatted.
set_kafka_nodes() { # <N>
  local n=$1 stored
  [[ "$n" =~ ^[1-9]$ ]] || die "--kafka-brokers takes a number of nodes from 1 to 9, not '$n'"
  stored=$(kafka_node_count)
  if [[ -f "$DATA_DIR/kafka/meta.properties" && "$stored" != "$n" ]]; then
    die "this GS_HOME's Kafka was formatted with $stored node(s), not $n: stop the stack and remove $DATA_DIR/kafka* (its topics are lost), or use another GS_HOME"
  fi
  mkdir -p "$DATA_DIR"
  echo "$n" >"$DATA_DIR/kafka.nodes"
  KAFKA_NODES=$n
}

usage() { # the header comment, up to the line that points to the README
  sed -n '2,/^# See deploy/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
    install)
      check_prerequisites
      parse_servers "$@"
      install_servers "${SERVERS[@]}"
      say "installed in $GS_CACHE: ${SERVERS[*]} (Kafka $KAFKA_VERSION, QuestDB $QUESTDB_VERSION, FerretDB $FERRETDB_VERSION, Mosquitto $(cat "$MOSQUITTO_DIR/.complete" 2>/dev/null))"
      ;;
    start)
      check_prerequisites
      if [[ "${1:-}" == --kafka-brokers ]]; then
        set_kafka_nodes "${2:-}"
        shift 2
      elif [[ "${1:-}" == --kafka-brokers=* ]]; then
        set_kafka_nodes "${1#*=}"
        shift
      fi
      parse_servers "$@"
      cmd_start "${SERVERS[@]}"
      ;;
    stop)
      parse_servers "$@"
      cmd_stop "${SERVERS[@]}"
      ;;
    status)
      parse_servers "$@"
      cmd_status "${SERVERS[@]}"
      ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 64
      ;;
  esac
}

main "$@"
