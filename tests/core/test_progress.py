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


def test_a_list_run_shows_items_done_of_the_slowest_node_with_rate_and_eta():
    stream = io.StringIO()
    progress = Progress(stream, live=False)  # a log file: a line per tenth of the rows
    progress(Event("run_started", data={"workflow": "W", "nodes": ["gen", "save"], "out_dir": "out"}))
    for done in range(1, 101):
        progress(Event("node_progress", "gen", {"fraction": done / 100, "items": done, "total": 100}))
        if done > 5:
            progress(Event("node_progress", "save", {"fraction": done / 100, "items": done - 5, "total": 100}))
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("  … ")]
    assert [line.split()[1] for line in lines] == [f"{n}/100" for n in range(10, 100, 10)]
    assert all("/s" in line for line in lines) and "ETA" in lines[0]
    progress(Event("node_finished", "save", {"seconds": 1.0, "outputs": {}}))
    assert progress.items.text().startswith("100/100 items (100%)")
