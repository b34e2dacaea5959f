"""The registry: target name -> its plug-in (ledgerbridge.targets.base.Plugin) and its settings model.

Adding an accounting system adds one entry to each table below (docs/adding-a-target.md). Plug-in modules are
imported on first use, so a function loads only the targets it serves; the settings models are small and
imported here, because every Tenant validates its integrations through the union they make.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator, Field

from ledgerbridge.targets.base import Plugin
from ledgerbridge.targets.intacct.settings import IntacctSettings
from ledgerbridge.targets.qbd.settings import QbdSettings
from ledgerbridge.targets.qbo.settings import QboSettings

# name -> the module whose PLUGIN implements it; None while the target is not built (its jobs are recorded as
# failed "not available in this release" by its consumer, and its settings are still accepted).
MODULES: dict[str, str | None] = {
    "qbo": "ledgerbridge.targets.qbo.plugin",
    "qbd": "ledgerbridge.targets.qbd.plugin",
    "intacct": "ledgerbridge.targets.intacct.plugin",
}

IntegrationSettings = Annotated[QboSettings | QbdSettings | IntacctSettings, Field(discriminator="target")]


def _known(name: str) -> str:
    if name not in MODULES:
        raise ValueError(f"unknown target {name!r} (known: {', '.join(MODULES)})")
    return name


TargetName = Annotated[str, AfterValidator(_known)]


def names() -> list[str]:
    """Every registered target, built or not."""
    return list(MODULES)


def get(name: str) -> Plugin | None:
    """The plug-in of a target; None while it is not built. KeyError for a name nobody registered."""
    module = MODULES[name]
    if module is None:
        return None
    plugin: Plugin = importlib.import_module(module).PLUGIN
    return plugin


def plugin(name: str) -> Plugin:
    """The plug-in of a built target; LookupError otherwise."""
    found = get(name)
    if found is None:
        raise LookupError(f"the {name} target is not available in this release")
    return found


def plugins() -> Iterator[Plugin]:
    """Every built target's plug-in."""
    for name in MODULES:
        found = get(name)
        if found is not None:
            yield found
