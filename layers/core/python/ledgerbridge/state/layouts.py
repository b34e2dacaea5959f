"""A tenant's custom layouts ("custom connectors"): layout JSON saved under a name, validated on the way in
and again on the way out (a renderer upgrade that tightens a check names the problem instead of rendering
a wrong file). `ConnectorSettings.layouts[connection] = name` makes a connector use one.

  TENANT#{t}#LAYOUT | {name}     the layout JSON
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledgerbridge.errors import InvalidInput, NotFound
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, state

if TYPE_CHECKING:  # the connectors are imported where a layout is validated: the files API's other routes don't
    from ledgerbridge.connectors import Layout

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


def check_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise InvalidInput(f"layout name {name!r} must be 1-64 letters, digits, '.', '_' or '-'", "layout_name")
    return name


def save(tenant_id: str, name: str, data: dict[str, Any]) -> Layout:
    """Validate (LayoutError, a 400 naming the field path) and store; returns the layout."""
    from ledgerbridge.connectors import validate_layout

    layout = validate_layout(data)
    state().put_item(
        Item={
            **keys.layout(tenant_id, check_name(name)),
            "layout": layout.model_dump_json(),
            "updated": datetime.now(UTC).isoformat(),
        }
    )
    return layout


def load(tenant_id: str, name: str) -> Layout:
    key = keys.layout(tenant_id, name)
    item = get(key["pk"], key["sk"])
    if item is None:
        raise NotFound(f"no custom layout {name!r} for tenant {tenant_id!r}")
    from ledgerbridge.connectors import validate_layout

    return validate_layout(json.loads(item["layout"]))
