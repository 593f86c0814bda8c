"""flowbanana: node-based workflows for Gemini's image models, in the browser, the terminal or Python.

    import flowbanana
    workflow = flowbanana.load("workflows/social-sizes.json")
    result = flowbanana.run(workflow, inputs={"subject": "a red bicycle"}, out_dir="outputs/bike")
    print(result.status, result.files)

The names below load on first use, so that `flowbanana --help` stays fast.
"""
__version__ = "0.1.0"

_API = {"load", "loads", "run", "run_async", "validate", "catalogue", "Workflow", "RunOptions", "RunResult",
        "WorkflowInvalid", "Execution", "ProviderUnavailable", "NoSuchOutput"}


def __getattr__(name):
    if name in _API:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'flowbanana' has no attribute {name!r}")


__all__ = sorted(_API | {"__version__"})
