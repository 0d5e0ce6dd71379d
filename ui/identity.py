"""Who is editing: the user a reverse proxy authenticated (a request header), or a name given once per session.

The name goes into every change's history.  Headers are read from ``config.USER_HEADERS`` (default
``X-Forwarded-User``, ``X-Remote-User``); without one the app asks for a name and keeps it for the session.
"""

from __future__ import annotations

from enum import StrEnum

import streamlit as st

import config

MAX_NAME = 40


class Key(StrEnum):
    NAME = "_editor_name"  # outlives the input widget (a widget's state goes when it is not drawn)
    INPUT = "editor_name_input"


def proxy_user() -> str:
    """The user name a reverse proxy put into the request headers, or empty."""
    try:
        headers = st.context.headers
    except (AttributeError, RuntimeError):  # no request context (AppTest, bare mode)
        return ""
    for header in config.USER_HEADERS:
        value = headers.get(header)
        if value and value.strip():
            return value.strip()[:MAX_NAME]
    return ""


def current_user() -> str:
    """The editing user's name ('' until given)."""
    return proxy_user() or str(st.session_state.get(Key.NAME, "")).strip()


def render_name_input(key_suffix: str = "") -> str:
    """The name field (or who the proxy says is logged in); returns the current name."""
    proxy = proxy_user()
    if proxy:
        st.caption(f"修改人：{proxy}（由单位登录系统提供）")
        return proxy
    st.text_input(
        "你的姓名（记入修改历史；本次会话只需填写一次）",
        value=str(st.session_state.get(Key.NAME, "")),
        key=f"{Key.INPUT}{key_suffix}",
        max_chars=MAX_NAME,
        on_change=_remember_from,
        args=(f"{Key.INPUT}{key_suffix}",),
    )
    return current_user()


def _remember_from(key: str) -> None:
    st.session_state[Key.NAME] = str(st.session_state.get(key, "")).strip()[:MAX_NAME]
