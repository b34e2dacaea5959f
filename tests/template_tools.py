"""SAM -> CloudFormation offline (aws-sam-translator), for the template test and the local stack.

cfn-lint 1.54+ no longer expands SAM itself, so linting the raw template misses broken refs; lint the
translation instead (cfn-lint 1.54.0's changelog drops aws-sam-translator; aws-sam-cli PR #9249 pinned
cfn-lint<1.54 for the same reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

URI_PROP = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
}


class _NoManagedPolicies:
    """Stands in for ManagedPolicyLoader, which would call iam:ListPolicies."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template_path: Path) -> dict[str, Any]:
    sam = yaml_parse(template_path.read_text())
    for name, res in sam["Resources"].items():
        prop = URI_PROP.get(res["Type"])
        props = res.setdefault("Properties", {})
        if prop and isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
            props[prop] = f"s3://placeholder/{name}.zip"
    result: dict[str, Any] = transform(sam, {}, _NoManagedPolicies())
    return result
