"""The browser editor (NiceGUI): the only part of flowbanana that imports NiceGUI.

`flowbanana ui` calls `flowbanana.ui.app.main`; import it lazily so the CLI stays fast.
"""
