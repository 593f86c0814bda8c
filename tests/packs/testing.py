"""Node types for the engine's tests, loaded through --nodes-dir like any folder pack."""
import asyncio
import threading
import time

from flowbanana.node_api import ANY, FLOAT, INT, TEXT, Input, Issue, NodeError, Output, Pack, Param

pack = Pack("testing", version="1.0.0", description="Nodes for flowbanana's own tests.")
CALLS: list[tuple[str, float, float]] = []  # (node id, start, end) of every real call, for overlap tests


@pack.node("test.number", params=[Param.float("value", 1.0)], outputs=[Output("value", FLOAT)])
def number(value):
    return value


@pack.node("test.words", params=[Param.text("text", "a b c")], outputs=[Output("items", TEXT, list=True)])
def words(text):
    return text.split()


@pack.node("test.sleep", params=[Param.float("seconds", 0.1, min=0), Param.text("label", "")],
           inputs=[Input("after", ANY, optional=True)], outputs=[Output("label", TEXT)])
async def sleep(seconds, label, after, ctx):
    start = time.monotonic()
    await asyncio.sleep(seconds)
    CALLS.append((ctx.node_id, start, time.monotonic()))
    return label or ctx.node_id


@pack.node("test.add", inputs=[Input("a", FLOAT), Input("b", FLOAT, optional=True)],
           params=[Param.float("offset", 0.0)], outputs=[Output("sum", FLOAT)])
def add(a, b, offset, ctx):
    CALLS.append((ctx.node_id, time.monotonic(), time.monotonic()))
    return a + (b or 0) + offset


@pack.node("test.upper", inputs=[Input("text", TEXT)], params=[Param.text("suffix", "")],
           outputs=[Output("text", TEXT)])
def upper(text, suffix, ctx):
    CALLS.append((ctx.node_id, time.monotonic(), time.monotonic()))
    if text == "boom":
        raise NodeError("the word 'boom' is not allowed.", "Pick another word.")
    return text.upper() + suffix


@pack.node("test.fail", inputs=[Input("after", ANY, optional=True)], params=[Param.text("how", "node_error")],
           outputs=[Output("value", TEXT)])
def fail(after, how):
    if how == "node_error":
        raise NodeError("this node always fails.", "Remove it.")
    raise ZeroDivisionError("division by zero")


@pack.node("test.collect", inputs=[Input("items", ANY, list=True)], outputs=[Output("count", INT)], output=True)
def collect(items):
    return len(items)


@pack.node("test.whatever_worked", inputs=[Input("items", ANY, list=True, partial=True)],
           outputs=[Output("items", ANY, list=True)], output=True)
def whatever_worked(items):
    return items


@pack.node("test.show", inputs=[Input("value", ANY)], outputs=[Output("value", ANY)], output=True)
def show(value):
    return value


@pack.node("test.clock", outputs=[Output("now", FLOAT)], cacheable=False)
def clock():
    return time.time()


@pack.node("test.call", params=[Param.text("model", "m"), Param.float("seconds", 0.05)],
           inputs=[Input("after", ANY, optional=True)], outputs=[Output("done", TEXT)], uses_provider=True)
async def call(model, seconds, after, ctx):
    async with ctx.resources["limiter"].slot(model):
        await asyncio.sleep(seconds)
    ctx.record(model=model, item=ctx.item_index)
    return model


@pack.node("test.lineage", inputs=[Input("value", ANY)], outputs=[Output("records", ANY)], output=True)
def lineage(value, ctx):
    return ctx.lineage()


@pack.node("test.read", params=[Param.file("path", "")], outputs=[Output("text", TEXT)], output=True)
def read(path, ctx):
    return ctx.resolve_read(path).read_text()


def _spelling(params):
    """The node check of test.spelled: 'bad' is an error, a British spelling a warning."""
    word = params.get("word")
    if word == "bad":
        yield Issue("'bad' is not a word this node takes.", "Use 'color'.", param="word")
    elif word in _SPELLINGS:
        yield Issue(f"{word!r} is sent as {_SPELLINGS[word]!r}.", "Update the file.", param="word", warning=True)


_SPELLINGS = {"colour": "color"}


@pack.node("test.spelled", params=[Param.text("word", "color", sent_as=lambda w: _SPELLINGS.get(w, w))],
           outputs=[Output("word", TEXT)], output=True, check=_spelling)
def spelled(word, ctx):
    CALLS.append((ctx.node_id, time.monotonic(), time.monotonic()))
    return _SPELLINGS.get(word, word)


@pack.node("test.pick", params=[Param.choice("how", ["calm", "wild"])], outputs=[Output("how", TEXT)])
def pick(how):
    return how


HELD = threading.Event()     # test.write has reached the item it holds
RELEASE = threading.Event()  # the test lets it go on


@pack.node("test.write", inputs=[Input("text", TEXT)],
           params=[Param.text("hold", ""), Param.choice("when", ["writing", "after"]), Param.float("wait", 30.0)],
           outputs=[Output("path", TEXT)], output=True, cacheable=False)
def write(text, hold, when, wait, ctx):
    """Writes TEXT.txt in the output folder (in a thread); the item `hold` waits for RELEASE half way through
    writing its file, or after its file is named (at most `wait` seconds)."""
    def body(handle):
        handle.write(text.encode())
        if hold and text == hold and when == "writing":
            HELD.set()
            RELEASE.wait(wait)
    path = ctx.write_file(ctx.resolve_write(f"{text}.txt"), body)
    if hold and text == hold and when == "after":
        HELD.set()
        RELEASE.wait(wait)
    return str(path)
