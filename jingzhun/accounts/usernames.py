"""The one spelling of a username: what creation stores, what the login looks up, what the throttle counts.

A name typed with a Chinese input method in full width (``ｈｅｌｐｅｒ``) or with a 全角空格 is the same
account as ``helper``. Whatever counts login failures must see exactly the name authentication sees,
or a second spelling of a locked account gets fresh tries.
"""

from __future__ import annotations

import unicodedata


def normalize_username(raw: str) -> str:
    """NFKC (full-width forms to ASCII, as Django's UsernameField does), without surrounding whitespace."""
    return unicodedata.normalize("NFKC", (raw or "").strip()).strip()


def account_key(raw: str) -> str:
    """What identifies an account for throttling: the normalised name, case folded. Usernames are unique
    regardless of case, so a key names at most one account, and every spelling that could log in to it
    (whatever the database's collation) counts against the same key."""
    return normalize_username(raw).casefold()
