-- cycle.lua -- wrk script of bench/orders, bench/api and bench/cluster: every request goes to the next device
-- id of a file (one id a line), each wrk thread starting at its own offset so that concurrent
-- requests hit different devices.
-- args: IDS_FILE MODE TOKEN   MODE: order | query | status | update
local ids, mode, token, i = {}, nil, nil, 0
local base = "/service/devices_manage/"
local nthreads, counter = 0, 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  nthreads = counter
end

function init(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  mode, token = args[2], args[3]
  i = (tid or 0) * 7919 % #ids
  -- wrk.format() uses wrk.headers only when given no headers: put every header here
  wrk.headers["Authorization"] = "Bearer " .. token
  if mode == "order" or mode == "update" then wrk.headers["Content-Type"] = "application/json" end
end

function request()
  i = i % #ids + 1
  local id = ids[i]
  if mode == "order" then
    return wrk.format("POST", base .. "give_order", nil,
                      '{"device_id":"' .. id .. '","order":"bench","params":{"n":' .. i .. '}}')
  elseif mode == "update" then
    return wrk.format("POST", base .. "device_update", nil,
                      '{"device_id":"' .. id .. '","dev_description":"bench ' .. i .. '"}')
  elseif mode == "status" then
    return wrk.format("GET", base .. "device_statusInfo_query/" .. id)
  end
  return wrk.format("GET", base .. "device_query/" .. id)
end
