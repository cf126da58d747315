#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""21-rest-limits.py -- what the REST API refuses to store and how fast one token may call it
(docs/api.md#limits): passwords longer than bcrypt's 72 bytes (400, not 500), strings over their
length limit or with control characters (400 naming the member and the limit, nothing stored),
and the per-token request rate (429 with Retry-After once a token's bucket is empty, while
another token keeps its own). No timing is asserted: answers are counted."""
import http.client
import json

from efharness import Suite, check

BASE = "/service/devices_manage/"

T = Suite("21-rest-limits", bcrypt_cost=4)


def call(srv, method, name, body=None, token=None, raw=None):
    """(status, JSON answer, headers as a lower-case dict) of one request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        headers = {"Authorization": "Bearer " + (token or srv.token)}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, BASE + name, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = text
        return r.status, answer, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def refused(srv, method, name, body, *words, raw=None):
    """The request is answered 400 GENERAL_ERROR whose message contains every word."""
    st, a, _ = call(srv, method, name, body, raw=raw)
    check(st == 400, name, "answered", st, str(a)[:300])
    check(a.get("status") == "fail" and a.get("type") == "GENERAL_ERROR", "failure shape", a)
    for w in words:
        check(w in a["message"], "message %r lacks %r" % (a["message"], w))
    return a["message"]


def ok(srv, method, name, body=None):
    st, a, _ = call(srv, method, name, body)
    check(st == 200, name, "answered", st, str(a)[:300])
    return a["data"]


def device(sn, password="pw", **extra):
    d = {"hardware": {"sn": sn, "model": "LIM"}, "password": password}
    d.update(extra)
    return d


# ----- passwords: bcrypt reads at most 72 bytes -----

@T.test
async def password_over_72_bytes(srv):
    huge = "p" * 100000
    refused(srv, "POST", "device_add", device("P1", huge), "password longer than 72 bytes")
    refused(srv, "POST", "device_add", device("P1", "p" * 73), "password longer than 72 bytes")
    refused(srv, "POST", "device_add", device("P1", "é" * 37),  # 74 bytes, 37 characters
            "password longer than 72 bytes")
    refused(srv, "POST", "device_add_batch",
            {"devices": [device("P2"), device("P3", huge)]},
            "devices[1].password longer than 72 bytes")
    check(ok(srv, "GET", "device_query_all") == [], "a refused device was stored")

    # 72 bytes is accepted and is what the device logs in with over the WebSocket
    pw72 = "k" * 72
    did = ok(srv, "POST", "device_add", device("P4", pw72))["device_id"]
    async with srv.connect() as dev:
        await dev.login(device_id=did, password=pw72)
    refused(srv, "PUT", "device_update", {"device_id": did, "password": huge},
            "password longer than 72 bytes")
    async with srv.connect() as dev:  # the password did not change
        await dev.login(device_id=did, password=pw72)


# ----- lengths and control characters of stored strings -----

@T.test
def group_strings(srv):
    refused(srv, "POST", "group_add", {"group_name": "g" * (1 << 20)},
            "group_name longer than 128 bytes")
    refused(srv, "POST", "group_add", {"group_name": "g" * 129}, "group_name", "128")
    refused(srv, "POST", "group_add", {"group_name": "ü" * 65}, "group_name", "128")  # 130 bytes
    refused(srv, "POST", "group_add", {"group_name": "a\nb"}, "group_name", "control character")
    refused(srv, "POST", "group_add", {"group_name": "a\u007fb"}, "group_name", "control")
    refused(srv, "POST", "group_add", {"group_name": "a\u0085b"}, "group_name", "control")
    refused(srv, "POST", "group_add", {"group_name": "ok", "group_description": "d" * 1025},
            "group_description longer than 1024 bytes")
    refused(srv, "POST", "group_add", {"group_name": "ok", "group_description": "bell\u0007"},
            "group_description", "control character")
    check(ok(srv, "GET", "group_query_all") == [], "a refused group was stored")

    gid = ok(srv, "POST", "group_add", {"group_name": "g" * 128,
                                        "group_description": "line 1\nline 2\t" + "d" * 1010})
    g = ok(srv, "GET", "group_query/" + gid["group_id"])
    check(g["group_name"] == "g" * 128 and len(g["group_description"]) == 1024, "group", g)
    refused(srv, "PUT", "group_update", {"group_id": gid["group_id"], "group_name": "x" * 129},
            "group_name longer than 128 bytes")
    refused(srv, "PUT", "group_update",
            {"group_id": gid["group_id"], "group_description": "x" * 1025},
            "group_description longer than 1024 bytes")
    check(ok(srv, "GET", "group_query/" + gid["group_id"]) == g, "a refused update changed it")


@T.test
def device_strings(srv):
    refused(srv, "POST", "device_add", device("s" * 129), "hardware.sn longer than 128 bytes")
    refused(srv, "POST", "device_add", {"hardware": {"sn": "S", "model": "m" * 200},
                                        "password": "pw"}, "hardware.model", "128")
    refused(srv, "POST", "device_add", device("S", device_name="\x1b[31mred"),
            "device_name", "control character")
    refused(srv, "POST", "device_add", device("S", software={"version": "v" * 129}),
            "software.version longer than 128 bytes")
    refused(srv, "POST", "device_add", device("S", dev_description="d" * 1025),
            "dev_description longer than 1024 bytes")
    refused(srv, "POST", "device_add",
            device("S", nic=[{"type": "eth", "mac": "aa:bb", "ipv4": "10.0.0.%d" % i,
                              "note": "n" * 100} for i in range(40)]),
            "nic longer than 4096 bytes")
    refused(srv, "POST", "device_add", device("S", nic=[{"type": "eth", "mac": "a\tb"}]),
            "nic[0].mac", "control character")
    refused(srv, "POST", "device_add_batch",
            {"devices": [device("B1"), device("B2"), device("B3", wifi_mac="w" * 300)]},
            "devices[2].wifi_mac longer than 128 bytes")
    check(ok(srv, "GET", "device_query_all") == [], "a refused device was stored")

    did = ok(srv, "POST", "device_add",
             device("s" * 128, device_name="n" * 128, dev_description="multi\nline"))["device_id"]
    refused(srv, "PUT", "device_update", {"device_id": did, "lte_imei": "1" * 129},
            "lte_imei longer than 128 bytes")
    refused(srv, "PUT", "device_update", {"device_id": did, "business": {"state": "a\rb"}},
            "business.state", "control character")
    d = ok(srv, "GET", "device_query/" + did)
    check(d["hardware"]["sn"] == "s" * 128 and d["lte_imei"] is None
          and d["business"]["state"] is None, "device", d)


@T.test
def token_and_order_strings(srv):
    refused(srv, "POST", "api_token_add", {"scope": "read", "name": "t" * 129},
            "name longer than 128 bytes")
    # NUL cannot reach a route: the JSON parser refuses \u0000 in strings
    refused(srv, "POST", "api_token_add", {"scope": "read", "name": "a\u0000b"}, "legal json")
    refused(srv, "POST", "api_token_add", {"scope": "read", "name": "tab\there"},
            "name", "control character")
    check(ok(srv, "POST", "api_token_add", {"scope": "read", "name": "t" * 128})["scope"] == "read",
          "a 128-byte token name")
    did = ok(srv, "POST", "device_add", device("O1"))["device_id"]
    # the order name is written to the device's log
    refused(srv, "POST", "give_order", {"device_id": did, "order": "o" * 129},
            "order longer than 128 bytes")
    refused(srv, "POST", "give_order", {"device_id": did, "order": "re\nstart"},
            "order", "control character")


# ----- requests per token per second -----

@T.test(rest_rate="1", rest_burst="5")
def rate_per_token(srv):
    # a read token, made before the admin token's bucket is spent (this call is its first)
    reader = ok(srv, "POST", "api_token_add", {"scope": "read", "name": "wall"})["token"]
    answers = [call(srv, "GET", "group_query_all") for _ in range(40)]
    codes = [a[0] for a in answers]
    # 4 left of the burst of 5 (one went to api_token_add), refilled at 1 per second
    check(codes[:4] == [200] * 4, "the burst is served first:", codes)
    check(set(codes) <= {200, 429}, "only 200 and 429:", codes)
    check(codes.count(429) >= 20, "a burst of 40 at 1/s from one token got", codes.count(429),
          "429s:", codes)
    for st, a, h in answers:
        if st != 429:
            continue
        check(a.get("status") == "fail" and a.get("type") == "GENERAL_ERROR"
              and "too many requests" in a.get("message", ""), "429 body", a)
        check(h.get("retry-after", "").isdigit() and int(h["retry-after"]) >= 1,
              "Retry-After in seconds:", h)

    # another token has its own bucket: it is served while the admin token is refused
    mine = [call(srv, "GET", "group_query_all", token=reader)[0] for _ in range(5)]
    check(mine == [200] * 5, "the read token's own burst:", mine)
    theirs = [call(srv, "GET", "group_query_all")[0] for _ in range(5)]
    check(429 in theirs, "the admin token is still refused:", theirs)

    # a request with a body is refused before its body is read, with the same header
    st, a, h = call(srv, "POST", "group_add", {"group_name": "late"})
    statuses = [st]
    for _ in range(5):
        if st == 429:
            break
        st, a, h = call(srv, "POST", "group_add", {"group_name": "late-%d" % len(statuses)})
        statuses.append(st)
    check(st == 429 and h.get("retry-after", "").isdigit(), "POST when empty:", statuses, a, h)

    # refusals before authentication do not spend anything, and unknown tokens get 401
    check(call(srv, "GET", "group_query_all", token="nope")[0] == 401, "unknown token")


if __name__ == "__main__":
    T.main()
