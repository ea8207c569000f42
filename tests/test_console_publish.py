"""`make publish-console`: the build goes to the stack's console bucket under console/,
each file with its content type and cache policy, assets before index.html; the stack's
template keeps the console out of the emulated (local) stack's CloudFront-only parts."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tools import console_publish
from tools.provision import stateful_template


def build(dist: Path) -> Path:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><script src="/console/assets/index-abc123.js"></script>')
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "assets" / "index-def456.css").write_text("body{}")
    return dist


def test_the_build_is_uploaded_with_types_and_cache_headers(tmp_path: Path) -> None:
    dist = build(tmp_path / "dist")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="console-bucket")
        keys = console_publish.publish(s3, "console-bucket", dist)
        assert keys[-1] == "console/index.html", "index.html last: it never names a file not yet there"
        heads = {key: s3.head_object(Bucket="console-bucket", Key=key) for key in keys}
    assert heads["console/index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert heads["console/index.html"]["CacheControl"] == "no-cache"
    assert heads["console/assets/index-abc123.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert heads["console/assets/index-def456.css"]["ContentType"] == "text/css; charset=utf-8"
    assert heads["console/assets/index-abc123.js"]["CacheControl"] == "public, max-age=31536000, immutable"


def test_an_unbuilt_console_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make console"):
        console_publish.files(tmp_path)


def test_the_console_bucket_and_distribution_are_in_the_template() -> None:
    template = json.loads((Path(__file__).parent.parent / "infra" / "template.json").read_text())
    resources = template["Resources"]
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    [api] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/v1/*"]
    assert api["TargetOriginId"] == "api", "the API through the same origin: no CORS"
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "console"
    block = resources["ConsoleBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block.values()), "private: only the distribution reads it (OAC)"
    local = stateful_template()
    assert "ConsoleBucket" in local["Resources"]
    assert "ConsoleDistribution" not in local["Resources"]
    assert "ConsoleUrl" not in local["Outputs"], "an output of a resource the emulator does not make"
