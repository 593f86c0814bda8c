"""Statuses coalesced per node on their way to the page: one send per interval, merged as the canvas merges them."""
from __future__ import annotations

import asyncio

from flowbanana.ui.statusbatch import StatusBatch


async def test_a_burst_goes_out_as_one_merged_send_after_the_first():
    sent: list[dict] = []
    batch = StatusBatch(sent.append, interval=0.05)
    batch.add({"a": {"state": "queued", "label": "queued"}})  # nothing went out lately: at once
    assert sent == [{"a": {"state": "queued", "label": "queued"}}]
    for n in range(50):
        batch.add({"a": {"state": "running", "progress": n / 50}})
        batch.add({f"n{n}": {"state": "done"}})
    assert len(sent) == 1  # the burst waits for the interval
    await asyncio.sleep(0.2)
    assert len(sent) == 2
    burst = sent[1]
    assert burst["a"] == {"state": "running", "progress": 49 / 50}  # the latest of each field
    assert len(burst) == 51 and burst["n7"] == {"state": "done"}


async def test_fields_merge_and_a_removal_keeps_its_order():
    sent: list[dict] = []
    batch = StatusBatch(sent.append, interval=10)
    batch.add({"x": {"state": "running"}})
    batch.add({"x": {"history": [1]}})
    batch.add({"y": None})
    batch.add({"x": {"label": "done 1.0s"}})
    batch.add({"y": {"state": "queued"}})  # a new status after a removal: the removal goes first
    assert sent[0] == {"x": {"state": "running"}}  # the first, at once
    assert sent[1] == {"x": {"history": [1], "label": "done 1.0s"}, "y": None}
    batch.flush()
    assert sent[2] == {"y": {"state": "queued"}}
    batch.flush()  # nothing pending: nothing sent
    assert len(sent) == 3
