# wait_port PORT PID [TRIES]: waits until something accepts on 127.0.0.1:PORT (every 50 ms,
# TRIES times, default 300 = 15 s); fails at once if process PID is gone. Sourced by the
# bench scripts.
wait_port() {
  local i
  for i in $(seq 1 "${3:-300}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
