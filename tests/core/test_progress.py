"""The CLI's progress display on a terminal, fed the executor's events as a run would feed it."""
import asyncio
import io

from flowbanana.events import Event
from flowbanana.progress import Progress


async def test_the_status_line_keeps_redrawing_while_a_node_runs_without_events():
    stream = io.StringIO()
    progress = Progress(stream, live=True)
    progress(Event("run_started", data={"workflow": "W", "nodes": ["gen"], "out_dir": "out"}))
    progress(Event("node_started", "gen", {"type": "gemini.generate"}))
    drawn = stream.getvalue().count("running: gen")
    ticker = asyncio.create_task(progress.tick(0))
    for _ in range(5):  # no event arrives: only the ticker can draw
        await asyncio.sleep(0)
    ticker.cancel()
    assert stream.getvalue().count("running: gen") >= drawn + 3


async def test_without_a_terminal_the_ticker_draws_nothing():
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    await asyncio.wait_for(progress.tick(0), 5)  # returns at once: there is no status line to keep alive
    assert stream.getvalue() == ""
