"""Batch mode: a run's model calls as Gemini Batch API jobs (half price, within 24 hours), tracked on disk.

wire.py turns calls into JSONL lines and outcomes back into answers, jobs.py talks to the Batch and Files
APIs, store.py keeps runs, jobs and answers on disk, provider.py answers a pass over the graph from them,
runner.py runs the passes, and commands.py is the CLI (`run --batch`, `runs`, `resume`).
"""
