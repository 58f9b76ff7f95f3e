-- SPDX-License-Identifier: MIT
-- wrk script for the write-path bench (tests/bench/write_path.sh): one
-- operation per run, named by the first argument after `--`:
--   get             GET /things/T/shadow
--   update          POST /things/T/shadow, a reported value new per request
--   create          POST /things/bench-<thread>-<n> (CreateThing)
--   update-thing    PATCH /things/T (UpdateThing, a new attribute value)
--   add-to-group    PUT /thing-groups/addThingToThingGroup (T into G)
--   update-profile  PATCH /security-profiles/P (a new description)
-- done() prints one line the bench reads:
--   result OP requests rps p50_us p99_us ok non2xx socket_errors dup_versions max_version
-- For update, every 200 answer's version is kept per thread, so done()
-- can tell whether two answers carried the same version.

local threads = {}
local counter = 1

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    op = args[1] or "get"
    n = 0
    ok = 0
    versions = {}
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    n = n + 1
    local v = id .. "-" .. n
    if op == "get" then
        return wrk.format("GET", "/things/T/shadow")
    elseif op == "update" then
        return wrk.format("POST", "/things/T/shadow", nil,
            '{"state":{"reported":{"seq":"' .. v .. '"}}}')
    elseif op == "create" then
        return wrk.format("POST", "/things/bench-" .. v, nil, "{}")
    elseif op == "update-thing" then
        return wrk.format("PATCH", "/things/T", nil,
            '{"attributePayload":{"attributes":{"seq":"' .. v .. '"},"merge":true}}')
    elseif op == "add-to-group" then
        return wrk.format("PUT", "/thing-groups/addThingToThingGroup", nil,
            '{"thingGroupName":"G","thingName":"T"}')
    elseif op == "update-profile" then
        return wrk.format("PATCH", "/security-profiles/P", nil,
            '{"securityProfileDescription":"seq ' .. v .. '"}')
    end
end

function response(status, headers, body)
    if status == 200 then
        ok = ok + 1
        if op == "update" then
            local ver = tonumber(body:match('"version":(%d+)'))
            if ver then
                table.insert(versions, ver)
            end
        end
    end
end

function done(summary, latency, requests)
    local all_ok, seen, dups, max = 0, {}, 0, 0
    for _, t in ipairs(threads) do
        all_ok = all_ok + t:get("ok")
        for _, ver in ipairs(t:get("versions")) do
            if seen[ver] then
                dups = dups + 1
            end
            seen[ver] = true
            if ver > max then
                max = ver
            end
        end
    end
    local e = summary.errors
    io.write(string.format("result %s %d %.0f %d %d %d %d %d %d %d\n", op,
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), all_ok, e.status,
        e.connect + e.read + e.write + e.timeout, dups, max))
end
