"""AWS settings come from the environment; the Lambda entry points refuse unsafe ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from steeple.aws import handler
from steeple.aws.runtime import LambdaRuntime
from steeple.delivery.aws import management_endpoint
from steeple.errors import ConfigError
from steeple.settings import Settings
from tests.aws.events import websocket_event
from tests.support.management_fake import FakeManagementApi
from tests.support.nodes import ENCRYPTION_KEY, JWT_SECRET

ENV = {
    "JWT_SECRET": JWT_SECRET,
    "ENCRYPTION_KEY": ENCRYPTION_KEY,
    "DELIVERY_PROVIDER": "aws",
    "APIGATEWAY_ENDPOINT": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
    "STAGE": "prod",
    "AWS_REGION": "eu-west-1",
}


def test_the_management_endpoint_region_and_stage_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            **ENV,
            "APIGATEWAY_CONCURRENCY": "8",
            "APIGATEWAY_TIMEOUT": "2.5",
            "MIGRATE_ON_START": "false",
        }
    )
    assert management_endpoint(settings) == (
        "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
    )
    assert (settings.aws_region, settings.aws_concurrency, settings.aws_timeout) == (
        "eu-west-1",
        8,
        2.5,
    )
    assert settings.migrate_on_start is False
    assert management_endpoint(settings.override(aws_stage="")) == ENV["APIGATEWAY_ENDPOINT"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"APIGATEWAY_ENDPOINT": ""}, "APIGATEWAY_ENDPOINT"),
        ({"APIGATEWAY_CONCURRENCY": "0"}, "APIGATEWAY_CONCURRENCY"),
        ({"APIGATEWAY_CONCURRENCY": "many"}, "APIGATEWAY_CONCURRENCY"),
        ({"APIGATEWAY_TIMEOUT": "-1"}, "APIGATEWAY_TIMEOUT"),
        ({"APIGATEWAY_TIMEOUT": "soon"}, "APIGATEWAY_TIMEOUT"),
    ],
)
def test_unusable_aws_settings_are_refused_by_name(changes: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env({**ENV, **changes})


def test_lambda_refuses_another_provider_and_generated_secrets() -> None:
    with pytest.raises(ConfigError, match="DELIVERY_PROVIDER=aws"):
        LambdaRuntime(Settings.from_env({**ENV, "DELIVERY_PROVIDER": "local"}))
    without_secret = {k: v for k, v in ENV.items() if k != "JWT_SECRET"}
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        LambdaRuntime(Settings.from_env(without_secret))


async def test_the_handler_module_builds_its_runtime_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake: FakeManagementApi, tmp_path: Path
) -> None:
    env = {
        **ENV,
        "APIGATEWAY_ENDPOINT": fake.base_url,
        "STAGE": fake.stage,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'lambda.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    connection_id = "Jc0HecsVoAMCIfQ="
    fake.connect(connection_id)
    try:
        for route in ("$connect", "$default"):
            event = websocket_event(route, connection_id, "getId")
            assert await asyncio.to_thread(handler.websocket, event, None) == {"statusCode": 200}
    finally:
        await asyncio.to_thread(_forget_runtime)
    assert fake.posted(connection_id) == [
        b'{"churchId":"","conversationId":"","action":"socketId","data":"Jc0HecsVoAMCIfQ="}'
    ]


def _forget_runtime() -> None:
    handler.runtime().close()
    for cached in (handler.runtime, handler._http_function, handler._websocket_function):
        cached.cache_clear()
