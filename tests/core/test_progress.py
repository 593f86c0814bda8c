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


def test_the_summary_repeats_warnings_once_each_so_rows_left_out_are_not_missed():
    from pathlib import Path

    from flowbanana.results import NodeResult, RunResult
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    progress(Event("run_started", data={"workflow": "W", "nodes": ["csv", "fit"], "out_dir": "out"}))
    progress(Event("node_warning", "csv", {"message": "a.csv has 5 rows; read the first 2, left out 3."}))
    for _ in range(3):
        progress(Event("node_warning", "fit", {"message": "upscaled"}))
    progress.summary(RunResult("done", {"csv": NodeResult("done"), "fit": NodeResult("done")}, Path("out"), 1.0))
    text = stream.getvalue()
    assert text.count("! fit: upscaled") == 2  # once as it happened, once in the summary
    assert text.split("Warnings:\n")[1].splitlines() == ["  ! csv: a.csv has 5 rows; read the first 2, left out 3.",
                                                         "  ! fit: upscaled (3 items)"]
