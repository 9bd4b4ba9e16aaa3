"""Figures computed from the data, kept per process until the data changes.

Every change to a document, a department or a setting is recorded in the audit log
(``service.audit``), so what is counted from the data is unchanged while the audit chain's head
is. ``Kept.get`` keys a computed value by the database, the chain's head, the Beijing date (some
figures depend on today) and the caller's own key, keeps the newest few, and hands every caller
its own copy.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.orm import Session

from service import audit, localtime

T = TypeVar("T")


class Kept:
    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``'s value for ``key`` as the data stands now: computed once per change."""
        full = (str(session.get_bind().url), audit.last_change(session), localtime.now().date(), key)
        with self._lock:
            if full in self._values:
                self._values.move_to_end(full)
                return copy.deepcopy(self._values[full])  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._values[full] = copy.deepcopy(value)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
