# SPDX-License-Identifier: MIT
"""Miner data: a patch queued before login is sent once logged in with Headers.full false;
report_full_info calls the full-request callback, whose upload carries full true."""
import edgetest
from edgetest import check


def is_miner(m):
    return m.get("type") == "upload_miner_info"


async def main(t):
    p = await t.probe("--miner", '{"minerId":"f01000","totalSectors":"12"}',
                      "--full-json", '{"minerId":"f01000","workerInfo":[]}')
    c = await t.accept()
    await c.login()
    m = await c.until(is_miner)
    check(m == {"type": "upload_miner_info", "Headers": {"full": False},
                "data": {"minerId": "f01000", "totalSectors": "12"}}, f"patch {m}")
    await c.send({"type": "send_minerInfo_response", "Headers": {}, "data": {}})
    await c.send({"type": "report_full_info", "Headers": {}, "data": {}})
    m = await c.until(is_miner)
    check(m == {"type": "upload_miner_info", "Headers": {"full": True},
                "data": {"minerId": "f01000", "workerInfo": []}}, f"full {m}")
    await p.line("EVENT full_request")
    await c.send({"type": "send_minerInfo_response", "Headers": {}, "data": {}})
    got = await c.serve(0.6)
    check(not [x for _, x in got if is_miner(x)], "nothing more")
    await p.stop()

edgetest.run(main)
