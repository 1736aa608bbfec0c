"""The deployment template names real handlers, all three routes and real settings.

(``cfn-lint deploy/aws/template.yaml`` checks it against the CloudFormation and SAM
specifications; this checks it against steeple.)
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from steeple.delivery.aws import management_endpoint
from steeple.settings import Settings
from tests.support.nodes import ENCRYPTION_KEY, JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "aws" / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads ``!Ref``, ``!Sub`` and friends as plain ``{"!Tag": value}`` mappings."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"!" + suffix: value}


_CloudFormationLoader.add_multi_constructor("!", _tagged)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader))


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_both_functions_name_handlers_that_exist(template: dict[str, Any]) -> None:
    functions = _of_type(template, "AWS::Serverless::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {"steeple.aws.handler.http", "steeple.aws.handler.websocket"}
    for handler in handlers:
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))
    events = functions["HttpFunction"]["Properties"]["Events"]["Messaging"]
    assert (events["Type"], events["Properties"]["Path"], events["Properties"]["Method"]) == (
        "Api",
        "/{proxy+}",
        "ANY",
    )


def test_the_websocket_routes_reach_the_websocket_function(template: dict[str, Any]) -> None:
    routes = _of_type(template, "AWS::ApiGatewayV2::Route").values()
    assert {r["Properties"]["RouteKey"] for r in routes} == {"$connect", "$disconnect", "$default"}
    assert {r["Properties"]["Target"]["!Sub"] for r in routes} == {
        "integrations/${WebSocketIntegration}"
    }
    integration = template["Resources"]["WebSocketIntegration"]["Properties"]
    assert "${WebSocketFunction.Arn}" in integration["IntegrationUri"]["!Sub"]


def test_the_environment_sets_only_settings_steeple_reads(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    read = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', (ROOT / "src/steeple/settings.py").read_text()))
    assert set(variables) <= read
    samples = {
        "DATABASE_URL": "postgresql+asyncpg://db/messaging",
        "JWT_SECRET": JWT_SECRET,
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "PSEUDONYM_SECRET": "",
        "MIGRATE_ON_START": "false",
        "APIGATEWAY_CONCURRENCY": "32",
        "APIGATEWAY_TIMEOUT": "5",
        "STAGE": "prod",
        "AWS_REGION": "eu-west-1",
        "APIGATEWAY_ENDPOINT": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
    }
    env = {
        name: value if isinstance(value, str) else samples[name]
        for name, value in variables.items()
    }
    settings = Settings.from_env({**env, "AWS_REGION": "eu-west-1"})
    assert settings.delivery_provider == "aws" and not settings.generated
    assert management_endpoint(settings).endswith("amazonaws.com/prod")
