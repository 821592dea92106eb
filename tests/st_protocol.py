"""A Streamlit client without a browser: one session speaking the app's own websocket protocol.

What a browser tab does, on the wire only (streamlit 1.67, its Starlette server):

1. ``GET /`` (the page; a proxy in front may set its sticky cookie there, deploy/nginx.conf.template sets
   ``atlas_route``), then ``GET /_stcore/health``, the frontend's ping before it connects, which sets the
   ``_streamlit_xsrf`` cookie. Both cookies go back on the websocket.
2. A websocket to ``/_stcore/stream``. The ``Sec-WebSocket-Protocol`` header carries three positional entries:
   ``streamlit`` (the protocol), the XSRF token (the cookie's value), and, when reconnecting, the id of the session
   to resume (a server that does not know it starts a new one).
3. Each script run is asked for by a ``BackMsg`` ``rerun_script`` holding a ``ClientState``: the URL's query string,
   the page (``page_script_hash``), and the widget values (``WidgetStates``, widgets named by the ids the server
   gave them in its deltas).
4. The server answers with ``ForwardMsg`` protobufs: ``new_session`` (session id, pages), ``delta`` (each element
   drawn), ``page_info_changed`` (the page rewrote its query string), and ``script_finished`` at the end of the run.

A :class:`Run` is what one script run drew: its elements in order, the token counts the Playground showed
(``**id** · N tokens`` lines), and its errors (exception elements and ``st.error`` boxes). Loopback or any URL the
caller gives; nothing here retries on its own: a dropped connection raises :class:`Disconnected` and the caller
decides (the load generator reconnects through the proxy, as a browser does).
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

XSRF_COOKIE = "_streamlit_xsrf"
#: A count line of the Playground: ``**o200k_base** · 1,234 tokens`` (app/views/playground.py).
COUNT_LINE = re.compile(r"^\*\*(\S+)\*\* · ([\d,]+) tokens$")


class Disconnected(ConnectionError):
    """The websocket closed (the replica died, the proxy dropped it) before the run finished."""


class ProtocolError(RuntimeError):
    """The server answered something this client cannot use (no such widget, no such page)."""


@dataclass
class Widget:
    """A widget as a delta drew it: its id (what WidgetStates name), element type, label, shown value (None where
    the delta does not carry it; :class:`Session` fills it from what it knew) and options as the browser shows them
    (a selectbox's or multiselect's WidgetState holds these formatted strings, not the script's values)."""

    id: str
    kind: str
    label: str
    value: Any = None
    options: list[str] = field(default_factory=list)

    def option(self, suffix: str) -> str:
        """The one shown option ending with ``suffix`` (e.g. "(hin)"); ProtocolError if none or several do."""
        found = [o for o in self.options if o.endswith(suffix)]
        if len(found) != 1:
            raise ProtocolError(f"{len(found)} options of {self.label!r} end with {suffix!r}")
        return found[0]


@dataclass
class Run:
    """One script run as the client saw it."""

    status: int | None = None
    elements: list[tuple[str, Any]] = field(default_factory=list)  # (element type, its message)
    widgets: list[Widget] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)
    set_by_script: set[str] = field(default_factory=set)  # widget ids whose value the script set in this run

    def add(self, element: Any) -> None:
        kind = element.WhichOneof("type")
        if kind is None:
            return
        msg = getattr(element, kind)
        self.elements.append((kind, msg))
        if kind == "markdown":
            self.markdown.append(msg.body)
            m = COUNT_LINE.match(msg.body.strip())
            if m:
                self.counts[m.group(1)] = int(m.group(2).replace(",", ""))
        elif kind == "exception":
            self.errors.append(f"exception {msg.type}: {msg.message[:200]}")
        elif kind == "alert" and msg.format == Alert.ERROR:
            self.errors.append(f"error box: {msg.body[:200]}")
        elif hasattr(msg, "id") and hasattr(msg, "label") and msg.id:
            if _carries_value(msg):
                self.set_by_script.add(msg.id)
            self.widgets.append(Widget(msg.id, kind, msg.label, _shown_value(kind, msg),
                                       list(getattr(msg, "options", []))))

    def widget(self, label: str, kind: str | None = None) -> Widget:
        """The widget with this label (and element type); ProtocolError if the run drew none."""
        for w in self.widgets:
            if w.label == label and (kind is None or w.kind == kind):
                return w
        shown = f"; the page showed: {' | '.join(e[:300] for e in self.errors)}" if self.errors else ""
        raise ProtocolError(f"no widget labelled {label!r} in this run; drawn: {[w.label for w in self.widgets]}{shown}")


def _shown_value(kind: str, msg: Any) -> Any:
    """The value a widget shows where the delta carries it: set by the script (``set_value``), else its default
    (the caller keeps the value it knew instead, as a browser keeps a widget's state between runs)."""
    if kind == "multiselect":
        return list(msg.raw_values) if msg.set_value else [msg.options[i] for i in msg.default]
    if kind == "selectbox":
        if msg.set_value:
            return msg.raw_value
        return msg.options[msg.default] if msg.HasField("default") else None
    if kind in ("text_area", "text_input"):
        return msg.value if msg.set_value else msg.default
    return None


def _carries_value(msg: Any) -> bool:
    return bool(getattr(msg, "set_value", False))


def string_state(widget_id: str, value: str) -> WidgetState:
    return WidgetState(id=widget_id, string_value=value)


