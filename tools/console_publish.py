"""Upload the built console (``console/dist``) to the stack's console bucket.

``make publish-console STACK=switchboard-dev`` (or ``python -m tools.console_publish
--stack ...``): the bucket comes from the stack's ``ConsoleBucketName`` output. Files go
under ``console/`` (the distribution serves ``/console/...`` from there) with their content
type; the content-hashed ``assets/`` are cached a year, everything else (``index.html``)
revalidates, and assets go first so a new ``index.html`` never names a missing file.
Files of earlier builds stay (a page loaded before the upload still finds its chunks); the
bucket's versioning and lifecycle rules age them out. With ``--invalidate``, CloudFront's
copy of ``/console/index.html`` is invalidated too (``no-cache`` already makes browsers and
CloudFront revalidate it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tools.local.console_static import DIST, cache_control, content_type

PREFIX = "console/"


def bucket_of(cloudformation: Any, stack: str) -> tuple[str, str | None]:
    """The stack's console bucket and its distribution's domain (None if not found)."""
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    found = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    if "ConsoleBucketName" not in found:
        raise SystemExit(f"stack {stack} has no ConsoleBucketName output: deploy the current infra/template.json")
    return found["ConsoleBucketName"], found.get("ConsoleUrl")


def files(dist: Path = DIST) -> list[tuple[Path, str]]:
    """``(file, relative path)`` of the build, assets first."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no build: run `make console` first")
    found = [(path, path.relative_to(dist).as_posix()) for path in dist.rglob("*") if path.is_file()]
    return sorted(found, key=lambda item: (not item[1].startswith("assets/"), item[1] == "index.html", item[1]))


def publish(s3: Any, bucket: str, dist: Path = DIST) -> list[str]:
    """Upload every file of the build; returns the keys written."""
    keys = []
    for path, relative in files(dist):
        key = PREFIX + relative
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type(relative),
                      CacheControl=cache_control(relative))
        keys.append(key)
    return keys


def invalidate(cloudfront: Any, domain: str) -> None:
    """Invalidate ``/console/index.html`` in the distribution serving ``domain``."""
    host = domain.removeprefix("https://").split("/")[0]
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in page.get("DistributionList", {}).get("Items", []):
            if item["DomainName"] == host:
                cloudfront.create_invalidation(DistributionId=item["Id"], InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": ["/console/index.html"]},
                    "CallerReference": f"console-{time.time_ns()}"})
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="switchboard-dev", help="the deployed stack (default switchboard-dev)")
    parser.add_argument("--dist", type=Path, default=DIST, help="the build to upload (default console/dist)")
    parser.add_argument("--invalidate", action="store_true", help="also invalidate /console/index.html")
    args = parser.parse_args(argv)
    import boto3

    bucket, url = bucket_of(boto3.client("cloudformation"), args.stack)
    keys = publish(boto3.client("s3"), bucket, args.dist)
    print(f"[console] {len(keys)} files to s3://{bucket}/{PREFIX}")
    if args.invalidate and url:
        invalidate(boto3.client("cloudfront"), url)
    if url:
        print(f"[console] {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
