"""Whether a session's first run comes from a browser that already had the page: a reconnect after a replica died.

Behind the proxy (docs/scaling.md), a browser whose replica died reconnects to another one, which does not know its
session and starts a new one. The browser then sends what its widgets hold, including a change whose run the dead
replica never finished; its URL still holds the permalink of the run before. A page that applies its URL on a
session's first run would undo that change, so it asks first whether the client sent values for its widgets: a
fresh page load never does (the browser has drawn no widget yet).

Streamlit has no public call for the values a client sent before their widgets are drawn; this reads them from the
run's session state (``get_widget_states``, the serialized values as received), and answers "none" if that changes.
"""

from __future__ import annotations

from collections.abc import Iterable


def client_sent(keys: Iterable[str]) -> set[str]:
    """Those widget ``keys`` whose values this run's client sent (a keyed widget's id ends in ``-<key>``)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        ids = [w.id for w in ctx.session_state.get_widget_states()] if ctx is not None else []
    except Exception:  # a Streamlit without this method: behave as on a fresh page load
        return set()
    return {k for k in keys if any(i.endswith(f"-{k}") for i in ids)}
