"""How each front end names what a user sets, so that a message the engine gives all of them tells each user what
to do in their own terms: `--set subject=...` and `--provider offline` on the command line, `inputs={...}` and
`provider="offline"` in Python, the request's fields over HTTP. Code that says what to set takes a `Words`."""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    input: str          # one workflow input or NODE.PARAM being set, {name}
    inputs_listed: str  # a sentence: where the workflow's inputs are described
    params_listed: str  # a sentence: where the nodes and their params are listed
    provider: str       # choosing the provider, {name}
    allow_read: str     # letting a run read one more folder
    rpm: str            # requests per minute
    concurrency: str    # requests at once
    debug: str          # what shows an unexpected error's details ("Turn on {debug}")
    direct: str         # a batch run sending some nodes' calls direct: per node {node}, or all at once {nodes}

    def set_input(self, name: str) -> str:
        return self.input.format(name=name)

    def choose_provider(self, name: str) -> str:
        return self.provider.format(name=name)

    def send_direct(self, nodes: list[str]) -> str:
        """What sends these nodes' calls direct in a batch run: a flag per node, or one list of them."""
        if "{node}" in self.direct:
            return " ".join(self.direct.format(node=shlex.quote(node)) for node in nodes)
        return self.direct.format(nodes=json.dumps(nodes))


CLI = Words(input="--set {name}", inputs_listed="`flowbanana run FILE --help` describes them.",
            params_listed="`flowbanana validate FILE` lists the nodes; `flowbanana nodes` lists each type's params.",
            provider="--provider {name}", allow_read="--allow-read DIR", rpm="--rpm", concurrency="--concurrency",
            debug="--debug", direct="--direct {node}")
PYTHON = Words(input="inputs[{name!r}]", inputs_listed="`flowbanana.load(FILE).inputs` lists them.",
               params_listed="`flowbanana.load(FILE).nodes` holds the nodes; `flowbanana.catalogue().get(TYPE)` "
                             "describes a type's params.",
               provider='provider="{name}"', allow_read="read_roots=[DIR]", rpm="rpm=", concurrency="concurrency=",
               debug="DEBUG logging for the 'flowbanana' logger",
               direct="`flowbanana run FILE --batch --direct {node}` (Python runs make direct calls)")
HTTP = Words(input="inputs.{name}", inputs_listed="GET /api/workflows describes them.",
             params_listed="GET /api/nodes lists each type's params.",
             provider='"options": {{"provider": "{name}"}}', allow_read="the server's --allow-read DIR",
             rpm="the server's rpm setting", concurrency="the server's concurrency setting",
             debug="the server's --debug (its log)", direct='"options": {{"batch": true, "direct": {nodes}}}')
APP = Words(input="{name}", inputs_listed="The form shows them.",
            params_listed="Open the workflow in the editor (flowbanana ui FILE) to see its nodes and their params.",
            provider="the editor's provider setting ({name})", allow_read="flowbanana ui --workflows DIR",
            rpm="rpm in the config file", concurrency="concurrency in the config file", debug="flowbanana ui --debug",
            direct="`flowbanana run FILE --batch --direct {node}` (the app makes direct calls)")