def strings_state(widget_id: str, values: list[str]) -> WidgetState:
    state = WidgetState(id=widget_id)
    state.string_array_value.data.extend(values)
    return state


def http_get_cookies(url: str, cookies: dict[str, str], timeout: float) -> dict[str, str]:
    """GET ``url`` as a browser loads the page; the cookies it sets merged into ``cookies``."""
    req = urllib.request.Request(url, headers={"Cookie": cookie_header(cookies)} if cookies else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        r.read()
        for header in r.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            cookies.update({k: v.value for k, v in jar.items()})
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class Session:
    """One simulated browser tab: connect, ask for runs, read what they drew.

    Example (a running app at ``url``)::

        s = Session(url)
        await s.connect()
        run = await s.rerun()                      # the first run, as a browser's page load asks for it
        text = run.widget("Text", "text_area")
        run = await s.rerun(widgets=[string_state(text.id, "hello")])
        run.counts                                 # {"o200k_base": 1, ...}
    """

    def __init__(self, base_url: str, *, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.cookies: dict[str, str] = {}
        self.session_id: str | None = None
        self.pages: dict[str, str] = {}  # url path ("" for the default page) -> page_script_hash
        self.page_hash = ""
        self.query_string = ""
        self.widget_states: dict[str, WidgetState] = {}  # what this client has set, resent on every rerun
        self.values: dict[str, Any] = {}  # widget id -> the value it shows (as the browser's widget manager keeps it)
        self.reconnects = 0
        self.replica: str | None = None  # behind deploy/'s nginx: the replica that took the websocket (X-Atlas-Replica)
        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._run: Run | None = None
        self._finished: asyncio.Future | None = None

    # ------------------------------------------------------------------ connection

    async def connect(self, *, resume: bool = False) -> float:
        """Load the page (cookies) and open the websocket; seconds it took. ``resume`` names the old session."""
        t = time.perf_counter()
        for path in ("/", "/_stcore/health"):
            await asyncio.to_thread(http_get_cookies, self.base_url + path, self.cookies, self.timeout_s)
        ws_url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        protocols = ["streamlit", self.cookies.get(XSRF_COOKIE, "")]
        if resume and self.session_id:
            protocols.append(self.session_id)
        self._ws = await websockets.connect(
            ws_url, subprotocols=protocols, origin=self.base_url, compression=None, max_size=2**26,
            additional_headers={"Cookie": cookie_header(self.cookies)}, open_timeout=self.timeout_s,
            ping_interval=None)
        self.replica = self._ws.response.headers.get("X-Atlas-Replica")
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return time.perf_counter() - t

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        self._ws = self._reader = None

    async def _read(self) -> None:
        failure: Exception = Disconnected("the websocket closed during a run")
        try:
            async for data in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # a message this client cannot read fails the run waiting for it, with the reason
            failure = ProtocolError(f"cannot read a ForwardMsg: {type(e).__name__}: {e}")
        finally:
            if self._finished is not None and not self._finished.done():
                self._finished.set_exception(failure)

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self._pages(msg.new_session.app_pages)
        elif kind == "navigation":
            self._pages(msg.navigation.app_pages)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and self._run is not None and msg.delta.WhichOneof("type") == "new_element":
            self._run.add(msg.delta.new_element)
        elif kind == "script_finished" and self._run is not None:
            if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return  # a newer run follows
            self._run.status = msg.script_finished
            for w in self._run.widgets:  # what a browser shows: the script's value, else the one it already had
                if w.id in self._run.set_by_script or w.id not in self.values:
                    self.values[w.id] = w.value
                else:
                    w.value = self.values[w.id]
            if self._finished is not None and not self._finished.done():
                self._finished.set_result(self._run)

    def _pages(self, pages: Any) -> None:
        for p in pages:
            self.pages["" if p.is_default else p.url_pathname] = p.page_script_hash

    # ------------------------------------------------------------------ runs

    async def rerun(self, *, widgets: list[WidgetState] = (), page: str | None = None,
                    query_string: str | None = None) -> Run:
        """Ask for a script run (with these widget values on top of those set before); the run once finished.

        ``page`` is a page's url path ("" for the default page); ``query_string`` replaces the URL's query.

        Raises:
            Disconnected: the connection closed before the run finished.
            TimeoutError: no script_finished within ``timeout_s``.
        """
        if self._ws is None:
            raise Disconnected("not connected")
        if page is not None:
            if page not in self.pages:
                raise ProtocolError(f"no page {page!r}; the app has {sorted(self.pages)}")
            if self.pages[page] != self.page_hash:
                self.widget_states.clear()  # another page's widgets: a browser drops them too
            self.page_hash = self.pages[page]
        if query_string is not None:
            self.query_string = query_string
        for w in widgets:
            self.widget_states[w.id] = w
            kind = w.WhichOneof("value")
            self.values[w.id] = list(w.string_array_value.data) if kind == "string_array_value" else getattr(w, kind)
        state = ClientState(query_string=self.query_string, page_script_hash=self.page_hash,
                            widget_states=WidgetStates(widgets=list(self.widget_states.values())))
        self._run = Run()
        self._finished = asyncio.get_running_loop().create_future()
        try:
            await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        except websockets.ConnectionClosed as e:
            raise Disconnected("the websocket closed before the rerun was sent") from e
        return await asyncio.wait_for(self._finished, self.timeout_s)
