"""flowbanana's built-in node packs, one module per category.

Each module imports only `flowbanana.node_api` and is registered through the `flowbanana.nodes`
entry-point group in pyproject.toml, exactly as a third-party pack would be: read any of them
as the example to copy.
"""
