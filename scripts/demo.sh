#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh -- a local edgefleet: edgefleetd on SQLite in ./var, one demo device registered, and a
# local edgefleet-agent logged in as that device. The agent also runs the lotus collector on
# tools/fake-lotus-miner, a simulated miner whose jobs advance (60x real time), so the dashboard
# has a live miner to show. Ctrl-C stops both.
set -euo pipefail
BUILD=${1:-build}
PORT=${EF_DEMO_PORT:-9090}
VAR=${EF_DEMO_VAR:-var}
SN=DEMO-0001 MODEL=edgefleet-demo PASSWORD=demo-password
API=http://127.0.0.1:$PORT/service/devices_manage

mkdir -p "$VAR/agent"
"$BUILD/src/server/edgefleetd" --config edgefleetd.conf --listen "127.0.0.1:$PORT" \
  --data-dir "$VAR" --log-file "$VAR/edgefleetd.log" --static-dir web &
SERVER=$!
AGENT=
cleanup() { [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null; kill "$SERVER" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

for _ in $(seq 50); do grep -q "ready port=" "$VAR/edgefleetd.log" 2>/dev/null && break; sleep 0.1; done
grep -q "ready port=" "$VAR/edgefleetd.log" || { echo "edgefleetd did not start; see $VAR/edgefleetd.log"; exit 1; }
TOKEN=$(cat "$VAR/admin.token")

# Register the demo device (a second run finds it already there: 409 is fine).
curl -s -o /dev/null -X POST "$API/device_add" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d "{\"device_name\":\"demo device\",\"device_type\":\"demo\",\"hardware\":{\"sn\":\"$SN\",\"model\":\"$MODEL\"},\"password\":\"$PASSWORD\"}"

FAKE_LOTUS_STATE="$VAR/fake-lotus-miner.json" FAKE_LOTUS_SPEED=60 \
"$BUILD/src/agent/edgefleet-agent" --config edgefleet-agent.conf --server "ws://127.0.0.1:$PORT/ws" \
  --sn "$SN" --model "$MODEL" --password "$PASSWORD" --data-dir "$VAR/agent" \
  --lotus-miner "$BUILD/tools/fake-lotus-miner/fake-lotus-miner" --lotus-interval 2s \
  2>>"$VAR/agent.log" &
AGENT=$!

for _ in $(seq 100); do
  curl -s "$API/device_query_all" -H "Authorization: Bearer $TOKEN" | grep -q '"dev_state":"online"' && break
  sleep 0.1
done
ID=$(curl -s "$API/device_query_all" -H "Authorization: Bearer $TOKEN" |
     sed -n 's/.*"device_id":"\([0-9]*\)".*"sn":"'"$SN"'".*/\1/p' | head -n1)

cat <<EOT

  edgefleet is running.
    dashboard  http://127.0.0.1:$PORT/        (sign in with the admin API token)
    live miner http://127.0.0.1:$PORT/#/miner/f01234   (fake-lotus-miner, jobs advance 60x)
    server log $VAR/edgefleetd.log
    admin API token  $TOKEN
    demo device      $ID  (sn $SN), agent log: $VAR/agent.log

  Try:
    curl -s -H "Authorization: Bearer $TOKEN" $API/device_query/$ID
    curl -s -H "Authorization: Bearer $TOKEN" $API/device_statusInfo_query/$ID
    curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
         -d '{"device_id":"$ID","order":"say","params":{"text":"hello"}}' $API/give_order
    curl -s -H "Authorization: Bearer $TOKEN" $API/device_log_query/$ID
    curl -s -H "Authorization: Bearer $TOKEN" $API/miner_query/f01234

  Ctrl-C stops the server and the agent.
EOT
wait "$SERVER"
