# What the wrk benchmark scripts share (sourced, not run): the nginx `return 200`
# yardstick, CPU ticks of serving processes, and the result table. Each script
# sets WORK (a temp dir), THREADS, CONNS and SECONDS_ first.

# Starts nginx answering 200 on 127.0.0.1:$1; sets NGINX_WORKER to its worker's pid.
start_nginx_200() {
  cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  server { listen 127.0.0.1:$1; location / { return 200; } }
}
NGINX
  nginx -c "$WORK/nginx.conf"
  sleep 0.5
  NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx.pid")" | head -1)
}

# CPU ticks (user + system, all threads) the processes have used so far.
ticks() { local t=0 pid; for pid in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$pid/stat") )); done; echo "$t"; }

# run NAME PIDS WRK-ARGS...: wrk with the script's threads, connections and
# duration; PIDS (comma-separated) are the processes whose CPU the row counts.
run() {
  local name=$1 pids=$2; shift 2
  echo "== $name"
  local before; before=$(ticks ${pids//,/ })
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --latency "$@" | tee "$WORK/$name.out"
  echo $(( $(ticks ${pids//,/ }) - before )) > "$WORK/$name.ticks"
}

# table ROWS...: req/s, p50, p99, ratio to the `nginx-200` row, CPU per request.
table() {
  rate() { awk '/^Requests\/sec:/ {print $2}' "$WORK/$1.out"; }
  pct() { awk -v p="$2%" '$1 == p {print $2}' "$WORK/$1.out"; }
  local nginx hz name r total
  nginx=$(rate nginx-200)
  hz=$(getconf CLK_TCK)
  echo
  echo "| server | requests/s | p50 | p99 | vs nginx | server CPU per request |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for name in "$@"; do
    r=$(rate "$name")
    total=$(awk '/requests in/ {print $1}' "$WORK/$name.out")
    printf '| %s | %.0f | %s | %s | %sx | %s µs |\n' "$name" "$r" "$(pct "$name" 50)" "$(pct "$name" 99)" \
      "$(awk -v a="$r" -v b="$nginx" 'BEGIN { printf "%.2f", a / b }')" \
      "$(awk -v t="$(cat "$WORK/$name.ticks")" -v hz="$hz" -v n="$total" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
  done
}
