"""Create the stateful resources from ``infra/template.json`` through CloudFormation.

The template also overrides functions that ``chalice package`` generates; those
entries have no ``Type`` and are not a valid template alone, so only typed
resources are deployed here (to moto's CloudFormation for the local runtime and
tests; a real deployment merges the whole file, see README).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from chalicelib.settings import Settings

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"
# Grants to AWS services (SES writing mail into the bucket) mean nothing on an
# emulator, and moto's CloudFormation cannot create them; API Gateway answers and
# function invoke settings refer to resources only `chalice package` generates
# (the local runtime plays them: see tools.local). moto's CloudFormation has no Cognito: the
# agents' user pool is made through the cognito-idp API instead (tests/agents_support.py).
# The console's CloudFront distribution fronts the generated API (the local runtime serves
# the console itself: tools/local/console_static.py), and moto's CloudFormation has no CloudFront.
NOT_EMULATED = frozenset({
    "AWS::S3::BucketPolicy", "AWS::ApiGateway::GatewayResponse", "AWS::Lambda::EventInvokeConfig",
    "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient",
    "AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::Function",
    # the event archive's Glue catalog (docs/metrics.md): moto's CloudFormation has no Glue; Athena is AWS's alone
    "AWS::Glue::Database", "AWS::Glue::Table",
    # the edge (docs/deploy.md#6-the-edge): moto's CloudFormation has no WAFv2 and no API Gateway domain names, and
    # both attach to the API only `chalice package` generates; they are conditional on the stack's parameters too
    "AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation",
    "AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping",
    # tenants' own keys (BYOK) are granted to the functions' roles, which only `chalice package` generates
    "AWS::IAM::Policy",
})


def stateful_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template's typed resources (less :data:`NOT_EMULATED`) and their outputs."""
    template = json.loads(path.read_text())
    resources = {name: _emulated(spec) for name, spec in template["Resources"].items()
                 if "Type" in spec and spec["Type"] not in NOT_EMULATED}
    return {
        "AWSTemplateFormatVersion": template["AWSTemplateFormatVersion"],
        "Description": "Switchboard stateful resources",
        "Resources": resources,
        "Outputs": {name: spec for name, spec in template.get("Outputs", {}).items()
                    if _names_only(spec, set(resources))},  # an output of a left-out resource goes too
    }


def _emulated(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` as moto's CloudFormation can create it. moto keeps a KMS key's policy as given and
    parses it as text on every call: the policy goes as JSON text (unresolved; moto only looks for
    Deny statements in it, and there are none)."""
    if spec["Type"] == "AWS::KMS::Key":
        properties = spec["Properties"]
        return {**spec, "Properties": {**properties, "KeyPolicy": json.dumps(properties["KeyPolicy"])}}
    return spec


def _names_only(spec: Any, deployed: set[str]) -> bool:
    """Whether every resource ``spec`` refers to (Ref, Fn::GetAtt, Fn::Sub) is in ``deployed``."""
    text = json.dumps(spec)
    named = set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text))
    named |= set(re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text))
    named |= set(re.findall(r"\$\{([A-Za-z0-9]+)[.}]", text))
    return named <= deployed


def deploy_stateful(cloudformation: Any, stack_name: str = "switchboard", timeout: float = 60) -> dict[str, str]:
    """Create (or reuse) the stack and return its outputs."""
    try:
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(stateful_template()))
    except Exception as err:
        if "AlreadyExists" not in str(err):
            raise
    deadline = time.monotonic() + timeout
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if "FAILED" in status or "ROLLBACK" in status or time.monotonic() > deadline:
            raise RuntimeError(f"stack {stack_name} ended in {status}: {stack.get('StackStatusReason', '')}")
        time.sleep(0.2)


def settings_for(outputs: dict[str, str], base: Settings) -> Settings:
    """``base`` pointed at the deployed resources."""
    return replace(
        base,
        table_name=outputs["TableName"],
        queue_url=outputs["DeliveryQueueUrl"],
        dlq_url=outputs["DeliveryDeadLetterQueueUrl"],
        bucket=outputs["PayloadBucketName"],
        # the assistant's queues (issue 14): training jobs, and messages for the answering function
        training_queue_url=outputs.get("TrainingQueueUrl", ""),
        assistant_queue_url=outputs.get("AssistantQueueUrl", ""),
        kms_key_id=outputs.get("DataKeyArn", ""),  # the data key (issue 15): personal data and SSE-KMS
        key_table_name=outputs.get("KeyTableName", ""),  # customers' data keys, a table without backups
    )
